/* The records an import reader sends to the importer over a pipe. Both ends
 * are the same binary, so the fixed parts are plain structs; every length is
 * checked on the reading side before anything is allocated, since the
 * reader parsed foreign files (as another user). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

enum pipe_type {
	PIPE_TOTAL = 0x544f544c,  /* "TOTL" */
	PIPE_FOLDER = 0x464f4c44, /* "FOLD" */
	PIPE_MSG = 0x4d534721,    /* "MSG!" */
	PIPE_NOTE = 0x4e4f5445,   /* "NOTE" */
	PIPE_END = 0x454e4421,    /* "END!" */
};

struct pipe_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t len;             /* payload bytes after the header */
};

struct pipe_total {
	uint64_t units;
	uint32_t unit;
	uint32_t reserved;
};

struct pipe_msg {
	uint32_t flags;
	int32_t tz;
	int64_t date;
	uint64_t done;
	uint32_t nkeywords;
	uint32_t keywords_len;    /* the names, each NUL-terminated */
	uint32_t source_len;      /* no NUL */
	uint32_t reserved;
	uint64_t data_len;
};

struct pipe_end {
	int32_t status;
	uint32_t reserved;
};

/* Payloads other than a message's data are small. */
#define PIPE_SMALL_MAX (IMPORT_NOTE_MAX + IMPORT_SOURCE_MAX + \
	IMPORT_KEYWORDS_MAX * (STORE_KEYWORD_MAX + 1) + sizeof(struct pipe_msg))

int import_note(const struct import_sink *sink, enum import_note_kind kind, const char *fmt, ...)
{
	char text[IMPORT_NOTE_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r = sink->note(sink->ctx, kind, text);
	return kind == IMPORT_NOTE_FATAL ? -1 : r;
}

/* ---- writing (the reader's side) ---- */

static int pipe_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pipe_record(int fd, uint32_t type, const void *a, size_t alen, const void *b,
		       size_t blen)
{
	struct pipe_header h = { type, 0, (uint64_t)alen + blen };

	if (pipe_write_all(fd, &h, sizeof(h)) < 0 || pipe_write_all(fd, a, alen) < 0 ||
	    (blen > 0 && pipe_write_all(fd, b, blen) < 0))
		return -1;
	return 0;
}

static int pipe_sink_total(void *ctx, uint64_t units, enum import_unit unit)
{
	struct pipe_total t = { units, (uint32_t)unit, 0 };

	return pipe_record(*(int *)ctx, PIPE_TOTAL, &t, sizeof(t), NULL, 0);
}

static int pipe_sink_folder(void *ctx, const char *name)
{
	return pipe_record(*(int *)ctx, PIPE_FOLDER, name, strlen(name), NULL, 0);
}

static int pipe_sink_note(void *ctx, enum import_note_kind kind, const char *text)
{
	uint32_t k = (uint32_t)kind;
	char buf[sizeof(k) + IMPORT_NOTE_MAX];
	size_t len = strnlen(text, IMPORT_NOTE_MAX - 1);

	memcpy(buf, &k, sizeof(k));
	memcpy(buf + sizeof(k), text, len);
	return pipe_record(*(int *)ctx, PIPE_NOTE, buf, sizeof(k) + len, NULL, 0);
}

static int pipe_sink_message(void *ctx, const struct import_msg *msg)
{
	char meta[sizeof(struct pipe_msg) + IMPORT_SOURCE_MAX +
		  IMPORT_KEYWORDS_MAX * (STORE_KEYWORD_MAX + 1)];
	struct pipe_msg m;
	size_t off = sizeof(m), source_len = strnlen(msg->source, IMPORT_SOURCE_MAX - 1);

	memset(&m, 0, sizeof(m));
	m.flags = msg->flags;
	m.tz = msg->tz;
	m.date = msg->date;
	m.done = msg->done;
	for (size_t i = 0; i < msg->nkeywords && i < IMPORT_KEYWORDS_MAX; i++) {
		size_t len = strlen(msg->keywords[i]);

		if (len == 0 || len > STORE_KEYWORD_MAX)
			continue; /* the importer would refuse it anyway */
		memcpy(meta + off, msg->keywords[i], len + 1);
		off += len + 1;
		m.nkeywords++;
	}
	m.keywords_len = (uint32_t)(off - sizeof(m));
	m.source_len = (uint32_t)source_len;
	memcpy(meta + off, msg->source, source_len);
	off += source_len;
	m.data_len = msg->len;
	memcpy(meta, &m, sizeof(m));
	return pipe_record(*(int *)ctx, PIPE_MSG, meta, off, msg->data, msg->len);
}

void import_pipe_sink(int fd, struct import_sink *sink)
{
	static int sink_fd;

	sink_fd = fd;
	sink->total = pipe_sink_total;
	sink->folder = pipe_sink_folder;
	sink->message = pipe_sink_message;
	sink->note = pipe_sink_note;
	sink->ctx = &sink_fd;
}

int import_pipe_end(int fd, int status)
{
	struct pipe_end e = { status, 0 };

	return pipe_record(fd, PIPE_END, &e, sizeof(e), NULL, 0);
}

/* ---- reading (the importer's side) ---- */

/* 1 read, 0 end of file before the first byte, -1 error or short. */
static int pipe_read_all(int fd, void *data, size_t len)
{
	char *p = data;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

static int pipe_msg_decode(char *payload, size_t len, const char *data, struct import_msg *msg,
			   char source[IMPORT_SOURCE_MAX], const char **error_r)
{
	struct pipe_msg m;
	const char *kw;
	size_t kwleft;

	memcpy(&m, payload, sizeof(m));
	if (m.nkeywords > IMPORT_KEYWORDS_MAX || m.source_len >= IMPORT_SOURCE_MAX ||
	    (uint64_t)sizeof(m) + m.keywords_len + m.source_len != len) {
		*error_r = "the reader sent a malformed message record";
		return -1;
	}
	memset(msg, 0, sizeof(*msg));
	msg->flags = m.flags;
	msg->tz = m.tz;
	msg->date = m.date;
	msg->done = m.done;
	kw = payload + sizeof(m);
	kwleft = m.keywords_len;
	for (uint32_t i = 0; i < m.nkeywords; i++) {
		size_t n = strnlen(kw, kwleft);

		if (n == kwleft || n == 0 || n > STORE_KEYWORD_MAX) {
			*error_r = "the reader sent a malformed keyword";
			return -1;
		}
		msg->keywords[msg->nkeywords++] = kw;
		kw += n + 1;
		kwleft -= n + 1;
	}
	if (kwleft != 0) {
		*error_r = "the reader sent a malformed keyword list";
		return -1;
	}
	memcpy(source, kw, m.source_len);
	source[m.source_len] = '\0';
	msg->source = source;
	msg->data = data;
	msg->len = (size_t)m.data_len;
	return 0;
}

int import_pipe_read(int fd, uint64_t max_size, const struct import_sink *sink,
		     const char **error_r)
{
	char *small = malloc(PIPE_SMALL_MAX + 1), *data = NULL;
	char source[IMPORT_SOURCE_MAX];
	size_t data_cap = 0;
	int result = -1;

	if (small == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	*error_r = "the reader ended without finishing (see the messages above)";
	for (;;) {
		struct pipe_header h;
		struct import_msg msg;
		size_t meta_len;
		int r = pipe_read_all(fd, &h, sizeof(h)), stop = 0;

		if (r <= 0)
			break;
		if (h.type == PIPE_MSG) {
			struct pipe_msg m;

			if (h.len < sizeof(m) || pipe_read_all(fd, small, sizeof(m)) <= 0)
				break;
			memcpy(&m, small, sizeof(m));
			/* Checked before allocating: the data, then the small parts. */
			if (m.data_len > max_size || m.data_len > h.len - sizeof(m) ||
			    h.len - sizeof(m) - m.data_len > PIPE_SMALL_MAX - sizeof(m)) {
				*error_r = "the reader sent a record past the limits";
				break;
			}
			meta_len = (size_t)(h.len - m.data_len);
			if (pipe_read_all(fd, small + sizeof(m), meta_len - sizeof(m)) <= 0)
				break;
			if (m.data_len + 1 > data_cap) {
				char *grown = realloc(data, (size_t)m.data_len + 1);

				if (grown == NULL) {
					*error_r = "out of memory";
					break;
				}
				data = grown;
				data_cap = (size_t)m.data_len + 1;
			}
			if (m.data_len > 0 && pipe_read_all(fd, data, (size_t)m.data_len) <= 0)
				break;
			if (pipe_msg_decode(small, meta_len, data, &msg, source, error_r) < 0)
				break;
			stop = sink->message(sink->ctx, &msg);
		} else {
			if (h.len > PIPE_SMALL_MAX) {
				*error_r = "the reader sent a record past the limits";
				break;
			}
			if (h.len > 0 && pipe_read_all(fd, small, (size_t)h.len) <= 0)
				break;
			small[h.len] = '\0';
			if (h.type == PIPE_TOTAL && h.len == sizeof(struct pipe_total)) {
				struct pipe_total t;

				memcpy(&t, small, sizeof(t));
				stop = sink->total(sink->ctx, t.units, (enum import_unit)t.unit);
			} else if (h.type == PIPE_FOLDER && strlen(small) == h.len) {
				stop = sink->folder(sink->ctx, small);
			} else if (h.type == PIPE_NOTE && h.len >= sizeof(uint32_t)) {
				uint32_t kind;

				memcpy(&kind, small, sizeof(kind));
				if (kind < IMPORT_NOTE_INFO || kind > IMPORT_NOTE_FATAL ||
				    strlen(small + sizeof(kind)) != h.len - sizeof(kind)) {
					*error_r = "the reader sent a malformed note";
					break;
				}
				stop = sink->note(sink->ctx, (enum import_note_kind)kind,
						  small + sizeof(kind));
			} else if (h.type == PIPE_END && h.len == sizeof(struct pipe_end)) {
				struct pipe_end e;

				memcpy(&e, small, sizeof(e));
				result = e.status;
				break;
			} else {
				*error_r = "the reader sent an unknown record";
				break;
			}
		}
		if (stop != 0) {
			result = -2;
			break;
		}
	}
	free(small);
	free(data);
	return result;
}
