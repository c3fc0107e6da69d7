/* Unit tests of the ManageSieve argument parser (inetd/managesieve_proto.c):
 * command names, quoted strings and their escapes, literals {n} and {n+}
 * with what follows them, numbers, every limit at and over, and malformed
 * lines (which say whether a literal is still on its way). */
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

#include "managesieve.h"

static enum ms_parse_status parse(struct ms_parser *p, const char *line)
{
	return ms_parse_line(p, line, strlen(line));
}

/* Gives the parser the literal it asked for. */
static void literal(struct ms_parser *p, const char *data, size_t len)
{
	char *copy = malloc(len + 1);

	assert_non_null(copy);
	assert_int_equal(p->literal_len, len);
	memcpy(copy, data, len);
	copy[len] = '\0';
	ms_parser_literal(p, copy, len);
}

static void assert_arg(const struct ms_parser *p, size_t i, enum ms_arg_type type,
		       const char *data, size_t len, bool is_literal)
{
	assert_true(i < p->nargs);
	assert_int_equal(p->args[i].type, type);
	assert_int_equal(p->args[i].len, len);
	assert_memory_equal(p->args[i].data, data, len);
	assert_int_equal(p->args[i].data[len], '\0');
	assert_int_equal(p->args[i].literal, is_literal);
}

static void test_names(void **state)
{
	struct ms_parser p;

	(void)state;
	ms_parser_init(&p, true);
	assert_int_equal(parse(&p, "capability"), MS_PARSE_DONE);
	assert_string_equal(p.name, "CAPABILITY");
	assert_int_equal(p.nargs, 0);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, "UNAUTHENTICATE"), MS_PARSE_DONE);
	ms_parser_clear(&p);
	/* one letter over the longest name */
	assert_int_equal(parse(&p, "UNAUTHENTICATEX"), MS_PARSE_ERROR);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, ""), MS_PARSE_ERROR);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, "NO0P"), MS_PARSE_ERROR);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, " NOOP"), MS_PARSE_ERROR);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, "NOOP "), MS_PARSE_ERROR); /* a trailing space */
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, "NOOP  \"x\""), MS_PARSE_ERROR); /* two spaces */
	ms_parser_clear(&p);
}

static void test_quoted(void **state)
{
	struct ms_parser p;

	(void)state;
	ms_parser_init(&p, true);
	assert_int_equal(parse(&p, "PUTSCRIPT \"a\\\"b\\\\c\" \"\""), MS_PARSE_DONE);
	assert_string_equal(p.name, "PUTSCRIPT");
	assert_int_equal(p.nargs, 2);
	assert_arg(&p, 0, MS_ARG_STRING, "a\"b\\c", 5, false);
	assert_arg(&p, 1, MS_ARG_STRING, "", 0, false);
	ms_parser_clear(&p);
	/* UTF-8 passes through as octets */
	assert_int_equal(parse(&p, "GETSCRIPT \"gr\xc3\xbc\xc3\x9f\""), MS_PARSE_DONE);
	assert_arg(&p, 0, MS_ARG_STRING, "gr\xc3\xbc\xc3\x9f", 6, false);
	ms_parser_clear(&p);
	/* other escapes, open quotes, control characters */
	const char *bad[] = { "NOOP \"a\\n\"", "NOOP \"abc", "NOOP \"abc\\\"", "NOOP \"a\\",
			      "NOOP \"a\"\"b\"", "NOOP \"a\rb\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&p, bad[i]), MS_PARSE_ERROR);
		assert_non_null(p.error);
		assert_false(p.literal_pending);
		ms_parser_clear(&p);
	}
	/* a NUL inside */
	assert_int_equal(ms_parse_line(&p, "NOOP \"a\0b\"", 10), MS_PARSE_ERROR);
	ms_parser_clear(&p);
}

static void test_quoted_limit(void **state)
{
	char line[MS_QUOTED_MAX * 2 + 32];
	struct ms_parser p;
	size_t n;

	(void)state;
	ms_parser_init(&p, true);
	n = (size_t)sprintf(line, "NOOP \"");
	memset(line + n, 'x', MS_QUOTED_MAX);
	strcpy(line + n + MS_QUOTED_MAX, "\"");
	assert_int_equal(parse(&p, line), MS_PARSE_DONE);
	assert_int_equal(p.args[0].len, MS_QUOTED_MAX);
	ms_parser_clear(&p);
	/* one over */
	memset(line + n, 'x', MS_QUOTED_MAX + 1);
	strcpy(line + n + MS_QUOTED_MAX + 1, "\"");
	assert_int_equal(parse(&p, line), MS_PARSE_ERROR);
	ms_parser_clear(&p);
	/* escapes count once: 1024 escaped quotes fit */
	for (size_t i = 0; i < MS_QUOTED_MAX; i++)
		memcpy(line + n + 2 * i, "\\\"", 2);
	strcpy(line + n + 2 * MS_QUOTED_MAX, "\"");
	assert_int_equal(parse(&p, line), MS_PARSE_DONE);
	assert_int_equal(p.args[0].len, MS_QUOTED_MAX);
	ms_parser_clear(&p);
}

static void test_literals(void **state)
{
	struct ms_parser p;

	(void)state;
	ms_parser_init(&p, true);
	/* {n+} ends a line; the next line goes on after the literal */
	assert_int_equal(parse(&p, "PUTSCRIPT \"s\" {5+}"), MS_PARSE_LITERAL);
	assert_false(p.literal_sync);
	literal(&p, "ke\0p;", 5);
	assert_int_equal(parse(&p, ""), MS_PARSE_DONE);
	assert_arg(&p, 0, MS_ARG_STRING, "s", 1, false);
	assert_arg(&p, 1, MS_ARG_STRING, "ke\0p;", 5, true);
	ms_parser_clear(&p);
	/* {n} (synchronizing) reads the same; a literal first, a quoted after */
	assert_int_equal(parse(&p, "RENAMESCRIPT {3}"), MS_PARSE_LITERAL);
	assert_true(p.literal_sync);
	literal(&p, "old", 3);
	assert_int_equal(parse(&p, " \"new\""), MS_PARSE_DONE);
	assert_arg(&p, 0, MS_ARG_STRING, "old", 3, true);
	assert_arg(&p, 1, MS_ARG_STRING, "new", 3, false);
	ms_parser_clear(&p);
	/* two literals, and an empty one */
	assert_int_equal(parse(&p, "RENAMESCRIPT {0+}"), MS_PARSE_LITERAL);
	literal(&p, "", 0);
	assert_int_equal(parse(&p, " {1+}"), MS_PARSE_LITERAL);
	literal(&p, "b", 1);
	assert_int_equal(parse(&p, ""), MS_PARSE_DONE);
	assert_int_equal(p.nargs, 2);
	ms_parser_clear(&p);
	/* after a literal: no space before the next argument is an error */
	assert_int_equal(parse(&p, "RENAMESCRIPT {1+}"), MS_PARSE_LITERAL);
	literal(&p, "a", 1);
	assert_int_equal(parse(&p, "\"b\""), MS_PARSE_ERROR);
	ms_parser_clear(&p);
	/* a literal that does not end its line */
	assert_int_equal(parse(&p, "PUTSCRIPT {1+} \"x\""), MS_PARSE_ERROR);
	ms_parser_clear(&p);
	const char *bad[] = { "NOOP {}", "NOOP {+}", "NOOP {1", "NOOP {1+", "NOOP {-1}",
			      "NOOP {1x}", "NOOP {12345678901}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&p, bad[i]), MS_PARSE_ERROR);
		ms_parser_clear(&p);
	}
}

static void test_literal_limit(void **state)
{
	char line[64];
	struct ms_parser p;

	(void)state;
	ms_parser_init(&p, true);
	snprintf(line, sizeof(line), "PUTSCRIPT \"s\" {%d+}", MS_LITERAL_MAX);
	assert_int_equal(parse(&p, line), MS_PARSE_LITERAL);
	assert_int_equal(p.literal_len, MS_LITERAL_MAX);
	ms_parser_clear(&p);
	snprintf(line, sizeof(line), "PUTSCRIPT \"s\" {%d+}", MS_LITERAL_MAX + 1);
	assert_int_equal(parse(&p, line), MS_PARSE_TOO_BIG);
	assert_int_equal(p.literal_len, MS_LITERAL_MAX + 1);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, "PUTSCRIPT \"s\" {9999999999}"), MS_PARSE_TOO_BIG);
	ms_parser_clear(&p);
}

static void test_args_and_numbers(void **state)
{
	struct ms_parser p;
	uint32_t n = 0;

	(void)state;
	ms_parser_init(&p, true);
	assert_int_equal(parse(&p, "HAVESPACE \"s\" 4294967295"), MS_PARSE_DONE);
	assert_arg(&p, 1, MS_ARG_ATOM, "4294967295", 10, false);
	assert_int_equal(ms_arg_number(&p.args[1], &n), 1);
	assert_int_equal(n, UINT32_MAX);
	assert_int_equal(ms_arg_number(&p.args[0], &n), 0); /* a string is no number */
	ms_parser_clear(&p);
	const char *nan[] = { "4294967296", "12345678901", "-1", "1a", "+1" };
	for (size_t i = 0; i < sizeof(nan) / sizeof(nan[0]); i++) {
		char line[64];

		snprintf(line, sizeof(line), "HAVESPACE \"s\" %s", nan[i]);
		assert_int_equal(parse(&p, line), MS_PARSE_DONE);
		assert_int_equal(ms_arg_number(&p.args[1], &n), 0);
		ms_parser_clear(&p);
	}
	/* MS_ARGS_MAX arguments, then one too many */
	assert_int_equal(parse(&p, "X \"1\" \"2\" \"3\""), MS_PARSE_DONE);
	assert_int_equal(p.nargs, MS_ARGS_MAX);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, "X \"1\" \"2\" \"3\" \"4\""), MS_PARSE_ERROR);
	assert_false(p.literal_pending);
	ms_parser_clear(&p);
	/* ... as a literal: refused, and the client is still sending it */
	assert_int_equal(parse(&p, "X \"1\" \"2\" \"3\" {10+}"), MS_PARSE_ERROR);
	assert_true(p.literal_pending);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, "NOOP (x) {10}"), MS_PARSE_ERROR);
	assert_true(p.literal_pending);
	ms_parser_clear(&p);
}

static void test_response(void **state)
{
	struct ms_parser p;

	(void)state;
	/* SASL responses: one string, no command name */
	ms_parser_init(&p, false);
	assert_int_equal(parse(&p, "\"*\""), MS_PARSE_DONE);
	assert_arg(&p, 0, MS_ARG_STRING, "*", 1, false);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, "{4+}"), MS_PARSE_LITERAL);
	literal(&p, "AGEA", 4);
	assert_int_equal(parse(&p, ""), MS_PARSE_DONE);
	assert_arg(&p, 0, MS_ARG_STRING, "AGEA", 4, true);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, ""), MS_PARSE_ERROR);
	ms_parser_clear(&p);
	assert_int_equal(parse(&p, " \"x\""), MS_PARSE_ERROR);
	ms_parser_clear(&p);
}

/* Any prefix of a valid line, and every single-byte change of it, parses
 * without a crash (ASan watches) and leaves nothing behind. */
static void test_mutations(void **state)
{
	const char *base = "PUTSCRIPT \"a\\\"b\" {12+}";
	char line[64];
	size_t len = strlen(base);
	struct ms_parser p;

	(void)state;
	ms_parser_init(&p, true);
	for (size_t cut = 0; cut <= len; cut++) {
		(void)ms_parse_line(&p, base, cut);
		ms_parser_clear(&p);
	}
	for (size_t i = 0; i < len; i++) {
		for (int c = 0; c < 256; c++) {
			memcpy(line, base, len);
			line[i] = (char)c;
			(void)ms_parse_line(&p, line, len);
			ms_parser_clear(&p);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_quoted_limit),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_literal_limit),
		cmocka_unit_test(test_args_and_numbers),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
