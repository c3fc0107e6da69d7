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

/* The cases the Maildir importer relies on (Dovecot folder names). */
static void utf7_ok(const char *in, const char *want)
{
	char out[256];
	int n = imap_utf7_to_utf8(in, strlen(in), out, sizeof(out));

	if (n < 0)
		fail_msg("refused: \"%s\"", in);
	assert_string_equal(out, want);
	assert_int_equal(n, (int)strlen(want));
}

static void utf7_bad(const char *in)
{
	char out[256];

	if (imap_utf7_to_utf8(in, strlen(in), out, sizeof(out)) >= 0)
		fail_msg("accepted: \"%s\"", in);
}

static void test_strict_decoding(void **state)
{
	(void)state;
	utf7_ok("Sent", "Sent");
	utf7_ok("Entw&APw-rfe", "Entw\xc3\xbcrfe");
	utf7_ok("&AOQ-", "\xc3\xa4");
	utf7_ok("&-", "&");
	utf7_ok("A&-B", "A&B");
	utf7_ok("&ZeVnLIqe-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	utf7_ok("&2D3eAQ-", "\xf0\x9f\x98\x81");          /* a surrogate pair */
	utf7_ok("", "");
	utf7_bad("&AGE-");         /* 'a' must not be encoded */
	utf7_bad("&AOQ");          /* unterminated */
	utf7_bad("&AOR-");         /* padding bits not zero */
	utf7_bad("&AOQA-");        /* a wasted base64 digit */
	utf7_bad("&AOQ-&AOQ-");    /* two runs where one would do */
	utf7_bad("&2D0-");         /* lone high surrogate */
	utf7_bad("&3gE-");         /* lone low surrogate */
	utf7_bad("&AAE-");         /* a control character */
	utf7_bad("tab\there");
	utf7_bad("caf\xc3\xa9");   /* raw 8-bit */
	utf7_bad("&AO!-");         /* not base64 */
	{
		char small[3];

		assert_int_equal(imap_utf7_to_utf8("abcd", 4, small, sizeof(small)), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_strict_decoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
