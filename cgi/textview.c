/* Plain text for display (textview.h). */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "textview.h"

/* Where a link starting at s[i] ends (exclusive), or i if none starts. */
static size_t link_end(const char *s, size_t len, size_t i, const char **prefix_r)
{
	static const char *const starts[] = { "https://", "http://", "mailto:", "www." };
	*prefix_r = NULL;
	if (i > 0) {
		char b = s[i - 1];
		if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
		    b == '/' || b == '.' || b == '@' || b == '-')
			return i;
	}
	size_t k;
	for (k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		size_t n = strlen(starts[k]);
		if (len - i > n && strncasecmp(s + i, starts[k], n) == 0)
			break;
	}
	if (k == sizeof(starts) / sizeof(starts[0]))
		return i;
	if (k == 3)
		*prefix_r = "http://";
	size_t e = i;
	int parens = 0;
	while (e < len) {
		unsigned char c = (unsigned char)s[e];
		if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' || c == 0x7f)
			break;
		parens += c == '(' ? 1 : c == ')' ? -1 : 0;
		e++;
	}
	/* trailing punctuation belongs to the sentence */
	while (e > i) {
		char c = s[e - 1];
		if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
		    (c == ')' && parens < 0)) {
			parens += c == ')';
			e--;
		} else {
			break;
		}
	}
	if (e - i <= strlen(starts[k]) + 1)
		return i;
	return e;
}

static void add_segments(struct tpl_obj *block, const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *prefix;
		size_t e = link_end(s, len, i, &prefix);
		if (e == i)
			continue;
		if (i > start)
			tpl_strn(tpl_item(block, "segments"), "text", s + start, i - start);
		struct tpl_obj *seg = tpl_item(block, "segments");
		tpl_strn(seg, "text", s + i, e - i);
		struct buf href;
		buf_init(&href, 8192);
		if (prefix != NULL)
			buf_puts(&href, prefix);
		buf_append(&href, s + i, e - i);
		if (!href.failed)
			tpl_strn(seg, "href", href.data, href.len);
		buf_free(&href);
		start = i = e;
		i--;
	}
	if (start < len)
		tpl_strn(tpl_item(block, "segments"), "text", s + start, len - start);
}

void textview_fill(struct tpl_obj *o, const char *name, const char *text, size_t len,
		   bool flowed, bool delsp)
{
	struct buf cur;
	int cur_depth = -1;
	size_t pos = 0;
	buf_init(&cur, 0);
	tpl_list(o, name);
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl == NULL ? len - pos : (size_t)(nl - line);
		pos += llen + (nl != NULL);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		int depth = 0;
		size_t q = 0;
		while (q < llen && line[q] == '>') {
			depth++;
			q++;
			if (!flowed && q < llen && line[q] == ' ')
				q++;
		}
		const char *body = line;
		size_t blen = llen;
		bool soft = false;
		if (flowed) {
			body = line + q;
			blen = llen - q;
			if (blen > 0 && body[0] == ' ') {  /* space-stuffing */
				body++;
				blen--;
			}
			bool sig = blen == 3 && memcmp(body, "-- ", 3) == 0;
			if (!sig && blen > 0 && body[blen - 1] == ' ') {
				soft = true;
				if (delsp)
					blen--;
			}
		}
		int shown = depth > TEXTVIEW_QUOTE_MAX ? TEXTVIEW_QUOTE_MAX : depth;
		if (shown != cur_depth && cur_depth >= 0) {
			/* a new quote level starts a new block */
			struct tpl_obj *b = tpl_item(o, name);
			tpl_int(b, "depth", cur_depth);
			add_segments(b, cur.data == NULL ? "" : cur.data, cur.len);
			buf_reset(&cur);
		}
		cur_depth = shown;
		buf_append(&cur, body, blen);
		if (!soft && pos < len)
			buf_putc(&cur, '\n');
	}
	if (cur_depth >= 0) {
		struct tpl_obj *b = tpl_item(o, name);
		tpl_int(b, "depth", cur_depth);
		add_segments(b, cur.data == NULL ? "" : cur.data, cur.len);
	}
	buf_free(&cur);
}
