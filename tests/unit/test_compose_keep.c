/* Unit tests of the message kept over a sign-in (cgi/compose_keep.c): what
 * is read from a compose form or from the sign-in form's copies, within
 * the compose limits, cut at a character and never inside a line break. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"

struct fixture {
	struct http_request *req;
	struct ctx c;
	size_t cap;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->req = http_request_new();
	assert_non_null(f->req);
	f->cap = 400;
	f->req->body.fields = arena_alloc(f->req->arena, f->cap * sizeof(struct form_field));
	assert_non_null(f->req->body.fields);
	f->c = (struct ctx){ .req = f->req, .a = f->req->arena };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	http_request_free(&f->req);
	free(f);
	return 0;
}

/* Adds a form field (a file upload when filename is not NULL). */
static void add(struct fixture *f, const char *name, const char *value, const char *filename)
{
	assert_true(f->req->body.count < f->cap);
	f->req->body.fields[f->req->body.count++] = (struct form_field){
		.name = name, .value = value, .value_len = strlen(value), .filename = filename,
	};
}

static char *repeat(const char *s, size_t n)
{
	size_t len = strlen(s);
	char *r = malloc(len * n + 1);
	assert_non_null(r);
	for (size_t i = 0; i < n; i++)
		memcpy(r + i * len, s, len);
	r[len * n] = '\0';
	return r;
}

/* No owner, or one that is not one line: nothing is kept. */
static void test_owner_needed(void **state)
{
	struct fixture *f = *state;
	struct compose_kept k;
	add(f, "to", "ann@example.com", NULL);
	add(f, "body", "text", NULL);
	assert_int_equal(compose_kept_read(&f->c, "", &k), 0);
	add(f, "owner", "bob@example.com\r\nX: y", NULL);
	assert_int_equal(compose_kept_read(&f->c, "", &k), 0);
}

static void test_fields(void **state)
{
	struct fixture *f = *state;
	struct compose_kept k;
	add(f, "owner", "bob@example.com", NULL);
	add(f, "from", "bob@example.com", NULL);
	add(f, "to", "Ann <ann@example.com>,\r\ncarl@example.com", NULL);
	add(f, "subject", "Two\nlines", NULL);
	add(f, "body", "one\r\ntwo\nthree\rfour", NULL);
	add(f, "mode", "reply", NULL);
	add(f, "omb", "12", NULL);
	add(f, "ouid", "x7", NULL);
	add(f, "draft", "3", NULL);
	assert_int_equal(compose_kept_read(&f->c, "", &k), 1);
	assert_string_equal(k.owner, "bob@example.com");
	assert_string_equal(k.from, "bob@example.com");
	assert_string_equal(k.to, "Ann <ann@example.com>, carl@example.com");
	assert_string_equal(k.cc, "");
	assert_string_equal(k.subject, "Two lines");
	/* line breaks as a browser sends a textarea back */
	assert_string_equal(k.text, "one\r\ntwo\r\nthree\r\nfour");
	assert_string_equal(k.mode, "reply");
	assert_int_equal(k.omb, 12);
	assert_int_equal(k.ouid, 0);
	assert_int_equal(k.draft, 3);
	assert_false(k.cut);
	/* no options ticked */
	assert_false(k.receipt);
	assert_false(k.dsn);
	assert_int_equal(k.priority, MSGBUILD_PRIORITY_NORMAL);
}

/* The sign-in form's copies are read under their prefix, and only those. */
static void test_prefix(void **state)
{
	struct fixture *f = *state;
	struct compose_kept k;
	add(f, "owner", "mallory@example.com", NULL);
	add(f, "body", "not this", NULL);
	add(f, "k_owner", "bob@example.com", NULL);
	add(f, "k_body", "this", NULL);
	add(f, "k_upload", "a.pdf", NULL);
	add(f, "k_upload", "", NULL);
	add(f, "k_upload", "b\r\n.png", NULL);
	add(f, "k_keep", "d:2", NULL);
	add(f, "receipt", "1", NULL);
	add(f, "k_dsn", "1", NULL);
	add(f, "k_priority", "low", NULL);
	assert_int_equal(compose_kept_read(&f->c, "k_", &k), 1);
	/* the options too: the sign-in form's, not the other ones */
	assert_false(k.receipt);
	assert_true(k.dsn);
	assert_int_equal(k.priority, MSGBUILD_PRIORITY_LOW);
	assert_string_equal(k.owner, "bob@example.com");
	assert_string_equal(k.text, "this");
	assert_int_equal(k.nuploads, 2);
	assert_string_equal(k.uploads[0], "a.pdf");
	assert_string_equal(k.uploads[1], "b .png");
	assert_int_equal(k.nkeep, 1);
	assert_string_equal(k.keep[0], "d:2");
}

/* A subject past its limit is cut before a character that would not fit
 * whole; the text before a line break that would not fit whole. */
static void test_cut(void **state)
{
	struct fixture *f = *state;
	struct compose_kept k;
	char *s = repeat("s", MSGBUILD_SUBJECT_MAX - 1);
	char *subject = malloc(MSGBUILD_SUBJECT_MAX + 8);
	char *text = repeat("a", COMPOSE_TEXT_MAX - 1);
	char *full = malloc(COMPOSE_TEXT_MAX + 8);
	assert_non_null(subject);
	assert_non_null(full);
	snprintf(subject, MSGBUILD_SUBJECT_MAX + 8, "%s\xc3\xa9", s);
	snprintf(full, COMPOSE_TEXT_MAX + 8, "%s\r\nb", text);
	add(f, "owner", "bob@example.com", NULL);
	add(f, "subject", subject, NULL);
	add(f, "body", full, NULL);
	assert_int_equal(compose_kept_read(&f->c, "", &k), 1);
	assert_true(k.cut);
	assert_string_equal(k.subject, s);
	assert_int_equal(strlen(k.text), COMPOSE_TEXT_MAX - 1);
	assert_int_equal(k.text[COMPOSE_TEXT_MAX - 2], 'a');
	free(s);
	free(subject);
	free(text);
	free(full);
}

/* Lone LFs take a byte more each as CRLF: a text within the form's limit
 * can pass the compose limit so, and is cut to it. */
static void test_cut_grown(void **state)
{
	struct fixture *f = *state;
	struct compose_kept k;
	char *text = repeat("x\n", COMPOSE_TEXT_MAX / 2);
	add(f, "owner", "bob@example.com", NULL);
	add(f, "body", text, NULL);
	assert_int_equal(compose_kept_read(&f->c, "", &k), 1);
	assert_true(k.cut);
	size_t len = strlen(k.text);
	assert_true(len <= COMPOSE_TEXT_MAX && len > COMPOSE_TEXT_MAX - 3);
	assert_int_not_equal(k.text[len - 1], '\r');
	assert_non_null(strstr(k.text, "x\r\nx\r\n"));
	assert_null(strstr(k.text, "x\nx"));
	free(text);
}

/* Attachment choices: only the forms the compose page offers, at most
 * COMPOSE_ATTACHMENTS_MAX; uploads: the names of files sent, at most
 * COMPOSE_KEPT_UPLOADS_MAX, an empty file input left out. */
static void test_lists(void **state)
{
	struct fixture *f = *state;
	struct compose_kept k;
	static const char *const bad[] = { "x:1", "d:", "o:mm", "d:99999999999", "d:1 ", "d" };
	add(f, "owner", "bob@example.com", NULL);
	add(f, "keep", "d:3", NULL);
	add(f, "keep", "o:m", NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		add(f, "keep", bad[i], NULL);
	for (size_t i = 0; i < COMPOSE_ATTACHMENTS_MAX; i++)
		add(f, "keep", "o:12", NULL);
	add(f, "attach", "", "");
	for (size_t i = 0; i < COMPOSE_KEPT_UPLOADS_MAX + 5; i++)
		add(f, "attach", "data", i == 0 ? "" : "file.txt");
	assert_int_equal(compose_kept_read(&f->c, "", &k), 1);
	assert_int_equal(k.nkeep, COMPOSE_ATTACHMENTS_MAX);
	assert_string_equal(k.keep[0], "d:3");
	assert_string_equal(k.keep[1], "o:m");
	assert_string_equal(k.keep[2], "o:12");
	assert_int_equal(k.nuploads, COMPOSE_KEPT_UPLOADS_MAX);
	assert_string_equal(k.uploads[0], "(no name)");
	assert_string_equal(k.uploads[1], "file.txt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_owner_needed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_grown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
