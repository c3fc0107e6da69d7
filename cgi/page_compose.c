/* The compose page: a new message, a reply (to the sender or to all), a
 * forward (inline with the attachments, or as an attachment), a draft
 * continued; and what its buttons do: send, save the draft, discard it.
 *
 *   GET  /compose                    a new message (?to=, ?subject= prefill)
 *   GET  /compose?mode=reply|all|forward|attach|edit&mb=M&uid=U
 *   GET  /compose?draft=U            a draft continued (U in Drafts)
 *   GET  /compose?sent=U             the page after a send (U in Sent, or 0)
 *   POST /compose  op=send|save|discard  (multipart/form-data: attachments)
 *
 * Every value is checked here before anything is written: line breaks in
 * one-line fields, the identity, each address (addrlist.h), the number of
 * recipients, the attachments chosen; an error shows the form again with
 * what was typed and nothing changed. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose.h"
#include "log.h"

static const char *const mode_names[] = { "new", "reply", "all", "forward", "attach", "edit" };

enum msgbuild_priority compose_priority_parse(const char *value)
{
	if (value != NULL && strcmp(value, "high") == 0)
		return MSGBUILD_PRIORITY_HIGH;
	if (value != NULL && strcmp(value, "low") == 0)
		return MSGBUILD_PRIORITY_LOW;
	return MSGBUILD_PRIORITY_NORMAL;
}

const char *compose_priority_name(enum msgbuild_priority priority)
{
	return priority == MSGBUILD_PRIORITY_HIGH ? "high"
	       : priority == MSGBUILD_PRIORITY_LOW ? "low" : "normal";
}

static enum compose_mode mode_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (enum compose_mode)i;
	return COMPOSE_NEW;
}

/* Identities and the special folders. 0, or -1 (answered). */
static int compose_init(struct ctx *c, struct compose *cp)
{
	const char *error;
	*cp = (struct compose){ .c = c, .to = "", .cc = "", .bcc = "", .subject = "", .text = "" };
	if (store_random(cp->token, sizeof(cp->token), &error) < 0) {
		page_error(c, 500, "No random numbers for the form.");
		return -1;
	}
	if (store_identities_get(c->store, c->user.id, &cp->ids, &cp->nids, &error) < 0) {
		page_store_error(c, "identities", error);
		return -1;
	}
	if (cp->nids == 0) {
		page_error(c, 500, "Your account has no address to send from.");
		return -1;
	}
	int r = ctx_special_mailbox(c, STORE_SPECIAL_DRAFTS, &cp->drafts);
	if (r < 0)
		return -1;
	cp->have_drafts = r == 1;
	r = ctx_special_mailbox(c, STORE_SPECIAL_SENT, &cp->sent);
	if (r < 0)
		return -1;
	cp->have_sent = r == 1;
	return 0;
}

/* ---------------------------------------------------------------- render */

static bool kept(const struct compose *cp, const char *value)
{
	if (cp->keep_all)
		return true;
	for (size_t i = 0; i < cp->nkeep; i++)
		if (strcmp(cp->keep[i], value) == 0)
			return true;
	return false;
}

/* The attachments the form offers to keep: the draft's, or the original's
 * when forwarding or editing. 0, or -1 (answered). */
static int attachments_fill(struct compose *cp)
{
	struct ctx *c = cp->c;
	struct compose_source_part *parts = NULL;
	size_t n = 0;
	const char *error;
	char src = 0;
	int r = 1;
	tpl_list(c->data, "attachments");
	if (cp->draft != 0 && cp->have_drafts) {
		src = 'd';
		r = compose_source_parts(cp, cp->drafts.id, cp->draft, false, &parts, &n, &error);
	} else if (cp->ouid != 0 && (cp->mode == COMPOSE_FORWARD || cp->mode == COMPOSE_EDIT ||
				     cp->mode == COMPOSE_FORWARD_ATTACH)) {
		src = 'o';
		r = compose_source_parts(cp, cp->omb, cp->ouid, cp->mode == COMPOSE_FORWARD_ATTACH,
					 &parts, &n, &error);
	}
	if (r < 0) {
		page_store_error(c, "attachments", error);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *value = parts[i].index == COMPOSE_WHOLE
				    ? arena_printf(c->a, "%c:m", src)
				    : arena_printf(c->a, "%c:%u", src, parts[i].index);
		struct tpl_obj *it = tpl_item(c->data, "attachments");
		tpl_str(it, "value", value);
		tpl_str(it, "name", parts[i].name);
		tpl_str(it, "size", fmt_size(c, parts[i].size));
		tpl_bool(it, "message", parts[i].message);
		tpl_bool(it, "checked", kept(cp, value));
	}
	return 0;
}

static const char *title_for(const struct compose *cp)
{
	if (cp->draft != 0)
		return "Draft";
	switch (cp->mode) {
	case COMPOSE_REPLY:
		return "Reply";
	case COMPOSE_REPLY_ALL:
		return "Reply to all";
	case COMPOSE_FORWARD:
	case COMPOSE_FORWARD_ATTACH:
		return "Forward";
	default:
		return "New message";
	}
}

static void compose_render(struct compose *cp, const char *error, const char *notice)
{
	struct ctx *c = cp->c;
	struct tpl_obj *d = c->data;
	if (attachments_fill(cp) < 0 || ctx_folders(c, 0) < 0 || ctx_contacts_datalist(c) < 0)
		return;
	if (error != NULL)
		tpl_str(d, "error", error);
	if (notice != NULL)
		tpl_str(d, "notice", notice);
	tpl_str(d, "mode", mode_names[cp->mode]);
	if (cp->ouid != 0) {
		tpl_int(d, "omb", cp->omb);
		tpl_int(d, "ouid", cp->ouid);
	}
	if (cp->draft != 0)
		tpl_int(d, "draft", cp->draft);
	char token[2 * STORE_SEND_TOKEN_LEN + 1];
	hex_encode(cp->token, sizeof(cp->token), token);
	tpl_str(d, "send_token", token);
	tpl_list(d, "identities");
	for (size_t i = 0; i < cp->nids; i++) {
		struct tpl_obj *it = tpl_item(d, "identities");
		const struct store_identity *id = &cp->ids[i];
		tpl_str(it, "address", id->address);
		tpl_str(it, "label", id->name[0] != '\0'
			? arena_printf(c->a, "%s <%s>", id->name, id->address) : id->address);
		tpl_bool(it, "selected", i == cp->id);
	}
	/* A new account has no display name, and mail from a bare address
	 * reads as impersonal (or as spam): say where to set one. */
	if (cp->id < cp->nids && cp->ids[cp->id].name[0] == '\0')
		tpl_str(d, "unnamed_href", arena_printf(c->a, "%s/settings#identity%zu", c->wm->base,
							cp->id));
	tpl_str(d, "to", cp->to);
	tpl_str(d, "cc", cp->cc);
	tpl_str(d, "bcc", cp->bcc);
	tpl_bool(d, "show_copies", *cp->cc != '\0' || *cp->bcc != '\0');
	tpl_str(d, "subject", cp->subject);
	tpl_str(d, "body", cp->text);
	tpl_bool(d, "receipt", cp->receipt);
	tpl_bool(d, "dsn", cp->dsn);
	static const char *const labels[] = { "High", "Normal", "Low" };
	static const enum msgbuild_priority values[] = {
		MSGBUILD_PRIORITY_HIGH, MSGBUILD_PRIORITY_NORMAL, MSGBUILD_PRIORITY_LOW,
	};
	tpl_list(d, "priorities");
	for (size_t i = 0; i < 3; i++) {
		struct tpl_obj *it = tpl_item(d, "priorities");
		tpl_str(it, "value", compose_priority_name(values[i]));
		tpl_str(it, "label", labels[i]);
		tpl_bool(it, "selected", cp->priority == values[i]);
	}
	tpl_list(d, "uploads");
	for (size_t i = 0; i < cp->nuploads; i++)
		tpl_str(tpl_item(d, "uploads"), "name", cp->uploads[i]);
	tpl_str(d, "max_size", fmt_size(c, c->wm->config->max_message_size / 4 * 3));
	tpl_int(d, "max_recipients", COMPOSE_RECIPIENTS_MAX);
	page_render(c, "compose", title_for(cp));
}

void compose_form_error(struct compose *cp, int status, const char *error)
{
	cp->c->resp->status = status;
	cp->c->data = tpl_obj_new(cp->c->a);
	compose_render(cp, error, NULL);
}

/* ---------------------------------------------------------------- kept */

/* The draft and the original a kept message names, while they are the
 * user's and still there; else it goes on as a new message (a store
 * error reads as gone: the text matters more than the thread). */
static void kept_sources(struct compose *cp)
{
	struct ctx *c = cp->c;
	struct store_msg msg;
	const char *error;
	if (cp->draft != 0 && (!cp->have_drafts ||
			       store_msg_get(c->store, cp->drafts.id, cp->draft, &msg, &error) != 1))
		cp->draft = 0;
	if (cp->ouid != 0 && (store_mailbox_get(c->store, cp->omb, &cp->orig_mb, &error) != 1 ||
			      cp->orig_mb.user_id != c->user.id ||
			      store_msg_get(c->store, cp->omb, cp->ouid, &msg, &error) != 1))
		cp->omb = cp->ouid = 0;
	if (cp->ouid == 0)
		cp->mode = COMPOSE_NEW;
}

void compose_kept_show(struct ctx *c, const struct compose_kept *k, int status,
		       const char *error, const char *notice)
{
	struct compose cp;
	c->data = tpl_obj_new(c->a);
	if (compose_init(c, &cp) < 0)
		return;
	cp.mode = mode_parse(k->mode);
	cp.draft = k->draft;
	if (cp.mode != COMPOSE_NEW) {
		cp.omb = k->omb;
		cp.ouid = k->ouid;
	}
	kept_sources(&cp);
	cp.to = k->to;
	cp.cc = k->cc;
	cp.bcc = k->bcc;
	cp.subject = k->subject;
	cp.text = k->text;
	cp.receipt = k->receipt;
	cp.dsn = k->dsn;
	cp.priority = k->priority;
	cp.id = compose_identity_find(&cp, k->from);
	if (cp.id == cp.nids)
		cp.id = 0;
	cp.keep = k->keep;
	cp.nkeep = k->nkeep;
	cp.uploads = k->uploads;
	cp.nuploads = k->nuploads;
	c->resp->status = status;
	compose_render(&cp, error, notice);
	compose_free(&cp);
}

/* ---------------------------------------------------------------- GET */

static void sent_page(struct ctx *c)
{
	struct store_mailbox sent, inbox;
	uint32_t uid = ctx_query_uint(c, "sent", 0);
	int r = ctx_special_mailbox(c, STORE_SPECIAL_SENT, &sent);
	if (r < 0)
		return;
	if (r == 1 && uid != 0)
		tpl_str(c->data, "sent_href",
			arena_printf(c->a, "%s/msg?mb=%u&uid=%u", c->wm->base, sent.id, uid));
	const char *error;
	if (store_mailbox_find(c->store, c->user.id, "INBOX", &inbox, &error) == 1)
		tpl_int(c->data, "inbox", inbox.id);
	tpl_bool(c->data, "queued", ctx_query(c, "queued") != NULL);
	tpl_bool(c->data, "again", ctx_query(c, "again") != NULL);
	tpl_bool(c->data, "nocopy", ctx_query(c, "nocopy") != NULL);
	if (ctx_folders(c, 0) < 0)
		return;
	page_render(c, "sent", "Message sent");
}

static void compose_get(struct ctx *c)
{
	struct compose cp;
	if (compose_init(c, &cp) < 0)
		return;
	cp.mode = mode_parse(ctx_query(c, "mode"));
	cp.draft = ctx_query_uint(c, "draft", 0);
	cp.keep_all = true;
	if (cp.draft == 0 && cp.mode != COMPOSE_NEW) {
		cp.omb = ctx_query_uint(c, "mb", 0);
		cp.ouid = ctx_query_uint(c, "uid", 0);
		if (cp.ouid == 0) {
			page_error(c, 404, "There is no such message.");
			goto out;
		}
		if (ctx_mailbox(c, cp.omb, &cp.orig_mb) <= 0)
			goto out;
		if (cp.mode == COMPOSE_EDIT && cp.have_drafts && cp.omb == cp.drafts.id) {
			/* editing a draft is continuing it */
			cp.draft = cp.ouid;
			cp.mode = COMPOSE_NEW;
			cp.omb = cp.ouid = 0;
		}
	} else {
		cp.mode = COMPOSE_NEW;
	}
	if (compose_prefill(&cp) <= 0)
		goto out;
	const char *notice = ctx_query(c, "saved") != NULL
			     ? arena_printf(c->a, "Draft saved at %s.", fmt_date_short(c, c->now))
			     : NULL;
	compose_render(&cp, NULL, notice);
out:
	compose_free(&cp);
}

/* ---------------------------------------------------------------- POST */

static void keep_cb(const char *value, void *ctx)
{
	struct compose *cp = ctx;
	if (cp->nkeep < COMPOSE_ATTACHMENTS_MAX && !kept(cp, value))
		cp->keep[cp->nkeep++] = value;   /* each part once */
}

/* The form's attachment choices and the names of the files uploaded
 * with it (before any check, so that an error can list them). */
static bool choices_read(struct compose *cp)
{
	struct ctx *c = cp->c;
	const struct form *f = &c->req->body;
	cp->keep = arena_alloc(c->a, COMPOSE_ATTACHMENTS_MAX * sizeof(*cp->keep));
	cp->uploads = arena_alloc(c->a, f->count * sizeof(*cp->uploads) + 1);
	cp->att = arena_alloc(c->a, COMPOSE_ATTACHMENTS_MAX * sizeof(*cp->att));
	if (cp->keep == NULL || cp->uploads == NULL || cp->att == NULL) {
		page_error(c, 500, "Out of memory.");
		return false;
	}
	form_each(f, "keep", keep_cb, cp);
	for (size_t i = 0; i < f->count; i++) {
		const struct form_field *ff = &f->fields[i];
		if (strcmp(ff->name, "attach") != 0 || ff->filename == NULL ||
		    (ff->filename[0] == '\0' && ff->value_len == 0))
			continue;       /* a file input left empty */
		cp->uploads[cp->nuploads++] = ff->filename[0] != '\0' ? ff->filename : "(no name)";
	}
	return true;
}

/* Loads the attachments kept and uploaded. 1, or 0/-1 answered. */
static int attachments_load(struct compose *cp)
{
	struct ctx *c = cp->c;
	const struct form *f = &c->req->body;
	const char *error;
	/* the uploads and each part loaded count against the message size
	 * before the next part is read, so memory stays within one message */
	uint64_t total = 0;
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->fields[i].name, "attach") == 0 && f->fields[i].filename != NULL)
			total += f->fields[i].value_len;
	for (size_t i = 0; i < cp->nkeep; i++) {
		/* "d:N" a part of the draft, "o:N" of the original, "o:m" the
		 * original itself (forward as attachment); nothing else was
		 * offered */
		const char *v = cp->keep[i];
		uint32_t index = 0, mb = 0, uid = 0;
		bool whole = false;
		if (v[0] == 'd' && v[1] == ':' && cp->draft != 0) {
			mb = cp->drafts.id;
			uid = cp->draft;
		} else if (v[0] == 'o' && v[1] == ':' && cp->ouid != 0 &&
			   (cp->mode == COMPOSE_FORWARD || cp->mode == COMPOSE_EDIT ||
			    cp->mode == COMPOSE_FORWARD_ATTACH)) {
			mb = cp->omb;
			uid = cp->ouid;
			whole = cp->mode == COMPOSE_FORWARD_ATTACH;
		}
		if (uid == 0 || (whole && strcmp(v + 2, "m") != 0) ||
		    (!whole && !uint_parse(v + 2, &index))) {
			compose_form_error(cp, 400, "An attachment choice is not valid.");
			return 0;
		}
		int r = compose_source_load(cp, mb, uid, whole ? COMPOSE_WHOLE : index, &error);
		if (r < 0) {
			page_store_error(c, "attachment", error);
			return -1;
		}
		if (r == 0) {
			bool big = strcmp(error, "too large") == 0;
			compose_form_error(cp, big ? 413 : 409, big
					   ? "An attachment is larger than a message may be."
					   : "An attachment you chose to keep is no longer there: its "
					     "message was moved or deleted.");
			return 0;
		}
		total += cp->att[cp->natt - 1].len;
		if (total / 3 * 4 > c->wm->config->max_message_size) {
			compose_form_error(cp, 413, compose_too_big_text(cp));
			return 0;
		}
	}
	for (size_t i = 0; i < f->count; i++) {
		const struct form_field *ff = &f->fields[i];
		if (strcmp(ff->name, "attach") != 0 || ff->filename == NULL ||
		    (ff->filename[0] == '\0' && ff->value_len == 0))
			continue;
		if (cp->natt >= COMPOSE_ATTACHMENTS_MAX) {
			compose_form_error(cp, 413, "Too many attachments.");
			return 0;
		}
		cp->att[cp->natt++] = (struct compose_att){
			.filename = ff->filename, .type = ff->content_type,
			.data = (char *)ff->value, .len = ff->value_len,
		};
	}
	return 1;
}

/* A one-line field: a line break in it is an attempt to add header
 * fields (or a broken client): refused, never cleaned up. */
static bool one_line(struct compose *cp, const char *value, const char *label)
{
	if (value == NULL || strpbrk(value, "\r\n") == NULL)
		return true;
	compose_form_error(cp, 400, arena_printf(cp->c->a, "The %s field contains a line break, "
							 "which is not allowed there. Nothing "
							 "was sent.", label));
	return false;
}

static bool list_parse(struct compose *cp, const char *value, const char *label,
		       struct addrlist *l)
{
	const char *error;
	int r = addrlist_parse(cp->c->a, value, strlen(value), COMPOSE_RECIPIENTS_MAX, l, &error);
	if (r == 1)
		return true;
	if (r < 0)
		page_error(cp->c, 500, "Out of memory.");
	else
		compose_form_error(cp, 400, arena_printf(cp->c->a, "%s: %s", label, error));
	return false;
}

/* The values typed. true, or false answered. */
static bool fields_read(struct compose *cp)
{
	struct ctx *c = cp->c;
	const char *from = ctx_form(c, "from");
	const char *v;
	cp->to = (v = ctx_form(c, "to")) != NULL ? v : "";
	cp->cc = (v = ctx_form(c, "cc")) != NULL ? v : "";
	cp->bcc = (v = ctx_form(c, "bcc")) != NULL ? v : "";
	cp->subject = (v = ctx_form(c, "subject")) != NULL ? v : "";
	cp->text = (v = ctx_form(c, "body")) != NULL ? v : "";
	cp->receipt = ctx_form(c, "receipt") != NULL;
	cp->dsn = ctx_form(c, "dsn") != NULL;
	cp->priority = compose_priority_parse(ctx_form(c, "priority"));
	cp->id = compose_identity_find(cp, from);
	if (cp->id == cp->nids)
		cp->id = 0;        /* shown again with the first one */
	if (!one_line(cp, from, "From") || !one_line(cp, cp->to, "To") ||
	    !one_line(cp, cp->cc, "Cc") || !one_line(cp, cp->bcc, "Bcc") ||
	    !one_line(cp, cp->subject, "Subject"))
		return false;
	if (from == NULL || compose_identity_find(cp, from) == cp->nids) {
		compose_form_error(cp, 403, "You can only send from your own address or one of its "
					    "aliases. Nothing was sent.");
		return false;
	}
	if (strlen(cp->subject) > MSGBUILD_SUBJECT_MAX) {
		compose_form_error(cp, 400, "The subject is too long.");
		return false;
	}
	if (strlen(cp->text) > COMPOSE_TEXT_MAX) {
		compose_form_error(cp, 413, "The text is too long.");
		return false;
	}
	if (!list_parse(cp, cp->to, "To", &cp->lto) || !list_parse(cp, cp->cc, "Cc", &cp->lcc) ||
	    !list_parse(cp, cp->bcc, "Bcc", &cp->lbcc))
		return false;
	size_t total = cp->lto.count + cp->lcc.count + cp->lbcc.count;
	if (total > COMPOSE_RECIPIENTS_MAX) {
		compose_form_error(cp, 400, arena_printf(c->a, "Too many recipients: %zu. A message "
							 "can have at most %d in To, Cc and Bcc "
							 "together.", total,
							 COMPOSE_RECIPIENTS_MAX));
		return false;
	}
	return true;
}

/* The original and the draft named by the form must be the user's and
 * still there. true, or false answered. */
static bool sources_check(struct compose *cp)
{
	struct ctx *c = cp->c;
	struct store_msg msg;
	const char *error;
	if (cp->draft != 0) {
		int r = cp->have_drafts ? store_msg_get(c->store, cp->drafts.id, cp->draft, &msg,
							&error) : 0;
		if (r < 0) {
			page_store_error(c, "draft", error);
			return false;
		}
		if (r == 0) {
			page_error(c, 409, "This draft no longer exists: it was sent or deleted, "
					   "perhaps in another window. Nothing was sent.");
			return false;
		}
	}
	if (cp->ouid == 0)
		return true;
	if (ctx_mailbox(c, cp->omb, &cp->orig_mb) <= 0)
		return false;
	int r = store_msg_get(c->store, cp->omb, cp->ouid, &msg, &error);
	if (r < 0) {
		page_store_error(c, "original", error);
		return false;
	}
	if (r == 0 && cp->draft == 0) {
		page_error(c, 404, "The message you are answering or forwarding no longer exists. "
				   "Nothing was sent.");
		return false;
	}
	if (r == 0)
		cp->ouid = cp->omb = 0;   /* the draft carries its threading */
	return true;
}

static void compose_post(struct ctx *c)
{
	struct compose cp;
	const char *error;
	if (compose_init(c, &cp) < 0)
		return;
	const char *op = ctx_form(c, "op");
	cp.mode = mode_parse(ctx_form(c, "mode"));
	cp.draft = ctx_form_uint(c, "draft", 0);
	if (cp.mode != COMPOSE_NEW) {
		cp.omb = ctx_form_uint(c, "omb", 0);
		cp.ouid = ctx_form_uint(c, "ouid", 0);
	}
	if (cp.ouid == 0)
		cp.mode = COMPOSE_NEW;
	const char *token = ctx_form(c, "send_token");
	uint8_t posted[STORE_SEND_TOKEN_LEN];
	if (token != NULL && hex_decode(token, posted, sizeof(posted))) {
		memcpy(cp.token, posted, sizeof(posted));
		cp.token_posted = true;
	}
	if (cp.token_posted && store_session_sent(&c->session, cp.token) &&
	    (op == NULL || (strcmp(op, "save") != 0 && strcmp(op, "discard") != 0))) {
		/* this form was sent (its draft and original may be gone since):
		 * not again; the delivery checks the same under its lock */
		page_redirect(c, "/compose?sent=0&again=1");
		goto out;
	}
	if (!choices_read(&cp) || !sources_check(&cp))
		goto out;
	if (op != NULL && strcmp(op, "discard") == 0) {
		if (cp.draft != 0 && store_msg_expunge(c->store, cp.drafts.id, &cp.draft, 1,
						       &error) < 0) {
			page_store_error(c, "discard draft", error);
			goto out;
		}
		page_redirect(c, cp.draft != 0 ? arena_printf(c->a, "/list?mb=%u", cp.drafts.id)
					       : "/list");
		goto out;
	}
	if (!fields_read(&cp) || attachments_load(&cp) <= 0)
		goto out;
	compose_threading(&cp);
	if (op != NULL && strcmp(op, "save") == 0)
		compose_save(&cp);
	else
		compose_send(&cp);
out:
	compose_free(&cp);
}

void page_compose(struct ctx *c)
{
	if (c->req->method == HTTP_POST)
		compose_post(c);
	else if (ctx_query(c, "sent") != NULL)
		sent_page(c);
	else
		compose_get(c);
}
