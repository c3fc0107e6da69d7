/* Unit tests of the RETR/TOP encoder (inetd/pop3_retr.c): CRLF, dot-stuffing,
 * the TOP header/body cut, octet counts, and chunk splits giving the same
 * output as one buffer. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pop3.h"

/* Encodes in chunks of `chunk` bytes (0 = all at once) into a static
 * buffer; *octets_r gets the message octets counted. */
static const char *encode(const char *in, size_t len, int64_t top, size_t chunk,
			  uint64_t *octets_r)
{
	static char out[8192];
	char tmp[2 * 1024 + 2];
	struct pop3_encoder enc;
	size_t n = 0;

	assert_true(len <= 1024);
	pop3_encoder_init(&enc, top);
	if (chunk == 0)
		chunk = len > 0 ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t k = len - off < chunk ? len - off : chunk;
		size_t w = pop3_encoder_run(&enc, in + off, k, tmp);

		assert_true(w <= 2 * k + 2);
		memcpy(out + n, tmp, w);
		n += w;
	}
	n += pop3_encoder_finish(&enc, out + n);
	out[n] = '\0';
	if (octets_r != NULL)
		*octets_r = enc.octets;
	return out;
}

/* Every split (1 byte, 2, 3, 7, whole) must give the same output. */
static void check(const char *in, int64_t top, const char *expect, uint64_t octets)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7 };

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		uint64_t got = 0;

		assert_string_equal(encode(in, strlen(in), top, chunks[i], &got), expect);
		assert_int_equal(got, octets);
	}
}

static void test_crlf(void **state)
{
	check("a\r\nb\r\n", -1, "a\r\nb\r\n.\r\n", 6);
	check("a\nb\n", -1, "a\r\nb\r\n.\r\n", 6);            /* bare LF → CRLF */
	check("a\r\n\nb\n", -1, "a\r\n\r\nb\r\n.\r\n", 8);
	check("", -1, ".\r\n", 0);
	check("no newline", -1, "no newline\r\n.\r\n", 10);   /* the line is ended */
	check("cr at end\r", -1, "cr at end\r\n.\r\n", 10);
}

static void test_dot_stuffing(void **state)
{
	check(".\r\n", -1, "..\r\n.\r\n", 3);
	check("a\r\n.b\r\n..\r\nc.d\r\n", -1, "a\r\n..b\r\n...\r\nc.d\r\n.\r\n", 16);
	check(".start\n.\n", -1, "..start\r\n..\r\n.\r\n", 11);
}

static void test_top(void **state)
{
	static const char msg[] = "Subject: x\r\nFrom: y\r\n\r\nline1\r\n.line2\r\nline3\r\n";

	check(msg, 0, "Subject: x\r\nFrom: y\r\n\r\n.\r\n", 23);
	check(msg, 1, "Subject: x\r\nFrom: y\r\n\r\nline1\r\n.\r\n", 30);
	check(msg, 2, "Subject: x\r\nFrom: y\r\n\r\nline1\r\n..line2\r\n.\r\n", 38);
	check(msg, 99, "Subject: x\r\nFrom: y\r\n\r\nline1\r\n..line2\r\nline3\r\n.\r\n", 45);
	/* LF-only header end */
	check("H: 1\n\nb1\nb2\n", 1, "H: 1\r\n\r\nb1\r\n.\r\n", 12);
	/* no body at all: the whole header, nothing more */
	check("H: 1\r\nH: 2\r\n", 0, "H: 1\r\nH: 2\r\n.\r\n", 12);
	/* a header without a final newline */
	check("H: 1", 5, "H: 1\r\n.\r\n", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
