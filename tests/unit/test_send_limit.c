/* The send limit (store/send_limit.c) through store_deliver, on a real
 * store: a logged-in sender's recipients count for 24 hours, a message that
 * would pass the limit is refused whole (3) and counts nothing, each user
 * has a count of its own, mail that merely arrives counts nothing, hours
 * older than a day drop out one at a time, a clock set back does not reset
 * the count, a refused delivery (quota) counts nothing, and deleting the
 * user forgets it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "store.h"
#include "store_fixture.h"

#define HOUR 3600
/* a whole hour, so that the tests' own hours are the store's */
#define T0 ((int64_t)1800000000 / HOUR * HOUR)

static uint32_t bob, alice;

static int setup(void **state)
{
	if (store_fixture_setup(state) != 0)
		return -1;
	struct store_fixture *f = *state;
	const char *error;
	struct store_user u;
	if (store_domain_add(f->store, "example.com", &error) != 1 ||
	    store_user_add(f->store, "bob@example.com", "secret", NULL, &error) != 1 ||
	    store_user_add(f->store, "alice@example.com", "secret", NULL, &error) != 1) {
		fprintf(stderr, "setup: %s\n", error);
		return -1;
	}
	store_user_find(f->store, "bob@example.com", &u, &error);
	bob = u.id;
	store_user_find(f->store, "alice@example.com", &u, &error);
	alice = u.id;
	f->config->send_limit = 10;
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, store_fixture_teardown)

/* n recipients (remote ones: queued) sent by `sender` at `when`. */
static int send_n(struct store_fixture *f, uint32_t sender, size_t n, int64_t when,
		  const char **error_r)
{
	static const char text[] = "From: bob@example.com\r\nSubject: hello\r\n\r\nHi.\r\n";
	char addrs[32][32];
	const char *rcpts[32];
	struct store_body *body;
	assert_true(n <= 32);
	for (size_t i = 0; i < n; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "r%zu@example.net", i);
		rcpts[i] = addrs[i];
	}
	assert_int_equal(store_body_from_buffer(f->store, text, sizeof(text) - 1, &body, error_r), 1);
	struct store_delivery d = { .sender = "bob@example.com", .recipients = rcpts,
				    .nrecipients = n, .body = body, .internaldate = when,
				    .sender_user_id = sender };
	bool queued;
	int r = store_deliver(f->store, &d, &queued, NULL, error_r);
	store_body_free(&body);
	return r;
}

static void test_limit(void **state)
{
	struct store_fixture *f = *state;
	const char *error = NULL;
	assert_int_equal(send_n(f, bob, 4, T0, &error), 1);
	assert_int_equal(send_n(f, bob, 6, T0 + 60, &error), 1);
	/* 10 of 10: one more is refused, and counts nothing */
	assert_int_equal(send_n(f, bob, 1, T0 + 120, &error), 3);
	assert_non_null(strstr(error, "10 recipients in 24 hours"));
	/* alice has her own count; mail that is not sent by a user counts nothing */
	assert_int_equal(send_n(f, alice, 10, T0 + 120, &error), 1);
	assert_int_equal(send_n(f, 0, 30, T0 + 120, &error), 1);
	/* a message that would pass it is refused whole */
	f->config->send_limit = 12;
	assert_int_equal(send_n(f, bob, 3, T0 + 180, &error), 3);
	assert_int_equal(send_n(f, bob, 2, T0 + 180, &error), 1);
	/* no limit: nothing refused */
	f->config->send_limit = 0;
	assert_int_equal(send_n(f, bob, 20, T0 + 240, &error), 1);
}

/* What `pillarbox user sent` shows and clears. */
static void test_count_reset(void **state)
{
	struct store_fixture *f = *state;
	const char *error = NULL;
	uint64_t n = 99;
	assert_int_equal(store_send_count(f->store, bob, T0, &n, &error), 1);
	assert_int_equal(n, 0);
	assert_int_equal(send_n(f, bob, 4, T0, &error), 1);
	assert_int_equal(send_n(f, bob, 6, T0 + 5 * HOUR, &error), 1);
	assert_int_equal(store_send_count(f->store, bob, T0 + 5 * HOUR, &n, &error), 1);
	assert_int_equal(n, 10);
	assert_int_equal(store_send_count(f->store, bob, T0 + 24 * HOUR, &n, &error), 1);
	assert_int_equal(n, 6);      /* hour 0 has dropped out */
	assert_int_equal(store_send_count(f->store, alice, T0, &n, &error), 1);
	assert_int_equal(n, 0);
	assert_int_equal(send_n(f, bob, 1, T0 + 5 * HOUR, &error), 3);
	assert_int_equal(store_send_reset(f->store, bob, &error), 1);
	assert_int_equal(store_send_count(f->store, bob, T0 + 5 * HOUR, &n, &error), 1);
	assert_int_equal(n, 0);
	assert_int_equal(send_n(f, bob, 10, T0 + 5 * HOUR, &error), 1);
	assert_int_equal(store_send_reset(f->store, alice, &error), 1);  /* nothing to clear */
}

static void test_window(void **state)
{
	struct store_fixture *f = *state;
	const char *error = NULL;
	assert_int_equal(send_n(f, bob, 6, T0, &error), 1);               /* hour 0 */
	assert_int_equal(send_n(f, bob, 4, T0 + 5 * HOUR, &error), 1);    /* hour 5 */
	assert_int_equal(send_n(f, bob, 1, T0 + 23 * HOUR, &error), 3);   /* all 10 count */
	/* a clock set back an hour: still counted */
	assert_int_equal(send_n(f, bob, 1, T0 + 4 * HOUR, &error), 3);
	/* hour 0 drops out 24 hours on: 6 free */
	assert_int_equal(send_n(f, bob, 6, T0 + 24 * HOUR, &error), 1);
	assert_int_equal(send_n(f, bob, 1, T0 + 24 * HOUR + 60, &error), 3);
	/* hour 5 drops out: 4 more */
	assert_int_equal(send_n(f, bob, 4, T0 + 29 * HOUR, &error), 1);
	assert_int_equal(send_n(f, bob, 1, T0 + 29 * HOUR, &error), 3);
	/* a week later all is forgotten */
	assert_int_equal(send_n(f, bob, 10, T0 + 7 * 24 * HOUR, &error), 1);
}

static void test_refused_counts_nothing(void **state)
{
	struct store_fixture *f = *state;
	const char *error = NULL;
	static const char text[] = "Subject: big\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n";
	struct store_body *body;
	/* alice's mailbox is full: bob's message to her alone is refused (0) */
	assert_int_equal(store_user_quota(f->store, "alice@example.com", 10, 0, &error), 1);
	const char *rcpt[] = { "alice@example.com" };
	assert_int_equal(store_body_from_buffer(f->store, text, sizeof(text) - 1, &body, &error), 1);
	struct store_delivery d = { .sender = "bob@example.com", .recipients = rcpt,
				    .nrecipients = 1, .body = body, .internaldate = T0,
				    .sender_user_id = bob };
	for (int i = 0; i < 12; i++)
		assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 0);
	store_body_free(&body);
	/* none of those 12 counted */
	assert_int_equal(send_n(f, bob, 10, T0 + 60, &error), 1);
	/* a user deleted and made again starts from nothing */
	assert_int_equal(store_user_del(f->store, "bob@example.com", &error), 1);
	assert_int_equal(store_user_add(f->store, "bob@example.com", "secret", NULL, &error), 1);
	struct store_user u;
	assert_int_equal(store_user_find(f->store, "bob@example.com", &u, &error), 1);
	assert_int_equal(send_n(f, u.id, 10, T0 + 120, &error), 1);
}

int main(void)
{
	int r = store_fixture_become_store_user();
	if (r != 0)
		return r;
	const struct CMUnitTest tests[] = {
		TEST(test_limit),
		TEST(test_window),
		TEST(test_count_reset),
		TEST(test_refused_counts_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
