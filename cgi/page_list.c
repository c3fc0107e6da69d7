/* The message list: paging, sorting, search, and the list's state that
 * links and actions carry (page_action.c acts on the selection). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "datetime.h"
#include "log.h"
#include "msgpart.h"

/* A search collects at most this many matches (shown in pages)... */
#define SEARCH_RESULTS_MAX 1000
/* ... and stops reading messages after this long (the page says so). */
#define SEARCH_SECONDS_MAX 5.0
/* Bytes of a search term. */
#define SEARCH_TERM_MAX 200
/* Text of one message searched by a body search. */
#define SEARCH_BODY_MAX ((size_t)1024 * 1024)

struct sort_name {
	const char *name;
	enum store_sort sort;
	bool desc;              /* the default direction */
	const char *label;
};

static const struct sort_name sorts[] = {
	{ "date", STORE_SORT_DATE, true, "Date" },
	{ "from", STORE_SORT_FROM, false, "From" },
	{ "subject", STORE_SORT_SUBJECT, false, "Subject" },
	{ "size", STORE_SORT_SIZE, true, "Size" },
	{ "arrival", STORE_SORT_ARRIVAL, true, "Arrival" },
};

static const struct sort_name *sort_lookup(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		if (strcmp(sorts[i].name, name) == 0)
			return &sorts[i];
	}
	return &sorts[0];
}

/* "/path?k=v&k=v" with values percent-encoded; NULL values skipped. */
static const char *url(struct ctx *c, const char *path, ...)
{
	struct buf b;
	va_list ap;
	char sep = '?';
	buf_init(&b, 8192);
	buf_puts(&b, c->wm->base);
	buf_puts(&b, path);
	va_start(ap, path);
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		if (v == NULL || *v == '\0')
			continue;
		buf_putc(&b, sep);
		sep = '&';
		buf_puts(&b, k);
		buf_putc(&b, '=');
		tpl_escape_url_part(&b, v, strlen(v));
	}
	va_end(ap);
	const char *s = b.failed ? "#" : arena_strdup(c->a, b.data);
	buf_free(&b);
	return s;
}

static const char *num(struct ctx *c, unsigned long long v)
{
	return arena_printf(c->a, "%llu", v);
}

/* ---------------------------------------------------------------- list state */

/* In this order in list_state.terms; "q_" before each in an action form. */
static const char *const search_keys[LIST_TERMS] = {
	"from", "to", "subject", "text", "since", "before",
};

static const char *state_field(struct ctx *c, bool from_form, const char *name)
{
	return from_form ? ctx_form(c, name) : ctx_query(c, name);
}

void list_state_read(struct ctx *c, bool from_form, struct list_state *s_r)
{
	const char *sort = state_field(c, from_form, "sort"), *dir = state_field(c, from_form, "dir");
	uint32_t page;
	s_r->sort = sort != NULL ? sort_lookup(sort)->name : NULL;
	s_r->dir = dir == NULL ? NULL : strcmp(dir, "asc") == 0 ? "asc" : "desc";
	s_r->page = uint_parse(state_field(c, from_form, "page"), &page) ? page : 0;
	for (size_t i = 0; i < LIST_TERMS; i++) {
		const char *name = from_form ? arena_printf(c->a, "q_%s", search_keys[i]) : search_keys[i];
		const char *v = name != NULL ? state_field(c, from_form, name) : NULL;
		if (v != NULL && strlen(v) > SEARCH_TERM_MAX)
			v = arena_strndup(c->a, v, SEARCH_TERM_MAX);
		s_r->terms[i] = v != NULL && *v != '\0' ? v : NULL;
	}
	const char *in = state_field(c, from_form, from_form ? "q_in" : "in");
	s_r->all_folders = in != NULL && strcmp(in, "all") == 0;
}

const char *list_state_href(struct ctx *c, const char *path, uint32_t mb, uint32_t uid,
			    const char *pos, const struct list_state *s)
{
	const char *const *t = s->terms;
	return url(c, path, "mb", num(c, mb), "uid", uid != 0 ? num(c, uid) : NULL,
		   "sort", s->sort, "dir", s->dir, "page", s->page > 0 ? num(c, s->page) : NULL,
		   "pos", pos, search_keys[0], t[0], search_keys[1], t[1], search_keys[2], t[2],
		   search_keys[3], t[3], search_keys[4], t[4], search_keys[5], t[5],
		   "in", s->all_folders ? "all" : NULL, NULL);
}

static void keep_one(struct ctx *c, const char *name, const char *value)
{
	if (value == NULL)
		return;
	struct tpl_obj *it = tpl_item(c->data, "keep");
	tpl_str(it, "name", name);
	tpl_str(it, "value", value);
}

void list_state_keep(struct ctx *c, const struct list_state *s)
{
	tpl_list(c->data, "keep");
	keep_one(c, "sort", s->sort);
	keep_one(c, "dir", s->dir);
	keep_one(c, "page", num(c, s->page));
	for (size_t i = 0; i < LIST_TERMS; i++)
		keep_one(c, arena_printf(c->a, "q_%s", search_keys[i]), s->terms[i]);
	keep_one(c, "q_in", s->all_folders ? "all" : NULL);
}

/* ---------------------------------------------------------------- action notices */

/* What an action did, for the page it returns to: "done" in the query
 * names a row; the sentence is "Message" or "N messages", the verb, and
 * the folder ("dest" in the query) where the row says so. */
static const struct { const char *done, *verb; bool dest; } done_texts[] = {
	{ "read", "marked as read", false },
	{ "unread", "marked as unread", false },
	{ "flag", "flagged", false },
	{ "unflag", "unflagged", false },
	{ "move", "moved to", true },
	{ "copy", "copied to", true },
	{ "delete", "moved to", true },
	{ "purge", "deleted for good", false },
	{ "junk", "marked as junk", false },
	{ "junk-moved", "marked as junk and moved to", true },
	{ "notjunk", "marked as not junk", false },
	{ "notjunk-moved", "marked as not junk and moved to", true },
};

/* The name of the user's folder `id` for a notice; a quiet lookup (the
 * id comes from the URL): another user's folder reads as none. */
static const char *folder_name(struct ctx *c, uint32_t id)
{
	struct store_mailbox mb;
	const char *error;
	if (id == 0 || store_mailbox_get(c->store, id, &mb, &error) <= 0 || mb.user_id != c->user.id)
		return "another folder";
	return strcmp(mb.name, "INBOX") == 0 ? "Inbox" : arena_strdup(c->a, mb.name);
}

void list_done_notice(struct ctx *c)
{
	const char *done = ctx_query(c, "done");
	uint32_t n = ctx_query_uint(c, "n", 0);
	if (done == NULL || n == 0)
		return;
	if (strcmp(done, "nofolder") == 0) {
		tpl_str(c->data, "done", "Nothing moved: choose a folder in the “Move to…” menu first.");
		tpl_bool(c->data, "done_warn", true); /* a hint, not a success */
		return;
	}
	for (size_t i = 0; i < sizeof(done_texts) / sizeof(done_texts[0]); i++) {
		if (strcmp(done_texts[i].done, done) != 0)
			continue;
		bool dest = done_texts[i].dest;
		tpl_str(c->data, "done", arena_printf(c->a, "%s %s%s%s.",
			n == 1 ? "Message" : arena_printf(c->a, "%u messages", n), done_texts[i].verb,
			dest ? " " : "", dest ? folder_name(c, ctx_query_uint(c, "dest", 0)) : ""));
		return;
	}
}

struct search {
	const char *from, *to, *subject, *text;
	int64_t since, before;   /* 0 = none */
	bool active;
	bool all_folders;        /* every folder of the user, not the one shown */
};

/* "2024-03-01" (an <input type=date>) as that day's start in the user's
 * zone; 0 if empty or invalid. */
static int64_t date_field(struct ctx *c, const char *s)
{
	struct tm tm = { 0 };
	int y, m, d;
	char extra;
	if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1970 ||
	    y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return ctx_local_to_utc(c, (int64_t)timegm(&tm));
}

static const char *term(struct ctx *c, const char *name)
{
	const char *v = ctx_query(c, name);
	while (v != NULL && (*v == ' ' || *v == '\t'))
		v++;
	if (v == NULL || *v == '\0')
		return NULL;
	if (strlen(v) > SEARCH_TERM_MAX)
		return arena_strndup(c->a, v, SEARCH_TERM_MAX);
	return v;
}

/* Case-insensitive (ASCII) substring search. */
static bool contains(const char *hay, size_t hlen, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return true;
	for (size_t i = 0; i + n <= hlen; i++) {
		if (tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[0]) &&
		    strncasecmp(hay + i, needle, n) == 0)
			return true;
	}
	return false;
}

static bool addresses_match(struct ctx *c, const struct mime_addresses *list, const char *needle)
{
	for (uint32_t i = 0; i < list->count; i++) {
		const struct address *a = &list->items[i];
		if (a->name != NULL) {
			const char *name = header_decode(c->a, a->name);
			if (contains(name, strlen(name), needle))
				return true;
		}
		if (a->mailbox != NULL && a->host != NULL) {
			const char *spec = arena_printf(c->a, "%s@%s", a->mailbox, a->host);
			if (spec != NULL && contains(spec, strlen(spec), needle))
				return true;
		}
	}
	return false;
}

static bool body_matches(struct msgview *v, const char *needle)
{
	for (uint32_t i = 0; i < v->mime->nparts; i++) {
		const struct mime_part *p = v->mime->parts[i];
		const char *error;
		char *text;
		size_t len;
		bool cut;
		if (p->nchildren > 0 || strcmp(p->type, "text") != 0 ||
		    (p->disposition != NULL && strcmp(p->disposition, "attachment") == 0))
			continue;
		if (msgview_part_decode(v, p, SEARCH_BODY_MAX, true, &text, &len, &cut, &error) < 0)
			continue;
		bool hit = contains(text, len, needle);
		free(text);
		if (hit)
			return true;
	}
	return false;
}

struct scan_ctx {
	struct ctx *c;
	const struct search *s;
	uint32_t *uids;          /* candidates for the deep checks */
	size_t n, cap;
	bool oom;
};

static int scan_cb(const struct store_msg *m, void *ctx)
{
	struct scan_ctx *sc = ctx;
	const struct search *s = sc->s;
	if (s->since != 0 && m->sent_date < s->since)
		return 0;
	if (s->before != 0 && m->sent_date >= s->before)
		return 0;
	if (s->subject != NULL && !contains(m->subject, strlen(m->subject), s->subject))
		return 0;
	if (sc->n == sc->cap) {
		size_t cap = sc->cap == 0 ? 1024 : sc->cap * 2;
		uint32_t *u = realloc(sc->uids, cap * sizeof(*u));
		if (u == NULL) {
			sc->oom = true;
			return 1;
		}
		sc->uids = u;
		sc->cap = cap;
	}
	sc->uids[sc->n++] = m->uid;
	return 0;
}

struct sort_order {
	enum store_sort sort;
	bool desc;
};

static int msg_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct store_msg *a = pa, *b = pb;
	const struct sort_order *o = ctx;
	int r = 0;
	switch (o->sort) {
	case STORE_SORT_DATE:
		r = a->sent_date < b->sent_date ? -1 : a->sent_date > b->sent_date;
		break;
	case STORE_SORT_SIZE:
		r = a->size < b->size ? -1 : a->size > b->size;
		break;
	case STORE_SORT_FROM:
		r = strcasecmp(a->from, b->from);
		break;
	case STORE_SORT_SUBJECT:
		r = strcasecmp(a->subject, b->subject);
		break;
	case STORE_SORT_ARRIVAL:
		break;
	}
	if (r == 0)
		r = a->uid < b->uid ? -1 : a->uid > b->uid;
	return o->desc ? -r : r;
}

/* The results of one search, over one folder or all, and its limits: a
 * cap on matches and one deadline for the whole search. */
struct search_out {
	struct store_msg *res;
	long n;
	struct timespec t0;
	bool partial;
};

static bool search_late(const struct search_out *o)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - o->t0.tv_sec) + (double)(t.tv_nsec - o->t0.tv_nsec) / 1e9 >
		SEARCH_SECONDS_MAX;
}

/* Searches one mailbox: cheap checks on the list records, then the ones
 * that need the message (addresses, body); matches are added to o. 0, or
 * -1 (answered). */
static int search_mailbox(struct ctx *c, uint32_t mailbox_id, const struct search *s,
			  struct search_out *o)
{
	const char *error;
	struct scan_ctx sc = { .c = c, .s = s };
	if (store_msg_list(c->store, mailbox_id, 1, UINT32_MAX, scan_cb, &sc, &error) < 0) {
		free(sc.uids);
		page_store_error(c, "search", error);
		return -1;
	}
	if (sc.oom)
		o->partial = true;
	/* newest first, so a cut-short search has the recent matches */
	for (size_t i = sc.n; i-- > 0;) {
		struct store_msg m;
		if (o->n == SEARCH_RESULTS_MAX || search_late(o)) {
			o->partial = true;
			break;
		}
		if (store_msg_get(c->store, mailbox_id, sc.uids[i], &m, &error) <= 0)
			continue;
		bool need_view = s->to != NULL || s->text != NULL ||
				 (s->from != NULL && !contains(m.from, strlen(m.from), s->from));
		if (need_view) {
			struct msgview v;
			if (msgview_open_msg(c->store, &m, &v, &error) <= 0)
				continue;
			const struct mime_envelope *env = v.mime->root->envelope;
			bool ok = env != NULL;
			if (ok && s->from != NULL && !contains(m.from, strlen(m.from), s->from))
				ok = addresses_match(c, &env->from, s->from);
			if (ok && s->to != NULL)
				ok = addresses_match(c, &env->to, s->to) ||
				     addresses_match(c, &env->cc, s->to);
			if (ok && s->text != NULL)
				ok = body_matches(&v, s->text);
			msgview_close(&v);
			if (!ok)
				continue;
		}
		o->res[o->n++] = m;
	}
	free(sc.uids);
	return 0;
}

struct folder_ids {
	uint32_t ids[STORE_MAILBOXES_MAX];
	size_t n;
	uint32_t inbox;
};

static int folder_id_cb(const struct store_mailbox *mb, void *ctx)
{
	struct folder_ids *f = ctx;
	if (strcmp(mb->name, "INBOX") == 0)
		f->inbox = mb->id;
	else if (f->n < STORE_MAILBOXES_MAX)
		f->ids[f->n++] = mb->id;
	return 0;
}

/* Runs the search over mailbox_id, or over every folder of the user (the
 * Inbox first, then in name order: a search cut short has searched those).
 * Returns the number of matches in *out (malloc'd), or -1 (answered). */
static long search_run(struct ctx *c, uint32_t mailbox_id, const struct search *s,
		       struct store_msg **out_r, bool *partial_r)
{
	const char *error;
	struct search_out o = { .res = calloc(SEARCH_RESULTS_MAX, sizeof(*o.res)) };
	struct folder_ids *f = s->all_folders ? calloc(1, sizeof(*f)) : NULL;
	if (o.res == NULL || (s->all_folders && f == NULL)) {
		free(o.res);
		free(f);
		page_error(c, 500, "Out of memory.");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &o.t0);
	int r = 0;
	if (f == NULL) {
		r = search_mailbox(c, mailbox_id, s, &o);
	} else if (store_mailbox_list(c->store, c->user.id, folder_id_cb, f, &error) < 0) {
		page_store_error(c, "search", error);
		r = -1;
	} else {
		if (f->inbox != 0)
			r = search_mailbox(c, f->inbox, s, &o);
		for (size_t i = 0; r == 0 && i < f->n && !o.partial; i++) {
			/* folders with no candidate never look at the clock */
			if (search_late(&o))
				o.partial = true;
			else
				r = search_mailbox(c, f->ids[i], s, &o);
		}
	}
	free(f);
	if (r < 0) {
		free(o.res);
		return -1;
	}
	*partial_r = o.partial;
	*out_r = o.res;
	return o.n;
}

/* The rows shown ticked: all ("select=all"), or those of "sel=UID,UID..."
 * (a Move that named no folder sends the user back with them). */
struct picked {
	bool all;
	size_t n;
	uint32_t uids[STORE_PREFS_PAGE_MAX];
	uint32_t mbs[STORE_PREFS_PAGE_MAX];   /* "MB:UID" (all folders), else 0 */
};

/* One number of sel= at *s, ending at one of `ends`: 1 (*v, *s past it), 0. */
static int sel_number(const char **s, const char *ends, uint32_t *v)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(*s, &end, 10);
	if (end == *s || !isdigit((unsigned char)**s) || errno != 0 || n == 0 || n > UINT32_MAX ||
	    strchr(ends, *end) == NULL)
		return 0;
	*v = (uint32_t)n;
	*s = end;
	return 1;
}

static void picked_read(struct ctx *c, struct picked *p)
{
	p->all = ctx_query(c, "select") != NULL;
	p->n = 0;
	const char *s = ctx_query(c, "sel");
	while (s != NULL && *s != '\0' && p->n < STORE_PREFS_PAGE_MAX) {
		uint32_t first, uid = 0;
		if (!sel_number(&s, ":,", &first))
			break;
		if (*s == ':') {
			s++;
			if (!sel_number(&s, ",", &uid))
				break;
		}
		p->mbs[p->n] = uid != 0 ? first : 0;
		p->uids[p->n++] = uid != 0 ? uid : first;
		s += *s == ',';
	}
}

/* Whether sel= ticks message uid of folder mb: "MB:UID" in the list of
 * all folders, where "UID" alone names none. */
static bool picked_has(const struct picked *p, uint32_t mb, uint32_t uid, bool all_folders)
{
	for (size_t i = 0; !p->all && i < p->n; i++)
		if (p->uids[i] == uid && (p->mbs[i] == mb || (p->mbs[i] == 0 && !all_folders)))
			return true;
	return p->all;
}

/* Names shown for a sent message's recipients; the others are counted. */
#define ROW_RECIPIENTS_SHOWN 3

/* "To: Ann, Bob +2" from the message's envelope, or NULL. */
static const char *row_recipients(struct ctx *c, const struct store_msg *m)
{
	struct store_msg_reader *r = NULL;
	struct mime_message *tree = NULL;
	const char *error = NULL, *out = NULL;
	size_t len;
	if (store_msg_open_mime(c->store, m, &r, &error) <= 0)
		return NULL;
	const void *blob = store_msg_mime_cache(r, &len);
	if (blob != NULL && len > 0 && mime_cache_decode(blob, len, &tree, &error) == 1 &&
	    tree->root->envelope != NULL) {
		const struct mime_addresses *to = &tree->root->envelope->to;
		uint32_t shown = 0, more = 0;
		out = "To:";
		for (uint32_t i = 0; i < to->count; i++) {
			const struct address *a = &to->items[i];
			if (a->host == NULL)
				continue;        /* group markers */
			if (shown == ROW_RECIPIENTS_SHOWN) {
				more++;
				continue;
			}
			const char *name = a->name != NULL ? header_decode(c->a, a->name) : "";
			if (*name == '\0') {
				char *spec = address_addr_spec(a);
				name = spec != NULL ? arena_strdup(c->a, spec) : "?";
				free(spec);
			}
			out = arena_printf(c->a, "%s%s %s", out, shown > 0 ? "," : "", name);
			shown++;
		}
		if (more > 0)
			out = arena_printf(c->a, "%s +%u", out, more);
		if (shown == 0)
			out = NULL;
	}
	mime_message_free(&tree);
	store_msg_close(&r);
	return out;
}

/* to_view: the folder is Sent or Drafts, where every row's sender is the
 * user: the row names the recipients instead. */
static void add_row(struct ctx *c, const struct store_msg *m, uint32_t mb, bool to_view,
		    const struct list_state *st, long pos, const struct picked *picked)
{
	struct tpl_obj *it = tpl_item(c->data, "messages");
	if (st->all_folders) {
		mb = m->mailbox_id;
		tpl_str(it, "in_folder", folder_name(c, mb));
	}
	tpl_int(it, "uid", m->uid);
	const char *to = to_view ? row_recipients(c, m) : NULL;
	if (to != NULL)
		tpl_str(it, "from", to);
	else
		tpl_str(it, "from", m->from[0] != '\0' ? m->from : "(unknown sender)");
	tpl_str(it, "subject", m->subject[0] != '\0' ? m->subject : "(no subject)");
	tpl_str(it, "date", fmt_date_short(c, m->sent_date));
	tpl_str(it, "date_long", fmt_date_long(c, m->sent_date));
	tpl_str(it, "size", fmt_size(c, m->size));
	tpl_bool(it, "unread", !(m->flags & STORE_FLAG_SEEN));
	tpl_bool(it, "flagged", m->flags & STORE_FLAG_FLAGGED);
	tpl_bool(it, "answered", m->flags & STORE_FLAG_ANSWERED);
	tpl_bool(it, "attachment", m->has_attachment);
	tpl_bool(it, "checked", picked_has(picked, mb, m->uid, st->all_folders));
	/* a tick names the message's folder too where the rows' folders differ */
	tpl_str(it, "pick", st->all_folders ? arena_printf(c->a, "%u:%u", mb, m->uid)
					    : num(c, m->uid));
	tpl_str(it, "pick_id", st->all_folders ? arena_printf(c->a, "%u-%u", mb, m->uid)
					       : num(c, m->uid));
	tpl_str(it, "href", list_state_href(c, "/msg", mb, m->uid,
					    pos >= 0 ? num(c, (unsigned long long)pos) : NULL, st));
}

/* A page's records, kept while the page is read (in the store's
 * transaction) and made rows after it. */
struct page_rows {
	struct store_msg *msgs;
	size_t n, max;
};

static int page_cb(const struct store_msg *m, void *ctx)
{
	struct page_rows *p = ctx;
	if (p->n < p->max)
		p->msgs[p->n++] = *m;
	return 0;
}

static int inbox_id(struct ctx *c, uint32_t *id_r)
{
	struct store_mailbox mb;
	const char *error;
	int r = store_mailbox_find(c->store, c->user.id, "INBOX", &mb, &error);
	if (r < 0) {
		page_store_error(c, "inbox", error);
		return -1;
	}
	if (r == 0) {
		page_error(c, 404, "Your account has no inbox.");
		return -1;
	}
	*id_r = mb.id;
	return 0;
}

/* The list's search from the query; the state (for links and the action
 * form) keeps only the terms that search uses. */
static void search_read(struct ctx *c, struct search *s, struct list_state *st)
{
	const char *since = ctx_query(c, "since"), *before = ctx_query(c, "before");
	*s = (struct search){
		.from = term(c, "from"), .to = term(c, "to"), .subject = term(c, "subject"),
		.text = term(c, "text"), .since = date_field(c, since), .before = date_field(c, before),
	};
	if (s->before != 0)
		s->before += 86400;  /* "before" is inclusive of that day */
	s->active = s->from || s->to || s->subject || s->text || s->since || s->before;
	const char *in = ctx_query(c, "in");
	s->all_folders = s->active && in != NULL && strcmp(in, "all") == 0;
	st->all_folders = s->all_folders;
	const char *terms[LIST_TERMS] = { s->from, s->to, s->subject, s->text,
					  s->since != 0 ? since : NULL, s->before != 0 ? before : NULL };
	memcpy(st->terms, terms, sizeof(terms));
}

/* The rows of the page st->page (clamped to the last one); *total_r the
 * number of messages listed. -1 when answered. */
static int list_rows(struct ctx *c, const struct store_mailbox *mb, const struct sort_name *sn,
		     bool desc, const struct search *s, struct list_state *st, uint64_t *total_r)
{
	const char *error;
	uint32_t size = c->prefs.page_size;
	struct picked *picked = arena_alloc(c->a, sizeof(*picked));
	if (picked == NULL) {
		page_error(c, 500, "Out of memory.");
		return -1;
	}
	picked_read(c, picked);
	bool to_view = !s->all_folders && (mb->special_use & (STORE_SPECIAL_SENT |
							      STORE_SPECIAL_DRAFTS));
	tpl_list(c->data, "messages");
	if (st->page > UINT32_MAX / size)
		st->page = 0;
	if (!s->active) {
		*total_r = mb->exists;
		if ((uint64_t)st->page * size >= *total_r)
			st->page = *total_r > 0 ? (uint32_t)((*total_r - 1) / size) : 0;
		struct page_rows pr = { .msgs = arena_alloc(c->a, size * sizeof(*pr.msgs)), .max = size };
		if (pr.msgs == NULL) {
			page_error(c, 500, "Out of memory.");
			return -1;
		}
		if (store_msg_page(c->store, mb->id, sn->sort, desc, st->page * size, size, page_cb,
				   &pr, &error) < 0) {
			page_store_error(c, "message list", error);
			return -1;
		}
		for (size_t i = 0; i < pr.n; i++)
			add_row(c, &pr.msgs[i], mb->id, to_view, st, (long)(st->page * size + i), picked);
		return 0;
	}
	struct store_msg *res;
	bool partial;
	long n = search_run(c, mb->id, s, &res, &partial);
	if (n < 0)
		return -1;
	struct sort_order order = { sn->sort, desc };
	qsort_r(res, (size_t)n, sizeof(*res), msg_cmp, &order);
	*total_r = (uint64_t)n;
	if ((uint64_t)st->page * size >= *total_r)
		st->page = *total_r > 0 ? (uint32_t)((*total_r - 1) / size) : 0;
	for (uint64_t i = (uint64_t)st->page * size;
	     i < *total_r && i < (uint64_t)(st->page + 1) * size; i++)
		add_row(c, &res[i], mb->id, to_view, st, -1, picked);
	free(res);
	tpl_bool(c->data, "searching", true);
	tpl_bool(c->data, "partial", partial);
	return 0;
}

/* Links to the pages before and after, the sort links (the current one
 * flips its direction), and "Select all"/"Select none" for this page. */
static void list_links(struct ctx *c, uint32_t mb, const struct sort_name *sn, bool desc,
		       const struct list_state *st, uint64_t total)
{
	struct list_state o = *st;
	if (st->page > 0) {
		o.page = st->page - 1;
		tpl_str(c->data, "prev_href", list_state_href(c, "/list", mb, 0, NULL, &o));
	}
	if ((uint64_t)(st->page + 1) * c->prefs.page_size < total) {
		o.page = st->page + 1;
		tpl_str(c->data, "next_href", list_state_href(c, "/list", mb, 0, NULL, &o));
	}
	o.page = 0;
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		struct tpl_obj *it = tpl_item(c->data, "sorts");
		bool cur = &sorts[i] == sn;
		o.sort = sorts[i].name;
		o.dir = cur ? (desc ? "asc" : "desc") : sorts[i].desc ? "desc" : "asc";
		tpl_str(it, "label", sorts[i].label);
		tpl_bool(it, "current", cur);
		tpl_bool(it, "desc", cur && desc);
		tpl_str(it, "href", list_state_href(c, "/list", mb, 0, NULL, &o));
	}
	bool all = ctx_query(c, "select") != NULL;
	const char *here = list_state_href(c, "/list", mb, 0, NULL, st);
	tpl_bool(c->data, "select_all", all);
	tpl_str(c->data, "select_href", all ? here : arena_printf(c->a, "%s&select=all", here));
}

/* "Inbox (3 unread), page 2 of 4": where the user is, for the window
 * title and a screen reader's first words. */
static const char *list_title(struct ctx *c, const char *folder, uint32_t unseen,
			      bool searching, uint32_t page, uint64_t total)
{
	uint32_t size = c->prefs.page_size;
	const char *t = searching ? arena_printf(c->a, "Search in %s", folder) : folder;
	if (unseen > 0)
		t = arena_printf(c->a, "%s (%u unread)", t, unseen);
	if (total > size)
		t = arena_printf(c->a, "%s, page %u of %llu", t, page + 1,
				 (unsigned long long)((total + size - 1) / size));
	return t;
}

void page_list(struct ctx *c)
{
	struct store_mailbox mb;
	struct search s;
	struct list_state st = { 0 };
	uint32_t mb_id = ctx_query_uint(c, "mb", 0);
	if (mb_id == 0 && inbox_id(c, &mb_id) < 0)
		return;
	if (ctx_mailbox(c, mb_id, &mb) <= 0)
		return;
	const struct sort_name *sn = sort_lookup(ctx_query(c, "sort"));
	const char *dirq = ctx_query(c, "dir");
	bool desc = dirq == NULL ? sn->desc : strcmp(dirq, "asc") != 0;
	uint32_t size = c->prefs.page_size;
	uint64_t total;
	st.sort = sn->name;
	st.dir = desc ? "desc" : "asc";
	st.page = ctx_query_uint(c, "page", 0);
	search_read(c, &s, &st);
	if (ctx_folders(c, mb.id) < 0 || list_rows(c, &mb, sn, desc, &s, &st, &total) < 0)
		return;
	const char *folder = s.all_folders ? "All folders" :
		strcmp(mb.name, "INBOX") == 0 ? "Inbox" : mb.name;
	tpl_bool(c->data, "all_folders", s.all_folders);
	tpl_int(c->data, "mb", mb.id);
	tpl_str(c->data, "folder", folder);
	tpl_int(c->data, "total", (long long)total);
	tpl_int(c->data, "first", total == 0 ? 0 : (long long)st.page * size + 1);
	tpl_int(c->data, "last", (long long)((uint64_t)(st.page + 1) * size < total
					       ? (uint64_t)(st.page + 1) * size : total));
	const char *const q[LIST_TERMS] = { "q_from", "q_to", "q_subject", "q_text", "q_since",
					    "q_before" };
	for (size_t i = 0; i < LIST_TERMS; i++)
		tpl_str(c->data, q[i], st.terms[i]);
	list_links(c, mb.id, sn, desc, &st, total);
	list_state_keep(c, &st);
	list_done_notice(c);
	bool trash = mb.special_use & STORE_SPECIAL_TRASH, junk = mb.special_use & STORE_SPECIAL_JUNK;
	tpl_bool(c->data, "can_empty", (trash || junk) && mb.exists > 0);
	tpl_bool(c->data, "in_trash", trash);
	tpl_bool(c->data, "in_junk", junk);
	const char *title = list_title(c, s.all_folders ? "all folders" : folder,
				       s.all_folders ? 0 : mb.unseen, s.active, st.page, total);
	page_render(c, "list", title);
}
