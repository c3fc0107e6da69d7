/* Inside the store: bodies and their cached MIME structure. */
#ifndef PB_BODY_H
#define PB_BODY_H

#include "store_int.h"

/* A MIME cache up to this size lives in the bodies record; a larger one in a
 * file "<id>.mime" beside the body, so records stay under a quarter of the
 * 16 KB page (no overflow pages: STORE-NOTES §2a). */
#define BODY_MIME_INLINE_MAX 3000
#define BODY_MIME_INLINE 0
#define BODY_MIME_FILE 1

/* Bodies up to this size (whose MIME cache is inline too) are kept in the
 * bodydata database instead of a file: one fsync per delivery (the log)
 * instead of three (file, directory, log). Measured: 1 process delivering
 * 5 KB messages went from 16-18% to about half of the disk's raw
 * synchronous-write rate. bodydata.db has 8 KB pages (stores made before
 * 2026-11-27: 64 KB): a body over 2 KB is an overflow item of one or two
 * pages, its leaf entry a reference. With 64 KB pages every dozen or so
 * deliveries split a leaf and logged its whole image: 13.4-17 KB of log per
 * 5 KB delivery against 7.9-8.4 KB now, for the same file size (8.1 KB per
 * 5 KB body; 64 KB leaves split in halves were 8.3 KB; 16 KB pages would
 * be 16.2 KB). Allocating overflow pages takes the file's metadata page
 * lock (STORE-NOTES §2a), but only in the short transaction that writes the
 * bytes before the delivery (body_data_prestore), never across a durable
 * commit. */
#define BODY_INLINE_MAX (15 * 1024)
#define BODY_STORED_FILE 0
#define BODY_STORED_INLINE 1

struct store_body {
	struct store *store;
	uint8_t id[STORE_BODY_ID_LEN];
	uint64_t size;
	void *mime;          /* mime_cache_encode() output */
	size_t mime_len;
	char *inline_data;   /* the bytes of a small body (BODY_STORED_INLINE), else NULL */
	/* summary for the message record */
	int64_t sent_date;
	int32_t sent_tz;
	char from[128];
	char subject[256];
	bool has_attachment;
	/* Octets a reader that ends every line with CRLF adds (POP3, RFC
	 * 1939 11): a CR before each bare LF (a binary body's), and the line
	 * end of a last line that has none. */
	uint64_t crlf_extra;
};

struct body_record {
	uint32_t refcount;
	uint64_t size;
	int64_t created;
	uint8_t mime_where;
	const void *mime;    /* points into raw when inline */
	size_t mime_len;
	uint8_t stored;      /* BODY_STORED_FILE or BODY_STORED_INLINE */
	uint8_t raw[64 + BODY_MIME_INLINE_MAX];
};

/* The header block of a body, its first bytes up to `max` (NUL-terminated),
 * read once by the delivery steps that look at it: the
 * recipients' filters and vacation replies. */
struct body_header {
	char *data;
	size_t len;
	bool complete;   /* the blank line that ends it is inside */
	bool loaded, failed;
};
void body_header_load(struct store *store, const struct store_body *body, size_t max,
		      struct body_header *h);
void body_header_free(struct body_header *h);

/* Parses data (the whole body) into body->mime and the summary fields. */
int body_analyze(struct store_body *body, const char *data, size_t len);
/* Writes body->mime to dir/<id>.mime (fsynced; the caller fsyncs dir). */
int body_mime_write(struct store_body *body, const char *dir);
/* Reads the cache of a body whose record says BODY_MIME_FILE (malloc'd). */
int body_mime_read(struct store *store, const uint8_t id[STORE_BODY_ID_LEN], void **data_r,
		   size_t *len_r);
int body_record_put(struct store *store, DB_TXN *txn, const struct store_body *body,
		    uint32_t refcount);
int body_record_get(struct store *store, DB_TXN *txn, const uint8_t id[STORE_BODY_ID_LEN],
		    struct body_record *rec);
/* A small body's bytes go into bodydata.db in a transaction of their own
 * before the one that references them (see body.c); release removes them
 * again when that one failed (unless a record refers to them), keeping the
 * store's error message. */
int body_data_prestore(struct store *store, const struct store_body *body, const char **error_r);
void body_data_release(struct store *store, const struct store_body *body);
/* bodydata rows without a record whose ids are older than `age` seconds
 * (at least BODY_DATA_GC_MIN_AGE: a delivery may be between its two
 * transactions) are removed, BODY_DATA_GC_BATCH rows looked at per call,
 * going on where the last call stopped. */
#define BODY_DATA_GC_MIN_AGE 3600
#define BODY_DATA_GC_BATCH 512
int store_body_data_gc(struct store *store, unsigned age, unsigned *removed_r,
		       const char **error_r);
/* Sets the body's reference count up by n, creating its record if new. */
int body_use_txn(struct store *store, DB_TXN *txn, const struct store_body *body, uint32_t n);
/* A small body's bytes (BODY_STORED_INLINE) into *data_r (malloc'd, freed
 * first): 1, 0 if the row is gone, -1 error. */
int body_inline_get_txn(struct store *store, DB_TXN *txn, const uint8_t id[STORE_BODY_ID_LEN],
			char **data_r, size_t *len_r);
/* A descriptor to read the body from, whatever its storage: the file, or a
 * memfd holding the inline bytes. 1 (*fd_r), 0 if the body is gone (expunged
 * meanwhile), -1 error. */
int body_fd_open(struct store *store, const uint8_t id[STORE_BODY_ID_LEN], uint8_t stored,
		 int *fd_r);
void body_id_hex(const uint8_t id[STORE_BODY_ID_LEN], char out[2 * STORE_BODY_ID_LEN + 1]);

#endif
