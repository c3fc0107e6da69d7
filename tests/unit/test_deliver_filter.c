/* Delivery with the recipients' filters (store/deliver_filter.c), on a real
 * store: what store_deliver does with a script's copies that SMTP cannot
 * show. Quarantined mail runs no filter; a recipient's copies fit its quota
 * together or are queued together; a discard stores nothing; the same user
 * reached twice runs its filter once; a redirect through an alias reaches
 * the alias's user; a broken stored script keeps the mail in INBOX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "sieve_store.h"
#include "store.h"
#include "store_fixture.h"

static int setup(void **state)
{
	if (store_fixture_setup(state) != 0)
		return -1;
	struct store_fixture *f = *state;
	const char *error;
	if (store_domain_add(f->store, "example.com", &error) != 1 ||
	    store_user_add(f->store, "bob@example.com", "secret", NULL, &error) != 1 ||
	    store_user_add(f->store, "alice@example.com", "secret", NULL, &error) != 1 ||
	    store_alias_add(f->store, "team@example.com", "alice@example.com", &error) != 1) {
		fprintf(stderr, "setup: %s\n", error);
		return -1;
	}
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, store_fixture_teardown)

static void script(struct store_fixture *f, const char *user, const char *text)
{
	const char *error;
	struct store_user u;
	assert_int_equal(store_user_find(f->store, user, &u, &error), 1);
	assert_int_equal(store_sieve_put(f->store, u.id, "s", text, strlen(text), &error), 1);
	assert_int_equal(store_sieve_activate(f->store, u.id, "s", &error), 1);
}

/* Messages in the user's mailbox `name` (-1: no such mailbox). */
static int count(struct store_fixture *f, const char *user, const char *name)
{
	const char *error;
	struct store_user u;
	struct store_mailbox mb;
	assert_int_equal(store_user_find(f->store, user, &u, &error), 1);
	int r = store_mailbox_find(f->store, u.id, name, &mb, &error);
	assert_true(r >= 0);
	return r == 1 ? (int)mb.exists : -1;
}

static int deliver(struct store_fixture *f, const char *const *rcpts, size_t n, bool junk,
		   bool *queued_r, const char **error_r)
{
	static const char text[] = "From: a@example.org\r\nSubject: hello\r\n\r\nHi.\r\n";
	struct store_body *body;
	assert_int_equal(store_body_from_buffer(f->store, text, sizeof(text) - 1, &body, error_r), 1);
	struct store_delivery d = { .sender = "a@example.org", .recipients = rcpts,
				    .nrecipients = n, .body = body, .junk = junk,
				    .add_prefix = true };
	int r = store_deliver(f->store, &d, queued_r, NULL, error_r);
	store_body_free(&body);
	return r;
}

static void test_junk_runs_no_filter(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	const char *rcpt[] = { "bob@example.com" };
	script(f, "bob@example.com", "require \"fileinto\"; fileinto \"Archive\";");
	assert_int_equal(deliver(f, rcpt, 1, true, NULL, &error), 1);
	assert_int_equal(count(f, "bob@example.com", "Junk"), 1);
	assert_int_equal(count(f, "bob@example.com", "Archive"), 0);
	assert_int_equal(deliver(f, rcpt, 1, false, NULL, &error), 1);
	assert_int_equal(count(f, "bob@example.com", "Archive"), 1);
	assert_int_equal(count(f, "bob@example.com", "INBOX"), 0);
}

static void test_copies_fit_together(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	bool queued = false;
	const char *both[] = { "bob@example.com", "alice@example.com" };
	const char *bob[] = { "bob@example.com" };
	script(f, "bob@example.com", "require [\"fileinto\", \"copy\"]; fileinto :copy \"Archive\";");
	/* room for one copy (with its prefix), not two */
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 200, 0, &error), 1);
	assert_int_equal(deliver(f, both, 2, false, &queued, &error), 1);
	assert_true(queued);
	assert_int_equal(count(f, "bob@example.com", "INBOX"), 0);
	assert_int_equal(count(f, "bob@example.com", "Archive"), 0);
	assert_int_equal(count(f, "alice@example.com", "INBOX"), 1);
	/* alone: refused (SMTP 552), nothing stored */
	assert_int_equal(deliver(f, bob, 1, false, NULL, &error), 0);
	assert_non_null(strstr(error, "quota"));
	assert_int_equal(count(f, "bob@example.com", "INBOX"), 0);
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 0, 0, &error), 1);
	assert_int_equal(deliver(f, bob, 1, false, NULL, &error), 1);
	assert_int_equal(count(f, "bob@example.com", "INBOX"), 1);
	assert_int_equal(count(f, "bob@example.com", "Archive"), 1);
}

static void test_discard_and_once(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	/* bob twice (direct and as a subaddress): one run, one copy */
	const char *rcpt[] = { "bob@example.com", "bob+x@example.com" };
	script(f, "bob@example.com",
	       "require [\"fileinto\", \"copy\"]; if header :is \"subject\" \"gone\" { discard; }"
	       " fileinto :copy \"Archive\";");
	assert_int_equal(deliver(f, rcpt, 2, false, NULL, &error), 1);
	assert_int_equal(count(f, "bob@example.com", "INBOX"), 1);
	assert_int_equal(count(f, "bob@example.com", "Archive"), 1);
	script(f, "bob@example.com", "discard;");
	assert_int_equal(deliver(f, rcpt, 1, false, NULL, &error), 1);
	assert_int_equal(count(f, "bob@example.com", "INBOX"), 1);
}

static void test_redirect_through_alias(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	bool queued = true;
	const char *rcpt[] = { "bob@example.com" };
	script(f, "bob@example.com", "redirect \"team@example.com\";");
	/* alice's own filter would discard it: it does not run for a redirect */
	script(f, "alice@example.com", "discard;");
	assert_int_equal(deliver(f, rcpt, 1, false, &queued, &error), 1);
	assert_false(queued);
	assert_int_equal(count(f, "bob@example.com", "INBOX"), 0);
	assert_int_equal(count(f, "alice@example.com", "INBOX"), 1);
}

static void test_broken_script_keeps(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	const char *rcpt[] = { "bob@example.com" };
	struct store_user u;
	/* stored without the CLI's compile check (an older version's script) */
	static const char text[] = "fileinto \"Archive\";";   /* no require */
	assert_int_equal(store_user_find(f->store, "bob@example.com", &u, &error), 1);
	assert_int_equal(store_sieve_put(f->store, u.id, "old", text, strlen(text), &error), 1);
	assert_int_equal(store_sieve_activate(f->store, u.id, "old", &error), 1);
	assert_int_equal(deliver(f, rcpt, 1, false, NULL, &error), 1);
	assert_int_equal(count(f, "bob@example.com", "INBOX"), 1);
	assert_int_equal(count(f, "bob@example.com", "Archive"), 0);
}

int main(void)
{
	int r = store_fixture_become_store_user();
	if (r != 0)
		return r;
	const struct CMUnitTest tests[] = {
		TEST(test_junk_runs_no_filter),
		TEST(test_copies_fit_together),
		TEST(test_discard_and_once),
		TEST(test_redirect_through_alias),
		TEST(test_broken_script_keeps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
