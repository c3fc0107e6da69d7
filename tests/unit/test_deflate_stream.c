/* Unit tests of inetd/deflate_stream.c: what it writes is raw DEFLATE that
 * zlib itself (linked here, independently of the dlopen) inflates, flushed
 * whole at each call; what zlib deflates it reads back, fed a byte at a
 * time or all at once, into outputs of any size; corrupt input and the end
 * of the peer's stream are told apart. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "deflate_stream.h"

struct sink {
	unsigned char *data;
	size_t len, cap;
	unsigned chunks;
};

static int sink_write(void *ctx, const char *chunk, size_t n, const char **error_r)
{
	struct sink *s = ctx;

	(void)error_r;
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->data = realloc(s->data, s->cap);
		assert_non_null(s->data);
	}
	memcpy(s->data + s->len, chunk, n);
	s->len += n;
	s->chunks++;
	return 0;
}

static int sink_refuse(void *ctx, const char *chunk, size_t n, const char **error_r)
{
	(void)ctx;
	(void)chunk;
	(void)n;
	*error_r = "peer gone";
	return -1;
}

/* Text that compresses (mail) and bytes that do not (an attachment). */
static void fill(char *buf, size_t len, bool random)
{
	static const char text[] = "Subject: quarterly figures\r\nThe numbers are attached.\r\n";
	uint32_t x = 12345;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = random ? (char)(x >> 16) : text[i % (sizeof(text) - 1)];
	}
}

/* zlib's own inflate of a raw stream, which must stand on its own after
 * every flush: the bytes so far give all the data so far. */
static size_t zlib_inflate(const unsigned char *in, size_t len, char *out, size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, -15), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	int ret = inflate(&z, Z_SYNC_FLUSH);

	assert_true(ret == Z_OK || ret == Z_BUF_ERROR);
	assert_int_equal(z.avail_in, 0);
	size_t got = cap - z.avail_out;

	inflateEnd(&z);
	return got;
}

static void test_deflate_flushes_whole(void **state)
{
	struct deflate_stream *ds = NULL;
	const char *error = NULL;
	struct sink sink = { 0 };
	static char big[300000], back[400000];

	(void)state;
	assert_int_equal(deflate_stream_new(&ds, 0, &error), 0);
	assert_int_equal(deflate_stream_deflate(ds, "* OK hello\r\n", 12, sink_write, &sink,
						&error), 0);
	/* a sync flush ends in the empty stored block 00 00 ff ff */
	assert_true(sink.len > 4);
	assert_memory_equal(sink.data + sink.len - 4, "\0\0\xff\xff", 4);
	assert_int_equal(zlib_inflate(sink.data, sink.len, back, sizeof(back)), 12);
	assert_memory_equal(back, "* OK hello\r\n", 12);

	/* mail text shrinks; random bytes go out in many 16 KB chunks */
	size_t before = sink.len;

	fill(big, 100000, false);
	assert_int_equal(deflate_stream_deflate(ds, big, 100000, sink_write, &sink, &error), 0);
	assert_true(sink.len - before < 100000 / 10);
	fill(big + 100000, sizeof(big) - 100000, true);
	sink.chunks = 0;
	assert_int_equal(deflate_stream_deflate(ds, big + 100000, sizeof(big) - 100000,
						sink_write, &sink, &error), 0);
	assert_true(sink.chunks > 10);
	size_t got = zlib_inflate(sink.data, sink.len, back, sizeof(back));

	assert_int_equal(got, 12 + sizeof(big));
	assert_memory_equal(back + 12, big, sizeof(big));

	/* a writer that fails stops it with its error */
	assert_int_equal(deflate_stream_deflate(ds, "x", 1, sink_refuse, NULL, &error), -1);
	assert_string_equal(error, "peer gone");
	deflate_stream_free(&ds);
	assert_null(ds);
	free(sink.data);
}

/* zlib's raw deflate of data, sync-flushed, and finished when `end`. */
static size_t zlib_deflate(const char *data, size_t len, unsigned char *out, size_t cap,
			   bool end)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, end ? Z_FINISH : Z_SYNC_FLUSH), end ? Z_STREAM_END : Z_OK);
	size_t n = cap - z.avail_out;

	deflateEnd(&z);
	return n;
}

/* Feeds in[0..len) `step` bytes at a time, inflating into outputs of
 * `out_size`; returns what came out and the last result (0 or -2). */
static size_t feed(struct deflate_stream *ds, const unsigned char *in, size_t len, size_t step,
		   size_t out_size, char *out, long *last_r)
{
	size_t done = 0, total = 0;
	long n = 0;
	const char *error = NULL;

	for (;;) {
		while ((n = deflate_stream_inflate(ds, out + total, out_size, &error)) > 0)
			total += (size_t)n;
		if (n < 0 || done == len)
			break;
		char *room;
		size_t space = deflate_stream_in_room(ds, &room), take = len - done;

		assert_true(space > 0);
		if (take > step)
			take = step;
		if (take > space)
			take = space;
		memcpy(room, in + done, take);
		deflate_stream_in_added(ds, take);
		done += take;
	}
	*last_r = n;
	return total;
}

static void test_inflate_any_split(void **state)
{
	static char text[200000], out[220000];
	static unsigned char wire[250000];
	static const size_t steps[] = { 1, 7, 4096, 1 << 20 };
	static const size_t outs[] = { 1, 100, 65536 };

	(void)state;
	fill(text, sizeof(text), false);
	fill(text + 100000, 50000, true);
	size_t wlen = zlib_deflate(text, sizeof(text), wire, sizeof(wire), false);

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		for (size_t j = 0; j < sizeof(outs) / sizeof(outs[0]); j++) {
			struct deflate_stream *ds = NULL;
			const char *error = NULL;
			long last;

			if (steps[i] == 1 && outs[j] == 1)
				continue; /* 200,000 calls each way: slow under ASan, adds nothing */
			assert_int_equal(deflate_stream_new(&ds, 0, &error), 0);
			assert_false(deflate_stream_in_pending(ds));
			size_t got = feed(ds, wire, wlen, steps[i], outs[j], out, &last);

			assert_int_equal(last, 0);
			assert_int_equal(got, sizeof(text));
			assert_memory_equal(out, text, sizeof(text));
			assert_false(deflate_stream_in_pending(ds));
			deflate_stream_free(&ds);
		}
	}
}

static void test_inflate_pending_output(void **state)
{
	static char text[50000], out[50100];
	static unsigned char wire[60000];
	struct deflate_stream *ds = NULL;
	const char *error = NULL;
	char *room;

	(void)state;
	fill(text, sizeof(text), false);
	size_t wlen = zlib_deflate(text, sizeof(text), wire, sizeof(wire), false);

	assert_int_equal(deflate_stream_new(&ds, 0, &error), 0);
	assert_true(deflate_stream_in_room(ds, &room) >= wlen);
	memcpy(room, wire, wlen);
	deflate_stream_in_added(ds, wlen);
	assert_true(deflate_stream_in_pending(ds));
	/* a small output: the rest waits inside, and says so */
	assert_int_equal(deflate_stream_inflate(ds, out, 1000, &error), 1000);
	assert_true(deflate_stream_in_pending(ds));
	size_t total = 1000;
	long n;

	while ((n = deflate_stream_inflate(ds, out + total, sizeof(out) - total, &error)) > 0)
		total += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(total, sizeof(text));
	assert_memory_equal(out, text, sizeof(text));
	assert_false(deflate_stream_in_pending(ds));
	deflate_stream_free(&ds);
}

static void test_inflate_corrupt_and_end(void **state)
{
	static const unsigned char garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37 };
	unsigned char wire[256];
	char out[256];
	struct deflate_stream *ds = NULL;
	const char *error = NULL;
	long last;

	(void)state;
	/* a block type that does not exist: an error, not a hang or a crash */
	assert_int_equal(deflate_stream_new(&ds, 0, &error), 0);
	char *room;

	deflate_stream_in_room(ds, &room);
	memcpy(room, garbage, sizeof(garbage));
	deflate_stream_in_added(ds, sizeof(garbage));
	error = NULL;
	assert_int_equal(deflate_stream_inflate(ds, out, sizeof(out), &error), -1);
	assert_string_equal(error, "corrupt compressed data");
	deflate_stream_free(&ds);

	/* a finished stream: its data, then the end (-2), then the end again */
	size_t wlen = zlib_deflate("a LOGOUT\r\n", 10, wire, sizeof(wire), true);

	assert_int_equal(deflate_stream_new(&ds, 0, &error), 0);
	assert_int_equal(feed(ds, wire, wlen, 3, sizeof(out), out, &last), 10);
	assert_int_equal(last, -2);
	assert_memory_equal(out, "a LOGOUT\r\n", 10);
	assert_false(deflate_stream_in_pending(ds));
	assert_int_equal(deflate_stream_inflate(ds, out, sizeof(out), &error), -2);
	deflate_stream_free(&ds);
	deflate_stream_free(&ds); /* freeing NULL is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deflate_flushes_whole),
		cmocka_unit_test(test_inflate_any_split),
		cmocka_unit_test(test_inflate_pending_output),
		cmocka_unit_test(test_inflate_corrupt_and_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
