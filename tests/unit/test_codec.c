/* Codecs: base64, quoted-printable, RFC 2047 encoded words, charsets. RFC
 * examples, malformed input, streaming in every split, size bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "charset.h"
#include "codec.h"
#include "rfc2047.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* ------------------------------------------------------------------ base64 */

static void b64_roundtrip(const char *raw, const char *enc)
{
	char out[256];
	size_t n = base64_encode(raw, strlen(raw), 0, out);
	assert_int_equal(n, strlen(enc));
	assert_memory_equal(out, enc, n);
	bool clean = false;
	n = base64_decode(enc, strlen(enc), out, &clean);
	assert_true(clean);
	assert_int_equal(n, strlen(raw));
	assert_memory_equal(out, raw, n);
}

static void test_base64_rfc4648(void **state)
{
	b64_roundtrip("", "");
	b64_roundtrip("f", "Zg==");
	b64_roundtrip("fo", "Zm8=");
	b64_roundtrip("foo", "Zm9v");
	b64_roundtrip("foob", "Zm9vYg==");
	b64_roundtrip("fooba", "Zm9vYmE=");
	b64_roundtrip("foobar", "Zm9vYmFy");
}

static void b64_decodes(const char *enc, const char *raw, bool want_clean, size_t want_garbage)
{
	char out[256];
	struct base64_decoder dec;
	base64_decoder_init(&dec);
	size_t n = base64_decode_update(&dec, enc, strlen(enc), out);
	assert_true(n <= BASE64_DECODED_MAX(strlen(enc)));
	assert_int_equal(base64_decode_finish(&dec), want_clean ? 1 : 0);
	assert_int_equal(dec.garbage, want_garbage);
	assert_int_equal(n, strlen(raw));
	assert_memory_equal(out, raw, n);
}

static void test_base64_tolerance(void **state)
{
	b64_decodes("Zm9v\r\nYmFy\r\n", "foobar", true, 0);
	b64_decodes(" Z m 9 v\tYmFy ", "foobar", true, 0);
	b64_decodes("Zm9v!YmFy", "foobar", false, 1);
	b64_decodes("Zm9v\x80\xffYmFy", "foobar", false, 2);
	b64_decodes("Zm8", "fo", true, 0);           /* padding missing */
	b64_decodes("Zg", "f", true, 0);
	b64_decodes("Z", "", false, 0);              /* a lone character */
	b64_decodes("Zg==Zm8=", "ffo", true, 0);     /* concatenated */
	b64_decodes("Zg=======", "f", true, 0);
	b64_decodes("=Zg==", "f", false, 1);         /* '=' with no quantum */
	b64_decodes("Z===", "", false, 0);
}

static void test_base64_streaming(void **state)
{
	unsigned char raw[1000];
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)rnd();
	char enc[BASE64_ENCODED_MAX(sizeof(raw))];
	size_t enc_len = base64_encode(raw, sizeof(raw), BASE64_MIME_LINE, enc);
	/* 76-character lines, each ending in CRLF */
	size_t col = 0;
	for (size_t i = 0; i < enc_len; i++) {
		if (enc[i] == '\r') {
			assert_true(enc[i + 1] == '\n');
			assert_true(col <= 76 && col > 0);
			col = 0;
			i++;
		} else {
			col++;
		}
	}
	assert_int_equal(col, 0);
	for (int round = 0; round < 200; round++) {
		/* encode in random pieces: same output */
		struct base64_encoder e;
		base64_encoder_init(&e, BASE64_MIME_LINE);
		char enc2[BASE64_ENCODED_MAX(sizeof(raw))];
		size_t o = 0;
		for (size_t i = 0; i < sizeof(raw);) {
			size_t n = round == 0 ? 1 : rnd() % 50;
			if (n > sizeof(raw) - i)
				n = sizeof(raw) - i;
			size_t w = base64_encode_update(&e, raw + i, n, enc2 + o);
			assert_true(w <= BASE64_ENCODED_MAX(n));
			o += w;
			i += n;
		}
		o += base64_encode_finish(&e, enc2 + o);
		assert_int_equal(o, enc_len);
		assert_memory_equal(enc2, enc, o);
		/* decode in random pieces */
		struct base64_decoder d;
		base64_decoder_init(&d);
		unsigned char dec[sizeof(raw) + 3];
		o = 0;
		for (size_t i = 0; i < enc_len;) {
			size_t n = round == 0 ? 1 : rnd() % 50;
			if (n > enc_len - i)
				n = enc_len - i;
			size_t w = base64_decode_update(&d, enc + i, n, dec + o);
			assert_true(w <= BASE64_DECODED_MAX(n));
			o += w;
			i += n;
		}
		assert_int_equal(base64_decode_finish(&d), 1);
		assert_int_equal(o, sizeof(raw));
		assert_memory_equal(dec, raw, o);
	}
	/* line length rounded to a multiple of 4 */
	char out[64];
	size_t n = base64_encode("abcdefghi", 9, 10, out);
	assert_int_equal(n, 16);
	assert_memory_equal(out, "YWJjZGVm\r\nZ2hp\r\n", 16);
}

/* -------------------------------------------------------- quoted-printable */

static void qp_decodes(const char *enc, const char *raw, size_t want_malformed)
{
	size_t len = strlen(enc);
	char out[512];
	size_t malformed;
	size_t n = qp_decode(enc, len, out, &malformed);
	assert_true(n <= QP_DECODED_MAX(len));
	if (n != strlen(raw) || memcmp(out, raw, n) != 0)
		fail_msg("qp \"%s\": got \"%.*s\"", enc, (int)n, out);
	assert_int_equal(malformed, want_malformed);
	/* byte by byte: the same */
	struct qp_decoder d;
	qp_decoder_init(&d);
	size_t o = 0;
	for (size_t i = 0; i < len; i++)
		o += qp_decode_update(&d, enc + i, 1, out + o);
	o += qp_decode_finish(&d, out + o);
	assert_int_equal(o, strlen(raw));
	assert_memory_equal(out, raw, o);
}

static void test_qp_decode(void **state)
{
	qp_decodes("Now's the time =\r\nfor all folk to come=\r\n to the aid of their country.",
		   "Now's the time for all folk to come to the aid of their country.", 0);
	qp_decodes("caf=C3=A9", "caf\xc3\xa9", 0);
	qp_decodes("caf=c3=a9", "caf\xc3\xa9", 0);
	qp_decodes("abc=  \r\ndef", "abcdef", 0);
	qp_decodes("abc=\ndef", "abcdef", 0);
	qp_decodes("abc \t \r\ndef  \nx", "abc\r\ndef\nx", 0);
	qp_decodes("trailing  ", "trailing", 0);
	qp_decodes("soft at end=", "soft at end", 0);
	qp_decodes("a=ZZb", "a=ZZb", 1);
	qp_decodes("a=4", "a=4", 1);
	qp_decodes("a=4x", "a=4x", 1);
	qp_decodes("a= b", "a= b", 1);
	qp_decodes("a=\rb", "a=\rb", 1);
	qp_decodes("a\rb\r", "a\rb\r", 0);
	qp_decodes("==41", "=A", 1);
	qp_decodes("=3D=3d", "==", 0);
	qp_decodes("", "", 0);
	/* whitespace runs too long to be padding pass through */
	char in[300], want[300];
	memset(in, ' ', 200);
	memcpy(in + 200, "x", 2);
	memcpy(want, in, 202);
	qp_decodes(in, want, 0);
}

static void qp_encodes(const char *raw, bool binary, const char *enc)
{
	size_t len = strlen(raw);
	char out[1024];
	size_t n = qp_encode(raw, len, binary, out);
	assert_true(n <= QP_ENCODED_MAX(len));
	if (n != strlen(enc) || memcmp(out, enc, n) != 0)
		fail_msg("qp encode \"%s\": got \"%.*s\"", raw, (int)n, out);
}

static void test_qp_encode(void **state)
{
	qp_encodes("caf\xc3\xa9", false, "caf=C3=A9");
	qp_encodes("a = b", false, "a =3D b");
	qp_encodes("trailing \r\nspace\t\nend ", false, "trailing=20\r\nspace=09\r\nend=20");
	qp_encodes("bare\rcr", false, "bare=0Dcr");
	qp_encodes("a\r\nb", true, "a=0D=0Ab");
	qp_encodes("tab\there", false, "tab\there");
	char longline[201];
	memset(longline, 'a', 200);
	longline[200] = '\0';
	char out[1024];
	size_t n = qp_encode(longline, 200, false, out);
	/* 75 + "=\r\n" + 75 + "=\r\n" + 50 */
	assert_int_equal(n, 206);
	assert_memory_equal(out + 75, "=\r\n", 3);
	/* random round trips, text and binary, in random pieces */
	for (int round = 0; round < 300; round++) {
		unsigned char raw[500];
		size_t len = rnd() % sizeof(raw);
		bool binary = round % 2;
		for (size_t i = 0; i < len; i++) {
			unsigned r = rnd() % 10;
			raw[i] = binary ? (unsigned char)rnd()
				: r == 0 ? ' ' : r == 1 ? '\t' : r == 2 ? '=' : (unsigned char)('a' + rnd() % 26);
		}
		struct qp_encoder e;
		qp_encoder_init(&e, binary);
		char enc[QP_ENCODED_MAX(sizeof(raw))];
		size_t o = 0;
		for (size_t i = 0; i < len;) {
			size_t k = 1 + rnd() % 40;
			if (k > len - i)
				k = len - i;
			o += qp_encode_update(&e, raw + i, k, enc + o);
			i += k;
		}
		o += qp_encode_finish(&e, enc + o);
		assert_true(o <= QP_ENCODED_MAX(len));
		/* every line at most 76 characters, no trailing whitespace */
		size_t col = 0;
		for (size_t i = 0; i < o; i++) {
			if (enc[i] == '\r') {
				assert_true(i + 1 < o && enc[i + 1] == '\n');
				assert_true(i == 0 || (enc[i - 1] != ' ' && enc[i - 1] != '\t'));
				col = 0;
				i++;
				continue;
			}
			assert_true(++col <= 76);
		}
		unsigned char dec[QP_DECODED_MAX(sizeof(enc))];
		size_t malformed;
		size_t d = qp_decode(enc, o, dec, &malformed);
		assert_int_equal(malformed, 0);
		assert_int_equal(d, len);
		assert_memory_equal(dec, raw, len);
	}
}

/* ---------------------------------------------------------------- RFC 2047 */

static void decodes(const char *in, const char *want)
{
	char *out;
	size_t len;
	assert_int_equal(rfc2047_decode(in, strlen(in), &out, &len), 1);
	if (strcmp(out, want) != 0)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", in, out, want);
	assert_int_equal(len, strlen(want));
	free(out);
}

static void test_rfc2047_examples(void **state)
{
	/* RFC 2047 section 8 */
	decodes("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>");
	decodes("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", "Keld J\xc3\xb8rn Simonsen");
	decodes("=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard");
	decodes("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
		" =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
		"If you can read this you understand the example.");
	decodes("(=?ISO-8859-1?Q?a?=)", "(a)");
	decodes("(=?ISO-8859-1?Q?a?= b)", "(a b)");
	decodes("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)");
	decodes("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)");
	decodes("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)");
	decodes("(=?ISO-8859-1?Q?a_b?=)", "(a b)");
	decodes("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)");
	/* RFC 2231 language suffix */
	decodes("=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore");
	/* mixed text, folds, controls */
	decodes("a\r\n b", "a b");
	decodes("tab\there", "tab here");
	decodes("=?utf-8?Q?=E2=82?==?utf-8?Q?=AC?=", "\xe2\x82\xac");
	decodes("=?utf-8?Q?=E2=82?= =?iso-8859-1?Q?=AC?=", "\xef\xbf\xbd\xef\xbf\xbd\xc2\xac");
	decodes("=?utf-8?Q?a=?=", "a=");
	decodes("=?utf-8?B?****?=", "");
}

/* Encodes text from column col and checks the result: folds are CRLF SP,
 * never a bare CR or LF; encoded words of at most 75, lines of at most 76
 * (the first from col); in a phrase, only atoms and encoded words; and it
 * decodes back to the text. */
static void encodes_back(const char *text, size_t col, bool phrase)
{
	char *enc, *dec;
	size_t len;
	assert_int_equal(rfc2047_encode(text, strlen(text), col, phrase, &enc, &len), 1);
	assert_int_equal(strlen(enc), len);
	for (size_t i = 0; i < len; i++) {
		if (enc[i] == '\r') {
			assert_true(enc[i + 1] == '\n' && enc[i + 2] == ' ');
			i++;
		} else {
			assert_true(enc[i] != '\n');
		}
	}
	for (size_t i = 0, line = col; i < len; i++) {
		line = enc[i] == '\n' ? 0 : enc[i] == '\r' ? line : line + 1;
		if (line > RFC2047_LINE_MAX)
			fail_msg("line past %d at %zu (from column %zu): %s", RFC2047_LINE_MAX, i, col,
				 enc);
	}
	for (size_t i = 0; i < len;) {
		size_t w = strcspn(enc + i, " \r\n");
		if (w >= 2 && enc[i] == '=' && enc[i + 1] == '?')
			assert_true(w <= RFC2047_WORD_MAX);
		else if (phrase)
			assert_true(strspn(enc + i, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789!#$%&'*+-/=?^_`{|}~") == w);
		i += w + (i + w < len);
	}
	assert_int_equal(rfc2047_decode(enc, len, &dec, NULL), 1);
	assert_string_equal(dec, text);
	free(enc);
	free(dec);
}

static void test_rfc2047_encode(void **state)
{
	char *enc;
	size_t len;
	assert_int_equal(rfc2047_encode("Hello world", 11, 0, false, &enc, &len), 1);
	assert_string_equal(enc, "Hello world");
	free(enc);
	assert_int_equal(rfc2047_encode("Caf\xc3\xa9 au lait", 13, 0, false, &enc, &len), 1);
	assert_string_equal(enc, "=?UTF-8?Q?Caf=C3=A9?= au lait");
	free(enc);
	assert_int_equal(rfc2047_encode("a\r\nb", 4, 0, false, &enc, &len), 1);
	assert_string_equal(enc, "a  b");
	free(enc);
	/* after "Subject: " the first word ends by column 76, not 84 */
	assert_int_equal(rfc2047_encode("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 70,
					 9, false, &enc, &len), 1);
	assert_string_equal(enc, "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=\r\n"
				 " =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=");
	free(enc);
	/* a phrase: no quoted string beside encoded words, the specials go in them */
	assert_int_equal(rfc2047_encode("Zo\xc3\xab \"Z\" Lee, Jr.", 17, 4, true, &enc, &len), 1);
	assert_string_equal(enc, "=?UTF-8?Q?Zo=C3=AB_=22Z=22_Lee=2C_Jr=2E?=");
	free(enc);
	static const char *const texts[] = {
		"Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln",
		"Re: [list] caf\xc3\xa9 =?not-a-word?= end",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe9\x95\xb7\xe3\x81\x84\xe4\xbb\xb6\xe5\x90\x8d"
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe9\x95\xb7\xe3\x81\x84\xe4\xbb\xb6\xe5\x90\x8d"
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe9\x95\xb7\xe3\x81\x84\xe4\xbb\xb6\xe5\x90\x8d",
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
		"x_y?z=w \xc3\xa9 (a) \"b\" <c> ,;:",
		/* plain words before and after the encoded ones are folded too */
		"A rather long plain beginning of a subject line that goes on and on and then "
		"caf\xc3\xa9 and a plain end that is also long enough to need a fold somewhere",
		/* a plain word too long for any line is encoded */
		"See https://example.org/a/very/long/path/that/cannot/be/folded/anywhere/at/all/x.html "
		"\xe2\x82\xac",
		"\xe2\x82\xac\xe2\x82\xac   spaces   between  \xe2\x82\xac  ",
		"Zo\xc3\xab \"Z\" Lee, Jr.",
		/* plain ASCII past a line is folded at its blanks too */
		"Auto: A plain ASCII subject long enough to pass the end of one line, and then "
		"it goes on for a second line and well into a third one as well, as some do",
	};
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
		for (size_t col = 0; col <= 40; col++) {
			encodes_back(texts[t], col, false);
			encodes_back(texts[t], col, true);
		}
	/* blanks before an encoded word, more than fit: the fold adds none
	 * (fuzz_mime found one space more after decoding); such a run stays
	 * on its line, longer than 76, the one case that is */
	for (size_t blanks = 60; blanks <= 100; blanks += 8) {
		char text[160], *e, *d;
		size_t n;
		snprintf(text, sizeof(text), "bare%*s\xc3\xa1} ``  LF", (int)blanks, "");
		assert_int_equal(rfc2047_encode(text, strlen(text), 9, false, &e, &n), 1);
		assert_int_equal(rfc2047_decode(e, n, &d, NULL), 1);
		assert_string_equal(d, text);
		free(e);
		free(d);
	}
	/* plain ASCII that fits is copied as it is; a word longer than a
	 * line stays whole (only encoding could cut it) */
	assert_int_equal(rfc2047_encode("Re: a short one", 15, 9, false, &enc, &len), 1);
	assert_string_equal(enc, "Re: a short one");
	free(enc);
	{
		char word[101], text[120];
		memset(word, 'w', 100);
		word[100] = '\0';
		snprintf(text, sizeof(text), "see %s end", word);
		assert_int_equal(rfc2047_encode(text, strlen(text), 9, false, &enc, &len), 1);
		char want[140];
		snprintf(want, sizeof(want), "see\r\n %s\r\n end", word);
		assert_string_equal(enc, want);
		free(enc);
	}
	/* invalid UTF-8 is repaired before encoding */
	assert_int_equal(rfc2047_encode("\xff", 1, 0, false, &enc, &len), 1);
	assert_string_equal(enc, "=?UTF-8?B?77+9?=");
	free(enc);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_rfc2047_linear(void **state)
{
	static const char *const patterns[] = {
		"=?", "=?utf-8?q?", "=?utf-8?q?a", "=?utf-8?q?a?= ", "=?x?b?=", "=?=?=?\?\?==",
	};
	size_t len = 1024 * 1024;
	char *buf = malloc(len);
	assert_non_null(buf);
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		size_t pl = strlen(patterns[p]);
		for (size_t i = 0; i < len; i++)
			buf[i] = patterns[p][i % pl];
		char *out;
		double t0 = now();
		assert_int_equal(rfc2047_decode(buf, len, &out, NULL), 1);
		double dt = now() - t0;
		print_message("1 MiB of \"%s\": %.3f s\n", patterns[p], dt);
		assert_true(dt < 1.0);
		free(out);
	}
	free(buf);
}

/* ---------------------------------------------------------------- charsets */

static void converts(const char *charset, const char *in, size_t len, const char *want, int want_r)
{
	char *out;
	size_t out_len;
	int r = charset_to_utf8(charset, in, len, &out, &out_len);
	if (r != want_r || strcmp(out, want) != 0)
		fail_msg("%s: got %d \"%s\"", charset, r, out);
	assert_int_equal(out_len, strlen(want));
	assert_true(charset_utf8_valid(out, out_len));
	free(out);
}

#define CONVERTS(cs, in, want, r) converts(cs, in, sizeof(in) - 1, want, r)

static void test_charsets(void **state)
{
	CONVERTS("ISO-8859-1", "caf\xe9", "caf\xc3\xa9", 1);
	CONVERTS("latin1", "\x93q\x94", "\xe2\x80\x9cq\xe2\x80\x9d", 1); /* read as windows-1252 */
	CONVERTS("iso-8859-15", "\xa4", "\xe2\x82\xac", 1);
	CONVERTS("windows-1251", "\xcf\xf0\xe8", "\xd0\x9f\xd1\x80\xd0\xb8", 1);
	CONVERTS("KOI8-R", "\xf0\xd2\xc9", "\xd0\x9f\xd1\x80\xd0\xb8", 1);
	CONVERTS("us-ascii", "caf\xc3\xa9", "caf\xc3\xa9", 1);   /* raw 8-bit: valid UTF-8 kept */
	CONVERTS("us-ascii", "caf\xe9", "caf\xc3\xa9", 1);       /* else windows-1252 */
	CONVERTS("", "caf\xe9", "caf\xc3\xa9", 1);
	CONVERTS("utf-8", "a\xff" "b\xc0\xaf", "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd", 1);
	CONVERTS("x-no-such-charset", "a\xe9", "a\xef\xbf\xbd", 0);
	CONVERTS("utf-8//TRANSLIT", "a\xe9", "a\xef\xbf\xbd", 0);
	CONVERTS("../../etc/passwd", "a", "a", 0);
	CONVERTS("shift_jis", "\x93\xfa\x96\x7b", "\xe6\x97\xa5\xe6\x9c\xac", 1);
	CONVERTS("x-sjis", "\x93\xfa\x82", "\xe6\x97\xa5\xef\xbf\xbd", 1); /* incomplete at the end */
	CONVERTS("euc-jp", "\xc6\xfc\xcb\xdc", "\xe6\x97\xa5\xe6\x9c\xac", 1);
	CONVERTS("ISO-2022-JP", "\x1b$BF|K\\\x1b(B", "\xe6\x97\xa5\xe6\x9c\xac", 1);
	CONVERTS("gb2312", "\xc4\xe3\xba\xc3", "\xe4\xbd\xa0\xe5\xa5\xbd", 1);
	CONVERTS("GBK", "\x81\x40", "\xe4\xb8\x82", 1);
	CONVERTS("big5", "\xa7\x41\xa6\x6e", "\xe4\xbd\xa0\xe5\xa5\xbd", 1);
	CONVERTS("ks_c_5601-1987", "\xc7\xd1", "\xed\x95\x9c", 1);
	CONVERTS("utf-7", "Hi Mom -+Jjo--!", "Hi Mom -\xe2\x98\xba-!", 1);
	CONVERTS("windows-1252", "\x81", "\xef\xbf\xbd", 1);    /* undefined byte */
	assert_true(charset_is_known("UTF-8"));
	assert_true(charset_is_known("Big5"));
	assert_true(charset_is_known("iso-8859-7"));
	assert_false(charset_is_known("x-klingon"));
	char name[CHARSET_NAME_MAX + 2];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_false(charset_is_known(name));
}

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		bool valid;
	} cases[] = {
		{ "plain", true }, { "\xc3\xa9", true }, { "\xe2\x82\xac", true }, { "\xf0\x9f\x98\x80", true },
		{ "\xc0\xaf", false }, { "\xe0\x80\xaf", false }, { "\xed\xa0\x80", false },
		{ "\xf4\x90\x80\x80", false }, { "\xf5\x80\x80\x80", false }, { "\xc3", false },
		{ "\xe2\x82", false }, { "\x80", false }, { "\xf4\x8f\xbf\xbf", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(charset_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].valid);
}

/* charset_one_line: a header field value on one line, within its room. */
static void test_one_line(void **state)
{
	char out[16];

	(void)state;
	charset_one_line(out, sizeof(out), "  a\r\nX-Evil:\t 1 ", 100);
	assert_string_equal(out, "a X-Evil: 1");
	charset_one_line(out, sizeof(out), NULL, 100);
	assert_string_equal(out, "");
	charset_one_line(out, sizeof(out), "caf\xc3\xa9 \x7f ok", 100);
	assert_string_equal(out, "caf\xc3\xa9 ok");
	/* at most max octets, and the room of dst: never a space at the end */
	charset_one_line(out, sizeof(out), "abc def", 4);
	assert_string_equal(out, "abc");
	charset_one_line(out, sizeof(out), "0123456789abcd efgh", 100);
	assert_string_equal(out, "0123456789abcd");
	charset_one_line(out, sizeof(out), "0123456789abcdefgh", 100);
	assert_string_equal(out, "0123456789abcde");
	/* cut in the middle of "é": the whole character goes */
	charset_one_line(out, sizeof(out), "0123456789abc\xc3\xa9xyz", 100);
	assert_string_equal(out, "0123456789abc\xc3\xa9");   /* it just fits */
	charset_one_line(out, sizeof(out), "0123456789abcd\xc3\xa9xyz", 100);
	assert_string_equal(out, "0123456789abcd");
	charset_one_line(out, sizeof(out), "\xc3\xa9\xc3\xa9\xc3\xa9", 5);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9");
	assert_true(charset_ascii("plain", 5));
	assert_false(charset_ascii("caf\xc3\xa9", 5));
	assert_true(charset_ascii("caf\xc3\xa9", 3));
}

/* xtext_encode: RFC 3461 4's "+HH" for '+', '=' and bytes outside
 * 33..126, the rest unchanged. */
static void test_xtext(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	n = xtext_encode("rfc822;bob@example.com", 22, out);
	assert_int_equal(n, 22);
	assert_memory_equal(out, "rfc822;bob@example.com", 22);
	n = xtext_encode("a+b=c d", 7, out);
	out[n] = '\0';
	assert_string_equal(out, "a+2Bb+3Dc+20d");
	n = xtext_encode("\r\n\x7f~!\xc3\xa9", 7, out);
	out[n] = '\0';
	assert_string_equal(out, "+0D+0A+7F~!+C3+A9");
	assert_int_equal(xtext_encode("", 0, out), 0);
	/* the worst case fills XTEXT_ENCODED_MAX exactly */
	assert_int_equal(xtext_encode("++++", 4, out), XTEXT_ENCODED_MAX(4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_base64_tolerance),
		cmocka_unit_test(test_base64_streaming),
		cmocka_unit_test(test_qp_decode),
		cmocka_unit_test(test_qp_encode),
		cmocka_unit_test(test_rfc2047_examples),
		cmocka_unit_test(test_rfc2047_encode),
		cmocka_unit_test(test_rfc2047_linear),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_xtext),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
