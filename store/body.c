/* Message bodies: immutable files beside the environment (STORE-NOTES §8),
 * or rows of bodydata.db for small ones (BODY_INLINE_MAX). Line ends are
 * made CRLF on the way in (the one canonical form every reader gets), except
 * in a binary body (IMAP's literal8, whose every byte is kept); the
 * bytes collect in a buffer, then (past its size) in blobs/tmp; a file body
 * is fsynced, renamed to blobs/ab/cd/<id>, directories fsynced; only then
 * may a transaction reference it. */
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
	uint64_t max;           /* max_message_size, plus what the system added */
	bool too_big;
	bool binary;            /* bytes kept as written (store_body_binary) */
	bool last_cr;           /* the previous chunk ended in CR */
	bool prev_cr;           /* binary: the last byte written was CR */
	uint64_t bare_lf;       /* binary: LFs without a CR before them */
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

/* Ids of small (bodydata.db) bodies: 1 byte from the thread id, the time in
 * nanoseconds, 7 random bytes. A process's bodies are consecutive keys in
 * bodies.db and bodydata.db, so its inserts land on the page it wrote last
 * (in the cache), while concurrent writers (their ids scattered by the
 * multiplication) write to different pages. With fully random ids every
 * insert went to a random page of the whole file: once bodydata.db (then
 * 64 KB pages) outgrew the cache, deliveries spent their time reading, copying
 * (MVCC) and evicting its pages (measured). */
static int body_id_make(uint8_t id[STORE_BODY_ID_LEN])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	id[0] = (uint8_t)(((uint32_t)gettid() * 2654435761u) >> 24);
	be64_put(id + 1, ns);
	return getrandom(id + 9, STORE_BODY_ID_LEN - 9, 0) == STORE_BODY_ID_LEN - 9 ? 0 : -1;
}

int store_body_create(struct store *store, struct store_body_writer **writer_r,
		      const char **error_r)
{
	struct store_body_writer *w = malloc(sizeof(*w));
	if (w == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	w->store = store;
	w->fd = -1;
	w->tmppath[0] = '\0';
	w->size = 0;
	w->too_big = false;
	w->binary = false;
	w->max = store->config->max_message_size;
	w->last_cr = false;
	w->prev_cr = false;
	w->bare_lf = 0;
	w->buflen = 0;
	*writer_r = w;
	return 1;
}

/* The temporary file is made only once the body outgrows the buffer, or
 * when finish needs a file: a small body that goes inline never touches the
 * file system (it saved an open, a write, an mmap and an unlink per
 * delivery). */
static int writer_open(struct store_body_writer *w)
{
	uint8_t rnd[8];
	char h[17];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return store_err(w->store, "getrandom failed");
	for (int i = 0; i < 8; i++)
		snprintf(h + 2 * i, 3, "%02x", rnd[i]);
	snprintf(w->tmppath, sizeof(w->tmppath), "%s/tmp/%s.%d", w->store->blobs, h, (int)getpid());
	w->fd = open(w->tmppath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		int err = errno;
		store_syserr(w->store, err, "%s: %s", w->tmppath, strerror(err));
		w->tmppath[0] = '\0';   /* not ours to remove */
		return -1;
	}
	return 0;
}

static int writer_flush(struct store_body_writer *w)
{
	size_t off = 0;
	if (w->fd < 0 && w->buflen > 0 && writer_open(w) < 0)
		return -1;
	while (off < w->buflen) {
		ssize_t n = write(w->fd, w->buf + off, w->buflen - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return store_syserr(w->store, errno, "writing %s: %s", w->tmppath,
					    strerror(errno));
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

/* Appends n bytes that hold no line end to convert. */
static int writer_put(struct store_body_writer *w, const char *p, size_t n)
{
	while (n > 0) {
		if (w->buflen == sizeof(w->buf) && writer_flush(w) < 0)
			return -1;
		size_t k = sizeof(w->buf) - w->buflen;
		if (k > n)
			k = n;
		memcpy(w->buf + w->buflen, p, k);
		w->buflen += k;
		w->size += k;
		p += k;
		n -= k;
	}
	return 0;
}

uint64_t store_body_writer_size(const struct store_body_writer *w)
{
	return w->size;
}

ssize_t store_body_writer_read(struct store_body_writer *w, void *buf, size_t len,
			       const char **error_r)
{
	/* The file holds what the buffer no longer does; a small body is all
	 * in the buffer (no file yet). */
	uint64_t in_file = w->size - w->buflen;
	size_t done = 0;
	while (done < len && done < in_file) {
		size_t want = len - done < in_file - done ? len - done : (size_t)(in_file - done);
		ssize_t n = pread(w->fd, (char *)buf + done, want, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			store_syserr(w->store, n < 0 ? errno : EIO, "reading %s: %s", w->tmppath,
				     n < 0 ? strerror(errno) : "short file");
			*error_r = store_last_error(w->store);
			return -1;
		}
		done += (size_t)n;
	}
	size_t from_buf = len - done < w->buflen ? len - done : w->buflen;
	memcpy((char *)buf + done, w->buf, from_buf);
	return (ssize_t)(done + from_buf);
}

void store_body_limit_add(struct store_body_writer *w, uint64_t len)
{
	w->max += len;
}

void store_body_binary(struct store_body_writer *w)
{
	w->binary = true;
}

/* A binary body's bare LFs in p[0..n), for crlf_extra. */
static void writer_count_bare_lf(struct store_body_writer *w, const char *p, size_t n)
{
	const char *end = p + n, *lf;

	if (n == 0)
		return;
	for (const char *q = p; (lf = memchr(q, '\n', (size_t)(end - q))) != NULL; q = lf + 1)
		w->bare_lf += !(lf > p ? lf[-1] == '\r' : w->prev_cr);
	w->prev_cr = end[-1] == '\r';
}

/* Bare CR and bare LF both become CRLF (not in a binary body). Runs between
 * line ends are copied whole (a byte at a time, this loop was 5% of a
 * delivery's CPU). */
int store_body_write(struct store_body_writer *w, const void *data, size_t len,
		     const char **error_r)
{
	const char *p = data, *end = p + len;
	uint64_t max = w->max;
	if (w->too_big)
		return 0;
	while (p < end) {
		int r = 0;
		if (w->last_cr) {
			w->last_cr = false;
			r = writer_putc(w, '\n');
			if (r == 0 && *p == '\n')
				p++;
		} else if (!w->binary && (*p == '\r' || *p == '\n')) {
			w->last_cr = *p == '\r';
			r = writer_putc(w, '\r');
			if (r == 0 && *p == '\n')
				r = writer_putc(w, '\n');
			p++;
		} else {
			const char *q = w->binary ? end : p;
			while (q < end && *q != '\r' && *q != '\n')
				q++;
			size_t n = (size_t)(q - p);
			/* Never more than one byte past the limit. */
			if (w->size <= max && n > max - w->size)
				n = (size_t)(max - w->size) + 1;
			if (w->binary)
				writer_count_bare_lf(w, p, n);
			r = writer_put(w, p, n);
			p += n;
		}
		if (r < 0) {
			*error_r = store_last_error(w->store);
			return -1;
		}
		if (w->size > max) {
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
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmppath[0] != '\0')
		unlink(w->tmppath);
	free(w);
}

/* The file's bytes on disk: fsync, then close, both checked. A write that
 * succeeded can still fail here (ENOSPC or EIO from ext4's delayed
 * allocation or a thin-provisioned disk, NFS reporting at close): then
 * the body is not stored. The file stays for the abort to remove. */
static int writer_sync_close(struct store_body_writer *w)
{
	int fd = w->fd;
	w->fd = -1;
	if (fsync(fd) < 0) {
		int err = errno;
		close(fd);
		return store_syserr(w->store, err, "fsync %s: %s", w->tmppath, strerror(err));
	}
	if (close(fd) < 0)
		return store_syserr(w->store, errno, "closing %s: %s", w->tmppath, strerror(errno));
	return 0;
}

/* mkdir blobs/ab and blobs/ab/cd as needed, fsyncing the parent of each new
 * directory so the rename below survives a crash. */
static int make_dirs(struct store *store, const char *h)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%.2s", store->blobs, h);
	if (mkdir(dir, 02770) == 0) {
		if (store_fsync_dir(store->blobs) < 0)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%.2s/%.2s", store->blobs, h, h + 2);
	if (mkdir(dir, 02770) == 0) {
		char parent[512];
		snprintf(parent, sizeof(parent), "%s/%.2s", store->blobs, h);
		if (store_fsync_dir(parent) < 0)
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
	const char *data = w->buf;
	bool in_file;

	if (w->too_big) {
		store_body_abort(writerp);
		*error_r = "message too big";
		return 0;
	}
	if (w->last_cr && writer_putc(w, '\n') < 0)
		goto fail;
	/* Still all in the buffer, or written out to the temporary file. */
	in_file = w->fd >= 0;
	if (in_file && writer_flush(w) < 0)
		goto fail;
	body = calloc(1, sizeof(*body));
	if (body == NULL) {
		store_err(store, "out of memory");
		goto fail;
	}
	body->store = store;
	body->size = w->size;
	/* The structure is computed once, here, and cached with the body. */
	if (in_file && w->size > 0) {
		map = mmap(NULL, w->size, PROT_READ, MAP_SHARED, w->fd, 0);
		if (map == MAP_FAILED) {
			store_err(store, "mmap %s: %s", w->tmppath, strerror(errno));
			goto fail;
		}
		data = map;
	}
	if (body_analyze(body, data, w->size) < 0)
		goto fail;
	/* Only a binary body keeps bare LFs; any body may end without a line
	 * end (a bare CR at the end of another was made CRLF above). */
	body->crlf_extra = w->bare_lf;
	if (w->size > 0 && data[w->size - 1] != '\n')
		body->crlf_extra += data[w->size - 1] == '\r' ? 1 : 2;
	bool small = w->size <= BODY_INLINE_MAX && body->mime_len <= BODY_MIME_INLINE_MAX;
	/* A file's id stays random: its hex spreads files over blobs/ab/cd. */
	if ((small ? body_id_make(body->id) :
	     getrandom(body->id, sizeof(body->id), 0) == sizeof(body->id) ? 0 : -1) < 0) {
		store_err(store, "getrandom failed");
		goto fail;
	}
	if (small) {
		/* Small: the bytes go into bodydata.db, durable with the
		 * delivery's commit; no file is needed. */
		body->inline_data = malloc(w->size + 1);
		if (body->inline_data == NULL) {
			store_err(store, "out of memory");
			goto fail;
		}
		if (w->size > 0)
			memcpy(body->inline_data, data, w->size);
		if (map != MAP_FAILED)
			munmap(map, w->size);
		store_body_abort(writerp);
		*body_r = body;
		return 1;
	}
	if (map != MAP_FAILED)
		munmap(map, w->size);
	map = MAP_FAILED;
	if (!in_file && (writer_open(w) < 0 || writer_flush(w) < 0))
		goto fail;
	/* Its blocks are counted now: room must be left for the database. */
	if (store_space_check(store, 0, error_r) == 0 || writer_sync_close(w) < 0)
		goto fail;
	hex(body->id, h);
	if (make_dirs(store, h) < 0) {
		store_syserr(store, errno, "creating %s/%.2s/%.2s: %s", store->blobs, h, h + 2,
			     strerror(errno));
		goto fail;
	}
	body_path(store, body->id, path, sizeof(path));
	if (rename(w->tmppath, path) < 0) {
		store_syserr(store, errno, "rename %s: %s", path, strerror(errno));
		goto fail;
	}
	w->tmppath[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/%.2s/%.2s", store->blobs, h, h + 2);
	if (body->mime_len > BODY_MIME_INLINE_MAX && body_mime_write(body, dir) < 0) {
		unlink(path);
		goto fail;
	}
	if (store_fsync_dir(dir) < 0) {
		store_syserr(store, errno, "fsync %s: %s", dir, strerror(errno));
		unlink(path);
		goto fail;
	}
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

static int bodydata_exists(struct store *store, DB_TXN *txn, const uint8_t id[STORE_BODY_ID_LEN],
			   uint32_t flags);

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
	if (r >= 0 && stored == BODY_STORED_INLINE) {
		/* Normally there already (body_data_prestore); the lookup
		 * takes no lock that outlives it. */
		int found = bodydata_exists(store, txn, body->id, DB_READ_COMMITTED);
		if (found < 0)
			r = found;
		else if (found == 0)
			r = store_put(store, DBI_BODYDATA, txn, body->id, STORE_BODY_ID_LEN,
				      body->size > 0 ? body->inline_data : "", body->size, 0);
	}
	return r;
}

/* ---- the bytes of small bodies, written before the delivery ----
 *
 * A small body's bytes are put into bodydata.db by a transaction of their
 * own, committed without a flush, before the transaction that references
 * them. Measured: when one delivery's insert split a 64 KB bodydata page it
 * held the file's metadata-page lock (page allocation) through its commit's
 * fsync, and that was the most frequent lock wait of 8 concurrent
 * deliverers (48 of 139 waiters sampled; 3 of 108 after this change).
 * Durability: the delivery's own durable commit comes later in the log and
 * flushes this one with it. A crash in between, or a delivery that fails,
 * leaves a row no bodies.db record points to: body_data_release removes it
 * at once, `store maintain` (store_body_data_gc) after a crash. */

/* 1 if a row (in bodydata, or with dbi in bodies) exists, 0 if not. */
static int row_exists(struct store *store, enum store_dbi dbi, DB_TXN *txn,
		      const uint8_t id[STORE_BODY_ID_LEN], uint32_t flags)
{
	uint8_t one;
	DBT k = { .data = (void *)id, .size = STORE_BODY_ID_LEN };
	DBT v = { .data = &one, .ulen = 1, .dlen = 0, .doff = 0,
		  .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
	int ret = store_db(store, dbi)->get(store_db(store, dbi), txn, &k, &v, flags);
	if (ret == DB_NOTFOUND || ret == DB_KEYEMPTY)
		return 0;
	if (ret != 0)
		return store_dberr(store, ret, store_dbspecs[dbi].file);
	return 1;
}

static int bodydata_exists(struct store *store, DB_TXN *txn, const uint8_t id[STORE_BODY_ID_LEN],
			   uint32_t flags)
{
	return row_exists(store, DBI_BODYDATA, txn, id, flags);
}

static int prestore_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	const struct store_body *body = ctx;
	int r = store_put(store, DBI_BODYDATA, txn, body->id, STORE_BODY_ID_LEN,
			  body->size > 0 ? body->inline_data : "", body->size, DB_NOOVERWRITE);
	return r < 0 ? r : 1;
}

int body_data_prestore(struct store *store, const struct store_body *body, const char **error_r)
{
	if (body->inline_data == NULL)
		return 1;
	return store_write_lazy(store, prestore_txn, (void *)body, error_r);
}

/* Deletes the bytes of body id unless a bodies record refers to them. */
static int release_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	const uint8_t *id = ctx;
	int r = row_exists(store, DBI_BODIES, txn, id, DB_RMW);
	if (r != 0)
		return r < 0 ? r : 1;
	r = store_del(store, DBI_BODYDATA, txn, id, STORE_BODY_ID_LEN);
	return r < 0 ? r : r == 1 ? 2 : 1;
}

void body_data_release(struct store *store, const struct store_body *body)
{
	if (body->inline_data == NULL)
		return;
	/* The caller's error (and its kind) outlives this transaction. */
	char saved[512];
	int kind = store_error_no_space(store) ? ENOSPC : 0;
	snprintf(saved, sizeof(saved), "%s", store_last_error(store));
	const char *error;
	(void)store_write_lazy(store, release_txn, (void *)body->id, &error);
	store_syserr(store, kind, "%s", saved);
}

/* Ids of body_id_make carry their creation time; older random ids give
 * some time or other, and their rows never lacked a record. */
static int64_t body_id_time(const uint8_t id[STORE_BODY_ID_LEN])
{
	return (int64_t)(be64_get(id + 1) / 1000000000u);
}

struct gc_ctx {
	uint8_t from[STORE_BODY_ID_LEN];
	bool from_set, wrapped;
	int64_t cutoff;
	unsigned scanned;
	size_t n;
	uint8_t found[BODY_DATA_GC_BATCH][STORE_BODY_ID_LEN];
};

/* A scan from where the last run stopped: rows without a record
 * whose id is older than the cutoff. */
static int gc_scan_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct gc_ctx *c = ctx;
	uint8_t kbuf[STORE_BODY_ID_LEN + 16], one;
	DBC *cur;
	c->n = 0;
	c->scanned = 0;
	c->wrapped = false;
	/* Read committed: bodydata.db is not multiversion (env.c), and a
	 * batch's page locks held to its end would stop deliveries. Rows
	 * found are checked again by release_txn. */
	int ret = store_db(store, DBI_BODYDATA)->cursor(store_db(store, DBI_BODYDATA), txn, &cur,
							DB_READ_COMMITTED);
	if (ret != 0)
		return store_dberr(store, ret, "bodydata cursor");
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = &one, .ulen = 1, .dlen = 0, .doff = 0,
		  .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
	if (c->from_set) {
		memcpy(kbuf, c->from, STORE_BODY_ID_LEN);
		k.size = STORE_BODY_ID_LEN;
		ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	} else {
		ret = cur->get(cur, &k, &v, DB_FIRST);
	}
	int r = 0;
	while (ret == 0 && c->scanned < BODY_DATA_GC_BATCH) {
		c->scanned++;
		if (k.size == STORE_BODY_ID_LEN && body_id_time(kbuf) < c->cutoff) {
			r = row_exists(store, DBI_BODIES, txn, kbuf, 0);
			if (r < 0)
				break;
			if (r == 0)
				memcpy(c->found[c->n++], kbuf, STORE_BODY_ID_LEN);
			r = 0;
		}
		ret = cur->get(cur, &k, &v, DB_NEXT);
	}
	if (r == 0 && ret == 0 && k.size == STORE_BODY_ID_LEN) {
		memcpy(c->from, kbuf, STORE_BODY_ID_LEN);
		c->from_set = true;
	} else if (r == 0 && ret == DB_NOTFOUND) {
		c->wrapped = true;
		ret = 0;
	}
	cur->close(cur);
	if (r < 0)
		return r;
	if (ret != 0)
		return store_dberr(store, ret, "bodydata cursor");
	return 1;
}

static int gc_pos_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct gc_ctx *c = ctx;
	static const char key[] = "bodydata gc";
	if (!c->from_set && !c->wrapped) {
		size_t len;
		int r = store_get(store, DBI_META, txn, key, sizeof(key) - 1, c->from,
				  STORE_BODY_ID_LEN, &len, 0);
		if (r < 0)
			return r;
		c->from_set = r == 1 && len == STORE_BODY_ID_LEN;
		return 1;
	}
	int r = c->wrapped ? store_del(store, DBI_META, txn, key, sizeof(key) - 1)
		: store_put(store, DBI_META, txn, key, sizeof(key) - 1, c->from, STORE_BODY_ID_LEN, 0);
	return r < 0 ? r : 1;
}

int store_body_data_gc(struct store *store, unsigned age, unsigned *removed_r,
		       const char **error_r)
{
	*removed_r = 0;
	if (age < BODY_DATA_GC_MIN_AGE)
		age = BODY_DATA_GC_MIN_AGE;
	struct gc_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->cutoff = (int64_t)time(NULL) - (int64_t)age;
	int r = store_read(store, gc_pos_txn, c, error_r);
	if (r == 1)
		r = store_read(store, gc_scan_txn, c, error_r);
	for (size_t i = 0; r == 1 && i < c->n; i++) {
		/* Checked again: a record may have come since the scan. */
		r = store_write(store, false, release_txn, c->found[i], error_r);
		if (r == 2) {
			(*removed_r)++;
			r = 1;
		}
	}
	if (r == 1)
		r = store_write(store, false, gc_pos_txn, c, error_r);
	free(c);
	return r < 0 ? -1 : 0;
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

int body_inline_get_txn(struct store *store, DB_TXN *txn, const uint8_t id[STORE_BODY_ID_LEN],
			char **data_r, size_t *len_r)
{
	free(*data_r);
	*data_r = malloc(BODY_INLINE_MAX + 1);
	if (*data_r == NULL)
		return store_err(store, "out of memory");
	/* bodydata.db is not multiversion (env.c): read committed, the
	 * page lock goes as soon as the row is read. */
	return store_get(store, DBI_BODYDATA, txn, id, STORE_BODY_ID_LEN, *data_r,
			 BODY_INLINE_MAX + 1, len_r, DB_READ_COMMITTED);
}

static int inline_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct inline_ctx *c = ctx;
	return body_inline_get_txn(store, txn, c->id, &c->data, &c->len);
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
	/* The relay streams from a descriptor: give it one over the inline
	 * bytes. */
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
