/* Unit tests of the webmail's message writer (cgi/msgbuild.c), its
 * format=flowed text (cgi/flowed.c) and typed recipient lists
 * (cgi/addrlist.c). Every message built is parsed back
 * with the project's own MIME parser (store/mime.h: tree invariants and
 * cache round trip via mime_check) and its headers, parts and bytes are
 * compared with what went in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"
#include "flowed.h"
#include "mime.h"
#include "mime_check.h"
#include "msgbuild.h"
#include "rfc2047.h"

static struct arena *arena;

static int setup(void **state)
{
	(void)state;
	arena = arena_new();
	return arena == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(&arena);
	return 0;
}

static int to_buf(void *ctx, const void *data, size_t len)
{
	return buf_append(ctx, data, len) ? 0 : -1;
}

/* Every line ends in CRLF, is at most 998 bytes, and (outside parts
 * allowed 8-bit) is 7-bit. */
static void assert_wire_clean(const struct buf *b, bool allow_8bit)
{
	size_t line = 0;
	assert_true(b->len >= 2);
	assert_memory_equal(b->data + b->len - 2, "\r\n", 2);
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c == '\r') {
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
			line = 0;
			i++;
			continue;
		}
		assert_true(c != '\n');
		assert_true(allow_8bit || c < 0x80);
		assert_true(++line <= 998);
	}
}

static struct mime_message *build(const struct msgbuild *m, struct buf *out)
{
	const char *error = NULL;
	buf_init(out, 0);
	int r = msgbuild_write(m, to_buf, out, &error);
	if (r != 1)
		fail_msg("msgbuild_write: %d %s", r, error != NULL ? error : "");
	return mime_check_parse(out->data, out->len, NULL, 1);
}

static char *decoded(const char *raw)
{
	char *out;
	size_t len;
	assert_int_equal(rfc2047_decode(raw, strlen(raw), &out, &len), 1);
	return out;
}

/* The value of header field `name` in the top header, unfolded. */
static char *header_value(const struct buf *b, const struct mime_message *msg, const char *name)
{
	size_t pos = 0;
	struct mime_header_field f;
	while (mime_header_next(b->data, (size_t)msg->root->header_len, &pos, &f) == 1) {
		if (f.name_len == strlen(name) && strncasecmp(f.name, name, f.name_len) == 0) {
			char *v = malloc(f.value_len + 1);
			size_t o = 0;
			for (size_t i = 0; i < f.value_len; i++)
				if (f.value[i] != '\r' && f.value[i] != '\n')
					v[o++] = f.value[i];
			v[o] = '\0';
			return v;
		}
	}
	return NULL;
}

static char *body_of(const struct buf *b, const struct mime_part *p, size_t *len_r)
{
	char *out;
	const char *error;
	assert_int_equal(mime_part_body_decode(p, b->data, b->len, MIME_DECODE_TRANSFER, &out,
					       len_r, &error), 1);
	return out;
}

static const struct msgbuild_addr bob = { "Bob", "bob@example.com" };

static void base_msg(struct msgbuild *m, const char *text)
{
	*m = (struct msgbuild){
		.from = bob, .subject = "Hello", .text = text, .text_len = strlen(text),
		.message_id = "<1.abc@mail.example.com>", .date = 1700000000, .tz = 60,
	};
}

/* ---------------------------------------------------------------- plain */

static void test_plain_text(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	struct msgbuild_addr to[2] = { { NULL, "alice@example.org" }, { "Carol", "carol@example.net" } };
	base_msg(&m, "Hi Alice,\nsee you.\n");
	m.to = to;
	m.nto = 2;
	struct mime_message *msg = build(&m, &b);
	assert_wire_clean(&b, false);
	const struct mime_part *r = msg->root;
	assert_int_equal(msg->nparts, 1);
	assert_string_equal(r->type, "text");
	assert_string_equal(r->subtype, "plain");
	assert_string_equal(mime_params_get(&r->params, "charset"), "utf-8");
	assert_string_equal(mime_params_get(&r->params, "format"), "flowed");
	assert_string_equal(r->encoding, "7bit");
	assert_int_equal(r->flags & (MIME_F_DEFAULT_TYPE | MIME_F_NO_BLANK_LINE), 0);
	assert_string_equal(r->envelope->subject, "Hello");
	assert_string_equal(r->envelope->message_id, "<1.abc@mail.example.com>");
	assert_string_equal(r->envelope->date, "Tue, 14 Nov 2023 23:13:20 +0100");
	assert_int_equal(r->envelope->from.count, 1);
	assert_string_equal(r->envelope->from.items[0].name, "Bob");
	assert_string_equal(r->envelope->from.items[0].mailbox, "bob");
	assert_int_equal(r->envelope->to.count, 2);
	assert_null(r->envelope->to.items[0].name);
	assert_string_equal(r->envelope->to.items[1].host, "example.net");
	assert_int_equal(r->envelope->bcc.count, 0);
	assert_null(r->envelope->in_reply_to);
	char *mv = header_value(&b, msg, "MIME-Version");
	assert_string_equal(mv, " 1.0");
	free(mv);
	size_t len;
	char *body = body_of(&b, r, &len);
	assert_string_equal(body, "Hi Alice,\r\nsee you.\r\n");
	free(body);
	mime_message_free(&msg);
	buf_free(&b);
}

static void test_encoded_headers(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	struct msgbuild_addr to[3] = {
		{ "Jörg Müller", "joerg@example.de" },
		{ "Lee, Ann", "ann@example.org" },
		{ "Zoë \"Z\" Lee, Jr.", "zoe@example.org" },
	};
	base_msg(&m, "x");
	m.subject = "Grüße aus Köln — ein sehr langer Betreff, der über mehrere Zeilen "
		    "gefaltet werden muss, weil er so lang ist €€€";
	m.from = (struct msgbuild_addr){ "Bøb", "bob@example.com" };
	m.to = to;
	m.nto = 3;
	struct mime_message *msg = build(&m, &b);
	assert_wire_clean(&b, false);
	const struct mime_envelope *env = msg->root->envelope;
	char *subject = decoded(env->subject);
	assert_string_equal(subject, m.subject);
	free(subject);
	assert_int_equal(env->to.count, 3);
	assert_int_equal(env->to.flags, 0);
	for (size_t i = 0; i < 3; i++) {
		char *name = decoded(env->to.items[i].name);
		assert_string_equal(name, to[i].name);
		free(name);
		char *spec = address_addr_spec(&env->to.items[i]);
		assert_string_equal(spec, to[i].addr);
		free(spec);
	}
	char *from = decoded(env->from.items[0].name);
	assert_string_equal(from, "Bøb");
	free(from);
	mime_message_free(&msg);
	buf_free(&b);
}

/* RFC 2047 section 2: no line of the header past 76 once encoded words
 * are in it, wherever the words start (a subject after "Subject: ", a
 * name after "To: " or after a comma), each word at most 75, every value
 * decoding back to what was typed. */
static void test_encoded_header_lines(void **state)
{
	(void)state;
	static const char *const tails[] = {
		"Grüße aus Köln — ein sehr langer Betreff, der über mehrere Zeilen gefaltet "
		"werden muss €€€",
		"日本語の長い件名日本語の長い件名日本語の長い件名日本語の長い件名",
		"😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
		"éééééééééééééééééééééééééééééééééééééééééééééééééééééé plain words after it",
	};
	for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
		for (size_t k = 0; k < 40; k++) {
			char subject[512], name[512];
			snprintf(subject, sizeof(subject), "Re: %.*s%s", (int)k,
				 "plain words before the encoded ones, more", tails[t]);
			snprintf(name, sizeof(name), "%.*s%s", (int)k, "Ann Lee, Jr. and others", tails[t]);
			struct msgbuild_addr to[3] = {
				{ "Al", "al@example.org" },
				{ name, "somebody.with.a.long.address@example.org" },
				{ name, "x@example.org" },
			};
			struct msgbuild m;
			struct buf b;
			base_msg(&m, "x");
			m.subject = subject;
			m.from = (struct msgbuild_addr){ name, "bob@example.com" };
			m.to = to;
			m.nto = 3;
			struct mime_message *msg = build(&m, &b);
			assert_wire_clean(&b, false);
			for (const char *l = b.data; l < b.data + msg->root->header_len;) {
				const char *e = strstr(l, "\r\n");
				if (e - l > RFC2047_LINE_MAX)
					fail_msg("header line of %d: %.*s", (int)(e - l), (int)(e - l), l);
				for (const char *w = l; w < e; w += strcspn(w, " ") + 1)
					if (strncmp(w, "=?", 2) == 0)
						assert_true(strcspn(w, " \r") <= RFC2047_WORD_MAX);
				l = e + 2;
			}
			const struct mime_envelope *env = msg->root->envelope;
			char *v = decoded(env->subject);
			assert_string_equal(v, subject);
			free(v);
			assert_int_equal(env->to.count, 3);
			for (size_t i = 1; i < 3; i++) {
				v = decoded(env->to.items[i].name);
				assert_string_equal(v, name);
				free(v);
			}
			v = decoded(env->from.items[0].name);
			assert_string_equal(v, name);
			free(v);
			mime_message_free(&msg);
			buf_free(&b);
		}
	}
}

static void test_many_recipients_folded(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	struct msgbuild_addr to[100];
	char addrs[100][40];
	for (int i = 0; i < 100; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "user%d@example.org", i);
		to[i] = (struct msgbuild_addr){ i % 2 ? "Some Person" : NULL, addrs[i] };
	}
	base_msg(&m, "x");
	m.to = to;
	m.nto = 100;
	m.bcc = to;
	m.nbcc = 100;
	m.write_bcc = true;
	struct mime_message *msg = build(&m, &b);
	assert_wire_clean(&b, false);
	/* folded: no header line past 78 */
	for (const char *s = b.data; s < b.data + msg->root->header_len;) {
		const char *e = strstr(s, "\r\n");
		assert_true(e - s <= 78);
		s = e + 2;
	}
	assert_int_equal(msg->root->envelope->to.count, 100);
	assert_int_equal(msg->root->envelope->bcc.count, 100);
	mime_message_free(&msg);
	buf_free(&b);
}

static void test_bcc_only_when_asked(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	struct msgbuild_addr bcc = { NULL, "hidden@example.org" };
	base_msg(&m, "x");
	m.bcc = &bcc;
	m.nbcc = 1;
	struct mime_message *msg = build(&m, &b);
	assert_int_equal(msg->root->envelope->bcc.count, 0);
	assert_null(strstr(b.data, "hidden@"));
	mime_message_free(&msg);
	buf_free(&b);
	m.write_bcc = true;
	msg = build(&m, &b);
	assert_int_equal(msg->root->envelope->bcc.count, 1);
	mime_message_free(&msg);
	buf_free(&b);
}

static void test_threading_headers(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	base_msg(&m, "x");
	m.in_reply_to = "<orig@example.org>";
	m.references = "<root@example.org> <mid@example.org> <orig@example.org>";
	m.origin = "reply 3 17";
	struct mime_message *msg = build(&m, &b);
	assert_string_equal(msg->root->envelope->in_reply_to, "<orig@example.org>");
	char *refs = header_value(&b, msg, "References");
	assert_string_equal(refs, " <root@example.org> <mid@example.org> <orig@example.org>");
	free(refs);
	char *origin = header_value(&b, msg, "X-Pillarbox-Origin");
	assert_string_equal(origin, " reply 3 17");
	free(origin);
	mime_message_free(&msg);
	buf_free(&b);
}

/* The compose options: a return receipt (Disposition-Notification-To, the
 * From identity), the priority, a draft's DSN choice; none by default. */
static void test_receipt_priority(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	base_msg(&m, "x");
	struct mime_message *msg = build(&m, &b);
	static const char *const none[] = { "Disposition-Notification-To", "X-Priority",
					    "Importance", "X-Pillarbox-DSN" };
	for (size_t i = 0; i < 4; i++)
		assert_null(header_value(&b, msg, none[i]));
	mime_message_free(&msg);
	buf_free(&b);

	const struct msgbuild_addr me = { "Bøb", "bob@example.com" };
	m.notify_to = &me;
	m.priority = MSGBUILD_PRIORITY_HIGH;
	m.draft_dsn = true;
	msg = build(&m, &b);
	char *v = header_value(&b, msg, "Disposition-Notification-To");
	assert_non_null(v);
	assert_non_null(strstr(v, "<bob@example.com>"));
	assert_non_null(strstr(v, "=?"));   /* the name encoded */
	free(v);
	v = header_value(&b, msg, "X-Priority");
	assert_string_equal(v, " 1 (Highest)");
	free(v);
	v = header_value(&b, msg, "Importance");
	assert_string_equal(v, " high");
	free(v);
	v = header_value(&b, msg, "X-Pillarbox-DSN");
	assert_string_equal(v, " yes");
	free(v);
	mime_message_free(&msg);
	buf_free(&b);

	m.priority = MSGBUILD_PRIORITY_LOW;
	m.draft_dsn = false;
	msg = build(&m, &b);
	v = header_value(&b, msg, "X-Priority");
	assert_string_equal(v, " 5 (Lowest)");
	free(v);
	v = header_value(&b, msg, "Importance");
	assert_string_equal(v, " low");
	free(v);
	assert_null(header_value(&b, msg, "X-Pillarbox-DSN"));
	mime_message_free(&msg);
	buf_free(&b);

	/* the receipt's address is checked as any other */
	const struct msgbuild_addr bad = { NULL, "bob@example.com\r\nBcc: x@example.org" };
	m.notify_to = &bad;
	struct buf r;
	const char *error = NULL;
	buf_init(&r, 0);
	assert_int_equal(msgbuild_write(&m, to_buf, &r, &error), 0);
	buf_free(&r);
}

/* ---------------------------------------------------------------- refusals */

static void assert_refused(const struct msgbuild *m)
{
	struct buf b;
	const char *error = NULL;
	buf_init(&b, 0);
	assert_int_equal(msgbuild_write(m, to_buf, &b, &error), 0);
	assert_non_null(error);
	assert_int_equal(b.len, 0);   /* nothing written */
	buf_free(&b);
}

static void test_header_injection_refused(void **state)
{
	(void)state;
	struct msgbuild m;
	struct msgbuild_addr bad;
	static const char *const subjects[] = { "Hi\r\nBcc: victim@example.org", "Hi\nX: y",
						"Hi\rX: y", ("a\x01" "b") };
	for (size_t i = 0; i < 4; i++) {
		base_msg(&m, "x");
		m.subject = subjects[i];
		assert_refused(&m);
	}
	base_msg(&m, "x");
	bad = (struct msgbuild_addr){ "Eve\r\nBcc: x@example.org", "eve@example.org" };
	m.to = &bad;
	m.nto = 1;
	assert_refused(&m);
	bad = (struct msgbuild_addr){ NULL, "eve@example.org\r\nBcc: x@example.org" };
	assert_refused(&m);
	bad = (struct msgbuild_addr){ NULL, "eve@[127.0.0.1]" };
	assert_refused(&m);
	base_msg(&m, "x");
	m.from = (struct msgbuild_addr){ "Bob", "bob" };
	assert_refused(&m);
	base_msg(&m, "x");
	m.in_reply_to = "<a@b>\r\nBcc: x@example.org";
	assert_refused(&m);
	base_msg(&m, "x");
	m.references = "<a@b>  <c@d>";
	assert_refused(&m);
	base_msg(&m, "x");
	m.message_id = "no-brackets@x";
	assert_refused(&m);
	base_msg(&m, "x");
	m.origin = "reply\r\nBcc: x";
	assert_refused(&m);
	char longsub[MSGBUILD_SUBJECT_MAX + 2];
	memset(longsub, 'a', sizeof(longsub) - 1);
	longsub[sizeof(longsub) - 1] = '\0';
	base_msg(&m, "x");
	m.subject = longsub;
	assert_refused(&m);
}

/* ---------------------------------------------------------------- text */

static void test_flowed_text(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b, back;
	const char *text =
		"This is a long paragraph that goes on and on well past the seventy-eight "
		"characters a flowed line may have, so it must be wrapped at spaces.\r\n"
		"From here on a line that would be mangled by mbox.\n"
		" Leading space.\n"
		"> quoted text that is also quite long and has to be wrapped over two lines "
		"because of its length\n"
		">> deeper\n"
		"trailing spaces   \n"
		"\n"
		"-- \n"
		"Bob";
	base_msg(&m, text);
	struct mime_message *msg = build(&m, &b);
	assert_wire_clean(&b, false);
	size_t len;
	char *body = body_of(&b, msg->root, &len);
	/* every line at most 78, and the stuffing is there */
	for (char *s = body; *s != '\0';) {
		char *e = strstr(s, "\r\n");
		assert_non_null(e);
		assert_true(e - s <= 78);
		s = e + 2;
	}
	assert_non_null(strstr(body, "\r\n From here on"));
	assert_non_null(strstr(body, "\r\n  Leading space."));
	assert_non_null(strstr(body, "\r\n-- \r\nBob\r\n"));
	assert_non_null(strstr(body, "\r\n> quoted text"));
	assert_non_null(strstr(body, "\r\n>> deeper\r\n"));
	assert_non_null(strstr(body, "\r\ntrailing spaces\r\n"));
	buf_init(&back, 0);
	assert_true(flowed_decode(body, len, false, &back));
	assert_string_equal(back.data,
		"This is a long paragraph that goes on and on well past the seventy-eight "
		"characters a flowed line may have, so it must be wrapped at spaces.\n"
		"From here on a line that would be mangled by mbox.\n"
		" Leading space.\n"
		"> quoted text that is also quite long and has to be wrapped over two lines "
		"because of its length\n"
		">> deeper\n"
		"trailing spaces\n"
		"\n"
		"-- \n"
		"Bob\n");
	buf_free(&back);
	free(body);
	mime_message_free(&msg);
	buf_free(&b);
}

/* A '>' that a soft break puts at the start of a line is stuffed: unstuffed
 * it would make the rest of the paragraph a quote (RFC 3676 4.4). */
static void test_flowed_gt_after_break(void **state)
{
	(void)state;
	struct buf out, back;
	char text[200];
	memset(text, 'a', 70);
	strcpy(text + 70, " >an_arrow, not a quote\n");
	buf_init(&out, 0);
	assert_true(flowed_encode(text, strlen(text), &out));
	assert_non_null(strstr(out.data, "\r\n >an_arrow"));
	buf_init(&back, 0);
	assert_true(flowed_decode(out.data, out.len, false, &back));
	assert_string_equal(back.data, text);
	buf_free(&back);
	buf_free(&out);
}

static void test_unflow_delsp(void **state)
{
	(void)state;
	struct buf out;
	const char *in = "abc \r\ndef\r\n> q1 \r\n> q2\r\n>> other \r\nnot joined\r\n";
	buf_init(&out, 0);
	assert_true(flowed_decode(in, strlen(in), true, &out));
	assert_string_equal(out.data, "abcdef\n> q1q2\n>> other\nnot joined\n");
	buf_free(&out);
}

static void test_text_encodings(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	/* mostly ASCII with a few accents: quoted-printable */
	base_msg(&m, "Grüße, see you at the café tomorrow at noon; bring the documents.\n");
	struct mime_message *msg = build(&m, &b);
	assert_wire_clean(&b, false);
	assert_string_equal(msg->root->encoding, "quoted-printable");
	size_t len;
	char *body = body_of(&b, msg->root, &len);
	assert_string_equal(body, "Grüße, see you at the café tomorrow at noon; bring the documents.\r\n");
	free(body);
	mime_message_free(&msg);
	buf_free(&b);
	/* mostly non-ASCII: base64 */
	base_msg(&m, "Здравствуйте, это проверка длинного текста по-русски.\n");
	msg = build(&m, &b);
	assert_string_equal(msg->root->encoding, "base64");
	body = body_of(&b, msg->root, &len);
	struct buf back;
	buf_init(&back, 0);
	assert_true(flowed_decode(body, len, false, &back));
	assert_string_equal(back.data, "Здравствуйте, это проверка длинного текста по-русски.\n");
	buf_free(&back);
	free(body);
	mime_message_free(&msg);
	buf_free(&b);
	/* a soft break's trailing space survives quoted-printable */
	char text[400];
	snprintf(text, sizeof(text), "é %s\n", "word word word word word word word word word word "
		 "word word word word word word word word word word word word");
	base_msg(&m, text);
	msg = build(&m, &b);
	assert_string_equal(msg->root->encoding, "quoted-printable");
	body = body_of(&b, msg->root, &len);
	buf_init(&back, 0);
	assert_true(flowed_decode(body, len, false, &back));
	assert_string_equal(back.data, text);
	buf_free(&back);
	free(body);
	mime_message_free(&msg);
	buf_free(&b);
	/* an empty text */
	base_msg(&m, "");
	msg = build(&m, &b);
	assert_wire_clean(&b, false);
	mime_message_free(&msg);
	buf_free(&b);
}

/* ---------------------------------------------------------------- parts */

static void test_attachments(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	unsigned char bin[70000];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + i / 256);
	const char *longname = "Ein sehr langer Dateiname mit Umlauten äöü und noch viel mehr "
			       "Text, damit RFC 2231 ihn in Abschnitte teilen muss.pdf";
	struct msgbuild_part parts[5] = {
		{ "photo.png", "image/PNG", NULL, bin, sizeof(bin), false },
		{ longname, "application/pdf", NULL, "%PDF-1.4\n", 9, false },
		{ "../../etc/pass\x01wd\x7f\xc2\x85\xe2\x80\xaegnp.exe", "text/plain", "utf-8",
		  "root:x:0:0\n", 11, false },
		{ "empty.bin", "multipart/mixed", NULL, "", 0, false },
		{ "bad type", "text/plain;\r\nX: y", NULL, "z", 1, false },
	};
	base_msg(&m, "See the attachments.\n");
	m.parts = parts;
	m.nparts = 5;
	struct mime_message *msg = build(&m, &b);
	assert_wire_clean(&b, false);
	const struct mime_part *r = msg->root;
	assert_string_equal(r->type, "multipart");
	assert_string_equal(r->subtype, "mixed");
	assert_int_equal(r->flags & (MIME_F_NO_END | MIME_F_NO_BOUNDARY), 0);
	assert_int_equal(r->nchildren, 6);
	assert_string_equal(r->children[0]->type, "text");
	assert_string_equal(mime_params_get(&r->children[0]->params, "format"), "flowed");
	static const char *const names[5] = { "photo.png", NULL, "passwdgnp.exe", "empty.bin",
					      "bad type" };
	static const char *const types[5] = { "image/png", "application/pdf", "text/plain",
					      "application/octet-stream",
					      "application/octet-stream" };
	for (size_t i = 0; i < 5; i++) {
		const struct mime_part *p = r->children[i + 1];
		char type[64];
		snprintf(type, sizeof(type), "%s/%s", p->type, p->subtype);
		assert_string_equal(type, types[i]);
		assert_string_equal(p->disposition, "attachment");
		assert_string_equal(p->encoding, "base64");
		assert_string_equal(mime_part_filename(p), names[i] != NULL ? names[i] : longname);
		assert_string_equal(mime_params_get(&p->params, "name"),
				    names[i] != NULL ? names[i] : longname);
		size_t len;
		char *data = body_of(&b, p, &len);
		assert_int_equal(len, parts[i].len);
		assert_memory_equal(data, parts[i].data, len);
		free(data);
	}
	assert_string_equal(mime_params_get(&r->children[3]->params, "charset"), "utf-8");
	assert_null(strstr(b.data, "../"));
	assert_null(strstr(b.data, "\nX: y"));
	mime_message_free(&msg);
	buf_free(&b);
}

static void test_forward_as_attachment(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	/* LF line ends and 8-bit text: sent as CRLF in an 8bit part */
	const char *orig = "From: Alice <alice@example.org>\nSubject: Original\n"
			   "Message-ID: <orig@example.org>\n\nBody with ümlaut.\n";
	struct msgbuild_part part = { "Original.eml", NULL, NULL, orig, strlen(orig), true };
	base_msg(&m, "Forwarding.\n");
	m.parts = &part;
	m.nparts = 1;
	struct mime_message *msg = build(&m, &b);
	assert_wire_clean(&b, true);
	const struct mime_part *p = msg->root->children[1];
	assert_string_equal(p->type, "message");
	assert_string_equal(p->subtype, "rfc822");
	assert_string_equal(p->encoding, "8bit");
	const struct mime_part *inner = mime_part_message(p);
	assert_non_null(inner);
	assert_string_equal(inner->envelope->subject, "Original");
	assert_string_equal(inner->envelope->message_id, "<orig@example.org>");
	size_t len;
	char *body = body_of(&b, inner, &len);
	/* its last line end too: the delimiter after it brings its own CRLF */
	assert_string_equal(body, "Body with ümlaut.\r\n");
	free(body);
	/* the encapsulated message is the original, line ends made CRLF */
	static const char crlf[] = "From: Alice <alice@example.org>\r\nSubject: Original\r\n"
				   "Message-ID: <orig@example.org>\r\n\r\nBody with ümlaut.\r\n";
	body = body_of(&b, p, &len);
	assert_int_equal(len, strlen(crlf));
	assert_memory_equal(body, crlf, len);
	free(body);
	/* and the text keeps its final line end */
	body = body_of(&b, msg->root->children[0], &len);
	assert_string_equal(body, "Forwarding.\r\n");
	free(body);
	mime_message_free(&msg);
	buf_free(&b);
}

static int fail_writer(void *ctx, const void *data, size_t len)
{
	(void)data;
	size_t *left = ctx;
	if (len > *left)
		return -1;
	*left -= len;
	return 0;
}

static void test_writer_failure_and_bound(void **state)
{
	(void)state;
	struct msgbuild m;
	struct buf b;
	unsigned char bin[5000] = { 0 };
	struct msgbuild_part part = { "a.bin", "application/octet-stream", NULL, bin, sizeof(bin),
				      false };
	const char *error;
	base_msg(&m, "text\n");
	m.parts = &part;
	m.nparts = 1;
	size_t left = 1000;
	assert_int_equal(msgbuild_write(&m, fail_writer, &left, &error), -1);
	assert_string_equal(error, "write failed");
	struct mime_message *msg = build(&m, &b);
	assert_true(b.len <= msgbuild_size_bound(&m));
	mime_message_free(&msg);
	buf_free(&b);
}

/* ---------------------------------------------------------------- helpers */

static void test_filename_clean(void **state)
{
	(void)state;
	char out[MSGBUILD_FILENAME_MAX + 1];
	static const char *const cases[][2] = {
		{ "report.pdf", "report.pdf" },
		{ "../../etc/passwd", "passwd" },
		{ "C:\\Users\\bob\\file.txt", "file.txt" },
		{ "..", "attachment" },
		{ "", "attachment" },
		{ "/", "attachment" },
		{ " .hidden ", "hidden" },
		{ "a\r\nb\tc.txt", "ab c.txt" },
		{ "x\xff\xfey.txt", "xy.txt" },
		{ "f\xe2\x80\xae" "exe.txt", "fexe.txt" },
		{ "Grüße.txt", "Grüße.txt" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msgbuild_filename_clean(cases[i][0], out);
		assert_string_equal(out, cases[i][1]);
	}
	char longname[600];
	memset(longname, 0, sizeof(longname));
	for (size_t i = 0; i < 150; i++)
		memcpy(longname + 3 * i, "€", 3);   /* 450 bytes */
	msgbuild_filename_clean(longname, out);
	assert_true(strlen(out) <= MSGBUILD_FILENAME_MAX);
	assert_int_equal(strlen(out) % 3, 0);
	/* a name cut keeps its extension */
	memset(longname, 0, sizeof(longname));
	memset(longname, 'n', 250);
	strcpy(longname + 250, ".pdf");
	msgbuild_filename_clean(longname, out);
	assert_int_equal(strlen(out), MSGBUILD_FILENAME_MAX);
	assert_string_equal(out + MSGBUILD_FILENAME_MAX - 4, ".pdf");
	memset(longname, 0, sizeof(longname));
	for (size_t i = 0; i < 80; i++)
		memcpy(longname + 3 * i, "\xe6\x97\xa5", 3);   /* 240 bytes */
	strcpy(longname + 240, ".docx");
	msgbuild_filename_clean(longname, out);
	assert_true(strlen(out) <= MSGBUILD_FILENAME_MAX);
	assert_string_equal(out + strlen(out) - 5, ".docx");
	assert_int_equal((strlen(out) - 5) % 3, 0);
	msgbuild_filename_clean(NULL, out);
	assert_string_equal(out, "attachment");
}

static void test_message_id(void **state)
{
	(void)state;
	char a[MSGBUILD_MSGID_SIZE], b[MSGBUILD_MSGID_SIZE];
	assert_int_equal(msgbuild_message_id("mail.example.com", 1700000000, a), 0);
	assert_int_equal(msgbuild_message_id("mail.example.com", 1700000000, b), 0);
	assert_true(msgbuild_msgid_valid(a, strlen(a)));
	assert_string_not_equal(a, b);
	assert_non_null(strstr(a, "@mail.example.com>"));
	assert_int_equal(msgbuild_message_id("bad host\r\n", 0, a), -1);
	assert_false(msgbuild_msgid_valid("<a b@c>", 7));
	assert_false(msgbuild_msgid_valid("<>", 2));
	assert_true(msgbuild_msgid_valid("<a@b>", 5));
}

/* ---------------------------------------------------------------- addrlist */

static void test_addrlist_valid(void **state)
{
	(void)state;
	struct addrlist l;
	const char *error = NULL;
	const char *in = "Ann Lee <Ann@Example.ORG>, bob@example.net; \"Doe, J.\" <j@x.example>,,"
			 " =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>, carol@example.com (Carol C),"
			 " Zoë <zoe@example.org> ,";
	assert_int_equal(addrlist_parse(arena, in, strlen(in), 100, &l, &error), 1);
	assert_int_equal(l.count, 6);
	assert_string_equal(l.items[0].name, "Ann Lee");
	assert_string_equal(l.items[0].addr, "Ann@example.org");
	assert_null(l.items[1].name);
	assert_string_equal(l.items[1].addr, "bob@example.net");
	assert_string_equal(l.items[2].name, "Doe, J.");
	assert_string_equal(l.items[3].name, "Jörg");
	assert_string_equal(l.items[4].name, "Carol C");
	assert_string_equal(l.items[5].name, "Zoë");
	assert_int_equal(addrlist_parse(arena, "", 0, 100, &l, &error), 1);
	assert_int_equal(l.count, 0);
	assert_int_equal(addrlist_parse(arena, " , ;", 4, 100, &l, &error), 1);
	assert_int_equal(l.count, 0);
}

static void test_addrlist_refused(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
		{ "alice@example.org, bob", "\"bob\" is not a complete" },
		{ "a@b", "\"a@b\" is not a valid" },
		{ "x@[127.0.0.1]", "address literal" },
		{ "friends: a@example.org;", "group" },
		{ "a@example.org b@example.org", "not a valid" },
		{ "\"a b\"@example.org", "not a valid" },
		{ "a..b@example.org", "not a valid" },
		{ "a@-example.org", "not a valid" },
		{ "<@relay.example:a@example.org>", "not a valid" },
		{ "jörg@example.de", "non-ASCII" },
		{ "a@example.org\r\nBcc: victim@example.org", "line break" },
		{ "a@example.org\nb@example.org", "line break" },
		{ "Ann <ann@example.org", "not a valid" },
		{ "\"unclosed <ann@example.org>", "e-mail address" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct addrlist l;
		const char *error = NULL;
		int r = addrlist_parse(arena, bad[i][0], strlen(bad[i][0]), 100, &l, &error);
		if (r != 0 || error == NULL || strstr(error, bad[i][1]) == NULL)
			fail_msg("%s: %d %s", bad[i][0], r, error != NULL ? error : "(none)");
	}
}

static void test_addrlist_limits(void **state)
{
	(void)state;
	struct buf in;
	struct addrlist l;
	const char *error = NULL;
	buf_init(&in, 0);
	for (int i = 0; i < 1000; i++)
		buf_printf(&in, "%su%d@example.org", i > 0 ? ", " : "", i);
	assert_int_equal(addrlist_parse(arena, in.data, in.len, 100, &l, &error), 0);
	assert_string_equal(error, "Too many recipients: 1000. A message can have at most 100.");
	assert_int_equal(addrlist_parse(arena, in.data, in.len, 1000, &l, &error), 1);
	assert_int_equal(l.count, 1000);
	buf_free(&in);
	char name[ADDRLIST_NAME_MAX + 40];
	memset(name, 'n', ADDRLIST_NAME_MAX + 1);
	snprintf(name + ADDRLIST_NAME_MAX + 1, 30, " <a@example.org>");
	assert_int_equal(addrlist_parse(arena, name, strlen(name), 100, &l, &error), 0);
	assert_non_null(strstr(error, "too long"));
	assert_true(addrlist_addr_valid("bob@example.com"));
	assert_false(addrlist_addr_valid("bob@localhost"));
	assert_false(addrlist_addr_valid("bob"));
	assert_false(addrlist_addr_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_encoded_headers),
		cmocka_unit_test(test_encoded_header_lines),
		cmocka_unit_test(test_many_recipients_folded),
		cmocka_unit_test(test_bcc_only_when_asked),
		cmocka_unit_test(test_threading_headers),
		cmocka_unit_test(test_receipt_priority),
		cmocka_unit_test(test_header_injection_refused),
		cmocka_unit_test(test_flowed_text),
		cmocka_unit_test(test_flowed_gt_after_break),
		cmocka_unit_test(test_unflow_delsp),
		cmocka_unit_test(test_text_encodings),
		cmocka_unit_test(test_attachments),
		cmocka_unit_test(test_forward_as_attachment),
		cmocka_unit_test(test_writer_failure_and_bound),
		cmocka_unit_test(test_filename_clean),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_addrlist_valid),
		cmocka_unit_test(test_addrlist_refused),
		cmocka_unit_test(test_addrlist_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
