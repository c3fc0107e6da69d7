/* Unit tests of the DSN builder: its output parsed back with the project's
 * MIME parser (structure, types, fields), hostile values kept on one line,
 * the original header quoted and cut at a line boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "relay_dsn.h"

static const char orig[] =
	"Received: from x\r\n\tby y\r\n"
	"From: <bob@example.com>\r\n"
	"To: <alice@example.org>\r\n"
	"Subject: hello\r\n"
	"\r\n"
	"the body is not quoted\r\n";

static struct dsn_input input(struct dsn_rcpt *r, size_t n)
{
	struct dsn_input in = {
		.reporting_mta = "mail.example.com",
		.sender = "bob@example.com",
		.queue_id = "0123456789abcdef0123456789abcdef",
		.arrival = 1700000000,
		.now = 1700000100,
		.boundary = "=_test_boundary",
		.rcpts = r,
		.nrcpts = n,
		.headers = orig,
		.headers_len = sizeof(orig) - 1 - strlen("the body is not quoted\r\n"),
	};
	return in;
}

static char *build(const struct dsn_input *in, size_t *len)
{
	char *msg;

	assert_int_equal(relay_dsn_build(in, &msg, len), 1);
	assert_null(memchr(msg, '\0', *len));
	return msg;
}

static char *nul_terminated(char *msg, size_t len)
{
	char *s = malloc(len + 1);

	memcpy(s, msg, len);
	s[len] = '\0';
	free(msg);
	return s;
}

static void test_structure(void **state)
{
	struct dsn_rcpt r[2] = {
		{ "alice@example.org", "5.1.1", "mx.example.org [127.0.0.3]",
		  "550 5.1.1 <alice@example.org>: no such user", 1700000050, DSN_ACTION_FAILED, NULL },
		{ "carol@null.test", "5.1.10", NULL,
		  "domain null.test does not accept mail (null MX, RFC 7505)", 0, DSN_ACTION_FAILED, NULL },
	};
	struct dsn_input in = input(r, 2);
	struct mime_message *m = NULL;
	const char *error;
	size_t len;
	char *msg;

	(void)state;
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_int_equal(mime_parse(msg, len, NULL, &m, &error), 1);
	assert_string_equal(m->root->type, "multipart");
	assert_string_equal(m->root->subtype, "report");
	assert_string_equal(mime_params_get(&m->root->params, "report-type"), "delivery-status");
	assert_int_equal(m->root->nchildren, 3);
	assert_string_equal(m->root->children[0]->subtype, "plain");
	assert_string_equal(m->root->children[1]->type, "message");
	assert_string_equal(m->root->children[1]->subtype, "delivery-status");
	assert_string_equal(m->root->children[2]->subtype, "rfc822-headers");
	mime_message_free(&m);

	assert_non_null(strstr(msg, "To: <bob@example.com>\r\n"));
	assert_non_null(strstr(msg, "From: Mail Delivery System <MAILER-DAEMON@mail.example.com>\r\n"));
	assert_non_null(strstr(msg, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(msg, "Reporting-MTA: dns; mail.example.com\r\n"));
	assert_non_null(strstr(msg, "Final-Recipient: rfc822; alice@example.org\r\nAction: failed\r\n"
				    "Status: 5.1.1\r\nRemote-MTA: dns; mx.example.org\r\n"));
	assert_non_null(strstr(msg, "Diagnostic-Code: smtp; 550 5.1.1 <alice@example.org>: no such"));
	assert_non_null(strstr(msg, "Final-Recipient: rfc822; carol@null.test\r\nAction: failed\r\n"
				    "Status: 5.1.10\r\n"));
	assert_non_null(strstr(msg, "Diagnostic-Code: x-pillarbox; domain null.test"));
	assert_non_null(strstr(msg, "<alice@example.org>: host mx.example.org [127.0.0.3] said: 550"));
	/* the original header, without the body */
	assert_non_null(strstr(msg, "Subject: hello\r\n"));
	assert_null(strstr(msg, "the body is not quoted"));
	assert_non_null(strstr(msg, "--=_test_boundary--\r\n"));
	/* only CRLF line ends */
	for (size_t i = 0; i < len; i++)
		if (msg[i] == '\n')
			assert_int_equal(msg[i - 1], '\r');
	free(msg);
}

/* RFC 3461: success reports (delivered, relayed, expanded), ENVID and
 * ORCPT decoded from xtext and cleaned, RET=FULL only in failure reports. */
static void test_notify(void **state)
{
	struct dsn_rcpt r[3] = {
		{ "carol@example.com", "2.0.0", NULL, "delivered to mailbox", 1700000050,
		  DSN_ACTION_DELIVERED, "rfc822;carol+2Btag@example.com" },
		{ "ann@plain.test", "2.0.0", "mx.plain.test [127.0.0.4]", "250 2.0.0 queued", 0,
		  DSN_ACTION_RELAYED, NULL },
		{ "team@example.com", "2.0.0", NULL, "expanded", 0, DSN_ACTION_EXPANDED,
		  "rfc822;a+0D+0AX-Injected:+201@b" },
	};
	struct dsn_input in = input(r, 3);
	struct mime_message *m = NULL;
	const char *error;
	size_t len;
	char *msg;

	(void)state;
	in.envid = "QQ+2B314+0D+0AX-Evil:+201";
	in.message = orig;
	in.message_len = sizeof(orig) - 1;
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_non_null(strstr(msg, "Subject: Successful Mail Delivery Report\r\n"));
	assert_non_null(strstr(msg, "Original-Envelope-Id: QQ+314 X-Evil: 1\r\n"));
	assert_non_null(strstr(msg, "Original-Recipient: rfc822; carol+tag@example.com\r\n"
				    "Final-Recipient: rfc822; carol@example.com\r\n"
				    "Action: delivered\r\nStatus: 2.0.0\r\n"));
	assert_non_null(strstr(msg, "Final-Recipient: rfc822; ann@plain.test\r\nAction: relayed\r\n"
				    "Status: 2.0.0\r\nRemote-MTA: dns; mx.plain.test\r\n"
				    "Diagnostic-Code: smtp; 250 2.0.0 queued\r\n"));
	assert_non_null(strstr(msg, "Action: expanded\r\n"));
	assert_non_null(strstr(msg, "Original-Recipient: rfc822; a X-Injected: 1@b\r\n"));
	assert_null(strstr(msg, "\r\nX-Injected"));
	assert_null(strstr(msg, "\r\nX-Evil"));
	/* a delivery here quotes no reply */
	assert_null(strstr(msg, "x-pillarbox; delivered"));
	/* no failure: the header only, whatever RET said */
	assert_non_null(strstr(msg, "text/rfc822-headers"));
	assert_null(strstr(msg, "the body is not quoted"));
	assert_int_equal(mime_parse(msg, len, NULL, &m, &error), 1);
	assert_int_equal(m->root->nchildren, 3);
	mime_message_free(&m);
	free(msg);

	/* with a failure among them, RET=FULL returns the message */
	r[1].action = DSN_ACTION_FAILED;
	r[1].status = "5.1.1";
	r[1].diagnostic = "550 5.1.1 no";
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_non_null(strstr(msg, "Subject: Delivery Status Notification\r\n"));
	assert_non_null(strstr(msg, "Content-Type: message/rfc822\r\n"));
	/* the message keeps its last CRLF: the delimiter has its own */
	assert_non_null(strstr(msg, "the body is not quoted\r\n\r\n--=_test_boundary--\r\n"));
	assert_int_equal(mime_parse(msg, len, NULL, &m, &error), 1);
	assert_int_equal(m->root->nchildren, 3);
	assert_string_equal(m->root->children[2]->subtype, "rfc822");
	mime_message_free(&m);
	free(msg);

	/* a UTF-8 ORCPT (RFC 6533): the report is global */
	r[0].orcpt = "utf-8;j\xc3\xb6rg@example.com";
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_non_null(strstr(msg, "Content-Type: message/global-delivery-status"));
	free(msg);
	r[0].orcpt = NULL;

	/* too big to return: the header */
	in.message_len = DSN_MESSAGE_MAX + 1;
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_non_null(strstr(msg, "text/rfc822-headers"));
	assert_null(strstr(msg, "message/rfc822"));
	free(msg);
}

static void test_hostile_values(void **state)
{
	struct dsn_rcpt r[1] = {
		{ "alice@example.org", "", "evil\r\nX-Injected: 1 [1.2.3.4]",
		  "550 bad\r\nX-Injected: 2\r\n\r\n--=_test_boundary--", 0, DSN_ACTION_FAILED, NULL },
	};
	struct dsn_input in = input(r, 1);
	size_t len;
	char *msg;

	(void)state;
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_null(strstr(msg, "\r\nX-Injected"));
	/* no status given: derived from the reply code */
	assert_non_null(strstr(msg, "Status: 5.0.0\r\n"));
	/* the boundary appears only as delimiters (4 times: 3 parts + close) */
	size_t count = 0;
	for (const char *p = msg; (p = strstr(p, "\r\n--=_test_boundary")) != NULL; p++)
		count++;
	assert_int_equal(count, 4);
	free(msg);
}

static void test_long_header_cut(void **state)
{
	size_t big = DSN_HEADERS_MAX + 5000, len;
	char *h = malloc(big + 3), *msg;
	struct dsn_rcpt r[1] = { { "a@b.test", "5.0.0", NULL, "nope", 0, DSN_ACTION_FAILED, NULL } };
	struct dsn_input in = input(r, 1);

	(void)state;
	for (size_t i = 0; i < big; i += 100) {
		size_t n = big - i < 100 ? big - i : 100;

		memset(h + i, 'a', n);
		memcpy(h + i, "X-L: ", n < 5 ? n : 5);
		if (n == 100) {
			h[i + 98] = '\r';
			h[i + 99] = '\n';
		}
	}
	memcpy(h + big, "\r\n", 3);
	in.headers = h;
	in.headers_len = big + 2;
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_true(len < DSN_HEADERS_MAX + 8192);
	/* every quoted line is whole */
	const char *part = strstr(msg, "text/rfc822-headers");
	assert_non_null(part);
	assert_null(strstr(part, "aaX-L"));
	free(msg);
	free(h);
}

static void test_no_headers_no_rcpts(void **state)
{
	struct dsn_rcpt r[1] = { { "a@b.test", NULL, NULL, NULL, 0, DSN_ACTION_FAILED, NULL } };
	struct dsn_input in = input(r, 1);
	char *msg;
	size_t len;

	(void)state;
	in.headers = NULL;
	in.headers_len = 0;
	msg = build(&in, &len);
	free(msg);
	in.nrcpts = 0;
	assert_int_equal(relay_dsn_build(&in, &msg, &len), -1);
}

static void test_utf8_recipient(void **state)
{
	struct dsn_rcpt r[1] = { { "j\xc3\xb6rg@example.org", "5.6.7", NULL,
				   "the message needs SMTPUTF8", 0, DSN_ACTION_FAILED, NULL } };
	struct dsn_input in = input(r, 1);
	char *msg;
	size_t len;

	(void)state;
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_non_null(strstr(msg, "charset=utf-8"));
	assert_non_null(strstr(msg, "Status: 5.6.7"));
	/* RFC 6533: a non-ASCII address is of type utf-8, in a
	 * message/global-delivery-status (message/delivery-status is 7bit) */
	assert_non_null(strstr(msg, "Content-Type: message/global-delivery-status\r\n"));
	assert_null(strstr(msg, "Content-Type: message/delivery-status"));
	assert_non_null(strstr(msg, "Final-Recipient: utf-8; j\xc3\xb6rg@example.org\r\n"));
	assert_null(strstr(msg, "rfc822; j\xc3\xb6rg"));
	/* the ASCII header is still text/rfc822-headers */
	assert_non_null(strstr(msg, "Content-Type: text/rfc822-headers\r\n"));
	free(msg);

	/* an ASCII recipient, a header with UTF-8 (RFC 6532): the header part
	 * is message/global-headers (RFC 6533 6.3) */
	static const char h8[] = "From: <bob@example.com>\r\nSubject: caf\xc3\xa9\r\n\r\n";
	struct dsn_rcpt a[1] = { { "alice@example.org", "5.6.7", NULL,
				   "the message needs SMTPUTF8", 0, DSN_ACTION_FAILED, NULL } };

	in = input(a, 1);
	in.headers = h8;
	in.headers_len = sizeof(h8) - 1;
	msg = build(&in, &len);
	msg = nul_terminated(msg, len);
	assert_non_null(strstr(msg, "Content-Type: message/delivery-status\r\n"));
	assert_non_null(strstr(msg, "Final-Recipient: rfc822; alice@example.org\r\n"));
	assert_non_null(strstr(msg, "Content-Type: message/global-headers\r\n"));
	assert_null(strstr(msg, "text/rfc822-headers"));
	assert_non_null(strstr(msg, "Subject: caf\xc3\xa9\r\n"));
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_long_header_cut),
		cmocka_unit_test(test_no_headers_no_rcpts),
		cmocka_unit_test(test_utf8_recipient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
