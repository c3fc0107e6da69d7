/* Reading originals and drafts for the compose page (compose.h): who a
 * reply goes to, the quoted text, the forward block, the attachments a
 * forward or a draft keeps, the threading fields, the identity a reply is
 * sent from. Everything read here is decoded text put into template values
 * or into a message written by msgbuild, never copied raw. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose.h"
#include "datetime.h"
#include "flowed.h"
#include "log.h"
#include "sanitize.h"

/* Addresses taken over from an original's header into a reply. */
#define LOAD_ADDRESSES_MAX 200
/* Bytes of an original's text quoted or forwarded in the form, counting
 * each line as 3 bytes more (the "> " and the CR a browser sends): half
 * of what the form may send back, so that the answer still fits. */
#define LOAD_TEXT_MAX (COMPOSE_TEXT_MAX / 2)

/* ---------------------------------------------------------------- parts */

/* true if p lies inside an encapsulated message (the message node itself
 * included): such parts travel with their message/rfc822 part. */
static bool inside_message(const struct mime_part *p, const struct mime_part *root)
{
	for (const struct mime_part *a = p; a != NULL && a != root; a = a->parent)
		if (mime_part_is_message(a))
			return true;
	return false;
}

static bool is_attachment_disp(const struct mime_part *p)
{
	return p->disposition != NULL && strcmp(p->disposition, "attachment") == 0;
}

/* The first body part of this subtype: a leaf that is not an attachment,
 * outside attached messages. */
static const struct mime_part *body_part(const struct msgview *v, const char *subtype)
{
	for (uint32_t i = 0; i < v->mime->nparts; i++) {
		const struct mime_part *p = v->mime->parts[i];
		if (p->nchildren == 0 && !mime_part_is_multipart(p) && part_is(p, "text", subtype) &&
		    !is_attachment_disp(p) && !inside_message(p, v->mime->root))
			return p;
	}
	return NULL;
}

/* The text a reply quotes and a draft continues: the first text/plain
 * body part. */
static const struct mime_part *main_text(const struct msgview *v)
{
	return body_part(v, "plain");
}

/* Parts the message view lists as attachments: encapsulated messages,
 * parts marked attachment, and leaves that are not body text. A message
 * without a plain text part (HTML only) keeps its HTML as an attachment,
 * so that a forward does not lose it. */
static bool is_attachment(const struct msgview *v, const struct mime_part *p,
			  const struct mime_part *text)
{
	if (p == text || inside_message(p, v->mime->root))
		return false;
	if (mime_part_message(p) != NULL)
		return true;
	if (p->nchildren > 0 || mime_part_is_multipart(p))
		return false;
	if (is_attachment_disp(p))
		return true;
	return !part_is(p, "text", "plain") && !(part_is(p, "text", "html") && text != NULL);
}

static const char *part_name(struct ctx *c, const struct msgview *v, const struct mime_part *p)
{
	const char *name = mime_part_filename(p);
	const struct mime_part *inner = mime_part_message(p);
	if (name != NULL && *name != '\0')
		return arena_strdup(c->a, name);   /* the tree goes with the view */
	if (inner != NULL && inner->envelope != NULL && inner->envelope->subject != NULL)
		return arena_printf(c->a, "%s.eml", header_decode(c->a, inner->envelope->subject));
	if (inner != NULL)
		return "message.eml";
	return msgview_part_fallback_name(c->a, v, p);
}

static const char *subject_of(struct ctx *c, const struct msgview *v)
{
	const struct mime_envelope *env = v->mime->root->envelope;
	return env != NULL ? header_decode(c->a, env->subject) : "";
}

int compose_source_parts(struct compose *cp, uint32_t mailbox_id, uint32_t uid, bool whole,
			 struct compose_source_part **list_r, size_t *n_r, const char **error_r)
{
	struct ctx *c = cp->c;
	struct msgview v;
	*list_r = NULL;
	*n_r = 0;
	int r = msgview_open(c->store, mailbox_id, uid, &v, error_r);
	if (r <= 0)
		return r;
	struct compose_source_part *list =
		arena_alloc(c->a, (whole ? 1 : v.mime->nparts) * sizeof(*list));
	if (list == NULL) {
		msgview_close(&v);
		*error_r = "out of memory";
		return -1;
	}
	if (whole) {
		const char *subject = subject_of(c, &v);
		list[0] = (struct compose_source_part){
			.index = COMPOSE_WHOLE, .message = true,
			.size = v.msg.size - v.prefix_len,
			.name = arena_printf(c->a, "%s.eml", *subject != '\0' ? subject : "message"),
		};
		*n_r = 1;
	} else {
		const struct mime_part *text = main_text(&v);
		for (uint32_t i = 0; i < v.mime->nparts && *n_r < COMPOSE_ATTACHMENTS_MAX; i++) {
			const struct mime_part *p = v.mime->parts[i];
			if (!is_attachment(&v, p, text))
				continue;
			list[(*n_r)++] = (struct compose_source_part){
				.index = i, .name = part_name(c, &v, p),
				.size = msgview_part_size(p), .message = mime_part_message(p) != NULL,
			};
		}
	}
	msgview_close(&v);
	*list_r = list;
	return 1;
}

/* The whole message as received (without our per-copy prefix). */
static int read_whole(struct msgview *v, uint64_t max, char **data_r, size_t *len_r,
		      const char **error_r)
{
	uint64_t size = store_msg_reader_size(v->reader) - v->prefix_len;
	if (size > max) {
		*error_r = "too large";
		return 0;
	}
	char *data = malloc((size_t)size + 1);
	size_t got = 0;
	if (data == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	while (got < size) {
		ssize_t n = store_msg_read(v->reader, v->prefix_len + got, data + got,
					   (size_t)size - got);
		if (n <= 0) {
			free(data);
			*error_r = "cannot read the message";
			return -1;
		}
		got += (size_t)n;
	}
	*data_r = data;
	*len_r = got;
	return 1;
}

static int att_add(struct compose *cp, const struct compose_att *att, const char **error_r)
{
	if (cp->natt >= COMPOSE_ATTACHMENTS_MAX) {
		*error_r = "too many attachments";
		return 0;
	}
	if (cp->att == NULL) {
		cp->att = arena_alloc(cp->c->a, COMPOSE_ATTACHMENTS_MAX * sizeof(*cp->att));
		if (cp->att == NULL) {
			*error_r = "out of memory";
			return -1;
		}
	}
	cp->att[cp->natt++] = *att;
	return 1;
}

int compose_source_load(struct compose *cp, uint32_t mailbox_id, uint32_t uid, uint32_t index,
			const char **error_r)
{
	struct ctx *c = cp->c;
	struct msgview v;
	struct compose_att att = { .owned = true };
	uint64_t max = c->wm->config->max_message_size;
	int r = msgview_open(c->store, mailbox_id, uid, &v, error_r);
	if (r <= 0)
		return r;
	if (index == COMPOSE_WHOLE) {
		const char *subject = subject_of(c, &v);
		att.filename = arena_printf(c->a, "%s.eml", *subject != '\0' ? subject : "message");
		att.message = true;
		r = read_whole(&v, max, &att.data, &att.len, error_r);
	} else {
		const struct mime_part *p = msgview_part(&v, index);
		bool truncated;
		if (p == NULL || !is_attachment(&v, p, main_text(&v))) {
			msgview_close(&v);
			*error_r = "no such attachment";
			return 0;
		}
		att.filename = part_name(c, &v, p);
		att.message = mime_part_message(p) != NULL;
		att.type = arena_printf(c->a, "%s/%s", p->type, p->subtype);
		att.charset = arena_strdup(c->a, mime_params_get(&p->params, "charset"));
		r = msgview_part_decode(&v, p, max, false, &att.data, &att.len, &truncated, error_r);
		if (r == 1 && truncated) {
			free(att.data);
			*error_r = "too large";
			r = 0;
		}
	}
	msgview_close(&v);
	if (r <= 0)
		return r;
	r = att_add(cp, &att, error_r);
	if (r <= 0)
		free(att.data);
	return r;
}

/* ---------------------------------------------------------------- headers */

/* The first field `name` of the top header (the per-copy prefix
 * included), unfolded, or NULL. */
static const char *header_field(struct ctx *c, struct msgview *v, const char *name)
{
	const char *h = msgview_header_text(v, v->mime->root, c->a);
	struct mime_header_field f;
	size_t pos = 0, n = strlen(name);
	if (h == NULL)
		return NULL;
	while (mime_header_next(h, strlen(h), &pos, &f) == 1) {
		if (f.name_len != n || strncasecmp(f.name, name, n) != 0)
			continue;
		char *out = arena_alloc(c->a, f.value_len + 1);
		size_t o = 0;
		if (out == NULL)
			return NULL;
		for (size_t i = 0; i < f.value_len; i++)
			out[o++] = f.value[i] == '\r' || f.value[i] == '\n' || f.value[i] == '\t'
				   ? ' ' : f.value[i];
		out[o] = '\0';
		return out;
	}
	return NULL;
}

/* Every "<id>" token of a header value that is a valid message id. */
static size_t msgids(const char *s, const char **ids, size_t max, struct arena *a)
{
	size_t n = 0;
	while (s != NULL && (s = strchr(s, '<')) != NULL && n < max) {
		const char *e = strchr(s, '>');
		if (e == NULL)
			break;
		if (msgbuild_msgid_valid(s, (size_t)(e - s + 1)))
			ids[n++] = arena_strndup(a, s, (size_t)(e - s + 1));
		s = e + 1;
	}
	return n;
}

/* Threading from one message: its Message-ID becomes In-Reply-To and
 * ends References (RFC 5322 3.6.4), or, for a draft, its own fields. */
static void thread_from(struct compose *cp, struct msgview *v, bool draft)
{
	struct ctx *c = cp->c;
	const struct mime_envelope *env = v->mime->root->envelope;
	const char *ids[256];
	const char *own[1];
	size_t n = msgids(header_field(c, v, "References"), ids, 255, c->a);
	if (n == 0 && env != NULL && msgids(env->in_reply_to, own, 1, c->a) == 1 && !draft)
		ids[n++] = own[0];    /* no References: the parent's In-Reply-To */
	if (draft) {
		if (env != NULL && msgids(env->in_reply_to, own, 1, c->a) == 1)
			cp->in_reply_to = own[0];
	} else if (env != NULL && msgids(env->message_id, own, 1, c->a) == 1) {
		cp->in_reply_to = own[0];
		ids[n++] = own[0];
	}
	if (n == 0)
		return;
	/* keep the first and the latest ones */
	struct buf b;
	buf_init(&b, 64 * 1024);
	size_t skip = n > MSGBUILD_REFERENCES_MAX ? n - MSGBUILD_REFERENCES_MAX : 0;
	for (size_t i = 0; i < n; i++) {
		if (i >= 1 && i <= skip)
			continue;
		if (b.len > 0)
			buf_putc(&b, ' ');
		buf_puts(&b, ids[i]);
	}
	if (!b.failed)
		cp->references = arena_strdup(c->a, b.data);
	buf_free(&b);
}

void compose_threading(struct compose *cp)
{
	struct ctx *c = cp->c;
	struct msgview v;
	const char *error;
	cp->in_reply_to = cp->references = NULL;
	if (cp->ouid != 0 && cp->mode != COMPOSE_NEW && cp->mode != COMPOSE_EDIT &&
	    msgview_open(c->store, cp->omb, cp->ouid, &v, &error) == 1) {
		thread_from(cp, &v, false);
		msgview_close(&v);
		return;
	}
	if (cp->draft != 0 && cp->have_drafts &&
	    msgview_open(c->store, cp->drafts.id, cp->draft, &v, &error) == 1) {
		thread_from(cp, &v, true);
		msgview_close(&v);
	}
}

size_t compose_identity_find(const struct compose *cp, const char *address)
{
	for (size_t i = 0; address != NULL && i < cp->nids; i++)
		if (strcasecmp(cp->ids[i].address, address) == 0)
			return i;
	return cp->nids;
}

/* ---------------------------------------------------------------- addresses */

/* One address as a person would type it: "Name <a@b>", the name quoted
 * when it holds characters that separate addresses. */
static void addr_typed(struct buf *b, const char *name, const char *addr)
{
	if (b->len > 0)
		buf_puts(b, ", ");
	if (name == NULL || *name == '\0') {
		buf_puts(b, addr);
		return;
	}
	if (strpbrk(name, ",;<>\"()@:[]\\") != NULL) {
		buf_putc(b, '"');
		for (const char *s = name; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				buf_putc(b, '\\');
			buf_putc(b, *s);
		}
		buf_putc(b, '"');
	} else {
		buf_puts(b, name);
	}
	buf_printf(b, " <%s>", addr);
}

struct addr_set {
	const char *addrs[3 * LOAD_ADDRESSES_MAX];
	size_t n;
};

static bool set_has(const struct addr_set *s, const char *addr)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(s->addrs[i], addr) == 0)
			return true;
	return false;
}

/* Appends the mailboxes of `list` not in `skip` (and not the user's own
 * when `not_mine`) to b, adding them to `skip`. */
static void addrs_typed(struct compose *cp, struct buf *b, const struct mime_addresses *list,
			struct addr_set *skip, bool not_mine)
{
	for (uint32_t i = 0; i < list->count && i < LOAD_ADDRESSES_MAX; i++) {
		const struct address *a = &list->items[i];
		if (a->host == NULL)
			continue;
		char *spec = address_addr_spec(a);
		if (spec == NULL)
			continue;
		if (!set_has(skip, spec) &&
		    !(not_mine && compose_identity_find(cp, spec) < cp->nids) &&
		    skip->n < sizeof(skip->addrs) / sizeof(skip->addrs[0])) {
			skip->addrs[skip->n++] = arena_strdup(cp->c->a, spec);
			addr_typed(b, a->name != NULL ? header_decode(cp->c->a, a->name) : NULL,
				   spec);
		}
		free(spec);
	}
}

static const char *buf_arena(struct ctx *c, struct buf *b)
{
	const char *s = b->failed || b->data == NULL ? "" : arena_strdup(c->a, b->data);
	buf_free(b);
	return s != NULL ? s : "";
}

/* true if `list` holds an address of identity i. */
static bool list_has(const struct mime_addresses *list, const char *address)
{
	for (uint32_t i = 0; i < list->count && i < LOAD_ADDRESSES_MAX; i++) {
		char *spec = address_addr_spec(&list->items[i]);
		bool same = spec != NULL && strcasecmp(spec, address) == 0;
		free(spec);
		if (same)
			return true;
	}
	return false;
}

/* The identity a reply is sent from: the one that wrote the original (a
 * message of one's own, whichever alias sent it), else the one it was
 * addressed to (To, then Cc, then the Delivered-To our delivery added). */
static size_t reply_identity(struct compose *cp, struct msgview *v)
{
	const struct mime_envelope *env = v->mime->root->envelope;
	for (size_t i = 0; env != NULL && i < cp->nids; i++)
		if (list_has(&env->from, cp->ids[i].address))
			return i;
	for (size_t i = 0; env != NULL && i < cp->nids; i++)
		if (list_has(&env->to, cp->ids[i].address))
			return i;
	for (size_t i = 0; env != NULL && i < cp->nids; i++)
		if (list_has(&env->cc, cp->ids[i].address))
			return i;
	const char *dt = header_field(cp->c, v, "Delivered-To");
	if (dt != NULL) {
		while (*dt == ' ')
			dt++;
		char *end = (char *)dt + strlen(dt);
		while (end > dt && end[-1] == ' ')
			*--end = '\0';
		size_t i = compose_identity_find(cp, dt);
		if (i < cp->nids)
			return i;
	}
	return 0;
}

/* ---------------------------------------------------------------- text */

/* The text an HTML-only message shows, as plain text, or "". */
static const char *html_text_of(struct ctx *c, struct msgview *v)
{
	const struct mime_part *p = body_part(v, "html");
	const char *error;
	char *html;
	size_t len;
	bool cut;
	if (p == NULL)
		return "";
	if (msgview_part_decode(v, p, MSGPART_TEXT_MAX, true, &html, &len, &cut, &error) < 0) {
		log_error("webmail: compose: %s", error);
		return "";
	}
	struct buf b;
	buf_init(&b, 0);
	int r = sanitize_html_text(html, len, &b);
	free(html);
	if (r == SANITIZE_TOO_COMPLEX)
		log_warning("webmail: compose: uid %u: the HTML is too large or too complex to "
			    "quote", v->msg.uid);
	if (r != 0) {
		buf_free(&b);
		return "";
	}
	return buf_arena(c, &b);
}

/* The text of a message for quoting or editing (format=flowed undone): its
 * plain text part, else its HTML as text, else "". */
static const char *text_of(struct ctx *c, struct msgview *v)
{
	const struct mime_part *p = main_text(v);
	const char *error;
	char *text;
	size_t len;
	bool cut;
	if (p == NULL)
		return html_text_of(c, v);
	if (msgview_part_decode(v, p, MSGPART_TEXT_MAX, true, &text, &len, &cut, &error) < 0) {
		log_error("webmail: compose: %s", error);
		return "";
	}
	const char *format = mime_params_get(&p->params, "format");
	const char *delsp = mime_params_get(&p->params, "delsp");
	struct buf b;
	buf_init(&b, 0);
	if (format != NULL && strcasecmp(format, "flowed") == 0)
		flowed_decode(text, len, delsp != NULL && strcasecmp(delsp, "yes") == 0, &b);
	else
		for (size_t i = 0; i < len; i++)
			if (text[i] != '\r')
				buf_putc(&b, text[i]);
	free(text);
	return buf_arena(c, &b);
}

/* The text, cut at a line end (or a character) with a note when it is
 * longer than LOAD_TEXT_MAX: an over-long form could not be sent. */
static const char *text_fit(struct ctx *c, const char *text)
{
	size_t cost = 0, cut = 0, i;
	for (i = 0; text[i] != '\0' && cost <= LOAD_TEXT_MAX; i++) {
		cost += text[i] == '\n' ? 4 : 1;
		if (text[i] == '\n' && cost <= LOAD_TEXT_MAX)
			cut = i + 1;
	}
	if (cost <= LOAD_TEXT_MAX)
		return text;
	if (cut == 0) {
		cut = i - 1;
		while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
			cut--;
	}
	const char *fit = arena_printf(c->a, "%.*s\n[The rest of the text is too long to include "
					     "here.]\n", (int)cut, text);
	return fit != NULL ? fit : "";
}

static void quote_into(struct buf *b, const char *text)
{
	for (const char *s = text; *s != '\0';) {
		size_t n = strcspn(s, "\n");
		if (n == 0)
			buf_putc(b, '>');
		else if (s[0] == '>')
			buf_putc(b, '>');
		else
			buf_puts(b, "> ");
		buf_append(b, s, n);
		buf_putc(b, '\n');
		s += n + (s[n] == '\n');
	}
}

static const char *sent_date(struct ctx *c, struct msgview *v)
{
	const struct mime_envelope *env = v->mime->root->envelope;
	time_t t = 0;
	int tz;
	if (env == NULL || env->date == NULL || !datetime_parse(env->date, strlen(env->date), &t, &tz))
		t = (time_t)v->msg.internaldate;
	return fmt_date_long(c, (int64_t)t);
}

static const char *who(struct ctx *c, const struct mime_addresses *list)
{
	for (uint32_t i = 0; i < list->count; i++) {
		const struct address *a = &list->items[i];
		if (a->host == NULL)
			continue;
		if (a->name != NULL && *header_decode(c->a, a->name) != '\0')
			return header_decode(c->a, a->name);
		char *spec = address_addr_spec(a);
		const char *s = spec != NULL ? arena_strdup(c->a, spec) : "";
		free(spec);
		return s;
	}
	return "(unknown)";
}

static void signature_into(struct compose *cp, struct buf *b)
{
	const char *sig = cp->ids[cp->id].signature;
	if (*sig == '\0')
		return;
	/* a signature saved with its own separator (as other webmails
	 * wanted it typed) does not get a second one */
	buf_puts(b, strncmp(sig, "-- \n", 4) == 0 ? "\n\n" : "\n\n-- \n");
	for (; *sig != '\0'; sig++)
		if (*sig != '\r')
			buf_putc(b, *sig);
	buf_putc(b, '\n');
}

static bool has_prefix(const char *s, const char *const *prefixes)
{
	while (*s == ' ')
		s++;
	for (size_t i = 0; prefixes[i] != NULL; i++)
		if (strncasecmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static void forward_block(struct ctx *c, struct buf *b, struct msgview *v)
{
	const struct mime_envelope *env = v->mime->root->envelope;
	struct buf list;
	buf_puts(b, "\n---------- Forwarded message ----------\n");
	static const struct { const char *label; size_t off; } fields[] = {
		{ "From", offsetof(struct mime_envelope, from) },
		{ "To", offsetof(struct mime_envelope, to) },
		{ "Cc", offsetof(struct mime_envelope, cc) },
	};
	for (size_t i = 0; env != NULL && i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct mime_addresses *l =
			(const struct mime_addresses *)((const char *)env + fields[i].off);
		buf_init(&list, 0);
		for (uint32_t k = 0; k < l->count && k < LOAD_ADDRESSES_MAX; k++) {
			char *spec = address_addr_spec(&l->items[k]);
			if (spec != NULL)
				addr_typed(&list, l->items[k].name != NULL
					   ? header_decode(c->a, l->items[k].name) : NULL, spec);
			free(spec);
		}
		if (list.len > 0)
			buf_printf(b, "%s: %s\n", fields[i].label, list.data);
		buf_free(&list);
		if (i == 0)
			buf_printf(b, "Date: %s\nSubject: %s\n", sent_date(c, v), subject_of(c, v));
	}
	buf_putc(b, '\n');
	buf_puts(b, text_fit(c, text_of(c, v)));
}

/* ---------------------------------------------------------------- prefill */

static int prefill_original(struct compose *cp, struct msgview *v)
{
	static const char *const re[] = { "re:", NULL };
	static const char *const fwd[] = { "fwd:", "fw:", NULL };
	struct ctx *c = cp->c;
	const struct mime_envelope *env = v->mime->root->envelope;
	struct mime_envelope empty = { 0 };
	struct buf to, cc, text;
	struct addr_set *seen = arena_alloc(c->a, sizeof(*seen));
	if (seen == NULL)
		return -1;
	if (env == NULL)
		env = &empty;
	const char *subject = subject_of(c, v);
	buf_init(&to, 0);
	buf_init(&cc, 0);
	buf_init(&text, 0);
	if (cp->mode == COMPOSE_REPLY || cp->mode == COMPOSE_REPLY_ALL) {
		cp->id = reply_identity(cp, v);
		bool mine = env->from.count > 0 && env->from.items[0].host != NULL &&
			    list_has(&env->from, cp->ids[cp->id].address);
		/* a reply to one's own message goes to its recipients */
		const struct mime_addresses *dest = mine ? &env->to
						  : env->reply_to.count > 0 ? &env->reply_to
						  : &env->from;
		addrs_typed(cp, &to, dest, seen, false);
		if (cp->mode == COMPOSE_REPLY_ALL) {
			if (!mine)
				addrs_typed(cp, &cc, &env->to, seen, true);
			addrs_typed(cp, &cc, &env->cc, seen, true);
		}
		cp->subject = has_prefix(subject, re) ? subject
			      : arena_printf(c->a, "Re: %s", subject);
		signature_into(cp, &text);
		if (text.len == 0)
			buf_putc(&text, '\n');   /* a blank line between answer and quote */
		const char *orig = text_fit(c, text_of(c, v));
		if (*orig != '\0') {
			buf_printf(&text, "\nOn %s, %s wrote:\n", sent_date(c, v),
				   who(c, &env->from));
			quote_into(&text, orig);
		}
	} else {
		cp->id = reply_identity(cp, v);
		cp->subject = has_prefix(subject, fwd) ? subject
			      : arena_printf(c->a, "Fwd: %s", subject);
		signature_into(cp, &text);
		if (text.len == 0)
			buf_putc(&text, '\n');
		if (cp->mode == COMPOSE_FORWARD)
			forward_block(c, &text, v);
	}
	cp->to = buf_arena(c, &to);
	cp->cc = buf_arena(c, &cc);
	cp->text = buf_arena(c, &text);
	return 1;
}

/* A draft reopened, or any message edited as a new one: its values. */
static int prefill_copy(struct compose *cp, struct msgview *v)
{
	struct ctx *c = cp->c;
	const struct mime_envelope *env = v->mime->root->envelope;
	struct buf to, cc, bcc;
	struct addr_set *seen = arena_alloc(c->a, sizeof(*seen));
	if (seen == NULL)
		return -1;
	buf_init(&to, 0);
	buf_init(&cc, 0);
	buf_init(&bcc, 0);
	if (env != NULL) {
		addrs_typed(cp, &to, &env->to, seen, false);
		seen->n = 0;
		addrs_typed(cp, &cc, &env->cc, seen, false);
		seen->n = 0;
		addrs_typed(cp, &bcc, &env->bcc, seen, false);
		for (uint32_t i = 0; i < env->from.count; i++) {
			char *spec = address_addr_spec(&env->from.items[i]);
			size_t k = compose_identity_find(cp, spec);
			free(spec);
			if (k < cp->nids) {
				cp->id = k;
				break;
			}
		}
	}
	cp->to = buf_arena(c, &to);
	cp->cc = buf_arena(c, &cc);
	cp->bcc = buf_arena(c, &bcc);
	cp->subject = subject_of(c, v);
	cp->text = text_of(c, v);
	return 1;
}

/* "reply 3 17": the mode and original a draft was written for. */
static void origin_parse(struct compose *cp, const char *origin)
{
	static const struct { const char *name; enum compose_mode mode; } modes[] = {
		{ "reply", COMPOSE_REPLY }, { "all", COMPOSE_REPLY_ALL },
		{ "forward", COMPOSE_FORWARD }, { "attach", COMPOSE_FORWARD_ATTACH },
	};
	char name[16];
	unsigned mb, uid;
	if (origin == NULL || sscanf(origin, " %15s %u %u", name, &mb, &uid) != 3)
		return;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(name, modes[i].name) == 0) {
			cp->mode = modes[i].mode;
			cp->omb = mb;
			cp->ouid = uid;
		}
	}
}

/* The options a draft was saved with: a return receipt asked for, the
 * priority, the delivery status notifications (our own field). */
static void options_parse(struct compose *cp, struct msgview *v)
{
	const char *priority = header_field(cp->c, v, "X-Priority");
	const char *dsn = header_field(cp->c, v, "X-Pillarbox-DSN");
	cp->receipt = header_field(cp->c, v, "Disposition-Notification-To") != NULL;
	while (dsn != NULL && *dsn == ' ')
		dsn++;
	cp->dsn = dsn != NULL && strncmp(dsn, "yes", 3) == 0;
	while (priority != NULL && *priority == ' ')
		priority++;
	if (priority != NULL && (*priority == '1' || *priority == '2'))
		cp->priority = MSGBUILD_PRIORITY_HIGH;
	else if (priority != NULL && (*priority == '4' || *priority == '5'))
		cp->priority = MSGBUILD_PRIORITY_LOW;
}

int compose_prefill(struct compose *cp)
{
	struct ctx *c = cp->c;
	struct msgview v;
	const char *error;
	struct buf text;
	cp->to = cp->cc = cp->bcc = cp->subject = "";
	if (cp->draft != 0) {
		int r = cp->have_drafts ? msgview_open(c->store, cp->drafts.id, cp->draft, &v, &error)
					: 0;
		if (r < 0) {
			page_store_error(c, "draft", error);
			return -1;
		}
		if (r == 0) {
			page_error(c, 404, "This draft no longer exists. It may have been sent or "
					   "deleted.");
			return 0;
		}
		r = prefill_copy(cp, &v);
		origin_parse(cp, header_field(c, &v, "X-Pillarbox-Origin"));
		options_parse(cp, &v);
		msgview_close(&v);
		return r < 0 ? (page_error(c, 500, "Out of memory."), -1) : 1;
	}
	if (cp->ouid == 0) {
		const char *to = ctx_query(c, "to"), *subject = ctx_query(c, "subject");
		/* a mailto: link's values go into the fields, checked on send */
		cp->to = to != NULL ? to : "";
		cp->subject = subject != NULL ? subject : "";
		buf_init(&text, 0);
		signature_into(cp, &text);
		cp->text = buf_arena(c, &text);
		return 1;
	}
	int r = msgview_open(c->store, cp->omb, cp->ouid, &v, &error);
	if (r < 0) {
		page_store_error(c, "original", error);
		return -1;
	}
	if (r == 0) {
		page_error(c, 404, "The message you are answering or forwarding no longer exists. "
				   "It may have been moved or deleted.");
		return 0;
	}
	r = cp->mode == COMPOSE_EDIT ? prefill_copy(cp, &v) : prefill_original(cp, &v);
	msgview_close(&v);
	if (r < 0) {
		page_error(c, 500, "Out of memory.");
		return -1;
	}
	return 1;
}
