/* The message list: paging, sorting, search, and the actions on selected
 * messages (mark, move, copy, delete, empty Trash/Junk). */
#include <ctype.h>
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
/* Messages changed by one action. */
#define ACTION_UIDS_MAX 1000
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

struct search {
	const char *from, *to, *subject, *text;
	int64_t since, before;   /* 0 = none */
	bool active;
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
	return (int64_t)timegm(&tm) - (int64_t)c->prefs.tz_minutes * 60;
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

/* Runs a search over the mailbox: cheap checks on the list records, then
 * the ones that need the message (addresses, body) with a time limit.
 * Returns the number of matches in *out (malloc'd), or -1 (answered). */
static long search_run(struct ctx *c, uint32_t mailbox_id, const struct search *s,
		       struct store_msg **out_r, bool *partial_r)
{
	const char *error;
	struct scan_ctx sc = { .c = c, .s = s };
	struct timespec t0, t;
	*partial_r = false;
	if (store_msg_list(c->store, mailbox_id, 1, UINT32_MAX, scan_cb, &sc, &error) < 0) {
		free(sc.uids);
		page_store_error(c, "search", error);
		return -1;
	}
	if (sc.oom)
		*partial_r = true;
	struct store_msg *res = calloc(SEARCH_RESULTS_MAX, sizeof(*res));
	if (res == NULL) {
		free(sc.uids);
		page_error(c, 500, "Out of memory.");
		return -1;
	}
	long n = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* newest first, so a cut-short search has the recent matches */
	for (size_t i = sc.n; i-- > 0;) {
		struct store_msg m;
		if (n == SEARCH_RESULTS_MAX) {
			*partial_r = true;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >
		    SEARCH_SECONDS_MAX) {
			*partial_r = true;
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
		res[n++] = m;
	}
	free(sc.uids);
	*out_r = res;
	return n;
}

static void add_row(struct ctx *c, const struct store_msg *m, uint32_t mb, const char *sort,
		    const char *dir, long pos)
{
	struct tpl_obj *it = tpl_item(c->data, "messages");
	tpl_int(it, "uid", m->uid);
	tpl_str(it, "from", m->from[0] != '\0' ? m->from : "(unknown sender)");
	tpl_str(it, "subject", m->subject[0] != '\0' ? m->subject : "(no subject)");
	tpl_str(it, "date", fmt_date_short(c, m->sent_date));
	tpl_str(it, "date_long", fmt_date_long(c, m->sent_date));
	tpl_str(it, "size", fmt_size(c, m->size));
	tpl_bool(it, "unread", !(m->flags & STORE_FLAG_SEEN));
	tpl_bool(it, "flagged", m->flags & STORE_FLAG_FLAGGED);
	tpl_bool(it, "answered", m->flags & STORE_FLAG_ANSWERED);
	tpl_bool(it, "attachment", m->has_attachment);
	tpl_str(it, "href", url(c, "/msg", "mb", num(c, mb), "uid", num(c, m->uid), "sort", sort,
				"dir", dir, "pos", pos >= 0 ? num(c, (unsigned long long)pos) : NULL,
				NULL));
}

struct page_rows {
	struct ctx *c;
	uint32_t mb;
	const char *sort, *dir;
	long pos;
};

static int page_cb(const struct store_msg *m, void *ctx)
{
	struct page_rows *p = ctx;
	add_row(p->c, m, p->mb, p->sort, p->dir, p->pos++);
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

void page_list(struct ctx *c)
{
	struct store_mailbox mb;
	const char *error;
	uint32_t mb_id = ctx_query_uint(c, "mb", 0);
	if (mb_id == 0 && inbox_id(c, &mb_id) < 0)
		return;
	if (ctx_mailbox(c, mb_id, &mb) <= 0)
		return;
	const struct sort_name *sn = sort_lookup(ctx_query(c, "sort"));
	const char *dirq = ctx_query(c, "dir");
	bool desc = dirq == NULL ? sn->desc : strcmp(dirq, "asc") != 0;
	const char *dir = desc ? "desc" : "asc";
	uint32_t page = ctx_query_uint(c, "page", 0);
	uint32_t size = c->prefs.page_size;
	struct search s = {
		.from = term(c, "from"), .to = term(c, "to"), .subject = term(c, "subject"),
		.text = term(c, "text"),
		.since = date_field(c, ctx_query(c, "since")),
		.before = date_field(c, ctx_query(c, "before")),
	};
	if (s.before != 0)
		s.before += 86400;  /* "before" is inclusive of that day */
	s.active = s.from || s.to || s.subject || s.text || s.since || s.before;

	if (ctx_folders(c, mb.id) < 0)
		return;
	uint64_t total;
	tpl_list(c->data, "messages");
	if (page > UINT32_MAX / size)
		page = 0;
	if (!s.active) {
		total = mb.exists;
		if ((uint64_t)page * size >= total)
			page = total > 0 ? (uint32_t)((total - 1) / size) : 0;
		struct page_rows pr = { .c = c, .mb = mb.id, .sort = sn->name, .dir = dir,
					.pos = (long)page * size };
		if (store_msg_page(c->store, mb.id, sn->sort, desc, page * size, size, page_cb, &pr,
				   &error) < 0) {
			page_store_error(c, "message list", error);
			return;
		}
	} else {
		struct store_msg *res;
		bool partial;
		long n = search_run(c, mb.id, &s, &res, &partial);
		if (n < 0)
			return;
		struct sort_order order = { sn->sort, desc };
		qsort_r(res, (size_t)n, sizeof(*res), msg_cmp, &order);
		total = (uint64_t)n;
		if ((uint64_t)page * size >= total)
			page = total > 0 ? (uint32_t)((total - 1) / size) : 0;
		for (uint64_t i = (uint64_t)page * size; i < total && i < (uint64_t)(page + 1) * size; i++)
			add_row(c, &res[i], mb.id, sn->name, dir, -1);
		free(res);
		tpl_bool(c->data, "searching", true);
		tpl_bool(c->data, "partial", partial);
	}
	const char *from = s.from, *to = s.to, *subject = s.subject, *text = s.text;
	const char *since = ctx_query(c, "since"), *before = ctx_query(c, "before");
	if (since != NULL && date_field(c, since) == 0)
		since = NULL;
	if (before != NULL && date_field(c, before) == 0)
		before = NULL;
#define KEEP "from", from, "to", to, "subject", subject, "text", text, "since", since, "before", before
	tpl_int(c->data, "mb", mb.id);
	tpl_str(c->data, "folder", strcmp(mb.name, "INBOX") == 0 ? "Inbox" : mb.name);
	tpl_int(c->data, "total", (long long)total);
	tpl_int(c->data, "first", total == 0 ? 0 : (long long)page * size + 1);
	tpl_int(c->data, "last", (long long)((uint64_t)(page + 1) * size < total
					       ? (uint64_t)(page + 1) * size : total));
	tpl_str(c->data, "sort", sn->name);
	tpl_str(c->data, "dir", dir);
	tpl_int(c->data, "page", page);
	tpl_str(c->data, "q_from", from);
	tpl_str(c->data, "q_to", to);
	tpl_str(c->data, "q_subject", subject);
	tpl_str(c->data, "q_text", text);
	tpl_str(c->data, "q_since", since);
	tpl_str(c->data, "q_before", before);
	if (page > 0)
		tpl_str(c->data, "prev_href", url(c, "/list", "mb", num(c, mb.id), "sort", sn->name,
						  "dir", dir, "page", num(c, page - 1), KEEP, NULL));
	if ((uint64_t)(page + 1) * size < total)
		tpl_str(c->data, "next_href", url(c, "/list", "mb", num(c, mb.id), "sort", sn->name,
						  "dir", dir, "page", num(c, page + 1), KEEP, NULL));
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		struct tpl_obj *it = tpl_item(c->data, "sorts");
		bool cur = &sorts[i] == sn;
		/* clicking the current sort flips its direction */
		const char *d = cur ? (desc ? "asc" : "desc") : sorts[i].desc ? "desc" : "asc";
		tpl_str(it, "label", sorts[i].label);
		tpl_bool(it, "current", cur);
		tpl_bool(it, "desc", cur && desc);
		tpl_str(it, "href", url(c, "/list", "mb", num(c, mb.id), "sort", sorts[i].name, "dir",
					d, KEEP, NULL));
	}
#undef KEEP
	bool trash = mb.special_use & STORE_SPECIAL_TRASH, junk = mb.special_use & STORE_SPECIAL_JUNK;
	tpl_bool(c->data, "can_empty", (trash || junk) && mb.exists > 0);
	tpl_bool(c->data, "in_trash", trash);
	page_render(c, "list", strcmp(mb.name, "INBOX") == 0 ? "Inbox" : mb.name);
}

/* ---------------------------------------------------------------- actions */

struct uid_list {
	uint32_t uids[ACTION_UIDS_MAX];
	uint32_t new_uids[ACTION_UIDS_MAX];
	size_t n;
	bool bad;
};

static void uid_add(const char *value, void *ctx)
{
	struct uid_list *l = ctx;
	uint32_t uid;
	if (!uint_parse(value, &uid) || uid == 0 || l->n == ACTION_UIDS_MAX) {
		l->bad = true;
		return;
	}
	l->uids[l->n++] = uid;
}

/* Where to go back to after an action: the list (or the message). */
static void action_return(struct ctx *c, uint32_t mb, bool message_gone)
{
	const char *ret = ctx_form(c, "return");
	uint32_t uid = ctx_form_uint(c, "ret_uid", 0);
	if (ret != NULL && strcmp(ret, "msg") == 0 && uid != 0 && !message_gone) {
		page_redirect(c, arena_printf(c->a, "/msg?mb=%u&uid=%u", mb, uid));
		return;
	}
	const char *sort = ctx_form(c, "sort"), *dir = ctx_form(c, "dir");
	uint32_t page = ctx_form_uint(c, "page", 0);
	const char *u = url(c, "/list", "mb", num(c, mb), "sort", sort_lookup(sort)->name, "dir",
			    dir != NULL && strcmp(dir, "asc") == 0 ? "asc" : dir != NULL ? "desc" : NULL,
			    "page", page > 0 ? num(c, page) : NULL, NULL);
	page_redirect(c, u + strlen(c->wm->base));
}

void page_action(struct ctx *c)
{
	struct store_mailbox mb, dst;
	struct uid_list *l = arena_alloc(c->a, sizeof(*l));
	/* NULL unless a refusal says why: a copy or move of messages that are
	 * no longer there (a form sent twice), or into the same folder,
	 * moves nothing and says nothing */
	const char *error = NULL;
	const char *op = ctx_form(c, "op");
	if (l == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	if (ctx_mailbox(c, ctx_form_uint(c, "mb", 0), &mb) <= 0)
		return;
	form_each(&c->req->body, "uid", uid_add, l);
	if (l->bad) {
		page_error(c, 400, "The selection is invalid or too large (at most 1000 messages).");
		return;
	}
	if (op == NULL) {
		page_error(c, 400, "No action was chosen.");
		return;
	}
	if (l->n == 0) {
		action_return(c, mb.id, false);
		return;
	}
	int r = 0;
	bool gone = false;
	static const struct { const char *op; enum store_flag_op how; uint32_t flag; } flag_ops[] = {
		{ "read", STORE_FLAGS_ADD, STORE_FLAG_SEEN },
		{ "unread", STORE_FLAGS_REMOVE, STORE_FLAG_SEEN },
		{ "flag", STORE_FLAGS_ADD, STORE_FLAG_FLAGGED },
		{ "unflag", STORE_FLAGS_REMOVE, STORE_FLAG_FLAGGED },
	};
	for (size_t i = 0; i < sizeof(flag_ops) / sizeof(flag_ops[0]); i++) {
		if (strcmp(op, flag_ops[i].op) != 0)
			continue;
		r = store_msg_set_flags(c->store, mb.id, l->uids, l->n, flag_ops[i].how,
					flag_ops[i].flag, NULL, 0, 0, NULL, NULL, NULL, &error);
		if (r < 0) {
			page_store_error(c, "flags", error);
			return;
		}
		action_return(c, mb.id, false);
		return;
	}
	if (strcmp(op, "move") == 0) {
		if (ctx_mailbox(c, ctx_form_uint(c, "to", 0), &dst) <= 0)
			return;
		if (dst.id != mb.id) {
			r = store_msg_copy(c->store, mb.id, l->uids, l->n, dst.id, true, l->new_uids,
					   &error);
			gone = true;
		}
	} else if (strcmp(op, "copy") == 0) {
		/* copying into the same folder would only duplicate: like a move there */
		if (ctx_mailbox(c, ctx_form_uint(c, "to", 0), &dst) <= 0)
			return;
		if (dst.id != mb.id)
			r = store_msg_copy(c->store, mb.id, l->uids, l->n, dst.id, false, l->new_uids,
					   &error);
	} else if (strcmp(op, "delete") == 0) {
		if (mb.special_use & STORE_SPECIAL_TRASH) {
			r = store_msg_expunge(c->store, mb.id, l->uids, l->n, &error);
		} else {
			int t = ctx_special_mailbox(c, STORE_SPECIAL_TRASH, &dst);
			if (t < 0)
				return;
			if (t == 0) {
				page_error(c, 409, "There is no Trash folder to move the messages to.");
				return;
			}
			r = store_msg_copy(c->store, mb.id, l->uids, l->n, dst.id, true, l->new_uids,
					   &error);
		}
		gone = true;
	} else {
		page_error(c, 400, "Unknown action.");
		return;
	}
	if (r < 0) {
		page_store_error(c, op, error);
		return;
	}
	if (r == 0 && strcmp(op, "delete") != 0 && error != NULL && strstr(error, "quota") != NULL) {
		page_error(c, 409, "The target folder's quota is full.");
		return;
	}
	log_info("webmail: %s user=<%s> mailbox=%u count=%zu", op, c->user.address, mb.id, l->n);
	action_return(c, mb.id, gone);
}

struct all_uids {
	uint32_t *uids;
	size_t n, cap;
	bool oom;
};

static int all_cb(const struct store_msg *m, void *ctx)
{
	struct all_uids *a = ctx;
	if (a->n == a->cap) {
		size_t cap = a->cap == 0 ? 1024 : a->cap * 2;
		uint32_t *u = realloc(a->uids, cap * sizeof(*u));
		if (u == NULL) {
			a->oom = true;
			return 1;
		}
		a->uids = u;
		a->cap = cap;
	}
	a->uids[a->n++] = m->uid;
	return 0;
}

void page_empty(struct ctx *c)
{
	struct store_mailbox mb;
	const char *error;
	struct all_uids a = { 0 };
	if (ctx_mailbox(c, ctx_form_uint(c, "mb", 0), &mb) <= 0)
		return;
	if (!(mb.special_use & (STORE_SPECIAL_TRASH | STORE_SPECIAL_JUNK))) {
		page_error(c, 400, "Only the Trash and Junk folders can be emptied.");
		return;
	}
	if (store_msg_list(c->store, mb.id, 1, UINT32_MAX, all_cb, &a, &error) < 0) {
		free(a.uids);
		page_store_error(c, "empty", error);
		return;
	}
	for (size_t i = 0; i < a.n && !a.oom; i += ACTION_UIDS_MAX) {
		size_t n = a.n - i < ACTION_UIDS_MAX ? a.n - i : ACTION_UIDS_MAX;
		if (store_msg_expunge(c->store, mb.id, a.uids + i, n, &error) < 0) {
			free(a.uids);
			page_store_error(c, "empty", error);
			return;
		}
	}
	free(a.uids);
	log_info("webmail: empty user=<%s> mailbox=%u count=%zu", c->user.address, mb.id, a.n);
	page_redirect(c, arena_printf(c->a, "/list?mb=%u", mb.id));
}
