/* From identities: the addresses a user may send as, with names and
 * signatures (identity.h). */
#include <stdlib.h>

#include "charset.h"
#include "identity.h"
#include "log.h"
#include "store_int.h"

#define IDENT_REC_VERSION 1
#define IDENT_PREFIX "ident"
#define IDENT_PREFIX_LEN 5
/* Keys have one fixed length, the address NUL-padded: never
 * STORE_SESSION_ID_LEN, which would read as a session (session.h). */
#define IDENT_KEY_LEN (IDENT_PREFIX_LEN + 4 + STORE_ADDRESS_MAX + 1)
#define IDENT_REC_MAX (1 + 2 + STORE_IDENTITY_NAME_MAX + 2 + STORE_SIGNATURE_MAX)
/* Alias pairs one listing reads, all passes together. Without an index from
 * target to source the aliases database is scanned; at about a microsecond
 * a pair this keeps a compose page under a tenth of a second on a store with
 * far more aliases than a small site has. Past it the listing is partial
 * (logged), never an error. */
#define IDENTITY_ALIAS_SCAN_MAX 100000

#define IDENT_STR_(x) #x
#define IDENT_STR(x) IDENT_STR_(x)

typedef char ident_addr[STORE_ADDRESS_MAX + 1];

/* Canonical address comparison: keys are ASCII-lowercased, targets keep the
 * local part's case; UTF-8 bytes compare as they are (account_int.h). */
static bool addr_equal(const char *a, size_t alen, const char *b)
{
	if (strlen(b) != alen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- the scan */

struct scan_ctx {
	ident_addr *reach;   /* [0] the user's key, then aliases reaching it */
	size_t nreach, max;
	size_t scanned;
	bool added, truncated;
};

static bool reach_has(const struct scan_ctx *c, const char *addr, size_t len)
{
	for (size_t i = 0; i < c->nreach; i++)
		if (addr_equal(addr, len, c->reach[i]))
			return true;
	return false;
}

/* The target reaches a known address, itself or as a subaddress of one
 * ("bob+news" of "bob": cut at its first recipient_delimiter character). A
 * candidate only: delivers_to checks it by the store's own resolution. */
static bool reach_has_target(const struct scan_ctx *c, const char *delims, const char *addr,
			     size_t len)
{
	const char *at = memchr(addr, '@', len);
	size_t cut = 0;
	ident_addr base;

	if (reach_has(c, addr, len))
		return true;
	if (delims == NULL || at == NULL)
		return false;
	while (addr + cut < at && strchr(delims, addr[cut]) == NULL)
		cut++;
	if (cut == 0 || addr + cut == at)
		return false;
	memcpy(base, addr, cut);
	memcpy(base + cut, at, (size_t)(addr + len - at));
	return reach_has(c, base, cut + (size_t)(addr + len - at));
}

/* A domain alias "@a -> @b": each address known to reach the user that is
 * at b is also at a (delivers_to confirms it). */
static void domain_alias_add(struct scan_ctx *c, const char *source, size_t slen,
			     const char *target, size_t tlen)
{
	size_t known = c->nreach;

	for (size_t i = 0; i < known; i++) {
		const char *at = strrchr(c->reach[i], '@');
		ident_addr addr;

		if (at == NULL || !addr_equal(target, tlen, at) ||
		    (size_t)(at - c->reach[i]) + slen >= sizeof(addr))
			continue;
		memcpy(addr, c->reach[i], (size_t)(at - c->reach[i]));
		memcpy(addr + (at - c->reach[i]), source, slen);
		size_t len = (size_t)(at - c->reach[i]) + slen;

		addr[len] = '\0';
		if (reach_has(c, addr, len))
			continue;
		if (c->nreach == c->max) {
			c->truncated = true;
			return;
		}
		memcpy(c->reach[c->nreach++], addr, len + 1);
		c->added = true;
	}
}

/* One pass over every alias pair: a non-catch-all source whose target is
 * already known to reach the user is added; a domain alias adds the same
 * local parts at its source domain. */
static int scan_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct scan_ctx *c = ctx;
	DB *db = store_db(store, DBI_ALIASES);
	DBC *cur;
	ident_addr kbuf, vbuf;
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf) - 1, .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf) - 1, .flags = DB_DBT_USERMEM };
	int ret;

	c->added = false;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "aliases.db cursor");
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		if (++c->scanned > IDENTITY_ALIAS_SCAN_MAX) {
			c->truncated = true;
			break;
		}
		if (k.size > 0 && kbuf[0] == '@' && v.size > 0 && vbuf[0] == '@') {
			domain_alias_add(c, kbuf, k.size, vbuf, v.size);
			continue;
		}
		if (k.size == 0 || kbuf[0] == '@' ||
		    !reach_has_target(c, store->config->recipient_delimiter, vbuf, v.size) ||
		    reach_has(c, kbuf, k.size))
			continue;
		if (c->nreach == c->max) {
			c->truncated = true;
			break;
		}
		memcpy(c->reach[c->nreach], kbuf, k.size);
		c->reach[c->nreach][k.size] = '\0';
		c->nreach++;
		c->added = true;
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "reading aliases.db");
	return 1;
}

/* Does mail to `address` reach user_id (after the aliases' own rules)? */
static int delivers_to(struct store *store, const char *address, uint32_t user_id,
		       struct store_rcpt_target *targets, const char **error_r)
{
	size_t n;
	enum store_resolve_result r = store_resolve(store, address, targets,
						    STORE_ALIAS_TARGETS_MAX, &n, error_r);
	if (r == STORE_RESOLVE_ERROR) {
		/* A broken alias elsewhere (too deep, a loop) must not take the
		 * user's own identities away: that alias is just not one. */
		log_warning("identities: resolving %s: %s", address, *error_r);
		return 0;
	}
	for (size_t i = 0; r == STORE_RESOLVE_OK && i < n; i++)
		if (targets[i].kind == STORE_RCPT_LOCAL && targets[i].user_id == user_id)
			return 1;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* ----------------------------------------------------- names and signatures */

static void ident_key(uint8_t key[IDENT_KEY_LEN], uint32_t user_id, const char *address)
{
	uint8_t *a = key + IDENT_PREFIX_LEN + 4;
	size_t len = strnlen(address, STORE_ADDRESS_MAX);

	memset(key, 0, IDENT_KEY_LEN);
	memcpy(key, IDENT_PREFIX, IDENT_PREFIX_LEN);
	be32_put(key + IDENT_PREFIX_LEN, user_id);
	for (size_t i = 0; i < len; i++)
		a[i] = address[i] >= 'A' && address[i] <= 'Z' ? address[i] + 'a' - 'A'
							      : (uint8_t)address[i];
}

int identity_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	uint8_t prefix[IDENT_PREFIX_LEN + 4];
	memcpy(prefix, IDENT_PREFIX, IDENT_PREFIX_LEN);
	be32_put(prefix + IDENT_PREFIX_LEN, user_id);
	return sessions_del_prefix_txn(store, txn, prefix, sizeof(prefix), NULL);
}

struct names_ctx {
	uint32_t user_id;
	struct store_identity *list;
	size_t n;
	uint8_t *rec;   /* IDENT_REC_MAX */
};

static int names_get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct names_ctx *c = ctx;
	uint8_t key[IDENT_KEY_LEN];
	size_t len;

	for (size_t i = 0; i < c->n; i++) {
		struct store_identity *id = &c->list[i];
		ident_key(key, c->user_id, id->address);
		int r = store_get(store, DBI_SESSIONS, txn, key, sizeof(key), c->rec, IDENT_REC_MAX,
				  &len, 0);
		id->name[0] = id->signature[0] = '\0';
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		struct unpack u;
		unpack_init(&u, c->rec, len);
		if (unpack_u8(&u) != IDENT_REC_VERSION)
			continue;
		unpack_str(&u, id->name, sizeof(id->name));
		unpack_str(&u, id->signature, sizeof(id->signature));
		if (u.error)
			id->name[0] = id->signature[0] = '\0';
	}
	return 1;
}

int store_identities_get(struct store *store, uint32_t user_id, struct store_identity **list_r,
			 size_t *n_r, const char **error_r)
{
	struct scan_ctx c = { .max = STORE_IDENTITIES_MAX };
	struct store_user user;
	struct store_rcpt_target *targets = NULL;
	struct store_identity *list = NULL;
	size_t n = 0;
	int r;

	*list_r = NULL;
	*n_r = 0;
	if ((r = store_user_get(store, user_id, &user, error_r)) <= 0) {
		if (r == 0) {
			store_err(store, "no such user");
			*error_r = store_last_error(store);
		}
		return -1;
	}
	c.reach = calloc(c.max, sizeof(*c.reach));
	targets = calloc(STORE_ALIAS_TARGETS_MAX, sizeof(*targets));
	list = calloc(c.max, sizeof(*list));
	if (c.reach == NULL || targets == NULL || list == NULL) {
		store_err(store, "out of memory");
		*error_r = store_last_error(store);
		goto fail;
	}
	if (!address_canonical(user.address, c.reach[0], sizeof(c.reach[0])))
		snprintf(c.reach[0], sizeof(c.reach[0]), "%s", user.address);
	c.nreach = 1;
	/* Each pass can only lengthen a chain by one (pairs are read in key
	 * order, not chain order); a chain is at most STORE_ALIAS_DEPTH_MAX. */
	for (int pass = 0; pass <= STORE_ALIAS_DEPTH_MAX; pass++) {
		if (store_read(store, scan_txn, &c, error_r) < 0)
			goto fail;
		if (!c.added || c.truncated)
			break;
	}
	if (c.truncated)
		log_warning("identities of user %u: the aliases scan stopped after %zu pairs "
			    "and %zu addresses; some aliases are not offered", user_id, c.scanned,
			    c.nreach);

	snprintf(list[n++].address, sizeof(list[0].address), "%s", user.address);
	qsort(c.reach + 1, c.nreach - 1, sizeof(*c.reach), cmp_addr);
	for (size_t i = 1; i < c.nreach; i++) {
		if ((r = delivers_to(store, c.reach[i], user_id, targets, error_r)) < 0)
			goto fail;
		if (r == 1)
			snprintf(list[n++].address, sizeof(list[0].address), "%s", c.reach[i]);
	}

	struct names_ctx nc = { .user_id = user_id, .list = list, .n = n,
				.rec = malloc(IDENT_REC_MAX) };
	if (nc.rec == NULL) {
		store_err(store, "out of memory");
		*error_r = store_last_error(store);
		goto fail;
	}
	r = store_read(store, names_get_txn, &nc, error_r);
	free(nc.rec);
	if (r < 0)
		goto fail;
	free(c.reach);
	free(targets);
	*list_r = list;
	*n_r = n;
	return 1;
fail:
	free(c.reach);
	free(targets);
	free(list);
	return -1;
}

/* ----------------------------------------------------------------- saving */

struct set_ctx {
	uint8_t key[IDENT_KEY_LEN];
	const struct store_identity *id;
	size_t name_len, sig_len;
};

static int set_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct set_ctx *c = ctx;
	uint8_t *rec = malloc(IDENT_REC_MAX);
	struct pack p;

	if (rec == NULL)
		return store_err(store, "out of memory");
	pack_init(&p, rec, IDENT_REC_MAX);
	pack_u8(&p, IDENT_REC_VERSION);
	pack_str(&p, c->id->name);
	pack_str(&p, c->id->signature);
	int r = p.overflow ? store_err(store, "identity record too long")
			   : store_put(store, DBI_SESSIONS, txn, c->key, sizeof(c->key), rec, p.len, 0);
	free(rec);
	return r < 0 ? r : 1;
}

static int refuse(struct store *store, const char **error_r, const char *msg)
{
	store_err(store, "%s", msg);
	*error_r = store_last_error(store);
	return 0;
}

const char *store_identity_name_check(const char *name)
{
	size_t len = strnlen(name, STORE_IDENTITY_NAME_MAX + 1);
	if (len > STORE_IDENTITY_NAME_MAX)
		return "the name is longer than " IDENT_STR(STORE_IDENTITY_NAME_MAX) " bytes";
	if (!charset_utf8_text(name, len, false))
		return "the name must be one line of text (no control characters, valid UTF-8)";
	return NULL;
}

int store_identity_set(struct store *store, uint32_t user_id, const struct store_identity *identity,
		       const char **error_r)
{
	struct set_ctx c = { .id = identity };
	struct store_identity *list;
	size_t n, i;

	c.name_len = strnlen(identity->name, sizeof(identity->name));
	c.sig_len = strnlen(identity->signature, sizeof(identity->signature));
	if (strnlen(identity->address, sizeof(identity->address)) >= sizeof(identity->address))
		return refuse(store, error_r, "not one of your addresses");
	const char *why = store_identity_name_check(identity->name);
	if (why != NULL)
		return refuse(store, error_r, why);
	if (c.sig_len > STORE_SIGNATURE_MAX)
		return refuse(store, error_r, "the signature is longer than "
			      IDENT_STR(STORE_SIGNATURE_MAX) " bytes");
	if (!charset_utf8_text(identity->signature, c.sig_len, true))
		return refuse(store, error_r, "the signature must be text "
			      "(no control characters, valid UTF-8)");
	if (store_identities_get(store, user_id, &list, &n, error_r) < 0)
		return -1;
	size_t alen = strlen(identity->address);
	for (i = 0; i < n && !addr_equal(identity->address, alen, list[i].address); i++)
		;
	if (i == n) {
		free(list);
		return refuse(store, error_r, "not one of your addresses");
	}
	/* keyed by the address as listed (canonical), whatever the case given */
	ident_key(c.key, user_id, list[i].address);
	free(list);
	/* Durable, unlike the other settings in this database: a name and a
	 * signature are text the user typed and expects to keep, they change
	 * rarely, so an fsync per save costs nothing that matters. */
	return store_write(store, true, set_txn, &c, error_r) < 0 ? -1 : 1;
}
