/* Maintenance without a daemon (STORE-NOTES §9): what `pillarbox store
 * maintain` does from a timer every minute, and `store stats`. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account_int.h"
#include "body.h"
#include "log.h"
#include "message.h"
#include "session.h"
#include "store_int.h"
#include "vacation.h"

/* Auth failure counters and webmail sessions older than this are dropped. */
#define AUTHFAIL_EXPIRE_SECONDS (24 * 3600)

struct orphan_ctx {
	const uint8_t *id;
};

static int body_exists_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct orphan_ctx *c = ctx;
	uint8_t buf[8];
	DBT k = { .data = (void *)c->id, .size = STORE_BODY_ID_LEN };
	DBT v = { .data = buf, .ulen = sizeof(buf), .dlen = 0, .doff = 0,
		  .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
	int ret = store_db(store, DBI_BODIES)->get(store_db(store, DBI_BODIES), txn, &k, &v, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return store_dberr(store, ret, "bodies.db");
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

static bool parse_id(const char *name, uint8_t id[STORE_BODY_ID_LEN])
{
	if (strlen(name) != 2 * STORE_BODY_ID_LEN)
		return false;
	for (int i = 0; i < STORE_BODY_ID_LEN; i++) {
		int hi = hexval(name[2 * i]), lo = hexval(name[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Visits blobs/ab/cd/<id>: a body file older than `age` with no record is an
 * orphan (a crash between rename and commit, or a delete whose unlink never
 * came). Files in blobs/tmp older than `age` are abandoned writes. */
static int collect_orphans(struct store *store, unsigned age, unsigned *removed_r)
{
	time_t cutoff = time(NULL) - (time_t)age;
	char path[1024];
	*removed_r = 0;
	DIR *top = opendir(store->blobs);
	if (top == NULL)
		return store_err(store, "%s: %s", store->blobs, strerror(errno));
	struct dirent *a;
	while ((a = readdir(top)) != NULL) {
		if (a->d_name[0] == '.')
			continue;
		bool tmp = strcmp(a->d_name, "tmp") == 0;
		snprintf(path, sizeof(path), "%s/%s", store->blobs, a->d_name);
		DIR *mid = opendir(path);
		if (mid == NULL)
			continue;
		struct dirent *b;
		while ((b = readdir(mid)) != NULL) {
			if (b->d_name[0] == '.')
				continue;
			struct stat st;
			if (tmp) {
				snprintf(path, sizeof(path), "%s/tmp/%s", store->blobs, b->d_name);
				if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime <= cutoff &&
				    unlink(path) == 0)
					(*removed_r)++;
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s/%s", store->blobs, a->d_name, b->d_name);
			DIR *leaf = opendir(path);
			if (leaf == NULL)
				continue;
			struct dirent *c;
			while ((c = readdir(leaf)) != NULL) {
				uint8_t id[STORE_BODY_ID_LEN];
				if (!parse_id(c->d_name, id))
					continue;
				snprintf(path, sizeof(path), "%s/%s/%s/%s", store->blobs, a->d_name,
					 b->d_name, c->d_name);
				if (stat(path, &st) < 0 || st.st_mtime > cutoff)
					continue;
				struct orphan_ctx ctx = { id };
				const char *error;
				int r = store_read(store, body_exists_txn, &ctx, &error);
				if (r < 0) {
					closedir(leaf);
					closedir(mid);
					closedir(top);
					return -1;
				}
				if (r == 0) {
					unlink(path);
					strcat(path, ".mime");
					unlink(path);
					(*removed_r)++;
				}
			}
			closedir(leaf);
		}
		closedir(mid);
	}
	closedir(top);
	return 0;
}

/* Deletes auth-failure counters whose last failure is long past. Record:
 * {u8 version, u32 failures, i64 window_start, i64 last_failure}. */
static int expire_authfail_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	DBC *cur;
	/* counters only: the cursor step looks at the record past them */
	uint8_t kbuf[600] = { ACCOUNT_TAG_FAILURES }, vbuf[64];
	int64_t cutoff = (int64_t)time(NULL) - AUTHFAIL_EXPIRE_SECONDS;
	unsigned *count = ctx;
	int ret = store_db(store, DBI_ACCOUNTS)->cursor(store_db(store, DBI_ACCOUNTS), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "accounts.db cursor");
	DBT k = { .data = kbuf, .size = 1, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	for (uint32_t op = DB_SET_RANGE;
	     (ret = account_cursor_get(cur, ACCOUNT_TAG_FAILURES, &k, &v, op | DB_RMW)) == 0;
	     op = DB_NEXT) {
		if (v.size >= 21 && (int64_t)be64_get(vbuf + 13) < cutoff) {
			if ((ret = cur->del(cur, 0)) != 0)
				break;
			(*count)++;
		}
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "accounts.db cursor");
	return 1;
}

/* ---- DB_CONFIG of older stores ---- */

#define DB_CONFIG_MAX 65536

/* A DB_CONFIG line's directive: its first word, or its first two for the
 * directives that repeat with a subsystem or flag name. */
static size_t directive(const char *line, size_t len, char *key, size_t keysize)
{
	static const char *const two[] = { "set_memory_init", "log_set_config", "set_flags",
					   "set_verbose" };
	size_t i = 0, n = 0, words = 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	for (; i < len && line[i] != '\n' && line[i] != '\r' && n + 1 < keysize; i++) {
		bool space = line[i] == ' ' || line[i] == '\t';
		if (space) {
			if (words == 2)
				break;
			bool repeats = false;
			for (size_t j = 0; j < sizeof(two) / sizeof(two[0]); j++)
				if (n == strlen(two[j]) && memcmp(key, two[j], n) == 0)
					repeats = true;
			if (!repeats)
				break;
			while (i + 1 < len && (line[i + 1] == ' ' || line[i + 1] == '\t'))
				i++;
			words = 2;
			key[n++] = ' ';
			continue;
		}
		key[n++] = (char)tolower((unsigned char)line[i]);
	}
	key[n] = '\0';
	return n;
}

static bool has_directive(const char *text, size_t len, const char *want)
{
	char key[128];
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (directive(p, n, key, sizeof(key)) > 0 && strcmp(key, want) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Directives older versions wrote that must go. An environment-wide
 * DB_MULTIVERSION would force MVCC on bodydata.db (env.c, db_multiversion)
 * for the db5.3_* tools; Pillarbox's own processes clear it after open. */
static const char *const retired_directives[] = { "set_flags db_multiversion" };
/* Whole lines older versions wrote with a value since changed (env.c says
 * why): dropped so that the template's value is appended; a value an
 * administrator chose is a different line and stays. */
static const char *const retired_lines[] = { "set_lk_tablesize 32768" };

/* The line with its blanks squeezed to single spaces, lowercased, without
 * the newline: "set_lk_tablesize   32768\n" -> "set_lk_tablesize 32768". */
static void squeeze(const char *line, size_t len, char *out, size_t outsize)
{
	size_t n = 0;
	bool blank = true;   /* drops leading blanks */
	for (size_t i = 0; i < len && line[i] != '\n' && line[i] != '\r' && n + 1 < outsize; i++) {
		if (line[i] == ' ' || line[i] == '\t') {
			blank = true;
			continue;
		}
		if (blank && n > 0)
			out[n++] = ' ';
		blank = false;
		if (n + 1 < outsize)
			out[n++] = (char)tolower((unsigned char)line[i]);
	}
	out[n] = '\0';
}

static bool retired(const char *line, size_t len)
{
	char key[128];
	if (directive(line, len, key, sizeof(key)) == 0)
		return false;
	for (size_t i = 0; i < sizeof(retired_directives) / sizeof(retired_directives[0]); i++)
		if (strcmp(key, retired_directives[i]) == 0)
			return true;
	squeeze(line, len, key, sizeof(key));
	for (size_t i = 0; i < sizeof(retired_lines) / sizeof(retired_lines[0]); i++)
		if (strcmp(key, retired_lines[i]) == 0)
			return true;
	return false;
}

/* Settings added to the template after a store was made reach it here: a
 * directive missing from its DB_CONFIG is appended (lines an administrator
 * changed are left as they are), and a retired one is dropped. The new
 * file replaces the old by rename, so a process opening meanwhile reads
 * one or the other whole; region settings apply from the next recovery,
 * the others from each process's next open. Returns the number of lines
 * added or dropped, -1 on error. */
static int config_update(struct store *store)
{
	char path[1024], tmp[1100], key[128];
	char *old = malloc(DB_CONFIG_MAX + 1), *keep = malloc(DB_CONFIG_MAX + 1),
	     *add = malloc(DB_CONFIG_MAX);
	size_t oldlen = 0, keeplen = 0, addlen = 0;
	int fd = -1, changed = 0, r = -1;
	if (old == NULL || keep == NULL || add == NULL)
		goto out;
	snprintf(path, sizeof(path), "%s/DB_CONFIG", store->home);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	ssize_t n;
	while (oldlen < DB_CONFIG_MAX && (n = read(fd, old + oldlen, DB_CONFIG_MAX - oldlen)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		oldlen += (size_t)n;
	}
	close(fd);
	fd = -1;
	if (oldlen == DB_CONFIG_MAX) {
		r = 0;      /* not a DB_CONFIG we wrote: leave it */
		goto out;
	}
	for (const char *p = old, *end = old + oldlen; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (retired(p, len)) {
			changed++;
		} else {
			memcpy(keep + keeplen, p, len);
			keeplen += len;
		}
		p += len;
	}
	const char *t = store_db_config_template(), *end = t + strlen(t);
	while (t < end) {
		const char *nl = memchr(t, '\n', (size_t)(end - t));
		size_t len = nl != NULL ? (size_t)(nl - t) + 1 : (size_t)(end - t);
		if (directive(t, len, key, sizeof(key)) > 0 && !has_directive(keep, keeplen, key) &&
		    addlen + len < DB_CONFIG_MAX) {
			memcpy(add + addlen, t, len);
			addlen += len;
			changed++;
		}
		t += len;
	}
	r = 0;
	if (changed == 0)
		goto out;
	static const char note[] = "# added by pillarbox store maintain\n";
	snprintf(tmp, sizeof(tmp), "%s.new.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0660);
	r = -1;
	if (fd < 0)
		goto out;
	if (write_all(fd, keep, keeplen) < 0 ||
	    (keeplen > 0 && keep[keeplen - 1] != '\n' && write_all(fd, "\n", 1) < 0) ||
	    (addlen > 0 && (write_all(fd, note, sizeof(note) - 1) < 0 ||
			    write_all(fd, add, addlen) < 0)) ||
	    fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		goto out;
	}
	int dfd = open(store->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	r = changed;
out:
	if (fd >= 0)
		close(fd);
	free(old);
	free(keep);
	free(add);
	return r;
}

/* A checkpoint that took this long (Berkeley DB slept a second in it) is
 * taken again, at most CHECKPOINT_TRIES times in all. */
#define CHECKPOINT_SLOW_MS 500
#define CHECKPOINT_TRIES 4

int store_maintain(struct store *store, unsigned orphan_age, const char **error_r)
{
	/* A reservation a full disk cut short is completed once there is room. */
	if (!store->copy)
		store_regions_reserve(store);
	/* Not fatal: the store works with its old settings. */
	int changed = config_update(store);
	if (changed < 0)
		log_warning("store: %s/DB_CONFIG could not be brought up to date: %s", store->home,
			    strerror(errno));
	else if (changed > 0)
		log_info("store: %s/DB_CONFIG: %d setting(s) added or dropped", store->home, changed);
	int format = store_format_file_sync(store, error_r);
	if (format < 0)
		return -1;
	if (format > 0)
		log_info("store: %s/" STORE_FORMAT_FILE " written from meta.db's format record",
			 store->home);
	unsigned expired = 0, orphans = 0;
	if (store_write(store, false, expire_authfail_txn, &expired, error_r) < 0)
		return -1;
	int sessions = store_session_expire(store, time(NULL), STORE_SESSION_IDLE_DEFAULT,
					    STORE_SESSION_ABSOLUTE_DEFAULT, error_r);
	if (sessions < 0)
		return -1;
	expired += (unsigned)sessions;
	int answered = store_vacation_prune(store, time(NULL), error_r);
	if (answered < 0)
		return -1;
	expired += (unsigned)answered;
	unsigned forgotten = 0;
	if (expunged_prune(store, (int64_t)time(NULL) - (int64_t)store->config->expunge_history_days * 86400,
			   &forgotten, error_r) < 0)
		return -1;
	expired += forgotten;
	unsigned filled = 0;
	if (user_inbox_fill(store, &filled, error_r) < 0)
		return -1;
	if (filled > 0)
		log_info("store: %u users' records name their INBOX now", filled);
	if (collect_orphans(store, orphan_age, &orphans) < 0) {
		*error_r = store_last_error(store);
		return -1;
	}
	unsigned rows = 0;
	if (store_body_data_gc(store, orphan_age, &rows, error_r) < 0)
		return -1;
	orphans += rows;
	/* The checkpoint comes last, after the cache is written out once:
	 * recovery starts from where the last checkpoint began, so the
	 * checkpoint must have little left to write when it begins (one that
	 * began with a full cache, then the clean-up above, left recovery a
	 * second of log under 4 deliverers). Berkeley DB's write-out also
	 * sleeps a whole second when a writer holds a dirty buffer latched
	 * (mp_sync.c, __memp_sync_int): recovery then replayed that second,
	 * 400-750 ms against 50-100 (bench_store.sh). A checkpoint that slow
	 * is taken again, so the last one most likely began just before it
	 * ended. */
	unsigned previous = store_watchdog_arm(store);
	int ret = store->env->memp_sync(store->env, NULL);
	for (int i = 0; ret == 0 && i < CHECKPOINT_TRIES; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = store->env->txn_checkpoint(store->env, 0, 0, i > 0 ? DB_FORCE : 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 <
		    CHECKPOINT_SLOW_MS)
			break;
	}
	/* Logs no longer needed for recovery go once the checkpoint is down,
	 * unless a backup or check is copying: its copy needs the logs since
	 * its own checkpoint (the next run removes them). */
	int hold = -1;
	if (ret == 0 && (hold = backup_logs_hold(store, true)) < 0 && errno != EWOULDBLOCK) {
		store_watchdog_restore(previous);
		*error_r = store_last_error(store);
		return -1;
	}
	if (hold >= 0) {
		ret = store->env->log_archive(store->env, NULL, DB_ARCH_REMOVE);
		close(hold);
	} else if (ret == 0) {
		log_info("store: logs kept: a backup or check is copying them");
	}
	store_watchdog_restore(previous);
	if (ret != 0) {
		store_dberr(store, ret, "checkpoint and log removal");
		*error_r = store_last_error(store);
		return -1;
	}
	return (int)(orphans + expired);
}

/* accounts.db's records by tag, counted. */
static int account_stats(struct store *store, FILE *out)
{
	static const struct { char tag; const char *what; } tags[] = {
		{ ACCOUNT_TAG_USER, "users" },
		{ ACCOUNT_TAG_ADDRESS, "addresses" },
		{ ACCOUNT_TAG_FAILURES, "login failure counters" },
	};
	DB *db = store_db(store, DBI_ACCOUNTS);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		DBC *cur;
		uint8_t kbuf[1 + ACCOUNT_KEY_MAX] = { (uint8_t)tags[i].tag };
		DBT k = { .data = kbuf, .size = 1, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
		DBT v = { .flags = DB_DBT_PARTIAL };   /* keys only */
		unsigned long n = 0;
		int ret = db->cursor(db, NULL, &cur, 0);
		if (ret != 0)
			return store_dberr(store, ret, "accounts.db");
		for (uint32_t op = DB_SET_RANGE;
		     (ret = account_cursor_get(cur, tags[i].tag, &k, &v, op)) == 0; op = DB_NEXT)
			n++;
		cur->close(cur);
		if (ret != DB_NOTFOUND)
			return store_dberr(store, ret, "accounts.db");
		fprintf(out, "accounts.db %s: %lu\n", tags[i].what, n);
	}
	return 0;
}

int store_stats(struct store *store, FILE *out, bool records_too, const char **error_r)
{
	for (int i = 0; records_too && i < DBI_COUNT; i++) {
		void *sp = NULL;
		/* A full stat, which walks every page: DB_FAST_STAT only reads
		 * the count saved in the metadata page, never kept up to date
		 * (0 here). Only `store stats` and tests call this, no server. */
		int ret = store_db(store, i)->stat(store_db(store, i), NULL, &sp, 0);
		if (ret != 0) {
			store_dberr(store, ret, store_dbspecs[i].file);
			*error_r = store_last_error(store);
			return -1;
		}
		/* Records are key/data pairs: a key's duplicates (aliases.db's
		 * targets) count each, as bt_ndata does; bt_nkeys counts
		 * unique keys. A queue has no duplicates. */
		unsigned long records = 0;
		if (store_dbspecs[i].type == DB_QUEUE)
			records = ((DB_QUEUE_STAT *)sp)->qs_ndata;
		else
			records = ((DB_BTREE_STAT *)sp)->bt_ndata;
		fprintf(out, "%s records: %lu\n", store_dbspecs[i].file, records);
		free(sp);
	}
	if (records_too && account_stats(store, out) < 0) {
		*error_r = store_last_error(store);
		return -1;
	}
	DB_LOG_STAT *ls = NULL;
	if (store->env->log_stat(store->env, &ls, 0) == 0) {
		fprintf(out, "log current file: %u\n", ls->st_cur_file);
		fprintf(out, "log current offset: %u\n", ls->st_cur_offset);
		fprintf(out, "log file size: %u\n", ls->st_lg_size);
		fprintf(out, "log bytes since checkpoint: %lu\n",
			(unsigned long)ls->st_wc_mbytes * 1048576UL + ls->st_wc_bytes);
		fprintf(out, "log flushes: %lu\n", (unsigned long)ls->st_scount);
		fprintf(out, "log bytes written: %lu\n",
			(unsigned long)ls->st_w_mbytes * 1048576UL + ls->st_w_bytes);
		fprintf(out, "log commits per flush (max): %lu\n",
			(unsigned long)ls->st_maxcommitperflush);
		free(ls);
	}
	DB_TXN_STAT *ts = NULL;
	if (store->env->txn_stat(store->env, &ts, 0) == 0) {
		fprintf(out, "transactions committed: %lu\n", (unsigned long)ts->st_ncommits);
		fprintf(out, "snapshot transactions (max): %lu\n", (unsigned long)ts->st_maxnsnapshot);
		free(ts);
	}
	DB_LOCK_STAT *lk = NULL;
	if (store->env->lock_stat(store->env, &lk, 0) == 0) {
		fprintf(out, "deadlocks: %lu\n", (unsigned long)lk->st_ndeadlocks);
		fprintf(out, "locks (max): %lu\n", (unsigned long)lk->st_maxnlocks);
		fprintf(out, "lock waits: %lu\n", (unsigned long)lk->st_lock_wait);
		free(lk);
	}
	return 0;
}
