/* Unit tests of the form parsers (cgi/form.c): urlencoded, and multipart
 * fed whole and one byte at a time, at and past every limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

static struct arena *arena;

static int setup(void **state)
{
	(void)state;
	arena = arena_new();
	return arena == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(&arena);
	return 0;
}

static void test_urlencoded(void **state)
{
	(void)state;
	struct form f;
	int status = 0;
	const char *error = NULL;
	const char *s = "a=1&b=%41+b%2B&c&&d=&e=%zz&%C3%A9=%E2%82%AC";
	assert_int_equal(form_parse_urlencoded(arena, s, strlen(s), &form_limits_default, &f,
					       &status, &error), 1);
	assert_int_equal(f.count, 6);
	assert_string_equal(form_get(&f, "a"), "1");
	assert_string_equal(form_get(&f, "b"), "A b+");
	assert_string_equal(form_get(&f, "c"), "");
	assert_string_equal(form_get(&f, "d"), "");
	assert_string_equal(form_get(&f, "e"), "%zz");
	assert_string_equal(form_get(&f, "\xc3\xa9"), "\xe2\x82\xac");
	assert_null(form_get(&f, "x"));
	assert_int_equal(form_parse_urlencoded(arena, "", 0, &form_limits_default, &f, &status,
					       &error), 1);
	assert_int_equal(f.count, 0);
}

static void expect_url_error(const char *s, const struct form_limits *l, int want)
{
	struct form f;
	int status = 0;
	const char *error = NULL;
	assert_int_equal(form_parse_urlencoded(arena, s, strlen(s), l, &f, &status, &error), -1);
	assert_int_equal(status, want);
	assert_non_null(error);
}

static void test_urlencoded_bad(void **state)
{
	(void)state;
	struct form_limits l = form_limits_default;
	expect_url_error("a=%FF", &l, 400);
	expect_url_error("a=%C3%28", &l, 400);
	expect_url_error("%ED%A0%80=x", &l, 400);
	expect_url_error("a=x%00y", &l, 400);
	l.fields_max = 2;
	expect_url_error("a=1&b=2&c=3", &l, 413);
	l = form_limits_default;
	l.value_max = 3;
	expect_url_error("a=1234", &l, 413);
	l.value_max = 4;
	struct form f;
	int status;
	const char *error;
	assert_int_equal(form_parse_urlencoded(arena, "a=1234", 6, &l, &f, &status, &error), 1);
	l = form_limits_default;
	l.name_max = 2;
	expect_url_error("abc=1", &l, 413);
	l = form_limits_default;
	l.body_max = 5;
	expect_url_error("a=1&b=2", &l, 413);
}

#define CT "multipart/form-data; boundary=----WebKitFormBoundaryAbC123"
#define B "------WebKitFormBoundaryAbC123" /* "--" + the boundary */

static const char body[] =
	"preamble to ignore\r\n"
	B "\r\n"
	"Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
	"tok\xc3\xa9n\r\n"
	B "   \r\n"
	"Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".bin\"\r\n"
	"Content-Type: application/octet-stream\r\n\r\n"
	"\r\n------WebKitFormBoundaryAbC12X near miss\r\n\x00\xff\r\r\n-\r\n--\r\n"
	B "\r\n"
	"Content-Disposition: form-data; name=\"empty\"\r\n\r\n"
	"\r\n"
	B "--\r\n"
	"epilogue to ignore\r\n";

static const char file_content[] = "\r\n------WebKitFormBoundaryAbC12X near miss\r\n\x00\xff\r\r\n-\r\n--";

static int parse_multipart(const char *ct, const char *data, size_t len, size_t step,
			   const struct form_limits *l, struct form *f, int *status_r)
{
	const char *error;
	struct form_parser *p = form_parser_new(arena, ct, l, status_r, &error);
	if (p == NULL)
		return -2;
	for (size_t i = 0; i < len; i += step) {
		size_t n = len - i < step ? len - i : step;
		if (form_parser_feed(p, data + i, n) < 0)
			break;
	}
	return form_parser_finish(p, f, status_r, &error);
}

static struct form_limits upload_limits(void)
{
	struct form_limits l = form_limits_default;
	l.file_max = 1 << 20;
	l.files_max = 4;
	return l;
}

static void check_fields(const struct form *f)
{
	assert_int_equal(f->count, 3);
	assert_string_equal(form_get(f, "csrf"), "tok\xc3\xa9n");
	assert_string_equal(form_get(f, "empty"), "");
	const struct form_field *file = &f->fields[1];
	assert_string_equal(file->name, "file");
	assert_string_equal(file->filename, "a \"b\".bin");
	assert_string_equal(file->content_type, "application/octet-stream");
	assert_int_equal(file->value_len, sizeof(file_content) - 1);
	assert_memory_equal(file->value, file_content, sizeof(file_content) - 1);
}

static void test_multipart(void **state)
{
	(void)state;
	struct form_limits l = upload_limits();
	size_t steps[] = { sizeof(body), 1, 2, 3, 7, 31, 64 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct form f;
		int status = 0;
		assert_int_equal(parse_multipart(CT, body, sizeof(body) - 1, steps[i], &l, &f, &status), 1);
		check_fields(&f);
	}
	/* the boundary may be quoted, the type in any case, the body may
	 * start with the delimiter at once */
	const char b2[] = "--q\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--q--";
	struct form f;
	int status;
	assert_int_equal(parse_multipart("Multipart/Form-Data; charset=utf-8; boundary=\"q\"", b2,
					 sizeof(b2) - 1, 1, &l, &f, &status), 1);
	assert_string_equal(form_get(&f, "a"), "x");
	/* a backslash is an escape only before '"' and '\\': a Windows path
	 * (old browsers) and a name with a backslash arrive whole */
	const char b3[] = "--q\r\nContent-Disposition: form-data; name=f; "
			  "filename=\"C:\\Users\\bob\\a\\\\b \\\"c\\\".pdf\"\r\n\r\nx\r\n--q--";
	assert_int_equal(parse_multipart("multipart/form-data; boundary=q", b3, sizeof(b3) - 1, 1,
					 &l, &f, &status), 1);
	assert_string_equal(f.fields[0].filename, "C:\\Users\\bob\\a\\b \"c\".pdf");
}

static void expect_multipart_error(const char *ct, const char *data, size_t len,
				   const struct form_limits *l, int want)
{
	for (size_t step = 1; step <= len + 1; step = step * 3 + 1) {
		struct form f;
		int status = 0;
		int r = parse_multipart(ct, data, len, step, l, &f, &status);
		assert_true(r < 0);
		assert_int_equal(status, want);
	}
}

static void test_multipart_bad(void **state)
{
	(void)state;
	struct form_limits l = upload_limits();
	char big[FORM_PART_HEADER_MAX + 200];
	/* no final boundary */
	const char nofinal[] = "--q\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--q\r\n";
	expect_multipart_error("multipart/form-data; boundary=q", nofinal, sizeof(nofinal) - 1, &l, 400);
	const char cut[] = "--q\r\nContent-Disposition: form-data; name=a\r\n\r\nxyz";
	expect_multipart_error("multipart/form-data; boundary=q", cut, sizeof(cut) - 1, &l, 400);
	expect_multipart_error("multipart/form-data; boundary=q", "", 0, &l, 400);
	/* garbage after a boundary, no name, not form-data */
	const char garbage[] = "--qX\r\n";
	expect_multipart_error("multipart/form-data; boundary=q", garbage, sizeof(garbage) - 1, &l, 400);
	const char noname[] = "--q\r\nContent-Disposition: form-data\r\n\r\nx\r\n--q--";
	expect_multipart_error("multipart/form-data; boundary=q", noname, sizeof(noname) - 1, &l, 400);
	const char nodisp[] = "--q\r\nContent-Type: text/plain\r\n\r\nx\r\n--q--";
	expect_multipart_error("multipart/form-data; boundary=q", nodisp, sizeof(nodisp) - 1, &l, 400);
	const char badutf[] = "--q\r\nContent-Disposition: form-data; name=a\r\n\r\n\xff\r\n--q--";
	expect_multipart_error("multipart/form-data; boundary=q", badutf, sizeof(badutf) - 1, &l, 400);
	const char badname[] = "--q\r\nContent-Disposition: form-data; name=\"\xc3\"\r\n\r\nx\r\n--q--";
	expect_multipart_error("multipart/form-data; boundary=q", badname, sizeof(badname) - 1, &l, 400);
	/* a part header past FORM_PART_HEADER_MAX */
	int n = snprintf(big, sizeof(big), "--q\r\nContent-Disposition: form-data; name=a\r\nX: ");
	memset(big + n, 'h', sizeof(big) - (size_t)n);
	expect_multipart_error("multipart/form-data; boundary=q", big, sizeof(big), &l, 413);
	/* sizes */
	const char file[] = "--q\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n0123456789\r\n--q--";
	struct form_limits small = l;
	small.file_max = 9;
	expect_multipart_error("multipart/form-data; boundary=q", file, sizeof(file) - 1, &small, 413);
	small.file_max = 10;
	struct form f;
	int status;
	assert_int_equal(parse_multipart("multipart/form-data; boundary=q", file, sizeof(file) - 1, 1,
					 &small, &f, &status), 1);
	small.files_max = 0;
	expect_multipart_error("multipart/form-data; boundary=q", file, sizeof(file) - 1, &small, 413);
	small = l;
	small.body_max = 20;
	expect_multipart_error("multipart/form-data; boundary=q", file, sizeof(file) - 1, &small, 413);
	small = l;
	small.value_max = 3;
	const char val[] = "--q\r\nContent-Disposition: form-data; name=a\r\n\r\nabcd\r\n--q--";
	expect_multipart_error("multipart/form-data; boundary=q", val, sizeof(val) - 1, &small, 413);
	small.value_max = 4;
	assert_int_equal(parse_multipart("multipart/form-data; boundary=q", val, sizeof(val) - 1, 1,
					 &small, &f, &status), 1);
}

static void test_content_types(void **state)
{
	(void)state;
	struct form_limits l = upload_limits();
	const char *error;
	int status = 0;
	char ct[11000];
	assert_null(form_parser_new(arena, "text/plain", &l, &status, &error));
	assert_int_equal(status, 415);
	assert_null(form_parser_new(arena, "multipart/form-data", &l, &status, &error));
	assert_int_equal(status, 400);
	assert_null(form_parser_new(arena, "multipart/form-data; boundary=", &l, &status, &error));
	assert_int_equal(status, 400);
	assert_null(form_parser_new(arena, "multipart/form-data; boundary=\"unclosed", &l, &status,
				    &error));
	assert_int_equal(status, 400);
	assert_null(form_parser_new(arena, "multipart/form-data; boundary=a\rb", &l, &status, &error));
	assert_int_equal(status, 400);
	/* 70 is the RFC 2046 maximum; 71 and 10,000 are refused */
	for (size_t len = 70; len <= 10000; len = len == 70 ? 71 : 10000) {
		int k = snprintf(ct, sizeof(ct), "multipart/form-data; boundary=");
		memset(ct + k, 'b', len);
		ct[k + (int)len] = '\0';
		struct form_parser *p = form_parser_new(arena, ct, &l, &status, &error);
		if (len == 70) {
			assert_non_null(p);
			struct form f;
			form_parser_finish(p, &f, &status, &error);
		} else {
			assert_null(p);
			assert_int_equal(status, 400);
		}
		if (len == 10000)
			break;
	}
	/* no type: no body may come */
	struct form_parser *p = form_parser_new(arena, NULL, &l, &status, &error);
	assert_non_null(p);
	assert_int_equal(form_parser_feed(p, "x", 1), -1);
	struct form f;
	assert_int_equal(form_parser_finish(p, &f, &status, &error), -1);
	assert_int_equal(status, 415);
	/* urlencoded through the streaming parser, byte by byte */
	p = form_parser_new(arena, "application/x-www-form-urlencoded; charset=UTF-8", &l, &status,
			    &error);
	assert_non_null(p);
	const char *s = "op=flag&uid=1&uid=2";
	for (size_t i = 0; s[i] != '\0'; i++)
		assert_int_equal(form_parser_feed(p, s + i, 1), 0);
	assert_int_equal(form_parser_finish(p, &f, &status, &error), 1);
	assert_int_equal(f.count, 3);
	assert_string_equal(form_get(&f, "op"), "flag");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlencoded),
		cmocka_unit_test(test_urlencoded_bad),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_multipart_bad),
		cmocka_unit_test(test_content_types),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
