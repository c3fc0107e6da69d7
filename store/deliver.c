/* Delivery: one message to its recipients, every local copy and every queue
 * entry in one durable transaction, the body stored once. Shared by smtpd,
 * the webmail's send and `pillarbox deliver`. After the commit, the local
 * recipients' vacation replies (vacation.h). */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "body.h"
#include "mailbox.h"
#include "message.h"
#include "queue.h"
#include "vacation.h"

/* Recipients after alias expansion, deduplicated. RCPT is limited to 100
 * by smtpd; aliases can multiply them (smtpd counts them at RCPT). */
#define DELIVER_TARGETS_MAX STORE_DELIVER_TARGETS_MAX

/* The arrays grow as recipients come: sized for the maximum up front they
 * were half a megabyte to zero per delivery (measured: about a tenth of a
 * delivery's CPU, in page faults). */
struct deliver_ctx {
	const struct store_delivery *d;
	struct store_rcpt_target *local;
	uint32_t *inbox;
	size_t nlocal, local_cap;
	char (*remote)[STORE_ADDRESS_MAX + 1];
	size_t nremote, remote_cap;
	size_t nremote_expanded;  /* the remote ones; past them, local ones that were full */
	bool queued;
	bool sent_before;         /* the send token was used already */
	char queue_id[33];
};

/* The array with room for entry n (*cap updated), or NULL if out of memory
 * (the old array is still the caller's). */
static void *grow(void *array, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return array;
	size_t want = *cap == 0 ? 4 : *cap * 2;
	if (want > DELIVER_TARGETS_MAX)
		want = DELIVER_TARGETS_MAX;
	void *p = realloc(array, want * size);
	if (p != NULL)
		*cap = want;
	return p;
}

static bool local_grow(struct deliver_ctx *c)
{
	size_t cap = c->local_cap;
	void *p = grow(c->local, &cap, c->nlocal, sizeof(*c->local));
	if (p == NULL)
		return false;
	c->local = p;
	p = grow(c->inbox, &c->local_cap, c->nlocal, sizeof(*c->inbox));
	if (p == NULL)
		return false;
	c->inbox = p;
	return true;
}

static bool remote_grow(struct deliver_ctx *c)
{
	void *p = grow(c->remote, &c->remote_cap, c->nremote, sizeof(*c->remote));
	if (p == NULL)
		return false;
	c->remote = p;
	return true;
}

static bool seen_user(const struct deliver_ctx *c, uint32_t user_id)
{
	for (size_t i = 0; i < c->nlocal; i++)
		if (c->local[i].user_id == user_id)
			return true;
	return false;
}

static bool seen_remote(const struct deliver_ctx *c, const char *address)
{
	for (size_t i = 0; i < c->nremote; i++)
		if (store_address_same_remote(c->remote[i], address))
			return true;
	return false;
}

/* Expands every recipient (read-only, before the write transaction). */
static int expand(struct store *store, struct deliver_ctx *c, const char **error_r)
{
	struct store_rcpt_target targets[STORE_ALIAS_TARGETS_MAX];
	for (size_t i = 0; i < c->d->nrecipients; i++) {
		size_t n;
		enum store_resolve_result res = store_resolve(store, c->d->recipients[i], targets,
							      STORE_ALIAS_TARGETS_MAX, &n, error_r);
		if (res == STORE_RESOLVE_ERROR)
			return -1;
		if (res == STORE_RESOLVE_NOT_LOCAL) {
			/* A remote recipient given directly (submission). */
			n = 1;
			targets[0].kind = STORE_RCPT_REMOTE;
			snprintf(targets[0].address, sizeof(targets[0].address), "%s", c->d->recipients[i]);
		} else if (res != STORE_RESOLVE_OK) {
			/* Checked at RCPT; gone since: a temporary failure. */
			store_err(store, "%s: no such user here", c->d->recipients[i]);
			*error_r = store_last_error(store);
			return -1;
		}
		for (size_t j = 0; j < n; j++) {
			if (c->nlocal + c->nremote >= DELIVER_TARGETS_MAX) {
				*error_r = "too many recipients after alias expansion";
				return -1;
			}
			if (targets[j].kind == STORE_RCPT_LOCAL) {
				if (seen_user(c, targets[j].user_id))
					continue;
				if (!local_grow(c)) {
					*error_r = "out of memory";
					return -1;
				}
				c->local[c->nlocal++] = targets[j];
			} else if (!seen_remote(c, targets[j].address)) {
				if (!remote_grow(c)) {
					*error_r = "out of memory";
					return -1;
				}
				snprintf(c->remote[c->nremote++], STORE_ADDRESS_MAX + 1, "%s",
					 targets[j].address);
			}
		}
	}
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
	/* INBOX ids first (account data), then mailbox states in id order so
	 * concurrent multi-recipient deliveries take locks in one order. */
	for (size_t i = 0; i < c->nlocal; i++) {
		r = 0;
		if (d->junk)
			r = mailbox_special_id_txn(store, txn, c->local[i].user_id, STORE_SPECIAL_JUNK,
						   &c->inbox[i]);
		if (r == 0)
			r = mailbox_inbox_id_txn(store, txn, c->local[i].user_id, &c->inbox[i]);
		if (r <= 0)
			return r < 0 ? r : store_err(store, "%s has no INBOX", c->local[i].address);
	}
	for (size_t i = 1; i < c->nlocal; i++) {
		for (size_t j = i; j > 0 && c->inbox[j - 1] > c->inbox[j]; j--) {
			uint32_t t = c->inbox[j]; c->inbox[j] = c->inbox[j - 1]; c->inbox[j - 1] = t;
			struct store_rcpt_target u = c->local[j]; c->local[j] = c->local[j - 1]; c->local[j - 1] = u;
		}
	}
	/* A recipient whose mailbox is full does not stop the others: when
	 * another copy is delivered or queued, that one is queued too, and the
	 * relay delivers it once there is room or returns it to the sender
	 * (RFC 5321 gives one reply to the data for all recipients). */
	bool others = c->nlocal + c->nremote > 1;
	size_t copies = 0;
	const char *full = NULL;
	for (size_t i = 0; i < c->nlocal; i++) {
		size_t plen = d->add_prefix ? prefix_build(prefix, sizeof(prefix), d->sender,
							     c->local[i].address, d->prefix_extra,
							     d->prefix_extra_len) : 0;
		uint32_t uid;
		if (others) {
			r = quota_fits_txn(store, txn, c->local[i].user_id, d->body->size + plen);
			if (r < 0)
				return r;
			if (r == 0) {
				if (!remote_grow(c))
					return store_err(store, "out of memory");
				snprintf(c->remote[c->nremote++], STORE_ADDRESS_MAX + 1, "%s",
					 c->local[i].address);
				full = c->local[i].address;
				continue;
			}
		}
		r = msg_append_txn(store, txn, c->inbox[i], d->body, 0, 0, d->internaldate, 0,
				   prefix, plen, &uid);
		if (r < 0)
			return r == STORE_TXN_REFUSE ? store_refuse(store, "%s: %s", c->local[i].address,
								    store_last_error(store)) : r;
		copies++;
	}
	if (copies == 0 && c->nremote_expanded == 0 && full != NULL)
		return store_refuse(store, "%s: quota exceeded (every recipient is over quota)", full);
	if (copies > 0 && (r = body_use_txn(store, txn, d->body, (uint32_t)copies)) < 0)
		return r;
	if (c->nremote > 0) {
		r = queue_add_txn(store, txn, d->sender, d->dkim_domain, d->body,
				  (const char (*)[STORE_ADDRESS_MAX + 1])c->remote, c->nremote, c->queue_id);
		if (r < 0)
			return r;
		c->queued = true;
	}
	if (d->outq_id != NULL &&
	    (r = queue_rcpts_settle_txn(store, txn, d->outq_id, d->outq_rcpts, d->outq_nrcpts,
					d->outq_dsn)) < 0)
		return r;
	return 1;
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
	c->nremote_expanded = c->nremote;
	if (c->nlocal == 0 && c->nremote == 0) {
		*error_r = "no recipients";
		r = 0;
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
	}
	if (r == 1) {
		for (size_t i = 0; i < c->nlocal; i++)
			store_notify_mailbox(store, c->inbox[i]);
		if (queued_r != NULL)
			*queued_r = c->queued;
		if (queue_id_r != NULL)
			snprintf(queue_id_r, 33, "%s", c->queued ? c->queue_id : "");
		/* after the durable commit: a reply can neither fail nor undo it */
		uint32_t *users = c->nlocal > 0 ? malloc(c->nlocal * sizeof(*users)) : NULL;
		for (size_t i = 0; users != NULL && i < c->nlocal; i++)
			users[i] = c->local[i].user_id;
		if (users != NULL)
			vacation_after_delivery(store, delivery, users, c->nlocal);
		free(users);
	}
out:
	free(c->local);
	free(c->inbox);
	free(c->remote);
	free(c);
	return r;
}
