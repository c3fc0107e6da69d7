/* Unit tests of the MX's Authentication-Results field (RFC 8601) and of
 * the removal of forged ones (mailauth.h's pure parts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mailauth.h"

static void test_field(void **state)
{
	struct spf_outcome spf = { .result = SPF_PASS };
	struct dkim_sig_result dkim[2];
	struct dmarc_outcome dmarc = { .result = DMARC_PASS, .requested = DMARC_POLICY_REJECT };
	char buf[MAILAUTH_FIELD_MAX];
	size_t n;

	(void)state;
	memset(dkim, 0, sizeof(dkim));
	snprintf(spf.domain, sizeof(spf.domain), "example.org");
	snprintf(spf.reason, sizeof(spf.reason), "ip4:192.0.2.0/24 (matched) \\ ok");
	dkim[0].result = DKIM_PASS;
	snprintf(dkim[0].domain, sizeof(dkim[0].domain), "example.org");
	snprintf(dkim[0].selector, sizeof(dkim[0].selector), "s1");
	snprintf(dkim[0].b8, sizeof(dkim[0].b8), "ab+/cd==");
	dkim[1].result = DKIM_FAIL;
	snprintf(dkim[1].domain, sizeof(dkim[1].domain), "list.example");
	snprintf(dkim[1].selector, sizeof(dkim[1].selector), "bad\"sel");
	snprintf(dkim[1].reason, sizeof(dkim[1].reason), "body hash did not verify");
	snprintf(dmarc.domain, sizeof(dmarc.domain), "example.org");
	n = mailauth_field_format("mail.example.com", &spf, dkim, 2, &dmarc, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf,
			    "Authentication-Results: mail.example.com;\r\n"
			    "\tspf=pass (ip4:192.0.2.0/24 matched  ok) smtp.mailfrom=example.org;\r\n"
			    "\tdkim=pass header.d=example.org header.s=s1 header.b=\"ab+/cd==\";\r\n"
			    "\tdkim=fail (body hash did not verify) header.d=list.example "
			    "header.s=\"bad\\\"sel\";\r\n"
			    "\tdmarc=pass (p=reject) header.from=example.org\r\n");

	/* The HELO identity; no signature; a DMARC result without a policy. */
	spf.result = SPF_NONE;
	spf.helo_identity = true;
	spf.reason[0] = '\0';
	snprintf(spf.domain, sizeof(spf.domain), "mx.example.net");
	dmarc.result = DMARC_NONE;
	snprintf(dmarc.reason, sizeof(dmarc.reason), "no DMARC record");
	dmarc.domain[0] = '\0';
	n = mailauth_field_format("mx", &spf, dkim, 0, &dmarc, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "Authentication-Results: mx;\r\n"
				 "\tspf=none smtp.helo=mx.example.net;\r\n"
				 "\tdkim=none;\r\n"
				 "\tdmarc=none (no DMARC record)\r\n");
	/* Non-ASCII or control bytes in a value: the property is left out. */
	snprintf(spf.domain, sizeof(spf.domain), "b\xc3\xbc.example");
	n = mailauth_field_format("mx", &spf, dkim, 0, &dmarc, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\tspf=none;\r\n"));
	/* Too small a buffer: 0, never a cut field. */
	assert_int_equal(mailauth_field_format("mx", &spf, dkim, 0, &dmarc, buf, 40), 0);
}

static size_t strip(char *h, const char *id)
{
	size_t n = mailauth_strip_forged(h, strlen(h), true, id);

	h[n] = '\0';
	return n;
}

static void test_strip(void **state)
{
	char h[1024];

	(void)state;
	snprintf(h, sizeof(h),
		 "Received: from x\r\n"
		 "Authentication-Results: MAIL.example.com; dmarc=pass\r\n"
		 "Subject: hi\r\n"
		 "authentication-results : (c) mail.example.com;\r\n"
		 "  spf=pass smtp.mailfrom=bank.test\r\n"
		 "Authentication-Results: other.example; spf=pass\r\n"
		 "Authentication-Results: mail.example.com.evil; spf=pass\r\n"
		 "Authentication-Results:\"mail.example.com\"; dkim=pass\r\n"
		 "X-Authentication-Results: mail.example.com; none\r\n"
		 "Authentication-Results: mail.example.com");
	strip(h, "mail.example.com");
	assert_string_equal(h, "Received: from x\r\n"
			       "Subject: hi\r\n"
			       "Authentication-Results: other.example; spf=pass\r\n"
			       "Authentication-Results: mail.example.com.evil; spf=pass\r\n"
			       "X-Authentication-Results: mail.example.com; none\r\n");
	/* Nothing to take out: unchanged. */
	snprintf(h, sizeof(h), "From: a@b\r\nTo: c@d\r\n");
	assert_int_equal(strip(h, "mx"), strlen("From: a@b\r\nTo: c@d\r\n"));
	/* A block cut short: its last field may go on, and stays whole. */
	snprintf(h, sizeof(h), "Authentication-Results: mx; a\r\n"
			       "Subject: s\r\n"
			       "Authentication-Results: mx;\r\n dkim=pass");
	h[mailauth_strip_forged(h, strlen(h), false, "mx")] = '\0';
	assert_string_equal(h, "Subject: s\r\nAuthentication-Results: mx;\r\n dkim=pass");
	/* An unterminated comment before the id: not ours, kept. */
	snprintf(h, sizeof(h), "Authentication-Results: (mx; spf=pass\r\n");
	assert_int_equal(strip(h, "mx"), strlen("Authentication-Results: (mx; spf=pass\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_strip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
