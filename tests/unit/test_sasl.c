/* Unit tests of inetd/sasl.c: PLAIN (RFC 4616) and LOGIN vectors, failures
 * (malformed base64, bad fields, authzid, cancel, over-long input), and the
 * password check against a real store made in the build directory, and
 * sasl_converse over a socketpair. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "process.h"
#include "sasl.h"
#include "store.h"

/* base64 of raw bytes (may hold NULs), NUL-terminated in a static buffer. */
static const char *b64(const char *raw, size_t len)
{
	static char out[BASE64_ENCODED_MAX(8192) + 1];

	assert_true(len <= 8192);
	out[base64_encode(raw, len, 0, out)] = '\0';
	return out;
}

#define B64(lit) b64(lit, sizeof(lit) - 1)

static void test_mech_parse(void **state)
{
	enum sasl_mech mech;

	assert_int_equal(sasl_mech_parse("plain", &mech), 1);
	assert_int_equal(mech, SASL_MECH_PLAIN);
	assert_int_equal(sasl_mech_parse("LOGIN", &mech), 1);
	assert_int_equal(mech, SASL_MECH_LOGIN);
	assert_int_equal(sasl_mech_parse("CRAM-MD5", &mech), 0);
	assert_int_equal(sasl_mech_parse("", &mech), 0);
}

/* Runs PLAIN with the message as initial response: the status. */
static enum sasl_status plain_ir(const char *raw, size_t len, char *authcid_r)
{
	struct sasl *sasl = sasl_new(SASL_MECH_PLAIN);
	const char *challenge, *error = NULL;
	enum sasl_status st = sasl_start(sasl, b64(raw, len), &challenge, &error);

	if (st == SASL_FAIL)
		assert_non_null(error);
	if (authcid_r != NULL)
		strcpy(authcid_r, sasl_authcid(sasl));
	sasl_free(&sasl);
	assert_null(sasl);
	return st;
}

#define PLAIN(lit, who) plain_ir(lit, sizeof(lit) - 1, who)

static void test_plain_vectors(void **state)
{
	char who[STORE_ADDRESS_MAX + 1];

	/* RFC 4616 section 4 examples, adapted to addresses */
	assert_int_equal(PLAIN("\0tim@example.com\0tanstaaftanstaaf", who), SASL_DONE);
	assert_string_equal(who, "tim@example.com");
	assert_int_equal(PLAIN("tim@example.com\0tim@example.com\0pw", who), SASL_DONE);
	assert_int_equal(PLAIN("TIM@Example.com\0tim@example.com\0pw", who), SASL_DONE);
	/* a password may hold spaces and UTF-8 */
	assert_int_equal(PLAIN("\0a@b.c\0p w \xc3\xa9", who), SASL_DONE);

	/* authzid naming someone else: refused (no proxy authorisation) */
	assert_int_equal(PLAIN("Ursel\0Kurt\0xipj3plmq", NULL), SASL_FAIL);
	assert_int_equal(PLAIN("tim@example.co\0tim@example.com\0pw", NULL), SASL_FAIL);
	/* malformed messages */
	assert_int_equal(PLAIN("no nul at all", NULL), SASL_FAIL);
	assert_int_equal(PLAIN("\0only-one-nul", NULL), SASL_FAIL);
	assert_int_equal(PLAIN("\0\0password", NULL), SASL_FAIL);      /* empty authcid */
	assert_int_equal(PLAIN("\0user@x.y\0", NULL), SASL_FAIL);      /* empty password */
	assert_int_equal(PLAIN("\0user@x.y\0pa\0ss", NULL), SASL_FAIL); /* NUL in password */
}

static void test_plain_long_fields(void **state)
{
	char raw[3000];
	size_t n = 0;

	/* an authcid one byte past the address limit */
	raw[n++] = '\0';
	memset(raw + n, 'a', STORE_ADDRESS_MAX + 1);
	n += STORE_ADDRESS_MAX + 1;
	raw[n++] = '\0';
	raw[n++] = 'p';
	assert_int_equal(plain_ir(raw, n, NULL), SASL_FAIL);
	/* at the limit: accepted */
	n = 0;
	raw[n++] = '\0';
	memset(raw + n, 'a', STORE_ADDRESS_MAX);
	n += STORE_ADDRESS_MAX;
	raw[n++] = '\0';
	memset(raw + n, 'p', PASSWORD_MAX);
	n += PASSWORD_MAX;
	assert_int_equal(plain_ir(raw, n, NULL), SASL_DONE);
	/* a password one byte past PASSWORD_MAX */
	raw[n++] = 'p';
	assert_int_equal(plain_ir(raw, n, NULL), SASL_FAIL);
}

static void test_plain_no_initial_response(void **state)
{
	struct sasl *sasl = sasl_new(SASL_MECH_PLAIN);
	const char *challenge = NULL, *error = NULL;
	const char *resp;

	assert_int_equal(sasl_start(sasl, NULL, &challenge, &error), SASL_CONTINUE);
	assert_string_equal(challenge, "");
	resp = B64("\0bob@example.com\0secret");
	assert_int_equal(sasl_step(sasl, resp, strlen(resp), &challenge, &error), SASL_DONE);
	assert_string_equal(sasl_authcid(sasl), "bob@example.com");
	/* nothing more is expected */
	assert_int_equal(sasl_step(sasl, resp, strlen(resp), &challenge, &error), SASL_FAIL);
	sasl_free(&sasl);
}

static void test_malformed_base64(void **state)
{
	static const char *const bad[] = { "!!!!", "AGJvYg==!", "Q", "AGJ*vYg==", "\x01\x02" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sasl *sasl = sasl_new(SASL_MECH_PLAIN);
		const char *challenge, *error = NULL;

		assert_int_equal(sasl_start(sasl, NULL, &challenge, &error), SASL_CONTINUE);
		assert_int_equal(sasl_step(sasl, bad[i], strlen(bad[i]), &challenge, &error),
				 SASL_FAIL);
		assert_string_equal(error, "malformed base64");
		sasl_free(&sasl);
	}
}

static void test_cancel_and_empty(void **state)
{
	struct sasl *sasl = sasl_new(SASL_MECH_LOGIN);
	const char *challenge, *error = NULL;

	assert_int_equal(sasl_start(sasl, NULL, &challenge, &error), SASL_CONTINUE);
	assert_int_equal(sasl_step(sasl, "*", 1, &challenge, &error), SASL_CANCEL);
	sasl_free(&sasl);

	sasl = sasl_new(SASL_MECH_PLAIN);
	assert_int_equal(sasl_start(sasl, "=", &challenge, &error), SASL_FAIL);
	sasl_free(&sasl);
	sasl = sasl_new(SASL_MECH_PLAIN);
	assert_int_equal(sasl_start(sasl, "*", &challenge, &error), SASL_CANCEL);
	sasl_free(&sasl);
}

static void test_too_long_response(void **state)
{
	static char line[SASL_RESPONSE_MAX + 2];
	struct sasl *sasl = sasl_new(SASL_MECH_PLAIN);
	const char *challenge, *error = NULL;

	memset(line, 'A', sizeof(line) - 1);
	assert_int_equal(sasl_start(sasl, NULL, &challenge, &error), SASL_CONTINUE);
	assert_int_equal(sasl_step(sasl, line, SASL_RESPONSE_MAX + 1, &challenge, &error),
			 SASL_FAIL);
	sasl_free(&sasl);
}

static void test_login_vectors(void **state)
{
	struct sasl *sasl = sasl_new(SASL_MECH_LOGIN);
	const char *challenge = NULL, *error = NULL, *resp;

	assert_int_equal(sasl_start(sasl, NULL, &challenge, &error), SASL_CONTINUE);
	assert_string_equal(challenge, "VXNlcm5hbWU6"); /* "Username:" */
	resp = B64("bob@example.com");
	assert_int_equal(sasl_step(sasl, resp, strlen(resp), &challenge, &error), SASL_CONTINUE);
	assert_string_equal(challenge, "UGFzc3dvcmQ6"); /* "Password:" */
	assert_string_equal(sasl_authcid(sasl), "bob@example.com");
	resp = B64("secret");
	assert_int_equal(sasl_step(sasl, resp, strlen(resp), &challenge, &error), SASL_DONE);
	sasl_free(&sasl);

	/* the user name as initial response */
	sasl = sasl_new(SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(sasl, B64("bob@example.com"), &challenge, &error),
			 SASL_CONTINUE);
	assert_string_equal(challenge, "UGFzc3dvcmQ6");
	/* an empty password is malformed */
	assert_int_equal(sasl_step(sasl, "", 0, &challenge, &error), SASL_FAIL);
	sasl_free(&sasl);

	/* a NUL inside the user name */
	sasl = sasl_new(SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(sasl, NULL, &challenge, &error), SASL_CONTINUE);
	resp = b64("bob\0x", 5);
	assert_int_equal(sasl_step(sasl, resp, strlen(resp), &challenge, &error), SASL_FAIL);
	sasl_free(&sasl);
}

/* ------------------------------------------------ against a real store */
/* (a store in a temporary directory; run as root, the test becomes the
 * store user first, as every store program does) */

static struct config *store_config;
static struct store *store;
static char store_dir[512];

static int store_setup(void **state)
{
	const char *error = NULL;
	static char user[] = "pillarbox";

	/* In /tmp (sticky): once handed to the store user, that user can
	 * remove it again after dropping root. */
	snprintf(store_dir, sizeof(store_dir), "/tmp/pb-test-sasl.XXXXXX");
	if (mkdtemp(store_dir) == NULL)
		return -1;
	if (geteuid() == 0) {
		/* the store refuses root: an empty directory for the store user */
		struct passwd *pw = getpwnam(user);

		if (pw == NULL || chown(store_dir, pw->pw_uid, pw->pw_gid) < 0 ||
		    process_drop_root(user, &error) < 0) {
			fprintf(stderr, "store user %s: %s\n", user, error ? error : "setup failed");
			return -1;
		}
	}
	umask(007);
	store_config = config_defaults();
	free(store_config->store);
	store_config->store = strdup(store_dir);
	store_config->password_cost = 1;
	if (store_init(store_config, &error) < 0 ||
	    store_open(store_config, false, &store, &error) < 0 ||
	    store_domain_add(store, "example.com", &error) < 0 ||
	    store_user_add(store, "bob@example.com", "right password", NULL, &error) != 1) {
		fprintf(stderr, "store setup in %s: %s\n", store_dir, error);
		return -1;
	}
	return 0;
}

static int store_teardown(void **state)
{
	char cmd[600];

	store_close(&store);
	config_free(&store_config);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static enum store_auth_result check_plain(const char *raw, size_t len, struct store_user *user)
{
	struct sasl *sasl = sasl_new(SASL_MECH_PLAIN);
	const char *challenge, *error = NULL;
	enum store_auth_result r;

	assert_int_equal(sasl_start(sasl, b64(raw, len), &challenge, &error), SASL_DONE);
	r = sasl_check(sasl, store, "192.0.2.7", user, &error);
	/* checked once: the password is gone, a second check is refused */
	assert_int_equal(sasl_check(sasl, store, "192.0.2.7", user, &error), STORE_AUTH_FAIL);
	sasl_free(&sasl);
	return r;
}

#define CHECK(lit, user) check_plain(lit, sizeof(lit) - 1, user)

static void test_check_store(void **state)
{
	struct store_user user;
	struct sasl *sasl;
	const char *challenge, *error = NULL, *resp;

	memset(&user, 0, sizeof(user));
	assert_int_equal(CHECK("\0bob@example.com\0right password", &user), STORE_AUTH_OK);
	assert_string_equal(user.address, "bob@example.com");
	assert_int_equal(CHECK("\0bob@example.com\0wrong password", &user), STORE_AUTH_FAIL);
	assert_int_equal(CHECK("\0nobody@example.com\0right password", &user), STORE_AUTH_FAIL);
	assert_int_equal(CHECK("bob@example.com\0bob@example.com\0right password", &user),
			 STORE_AUTH_OK);

	/* LOGIN reaches the same check */
	sasl = sasl_new(SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(sasl, NULL, &challenge, &error), SASL_CONTINUE);
	resp = B64("bob@example.com");
	assert_int_equal(sasl_step(sasl, resp, strlen(resp), &challenge, &error), SASL_CONTINUE);
	resp = B64("right password");
	assert_int_equal(sasl_step(sasl, resp, strlen(resp), &challenge, &error), SASL_DONE);
	assert_int_equal(sasl_check(sasl, store, NULL, &user, &error), STORE_AUTH_OK);
	sasl_free(&sasl);

	/* a check before the exchange is complete is refused */
	sasl = sasl_new(SASL_MECH_LOGIN);
	assert_int_equal(sasl_start(sasl, NULL, &challenge, &error), SASL_CONTINUE);
	assert_int_equal(sasl_check(sasl, store, NULL, &user, &error), STORE_AUTH_FAIL);
	sasl_free(&sasl);
}

/* sasl_converse over a socketpair: the client's lines are written ahead
 * (`client`, then its end shut when `eof`); returns the status, *conn_r,
 * *error_r and what the server wrote (in `sent`). */
static enum sasl_status converse(enum sasl_mech mech, const char *client, bool eof, int *conn_r,
				 const char **error_r, char *sent, size_t sentsize)
{
	struct sasl *sasl = sasl_new(mech);
	const char *challenge = NULL;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], client, strlen(client)), (ssize_t)strlen(client));
	if (eof)
		shutdown(sv[1], SHUT_WR);
	struct conn *conn = conn_new(sv[0], sv[0], 100);
	*error_r = NULL;
	enum sasl_status st = sasl_start(sasl, NULL, &challenge, error_r);
	st = sasl_converse(sasl, conn, "334 ", st, challenge, error_r, conn_r);
	const char *ignored;
	conn_flush(conn, &ignored);
	conn_free(&conn);
	close(sv[0]);
	ssize_t n = read(sv[1], sent, sentsize - 1);
	sent[n > 0 ? n : 0] = '\0';
	close(sv[1]);
	sasl_free(&sasl);
	return st;
}

static void test_converse(void **state)
{
	static char longline[SASL_RESPONSE_MAX + 100];
	char sent[256], client[64];
	const char *error;
	int r;

	/* LOGIN: two challenges, each with the prefix, then done */
	snprintf(client, sizeof(client), "%s\r\n", B64("bob@example.com"));
	snprintf(client + strlen(client), sizeof(client) - strlen(client), "%s\r\n", B64("secret"));
	assert_int_equal(converse(SASL_MECH_LOGIN, client, false, &r, &error, sent, sizeof(sent)),
			 SASL_DONE);
	assert_int_equal(r, CONN_OK);
	assert_string_equal(sent, "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");

	/* "*" cancels */
	assert_int_equal(converse(SASL_MECH_PLAIN, "*\r\n", false, &r, &error, sent, sizeof(sent)),
			 SASL_CANCEL);
	assert_int_equal(r, CONN_OK);
	assert_string_equal(sent, "334 \r\n");

	/* a line past SASL_RESPONSE_MAX is a failure the protocol answers */
	memset(longline, 'A', sizeof(longline) - 3);
	memcpy(longline + sizeof(longline) - 3, "\r\n", 3);
	assert_int_equal(converse(SASL_MECH_PLAIN, longline, true, &r, &error, sent, sizeof(sent)),
			 SASL_FAIL);
	assert_int_equal(r, CONN_LINE_TOO_LONG);
	assert_string_equal(error, "response too long");

	/* the client goes away half-way: a failure with nothing to answer */
	snprintf(client, sizeof(client), "%s\r\n", B64("bob@example.com"));
	assert_int_equal(converse(SASL_MECH_LOGIN, client, true, &r, &error, sent, sizeof(sent)),
			 SASL_FAIL);
	assert_int_equal(r, CONN_EOF);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_mech_parse),
		cmocka_unit_test(test_plain_vectors),
		cmocka_unit_test(test_plain_long_fields),
		cmocka_unit_test(test_plain_no_initial_response),
		cmocka_unit_test(test_malformed_base64),
		cmocka_unit_test(test_cancel_and_empty),
		cmocka_unit_test(test_too_long_response),
		cmocka_unit_test(test_login_vectors),
		cmocka_unit_test(test_converse),
	};
	const struct CMUnitTest with_store[] = {
		cmocka_unit_test(test_check_store),
	};
	int failed = cmocka_run_group_tests_name("sasl", pure, NULL, NULL);

	failed += cmocka_run_group_tests_name("sasl_store", with_store, store_setup, store_teardown);
	return failed;
}
