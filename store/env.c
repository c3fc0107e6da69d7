/* The Berkeley DB environment: create, join (with recovery), close.
 * Every choice here is measured in STORE-NOTES.md; the section numbers below
 * point there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "process.h"
#include "store_int.h"

/* File, type, page size, flags, record length. Page sizes keep records
 * under a quarter page (§7) so nothing goes to overflow pages. */
const struct store_dbspec store_dbspecs[DBI_COUNT] = {
	[DBI_META] = { "meta.db", DB_BTREE, 4096, 0, 0 },
	[DBI_DOMAINS] = { "domains.db", DB_BTREE, 4096, 0, 0 },
	[DBI_ACCOUNTS] = { "accounts.db", DB_BTREE, 4096, 0, 0 },
	[DBI_ALIASES] = { "aliases.db", DB_BTREE, 4096, DB_DUPSORT, 0 },
	[DBI_QUOTA] = { "quota.db", DB_QUEUE, 4096, 0, QUOTA_RECLEN },
	[DBI_MAILBOXES] = { "mailboxes.db", DB_BTREE, 4096, 0, 0 },
	[DBI_MAILBOX_INFO] = { "mailbox_info.db", DB_BTREE, 4096, 0, 0 },
	[DBI_MBOXSTATE] = { "mboxstate.db", DB_QUEUE, 4096, 0, MBOXSTATE_RECLEN },
	[DBI_MSGS] = { "msgs.db", DB_BTREE, 16384, 0, 0 },
	[DBI_MODSEQ] = { "modseq.db", DB_BTREE, 8192, 0, 0 },
	[DBI_EXPUNGED] = { "expunged.db", DB_BTREE, 8192, 0, 0 },
	[DBI_KEYWORDS] = { "keywords.db", DB_BTREE, 4096, 0, 0 },
	[DBI_SORTIDX] = { "sortidx.db", DB_BTREE, 8192, 0, 0 },
	[DBI_BODIES] = { "bodies.db", DB_BTREE, 16384, 0, 0 },
	[DBI_BODYDATA] = { "bodydata.db", DB_BTREE, 8192, 0, 0 },    /* body.h */
	[DBI_OUTQ] = { "outq.db", DB_BTREE, 8192, 0, 0 },
	[DBI_OUTQ_SCHED] = { "outq_sched.db", DB_BTREE, 4096, 0, 0 },
	[DBI_SESSIONS] = { "sessions.db", DB_BTREE, 4096, 0, 0 },
};

/* §3.2: one DB_CONFIG read by every process and every db_* utility.
 * set_lg_filemode is DECIMAL here: 432 = 0660. Recovery rebuilds the
 * regions, reads the last log file from its start to find the end and
 * zero-fills the rest of it, then reads the log since the checkpoint
 * (checksums: most of its CPU), so the log file size (8 MB) matters.
 * set_lk_tablesize: left to itself BDB sized the lock hash table for
 * set_memory_max (786,431 buckets, a 75 MB region) and recovery spent a
 * third of its CPU building it (measured 148 -> 108 ms CPU with 32768).
 * Every process (one per connection) pays a page fault for each page of
 * the shared regions it touches, and most of a fresh process's faults were
 * the scattered hash buckets and mutexes a few lookups touch. Hence a
 * small lock table (1024: a session holds tens of locks, not thousands),
 * 4 lock partitions instead of 10 per CPU, and 64 mutexes shared by the
 * buffer pool's hash buckets instead of one each. Measured for a POP3
 * login, 269 -> 212 faults, 2.07 -> 1.88 ms of CPU; a webmail.cgi list
 * page of a 100,000-message mailbox, 480 -> 352 faults, 2.95 -> 2.63 ms.
 * db_log_zero: a new log file is written with zeros once, so commits
 * overwrite allocated blocks and each fdatasync is one write instead of a
 * write plus the inode's block map (measured median 100 -> 70 us; smaller
 * log files made it worse: creating a file costs several syncs).
 * mutex_set_max: BDB sized the mutex region for the cache's buffers alone,
 * but every committed transaction whose old page versions (MVCC) are still
 * in the cache keeps a mutex too, up to one per buffer: after about 38,800
 * small transactions in a row (a 'user import' of 40,000 users) the region
 * was full and every write failed with ENOMEM until the next recovery
 * (tests/store/test_many_users.sh). 65536 covers both for the 64 MB cache;
 * the region grows to it only as needed. These lines also reach older
 * stores: `store maintain` appends what their
 * DB_CONFIG lacks (see config_update in maintain.c). */
static const char db_config_text[] =
	"# Pillarbox store settings, read by every process and by db5.3_* tools.\n"
	"# Region settings take effect when the environment is (re)created.\n"
	"set_cachesize 0 67108864 1\n"
	"set_lg_bsize 524288\n"
	"set_lg_max 8388608\n"
	"set_lg_filemode 432\n"
	"set_lk_detect DB_LOCK_DEFAULT\n"
	"set_memory_max 0 268435456\n"
	"set_memory_init DB_MEM_LOCK 20000\n"
	"set_memory_init DB_MEM_LOCKOBJECT 20000\n"
	"set_memory_init DB_MEM_LOCKER 4000\n"
	"set_memory_init DB_MEM_TRANSACTION 4000\n"
	"set_tx_max 4000\n"
	"set_lk_tablesize 1024\n"
	"set_lk_partitions 4\n"
	"set_mp_mtxcount 64\n"
	"mutex_set_max 65536\n"
	"log_set_config db_log_zero on\n";

const char *store_db_config_template(void)
{
	return db_config_text;
}

#define ENV_OPEN_FLAGS (DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | \
			DB_INIT_MPOOL | DB_REGISTER | DB_RECOVER)
/* Joining while another process recovers fails for a moment (§3.3.3). */
#define ENV_OPEN_RETRY_MS 10000
/* Checkpoint on close only past this much log or time (§3.3.7). */
#define CHECKPOINT_KBYTES 8192
#define CHECKPOINT_MINUTES 5

static void (*panic_hook)(void);
static struct store *atexit_store;
/* An open is in progress (env_event), and the registry's descriptor then. */
static volatile sig_atomic_t env_opening;
static int env_registry_fd = -1;

void store_set_panic_hook(void (*hook)(void))
{
	panic_hook = hook;
}

void store_panic(struct store *store)
{
	(void)store;
	log_error("store: environment panic (run recovery): exiting; the next process recovers");
	if (panic_hook != NULL)
		panic_hook();
	_exit(75);
}

static void env_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	(void)env; (void)prefix;
	log_error("store: %s", msg);
}

/* A process sent SIGKILL has not ended when kill() returns: for a moment it
 * may still write to the old regions and, worse, put a log buffer it was
 * flushing into a log file that recovery is about to continue, over records
 * committed after it (acknowledged deliveries were lost that way in the
 * crash test, about once in 200 runs). Recovery starts only once it is gone
 * (a zombie is: its mappings and files are released). A pidfd says so
 * without polling; without one, /proc is polled. The open's watchdog bounds
 * the wait. */
static bool env_process_ended(pid_t pid)
{
	char path[64], buf[256];
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	const char *state = strrchr(buf, ')');   /* "pid (comm) S ..." */
	return state != NULL && (state[2] == 'Z' || state[2] == 'X');
}

static void env_wait_ended(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		close(fd);
		return;
	}
#endif
	while (!env_process_ended(pid)) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* §3.3.2: the recovering process is told of every process still attached to
 * the dead environment; they would hang forever on its mutexes, so they go.
 * pid 0 marks an empty slot (kill(0) would hit our own group); 1 is init.
 * kill() only reaches processes of our own uid, the store user. */
/* Whether another process holds the registry's exclusive lock (byte 1,
 * as BDB takes it): one joining or recovering the environment. */
static bool registry_held_by_other(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
	return env_registry_fd >= 0 && fcntl(env_registry_fd, F_GETLK, &fl) == 0 &&
	       fl.l_type != F_UNLCK;
}

static void env_event(DB_ENV *env, uint32_t event, void *info)
{
	(void)env;
	switch (event) {
	case DB_EVENT_PANIC:
	case DB_EVENT_REG_PANIC:
		/* §3.3.2: nothing done with a panicked environment can be
		 * trusted, so a process with the store open leaves the moment
		 * it notices, from wherever Berkeley DB noticed it. Above all
		 * a durable commit whose log flush the panic refused: 5.3's
		 * __log_flush_commit reports it as done when its record is the
		 * first of a new log file (it compares only file numbers), and
		 * acknowledged mail was lost so (tests/store/
		 * test_commit_panic.sh). Leaving here, it is never answered.
		 * An open goes on if no other process holds the registry: it
		 * may be our own recovery attaching the panicked region, or a
		 * region panicked with nobody recovering it. While another
		 * process holds it, that one is recovering, and Berkeley DB
		 * would recover again inside this open, without the registry
		 * and while the processes being stopped may still write: this
		 * one leaves instead (tests/store/test_panic_rejoin.sh). */
		if (!env_opening || registry_held_by_other())
			store_panic(NULL);
		break;
	case DB_EVENT_REG_ALIVE: {
		pid_t pid = *(pid_t *)info;
		if (pid > 1 && pid != getpid()) {
			log_warning("store: recovery: stopping process %d still attached to the old environment",
				    (int)pid);
			if (kill(pid, SIGKILL) == 0)
				env_wait_ended(pid);
		}
		break;
	}
	default:
		break;
	}
}

static char *path_join(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

/* The registry's descriptor, or -1 (no registry yet: a new store). */
static int registry_open(struct store *store)
{
	char *path = path_join(store->home, "__db.register");
	int fd = path != NULL ? open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW) : -1;
	free(path);
	return fd;
}

/* DB_ENV->close of a registered (DB_REGISTER) environment, with the
 * registry's exclusive lock held. BDB 5.3 blanks this process's slot in
 * __db.register and drops the slot's lock without taking that lock, while a
 * process joining holds it, reads a slot, then tries the slot's lock: a
 * slot read just before the blanking and tried just after looks like a dead
 * process's, and the joiner runs recovery, killing every process attached
 * (reproduced: 6 processes opening and closing in a loop; also seen as
 * dropped logins at 500 POP3 logins/s). Holding the lock (byte 1, as BDB
 * does) keeps joiners from reading while we leave. BDB's close of its own
 * registry descriptor releases every fcntl lock this process holds on the
 * file (POSIX), this one too, once the slot is blank. */
static void env_close_registered(struct store *store)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
	int fd = store->registry_fd >= 0 ? store->registry_fd : registry_open(store);

	store->registry_fd = -1;

	/* Without it (out of memory, an odd file), close as BDB alone would. */
	if (fd >= 0) {
		while (fcntl(fd, F_SETLKW, &fl) < 0) {
			if (errno != EINTR) {
				close(fd);
				fd = -1;
				break;
			}
		}
	}
	store->env->close(store->env, 0);
	store->env = NULL;
	/* Only now: closing it while BDB still held its slot would drop the
	 * slot's lock too. */
	if (fd >= 0)
		close(fd);
}

/* Closes the handle; `registered`: its open succeeded. */
static void env_close(struct store *store, bool registered)
{
	if (registered) {
		env_close_registered(store);
	} else {
		store->env->close(store->env, 0);
		store->env = NULL;
		if (store->registry_fd >= 0)
			close(store->registry_fd);
		store->registry_fd = -1;
	}
}

static void store_free(struct store *store)
{
	if (store == NULL)
		return;
	if (store->registry_fd >= 0)    /* the environment is closed by now */
		close(store->registry_fd);
	free(store->home);
	free(store->blobs);
	free(store->notify);
	free(store);
}

static struct store *store_alloc(const struct config *config)
{
	struct store *store = calloc(1, sizeof(*store));
	if (store == NULL)
		return NULL;
	store->registry_fd = -1;
	store->config = config;
	store->home = path_join(config->store, "env");
	store->blobs = path_join(config->store, "blobs");
	store->notify = path_join(config->store, "notify");
	if (store->home == NULL || store->blobs == NULL || store->notify == NULL) {
		store_free(store);
		return NULL;
	}
	return store;
}

static int env_create(struct store *store, bool threaded)
{
	int ret = db_env_create(&store->env, 0);
	if (ret != 0)
		return store_dberr(store, ret, "db_env_create");
	store->env->set_errcall(store->env, env_errcall);
	store->env->set_event_notify(store->env, env_event);
	store->threaded = threaded;
	return 0;
}

/* Opens the environment, retrying while another process holds the
 * registry for recovery. */
static int env_open_retrying(struct store *store, uint32_t extra)
{
	uint32_t flags = ENV_OPEN_FLAGS | extra | (store->threaded ? DB_THREAD : 0);
	int waited = 0, delay = 5, ret;

	for (;;) {
		ret = store->env->open(store->env, store->home, flags, 0);
		if (ret == 0) {
			/* Stores made before bodydata.db left MVCC say
			 * "set_flags DB_MULTIVERSION" in DB_CONFIG, which
			 * would force it on every database (db_open_attempt
			 * chooses per database; `store maintain` drops it). */
			store->env->set_flags(store->env, DB_MULTIVERSION, 0);
			return 0;
		}
		if (ret == ENOENT || ret == EACCES || ret == EPERM || ret == EINVAL ||
		    ret == DB_VERSION_MISMATCH || waited >= ENV_OPEN_RETRY_MS)
			break;
		/* A failed open leaves the handle unusable: start again. */
		store->env->close(store->env, 0);
		store->env = NULL;
		struct timespec ts = { 0, delay * 1000000L };
		nanosleep(&ts, NULL);
		waited += delay;
		delay = delay < 200 ? delay * 2 : 200;
		if (env_create(store, store->threaded) < 0)
			return -1;
	}
	if (ret == EACCES || ret == EPERM)
		return store_err(store, "%s: permission denied: the store must be owned by user %s "
				 "(chown -R %s: %s; chmod 2770 %s)", store->home,
				 store->config->user, store->config->user, store->config->store,
				 store->config->store);
	if (ret == ENOENT)
		return store_err(store, "%s: not a Pillarbox store (no environment): "
				 "create one with 'pillarbox store init'", store->config->store);
	return store_dberr(store, ret, "opening the environment");
}

/* With DB_REGISTER, 5.3 recovers only when the registry shows a dead
 * process (or is new): a store whose region files were removed (copied
 * without them, or `rm __db.0*`, the old advice for a stuck environment)
 * was opened with fresh regions and no recovery, serving the database
 * files without what only the log held (test_badstore 7a: a user created
 * before the copy was missing). A slot of a dead process appended to the
 * registry (pid 0, no lock held on it) makes BDB recover and tell us of
 * every other registered process, which go as in any recovery: they may be
 * using the removed regions. (A partial record would make it recover too,
 * but then it tells us of every slot but the first.) Written over a partial
 * record if there is one, so the slots stay aligned. Checked under the
 * registry's lock: a recovery in progress removes and remakes the regions. */
static void env_force_recovery_if_no_regions(struct store *store, const char *region)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
	static const char dead_slot[] = "                       0\n"; /* BDB's "%24lu\n" */
	const off_t slot = (off_t)(sizeof(dead_slot) - 1);
	struct stat st;

	if (store->registry_fd < 0)
		return;
	while (fcntl(store->registry_fd, F_SETLKW, &fl) < 0) {
		if (errno != EINTR)
			return;
	}
	if (access(region, F_OK) < 0 && errno == ENOENT && fstat(store->registry_fd, &st) == 0 &&
	    pwrite(store->registry_fd, dead_slot, (size_t)slot, st.st_size - st.st_size % slot) ==
	    (ssize_t)slot)
		log_warning("store: %s is missing: recovering the environment from the log", region);
	fl.l_type = F_UNLCK;
	fcntl(store->registry_fd, F_SETLK, &fl);
}

/* Looks at the first region file, __db.001 (its path in `path`): 1 it is
 * there (*st), 0 it is not, -1 cannot tell (a path too long to look at is
 * left alone). One stat() on every open: no allocation on a connection's
 * start. */
static int env_region_stat(struct store *store, char *path, size_t size, struct stat *st)
{
	if ((size_t)snprintf(path, size, "%s/__db.001", store->home) >= size)
		return -1;
	if (stat(path, st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* Regions with holes were made by this open (a new store, a recovery) or
 * by another process's at the same moment: their disk blocks are reserved
 * now (space.c). Reserved ones have blocks past their end. Not for the
 * check's copy, which no other process shares: a SIGBUS there ends only
 * the check, and its copy already needs room. */
static void env_regions_check(struct store *store)
{
	char region[1024];
	struct stat st;
	if (!store->copy && env_region_stat(store, region, sizeof(region), &st) == 1 &&
	    (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size)
		store_regions_reserve(store);
}

static int env_open(struct store *store, uint32_t extra)
{
	char region[1024];
	struct stat st;
	if (store->registry_fd < 0)
		store->registry_fd = registry_open(store);
	if (env_region_stat(store, region, sizeof(region), &st) == 0)
		env_force_recovery_if_no_regions(store, region);
	env_registry_fd = store->registry_fd;
	env_opening = 1;
	int ret = env_open_retrying(store, extra);
	env_opening = 0;
	env_registry_fd = -1;
	if (ret == 0)
		env_regions_check(store);
	return ret;
}

/* Snapshot reads (MVCC) for every database whose records change, so
 * readers never wait for writers. Not for queues (unsupported), nor for
 * bodydata.db: its rows never change once written, and a reader's short
 * page lock is cheaper than what MVCC cost there. Every delivery's first
 * write to a page copied the whole page (64 KB then), and the copies
 * outran the cache into freezer files. Measured by 5 KB deliveries without it:
 * 1 process +13%, 8 processes +36%, no freezer files. Every process must
 * open a file with the same choice (BDB3041 otherwise). */
static bool db_multiversion(enum store_dbi i)
{
	return store_dbspecs[i].type != DB_QUEUE && i != DBI_BODYDATA;
}

/* How a database is opened. A handle for writing registers the file in the
 * log (a record at open, another at close, and a transaction around the
 * open): 24 log records for a POP3 login that writes nothing. A read-only
 * handle logs nothing, so processes open for reading until they write. */
enum db_mode { DB_MODE_READ, DB_MODE_WRITE, DB_MODE_CREATE };

/* One DB->open: 0 (*db_r open), -1 (db_create failed, said), or the error
 * of DB->open (the handle closed; Berkeley DB's own codes are never -1). */
static int db_open_attempt(struct store *store, DB_TXN *txn, enum store_dbi i, enum db_mode mode,
			   DB **db_r)
{
	const struct store_dbspec *spec = &store_dbspecs[i];
	DB *db;
	int ret = db_create(&db, store->env, 0);
	if (ret != 0) {
		store_dberr(store, ret, "db_create");
		return -1;
	}
	bool create = mode == DB_MODE_CREATE;
	if (create) {
		db->set_pagesize(db, spec->pagesize);
		if (spec->flags != 0)
			db->set_flags(db, spec->flags);
		if (spec->type == DB_QUEUE) {
			db->set_re_len(db, spec->re_len);
			db->set_re_pad(db, 0);
		}
	}
	uint32_t flags = (create ? DB_CREATE | DB_EXCL : 0) | (db_multiversion(i) ? DB_MULTIVERSION : 0) |
		(store->threaded ? DB_THREAD : 0) | (mode == DB_MODE_READ ? DB_RDONLY : 0);
	ret = db->open(db, txn, spec->file, NULL, spec->type, flags, 0);
	if (ret != 0) {
		db->close(db, DB_NOSYNC);
		return ret;
	}
	*db_r = db;
	return 0;
}

/* Attempts at opening a database that BDB refuses with EINVAL "BDB3041
 * DB_MULTIVERSION cannot be specified on a database file which is already
 * open": its shared pool briefly holds the file's entry without the flag
 * while other processes close it. Measured in test_store_open's churn
 * under load: a few opens in 100,000, gone the next moment. A file that
 * is really not a database fails every attempt. */
#define DB_OPEN_ATTEMPTS 5

static int db_open_one(struct store *store, DB_TXN *txn, enum store_dbi i, enum db_mode mode)
{
	bool create = mode == DB_MODE_CREATE;
	const struct store_dbspec *spec = &store_dbspecs[i];
	DB *db;
	int ret;
	for (int attempt = 1;; attempt++) {
		ret = db_open_attempt(store, txn, i, mode, &db);
		if (ret != EINVAL || create || attempt == DB_OPEN_ATTEMPTS)
			break;
		struct timespec ts = { 0, attempt * 2000000L };
		nanosleep(&ts, NULL);
	}
	if (ret == -1)
		return -1;
	if (ret != 0) {
		char *path = path_join(store->home, spec->file);
		if (ret == ENOENT)
			store_err(store, "%s is missing: the store is incomplete; restore it from a "
				  "backup ('pillarbox store restore DIR')", path ? path : spec->file);
		else if (ret == EACCES)
			store_err(store, "%s: permission denied: chown it to user %s", path ? path : spec->file,
				  store->config->user);
		else if (ret == DB_RUNRECOVERY)
			store_dberr(store, ret, spec->file);
		else if (ret == ENOSPC || ret == EDQUOT)
			store_dberr(store, ret, path ? path : spec->file);
		else
			store_err(store, "%s is damaged or not a Pillarbox database (%s): move it away "
				  "and restore the store from a backup ('pillarbox store restore DIR')",
				  path ? path : spec->file, db_strerror(ret));
		free(path);
		return -1;
	}
	if (mode == DB_MODE_READ)
		store->db_readers[i] = db;
	else
		store->db_handles[i] = db;
	return 0;
}

/* A database that cannot be opened half-way through (damaged, removed, not
 * readable; a broken environment panics in store_dberr instead): the
 * process leaves as store_close would, the transaction under way aborted,
 * so that no other process has to recover after it. */
static void store_leave(struct store *store)
{
	if (store->txn != NULL) {
		store->txn->abort(store->txn);
		store->txn = NULL;
	}
	if (panic_hook != NULL)
		panic_hook();
	store_close(&store);
	fflush(stdout);
	_exit(75);
}

static DB *db_handle(struct store *store, enum store_dbi dbi, enum db_mode mode)
{
	if (store->db_handles[dbi] != NULL)
		return store->db_handles[dbi];
	if (mode == DB_MODE_READ && store->db_readers[dbi] != NULL)
		return store->db_readers[dbi];
	/* Opened inside its own snapshot transaction, as in store_open: it
	 * never waits for a writer (STORE-NOTES §2d). */
	DB_TXN *txn;
	int ret = store->env->txn_begin(store->env, NULL, &txn, DB_TXN_SNAPSHOT);
	if (ret != 0) {
		store_dberr(store, ret, "txn_begin");
	} else if (db_open_one(store, txn, dbi, mode) < 0) {
		txn->abort(txn);
	} else if ((ret = txn->commit(txn, DB_TXN_NOSYNC)) != 0) {
		store_dberr(store, ret, "opening a database");
	}
	DB *db = mode == DB_MODE_READ ? store->db_readers[dbi] : store->db_handles[dbi];
	if (db == NULL) {
		log_error("store: %s", store_last_error(store));
		if (store->threaded)
			store_panic(store);
		store_leave(store);
	}
	return db;
}

int store_db_create_txn(struct store *store, DB_TXN *txn, enum store_dbi dbi)
{
	return db_open_one(store, txn, dbi, DB_MODE_CREATE);
}

DB *store_db(struct store *store, enum store_dbi dbi)
{
	return db_handle(store, dbi, store->writing ? DB_MODE_WRITE : DB_MODE_READ);
}

DB *store_db_writer(struct store *store, enum store_dbi dbi)
{
	return db_handle(store, dbi, DB_MODE_WRITE);
}

/* The cheap part of opening a database, for the ones opened later: the file
 * is there, writable, and starts with the magic number of its access method
 * (the meta page: LSN, page number, magic). */
static int db_file_check(struct store *store, int dirfd, enum store_dbi i)
{
	static const uint32_t magic[] = { [DB_BTREE] = 0x053162, [DB_QUEUE] = 0x042253 };
	const char *file = store_dbspecs[i].file;
	uint8_t meta[16];
	/* Relative to the open directory: no path walk for each of them. */
	int fd = openat(dirfd, file, O_RDWR | O_CLOEXEC | O_NOCTTY);
	int saved = errno;
	ssize_t n = fd >= 0 ? pread(fd, meta, sizeof(meta), 0) : -1;
	if (fd >= 0)
		close(fd);
	if (fd >= 0) {
		uint32_t m;
		memcpy(&m, meta + 12, 4);
		uint32_t want = magic[store_dbspecs[i].type];
		if (n == (ssize_t)sizeof(meta) && (m == want || __builtin_bswap32(m) == want))
			return 0;
	}
	char *path = path_join(store->home, file);
	int r;
	if (fd < 0 && saved == EACCES)
		r = store_err(store, "%s: permission denied: chown it to user %s",
			      path ? path : file, store->config->user);
	else if (fd < 0)
		r = store_err(store, "%s is missing: the store is incomplete; restore it from a "
			      "backup ('pillarbox store restore DIR')", path ? path : file);
	else
		r = store_err(store, "%s is damaged or not a Pillarbox database: move it away "
			      "and restore the store from a backup ('pillarbox store restore DIR')",
			      path ? path : file);
	free(path);
	return r;
}

static void dbs_close(struct store *store)
{
	for (int i = 0; i < DBI_COUNT; i++) {
		if (store->db_handles[i] != NULL) {
			store->db_handles[i]->close(store->db_handles[i], DB_NOSYNC);
			store->db_handles[i] = NULL;
		}
		if (store->db_readers[i] != NULL) {
			store->db_readers[i]->close(store->db_readers[i], DB_NOSYNC);
			store->db_readers[i] = NULL;
		}
	}
}

/* The version as the records know it, against this program's. */
static int format_version_check(struct store *store, uint32_t version)
{
	if (version > STORE_FORMAT_VERSION)
		return store_err(store, "%s: store format version %u is newer than this program "
				 "understands (%u): upgrade Pillarbox; nothing was changed",
				 store->config->store, version, STORE_FORMAT_VERSION);
	if (version >= STORE_FORMAT_UPGRADABLE && version < STORE_FORMAT_VERSION)
		return store_err(store, "%s: store format version %u is older than this program's "
				 "(%u): stop Pillarbox's services and run 'pillarbox store upgrade'; "
				 "nothing was changed", store->config->store, version,
				 STORE_FORMAT_VERSION);
	/* No Pillarbox ever wrote a version before the first: only a damaged
	 * record says so. */
	if (version < STORE_FORMAT_VERSION)
		return store_err(store, "%s: store format version %u was never written by "
				 "Pillarbox (the first is %u): meta.db is damaged; restore a backup "
				 "with 'pillarbox store restore'; nothing was changed",
				 store->config->store, version, STORE_FORMAT_UPGRADABLE);
	return 0;
}

int store_format_record_txn(struct store *store, DB_TXN *txn, uint32_t *version_r)
{
	uint8_t buf[4];
	size_t len;
	int ret = store_get(store, DBI_META, txn, "format", 6, buf, sizeof(buf), &len, 0);
	if (ret < 0)
		return -1;
	if (ret == 0 || len != 4)
		return store_err(store, "%s/meta.db has no format record: not a Pillarbox store",
				 store->home);
	*version_r = be32_get(buf);
	return 0;
}

static int format_check(struct store *store, DB_TXN *txn)
{
	uint32_t version;
	if (store_format_record_txn(store, txn, &version) < 0)
		return -1;
	return format_version_check(store, version);
}

/* <home>/FORMAT: the version again, as a line of text beside meta.db's
 * record (which decides), so that a process learns it with three system
 * calls instead of opening meta.db: every DB->open takes Berkeley DB's
 * environment-wide lock, and a POP3 login's whole work is a few opens.
 * Returns the version, or 0 when the file is missing or garbled (a store
 * made before the file existed, a crash while it was replaced): the record
 * is read then, and `store maintain` writes the file again. */
static uint32_t format_file_read(const struct store *store)
{
	char path[4096], text[16];
	snprintf(path, sizeof(path), "%s/" STORE_FORMAT_FILE, store->home);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 2 || text[n - 1] != '\n')
		return 0;
	uint32_t version = 0;
	for (ssize_t i = 0; i < n - 1; i++) {
		if (text[i] < '0' || text[i] > '9' || version > 100000)
			return 0;
		version = version * 10 + (uint32_t)(text[i] - '0');
	}
	return version;
}

int store_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

int store_format_file_write(struct store *store, uint32_t version)
{
	char path[4096], tmp[4096], text[16];
	snprintf(path, sizeof(path), "%s/" STORE_FORMAT_FILE, store->home);
	/* a name of its own: maintain's timer may write it as setup does */
	snprintf(tmp, sizeof(tmp), "%s/" STORE_FORMAT_FILE ".%ld", store->home, (long)getpid());
	int len = snprintf(text, sizeof(text), "%u\n", version);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd < 0)
		return store_err(store, "%s: %s", tmp, strerror(errno));
	if (write(fd, text, (size_t)len) != len || fsync(fd) < 0) {
		int saved = errno;
		close(fd);
		unlink(tmp);
		return store_err(store, "%s: %s", tmp, strerror(saved));
	}
	if (close(fd) < 0 || rename(tmp, path) < 0 || store_fsync_dir(store->home) < 0) {
		int saved = errno;
		unlink(tmp);
		return store_err(store, "%s: %s", path, strerror(saved));
	}
	return 0;
}

int store_format_file_remove(struct store *store)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/" STORE_FORMAT_FILE, store->home);
	if ((unlink(path) < 0 && errno != ENOENT) || store_fsync_dir(store->home) < 0)
		return store_err(store, "%s: %s", path, strerror(errno));
	return 0;
}

uint32_t store_format_file_version(const struct store *store)
{
	return format_file_read(store);
}

static int check_dir(struct store *store, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return store_err(store, "%s does not exist: create the store with "
					 "'pillarbox store init'", path);
		return store_err(store, "%s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return store_err(store, "%s is not a directory", path);
	if (access(path, R_OK | W_OK | X_OK) < 0)
		return store_err(store, "%s: permission denied: the store must be owned by user %s "
				 "(chown -R %s: %s; chmod 2770 %s)", path, store->config->user,
				 store->config->user, store->config->store, path);
	return 0;
}

static int format_record_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	return store_format_record_txn(store, txn, ctx) < 0 ? -1 : 1;
}

int store_format_file_sync(struct store *store, const char **error_r)
{
	uint32_t version;
	if (store_read(store, format_record_txn, &version, error_r) < 0)
		return -1;
	if (format_file_read(store) == version)
		return 0;
	if (store_format_file_write(store, version) < 0) {
		*error_r = store_last_error(store);
		return -1;
	}
	return 1;
}

/* That every database's file is in the home: one read of the directory
 * (the lazy check; a file is checked in full when first opened). */
static int dbs_present(struct store *store)
{
	bool seen[DBI_COUNT] = { false };
	DIR *dir = opendir(store->home);
	if (dir == NULL)
		return store_err(store, "%s: %s", store->home, strerror(errno));
	struct dirent *e;
	while ((e = readdir(dir)) != NULL)
		for (int i = 0; i < DBI_COUNT; i++)
			if (!seen[i] && strcmp(e->d_name, store_dbspecs[i].file) == 0)
				seen[i] = true;
	int r = 0;
	for (int i = 0; r == 0 && i < DBI_COUNT; i++)
		if (!seen[i])
			r = db_file_check(store, dirfd(dir), i);   /* says what is wrong */
	closedir(dir);
	return r;
}

/* A single-threaded process opens its databases on first use; their files
 * must all be there now, so a damaged store is reported here, not half-way
 * through a session. The format comes from FORMAT, or from meta.db's record
 * when that file is missing. */
static int dbs_check(struct store *store)
{
	/* The format first: an older store lacks some files by design. */
	uint32_t version = format_file_read(store);
	if (version > 0) {
		if (format_version_check(store, version) < 0)
			return -1;
	} else {
		DB_TXN *txn;
		int ret = store->env->txn_begin(store->env, NULL, &txn, DB_TXN_SNAPSHOT);
		if (ret != 0)
			return store_dberr(store, ret, "txn_begin");
		if (db_open_one(store, txn, DBI_META, DB_MODE_READ) < 0 ||
		    format_check(store, txn) < 0) {
			txn->abort(txn);
			return -1;
		}
		ret = txn->commit(txn, DB_TXN_NOSYNC);
		if (ret != 0)
			return store_dberr(store, ret, "opening meta.db");
	}
	if (store->lazy)
		return dbs_present(store);
	int dirfd = open(store->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return store_err(store, "%s: %s", store->home, strerror(errno));
	for (int i = 0; i < DBI_COUNT; i++) {
		if (db_file_check(store, dirfd, i) < 0) {
			close(dirfd);
			return -1;
		}
	}
	close(dirfd);
	return 0;
}

/* The threaded webmaild opens every database for writing at start, in one
 * snapshot transaction, and checks the format record itself. */
static int dbs_open_all(struct store *store)
{
	DB_TXN *txn;
	int ret = store->env->txn_begin(store->env, NULL, &txn, DB_TXN_SNAPSHOT);
	if (ret != 0)
		return store_dberr(store, ret, "txn_begin");
	/* meta.db and the format first: an older store lacks some files. */
	for (int i = 0; i < DBI_COUNT; i++) {
		if (db_open_one(store, txn, i, DB_MODE_WRITE) < 0 ||
		    (i == DBI_META && format_check(store, txn) < 0)) {
			txn->abort(txn);
			return -1;
		}
	}
	/* Opening databases for writing logs their registration: nothing a
	 * client was promised, so no fsync on every connection. */
	ret = txn->commit(txn, DB_TXN_NOSYNC);
	if (ret != 0)
		return store_dberr(store, ret, "opening databases");
	return 0;
}

static void atexit_close(void)
{
	if (atexit_store != NULL)
		store_close(&atexit_store);
}

int store_open(const struct config *config, bool threaded, struct store **store_r,
	       const char **error_r)
{
	return store_open_home(config, NULL, threaded, store_r, error_r);
}

/* What store_open looks at before it returns. */
enum open_check {
	OPEN_CHECK_ALL,    /* the format, and every database's file */
	OPEN_CHECK_LAZY,   /* the format, that the files are there (per connection) */
	OPEN_CHECK_NONE,   /* nothing: upgrade.c checks what it needs */
};

static int store_open_any(const struct config *config, const char *home, bool threaded,
			  enum open_check check, struct store **store_r, const char **error_r);

int store_open_home(const struct config *config, const char *home, bool threaded,
		    struct store **store_r, const char **error_r)
{
	return store_open_any(config, home, threaded, OPEN_CHECK_ALL, store_r, error_r);
}

int store_open_per_connection(const struct config *config, struct store **store_r,
			      const char **error_r)
{
	return store_open_any(config, NULL, false, OPEN_CHECK_LAZY, store_r, error_r);
}

int store_open_upgrading(const struct config *config, struct store **store_r, const char **error_r)
{
	return store_open_any(config, NULL, false, OPEN_CHECK_NONE, store_r, error_r);
}

static int store_open_any(const struct config *config, const char *home, bool threaded,
			  enum open_check check, struct store **store_r, const char **error_r)
{
	static bool atexit_done;
	bool registered = false;
	*store_r = NULL;
	if (geteuid() == 0) {
		*error_r = "refusing to open the store as root: it would create root-owned files; "
			"run as the store user (programs switch to it themselves)";
		return -1;
	}
	umask(007);
	struct store *store = store_alloc(config);
	if (store == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (home != NULL) {
		store->copy = true;
		free(store->home);
		store->home = strdup(home);
		if (store->home == NULL) {
			store_free(store);
			*error_r = "out of memory";
			return -1;
		}
	}
	const char *dirs[] = { config->store, store->home, store->blobs, store->notify };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (check_dir(store, dirs[i]) < 0)
			goto fail;
	char *dbconfig = path_join(store->home, "DB_CONFIG");
	if (dbconfig == NULL || access(dbconfig, R_OK) < 0) {
		store_err(store, "%s is missing or unreadable: not a Pillarbox store", dbconfig ? dbconfig : "DB_CONFIG");
		free(dbconfig);
		goto fail;
	}
	free(dbconfig);
	/* A store copied without its __db.* region files but with
	 * __db.register would start without recovery: copies are made with
	 * `pillarbox store backup` and brought back with `store restore`
	 * (which runs catastrophic recovery). Region files also vanish for a
	 * moment while another process recovers, so their absence here proves
	 * nothing and must not be acted upon (it cost acknowledged mail in the
	 * crash test when the registry was reset on it). */
	/* The watchdog's handler, and the watchdog itself over the open (a
	 * recovery stuck on a dead process's mutex must end too); the caller's
	 * own alarm is given back afterwards. */
	unsigned caller_alarm = alarm(0);
	process_watchdog(0);
	alarm(config->watchdog_seconds);
	int opened = env_create(store, threaded) == 0 && env_open(store, 0) == 0;
	alarm(caller_alarm);
	if (!opened)
		goto fail;
	registered = true;

	store->lazy = check == OPEN_CHECK_LAZY;
	if (check != OPEN_CHECK_NONE && (threaded ? dbs_open_all(store) < 0 : dbs_check(store) < 0))
		goto fail;
	atexit_store = store;
	if (!atexit_done) {
		atexit(atexit_close);
		atexit_done = true;
	}
	*store_r = store;
	return 0;
fail:
	*error_r = store_last_error(store);
	dbs_close(store);
	if (store->env != NULL)
		env_close(store, registered);
	store_free(store);
	return -1;
}

void store_close(struct store **storep)
{
	struct store *store = *storep;
	if (store == NULL)
		return;
	*storep = NULL;
	if (atexit_store == store)
		atexit_store = NULL;
	unsigned previous = store_watchdog_arm(store);
	dbs_close(store);
	store->env->txn_checkpoint(store->env, CHECKPOINT_KBYTES, CHECKPOINT_MINUTES, 0);
	env_close_registered(store);
	store_watchdog_restore(previous);
	store_free(store);
}

static int write_file(const char *path, const char *text, const char **error_r)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
	if (fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		*error_r = strerror(errno);
		close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return errno == ENOENT;
	struct dirent *e;
	bool empty = true;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = false;
			break;
		}
	}
	closedir(d);
	return empty;
}

int store_init(const struct config *config, const char **error_r)
{
	static __thread char msg[1200];
	const char *why;
	bool registered = false;
	if (geteuid() == 0) {
		*error_r = "refusing to create the store as root: run as the store user";
		return -1;
	}
	umask(007);
	if (!dir_is_empty(config->store)) {
		snprintf(msg, sizeof(msg), "%s is not empty: refusing to create a store over it",
			 config->store);
		*error_r = msg;
		return -1;
	}
	struct store *store = store_alloc(config);
	if (store == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	char *tmp = path_join(store->blobs, "tmp");
	char *dbconfig = path_join(store->home, "DB_CONFIG");
	const char *dirs[] = { config->store, store->home, store->blobs, tmp, store->notify };
	if (tmp == NULL || dbconfig == NULL) {
		snprintf(msg, sizeof(msg), "out of memory");
		goto fail_msg;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if ((mkdir(dirs[i], 02770) < 0 && errno != EEXIST) || chmod(dirs[i], 02770) < 0) {
			snprintf(msg, sizeof(msg), "%s: %s", dirs[i], strerror(errno));
			goto fail_msg;
		}
	}
	if (write_file(dbconfig, db_config_text, &why) < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", dbconfig, why);
		goto fail_msg;
	}
	if (env_create(store, false) < 0 || env_open(store, 0) < 0)
		goto fail;
	registered = true;
	DB_TXN *txn;
	int ret = store->env->txn_begin(store->env, NULL, &txn, 0);
	if (ret != 0) {
		store_dberr(store, ret, "txn_begin");
		goto fail;
	}
	for (int i = 0; i < DBI_COUNT; i++) {
		if (db_open_one(store, txn, i, DB_MODE_CREATE) < 0) {
			txn->abort(txn);
			goto fail;
		}
	}
	uint8_t version[4];
	be32_put(version, STORE_FORMAT_VERSION);
	/* UIDVALIDITY values start from the creation time so that a store made
	 * again from scratch never reuses old ones (RFC 3501 2.3.1.1). */
	uint8_t uidvalidity[8];
	be64_put(uidvalidity, (uint64_t)time(NULL));
	if (store_put(store, DBI_META, txn, "format", 6, version, 4, 0) < 0 ||
	    store_put(store, DBI_META, txn, "uidvalidity", 11, uidvalidity, 8, 0) < 0 ||
	    srs_secret_create_txn(store, txn) < 0) {
		txn->abort(txn);
		goto fail;
	}
	ret = txn->commit(txn, DB_TXN_SYNC);
	if (ret != 0) {
		store_dberr(store, ret, "creating databases");
		goto fail;
	}
	store->env->txn_checkpoint(store->env, 0, 0, 0);
	if (store_format_file_write(store, STORE_FORMAT_VERSION) < 0)
		goto fail;
	dbs_close(store);
	env_close_registered(store);
	free(tmp);
	free(dbconfig);
	store_free(store);
	return 0;
fail:
	snprintf(msg, sizeof(msg), "%s", store_last_error(store));
fail_msg:
	*error_r = msg;
	dbs_close(store);
	if (store->env != NULL)
		env_close(store, registered);
	free(tmp);
	free(dbconfig);
	store_free(store);
	return -1;
}
