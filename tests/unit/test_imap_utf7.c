/* Unit tests of modified UTF-7 (inetd/imap_utf7.c): RFC 3501 examples,
 * round trips, and the strictness that gives every name one spelling. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imap_utf7.h"

static void roundtrip(const char *utf8, const char *utf7)
{
	char out[512];

	assert_int_equal(imap_utf8_to_utf7(utf8, strlen(utf8), out, sizeof(out)), strlen(utf7));
	assert_string_equal(out, utf7);
	assert_int_equal(imap_utf7_to_utf8(utf7, strlen(utf7), out, sizeof(out)), strlen(utf8));
	assert_string_equal(out, utf8);
}

static void test_examples(void **state)
{
	(void)state;
	roundtrip("INBOX", "INBOX");
	roundtrip("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		  "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	roundtrip("a&b", "a&-b");
	roundtrip("Entw\xc3\xbc" "rfe", "Entw&APw-rfe");
	roundtrip("\xf0\x9f\x98\x80", "&2D3eAA-");           /* a surrogate pair */
	roundtrip("", "");
	roundtrip("\xc3\xa9&\xc3\xa9", "&AOk-&-&AOk-");
}

static void test_invalid(void **state)
{
	char out[64];
	const char *bad[] = {
		"&", "&AGE-", "&U,BTFw", "&-&", "&U,BTF-", "&2D0-", "&3gA-", "&AAA-", "\x01",
		"\xc3\xa9", "&Jjo!-", "&ZeVnLIqe", "&2D3eAA-&2D3eAA-",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(imap_utf7_to_utf8(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
	assert_int_equal(imap_utf8_to_utf7("\xff", 1, out, sizeof(out)), -1);
	assert_int_equal(imap_utf8_to_utf7("\xc0\xaf", 2, out, sizeof(out)), -1);
	assert_int_equal(imap_utf8_to_utf7("a\nb", 3, out, sizeof(out)), -1);
	/* too small an output buffer */
	assert_int_equal(imap_utf8_to_utf7("abcdef", 6, out, 4), -1);
	assert_int_equal(imap_utf7_to_utf8("abcdef", 6, out, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
