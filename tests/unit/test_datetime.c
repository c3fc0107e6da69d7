/* RFC 5322 / IMAP dates: parsing (modern, obsolete, broken), formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "datetime.h"

static void parses(const char *s, time_t t, int tz)
{
	time_t got_t = 12345;
	int got_tz = 12345;
	if (datetime_parse(s, strlen(s), &got_t, &got_tz) != 1)
		fail_msg("not parsed: \"%s\"", s);
	if (got_t != t || got_tz != tz)
		fail_msg("\"%s\": got %lld %d, want %lld %d", s, (long long)got_t, got_tz, (long long)t, tz);
}

static void refused(const char *s)
{
	time_t t = 12345;
	int tz = 12345;
	if (datetime_parse(s, strlen(s), &t, &tz) != 0)
		fail_msg("parsed: \"%s\"", s);
	assert_int_equal(t, 12345); /* outputs untouched */
	assert_int_equal(tz, 12345);
}

static void test_rfc5322(void **state)
{
	parses("Mon, 01 Jan 2024 10:00:00 +0100", 1704099600, 60);
	parses("1 Jan 2024 10:00:00 +0100", 1704099600, 60);
	parses("Thu, 13 Feb 1969 23:32:54 -0330", -27723426, -210);
	parses("Fri, 21 Nov 1997 09:55:06 -0600", 880127706, -360);
	parses("Mon, 29 Feb 2024 12:00:00 +0000", 1709208000, 0); /* weekday not checked */
	parses("Fri, 31 Dec 1999 23:59:60 +0000", 946684800, 0);  /* leap second */
	parses("  Mon ,  1  Jan  2024  10:00  +0100  ", 1704099600 - 0, 60);
}

static void test_obsolete_and_broken(void **state)
{
	parses("Tue, 2 Jan 24 3:04:05 -0500 (EST)", 1704182645, -300);
	parses("1 Jan 99 00:00:00 GMT", 915148800, 0);
	parses("1 Jun 49 00:00 UT", 2506118400, 0);
	parses("4 Mar 101 05:06:07 +0000", 983682367, 0);
	parses("2 Jan 2024 03:04:05 EST", 1704182645, -300);
	parses("2 Jan 2024 04:04:05 EDT", 1704182645, -240);
	parses("1 Jan 2024 10:00:00 Z", 1704103200, 0);
	parses("1 Jan 2024 10:00:00 A", 1704103200, 0);  /* military: -0000 */
	parses("1 Jan 2024 10:00:00 CET", 1704099600, 60);
	parses("1 Jan 2024 10:00:00", 1704103200, 0);    /* no zone */
	parses("1 Jan 2024 15:30:00 +05:30", 1704103200, 330);
	parses("1 Jan 2024 10:00:00 +0100 CET", 1704099600, 60);
	parses("Monday, 1 January 2024 10:00:00 +0000", 1704103200, 0);
	parses("01-Jan-2024 10:00:00 +0000", 1704103200, 0);
	parses("1/jan/2024 10:00:00.123 +0000", 1704103200, 0);
	parses("Mon Jan  1 10:00:00 2024", 1704103200, 0); /* asctime */
	parses("Jan 1 10:00:00 2024 +0100", 1704099600, 60);
	parses("(c) 1 (x) Jan (y) 2024 10 (z) : 00 +0000 (trailer)", 1704103200, 0);
	parses("1 Jan 0001 00:00:00 +0000", -62135596800, 0);
}

static void test_refused(void **state)
{
	refused("");
	refused("garbage");
	refused("32 Jan 2024 10:00:00 +0000");
	refused("29 Feb 2023 10:00:00 +0000");
	refused("0 Jan 2024 10:00:00 +0000");
	refused("1 Jan 2024 24:00:00 +0000");
	refused("1 Jan 2024 10:60:00 +0000");
	refused("1 Jan 2024 10:00:61 +0000");
	refused("1 Foo 2024 10:00:00 +0000");
	refused("1 Jan 2024 10:00:00 +0160");
	refused("1 Jan 2024 10:00:00 +01234");
	refused("1 Jan 2024");
	refused("1 Jan 2024 10");
	refused("1 Jan 0000 10:00:00 +0000");
	refused("1 Jan 2 10:00:00 +0000");
	refused("Mon, Jan 2024");
	refused("123 Jan 2024 10:00:00 +0000");
	char longer[DATETIME_INPUT_MAX + 10];
	memset(longer, ' ', sizeof(longer));
	memcpy(longer + sizeof(longer) - 31, "Mon, 01 Jan 2024 10:00:00 +0100", 31);
	time_t t;
	int tz;
	assert_int_equal(datetime_parse(longer, sizeof(longer), &t, &tz), 0);
	assert_int_equal(datetime_parse(longer + sizeof(longer) - 31, 31, &t, &tz), 1);
}

static void test_format(void **state)
{
	char buf[DATETIME_RFC5322_SIZE], ibuf[DATETIME_IMAP_SIZE];
	assert_string_equal(datetime_format_rfc5322(1704099600, 60, buf), "Mon, 01 Jan 2024 10:00:00 +0100");
	assert_string_equal(datetime_format_imap(1704099600, 60, ibuf), "01-Jan-2024 10:00:00 +0100");
	assert_string_equal(datetime_format_rfc5322(0, 0, buf), "Thu, 01 Jan 1970 00:00:00 +0000");
	assert_string_equal(datetime_format_rfc5322(-1, 0, buf), "Wed, 31 Dec 1969 23:59:59 +0000");
	assert_string_equal(datetime_format_rfc5322(-27723426, -210, buf), "Thu, 13 Feb 1969 23:32:54 -0330");
	assert_string_equal(datetime_format_imap(1709208000, -480, ibuf), "29-Feb-2024 04:00:00 -0800");
	/* clamped at the ends of the representable range */
	assert_string_equal(datetime_format_rfc5322((time_t)1 << 50, 0, buf), "Fri, 31 Dec 9999 23:59:59 +0000");
	assert_string_equal(datetime_format_imap(-((time_t)1 << 50), 0, ibuf), "01-Jan-0001 00:00:00 +0000");
	assert_string_equal(datetime_format_imap(0, 100000, ibuf), "05-Jan-1970 03:59:00 +9959");
}

/* The fields the formatters write, for Sieve's date-parts: weekday 0 is
 * Sunday, a zone moves the date, clamping as the formatters clamp. */
static void test_local(void **state)
{
	struct datetime_local l;
	datetime_local(1796144709, 60, &l); /* Tue, 01 Dec 2026 18:05:09 +0100 */
	assert_int_equal(l.year, 2026);
	assert_int_equal(l.month, 12);
	assert_int_equal(l.day, 1);
	assert_int_equal(l.hour, 18);
	assert_int_equal(l.min, 5);
	assert_int_equal(l.sec, 9);
	assert_int_equal(l.wday, 2);
	assert_int_equal(l.tz, 60);
	datetime_local(1796144709, -1080, &l); /* 23:05:09 the day before at -1800 */
	assert_int_equal(l.day, 30);
	assert_int_equal(l.month, 11);
	assert_int_equal(l.hour, 23);
	assert_int_equal(l.wday, 1);
	datetime_local(1795996800, 0, &l); /* 2026-11-30 00:00:00 UTC, a Monday */
	assert_int_equal(l.wday, 1);
	assert_int_equal(l.day, 30);
	datetime_local(1795996799, 0, &l); /* a second before: Sunday 23:59:59 */
	assert_int_equal(l.wday, 0);
	assert_int_equal(l.day, 29);
	assert_int_equal(l.sec, 59);
	datetime_local((time_t)1 << 50, 100000, &l);
	assert_int_equal(l.year, 9999);
	assert_int_equal(l.tz, 99 * 60 + 59);
	datetime_local(-((time_t)1 << 50), -100000, &l);
	assert_int_equal(l.year, 1);
	assert_int_equal(l.month, 1);
	assert_int_equal(l.day, 1);
	assert_int_equal(l.tz, -(99 * 60 + 59));
}

static void test_round_trip(void **state)
{
	char buf[DATETIME_RFC5322_SIZE], ibuf[DATETIME_IMAP_SIZE];
	static const int zones[] = { 0, 60, -300, 330, -210, 845, -720 };
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		time_t t = (time_t)(x % 253402300799ULL) - 62135596800LL / 2;
		int tz = zones[i % 7];
		time_t got;
		int got_tz;
		datetime_format_rfc5322(t, tz, buf);
		assert_int_equal(datetime_parse(buf, strlen(buf), &got, &got_tz), 1);
		assert_int_equal(got, t);
		assert_int_equal(got_tz, tz);
		datetime_format_imap(t, tz, ibuf);
		assert_int_equal(datetime_parse_imap(ibuf, strlen(ibuf), &got, &got_tz), 1);
		assert_int_equal(got, t);
		assert_int_equal(got_tz, tz);
	}
}

static void test_imap(void **state)
{
	time_t t;
	int tz;
	assert_int_equal(datetime_parse_imap(" 1-Jan-2024 10:00:00 +0100", 26, &t, &tz), 1);
	assert_int_equal(t, 1704099600);
	assert_int_equal(datetime_parse_imap("1-jan-2024 10:00:00 +0100", 25, &t, &tz), 1);
	assert_int_equal(t, 1704099600);
	const char *const bad[] = {
		"01-Jan-24 10:00:00 +0100", "01-Jan-2024 10:00 +0100", "01-Jan-2024 10:00:00 0100",
		"01-January-2024 10:00:00 +0100", "01-Jan-2024 10:00:00 +0100 ", "32-Jan-2024 10:00:00 +0100",
		"\"01-Jan-2024 10:00:00 +0100\"", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(datetime_parse_imap(bad[i], strlen(bad[i]), &t, &tz), 0);
	assert_int_equal(datetime_parse_imap_date("1-Feb-1994", 10, &t), 1);
	assert_int_equal(t, 760060800);
	assert_int_equal(datetime_parse_imap_date("01-Feb-1994", 11, &t), 1);
	assert_int_equal(t, 760060800);
	assert_int_equal(datetime_parse_imap_date("1-Feb-94", 8, &t), 0);
	assert_int_equal(datetime_parse_imap_date("30-Feb-1994", 11, &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5322),
		cmocka_unit_test(test_obsolete_and_broken),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_imap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
