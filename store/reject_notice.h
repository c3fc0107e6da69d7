/* The notice a Sieve reject or ereject sends to the envelope sender when
 * the message could not be refused in the SMTP dialogue (RFC 5429 2.1,
 * 2.2): a Message Disposition Notification (RFC 8098, was 3798), as
 * Pigeonhole sends it. A pure function: everything comes in, the message
 * comes out (unit-tested on its own).
 *
 * Shape:
 *   From: Mail Delivery System <MAILER-DAEMON@hostname>
 *   To: <sender>, Subject: Automatically rejected mail, Date, Message-ID,
 *   In-Reply-To (the original's Message-ID, when well-formed),
 *   Auto-Submitted: auto-replied
 *   multipart/report; report-type=disposition-notification
 *     1. text/plain; charset=utf-8: "Your message to <rcpt> was
 *        automatically rejected:" and the reason (quoted-printable when
 *        it is not short ASCII lines)
 *     2. message/disposition-notification: Reporting-UA, Original-
 *        Recipient, Final-Recipient, Original-Message-ID, Disposition:
 *        automatic-action/MDN-sent-automatically; deleted
 *     3. text/rfc822-headers: the original header block (message/global-
 *        headers when it holds UTF-8), cut at a line end past
 *        REJECT_NOTICE_HEADERS_MAX
 * Every value put in a header field is printable on one line (SECURITY.md
 * 8); a non-ASCII address makes the report message/global-disposition-
 * notification with utf-8 addresses (RFC 6533). */
#ifndef PB_REJECT_NOTICE_H
#define PB_REJECT_NOTICE_H

#include <stddef.h>
#include <stdint.h>

/* Original header octets quoted at most (as a DSN quotes). */
#define REJECT_NOTICE_HEADERS_MAX (64 * 1024)

struct reject_notice_input {
	const char *hostname;      /* ours: Reporting-UA, MAILER-DAEMON's domain */
	const char *sender;        /* the envelope sender the notice goes to */
	const char *rcpt;          /* the address the message was sent to (RCPT) */
	const char *user;          /* the user it reached (Final-Recipient) */
	const char *reason;        /* the filter's reason (sieve_result.reject) */
	const char *header;        /* the original header block, may be NULL */
	size_t header_len;
	int64_t now;
	const char *unique;        /* random: the Message-ID's left side and the boundary */
};

/* Builds the notice. 1 with a malloc'd message (CRLF line ends) in
 * *msg_r, *len_r; -1 out of memory. */
int reject_notice_build(const struct reject_notice_input *in, char **msg_r, size_t *len_r);

#endif
