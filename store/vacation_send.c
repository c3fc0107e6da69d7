/* Sending vacation replies after a delivery (vacation.h). Runs after the
 * delivery's durable commit: nothing here can undo or fail it, every
 * problem is logged and the reply left out. The reply goes out with the
 * null envelope sender (RFC 3834 3.3: a bounce of it goes nowhere) and
 * Auto-Submitted: auto-replied, so no auto-responder answers it, ours
 * included (vacation_decide refuses both). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "body.h"
#include "identity.h"
#include "log.h"
#include "program_kick.h"
#include "session.h"
#include "sieve.h"
#include "vacation.h"

/* An envelope sender we are willing to write into a header and a key. */
static bool sender_plain(const char *s)
{
	if (strlen(s) > STORE_ADDRESS_MAX)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == '<' || *s == '>' || *s == '"' || *s == 0x7f)
			return false;
	return true;
}

/* What one reply says, from the user's setting or a filter's action. */
struct reply_params {
	unsigned days;
	const char *subject;          /* "": "Auto: " + the original's */
	const char *text;
	const char *from;             /* one of the user's addresses, or NULL: the user's */
	const char *const *addresses; /* more of the user's own (a filter's :addresses) */
	size_t naddresses;
	const char *source;           /* for the log: "" or " (filter)" */
};

/* The reply's terms: the filter's action when there is one, else the
 * user's setting; a :from that is not one of the user's addresses is not
 * used (nobody may answer as somebody else). */
static void params_set(struct reply_params *p, const struct sieve_vacation *sieve,
		       const struct store_vacation *vac, const struct store_identity *ids,
		       size_t nids)
{
	if (sieve == NULL) {
		*p = (struct reply_params){ .days = vac->days, .subject = vac->subject,
					    .text = vac->text, .source = "" };
		return;
	}
	*p = (struct reply_params){
		.days = sieve->days == 0 ? STORE_VACATION_DAYS_DEFAULT
			: sieve->days < STORE_VACATION_DAYS_MIN ? STORE_VACATION_DAYS_MIN
			: sieve->days > STORE_VACATION_DAYS_MAX ? STORE_VACATION_DAYS_MAX
			: (unsigned)sieve->days,
		.subject = sieve->subject != NULL ? sieve->subject : "",
		.text = sieve->reason,
		.addresses = (const char *const *)sieve->addresses,
		.naddresses = sieve->naddresses,
		.source = " (filter)",
	};
	for (size_t i = 0; sieve->from != NULL && i < nids; i++)
		if (strcasecmp(ids[i].address, sieve->from) == 0)
			p->from = ids[i].address;
}

static void reply_one(struct store *store, const struct store_delivery *d, uint32_t user_id,
		      const struct sieve_vacation *sieve, const struct store_vacation *vac,
		      struct body_header *h, int64_t now)
{
	struct reply_params p = { 0 };
	struct store_user user;
	struct store_identity *ids = NULL;
	const char **own = NULL;
	size_t nids = 0;
	const char *error = "";
	char safe[STORE_ADDRESS_MAX * 4 + 8];
	char *reply = NULL;
	size_t reply_len;
	struct store_body *body = NULL;

	log_safe(safe, sizeof(safe), d->sender, strlen(d->sender));
	if (store_user_get(store, user_id, &user, &error) <= 0) {
		log_warning("vacation: user %u: %s", user_id, error);
		return;
	}
	if (!h->loaded)
		body_header_load(store, d->body, VACATION_HEADER_MAX, h);
	if (h->failed)
		return;
	size_t nextra = sieve != NULL ? sieve->naddresses : 0;
	if (store_identities_get(store, user_id, &ids, &nids, &error) < 0 ||
	    (own = calloc(nids + nextra + 1, sizeof(*own))) == NULL) {
		log_warning("vacation: <%s>: addresses: %s", user.address, ids == NULL ? error
										  : "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nids; i++)
		own[i] = ids[i].address;
	params_set(&p, sieve, vac, ids, nids);
	for (size_t i = 0; i < p.naddresses; i++)
		own[nids + i] = p.addresses[i];
	enum vacation_verdict v = vacation_decide(d->sender, h->data, h->len, h->complete, own,
						  nids + p.naddresses,
						  store->config->recipient_delimiter);
	if (v != VACATION_REPLY) {
		log_info("vacation: user=<%s> from=<%s> no reply%s: %s", user.address, safe, p.source,
			 vacation_verdict_name(v));
		goto out;
	}
	int r = vacation_sent_claim(store, user_id, d->sender, now, p.days, &error);
	if (r != VACATION_CLAIM_DUE) {
		if (r < 0)
			log_warning("vacation: user=<%s> from=<%s>: %s", user.address, safe, error);
		else if (r == VACATION_CLAIM_CAPPED)
			log_warning("vacation: user=<%s> from=<%s> no reply: %u replies within the "
				    "hour (the cap)", user.address, safe, VACATION_REPLIES_PER_HOUR);
		else
			log_info("vacation: user=<%s> from=<%s> no reply%s: answered within %u days",
				 user.address, safe, p.source, p.days);
		goto out;
	}
	uint8_t rnd[12];
	char left[2 * sizeof(rnd) + 16];
	if (store_random(rnd, sizeof(rnd), &error) < 0) {
		log_warning("vacation: %s", error);
		goto out;
	}
	int n = snprintf(left, sizeof(left), "vacation.");
	for (size_t i = 0; i < sizeof(rnd); i++)
		n += snprintf(left + n, sizeof(left) - (size_t)n, "%02x", rnd[i]);
	const char *from = p.from != NULL ? p.from : user.address;
	const char *domain = strrchr(from, '@') + 1;
	struct vacation_reply_input in = {
		.from = from, .to = d->sender, .subject = p.subject,
		.orig_subject = d->body->subject, .text = p.text,
		.header = h->data, .header_len = h->len, .now = now,
		.msgid_left = left, .msgid_domain = domain,
	};
	if (vacation_reply_build(&in, &reply, &reply_len) < 0) {
		log_warning("vacation: user=<%s>: out of memory", user.address);
		goto out;
	}
	const char *rcpt[1] = { d->sender };
	struct store_delivery rd = {
		.sender = "", .recipients = rcpt, .nrecipients = 1, .add_prefix = true,
		/* our own message From: the user's domain: signed if it has a key */
		.dkim_domain = domain,
	};
	bool queued = false;
	char qid[33] = "";
	if (store_body_from_buffer(store, reply, reply_len, &body, &error) != 1) {
		log_warning("vacation: user=<%s> to=<%s>: storing the reply: %s", user.address, safe,
			    error);
		goto out;
	}
	rd.body = body;
	if (store_deliver(store, &rd, &queued, qid, &error) != 1) {
		log_warning("vacation: user=<%s> to=<%s>: the reply was not sent: %s", user.address,
			    safe, error);
		goto out;
	}
	log_info("vacation: user=<%s> to=<%s> replied%s%s%s", user.address, safe, p.source,
		 queued ? " queue=" : "", qid);
	if (queued && relay_kick(store->config->relay_program, store->config->path, qid) < 0)
		log_warning("vacation: starting the relay: %s", strerror(errno));
out:
	store_body_free(&body);
	free(reply);
	free(own);
	free(ids);
}

void vacation_after_delivery(struct store *store, const struct store_delivery *d,
			     const struct vacation_target *targets, size_t n)
{
	struct body_header h = { 0 };
	int64_t now = (int64_t)time(NULL);
	const char *error;

	/* The cheap tests first: most deliveries end here. Mail filed as
	 * junk gets no reply (RFC 3834 2: not to probable spam), nor does
	 * mail to a forged sender. */
	if (d->sender == NULL || d->sender[0] == '\0' || d->outq_dsn || d->junk ||
	    !sender_plain(d->sender))
		return;
	for (size_t i = 0; i < n; i++) {
		struct store_vacation vac;
		if (targets[i].sieve != NULL) {
			reply_one(store, d, targets[i].user_id, targets[i].sieve, NULL, &h, now);
			continue;
		}
		if (store_vacation_get(store, targets[i].user_id, &vac, &error) < 0) {
			log_warning("vacation: user %u: %s", targets[i].user_id, error);
			continue;
		}
		if (store_vacation_active(&vac, now))
			reply_one(store, d, targets[i].user_id, NULL, &vac, &h, now);
	}
	body_header_free(&h);
}
