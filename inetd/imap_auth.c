/* Commands of any state and those before login: CAPABILITY, NOOP, LOGOUT,
 * ID (RFC 2971), ENABLE (RFC 5161), STARTTLS, COMPRESS (RFC 4978), LOGIN,
 * AUTHENTICATE (SASL-IR, RFC 4959). Authentication goes through
 * inetd/sasl.h and store_auth_login: throttling and uniform failures live
 * there. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap.h"
#include "log.h"
#include "password.h"
#include "sasl.h"
#include "tls.h"

/* RFC 2971: at most 30 field/value pairs, fields 30 bytes, values 1024. */
#define IMAP_ID_PAIRS_MAX 30
#define IMAP_ID_FIELD_MAX 30
#define IMAP_ID_VALUE_MAX 1024

int imap_cmd_capability(struct imap_session *s, struct imap_cmd *cmd)
{
	if (cmd->args != NULL) {
		imap_bad(s, cmd, "CAPABILITY takes no arguments");
		return 0;
	}
	imap_puts(s, "* CAPABILITY ");
	imap_write_capabilities(s);
	imap_puts(s, "\r\n");
	imap_ok(s, cmd, "Capability completed");
	return 0;
}

int imap_cmd_noop(struct imap_session *s, struct imap_cmd *cmd)
{
	if (cmd->args != NULL) {
		imap_bad(s, cmd, "NOOP takes no arguments");
		return 0;
	}
	imap_ok(s, cmd, "NOOP completed");
	return 0;
}

int imap_cmd_logout(struct imap_session *s, struct imap_cmd *cmd)
{
	if (cmd->args != NULL) {
		imap_bad(s, cmd, "LOGOUT takes no arguments");
		return 0;
	}
	imap_bye(s, "Logging out");
	imap_ok(s, cmd, "Logout completed");
	imap_reply_flush(s, cmd);
	imap_view_close(s);
	s->state = IMAP_STATE_LOGOUT;
	return 0;
}

int imap_cmd_id(struct imap_session *s, struct imap_cmd *cmd)
{
	const struct imap_arg *a = cmd->args;
	char name[64] = "", version[64] = "";

	if (a == NULL || a->next != NULL ||
	    !(imap_arg_atom_is(a, "NIL") || a->type == IMAP_ARG_LIST)) {
		imap_bad(s, cmd, "ID takes NIL or a list of field/value pairs");
		return 0;
	}
	if (a->type == IMAP_ARG_LIST) {
		unsigned n = imap_arg_count(a->child);
		if (n % 2 != 0 || n / 2 > IMAP_ID_PAIRS_MAX) {
			imap_bad(s, cmd, "Invalid ID field list");
			return 0;
		}
		for (const struct imap_arg *f = a->child; f != NULL; f = f->next->next) {
			const struct imap_arg *v = f->next;
			if (!imap_arg_is_string(f) || f->type == IMAP_ARG_ATOM ||
			    f->len > IMAP_ID_FIELD_MAX ||
			    !(imap_arg_atom_is(v, "NIL") ||
			      (imap_arg_is_string(v) && v->type != IMAP_ARG_ATOM)) ||
			    v->len > IMAP_ID_VALUE_MAX) {
				imap_bad(s, cmd, "Invalid ID field");
				return 0;
			}
			if (v->type == IMAP_ARG_ATOM)
				continue;
			if (strcasecmp(f->str, "name") == 0)
				log_safe(name, sizeof(name), v->str, v->len);
			else if (strcasecmp(f->str, "version") == 0)
				log_safe(version, sizeof(version), v->str, v->len);
		}
		if (name[0] != '\0')
			log_info("id user=<%s> rip=%s name=%s version=%s", s->user.address,
				 conn_peer_ip(s->conn), name, version[0] ? version : "-");
	}
	imap_puts(s, "* ID (\"name\" \"Pillarbox\" \"version\" \"" PACKAGE_VERSION "\")\r\n");
	imap_ok(s, cmd, "ID completed");
	return 0;
}

int imap_cmd_enable(struct imap_session *s, struct imap_cmd *cmd)
{
	bool condstore = false, utf8 = false, rev2 = false, qresync = false;

	if (cmd->args == NULL) {
		imap_bad(s, cmd, "ENABLE needs capability names");
		return 0;
	}
	for (const struct imap_arg *a = cmd->args; a != NULL; a = a->next) {
		if (a->type != IMAP_ARG_ATOM) {
			imap_bad(s, cmd, "Capability names are atoms");
			return 0;
		}
		if (strcasecmp(a->str, "CONDSTORE") == 0 && !s->condstore)
			condstore = true;
		else if (strcasecmp(a->str, "UTF8=ACCEPT") == 0)
			utf8 = true;
		else if (strcasecmp(a->str, "IMAP4rev2") == 0 && !s->rev2)
			rev2 = true;
		else if (strcasecmp(a->str, "QRESYNC") == 0 && !s->qresync)
			qresync = true;
	}
	imap_puts(s, "* ENABLED");
	if (condstore)
		imap_puts(s, " CONDSTORE");
	/* named after IMAP4rev2 it is no news, but the client took on
	 * UTF8=ACCEPT's rules (RFC 6855 3: no SEARCH CHARSET) */
	s->utf8_accept |= utf8;
	if (utf8 && !s->utf8) {
		s->utf8 = true;
		imap_puts(s, " UTF8=ACCEPT");
	}
	if (rev2) {
		s->rev2 = true;
		s->utf8 = true;
		imap_puts(s, " IMAP4rev2");
	}
	if (qresync) {
		/* CONDSTORE comes with it, named only if asked (RFC 7162 3.2.3) */
		s->qresync = true;
		imap_puts(s, " QRESYNC");
	}
	imap_puts(s, "\r\n");
	if (condstore || qresync)
		imap_condstore_enable(s);
	imap_ok(s, cmd, "ENABLE completed");
	return 0;
}

int imap_cmd_starttls(struct imap_session *s, struct imap_cmd *cmd)
{
	const char *error = NULL;
	size_t discarded = 0;

	if (cmd->args != NULL) {
		imap_bad(s, cmd, "STARTTLS takes no arguments");
		return 0;
	}
	if (s->tls_creds == NULL) {
		imap_bad(s, cmd, "TLS is not available");
		return 0;
	}
	if (conn_is_tls(s->conn)) {
		imap_bad(s, cmd, "TLS is already active");
		return 0;
	}
	/* Credentials are loaded at the first use: a broken key is a NO here,
	 * not a dropped connection after "OK". */
	if (tls_creds_ready(s->tls_creds, &error) < 0) {
		log_error("STARTTLS: %s", error);
		imap_no(s, cmd, "[UNAVAILABLE] TLS is not available now");
		return 0;
	}
	imap_ok(s, cmd, "Begin TLS negotiation now");
	imap_reply_flush(s, cmd);
	if (conn_start_tls(s->conn, s->tls_creds, true, NULL, &discarded, &error) < 0) {
		log_info("STARTTLS failed rip=%s: %s", conn_peer_ip(s->conn), error);
		return -1;
	}
	/* SECURITY.md 3: nothing learned before TLS is kept. */
	s->bad_commands = 0;
	s->utf8 = s->utf8_accept = s->rev2 = s->condstore = false;
	log_info("starttls rip=%s tls=%s cert=%s discarded=%zu", conn_peer_ip(s->conn),
		 conn_tls_description(s->conn), conn_tls_cert_name(s->conn), discarded);
	return 0;
}

int imap_cmd_compress(struct imap_session *s, struct imap_cmd *cmd)
{
	const char *error = NULL;
	const struct imap_arg *a = cmd->args;

	if (a == NULL || a->next != NULL) {
		imap_bad(s, cmd, "COMPRESS takes one mechanism: DEFLATE");
		return 0;
	}
	if (a->type != IMAP_ARG_ATOM) {
		imap_bad(s, cmd, "The mechanism is an atom, not a string: COMPRESS DEFLATE");
		return 0;
	}
	if (strcasecmp(a->str, "DEFLATE") != 0) {
		imap_bad(s, cmd, "Unknown compression mechanism, only DEFLATE is offered");
		return 0;
	}
	if (conn_is_deflate(s->conn)) {
		imap_no(s, cmd, "[COMPRESSIONACTIVE] DEFLATE is already active");
		return 0;
	}
	imap_ok(s, cmd, "DEFLATE active");
	imap_reply_flush(s, cmd);
	if (conn_start_deflate(s->conn, &error) < 0) {
		/* The client compresses from now on whatever we do: end here. */
		log_error("COMPRESS user=<%s> rip=%s: %s", s->user.address, conn_peer_ip(s->conn),
			  error);
		return -1;
	}
	return 0;
}

/* The end of every login attempt, whatever the mechanism. */
static int imap_login_result(struct imap_session *s, struct imap_cmd *cmd,
			     enum store_auth_result result, const struct store_user *user,
			     const char *authcid, const char *mech, const char *error)
{
	sasl_log_refusal(s->conn, result, authcid, mech, error);
	switch (result) {
	case STORE_AUTH_OK:
		break;
	case STORE_AUTH_THROTTLED:
		imap_no(s, cmd, "[UNAVAILABLE] Too many failed logins, try again later");
		return ++s->auth_failures >= IMAP_AUTH_FAILURES_MAX ? -1 : 0;
	case STORE_AUTH_TEMPFAIL:
		imap_no(s, cmd, "[UNAVAILABLE] Temporary failure, try again later");
		return 0;
	default:
		imap_no(s, cmd, "[AUTHENTICATIONFAILED] Authentication failed");
		if (++s->auth_failures >= IMAP_AUTH_FAILURES_MAX) {
			imap_reply_flush(s, cmd);
			imap_bye(s, "Too many failed logins");
			return -1;
		}
		return 0;
	}
	s->user = *user;
	s->state = IMAP_STATE_AUTH;
	s->bad_commands = 0;
	conn_set_time_limit(s->conn, 0);
	log_client("login", user->address, conn_peer_ip(s->conn), " tls=%s mech=%s",
		   conn_is_tls(s->conn) ? conn_tls_description(s->conn) : "no", mech);
	/* The capability list after login goes in the tagged OK (RFC 3501
	 * 7.2.1): clients then skip a CAPABILITY round trip. */
	conn_puts(s->conn, cmd->tag);
	conn_puts(s->conn, " OK [CAPABILITY ");
	imap_write_capabilities(s);
	conn_puts(s->conn, "] Logged in\r\n");
	cmd->replied = true;
	return 0;
}

/* Refuses authentication over plaintext where not allowed: 1 refused. */
static int imap_plaintext_refused(struct imap_session *s, struct imap_cmd *cmd)
{
	if (imap_plaintext_allowed(s))
		return 0;
	imap_no(s, cmd, "[PRIVACYREQUIRED] Plaintext authentication disallowed without TLS, "
			"use STARTTLS");
	return 1;
}

int imap_cmd_login(struct imap_session *s, struct imap_cmd *cmd)
{
	const struct imap_arg *u = cmd->args, *p = u != NULL ? u->next : NULL;
	struct store_user user;
	enum store_auth_result result;
	const char *error = NULL;

	if (!imap_arg_is_string(u) || !imap_arg_is_string(p) || p->next != NULL) {
		if (imap_arg_is_string(p))
			password_wipe((char *)p->str, p->len);
		imap_bad(s, cmd, "LOGIN needs a user name and a password");
		return 0;
	}
	if (imap_plaintext_refused(s, cmd)) {
		password_wipe((char *)p->str, p->len);
		return 0;
	}
	memset(&user, 0, sizeof(user));
	if (u->len == 0 || u->len > STORE_ADDRESS_MAX || memchr(u->str, '\0', u->len) != NULL ||
	    p->len == 0 || p->len > PASSWORD_MAX || memchr(p->str, '\0', p->len) != NULL)
		result = STORE_AUTH_FAIL; /* refused, not truncated; same answer */
	else
		result = store_auth_login(s->store, u->str, p->str, conn_peer_ip_or_null(s->conn),
					  &user, &error);
	password_wipe((char *)p->str, p->len);
	return imap_login_result(s, cmd, result, &user, u->str, "LOGIN", error);
}

int imap_cmd_authenticate(struct imap_session *s, struct imap_cmd *cmd)
{
	const struct imap_arg *m = cmd->args, *ir = m != NULL ? m->next : NULL;
	enum sasl_mech mech;
	enum sasl_status st;
	struct sasl *sasl;
	struct store_user user;
	const char *challenge = "", *error = NULL;
	char authcid[STORE_ADDRESS_MAX + 1];
	int r;

	if (m == NULL || m->type != IMAP_ARG_ATOM || (ir != NULL && (ir->type != IMAP_ARG_ATOM ||
								     ir->next != NULL))) {
		imap_bad(s, cmd, "AUTHENTICATE needs a mechanism name");
		return 0;
	}
	if (imap_plaintext_refused(s, cmd))
		return 0;
	if (!sasl_mech_parse(m->str, &mech)) {
		imap_no(s, cmd, "Unsupported authentication mechanism");
		return 0;
	}
	sasl = sasl_new(mech);
	if (sasl == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return -1;
	}
	st = sasl_start(sasl, ir != NULL ? ir->str : NULL, &challenge, &error);
	if (ir != NULL)
		password_wipe((char *)ir->str, ir->len);
	st = sasl_converse(sasl, s->conn, "+ ", st, challenge, &error, &r);
	if (r != CONN_OK && r != CONN_LINE_TOO_LONG) {
		sasl_free(&sasl);
		return -1;
	}
	snprintf(authcid, sizeof(authcid), "%s", sasl_authcid(sasl));
	if (st == SASL_DONE) {
		memset(&user, 0, sizeof(user));
		error = NULL;
		enum store_auth_result result =
			sasl_check(sasl, s->store, conn_peer_ip_or_null(s->conn), &user, &error);
		sasl_free(&sasl);
		return imap_login_result(s, cmd, result, &user, authcid,
					 mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN", error);
	}
	sasl_free(&sasl);
	if (st == SASL_CANCEL) {
		imap_bad(s, cmd, "Authentication cancelled");
		return 0;
	}
	sasl_log_failure(s->conn, authcid, mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN", error);
	if (error != NULL && strcmp(error, "malformed base64") == 0) {
		imap_bad(s, cmd, "Invalid base64 data");
		return 0;
	}
	imap_no(s, cmd, "[AUTHENTICATIONFAILED] Authentication failed");
	return ++s->auth_failures >= IMAP_AUTH_FAILURES_MAX ? -1 : 0;
}
