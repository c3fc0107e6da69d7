/* DSN builder (relay_dsn.h). */
#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "datetime.h"
#include "relay_dsn.h"

/* A growable output buffer; `failed` sticks after an allocation failure. */
struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct out *o, const char *s, size_t len)
{
	if (o->failed)
		return;
	if (len > o->cap - o->len) {
		size_t cap = o->cap == 0 ? 4096 : o->cap;

		while (len > cap - o->len) {
			if (cap > SIZE_MAX / 2) {
				o->failed = true;
				return;
			}
			cap *= 2;
		}
		char *p = realloc(o->buf, cap);

		if (p == NULL) {
			o->failed = true;
			return;
		}
		o->buf = p;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, len);
	o->len += len;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void printf_(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(struct out *o, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->failed = true;
		return;
	}
	put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* 0..15 for an upper-case hex digit, else 16. */
static unsigned hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 16;
}

/* RFC 3461 4: xtext, "+" and two hex digits for a byte, decoded into dst
 * (then cleaned like any value: a decoded CR or LF is no line break). */
static void xtext_clean(char *dst, size_t size, const char *src, size_t max)
{
	char raw[1024];
	size_t o = 0;

	for (; src != NULL && *src != '\0' && o + 1 < sizeof(raw); src++) {
		unsigned hi, lo;

		if (src[0] == '+' && (hi = hex_digit(src[1])) < 16 &&
		    (lo = hex_digit(src[2])) < 16) {
			raw[o++] = (char)(hi << 4 | lo);
			src += 2;
		} else {
			raw[o++] = *src;
		}
	}
	raw[o] = '\0';
	charset_one_line(dst, size, raw, max);
}

/* Writes "Name: value" folded before 78 columns where the value has
 * spaces (RFC 5322 2.2.3), then CRLF. */
static void field(struct out *o, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;
	const char *p = value;

	puts_(o, name);
	puts_(o, ": ");
	while (*p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t word = sp != NULL ? (size_t)(sp - p) : strlen(p);

		if (p != value) {
			if (col + 1 + word > 78) {
				puts_(o, "\r\n\t");
				col = 8;
			} else {
				puts_(o, " ");
				col++;
			}
		}
		put(o, p, word);
		col += word;
		p += word;
		while (*p == ' ')
			p++;
	}
	puts_(o, "\r\n");
}

const char *relay_dsn_status(const char *status, const char *diagnostic, const char *fallback,
			     char out[16])
{
	if (status != NULL && status[0] != '\0')
		snprintf(out, 16, "%s", status);
	else if (diagnostic != NULL && (diagnostic[0] == '4' || diagnostic[0] == '5') &&
		 diagnostic[1] >= '0' && diagnostic[1] <= '9' && diagnostic[2] >= '0' &&
		 diagnostic[2] <= '9' && (diagnostic[3] == ' ' || diagnostic[3] == '\0'))
		snprintf(out, 16, "%c.0.0", diagnostic[0]);
	else
		snprintf(out, 16, "%s", fallback);
	return out;
}

/* The original header, cut at the last line end within DSN_HEADERS_MAX,
 * without the blank line that ends it, every line end made CRLF. */
static void headers_part(struct out *o, const char *h, size_t len)
{
	size_t i = 0;

	if (len > DSN_HEADERS_MAX) {
		len = DSN_HEADERS_MAX;
		while (len > 0 && h[len - 1] != '\n')
			len--;
	}
	while (i < len) {
		const char *nl = memchr(h + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - h) : len, line = end;

		if (line > i && h[line - 1] == '\r')
			line--;
		if (line == i)
			break; /* the blank line: end of the header */
		put(o, h + i, line - i);
		puts_(o, "\r\n");
		i = end + 1;
	}
}

int relay_dsn_build(const struct dsn_input *in, char **msg_r, size_t *len_r)
{
	char date[DATETIME_RFC5322_SIZE], v[1024], a[600];
	struct out o = { 0 };
	bool ascii = true;
	size_t failed = 0;

	*msg_r = NULL;
	*len_r = 0;
	if (in->nrcpts == 0 || in->nrcpts > DSN_RCPTS_MAX || in->boundary == NULL)
		return -1;
	for (size_t i = 0; i < in->nrcpts && ascii; i++)
		ascii = charset_ascii(in->rcpts[i].address, strlen(in->rcpts[i].address)) &&
			(in->rcpts[i].diagnostic == NULL ||
			 charset_ascii(in->rcpts[i].diagnostic, strlen(in->rcpts[i].diagnostic))) &&
			(in->rcpts[i].orcpt == NULL ||
			 charset_ascii(in->rcpts[i].orcpt, strlen(in->rcpts[i].orcpt)));
	for (size_t i = 0; i < in->nrcpts; i++)
		failed += in->rcpts[i].action == DSN_ACTION_FAILED;

	/* The header. */
	charset_one_line(v, sizeof(v), in->reporting_mta, 253);
	printf_(&o, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", v);
	charset_one_line(a, sizeof(a), in->sender, 254);
	printf_(&o, "To: <%s>\r\n", a);
	/* Postfix's subjects, which users and their filters know */
	printf_(&o, "Subject: %s\r\n", failed == in->nrcpts ? "Undelivered Mail Returned to Sender"
				       : failed == 0 ? "Successful Mail Delivery Report"
						     : "Delivery Status Notification");
	printf_(&o, "Date: %s\r\n", datetime_format_rfc5322(in->now, 0, date));
	charset_one_line(a, sizeof(a), in->queue_id, 64);
	printf_(&o, "Message-ID: <%s.%lld.dsn@%s>\r\n", a, (long long)in->now, v);
	puts_(&o, "Auto-Submitted: auto-replied\r\n");
	puts_(&o, "MIME-Version: 1.0\r\n");
	printf_(&o, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		"\tboundary=\"%s\"\r\n", in->boundary);
	puts_(&o, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");

	/* 1: for humans. */
	printf_(&o, "--%s\r\n", in->boundary);
	printf_(&o, "Content-Type: text/plain; charset=%s\r\n", ascii ? "us-ascii" : "utf-8");
	printf_(&o, "Content-Transfer-Encoding: %s\r\n\r\n", ascii ? "7bit" : "8bit");
	printf_(&o, "This is the mail system at host %s.\r\n\r\n", v);
	if (failed > 0)
		puts_(&o, "I'm sorry to have to inform you that your message could not\r\n"
			  "be delivered to one or more recipients. The details are below.\r\n\r\n");
	if (failed < in->nrcpts)
		puts_(&o, "Your message was delivered to the recipients below, as you\r\n"
			  "asked to be told (delivery status notification).\r\n\r\n");
	for (size_t i = 0; i < in->nrcpts; i++) {
		const struct dsn_rcpt *r = &in->rcpts[i];
		char mta[300];

		charset_one_line(a, sizeof(a), r->address, 254);
		charset_one_line(v, sizeof(v), r->diagnostic, 900);
		charset_one_line(mta, sizeof(mta), r->remote_mta, 290);
		if (r->action == DSN_ACTION_DELIVERED)
			printf_(&o, "<%s>: delivered to the mailbox\r\n\r\n", a);
		else if (r->action == DSN_ACTION_EXPANDED)
			printf_(&o, "<%s>: delivered to the members of this alias or list\r\n\r\n", a);
		else if (r->action == DSN_ACTION_RELAYED)
			printf_(&o, "<%s>: passed on to host %s, which will not say whether it\r\n"
				"delivers it (it does not support delivery status notifications)\r\n\r\n",
				a, mta[0] != '\0' ? mta : "(unknown)");
		else if (mta[0] != '\0')
			printf_(&o, "<%s>: host %s said: %s\r\n\r\n", a, mta,
				v[0] != '\0' ? v : "(no reply)");
		else
			printf_(&o, "<%s>: %s\r\n\r\n", a, v[0] != '\0' ? v : "delivery failed");
	}

	/* 2: for machines (RFC 3464). */
	/* message/delivery-status is 7bit: a non-ASCII address or diagnostic
	 * makes it message/global-delivery-status (RFC 6533 6.1). */
	printf_(&o, "--%s\r\n", in->boundary);
	printf_(&o, "Content-Type: message/%sdelivery-status\r\n\r\n", ascii ? "" : "global-");
	if (in->envid != NULL && in->envid[0] != '\0') {
		xtext_clean(a, sizeof(a), in->envid, 100);
		printf_(&o, "Original-Envelope-Id: %s\r\n", a);
	}
	charset_one_line(v, sizeof(v), in->reporting_mta, 253);
	printf_(&o, "Reporting-MTA: dns; %s\r\n", v);
	charset_one_line(a, sizeof(a), in->queue_id, 64);
	printf_(&o, "X-Pillarbox-Queue-ID: %s\r\n", a);
	if (in->arrival > 0)
		printf_(&o, "Arrival-Date: %s\r\n", datetime_format_rfc5322(in->arrival, 0, date));
	for (size_t i = 0; i < in->nrcpts; i++) {
		static const char *const actions[] = {
			[DSN_ACTION_FAILED] = "failed", [DSN_ACTION_DELIVERED] = "delivered",
			[DSN_ACTION_RELAYED] = "relayed", [DSN_ACTION_EXPANDED] = "expanded",
		};
		const struct dsn_rcpt *r = &in->rcpts[i];
		bool failure = r->action == DSN_ACTION_FAILED;
		char status[16], derived[16];

		puts_(&o, "\r\n");
		if (r->orcpt != NULL && r->orcpt[0] != '\0') {
			/* "addr-type;xtext" (RFC 3461 4.2), decoded */
			const char *semi = strchr(r->orcpt, ';');

			if (semi != NULL && semi > r->orcpt && semi - r->orcpt < 32) {
				xtext_clean(a, sizeof(a), semi + 1, 500);
				printf_(&o, "Original-Recipient: %.*s; %s\r\n",
					(int)(semi - r->orcpt), r->orcpt, a);
			}
		}
		charset_one_line(a, sizeof(a), r->address, 254);
		/* RFC 6533 3: a non-ASCII address is of type utf-8 */
		printf_(&o, "Final-Recipient: %s; %s\r\n", charset_ascii(a, strlen(a)) ? "rfc822" : "utf-8",
			a);
		printf_(&o, "Action: %s\r\n", actions[r->action]);
		charset_one_line(status, sizeof(status),
		      relay_dsn_status(r->status, r->diagnostic, failure ? "5.0.0" : "2.0.0", derived),
		      15);
		printf_(&o, "Status: %s\r\n", status);
		if (r->remote_mta != NULL && r->remote_mta[0] != '\0') {
			/* "host [address]": the name alone is the dns; form. */
			charset_one_line(v, sizeof(v), r->remote_mta, 290);
			char *sp = strchr(v, ' ');

			if (sp != NULL)
				*sp = '\0';
			printf_(&o, "Remote-MTA: dns; %s\r\n", v);
		}
		/* a delivery here has no reply to quote */
		if (r->diagnostic != NULL && r->diagnostic[0] != '\0' &&
		    (failure || r->action == DSN_ACTION_RELAYED)) {
			char value[1100];

			charset_one_line(v, sizeof(v), r->diagnostic, 900);
			/* An SMTP reply is "smtp;"; our own reasons are text. */
			bool smtp = (v[0] == '2' || v[0] == '4' || v[0] == '5') && v[1] >= '0' &&
				    v[1] <= '9' && v[2] >= '0' && v[2] <= '9' &&
				    (v[3] == ' ' || v[3] == '\0');

			snprintf(value, sizeof(value), "%s; %s", smtp ? "smtp" : "x-pillarbox", v);
			field(&o, "Diagnostic-Code", value);
		}
		if (r->last_attempt > 0)
			printf_(&o, "Last-Attempt-Date: %s\r\n",
				datetime_format_rfc5322(r->last_attempt, 0, date));
	}
	puts_(&o, "\r\n");

	/* 3: the original message, or its header. */
	printf_(&o, "--%s\r\n", in->boundary);
	if (in->message != NULL && failed > 0 && in->message_len <= DSN_MESSAGE_MAX) {
		bool m8 = !charset_ascii(in->message, in->message_len);
		size_t len = in->message_len;

		/* 8-bit text is 8bit; a UTF-8 header makes it message/global
		 * (RFC 6532 3.7), which the header scan below tells */
		bool h8 = in->headers != NULL && !charset_ascii(in->headers, in->headers_len);

		printf_(&o, "Content-Type: message/%s\r\n", h8 ? "global" : "rfc822");
		printf_(&o, "Content-Transfer-Encoding: %s\r\n\r\n", m8 ? "8bit" : "7bit");
		put(&o, in->message, len);
		if (len > 0 && in->message[len - 1] != '\n')
			puts_(&o, "\r\n");
		/* the CRLF before a delimiter is the delimiter's (RFC 2046
		 * 5.1.1): the message keeps its own last one */
		printf_(&o, "\r\n--%s--\r\n", in->boundary);
	} else if (in->headers != NULL && in->headers_len > 0) {
		bool h8 = !charset_ascii(in->headers, in->headers_len > DSN_HEADERS_MAX ? DSN_HEADERS_MAX
										  : in->headers_len);

		/* a header with UTF-8 (RFC 6532) is message/global-headers
		 * (RFC 6533 6.3) */
		printf_(&o, "Content-Type: %s\r\n",
			h8 ? "message/global-headers" : "text/rfc822-headers");
		printf_(&o, "Content-Transfer-Encoding: %s\r\n\r\n", h8 ? "8bit" : "7bit");
		headers_part(&o, in->headers, in->headers_len);
		printf_(&o, "\r\n--%s--\r\n", in->boundary);
	} else {
		puts_(&o, "Content-Type: text/rfc822-headers\r\n\r\n");
		printf_(&o, "\r\n--%s--\r\n", in->boundary);
	}

	if (o.failed) {
		free(o.buf);
		return -1;
	}
	*msg_r = o.buf;
	*len_r = o.len;
	return 1;
}
