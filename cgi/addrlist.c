/* Typed recipient lists (addrlist.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "addrlist.h"
#include "rfc2047.h"

/* Bytes of an element quoted back in an error message. */
#define ADDRLIST_SHOW_MAX 80

struct range {
	size_t start, end;
};

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static bool local_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ADDRLIST_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* A host name: LDH labels of 1-63 bytes, at least two of them. */
static bool domain_valid(const char *s)
{
	size_t n = strlen(s), labels = 0, label = 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			labels++;
			label = 0;
			continue;
		}
		bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   c == '-';
		if (!ldh || (label == 0 && c == '-'))
			return false;
		label++;
	}
	return labels >= 2;
}

bool addrlist_addr_valid(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
	if (at == NULL || strlen(addr) > ADDRLIST_ADDRESS_MAX ||
	    (size_t)(at - addr) > ADDRLIST_LOCAL_MAX)
		return false;
	char local[ADDRLIST_LOCAL_MAX + 1];
	memcpy(local, addr, (size_t)(at - addr));
	local[at - addr] = '\0';
	return local_valid(local) && domain_valid(at + 1);
}

/* The element as typed, for an error message: control bytes as spaces,
 * cut at a character boundary. */
static const char *show(struct arena *a, const char *s, size_t n)
{
	size_t cut = n;
	if (cut > ADDRLIST_SHOW_MAX) {
		cut = ADDRLIST_SHOW_MAX;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
	}
	char *p = arena_alloc(a, cut + 4);
	if (p == NULL)
		return "";
	for (size_t i = 0; i < cut; i++)
		p[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	if (cut < n)
		memcpy(p + cut, "\xe2\x80\xa6", 4); /* … */
	return p;
}

static int refuse(struct arena *a, const char **error_r, const char *elem, size_t n,
		  const char *why)
{
	*error_r = arena_printf(a, "\"%s\" %s", show(a, elem, n), why);
	if (*error_r == NULL)
		return -1;
	return 0;
}

static bool has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* Decodes and trims the display name; NULL when there is none. */
static int name_get(struct arena *a, const char *raw, const char **name_r)
{
	char *dec;
	size_t len;
	*name_r = NULL;
	if (raw == NULL)
		return 1;
	if (rfc2047_decode(raw, strlen(raw), &dec, &len) < 0)
		return -1;
	size_t s = 0;
	while (s < len && dec[s] == ' ')
		s++;
	while (len > s && dec[len - 1] == ' ')
		len--;
	if (len - s > ADDRLIST_NAME_MAX) {
		free(dec);
		return 0;
	}
	if (len > s && (*name_r = arena_strndup(a, dec + s, len - s)) == NULL) {
		free(dec);
		return -1;
	}
	free(dec);
	return 1;
}

static int element(struct arena *a, const char *e, size_t n, struct addrlist_item *item,
		   const char **error_r)
{
	struct address_list *l = NULL;
	if (n > ADDRLIST_ELEMENT_MAX)
		return refuse(a, error_r, e, n, "is too long for one address.");
	if (address_list_parse(e, n, 4, &l) < 0)
		return -1;
	int ret = 0;
	const struct address *ad = l->count >= 1 ? &l->addrs[0] : NULL;
	if (ad != NULL && ad->host == NULL) {
		ret = refuse(a, error_r, e, n, "is a group: write its addresses instead.");
		goto out;
	}
	if (ad != NULL && l->count == 1 && ad->host[0] == '\0') {
		ret = refuse(a, error_r, e, n,
			     "is not a complete e-mail address (name@domain).");
		goto out;
	}
	if (ad == NULL || l->count != 1 || l->flags != 0 || ad->route != NULL) {
		ret = refuse(a, error_r, e, n, "is not a valid e-mail address.");
		goto out;
	}
	if (has_8bit(ad->mailbox) || has_8bit(ad->host)) {
		ret = refuse(a, error_r, e, n, "has non-ASCII characters in the address, "
				     "which cannot be used here.");
		goto out;
	}
	if (ad->host[0] == '[') {
		ret = refuse(a, error_r, e, n, "is an address literal; use a domain name.");
		goto out;
	}
	if (!local_valid(ad->mailbox) || !domain_valid(ad->host) ||
	    strlen(ad->mailbox) + 1 + strlen(ad->host) > ADDRLIST_ADDRESS_MAX) {
		ret = refuse(a, error_r, e, n, "is not a valid e-mail address.");
		goto out;
	}
	char *addr = arena_printf(a, "%s@%s", ad->mailbox, ad->host);
	if (addr == NULL) {
		ret = -1;
		goto out;
	}
	for (char *p = strchr(addr, '@'); *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	item->addr = addr;
	ret = name_get(a, ad->name, &item->name);
	if (ret == 0)
		ret = refuse(a, error_r, e, n, "has a name that is too long.");
out:
	address_list_free(&l);
	return ret;
}

/* Splits at ',' and ';' outside quotes, comments, <> and []. Control
 * characters end the scan: *bad_r is their offset. Returns the count. */
static size_t split(const char *in, size_t len, struct range *ranges, size_t max_ranges,
		    size_t *bad_r)
{
	size_t count = 0, start = 0, comment = 0;
	bool quote = false, angle = false, literal = false;
	*bad_r = len;
	for (size_t i = 0; i <= len; i++) {
		/* the end closes the last element whatever is left open: the
		 * parser then refuses it rather than it being lost */
		bool end = i == len;
		unsigned char c = end ? ',' : (unsigned char)in[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*bad_r = i;
			return count;
		}
		if (end) {
			quote = angle = literal = false;
			comment = 0;
		}
		if ((quote || comment > 0) && c == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (quote) {
			quote = c != '"';
		} else if (comment > 0) {
			if (c == '(')
				comment++;
			else if (c == ')')
				comment--;
		} else if (c == '"') {
			quote = true;
		} else if (c == '(') {
			comment = 1;
		} else if (literal) {
			literal = c != ']';
		} else if (c == '[') {
			literal = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == '>') {
			angle = false;
		} else if ((c == ',' || c == ';') && !angle) {
			size_t s = start, e = i;
			while (s < e && (in[s] == ' ' || in[s] == '\t'))
				s++;
			while (e > s && (in[e - 1] == ' ' || in[e - 1] == '\t'))
				e--;
			if (e > s) {
				if (count < max_ranges)
					ranges[count] = (struct range){ s, e };
				count++;
			}
			start = i + 1;
			angle = false;
		}
	}
	return count;
}

int addrlist_parse(struct arena *a, const char *in, size_t len, size_t max,
		   struct addrlist *list_r, const char **error_r)
{
	size_t bad;
	*list_r = (struct addrlist){ 0 };
	if (len > ADDRLIST_INPUT_MAX) {
		*error_r = "The list of addresses is too long.";
		return 0;
	}
	size_t count = split(in, len, NULL, 0, &bad);
	if (bad < len) {
		*error_r = "An address field contains a line break or a control character.";
		return 0;
	}
	if (count > max) {
		*error_r = arena_printf(a, "Too many recipients: %zu. A message can have at most "
					   "%zu.", count, max);
		return *error_r == NULL ? -1 : 0;
	}
	if (count == 0)
		return 1;
	struct range *ranges = arena_alloc(a, count * sizeof(*ranges));
	list_r->items = arena_alloc(a, count * sizeof(*list_r->items));
	if (ranges == NULL || list_r->items == NULL)
		return -1;
	split(in, len, ranges, count, &bad);
	for (size_t i = 0; i < count; i++) {
		int r = element(a, in + ranges[i].start, ranges[i].end - ranges[i].start,
				&list_r->items[i], error_r);
		if (r <= 0) {
			list_r->count = 0;
			return r;
		}
	}
	list_r->count = count;
	return 1;
}
