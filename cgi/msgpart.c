/* Opened messages and their parts (msgpart.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "codec.h"
#include "msgpart.h"
#include "rfc2047.h"

/* Bytes read from a body file per step of a stream. */
#define STREAM_CHUNK 65536
/* The header block shown by "all headers". */
#define HEADER_TEXT_MAX (256 * 1024)

int msgview_open_msg(struct store *store, const struct store_msg *msg, struct msgview *v,
		     const char **error_r)
{
	size_t len;
	*v = (struct msgview){ .msg = *msg };
	if (store_msg_open(store, &v->msg, &v->reader, error_r) < 0)
		return -1;
	v->prefix_len = store_msg_prefix_len(v->reader);
	const void *blob = store_msg_mime_cache(v->reader, &len);
	if (blob == NULL || mime_cache_decode(blob, len, &v->mime, error_r) <= 0) {
		if (blob == NULL)
			*error_r = "the message has no MIME structure";
		store_msg_close(&v->reader);
		return -1;
	}
	return 1;
}

int msgview_open(struct store *store, uint32_t mailbox_id, uint32_t uid, struct msgview *v,
		 const char **error_r)
{
	struct store_msg msg;
	*v = (struct msgview){ 0 };
	int r = store_msg_get(store, mailbox_id, uid, &msg, error_r);
	if (r <= 0)
		return r;
	return msgview_open_msg(store, &msg, v, error_r);
}

void msgview_close(struct msgview *v)
{
	if (v->mime != NULL)
		mime_message_free(&v->mime);
	if (v->reader != NULL)
		store_msg_close(&v->reader);
}

const struct mime_part *msgview_part(const struct msgview *v, uint32_t index)
{
	return index < v->mime->nparts ? v->mime->parts[index] : NULL;
}

uint32_t msgview_part_index(const struct msgview *v, const struct mime_part *part)
{
	for (uint32_t i = 0; i < v->mime->nparts; i++) {
		if (v->mime->parts[i] == part)
			return i;
	}
	return 0;
}

bool part_is(const struct mime_part *part, const char *type, const char *subtype)
{
	return strcmp(part->type, type) == 0 && (subtype == NULL || strcmp(part->subtype, subtype) == 0);
}

const char *msgview_part_fallback_name(struct arena *a, const struct msgview *v,
				       const struct mime_part *part)
{
	/* RFC 3464's and RFC 8098's reports are lines of text */
	bool text = part_is(part, "text", NULL) || part_is(part, "message", "delivery-status") ||
		    part_is(part, "message", "global-delivery-status") ||
		    part_is(part, "message", "disposition-notification");

	return arena_printf(a, "part-%u.%s", msgview_part_index(v, part),
			    part_is(part, "text", "html") ? "html" : text ? "txt" : "bin");
}

uint64_t msgview_part_size(const struct mime_part *part)
{
	if (part->transfer == MIME_ENC_BASE64) {
		/* every line but the last ends in CRLF (or LF) */
		uint64_t breaks = part->body_lines * 2 > part->body_len ? 0 : part->body_lines * 2;
		return (part->body_len - breaks) / 4 * 3;
	}
	return part->body_len;
}

/* Reads len bytes at offset of the body (after the prefix). */
static int read_range(struct msgview *v, uint64_t offset, size_t len, char *dst,
		      const char **error_r)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = store_msg_read(v->reader, v->prefix_len + offset + got, dst + got,
					   len - got);
		if (n < 0) {
			*error_r = "cannot read the message body";
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != len) {
		*error_r = "the message body is shorter than its structure says";
		return -1;
	}
	return 0;
}

int msgview_part_decode(struct msgview *v, const struct mime_part *part, size_t max, bool text,
			char **out_r, size_t *len_r, bool *truncated_r, const char **error_r)
{
	size_t len = part->body_len > max ? max : (size_t)part->body_len;
	*truncated_r = part->body_len > max;
	char *raw = malloc(len + 1);
	if (raw == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (read_range(v, part->body_offset, len, raw, error_r) < 0) {
		free(raw);
		return -1;
	}
	char *dec = raw;
	size_t dlen = len;
	if (part->transfer == MIME_ENC_BASE64 || part->transfer == MIME_ENC_QP) {
		dec = malloc(part->transfer == MIME_ENC_BASE64 ? BASE64_DECODED_MAX(len) + 1
							       : QP_DECODED_MAX(len) + 1);
		if (dec == NULL) {
			free(raw);
			*error_r = "out of memory";
			return -1;
		}
		dlen = part->transfer == MIME_ENC_BASE64 ? base64_decode(raw, len, dec, NULL)
							 : qp_decode(raw, len, dec, NULL);
		free(raw);
	}
	dec[dlen] = '\0';
	if (!text) {
		*out_r = dec;
		*len_r = dlen;
		return 1;
	}
	const char *charset = mime_params_get(&part->params, "charset");
	char *utf8;
	int r = charset_to_utf8(charset != NULL ? charset : "", dec, dlen, &utf8, len_r);
	free(dec);
	if (r < 0) {
		*error_r = "out of memory";
		return -1;
	}
	*out_r = utf8;
	return 1;
}

/* ---------------------------------------------------------------- streams */

struct part_stream {
	struct msgview view;
	uint64_t pos, end;      /* body offsets still to read */
	enum mime_encoding transfer;
	struct base64_decoder b64;
	struct qp_decoder qp;
	bool finished;
	char in[STREAM_CHUNK];
};

static ssize_t part_stream_read(void *ctx, char *buf, size_t max)
{
	struct part_stream *s = ctx;
	const char *error;
	if (s->finished)
		return 0;
	/* input that decodes into at most `max` bytes */
	size_t want = max;
	if (s->transfer == MIME_ENC_BASE64)
		want = max < 16 ? 0 : (max - 3) / 3 * 4;
	else if (s->transfer == MIME_ENC_QP)
		want = max < QP_PENDING_MAX + 8 ? 0 : max - QP_PENDING_MAX - 8;
	if (want > sizeof(s->in))
		want = sizeof(s->in);
	if (want == 0)
		return -1;
	for (;;) {
		size_t n = s->end - s->pos < want ? (size_t)(s->end - s->pos) : want;
		if (n == 0) {
			s->finished = true;
			if (s->transfer == MIME_ENC_QP)
				return (ssize_t)qp_decode_finish(&s->qp, buf);
			return 0;
		}
		if (read_range(&s->view, s->pos, n, s->in, &error) < 0)
			return -1;
		s->pos += n;
		size_t out;
		switch (s->transfer) {
		case MIME_ENC_BASE64:
			out = base64_decode_update(&s->b64, s->in, n, buf);
			break;
		case MIME_ENC_QP:
			out = qp_decode_update(&s->qp, s->in, n, buf);
			break;
		default:
			memcpy(buf, s->in, n);
			out = n;
		}
		if (out > 0)
			return (ssize_t)out;
		/* all whitespace: read on */
	}
}

static void part_stream_close(void *ctx)
{
	struct part_stream *s = ctx;
	msgview_close(&s->view);
	free(s);
}

int msgview_part_stream(struct msgview *v, const struct mime_part *part, struct http_stream *st)
{
	struct part_stream *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	s->view = *v;
	*v = (struct msgview){ 0 };
	s->pos = part->body_offset;
	s->end = part->body_offset + part->body_len;
	s->transfer = part->transfer;
	base64_decoder_init(&s->b64);
	qp_decoder_init(&s->qp);
	*st = (struct http_stream){ .read = part_stream_read, .close = part_stream_close, .ctx = s,
				    .length = -1 };
	if (s->transfer != MIME_ENC_BASE64 && s->transfer != MIME_ENC_QP)
		st->length = (int64_t)part->body_len;
	return 0;
}

struct raw_stream {
	struct msgview view;
	uint64_t pos, size;
};

static ssize_t raw_stream_read(void *ctx, char *buf, size_t max)
{
	struct raw_stream *s = ctx;
	if (s->pos >= s->size)
		return 0;
	ssize_t n = store_msg_read(s->view.reader, s->pos, buf, max);
	if (n > 0)
		s->pos += (uint64_t)n;
	return n;
}

static void raw_stream_close(void *ctx)
{
	struct raw_stream *s = ctx;
	msgview_close(&s->view);
	free(s);
}

int msgview_raw_stream(struct msgview *v, struct http_stream *st)
{
	struct raw_stream *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	s->view = *v;
	*v = (struct msgview){ 0 };
	s->size = store_msg_reader_size(s->view.reader);
	*st = (struct http_stream){ .read = raw_stream_read, .close = raw_stream_close, .ctx = s,
				    .length = (int64_t)s->size };
	return 0;
}

char *msgview_header_text(struct msgview *v, const struct mime_part *part, struct arena *a)
{
	const char *error;
	uint64_t off = part->header_offset, len = part->header_len;
	bool root = part->parent == NULL;
	if (root) {
		/* the per-copy prefix (Return-Path, Delivered-To) belongs too */
		len += v->prefix_len;
	}
	if (len > HEADER_TEXT_MAX)
		len = HEADER_TEXT_MAX;
	char *text = arena_alloc(a, (size_t)len + 1);
	if (text == NULL)
		return NULL;
	if (root) {
		ssize_t n = 0;
		size_t got = 0;
		while (got < len && (n = store_msg_read(v->reader, got, text + got, (size_t)len - got)) > 0)
			got += (size_t)n;
		if (got != len)
			return NULL;
	} else if (read_range(v, off, (size_t)len, text, &error) < 0) {
		return NULL;
	}
	text[len] = '\0';
	return text;
}

const char *header_decode(struct arena *a, const char *raw)
{
	char *out;
	size_t len;
	if (raw == NULL)
		return "";
	if (rfc2047_decode(raw, strlen(raw), &out, &len) < 0)
		return "";
	char *copy = arena_strndup(a, out, len);
	free(out);
	return copy != NULL ? copy : "";
}
