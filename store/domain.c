/* Local domains: the names the store accepts mail for, keyed in A-labels,
 * and the move of one stored in U-labels before IDNA (store_domain_migrate). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "account_int.h"

/* u8 version, u32 id, u32 users, u32 aliases */
#define DOMAIN_REC_LEN 13

int domain_get_txn(struct store *store, DB_TXN *txn, const char *domain, struct domain_rec *rec_r,
		   uint32_t flags)
{
	uint8_t buf[32];
	size_t len;
	struct unpack u;

	int r = store_get(store, DBI_DOMAINS, txn, domain, strlen(domain), buf, sizeof(buf), &len,
			  flags);
	if (r <= 0)
		return r;
	unpack_init(&u, buf, len);
	uint8_t version = unpack_u8(&u);
	rec_r->id = unpack_u32(&u);
	rec_r->users = unpack_u32(&u);
	rec_r->aliases = unpack_u32(&u);
	if (u.error || version != DOMAIN_REC_VERSION)
		return store_err(store, "domains.db: the record of %s is damaged or of an unknown "
				 "version", domain);
	return 1;
}

int domain_put_txn(struct store *store, DB_TXN *txn, const char *domain,
		   const struct domain_rec *rec)
{
	uint8_t buf[DOMAIN_REC_LEN];
	struct pack p;

	pack_init(&p, buf, sizeof(buf));
	pack_u8(&p, DOMAIN_REC_VERSION);
	pack_u32(&p, rec->id);
	pack_u32(&p, rec->users);
	pack_u32(&p, rec->aliases);
	int r = store_put(store, DBI_DOMAINS, txn, domain, strlen(domain), buf, p.len, 0);
	return r < 0 ? r : 1;
}

struct domain_ctx {
	char name[STORE_DOMAIN_MAX + 1];
};

/* `domain` in either form into c->name (A-labels): 1, or as
 * account_parse_refuse. */
static int domain_parse(struct store *store, const char *domain, struct domain_ctx *c,
			const char **error_r)
{
	const char *why = NULL;
	int r = account_domain_parse(domain, c->name, &why);

	return r == 1 ? 1 : account_parse_refuse(store, error_r, r, "invalid domain name", why);
}

static int domain_add_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct domain_ctx *c = ctx;
	struct domain_rec rec;
	uint64_t id;

	int r = domain_get_txn(store, txn, c->name, &rec, DB_RMW);
	if (r < 0)
		return r;
	if (r == 1) {
		store_err(store, "domain %s exists already", c->name);
		return 0;
	}
	if ((r = store_counter_next(store, txn, "domain_id", &id)) < 0)
		return r;
	if (id > UINT32_MAX)
		return store_err(store, "domain ids are exhausted");
	rec = (struct domain_rec){ .id = (uint32_t)id };
	return domain_put_txn(store, txn, c->name, &rec);
}

int store_domain_add(struct store *store, const char *domain, const char **error_r)
{
	struct domain_ctx c;
	int r = domain_parse(store, domain, &c, error_r);

	return r == 1 ? store_write(store, true, domain_add_txn, &c, error_r) : r;
}

static int domain_del_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct domain_ctx *c = ctx;
	struct domain_rec rec;

	int r = domain_get_txn(store, txn, c->name, &rec, DB_RMW);
	if (r < 0)
		return r;
	if (r == 0) {
		store_err(store, "domain %s is not a local domain", c->name);
		return 0;
	}
	if (rec.users > 0 || rec.aliases > 0) {
		char users[32] = "", aliases[32] = "";
		if (rec.users > 0)
			snprintf(users, sizeof(users), "%u user%s", rec.users, rec.users == 1 ? "" : "s");
		if (rec.aliases > 0)
			snprintf(aliases, sizeof(aliases), "%u alias%s", rec.aliases,
				 rec.aliases == 1 ? "" : "es");
		store_err(store, "domain %s still has %s%s%s: delete %s first", c->name, users,
			  rec.users > 0 && rec.aliases > 0 ? " and " : "", aliases,
			  rec.users + rec.aliases == 1 ? "it" : "them");
		return 0;
	}
	char alias_source[STORE_ADDRESS_MAX + 1];
	if ((r = alias_domain_alias_to_txn(store, txn, c->name, alias_source)) != 0) {
		if (r > 0)
			store_err(store, "domain %s is where the domain alias %s leads: delete that "
				  "first ('pillarbox alias del %s @%s')", c->name, alias_source,
				  alias_source, c->name);
		return r < 0 ? r : 0;
	}
	/* Its DKIM keys go with it: nobody may sign for a domain we lost. */
	if ((r = dkim_domain_del_txn(store, txn, c->name)) < 0)
		return r;
	r = store_del(store, DBI_DOMAINS, txn, c->name, strlen(c->name));
	return r < 0 ? r : 1;
}

int store_domain_del(struct store *store, const char *domain, const char **error_r)
{
	struct domain_ctx c;
	int r = domain_parse(store, domain, &c, error_r);

	return r == 1 ? store_write(store, true, domain_del_txn, &c, error_r) : r;
}

static int domain_is_local_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct domain_ctx *c = ctx;
	struct domain_rec rec;

	return domain_get_txn(store, txn, c->name, &rec, 0);
}

int store_domain_is_local(struct store *store, const char *domain, const char **error_r)
{
	struct domain_ctx c;
	const char *why = NULL;
	int r = account_domain_parse(domain, c.name, &why);

	if (r < 0)
		return account_parse_refuse(store, error_r, r, "", why);
	return r == 0 ? 0 : store_read(store, domain_is_local_txn, &c, error_r);
}

/* ---- listing, a batch per snapshot ---- */

struct domain_batch {
	char (*names)[STORE_DOMAIN_MAX + 1];
	size_t n;
	bool more;
	char after[STORE_DOMAIN_MAX + 1]; /* resume after this name ("" = start) */
};

static int domain_batch_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct domain_batch *b = ctx;
	DB *db = store_db(store, DBI_DOMAINS);
	DBC *cur;
	char kbuf[STORE_DOMAIN_MAX + DKIM_KEY_SUFFIX_LEN + 1];
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf) - 1, .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_PARTIAL }; /* names only (a DKIM key is large) */
	uint32_t op = DB_FIRST;
	int ret;

	b->n = 0;
	b->more = false;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "domains.db cursor");
	if (b->after[0] != '\0') {
		k.size = (uint32_t)strlen(b->after);
		memcpy(kbuf, b->after, k.size);
		op = DB_SET_RANGE;
	}
	while ((ret = cur->get(cur, &k, &v, op)) == 0) {
		op = DB_NEXT;
		kbuf[k.size] = '\0';
		/* A domain's side records (its DKIM key) have a NUL in their
		 * key, which no domain name has. */
		if (memchr(kbuf, '\0', k.size) != NULL || strcmp(kbuf, b->after) == 0)
			continue;
		if (b->n == ACCOUNT_LIST_BATCH) {
			b->more = true;
			break;
		}
		memcpy(b->names[b->n++], kbuf, k.size + 1);
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "reading domains.db");
	return 1;
}

int store_domain_list(struct store *store, int (*cb)(const char *domain, void *ctx), void *ctx,
		      const char **error_r)
{
	struct domain_batch b = { .after = "" };
	int count = 0, stop = 0;

	b.names = calloc(ACCOUNT_LIST_BATCH, sizeof(*b.names));
	if (b.names == NULL)
		return account_oom(store, error_r);
	do {
		if (store_read(store, domain_batch_txn, &b, error_r) < 0) {
			free(b.names);
			return -1;
		}
		for (size_t i = 0; i < b.n && stop == 0; i++, count++)
			stop = cb(b.names[i], ctx);
		if (b.n > 0)
			memcpy(b.after, b.names[b.n - 1], sizeof(b.after));
	} while (stop == 0 && b.more);
	free(b.names);
	return stop != 0 ? stop : count;
}

/* ---- a domain stored in U-labels before IDNA ---- */

int account_keys_ending(struct store *store, DB_TXN *txn, char tag, const char *suffix,
			account_key **keys_r, size_t *n_r)
{
	DB *db = store_db(store, tag != 0 ? DBI_ACCOUNTS : DBI_ALIASES);
	DBC *cur;
	uint8_t kbuf[1 + STORE_ADDRESS_MAX];
	account_key *keys = NULL;
	size_t skip = tag != 0 ? 1 : 0;   /* the tag */
	DBT k = { .data = kbuf, .size = (uint32_t)skip, .ulen = sizeof(kbuf),
		  .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_PARTIAL }; /* keys only */
	size_t n = 0, cap = 0, slen = strlen(suffix);
	int ret;

	*keys_r = NULL;
	*n_r = 0;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "cursor");
	kbuf[0] = (uint8_t)tag;
	for (uint32_t op = tag != 0 ? DB_SET_RANGE : DB_FIRST;
	     (ret = tag != 0 ? account_cursor_get(cur, tag, &k, &v, op)
			     : cur->get(cur, &k, &v, op)) == 0; op = DB_NEXT_NODUP) {
		size_t klen = k.size - skip;
		if (klen < slen || klen > STORE_ADDRESS_MAX ||
		    memcmp(kbuf + k.size - slen, suffix, slen) != 0)
			continue;
		if (n == cap) {
			account_key *more = reallocarray(keys, cap + ACCOUNT_LIST_BATCH,
							 sizeof(*keys));
			if (more == NULL) {
				ret = ENOMEM;
				break;
			}
			keys = more;
			cap += ACCOUNT_LIST_BATCH;
		}
		memcpy(keys[n], kbuf + skip, klen);
		keys[n++][klen] = '\0';
	}
	cur->close(cur);
	if (ret != DB_NOTFOUND) {
		free(keys);
		return ret == ENOMEM ? store_err(store, "out of memory")
				     : store_dberr(store, ret, "reading the address keys");
	}
	*keys_r = keys;
	*n_r = n;
	return 1;
}

struct migrate_ctx {
	char from[STORE_DOMAIN_MAX + 1]; /* the U-label key */
	char to[STORE_DOMAIN_MAX + 1];   /* its A-label form */
	bool merged;                     /* `to` existed: its records were joined */
};

/* One transaction: a crash leaves the domain in one form or the other. */
static int domain_migrate_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct migrate_ctx *c = ctx;
	struct domain_rec old, rec;
	uint32_t merged = 0;

	int r = domain_get_txn(store, txn, c->from, &old, DB_RMW);
	if (r <= 0) {
		if (r == 0)
			store_err(store, "no domain is stored as %s", c->from);
		return r;
	}
	if ((r = domain_get_txn(store, txn, c->to, &rec, DB_RMW)) < 0)
		return r;
	c->merged = r == 1;
	if (!c->merged)
		rec = (struct domain_rec){ .id = old.id };
	if ((r = user_domain_move_txn(store, txn, c->from, c->to, rec.id)) <= 0 ||
	    (r = alias_domain_move_txn(store, txn, c->from, c->to, &merged)) <= 0)
		return r;
	rec.users += old.users;
	rec.aliases += old.aliases > merged ? old.aliases - merged : 0;
	if ((r = domain_put_txn(store, txn, c->to, &rec)) < 0 ||
	    (r = store_del(store, DBI_DOMAINS, txn, c->from, strlen(c->from))) < 0)
		return r;
	return 1;
}

int store_domain_migrate(struct store *store, const char *domain,
			 char ascii_r[STORE_DOMAIN_MAX + 1], const char **error_r)
{
	struct migrate_ctx c;
	const char *why = NULL;

	if (account_domain_legacy(domain, c.from) == 0)
		return account_refuse(store, error_r, "not a domain in U-label form: nothing to "
				      "migrate");
	int r = account_domain_parse(domain, c.to, &why);
	if (r <= 0)
		return account_parse_refuse(store, error_r, r, "invalid domain name", why);
	if ((r = store_write(store, true, domain_migrate_txn, &c, error_r)) == 1)
		memcpy(ascii_r, c.to, sizeof(c.to));
	return r;
}
