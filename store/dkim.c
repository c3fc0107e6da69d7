/* DKIM keys in domains.db (dkim.h). */
#include <stdlib.h>

#include "account_int.h"
#include "dkim.h"
#include "password.h"

#define DKIM_REC_VERSION 2
#define DKIM_REC_VERSION_ONE_KEY 1
#define DKIM_SLOT_ACTIVE 0x01
#define DKIM_SLOT_PENDING 0x02
#define DKIM_KEY_MAX (STORE_DOMAIN_MAX + DKIM_KEY_SUFFIX_LEN)
#define DKIM_SLOT_MAX (1 + 8 + 2 + STORE_DKIM_SELECTOR_MAX + 4 + DKIM_KEY_PEM_MAX)
#define DKIM_REC_MAX (1 + 1 + 2 * DKIM_SLOT_MAX)

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

/* One key: u8 algorithm, u64 created, str selector, blob PEM. */
static void dkim_slot_decode(struct unpack *u, struct store_dkim *key_r)
{
	uint8_t alg = unpack_u8(u);
	size_t pem_len;

	key_r->created = (int64_t)unpack_u64(u);
	unpack_str(u, key_r->selector, sizeof(key_r->selector));
	const void *pem = unpack_blob(u, &pem_len);
	if (u->error || pem == NULL || pem_len > DKIM_KEY_PEM_MAX ||
	    (alg != DKIM_ALG_RSA && alg != DKIM_ALG_ED25519)) {
		u->error = true;
		return;
	}
	key_r->alg = (enum dkim_alg)alg;
	memcpy(key_r->pem, pem, pem_len);
	key_r->pem[pem_len] = '\0';
	key_r->pem_len = pem_len;
}

static void dkim_slot_encode(struct pack *p, const struct store_dkim *k)
{
	pack_u8(p, (uint8_t)k->alg);
	pack_u64(p, (uint64_t)k->created);
	pack_str(p, k->selector);
	pack_blob(p, k->pem, k->pem_len);
}

int dkim_rec_decode(const void *val, size_t len, struct store_dkim_keys *keys_r)
{
	struct unpack u;
	uint8_t version, slots;

	unpack_init(&u, val, len);
	version = unpack_u8(&u);
	keys_r->has_active = keys_r->has_pending = false;
	if (version == DKIM_REC_VERSION_ONE_KEY) {
		/* before pending keys: the one key signed, so it is the active one */
		slots = DKIM_SLOT_ACTIVE;
	} else if (version == DKIM_REC_VERSION) {
		slots = unpack_u8(&u);
		if (slots == 0 || (slots & ~(DKIM_SLOT_ACTIVE | DKIM_SLOT_PENDING)) != 0)
			return 0;
	} else {
		return 0;
	}
	if (slots & DKIM_SLOT_ACTIVE)
		dkim_slot_decode(&u, &keys_r->active);
	if (slots & DKIM_SLOT_PENDING)
		dkim_slot_decode(&u, &keys_r->pending);
	if (u.error || (version == DKIM_REC_VERSION && u.pos != u.len))
		return 0;
	keys_r->has_active = (slots & DKIM_SLOT_ACTIVE) != 0;
	keys_r->has_pending = (slots & DKIM_SLOT_PENDING) != 0;
	return 1;
}

struct dkim_ctx {
	char domain[STORE_DOMAIN_MAX + 1];
	struct store_dkim_keys *keys;   /* read, changed, written back */
	const struct store_dkim *key;   /* pending_set: the new key */
	struct store_dkim *old;         /* activate: the former active key, or NULL */
	bool pending_only;              /* del */
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

/* Reads the domain's keys into c->keys (neither there: both flags false):
 * 1, 0 the domain is not local (refused), < 0. */
static int dkim_keys_read(struct store *store, DB_TXN *txn, struct dkim_ctx *c, uint32_t flags)
{
	uint8_t key[DKIM_KEY_MAX], *buf;
	size_t len;
	int r = dkim_domain_check(store, txn, c, flags);

	c->keys->has_active = c->keys->has_pending = false;
	if (r <= 0)
		return r;
	if ((buf = malloc(DKIM_REC_MAX)) == NULL)
		return store_err(store, "out of memory");
	r = store_get(store, DBI_DOMAINS, txn, key, dkim_key(c->domain, key), buf, DKIM_REC_MAX,
		      &len, flags);
	if (r == 1 && dkim_rec_decode(buf, len, c->keys) != 1)
		r = store_err(store, "domains.db: the DKIM key of %s is damaged or of an unknown "
			      "version", c->domain);
	else if (r == 0)
		r = 1;
	password_wipe(buf, DKIM_REC_MAX);
	free(buf);
	return r;
}

/* Writes c->keys back (version 2), or deletes the record when neither is
 * left: 1, < 0. */
static int dkim_keys_write(struct store *store, DB_TXN *txn, struct dkim_ctx *c)
{
	const struct store_dkim_keys *k = c->keys;
	uint8_t key[DKIM_KEY_MAX], *buf;
	struct pack p;
	int r;

	if (!k->has_active && !k->has_pending) {
		r = dkim_domain_del_txn(store, txn, c->domain);
		return r < 0 ? r : 1;
	}
	if ((buf = malloc(DKIM_REC_MAX)) == NULL)
		return store_err(store, "out of memory");
	pack_init(&p, buf, DKIM_REC_MAX);
	pack_u8(&p, DKIM_REC_VERSION);
	pack_u8(&p, (uint8_t)((k->has_active ? DKIM_SLOT_ACTIVE : 0) |
			      (k->has_pending ? DKIM_SLOT_PENDING : 0)));
	if (k->has_active)
		dkim_slot_encode(&p, &k->active);
	if (k->has_pending)
		dkim_slot_encode(&p, &k->pending);
	r = p.overflow ? store_err(store, "DKIM key record overflow")
		       : store_put(store, DBI_DOMAINS, txn, key, dkim_key(c->domain, key), buf,
				   p.len, 0);
	password_wipe(buf, DKIM_REC_MAX);
	free(buf);
	return r < 0 ? r : 1;
}

/* 1 and the domain has a key at least, 0 none (refused). */
static int dkim_has_key(struct store *store, struct dkim_ctx *c, int r)
{
	if (r == 1 && !c->keys->has_active && !c->keys->has_pending) {
		store_refuse(store, "%s has no DKIM key", c->domain);
		return 0;
	}
	return r;
}

static int dkim_get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	return dkim_has_key(store, ctx, dkim_keys_read(store, txn, ctx, 0));
}

static int dkim_pending_set_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct dkim_ctx *c = ctx;
	int r = dkim_keys_read(store, txn, c, DB_RMW);

	if (r <= 0)
		return r;
	if (c->keys->has_active && strcmp(c->keys->active.selector, c->key->selector) == 0) {
		store_refuse(store, "selector %s is the active DKIM key's: a new key needs a new "
			     "selector (the active one's record stays published for the mail it "
			     "signed)", c->key->selector);
		return 0;
	}
	c->keys->pending = *c->key;
	c->keys->has_pending = true;
	return dkim_keys_write(store, txn, c);
}

static int dkim_activate_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct dkim_ctx *c = ctx;
	struct store_dkim_keys *k = c->keys;
	int r = dkim_has_key(store, c, dkim_keys_read(store, txn, c, DB_RMW));

	if (r <= 0)
		return r;
	if (!k->has_pending) {
		store_refuse(store, "%s has no pending DKIM key", c->domain);
		return 0;
	}
	if (c->old != NULL) {
		if (k->has_active)
			*c->old = k->active;
		else
			c->old->selector[0] = '\0';
	}
	k->active = k->pending;
	k->has_active = true;
	k->has_pending = false;
	password_wipe(&k->pending, sizeof(k->pending));
	return dkim_keys_write(store, txn, c);
}

int dkim_domain_del_txn(struct store *store, DB_TXN *txn, const char *domain)
{
	uint8_t key[DKIM_KEY_MAX];

	return store_del(store, DBI_DOMAINS, txn, key, dkim_key(domain, key));
}

static int dkim_del_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct dkim_ctx *c = ctx;
	int r = dkim_has_key(store, c, dkim_keys_read(store, txn, c, DB_RMW));

	if (r <= 0)
		return r;
	if (!c->pending_only) {
		r = dkim_domain_del_txn(store, txn, c->domain);
		return r < 0 ? r : 1;
	}
	if (!c->keys->has_pending) {
		store_refuse(store, "%s has no pending DKIM key", c->domain);
		return 0;
	}
	c->keys->has_pending = false;
	return dkim_keys_write(store, txn, c);
}

static int dkim_parse(struct store *store, const char *domain, struct dkim_ctx *c,
		      const char **error_r)
{
	const char *why = NULL;
	int r = account_domain_parse(domain, c->domain, &why);

	return r == 1 ? 1 : account_parse_refuse(store, error_r, r, "invalid domain name", why);
}

/* Runs fn over a keys buffer of its own (two keys: 16 KB, not for the
 * stack), wiped and freed after. */
static int dkim_run(struct store *store, bool write, store_txn_fn *fn, struct dkim_ctx *c,
		    struct store_dkim_keys *keys_r, const char **error_r)
{
	int r;

	if ((c->keys = malloc(sizeof(*c->keys))) == NULL)
		return account_parse_refuse(store, error_r, -1, NULL, "out of memory");
	r = write ? store_write(store, true, fn, c, error_r) : store_read(store, fn, c, error_r);
	if (r == 1 && keys_r != NULL)
		*keys_r = *c->keys;
	password_wipe(c->keys, sizeof(*c->keys));
	free(c->keys);
	c->keys = NULL;
	return r;
}

int store_dkim_keys_get(struct store *store, const char *domain, struct store_dkim_keys *keys_r,
			const char **error_r)
{
	struct dkim_ctx c = { 0 };
	int r = dkim_parse(store, domain, &c, error_r);

	return r == 1 ? dkim_run(store, false, dkim_get_txn, &c, keys_r, error_r) : r;
}

int store_dkim_get(struct store *store, const char *domain, struct store_dkim *key_r,
		   const char **error_r)
{
	struct store_dkim_keys *keys = malloc(sizeof(*keys));
	int r;

	if (keys == NULL)
		return account_parse_refuse(store, error_r, -1, NULL, "out of memory");
	r = store_dkim_keys_get(store, domain, keys, error_r);
	if (r == 1 && keys->has_active)
		*key_r = keys->active;
	else if (r == 1)
		r = account_refuse(store, error_r, "%s has no active DKIM key (its pending key "
				   "signs once activated)", domain);
	password_wipe(keys, sizeof(*keys));
	free(keys);
	return r;
}

int store_dkim_pending_set(struct store *store, const char *domain, const struct store_dkim *key,
			   const char **error_r)
{
	struct dkim_ctx c = { .key = key };
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
	return dkim_run(store, true, dkim_pending_set_txn, &c, NULL, error_r);
}

int store_dkim_activate(struct store *store, const char *domain, struct store_dkim *old_r,
			const char **error_r)
{
	struct dkim_ctx c = { .old = old_r };
	int r = dkim_parse(store, domain, &c, error_r);

	return r == 1 ? dkim_run(store, true, dkim_activate_txn, &c, NULL, error_r) : r;
}

int store_dkim_del(struct store *store, const char *domain, bool pending_only,
		   const char **error_r)
{
	struct dkim_ctx c = { .pending_only = pending_only };
	int r = dkim_parse(store, domain, &c, error_r);

	return r == 1 ? dkim_run(store, true, dkim_del_txn, &c, NULL, error_r) : r;
}
