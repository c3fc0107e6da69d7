/* Users: records, the address index, and the admin operations on them. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "account_int.h"

/* ---- records ---- */

static int user_rec_decode(struct store *store, uint32_t id, const uint8_t *buf, size_t len,
			   struct user_rec *rec)
{
	struct unpack u;

	unpack_init(&u, buf, len);
	uint8_t version = unpack_u8(&u);
	rec->user.id = id;
	rec->user.domain_id = unpack_u32(&u);
	unpack_str(&u, rec->user.address, sizeof(rec->user.address));
	unpack_str(&u, rec->hash, sizeof(rec->hash));
	rec->user.quota_bytes = unpack_u64(&u);
	rec->user.quota_messages = unpack_u32(&u);
	rec->user.disabled = (unpack_u8(&u) & USER_FLAG_DISABLED) != 0;
	rec->user.created = (int64_t)unpack_u64(&u);
	rec->user.inbox_id = rec->user.inbox_uidvalidity = 0;
	if (!u.error && u.pos < u.len) {   /* appended on 2026-11-29 */
		rec->user.inbox_id = unpack_u32(&u);
		rec->user.inbox_uidvalidity = unpack_u32(&u);
	}
	if (u.error || version != USER_REC_VERSION)
		return store_err(store, "accounts.db: the record of user %u is damaged or of an "
				 "unknown version", id);
	return 1;
}

static int user_rec_put_txn(struct store *store, DB_TXN *txn, const struct user_rec *rec)
{
	uint8_t key[4], buf[USER_REC_MAX];
	struct pack p;

	pack_init(&p, buf, sizeof(buf));
	pack_u8(&p, USER_REC_VERSION);
	pack_u32(&p, rec->user.domain_id);
	pack_str(&p, rec->user.address);
	pack_str(&p, rec->hash);
	pack_u64(&p, rec->user.quota_bytes);
	pack_u32(&p, rec->user.quota_messages);
	pack_u8(&p, rec->user.disabled ? USER_FLAG_DISABLED : 0);
	pack_u64(&p, (uint64_t)rec->user.created);
	pack_u32(&p, rec->user.inbox_id);
	pack_u32(&p, rec->user.inbox_uidvalidity);
	if (p.overflow)
		return store_err(store, "accounts.db: the record of %s does not fit", rec->user.address);
	be32_put(key, rec->user.id);
	int r = account_put(store, txn, ACCOUNT_TAG_USER, key, 4, buf, p.len);
	return r < 0 ? r : 1;
}

int user_rec_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id, struct user_rec *rec_r,
		     uint32_t flags)
{
	uint8_t key[4], buf[USER_REC_MAX];
	size_t len;

	be32_put(key, user_id);
	int r = account_get(store, txn, ACCOUNT_TAG_USER, key, 4, buf, sizeof(buf), &len, flags);
	if (r <= 0)
		return r;
	return user_rec_decode(store, user_id, buf, len, rec_r);
}

int user_id_by_key_txn(struct store *store, DB_TXN *txn, const char *key, uint32_t *id_r,
		       uint32_t flags)
{
	uint8_t buf[4];
	size_t len;

	int r = account_get(store, txn, ACCOUNT_TAG_ADDRESS, key, strlen(key), buf, sizeof(buf),
			    &len, flags);
	if (r <= 0)
		return r;
	if (len != 4)
		return store_err(store, "accounts.db: the address entry of %s is damaged", key);
	*id_r = be32_get(buf);
	return 1;
}

int user_rec_find_txn(struct store *store, DB_TXN *txn, const struct account_addr *addr,
		      struct user_rec *rec_r, uint32_t flags)
{
	uint32_t id;

	int r = user_id_by_key_txn(store, txn, addr->key, &id, flags);
	if (r <= 0)
		return r;
	r = user_rec_get_txn(store, txn, id, rec_r, flags);
	if (r == 0)
		return store_err(store, "accounts.db: user %u (%s) is missing: run 'pillarbox store "
				 "check'", id, addr->key);
	return r;
}

int user_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id, struct store_user *user_r)
{
	struct user_rec rec;

	int r = user_rec_get_txn(store, txn, user_id, &rec, 0);
	if (r == 1)
		*user_r = rec.user;
	password_wipe(rec.hash, sizeof(rec.hash));
	return r;
}

/* The hash to store: `password` hashed here, or an imported `hash`. */
static int user_hash_make(struct store *store, const char *password, const char *hash,
			  char hash_r[PASSWORD_HASH_MAX], const char **error_r)
{
	const char *why;

	if (password != NULL) {
		if (password[0] == '\0')
			return account_refuse(store, error_r, "empty password");
		if (strnlen(password, PASSWORD_MAX + 1) > PASSWORD_MAX)
			return account_refuse(store, error_r, "password longer than %d bytes",
					      PASSWORD_MAX);
		if (password_hash(password, store->config->password_cost, hash_r, &why) < 0) {
			store_err(store, "password hashing failed: %s", why);
			*error_r = store_last_error(store);
			return -1;
		}
		return 1;
	}
	if (hash == NULL)
		return account_refuse(store, error_r, "no password or hash given");
	if (!password_hash_supported(hash))
		return account_refuse(store, error_r, "unsupported password hash (yescrypt, scrypt, "
				      "SHA-crypt or bcrypt expected)");
	snprintf(hash_r, PASSWORD_HASH_MAX, "%s", hash);
	return 1;
}

/* ---- add, delete ---- */

struct user_ctx {
	struct account_addr addr;
	struct user_rec rec;   /* user_add: the new user; updates: the new values */
	enum { USER_SET_HASH, USER_SET_QUOTA, USER_SET_DISABLED } what;
	uint32_t mailboxes[STORE_MAILBOXES_MAX];   /* user_del: the ones deleted */
	size_t nmailboxes;
};

static int user_add_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct user_ctx *c = ctx;
	struct domain_rec dom;
	uint8_t idkey[4];
	uint32_t id;

	int r = domain_get_txn(store, txn, account_addr_domain(&c->addr), &dom, DB_RMW);
	if (r < 0)
		return r;
	if (r == 0) {
		store_err(store, "domain %s is not a local domain", account_addr_domain(&c->addr));
		return 0;
	}
	if ((r = user_id_by_key_txn(store, txn, c->addr.key, &id, DB_RMW)) < 0)
		return r;
	if (r == 1) {
		store_err(store, "user %s exists already", c->addr.key);
		return 0;
	}
	if (dom.users == UINT32_MAX)
		return store_err(store, "domain %s has too many users", account_addr_domain(&c->addr));
	if ((r = quota_create_txn(store, txn, &id)) < 0)
		return r;
	c->rec.user.id = id;
	c->rec.user.domain_id = dom.id;
	be32_put(idkey, id);
	dom.users++;
	/* the record first (the lock order: account data, then mailboxes),
	 * written again once it can name INBOX */
	if ((r = user_rec_put_txn(store, txn, &c->rec)) < 0 ||
	    (r = account_put(store, txn, ACCOUNT_TAG_ADDRESS, c->addr.key, strlen(c->addr.key),
			     idkey, 4)) < 0 ||
	    (r = domain_put_txn(store, txn, account_addr_domain(&c->addr), &dom)) < 0 ||
	    (r = mailbox_create_defaults_txn(store, txn, id)) < 0 ||
	    (r = mailbox_inbox_txn(store, txn, id, &c->rec.user.inbox_id,
				   &c->rec.user.inbox_uidvalidity)) < 0 ||
	    (r = user_rec_put_txn(store, txn, &c->rec)) < 0)
		return r;
	return 1;
}

int user_lock_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	struct user_rec rec;
	int r = user_rec_get_txn(store, txn, user_id, &rec, DB_RMW);
	password_wipe(rec.hash, sizeof(rec.hash));
	return r;
}

int user_inbox_point_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	struct user_rec rec;
	int r = user_rec_get_txn(store, txn, user_id, &rec, DB_RMW);
	if (r > 0 && (r = mailbox_inbox_txn(store, txn, user_id, &rec.user.inbox_id,
					    &rec.user.inbox_uidvalidity)) >= 0)
		r = user_rec_put_txn(store, txn, &rec);
	password_wipe(rec.hash, sizeof(rec.hash));
	return r;
}

/* A user's address, either domain form: 1, 0 refused, -1 (libidn2 missing). */
static int user_addr_parse(struct store *store, const char *address, struct account_addr *addr_r,
			   const char **error_r)
{
	const char *why = NULL;
	int r = account_addr_parse(address, addr_r, &why);

	return r == 1 ? 1 : account_parse_refuse(store, error_r, r, "invalid address", why);
}

int store_user_add(struct store *store, const char *address, const char *password,
		   const char *hash, const char **error_r)
{
	struct user_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return account_oom(store, error_r);
	if ((r = user_addr_parse(store, address, &c->addr, error_r)) <= 0)
		goto out;
	/* The slow hash is computed before the transaction, never inside. */
	if ((r = user_hash_make(store, password, hash, c->rec.hash, error_r)) <= 0)
		goto out;
	memcpy(c->rec.user.address, c->addr.norm, sizeof(c->rec.user.address));
	c->rec.user.created = (int64_t)time(NULL);
	r = store_write(store, true, user_add_txn, c, error_r);
out:
	password_wipe(c->rec.hash, sizeof(c->rec.hash));
	free(c);
	return r;
}

static int user_del_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct user_ctx *c = ctx;
	struct domain_rec dom;
	uint8_t idkey[4];

	int r = domain_get_txn(store, txn, account_addr_domain(&c->addr), &dom, DB_RMW);
	if (r < 0)
		return r;
	if (r == 1)
		r = user_rec_find_txn(store, txn, &c->addr, &c->rec, DB_RMW);
	if (r < 0)
		return r;
	if (r == 0) {
		store_err(store, "no such user %s", c->addr.key);
		return 0;
	}
	be32_put(idkey, c->rec.user.id);
	if (dom.users > 0)
		dom.users--;
	/* Mailboxes first: their messages count down the usage record. */
	if ((r = mailbox_delete_all_txn(store, txn, c->rec.user.id, c->mailboxes,
					 &c->nmailboxes)) < 0 ||
	    (r = account_del(store, txn, ACCOUNT_TAG_USER, idkey, 4)) < 0 ||
	    (r = account_del(store, txn, ACCOUNT_TAG_ADDRESS, c->addr.key, strlen(c->addr.key))) < 0 ||
	    (r = quota_delete_txn(store, txn, c->rec.user.id)) < 0 ||
	    (r = domain_put_txn(store, txn, account_addr_domain(&c->addr), &dom)) < 0 ||
	    (r = authfail_forget_txn(store, txn, c->addr.key)) < 0 ||
	    (r = session_user_delete_txn(store, txn, c->rec.user.id)) < 0 ||
	    (r = identity_user_delete_txn(store, txn, c->rec.user.id)) < 0 ||
	    (r = contacts_user_delete_txn(store, txn, c->rec.user.id)) < 0 ||
	    (r = vacation_user_delete_txn(store, txn, c->rec.user.id)) < 0 ||
	    (r = sieve_user_delete_txn(store, txn, c->rec.user.id)) < 0 ||
	    (r = send_limit_user_delete_txn(store, txn, c->rec.user.id)) < 0)
		return r;
	return 1;
}

int store_user_del(struct store *store, const char *address, const char **error_r)
{
	struct user_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return account_oom(store, error_r);
	if ((r = user_addr_parse(store, address, &c->addr, error_r)) == 1)
		r = store_write(store, true, user_del_txn, c, error_r);
	/* the user's IMAP IDLE sessions wake and find their mailbox gone */
	for (size_t i = 0; r == 1 && i < c->nmailboxes; i++)
		store_notify_gone(store, c->mailboxes[i]);
	password_wipe(c->rec.hash, sizeof(c->rec.hash));
	free(c);
	return r;
}

/* ---- updates ---- */

static int user_update_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct user_ctx *c = ctx;
	struct user_rec rec;

	int r = user_rec_find_txn(store, txn, &c->addr, &rec, DB_RMW);
	if (r < 0)
		return r;
	if (r == 0) {
		store_err(store, "no such user %s", c->addr.key);
		return 0;
	}
	switch (c->what) {
	case USER_SET_HASH:
		memcpy(rec.hash, c->rec.hash, sizeof(rec.hash));
		break;
	case USER_SET_QUOTA:
		rec.user.quota_bytes = c->rec.user.quota_bytes;
		rec.user.quota_messages = c->rec.user.quota_messages;
		break;
	case USER_SET_DISABLED:
		rec.user.disabled = c->rec.user.disabled;
		break;
	}
	r = user_rec_put_txn(store, txn, &rec);
	password_wipe(rec.hash, sizeof(rec.hash));
	return r;
}

static int user_update(struct store *store, const char *address, struct user_ctx *c,
		       const char **error_r)
{
	int r;

	if ((r = user_addr_parse(store, address, &c->addr, error_r)) == 1)
		r = store_write(store, true, user_update_txn, c, error_r);
	password_wipe(c->rec.hash, sizeof(c->rec.hash));
	free(c);
	return r;
}

int store_user_passwd(struct store *store, const char *address, const char *password,
		      const char **error_r)
{
	struct user_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return account_oom(store, error_r);
	c->what = USER_SET_HASH;
	int r = user_hash_make(store, password != NULL ? password : "", NULL, c->rec.hash, error_r);
	if (r <= 0) {
		password_wipe(c->rec.hash, sizeof(c->rec.hash));
		free(c);
		return r;
	}
	return user_update(store, address, c, error_r);
}

int store_user_quota(struct store *store, const char *address, uint64_t bytes, uint32_t messages,
		     const char **error_r)
{
	struct user_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return account_oom(store, error_r);
	c->what = USER_SET_QUOTA;
	c->rec.user.quota_bytes = bytes;
	c->rec.user.quota_messages = messages;
	return user_update(store, address, c, error_r);
}

int store_user_disable(struct store *store, const char *address, bool disabled,
		       const char **error_r)
{
	struct user_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return account_oom(store, error_r);
	c->what = USER_SET_DISABLED;
	c->rec.user.disabled = disabled;
	return user_update(store, address, c, error_r);
}

/* ---- lookups ---- */

static int user_find_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct user_ctx *c = ctx;

	return user_rec_find_txn(store, txn, &c->addr, &c->rec, 0);
}

static int user_by_id_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct user_ctx *c = ctx;

	return user_rec_get_txn(store, txn, c->rec.user.id, &c->rec, 0);
}

static int user_lookup(struct store *store, struct user_ctx *c, store_txn_fn *fn,
		       struct store_user *user_r, const char **error_r)
{
	int r = store_read(store, fn, c, error_r);

	if (r == 1)
		*user_r = c->rec.user;
	else if (r == 0)
		account_refuse(store, error_r, "no such user");
	password_wipe(c->rec.hash, sizeof(c->rec.hash));
	return r;
}

int store_user_find(struct store *store, const char *address, struct store_user *user_r,
		    const char **error_r)
{
	struct user_ctx c;
	int r = user_addr_parse(store, address, &c.addr, error_r);

	if (r <= 0)
		return r;
	return user_lookup(store, &c, user_find_txn, user_r, error_r);
}

int store_user_get(struct store *store, uint32_t user_id, struct store_user *user_r,
		   const char **error_r)
{
	struct user_ctx c;

	c.rec.user.id = user_id;
	return user_lookup(store, &c, user_by_id_txn, user_r, error_r);
}

/* ---- listing: in address order, a batch per snapshot ---- */

struct user_batch {
	char suffix[STORE_DOMAIN_MAX + 2];   /* "@domain", or "" for all */
	struct store_user *users;
	size_t n;
	bool more;
	char after[STORE_ADDRESS_MAX + 1];   /* resume after this key ("" = start) */
	char last[STORE_ADDRESS_MAX + 1];    /* the last key of this batch */
};

static bool key_in_domain(const char *key, size_t keylen, const char *suffix)
{
	size_t n = strlen(suffix);
	return n == 0 || (keylen > n && memcmp(key + keylen - n, suffix, n) == 0);
}

static int user_batch_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct user_batch *b = ctx;
	DB *db = store_db(store, DBI_ACCOUNTS);
	DBC *cur;
	char tagged[1 + STORE_ADDRESS_MAX + 1], *kbuf = tagged + 1;
	uint8_t vbuf[4];
	DBT k = { .data = tagged, .ulen = sizeof(tagged) - 1, .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	struct user_rec rec;
	int ret, r = 1;

	b->n = 0;
	b->more = false;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "accounts.db cursor");
	tagged[0] = ACCOUNT_TAG_ADDRESS;
	k.size = 1 + (uint32_t)strlen(b->after);
	memcpy(kbuf, b->after, k.size - 1);
	for (uint32_t op = DB_SET_RANGE;
	     (ret = account_cursor_get(cur, ACCOUNT_TAG_ADDRESS, &k, &v, op)) == 0; op = DB_NEXT) {
		size_t klen = k.size - 1;
		kbuf[klen] = '\0';
		if (strcmp(kbuf, b->after) == 0 || !key_in_domain(kbuf, klen, b->suffix))
			continue;
		if (b->n == ACCOUNT_LIST_BATCH) {
			b->more = true;
			break;
		}
		if (v.size != 4) {
			r = store_err(store, "accounts.db: the address entry of %s is damaged", kbuf);
			break;
		}
		r = user_rec_get_txn(store, txn, be32_get(vbuf), &rec, 0);
		if (r < 0)
			break;
		if (r == 0) {
			r = store_err(store, "accounts.db: user %u (%s) is missing: run 'pillarbox "
				      "store check'", be32_get(vbuf), kbuf);
			break;
		}
		b->users[b->n++] = rec.user;
		memcpy(b->last, kbuf, klen + 1);
	}
	password_wipe(rec.hash, sizeof(rec.hash));
	cur->close(cur);
	if (r < 0)
		return r;
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "reading accounts.db");
	return 1;
}

int store_user_list(struct store *store, const char *domain,
		    int (*cb)(const struct store_user *user, void *ctx), void *ctx,
		    const char **error_r)
{
	struct user_batch b = { .after = "", .suffix = "" };
	int count = 0, stop = 0;

	if (domain != NULL) {
		const char *why = NULL;
		int r = account_domain_parse(domain, b.suffix + 1, &why);

		b.suffix[0] = '@';
		if (r <= 0)
			return account_parse_refuse(store, error_r, r, "invalid domain name", why);
	}
	b.users = calloc(ACCOUNT_LIST_BATCH, sizeof(*b.users));
	if (b.users == NULL)
		return account_oom(store, error_r);
	do {
		if (store_read(store, user_batch_txn, &b, error_r) < 0) {
			free(b.users);
			return -1;
		}
		memcpy(b.after, b.last, sizeof(b.after));
		for (size_t i = 0; i < b.n && stop == 0; i++, count++)
			stop = cb(&b.users[i], ctx);
	} while (stop == 0 && b.more);
	free(b.users);
	return stop != 0 ? stop : count;
}

/* ---- a domain stored in U-labels before IDNA (domain.c) ---- */

/* The user of key `from_key` moved to the same local part at `to`. */
static int user_key_move_txn(struct store *store, DB_TXN *txn, const char *from_key,
			     const char *to, uint32_t domain_id)
{
	const char *at = strrchr(from_key, '@');
	account_key to_key;
	struct user_rec rec;
	uint8_t idkey[4];
	uint32_t id, other;

	if (snprintf(to_key, sizeof(to_key), "%.*s@%s", (int)(at - from_key), from_key, to) >=
	    (int)sizeof(to_key)) {
		store_err(store, "user %s is too long with its domain in A-labels: delete it",
			  from_key);
		return 0;
	}
	int r = user_id_by_key_txn(store, txn, to_key, &other, DB_RMW);
	if (r == 1)
		store_err(store, "users %s and %s are one address now: delete one of them first",
			  from_key, to_key);
	if (r != 0)
		return r < 0 ? r : 0;
	if ((r = user_id_by_key_txn(store, txn, from_key, &id, DB_RMW)) <= 0 ||
	    (r = user_rec_get_txn(store, txn, id, &rec, DB_RMW)) <= 0)
		return r < 0 ? r : store_err(store, "accounts.db: user %s is missing", from_key);
	/* the local part as created, the domain as the key now says */
	size_t local = (size_t)(at - from_key);
	snprintf(rec.user.address + local, sizeof(rec.user.address) - local, "@%s", to);
	rec.user.domain_id = domain_id;
	be32_put(idkey, id);
	if ((r = user_rec_put_txn(store, txn, &rec)) >= 0 &&
	    (r = account_put(store, txn, ACCOUNT_TAG_ADDRESS, to_key, strlen(to_key), idkey,
			     4)) >= 0 &&
	    (r = account_del(store, txn, ACCOUNT_TAG_ADDRESS, from_key, strlen(from_key))) >= 0)
		r = authfail_forget_txn(store, txn, from_key);
	password_wipe(rec.hash, sizeof(rec.hash));
	return r < 0 ? r : 1;
}

int user_domain_move_txn(struct store *store, DB_TXN *txn, const char *from, const char *to,
			 uint32_t domain_id)
{
	char suffix[STORE_DOMAIN_MAX + 2];
	account_key *keys;
	size_t n;

	snprintf(suffix, sizeof(suffix), "@%s", from);
	int r = account_keys_ending(store, txn, ACCOUNT_TAG_ADDRESS, suffix, &keys, &n);
	for (size_t i = 0; r == 1 && i < n; i++)
		r = user_key_move_txn(store, txn, keys[i], to, domain_id);
	free(keys);
	return r;
}

/* ---- INBOX in the records written before it was kept there ---- */

#define INBOX_FILL_BATCH 256

struct inbox_fill {
	uint32_t from;                    /* the batch looks at users after this id */
	uint32_t after;                   /* the last id it looked at */
	uint32_t ids[INBOX_FILL_BATCH];   /* the next ones whose record names none */
	size_t n;
	bool end;
};

static int inbox_fill_find_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct inbox_fill *f = ctx;
	DB *db = store_db(store, DBI_ACCOUNTS);
	DBC *cur;
	uint8_t kbuf[1 + 4], vbuf[USER_REC_MAX];
	DBT k = { .data = kbuf, .size = 1 + 4, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	struct user_rec rec;
	int ret, r = 1;

	/* from f->from each time: run_txn may run this again */
	f->n = 0;
	f->end = false;
	f->after = f->from;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "accounts.db cursor");
	kbuf[0] = ACCOUNT_TAG_USER;
	be32_put(kbuf + 1, f->from + 1);
	for (uint32_t op = DB_SET_RANGE; f->n < INBOX_FILL_BATCH; op = DB_NEXT) {
		if ((ret = account_cursor_get(cur, ACCOUNT_TAG_USER, &k, &v, op)) != 0)
			break;
		if (k.size != 1 + 4)
			continue;   /* store check tells */
		f->after = be32_get(kbuf + 1);
		if (user_rec_decode(store, f->after, vbuf, v.size, &rec) == 1 && rec.user.inbox_id == 0)
			f->ids[f->n++] = f->after;
	}
	password_wipe(&rec, sizeof(rec));
	cur->close(cur);
	if (ret == DB_NOTFOUND)
		f->end = true;
	else if (ret != 0)
		r = store_dberr(store, ret, "reading accounts.db");
	return r;
}

static int inbox_fill_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	const struct inbox_fill *f = ctx;
	for (size_t i = 0; i < f->n; i++) {
		int r = user_inbox_point_txn(store, txn, f->ids[i]);
		if (r < 0)
			return r;
	}
	return 1;
}

/* meta.db's "inbox_in_user": every user's record names INBOX, and stays
 * so (user_add, RENAME INBOX) */
static int inbox_filled_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	bool *set = ctx;
	uint8_t one = 1;
	size_t len;
	if (*set)
		return store_put(store, DBI_META, txn, "inbox_in_user", 13, &one, 1, 0);
	int r = store_get(store, DBI_META, txn, "inbox_in_user", 13, &one, 1, &len, 0);
	*set = r == 1;
	return r < 0 ? r : 1;
}

int user_inbox_fill(struct store *store, unsigned *filled_r, const char **error_r)
{
	struct inbox_fill *f = calloc(1, sizeof(*f));
	bool set = false;
	int r;

	*filled_r = 0;
	if (f == NULL)
		return account_oom(store, error_r);
	r = store_read(store, inbox_filled_txn, &set, error_r);
	if (r >= 0 && !set) {
		do {
			if ((r = store_read(store, inbox_fill_find_txn, f, error_r)) < 0 ||
			    (f->n > 0 && (r = store_write(store, false, inbox_fill_txn, f, error_r)) < 0))
				break;
			*filled_r += (unsigned)f->n;
			f->from = f->after;
		} while (!f->end);
		set = true;
		if (r >= 0)
			r = store_write(store, false, inbox_filled_txn, &set, error_r);
	}
	free(f);
	return r < 0 ? -1 : 0;
}
