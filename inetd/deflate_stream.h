/* A connection's two DEFLATE streams (raw RFC 1951, no zlib header), for
 * IMAP COMPRESS=DEFLATE (RFC 4978): what the peer sends is inflated, what
 * we send is deflated and flushed to a byte boundary at the end of each
 * batch (Z_SYNC_FLUSH), so the peer can read every reply at once.
 *
 * zlib is loaded with dlopen() the first time a stream is made: a session
 * that never compresses (POP3, SMTP, most IMAP logins) does not pay for
 * mapping and relocating it at start-up. It knows nothing of sockets: the
 * connection (conn.c) feeds it bytes and writes what it returns. */
#ifndef PB_DEFLATE_STREAM_H
#define PB_DEFLATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>

struct deflate_stream;

/* Both directions, ready, with room for in_size compressed input bytes
 * (at least 16 KB; a connection gives its read buffer's size, so whatever
 * it had read ahead fits). 0, or -1 with *error_r (zlib missing, no
 * memory). */
int deflate_stream_new(struct deflate_stream **ds_r, size_t in_size, const char **error_r);
void deflate_stream_free(struct deflate_stream **ds);

/* Input: compressed bytes from the peer, kept until inflated. Returns the
 * room left (the caller reads at most that much into *buf_r). */
size_t deflate_stream_in_room(struct deflate_stream *ds, char **buf_r);
/* The caller put n bytes at the buffer deflate_stream_in_room gave. */
void deflate_stream_in_added(struct deflate_stream *ds, size_t n);
/* Whether inflating could give more without reading: compressed input is
 * waiting, or the last call filled its output. */
bool deflate_stream_in_pending(const struct deflate_stream *ds);
/* Inflates into out[0..size): > 0 bytes, 0 when more input is needed, -1
 * with *error_r on corrupt input, -2 when the peer ended its stream (taken
 * as the end of the connection). */
long deflate_stream_inflate(struct deflate_stream *ds, char *out, size_t size,
			    const char **error_r);

/* Output: deflates data[0..len) and flushes to a byte boundary, handing
 * each compressed chunk to write(ctx, chunk, n, error_r) (0, or -1 to stop).
 * 0, or -1 with *error_r. */
typedef int deflate_stream_write_fn(void *ctx, const char *chunk, size_t n,
				    const char **error_r);
int deflate_stream_deflate(struct deflate_stream *ds, const char *data, size_t len,
			   deflate_stream_write_fn *write, void *ctx, const char **error_r);

#endif
