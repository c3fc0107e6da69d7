/* Recipient lists as a person types them into the compose form:
 * "Ann Lee <ann@example.org>, bob@example.net; \"Doe, J.\" <j@x.example>".
 *
 * The list is split at commas and semicolons outside quotes, comments and
 * angle brackets; each element is parsed by the shared RFC 5322 parser
 * (address.h) and then held to the rules of mail we send ourselves: one
 * mailbox, a dot-atom ASCII local part, a host name with at least two
 * labels, no group, no route, no domain literal, no control characters.
 * Anything else is refused with a message naming the element, so nothing
 * the parser would silently repair reaches a header (SECURITY.md 1: the
 * result is re-serialised canonically by msgbuild, never copied).
 * Empty elements (",," or a trailing comma) are skipped. Time is linear in
 * the input. */
#ifndef PB_CGI_ADDRLIST_H
#define PB_CGI_ADDRLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Bytes of one typed list: a form field is at most 256 KiB anyway. */
#define ADDRLIST_INPUT_MAX ((size_t)256 * 1024)
/* Bytes of one element as typed (a long display name and an address). */
#define ADDRLIST_ELEMENT_MAX 1024
/* Bytes of a display name after decoding. */
#define ADDRLIST_NAME_MAX 256
/* RFC 5321 4.5.3.1: local part and path limits. */
#define ADDRLIST_LOCAL_MAX 64
#define ADDRLIST_ADDRESS_MAX 254

struct addrlist_item {
	const char *name;   /* display name, UTF-8 (encoded words decoded), or NULL */
	const char *addr;   /* "local@domain", ASCII, the domain lowercased */
};

struct addrlist {
	struct addrlist_item *items;   /* in the arena */
	size_t count;
};

/* Parses `len` bytes of `in`. At most `max` elements are accepted; more is
 * an error that gives the count. Returns 1 with the list (possibly empty),
 * 0 with *error_r (an arena string naming the element at fault, for
 * display), or -1 out of memory. */
int addrlist_parse(struct arena *a, const char *in, size_t len, size_t max,
		   struct addrlist *list_r, const char **error_r);

/* true if `addr` is "local@domain" by the rules above (for addresses that
 * come from elsewhere: an identity, an original's Reply-To). */
bool addrlist_addr_valid(const char *addr);

#endif
