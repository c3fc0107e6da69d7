/* Webmail sessions and settings in DBI_SESSIONS (session.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "session.h"
#include "store_int.h"

#define SESSION_REC_VERSION 1
#define SESSION_REC_LEN (1 + 4 + 8 + 8 + STORE_SESSION_CSRF_LEN + \
			 STORE_SESSION_SENT_MAX * STORE_SEND_TOKEN_LEN)
#define PREFS_REC_VERSION 1
#define PREFS_REC_LEN (1 + 2 + 2 + 1 + 1 + 2 + STORE_PREFS_ZONE_MAX)
#define PREFS_KEY_LEN 9

int store_random(void *bytes, size_t len, const char **error_r)
{
	uint8_t *p = bytes;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = "getrandom failed";
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void session_pack(const struct store_session *s, uint8_t buf[SESSION_REC_LEN])
{
	struct pack p;
	pack_init(&p, buf, SESSION_REC_LEN);
	pack_u8(&p, SESSION_REC_VERSION);
	pack_u32(&p, s->user_id);
	pack_u64(&p, (uint64_t)s->created);
	pack_u64(&p, (uint64_t)s->last_seen);
	pack_bytes(&p, s->csrf, STORE_SESSION_CSRF_LEN);
	pack_bytes(&p, s->sent, sizeof(s->sent));
}

static bool session_unpack(const uint8_t *buf, size_t len, struct store_session *s)
{
	struct unpack u;
	unpack_init(&u, buf, len);
	if (unpack_u8(&u) != SESSION_REC_VERSION)
		return false;
	s->user_id = unpack_u32(&u);
	s->created = (int64_t)unpack_u64(&u);
	s->last_seen = (int64_t)unpack_u64(&u);
	const void *csrf = unpack_bytes(&u, STORE_SESSION_CSRF_LEN);
	if (u.error || csrf == NULL)
		return false;
	memcpy(s->csrf, csrf, STORE_SESSION_CSRF_LEN);
	/* Records written before the field existed end here. */
	const void *sent = u.pos < len ? unpack_bytes(&u, sizeof(s->sent)) : NULL;
	if (u.error)
		return false;
	if (sent != NULL)
		memcpy(s->sent, sent, sizeof(s->sent));
	else
		memset(s->sent, 0, sizeof(s->sent));
	return true;
}

bool store_session_sent(const struct store_session *s, const uint8_t token[STORE_SEND_TOKEN_LEN])
{
	static const uint8_t none[STORE_SEND_TOKEN_LEN];
	if (memcmp(token, none, STORE_SEND_TOKEN_LEN) == 0)
		return false;   /* what an empty slot holds */
	for (size_t i = 0; i < STORE_SESSION_SENT_MAX; i++)
		if (memcmp(s->sent[i], token, STORE_SEND_TOKEN_LEN) == 0)
			return true;
	return false;
}

int session_sent_use_txn(struct store *store, DB_TXN *txn, const uint8_t *id,
			 const uint8_t *token)
{
	uint8_t rec[SESSION_REC_LEN + 16];
	size_t len;
	struct store_session s;
	int r = store_get(store, DBI_SESSIONS, txn, id, STORE_SESSION_ID_LEN, rec, sizeof(rec), &len,
			  DB_RMW);
	if (r <= 0 || !session_unpack(rec, len, &s))
		return r < 0 ? r : 1;   /* signed out meanwhile: nothing to keep it in */
	if (store_session_sent(&s, token))
		return 0;
	memmove(s.sent[1], s.sent[0], sizeof(s.sent) - sizeof(s.sent[0]));
	memcpy(s.sent[0], token, STORE_SEND_TOKEN_LEN);
	session_pack(&s, rec);
	r = store_put(store, DBI_SESSIONS, txn, id, STORE_SESSION_ID_LEN, rec, SESSION_REC_LEN, 0);
	return r < 0 ? r : 1;
}

/* Scans read only the first bytes of each value: a session record fits,
 * and the other records kept here (settings, identities) may be longer. */
#define SESSION_SCAN_DBT(buf) \
	((DBT){ .data = (buf), .ulen = sizeof(buf), .dlen = sizeof(buf), .doff = 0, \
		.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL })

static bool session_expired(const struct store_session *s, int64_t now, unsigned idle,
			    unsigned absolute)
{
	return now - s->last_seen >= (int64_t)idle || now - s->created >= (int64_t)absolute ||
	       s->created > now + 300; /* from the future: a clock jump or forgery */
}

struct create_ctx {
	struct store_session *s;
};

static int create_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct create_ctx *c = ctx;
	uint8_t rec[SESSION_REC_LEN];
	session_pack(c->s, rec);
	int r = store_put(store, DBI_SESSIONS, txn, c->s->id, STORE_SESSION_ID_LEN, rec,
			  sizeof(rec), DB_NOOVERWRITE);
	if (r == 0)
		return store_err(store, "session id collision");
	return r < 0 ? r : 1;
}

int store_session_create(struct store *store, uint32_t user_id, int64_t now,
			 struct store_session *session_r, const char **error_r)
{
	*session_r = (struct store_session){ .user_id = user_id, .created = now, .last_seen = now };
	if (store_random(session_r->id, STORE_SESSION_ID_LEN, error_r) < 0 ||
	    store_random(session_r->csrf, STORE_SESSION_CSRF_LEN, error_r) < 0)
		return -1;
	struct create_ctx c = { .s = session_r };
	return store_write(store, false, create_txn, &c, error_r) < 0 ? -1 : 1;
}

struct get_ctx {
	const uint8_t *id;
	int64_t now;
	unsigned idle, absolute;
	struct store_session *s;
	bool write;          /* second pass: delete or touch */
	int verdict;         /* 1 valid, 0 not */
	bool needs_write;
};

static int get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct get_ctx *c = ctx;
	uint8_t rec[SESSION_REC_LEN + 16];
	size_t len;
	int r = store_get(store, DBI_SESSIONS, txn, c->id, STORE_SESSION_ID_LEN, rec, sizeof(rec),
			  &len, c->write ? DB_RMW : 0);
	if (r < 0)
		return r;
	c->needs_write = false;
	if (r == 0) {
		c->verdict = 0;
		return 1;
	}
	memcpy(c->s->id, c->id, STORE_SESSION_ID_LEN);
	if (!session_unpack(rec, len, c->s) ||
	    session_expired(c->s, c->now, c->idle, c->absolute)) {
		c->verdict = 0;
		c->needs_write = true;
		if (c->write && (r = store_del(store, DBI_SESSIONS, txn, c->id,
					       STORE_SESSION_ID_LEN)) < 0)
			return r;
		return 1;
	}
	c->verdict = 1;
	if (c->now - c->s->last_seen >= STORE_SESSION_TOUCH_INTERVAL) {
		c->needs_write = true;
		if (c->write) {
			c->s->last_seen = c->now;
			session_pack(c->s, rec);
			r = store_put(store, DBI_SESSIONS, txn, c->id, STORE_SESSION_ID_LEN, rec,
				      SESSION_REC_LEN, 0);
			if (r < 0)
				return r;
		}
	}
	return 1;
}

int store_session_get(struct store *store, const uint8_t id[STORE_SESSION_ID_LEN], int64_t now,
		      unsigned idle, unsigned absolute, struct store_session *session_r,
		      const char **error_r)
{
	struct get_ctx c = { .id = id, .now = now, .idle = idle, .absolute = absolute,
			     .s = session_r };
	/* most requests only read (a snapshot, never waiting for a writer) */
	if (store_read(store, get_txn, &c, error_r) < 0)
		return -1;
	if (c.needs_write) {
		c.write = true;
		if (store_write(store, false, get_txn, &c, error_r) < 0)
			return -1;
	}
	return c.verdict;
}

struct del_ctx {
	const uint8_t *id;
};

static int destroy_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct del_ctx *c = ctx;
	return store_del(store, DBI_SESSIONS, txn, c->id, STORE_SESSION_ID_LEN);
}

int store_session_destroy(struct store *store, const uint8_t id[STORE_SESSION_ID_LEN],
			  const char **error_r)
{
	struct del_ctx c = { .id = id };
	return store_write(store, false, destroy_txn, &c, error_r);
}

static void prefs_key(uint8_t key[PREFS_KEY_LEN], uint32_t user_id);

struct destroy_user_ctx {
	uint32_t user_id;
	const uint8_t *keep;
	int count;
};

/* Sessions are keyed by their random id, so a user's are found by a cursor
 * scan: the database holds only live sessions (expired ones are swept) and
 * one settings record per user, a few thousand small records at most, and
 * a password change is rare. */
static int destroy_user_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct destroy_user_ctx *c = ctx;
	DB *db = store_db(store, DBI_SESSIONS);
	DBC *cur;
	uint8_t kbuf[STORE_SESSIONS_KEY_MAX], vbuf[SESSION_REC_LEN + 16];
	c->count = 0;
	int ret = db->cursor(db, txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "sessions cursor");
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = SESSION_SCAN_DBT(vbuf);
	while ((ret = cur->get(cur, &k, &v, DB_NEXT | DB_RMW)) == 0) {
		struct store_session s;
		if (k.size != STORE_SESSION_ID_LEN)
			continue;       /* settings and identity records */
		if (!session_unpack(vbuf, v.size, &s) || s.user_id != c->user_id)
			continue;
		if (c->keep != NULL && memcmp(kbuf, c->keep, STORE_SESSION_ID_LEN) == 0)
			continue;
		if ((ret = cur->del(cur, 0)) != 0)
			break;
		c->count++;
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "sessions cursor");
	return 1;
}

int sessions_del_prefix_txn(struct store *store, DB_TXN *txn, const void *prefix, size_t len,
			    int *count_r)
{
	DB *db = store_db(store, DBI_SESSIONS);
	DBC *cur;
	uint8_t kbuf[STORE_SESSIONS_KEY_MAX];
	int count = 0;
	if (len > sizeof(kbuf))
		return store_err(store, "sessions: prefix too long");
	memcpy(kbuf, prefix, len);
	DBT k = { .data = kbuf, .size = (uint32_t)len, .ulen = sizeof(kbuf),
		  .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_PARTIAL };   /* values are not needed */
	int ret = db->cursor(db, txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "sessions cursor");
	ret = cur->get(cur, &k, &v, DB_SET_RANGE | DB_RMW);
	while (ret == 0 && k.size >= len && memcmp(kbuf, prefix, len) == 0) {
		if ((ret = cur->del(cur, 0)) != 0)
			break;
		count++;
		ret = cur->get(cur, &k, &v, DB_NEXT | DB_RMW);
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "sessions cursor");
	if (count_r != NULL)
		*count_r = count;
	return 1;
}

int session_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	struct destroy_user_ctx c = { .user_id = user_id, .keep = NULL };
	uint8_t key[PREFS_KEY_LEN];
	int r = destroy_user_txn(store, txn, &c);
	if (r < 0)
		return r;
	prefs_key(key, user_id);
	return sessions_del_prefix_txn(store, txn, key, sizeof(key), NULL);
}

int store_session_destroy_user(struct store *store, uint32_t user_id,
			       const uint8_t keep_id[STORE_SESSION_ID_LEN], const char **error_r)
{
	struct destroy_user_ctx c = { .user_id = user_id, .keep = keep_id };
	/* durable: signing the other sessions out is what makes a password
	 * change safe after a theft, it must not be undone by a power cut */
	if (store_write(store, true, destroy_user_txn, &c, error_r) < 0)
		return -1;
	return c.count;
}

/* Expired sessions removed per write transaction. */
#define EXPIRE_BATCH 256

struct expire_ctx {
	int64_t now;
	unsigned idle, absolute;
	uint8_t from[STORE_SESSION_ID_LEN];
	bool from_set, done;
	size_t n;
	int removed, count;
	uint8_t found[EXPIRE_BATCH][STORE_SESSION_ID_LEN];
};

/* A snapshot scan, from where the last batch stopped, for up to
 * EXPIRE_BATCH expired sessions: it holds no lock, so the webmail's
 * requests go on meanwhile (one write transaction over the whole database
 * held a write lock on every page it had walked, contacts included). */
static int expire_scan_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct expire_ctx *c = ctx;
	DBC *cur;
	uint8_t kbuf[STORE_SESSIONS_KEY_MAX], vbuf[SESSION_REC_LEN + 16];
	c->n = 0;
	c->done = false;
	int ret = store_db(store, DBI_SESSIONS)->cursor(store_db(store, DBI_SESSIONS), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "sessions cursor");
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = SESSION_SCAN_DBT(vbuf);
	if (c->from_set) {
		memcpy(kbuf, c->from, STORE_SESSION_ID_LEN);
		k.size = STORE_SESSION_ID_LEN;
		ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	} else {
		ret = cur->get(cur, &k, &v, DB_FIRST);
	}
	for (; ret == 0 && c->n < EXPIRE_BATCH; ret = cur->get(cur, &k, &v, DB_NEXT)) {
		struct store_session s;
		if (k.size != STORE_SESSION_ID_LEN)
			continue;       /* settings records */
		if (!session_unpack(vbuf, v.size, &s) ||
		    session_expired(&s, c->now, c->idle, c->absolute))
			memcpy(c->found[c->n++], kbuf, STORE_SESSION_ID_LEN);
	}
	cur->close(cur);
	if (ret == DB_NOTFOUND)
		c->done = true;
	else if (ret != 0)
		return store_dberr(store, ret, "sessions cursor");
	if (c->n > 0) {
		/* the next batch starts after the last one found */
		memcpy(c->from, c->found[c->n - 1], STORE_SESSION_ID_LEN);
		c->from_set = true;
	}
	return 1;
}

/* Deletes the sessions the scan found, each checked again under its lock:
 * one used since the scan stays. */
static int expire_del_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct expire_ctx *c = ctx;
	c->removed = 0;
	for (size_t i = 0; i < c->n; i++) {
		uint8_t vbuf[SESSION_REC_LEN + 16];
		DBT k = { .data = c->found[i], .size = STORE_SESSION_ID_LEN };
		DBT v = SESSION_SCAN_DBT(vbuf);
		DB *db = store_db(store, DBI_SESSIONS);
		int ret = db->get(db, txn, &k, &v, DB_RMW);
		if (ret == DB_NOTFOUND)
			continue;
		if (ret != 0)
			return store_dberr(store, ret, "sessions");
		struct store_session s;
		if (session_unpack(vbuf, v.size, &s) &&
		    !session_expired(&s, c->now, c->idle, c->absolute))
			continue;
		if ((ret = db->del(db, txn, &k, 0)) != 0)
			return store_dberr(store, ret, "sessions");
		c->removed++;
	}
	return 1;
}

int store_session_expire(struct store *store, int64_t now, unsigned idle, unsigned absolute,
			 const char **error_r)
{
	struct expire_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->now = now;
	c->idle = idle;
	c->absolute = absolute;
	int r;
	do {
		r = store_read(store, expire_scan_txn, c, error_r);
		if (r > 0 && c->n > 0 && (r = store_write(store, false, expire_del_txn, c, error_r)) > 0)
			c->count += c->removed;
	} while (r > 0 && !c->done);
	int count = r > 0 ? c->count : -1;
	free(c);
	return count;
}

/* ---------------------------------------------------------------- settings */

struct prefs_ctx {
	uint8_t key[PREFS_KEY_LEN];
	struct store_prefs *prefs;
};

static void prefs_key(uint8_t key[PREFS_KEY_LEN], uint32_t user_id)
{
	memcpy(key, "prefs", 5);
	be32_put(key + 5, user_id);
}

static void prefs_clamp(struct store_prefs *p)
{
	if (p->page_size < STORE_PREFS_PAGE_MIN)
		p->page_size = STORE_PREFS_PAGE_MIN;
	if (p->page_size > STORE_PREFS_PAGE_MAX)
		p->page_size = STORE_PREFS_PAGE_MAX;
	if (p->tz_minutes > STORE_PREFS_TZ_MAX)
		p->tz_minutes = STORE_PREFS_TZ_MAX;
	if (p->tz_minutes < -STORE_PREFS_TZ_MAX)
		p->tz_minutes = -STORE_PREFS_TZ_MAX;
	if (p->remote_images > STORE_REMOTE_IMAGES_KNOWN)
		p->remote_images = STORE_REMOTE_IMAGES_NEVER;
}

static int prefs_get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct prefs_ctx *c = ctx;
	uint8_t rec[PREFS_REC_LEN];
	size_t len;
	struct unpack u;
	int r = store_get(store, DBI_SESSIONS, txn, c->key, PREFS_KEY_LEN, rec, sizeof(rec), &len, 0);
	*c->prefs = (struct store_prefs){ .page_size = 50, .tz_minutes = 0, .prefer_html = true,
					      .remote_images = STORE_REMOTE_IMAGES_NEVER };
	if (r <= 0)
		return r < 0 ? r : 1;
	unpack_init(&u, rec, len);
	if (unpack_u8(&u) != PREFS_REC_VERSION)
		return 1;
	struct store_prefs p;
	p.page_size = unpack_u16(&u);
	p.tz_minutes = (int16_t)unpack_u16(&u);
	p.prefer_html = unpack_u8(&u) != 0;
	/* Records written before the field existed end here. */
	p.remote_images = u.pos < len ? unpack_u8(&u) : STORE_REMOTE_IMAGES_NEVER;
	p.zone[0] = '\0';
	if (u.pos < len)
		unpack_str(&u, p.zone, sizeof(p.zone));
	if (!u.error) {
		prefs_clamp(&p);
		*c->prefs = p;
	}
	return 1;
}

static int prefs_set_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct prefs_ctx *c = ctx;
	uint8_t rec[PREFS_REC_LEN];
	struct pack p;
	pack_init(&p, rec, sizeof(rec));
	pack_u8(&p, PREFS_REC_VERSION);
	pack_u16(&p, c->prefs->page_size);
	pack_u16(&p, (uint16_t)c->prefs->tz_minutes);
	pack_u8(&p, c->prefs->prefer_html ? 1 : 0);
	pack_u8(&p, c->prefs->remote_images);
	pack_str(&p, c->prefs->zone);
	if (p.overflow)
		return store_err(store, "settings: the time zone name is too long");
	int r = store_put(store, DBI_SESSIONS, txn, c->key, PREFS_KEY_LEN, rec, p.len, 0);
	return r < 0 ? r : 1;
}

int store_prefs_get(struct store *store, uint32_t user_id, struct store_prefs *prefs_r,
		    const char **error_r)
{
	struct prefs_ctx c = { .prefs = prefs_r };
	prefs_key(c.key, user_id);
	return store_read(store, prefs_get_txn, &c, error_r) < 0 ? -1 : 1;
}

int store_prefs_set(struct store *store, uint32_t user_id, const struct store_prefs *prefs,
		    const char **error_r)
{
	struct store_prefs p = *prefs;
	prefs_clamp(&p);
	struct prefs_ctx c = { .prefs = &p };
	prefs_key(c.key, user_id);
	return store_write(store, false, prefs_set_txn, &c, error_r) < 0 ? -1 : 1;
}
