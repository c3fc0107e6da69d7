/* Plain text for display (textview.h). */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "textview.h"

/* Characters that end a link as white space and quotes do: Unicode spaces
 * (text made from HTML is full of no-break spaces), typographic quotes and
 * CJK punctuation, which a URL only has percent-encoded. */
static const char *const link_stops[] = {
	"\u00a0", "\u2002", "\u2003", "\u2009", "\u200a", "\u200b", "\u202f", "\u3000",
	"\u00ab", "\u00bb", "\u2018", "\u2019", "\u201c", "\u201d", "\u2039", "\u203a",
	"\u3001", "\u3002", "\u300c", "\u300d", "\u300e", "\u300f", "\u3010", "\u3011",
	"\uff01", "\uff08", "\uff09", "\uff0c", "\uff0e", "\uff1a", "\uff1b", "\uff1f",
};

static bool link_stop(const char *s, size_t len)
{
	for (size_t k = 0; k < sizeof(link_stops) / sizeof(link_stops[0]); k++) {
		size_t n = strlen(link_stops[k]);
		if (len >= n && memcmp(s, link_stops[k], n) == 0)
			return true;
	}
	return false;
}

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
	int parens = 0, brackets = 0;
	while (e < len) {
		unsigned char c = (unsigned char)s[e];
		if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' || c == 0x7f ||
		    (c >= 0x80 && link_stop(s + e, len - e)))
			break;
		parens += c == '(' ? 1 : c == ')' ? -1 : 0;
		brackets += c == '[' ? 1 : c == ']' ? -1 : 0;
		e++;
	}
	/* trailing punctuation belongs to the sentence, and so does a closing
	 * bracket the link did not open: "(see http://x/)", "[http://x/]" */
	while (e > i) {
		char c = s[e - 1];
		if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
		    (c == ')' && parens < 0) || (c == ']' && brackets < 0)) {
			parens += c == ')';
			brackets += c == ']';
			e--;
		} else {
			break;
		}
	}
	if (e - i <= strlen(starts[k]) + 1)
		return i;
	return e;
}

static void add_segments(struct tpl_obj *block, const char *s, size_t len, unsigned *budget)
{
	size_t start = 0;
	for (size_t i = 0; i < len && *budget > 0; i++) {
		const char *prefix;
		size_t e = link_end(s, len, i, &prefix);
		if (e == i)
			continue;
		(*budget)--;
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
		   bool flowed, bool delsp, unsigned *budget)
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
		if (shown != cur_depth && cur_depth >= 0 && *budget > 0) {
			/* a new quote level starts a new block */
			(*budget)--;
			struct tpl_obj *b = tpl_item(o, name);
			tpl_int(b, "depth", cur_depth);
			add_segments(b, cur.data == NULL ? "" : cur.data, cur.len, budget);
			buf_reset(&cur);
			cur_depth = shown;
		}
		if (cur_depth < 0)
			cur_depth = shown;
		buf_append(&cur, body, blen);
		if (!soft && pos < len)
			buf_putc(&cur, '\n');
	}
	if (cur_depth >= 0) {
		struct tpl_obj *b = tpl_item(o, name);
		tpl_int(b, "depth", cur_depth);
		add_segments(b, cur.data == NULL ? "" : cur.data, cur.len, budget);
	}
	buf_free(&cur);
}
