/* libFuzzer harness for the HTML sanitizer (cgi/sanitize.c): any bytes in;
 * the first byte turns images on or off (bit 0) and cid: mapping on or off
 * (bit 1). Besides memory errors (ASan) and undefined behaviour (UBSan) it
 * checks properties of every output: no "<script" element and no on...
 * attribute survives, every href and src is http, https, mailto or ours,
 * and without cid: mapping (whose rewritten URLs are ours, not mail's)
 * sanitising the output again, as the body of a document like the frame
 * it is shown in, gives the same bytes (a fixed point: no mutation on
 * re-parse). Inputs that once failed are kept in the corpus (regress-*). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *cid(void *ctx, const char *id)
{
	(void)ctx;
	return id[0] == 'a' ? "/webmail/part?mb=1&uid=1&part=2&inline=1" : NULL;
}

static char *run(const char *in, size_t len, bool images, bool cids, size_t *len_r)
{
	struct buf out;
	struct sanitize_stats st = { 0 };
	struct sanitize_options opt = { .show_images = images, .cid_url = cids ? cid : NULL };
	buf_init(&out, 0);
	if (sanitize_html(in, len, &opt, &out, &st) < 0) {
		buf_free(&out);
		return NULL;
	}
	char *s = buf_steal(&out, len_r);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 256 * 1024)
		return 0;
	bool images = data[0] & 1, cids = data[0] & 2;
	size_t len, len2;
	/* the text a reply quotes: no failure on any input but an allocation */
	struct buf text;
	buf_init(&text, 0);
	if (sanitize_html_text((const char *)data + 1, size - 1, &text) < 0)
		abort();
	if (text.data != NULL && strlen(text.data) != text.len)
		abort();     /* a NUL from the input would cut the quote short */
	buf_free(&text);
	char *out = run((const char *)data + 1, size - 1, images, cids, &len);
	if (out == NULL)
		return 0;
	/* text is escaped ('<' becomes an entity), so this can only be markup */
	if (strcasestr(out, "<script") != NULL)
		abort();
	/* every attribute we write is ` name="value"` with '"' escaped in
	 * the value: walk the tags and look at the names */
	for (const char *p = out; (p = strchr(p, '<')) != NULL;) {
		p++;
		if (*p == '/' || strncmp(p, "style>", 6) == 0) {
			if (strncmp(p, "style>", 6) == 0 && (p = strstr(p, "</style>")) == NULL)
				break;
			continue;
		}
		while (*p != '\0' && *p != ' ' && *p != '>')
			p++;
		while (*p == ' ') {
			const char *name = p + 1;
			const char *eq = strchr(name, '=');
			if (eq == NULL || eq[1] != '"')
				abort();
			if (strncasecmp(name, "on", 2) == 0)
				abort();
			const char *end = strchr(eq + 2, '"'), *v = eq + 2;
			if (end == NULL)
				abort();
			/* URLs: http, https, mailto, or our own part URL */
			if ((eq - name == 4 && strncmp(name, "href", 4) == 0) ||
			    (eq - name == 3 && strncmp(name, "src", 3) == 0)) {
				while (*v != '"' && (unsigned char)*v <= 0x20)
					v++;
				if (strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0 &&
				    strncasecmp(v, "mailto:", 7) != 0 && strncmp(v, "/webmail/part?", 14) != 0)
					abort();
			}
			p = end + 1;
		}
		if (*p != '>')
			abort();
	}
	if (!cids) {
		/* parsed again as the body of the frame document it goes into */
		char *framed = malloc(len + 7);
		memcpy(framed, "<body>", 6);
		memcpy(framed + 6, out, len + 1);
		char *again = run(framed, len + 6, images, false, &len2);
		free(framed);
		if (again == NULL || len2 != len || memcmp(out, again, len) != 0)
			abort();
		free(again);
	}
	free(out);
	return 0;
}
