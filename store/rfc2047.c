/* RFC 2047 encoded words: decode to UTF-8 for display, encode for writing. */
#include "rfc2047.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "codec.h"
#include "mime_buf.h"

struct encoded_word {
	const char *charset;
	size_t charset_len;  /* without a "*language" suffix (RFC 2231) */
	char encoding;       /* 'B' or 'Q' */
	const char *text;
	size_t text_len;
	size_t end;          /* offset just past "?=" */
};

static bool rfc2047_charset_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr("!#$%&'+^_`{|}~.:*-", c) != NULL);
}

/* Parses an encoded word at in[pos] (which is "=?"). Every byte it examines
 * before failing is one that cannot start another word except the last, so
 * the caller's scan stays linear. */
static bool rfc2047_word_parse(const char *in, size_t len, size_t pos, struct encoded_word *w)
{
	size_t i = pos + 2, cs = i;
	while (i < len && i - cs <= CHARSET_NAME_MAX && rfc2047_charset_char((unsigned char)in[i]))
		i++;
	if (i == cs || i - cs > CHARSET_NAME_MAX || i >= len || in[i] != '?')
		return false;
	w->charset = in + cs;
	w->charset_len = i - cs;
	const char *star = memchr(w->charset, '*', w->charset_len);
	if (star != NULL)
		w->charset_len = (size_t)(star - w->charset);
	i++;
	if (i + 1 >= len || in[i + 1] != '?')
		return false;
	switch (in[i]) {
	case 'B':
	case 'b':
		w->encoding = 'B';
		break;
	case 'Q':
	case 'q':
		w->encoding = 'Q';
		break;
	default:
		return false;
	}
	i += 2;
	w->text = in + i;
	while (i < len && in[i] != '?' && (unsigned char)in[i] > ' ' && (unsigned char)in[i] < 0x7f)
		i++;
	if (i + 1 >= len || in[i] != '?' || in[i + 1] != '=')
		return false;
	w->text_len = (size_t)(in + i - w->text);
	w->end = i + 2;
	return true;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void rfc2047_word_decode(struct mbuf *out, const struct encoded_word *w)
{
	if (w->encoding == 'B') {
		if (!mbuf_reserve(out, BASE64_DECODED_MAX(w->text_len)))
			return;
		out->len += base64_decode(w->text, w->text_len, out->data + out->len, NULL);
		return;
	}
	const unsigned char *t = (const unsigned char *)w->text;
	for (size_t i = 0; i < w->text_len; i++) {
		int hi, lo;
		if (t[i] == '_') {
			mbuf_putc(out, ' ');
		} else if (t[i] == '=' && i + 2 < w->text_len && (hi = hexval(t[i + 1])) >= 0 &&
			   (lo = hexval(t[i + 2])) >= 0) {
			mbuf_putc(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			mbuf_putc(out, (char)t[i]);
		}
	}
}

static bool all_whitespace(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	}
	return true;
}

/* Text outside encoded words, with folds (LF, CRLF) removed. */
static void rfc2047_literal_append(struct mbuf *out, const char *p, size_t n, bool utf8)
{
	size_t start = out->len;
	if (utf8)
		mbuf_append(out, p, n);
	else
		charset_append_utf8(out, "windows-1252", 12, p, n);
	if (out->failed)
		return;
	size_t j = start;
	for (size_t i = start; i < out->len; i++) {
		char c = out->data[i];
		if (c == '\n' || (c == '\r' && i + 1 < out->len && out->data[i + 1] == '\n'))
			continue; /* a fold; a lone CR becomes a space below */
		out->data[j++] = c;
	}
	out->len = j;
}

struct pending_words {
	struct mbuf bytes;     /* decoded bytes of adjacent words in one charset */
	const char *charset;
	size_t charset_len;
};

static void pending_flush(struct mbuf *out, struct pending_words *pw)
{
	if (pw->charset != NULL)
		charset_append_utf8(out, pw->charset, pw->charset_len, pw->bytes.data, pw->bytes.len);
	if (pw->bytes.failed)
		out->failed = true;
	pw->bytes.len = 0;
	pw->charset = NULL;
}

void rfc2047_decode_append(struct mbuf *out, const char *in, size_t len)
{
	bool utf8 = charset_utf8_valid(in, len);
	struct pending_words pw = { 0 };
	size_t start = out->len, lit = 0, i = 0;
	bool after_word = false;
	while (i + 1 < len) {
		const char *eq = memchr(in + i, '=', len - i - 1);
		if (eq == NULL)
			break;
		i = (size_t)(eq - in);
		struct encoded_word w;
		if (in[i + 1] != '?' || !rfc2047_word_parse(in, len, i, &w)) {
			i++;
			continue;
		}
		if (!after_word || !all_whitespace(in + lit, i - lit)) {
			pending_flush(out, &pw);
			rfc2047_literal_append(out, in + lit, i - lit, utf8);
		}
		if (pw.charset != NULL && (pw.charset_len != w.charset_len ||
					   strncasecmp(pw.charset, w.charset, w.charset_len) != 0))
			pending_flush(out, &pw);
		pw.charset = w.charset;
		pw.charset_len = w.charset_len;
		rfc2047_word_decode(&pw.bytes, &w);
		after_word = true;
		lit = i = w.end;
	}
	pending_flush(out, &pw);
	rfc2047_literal_append(out, in + lit, len - lit, utf8);
	mbuf_free(&pw.bytes);
	if (out->failed)
		return;
	for (size_t k = start; k < out->len; k++) {
		unsigned char c = (unsigned char)out->data[k];
		if (c < 0x20 || c == 0x7f)
			out->data[k] = ' ';
	}
}

int rfc2047_decode(const char *in, size_t len, char **out_r, size_t *out_len_r)
{
	struct mbuf out = { 0 };
	rfc2047_decode_append(&out, in, len);
	*out_r = mbuf_steal(&out, out_len_r);
	return *out_r == NULL ? -1 : 1;
}

/* ---------------------------------------------------------------- encoding */

/* Characters a Q-encoded word may carry literally anywhere, phrases included. */
static bool q_literal(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '!' || c == '*' || c == '+' || c == '-' || c == '/' || c == ' ';
}

/* A word that must be encoded: non-ASCII, controls, "=?"; in a phrase
 * also anything but an atom (RFC 5322 atext), as encoded words may not
 * be put in a quoted string (RFC 2047 section 5(3)). */
static bool word_needs_encoding(const char *p, size_t n, bool phrase)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c >= 0x7f)
			return true;
		if (c == '=' && i + 1 < n && p[i + 1] == '?')
			return true;
		if (phrase && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') &&
		    !(c >= '0' && c <= '9') && strchr("!#$%&'*+-/=?^_`{|}~", c) == NULL)
			return true;
	}
	return false;
}

/* Length of the UTF-8 character at p (the input is valid UTF-8). */
static size_t utf8_char_len(const unsigned char *p, size_t n)
{
	size_t l = p[0] < 0x80 ? 1 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
	return l > n ? n : l;
}

/* Mostly non-ASCII: base64 is shorter than Q. */
static bool span_base64(const unsigned char *p, size_t n)
{
	size_t escapes = 0;
	for (size_t i = 0; i < n; i++)
		escapes += !q_literal(p[i]);
	return escapes * 2 > n;
}

/* Characters of an encoded word holding just the character at p. */
static size_t first_word_width(const unsigned char *p, size_t n, bool b)
{
	size_t cl = utf8_char_len(p, n), w = 12;   /* "=?UTF-8?X?" "?=" */
	for (size_t k = 0; k < cl; k++)
		w += b ? 0 : q_literal(p[k]) ? 1 : 3;
	return b ? w + (cl + 2) / 3 * 4 : w;
}

/* Writes p as encoded words from column *col: each at most
 * RFC2047_WORD_MAX and ending by RFC2047_LINE_MAX, the next one after a
 * "\r\n " fold (also before the first when not even one character fits:
 * the caller folds before the whitespace in front when it can). */
static void rfc2047_span_encode(struct mbuf *out, const unsigned char *p, size_t n, bool b,
				size_t *col)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0;
	while (i < n) {
		if (i > 0 || (*col > 1 && *col + first_word_width(p, n, b) > RFC2047_LINE_MAX)) {
			mbuf_append(out, "\r\n ", 3);
			*col = 1;
		}
		mbuf_append(out, b ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
		/* payload room inside "=?UTF-8?X?" ... "?=" */
		size_t room = (*col + RFC2047_WORD_MAX > RFC2047_LINE_MAX
			       ? RFC2047_LINE_MAX - *col : RFC2047_WORD_MAX) - 12;
		size_t take = 0, width = 0;
		while (i + take < n) {
			size_t cl = utf8_char_len(p + i + take, n - i - take);
			size_t w = 0;
			if (b) {
				w = ((take + cl + 2) / 3) * 4;
				if (w > room)
					break;
				width = w;
			} else {
				for (size_t k = 0; k < cl; k++)
					w += q_literal(p[i + take + k]) ? 1 : 3;
				if (width + w > room)
					break;
				width += w;
			}
			take += cl;
		}
		if (b) {
			char enc[BASE64_ENCODED_MAX(RFC2047_WORD_MAX)];
			mbuf_append(out, enc, base64_encode(p + i, take, 0, enc));
		} else {
			for (size_t k = 0; k < take; k++) {
				unsigned char c = p[i + k];
				if (c == ' ') {
					mbuf_putc(out, '_');
				} else if (q_literal(c)) {
					mbuf_putc(out, (char)c);
				} else {
					char e[3] = { '=', hex[c >> 4], hex[c & 15] };
					mbuf_append(out, e, 3);
				}
			}
		}
		mbuf_append(out, "?=", 2);
		*col += 12 + width;
		i += take;
	}
}

/* Writes the text with p[first, last_end) as encoded words from column
 * col: words and the whitespace between them, folded before a word that
 * would end past the line (never before the first). first > n: none is
 * encoded, the text is only folded. */
static void rfc2047_fold_encode(struct mbuf *out, const unsigned char *p, size_t n, size_t first,
				size_t last_end, size_t col)
{
	bool b = first < n && span_base64(p + first, last_end - first);
	for (size_t i = 0; i < n;) {
		size_t ws = i, s, width;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		s = i;
		if (s == first) {
			i = last_end;
			width = first_word_width(p + s, i - s, b);
		} else {
			while (i < n && p[i] != ' ' && p[i] != '\t')
				i++;
			width = i - s;
		}
		if (ws > 0 && s < n && col + (s - ws) + width > RFC2047_LINE_MAX) {
			/* the fold goes before the last blank, which stays: the
			 * word then starts at column 1, and unfolding gives back
			 * exactly the blanks there were (a run of them longer
			 * than a line stays on this one) */
			mbuf_append(out, p + ws, s - ws - 1);
			mbuf_append(out, "\r\n", 2);
			mbuf_append(out, p + s - 1, 1);
			col = 1;
		} else {
			mbuf_append(out, p + ws, s - ws);
			col += s - ws;
		}
		if (s == first) {
			rfc2047_span_encode(out, p + s, i - s, b, &col);
		} else {
			mbuf_append(out, p + s, i - s);
			col += i - s;
		}
	}
}

int rfc2047_encode(const char *in, size_t len, size_t col, bool phrase, char **out_r,
		   size_t *out_len_r)
{
	struct mbuf text = { 0 }, out = { 0 };
	charset_utf8_repair(&text, in, len);
	if (text.failed) {
		*out_r = NULL;
		return -1;
	}
	for (size_t i = 0; i < text.len; i++) {
		if (text.data[i] == '\r' || text.data[i] == '\n' || text.data[i] == '\0')
			text.data[i] = ' ';
	}
	/* the first and last word that need encoding; when there is one, a
	 * plain word too long for a line is encoded too (it cannot be folded,
	 * and every line of the field must keep to RFC2047_LINE_MAX) */
	size_t first = text.len, last_end = 0;
	bool needed = false;
	for (size_t i = 0; i < text.len;) {
		size_t ws = i;
		while (i < text.len && (text.data[i] == ' ' || text.data[i] == '\t'))
			i++;
		if (i == text.len)
			break;
		size_t s = i;
		while (i < text.len && text.data[i] != ' ' && text.data[i] != '\t')
			i++;
		/* the first word starts at col, the others may after a fold */
		size_t at = ws == 0 ? col + s : s - ws;
		bool need = word_needs_encoding(text.data + s, i - s, phrase);
		if (need || at + i - s > RFC2047_LINE_MAX) {
			if (first == text.len)
				first = s;
			last_end = i;
		}
		needed |= need;
	}
	if (!needed) {
		/* plain text, folded at blanks to keep lines short (a word
		 * longer than a line stays whole: only encoding could cut it) */
		rfc2047_fold_encode(&out, (const unsigned char *)text.data, text.len, text.len + 1,
				    text.len + 1, col);
	} else {
		/* whitespace at the end goes in the last word: after it, it
		 * could not be folded (no line may be only whitespace) */
		size_t end = last_end;
		while (end < text.len && (text.data[end] == ' ' || text.data[end] == '\t'))
			end++;
		if (end == text.len)
			last_end = end;
		rfc2047_fold_encode(&out, (const unsigned char *)text.data, text.len, first, last_end,
				    col);
	}
	mbuf_free(&text);
	*out_r = mbuf_steal(&out, out_len_r);
	return *out_r == NULL ? -1 : 1;
}
