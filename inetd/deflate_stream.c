/* DEFLATE streams over zlib, loaded on first use (deflate_stream.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "deflate_stream.h"

/* zlib 1.x's soname, unchanged since 1.1. */
#define ZLIB_LIBRARY "libz.so.1"
/* Compressed bytes read ahead of the inflater (at least), and written per
 * chunk. */
#define DEFLATE_STREAM_BUF 16384
/* zlib's default, as Dovecot's imap_compress_deflate_level: mail text
 * shrinks to about a third at a cost far below a phone link's time. */
#define DEFLATE_STREAM_LEVEL 6

#define ZLIB_FUNCTIONS(X) \
	X(zlibVersion) X(deflateInit2_) X(deflate) X(deflateEnd) X(inflateInit2_) X(inflate) \
	X(inflateEnd)

static struct {
#define ZLIB_MEMBER(name) __typeof__(name) *name;
	ZLIB_FUNCTIONS(ZLIB_MEMBER)
#undef ZLIB_MEMBER
} zl;
static pthread_once_t zl_once = PTHREAD_ONCE_INIT;
static const char *zl_error = "zlib not loaded";

static void zl_load(void)
{
	static char error[256];
	void *h = dlopen(ZLIB_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		snprintf(error, sizeof(error), "cannot load zlib: %s", dlerror());
		zl_error = error;
		return;
	}
#define ZLIB_RESOLVE(name) \
	if ((zl.name = (__typeof__(zl.name))dlsym(h, #name)) == NULL) { \
		snprintf(error, sizeof(error), "%s lacks %s", ZLIB_LIBRARY, #name); \
		zl_error = error; \
		dlclose(h); \
		return; \
	}
	ZLIB_FUNCTIONS(ZLIB_RESOLVE)
#undef ZLIB_RESOLVE
	/* The z_stream layout is fixed within 1.x: only the major must match. */
	if (zl.zlibVersion()[0] != ZLIB_VERSION[0]) {
		snprintf(error, sizeof(error), "%s is zlib %s, not %c.x", ZLIB_LIBRARY,
			 zl.zlibVersion(), ZLIB_VERSION[0]);
		zl_error = error;
		dlclose(h);
		return;
	}
	zl_error = NULL;
}

struct deflate_stream {
	z_stream in, out;
	bool in_ready, out_ready;
	bool in_full;   /* the last inflate filled its output: more may wait */
	bool in_ended;  /* the peer's stream ended */
	size_t in_start, in_end; /* unread compressed input: in_buf[in_start .. in_end) */
	size_t in_size;
	char in_buf[];
};

int deflate_stream_new(struct deflate_stream **ds_r, size_t in_size, const char **error_r)
{
	*ds_r = NULL;
	pthread_once(&zl_once, zl_load);
	if (zl_error != NULL) {
		*error_r = zl_error;
		return -1;
	}
	if (in_size < DEFLATE_STREAM_BUF)
		in_size = DEFLATE_STREAM_BUF;
	struct deflate_stream *ds = calloc(1, sizeof(*ds) + in_size);

	if (ds == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	/* Negative window bits: raw DEFLATE, as RFC 4978 section 4 says; a
	 * 32 KB window inflates whatever window the peer chose. */
	if (zl.inflateInit2_(&ds->in, -15, ZLIB_VERSION, (int)sizeof(z_stream)) != Z_OK) {
		*error_r = "cannot start decompression";
		deflate_stream_free(&ds);
		return -1;
	}
	ds->in_size = in_size;
	ds->in_ready = true;
	if (zl.deflateInit2_(&ds->out, DEFLATE_STREAM_LEVEL, Z_DEFLATED, -15, 8,
			     Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof(z_stream)) != Z_OK) {
		*error_r = "cannot start compression";
		deflate_stream_free(&ds);
		return -1;
	}
	ds->out_ready = true;
	*ds_r = ds;
	return 0;
}

void deflate_stream_free(struct deflate_stream **dsp)
{
	struct deflate_stream *ds = *dsp;

	if (ds == NULL)
		return;
	if (ds->in_ready)
		zl.inflateEnd(&ds->in);
	if (ds->out_ready)
		zl.deflateEnd(&ds->out);
	free(ds);
	*dsp = NULL;
}

size_t deflate_stream_in_room(struct deflate_stream *ds, char **buf_r)
{
	if (ds->in_start == ds->in_end) {
		ds->in_start = ds->in_end = 0;
	} else if (ds->in_start > 0) {
		memmove(ds->in_buf, ds->in_buf + ds->in_start, ds->in_end - ds->in_start);
		ds->in_end -= ds->in_start;
		ds->in_start = 0;
	}
	*buf_r = ds->in_buf + ds->in_end;
	return ds->in_size - ds->in_end;
}

void deflate_stream_in_added(struct deflate_stream *ds, size_t n)
{
	ds->in_end += n;
}

bool deflate_stream_in_pending(const struct deflate_stream *ds)
{
	return !ds->in_ended && (ds->in_end > ds->in_start || ds->in_full);
}

long deflate_stream_inflate(struct deflate_stream *ds, char *out, size_t size,
			    const char **error_r)
{
	if (ds->in_ended)
		return -2;
	if (size == 0)
		return 0;
	if (size > 1u << 30)
		size = 1u << 30;
	ds->in.next_in = (Bytef *)ds->in_buf + ds->in_start;
	ds->in.avail_in = (uInt)(ds->in_end - ds->in_start);
	ds->in.next_out = (Bytef *)out;
	ds->in.avail_out = (uInt)size;
	int ret = zl.inflate(&ds->in, Z_SYNC_FLUSH);
	size_t produced = size - ds->in.avail_out;

	ds->in_start = ds->in_end - ds->in.avail_in;
	ds->in_full = ds->in.avail_out == 0;
	switch (ret) {
	case Z_OK:
	case Z_BUF_ERROR: /* no progress: more input needed */
		return (long)produced;
	case Z_STREAM_END:
		ds->in_ended = true;
		ds->in_full = false;
		return produced > 0 ? (long)produced : -2;
	case Z_MEM_ERROR:
		*error_r = "out of memory while decompressing";
		return -1;
	default:
		*error_r = "corrupt compressed data";
		return -1;
	}
}

int deflate_stream_deflate(struct deflate_stream *ds, const char *data, size_t len,
			   deflate_stream_write_fn *write, void *ctx, const char **error_r)
{
	char chunk[DEFLATE_STREAM_BUF];

	ds->out.next_in = (Bytef *)data;
	ds->out.avail_in = (uInt)len;
	/* Z_SYNC_FLUSH: all of it goes out now, ending on a byte boundary
	 * with an empty stored block, so the peer reads the whole reply. */
	do {
		ds->out.next_out = (Bytef *)chunk;
		ds->out.avail_out = sizeof(chunk);
		int ret = zl.deflate(&ds->out, Z_SYNC_FLUSH);

		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			*error_r = "compression failed";
			return -1;
		}
		size_t n = sizeof(chunk) - ds->out.avail_out;

		if (n > 0 && write(ctx, chunk, n, error_r) < 0)
			return -1;
	} while (ds->out.avail_out == 0 || ds->out.avail_in > 0);
	return 0;
}
