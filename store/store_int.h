/* Inside the store: the environment, the databases, transactions and record
 * encoding. Included by the store's C files only (it brings in <db.h>). */
#ifndef PB_STORE_INT_H
#define PB_STORE_INT_H

#include <db.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "store.h"

/* The databases, one file each in <store>/env. The order here is the lock
 * order for writers: account data, then mailbox state, then messages, then
 * indexes (STORE-NOTES §3.4). */
enum store_dbi {
	DBI_META,          /* btree: "format" -> u32, counters */
	DBI_DOMAINS,       /* btree: domain -> {id, users, aliases} (account_int.h) */
	DBI_ACCOUNTS,      /* btree: users, their addresses, login failure counters
			    * (tagged keys: account_int.h) */
	DBI_ALIASES,       /* btree dupsort: source -> target */
	DBI_QUOTA,         /* queue: recno user_id -> usage; DB_APPEND allocates user ids */
	DBI_MAILBOXES,     /* btree: (u32 user_id, name) -> u32 mailbox_id */
	DBI_MAILBOX_INFO,  /* btree: u32 mailbox_id -> {user_id, special, subscribed, name};
			    * (u32 user_id, name) -> version: subscribed, no mailbox */
	DBI_MBOXSTATE,     /* queue: recno mailbox_id -> state; DB_APPEND allocates mailbox ids */
	DBI_MSGS,          /* btree: (u32 mailbox_id, u32 uid) -> message record */
	DBI_MODSEQ,        /* btree: (u32 mailbox_id, u64 modseq) -> u32 uid */
	DBI_EXPUNGED,      /* btree: (u32 mailbox_id, u64 modseq) -> u32 uid */
	DBI_KEYWORDS,      /* btree: (u32 mailbox_id, u8 id) -> name */
	DBI_SORTIDX,       /* btree: (u32 mailbox_id, u8 sort, sort key, u32 uid) -> "" */
	DBI_BODIES,        /* btree: body_id -> {refcount, size, mime cache, storage} */
	DBI_BODYDATA,      /* btree 64K pages: body_id -> the bytes of a small body */
	DBI_OUTQ,          /* btree: queue id -> queue entry */
	DBI_OUTQ_SCHED,    /* btree: (u64 next_try, queue id) -> "" */
	DBI_SESSIONS,      /* btree: session id -> session (webmail) */
	DBI_COUNT
};

struct store_dbspec {
	const char *file;
	DBTYPE type;
	uint32_t pagesize;
	uint32_t flags;    /* DB_DUPSORT etc. */
	uint32_t re_len;   /* queue record length */
};
extern const struct store_dbspec store_dbspecs[DBI_COUNT];
/* The DB_CONFIG a new store gets (env.c). */
const char *store_db_config_template(void);

#define MBOXSTATE_RECLEN 64
#define QUOTA_RECLEN 32

struct store {
	DB_ENV *env;
	/* Through store_db(), opened on first use: for writing, and (by
	 * single-threaded processes, until they write) read-only. */
	DB *db_handles[DBI_COUNT];
	DB *db_readers[DBI_COUNT];
	bool writing;      /* in a writing transaction: store_db() opens for writing */
	const struct config *config;
	char *home;        /* <store>/env */
	char *blobs;       /* <store>/blobs */
	char *notify;      /* <store>/notify */
	/* __db.register, open from before the environment's open until after
	 * its close (closing any descriptor of it drops this process's locks
	 * on it): env.c looks at the registry's lock through it. -1: none. */
	int registry_fd;
	bool threaded;
	bool copy;         /* opened at another home (store_open_home): the check's */
	/* Each database's file is checked as it is first opened, not all at
	 * start (store_open_per_connection). */
	bool lazy;
	DB_TXN *txn;       /* run_txn's transaction under way (for store_leave) */
};

/* The handle of a database, opened on first use (a POP3 login touches two
 * of the eighteen; opening them all cost a millisecond per connection):
 * read-only outside a writing transaction, for writing inside one (or if
 * already open so). The threaded webmail server opens all of them for
 * writing in store_open. A database that cannot be opened (damaged,
 * removed since store_open looked) ends the process with the reason logged:
 * cleanly, as store_close would (env.c, store_leave), or for the threaded
 * server through the panic path. */
DB *store_db(struct store *store, enum store_dbi dbi);
/* The handle for writing, for a caller with a transaction of its own. */
DB *store_db_writer(struct store *store, enum store_dbi dbi);

/* Result codes a transaction body may return besides -1/0/1..: */
#define STORE_TXN_RETRY (-2)   /* deadlock: abort and run again */
#define STORE_TXN_REFUSE (-3)  /* refused half-way: abort, the call returns 0 */

/* Errors are kept per thread (the webmail server is threaded) and read with
 * store_last_error(). */
/* Records the error, returns -1; for DB_LOCK_DEADLOCK and
 * DB_LOCK_NOTGRANTED returns STORE_TXN_RETRY; for DB_RUNRECOVERY runs the
 * panic path (never returns). `what` says what was being done. */
int store_dberr(struct store *store, int ret, const char *what);
/* The watchdog covers every call into the environment (transactions,
 * checkpoints, the close): a process blocked on the mutex of a process that
 * died is killed by the recovering process, and if that never comes, the
 * alarm ends it (§4.4). Arm returns the caller's alarm; restore gives it
 * back. */
unsigned store_watchdog_arm(struct store *store);
/* A user's webmail data in the sessions database goes with the user, in the
 * deleting transaction (user.c): sessions and settings (session.c),
 * identity records (identity.c), the address book (contacts.c), the
 * vacation setting and its sent records (vacation.c). */
int session_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
int identity_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
int contacts_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
int vacation_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
/* Deletes the user's Sieve scripts (sieve_store.h). */
int sieve_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
/* send_limit (send_limit.c): adds n recipients to what user_id sent in
 * the 24 hours up to `now` (*count_r, before them): 1, or 0 when that
 * would pass `limit` (nothing added); a store error. */
int send_limit_add_txn(struct store *store, DB_TXN *txn, uint32_t user_id, size_t n,
		       unsigned limit, int64_t now, uint64_t *count_r);
int send_limit_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
/* Puts a new random SRS secret (srs.h) in meta.db: `store init`, and the
 * first forward of a store made before SRS (srs_store.c). 1, or < 0. */
int srs_secret_create_txn(struct store *store, DB_TXN *txn);
/* Records that `sender` (an address) is answered now by user_id's vacation
 * reply, unless it was within the last `days` or the user sent
 * VACATION_REPLIES_PER_HOUR replies in the hour that began with the first
 * of them (vacation.c; not durable). VACATION_CLAIM_DUE a reply is due
 * (recorded and counted), VACATION_CLAIM_ANSWERED not (or the address is
 * too long), VACATION_CLAIM_CAPPED not (nothing recorded), -1 (the
 * values in vacation.h). */
int vacation_sent_claim(struct store *store, uint32_t user_id, const char *sender, int64_t now,
			unsigned days, const char **error_r);
/* Deletes every sessions-database key that starts with `prefix` (`len`
 * bytes); the count in *count_r when not NULL. 1, or < 0. */
int sessions_del_prefix_txn(struct store *store, DB_TXN *txn, const void *prefix, size_t len,
			    int *count_r);
/* Records the webmail's send token `token` (STORE_SEND_TOKEN_LEN bytes)
 * as used in session `id` (session.c), in the delivering transaction
 * (deliver.c). 1 recorded (or the session is gone), 0 it was used
 * already, < 0 error. */
int session_sent_use_txn(struct store *store, DB_TXN *txn, const uint8_t *id,
			 const uint8_t *token);
void store_watchdog_restore(unsigned previous);
/* Records a formatted error, returns -1 (or `code`). */
int store_err(struct store *store, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As store_err, for a failed system call whose errno was `err`: ENOSPC and
 * EDQUOT make store_error_no_space true. */
int store_syserr(struct store *store, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int store_refuse(struct store *store, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Never returns: panic hook, then _exit(75). */
void store_panic(struct store *store) __attribute__((noreturn));
/* Reserves the disk blocks of the shared region files up to the size they
 * may grow to (space.c). Called once the environment is open. */
void store_regions_reserve(struct store *store);

typedef int store_txn_fn(struct store *store, DB_TXN *txn, void *ctx);
/* Runs fn in a write transaction, retrying on deadlock (bounded); commits
 * when fn returns >= 0, with DB_TXN_SYNC if `durable` else WRITE_NOSYNC.
 * Returns fn's result, 0 for STORE_TXN_REFUSE, -1 on error. Also sets
 * *error_r from store->error when the result is <= 0 and error_r != NULL. */
int store_write(struct store *store, bool durable, store_txn_fn *fn, void *ctx,
		const char **error_r);
/* The same, committed DB_TXN_NOSYNC: durable only once a later durable
 * commit flushes the log (see txn.c). */
int store_write_lazy(struct store *store, store_txn_fn *fn, void *ctx, const char **error_r);
/* Runs fn in a snapshot (MVCC) read transaction; never blocks on writers. */
int store_read(struct store *store, store_txn_fn *fn, void *ctx, const char **error_r);

/* Typed get/put/del on one database; get returns 1 found, 0 not, -1/-2. */
int store_get(struct store *store, enum store_dbi dbi, DB_TXN *txn, const void *key,
	      size_t keylen, void *val, size_t valmax, size_t *vallen_r, uint32_t flags);
int store_put(struct store *store, enum store_dbi dbi, DB_TXN *txn, const void *key,
	      size_t keylen, const void *val, size_t vallen, uint32_t flags);
int store_del(struct store *store, enum store_dbi dbi, DB_TXN *txn, const void *key,
	      size_t keylen);

/* Appends a record to a Queue database; *recno_r is its new record number
 * (how user and mailbox ids are allocated). Keys of Queue databases given to
 * store_get/put/del are the record number as 4 big-endian bytes. */
int store_append(struct store *store, enum store_dbi dbi, DB_TXN *txn, const void *val,
		 size_t vallen, uint32_t *recno_r);

/* Allocates the next value of a 64-bit counter kept in META under `name`,
 * inside txn (DB_RMW). */
int store_counter_next(struct store *store, DB_TXN *txn, const char *name, uint64_t *value_r);

/* Touches notify/<mailbox_id> so watchers wake. Call after commit. */
void store_notify_mailbox(struct store *store, uint32_t mailbox_id);
/* The mailbox was deleted: wakes its watchers and removes its files in
 * notify/ (the notify file, POP3's maildrop lock). Call after commit. */
void store_notify_gone(struct store *store, uint32_t mailbox_id);

/* ---- big-endian keys ---- */
static inline void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, v >> 32); be32_put(p + 4, (uint32_t)v);
}
static inline uint64_t be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

/* ---- record encoding: versioned, big-endian, bounds-checked ----
 * A record starts with a version byte; readers check it. */
struct pack {
	uint8_t *buf;
	size_t len, cap;
	bool overflow;     /* set when a put did not fit: the record is invalid */
};
static inline void pack_init(struct pack *p, void *buf, size_t cap)
{
	p->buf = buf; p->len = 0; p->cap = cap; p->overflow = false;
}
void pack_bytes(struct pack *p, const void *data, size_t len);
void pack_u8(struct pack *p, uint8_t v);
void pack_u16(struct pack *p, uint16_t v);
void pack_u32(struct pack *p, uint32_t v);
void pack_u64(struct pack *p, uint64_t v);
void pack_str(struct pack *p, const char *s);      /* u16 length + bytes */
void pack_blob(struct pack *p, const void *d, size_t len); /* u32 length + bytes */

struct unpack {
	const uint8_t *buf;
	size_t len, pos;
	bool error;        /* set on any read past the end / bad length */
};
static inline void unpack_init(struct unpack *u, const void *buf, size_t len)
{
	u->buf = buf; u->len = len; u->pos = 0; u->error = false;
}
const void *unpack_bytes(struct unpack *u, size_t len);
uint8_t unpack_u8(struct unpack *u);
uint16_t unpack_u16(struct unpack *u);
uint32_t unpack_u32(struct unpack *u);
uint64_t unpack_u64(struct unpack *u);
/* Copies a u16-length string into dst (size dstsize, NUL-terminated);
 * sets error if it does not fit. */
void unpack_str(struct unpack *u, char *dst, size_t dstsize);
/* Returns a pointer into the record and its length (u32 length prefix). */
const void *unpack_blob(struct unpack *u, size_t *len_r);

/* ---- internal operations shared between store files ---- */

/* Creates a mailbox inside txn (used by user_add). 1 created, 0 exists. */
int mailbox_create_txn(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name,
		       unsigned special_use, uint32_t *id_r);
/* Creates INBOX, Sent, Drafts, Trash, Junk and Archive (special-use set,
 * subscribed) inside txn: what store_user_add does for a new user. */
int mailbox_create_defaults_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
/* INBOX's id and UIDVALIDITY inside txn: 1, 0 (no INBOX; both 0), <0. */
int mailbox_inbox_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint32_t *id_r,
		      uint32_t *uidvalidity_r);
/* Points the user's record at INBOX again (after RENAME INBOX made a new
 * one): 1, 0 no such user, <0. */
int user_inbox_point_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
/* `store maintain`: points the records written before 2026-11-29 at INBOX,
 * 256 a transaction, once (meta.db "inbox_in_user" then says so); *filled_r
 * how many. 0, or -1 (*error_r). */
int user_inbox_fill(struct store *store, unsigned *filled_r, const char **error_r);
/* Write-locks the user's record, for a transaction that rewrites it after
 * mailbox records (the lock order: account data first): 1, 0 none, <0. */
int user_lock_txn(struct store *store, DB_TXN *txn, uint32_t user_id);
/* Deletes every mailbox of a user and their messages inside txn; their ids
 * in ids_r (*n_r of them), for store_notify_gone after the commit. */
int mailbox_delete_all_txn(struct store *store, DB_TXN *txn, uint32_t user_id,
			   uint32_t ids_r[STORE_MAILBOXES_MAX], size_t *n_r);
/* Appends inside txn (used by delivery): quota checked, UID allocated. */
int msg_append_txn(struct store *store, DB_TXN *txn, uint32_t mailbox_id,
		   const struct store_body *body, uint32_t flags, uint64_t keywords,
		   int64_t internaldate, int32_t tz, const char *prefix, size_t prefix_len,
		   uint32_t *uid_r);
/* Changes the body's reference count inside txn; at 0 the record goes and
 * the file is unlinked by the maintenance job (orphan). */
int body_ref_txn(struct store *store, DB_TXN *txn, const uint8_t id[STORE_BODY_ID_LEN],
		 int delta);
/* Adds to the user's usage counters (quota db) inside txn; checks the quota
 * when `check` and the delta is positive: returns STORE_TXN_REFUSE if over. */
int quota_add_txn(struct store *store, DB_TXN *txn, uint32_t user_id, int64_t bytes,
		  int32_t messages, bool check);
/* Whether one more message of `bytes` fits the user's quota: 1, 0 (over), or
 * an error. */
int quota_fits_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint64_t bytes);
/* The user record by id inside txn (for quota limits). */
int user_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id, struct store_user *user_r);
/* Lowercases the domain part (and the local part) into dst; 0 if invalid. */
int address_canonical(const char *address, char *dst, size_t dstsize);

/* A directory's entries on disk (after a rename, a create or an unlink
 * in it): 0, or -1 with errno. */
int store_fsync_dir(const char *path);

/* <home>/FORMAT holds the format version as text (env.c): meta.db's record
 * decides, the file spares most processes opening meta.db. */
#define STORE_FORMAT_FILE "FORMAT"
/* meta.db's format record inside txn. */
int store_format_record_txn(struct store *store, DB_TXN *txn, uint32_t *version_r);
/* Writes FORMAT (a new file renamed over the old one, the directory
 * synced); _remove takes it away (an upgrade, before it commits: until the
 * file is written again, processes read the record). */
int store_format_file_write(struct store *store, uint32_t version);
int store_format_file_remove(struct store *store);
/* The version FORMAT gives, or 0 (none, or garbled). */
uint32_t store_format_file_version(const struct store *store);
/* Writes FORMAT again when it is missing or differs from the record:
 * 1 written, 0 it was right, -1 error. */
int store_format_file_sync(struct store *store, const char **error_r);

/* store_open for `pillarbox store upgrade` (upgrade.c): a store of any
 * format, nothing checked but the directories. */
int store_open_upgrading(const struct config *config, struct store **store_r,
			 const char **error_r);
/* Creates a database of this format inside txn (an upgrade's new one). */
int store_db_create_txn(struct store *store, DB_TXN *txn, enum store_dbi dbi);

/* store_open with the environment in `home` instead of <store>/env (the
 * checker opens a copy this way; bodies are still read from <store>). */
int store_open_home(const struct config *config, const char *home, bool threaded,
		    struct store **store_r, const char **error_r);

/* The hold a copy of the databases (store_backup, store_check) keeps on the
 * log files: Berkeley DB copies the databases first and the logs after,
 * and recovery of the copy needs every log since the checkpoint it began
 * with. Copies hold it shared; store_maintain removes logs only when it
 * gets it at once (`remove`). Returns a descriptor to close, or -1 (errno
 * EWOULDBLOCK: a copy is running; else the error is in store_last_error). */
int backup_logs_hold(struct store *store, bool remove);
/* Whether a backup or check holds it now. */
bool backup_running(struct store *store);

/* Paths */
void body_path(const struct store *store, const uint8_t id[STORE_BODY_ID_LEN], char *dst,
	       size_t dstsize);

#endif
