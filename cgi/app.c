/* The webmail core (webmail.h): routing, sessions, CSRF, security headers,
 * error pages, and the helpers page handlers share (app.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "msgpart.h"
#include "tzinfo.h"
#include "vacation.h"

/* Pages we generate: nothing but our own styles, images and frames, and
 * forms posting to ourselves. No script at all. */
#define CSP_PAGE "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; " \
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

enum route_flags {
	R_GET = 1 << 0,
	R_POST = 1 << 1,
	R_SESSION = 1 << 2,   /* needs a signed-in user */
	R_CSRF = 1 << 3,      /* POST must carry this session's token */
	R_PREFIX = 1 << 4,    /* path is a prefix (static files) */
	R_SITE = 1 << 5,      /* path is from the site's root, not below the base */
	R_NOCASE = 1 << 6,    /* path compared ignoring case (Outlook varies it) */
	R_KEEP = 1 << 7,      /* a POST without a valid session or token keeps
				 what was typed (the compose page, compose_keep.c) */
};

struct route {
	const char *path;
	unsigned flags;
	void (*handler)(struct ctx *c);
};

/* One table: a row says which methods, whether a session and a CSRF token
 * are needed; the checks happen once, in dispatch(). */
static const struct route routes[] = {
	{ "/", R_GET | R_SESSION, page_home },
	{ "/login", R_GET | R_POST, page_login },
	{ "/logout", R_POST | R_SESSION | R_CSRF, page_logout },
	{ "/list", R_GET | R_SESSION, page_list },
	{ "/action", R_POST | R_SESSION | R_CSRF, page_action },
	{ "/empty", R_POST | R_SESSION | R_CSRF, page_empty },
	{ "/msg", R_GET | R_SESSION, page_msg },
	{ "/receipt", R_POST | R_SESSION | R_CSRF, page_receipt },
	{ "/print", R_GET | R_SESSION, page_print },
	{ "/body", R_GET | R_SESSION, page_body },
	{ "/part", R_GET | R_SESSION, page_part },
	{ "/raw", R_GET | R_SESSION, page_raw },
	{ "/compose", R_GET | R_POST | R_SESSION | R_CSRF | R_KEEP, page_compose },
	{ "/settings", R_GET | R_POST | R_SESSION | R_CSRF, page_settings },
	{ "/vacation", R_GET | R_POST | R_SESSION | R_CSRF, page_vacation },
	{ "/filters", R_GET | R_POST | R_SESSION | R_CSRF, page_filters },
	{ "/password", R_GET | R_POST | R_SESSION | R_CSRF, page_password },
	{ "/folders", R_GET | R_POST | R_SESSION | R_CSRF, page_folders },
	{ "/contacts", R_GET | R_SESSION, page_contacts },
	{ "/contacts/edit", R_GET | R_POST | R_SESSION | R_CSRF, page_contact_edit },
	{ "/contacts/delete", R_POST | R_SESSION | R_CSRF, page_contact_delete },
	{ "/contacts/add-sender", R_POST | R_SESSION | R_CSRF, page_contact_sender },
	{ "/contacts/export", R_GET | R_SESSION, page_contacts_export },
	{ "/contacts/import", R_POST | R_SESSION | R_CSRF, page_contacts_import },
	{ "/static/", R_GET | R_PREFIX, page_static },
	{ "/setup", R_GET | R_SESSION, page_setup },
	{ "/setup/pillarbox.mobileconfig", R_GET | R_SESSION, page_mobileconfig },
	/* mail client set-up, where the clients look for it */
	{ "/.well-known/autoconfig/mail/config-v1.1.xml", R_GET | R_SITE, page_autoconfig },
	{ "/mail/config-v1.1.xml", R_GET | R_SITE, page_autoconfig },
	{ "/autodiscover/autodiscover.xml", R_POST | R_SITE | R_NOCASE, page_autodiscover },
	/* for other mail servers: the MX's TLS policy */
	{ "/.well-known/mta-sts.txt", R_GET | R_SITE, page_mta_sts },
};

/* ================================================================ set-up */

static char *dir_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

int webmail_new(const struct config *config, struct store *store, bool server,
		struct webmail **wm_r, const char **error_r)
{
	struct webmail *wm = calloc(1, sizeof(*wm));
	char *site = NULL;
	if (wm == NULL)
		goto oom;
	wm->config = config;
	wm->store = store;
	const char *base = config->webmail_base != NULL ? config->webmail_base : "/webmail";
	size_t blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if ((wm->base = strndup(base, blen)) == NULL)
		goto oom;
	/* site overrides: "templates" beside pillarbox.conf */
	if (config->path != NULL) {
		const char *slash = strrchr(config->path, '/');
		char *dir = slash == NULL ? strdup(".")
					  : strndup(config->path, (size_t)(slash - config->path));
		if (dir == NULL)
			goto oom;
		site = dir_join(dir, "templates");
		free(dir);
		if (site == NULL)
			goto oom;
		if (strcmp(site, config->templates) == 0) {
			free(site);
			site = NULL;
		}
	}
	const char *dirs[2] = { site, config->templates };
	if (tpl_set_new(dirs, 2, server, &wm->templates) < 0)
		goto oom;
	if ((wm->static_dir = dir_join(config->templates, "static")) == NULL)
		goto oom;
	if (site != NULL && (wm->site_static_dir = dir_join(site, "static")) == NULL)
		goto oom;
	free(site);
	*wm_r = wm;
	return 0;
oom:
	free(site);
	webmail_free(&wm);
	*error_r = "out of memory";
	return -1;
}

void webmail_free(struct webmail **wmp)
{
	struct webmail *wm = *wmp;
	if (wm == NULL)
		return;
	tpl_set_free(&wm->templates);
	free(wm->static_dir);
	free(wm->site_static_dir);
	free(wm->base);
	free(wm);
	*wmp = NULL;
}

const char *webmail_base(const struct webmail *wm)
{
	return wm->base;
}

/* ================================================================ helpers */

void hex_encode(const uint8_t *bytes, size_t len, char *dst)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		dst[2 * i] = hex[bytes[i] >> 4];
		dst[2 * i + 1] = hex[bytes[i] & 15];
	}
	dst[2 * len] = '\0';
}

bool hex_decode(const char *hex, uint8_t *bytes, size_t len)
{
	if (strlen(hex) != 2 * len)
		return false;
	for (size_t i = 0; i < 2 * len; i++) {
		char ch = hex[i];
		int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (v < 0)
			return false;
		if (i % 2 == 0)
			bytes[i / 2] = (uint8_t)(v << 4);
		else
			bytes[i / 2] |= (uint8_t)v;
	}
	return true;
}

bool token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

bool uint_parse(const char *s, uint32_t *v_r)
{
	uint64_t v = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 10)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*v_r = (uint32_t)v;
	return true;
}

const char *ctx_query(const struct ctx *c, const char *name)
{
	return form_get(&c->query, name);
}

const char *ctx_form(const struct ctx *c, const char *name)
{
	return form_get(&c->req->body, name);
}

uint32_t ctx_query_uint(const struct ctx *c, const char *name, uint32_t def)
{
	uint32_t v;
	return uint_parse(ctx_query(c, name), &v) ? v : def;
}

uint32_t ctx_form_uint(const struct ctx *c, const char *name, uint32_t def)
{
	uint32_t v;
	return uint_parse(ctx_form(c, name), &v) ? v : def;
}

static void add_security_headers(struct ctx *c, const char *csp, bool framable)
{
	struct http_response *r = c->resp;
	http_header_add(r, c->a, "Content-Security-Policy", csp);
	http_header_add(r, c->a, "X-Frame-Options", framable ? "SAMEORIGIN" : "DENY");
	http_header_add(r, c->a, "X-Content-Type-Options", "nosniff");
	http_header_add(r, c->a, "Referrer-Policy", "no-referrer");
	/* a browser may look up the host of every link on a page ahead of a
	 * click, telling a tracker the mail was opened, images blocked or not */
	http_header_add(r, c->a, "X-DNS-Prefetch-Control", "off");
	http_header_add(r, c->a, "Cross-Origin-Opener-Policy", "same-origin");
	http_header_add(r, c->a, "Cross-Origin-Resource-Policy", "same-origin");
	if (c->req->https)
		http_header_add(r, c->a, "Strict-Transport-Security", "max-age=31536000");
}

/* Whether the browser says one of our own pages made the request
 * (Sec-Fetch-Site: same-origin; a foreign page cannot forge it). Origin
 * and Referer cannot say it here: with our Referrer-Policy (no-referrer)
 * a browser sends "Origin: null" with our own forms' POSTs, as a hostile
 * page can have it do; a neighbour on the same site (another subdomain)
 * gets "same-site" and is not us either. "none" (the user's own reload or
 * resubmission from the history) is not taken: it can replay a POST that
 * a foreign page made. The message frame is same-origin but can send no
 * form (form-action 'none', sandbox without allow-forms). A browser that
 * sends no such header gets false: what depends on this is a convenience,
 * never a right. */
bool ctx_same_origin(const struct ctx *c)
{
	return c->req->fetch_site != NULL && strcmp(c->req->fetch_site, "same-origin") == 0;
}

void ctx_set_csp(struct ctx *c, const char *csp, bool framable)
{
	for (size_t i = 0; i < c->resp->nheaders; i++) {
		struct http_header *h = &c->resp->headers[i];
		if (strcmp(h->name, "Content-Security-Policy") == 0)
			h->value = arena_strdup(c->a, csp);
		else if (strcmp(h->name, "X-Frame-Options") == 0)
			h->value = framable ? "SAMEORIGIN" : "DENY";
	}
}

static void set_cookie(struct ctx *c, const char *name, const char *value, long max_age)
{
	/* Path=/webmail matches /webmail and /webmail/..., not /webmailx */
	char *v = arena_printf(c->a, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
			       name, value, c->wm->base[0] != '\0' ? c->wm->base : "/", max_age,
			       c->req->https ? "; Secure" : "");
	if (v != NULL)
		http_header_add(c->resp, c->a, "Set-Cookie", v);
}

/* ================================================================ finishers */

/* The page that is shown when even the error template fails: fixed text,
 * no user data. */
static const char fallback_page[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>Webmail unavailable</title></head><body><h1>Webmail unavailable</h1>"
	"<p>The page could not be shown. The error was logged; please try again later.</p>"
	"</body></html>\n";

void ctx_fill_common(struct ctx *c)
{
	struct tpl_obj *d = c->data;
	tpl_str(d, "base", c->wm->base);
	tpl_str(d, "static", arena_printf(c->a, "%s/static", c->wm->base));
	if (c->signed_in) {
		tpl_bool(d, "signed_in", true);
		tpl_str(d, "user", c->user.address);
		tpl_str(d, "csrf", c->csrf);
	}
}

static void finish_html(struct ctx *c, const char *page, const char *layout, const char *title)
{
	char err[512];
	ctx_fill_common(c);
	if (title != NULL)
		tpl_str(c->data, "title", title);
	buf_reset(&c->resp->body);
	int r = layout != NULL
		? tpl_render_page(c->wm->templates, page, layout, c->data, &c->resp->body, err,
				  sizeof(err))
		: tpl_render(c->wm->templates, page, c->data, &c->resp->body, err, sizeof(err));
	if (r < 0) {
		log_error("webmail: template error: %s", err);
		c->resp->status = 500;
		buf_reset(&c->resp->body);
		buf_puts(&c->resp->body, fallback_page);
	}
	http_header_add(c->resp, c->a, "Content-Type", "text/html; charset=utf-8");
	http_header_add(c->resp, c->a, "Cache-Control", "no-store");
}

void page_render(struct ctx *c, const char *name, const char *title)
{
	finish_html(c, name, "layout", title);
}

void page_render_bare(struct ctx *c, const char *name)
{
	finish_html(c, name, NULL, NULL);
}

void page_redirect(struct ctx *c, const char *path)
{
	c->resp->status = 303;
	http_header_add(c->resp, c->a, "Location", arena_printf(c->a, "%s%s", c->wm->base, path));
	http_header_add(c->resp, c->a, "Cache-Control", "no-store");
}

void page_error(struct ctx *c, int status, const char *message)
{
	c->resp->status = status;
	c->data = tpl_obj_new(c->a);
	tpl_int(c->data, "status", status);
	tpl_str(c->data, "reason", http_reason(status));
	tpl_str(c->data, "message", message);
	page_render(c, "error", http_reason(status));
}

void page_store_error(struct ctx *c, const char *what, const char *error)
{
	log_error("webmail: %s: %s", what, error != NULL ? error : "unknown error");
	http_header_add(c->resp, c->a, "Retry-After", "5");
	page_error(c, 503, "The mail store is busy or unavailable. Please try again in a moment.");
}

/* ================================================================ sessions */

static const char *session_next(struct ctx *c)
{
	/* where to come back to after signing in: this GET's path and query */
	if (c->req->method != HTTP_GET || strlen(c->req->query) > 2048)
		return NULL;
	return c->req->query[0] != '\0'
		? arena_printf(c->a, "%s?%s", c->req->path, c->req->query)
		: c->req->path;
}

/* 1 signed in; 0 not (no cookie, unknown or expired); -1 store error. */
static int session_load(struct ctx *c, bool *had_cookie_r)
{
	char hex[TOKEN_HEX_LEN + 2];
	uint8_t id[STORE_SESSION_ID_LEN];
	const char *error;

	*had_cookie_r = false;
	if (!http_cookie_get(c->req->cookie, SESSION_COOKIE, hex, sizeof(hex)))
		return 0;
	*had_cookie_r = true;
	if (!hex_decode(hex, id, sizeof(id)))
		return 0;
	int r = store_session_get(c->store, id, c->now, STORE_SESSION_IDLE_DEFAULT,
				  STORE_SESSION_ABSOLUTE_DEFAULT, &c->session, &error);
	if (r <= 0) {
		if (r < 0)
			log_error("webmail: session: %s", error);
		return r;
	}
	struct store_user user;
	r = store_user_get(c->store, c->session.user_id, &user, &error);
	if (r <= 0 || user.disabled) {
		if (r < 0)
			log_error("webmail: session user: %s", error);
		return r < 0 ? -1 : 0;
	}
	return app_session_enter(c, &user) < 0 ? -1 : 1;
}

/* c->prefs.zone loaded into c->zone, once a request. */
static void app_zone_load(struct ctx *c)
{
	const char *error = NULL;
	tzinfo_free(&c->zone);
	if (c->prefs.zone[0] == '\0')
		return;
	c->zone = tzinfo_name_valid(c->prefs.zone) ? tzinfo_load(TZINFO_DIR, c->prefs.zone, &error)
						    : NULL;
	if (c->zone == NULL)
		/* tzdata removed or the zone renamed: times show in the
		 * fixed offset, and the settings page offers a choice again */
		log_warning("webmail: user=<%s> time zone \"%s\": %s", c->user.address,
			    c->prefs.zone, error != NULL ? error : "invalid name");
}

int app_session_enter(struct ctx *c, const struct store_user *user)
{
	const char *error;
	c->user = *user;
	if (store_prefs_get(c->store, c->user.id, &c->prefs, &error) < 0) {
		log_error("webmail: settings: %s", error);
		return -1;
	}
	app_zone_load(c);
	hex_encode(c->session.csrf, sizeof(c->session.csrf), c->csrf);
	c->signed_in = true;
	c->resp->user = arena_strdup(c->a, c->user.address);
	return 0;
}

/* Called by the sign-in page: a new session (a new id whatever the
 * browser had: no fixation), its cookie, the old one destroyed. */
int app_session_start(struct ctx *c, uint32_t user_id)
{
	char hex[TOKEN_HEX_LEN + 2];
	uint8_t old[STORE_SESSION_ID_LEN];
	const char *error;
	if (http_cookie_get(c->req->cookie, SESSION_COOKIE, hex, sizeof(hex)) &&
	    hex_decode(hex, old, sizeof(old)))
		store_session_destroy(c->store, old, &error);
	if (store_session_create(c->store, user_id, c->now, &c->session, &error) < 0) {
		log_error("webmail: session create: %s", error);
		return -1;
	}
	hex_encode(c->session.id, sizeof(c->session.id), hex);
	set_cookie(c, SESSION_COOKIE, hex, STORE_SESSION_ABSOLUTE_DEFAULT);
	set_cookie(c, LOGIN_COOKIE, "", 0);
	return 0;
}

int app_session_end(struct ctx *c)
{
	const char *error;
	int r = store_session_destroy(c->store, c->session.id, &error);
	if (r < 0)
		log_error("webmail: session destroy: %s", error);
	set_cookie(c, SESSION_COOKIE, "", 0);
	c->signed_in = false;
	return r < 0 ? -1 : 0;
}

/* The sign-in form's token: a random value in a cookie and in the form
 * (double submit), so a foreign site cannot sign the browser in. */
const char *app_login_token(struct ctx *c, bool create)
{
	char hex[TOKEN_HEX_LEN + 2];
	uint8_t raw[32];
	const char *error;
	if (http_cookie_get(c->req->cookie, LOGIN_COOKIE, hex, sizeof(hex)) &&
	    hex_decode(hex, raw, sizeof(raw)))
		return arena_strdup(c->a, hex);
	if (!create || store_random(raw, sizeof(raw), &error) < 0)
		return NULL;
	hex_encode(raw, sizeof(raw), hex);
	set_cookie(c, LOGIN_COOKIE, hex, 3600);
	return arena_strdup(c->a, hex);
}

/* ================================================================ folders */

int ctx_mailbox(struct ctx *c, uint32_t id, struct store_mailbox *mb_r)
{
	const char *error;
	int r = store_mailbox_get(c->store, id, mb_r, &error);
	if (r < 0) {
		page_store_error(c, "mailbox", error);
		return -1;
	}
	if (r == 0 || mb_r->user_id != c->user.id) {
		/* another user's mailbox looks exactly like none */
		page_error(c, 404, "There is no such folder.");
		return 0;
	}
	return 1;
}

int ctx_message(struct ctx *c, uint32_t mailbox_id, uint32_t uid, struct store_mailbox *mb_r,
		struct msgview *v)
{
	const char *error;
	int r = ctx_mailbox(c, mailbox_id, mb_r);
	if (r <= 0)
		return r;
	r = msgview_open(c->store, mb_r->id, uid, v, &error);
	if (r < 0)
		page_store_error(c, "message", error);
	else if (r == 0)
		page_error(c, 404, "This message no longer exists. It may have been moved or deleted.");
	return r;
}

struct special_find {
	unsigned special;
	struct store_mailbox *mb;
	bool found;
};

static int special_cb(const struct store_mailbox *mb, void *ctx)
{
	struct special_find *f = ctx;
	if ((mb->special_use & f->special) != 0) {
		*f->mb = *mb;
		f->found = true;
		return 1;
	}
	return 0;
}

int ctx_special_mailbox(struct ctx *c, unsigned special, struct store_mailbox *mb_r)
{
	const char *error;
	struct special_find f = { .special = special, .mb = mb_r };
	if (store_mailbox_list(c->store, c->user.id, special_cb, &f, &error) < 0) {
		page_store_error(c, "mailbox list", error);
		return -1;
	}
	return f.found ? 1 : 0;
}

static const char *special_icon(const struct store_mailbox *mb)
{
	if (strcmp(mb->name, "INBOX") == 0)
		return "inbox";
	if (mb->special_use & STORE_SPECIAL_SENT)
		return "sent";
	if (mb->special_use & STORE_SPECIAL_DRAFTS)
		return "drafts";
	if (mb->special_use & STORE_SPECIAL_TRASH)
		return "trash";
	if (mb->special_use & STORE_SPECIAL_JUNK)
		return "junk";
	if (mb->special_use & STORE_SPECIAL_ARCHIVE)
		return "archive";
	return "folder";
}

static unsigned folder_rank(const struct store_mailbox *mb)
{
	if (strcmp(mb->name, "INBOX") == 0)
		return 0;
	if (mb->special_use & STORE_SPECIAL_DRAFTS)
		return 1;
	if (mb->special_use & STORE_SPECIAL_SENT)
		return 2;
	if (mb->special_use & STORE_SPECIAL_ARCHIVE)
		return 3;
	if (mb->special_use & STORE_SPECIAL_JUNK)
		return 4;
	if (mb->special_use & STORE_SPECIAL_TRASH)
		return 5;
	return 6;
}

struct folder_row {
	struct store_mailbox mb;
	unsigned rank;          /* of its top-level folder */
};

struct folder_rows {
	struct folder_row *rows;
	size_t n, cap;
	bool oom;
};

static int folder_collect(const struct store_mailbox *mb, void *ctx)
{
	struct folder_rows *f = ctx;
	if (f->n == f->cap) {
		size_t cap = f->cap == 0 ? 16 : f->cap * 2;
		struct folder_row *r = realloc(f->rows, cap * sizeof(*r));
		if (r == NULL) {
			f->oom = true;
			return 1;
		}
		f->rows = r;
		f->cap = cap;
	}
	f->rows[f->n].mb = *mb;
	f->rows[f->n].rank = folder_rank(mb);
	f->n++;
	return 0;
}

/* Special folders first in a fixed order, each followed by its children;
 * then the others by name ('/' sorts children right after their parent). */
static int folder_cmp(const void *pa, const void *pb)
{
	const struct folder_row *a = pa, *b = pb;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	const char *x = a->mb.name, *y = b->mb.name;
	for (; *x != '\0' && *x == *y; x++, y++)
		;
	unsigned char cx = *x == '/' ? 1 : (unsigned char)*x, cy = *y == '/' ? 1 : (unsigned char)*y;
	return cx < cy ? -1 : cx > cy;
}

static void folder_add(struct ctx *c, const struct store_mailbox *mb, uint32_t current)
{
	struct tpl_obj *it = tpl_item(c->data, "folders");
	const char *leaf = strrchr(mb->name, '/');
	unsigned depth = 0;
	for (const char *s = mb->name; *s != '\0'; s++)
		depth += *s == '/';
	tpl_int(it, "id", mb->id);
	tpl_str(it, "name", mb->name);
	tpl_str(it, "label", strcmp(mb->name, "INBOX") == 0 ? "Inbox"
			     : leaf != NULL ? leaf + 1 : mb->name);
	tpl_int(it, "depth", depth > 6 ? 6 : depth);
	tpl_int(it, "unseen", mb->unseen);
	tpl_int(it, "exists", mb->exists);
	tpl_str(it, "icon", special_icon(mb));
	tpl_bool(it, "current", mb->id == current);
}

int ctx_folders(struct ctx *c, uint32_t current)
{
	const char *error;
	struct folder_rows f = { 0 };
	tpl_list(c->data, "folders");
	/* every page with the sidebar reminds a user whose auto-reply is on */
	struct store_vacation vac;
	if (store_vacation_get(c->store, c->user.id, &vac, &error) < 0) {
		page_store_error(c, "vacation", error);
		return -1;
	}
	tpl_bool(c->data, "vacation_on", store_vacation_active(&vac, c->now));
	if (store_mailbox_list(c->store, c->user.id, folder_collect, &f, &error) < 0 || f.oom) {
		free(f.rows);
		page_store_error(c, "mailbox list", f.oom ? "out of memory" : error);
		return -1;
	}
	/* a child ranks with its top-level folder */
	for (size_t i = 0; i < f.n; i++) {
		const char *slash = strchr(f.rows[i].mb.name, '/');
		if (slash == NULL)
			continue;
		size_t top = (size_t)(slash - f.rows[i].mb.name);
		for (size_t k = 0; k < f.n; k++) {
			if (strlen(f.rows[k].mb.name) == top &&
			    strncmp(f.rows[k].mb.name, f.rows[i].mb.name, top) == 0)
				f.rows[i].rank = folder_rank(&f.rows[k].mb);
		}
	}
	qsort(f.rows, f.n, sizeof(*f.rows), folder_cmp);
	unsigned hidden = 0;
	for (size_t i = 0; i < f.n; i++) {
		/* an unsubscribed folder is hidden (as in Roundcube) unless it is
		 * special or open; Settings > Folders lists them all, and the
		 * sidebar says how many it leaves out (a folder an IMAP client
		 * made, with mail moved in, would seem lost otherwise) */
		const struct store_mailbox *mb = &f.rows[i].mb;
		if (mb->subscribed || mb->special_use != 0 || mb->id == current ||
		    strcmp(mb->name, "INBOX") == 0)
			folder_add(c, mb, current);
		else
			hidden++;
	}
	free(f.rows);
	if (hidden > 0)
		tpl_str(c->data, "hidden_folders", hidden == 1 ? "1 folder not shown" :
			arena_printf(c->a, "%u folders not shown", hidden));
	return 0;
}

/* ================================================================ formats */

static const char *const month_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

int ctx_utc_offset(const struct ctx *c, int64_t t)
{
	return c->zone != NULL ? tzinfo_offset(c->zone, t, NULL) : c->prefs.tz_minutes * 60;
}

int64_t ctx_local_to_utc(const struct ctx *c, int64_t local)
{
	/* the offset in force at the guess, then at the answer: right but
	 * for the hour a clock skips or repeats */
	int64_t t = local - ctx_utc_offset(c, local);
	return local - ctx_utc_offset(c, t);
}

static bool local_tm(struct ctx *c, int64_t t, struct tm *tm)
{
	time_t lt = (time_t)(t + ctx_utc_offset(c, t));
	return gmtime_r(&lt, tm) != NULL;
}

const char *fmt_date_short(struct ctx *c, int64_t t)
{
	struct tm tm, now;
	if (!local_tm(c, t, &tm) || !local_tm(c, c->now, &now))
		return "";
	if (tm.tm_year == now.tm_year && tm.tm_yday == now.tm_yday)
		return arena_printf(c->a, "%02d:%02d", tm.tm_hour, tm.tm_min);
	if (tm.tm_year == now.tm_year)
		return arena_printf(c->a, "%d %s", tm.tm_mday, month_names[tm.tm_mon]);
	return arena_printf(c->a, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

const char *fmt_date_long(struct ctx *c, int64_t t)
{
	struct tm tm;
	int tz = ctx_utc_offset(c, t) / 60;
	if (!local_tm(c, t, &tm))
		return "";
	return arena_printf(c->a, "%s, %d %s %04d %02d:%02d (UTC%c%02d:%02d)", day_names[tm.tm_wday],
			    tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
			    tm.tm_min, tz < 0 ? '-' : '+', abs(tz) / 60, abs(tz) % 60);
}

const char *fmt_size(struct ctx *c, uint64_t bytes)
{
	static const char *const units[] = { "MB", "GB", "TB" };
	if (bytes < 1024)
		return arena_printf(c->a, "%u B", (unsigned)bytes);
	if (bytes < 1024 * 1024)
		return arena_printf(c->a, "%u KB", (unsigned)((bytes + 1023) / 1024));
	double v = (double)bytes / (1024.0 * 1024.0);
	size_t u = 0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	/* "10 MB" for a round limit, "1.5 MB" for a message */
	if (v >= 100.0 || v == (double)(uint64_t)v)
		return arena_printf(c->a, "%.0f %s", v, units[u]);
	return arena_printf(c->a, "%.1f %s", v, units[u]);
}

/* ================================================================ dispatch */

void page_home(struct ctx *c)
{
	page_redirect(c, "/list");
}

/* `path` below the base, or from the site's root when at_root; `full`
 * from the site's root either way (NULL: no site route is looked at). */
static const struct route *route_find(const char *path, bool at_root, const char *full)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		if (r->flags & R_SITE) {
			if (full != NULL && (r->flags & R_NOCASE ? strcasecmp(full, r->path)
						 : strcmp(full, r->path)) == 0)
				return r;
		} else if (!at_root && (r->flags & R_PREFIX
					? strncmp(path, r->path, strlen(r->path)) == 0
					: strcmp(path, r->path) == 0)) {
			return r;
		}
	}
	return NULL;
}

bool webmail_site_path(const char *path)
{
	return route_find(path, true, path) != NULL;
}

/* A POST without a valid session or CSRF token: true if its page kept
 * what was typed (and answered); else it gets sign-in or 403 as any. */
static bool route_lost(struct ctx *c, const struct route *r)
{
	return (r->flags & R_KEEP) != 0 && page_compose_lost(c);
}

/* A page that needs a session, asked for without a valid one: back to
 * sign-in (to this GET afterwards); a POST changes nothing, and keeps its
 * form only where its route says so (R_KEEP). */
static void signed_out(struct ctx *c, const struct route *r, bool had_cookie)
{
	if (had_cookie)
		set_cookie(c, SESSION_COOKIE, "", 0);
	if (c->req->method == HTTP_POST && route_lost(c, r))
		return;
	const char *next = session_next(c);
	struct buf to;
	buf_init(&to, 4096);
	buf_puts(&to, "/login");
	char sep = '?';
	if (had_cookie) {
		buf_puts(&to, "?expired=1");
		sep = '&';
	}
	if (next != NULL && strcmp(next, "/") != 0) {
		buf_putc(&to, sep);
		buf_puts(&to, "next=");
		tpl_escape_url_part(&to, next, strlen(next));
	}
	page_redirect(c, to.failed ? "/login" : to.data);
	buf_free(&to);
}

static void dispatch(struct ctx *c)
{
	struct http_request *req = c->req;
	int status;
	const char *error;

	if (req->error_status != 0) {
		page_error(c, req->error_status, req->error);
		return;
	}
	if (form_parse_urlencoded(c->a, req->query, strlen(req->query), &form_limits_default,
				  &c->query, &status, &error) < 0) {
		page_error(c, status, error);
		return;
	}
	/* with base "" (or a base that is a prefix of a site path) a site
	 * path arrives below the base */
	const char *full = req->at_root ? req->path
			   : arena_printf(c->a, "%s%s", c->wm->base, req->path);
	const struct route *r = route_find(req->path, req->at_root, full);
	/* the site's root, when it reaches us (pillarbox-webmaild on a port
	 * of its own): the webmail is the only thing there */
	if (r == NULL && req->at_root && strcmp(req->path, "/") == 0 && c->wm->base[0] != '\0' &&
	    (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
		page_redirect(c, "/");
		return;
	}
	if (r == NULL) {
		page_error(c, 404, "There is no such page.");
		return;
	}
	unsigned need = req->method == HTTP_POST ? R_POST
			: req->method == HTTP_GET || req->method == HTTP_HEAD ? R_GET : 0;
	if ((r->flags & need) == 0) {
		http_header_add(c->resp, c->a, "Allow", r->flags & R_POST
				? (r->flags & R_GET ? "GET, HEAD, POST" : "POST") : "GET, HEAD");
		page_error(c, 405, "This page does not accept that method.");
		return;
	}
	if (r->flags & R_SESSION) {
		bool had_cookie;
		int s = session_load(c, &had_cookie);
		if (s < 0) {
			page_store_error(c, "session", "see above");
			return;
		}
		if (s == 0) {
			signed_out(c, r, had_cookie);
			return;
		}
	}
	if ((r->flags & R_CSRF) && req->method == HTTP_POST) {
		const char *token = ctx_form(c, "csrf");
		if (token == NULL || !token_equal(token, c->csrf)) {
			log_info("webmail: csrf-refused user=<%s> path=%s", c->user.address, req->path);
			if (route_lost(c, r))
				return;
			page_error(c, 403, "This form has expired or did not come from this site. "
					   "Go back, reload the page and try again.");
			return;
		}
	}
	r->handler(c);
}

void webmail_handle(struct webmail *wm, struct http_request *req, struct http_response *resp)
{
	struct ctx c = {
		.wm = wm, .req = req, .resp = resp, .a = req->arena, .store = wm->store,
		.now = (int64_t)time(NULL),
	};
	c.data = tpl_obj_new(c.a);
	c.prefs = (struct store_prefs){ .page_size = 50, .prefer_html = true };
	add_security_headers(&c, CSP_PAGE, false);
	if (c.data == NULL) {
		resp->status = 500;
		buf_puts(&resp->body, fallback_page);
		http_header_add(resp, c.a, "Content-Type", "text/html; charset=utf-8");
		return;
	}
	dispatch(&c);
	tzinfo_free(&c.zone);
	if (resp->body.failed) {
		log_error("webmail: response too large or out of memory: %s", req->path);
		resp->status = 500;
		buf_free(&resp->body);
		buf_init(&resp->body, 0);
		buf_puts(&resp->body, fallback_page);
	}
	/* HEAD and 304: the front ends send the headers only */
}

void webmail_access_log(const struct http_request *req, const struct http_response *resp,
			uint64_t bytes, double seconds)
{
	static const char *const methods[] = { "OTHER", "GET", "HEAD", "POST" };
	char path[256], ua[128], rip[LOG_RIP_MAX];
	log_safe(path, sizeof(path), req->path, strlen(req->path));
	log_safe(ua, sizeof(ua), req->user_agent != NULL ? req->user_agent : "-",
		 req->user_agent != NULL ? strlen(req->user_agent) : 1);
	log_info("webmail: access rip=%s user=<%s> %s %s status=%d bytes=%llu ms=%.1f ua=\"%s\"",
		 log_rip(rip, req->remote_addr),
		 resp->user != NULL ? resp->user : "", methods[req->method], path, resp->status,
		 (unsigned long long)bytes, seconds * 1000.0, ua);
}
