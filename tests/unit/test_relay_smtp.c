/* Unit tests of the relay's SMTP client parts that need no peer: the reply
 * parser, EHLO keywords and the DATA encoder (fed byte by byte too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_smtp.h"

static int feed(struct relay_reply *r, const char *line)
{
	return relay_reply_feed(r, line, strlen(line));
}

static void test_reply_single(void **state)
{
	struct relay_reply r;

	(void)state;
	relay_reply_init(&r);
	assert_int_equal(feed(&r, "550 5.1.1 <x@example.org>: no such user"), 1);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.status, "5.1.1");
	assert_string_equal(r.text, "550 5.1.1 <x@example.org>: no such user");
	relay_reply_init(&r);
	assert_int_equal(feed(&r, "250"), 1);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.status, "");
	/* a status of the wrong class is not a status */
	relay_reply_init(&r);
	assert_int_equal(feed(&r, "451 5.1.1 odd"), 1);
	assert_string_equal(r.status, "");
}

static void test_reply_multiline(void **state)
{
	struct relay_reply r;

	(void)state;
	relay_reply_init(&r);
	assert_int_equal(feed(&r, "451-4.3.0 first"), 0);
	assert_int_equal(feed(&r, "451-4.3.0 second"), 0);
	assert_int_equal(feed(&r, "451 4.3.0 third"), 1);
	assert_string_equal(r.text, "451 4.3.0 first second third");
	assert_string_equal(r.status, "4.3.0");
	assert_int_equal(r.lines, 3);
	/* a one-line reply is kept whole; a bare code too */
	relay_reply_init(&r);
	assert_int_equal(feed(&r, "550 5.1.1 <x@example.org>: no such user"), 1);
	assert_string_equal(r.text, "550 5.1.1 <x@example.org>: no such user");
	relay_reply_init(&r);
	assert_int_equal(feed(&r, "250"), 1);
	assert_string_equal(r.text, "250");
}

static void test_reply_malformed(void **state)
{
	static const char *const bad[] = {
		"", "25", "hello", "2500 x", "250x", "650 nope", "150 nope", "abc def",
	};
	struct relay_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		relay_reply_init(&r);
		assert_int_equal(feed(&r, bad[i]), -1);
	}
	/* the code changes between lines */
	relay_reply_init(&r);
	assert_int_equal(feed(&r, "250-a"), 0);
	assert_int_equal(feed(&r, "251 b"), -1);
	/* a reply that never ends is cut at RELAY_REPLY_LINES_MAX */
	relay_reply_init(&r);
	for (int i = 0; i < RELAY_REPLY_LINES_MAX; i++)
		assert_int_equal(feed(&r, "250-more"), 0);
	assert_int_equal(feed(&r, "250-more"), -1);
	/* control bytes never reach the kept text */
	relay_reply_init(&r);
	assert_int_equal(relay_reply_feed(&r, "550 a\r\nX-Evil: 1", 16), 1);
	assert_null(strchr(r.text, '\r'));
	assert_null(strchr(r.text, '\n'));
}

static void test_reply_long_text_truncated(void **state)
{
	struct relay_reply r;
	char line[RELAY_REPLY_LINE_MAX + 1];

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "250-", 4);
	relay_reply_init(&r);
	for (int i = 0; i < 5; i++)
		assert_int_equal(feed(&r, line), 0);
	line[3] = ' ';
	assert_int_equal(feed(&r, line), 1);
	assert_int_equal(strlen(r.text), OUTQ_REPLY_MAX);
}

static void ehlo(struct relay_ehlo *e, const char *line)
{
	relay_ehlo_line(e, line, strlen(line));
}

static void test_ehlo_keywords(void **state)
{
	struct relay_ehlo e;

	(void)state;
	memset(&e, 0, sizeof(e));
	ehlo(&e, "PIPELINING");
	ehlo(&e, "SIZE 52428800");
	ehlo(&e, "8BITMIME");
	ehlo(&e, "starttls");
	ehlo(&e, "AUTH=LOGIN");
	ehlo(&e, "ENHANCEDSTATUSCODES");
	assert_true(e.pipelining);
	assert_true(e.size);
	assert_int_equal(e.size_max, 52428800);
	assert_true(e.eightbitmime);
	assert_true(e.starttls);
	assert_true(e.auth_login);
	assert_false(e.auth_plain);
	assert_false(e.smtputf8);
	ehlo(&e, "AUTH PLAIN CRAM-MD5");
	ehlo(&e, "SMTPUTF8");
	assert_true(e.auth_plain);
	assert_true(e.smtputf8);
	/* prefixes are not keywords */
	memset(&e, 0, sizeof(e));
	ehlo(&e, "PIPELININGX");
	ehlo(&e, "SIZEX 10");
	ehlo(&e, "SIZE 99999999999999999999999999");
	assert_false(e.pipelining);
	assert_true(e.size); /* the last line: SIZE with an absurd number, kept bounded */
}

static char *encode_all(const char *in, size_t len, size_t chunk, size_t *out_len)
{
	char *out = malloc(2 * len + 16);
	struct relay_dot d;
	size_t o = 0;

	relay_dot_init(&d);
	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;

		o += relay_dot_encode(&d, in + i, n, out + o);
	}
	o += relay_dot_finish(&d, out + o);
	out[o] = '\0';
	*out_len = o;
	return out;
}

static void check_encode(const char *in, const char *want)
{
	size_t len = strlen(in), n1, nk;
	char *whole = encode_all(in, len, len > 0 ? len : 1, &n1);

	assert_string_equal(whole, want);
	/* one byte at a time gives the same */
	for (size_t chunk = 1; chunk < 4; chunk++) {
		char *bytes = encode_all(in, len, chunk, &nk);

		assert_int_equal(n1, nk);
		assert_memory_equal(whole, bytes, n1);
		free(bytes);
	}
	free(whole);
}

static void test_dot_encoder(void **state)
{
	(void)state;
	check_encode("", ".\r\n");
	check_encode("a\r\n", "a\r\n.\r\n");
	check_encode("a", "a\r\n.\r\n");
	check_encode(".\r\n", "..\r\n.\r\n");
	check_encode("x\r\n.y\r\n..z\r\n", "x\r\n..y\r\n...z\r\n.\r\n");
	check_encode("a\nb\n", "a\r\nb\r\n.\r\n");        /* bare LF */
	check_encode("a\rb", "a\r\nb\r\n.\r\n");          /* bare CR */
	check_encode("a\r", "a\r\n.\r\n");
	check_encode("a\r\r\n.b", "a\r\n\r\n..b\r\n.\r\n");
	check_encode("not.start\r\n", "not.start\r\n.\r\n");
}

/* Lines over RELAY_LINE_MAX octets are broken by CRLF and one space; a
 * stuffed dot counts, a line of exactly RELAY_LINE_MAX is left whole. */
static void test_dot_encoder_long_lines(void **state)
{
	(void)state;
	char in[2 * RELAY_LINE_MAX + 16], want[2 * RELAY_LINE_MAX + 32];

	memset(in, 'a', RELAY_LINE_MAX);
	strcpy(in + RELAY_LINE_MAX, "\r\n");
	snprintf(want, sizeof(want), "%s.\r\n", in);
	check_encode(in, want);                              /* 998: whole */

	memset(in, 'a', RELAY_LINE_MAX + 1);
	in[RELAY_LINE_MAX + 1] = '\0';
	memset(want, 'a', RELAY_LINE_MAX);
	strcpy(want + RELAY_LINE_MAX, "\r\n a\r\n.\r\n");
	check_encode(in, want);                              /* 999: broken */

	in[0] = '.';                                         /* the stuffed dot counts */
	want[0] = '.';
	want[1] = '.';
	memset(want + 2, 'a', RELAY_LINE_MAX - 2);
	strcpy(want + RELAY_LINE_MAX, "\r\n aa\r\n.\r\n");
	check_encode(in, want);

	memset(in, 'a', RELAY_LINE_MAX);                     /* a dot at the break stays single */
	strcpy(in + RELAY_LINE_MAX, ".b\r\n");
	memset(want, 'a', RELAY_LINE_MAX);
	strcpy(want + RELAY_LINE_MAX, "\r\n .b\r\n.\r\n");
	check_encode(in, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_single),
		cmocka_unit_test(test_reply_multiline),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_reply_long_text_truncated),
		cmocka_unit_test(test_ehlo_keywords),
		cmocka_unit_test(test_dot_encoder),
		cmocka_unit_test(test_dot_encoder_long_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
