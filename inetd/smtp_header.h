/* The header lines smtpd reads and writes: a scanner for the header block
 * of an incoming message (is there a Message-ID, a Date, how many Received
 * fields: loop detection), and the lines smtpd adds at the top: Received
 * (RFC 5321 §4.4, protocol types of RFC 3848 / RFC 6531, the TLS details
 * in the spirit of RFC 8314 §4.3), and for submission a Message-ID and a
 * Date when missing (RFC 6409 §8). Pure functions; values are the caller's
 * validated data (a HELO name checked by smtp_helo_valid, an address
 * parsed by smtp_addr), never raw client bytes. */
#ifndef PB_SMTP_HEADER_H
#define PB_SMTP_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The header block is kept in memory to be looked at before anything is
 * stored: bounded like Postfix's header_size_limit. A longer header is
 * streamed unread (MX) or refused (submission: it must be checked). */
#define SMTP_HEADER_MAX 102400
/* RFC 5321 §6.3: a message that went through this many hops is looping. */
#define SMTP_RECEIVED_MAX 100
/* Room for the lines smtpd puts before a message (Received with a long
 * HELO, a recipient and the TLS text, Message-ID, Date). */
#define SMTP_ADDED_HEADERS_MAX 2048

struct smtp_header_scan {
	size_t pos;            /* bytes of complete lines scanned so far */
	size_t end;            /* once done: where the header block ends */
	bool done;
	bool in_field;         /* a field started: continuation lines allowed */
	bool has_message_id;
	bool has_date;
	unsigned received;     /* Received: fields */
};

void smtp_header_scan_init(struct smtp_header_scan *scan);

/* Scans the complete lines (ended by LF) of buf[scan->pos .. len), where
 * buf holds the message from its first byte. The header block ends at an
 * empty line or at the first line that is neither a field ("name:" with
 * printable ASCII names, RFC 5322 §2.2) nor a continuation of one; then
 * scan->done is set and scan->end is the offset of that line. Returns
 * scan->done. */
bool smtp_header_scan(struct smtp_header_scan *scan, const char *buf, size_t len);

struct smtp_received {
	const char *helo;        /* the EHLO/HELO argument, "" if none */
	const char *peer_ip;     /* NULL when unknown (a pipe) */
	bool peer_ipv6;
	const char *hostname;    /* ours */
	const char *protocol;    /* smtp_protocol_name() */
	const char *tls;         /* "TLSv1.3 AES-256-GCM", "" without TLS */
	const char *id;          /* the transaction id, for logs */
	const char *for_rcpt;    /* the recipient when there is exactly one, else NULL */
	time_t now;
	int tz;                  /* minutes east of UTC */
};

/* RFC 3848 / RFC 6531 "with" keyword: SMTP, ESMTP, ESMTPA, ESMTPS,
 * ESMTPSA, UTF8SMTP, UTF8SMTPA, UTF8SMTPS, UTF8SMTPSA. */
const char *smtp_protocol_name(bool esmtp, bool utf8, bool tls, bool auth);

/* Formats the Received: field, folded, with its CRLF. Returns the length,
 * or 0 if it does not fit in size bytes (with the NUL). */
size_t smtp_received_format(const struct smtp_received *r, char *buf, size_t size);

/* "Message-ID: <YYYYMMDDhhmmss.ID@hostname>\r\n"; length or 0. */
size_t smtp_message_id_format(const char *id, const char *hostname, time_t now, char *buf,
			      size_t size);

/* "Date: Mon, 01 Jan 2024 10:00:00 +0100\r\n"; length or 0. */
size_t smtp_date_format(time_t now, int tz, char *buf, size_t size);

#endif
