/* Unit tests of store/log.c: log_safe escaping and truncation, log_field,
 * log_rip and log_client (the one form of a client's events, which a user
 * name cannot forge), and lines mirrored to stderr never carrying a raw CR
 * or LF. */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define SAFE(buf, lit) log_safe(buf, sizeof(buf), lit, sizeof(lit) - 1)

static void test_safe_plain(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(SAFE(buf, "bob@example.com"), "bob@example.com");
	assert_string_equal(SAFE(buf, ""), "");
	assert_string_equal(log_safe(buf, sizeof(buf), NULL, 5), "");
	/* The return value is dst. */
	assert_ptr_equal(SAFE(buf, "x"), buf);
}

static void test_safe_controls(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(SAFE(buf, "a\r\nb"), "a\\x0d\\x0ab");
	assert_string_equal(SAFE(buf, "nul\0byte"), "nul\\x00byte");
	assert_string_equal(SAFE(buf, "tab\there"), "tab\\x09here");
	assert_string_equal(SAFE(buf, "esc\033[2J"), "esc\\x1b[2J");
	assert_string_equal(SAFE(buf, "del\177"), "del\\x7f");
	assert_string_equal(SAFE(buf, "back\\slash"), "back\\x5cslash");
	/* A forged log line stays on one line. */
	SAFE(buf, "x\r\nimapd: login user=<admin>");
	assert_null(strchr(buf, '\r'));
	assert_null(strchr(buf, '\n'));
}

static void test_safe_utf8(void **state)
{
	char buf[128];

	(void)state;
	/* Well-formed UTF-8 passes: 2, 3 and 4 byte sequences. */
	assert_string_equal(SAFE(buf, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
			    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* Everything else is escaped byte by byte. */
	assert_string_equal(SAFE(buf, "\xff"), "\\xff");
	assert_string_equal(SAFE(buf, "\xc0\xaf"), "\\xc0\\xaf");          /* overlong '/' */
	assert_string_equal(SAFE(buf, "\xe0\x80\xaf"), "\\xe0\\x80\\xaf"); /* overlong */
	assert_string_equal(SAFE(buf, "\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* surrogate */
	assert_string_equal(SAFE(buf, "\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	assert_string_equal(SAFE(buf, "\xe2\x82"), "\\xe2\\x82");          /* cut short */
	assert_string_equal(SAFE(buf, "\xe2\x82x"), "\\xe2\\x82x");
	assert_string_equal(SAFE(buf, "\xc2\x85"), "\\xc2\\x85");          /* C1 NEL */
	assert_string_equal(SAFE(buf, "\xc2\xa0"), "\xc2\xa0");            /* NBSP is fine */
	/* A valid sequence whose last byte is beyond len is not read. */
	assert_string_equal(log_safe(buf, sizeof(buf), "\xc3\xa9", 1), "\\xc3");
}

static void test_safe_truncation(void **state)
{
	char buf[8], one[1], two[2], four[4];

	(void)state;
	/* 7 characters fit exactly in 8 bytes. */
	assert_string_equal(SAFE(buf, "1234567"), "1234567");
	/* One more: cut with "..." at the last unit boundary leaving room. */
	assert_string_equal(SAFE(buf, "12345678"), "1234...");
	/* An escape is never split. */
	assert_string_equal(SAFE(buf, "12\n45678"), "12...");
	assert_string_equal(SAFE(buf, "\n"), "\\x0a");
	assert_string_equal(SAFE(buf, "\n\n"), "\\x0a...");
	/* A UTF-8 sequence is never split. */
	assert_string_equal(SAFE(buf, "123\xf0\x9f\x98\x80"), "123\xf0\x9f\x98\x80");
	assert_string_equal(SAFE(buf, "1234\xf0\x9f\x98\x80"), "1234...");
	/* Tiny buffers stay terminated. */
	assert_string_equal(SAFE(one, "abc"), "");
	assert_string_equal(SAFE(two, "abc"), "a");
	assert_string_equal(SAFE(four, "abc"), "abc");
	assert_string_equal(SAFE(four, "abcd"), "...");
	log_safe(buf, 0, "abc", 3); /* writes nothing, must not crash */
}

#define FIELD(buf, lit) log_field(buf, sizeof(buf), lit, sizeof(lit) - 1)

static void test_field(void **state)
{
	char buf[128], small[16];

	(void)state;
	assert_string_equal(FIELD(buf, "bob+news@example.com"), "bob+news@example.com");
	assert_string_equal(FIELD(buf, "prvs=1234=bob@example.com"), "prvs=1234=bob@example.com");
	/* Nothing can end the field or start another one. */
	assert_string_equal(FIELD(buf, "x rip=192.0.2.1"), "x\\x20rip=192.0.2.1");
	assert_string_equal(FIELD(buf, "x> rip=192.0.2.1"), "x\\x3e\\x20rip=192.0.2.1");
	assert_string_equal(FIELD(buf, "\"a<b\"@x"), "\\x22a\\x3cb\\x22@x");
	assert_string_equal(FIELD(buf, "a\r\nb\\"), "a\\x0d\\x0ab\\x5c");
	/* Unicode spaces, separators and invisible controls, byte by byte. */
	assert_string_equal(FIELD(buf, "a\xc2\xa0rip="), "a\\xc2\\xa0rip=");          /* NBSP */
	assert_string_equal(FIELD(buf, "a\xe2\x80\xa8" "b"), "a\\xe2\\x80\\xa8b");      /* U+2028 */
	assert_string_equal(FIELD(buf, "a\xe2\x80\xae" "b"), "a\\xe2\\x80\\xaeb");      /* RLO */
	assert_string_equal(FIELD(buf, "a\xe3\x80\x80" "b"), "a\\xe3\\x80\\x80b");      /* U+3000 */
	assert_string_equal(FIELD(buf, "\xef\xbb\xbf"), "\\xef\\xbb\\xbf");            /* BOM */
	/* Letters of any script pass. */
	assert_string_equal(FIELD(buf, "j\xc3\xb6rg@m\xc3\xbcller.de"), "j\xc3\xb6rg@m\xc3\xbcller.de");
	assert_string_equal(FIELD(buf, "\xe2\x82\xac\xf0\x9f\x98\x80"), "\xe2\x82\xac\xf0\x9f\x98\x80");
	/* A cut never splits the escapes of one character. */
	assert_string_equal(FIELD(small, "abc\xe2\x80\xa8"), "abc\\xe2\\x80\\xa8");
	assert_string_equal(FIELD(small, "abcd\xe2\x80\xa8"), "abcd...");
	assert_string_equal(FIELD(small, "abcdefghijklmno"), "abcdefghijklmno");
	assert_string_equal(FIELD(small, "abcdefghijklmnop"), "abcdefghijkl...");
	/* log_safe leaves these alone: free text keeps its spaces. */
	assert_string_equal(SAFE(buf, "a b <c>"), "a b <c>");
}

static void test_rip(void **state)
{
	char rip[LOG_RIP_MAX];

	(void)state;
	assert_string_equal(log_rip(rip, "192.0.2.1"), "192.0.2.1");
	assert_ptr_equal(log_rip(rip, "192.0.2.1"), rip);
	assert_string_equal(log_rip(rip, "::ffff:192.0.2.1"), "192.0.2.1");
	assert_string_equal(log_rip(rip, "2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	assert_string_equal(log_rip(rip, "::1"), "::1");
	assert_string_equal(log_rip(rip, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_string_equal(log_rip(rip, NULL), "unknown");
	assert_string_equal(log_rip(rip, ""), "unknown");
	assert_string_equal(log_rip(rip, "unknown"), "unknown");
	assert_string_equal(log_rip(rip, "192.0.2.1 rip=198.51.100.1"), "unknown");
	assert_string_equal(log_rip(rip, "fe80::1%eth0"), "unknown");
	assert_string_equal(log_rip(rip, "example.com"), "unknown");
}

/* Runs `fn` with stderr captured; returns what was written. */
static char *capture_stderr(void (*fn)(void))
{
	static char captured[8192];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
	fn();
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(captured, 1, sizeof(captured) - 1, tmp);
	captured[n] = '\0';
	fclose(tmp);
	return captured;
}

static void emit_lines(void)
{
	errno = ENOENT;
	log_info("login user=<%s> rip=%s", "bob@example.com", "192.0.2.1");
	assert_int_equal(errno, ENOENT);
	log_warning("raw %s", "evil\r\nimapd: forged line");
	log_error("failed: %d", 42);
}

static void test_stderr_lines(void **state)
{
	char expect[128];
	char *out, *line2;

	(void)state;
	setenv("PILLARBOX_LOG_STDERR", "1", 1);
	log_open("test_log");
	out = capture_stderr(emit_lines);
	snprintf(expect, sizeof(expect), "test_log[%ld]: login user=<bob@example.com> rip=192.0.2.1\n",
		 (long)getpid());
	assert_memory_equal(out, expect, strlen(expect));
	line2 = out + strlen(expect);
	snprintf(expect, sizeof(expect), "test_log[%ld]: warning: raw evil??imapd: forged line\n",
		 (long)getpid());
	assert_memory_equal(line2, expect, strlen(expect));
	snprintf(expect, sizeof(expect), "test_log[%ld]: error: failed: 42\n", (long)getpid());
	assert_string_equal(line2 + strlen(line2) - strlen(expect), expect);
	/* Exactly three lines. */
	assert_int_equal(strchr(out, '\n') != NULL, 1);
	{
		int lines = 0;

		for (char *p = out; *p != '\0'; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 3);
	}
}

static void emit_client(void)
{
	log_client("login failed", "x> rip=203.0.113.9 tls=no\r\nimapd: login failed user=<y> "
		   "rip=198.51.100.1", "::ffff:192.0.2.1", " tls=no mech=%s", "PLAIN");
	log_client("too many errors", NULL, "unknown", " errors=%u", 20u);
}

static void test_client_lines(void **state)
{
	char expect[512];
	char *out;

	(void)state;
	setenv("PILLARBOX_LOG_STDERR", "1", 1);
	log_open("test_log");
	out = capture_stderr(emit_client);
	snprintf(expect, sizeof(expect),
		 "test_log[%ld]: login failed user=<x\\x3e\\x20rip=203.0.113.9\\x20tls=no\\x0d\\x0aimapd:"
		 "\\x20login\\x20failed\\x20user=\\x3cy\\x3e\\x20rip=198.51.100.1> rip=192.0.2.1 "
		 "tls=no mech=PLAIN\n"
		 "test_log[%ld]: too many errors user=<> rip=unknown errors=20\n",
		 (long)getpid(), (long)getpid());
	assert_string_equal(out, expect);
	unsetenv("PILLARBOX_LOG_STDERR");
}

static void emit_long_user(void)
{
	char big[3000];

	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_client("login failed", big, "192.0.2.1", " tls=no mech=%s", "LOGIN");
}

/* However long the user name, the line keeps its rip= and what follows. */
static void test_client_long_user(void **state)
{
	char *out;

	(void)state;
	setenv("PILLARBOX_LOG_STDERR", "1", 1);
	log_open("test_log");
	out = capture_stderr(emit_long_user);
	assert_non_null(strstr(out, "\\x20...> rip=192.0.2.1 tls=no mech=LOGIN\n"));
	unsetenv("PILLARBOX_LOG_STDERR");
}

static void emit_long(void)
{
	char big[5000];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("long %s", big);
}

static void test_stderr_long_line(void **state)
{
	char *out;
	size_t len;

	(void)state;
	setenv("PILLARBOX_LOG_STDERR", "1", 1);
	log_open("test_log");
	out = capture_stderr(emit_long);
	len = strlen(out);
	assert_true(len > 1000 && len < 2200);
	assert_string_equal(out + len - 5, "z...\n");
	assert_ptr_equal(strchr(out, '\n'), out + len - 1);
}

static void test_stderr_off(void **state)
{
	(void)state;
	unsetenv("PILLARBOX_LOG_STDERR");
	log_open("test_log");
	assert_string_equal(capture_stderr(emit_lines), "");
	setenv("PILLARBOX_LOG_STDERR", "yes", 1); /* only "1" turns it on */
	log_open("test_log");
	assert_string_equal(capture_stderr(emit_lines), "");
	unsetenv("PILLARBOX_LOG_STDERR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_plain),
		cmocka_unit_test(test_safe_controls),
		cmocka_unit_test(test_safe_utf8),
		cmocka_unit_test(test_safe_truncation),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_rip),
		cmocka_unit_test(test_client_lines),
		cmocka_unit_test(test_client_long_user),
		cmocka_unit_test(test_stderr_lines),
		cmocka_unit_test(test_stderr_long_line),
		cmocka_unit_test(test_stderr_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
