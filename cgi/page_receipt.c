/* The buttons of a message's receipt notice (receipt.h):
 *
 *   POST /receipt  mb=M uid=U op=send|ignore  (CSRF token checked by app.c)
 *
 * "send" writes a read receipt (an MDN, store/mdn.h: manual-action/MDN-
 * sent-manually; displayed) From the identity the message reached, To the
 * one address it asked for, with the null envelope sender (RFC 8098 2.1:
 * no bounce loops), delivered as the compose page sends (store_deliver,
 * the relay started for a remote address); then sets $MDNSent. "ignore"
 * only sets $MDNSent. Both answer with the message page again. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "identity.h"
#include "log.h"
#include "mdn.h"
#include "msgbuild.h"
#include "msgpart.h"
#include "receipt.h"
#include "program_kick.h"

/* The identity the message reached: the first of the user's addresses in
 * its To or Cc, else the primary address (identities[0]). */
static size_t identity_for(const struct store_identity *ids, size_t n,
			   const struct mime_envelope *env)
{
	const struct mime_addresses *lists[2] = { env != NULL ? &env->to : NULL,
						  env != NULL ? &env->cc : NULL };
	for (size_t l = 0; l < 2; l++) {
		for (uint32_t i = 0; lists[l] != NULL && i < lists[l]->count; i++) {
			char *spec = address_addr_spec(&lists[l]->items[i]);
			for (size_t k = 0; spec != NULL && k < n; k++) {
				if (strcasecmp(spec, ids[k].address) == 0) {
					free(spec);
					return k;
				}
			}
			free(spec);
		}
	}
	return 0;
}

/* Builds and delivers the receipt. 1 sent; 0/-1 answered with an error. */
static int receipt_send(struct ctx *c, struct msgview *v, const char *h,
			const struct receipt_request *req)
{
	struct store_identity *ids = NULL;
	struct store_body *body = NULL;
	size_t nids = 0, len;
	const char *error = NULL;
	char *msg = NULL, queue_id[33] = "";
	uint8_t rnd[12];
	char unique[2 * sizeof(rnd) + 1];
	bool queued = false;
	int ret = -1;

	if (store_identities_get(c->store, c->user.id, &ids, &nids, &error) < 0 ||
	    store_random(rnd, sizeof(rnd), &error) < 0) {
		page_store_error(c, "receipt", error);
		goto out;
	}
	if (nids == 0) {
		page_error(c, 500, "Your account has no address to send from.");
		goto out;
	}
	hex_encode(rnd, sizeof(rnd), unique);
	const struct store_identity *id = &ids[identity_for(ids, nids, v->mime->root->envelope)];
	const struct mdn_input in = {
		.disposition = MDN_DISPLAYED, .hostname = c->wm->config->hostname,
		.from = id->address, .from_name = id->name, .to = req->address,
		.final_rcpt = id->address, .header = h, .header_len = strlen(h), .now = c->now,
		.tz = ctx_utc_offset(c, c->now) / 60, .unique = unique,
	};
	if (mdn_build(&in, &msg, &len) < 0) {
		page_error(c, 500, "Out of memory. No receipt was sent.");
		goto out;
	}
	if (store_body_from_buffer(c->store, msg, len, &body, &error) != 1) {
		page_store_error(c, "receipt body", error);
		goto out;
	}
	char dkim_domain[STORE_DOMAIN_MAX + 1];
	const char *at = strrchr(id->address, '@'), *why = NULL;
	if (at == NULL || store_domain_ascii(at + 1, dkim_domain, &why) != 1)
		dkim_domain[0] = '\0';
	const char *rcpts[1] = { req->address };
	const struct store_delivery d = {
		.sender = "", .recipients = rcpts, .nrecipients = 1, .body = body,
		.internaldate = c->now, .add_prefix = true,
		.dkim_domain = dkim_domain[0] != '\0' ? dkim_domain : NULL,
		.sender_user_id = c->user.id,
	};
	int r = store_deliver(c->store, &d, &queued, queue_id, &error);
	if (r == 3) {
		page_error(c, 429, "No receipt was sent: you have reached the number of recipients "
				   "you may send to in 24 hours. Try again later.");
		goto out;
	}
	if (r != 1) {
		log_error("webmail: receipt user=<%s>: %s", c->user.address,
			  error != NULL ? error : "refused");
		page_error(c, 503, "The receipt was not sent: the mail store is busy or the "
				   "recipient's mailbox is unavailable. Try again in a moment.");
		goto out;
	}
	log_info("webmail: receipt sent user=<%s> from=<%s> to=<%s> queued=%s", c->user.address,
		 id->address, req->address, queued ? queue_id : "-");
	if (queued && relay_kick(c->wm->config->relay_program, c->wm->config->path, queue_id) < 0)
		log_error("webmail: queue=%s: cannot start the relay", queue_id);
	ret = 1;
out:
	store_body_free(&body);
	free(msg);
	free(ids);
	return ret;
}

void page_receipt(struct ctx *c)
{
	struct store_mailbox mb;
	struct receipt_request req;
	struct msgview v;
	const char *error;
	const char *op = ctx_form(c, "op");
	bool send = op != NULL && strcmp(op, "send") == 0;
	if (!send && (op == NULL || strcmp(op, "ignore") != 0)) {
		page_error(c, 400, "This form is not valid: choose Send receipt or Ignore.");
		return;
	}
	uint32_t uid = ctx_form_uint(c, "uid", 0);
	if (ctx_message(c, ctx_form_uint(c, "mb", 0), uid, &mb, &v) <= 0)
		return;
	const char *h = msgview_header_text(&v, v.mime->root, c->a);
	if (!receipt_mailbox_allowed(&mb)) {
		page_error(c, 409, "No receipt is sent for a message in Junk, Trash, Sent or Drafts.");
		goto out;
	}
	int r = h != NULL ? receipt_request_parse(h, strlen(h), &req) : -1;
	if (r != 1) {
		page_error(c, r < 0 ? 500 : 409, r < 0 ? "Out of memory."
					 : "This message does not ask for a receipt.");
		goto out;
	}
	r = receipt_answered(c, &v.msg, &error);
	if (r < 0) {
		page_store_error(c, "keywords", error);
		goto out;
	}
	/* answered already (another window, another client): nothing again */
	static const char *const keyword[] = { RECEIPT_KEYWORD };
	if (r == 0) {
		/* The keyword first: of two posts at once only one sets it, and
		 * only that one sends (RFC 8098 2.1: one MDN at most). */
		int k = store_msg_set_flags(c->store, mb.id, &uid, 1, STORE_FLAGS_ADD, 0, keyword, 1,
					    0, NULL, NULL, NULL, &error);
		if (k < 0) {
			page_store_error(c, "keywords", error);
			goto out;
		}
		if (k == 0 && receipt_answered(c, &v.msg, &error) != 1) {
			page_error(c, 409, "This message cannot be marked as answered (its folder has "
					   "too many keywords), so no receipt is sent.");
			goto out;
		}
		r = k == 0;
		if (k == 1 && send && receipt_send(c, &v, h, &req) != 1) {
			/* not sent (answered with why): the notice comes back */
			if (store_msg_set_flags(c->store, mb.id, &uid, 1, STORE_FLAGS_REMOVE, 0, keyword,
						1, 0, NULL, NULL, NULL, &error) < 0)
				log_error("webmail: receipt: unset %s: %s", RECEIPT_KEYWORD, error);
			goto out;
		}
	}
	page_redirect(c, arena_printf(c->a, "/msg?mb=%u&uid=%u%s", mb.id, uid, r == 1 ? ""
				      : send ? "&receipt=sent" : "&receipt=ignored"));
out:
	msgview_close(&v);
}
