/* The address book: the contacts page (the user's own book and the
 * recipients collected from sent mail, each sorted by name, filtered and
 * paged), the contact form, deletion, "add the sender" from a message,
 * vCard export and import, and the compose page's datalist. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "app.h"
#include "contacts.h"
#include "log.h"
#include "mime.h"
#include "msgpart.h"
#include "vacation.h"
#include "vcard.h"

/* Rows on one page of the contacts list. */
#define CONTACTS_PAGE_SIZE 100
/* Bytes of the filter text looked at. */
#define FILTER_MAX 200
/* The address field of the contact form: 20 addresses and their
 * separators, with room for spaces. */
#define EMAILS_FIELD_MAX (STORE_CONTACT_ADDRS_MAX * (STORE_ADDRESS_MAX + 8))

/* ---------------------------------------------------------------- rows */

struct row {
	uint32_t id;
	bool collected;
	const char *name, *note;
	const char **addrs;
	uint32_t naddrs;
};

struct rows {
	struct arena *a;
	struct row *v;
	size_t n, cap;
	bool oom;
	int want;                  /* -1 every contact, 0 personal, 1 collected */
	const char *q;             /* filter, or NULL */
	size_t personal, collected; /* counted before filtering */
};

/* ASCII case-insensitive substring. */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return true;
	for (; *hay != '\0'; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	}
	return false;
}

static bool row_matches(const struct store_contact *k, const char *q)
{
	if (contains_ci(k->name, q))
		return true;
	for (uint32_t i = 0; i < k->naddrs; i++) {
		if (contains_ci(k->addrs[i], q))
			return true;
	}
	return false;
}

static int rows_cb(const struct store_contact *k, void *ctx)
{
	struct rows *r = ctx;
	bool collected = (k->flags & STORE_CONTACT_COLLECTED) != 0;
	if (collected)
		r->collected++;
	else
		r->personal++;
	if ((r->want >= 0 && collected != (r->want == 1)) || (r->q != NULL && !row_matches(k, r->q)))
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap == 0 ? 64 : r->cap * 2;
		struct row *v = realloc(r->v, cap * sizeof(*v));
		if (v == NULL) {
			r->oom = true;
			return 1;
		}
		r->v = v;
		r->cap = cap;
	}
	struct row *w = &r->v[r->n];
	w->id = k->id;
	w->collected = collected;
	w->name = arena_strdup(r->a, k->name);
	w->note = arena_strdup(r->a, k->note);
	w->addrs = arena_alloc(r->a, k->naddrs * sizeof(*w->addrs));
	w->naddrs = k->naddrs;
	if (w->name == NULL || w->note == NULL || w->addrs == NULL) {
		r->oom = true;
		return 1;
	}
	for (uint32_t i = 0; i < k->naddrs; i++) {
		if ((w->addrs[i] = arena_strdup(r->a, k->addrs[i])) == NULL) {
			r->oom = true;
			return 1;
		}
	}
	r->n++;
	return 0;
}

/* Personal contacts first, then by name (the address when there is none),
 * ASCII case ignored, then by id. */
static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	if (a->collected != b->collected)
		return a->collected ? 1 : -1;
	const char *x = a->name[0] != '\0' ? a->name : a->addrs[0];
	const char *y = b->name[0] != '\0' ? b->name : b->addrs[0];
	int d = strcasecmp(x, y);
	if (d == 0)
		d = strcmp(x, y);
	return d != 0 ? d : a->id < b->id ? -1 : a->id > b->id;
}

/* Loads and sorts the user's contacts. 0, or -1 (the page answered). */
static int rows_load(struct ctx *c, struct rows *r)
{
	const char *error;
	r->a = c->a;
	if (store_contact_list(c->store, c->user.id, rows_cb, r, &error) < 0 && !r->oom) {
		free(r->v);
		r->v = NULL;
		page_store_error(c, "contacts", error);
		return -1;
	}
	if (r->oom) {
		free(r->v);
		r->v = NULL;
		page_error(c, 500, "Out of memory.");
		return -1;
	}
	if (r->n > 0)
		qsort(r->v, r->n, sizeof(*r->v), row_cmp);
	return 0;
}

/* "Name <address>" as a recipient field takes it: the name quoted when it
 * holds anything an address list would read otherwise. */
static const char *mailbox_value(struct arena *a, const char *name, const char *address)
{
	if (name[0] == '\0')
		return address;
	if (strpbrk(name, "()<>[]:;@\\,.\"") == NULL)
		return arena_printf(a, "%s <%s>", name, address);
	struct buf b;
	buf_init(&b, 0);
	buf_putc(&b, '"');
	for (const char *s = name; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *s);
	}
	buf_printf(&b, "\" <%s>", address);
	const char *v = b.failed ? address : arena_strdup(a, b.data);
	buf_free(&b);
	return v;
}

/* ---------------------------------------------------------------- the list */

static const char *import_notice(struct ctx *c)
{
	const char *added = ctx_query(c, "added");
	if (added == NULL)
		return NULL;
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "Import finished: %u added, %u updated, %u already in the book",
		   ctx_query_uint(c, "added", 0), ctx_query_uint(c, "updated", 0),
		   ctx_query_uint(c, "unchanged", 0));
	uint32_t skipped = ctx_query_uint(c, "skipped", 0);
	if (skipped > 0)
		buf_printf(&b, ", %u skipped (no valid email address%s)", skipped,
			   ctx_query(c, "full") != NULL ? ", or the address book is full" : "");
	buf_putc(&b, '.');
	const char *v = b.failed ? NULL : arena_strdup(c->a, b.data);
	buf_free(&b);
	return v;
}

static void contacts_list(struct ctx *c, int status, const char *error)
{
	const char *book = ctx_query(c, "book");
	bool collected = book != NULL && strcmp(book, "collected") == 0;
	const char *q = ctx_query(c, "q");
	if (q != NULL && (q[0] == '\0' || strlen(q) > FILTER_MAX))
		q = q[0] == '\0' ? NULL : arena_strndup(c->a, q, FILTER_MAX);
	struct rows r = { .want = collected ? 1 : 0, .q = q };
	if (rows_load(c, &r) < 0)
		return;
	uint32_t pages = (uint32_t)((r.n + CONTACTS_PAGE_SIZE - 1) / CONTACTS_PAGE_SIZE);
	uint32_t page = ctx_query_uint(c, "page", 0);
	if (pages > 0 && page >= pages)
		page = pages - 1;
	struct tpl_obj *d = c->data;
	tpl_list(d, "contacts");
	for (size_t i = (size_t)page * CONTACTS_PAGE_SIZE;
	     i < r.n && i < (size_t)(page + 1) * CONTACTS_PAGE_SIZE; i++) {
		const struct row *w = &r.v[i];
		struct tpl_obj *it = tpl_item(d, "contacts");
		tpl_int(it, "id", w->id);
		tpl_str(it, "name", w->name);
		tpl_str(it, "note", w->note);
		tpl_list(it, "addresses");
		for (uint32_t k = 0; k < w->naddrs; k++) {
			struct tpl_obj *a = tpl_item(it, "addresses");
			tpl_str(a, "address", w->addrs[k]);
			tpl_str(a, "value", mailbox_value(c->a, w->name, w->addrs[k]));
		}
	}
	free(r.v);
	tpl_bool(d, "collected_book", collected);
	tpl_str(d, "book", collected ? "collected" : "personal");
	tpl_int(d, "shown", (long long)r.n);
	tpl_int(d, "personal_count", (long long)r.personal);
	tpl_int(d, "collected_count", (long long)r.collected);
	tpl_int(d, "total", (long long)(r.personal + r.collected));
	tpl_int(d, "max", STORE_CONTACTS_MAX);
	tpl_bool(d, "full", r.personal + r.collected >= STORE_CONTACTS_MAX);
	if (q != NULL)
		tpl_str(d, "q", q);
	if (pages > 1) {
		tpl_int(d, "page", page + 1);
		tpl_int(d, "pages", pages);
		tpl_bool(d, "has_prev", page > 0);
		tpl_int(d, "prev_page", page > 0 ? page - 1 : 0);
		tpl_bool(d, "has_next", page + 1 < pages);
		tpl_int(d, "next_page", page + 1);
		tpl_bool(d, "paged", true);
	}
	const char *notice = import_notice(c);
	if (notice == NULL && ctx_query(c, "saved") != NULL)
		notice = "The contact was saved.";
	if (notice == NULL && ctx_query(c, "deleted") != NULL)
		notice = ctx_query_uint(c, "deleted", 0) == 1 ? "The contact was deleted."
			 : arena_printf(c->a, "%u contacts were deleted.",
					ctx_query_uint(c, "deleted", 0));
	if (notice != NULL)
		tpl_str(d, "notice", notice);
	if (error != NULL)
		tpl_str(d, "error", error);
	if (ctx_folders(c, 0) < 0)
		return;
	c->resp->status = status;
	page_render(c, "contacts", "Contacts");
}

void page_contacts(struct ctx *c)
{
	contacts_list(c, 200, NULL);
}

/* ---------------------------------------------------------------- the form */

static void edit_render(struct ctx *c, int status, const char *error, uint32_t id,
			const char *name, const char *emails, const char *note, bool collected)
{
	struct tpl_obj *d = c->data;
	if (id != 0)
		tpl_int(d, "id", id);
	tpl_str(d, "name", name);
	tpl_str(d, "emails", emails);
	tpl_str(d, "note", note);
	tpl_bool(d, "collected", collected);
	tpl_int(d, "name_max", STORE_CONTACT_NAME_MAX);
	tpl_int(d, "note_max", STORE_CONTACT_NOTE_MAX);
	tpl_int(d, "addrs_max", STORE_CONTACT_ADDRS_MAX);
	if (error != NULL)
		tpl_str(d, "error", error);
	if (ctx_folders(c, 0) < 0)
		return;
	c->resp->status = status;
	page_render(c, "contacts_edit", id != 0 ? "Edit contact" : "New contact");
}

/* Splits the address field (one a line, or separated by commas,
 * semicolons or spaces; "Name <address>" keeps the address) into k.
 * NULL, or a message for the user. */
static const char *emails_split(struct ctx *c, const char *field, struct store_contact *k)
{
	k->naddrs = 0;
	const char *s = field;
	while (*s != '\0') {
		s += strspn(s, " \t\r\n,;");
		size_t n = strcspn(s, " \t\r\n,;");
		if (n == 0)
			break;
		const char *t = s;
		size_t tn = n;
		if (t[0] == '<' && t[tn - 1] == '>') {
			t++;
			tn -= 2;
		}
		s += n;
		if (t[0] == '<' || t[tn - 1] == '>' || memchr(t, '@', tn) == NULL)
			continue;       /* a display name's words */
		if (tn > STORE_ADDRESS_MAX)
			return arena_printf(c->a, "An address is too long (at most %d characters).",
					    STORE_ADDRESS_MAX);
		if (k->naddrs == STORE_CONTACT_ADDRS_MAX)
			return arena_printf(c->a, "A contact has at most %d addresses.",
					    STORE_CONTACT_ADDRS_MAX);
		memcpy(k->addrs[k->naddrs], t, tn);
		k->addrs[k->naddrs][tn] = '\0';
		k->naddrs++;
	}
	return NULL;
}

static const char *emails_join(struct ctx *c, const struct store_contact *k)
{
	struct buf b;
	buf_init(&b, 0);
	for (uint32_t i = 0; i < k->naddrs; i++)
		buf_printf(&b, "%s%s", i > 0 ? "\n" : "", k->addrs[i]);
	const char *v = b.failed || b.data == NULL ? "" : arena_strdup(c->a, b.data);
	buf_free(&b);
	return v;
}

static void edit_post(struct ctx *c)
{
	const char *error;
	uint32_t id = ctx_form_uint(c, "id", 0);
	const char *name = ctx_form(c, "name"), *emails = ctx_form(c, "emails"),
		   *note = ctx_form(c, "note");
	name = name != NULL ? name : "";
	emails = emails != NULL ? emails : "";
	note = note != NULL ? note : "";
	bool collected = ctx_form(c, "collected") != NULL;
	struct store_contact *k = arena_alloc(c->a, sizeof(*k));
	if (k == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	const char *problem = NULL;
	if (strlen(name) > STORE_CONTACT_NAME_MAX)
		problem = arena_printf(c->a, "The name is too long (at most %d bytes).",
				       STORE_CONTACT_NAME_MAX);
	else if (strlen(note) > STORE_CONTACT_NOTE_MAX)
		problem = arena_printf(c->a, "The note is too long (at most %d bytes).",
				       STORE_CONTACT_NOTE_MAX);
	else if (strlen(emails) > EMAILS_FIELD_MAX)
		problem = arena_printf(c->a, "A contact has at most %d addresses.",
				       STORE_CONTACT_ADDRS_MAX);
	else
		problem = emails_split(c, emails, k);
	if (problem != NULL) {
		edit_render(c, 422, problem, id, name, emails, note, collected);
		return;
	}
	memcpy(k->name, name, strlen(name) + 1);
	memcpy(k->note, note, strlen(note) + 1);
	/* saving by hand makes a collected contact part of the book */
	k->flags = 0;
	k->id = id;
	int r = id != 0 ? store_contact_update(c->store, c->user.id, k, &error)
			: store_contact_add(c->store, c->user.id, k, NULL, &error);
	if (r < 0) {
		page_store_error(c, "contact save", error);
		return;
	}
	if (r == 0) {
		edit_render(c, 422, error, id, name, emails, note, collected);
		return;
	}
	page_redirect(c, "/contacts?saved=1");
}

void page_contact_edit(struct ctx *c)
{
	const char *error;
	if (c->req->method == HTTP_POST) {
		edit_post(c);
		return;
	}
	uint32_t id = ctx_query_uint(c, "id", 0);
	if (id == 0) {
		const char *name = ctx_query(c, "name"), *email = ctx_query(c, "email");
		edit_render(c, 200, NULL, 0, name != NULL ? name : "", email != NULL ? email : "", "",
			    false);
		return;
	}
	struct store_contact *k = arena_alloc(c->a, sizeof(*k));
	if (k == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	int r = store_contact_get(c->store, c->user.id, id, k, &error);
	if (r < 0) {
		page_store_error(c, "contact", error);
		return;
	}
	if (r == 0) {
		page_error(c, 404, "There is no such contact.");
		return;
	}
	edit_render(c, 200, NULL, id, k->name, emails_join(c, k), k->note,
		    (k->flags & STORE_CONTACT_COLLECTED) != 0);
}

/* ---------------------------------------------------------------- delete */

struct del_ctx {
	struct ctx *c;
	unsigned deleted, missing;
	bool failed;
	const char *error;
};

static void del_one(const char *value, void *ctx)
{
	struct del_ctx *d = ctx;
	uint32_t id;
	if (d->failed || !uint_parse(value, &id) || id == 0) {
		d->missing++;
		return;
	}
	int r = store_contact_delete(d->c->store, d->c->user.id, id, &d->error);
	if (r < 0)
		d->failed = true;
	else if (r == 0)
		d->missing++;
	else
		d->deleted++;
}

void page_contact_delete(struct ctx *c)
{
	struct del_ctx d = { .c = c };
	if (form_each(&c->req->body, "id", del_one, &d) == 0) {
		page_error(c, 400, "Choose the contacts to delete first.");
		return;
	}
	if (d.failed) {
		page_store_error(c, "contact delete", d.error);
		return;
	}
	if (d.deleted == 0) {
		page_error(c, 404, "There is no such contact.");
		return;
	}
	const char *book = ctx_form(c, "book");
	page_redirect(c, arena_printf(c->a, "/contacts?deleted=%u%s", d.deleted,
				      book != NULL && strcmp(book, "collected") == 0
				      ? "&book=collected" : ""));
}

/* ---------------------------------------------------------------- senders */

static const struct address *first_mailbox(const struct mime_envelope *env)
{
	if (env == NULL)
		return NULL;
	for (uint32_t i = 0; i < env->from.count; i++) {
		const struct address *a = &env->from.items[i];
		if (a->host != NULL && a->host[0] != '\0' && a->mailbox != NULL)
			return a;
	}
	return NULL;
}

/* A display name from a header made fit for the book: control characters
 * as spaces, cut on a character boundary. */
static void name_fit(char *dst, const char *src)
{
	size_t len = strlen(src);
	if (len > STORE_CONTACT_NAME_MAX) {
		len = STORE_CONTACT_NAME_MAX;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
	dst[len] = '\0';
}

bool ctx_sender_known(struct ctx *c, const struct mime_envelope *env)
{
	const char *error;
	const struct address *a = first_mailbox(env);
	if (a == NULL)
		return false;
	char *spec = address_addr_spec(a);
	if (spec == NULL)
		return false;
	struct tpl_obj *s = tpl_obj(c->data, "sender");
	tpl_str(s, "address", spec);
	if (a->name != NULL)
		tpl_str(s, "name", header_decode(c->a, a->name));
	/* A collected contact (mail was sent to it) counts as known for remote
	 * images, but "Add to contacts" is still offered: it makes it one the
	 * user keeps, the kind the Address book tab lists. */
	struct store_contact *k = arena_alloc(c->a, sizeof(*k));
	int r = k == NULL ? 0 : store_contact_find(c->store, c->user.id, spec, k, &error);
	if (r < 0)
		log_error("webmail: contact lookup: %s", error);
	tpl_bool(s, "known", r == 1 && !(k->flags & STORE_CONTACT_COLLECTED));
	tpl_bool(s, "self", strcasecmp(spec, c->user.address) == 0);
	/* nobody keeps MAILER-DAEMON or noreply@ as a contact */
	tpl_bool(s, "program", vacation_system_sender(spec));
	uint32_t part;
	if (uint_parse(ctx_query(c, "part"), &part)) {
		tpl_bool(s, "has_part", true);
		tpl_int(s, "part", part);
	}
	const char *done = ctx_query(c, "contact");
	tpl_bool(s, "added", r == 1 && done != NULL && strcmp(done, "added") == 0);
	free(spec);
	return r == 1;
}

void page_contact_sender(struct ctx *c)
{
	const char *error;
	struct store_mailbox mb;
	struct msgview v;
	uint32_t part = 0, uid = ctx_form_uint(c, "uid", 0);
	if (ctx_message(c, ctx_form_uint(c, "mb", 0), uid, &mb, &v) <= 0)
		return;
	const struct mime_part *node = v.mime->root;
	bool has_part = uint_parse(ctx_form(c, "part"), &part);
	if (has_part) {
		const struct mime_part *p = msgview_part(&v, part);
		node = p != NULL ? mime_part_message(p) : NULL;
	}
	const struct address *a = node != NULL ? first_mailbox(node->envelope) : NULL;
	char *spec = a != NULL ? address_addr_spec(a) : NULL;
	struct store_contact *k = arena_alloc(c->a, sizeof(*k));
	if (k != NULL && spec != NULL && strlen(spec) <= STORE_ADDRESS_MAX) {
		name_fit(k->name, a->name != NULL ? header_decode(c->a, a->name) : "");
		strcpy(k->addrs[0], spec);
		k->naddrs = 1;
	}
	free(spec);
	msgview_close(&v);
	if (k == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	if (k->naddrs == 0) {
		page_error(c, 422, "This message has no sender address that could be added.");
		return;
	}
	enum store_merge_result result;
	const char *why = NULL;
	if (store_contacts_merge(c->store, c->user.id, k, 1, &result, &why, &error) < 0) {
		page_store_error(c, "add sender", error);
		return;
	}
	if (result == STORE_MERGE_REFUSED) {
		page_error(c, 422, arena_printf(c->a, "The sender could not be added: %s",
						why != NULL ? why : "the address book is full."));
		return;
	}
	page_redirect(c, arena_printf(c->a, "/msg?mb=%u&uid=%u%s%s&contact=added", mb.id, uid,
				      has_part ? "&part=" : "",
				      has_part ? arena_printf(c->a, "%u", part) : ""));
}

/* ---------------------------------------------------------------- datalist */

/* The compose page loads static/complete.js: scripts from ourselves. */
static void csp_allow_script(struct ctx *c)
{
	for (size_t i = 0; i < c->resp->nheaders; i++) {
		struct http_header *h = &c->resp->headers[i];
		if (strcmp(h->name, "Content-Security-Policy") == 0 &&
		    strstr(h->value, "script-src") == NULL)
			h->value = arena_printf(c->a, "%s; script-src 'self'", h->value);
	}
}

int ctx_contacts_datalist(struct ctx *c)
{
	struct rows r = { .want = -1 };
	if (rows_load(c, &r) < 0)
		return -1;
	size_t n = 0;
	tpl_list(c->data, "contacts");
	for (size_t i = 0; i < r.n && n < CONTACTS_DATALIST_MAX; i++) {
		const struct row *w = &r.v[i];
		for (uint32_t k = 0; k < w->naddrs && n < CONTACTS_DATALIST_MAX; k++, n++) {
			struct tpl_obj *it = tpl_item(c->data, "contacts");
			tpl_str(it, "name", w->name);
			tpl_str(it, "address", w->addrs[k]);
			tpl_str(it, "value", mailbox_value(c->a, w->name, w->addrs[k]));
		}
	}
	free(r.v);
	csp_allow_script(c);
	return 0;
}

/* ---------------------------------------------------------------- vCard */

void page_contacts_export(struct ctx *c)
{
	struct rows r = { .want = -1 };
	if (rows_load(c, &r) < 0)
		return;
	buf_reset(&c->resp->body);
	for (size_t i = 0; i < r.n; i++) {
		const struct row *w = &r.v[i];
		struct vcard card = { .name = w->name, .note = w->note, .collected = w->collected,
				      .nemails = w->naddrs };
		for (uint32_t k = 0; k < w->naddrs && k < VCARD_EMAILS_MAX; k++)
			card.emails[k] = w->addrs[k];
		vcard_write(&c->resp->body, &card);
	}
	free(r.v);
	http_header_add(c->resp, c->a, "Content-Type", "text/vcard; charset=utf-8");
	http_header_add(c->resp, c->a, "Content-Disposition",
			"attachment; filename=\"contacts.vcf\"");
	http_header_add(c->resp, c->a, "Cache-Control", "private, no-store");
}

struct import {
	struct ctx *c;
	struct store_contact *batch;
	size_t n;
	unsigned added, updated, unchanged, skipped;
	bool full;
	const char *store_error;
};

static int import_flush(struct import *im)
{
	enum store_merge_result res[STORE_CONTACTS_BATCH_MAX];
	const char *why[STORE_CONTACTS_BATCH_MAX];
	if (im->n == 0)
		return 0;
	if (store_contacts_merge(im->c->store, im->c->user.id, im->batch, im->n, res, why,
				 &im->store_error) < 0)
		return -1;
	for (size_t i = 0; i < im->n; i++) {
		switch (res[i]) {
		case STORE_MERGE_ADDED: im->added++; break;
		case STORE_MERGE_UPDATED: im->updated++; break;
		case STORE_MERGE_UNCHANGED: im->unchanged++; break;
		default:
			im->skipped++;
			if (why[i] != NULL && strstr(why[i], "full") != NULL)
				im->full = true;
			break;
		}
	}
	im->n = 0;
	return 0;
}

static int import_cb(const struct vcard *card, void *ctx, const char **error_r)
{
	struct import *im = ctx;
	if (card->nemails == 0) {
		im->skipped++;
		return 0;
	}
	struct store_contact *k = &im->batch[im->n];
	memset(k, 0, sizeof(*k));
	/* the parser keeps names, notes and addresses within these limits */
	snprintf(k->name, sizeof(k->name), "%s", card->name);
	snprintf(k->note, sizeof(k->note), "%s", card->note);
	for (size_t i = 0; i < card->nemails && i < STORE_CONTACT_ADDRS_MAX; i++)
		snprintf(k->addrs[k->naddrs++], sizeof(k->addrs[0]), "%s", card->emails[i]);
	k->flags = card->collected ? STORE_CONTACT_COLLECTED : 0;
	if (++im->n == STORE_CONTACTS_BATCH_MAX && import_flush(im) < 0) {
		*error_r = "store";
		return -1;
	}
	return 0;
}

void page_contacts_import(struct ctx *c)
{
	const char *error;
	const struct form_field *file = NULL;
	for (size_t i = 0; i < c->req->body.count; i++) {
		const struct form_field *f = &c->req->body.fields[i];
		if (strcmp(f->name, "file") == 0 && f->filename != NULL)
			file = f;
	}
	if (file == NULL || file->value_len == 0) {
		contacts_list(c, 400, "Choose a vCard file (.vcf) to import.");
		return;
	}
	/* the whole file is checked before anything is written */
	struct vcard_stats st;
	if (vcard_parse(file->value, file->value_len, NULL, NULL, &st, &error) < 0) {
		contacts_list(c, file->value_len > VCARD_INPUT_MAX ? 413 : 422, error);
		return;
	}
	struct import im = { .c = c, .batch = malloc(STORE_CONTACTS_BATCH_MAX * sizeof(*im.batch)) };
	if (im.batch == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	int r = vcard_parse(file->value, file->value_len, import_cb, &im, &st, &error);
	if (r == 0)
		r = import_flush(&im);
	free(im.batch);
	if (r < 0) {
		if (im.store_error != NULL)
			page_store_error(c, "contacts import", im.store_error);
		else
			contacts_list(c, 422, error);
		return;
	}
	log_info("webmail: contacts-import user=<%s> added=%u updated=%u unchanged=%u skipped=%u",
		 c->user.address, im.added, im.updated, im.unchanged, im.skipped + (unsigned)st.dropped);
	page_redirect(c, arena_printf(c->a, "/contacts?added=%u&updated=%u&unchanged=%u&skipped=%u%s",
				      im.added, im.updated, im.unchanged,
				      im.skipped + (unsigned)st.dropped, im.full ? "&full=1" : ""));
}
