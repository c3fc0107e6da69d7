/* `pillarbox store upgrade`: a store written by an older Pillarbox brought to
 * this program's format in one durable transaction, so that a crash leaves
 * it in the old format or the new, never between. Services are stopped
 * first: a process of either version that holds an old database open keeps
 * the transaction from removing it (attempts fail at once rather than wait,
 * and after UPGRADE_LOCK_SECONDS of them it gives up, nothing changed).
 *
 * Format 1 -> 2: users.db (u32 id -> record), user_by_addr.db (address ->
 * id) and authfail.db (counters) become accounts.db, each key behind its tag
 * (account_int.h), values unchanged; the three files are removed. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "account_int.h"
#include "log.h"

#define UPGRADE_LOCK_SECONDS 10

struct old_db {
	const char *file;
	char tag;
};

static const struct old_db format1_accounts[] = {
	{ "users.db", ACCOUNT_TAG_USER },
	{ "user_by_addr.db", ACCOUNT_TAG_ADDRESS },
	{ "authfail.db", ACCOUNT_TAG_FAILURES },
};

/* Every record of an old database into accounts.db under `tag`; *copied_r
 * counts them. */
static int copy_tagged(struct store *store, DB_TXN *txn, const struct old_db *old,
		       unsigned *copied_r)
{
	DB *db;
	DBC *cur = NULL;
	DBT k = { .flags = DB_DBT_REALLOC }, v = { .flags = DB_DBT_REALLOC };
	int ret = db_create(&db, store->env, 0);
	if (ret != 0)
		return store_dberr(store, ret, "db_create");
	/* as format 1 opened it: a file's processes must agree on MVCC */
	ret = db->open(db, txn, old->file, NULL, DB_BTREE, DB_MULTIVERSION, 0);
	if (ret == 0)
		ret = db->cursor(db, txn, &cur, 0);
	int r = 0;
	while (ret == 0 && r >= 0 && (ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		r = account_put(store, txn, old->tag, k.data, k.size, v.data, v.size);
		if (r >= 0)
			(*copied_r)++;
	}
	if (cur != NULL)
		cur->close(cur);
	db->close(db, 0);
	free(k.data);
	free(v.data);
	if (r < 0)
		return r;
	if (ret != DB_NOTFOUND)
		return store_dberr(store, ret, old->file);
	return 0;
}

static int format1_to_2(struct store *store, DB_TXN *txn, unsigned *copied_r)
{
	size_t n = sizeof(format1_accounts) / sizeof(format1_accounts[0]);
	int r = store_db_create_txn(store, txn, DBI_ACCOUNTS);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = copy_tagged(store, txn, &format1_accounts[i], copied_r);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int ret = store->env->dbremove(store->env, txn, format1_accounts[i].file, NULL, 0);
		if (ret != 0)
			r = store_dberr(store, ret, format1_accounts[i].file);
	}
	return r;
}

/* The upgrade inside txn: 1 done, 0 nothing to do, <0 error
 * (STORE_TXN_RETRY: a lock not granted). */
static int upgrade_txn(struct store *store, DB_TXN *txn, uint32_t *from_r, unsigned *copied_r)
{
	uint8_t buf[4];
	size_t len;
	int r = store_get(store, DBI_META, txn, "format", 6, buf, sizeof(buf), &len, DB_RMW);
	if (r < 0)
		return -1;
	if (r == 0 || len != 4)
		return store_err(store, "%s/meta.db has no format record: not a Pillarbox store",
				 store->home);
	*from_r = be32_get(buf);
	if (*from_r == STORE_FORMAT_VERSION)
		return 0;
	if (*from_r > STORE_FORMAT_VERSION)
		return store_err(store, "store format version %u is newer than this program "
				 "understands (%u): upgrade Pillarbox", *from_r, STORE_FORMAT_VERSION);
	if (*from_r < STORE_FORMAT_UPGRADABLE)
		return store_err(store, "store format version %u was never written by Pillarbox: "
				 "meta.db is damaged; restore a backup with 'pillarbox store restore'",
				 *from_r);
	if ((r = format1_to_2(store, txn, copied_r)) < 0)
		return r;
	be32_put(buf, STORE_FORMAT_VERSION);
	if (store_put(store, DBI_META, txn, "format", 6, buf, 4, 0) < 0)
		return -1;
	return 1;
}

/* One attempt: the transaction, FORMAT removed before it commits (until it
 * names the new format again, processes read the record). */
static int upgrade_attempt(struct store *store, uint32_t *from_r, unsigned *copied_r)
{
	DB_TXN *txn;
	/* A lock another process holds (an old file open) fails at once. */
	int ret = store->env->txn_begin(store->env, NULL, &txn, DB_TXN_NOWAIT);
	if (ret != 0)
		return store_dberr(store, ret, "txn_begin");
	*copied_r = 0;
	store->txn = txn;   /* store_leave aborts it */
	int r = upgrade_txn(store, txn, from_r, copied_r);
	store->txn = NULL;
	if (r > 0 && store_format_file_remove(store) < 0)
		r = -1;
	if (r <= 0) {
		txn->abort(txn);
		/* a database created in the aborted transaction is gone */
		if (store->db_handles[DBI_ACCOUNTS] != NULL) {
			store->db_handles[DBI_ACCOUNTS]->close(store->db_handles[DBI_ACCOUNTS], DB_NOSYNC);
			store->db_handles[DBI_ACCOUNTS] = NULL;
		}
	} else if ((ret = txn->commit(txn, DB_TXN_SYNC)) != 0) {
		r = store_dberr(store, ret, "committing the upgrade");
	}
	return r;
}

/* Attempts until one is granted every lock, for UPGRADE_LOCK_SECONDS. */
static int upgrade_attempts(struct store *store, uint32_t *from_r, unsigned *copied_r)
{
	struct timespec start, now, pause = { 0, 200 * 1000000L };
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int r = upgrade_attempt(store, from_r, copied_r);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (r != STORE_TXN_RETRY || now.tv_sec - start.tv_sec >= UPGRADE_LOCK_SECONDS)
			return r;
		nanosleep(&pause, NULL);
	}
}

int store_upgrade(const struct config *config, uint32_t *from_r, unsigned *copied_r,
		  const char **error_r)
{
	static __thread char msg[1200];
	struct store *store;
	*from_r = STORE_FORMAT_VERSION;
	*copied_r = 0;
	if (store_open_upgrading(config, &store, error_r) < 0)
		return -1;
	/* A current store is left alone: setup runs this on a live system. */
	if (store_format_file_version(store) == STORE_FORMAT_VERSION) {
		store_close(&store);
		return 0;
	}
	store->writing = true;   /* handles for writing, as run_txn opens them */
	int r = upgrade_attempts(store, from_r, copied_r);
	if (r == STORE_TXN_RETRY)
		snprintf(msg, sizeof(msg), "the store is in use (a lock was not granted in %d s): "
			 "stop Pillarbox's services (and end their sessions), then run the "
			 "upgrade again; nothing was changed", UPGRADE_LOCK_SECONDS);
	else if (r < 0)
		snprintf(msg, sizeof(msg), "%s", store_last_error(store));
	if (r < 0)
		*error_r = msg;
	/* Done (or current): FORMAT says so; without it processes read the
	 * record, so a failure here is only slower. */
	if (r >= 0 && store_format_file_write(store, STORE_FORMAT_VERSION) < 0)
		log_warning("store: %s (processes read meta.db's record until 'pillarbox store "
			    "maintain' writes it)", store_last_error(store));
	store->env->txn_checkpoint(store->env, 0, 0, 0);
	store_close(&store);
	return r < 0 ? -1 : r;
}
