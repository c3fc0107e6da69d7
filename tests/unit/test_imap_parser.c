/* Unit tests of the IMAP command tokenizer (inetd/imap_parser.c): tokens,
 * quoting, bracketed sections, lists and their depth limit, literals of
 * every form fed byte by byte, the limits, and sequence sets. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap_parser.h"

static const struct imap_parser_limits limits = {
	.command_max = 4096, .depth_max = 8, .tokens_max = 100,
};

/* Renders the args as a compact text for comparison: atoms bare, strings
 * in "", literals as {text}, lists in (). */
static void render(const struct imap_arg *a, char *out, size_t *w)
{
	for (; a != NULL; a = a->next) {
		switch (a->type) {
		case IMAP_ARG_ATOM:
			*w += (size_t)sprintf(out + *w, "%s", a->str);
			break;
		case IMAP_ARG_QUOTED:
			*w += (size_t)sprintf(out + *w, "\"%s\"", a->str);
			break;
		case IMAP_ARG_LITERAL:
			*w += (size_t)sprintf(out + *w, "{%.*s}", (int)a->len, a->str);
			break;
		case IMAP_ARG_LIST:
			out[(*w)++] = '(';
			render(a->child, out, w);
			out[(*w)++] = ')';
			break;
		}
		if (a->next != NULL)
			out[(*w)++] = ' ';
	}
	out[*w] = '\0';
}

/* Feeds lines separated by "\n"; literal data is taken from the text after
 * a line announcing it, one byte at a time. Returns the final status and
 * the rendering. */
static int parse(const char *input, char *out)
{
	struct imap_parser *p = imap_parser_new(&limits);
	const char *s = input;
	int st = IMAP_PARSE_ERROR;

	assert_non_null(p);
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
		st = imap_parser_line(p, s, len);
		s += len + (nl != NULL);
		if (st != IMAP_PARSE_LITERAL)
			break;
		struct imap_literal_info info;
		imap_parser_literal_info(p, &info);
		if (info.size == 0)
			assert_int_equal(imap_parser_literal_data(p, "", 0), 1);
		for (uint64_t i = 0; i < info.size; i++) {
			int r = imap_parser_literal_data(p, s++, 1);
			assert_int_equal(r, i + 1 == info.size ? 1 : 0);
		}
	}
	size_t w = 0;
	out[0] = '\0';
	if (st == IMAP_PARSE_DONE)
		render(imap_parser_args(p), out, &w);
	else
		strcpy(out, imap_parser_error(p));
	imap_parser_free(&p);
	return st;
}

static void expect(const char *input, const char *rendered)
{
	char out[8192];

	assert_int_equal(parse(input, out), IMAP_PARSE_DONE);
	assert_string_equal(out, rendered);
}

static void expect_error(const char *input)
{
	char out[8192];

	assert_int_equal(parse(input, out), IMAP_PARSE_ERROR);
}

static void test_tokens(void **state)
{
	(void)state;
	expect("a1 NOOP", "a1 NOOP");
	expect("a LOGIN \"bob\" \"p\\\"w\\\\\"", "a LOGIN \"bob\" \"p\"w\\\"");
	expect("a SELECT INBOX (CONDSTORE)", "a SELECT INBOX (CONDSTORE)");
	expect("a STORE 1:* +FLAGS (\\Seen $Junk)", "a STORE 1:* +FLAGS (\\Seen $Junk)");
	expect("a LIST \"\" %", "a LIST \"\" %");
	expect("a SELECT [Gmail]/Sent", "a SELECT [Gmail]/Sent");
	expect("a SEARCH ()", "a SEARCH ()");
	expect("a X  ( a  b )", "a X (a b)");
	expect("a X ((()))", "a X ((()))");
}

static void test_sections(void **state)
{
	(void)state;
	expect("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100> UID)",
	       "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100> UID)");
	expect("a FETCH 1 BODY[]", "a FETCH 1 BODY[]");
	expect("a FETCH 1 (BINARY.PEEK[1.2] BODY[1.MIME])",
	       "a FETCH 1 (BINARY.PEEK[1.2] BODY[1.MIME])");
}

static void test_literals(void **state)
{
	(void)state;
	expect("a LOGIN {3}\nbob {2}\npw", "a LOGIN {bob} {pw}");
	expect("a LOGIN {3+}\nbob \"pw\"", "a LOGIN {bob} \"pw\"");
	expect("a APPEND INBOX ~{4}\na\0bc", "a APPEND INBOX {a}");
	expect("a X {0}\n", "a X {}");
	expect("a X ({2}\nab c)", "a X ({ab} c)");
	expect_error("a X {3}x");           /* not at the end of the line */
	expect_error("a X {}");
	expect_error("a X {99999999999}");  /* more than ten digits */
	expect_error("a X {4294967296}");   /* above 32 bits */
	expect_error("a X {3}\nabcdef");    /* no space after the literal */
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("a X \"unterminated");
	expect_error("a X \"bad\\escape\"");
	expect_error("a X (unclosed");
	expect_error("a X closed)");
	expect_error("a X \"a\"\"b\"");
	expect_error("a X ab\"c");
	expect_error("a X \x01");
	expect_error("a X \xc3\xa9");        /* 8-bit atom */
	expect_error("a X ((((((((((deep))))))))))");
	char nul[] = "a X \0";
	struct imap_parser *p = imap_parser_new(&limits);
	assert_int_equal(imap_parser_line(p, nul, sizeof(nul) - 1), IMAP_PARSE_ERROR);
	imap_parser_free(&p);
}

static void test_limits(void **state)
{
	char big[5000];

	(void)state;
	/* too many tokens */
	size_t w = (size_t)sprintf(big, "a X");
	for (int i = 0; i < 150; i++)
		w += (size_t)sprintf(big + w, " t");
	expect_error(big);
	/* too many bytes */
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big, "a X ", 4);
	big[sizeof(big) - 1] = '\0';
	expect_error(big);
	/* a literal past the command limit */
	struct imap_parser *p = imap_parser_new(&limits);
	assert_int_equal(imap_parser_line(p, "a X {5000}", 10), IMAP_PARSE_LITERAL);
	char chunk[1000] = { 0 };
	int r = 0;
	for (int i = 0; i < 5 && r == 0; i++)
		r = imap_parser_literal_data(p, chunk, sizeof(chunk));
	assert_int_equal(r, -1);
	imap_parser_free(&p);
}

static void test_literal_info(void **state)
{
	struct imap_parser *p = imap_parser_new(&limits);
	struct imap_literal_info info;

	(void)state;
	const char *line = "t APPEND box (\\Seen) {4294967295+}";
	assert_int_equal(imap_parser_line(p, line, strlen(line)), IMAP_PARSE_LITERAL);
	imap_parser_literal_info(p, &info);
	assert_true(info.size == 4294967295ULL);
	assert_false(info.sync);
	assert_int_equal(info.depth, 0);
	assert_int_equal(info.index, 4);
	imap_parser_literal_streamed(p);
	assert_int_equal(imap_parser_line(p, "", 0), IMAP_PARSE_DONE);
	const struct imap_arg *a = imap_parser_args(p);
	assert_string_equal(a->str, "t");
	assert_int_equal(imap_arg_count(a), 5);
	imap_parser_free(&p);

	uint64_t size;
	bool sync;
	assert_int_equal(imap_line_literal_suffix("x {12+}", 7, &size, &sync), 1);
	assert_true(size == 12 && !sync);
	assert_int_equal(imap_line_literal_suffix("x {12}", 6, &size, &sync), 1);
	assert_true(size == 12 && sync);
	assert_int_equal(imap_line_literal_suffix("x 12}", 5, &size, &sync), 0);
}

static void test_seqset(void **state)
{
	struct imap_seqset set;

	(void)state;
	assert_int_equal(imap_seqset_parse("1,3:5,7:*", 9, &set), 1);
	assert_int_equal(set.count, 3);
	assert_int_equal(set.ranges[1].lo, 3);
	assert_int_equal(set.ranges[1].hi, 5);
	assert_int_equal(set.ranges[2].hi, 0);
	imap_seqset_free(&set);
	assert_int_equal(imap_seqset_parse("1:4294967295", 12, &set), 1);
	assert_int_equal(set.ranges[0].hi, 4294967295U);
	imap_seqset_free(&set);
	assert_int_equal(imap_seqset_parse("*", 1, &set), 1);
	imap_seqset_free(&set);
	const char *bad[] = { "", "0", "1,", ",1", "1::2", "a", "1:", "4294967296", "01", "1 2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(imap_seqset_parse(bad[i], strlen(bad[i]), &set), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),   cmocka_unit_test(test_sections),
		cmocka_unit_test(test_literals), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),   cmocka_unit_test(test_literal_info),
		cmocka_unit_test(test_seqset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
