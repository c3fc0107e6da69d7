/* Sign-in and sign-out (the settings are in page_settings.c). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "compose.h"
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

/* The form; k: a message being written, carried through it (NULL: none). */
static void login_form(struct ctx *c, int status, const char *message, const char *address,
		       const struct compose_kept *k)
{
	const char *token = app_login_token(c, true);
	const char *next = safe_next(c->req->method == HTTP_POST ? ctx_form(c, "next")
								 : ctx_query(c, "next"));
	if (k != NULL) {
		compose_kept_fields(c, k);
		tpl_str(c->data, "notice", compose_kept_notice(c, k));
		if (address == NULL)
			address = k->owner;
		next = NULL;
	}
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

void page_login_kept(struct ctx *c, const struct compose_kept *k)
{
	/* a session of another user may be there: not this page's */
	c->signed_in = false;
	c->data = tpl_obj_new(c->a);
	login_form(c, 403, NULL, NULL, k);
}

/* The message the sign-in form carries, when one of our pages sent it
 * (compose_keep.c says why a foreign one is not shown). */
static const struct compose_kept *kept_read(struct ctx *c, struct compose_kept *k)
{
	return ctx_same_origin(c) && compose_kept_read(c, "k_", k) == 1 ? k : NULL;
}

/* Signed in as user with a message kept: the compose page filled with it
 * when it is theirs (nothing is sent or saved before they say so), else
 * false and it is dropped, unseen. */
static bool kept_resume(struct ctx *c, const struct compose_kept *k,
			const struct store_user *user)
{
	if (k == NULL)
		return false;
	if (strcasecmp(k->owner, user->address) != 0) {
		log_info("webmail: kept message dropped: signed in as another user user=<%s>",
			 user->address);
		return false;
	}
	if (app_session_enter(c, user) < 0) {
		page_store_error(c, "session", "see above");
		return true;
	}
	compose_kept_show(c, k, 200, NULL, "You are signed in again and your message is as you "
					   "left it. Nothing was sent or saved yet.");
	return true;
}

void page_login(struct ctx *c)
{
	if (c->req->method != HTTP_POST) {
		login_form(c, 200, NULL, NULL, NULL);
		return;
	}
	const char *token = app_login_token(c, false);
	const char *sent = ctx_form(c, "login_token");
	const char *address = ctx_form(c, "address");
	char *password = (char *)ctx_form(c, "password");
	const char *error;
	struct store_user user;
	struct compose_kept kept;
	const struct compose_kept *k = kept_read(c, &kept);

	if (token == NULL || sent == NULL || !token_equal(token, sent)) {
		if (password != NULL)
			password_wipe(password, strlen(password));
		login_form(c, 403, "The sign-in form expired. Please try again.", address, k);
		return;
	}
	if (address == NULL || password == NULL || *address == '\0' || *password == '\0' ||
	    strlen(address) > STORE_ADDRESS_MAX || strlen(password) > PASSWORD_MAX) {
		if (password != NULL)
			password_wipe(password, strlen(password));
		login_form(c, 400, "Enter your full address and your password.", address, k);
		return;
	}
	enum store_auth_result r = store_auth_login(c->store, address, password, c->req->remote_addr,
						    &user, &error);
	password_wipe(password, strlen(password));
	const char *tls = c->req->https ? "yes" : "no";
	switch (r) {
	case STORE_AUTH_OK:
		break;
	case STORE_AUTH_THROTTLED:
		log_client("webmail: login throttled", address, c->req->remote_addr,
			   " tls=%s mech=form", tls);
		login_form(c, 429, "Too many failed attempts. Please wait a few minutes and try again.",
			   address, k);
		return;
	case STORE_AUTH_FAIL:
		log_client("webmail: login failed", address, c->req->remote_addr, " tls=%s mech=form",
			   tls);
		login_form(c, 403, "Wrong address or password.", address, k);
		return;
	default:
		page_store_error(c, "login", error);
		return;
	}
	if (app_session_start(c, user.id) < 0) {
		page_store_error(c, "session", "could not create a session");
		return;
	}
	log_client("webmail: login", user.address, c->req->remote_addr, " tls=%s mech=form", tls);
	c->resp->user = arena_strdup(c->a, user.address);
	if (kept_resume(c, k, &user))
		return;
	const char *next = safe_next(ctx_form(c, "next"));
	page_redirect(c, next != NULL ? next : "/list");
}

void page_logout(struct ctx *c)
{
	log_info("webmail: logout user=<%s>", c->user.address);
	app_session_end(c);
	page_redirect(c, "/login?bye=1");
}
