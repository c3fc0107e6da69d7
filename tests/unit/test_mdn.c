/* The MDN builder (store/mdn.h): a Sieve reject's notice and a read
 * receipt, their shape, and hostile values kept on their lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdn.h"
#include "mime.h"
#include "mime_check.h"

static const char original[] =
	"Return-Path: <alice@example.org>\r\n"
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.com\r\n"
	"Subject: Hello there\r\n"
	"Date: Tue, 2 Apr 2024 10:00:00 +0000\r\n"
	"Message-ID: <m1@example.org>\r\n"
	"Disposition-Notification-To: alice@example.org\r\n"
	"\r\n";

static char *build(const struct mdn_input *in, size_t *len_r)
{
	char *msg = NULL;
	assert_int_equal(mdn_build(in, &msg, len_r), 1);
	assert_non_null(msg);
	assert_int_equal(strlen(msg), *len_r);
	return msg;
}

/* Every line ends in CRLF (no bare CR or LF), and no line of the
 * message's header or of a part's header starts a field the input
 * smuggled in (a body line may say anything). */
static void lines_clean(const char *msg, size_t len)
{
	bool header = true;
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\r')
			assert_true(i + 1 < len && msg[i + 1] == '\n');
		if (msg[i] == '\n')
			assert_true(i > 0 && msg[i - 1] == '\r');
		if (i > 0 && msg[i - 1] != '\n')
			continue;
		if (msg[i] == '\r')
			header = false;      /* the blank line after a header */
		else if (msg[i] == '-' && i + 1 < len && msg[i + 1] == '-')
			header = true;       /* a boundary: a part's header follows */
		else if (header)
			assert_true(strncmp(msg + i, "Bcc:", 4) != 0 &&
				    strncmp(msg + i, "X-Evil:", 7) != 0);
	}
}

/* The tree: multipart/report with its parts of these types. */
static void shape(const char *msg, size_t len, const char *const *types, uint32_t n)
{
	struct mime_message *m = mime_check_parse(msg, len, NULL, 1);
	const struct mime_part *root = m->root;
	assert_string_equal(root->type, "multipart");
	assert_string_equal(root->subtype, "report");
	assert_string_equal(mime_params_get(&root->params, "report-type"),
			    "disposition-notification");
	assert_int_equal(root->nchildren, n);
	for (uint32_t i = 0; i < n; i++) {
		char t[128];
		snprintf(t, sizeof(t), "%s/%s", root->children[i]->type,
			 root->children[i]->subtype);
		assert_string_equal(t, types[i]);
	}
	mime_message_free(&m);
}

static void test_deleted(void **state)
{
	(void)state;
	const struct mdn_input in = {
		.disposition = MDN_DELETED, .hostname = "mail.example.com",
		.to = "alice@example.org", .original_rcpt = "info@example.com",
		.final_rcpt = "bob@example.com", .reason = "Not here.\nGo away.",
		.header = original, .header_len = sizeof(original) - 1, .now = 1700000000,
		.unique = "0123abcd",
	};
	size_t len;
	char *msg = build(&in, &len);
	lines_clean(msg, len);
	assert_non_null(strstr(msg, "From: Mail Delivery System <MAILER-DAEMON@mail.example.com>\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: <alice@example.org>\r\n"));
	assert_non_null(strstr(msg, "\r\nSubject: Automatically rejected mail\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <reject.0123abcd@mail.example.com>\r\n"));
	assert_non_null(strstr(msg, "\r\nIn-Reply-To: <m1@example.org>\r\n"));
	assert_non_null(strstr(msg, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(msg, "Your message to <info@example.com> was automatically "
				    "rejected:\r\n\r\nNot here.\r\nGo away.\r\n"));
	assert_non_null(strstr(msg, "\r\nReporting-UA: mail.example.com; Pillarbox Sieve\r\n"));
	assert_non_null(strstr(msg, "\r\nOriginal-Recipient: rfc822; info@example.com\r\n"));
	assert_non_null(strstr(msg, "\r\nFinal-Recipient: rfc822; bob@example.com\r\n"));
	assert_non_null(strstr(msg, "\r\nOriginal-Message-ID: <m1@example.org>\r\n"));
	assert_non_null(strstr(msg, "\r\nDisposition: automatic-action/MDN-sent-automatically; "
				    "deleted\r\n"));
	/* the original header quoted, without its blank line */
	assert_non_null(strstr(msg, "Content-Type: text/rfc822-headers\r\n"
				    "Content-Transfer-Encoding: 7bit\r\n\r\nReturn-Path:"));
	static const char *const types[] = { "text/plain", "message/disposition-notification",
					     "text/rfc822-headers" };
	shape(msg, len, types, 3);
	free(msg);
}

static void test_displayed(void **state)
{
	(void)state;
	const struct mdn_input in = {
		.disposition = MDN_DISPLAYED, .hostname = "mail.example.com",
		.from = "bob@example.com", .from_name = "Bob Example", .to = "alice@example.org",
		.final_rcpt = "bob@example.com", .header = original,
		.header_len = sizeof(original) - 1, .now = 1700000000, .tz = 60, .unique = "u1",
	};
	size_t len;
	char *msg = build(&in, &len);
	lines_clean(msg, len);
	assert_true(strncmp(msg, "From: Bob Example <bob@example.com>\r\n", 37) == 0);
	assert_non_null(strstr(msg, "\r\nTo: <alice@example.org>\r\n"));
	assert_non_null(strstr(msg, "\r\nSubject: Read: Hello there\r\n"));
	assert_non_null(strstr(msg, "\r\nDate: Tue, 14 Nov 2023 23:13:20 +0100\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <mdn.u1@mail.example.com>\r\n"));
	assert_non_null(strstr(msg, "\r\nIn-Reply-To: <m1@example.org>\r\n"));
	assert_null(strstr(msg, "Auto-Submitted"));
	assert_non_null(strstr(msg, "Content-Transfer-Encoding: 7bit\r\n\r\n"
				    "The message sent on Tue, 2 Apr 2024 10:00:00 +0000 to bob@example.com\r\n"
				    "with subject \"Hello there\" has been displayed.\r\n"));
	assert_non_null(strstr(msg, "\r\nReporting-UA: mail.example.com; Pillarbox Webmail\r\n"));
	assert_null(strstr(msg, "Original-Recipient"));
	assert_non_null(strstr(msg, "\r\nFinal-Recipient: rfc822; bob@example.com\r\n"));
	assert_non_null(strstr(msg, "\r\nOriginal-Message-ID: <m1@example.org>\r\n"));
	assert_non_null(strstr(msg, "\r\nDisposition: manual-action/MDN-sent-manually; "
				    "displayed\r\n"));
	/* the original header is not sent back */
	assert_null(strstr(msg, "Return-Path"));
	static const char *const types[] = { "text/plain", "message/disposition-notification" };
	shape(msg, len, types, 2);
	free(msg);

	/* no name, no date, subject or id in the original: left out */
	const struct mdn_input bare = {
		.disposition = MDN_DISPLAYED, .hostname = "mail.example.com",
		.from = "bob@example.com", .to = "alice@example.org", .final_rcpt = "bob@example.com",
		.header = "From: a@example.org\r\n\r\n", .header_len = 23, .now = 0, .unique = "u2",
	};
	msg = build(&bare, &len);
	lines_clean(msg, len);
	assert_true(strncmp(msg, "From: <bob@example.com>\r\n", 25) == 0);
	assert_non_null(strstr(msg, "\r\nSubject: Read:\r\n"));
	assert_non_null(strstr(msg, "The message sent to bob@example.com has been displayed."));
	assert_null(strstr(msg, "In-Reply-To"));
	assert_null(strstr(msg, "Original-Message-ID"));
	free(msg);
}

/* CR, LF and controls in every value: each stays on its line. */
static void test_hostile(void **state)
{
	(void)state;
	static const char header[] =
		"Subject: =?utf-8?q?Hi=0D=0ABcc:_victim@example.net?=\r\n"
		"Date: Tue, 2 Apr 2024\r\n\t10:00:00 +0000\r\n"
		"Message-ID: <a\r\n b@example.org>\r\n\r\n";
	const struct mdn_input in = {
		.disposition = MDN_DISPLAYED, .hostname = "mail.example.com\r\nX-Evil: 1",
		.from = "bob@example.com\r\nBcc: victim@example.net",
		.from_name = "Bob\r\nBcc: victim@example.net", .to = "alice@example.org\nBcc: x@y",
		.final_rcpt = "bob@example.com\rX-Evil: 2", .header = header,
		.header_len = sizeof(header) - 1, .now = 1700000000, .unique = "u3",
	};
	size_t len;
	char *msg = build(&in, &len);
	lines_clean(msg, len);
	/* the subject's decoded line break is a space, inside an encoded word or not */
	assert_non_null(strstr(msg, "with subject \"Hi Bcc: victim@example.net\""));
	assert_non_null(strstr(msg, "\r\nSubject: Read: Hi Bcc: victim@example.net\r\n"));
	/* a folded id is not one "<id>": left out */
	assert_null(strstr(msg, "Original-Message-ID"));
	free(msg);

	const struct mdn_input del = {
		.disposition = MDN_DELETED, .hostname = "mail.example.com",
		.to = "alice@example.org\r\nBcc: victim@example.net",
		.original_rcpt = "info@example.com\r\nX-Evil: 1", .final_rcpt = "bob@example.com",
		.reason = "line one\r\nBcc: not a header\n", .header = header,
		.header_len = sizeof(header) - 1, .now = 1700000000, .unique = "u4",
	};
	msg = build(&del, &len);
	lines_clean(msg, len);
	free(msg);
}

/* A UTF-8 address: the report is message/global-disposition-notification
 * with utf-8 address types (RFC 6533); a UTF-8 subject is encoded. */
static void test_utf8(void **state)
{
	(void)state;
	static const char header[] = "Subject: Gr\xc3\xbc\xc3\x9f""e\r\n"
				     "Message-ID: <u@example.org>\r\n\r\n";
	const struct mdn_input in = {
		.disposition = MDN_DISPLAYED, .hostname = "mail.example.com",
		.from = "b\xc3\xb8""b@example.com", .from_name = "B\xc3\xb8""b",
		.to = "alice@example.org", .final_rcpt = "b\xc3\xb8""b@example.com",
		.header = header, .header_len = sizeof(header) - 1, .now = 1700000000,
		.unique = "u5",
	};
	size_t len;
	char *msg = build(&in, &len);
	lines_clean(msg, len);
	assert_non_null(strstr(msg, "Content-Type: message/global-disposition-notification\r\n"));
	assert_non_null(strstr(msg, "\r\nFinal-Recipient: utf-8; b\xc3\xb8""b@example.com\r\n"));
	assert_non_null(strstr(msg, "Subject: Read: =?UTF-8?"));
	assert_true(strncmp(msg, "From: =?UTF-8?", 14) == 0);
	assert_non_null(strstr(msg, "Content-Transfer-Encoding: quoted-printable\r\n"));
	static const char *const types[] = { "text/plain",
					     "message/global-disposition-notification" };
	shape(msg, len, types, 2);
	free(msg);

	/* an ASCII address: the plain report */
	const struct mdn_input ascii = {
		.disposition = MDN_DELETED, .hostname = "mail.example.com", .to = "a@example.org",
		.original_rcpt = "b@example.com", .final_rcpt = "b@example.com", .reason = "no",
		.header = header, .header_len = sizeof(header) - 1, .now = 0, .unique = "u6",
	};
	msg = build(&ascii, &len);
	assert_non_null(strstr(msg, "Content-Type: message/disposition-notification\r\n"));
	/* the quoted header holds UTF-8: message/global-headers */
	assert_non_null(strstr(msg, "Content-Type: message/global-headers\r\n"));
	free(msg);
}

/* A header past MDN_HEADERS_MAX is cut at a line end. */
static void test_long_header(void **state)
{
	(void)state;
	size_t n = MDN_HEADERS_MAX / 20 + 10, hlen = n * 20 + 2;
	char *h = malloc(hlen + 1);
	assert_non_null(h);
	for (size_t i = 0; i < n; i++)
		memcpy(h + 20 * i, "X-Filler: 123456789\n", 20);
	memcpy(h + n * 20, "\r\n", 3);
	const struct mdn_input in = {
		.disposition = MDN_DELETED, .hostname = "mail.example.com", .to = "a@example.org",
		.original_rcpt = "b@example.com", .final_rcpt = "b@example.com", .reason = "no",
		.header = h, .header_len = hlen, .now = 0, .unique = "u7",
	};
	size_t len;
	char *msg = build(&in, &len);
	lines_clean(msg, len);
	assert_true(len < MDN_HEADERS_MAX + MDN_HEADERS_MAX / 10 + 4096);
	assert_non_null(strstr(msg, "X-Filler: 123456789\r\n\r\n--u7--\r\n"));
	free(msg);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deleted),
		cmocka_unit_test(test_displayed),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_long_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
