/* Reading a message: the message page, its print view, the sanitised HTML
 * frame, attachments and the raw source. */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "app.h"
#include "authres.h"
#include "datetime.h"
#include "log.h"
#include "msgbuild.h"
#include "msgpart.h"
#include "receipt.h"
#include "sanitize.h"
#include "textview.h"

/* The message frame's own policy: no script, inline styles, images from us
 * (cid: parts) and, after "show images", from anywhere. */
#define CSP_FRAME "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'%s; " \
	"font-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; " \
	"sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
/* Attachments and raw source shown by the browser: inert. */
#define CSP_INERT "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
/* Parts nested deeper than this are listed as attachments, not walked. */
#define WALK_DEPTH_MAX 50
/* The notice for HTML the sanitizer gave up on (templates/msgbody.html
 * says the same). */
#define TOO_COMPLEX_TEXT "This HTML message is too large or too complex to display; " \
	"download it or view it as plain text."
/* cid: images shown per message (a newsletter has a few dozen); later
 * ones are left without a source. */
#define CID_IMAGES_MAX 1000
/* CPU time for the HTML of one page, all its parts together (each part
 * has SANITIZE_CPU_MS at most): a mail of many parts, each just within
 * that, must not hold a request for minutes (nor a CGI process until its
 * watchdog ends it without closing the store). Parts past it are shown as
 * too complex, with their download. */
#define HTML_CPU_MS (2 * SANITIZE_CPU_MS)
/* HTML parts shown in frames on one page (each frame is a request of its
 * own); further ones are listed as attachments. Apple Mail writes one per
 * picture placed in the text: a few dozen at most. */
#define HTML_PARTS_MAX 100

/* Image types shown inline (never SVG: it can carry script), and the type
 * they are served as ("jpg" and "pjpeg" are common mislabels of jpeg). */
static const struct { const char *subtype, *served; } inline_images[] = {
	{ "png", "png" }, { "jpeg", "jpeg" }, { "gif", "gif" }, { "webp", "webp" },
	{ "bmp", "bmp" }, { "jpg", "jpeg" }, { "pjpeg", "jpeg" },
};

/* The subtype an inline image is served as, or NULL if it is none. */
static const char *image_inline_type(const struct mime_part *p)
{
	if (strcmp(p->type, "image") != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(inline_images) / sizeof(inline_images[0]); i++) {
		if (strcmp(p->subtype, inline_images[i].subtype) == 0)
			return inline_images[i].served;
	}
	return NULL;
}

static bool image_inline_ok(const struct mime_part *p)
{
	return image_inline_type(p) != NULL;
}

/* A Content-ID or a start parameter without its white space and <>. */
static const char *cid_trim(const char *id, size_t *len_r)
{
	while (*id == ' ' || *id == '<')
		id++;
	*len_r = strcspn(id, ">");
	return id;
}

/* The root of a multipart/related (with children): the part its start
 * parameter names (RFC 2387 3.2), else the first. */
static const struct mime_part *related_root(const struct mime_part *p)
{
	const char *start = mime_params_get(&p->params, "start");
	size_t slen, klen;
	if (start != NULL) {
		start = cid_trim(start, &slen);
		for (uint32_t i = 0; i < p->nchildren; i++) {
			const struct mime_part *k = p->children[i];
			const char *id = k->id != NULL ? cid_trim(k->id, &klen) : NULL;
			if (id != NULL && klen == slen && memcmp(id, start, slen) == 0)
				return k;
		}
	}
	return p->children[0];
}

/* An inline image part by Content-ID. */
struct cid_entry {
	const char *id;                /* without the <> */
	size_t len;
	uint32_t order;                /* of the part: the first of equal ids wins */
	const struct mime_part *part;
	const char *url;               /* made on first use */
};

struct view {
	struct ctx *c;
	struct store_mailbox mb;
	struct msgview v;
	const struct mime_part *node;  /* the message shown (root or encapsulated) */
	bool images;
	bool opened;
	bool has_part;                 /* part=N in the query (checked: digits) */
	uint32_t part;
	const char *subject;
	struct cid_entry *cids;        /* sorted on the first cid: lookup */
	uint32_t ncids;
	bool cids_sorted;
	unsigned cid_images;           /* cid: images shown so far */
	unsigned text_items;           /* what is left of TEXTVIEW_ITEMS_MAX */
	unsigned html_parts;           /* HTML parts shown so far */
	struct sanitize_budget html_cpu;   /* what is left of HTML_CPU_MS */
	bool html_cpu_logged;          /* its end was logged */
};

/* Loads mb/uid (and part) from the query; answers and returns -1 on
 * failure. */
static int view_open(struct ctx *c, struct view *w)
{
	const char *part = ctx_query(c, "part");
	*w = (struct view){ .c = c, .has_part = part != NULL, .text_items = TEXTVIEW_ITEMS_MAX,
			    .html_cpu = { (long long)HTML_CPU_MS * 1000000 } };
	if (part != NULL && !uint_parse(part, &w->part)) {
		page_error(c, 400, "This link is not valid: the part is not a number.");
		return -1;
	}
	if (ctx_message(c, ctx_query_uint(c, "mb", 0), ctx_query_uint(c, "uid", 0), &w->mb,
			&w->v) <= 0)
		return -1;
	w->opened = true;
	w->node = w->v.mime->root;
	w->images = ctx_query(c, "images") != NULL;
	return 0;
}

static void view_close(struct view *w)
{
	if (w->opened)
		msgview_close(&w->v);
	w->opened = false;
}

static const char *part_name(struct ctx *c, struct view *w, const struct mime_part *p)
{
	char clean[MSGBUILD_FILENAME_MAX + 1];
	const char *name = mime_part_filename(p);
	const struct mime_part *m = mime_part_message(p);
	if ((name == NULL || *name == '\0') && m != NULL && m->envelope != NULL &&
	    m->envelope->subject != NULL)
		name = arena_printf(c->a, "%s.eml", header_decode(c->a, m->envelope->subject));
	if (name == NULL || *name == '\0')
		return msgview_part_fallback_name(c->a, &w->v, p);
	/* shown and downloaded as it would be saved: without the bidi
	 * overrides that show "invoice<U+202E>fdp.exe" as "invoiceexe.pdf",
	 * controls or a path */
	msgbuild_filename_clean(name, clean);
	return arena_strdup(c->a, clean);
}

static const char *part_url(struct ctx *c, struct view *w, const char *page,
			    const struct mime_part *p, const char *extra)
{
	return arena_printf(c->a, "%s%s?mb=%u&uid=%u&part=%u%s", c->wm->base, page, w->mb.id,
			    w->v.msg.uid, msgview_part_index(&w->v, p), extra);
}

/* This message's page with the list it was opened from (sort, position,
 * search), for links that show it again another way. */
static const char *msg_self_href(struct ctx *c, struct view *w)
{
	struct list_state st;
	uint32_t pos;
	bool has_pos = uint_parse(ctx_query(c, "pos"), &pos);
	list_state_read(c, false, &st);
	return list_state_href(c, "/msg", w->mb.id, w->v.msg.uid,
			       has_pos ? arena_printf(c->a, "%u", pos) : NULL, &st);
}

/* ---------------------------------------------------------------- headers */

static void add_addresses(struct ctx *c, struct tpl_obj *o, const char *name,
			  const struct mime_addresses *list)
{
	tpl_list(o, name);
	for (uint32_t i = 0; i < list->count && i < 200; i++) {
		const struct address *a = &list->items[i];
		if (a->host == NULL)
			continue;        /* group markers */
		struct tpl_obj *it = tpl_item(o, name);
		char *spec = address_addr_spec(a);
		if (a->name != NULL)
			tpl_str(it, "name", header_decode(c->a, a->name));
		tpl_str(it, "address", spec);
		free(spec);
	}
}

static void fill_headers(struct ctx *c, struct view *w)
{
	const struct mime_envelope *env = w->node->envelope;
	struct tpl_obj *h = tpl_obj(c->data, "msg");
	const char *subject = env != NULL ? header_decode(c->a, env->subject) : "";
	w->subject = *subject != '\0' ? subject : "(no subject)";
	tpl_str(h, "subject", w->subject);
	time_t t = 0;
	int tz;
	if (env == NULL || env->date == NULL ||
	    !datetime_parse(env->date, strlen(env->date), &t, &tz))
		t = (time_t)w->v.msg.internaldate;
	tpl_str(h, "date", fmt_date_long(c, (int64_t)t));
	if (env != NULL) {
		add_addresses(c, h, "from", &env->from);
		add_addresses(c, h, "to", &env->to);
		add_addresses(c, h, "cc", &env->cc);
		add_addresses(c, h, "reply_to", &env->reply_to);
	}
	tpl_bool(h, "flagged", w->v.msg.flags & STORE_FLAG_FLAGGED);
	tpl_bool(h, "unread", !(w->v.msg.flags & STORE_FLAG_SEEN));
	tpl_int(h, "uid", w->v.msg.uid);
	tpl_str(h, "size", fmt_size(c, w->v.msg.size));
}

/* The warning about a message that failed its sender checks, from our
 * own Authentication-Results field (authres.h). Only the top message's
 * header: an attached message's fields never passed our MX (nor did the
 * outer message's results say anything about it). */
static enum authres_warning fill_auth_warning(struct ctx *c, struct view *w)
{
	struct authres ar;
	if (w->node != w->v.mime->root || c->wm->config->hostname == NULL)
		return AUTHRES_WARN_NONE;
	const char *h = msgview_header_text(&w->v, w->node, c->a);
	if (h == NULL || authres_parse(h, strlen(h), c->wm->config->hostname, &ar) != 1)
		return AUTHRES_WARN_NONE;
	struct tpl_obj *o = tpl_obj(c->data, "auth");
	enum authres_warning warn = authres_warning(&ar);
	switch (warn) {
	case AUTHRES_WARN_DMARC:
		tpl_bool(o, "dmarc_fail", true);
		tpl_str(o, "domain", ar.header_from);
		break;
	case AUTHRES_WARN_UNVERIFIED:
		tpl_bool(o, "unverified", true);
		break;
	case AUTHRES_WARN_NONE:
		break;
	}
	return warn;
}

/* ---------------------------------------------------------------- body */

static int cid_key_cmp(const struct cid_entry *a, const struct cid_entry *b)
{
	int r = memcmp(a->id, b->id, a->len < b->len ? a->len : b->len);
	return r != 0 ? r : a->len < b->len ? -1 : a->len > b->len;
}

static int cid_cmp(const void *a, const void *b)
{
	const struct cid_entry *x = a, *y = b;
	int r = cid_key_cmp(x, y);
	return r != 0 ? r : x->order < y->order ? -1 : x->order > y->order;
}

/* The inline image parts, sorted by Content-ID: once per request, so that
 * each cid: image is a binary search, not a walk over every part. */
static void cid_sort(struct view *w)
{
	const struct mime_message *m = w->v.mime;
	w->cids_sorted = true;
	w->cids = arena_alloc(w->c->a, (size_t)m->nparts * sizeof(*w->cids));
	if (w->cids == NULL)
		return;
	for (uint32_t i = 0; i < m->nparts; i++) {
		const struct mime_part *p = m->parts[i];
		size_t len;
		if (p->id == NULL || p->nchildren > 0 || !image_inline_ok(p))
			continue;
		const char *id = cid_trim(p->id, &len);
		w->cids[w->ncids++] = (struct cid_entry){ .id = id, .len = len, .order = i,
							  .part = p };
	}
	qsort(w->cids, w->ncids, sizeof(*w->cids), cid_cmp);
}

static const char *cid_lookup(void *ctx, const char *cid)
{
	struct view *w = ctx;
	struct cid_entry key = { .id = cid, .len = strlen(cid) };
	if (!w->cids_sorted)
		cid_sort(w);
	if (w->cid_images >= CID_IMAGES_MAX)
		return NULL;
	size_t lo = 0, hi = w->ncids;
	while (lo < hi) {             /* the first entry not below the key */
		size_t mid = lo + (hi - lo) / 2;
		if (cid_key_cmp(&w->cids[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == w->ncids || cid_key_cmp(&w->cids[lo], &key) != 0)
		return NULL;
	struct cid_entry *e = &w->cids[lo];
	if (e->url == NULL)
		e->url = part_url(w->c, w, "/part", e->part, "&inline=1");
	w->cid_images++;
	return e->url;
}

/* What html_sanitized made of an HTML part. */
enum html_result { HTML_FAILED = -1, HTML_TOO_LARGE, HTML_OK, HTML_TOO_COMPLEX };

/* Decodes and sanitises an HTML part (a part too complex to parse is
 * logged here). */
static enum html_result html_sanitized(struct ctx *c, struct view *w, const struct mime_part *p,
				       struct buf *out, struct sanitize_stats *stats,
				       const char **error_r)
{
	char *html;
	size_t len;
	bool cut;
	if (p->body_len > SANITIZE_INPUT_MAX)
		return HTML_TOO_LARGE;
	if (msgview_part_decode(&w->v, p, SANITIZE_INPUT_MAX, true, &html, &len, &cut, error_r) < 0)
		return HTML_FAILED;
	struct sanitize_options opt = { .show_images = w->images, .cid_url = cid_lookup,
					.cid_ctx = w, .budget = &w->html_cpu };
	int r = sanitize_html(html, len, &opt, out, stats);
	free(html);
	if (r == SANITIZE_TOO_COMPLEX && w->html_cpu.cpu_ns_left > 0) {
		log_warning("webmail: uid %u part %u: the HTML is too large or too complex to "
			    "parse; not shown", w->v.msg.uid, msgview_part_index(&w->v, p));
	} else if (r == SANITIZE_TOO_COMPLEX && !w->html_cpu_logged) {
		w->html_cpu_logged = true;
		log_warning("webmail: uid %u: the page's time for HTML is spent at part %u; "
			    "that part and the HTML after it not shown", w->v.msg.uid,
			    msgview_part_index(&w->v, p));
	}
	if (r == SANITIZE_TOO_COMPLEX)
		return HTML_TOO_COMPLEX;
	if (r < 0) {
		*error_r = "the HTML is too large or memory ran out";
		return HTML_TOO_LARGE;
	}
	return HTML_OK;
}

static void add_attachment(struct ctx *c, struct view *w, const struct mime_part *p)
{
	struct tpl_obj *it = tpl_item(c->data, "attachments");
	tpl_str(it, "name", part_name(c, w, p));
	tpl_str(it, "type", arena_printf(c->a, "%s/%s", p->type, p->subtype));
	tpl_str(it, "size", fmt_size(c, msgview_part_size(p)));
	tpl_str(it, "href", part_url(c, w, "/part", p, ""));
	if (image_inline_ok(p))
		tpl_str(it, "preview", part_url(c, w, "/part", p, "&inline=1"));
	if (mime_part_message(p) != NULL)
		tpl_str(it, "view", arena_printf(c->a, "%s/msg?mb=%u&uid=%u&part=%u", c->wm->base,
						 w->mb.id, w->v.msg.uid,
						 msgview_part_index(&w->v, p)));
}

static void add_text_block(struct ctx *c, struct view *w, const struct mime_part *p)
{
	const char *error;
	char *text;
	size_t len;
	bool cut;
	struct tpl_obj *b = tpl_item(c->data, "blocks");
	if (msgview_part_decode(&w->v, p, MSGPART_TEXT_MAX, true, &text, &len, &cut, &error) < 0) {
		log_error("webmail: text part: %s", error);
		tpl_bool(b, "failed", true);
		return;
	}
	const char *format = mime_params_get(&p->params, "format");
	const char *delsp = mime_params_get(&p->params, "delsp");
	bool flowed = format != NULL && strcasecmp(format, "flowed") == 0;
	tpl_bool(b, "text", true);
	textview_fill(b, "paragraphs", text, len, flowed,
		      flowed && delsp != NULL && strcasecmp(delsp, "yes") == 0, &w->text_items);
	free(text);
	if (cut) {
		tpl_bool(b, "truncated", true);
		tpl_str(b, "href", part_url(c, w, "/part", p, ""));
	}
}

static void add_html_block(struct ctx *c, struct view *w, const struct mime_part *p)
{
	const char *error;
	struct buf out;
	struct sanitize_stats stats = { 0 };
	if (w->html_parts >= HTML_PARTS_MAX) {
		add_attachment(c, w, p);
		return;
	}
	w->html_parts++;
	struct tpl_obj *b = tpl_item(c->data, "blocks");
	buf_init(&out, 0);
	enum html_result r = html_sanitized(c, w, p, &out, &stats, &error);
	buf_free(&out);
	if (r != HTML_OK) {
		if (r == HTML_FAILED)
			log_error("webmail: html part: %s", error);
		tpl_bool(b, r == HTML_TOO_COMPLEX ? "too_complex" : "failed", true);
		tpl_str(b, "href", part_url(c, w, "/part", p, ""));
		tpl_str(b, "raw_href", arena_printf(c->a, "%s/raw?mb=%u&uid=%u", c->wm->base,
						    w->mb.id, w->v.msg.uid));
		return;
	}
	tpl_bool(b, "html", true);
	tpl_str(b, "src", part_url(c, w, "/body", p, w->images ? "&images=1" : ""));
	if (stats.blocked_images > 0 && !w->images) {
		tpl_int(b, "blocked", stats.blocked_images);
		tpl_str(c->data, "show_images_href",
			arena_printf(c->a, "%s%s&images=1", msg_self_href(c, w),
				     w->has_part ? arena_printf(c->a, "&part=%u", w->part) : ""));
	}
}

static bool is_html_like(const struct mime_part *p)
{
	if (part_is(p, "text", "html"))
		return true;
	if (part_is(p, "multipart", "related") && p->nchildren > 0)
		return part_is(related_root(p), "text", "html");
	return false;
}

static bool is_attachment(const struct mime_part *p)
{
	return p->disposition != NULL && strcmp(p->disposition, "attachment") == 0;
}

/* The attachments of an alternative not shown: Apple Mail puts a file in
 * the HTML branch only (alternative: text/plain, mixed: html, file, html),
 * and the text view must not lose it. The other branch's text bodies and
 * the cid: resources of its related parts are that branch's rendering, not
 * files. */
static void other_alternative(struct ctx *c, struct view *w, const struct mime_part *p,
			      unsigned depth)
{
	if (depth > WALK_DEPTH_MAX) {
		add_attachment(c, w, p);
		return;
	}
	if (mime_part_is_multipart(p)) {
		const struct mime_part *root = strcmp(p->subtype, "related") == 0 && p->nchildren > 0
			? related_root(p) : NULL;
		for (uint32_t i = 0; i < p->nchildren; i++) {
			const struct mime_part *k = p->children[i];
			if (root != NULL && k != root && !is_attachment(k) && image_inline_ok(k) &&
			    k->id != NULL)
				continue;
			other_alternative(c, w, k, depth + 1);
		}
		return;
	}
	if (is_attachment(p) || strcmp(p->type, "text") != 0)
		add_attachment(c, w, p);
}

static void walk(struct ctx *c, struct view *w, const struct mime_part *p, unsigned depth)
{
	if (depth > WALK_DEPTH_MAX) {
		add_attachment(c, w, p);
		return;
	}
	if (mime_part_is_multipart(p)) {
		if (p->nchildren == 0)
			return;
		if (strcmp(p->subtype, "alternative") == 0) {
			const struct mime_part *best = NULL;
			for (uint32_t i = 0; i < p->nchildren; i++) {
				const struct mime_part *k = p->children[i];
				if (c->prefs.prefer_html ? is_html_like(k) : part_is(k, "text", "plain"))
					best = k;
			}
			if (best == NULL) {
				for (uint32_t i = 0; i < p->nchildren; i++) {
					const struct mime_part *k = p->children[i];
					if (strcmp(k->type, "text") == 0 || mime_part_is_multipart(k))
						best = k;
				}
			}
			if (best == NULL)
				best = p->children[p->nchildren - 1];
			walk(c, w, best, depth + 1);
			for (uint32_t i = 0; i < p->nchildren; i++) {
				if (p->children[i] != best)
					other_alternative(c, w, p->children[i], depth + 1);
			}
			return;
		}
		if (strcmp(p->subtype, "related") == 0) {
			/* the root shows; the rest are its inline resources,
			 * listed when no cid: can show them */
			const struct mime_part *root = related_root(p);
			walk(c, w, root, depth + 1);
			for (uint32_t i = 0; i < p->nchildren; i++) {
				const struct mime_part *k = p->children[i];
				if (k != root && (is_attachment(k) || !image_inline_ok(k) || k->id == NULL))
					add_attachment(c, w, k);
			}
			return;
		}
		for (uint32_t i = 0; i < p->nchildren; i++)
			walk(c, w, p->children[i], depth + 1);
		return;
	}
	if (p != w->node && mime_part_message(p) != NULL) {
		add_attachment(c, w, p);
		return;
	}
	if (p == w->node && p != w->v.mime->root && p->nchildren == 0 &&
	    strcmp(p->type, "text") != 0) {
		add_attachment(c, w, p);
		return;
	}
	if (!is_attachment(p) && part_is(p, "text", "plain")) {
		add_text_block(c, w, p);
		return;
	}
	if (!is_attachment(p) && part_is(p, "text", "html")) {
		add_html_block(c, w, p);
		return;
	}
	add_attachment(c, w, p);
}

/* ---------------------------------------------------------------- neighbours */

struct nb_ctx {
	uint32_t uids[3];
	unsigned n;
};

static int nb_cb(const struct store_msg *m, void *ctx)
{
	struct nb_ctx *nb = ctx;
	if (nb->n < 3)
		nb->uids[nb->n++] = m->uid;
	return 0;
}

static void fill_neighbours(struct ctx *c, struct view *w)
{
	static const struct { const char *name; enum store_sort sort; } sorts[] = {
		{ "date", STORE_SORT_DATE }, { "from", STORE_SORT_FROM },
		{ "subject", STORE_SORT_SUBJECT }, { "size", STORE_SORT_SIZE },
		{ "arrival", STORE_SORT_ARRIVAL },
	};
	const char *sort = ctx_query(c, "sort"), *dir = ctx_query(c, "dir"), *error;
	uint32_t pos;
	if (sort == NULL || !uint_parse(ctx_query(c, "pos"), &pos))
		return;
	size_t i;
	for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		if (strcmp(sorts[i].name, sort) == 0)
			break;
	}
	if (i == sizeof(sorts) / sizeof(sorts[0]))
		return;
	bool desc = dir == NULL || strcmp(dir, "asc") != 0;
	struct nb_ctx nb = { 0 };
	uint32_t first = pos > 0 ? pos - 1 : 0;
	if (store_msg_page(c->store, w->mb.id, sorts[i].sort, desc, first, pos > 0 ? 3 : 2, nb_cb,
			   &nb, &error) < 0)
		return;
	unsigned self = pos > 0 ? 1 : 0;
	if (nb.n <= self || nb.uids[self] != w->v.msg.uid)
		return;              /* the list changed: no neighbours */
	const char *d = desc ? "desc" : "asc";
	if (self == 1)
		tpl_str(c->data, "prev_href",
			arena_printf(c->a, "%s/msg?mb=%u&uid=%u&sort=%s&dir=%s&pos=%u", c->wm->base,
				     w->mb.id, nb.uids[0], sorts[i].name, d, pos - 1));
	if (nb.n > self + 1)
		tpl_str(c->data, "next_href",
			arena_printf(c->a, "%s/msg?mb=%u&uid=%u&sort=%s&dir=%s&pos=%u", c->wm->base,
				     w->mb.id, nb.uids[self + 1], sorts[i].name, d, pos + 1));
	if (nb.n > self + 1)
		tpl_int(c->data, "next_uid", nb.uids[self + 1]);
	tpl_bool(c->data, "has_pos", true);
	tpl_int(c->data, "pos", pos);
}

/* The way back to the list this message was opened from (its page, sort
 * and search), the same for the action form, and what an action that
 * came back here did. */
static void fill_list_state(struct ctx *c, const struct view *w)
{
	struct list_state st;
	uint32_t pos;
	list_state_read(c, false, &st);
	if (ctx_query(c, "page") == NULL && uint_parse(ctx_query(c, "pos"), &pos))
		st.page = pos / c->prefs.page_size;
	tpl_str(c->data, "list_href", list_state_href(c, "/list", w->mb.id, 0, NULL, &st));
	list_state_keep(c, &st);
	list_done_notice(c);
}

/* ---------------------------------------------------------------- pages */

/* The message (or an attached one: part=N of type message/rfc822). */
static int view_fill(struct ctx *c, struct view *w)
{
	if (w->has_part) {
		const struct mime_part *p = msgview_part(&w->v, w->part);
		const struct mime_part *inner = p != NULL ? mime_part_message(p) : NULL;
		if (inner == NULL) {
			page_error(c, 404, "There is no such attached message.");
			return -1;
		}
		w->node = inner;
		tpl_str(c->data, "parent_href", arena_printf(c->a, "%s/msg?mb=%u&uid=%u", c->wm->base,
							     w->mb.id, w->v.msg.uid));
	}
	fill_headers(c, w);
	/* "Add to contacts"; remote images from senders in the address book
	 * when the user chose so (the default stays: never), unless the
	 * message failed its From: domain's checks: that sender is forged. */
	enum authres_warning warn = fill_auth_warning(c, w);
	if (ctx_sender_known(c, w->node->envelope) && warn != AUTHRES_WARN_DMARC &&
	    c->prefs.remote_images == STORE_REMOTE_IMAGES_KNOWN)
		w->images = true;
	tpl_list(c->data, "blocks");
	tpl_list(c->data, "attachments");
	walk(c, w, w->node, 0);
	tpl_int(c->data, "mb", w->mb.id);
	tpl_str(c->data, "folder", strcmp(w->mb.name, "INBOX") == 0 ? "Inbox" : w->mb.name);
	tpl_int(c->data, "uid", w->v.msg.uid);
	tpl_bool(c->data, "in_trash", w->mb.special_use & STORE_SPECIAL_TRASH);
	tpl_bool(c->data, "in_junk", w->mb.special_use & STORE_SPECIAL_JUNK);
	return 0;
}

void page_msg(struct ctx *c)
{
	struct view w;
	const char *error;
	if (view_open(c, &w) < 0)
		return;
	if (view_fill(c, &w) < 0) {
		view_close(&w);
		return;
	}
	if (ctx_query(c, "headers") != NULL) {
		const char *h = msgview_header_text(&w.v, w.node, c->a);
		tpl_str(c->data, "all_headers", h != NULL ? h : "(the header could not be read)");
	}
	if (!(w.v.msg.flags & STORE_FLAG_SEEN)) {
		uint32_t uid = w.v.msg.uid;
		if (store_msg_set_flags(c->store, w.mb.id, &uid, 1, STORE_FLAGS_ADD, STORE_FLAG_SEEN,
					NULL, 0, 0, NULL, NULL, NULL, &error) < 0)
			log_error("webmail: mark read: %s", error);
		else if (w.mb.unseen > 0)
			w.mb.unseen--;
	}
	fill_neighbours(c, &w);
	fill_list_state(c, &w);
	if (!w.has_part)
		receipt_notice_fill(c, &w.mb, &w.v.msg, msgview_header_text(&w.v, w.node, c->a));
	if (ctx_folders(c, w.mb.id) < 0) {
		view_close(&w);
		return;
	}
	/* move targets */
	tpl_str(c->data, "raw_href", arena_printf(c->a, "%s/raw?mb=%u&uid=%u", c->wm->base, w.mb.id,
						  w.v.msg.uid));
	tpl_str(c->data, "eml_href", arena_printf(c->a, "%s/raw?mb=%u&uid=%u&dl=1", c->wm->base,
						  w.mb.id, w.v.msg.uid));
	tpl_str(c->data, "print_href", arena_printf(c->a, "%s/print?mb=%u&uid=%u", c->wm->base,
						    w.mb.id, w.v.msg.uid));
	tpl_str(c->data, "headers_href", arena_printf(c->a, "%s&headers=1", msg_self_href(c, &w)));
	view_close(&w);
	page_render(c, "msg", w.subject);
}

void page_print(struct ctx *c)
{
	struct view w;
	if (view_open(c, &w) < 0)
		return;
	if (view_fill(c, &w) < 0) {
		view_close(&w);
		return;
	}
	view_close(&w);
	page_render_bare(c, "print");
}

void page_body(struct ctx *c)
{
	struct view w;
	const char *error;
	struct buf out;
	struct sanitize_stats stats = { 0 };
	if (view_open(c, &w) < 0)
		return;
	const struct mime_part *p = w.has_part ? msgview_part(&w.v, w.part) : NULL;
	if (p == NULL || !part_is(p, "text", "html")) {
		view_close(&w);
		page_error(c, 404, "There is no such HTML part.");
		return;
	}
	buf_init(&out, 0);
	enum html_result r = html_sanitized(c, &w, p, &out, &stats, &error);
	view_close(&w);
	if (r != HTML_OK) {
		buf_free(&out);
		page_error(c, r == HTML_FAILED ? 503 : 413, r == HTML_TOO_COMPLEX ? TOO_COMPLEX_TEXT
			   : "This HTML part cannot be shown; download it instead.");
		return;
	}
	char err[512];
	buf_reset(&c->resp->body);
	ctx_fill_common(c);
	if (tpl_render_html(c->wm->templates, "frame", c->data, out.data == NULL ? "" : out.data,
			    out.len, &c->resp->body, err, sizeof(err)) < 0) {
		buf_free(&out);
		log_error("webmail: template error: %s", err);
		page_error(c, 500, "The page could not be shown.");
		return;
	}
	buf_free(&out);
	ctx_set_csp(c, arena_printf(c->a, CSP_FRAME, w.images ? " https: http:" : ""), true);
	http_header_add(c->resp, c->a, "Content-Type", "text/html; charset=utf-8");
	http_header_add(c->resp, c->a, "Cache-Control", "private, no-store");
}

/* RFC 6266: an ASCII fallback name and the UTF-8 name. */
static const char *disposition(struct ctx *c, const char *type, const char *name)
{
	struct buf ascii, utf8;
	buf_init(&ascii, 1024);
	buf_init(&utf8, 4096);
	for (const unsigned char *s = (const unsigned char *)name; *s != '\0' && ascii.len < 200; s++) {
		char ch = (char)*s;
		if (*s < 0x20 || *s >= 0x7f || ch == '"' || ch == '\\' || ch == '/' || ch == ';' ||
		    ch == '%')
			ch = '_';
		buf_putc(&ascii, ch);
	}
	tpl_escape_url_part(&utf8, name, strlen(name) > 600 ? 600 : strlen(name));
	const char *v = arena_printf(c->a, "%s; filename=\"%s\"; filename*=UTF-8''%s", type,
				     ascii.data != NULL ? ascii.data : "download",
				     utf8.data != NULL ? utf8.data : "download");
	buf_free(&ascii);
	buf_free(&utf8);
	return v;
}

void page_part(struct ctx *c)
{
	struct view w;
	if (view_open(c, &w) < 0)
		return;
	const struct mime_part *p = w.has_part ? msgview_part(&w.v, w.part) : NULL;
	if (p == NULL || p->nchildren > 0 || (p == w.v.mime->root && mime_part_is_multipart(p))) {
		view_close(&w);
		page_error(c, 404, "There is no such attachment.");
		return;
	}
	bool inline_view = ctx_query(c, "inline") != NULL;
	if (inline_view && !image_inline_ok(p)) {
		view_close(&w);
		page_error(c, 415, "This attachment cannot be shown here; download it instead.");
		return;
	}
	const char *name = part_name(c, &w, p);
	if (inline_view) {
		http_header_add(c->resp, c->a, "Content-Type",
				arena_printf(c->a, "image/%s", image_inline_type(p)));
		http_header_add(c->resp, c->a, "Content-Disposition", disposition(c, "inline", name));
		http_header_add(c->resp, c->a, "Cache-Control", "private, max-age=3600");
	} else {
		/* the server picks the type: a download is bytes, nothing else */
		http_header_add(c->resp, c->a, "Content-Type", "application/octet-stream");
		http_header_add(c->resp, c->a, "Content-Disposition",
				disposition(c, "attachment", name));
		http_header_add(c->resp, c->a, "Cache-Control", "private, no-store");
	}
	ctx_set_csp(c, CSP_INERT, false);
	if (msgview_part_stream(&w.v, p, &c->resp->stream) < 0) {
		view_close(&w);
		page_error(c, 500, "Out of memory.");
		return;
	}
}

void page_raw(struct ctx *c)
{
	struct view w;
	if (view_open(c, &w) < 0)
		return;
	bool dl = ctx_query(c, "dl") != NULL;
	if (dl) {
		http_header_add(c->resp, c->a, "Content-Type", "message/rfc822");
		http_header_add(c->resp, c->a, "Content-Disposition",
				disposition(c, "attachment",
					    arena_printf(c->a, "message-%u.eml", w.v.msg.uid)));
	} else {
		http_header_add(c->resp, c->a, "Content-Type", "text/plain; charset=utf-8");
	}
	http_header_add(c->resp, c->a, "Cache-Control", "private, no-store");
	ctx_set_csp(c, CSP_INERT, false);
	if (msgview_raw_stream(&w.v, &c->resp->stream) < 0) {
		view_close(&w);
		page_error(c, 500, "Out of memory.");
	}
}
