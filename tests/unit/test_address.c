/* RFC 5322 address lists: modern, obsolete and broken syntax, limits, time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "address.h"

static struct address_list *parse(const char *s, unsigned flags)
{
	struct address_list *list;
	assert_int_equal(address_list_parse(s, strlen(s), 0, &list), 1);
	assert_non_null(list);
	if (list->flags != flags)
		fail_msg("\"%s\": flags %u, want %u", s, list->flags, flags);
	return list;
}

static void equal_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void assert_addr(const struct address *a, const char *name, const char *route,
			const char *mailbox, const char *host)
{
	equal_or_null(a->name, name);
	equal_or_null(a->route, route);
	equal_or_null(a->mailbox, mailbox);
	equal_or_null(a->host, host);
}

static void one(const char *s, unsigned flags, const char *name, const char *route,
		const char *mailbox, const char *host)
{
	struct address_list *l = parse(s, flags);
	assert_int_equal(l->count, 1);
	assert_addr(&l->addrs[0], name, route, mailbox, host);
	address_list_free(&l);
	assert_null(l);
}

static void test_mailboxes(void **state)
{
	one("alice@example.org", 0, NULL, NULL, "alice", "example.org");
	one("Alice Example <alice@example.org>", 0, "Alice Example", NULL, "alice", "example.org");
	one("  \"Doe, John\"   <john@x.org>  ", 0, "Doe, John", NULL, "john", "x.org");
	one("alice@example.org (Alice Comment)", 0, "Alice Comment", NULL, "alice", "example.org");
	one("a@b (x (nested) \\) y)", 0, "x (nested) ) y", NULL, "a", "b");
	one("John Q. Public <jqp@x.org>", 0, "John Q. Public", NULL, "jqp", "x.org");
	one("=?utf-8?q?J=C3=B6rg?= <j@x>", 0, "=?utf-8?q?J=C3=B6rg?=", NULL, "j", "x");
	one("\"quoted \\\"name\\\"\" <q@x>", 0, "quoted \"name\"", NULL, "q", "x");
	one("\"john doe\"@example.org", 0, NULL, NULL, "john doe", "example.org");
	one("user@[192.0.2.1]", 0, NULL, NULL, "user", "[192.0.2.1]");
	one("<@relay1.example,@relay2.example:user@example.org>", 0, NULL, "@relay1.example,@relay2.example",
	    "user", "example.org");
	one("Name <@a.example, ,@b.example:u@h>", 0, "Name", "@a.example,@b.example", "u", "h");
	one("<>", 0, NULL, NULL, "", "");
	one("A\r\n B\r\n <a@b>", 0, "A B", NULL, "a", "b");
	one("first . last @ example . org", 0, NULL, NULL, "first.last", "example.org");
	one("J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc.example>", 0, "J\xc3\xb6rg", NULL, "j\xc3\xb6rg", "b\xc3\xbc.example");
	struct address_list *l;
	assert_int_equal(address_list_parse("a\0b@c", 5, 0, &l), 1);
	assert_int_equal(l->count, 1);
	assert_addr(&l->addrs[0], NULL, NULL, "a b", "c");
	address_list_free(&l);
}

static void test_lists_and_groups(void **state)
{
	struct address_list *l = parse("\"Doe, John\" <john@x.org>, jane@y.org", 0);
	assert_int_equal(l->count, 2);
	assert_addr(&l->addrs[1], NULL, NULL, "jane", "y.org");
	address_list_free(&l);

	l = parse("Team: a@x.org, \"B\" <b@x.org>; c@x.org", 0);
	assert_int_equal(l->count, 5);
	assert_addr(&l->addrs[0], NULL, NULL, "Team", NULL);
	assert_addr(&l->addrs[1], NULL, NULL, "a", "x.org");
	assert_addr(&l->addrs[2], "B", NULL, "b", "x.org");
	assert_addr(&l->addrs[3], NULL, NULL, NULL, NULL);
	assert_addr(&l->addrs[4], NULL, NULL, "c", "x.org");
	address_list_free(&l);

	l = parse("undisclosed-recipients:;", 0);
	assert_int_equal(l->count, 2);
	assert_addr(&l->addrs[0], NULL, NULL, "undisclosed-recipients", NULL);
	assert_addr(&l->addrs[1], NULL, NULL, NULL, NULL);
	address_list_free(&l);

	l = parse(", , a@b,,c@d,", 0); /* obs-addr-list */
	assert_int_equal(l->count, 2);
	address_list_free(&l);

	l = parse("", 0);
	assert_int_equal(l->count, 0);
	address_list_free(&l);
	l = parse(" (just a comment) ", 0);
	assert_int_equal(l->count, 0);
	address_list_free(&l);
}

static void test_garbage(void **state)
{
	one("undisclosed-recipients", ADDRESS_LIST_F_INVALID, NULL, NULL, "undisclosed-recipients", "");
	one("Name <user>", ADDRESS_LIST_F_INVALID, "Name", NULL, "user", "");
	one("Name <a@b", ADDRESS_LIST_F_INVALID, "Name", NULL, "a", "b");
	one("\"unterminated <a@b>", ADDRESS_LIST_F_INVALID, NULL, NULL, "unterminated <a@b>", "");
	one("a@b (unterminated", ADDRESS_LIST_F_INVALID, "unterminated", NULL, "a", "b");
	one("a@", ADDRESS_LIST_F_INVALID, NULL, NULL, "a", "");

	struct address_list *l = parse("a@b c@d, e@f", ADDRESS_LIST_F_INVALID);
	assert_int_equal(l->count, 2);
	assert_addr(&l->addrs[0], NULL, NULL, "a", "b");
	assert_addr(&l->addrs[1], NULL, NULL, "e", "f");
	address_list_free(&l);

	l = parse("g: a@b", ADDRESS_LIST_F_INVALID); /* group never closed */
	assert_int_equal(l->count, 3);
	assert_addr(&l->addrs[2], NULL, NULL, NULL, NULL);
	address_list_free(&l);

	l = parse("g: h: a@b;", ADDRESS_LIST_F_INVALID); /* no nested groups */
	assert_int_equal(l->count, 3);
	address_list_free(&l);

	static const char *const junk[] = { "@@@", ">", ")(", "<<<>>>", ";;;", "\\", "[", "\"", ":", "a@b>c" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		l = parse(junk[i], ADDRESS_LIST_F_INVALID);
		for (size_t k = 0; k < l->count; k++)
			assert_true(l->addrs[k].host == NULL || l->addrs[k].mailbox != NULL);
		address_list_free(&l);
	}
}

static void test_limits(void **state)
{
	struct address_list *l;
	const char *s = "a@b, c@d, e@f, g@h";
	for (size_t max = 3; max <= 5; max++) {
		assert_int_equal(address_list_parse(s, strlen(s), max, &l), 1);
		assert_int_equal(l->count, max < 4 ? max : 4);
		assert_int_equal(l->flags, max < 4 ? ADDRESS_LIST_F_TRUNCATED : 0);
		address_list_free(&l);
	}
	/* truncated inside a group: the group is still closed */
	s = "g: a@b, c@d, e@f;";
	assert_int_equal(address_list_parse(s, strlen(s), 2, &l), 1);
	assert_int_equal(l->count, 3);
	assert_null(l->addrs[2].mailbox);
	assert_int_equal(l->flags, ADDRESS_LIST_F_TRUNCATED);
	address_list_free(&l);

	/* ADDRESS_INPUT_MAX bytes are read, no more */
	size_t len = ADDRESS_INPUT_MAX + 100;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, ' ', len);
	memcpy(big, "a@b,", 4);
	memcpy(big + len - 4, "c@d", 3);
	assert_int_equal(address_list_parse(big, len, 0, &l), 1);
	assert_int_equal(l->count, 1);
	assert_int_equal(l->flags, ADDRESS_LIST_F_TRUNCATED);
	address_list_free(&l);
	assert_int_equal(address_list_parse(big, ADDRESS_INPUT_MAX, 0, &l), 1);
	assert_int_equal(l->flags, 0);
	address_list_free(&l);
	free(big);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 MiB of hostile patterns must each parse in linear time. */
static void test_linear_time(void **state)
{
	static const char *const patterns[] = {
		"a ", "<", "(", "\"", "a@b,", "g:", "<@a,", "a.", ";", "x <y@z> ", "@", "\\(",
	};
	size_t len = ADDRESS_INPUT_MAX;
	char *buf = malloc(len);
	assert_non_null(buf);
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		size_t pl = strlen(patterns[p]);
		for (size_t i = 0; i < len; i++)
			buf[i] = patterns[p][i % pl];
		struct address_list *l;
		double t0 = now();
		assert_int_equal(address_list_parse(buf, len, 0, &l), 1);
		double dt = now() - t0;
		print_message("1 MiB of \"%s\": %zu elements in %.3f s\n", patterns[p], l->count, dt);
		assert_true(dt < 1.0);
		assert_true(l->count <= ADDRESS_LIST_MAX + 1);
		address_list_free(&l);
	}
	free(buf);
}

static void test_addr_spec(void **state)
{
	struct address_list *l = parse("a@b, \"john doe\"@x, \"q\\\"t\"@y, nodomain, g:;, .dot@z", ADDRESS_LIST_F_INVALID);
	const char *const want[] = { "a@b", "\"john doe\"@x", "\"q\\\"t\"@y", "nodomain", NULL, NULL, "\".dot\"@z" };
	assert_int_equal(l->count, 7);
	for (size_t i = 0; i < l->count; i++) {
		char *s = address_addr_spec(&l->addrs[i]);
		equal_or_null(s, want[i]);
		free(s);
	}
	address_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailboxes),
		cmocka_unit_test(test_lists_and_groups),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_linear_time),
		cmocka_unit_test(test_addr_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
