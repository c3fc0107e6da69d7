/* AUTH (RFC 4954: PLAIN and LOGIN through inetd/sasl) and STARTTLS
 * (RFC 3207). */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "password.h"
#include "smtp.h"
#include "tls.h"

/* The end of every login attempt: 0 go on, -1 close. */
static int smtp_login_result(struct smtp_session *s, enum store_auth_result result,
			     const struct store_user *user, const char *authcid, const char *mech,
			     const char *error)
{
	sasl_log_refusal(s->conn, result, authcid, mech, error);
	switch (result) {
	case STORE_AUTH_OK:
		s->authenticated = true;
		s->user = *user;
		log_client("login", user->address, conn_peer_ip(s->conn), " tls=%s%s%s mech=%s",
			   conn_is_tls(s->conn) ? "yes" : "no", conn_is_tls(s->conn) ? " cipher=" : "",
			   conn_tls_description(s->conn), mech);
		smtp_reply(s, "235 2.7.0 Authentication successful");
		return 0;
	case STORE_AUTH_THROTTLED:
		smtp_reply(s, "454 4.7.0 Too many failed logins, try again later");
		return ++s->auth_failures >= SMTP_AUTH_FAILURES_MAX ? -1 : 0;
	case STORE_AUTH_TEMPFAIL:
		smtp_reply(s, "454 4.7.0 Temporary authentication failure, try again later");
		return 0;
	default:
		if (++s->auth_failures >= SMTP_AUTH_FAILURES_MAX) {
			smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
			conn_printf(s->conn, "421 4.7.0 %s Too many failed logins, closing connection\r\n",
				    s->config->hostname);
			return -1;
		}
		return smtp_error(s, "535 5.7.8 Authentication credentials invalid");
	}
}

int smtp_cmd_auth(struct smtp_session *s, char *args, size_t len)
{
	enum sasl_mech mech;
	enum sasl_status st;
	struct sasl *sasl;
	const char *challenge = "", *error = NULL, *initial = NULL, *mechname;
	char *space;
	int r, ret;

	if (!s->esmtp) {
		password_wipe(args, len);
		return smtp_error(s, "503 5.5.1 Send EHLO first");
	}
	if (s->authenticated) {
		password_wipe(args, len);
		return smtp_error(s, "503 5.5.1 Already authenticated");
	}
	if (!smtp_auth_allowed(s)) {
		password_wipe(args, len);
		return smtp_error(s, "538 5.7.11 Encryption required for requested authentication "
				     "mechanism");
	}
	space = strchr(args, ' ');
	if (space != NULL) {
		*space = '\0';
		initial = space + 1;
	}
	if (!sasl_mech_parse(args, &mech)) {
		if (initial != NULL)
			password_wipe(space + 1, strlen(space + 1));
		return smtp_error(s, "504 5.5.4 Unrecognized authentication type");
	}
	mechname = mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN";
	if ((sasl = sasl_new(mech)) == NULL) {
		smtp_reply(s, "454 4.3.0 Out of memory");
		return -1;
	}
	st = sasl_start(sasl, initial, &challenge, &error);
	if (initial != NULL)
		password_wipe(space + 1, strlen(space + 1));
	st = sasl_converse(sasl, s->conn, "334 ", st, challenge, &error, &r);
	if (r == CONN_LINE_TOO_LONG) {
		sasl_free(&sasl);
		return smtp_error(s, "500 5.5.6 Authentication exchange line is too long");
	}
	if (r != CONN_OK) {
		/* EOF, timeout or error: the session loop sees it on its next
		 * read. */
		sasl_free(&sasl);
		return r == CONN_EOF ? 0 : -1;
	}
	switch (st) {
	case SASL_DONE: {
		struct store_user user;
		char authcid[STORE_ADDRESS_MAX + 1];
		enum store_auth_result result;

		memset(&user, 0, sizeof(user));
		error = NULL;
		smtp_watchdog(s, true);
		result = sasl_check(sasl, s->store, conn_peer_ip_or_null(s->conn), &user, &error);
		smtp_watchdog(s, false);
		snprintf(authcid, sizeof(authcid), "%s", sasl_authcid(sasl));
		sasl_free(&sasl);
		return smtp_login_result(s, result, &user, authcid, mechname, error);
	}
	case SASL_CANCEL:
		ret = smtp_error(s, "501 5.0.0 Authentication cancelled");
		break;
	default:
		sasl_log_failure(s->conn, sasl_authcid(sasl), mechname, error);
		if (strcmp(error, "malformed base64") == 0) {
			ret = smtp_error(s, "501 5.5.2 Cannot decode response");
		} else if (++s->auth_failures >= SMTP_AUTH_FAILURES_MAX) {
			smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
			ret = -1;
		} else {
			ret = smtp_error(s, "535 5.7.8 Authentication credentials invalid");
		}
		break;
	}
	sasl_free(&sasl);
	return ret;
}

int smtp_cmd_starttls(struct smtp_session *s, char *args, size_t len)
{
	const char *error = NULL;
	size_t discarded = 0;

	if (s->tls_creds == NULL)
		return smtp_error(s, "454 4.7.0 TLS not available");
	if (conn_is_tls(s->conn))
		return smtp_error(s, "503 5.5.1 TLS already active");
	/* Credentials are loaded at the first use: a broken key is a 454
	 * here, not a dropped connection after "220". */
	if (tls_creds_ready(s->tls_creds, &error) < 0) {
		log_error("STARTTLS: %s", error);
		return smtp_error(s, "454 4.7.0 TLS not available now");
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	if (conn_start_tls(s->conn, s->tls_creds, true, NULL, &discarded, &error) < 0) {
		log_info("STARTTLS failed rip=%s: %s", conn_peer_ip(s->conn), error);
		return -1;
	}
	/* RFC 3207 §4.2 / SECURITY.md 3: everything learned before TLS is
	 * forgotten: the EHLO name, the transaction, a login (made from
	 * loopback in clear); what was pipelined was discarded by conn. */
	smtp_txn_reset(s);
	s->state = SMTP_STATE_INIT;
	s->esmtp = false;
	s->helo[0] = '\0';
	if (s->authenticated)
		password_wipe(&s->user, sizeof(s->user));
	s->authenticated = false;
	log_info("starttls rip=%s tls=%s cert=%s discarded=%zu", conn_peer_ip(s->conn),
		 conn_tls_description(s->conn), conn_tls_cert_name(s->conn), discarded);
	return 0;
}
