/* MAIL/RCPT argument parsing (inetd/smtp_addr.c): the RFC 5321 path
 * grammar with RFC 6531 UTF-8, the canonical form, the limits just below,
 * at and above, the ESMTP parameters, and the EHLO argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "charset.h"
#include "smtp_addr.h"

static struct smtp_mail_args m;
static struct smtp_path p;
static struct smtp_rcpt_dsn dsn;
static const char *reply;

static int mail(const char *args)
{
	reply = NULL;
	return smtp_mail_parse(args, strlen(args), &m, &reply);
}

static int rcpt(const char *args)
{
	reply = NULL;
	return smtp_rcpt_parse(args, strlen(args), &p, &dsn, &reply);
}

static void mail_ok(const char *args, const char *address)
{
	if (mail(args) != 1)
		fail_msg("MAIL %s: refused: %s", args, reply);
	assert_string_equal(m.path.address, address);
}

static void mail_refused(const char *args, const char *code)
{
	if (mail(args) != 0)
		fail_msg("MAIL %s: accepted as <%s>", args, m.path.address);
	assert_non_null(reply);
	if (strncmp(reply, code, strlen(code)) != 0)
		fail_msg("MAIL %s: %s, wanted %s", args, reply, code);
}

static void rcpt_ok(const char *args, const char *address)
{
	if (rcpt(args) != 1)
		fail_msg("RCPT %s: refused: %s", args, reply);
	assert_string_equal(p.address, address);
}

static void rcpt_refused(const char *args, const char *code)
{
	if (rcpt(args) != 0)
		fail_msg("RCPT %s: accepted as <%s>", args, p.address);
	if (strncmp(reply, code, strlen(code)) != 0)
		fail_msg("RCPT %s: %s, wanted %s", args, reply, code);
}

static void test_mail_basic(void **state)
{
	(void)state;
	mail_ok("FROM:<bob@example.com>", "bob@example.com");
	assert_false(m.path.null || m.path.utf8 || m.path.quoted || m.path.literal);
	assert_int_equal(m.path.local_len, 3);
	mail_ok("from:<Bob@Example.COM>", "Bob@example.com");
	mail_ok("FROM: <bob@example.com>", "bob@example.com"); /* tolerated */
	mail_ok("FROM:<>", "");
	assert_true(m.path.null);
	mail_ok("FROM:<bob@example.com>   ", "bob@example.com");
	mail_refused("FROM:bob@example.com", "501 5.1.7");
	mail_refused("FROM:<bob@example.com", "501 5.1.7");
	mail_refused("FROM:<bob@example.com>x", "501 5.1.7");
	mail_refused("FROM:<<bob@example.com>>", "501 5.1.7");
	mail_refused("TO:<bob@example.com>", "501 5.5.4");
	mail_refused("FROM", "501 5.5.4");
	mail_refused("", "501 5.5.4");
	mail_refused("FROM:<bob>", "501 5.1.7");
	mail_refused("FROM:<@example.com>", "501 5.1.7");
	mail_refused("FROM:<bob@>", "501 5.1.7");
}

static void test_mail_params(void **state)
{
	(void)state;
	mail_ok("FROM:<a@b.example> SIZE=1000 BODY=8BITMIME", "a@b.example");
	assert_true(m.size_given);
	assert_int_equal(m.size, 1000);
	assert_true(m.body_given && m.body_8bit);
	mail_ok("FROM:<a@b.example> body=7bit", "a@b.example");
	assert_false(m.body_8bit);
	mail_ok("FROM:<a@b.example> SIZE=18446744073709551615", "a@b.example");
	assert_true(m.size == UINT64_MAX);
	mail_ok("FROM:<a@b.example> SIZE=99999999999999999999", "a@b.example");
	assert_true(m.size == UINT64_MAX);
	mail_refused("FROM:<a@b.example> SIZE=999999999999999999999", "501 5.5.4");
	mail_refused("FROM:<a@b.example> SIZE=12a", "501 5.5.4");
	mail_refused("FROM:<a@b.example> SIZE=", "501 5.5.4");
	mail_refused("FROM:<a@b.example> SIZE", "501 5.5.4");
	mail_refused("FROM:<a@b.example> SIZE=1 SIZE=2", "501 5.5.4");
	mail_refused("FROM:<a@b.example> BODY=BINARYMIME", "501 5.5.4");
	mail_ok("FROM:<a@b.example> SMTPUTF8", "a@b.example");
	assert_true(m.smtputf8);
	mail_refused("FROM:<a@b.example> SMTPUTF8=yes", "501 5.5.4");
	mail_ok("FROM:<a@b.example> AUTH=<>", "a@b.example");
	mail_ok("FROM:<a@b.example> AUTH=a+2Bb@c.example", "a@b.example");
	mail_refused("FROM:<a@b.example> MT-PRIORITY=3", "555 5.5.4");
	mail_refused("FROM:<a@b.example> X=a=b", "501 5.5.4");
	mail_refused("FROM:<a@b.example> =x", "501 5.5.4");
	mail_refused("FROM:<a@b.example> -X", "501 5.5.4");
	/* too many parameters */
	mail_refused("FROM:<a@b.example> A B C D E F G H I J K L M N O P Q", "501 5.5.4");
}

static void test_local_part(void **state)
{
	char buf[400];

	(void)state;
	mail_ok("FROM:<a.b-c+d_e!#$%&'*/=?^`{|}~@example.com>", "a.b-c+d_e!#$%&'*/=?^`{|}~@example.com");
	mail_refused("FROM:<.bob@example.com>", "501 5.1.7");
	mail_refused("FROM:<bob.@example.com>", "501 5.1.7");
	mail_refused("FROM:<bo..b@example.com>", "501 5.1.7");
	mail_refused("FROM:<bo b@example.com>", "501 5.1.7");
	mail_refused("FROM:<bo(b@example.com>", "501 5.1.7");
	/* quoted: unquoted when it is a dot-string, minimally quoted if not */
	mail_ok("FROM:<\"bob\"@example.com>", "bob@example.com");
	assert_false(m.path.quoted);
	mail_ok("FROM:<\"b\\ob\"@example.com>", "bob@example.com");
	mail_ok("FROM:<\"bob smith\"@example.com>", "\"bob smith\"@example.com");
	assert_true(m.path.quoted);
	mail_ok("FROM:<\"a\\\"b\"@example.com>", "\"a\\\"b\"@example.com");
	mail_ok("FROM:<\"a\\\\b\"@example.com>", "\"a\\\\b\"@example.com");
	mail_ok("FROM:<\"\"@example.com>", "\"\"@example.com");
	mail_ok("FROM:<\"user@foreign.example\"@example.com>", "\"user@foreign.example\"@example.com");
	mail_refused("FROM:<\"bob@example.com>", "501 5.1.7");
	mail_refused("FROM:<\"a\\\x01\"@example.com>", "501 5.1.7");
	mail_refused("FROM:<\"a\x01\"@example.com>", "501 5.1.7");
	/* 64 octets: the limit; 65: over */
	snprintf(buf, sizeof(buf), "FROM:<%064d@example.com>", 0);
	assert_int_equal(mail(buf), 1);
	assert_int_equal(m.path.local_len, 64);
	snprintf(buf, sizeof(buf), "FROM:<%065d@example.com>", 0);
	mail_refused(buf, "501 5.1.7");
	/* quotes count: 62 inside + 2 quotes = 64 */
	snprintf(buf, sizeof(buf), "FROM:<\"%061d \"@example.com>", 0);
	assert_int_equal(mail(buf), 1);
	snprintf(buf, sizeof(buf), "FROM:<\"%062d \"@example.com>", 0);
	mail_refused(buf, "501 5.1.7");
}

static void test_domain(void **state)
{
	char buf[600], label[70];

	(void)state;
	mail_ok("FROM:<a@EXAMPLE.com>", "a@example.com");
	mail_ok("FROM:<a@x-y.example>", "a@x-y.example");
	mail_ok("FROM:<a@localhost>", "a@localhost");
	mail_ok("FROM:<a@1.example>", "a@1.example");
	mail_refused("FROM:<a@-x.example>", "501 5.1.7");
	mail_refused("FROM:<a@x-.example>", "501 5.1.7");
	mail_refused("FROM:<a@x..example>", "501 5.1.7");
	mail_refused("FROM:<a@.example>", "501 5.1.7");
	mail_refused("FROM:<a@example.>", "501 5.1.7");
	mail_refused("FROM:<a@exa_mple.com>", "501 5.1.7");
	mail_refused("FROM:<a@b@example.com>", "501 5.1.7");
	/* a label of 63 is fine, 64 is not */
	memset(label, 'x', 63);
	label[63] = '\0';
	snprintf(buf, sizeof(buf), "FROM:<a@%s.example>", label);
	assert_int_equal(mail(buf), 1);
	snprintf(buf, sizeof(buf), "FROM:<a@%sx.example>", label);
	mail_refused(buf, "501 5.1.7");
	/* a whole address past 254 octets */
	snprintf(buf, sizeof(buf), "FROM:<a@%s.%s.%s.%s>", label, label, label, label);
	mail_refused(buf, "501 5.1.7");
	snprintf(buf, sizeof(buf), "FROM:<a@%s.%s.%s.%.59s>", label, label, label, label);
	assert_int_equal(mail(buf), 1); /* 1 + 1 + 63*3 + 3 + 59 = 253 */
	assert_int_equal(strlen(m.path.address), 253);
}

static void test_literals(void **state)
{
	(void)state;
	mail_ok("FROM:<a@[127.0.0.1]>", "a@[127.0.0.1]");
	assert_true(m.path.literal);
	mail_ok("FROM:<a@[ipv6:::1]>", "a@[IPv6:::1]");
	assert_true(m.path.literal);
	mail_ok("FROM:<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]");
	mail_refused("FROM:<a@[999.0.0.1]>", "501 5.1.7");
	mail_refused("FROM:<a@[1.2.3]>", "501 5.1.7");
	mail_refused("FROM:<a@[::1]>", "501 5.1.7");
	mail_refused("FROM:<a@[IPv6:1.2.3.4]>", "501 5.1.7");
	mail_refused("FROM:<a@[x-tag:abc]>", "501 5.1.7");
	mail_refused("FROM:<a@[127.0.0.1>", "501 5.1.7");
}

static void test_source_route(void **state)
{
	(void)state;
	mail_ok("FROM:<@a.example,@b.example:bob@example.com>", "bob@example.com");
	assert_true(m.path.source_route);
	rcpt_ok("TO:<@example.com:user@foreign.example>", "user@foreign.example");
	assert_true(p.source_route);
	mail_refused("FROM:<@a.example bob@example.com>", "501 5.1.7");
	mail_refused("FROM:<@a.example,bob@example.com>", "501 5.1.7");
	mail_refused("FROM:<@:bob@example.com>", "501 5.1.7");
}

static void test_utf8(void **state)
{
	(void)state;
	mail_ok("FROM:<j\xc3\xb6ran@ex\xc3\xa4mple.com> SMTPUTF8", "j\xc3\xb6ran@ex\xc3\xa4mple.com");
	assert_true(m.path.utf8);
	assert_true(m.smtputf8);
	/* parsed either way; the session refuses 8-bit without SMTPUTF8 */
	mail_ok("FROM:<j\xc3\xb6ran@example.com>", "j\xc3\xb6ran@example.com");
	assert_true(m.path.utf8);
	mail_ok("FROM:<\"j\xc3\xb6 r\"@example.com>", "\"j\xc3\xb6 r\"@example.com");
	mail_ok("FROM:<\xe2\x82\xac\xf0\x9f\x93\xa7@example.com>",
		"\xe2\x82\xac\xf0\x9f\x93\xa7@example.com");
	mail_refused("FROM:<j\xff@example.com>", "501 5.1.7");
	mail_refused("FROM:<j\xc3@example.com>", "501 5.1.7");
	mail_refused("FROM:<\xc0\xaf@example.com>", "501 5.1.7");         /* overlong */
	mail_refused("FROM:<\xed\xa0\x80@example.com>", "501 5.1.7");     /* surrogate */
	mail_refused("FROM:<\xf4\x90\x80\x80@example.com>", "501 5.1.7"); /* > U+10FFFF */
	mail_refused("FROM:<a@ex\xffmple.com>", "501 5.1.7");
	assert_int_equal(charset_utf8_char_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(charset_utf8_char_len((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(charset_utf8_char_len((const unsigned char *)"\xc3\xa9", 1), 0);
	assert_int_equal(charset_utf8_char_len((const unsigned char *)"\xe0\x80\x80", 3), 0);
	assert_int_equal(charset_utf8_char_len((const unsigned char *)"\xf0\x9f\x93\xa7", 4), 4);
	/* A C1 control is a character, but not one of text. */
	assert_int_equal(charset_utf8_char_len("\xc2\x85", 2), 2);
	assert_int_equal(charset_utf8_text_char_len("\xc2\x85", 2), 0);
	assert_int_equal(charset_utf8_text_char_len("\xc2\xa0", 2), 2);
}

static void test_controls_and_nul(void **state)
{
	static const char with_nul[] = "FROM:<bo\0b@example.com>";

	(void)state;
	mail_refused("FROM:<bo\x01" "b@example.com>", "501 5.1.7");
	mail_refused("FROM:<bob@example.com>\x7f", "501 5.1.7");
	assert_int_equal(smtp_mail_parse(with_nul, sizeof(with_nul) - 1, &m, &reply), 0);
}

static void test_rcpt(void **state)
{
	(void)state;
	rcpt_ok("TO:<alice@example.com>", "alice@example.com");
	rcpt_ok("to:<Postmaster>", "postmaster");
	assert_true(p.postmaster);
	rcpt_ok("TO:<postmaster@example.com>", "postmaster@example.com");
	assert_false(p.postmaster);
	rcpt_refused("TO:<>", "501 5.1.3");
	rcpt_refused("TO:<alice>", "501 5.1.3");
	rcpt_refused("TO:alice@example.com", "501 5.1.3");
	rcpt_refused("FROM:<alice@example.com>", "501 5.5.4");
	rcpt_refused("TO:<alice@example.com> FOO=BAR", "555 5.5.4");
	rcpt_refused("TO:<@example.com:Postmaster>", "501 5.1.3");
	/* the classic relay shapes parse as what they are */
	rcpt_ok("TO:<user%foreign.example@example.com>", "user%foreign.example@example.com");
	rcpt_ok("TO:<foreign.example!user@example.com>", "foreign.example!user@example.com");
	rcpt_ok("TO:<\"user@foreign.example\"@example.com>", "\"user@foreign.example\"@example.com");
	assert_true(p.quoted);
	rcpt_ok("TO:<user@[127.0.0.1]>", "user@[127.0.0.1]");
	assert_true(p.literal);
}

/* RFC 3461: RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT. */
static void test_dsn(void **state)
{
	char big[STORE_DSN_ORCPT_MAX + 64];

	(void)state;
	mail_ok("FROM:<a@example.com> RET=FULL ENVID=QQ314159", "a@example.com");
	assert_int_equal(m.ret, STORE_DSN_RET_FULL);
	assert_string_equal(m.envid, "QQ314159");
	mail_ok("FROM:<a@example.com> ret=hdrs", "a@example.com");
	assert_int_equal(m.ret, STORE_DSN_RET_HDRS);
	assert_string_equal(m.envid, "");
	mail_ok("FROM:<a@example.com> ENVID=a+2Bb+3Dc", "a@example.com");
	mail_refused("FROM:<a@example.com> RET=ALL", "501 5.5.4");
	mail_refused("FROM:<a@example.com> RET", "501 5.5.4");
	mail_refused("FROM:<a@example.com> RET=FULL RET=FULL", "501 5.5.4");
	mail_refused("FROM:<a@example.com> ENVID=a ENVID=b", "501 5.5.4");
	mail_refused("FROM:<a@example.com> ENVID=a+2", "501 5.5.4");    /* cut short */
	mail_refused("FROM:<a@example.com> ENVID=a+zz", "501 5.5.4");   /* not hex */
	mail_refused("FROM:<a@example.com> ENVID=a+2b", "501 5.5.4");   /* lower case */
	mail_refused("FROM:<a@example.com> ENVID=caf\xc3\xa9", "501 5.5.4");
	/* decoded, ENVID is printable US-ASCII (RFC 3461 4.4) */
	mail_ok("FROM:<a@example.com> ENVID=a+20b+7E", "a@example.com");
	mail_refused("FROM:<a@example.com> ENVID=a+0D+0AX", "501 5.5.4");
	mail_refused("FROM:<a@example.com> ENVID=a+7F", "501 5.5.4");
	mail_refused("FROM:<a@example.com> ENVID=a+C3+A9", "501 5.5.4");
	mail_refused("FROM:<a@example.com> ENVID=a+1F", "501 5.5.4");
	/* ENVID: 100 octets at most */
	snprintf(big, sizeof(big), "FROM:<a@b.example> ENVID=");
	memset(big + strlen(big), 'x', STORE_DSN_ENVID_MAX + 1);
	big[strlen("FROM:<a@b.example> ENVID=") + STORE_DSN_ENVID_MAX] = '\0';
	mail_ok(big, "a@b.example");
	assert_int_equal(strlen(m.envid), 100);
	strcat(big, "x");
	mail_refused(big, "501 5.5.4");

	rcpt_ok("TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.com",
		"b@example.com");
	assert_int_equal(dsn.notify, STORE_DSN_NOTIFY_SUCCESS | STORE_DSN_NOTIFY_FAILURE);
	assert_string_equal(dsn.orcpt, "rfc822;b@example.com");
	rcpt_ok("TO:<b@example.com> notify=never", "b@example.com");
	assert_int_equal(dsn.notify, STORE_DSN_NOTIFY_NEVER);
	assert_string_equal(dsn.orcpt, "");
	rcpt_ok("TO:<b@example.com> NOTIFY=DELAY,SUCCESS,FAILURE", "b@example.com");
	assert_int_equal(dsn.notify, 7);
	rcpt_ok("TO:<b@example.com>", "b@example.com");
	assert_int_equal(dsn.notify, 0);
	rcpt_ok("TO:<b@example.com> ORCPT=utf-8;j\xc3\xb6rg@example.com", "b@example.com");
	rcpt_refused("TO:<b@example.com> ORCPT=rfc822;j\xc3\xb6rg@example.com", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> ORCPT=rfc822;j+C3+B6rg@example.com", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> NOTIFY=NEVER,SUCCESS", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> NOTIFY=SUCCESS,SUCCESS", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> NOTIFY=SUCCESS,", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> NOTIFY=,SUCCESS", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> NOTIFY=ALWAYS", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> NOTIFY", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> NOTIFY=NEVER NOTIFY=NEVER", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> ORCPT=b@example.com", "501 5.5.4");     /* no type */
	rcpt_refused("TO:<b@example.com> ORCPT=rfc822;", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> ORCPT=;b@example.com", "501 5.5.4");
	rcpt_refused("TO:<b@example.com> ORCPT=rfc822;a ORCPT=rfc822;b", "501 5.5.4");
	/* ORCPT: 500 octets at most */
	snprintf(big, sizeof(big), "TO:<b@example.com> ORCPT=rfc822;");
	size_t at = strlen(big), room = STORE_DSN_ORCPT_MAX - strlen("rfc822;");
	memset(big + at, 'y', room);
	big[at + room] = '\0';
	rcpt_ok(big, "b@example.com");
	assert_int_equal(strlen(dsn.orcpt), STORE_DSN_ORCPT_MAX);
	strcat(big, "y");
	rcpt_refused(big, "501 5.5.4");
}

static void test_bdat(void **state)
{
	uint64_t size = 7;
	bool last = true;

	(void)state;
	assert_int_equal(smtp_bdat_parse("1000", 4, &size, &last), 1);
	assert_int_equal(size, 1000);
	assert_false(last);
	assert_int_equal(smtp_bdat_parse("0 LAST", 6, &size, &last), 1);
	assert_int_equal(size, 0);
	assert_true(last);
	assert_int_equal(smtp_bdat_parse("007 last", 8, &size, &last), 1);
	assert_int_equal(size, 7);
	assert_true(last);
	assert_int_equal(smtp_bdat_parse("18446744073709551615", 20, &size, &last), 1);
	assert_true(size == UINT64_MAX);
	/* one past 64 bits, no digits, signs, spaces, other words */
	assert_int_equal(smtp_bdat_parse("18446744073709551616", 20, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("99999999999999999999999", 23, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("", 0, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("LAST", 4, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("-1", 2, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("+1", 2, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse(" 1", 2, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("1  LAST", 7, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("1 LASTX", 7, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("1 LAS", 5, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("0x10", 4, &size, &last), 0);
	assert_int_equal(smtp_bdat_parse("1e3", 3, &size, &last), 0);
}

static void test_helo(void **state)
{
	(void)state;
	assert_true(smtp_helo_valid("mail.example.com", 16));
	assert_true(smtp_helo_valid("DESKTOP_AB1", 11));
	assert_true(smtp_helo_valid("localhost", 9));
	assert_true(smtp_helo_valid("[127.0.0.1]", 11));
	assert_true(smtp_helo_valid("[IPv6:::1]", 10));
	assert_false(smtp_helo_valid("", 0));
	assert_false(smtp_helo_valid("a b", 3));
	assert_false(smtp_helo_valid("a..b", 4));
	assert_false(smtp_helo_valid(".a", 2));
	assert_false(smtp_helo_valid("a(b)", 4));
	assert_false(smtp_helo_valid("[1.2.3]", 7));
	assert_false(smtp_helo_valid("h\xc3\xa9", 3));
	assert_false(smtp_helo_valid("x\r", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_basic),
		cmocka_unit_test(test_mail_params),
		cmocka_unit_test(test_local_part),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_source_route),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_controls_and_nul),
		cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_dsn),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_helo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
