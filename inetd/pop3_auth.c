/* POP3 AUTHORIZATION state: CAPA, USER/PASS, AUTH (RFC 5034), STLS (RFC 2595). */
#include <config.h>

#include <string.h>

#include "log.h"
#include "password.h"
#include "pop3.h"
#include "sasl.h"
#include "tls.h"

int pop3_cmd_capa(struct pop3_session *s, char *args)
{
	bool auth = s->state == POP3_STATE_AUTHORIZATION;

	conn_puts(s->conn, "+OK Capability list follows\r\n"
			   "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
			   "EXPIRE NEVER\r\nIMPLEMENTATION Pillarbox\r\n");
	/* Only what may be used now (RFC 2449: CAPA after login lists what
	 * is still useful; plaintext login is not offered where refused). */
	if (auth && pop3_plaintext_allowed(s))
		conn_puts(s->conn, "USER\r\nSASL " SASL_MECHANISMS "\r\n");
	if (auth && s->tls_creds != NULL && !conn_is_tls(s->conn))
		conn_puts(s->conn, "STLS\r\n");
	conn_puts(s->conn, ".\r\n");
	return 0;
}

/* Refuses authentication over plaintext where not allowed: 1 refused. */
static int pop3_plaintext_refused(struct pop3_session *s)
{
	if (pop3_plaintext_allowed(s))
		return 0;
	pop3_err(s, "[AUTH] Plaintext authentication disallowed on non-secure connections, "
		    "use STLS");
	return 1;
}

int pop3_cmd_user(struct pop3_session *s, char *args)
{
	size_t len = strlen(args);

	if (pop3_plaintext_refused(s))
		return 0;
	if (len > STORE_ADDRESS_MAX) {
		pop3_err(s, "[AUTH] User name too long");
		return 0;
	}
	memcpy(s->user, args, len + 1);
	pop3_ok(s, "Send your password");
	return 0;
}

/* The end of every login attempt, whatever the mechanism. */
static int pop3_login_result(struct pop3_session *s, enum store_auth_result result,
			     const struct store_user *user, const char *authcid,
			     const char *mech, const char *error)
{
	sasl_log_refusal(s->conn, result, authcid, mech, error);
	switch (result) {
	case STORE_AUTH_OK:
		break;
	case STORE_AUTH_THROTTLED:
		pop3_err(s, "[SYS/TEMP] Too many failed logins, try again later");
		return ++s->auth_failures >= POP3_AUTH_FAILURES_MAX ? -1 : 0;
	case STORE_AUTH_TEMPFAIL:
		pop3_err(s, "[SYS/TEMP] Temporary failure, try again later");
		return 0;
	default:
		if (++s->auth_failures < POP3_AUTH_FAILURES_MAX) {
			pop3_err(s, "[AUTH] Authentication failed");
			return 0;
		}
		pop3_err(s, "[AUTH] Authentication failed, closing connection");
		return -1;
	}
	if (pop3_maildrop_open(s, user) <= 0)
		return 0;
	conn_set_time_limit(s->conn, 0);
	log_client("login", user->address, conn_peer_ip(s->conn), " tls=%s mech=%s messages=%u",
		   conn_is_tls(s->conn) ? conn_tls_description(s->conn) : "no", mech, s->nmsgs);
	conn_printf(s->conn, "+OK Logged in, %u message%s (%llu octets)\r\n", s->nmsgs,
		    s->nmsgs == 1 ? "" : "s", (unsigned long long)s->total_bytes);
	return 0;
}

int pop3_cmd_pass(struct pop3_session *s, char *args)
{
	struct store_user user;
	enum store_auth_result result;
	const char *error = NULL;
	size_t len = strlen(args);

	if (s->user[0] == '\0') {
		password_wipe(args, len);
		pop3_err(s, "Send USER first");
		return 0;
	}
	if (pop3_plaintext_refused(s)) {
		password_wipe(args, len);
		return 0;
	}
	memset(&user, 0, sizeof(user));
	if (len == 0 || len > PASSWORD_MAX)
		result = STORE_AUTH_FAIL; /* refused, not truncated; same answer */
	else
		result = store_auth_login(s->store, s->user, args, conn_peer_ip_or_null(s->conn),
					  &user, &error);
	password_wipe(args, len);
	int ret = pop3_login_result(s, result, &user, s->user, "USER", error);

	s->user[0] = '\0';
	return ret;
}

/* AUTH with no argument lists the mechanisms (the pre-RFC 5034 form that
 * Outlook still sends). */
static void pop3_auth_list(struct pop3_session *s)
{
	conn_puts(s->conn, "+OK Supported mechanisms follow\r\nPLAIN\r\nLOGIN\r\n.\r\n");
}

int pop3_cmd_auth(struct pop3_session *s, char *args)
{
	enum sasl_mech mech;
	enum sasl_status st;
	struct sasl *sasl;
	struct store_user user;
	const char *challenge = "", *error = NULL, *initial = NULL;
	const char *mechname;
	char *space;
	int r, ret;

	if (*args == '\0') {
		pop3_auth_list(s);
		return 0;
	}
	if (pop3_plaintext_refused(s))
		return 0;
	space = strchr(args, ' ');
	if (space != NULL) {
		*space = '\0';
		initial = space + 1;
	}
	if (!sasl_mech_parse(args, &mech)) {
		pop3_err(s, "Unsupported authentication mechanism");
		return 0;
	}
	mechname = mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN";
	sasl = sasl_new(mech);
	if (sasl == NULL) {
		pop3_err(s, "[SYS/TEMP] Out of memory");
		return -1;
	}
	st = sasl_start(sasl, initial, &challenge, &error);
	if (initial != NULL)
		password_wipe(space + 1, strlen(space + 1));
	st = sasl_converse(sasl, s->conn, "+ ", st, challenge, &error, &r);
	if (r != CONN_OK && r != CONN_LINE_TOO_LONG) {
		/* EOF, timeout or error: the loop in pop3_session_run sees
		 * the same on its next read. */
		sasl_free(&sasl);
		return r == CONN_EOF ? 0 : -1;
	}
	switch (st) {
	case SASL_DONE:
		memset(&user, 0, sizeof(user));
		error = NULL;
		enum store_auth_result result =
			sasl_check(sasl, s->store, conn_peer_ip_or_null(s->conn), &user, &error);
		char authcid[STORE_ADDRESS_MAX + 1];

		snprintf(authcid, sizeof(authcid), "%s", sasl_authcid(sasl));
		sasl_free(&sasl);
		return pop3_login_result(s, result, &user, authcid, mechname, error);
	case SASL_CANCEL:
		pop3_err(s, "Authentication cancelled");
		ret = 0;
		break;
	default:
		sasl_log_failure(s->conn, sasl_authcid(sasl), mechname, error);
		pop3_err(s, strcmp(error, "malformed base64") == 0
				    ? "[AUTH] Authentication failed: invalid base64 data"
				    : "[AUTH] Authentication failed");
		ret = ++s->auth_failures >= POP3_AUTH_FAILURES_MAX ? -1 : 0;
		break;
	}
	sasl_free(&sasl);
	return ret;
}

int pop3_cmd_stls(struct pop3_session *s, char *args)
{
	const char *error = NULL;
	size_t discarded = 0;

	if (s->tls_creds == NULL) {
		pop3_err(s, "TLS is not configured");
		return 0;
	}
	if (conn_is_tls(s->conn)) {
		pop3_err(s, "TLS is already active");
		return 0;
	}
	/* Credentials are loaded at the first use: a broken key is an error
	 * reply here, not a dropped connection after "+OK". */
	if (tls_creds_ready(s->tls_creds, &error) < 0) {
		log_error("STLS: %s", error);
		pop3_err(s, "[SYS/TEMP] TLS is not available now");
		return 0;
	}
	pop3_ok(s, "Begin TLS negotiation");
	if (conn_start_tls(s->conn, s->tls_creds, true, NULL, &discarded, &error) < 0) {
		log_info("STLS failed rip=%s: %s", conn_peer_ip(s->conn), error);
		return -1;
	}
	/* RFC 2595 / SECURITY.md 3: nothing learned before TLS is kept. */
	password_wipe(s->user, sizeof(s->user));
	s->bad_commands = 0;
	log_info("starttls rip=%s tls=%s cert=%s discarded=%zu", conn_peer_ip(s->conn),
		 conn_tls_description(s->conn), conn_tls_cert_name(s->conn), discarded);
	return 0;
}
