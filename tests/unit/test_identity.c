/* Unit tests of From identities (store/identity.c): which aliases are a
 * user's identities (direct, chained, not catch-alls, not redirected away),
 * saving names and signatures with their checks; and of signing a user's
 * other webmail sessions out (store_session_destroy_user, session.c), which
 * must also live beside the identity records in the sessions database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "process.h"
#include "session.h"
#include "store.h"
#include "store_fixture.h"

static uint32_t alice_id, bob_id;

/* Two domains, Alice and Bob. */
static int setup(void **state)
{
	struct store_user u;
	const char *err = "";

	if (store_fixture_setup(state) < 0)
		return -1;
	struct store_fixture *f = *state;
	if (store_domain_add(f->store, "example.com", &err) != 1 ||
	    store_domain_add(f->store, "example.org", &err) != 1 ||
	    store_user_add(f->store, "Alice@example.com", "pw-alice", NULL, &err) != 1 ||
	    store_user_add(f->store, "bob@example.com", "pw-bob", NULL, &err) != 1 ||
	    store_user_find(f->store, "alice@example.com", &u, &err) != 1) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	alice_id = u.id;
	if (store_user_find(f->store, "bob@example.com", &u, &err) != 1)
		return -1;
	bob_id = u.id;
	return 0;
}

static void alias(struct store_fixture *f, const char *source, const char *target)
{
	const char *err = NULL;
	if (store_alias_add(f->store, source, target, &err) != 1)
		fail_msg("alias %s -> %s: %s", source, target, err);
}

static void test_identities_list(void **state)
{
	struct store_fixture *f = *state;
	struct store_identity *list;
	size_t n;
	const char *err;

	/* no aliases: the primary address only, as created */
	assert_int_equal(store_identities_get(f->store, alice_id, &list, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].address, "Alice@example.com");
	assert_string_equal(list[0].name, "");
	assert_string_equal(list[0].signature, "");
	free(list);

	alias(f, "sales@example.com", "alice@example.com");      /* direct */
	alias(f, "a.smith@example.org", "ALICE@example.com");    /* case differs */
	alias(f, "zz-team@example.com", "sales@example.com");    /* a chain */
	alias(f, "all@example.com", "alice@example.com");        /* fan-out */
	alias(f, "all@example.com", "bob@example.com");
	alias(f, "@example.org", "alice@example.com");           /* catch-all: never */
	alias(f, "bob-only@example.com", "bob@example.com");     /* somebody else's */
	alias(f, "away@example.com", "friend@remote.test");      /* remote */
	/* a user's address redirected to alice delivers to alice... */
	alias(f, "bob@example.com", "alice@example.com");
	/* ...and one the user redirected away is not hers any more */
	assert_int_equal(store_identities_get(f->store, alice_id, &list, &n, &err), 1);
	const char *want[] = { "Alice@example.com", "a.smith@example.org", "all@example.com",
			       "bob-only@example.com", "bob@example.com", "sales@example.com",
			       "zz-team@example.com" };
	/* bob-only -> bob -> alice: a chain through a redirected user */
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(list[i].address, want[i]);
	free(list);

	/* bob's mail goes to alice now: "all" and "bob-only" name bob but
	 * reach alice only; bob keeps his own address (always first) */
	assert_int_equal(store_identities_get(f->store, bob_id, &list, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].address, "bob@example.com");
	free(list);
	/* take the redirect away: they are bob's again */
	assert_int_equal(store_alias_del(f->store, "bob@example.com", NULL, &err), 1);
	assert_int_equal(store_identities_get(f->store, bob_id, &list, &n, &err), 1);
	assert_int_equal(n, 3);
	assert_string_equal(list[1].address, "all@example.com");
	assert_string_equal(list[2].address, "bob-only@example.com");
	free(list);

	/* an unknown user is an error, not an empty list */
	assert_int_equal(store_identities_get(f->store, 9999, &list, &n, &err), -1);
	assert_null(list);
}

static void test_identity_set(void **state)
{
	struct store_fixture *f = *state;
	struct store_identity id = { .address = "SALES@example.com", .name = "Alice Sales",
				     .signature = "-- \nAlice\r\nSales\tdept" };
	struct store_identity *list;
	size_t n;
	const char *err;

	alias(f, "sales@example.com", "alice@example.com");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 1);
	snprintf(id.address, sizeof(id.address), "alice@EXAMPLE.com");
	snprintf(id.name, sizeof(id.name), "Alice Ünicode");
	id.signature[0] = '\0';
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 1);

	assert_int_equal(store_identities_get(f->store, alice_id, &list, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "Alice Ünicode");
	assert_string_equal(list[0].signature, "");
	assert_string_equal(list[1].address, "sales@example.com");
	assert_string_equal(list[1].name, "Alice Sales");
	assert_string_equal(list[1].signature, "-- \nAlice\r\nSales\tdept");
	free(list);
	/* the other user sees none of it */
	assert_int_equal(store_identities_get(f->store, bob_id, &list, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "");
	free(list);

	/* not hers */
	snprintf(id.address, sizeof(id.address), "bob@example.com");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
	assert_non_null(strstr(err, "not one of your addresses"));
	snprintf(id.address, sizeof(id.address), "@example.com");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
	/* a header-breaking name, a control character, bad UTF-8 */
	snprintf(id.address, sizeof(id.address), "sales@example.com");
	snprintf(id.name, sizeof(id.name), "Evil\r\nBcc: x@y");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
	assert_non_null(strstr(err, "name"));
	snprintf(id.name, sizeof(id.name), "a\x01");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
	snprintf(id.name, sizeof(id.name), "\xc3(");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
	snprintf(id.name, sizeof(id.name), "C1 \xc2\x85");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
	snprintf(id.name, sizeof(id.name), "ok");
	snprintf(id.signature, sizeof(id.signature), "bell\a");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
	assert_non_null(strstr(err, "signature"));
	/* lengths: at the limits fine, over them refused (not truncated) */
	memset(id.name, 'n', STORE_IDENTITY_NAME_MAX);
	id.name[STORE_IDENTITY_NAME_MAX] = '\0';
	memset(id.signature, 's', STORE_SIGNATURE_MAX);
	id.signature[STORE_SIGNATURE_MAX] = '\0';
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 1);
	assert_int_equal(store_identities_get(f->store, alice_id, &list, &n, &err), 1);
	assert_int_equal(strlen(list[1].name), STORE_IDENTITY_NAME_MAX);
	assert_int_equal(strlen(list[1].signature), STORE_SIGNATURE_MAX);
	free(list);
	id.name[STORE_IDENTITY_NAME_MAX] = 'n';    /* unterminated: one byte too many */
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
	id.name[STORE_IDENTITY_NAME_MAX] = '\0';
	id.signature[STORE_SIGNATURE_MAX] = 's';
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);

	/* identity records beside sessions do not upset the session sweep, and
	 * are not swept: addresses of every length, including the one that
	 * would make a 32-byte key without padding */
	const char *addrs[] = { "x@example.com", "abcdefghijklm@example.com",
				"abcdefghijk@example.com" };
	struct store_identity id2 = { .name = "N" };
	for (size_t i = 0; i < 3; i++) {
		alias(f, addrs[i], "alice@example.com");
		snprintf(id2.address, sizeof(id2.address), "%s", addrs[i]);
		assert_int_equal(store_identity_set(f->store, alice_id, &id2, &err), 1);
	}
	struct store_session s;
	assert_int_equal(store_session_create(f->store, alice_id, 1000, &s, &err), 1);
	assert_int_equal(store_session_expire(f->store, 1000 + 100000, 1800, 43200, &err), 1);
	assert_int_equal(store_identities_get(f->store, alice_id, &list, &n, &err), 1);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].address, "sales@example.com") != 0 && i > 0)
			assert_string_equal(list[i].name, "N");
	free(list);
}

static void test_session_destroy_user(void **state)
{
	struct store_fixture *f = *state;
	struct store_session a[3], other, got;
	const char *err;
	int64_t t = 1700000000;

	for (int i = 0; i < 3; i++)
		assert_int_equal(store_session_create(f->store, alice_id, t, &a[i], &err), 1);
	assert_int_equal(store_session_create(f->store, bob_id, t, &other, &err), 1);
	struct store_prefs p = { .page_size = 20 };
	assert_int_equal(store_prefs_set(f->store, alice_id, &p, &err), 1);
	struct store_identity id = { .address = "alice@example.com", .name = "A" };
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 1);

	/* keep the current one, end the two others */
	assert_int_equal(store_session_destroy_user(f->store, alice_id, a[1].id, &err), 2);
	assert_int_equal(store_session_get(f->store, a[0].id, t, 1800, 43200, &got, &err), 0);
	assert_int_equal(store_session_get(f->store, a[1].id, t, 1800, 43200, &got, &err), 1);
	assert_int_equal(store_session_get(f->store, a[2].id, t, 1800, 43200, &got, &err), 0);
	/* somebody else's, the settings and the identities stay */
	assert_int_equal(store_session_get(f->store, other.id, t, 1800, 43200, &got, &err), 1);
	assert_int_equal(store_prefs_get(f->store, alice_id, &p, &err), 1);
	assert_int_equal(p.page_size, 20);
	struct store_identity *list;
	size_t n;
	assert_int_equal(store_identities_get(f->store, alice_id, &list, &n, &err), 1);
	assert_string_equal(list[0].name, "A");
	free(list);
	/* NULL: every one */
	assert_int_equal(store_session_destroy_user(f->store, alice_id, NULL, &err), 1);
	assert_int_equal(store_session_get(f->store, a[1].id, t, 1800, 43200, &got, &err), 0);
	assert_int_equal(store_session_destroy_user(f->store, alice_id, NULL, &err), 0);
	assert_int_equal(store_session_get(f->store, other.id, t, 1800, 43200, &got, &err), 1);
}

/* A subaddress (bob+tag, recipient_delimiter) and the configured postmaster
 * reach a user through resolution alone: neither is an identity to send as
 * (only an explicit alias is, even one on a subaddress). */
static void test_identities_not_implied(void **state)
{
	struct store_fixture *f = *state;
	struct store_identity *list, id = { .name = "X" };
	size_t n;
	const char *err;

	free(f->config->postmaster);
	f->config->postmaster = strdup("alice@example.com");
	assert_non_null(f->config->postmaster);
	assert_string_equal(f->config->recipient_delimiter, "+");
	alias(f, "bob+news@example.com", "alice@example.com");
	assert_int_equal(store_identities_get(f->store, bob_id, &list, &n, &err), 1);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].address, "bob@example.com");
	free(list);
	assert_int_equal(store_identities_get(f->store, alice_id, &list, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].address, "bob+news@example.com");
	free(list);
	snprintf(id.address, sizeof(id.address), "bob+x@example.com");
	assert_int_equal(store_identity_set(f->store, bob_id, &id, &err), 0);
	snprintf(id.address, sizeof(id.address), "postmaster@example.com");
	assert_int_equal(store_identity_set(f->store, alice_id, &id, &err), 0);
}

/* An alias whose target is a subaddress of the user ("info" -> "bob+news")
 * reaches the user, so it is one of the user's identities; an alias to a
 * subaddress of somebody else is not. */
static void test_identity_alias_to_subaddress(void **state)
{
	struct store_fixture *f = *state;
	struct store_identity *list;
	size_t n;
	const char *err;

	alias(f, "info@example.com", "bob+news@example.com");
	alias(f, "sales@example.com", "alice+sales@example.com");
	assert_int_equal(store_identities_get(f->store, bob_id, &list, &n, &err), 1);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].address, "bob@example.com");
	assert_string_equal(list[1].address, "info@example.com");
	free(list);
}

/* A domain alias (@example.net -> @example.com) gives every user of
 * example.com the same local part at example.net, and aliases reaching them
 * there too; resolution goes the same way (bob@example.net is bob), an
 * address with nobody behind it at example.com has nobody at example.net
 * either, and an exact alias at example.net still comes first. */
static void test_domain_alias(void **state)
{
	struct store_fixture *f = *state;
	struct store_identity *list;
	struct store_rcpt_target t[4];
	size_t n;
	const char *err;

	assert_int_equal(store_domain_add(f->store, "example.net", &err), 1);
	alias(f, "sales@example.com", "bob@example.com");
	alias(f, "@example.net", "@example.com");
	assert_int_equal(store_identities_get(f->store, bob_id, &list, &n, &err), 1);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].address, "bob@example.com");
	assert_string_equal(list[1].address, "bob@example.net");
	assert_string_equal(list[2].address, "sales@example.com");
	assert_string_equal(list[3].address, "sales@example.net");
	free(list);

	assert_int_equal(store_resolve(f->store, "BOB@example.net", t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].user_id, bob_id);
	assert_int_equal(store_resolve(f->store, "bob+tag@example.net", t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_int_equal(t[0].user_id, bob_id);
	assert_int_equal(store_resolve(f->store, "nobody@example.net", t, 4, &n, &err),
			 STORE_RESOLVE_NO_USER);
	alias(f, "bob@example.net", "alice@example.com");
	assert_int_equal(store_resolve(f->store, "bob@example.net", t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_int_equal(t[0].user_id, alice_id);
}

/* What a domain alias may be: from a domain, to another local domain,
 * making no loop; the domain it leads to cannot be deleted under it. */
static void test_domain_alias_refused(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;

	assert_int_equal(store_domain_add(f->store, "example.net", &err), 1);
	assert_int_equal(store_domain_add(f->store, "example.info", &err), 1);
	assert_int_equal(store_alias_add(f->store, "bob@example.net", "@example.com", &err), 0);
	assert_non_null(strstr(err, "can only be the target of a domain"));
	assert_int_equal(store_alias_add(f->store, "@example.net", "@example.net", &err), 0);
	assert_int_equal(store_alias_add(f->store, "@example.net", "@elsewhere.test", &err), 0);
	assert_non_null(strstr(err, "is not a local domain"));
	alias(f, "@example.net", "@example.com");
	assert_int_equal(store_alias_add(f->store, "@example.net", "@EXAMPLE.com", &err), 0);
	assert_non_null(strstr(err, "exists already"));
	alias(f, "@example.info", "@example.net");
	assert_int_equal(store_alias_add(f->store, "@example.com", "@example.info", &err), 0);
	assert_non_null(strstr(err, "loop"));
	/* bob@example.info -> bob@example.net -> bob@example.com */
	struct store_rcpt_target t[4];
	size_t n;
	assert_int_equal(store_resolve(f->store, "bob@example.info", t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_int_equal(t[0].user_id, bob_id);
	assert_int_equal(store_alias_del(f->store, "@example.net", "@example.com", &err), 1);
	assert_int_equal(store_resolve(f->store, "bob@example.info", t, 4, &n, &err),
			 STORE_RESOLVE_NO_USER);
	/* example.net has nothing of its own now, but example.info leads there */
	assert_int_equal(store_domain_del(f->store, "example.net", &err), 0);
	assert_non_null(strstr(err, "domain alias @example.info leads"));
	assert_int_equal(store_alias_del(f->store, "@example.info", NULL, &err), 1);
	assert_int_equal(store_domain_del(f->store, "example.net", &err), 1);

	/* the loop check's walk is bounded: domains d0..d11 where each leads
	 * to every later one have 2^10 chains from d1 */
	char a[32], b[32];
	for (int i = 0; i < 12; i++) {
		snprintf(a, sizeof(a), "d%d.test", i);
		assert_int_equal(store_domain_add(f->store, a, &err), 1);
	}
	for (int i = 10; i >= 1; i--)
		for (int j = i + 1; j < 12; j++) {
			snprintf(a, sizeof(a), "@d%d.test", i);
			snprintf(b, sizeof(b), "@d%d.test", j);
			if (store_alias_add(f->store, a, b, &err) != 1)
				fail_msg("%s -> %s: %s", a, b, err);
		}
	assert_int_equal(store_alias_add(f->store, "@d0.test", "@d1.test", &err), 0);
	assert_non_null(strstr(err, "domain aliases would lead to too many domains"));
	assert_int_equal(store_alias_add(f->store, "@d0.test", "@d11.test", &err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identities_list, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_identity_set, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_session_destroy_user, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_identities_not_implied, setup,
						store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_identity_alias_to_subaddress, setup,
						store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_domain_alias, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_domain_alias_refused, setup,
						store_fixture_teardown),
	};
	int user = store_fixture_become_store_user();
	if (user != 0)
		return user;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
