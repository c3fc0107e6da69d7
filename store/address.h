/* RFC 5322 address lists (From:, To:, Cc:, Reply-To:, ...), parsed into the
 * shape IMAP's ENVELOPE sends (RFC 3501 7.4.2), with groups kept.
 *
 * The parser accepts the obsolete syntax (routes "<@a,@b:u@h>", empty list
 * elements, comments anywhere, dots in phrases) and never gives up: what it
 * cannot read is skipped or repaired and the list is flagged
 * ADDRESS_LIST_F_INVALID. Time is linear in the input length. */
#ifndef PB_ADDRESS_H
#define PB_ADDRESS_H

#include <stddef.h>

/* Addresses (group markers included) kept from one header: far above any
 * real recipient list, low enough that a hostile header cannot make every
 * consumer (IMAP ENVELOPE, webmail) handle millions of entries. */
#define ADDRESS_LIST_MAX 10000
/* Bytes of one header value parsed; the MIME parser's header block limit
 * (1 MiB) bounds it anyway. Longer input is parsed up to here, flagged. */
#define ADDRESS_INPUT_MAX (1024 * 1024)

/* One element of the list, in RFC 3501 form:
 *  - a mailbox: mailbox and host non-NULL (host "" if the address had none);
 *  - a group start: host NULL, mailbox = the group's display name;
 *  - a group end: host NULL, mailbox NULL.
 * Strings never contain NUL, CR or LF (folds are removed). */
struct address {
	char *name;    /* display name: the phrase with quotes removed and words
			  joined by single spaces, encoded words NOT decoded
			  (rfc2047_decode for display); if there is no phrase, the
			  first comment ("u@h (Name)"); NULL if neither */
	char *route;   /* obsolete source route "@a,@b", or NULL */
	char *mailbox; /* local part, quotes removed; see above for groups */
	char *host;    /* domain as written ("[192.0.2.1]" for a literal) */
};

enum address_list_flags {
	ADDRESS_LIST_F_INVALID = 1 << 0,   /* syntax errors were skipped or repaired */
	ADDRESS_LIST_F_TRUNCATED = 1 << 1, /* max_count or ADDRESS_INPUT_MAX reached */
};

struct address_list {
	size_t count;
	struct address *addrs;
	unsigned flags; /* enum address_list_flags */
};

/* Parses `len` bytes (a header value, folded or not). At most `max_count`
 * elements are kept (0 means ADDRESS_LIST_MAX); a group left open is closed
 * with an end marker (which may be one past max_count). Returns 1 with a
 * list (possibly empty) in *list_r, or -1 out of memory. The list is one
 * allocation; free it with address_list_free. */
int address_list_parse(const char *in, size_t len, size_t max_count, struct address_list **list_r);

void address_list_free(struct address_list **list);

/* "local@host" of a mailbox element, the local part quoted if it is not a
 * dot-atom; "local" alone when host is "". New malloc'd string, or NULL on
 * out of memory or for a group marker. */
char *address_addr_spec(const struct address *addr);

#endif
