/* Writing the webmail's messages (msgbuild.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* memmem */
#endif
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"
#include "codec.h"
#include "datetime.h"
#include "flowed.h"
#include "msgbuild.h"
#include "rfc2047.h"
#include "session.h"

/* The header block we write: 100 recipients with long names fit in a
 * fraction of this. */
#define MSGBUILD_HEADER_MAX ((size_t)1024 * 1024)
/* Bytes of input encoded per step (a multiple of 57: whole base64 lines). */
#define MSGBUILD_CHUNK (57 * 1024)
/* RFC 2231 sections: encoded characters per parameter line. */
#define MSGBUILD_PARAM_SECTION 60
/* Bytes of the draft origin value. */
#define MSGBUILD_ORIGIN_MAX 200
/* Random bytes in a boundary and a message id. */
#define MSGBUILD_RANDOM 12

struct writer {
	msgbuild_write_fn *fn;
	void *ctx;
	bool failed;
};

static void put(struct writer *w, const void *data, size_t len)
{
	if (!w->failed && len > 0 && w->fn(w->ctx, data, len) < 0)
		w->failed = true;
}

static void puts_w(struct writer *w, const char *s)
{
	put(w, s, strlen(s));
}

/* ---------------------------------------------------------------- UTF-8 */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t l;
	unsigned min;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		l = 2;
		min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		l = 3;
		min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		l = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < l)
		return 0;
	unsigned cp = s[0] & (0x7F >> l);
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return l;
}

static unsigned utf8_cp(const unsigned char *s, size_t l)
{
	unsigned cp = l == 1 ? s[0] : s[0] & (0x7F >> l);
	for (size_t i = 1; i < l; i++)
		cp = cp << 6 | (s[i] & 0x3F);
	return cp;
}

/* Characters that reorder text (a name ending "gpj.exe" shown as
 * "exe.jpg"), invisible in a file name. */
static bool bidi_control(unsigned cp)
{
	return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static bool all_alnum(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

void msgbuild_filename_clean(const char *name, char buf[MSGBUILD_FILENAME_MAX + 1])
{
	size_t o = 0;
	if (name == NULL)
		name = "";
	/* the last component of a path typed on any system */
	for (const char *p = name; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			name = p + 1;
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strlen(name);
	/* a short extension survives a cut: without it the recipient's
	 * system does not know how to open the file */
	const char *ext = strrchr(name, '.');
	size_t ext_len = ext != NULL ? strlen(ext) : 0;
	if (ext_len < 2 || ext_len > MSGBUILD_EXTENSION_MAX + 1 || !all_alnum(ext + 1))
		ext_len = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq(s + i, n - i);
		if (l == 0) {
			i++;
			continue;
		}
		unsigned cp = utf8_cp(s + i, l);
		if (cp == '\t')
			cp = ' ';
		bool drop = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || bidi_control(cp);
		if (!drop) {
			if (o + l > MSGBUILD_FILENAME_MAX) {
				if (ext_len == 0)
					break;
				if (o > MSGBUILD_FILENAME_MAX - ext_len) {
					o = MSGBUILD_FILENAME_MAX - ext_len;
					while (o > 0 && ((unsigned char)buf[o] & 0xC0) == 0x80)
						o--;
				}
				memcpy(buf + o, ext, ext_len);
				o += ext_len;
				break;
			}
			if (cp == ' ') {
				buf[o++] = ' ';
			} else {
				memcpy(buf + o, s + i, l);
				o += l;
			}
		}
		i += l;
	}
	buf[o] = '\0';
	size_t start = 0;
	while (buf[start] == '.' || buf[start] == ' ')
		start++;
	while (o > start && (buf[o - 1] == '.' || buf[o - 1] == ' '))
		o--;
	memmove(buf, buf + start, o - start);
	buf[o - start] = '\0';
	if (buf[0] == '\0')
		strcpy(buf, "attachment");
}

/* ---------------------------------------------------------------- checks */

/* Control characters other than tab: never in a header value. */
static bool has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return true;
	}
	return false;
}

bool msgbuild_msgid_valid(const char *s, size_t len)
{
	if (len < 3 || len > MSGBUILD_MSGID_MAX || s[0] != '<' || s[len - 1] != '>')
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>')
			return false;
	}
	return true;
}

static bool references_valid(const char *s)
{
	size_t n = 0;
	while (*s != '\0') {
		size_t l = strcspn(s, " ");
		if (!msgbuild_msgid_valid(s, l) || ++n > MSGBUILD_REFERENCES_MAX)
			return false;
		s += l;
		if (*s == ' ') {
			s++;
			if (*s == '\0')
				return false;
		}
	}
	return n > 0;
}

static bool printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
			return false;
	return true;
}

static int check_addrs(const struct msgbuild_addr *a, size_t n, const char **error_r)
{
	for (size_t i = 0; i < n; i++) {
		if (!addrlist_addr_valid(a[i].addr)) {
			*error_r = "An address is not valid.";
			return 0;
		}
		if (a[i].name != NULL && (has_control(a[i].name) ||
					  strlen(a[i].name) > ADDRLIST_NAME_MAX)) {
			*error_r = "A name contains a line break or is too long.";
			return 0;
		}
	}
	return 1;
}

static int check(const struct msgbuild *m, const char **error_r)
{
	if (check_addrs(&m->from, 1, error_r) == 0 || check_addrs(m->to, m->nto, error_r) == 0 ||
	    check_addrs(m->cc, m->ncc, error_r) == 0 || check_addrs(m->bcc, m->nbcc, error_r) == 0 ||
	    (m->notify_to != NULL && check_addrs(m->notify_to, 1, error_r) == 0))
		return 0;
	if (m->subject != NULL && has_control(m->subject)) {
		*error_r = "The subject contains a line break or a control character.";
		return 0;
	}
	if (m->subject != NULL && strlen(m->subject) > MSGBUILD_SUBJECT_MAX) {
		*error_r = "The subject is too long.";
		return 0;
	}
	if (m->message_id == NULL || !msgbuild_msgid_valid(m->message_id, strlen(m->message_id)) ||
	    (m->in_reply_to != NULL &&
	     !msgbuild_msgid_valid(m->in_reply_to, strlen(m->in_reply_to))) ||
	    (m->references != NULL && !references_valid(m->references))) {
		*error_r = "A message id is not valid.";
		return 0;
	}
	if (m->origin != NULL &&
	    (!printable_ascii(m->origin) || strlen(m->origin) > MSGBUILD_ORIGIN_MAX)) {
		*error_r = "The draft's origin is not valid.";
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- header */

static bool all_atext(const char *s, bool spaces)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL || (spaces && c == ' ');
		if (!ok)
			return false;
	}
	return true;
}

static void quoted_append(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, s[i]);
	}
	buf_putc(b, '"');
}

/* A display name as a phrase, from column `col`: atoms as they are,
 * other ASCII as a quoted string; with non-ASCII, every word that is not
 * an atom as encoded words (rfc2047_encode: a quoted string may not hold
 * them, and "Lee, Ann" stays one name, not two addresses). */
static bool phrase_append(struct buf *b, const char *name, size_t col)
{
	char *tmp = strdup(name), *enc;
	size_t len;
	if (tmp == NULL)
		return false;
	for (char *p = tmp; *p != '\0'; p++)
		if (*p == '\t')
			*p = ' ';
	if (printable_ascii(tmp) && strstr(tmp, "=?") == NULL) {
		if (all_atext(tmp, true) && tmp[0] != ' ')
			buf_puts(b, tmp);
		else
			quoted_append(b, tmp, strlen(tmp));
		free(tmp);
		return true;
	}
	int r = rfc2047_encode(tmp, strlen(tmp), col, true, &enc, &len);
	free(tmp);
	if (r < 0)
		return false;
	buf_append(b, enc, len);
	free(enc);
	return true;
}

/* Column after appending `s` starting at `col`. */
static size_t column_after(size_t col, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		col = s[i] == '\n' ? 0 : col + 1;
	return col;
}

static bool addr_header(struct buf *h, const char *field, const struct msgbuild_addr *a, size_t n)
{
	struct buf tok;
	if (n == 0)
		return true;
	buf_printf(h, "%s: ", field);
	size_t col = strlen(field) + 2;
	buf_init(&tok, 4096);
	for (size_t i = 0; i < n; i++) {
		/* the first starts after "Field: ", the others may after a fold */
		size_t start = i == 0 ? col : 1;
		buf_reset(&tok);
		if (a[i].name != NULL && a[i].name[0] != '\0') {
			if (!phrase_append(&tok, a[i].name, start)) {
				buf_free(&tok);
				return false;
			}
			/* " <addr>," past the line: the address on the next */
			if (column_after(start, tok.data, tok.len) + strlen(a[i].addr) + 4 >
			    RFC2047_LINE_MAX)
				buf_puts(&tok, "\r\n");
			buf_printf(&tok, " <%s>", a[i].addr);
		} else {
			buf_puts(&tok, a[i].addr);
		}
		if (tok.failed)
			break;
		size_t first = strcspn(tok.data, "\r");
		if (i > 0) {
			/* names may be encoded words: lines to RFC 2047's limit */
			if (col + 2 + first + 1 > RFC2047_LINE_MAX) {
				buf_puts(h, ",\r\n ");
				col = 1;
			} else {
				buf_puts(h, ", ");
				col += 2;
			}
		}
		buf_append(h, tok.data, tok.len);
		col = column_after(col, tok.data, tok.len);
	}
	bool ok = !tok.failed;
	buf_free(&tok);
	buf_puts(h, "\r\n");
	return ok;
}

/* An unstructured value (the subject): encoded words when needed (they
 * come folded); plain text folded before a word that would pass the line
 * width. */
static bool text_header(struct buf *h, const char *field, const char *value)
{
	char *enc;
	size_t len;
	if (rfc2047_encode(value, strlen(value), strlen(field) + 2, false, &enc, &len) < 0)
		return false;
	buf_printf(h, "%s: ", field);
	if (strstr(enc, "=?") != NULL) {
		buf_append(h, enc, len);
	} else {
		size_t col = strlen(field) + 2;
		for (size_t i = 0; i < len; i++) {
			if (enc[i] == ' ' && i > 0 && enc[i - 1] != ' ') {
				size_t word = strcspn(enc + i + 1, " ");
				if (word > 0 && col + 1 + word > MSGBUILD_LINE_WIDTH) {
					buf_puts(h, "\r\n");
					col = 0;
				}
			}
			buf_putc(h, enc[i]);
			col++;
		}
	}
	free(enc);
	buf_puts(h, "\r\n");
	return true;
}

static bool attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* ;name="value", or RFC 2231 UTF-8 sections when it is not short ASCII. */
static void param_append(struct buf *h, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(value);
	bool plain = n <= MSGBUILD_PARAM_SECTION && printable_ascii(value) &&
		     strpbrk(value, "\"\\") == NULL;
	if (plain) {
		buf_printf(h, ";\r\n\t%s=\"%s\"", name, value);
		return;
	}
	size_t enc_len = 0;
	for (size_t i = 0; i < n; i++)
		enc_len += attr_char((unsigned char)value[i]) ? 1 : 3;
	bool one = enc_len <= MSGBUILD_PARAM_SECTION;
	unsigned section = 0;
	size_t i = 0;
	do {
		if (one)
			buf_printf(h, ";\r\n\t%s*=", name);
		else
			buf_printf(h, ";\r\n\t%s*%u*=", name, section);
		if (section == 0)
			buf_puts(h, "UTF-8''");
		for (size_t w = 0; i < n;) {
			unsigned char c = (unsigned char)value[i];
			size_t cw = attr_char(c) ? 1 : 3;
			if (w + cw > MSGBUILD_PARAM_SECTION && w > 0)
				break;
			if (cw == 1) {
				buf_putc(h, (char)c);
			} else {
				char e[3] = { '%', hex[c >> 4], hex[c & 15] };
				buf_append(h, e, 3);
			}
			w += cw;
			i++;
		}
		section++;
	} while (i < n);
}

/* "type/subtype", lowercased, if it is two RFC 2045 tokens. */
static bool type_clean(const char *in, char *out, size_t size)
{
	size_t n = in != NULL ? strlen(in) : 0, slash = 0;
	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '/') {
			if (slash != 0 || i == 0 || i + 1 == n)
				return false;
			slash = i;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || strchr("!#$&^_.+-", c) != NULL)) {
			return false;
		}
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n] = '\0';
	return slash != 0;
}

/* ---------------------------------------------------------------- bodies */

enum text_cte { CTE_7BIT, CTE_QP, CTE_BASE64 };

static enum text_cte text_cte(const struct buf *t)
{
	size_t high = 0, line = 0, longest = 0;
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->data[i];
		if (c == '\n') {
			line = 0;
			continue;
		}
		if (++line > longest)
			longest = line;
		if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\r') || c == 0x7F)
			high++;
	}
	if (high == 0 && longest <= 998)
		return CTE_7BIT;
	/* QP triples each such byte; base64 grows everything by 37% */
	return high * 100 < t->len * 18 ? CTE_QP : CTE_BASE64;
}

static void write_base64(struct writer *w, const void *data, size_t len)
{
	struct base64_encoder enc;
	char *out = malloc(BASE64_ENCODED_MAX(MSGBUILD_CHUNK));
	if (out == NULL) {
		w->failed = true;
		return;
	}
	base64_encoder_init(&enc, BASE64_MIME_LINE);
	for (size_t i = 0; i < len && !w->failed; i += MSGBUILD_CHUNK) {
		size_t n = len - i < MSGBUILD_CHUNK ? len - i : MSGBUILD_CHUNK;
		put(w, out, base64_encode_update(&enc, (const char *)data + i, n, out));
	}
	put(w, out, base64_encode_finish(&enc, out));
	free(out);
}

static void write_qp(struct writer *w, const void *data, size_t len)
{
	struct qp_encoder enc;
	char *out = malloc(QP_ENCODED_MAX(MSGBUILD_CHUNK));
	if (out == NULL) {
		w->failed = true;
		return;
	}
	qp_encoder_init(&enc, false);
	for (size_t i = 0; i < len && !w->failed; i += MSGBUILD_CHUNK) {
		size_t n = len - i < MSGBUILD_CHUNK ? len - i : MSGBUILD_CHUNK;
		put(w, out, qp_encode_update(&enc, (const char *)data + i, n, out));
	}
	put(w, out, qp_encode_finish(&enc, out));
	free(out);
	puts_w(w, "\r\n");   /* the text ended with a hard break: keep it */
}

/* An encapsulated message with every line end made CRLF. */
static void write_crlf(struct writer *w, const char *data, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len && !w->failed; i++) {
		if (data[i] == '\n' || data[i] == '\r') {
			put(w, data + start, i - start);
			put(w, "\r\n", 2);
			if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
				i++;
			start = i + 1;
		}
	}
	if (start < len) {
		put(w, data + start, len - start);
		put(w, "\r\n", 2);
	}
	if (len == 0)
		put(w, "\r\n", 2);
}

static bool has_8bit_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 0x80 || p[i] == 0)
			return true;
	return false;
}

static bool new_boundary(char *b, size_t size)
{
	unsigned char rnd[MSGBUILD_RANDOM];
	const char *error;
	static const char hex[] = "0123456789abcdef";
	if (store_random(rnd, sizeof(rnd), &error) < 0 || size < 8 + 2 * sizeof(rnd))
		return false;
	memcpy(b, "=_pbx_", 6);
	for (size_t i = 0; i < sizeof(rnd); i++) {
		b[6 + 2 * i] = hex[rnd[i] >> 4];
		b[7 + 2 * i] = hex[rnd[i] & 15];
	}
	b[6 + 2 * sizeof(rnd)] = '\0';
	return true;
}

static bool occurs(const void *data, size_t len, const char *boundary)
{
	char delim[64];
	int n = snprintf(delim, sizeof(delim), "--%s", boundary);
	return n > 0 && memmem(data, len, delim, (size_t)n) != NULL;
}

static void part_header(struct buf *h, const struct msgbuild_part *p)
{
	char type[256], name[MSGBUILD_FILENAME_MAX + 1];
	msgbuild_filename_clean(p->filename, name);
	if (p->message) {
		buf_puts(h, "Content-Type: message/rfc822");
		buf_puts(h, "\r\nContent-Disposition: attachment");
		param_append(h, "filename", name);
		buf_printf(h, "\r\nContent-Transfer-Encoding: %s\r\n",
			   has_8bit_bytes(p->data, p->len) ? "8bit" : "7bit");
		return;
	}
	if (!type_clean(p->type, type, sizeof(type)) || strncmp(type, "multipart/", 10) == 0 ||
	    strncmp(type, "message/", 8) == 0)
		strcpy(type, "application/octet-stream");
	buf_printf(h, "Content-Type: %s", type);
	char cs[65];
	if (strncmp(type, "text/", 5) == 0 && p->charset != NULL &&
	    strlen(p->charset) < sizeof(cs) && all_atext(p->charset, false))
		buf_printf(h, "; charset=%s", p->charset);
	param_append(h, "name", name);
	buf_puts(h, "\r\nContent-Disposition: attachment");
	param_append(h, "filename", name);
	buf_puts(h, "\r\nContent-Transfer-Encoding: base64\r\n");
}

static bool main_header(struct buf *h, const struct msgbuild *m)
{
	char date[DATETIME_RFC5322_SIZE];
	buf_printf(h, "Date: %s\r\n", datetime_format_rfc5322(m->date, m->tz, date));
	if (!addr_header(h, "From", &m->from, 1) || !addr_header(h, "To", m->to, m->nto) ||
	    !addr_header(h, "Cc", m->cc, m->ncc) ||
	    (m->write_bcc && !addr_header(h, "Bcc", m->bcc, m->nbcc)))
		return false;
	if (m->subject != NULL && m->subject[0] != '\0' && !text_header(h, "Subject", m->subject))
		return false;
	buf_printf(h, "Message-ID: %s\r\n", m->message_id);
	if (m->in_reply_to != NULL)
		buf_printf(h, "In-Reply-To: %s\r\n", m->in_reply_to);
	if (m->references != NULL) {
		/* one id a line: a long thread stays within the line limits */
		buf_puts(h, "References:");
		for (const char *s = m->references; *s != '\0';) {
			size_t l = strcspn(s, " ");
			buf_puts(h, s == m->references ? " " : "\r\n ");
			buf_append(h, s, l);
			s += l;
			s += *s == ' ';
		}
		buf_puts(h, "\r\n");
	}
	if (m->notify_to != NULL && !addr_header(h, "Disposition-Notification-To", m->notify_to, 1))
		return false;
	if (m->priority == MSGBUILD_PRIORITY_HIGH)
		buf_puts(h, "X-Priority: 1 (Highest)\r\nImportance: high\r\n");
	else if (m->priority == MSGBUILD_PRIORITY_LOW)
		buf_puts(h, "X-Priority: 5 (Lowest)\r\nImportance: low\r\n");
	if (m->origin != NULL)
		buf_printf(h, "X-Pillarbox-Origin: %s\r\n", m->origin);
	if (m->draft_dsn)
		buf_puts(h, "X-Pillarbox-DSN: yes\r\n");
	buf_puts(h, "MIME-Version: 1.0\r\n");
	return true;
}

uint64_t msgbuild_size_bound(const struct msgbuild *m)
{
	/* names and addresses encoded grow at most 4x, plus separators */
	uint64_t n = 4096 + (uint64_t)m->text_len * 4 + 1024;
	const struct msgbuild_addr *lists[5] = { &m->from, m->to, m->cc, m->bcc, m->notify_to };
	size_t counts[5] = { 1, m->nto, m->ncc, m->bcc != NULL ? m->nbcc : 0,
			     m->notify_to != NULL };
	for (size_t l = 0; l < 5; l++)
		for (size_t i = 0; i < counts[l]; i++)
			n += 16 + strlen(lists[l][i].addr) +
			     (lists[l][i].name != NULL ? 4 * strlen(lists[l][i].name) : 0);
	if (m->subject != NULL)
		n += 4 * strlen(m->subject);
	if (m->references != NULL)
		n += 2 * strlen(m->references);
	for (size_t i = 0; i < m->nparts; i++) {
		const struct msgbuild_part *p = &m->parts[i];
		n += 2048 + 4 * MSGBUILD_FILENAME_MAX;
		n += p->message ? 2 * (uint64_t)p->len : ((uint64_t)p->len / 57 + 1) * 78;
	}
	return n;
}

int msgbuild_write(const struct msgbuild *m, msgbuild_write_fn *write, void *ctx,
		   const char **error_r)
{
	struct writer w = { .fn = write, .ctx = ctx };
	struct buf h, text;
	char boundary[48];
	int ret = -1;

	if (check(m, error_r) == 0)
		return 0;
	buf_init(&h, MSGBUILD_HEADER_MAX);
	buf_init(&text, 0);
	*error_r = "out of memory";
	if (!flowed_encode(m->text != NULL ? m->text : "", m->text != NULL ? m->text_len : 0, &text))
		goto out;
	if (text.len == 0)
		buf_puts(&text, "\r\n");
	enum text_cte cte = text_cte(&text);
	if (m->nparts > 0) {
		/* a boundary that occurs in no part we write as it is */
		for (int tries = 0;; tries++) {
			if (tries == 8 || !new_boundary(boundary, sizeof(boundary)))
				goto out;
			bool clash = cte == CTE_7BIT && occurs(text.data, text.len, boundary);
			for (size_t i = 0; i < m->nparts && !clash; i++)
				clash = m->parts[i].message &&
					occurs(m->parts[i].data, m->parts[i].len, boundary);
			if (!clash)
				break;
		}
	}
	if (!main_header(&h, m))
		goto out;
	if (m->nparts > 0)
		buf_printf(&h, "Content-Type: multipart/mixed;\r\n\tboundary=\"%s\"\r\n\r\n"
			       "This is a multi-part message in MIME format.\r\n--%s\r\n",
			   boundary, boundary);
	buf_printf(&h, "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
		       "Content-Transfer-Encoding: %s\r\n\r\n",
		   cte == CTE_7BIT ? "7bit" : cte == CTE_QP ? "quoted-printable" : "base64");
	if (h.failed) {
		*error_r = "the header is too large";
		goto out;
	}
	put(&w, h.data, h.len);
	if (cte == CTE_7BIT)
		put(&w, text.data, text.len);
	else if (cte == CTE_QP)
		write_qp(&w, text.data, text.len - 2);   /* its final CRLF comes back */
	else
		write_base64(&w, text.data, text.len);
	/* Every part written ends with its own CRLF, and the delimiter after it
	 * brings another: the CRLF before "--" belongs to the delimiter (RFC
	 * 2046 5.1.1), so the part keeps its last line end (an encapsulated
	 * message its bytes). */
	for (size_t i = 0; i < m->nparts && !w.failed; i++) {
		const struct msgbuild_part *p = &m->parts[i];
		buf_reset(&h);
		buf_printf(&h, "\r\n--%s\r\n", boundary);
		part_header(&h, p);
		buf_puts(&h, "\r\n");
		if (h.failed)
			goto out;
		put(&w, h.data, h.len);
		if (p->message)
			write_crlf(&w, p->data, p->len);
		else
			write_base64(&w, p->data, p->len);
	}
	if (m->nparts > 0) {
		buf_reset(&h);
		buf_printf(&h, "\r\n--%s--\r\n", boundary);
		put(&w, h.data, h.len);
	}
	if (w.failed) {
		*error_r = "write failed";
		goto out;
	}
	ret = 1;
out:
	buf_free(&h);
	buf_free(&text);
	return ret;
}

/* Letters, digits, '-' and '.': what goes right of the '@'. */
static bool host_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '.'))
			return false;
	return true;
}

int msgbuild_message_id(const char *hostname, time_t now, char buf[MSGBUILD_MSGID_SIZE])
{
	unsigned char rnd[MSGBUILD_RANDOM];
	char hex[2 * MSGBUILD_RANDOM + 1];
	const char *error;
	struct tm tm;
	if (hostname == NULL || !host_name(hostname) || strlen(hostname) > 200 ||
	    gmtime_r(&now, &tm) == NULL || store_random(rnd, sizeof(rnd), &error) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(buf, MSGBUILD_MSGID_SIZE, "<%04d%02d%02d%02d%02d%02d.%s@%s>", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, hex, hostname);
	return 0;
}
