/* Out-of-office auto-replies ("vacation"): the user's setting, the record
 * of whom was answered when, the decision whether a delivered message gets
 * a reply (RFC 3834, RFC 5230 4.5-4.6) and the reply itself.
 *
 * Records live in the sessions database (DBI_SESSIONS) beside the other
 * per-user settings ("prefs" + user id, identity.h, contacts.h):
 *   "vacation" u32 user            -> {u8 version, u8 enabled, i64 start,
 *                                      i64 end, u16 days, str subject, str text}
 *   "vacsent" u32 user, address    -> {u8 version, i64 sent, i64 until}
 *   "vacrate" u32 user             -> {u8 version, i64 hour began, u32 replies}
 * The address is the envelope sender lowercased; a key that would be
 * STORE_SESSION_ID_LEN bytes long (a session id, session.h) gets a
 * trailing NUL. A sender gets at most one reply until `until` (sent +
 * the interval); `store maintain` removes records past it
 * (store_vacation_prune) and a save of the setting forgets them all, so a
 * new absence answers everybody once again. At most
 * VACATION_REPLIES_PER_HOUR replies a user an hour (the "vacrate" count).
 * Deleting the user deletes all three kinds (user.c). The setting is saved durably (the user typed it);
 * the sent records are not (a power cut costs at most a second reply).
 *
 * When: store_deliver calls vacation_after_delivery after its durable
 * commit, for the local recipients it delivered to; nothing there can make
 * the delivery fail (errors are logged). */
#ifndef PB_VACATION_H
#define PB_VACATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Bytes of UTF-8: a Subject line fits one folded header; the text is a
 * short note, not a letter (Roundcube's managesieve form has no limit,
 * Gmail's is about 4,000 characters). */
#define STORE_VACATION_SUBJECT_MAX 200
#define STORE_VACATION_TEXT_MAX 4000
/* Days between two replies to one sender: RFC 5230 4.5 says 7 by default
 * and at least 1; more than 60 is an absence nobody announces by reply. */
#define STORE_VACATION_DAYS_DEFAULT 7
#define STORE_VACATION_DAYS_MIN 1
#define STORE_VACATION_DAYS_MAX 60
/* Header bytes of a delivered message examined for the decision; a longer
 * header (a message that is mostly Received: lines) gets no reply. */
#define VACATION_HEADER_MAX (64 * 1024)
/* Replies one user sends in an hour, to whomever: the envelope sender is
 * anyone's to forge, so without a cap a stream of mail from made-up
 * senders makes us a backscatter source (one reply per distinct sender)
 * and grows the sent records without bound (a record per sender for up to
 * STORE_VACATION_DAYS_MAX days, some 300 bytes for a long address). A
 * person on leave is written to by far fewer than this many new people an
 * hour; past it a sender gets no reply (logged) and is not recorded, so he
 * is answered if he writes again later. So a user holds at most
 * 50 * 24 * days sent records. */
#define VACATION_REPLIES_PER_HOUR 50
/* What the internal vacation_sent_claim (store_int.h) answers. */
#define VACATION_CLAIM_ANSWERED 0
#define VACATION_CLAIM_DUE 1
#define VACATION_CLAIM_CAPPED 2

struct store_vacation {
	bool enabled;
	int64_t start;    /* first second replies are sent; 0: as soon as enabled */
	int64_t end;      /* first second they no longer are; 0: until turned off */
	uint16_t days;    /* STORE_VACATION_DAYS_MIN..MAX */
	char subject[STORE_VACATION_SUBJECT_MAX + 1]; /* "": "Auto: " + the original's */
	char text[STORE_VACATION_TEXT_MAX + 1];
};

/* The user's setting, or the default (off, 7 days, empty) when none was
 * saved. 1, or -1. */
int store_vacation_get(struct store *store, uint32_t user_id, struct store_vacation *vacation_r,
		       const char **error_r);
/* Checks and saves the setting (durable) and forgets whom was answered.
 * The subject is one line of UTF-8, the text UTF-8 whose only controls
 * are tab, CR and LF; an enabled setting needs a text; end after start
 * when both are set. 1 saved, 0 refused (*error_r says why, for the
 * user), -1 error. */
int store_vacation_set(struct store *store, uint32_t user_id, const struct store_vacation *vacation,
		       const char **error_r);
/* Whether replies are sent at `now` (enabled and inside the dates). */
bool store_vacation_active(const struct store_vacation *vacation, int64_t now);
/* Removes the sent records whose interval is over (the maintenance job).
 * The number removed, or -1. */
int store_vacation_prune(struct store *store, int64_t now, const char **error_r);

/* ------------------------------------------------------------ the decision */

enum vacation_verdict {
	VACATION_REPLY = 0,
	VACATION_NULL_SENDER,     /* <> or no sender */
	VACATION_SYSTEM_SENDER,   /* MAILER-DAEMON, postmaster, owner-*, *-request, noreply... */
	VACATION_OWN_SENDER,      /* from one of the user's own addresses */
	VACATION_AUTO_SUBMITTED,  /* Auto-Submitted: other than "no" */
	VACATION_BULK,            /* Precedence: bulk, list or junk */
	VACATION_LIST,            /* List-Id, List-Unsubscribe or List-Post */
	VACATION_SUPPRESSED,      /* X-Auto-Response-Suppress: OOF or All */
	VACATION_NOT_ADDRESSED,   /* none of the user's addresses in To/Cc (Bcc, lists) */
	VACATION_HEADER_TOO_LONG, /* more than VACATION_HEADER_MAX bytes of header */
};

/* Whether an address is a program's (RFC 3834 2, RFC 5230 4.6): MAILER-
 * DAEMON, postmaster, noreply, list robots (owner-*, *-request, *-bounces):
 * never answered, nor offered as a contact. */
bool vacation_system_sender(const char *sender);

/* Whether the header block has an Auto-Submitted field other than "no"
 * (RFC 3834 5): a program's message, which no program answers. */
bool vacation_auto_submitted(const char *header, size_t header_len);

/* A word for the log line ("auto-submitted"). */
const char *vacation_verdict_name(enum vacation_verdict verdict);

/* Whether a message from envelope `sender` with this header block (the
 * message's first bytes, up to and including the blank line; `complete`
 * false when it was cut at VACATION_HEADER_MAX) gets a reply from a user
 * whose addresses are own[0..nown) (canonical, lowercased domain). A
 * subaddress in To/Cc ("bob+news@") counts as its base when its delimiter
 * is in `delims` (config recipient_delimiter; NULL: none). Pure. */
enum vacation_verdict vacation_decide(const char *sender, const char *header, size_t header_len,
				      bool complete, const char *const *own, size_t nown,
				      const char *delims);

/* ------------------------------------------------------------- the reply */

struct vacation_reply_input {
	const char *from;           /* the user's address */
	const char *to;             /* the envelope sender */
	const char *subject;        /* the setting's; "" or NULL: "Auto: " + orig_subject */
	const char *orig_subject;   /* decoded UTF-8 subject of the message, may be NULL */
	const char *text;           /* the reply's text, UTF-8 */
	const char *header;         /* the message's header block (Message-ID, References) */
	size_t header_len;
	int64_t now;
	const char *msgid_left;     /* left side of the new Message-ID (random) */
	const char *msgid_domain;   /* right side */
};

/* Builds the reply (RFC 3834): Date, From, To, Subject (RFC 2047 words
 * when not ASCII), Message-ID, In-Reply-To and References of the original,
 * Auto-Submitted: auto-replied, MIME-Version, text/plain; charset=utf-8 in
 * 7bit or quoted-printable, every line ended by CRLF. *out_r is malloc'd.
 * 1, or -1 out of memory. Pure. */
int vacation_reply_build(const struct vacation_reply_input *in, char **out_r, size_t *len_r);

/* --------------------------------------------------------------- delivery */

struct store_body;
struct store_delivery;
struct sieve_vacation;

/* A user store_deliver delivered to (or whose filter discarded the
 * message while taking a vacation action). */
struct vacation_target {
	uint32_t user_id;
	/* The user's filter's vacation action (RFC 5230), or NULL: then the
	 * user's own setting, when active. The action's :days is kept within
	 * STORE_VACATION_DAYS_MIN..MAX, its :from only when it is one of the
	 * user's addresses, and its :addresses count as the user's own. */
	const struct sieve_vacation *sieve;
};

/* After store_deliver committed `delivery` to targets[0..n): for each whose
 * vacation applies, decides, records the sender and delivers or queues the
 * reply (starting the relay for a queued one). Never fails: problems are
 * logged. */
void vacation_after_delivery(struct store *store, const struct store_delivery *delivery,
			     const struct vacation_target *targets, size_t n);

#endif
