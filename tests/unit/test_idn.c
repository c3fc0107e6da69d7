/* Internationalized domain names: the store's address grammar turns a
 * domain into its A-labels (store/idn.c, libidn2 dlopen()ed), so either form
 * names one domain; a process meeting only ASCII domains never loads
 * libidn2. The first two tests must run first: they need a process that
 * has not loaded it yet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "account_int.h"
#include "idn.h"
#include "password.h"
#include "store.h"
#include "store_fixture.h"

#define MULLER_U "m\xc3\xbcller-bau.de"          /* müller-bau.de, NFC */
#define MULLER_NFD "mu\xcc\x88ller-bau.de"       /* u + combining diaeresis */
#define MULLER_UPPER "M\xc3\x9cLLER-BAU.DE"      /* MÜLLER-BAU.DE */
#define MULLER_A "xn--mller-bau-q9a.de"

static char test_hash[PASSWORD_HASH_MAX];

/* Whether libidn2 is mapped into this process. */
static bool idn2_mapped(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		found |= strstr(line, "libidn2") != NULL;
	fclose(f);
	return found;
}

static char *ascii(const char *domain)
{
	static char out[STORE_DOMAIN_MAX + 1];
	const char *error = NULL;
	int r = store_domain_ascii(domain, out, &error);

	if (r != 1)
		fail_msg("store_domain_ascii(%s): %d %s", domain, r, error != NULL ? error : "");
	return out;
}

static char *canonical(const char *address)
{
	static char out[STORE_ADDRESS_MAX + 1];

	if (address_canonical(address, out, sizeof(out)) != 1)
		fail_msg("address_canonical(%s) refused", address);
	return out;
}

/* The reason an invalid address is refused for (0 expected). */
static const char *refused(const char *address)
{
	const char *error = NULL;
	int r = store_address_check(address, &error);

	if (r != 0)
		fail_msg("%s: %d, expected 0", address, r);
	assert_non_null(error);
	return error;
}

/* ------------------------------------------------- must run first, in order */

/* Every account operation with ASCII domains, and libidn2 stays out. */
static void test_ascii_never_loads(void **state)
{
	struct store_fixture *f = *state;
	struct store_rcpt_target t[4];
	struct store_user u;
	const char *err = NULL;
	size_t n = 0;

	assert_false(idn_loaded());
	assert_int_equal(store_domain_add(f->store, "Example.ORG", &err), 1);
	assert_int_equal(store_user_add(f->store, "Bob@example.org", NULL, test_hash, &err), 1);
	assert_int_equal(store_alias_add(f->store, "info@example.org", "bob@example.org", &err), 1);
	assert_int_equal(store_alias_add(f->store, "@example.org", "x@remote.example", &err), 1);
	assert_int_equal(store_resolve(f->store, "INFO@example.org", t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_int_equal(store_resolve(f->store, "a@remote.example", t, 4, &n, &err),
			 STORE_RESOLVE_NOT_LOCAL);
	assert_int_equal(store_user_find(f->store, "bob@EXAMPLE.org", &u, &err), 1);
	assert_int_equal(store_domain_is_local(f->store, "example.org", &err), 1);
	assert_false(store_address_valid("bob@bad_domain.org"));
	assert_true(store_address_same_remote("a@Remote.example", "a@remote.EXAMPLE"));
	/* an "xn" label that is not "xn--" needs nothing either, and an A-label
	 * is the DNS name as given: mail from the Internet to an IDN names it
	 * so, and loads nothing */
	assert_string_equal(canonical("a@xn-a.example"), "a@xn-a.example");
	assert_string_equal(canonical("a@XN--Mller-Bau-Q9A.example"),
			    "a@xn--mller-bau-q9a.example");
	/* whether it decodes is its registry's business: an IDNA2003 emoji
	 * domain still gets its mail, a non-decoding one is just a name */
	assert_string_equal(canonical("bob@xn--ls8h.la"), "bob@xn--ls8h.la");
	assert_string_equal(canonical("bob@xn--zzzzzz.de"), "bob@xn--zzzzzz.de");
	assert_false(idn_loaded());
	assert_false(idn2_mapped());
}

/* libidn2 missing: an IDN is refused for now (-1, the package named),
 * ASCII goes on; forked, as the loading is once per process. */
static void test_library_missing(void **state)
{
	(void)state;
	assert_false(idn_loaded());
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *error = NULL;
		char out[STORE_DOMAIN_MAX + 1];

		idn_library_set("libidn2-not-installed.so.0");
		int bad = store_address_check("bob@" MULLER_U, &error) != -1 ||
			  strstr(error, "libidn2-0") == NULL;
		/* an A-label needs no library */
		bad |= store_domain_ascii(MULLER_A, out, &error) != 1 || strcmp(out, MULLER_A) != 0;
		bad |= store_address_check("bob@example.org", &error) != 1;
		bad |= store_domain_unicode(MULLER_A, out, sizeof(out)) != 0 || out[0] != '\0';
		_exit(bad);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ----------------------------------------------------------------- grammar */

static void test_forms_equal(void **state)
{
	(void)state;
	assert_string_equal(ascii(MULLER_U), MULLER_A);
	assert_true(idn_loaded());
	assert_string_equal(ascii(MULLER_NFD), MULLER_A);
	assert_string_equal(ascii(MULLER_UPPER), MULLER_A);
	assert_string_equal(ascii(MULLER_A), MULLER_A);
	assert_string_equal(ascii("XN--MLLER-BAU-Q9A.DE"), MULLER_A);
	/* mixed: a U-label beside an A-label, and beside ASCII labels */
	assert_string_equal(ascii("b\xc3\xbc" "cher.xn--mller-bau-q9a.de"),
			    "xn--bcher-kva.xn--mller-bau-q9a.de");
	assert_string_equal(ascii("Mail.B\xc3\xbc" "cher.Example"), "mail.xn--bcher-kva.example");
	/* IDNA2008 keeps ß (transitional processing would make it "ss") */
	assert_string_equal(ascii("stra\xc3\x9f" "e.de"), "xn--strae-oqa.de");
	assert_string_equal(ascii("example.org"), "example.org");

	/* Addresses: the domain converted, the local part as it was (ASCII
	 * lowercased in the key, UTF-8 byte for byte). */
	assert_string_equal(canonical("Bob@" MULLER_U), "bob@" MULLER_A);
	assert_string_equal(canonical("Bob@" MULLER_NFD), "bob@" MULLER_A);
	assert_string_equal(canonical("J\xc3\xb6rg@" MULLER_UPPER), "j\xc3\xb6rg@" MULLER_A);
	assert_string_equal(canonical("J\xc3\x96RG@" MULLER_A), "j\xc3\x96rg@" MULLER_A);
}

static void test_display(void **state)
{
	char out[4 * STORE_DOMAIN_MAX + 1];

	(void)state;
	assert_int_equal(store_domain_unicode(MULLER_A, out, sizeof(out)), 1);
	assert_string_equal(out, MULLER_U);
	assert_int_equal(store_domain_unicode("example.org", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(store_domain_unicode(MULLER_A, out, 5), 0); /* does not fit */
}

static void test_invalid(void **state)
{
	(void)state;
	/* disallowed in IDNA2008 (a snowman; an emoji as an A-label) */
	assert_non_null(strstr(refused("bob@a\xe2\x98\x83.de"), "IDNA2008"));
	/* ZWJ out of context: refused, not dropped (no transitional fallback) */
	refused("bob@fa\xe2\x80\x8d.de");
	/* hyphens at a U-label's ends */
	refused("bob@-b\xc3\xbc" "cher.de");
	refused("bob@b\xc3\xbc" "cher-.de");
	/* not even LDH or UTF-8: refused before IDNA, plain "invalid address" */
	assert_string_equal(refused("bob@b\xc3\xbc" "cher_x.de"), "invalid address");
	assert_string_equal(refused("bob@\xff.de"), "invalid address");
}

/* The DNS limits hold for the A-label form: a U-label of more UTF-8 bytes
 * than 63 may fit; a label, a domain or an address too long in A-labels
 * does not. */
static void test_limits(void **state)
{
	char in[600], *p;
	(void)state;

	/* 57 ü: 114 bytes of UTF-8, an A-label of exactly 63 */
	p = in;
	for (int i = 0; i < 57; i++)
		p += sprintf(p, "\xc3\xbc");
	strcpy(p, ".de");
	assert_int_equal(strlen(ascii(in)), 63 + 3);
	/* 58 ü: 64 in A-labels */
	p = in + sprintf(in, "bob@");
	for (int i = 0; i < 58; i++)
		p += sprintf(p, "\xc3\xbc");
	strcpy(p, ".de");
	refused(in);

	/* 16 labels "aaaaaaü" (14 each in A-labels) and one of 14: 254 in
	 * A-labels, 158 bytes as given */
	p = in + sprintf(in, "bob@");
	for (int i = 0; i < 16; i++)
		p += sprintf(p, "aaaaaa\xc3\xbc.");
	strcpy(p, "bbbbbbbbbbbbbb");
	assert_int_equal(strlen(in + 4), 158);
	assert_non_null(strstr(refused(in), "IDNA2008"));
	p[13] = '\0'; /* 253 */
	assert_int_equal(strlen(ascii(in + 4)), 253);

	/* a local part of 64 and 13 such labels: 184 bytes as given, 262 in
	 * A-labels, past the address limit of 254 */
	memset(in, 'a', 64);
	p = in + 64;
	*p++ = '@';
	for (int i = 0; i < 13; i++)
		p += sprintf(p, "aaaaaa\xc3\xbc.");
	strcpy(p, "de");
	assert_int_equal(strlen(in), 184);
	assert_non_null(strstr(refused(in), "too long"));
}

/* ------------------------------------------------------------------ store */

/* Either form reaches the same domain, user, alias and login. */
static void test_store_one_domain(void **state)
{
	struct store_fixture *f = *state;
	struct store_rcpt_target t[4];
	struct store_user u, v;
	const char *err = NULL;
	size_t n = 0;

	assert_int_equal(store_domain_add(f->store, MULLER_U, &err), 1);
	assert_int_equal(store_domain_add(f->store, MULLER_A, &err), 0);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(store_domain_add(f->store, MULLER_NFD, &err), 0);
	assert_int_equal(store_domain_is_local(f->store, MULLER_A, &err), 1);
	assert_int_equal(store_domain_is_local(f->store, MULLER_UPPER, &err), 1);

	assert_int_equal(store_user_add(f->store, "bob@" MULLER_A, NULL, test_hash, &err), 1);
	assert_int_equal(store_user_add(f->store, "Bob@" MULLER_U, NULL, test_hash, &err), 0);
	assert_int_equal(store_user_find(f->store, "BOB@" MULLER_UPPER, &u, &err), 1);
	assert_string_equal(u.address, "bob@" MULLER_A);
	assert_int_equal(store_user_add(f->store, "j\xc3\xb6rg@" MULLER_U, NULL, test_hash, &err),
			 1);
	assert_int_equal(store_user_find(f->store, "J\xc3\xb6rg@" MULLER_A, &v, &err), 1);
	assert_string_equal(v.address, "j\xc3\xb6rg@" MULLER_A);
	/* UTF-8 local parts are compared byte for byte: Ö is not ö */
	assert_int_equal(store_user_find(f->store, "J\xc3\x96RG@" MULLER_A, &v, &err), 0);

	assert_int_equal(store_alias_add(f->store, "info@" MULLER_U, "bob@" MULLER_A, &err), 1);
	assert_int_equal(store_alias_add(f->store, "info@" MULLER_A, "BOB@" MULLER_U, &err), 0);
	assert_int_equal(store_resolve(f->store, "info@" MULLER_A, t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_true(n == 1 && t[0].kind == STORE_RCPT_LOCAL && t[0].user_id == u.id);
	assert_int_equal(store_resolve(f->store, "bob@" MULLER_NFD, t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_true(n == 1 && t[0].user_id == u.id);
	/* a remote IDN target is kept in A-labels, for the relay and DNS */
	assert_int_equal(store_alias_add(f->store, "@" MULLER_U, "x@b\xc3\xbc" "cher.example",
					 &err), 1);
	assert_int_equal(store_resolve(f->store, "nobody@" MULLER_U, t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_true(n == 1 && t[0].kind == STORE_RCPT_REMOTE);
	assert_string_equal(t[0].address, "x@xn--bcher-kva.example");
	/* an invalid IDN names nobody here: refused, with the reason */
	assert_int_equal(store_resolve(f->store, "bob@a\xe2\x98\x83.de", t, 4, &n, &err),
			 STORE_RESOLVE_NO_USER);
	assert_non_null(strstr(err, "IDNA2008"));
	assert_int_equal(store_domain_add(f->store, "a\xe2\x98\x83.de", &err), 0);
	assert_non_null(strstr(err, "invalid domain name: the domain is not a valid"));
}

static void test_store_login(void **state)
{
	struct store_fixture *f = *state;
	struct store_user u;
	const char *err = NULL;

	assert_int_equal(store_domain_add(f->store, MULLER_A, &err), 1);
	assert_int_equal(store_user_add(f->store, "bob@" MULLER_U, "secret", NULL, &err), 1);
	assert_int_equal(store_auth_login(f->store, "bob@" MULLER_U, "secret", "192.0.2.1", &u,
					  &err), STORE_AUTH_OK);
	assert_int_equal(store_auth_login(f->store, "Bob@" MULLER_A, "secret", "192.0.2.1", &u,
					  &err), STORE_AUTH_OK);
	assert_string_equal(u.address, "bob@" MULLER_A);
}

/* A pre-IDNA store (the domain keyed in U-labels), made here by moving a
 * domain's records to its U-label key with the migration's own steps; then
 * out of reach, then moved back by store_domain_migrate. */
static int legacy_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	const char *from = MULLER_A, *to = ctx;
	struct domain_rec rec;
	uint32_t merged = 0;
	int r = domain_get_txn(store, txn, from, &rec, DB_RMW);

	if (r <= 0 || (r = user_domain_move_txn(store, txn, from, to, rec.id)) <= 0 ||
	    (r = alias_domain_move_txn(store, txn, from, to, &merged)) <= 0 ||
	    (r = domain_put_txn(store, txn, to, &rec)) < 0)
		return r;
	return store_del(store, DBI_DOMAINS, txn, from, strlen(from));
}

static void make_legacy(struct store *store)
{
	const char *err = NULL;

	assert_int_equal(store_write(store, true, legacy_txn, MULLER_U, &err), 1);
}

static void test_migrate(void **state)
{
	struct store_fixture *f = *state;
	struct store_rcpt_target t[4];
	struct store_user u;
	char moved[STORE_DOMAIN_MAX + 1];
	const char *err = NULL;
	size_t n = 0;

	assert_int_equal(store_domain_add(f->store, MULLER_U, &err), 1);
	assert_int_equal(store_user_add(f->store, "bob@" MULLER_U, NULL, test_hash, &err), 1);
	assert_int_equal(store_alias_add(f->store, "info@" MULLER_U, "bob@" MULLER_U, &err), 1);
	make_legacy(f->store);
	assert_int_equal(store_user_find(f->store, "bob@" MULLER_U, &u, &err), 0);
	assert_int_equal(store_domain_is_local(f->store, MULLER_U, &err), 0);

	assert_int_equal(store_domain_migrate(f->store, "example.org", moved, &err), 0);
	assert_int_equal(store_domain_migrate(f->store, MULLER_U, moved, &err), 1);
	assert_string_equal(moved, MULLER_A);
	assert_int_equal(store_user_find(f->store, "bob@" MULLER_U, &u, &err), 1);
	assert_string_equal(u.address, "bob@" MULLER_A);
	assert_int_equal(store_resolve(f->store, "info@" MULLER_A, t, 4, &n, &err),
			 STORE_RESOLVE_OK);
	assert_true(n == 1 && t[0].user_id == u.id);
	assert_int_equal(store_domain_migrate(f->store, MULLER_U, moved, &err), 0);
	assert_non_null(strstr(err, "no domain is stored as"));
	/* the domain's counts came along: it is deleted once they are gone */
	assert_int_equal(store_alias_del(f->store, "info@" MULLER_U, NULL, &err), 1);
	assert_int_equal(store_user_del(f->store, "bob@" MULLER_U, &err), 1);
	assert_int_equal(store_domain_del(f->store, MULLER_U, &err), 1);
}

/* Both forms hold bob: the admin decides, the migration refuses. */
static void test_migrate_conflict(void **state)
{
	struct store_fixture *f = *state;
	char moved[STORE_DOMAIN_MAX + 1];
	const char *err = NULL;

	assert_int_equal(store_domain_add(f->store, MULLER_U, &err), 1);
	assert_int_equal(store_user_add(f->store, "bob@" MULLER_U, NULL, test_hash, &err), 1);
	make_legacy(f->store);
	assert_int_equal(store_domain_add(f->store, MULLER_A, &err), 1);
	assert_int_equal(store_user_add(f->store, "bob@" MULLER_A, NULL, test_hash, &err), 1);
	assert_int_equal(store_user_add(f->store, "ann@" MULLER_A, NULL, test_hash, &err), 1);
	assert_int_equal(store_domain_migrate(f->store, MULLER_U, moved, &err), 0);
	assert_non_null(strstr(err, "are one address now"));
	/* bob in A-labels goes: the old bob joins ann */
	assert_int_equal(store_user_del(f->store, "bob@" MULLER_A, &err), 1);
	assert_int_equal(store_domain_migrate(f->store, MULLER_U, moved, &err), 1);
	struct store_user u;
	assert_int_equal(store_user_find(f->store, "bob@" MULLER_U, &u, &err), 1);
	assert_int_equal(store_domain_del(f->store, MULLER_A, &err), 0);
	assert_non_null(strstr(err, "2 users"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		STORE_TEST(test_ascii_never_loads), /* first: nothing loaded yet */
		cmocka_unit_test(test_library_missing),
		cmocka_unit_test(test_forms_equal),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_limits),
		STORE_TEST(test_store_one_domain),
		STORE_TEST(test_store_login),
		STORE_TEST(test_migrate),
		STORE_TEST(test_migrate_conflict),
	};
	int r = store_fixture_become_store_user();
	const char *err = NULL;

	if (r != 0)
		return r;
	if (password_hash("test", 0, test_hash, &err) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
