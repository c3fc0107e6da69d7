/* Private to store/mime*.c: the arena, tree assembly and header
 * interpretation shared by the parser and the cache decoder. */
#ifndef PB_MIME_PRIVATE_H
#define PB_MIME_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "mime.h"

/* One allocation pool per message; freed at once. */
struct mime_arena;

struct mime_arena *mime_arena_create(void);
/* Zeroed memory, aligned for any type; NULL on out of memory or if `size`
 * is absurd (over 1 GiB). */
void *mime_arena_alloc(struct mime_arena *arena, size_t size);
/* Copies n bytes and a NUL. */
char *mime_arena_strndup(struct mime_arena *arena, const char *s, size_t n);
void mime_arena_free(struct mime_arena **arena);

/* A new message with an arena; NULL on out of memory. */
struct mime_message *mime_message_new(void);

/* Sets parts[], root, index and children of every part from `parts` (in
 * pre-order, parent pointers set) and ORs the flags into msg->flags.
 * Returns 0, or -1 on out of memory. */
int mime_tree_finish(struct mime_message *msg, struct mime_part *const *parts, uint32_t nparts);

/* Interprets a header block (Content-* fields; the envelope when
 * `is_message`) into `part`, whose other fields are left alone.
 * `in_digest`: the default type is message/rfc822 (RFC 2046 5.1.5).
 * Returns 0, or -1 on out of memory. */
int mime_header_interpret(struct mime_arena *arena, const struct mime_limits *limits,
			  const char *header, size_t len, bool is_message, bool in_digest,
			  struct mime_part *part);

struct mbuf;

/* Appends bytes with folds (LF, CRLF) removed, NUL and a lone CR made
 * spaces, and backslash escapes removed when `unescape`. */
void mime_put_clean(struct mbuf *b, const char *s, size_t n, bool unescape);
/* Moves a buffer's text into the arena (NUL-terminated) and frees the
 * buffer; NULL and *oom = true on failure. */
char *mime_arena_take(struct mime_arena *arena, struct mbuf *b, bool *oom);

/* Field values (mime_param.c): each sets the part's fields from the raw
 * value of its field; 0, or -1 on out of memory. */
int mime_content_type_parse(struct mime_arena *arena, const struct mime_limits *limits,
			    const char *v, size_t n, struct mime_part *part);
int mime_disposition_parse(struct mime_arena *arena, const struct mime_limits *limits,
			   const char *v, size_t n, struct mime_part *part);
int mime_encoding_parse(struct mime_arena *arena, const char *v, size_t n, struct mime_part *part);

/* The boundary parameter (raw value) of a multipart part, or NULL. */
const char *mime_part_boundary(const struct mime_part *part);

/* transfer value of a lowercased Content-Transfer-Encoding token (or NULL). */
enum mime_encoding mime_encoding_from_name(const char *name);

#endif
