/* Sign-in, sign-out and settings. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "password.h"

/* Where to go after signing in: a path of ours, never another site. */
static const char *safe_next(const char *next)
{
	if (next == NULL || next[0] != '/' || next[1] == '/' || strlen(next) > 2048)
		return NULL;
	for (const char *s = next; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x21 || *s == '\\' || *s == 0x7f)
			return NULL;
	}
	if (strncmp(next, "/login", 6) == 0 || strncmp(next, "/static/", 8) == 0)
		return NULL;
	return next;
}

static void login_form(struct ctx *c, int status, const char *message, const char *address)
{
	const char *token = app_login_token(c, true);
	const char *next = safe_next(c->req->method == HTTP_POST ? ctx_form(c, "next")
								 : ctx_query(c, "next"));
	tpl_str(c->data, "login_token", token);
	tpl_str(c->data, "next", next);
	tpl_str(c->data, "address", address);
	tpl_str(c->data, "message", message);
	if (c->req->method == HTTP_GET && ctx_query(c, "expired") != NULL)
		tpl_str(c->data, "notice", "Your session has ended. Sign in again to continue.");
	if (c->req->method == HTTP_GET && ctx_query(c, "bye") != NULL)
		tpl_str(c->data, "notice", "You have signed out.");
	c->resp->status = status;
	page_render(c, "login", "Sign in");
}

void page_login(struct ctx *c)
{
	if (c->req->method != HTTP_POST) {
		login_form(c, 200, NULL, NULL);
		return;
	}
	const char *token = app_login_token(c, false);
	const char *sent = ctx_form(c, "login_token");
	const char *address = ctx_form(c, "address");
	char *password = (char *)ctx_form(c, "password");
	const char *error;
	struct store_user user;

	if (token == NULL || sent == NULL || !token_equal(token, sent)) {
		if (password != NULL)
			password_wipe(password, strlen(password));
		login_form(c, 403, "The sign-in form expired. Please try again.", address);
		return;
	}
	if (address == NULL || password == NULL || *address == '\0' || *password == '\0' ||
	    strlen(address) > STORE_ADDRESS_MAX || strlen(password) > PASSWORD_MAX) {
		if (password != NULL)
			password_wipe(password, strlen(password));
		login_form(c, 400, "Enter your full address and your password.", address);
		return;
	}
	enum store_auth_result r = store_auth_login(c->store, address, password, c->req->remote_addr,
						    &user, &error);
	password_wipe(password, strlen(password));
	char safe[STORE_ADDRESS_MAX * 4 + 8];
	log_safe(safe, sizeof(safe), address, strlen(address));
	switch (r) {
	case STORE_AUTH_OK:
		break;
	case STORE_AUTH_THROTTLED:
		log_info("webmail: login-throttled user=<%s> rip=%s", safe,
			 c->req->remote_addr != NULL ? c->req->remote_addr : "-");
		login_form(c, 429, "Too many failed attempts. Please wait a few minutes and try again.",
			   address);
		return;
	case STORE_AUTH_FAIL:
		log_info("webmail: login-failed user=<%s> rip=%s", safe,
			 c->req->remote_addr != NULL ? c->req->remote_addr : "-");
		login_form(c, 403, "Wrong address or password.", address);
		return;
	default:
		page_store_error(c, "login", error);
		return;
	}
	if (app_session_start(c, user.id) < 0) {
		page_store_error(c, "session", "could not create a session");
		return;
	}
	log_info("webmail: login user=<%s> rip=%s", user.address,
		 c->req->remote_addr != NULL ? c->req->remote_addr : "-");
	c->resp->user = arena_strdup(c->a, user.address);
	const char *next = safe_next(ctx_form(c, "next"));
	page_redirect(c, next != NULL ? next : "/list");
}

void page_logout(struct ctx *c)
{
	log_info("webmail: logout user=<%s>", c->user.address);
	app_session_end(c);
	page_redirect(c, "/login?bye=1");
}

/* Zones offered in the settings, minutes east of UTC. */
static const int zones[] = { -720, -660, -600, -570, -540, -480, -420, -360, -300, -240, -210,
			     -180, -120, -60, 0, 60, 120, 180, 210, 240, 270, 300, 330, 345,
			     360, 390, 420, 480, 525, 540, 570, 600, 630, 660, 720, 765, 780,
			     840 };

void page_settings(struct ctx *c)
{
	const char *error;
	if (c->req->method == HTTP_POST) {
		struct store_prefs p = c->prefs;
		uint32_t size = ctx_form_uint(c, "page_size", p.page_size);
		const char *tz = ctx_form(c, "tz");
		const char *view = ctx_form(c, "view");
		p.page_size = (uint16_t)(size > STORE_PREFS_PAGE_MAX ? STORE_PREFS_PAGE_MAX : size);
		if (tz != NULL) {
			int v;
			char extra;
			if (sscanf(tz, "%d%c", &v, &extra) == 1 && v >= -STORE_PREFS_TZ_MAX &&
			    v <= STORE_PREFS_TZ_MAX)
				p.tz_minutes = (int16_t)v;
		}
		if (view != NULL)
			p.prefer_html = strcmp(view, "text") != 0;
		if (store_prefs_set(c->store, c->user.id, &p, &error) < 0) {
			page_store_error(c, "settings", error);
			return;
		}
		page_redirect(c, "/settings?saved=1");
		return;
	}
	if (ctx_folders(c, 0) < 0)
		return;
	static const int sizes[] = { 10, 25, 50, 100, 200 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct tpl_obj *it = tpl_item(c->data, "sizes");
		tpl_int(it, "value", sizes[i]);
		tpl_bool(it, "selected", sizes[i] == c->prefs.page_size);
	}
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct tpl_obj *it = tpl_item(c->data, "zones");
		int z = zones[i];
		tpl_int(it, "value", z);
		tpl_str(it, "label", arena_printf(c->a, "UTC%c%02d:%02d", z < 0 ? '-' : '+',
						  (z < 0 ? -z : z) / 60, (z < 0 ? -z : z) % 60));
		tpl_bool(it, "selected", z == c->prefs.tz_minutes);
	}
	tpl_bool(c->data, "prefer_html", c->prefs.prefer_html);
	tpl_bool(c->data, "saved", ctx_query(c, "saved") != NULL);
	page_render(c, "settings", "Settings");
}
