/* Unit tests of the RETR/TOP encoder (inetd/pop3_retr.c): CRLF, dot-stuffing,
 * the TOP header/body cut, octet counts, and chunk splits giving the same
 * output as one buffer. */
#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pop3.h"

/* RETR's way (pop3_retr.c): what pop3_encoder_pass lets through is copied
 * as it is, the byte that stopped it goes through pop3_encoder_run. */
static size_t encode_pass(struct pop3_encoder *enc, const char *in, size_t len, char *out)
{
	size_t off = 0, n = 0;

	while (off < len) {
		size_t k = pop3_encoder_pass(enc, in + off, len - off);

		memcpy(out + n, in + off, k);
		n += k;
		off += k;
		if (off < len) {
			size_t w = pop3_encoder_run(enc, in + off, 1, out + n);

			assert_true(w <= 4);
			n += w;
			off++;
		}
	}
	return n;
}

static bool use_pass; /* encode() the way RETR does */

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
		size_t w = use_pass ? encode_pass(&enc, in + off, k, tmp)
				    : pop3_encoder_run(&enc, in + off, k, tmp);

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

/* Every split (1 byte, 2, 3, 7, whole) must give the same output, with
 * and without RETR's fast path. */
static void check(const char *in, int64_t top, const char *expect, uint64_t octets)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7 };

	for (int pass = 0; pass <= 1; pass++) {
		use_pass = pass;
		for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
			uint64_t got = 0;

			assert_string_equal(encode(in, strlen(in), top, chunks[i], &got), expect);
			assert_int_equal(got, octets);
		}
	}
	use_pass = false;
}

static void test_crlf(void **state)
{
	check("a\r\nb\r\n", -1, "a\r\nb\r\n.\r\n", 6);
	check("a\nb\n", -1, "a\r\nb\r\n.\r\n", 6);            /* bare LF → CRLF */
	check("a\r\n\nb\n", -1, "a\r\n\r\nb\r\n.\r\n", 8);
	check("", -1, ".\r\n", 0);
	/* the last line is ended, and that counts: the client keeps it */
	check("no newline", -1, "no newline\r\n.\r\n", 12);
	check("cr at end\r", -1, "cr at end\r\n.\r\n", 11);
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
	check("H: 1", 5, "H: 1\r\n.\r\n", 6);
}

/* The fast path passes long runs through, and gives the encoder's output
 * byte for byte on random text made of the bytes that matter. */
static void test_pass_random(void **state)
{
	static const char alphabet[] = "ab.\r\n";
	char in[600], ref[2048];
	struct pop3_encoder enc;
	uint64_t octets;

	pop3_encoder_init(&enc, -1);
	assert_int_equal(pop3_encoder_pass(&enc, "line one\r\nline two\r\nrest", 24), 24);
	assert_int_equal(pop3_encoder_pass(&enc, ".x\r\n.y", 6), 4); /* stops at ".y" */
	assert_int_equal(pop3_encoder_pass(&enc, ".y", 2), 0);
	pop3_encoder_init(&enc, 3);
	assert_int_equal(pop3_encoder_pass(&enc, "abc\r\n", 5), 0);  /* TOP: never */
	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand() % 500);

		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rand() % 5];
		in[len] = '\0';
		use_pass = false;
		snprintf(ref, sizeof(ref), "%s", encode(in, len, -1, 0, &octets));
		use_pass = true;
		for (size_t chunk = 0; chunk < 9; chunk += 4) {
			uint64_t got = 0;

			assert_string_equal(encode(in, len, -1, chunk, &got), ref);
			assert_int_equal(got, octets);
		}
		use_pass = false;
	}
}

/* Long clean text (the whole-chunk check) with one byte that needs the
 * encoder put at every position in turn, split in every way RETR may. */
static void test_pass_clean_chunks(void **state)
{
	char in[400], ref[1024];
	uint64_t octets;
	size_t len = 0;

	while (len + 10 < sizeof(in)) {
		memcpy(in + len, "line ok\r\n", 9);
		len += 9;
	}
	in[len] = '\0';
	for (size_t k = 0; k < len; k++) {
		for (int kind = 0; kind < 3; kind++) {
			char saved = in[k];

			/* a bare LF, a '.' (stuffed after an LF), or no change */
			if (kind == 0)
				in[k] = '\n';
			else if (kind == 1)
				in[k] = '.';
			use_pass = false;
			snprintf(ref, sizeof(ref), "%s", encode(in, len, -1, 0, &octets));
			use_pass = true;
			for (size_t chunk = 0; chunk < 200; chunk += 65) {
				uint64_t got = 0;

				assert_string_equal(encode(in, len, -1, chunk, &got), ref);
				assert_int_equal(got, octets);
			}
			use_pass = false;
			in[k] = saved;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_dot_stuffing),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_pass_random),
		cmocka_unit_test(test_pass_clean_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
