/* The RFC 5322 / MIME parser and its cache (RFC 2045-2049, 2231, 3501).
 *
 * A message is parsed ONCE, at delivery, into a tree of parts; the tree is
 * stored as a compact binary "cache" beside the body (mime_cache_encode) and
 * every reader (IMAP FETCH, POP3 TOP, webmail, relay) decodes that instead of
 * parsing again (mime_cache_decode).
 *
 * Shape of the tree
 *  - The root is the message. A multipart part has its body parts as
 *    children, in order. A message/rfc822 (or message/global) part has ONE
 *    child: the encapsulated message, whose header/body/type describe the
 *    inner message and which carries its envelope. Every other part is a
 *    leaf. "Message nodes" are the root and those encapsulated messages;
 *    only they have an envelope.
 *  - Offsets are byte offsets from the start of the parsed data, exact into
 *    the raw bytes (bare LF line ends are line ends too; CRLF stays two
 *    bytes). A part's header range includes the blank line that ends it; its
 *    body follows immediately (body_offset == header_offset + header_len)
 *    and ends before the line break that precedes the next boundary line
 *    (RFC 2046: that CRLF belongs to the delimiter), or at the end of the
 *    enclosing part. Children lie inside their parent's body, in order.
 *  - A multipart may have NO children (no boundary parameter, a boundary that
 *    never occurs, or a limit): IMAP must then invent its one body part.
 *
 * Robustness
 *  - A message is never refused for its MIME shape. Limits (struct
 *    mime_limits) cut parsing short; what lies beyond a limit stays inside
 *    the enclosing part as opaque bytes, the part is flagged and mime_parse
 *    returns 0 instead of 1. Time is linear in the input (boundary lines are
 *    matched with a trie, independent of nesting depth) and no code here
 *    recurses: the parser uses an explicit stack of depth_max entries.
 *  - Header strings in the tree never contain NUL, CR or LF (folds are
 *    unfolded; stray bytes become spaces). "Raw" strings are the header
 *    bytes as given (possibly 8-bit, not UTF-8); "decoded" strings are valid
 *    UTF-8 without control characters.
 *
 * Memory: a message owns everything reachable from it; all pointers are
 * valid until mime_message_free. Nothing here keeps a pointer into `data`. */
#ifndef PB_MIME_H
#define PB_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "address.h"

/* First byte of every cache blob; bump on any change of the format. */
#define MIME_CACHE_VERSION 1

/* Bytes of one header block (message or part header, blank line included).
 * RFC 5322 sets no limit; real headers with long Received: chains and DKIM
 * stay under 100 KiB. 1 MiB leaves room for abuse-free oddities while a
 * hostile header cannot make the field pass scan more than that per part. */
#define MIME_HEADER_MAX_DEFAULT (1024 * 1024)
/* Parts per message, root and encapsulated messages included. Dovecot uses
 * the same figure; real mail has a handful, mailing-list digests a few
 * hundred. Each part costs ~200 bytes parsed and ~30 in the cache. */
#define MIME_PARTS_MAX_DEFAULT 10000
/* Depth of nesting (root = 0; each multipart child, and each encapsulated
 * message, one deeper). Real mail rarely passes 10 (forwards of forwards);
 * IMAP clients parse BODYSTRUCTURE recursively and some crash on very deep
 * nesting, so 100 is what a client can be asked to accept (Dovecot: 100). */
#define MIME_DEPTH_MAX_DEFAULT 100
/* Header fields examined per header block; later fields stay in the header
 * range but are not interpreted. Spam tools add a few hundred at most. */
#define MIME_FIELDS_MAX_DEFAULT 10000
/* Parameters per Content-Type / Content-Disposition, RFC 2231 sections
 * counted one by one: a long RFC 2231 file name uses ~20 sections. */
#define MIME_PARAMS_MAX_DEFAULT 100
/* Elements per address header (address.h). */
#define MIME_ADDRESSES_MAX_DEFAULT ADDRESS_LIST_MAX

/* Hard ceilings, whatever the caller's limits say (also applied when
 * decoding a cache blob, which need not come from this parser). */
#define MIME_DEPTH_HARD_MAX 1000
/* RFC 2046 allows 70; longer ones are seen. A multipart with a longer
 * boundary gets no children (flag MIME_F_BOUNDARY_TOO_LONG). */
#define MIME_BOUNDARY_MAX 256
/* Longest IMAP section path mime_part_section writes ("1.2.3..."). */
#define MIME_SECTION_MAX ((MIME_DEPTH_HARD_MAX + 2) * 11 + 1)

struct mime_limits {
	size_t header_max;    /* bytes of one header block */
	size_t parts_max;     /* parts in the whole tree (>= 1) */
	size_t depth_max;     /* deepest part (<= MIME_DEPTH_HARD_MAX) */
	size_t fields_max;    /* header fields interpreted per block */
	size_t params_max;    /* parameters per Content-Type/-Disposition */
	size_t addresses_max; /* elements per address header */
};

/* The defaults above. */
extern const struct mime_limits mime_limits_default;

enum mime_flags {
	/* a limit was reached here (the part is usable, content is missing) */
	MIME_F_HEADER_TRUNCATED = 1 << 0,   /* header_max: rest of the block is body */
	MIME_F_FIELDS_TRUNCATED = 1 << 1,   /* fields_max: later fields ignored */
	MIME_F_PARTS_TRUNCATED = 1 << 2,    /* parts_max: later children missing */
	MIME_F_DEPTH_TRUNCATED = 1 << 3,    /* depth_max: children not parsed */
	MIME_F_PARAMS_TRUNCATED = 1 << 4,   /* params_max: later parameters ignored */
	MIME_F_ADDRESSES_TRUNCATED = 1 << 5, /* addresses_max in an envelope list */
	MIME_F_BOUNDARY_TOO_LONG = 1 << 6,  /* MIME_BOUNDARY_MAX: children not parsed */
	MIME_F_TRUNCATED_MASK = (1 << 7) - 1,
	/* shape notes (no content is missing) */
	MIME_F_DEFAULT_TYPE = 1 << 8,  /* no valid Content-Type: the default was used */
	MIME_F_NO_BOUNDARY = 1 << 9,   /* multipart without a boundary parameter */
	MIME_F_NO_END = 1 << 10,       /* multipart without its close delimiter */
	MIME_F_NO_BLANK_LINE = 1 << 11, /* header not ended by a blank line */
	MIME_F_ALL = (1 << 12) - 1,
};

enum mime_encoding {
	MIME_ENC_7BIT, /* also: no Content-Transfer-Encoding */
	MIME_ENC_8BIT,
	MIME_ENC_BINARY,
	MIME_ENC_BASE64,
	MIME_ENC_QP,
	MIME_ENC_UNKNOWN, /* x-uuencode and other names: treat the body as opaque */
};

struct mime_param {
	const char *name;      /* lowercased, without RFC 2231 "*" and "*N" */
	const char *value;     /* decoded UTF-8: sections joined, RFC 2231
				  charset or RFC 2047 words decoded */
	const char *raw_name;  /* what IMAP BODYSTRUCTURE sends: `name`, plus a
				  trailing "*" if raw_value is RFC 2231 extended */
	const char *raw_value; /* quotes removed, RFC 2231 sections joined
				  (an extended value keeps its charset'lang'%XX form) */
};

struct mime_params {
	const struct mime_param *items;
	uint32_t count;
};

struct mime_addresses {
	const struct address *items; /* RFC 3501 form, see address.h */
	uint32_t count;
	unsigned flags;              /* enum address_list_flags */
};

/* ENVELOPE of a message node: raw header values, unfolded and trimmed,
 * NULL when the field is absent (first occurrence wins). Sender and
 * Reply-To are NOT defaulted to From here (IMAP does that). */
struct mime_envelope {
	const char *date, *subject, *in_reply_to, *message_id;
	struct mime_addresses from, sender, reply_to, to, cc, bcc;
};

struct mime_part {
	const struct mime_part *parent;     /* NULL for the root */
	const struct mime_part *const *children;
	uint32_t nchildren;
	uint32_t index;                     /* position among the parent's children */
	uint32_t depth;                     /* root 0 */
	uint32_t flags;                     /* enum mime_flags */
	uint64_t header_offset, header_len; /* header block incl. the blank line */
	uint64_t body_offset, body_len;
	uint64_t body_lines;                /* LFs in the body, plus one if the body
					       does not end with LF (0 if empty) */
	const char *type, *subtype;         /* lowercased; default text/plain
					       (message/rfc822 in multipart/digest) */
	struct mime_params params;          /* Content-Type parameters, in order */
	const char *id;                     /* Content-ID, raw */
	const char *description;            /* Content-Description, raw */
	const char *encoding;               /* Content-Transfer-Encoding token, lowercased */
	enum mime_encoding transfer;        /* `encoding` as a value */
	const char *disposition;            /* Content-Disposition type, lowercased */
	struct mime_params disposition_params;
	const char *language;               /* Content-Language, raw */
	const char *location;               /* Content-Location, raw */
	const char *md5;                    /* Content-MD5, raw */
	const struct mime_envelope *envelope; /* message nodes only, else NULL */
};

struct mime_arena;

struct mime_message {
	uint64_t size;                      /* bytes parsed */
	uint32_t flags;                     /* OR of every part's flags */
	uint32_t nparts;
	const struct mime_part *root;       /* == parts[0] */
	const struct mime_part *const *parts; /* every part in pre-order */
	struct mime_arena *arena;           /* private */
};

/* Parses `len` bytes of message (header, blank line, body). Returns 1 with
 * the tree, 0 with the tree when a limit cut parsing short (see flags), or
 * -1 on out of memory (*error_r set, *msg_r NULL). `limits` may be NULL for
 * mime_limits_default. */
int mime_parse(const char *data, size_t len, const struct mime_limits *limits,
	       struct mime_message **msg_r, const char **error_r);

void mime_message_free(struct mime_message **msg);

/* The text for the first limit flag set in `flags` ("header too large",
 * ...), or NULL if no MIME_F_TRUNCATED_MASK flag is set. */
const char *mime_flags_reason(uint32_t flags);

/* ------------------------------------------------------------------ cache */

/* Encodes the tree into a new malloc'd blob (*blob_r, *len_r): version byte,
 * then varints and length-prefixed strings. A simple message takes a few
 * hundred bytes. Returns 1, or -1 out of memory. */
int mime_cache_encode(const struct mime_message *msg, void **blob_r, size_t *len_r,
		      const char **error_r);

/* Decodes a blob made by mime_cache_encode. Every field is bounds-checked and
 * the tree invariants above (ranges inside `size` and inside the parent,
 * children in order, string rules, depth <= MIME_DEPTH_HARD_MAX) are
 * verified, so a corrupt blob is refused rather than trusted. Returns 1, 0
 * if the blob is corrupt or of another version (*error_r says why), -1 out
 * of memory. */
int mime_cache_decode(const void *blob, size_t len, struct mime_message **msg_r,
		      const char **error_r);

/* ------------------------------------------------------------ walking */

/* The part after `part` in pre-order (children first, then siblings, then
 * the parent's next sibling), or NULL after the last. */
const struct mime_part *mime_part_next(const struct mime_part *part);

/* true for the root and for encapsulated messages (parts with an envelope). */
bool mime_part_is_message(const struct mime_part *part);
/* true if type is "multipart". */
bool mime_part_is_multipart(const struct mime_part *part);
/* The encapsulated message of a message/rfc822 or message/global part, or
 * NULL (other parts; or one treated as a leaf: encoded, or at a limit). */
const struct mime_part *mime_part_message(const struct mime_part *part);

/* Finds a part by IMAP section number ("" = the root message, "1", "2.3",
 * ... digits and dots only, no ".HEADER"/".MIME"/".TEXT"). RFC 3501 rules: a
 * multipart's children are numbered from 1; a non-multipart message has one
 * part, "1", itself; after a message/rfc822 part, numbering continues in its
 * encapsulated message. NULL if there is no such part or the syntax is
 * wrong. */
const struct mime_part *mime_part_find(const struct mime_message *msg, const char *section);

/* Writes the section number of `part` ("" for a multipart root) into buf.
 * Returns its length, or -1 if size is too small (MIME_SECTION_MAX always
 * suffices). An encapsulated message that is multipart has the number of
 * its message/rfc822 part. */
int mime_part_section(const struct mime_part *part, char *buf, size_t size);

/* Decoded value of parameter `name` (lowercase), preferring the RFC 2231
 * extended form; NULL if absent. */
const char *mime_params_get(const struct mime_params *params, const char *name);

/* The part's file name: Content-Disposition filename, else Content-Type
 * name; decoded UTF-8, or NULL. */
const char *mime_part_filename(const struct mime_part *part);

/* The first mailbox of an address list (group markers skipped), or NULL:
 * the sender lists and SORT FROM/TO/CC take it. */
const struct address *mime_first_mailbox(const struct mime_addresses *list);

/* ------------------------------------------------------------ headers */

struct mime_header_field {
	const char *name;   /* field name, without the colon or spaces before it */
	size_t name_len;
	const char *value;  /* raw value after the colon, folds included, without
			       the final line break */
	size_t value_len;
	size_t offset;      /* the whole field, final line break included,
			       relative to the header passed in */
	size_t len;
};

/* Iterates over the fields of a header block (e.g. the header range of a
 * part; it may include the final blank line). *pos starts at 0. Lines that
 * are not fields (no colon, or continuation lines with no field) are
 * skipped. Returns 1 with the next field, 0 at the end (the blank line or
 * the end of the block). */
int mime_header_next(const char *header, size_t len, size_t *pos, struct mime_header_field *field_r);

/* ------------------------------------------------------------ content */

enum mime_decode_flags {
	MIME_DECODE_TRANSFER = 1 << 0, /* undo base64 / quoted-printable */
	MIME_DECODE_UTF8 = 1 << 1,     /* text parts: convert the charset parameter
					  to UTF-8 (implies TRANSFER) */
};

/* The body of `part` (from `data`, the same bytes that were parsed; len must
 * be msg->size) decoded as `flags` say, into a new malloc'd buffer (NUL
 * added, not counted). Unknown transfer encodings are returned as they are.
 * Returns 1, 0 if the part lies outside data (wrong data for this tree), -1
 * out of memory. */
int mime_part_body_decode(const struct mime_part *part, const char *data, size_t len,
			  unsigned flags, char **out_r, size_t *out_len_r, const char **error_r);

/* ------------------------------------------------------------ summary */

/* What lists and sorting need, computed from the tree. Strings are UTF-8,
 * never NULL. */
struct mime_summary {
	time_t date;        /* Date: as a time, 0 if absent or unparsable */
	int tz;             /* its zone, minutes east of UTC (0 if none) */
	char *from_display; /* decoded display name of the first From mailbox,
			       else its address, else "" */
	char *from_address; /* "local@domain" of the first From mailbox, or "" */
	char *subject;      /* decoded Subject, or "" */
	bool has_attachment; /* a part with disposition "attachment", or a
				non-text leaf with a file name */
};

/* Returns 1 with a new summary in *summary_r, or -1 out of memory. */
int mime_summary_get(const struct mime_message *msg, struct mime_summary **summary_r,
		     const char **error_r);
void mime_summary_free(struct mime_summary **summary);

#endif
