/* accounts.db: users, their addresses and login failure counters under one
 * tag byte each (account_int.h). */
#include <errno.h>

#include "account_int.h"

/* The tag and the key proper; 0 if it is longer than any key proper. */
static size_t tagged(uint8_t dst[1 + ACCOUNT_KEY_MAX], char tag, const void *key, size_t keylen)
{
	if (keylen > ACCOUNT_KEY_MAX)
		return 0;
	dst[0] = (uint8_t)tag;
	memcpy(dst + 1, key, keylen);
	return 1 + keylen;
}

int account_get(struct store *store, DB_TXN *txn, char tag, const void *key, size_t keylen,
		void *buf, size_t bufsize, size_t *len_r, uint32_t flags)
{
	uint8_t k[1 + ACCOUNT_KEY_MAX];
	size_t klen = tagged(k, tag, key, keylen);
	if (klen == 0)
		return 0;   /* no such key is ever written */
	return store_get(store, DBI_ACCOUNTS, txn, k, klen, buf, bufsize, len_r, flags);
}

int account_put(struct store *store, DB_TXN *txn, char tag, const void *key, size_t keylen,
		const void *val, size_t vallen)
{
	uint8_t k[1 + ACCOUNT_KEY_MAX];
	size_t klen = tagged(k, tag, key, keylen);
	if (klen == 0)
		return store_err(store, "accounts.db: a key of %zu bytes is too long", keylen);
	return store_put(store, DBI_ACCOUNTS, txn, k, klen, val, vallen, 0);
}

int account_del(struct store *store, DB_TXN *txn, char tag, const void *key, size_t keylen)
{
	uint8_t k[1 + ACCOUNT_KEY_MAX];
	size_t klen = tagged(k, tag, key, keylen);
	if (klen == 0)
		return 0;
	return store_del(store, DBI_ACCOUNTS, txn, k, klen);
}

int account_cursor_get(DBC *cur, char tag, DBT *k, DBT *v, uint32_t op)
{
	/* A look at the next key alone first: the record past the tag's
	 * last may be larger than the caller's buffers, which fit its own. */
	uint8_t key[4096];   /* any key: a damaged one is the caller's to report */
	DBT kk = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT vv = { .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
	/* The flags (DB_RMW) go to the record read, not to the look: a write
	 * lock on the page past the range would be held for nothing. */
	uint32_t flags = op & ~DB_OPFLAGS_MASK;
	if ((op & DB_OPFLAGS_MASK) == DB_SET_RANGE) {
		if (k->size > sizeof(key))
			return EINVAL;
		memcpy(key, k->data, k->size);
		kk.size = k->size;
	}
	int ret = cur->get(cur, &kk, &vv, op & DB_OPFLAGS_MASK);
	if (ret != 0)
		return ret;
	if (kk.size == 0 || key[0] != (uint8_t)tag)
		return DB_NOTFOUND;
	return cur->get(cur, k, v, DB_CURRENT | flags);
}
