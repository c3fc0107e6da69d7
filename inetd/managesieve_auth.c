/* ManageSieve connection commands: CAPABILITY, AUTHENTICATE (RFC 5804 2.1:
 * challenges and responses are strings), STARTTLS (2.2), LOGOUT, NOOP,
 * UNAUTHENTICATE (2.14). */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "managesieve.h"
#include "password.h"
#include "sasl.h"
#include "tls.h"

bool ms_plaintext_allowed(const struct ms_session *s)
{
	return conn_is_tls(s->conn) || conn_peer_is_loopback(s->conn) ||
	       s->config->allow_plaintext_auth;
}

static void ms_capability(struct ms_session *s, const char *name, const char *value)
{
	ms_write_string(s, name, strlen(name));
	if (value != NULL) {
		conn_write(s->conn, " ", 1);
		ms_write_string(s, value, strlen(value));
	}
	conn_write(s->conn, "\r\n", 2);
}

void ms_capabilities(struct ms_session *s)
{
	bool nonauth = s->state == MS_STATE_NONAUTH;
	char redirects[16];

	snprintf(redirects, sizeof(redirects), "%d", SIEVE_REDIRECTS_MAX);
	ms_capability(s, "IMPLEMENTATION", "Pillarbox");
	/* Only what may be used now: empty before TLS where plaintext
	 * authentication is refused (RFC 5804 1.7 allows that with STARTTLS). */
	ms_capability(s, "SASL", nonauth && ms_plaintext_allowed(s) ? SASL_MECHANISMS : "");
	ms_capability(s, "SIEVE", sieve_extensions());
	if (nonauth && s->tls_creds != NULL && !conn_is_tls(s->conn))
		ms_capability(s, "STARTTLS", NULL);
	ms_capability(s, "MAXREDIRECTS", redirects);
	if (!nonauth)
		ms_capability(s, "OWNER", s->account.address);
	ms_capability(s, "UNAUTHENTICATE", NULL);
	ms_capability(s, "VERSION", "1.0");
}

int ms_cmd_capability(struct ms_session *s, struct ms_parser *p)
{
	(void)p;
	ms_capabilities(s);
	ms_ok(s, NULL, "Capability completed");
	return 0;
}

/* The end of every login attempt: 0 go on, -1 close (BYE sent). */
static int ms_login_result(struct ms_session *s, enum store_auth_result result,
			   const struct store_user *user, const char *authcid, const char *mech,
			   const char *error)
{
	sasl_log_refusal(s->conn, result, authcid, mech, error);
	switch (result) {
	case STORE_AUTH_OK:
		break;
	case STORE_AUTH_THROTTLED:
		ms_no(s, "TRYLATER", "Too many failed logins, try again later");
		return ++s->auth_failures >= MS_AUTH_FAILURES_MAX ? -1 : 0;
	case STORE_AUTH_TEMPFAIL:
		ms_no(s, "TRYLATER", "Temporary failure, try again later");
		return 0;
	default:
		ms_no(s, NULL, "Authentication failed");
		if (++s->auth_failures < MS_AUTH_FAILURES_MAX)
			return 0;
		ms_reply(s, "BYE", NULL, "Too many failed logins, closing connection");
		return -1;
	}
	s->account = *user;
	s->state = MS_STATE_AUTH;
	s->puts = s->gets = s->deletes = 0;
	conn_set_time_limit(s->conn, 0);
	log_client("login", user->address, conn_peer_ip(s->conn), " tls=%s mech=%s",
		   conn_is_tls(s->conn) ? conn_tls_description(s->conn) : "no", mech);
	ms_ok(s, NULL, "Logged in");
	return 0;
}

/* The SASL exchange after sasl_start: challenges go out as strings, each
 * response is one string (RFC 5804 2.1). Returns the final status; *closed_r
 * set when the client went away or must be sent away. */
static enum sasl_status ms_sasl_converse(struct ms_session *s, struct sasl *sasl,
					 enum sasl_status st, const char *challenge,
					 const char **error_r, bool *closed_r)
{
	while (st == SASL_CONTINUE) {
		struct ms_parser rp;
		int r;

		ms_write_string(s, challenge, strlen(challenge));
		conn_write(s->conn, "\r\n", 2);
		ms_parser_init(&rp, false);
		r = ms_read(s, &rp);
		if (r == 1 && rp.nargs == 1 && rp.args[0].type == MS_ARG_STRING &&
		    memchr(rp.args[0].data, '\0', rp.args[0].len) == NULL) {
			st = sasl_step(sasl, rp.args[0].data, rp.args[0].len, &challenge, error_r);
		} else if (r == 1 || r == MS_READ_BAD || r == CONN_LINE_TOO_LONG) {
			st = SASL_FAIL;
			*error_r = r == CONN_LINE_TOO_LONG ? "response too long" : "malformed response";
			if (r == MS_READ_BAD && rp.literal_pending) {
				/* Its literal is on the way and is no response. */
				ms_reply(s, "BYE", NULL, "Malformed response, closing connection");
				*closed_r = true;
			}
		} else {
			st = SASL_FAIL;
			*error_r = "no response";
			*closed_r = true;
		}
		ms_parser_clear(&rp);
	}
	return st;
}

int ms_cmd_authenticate(struct ms_session *s, struct ms_parser *p)
{
	enum sasl_mech mech;
	enum sasl_status st;
	enum store_auth_result result;
	struct store_user user;
	struct sasl *sasl;
	const char *challenge = "", *error = NULL, *initial = NULL, *mechname;
	char authcid[STORE_ADDRESS_MAX + 1];
	bool closed = false;

	if (!ms_plaintext_allowed(s)) {
		ms_no(s, "ENCRYPT-NEEDED", "Plaintext authentication disallowed on non-secure "
					   "connections, use STARTTLS");
		return 0;
	}
	if (memchr(p->args[0].data, '\0', p->args[0].len) != NULL ||
	    !sasl_mech_parse(p->args[0].data, &mech)) {
		ms_no(s, NULL, "Unsupported authentication mechanism");
		return 0;
	}
	mechname = mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN";
	if (p->nargs == 2)
		/* An empty initial response is "" here, "=" to sasl.h. */
		initial = p->args[1].len == 0 ? "=" : p->args[1].data;
	if (initial != NULL && strlen(initial) != p->args[1].len && p->args[1].len != 0)
		initial = "!"; /* a NUL inside: malformed base64 */
	if ((sasl = sasl_new(mech)) == NULL) {
		ms_reply(s, "BYE", "TRYLATER", "Out of memory");
		return -1;
	}
	st = sasl_start(sasl, initial, &challenge, &error);
	st = ms_sasl_converse(s, sasl, st, challenge, &error, &closed);
	if (closed) {
		sasl_free(&sasl);
		return -1;
	}
	switch (st) {
	case SASL_DONE:
		memset(&user, 0, sizeof(user));
		error = NULL;
		result = sasl_check(sasl, s->store, conn_peer_ip_or_null(s->conn), &user, &error);
		snprintf(authcid, sizeof(authcid), "%s", sasl_authcid(sasl));
		sasl_free(&sasl);
		return ms_login_result(s, result, &user, authcid, mechname, error);
	case SASL_CANCEL:
		sasl_free(&sasl);
		ms_no(s, NULL, "Authentication cancelled");
		return 0;
	default:
		sasl_log_failure(s->conn, sasl_authcid(sasl), mechname, error);
		sasl_free(&sasl);
		ms_no(s, NULL, "Authentication failed");
		if (++s->auth_failures < MS_AUTH_FAILURES_MAX)
			return 0;
		ms_reply(s, "BYE", NULL, "Too many failed logins, closing connection");
		return -1;
	}
}

int ms_cmd_starttls(struct ms_session *s, struct ms_parser *p)
{
	const char *error = NULL;
	size_t discarded = 0;

	(void)p;
	if (s->tls_creds == NULL) {
		ms_no(s, NULL, "TLS is not configured");
		return 0;
	}
	if (conn_is_tls(s->conn)) {
		ms_no(s, NULL, "TLS is already active");
		return 0;
	}
	/* A broken key is a NO here, not a dropped connection after OK. */
	if (tls_creds_ready(s->tls_creds, &error) < 0) {
		log_error("STARTTLS: %s", error);
		ms_no(s, "TRYLATER", "TLS is not available now");
		return 0;
	}
	ms_ok(s, NULL, "Begin TLS negotiation now");
	if (conn_start_tls(s->conn, s->tls_creds, true, NULL, &discarded, &error) < 0) {
		log_info("STARTTLS failed rip=%s: %s", conn_peer_ip(s->conn), error);
		return -1;
	}
	/* SECURITY.md 3: nothing learned before TLS is kept. */
	s->bad_commands = 0;
	log_info("starttls rip=%s tls=%s cert=%s discarded=%zu", conn_peer_ip(s->conn),
		 conn_tls_description(s->conn), conn_tls_cert_name(s->conn), discarded);
	/* RFC 5804 2.2: the capabilities again, then OK. */
	ms_capabilities(s);
	ms_ok(s, NULL, "TLS negotiation successful");
	return 0;
}

int ms_cmd_logout(struct ms_session *s, struct ms_parser *p)
{
	(void)p;
	ms_ok(s, NULL, "Logout completed");
	s->logout = true;
	return 0;
}

int ms_cmd_noop(struct ms_session *s, struct ms_parser *p)
{
	if (p->nargs == 0) {
		ms_ok(s, NULL, "Done");
		return 0;
	}
	/* RFC 5804 2.13: the tag comes back in a TAG response code. */
	conn_puts(s->conn, "OK (TAG ");
	ms_write_string(s, p->args[0].data, p->args[0].len);
	conn_puts(s->conn, ") \"Done\"\r\n");
	return 0;
}

int ms_cmd_unauthenticate(struct ms_session *s, struct ms_parser *p)
{
	(void)p;
	ms_log_logout(s, "unauthenticate");
	memset(&s->account, 0, sizeof(s->account));
	s->state = MS_STATE_NONAUTH;
	/* The login time limit again: a client cannot idle here longer. */
	conn_set_time_limit(s->conn, s->config->login_timeout);
	ms_ok(s, NULL, "Unauthenticate completed");
	return 0;
}
