/* Inside the webmail core: what every page handler gets, and the helpers
 * they share. Handlers fill ctx->data (template values) and call one of the
 * page_* finishers; they never write markup or user data themselves. */
#ifndef PB_CGI_APP_H
#define PB_CGI_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "session.h"
#include "store.h"
#include "template.h"
#include "webmail.h"

#define SESSION_COOKIE "pbx_session"
#define LOGIN_COOKIE "pbx_login"
#define TOKEN_HEX_LEN 64

struct webmail {
	const struct config *config;
	struct store *store;
	struct tpl_set *templates;
	char *static_dir;          /* <templates>/static */
	char *site_static_dir;     /* site override, or NULL */
	char *base;                /* "/webmail" without a trailing slash ("" for /) */
};

struct ctx {
	struct webmail *wm;
	struct http_request *req;
	struct http_response *resp;
	struct arena *a;
	struct store *store;
	struct form query;
	bool signed_in;
	struct store_session session;
	struct store_user user;
	struct store_prefs prefs;
	struct tzinfo *zone;       /* prefs.zone loaded, or NULL (then prefs.tz_minutes) */
	char csrf[TOKEN_HEX_LEN + 1];
	struct tpl_obj *data;      /* the page's template values */
	int64_t now;
};

/* Query (GET) and body (POST) fields. */
const char *ctx_query(const struct ctx *c, const char *name);
const char *ctx_form(const struct ctx *c, const char *name);
/* A decimal field as an unsigned number; `def` when absent or invalid. */
uint32_t ctx_query_uint(const struct ctx *c, const char *name, uint32_t def);
uint32_t ctx_form_uint(const struct ctx *c, const char *name, uint32_t def);
bool uint_parse(const char *s, uint32_t *v_r);

/* Sets the values every template may use (base, static, user, csrf). */
void ctx_fill_common(struct ctx *c);

/* Finishers: exactly one per request. */
void page_render(struct ctx *c, const char *name, const char *title);
void page_render_bare(struct ctx *c, const char *name); /* no layout (print) */
/* 303 to base + path (path starts with '/' and may have a query). */
void page_redirect(struct ctx *c, const char *path);
void page_error(struct ctx *c, int status, const char *message);
/* A store failure: 503 with Retry-After, the error logged. */
void page_store_error(struct ctx *c, const char *what, const char *error);

/* true when the browser says one of our own pages made the request
 * (Sec-Fetch-Site: same-origin); false when it says otherwise or says
 * nothing (an older browser, or not a browser). */
bool ctx_same_origin(const struct ctx *c);

/* Common headers for pages we generate (CSP etc.) are added by the core;
 * a handler may replace the CSP for its response (the message frame). */
void ctx_set_csp(struct ctx *c, const char *csp, bool framable);

/* Hex of bytes into dst (2 * len + 1). */
void hex_encode(const uint8_t *bytes, size_t len, char *dst);
bool hex_decode(const char *hex, uint8_t *bytes, size_t len);
/* Compares two strings in time independent of where they differ. */
bool token_equal(const char *a, const char *b);

/* A mailbox of the signed-in user by id: 1 found (filled), 0 not the
 * user's or none (the page answered 404), -1 store error (answered). */
int ctx_mailbox(struct ctx *c, uint32_t id, struct store_mailbox *mb_r);
struct msgview;
/* The message `uid` of the user's mailbox `mailbox_id`, opened (msgpart.h;
 * the caller closes it): 1, or 0 / -1 with the page answered (no such
 * folder or message: 404; a store error). */
int ctx_message(struct ctx *c, uint32_t mailbox_id, uint32_t uid, struct store_mailbox *mb_r,
		struct msgview *v);
/* The user's mailbox with this special-use bit (Trash, Junk), 1/0/-1. */
int ctx_special_mailbox(struct ctx *c, unsigned special, struct store_mailbox *mb_r);
/* Fills data.folders (the sidebar) with `current` marked. 0 or -1 (answered). */
int ctx_folders(struct ctx *c, uint32_t current);
/* Fills data.quota (storage and messages used, the limits and percentages
 * when the user has them: templates/quota.html). 0 or -1 (answered). */
int ctx_quota(struct ctx *c);

/* Dates for display in the user's zone: "14:05" today, "3 Mar" this year,
 * "2023-03-03" before; and the full form "Mon, 3 Mar 2024 14:05". */
/* The user's offset from UTC at instant t, in seconds east: their named
 * zone's (summer time included), else their fixed offset. */
int ctx_utc_offset(const struct ctx *c, int64_t t);
/* The UTC instant of local time `local` (seconds as if UTC) in the user's zone. */
int64_t ctx_local_to_utc(const struct ctx *c, int64_t local);
const char *fmt_date_short(struct ctx *c, int64_t t);
const char *fmt_date_long(struct ctx *c, int64_t t);
/* Every size the webmail shows, one way: "512 B", "5 KB" (rounded up),
 * "1.5 MB", "10 MB", "2 GB" (a round limit reads as it was set). */
const char *fmt_size(struct ctx *c, uint64_t bytes);

/* Sessions: start one for a user who just signed in (new id, cookie; the
 * old session destroyed), end the current one; the sign-in form's token. */
int app_session_start(struct ctx *c, uint32_t user_id);
/* Makes the session in c->session the request's own, for `user`: the
 * user, their settings and the session's CSRF token, as for a request
 * that came with it (the sign-in that shows a kept message). 0, or -1
 * (a store error, logged). */
int app_session_enter(struct ctx *c, const struct store_user *user);
int app_session_end(struct ctx *c);
const char *app_login_token(struct ctx *c, bool create);

/* How a message list is shown (page_list.c): the sort, its direction, the
 * page and the search terms, carried from the list to a message and to an
 * action, so that each comes back to the same list. The terms are named
 * from, to, subject, text, since, before in a query and q_from... in an
 * action form (where "to" is the folder to move to). */
#define LIST_TERMS 6
struct list_state {
	const char *sort, *dir;    /* a known sort name, "asc" or "desc"; NULL: the default */
	uint32_t page;
	const char *terms[LIST_TERMS];  /* NULL when not searched on */
	bool all_folders;          /* the search looks in every folder ("in=all") */
};
/* Reads the state from the request's query, or from its form. */
void list_state_read(struct ctx *c, bool from_form, struct list_state *s_r);
/* The URL (base included; "#" when out of memory) of a page showing
 * mailbox mb in that state: path "/list", or "/msg" with the message uid
 * and its position pos in the sorted list (NULL: none). */
const char *list_state_href(struct ctx *c, const char *path, uint32_t mb, uint32_t uid,
			    const char *pos, const struct list_state *s);
/* Adds data.keep (name, value): the hidden fields that give an action
 * form this state. */
void list_state_keep(struct ctx *c, const struct list_state *s);
/* Sets data.done, the sentence that confirms the action a list or message
 * page was sent to after ("2 messages moved to Archive."), from the query's
 * done, n and dest; nothing when there is none. */
void list_done_notice(struct ctx *c);

/* Page handlers (one file each area). */
void page_login(struct ctx *c);
void page_logout(struct ctx *c);
void page_settings(struct ctx *c);
void page_password(struct ctx *c);
void page_vacation(struct ctx *c);
void page_filters(struct ctx *c);   /* page_filters.c */
void page_folders(struct ctx *c);
void page_home(struct ctx *c);
void page_list(struct ctx *c);
void page_action(struct ctx *c);
void page_empty(struct ctx *c);
void page_msg(struct ctx *c);
/* POST /receipt: a message's read receipt sent or declined (page_receipt.c). */
void page_receipt(struct ctx *c);
void page_print(struct ctx *c);
void page_body(struct ctx *c);
void page_part(struct ctx *c);
void page_raw(struct ctx *c);
void page_static(struct ctx *c);
/* Compose and send (page_compose.c, compose_*.c). */
void page_compose(struct ctx *c);
/* A compose POST without a valid session or CSRF token: keeps what was
 * typed when it may (compose_keep.c). true if it answered. */
bool page_compose_lost(struct ctx *c);
/* The sign-in page carrying a kept message (page_login.c): its fields as
 * hidden inputs, a notice saying so; any session in c is left out. */
struct compose_kept;
void page_login_kept(struct ctx *c, const struct compose_kept *k);
/* Mail client set-up (page_setup.c, autoconfig.c). */
void page_setup(struct ctx *c);
void page_mobileconfig(struct ctx *c);
void page_autoconfig(struct ctx *c);
void page_autodiscover(struct ctx *c);
/* For other mail servers (mta_sts.c). */
void page_mta_sts(struct ctx *c);
/* The address book (page_contacts.c). */
void page_contacts(struct ctx *c);
void page_contact_edit(struct ctx *c);
void page_contact_delete(struct ctx *c);
void page_contact_sender(struct ctx *c);
void page_contacts_export(struct ctx *c);
void page_contacts_import(struct ctx *c);
/* Fills data.contacts (name, address) for the compose page's
 * <datalist id="contacts">. 0, or -1 (page answered).
 * Each item also has `value` ("Name <address>", the name quoted when it
 * needs to be), personal contacts first, then collected ones, by name; at
 * most CONTACTS_DATALIST_MAX. Include templates/contacts_datalist.html; it
 * loads static/complete.js, for which this adds script-src 'self' to the
 * page's CSP. */
#define CONTACTS_DATALIST_MAX 5000
int ctx_contacts_datalist(struct ctx *c);
struct mime_envelope;
/* The message page: looks the sender (the first From address of `env`) up
 * in the address book and fills data.sender {name, address, known, added}
 * for the "Add to contacts" button. true if the sender is in the book (a
 * store error counts as not, logged). */
bool ctx_sender_known(struct ctx *c, const struct mime_envelope *env);

#endif
