/* Message Disposition Notifications (mdn.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "charset.h"
#include "datetime.h"
#include "mdn.h"
#include "mime.h"
#include "mime_buf.h"
#include "rfc2047.h"

/* The first `name` field of the header block h (NULL: none), or NULL. */
static bool header_find(const char *h, size_t len, const char *name, struct mime_header_field *f)
{
	size_t pos = 0, n = strlen(name);
	while (h != NULL && mime_header_next(h, len, &pos, f) > 0)
		if (f->name_len == n && strncasecmp(f->name, name, n) == 0)
			return true;
	return false;
}

/* The original's Message-ID when it is one well-formed "<...>" of
 * printable ASCII, else "". */
static void original_msgid(const char *h, size_t len, char out[256])
{
	struct mime_header_field f;
	out[0] = '\0';
	if (!header_find(h, len, "Message-ID", &f))
		return;
	size_t i = 0, n = f.value_len;
	while (i < n && (f.value[i] == ' ' || f.value[i] == '\t'))
		i++;
	while (n > i && (unsigned char)f.value[n - 1] <= ' ')
		n--;
	if (n - i < 3 || n - i > 250 || f.value[i] != '<' || f.value[n - 1] != '>')
		return;
	for (size_t k = i; k < n; k++)
		if ((unsigned char)f.value[k] <= ' ' || (unsigned char)f.value[k] >= 0x7f)
			return;
	memcpy(out, f.value + i, n - i);
	out[n - i] = '\0';
}

/* The original's field `name` decoded (RFC 2047) on one line within max
 * octets, into a malloc'd string ("" when absent); NULL out of memory. */
static char *original_text(const char *h, size_t len, const char *name, size_t max)
{
	struct mime_header_field f;
	char *dec = NULL, *out;
	size_t dlen = 0;
	if (!header_find(h, len, name, &f))
		return strdup("");
	if (rfc2047_decode(f.value, f.value_len, &dec, &dlen) < 0)
		return NULL;
	if ((out = malloc(max + 1)) != NULL)
		charset_one_line(out, max + 1, dec, max);
	free(dec);
	return out;
}

static void put_fmt(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct mbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		b->failed = true;
	else
		mbuf_append(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A one-line value from the text of a user or a sender: line breaks and
 * other controls a space each (text_part makes its own line ends). */
static void put_line(struct mbuf *b, const char *s)
{
	for (; *s != '\0'; s++)
		mbuf_putc(b, (unsigned char)*s < ' ' || *s == 0x7f ? ' ' : *s);
}

/* Paragraph p as lines of at most TEXT_WIDTH characters, broken at
 * spaces (a longer word stays whole), each ended by CRLF. */
#define TEXT_WIDTH 72
static void wrap(struct mbuf *t, struct mbuf *p)
{
	if (p->failed) {
		t->failed = true;
		return;
	}
	size_t i = 0;
	while (i < p->len) {
		size_t end = p->len - i <= TEXT_WIDTH ? p->len : i + TEXT_WIDTH;
		if (end < p->len) {
			size_t sp = end;
			while (sp > i && p->data[sp] != ' ')
				sp--;
			if (sp == i)   /* one long word: up to its end */
				for (sp = end; sp < p->len && p->data[sp] != ' ';)
					sp++;
			end = sp;
		}
		mbuf_append(t, p->data + i, end - i);
		mbuf_puts(t, "\r\n");
		i = end + (end < p->len);
	}
}

/* The text part's body, every line ended by CRLF. */
static void text_body(struct mbuf *t, const struct mdn_input *in, const char *orcpt,
		      const char *final, const char *date, const char *subject)
{
	if (in->disposition == MDN_DELETED) {
		mbuf_puts(t, "Your message to <");
		mbuf_puts(t, orcpt);
		mbuf_puts(t, "> was automatically rejected:\r\n\r\n");
		/* any line end (the reason has LFs) as CRLF */
		for (const char *s = in->reason != NULL ? in->reason : ""; *s != '\0'; s++) {
			if (*s == '\r' || *s == '\n') {
				mbuf_puts(t, "\r\n");
				s += s[0] == '\r' && s[1] == '\n';
			} else {
				mbuf_putc(t, *s);
			}
		}
		mbuf_puts(t, "\r\n");
		return;
	}
	/* RFC 8098 3's example, as Roundcube and Thunderbird word it */
	struct mbuf p = { 0 };
	mbuf_puts(&p, "The message sent");
	if (*date != '\0') {
		mbuf_puts(&p, " on ");
		put_line(&p, date);
	}
	mbuf_puts(&p, " to ");
	put_line(&p, final);
	if (*subject != '\0') {
		mbuf_puts(&p, " with subject \"");
		put_line(&p, subject);
		mbuf_puts(&p, "\"");
	}
	mbuf_puts(&p, " has been displayed.");
	wrap(t, &p);
	mbuf_free(&p);
	mbuf_puts(t, "\r\nThis is no guarantee that the message has been read or understood.\r\n");
}

/* The text part: 7bit when it is short lines of ASCII, else quoted-
 * printable. */
static void text_part(struct mbuf *b, struct mbuf *t)
{
	if (t->failed) {
		b->failed = true;
		return;
	}
	bool qp = !charset_ascii(t->data, t->len);
	for (size_t i = 0, col = 0; i < t->len && !qp; i++) {
		col = t->data[i] == '\n' ? 0 : col + 1;
		qp = col > 76;
	}
	mbuf_puts(b, "Content-Type: text/plain; charset=utf-8\r\n");
	if (!qp) {
		mbuf_puts(b, "Content-Transfer-Encoding: 7bit\r\n\r\n");
		mbuf_append(b, t->data, t->len);
	} else if (mbuf_reserve(b, QP_ENCODED_MAX(t->len) + 64)) {
		mbuf_puts(b, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		b->len += qp_encode(t->data, t->len, false, b->data + b->len);
		if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
			mbuf_puts(b, "\r\n");
	}
}

/* "Name: " and the UTF-8 text as RFC 2047 words where it needs them;
 * `phrase`: a display name, followed by " <address>". */
static void put_encoded(struct mbuf *b, const char *name, const char *text, bool phrase)
{
	char *enc = NULL;
	size_t len = 0;
	if (rfc2047_encode(text, strlen(text), strlen(name) + 2, phrase, &enc, &len) < 0) {
		b->failed = true;
		return;
	}
	mbuf_puts(b, name);
	mbuf_puts(b, ": ");
	mbuf_append(b, enc, len);
	free(enc);
}

/* The original header, cut at the last line end within
 * MDN_HEADERS_MAX, up to its blank line, every line end CRLF. */
static void headers_part(struct mbuf *b, const char *h, size_t len)
{
	if (len > MDN_HEADERS_MAX) {
		len = MDN_HEADERS_MAX;
		while (len > 0 && h[len - 1] != '\n')
			len--;
	}
	bool h8 = !charset_ascii(h, len);
	put_fmt(b, "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n",
		h8 ? "message/global-headers" : "text/rfc822-headers", h8 ? "8bit" : "7bit");
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(h + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - h) : len, line = end;
		if (line > i && h[line - 1] == '\r')
			line--;
		if (line == i)
			break;   /* the blank line: the end of the header */
		mbuf_append(b, h + i, line - i);
		mbuf_puts(b, "\r\n");
		i = end + 1;
	}
}

/* An address on one line within the length an address may have. */
#define ADDR_MAX 254

int mdn_build(const struct mdn_input *in, char **msg_r, size_t *len_r)
{
	char host[256], to[600], orcpt[600], final[600], from[600], unique[80], id[256];
	char name[600], date[DATETIME_RFC5322_SIZE];
	struct mbuf b = { 0 }, t = { 0 };
	bool deleted = in->disposition == MDN_DELETED;

	charset_one_line(host, sizeof(host), in->hostname, 253);
	charset_one_line(to, sizeof(to), in->to, ADDR_MAX);
	charset_one_line(orcpt, sizeof(orcpt), in->original_rcpt, ADDR_MAX);
	charset_one_line(final, sizeof(final), in->final_rcpt, ADDR_MAX);
	charset_one_line(from, sizeof(from), in->from, ADDR_MAX);
	charset_one_line(name, sizeof(name), in->from_name, 500);
	charset_one_line(unique, sizeof(unique), in->unique, 64);
	original_msgid(in->header, in->header_len, id);
	char *subject = original_text(in->header, in->header_len, "Subject", MDN_SUBJECT_MAX);
	char *sent = original_text(in->header, in->header_len, "Date", MDN_DATE_MAX);
	if (subject == NULL || sent == NULL) {
		free(subject);
		free(sent);
		return -1;
	}
	bool utf8 = !charset_ascii(orcpt, strlen(orcpt)) || !charset_ascii(final, strlen(final));

	if (deleted) {
		put_fmt(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", host);
	} else if (name[0] != '\0') {
		put_encoded(&b, "From", name, true);
		put_fmt(&b, " <%s>\r\n", from);
	} else {
		put_fmt(&b, "From: <%s>\r\n", from);
	}
	put_fmt(&b, "To: <%s>\r\n", to);
	if (deleted) {
		mbuf_puts(&b, "Subject: Automatically rejected mail\r\n");
	} else {
		char *read = malloc(strlen(subject) + 7);
		if (read != NULL) {
			strcpy(read, *subject != '\0' ? "Read: " : "Read:");
			strcat(read, subject);
			put_encoded(&b, "Subject", read, false);
			mbuf_puts(&b, "\r\n");
		}
		b.failed |= read == NULL;
		free(read);
	}
	put_fmt(&b, "Date: %s\r\n", datetime_format_rfc5322((time_t)in->now, in->tz, date));
	put_fmt(&b, "Message-ID: <%s.%s@%s>\r\n", deleted ? "reject" : "mdn", unique, host);
	if (id[0] != '\0')
		put_fmt(&b, "In-Reply-To: %s\r\n", id);
	if (deleted)
		mbuf_puts(&b, "Auto-Submitted: auto-replied\r\n");
	mbuf_puts(&b, "MIME-Version: 1.0\r\n");
	put_fmt(&b, "Content-Type: multipart/report; report-type=disposition-notification;\r\n"
		"\tboundary=\"%s\"\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n", unique);

	put_fmt(&b, "--%s\r\n", unique);
	text_body(&t, in, orcpt, final, sent, subject);
	text_part(&b, &t);
	mbuf_free(&t);

	/* RFC 8098 3.2; RFC 6533 6.2 for UTF-8 addresses */
	put_fmt(&b, "\r\n--%s\r\nContent-Type: message/%sdisposition-notification\r\n\r\n", unique,
		utf8 ? "global-" : "");
	put_fmt(&b, "Reporting-UA: %s; Pillarbox %s\r\n", host, deleted ? "Sieve" : "Webmail");
	if (orcpt[0] != '\0')
		put_fmt(&b, "Original-Recipient: %s; %s\r\n", utf8 ? "utf-8" : "rfc822", orcpt);
	put_fmt(&b, "Final-Recipient: %s; %s\r\n", utf8 ? "utf-8" : "rfc822", final);
	if (id[0] != '\0')
		put_fmt(&b, "Original-Message-ID: %s\r\n", id);
	mbuf_puts(&b, deleted ? "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n"
			      : "Disposition: manual-action/MDN-sent-manually; displayed\r\n");

	if (deleted) {
		put_fmt(&b, "\r\n--%s\r\n", unique);
		headers_part(&b, in->header != NULL ? in->header : "",
			     in->header != NULL ? in->header_len : 0);
	}
	put_fmt(&b, "\r\n--%s--\r\n", unique);
	free(subject);
	free(sent);

	*msg_r = mbuf_steal(&b, len_r);
	return *msg_r != NULL ? 1 : -1;
}
