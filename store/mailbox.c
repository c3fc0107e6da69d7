/* Mailboxes: names, ids, state, hierarchy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox.h"
#include "message.h"

#define MBOXSTATE_VERSION 1
#define MAILBOX_INFO_VERSION 1
#define MAILBOX_KEY_MAX (4 + STORE_MAILBOX_NAME_MAX)

static const struct {
	const char *name;
	unsigned special;
} default_mailboxes[] = {
	{ "INBOX", STORE_SPECIAL_NONE },
	{ "Sent", STORE_SPECIAL_SENT },
	{ "Drafts", STORE_SPECIAL_DRAFTS },
	{ "Trash", STORE_SPECIAL_TRASH },
	{ "Junk", STORE_SPECIAL_JUNK },
	{ "Archive", STORE_SPECIAL_ARCHIVE },
};

int mailbox_create_defaults_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	for (size_t i = 0; i < sizeof(default_mailboxes) / sizeof(default_mailboxes[0]); i++) {
		uint32_t id;
		int r = mailbox_create_txn(store, txn, user_id, default_mailboxes[i].name,
					   default_mailboxes[i].special, &id);
		if (r < 0)
			return r;
		if (r == 1) {
			/* Default folders are subscribed so every client shows them. */
			r = mailbox_info_subscribe_txn(store, txn, id, true);
			if (r < 0)
				return r;
		}
	}
	return 1;
}

/* ---- state records ---- */

int mboxstate_get(struct store *store, DB_TXN *txn, uint32_t mailbox_id, struct mboxstate *st,
		  bool rmw)
{
	uint8_t key[4], buf[MBOXSTATE_RECLEN];
	size_t len;
	be32_put(key, mailbox_id);
	int r = store_get(store, DBI_MBOXSTATE, txn, key, 4, buf, sizeof(buf), &len,
			  rmw ? DB_RMW : txn != NULL ? DB_READ_COMMITTED : 0);
	if (r <= 0)
		return r;
	struct unpack u;
	unpack_init(&u, buf, len);
	if (unpack_u8(&u) != MBOXSTATE_VERSION)
		return store_err(store, "mboxstate.db: record %u has an unknown version", mailbox_id);
	st->flags = unpack_u8(&u);
	unpack_u16(&u);
	st->user_id = unpack_u32(&u);
	st->uidvalidity = unpack_u32(&u);
	st->uidnext = unpack_u32(&u);
	st->highestmodseq = unpack_u64(&u);
	st->exists = unpack_u32(&u);
	st->unseen = unpack_u32(&u);
	st->deleted = unpack_u32(&u);
	st->recent_uid = unpack_u32(&u);
	st->bytes = unpack_u64(&u);
	if (u.error)
		return store_err(store, "mboxstate.db: record %u is truncated", mailbox_id);
	return (st->flags & MBOXSTATE_FLAG_GONE) ? 0 : 1;
}

static void mboxstate_pack(const struct mboxstate *st, uint8_t buf[MBOXSTATE_RECLEN], size_t *len_r)
{
	struct pack p;
	pack_init(&p, buf, MBOXSTATE_RECLEN);
	pack_u8(&p, MBOXSTATE_VERSION);
	pack_u8(&p, st->flags);
	pack_u16(&p, 0);
	pack_u32(&p, st->user_id);
	pack_u32(&p, st->uidvalidity);
	pack_u32(&p, st->uidnext);
	pack_u64(&p, st->highestmodseq);
	pack_u32(&p, st->exists);
	pack_u32(&p, st->unseen);
	pack_u32(&p, st->deleted);
	pack_u32(&p, st->recent_uid);
	pack_u64(&p, st->bytes);
	*len_r = p.len;
}

int mboxstate_put(struct store *store, DB_TXN *txn, uint32_t mailbox_id, const struct mboxstate *st)
{
	uint8_t key[4], buf[MBOXSTATE_RECLEN];
	size_t len;
	be32_put(key, mailbox_id);
	mboxstate_pack(st, buf, &len);
	return store_put(store, DBI_MBOXSTATE, txn, key, 4, buf, len, 0);
}

/* ---- names ---- */

void mailbox_name_canonical(const char *name, char *dst, size_t dstsize)
{
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '/'))
		snprintf(dst, dstsize, "INBOX%s", name + 5);
	else
		snprintf(dst, dstsize, "%s", name);
}

/* Accepts well-formed UTF-8 without controls (C0, DEL, C1). */
static bool utf8_clean(const unsigned char *s)
{
	while (*s != '\0') {
		unsigned c = *s;
		int n;
		uint32_t cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			s++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
		else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
		else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
		else return false;
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		s += n + 1;
	}
	return true;
}

bool store_mailbox_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > STORE_MAILBOX_NAME_MAX || !utf8_clean((const unsigned char *)name))
		return false;
	unsigned levels = 0;
	const char *p = name;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		/* '*' and '%' are LIST wildcards: a name holding them could never be listed. */
		if (memchr(p, '*', n) != NULL || memchr(p, '%', n) != NULL)
			return false;
		if (++levels > STORE_MAILBOX_DEPTH_MAX)
			return false;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return true;
}

static size_t mailbox_key(uint8_t *key, uint32_t user_id, const char *name)
{
	size_t n = strlen(name);
	be32_put(key, user_id);
	memcpy(key + 4, name, n);
	return 4 + n;
}

/* ---- info records: id -> user, name, special-use, subscription ---- */

struct mailbox_info {
	uint32_t user_id;
	uint32_t special;
	bool subscribed;
	char name[STORE_MAILBOX_NAME_MAX + 1];
};

static int info_get(struct store *store, DB_TXN *txn, uint32_t id, struct mailbox_info *info,
		    bool rmw)
{
	uint8_t key[4], buf[16 + STORE_MAILBOX_NAME_MAX];
	size_t len;
	be32_put(key, id);
	int r = store_get(store, DBI_MAILBOX_INFO, txn, key, 4, buf, sizeof(buf), &len,
			  rmw ? DB_RMW : 0);
	if (r <= 0)
		return r;
	struct unpack u;
	unpack_init(&u, buf, len);
	if (unpack_u8(&u) != MAILBOX_INFO_VERSION)
		return store_err(store, "mailbox_info.db: record %u has an unknown version", id);
	info->user_id = unpack_u32(&u);
	info->special = unpack_u32(&u);
	info->subscribed = unpack_u8(&u) != 0;
	unpack_str(&u, info->name, sizeof(info->name));
	if (u.error)
		return store_err(store, "mailbox_info.db: record %u is damaged", id);
	return 1;
}

static int info_put(struct store *store, DB_TXN *txn, uint32_t id, const struct mailbox_info *info)
{
	uint8_t key[4], buf[16 + STORE_MAILBOX_NAME_MAX];
	struct pack p;
	be32_put(key, id);
	pack_init(&p, buf, sizeof(buf));
	pack_u8(&p, MAILBOX_INFO_VERSION);
	pack_u32(&p, info->user_id);
	pack_u32(&p, info->special);
	pack_u8(&p, info->subscribed);
	pack_str(&p, info->name);
	if (p.overflow)
		return store_err(store, "mailbox name too long");
	return store_put(store, DBI_MAILBOX_INFO, txn, key, 4, buf, p.len, 0);
}

int mailbox_info_subscribe_txn(struct store *store, DB_TXN *txn, uint32_t id, bool on)
{
	struct mailbox_info info;
	int r = info_get(store, txn, id, &info, true);
	if (r <= 0)
		return r;
	info.subscribed = on;
	return info_put(store, txn, id, &info);
}

/* ---- subscriptions of names without a mailbox ----
 * A subscription is to a name and outlives the mailbox (RFC 3501 6.3.4,
 * 6.3.6): DELETE of a subscribed mailbox leaves its name subscribed, until
 * UNSUBSCRIBE, or a CREATE or RENAME of that name, which takes it back as
 * the mailbox's flag. Such a name is kept in mailbox_info.db beside the
 * info records, keyed (u32 user_id, name) as in mailboxes.db: never 4
 * bytes long, so never a mailbox id; only each_gone_sub walks that
 * database. An existing store needs nothing: it simply has none. */

#define GONE_SUB_VERSION 1

static int gone_sub_put(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name)
{
	uint8_t key[MAILBOX_KEY_MAX], val = GONE_SUB_VERSION;
	return store_put(store, DBI_MAILBOX_INFO, txn, key, mailbox_key(key, user_id, name), &val,
			 1, 0);
}

/* Removes the name's record: 1 it was there, 0 not, < 0 error. */
static int gone_sub_take(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name)
{
	uint8_t key[MAILBOX_KEY_MAX];
	return store_del(store, DBI_MAILBOX_INFO, txn, key, mailbox_key(key, user_id, name));
}

/* Calls cb for each of the user's subscribed names without a mailbox (a
 * cursor over the user's prefix, skipping the info record whose id has
 * the same four bytes). cb returns 0 to go on. */
static int each_gone_sub(struct store *store, DB_TXN *txn, uint32_t user_id,
			 int (*cb)(const char *name, void *ctx), void *ctx)
{
	DB *db = store_db(store, DBI_MAILBOX_INFO);
	DBC *cur;
	uint8_t kbuf[MAILBOX_KEY_MAX], vbuf[16 + STORE_MAILBOX_NAME_MAX];
	int ret = db->cursor(db, txn, &cur, 0), r = 0;
	if (ret != 0)
		return store_dberr(store, ret, "mailbox_info cursor");
	be32_put(kbuf, user_id);
	DBT k = { .data = kbuf, .size = 4, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	for (ret = cur->get(cur, &k, &v, DB_SET_RANGE); ret == 0 && r == 0;
	     ret = cur->get(cur, &k, &v, DB_NEXT)) {
		if (k.size < 4 || be32_get(kbuf) != user_id)
			break;
		if (k.size == 4)
			continue;
		char name[STORE_MAILBOX_NAME_MAX + 1];
		size_t n = k.size - 4 < STORE_MAILBOX_NAME_MAX ? k.size - 4 : STORE_MAILBOX_NAME_MAX;
		memcpy(name, kbuf + 4, n);
		name[n] = '\0';
		r = cb(name, ctx);
	}
	if (r == 0 && ret != 0 && ret != DB_NOTFOUND)
		r = store_dberr(store, ret, "mailbox_info cursor");
	cur->close(cur);
	return r;
}

static void fill_mailbox(struct store_mailbox *mb, uint32_t id, const struct mailbox_info *info,
			 const struct mboxstate *st)
{
	memset(mb, 0, sizeof(*mb));
	mb->id = id;
	mb->user_id = info->user_id;
	snprintf(mb->name, sizeof(mb->name), "%s", info->name);
	mb->special_use = info->special;
	mb->subscribed = info->subscribed;
	mb->uidvalidity = st->uidvalidity;
	mb->uidnext = st->uidnext;
	mb->highestmodseq = st->highestmodseq;
	mb->exists = st->exists;
	mb->unseen = st->unseen;
	mb->deleted = st->deleted;
	mb->recent_uid = st->recent_uid;
	mb->bytes = st->bytes;
}

static int mailbox_load(struct store *store, DB_TXN *txn, uint32_t id, struct store_mailbox *mb)
{
	struct mailbox_info info;
	struct mboxstate st;
	int r = info_get(store, txn, id, &info, false);
	if (r <= 0)
		return r;
	r = mboxstate_get(store, txn, id, &st, false);
	if (r <= 0)
		return r;
	fill_mailbox(mb, id, &info, &st);
	return 1;
}

static int id_by_name(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name,
		      uint32_t *id_r, uint32_t flags)
{
	uint8_t key[MAILBOX_KEY_MAX], val[4];
	size_t len;
	int r = store_get(store, DBI_MAILBOXES, txn, key, mailbox_key(key, user_id, name), val,
			  sizeof(val), &len, flags);
	if (r <= 0)
		return r;
	*id_r = be32_get(val);
	return 1;
}

int mailbox_inbox_id_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint32_t *id_r)
{
	return id_by_name(store, txn, user_id, "INBOX", id_r, 0);
}

int mailbox_inbox_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint32_t *id_r,
		      uint32_t *uidvalidity_r)
{
	struct mboxstate st;
	*id_r = *uidvalidity_r = 0;
	int r = id_by_name(store, txn, user_id, "INBOX", id_r, 0);
	if (r > 0)
		r = mboxstate_get(store, txn, *id_r, &st, false);
	if (r <= 0) {
		*id_r = 0;
		return r;
	}
	*uidvalidity_r = st.uidvalidity;
	return 1;
}

int mailbox_id_txn(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name,
		   uint32_t *id_r)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	if (strlen(name) > STORE_MAILBOX_NAME_MAX)
		return 0;
	mailbox_name_canonical(name, canon, sizeof(canon));
	return id_by_name(store, txn, user_id, canon, id_r, 0);
}

/* ---- create ---- */



/* Calls cb for each mailbox key of the user (cursor over the user's prefix). */
static int each_mailbox(struct store *store, DB_TXN *txn, uint32_t user_id,
			int (*cb)(const char *name, uint32_t id, void *ctx), void *ctx)
{
	DBC *cur;
	uint8_t kbuf[MAILBOX_KEY_MAX], vbuf[4];
	int ret = store_db(store, DBI_MAILBOXES)->cursor(store_db(store, DBI_MAILBOXES), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "mailboxes cursor");
	be32_put(kbuf, user_id);
	DBT k = { .data = kbuf, .size = 4, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	int r = 0;
	ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	while (ret == 0) {
		if (k.size < 4 || be32_get(kbuf) != user_id || v.size != 4)
			break;
		char name[STORE_MAILBOX_NAME_MAX + 1];
		size_t n = k.size - 4 < STORE_MAILBOX_NAME_MAX ? k.size - 4 : STORE_MAILBOX_NAME_MAX;
		memcpy(name, kbuf + 4, n);
		name[n] = '\0';
		r = cb(name, be32_get(vbuf), ctx);
		if (r != 0)
			break;
		ret = cur->get(cur, &k, &v, DB_NEXT);
	}
	if (r == 0 && ret != 0 && ret != DB_NOTFOUND)
		r = store_dberr(store, ret, "mailboxes cursor");
	cur->close(cur);
	return r;
}

/* The first of the user's mailboxes with one of the `special` attributes:
 * 1 found, 0 none. A walk over the user's mailboxes (a few dozen). */
struct special_walk {
	struct store *store;
	DB_TXN *txn;
	unsigned special;
	uint32_t id;
	bool found;
};

static int special_cb(const char *name, uint32_t id, void *ctx)
{
	struct special_walk *w = ctx;
	struct mailbox_info info;
	int r;

	(void)name;
	r = info_get(w->store, w->txn, id, &info, false);
	if (r < 0)
		return r;
	if (r == 1 && (info.special & w->special) != 0) {
		w->id = id;
		w->found = true;
		return 1;
	}
	return 0;
}

int mailbox_special_id_txn(struct store *store, DB_TXN *txn, uint32_t user_id, unsigned special,
			   uint32_t *id_r)
{
	struct special_walk w = { .store = store, .txn = txn, .special = special };
	int r = each_mailbox(store, txn, user_id, special_cb, &w);

	if (r < 0)
		return r;
	if (w.found)
		*id_r = w.id;
	return w.found ? 1 : 0;
}

static int count_cb(const char *name, uint32_t id, void *ctx)
{
	(void)name; (void)id;
	(*(unsigned *)ctx)++;
	return 0;
}

int mailbox_create_txn(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name,
		       unsigned special_use, uint32_t *id_r)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	uint8_t key[MAILBOX_KEY_MAX], val[4], buf[MBOXSTATE_RECLEN];
	uint32_t id;
	size_t len;

	if (!store_mailbox_name_valid(name))
		return store_refuse(store, "invalid mailbox name");
	mailbox_name_canonical(name, canon, sizeof(canon));
	int r = id_by_name(store, txn, user_id, canon, &id, DB_RMW);
	if (r != 0)
		return r < 0 ? r : store_refuse(store, "mailbox already exists");
	unsigned count = 0;
	r = each_mailbox(store, txn, user_id, count_cb, &count);
	if (r < 0)
		return r;
	if (count >= STORE_MAILBOXES_MAX)
		return store_refuse(store, "too many mailboxes (limit %d)", STORE_MAILBOXES_MAX);

	uint64_t uidvalidity;
	r = store_counter_next(store, txn, "uidvalidity", &uidvalidity);
	if (r < 0)
		return r;
	struct mboxstate st = {
		.user_id = user_id, .uidvalidity = (uint32_t)uidvalidity, .uidnext = 1,
		.highestmodseq = 1, .recent_uid = 1,
	};
	mboxstate_pack(&st, buf, &len);
	r = store_append(store, DBI_MBOXSTATE, txn, buf, len, &id);
	if (r < 0)
		return r;
	struct mailbox_info info = { .user_id = user_id, .special = special_use };
	snprintf(info.name, sizeof(info.name), "%s", canon);
	/* a name still subscribed since its DELETE is subscribed again */
	if ((r = gone_sub_take(store, txn, user_id, canon)) < 0)
		return r;
	info.subscribed = r == 1;
	be32_put(val, id);
	r = store_put(store, DBI_MAILBOXES, txn, key, mailbox_key(key, user_id, canon), val, 4, 0);
	if (r < 0)
		return r;
	r = info_put(store, txn, id, &info);
	if (r < 0)
		return r;
	*id_r = id;
	return 1;
}

struct create_ctx {
	uint32_t user_id;
	const char *name;
	unsigned special;
	uint32_t id;
};

static int create_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct create_ctx *c = ctx;
	struct store_user user;
	/* a session of a user deleted meanwhile would make a mailbox without
	 * an owner (the users record first: the lock order) */
	int r = user_get_txn(store, txn, c->user_id, &user);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such user");
	return mailbox_create_txn(store, txn, c->user_id, c->name, c->special, &c->id);
}

int store_mailbox_create(struct store *store, uint32_t user_id, const char *name,
			 unsigned special_use, uint32_t *id_r, const char **error_r)
{
	struct create_ctx c = { user_id, name, special_use, 0 };
	int r = store_write(store, true, create_txn, &c, error_r);
	if (r == 1 && id_r != NULL)
		*id_r = c.id;
	return r;
}

/* ---- lookups ---- */

struct find_ctx {
	uint32_t user_id;
	uint32_t id;
	const char *name;
	struct store_mailbox *mb;
};

static int find_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct find_ctx *c = ctx;
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	uint32_t id = c->id;
	if (c->name != NULL) {
		mailbox_name_canonical(c->name, canon, sizeof(canon));
		int r = id_by_name(store, txn, c->user_id, canon, &id, 0);
		if (r <= 0)
			return r;
	}
	return mailbox_load(store, txn, id, c->mb);
}

int store_mailbox_find(struct store *store, uint32_t user_id, const char *name,
		       struct store_mailbox *mailbox_r, const char **error_r)
{
	if (strlen(name) > STORE_MAILBOX_NAME_MAX)
		return 0;
	struct find_ctx c = { user_id, 0, name, mailbox_r };
	return store_read(store, find_txn, &c, error_r);
}

int store_mailbox_get(struct store *store, uint32_t mailbox_id, struct store_mailbox *mailbox_r,
		      const char **error_r)
{
	struct find_ctx c = { 0, mailbox_id, NULL, mailbox_r };
	return store_read(store, find_txn, &c, error_r);
}

/* The list is collected inside the snapshot and handed out after it ends,
 * so callers may do I/O in the callback (at most STORE_MAILBOXES_MAX). */
struct list_ctx {
	struct store *store;
	DB_TXN *txn;
	uint32_t user_id;
	struct store_mailbox *items;
	size_t n, cap;
};

/* Room for one more item: 0, or -1 (out of memory, said). */
static int list_grow(struct list_ctx *c)
{
	if (c->n < c->cap)
		return 0;
	size_t cap = c->cap ? c->cap * 2 : 16;
	struct store_mailbox *items = reallocarray(c->items, cap, sizeof(*items));
	if (items == NULL)
		return store_err(c->store, "out of memory");
	c->items = items;
	c->cap = cap;
	return 0;
}

static int list_one(const char *name, uint32_t id, void *ctx)
{
	struct list_ctx *c = ctx;
	(void)name;
	if (list_grow(c) < 0)
		return -1;
	int r = mailbox_load(c->store, c->txn, id, &c->items[c->n]);
	if (r < 0)
		return r;
	if (r == 1)
		c->n++;
	return 0;
}

static int list_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct list_ctx *c = ctx;
	c->store = store;
	c->txn = txn;
	c->n = 0;
	int r = each_mailbox(store, txn, c->user_id, list_one, c);
	return r < 0 ? r : 1;
}

/* Collects the user's items in one snapshot (txn_fn), then calls cb for
 * each outside it: the count, cb's first non-zero return, or < 0. */
static int list_run(struct store *store, int (*txn_fn)(struct store *, DB_TXN *, void *),
		    uint32_t user_id, int (*cb)(const struct store_mailbox *mailbox, void *ctx),
		    void *ctx, const char **error_r)
{
	struct list_ctx c = { .user_id = user_id };
	int r = store_read(store, txn_fn, &c, error_r);
	if (r == 1) {
		r = (int)c.n;
		for (size_t i = 0; i < c.n; i++) {
			int s = cb(&c.items[i], ctx);
			if (s != 0) {
				r = s;
				break;
			}
		}
	}
	free(c.items);
	return r;
}

int store_mailbox_list(struct store *store, uint32_t user_id,
		       int (*cb)(const struct store_mailbox *mailbox, void *ctx), void *ctx,
		       const char **error_r)
{
	return list_run(store, list_txn, user_id, cb, ctx, error_r);
}

static int gone_list_one(const char *name, void *ctx)
{
	struct list_ctx *c = ctx;
	if (list_grow(c) < 0)
		return -1;
	struct store_mailbox *mb = &c->items[c->n++];
	memset(mb, 0, sizeof(*mb));
	mb->user_id = c->user_id;
	snprintf(mb->name, sizeof(mb->name), "%s", name);
	mb->subscribed = true;
	return 0;
}

static int gone_list_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct list_ctx *c = ctx;
	c->store = store;
	c->n = 0;
	int r = each_gone_sub(store, txn, c->user_id, gone_list_one, c);
	return r < 0 ? r : 1;
}

int store_mailbox_list_gone_subscribed(struct store *store, uint32_t user_id,
				       int (*cb)(const struct store_mailbox *mailbox, void *ctx),
				       void *ctx, const char **error_r)
{
	return list_run(store, gone_list_txn, user_id, cb, ctx, error_r);
}

/* ---- delete ---- */

static int delete_by_id_txn(struct store *store, DB_TXN *txn, uint32_t id,
			    const struct mailbox_info *info)
{
	struct mboxstate st;
	uint8_t key[MAILBOX_KEY_MAX], idkey[4];
	int r = mboxstate_get(store, txn, id, &st, true);
	if (r <= 0)
		return r;
	r = msg_delete_all_txn(store, txn, id);
	if (r < 0)
		return r;
	r = quota_add_txn(store, txn, info->user_id, -(int64_t)st.bytes, -(int32_t)st.exists, false);
	if (r < 0)
		return r;
	/* The state record stays, marked gone: its id is never reused, so a
	 * stale session can never see another mailbox's messages. */
	st.flags |= MBOXSTATE_FLAG_GONE;
	st.exists = st.unseen = st.deleted = 0;
	st.bytes = 0;
	r = mboxstate_put(store, txn, id, &st);
	if (r < 0)
		return r;
	be32_put(idkey, id);
	if ((r = store_del(store, DBI_MAILBOX_INFO, txn, idkey, 4)) < 0 ||
	    (r = store_del(store, DBI_MAILBOXES, txn, key, mailbox_key(key, info->user_id, info->name))) < 0)
		return r;
	return 1;
}

struct name_ctx {
	uint32_t user_id;
	const char *name;
	const char *to;
	bool on;
	unsigned special;
	uint32_t id;
	uint32_t value;
	uint32_t limit;
};

static int gone_count_cb(const char *name, void *ctx)
{
	(void)name;
	(*(unsigned *)ctx)++;
	return 0;
}

/* Collects the names (STORE_MAILBOX_NAME_MAX + 1 bytes each) for deletion
 * after the scan. */
struct gone_names {
	struct store *store;
	char (*names)[STORE_MAILBOX_NAME_MAX + 1];
	size_t n, cap;
};

static int gone_collect_cb(const char *name, void *ctx)
{
	struct gone_names *g = ctx;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		void *p = reallocarray(g->names, cap, sizeof(*g->names));
		if (p == NULL)
			return store_err(g->store, "out of memory");
		g->names = p;
		g->cap = cap;
	}
	snprintf(g->names[g->n++], sizeof(g->names[0]), "%s", name);
	return 0;
}

static int child_cb(const char *name, uint32_t id, void *ctx)
{
	const char *parent = ctx;
	size_t n = strlen(parent);
	(void)id;
	return strncmp(name, parent, n) == 0 && name[n] == '/' ? 1 : 0;
}

static int delete_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct name_ctx *c = ctx;
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	struct mailbox_info info;
	uint32_t id;
	mailbox_name_canonical(c->name, canon, sizeof(canon));
	if (strcmp(canon, "INBOX") == 0)
		return store_refuse(store, "INBOX cannot be deleted");
	int r = id_by_name(store, txn, c->user_id, canon, &id, DB_RMW);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such mailbox");
	r = each_mailbox(store, txn, c->user_id, child_cb, canon);
	if (r != 0)
		return r < 0 ? r : store_refuse(store, "mailbox has children: delete them first");
	r = info_get(store, txn, id, &info, true);
	if (r <= 0)
		return r < 0 ? r : store_err(store, "mailbox_info.db: record %u missing", id);
	c->id = id;
	r = delete_by_id_txn(store, txn, id, &info);
	if (r <= 0 || !info.subscribed)
		return r;
	/* the name stays subscribed (at most as many such names as mailboxes) */
	unsigned count = 0;
	if ((r = each_gone_sub(store, txn, c->user_id, gone_count_cb, &count)) < 0)
		return r;
	return count < STORE_MAILBOXES_MAX ? gone_sub_put(store, txn, c->user_id, canon) : 1;
}

int store_mailbox_delete(struct store *store, uint32_t user_id, const char *name,
			 const char **error_r)
{
	struct name_ctx c = { .user_id = user_id, .name = name };
	int r = store_write(store, true, delete_txn, &c, error_r);
	if (r == 1)
		store_notify_gone(store, c.id);
	return r;
}

struct all_ctx {
	uint32_t *ids;
	size_t n;
};

static int all_cb(const char *name, uint32_t id, void *ctx)
{
	struct all_ctx *c = ctx;
	(void)name;
	if (c->n < STORE_MAILBOXES_MAX)
		c->ids[c->n++] = id;
	return 0;
}

int mailbox_delete_all_txn(struct store *store, DB_TXN *txn, uint32_t user_id,
			   uint32_t ids_r[STORE_MAILBOXES_MAX], size_t *n_r)
{
	struct all_ctx c = { .ids = ids_r };
	int r = each_mailbox(store, txn, user_id, all_cb, &c);
	for (size_t i = 0; r >= 0 && i < c.n; i++) {
		struct mailbox_info info;
		r = info_get(store, txn, c.ids[i], &info, true);
		if (r == 1)
			r = delete_by_id_txn(store, txn, c.ids[i], &info);
	}
	*n_r = c.n;
	/* and the names left subscribed by deletes */
	struct gone_names g = { .store = store };
	if (r >= 0)
		r = each_gone_sub(store, txn, user_id, gone_collect_cb, &g);
	for (size_t i = 0; r >= 0 && i < g.n; i++)
		r = gone_sub_take(store, txn, user_id, g.names[i]);
	free(g.names);
	return r < 0 ? r : 1;
}

/* ---- rename ---- */

struct rename_item {
	uint32_t id;
	char name[STORE_MAILBOX_NAME_MAX + 1];
};
struct rename_list {
	const char *from;
	struct rename_item *items;
	size_t n;
};

static int rename_collect(const char *name, uint32_t id, void *ctx)
{
	struct rename_list *l = ctx;
	size_t n = strlen(l->from);
	if (strcmp(name, l->from) == 0 || (strncmp(name, l->from, n) == 0 && name[n] == '/')) {
		if (l->n >= STORE_MAILBOXES_MAX)
			return 0;
		l->items[l->n].id = id;
		snprintf(l->items[l->n].name, sizeof(l->items[0].name), "%s", name);
		l->n++;
	}
	return 0;
}

static int rename_one(struct store *store, DB_TXN *txn, uint32_t user_id, uint32_t id,
		      const char *oldname, const char *newname)
{
	uint8_t key[MAILBOX_KEY_MAX], val[4];
	struct mailbox_info info;
	int r = info_get(store, txn, id, &info, true);
	if (r <= 0)
		return r < 0 ? r : store_err(store, "mailbox_info.db: record %u missing", id);
	if ((r = store_del(store, DBI_MAILBOXES, txn, key, mailbox_key(key, user_id, oldname))) < 0)
		return r;
	be32_put(val, id);
	if ((r = store_put(store, DBI_MAILBOXES, txn, key, mailbox_key(key, user_id, newname), val, 4, 0)) < 0)
		return r;
	/* a subscription the new name kept from a DELETE is the mailbox's now */
	if ((r = gone_sub_take(store, txn, user_id, newname)) < 0)
		return r;
	info.subscribed |= r == 1;
	snprintf(info.name, sizeof(info.name), "%s", newname);
	return info_put(store, txn, id, &info);
}

static int rename_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct name_ctx *c = ctx;
	char from[STORE_MAILBOX_NAME_MAX + 1], to[STORE_MAILBOX_NAME_MAX + 1];
	uint32_t id;
	if (!store_mailbox_name_valid(c->to))
		return store_refuse(store, "invalid mailbox name");
	mailbox_name_canonical(c->name, from, sizeof(from));
	mailbox_name_canonical(c->to, to, sizeof(to));
	size_t fromlen = strlen(from);
	if (strcmp(to, "INBOX") == 0 || (strncmp(to, from, fromlen) == 0 && (to[fromlen] == '/' || to[fromlen] == '\0')))
		return store_refuse(store, "cannot rename a mailbox into itself or onto INBOX");
	/* a new INBOX is named in the user's record (user_inbox_point_txn) */
	int r = strcmp(from, "INBOX") == 0 ? user_lock_txn(store, txn, c->user_id) : 1;
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such user");
	r = id_by_name(store, txn, c->user_id, from, &id, DB_RMW);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such mailbox");
	if ((r = id_by_name(store, txn, c->user_id, to, &c->id, 0)) != 0)
		return r < 0 ? r : store_refuse(store, "target mailbox already exists");

	if (strcmp(from, "INBOX") == 0) {
		/* RFC 3501 6.3.5: INBOX's messages move to the new name and an
		 * empty INBOX remains; its children stay where they are. The
		 * mailbox itself takes the new name (no message is copied) and a
		 * fresh INBOX is made, subscribed if INBOX was (a subscription
		 * is to a name, RFC 3501 6.3.6). The renamed mailbox's MODSEQ
		 * moves so that the sessions which have it selected as INBOX
		 * look (imap_view_sync) and find that it no longer is. */
		struct mailbox_info info;
		struct mboxstate st;
		if ((r = info_get(store, txn, id, &info, true)) <= 0)
			return r < 0 ? r : store_err(store, "mailbox_info.db: record %u missing", id);
		if ((r = mboxstate_get(store, txn, id, &st, true)) <= 0)
			return r < 0 ? r : store_err(store, "mboxstate.db: record %u missing", id);
		st.highestmodseq++;
		if ((r = mboxstate_put(store, txn, id, &st)) < 0 ||
		    (r = rename_one(store, txn, c->user_id, id, from, to)) < 0)
			return r;
		uint32_t newid;
		r = mailbox_create_txn(store, txn, c->user_id, "INBOX", STORE_SPECIAL_NONE, &newid);
		if (r == 1 && info.subscribed)
			r = mailbox_info_subscribe_txn(store, txn, newid, true);
		if (r == 1)
			r = user_inbox_point_txn(store, txn, c->user_id);
		c->id = id;
		return r;
	}
	struct rename_list l = { .from = from };
	l.items = calloc(STORE_MAILBOXES_MAX, sizeof(*l.items));
	if (l.items == NULL)
		return store_err(store, "out of memory");
	r = each_mailbox(store, txn, c->user_id, rename_collect, &l);
	for (size_t i = 0; r >= 0 && i < l.n; i++) {
		char newname[STORE_MAILBOX_NAME_MAX + 2];
		int n = snprintf(newname, sizeof(newname), "%s%s", to, l.items[i].name + fromlen);
		if (n < 0 || (size_t)n > STORE_MAILBOX_NAME_MAX || !store_mailbox_name_valid(newname)) {
			r = store_refuse(store, "the new name of %s would be too long", l.items[i].name);
			break;
		}
		uint32_t other;
		if ((r = id_by_name(store, txn, c->user_id, newname, &other, 0)) != 0) {
			r = r < 0 ? r : store_refuse(store, "%s already exists", newname);
			break;
		}
		r = rename_one(store, txn, c->user_id, l.items[i].id, l.items[i].name, newname);
	}
	free(l.items);
	return r < 0 ? r : 1;
}

int store_mailbox_rename(struct store *store, uint32_t user_id, const char *from, const char *to,
			 const char **error_r)
{
	struct name_ctx c = { .user_id = user_id, .name = from, .to = to };
	int r = store_write(store, true, rename_txn, &c, error_r);
	if (r == 1 && c.id != 0)
		store_notify_mailbox(store, c.id); /* INBOX renamed: wake its IDLE sessions */
	return r;
}

/* ---- attributes ---- */

static int subscribe_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct name_ctx *c = ctx;
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	uint32_t id;
	mailbox_name_canonical(c->name, canon, sizeof(canon));
	int r = id_by_name(store, txn, c->user_id, canon, &id, 0);
	if (r == 0) {
		/* a name left subscribed by DELETE: UNSUBSCRIBE removes it, and
		 * SUBSCRIBE finds it subscribed */
		uint8_t key[MAILBOX_KEY_MAX], val;
		size_t keylen = mailbox_key(key, c->user_id, canon);
		r = c->on ? store_get(store, DBI_MAILBOX_INFO, txn, key, keylen, &val, 1, NULL, 0)
			  : store_del(store, DBI_MAILBOX_INFO, txn, key, keylen);
		return r != 0 ? r : store_refuse(store, "no such mailbox");
	}
	if (r < 0)
		return r;
	return mailbox_info_subscribe_txn(store, txn, id, c->on);
}

int store_mailbox_subscribe(struct store *store, uint32_t user_id, const char *name, bool on,
			    const char **error_r)
{
	if (strlen(name) > STORE_MAILBOX_NAME_MAX)
		return 0;
	struct name_ctx c = { .user_id = user_id, .name = name, .on = on };
	return store_write(store, false, subscribe_txn, &c, error_r);
}

static int special_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct name_ctx *c = ctx;
	struct mailbox_info info;
	int r = info_get(store, txn, c->id, &info, true);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such mailbox");
	info.special = c->special;
	return info_put(store, txn, c->id, &info);
}

int store_mailbox_set_special(struct store *store, uint32_t mailbox_id, unsigned special_use,
			      const char **error_r)
{
	struct name_ctx c = { .id = mailbox_id, .special = special_use };
	return store_write(store, false, special_txn, &c, error_r);
}

static int claim_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct name_ctx *c = ctx;
	struct mboxstate st;
	int r = mboxstate_get(store, txn, c->id, &st, true);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such mailbox");
	c->value = st.recent_uid;
	/* not up to st.uidnext: what arrived after the caller looked would
	 * be claimed without being shown, \Recent in no session */
	if (st.recent_uid >= c->limit)
		return 1;
	st.recent_uid = c->limit;
	return mboxstate_put(store, txn, c->id, &st);
}

int store_mailbox_claim_recent(struct store *store, uint32_t mailbox_id, uint32_t uidnext,
			       uint32_t *recent_uid_r, const char **error_r)
{
	struct name_ctx c = { .id = mailbox_id, .limit = uidnext };
	int r = store_write(store, false, claim_txn, &c, error_r);
	/* \Recent is advisory: on a full disk the session claims nothing and
	 * goes on, so that the mailbox can still be read and emptied. */
	if (r < 0 && store_error_no_space(store)) {
		c.value = uidnext;
		r = 1;
	}
	if (r == 1)
		*recent_uid_r = c.value;
	return r;
}

int store_mailbox_modseq(struct store *store, uint32_t mailbox_id, uint64_t *modseq_r,
			 const char **error_r)
{
	struct mboxstate st;
	/* One record read without a transaction: the cheapest "changed?" test. */
	int r = mboxstate_get(store, NULL, mailbox_id, &st, false);
	if (r < 0 && error_r != NULL)
		*error_r = store_last_error(store);
	if (r == 1)
		*modseq_r = st.highestmodseq;
	return r < 0 ? -1 : r;
}
