/* Reading an mbox file for import (mboxrd and mboxo).
 *
 * A message starts with a "From SENDER DATE" line: the first line of the
 * file, and later any "From " line whose rest ends in a date (so a stray
 * unquoted "From " in an mboxo body does not split a message unless it looks
 * exactly like a separator). The blank line a writer puts before the next
 * "From " line is not part of the message. Quoted lines ">From ", ">>From "
 * lose one '>' (mboxrd; for mboxo files only ">From " is ever quoted, so the
 * two agree except on lines that were ">From " in the original mail).
 * Status:, X-Status: and X-Keywords: header fields carry the flags (as
 * mutt, Pine and Dovecot's mbox write them, and as `pillarbox export mbox`
 * writes them); they are read and removed from the message.
 *
 * Input is read in chunks; a message is collected in memory up to
 * max_message_size (larger ones are skipped with a note). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "datetime.h"
#include "import.h"

/* Input chunk; also the longest line prefix looked at for "From " and
 * quoting (a longer line is passed on in pieces). */
#define MBOX_CHUNK 65536
/* Collected X-Keywords: text of one message. */
#define MBOX_KEYWORDS_TEXT_MAX 4096

struct mbox_reader {
	int fd;
	const struct import_sink *sink;
	uint64_t max_size;
	uint64_t consumed;        /* input bytes handed to the parser */
	char in[MBOX_CHUNK];
	size_t in_pos, in_len;
	bool eof;
	/* the message being collected */
	bool have_msg, too_big;
	char *msg;
	size_t msg_len, msg_cap;
	int64_t date;
	int32_t tz;
	uint64_t count, line_no, msg_line;
};

int import_mbox_from_date(const char *rest, size_t len, int64_t *date_r, int32_t *tz_r)
{
	size_t i = 0;
	time_t t;
	int tz;

	while (len > 0 && (rest[len - 1] == '\n' || rest[len - 1] == '\r' || rest[len - 1] == ' '))
		len--;
	/* The sender (no spaces in any writer we know), then the date. */
	while (i < len && rest[i] != ' ')
		i++;
	while (i < len && rest[i] == ' ')
		i++;
	if (i == len || !datetime_parse(rest + i, len - i, &t, &tz))
		return 0;
	*date_r = (int64_t)t;
	*tz_r = tz;
	return 1;
}

void import_mbox_field(enum import_mbox_field field, char *value, uint32_t *flags,
		       const char **keywords, size_t *nkeywords_r, size_t *dropped_r)
{
	char *p = value;

	if (field != IMPORT_MBOX_X_KEYWORDS) {
		for (; *p != '\0'; p++) {
			if (field == IMPORT_MBOX_STATUS && *p == 'R')
				*flags |= STORE_FLAG_SEEN;
			else if (field == IMPORT_MBOX_X_STATUS && *p == 'A')
				*flags |= STORE_FLAG_ANSWERED;
			else if (field == IMPORT_MBOX_X_STATUS && *p == 'F')
				*flags |= STORE_FLAG_FLAGGED;
			else if (field == IMPORT_MBOX_X_STATUS && *p == 'T')
				*flags |= STORE_FLAG_DRAFT;
			else if (field == IMPORT_MBOX_X_STATUS && *p == 'D')
				*flags |= STORE_FLAG_DELETED;
		}
		return;
	}
	/* Names separated by blanks or commas. */
	for (;;) {
		size_t skip = strspn(p, " \t,\r\n"), n;

		p += skip;
		if (*p == '\0')
			break;
		n = strcspn(p, " \t,\r\n");
		if (*nkeywords_r < IMPORT_KEYWORDS_MAX)
			keywords[(*nkeywords_r)++] = p;
		else
			(*dropped_r)++;
		p += n;
		if (*p == '\0')
			break;
		*p++ = '\0';
	}
}

/* ---- input ---- */

/* The next piece of input: a whole line (with its LF) when it fits the
 * buffer, else a part of it. *complete_r says whether it ends the line.
 * Returns 1, 0 at the end, -1 on a read error. */
static int mbox_piece(struct mbox_reader *rd, const char **p_r, size_t *len_r, bool *complete_r)
{
	for (;;) {
		char *start = rd->in + rd->in_pos;
		size_t avail = rd->in_len - rd->in_pos;
		char *lf = memchr(start, '\n', avail);
		ssize_t n;

		if (lf != NULL || (rd->eof && avail > 0) || (avail == sizeof(rd->in))) {
			size_t len = lf != NULL ? (size_t)(lf - start) + 1 : avail;

			*p_r = start;
			*len_r = len;
			*complete_r = lf != NULL || rd->eof;
			rd->in_pos += len;
			rd->consumed += len;
			return 1;
		}
		if (rd->eof)
			return 0;
		memmove(rd->in, start, avail);
		rd->in_pos = 0;
		rd->in_len = avail;
		n = read(rd->fd, rd->in + avail, sizeof(rd->in) - avail);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			rd->eof = true;
		rd->in_len += (size_t)n;
	}
}

/* ---- the message being collected ---- */

static int msg_add(struct mbox_reader *rd, const char *p, size_t len)
{
	if (rd->too_big)
		return 0;
	if (rd->msg_len + len > rd->max_size) {
		rd->too_big = true;
		return 0;
	}
	if (rd->msg_len + len > rd->msg_cap) {
		size_t cap = rd->msg_cap == 0 ? MBOX_CHUNK : rd->msg_cap;
		char *grown;

		while (cap < rd->msg_len + len)
			cap *= 2;
		grown = realloc(rd->msg, cap);
		if (grown == NULL)
			return import_note(rd->sink, IMPORT_NOTE_FATAL, "out of memory");
		rd->msg = grown;
		rd->msg_cap = cap;
	}
	memcpy(rd->msg + rd->msg_len, p, len);
	rd->msg_len += len;
	return 0;
}

/* The length of `name` if the line starts that header field, else 0. */
static size_t field_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':' ? n : 0;
}

/* Takes Status:, X-Status: and X-Keywords: out of the header of the
 * collected message, into the flags and keyword text. */
static void msg_status_fields(struct mbox_reader *rd, uint32_t *flags,
			      char kwtext[MBOX_KEYWORDS_TEXT_MAX], bool *kw_cut)
{
	size_t pos = 0, kwlen = 0;

	while (pos < rd->msg_len) {
		char *line = rd->msg + pos, *lf;
		size_t end, len;
		enum import_mbox_field field;
		char value[MBOX_KEYWORDS_TEXT_MAX];
		size_t vlen = 0, name_len;

		if (line[0] == '\n' || (line[0] == '\r' && pos + 1 < rd->msg_len && line[1] == '\n'))
			break; /* the end of the header */
		lf = memchr(line, '\n', rd->msg_len - pos);
		len = lf != NULL ? (size_t)(lf - line) + 1 : rd->msg_len - pos;
		if ((name_len = field_is(line, len, "Status")) > 0)
			field = IMPORT_MBOX_STATUS;
		else if ((name_len = field_is(line, len, "X-Status")) > 0)
			field = IMPORT_MBOX_X_STATUS;
		else if ((name_len = field_is(line, len, "X-Keywords")) > 0)
			field = IMPORT_MBOX_X_KEYWORDS;
		else {
			pos += len;
			continue;
		}
		/* The field with its continuation lines, unfolded into value. */
		end = pos + len;
		while (end < rd->msg_len && (rd->msg[end] == ' ' || rd->msg[end] == '\t')) {
			lf = memchr(rd->msg + end, '\n', rd->msg_len - end);
			end = lf != NULL ? (size_t)(lf - rd->msg) + 1 : rd->msg_len;
		}
		for (size_t i = pos + name_len + 1; i < end; i++) {
			char c = rd->msg[i];

			if (vlen + 1 < sizeof(value))
				value[vlen++] = c == '\r' || c == '\n' ? ' ' : c;
			else if (field == IMPORT_MBOX_X_KEYWORDS)
				*kw_cut = true;
		}
		value[vlen] = '\0';
		if (field == IMPORT_MBOX_X_KEYWORDS) {
			if (kwlen + vlen + 2 < MBOX_KEYWORDS_TEXT_MAX) {
				kwtext[kwlen++] = ' ';
				memcpy(kwtext + kwlen, value, vlen);
				kwlen += vlen;
				kwtext[kwlen] = '\0';
			} else {
				*kw_cut = true;
			}
		} else {
			size_t none = 0;

			import_mbox_field(field, value, flags, NULL, &none, &none);
		}
		memmove(rd->msg + pos, rd->msg + end, rd->msg_len - end);
		rd->msg_len -= end - pos;
	}
}

static int msg_finish(struct mbox_reader *rd)
{
	char source[IMPORT_SOURCE_MAX], kwtext[MBOX_KEYWORDS_TEXT_MAX] = "";
	struct import_msg msg;
	size_t dropped = 0;
	bool kw_cut = false;
	size_t n = rd->msg_len;

	if (!rd->have_msg)
		return 0;
	rd->have_msg = false;
	rd->count++;
	snprintf(source, sizeof(source), "message %llu (line %llu)", (unsigned long long)rd->count,
		 (unsigned long long)rd->msg_line);
	if (rd->too_big)
		return import_note(rd->sink, IMPORT_NOTE_SKIP, "%s: larger than max_message_size",
				   source);
	/* The blank line before the next From line is the writer's. */
	if (n >= 2 && rd->msg[n - 1] == '\n' && rd->msg[n - 2] == '\n')
		n--;
	else if (n >= 3 && rd->msg[n - 1] == '\n' && rd->msg[n - 2] == '\r' && rd->msg[n - 3] == '\n')
		n -= 2;
	rd->msg_len = n;

	memset(&msg, 0, sizeof(msg));
	msg_status_fields(rd, &msg.flags, kwtext, &kw_cut);
	import_mbox_field(IMPORT_MBOX_X_KEYWORDS, kwtext, &msg.flags, msg.keywords, &msg.nkeywords,
			  &dropped);
	if (kw_cut || dropped > 0) {
		int r = import_note(rd->sink, IMPORT_NOTE_INFO, "%s: too many keywords, some "
				    "dropped", source);
		if (r != 0)
			return r;
	}
	msg.date = rd->date;
	msg.tz = rd->tz;
	msg.data = rd->msg;
	msg.len = rd->msg_len;
	msg.source = source;
	msg.done = rd->consumed;
	return rd->sink->message(rd->sink->ctx, &msg);
}

static void msg_start(struct mbox_reader *rd, const char *line, size_t len)
{
	rd->have_msg = true;
	rd->too_big = false;
	rd->msg_len = 0;
	rd->msg_line = rd->line_no;
	rd->date = 0;
	rd->tz = 0;
	if (!import_mbox_from_date(line + 5, len - 5, &rd->date, &rd->tz))
		rd->date = 0;
}

int import_mbox_read(int fd, const char *folder, uint64_t total_bytes, uint64_t max_size,
		     const struct import_sink *sink)
{
	struct mbox_reader *rd = calloc(1, sizeof(*rd));
	bool line_start = true;
	int r;

	if (rd == NULL) {
		import_note(sink, IMPORT_NOTE_FATAL, "out of memory");
		return -1;
	}
	rd->fd = fd;
	rd->sink = sink;
	rd->max_size = max_size;
	r = sink->total(sink->ctx, total_bytes, IMPORT_UNIT_BYTES);
	if (r == 0)
		r = sink->folder(sink->ctx, folder);
	while (r == 0) {
		const char *p;
		size_t len, quotes = 0;
		bool complete;
		int got = mbox_piece(rd, &p, &len, &complete);

		if (got < 0) {
			r = import_note(sink, IMPORT_NOTE_FATAL, "reading: %s", strerror(errno));
			break;
		}
		if (got == 0)
			break;
		if (!line_start) {
			r = msg_add(rd, p, len);
			line_start = complete;
			continue;
		}
		rd->line_no++;
		line_start = complete;
		if (len >= 5 && memcmp(p, "From ", 5) == 0) {
			int64_t date;
			int32_t tz;

			if (rd->line_no == 1 || import_mbox_from_date(p + 5, len - 5, &date, &tz)) {
				r = msg_finish(rd);
				msg_start(rd, p, len);
				continue;
			}
		}
		if (rd->line_no == 1) {
			r = import_note(sink, IMPORT_NOTE_FATAL, "not an mbox file: the first line "
					"is not a \"From \" line");
			break;
		}
		while (quotes < len && p[quotes] == '>')
			quotes++;
		if (quotes > 0 && len - quotes >= 5 && memcmp(p + quotes, "From ", 5) == 0) {
			p++;
			len--;
		}
		r = msg_add(rd, p, len);
	}
	if (r == 0)
		r = msg_finish(rd);
	free(rd->msg);
	free(rd);
	return r == 0 ? 0 : -1;
}
