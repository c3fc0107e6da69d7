/* libFuzzer harness for the vCard module (cgi/vcard.c). The input is parsed
 * as a file; every card the parser gives must hold what vcard.h promises
 * (bounded, NUL-free, valid UTF-8 names without control characters), and
 * writing it and parsing the output must give the same card back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "vcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t max, bool multiline)
{
	size_t len = strlen(s);
	if (len > max || !charset_utf8_valid(s, len))
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(multiline && c == '\n')) || c == 0x7f)
			abort();
	}
}

struct again {
	const struct vcard *want;
	size_t n;
};

static int again_cb(const struct vcard *card, void *ctx, const char **error_r)
{
	struct again *a = ctx;
	(void)error_r;
	a->n++;
	const struct vcard *w = a->want;
	if (strcmp(card->name, w->name) != 0)
		abort();
	if (strcmp(card->note, w->note) != 0 || card->nemails != w->nemails ||
	    card->collected != w->collected)
		abort();
	for (size_t i = 0; i < w->nemails; i++) {
		if (strcmp(card->emails[i], w->emails[i]) != 0)
			abort();
	}
	return 0;
}

static int card_cb(const struct vcard *card, void *ctx, const char **error_r)
{
	(void)ctx;
	(void)error_r;
	check_text(card->name, VCARD_NAME_MAX, false);
	check_text(card->note, VCARD_NOTE_MAX, true);
	if (card->nemails > VCARD_EMAILS_MAX)
		abort();
	for (size_t i = 0; i < card->nemails; i++) {
		if (strlen(card->emails[i]) == 0)
			abort();
		check_text(card->emails[i], VCARD_EMAIL_MAX, false);
	}
	/* round trip */
	struct buf out;
	struct vcard_stats st;
	const char *error;
	struct again a = { .want = card };
	buf_init(&out, 0);
	vcard_write(&out, card);
	if (out.failed || vcard_parse(out.data, out.len, again_cb, &a, &st, &error) != 0 || a.n != 1)
		abort();
	buf_free(&out);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vcard_stats st;
	const char *error;
	if (size > 256 * 1024)
		return 0;
	vcard_parse((const char *)data, size, card_cb, NULL, &st, &error);
	return 0;
}
