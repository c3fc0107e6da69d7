/* The import readers without a store: modified UTF-7 names, Maildir file
 * names, mbox From lines and status fields, whole Maildir and mbox sources
 * read into a collecting sink, and the pipe records between reader and
 * importer (round trip, and records past the limits refused). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "import.h"

/* ------------------------------------------------------------ a test sink */

#define SINK_MAX 16

struct got_msg {
	char folder[STORE_MAILBOX_NAME_MAX + 1];
	char *data;
	size_t len;
	uint32_t flags;
	int64_t date;
	size_t nkeywords;
	char keywords[IMPORT_KEYWORDS_MAX][STORE_KEYWORD_MAX + 1];
	char source[IMPORT_SOURCE_MAX];
	uint64_t done;
};

struct collected {
	uint64_t total;
	enum import_unit unit;
	char folder[STORE_MAILBOX_NAME_MAX + 1];
	char folders[SINK_MAX][STORE_MAILBOX_NAME_MAX + 1];
	size_t nfolders;
	struct got_msg msgs[SINK_MAX];
	size_t n;
	unsigned notes[4];
	char last_note[IMPORT_NOTE_MAX];
};

static int c_total(void *ctx, uint64_t units, enum import_unit unit)
{
	struct collected *c = ctx;

	c->total = units;
	c->unit = unit;
	return 0;
}

static int c_folder(void *ctx, const char *name)
{
	struct collected *c = ctx;

	assert_true(c->nfolders < SINK_MAX);
	snprintf(c->folder, sizeof(c->folder), "%s", name);
	snprintf(c->folders[c->nfolders++], sizeof(c->folder), "%s", name);
	return 0;
}

static int c_message(void *ctx, const struct import_msg *msg)
{
	struct collected *c = ctx;
	struct got_msg *g;

	assert_true(c->n < SINK_MAX);
	g = &c->msgs[c->n++];
	snprintf(g->folder, sizeof(g->folder), "%s", c->folder);
	g->data = malloc(msg->len + 1);
	assert_non_null(g->data);
	memcpy(g->data, msg->data, msg->len);
	g->data[msg->len] = '\0';
	g->len = msg->len;
	g->flags = msg->flags;
	g->date = msg->date;
	g->nkeywords = msg->nkeywords;
	for (size_t i = 0; i < msg->nkeywords; i++)
		snprintf(g->keywords[i], sizeof(g->keywords[i]), "%s", msg->keywords[i]);
	snprintf(g->source, sizeof(g->source), "%s", msg->source);
	g->done = msg->done;
	return 0;
}

static int c_note(void *ctx, enum import_note_kind kind, const char *text)
{
	struct collected *c = ctx;

	c->notes[kind]++;
	snprintf(c->last_note, sizeof(c->last_note), "%s", text);
	return 0;
}

static struct collected *collected_new(struct import_sink *sink)
{
	struct collected *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	sink->total = c_total;
	sink->folder = c_folder;
	sink->message = c_message;
	sink->note = c_note;
	sink->ctx = c;
	return c;
}

static void collected_free(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->msgs[i].data);
	free(c);
}

/* --------------------------------------------------------- Maildir names */

static void test_maildir_name(void **state)
{
	struct import_maildir_name n;

	(void)state;
	assert_true(import_maildir_name_parse("1700000000.M20P1.host,S=1234,W=1260:2,FRSac", &n));
	assert_int_equal(n.flags, STORE_FLAG_FLAGGED | STORE_FLAG_ANSWERED | STORE_FLAG_SEEN);
	assert_int_equal(n.keyword_mask, (1u << 0) | (1u << 2));
	assert_int_equal(n.size_s, 1234);
	assert_int_equal(n.size_w, 1260);
	assert_int_equal(n.stamp, 1700000000);
	assert_int_equal(n.base_len, strlen("1700000000.M20P1.host,S=1234,W=1260"));

	assert_true(import_maildir_name_parse("1700000001.M2P3.host:2,DPT", &n));
	assert_int_equal(n.flags, STORE_FLAG_DRAFT | STORE_FLAG_FORWARDED | STORE_FLAG_DELETED);
	assert_int_equal(n.size_s, 0);

	assert_true(import_maildir_name_parse("1700000002.M3P4.host", &n)); /* new/: no info */
	assert_int_equal(n.flags, 0);
	assert_int_equal(n.base_len, strlen("1700000002.M3P4.host"));

	assert_true(import_maildir_name_parse("1700000003.x!2,S", &n));    /* '!' separator */
	assert_int_equal(n.flags, STORE_FLAG_SEEN);
	assert_int_equal(n.base_len, strlen("1700000003.x"));

	assert_true(import_maildir_name_parse("12.x:1,experimental", &n));  /* not ":2," */
	assert_int_equal(n.flags, 0);
	assert_int_equal(n.base_len, 4);

	assert_true(import_maildir_name_parse("courier.x:2,", &n));
	assert_int_equal(n.flags, 0);
	assert_int_equal(n.stamp, 0);

	assert_false(import_maildir_name_parse(":2,S", &n));
}

/* ------------------------------------------------------------- mbox bits */

static void test_mbox_from_and_fields(void **state)
{
	const char *keywords[IMPORT_KEYWORDS_MAX];
	size_t nk = 0, dropped = 0;
	uint32_t flags = 0;
	int64_t date = 0;
	int32_t tz = 99;
	char v1[] = "RO", v2[] = "AFTD", v3[] = " $Forwarded work,todo\t";

	(void)state;
	assert_int_equal(import_mbox_from_date("MAILER-DAEMON Mon Jan  1 10:00:00 2024\n", 38,
					       &date, &tz), 1);
	assert_int_equal(date, 1704103200);
	assert_int_equal(tz, 0);
	assert_int_equal(import_mbox_from_date("a@b.example Fri Nov 21 09:55:06 1997 -0600\r\n",
					       44, &date, &tz), 1);
	assert_int_equal(date, 880127706);
	assert_int_equal(import_mbox_from_date("the desk of Mr X\n", 17, &date, &tz), 0);
	assert_int_equal(import_mbox_from_date("nobody\n", 7, &date, &tz), 0);

	import_mbox_field(IMPORT_MBOX_STATUS, v1, &flags, keywords, &nk, &dropped);
	assert_int_equal(flags, STORE_FLAG_SEEN);
	flags = 0;
	import_mbox_field(IMPORT_MBOX_X_STATUS, v2, &flags, keywords, &nk, &dropped);
	assert_int_equal(flags, STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | STORE_FLAG_DRAFT |
			 STORE_FLAG_DELETED);
	import_mbox_field(IMPORT_MBOX_X_KEYWORDS, v3, &flags, keywords, &nk, &dropped);
	assert_int_equal(nk, 3);
	assert_string_equal(keywords[0], "$Forwarded");
	assert_string_equal(keywords[1], "work");
	assert_string_equal(keywords[2], "todo");
	assert_int_equal(dropped, 0);
}

static int tmp_file(const char *content, size_t len)
{
	char path[] = "/tmp/test_import.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void test_mbox_read(void **state)
{
	static const char mbox[] =
		"From alice@example.org Mon Jan  1 10:00:00 2024\n"
		"From: Alice <alice@example.org>\n"
		"Subject: one\n"
		"Status: RO\n"
		"X-Status: F\n"
		"X-Keywords: $Forwarded\n"
		"  project\n"
		"\n"
		">From the start\n"
		">>From quoted twice\n"
		"From unquoted, no date: stays in the body\n"
		"\n"
		"From bob@example.org Tue Jan  2 11:00:00 2024\n"
		"Subject: two\r\n"
		"\r\n"
		"crlf body\r\n"
		"\r\n"
		"From carol@example.org Wed Jan  3 12:00:00 2024\n"
		"Subject: three\n"
		"\n"
		"no final line end";
	struct import_sink sink;
	struct collected *c = collected_new(&sink);
	int fd = tmp_file(mbox, sizeof(mbox) - 1);

	(void)state;
	assert_int_equal(import_mbox_read(fd, "Archive/2024", sizeof(mbox) - 1, 1 << 20, &sink), 0);
	close(fd);
	assert_int_equal(c->unit, IMPORT_UNIT_BYTES);
	assert_int_equal(c->total, sizeof(mbox) - 1);
	assert_int_equal(c->nfolders, 1);
	assert_string_equal(c->folders[0], "Archive/2024");
	assert_int_equal(c->n, 3);
	assert_string_equal(c->msgs[0].data,
			    "From: Alice <alice@example.org>\n"
			    "Subject: one\n"
			    "\n"
			    "From the start\n"
			    ">From quoted twice\n"
			    "From unquoted, no date: stays in the body\n");
	assert_int_equal(c->msgs[0].flags, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	assert_int_equal(c->msgs[0].nkeywords, 2);
	assert_string_equal(c->msgs[0].keywords[0], "$Forwarded");
	assert_string_equal(c->msgs[0].keywords[1], "project");
	assert_int_equal(c->msgs[0].date, 1704103200);
	assert_string_equal(c->msgs[1].data, "Subject: two\r\n\r\ncrlf body\r\n");
	assert_int_equal(c->msgs[1].flags, 0);
	assert_int_equal(c->msgs[1].date, 1704193200);
	assert_string_equal(c->msgs[2].data, "Subject: three\n\nno final line end");
	assert_int_equal(c->msgs[2].done, sizeof(mbox) - 1);
	assert_int_equal(c->notes[IMPORT_NOTE_SKIP] + c->notes[IMPORT_NOTE_FATAL], 0);
	collected_free(c);

	/* Not an mbox; an empty file is an empty mbox. */
	c = collected_new(&sink);
	fd = tmp_file("Subject: x\n\nbody\n", 17);
	assert_int_equal(import_mbox_read(fd, "INBOX", 0, 1 << 20, &sink), -1);
	close(fd);
	assert_int_equal(c->notes[IMPORT_NOTE_FATAL], 1);
	assert_int_equal(c->n, 0);
	collected_free(c);
	c = collected_new(&sink);
	fd = tmp_file("", 0);
	assert_int_equal(import_mbox_read(fd, "INBOX", 0, 1 << 20, &sink), 0);
	close(fd);
	assert_int_equal(c->n, 0);
	collected_free(c);
}

static void test_mbox_too_big_and_long_lines(void **state)
{
	size_t big = 200000;
	char *mbox = malloc(big + 200);
	struct import_sink sink;
	struct collected *c;
	size_t len = 0;
	int fd;

	(void)state;
	assert_non_null(mbox);
	len += (size_t)sprintf(mbox + len, "From a@b Mon Jan  1 10:00:00 2024\nSubject: big\n\n");
	memset(mbox + len, 'x', big); /* one line longer than the reader's buffer */
	len += big;
	len += (size_t)sprintf(mbox + len, "\n\nFrom a@b Mon Jan  1 10:00:01 2024\n"
			       "Subject: small\n\nok\n");
	c = collected_new(&sink);
	fd = tmp_file(mbox, len);
	/* First with room for the big one: it arrives whole. */
	assert_int_equal(import_mbox_read(fd, "INBOX", len, 1 << 20, &sink), 0);
	close(fd);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->msgs[0].len, strlen("Subject: big\n\n") + big + 1);
	assert_string_equal(c->msgs[1].data, "Subject: small\n\nok\n");
	collected_free(c);
	/* Then with a limit below it: skipped with a note, the next one kept. */
	c = collected_new(&sink);
	fd = tmp_file(mbox, len);
	assert_int_equal(import_mbox_read(fd, "INBOX", len, 100000, &sink), 0);
	close(fd);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->notes[IMPORT_NOTE_SKIP], 1);
	assert_string_equal(c->msgs[0].data, "Subject: small\n\nok\n");
	collected_free(c);
	free(mbox);
}

/* ------------------------------------------------------------ a Maildir */

static void put_file(const char *dir, const char *name, const char *content, time_t mtime)
{
	char path[1024];
	struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
	if (mtime != 0)
		assert_int_equal(utimes(path, tv), 0);
}

static void make_dirs(const char *root, const char *sub)
{
	static const char *const parts[] = { "", "/cur", "/new", "/tmp" };
	char path[1024];

	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s%s%s", root, sub[0] != '\0' ? "/" : "", sub,
			 parts[i]);
		mkdir(path, 0700);
	}
}

static void test_maildir_read(void **state)
{
	char root[] = "/tmp/test_import_md.XXXXXX", path[1024];
	struct import_sink sink;
	struct collected *c;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(root));
	make_dirs(root, "");
	make_dirs(root, ".Entw&APw-rfe");
	make_dirs(root, ".Lists.dev");
	make_dirs(root, ".Empty");
	make_dirs(root, ".bad&AGE-name");
	snprintf(path, sizeof(path), "%s/.notafolder", root);
	mkdir(path, 0700);
	put_file(root, "dovecot-uidlist", "3 V1700000000 N4 Gabc\n"
		 "2 :1700000002.M2P1.host,S=12,W=14\n"
		 "3 W99 :1700000001.M1P1.host\n", 0);
	put_file(root, "dovecot-keywords", "0 $Forwarded\n1 project\n", 0);
	/* UID 2 comes first, though its time stamp is later. */
	put_file(root, "cur/1700000001.M1P1.host:2,Sb", "Subject: b\n\nb\n", 1600000000);
	put_file(root, "cur/1700000002.M2P1.host,S=12,W=14:2,FRa", "Subject: a\n\n", 1500000000);
	put_file(root, "new/1700000003.M3P1.host,S=99", "Subject: new\n\nnew\n", 1700000003);
	put_file(root, "tmp/1700000004.M4P1.host", "Subject: tmp\n\n", 0);
	put_file(root, ".Entw&APw-rfe/cur/1700000005.M5P1.host:2,DS", "Subject: draft\n\n", 0);
	put_file(root, ".Lists.dev/cur/1700000006.M6P1.host:2,", "Subject: dev\n\n", 0);

	c = collected_new(&sink);
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(import_maildir_read(fd, 1 << 20, &sink), 0);
	close(fd);
	assert_int_equal(c->unit, IMPORT_UNIT_MESSAGES);
	assert_int_equal(c->total, 5);
	assert_int_equal(c->nfolders, 4);
	assert_string_equal(c->folders[0], "INBOX");
	assert_string_equal(c->folders[1], "Empty");
	assert_string_equal(c->folders[2], "Entw\xc3\xbcrfe");
	assert_string_equal(c->folders[3], "Lists/dev");
	assert_int_equal(c->n, 5);
	assert_string_equal(c->msgs[0].data, "Subject: a\n\n");
	assert_int_equal(c->msgs[0].flags, STORE_FLAG_FLAGGED | STORE_FLAG_ANSWERED);
	assert_int_equal(c->msgs[0].nkeywords, 1);
	assert_string_equal(c->msgs[0].keywords[0], "$Forwarded");
	assert_int_equal(c->msgs[0].date, 1500000000);
	assert_string_equal(c->msgs[1].data, "Subject: b\n\nb\n");
	assert_int_equal(c->msgs[1].flags, STORE_FLAG_SEEN);
	assert_string_equal(c->msgs[1].keywords[0], "project");
	assert_int_equal(c->msgs[1].date, 1600000000);
	assert_string_equal(c->msgs[2].data, "Subject: new\n\nnew\n");
	assert_int_equal(c->msgs[2].flags, 0);
	assert_string_equal(c->msgs[2].source, "new/1700000003.M3P1.host,S=99");
	assert_string_equal(c->msgs[3].folder, "Entw\xc3\xbcrfe");
	assert_int_equal(c->msgs[3].flags, STORE_FLAG_DRAFT | STORE_FLAG_SEEN);
	assert_string_equal(c->msgs[4].folder, "Lists/dev");
	assert_int_equal(c->msgs[4].done, 5);
	/* S=99 is wrong: a note, the message still imported; the bad name is
	 * skipped. */
	assert_int_equal(c->notes[IMPORT_NOTE_INFO], 1);
	assert_int_equal(c->notes[IMPORT_NOTE_SKIP], 1);
	collected_free(c);

	/* Not a Maildir. */
	c = collected_new(&sink);
	snprintf(path, sizeof(path), "%s/.notafolder", root);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	assert_int_equal(import_maildir_read(fd, 1 << 20, &sink), -1);
	close(fd);
	assert_int_equal(c->notes[IMPORT_NOTE_FATAL], 1);
	collected_free(c);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

/* Courier: courierimapuiddb gives the order; its keywords are not read. */
static void test_maildir_courier(void **state)
{
	char root[] = "/tmp/test_import_courier.XXXXXX", path[1024];
	struct import_sink sink;
	struct collected *c;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(root));
	make_dirs(root, "");
	make_dirs(root, ".Sent");
	snprintf(path, sizeof(path), "%s/courierimapkeywords", root);
	mkdir(path, 0700);
	put_file(root, "courierimapuiddb", "1 1700000000 3\n1 1700000009.999.x\n"
		 "2 1700000001.111.x\n", 0);
	put_file(root, "cur/1700000001.111.x:2,S", "Subject: second\n\n", 0);
	put_file(root, "cur/1700000009.999.x:2,RS", "Subject: first\n\n", 0);
	put_file(root, ".Sent/cur/1700000005.555.x:2,S", "Subject: sent\n\n", 0);
	c = collected_new(&sink);
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_int_equal(import_maildir_read(fd, 1 << 20, &sink), 0);
	close(fd);
	assert_int_equal(c->n, 3);
	assert_string_equal(c->msgs[0].data, "Subject: first\n\n");
	assert_int_equal(c->msgs[0].flags, STORE_FLAG_ANSWERED | STORE_FLAG_SEEN);
	assert_string_equal(c->msgs[1].data, "Subject: second\n\n");
	assert_string_equal(c->msgs[2].folder, "Sent");
	assert_int_equal(c->notes[IMPORT_NOTE_INFO], 1); /* courierimapkeywords */
	collected_free(c);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

/* ----------------------------------------------------------------- pipe */

static void test_pipe_round_trip(void **state)
{
	struct import_sink out, in;
	struct collected *c = collected_new(&in);
	struct import_msg msg;
	const char *error = NULL;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	import_pipe_sink(fds[1], &out);
	assert_int_equal(out.total(out.ctx, 7, IMPORT_UNIT_MESSAGES), 0);
	assert_int_equal(out.folder(out.ctx, "Sub/F\xc3\xb6lder"), 0);
	memset(&msg, 0, sizeof(msg));
	msg.flags = STORE_FLAG_SEEN;
	msg.date = -5;
	msg.keywords[0] = "one";
	msg.keywords[1] = "$Junk";
	msg.nkeywords = 2;
	msg.data = "Subject: x\r\n\r\nbody\0with NUL";
	msg.len = 27;
	msg.source = "cur/x";
	msg.done = 3;
	assert_int_equal(out.message(out.ctx, &msg), 0);
	assert_int_equal(import_note(&out, IMPORT_NOTE_SKIP, "file %d gone", 4), 0);
	assert_int_equal(import_pipe_end(fds[1], 0), 0);
	close(fds[1]);
	assert_int_equal(import_pipe_read(fds[0], 1 << 20, &in, &error), 0);
	close(fds[0]);
	assert_int_equal(c->total, 7);
	assert_string_equal(c->folders[0], "Sub/F\xc3\xb6lder");
	assert_int_equal(c->n, 1);
	assert_int_equal(c->msgs[0].len, 27);
	assert_memory_equal(c->msgs[0].data, msg.data, 27);
	assert_int_equal(c->msgs[0].flags, STORE_FLAG_SEEN);
	assert_int_equal(c->msgs[0].date, -5);
	assert_int_equal(c->msgs[0].nkeywords, 2);
	assert_string_equal(c->msgs[0].keywords[1], "$Junk");
	assert_string_equal(c->msgs[0].source, "cur/x");
	assert_int_equal(c->msgs[0].done, 3);
	assert_int_equal(c->notes[IMPORT_NOTE_SKIP], 1);
	assert_string_equal(c->last_note, "file 4 gone");
	collected_free(c);
}

static void test_pipe_limits(void **state)
{
	struct import_sink out, in;
	struct collected *c = collected_new(&in);
	struct import_msg msg;
	const char *error = NULL;
	int fds[2];

	(void)state;
	/* A message over the importer's limit: refused before allocating. */
	assert_int_equal(pipe(fds), 0);
	import_pipe_sink(fds[1], &out);
	memset(&msg, 0, sizeof(msg));
	msg.data = "0123456789";
	msg.len = 10;
	msg.source = "x";
	assert_int_equal(out.message(out.ctx, &msg), 0);
	close(fds[1]);
	assert_int_equal(import_pipe_read(fds[0], 9, &in, &error), -1);
	assert_string_equal(error, "the reader sent a record past the limits");
	close(fds[0]);
	assert_int_equal(c->n, 0);

	/* A reader that died: no end record. */
	assert_int_equal(pipe(fds), 0);
	import_pipe_sink(fds[1], &out);
	assert_int_equal(out.folder(out.ctx, "INBOX"), 0);
	close(fds[1]);
	assert_int_equal(import_pipe_read(fds[0], 100, &in, &error), -1);
	close(fds[0]);

	/* Garbage. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "0123456789abcdef0123", 20), 20);
	close(fds[1]);
	assert_int_equal(import_pipe_read(fds[0], 100, &in, &error), -1);
	close(fds[0]);
	collected_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maildir_name),
		cmocka_unit_test(test_mbox_from_and_fields),
		cmocka_unit_test(test_mbox_read),
		cmocka_unit_test(test_mbox_too_big_and_long_lines),
		cmocka_unit_test(test_maildir_read),
		cmocka_unit_test(test_maildir_courier),
		cmocka_unit_test(test_pipe_round_trip),
		cmocka_unit_test(test_pipe_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
