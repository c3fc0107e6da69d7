/* The messages the webmail writes (sent mail, the Sent copy, drafts): a
 * valid RFC 5322 / MIME message from typed values, written through a
 * callback so a large attachment goes straight into a body file.
 *
 *  - Header values are re-serialised, never copied: display names and the
 *    subject as RFC 2047 encoded words when not plain ASCII (rfc2047.h),
 *    addresses checked again (addrlist.h), message ids checked; a CR, LF or
 *    other control character in any header value is refused (no header
 *    injection, whatever the page checked before).
 *  - The text is UTF-8 format=flowed (flowed.h), sent as 7bit when it is
 *    short-lined ASCII, else quoted-printable or base64, whichever is
 *    shorter (codec.h).
 *  - Attachments: base64, file names cleaned (no directories, no control or
 *    bidi characters) and written as RFC 2231 parameters; encapsulated
 *    messages (forward as attachment) as message/rfc822 in 7bit/8bit with
 *    CRLF line ends, as RFC 2046 requires.
 *  - With attachments the message is multipart/mixed, the text first; the
 *    boundary is random and checked against every part not base64-encoded.
 *  - A Date and a Message-ID are always written (the caller makes the id
 *    with msgbuild_message_id so the Sent copy carries the same one). */
#ifndef PB_CGI_MSGBUILD_H
#define PB_CGI_MSGBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

/* Header lines are folded before this width (RFC 5322 2.1.1). */
#define MSGBUILD_LINE_WIDTH 78
/* Bytes of a subject: keeps the Subject line under RFC 5322's 998 even
 * when it is plain ASCII and cannot be folded. */
#define MSGBUILD_SUBJECT_MAX 900
/* Bytes of a cleaned attachment file name (file systems allow 255). */
#define MSGBUILD_FILENAME_MAX 200
/* Letters or digits of a file name extension kept when a name is cut. */
#define MSGBUILD_EXTENSION_MAX 16
/* Bytes of one message id, brackets included. */
#define MSGBUILD_MSGID_MAX 250
/* Message ids kept in References (RFC 5322 3.6.4 lets a writer trim the
 * middle; the first and the last ones matter for threading). */
#define MSGBUILD_REFERENCES_MAX 20
/* Room for msgbuild_message_id's output. */
#define MSGBUILD_MSGID_SIZE (MSGBUILD_MSGID_MAX + 1)

struct msgbuild_addr {
	const char *name;   /* UTF-8 display name, or NULL */
	const char *addr;   /* "local@domain" */
};

struct msgbuild_part {
	const char *filename;  /* UTF-8 as given (cleaned here), or NULL */
	const char *type;      /* "type/subtype" as given (checked here; anything
				  odd becomes application/octet-stream), or NULL */
	const char *charset;   /* for text types, or NULL */
	const void *data;
	size_t len;
	bool message;          /* an encapsulated message: message/rfc822 */
};

/* The Priority choice, as X-Priority's numbers (Roundcube, Outlook,
 * Thunderbird): high also writes Importance: high, low Importance: low;
 * normal writes neither. */
enum msgbuild_priority {
	MSGBUILD_PRIORITY_NORMAL = 0,
	MSGBUILD_PRIORITY_HIGH = 1,
	MSGBUILD_PRIORITY_LOW = 5,
};

struct msgbuild {
	struct msgbuild_addr from;
	const struct msgbuild_addr *to, *cc, *bcc;
	size_t nto, ncc, nbcc;
	bool write_bcc;            /* drafts and the Sent copy keep the Bcc field */
	const char *subject;       /* UTF-8, one line, or NULL */
	const char *text;          /* UTF-8, any line ends (CRLF, LF, CR) */
	size_t text_len;
	const char *message_id;    /* "<id>" (required) */
	const char *in_reply_to;   /* "<id>" or NULL */
	const char *references;    /* "<a> <b> ..." or NULL */
	time_t date;
	int tz;                    /* minutes east of UTC */
	const char *origin;        /* drafts: X-Pillarbox-Origin value (printable
				      ASCII), or NULL */
	/* a return receipt asked for (RFC 8098 2.1): Disposition-Notification-
	 * To with this address (the From identity), NULL none */
	const struct msgbuild_addr *notify_to;
	enum msgbuild_priority priority;
	bool draft_dsn;            /* drafts: X-Pillarbox-DSN (the delivery
				      status notification the form asked for) */
	const struct msgbuild_part *parts;
	size_t nparts;
};

/* Takes `len` bytes of the message; returns 0, or -1 to stop (the writer
 * keeps its own reason). */
typedef int msgbuild_write_fn(void *ctx, const void *data, size_t len);

/* Writes the message. Returns 1 written; 0 refused with *error_r (a line
 * break or control character in a header value, an invalid address or
 * message id, a subject or name too long); -1 the writer stopped or memory
 * ran out (*error_r "out of memory" or "write failed"). */
int msgbuild_write(const struct msgbuild *m, msgbuild_write_fn *write, void *ctx,
		   const char **error_r);

/* An upper bound of the bytes msgbuild_write writes for `m` (header and
 * text included), for a size check before anything is written. */
uint64_t msgbuild_size_bound(const struct msgbuild *m);

/* "<YYYYMMDDhhmmss.RANDOM@hostname>" into buf. Returns 0, or -1 (no
 * randomness, or a hostname that is not a plain host name). */
int msgbuild_message_id(const char *hostname, time_t now, char buf[MSGBUILD_MSGID_SIZE]);

/* true if s[0..len) is one "<id>": printable ASCII without spaces, '<' or
 * '>' inside, at most MSGBUILD_MSGID_MAX bytes. */
bool msgbuild_msgid_valid(const char *s, size_t len);

/* The file name written for `name`: the last path component, control and
 * bidi-override characters and invalid UTF-8 removed, leading dots and
 * spaces and trailing dots and spaces trimmed, cut at MSGBUILD_FILENAME_MAX
 * bytes on a character boundary (keeping an extension of at most
 * MSGBUILD_EXTENSION_MAX letters or digits); "attachment" if nothing is
 * left. */
void msgbuild_filename_clean(const char *name, char buf[MSGBUILD_FILENAME_MAX + 1]);

#endif
