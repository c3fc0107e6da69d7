/* Reading a message: its per-copy prefix, then its body (a file, or a
 * small body's bytes held in memory), by range. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "body.h"
#include "message.h"

struct store_msg_reader {
	int fd;                 /* a body file's, else -1 */
	char *data;             /* a small body's bytes (data_len), else NULL */
	size_t data_len;
	uint64_t size;          /* prefix + body */
	uint16_t prefix_len;
	void *mime;
	size_t mime_len;
	char prefix[STORE_PREFIX_MAX];
};

struct open_ctx {
	const struct store_msg *msg;
	bool with_bytes;
	struct msg_record rec;
	struct body_record body;
	void *mime;
	size_t mime_len;
	char *data;             /* a small body's bytes, read in the same transaction */
	size_t data_len;
};

static int open_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct open_ctx *c = ctx;
	int r = msg_record_get(store, txn, c->msg->mailbox_id, c->msg->uid, &c->rec, false);
	if (r <= 0)
		return r;
	r = body_record_get(store, txn, c->rec.msg.body_id, &c->body);
	if (r <= 0)
		return r < 0 ? r : store_err(store, "message %u/%u: its body record is missing",
					     c->msg->mailbox_id, c->msg->uid);
	free(c->mime);
	c->mime = NULL;
	c->mime_len = 0;
	if (c->body.mime_where == BODY_MIME_INLINE && c->body.mime_len > 0) {
		c->mime = malloc(c->body.mime_len);
		if (c->mime == NULL)
			return store_err(store, "out of memory");
		memcpy(c->mime, c->body.mime, c->body.mime_len);
		c->mime_len = c->body.mime_len;
	}
	/* 0: its row went with an expunge since this snapshot began */
	if (c->with_bytes && c->body.stored == BODY_STORED_INLINE)
		return body_inline_get_txn(store, txn, c->rec.msg.body_id, &c->data, &c->data_len);
	return 1;
}

/* with_bytes false: the structure alone, the body neither read nor opened. */
static int msg_open(struct store *store, const struct store_msg *msg, bool with_bytes,
		    struct store_msg_reader **reader_r, const char **error_r)
{
	struct open_ctx *c = calloc(1, sizeof(*c));
	struct store_msg_reader *reader = NULL;
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->msg = msg;
	c->with_bytes = with_bytes;
	int r = store_read(store, open_txn, c, error_r);
	if (r <= 0)
		goto out;
	if (c->body.mime_where == BODY_MIME_FILE &&
	    body_mime_read(store, c->rec.msg.body_id, &c->mime, &c->mime_len) < 0) {
		*error_r = store_last_error(store);
		r = -1;
		goto out;
	}
	reader = calloc(1, sizeof(*reader));
	if (reader == NULL) {
		*error_r = "out of memory";
		r = -1;
		goto out;
	}
	reader->fd = -1;
	reader->data = c->data;
	reader->data_len = c->data_len;
	c->data = NULL;
	/* 0: expunged by someone else between our read and the open: gone. */
	r = with_bytes && c->body.stored == BODY_STORED_FILE
		? body_fd_open(store, c->rec.msg.body_id, c->body.stored, &reader->fd) : 1;
	if (r <= 0) {
		if (r < 0)
			*error_r = store_last_error(store);
		free(reader->data);
		free(reader);
		reader = NULL;
		goto out;
	}
	reader->prefix_len = c->rec.msg.prefix_len;
	memcpy(reader->prefix, c->rec.prefix, reader->prefix_len);
	reader->size = c->body.size + reader->prefix_len;
	reader->mime = c->mime;
	reader->mime_len = c->mime_len;
	c->mime = NULL;
	*reader_r = reader;
	r = 1;
out:
	free(c->mime);
	free(c->data);
	free(c);
	return r;
}

int store_msg_open(struct store *store, const struct store_msg *msg,
		   struct store_msg_reader **reader_r, const char **error_r)
{
	return msg_open(store, msg, true, reader_r, error_r);
}

int store_msg_open_mime(struct store *store, const struct store_msg *msg,
			struct store_msg_reader **reader_r, const char **error_r)
{
	return msg_open(store, msg, false, reader_r, error_r);
}

ssize_t store_msg_read(struct store_msg_reader *reader, uint64_t offset, void *buf, size_t len)
{
	size_t done = 0;
	char *out = buf;
	if (offset >= reader->size || len == 0)
		return 0;
	if (offset < reader->prefix_len) {
		size_t n = reader->prefix_len - offset;
		if (n > len)
			n = len;
		memcpy(out, reader->prefix + offset, n);
		done = n;
		offset += n;
	}
	if (done < len && offset < reader->size && reader->data != NULL) {
		uint64_t at = offset - reader->prefix_len;
		size_t n = at < reader->data_len ? reader->data_len - (size_t)at : 0;
		if (n > len - done)
			n = len - done;
		if (n > 0)
			memcpy(out + done, reader->data + at, n);
		return (ssize_t)(done + n);
	}
	if (done < len && offset < reader->size && reader->fd < 0)
		return -1;   /* opened for its MIME structure alone */
	while (done < len && offset < reader->size) {
		ssize_t n = pread(reader->fd, out + done, len - done, (off_t)(offset - reader->prefix_len));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done > 0 ? (ssize_t)done : -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
		offset += (uint64_t)n;
	}
	return (ssize_t)done;
}

uint64_t store_msg_reader_size(const struct store_msg_reader *reader)
{
	return reader->size;
}

const void *store_msg_mime_cache(const struct store_msg_reader *reader, size_t *len_r)
{
	*len_r = reader->mime_len;
	return reader->mime;
}

uint16_t store_msg_prefix_len(const struct store_msg_reader *reader)
{
	return reader->prefix_len;
}

void store_msg_close(struct store_msg_reader **readerp)
{
	struct store_msg_reader *reader = *readerp;
	if (reader == NULL)
		return;
	*readerp = NULL;
	if (reader->fd >= 0)
		close(reader->fd);
	free(reader->data);
	free(reader->mime);
	free(reader);
}
