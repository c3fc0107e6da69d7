/* libFuzzer harness for `pillarbox import`: the mbox reader, the pipe from the
 * reader process to the importer, and Maildir file names (admin/import_*.c).
 * The reader parses a user's files with that user's rights; the importer,
 * as the store user, must take nothing on trust from it. Byte 0 picks:
 *   0  the rest is an mbox file. It is read twice: into the pipe, as the
 *      reader process does, and into a sink that checks each record and
 *      writes it down. import_pipe_read must then give back exactly what was
 *      written down (less what the pipe drops on purpose: empty or over-long
 *      keywords), and the reader's status;
 *   1  the rest is what a reader process sent, however broken or hostile:
 *      import_pipe_read stops cleanly or hands on records within every limit
 *      import.h states;
 *   2  the rest is a Maildir file name.
 * Bit 4 of byte 0 makes the size limit small (messages over it skipped). */
#define _GNU_SOURCE 1 /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SMALL 300
#define MAX_LARGE (1024 * 1024)

/* What a sink saw, in one canonical byte string. */
struct record {
	char *buf;
	size_t len, cap;
};

static void rec_add(struct record *r, const void *p, size_t len)
{
	if (len == 0)
		return;   /* p may be NULL (an empty message) */
	if (r->len + len > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + len)
			cap *= 2;
		r->buf = realloc(r->buf, cap);
		if (r->buf == NULL)
			abort();
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, len);
	r->len += len;
}

static void rec_str(struct record *r, const char *s, size_t max)
{
	size_t len = strnlen(s, max);
	rec_add(r, &len, sizeof(len));
	rec_add(r, s, len);
}

struct seen {
	struct record rec;
	uint64_t max_size;
	bool from_pipe;      /* the importer's side: the pipe's own limits hold */
	size_t messages;
};

static int seen_total(void *ctx, uint64_t units, enum import_unit unit)
{
	struct seen *s = ctx;
	uint32_t u = (uint32_t)unit;
	rec_add(&s->rec, "T", 1);
	rec_add(&s->rec, &units, sizeof(units));
	rec_add(&s->rec, &u, sizeof(u));
	return 0;
}

static int seen_folder(void *ctx, const char *name)
{
	struct seen *s = ctx;
	rec_add(&s->rec, "F", 1);
	rec_str(&s->rec, name, SIZE_MAX);
	return 0;
}

/* Where the message bytes are summed to, so the reads happen. */
static volatile uint8_t touched;

static int seen_message(void *ctx, const struct import_msg *msg)
{
	struct seen *s = ctx;
	uint8_t sum = 0;

	s->messages++;
	if (msg->len > s->max_size || msg->nkeywords > IMPORT_KEYWORDS_MAX ||
	    (msg->len > 0 && msg->data == NULL) || msg->source == NULL)
		abort();
	for (size_t i = 0; i < msg->len; i++)   /* every byte readable */
		sum += (uint8_t)msg->data[i];
	touched = sum;
	rec_add(&s->rec, "M", 1);
	rec_add(&s->rec, &msg->flags, sizeof(msg->flags));
	rec_add(&s->rec, &msg->date, sizeof(msg->date));
	rec_add(&s->rec, &msg->tz, sizeof(msg->tz));
	rec_add(&s->rec, &msg->done, sizeof(msg->done));
	for (size_t i = 0; i < msg->nkeywords; i++) {
		size_t len = strlen(msg->keywords[i]);
		if (s->from_pipe && (len == 0 || len > STORE_KEYWORD_MAX))
			abort();
		if (len == 0 || len > STORE_KEYWORD_MAX)
			continue;   /* the pipe drops these (the importer would refuse them) */
		rec_str(&s->rec, msg->keywords[i], SIZE_MAX);
	}
	rec_add(&s->rec, "|", 1);
	if (s->from_pipe && strlen(msg->source) >= IMPORT_SOURCE_MAX)
		abort();
	rec_str(&s->rec, msg->source, IMPORT_SOURCE_MAX - 1);
	rec_add(&s->rec, &msg->len, sizeof(msg->len));
	rec_add(&s->rec, msg->data, msg->len);
	return 0;
}

static int seen_note(void *ctx, enum import_note_kind kind, const char *text)
{
	struct seen *s = ctx;
	uint32_t k = (uint32_t)kind;
	if (kind < IMPORT_NOTE_INFO || kind > IMPORT_NOTE_FATAL ||
	    strlen(text) >= IMPORT_NOTE_MAX)
		abort();
	rec_add(&s->rec, "N", 1);
	rec_add(&s->rec, &k, sizeof(k));
	rec_str(&s->rec, text, IMPORT_NOTE_MAX - 1);
	return 0;
}

static void seen_sink(struct seen *s, struct import_sink *sink, uint64_t max_size, bool from_pipe)
{
	memset(s, 0, sizeof(*s));
	s->max_size = max_size;
	s->from_pipe = from_pipe;
	sink->total = seen_total;
	sink->folder = seen_folder;
	sink->message = seen_message;
	sink->note = seen_note;
	sink->ctx = s;
}

static int memfd_with(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_import", MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

static void fuzz_mbox(const uint8_t *data, size_t size, uint64_t max_size)
{
	struct import_sink sink;
	struct seen direct, piped;
	const char *error = NULL;

	/* the reader process: the file into the pipe, then its end record */
	int in = memfd_with(data, size), pipe_fd = memfd_with(NULL, 0);
	import_pipe_sink(pipe_fd, &sink);
	int status = import_mbox_read(in, "INBOX", size, max_size, &sink);
	if (import_pipe_end(pipe_fd, status) < 0 || lseek(pipe_fd, 0, SEEK_SET) != 0)
		abort();

	/* the same file read straight into a checking sink */
	if (lseek(in, 0, SEEK_SET) != 0)
		abort();
	seen_sink(&direct, &sink, max_size, false);
	if (import_mbox_read(in, "INBOX", size, max_size, &sink) != status)
		abort();   /* the same bytes, the same verdict */

	/* the importer's side */
	seen_sink(&piped, &sink, max_size, true);
	if (import_pipe_read(pipe_fd, max_size, &sink, &error) != status)
		abort();
	if (piped.rec.len != direct.rec.len || memcmp(piped.rec.buf, direct.rec.buf, direct.rec.len) != 0)
		abort();
	free(direct.rec.buf);
	free(piped.rec.buf);
	close(in);
	close(pipe_fd);
}

static void fuzz_pipe(const uint8_t *data, size_t size, uint64_t max_size)
{
	struct import_sink sink;
	struct seen s;
	const char *error = NULL;
	int fd = memfd_with(data, size);

	seen_sink(&s, &sink, max_size, true);
	int r = import_pipe_read(fd, max_size, &sink, &error);
	if (r == -1 && (error == NULL || error[0] == '\0'))
		abort();   /* a broken stream is said */
	free(s.rec.buf);
	close(fd);
}

static void fuzz_maildir_name(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	struct import_maildir_name parsed;

	if (name == NULL)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	if (import_maildir_name_parse(name, &parsed) &&
	    (parsed.base_len == 0 || parsed.base_len > strlen(name)))
		abort();
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint64_t max_size = (data[0] & 0x10) ? MAX_SMALL : MAX_LARGE;
	switch (data[0] & 0x0f) {
	case 0:
		fuzz_mbox(data + 1, size - 1, max_size);
		break;
	case 1:
		fuzz_pipe(data + 1, size - 1, max_size);
		break;
	case 2:
		fuzz_maildir_name(data + 1, size - 1);
		break;
	}
	return 0;
}
