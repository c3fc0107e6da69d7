/* Message bodies: immutable files beside the environment (STORE-NOTES §8).
 * Written to blobs/tmp, line ends made CRLF on the way in (the one canonical
 * form every reader gets), fsynced, renamed to blobs/ab/cd/<id>, directories
 * fsynced; only then may a transaction reference them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "body.h"
#include "store_int.h"

#define BODY_WRITE_BUFFER 65536

struct store_body_writer {
	struct store *store;
	int fd;
	char tmppath[512];
	uint64_t size;          /* bytes after CRLF normalisation */
	bool too_big;
	bool last_cr;           /* the previous chunk ended in CR */
	size_t buflen;
	char buf[BODY_WRITE_BUFFER];
};

static void hex(const uint8_t *id, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < STORE_BODY_ID_LEN; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 15];
	}
	out[2 * STORE_BODY_ID_LEN] = '\0';
}

void body_path(const struct store *store, const uint8_t id[STORE_BODY_ID_LEN], char *dst,
	       size_t dstsize)
{
	char h[2 * STORE_BODY_ID_LEN + 1];
	hex(id, h);
	snprintf(dst, dstsize, "%s/%.2s/%.2s/%s", store->blobs, h, h + 2, h);
}

void body_id_hex(const uint8_t id[STORE_BODY_ID_LEN], char out[2 * STORE_BODY_ID_LEN + 1])
{
	hex(id, out);
}

int store_body_create(struct store *store, struct store_body_writer **writer_r,
		      const char **error_r)
{
	struct store_body_writer *w = malloc(sizeof(*w));
	uint8_t rnd[8];
	char h[17];
	if (w == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		free(w);
		*error_r = "getrandom failed";
		return -1;
	}
	for (int i = 0; i < 8; i++)
		snprintf(h + 2 * i, 3, "%02x", rnd[i]);
	w->store = store;
	w->size = 0;
	w->too_big = false;
	w->last_cr = false;
	w->buflen = 0;
	snprintf(w->tmppath, sizeof(w->tmppath), "%s/tmp/%s.%d", store->blobs, h, (int)getpid());
	w->fd = open(w->tmppath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		store_err(store, "%s: %s", w->tmppath, strerror(errno));
		*error_r = store_last_error(store);
		free(w);
		return -1;
	}
	*writer_r = w;
	return 1;
}

static int writer_flush(struct store_body_writer *w)
{
	size_t off = 0;
	while (off < w->buflen) {
		ssize_t n = write(w->fd, w->buf + off, w->buflen - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return store_err(w->store, "writing %s: %s", w->tmppath, strerror(errno));
		}
		off += (size_t)n;
	}
	w->buflen = 0;
	return 0;
}

static int writer_putc(struct store_body_writer *w, char c)
{
	if (w->buflen == sizeof(w->buf) && writer_flush(w) < 0)
		return -1;
	w->buf[w->buflen++] = c;
	w->size++;
	return 0;
}

int store_body_write(struct store_body_writer *w, const void *data, size_t len,
		     const char **error_r)
{
	const char *p = data;
	if (w->too_big)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		int r = 0;
		/* Bare CR and bare LF both become CRLF. */
		if (w->last_cr && c != '\n')
			r = writer_putc(w, '\n');
		if (r == 0 && c == '\n' && !w->last_cr)
			r = writer_putc(w, '\r');
		if (r == 0)
			r = writer_putc(w, c);
		if (r < 0) {
			*error_r = store_last_error(w->store);
			return -1;
		}
		w->last_cr = c == '\r';
		if (w->size > w->store->config->max_message_size) {
			w->too_big = true;
			return 0;
		}
	}
	return 1;
}

void store_body_abort(struct store_body_writer **writerp)
{
	struct store_body_writer *w = *writerp;
	if (w == NULL)
		return;
	*writerp = NULL;
	close(w->fd);
	unlink(w->tmppath);
	free(w);
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

/* mkdir blobs/ab and blobs/ab/cd as needed, fsyncing the parent of each new
 * directory so the rename below survives a crash. */
static int make_dirs(struct store *store, const char *h)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%.2s", store->blobs, h);
	if (mkdir(dir, 02770) == 0) {
		if (fsync_dir(store->blobs) < 0)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%.2s/%.2s", store->blobs, h, h + 2);
	if (mkdir(dir, 02770) == 0) {
		char parent[512];
		snprintf(parent, sizeof(parent), "%s/%.2s", store->blobs, h);
		if (fsync_dir(parent) < 0)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	return 0;
}

int store_body_finish(struct store_body_writer **writerp, struct store_body **body_r,
		      const char **error_r)
{
	struct store_body_writer *w = *writerp;
	struct store *store = w->store;
	struct store_body *body = NULL;
	char path[512], dir[512], h[2 * STORE_BODY_ID_LEN + 1];
	void *map = MAP_FAILED;

	if (w->too_big) {
		store_body_abort(writerp);
		*error_r = "message too big";
		return 0;
	}
	if (w->last_cr && writer_putc(w, '\n') < 0)
		goto fail;
	if (writer_flush(w) < 0)
		goto fail;
	body = calloc(1, sizeof(*body));
	if (body == NULL) {
		store_err(store, "out of memory");
		goto fail;
	}
	body->store = store;
	body->size = w->size;
	if (getrandom(body->id, sizeof(body->id), 0) != sizeof(body->id)) {
		store_err(store, "getrandom failed");
		goto fail;
	}
	/* The structure is computed once, here, and cached with the body. */
	if (w->size > 0) {
		map = mmap(NULL, w->size, PROT_READ, MAP_SHARED, w->fd, 0);
		if (map == MAP_FAILED) {
			store_err(store, "mmap %s: %s", w->tmppath, strerror(errno));
			goto fail;
		}
	}
	if (body_analyze(body, map != MAP_FAILED ? map : "", w->size) < 0)
		goto fail;
	if (w->size <= BODY_INLINE_MAX && body->mime_len <= BODY_MIME_INLINE_MAX) {
		/* Small: the bytes go into the delivering transaction's log,
		 * durable with it; the temporary file was never needed. */
		body->inline_data = malloc(w->size + 1);
		if (body->inline_data == NULL) {
			store_err(store, "out of memory");
			goto fail;
		}
		if (w->size > 0)
			memcpy(body->inline_data, map, w->size);
		if (map != MAP_FAILED)
			munmap(map, w->size);
		store_body_abort(writerp);
		*body_r = body;
		return 1;
	}
	if (map != MAP_FAILED)
		munmap(map, w->size);
	map = MAP_FAILED;

	if (fsync(w->fd) < 0) {
		store_err(store, "fsync %s: %s", w->tmppath, strerror(errno));
		goto fail;
	}
	hex(body->id, h);
	if (make_dirs(store, h) < 0) {
		store_err(store, "creating %s/%.2s/%.2s: %s", store->blobs, h, h + 2, strerror(errno));
		goto fail;
	}
	body_path(store, body->id, path, sizeof(path));
	if (rename(w->tmppath, path) < 0) {
		store_err(store, "rename %s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(dir, sizeof(dir), "%s/%.2s/%.2s", store->blobs, h, h + 2);
	if (body->mime_len > BODY_MIME_INLINE_MAX && body_mime_write(body, dir) < 0) {
		unlink(path);
		goto fail;
	}
	if (fsync_dir(dir) < 0) {
		store_err(store, "fsync %s: %s", dir, strerror(errno));
		unlink(path);
		goto fail;
	}
	close(w->fd);
	free(w);
	*writerp = NULL;
	*body_r = body;
	return 1;
fail:
	if (map != MAP_FAILED)
		munmap(map, w->size);
	store_body_free(&body);
	*error_r = store_last_error(store);
	store_body_abort(writerp);
	return -1;
}

int store_body_from_buffer(struct store *store, const void *data, size_t len,
			   struct store_body **body_r, const char **error_r)
{
	struct store_body_writer *w;
	if (store_body_create(store, &w, error_r) < 0)
		return -1;
	int r = store_body_write(w, data, len, error_r);
	if (r < 0) {
		store_body_abort(&w);
		return -1;
	}
	return store_body_finish(&w, body_r, error_r);
}

uint64_t store_body_size(const struct store_body *body)
{
	return body->size;
}

void store_body_free(struct store_body **bodyp)
{
	struct store_body *body = *bodyp;
	if (body == NULL)
		return;
	*bodyp = NULL;
	free(body->mime);
	free(body->inline_data);
	free(body);
}

/* ---- the bodies database ---- */

#define BODY_RECORD_VERSION 1

int body_record_put(struct store *store, DB_TXN *txn, const struct store_body *body,
		    uint32_t refcount)
{
	size_t cap = 64 + (body->mime_len <= BODY_MIME_INLINE_MAX ? body->mime_len : 0);
	uint8_t stored = body->inline_data != NULL ? BODY_STORED_INLINE : BODY_STORED_FILE;
	uint8_t *buf = malloc(cap);
	struct pack p;
	if (buf == NULL)
		return store_err(store, "out of memory");
	pack_init(&p, buf, cap);
	pack_u8(&p, BODY_RECORD_VERSION);
	pack_u32(&p, refcount);
	pack_u64(&p, body->size);
	pack_u64(&p, (uint64_t)time(NULL));
	if (body->mime_len <= BODY_MIME_INLINE_MAX) {
		pack_u8(&p, BODY_MIME_INLINE);
		pack_blob(&p, body->mime, body->mime_len);
	} else {
		pack_u8(&p, BODY_MIME_FILE);
		pack_blob(&p, NULL, 0);
	}
	pack_u8(&p, stored);
	int r = p.overflow ? store_err(store, "body record overflow")
		: store_put(store, DBI_BODIES, txn, body->id, STORE_BODY_ID_LEN, buf, p.len, 0);
	free(buf);
	if (r >= 0 && stored == BODY_STORED_INLINE)
		r = store_put(store, DBI_BODYDATA, txn, body->id, STORE_BODY_ID_LEN,
			      body->size > 0 ? body->inline_data : "", body->size, 0);
	return r;
}

int body_ref_txn(struct store *store, DB_TXN *txn, const uint8_t id[STORE_BODY_ID_LEN], int delta)
{
	uint8_t buf[64 + BODY_MIME_INLINE_MAX];
	size_t len;
	int r = store_get(store, DBI_BODIES, txn, id, STORE_BODY_ID_LEN, buf, sizeof(buf), &len, DB_RMW);
	if (r <= 0)
		return r < 0 ? r : store_err(store, "body record missing");
	if (len < 5 || buf[0] != BODY_RECORD_VERSION)
		return store_err(store, "bodies.db: bad record version");
	int64_t refcount = (int64_t)be32_get(buf + 1) + delta;
	if (refcount <= 0) {
		if ((r = store_del(store, DBI_BODIES, txn, id, STORE_BODY_ID_LEN)) < 0 ||
		    (r = store_del(store, DBI_BODYDATA, txn, id, STORE_BODY_ID_LEN)) < 0)
			return r;
		return 0;
	}
	be32_put(buf + 1, (uint32_t)refcount);
	r = store_put(store, DBI_BODIES, txn, id, STORE_BODY_ID_LEN, buf, len, 0);
	return r < 0 ? r : 1;
}

int body_record_get(struct store *store, DB_TXN *txn, const uint8_t id[STORE_BODY_ID_LEN],
		    struct body_record *rec)
{
	size_t len;
	int r = store_get(store, DBI_BODIES, txn, id, STORE_BODY_ID_LEN, rec->raw, sizeof(rec->raw),
			  &len, 0);
	if (r <= 0)
		return r;
	struct unpack u;
	unpack_init(&u, rec->raw, len);
	if (unpack_u8(&u) != BODY_RECORD_VERSION)
		return store_err(store, "bodies.db: bad record version");
	rec->refcount = unpack_u32(&u);
	rec->size = unpack_u64(&u);
	rec->created = (int64_t)unpack_u64(&u);
	rec->mime_where = unpack_u8(&u);
	rec->mime = unpack_blob(&u, &rec->mime_len);
	rec->stored = u.pos < u.len ? unpack_u8(&u) : BODY_STORED_FILE;
	if (u.error)
		return store_err(store, "bodies.db: truncated record");
	return 1;
}

int body_use_txn(struct store *store, DB_TXN *txn, const struct store_body *body, uint32_t n)
{
	struct body_record *rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return store_err(store, "out of memory");
	size_t len;
	int r = store_get(store, DBI_BODIES, txn, body->id, STORE_BODY_ID_LEN, rec->raw,
			  sizeof(rec->raw), &len, DB_RMW);
	if (r == 1) {
		if (len < 5 || rec->raw[0] != BODY_RECORD_VERSION)
			r = store_err(store, "bodies.db: bad record version");
		else {
			be32_put(rec->raw + 1, be32_get(rec->raw + 1) + n);
			r = store_put(store, DBI_BODIES, txn, body->id, STORE_BODY_ID_LEN, rec->raw, len, 0);
		}
	} else if (r == 0) {
		r = body_record_put(store, txn, body, n);
	}
	free(rec);
	return r < 0 ? r : 1;
}

struct inline_ctx {
	const uint8_t *id;
	char *data;
	size_t len;
};

static int inline_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct inline_ctx *c = ctx;
	free(c->data);
	c->data = malloc(BODY_INLINE_MAX + 1);
	if (c->data == NULL)
		return store_err(store, "out of memory");
	return store_get(store, DBI_BODYDATA, txn, c->id, STORE_BODY_ID_LEN, c->data,
			 BODY_INLINE_MAX + 1, &c->len, 0);
}

int body_fd_open(struct store *store, const uint8_t id[STORE_BODY_ID_LEN], uint8_t stored,
		 int *fd_r)
{
	char path[512];
	if (stored == BODY_STORED_FILE) {
		body_path(store, id, path, sizeof(path));
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : store_err(store, "%s: %s", path, strerror(errno));
		*fd_r = fd;
		return 1;
	}
	/* Readers (POP3, IMAP, the relay) stream from a descriptor: give them
	 * one over the inline bytes. */
	struct inline_ctx c = { .id = id };
	const char *error;
	int r = store_read(store, inline_txn, &c, &error);
	if (r <= 0) {
		free(c.data);
		return r;
	}
	int fd = memfd_create("pillarbox-body", MFD_CLOEXEC);
	size_t off = 0;
	while (fd >= 0 && off < c.len) {
		ssize_t n = write(fd, c.data + off, c.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			fd = -1;
			break;
		}
		off += (size_t)n;
	}
	free(c.data);
	if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		return store_err(store, "memfd for a body: %s", strerror(errno));
	*fd_r = fd;
	return 1;
}
