/* Delivery's reject step (RFC 5429): what becomes of a message a local
 * recipient's filter rejected (sieve_result.reject). The recipient gets
 * nothing. When every recipient rejected it and the caller can still say
 * no (smtpd at DATA), store_deliver refuses it whole (deliver.c); else
 * the envelope sender gets a notice (an MDN, mdn.h), queued in the
 * delivery's own transaction: the message is either refused or its notice
 * durably queued before the sender hears "250". No notice goes to the
 * null sender, to a program (MAILER-DAEMON, postmaster and their kind,
 * vacation_system_sender) nor for a message with Auto-Submitted other
 * than "no": those are dropped, and the log says so (no backscatter, no
 * loops between two rejecting robots). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "body.h"
#include "deliver_int.h"
#include "log.h"
#include "queue.h"
#include "mdn.h"
#include "program_kick.h"
#include "session.h"
#include "vacation.h"

/* What the notice decision reads of the original: as a DSN quotes. */
#define REJECT_HEADER_MAX MDN_HEADERS_MAX

static const char *sender_of(const struct deliver_ctx *c)
{
	return c->d->sender != NULL ? c->d->sender : "";
}

bool deliver_reject_all(const struct deliver_ctx *c)
{
	if (c->nlocal == 0 || c->nremote > 0)
		return false;
	for (size_t i = 0; i < c->nlocal; i++)
		if (!c->local[i].filtered || c->local[i].result.reject == NULL)
			return false;
	return true;
}

const char *deliver_reject_refuse(struct store *store, const struct deliver_ctx *c)
{
	char line[SIEVE_REJECT_LINE_MAX + 1], from[STORE_ADDRESS_MAX * 4 + 8];
	log_safe(from, sizeof(from), sender_of(c), strlen(sender_of(c)));
	for (size_t i = 0; i < c->nlocal; i++)
		log_info("reject: user=<%s> from=<%s> %s: refused in the SMTP dialogue",
			 c->local[i].target.address, from,
			 c->local[i].result.ereject ? "ereject" : "reject");
	/* one reply for every recipient (RFC 5321): the first one's reason */
	store_err(store, "%s", sieve_reject_line(c->local[0].result.reject, line));
	return store_last_error(store);
}

/* Whether the sender of this message may get a notice: VACATION_REPLY, or
 * why not. */
static enum vacation_verdict notice_due(const char *sender, const struct body_header *h)
{
	if (sender[0] == '\0' || strchr(sender, '@') == NULL || strlen(sender) > STORE_ADDRESS_MAX)
		return VACATION_NULL_SENDER;
	if (vacation_system_sender(sender))
		return VACATION_SYSTEM_SENDER;
	if (vacation_auto_submitted(h->data, h->len))
		return VACATION_AUTO_SUBMITTED;
	return VACATION_REPLY;
}

/* The notice of local recipient i, built and its bytes stored ahead of the
 * transaction (body_data_prestore). 1, or -1 (*error_r). */
static int notice_make(struct store *store, struct deliver_ctx *c, size_t i,
		       const struct body_header *h, const char **error_r)
{
	const struct local_rcpt *l = &c->local[i];
	uint8_t rnd[12];
	char unique[2 * sizeof(rnd) + 1];
	char *msg = NULL;
	size_t len;
	if (store_random(rnd, sizeof(rnd), error_r) < 0)
		return -1;
	for (size_t k = 0; k < sizeof(rnd); k++)
		snprintf(unique + 2 * k, 3, "%02x", rnd[k]);
	const struct mdn_input in = {
		.disposition = MDN_DELETED,
		.hostname = store->config->hostname, .to = sender_of(c), .original_rcpt = l->rcpt,
		.final_rcpt = l->target.address, .reason = l->result.reject,
		.header = h->data, .header_len = h->len, .now = (int64_t)time(NULL),
		.unique = unique,
	};
	if (mdn_build(&in, &msg, &len) < 0) {
		*error_r = "out of memory";
		return -1;
	}
	struct deliver_notice *n = &c->notices[c->nnotices];
	*n = (struct deliver_notice){ .local = i };
	int r = store_body_from_buffer(store, msg, len, &n->body, error_r);
	free(msg);
	if (r != 1)
		return -1;
	c->nnotices++;
	if (body_data_prestore(store, n->body, error_r) != 1)
		return -1;
	n->prestored = true;
	return 1;
}

int deliver_reject_plan(struct store *store, struct deliver_ctx *c, const char **error_r)
{
	struct body_header h = { 0 };
	char from[STORE_ADDRESS_MAX * 4 + 8];
	int r = 1;
	size_t n = 0;
	for (size_t i = 0; i < c->nlocal; i++)
		n += c->local[i].filtered && c->local[i].result.reject != NULL;
	if (n == 0)
		return 1;
	if ((c->notices = calloc(n, sizeof(*c->notices))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	body_header_load(store, c->d->body, REJECT_HEADER_MAX, &h);
	if (h.failed) {
		*error_r = "the message's header could not be read";
		return -1;
	}
	log_safe(from, sizeof(from), sender_of(c), strlen(sender_of(c)));
	for (size_t i = 0; i < c->nlocal && r == 1; i++) {
		const struct local_rcpt *l = &c->local[i];
		if (!l->filtered || l->result.reject == NULL)
			continue;
		enum vacation_verdict v = notice_due(sender_of(c), &h);
		if (v != VACATION_REPLY) {
			log_info("reject: user=<%s> from=<%s> %s: discarded, no notice: %s",
				 l->target.address, from, l->result.ereject ? "ereject" : "reject",
				 vacation_verdict_name(v));
			continue;
		}
		r = notice_make(store, c, i, &h, error_r);
	}
	body_header_free(&h);
	return r;
}

int deliver_reject_queue_txn(struct store *store, DB_TXN *txn, struct deliver_ctx *c)
{
	char to[1][STORE_ADDRESS_MAX + 1];
	snprintf(to[0], sizeof(to[0]), "%s", sender_of(c));
	for (size_t k = 0; k < c->nnotices; k++) {
		/* from the null sender (RFC 5429 2.1, RFC 3834 3.3): a bounce of
		 * the notice goes nowhere */
		const struct queue_new q = {
			.sender = "", .body = c->notices[k].body,
			.rcpts = (const char (*)[STORE_ADDRESS_MAX + 1])to, .n = 1,
		};
		int r = queue_add_txn(store, txn, &q, c->notices[k].queue_id);
		if (r < 0)
			return r;
	}
	return 1;
}

void deliver_reject_after_commit(struct store *store, const struct deliver_ctx *c)
{
	char from[STORE_ADDRESS_MAX * 4 + 8];
	log_safe(from, sizeof(from), sender_of(c), strlen(sender_of(c)));
	for (size_t k = 0; k < c->nnotices; k++) {
		const struct local_rcpt *l = &c->local[c->notices[k].local];
		log_info("reject: user=<%s> from=<%s> %s: notice queue=%s", l->target.address, from,
			 l->result.ereject ? "ereject" : "reject", c->notices[k].queue_id);
		if (relay_kick(store->config->relay_program, store->config->path,
			       c->notices[k].queue_id) < 0)
			log_warning("reject: starting the relay: %s", strerror(errno));
	}
}

void deliver_reject_free(struct store *store, struct deliver_ctx *c, bool committed)
{
	for (size_t k = 0; k < c->nnotices; k++) {
		if (!committed && c->notices[k].prestored)
			body_data_release(store, c->notices[k].body);
		store_body_free(&c->notices[k].body);
	}
	free(c->notices);
	c->notices = NULL;
	c->nnotices = 0;
}
