/* Account addresses: the one parser for "local@domain" used by users,
 * aliases, resolution and authentication (grammar in account_int.h). */
#include <stdarg.h>
#include <stdio.h>

#include "account_int.h"
#include "charset.h"
#include "idn.h"

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

/* Labels of letters, digits, inner hyphens or UTF-8. The length limits
 * (RFC 1035) hold for the name as DNS sees it: an ASCII label here, a
 * U-label's A-label after idn_domain_to_ascii (a U-label of more than 63
 * bytes of UTF-8 may well fit). */
static bool domain_valid(const unsigned char *s, size_t len)
{
	size_t label = 0;
	bool utf8 = false;

	if (len == 0 || len > STORE_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= len;) {
		if (i == len || s[i] == '.') {
			if (label == 0 || (label > DOMAIN_LABEL_MAX && !utf8) || s[i - 1] == '-')
				return false;
			label = 0;
			utf8 = false;
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
			utf8 = true;
		} else if (ascii_alnum(s[i]) || s[i] == '-') {
			i++;
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* Why an IDN was refused, per thread (the webmail server is threaded). */
static __thread char idn_why[256];

/* A domain that needs IDNA (idn_domain_needs) in A-labels, checked again as
 * the ASCII name it became. 1, 0 (*why_r), -1 (*why_r). */
static int domain_to_ascii(const char *text, size_t len, char dst[STORE_DOMAIN_MAX + 1],
			   const char **why_r)
{
	char in[STORE_DOMAIN_MAX + 1];
	const char *why = NULL;

	memcpy(in, text, len);
	in[len] = '\0';
	int r = idn_domain_to_ascii(in, dst, STORE_DOMAIN_MAX + 1, &why);
	if (r < 0) {
		*why_r = why;
		return -1;
	}
	if (r == 1 && !domain_valid((const unsigned char *)dst, strlen(dst))) {
		r = 0;
		why = "its A-label form is too long";
	}
	if (r == 0) {
		snprintf(idn_why, sizeof(idn_why), "the domain is not a valid internationalized "
			 "domain name (IDNA2008: %s)", why);
		*why_r = idn_why;
	}
	return r;
}

int account_domain_parse(const char *text, char dst[STORE_DOMAIN_MAX + 1], const char **why_r)
{
	size_t len = strnlen(text, STORE_DOMAIN_MAX + 1);
	const char *why = NULL;

	if (!domain_valid((const unsigned char *)text, len)) {
		if (why_r != NULL)
			*why_r = NULL;
		return 0;
	}
	if (idn_domain_needs(text, len)) {
		int r = domain_to_ascii(text, len, dst, &why);
		if (why_r != NULL)
			*why_r = why;
		return r;
	}
	for (size_t i = 0; i < len; i++)
		dst[i] = ascii_lower(text[i]);
	dst[len] = '\0';
	return 1;
}

int account_domain_legacy(const char *text, char dst[STORE_DOMAIN_MAX + 1])
{
	size_t len = strnlen(text, STORE_DOMAIN_MAX + 1);
	bool utf8 = false;

	for (size_t i = 0; i < len; i++)
		utf8 |= (unsigned char)text[i] >= 0x80;
	if (!utf8 || !domain_valid((const unsigned char *)text, len))
		return 0;
	for (size_t i = 0; i < len; i++)
		dst[i] = ascii_lower(text[i]);
	dst[len] = '\0';
	return 1;
}

int account_addr_legacy(const char *text, struct account_addr *addr_r)
{
	size_t len = strnlen(text, STORE_ADDRESS_MAX + 1);
	const char *at = memrchr(text, '@', len);
	char domain[STORE_DOMAIN_MAX + 1];

	if (len > STORE_ADDRESS_MAX || at == NULL || account_domain_legacy(at + 1, domain) == 0)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		addr_r->key[i] = ascii_lower(text[i]);
		addr_r->norm[i] = text[i];
	}
	addr_r->at = (size_t)(at - text);
	return 1;
}

int account_addr_parse(const char *text, struct account_addr *addr_r, const char **why_r)
{
	size_t len = strnlen(text, STORE_ADDRESS_MAX + 1);
	const char *at = memchr(text, '@', len);
	char domain[STORE_DOMAIN_MAX + 1];

	if (why_r != NULL)
		*why_r = NULL;
	if (len > STORE_ADDRESS_MAX || at == NULL ||
	    memchr(at + 1, '@', len - (size_t)(at + 1 - text)) != NULL)
		return 0;
	size_t local_len = (size_t)(at - text), domain_len = len - local_len - 1;
	if (!local_valid((const unsigned char *)text, local_len) || domain_len > STORE_DOMAIN_MAX)
		return 0;
	char dtext[STORE_DOMAIN_MAX + 1];
	memcpy(dtext, at + 1, domain_len);
	dtext[domain_len] = '\0';
	int r = account_domain_parse(dtext, domain, why_r);
	if (r <= 0)
		return r;
	size_t dlen = strlen(domain);
	if (local_len + 1 + dlen > STORE_ADDRESS_MAX) { /* an A-label is longer */
		if (why_r != NULL)
			*why_r = "too long with the domain in its A-label form";
		return 0;
	}
	for (size_t i = 0; i < local_len; i++) {
		addr_r->key[i] = ascii_lower(text[i]);
		addr_r->norm[i] = text[i];
	}
	addr_r->key[local_len] = addr_r->norm[local_len] = '@';
	memcpy(addr_r->key + local_len + 1, domain, dlen + 1);
	memcpy(addr_r->norm + local_len + 1, domain, dlen + 1);
	addr_r->at = local_len;
	return 1;
}

/* The domain of a remote address as DNS knows it (A-labels), for a
 * comparison: as given when it cannot be converted. */
static const char *remote_domain(const char *domain, char buf[STORE_DOMAIN_MAX + 1])
{
	return account_domain_parse(domain, buf, NULL) == 1 ? buf : domain;
}

bool store_address_same_remote(const char *a, const char *b)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');
	char da[STORE_DOMAIN_MAX + 1], db[STORE_DOMAIN_MAX + 1];

	if (at_a == NULL || at_b == NULL)
		return strcmp(a, b) == 0;
	if (at_a - a != at_b - b || memcmp(a, b, (size_t)(at_a - a)) != 0)
		return false;
	if (strcasecmp(at_a, at_b) == 0)
		return true;
	return strcmp(remote_domain(at_a + 1, da), remote_domain(at_b + 1, db)) == 0;
}

int store_address_check(const char *address, const char **error_r)
{
	struct account_addr addr;
	const char *why = NULL;

	int r = account_addr_parse(address, &addr, &why);
	if (r <= 0)
		*error_r = why != NULL ? why : "invalid address";
	return r;
}

bool store_address_valid(const char *address)
{
	struct account_addr addr;

	return account_addr_parse(address, &addr, NULL) == 1;
}

int store_domain_ascii(const char *domain, char dst[STORE_DOMAIN_MAX + 1], const char **error_r)
{
	const char *why = NULL;

	int r = account_domain_parse(domain, dst, &why);
	if (r <= 0)
		*error_r = why != NULL ? why : "invalid domain name";
	return r;
}

int store_domain_unicode(const char *domain, char *dst, size_t size)
{
	return idn_domain_to_unicode(domain, dst, size);
}

int account_source_parse(const char *text, struct account_addr *addr_r, const char **why_r)
{
	if (text[0] != '@')
		return account_addr_parse(text, addr_r, why_r);
	int r = account_domain_parse(text + 1, addr_r->key + 1, why_r);
	if (r <= 0)
		return r;
	addr_r->key[0] = '@';
	memcpy(addr_r->norm, addr_r->key, strlen(addr_r->key) + 1);
	addr_r->at = 0;
	return 1;
}

int address_canonical(const char *address, char *dst, size_t dstsize)
{
	struct account_addr a;

	if (account_addr_parse(address, &a, NULL) != 1)
		return 0;
	size_t len = strlen(a.key);
	if (len >= dstsize)
		return 0;
	memcpy(dst, a.key, len + 1);
	return 1;
}

int account_parse_refuse(struct store *store, const char **error_r, int r, const char *what,
			 const char *why)
{
	if (r < 0) {
		store_err(store, "%s", why);
		if (error_r != NULL)
			*error_r = store_last_error(store);
		return -1;
	}
	if (why == NULL)
		return account_refuse(store, error_r, "%s", what);
	return account_refuse(store, error_r, "%s: %s", what, why);
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
