/* Local domains: the names the store accepts mail for. */
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

	if (account_domain_parse(domain, c.name) == 0)
		return account_refuse(store, error_r, "invalid domain name");
	return store_write(store, true, domain_add_txn, &c, error_r);
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
	r = store_del(store, DBI_DOMAINS, txn, c->name, strlen(c->name));
	return r < 0 ? r : 1;
}

int store_domain_del(struct store *store, const char *domain, const char **error_r)
{
	struct domain_ctx c;

	if (account_domain_parse(domain, c.name) == 0)
		return account_refuse(store, error_r, "invalid domain name");
	return store_write(store, true, domain_del_txn, &c, error_r);
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

	if (account_domain_parse(domain, c.name) == 0)
		return 0;
	return store_read(store, domain_is_local_txn, &c, error_r);
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
	char kbuf[STORE_DOMAIN_MAX + 1];
	uint8_t vbuf[32];
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf) - 1, .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
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
		if (strcmp(kbuf, b->after) == 0)
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
