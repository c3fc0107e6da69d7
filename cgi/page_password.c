/* Changing the password: the current one is checked through the same
 * throttled check as signing in (store_auth_login: a wrong one counts as a
 * failed sign-in), the new one is hashed by the store (libxcrypt,
 * store_user_passwd), then every other webmail session of the user ends and
 * this one gets a new id. */
#include <string.h>

#include "app.h"
#include "log.h"
#include "password.h"

static void password_form(struct ctx *c, int status, const char *message)
{
	if (ctx_folders(c, 0) < 0)
		return;
	tpl_str(c->data, "error", message);
	tpl_int(c->data, "min_chars", PASSWORD_MIN_CHARS);
	tpl_bool(c->data, "nav_password", true);
	c->resp->status = status;
	page_render(c, "password", "Change password");
}

static void wipe(const char *field)
{
	if (field != NULL)
		password_wipe((char *)field, strlen(field));
}

void page_password(struct ctx *c)
{
	if (c->req->method != HTTP_POST) {
		password_form(c, 200, NULL);
		return;
	}
	const char *old = ctx_form(c, "old_password");
	const char *new1 = ctx_form(c, "new_password");
	const char *new2 = ctx_form(c, "new_password2");
	const char *message = NULL, *error;
	int status = 400;
	struct store_user user;

	/* the rules of the new password first: they cost no sign-in attempt */
	if (old == NULL || new1 == NULL || new2 == NULL || *old == '\0' || *new1 == '\0')
		message = "Fill in your current password and the new one twice.";
	else if (strcmp(new1, new2) != 0)
		message = "The two new passwords are not the same. Type the new password twice.";
	else if (password_chars(new1) < PASSWORD_MIN_CHARS)
		message = arena_printf(c->a, "The new password is too short: use at least %d "
				       "characters.", PASSWORD_MIN_CHARS);
	else if (strlen(new1) > PASSWORD_MAX || strlen(old) > PASSWORD_MAX)
		message = arena_printf(c->a, "The password is too long: at most %d bytes.",
				       PASSWORD_MAX);
	else if (strcmp(old, new1) == 0)
		message = "The new password is the same as the current one. Choose another.";
	if (message != NULL) {
		wipe(old);
		wipe(new1);
		wipe(new2);
		password_form(c, status, message);
		return;
	}

	enum store_auth_result r = store_auth_login(c->store, c->user.address, old, c->req->remote_addr,
						    &user, &error);
	wipe(old);
	wipe(new2);
	if (r == STORE_AUTH_OK && user.id != c->user.id)
		r = STORE_AUTH_FAIL;   /* cannot happen: the address is the session's */
	switch (r) {
	case STORE_AUTH_OK:
		break;
	case STORE_AUTH_THROTTLED:
		wipe(new1);
		log_client("webmail: password-throttled", c->user.address, c->req->remote_addr,
			   " mech=form");
		password_form(c, 429, "Too many wrong passwords. Wait a few minutes and try again.");
		return;
	case STORE_AUTH_FAIL:
		wipe(new1);
		log_client("webmail: password-wrong", c->user.address, c->req->remote_addr,
			   " mech=form");
		password_form(c, 403, "Your current password is not right. Nothing was changed.");
		return;
	default:
		wipe(new1);
		page_store_error(c, "password check", error);
		return;
	}
	int p = store_user_passwd(c->store, c->user.address, new1, &error);
	wipe(new1);
	if (p < 0) {
		page_store_error(c, "password change", error);
		return;
	}
	if (p == 0) {
		password_form(c, 400, arena_printf(c->a, "The password was not changed: %s.", error));
		return;
	}
	/* A stolen session must not outlive the change: the others end at once
	 * and this one continues under a new id. */
	int ended = store_session_destroy_user(c->store, c->user.id, c->session.id, &error);
	if (ended < 0)
		log_error("webmail: password change: ending the other sessions of <%s>: %s",
			  c->user.address, error);
	if (app_session_start(c, c->user.id) < 0) {
		page_store_error(c, "session", "could not create a session");
		return;
	}
	log_client("webmail: password-changed", c->user.address, c->req->remote_addr,
		   " sessions-ended=%d", ended);
	if (ended < 0) {
		http_header_add(c->resp, c->a, "Retry-After", "5");
		page_error(c, 503, "Your password was changed, but your other sessions could not be "
				   "signed out. Change it once more in a moment to sign them out.");
		return;
	}
	page_redirect(c, "/settings?saved=password");
}
