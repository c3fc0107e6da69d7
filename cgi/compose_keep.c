/* A message being written survives the end of its session (compose.h).
 *
 * A compose POST (Send, Save draft) whose session is over (expired, or
 * signed out in another window) or whose CSRF token is stale (signed in
 * again in another window) does not lose what was typed:
 *   - without a session of the message's user, the sign-in page carries
 *     the fields as hidden inputs; once that user has signed in, the
 *     compose page is shown filled with them (page_login.c);
 *   - with a session of that user but a stale token, the compose page is
 *     shown again at once.
 * Neither sends nor saves: that takes a new POST with the new session's
 * token, made by the user. Files sent with the lost POST are not kept (a
 * file input cannot be filled again): their names are listed.
 *
 * Who may have a message kept. The fields are whatever the POST carried,
 * and a hostile page can POST to /compose from another site (the
 * SameSite=Strict cookie stays home, so the request looks signed out):
 * kept, its text would open in the victim's own compose page after the
 * next sign-in, ready to go out under their name. So a POST is kept only
 * when the browser says one of our own pages sent it (Sec-Fetch-Site:
 * same-origin; ctx_same_origin says why Origin and Referer cannot tell),
 * and so are the sign-in form's hidden copies (a foreign POST to /login,
 * refused for its sign-in token, would otherwise show them). A token
 * signed by the server and bound to the old session was weighed: the
 * store keeps no server secret to sign with, and the session record it
 * would name is deleted when the session expires or is signed out. A
 * browser that does not send Sec-Fetch-Site loses the text as before.
 * The owner field (the address of the compose page's user) binds the
 * message to its author: another user who signs in never sees it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose.h"
#include "log.h"

/* Bytes kept of one address field: as many addresses as a message may
 * have, each with a display name as long as the longest address. */
#define KEPT_ADDRESSES_MAX ((size_t)COMPOSE_RECIPIENTS_MAX * 2 * (STORE_ADDRESS_MAX + 8))
/* Bytes of an attachment choice ("o:4294967295"). */
#define KEPT_CHOICE_MAX 12

static const char *field(struct ctx *c, const char *prefix, const char *name)
{
	const char *full = arena_printf(c->a, "%s%s", prefix, name);
	return full != NULL ? ctx_form(c, full) : NULL;
}

/* The length of s cut to at most max bytes, at a character boundary and
 * never between the CR and LF of a line break. */
static size_t cut_length(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	if (n > 0 && s[n - 1] == '\r' && s[n] == '\n')
		n--;
	return n;
}

/* v within max bytes: line breaks made spaces (one_line) or CRLF, as a
 * browser sends them back from a textarea (so that the text still fits
 * when the sign-in form posts it). "" for NULL; NULL out of memory. */
static const char *kept_value(struct ctx *c, struct compose_kept *k, const char *v, size_t max,
			      bool one_line)
{
	struct buf b;
	if (v == NULL || *v == '\0')
		return "";
	buf_init(&b, 0);
	for (const char *s = v; *s != '\0' && b.len <= max; s++) {
		if (*s != '\r' && *s != '\n') {
			buf_putc(&b, *s);
			continue;
		}
		if (*s == '\r' && s[1] == '\n')
			s++;
		buf_puts(&b, one_line ? " " : "\r\n");
	}
	if (b.failed) {
		buf_free(&b);
		return NULL;
	}
	size_t n = cut_length(b.data, b.len, max);
	if (n < b.len)
		k->cut = true;
	const char *r = arena_strndup(c->a, b.data, n);
	buf_free(&b);
	return r;
}

/* "d:N", "o:N" or "o:m": what the compose form offers to keep. */
static bool choice_valid(const char *v)
{
	uint32_t n;
	if (strlen(v) > KEPT_CHOICE_MAX || (v[0] != 'd' && v[0] != 'o') || v[1] != ':')
		return false;
	return strcmp(v + 2, "m") == 0 || uint_parse(v + 2, &n);
}

struct kept_list {
	struct ctx *c;
	struct compose_kept *k;
	bool uploads;           /* a list of names, else of choices */
	bool oom;
};

static void list_add(struct kept_list *l, const char *value)
{
	struct compose_kept *k = l->k;
	if (!l->uploads) {
		if (choice_valid(value) && k->nkeep < COMPOSE_ATTACHMENTS_MAX)
			k->keep[k->nkeep++] = value;
		return;
	}
	if (*value == '\0' || k->nuploads == COMPOSE_KEPT_UPLOADS_MAX)
		return;
	const char *name = kept_value(l->c, k, value, COMPOSE_KEPT_NAME_MAX, true);
	if (name == NULL)
		l->oom = true;
	else
		k->uploads[k->nuploads++] = name;
}

static void list_cb(const char *value, void *ctx)
{
	list_add(ctx, value);
}

/* The attachment choices and the names of the files uploaded (the compose
 * form's file fields, or the sign-in form's list of names). */
static bool lists_read(struct ctx *c, const char *prefix, struct compose_kept *k)
{
	const struct form *f = &c->req->body;
	struct kept_list l = { .c = c, .k = k };
	k->keep = arena_alloc(c->a, COMPOSE_ATTACHMENTS_MAX * sizeof(*k->keep));
	k->uploads = arena_alloc(c->a, COMPOSE_KEPT_UPLOADS_MAX * sizeof(*k->uploads));
	const char *keep = arena_printf(c->a, "%skeep", prefix);
	const char *upload = arena_printf(c->a, "%supload", prefix);
	if (k->keep == NULL || k->uploads == NULL || keep == NULL || upload == NULL)
		return false;
	form_each(f, keep, list_cb, &l);
	l.uploads = true;
	if (*prefix != '\0') {
		form_each(f, upload, list_cb, &l);
		return !l.oom;
	}
	for (size_t i = 0; i < f->count; i++) {
		const struct form_field *ff = &f->fields[i];
		if (strcmp(ff->name, "attach") != 0 || ff->filename == NULL ||
		    (ff->filename[0] == '\0' && ff->value_len == 0))
			continue;       /* a file input left empty */
		list_add(&l, ff->filename[0] != '\0' ? ff->filename : "(no name)");
	}
	return !l.oom;
}

int compose_kept_read(struct ctx *c, const char *prefix, struct compose_kept *k_r)
{
	struct compose_kept *k = k_r;
	uint32_t n;
	*k = (struct compose_kept){ 0 };
	const char *owner = field(c, prefix, "owner");
	if (owner == NULL || *owner == '\0' || strlen(owner) > STORE_ADDRESS_MAX ||
	    strpbrk(owner, "\r\n") != NULL)
		return 0;
	k->owner = owner;
	k->from = kept_value(c, k, field(c, prefix, "from"), STORE_ADDRESS_MAX, true);
	k->to = kept_value(c, k, field(c, prefix, "to"), KEPT_ADDRESSES_MAX, true);
	k->cc = kept_value(c, k, field(c, prefix, "cc"), KEPT_ADDRESSES_MAX, true);
	k->bcc = kept_value(c, k, field(c, prefix, "bcc"), KEPT_ADDRESSES_MAX, true);
	k->subject = kept_value(c, k, field(c, prefix, "subject"), MSGBUILD_SUBJECT_MAX, true);
	k->text = kept_value(c, k, field(c, prefix, "body"), COMPOSE_TEXT_MAX, false);
	k->mode = kept_value(c, k, field(c, prefix, "mode"), 16, true);
	k->omb = uint_parse(field(c, prefix, "omb"), &n) ? n : 0;
	k->ouid = uint_parse(field(c, prefix, "ouid"), &n) ? n : 0;
	k->draft = uint_parse(field(c, prefix, "draft"), &n) ? n : 0;
	k->receipt = field(c, prefix, "receipt") != NULL;
	k->dsn = field(c, prefix, "dsn") != NULL;
	k->priority = compose_priority_parse(field(c, prefix, "priority"));
	if (k->from == NULL || k->to == NULL || k->cc == NULL || k->bcc == NULL ||
	    k->subject == NULL || k->text == NULL || k->mode == NULL || !lists_read(c, prefix, k))
		return -1;
	return 1;
}

static void hidden(struct ctx *c, const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	struct tpl_obj *it = tpl_item(c->data, "kept");
	tpl_str(it, "name", name);
	tpl_str(it, "value", value);
}

static void hidden_uint(struct ctx *c, const char *name, uint32_t value)
{
	if (value != 0)
		hidden(c, name, arena_printf(c->a, "%u", value));
}

void compose_kept_fields(struct ctx *c, const struct compose_kept *k)
{
	tpl_list(c->data, "kept");
	hidden(c, "k_owner", k->owner);
	hidden(c, "k_from", k->from);
	hidden(c, "k_to", k->to);
	hidden(c, "k_cc", k->cc);
	hidden(c, "k_bcc", k->bcc);
	hidden(c, "k_subject", k->subject);
	hidden(c, "k_body", k->text);
	hidden(c, "k_mode", k->mode);
	hidden_uint(c, "k_omb", k->omb);
	hidden_uint(c, "k_ouid", k->ouid);
	hidden_uint(c, "k_draft", k->draft);
	hidden(c, "k_receipt", k->receipt ? "1" : NULL);
	hidden(c, "k_dsn", k->dsn ? "1" : NULL);
	if (k->priority != MSGBUILD_PRIORITY_NORMAL)
		hidden(c, "k_priority", compose_priority_name(k->priority));
	for (size_t i = 0; i < k->nkeep; i++)
		hidden(c, "k_keep", k->keep[i]);
	for (size_t i = 0; i < k->nuploads; i++)
		hidden(c, "k_upload", k->uploads[i]);
}

const char *compose_kept_notice(struct ctx *c, const struct compose_kept *k)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "Your session expired. Sign in again to continue; your message has been kept.");
	if (k->cut)
		buf_puts(&b, " Part of it was longer than a message may be and was cut: check it "
			     "before sending.");
	if (k->nuploads > 0) {
		buf_puts(&b, " Attachments must be added again: ");
		for (size_t i = 0; i < k->nuploads; i++)
			buf_printf(&b, "%s%s", i > 0 ? ", " : "", k->uploads[i]);
		buf_putc(&b, '.');
	}
	const char *r = b.failed ? "Your session expired. Sign in again to continue."
				 : arena_strdup(c->a, b.data);
	buf_free(&b);
	return r;
}

bool page_compose_lost(struct ctx *c)
{
	struct compose_kept k;
	const char *op = ctx_form(c, "op");
	char who[STORE_ADDRESS_MAX * 4 + 8];
	/* a discard loses nothing typed (the draft stays where it was) */
	if (op != NULL && strcmp(op, "discard") == 0)
		return false;
	if (compose_kept_read(c, "", &k) <= 0)
		return false;
	log_safe(who, sizeof(who), k.owner, strlen(k.owner));
	if (!ctx_same_origin(c)) {
		log_info("webmail: compose not kept (not from our page: %s) owner=<%s>",
			 c->req->fetch_site != NULL ? "sec-fetch-site" : "no sec-fetch-site", who);
		return false;
	}
	if (c->signed_in && strcasecmp(k.owner, c->user.address) == 0) {
		log_info("webmail: compose kept over a stale form user=<%s>", who);
		compose_kept_show(c, &k, 403, "This form had expired (you signed in again, perhaps in "
					      "another window). Nothing was sent or saved: check your "
					      "message and send it again.", NULL);
		return true;
	}
	log_info("webmail: compose kept for sign-in owner=<%s>", who);
	page_login_kept(c, &k);
	return true;
}
