/* Delivery: one message to its recipients, every local copy and every queue
 * entry in one durable transaction, the body stored once. Shared by smtpd,
 * the webmail's send and `pillarbox deliver`. After the commit, the local
 * recipients' vacation replies (vacation.h).
 *
 * Remote recipients that forwarding reached (an alias's remote target, a
 * Sieve redirect, a bounce to our SRS address) are queued from our SRS
 * address (srs.h) when the sender is in another's domain, so that the next
 * hop's SPF check asks about us; those a client named, and local copies
 * queued because a mailbox was full, keep the sender. Both kinds in one
 * delivery make two queue entries. A filter's reject notices are queued
 * in the same transaction (deliver_reject.c). */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "body.h"
#include "deliver_int.h"
#include "log.h"
#include "mailbox.h"
#include "message.h"
#include "outq.h"
#include "queue.h"
#include "srs.h"
#include "vacation.h"

/* The array with room for entry n (*cap updated), or NULL (*error_r): out
 * of memory, or past the delivery's limit on targets. */
static void *room(const struct deliver_ctx *c, void *array, size_t *cap, size_t n, size_t size,
		  const char **error_r)
{
	if (c->nlocal + c->nremote >= DELIVER_TARGETS_MAX) {
		*error_r = "too many recipients after alias expansion";
		return NULL;
	}
	if (n < *cap)
		return array;
	size_t want = *cap == 0 ? 4 : *cap * 2;
	if (want > DELIVER_TARGETS_MAX)
		want = DELIVER_TARGETS_MAX;
	void *p = realloc(array, want * size);
	if (p == NULL)
		*error_r = "out of memory";
	else
		*cap = want;
	return p;
}

int deliver_add_local(struct deliver_ctx *c, const struct store_rcpt_target *target,
		      const char *rcpt, const char **error_r)
{
	for (size_t i = 0; i < c->nlocal; i++)
		if (c->local[i].target.user_id == target->user_id)
			return 0;
	void *p = room(c, c->local, &c->local_cap, c->nlocal, sizeof(*c->local), error_r);
	if (p == NULL)
		return -1;
	c->local = p;
	c->local[c->nlocal++] = (struct local_rcpt){ .target = *target, .rcpt = rcpt };
	return 1;
}

int deliver_add_remote(struct deliver_ctx *c, const char *address, bool forwarded,
		       const struct store_dsn_rcpt *dsn, const char **error_r)
{
	for (size_t i = 0; i < c->nremote; i++) {
		if (store_address_same_remote(c->remote[i], address)) {
			c->forwarded[i] = c->forwarded[i] && forwarded;
			return 0;
		}
	}
	size_t cap = c->remote_cap;
	void *p = room(c, c->remote, &cap, c->nremote, sizeof(*c->remote), error_r);
	if (p == NULL)
		return -1;
	c->remote = p;
	if (cap != c->remote_cap) {
		bool *f = realloc(c->forwarded, cap * sizeof(*f));
		if (f != NULL)
			c->forwarded = f;
		struct store_dsn_rcpt *ds = f != NULL ? realloc(c->remote_dsn, cap * sizeof(*ds))
						       : NULL;
		if (ds == NULL) {
			*error_r = "out of memory";
			return -1;
		}
		c->remote_dsn = ds;
		c->remote_cap = cap;
	}
	snprintf(c->remote[c->nremote], STORE_ADDRESS_MAX + 1, "%s", address);
	c->remote_dsn[c->nremote] = dsn != NULL ? *dsn : (struct store_dsn_rcpt){ 0 };
	c->forwarded[c->nremote++] = forwarded;
	return 1;
}

/* A RCPT's RFC 3461 request as each of its targets carries it on: all of
 * it for its only target; without SUCCESS for an alias's several, whose
 * success the delivery reports as "expanded" (RFC 3461 6.2.7.3). */
static struct store_dsn_rcpt target_dsn(const struct store_delivery *d, size_t i, size_t ntargets)
{
	struct store_dsn_rcpt dsn = d->dsn != NULL ? d->dsn[i] : (struct store_dsn_rcpt){ 0 };
	if (ntargets > 1 && (dsn.notify & STORE_DSN_NOTIFY_SUCCESS)) {
		dsn.notify &= (uint8_t)~STORE_DSN_NOTIFY_SUCCESS;
		if (dsn.notify == 0)
			dsn.notify = STORE_DSN_NOTIFY_NEVER;
	}
	return dsn;
}

/* A local recipient's request (for a copy queued because it is full):
 * that of the RCPT that reached it, and of every other RCPT that reached
 * it too, their NOTIFY sets joined (a set not given is the default,
 * FAILURE and DELAY; NEVER joined with anything is that thing). */
static void local_dsn_merge(struct deliver_ctx *c, uint32_t user_id,
			    const struct store_dsn_rcpt *dsn, bool first)
{
	const uint8_t dflt = STORE_DSN_NOTIFY_FAILURE | STORE_DSN_NOTIFY_DELAY;
	for (size_t l = 0; l < c->nlocal; l++) {
		struct store_dsn_rcpt *mine = &c->local[l].dsn;
		if (c->local[l].target.user_id != user_id)
			continue;
		if (first) {
			*mine = *dsn;
		} else if (mine->notify != dsn->notify) {
			uint8_t n = (uint8_t)((mine->notify != 0 ? mine->notify : dflt) |
					      (dsn->notify != 0 ? dsn->notify : dflt));
			if (n != STORE_DSN_NOTIFY_NEVER)
				n &= (uint8_t)~STORE_DSN_NOTIFY_NEVER;
			mine->notify = n;
		}
		return;
	}
}

/* Whether RCPT i asked to be told of its delivery (to a sender who can be). */
static bool success_asked(const struct store_delivery *d, size_t i)
{
	return d->dsn != NULL && d->sender[0] != '\0' &&
	       (d->dsn[i].notify & STORE_DSN_NOTIFY_SUCCESS);
}

/* Expands every recipient (read-only, before the write transaction). */
static int expand(struct store *store, struct deliver_ctx *c, const char **error_r)
{
	struct store_rcpt_target targets[STORE_ALIAS_TARGETS_MAX];
	if (c->d->dsn != NULL) {
		c->report = calloc(c->d->nrecipients, sizeof(*c->report));
		c->report_local = calloc(c->d->nrecipients, sizeof(*c->report_local));
		if (c->report == NULL || c->report_local == NULL) {
			*error_r = "out of memory";
			return -1;
		}
	}
	for (size_t i = 0; i < c->d->nrecipients; i++) {
		size_t n;
		enum store_resolve_result res = store_resolve(store, c->d->recipients[i], targets,
							      STORE_ALIAS_TARGETS_MAX, &n, error_r);
		if (res == STORE_RESOLVE_ERROR)
			return -1;
		if (res == STORE_RESOLVE_NOT_LOCAL) {
			/* A remote recipient given directly (submission): it
			 * keeps the sender. */
			n = 1;
			targets[0].kind = STORE_RCPT_REMOTE;
			snprintf(targets[0].address, sizeof(targets[0].address), "%s", c->d->recipients[i]);
		} else if (res != STORE_RESOLVE_OK) {
			/* Checked at RCPT; gone since: a temporary failure. */
			store_err(store, "%s: no such user here", c->d->recipients[i]);
			*error_r = store_last_error(store);
			return -1;
		}
		struct store_dsn_rcpt dsn = target_dsn(c->d, i, n);
		for (size_t j = 0; j < n; j++) {
			int r = targets[j].kind == STORE_RCPT_LOCAL
				? deliver_add_local(c, &targets[j], c->d->recipients[i], error_r)
				: deliver_add_remote(c, targets[j].address,
						     res == STORE_RESOLVE_OK, &dsn, error_r);
			if (r < 0)
				return -1;
			if (targets[j].kind == STORE_RCPT_LOCAL)
				local_dsn_merge(c, targets[j].user_id, &dsn, r == 1);
		}
		/* a single remote target: the relay reports it */
		if (success_asked(c->d, i) && (n > 1 || targets[0].kind == STORE_RCPT_LOCAL)) {
			c->report[i] = n > 1 ? REPORT_EXPANDED : REPORT_DELIVERED;
			for (size_t l = 0; l < c->nlocal; l++)
				if (c->local[l].target.user_id == targets[0].user_id)
					c->report_local[i] = l;
		}
	}
	return 1;
}

/* The SRS sender of the forwarded remote recipients, if they get one, and
 * those recipients moved first (each kind keeping its order), before the
 * write transaction: the secret may have to be made first, in its own. */
static int forward_plan(struct store *store, struct deliver_ctx *c, const char **error_r)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nremote; i++)
		n += c->forwarded[i];
	if (n == 0)
		return 1;
	int r = store_srs_forward(store, c->d->sender, c->srs_sender, error_r);
	if (r <= 0)
		return r < 0 ? -1 : 1;   /* 0: the sender stays */
	char (*moved)[STORE_ADDRESS_MAX + 1] = malloc(c->nremote * sizeof(*moved));
	struct store_dsn_rcpt *moved_dsn = malloc(c->nremote * sizeof(*moved_dsn));
	if (moved == NULL || moved_dsn == NULL) {
		free(moved);
		free(moved_dsn);
		*error_r = "out of memory";
		return -1;
	}
	size_t k = 0;
	for (int pass = 1; pass >= 0; pass--)
		for (size_t i = 0; i < c->nremote; i++)
			if (c->forwarded[i] == (pass == 1)) {
				moved_dsn[k] = c->remote_dsn[i];
				memcpy(moved[k++], c->remote[i], sizeof(*moved));
			}
	memcpy(c->remote, moved, c->nremote * sizeof(*moved));
	memcpy(c->remote_dsn, moved_dsn, c->nremote * sizeof(*moved_dsn));
	free(moved);
	free(moved_dsn);
	for (size_t i = 0; i < c->nremote; i++)
		c->forwarded[i] = i < n;
	c->nforwarded = n;
	return 1;
}

/* Header lines are built from values that were validated as addresses;
 * CR and LF are dropped all the same so nothing can break the header. */
static size_t prefix_build(char *dst, size_t size, const char *sender, const char *rcpt,
			   const char *extra, size_t extra_len)
{
	int n = snprintf(dst, size, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", sender, rcpt);
	if (n < 0 || (size_t)n >= size)
		return 0;
	if (extra != NULL && extra_len < size - (size_t)n) {
		memcpy(dst + n, extra, extra_len);
		n += (int)extra_len;
		dst[n] = '\0';
	}
	size_t out = 0;
	for (int i = 0; i < n; i++) {
		bool eol = (dst[i] == '\r' && dst[i + 1] == '\n') || (dst[i] == '\n' && i > 0 && dst[i - 1] == '\r');
		if ((dst[i] == '\r' || dst[i] == '\n') && !eol)
			continue;
		dst[out++] = dst[i];
	}
	return out;
}

/* The copies to append, each local recipient's mailboxes resolved, in
 * mailbox id order so that concurrent deliveries take the mailboxes'
 * locks in one order. */
static int jobs_cmp(const void *a, const void *b)
{
	const struct copy_job *x = a, *y = b;
	if (x->mailbox_id != y->mailbox_id)
		return x->mailbox_id < y->mailbox_id ? -1 : 1;
	return x->local < y->local ? -1 : x->local > y->local;
}

static int jobs_plan_txn(struct store *store, DB_TXN *txn, struct deliver_ctx *c)
{
	const struct store_delivery *d = c->d;
	int r;
	c->njobs = 0;
	for (size_t i = 0; i < c->nlocal; i++) {
		const struct local_rcpt *l = &c->local[i];
		size_t first = c->njobs;
		if (!l->filtered) {
			uint32_t id;
			r = 0;
			if (d->junk)
				r = mailbox_special_id_txn(store, txn, l->target.user_id,
							   STORE_SPECIAL_JUNK, &id);
			if (r == 0)
				r = mailbox_inbox_id_txn(store, txn, l->target.user_id, &id);
			if (r <= 0)
				return r < 0 ? r : store_err(store, "%s has no INBOX", l->target.address);
			c->jobs[c->njobs++] = (struct copy_job){ .local = i, .mailbox_id = id };
			continue;
		}
		for (size_t k = 0; k < l->result.ncopies; k++) {
			uint32_t id;
			const struct sieve_copy *copy = &l->result.copies[k];
			if ((r = deliver_filter_mailbox_txn(store, txn, l, copy, &id)) < 0)
				return r;
			/* a missing mailbox falls back to INBOX, which may have a copy */
			bool twice = false;
			for (size_t j = first; j < c->njobs && !twice; j++)
				twice = c->jobs[j].mailbox_id == id;
			if (!twice)
				c->jobs[c->njobs++] = (struct copy_job){ i, id, copy };
		}
	}
	qsort(c->jobs, c->njobs, sizeof(*c->jobs), jobs_cmp);
	return 1;
}

/* A recipient whose mailbox is full does not stop the others: when
 * another copy is delivered or queued, that one is queued too, and the
 * relay delivers it once there is room or returns it to the sender (RFC
 * 5321 gives one reply to the data for all recipients). 1 fits, 0 queued,
 * or a negative store result. */
static int quota_or_queue_txn(struct store *store, DB_TXN *txn, struct deliver_ctx *c,
			      size_t local, uint64_t bytes)
{
	int r = quota_fits_txn(store, txn, c->local[local].target.user_id, bytes);
	if (r != 0)
		return r;
	const char *error;
	if (deliver_add_remote(c, c->local[local].target.address, false, &c->local[local].dsn,
			       &error) < 0)
		return store_err(store, "%s", error);
	return 0;
}

/* Whether local recipient l's delivery is reported now: not a copy queued
 * because it is full (reported when the relay delivers it), nor one its
 * filter rejected (the sender has the notice instead). */
static bool reported_now(const struct deliver_ctx *c, size_t l, const bool *skip)
{
	return !skip[l] && !(c->local[l].filtered && c->local[l].result.reject != NULL);
}

/* The success DSNs the delivery owes (RFC 3461 NOTIFY=SUCCESS): a queue
 * entry of the RCPTs delivered here (not those whose copy was queued,
 * `skip`: the relay reports them when it delivers), and one of those that
 * were expanded, in the delivery's transaction, so a report is neither
 * lost nor made for mail that was not stored. The relay sends them. */
static int success_queue_txn(struct store *store, DB_TXN *txn, struct deliver_ctx *c,
			     const bool *skip)
{
	static const char *const replies[] = {
		[REPORT_DELIVERED] = "delivered to mailbox",
		[REPORT_EXPANDED] = OUTQ_REPLY_EXPANDED,
	};
	const struct store_delivery *d = c->d;
	if (c->report == NULL)
		return 1;
	char (*rcpts)[STORE_ADDRESS_MAX + 1] = malloc(d->nrecipients * sizeof(*rcpts));
	struct store_dsn_rcpt *dsn = malloc(d->nrecipients * sizeof(*dsn));
	int r = rcpts != NULL && dsn != NULL ? 1 : store_err(store, "out of memory");
	for (enum rcpt_report kind = REPORT_DELIVERED; r > 0 && kind <= REPORT_EXPANDED; kind++) {
		size_t n = 0;
		for (size_t i = 0; i < d->nrecipients; i++) {
			if (c->report[i] != kind ||
			    (kind == REPORT_DELIVERED && !reported_now(c, c->report_local[i], skip)))
				continue;
			snprintf(rcpts[n], sizeof(rcpts[n]), "%s", d->recipients[i]);
			dsn[n++] = d->dsn[i];
		}
		if (n == 0)
			continue;
		struct queue_new q = {
			.sender = d->sender, .body = d->body,
			.rcpts = (const char (*)[STORE_ADDRESS_MAX + 1])rcpts, .dsn = dsn, .n = n,
			.dsn_ret = d->dsn_ret, .dsn_envid = d->dsn_envid, .delivered = replies[kind],
		};
		char other[33];
		/* the id the relay is started for, when nothing else was queued */
		r = queue_add_txn(store, txn, &q, c->queued ? other : c->queue_id);
		c->queued = r > 0;
	}
	free(rcpts);
	free(dsn);
	return r;
}

static int queue_txn(struct store *store, DB_TXN *txn, struct deliver_ctx *c);

static int deliver_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct deliver_ctx *c = ctx;
	const struct store_delivery *d = c->d;
	char prefix[STORE_PREFIX_MAX];
	int r;
	c->queued = false;
	c->nremote = c->nremote_expanded;   /* a retried transaction starts again */
	if (d->send_token != NULL) {
		/* first: a repeated form waits here for the first one's commit */
		r = session_sent_use_txn(store, txn, d->session_id, d->send_token);
		if (r < 0)
			return r;
		c->sent_before = r == 0;
		if (c->sent_before)
			return store_refuse(store, "this message was sent already");
	}
	unsigned limit = store->config->send_limit;
	if (d->sender_user_id != 0 && limit != 0) {
		uint64_t sent;
		r = send_limit_add_txn(store, txn, d->sender_user_id, d->nrecipients, limit,
				       d->internaldate != 0 ? d->internaldate : (int64_t)time(NULL),
				       &sent);
		if (r < 0)
			return r;
		c->over_send_limit = r == 0;
		if (c->over_send_limit)
			return store_refuse(store, "send limit: %llu recipients in 24 hours, "
					    "%zu more would pass %u", (unsigned long long)sent,
					    d->nrecipients, limit);
	}
	if ((r = jobs_plan_txn(store, txn, c)) < 0)
		return r;
	/* each recipient's copies, and whether there are others */
	size_t *count = calloc(c->nlocal + 1, sizeof(*count));
	bool *skip = calloc(c->nlocal + 1, sizeof(*skip));
	if (count == NULL || skip == NULL) {
		free(count);
		free(skip);
		return store_err(store, "out of memory");
	}
	size_t receiving = 0;
	for (size_t j = 0; j < c->njobs; j++)
		receiving += count[c->jobs[j].local]++ == 0;
	bool others = receiving + c->nremote > 1;
	size_t copies = 0;
	const char *full = NULL;
	/* a recipient's copies fit together or not at all, so a later retry
	 * delivers none of them twice */
	for (size_t i = 0; others && i < c->nlocal; i++) {
		if (count[i] == 0)
			continue;
		size_t plen = d->add_prefix ? prefix_build(prefix, sizeof(prefix), d->sender,
							     c->local[i].target.address,
							     d->prefix_extra, d->prefix_extra_len) : 0;
		r = quota_or_queue_txn(store, txn, c, i, count[i] * (d->body->size + plen));
		if (r < 0)
			break;
		if (r == 0) {
			skip[i] = true;
			full = c->local[i].target.address;
		}
	}
	free(count);
	if (r < 0) {
		free(skip);
		return r;
	}
	for (size_t j = 0; j < c->njobs; j++) {
		const struct copy_job *job = &c->jobs[j];
		const struct local_rcpt *l = &c->local[job->local];
		if (skip[job->local])
			continue;
		size_t plen = d->add_prefix ? prefix_build(prefix, sizeof(prefix), d->sender,
							     l->target.address, d->prefix_extra,
							     d->prefix_extra_len) : 0;
		uint64_t keywords = 0;
		if (job->copy != NULL &&
		    (r = deliver_filter_keywords_txn(store, txn, job->mailbox_id, job->copy,
						     &keywords)) < 0)
			break;
		/* junk says so to mail apps too (Thunderbird, Apple Mail) */
		static const char *const junk_kw[] = { "$Junk" };
		if (d->junk && job->copy == NULL &&
		    (r = keyword_mask_txn(store, txn, job->mailbox_id, junk_kw, 1, true,
					  &keywords)) < 0) {
			if (r != STORE_TXN_REFUSE)
				break;
			keywords = 0; /* the folder's keywords are all taken */
		}
		uint32_t uid;
		r = msg_append_txn(store, txn, job->mailbox_id, d->body,
				   job->copy != NULL ? job->copy->flags : 0, keywords,
				   d->internaldate, 0, prefix, plen, &uid);
		if (r < 0) {
			if (r == STORE_TXN_REFUSE)
				r = store_refuse(store, "%s: %s", l->target.address,
						 store_last_error(store));
			break;
		}
		copies++;
	}
	if (r >= 0 && copies == 0 && c->nremote_expanded == 0 && full != NULL)
		r = store_refuse(store, "%s: quota exceeded (every recipient is over quota)", full);
	if (r >= 0 && copies > 0)
		r = body_use_txn(store, txn, d->body, (uint32_t)copies);
	if (r >= 0)
		r = queue_txn(store, txn, c);
	if (r >= 0)
		r = success_queue_txn(store, txn, c, skip);
	if (r >= 0)
		r = deliver_reject_queue_txn(store, txn, c);
	free(skip);
	if (r < 0)
		return r;
	if (d->outq_id != NULL &&
	    (r = queue_rcpts_settle_txn(store, txn, d->outq_id, d->outq_rcpts, d->outq_nrcpts,
					d->outq_dsn)) < 0)
		return r;
	return 1;
}

/* The remote recipients' queue entries (two when some are forwarded). */
static int queue_txn(struct store *store, DB_TXN *txn, struct deliver_ctx *c)
{
	const struct store_delivery *d = c->d;
	int r;
	/* queue_id names the forwarded entry when there are two: the one a
	 * relay started now can deliver (the other holds a full mailbox's
	 * copies, or waits for the next queue run) */
	const char (*remote)[STORE_ADDRESS_MAX + 1] =
		(const char (*)[STORE_ADDRESS_MAX + 1])c->remote;
	struct queue_new q = {
		.dkim_domain = d->dkim_domain, .body = d->body,
		.dsn_ret = d->dsn_ret, .dsn_envid = d->dsn_envid,
	};
	if (c->nforwarded > 0) {
		q.sender = c->srs_sender;
		q.rcpts = remote;
		q.dsn = c->remote_dsn;
		q.n = c->nforwarded;
		if ((r = queue_add_txn(store, txn, &q, c->queue_id)) < 0)
			return r;
		c->queued = true;
	}
	if (c->nremote > c->nforwarded) {
		char other[33];
		q.sender = d->sender;
		q.rcpts = remote + c->nforwarded;
		q.dsn = c->remote_dsn + c->nforwarded;
		q.n = c->nremote - c->nforwarded;
		if ((r = queue_add_txn(store, txn, &q, c->queued ? other : c->queue_id)) < 0)
			return r;
		c->queued = true;
	}
	return 1;
}

/* Room for every copy the plan can make: one a recipient, or its filter's. */
static int jobs_alloc(struct deliver_ctx *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nlocal; i++)
		n += c->local[i].filtered ? c->local[i].result.ncopies : 1;
	c->jobs = malloc((n > 0 ? n : 1) * sizeof(*c->jobs));
	return c->jobs != NULL ? 1 : -1;
}

/* After the commit: the mailboxes that changed, and the vacation replies of
 * the users who got a copy (not of one whose filter discarded it, unless
 * the filter itself took a vacation action). */
static void after_commit(struct store *store, struct deliver_ctx *c)
{
	for (size_t j = 0; j < c->njobs; j++)
		if (j == 0 || c->jobs[j].mailbox_id != c->jobs[j - 1].mailbox_id)
			store_notify_mailbox(store, c->jobs[j].mailbox_id);
	struct vacation_target *users = c->nlocal > 0 ? malloc(c->nlocal * sizeof(*users)) : NULL;
	size_t n = 0;
	for (size_t i = 0; users != NULL && i < c->nlocal; i++) {
		const struct sieve_vacation *v = c->local[i].filtered ? c->local[i].result.vacation
								      : NULL;
		bool got = false;
		for (size_t j = 0; j < c->njobs && !got; j++)
			got = c->jobs[j].local == i;
		/* a filter's vacation answers even what it discarded (RFC 5230 4.7) */
		if (got || v != NULL)
			users[n++] = (struct vacation_target){ c->local[i].target.user_id, v };
	}
	if (n > 0)
		vacation_after_delivery(store, c->d, users, n);
	free(users);
}

int store_deliver(struct store *store, const struct store_delivery *delivery, bool *queued_r,
		  char queue_id_r[33], const char **error_r)
{
	struct deliver_ctx *c = calloc(1, sizeof(*c));
	int r = -1;
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->d = delivery;
	r = expand(store, c, error_r);
	if (r <= 0)
		goto out;
	if (c->nlocal == 0 && c->nremote == 0) {
		*error_r = "no recipients";
		r = 0;
		goto out;
	}
	if ((r = deliver_filter(store, c, error_r)) < 0)
		goto out;
	if (delivery->reject_refusable && deliver_reject_all(c)) {
		*error_r = deliver_reject_refuse(store, c);
		r = 4;
		goto out;
	}
	if ((r = forward_plan(store, c, error_r)) < 0 ||
	    (r = deliver_reject_plan(store, c, error_r)) < 0)
		goto out;
	c->nremote_expanded = c->nremote;
	if (jobs_alloc(c) < 0) {
		*error_r = "out of memory";
		r = -1;
		goto out;
	}
	r = store_space_check(store, 0, error_r) == 1 ? 1 : -1;
	if (r == 1)
		r = body_data_prestore(store, delivery->body, error_r);
	if (r == 1) {
		r = store_write(store, true, deliver_txn, c, error_r);
		if (r != 1)
			body_data_release(store, delivery->body);
		if (r == 0 && c->sent_before)
			r = 2;
		else if (r == 0 && c->over_send_limit)
			r = 3;
	}
	if (r == 1) {
		if (queued_r != NULL)
			*queued_r = c->queued;
		if (queue_id_r != NULL)
			snprintf(queue_id_r, 33, "%s", c->queued ? c->queue_id : "");
		if (c->nforwarded > 0) {
			char safe[STORE_ADDRESS_MAX * 4 + 8];
			log_safe(safe, sizeof(safe), delivery->sender, strlen(delivery->sender));
			log_info("srs: queue=%s from=<%s> forwarded as <%s> to %zu recipient%s",
				 c->queue_id, safe, c->srs_sender, c->nforwarded,
				 c->nforwarded == 1 ? "" : "s");
		}
		/* after the durable commit: a reply can neither fail nor undo it */
		after_commit(store, c);
		deliver_reject_after_commit(store, c);
	}
out:
	deliver_reject_free(store, c, r == 1);
	for (size_t i = 0; i < c->nlocal; i++)
		if (c->local[i].filtered)
			sieve_result_free(&c->local[i].result);
	free(c->local);
	free(c->jobs);
	free(c->remote);
	free(c->forwarded);
	free(c->remote_dsn);
	free(c->report);
	free(c->report_local);
	free(c);
	return r;
}
