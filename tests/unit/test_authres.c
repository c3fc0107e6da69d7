/* Unit tests of the Authentication-Results reader (cgi/authres.c): our
 * field as the MX writes it (mailauth_field_format, read back), other
 * hosts' fields ignored, forged-looking variants, comments, quotes,
 * folding, limits and garbage, and the warning chosen from the results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "authres.h"
#include "mailauth.h"

#define ID "mail.example.com"

static int parse(const char *h, struct authres *ar)
{
	return authres_parse(h, strlen(h), ID, ar);
}

/* The brief's example, and what mailauth_field_format writes. */
static void test_ours(void **state)
{
	struct authres ar;
	(void)state;
	assert_int_equal(parse("Return-Path: <a@bank.test>\r\n"
			       "Authentication-Results: mail.example.com;\r\n"
			       "\tspf=fail (192.0.2.9 is not one of bank.test's senders; -all matched)"
			       " smtp.mailfrom=bank.test;\r\n"
			       "\tdkim=none;\r\n"
			       "\tdmarc=fail (p=none) header.from=bank.test\r\n"
			       "From: <ceo@bank.test>\r\n", &ar), 1);
	assert_int_equal(ar.spf, AUTHRES_FAIL);
	assert_string_equal(ar.spf_domain, "bank.test");
	assert_int_equal(ar.dkim, AUTHRES_NONE);
	assert_false(ar.dkim_pass);
	assert_int_equal(ar.dmarc, AUTHRES_FAIL);
	assert_string_equal(ar.header_from, "bank.test");
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_DMARC);

	struct spf_outcome spf = { .result = SPF_SOFTFAIL };
	struct dkim_sig_result dkim[2];
	struct dmarc_outcome dmarc = { .result = DMARC_NONE };
	char buf[MAILAUTH_FIELD_MAX];
	memset(dkim, 0, sizeof(dkim));
	snprintf(spf.domain, sizeof(spf.domain), "shop.test");
	snprintf(spf.reason, sizeof(spf.reason), "~all (matched) \\ \"odd\"");
	dkim[0].result = DKIM_FAIL;
	snprintf(dkim[0].domain, sizeof(dkim[0].domain), "old.test");
	snprintf(dkim[0].reason, sizeof(dkim[0].reason), "body hash; mismatch");
	dkim[1].result = DKIM_PASS;
	snprintf(dkim[1].domain, sizeof(dkim[1].domain), "shop.test");
	snprintf(dkim[1].selector, sizeof(dkim[1].selector), "s1");
	snprintf(dkim[1].b8, sizeof(dkim[1].b8), "ab+/cd==");
	snprintf(dmarc.domain, sizeof(dmarc.domain), "shop.test");
	snprintf(dmarc.reason, sizeof(dmarc.reason), "no policy");
	assert_true(mailauth_field_format(ID, &spf, dkim, 2, &dmarc, buf, sizeof(buf)) > 0);
	assert_int_equal(parse(buf, &ar), 1);
	assert_int_equal(ar.spf, AUTHRES_SOFTFAIL);
	assert_string_equal(ar.spf_domain, "shop.test");
	assert_int_equal(ar.dkim, AUTHRES_FAIL);
	assert_true(ar.dkim_pass);
	assert_string_equal(ar.header_d, "shop.test");
	assert_int_equal(ar.dmarc, AUTHRES_NONE);
	assert_string_equal(ar.header_from, "shop.test");
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_NONE);   /* a DKIM pass */
	assert_true(mailauth_field_format(ID, &spf, dkim, 1, &dmarc, buf, sizeof(buf)) > 0);
	assert_int_equal(parse(buf, &ar), 1);
	assert_false(ar.dkim_pass);
	assert_string_equal(ar.header_d, "old.test");
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_UNVERIFIED);
}

static void test_others_ignored(void **state)
{
	struct authres ar;
	(void)state;
	/* another host's field says nothing to us */
	assert_int_equal(parse("Authentication-Results: mx.other.test; dmarc=fail "
			       "header.from=bank.test\r\n", &ar), 0);
	assert_int_equal(ar.dmarc, AUTHRES_ABSENT);
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_NONE);
	/* ... before ours: ours is read */
	assert_int_equal(parse("Authentication-Results: mx.other.test; dmarc=fail\r\n"
			       "Authentication-Results: mail.example.com; dmarc=pass "
			       "header.from=a.test\r\n", &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_PASS);
	/* the first of ours counts, not a later one */
	assert_int_equal(parse("Authentication-Results: mail.example.com; dmarc=pass\r\n"
			       "Authentication-Results: mail.example.com; dmarc=fail\r\n", &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_PASS);
	/* nothing at all */
	assert_int_equal(parse("From: a@b.test\r\nSubject: hi\r\n", &ar), 0);
	assert_int_equal(parse("", &ar), 0);
}

/* Names that look like ours, and which smtpd leaves in place: never ours. */
static void test_forged_looking(void **state)
{
	static const char *const not_ours[] = {
		"Authentication-Results: mail.example.com.evil.test; dmarc=fail\r\n",
		"Authentication-Results: xmail.example.com; dmarc=fail\r\n",
		"Authentication-Results: mail.example.co; dmarc=fail\r\n",
		"Authentication-Results: mail.example.com=x; dmarc=fail\r\n",
		"Authentication-Results: \"mail\\.example.com\"; dmarc=fail\r\n",
		"Authentication-Results: \"mail.example.com; dmarc=fail\r\n",
		"Authentication-Results: (mail.example.com) mx.other.test; dmarc=fail\r\n",
		"Authentication-Results: mx.other.test (mail.example.com); dmarc=fail\r\n",
		"Authentication-Results: mx.other.test; dmarc=fail; mail.example.com\r\n",
		"X-Authentication-Results: mail.example.com; dmarc=fail\r\n",
		"Authentication-Results-Old: mail.example.com; dmarc=fail\r\n",
		"Authentication-Results mail.example.com; dmarc=fail\r\n",
		"Subject: x\r\n Authentication-Results: mail.example.com; dmarc=fail\r\n",
		"Subject: x\r\n\r\nAuthentication-Results: mail.example.com; dmarc=fail\r\n",
		"Authentication-Results: ; dmarc=fail\r\n",
		"Authentication-Results:\r\n",
	};
	struct authres ar;
	(void)state;
	for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++) {
		if (parse(not_ours[i], &ar) != 0)
			fail_msg("taken as ours: %s", not_ours[i]);
		assert_int_equal(authres_warning(&ar), AUTHRES_WARN_NONE);
	}
	/* what smtpd removes as ours, in any case and quoted, is ours */
	static const char *const ours[] = {
		"authentication-results : MAIL.Example.COM; dmarc=fail\r\n",
		"Authentication-Results: \"mail.example.com\"; dmarc=fail\r\n",
		"Authentication-Results: (a (nested) comment) mail.example.com 1; dmarc=fail\r\n",
		"Authentication-Results:\r\n mail.example.com\r\n\t;\r\n dmarc\r\n =\r\n fail\r\n",
		"Authentication-Results: mail.example.com;\n\tdmarc=fail\n",
	};
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (parse(ours[i], &ar) != 1 || ar.dmarc != AUTHRES_FAIL)
			fail_msg("not read as ours: %s", ours[i]);
		char copy[256];
		snprintf(copy, sizeof(copy), "%s", ours[i]);
		assert_true(mailauth_strip_forged(copy, strlen(copy), true, ID) < strlen(copy));
	}
}

/* Comments nest and take \-escapes; a '"' in one is text (RFC 5322
 * ctext); a quoted value may hold ';' and '('. */
static void test_comments_quotes(void **state)
{
	struct authres ar;
	(void)state;
	assert_int_equal(parse("Authentication-Results: mail.example.com;\r\n"
			       " spf=pass (a; b (dmarc=pass) \\) a quote is text: \"x) "
			       "smtp.mailfrom=\"ok\\\"x.test\";\r\n"
			       " dkim=fail reason=\"bad; sig (x\" header.d=(c)d.test(c);\r\n"
			       " dmarc=(why)fail(p=none (yes)) header.from = \"bank.test\"\r\n", &ar), 1);
	assert_int_equal(ar.spf, AUTHRES_PASS);
	assert_string_equal(ar.spf_domain, "ok\"x.test");
	assert_int_equal(ar.dkim, AUTHRES_FAIL);
	assert_string_equal(ar.header_d, "d.test");
	assert_int_equal(ar.dmarc, AUTHRES_FAIL);
	assert_string_equal(ar.header_from, "bank.test");
	/* method versions, unknown methods and properties, "hardfail" */
	assert_int_equal(parse("Authentication-Results: mail.example.com; auth=pass "
			       "smtp.auth=me; spf/1=hardfail policy.x=y; dmarc/1=none\r\n", &ar), 1);
	assert_int_equal(ar.spf, AUTHRES_FAIL);
	assert_int_equal(ar.dmarc, AUTHRES_NONE);
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_UNVERIFIED);
}

static void test_garbage_and_limits(void **state)
{
	struct authres ar;
	char big[AUTHRES_FIELD_MAX + 200];
	(void)state;
	/* "none", faults: what came before the fault only */
	assert_int_equal(parse("Authentication-Results: mail.example.com; none\r\n", &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_ABSENT);
	assert_int_equal(parse("Authentication-Results: mail.example.com; spf=fail; ===;;; "
			       "dmarc=fail\r\n", &ar), 1);
	assert_int_equal(ar.spf, AUTHRES_FAIL);
	assert_int_equal(ar.dmarc, AUTHRES_ABSENT);
	assert_int_equal(parse("Authentication-Results: mail.example.com dmarc=fail\r\n", &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_ABSENT);
	assert_int_equal(parse("Authentication-Results: mail.example.com; dmarc=fail "
			       "header.from=\"bank.test\r\n", &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_FAIL);
	assert_string_equal(ar.header_from, "");
	assert_int_equal(parse("Authentication-Results: mail.example.com; dmarc=fail (p=none\r\n",
			       &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_FAIL);
	assert_int_equal(parse("Authentication-Results: mail.example.com; dmarc=weird\r\n", &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_OTHER);
	/* values: non-ASCII, spaces, too long */
	assert_int_equal(parse("Authentication-Results: mail.example.com; dmarc=fail "
			       "header.from=b\xc3\xa4nk.test\r\n", &ar), 1);
	assert_string_equal(ar.header_from, "");
	assert_int_equal(parse("Authentication-Results: mail.example.com; dmarc=fail "
			       "header.from=\"bank test\"\r\n", &ar), 1);
	assert_string_equal(ar.header_from, "");
	int n = snprintf(big, sizeof(big), "Authentication-Results: mail.example.com; dmarc=fail "
			 "header.from=");
	memset(big + n, 'a', AUTHRES_VALUE_MAX);
	snprintf(big + n + AUTHRES_VALUE_MAX, sizeof(big) - (size_t)n - AUTHRES_VALUE_MAX, "\r\n");
	assert_int_equal(parse(big, &ar), 1);
	assert_int_equal(strlen(ar.header_from), AUTHRES_VALUE_MAX);
	snprintf(big + n + AUTHRES_VALUE_MAX, sizeof(big) - (size_t)n - AUTHRES_VALUE_MAX, "a\r\n");
	assert_int_equal(parse(big, &ar), 1);
	assert_string_equal(ar.header_from, "");
	/* a field past AUTHRES_FIELD_MAX is not read */
	n = snprintf(big, sizeof(big), "Authentication-Results: mail.example.com; dmarc=fail (");
	memset(big + n, 'x', AUTHRES_FIELD_MAX);
	snprintf(big + n + AUTHRES_FIELD_MAX, sizeof(big) - (size_t)n - AUTHRES_FIELD_MAX, ")\r\n");
	assert_int_equal(parse(big, &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_ABSENT);
	/* results past AUTHRES_RESULTS_MAX are not read */
	n = snprintf(big, sizeof(big), "Authentication-Results: mail.example.com");
	for (int i = 0; i < AUTHRES_RESULTS_MAX; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "; x=pass");
	snprintf(big + n, sizeof(big) - (size_t)n, "; dmarc=fail\r\n");
	assert_int_equal(parse(big, &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_ABSENT);
	/* the length given is kept to: no NUL needed, none read past */
	const char *h = "Authentication-Results: mail.example.com; dmarc=fail header.from=bank.testXX";
	assert_int_equal(authres_parse(h, strlen(h) - 2, ID, &ar), 1);
	assert_string_equal(ar.header_from, "bank.test");
	assert_int_equal(authres_parse(h, 30, ID, &ar), 0);
	/* NUL bytes */
	static const char nul[] = "Authentication-Results: mail.example.com; dmarc=fail\0 x=y\r\n";
	assert_int_equal(authres_parse(nul, sizeof(nul) - 1, ID, &ar), 1);
	assert_int_equal(ar.dmarc, AUTHRES_FAIL);
}

static void test_warning(void **state)
{
	struct authres ar = { 0 };
	(void)state;
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_NONE);
	ar.spf = AUTHRES_SOFTFAIL;
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_UNVERIFIED);
	ar.dmarc = AUTHRES_PASS;
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_NONE);
	ar.dmarc = AUTHRES_TEMPERROR;
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_UNVERIFIED);
	ar.dkim_pass = true;
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_NONE);
	ar.dmarc = AUTHRES_FAIL;
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_DMARC);
	ar = (struct authres){ .spf = AUTHRES_NEUTRAL, .dmarc = AUTHRES_NONE };
	assert_int_equal(authres_warning(&ar), AUTHRES_WARN_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ours),
		cmocka_unit_test(test_others_ignored),
		cmocka_unit_test(test_forged_looking),
		cmocka_unit_test(test_comments_quotes),
		cmocka_unit_test(test_garbage_and_limits),
		cmocka_unit_test(test_warning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
