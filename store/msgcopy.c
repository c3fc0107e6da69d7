/* Messages: copy, move, expunge, and change tracking (CONDSTORE/QRESYNC). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "body.h"
#include "log.h"
#include "mailbox.h"
#include "message.h"
#include "program_kick.h"

/* Bodies whose last reference went in a transaction; their files are
 * unlinked after the commit (a crash in between leaves an orphan for
 * `store maintain`). */
struct freed_bodies {
	uint8_t (*ids)[STORE_BODY_ID_LEN];
	size_t n, cap;
};

static int freed_add(struct store *store, struct freed_bodies *f, const uint8_t *id)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		void *ids = reallocarray(f->ids, cap, STORE_BODY_ID_LEN);
		if (ids == NULL)
			return store_err(store, "out of memory");
		f->ids = ids;
		f->cap = cap;
	}
	memcpy(f->ids[f->n++], id, STORE_BODY_ID_LEN);
	return 0;
}

void body_unlink_files(struct store *store, const uint8_t (*ids)[STORE_BODY_ID_LEN], size_t n)
{
	char path[600];
	/* A backup copying bodies may still need them (store_backup): they
	 * are left to `store maintain`'s orphan collection. */
	if (n > 0 && backup_running(store))
		return;
	for (size_t i = 0; i < n; i++) {
		body_path(store, ids[i], path, sizeof(path) - 8);
		unlink(path);
		strcat(path, ".mime");
		unlink(path);
	}
}

/* Removes one message inside txn: record, modseq index, body reference.
 * With `record_expunge` it is also remembered for QRESYNC under the new
 * modseq. Updates *st but does not write it. */
static int remove_one(struct store *store, DB_TXN *txn, struct mboxstate *st,
		      struct msg_record *rec, bool record_expunge, struct freed_bodies *freed)
{
	struct store_msg *m = &rec->msg;
	uint8_t key[16];
	int r;
	be32_put(key, m->mailbox_id);
	be32_put(key + 4, m->uid);
	if ((r = store_del(store, DBI_MSGS, txn, key, 8)) < 0)
		return r;
	be64_put(key + 4, m->modseq);
	if ((r = store_del(store, DBI_MODSEQ, txn, key, 12)) < 0)
		return r;
	if ((r = sortidx_del_txn(store, txn, m)) < 0)
		return r;
	st->exists--;
	st->bytes -= m->size;
	if (!(m->flags & STORE_FLAG_SEEN))
		st->unseen--;
	if (m->flags & STORE_FLAG_DELETED)
		st->deleted--;
	if (record_expunge) {
		if ((r = expunged_record_put(store, txn, m->mailbox_id, ++st->highestmodseq,
					       m->uid)) < 0)
			return r;
	}
	r = body_ref_txn(store, txn, m->body_id, -1);
	if (r < 0)
		return r;
	if (r == 0 && freed != NULL && freed_add(store, freed, m->body_id) < 0)
		return -1;
	return 1;
}

/* ---- expunge ---- */

struct expunge_ctx {
	uint32_t mailbox_id;
	const uint32_t *uids;
	size_t n;
	struct freed_bodies freed;
	int count;
};

static int expunge_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct expunge_ctx *c = ctx;
	struct mboxstate st;
	c->freed.n = 0;
	c->count = 0;
	int r = mboxstate_get(store, txn, c->mailbox_id, &st, true);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such mailbox");
	struct msg_record *rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return store_err(store, "out of memory");
	uint64_t bytes = st.bytes;
	uint32_t exists = st.exists;
	for (size_t i = 0; i < c->n; i++) {
		r = msg_record_get(store, txn, c->mailbox_id, c->uids[i], rec, true);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		if ((r = remove_one(store, txn, &st, rec, true, &c->freed)) < 0)
			break;
		c->count++;
	}
	free(rec);
	if (r < 0)
		return r;
	if (c->count == 0)
		return 1;
	if ((r = quota_add_txn(store, txn, st.user_id, -(int64_t)(bytes - st.bytes),
			       -(int32_t)(exists - st.exists), false)) < 0)
		return r;
	r = mboxstate_put(store, txn, c->mailbox_id, &st);
	return r < 0 ? r : 1;
}

int store_msg_expunge(struct store *store, uint32_t mailbox_id, const uint32_t *uids, size_t n,
		      const char **error_r)
{
	struct expunge_ctx c = { .mailbox_id = mailbox_id, .uids = uids, .n = n };
	int r = store_write(store, true, expunge_txn, &c, error_r);
	if (r == 1) {
		r = c.count;
		body_unlink_files(store, (const uint8_t (*)[STORE_BODY_ID_LEN])c.freed.ids, c.freed.n);
		if (c.count > 0)
			store_notify_mailbox(store, mailbox_id);
	}
	free(c.freed.ids);
	return r;
}

/* Inside a mailbox delete: every message goes, no expunge records (the
 * mailbox id is never used again). Bodies left unreferenced are collected
 * by `store maintain` (their files are orphans then). */
int msg_delete_all_txn(struct store *store, DB_TXN *txn, uint32_t mailbox_id)
{
	DBC *cur;
	uint8_t kbuf[16], vbuf[MSG_RECORD_MAX];
	struct mboxstate st = { 0 };
	struct msg_record *rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return store_err(store, "out of memory");
	int ret = store_db(store, DBI_MSGS)->cursor(store_db(store, DBI_MSGS), txn, &cur, 0);
	if (ret != 0) {
		free(rec);
		return store_dberr(store, ret, "msgs cursor");
	}
	be32_put(kbuf, mailbox_id);
	be32_put(kbuf + 4, 0);
	DBT k = { .data = kbuf, .size = 8, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	int r = 0;
	ret = cur->get(cur, &k, &v, DB_SET_RANGE | DB_RMW);
	while (ret == 0 && k.size == 8 && be32_get(kbuf) == mailbox_id) {
		uint32_t uid = be32_get(kbuf + 4);
		if (msg_record_get(store, txn, mailbox_id, uid, rec, true) == 1 &&
		    (r = remove_one(store, txn, &st, rec, false, NULL)) < 0)
			break;
		ret = cur->get(cur, &k, &v, DB_NEXT | DB_RMW);
	}
	cur->close(cur);
	free(rec);
	if (r < 0)
		return r;
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "msgs cursor");
	/* Keywords and expunge records of the mailbox. */
	const enum store_dbi dbis[] = { DBI_KEYWORDS, DBI_EXPUNGED };
	for (size_t i = 0; i < 2; i++) {
		DB *db = store_db(store, dbis[i]);
		if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
			return store_dberr(store, ret, "cursor");
		be32_put(kbuf, mailbox_id);
		DBT k2 = { .data = kbuf, .size = 4, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
		DBT v2 = { .flags = DB_DBT_PARTIAL };
		ret = cur->get(cur, &k2, &v2, DB_SET_RANGE | DB_RMW);
		while (ret == 0 && k2.size >= 4 && be32_get(kbuf) == mailbox_id) {
			if ((ret = cur->del(cur, 0)) != 0)
				break;
			ret = cur->get(cur, &k2, &v2, DB_NEXT | DB_RMW);
		}
		cur->close(cur);
		if (ret != 0 && ret != DB_NOTFOUND)
			return store_dberr(store, ret, "deleting mailbox records");
	}
	return 1;
}

/* ---- copy and move ---- */

/* One source mailbox's part of a copy; freed and count are shared by the
 * parts of one transaction. */
struct copy_ctx {
	uint32_t src, dst;
	const uint32_t *uids;
	size_t n;
	bool move;
	uint32_t *new_uids;
	struct freed_bodies *freed;
	int count;
	uint32_t first_uid, last_uid; /* the copies' UIDs in dst: consecutive */
};

struct kwnames {
	char names[STORE_KEYWORDS_MAX][STORE_KEYWORD_MAX + 1];
	const char *ptrs[STORE_KEYWORDS_MAX];
	uint64_t used;
};

static int kw_collect(unsigned id, const char *name, void *ctx)
{
	struct kwnames *k = ctx;
	snprintf(k->names[id], sizeof(k->names[id]), "%s", name);
	k->used |= 1ULL << id;
	return 0;
}

/* Keyword ids are per mailbox: map the source bits to the target's. */
static int keywords_map(struct store *store, DB_TXN *txn, uint32_t dst, const struct kwnames *k,
			uint64_t src_mask, uint64_t *dst_mask_r)
{
	const char *names[STORE_KEYWORDS_MAX];
	size_t n = 0;
	for (unsigned id = 0; id < STORE_KEYWORDS_MAX; id++)
		if ((src_mask & (1ULL << id)) && (k->used & (1ULL << id)))
			names[n++] = k->names[id];
	return keyword_mask_txn(store, txn, dst, names, n, true, dst_mask_r);
}

static int copy_part_txn(struct store *store, DB_TXN *txn, struct copy_ctx *c)
{
	struct mboxstate src_state, dst_state;
	/* A copy into the same mailbox (IMAP allows it) works on one state. */
	struct mboxstate *src = &src_state;
	struct mboxstate *dst = c->src == c->dst ? &src_state : &dst_state;
	c->count = 0;
	if (c->new_uids != NULL)
		memset(c->new_uids, 0, c->n * sizeof(uint32_t));
	/* Lock order: mailbox states by ascending id, then messages. */
	uint32_t first = c->src < c->dst ? c->src : c->dst;
	uint32_t second = c->src < c->dst ? c->dst : c->src;
	struct mboxstate *a = first == c->src ? src : dst;
	struct mboxstate *b = first == c->src ? dst : src;
	int r = mboxstate_get(store, txn, first, a, true);
	if (r == 1 && second != first)
		r = mboxstate_get(store, txn, second, b, true);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such mailbox");
	if (src->user_id != dst->user_id)
		return store_refuse(store, "mailboxes belong to different users");

	struct kwnames *k = calloc(1, sizeof(*k));
	struct msg_record *rec = malloc(sizeof(*rec));
	if (k == NULL || rec == NULL) {
		free(k);
		free(rec);
		return store_err(store, "out of memory");
	}
	/* Source keyword names, read in this transaction. */
	DBC *cur;
	r = 0;
	if (store_db(store, DBI_KEYWORDS)->cursor(store_db(store, DBI_KEYWORDS), txn, &cur, 0) == 0) {
		uint8_t kb[5], vb[STORE_KEYWORD_MAX + 8];
		be32_put(kb, c->src);
		kb[4] = 0;
		DBT kk = { .data = kb, .size = 5, .ulen = 5, .flags = DB_DBT_USERMEM };
		DBT vv = { .data = vb, .ulen = sizeof(vb), .flags = DB_DBT_USERMEM };
		int ret = cur->get(cur, &kk, &vv, DB_SET_RANGE);
		while (ret == 0 && kk.size == 5 && be32_get(kb) == c->src) {
			if (vv.size >= 2 && vv.size - 1 <= STORE_KEYWORD_MAX && kb[4] < STORE_KEYWORDS_MAX) {
				char name[STORE_KEYWORD_MAX + 1];
				memcpy(name, vb + 1, vv.size - 1);
				name[vv.size - 1] = '\0';
				kw_collect(kb[4], name, k);
			}
			ret = cur->get(cur, &kk, &vv, DB_NEXT);
		}
		cur->close(cur);
		if (ret != 0 && ret != DB_NOTFOUND)
			r = store_dberr(store, ret, "keywords cursor");
	}
	uint64_t added_bytes = 0;
	uint32_t added = 0;
	uint64_t removed_bytes = 0;
	uint32_t removed = 0;
	for (size_t i = 0; r >= 0 && i < c->n; i++) {
		r = msg_record_get(store, txn, c->src, c->uids[i], rec, true);
		if (r <= 0)
			continue;
		struct msg_record copy = *rec;
		uint64_t kw;
		if ((r = keywords_map(store, txn, c->dst, k, rec->msg.keywords, &kw)) < 0)
			break;
		if (dst->uidnext == UINT32_MAX) {
			r = store_refuse(store, "target mailbox is out of UIDs");
			break;
		}
		copy.msg.mailbox_id = c->dst;
		copy.msg.uid = dst->uidnext++;
		copy.msg.modseq = ++dst->highestmodseq;
		copy.msg.keywords = kw;
		dst->exists++;
		dst->bytes += copy.msg.size;
		if (!(copy.msg.flags & STORE_FLAG_SEEN))
			dst->unseen++;
		if (copy.msg.flags & STORE_FLAG_DELETED)
			dst->deleted++;
		uint8_t key[12], val[4];
		be32_put(key, c->dst);
		be64_put(key + 4, copy.msg.modseq);
		be32_put(val, copy.msg.uid);
		if ((r = msg_record_put(store, txn, &copy)) < 0 ||
		    (r = store_put(store, DBI_MODSEQ, txn, key, 12, val, 4, 0)) < 0 ||
		    (r = sortidx_add_txn(store, txn, &copy.msg)) < 0 ||
		    (r = body_ref_txn(store, txn, copy.msg.body_id, 1)) < 0)
			break;
		if (c->move) {
			removed_bytes += rec->msg.size;
			removed++;
			if ((r = remove_one(store, txn, src, rec, true, c->freed)) < 0)
				break;
		}
		added_bytes += copy.msg.size;
		added++;
		if (c->new_uids != NULL)
			c->new_uids[i] = copy.msg.uid;
		if (c->count++ == 0)
			c->first_uid = copy.msg.uid;
		c->last_uid = copy.msg.uid;
	}
	free(k);
	free(rec);
	if (r < 0)
		return r;
	if (c->count == 0)
		return 1;
	/* A move changes nothing in the user's usage; a copy adds to it. */
	if (c->move)
		r = quota_add_txn(store, txn, src->user_id,
				  (int64_t)added_bytes - (int64_t)removed_bytes,
				  (int32_t)added - (int32_t)removed, false);
	else
		r = quota_add_txn(store, txn, src->user_id, (int64_t)added_bytes, (int32_t)added, true);
	if (r < 0)
		return r;
	if ((r = mboxstate_put(store, txn, c->dst, dst)) < 0)
		return r;
	if (c->move && c->src != c->dst && (r = mboxstate_put(store, txn, c->src, src)) < 0)
		return r;
	return 1;
}

/* What moving or copying mail from src to dst teaches the spam checker:
 * into Junk from elsewhere, spam; out of Junk (but to Trash), not spam. */
static int learn_class(uint32_t src_special, uint32_t dst_special)
{
	bool from_junk = src_special & STORE_SPECIAL_JUNK, to_junk = dst_special & STORE_SPECIAL_JUNK;
	if (to_junk && !from_junk)
		return 1;
	if (from_junk && !to_junk && !(dst_special & STORE_SPECIAL_TRASH))
		return 0;
	return -1;
}

/* After the commit, with spam_learn on: the learner for each part that
 * teaches something (its copies are consecutive UIDs of dst). Nothing
 * here can fail the copy: problems are logged. */
static void learn_after_copy(struct store *store, const struct copy_ctx *parts, size_t n,
			     uint32_t dst_mailbox_id)
{
	const struct config *config = store->config;
	struct store_mailbox dst, src;
	const char *error = NULL;
	if (!config->spam_learn || config->spamd == NULL ||
	    store_mailbox_get(store, dst_mailbox_id, &dst, &error) != 1)
		return;
	for (size_t i = 0; i < n; i++) {
		if (parts[i].count == 0 || store_mailbox_get(store, parts[i].src, &src, &error) != 1)
			continue;
		int spam = learn_class(src.special_use, dst.special_use);
		if (spam >= 0 && spam_learn_kick(config->spam_learn_program, config->path,
						 dst_mailbox_id, parts[i].first_uid, parts[i].last_uid,
						 spam == 1) < 0)
			log_warning("spam learning: cannot start the learner: %s", strerror(errno));
	}
}

struct copy_groups_ctx {
	struct copy_ctx *parts;
	size_t nparts;
	struct freed_bodies freed;
};

/* Every part in one transaction: a quota refusal in any undoes them all. */
static int copy_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct copy_groups_ctx *g = ctx;
	g->freed.n = 0;
	for (size_t i = 0; i < g->nparts; i++)
		g->parts[i].count = 0;
	for (size_t i = 0; i < g->nparts; i++) {
		int r = copy_part_txn(store, txn, &g->parts[i]);
		if (r <= 0)
			return r;
	}
	return 1;
}

int store_msg_copy_groups(struct store *store, const struct store_copy_group *groups, size_t n,
			  uint32_t dst_mailbox_id, bool move, const char **error_r)
{
	struct copy_groups_ctx g = { .parts = calloc(n > 0 ? n : 1, sizeof(*g.parts)), .nparts = n };
	if (g.parts == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		g.parts[i] = (struct copy_ctx){
			.src = groups[i].mailbox_id, .dst = dst_mailbox_id, .uids = groups[i].uids,
			.n = groups[i].n, .move = move, .new_uids = groups[i].new_uids,
			.freed = &g.freed,
		};
	int r = 1;
	/* A copy adds records; a move only moves them (and must work on a
	 * full disk: clients delete by moving to Trash). */
	if (!move && store_space_check(store, 0, error_r) == 0)
		r = -1;
	if (r == 1)
		r = store_write(store, true, copy_txn, &g, error_r);
	if (r == 1) {
		r = 0;
		body_unlink_files(store, (const uint8_t (*)[STORE_BODY_ID_LEN])g.freed.ids, g.freed.n);
		for (size_t i = 0; i < n; i++) {
			r += g.parts[i].count;
			if (move && g.parts[i].count > 0)
				store_notify_mailbox(store, g.parts[i].src);
		}
		if (r > 0) {
			store_notify_mailbox(store, dst_mailbox_id);
			learn_after_copy(store, g.parts, n, dst_mailbox_id);
		}
	}
	free(g.freed.ids);
	free(g.parts);
	return r;
}

int store_msg_copy(struct store *store, uint32_t src_mailbox_id, const uint32_t *uids, size_t n,
		   uint32_t dst_mailbox_id, bool move, uint32_t *new_uids_r, const char **error_r)
{
	const struct store_copy_group one = { src_mailbox_id, uids, n, new_uids_r };
	return store_msg_copy_groups(store, &one, 1, dst_mailbox_id, move, error_r);
}

/* ---- change tracking ---- */

struct since_ctx {
	uint32_t mailbox_id;
	uint64_t modseq;
	int (*cb)(const struct store_msg *msg, void *ctx);
	void *ctx;
	int result;
};

static int changed_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct since_ctx *c = ctx;
	DBC *cur;
	uint8_t kbuf[12], vbuf[4];
	struct msg_record *rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return store_err(store, "out of memory");
	int ret = store_db(store, DBI_MODSEQ)->cursor(store_db(store, DBI_MODSEQ), txn, &cur, 0);
	if (ret != 0) {
		free(rec);
		return store_dberr(store, ret, "modseq cursor");
	}
	be32_put(kbuf, c->mailbox_id);
	be64_put(kbuf + 4, c->modseq + 1);
	DBT k = { .data = kbuf, .size = 12, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	int r = 0;
	c->result = 0;
	ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	while (ret == 0 && k.size == 12 && be32_get(kbuf) == c->mailbox_id && v.size == 4) {
		r = msg_record_get(store, txn, c->mailbox_id, be32_get(vbuf), rec, false);
		if (r < 0)
			break;
		if (r == 1) {
			c->result++;
			int s = c->cb(&rec->msg, c->ctx);
			if (s != 0) {
				c->result = s;
				break;
			}
		}
		ret = cur->get(cur, &k, &v, DB_NEXT);
	}
	cur->close(cur);
	free(rec);
	if (r < 0)
		return r;
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "modseq cursor");
	return 1;
}

int store_msg_changed_since(struct store *store, uint32_t mailbox_id, uint64_t modseq,
			    int (*cb)(const struct store_msg *msg, void *ctx), void *ctx,
			    const char **error_r)
{
	struct since_ctx c = { mailbox_id, modseq, cb, ctx, 0 };
	int r = store_read(store, changed_txn, &c, error_r);
	return r < 0 ? r : c.result;
}

