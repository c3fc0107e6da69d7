/* The outbound queue, public side: what the relay and `pillarbox queue` use
 * (store/queue.h is the store-internal side that delivery fills).
 *
 * An entry: the envelope sender ("" = null sender, i.e. a bounce), a body,
 * recipients each with their own state and last reply, attempts, the time of
 * the next attempt, the last error, and a lease.
 *
 * Leases. A relay works on an entry only after claiming it: the claim
 * records the holder (pid and process start time) and an expiry, and moves
 * the entry's schedule key to that expiry, all in one transaction. Another
 * relay may take the entry over only when the lease has expired or its
 * holder is dead (same host: /proc/PID/stat start time compared), so two
 * relays never deliver the same entry at once, and an entry whose relay was
 * killed is picked up by the next run at once. Every outcome is written
 * with outq_commit() in one durable transaction that first checks the
 * lease is still held: a relay killed at any moment leaves either the old
 * record or the new one, so a remote recipient gets the message at most
 * twice (sent, then killed before the commit) and the entry is never lost.
 * What the relay delivers into this store (a recipient whose domain became
 * local, a DSN) is recorded in the entry by the delivering transaction
 * (store_delivery.outq_id): exactly once.
 *
 * Recipient states only move forward: PENDING -> SENT, PENDING -> FAILED ->
 * RETURNED, PENDING -> DELIVERED -> SENT. An entry is deleted (and its
 * body reference dropped) in the transaction that leaves no recipient
 * PENDING, FAILED or DELIVERED.
 *
 * Delivery status notifications (RFC 3461): the entry keeps the sender's
 * RET and ENVID, each recipient its NOTIFY and ORCPT; the relay passes
 * them on to a server that offers DSN, reports itself what one that does
 * not will not ("relayed"), and sends no failure DSN for a recipient whose
 * NOTIFY leaves FAILURE out.
 *
 * Conventions as in store.h: 1 (or a count) done, 0 not found / refused,
 * -1 temporary error with *error_r. */
#ifndef PB_OUTQ_H
#define PB_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

#define OUTQ_ID_HEX_LEN 32        /* a queue id as text: 32 hex digits */
/* One recipient's last reply as kept in the entry (and quoted in a DSN):
 * an SMTP reply's first lines, joined; RFC 5321 lines are at most 512. */
#define OUTQ_REPLY_MAX 512
/* The host that gave the reply ("mx.example.org [192.0.2.1]"). */
#define OUTQ_MTA_MAX 300
/* The entry's last error, for `pillarbox queue list`. */
#define OUTQ_ERROR_MAX 512
/* The reply of a recipient whose delivery expanded an alias of several
 * targets: its success DSN says "expanded" (RFC 3461 6.2.7.3). */
#define OUTQ_REPLY_EXPANDED "expanded: delivered to the members of a list or alias"
/* Recipients per entry: delivery's limit (queue.h QUEUE_RCPTS_MAX). */
#define OUTQ_RCPTS_MAX 1000

enum outq_rcpt_state {
	OUTQ_RCPT_PENDING = 0,   /* still to be delivered */
	OUTQ_RCPT_SENT = 1,      /* accepted by the next hop, or delivered locally */
	OUTQ_RCPT_FAILED = 2,    /* failed for good: a DSN to the sender is owed */
	OUTQ_RCPT_RETURNED = 3,  /* failed, and the DSN is delivered (or none is owed) */
	OUTQ_RCPT_DELIVERED = 4, /* delivered or relayed, and NOTIFY=SUCCESS asked to be
				    told: a success DSN is owed */
};

struct outq_rcpt {
	enum outq_rcpt_state state;
	char address[STORE_ADDRESS_MAX + 1];
	char reply[OUTQ_REPLY_MAX + 1];  /* last reply or reason, "" if none yet */
	char mta[OUTQ_MTA_MAX + 1];      /* who said it, "" if nobody (DNS, timeouts) */
	char status[16];                 /* RFC 3463 status of the last failure ("5.1.1"), or "" */
	int64_t updated;                 /* when reply was recorded (0 = never) */
	uint8_t notify;                  /* RFC 3461 NOTIFY (STORE_DSN_NOTIFY_*), 0 none */
	char orcpt[STORE_DSN_ORCPT_MAX + 1]; /* ORCPT as received, "" none */
};

struct outq_entry {
	char id[OUTQ_ID_HEX_LEN + 1];
	char sender[STORE_ADDRESS_MAX + 1];
	uint8_t body_id[STORE_BODY_ID_LEN];
	uint64_t size;
	int64_t created;
	int64_t next_try;
	int64_t last_try;                /* 0 = never tried */
	uint32_t attempts;
	int64_t lease_until;             /* 0 = not leased */
	int32_t lease_pid;               /* holder, 0 = none */
	uint64_t lease_start;            /* holder's start time (clock ticks since boot) */
	char last_error[OUTQ_ERROR_MAX + 1];
	/* The domain whose DKIM key may sign the message (store_delivery's
	 * dkim_domain), "" none: entries queued before it existed too. */
	char dkim_domain[STORE_DOMAIN_MAX + 1];
	enum store_dsn_ret dsn_ret;      /* RFC 3461 RET */
	char envid[STORE_DSN_ENVID_MAX + 1]; /* RFC 3461 ENVID as received, "" none */
	uint32_t nrcpts;
	struct outq_rcpt *rcpts;         /* nrcpts; owned, freed by outq_entry_clear */
};

/* Frees the recipients; the entry may be reused. Safe on a zeroed entry. */
void outq_entry_clear(struct outq_entry *entry);

/* The state of a recipient of `entry` just delivered: DELIVERED when its
 * sender asked to be told (NOTIFY=SUCCESS) and nobody further on will
 * tell (`reported` false: delivered here, or relayed to a server without
 * DSN); else SENT. */
enum outq_rcpt_state outq_rcpt_done_state(const struct outq_entry *entry,
					  const struct outq_rcpt *rcpt, bool reported);
/* Whether a recipient that failed is to be reported: NOTIFY not given, or
 * with FAILURE; and never to the null sender. */
bool outq_rcpt_failure_wanted(const struct outq_entry *entry, const struct outq_rcpt *rcpt);

/* true if `id` is 32 lowercase or uppercase hex digits. */
bool outq_id_valid(const char *id);

/* true if the entry's lease is held at `now` by a living process (its
 * holder alive on this host, lease_until in the future). */
bool outq_entry_leased(const struct outq_entry *entry, int64_t now);

/* Every entry, in id order, from one snapshot. cb returns 0 to go on,
 * non-zero to stop (returned). Returns 1 (or cb's value) or -1. */
int outq_list(struct store *store, int (*cb)(const struct outq_entry *entry, void *ctx),
	      void *ctx, const char **error_r);

/* One entry by id (snapshot). 1 found (*entry_r filled: clear it after),
 * 0 no such entry, -1. */
int outq_get(struct store *store, const char *id, struct outq_entry *entry_r,
	     const char **error_r);

/* Claims entries for this process for `lease_seconds`:
 *  - id != NULL: that entry, whatever its next attempt time, unless another
 *    living holder's lease is current (0 then);
 *  - id == NULL: up to `max` entries due at `now` (next attempt passed, or
 *    leased by a dead holder), oldest schedule first.
 * Claimed ids are written to ids_r (room for max). Returns the count (0 =
 * nothing to do) or -1. One durable transaction. */
int outq_claim(struct store *store, const char *id, int64_t now, unsigned lease_seconds,
	       size_t max, char (*ids_r)[OUTQ_ID_HEX_LEN + 1], const char **error_r);

/* Extends this process's lease on `id` to now + lease_seconds (before a
 * long step, e.g. each connection). 1 still ours, 0 lost or gone, -1. */
int outq_renew(struct store *store, const char *id, int64_t now, unsigned lease_seconds,
	       const char **error_r);

/* Writes back an entry this process holds the lease on: recipient states,
 * replies, attempts, last_try, last_error and next_try as given in `entry`
 * (states only move forward: a recipient changed meanwhile by an
 * administrator keeps that state). With `release` the lease ends and the
 * schedule key moves to entry->next_try; without, the lease stays. When no
 * recipient is left PENDING or FAILED the entry is deleted with its
 * schedule key and body reference. One durable transaction.
 * 1 written (*deleted_r tells whether the entry is gone; may be NULL),
 * 0 the lease is no longer ours or the entry was deleted, -1. */
int outq_commit(struct store *store, const struct outq_entry *entry, bool release,
		bool *deleted_r, const char **error_r);

/* Administration (none of them waits for a lease holder; a relay holding
 * the lease finds out when it commits). */

/* Deletes an entry without a DSN. 1 deleted, 0 no such entry. */
int outq_delete(struct store *store, const char *id, const char **error_r);
/* Makes one entry (id != NULL) or every entry due now. Entries held by a
 * living relay are left alone. Returns how many were changed (0 for an
 * unknown id), -1. */
int outq_flush(struct store *store, const char *id, const char **error_r);
/* Marks every PENDING recipient FAILED with `reason` (status 5.0.0,
 * "reason" quoted in the DSN) and makes the entry due now, so the next
 * relay run returns it to the sender. 1 done, 0 no such entry. */
int outq_bounce(struct store *store, const char *id, const char *reason,
		const char **error_r);

/* The body of an entry, read-only: an open file descriptor (O_CLOEXEC,
 * the caller closes it) and the length of the message's header block
 * (blank line included) from the MIME structure cached at delivery, for a
 * DSN's text/rfc822-headers part. 1, 0 body missing, -1. */
int outq_body_open(struct store *store, const struct outq_entry *entry, int *fd_r,
		   uint64_t *header_len_r, const char **error_r);

#endif
