/* Account addresses: the one parser for "local@domain" used by users,
 * aliases, resolution and authentication (grammar in account_int.h). */
#include <stdarg.h>
#include <stdio.h>

#include "account_int.h"
#include "charset.h"

/* Longest DNS label (RFC 1035 2.3.4). */
#define DOMAIN_LABEL_MAX 63

static bool ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 atext (ASCII part). */
static bool atext(unsigned char c)
{
	return ascii_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A dot-atom of atext and UTF-8. */
static bool local_valid(const unsigned char *s, size_t len)
{
	if (len == 0 || len > STORE_LOCALPART_MAX || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len;) {
		if (s[i] >= 0x80) {
			size_t n = charset_utf8_text_char_len(s + i, len - i);
			if (n == 0)
				return false;
			i += n;
		} else if (s[i] == '.') {
			if (s[i + 1] == '.') /* i + 1 < len: the last byte is not '.' */
				return false;
			i++;
		} else if (atext(s[i])) {
			i++;
		} else {
			return false;
		}
	}
	return true;
}

/* Labels of letters, digits, inner hyphens or UTF-8. */
static bool domain_valid(const unsigned char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > STORE_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= len;) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > DOMAIN_LABEL_MAX || s[i - 1] == '-')
				return false;
			label = 0;
			i++;
			continue;
		}
		if (label == 0 && s[i] == '-')
			return false;
		if (s[i] >= 0x80) {
			size_t n = charset_utf8_text_char_len(s + i, len - i);
			if (n == 0)
				return false;
			i += n;
			label += n;
		} else if (ascii_alnum(s[i]) || s[i] == '-') {
			i++;
			label++;
		} else {
			return false;
		}
	}
	return true;
}

int account_domain_parse(const char *text, char dst[STORE_DOMAIN_MAX + 1])
{
	size_t len = strnlen(text, STORE_DOMAIN_MAX + 1);

	if (!domain_valid((const unsigned char *)text, len))
		return 0;
	for (size_t i = 0; i < len; i++)
		dst[i] = ascii_lower(text[i]);
	dst[len] = '\0';
	return 1;
}

int account_addr_parse(const char *text, struct account_addr *addr_r)
{
	size_t len = strnlen(text, STORE_ADDRESS_MAX + 1);
	const char *at = memchr(text, '@', len);

	if (len > STORE_ADDRESS_MAX || at == NULL ||
	    memchr(at + 1, '@', len - (size_t)(at + 1 - text)) != NULL)
		return 0;
	size_t local_len = (size_t)(at - text);
	if (!local_valid((const unsigned char *)text, local_len) ||
	    !domain_valid((const unsigned char *)at + 1, len - local_len - 1))
		return 0;
	for (size_t i = 0; i < len; i++) {
		addr_r->key[i] = ascii_lower(text[i]);
		addr_r->norm[i] = i < local_len ? text[i] : addr_r->key[i];
	}
	addr_r->key[len] = addr_r->norm[len] = '\0';
	addr_r->at = local_len;
	return 1;
}

bool store_address_same_remote(const char *a, const char *b)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');

	if (at_a == NULL || at_b == NULL)
		return strcmp(a, b) == 0;
	return at_a - a == at_b - b && memcmp(a, b, (size_t)(at_a - a)) == 0 &&
	       strcasecmp(at_a, at_b) == 0;
}

bool store_address_valid(const char *address)
{
	struct account_addr addr;

	return account_addr_parse(address, &addr) == 1;
}

int account_source_parse(const char *text, struct account_addr *addr_r)
{
	if (text[0] != '@')
		return account_addr_parse(text, addr_r);
	if (account_domain_parse(text + 1, addr_r->key + 1) == 0)
		return 0;
	addr_r->key[0] = '@';
	memcpy(addr_r->norm, addr_r->key, strlen(addr_r->key) + 1);
	addr_r->at = 0;
	return 1;
}

int address_canonical(const char *address, char *dst, size_t dstsize)
{
	struct account_addr a;

	if (account_addr_parse(address, &a) == 0)
		return 0;
	size_t len = strlen(a.key);
	if (len >= dstsize)
		return 0;
	memcpy(dst, a.key, len + 1);
	return 1;
}

int account_refuse(struct store *store, const char **error_r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	store_err(store, "%s", msg);
	if (error_r != NULL)
		*error_r = store_last_error(store);
	return 0;
}

int account_oom(struct store *store, const char **error_r)
{
	store_err(store, "out of memory");
	if (error_r != NULL)
		*error_r = store_last_error(store);
	return -1;
}
