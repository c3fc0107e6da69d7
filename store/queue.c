/* The outbound queue: entries, their schedule index and their leases
 * (queue.h for delivery, outq.h for the relay and the admin CLI).
 *
 * Record (outq.db, key = 16-byte id), version 4:
 *   u8 version, str sender, 16 bytes body id, u64 size, u64 created,
 *   u32 attempts, u64 next_try, u64 lease_until, str last_error,
 *   u32 n, n x {u8 state, str address, str reply, str mta, str status,
 *   u64 updated}, u64 last_try, u32 lease_pid, u64 lease_start,
 *   str dkim_domain, u8 dsn_ret, str envid, n x {u8 notify, str orcpt}.
 * Version 3 ends before dsn_ret (no DSN was asked for); version 2 before
 * dkim_domain (such an entry is sent unsigned);
 * version 1 (the first layout) ends after the recipients, which carry only
 * {state, address, reply}. All are read and rewritten as version 4. The
 * prefix up to the body id is the same in all (store check reads it).
 *
 * Schedule (outq_sched.db): key (u64 next_try BE, id) -> "". A claim does
 * not move the key: an entry under lease stays "due" in the index and the
 * record's lease says who holds it, so an entry whose holder died is found
 * by the very next scan. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "body.h"
#include "mime.h"
#include "outq.h"
#include "queue.h"

#define QUEUE_RECORD_V1 1
#define QUEUE_RECORD_V2 2
#define QUEUE_RECORD_V3 3
#define QUEUE_RECORD_VERSION 4
/* The largest record: the fixed part plus every recipient at its limits. */
#define QUEUE_RCPT_RECORD_MAX (1 + 2 + STORE_ADDRESS_MAX + 2 + OUTQ_REPLY_MAX + 2 + OUTQ_MTA_MAX + \
			       2 + 15 + 8 + 1 + 2 + STORE_DSN_ORCPT_MAX)
#define QUEUE_RECORD_MAX (256 + STORE_ADDRESS_MAX + OUTQ_ERROR_MAX + STORE_DOMAIN_MAX + \
			  STORE_DSN_ENVID_MAX + \
			  QUEUE_RCPTS_MAX * QUEUE_RCPT_RECORD_MAX)
#define QUEUE_SCHED_KEY_LEN (8 + QUEUE_ID_LEN)
/* Candidates read from the schedule per claim (more than `max`: some may
 * be held by a living relay). */
#define QUEUE_CLAIM_SCAN_MAX 1000

/* ------------------------------------------------------------ encoding */

static void id_hex(const uint8_t id[QUEUE_ID_LEN], char out[OUTQ_ID_HEX_LEN + 1])
{
	for (size_t i = 0; i < QUEUE_ID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool outq_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (i >= OUTQ_ID_HEX_LEN || hexval(id[i]) < 0)
			return false;
	return i == OUTQ_ID_HEX_LEN;
}

static bool id_parse(const char *hex, uint8_t id[QUEUE_ID_LEN])
{
	if (!outq_id_valid(hex))
		return false;
	for (size_t i = 0; i < QUEUE_ID_LEN; i++)
		id[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	return true;
}

void outq_entry_clear(struct outq_entry *entry)
{
	free(entry->rcpts);
	entry->rcpts = NULL;
	entry->nrcpts = 0;
}

/* Copies s into dst (size n) without CR, LF or other control bytes:
 * replies and errors are shown on one line (SECURITY.md 8). */
static void copy_line(char *dst, size_t n, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < n; s++)
		dst[o++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
	dst[o] = '\0';
}

static size_t entry_encode(const struct outq_entry *e, uint8_t *buf, size_t cap)
{
	struct pack p;

	pack_init(&p, buf, cap);
	pack_u8(&p, QUEUE_RECORD_VERSION);
	pack_str(&p, e->sender);
	pack_bytes(&p, e->body_id, STORE_BODY_ID_LEN);
	pack_u64(&p, e->size);
	pack_u64(&p, (uint64_t)e->created);
	pack_u32(&p, e->attempts);
	pack_u64(&p, (uint64_t)e->next_try);
	pack_u64(&p, (uint64_t)e->lease_until);
	pack_str(&p, e->last_error);
	pack_u32(&p, e->nrcpts);
	for (uint32_t i = 0; i < e->nrcpts; i++) {
		const struct outq_rcpt *r = &e->rcpts[i];

		pack_u8(&p, (uint8_t)r->state);
		pack_str(&p, r->address);
		pack_str(&p, r->reply);
		pack_str(&p, r->mta);
		pack_str(&p, r->status);
		pack_u64(&p, (uint64_t)r->updated);
	}
	pack_u64(&p, (uint64_t)e->last_try);
	pack_u32(&p, (uint32_t)e->lease_pid);
	pack_u64(&p, e->lease_start);
	pack_str(&p, e->dkim_domain);
	pack_u8(&p, (uint8_t)e->dsn_ret);
	pack_str(&p, e->envid);
	for (uint32_t i = 0; i < e->nrcpts; i++) {
		pack_u8(&p, e->rcpts[i].notify);
		pack_str(&p, e->rcpts[i].orcpt);
	}
	return p.overflow ? 0 : p.len;
}

/* 1 decoded (rcpts allocated), 0 damaged record, -1 out of memory. */
static int entry_decode(const uint8_t id[QUEUE_ID_LEN], const void *data, size_t len,
			struct outq_entry *e)
{
	struct unpack u;
	uint8_t version;
	const void *body;

	memset(e, 0, sizeof(*e));
	id_hex(id, e->id);
	unpack_init(&u, data, len);
	version = unpack_u8(&u);
	if (version < QUEUE_RECORD_V1 || version > QUEUE_RECORD_VERSION)
		return 0;
	unpack_str(&u, e->sender, sizeof(e->sender));
	body = unpack_bytes(&u, STORE_BODY_ID_LEN);
	if (body != NULL)
		memcpy(e->body_id, body, STORE_BODY_ID_LEN);
	e->size = unpack_u64(&u);
	e->created = (int64_t)unpack_u64(&u);
	e->attempts = unpack_u32(&u);
	e->next_try = (int64_t)unpack_u64(&u);
	e->lease_until = (int64_t)unpack_u64(&u);
	unpack_str(&u, e->last_error, sizeof(e->last_error));
	e->nrcpts = unpack_u32(&u);
	if (u.error || e->nrcpts == 0 || e->nrcpts > QUEUE_RCPTS_MAX) {
		e->nrcpts = 0;
		return 0;
	}
	e->rcpts = calloc(e->nrcpts, sizeof(*e->rcpts));
	if (e->rcpts == NULL) {
		e->nrcpts = 0;
		return -1;
	}
	for (uint32_t i = 0; i < e->nrcpts; i++) {
		struct outq_rcpt *r = &e->rcpts[i];
		uint8_t state = unpack_u8(&u);

		r->state = state <= OUTQ_RCPT_DELIVERED ? (enum outq_rcpt_state)state
							: OUTQ_RCPT_PENDING;
		unpack_str(&u, r->address, sizeof(r->address));
		unpack_str(&u, r->reply, sizeof(r->reply));
		if (version >= 2) {
			unpack_str(&u, r->mta, sizeof(r->mta));
			unpack_str(&u, r->status, sizeof(r->status));
			r->updated = (int64_t)unpack_u64(&u);
		}
	}
	if (version >= 2) {
		e->last_try = (int64_t)unpack_u64(&u);
		e->lease_pid = (int32_t)unpack_u32(&u);
		e->lease_start = unpack_u64(&u);
	}
	if (version >= 3)
		unpack_str(&u, e->dkim_domain, sizeof(e->dkim_domain));
	if (version >= 4) {
		uint8_t ret = unpack_u8(&u);

		e->dsn_ret = ret <= STORE_DSN_RET_HDRS ? (enum store_dsn_ret)ret
						       : STORE_DSN_RET_DEFAULT;
		unpack_str(&u, e->envid, sizeof(e->envid));
		for (uint32_t i = 0; i < e->nrcpts; i++) {
			e->rcpts[i].notify = unpack_u8(&u);
			unpack_str(&u, e->rcpts[i].orcpt, sizeof(e->rcpts[i].orcpt));
		}
	}
	if (u.error) {
		outq_entry_clear(e);
		return 0;
	}
	return 1;
}

static void sched_key(uint8_t key[QUEUE_SCHED_KEY_LEN], int64_t next_try, const uint8_t id[QUEUE_ID_LEN])
{
	be64_put(key, next_try < 0 ? 0 : (uint64_t)next_try);
	memcpy(key + 8, id, QUEUE_ID_LEN);
}

/* ---------------------------------------------------------------- leases */

/* The start time of process `pid` in clock ticks since boot (field 22 of
 * /proc/PID/stat), 0 if it does not exist or is a zombie. */
static uint64_t proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	int fd;
	ssize_t n;
	const char *p;
	unsigned field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold anything: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return 0;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (field = 3; field < 22 && *p != '\0'; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

static uint64_t self_start_time(void)
{
	static uint64_t start;
	static pid_t pid;

	/* Computed again after a fork. */
	if (start == 0 || pid != getpid()) {
		pid = getpid();
		start = proc_start_time(pid);
		if (start == 0)
			start = 1; /* no /proc: the lease expiry alone protects */
	}
	return start;
}

/* true if the lease recorded in e is held by a living process. A holder
 * that cannot be checked (no /proc) counts as alive until the lease ends. */
static bool holder_alive(const struct outq_entry *e)
{
	uint64_t start;

	if (e->lease_pid <= 0)
		return false;
	if (e->lease_pid == getpid())
		return e->lease_start == self_start_time();
	if (access("/proc/self/stat", R_OK) != 0)
		return kill(e->lease_pid, 0) == 0 || errno == EPERM;
	start = proc_start_time(e->lease_pid);
	return start != 0 && start == e->lease_start;
}

bool outq_entry_leased(const struct outq_entry *e, int64_t now)
{
	return e->lease_pid > 0 && e->lease_until > now && holder_alive(e);
}

static bool lease_is_mine(const struct outq_entry *e)
{
	return e->lease_pid == getpid() && e->lease_start == self_start_time();
}

/* ---------------------------------------------------------------- adding */

int queue_add_txn(struct store *store, DB_TXN *txn, const struct queue_new *q,
		  char id_hex_r[2 * QUEUE_ID_LEN + 1])
{
	uint8_t id[QUEUE_ID_LEN], sched[QUEUE_SCHED_KEY_LEN];
	struct outq_entry e;
	int64_t now = (int64_t)time(NULL);
	size_t n = q->n;
	int r;

	if (n == 0 || n > QUEUE_RCPTS_MAX)
		return store_err(store, "queue: bad recipient count %zu", n);
	if (getrandom(id, sizeof(id), 0) != sizeof(id))
		return store_err(store, "getrandom failed");
	memset(&e, 0, sizeof(e));
	snprintf(e.sender, sizeof(e.sender), "%s", q->sender);
	snprintf(e.dkim_domain, sizeof(e.dkim_domain), "%s",
		 q->dkim_domain != NULL ? q->dkim_domain : "");
	e.dsn_ret = q->dsn_ret;
	copy_line(e.envid, sizeof(e.envid), q->dsn_envid != NULL ? q->dsn_envid : "");
	memcpy(e.body_id, q->body->id, STORE_BODY_ID_LEN);
	e.size = q->body->size;
	e.created = now;
	e.next_try = now;
	e.nrcpts = (uint32_t)n;
	e.rcpts = calloc(n, sizeof(*e.rcpts));
	size_t cap = 256 + STORE_ADDRESS_MAX + STORE_DOMAIN_MAX + STORE_DSN_ENVID_MAX +
		     n * QUEUE_RCPT_RECORD_MAX;
	uint8_t *buf = malloc(cap);
	if (e.rcpts == NULL || buf == NULL) {
		free(e.rcpts);
		free(buf);
		return store_err(store, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct outq_rcpt *rc = &e.rcpts[i];

		snprintf(rc->address, sizeof(rc->address), "%s", q->rcpts[i]);
		if (q->dsn != NULL) {
			rc->notify = q->dsn[i].notify;
			copy_line(rc->orcpt, sizeof(rc->orcpt),
				  q->dsn[i].orcpt != NULL ? q->dsn[i].orcpt : "");
		}
		if (q->delivered != NULL) {
			rc->state = OUTQ_RCPT_DELIVERED;
			copy_line(rc->reply, sizeof(rc->reply), q->delivered);
			snprintf(rc->status, sizeof(rc->status), "2.0.0");
			rc->updated = now;
		}
	}
	size_t len = entry_encode(&e, buf, cap);
	if (len == 0)
		r = store_err(store, "queue record overflow");
	else
		r = store_put(store, DBI_OUTQ, txn, id, sizeof(id), buf, len, 0);
	free(buf);
	free(e.rcpts);
	if (r < 0)
		return r;
	sched_key(sched, now, id);
	if ((r = store_put(store, DBI_OUTQ_SCHED, txn, sched, sizeof(sched), "", 0, 0)) < 0)
		return r;
	if ((r = body_use_txn(store, txn, q->body, 1)) < 0)
		return r;
	id_hex(id, id_hex_r);
	return 1;
}

enum outq_rcpt_state outq_rcpt_done_state(const struct outq_entry *e, const struct outq_rcpt *rc,
					  bool reported)
{
	return !reported && e->sender[0] != '\0' && (rc->notify & STORE_DSN_NOTIFY_SUCCESS)
	       ? OUTQ_RCPT_DELIVERED : OUTQ_RCPT_SENT;
}

bool outq_rcpt_failure_wanted(const struct outq_entry *e, const struct outq_rcpt *rc)
{
	return e->sender[0] != '\0' && (rc->notify == 0 || (rc->notify & STORE_DSN_NOTIFY_FAILURE));
}

/* ------------------------------------------------------- record access */

/* Reads entry `id` inside txn (flags: DB_RMW for writers). 1, 0, <0. */
static int entry_read_txn(struct store *store, DB_TXN *txn, const uint8_t id[QUEUE_ID_LEN],
			  uint32_t flags, struct outq_entry *e)
{
	uint8_t *buf = malloc(QUEUE_RECORD_MAX);
	size_t len;
	int r;

	if (buf == NULL)
		return store_err(store, "out of memory");
	r = store_get(store, DBI_OUTQ, txn, id, QUEUE_ID_LEN, buf, QUEUE_RECORD_MAX, &len, flags);
	if (r == 1) {
		r = entry_decode(id, buf, len, e);
		if (r == 0)
			r = store_err(store, "outq.db: entry %s is damaged", e->id);
		else if (r < 0)
			r = store_err(store, "out of memory");
	}
	free(buf);
	return r;
}

static int entry_write_txn(struct store *store, DB_TXN *txn, const uint8_t id[QUEUE_ID_LEN],
			   const struct outq_entry *e)
{
	size_t cap = 256 + STORE_ADDRESS_MAX + OUTQ_ERROR_MAX + STORE_DOMAIN_MAX +
		     (size_t)e->nrcpts * QUEUE_RCPT_RECORD_MAX;
	uint8_t *buf = malloc(cap);
	size_t len;
	int r;

	if (buf == NULL)
		return store_err(store, "out of memory");
	len = entry_encode(e, buf, cap);
	r = len == 0 ? store_err(store, "queue record overflow")
		     : store_put(store, DBI_OUTQ, txn, id, QUEUE_ID_LEN, buf, len, 0);
	free(buf);
	return r < 0 ? r : 1;
}

/* Moves the schedule key of an entry from old_next to new_next. */
static int sched_move_txn(struct store *store, DB_TXN *txn, const uint8_t id[QUEUE_ID_LEN],
			  int64_t old_next, int64_t new_next)
{
	uint8_t key[QUEUE_SCHED_KEY_LEN];
	int r;

	if (old_next == new_next)
		return 1;
	sched_key(key, old_next, id);
	if ((r = store_del(store, DBI_OUTQ_SCHED, txn, key, sizeof(key))) < 0)
		return r;
	sched_key(key, new_next, id);
	r = store_put(store, DBI_OUTQ_SCHED, txn, key, sizeof(key), "", 0, 0);
	return r < 0 ? r : 1;
}

/* Removes an entry, its schedule key and its body reference. */
static int entry_remove_txn(struct store *store, DB_TXN *txn, const uint8_t id[QUEUE_ID_LEN],
			    const struct outq_entry *stored)
{
	uint8_t key[QUEUE_SCHED_KEY_LEN];
	int r;

	if ((r = store_del(store, DBI_OUTQ, txn, id, QUEUE_ID_LEN)) < 0)
		return r;
	sched_key(key, stored->next_try, id);
	if ((r = store_del(store, DBI_OUTQ_SCHED, txn, key, sizeof(key))) < 0)
		return r;
	r = body_ref_txn(store, txn, stored->body_id, -1);
	return r < 0 ? r : 1;
}

/* ---------------------------------------------------------------- reading */

struct list_ctx {
	int (*cb)(const struct outq_entry *entry, void *ctx);
	void *ctx;
	int stopped;
};

static int list_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct list_ctx *c = ctx;
	DB *db = store_db(store, DBI_OUTQ);
	uint8_t kb[QUEUE_ID_LEN];
	uint8_t *vb = malloc(QUEUE_RECORD_MAX);
	DBC *cur;
	int ret;

	c->stopped = 0;
	if (vb == NULL)
		return store_err(store, "out of memory");
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0) {
		free(vb);
		return store_dberr(store, ret, "outq cursor");
	}
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vb, .ulen = QUEUE_RECORD_MAX, .flags = DB_DBT_USERMEM };
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		struct outq_entry e;
		int r;

		if (k.size != QUEUE_ID_LEN)
			continue;
		r = entry_decode(kb, vb, v.size, &e);
		if (r < 0) {
			ret = ENOMEM;
			break;
		}
		if (r == 0)
			continue; /* damaged: `store check` reports it */
		r = c->cb(&e, c->ctx);
		outq_entry_clear(&e);
		if (r != 0) {
			c->stopped = r;
			break;
		}
	}
	cur->close(cur);
	free(vb);
	if (ret != 0 && ret != DB_NOTFOUND && c->stopped == 0)
		return ret == ENOMEM ? store_err(store, "out of memory")
				     : store_dberr(store, ret, "outq cursor");
	return 1;
}

int outq_list(struct store *store, int (*cb)(const struct outq_entry *entry, void *ctx),
	      void *ctx, const char **error_r)
{
	struct list_ctx c = { cb, ctx, 0 };
	int r = store_read(store, list_txn, &c, error_r);

	return r == 1 && c.stopped != 0 ? c.stopped : r;
}

struct get_ctx {
	uint8_t id[QUEUE_ID_LEN];
	struct outq_entry *entry;
};

static int get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct get_ctx *c = ctx;

	return entry_read_txn(store, txn, c->id, 0, c->entry);
}

int outq_get(struct store *store, const char *id, struct outq_entry *entry_r,
	     const char **error_r)
{
	struct get_ctx c = { .entry = entry_r };

	memset(entry_r, 0, sizeof(*entry_r));
	if (!id_parse(id, c.id))
		return 0;
	return store_read(store, get_txn, &c, error_r);
}

/* --------------------------------------------------------------- claiming */

struct due_ctx {
	int64_t now;
	uint8_t (*ids)[QUEUE_ID_LEN];
	size_t n, max;
};

/* Snapshot: ids whose schedule key is due, oldest first. */
static int due_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct due_ctx *c = ctx;
	DB *db = store_db(store, DBI_OUTQ_SCHED);
	uint8_t kb[QUEUE_SCHED_KEY_LEN + 8];
	DBC *cur;
	int ret;

	c->n = 0;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "outq_sched cursor");
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_PARTIAL }; /* the value is empty: read nothing */
	while (c->n < c->max && (ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		if (k.size != QUEUE_SCHED_KEY_LEN)
			continue;
		if ((int64_t)be64_get(kb) > c->now)
			break;
		memcpy(c->ids[c->n++], kb + 8, QUEUE_ID_LEN);
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "outq_sched cursor");
	return 1;
}

struct claim_ctx {
	const uint8_t (*cand)[QUEUE_ID_LEN];
	size_t ncand;
	bool any_time;          /* claim whatever the next attempt time (by id) */
	int64_t now;
	unsigned lease;
	size_t max;
	char (*ids_r)[OUTQ_ID_HEX_LEN + 1];
	size_t n;
};

static int claim_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct claim_ctx *c = ctx;

	c->n = 0;
	for (size_t i = 0; i < c->ncand && c->n < c->max; i++) {
		struct outq_entry e;
		int r = entry_read_txn(store, txn, c->cand[i], DB_RMW, &e);

		if (r < 0)
			return r;
		if (r == 0)
			continue; /* delivered and deleted meanwhile */
		if ((!c->any_time && e.next_try > c->now) || outq_entry_leased(&e, c->now)) {
			outq_entry_clear(&e);
			continue;
		}
		e.lease_pid = (int32_t)getpid();
		e.lease_start = self_start_time();
		e.lease_until = c->now + c->lease;
		r = entry_write_txn(store, txn, c->cand[i], &e);
		if (r >= 0)
			snprintf(c->ids_r[c->n++], OUTQ_ID_HEX_LEN + 1, "%s", e.id);
		outq_entry_clear(&e);
		if (r < 0)
			return r;
	}
	return 1;
}

int outq_claim(struct store *store, const char *id, int64_t now, unsigned lease_seconds,
	       size_t max, char (*ids_r)[OUTQ_ID_HEX_LEN + 1], const char **error_r)
{
	struct claim_ctx c = { .now = now, .lease = lease_seconds, .ids_r = ids_r, .max = max };
	uint8_t one[1][QUEUE_ID_LEN];
	struct due_ctx d = { .now = now };
	int r;

	if (max == 0)
		return 0;
	if (id != NULL) {
		if (!id_parse(id, one[0]))
			return 0;
		c.cand = (const uint8_t (*)[QUEUE_ID_LEN])one;
		c.ncand = 1;
		c.any_time = true;
		c.max = 1;
	} else {
		d.max = QUEUE_CLAIM_SCAN_MAX;
		d.ids = calloc(d.max, QUEUE_ID_LEN);
		if (d.ids == NULL) {
			*error_r = "out of memory";
			return -1;
		}
		r = store_read(store, due_txn, &d, error_r);
		if (r < 0 || d.n == 0) {
			free(d.ids);
			return r < 0 ? -1 : 0;
		}
		c.cand = (const uint8_t (*)[QUEUE_ID_LEN])d.ids;
		c.ncand = d.n;
	}
	r = store_write(store, true, claim_txn, &c, error_r);
	free(d.ids);
	return r < 0 ? -1 : (int)c.n;
}

struct renew_ctx {
	uint8_t id[QUEUE_ID_LEN];
	int64_t until;
};

static int renew_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct renew_ctx *c = ctx;
	struct outq_entry e;
	int r = entry_read_txn(store, txn, c->id, DB_RMW, &e);

	if (r <= 0)
		return r;
	if (!lease_is_mine(&e)) {
		outq_entry_clear(&e);
		return 0;
	}
	e.lease_until = c->until;
	r = entry_write_txn(store, txn, c->id, &e);
	outq_entry_clear(&e);
	return r;
}

int outq_renew(struct store *store, const char *id, int64_t now, unsigned lease_seconds,
	       const char **error_r)
{
	struct renew_ctx c = { .until = now + lease_seconds };

	if (!id_parse(id, c.id))
		return 0;
	/* Not durable: losing a renewal in a power cut costs nothing. */
	return store_write(store, false, renew_txn, &c, error_r);
}

int queue_rcpts_settle_txn(struct store *store, DB_TXN *txn, const char *id_hex,
			   const uint32_t *rcpts, size_t n, bool dsn)
{
	uint8_t id[QUEUE_ID_LEN];
	struct outq_entry e;
	int64_t now = (int64_t)time(NULL);
	int r;

	if (!id_parse(id_hex, id))
		return store_err(store, "queue: bad id");
	r = entry_read_txn(store, txn, id, DB_RMW, &e);
	if (r <= 0)
		return r < 0 ? r : store_err(store, "queue entry %s is gone", id_hex);
	r = lease_is_mine(&e) ? 1 : -1;
	for (size_t k = 0; k < n && r > 0; k++) {
		struct outq_rcpt *rc = rcpts[k] < e.nrcpts ? &e.rcpts[rcpts[k]] : NULL;

		if (rc == NULL || (dsn ? rc->state != OUTQ_RCPT_FAILED &&
					 rc->state != OUTQ_RCPT_DELIVERED
				       : rc->state != OUTQ_RCPT_FAILED &&
					 rc->state != OUTQ_RCPT_PENDING)) {
			r = -1;
			break;
		}
		if (dsn) {
			rc->state = rc->state == OUTQ_RCPT_FAILED ? OUTQ_RCPT_RETURNED
								  : OUTQ_RCPT_SENT;
			continue;
		}
		rc->state = outq_rcpt_done_state(&e, rc, false);
		copy_line(rc->reply, sizeof(rc->reply), "delivered locally");
		snprintf(rc->status, sizeof(rc->status), "2.0.0");
		rc->mta[0] = '\0';
		rc->updated = now;
	}
	r = r < 0 ? store_err(store, "queue entry %s: no longer ours to deliver", id_hex)
		  : entry_write_txn(store, txn, id, &e);
	outq_entry_clear(&e);
	return r;
}

/* -------------------------------------------------------------- committing */

struct commit_ctx {
	uint8_t id[QUEUE_ID_LEN];
	const struct outq_entry *mine;
	bool release;
	bool deleted;
};

/* The state a recipient ends up in when the stored record says `stored`
 * and this relay says `mine` (forward moves only). */
static enum outq_rcpt_state merge_state(enum outq_rcpt_state stored, enum outq_rcpt_state mine)
{
	if (stored == OUTQ_RCPT_PENDING)
		return mine;
	if (stored == OUTQ_RCPT_FAILED && (mine == OUTQ_RCPT_RETURNED || mine == OUTQ_RCPT_SENT ||
					   mine == OUTQ_RCPT_DELIVERED))
		return mine;
	if (stored == OUTQ_RCPT_DELIVERED && mine == OUTQ_RCPT_SENT)
		return mine;
	return stored;
}

static bool entry_finished(const struct outq_entry *e)
{
	for (uint32_t i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].state == OUTQ_RCPT_PENDING || e->rcpts[i].state == OUTQ_RCPT_FAILED ||
		    e->rcpts[i].state == OUTQ_RCPT_DELIVERED)
			return false;
	return true;
}

static int commit_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct commit_ctx *c = ctx;
	const struct outq_entry *mine = c->mine;
	struct outq_entry e;
	int64_t old_next, now = (int64_t)time(NULL);
	bool bounced = false;
	int r = entry_read_txn(store, txn, c->id, DB_RMW, &e);

	c->deleted = false;
	if (r <= 0)
		return r;
	if (!lease_is_mine(&e) || e.nrcpts != mine->nrcpts) {
		outq_entry_clear(&e);
		return 0;
	}
	for (uint32_t i = 0; i < e.nrcpts; i++) {
		struct outq_rcpt *s = &e.rcpts[i];
		const struct outq_rcpt *m = &mine->rcpts[i];
		enum outq_rcpt_state st = merge_state(s->state, m->state);

		if (st == OUTQ_RCPT_FAILED && m->state == OUTQ_RCPT_PENDING)
			bounced = true; /* by outq_bounce meanwhile */

		if (st == m->state) {
			copy_line(s->reply, sizeof(s->reply), m->reply);
			copy_line(s->mta, sizeof(s->mta), m->mta);
			copy_line(s->status, sizeof(s->status), m->status);
			s->updated = m->updated;
		}
		s->state = st;
	}
	e.attempts = mine->attempts;
	e.last_try = mine->last_try;
	copy_line(e.last_error, sizeof(e.last_error), mine->last_error);
	if (entry_finished(&e)) {
		r = entry_remove_txn(store, txn, c->id, &e);
		c->deleted = r > 0;
		outq_entry_clear(&e);
		return r;
	}
	old_next = e.next_try;
	if (c->release) {
		e.next_try = mine->next_try;
		/* outq_bounce made it due now: this relay's retry time would
		 * hold its DSN back. */
		if (bounced && e.next_try > now)
			e.next_try = now;
		e.lease_pid = 0;
		e.lease_start = 0;
		e.lease_until = 0;
	}
	r = entry_write_txn(store, txn, c->id, &e);
	if (r > 0)
		r = sched_move_txn(store, txn, c->id, old_next, e.next_try);
	outq_entry_clear(&e);
	return r;
}

int outq_commit(struct store *store, const struct outq_entry *entry, bool release,
		bool *deleted_r, const char **error_r)
{
	struct commit_ctx c = { .mine = entry, .release = release };
	int r;

	if (deleted_r != NULL)
		*deleted_r = false;
	if (!id_parse(entry->id, c.id))
		return 0;
	r = store_write(store, true, commit_txn, &c, error_r);
	if (r == 1 && deleted_r != NULL)
		*deleted_r = c.deleted;
	return r;
}

/* ----------------------------------------------------------- administration */

struct admin_ctx {
	uint8_t id[QUEUE_ID_LEN];
	int64_t now;
	const char *reason;
	int count;
};

static int delete_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct admin_ctx *c = ctx;
	struct outq_entry e;
	int r = entry_read_txn(store, txn, c->id, DB_RMW, &e);

	if (r <= 0)
		return r;
	r = entry_remove_txn(store, txn, c->id, &e);
	outq_entry_clear(&e);
	return r;
}

int outq_delete(struct store *store, const char *id, const char **error_r)
{
	struct admin_ctx c = { .now = time(NULL) };

	if (!id_parse(id, c.id))
		return 0;
	return store_write(store, true, delete_txn, &c, error_r);
}

/* Makes one entry due now unless a living relay holds it: 1 changed, 0 not. */
static int flush_one_txn(struct store *store, DB_TXN *txn, struct admin_ctx *c,
			 const uint8_t id[QUEUE_ID_LEN])
{
	struct outq_entry e;
	int64_t old_next;
	int r = entry_read_txn(store, txn, id, DB_RMW, &e);

	if (r <= 0)
		return r;
	if (outq_entry_leased(&e, c->now) || e.next_try <= c->now) {
		outq_entry_clear(&e);
		return 0;
	}
	old_next = e.next_try;
	e.next_try = c->now;
	r = entry_write_txn(store, txn, id, &e);
	if (r > 0)
		r = sched_move_txn(store, txn, id, old_next, e.next_try);
	outq_entry_clear(&e);
	return r;
}

static int flush_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct admin_ctx *c = ctx;
	DB *db = store_db(store, DBI_OUTQ);
	uint8_t (*ids)[QUEUE_ID_LEN] = NULL;
	size_t n = 0, cap = 0;
	DBC *cur;
	int ret, r = 1;

	c->count = 0;
	/* The ids first (keys only), then one record at a time. */
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "outq cursor");
	uint8_t kb[QUEUE_ID_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_PARTIAL };
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		if (k.size != QUEUE_ID_LEN)
			continue;
		if (n == cap) {
			size_t ncap = cap == 0 ? 64 : cap * 2;
			void *p = realloc(ids, ncap * QUEUE_ID_LEN);

			if (p == NULL) {
				ret = ENOMEM;
				break;
			}
			ids = p;
			cap = ncap;
		}
		memcpy(ids[n++], kb, QUEUE_ID_LEN);
	}
	cur->close(cur);
	if (ret != DB_NOTFOUND) {
		free(ids);
		return ret == ENOMEM ? store_err(store, "out of memory")
				     : store_dberr(store, ret, "outq cursor");
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = flush_one_txn(store, txn, c, ids[i]);
		if (r > 0)
			c->count++;
	}
	free(ids);
	return r < 0 ? r : 1;
}

static int flush_id_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct admin_ctx *c = ctx;
	struct outq_entry e;
	int r = entry_read_txn(store, txn, c->id, 0, &e);

	c->count = 0;
	if (r <= 0)
		return r;
	outq_entry_clear(&e);
	r = flush_one_txn(store, txn, c, c->id);
	if (r < 0)
		return r;
	c->count = r;
	return 1;
}

int outq_flush(struct store *store, const char *id, const char **error_r)
{
	struct admin_ctx c = { .now = time(NULL) };
	int r;

	if (id != NULL && !id_parse(id, c.id))
		return 0;
	r = store_write(store, true, id != NULL ? flush_id_txn : flush_txn, &c, error_r);
	return r < 0 ? -1 : c.count;
}

static int bounce_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct admin_ctx *c = ctx;
	struct outq_entry e;
	int64_t old_next;
	int r = entry_read_txn(store, txn, c->id, DB_RMW, &e);

	if (r <= 0)
		return r;
	for (uint32_t i = 0; i < e.nrcpts; i++) {
		struct outq_rcpt *rc = &e.rcpts[i];

		if (rc->state != OUTQ_RCPT_PENDING)
			continue;
		rc->state = OUTQ_RCPT_FAILED;
		copy_line(rc->reply, sizeof(rc->reply), c->reason);
		rc->mta[0] = '\0';
		snprintf(rc->status, sizeof(rc->status), "5.0.0");
		rc->updated = c->now;
	}
	old_next = e.next_try;
	if (e.next_try > c->now)
		e.next_try = c->now;
	r = entry_write_txn(store, txn, c->id, &e);
	if (r > 0)
		r = sched_move_txn(store, txn, c->id, old_next, e.next_try);
	outq_entry_clear(&e);
	return r;
}

int outq_bounce(struct store *store, const char *id, const char *reason, const char **error_r)
{
	struct admin_ctx c = { .now = time(NULL), .reason = reason };

	if (!id_parse(id, c.id))
		return 0;
	return store_write(store, true, bounce_txn, &c, error_r);
}

/* ------------------------------------------------------------------ bodies */

struct body_ctx {
	const struct outq_entry *entry;
	struct body_record rec;
	void *mime;          /* copy of the cache (inline) or NULL */
	size_t mime_len;
	bool in_file;
};

static int body_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct body_ctx *c = ctx;
	int r = body_record_get(store, txn, c->entry->body_id, &c->rec);

	if (r <= 0)
		return r;
	c->in_file = c->rec.mime_where == BODY_MIME_FILE;
	if (!c->in_file && c->rec.mime_len > 0) {
		c->mime = malloc(c->rec.mime_len);
		if (c->mime == NULL)
			return store_err(store, "out of memory");
		memcpy(c->mime, c->rec.mime, c->rec.mime_len);
		c->mime_len = c->rec.mime_len;
	}
	return 1;
}

int outq_body_open(struct store *store, const struct outq_entry *entry, int *fd_r,
		   uint64_t *header_len_r, const char **error_r)
{
	struct body_ctx *c = calloc(1, sizeof(*c));
	struct mime_message *msg = NULL;
	int r, fd;

	*fd_r = -1;
	*header_len_r = 0;
	if (c == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	c->entry = entry;
	r = store_read(store, body_txn, c, error_r);
	if (r <= 0) {
		if (r == 0)
			*error_r = "the body has no record";
		free(c);
		return r;
	}
	if (c->in_file) {
		size_t len;

		if (body_mime_read(store, entry->body_id, &c->mime, &len) < 0) {
			*error_r = store_last_error(store);
			free(c);
			return -1;
		}
		c->mime_len = len;
	}
	if (c->mime != NULL && mime_cache_decode(c->mime, c->mime_len, &msg, error_r) == 1) {
		*header_len_r = msg->root->header_len;
		mime_message_free(&msg);
	}
	uint8_t stored = c->rec.stored;
	free(c->mime);
	free(c);
	r = body_fd_open(store, entry->body_id, stored, &fd);
	if (r <= 0) {
		*error_r = r < 0 ? store_last_error(store) : "the body is gone";
		return r;
	}
	*fd_r = fd;
	return 1;
}
