/* Unit tests of the vCard module (cgi/vcard.c): writing and reading back,
 * escaping, folding, the 4.0, 3.0 (Apple, Google) and 2.1 (phones,
 * quoted-printable, charsets) forms, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "vcard.h"

#define CARDS_KEPT 8

struct got {
	size_t n;
	char name[CARDS_KEPT][VCARD_NAME_MAX + 1];
	char note[CARDS_KEPT][VCARD_NOTE_MAX + 1];
	char emails[CARDS_KEPT][VCARD_EMAILS_MAX][VCARD_EMAIL_MAX + 1];
	size_t nemails[CARDS_KEPT];
	bool collected[CARDS_KEPT];
	int stop_after;     /* cb fails at this card (0: never) */
};

static int keep_cb(const struct vcard *card, void *ctx, const char **error_r)
{
	struct got *g = ctx;
	if (g->stop_after > 0 && g->n + 1 == (size_t)g->stop_after) {
		*error_r = "stopped";
		return -1;
	}
	if (g->n < CARDS_KEPT) {
		snprintf(g->name[g->n], sizeof(g->name[0]), "%s", card->name);
		snprintf(g->note[g->n], sizeof(g->note[0]), "%s", card->note);
		for (size_t i = 0; i < card->nemails; i++)
			snprintf(g->emails[g->n][i], sizeof(g->emails[0][0]), "%s", card->emails[i]);
		g->nemails[g->n] = card->nemails;
		g->collected[g->n] = card->collected;
	}
	g->n++;
	return 0;
}

static struct got *parse_ok(const char *text, size_t len, struct vcard_stats *st)
{
	struct got *g = calloc(1, sizeof(*g));
	const char *err = NULL;
	assert_non_null(g);
	if (vcard_parse(text, len, keep_cb, g, st, &err) != 0)
		fail_msg("vcard_parse: %s", err);
	return g;
}

/* Every line of the output ends in CRLF, is at most 75 octets, and no
 * fold splits a UTF-8 sequence. */
static void check_lines(const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			assert_true(i > 0 && s[i - 1] == '\r');
			assert_true(i - 1 - start <= VCARD_FOLD);
			if (i + 1 < len && s[i + 1] == ' ')
				assert_true(((unsigned char)s[i + 2] & 0xc0) != 0x80);
			start = i + 1;
		} else if (s[i] == '\r') {
			assert_true(i + 1 < len && s[i + 1] == '\n');
		}
	}
	assert_int_equal(start, len);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct buf out;
	struct vcard_stats st;
	char longname[VCARD_NAME_MAX + 1];
	/* 66 two-byte characters: folds must fall between them */
	size_t k = 0;
	for (int i = 0; i < 66; i++) {
		memcpy(longname + k, "é", 2);
		k += 2;
	}
	longname[k] = '\0';
	const struct vcard cards[] = {
		{ .name = "Doe, John; \"Jr\" \\ the 2nd", .note = "line 1\nline 2, with; all \\ of it",
		  .emails = { "john@example.com", "j.doe@work.example" }, .nemails = 2 },
		{ .name = longname, .note = "", .emails = { "e@x.org" }, .nemails = 1, .collected = true },
		{ .name = "", .note = "", .emails = { "noname@x.org" }, .nemails = 1 },
		{ .name = "日本語の名前", .note = "ノート", .emails = { "jp@例え.jp" }, .nemails = 1 },
	};
	buf_init(&out, 0);
	for (size_t i = 0; i < 4; i++)
		vcard_write(&out, &cards[i]);
	assert_false(out.failed);
	check_lines(out.data, out.len);
	assert_non_null(strstr(out.data, "FN:Doe\\, John\\; \"Jr\" \\\\ the 2nd\r\n"));
	assert_non_null(strstr(out.data, "NOTE:line 1\\nline 2\\, with\\; all \\\\ of it\r\n"));
	assert_non_null(strstr(out.data, "EMAIL;PREF=1:john@example.com\r\n"));
	assert_non_null(strstr(out.data, "VERSION:4.0\r\n"));
	struct got *g = parse_ok(out.data, out.len, &st);
	assert_int_equal(st.cards, 4);
	assert_int_equal(st.dropped + st.cut + st.skipped_lines, 0);
	assert_string_equal(g->name[0], cards[0].name);
	assert_string_equal(g->note[0], cards[0].note);
	assert_int_equal(g->nemails[0], 2);
	assert_string_equal(g->emails[0][0], "john@example.com");
	assert_string_equal(g->emails[0][1], "j.doe@work.example");
	assert_false(g->collected[0]);
	assert_string_equal(g->name[1], longname);
	assert_true(g->collected[1]);
	/* without a name, FN is the address, read back as no name */
	assert_non_null(strstr(out.data, "FN:noname@x.org\r\n"));
	assert_string_equal(g->name[2], "");
	assert_string_equal(g->name[3], "日本語の名前");
	assert_string_equal(g->emails[3][0], "jp@例え.jp");
	free(g);
	/* an address longer than a name, standing in for the name: still no name */
	char longaddr[VCARD_EMAIL_MAX + 1];
	memset(longaddr, 'l', 240);
	strcpy(longaddr + 240, "@example.org");
	const struct vcard nameless = { .name = "", .note = "", .emails = { longaddr }, .nemails = 1 };
	buf_reset(&out);
	vcard_write(&out, &nameless);
	g = parse_ok(out.data, out.len, &st);
	assert_string_equal(g->name[0], "");
	assert_string_equal(g->emails[0][0], longaddr);
	free(g);
	buf_free(&out);
}

static void test_folded(void **state)
{
	(void)state;
	struct vcard_stats st;
	static const char text[] =
		"BEGIN:VCARD\nVERSION:4.0\nFN:Jo\n hn\n\t Smith\nEMAIL:john@exa\r\n mple.com\r\n"
		"NOTE:a\\\r\n nb\nEND:VCARD\n";
	struct got *g = parse_ok(text, sizeof(text) - 1, &st);
	assert_int_equal(st.cards, 1);
	assert_string_equal(g->name[0], "John Smith");
	assert_string_equal(g->emails[0][0], "john@example.com");
	assert_string_equal(g->note[0], "a\nb");   /* an escape split by a fold */
	free(g);
}

static void test_v30(void **state)
{
	(void)state;
	struct vcard_stats st;
	/* as Apple Contacts and Google Contacts write them */
	static const char text[] =
		"BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//macOS 14.0//EN\r\n"
		"N:Appleseed;John;;;\r\nFN:John Appleseed\r\nORG:Apple Inc.;\r\n"
		"EMAIL;type=INTERNET;type=HOME:john@home.example\r\n"
		"EMAIL;type=INTERNET;type=WORK;type=pref:John-Appleseed@mac.com\r\n"
		"item1.EMAIL;type=INTERNET:other@x.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n"
		"NOTE:Line one\\nLine two\\, with comma\r\n"
		"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n 2wBDAAgGBgcGBQgHBwcJ\r\n"
		"END:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Anna;;Dr.;\r\n"
		"EMAIL;TYPE=INTERNET:anna@example.de\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:3.0\r\nORG:ACME Corp\\; Ltd;Sales\r\n"
		"EMAIL;TYPE=INTERNET:sales@acme.example\r\nEND:VCARD\r\n";
	struct got *g = parse_ok(text, sizeof(text) - 1, &st);
	assert_int_equal(st.cards, 3);
	assert_string_equal(g->name[0], "John Appleseed");
	assert_int_equal(g->nemails[0], 3);
	assert_string_equal(g->emails[0][0], "John-Appleseed@mac.com");   /* preferred first */
	assert_string_equal(g->emails[0][1], "john@home.example");
	assert_string_equal(g->emails[0][2], "other@x.org");
	assert_string_equal(g->note[0], "Line one\nLine two, with comma");
	/* no FN: the name from N; then from ORG */
	assert_string_equal(g->name[1], "Dr. Anna Müller");
	assert_string_equal(g->name[2], "ACME Corp; Ltd");
	free(g);
}

static void test_v40(void **state)
{
	(void)state;
	struct vcard_stats st;
	static const char text[] =
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Simon Perreault\r\n"
		"N:Perreault;Simon;;;ing. jr,M.Sc.\r\n"
		"EMAIL;TYPE=work:simon.perreault@viagenie.ca\r\n"
		"EMAIL;TYPE=\"home,internet\";PREF=1:simon@home.example\r\n"
		"NOTE;LANGUAGE=fr:Il a dit \"bonjour\"\\; puis: rien\r\n"
		"X-PILLARBOX-COLLECTED:true\r\nEND:VCARD\r\n";
	struct got *g = parse_ok(text, sizeof(text) - 1, &st);
	assert_int_equal(st.cards, 1);
	assert_string_equal(g->name[0], "Simon Perreault");
	assert_string_equal(g->emails[0][0], "simon@home.example");
	assert_string_equal(g->emails[0][1], "simon.perreault@viagenie.ca");
	assert_string_equal(g->note[0], "Il a dit \"bonjour\"; puis: rien");
	assert_true(g->collected[0]);
	free(g);
}

static void test_v21(void **state)
{
	(void)state;
	struct vcard_stats st;
	/* an old phone: quoted-printable with soft breaks, Latin-1, bare params */
	static const char text[] =
		"BEGIN:VCARD\r\nVERSION:2.1\r\n"
		"N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\r\n"
		"EMAIL;INTERNET;PREF:juergen@example.de\r\n"
		"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Erste Zeile=0D=0AZweite =\r\n"
		"Zeile =C3=A4\r\n"
		"END:VCARD\r\n"
		/* no charset and not UTF-8: read as windows-1252 */
		"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Ren\xe9\r\nEMAIL:rene@x.org\r\nEND:VCARD\r\n";
	struct got *g = parse_ok(text, sizeof(text) - 1, &st);
	assert_int_equal(st.cards, 2);
	assert_string_equal(g->name[0], "Jürgen Müller");
	assert_string_equal(g->emails[0][0], "juergen@example.de");
	assert_string_equal(g->note[0], "Erste Zeile\nZweite Zeile ä");
	assert_string_equal(g->name[1], "René");
	free(g);
	/* UTF-16 with a byte order mark (Outlook) */
	static const char ascii[] = "BEGIN:VCARD\r\nFN:Wide\r\nEMAIL:w@x.org\r\nEND:VCARD\r\n";
	char wide[2 + 2 * sizeof(ascii)];
	wide[0] = '\xff';
	wide[1] = '\xfe';
	for (size_t i = 0; i < sizeof(ascii) - 1; i++) {
		wide[2 + 2 * i] = ascii[i];
		wide[3 + 2 * i] = '\0';
	}
	g = parse_ok(wide, 2 + 2 * (sizeof(ascii) - 1), &st);
	assert_int_equal(st.cards, 1);
	assert_string_equal(g->name[0], "Wide");
	free(g);
}

static void test_hostile(void **state)
{
	(void)state;
	struct vcard_stats st;
	const char *err = NULL;
	struct got *g = calloc(1, sizeof(*g));
	assert_non_null(g);
	/* not a vCard at all */
	assert_int_equal(vcard_parse("hello\nworld\n", 12, keep_cb, g, &st, &err), -1);
	assert_non_null(strstr(err, "not a vCard"));
	assert_int_equal(vcard_parse("", 0, keep_cb, g, &st, &err), -1);
	/* too large */
	assert_int_equal(vcard_parse("", VCARD_INPUT_MAX + 1, keep_cb, g, &st, &err), -1);
	assert_non_null(strstr(err, "too large"));
	/* too many cards: refused when the first one past the limit ends */
	static const char one[] = "BEGIN:VCARD\nFN:x\nEMAIL:x@y.z\nEND:VCARD\n";
	size_t n = VCARD_CARDS_MAX + 1, ol = sizeof(one) - 1;
	char *many = malloc(n * ol);
	assert_non_null(many);
	for (size_t i = 0; i < n; i++)
		memcpy(many + i * ol, one, ol);
	assert_int_equal(vcard_parse(many, n * ol, NULL, NULL, &st, &err), -1);
	assert_non_null(strstr(err, "more than 5000"));
	assert_int_equal(vcard_parse(many, (n - 1) * ol, NULL, NULL, &st, &err), 0);
	assert_int_equal(st.cards, VCARD_CARDS_MAX);
	free(many);
	/* the callback stops the parse */
	g->stop_after = 2;
	static const char two[] = "BEGIN:VCARD\nFN:a\nEND:VCARD\nBEGIN:VCARD\nFN:b\nEND:VCARD\n";
	assert_int_equal(vcard_parse(two, sizeof(two) - 1, keep_cb, g, &st, &err), -1);
	assert_string_equal(err, "stopped");
	memset(g, 0, sizeof(*g));

	/* a card that never ends, a nested one, NUL bytes, junk lines, an
	 * unterminated quoted parameter, control characters, a lone
	 * backslash, 25 addresses, an overlong name and address */
	struct buf in;
	buf_init(&in, 0);
	buf_puts(&in, "junk before\r\nBEGIN:VCARD\r\nFN:Outer\r\nAGENT:\r\nBEGIN:VCARD\r\n"
		 "FN:Inner\r\nEND:VCARD\r\nEND:VCARD\r\n");
	buf_puts(&in, "BEGIN:VCARD\r\nFN:Good\x01\x1b name\\\r\nEMAIL;TYPE=\"unterminated:x@y.z\r\n"
		 "no colon here\r\n;;;:\r\nEMAIL:ok@y.z\r\n");
	buf_append(&in, "NOTE:nul\0byte\r\n", 15);
	for (int i = 0; i < 25; i++)
		buf_printf(&in, "EMAIL:a%d@y.z\r\n", i);
	buf_puts(&in, "EMAIL:");
	for (int i = 0; i < 300; i++)
		buf_putc(&in, 'a');
	buf_puts(&in, "@y.z\r\nEND:VCARD\r\n");
	buf_puts(&in, "BEGIN:VCARD\r\nFN:");
	for (int i = 0; i < 1000; i++)
		buf_puts(&in, "ü");
	buf_puts(&in, "\r\nPHOTO;ENCODING=b:");
	for (int i = 0; i < 200000; i++)
		buf_puts(&in, "QUJD\r\n ");
	buf_puts(&in, "QUJD\r\nEMAIL:after-photo@y.z\r\nEND:VCARD\r\n");
	/* N components cut to the limit on a character boundary too */
	buf_puts(&in, "BEGIN:VCARD\r\nN:a");
	for (int i = 0; i < 150; i++)
		buf_puts(&in, "\xff");
	buf_puts(&in, "\r\nEMAIL:n@y.z\r\nEND:VCARD\r\n");
	buf_puts(&in, "BEGIN:VCARD\r\nFN:Never ends\r\nEMAIL:never@y.z\r\n");
	assert_false(in.failed);
	assert_int_equal(vcard_parse(in.data, in.len, keep_cb, g, &st, &err), 0);
	assert_int_equal(st.cards, 3);
	assert_int_equal(st.dropped, 2);        /* the nesting one, the endless one */
	assert_true(st.skipped_lines >= 4);
	assert_true(st.cut >= 3);
	assert_string_equal(g->name[0], "Good   name\\");
	assert_int_equal(g->nemails[0], VCARD_EMAILS_MAX);
	assert_string_equal(g->emails[0][0], "ok@y.z");
	assert_string_equal(g->note[0], "");
	assert_int_equal(strlen(g->name[1]), VCARD_NAME_MAX);   /* 100 ü, cut whole */
	assert_int_equal(g->nemails[1], 1);
	assert_string_equal(g->emails[1][0], "after-photo@y.z");
	/* "a" and 150 windows-1252 bytes: 301 bytes of UTF-8, cut whole */
	assert_true(strlen(g->name[2]) <= VCARD_NAME_MAX);
	assert_true(charset_utf8_valid(g->name[2], strlen(g->name[2])));
	assert_non_null(strstr(g->name[2], "ÿÿ"));
	buf_free(&in);

	/* pathological line ends stay linear: 4 MB of lone CRs, then of
	 * spaces after LF (one endless folded line) */
	size_t big = 4 * 1024 * 1024;
	char *junk = malloc(big + 64);
	assert_non_null(junk);
	strcpy(junk, "BEGIN:VCARD\n");
	memset(junk + 12, '\r', big);
	assert_int_equal(vcard_parse(junk, big + 12, NULL, NULL, &st, &err), 0);
	assert_int_equal(st.dropped, 1);
	strcpy(junk, "BEGIN:VCARD\nFN:x\n");
	for (size_t i = 17; i + 1 < big; i += 2) {
		junk[i] = ' ';
		junk[i + 1] = '\n';
	}
	assert_int_equal(vcard_parse(junk, big, NULL, NULL, &st, &err), 0);
	/* random bytes never crash (the fuzzer does the rest) */
	static const char alphabet[] = "BEGIN:VCARDEND;=\":\\\r\n ,\x80\xc3\xa9\0FNEMAIL";
	srand(1);
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(rand() % 2000);
		memcpy(junk, "BEGIN:VCARD\n", 12);
		for (size_t i = 12; i < len + 12; i++)
			junk[i] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
		vcard_parse(junk, len + 12, keep_cb, g, &st, &err);
		g->n = 0;
	}
	free(junk);
	free(g);
}

/* What the parser gives, written and read again, is the same card (the
 * fuzzer's property; these inputs once broke it). */
#define A10 "aaaaaaaaaa"
#define A199 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 \
	"aaaaaaaaa"

static void test_reread(void **state)
{
	(void)state;
	static const char *const inputs[] = {
		/* a name that is the address (from N, any case) */
		"BEGIN:VCARD\r\nN:Mac\r\nEMAIL:mac\r\nEND:VCARD\r\n",
		/* a control character after mailto: */
		"BEGIN:VCARD\r\nFN:x\r\nEMAIL:mailto:\x1b" "ac@x.org\r\nEND:VCARD\r\n",
		/* a name cut to the limit right after a space (199 + " " + more) */
		"BEGIN:VCARD\r\nFN:" A199 " bbbbbbbbbbbb\r\nEMAIL:a@b.c\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\r\nN:b;" A199 "\r\nEMAIL:a@b.c\r\nEND:VCARD\r\n",
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct vcard_stats st;
		struct got *g = parse_ok(inputs[i], strlen(inputs[i]), &st);
		assert_int_equal(g->n, 1);
		struct vcard card = { .name = g->name[0], .note = g->note[0],
				      .nemails = g->nemails[0], .collected = g->collected[0] };
		for (size_t k = 0; k < g->nemails[0]; k++)
			card.emails[k] = g->emails[0][k];
		struct buf out;
		buf_init(&out, 0);
		vcard_write(&out, &card);
		struct got *again = parse_ok(out.data, out.len, &st);
		assert_int_equal(again->n, 1);
		assert_string_equal(again->name[0], g->name[0]);
		assert_int_equal(again->nemails[0], g->nemails[0]);
		for (size_t k = 0; k < g->nemails[0]; k++)
			assert_string_equal(again->emails[0][k], g->emails[0][k]);
		buf_free(&out);
		free(again);
		free(g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_v30),
		cmocka_unit_test(test_v40),
		cmocka_unit_test(test_v21),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_reread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
