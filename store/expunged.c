/* The expunge history of each mailbox: what QRESYNC's VANISHED and IMAP
 * sessions catching up read, and what `store maintain` prunes.
 *
 * expunged.db: (u32 mailbox_id, u64 modseq, u32 uid) -> i64 time of the
 * expunge (records written before 2026-11-28 have an empty value). The
 * key (mailbox_id, 0, 0) is the mailbox's horizon: the highest MODSEQ
 * whose record was pruned (u64), so a reader knows when the history it
 * asks for is no longer complete. Expunges are pruned oldest first. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "message.h"

#define KEY_LEN 16
/* Records deleted by one transaction of the pruning. */
#define PRUNE_BATCH 2000
/* Mailboxes one read transaction of the pruning looks at. */
#define SCAN_BATCH 10000

static void key_put(uint8_t key[KEY_LEN], uint32_t mailbox_id, uint64_t modseq, uint32_t uid)
{
	be32_put(key, mailbox_id);
	be64_put(key + 4, modseq);
	be32_put(key + 12, uid);
}

int expunged_record_put(struct store *store, DB_TXN *txn, uint32_t mailbox_id, uint64_t modseq,
			uint32_t uid)
{
	uint8_t key[KEY_LEN], when[8];
	key_put(key, mailbox_id, modseq, uid);
	be64_put(when, (uint64_t)time(NULL));
	return store_put(store, DBI_EXPUNGED, txn, key, KEY_LEN, when, sizeof(when), 0);
}

/* The mailbox's horizon (0 when nothing was pruned), 1; or -1. */
static int horizon_get(struct store *store, DB_TXN *txn, uint32_t mailbox_id, uint64_t *horizon_r,
		       uint32_t flags)
{
	uint8_t key[KEY_LEN], val[8];
	size_t len = 0;
	key_put(key, mailbox_id, 0, 0);
	int r = store_get(store, DBI_EXPUNGED, txn, key, KEY_LEN, val, sizeof(val), &len, flags);
	if (r < 0)
		return -1;
	*horizon_r = r == 1 && len == 8 ? be64_get(val) : 0;
	return 1;
}

struct since_ctx {
	uint32_t mailbox_id;
	uint64_t modseq;
	int (*cb)(uint32_t uid, uint64_t modseq, void *ctx);
	void *ctx;
	uint64_t horizon;
	int result;
};

static int since_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct since_ctx *c = ctx;
	DBC *cur;
	uint8_t kbuf[KEY_LEN];
	if (horizon_get(store, txn, c->mailbox_id, &c->horizon, 0) < 0)
		return -1;
	int ret = store_db(store, DBI_EXPUNGED)->cursor(store_db(store, DBI_EXPUNGED), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "expunged cursor");
	key_put(kbuf, c->mailbox_id, c->modseq + 1, 0);
	DBT k = { .data = kbuf, .size = KEY_LEN, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_PARTIAL };
	c->result = 0;
	ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	while (ret == 0 && k.size == KEY_LEN && be32_get(kbuf) == c->mailbox_id) {
		c->result++;
		int s = c->cb(be32_get(kbuf + 12), be64_get(kbuf + 4), c->ctx);
		if (s != 0) {
			c->result = s;
			break;
		}
		ret = cur->get(cur, &k, &v, DB_NEXT);
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND && c->result >= 0)
		return store_dberr(store, ret, "expunged cursor");
	return 1;
}

int store_msg_expunged_since(struct store *store, uint32_t mailbox_id, uint64_t modseq,
			     int (*cb)(uint32_t uid, uint64_t modseq, void *ctx), void *ctx,
			     uint64_t *forgotten_r, const char **error_r)
{
	struct since_ctx c = { .mailbox_id = mailbox_id, .modseq = modseq, .cb = cb, .ctx = ctx };
	int r = store_read(store, since_txn, &c, error_r);
	if (r < 0)
		return r;
	if (forgotten_r != NULL)
		*forgotten_r = c.horizon;
	return c.result;
}

/* ---- pruning ---- */

struct prune_ctx {
	uint32_t mailbox_id;   /* in: the mailbox; out (next_txn): the next one */
	uint64_t from;         /* the MODSEQ the batch starts at */
	int64_t cutoff;
	int64_t now;
	unsigned pruned;       /* in this transaction */
	bool more;             /* the batch ended before the mailbox's history did */
};

/* Whether the record under the cursor is due: no time yet, or old. */
static bool due(const DBT *v, const uint8_t *vbuf, int64_t cutoff)
{
	return v->size != 8 || (int64_t)be64_get(vbuf) <= cutoff;
}

/* Finds the first mailbox at or after c->mailbox_id whose oldest record is
 * due: 1 (c->mailbox_id set), 0 none left, 2 none among the next
 * SCAN_BATCH mailboxes (c->mailbox_id: where to go on). One cursor walk
 * that visits a mailbox's oldest record only, so a minute's maintenance
 * stays cheap with many mailboxes and little to forget. */
static int next_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct prune_ctx *c = ctx;
	DBC *cur;
	uint8_t kbuf[KEY_LEN], vbuf[8];
	int ret = store_db(store, DBI_EXPUNGED)->cursor(store_db(store, DBI_EXPUNGED), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "expunged cursor");
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	int r = 2;
	key_put(kbuf, c->mailbox_id, 0, 0);
	k.size = KEY_LEN;
	ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	for (unsigned n = 0; ret == 0 && n < SCAN_BATCH; n++) {
		if (k.size != KEY_LEN) {
			ret = EINVAL;
			break;
		}
		uint32_t mailbox_id = be32_get(kbuf);
		if (be64_get(kbuf + 4) == 0 &&
		    ((ret = cur->get(cur, &k, &v, DB_NEXT)) != 0 || be32_get(kbuf) != mailbox_id)) {
			/* a horizon alone: what follows is another mailbox's */
			if (ret == 0)
				c->mailbox_id = be32_get(kbuf);
			continue;
		}
		if (due(&v, vbuf, c->cutoff)) {
			c->mailbox_id = mailbox_id;
			r = 1;
			break;
		}
		if (mailbox_id == UINT32_MAX) {
			ret = DB_NOTFOUND;
			break;
		}
		c->mailbox_id = mailbox_id + 1;
		key_put(kbuf, c->mailbox_id, 0, 0);
		k.size = KEY_LEN;
		ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	}
	cur->close(cur);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return store_dberr(store, ret, "expunged cursor");
	return r;
}

/* Deletes the mailbox's oldest records up to the cutoff (at most a batch),
 * raises its horizon past them; stamps untimed records with now, so that
 * they go one history's length after the first maintenance that saw them. */
static int prune_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct prune_ctx *c = ctx;
	DBC *cur;
	uint8_t kbuf[KEY_LEN], vbuf[8], now[8];
	uint64_t horizon, highest = 0;
	c->pruned = 0;
	c->more = false;
	if (horizon_get(store, txn, c->mailbox_id, &horizon, DB_RMW) < 0)
		return -1;
	be64_put(now, (uint64_t)c->now);
	int ret = store_db(store, DBI_EXPUNGED)->cursor(store_db(store, DBI_EXPUNGED), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "expunged cursor");
	key_put(kbuf, c->mailbox_id, c->from, 0);
	DBT k = { .data = kbuf, .size = KEY_LEN, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	unsigned done = 0;
	ret = cur->get(cur, &k, &v, DB_SET_RANGE | DB_RMW);
	while (ret == 0 && k.size == KEY_LEN && be32_get(kbuf) == c->mailbox_id) {
		if (done++ == PRUNE_BATCH) {
			c->more = true;
			c->from = be64_get(kbuf + 4);
			break;
		}
		if (v.size != 8) {
			DBT stamp = { .data = now, .size = sizeof(now) };
			ret = cur->put(cur, &k, &stamp, DB_CURRENT);
		} else if (due(&v, vbuf, c->cutoff)) {
			highest = be64_get(kbuf + 4);
			ret = cur->del(cur, 0);
			c->pruned++;
		} else {
			break;   /* the rest is younger */
		}
		if (ret == 0)
			ret = cur->get(cur, &k, &v, DB_NEXT | DB_RMW);
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "expunged cursor");
	if (highest > horizon) {
		uint8_t hkey[KEY_LEN], hval[8];
		key_put(hkey, c->mailbox_id, 0, 0);
		be64_put(hval, highest);
		if (store_put(store, DBI_EXPUNGED, txn, hkey, KEY_LEN, hval, sizeof(hval), 0) < 0)
			return -1;
	}
	return 1;
}

int expunged_prune(struct store *store, int64_t cutoff, unsigned *pruned_r,
			 const char **error_r)
{
	struct prune_ctx c = { .mailbox_id = 0, .cutoff = cutoff, .now = (int64_t)time(NULL) };
	*pruned_r = 0;
	for (;;) {
		int r = store_read(store, next_txn, &c, error_r);
		if (r <= 0)
			return r;
		if (r == 2)
			continue;
		c.from = 1;
		do {
			/* Not durable: a crash forgets a pruning, which the next
			 * maintenance does again. */
			if (store_write(store, false, prune_txn, &c, error_r) < 0)
				return -1;
			*pruned_r += c.pruned;
		} while (c.more);
		if (c.mailbox_id == UINT32_MAX)
			return 0;
		c.mailbox_id++;
	}
}
