/* Unit tests of webmail sessions and settings (store/session.c): random
 * ids, lookup, touch, idle and absolute expiry, destruction, the
 * maintenance sweep, and per-user settings with clamping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process.h"
#include "session.h"
#include "store.h"
#include "store_fixture.h"
#include "store_int.h"

static void test_session_life(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	struct store_session a, b, got;
	int64_t t = 1700000000;
	assert_int_equal(store_session_create(f->store, 7, t, &a, &err), 1);
	assert_int_equal(store_session_create(f->store, 7, t, &b, &err), 1);
	assert_memory_not_equal(a.id, b.id, sizeof(a.id));
	assert_memory_not_equal(a.csrf, b.csrf, sizeof(a.csrf));
	assert_memory_not_equal(a.id, a.csrf, sizeof(a.id));
	assert_int_equal(store_session_get(f->store, a.id, t + 10, 1800, 43200, &got, &err), 1);
	assert_int_equal(got.user_id, 7);
	assert_memory_equal(got.csrf, a.csrf, sizeof(a.csrf));
	/* used within the idle limit it lives on, past the absolute limit not */
	for (int64_t now = t + 1000; now < t + 43200; now += 1000)
		assert_int_equal(store_session_get(f->store, a.id, now, 1800, 43200, &got, &err), 1);
	assert_int_equal(store_session_get(f->store, a.id, t + 43200, 1800, 43200, &got, &err), 0);
	/* ... and it is gone for good */
	assert_int_equal(store_session_get(f->store, a.id, t + 100, 1800, 43200, &got, &err), 0);
	/* idle: b was never touched */
	assert_int_equal(store_session_get(f->store, b.id, t + 1799, 1800, 43200, &got, &err), 1);
	assert_int_equal(store_session_get(f->store, b.id, t + 1799 + 1800, 1800, 43200, &got, &err), 0);
	/* unknown ids and destruction */
	uint8_t zero[STORE_SESSION_ID_LEN] = { 0 };
	assert_int_equal(store_session_get(f->store, zero, t, 1800, 43200, &got, &err), 0);
	assert_int_equal(store_session_create(f->store, 8, t, &a, &err), 1);
	assert_int_equal(store_session_destroy(f->store, a.id, &err), 1);
	assert_int_equal(store_session_destroy(f->store, a.id, &err), 0);
	assert_int_equal(store_session_get(f->store, a.id, t, 1800, 43200, &got, &err), 0);
}

static void test_session_expire(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	struct store_session s;
	int64_t t = 1700000000;
	for (int i = 0; i < 10; i++)
		assert_int_equal(store_session_create(f->store, 1, t - i * 600, &s, &err), 1);
	struct store_prefs p = { .page_size = 25 };
	assert_int_equal(store_prefs_set(f->store, 1, &p, &err), 1);
	/* idle 1800: those created 1800 s ago or earlier go (7 of 10) */
	assert_int_equal(store_session_expire(f->store, t, 1800, 43200, &err), 7);
	assert_int_equal(store_session_expire(f->store, t, 1800, 43200, &err), 0);
	/* settings records are not sessions */
	assert_int_equal(store_prefs_get(f->store, 1, &p, &err), 1);
	assert_int_equal(p.page_size, 25);
}

/* Expiry goes in batches (256 sessions per write transaction): 700
 * expired sessions among 50 live ones and settings records all go, the
 * live ones stay. */
static void test_session_expire_batches(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	struct store_session s, got;
	int64_t t = 1700000000;
	uint8_t live[50][STORE_SESSION_ID_LEN];
	for (int i = 0; i < 700; i++)
		assert_int_equal(store_session_create(f->store, 1 + i % 7, t - 7200, &s, &err), 1);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(store_session_create(f->store, 2, t - 60, &s, &err), 1);
		memcpy(live[i], s.id, STORE_SESSION_ID_LEN);
	}
	struct store_prefs p = { .page_size = 40 };
	assert_int_equal(store_prefs_set(f->store, 3, &p, &err), 1);
	assert_int_equal(store_session_expire(f->store, t, 1800, 43200, &err), 700);
	assert_int_equal(store_session_expire(f->store, t, 1800, 43200, &err), 0);
	for (int i = 0; i < 50; i++)
		assert_int_equal(store_session_get(f->store, live[i], t, 1800, 43200, &got, &err), 1);
	assert_int_equal(store_prefs_get(f->store, 3, &p, &err), 1);
	assert_int_equal(p.page_size, 40);
}

static void test_prefs(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	struct store_prefs p;
	assert_int_equal(store_prefs_get(f->store, 42, &p, &err), 1);
	assert_int_equal(p.page_size, 50);
	assert_int_equal(p.tz_minutes, 0);
	assert_true(p.prefer_html);
	p = (struct store_prefs){ .page_size = 5000, .tz_minutes = -5000, .prefer_html = false };
	assert_int_equal(store_prefs_set(f->store, 42, &p, &err), 1);
	assert_int_equal(store_prefs_get(f->store, 42, &p, &err), 1);
	assert_int_equal(p.page_size, STORE_PREFS_PAGE_MAX);
	assert_int_equal(p.tz_minutes, -STORE_PREFS_TZ_MAX);
	assert_false(p.prefer_html);
	p = (struct store_prefs){ .page_size = 1, .tz_minutes = 120, .prefer_html = true };
	assert_int_equal(store_prefs_set(f->store, 42, &p, &err), 1);
	assert_int_equal(store_prefs_get(f->store, 42, &p, &err), 1);
	assert_int_equal(p.page_size, STORE_PREFS_PAGE_MIN);
	assert_int_equal(p.tz_minutes, 120);
	assert_int_equal(store_prefs_get(f->store, 43, &p, &err), 1);
	assert_int_equal(p.page_size, 50);
	assert_string_equal(p.zone, "");
	/* a named zone, the longest a name may be */
	p = (struct store_prefs){ .page_size = 50 };
	strcpy(p.zone, "America/Argentina/Buenos_Aires");
	assert_int_equal(store_prefs_set(f->store, 44, &p, &err), 1);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_prefs_get(f->store, 44, &p, &err), 1);
	assert_string_equal(p.zone, "America/Argentina/Buenos_Aires");
	memset(p.zone, 'x', STORE_PREFS_ZONE_MAX);
	p.zone[STORE_PREFS_ZONE_MAX] = '\0';
	assert_int_equal(store_prefs_set(f->store, 44, &p, &err), 1);
	assert_int_equal(store_prefs_get(f->store, 44, &p, &err), 1);
	assert_int_equal(strlen(p.zone), STORE_PREFS_ZONE_MAX);
}

/* A record saved before zones had names (version 1, 7 bytes) reads with
 * its fixed offset and no name. */
static int old_prefs_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	static const uint8_t rec[] = { 1, 0, 25, 0xff, 0xc4, 1, 0 };  /* 25 a page, UTC-01:00 */
	uint8_t key[9] = { 'p', 'r', 'e', 'f', 's', 0, 0, 0, 45 };
	(void)ctx;
	return store_put(store, DBI_SESSIONS, txn, key, sizeof(key), rec, sizeof(rec), 0) < 0 ? -1 : 1;
}

static void test_prefs_old_record(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	struct store_prefs p;
	assert_int_equal(store_write(f->store, true, old_prefs_txn, NULL, &err), 1);
	assert_int_equal(store_prefs_get(f->store, 45, &p, &err), 1);
	assert_int_equal(p.page_size, 25);
	assert_int_equal(p.tz_minutes, -60);
	assert_string_equal(p.zone, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		STORE_TEST(test_session_life),
		STORE_TEST(test_session_expire),
		STORE_TEST(test_session_expire_batches),
		STORE_TEST(test_prefs),
		STORE_TEST(test_prefs_old_record),
	};
	int user = store_fixture_become_store_user();
	if (user != 0)
		return user;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
