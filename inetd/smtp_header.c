/* Header block scanning and the header lines smtpd adds (see smtp_header.h). */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "datetime.h"
#include "smtp_header.h"

void smtp_header_scan_init(struct smtp_header_scan *scan)
{
	memset(scan, 0, sizeof(*scan));
}

/* The field name's length if the line starts "name *WSP :", else 0. */
static size_t field_name(const char *line, size_t len)
{
	size_t i = 0, name_len;

	while (i < len && line[i] >= 33 && line[i] <= 126 && line[i] != ':')
		i++;
	name_len = i;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (name_len == 0 || i >= len || line[i] != ':')
		return 0;
	return name_len;
}

static bool name_is(const char *line, size_t name_len, const char *name)
{
	return name_len == strlen(name) && strncasecmp(line, name, name_len) == 0;
}

bool smtp_header_scan(struct smtp_header_scan *scan, const char *buf, size_t len)
{
	while (!scan->done && scan->pos < len) {
		const char *line = buf + scan->pos;
		const char *lf = memchr(line, '\n', len - scan->pos);
		size_t line_len, name_len;

		if (lf == NULL)
			break;
		line_len = (size_t)(lf - line);
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		if (line_len == 0) {
			scan->done = true;
			scan->end = scan->pos;
			break;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			if (!scan->in_field) {
				scan->done = true;
				scan->end = scan->pos;
				break;
			}
		} else if ((name_len = field_name(line, line_len)) > 0) {
			scan->in_field = true;
			if (name_is(line, name_len, "Message-ID"))
				scan->has_message_id = true;
			else if (name_is(line, name_len, "Date"))
				scan->has_date = true;
			else if (name_is(line, name_len, "Received"))
				scan->received++;
		} else {
			scan->done = true;
			scan->end = scan->pos;
			break;
		}
		scan->pos = (size_t)(lf - buf) + 1;
	}
	return scan->done;
}

const char *smtp_protocol_name(bool esmtp, bool utf8, bool tls, bool auth)
{
	static const char *const names[] = {
		"ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA",
		"UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA",
	};

	if (!esmtp)
		return "SMTP";
	return names[(utf8 ? 4 : 0) + (tls ? 2 : 0) + (auth ? 1 : 0)];
}

/* snprintf into buf at *len; false when it does not fit. */
static bool put(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len)
		return false;
	*len += (size_t)n;
	return true;
}

size_t smtp_received_format(const struct smtp_received *r, char *buf, size_t size)
{
	char date[DATETIME_RFC5322_SIZE];
	size_t len = 0;
	bool ok;

	/* from-domain: the EHLO name and, as a comment, the TCP-info
	 * (RFC 5321 §4.4: "[" address-literal "]"). No reverse DNS lookup:
	 * it would cost a round trip per connection and prove nothing. */
	ok = put(buf, size, &len, "Received: from %s", r->helo[0] != '\0' ? r->helo : "unknown");
	if (ok && r->peer_ip != NULL)
		ok = put(buf, size, &len, " ([%s%s])", r->peer_ipv6 ? "IPv6:" : "", r->peer_ip);
	else if (ok)
		ok = put(buf, size, &len, " (unknown)");
	ok = ok && put(buf, size, &len, "\r\n\tby %s (Pillarbox) with %s id %s", r->hostname,
		       r->protocol, r->id);
	if (ok && r->tls[0] != '\0')
		ok = put(buf, size, &len, "\r\n\t(using %s)", r->tls);
	if (ok && r->for_rcpt != NULL)
		ok = put(buf, size, &len, "\r\n\tfor <%s>", r->for_rcpt);
	ok = ok && put(buf, size, &len, ";\r\n\t%s\r\n",
		       datetime_format_rfc5322(r->now, r->tz, date));
	return ok ? len : 0;
}

size_t smtp_message_id_format(const char *id, const char *hostname, time_t now, char *buf,
			      size_t size)
{
	struct tm tm;
	size_t len = 0;

	if (gmtime_r(&now, &tm) == NULL)
		return 0;
	return put(buf, size, &len, "Message-ID: <%04d%02d%02d%02d%02d%02d.%s@%s>\r\n",
		   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, id,
		   hostname) ? len : 0;
}

size_t smtp_date_format(time_t now, int tz, char *buf, size_t size)
{
	char date[DATETIME_RFC5322_SIZE];
	size_t len = 0;

	return put(buf, size, &len, "Date: %s\r\n", datetime_format_rfc5322(now, tz, date)) ? len : 0;
}
