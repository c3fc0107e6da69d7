/* The DATA state machine (inetd/smtp_data.c): every case is run three
 * ways: in one chunk, one byte at a time, and split at every position into
 * two chunks; all must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_data.h"

struct result {
	enum smtp_data_status status;
	char out[4096];
	size_t out_len;
	size_t consumed;     /* input bytes used */
	bool bare_cr, bare_lf, nul;
	uint64_t octets;
};

/* Feeds `in` in chunks of `chunk` bytes (0 = all at once; split > 0 =
 * two chunks split there). */
static void run(const char *in, size_t len, size_t chunk, size_t split, struct result *r)
{
	struct smtp_data d;
	size_t pos = 0;

	assert_true(len < sizeof(r->out) - 1);
	memset(r, 0, sizeof(*r));
	smtp_data_init(&d);
	r->status = SMTP_DATA_MORE;
	while (pos < len && r->status == SMTP_DATA_MORE) {
		size_t n = len - pos, out_len = 0, consumed = 0;
		char out[4096 + 1];

		if (chunk > 0 && n > chunk)
			n = chunk;
		if (split > 0 && pos < split && n > split - pos)
			n = split - pos;
		r->status = smtp_data_parse(&d, in + pos, n, out, &out_len, &consumed);
		assert_true(out_len <= n + 1);
		assert_true(r->out_len + out_len <= sizeof(r->out));
		memcpy(r->out + r->out_len, out, out_len);
		r->out_len += out_len;
		assert_true(consumed <= n);
		if (r->status == SMTP_DATA_MORE)
			assert_int_equal(consumed, n);
		pos += consumed;
	}
	r->consumed = pos;
	r->bare_cr = d.bare_cr;
	r->bare_lf = d.bare_lf;
	r->nul = d.nul;
	r->octets = d.octets;
}

/* Runs every way and checks they agree; returns the one-chunk result. */
static void check(const char *in, enum smtp_data_status status, const char *out,
		  size_t consumed, bool bare_cr, bool bare_lf)
{
	struct result whole, other;
	size_t len = strlen(in);

	run(in, len, 0, 0, &whole);
	assert_int_equal(whole.status, status);
	if (out != NULL) {
		assert_int_equal(whole.out_len, strlen(out));
		assert_memory_equal(whole.out, out, whole.out_len);
	}
	assert_int_equal(whole.consumed, consumed);
	assert_int_equal(whole.bare_cr, bare_cr);
	assert_int_equal(whole.bare_lf, bare_lf);
	assert_int_equal(whole.octets, whole.out_len);

	run(in, len, 1, 0, &other);
	assert_int_equal(other.status, whole.status);
	assert_int_equal(other.consumed, whole.consumed);
	assert_int_equal(other.bare_cr, whole.bare_cr);
	assert_int_equal(other.bare_lf, whole.bare_lf);
	if (!bare_cr && !bare_lf) {
		assert_int_equal(other.out_len, whole.out_len);
		assert_memory_equal(other.out, whole.out, whole.out_len);
	}
	for (size_t split = 1; split < len; split++) {
		run(in, len, 0, split, &other);
		assert_int_equal(other.status, whole.status);
		assert_int_equal(other.consumed, whole.consumed);
		if (!bare_cr && !bare_lf) {
			assert_int_equal(other.out_len, whole.out_len);
			assert_memory_equal(other.out, whole.out, whole.out_len);
		}
	}
}

static void test_simple(void **state)
{
	(void)state;
	check("Subject: hi\r\n\r\nbody\r\n.\r\n", SMTP_DATA_END, "Subject: hi\r\n\r\nbody\r\n",
	      24, false, false);
}

static void test_empty(void **state)
{
	(void)state;
	/* the CRLF of the DATA line is the first CRLF of CRLF.CRLF */
	check(".\r\n", SMTP_DATA_END, "", 3, false, false);
	check("\r\n.\r\n", SMTP_DATA_END, "\r\n", 5, false, false);
}

static void test_more(void **state)
{
	(void)state;
	check("abc", SMTP_DATA_MORE, "abc", 3, false, false);
	check("abc\r\n.", SMTP_DATA_MORE, "abc\r\n", 6, false, false);
	check("abc\r\n.\r", SMTP_DATA_MORE, "abc\r\n", 7, false, false);
}

static void test_dot_unstuffing(void **state)
{
	(void)state;
	check("..\r\n.\r\n", SMTP_DATA_END, ".\r\n", 7, false, false);
	check("...dots\r\n.\r\n", SMTP_DATA_END, "..dots\r\n", 12, false, false);
	/* RFC 5321 4.5.2: the first dot of a line goes, whatever follows */
	check(".x\r\n.\r\n", SMTP_DATA_END, "x\r\n", 7, false, false);
	check("a\r\n. \r\n.\r\n", SMTP_DATA_END, "a\r\n \r\n", 10, false, false);
	/* a dot in the middle of a line stays */
	check("a.b\r\n.\r\n", SMTP_DATA_END, "a.b\r\n", 8, false, false);
}

static void test_stops_at_end(void **state)
{
	(void)state;
	/* pipelined commands after the end are not consumed */
	check("hi\r\n.\r\nQUIT\r\n", SMTP_DATA_END, "hi\r\n", 7, false, false);
	check("hi\r\n.\r\n.\r\n", SMTP_DATA_END, "hi\r\n", 7, false, false);
}

static void test_bare_lf(void **state)
{
	(void)state;
	check("a\nb\r\n.\r\n", SMTP_DATA_END, NULL, 8, false, true);
	check("a\r\nb\n\r\n.\r\n", SMTP_DATA_END, NULL, 10, false, true);
	check("\n\r\n.\r\n", SMTP_DATA_END, NULL, 6, false, true);
}

static void test_bare_cr(void **state)
{
	(void)state;
	check("a\rb\r\n.\r\n", SMTP_DATA_END, NULL, 8, true, false);
	check("a\r\r\n.\r\n", SMTP_DATA_END, NULL, 7, true, false);
	check("a\r\n\rb\r\n.\r\n", SMTP_DATA_END, NULL, 10, true, false);
}

/* The SMTP smuggling shapes (CVE-2023-51764 and friends): an end of data
 * another server would see, followed by commands. Never END: LOOSE_END,
 * so the session refuses and closes; nothing after it is read. */
static void test_smuggling(void **state)
{
	(void)state;
	check("a\n.\nMAIL FROM:<x@y>\r\n", SMTP_DATA_LOOSE_END, NULL, 4, false, true);
	check("a\r.\rMAIL FROM:<x@y>\r\n", SMTP_DATA_LOOSE_END, NULL, 4, true, false);
	check("a\r\n.\nMAIL FROM:<x@y>\r\n", SMTP_DATA_LOOSE_END, NULL, 5, false, true);
	check("a\n.\r\nMAIL FROM:<x@y>\r\n", SMTP_DATA_LOOSE_END, NULL, 4, false, true);
	check("a\r\n.\rMAIL FROM:<x@y>\r\n", SMTP_DATA_LOOSE_END, NULL, 6, true, false);
	check("a\r.\r\nMAIL FROM:<x@y>\r\n", SMTP_DATA_LOOSE_END, NULL, 4, true, false);
	check("a\n.\rMAIL\r\n", SMTP_DATA_LOOSE_END, NULL, 4, false, true);
	/* a bare LF then a real end: refused, but the session stays in step */
	check("a\n..\nb\r\n.\r\n", SMTP_DATA_END, NULL, 11, false, true);
}

/* A NUL anywhere refuses the message (no 8BITMIME data holds one); the
 * machine still finds the end and passes the byte on. */
static void test_nul(void **state)
{
	static const char *const cases[] = {
		"a\0b\r\n.\r\n", "\0\r\n.\r\n", ".\0\r\n.\r\n", "a\r\n\0\r\n.\r\n",
	};
	static const size_t lens[] = { 8, 6, 7, 9 };

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct result r;

		for (size_t chunk = 0; chunk <= 1; chunk++) {
			run(cases[i], lens[i], chunk, 0, &r);
			assert_int_equal(r.status, SMTP_DATA_END);
			assert_int_equal(r.consumed, lens[i]);
			assert_true(r.nul);
			assert_false(r.bare_cr || r.bare_lf);
			assert_non_null(memchr(r.out, '\0', r.out_len));
		}
	}
	check("a\001b\r\n.\r\n", SMTP_DATA_END, "a\001b\r\n", 8, false, false);
}

static void test_final_state(void **state)
{
	struct smtp_data d;
	char out[16];
	size_t out_len, consumed;

	(void)state;
	smtp_data_init(&d);
	assert_int_equal(smtp_data_parse(&d, ".\r\n", 3, out, &out_len, &consumed), SMTP_DATA_END);
	assert_int_equal(smtp_data_parse(&d, "more", 4, out, &out_len, &consumed), SMTP_DATA_END);
	assert_int_equal(consumed, 0);
	assert_int_equal(out_len, 0);
}

/* A CR at the end of one chunk and its LF in the next: the CR is held and
 * written with the LF (out has room for len + 1). */
static void test_held_cr(void **state)
{
	struct smtp_data d;
	char out[16];
	size_t out_len, consumed;

	(void)state;
	smtp_data_init(&d);
	assert_int_equal(smtp_data_parse(&d, "ab\r", 3, out, &out_len, &consumed), SMTP_DATA_MORE);
	assert_int_equal(out_len, 2);
	assert_int_equal(smtp_data_parse(&d, "\n", 1, out, &out_len, &consumed), SMTP_DATA_MORE);
	assert_int_equal(out_len, 2);
	assert_memory_equal(out, "\r\n", 2);
	assert_true(smtp_data_clean(&d));
}

/* Feeds in[0..len) in the counted framing (BDAT), in chunks of `chunk`
 * bytes (0 = all at once), then finishes; returns the machine. */
static void run_counted(const char *in, size_t len, size_t chunk, size_t line_max,
			struct smtp_data *d, char *all, size_t *all_len)
{
	size_t pos = 0, out_len, consumed;
	char out[4096 + 2];

	smtp_data_init_counted(d, line_max);
	*all_len = 0;
	while (pos < len) {
		size_t n = chunk > 0 && len - pos > chunk ? chunk : len - pos;

		assert_int_equal(smtp_data_parse(d, in + pos, n, out, &out_len, &consumed),
				 SMTP_DATA_MORE);
		assert_int_equal(consumed, n);
		assert_true(out_len <= n + 1);
		memcpy(all + *all_len, out, out_len);
		*all_len += out_len;
		pos += n;
	}
	smtp_data_finish(d, out, &out_len);
	memcpy(all + *all_len, out, out_len);
	*all_len += out_len;
	assert_int_equal(d->octets, *all_len);
}

/* Counted framing: no end marker, no unstuffing, CRLF kept across any
 * split; bare CR/LF and NUL flagged as in DATA; lines capped; the last
 * line gets its CRLF. */
static void test_counted(void **state)
{
	static const struct {
		const char *in, *out;
		bool bare_cr, bare_lf, long_line;
	} cases[] = {
		{ "a\r\n.\r\n..b\r\n", "a\r\n.\r\n..b\r\n", false, false, false },
		{ ".\r\n", ".\r\n", false, false, false },
		{ "", "", false, false, false },
		{ "a\r\nend", "a\r\nend\r\n", false, false, false },
		{ "a\nb\r\n", "a\nb\r\n", false, true, false },
		{ "a\rb\r\n", "a\rb\r\n", true, false, false },
		{ "a\r", "a\r", true, false, false },
		{ "12345\r\n", "12345\r\n", false, false, false },
		{ "123456\r\n", "123456\r\n", false, false, true },
		{ "12345\n123456", "12345\n123456\r\n", false, true, true },
	};
	char all[4096];
	size_t all_len;
	struct smtp_data d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);

		for (size_t chunk = 0; chunk <= len; chunk++) {
			run_counted(cases[i].in, len, chunk, 5, &d, all, &all_len);
			assert_int_equal(all_len, strlen(cases[i].out));
			assert_memory_equal(all, cases[i].out, all_len);
			assert_int_equal(d.bare_cr, cases[i].bare_cr);
			assert_int_equal(d.bare_lf, cases[i].bare_lf);
			assert_int_equal(d.long_line, cases[i].long_line);
			assert_false(d.nul);
		}
	}
	run_counted("a\0b\r\n", 5, 1, 5, &d, all, &all_len);
	assert_true(d.nul);
	assert_int_equal(all_len, 5);
}

/* Round trip: random messages, dot-stuffed and terminated as a client
 * does, come out byte for byte, in any chunking. */
static void test_round_trip(void **state)
{
	static const char alphabet[] = "a.b .\t\xc3\xa9";
	char msg[2048], wire[4200];

	(void)state;
	srand(12345);
	for (int iter = 0; iter < 300; iter++) {
		size_t mlen = 0, wlen = 0;
		int lines = rand() % 12;

		for (int l = 0; l < lines; l++) {
			int n = rand() % 20;

			for (int i = 0; i < n; i++)
				msg[mlen++] = alphabet[rand() % (sizeof(alphabet) - 1)];
			msg[mlen++] = '\r';
			msg[mlen++] = '\n';
		}
		/* dot-stuff */
		bool bol = true;

		for (size_t i = 0; i < mlen; i++) {
			if (bol && msg[i] == '.')
				wire[wlen++] = '.';
			wire[wlen++] = msg[i];
			bol = msg[i] == '\n';
		}
		memcpy(wire + wlen, ".\r\nNOOP\r\n", 9);
		wlen += 9;

		for (size_t chunk = 0; chunk <= 3; chunk++) {
			struct result r;

			run(wire, wlen, chunk, 0, &r);
			assert_int_equal(r.status, SMTP_DATA_END);
			assert_int_equal(r.consumed, wlen - 6);
			assert_int_equal(r.out_len, mlen);
			assert_memory_equal(r.out, msg, mlen);
			assert_false(r.bare_cr || r.bare_lf);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_more),
		cmocka_unit_test(test_dot_unstuffing),
		cmocka_unit_test(test_stops_at_end),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_bare_cr),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_final_state),
		cmocka_unit_test(test_held_cr),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
