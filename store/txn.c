/* Transactions, errors and record access shared by every store file. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "process.h"
#include "store_int.h"

/* A deadlock victim retries; past this many the call fails temporarily. */
#define TXN_RETRY_MAX 30

static __thread char store_errbuf[1024];
/* The last error was the file system being full (store_error_no_space). */
static __thread bool store_err_nospace;

const char *store_last_error(struct store *store)
{
	(void)store;
	return store_errbuf[0] != '\0' ? store_errbuf : "unknown store error";
}

bool store_error_no_space(struct store *store)
{
	(void)store;
	return store_err_nospace;
}

static bool errno_no_space(int err)
{
	return err == ENOSPC || err == EDQUOT;
}

/* Formatted aside first: callers pass store_last_error() as an argument
 * ("%s: %s", address, store_last_error(store)), and formatting into the
 * buffer being read garbled the message. */
static void __attribute__((format(printf, 1, 0))) set_error(const char *fmt, va_list ap)
{
	char tmp[sizeof(store_errbuf)];
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	memcpy(store_errbuf, tmp, sizeof(tmp));
	store_err_nospace = false;
}

int store_err(struct store *store, const char *fmt, ...)
{
	va_list ap;
	(void)store;
	va_start(ap, fmt);
	set_error(fmt, ap);
	va_end(ap);
	return -1;
}

int store_syserr(struct store *store, int err, const char *fmt, ...)
{
	va_list ap;
	(void)store;
	va_start(ap, fmt);
	set_error(fmt, ap);
	va_end(ap);
	store_err_nospace = errno_no_space(err);
	return -1;
}

int store_refuse(struct store *store, const char *fmt, ...)
{
	va_list ap;
	(void)store;
	va_start(ap, fmt);
	set_error(fmt, ap);
	va_end(ap);
	return STORE_TXN_REFUSE;
}

int store_dberr(struct store *store, int ret, const char *what)
{
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
		return STORE_TXN_RETRY;
	if (ret == DB_RUNRECOVERY)
		store_panic(store);
	if (errno_no_space(ret))
		return store_syserr(store, ret, "store: %s: %s (the store's file system is full)",
				    what, db_strerror(ret));
	return store_err(store, "store: %s: %s", what, db_strerror(ret));
}

unsigned store_watchdog_arm(struct store *store)
{
	return alarm(store->config->watchdog_seconds);
}

void store_watchdog_restore(unsigned previous)
{
	alarm(previous);
}

static void backoff(int attempt)
{
	struct timespec ts = { 0, (long)(random() % 1000 + 200) * 1000L * (attempt < 10 ? attempt : 10) };
	nanosleep(&ts, NULL);
}

/* The commit record of a commit token (DB_TXN_TOKEN, 5.3's layout: five
 * big-endian words, version 1, generation, environment id, LSN file and
 * offset). 0 if there is none (the transaction wrote nothing). */
static int commit_token_lsn(const DB_TXN_TOKEN *token, DB_LSN *lsn)
{
	if (be32_get(token->buf) != 1)
		return 0;
	lsn->file = be32_get(token->buf + 12);
	lsn->offset = be32_get(token->buf + 16);
	return lsn->file != 0 ? 1 : 0;
}

/* Berkeley DB 5.3 reports a durable commit as done although its log write
 * failed when the commit record is the first of a new log file
 * (__log_flush_commit compares only file numbers). A log file that cannot
 * be created on a full disk does just that: acknowledged deliveries were
 * lost at the next recovery (tests/store/test_disk_full.py). So the record
 * is flushed once more, which reports the truth. If that fails, the
 * transaction is committed in the shared cache, where others may read it,
 * but not on disk: only recovery makes the two agree again, so the
 * environment is marked panicked and this process leaves unanswered. */
static void commit_durable_check(struct store *store, const DB_TXN_TOKEN *token)
{
	DB_LSN lsn;
	if (commit_token_lsn(token, &lsn) == 0)
		return;
	int ret = store->env->log_flush(store->env, &lsn);
	if (ret == 0)
		return;
	log_error("store: a durable commit could not be written to the log (%s): "
		  "nothing was acknowledged; recovering the store", db_strerror(ret));
	store->env->set_flags(store->env, DB_PANIC_ENVIRONMENT, 1);
	store_panic(store);
}

/* commit_flags: 0 for a read-only (snapshot) transaction, else the commit's
 * durability. */
static int run_txn(struct store *store, bool write, uint32_t commit_flags, store_txn_fn *fn,
		   void *ctx, const char **error_r)
{
	unsigned previous = store_watchdog_arm(store);
	int result = -1;
	/* Threaded processes hold every handle open for writing already. */
	bool was_writing = store->writing;
	if (!store->threaded)
		store->writing = write;
	store_errbuf[0] = '\0';
	store_err_nospace = false;
	for (int attempt = 0; attempt < TXN_RETRY_MAX; attempt++) {
		DB_TXN *txn;
		int ret = store->env->txn_begin(store->env, NULL, &txn, write ? 0 : DB_TXN_SNAPSHOT);
		if (ret != 0) {
			result = store_dberr(store, ret, "txn_begin");
			if (result == STORE_TXN_RETRY) {
				backoff(attempt + 1);
				continue;
			}
			break;
		}
		/* for store_leave; a threaded process never leaves that way */
		DB_TXN *outer = store->txn;
		if (!store->threaded)
			store->txn = txn;
		result = fn(store, txn, ctx);
		store->txn = outer;
		if (result < 0) {
			txn->abort(txn);
			if (result == STORE_TXN_RETRY) {
				backoff(attempt + 1);
				continue;
			}
			if (result == STORE_TXN_REFUSE)
				result = 0;
			else
				result = -1;
			break;
		}
		DB_TXN_TOKEN token;
		bool check = commit_flags == DB_TXN_SYNC && txn->set_commit_token(txn, &token) == 0;
		ret = txn->commit(txn, commit_flags);
		if (ret == 0 && check)
			commit_durable_check(store, &token);
		if (ret != 0) {
			result = store_dberr(store, ret, "commit");
			if (result == STORE_TXN_RETRY) {
				backoff(attempt + 1);
				continue;
			}
			result = -1;
		}
		break;
	}
	if (result == STORE_TXN_RETRY)
		result = store_err(store, "store: too many deadlocks, try again later");
	store_watchdog_restore(previous);
	if (!store->threaded)
		store->writing = was_writing;
	if (result <= 0 && error_r != NULL)
		*error_r = store_last_error(store);
	return result;
}

int store_write(struct store *store, bool durable, store_txn_fn *fn, void *ctx,
		const char **error_r)
{
	return run_txn(store, true, durable ? DB_TXN_SYNC : DB_TXN_WRITE_NOSYNC, fn, ctx, error_r);
}

/* DB_TXN_NOSYNC: the commit stays in the log buffer. Only for a transaction
 * whose effect counts once a later durable commit of this process has
 * flushed the log past it (the log is written in order): until then a
 * crash may or may not keep it, and either must be harmless. */
int store_write_lazy(struct store *store, store_txn_fn *fn, void *ctx, const char **error_r)
{
	return run_txn(store, true, DB_TXN_NOSYNC, fn, ctx, error_r);
}

int store_read(struct store *store, store_txn_fn *fn, void *ctx, const char **error_r)
{
	return run_txn(store, false, 0, fn, ctx, error_r);
}

int store_get(struct store *store, enum store_dbi dbi, DB_TXN *txn, const void *key,
	      size_t keylen, void *val, size_t valmax, size_t *vallen_r, uint32_t flags)
{
	DBT k = { .data = (void *)key, .size = (uint32_t)keylen };
	DBT v = { .data = val, .ulen = (uint32_t)valmax, .flags = DB_DBT_USERMEM };
	db_recno_t recno;
	if (store_dbspecs[dbi].type == DB_QUEUE) {
		/* Queue keys are record numbers in host order. */
		recno = be32_get(key);
		k.data = &recno;
		k.size = sizeof(recno);
	}
	int ret = store_db(store, dbi)->get(store_db(store, dbi), txn, &k, &v, flags);
	if (ret == DB_NOTFOUND || ret == DB_KEYEMPTY)
		return 0;
	if (ret == DB_BUFFER_SMALL)
		return store_err(store, "store: %s: record larger than %zu bytes",
				 store_dbspecs[dbi].file, valmax);
	if (ret != 0)
		return store_dberr(store, ret, store_dbspecs[dbi].file);
	if (vallen_r != NULL)
		*vallen_r = v.size;
	return 1;
}

int store_put(struct store *store, enum store_dbi dbi, DB_TXN *txn, const void *key,
	      size_t keylen, const void *val, size_t vallen, uint32_t flags)
{
	DBT k = { .data = (void *)key, .size = (uint32_t)keylen };
	DBT v = { .data = (void *)val, .size = (uint32_t)vallen };
	db_recno_t recno;
	if (store_dbspecs[dbi].type == DB_QUEUE) {
		recno = be32_get(key);
		k.data = &recno;
		k.size = sizeof(recno);
	}
	int ret = store_db(store, dbi)->put(store_db(store, dbi), txn, &k, &v, flags);
	if (ret == DB_KEYEXIST)
		return 0;
	if (ret != 0)
		return store_dberr(store, ret, store_dbspecs[dbi].file);
	return 1;
}

int store_del(struct store *store, enum store_dbi dbi, DB_TXN *txn, const void *key,
	      size_t keylen)
{
	DBT k = { .data = (void *)key, .size = (uint32_t)keylen };
	db_recno_t recno;
	if (store_dbspecs[dbi].type == DB_QUEUE) {
		recno = be32_get(key);
		k.data = &recno;
		k.size = sizeof(recno);
	}
	int ret = store_db(store, dbi)->del(store_db(store, dbi), txn, &k, 0);
	if (ret == DB_NOTFOUND || ret == DB_KEYEMPTY)
		return 0;
	if (ret != 0)
		return store_dberr(store, ret, store_dbspecs[dbi].file);
	return 1;
}

int store_counter_next(struct store *store, DB_TXN *txn, const char *name, uint64_t *value_r)
{
	uint8_t buf[8];
	size_t len = 0;
	size_t namelen = strlen(name);
	int ret = store_get(store, DBI_META, txn, name, namelen, buf, sizeof(buf), &len, DB_RMW);
	if (ret < 0)
		return ret;
	uint64_t value = (ret == 1 && len == 8) ? be64_get(buf) : 0;
	value++;
	be64_put(buf, value);
	ret = store_put(store, DBI_META, txn, name, namelen, buf, 8, 0);
	if (ret < 0)
		return ret;
	*value_r = value;
	return 1;
}

/* ---- record encoding ---- */

void pack_bytes(struct pack *p, const void *data, size_t len)
{
	if (p->overflow || len > p->cap - p->len) {
		p->overflow = true;
		return;
	}
	if (len > 0)
		memcpy(p->buf + p->len, data, len);
	p->len += len;
}

void pack_u8(struct pack *p, uint8_t v)
{
	pack_bytes(p, &v, 1);
}

void pack_u16(struct pack *p, uint16_t v)
{
	uint8_t b[2] = { v >> 8, (uint8_t)v };
	pack_bytes(p, b, 2);
}

void pack_u32(struct pack *p, uint32_t v)
{
	uint8_t b[4];
	be32_put(b, v);
	pack_bytes(p, b, 4);
}

void pack_u64(struct pack *p, uint64_t v)
{
	uint8_t b[8];
	be64_put(b, v);
	pack_bytes(p, b, 8);
}

void pack_str(struct pack *p, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;
	if (len > UINT16_MAX) {
		p->overflow = true;
		return;
	}
	pack_u16(p, (uint16_t)len);
	pack_bytes(p, s, len);
}

void pack_blob(struct pack *p, const void *d, size_t len)
{
	if (len > UINT32_MAX) {
		p->overflow = true;
		return;
	}
	pack_u32(p, (uint32_t)len);
	pack_bytes(p, d, len);
}

const void *unpack_bytes(struct unpack *u, size_t len)
{
	if (u->error || len > u->len - u->pos) {
		u->error = true;
		return NULL;
	}
	const void *p = u->buf + u->pos;
	u->pos += len;
	return p;
}

uint8_t unpack_u8(struct unpack *u)
{
	const uint8_t *p = unpack_bytes(u, 1);
	return p != NULL ? p[0] : 0;
}

uint16_t unpack_u16(struct unpack *u)
{
	const uint8_t *p = unpack_bytes(u, 2);
	return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t unpack_u32(struct unpack *u)
{
	const uint8_t *p = unpack_bytes(u, 4);
	return p != NULL ? be32_get(p) : 0;
}

uint64_t unpack_u64(struct unpack *u)
{
	const uint8_t *p = unpack_bytes(u, 8);
	return p != NULL ? be64_get(p) : 0;
}

void unpack_str(struct unpack *u, char *dst, size_t dstsize)
{
	uint16_t len = unpack_u16(u);
	const char *p = unpack_bytes(u, len);
	if (p == NULL || len >= dstsize) {
		u->error = true;
		if (dstsize > 0)
			dst[0] = '\0';
		return;
	}
	memcpy(dst, p, len);
	dst[len] = '\0';
}

const void *unpack_blob(struct unpack *u, size_t *len_r)
{
	uint32_t len = unpack_u32(u);
	const void *p = unpack_bytes(u, len);
	*len_r = p != NULL ? len : 0;
	return p;
}

int store_append(struct store *store, enum store_dbi dbi, DB_TXN *txn, const void *val,
		 size_t vallen, uint32_t *recno_r)
{
	db_recno_t recno = 0;
	DBT k = { .data = &recno, .ulen = sizeof(recno), .flags = DB_DBT_USERMEM };
	DBT v = { .data = (void *)val, .size = (uint32_t)vallen };
	int ret = store_db(store, dbi)->put(store_db(store, dbi), txn, &k, &v, DB_APPEND);
	if (ret != 0)
		return store_dberr(store, ret, store_dbspecs[dbi].file);
	*recno_r = recno;
	return 1;
}
