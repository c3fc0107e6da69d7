/* Inside delivery: the recipients after alias expansion (deliver.c) and
 * what each local one's filter decided (deliver_filter.c). */
#ifndef PB_DELIVER_INT_H
#define PB_DELIVER_INT_H

#include "sieve.h"
#include "store_int.h"

/* Recipients after alias expansion, deduplicated. RCPT is limited to 100
 * by smtpd; aliases can multiply them (smtpd counts them at RCPT). */
#define DELIVER_TARGETS_MAX STORE_DELIVER_TARGETS_MAX

struct local_rcpt {
	struct store_rcpt_target target;
	/* The RCPT address that reached the user first: the filter's
	 * envelope "to", so a subaddress (bob+lists) can be tested. */
	const char *rcpt;
	/* `result` holds the user's filter's decision (else: one copy to
	 * INBOX, or to Junk for a quarantined message). */
	bool filtered;
	struct sieve_result result;
	/* RFC 3461 as the recipient's RCPT asked (one of an alias's several
	 * targets: without SUCCESS), for a copy queued because it is full. */
	struct store_dsn_rcpt dsn;
};

/* What a RCPT's success DSN says (RFC 3461 NOTIFY=SUCCESS). */
enum rcpt_report {
	REPORT_NONE,       /* not asked, or the relay will say (queued) */
	REPORT_DELIVERED,  /* its one target is a local user */
	REPORT_EXPANDED,   /* an alias of several targets (RFC 3461 6.2.7.3) */
};

/* One copy to append: local recipient `local` into `mailbox_id`, with the
 * filter's flags and keywords when `copy` is set. */
struct copy_job {
	size_t local;
	uint32_t mailbox_id;
	const struct sieve_copy *copy;
};

/* A rejecting recipient's notice to the sender (deliver_reject.c). */
struct deliver_notice {
	size_t local;             /* the recipient whose filter rejected */
	struct store_body *body;
	bool prestored;           /* its bytes are stored (body_data_prestore) */
	char queue_id[33];
};

/* The arrays grow as recipients come: sized for the maximum up front they
 * were half a megabyte to zero per delivery (measured: about a tenth of a
 * delivery's CPU, in page faults). */
struct deliver_ctx {
	const struct store_delivery *d;
	struct local_rcpt *local;
	size_t nlocal, local_cap;
	char (*remote)[STORE_ADDRESS_MAX + 1];
	bool *forwarded;          /* per remote: reached by an alias or a redirect */
	struct store_dsn_rcpt *remote_dsn; /* per remote: its RFC 3461 NOTIFY and ORCPT */
	size_t nremote, remote_cap;
	size_t nremote_expanded;  /* the remote ones; past them, local ones that were full */
	/* Forwarded mail's SRS sender (srs.h), "" none; then the first
	 * nforwarded remote ones are queued from it, the rest from the sender. */
	char srs_sender[STORE_ADDRESS_MAX + 1];
	size_t nforwarded;
	struct copy_job *jobs;
	size_t njobs, jobs_cap;
	struct deliver_notice *notices; /* reject notices to queue, nnotices */
	size_t nnotices;
	bool queued;
	bool sent_before;         /* the send token was used already */
	bool over_send_limit;     /* the sender's send_limit refused it */
	char queue_id[33];
	/* Per RCPT, when the sender asked NOTIFY=SUCCESS: what to report and,
	 * for REPORT_DELIVERED, the local recipient it reached. */
	enum rcpt_report *report;
	size_t *report_local;
};

/* Adds a local target unless its user is there already: 1 added, 0 there
 * already, -1 out of memory or too many (*error_r). */
int deliver_add_local(struct deliver_ctx *c, const struct store_rcpt_target *target,
		      const char *rcpt, const char **error_r);
/* The same for a remote address: `forwarded` when an alias or a Sieve
 * redirect reached it (its mail may leave from an SRS address), not when
 * a client named it or a local copy is queued; one reached both ways
 * counts as named. `dsn`: its RFC 3461 NOTIFY and ORCPT, NULL none (the
 * first way it was reached keeps them). */
int deliver_add_remote(struct deliver_ctx *c, const char *address, bool forwarded,
		       const struct store_dsn_rcpt *dsn, const char **error_r);

/* Runs each local recipient's active filter (before the write transaction:
 * reads only) and adds the targets of its redirects. Users reached by a
 * redirect get one copy in their INBOX and run no filter of their own: no
 * redirect loop can form. A filter that is
 * missing, broken or fails leaves the recipient's copy in INBOX. 1, or -1
 * (*error_r: a temporary failure of the delivery). */
int deliver_filter(struct store *store, struct deliver_ctx *c, const char **error_r);
/* Resolves one filter copy's mailbox inside the delivery's transaction
 * (made when :create asks and it is missing; INBOX when it is missing or
 * cannot be made): 1, or a negative store result. */
int deliver_filter_mailbox_txn(struct store *store, DB_TXN *txn, const struct local_rcpt *l,
			       const struct sieve_copy *copy, uint32_t *id_r);
/* The mask of a copy's keywords in `mailbox_id` (created there as needed;
 * an invalid one, or one past the mailbox's limit, is left off). */
int deliver_filter_keywords_txn(struct store *store, DB_TXN *txn, uint32_t mailbox_id,
				const struct sieve_copy *copy, uint64_t *mask_r);

/* Reject (RFC 5429, deliver_reject.c). Whether every recipient's filter
 * rejected the message and nothing else is to be done with it. */
bool deliver_reject_all(const struct deliver_ctx *c);
/* When deliver_reject_all and the caller refuses it in its dialogue:
 * logs each rejection and gives the reply's text (sieve_reject_line of
 * the first recipient's reason), valid until the next store error. */
const char *deliver_reject_refuse(struct store *store, const struct deliver_ctx *c);
/* Before the write transaction: for each recipient whose filter rejected,
 * a notice to the sender built and its bytes stored, or the log saying
 * why none is sent. 1, or -1 (*error_r: a temporary failure). */
int deliver_reject_plan(struct store *store, struct deliver_ctx *c, const char **error_r);
/* Inside the delivery's transaction: the notices queued. 1, or a negative
 * store result. */
int deliver_reject_queue_txn(struct store *store, DB_TXN *txn, struct deliver_ctx *c);
/* After the commit: one log line each, and the relay started for it. */
void deliver_reject_after_commit(struct store *store, const struct deliver_ctx *c);
/* Frees the notices; their stored bytes too unless `committed`. */
void deliver_reject_free(struct store *store, struct deliver_ctx *c, bool committed);

#endif
