/* Sending and saving (compose.h). Sending follows authenticated
 * submission: the envelope sender is one of the user's identities (the
 * user's address or an alias that delivers to them), every recipient is
 * resolved first, then one store_deliver() stores the local copies and
 * queues the remote ones in one durable transaction, and the relay is
 * started for them at once (program_kick.h, as smtpd does). Only after that
 * commit is the copy filed in Sent and the draft removed: a failure before
 * it sends nothing, a failure after it is reported as "sent, but". */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "codec.h"
#include "compose.h"
#include "contacts.h"
#include "log.h"
#include "program_kick.h"

struct body_sink {
	struct store_body_writer *writer;
	bool too_big;
	const char *error;
};

static int sink_write(void *ctx, const void *data, size_t len)
{
	struct body_sink *s = ctx;
	int r = store_body_write(s->writer, data, len, &s->error);
	if (r == 0)
		s->too_big = true;
	return r == 1 ? 0 : -1;
}

static struct msgbuild_addr *addrs(struct ctx *c, const struct addrlist *l)
{
	struct msgbuild_addr *a = arena_alloc(c->a, (l->count + 1) * sizeof(*a));
	for (size_t i = 0; a != NULL && i < l->count; i++)
		a[i] = (struct msgbuild_addr){ l->items[i].name, l->items[i].addr };
	return a;
}

/* The message for cp; `draft` keeps the Bcc field and the origin. */
static bool message_fill(struct compose *cp, struct msgbuild *m, const char *msgid, bool bcc,
			 bool draft)
{
	static const char *const modes[] = { "new", "reply", "all", "forward", "attach", "edit" };
	struct ctx *c = cp->c;
	const struct store_identity *id = &cp->ids[cp->id];
	struct msgbuild_part *parts = arena_alloc(c->a, (cp->natt + 1) * sizeof(*parts));
	*m = (struct msgbuild){
		.from = { id->name[0] != '\0' ? id->name : NULL, id->address },
		.to = addrs(c, &cp->lto), .nto = cp->lto.count,
		.cc = addrs(c, &cp->lcc), .ncc = cp->lcc.count,
		.bcc = addrs(c, &cp->lbcc), .nbcc = cp->lbcc.count,
		.write_bcc = bcc,
		.subject = cp->subject, .text = cp->text, .text_len = strlen(cp->text),
		.message_id = msgid, .in_reply_to = cp->in_reply_to, .references = cp->references,
		.date = (time_t)c->now, .tz = ctx_utc_offset(c, c->now) / 60,
		.parts = parts, .nparts = cp->natt,
	};
	/* the receipt goes to the identity the message is sent from */
	if (cp->receipt) {
		struct msgbuild_addr *me = arena_alloc(c->a, sizeof(*me));
		if (me == NULL)
			return false;
		*me = m->from;
		m->notify_to = me;
	}
	m->priority = cp->priority;
	m->draft_dsn = draft && cp->dsn;
	if (draft && cp->ouid != 0 && cp->mode != COMPOSE_NEW && cp->mode != COMPOSE_EDIT)
		m->origin = arena_printf(c->a, "%s %u %u", modes[cp->mode], cp->omb, cp->ouid);
	for (size_t i = 0; parts != NULL && i < cp->natt; i++)
		parts[i] = (struct msgbuild_part){
			.filename = cp->att[i].filename, .type = cp->att[i].type,
			.charset = cp->att[i].charset, .data = cp->att[i].data,
			.len = cp->att[i].len, .message = cp->att[i].message,
		};
	return parts != NULL && m->to != NULL && m->cc != NULL && m->bcc != NULL;
}

const char *compose_too_big_text(struct compose *cp)
{
	uint64_t max = cp->c->wm->config->max_message_size;
	return arena_printf(cp->c->a, "The message is too large: with its attachments it would "
				     "pass the limit of %s for one message (attachments grow by "
				     "about a third when sent). Remove an attachment or send it "
				     "in several messages.", fmt_size(cp->c, max));
}

/* Writes m into a new body. 1 (*body_r); 0 refused (the form is shown
 * again with the reason); -1 store error (answered). */
static int body_make(struct compose *cp, const struct msgbuild *m, struct store_body **body_r)
{
	struct ctx *c = cp->c;
	struct body_sink sink = { 0 };
	const char *error;
	*body_r = NULL;
	/* base64 makes attachments a third larger: what cannot fit is
	 * refused before anything is written */
	uint64_t att = 0;
	for (size_t i = 0; i < cp->natt; i++)
		att += cp->att[i].len;
	if (att / 3 * 4 > c->wm->config->max_message_size) {
		compose_form_error(cp, 413, compose_too_big_text(cp));
		return 0;
	}
	if (store_body_create(c->store, &sink.writer, &error) < 0) {
		page_store_error(c, "body", error);
		return -1;
	}
	int r = msgbuild_write(m, sink_write, &sink, &error);
	if (r <= 0) {
		store_body_abort(&sink.writer);
		if (r == 0) {
			compose_form_error(cp, 400, error);
			return 0;
		}
		if (sink.too_big) {
			compose_form_error(cp, 413, compose_too_big_text(cp));
			return 0;
		}
		page_store_error(c, "body write", sink.error != NULL ? sink.error : error);
		return -1;
	}
	r = store_body_finish(&sink.writer, body_r, &error);
	if (r == 0) {
		compose_form_error(cp, 413, compose_too_big_text(cp));
		return 0;
	}
	if (r < 0) {
		page_store_error(c, "body finish", error);
		return -1;
	}
	return 1;
}

/* ---------------------------------------------------------------- send */

/* The envelope: every address once (case-insensitively). */
static size_t envelope(struct compose *cp, const char **rcpts, const char **names)
{
	const struct addrlist *lists[3] = { &cp->lto, &cp->lcc, &cp->lbcc };
	size_t n = 0;
	for (size_t l = 0; l < 3; l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			const char *a = lists[l]->items[i].addr;
			bool dup = false;
			for (size_t k = 0; k < n && !dup; k++)
				dup = strcasecmp(rcpts[k], a) == 0;
			if (!dup && n < COMPOSE_RECIPIENTS_MAX) {
				names[n] = lists[l]->items[i].name;
				rcpts[n++] = a;
			}
		}
	}
	return n;
}

/* Every recipient must exist (local) or be elsewhere (relayed): 1, or 0
 * with the form shown again, -1 answered with a store error. */
static int recipients_check(struct compose *cp, const char *const *rcpts, size_t n)
{
	struct store_rcpt_target targets[STORE_ALIAS_TARGETS_MAX];
	struct ctx *c = cp->c;
	const char *error;
	for (size_t i = 0; i < n; i++) {
		size_t nt;
		switch (store_resolve(c->store, rcpts[i], targets, STORE_ALIAS_TARGETS_MAX, &nt,
				      &error)) {
		case STORE_RESOLVE_ERROR:
			page_store_error(c, "resolve", error);
			return -1;
		case STORE_RESOLVE_NO_USER:
			compose_form_error(cp, 400, arena_printf(c->a, "There is no mailbox %s: "
							   "check the address. Nothing was sent.",
							   rcpts[i]));
			return 0;
		case STORE_RESOLVE_DISABLED:
			compose_form_error(cp, 400, arena_printf(c->a, "The mailbox %s is disabled. "
							   "Nothing was sent.", rcpts[i]));
			return 0;
		default:
			break;
		}
	}
	return 1;
}

/* The delivery status notifications the form asked for (RFC 3461): for
 * every recipient NOTIFY=SUCCESS,FAILURE and ORCPT "rfc822;" with the
 * address as xtext (left out past its limit); RET=HDRS is the caller's.
 * The store reports local deliveries, the relay remote ones. NULL out of
 * memory. */
static struct store_dsn_rcpt *dsn_requests(struct ctx *c, const char *const *rcpts, size_t n)
{
	struct store_dsn_rcpt *dsn = arena_alloc(c->a, n * sizeof(*dsn));
	for (size_t i = 0; dsn != NULL && i < n; i++) {
		size_t len = strlen(rcpts[i]);
		char *orcpt = arena_alloc(c->a, 7 + XTEXT_ENCODED_MAX(len) + 1);
		if (orcpt == NULL)
			return NULL;
		memcpy(orcpt, "rfc822;", 7);
		size_t o = 7 + xtext_encode(rcpts[i], len, orcpt + 7);
		orcpt[o] = '\0';
		/* an rfc822 ORCPT is ASCII once decoded (RFC 3461 4.2): the
		 * form's addresses are, but a UTF-8 one gets none */
		bool ascii = charset_ascii(rcpts[i], len);
		dsn[i] = (struct store_dsn_rcpt){
			.notify = STORE_DSN_NOTIFY_SUCCESS | STORE_DSN_NOTIFY_FAILURE,
			.orcpt = ascii && o <= STORE_DSN_ORCPT_MAX ? orcpt : NULL,
		};
	}
	return dsn;
}

/* After the send: \Answered or $Forwarded on the original. */
static void original_mark(struct compose *cp)
{
	const char *error;
	uint32_t flag = cp->mode == COMPOSE_REPLY || cp->mode == COMPOSE_REPLY_ALL
			? STORE_FLAG_ANSWERED
			: cp->mode == COMPOSE_FORWARD || cp->mode == COMPOSE_FORWARD_ATTACH
			? STORE_FLAG_FORWARDED : 0;
	if (flag == 0 || cp->ouid == 0)
		return;
	if (store_msg_set_flags(cp->c->store, cp->omb, &cp->ouid, 1, STORE_FLAGS_ADD, flag, NULL,
				0, 0, NULL, NULL, NULL, &error) < 0)
		log_error("webmail: compose: flag the original: %s", error);
}

void compose_send(struct compose *cp)
{
	struct ctx *c = cp->c;
	const char *rcpts[COMPOSE_RECIPIENTS_MAX], *names[COMPOSE_RECIPIENTS_MAX];
	const struct store_identity *id = &cp->ids[cp->id];
	char msgid[MSGBUILD_MSGID_SIZE], queue_id[33] = "";
	struct store_body *body = NULL, *copy = NULL;
	struct msgbuild m;
	const char *error = NULL;
	bool queued = false;
	uint32_t sent_uid = 0;

	size_t n = envelope(cp, rcpts, names);
	if (n == 0) {
		compose_form_error(cp, 400, "Add at least one recipient in To, Cc or Bcc.");
		return;
	}
	if (recipients_check(cp, rcpts, n) <= 0)
		return;
	if (msgbuild_message_id(c->wm->config->hostname, (time_t)c->now, msgid) < 0) {
		page_error(c, 500, "The message could not be given an id (the server's hostname "
				   "setting is not a plain host name). Nothing was sent.");
		return;
	}
	struct store_dsn_rcpt *dsn = cp->dsn ? dsn_requests(c, rcpts, n) : NULL;
	if (!message_fill(cp, &m, msgid, false, false) || (cp->dsn && dsn == NULL)) {
		page_error(c, 500, "Out of memory. Nothing was sent.");
		return;
	}
	if (body_make(cp, &m, &body) <= 0)
		return;
	/* The identity is one of the user's own addresses (identity.h): its
	 * domain's key may sign what leaves (store_delivery.dkim_domain). */
	char dkim_domain[STORE_DOMAIN_MAX + 1];
	const char *at = strrchr(id->address, '@'), *why = NULL;
	if (at == NULL || store_domain_ascii(at + 1, dkim_domain, &why) != 1)
		dkim_domain[0] = '\0';
	struct store_delivery d = {
		.sender = id->address, .recipients = rcpts, .nrecipients = n, .body = body,
		.internaldate = c->now, .add_prefix = true,
		.dkim_domain = dkim_domain[0] != '\0' ? dkim_domain : NULL,
		.session_id = c->session.id, .send_token = cp->token_posted ? cp->token : NULL,
		.sender_user_id = c->user.id,
		.dsn = dsn, .dsn_ret = dsn != NULL ? STORE_DSN_RET_HDRS : STORE_DSN_RET_DEFAULT,
	};
	int r = store_deliver(c->store, &d, &queued, queue_id, &error);
	if (r == 2) {
		/* the same form again, while the first was being sent */
		log_info("webmail: send user=<%s>: the form was sent already, not again",
			 c->user.address);
		store_body_free(&body);
		page_redirect(c, "/compose?sent=0&again=1");
		return;
	}
	if (r == 3) {
		store_body_free(&body);
		log_warning("webmail: send limit user=<%s>: %s", c->user.address,
			    error != NULL ? error : "reached");
		compose_form_error(cp, 429, "Not sent: you have reached the number of recipients "
					    "you may send to in 24 hours. Try again later, or ask "
					    "the administrator.");
		return;
	}
	if (r <= 0) {
		store_body_free(&body);
		if (r == 0) {
			compose_form_error(cp, 400, arena_printf(c->a, "Not sent: a recipient's mailbox "
							   "is full (%s).", error != NULL ? error
									  : "quota"));
			return;
		}
		log_error("webmail: send user=<%s>: %s", c->user.address,
			  error != NULL ? error : "store error");
		http_header_add(c->resp, c->a, "Retry-After", "5");
		page_error(c, 503, "Your message was not sent: the mail store is busy or "
				   "unavailable. Go back and try again in a moment.");
		return;
	}
	/* Delivered and queued, durably: from here on it is sent. */
	log_info("webmail: sent user=<%s> from=<%s> nrcpt=%zu size=%llu queued=%s", c->user.address,
		 id->address, n, (unsigned long long)store_body_size(body), queued ? queue_id : "-");
	if (queued && relay_kick(c->wm->config->relay_program, c->wm->config->path, queue_id) < 0)
		log_error("webmail: queue=%s: cannot start the relay", queue_id);
	bool copied = false;
	if (cp->have_sent) {
		/* the Sent copy keeps the Bcc field: a second body then */
		r = 1;
		if (cp->lbcc.count > 0) {
			struct store_body_writer *w;
			struct body_sink sink = { 0 };
			r = -1;
			if (message_fill(cp, &m, msgid, true, false) &&
			    store_body_create(c->store, &w, &error) >= 0) {
				sink.writer = w;
				if (msgbuild_write(&m, sink_write, &sink, &error) == 1)
					r = store_body_finish(&sink.writer, &copy, &error);
				else
					store_body_abort(&sink.writer);
			}
		}
		if (r == 1)
			r = store_msg_append(c->store, cp->sent.id, copy != NULL ? copy : body,
					     STORE_FLAG_SEEN, NULL, 0, c->now,
					     ctx_utc_offset(c, c->now) / 60, NULL, 0, &sent_uid, &error);
		copied = r == 1;
		if (!copied)
			log_error("webmail: sent copy user=<%s>: %s", c->user.address,
				  error != NULL ? error : "refused");
	}
	store_body_free(&copy);
	store_body_free(&body);
	original_mark(cp);
	if (cp->draft != 0 && cp->have_drafts &&
	    store_msg_expunge(c->store, cp->drafts.id, &cp->draft, 1, &error) < 0)
		log_error("webmail: remove the sent draft: %s", error);
	if (store_contacts_collect(c->store, c->user.id, rcpts, names, n, &error) < 0)
		log_error("webmail: collect recipients: %s", error);
	page_redirect(c, arena_printf(c->a, "/compose?sent=%u%s%s", sent_uid,
				      queued ? "&queued=1" : "", copied ? "" : "&nocopy=1"));
}

/* ---------------------------------------------------------------- drafts */

void compose_save(struct compose *cp)
{
	struct ctx *c = cp->c;
	char msgid[MSGBUILD_MSGID_SIZE];
	struct store_body *body;
	struct msgbuild m;
	const char *error;
	uint32_t uid;

	if (!cp->have_drafts) {
		page_error(c, 409, "You have no Drafts folder, so the draft cannot be saved.");
		return;
	}
	if (msgbuild_message_id(c->wm->config->hostname, (time_t)c->now, msgid) < 0) {
		page_error(c, 500, "The draft could not be given an id.");
		return;
	}
	if (!message_fill(cp, &m, msgid, true, true)) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	if (body_make(cp, &m, &body) <= 0)
		return;
	int r = store_msg_append(c->store, cp->drafts.id, body, STORE_FLAG_DRAFT | STORE_FLAG_SEEN,
				 NULL, 0, c->now, ctx_utc_offset(c, c->now) / 60, NULL, 0, &uid, &error);
	store_body_free(&body);
	if (r == 0) {
		compose_form_error(cp, 413, "Your mailbox is full, so the draft could not be saved. "
					    "Delete some mail and try again.");
		return;
	}
	if (r < 0) {
		page_store_error(c, "save draft", error);
		return;
	}
	/* the new version is safe: the old one goes */
	if (cp->draft != 0 && store_msg_expunge(c->store, cp->drafts.id, &cp->draft, 1, &error) < 0)
		log_error("webmail: replace draft: %s", error);
	page_redirect(c, arena_printf(c->a, "/compose?draft=%u&saved=1", uid));
}

void compose_free(struct compose *cp)
{
	for (size_t i = 0; i < cp->natt; i++)
		if (cp->att[i].owned)
			free(cp->att[i].data);
	cp->natt = 0;
	free(cp->ids);
	cp->ids = NULL;
}
