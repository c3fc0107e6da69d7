/* Delivery status notifications (RFC 3464 in an RFC 6522 multipart/report):
 * the message the relay delivers to a sender whose mail could not be
 * delivered, or who asked to be told that it was (RFC 3461 NOTIFY=SUCCESS). A pure function: everything it needs comes in, the message
 * comes out, nothing is read or written elsewhere (unit-tested on its own).
 *
 * Shape:
 *   From: Mail Delivery System <MAILER-DAEMON@hostname>
 *   To: <sender>, Subject, Date, Message-ID, Auto-Submitted: auto-replied
 *   multipart/report; report-type=delivery-status
 *     1. text/plain: what happened, one paragraph a recipient
 *     2. message/delivery-status: Original-Envelope-Id, Reporting-MTA,
 *        Arrival-Date, and per recipient Original-Recipient,
 *        Final-Recipient, Action (failed, delivered, relayed, expanded),
 *        Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date
 *        (message/global-delivery-status, with utf-8 addresses, when an
 *        address or a diagnostic is not ASCII: RFC 6533)
 *     3. text/rfc822-headers: the original header block
 *        (message/global-headers when it holds UTF-8), or with RET=FULL
 *        in a report of failures the whole message, message/rfc822
 *        (message/global), when it is at most DSN_MESSAGE_MAX
 * Every value put in a header field is reduced to printable characters on
 * one line (SECURITY.md 8); the original header is included as it was
 * (8bit when it holds non-ASCII bytes), cut at a line boundary past
 * DSN_HEADERS_MAX. */
#ifndef PB_RELAY_DSN_H
#define PB_RELAY_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Original header bytes quoted at most (a Received: chain of a few hundred
 * hops fits; a hostile 1 MiB header is cut). */
#define DSN_HEADERS_MAX (64 * 1024)
/* Recipients listed per DSN (an entry has at most 1000). */
#define DSN_RCPTS_MAX 1000
/* The largest message returned whole (RET=FULL); a larger one gets its
 * header only, as RET=HDRS (Postfix returns 50,000 bytes of it). */
#define DSN_MESSAGE_MAX (1024 * 1024)

/* RFC 3464 2.3.3, what became of a recipient. */
enum dsn_action {
	DSN_ACTION_FAILED = 0,
	DSN_ACTION_DELIVERED,     /* into a mailbox here */
	DSN_ACTION_RELAYED,       /* to a server that will not report (no DSN) */
	DSN_ACTION_EXPANDED,      /* to the members of an alias or list */
};

struct dsn_rcpt {
	const char *address;      /* the recipient as queued */
	const char *status;       /* RFC 3463 "5.1.1"; NULL/"" = derived from reply */
	const char *remote_mta;   /* host name that answered, NULL/"" if none */
	const char *diagnostic;   /* the reply, or the reason ("" if none) */
	time_t last_attempt;      /* 0 = not known */
	enum dsn_action action;
	const char *orcpt;        /* RFC 3461 ORCPT as received ("rfc822;a+2Bb@x"),
				     NULL/"" none */
};

struct dsn_input {
	const char *reporting_mta;  /* our hostname */
	const char *sender;         /* the envelope sender the DSN goes to */
	const char *queue_id;
	time_t arrival;             /* when the message was queued */
	time_t now;
	const char *boundary;       /* MIME boundary (random, chosen by the caller) */
	const struct dsn_rcpt *rcpts;
	size_t nrcpts;
	const char *headers;        /* the original header block, may be NULL */
	size_t headers_len;
	const char *envid;          /* RFC 3461 ENVID as received (xtext), NULL/"" none */
	/* The whole message (RET=FULL), NULL: the header only. Quoted only in
	 * a report of failures (not of deliveries alone, RFC 3461 4.3). */
	const char *message;
	size_t message_len;
};

/* Builds the DSN. Returns 1 with a malloc'd message (CRLF line ends) in
 * *msg_r / *len_r, or -1 out of memory / bad input (no recipients). */
int relay_dsn_build(const struct dsn_input *in, char **msg_r, size_t *len_r);

/* The status of a recipient into out: `status` if given, else from the
 * reply code the diagnostic starts with ("550 ..." -> "5.0.0"), else
 * `fallback`. Returns out. */
const char *relay_dsn_status(const char *status, const char *diagnostic, const char *fallback,
			     char out[16]);

#endif
