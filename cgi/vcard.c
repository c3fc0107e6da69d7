/* vCard import and export (vcard.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "codec.h"
#include "vcard.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Bytes of a CHARSET parameter kept (longer labels are unknown anyway). */
#define PARAM_CHARSET_MAX 64

struct params {
	bool qp, base64, pref;
	char charset[PARAM_CHARSET_MAX + 1];
};

struct parser {
	const char *p, *end;
	char *line;               /* the unfolded line, VCARD_LINE_MAX + 1 */
	size_t len;
	bool overflow;
	bool seen_begin;
	int depth;                /* 0 outside a card, 1 in one, more when nested */
	bool nested;              /* the card held another: dropped */
	char fn[VCARD_NAME_MAX + 1], n[VCARD_NAME_MAX + 1], org[VCARD_NAME_MAX + 1];
	char note[VCARD_NOTE_MAX + 1];
	char emails[VCARD_EMAILS_MAX][VCARD_EMAIL_MAX + 1];
	size_t nemails;
	bool have_pref, collected;
	bool fn_cut;              /* FN was longer than VCARD_NAME_MAX */
	struct vcard_stats *st;
	int (*cb)(const struct vcard *card, void *ctx, const char **error_r);
	void *ctx;
};

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/* s[0..n) equals the NUL-terminated word, ASCII case ignored */
static bool word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* A comma-separated list (a quoted parameter value) holds the word. */
static bool list_has(const char *s, size_t n, const char *word)
{
	size_t i = 0;
	while (i <= n) {
		size_t start = i;
		while (i < n && s[i] != ',')
			i++;
		if (word_is(s + start, i - start, word))
			return true;
		i++;
	}
	return false;
}

/* ---------------------------------------------------------------- lines */

/* The next physical line without its line end (CRLF, LF or a lone CR);
 * false at the end. */
static bool physical(struct parser *ps, const char **s_r, size_t *n_r)
{
	if (ps->p >= ps->end)
		return false;
	const char *s = ps->p, *e = s;
	while (e < ps->end && *e != '\n' && *e != '\r')
		e++;
	ps->p = e;
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '\n' && (ps->p == e || ps->p[-1] == '\r'))
		ps->p++;
	*s_r = s;
	*n_r = (size_t)(e - s);
	return true;
}

static void append(struct parser *ps, const char *s, size_t n)
{
	if (ps->overflow || n > VCARD_LINE_MAX - ps->len) {
		ps->overflow = true;
		return;
	}
	memcpy(ps->line + ps->len, s, n);
	ps->len += n;
	ps->line[ps->len] = '\0';
}

/* The line's property part (before the first ':' outside quotes) asks
 * for quoted-printable (2.1): its soft line breaks continue the value. */
static bool line_is_qp(const struct parser *ps)
{
	bool quoted = false;
	size_t i;
	for (i = 0; i < ps->len; i++) {
		if (ps->line[i] == '"')
			quoted = !quoted;
		else if (ps->line[i] == ':' && !quoted)
			break;
	}
	for (size_t k = 0; k + 16 <= i; k++) {
		if (strncasecmp(ps->line + k, "QUOTED-PRINTABLE", 16) == 0)
			return true;
	}
	return false;
}

/* Unfolds the next logical line into ps->line. false at the end. */
static bool logical(struct parser *ps)
{
	const char *s;
	size_t n;
	ps->len = 0;
	ps->overflow = false;
	ps->line[0] = '\0';
	if (!physical(ps, &s, &n))
		return false;
	append(ps, s, n);
	bool qp = !ps->overflow && line_is_qp(ps);
	for (;;) {
		if (ps->p >= ps->end)
			break;
		if (*ps->p == ' ' || *ps->p == '\t') {
			physical(ps, &s, &n);
			append(ps, s + 1, n - 1);
		} else if (qp && !ps->overflow && ps->len > 0 && ps->line[ps->len - 1] == '=') {
			/* kept as "=\n": the decoder removes the soft break */
			physical(ps, &s, &n);
			append(ps, "\n", 1);
			append(ps, s, n);
		} else {
			break;
		}
	}
	return true;
}

/* ---------------------------------------------------------------- values */

/* Appends at most `max` bytes of s to dst (size max + 1) ending on a
 * character boundary; true if something was cut. */
static bool copy_cut(char *dst, size_t max, const char *s, size_t n)
{
	bool cut = n > max;
	if (cut) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return cut;
}

/* Unescapes one text value or one component of a structured value (then
 * stopping at an unescaped ';', *used_r telling how far it read). An
 * unescaped ',' becomes `comma`. Writes at most n bytes plus a NUL. */
static size_t unescape(const char *s, size_t n, bool component, char comma, char *out,
		       size_t *used_r)
{
	size_t o = 0, i;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < n) {
			char e = s[++i];
			if (e == 'n' || e == 'N')
				out[o++] = '\n';
			else if (e == '\\' || e == ',' || e == ';' || e == ':')
				out[o++] = e;
			else {
				out[o++] = '\\';     /* not an escape: kept as written */
				out[o++] = e;
			}
		} else if (c == ';' && component) {
			break;
		} else if (c == ',') {
			out[o++] = comma;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	if (used_r != NULL)
		*used_r = i < n ? i + 1 : n;
	return o;
}

/* Control characters out: newlines kept when `multiline` (CR dropped),
 * everything else of C0 and DEL becomes a space. Spaces at the ends go. */
static void clean(char *s, bool multiline)
{
	char *d = s;
	for (char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r')
			continue;
		if (c == '\n' && multiline)
			*d++ = '\n';
		else
			*d++ = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	*d = '\0';
	size_t start = 0, len = strlen(s);
	while (start < len && (s[start] == ' ' || s[start] == '\n'))
		start++;
	while (len > start && (s[len - 1] == ' ' || s[len - 1] == '\n'))
		len--;
	memmove(s, s + start, len - start);
	s[len - start] = '\0';
}

/* The raw value as UTF-8 (quoted-printable decoded, charset converted), in
 * a new buffer; NULL for base64 values (never a name or an address) or out
 * of memory (*oom_r). */
static char *value_utf8(const char *v, size_t n, const struct params *pr, size_t *len_r,
			bool *oom_r)
{
	char *tmp = NULL, *out = NULL;
	if (pr->base64)
		return NULL;
	if (pr->qp) {
		tmp = malloc(QP_DECODED_MAX(n) + 1);
		if (tmp == NULL) {
			*oom_r = true;
			return NULL;
		}
		n = qp_decode(v, n, tmp, NULL);
		v = tmp;
	}
	if (charset_to_utf8(pr->charset, v, n, &out, len_r) < 0) {
		*oom_r = true;
		out = NULL;
	}
	free(tmp);
	return out;
}

/* ---------------------------------------------------------------- properties */

static void add_email(struct parser *ps, const char *v, size_t n, bool pref)
{
	char *buf = malloc(n + 2);
	if (buf == NULL)
		return;
	unescape(v, n, false, ',', buf, NULL);
	clean(buf, false);
	char *a = buf;
	for (;;) {
		while (*a == ' ')
			a++;
		if (strncasecmp(a, "mailto:", 7) != 0)
			break;
		a += 7;
	}
	size_t len = strlen(a);
	if (len == 0) {
		free(buf);
		return;
	}
	if (len > VCARD_EMAIL_MAX || ps->nemails == VCARD_EMAILS_MAX) {
		ps->st->cut++;
		free(buf);
		return;
	}
	size_t at = ps->nemails;
	if (pref && !ps->have_pref) {
		/* the preferred address first */
		memmove(ps->emails[1], ps->emails[0], ps->nemails * sizeof(ps->emails[0]));
		at = 0;
		ps->have_pref = true;
	}
	memcpy(ps->emails[at], a, len + 1);
	ps->nemails++;
	free(buf);
}

/* N: family;given;additional;prefix;suffix, shown as
 * "prefix given additional family suffix". */
static void set_n(struct parser *ps, const char *v, size_t n)
{
	static const int order[] = { 3, 1, 2, 0, 4 };
	char *comp[5] = { 0 };
	char *buf = malloc(5 * (n + 1));
	if (buf == NULL)
		return;
	size_t pos = 0;
	for (int i = 0; i < 5; i++) {
		size_t used = 0;
		comp[i] = buf + (size_t)i * (n + 1);
		unescape(v + pos, n - pos, true, ' ', comp[i], &used);
		clean(comp[i], false);
		pos += used;
	}
	char joined[5 * (VCARD_NAME_MAX + 1) + 8];
	size_t j = 0;
	for (int i = 0; i < 5; i++) {
		const char *c = comp[order[i]];
		size_t len = strlen(c);
		if (len == 0)
			continue;
		if (len > VCARD_NAME_MAX) {
			len = VCARD_NAME_MAX;
			while (len > 0 && ((unsigned char)c[len] & 0xc0) == 0x80)
				len--;
		}
		if (j > 0)
			joined[j++] = ' ';
		memcpy(joined + j, c, len);
		j += len;
	}
	joined[j] = '\0';
	if (copy_cut(ps->n, VCARD_NAME_MAX, joined, j))
		ps->st->cut++;
	clean(ps->n, false);
	free(buf);
}

static void set_text(struct parser *ps, char *dst, size_t max, const char *v, size_t n,
		     bool component, bool multiline)
{
	char *buf = malloc(n + 2);
	if (buf == NULL)
		return;
	unescape(v, n, component, ',', buf, NULL);
	clean(buf, multiline);
	if (copy_cut(dst, max, buf, strlen(buf)))
		ps->st->cut++;
	clean(dst, multiline);       /* a cut may end on a space */
	free(buf);
}

static void card_reset(struct parser *ps)
{
	ps->fn[0] = ps->n[0] = ps->org[0] = ps->note[0] = '\0';
	ps->nemails = 0;
	ps->have_pref = ps->collected = ps->nested = ps->fn_cut = false;
}

static int card_end(struct parser *ps, const char **error_r)
{
	if (ps->nested) {
		ps->st->dropped++;
		return 0;
	}
	if (ps->st->cards >= VCARD_CARDS_MAX) {
		*error_r = "The file holds more than " STR(VCARD_CARDS_MAX)
			" contacts, the most an address book keeps.";
		return -1;
	}
	struct vcard card = {
		.name = ps->fn[0] != '\0' ? ps->fn : ps->n[0] != '\0' ? ps->n : ps->org,
		.note = ps->note, .nemails = ps->nemails, .collected = ps->collected,
	};
	for (size_t i = 0; i < ps->nemails; i++) {
		card.emails[i] = ps->emails[i];
		/* FN is required: writers put the address there when there is
		 * no name (as we do) */
		size_t n = strlen(card.name);
		if (n > 0 && strncasecmp(card.name, ps->emails[i], n) == 0 &&
		    (ps->emails[i][n] == '\0' || (card.name == ps->fn && ps->fn_cut)))
			card.name = "";
	}
	ps->st->cards++;
	if (ps->cb != NULL && ps->cb(&card, ps->ctx, error_r) < 0)
		return -1;
	return 0;
}

/* Reads ";name=value,value" parameters from line[*i]; false if the line
 * is malformed. */
static bool read_params(const char *line, size_t len, size_t *ip, struct params *pr)
{
	size_t i = *ip;
	while (i < len && line[i] == ';') {
		size_t ns = ++i;
		while (i < len && name_char(line[i]))
			i++;
		const char *pname = line + ns;
		size_t pn = i - ns;
		if (pn == 0)
			return false;
		if (i >= len || line[i] != '=') {
			/* 2.1: a bare value (";QUOTED-PRINTABLE", ";PREF", ";HOME") */
			if (word_is(pname, pn, "quoted-printable"))
				pr->qp = true;
			else if (word_is(pname, pn, "base64"))
				pr->base64 = true;
			else if (word_is(pname, pn, "pref"))
				pr->pref = true;
			continue;
		}
		i++;
		for (;;) {
			const char *val;
			size_t vn;
			if (i < len && line[i] == '"') {
				const char *q = memchr(line + i + 1, '"', len - i - 1);
				if (q == NULL)
					return false;
				val = line + i + 1;
				vn = (size_t)(q - val);
				i = (size_t)(q - line) + 1;
			} else {
				size_t vs = i;
				while (i < len && line[i] != ';' && line[i] != ':' && line[i] != ',')
					i++;
				val = line + vs;
				vn = i - vs;
			}
			if (word_is(pname, pn, "encoding")) {
				if (word_is(val, vn, "quoted-printable"))
					pr->qp = true;
				else if (word_is(val, vn, "b") || word_is(val, vn, "base64"))
					pr->base64 = true;
			} else if (word_is(pname, pn, "charset")) {
				if (vn <= PARAM_CHARSET_MAX) {
					memcpy(pr->charset, val, vn);
					pr->charset[vn] = '\0';
				}
			} else if (word_is(pname, pn, "type")) {
				if (list_has(val, vn, "pref"))
					pr->pref = true;
			} else if (word_is(pname, pn, "pref")) {
				if (word_is(val, vn, "1"))
					pr->pref = true;
			}
			if (i < len && line[i] == ',') {
				i++;
				continue;
			}
			break;
		}
	}
	*ip = i;
	return true;
}

static int handle_line(struct parser *ps, const char **error_r)
{
	const char *line = ps->line;
	size_t len = ps->len, i = 0, ns;
	struct params pr = { 0 };
	if (ps->overflow || memchr(line, '\0', len) != NULL) {
		if (ps->depth > 0)
			ps->st->skipped_lines++;
		return 0;
	}
	if (len == 0)
		return 0;
	/* [group "."] name */
	ns = 0;
	while (i < len && name_char(line[i]))
		i++;
	if (i < len && line[i] == '.' && i > 0) {
		ns = ++i;
		while (i < len && name_char(line[i]))
			i++;
	}
	const char *name = line + ns;
	size_t nn = i - ns;
	if (nn == 0 || !read_params(line, len, &i, &pr) || i >= len || line[i] != ':') {
		if (ps->depth > 0)
			ps->st->skipped_lines++;
		return 0;
	}
	const char *v = line + i + 1;
	size_t vn = len - i - 1;
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;

	if (word_is(name, nn, "begin")) {
		if (!word_is(v, vn, "vcard"))
			return 0;
		ps->seen_begin = true;
		if (ps->depth == 0) {
			card_reset(ps);
			ps->depth = 1;
		} else {
			ps->nested = true;
			if (ps->depth < VCARD_DEPTH_MAX)
				ps->depth++;
		}
		return 0;
	}
	if (word_is(name, nn, "end")) {
		if (!word_is(v, vn, "vcard") || ps->depth == 0)
			return 0;
		if (--ps->depth == 0)
			return card_end(ps, error_r);
		return 0;
	}
	if (ps->depth != 1)
		return 0;
	bool fn = word_is(name, nn, "fn"), n = word_is(name, nn, "n"),
	     org = word_is(name, nn, "org"), note = word_is(name, nn, "note"),
	     email = word_is(name, nn, "email"),
	     collected = word_is(name, nn, "x-pillarbox-collected");
	if (!(fn || n || org || note || email || collected))
		return 0;
	bool oom = false;
	size_t ulen;
	char *u = value_utf8(v, vn, &pr, &ulen, &oom);
	if (u == NULL) {
		if (oom) {
			*error_r = "Out of memory.";
			return -1;
		}
		ps->st->skipped_lines++;
		return 0;
	}
	if (fn) {
		size_t cut = ps->st->cut;
		set_text(ps, ps->fn, VCARD_NAME_MAX, u, ulen, false, false);
		ps->fn_cut = ps->st->cut != cut;
	}
	else if (n)
		set_n(ps, u, ulen);
	else if (org)
		set_text(ps, ps->org, VCARD_NAME_MAX, u, ulen, true, false);
	else if (note)
		set_text(ps, ps->note, VCARD_NOTE_MAX, u, ulen, false, true);
	else if (email)
		add_email(ps, u, ulen, pr.pref);
	else
		ps->collected = word_is(u, ulen, "true");
	free(u);
	return 0;
}

int vcard_parse(const char *data, size_t len,
		int (*cb)(const struct vcard *card, void *ctx, const char **error_r), void *ctx,
		struct vcard_stats *stats, const char **error_r)
{
	char *converted = NULL;
	*stats = (struct vcard_stats){ 0 };
	if (len > VCARD_INPUT_MAX) {
		*error_r = "The file is too large (at most " STR(VCARD_INPUT_MB) " MB).";
		return -1;
	}
	/* a byte order mark: UTF-8 is skipped, UTF-16 (Outlook) converted */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	} else if (len >= 2 && (memcmp(data, "\xff\xfe", 2) == 0 || memcmp(data, "\xfe\xff", 2) == 0)) {
		size_t clen;
		if (charset_to_utf8(data[0] == '\xff' ? "utf-16le" : "utf-16be", data + 2, len - 2,
				    &converted, &clen) < 0) {
			*error_r = "Out of memory.";
			return -1;
		}
		data = converted;
		len = clen;
	}
	struct parser *ps = calloc(1, sizeof(*ps));
	char *line = malloc(VCARD_LINE_MAX + 1);
	if (ps == NULL || line == NULL) {
		free(ps);
		free(line);
		free(converted);
		*error_r = "Out of memory.";
		return -1;
	}
	ps->p = data;
	ps->end = data + len;
	ps->line = line;
	ps->st = stats;
	ps->cb = cb;
	ps->ctx = ctx;
	int r = 0;
	while (r == 0 && logical(ps))
		r = handle_line(ps, error_r);
	if (r == 0 && ps->depth > 0)
		stats->dropped++;       /* a card that never ended */
	if (r == 0 && !ps->seen_begin) {
		*error_r = "This is not a vCard file (no BEGIN:VCARD line was found).";
		r = -1;
	}
	free(line);
	free(ps);
	free(converted);
	return r;
}

/* ---------------------------------------------------------------- writing */

/* Escapes a text value (RFC 6350 3.4). */
static void escape_text(struct buf *b, const char *s, bool multiline)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\' || c == ',' || c == ';') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c == '\n') {
			buf_puts(b, multiline ? "\\n" : " ");
		} else if (c >= 0x20 && c != 0x7f) {
			buf_putc(b, (char)c);
		}
	}
}

/* Writes one content line, folded at VCARD_FOLD octets on character
 * boundaries, with CRLF. */
static void put_line(struct buf *out, const struct buf *line)
{
	const char *s = line->data != NULL ? line->data : "";
	size_t len = line->len, pos = 0;
	bool first = true;
	while (pos < len || first) {
		size_t room = first ? VCARD_FOLD : VCARD_FOLD - 1;
		size_t n = len - pos < room ? len - pos : room;
		if (pos + n < len) {
			while (n > 1 && ((unsigned char)s[pos + n] & 0xc0) == 0x80)
				n--;
		}
		if (!first)
			buf_putc(out, ' ');
		buf_append(out, s + pos, n);
		buf_puts(out, "\r\n");
		pos += n;
		first = false;
	}
}

static void prop(struct buf *out, const char *name, const char *value, bool multiline)
{
	struct buf line;
	buf_init(&line, 0);
	buf_puts(&line, name);
	buf_putc(&line, ':');
	escape_text(&line, value, multiline);
	if (line.failed)
		out->failed = true;
	else
		put_line(out, &line);
	buf_free(&line);
}

void vcard_write(struct buf *out, const struct vcard *card)
{
	buf_puts(out, "BEGIN:VCARD\r\nVERSION:4.0\r\n");
	const char *name = card->name != NULL && card->name[0] != '\0' ? card->name
			   : card->nemails > 0 ? card->emails[0] : "";
	prop(out, "FN", name, false);
	for (size_t i = 0; i < card->nemails && i < VCARD_EMAILS_MAX; i++)
		prop(out, i == 0 && card->nemails > 1 ? "EMAIL;PREF=1" : "EMAIL", card->emails[i],
		     false);
	if (card->note != NULL && card->note[0] != '\0')
		prop(out, "NOTE", card->note, true);
	if (card->collected)
		buf_puts(out, "X-PILLARBOX-COLLECTED:TRUE\r\n");
	buf_puts(out, "END:VCARD\r\n");
}
