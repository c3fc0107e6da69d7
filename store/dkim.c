/* DKIM keys in domains.db (dkim.h). */
#include <stdlib.h>

#include "account_int.h"
#include "dkim.h"
#include "password.h"

#define DKIM_REC_VERSION 1
#define DKIM_KEY_MAX (STORE_DOMAIN_MAX + DKIM_KEY_SUFFIX_LEN)
#define DKIM_REC_MAX (1 + 1 + 8 + 2 + STORE_DKIM_SELECTOR_MAX + 4 + DKIM_KEY_PEM_MAX)

bool store_dkim_selector_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STORE_DKIM_SELECTOR_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static size_t dkim_key(const char *domain, uint8_t key[DKIM_KEY_MAX])
{
	size_t n = strlen(domain);

	memcpy(key, domain, n);
	memcpy(key + n, DKIM_KEY_SUFFIX, DKIM_KEY_SUFFIX_LEN);
	return n + DKIM_KEY_SUFFIX_LEN;
}

int dkim_rec_decode(const void *val, size_t len, struct store_dkim *key_r)
{
	struct unpack u;
	size_t pem_len;

	unpack_init(&u, val, len);
	uint8_t version = unpack_u8(&u);
	uint8_t alg = unpack_u8(&u);
	key_r->created = (int64_t)unpack_u64(&u);
	unpack_str(&u, key_r->selector, sizeof(key_r->selector));
	const void *pem = unpack_blob(&u, &pem_len);
	if (u.error || version != DKIM_REC_VERSION || pem == NULL || pem_len > DKIM_KEY_PEM_MAX ||
	    (alg != DKIM_ALG_RSA && alg != DKIM_ALG_ED25519))
		return 0;
	key_r->alg = (enum dkim_alg)alg;
	memcpy(key_r->pem, pem, pem_len);
	key_r->pem[pem_len] = '\0';
	key_r->pem_len = pem_len;
	return 1;
}

struct dkim_ctx {
	char domain[STORE_DOMAIN_MAX + 1];
	struct store_dkim *key;       /* get: filled; set: written */
};

/* The domain must be local: 1, or 0 refused. */
static int dkim_domain_check(struct store *store, DB_TXN *txn, struct dkim_ctx *c, uint32_t flags)
{
	struct domain_rec rec;
	int r = domain_get_txn(store, txn, c->domain, &rec, flags);

	if (r == 0)
		store_refuse(store, "%s is not a local domain", c->domain);
	return r;
}

static int dkim_get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct dkim_ctx *c = ctx;
	uint8_t key[DKIM_KEY_MAX], *buf;
	size_t len;
	int r = dkim_domain_check(store, txn, c, 0);

	if (r <= 0)
		return r;
	if ((buf = malloc(DKIM_REC_MAX)) == NULL)
		return store_err(store, "out of memory");
	r = store_get(store, DBI_DOMAINS, txn, key, dkim_key(c->domain, key), buf, DKIM_REC_MAX,
		      &len, 0);
	if (r == 1 && dkim_rec_decode(buf, len, c->key) != 1)
		r = store_err(store, "domains.db: the DKIM key of %s is damaged or of an unknown "
			      "version", c->domain);
	else if (r == 0)
		store_refuse(store, "%s has no DKIM key", c->domain);
	password_wipe(buf, DKIM_REC_MAX);
	free(buf);
	return r;
}

static int dkim_set_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct dkim_ctx *c = ctx;
	const struct store_dkim *k = c->key;
	uint8_t key[DKIM_KEY_MAX], *buf;
	struct pack p;
	int r = dkim_domain_check(store, txn, c, DB_RMW);

	if (r <= 0)
		return r;
	if ((buf = malloc(DKIM_REC_MAX)) == NULL)
		return store_err(store, "out of memory");
	pack_init(&p, buf, DKIM_REC_MAX);
	pack_u8(&p, DKIM_REC_VERSION);
	pack_u8(&p, (uint8_t)k->alg);
	pack_u64(&p, (uint64_t)k->created);
	pack_str(&p, k->selector);
	pack_blob(&p, k->pem, k->pem_len);
	r = p.overflow ? store_err(store, "DKIM key record overflow")
		       : store_put(store, DBI_DOMAINS, txn, key, dkim_key(c->domain, key), buf,
				   p.len, 0);
	password_wipe(buf, DKIM_REC_MAX);
	free(buf);
	return r < 0 ? r : 1;
}

int dkim_domain_del_txn(struct store *store, DB_TXN *txn, const char *domain)
{
	uint8_t key[DKIM_KEY_MAX];

	return store_del(store, DBI_DOMAINS, txn, key, dkim_key(domain, key));
}

static int dkim_del_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct dkim_ctx *c = ctx;
	int r = dkim_domain_check(store, txn, c, DB_RMW);

	if (r <= 0)
		return r;
	if ((r = dkim_domain_del_txn(store, txn, c->domain)) == 0)
		store_refuse(store, "%s has no DKIM key", c->domain);
	return r;
}

static int dkim_parse(struct store *store, const char *domain, struct dkim_ctx *c,
		      const char **error_r)
{
	const char *why = NULL;
	int r = account_domain_parse(domain, c->domain, &why);

	return r == 1 ? 1 : account_parse_refuse(store, error_r, r, "invalid domain name", why);
}

int store_dkim_get(struct store *store, const char *domain, struct store_dkim *key_r,
		   const char **error_r)
{
	struct dkim_ctx c = { .key = key_r };
	int r = dkim_parse(store, domain, &c, error_r);

	return r == 1 ? store_read(store, dkim_get_txn, &c, error_r) : r;
}

int store_dkim_set(struct store *store, const char *domain, const struct store_dkim *key,
		   const char **error_r)
{
	struct dkim_ctx c = { .key = (struct store_dkim *)key };
	int r = dkim_parse(store, domain, &c, error_r);

	if (r != 1)
		return r;
	if (!store_dkim_selector_valid(key->selector))
		return account_refuse(store, error_r, "invalid DKIM selector (one DNS label: "
				      "lowercase letters, digits and inner '-', at most "
				      ACCOUNT_STR(STORE_DKIM_SELECTOR_MAX) " bytes)");
	if (key->pem_len == 0 || key->pem_len > DKIM_KEY_PEM_MAX ||
	    (key->alg != DKIM_ALG_RSA && key->alg != DKIM_ALG_ED25519))
		return account_refuse(store, error_r, "invalid DKIM key");
	return store_write(store, true, dkim_set_txn, &c, error_r);
}

int store_dkim_del(struct store *store, const char *domain, const char **error_r)
{
	struct dkim_ctx c = { 0 };
	int r = dkim_parse(store, domain, &c, error_r);

	return r == 1 ? store_write(store, true, dkim_del_txn, &c, error_r) : r;
}
