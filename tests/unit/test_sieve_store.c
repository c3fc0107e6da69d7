/* Unit tests of each user's Sieve scripts in the store (store/sieve_store.c),
 * on a real store: every function of sieve_store.h, the limits at and past
 * each (name octets, scripts a user, text octets), the name whose key is as
 * long as a session id (it must outlive session expiry), the active script
 * through delete and rename, and users kept apart and deleted whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session.h"
#include "sieve_store.h"
#include "store.h"
#include "store_fixture.h"

static uint32_t bob, ann;

static int setup(void **state)
{
	struct store_user u;
	const char *err = "";
	if (store_fixture_setup(state) < 0)
		return -1;
	struct store_fixture *f = *state;
	if (store_domain_add(f->store, "example.com", &err) != 1 ||
	    store_user_add(f->store, "bob@example.com", "pw-bob", NULL, &err) != 1 ||
	    store_user_find(f->store, "bob@example.com", &u, &err) != 1) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	bob = u.id;
	if (store_user_add(f->store, "ann@example.com", "pw-ann", NULL, &err) != 1 ||
	    store_user_find(f->store, "ann@example.com", &u, &err) != 1) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	ann = u.id;
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, store_fixture_teardown)

static int put(struct store_fixture *f, uint32_t user, const char *name, const char *text)
{
	const char *err = NULL;
	int r = store_sieve_put(f->store, user, name, text, strlen(text), &err);
	if (r != 1)
		assert_non_null(err);
	return r;
}

/* The script's text, or NULL when get says 0 (asserts it is not -1). */
static char *get(struct store_fixture *f, uint32_t user, const char *name)
{
	const char *err = NULL;
	char *text = (char *)"unset";
	size_t len = 99;
	int r = store_sieve_get(f->store, user, name, &text, &len, &err);
	assert_int_not_equal(r, -1);
	if (r == 0) {
		assert_null(text);
		assert_non_null(err);
		return NULL;
	}
	assert_int_equal(strlen(text), len);
	return text;
}

static bool has(struct store_fixture *f, uint32_t user, const char *name)
{
	char *text = get(f, user, name);
	free(text);
	return text != NULL;
}

/* The list as "name:len[*]" joined by " " ("*" the active one). */
static void list_is(struct store_fixture *f, uint32_t user, const char *want)
{
	struct store_sieve_entry *e;
	const char *err;
	size_t n;
	char got[8192] = "";
	size_t at = 0;
	assert_int_equal(store_sieve_list(f->store, user, &e, &n, &err), 1);
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%s:%zu%s", i ? " " : "",
				       e[i].name, e[i].len, e[i].active ? "*" : "");
	free(e);
	assert_string_equal(got, want);
}

/* The active script's name, "" when none is. */
static void active_is(struct store_fixture *f, uint32_t user, const char *want,
		      const char *want_text)
{
	char name[STORE_SIEVE_NAME_MAX + 1] = "unset";
	char *text = (char *)"unset";
	size_t len = 99;
	const char *err = NULL;
	int r = store_sieve_get_active(f->store, user, name, &text, &len, &err);
	if (want[0] == '\0') {
		assert_int_equal(r, 0);
		assert_null(text);
		assert_non_null(strstr(err, "no script is active"));
		return;
	}
	assert_int_equal(r, 1);
	assert_string_equal(name, want);
	assert_string_equal(text, want_text);
	assert_int_equal(len, strlen(want_text));
	free(text);
}

static void test_put_get_list(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	char *text;
	size_t len;
	list_is(f, bob, "");
	active_is(f, bob, "", NULL);
	assert_null(get(f, bob, "main"));
	assert_int_equal(put(f, bob, "main", "keep;\r\n"), 1);
	assert_int_equal(put(f, bob, "Grüße ☃", "# é\nkeep;"), 1);
	text = get(f, bob, "main");
	assert_string_equal(text, "keep;\r\n");
	free(text);
	text = get(f, bob, "Grüße ☃");
	assert_string_equal(text, "# é\nkeep;");
	free(text);
	/* by name, in octet order */
	list_is(f, bob, "Grüße ☃:10 main:7");
	/* replaced */
	assert_int_equal(put(f, bob, "main", "discard;"), 1);
	text = get(f, bob, "main");
	assert_string_equal(text, "discard;");
	free(text);
	list_is(f, bob, "Grüße ☃:10 main:8");
	/* names are exact: no case folding, no trimming */
	assert_null(get(f, bob, "Main"));
	assert_null(get(f, bob, "main "));
	/* an empty text is a script (the implicit keep) */
	assert_int_equal(put(f, bob, "empty", ""), 1);
	assert_int_equal(store_sieve_get(f->store, bob, "empty", &text, &len, &err), 1);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
	/* octets as given, a NUL among them */
	assert_int_equal(store_sieve_put(f->store, bob, "nul", "a\0b", 3, &err), 1);
	assert_int_equal(store_sieve_get(f->store, bob, "nul", &text, &len, &err), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(text, "a\0b", 4);
	free(text);
	list_is(f, bob, "Grüße ☃:10 empty:0 main:8 nul:3");
}

static void test_names(void **state)
{
	struct store_fixture *f = *state;
	char n128[STORE_SIEVE_NAME_MAX + 2], n129[STORE_SIEVE_NAME_MAX + 2];
	const char *err = NULL;
	memset(n128, 'n', 128);
	n128[128] = '\0';
	memset(n129, 'n', 129);
	n129[129] = '\0';
	assert_int_equal(put(f, bob, n128, "keep;"), 1);
	assert_true(has(f, bob, n128));
	assert_int_equal(store_sieve_put(f->store, bob, n129, "keep;", 5, &err), 0);
	assert_non_null(strstr(err, "1 to 128 octets"));
	assert_false(has(f, bob, n129));
	/* 128 octets of two-octet characters: 64 of them */
	char wide[STORE_SIEVE_NAME_MAX + 3] = "";
	for (int i = 0; i < 64; i++)
		strcat(wide, "é");
	assert_int_equal(put(f, bob, wide, "keep;"), 1);
	strcat(wide, "e");
	assert_int_equal(put(f, bob, wide, "keep;"), 0);
	/* empty, control characters (C0, DEL, C1), not UTF-8 */
	assert_int_equal(put(f, bob, "", "keep;"), 0);
	assert_non_null(strstr(store_last_error(f->store), "1 to 128 octets"));
	assert_int_equal(put(f, bob, "a\tb", "keep;"), 0);
	assert_int_equal(put(f, bob, "a\nb", "keep;"), 0);
	assert_int_equal(put(f, bob, "a\x7f" "b", "keep;"), 0);
	assert_int_equal(put(f, bob, "a\xc2\x85" "b", "keep;"), 0);
	assert_int_equal(put(f, bob, "a\xff" "b", "keep;"), 0);
	assert_int_equal(put(f, bob, "a\xc3", "keep;"), 0);
	/* spaces and punctuation are text */
	assert_int_equal(put(f, bob, " a/b.c:d\"e ", "keep;"), 1);
	list_is(f, bob, " a/b.c:d\"e :5 "
		"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
		"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn:5 "
		"éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé:5");
	/* the other calls refuse bad names as "no such script" */
	assert_null(get(f, bob, n129));
	assert_null(get(f, bob, ""));
	assert_int_equal(store_sieve_activate(f->store, bob, n129, &err), 0);
	assert_int_equal(store_sieve_activate(f->store, bob, "a\tb", &err), 0);
	assert_int_equal(store_sieve_delete(f->store, bob, n129, &err), 0);
	assert_int_equal(store_sieve_rename(f->store, bob, n128, n129, &err), 0);
	assert_non_null(strstr(err, "1 to 128 octets"));
	assert_int_equal(store_sieve_rename(f->store, bob, n128, "", &err), 0);
	assert_int_equal(store_sieve_rename(f->store, bob, n128, "x\ry", &err), 0);
	assert_true(has(f, bob, n128));
	/* a 128-octet name all the way through */
	assert_int_equal(store_sieve_activate(f->store, bob, n128, &err), 1);
	active_is(f, bob, n128, "keep;");
	assert_int_equal(store_sieve_rename(f->store, bob, n128, "short", &err), 1);
	active_is(f, bob, "short", "keep;");
	assert_int_equal(store_sieve_rename(f->store, bob, "short", n128, &err), 1);
	active_is(f, bob, n128, "keep;");
	assert_int_equal(store_sieve_activate(f->store, bob, NULL, &err), 1);
	assert_int_equal(store_sieve_delete(f->store, bob, n128, &err), 1);
	assert_false(has(f, bob, n128));
}

/* "sievescr" + 4 octets of user id + 20 octets is STORE_SESSION_ID_LEN:
 * such a key gets a NUL so that session expiry (which takes every 32-octet
 * key for a session) leaves it alone. */
static void test_session_long_name(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	const char *n19 = "abcdefghijklmnopqrs", *n20 = "abcdefghijklmnopqrst",
		   *n21 = "abcdefghijklmnopqrstu";
	struct store_session s;
	assert_int_equal(strlen(n20) + 8 + 4, STORE_SESSION_ID_LEN);
	assert_int_equal(put(f, bob, n19, "keep; # 19"), 1);
	assert_int_equal(put(f, bob, n20, "keep; # 20"), 1);
	assert_int_equal(put(f, bob, n21, "keep; # 21"), 1);
	assert_int_equal(store_sieve_activate(f->store, bob, n20, &err), 1);
	/* a session to expire beside them, so the expiry is seen to run */
	int64_t now = (int64_t)time(NULL);
	assert_int_equal(store_session_create(f->store, bob, now - 2 * 86400, &s, &err), 1);
	assert_int_equal(store_session_expire(f->store, now, STORE_SESSION_IDLE_DEFAULT,
					      STORE_SESSION_ABSOLUTE_DEFAULT, &err), 1);
	list_is(f, bob, "abcdefghijklmnopqrs:10 abcdefghijklmnopqrst:10* abcdefghijklmnopqrstu:10");
	active_is(f, bob, n20, "keep; # 20");
	/* and as the nightly maintenance does it */
	assert_int_equal(store_session_create(f->store, bob, now - 2 * 86400, &s, &err), 1);
	assert_true(store_maintain(f->store, 86400, &err) >= 0);
	assert_int_equal(store_session_get(f->store, s.id, now, STORE_SESSION_IDLE_DEFAULT,
					   STORE_SESSION_ABSOLUTE_DEFAULT, &s, &err), 0);
	list_is(f, bob, "abcdefghijklmnopqrs:10 abcdefghijklmnopqrst:10* abcdefghijklmnopqrstu:10");
	char *text = get(f, bob, n20);
	assert_string_equal(text, "keep; # 20");
	free(text);
	/* it renames, deactivates and deletes like any other */
	assert_int_equal(store_sieve_rename(f->store, bob, n20, "x", &err), 1);
	active_is(f, bob, "x", "keep; # 20");
	assert_int_equal(store_sieve_rename(f->store, bob, "x", n20, &err), 1);
	assert_int_equal(store_sieve_activate(f->store, bob, NULL, &err), 1);
	assert_int_equal(store_sieve_delete(f->store, bob, n20, &err), 1);
	list_is(f, bob, "abcdefghijklmnopqrs:10 abcdefghijklmnopqrstu:10");
}

static void test_script_count(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	char name[16];
	for (int i = 0; i < STORE_SIEVE_SCRIPTS_MAX; i++) {
		snprintf(name, sizeof(name), "s%02d", i);
		assert_int_equal(put(f, bob, name, "keep;"), 1);
	}
	/* the 17th refused */
	assert_int_equal(store_sieve_put(f->store, bob, "s16", "keep;", 5, &err), 0);
	assert_non_null(strstr(err, "too many scripts"));
	assert_false(has(f, bob, "s16"));
	/* replacing one of the 16 is no new one */
	assert_int_equal(put(f, bob, "s07", "discard;"), 1);
	char *text = get(f, bob, "s07");
	assert_string_equal(text, "discard;");
	free(text);
	struct store_sieve_entry *e;
	size_t n;
	assert_int_equal(store_sieve_list(f->store, bob, &e, &n, &err), 1);
	assert_int_equal(n, STORE_SIEVE_SCRIPTS_MAX);
	assert_string_equal(e[0].name, "s00");
	assert_string_equal(e[15].name, "s15");
	assert_int_equal(e[7].len, 8);
	free(e);
	/* a rename is no new one either */
	assert_int_equal(store_sieve_rename(f->store, bob, "s15", "last", &err), 1);
	/* the limit is a user's: ann still has room */
	assert_int_equal(put(f, ann, "s16", "keep;"), 1);
	/* one deleted makes room for one */
	assert_int_equal(store_sieve_delete(f->store, bob, "s00", &err), 1);
	assert_int_equal(put(f, bob, "s16", "keep;"), 1);
	assert_int_equal(put(f, bob, "s17", "keep;"), 0);
}

static void test_text_size(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	char *big = malloc(SIEVE_SCRIPT_MAX + 2), *text;
	size_t len;
	assert_non_null(big);
	memset(big, '#', SIEVE_SCRIPT_MAX + 1);
	big[SIEVE_SCRIPT_MAX + 1] = '\0';
	big[SIEVE_SCRIPT_MAX - 1] = '\n';
	assert_int_equal(store_sieve_put(f->store, bob, "big", big, SIEVE_SCRIPT_MAX, &err), 1);
	assert_int_equal(store_sieve_get(f->store, bob, "big", &text, &len, &err), 1);
	assert_int_equal(len, SIEVE_SCRIPT_MAX);
	assert_memory_equal(text, big, SIEVE_SCRIPT_MAX);
	assert_int_equal(text[len], '\0');
	free(text);
	list_is(f, bob, "big:65536");
	/* one more refused, the old text kept */
	assert_int_equal(store_sieve_put(f->store, bob, "big", big, SIEVE_SCRIPT_MAX + 1, &err), 0);
	assert_non_null(strstr(err, "longer than 64 KB"));
	assert_int_equal(store_sieve_put(f->store, bob, "new", big, SIEVE_SCRIPT_MAX + 1, &err), 0);
	assert_false(has(f, bob, "new"));
	assert_int_equal(store_sieve_get(f->store, bob, "big", &text, &len, &err), 1);
	assert_int_equal(len, SIEVE_SCRIPT_MAX);
	free(text);
	/* the biggest as the active one */
	assert_int_equal(store_sieve_activate(f->store, bob, "big", &err), 1);
	char name[STORE_SIEVE_NAME_MAX + 1];
	assert_int_equal(store_sieve_get_active(f->store, bob, name, &text, &len, &err), 1);
	assert_string_equal(name, "big");
	assert_int_equal(len, SIEVE_SCRIPT_MAX);
	free(text);
	/* renamed whole */
	assert_int_equal(store_sieve_rename(f->store, bob, "big", "bigger", &err), 1);
	assert_int_equal(store_sieve_get(f->store, bob, "bigger", &text, &len, &err), 1);
	assert_int_equal(len, SIEVE_SCRIPT_MAX);
	assert_memory_equal(text, big, SIEVE_SCRIPT_MAX);
	free(text);
	free(big);
}

static void test_activate_delete(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	assert_int_equal(put(f, bob, "a", "keep;"), 1);
	assert_int_equal(put(f, bob, "b", "discard;"), 1);
	/* a missing script cannot be active */
	assert_int_equal(store_sieve_activate(f->store, bob, "c", &err), 0);
	assert_non_null(strstr(err, "no script named \"c\""));
	active_is(f, bob, "", NULL);
	/* "" is no script's name, though no script is active either */
	assert_int_equal(store_sieve_delete(f->store, bob, "", &err), 0);
	assert_non_null(strstr(err, "no script named"));
	assert_int_equal(store_sieve_activate(f->store, bob, "a", &err), 1);
	active_is(f, bob, "a", "keep;");
	list_is(f, bob, "a:5* b:8");
	/* one at a time */
	assert_int_equal(store_sieve_activate(f->store, bob, "b", &err), 1);
	active_is(f, bob, "b", "discard;");
	list_is(f, bob, "a:5 b:8*");
	/* again: no change */
	assert_int_equal(store_sieve_activate(f->store, bob, "b", &err), 1);
	/* replacing the active one: still active, the new text runs */
	assert_int_equal(put(f, bob, "b", "stop;"), 1);
	active_is(f, bob, "b", "stop;");
	/* the active one cannot be deleted */
	assert_int_equal(store_sieve_delete(f->store, bob, "b", &err), 0);
	assert_non_null(strstr(err, "\"b\" is the active script: deactivate it first"));
	assert_true(has(f, bob, "b"));
	active_is(f, bob, "b", "stop;");
	/* the others can */
	assert_int_equal(store_sieve_delete(f->store, bob, "a", &err), 1);
	assert_false(has(f, bob, "a"));
	assert_int_equal(store_sieve_delete(f->store, bob, "a", &err), 0);
	assert_non_null(strstr(err, "no script named \"a\""));
	/* deactivated, then deleted */
	assert_int_equal(store_sieve_activate(f->store, bob, NULL, &err), 1);
	active_is(f, bob, "", NULL);
	list_is(f, bob, "b:5");
	assert_int_equal(store_sieve_activate(f->store, bob, NULL, &err), 1);
	assert_int_equal(store_sieve_delete(f->store, bob, "b", &err), 1);
	list_is(f, bob, "");
	/* a new script of the old active one's name is not active */
	assert_int_equal(put(f, bob, "b", "keep;"), 1);
	active_is(f, bob, "", NULL);
	assert_int_equal(store_sieve_delete(f->store, bob, "missing", &err), 0);
}

static void test_rename(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	assert_int_equal(put(f, bob, "old", "keep;"), 1);
	assert_int_equal(put(f, bob, "other", "discard;"), 1);
	assert_int_equal(store_sieve_activate(f->store, bob, "old", &err), 1);
	/* the active one stays active under its new name */
	assert_int_equal(store_sieve_rename(f->store, bob, "old", "Neu ☃", &err), 1);
	active_is(f, bob, "Neu ☃", "keep;");
	assert_false(has(f, bob, "old"));
	list_is(f, bob, "Neu ☃:5* other:8");
	/* so it cannot be deleted under the new name either */
	assert_int_equal(store_sieve_delete(f->store, bob, "Neu ☃", &err), 0);
	/* an inactive one stays inactive */
	assert_int_equal(store_sieve_rename(f->store, bob, "other", "zz", &err), 1);
	list_is(f, bob, "Neu ☃:5* zz:8");
	/* onto an existing name refused, both kept */
	assert_int_equal(store_sieve_rename(f->store, bob, "zz", "Neu ☃", &err), 0);
	assert_non_null(strstr(err, "a script named \"Neu ☃\" exists"));
	assert_int_equal(store_sieve_rename(f->store, bob, "Neu ☃", "zz", &err), 0);
	assert_int_equal(store_sieve_rename(f->store, bob, "zz", "zz", &err), 0);
	list_is(f, bob, "Neu ☃:5* zz:8");
	char *text = get(f, bob, "zz");
	assert_string_equal(text, "discard;");
	free(text);
	/* a missing one */
	assert_int_equal(store_sieve_rename(f->store, bob, "nope", "new", &err), 0);
	assert_non_null(strstr(err, "no script named \"nope\""));
	assert_false(has(f, bob, "new"));
	/* another user's name is no obstacle, and another user's script no source */
	assert_int_equal(put(f, ann, "mine", "keep;"), 1);
	assert_int_equal(store_sieve_rename(f->store, bob, "zz", "mine", &err), 1);
	assert_int_equal(store_sieve_rename(f->store, bob, "other", "x", &err), 0);
	assert_int_equal(store_sieve_rename(f->store, ann, "zz", "x", &err), 0);
	list_is(f, ann, "mine:5");
	list_is(f, bob, "Neu ☃:5* mine:8");
}

static void test_users_apart(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	assert_int_equal(put(f, bob, "main", "keep;"), 1);
	assert_int_equal(put(f, ann, "main", "discard;"), 1);
	assert_int_equal(put(f, ann, "extra", "stop;"), 1);
	assert_int_equal(store_sieve_activate(f->store, ann, "main", &err), 1);
	active_is(f, bob, "", NULL);
	active_is(f, ann, "main", "discard;");
	list_is(f, bob, "main:5");
	list_is(f, ann, "extra:5 main:8*");
	assert_false(has(f, bob, "extra"));
	assert_int_equal(store_sieve_activate(f->store, bob, "extra", &err), 0);
	/* bob's delete and deactivate touch only bob's */
	assert_int_equal(store_sieve_delete(f->store, bob, "main", &err), 1);
	assert_int_equal(store_sieve_activate(f->store, bob, NULL, &err), 1);
	active_is(f, ann, "main", "discard;");
	list_is(f, ann, "extra:5 main:8*");
	/* an id with no user has nothing */
	list_is(f, 0xfffffff0u, "");
}

static void test_user_delete(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	char n20[] = "abcdefghijklmnopqrst";
	assert_int_equal(put(f, bob, "main", "keep;"), 1);
	assert_int_equal(put(f, bob, n20, "keep;"), 1);
	assert_int_equal(store_sieve_activate(f->store, bob, "main", &err), 1);
	assert_int_equal(put(f, ann, "main", "discard;"), 1);
	assert_int_equal(store_sieve_activate(f->store, ann, "main", &err), 1);
	assert_int_equal(store_user_del(f->store, "bob@example.com", &err), 1);
	/* bob's id has no scripts and no active mark left */
	list_is(f, bob, "");
	active_is(f, bob, "", NULL);
	assert_false(has(f, bob, "main"));
	assert_false(has(f, bob, n20));
	/* ann's are untouched */
	list_is(f, ann, "main:8*");
	active_is(f, ann, "main", "discard;");
}

/* store_sieve_put_if as the webmail calls it: `name` gets `text` if the
 * active script is still seen_active and seen_name still holds seen_text. */
static int put_if(struct store_fixture *f, const char *name, const char *text,
		  const char *seen_active, const char *seen_name, const char *seen_text,
		  bool activate)
{
	const char *err = NULL;
	struct store_sieve_seen seen = { seen_active, seen_name, seen_text,
					 seen_text != NULL ? strlen(seen_text) : 0 };
	return store_sieve_put_if(f->store, bob, name, text, strlen(text), &seen, activate, &err);
}

/* store_sieve_put_if writes only over what the caller read: a form made
 * from an older state (another window saved meanwhile) writes nothing. */
static void test_put_if(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	/* the first save: nothing was there, nothing active; it activates */
	assert_int_equal(put_if(f, "filters", "keep;", "", "filters", NULL, true), 1);
	active_is(f, bob, "filters", "keep;");
	/* a second form made from that same empty state changes nothing */
	assert_int_equal(put_if(f, "filters", "discard;", "", "filters", NULL, true), 2);
	active_is(f, bob, "filters", "keep;");
	/* one made from the text as it is now saves */
	assert_int_equal(put_if(f, "filters", "stop;", "filters", "filters", "keep;", false), 1);
	active_is(f, bob, "filters", "stop;");
	/* a text read before that save (same length, other bytes) is stale */
	assert_int_equal(put_if(f, "filters", "x;", "filters", "filters", "keep;", false), 2);
	/* so is the state before another script became the active one */
	assert_int_equal(put(f, bob, "mine", "keep;"), 1);
	assert_int_equal(store_sieve_activate(f->store, bob, "mine", &err), 1);
	assert_int_equal(put_if(f, "filters", "x;", "filters", "filters", "stop;", false), 2);
	active_is(f, bob, "mine", "keep;");
	/* replacing the active hand-written script by "filters": checked
	 * against the script that was read, whatever "filters" holds */
	assert_int_equal(put_if(f, "filters", "x;", "mine", "mine", "discard;", true), 2);
	assert_int_equal(put_if(f, "filters", "x;", "mine", "mine", "keep;", true), 1);
	active_is(f, bob, "filters", "x;");
	/* the usual refusals stay refusals (0), not "changed" */
	assert_int_equal(put_if(f, "", "x;", "", "", NULL, false), 0);
}

int main(void)
{
	int code = store_fixture_become_store_user();
	if (code != 0)
		return code;
	const struct CMUnitTest tests[] = {
		TEST(test_put_get_list),
		TEST(test_names),
		TEST(test_session_long_name),
		TEST(test_script_count),
		TEST(test_text_size),
		TEST(test_activate_delete),
		TEST(test_rename),
		TEST(test_users_apart),
		TEST(test_user_delete),
		TEST(test_put_if),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
