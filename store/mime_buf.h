/* Private to the MIME modules (mime*, charset, rfc2047, address) and the
 * store's message builders (mdn.c): a growable
 * byte string. Appending never fails loudly: on out-of-memory (or past
 * MBUF_MAX) the buffer sets `failed` and ignores further appends, so a caller
 * checks once at the end. Not part of any public API. */
#ifndef PB_MIME_BUF_H
#define PB_MIME_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* No text the MIME modules build comes near this (inputs are single messages,
 * at most max_message_size); it only keeps size arithmetic far from overflow. */
#define MBUF_MAX ((size_t)1 << 40)

struct mbuf {
	char *data;
	size_t len, size;
	bool failed;
};

static inline bool mbuf_reserve(struct mbuf *b, size_t more)
{
	if (b->failed)
		return false;
	if (more > MBUF_MAX - b->len) {
		b->failed = true;
		return false;
	}
	size_t need = b->len + more + 1; /* +1: room for a terminating NUL */
	if (need <= b->size)
		return true;
	size_t size = b->size < 64 ? 64 : b->size;
	while (size < need)
		size *= 2;
	char *p = realloc(b->data, size);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->size = size;
	return true;
}

static inline void mbuf_append(struct mbuf *b, const void *p, size_t n)
{
	if (n == 0 || !mbuf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void mbuf_putc(struct mbuf *b, char c)
{
	if (!mbuf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
}

static inline void mbuf_puts(struct mbuf *b, const char *s)
{
	mbuf_append(b, s, strlen(s));
}

/* NUL-terminates and hands the storage to the caller (who frees it); the
 * buffer is empty afterwards. NULL if the buffer failed. */
static inline char *mbuf_steal(struct mbuf *b, size_t *len_r)
{
	if (!mbuf_reserve(b, 0)) {
		free(b->data);
		*b = (struct mbuf){ 0 };
		return NULL;
	}
	char *p = b->data;
	p[b->len] = '\0';
	if (len_r != NULL)
		*len_r = b->len;
	*b = (struct mbuf){ 0 };
	return p;
}

static inline void mbuf_free(struct mbuf *b)
{
	free(b->data);
	*b = (struct mbuf){ 0 };
}

#endif
