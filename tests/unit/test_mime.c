/* MIME parser: a corpus of real-world shapes with exact offsets, types,
 * parameters and envelopes; every item also goes through the cache round
 * trip and the corrupt-blob checks (mime_check.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mime.h"
#include "mime_check.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static uint64_t lines_of(const char *d, uint64_t off, uint64_t len)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < len; i++)
		n += d[off + i] == '\n';
	return n + (len > 0 && d[off + len - 1] != '\n');
}

/* Asserts a part's body is exactly `body` (found in data at its first
 * occurrence at or after `from`) and its line count is right. */
static void assert_body(const char *data, size_t len, const struct mime_part *p, const char *body)
{
	assert_non_null(p);
	size_t off = mime_check_offset(data + p->header_offset, len - p->header_offset, body) +
		p->header_offset;
	assert_int_equal(p->body_offset, off);
	assert_int_equal(p->body_len, strlen(body));
	assert_int_equal(p->body_lines, lines_of(data, off, strlen(body)));
}

static void assert_type(const struct mime_part *p, const char *type, const char *subtype)
{
	assert_non_null(p);
	assert_string_equal(p->type, type);
	assert_string_equal(p->subtype, subtype);
}

static struct mime_summary *summary_of(const struct mime_message *msg)
{
	struct mime_summary *s;
	const char *error;
	assert_int_equal(mime_summary_get(msg, &s, &error), 1);
	return s;
}

static const char simple[] =
	"Return-Path: <alice@example.org>\r\n"
	"Date: Mon, 01 Jan 2024 10:00:00 +0100\r\n"
	"From: Alice Example <alice@example.org>\r\n"
	"To: bob@example.com, \"Carol, C.\" <carol@example.net>\r\n"
	"Subject: Hello\r\n"
	"  world\r\n"
	"Message-ID: <1@example.org>\r\n"
	"\r\n"
	"Hello Bob,\r\n"
	"how are you?\r\n";

static void test_simple(void **state)
{
	struct mime_message *msg = mime_check_parse(S(simple), NULL, 1);
	const struct mime_part *root = msg->root;
	assert_int_equal(msg->nparts, 1);
	assert_type(root, "text", "plain");
	assert_int_equal(root->flags, MIME_F_DEFAULT_TYPE);
	assert_int_equal(root->header_len, mime_check_offset(S(simple), "Hello Bob"));
	assert_body(S(simple), root, "Hello Bob,\r\nhow are you?\r\n");
	assert_int_equal(root->body_lines, 2);
	assert_int_equal(root->transfer, MIME_ENC_7BIT);
	const struct mime_envelope *e = root->envelope;
	assert_string_equal(e->date, "Mon, 01 Jan 2024 10:00:00 +0100");
	assert_string_equal(e->subject, "Hello  world");
	assert_string_equal(e->message_id, "<1@example.org>");
	assert_null(e->in_reply_to);
	assert_int_equal(e->from.count, 1);
	assert_string_equal(e->from.items[0].name, "Alice Example");
	assert_string_equal(e->from.items[0].mailbox, "alice");
	assert_string_equal(e->from.items[0].host, "example.org");
	assert_int_equal(e->sender.count, 0);
	assert_int_equal(e->reply_to.count, 0);
	assert_int_equal(e->to.count, 2);
	assert_null(e->to.items[0].name);
	assert_string_equal(e->to.items[1].name, "Carol, C.");
	assert_string_equal(e->to.items[1].mailbox, "carol");
	assert_ptr_equal(mime_part_find(msg, ""), root);
	assert_ptr_equal(mime_part_find(msg, "1"), root);
	assert_null(mime_part_find(msg, "2"));
	assert_null(mime_part_find(msg, "1.1"));
	struct mime_summary *s = summary_of(msg);
	assert_int_equal(s->date, 1704099600);
	assert_int_equal(s->tz, 60);
	assert_string_equal(s->from_display, "Alice Example");
	assert_string_equal(s->from_address, "alice@example.org");
	assert_string_equal(s->subject, "Hello  world");
	assert_false(s->has_attachment);
	mime_summary_free(&s);
	assert_null(s);
	mime_message_free(&msg);
	assert_null(msg);
}

static const char mixed[] =
	"From: =?utf-8?B?R3LDvMOfZQ==?= <a@example.org>\r\n"
	"To: b@example.com\r\n"
	"Subject: Report\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed;\r\n"
	"\tboundary=\"outer\"\r\n"
	"\r\n"
	"This is a preamble.\r\n"
	"--outer\r\n"
	"Content-Type: multipart/alternative; boundary=inner\r\n"
	"\r\n"
	"--inner\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: Quoted-Printable\r\n"
	"\r\n"
	"Caf=C3=A9\r\n"
	"--inner\r\n"
	"Content-Type: text/html; charset=\"utf-8\"\r\n"
	"\r\n"
	"<p>Caf\xc3\xa9</p>\r\n"
	"--inner--\r\n"
	"--outer\r\n"
	"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment; filename*0*=utf-8''%E2%82%AC%20rates;\r\n"
	" filename*1=\".pdf\"\r\n"
	"Content-ID: <pdf@example.org>\r\n"
	"Content-Description: The report\r\n"
	"\r\n"
	"JVBERi0x\r\n"
	"LjQK\r\n"
	"--outer\r\n"
	"Content-Type: image/png\r\n"
	"Content-Disposition: inline; filename=logo.png\r\n"
	"\r\n"
	"iVBORw0KGgo=\r\n"
	"--outer--\r\n"
	"This is the epilogue.\r\n";

static void test_mixed_alternative_attachments(void **state)
{
	struct mime_message *msg = mime_check_parse(S(mixed), NULL, 1);
	const struct mime_part *root = msg->root;
	assert_int_equal(msg->nparts, 6);
	assert_int_equal(msg->flags, 0);
	assert_type(root, "multipart", "mixed");
	assert_string_equal(mime_params_get(&root->params, "boundary"), "outer");
	assert_int_equal(root->nchildren, 3);
	assert_body(S(mixed), root, mixed + mime_check_offset(S(mixed), "This is a preamble"));

	const struct mime_part *alt = mime_part_find(msg, "1");
	assert_type(alt, "multipart", "alternative");
	assert_int_equal(alt->nchildren, 2);
	assert_int_equal(alt->header_offset, mime_check_offset(S(mixed), "Content-Type: multipart/alt"));
	size_t alt_body = mime_check_offset(S(mixed), "--inner\r\n");
	size_t alt_end = mime_check_offset(S(mixed), "--inner--") + 9;
	assert_int_equal(alt->body_offset, alt_body);
	assert_int_equal(alt->body_len, alt_end - alt_body);

	const struct mime_part *plain = mime_part_find(msg, "1.1");
	assert_type(plain, "text", "plain");
	assert_body(S(mixed), plain, "Caf=C3=A9");
	assert_int_equal(plain->body_lines, 1);
	assert_string_equal(plain->encoding, "quoted-printable");
	assert_int_equal(plain->transfer, MIME_ENC_QP);
	char *text;
	size_t text_len;
	const char *error;
	assert_int_equal(mime_part_body_decode(plain, S(mixed), MIME_DECODE_UTF8, &text, &text_len, &error), 1);
	assert_string_equal(text, "Caf\xc3\xa9");
	free(text);

	const struct mime_part *html = mime_part_find(msg, "1.2");
	assert_type(html, "text", "html");
	assert_string_equal(mime_params_get(&html->params, "charset"), "utf-8");
	assert_body(S(mixed), html, "<p>Caf\xc3\xa9</p>");

	const struct mime_part *pdf = mime_part_find(msg, "2");
	assert_type(pdf, "application", "pdf");
	assert_int_equal(pdf->transfer, MIME_ENC_BASE64);
	assert_string_equal(pdf->disposition, "attachment");
	assert_string_equal(pdf->id, "<pdf@example.org>");
	assert_string_equal(pdf->description, "The report");
	assert_int_equal(pdf->disposition_params.count, 1);
	const struct mime_param *fn = &pdf->disposition_params.items[0];
	assert_string_equal(fn->name, "filename");
	assert_string_equal(fn->raw_name, "filename*");
	assert_string_equal(fn->value, "\xe2\x82\xac rates.pdf");
	assert_string_equal(fn->raw_value, "utf-8''%E2%82%AC%20rates.pdf");
	assert_string_equal(mime_part_filename(pdf), "\xe2\x82\xac rates.pdf");
	assert_body(S(mixed), pdf, "JVBERi0x\r\nLjQK");
	assert_int_equal(pdf->body_lines, 2);
	assert_int_equal(mime_part_body_decode(pdf, S(mixed), MIME_DECODE_TRANSFER, &text, &text_len, &error), 1);
	assert_int_equal(text_len, 9);
	assert_memory_equal(text, "%PDF-1.4\n", 9);
	free(text);

	const struct mime_part *png = mime_part_find(msg, "3");
	assert_type(png, "image", "png");
	assert_string_equal(png->disposition, "inline");
	assert_string_equal(mime_part_filename(png), "logo.png");
	assert_body(S(mixed), png, "iVBORw0KGgo=");
	assert_null(mime_part_find(msg, "4"));
	assert_null(mime_part_find(msg, "2.1"));

	struct mime_summary *s = summary_of(msg);
	assert_string_equal(s->from_display, "Gr\xc3\xbc\xc3\x9f" "e");
	assert_string_equal(s->subject, "Report");
	assert_int_equal(s->date, 0);
	assert_true(s->has_attachment);
	mime_summary_free(&s);
	mime_message_free(&msg);
}

static const char nested[] =
	"From: outer@example.org\r\n"
	"Subject: Fwd: Fwd: hi\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"--b1\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"See attached.\r\n"
	"--b1\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"From: middle@example.org\r\n"
	"Subject: Fwd: hi\r\n"
	"Content-Type: multipart/mixed; boundary=\"b2\"\r\n"
	"\r\n"
	"--b2\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"Middle text.\r\n"
	"--b2\r\n"
	"Content-Type: message/rfc822; name=\"inner.eml\"\r\n"
	"\r\n"
	"From: \"Inner Person\" <inner@example.org>\r\n"
	"To: group: x@example.org, y@example.org;, z@example.org\r\n"
	"Subject: hi\r\n"
	"Date: 2 Jan 2024 03:04:05 -0500\r\n"
	"\r\n"
	"Inner body.\r\n"
	"--b2--\r\n"
	"--b1--\r\n";

static void test_rfc822_nested_twice(void **state)
{
	struct mime_message *msg = mime_check_parse(S(nested), NULL, 1);
	assert_int_equal(msg->nparts, 7);
	const struct mime_part *r1 = mime_part_find(msg, "2");
	assert_type(r1, "message", "rfc822");
	const struct mime_part *e1 = mime_part_message(r1);
	assert_non_null(e1);
	assert_true(mime_part_is_message(e1));
	assert_type(e1, "multipart", "mixed");
	assert_int_equal(e1->header_offset, r1->body_offset);
	assert_int_equal(e1->body_offset + e1->body_len, r1->body_offset + r1->body_len);
	assert_string_equal(e1->envelope->from.items[0].mailbox, "middle");
	assert_string_equal(e1->envelope->subject, "Fwd: hi");
	assert_int_equal(r1->body_lines, lines_of(nested, r1->body_offset, r1->body_len));

	assert_body(S(nested), mime_part_find(msg, "2.1"), "Middle text.");
	const struct mime_part *r2 = mime_part_find(msg, "2.2");
	assert_type(r2, "message", "rfc822");
	assert_string_equal(mime_part_filename(r2), "inner.eml");
	const struct mime_part *e2 = mime_part_find(msg, "2.2.1");
	assert_ptr_equal(e2, mime_part_message(r2));
	assert_type(e2, "text", "plain");
	assert_body(S(nested), e2, "Inner body.");
	assert_int_equal(r2->body_offset + r2->body_len, e2->body_offset + e2->body_len);
	assert_int_equal(r2->body_lines, lines_of(nested, r2->body_offset, r2->body_len));
	assert_null(mime_part_find(msg, "2.2.2"));
	assert_null(mime_part_find(msg, "2.3"));
	assert_null(mime_part_find(msg, "1.1"));

	const struct mime_envelope *env = e2->envelope;
	assert_string_equal(env->from.items[0].name, "Inner Person");
	assert_string_equal(env->date, "2 Jan 2024 03:04:05 -0500");
	assert_int_equal(env->to.count, 5);
	assert_null(env->to.items[0].host);
	assert_string_equal(env->to.items[0].mailbox, "group");
	assert_string_equal(env->to.items[1].mailbox, "x");
	assert_string_equal(env->to.items[2].mailbox, "y");
	assert_null(env->to.items[3].host);
	assert_null(env->to.items[3].mailbox);
	assert_string_equal(env->to.items[4].mailbox, "z");

	char section[MIME_SECTION_MAX];
	assert_int_equal(mime_part_section(e2, section, sizeof(section)), 5);
	assert_string_equal(section, "2.2.1");
	assert_int_equal(mime_part_section(e1, section, sizeof(section)), 1);
	assert_string_equal(section, "2");
	assert_int_equal(mime_part_section(msg->root, section, sizeof(section)), 0);
	assert_int_equal(mime_part_section(e2, section, 5), -1);

	struct mime_summary *s = summary_of(msg);
	assert_true(s->has_attachment); /* message/rfc822 with a file name */
	mime_summary_free(&s);
	mime_message_free(&msg);
}

static const char no_final[] =
	"Content-Type: multipart/mixed; boundary=x\r\n"
	"\r\n"
	"--x\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"one\r\n"
	"--x\r\n"
	"\r\n"
	"two\r\n";

static void test_missing_final_boundary(void **state)
{
	struct mime_message *msg = mime_check_parse(S(no_final), NULL, 1);
	assert_int_equal(msg->root->nchildren, 2);
	assert_true(msg->root->flags & MIME_F_NO_END);
	assert_body(S(no_final), mime_part_find(msg, "1"), "one");
	const struct mime_part *two = mime_part_find(msg, "2");
	assert_int_equal(two->header_len, 2); /* just the blank line */
	assert_true(two->flags & MIME_F_DEFAULT_TYPE);
	assert_body(S(no_final), two, "two\r\n");
	assert_int_equal(two->body_lines, 1);
	mime_message_free(&msg);
}

static const char wrong_boundary[] =
	"Content-Type: multipart/mixed; boundary=abc\r\n"
	"\r\n"
	"--xyz\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"text\r\n"
	"--xyz--\r\n";

static void test_wrong_boundary(void **state)
{
	struct mime_message *msg = mime_check_parse(S(wrong_boundary), NULL, 1);
	assert_int_equal(msg->nparts, 1);
	assert_type(msg->root, "multipart", "mixed");
	assert_int_equal(msg->root->nchildren, 0);
	assert_true(msg->root->flags & MIME_F_NO_END);
	assert_null(mime_part_find(msg, "1"));
	mime_message_free(&msg);

	/* no boundary parameter at all */
	static const char none[] = "Content-Type: multipart/mixed\r\n\r\n--a\r\n\r\nx\r\n";
	msg = mime_check_parse(S(none), NULL, 1);
	assert_int_equal(msg->root->nchildren, 0);
	assert_true(msg->root->flags & MIME_F_NO_BOUNDARY);
	mime_message_free(&msg);
}

static const char prefix_outer[] =
	"Content-Type: multipart/mixed; boundary=abc\r\n"
	"\r\n"
	"--abc\r\n"
	"Content-Type: multipart/alternative; boundary=abcdef\r\n"
	"\r\n"
	"--abcdef\r\n"
	"\r\n"
	"inner one\r\n"
	"--abcdef\r\n"
	"\r\n"
	"inner two\r\n"
	"--abcdef--\r\n"
	"--abc\r\n"
	"\r\n"
	"outer two\r\n"
	"--abc--\r\n";

static const char prefix_inner[] =
	"Content-Type: multipart/mixed; boundary=abc-outer\r\n"
	"\r\n"
	"--abc-outer\r\n"
	"Content-Type: multipart/alternative; boundary=abc\r\n"
	"\r\n"
	"--abc\r\n"
	"\r\n"
	"inner one\r\n"
	"--abc\r\n"
	"\r\n"
	"inner two\r\n"
	"--abc-outer\r\n"
	"\r\n"
	"outer two\r\n"
	"--abc-outer--\r\n";

static void test_boundary_prefix(void **state)
{
	const char *const msgs[] = { prefix_outer, prefix_inner };
	const size_t lens[] = { sizeof(prefix_outer) - 1, sizeof(prefix_inner) - 1 };
	for (int i = 0; i < 2; i++) {
		struct mime_message *msg = mime_check_parse(msgs[i], lens[i], NULL, 1);
		assert_int_equal(msg->root->nchildren, 2);
		assert_int_equal(mime_part_find(msg, "1")->nchildren, 2);
		assert_body(msgs[i], lens[i], mime_part_find(msg, "1.1"), "inner one");
		assert_body(msgs[i], lens[i], mime_part_find(msg, "1.2"), "inner two");
		assert_body(msgs[i], lens[i], mime_part_find(msg, "2"), "outer two");
		/* in the second message the inner multipart never closes */
		assert_int_equal((mime_part_find(msg, "1")->flags & MIME_F_NO_END) != 0, i == 1);
		mime_message_free(&msg);
	}
}

static const char preamble[] =
	"Content-Type: multipart/mixed; boundary=\"=_b\"\r\n"
	"\r\n"
	"preamble line 1\r\n"
	"--=_b is not a boundary line: text follows the boundary\r\n"
	"--=_b--x neither\r\n"
	"--=_b\r\n"
	"\r\n"
	"first\r\n"
	"--=_b  \r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"second\r\n"
	"--=_b--\t\r\n"
	"epilogue\r\n"
	"--=_b\r\n"
	"still epilogue\r\n";

static void test_preamble_epilogue(void **state)
{
	struct mime_message *msg = mime_check_parse(S(preamble), NULL, 1);
	/* only padding may follow a boundary (RFC 2046), not other text */
	assert_int_equal(msg->root->nchildren, 2);
	const struct mime_part *first = mime_part_find(msg, "1");
	assert_int_equal(first->header_offset, mime_check_offset(S(preamble), "\r\nfirst") );
	assert_body(S(preamble), first, "first");
	assert_body(S(preamble), mime_part_find(msg, "2"), "second");
	assert_false(msg->root->flags & MIME_F_NO_END);
	assert_int_equal(msg->root->body_offset + msg->root->body_len, sizeof(preamble) - 1);
	mime_message_free(&msg);
}

/* A message whose Subject is `subject`; returns the decoded summary subject. */
static char *subject_of(const char *subject)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "Subject: %s\r\n\r\nbody\r\n", subject);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	struct mime_message *msg = mime_check_parse(buf, (size_t)n, NULL, 1);
	assert_string_equal(msg->root->envelope->subject, subject);
	struct mime_summary *s = summary_of(msg);
	char *r = strdup(s->subject);
	mime_summary_free(&s);
	mime_message_free(&msg);
	return r;
}

static void check_subject(const char *subject, const char *expect)
{
	char *got = subject_of(subject);
	assert_string_equal(got, expect);
	free(got);
}

static void test_encoded_words(void **state)
{
	check_subject("=?utf-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");
	check_subject("=?iso-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");
	check_subject("=?iso-2022-jp?B?GyRCJDMkcyRLJEEkT0AkMyYbKEI=?=",
		      "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\xe4\xb8\x96\xe7\x95\x8c");
	check_subject("=?koi8-r?B?8NLJ18XUIM3J0g==?=",
		      "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80");
	check_subject("=?gb2312?B?xOO6w8rAvec=?=", "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c");
	check_subject("=?big5?B?p0GmbqVArMk=?=", "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c");
	check_subject("=?windows-1252?Q?=93Smart=94_quotes_=96_=805?=",
		      "\xe2\x80\x9cSmart\xe2\x80\x9d quotes \xe2\x80\x93 \xe2\x82\xac" "5");
	check_subject("=?shift_jis?B?k/qWe4zq?=", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	/* a character split over two words, whitespace between words dropped */
	check_subject("=?utf-8?B?4g==?= \t =?UTF-8?B?gqx1cm8=?=", "\xe2\x82\xac" "uro");
	check_subject("=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c");
	check_subject("Re: =?utf-8?q?caf=C3=A9?= ok", "Re: caf\xc3\xa9 ok");
	check_subject("=?utf-8*en?q?lang?=", "lang");
}

static void test_invalid_encoded_words(void **state)
{
	check_subject("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	check_subject("=?utf-8?q?abc", "=?utf-8?q?abc");
	check_subject("=??q?abc?=", "=??q?abc?=");
	check_subject("=?utf-8?q?a b?=", "=?utf-8?q?a b?=");
	check_subject("=?x-no-such-charset?q?a=E9?=", "a\xef\xbf\xbd");
	check_subject("=?utf-8?b?/w==?=", "\xef\xbf\xbd"); /* invalid UTF-8 repaired */
	check_subject("=?utf-8?q?a=0D=0Ab?=", "a  b"); /* no control characters */
	check_subject("=?=?=?utf-8?q?x?=", "=?=?x");
}

static void test_raw_8bit_headers(void **state)
{
	check_subject("Gr\xc3\xbc\xc3\x9f" "e", "Gr\xc3\xbc\xc3\x9f" "e");
	check_subject("Gr\xfc\xdf" "e \x80", "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac");
	check_subject("\xfc =?utf-8?q?=C3=BC?=", "\xc3\xbc \xc3\xbc");
}

static const char rfc2231[] =
	"Content-Type: text/plain; name=\"=?utf-8?B?4oKs?=.txt\"; charset=us-ascii (comment)\r\n"
	"Content-Disposition: attachment;\r\n"
	" filename*0*=iso-8859-1'de'Gr%FC%DFe; filename*1*=%20und;\r\n"
	" filename*2=\" Co.txt\"; size=123; NAME*1=\"b\"; name*0=a; junk; =x; q=\"a\\\"b\"\r\n"
	"\r\n";

static void test_rfc2231_params(void **state)
{
	struct mime_message *msg = mime_check_parse(S(rfc2231), NULL, 1);
	const struct mime_part *p = msg->root;
	assert_int_equal(p->params.count, 2);
	assert_string_equal(p->params.items[0].name, "name");
	assert_string_equal(p->params.items[0].value, "\xe2\x82\xac.txt");
	assert_string_equal(p->params.items[0].raw_value, "=?utf-8?B?4oKs?=.txt");
	assert_string_equal(p->params.items[1].value, "us-ascii");
	const struct mime_params *d = &p->disposition_params;
	assert_int_equal(d->count, 4);
	assert_string_equal(d->items[0].raw_name, "filename*");
	assert_string_equal(d->items[0].value, "Gr\xc3\xbc\xc3\x9f" "e und Co.txt");
	assert_string_equal(d->items[0].raw_value, "iso-8859-1'de'Gr%FC%DFe%20und%20Co.txt");
	assert_string_equal(d->items[1].name, "size");
	assert_string_equal(d->items[1].value, "123");
	assert_string_equal(d->items[2].name, "name");
	assert_string_equal(d->items[2].raw_name, "name");
	assert_string_equal(d->items[2].value, "ab");
	assert_string_equal(d->items[3].value, "a\"b");
	assert_string_equal(mime_part_filename(p), "Gr\xc3\xbc\xc3\x9f" "e und Co.txt");
	mime_message_free(&msg);
}

static void test_bare_lf(void **state)
{
	static const char lf[] =
		"From: a@example.org\n"
		"Subject: bare\n"
		"  LF\n"
		"Content-Type: multipart/mixed; boundary=q\n"
		"\n"
		"--q\n"
		"\n"
		"one\n"
		"two\n"
		"--q\n"
		"Content-Type: text/html\n"
		"\n"
		"<b>x</b>\n"
		"--q--\n";
	struct mime_message *msg = mime_check_parse(S(lf), NULL, 1);
	assert_string_equal(msg->root->envelope->subject, "bare  LF");
	assert_int_equal(msg->root->header_len, mime_check_offset(S(lf), "--q"));
	assert_body(S(lf), mime_part_find(msg, "1"), "one\ntwo");
	assert_int_equal(mime_part_find(msg, "1")->body_lines, 2);
	assert_body(S(lf), mime_part_find(msg, "2"), "<b>x</b>");
	mime_message_free(&msg);
}

static void test_degenerate_messages(void **state)
{
	/* empty */
	struct mime_message *msg = mime_check_parse("", 0, NULL, 1);
	assert_int_equal(msg->root->header_len, 0);
	assert_int_equal(msg->root->body_len, 0);
	assert_true(msg->root->flags & MIME_F_NO_BLANK_LINE);
	struct mime_summary *s = summary_of(msg);
	assert_string_equal(s->subject, "");
	assert_string_equal(s->from_display, "");
	assert_string_equal(s->from_address, "");
	mime_summary_free(&s);
	mime_message_free(&msg);

	/* header, no body */
	static const char hdr_only[] = "Subject: x\r\nFrom: a@b";
	msg = mime_check_parse(S(hdr_only), NULL, 1);
	assert_int_equal(msg->root->header_len, sizeof(hdr_only) - 1);
	assert_int_equal(msg->root->body_len, 0);
	assert_string_equal(msg->root->envelope->subject, "x");
	mime_message_free(&msg);

	/* CR-only line ends: one long line, no field ends */
	static const char cr[] = "Subject: a\rb\r\rbody\r";
	msg = mime_check_parse(S(cr), NULL, 1);
	assert_int_equal(msg->root->header_len, sizeof(cr) - 1);
	assert_string_equal(msg->root->envelope->subject, "a b  body");
	mime_message_free(&msg);

	/* NUL bytes */
	static const char nul[] = "Subject: a\0b\r\nX\0Y: z\r\n\r\nbo\0dy\r\n";
	msg = mime_check_parse(S(nul), NULL, 1);
	assert_string_equal(msg->root->envelope->subject, "a b");
	assert_int_equal(msg->root->body_len, 7);
	mime_message_free(&msg);

	/* only a blank line; only garbage */
	msg = mime_check_parse(S("\r\n"), NULL, 1);
	assert_int_equal(msg->root->header_len, 2);
	mime_message_free(&msg);
	msg = mime_check_parse(S("\x01\x02\xff garbage without colon\n\n\n"), NULL, 1);
	assert_int_equal(msg->root->body_len, 1);
	mime_message_free(&msg);
}

static void test_digest_and_encoded_rfc822(void **state)
{
	static const char digest[] =
		"Content-Type: multipart/digest; boundary=d\r\n"
		"\r\n"
		"--d\r\n"
		"\r\n"
		"Subject: first\r\n"
		"\r\n"
		"one\r\n"
		"--d\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"not a message\r\n"
		"--d\r\n"
		"Content-Type: message/rfc822\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n"
		"U3ViamVjdDogeA0KDQp5DQo=\r\n"
		"--d--\r\n";
	struct mime_message *msg = mime_check_parse(S(digest), NULL, 1);
	const struct mime_part *first = mime_part_find(msg, "1");
	assert_type(first, "message", "rfc822");
	assert_true(first->flags & MIME_F_DEFAULT_TYPE);
	assert_string_equal(mime_part_message(first)->envelope->subject, "first");
	assert_body(S(digest), mime_part_find(msg, "1.1"), "one");
	assert_type(mime_part_find(msg, "2"), "text", "plain");
	/* an encoded message/rfc822 is a leaf */
	const struct mime_part *enc = mime_part_find(msg, "3");
	assert_int_equal(enc->nchildren, 0);
	assert_null(mime_part_message(enc));
	mime_message_free(&msg);
}

static void test_header_interrupted_by_boundary(void **state)
{
	static const char m[] =
		"Content-Type: multipart/mixed; boundary=b\r\n"
		"\r\n"
		"--b\r\n"
		"Content-Type: text/html\r\n"
		"--b\r\n"
		"--b--\r\n";
	struct mime_message *msg = mime_check_parse(S(m), NULL, 1);
	assert_int_equal(msg->root->nchildren, 2);
	const struct mime_part *one = mime_part_find(msg, "1");
	assert_true(one->flags & MIME_F_NO_BLANK_LINE);
	assert_type(one, "text", "html");
	assert_int_equal(one->header_len, strlen("Content-Type: text/html"));
	assert_int_equal(one->body_len, 0);
	const struct mime_part *two = mime_part_find(msg, "2");
	assert_int_equal(two->header_len, 0);
	assert_int_equal(two->body_len, 0);
	mime_message_free(&msg);
}

static void test_header_iteration(void **state)
{
	static const char h[] =
		" orphan continuation\r\n"
		"Subject : folded\r\n"
		"\tvalue\r\n"
		"no colon line\r\n"
		"X-Empty:\r\n"
		"To:a@b\n"
		"\r\n"
		"Body: not a field\r\n";
	size_t pos = 0;
	struct mime_header_field f;
	assert_int_equal(mime_header_next(h, sizeof(h) - 1, &pos, &f), 1);
	assert_int_equal(f.name_len, 7);
	assert_memory_equal(f.name, "Subject", 7);
	assert_int_equal(f.value_len, strlen(" folded\r\n\tvalue"));
	assert_memory_equal(f.value, " folded\r\n\tvalue", f.value_len);
	assert_int_equal(f.offset, mime_check_offset(S(h), "Subject"));
	assert_int_equal(f.len, strlen("Subject : folded\r\n\tvalue\r\n"));
	assert_int_equal(mime_header_next(h, sizeof(h) - 1, &pos, &f), 1);
	assert_memory_equal(f.name, "X-Empty", 7);
	assert_int_equal(f.value_len, 0);
	assert_int_equal(mime_header_next(h, sizeof(h) - 1, &pos, &f), 1);
	assert_memory_equal(f.value, "a@b", 3);
	assert_int_equal(f.value_len, 3);
	assert_int_equal(mime_header_next(h, sizeof(h) - 1, &pos, &f), 0);
	assert_int_equal(mime_header_next(h, sizeof(h) - 1, &pos, &f), 0);
}

static void test_section_syntax(void **state)
{
	struct mime_message *msg = mime_check_parse(S(mixed), NULL, 1);
	const char *const bad[] = { "0", "01", "1.", ".1", "1..1", "a", "1.0", "4294967297", "1 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(mime_part_find(msg, bad[i]));
	assert_non_null(mime_part_find(msg, "1.2"));
	mime_message_free(&msg);
}

static void test_attachment_detection(void **state)
{
	static const char inline_text[] =
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		"Content-Type: text/plain; name=notes.txt\r\nContent-Disposition: inline\r\n\r\nx\r\n--b--\r\n";
	static const char text_attach[] =
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		"Content-Type: text/plain\r\nContent-Disposition: ATTACHMENT\r\n\r\nx\r\n--b--\r\n";
	static const char image_inline[] =
		"Content-Type: multipart/related; boundary=b\r\n\r\n--b\r\n"
		"Content-Type: image/gif; name=\"a.gif\"\r\n\r\nx\r\n--b--\r\n";
	const char *const msgs[] = { inline_text, text_attach, image_inline };
	const size_t lens[] = { sizeof(inline_text) - 1, sizeof(text_attach) - 1, sizeof(image_inline) - 1 };
	const bool expect[] = { false, true, true };
	for (int i = 0; i < 3; i++) {
		struct mime_message *msg = mime_check_parse(msgs[i], lens[i], NULL, 1);
		struct mime_summary *s = summary_of(msg);
		assert_int_equal(s->has_attachment, expect[i]);
		mime_summary_free(&s);
		mime_message_free(&msg);
	}
}

static void test_body_decode_charset(void **state)
{
	static const char m[] =
		"Content-Type: text/plain; charset=ISO-8859-1\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"\r\n"
		"caf=E9 =\r\n"
		"cr=E8me\r\n";
	struct mime_message *msg = mime_check_parse(S(m), NULL, 1);
	char *out;
	size_t len;
	const char *error;
	assert_int_equal(mime_part_body_decode(msg->root, S(m), MIME_DECODE_UTF8, &out, &len, &error), 1);
	assert_string_equal(out, "caf\xc3\xa9 cr\xc3\xa8me\r\n");
	free(out);
	assert_int_equal(mime_part_body_decode(msg->root, S(m), 0, &out, &len, &error), 1);
	assert_string_equal(out, "caf=E9 =\r\ncr=E8me\r\n");
	free(out);
	/* data that is not the parsed message */
	assert_int_equal(mime_part_body_decode(msg->root, m, 10, 0, &out, &len, &error), 0);
	assert_null(out);
	mime_message_free(&msg);
}

static void test_corrupt_blobs(void **state)
{
	const char *error;
	struct mime_message *msg = NULL;
	static const unsigned char junk[][12] = {
		{ 0 },
		{ 1, 0, 0 },
		{ 1, 10, 1 },
		{ 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
		{ 1, 5, 0xff, 0xff, 0xff, 0x0f },
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_int_equal(mime_cache_decode(junk[i], sizeof(junk[i]), &msg, &error), 0);
		assert_null(msg);
	}
	assert_int_equal(mime_cache_decode("", 0, &msg, &error), 0);
	/* random blobs: refused or valid, never a crash */
	unsigned seed = 12345;
	unsigned char buf[256];
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(seed % sizeof(buf));
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = (unsigned char)(seed >> 16);
		}
		buf[0] = MIME_CACHE_VERSION;
		int r = mime_cache_decode(buf, n, &msg, &error);
		assert_true(r == 0 || r == 1);
		if (r == 1) {
			mime_check_invariants(msg);
			mime_message_free(&msg);
		}
	}
}

static void test_blob_size(void **state)
{
	struct mime_message *msg = mime_check_parse(S(simple), NULL, 1);
	void *blob;
	size_t len;
	const char *error;
	assert_int_equal(mime_cache_encode(msg, &blob, &len, &error), 1);
	print_message("simple message: %zu bytes of message, %zu bytes of cache\n", sizeof(simple) - 1, len);
	assert_true(len < 300);
	free(blob);
	mime_message_free(&msg);
	msg = mime_check_parse(S(mixed), NULL, 1);
	assert_int_equal(mime_cache_encode(msg, &blob, &len, &error), 1);
	print_message("multipart with attachments: %zu bytes of cache\n", len);
	assert_true(len < 600);
	free(blob);
	mime_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_mixed_alternative_attachments),
		cmocka_unit_test(test_rfc822_nested_twice),
		cmocka_unit_test(test_missing_final_boundary),
		cmocka_unit_test(test_wrong_boundary),
		cmocka_unit_test(test_boundary_prefix),
		cmocka_unit_test(test_preamble_epilogue),
		cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_invalid_encoded_words),
		cmocka_unit_test(test_raw_8bit_headers),
		cmocka_unit_test(test_rfc2231_params),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_degenerate_messages),
		cmocka_unit_test(test_digest_and_encoded_rfc822),
		cmocka_unit_test(test_header_interrupted_by_boundary),
		cmocka_unit_test(test_header_iteration),
		cmocka_unit_test(test_section_syntax),
		cmocka_unit_test(test_attachment_detection),
		cmocka_unit_test(test_body_decode_charset),
		cmocka_unit_test(test_corrupt_blobs),
		cmocka_unit_test(test_blob_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
