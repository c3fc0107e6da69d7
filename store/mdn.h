/* Message Disposition Notifications (RFC 8098, was 3798): the one
 * builder of the two the store and the webmail send.
 *
 *  - MDN_DELETED: the notice a Sieve reject or ereject sends to the
 *    envelope sender when the message could not be refused in the SMTP
 *    dialogue (RFC 5429 2.1, 2.2), as Pigeonhole sends it: From Mail
 *    Delivery System <MAILER-DAEMON@hostname>, Subject "Automatically
 *    rejected mail", Auto-Submitted: auto-replied, the text "Your
 *    message to <rcpt> was automatically rejected:" and the reason,
 *    Disposition: automatic-action/MDN-sent-automatically; deleted, and
 *    the original header quoted.
 *  - MDN_DISPLAYED: the read receipt a webmail user chose to send for a
 *    message that asked for one (Disposition-Notification-To, RFC 8098
 *    2.1): From the user's identity, Subject "Read: " and the
 *    original's, the text "The message sent on DATE to YOU with subject
 *    SUBJECT has been displayed.", Disposition: manual-action/MDN-sent-
 *    manually; displayed; the original header is not quoted (RFC 8098 3:
 *    optional; it holds our Received lines).
 *
 * Shape:
 *   From, To, Subject, Date, Message-ID, In-Reply-To (the original's
 *   Message-ID, when well-formed), MIME-Version
 *   multipart/report; report-type=disposition-notification
 *     1. text/plain; charset=utf-8 (quoted-printable when it is not short
 *        ASCII lines)
 *     2. message/disposition-notification: Reporting-UA, Original-
 *        Recipient (when given), Final-Recipient, Original-Message-ID,
 *        Disposition
 *     3. (MDN_DELETED) text/rfc822-headers: the original header block
 *        (message/global-headers when it holds UTF-8), cut at a line end
 *        past MDN_HEADERS_MAX
 * A pure function: everything comes in, the message comes out (unit-
 * tested on its own, test_mdn). Every value put in a header field is made
 * printable on one line (SECURITY.md 8), the display name and subject
 * RFC 2047-encoded; a non-ASCII address makes the report message/global-
 * disposition-notification with utf-8 addresses (RFC 6533). */
#ifndef PB_MDN_H
#define PB_MDN_H

#include <stddef.h>
#include <stdint.h>

/* Original header octets quoted at most (as a DSN quotes). */
#define MDN_HEADERS_MAX (64 * 1024)
/* Octets of the original's subject and date repeated in a read receipt. */
#define MDN_SUBJECT_MAX 900
#define MDN_DATE_MAX 100

enum mdn_disposition {
	MDN_DELETED,     /* a Sieve reject, sent automatically */
	MDN_DISPLAYED,   /* a read receipt the user chose to send */
};

struct mdn_input {
	enum mdn_disposition disposition;
	const char *hostname;      /* ours: Reporting-UA, the Message-ID's domain */
	const char *from;          /* MDN_DISPLAYED: the user's identity (From) */
	const char *from_name;     /* its display name (UTF-8), NULL or "" none */
	const char *to;            /* where the notification goes */
	const char *original_rcpt; /* Original-Recipient (RCPT), NULL none */
	const char *final_rcpt;    /* Final-Recipient: the user it reached */
	const char *reason;        /* MDN_DELETED: the filter's reason */
	const char *header;        /* the original header block, may be NULL */
	size_t header_len;
	int64_t now;
	int tz;                    /* the Date's zone, minutes east of UTC */
	const char *unique;        /* random: the Message-ID's left side and the boundary */
};

/* Builds the notification. 1 with a malloc'd message (CRLF line ends) in
 * *msg_r, *len_r; -1 out of memory. */
int mdn_build(const struct mdn_input *in, char **msg_r, size_t *len_r);

#endif
