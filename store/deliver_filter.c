/* Delivery's filter step: each local recipient's active Sieve script
 * (sieve.h; kept by sieve_store.h) decides which of the user's mailboxes
 * get the message, with which flags, and where it is redirected. The
 * scripts run before the write transaction, on the header block (and, for
 * a body test, the message's first octets); the transaction files the
 * copies (deliver.c). Mail quarantined as junk runs no filter: a rule must
 * not file a forgery out of Junk, nor forward it. */
#include <stdio.h>
#include <stdlib.h>

#include "body.h"
#include "deliver_int.h"
#include "log.h"
#include "mailbox.h"
#include "message.h"
#include "sieve_store.h"

/* What a script sees of the header: as much as vacation replies read. */
#define FILTER_HEADER_MAX (64 * 1024)

/* What the filters read of the body being delivered, once for every
 * recipient: the header block for each script, the message's first octets
 * only for a script that gets to a body test (most have none, and delivery
 * speed matters). */
struct filter_input {
	struct body_header header;  /* FILTER_HEADER_MAX */
	struct body_header message; /* SIEVE_MESSAGE_MAX */
};

/* The sieve_message's ctx. */
struct filter_ctx {
	struct store *store;
	uint32_t user_id;
	const struct store_body *body;
	struct filter_input *in;
};

static bool mailbox_exists(void *ctx, const char *name)
{
	const struct filter_ctx *f = ctx;
	struct store_mailbox mb;
	const char *error;
	return store_mailbox_find(f->store, f->user_id, name, &mb, &error) == 1;
}

/* sieve_message's message_load: a message the header read holds whole
 * needs no second read. */
static int message_load(void *ctx, const char **data_r, size_t *len_r)
{
	struct filter_ctx *f = ctx;
	struct body_header *h = &f->in->header;
	if (h->loaded && !h->failed && h->len == f->body->size) {
		*data_r = h->data;
		*len_r = h->len;
		return 0;
	}
	if (!f->in->message.loaded)
		body_header_load(f->store, f->body, SIEVE_MESSAGE_MAX, &f->in->message);
	if (f->in->message.failed)
		return -1;   /* logged */
	*data_r = f->in->message.data;
	*len_r = f->in->message.len;
	return 0;
}

/* The header block's length: up to its blank line (the read may hold body
 * lines after it). */
static size_t header_end(const struct body_header *h)
{
	for (size_t i = 0; i + 1 < h->len; i++) {
		if (h->data[i] != '\n')
			continue;
		if (h->data[i + 1] == '\n' || (h->data[i + 1] == '\r' && i + 2 < h->len &&
					       h->data[i + 2] == '\n'))
			return i + 1;
	}
	return h->len;
}

/* One line a filtered delivery: where the copies went, for the user's
 * "where is my mail?" question. */
static void log_result(const struct local_rcpt *l, const char *script)
{
	const struct sieve_result *r = &l->result;
	char out[768], safe[256];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->ncopies && n < sizeof(out); i++) {
		log_safe(safe, sizeof(safe), r->copies[i].mailbox, strlen(r->copies[i].mailbox));
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%sfileinto=\"%s\"", n ? " " : "",
				      safe);
	}
	for (size_t i = 0; i < r->nredirects && n < sizeof(out); i++) {
		log_safe(safe, sizeof(safe), r->redirects[i], strlen(r->redirects[i]));
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%sredirect=<%s>", n ? " " : "",
				      safe);
	}
	if (r->reject != NULL && n < sizeof(out)) {
		log_safe(safe, sizeof(safe), r->reject, strlen(r->reject));
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s=\"%s\"", n ? " " : "",
				      r->ereject ? "ereject" : "reject", safe);
	}
	log_safe(safe, sizeof(safe), script, strlen(script));
	log_info("filter: user=<%s> script=\"%s\" %s", l->target.address, safe,
		 n == 0 ? "discard" : out);
}

/* A redirect's address, expanded as a recipient is: local users get a copy
 * in their INBOX (and run no filter), others go to the queue. */
static int add_redirect(struct store *store, struct deliver_ctx *c, size_t from,
			const char *address, const char **error_r)
{
	struct store_rcpt_target targets[STORE_ALIAS_TARGETS_MAX];
	size_t n;
	char safe[STORE_ADDRESS_MAX * 4 + 8];
	enum store_resolve_result res = store_resolve(store, address, targets,
						      STORE_ALIAS_TARGETS_MAX, &n, error_r);
	if (res == STORE_RESOLVE_ERROR)
		return -1;
	if (res == STORE_RESOLVE_NOT_LOCAL)
		return deliver_add_remote(c, address, true, NULL, error_r) < 0 ? -1 : 1;
	if (res != STORE_RESOLVE_OK) {
		log_safe(safe, sizeof(safe), address, strlen(address));
		log_warning("filter: user=<%s> redirect to <%s>: no such user here",
			    c->local[from].target.address, safe);
		return 1;
	}
	for (size_t j = 0; j < n; j++) {
		int r = targets[j].kind == STORE_RCPT_LOCAL
			? deliver_add_local(c, &targets[j], address, error_r)
			: deliver_add_remote(c, targets[j].address, true, NULL, error_r);
		if (r < 0)
			return -1;
	}
	return 1;
}

/* Runs local recipient i's filter, if it has one: 1, or -1 (the script
 * could not be read). */
static int filter_one(struct store *store, struct deliver_ctx *c, size_t i,
		      struct filter_input *in, const char **error_r)
{
	struct body_header *h = &in->header;
	struct local_rcpt *l = &c->local[i];
	char name[STORE_SIEVE_NAME_MAX + 1], error[SIEVE_ERROR_MAX];
	char *text = NULL;
	size_t len;
	int r = store_sieve_get_active(store, l->target.user_id, name, &text, &len, error_r);
	if (r <= 0)
		return r < 0 ? -1 : 1;
	struct sieve_script *script = sieve_compile(text, len, error);
	free(text);
	if (script == NULL) {
		log_warning("filter: user=<%s> script \"%s\" does not compile: %s: kept in INBOX",
			    l->target.address, name, error);
		return 1;
	}
	if (!h->loaded)
		body_header_load(store, c->d->body, FILTER_HEADER_MAX, h);
	if (h->failed) {
		sieve_script_free(script);
		return 1;   /* logged: the copy goes to INBOX */
	}
	struct filter_ctx f = { store, l->target.user_id, c->d->body, in };
	const struct sieve_message msg = {
		.header = h->data, .header_len = header_end(h), .size = c->d->body->size,
		.envelope_from = c->d->sender != NULL ? c->d->sender : "",
		.envelope_to = l->rcpt,
		.subaddress_separators = store->config->recipient_delimiter,
		.mailbox_exists = mailbox_exists, .message_load = message_load, .ctx = &f,
	};
	if (sieve_run(script, &msg, &l->result) < 0)
		log_warning("filter: user=<%s> script \"%s\" failed: %s: kept in INBOX",
			    l->target.address, name, l->result.error);
	sieve_script_free(script);
	l->filtered = true;
	log_result(l, name);
	/* c->local may move as redirect targets are added: by index */
	for (size_t k = 0; k < c->local[i].result.nredirects; k++)
		if (add_redirect(store, c, i, c->local[i].result.redirects[k], error_r) < 0)
			return -1;
	return 1;
}

int deliver_filter(struct store *store, struct deliver_ctx *c, const char **error_r)
{
	struct filter_input in = { 0 };
	int r = 1;
	if (c->d->junk)
		return 1;
	/* the targets of redirects are added past the recipients as it goes,
	 * and run no filter */
	size_t n = c->nlocal;
	for (size_t i = 0; i < n && r == 1; i++)
		r = filter_one(store, c, i, &in, error_r);
	body_header_free(&in.header);
	body_header_free(&in.message);
	return r;
}

int deliver_filter_mailbox_txn(struct store *store, DB_TXN *txn, const struct local_rcpt *l,
			       const struct sieve_copy *copy, uint32_t *id_r)
{
	uint32_t user = l->target.user_id;
	int r = mailbox_id_txn(store, txn, user, copy->mailbox, id_r);
	if (r != 0)
		return r;
	/* INBOX first: the user is still there (and the lock order is the
	 * one every delivery takes) */
	uint32_t inbox;
	if ((r = mailbox_inbox_id_txn(store, txn, user, &inbox)) <= 0)
		return r < 0 ? r : store_err(store, "%s has no INBOX", l->target.address);
	if (copy->create) {
		r = mailbox_create_txn(store, txn, user, copy->mailbox, 0, id_r);
		if (r == 1) {
			r = mailbox_info_subscribe_txn(store, txn, *id_r, true);
			return r < 0 ? r : 1;
		}
		if (r < 0 && r != STORE_TXN_REFUSE)
			return r;
	}
	/* RFC 5228 4.1: a mailbox that is not there is the implicit keep */
	*id_r = inbox;
	return 1;
}

int deliver_filter_keywords_txn(struct store *store, DB_TXN *txn, uint32_t mailbox_id,
				const struct sieve_copy *copy, uint64_t *mask_r)
{
	*mask_r = 0;
	for (size_t k = 0; k < copy->nkeywords; k++) {
		uint64_t one;
		const char *name = copy->keywords[k];
		int r = keyword_mask_txn(store, txn, mailbox_id, &name, 1, true, &one);
		if (r < 0 && r != STORE_TXN_REFUSE)
			return r;
		if (r == 1)
			*mask_r |= one;
	}
	return 1;
}
