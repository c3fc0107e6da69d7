/* Header lines (inetd/smtp_header.c): the header block scanner fed whole
 * and line by line, the Received field, Message-ID and Date. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_header.h"

/* Scans `msg` all at once and growing by one byte at a time; both must
 * agree. Returns the first scan. */
static struct smtp_header_scan scan_both(const char *msg)
{
	struct smtp_header_scan a, b;
	size_t len = strlen(msg);

	smtp_header_scan_init(&a);
	smtp_header_scan(&a, msg, len);
	smtp_header_scan_init(&b);
	for (size_t i = 1; i <= len; i++)
		smtp_header_scan(&b, msg, i);
	assert_int_equal(a.done, b.done);
	assert_int_equal(a.end, b.end);
	assert_int_equal(a.has_message_id, b.has_message_id);
	assert_int_equal(a.has_date, b.has_date);
	assert_int_equal(a.received, b.received);
	return a;
}

static void test_scan_fields(void **state)
{
	struct smtp_header_scan s;

	(void)state;
	s = scan_both("From: a@b\r\nMessage-ID: <x@y>\r\nDATE: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
		      "\r\nbody\r\n");
	assert_true(s.done);
	assert_int_equal(s.end, 68);
	assert_true(s.has_message_id);
	assert_true(s.has_date);
	assert_int_equal(s.received, 0);

	s = scan_both("Received: from a\r\n\tby b\r\nreceived : x\r\nSubject: y\r\n\r\n");
	assert_true(s.done);
	assert_int_equal(s.received, 2);
	assert_false(s.has_message_id || s.has_date);

	/* names that merely start like ours do not count */
	s = scan_both("Message-IDs: x\r\nDated: y\r\nX-Date: z\r\n\r\n");
	assert_false(s.has_message_id || s.has_date);
}

static void test_scan_ends(void **state)
{
	struct smtp_header_scan s;

	(void)state;
	/* no header at all: the body starts at once */
	s = scan_both("\r\nbody\r\n");
	assert_true(s.done);
	assert_int_equal(s.end, 0);
	/* a line that is not a field ends the header block there */
	s = scan_both("Subject: x\r\nnot a header\r\nDate: y\r\n\r\n");
	assert_true(s.done);
	assert_int_equal(s.end, 12);
	assert_false(s.has_date);
	/* a continuation line first is not a header */
	s = scan_both(" folded\r\nDate: x\r\n\r\n");
	assert_true(s.done);
	assert_int_equal(s.end, 0);
	/* incomplete: not done, the partial line is not looked at */
	s = scan_both("Subject: x\r\nDate: y");
	assert_false(s.done);
	assert_false(s.has_date);
	/* only header, no blank line */
	s = scan_both("Subject: x\r\n");
	assert_false(s.done);
}

static void test_protocol_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_protocol_name(false, false, false, false), "SMTP");
	assert_string_equal(smtp_protocol_name(true, false, false, false), "ESMTP");
	assert_string_equal(smtp_protocol_name(true, false, true, false), "ESMTPS");
	assert_string_equal(smtp_protocol_name(true, false, false, true), "ESMTPA");
	assert_string_equal(smtp_protocol_name(true, false, true, true), "ESMTPSA");
	assert_string_equal(smtp_protocol_name(true, true, true, true), "UTF8SMTPSA");
	assert_string_equal(smtp_protocol_name(true, true, false, false), "UTF8SMTP");
}

static void test_received(void **state)
{
	char buf[SMTP_ADDED_HEADERS_MAX];
	struct smtp_received r = {
		.helo = "client.example",
		.peer_ip = "192.0.2.1",
		.hostname = "mail.example.com",
		.protocol = "ESMTPSA",
		.tls = "TLS1.3 AES-256-GCM",
		.id = "0123456789ABCDEF",
		.for_rcpt = "bob@example.com",
		.now = 1700000000,
		.tz = 60,
	};
	size_t len;

	(void)state;
	len = smtp_received_format(&r, buf, sizeof(buf));
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf, "Received: from client.example ([192.0.2.1])\r\n"
				 "\tby mail.example.com (Pillarbox) with ESMTPSA id 0123456789ABCDEF\r\n"
				 "\t(using TLS1.3 AES-256-GCM)\r\n"
				 "\tfor <bob@example.com>;\r\n"
				 "\tTue, 14 Nov 2023 23:13:20 +0100\r\n");
	r.peer_ip = "2001:db8::1";
	r.peer_ipv6 = true;
	r.tls = "";
	r.for_rcpt = NULL;
	r.helo = "";
	len = smtp_received_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "Received: from unknown ([IPv6:2001:db8::1])\r\n"
				 "\tby mail.example.com (Pillarbox) with ESMTPSA id 0123456789ABCDEF;\r\n"
				 "\tTue, 14 Nov 2023 23:13:20 +0100\r\n");
	r.peer_ip = NULL;
	len = smtp_received_format(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "from unknown (unknown)\r\n"));
	/* too small: 0, never a truncated field */
	assert_int_equal(smtp_received_format(&r, buf, 40), 0);
	assert_int_equal(smtp_received_format(&r, buf, len), 0);
	assert_int_equal(smtp_received_format(&r, buf, len + 1), len);
}

static void test_message_id_date(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	n = smtp_message_id_format("ABCD", "mail.example.com", 1700000000, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "Message-ID: <20231114221320.ABCD@mail.example.com>\r\n");
	n = smtp_date_format(1700000000, -300, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "Date: Tue, 14 Nov 2023 17:13:20 -0500\r\n");
	assert_int_equal(smtp_date_format(1700000000, 0, buf, 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_fields),
		cmocka_unit_test(test_scan_ends),
		cmocka_unit_test(test_protocol_names),
		cmocka_unit_test(test_received),
		cmocka_unit_test(test_message_id_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
