/* The webmail's memory: a growable byte buffer with a hard cap, and a
 * per-request arena (everything a request allocates is freed at once when it
 * ends, so page code needs no free()).
 *
 * Appending never fails loudly: past the cap or on out-of-memory the buffer
 * sets `failed` and ignores further appends; the caller checks once. */
#ifndef PB_CGI_BUF_H
#define PB_CGI_BUF_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;      /* NUL-terminated when not NULL */
	size_t len, size;
	size_t max;      /* hard cap on len; 0 = BUF_MAX_DEFAULT */
	bool failed;
};

/* A response page or a decoded text part never comes near this; it keeps a
 * runaway loop from eating the machine. */
#define BUF_MAX_DEFAULT ((size_t)256 * 1024 * 1024)

void buf_init(struct buf *b, size_t max);
bool buf_append(struct buf *b, const void *data, size_t len);
bool buf_puts(struct buf *b, const char *s);
bool buf_putc(struct buf *b, char c);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the storage to the caller (malloc'd, NUL-terminated); the buffer is
 * empty afterwards. NULL if it failed. */
char *buf_steal(struct buf *b, size_t *len_r);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

struct arena;

/* Per-request memory. arena_new returns NULL on out of memory; the other
 * functions return NULL on out of memory (or past ARENA_MAX bytes in all). */
#define ARENA_MAX ((size_t)512 * 1024 * 1024)
struct arena *arena_new(void);
void *arena_alloc(struct arena *a, size_t size);     /* zeroed */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(struct arena **a);

#endif
