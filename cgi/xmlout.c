/* The XML writer (xmlout.h). */
#include <stdio.h>
#include <string.h>

#include "charset.h"
#include "xmlout.h"

#define REPLACEMENT "\xef\xbf\xbd"

long xml_utf8_decode(const unsigned char *s, size_t len, size_t *n)
{
	/* charset.h validates; the code point is then read off the bytes */
	size_t need = charset_utf8_char_len(s, len);
	*n = 1;
	if (need == 0)
		return -1;
	if (need == 1)
		return s[0];
	long cp = s[0] & (0x7f >> need);
	for (size_t i = 1; i < need; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	*n = need;
	return cp;
}

bool xml_is_char(long cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

void xml_escape(struct buf *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t start = 0, i = 0;
	while (i < len) {
		const char *rep = NULL;
		size_t n = 1;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case '\r': rep = i + 1 < len && s[i + 1] == '\n' ? "" : "\n"; break;
		default: {
			long cp = xml_utf8_decode(s + i, len - i, &n);
			if (cp < 0 || !xml_is_char(cp))
				rep = REPLACEMENT;
		}
		}
		if (rep != NULL) {
			buf_append(out, s + start, i - start);
			buf_puts(out, rep);
			start = i + n;
		}
		i += n;
	}
	buf_append(out, s + start, len - start);
}

static void indent(struct xml *x)
{
	for (size_t i = 0; i < x->depth; i++)
		buf_putc(x->out, '\t');
}

void xml_begin(struct xml *x, struct buf *out, const char *doctype)
{
	*x = (struct xml){ .out = out };
	buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	if (doctype != NULL) {
		buf_puts(out, doctype);
		buf_putc(out, '\n');
	}
}

void xml_open(struct xml *x, const char *name, const char *const *attrs)
{
	if (x->depth == XML_DEPTH_MAX) {
		x->failed = true;
		return;
	}
	indent(x);
	buf_putc(x->out, '<');
	buf_puts(x->out, name);
	for (size_t i = 0; attrs != NULL && attrs[i] != NULL && attrs[i + 1] != NULL; i += 2) {
		buf_putc(x->out, ' ');
		buf_puts(x->out, attrs[i]);
		buf_puts(x->out, "=\"");
		xml_escape(x->out, attrs[i + 1], strlen(attrs[i + 1]));
		buf_putc(x->out, '"');
	}
	buf_puts(x->out, ">\n");
	x->open[x->depth++] = name;
}

void xml_close(struct xml *x)
{
	if (x->depth == 0) {
		x->failed = true;
		return;
	}
	x->depth--;
	indent(x);
	buf_puts(x->out, "</");
	buf_puts(x->out, x->open[x->depth]);
	buf_puts(x->out, ">\n");
}

void xml_elem(struct xml *x, const char *name, const char *text)
{
	indent(x);
	buf_putc(x->out, '<');
	buf_puts(x->out, name);
	buf_putc(x->out, '>');
	if (text != NULL)
		xml_escape(x->out, text, strlen(text));
	buf_puts(x->out, "</");
	buf_puts(x->out, name);
	buf_puts(x->out, ">\n");
}

void xml_elem_uint(struct xml *x, const char *name, unsigned long value)
{
	char num[24];
	snprintf(num, sizeof(num), "%lu", value);
	xml_elem(x, name, num);
}

void xml_empty(struct xml *x, const char *name)
{
	indent(x);
	buf_putc(x->out, '<');
	buf_puts(x->out, name);
	buf_puts(x->out, "/>\n");
}

int xml_finish(struct xml *x)
{
	return x->failed || x->depth != 0 || x->out->failed ? -1 : 0;
}
