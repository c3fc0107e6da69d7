/* Unit tests of store/password.c. Foreign hashes are made here with
 * libxcrypt directly (the test is the one other place <crypt.h> may appear). */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "password.h"

/* Rounds of the timing comparison; the median of each side is compared. */
#define TIMING_ROUNDS 5

static void test_hash_and_verify(void **state)
{
	char hash[PASSWORD_HASH_MAX], hash2[PASSWORD_HASH_MAX];
	const char *error = NULL;

	(void)state;
	assert_int_equal(password_hash("correct horse", 0, hash, &error), 0);
	assert_memory_equal(hash, "$y$j9T$", 7); /* yescrypt, default cost */
	assert_true(password_hash_supported(hash));
	assert_int_equal(password_verify("correct horse", hash), 1);
	assert_int_equal(password_verify("correct horsE", hash), 0);
	assert_int_equal(password_verify("correct horse ", hash), 0);
	assert_int_equal(password_verify("", hash), 0);
	assert_int_equal(password_verify(NULL, hash), 0);
	/* A fresh salt every time. */
	assert_int_equal(password_hash("correct horse", 0, hash2, &error), 0);
	assert_string_not_equal(hash, hash2);
	assert_int_equal(password_verify("correct horse", hash2), 1);
	/* UTF-8 passwords are bytes like any other. */
	assert_int_equal(password_hash("p\xc3\xa4ssw\xc3\xb6rd", 0, hash, &error), 0);
	assert_int_equal(password_verify("p\xc3\xa4ssw\xc3\xb6rd", hash), 1);
	assert_int_equal(password_verify("passwrd", hash), 0);
}

static void test_cost(void **state)
{
	char hash[PASSWORD_HASH_MAX];
	const char *error = NULL;

	(void)state;
	assert_int_equal(password_hash("pw", 1, hash, &error), 0);
	assert_memory_equal(hash, "$y$j75$", 7);
	assert_int_equal(password_verify("pw", hash), 1);
	assert_int_equal(password_hash("pw", 12, hash, &error), -1);
	assert_string_equal(error, "bad password cost");
}

/* Hashes `password` with `prefix` through libxcrypt itself. */
static void foreign_hash(const char *prefix, const char *password, char *out, size_t outsize)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = calloc(1, sizeof(*data));
	const char *h;

	assert_non_null(data);
	assert_non_null(crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)));
	h = crypt_r(password, salt, data);
	assert_non_null(h);
	assert_true(h[0] == '$');
	assert_true(strlen(h) < outsize);
	strcpy(out, h);
	free(data);
}

static void test_foreign_hashes(void **state)
{
	static const char *const prefixes[] = { "$6$", "$5$", "$2b$", "$2y$", "$7$", "$y$" };
	char hash[PASSWORD_HASH_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		foreign_hash(prefixes[i], "imported secret", hash, sizeof(hash));
		assert_memory_equal(hash, prefixes[i], strlen(prefixes[i]));
		if (!password_hash_supported(hash))
			fail_msg("%s not supported", hash);
		if (password_verify("imported secret", hash) != 1)
			fail_msg("%s did not verify", hash);
		assert_int_equal(password_verify("imported secreT", hash), 0);
	}
	/* A published SHA-512-crypt vector (Drepper's specification). */
	assert_int_equal(password_verify("Hello world!",
		"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiB"
		"FdcbYEdFCoEOfaS35inz1"), 1);
	assert_int_equal(password_verify("Hello world?",
		"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiB"
		"FdcbYEdFCoEOfaS35inz1"), 0);
}

static void test_rejected_hashes(void **state)
{
	char hash[PASSWORD_HASH_MAX], md5[PASSWORD_HASH_MAX], locked[PASSWORD_HASH_MAX + 1];
	const char *error = NULL;
	static const char *const bad[] = {
		"!", "*", "", "garbage", "!!", "*LK*", "x$y$abc", "$y$", "$y$j9T$",
		"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjn", /* cut */
		"ab01FAX.bQRSU", /* traditional DES syntax: refused */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (password_verify("password", bad[i]) != 0 || password_verify("", bad[i]) != 0)
			fail_msg("hash \"%s\" accepted", bad[i]);
	}
	for (size_t i = 0; i < 5; i++)
		assert_false(password_hash_supported(bad[i]));
	assert_false(password_hash_supported(NULL));
	assert_int_equal(password_verify("password", NULL), 0);
	assert_int_equal(password_verify("", NULL), 0);

	/* A locked account ("!" before a valid hash) does not verify. */
	assert_int_equal(password_hash("pw", 1, hash, &error), 0);
	snprintf(locked, sizeof(locked), "!%s", hash);
	assert_int_equal(password_verify("pw", locked), 0);
	/* MD5-crypt is known to libxcrypt but too weak to accept. */
	foreign_hash("$1$", "pw", md5, sizeof(md5));
	assert_false(password_hash_supported(md5));
	assert_int_equal(password_verify("pw", md5), 0);
	/* Characters outside crypt's alphabet. */
	hash[strlen(hash) - 1] = '\n';
	assert_false(password_hash_supported(hash));
}

static void test_length_limit(void **state)
{
	static char pw[PASSWORD_MAX + 2];
	char hash[PASSWORD_HASH_MAX];
	const char *error = NULL;

	(void)state;
	memset(pw, 'p', PASSWORD_MAX);
	pw[PASSWORD_MAX] = '\0';
	/* Exactly PASSWORD_MAX bytes: accepted. */
	assert_int_equal(password_hash(pw, 1, hash, &error), 0);
	assert_int_equal(password_verify(pw, hash), 1);
	/* One more: refused, never truncated to the accepted prefix. */
	pw[PASSWORD_MAX] = 'p';
	pw[PASSWORD_MAX + 1] = '\0';
	assert_int_equal(password_hash(pw, 1, hash, &error), -1);
	assert_string_equal(error, "password too long");
	assert_int_equal(password_verify(pw, hash), 0);
}

static void test_wipe(void **state)
{
	char buf[32];
	static const char zero[32];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	password_wipe(buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Unknown users (NULL hash) and disabled accounts ("!") take about as long as
 * a real check of a default-cost hash: within a factor of 2. The fastest of
 * the rounds is compared: it is the cost of the computation itself, where a
 * median still moves with whatever else the machine runs (make check -j). */
static void test_timing(void **state)
{
	double real[TIMING_ROUNDS], unknown[TIMING_ROUNDS], locked[TIMING_ROUNDS];
	char hash[PASSWORD_HASH_MAX];
	const char *error = NULL;

	(void)state;
	assert_int_equal(password_hash("secret", 0, hash, &error), 0);
	for (int i = 0; i < TIMING_ROUNDS; i++) {
		double t0 = now();

		assert_int_equal(password_verify("secret", hash), 1);
		real[i] = now() - t0;
		t0 = now();
		assert_int_equal(password_verify("secret", NULL), 0);
		unknown[i] = now() - t0;
		t0 = now();
		assert_int_equal(password_verify("secret", "!"), 0);
		locked[i] = now() - t0;
	}
	qsort(real, TIMING_ROUNDS, sizeof(double), cmp_double);
	qsort(unknown, TIMING_ROUNDS, sizeof(double), cmp_double);
	qsort(locked, TIMING_ROUNDS, sizeof(double), cmp_double);
	print_message("fastest verify: real %.1f ms, unknown user %.1f ms, disabled %.1f ms"
		      " (medians %.1f, %.1f, %.1f)\n", real[0] * 1e3, unknown[0] * 1e3,
		      locked[0] * 1e3, real[TIMING_ROUNDS / 2] * 1e3,
		      unknown[TIMING_ROUNDS / 2] * 1e3, locked[TIMING_ROUNDS / 2] * 1e3);
	assert_true(unknown[0] > real[0] / 2);
	assert_true(unknown[0] < real[0] * 2);
	assert_true(locked[0] > real[0] / 2);
	assert_true(locked[0] < real[0] * 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_foreign_hashes),
		cmocka_unit_test(test_rejected_hashes),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
