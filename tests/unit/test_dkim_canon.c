/* DKIM relaxed canonicalisation (RFC 6376 3.4.2, 3.4.4) against the RFC's
 * own example (3.4.5) and edge cases, fed whole and one byte at a time; and
 * the choice of signed fields: h= order, From oversigned, instances from
 * the bottom up, what makes a message unsignable, the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_canon.h"

/* ---------------------------------------------------------------- header */

static void header_is(const char *field, const char *want)
{
	const char *colon = strchr(field, ':');
	size_t len = strlen(field);
	char *out = malloc(len + 3);

	assert_non_null(colon);
	/* the field as mime_header_next gives it: value without the last CRLF */
	if (len >= 2 && strcmp(field + len - 2, "\r\n") == 0)
		len -= 2;
	size_t n = dkim_canon_header(field, (size_t)(colon - field), colon + 1,
				     len - (size_t)(colon - field) - 1, out);
	out[n] = '\0';
	assert_string_equal(out, want);
	free(out);
}

static void test_header_rfc_example(void **state)
{
	(void)state;
	/* RFC 6376 3.4.5: "A: X" and "B : Y<HTAB><CRLF><HTAB>Z<SP><SP>" */
	header_is("A: X\r\n", "a:X\r\n");
	header_is("B : Y\t\r\n\tZ  \r\n", "b:Y Z\r\n");
}

static void test_header_edges(void **state)
{
	(void)state;
	header_is("Subject: a\r\n long\r\n\tfolded \t subject \r\n",
		  "subject:a long folded subject\r\n");
	header_is("SUBJECT:x", "subject:x\r\n");
	header_is("To: a:  b", "to:a: b\r\n");
	header_is("X-Empty:", "x-empty:\r\n");
	header_is("X-Blank:  \t ", "x-blank:\r\n");
	header_is("Subject: caf\xc3\xa9  8bit", "subject:caf\xc3\xa9 8bit\r\n");
}

/* ------------------------------------------------------------------ body */

struct sink {
	char buf[4096];
	size_t len;
	unsigned calls;
};

static void sink_out(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->len + len < sizeof(s->buf));
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->calls++;
}

static void body_is_split(const char *in, size_t inlen, const char *want, size_t step)
{
	struct dkim_body *b = malloc(sizeof(*b));
	struct sink s = { .len = 0 };

	dkim_body_init(b, sink_out, &s);
	for (size_t i = 0; i < inlen; i += step)
		dkim_body_update(b, in + i, inlen - i < step ? inlen - i : step);
	dkim_body_finish(b);
	s.buf[s.len] = '\0';
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.buf, want, s.len);
	free(b);
}

static void body_is(const char *in, const char *want)
{
	body_is_split(in, strlen(in), want, strlen(in) + 1);
	body_is_split(in, strlen(in), want, 1);
	body_is_split(in, strlen(in), want, 3);
}

static void test_body_rfc_example(void **state)
{
	(void)state;
	/* RFC 6376 3.4.5: "<SP>C<SP><CRLF>D<SP><HTAB><SP>E<CRLF><CRLF><CRLF>" */
	body_is(" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n");
}

static void test_body_edges(void **state)
{
	(void)state;
	/* relaxed: an empty body is empty (simple's would be CRLF) */
	body_is("", "");
	body_is("\r\n", "");
	body_is("\r\n\r\n \r\n\t\r\n", "");
	/* a last line without its CRLF gets one */
	body_is("x", "x\r\n");
	body_is("x  ", "x\r\n");
	/* trailing whitespace, on lines and at the end */
	body_is("a \r\nb\t\r\n  \r\n", "a\r\nb\r\n");
	/* empty lines inside stay */
	body_is("a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n");
	body_is("a\r\n \r\nb\r\n", "a\r\n\r\nb\r\n");
	/* a leading run is one SP, not nothing */
	body_is("\t\t a\r\n", " a\r\n");
	body_is("a \t  b \t c\r\n", "a b c\r\n");
	/* quoted-printable text is text: soft breaks and =20 untouched */
	body_is("caf=C3=A9 =\r\nnext=20\r\n", "caf=C3=A9 =\r\nnext=20\r\n");
	/* 8-bit bytes are content */
	body_is("\xc3\xa9t\xc3\xa9 \r\n", "\xc3\xa9t\xc3\xa9\r\n");
}

static void test_body_long(void **state)
{
	char *in = malloc(20000), want[3];
	struct dkim_body *b = malloc(sizeof(*b));
	struct sink *s = calloc(1, sizeof(*s));

	(void)state;
	/* more than one output buffer: handed on in pieces, nothing lost */
	memset(in, 'x', 3000);
	dkim_body_init(b, sink_out, s);
	dkim_body_update(b, in, 3000);
	dkim_body_update(b, "\r\n", 2);
	dkim_body_finish(b);
	assert_int_equal(s->len, 3002);
	assert_true(s->calls >= 1);
	memcpy(want, s->buf + 3000, 2);
	assert_memory_equal(want, "\r\n", 2);
	free(in);
	free(b);
	free(s);
}

/* --------------------------------------------------------------- fields */

static int select_hdr(const char *header, struct dkim_headers *h, const char **why)
{
	*why = NULL;
	return dkim_headers_select(header, strlen(header), h, why);
}

static void test_select(void **state)
{
	struct dkim_headers h;
	const char *why;
	static const char header[] =
		"Received: from a by b\r\n"
		"From: Bob <Bob@Example.COM>\r\n"
		"To: one@example.org\r\n"
		"Subject: first\r\n line\r\n"
		"List-Id: <list.example.com>\r\n"
		"To: two@example.org\r\n"
		"X-Other: not signed\r\n"
		"MIME-Version: 1.0\r\n"
		"\r\n";

	(void)state;
	assert_int_equal(select_hdr(header, &h, &why), 1);
	assert_string_equal(h.h, "from:from:to:to:subject:mime-version:list-id");
	assert_string_equal(h.from_domain, "example.com");
	/* To: instances from the bottom up; the second From: adds nothing */
	static const char want[] =
		"from:Bob <Bob@Example.COM>\r\n"
		"to:two@example.org\r\n"
		"to:one@example.org\r\n"
		"subject:first line\r\n"
		"mime-version:1.0\r\n"
		"list-id:<list.example.com>\r\n";
	assert_int_equal(h.canon_len, strlen(want));
	assert_memory_equal(h.canon, want, h.canon_len);
	dkim_headers_clear(&h);
}

static void refused(const char *header, const char *why_part)
{
	struct dkim_headers h;
	const char *why;

	assert_int_equal(select_hdr(header, &h, &why), 0);
	assert_non_null(why);
	if (strstr(why, why_part) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", why, why_part);
	assert_null(h.canon);
}

static void test_unsignable(void **state)
{
	(void)state;
	refused("To: a@example.org\r\nSubject: x\r\n\r\n", "no From");
	refused("From: a@example.com\r\nFrom: b@example.com\r\n\r\n", "several From");
	refused("From: a@example.com, b@example.com\r\n\r\n", "several addresses");
	refused("From: undisclosed:;\r\n\r\n", "From");
	refused("From: a@[192.0.2.1]\r\n\r\n", "no domain");
	refused("From: nobody\r\n\r\n", "no domain");
}

static void test_limits(void **state)
{
	char *big = malloc(DKIM_HEADER_MAX + 64);
	size_t n = 0;

	(void)state;
	/* one signed field too often */
	n = (size_t)sprintf(big, "From: a@example.com\r\n");
	for (int i = 0; i < DKIM_FIELD_REPEAT_MAX; i++)
		n += (size_t)sprintf(big + n, "To: x%d@example.org\r\n", i);
	big[n] = '\0';
	struct dkim_headers h;
	const char *why;
	assert_int_equal(select_hdr(big, &h, &why), 1);   /* at the limit */
	dkim_headers_clear(&h);
	n += (size_t)sprintf(big + n, "To: last@example.org\r\n");
	big[n] = '\0';
	refused(big, "repeated");
	/* too many fields */
	n = (size_t)sprintf(big, "From: a@example.com\r\n");
	for (int i = 0; i < DKIM_FIELDS_MAX; i++)
		n += (size_t)sprintf(big + n, "X-%d: y\r\n", i);
	big[n] = '\0';
	refused(big, "too many fields");
	/* a header past DKIM_HEADER_MAX */
	n = (size_t)sprintf(big, "From: a@example.com\r\nX-Long: ");
	memset(big + n, 'a', DKIM_HEADER_MAX);
	big[DKIM_HEADER_MAX + 10] = '\0';
	refused(big, "too long");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_rfc_example),
		cmocka_unit_test(test_header_edges),
		cmocka_unit_test(test_body_rfc_example),
		cmocka_unit_test(test_body_edges),
		cmocka_unit_test(test_body_long),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_unsignable),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
