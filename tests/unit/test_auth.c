/* store_auth_login: answers, throttling, delays, timing. Each test runs on a
 * fresh store as the store user (a run as root switches to `pillarbox`
 * first, or skips). PILLARBOX_AUTH_DELAY_MS is 0 unless a test sets it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "password.h"
#include "process.h"
#include "store.h"
#include "store_fixture.h"

static int setup(void **state)
{
	const char *err = "";

	if (store_fixture_setup(state) < 0)
		return -1;
	struct store_fixture *f = *state;
	if (store_domain_add(f->store, "example.org", &err) != 1 ||
	    store_user_add(f->store, "Bob@example.org", "right password", NULL, &err) != 1 ||
	    store_user_add(f->store, "alice@example.org", "alice's password", NULL, &err) != 1) {
		print_error("setup: %s\n", err);
		return -1;
	}
	setenv("PILLARBOX_AUTH_DELAY_MS", "0", 1);
	*state = f;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum store_auth_result login(struct store_fixture *f, const char *address, const char *password,
				    const char *rip)
{
	struct store_user u;
	const char *err = NULL;
	return store_auth_login(f->store, address, password, rip, &u, &err);
}

static void test_auth_answers(void **state)
{
	struct store_fixture *f = *state;
	struct store_user u;
	const char *err = NULL;
	char longpw[PASSWORD_MAX + 2];

	assert_int_equal(store_auth_login(f->store, "bob@EXAMPLE.org", "right password", "192.0.2.1",
					  &u, &err), STORE_AUTH_OK);
	assert_string_equal(u.address, "Bob@example.org");
	assert_int_equal(login(f, "bob@example.org", "wrong password", "192.0.2.1"), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "bob@example.org", "Right password", NULL), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "bob@example.org", "", NULL), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "bob@example.org", NULL, NULL), STORE_AUTH_FAIL);
	assert_int_equal(store_auth_login(f->store, "nobody@example.org", "right password", NULL, &u,
					  &err), STORE_AUTH_FAIL);
	assert_string_equal(err, "authentication failed");
	assert_int_equal(login(f, "bob@example.net", "right password", NULL), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "not an address", "right password", NULL), STORE_AUTH_FAIL);
	assert_int_equal(login(f, NULL, "right password", NULL), STORE_AUTH_FAIL);
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(login(f, "bob@example.org", longpw, NULL), STORE_AUTH_FAIL);
	/* A client address that is not one is a caller's bug: temporary failure. */
	assert_int_equal(login(f, "bob@example.org", "right password", "192.0.2.1\r\nx"),
			 STORE_AUTH_TEMPFAIL);
	/* Still fine after all that (5 failures for bob < 10). */
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_OK);

	/* Disabled: the right password fails like a wrong one. */
	assert_int_equal(store_user_disable(f->store, "bob@example.org", true, &err), 1);
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_FAIL);
	assert_int_equal(store_user_disable(f->store, "bob@example.org", false, &err), 1);
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_OK);
}

static void test_auth_passwd_import(void **state)
{
	struct store_fixture *f = *state;
	char hash[PASSWORD_HASH_MAX];
	const char *err = NULL;

	assert_int_equal(store_user_passwd(f->store, "BOB@example.org", "new password", &err), 1);
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "bob@example.org", "new password", NULL), STORE_AUTH_OK);

	assert_int_equal(password_hash("imported one", 0, hash, &err), 0);
	assert_int_equal(store_user_add(f->store, "carol@example.org", NULL, hash, &err), 1);
	assert_int_equal(login(f, "carol@example.org", "imported one", NULL), STORE_AUTH_OK);
	assert_int_equal(login(f, "carol@example.org", "imported two", NULL), STORE_AUTH_FAIL);
}

static void test_auth_throttle_address(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	struct store_user u;

	/* 9 failures, then a success resets the address's count ... */
	for (int i = 0; i < 9; i++)
		assert_int_equal(login(f, "bob@example.org", "wrong", NULL), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_OK);
	/* ... so ten more failures are counted from zero, then THROTTLED, even for
	 * the right password (which is not even checked). */
	for (int i = 0; i < 10; i++)
		assert_int_equal(login(f, "Bob@example.org", "wrong", NULL), STORE_AUTH_FAIL);
	assert_int_equal(store_auth_login(f->store, "bob@example.org", "right password", NULL, &u,
					  &err), STORE_AUTH_THROTTLED);
	assert_non_null(strstr(err, "try again later"));
	/* Another address is not affected. */
	assert_int_equal(login(f, "alice@example.org", "alice's password", NULL), STORE_AUTH_OK);
	/* An unknown address is throttled the same way (no user enumeration). */
	for (int i = 0; i < 10; i++)
		assert_int_equal(login(f, "ghost@example.org", "x", NULL), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "ghost@example.org", "x", NULL), STORE_AUTH_THROTTLED);

	/* 1000 wrong passwords in a row: bounded time (no password checks, no
	 * delays once throttled). */
	double t0 = now_s();
	for (int i = 0; i < 1000; i++)
		assert_int_equal(login(f, "bob@example.org", "wrong", NULL), STORE_AUTH_THROTTLED);
	double spent = now_s() - t0;
	assert_true(spent < 20.0);
	/* A deleted user's counter goes with it. */
	assert_int_equal(store_user_del(f->store, "bob@example.org", &err), 1);
	assert_int_equal(store_user_add(f->store, "bob@example.org", "third", NULL, &err), 1);
	assert_int_equal(login(f, "bob@example.org", "third", NULL), STORE_AUTH_OK);
}

/* `pillarbox user unlock`: an address, or a client IP (an IPv6 one by its
 * /64), throttled by failures may log in again at once. */
static void test_auth_unlock(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	unsigned removed = 9;
	char address[64];

	for (int i = 0; i < 10; i++)
		assert_int_equal(login(f, "bob@example.org", "wrong", NULL), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_THROTTLED);
	assert_int_equal(store_auth_unlock(f->store, "BOB@example.org", NULL, &removed, &err), 1);
	assert_int_equal(removed, 1);
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_OK);
	/* nothing counted: nothing removed */
	assert_int_equal(store_auth_unlock(f->store, "bob@example.org", NULL, &removed, &err), 1);
	assert_int_equal(removed, 0);

	for (int i = 0; i < 30; i++) {
		snprintf(address, sizeof(address), "guess%d@example.org", i % 5);
		assert_int_equal(login(f, address, "wrong", "2001:db8::1"), STORE_AUTH_FAIL);
	}
	assert_int_equal(login(f, "alice@example.org", "alice's password", "2001:db8::1"),
			 STORE_AUTH_THROTTLED);
	/* another address of the same /64 names the same counter */
	assert_int_equal(store_auth_unlock(f->store, NULL, "2001:db8::77", &removed, &err), 1);
	assert_int_equal(removed, 1);
	assert_int_equal(login(f, "alice@example.org", "alice's password", "2001:db8::1"),
			 STORE_AUTH_OK);

	assert_int_equal(store_auth_unlock(f->store, "not an address", NULL, &removed, &err), 0);
	assert_non_null(err);
	assert_int_equal(store_auth_unlock(f->store, NULL, "localhost", &removed, &err), 0);
	assert_non_null(strstr(err, "not an IP address"));
}

static void test_auth_throttle_ip(void **state)
{
	struct store_fixture *f = *state;
	char address[64];

	/* 30 failures from one IP over several addresses (each below 10) ... */
	for (int i = 0; i < 30; i++) {
		snprintf(address, sizeof(address), "guess%d@example.org", i % 5);
		assert_int_equal(login(f, address, "wrong", "2001:db8::1"), STORE_AUTH_FAIL);
	}
	/* ... throttle that IP, even for a right password; not others. */
	assert_int_equal(login(f, "alice@example.org", "alice's password", "2001:db8::1"),
			 STORE_AUTH_THROTTLED);
	assert_int_equal(login(f, "alice@example.org", "alice's password", "2001:db8:0:1::2"),
			 STORE_AUTH_OK);
	/* An IPv6 host is its /64: its other addresses are throttled too. */
	assert_int_equal(login(f, "alice@example.org", "alice's password", "2001:db8::2"),
			 STORE_AUTH_THROTTLED);
	assert_int_equal(login(f, "alice@example.org", "alice's password",
			       "2001:db8::ffff:ffff:ffff:ffff"), STORE_AUTH_THROTTLED);
	/* 30 failures spread over 30 addresses of one /64 add up the same. */
	for (int i = 0; i < 30; i++) {
		char rip[64];

		snprintf(address, sizeof(address), "guess%d@example.org", i % 5 + 5);
		snprintf(rip, sizeof(rip), "2001:db8:0:2::%x", i + 1);
		assert_int_equal(login(f, address, "wrong", rip), STORE_AUTH_FAIL);
	}
	assert_int_equal(login(f, "alice@example.org", "alice's password", "2001:db8:0:2::abcd"),
			 STORE_AUTH_THROTTLED);
	assert_int_equal(login(f, "alice@example.org", "alice's password", NULL), STORE_AUTH_OK);

	/* Successes do not use up an IP's budget (a NAT of many users). */
	for (int i = 0; i < 40; i++)
		assert_int_equal(login(f, "alice@example.org", "alice's password", "198.51.100.7"),
				 STORE_AUTH_OK);
	/* And the failures before a success still count for the IP. */
	for (int i = 0; i < 29; i++) {
		snprintf(address, sizeof(address), "other%d@example.org", i % 5);
		assert_int_equal(login(f, address, "wrong", "198.51.100.8"), STORE_AUTH_FAIL);
	}
	assert_int_equal(login(f, "alice@example.org", "alice's password", "198.51.100.8"),
			 STORE_AUTH_OK);
	assert_int_equal(login(f, "other0@example.org", "wrong", "198.51.100.8"), STORE_AUTH_FAIL);
	assert_int_equal(login(f, "alice@example.org", "alice's password", "198.51.100.8"),
			 STORE_AUTH_THROTTLED);
	/* The same client as an IPv4-mapped IPv6 address is the same IP (and
	 * mapped addresses are not lumped together as one /64). */
	assert_int_equal(login(f, "alice@example.org", "alice's password", "::ffff:198.51.100.8"),
			 STORE_AUTH_THROTTLED);
	assert_int_equal(login(f, "alice@example.org", "alice's password", "::ffff:198.51.100.9"),
			 STORE_AUTH_OK);
}

/* Unknown user and wrong password cost the same (the dummy hash). */
static void test_auth_timing(void **state)
{
	struct store_fixture *f = *state;
	double unknown = 0, wrong = 0;

	for (int i = 0; i < 3; i++) {
		double t0 = now_s();
		assert_int_equal(login(f, "bob@example.org", "wrong", NULL), STORE_AUTH_FAIL);
		double t1 = now_s();
		assert_int_equal(login(f, "nobody@example.org", "wrong", NULL), STORE_AUTH_FAIL);
		double t2 = now_s();
		wrong += t1 - t0;
		unknown += t2 - t1;
	}
	print_message("wrong password %.1f ms, unknown user %.1f ms (3 each)\n", wrong * 1e3,
		      unknown * 1e3);
	assert_true(wrong < 2 * unknown);
	assert_true(unknown < 2 * wrong);
	/* and both did real work: a yescrypt check is not free */
	assert_true(unknown > 3 * 0.002);
}

/* Failures are answered late, more so each time; successes are not. */
static void test_auth_delay(void **state)
{
	struct store_fixture *f = *state;

	double t0 = now_s();
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_OK);
	double check = now_s() - t0;

	setenv("PILLARBOX_AUTH_DELAY_MS", "150", 1);
	for (int n = 1; n <= 3; n++) {
		t0 = now_s();
		assert_int_equal(login(f, "bob@example.org", "wrong", NULL), STORE_AUTH_FAIL);
		double spent = now_s() - t0;
		if (spent < 0.150 * n)
			fail_msg("failure %d answered after %.3f s, not >= %.3f s", n, spent,
				 0.150 * n);
	}
	t0 = now_s();
	assert_int_equal(login(f, "bob@example.org", "right password", NULL), STORE_AUTH_OK);
	double ok = now_s() - t0;
	assert_true(ok < 2 * check + 0.100);
	/* A bad override is ignored (the default applies, not "no delay"). */
	setenv("PILLARBOX_AUTH_DELAY_MS", "-5", 1);
	t0 = now_s();
	assert_int_equal(login(f, "alice@example.org", "wrong", NULL), STORE_AUTH_FAIL);
	assert_true(now_s() - t0 >= 0.5);
	setenv("PILLARBOX_AUTH_DELAY_MS", "0", 1);
}

/* Bytes in the store's log (from store_stats): unchanged = nothing written. */
static unsigned long long log_position(struct store_fixture *f)
{
	char *text = NULL;
	size_t len = 0;
	const char *err = NULL;
	FILE *out = open_memstream(&text, &len);
	unsigned long long file = 0, bytes = 0;

	assert_non_null(out);
	assert_int_equal(store_stats(f->store, out, true, &err), 0);
	fclose(out);
	const char *p = strstr(text, "log current file: ");
	const char *q = strstr(text, "log bytes since checkpoint: ");
	assert_non_null(p);
	assert_non_null(q);
	file = strtoull(p + strlen("log current file: "), NULL, 10);
	bytes = strtoull(q + strlen("log bytes since checkpoint: "), NULL, 10);
	free(text);
	return (file << 32) + bytes;
}

/* A success writes nothing when there is no failure to forget; a failure
 * is recorded, and the next success forgets it (one write), after which
 * successes write nothing again. */
static void test_auth_success_writes_nothing(void **state)
{
	struct store_fixture *f = *state;

	/* Every database handle open first (opening one logs it). */
	assert_int_equal(login(f, "bob@example.org", "right password", "192.0.2.9"), STORE_AUTH_OK);
	(void)log_position(f);
	unsigned long long before = log_position(f);
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "bob@example.org", "right password", "192.0.2.9"),
				 STORE_AUTH_OK);
	assert_int_equal(login(f, "alice@example.org", "alice's password", NULL), STORE_AUTH_OK);
	assert_true(log_position(f) == before);

	assert_int_equal(login(f, "bob@example.org", "wrong", "192.0.2.10"), STORE_AUTH_FAIL);
	unsigned long long failed = log_position(f);
	assert_true(failed > before);
	assert_int_equal(login(f, "bob@example.org", "right password", "192.0.2.9"), STORE_AUTH_OK);
	unsigned long long forgotten = log_position(f);
	assert_true(forgotten > failed);
	assert_int_equal(login(f, "bob@example.org", "right password", "192.0.2.9"), STORE_AUTH_OK);
	assert_true(log_position(f) == forgotten);
	/* The failing IP's later successes take their own count back: written. */
	assert_int_equal(login(f, "alice@example.org", "alice's password", "192.0.2.10"),
			 STORE_AUTH_OK);
	assert_true(log_position(f) > forgotten);
}

/* Parallel attempts (one process each) cannot pass the threshold together:
 * the attempts on one address run one at a time. */
#define PARALLEL 12
static void test_auth_parallel(void **state)
{
	struct store_fixture *f = *state;
	pid_t pids[PARALLEL];
	int fails = 0, throttled = 0;

	store_close(&f->store); /* never fork with an open environment */
	for (int i = 0; i < PARALLEL; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct store *s;
			struct store_user u;
			const char *err;
			int code = 100;
			if (store_open(f->config, false, &s, &err) == 0) {
				code = store_auth_login(s, "bob@example.org", "wrong", NULL, &u, &err);
				store_close(&s);
			}
			_exit(code);
		}
	}
	for (int i = 0; i < PARALLEL; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == STORE_AUTH_FAIL)
			fails++;
		else if (WEXITSTATUS(status) == STORE_AUTH_THROTTLED)
			throttled++;
		else
			fail_msg("child exited %d", WEXITSTATUS(status));
	}
	assert_int_equal(fails, 10);
	assert_int_equal(throttled, PARALLEL - 10);
	const char *err;
	assert_int_equal(store_open(f->config, false, &f->store, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth_answers, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_auth_passwd_import, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_auth_throttle_address, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_auth_throttle_ip, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_auth_unlock, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_auth_timing, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_auth_delay, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_auth_parallel, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_auth_success_writes_nothing, setup,
						store_fixture_teardown),
	};

	int user = store_fixture_become_store_user();
	if (user != 0)
		return user;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
