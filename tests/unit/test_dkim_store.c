/* DKIM keys in the store (store/dkim.c) and made by GnuTLS
 * (store/dkim_key.c): a pending key that signs nothing until activated, a
 * rotation (pending beside active, activate, the old key forgotten),
 * delete (both, or the pending one only), the domain's deletion taking
 * both, a version-1 record (before pending keys) read as the active key and
 * passed by store check, `domain list` not showing the key record,
 * selectors and keys refused; the public key as DNS wants it and a
 * signature that checks against it (Ed25519 and RSA). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "account_int.h"
#include "codec.h"
#include "dkim.h"
#include "store_fixture.h"
#include "store_int.h"

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

/* pending_set then activate: the way a key comes to sign. */
static void key_activate(struct store *store, const char *domain, const struct store_dkim *k)
{
	const char *err = NULL;

	assert_int_equal(store_dkim_pending_set(store, domain, k, &err), 1);
	assert_int_equal(store_dkim_activate(store, domain, NULL, &err), 1);
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
	key_activate(f->store, "Example.ORG", k);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "sel1");
	assert_int_equal(got->alg, DKIM_ALG_ED25519);
	assert_int_equal(got->created, 1700000000);
	assert_int_equal(got->pem_len, k->pem_len);
	assert_memory_equal(got->pem, k->pem, k->pem_len);
	/* the key record is no domain */
	assert_int_equal(store_domain_list(f->store, count_cb, &n, &err), 1);
	assert_int_equal(n, 1);
	/* a new key, activated, replaces it */
	free(k);
	k = key_new(DKIM_ALG_RSA, "sel2");
	key_activate(f->store, "example.org", k);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "sel2");
	assert_int_equal(got->alg, DKIM_ALG_RSA);
	/* refused: not local, a bad selector */
	assert_int_equal(store_dkim_pending_set(f->store, "example.net", k, &err), 0);
	assert_non_null(strstr(err, "not a local domain"));
	assert_int_equal(store_dkim_activate(f->store, "example.net", NULL, &err), 0);
	assert_non_null(strstr(err, "not a local domain"));
	strcpy(k->selector, "Bad.Sel");
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", k, &err), 0);
	assert_non_null(strstr(err, "selector"));
	/* deleting the domain deletes its key: added again, it has none */
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 1);
	assert_int_equal(store_domain_add(f->store, "example.org", &err), 1);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 0);
	/* --delete */
	strcpy(k->selector, "sel3");
	key_activate(f->store, "example.org", k);
	assert_int_equal(store_dkim_del(f->store, "example.org", false, &err), 1);
	assert_int_equal(store_dkim_del(f->store, "example.org", false, &err), 0);
	free(k);
	free(got);
}

/* A rotation: the new key waits, pending, beside the active one, which
 * goes on signing until --activate; then the old one is forgotten. */
static void test_pending(void **state)
{
	struct store_fixture *f = *state;
	struct store_dkim *a = key_new(DKIM_ALG_ED25519, "old"), *b = key_new(DKIM_ALG_ED25519, "new");
	struct store_dkim *got = calloc(1, sizeof(*got));
	struct store_dkim_keys *keys = calloc(1, sizeof(*keys));
	const char *err = NULL;

	assert_int_equal(store_domain_add(f->store, "example.org", &err), 1);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 0);
	assert_int_equal(store_dkim_activate(f->store, "example.org", got, &err), 0);
	assert_non_null(strstr(err, "has no DKIM key"));
	/* the first key is pending: nothing signs */
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", a, &err), 1);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 0);
	assert_non_null(strstr(err, "example.org has no active DKIM key"));
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 1);
	assert_false(keys->has_active);
	assert_true(keys->has_pending);
	assert_string_equal(keys->pending.selector, "old");
	assert_memory_equal(keys->pending.pem, a->pem, a->pem_len);
	/* activated: it signs; there was no active key before it */
	strcpy(got->selector, "x");
	assert_int_equal(store_dkim_activate(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "");
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "old");
	assert_int_equal(store_dkim_activate(f->store, "example.org", NULL, &err), 0);
	assert_non_null(strstr(err, "has no pending DKIM key"));
	/* a pending key never takes the active key's selector */
	strcpy(b->selector, "old");
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", b, &err), 0);
	assert_non_null(strstr(err, "selector old is the active DKIM key's"));
	/* a new pending key: the old one still signs */
	strcpy(b->selector, "new");
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", b, &err), 1);
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "old");
	assert_memory_equal(got->pem, a->pem, a->pem_len);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 1);
	assert_true(keys->has_active && keys->has_pending);
	assert_string_equal(keys->active.selector, "old");
	assert_string_equal(keys->pending.selector, "new");
	/* another --new replaces the pending key, not the active one */
	strcpy(b->selector, "newer");
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", b, &err), 1);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 1);
	assert_string_equal(keys->active.selector, "old");
	assert_string_equal(keys->pending.selector, "newer");
	/* --activate: the new one signs, the old is given back and forgotten */
	assert_int_equal(store_dkim_activate(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "old");
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 1);
	assert_true(keys->has_active);
	assert_false(keys->has_pending);
	assert_string_equal(keys->active.selector, "newer");
	assert_memory_equal(keys->active.pem, b->pem, b->pem_len);
	/* --delete --pending: only the pending key goes */
	assert_int_equal(store_dkim_del(f->store, "example.org", true, &err), 0);
	assert_non_null(strstr(err, "has no pending DKIM key"));
	strcpy(a->selector, "next");
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", a, &err), 1);
	assert_int_equal(store_dkim_del(f->store, "example.org", true, &err), 1);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 1);
	assert_true(keys->has_active);
	assert_false(keys->has_pending);
	assert_string_equal(keys->active.selector, "newer");
	/* the last key deleted with --pending: no record left */
	assert_int_equal(store_dkim_del(f->store, "example.org", false, &err), 1);
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", a, &err), 1);
	assert_int_equal(store_dkim_del(f->store, "example.org", true, &err), 1);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 0);
	/* --delete takes both */
	key_activate(f->store, "example.org", a);
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", b, &err), 1);
	assert_int_equal(store_dkim_del(f->store, "example.org", false, &err), 1);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 0);
	/* the domain's deletion takes both */
	key_activate(f->store, "example.org", a);
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", b, &err), 1);
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 1);
	assert_int_equal(store_domain_add(f->store, "example.org", &err), 1);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 0);
	free(a);
	free(b);
	free(got);
	free(keys);
}

/* A key record as written before pending keys (version 1): one key. */
struct v1_ctx {
	const struct store_dkim *key;
};

static int v1_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	const struct store_dkim *k = ((struct v1_ctx *)ctx)->key;
	static const char dbkey[] = "example.org\0dkim";
	uint8_t *buf = malloc(16 + STORE_DKIM_SELECTOR_MAX + DKIM_KEY_PEM_MAX);
	struct pack p;
	int r;

	pack_init(&p, buf, 16 + STORE_DKIM_SELECTOR_MAX + DKIM_KEY_PEM_MAX);
	pack_u8(&p, 1);
	pack_u8(&p, (uint8_t)k->alg);
	pack_u64(&p, (uint64_t)k->created);
	pack_str(&p, k->selector);
	pack_blob(&p, k->pem, k->pem_len);
	assert_false(p.overflow);
	r = store_put(store, DBI_DOMAINS, txn, dbkey, sizeof(dbkey) - 1, buf, p.len, 0);
	free(buf);
	return r < 0 ? r : 1;
}

static void check_clean(struct store_fixture *f)
{
	const char *err = NULL;
	int problems;

	store_close(&f->store);
	problems = store_check(f->config, stderr, &err);
	if (problems != 0)
		fail_msg("store check: %d %s", problems, problems < 0 ? err : "problems");
	assert_int_equal(store_open(f->config, false, &f->store, &err), 0);
}

static void test_version1(void **state)
{
	struct store_fixture *f = *state;
	struct store_dkim *k = key_new(DKIM_ALG_ED25519, "legacy"), *b = key_new(DKIM_ALG_RSA, "r2");
	struct store_dkim *got = calloc(1, sizeof(*got));
	struct store_dkim_keys *keys = calloc(1, sizeof(*keys));
	struct v1_ctx c = { .key = k };
	const char *err = NULL;

	assert_int_equal(store_domain_add(f->store, "example.org", &err), 1);
	assert_int_equal(store_write(f->store, true, v1_txn, &c, &err), 1);
	/* the key that signed before goes on signing */
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "legacy");
	assert_int_equal(got->created, 1700000000);
	assert_memory_equal(got->pem, k->pem, k->pem_len);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 1);
	assert_true(keys->has_active);
	assert_false(keys->has_pending);
	check_clean(f);
	/* a rotation from it rewrites the record as version 2 */
	assert_int_equal(store_dkim_pending_set(f->store, "example.org", b, &err), 1);
	assert_int_equal(store_dkim_keys_get(f->store, "example.org", keys, &err), 1);
	assert_string_equal(keys->active.selector, "legacy");
	assert_string_equal(keys->pending.selector, "r2");
	check_clean(f);
	assert_int_equal(store_dkim_activate(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "legacy");
	assert_int_equal(store_dkim_get(f->store, "example.org", got, &err), 1);
	assert_string_equal(got->selector, "r2");
	free(k);
	free(b);
	free(got);
	free(keys);
}

/* The record decoder over every cut of a version-2 record and a bad slots
 * byte: damaged, never half-read. */
static void test_decode(void **state)
{
	struct store_dkim *k = key_new(DKIM_ALG_ED25519, "s");
	struct store_dkim_keys *keys = calloc(1, sizeof(*keys));
	uint8_t *buf = malloc(2 * (16 + DKIM_KEY_PEM_MAX));
	struct pack p;

	(void)state;
	pack_init(&p, buf, 2 * (16 + DKIM_KEY_PEM_MAX));
	pack_u8(&p, 2);
	pack_u8(&p, 3);
	for (int i = 0; i < 2; i++) {
		pack_u8(&p, (uint8_t)k->alg);
		pack_u64(&p, (uint64_t)k->created);
		pack_str(&p, i == 0 ? "a" : "b");
		pack_blob(&p, k->pem, k->pem_len);
	}
	assert_int_equal(dkim_rec_decode(buf, p.len, keys), 1);
	assert_true(keys->has_active && keys->has_pending);
	assert_string_equal(keys->active.selector, "a");
	assert_string_equal(keys->pending.selector, "b");
	for (size_t n = 0; n < p.len; n++)
		assert_int_equal(dkim_rec_decode(buf, n, keys), 0);
	buf[1] = 0;
	assert_int_equal(dkim_rec_decode(buf, p.len, keys), 0);
	buf[1] = 4;
	assert_int_equal(dkim_rec_decode(buf, p.len, keys), 0);
	buf[1] = 1;     /* one slot said, two there: trailing bytes */
	assert_int_equal(dkim_rec_decode(buf, p.len, keys), 0);
	buf[0] = 3;
	buf[1] = 3;
	assert_int_equal(dkim_rec_decode(buf, p.len, keys), 0);
	free(buf);
	free(k);
	free(keys);
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
		STORE_TEST(test_pending),
		STORE_TEST(test_version1),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_public_and_sign),
	};

	if (r != 0)
		return r;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
