/* SASL PLAIN and LOGIN server mechanisms (see sasl.h). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "log.h"
#include "sasl.h"

enum sasl_state {
	SASL_STATE_START,
	SASL_STATE_PLAIN_RESPONSE, /* PLAIN: waiting for the one message */
	SASL_STATE_LOGIN_USER,     /* LOGIN: "Username:" sent */
	SASL_STATE_LOGIN_PASS,     /* LOGIN: "Password:" sent */
	SASL_STATE_DONE,
	SASL_STATE_FINISHED,       /* failed, cancelled or checked */
};

struct sasl {
	enum sasl_mech mech;
	enum sasl_state state;
	char authcid[STORE_ADDRESS_MAX + 1];
	char password[PASSWORD_MAX + 1];
	unsigned char decoded[BASE64_DECODED_MAX(SASL_RESPONSE_MAX)];
};

/* base64 of "Username:" and "Password:" (the LOGIN mechanism's fixed
 * challenges, as every client expects them). */
static const char sasl_login_user_challenge[] = "VXNlcm5hbWU6";
static const char sasl_login_pass_challenge[] = "UGFzc3dvcmQ6";

int sasl_mech_parse(const char *name, enum sasl_mech *mech_r)
{
	if (strcasecmp(name, "PLAIN") == 0) {
		*mech_r = SASL_MECH_PLAIN;
		return 1;
	}
	if (strcasecmp(name, "LOGIN") == 0) {
		*mech_r = SASL_MECH_LOGIN;
		return 1;
	}
	return 0;
}

struct sasl *sasl_new(enum sasl_mech mech)
{
	struct sasl *sasl = calloc(1, sizeof(*sasl));

	if (sasl != NULL)
		sasl->mech = mech;
	return sasl;
}

static void sasl_wipe(struct sasl *sasl)
{
	password_wipe(sasl->password, sizeof(sasl->password));
	password_wipe(sasl->decoded, sizeof(sasl->decoded));
}

static enum sasl_status sasl_fail(struct sasl *sasl, const char *why, const char **error_r)
{
	sasl_wipe(sasl);
	sasl->state = SASL_STATE_FINISHED;
	*error_r = why;
	return SASL_FAIL;
}

/* Strict base64 into sasl->decoded: 1 and *len_r, or 0 if malformed. */
static int sasl_decode(struct sasl *sasl, const char *in, size_t len, size_t *len_r)
{
	bool clean = false;

	if (len > SASL_RESPONSE_MAX)
		return 0;
	*len_r = base64_decode(in, len, sasl->decoded, &clean);
	return clean ? 1 : 0;
}

/* Copies a field without NULs into dst (size dstsize): false if too long,
 * empty or holding a NUL. */
static bool sasl_field(char *dst, size_t dstsize, const unsigned char *src, size_t len)
{
	if (len == 0 || len >= dstsize || memchr(src, '\0', len) != NULL)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

/* RFC 4616: message = [authzid] NUL authcid NUL passwd. */
static enum sasl_status sasl_plain_message(struct sasl *sasl, size_t len, const char **error_r)
{
	const unsigned char *msg = sasl->decoded, *nul1, *nul2;
	size_t zlen, clen, plen;

	nul1 = memchr(msg, '\0', len);
	if (nul1 == NULL)
		return sasl_fail(sasl, "PLAIN: malformed message", error_r);
	zlen = (size_t)(nul1 - msg);
	nul2 = memchr(nul1 + 1, '\0', len - zlen - 1);
	if (nul2 == NULL)
		return sasl_fail(sasl, "PLAIN: malformed message", error_r);
	clen = (size_t)(nul2 - nul1 - 1);
	plen = len - zlen - clen - 2;
	if (!sasl_field(sasl->authcid, sizeof(sasl->authcid), nul1 + 1, clen))
		return sasl_fail(sasl, "PLAIN: bad authentication identity", error_r);
	if (!sasl_field(sasl->password, sizeof(sasl->password), nul2 + 1, plen))
		return sasl_fail(sasl, "PLAIN: bad password field", error_r);
	/* We have no proxy users: an authzid must name the same address
	 * (addresses compare case-insensitively, as store_user_find does). */
	if (zlen > 0 && (zlen != clen || strncasecmp((const char *)msg, sasl->authcid, zlen) != 0))
		return sasl_fail(sasl, "PLAIN: authorization identity differs from authentication "
				 "identity", error_r);
	password_wipe(sasl->decoded, sizeof(sasl->decoded));
	sasl->state = SASL_STATE_DONE;
	return SASL_DONE;
}

static enum sasl_status sasl_input(struct sasl *sasl, const char *in, size_t len,
				   const char **challenge_r, const char **error_r)
{
	size_t dlen;

	if (len == 1 && in[0] == '*') {
		sasl_wipe(sasl);
		sasl->state = SASL_STATE_FINISHED;
		*error_r = "cancelled by the client";
		return SASL_CANCEL;
	}
	if (!sasl_decode(sasl, in, len, &dlen))
		return sasl_fail(sasl, "malformed base64", error_r);
	switch (sasl->state) {
	case SASL_STATE_PLAIN_RESPONSE:
		return sasl_plain_message(sasl, dlen, error_r);
	case SASL_STATE_LOGIN_USER:
		if (!sasl_field(sasl->authcid, sizeof(sasl->authcid), sasl->decoded, dlen))
			return sasl_fail(sasl, "LOGIN: bad user name", error_r);
		password_wipe(sasl->decoded, sizeof(sasl->decoded));
		sasl->state = SASL_STATE_LOGIN_PASS;
		*challenge_r = sasl_login_pass_challenge;
		return SASL_CONTINUE;
	case SASL_STATE_LOGIN_PASS:
		if (!sasl_field(sasl->password, sizeof(sasl->password), sasl->decoded, dlen))
			return sasl_fail(sasl, "LOGIN: bad password", error_r);
		password_wipe(sasl->decoded, sizeof(sasl->decoded));
		sasl->state = SASL_STATE_DONE;
		return SASL_DONE;
	default:
		return sasl_fail(sasl, "unexpected SASL response", error_r);
	}
}

enum sasl_status sasl_start(struct sasl *sasl, const char *initial, const char **challenge_r,
			    const char **error_r)
{
	*challenge_r = "";
	if (sasl->state != SASL_STATE_START)
		return sasl_fail(sasl, "SASL exchange already started", error_r);
	sasl->state = sasl->mech == SASL_MECH_PLAIN ? SASL_STATE_PLAIN_RESPONSE
						    : SASL_STATE_LOGIN_USER;
	if (initial == NULL) {
		if (sasl->mech == SASL_MECH_LOGIN)
			*challenge_r = sasl_login_user_challenge;
		return SASL_CONTINUE;
	}
	/* "=" is an empty initial response: PLAIN's message cannot be empty
	 * and LOGIN's user name cannot either. */
	if (strcmp(initial, "=") == 0)
		return sasl_fail(sasl, "empty initial response", error_r);
	return sasl_input(sasl, initial, strlen(initial), challenge_r, error_r);
}

enum sasl_status sasl_step(struct sasl *sasl, const char *response, size_t len,
			   const char **challenge_r, const char **error_r)
{
	*challenge_r = "";
	if (sasl->state != SASL_STATE_PLAIN_RESPONSE && sasl->state != SASL_STATE_LOGIN_USER &&
	    sasl->state != SASL_STATE_LOGIN_PASS)
		return sasl_fail(sasl, "unexpected SASL response", error_r);
	return sasl_input(sasl, response, len, challenge_r, error_r);
}

const char *sasl_authcid(const struct sasl *sasl)
{
	return sasl->authcid;
}

enum store_auth_result sasl_check(struct sasl *sasl, struct store *store, const char *rip,
				  struct store_user *user_r, const char **error_r)
{
	enum store_auth_result ret;

	if (sasl->state != SASL_STATE_DONE) {
		sasl_wipe(sasl);
		*error_r = "SASL exchange not complete";
		return STORE_AUTH_FAIL;
	}
	ret = store_auth_login(store, sasl->authcid, sasl->password, rip, user_r, error_r);
	sasl_wipe(sasl);
	sasl->state = SASL_STATE_FINISHED;
	return ret;
}

void sasl_free(struct sasl **sasl)
{
	if (*sasl == NULL)
		return;
	sasl_wipe(*sasl);
	free(*sasl);
	*sasl = NULL;
}

enum sasl_status sasl_converse(struct sasl *sasl, struct conn *conn, const char *prefix,
			       enum sasl_status st, const char *challenge, const char **error_r,
			       int *conn_r)
{
	*conn_r = CONN_OK;
	while (st == SASL_CONTINUE) {
		char *line;
		size_t len;

		conn_printf(conn, "%s%s\r\n", prefix, challenge);
		*conn_r = conn_read_line(conn, SASL_RESPONSE_MAX, &line, &len, NULL, error_r);
		if (*conn_r != CONN_OK) {
			if (*conn_r == CONN_LINE_TOO_LONG)
				*error_r = "response too long";
			return SASL_FAIL;
		}
		st = sasl_step(sasl, line, len, &challenge, error_r);
		password_wipe(line, len);
	}
	return st;
}

void sasl_log_refusal(struct conn *conn, enum store_auth_result result, const char *authcid,
		      const char *mech, const char *error)
{
	const char *tls = conn_is_tls(conn) ? "yes" : "no";

	switch (result) {
	case STORE_AUTH_OK:
		break;
	case STORE_AUTH_THROTTLED:
		log_client("login throttled", authcid, conn_peer_ip(conn), " tls=%s mech=%s", tls,
			   mech);
		break;
	case STORE_AUTH_TEMPFAIL: {
		/* Not the client's doing: an error, not an event of the client's. */
		char safe[STORE_ADDRESS_MAX * 4 + 8], rip[LOG_RIP_MAX];

		log_error("login error user=<%s> rip=%s: %s",
			  log_field(safe, sizeof(safe), authcid, strlen(authcid)),
			  log_rip(rip, conn_peer_ip(conn)), error != NULL ? error : "store error");
		break;
	}
	default:
		log_client("login failed", authcid, conn_peer_ip(conn), " tls=%s mech=%s", tls, mech);
		break;
	}
}

void sasl_log_failure(struct conn *conn, const char *authcid, const char *mech, const char *why)
{
	log_client("login failed", authcid, conn_peer_ip(conn), " tls=%s mech=%s: %s",
		   conn_is_tls(conn) ? "yes" : "no", mech, why != NULL ? why : "");
}
