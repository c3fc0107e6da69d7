/* DKIM keys in the store (store/dkim.c) and made by GnuTLS
 * (store/dkim_key.c): set, get, replace, delete, the domain's deletion
 * taking its key, `domain list` not showing the key record, selectors and
 * keys refused; the public key as DNS wants it and a signature that checks
 * against it (Ed25519 and RSA). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dkim.h"
#include "store_fixture.h"

static int count_cb(const char *domain, void *ctx)
{
	(void)domain;
	(*(int *)ctx)++;
	return 0;
}

static struct store_dkim *key_new(enum dkim_alg alg, const char *selector)
{
	struct store_dkim *k = calloc(1, sizeof(*k));
	const char *err = NULL;
	char *pem = NULL;
	size_t len = 0;

	assert_int_equal(dkim_key_generate(alg, DKIM_RSA_BITS_MIN, &pem, &len, &err), 1);
	assert_true(len <= DKIM_KEY_PEM_MAX);
	memcpy(k->pem, pem, len + 1);
	k->pem_len = len;
	k->alg = alg;
	k->created = 1700000000;
	strcpy(k->selector, selector);
	free(pem);
	return k;
}

static void test_records(void **state)
{
	struct store_fixture *f = *state;
	struct store_dkim *k = key_new(DKIM_ALG_ED25519, "sel1"), *got = calloc(1, sizeof(*got));
	const char *err = NULL;
	int n = 0;

	assert_int_equal(store_domain_add(f->store, "example.org", &err), 1);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 0);
	assert_non_null(strstr(err, "has no DKIM key"));
	assert_int_equal(store_dkim_set(f->store, "Example.ORG", k, &err), 1);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "sel1");
	assert_int_equal(got->alg, DKIM_ALG_ED25519);
	assert_int_equal(got->created, 1700000000);
	assert_int_equal(got->pem_len, k->pem_len);
	assert_memory_equal(got->pem, k->pem, k->pem_len);
	/* the key record is no domain */
	assert_int_equal(store_domain_list(f->store, count_cb, &n, &err), 1);
	assert_int_equal(n, 1);
	/* one key a domain: a new one replaces it */
	free(k);
	k = key_new(DKIM_ALG_RSA, "sel2");
	assert_int_equal(store_dkim_set(f->store, "example.org", k, &err), 1);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "sel2");
	assert_int_equal(got->alg, DKIM_ALG_RSA);
	/* refused: not local, a bad selector */
	assert_int_equal(store_dkim_set(f->store, "example.net", k, &err), 0);
	assert_non_null(strstr(err, "not a local domain"));
	strcpy(k->selector, "Bad.Sel");
	assert_int_equal(store_dkim_set(f->store, "example.org", k, &err), 0);
	assert_non_null(strstr(err, "selector"));
	/* deleting the domain deletes its key: added again, it has none */
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 1);
	assert_int_equal(store_domain_add(f->store, "example.org", &err), 1);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 0);
	/* --delete */
	strcpy(k->selector, "sel3");
	assert_int_equal(store_dkim_set(f->store, "example.org", k, &err), 1);
	assert_int_equal(store_dkim_del(f->store, "example.org", &err), 1);
	assert_int_equal(store_dkim_del(f->store, "example.org", &err), 0);
	free(k);
	free(got);
}

static void test_selector(void **state)
{
	(void)state;
	assert_true(store_dkim_selector_valid("pb202611"));
	assert_true(store_dkim_selector_valid("a-b"));
	assert_false(store_dkim_selector_valid(""));
	assert_false(store_dkim_selector_valid("-a"));
	assert_false(store_dkim_selector_valid("a-"));
	assert_false(store_dkim_selector_valid("a.b"));
	assert_false(store_dkim_selector_valid("A"));
	assert_false(store_dkim_selector_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 64 */
}

static void test_public_and_sign(void **state)
{
	struct store_dkim *ed = key_new(DKIM_ALG_ED25519, "e"), *rsa = key_new(DKIM_ALG_RSA, "r");
	const char *err = NULL;
	char *p = NULL, *b = NULL;
	unsigned char raw[600];

	(void)state;
	assert_int_equal(dkim_key_public(DKIM_ALG_ED25519, ed->pem, ed->pem_len, &p, &err), 1);
	assert_int_equal(base64_decode(p, strlen(p), raw, NULL), 32);   /* RFC 8463: raw key */
	free(p);
	assert_int_equal(dkim_key_public(DKIM_ALG_RSA, rsa->pem, rsa->pem_len, &p, &err), 1);
	assert_memory_equal(p, "MI", 2);                                /* DER SPKI */
	free(p);
	/* a key of the other kind is refused, not used */
	assert_int_equal(dkim_key_public(DKIM_ALG_RSA, ed->pem, ed->pem_len, &p, &err), 0);
	assert_int_equal(dkim_key_sign(DKIM_ALG_ED25519, rsa->pem, rsa->pem_len, "x", 1, &b, &err), 0);
	assert_int_equal(dkim_key_sign(DKIM_ALG_ED25519, ed->pem, ed->pem_len, "x", 1, &b, &err), 1);
	assert_int_equal(base64_decode(b, strlen(b), raw, NULL), 64);
	free(b);
	assert_int_equal(dkim_key_sign(DKIM_ALG_RSA, rsa->pem, rsa->pem_len, "x", 1, &b, &err), 1);
	assert_int_equal(base64_decode(b, strlen(b), raw, NULL), DKIM_RSA_BITS_MIN / 8);
	free(b);
	assert_int_equal(dkim_key_sign(DKIM_ALG_RSA, "junk", 4, "x", 1, &b, &err), 0);
	free(ed);
	free(rsa);
}

int main(void)
{
	int r = store_fixture_become_store_user();
	const struct CMUnitTest tests[] = {
		STORE_TEST(test_records),
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_public_and_sign),
	};

	if (r != 0)
		return r;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
