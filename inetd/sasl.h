/* SASL server mechanisms PLAIN (RFC 4616) and LOGIN, as state machines that
 * know no protocol: a base64 client response goes in, a base64 challenge
 * (or done / fail / cancel) comes out. The protocol frames the challenge
 * ("+ " in POP3 and IMAP, "334 " in SMTP) and reads the next line.
 *
 * When the mechanism is done, sasl_check() asks the store
 * (store_auth_login: throttling, uniform failures) and wipes the password.
 * sasl_free() wipes everything too, so a session dropped half-way leaves no
 * password in memory. */
#ifndef PB_SASL_H
#define PB_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "password.h"
#include "store.h"

/* The mechanisms offered, for CAPA / CAPABILITY / EHLO lines. */
#define SASL_MECHANISMS "PLAIN LOGIN"

/* The longest client response line (base64) accepted: PLAIN carries an
 * authzid and an authcid (STORE_ADDRESS_MAX each), two NULs and a password
 * (PASSWORD_MAX) = 1534 bytes, 2048 in base64; rounded up for slack. The
 * protocol reads SASL lines with this maximum. */
#define SASL_RESPONSE_MAX 4096

enum sasl_mech {
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
};

enum sasl_status {
	SASL_FAIL = -1,    /* malformed or not allowed: *error_r for the log; answer
			    * the protocol's "authentication failed" */
	SASL_CANCEL = 0,   /* the client sent "*" */
	SASL_CONTINUE = 1, /* send *challenge_r (base64, maybe "") and read a line */
	SASL_DONE = 2,     /* credentials complete: call sasl_check() */
};

struct sasl;

/* Case-insensitive mechanism name → 1 and *mech_r, or 0 if not offered. */
int sasl_mech_parse(const char *name, enum sasl_mech *mech_r);

struct sasl *sasl_new(enum sasl_mech mech);

/* Begins the exchange. `initial` is the initial response from the command
 * line (RFC 4954 / 5034 / 4959 SASL-IR): NULL when absent, "=" for an
 * empty one, else base64. Base64 must be clean (store/codec.h: no stray
 * bytes, no truncated quantum) or the exchange fails ("malformed base64"). */
enum sasl_status sasl_start(struct sasl *sasl, const char *initial, const char **challenge_r,
			    const char **error_r);

/* One client response line (base64, or "*" to cancel). */
enum sasl_status sasl_step(struct sasl *sasl, const char *response, size_t len,
			   const char **challenge_r, const char **error_r);

/* The rest of the exchange, from what sasl_start returned (st, challenge):
 * while the mechanism wants more, writes PREFIX ("+ " in POP3 and IMAP,
 * "334 " in SMTP), the challenge and CRLF, reads one response line (at most
 * SASL_RESPONSE_MAX) and steps; each line is wiped once used. Returns the
 * final status. *conn_r is CONN_OK, or what conn_read_line said when no
 * response came: CONN_LINE_TOO_LONG (status SASL_FAIL, *error_r "response
 * too long"), or EOF, timeout or error (status SASL_FAIL: the session ends
 * without an answer, as its next read sees the same). */
enum sasl_status sasl_converse(struct sasl *sasl, struct conn *conn, const char *prefix,
			       enum sasl_status st, const char *challenge, const char **error_r,
			       int *conn_r);

/* The log line of a login that did not succeed, the same in every protocol
 * (log_client's form): "login throttled", "login error" (a store error:
 * `error`) or "login failed", with the user as the client sent it (made safe
 * here), the client's IP, TLS yes/no and the mechanism (or "USER", "LOGIN"
 * for the protocols' own commands):
 *     login failed user=<bob@example.com> rip=192.0.2.1 tls=no mech=PLAIN
 * Nothing is logged for STORE_AUTH_OK. */
void sasl_log_refusal(struct conn *conn, enum store_auth_result result, const char *authcid,
		      const char *mech, const char *error);

/* The log line of an exchange that failed before the store was asked (a
 * malformed response, an authzid not the authcid, ...): "login failed", as
 * sasl_log_refusal writes it, then ": " and why (our text, not the
 * client's). */
void sasl_log_failure(struct conn *conn, const char *authcid, const char *mech, const char *why);

/* The authentication identity once known ("" before), for logs. */
const char *sasl_authcid(const struct sasl *sasl);

/* After SASL_DONE: checks the credentials through store_auth_login() with
 * the client's IP (NULL when unknown), then wipes the password. Returns what
 * store_auth_login returns (user_r filled on STORE_AUTH_OK). Refuses (FAIL)
 * if called before SASL_DONE. */
enum store_auth_result sasl_check(struct sasl *sasl, struct store *store, const char *rip,
				  struct store_user *user_r, const char **error_r);

/* Wipes and frees; safe on NULL. */
void sasl_free(struct sasl **sasl);

#endif
