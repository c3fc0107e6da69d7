/* Messages: append, list, flags and keywords. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "body.h"
#include "mailbox.h"
#include "message.h"

/* 2 added sent_date_tz after sent_date (version 1 records read with 0); 3
 * size_crlf at the end (older records read with size). */
#define MSG_RECORD_VERSION 3
#define KEYWORD_VERSION 1

static size_t msg_key(uint8_t key[8], uint32_t mailbox_id, uint32_t uid)
{
	be32_put(key, mailbox_id);
	be32_put(key + 4, uid);
	return 8;
}

static size_t modseq_key(uint8_t key[12], uint32_t mailbox_id, uint64_t modseq)
{
	be32_put(key, mailbox_id);
	be64_put(key + 4, modseq);
	return 12;
}

static int msg_unpack(const uint8_t *buf, size_t len, uint32_t mailbox_id, uint32_t uid,
		      struct msg_record *rec)
{
	struct store_msg *m = &rec->msg;
	struct unpack u;
	unpack_init(&u, buf, len);
	uint8_t version = unpack_u8(&u);
	if (version < 1 || version > MSG_RECORD_VERSION)
		return -1;
	memset(m, 0, sizeof(*m));
	m->mailbox_id = mailbox_id;
	m->uid = uid;
	m->flags = unpack_u32(&u);
	m->keywords = unpack_u64(&u);
	m->modseq = unpack_u64(&u);
	m->internaldate = (int64_t)unpack_u64(&u);
	m->internaldate_tz = (int32_t)unpack_u32(&u);
	m->size = unpack_u64(&u);
	const void *id = unpack_bytes(&u, STORE_BODY_ID_LEN);
	if (id != NULL)
		memcpy(m->body_id, id, STORE_BODY_ID_LEN);
	m->sent_date = (int64_t)unpack_u64(&u);
	if (version >= 2)
		m->sent_date_tz = (int32_t)unpack_u32(&u);
	m->has_attachment = unpack_u8(&u) != 0;
	unpack_str(&u, m->from, sizeof(m->from));
	unpack_str(&u, m->subject, sizeof(m->subject));
	uint16_t plen = unpack_u16(&u);
	const void *prefix = unpack_bytes(&u, plen);
	if (u.error || plen > STORE_PREFIX_MAX)
		return -1;
	memcpy(rec->prefix, prefix, plen);
	m->prefix_len = plen;
	m->size_crlf = version >= 3 ? unpack_u64(&u) : m->size;
	if (u.error || m->size_crlf < m->size)
		return -1;
	return 0;
}

int msg_record_get(struct store *store, DB_TXN *txn, uint32_t mailbox_id, uint32_t uid,
		   struct msg_record *rec, bool rmw)
{
	uint8_t key[8], buf[MSG_RECORD_MAX];
	size_t len;
	int r = store_get(store, DBI_MSGS, txn, key, msg_key(key, mailbox_id, uid), buf, sizeof(buf),
			  &len, rmw ? DB_RMW : 0);
	if (r <= 0)
		return r;
	if (msg_unpack(buf, len, mailbox_id, uid, rec) < 0)
		return store_err(store, "msgs.db: record %u/%u is damaged", mailbox_id, uid);
	return 1;
}

int msg_record_put(struct store *store, DB_TXN *txn, const struct msg_record *rec)
{
	const struct store_msg *m = &rec->msg;
	uint8_t key[8], buf[MSG_RECORD_MAX];
	struct pack p;
	pack_init(&p, buf, sizeof(buf));
	pack_u8(&p, MSG_RECORD_VERSION);
	pack_u32(&p, m->flags);
	pack_u64(&p, m->keywords);
	pack_u64(&p, m->modseq);
	pack_u64(&p, (uint64_t)m->internaldate);
	pack_u32(&p, (uint32_t)m->internaldate_tz);
	pack_u64(&p, m->size);
	pack_bytes(&p, m->body_id, STORE_BODY_ID_LEN);
	pack_u64(&p, (uint64_t)m->sent_date);
	pack_u32(&p, (uint32_t)m->sent_date_tz);
	pack_u8(&p, m->has_attachment);
	pack_str(&p, m->from);
	pack_str(&p, m->subject);
	pack_u16(&p, m->prefix_len);
	pack_bytes(&p, rec->prefix, m->prefix_len);
	pack_u64(&p, m->size_crlf);
	if (p.overflow)
		return store_err(store, "message record too large");
	return store_put(store, DBI_MSGS, txn, key, msg_key(key, m->mailbox_id, m->uid), buf, p.len, 0);
}

static int modseq_index(struct store *store, DB_TXN *txn, uint32_t mailbox_id, uint64_t old,
			uint64_t new, uint32_t uid)
{
	uint8_t key[12], val[4];
	int r;
	if (old != 0 && (r = store_del(store, DBI_MODSEQ, txn, key, modseq_key(key, mailbox_id, old))) < 0)
		return r;
	if (new == 0)
		return 1;
	be32_put(val, uid);
	return store_put(store, DBI_MODSEQ, txn, key, modseq_key(key, mailbox_id, new), val, 4, 0);
}

/* ---- keywords: per mailbox, id = bit position ---- */

static bool keyword_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > STORE_KEYWORD_MAX || name[0] == '\\')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		/* IMAP atom characters only (RFC 3501 flag-keyword). */
		if (*p <= ' ' || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return false;
	}
	return true;
}

struct keyword_table {
	char names[STORE_KEYWORDS_MAX][STORE_KEYWORD_MAX + 1];
	uint64_t used;
};

static int keyword_table_load(struct store *store, DB_TXN *txn, uint32_t mailbox_id,
			      struct keyword_table *t, bool rmw)
{
	DBC *cur;
	uint8_t kbuf[5], vbuf[STORE_KEYWORD_MAX + 8];
	t->used = 0;
	int ret = store_db(store, DBI_KEYWORDS)->cursor(store_db(store, DBI_KEYWORDS), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "keywords cursor");
	be32_put(kbuf, mailbox_id);
	kbuf[4] = 0;
	DBT k = { .data = kbuf, .size = 5, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	ret = cur->get(cur, &k, &v, DB_SET_RANGE | (rmw ? DB_RMW : 0));
	while (ret == 0 && k.size == 5 && be32_get(kbuf) == mailbox_id) {
		unsigned id = kbuf[4];
		if (id < STORE_KEYWORDS_MAX && v.size >= 2 && vbuf[0] == KEYWORD_VERSION &&
		    v.size - 1 <= STORE_KEYWORD_MAX) {
			memcpy(t->names[id], vbuf + 1, v.size - 1);
			t->names[id][v.size - 1] = '\0';
			t->used |= 1ULL << id;
		}
		ret = cur->get(cur, &k, &v, DB_NEXT | (rmw ? DB_RMW : 0));
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND && ret != DB_BUFFER_SMALL)
		return store_dberr(store, ret, "keywords cursor");
	return 1;
}

int keyword_mask_txn(struct store *store, DB_TXN *txn, uint32_t mailbox_id,
		     const char *const *names, size_t n, bool create, uint64_t *mask_r)
{
	*mask_r = 0;
	if (n == 0)
		return 1;
	struct keyword_table *t = malloc(sizeof(*t));
	if (t == NULL)
		return store_err(store, "out of memory");
	int r = keyword_table_load(store, txn, mailbox_id, t, create);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int found = -1;
		for (unsigned id = 0; id < STORE_KEYWORDS_MAX; id++) {
			if ((t->used & (1ULL << id)) && strcasecmp(t->names[id], names[i]) == 0) {
				found = (int)id;
				break;
			}
		}
		if (found < 0 && create) {
			if (!keyword_valid(names[i])) {
				r = store_refuse(store, "invalid keyword");
				break;
			}
			for (unsigned id = 0; id < STORE_KEYWORDS_MAX; id++) {
				if (!(t->used & (1ULL << id))) {
					found = (int)id;
					break;
				}
			}
			if (found < 0) {
				r = store_refuse(store, "too many keywords in this mailbox (limit %d)",
						 STORE_KEYWORDS_MAX);
				break;
			}
			uint8_t key[5], val[STORE_KEYWORD_MAX + 1];
			size_t len = strlen(names[i]);
			be32_put(key, mailbox_id);
			key[4] = (uint8_t)found;
			val[0] = KEYWORD_VERSION;
			memcpy(val + 1, names[i], len);
			r = store_put(store, DBI_KEYWORDS, txn, key, 5, val, len + 1, 0);
			snprintf(t->names[found], sizeof(t->names[found]), "%s", names[i]);
			t->used |= 1ULL << found;
		}
		if (found >= 0)
			*mask_r |= 1ULL << found;
	}
	free(t);
	return r < 0 ? r : 1;
}

struct kwlist_ctx {
	uint32_t mailbox_id;
	struct keyword_table t;
};

static int kwlist_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct kwlist_ctx *c = ctx;
	return keyword_table_load(store, txn, c->mailbox_id, &c->t, false);
}

int store_keyword_list(struct store *store, uint32_t mailbox_id,
		       int (*cb)(unsigned id, const char *name, void *ctx), void *ctx,
		       const char **error_r)
{
	struct kwlist_ctx *c = malloc(sizeof(*c));
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->mailbox_id = mailbox_id;
	int r = store_read(store, kwlist_txn, c, error_r);
	if (r == 1) {
		r = 0;
		for (unsigned id = 0; id < STORE_KEYWORDS_MAX; id++) {
			if (!(c->t.used & (1ULL << id)))
				continue;
			r++;
			int s = cb(id, c->t.names[id], ctx);
			if (s != 0) {
				r = s;
				break;
			}
		}
	}
	free(c);
	return r;
}

/* ---- append ---- */

static void state_count(struct mboxstate *st, const struct store_msg *m, int sign)
{
	st->exists += sign;
	st->bytes += sign * (int64_t)m->size;
	if (!(m->flags & STORE_FLAG_SEEN))
		st->unseen += sign;
	if (m->flags & STORE_FLAG_DELETED)
		st->deleted += sign;
}

int msg_append_txn(struct store *store, DB_TXN *txn, uint32_t mailbox_id,
		   const struct store_body *body, uint32_t flags, uint64_t keywords,
		   int64_t internaldate, int32_t tz, const char *prefix, size_t prefix_len,
		   uint32_t *uid_r)
{
	struct mboxstate st;
	struct msg_record *rec;
	if (prefix_len > STORE_PREFIX_MAX)
		return store_err(store, "message prefix too long");
	int r = mboxstate_get(store, txn, mailbox_id, &st, true);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such mailbox");
	if (st.uidnext == UINT32_MAX)
		return store_refuse(store, "mailbox is out of UIDs");
	uint64_t size = body->size + prefix_len;
	r = quota_add_txn(store, txn, st.user_id, (int64_t)size, 1, true);
	if (r < 0)
		return r;
	rec = calloc(1, sizeof(*rec));
	if (rec == NULL)
		return store_err(store, "out of memory");
	struct store_msg *m = &rec->msg;
	m->mailbox_id = mailbox_id;
	m->uid = st.uidnext++;
	m->flags = flags;
	m->keywords = keywords;
	m->modseq = ++st.highestmodseq;
	m->internaldate = internaldate != 0 ? internaldate : time(NULL);
	m->internaldate_tz = tz;
	m->size = size;
	m->size_crlf = size + body->crlf_extra;
	memcpy(m->body_id, body->id, STORE_BODY_ID_LEN);
	m->sent_date = body->sent_date != 0 ? body->sent_date : m->internaldate;
	m->sent_date_tz = body->sent_date != 0 ? body->sent_tz : m->internaldate_tz;
	m->has_attachment = body->has_attachment;
	snprintf(m->from, sizeof(m->from), "%s", body->from);
	snprintf(m->subject, sizeof(m->subject), "%s", body->subject);
	m->prefix_len = (uint16_t)prefix_len;
	if (prefix_len > 0)
		memcpy(rec->prefix, prefix, prefix_len);
	state_count(&st, m, 1);
	if ((r = msg_record_put(store, txn, rec)) >= 0 &&
	    (r = modseq_index(store, txn, mailbox_id, 0, m->modseq, m->uid)) >= 0 &&
	    (r = sortidx_add_txn(store, txn, m)) >= 0 &&
	    (r = mboxstate_put(store, txn, mailbox_id, &st)) >= 0)
		*uid_r = m->uid;
	free(rec);
	return r < 0 ? r : 1;
}

struct append_ctx {
	uint32_t mailbox_id;
	struct store_append *msgs;
	size_t n;
	const char *prefix;
	size_t prefix_len;
};

static int append_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct append_ctx *c = ctx;
	for (size_t i = 0; i < c->n; i++) {
		struct store_append *m = &c->msgs[i];
		uint64_t mask;
		int r = keyword_mask_txn(store, txn, c->mailbox_id, m->keywords, m->nkeywords, true,
					 &mask);
		if (r < 0)
			return r;
		r = msg_append_txn(store, txn, c->mailbox_id, m->body, m->flags, mask,
				   m->internaldate, m->internaldate_tz, c->prefix, c->prefix_len,
				   &m->uid);
		if (r < 0)
			return r;
		if ((r = body_use_txn(store, txn, m->body, 1)) < 0)
			return r;
	}
	return 1;
}

static int append_all(struct store *store, struct append_ctx *c, const char **error_r)
{
	size_t stored = 0;
	int r = store_space_check(store, 0, error_r) == 0 ? -1 : 1;
	/* small bodies' bytes first, each in a transaction of its own (body.c) */
	while (r == 1 && stored < c->n) {
		r = body_data_prestore(store, c->msgs[stored].body, error_r);
		if (r == 1)
			stored++;
	}
	if (r == 1)
		r = store_write(store, true, append_txn, c, error_r);
	if (r != 1) {
		for (size_t i = 0; i < stored; i++)
			body_data_release(store, c->msgs[i].body);
		return r;
	}
	store_notify_mailbox(store, c->mailbox_id);
	return 1;
}

int store_msg_append(struct store *store, uint32_t mailbox_id, const struct store_body *body,
		     uint32_t flags, const char *const *keywords, size_t nkeywords,
		     int64_t internaldate, int32_t internaldate_tz,
		     const char *prefix, size_t prefix_len, uint32_t *uid_r,
		     const char **error_r)
{
	struct store_append m = { body, flags, keywords, nkeywords, internaldate,
				  internaldate_tz, 0 };
	struct append_ctx c = { mailbox_id, &m, 1, prefix, prefix_len };
	int r = append_all(store, &c, error_r);
	if (r == 1)
		*uid_r = m.uid;
	return r;
}

int store_msg_append_many(struct store *store, uint32_t mailbox_id, struct store_append *msgs,
			  size_t n, const char **error_r)
{
	struct append_ctx c = { mailbox_id, msgs, n, NULL, 0 };
	return append_all(store, &c, error_r);
}

/* ---- reading ---- */

struct list_ctx {
	uint32_t mailbox_id, lo, hi;
	int (*cb)(const struct store_msg *msg, void *ctx);
	void *ctx;
	int result;
};

static int list_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct list_ctx *c = ctx;
	DBC *cur;
	uint8_t kbuf[8], vbuf[MSG_RECORD_MAX];
	struct msg_record *rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return store_err(store, "out of memory");
	int ret = store_db(store, DBI_MSGS)->cursor(store_db(store, DBI_MSGS), txn, &cur, 0);
	if (ret != 0) {
		free(rec);
		return store_dberr(store, ret, "msgs cursor");
	}
	msg_key(kbuf, c->mailbox_id, c->lo);
	DBT k = { .data = kbuf, .size = 8, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	int r = 0;
	c->result = 0;
	ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	while (ret == 0 && k.size == 8 && be32_get(kbuf) == c->mailbox_id) {
		uint32_t uid = be32_get(kbuf + 4);
		if (uid > c->hi)
			break;
		if (msg_unpack(vbuf, v.size, c->mailbox_id, uid, rec) < 0) {
			r = store_err(store, "msgs.db: record %u/%u is damaged", c->mailbox_id, uid);
			break;
		}
		c->result++;
		int s = c->cb(&rec->msg, c->ctx);
		if (s != 0) {
			c->result = s;
			break;
		}
		ret = cur->get(cur, &k, &v, DB_NEXT);
	}
	if (r == 0 && ret != 0 && ret != DB_NOTFOUND)
		r = store_dberr(store, ret, "msgs cursor");
	cur->close(cur);
	free(rec);
	return r < 0 ? r : 1;
}

int store_msg_list(struct store *store, uint32_t mailbox_id, uint32_t uid_lo, uint32_t uid_hi,
		   int (*cb)(const struct store_msg *msg, void *ctx), void *ctx,
		   const char **error_r)
{
	struct list_ctx c = { mailbox_id, uid_lo, uid_hi, cb, ctx, 0 };
	int r = store_read(store, list_txn, &c, error_r);
	return r < 0 ? r : c.result;
}

struct get_ctx {
	uint32_t mailbox_id, uid;
	struct msg_record rec;
};

static int get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct get_ctx *c = ctx;
	return msg_record_get(store, txn, c->mailbox_id, c->uid, &c->rec, false);
}

int store_msg_get(struct store *store, uint32_t mailbox_id, uint32_t uid, struct store_msg *msg_r,
		  const char **error_r)
{
	struct get_ctx *c = malloc(sizeof(*c));
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->mailbox_id = mailbox_id;
	c->uid = uid;
	int r = store_read(store, get_txn, c, error_r);
	if (r == 1)
		*msg_r = c->rec.msg;
	free(c);
	return r;
}

/* ---- flags ---- */

struct flag_change {
	uint32_t uid;
	uint32_t flags;
	uint64_t keywords;
	uint64_t modseq;
};

struct flags_ctx {
	uint32_t mailbox_id;
	const uint32_t *uids;
	size_t n;
	enum store_flag_op op;
	uint32_t flags;
	const char *const *keywords;
	size_t nkeywords;
	uint64_t unchangedsince;
	struct flag_change *changed;
	size_t nchanged;
	uint32_t *failed;
	size_t nfailed;
};

static int flags_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct flags_ctx *c = ctx;
	struct mboxstate st;
	uint64_t mask;
	c->nchanged = c->nfailed = 0;
	int r = mboxstate_get(store, txn, c->mailbox_id, &st, true);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no such mailbox");
	r = keyword_mask_txn(store, txn, c->mailbox_id, c->keywords, c->nkeywords,
			     c->op != STORE_FLAGS_REMOVE, &mask);
	if (r < 0)
		return r;
	struct msg_record *rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return store_err(store, "out of memory");
	for (size_t i = 0; i < c->n; i++) {
		r = msg_record_get(store, txn, c->mailbox_id, c->uids[i], rec, true);
		if (r < 0)
			break;
		if (r == 0)
			continue;   /* expunged meanwhile: nothing to change */
		struct store_msg *m = &rec->msg;
		if (c->unchangedsince != 0 && m->modseq > c->unchangedsince) {
			c->failed[c->nfailed++] = m->uid;
			continue;
		}
		uint32_t flags = m->flags;
		uint64_t kw = m->keywords;
		switch (c->op) {
		case STORE_FLAGS_SET: flags = c->flags; kw = mask; break;
		case STORE_FLAGS_ADD: flags |= c->flags; kw |= mask; break;
		case STORE_FLAGS_REMOVE: flags &= ~c->flags; kw &= ~mask; break;
		}
		if (flags == m->flags && kw == m->keywords)
			continue;
		state_count(&st, m, -1);
		m->flags = flags;
		m->keywords = kw;
		state_count(&st, m, 1);
		uint64_t old = m->modseq;
		m->modseq = ++st.highestmodseq;
		if ((r = msg_record_put(store, txn, rec)) < 0 ||
		    (r = modseq_index(store, txn, c->mailbox_id, old, m->modseq, m->uid)) < 0)
			break;
		c->changed[c->nchanged++] = (struct flag_change){ m->uid, flags, kw, m->modseq };
	}
	free(rec);
	if (r < 0)
		return r;
	if (c->nchanged > 0 && (r = mboxstate_put(store, txn, c->mailbox_id, &st)) < 0)
		return r;
	return 1;
}

int store_msg_set_flags(struct store *store, uint32_t mailbox_id, const uint32_t *uids, size_t n,
			enum store_flag_op op, uint32_t flags, const char *const *keywords,
			size_t nkeywords, uint64_t unchangedsince,
			int (*cb)(const struct store_msg *msg, void *ctx),
			int (*failed_cb)(uint32_t uid, void *ctx), void *ctx, const char **error_r)
{
	struct flags_ctx c = {
		mailbox_id, uids, n, op, flags, keywords, nkeywords, unchangedsince,
		calloc(n ? n : 1, sizeof(struct flag_change)), 0, calloc(n ? n : 1, sizeof(uint32_t)), 0
	};
	if (c.changed == NULL || c.failed == NULL) {
		free(c.changed);
		free(c.failed);
		*error_r = "out of memory";
		return -1;
	}
	int r = store_write(store, false, flags_txn, &c, error_r);
	if (r == 1) {
		r = (int)c.nchanged;
		if (c.nchanged > 0)
			store_notify_mailbox(store, mailbox_id);
		/* Reported after the commit: the callbacks see committed state
		 * and are never run twice by a deadlock retry. */
		struct store_msg m = { .mailbox_id = mailbox_id };
		for (size_t i = 0; cb != NULL && i < c.nchanged; i++) {
			m.uid = c.changed[i].uid;
			m.flags = c.changed[i].flags;
			m.keywords = c.changed[i].keywords;
			m.modseq = c.changed[i].modseq;
			if (cb(&m, ctx) != 0)
				break;
		}
		for (size_t i = 0; failed_cb != NULL && i < c.nfailed; i++)
			if (failed_cb(c.failed[i], ctx) != 0)
				break;
	}
	free(c.changed);
	free(c.failed);
	return r;
}
