/* The vacation setting and the record of replies sent, in the sessions
 * database (vacation.h). */
#include <stdlib.h>

#include "charset.h"
#include "log.h"
#include "session.h"
#include "store_int.h"
#include "vacation.h"

#define VAC_REC_VERSION 1
#define VAC_KEY "vacation"
#define VAC_KEY_LEN (8 + 4)
#define VAC_REC_MAX (1 + 1 + 8 + 8 + 2 + 2 + STORE_VACATION_SUBJECT_MAX + 2 + \
		     STORE_VACATION_TEXT_MAX)
#define SENT_PREFIX "vacsent"
#define SENT_PREFIX_LEN 7
#define SENT_KEY_MAX (SENT_PREFIX_LEN + 4 + STORE_ADDRESS_MAX + 1)
#define SENT_REC_VERSION 1
#define SENT_REC_LEN (1 + 8 + 8)
#define RATE_KEY "vacrate"
#define RATE_KEY_LEN (7 + 4)
#define RATE_REC_VERSION 1
#define RATE_REC_LEN (1 + 8 + 4)
#define RATE_WINDOW 3600
/* Expired sent records removed per write transaction by the prune. */
#define PRUNE_BATCH 256

#define VAC_STR_(x) #x
#define VAC_STR(x) VAC_STR_(x)

static void vac_key(uint8_t key[VAC_KEY_LEN], uint32_t user_id)
{
	memcpy(key, VAC_KEY, 8);
	be32_put(key + 8, user_id);
}

/* The sent record's key for `address` (lowercased); its length, or 0 if
 * the address is too long. */
static size_t sent_key(uint8_t key[SENT_KEY_MAX], uint32_t user_id, const char *address)
{
	size_t len = strlen(address);
	if (len == 0 || len > STORE_ADDRESS_MAX)
		return 0;
	memcpy(key, SENT_PREFIX, SENT_PREFIX_LEN);
	be32_put(key + SENT_PREFIX_LEN, user_id);
	uint8_t *a = key + SENT_PREFIX_LEN + 4;
	for (size_t i = 0; i < len; i++)
		a[i] = address[i] >= 'A' && address[i] <= 'Z' ? (uint8_t)(address[i] + 'a' - 'A')
							      : (uint8_t)address[i];
	size_t klen = SENT_PREFIX_LEN + 4 + len;
	if (klen == STORE_SESSION_ID_LEN)
		key[klen++] = '\0';   /* never the length of a session id */
	return klen;
}

static void rate_key(uint8_t key[RATE_KEY_LEN], uint32_t user_id)
{
	memcpy(key, RATE_KEY, RATE_KEY_LEN - 4);
	be32_put(key + RATE_KEY_LEN - 4, user_id);
}

bool store_vacation_active(const struct store_vacation *v, int64_t now)
{
	return v->enabled && (v->start == 0 || now >= v->start) && (v->end == 0 || now < v->end);
}

/* ------------------------------------------------------------------ get */

struct get_ctx {
	uint8_t key[VAC_KEY_LEN];
	struct store_vacation *v;
};

static void vac_default(struct store_vacation *v)
{
	memset(v, 0, sizeof(*v));
	v->days = STORE_VACATION_DAYS_DEFAULT;
}

static int get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct get_ctx *c = ctx;
	uint8_t *rec = malloc(VAC_REC_MAX);
	size_t len;
	if (rec == NULL)
		return store_err(store, "out of memory");
	vac_default(c->v);
	int r = store_get(store, DBI_SESSIONS, txn, c->key, VAC_KEY_LEN, rec, VAC_REC_MAX, &len, 0);
	if (r == 1) {
		struct unpack u;
		struct store_vacation v;
		unpack_init(&u, rec, len);
		if (unpack_u8(&u) == VAC_REC_VERSION) {
			v.enabled = unpack_u8(&u) != 0;
			v.start = (int64_t)unpack_u64(&u);
			v.end = (int64_t)unpack_u64(&u);
			v.days = unpack_u16(&u);
			unpack_str(&u, v.subject, sizeof(v.subject));
			unpack_str(&u, v.text, sizeof(v.text));
			if (!u.error) {
				if (v.days < STORE_VACATION_DAYS_MIN || v.days > STORE_VACATION_DAYS_MAX)
					v.days = STORE_VACATION_DAYS_DEFAULT;
				*c->v = v;
			}
		}
	}
	free(rec);
	return r < 0 ? r : 1;
}

int store_vacation_get(struct store *store, uint32_t user_id, struct store_vacation *vacation_r,
		       const char **error_r)
{
	struct get_ctx c = { .v = vacation_r };
	vac_key(c.key, user_id);
	return store_read(store, get_txn, &c, error_r) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ set */

struct set_ctx {
	uint8_t key[VAC_KEY_LEN];
	const struct store_vacation *v;
	uint32_t user_id;
};

static int set_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct set_ctx *c = ctx;
	uint8_t *rec = malloc(VAC_REC_MAX);
	struct pack p;
	if (rec == NULL)
		return store_err(store, "out of memory");
	pack_init(&p, rec, VAC_REC_MAX);
	pack_u8(&p, VAC_REC_VERSION);
	pack_u8(&p, c->v->enabled ? 1 : 0);
	pack_u64(&p, (uint64_t)c->v->start);
	pack_u64(&p, (uint64_t)c->v->end);
	pack_u16(&p, c->v->days);
	pack_str(&p, c->v->subject);
	pack_str(&p, c->v->text);
	int r = p.overflow ? store_err(store, "vacation record too long")
			   : store_put(store, DBI_SESSIONS, txn, c->key, VAC_KEY_LEN, rec, p.len, 0);
	free(rec);
	if (r < 0)
		return r;
	/* a new setting answers everybody once again */
	uint8_t prefix[SENT_PREFIX_LEN + 4];
	memcpy(prefix, SENT_PREFIX, SENT_PREFIX_LEN);
	be32_put(prefix + SENT_PREFIX_LEN, c->user_id);
	r = sessions_del_prefix_txn(store, txn, prefix, sizeof(prefix), NULL);
	return r < 0 ? r : 1;
}

static int refuse(struct store *store, const char **error_r, const char *msg)
{
	store_err(store, "%s", msg);
	*error_r = store_last_error(store);
	return 0;
}

int store_vacation_set(struct store *store, uint32_t user_id, const struct store_vacation *vacation,
		       const char **error_r)
{
	size_t slen = strnlen(vacation->subject, sizeof(vacation->subject));
	size_t tlen = strnlen(vacation->text, sizeof(vacation->text));
	if (slen > STORE_VACATION_SUBJECT_MAX)
		return refuse(store, error_r, "the subject is longer than "
			      VAC_STR(STORE_VACATION_SUBJECT_MAX) " bytes");
	if (tlen > STORE_VACATION_TEXT_MAX)
		return refuse(store, error_r, "the text is longer than "
			      VAC_STR(STORE_VACATION_TEXT_MAX) " bytes");
	if (!charset_utf8_text(vacation->subject, slen, false))
		return refuse(store, error_r, "the subject must be one line of text "
			      "(no control characters, valid UTF-8)");
	if (!charset_utf8_text(vacation->text, tlen, true))
		return refuse(store, error_r, "the text must be text "
			      "(no control characters, valid UTF-8)");
	if (vacation->days < STORE_VACATION_DAYS_MIN || vacation->days > STORE_VACATION_DAYS_MAX)
		return refuse(store, error_r, "the interval must be from "
			      VAC_STR(STORE_VACATION_DAYS_MIN) " to "
			      VAC_STR(STORE_VACATION_DAYS_MAX) " days");
	if (vacation->start < 0 || vacation->end < 0 ||
	    (vacation->start != 0 && vacation->end != 0 && vacation->end <= vacation->start))
		return refuse(store, error_r, "the last day must not be before the first day");
	if (vacation->enabled) {
		bool blank = true;
		for (size_t i = 0; i < tlen && blank; i++)
			blank = vacation->text[i] == ' ' || vacation->text[i] == '\t' ||
				vacation->text[i] == '\r' || vacation->text[i] == '\n';
		if (blank)
			return refuse(store, error_r, "write the text of the reply");
	}
	struct set_ctx c = { .v = vacation, .user_id = user_id };
	vac_key(c.key, user_id);
	return store_write(store, true, set_txn, &c, error_r) < 0 ? -1 : 1;
}

/* ----------------------------------------------------------- sent records */

int vacation_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	uint8_t key[VAC_KEY_LEN], rkey[RATE_KEY_LEN], prefix[SENT_PREFIX_LEN + 4];
	vac_key(key, user_id);
	rate_key(rkey, user_id);
	int r = store_del(store, DBI_SESSIONS, txn, key, sizeof(key));
	if (r >= 0)
		r = store_del(store, DBI_SESSIONS, txn, rkey, sizeof(rkey));
	if (r < 0)
		return r;
	memcpy(prefix, SENT_PREFIX, SENT_PREFIX_LEN);
	be32_put(prefix + SENT_PREFIX_LEN, user_id);
	return sessions_del_prefix_txn(store, txn, prefix, sizeof(prefix), NULL);
}

struct claim_ctx {
	uint8_t key[SENT_KEY_MAX];
	size_t klen;
	uint32_t user_id;
	int64_t now, until;
	int result;
};

/* Counts one more reply of the user's in the current hour: true, or false
 * when VACATION_REPLIES_PER_HOUR were sent in it (nothing written). */
static int rate_take_txn(struct store *store, DB_TXN *txn, struct claim_ctx *c, bool *ok_r)
{
	uint8_t key[RATE_KEY_LEN], rec[RATE_REC_LEN + 16];
	size_t len;
	int64_t window = c->now;
	uint32_t count = 0;
	rate_key(key, c->user_id);
	int r = store_get(store, DBI_SESSIONS, txn, key, sizeof(key), rec, sizeof(rec), &len,
			  DB_RMW);
	if (r < 0)
		return r;
	if (r == 1 && len >= RATE_REC_LEN && rec[0] == RATE_REC_VERSION) {
		int64_t start = (int64_t)be64_get(rec + 1);
		/* the same hour (a window from the future: a clock set back) */
		if (c->now < start + RATE_WINDOW && start <= c->now + 300) {
			window = start;
			count = be32_get(rec + 9);
		}
	}
	*ok_r = count < VACATION_REPLIES_PER_HOUR;
	if (!*ok_r)
		return 1;
	rec[0] = RATE_REC_VERSION;
	be64_put(rec + 1, (uint64_t)window);
	be32_put(rec + 9, count + 1);
	return store_put(store, DBI_SESSIONS, txn, key, sizeof(key), rec, RATE_REC_LEN, 0);
}

static int claim_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct claim_ctx *c = ctx;
	uint8_t rec[SENT_REC_LEN + 16];
	size_t len;
	int r = store_get(store, DBI_SESSIONS, txn, c->key, c->klen, rec, sizeof(rec), &len, DB_RMW);
	if (r < 0)
		return r;
	if (r == 1 && len >= SENT_REC_LEN && rec[0] == SENT_REC_VERSION) {
		int64_t sent = (int64_t)be64_get(rec + 1), until = (int64_t)be64_get(rec + 9);
		/* a record from the future (a clock set back) does not hold */
		if (c->now < until && sent <= c->now + 300) {
			c->result = VACATION_CLAIM_ANSWERED;
			return 1;
		}
	}
	bool ok;
	if ((r = rate_take_txn(store, txn, c, &ok)) < 0)
		return r;
	if (!ok) {
		c->result = VACATION_CLAIM_CAPPED;
		return 1;
	}
	rec[0] = SENT_REC_VERSION;
	be64_put(rec + 1, (uint64_t)c->now);
	be64_put(rec + 9, (uint64_t)c->until);
	r = store_put(store, DBI_SESSIONS, txn, c->key, c->klen, rec, SENT_REC_LEN, 0);
	if (r < 0)
		return r;
	c->result = VACATION_CLAIM_DUE;
	return 1;
}

int vacation_sent_claim(struct store *store, uint32_t user_id, const char *sender, int64_t now,
			unsigned days, const char **error_r)
{
	struct claim_ctx c = { .user_id = user_id, .now = now,
			       .until = now + (int64_t)days * 86400 };
	if ((c.klen = sent_key(c.key, user_id, sender)) == 0)
		return VACATION_CLAIM_ANSWERED;
	if (store_write(store, false, claim_txn, &c, error_r) < 0)
		return -1;
	return c.result;
}

struct prune_ctx {
	int64_t now;
	uint8_t from[SENT_KEY_MAX];
	size_t from_len;
	bool done;
	size_t n;
	int removed;
	struct { uint8_t key[SENT_KEY_MAX]; size_t len; } found[PRUNE_BATCH];
};

static bool sent_expired(const uint8_t *rec, size_t len, int64_t now)
{
	return len < SENT_REC_LEN || rec[0] != SENT_REC_VERSION ||
	       (int64_t)be64_get(rec + 9) <= now;
}

/* A snapshot scan of the sent records from where the last batch stopped. */
static int prune_scan_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct prune_ctx *c = ctx;
	DB *db = store_db(store, DBI_SESSIONS);
	DBC *cur;
	uint8_t kbuf[STORE_SESSIONS_KEY_MAX], vbuf[SENT_REC_LEN + 16];
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .dlen = sizeof(vbuf), .doff = 0,
		  .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
	c->n = 0;
	c->done = false;
	int ret = db->cursor(db, txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "sessions cursor");
	memcpy(kbuf, c->from, c->from_len);
	k.size = (uint32_t)c->from_len;
	for (ret = cur->get(cur, &k, &v, DB_SET_RANGE); ret == 0 && c->n < PRUNE_BATCH;
	     ret = cur->get(cur, &k, &v, DB_NEXT)) {
		if (k.size < SENT_PREFIX_LEN || memcmp(kbuf, SENT_PREFIX, SENT_PREFIX_LEN) != 0) {
			ret = DB_NOTFOUND;
			break;
		}
		if (k.size > SENT_KEY_MAX || !sent_expired(vbuf, v.size, c->now))
			continue;
		memcpy(c->found[c->n].key, kbuf, k.size);
		c->found[c->n++].len = k.size;
	}
	cur->close(cur);
	if (ret == DB_NOTFOUND)
		c->done = true;
	else if (ret != 0)
		return store_dberr(store, ret, "sessions cursor");
	if (c->n > 0) {
		memcpy(c->from, c->found[c->n - 1].key, c->found[c->n - 1].len);
		c->from_len = c->found[c->n - 1].len;
	}
	return 1;
}

/* Deletes what the scan found, each checked again under its lock. */
static int prune_del_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct prune_ctx *c = ctx;
	c->removed = 0;
	for (size_t i = 0; i < c->n; i++) {
		uint8_t rec[SENT_REC_LEN + 16];
		size_t len;
		int r = store_get(store, DBI_SESSIONS, txn, c->found[i].key, c->found[i].len, rec,
				  sizeof(rec), &len, DB_RMW);
		if (r < 0)
			return r;
		if (r == 0 || !sent_expired(rec, len, c->now))
			continue;
		if ((r = store_del(store, DBI_SESSIONS, txn, c->found[i].key, c->found[i].len)) < 0)
			return r;
		c->removed++;
	}
	return 1;
}

int store_vacation_prune(struct store *store, int64_t now, const char **error_r)
{
	struct prune_ctx *c = calloc(1, sizeof(*c));
	int r, count = 0;
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->now = now;
	memcpy(c->from, SENT_PREFIX, SENT_PREFIX_LEN);
	c->from_len = SENT_PREFIX_LEN;
	do {
		r = store_read(store, prune_scan_txn, c, error_r);
		if (r > 0 && c->n > 0 && (r = store_write(store, false, prune_del_txn, c, error_r)) > 0)
			count += c->removed;
	} while (r > 0 && !c->done);
	free(c);
	return r > 0 ? count : -1;
}
