/* Sort indexes for the webmail's message list: per mailbox, one key per
 * message and order (date, from, subject, size), so a page is read from the
 * index instead of sorting the mailbox. Arrival order is the msgs database. */
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

#include "message.h"

/* Bytes of a text sort key: enough to order any real list; ties fall back
 * to UID order because the UID ends the key. */
#define SORTKEY_TEXT_MAX 48
#define SORTIDX_KEY_MAX (4 + 1 + SORTKEY_TEXT_MAX + 4)

/* Lowercases ASCII and copies UTF-8 bytes as they are. */
static size_t fold(uint8_t *dst, const char *src)
{
	size_t n = 0;
	while (*src == ' ' || *src == '\t' || *src == '"')
		src++;
	for (; *src != '\0' && n < SORTKEY_TEXT_MAX; src++)
		dst[n++] = (uint8_t)tolower((unsigned char)*src);
	return n;
}

/* The base subject (RFC 5256 in brief): without "Re:", "Fwd:", "Fw:",
 * "Aw:", "Wg:" prefixes and "[tag]" list prefixes. */
static const char *base_subject(const char *s)
{
	static const char *const prefixes[] = { "re:", "fwd:", "fw:", "aw:", "wg:", "sv:", "vs:" };
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		bool cut = false;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t n = strlen(prefixes[i]);
			if (strncasecmp(s, prefixes[i], n) == 0) {
				s += n;
				cut = true;
				break;
			}
		}
		if (!cut && *s == '[') {
			const char *end = strchr(s, ']');
			if (end != NULL && end[1] != '\0') {
				s = end + 1;
				cut = true;
			}
		}
		if (!cut)
			return s;
	}
}

static size_t sortidx_key(uint8_t *key, const struct store_msg *m, enum store_sort sort)
{
	size_t n = 5;
	be32_put(key, m->mailbox_id);
	key[4] = (uint8_t)sort;
	switch (sort) {
	case STORE_SORT_DATE:
		/* Offset so that dates before 1970 still sort as unsigned. */
		be64_put(key + n, (uint64_t)m->sent_date ^ (1ULL << 63));
		n += 8;
		break;
	case STORE_SORT_SIZE:
		be64_put(key + n, m->size);
		n += 8;
		break;
	case STORE_SORT_FROM:
		n += fold(key + n, m->from);
		key[n++] = 0;
		break;
	case STORE_SORT_SUBJECT:
		n += fold(key + n, base_subject(m->subject));
		key[n++] = 0;
		break;
	case STORE_SORT_ARRIVAL:
		break;
	}
	be32_put(key + n, m->uid);
	return n + 4;
}

static const enum store_sort indexed[] = {
	STORE_SORT_DATE, STORE_SORT_FROM, STORE_SORT_SUBJECT, STORE_SORT_SIZE
};

int sortidx_add_txn(struct store *store, DB_TXN *txn, const struct store_msg *m)
{
	uint8_t key[SORTIDX_KEY_MAX + 1];
	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++) {
		int r = store_put(store, DBI_SORTIDX, txn, key, sortidx_key(key, m, indexed[i]), "", 0, 0);
		if (r < 0)
			return r;
	}
	return 1;
}

int sortidx_del_txn(struct store *store, DB_TXN *txn, const struct store_msg *m)
{
	uint8_t key[SORTIDX_KEY_MAX + 1];
	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++) {
		int r = store_del(store, DBI_SORTIDX, txn, key, sortidx_key(key, m, indexed[i]));
		if (r < 0)
			return r;
	}
	return 1;
}

struct page_ctx {
	uint32_t mailbox_id;
	enum store_sort sort;
	bool descending;
	uint32_t offset, count;
	int (*cb)(const struct store_msg *msg, void *ctx);
	void *ctx;
	int result;
};

/* Walks (mailbox, sort) keys of one database in either direction, key only;
 * the UID is the last 4 bytes of a sort index key or of a msgs key. */
static int page_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct page_ctx *c = ctx;
	bool arrival = c->sort == STORE_SORT_ARRIVAL;
	enum store_dbi dbi = arrival ? DBI_MSGS : DBI_SORTIDX;
	size_t plen = arrival ? 4 : 5;
	uint8_t prefix[5], kbuf[SORTIDX_KEY_MAX + 8];
	be32_put(prefix, c->mailbox_id);
	prefix[4] = (uint8_t)c->sort;
	DBC *cur;
	int ret = store_db(store, dbi)->cursor(store_db(store, dbi), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "sort cursor");
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_PARTIAL };
	if (!c->descending) {
		memcpy(kbuf, prefix, plen);
		k.size = (uint32_t)plen;
		ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	} else {
		/* Just past the range, then step back. */
		uint64_t next = ((uint64_t)be32_get(prefix) << 8 | (arrival ? 0xff : prefix[4])) + 1;
		if (arrival) {
			be32_put(kbuf, c->mailbox_id + 1);
			k.size = 4;
		} else {
			be32_put(kbuf, (uint32_t)(next >> 8));
			kbuf[4] = (uint8_t)next;
			k.size = 5;
		}
		ret = cur->get(cur, &k, &v, DB_SET_RANGE);
		if (ret == 0)
			ret = cur->get(cur, &k, &v, DB_PREV);
		else if (ret == DB_NOTFOUND)
			ret = cur->get(cur, &k, &v, DB_LAST);
	}
	struct msg_record *rec = malloc(sizeof(*rec));
	if (rec == NULL) {
		cur->close(cur);
		return store_err(store, "out of memory");
	}
	uint32_t skipped = 0;
	int r = 0;
	c->result = 0;
	while (ret == 0 && k.size >= plen + 4 && memcmp(kbuf, prefix, plen) == 0 &&
	       (uint32_t)c->result < c->count) {
		if (skipped < c->offset) {
			skipped++;
		} else {
			uint32_t uid = be32_get(kbuf + k.size - 4);
			r = msg_record_get(store, txn, c->mailbox_id, uid, rec, false);
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
			r = 0;
		}
		ret = cur->get(cur, &k, &v, c->descending ? DB_PREV : DB_NEXT);
	}
	cur->close(cur);
	free(rec);
	if (r < 0)
		return r;
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "sort cursor");
	return 1;
}

int store_msg_page(struct store *store, uint32_t mailbox_id, enum store_sort sort, bool descending,
		   uint32_t offset, uint32_t count,
		   int (*cb)(const struct store_msg *msg, void *ctx), void *ctx,
		   const char **error_r)
{
	if ((unsigned)sort > STORE_SORT_SIZE) {
		*error_r = "unknown sort order";
		return -1;
	}
	struct page_ctx c = { mailbox_id, sort, descending, offset, count, cb, ctx, 0 };
	int r = store_read(store, page_txn, &c, error_r);
	return r < 0 ? r : c.result;
}
