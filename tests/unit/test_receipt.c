/* What a message's header asks for a return receipt (cgi/receipt.h):
 * one address, the first valid one; nothing for a field that does not
 * parse; the Return-Path compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "receipt.h"

/* Parses "Return-Path: <rp>" (when rp is not NULL) and
 * "Disposition-Notification-To: dnt"; the result, *r filled. */
static int parse(const char *rp, const char *dnt, struct receipt_request *r)
{
	char h[4096];
	int n = snprintf(h, sizeof(h), "%s%s%s"
			 "From: Alice <alice@example.org>\r\nSubject: hi\r\n"
			 "%s%s%s\r\n",
			 rp != NULL ? "Return-Path: " : "", rp != NULL ? rp : "",
			 rp != NULL ? "\r\n" : "", dnt != NULL ? "Disposition-Notification-To: " : "",
			 dnt != NULL ? dnt : "", dnt != NULL ? "\r\n" : "");
	assert_true(n > 0 && (size_t)n < sizeof(h));
	return receipt_request_parse(h, (size_t)n, r);
}

static void test_none(void **state)
{
	struct receipt_request r;
	(void)state;
	assert_int_equal(parse("<alice@example.org>", NULL, &r), 0);
	assert_int_equal(receipt_request_parse(NULL, 0, &r), 0);
	assert_int_equal(receipt_request_parse("", 0, &r), 0);
}

static void test_one_address(void **state)
{
	struct receipt_request r;
	(void)state;
	assert_int_equal(parse("<alice@example.org>", "alice@example.org", &r), 1);
	assert_string_equal(r.address, "alice@example.org");
	assert_false(r.redirected);
	/* a display name, another case: the same sender */
	assert_int_equal(parse("<alice@example.org>", "\"Alice, A.\" <ALICE@Example.org>", &r), 1);
	assert_string_equal(r.address, "ALICE@Example.org");
	assert_false(r.redirected);
	/* folded */
	assert_int_equal(parse("<alice@example.org>", "Alice\r\n <alice@example.org>", &r), 1);
	assert_string_equal(r.address, "alice@example.org");
	/* only the first of several is honoured */
	assert_int_equal(parse("<alice@example.org>", "alice@example.org, eve@example.net", &r), 1);
	assert_string_equal(r.address, "alice@example.org");
	/* the first valid one: a bare name and a group marker are skipped */
	assert_int_equal(parse("<alice@example.org>", "team: ;, alice@example.org", &r), 1);
	assert_string_equal(r.address, "alice@example.org");
}

/* RFC 8098 2.1: a Return-Path of another address, none, or null */
static void test_redirected(void **state)
{
	struct receipt_request r;
	(void)state;
	assert_int_equal(parse("<bounces@list.example.net>", "alice@example.org", &r), 1);
	assert_string_equal(r.address, "alice@example.org");
	assert_true(r.redirected);
	assert_int_equal(parse(NULL, "alice@example.org", &r), 1);
	assert_true(r.redirected);
	assert_int_equal(parse("<>", "alice@example.org", &r), 1);
	assert_true(r.redirected);
}

/* A field that does not parse cleanly, or holds no valid address, asks
 * for nothing; an address never carries a line break. */
static void test_invalid(void **state)
{
	struct receipt_request r;
	(void)state;
	static const char *const bad[] = {
		"", "   ", "<<<>>>", "alice", "alice@", "@example.org", "alice@[127.0.0.1]",
		"<alice@example.org", "alice@example.org>", "\"unclosed <alice@example.org>",
		"<@relay.example:alice@example.org>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int got = parse("<alice@example.org>", bad[i], &r);
		if (got != 0)
			fail_msg("\"%s\" gave %d (%s)", bad[i], got, r.address);
	}
	/* past the longest address */
	char longer[STORE_ADDRESS_MAX + 20];
	memset(longer, 'a', sizeof(longer));
	strcpy(longer + sizeof(longer) - 13, "@example.org");
	assert_int_equal(parse(NULL, longer, &r), 0);
	/* a fold cannot smuggle a second field into the address */
	int got = parse(NULL, "alice@example.org\r\n Bcc: eve@example.net", &r);
	assert_true(got == 0 || strpbrk(r.address, "\r\n ") == NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_one_address),
		cmocka_unit_test(test_redirected),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
