/* format=flowed text (flowed.h). */
#include <string.h>

#include "flowed.h"

static size_t quote_depth(const char *s, size_t n)
{
	size_t d = 0;
	while (d < n && s[d] == '>')
		d++;
	return d;
}

/* Calls line(ctx, s, n) for each line of text, without its line end (CRLF,
 * LF or CR); a final line end does not start another line. */
static void each_line(const char *text, size_t len, void (*line)(void *, const char *, size_t),
		      void *ctx)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n' && text[i] != '\r')
			continue;
		line(ctx, text + start, i - start);
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	if (start < len)
		line(ctx, text + start, len - start);
}

static void flow_emit(struct buf *out, size_t depth, const char *s, size_t n)
{
	for (size_t i = 0; i < depth; i++)
		buf_putc(out, '>');
	if (depth > 0 && n > 0)
		buf_putc(out, ' ');      /* the stuffing after quote marks */
	else if (depth == 0 && n > 0 &&
		 (s[0] == ' ' || s[0] == '>' || (n >= 5 && memcmp(s, "From ", 5) == 0)))
		buf_putc(out, ' ');      /* RFC 3676 4.4 space-stuffing (a '>' after a
					    soft break would read as a quote) */
	buf_append(out, s, n);
	buf_puts(out, "\r\n");
}

static void flow_line(void *ctx, const char *s, size_t n)
{
	struct buf *out = ctx;
	size_t depth = quote_depth(s, n);
	s += depth;
	n -= depth;
	if (depth > 0 && n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	bool sig = depth == 0 && n == 3 && memcmp(s, "-- ", 3) == 0;
	/* a hard line break: trailing spaces would make it soft */
	while (!sig && n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	/* room for the quote marks and their space, or a stuffing space */
	size_t prefix = depth + 1;
	size_t width = FLOWED_LINE_WIDTH > prefix + 20 ? FLOWED_LINE_WIDTH - prefix : 20;
	while (n > width) {
		/* break after the last space that keeps the line short, else
		 * after the first one (a long word stays whole) */
		size_t p = 0;
		for (size_t i = width; i > 0; i--) {
			if (s[i - 1] == ' ') {
				p = i;
				break;
			}
		}
		for (size_t i = width; p == 0 && i < n; i++) {
			if (s[i] == ' ')
				p = i + 1;
		}
		if (p == 0 || p >= n)
			break;
		flow_emit(out, depth, s, p);   /* ends in a space: soft */
		s += p;
		n -= p;
	}
	flow_emit(out, depth, s, n);
}

bool flowed_encode(const char *text, size_t len, struct buf *out)
{
	each_line(text, len, flow_line, out);
	return !out->failed;
}

struct unflow {
	struct buf *out;
	bool delsp;
	bool open;            /* a paragraph continues on the next line */
	size_t depth;
};

static void unflow_line(void *ctx, const char *s, size_t n)
{
	struct unflow *u = ctx;
	size_t depth = quote_depth(s, n);
	s += depth;
	n -= depth;
	if (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	if (u->open && depth != u->depth) {
		/* a quote level change ends the paragraph (RFC 3676 4.5) */
		buf_putc(u->out, '\n');
		u->open = false;
	}
	if (!u->open) {
		for (size_t i = 0; i < depth; i++)
			buf_putc(u->out, '>');
		if (depth > 0 && n > 0)
			buf_putc(u->out, ' ');
	}
	bool sig = n == 3 && memcmp(s, "-- ", 3) == 0;
	bool soft = !sig && n > 0 && s[n - 1] == ' ';
	if (soft && u->delsp)
		n--;
	buf_append(u->out, s, n);
	u->open = soft;
	u->depth = depth;
	if (!soft)
		buf_putc(u->out, '\n');
}

bool flowed_decode(const char *text, size_t len, bool delsp, struct buf *out)
{
	struct unflow u = { .out = out, .delsp = delsp };
	each_line(text, len, unflow_line, &u);
	if (u.open)
		buf_putc(out, '\n');
	return !out->failed;
}
