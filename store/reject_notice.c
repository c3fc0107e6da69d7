/* The reject notice (reject_notice.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "charset.h"
#include "datetime.h"
#include "mime.h"
#include "mime_buf.h"
#include "reject_notice.h"

/* The original's Message-ID when it is one well-formed "<...>" of
 * printable ASCII, else "". */
static void original_msgid(const char *h, size_t len, char out[256])
{
	struct mime_header_field f;
	size_t pos = 0;
	out[0] = '\0';
	while (h != NULL && mime_header_next(h, len, &pos, &f) > 0) {
		if (f.name_len != 10 || strncasecmp(f.name, "Message-ID", 10) != 0)
			continue;
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
		return;
	}
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

/* The text part's body: the sentence, the reason, every line ended by
 * CRLF; quoted-printable unless it is short lines of ASCII. */
static void text_part(struct mbuf *b, const char *rcpt, const char *reason)
{
	struct mbuf t = { 0 };
	put_fmt(&t, "Your message to <%s> was automatically rejected:\r\n\r\n", rcpt);
	for (const char *s = reason; *s != '\0'; s++) {
		if (*s == '\n')
			mbuf_putc(&t, '\r');
		mbuf_putc(&t, *s);
	}
	mbuf_puts(&t, "\r\n");
	if (t.failed) {
		b->failed = true;
		return;
	}
	bool qp = !charset_ascii(t.data, t.len);
	for (size_t i = 0, col = 0; i < t.len && !qp; i++) {
		col = t.data[i] == '\n' ? 0 : col + 1;
		qp = col > 76;
	}
	mbuf_puts(b, "Content-Type: text/plain; charset=utf-8\r\n");
	if (!qp) {
		mbuf_puts(b, "Content-Transfer-Encoding: 7bit\r\n\r\n");
		mbuf_append(b, t.data, t.len);
	} else if (mbuf_reserve(b, QP_ENCODED_MAX(t.len) + 64)) {
		mbuf_puts(b, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		b->len += qp_encode(t.data, t.len, false, b->data + b->len);
		if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
			mbuf_puts(b, "\r\n");
	}
	mbuf_free(&t);
}

/* The original header, cut at the last line end within
 * REJECT_NOTICE_HEADERS_MAX, up to its blank line, every line end CRLF. */
static void headers_part(struct mbuf *b, const char *h, size_t len)
{
	if (len > REJECT_NOTICE_HEADERS_MAX) {
		len = REJECT_NOTICE_HEADERS_MAX;
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

int reject_notice_build(const struct reject_notice_input *in, char **msg_r, size_t *len_r)
{
	char host[256], to[600], rcpt[600], user[600], unique[80], id[256];
	char date[DATETIME_RFC5322_SIZE];
	struct mbuf b = { 0 };

	charset_one_line(host, sizeof(host), in->hostname, 253);
	charset_one_line(to, sizeof(to), in->sender, 254);
	charset_one_line(rcpt, sizeof(rcpt), in->rcpt, 254);
	charset_one_line(user, sizeof(user), in->user, 254);
	charset_one_line(unique, sizeof(unique), in->unique, 64);
	original_msgid(in->header, in->header_len, id);
	bool utf8 = !charset_ascii(rcpt, strlen(rcpt)) || !charset_ascii(user, strlen(user));

	put_fmt(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", host);
	put_fmt(&b, "To: <%s>\r\n", to);
	mbuf_puts(&b, "Subject: Automatically rejected mail\r\n");
	put_fmt(&b, "Date: %s\r\n", datetime_format_rfc5322((time_t)in->now, 0, date));
	put_fmt(&b, "Message-ID: <reject.%s@%s>\r\n", unique, host);
	if (id[0] != '\0')
		put_fmt(&b, "In-Reply-To: %s\r\n", id);
	mbuf_puts(&b, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	put_fmt(&b, "Content-Type: multipart/report; report-type=disposition-notification;\r\n"
		"\tboundary=\"%s\"\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n", unique);

	put_fmt(&b, "--%s\r\n", unique);
	text_part(&b, rcpt, in->reason != NULL ? in->reason : "");

	/* RFC 8098 3.2; RFC 6533 6.2 for UTF-8 addresses */
	put_fmt(&b, "\r\n--%s\r\nContent-Type: message/%sdisposition-notification\r\n\r\n", unique,
		utf8 ? "global-" : "");
	put_fmt(&b, "Reporting-UA: %s; Pillarbox Sieve\r\n", host);
	put_fmt(&b, "Original-Recipient: %s; %s\r\n", utf8 ? "utf-8" : "rfc822", rcpt);
	put_fmt(&b, "Final-Recipient: %s; %s\r\n", utf8 ? "utf-8" : "rfc822", user);
	if (id[0] != '\0')
		put_fmt(&b, "Original-Message-ID: %s\r\n", id);
	mbuf_puts(&b, "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n");

	put_fmt(&b, "\r\n--%s\r\n", unique);
	headers_part(&b, in->header != NULL ? in->header : "", in->header != NULL ? in->header_len : 0);
	put_fmt(&b, "\r\n--%s--\r\n", unique);

	*msg_r = mbuf_steal(&b, len_r);
	return *msg_r != NULL ? 1 : -1;
}
