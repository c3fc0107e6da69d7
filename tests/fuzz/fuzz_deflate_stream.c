/* libFuzzer harness for inetd/deflate_stream.c, the COMPRESS=DEFLATE
 * streams: any octets as a client's compressed input, fed in pieces and
 * inflated into outputs of a size the first octet picks (an error or the
 * stream's end must stop it, never a hang, an overrun or a crash; nothing
 * comes out beyond what was asked); and the same octets deflated by us,
 * split anywhere, must inflate back to exactly themselves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deflate_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct buf {
	char *data;
	size_t len, cap;
};

static int buf_write(void *ctx, const char *chunk, size_t n, const char **error_r)
{
	struct buf *b = ctx;

	(void)error_r;
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		char *p = realloc(b->data, cap);

		if (p == NULL)
			abort();
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, chunk, n);
	b->len += n;
	return 0;
}

/* Feeds in[0..len) `step` octets at a time; inflates into out (out_size
 * per call, cap in all); returns what came out, or -1 on corrupt input. */
static long inflate_all(struct deflate_stream *ds, const char *in, size_t len, size_t step,
			size_t out_size, char *out, size_t cap)
{
	size_t done = 0, total = 0;
	const char *error = NULL;

	for (;;) {
		long n;

		while (total < cap &&
		       (n = deflate_stream_inflate(ds, out + total,
						   cap - total < out_size ? cap - total : out_size,
						   &error)) > 0) {
			if ((size_t)n > out_size)
				abort();
			total += (size_t)n;
		}
		if (total >= cap || n == -2 || done == len)
			return (long)total;
		if (n == -1)
			return -1;
		char *room;
		size_t space = deflate_stream_in_room(ds, &room), take = len - done;

		if (space == 0)
			abort(); /* conn.c relies on zlib taking what it is given */
		if (take > step)
			take = step;
		if (take > space)
			take = space;
		memcpy(room, in + done, take);
		deflate_stream_in_added(ds, take);
		done += take;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deflate_stream *ds = NULL;
	const char *error = NULL;
	static char out[1 << 20];

	if (size < 1 || size > 65536)
		return 0;
	size_t out_size = 1 + data[0] * 97u, step = 1 + data[0] % 61u;

	data++;
	size--;
	if (deflate_stream_new(&ds, 0, &error) < 0)
		abort();
	(void)inflate_all(ds, (const char *)data, size, step, out_size, out, sizeof(out));
	deflate_stream_free(&ds);

	/* Round trip, written in two flushes split where the data says. */
	struct buf wire = { 0 };
	size_t split = size > 0 ? data[size / 2] % (size + 1) : 0;

	if (deflate_stream_new(&ds, 0, &error) < 0 ||
	    deflate_stream_deflate(ds, (const char *)data, split, buf_write, &wire, &error) < 0 ||
	    deflate_stream_deflate(ds, (const char *)data + split, size - split, buf_write, &wire,
				   &error) < 0)
		abort();
	deflate_stream_free(&ds);
	if (deflate_stream_new(&ds, 0, &error) < 0)
		abort();
	long got = inflate_all(ds, wire.data, wire.len, step * 7, out_size, out, sizeof(out));

	if (got != (long)size || memcmp(out, data, size) != 0)
		abort();
	deflate_stream_free(&ds);
	free(wire.data);
	return 0;
}
