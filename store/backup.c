/* Hot backup, restore, and the consistency check (which runs on a copy,
 * never on the live environment). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account_int.h"
#include "body.h"
#include "dkim.h"
#include "mailbox.h"
#include "message.h"
#include "store_int.h"

static __thread char msgbuf[1200];

static int fail(const char **error_r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msgbuf, sizeof(msgbuf), fmt, ap);
	va_end(ap);
	*error_r = msgbuf;
	return -1;
}

static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0) {
		close(in);
		return -1;
	}
	ssize_t n;
	int r = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			r = -1;
			break;
		}
	}
	if (n < 0 || fsync(out) < 0)
		r = -1;
	close(in);
	if (close(out) < 0)
		r = -1;
	return r;
}

/* Copies blobs/ab/cd/<files> from src to dst, skipping files dst has
 * already (the second pass of a backup) and blobs/tmp. */
static int copy_blobs(const char *src, const char *dst, unsigned *copied_r)
{
	char s[1024], d[1024];
	DIR *top = opendir(src);
	if (top == NULL)
		return -1;
	mkdir(dst, 02770);
	struct dirent *a;
	int r = 0;
	while (r == 0 && (a = readdir(top)) != NULL) {
		if (a->d_name[0] == '.' || strcmp(a->d_name, "tmp") == 0 || strlen(a->d_name) != 2)
			continue;
		snprintf(s, sizeof(s), "%s/%s", src, a->d_name);
		snprintf(d, sizeof(d), "%s/%s", dst, a->d_name);
		mkdir(d, 02770);
		DIR *mid = opendir(s);
		if (mid == NULL)
			continue;
		struct dirent *b;
		while (r == 0 && (b = readdir(mid)) != NULL) {
			if (b->d_name[0] == '.' || strlen(b->d_name) != 2)
				continue;
			snprintf(s, sizeof(s), "%s/%s/%s", src, a->d_name, b->d_name);
			snprintf(d, sizeof(d), "%s/%s/%s", dst, a->d_name, b->d_name);
			mkdir(d, 02770);
			DIR *leaf = opendir(s);
			if (leaf == NULL)
				continue;
			struct dirent *c;
			while (r == 0 && (c = readdir(leaf)) != NULL) {
				if (c->d_name[0] == '.')
					continue;
				snprintf(s, sizeof(s), "%s/%s/%s/%s", src, a->d_name, b->d_name, c->d_name);
				snprintf(d, sizeof(d), "%s/%s/%s/%s", dst, a->d_name, b->d_name, c->d_name);
				if (access(d, F_OK) == 0)
					continue;
				if (copy_file(s, d) < 0) {
					/* Deleted while we copied: it is no longer referenced. */
					if (errno == ENOENT) {
						unlink(d);
						continue;
					}
					r = -1;
				} else if (copied_r != NULL) {
					(*copied_r)++;
				}
			}
			closedir(leaf);
		}
		closedir(mid);
	}
	closedir(top);
	return r;
}

static bool dir_empty_or_absent(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return errno == ENOENT;
	struct dirent *e;
	bool empty = true;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

bool backup_running(struct store *store)
{
	int fd = backup_logs_hold(store, true);
	if (fd < 0)
		return errno == EWOULDBLOCK;
	close(fd);
	return false;
}

int backup_logs_hold(struct store *store, bool remove)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/backup.lock", store->notify);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd < 0) {
		store_err(store, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, remove ? LOCK_EX | LOCK_NB : LOCK_SH) < 0) {
		int err = errno;
		if (err == EINTR)
			continue;
		close(fd);
		if (err != EWOULDBLOCK)
			store_err(store, "%s: %s", path, strerror(err));
		errno = err;
		return -1;
	}
	return fd;
}

/* Bodies are copied before and after the databases: every body the copied
 * databases reference existed before them (bodies are durable before the
 * transaction that references them) and is copied in one of the passes.
 * One written after the first pass and expunged after the databases were
 * copied would be in neither, so the hold lasts until the second pass ends
 * and body files are not unlinked meanwhile (body_unlink_files). */
int store_backup(struct store *store, const char *dir, const char **error_r)
{
	char envdir[1024], blobs[1024], src[1024], dst[1024];
	if (!dir_empty_or_absent(dir))
		return fail(error_r, "%s is not empty: a backup needs a new or empty directory", dir);
	if (mkdir(dir, 02770) < 0 && errno != EEXIST)
		return fail(error_r, "%s: %s", dir, strerror(errno));
	snprintf(envdir, sizeof(envdir), "%s/env", dir);
	snprintf(blobs, sizeof(blobs), "%s/blobs", dir);
	if (mkdir(envdir, 02770) < 0)
		return fail(error_r, "%s: %s", envdir, strerror(errno));
	if (copy_blobs(store->blobs, blobs, NULL) < 0)
		return fail(error_r, "copying bodies to %s: %s", blobs, strerror(errno));
	int hold = backup_logs_hold(store, false);
	if (hold < 0)
		return fail(error_r, "%s", store_last_error(store));
	int ret = store->env->txn_checkpoint(store->env, 0, 0, 0);
	if (ret == 0)
		ret = store->env->backup(store->env, envdir, DB_CREATE);
	if (ret != 0) {
		close(hold);
		return fail(error_r, "backup of the databases into %s: %s", envdir, db_strerror(ret));
	}
	snprintf(src, sizeof(src), "%s/DB_CONFIG", store->home);
	snprintf(dst, sizeof(dst), "%s/DB_CONFIG", envdir);
	if (copy_file(src, dst) < 0) {
		close(hold);
		return fail(error_r, "copying %s: %s", src, strerror(errno));
	}
	/* A store made before FORMAT existed has none: the record decides. */
	snprintf(src, sizeof(src), "%s/" STORE_FORMAT_FILE, store->home);
	snprintf(dst, sizeof(dst), "%s/" STORE_FORMAT_FILE, envdir);
	if (copy_file(src, dst) < 0 && errno != ENOENT) {
		close(hold);
		return fail(error_r, "copying %s: %s", src, strerror(errno));
	}
	ret = copy_blobs(store->blobs, blobs, NULL);
	close(hold);
	if (ret < 0)
		return fail(error_r, "copying bodies to %s: %s", blobs, strerror(errno));
	return 0;
}

int store_backup_config(const struct config *config, const char *dir, const char **error_r)
{
	static __thread char msg[1200];
	struct store *store;
	/* any format: the copy is what an administrator keeps before an upgrade */
	if (store_open_upgrading(config, &store, error_r) < 0)
		return -1;
	int r = store_backup(store, dir, error_r);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "%s", *error_r);
		*error_r = msg;
	}
	store_close(&store);
	return r;
}

/* Opens `home` alone with catastrophic recovery, so a copy of databases and
 * logs becomes a consistent environment, then closes it. */
static int recover_fatal(const char *home, const char **error_r)
{
	DB_ENV *env;
	int ret = db_env_create(&env, 0);
	if (ret == 0)
		ret = env->open(env, home, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
				DB_INIT_MPOOL | DB_RECOVER_FATAL | DB_PRIVATE, 0);
	if (ret == 0)
		ret = env->txn_checkpoint(env, 0, 0, 0);
	if (env != NULL)
		env->close(env, 0);
	if (ret != 0)
		return fail(error_r, "recovery of %s: %s", home, db_strerror(ret));
	return 0;
}

static int copy_dir_files(const char *src, const char *dst)
{
	char s[1024], d[1024];
	DIR *dir = opendir(src);
	if (dir == NULL)
		return -1;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "__db", 4) == 0)
			continue;
		snprintf(s, sizeof(s), "%s/%s", src, e->d_name);
		snprintf(d, sizeof(d), "%s/%s", dst, e->d_name);
		r = copy_file(s, d);
	}
	closedir(dir);
	return r;
}

int store_restore(const struct config *config, const char *dir, const char **error_r)
{
	char src[1024], dst[1024];
	if (!dir_empty_or_absent(config->store))
		return fail(error_r, "%s is not empty: restore needs an empty store directory",
			    config->store);
	snprintf(src, sizeof(src), "%s/env/DB_CONFIG", dir);
	if (access(src, R_OK) < 0)
		return fail(error_r, "%s is not a Pillarbox backup (no %s)", dir, src);
	umask(007);
	const char *subdirs[] = { "", "/env", "/blobs", "/blobs/tmp", "/notify" };
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(dst, sizeof(dst), "%s%s", config->store, subdirs[i]);
		if ((mkdir(dst, 02770) < 0 && errno != EEXIST) || chmod(dst, 02770) < 0)
			return fail(error_r, "%s: %s", dst, strerror(errno));
	}
	snprintf(src, sizeof(src), "%s/env", dir);
	snprintf(dst, sizeof(dst), "%s/env", config->store);
	if (copy_dir_files(src, dst) < 0)
		return fail(error_r, "copying %s: %s", src, strerror(errno));
	snprintf(src, sizeof(src), "%s/blobs", dir);
	snprintf(dst, sizeof(dst), "%s/blobs", config->store);
	if (copy_blobs(src, dst, NULL) < 0)
		return fail(error_r, "copying %s: %s", src, strerror(errno));
	snprintf(dst, sizeof(dst), "%s/env", config->store);
	return recover_fatal(dst, error_r);
}

/* ---- check ---- */

/* What the account pass keeps of each record, to compare the databases
 * with one walk over each (lookups go through these sorted arrays). */
struct check_domain {
	char name[STORE_DOMAIN_MAX + 1];
	struct domain_rec rec;
	uint32_t users, aliases;        /* counted */
};
struct check_user {
	uint32_t id;
	bool usage;                     /* has a quota.db record */
	uint32_t messages;              /* what the mailbox state records hold */
	uint64_t bytes;
};
struct check_mbox {                     /* a mailbox not marked gone */
	uint32_t id, user_id, exists;
	uint64_t bytes;
	bool named, info;               /* in mailboxes.db, in mailbox_info.db */
};

struct check {
	struct store *store;
	FILE *out;
	int problems;
	uint8_t (*refs)[STORE_BODY_ID_LEN];   /* one entry per reference */
	size_t nrefs, caprefs;
	struct check_mbox *mboxes;            /* by id (mboxstate.db's order) */
	size_t nmboxes, capmboxes;
	struct check_user *users;             /* by id (accounts.db's order) */
	size_t nusers, capusers;
	struct check_domain *domains;         /* by name */
	size_t ndomains, capdomains;
};

static void problem(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct check *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	c->problems++;
}

static int ref_add(struct check *c, const uint8_t *id)
{
	if (c->nrefs == c->caprefs) {
		size_t cap = c->caprefs ? c->caprefs * 2 : 1024;
		void *p = reallocarray(c->refs, cap, STORE_BODY_ID_LEN);
		if (p == NULL)
			return -1;
		c->refs = p;
		c->caprefs = cap;
	}
	memcpy(c->refs[c->nrefs++], id, STORE_BODY_ID_LEN);
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, STORE_BODY_ID_LEN);
}

/* The array `items` (n used of *cap) with room for one more, or NULL (out
 * of memory; `items` is still valid). */
static void *grow(void *items, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return items;
	size_t newcap = *cap ? *cap * 2 : 1024;
	void *p = reallocarray(items, newcap, size);
	if (p != NULL)
		*cap = newcap;
	return p;
}

/* Every mailbox state against its messages and modseq index. */
static int check_mailboxes(struct check *c, DB_TXN *txn)
{
	struct store *store = c->store;
	DBC *cur;
	db_recno_t recno;
	uint8_t sbuf[MBOXSTATE_RECLEN];
	int ret = store_db(store, DBI_MBOXSTATE)->cursor(store_db(store, DBI_MBOXSTATE), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "mboxstate cursor");
	DBT k = { .data = &recno, .ulen = sizeof(recno), .flags = DB_DBT_USERMEM };
	DBT v = { .data = sbuf, .ulen = sizeof(sbuf), .flags = DB_DBT_USERMEM };
	struct msg_record *rec = malloc(sizeof(*rec));
	if (rec == NULL) {
		cur->close(cur);
		return store_err(store, "out of memory");
	}
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		uint32_t id = recno;
		struct mboxstate st;
		if (mboxstate_get(store, txn, id, &st, false) != 1)
			continue;
		struct store_mailbox mb;
		const char *err;
		(void)err;
		uint32_t exists = 0, unseen = 0, deleted = 0, maxuid = 0;
		uint64_t bytes = 0;
		DBC *mc;
		uint8_t kb[8], vb[MSG_RECORD_MAX];
		if (store_db(store, DBI_MSGS)->cursor(store_db(store, DBI_MSGS), txn, &mc, 0) != 0)
			break;
		be32_put(kb, id);
		be32_put(kb + 4, 0);
		DBT mk = { .data = kb, .size = 8, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
		DBT mv = { .data = vb, .ulen = sizeof(vb), .flags = DB_DBT_USERMEM };
		int mret = mc->get(mc, &mk, &mv, DB_SET_RANGE);
		while (mret == 0 && mk.size == 8 && be32_get(kb) == id) {
			uint32_t uid = be32_get(kb + 4);
			if (msg_record_get(store, txn, id, uid, rec, false) != 1) {
				problem(c, "mailbox %u: message %u is unreadable", id, uid);
			} else {
				exists++;
				bytes += rec->msg.size;
				if (!(rec->msg.flags & STORE_FLAG_SEEN))
					unseen++;
				if (rec->msg.flags & STORE_FLAG_DELETED)
					deleted++;
				if (uid > maxuid)
					maxuid = uid;
				if (rec->msg.modseq > st.highestmodseq)
					problem(c, "mailbox %u: message %u has modseq %llu above the mailbox's %llu",
						id, uid, (unsigned long long)rec->msg.modseq,
						(unsigned long long)st.highestmodseq);
				uint8_t ik[12], iv[4];
				size_t ilen;
				be32_put(ik, id);
				be64_put(ik + 4, rec->msg.modseq);
				if (store_get(store, DBI_MODSEQ, txn, ik, 12, iv, 4, &ilen, 0) != 1 ||
				    be32_get(iv) != uid)
					problem(c, "mailbox %u: message %u is missing from the modseq index", id, uid);
				if (ref_add(c, rec->msg.body_id) < 0) {
					mc->close(mc);
					cur->close(cur);
					free(rec);
					return store_err(store, "out of memory");
				}
			}
			mret = mc->get(mc, &mk, &mv, DB_NEXT);
		}
		mc->close(mc);
		(void)mb;
		void *more = grow(c->mboxes, c->nmboxes, &c->capmboxes, sizeof(*c->mboxes));
		if (more == NULL) {
			free(rec);
			cur->close(cur);
			return store_err(store, "out of memory");
		}
		c->mboxes = more;
		c->mboxes[c->nmboxes++] = (struct check_mbox){
			.id = id, .user_id = st.user_id, .exists = st.exists, .bytes = st.bytes };
		if (exists != st.exists || bytes != st.bytes || unseen != st.unseen || deleted != st.deleted)
			problem(c, "mailbox %u: counters say %u messages/%llu bytes/%u unseen/%u deleted, "
				"messages say %u/%llu/%u/%u", id, st.exists, (unsigned long long)st.bytes,
				st.unseen, st.deleted, exists, (unsigned long long)bytes, unseen, deleted);
		if (maxuid >= st.uidnext)
			problem(c, "mailbox %u: UID %u is not below UIDNEXT %u", id, maxuid, st.uidnext);
	}
	free(rec);
	cur->close(cur);
	if (ret != DB_NOTFOUND)
		return store_dberr(store, ret, "mboxstate cursor");
	return 0;
}

/* Queue entries reference bodies too: {u8 version, str sender, id, ...}. */
static int check_queue_refs(struct check *c, DB_TXN *txn)
{
	struct store *store = c->store;
	DBC *cur;
	int ret = store_db(store, DBI_OUTQ)->cursor(store_db(store, DBI_OUTQ), txn, &cur, 0);
	if (ret != 0)
		return store_dberr(store, ret, "outq cursor");
	DBT k = { .flags = DB_DBT_MALLOC }, v = { .flags = DB_DBT_MALLOC };
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		struct unpack u;
		char sender[STORE_ADDRESS_MAX + 1];
		unpack_init(&u, v.data, v.size);
		unpack_u8(&u);
		unpack_str(&u, sender, sizeof(sender));
		const uint8_t *id = unpack_bytes(&u, STORE_BODY_ID_LEN);
		if (id == NULL)
			problem(c, "queue entry is damaged");
		else if (ref_add(c, id) < 0)
			ret = ENOMEM;
		free(k.data);
		free(v.data);
		if (ret != 0)
			break;
	}
	cur->close(cur);
	if (ret != DB_NOTFOUND)
		return store_dberr(store, ret, "outq cursor");
	return 0;
}

/* Body records against the references counted above, and their files. */
static int check_bodies(struct check *c, DB_TXN *txn)
{
	struct store *store = c->store;
	if (c->nrefs > 0)
		qsort(c->refs, c->nrefs, STORE_BODY_ID_LEN, id_cmp);
	DBC *cur;
	uint8_t kb[STORE_BODY_ID_LEN];
	struct body_record *rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return store_err(store, "out of memory");
	int ret = store_db(store, DBI_BODIES)->cursor(store_db(store, DBI_BODIES), txn, &cur, 0);
	if (ret != 0) {
		free(rec);
		return store_dberr(store, ret, "bodies cursor");
	}
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT v = { .data = rec->raw, .ulen = sizeof(rec->raw), .flags = DB_DBT_USERMEM };
	size_t i = 0;
	char path[600], hexid[2 * STORE_BODY_ID_LEN + 1];
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		body_id_hex(kb, hexid);
		/* References to ids before this one have no record. */
		while (i < c->nrefs && memcmp(c->refs[i], kb, STORE_BODY_ID_LEN) < 0) {
			char missing[2 * STORE_BODY_ID_LEN + 1];
			body_id_hex(c->refs[i], missing);
			problem(c, "body %s is referenced but has no record", missing);
			i++;
		}
		size_t count = 0;
		while (i < c->nrefs && memcmp(c->refs[i], kb, STORE_BODY_ID_LEN) == 0) {
			count++;
			i++;
		}
		if (body_record_get(store, txn, kb, rec) != 1) {
			problem(c, "body %s: record is damaged", hexid);
			continue;
		}
		if (rec->refcount != count)
			problem(c, "body %s: reference count %u, references %zu", hexid, rec->refcount, count);
		struct stat st;
		body_path(store, kb, path, sizeof(path));
		if (rec->stored == BODY_STORED_INLINE) {
			uint8_t one;
			size_t dlen;
			DBT dk = { .data = kb, .size = STORE_BODY_ID_LEN };
			DBT dv = { .data = &one, .ulen = 1, .dlen = 0, .doff = 0,
				   .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
			(void)dlen;
			/* Read committed: bodydata.db is not multiversion, and
			 * a lock it cannot have makes the check start again. */
			int got = store_db(store, DBI_BODYDATA)->get(store_db(store, DBI_BODYDATA), txn,
								     &dk, &dv, DB_READ_COMMITTED);
			if (got == DB_NOTFOUND) {
				problem(c, "body %s: its inline bytes are missing", hexid);
			} else if (got != 0) {
				ret = got;
				break;
			}
		} else if (stat(path, &st) < 0)
			problem(c, "body %s: file %s is missing", hexid, path);
		else if ((uint64_t)st.st_size != rec->size)
			problem(c, "body %s: file has %lld bytes, record says %llu", hexid,
				(long long)st.st_size, (unsigned long long)rec->size);
	}
	for (; ret == DB_NOTFOUND && i < c->nrefs; i++) {
		body_id_hex(c->refs[i], hexid);
		problem(c, "body %s is referenced but has no record", hexid);
	}
	cur->close(cur);
	free(rec);
	if (ret != DB_NOTFOUND)
		return store_dberr(store, ret, "bodies cursor");
	return 0;
}

/* ---- the accounts: one walk over each database ---- */

typedef int walk_fn(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
		    const uint8_t *val, size_t vallen);

/* Calls fn for every record of a database, in its order (for a Queue
 * database the key is the record number, 4 bytes big-endian). */
static int walk(struct check *c, DB_TXN *txn, enum store_dbi dbi, walk_fn *fn)
{
	struct store *store = c->store;
	DB *db = store_db(store, dbi);
	DBC *cur;
	db_recno_t recno;
	uint8_t qkey[4];
	int ret = db->cursor(db, txn, &cur, 0), r = 0;
	if (ret != 0)
		return store_dberr(store, ret, store_dbspecs[dbi].file);
	bool queue = store_dbspecs[dbi].type == DB_QUEUE;
	DBT k = { .flags = DB_DBT_REALLOC }, v = { .flags = DB_DBT_REALLOC };
	if (queue)
		k = (DBT){ .data = &recno, .ulen = sizeof(recno), .flags = DB_DBT_USERMEM };
	while (r >= 0 && (ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		if (queue)
			be32_put(qkey, recno);
		r = fn(c, txn, queue ? qkey : k.data, queue ? 4 : k.size, v.data, v.size);
	}
	cur->close(cur);
	if (!queue)
		free(k.data);
	free(v.data);
	if (r < 0)
		return r;
	if (ret != DB_NOTFOUND)
		return store_dberr(store, ret, store_dbspecs[dbi].file);
	return 0;
}

/* walk() over the records of one tag of accounts.db, fn given the key
 * without its tag. */
static int walk_tag(struct check *c, DB_TXN *txn, char tag, walk_fn *fn)
{
	struct store *store = c->store;
	DB *db = store_db(store, DBI_ACCOUNTS);
	DBC *cur;
	int ret = db->cursor(db, txn, &cur, 0), r = 0;
	if (ret != 0)
		return store_dberr(store, ret, "accounts.db");
	/* DB_SET_RANGE reads where to start from the buffer BDB reallocates */
	DBT k = { .data = malloc(1), .size = 1, .flags = DB_DBT_REALLOC };
	DBT v = { .flags = DB_DBT_REALLOC };
	if (k.data == NULL) {
		cur->close(cur);
		return store_err(store, "out of memory");
	}
	*(uint8_t *)k.data = (uint8_t)tag;
	for (uint32_t op = DB_SET_RANGE;
	     r >= 0 && (ret = account_cursor_get(cur, tag, &k, &v, op)) == 0; op = DB_NEXT)
		r = fn(c, txn, (const uint8_t *)k.data + 1, k.size - 1, v.data, v.size);
	cur->close(cur);
	free(k.data);
	free(v.data);
	if (r < 0)
		return r;
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "accounts.db");
	return 0;
}

/* Every key of accounts.db has one of its tags. */
static int walk_account_tag(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
			    const uint8_t *val, size_t vallen)
{
	(void)txn;
	(void)val;
	(void)vallen;
	if (keylen == 0 || (key[0] != ACCOUNT_TAG_USER && key[0] != ACCOUNT_TAG_ADDRESS &&
			    key[0] != ACCOUNT_TAG_FAILURES))
		problem(c, "accounts.db: a key of %zu bytes with no known tag", keylen);
	return 0;
}

static int domain_cmp(const void *a, const void *b)
{
	const struct check_domain *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static struct check_domain *domain_find(struct check *c, const char *name)
{
	struct check_domain key;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return c->ndomains == 0 ? NULL
		: bsearch(&key, c->domains, c->ndomains, sizeof(key), domain_cmp);
}

static int user_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct check_user *)a)->id, y = ((const struct check_user *)b)->id;
	return x < y ? -1 : x > y;
}

static struct check_user *user_find(struct check *c, uint32_t id)
{
	struct check_user key = { .id = id };
	return c->nusers == 0 ? NULL : bsearch(&key, c->users, c->nusers, sizeof(key), user_cmp);
}

static int mbox_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct check_mbox *)a)->id, y = ((const struct check_mbox *)b)->id;
	return x < y ? -1 : x > y;
}

static struct check_mbox *mbox_find(struct check *c, uint32_t id)
{
	struct check_mbox key = { .id = id };
	return c->nmboxes == 0 ? NULL : bsearch(&key, c->mboxes, c->nmboxes, sizeof(key), mbox_cmp);
}

/* A domain keyed in U-labels by a version before IDNA: addresses name it
 * in A-labels now, so its users and aliases get no mail and cannot log in
 * until it is moved. Not moved by 'store maintain': two forms of one
 * address may both exist, and which one keeps the name is the admin's call
 * ('domain migrate' refuses, naming them); maintain runs unattended. */
static void check_domain_legacy(struct check *c, const char *name)
{
	char legacy[STORE_DOMAIN_MAX + 1], ascii[STORE_DOMAIN_MAX + 1];
	const char *why = NULL;

	if (account_domain_legacy(name, legacy) == 0)
		return;
	int r = account_domain_parse(name, ascii, &why);
	if (r == 1)
		problem(c, "domain %s is stored in U-labels (from before IDNA): its users and "
			"aliases get no mail until moved to %s: pillarbox domain migrate %s", name,
			ascii, name);
	else
		problem(c, "domain %s is stored in U-labels (from before IDNA) and cannot be moved "
			"to A-labels: %s", name, why != NULL ? why : "not a valid domain name");
}

/* A domain's DKIM keys (dkim.h): the record sorts right after its domain,
 * which must be the last one collected, and must decode (version 1 or 2);
 * an active and a pending key never share a selector. */
static int walk_domain_dkim(struct check *c, const uint8_t *key, size_t keylen, size_t namelen,
			    const uint8_t *val, size_t vallen)
{
	struct store_dkim_keys *k;
	const struct check_domain *last = c->ndomains > 0 ? &c->domains[c->ndomains - 1] : NULL;

	if (keylen != namelen + DKIM_KEY_SUFFIX_LEN ||
	    memcmp(key + namelen, DKIM_KEY_SUFFIX, DKIM_KEY_SUFFIX_LEN) != 0) {
		problem(c, "domains.db: a key of %zu bytes is neither a domain nor a DKIM key",
			keylen);
		return 0;
	}
	if (last == NULL || strlen(last->name) != namelen || memcmp(last->name, key, namelen) != 0)
		problem(c, "domains.db: a DKIM key for %.*s, which is not a local domain",
			(int)namelen, (const char *)key);
	if ((k = malloc(sizeof(*k))) == NULL)
		return store_err(c->store, "out of memory");
	if (dkim_rec_decode(val, vallen, k) != 1)
		problem(c, "domains.db: the DKIM key of %.*s is damaged or of an unknown version",
			(int)namelen, (const char *)key);
	else if (k->has_active && k->has_pending &&
		 strcmp(k->active.selector, k->pending.selector) == 0)
		problem(c, "domains.db: the active and pending DKIM keys of %.*s share the "
			"selector %s", (int)namelen, (const char *)key, k->active.selector);
	password_wipe(k, sizeof(*k));
	free(k);
	return 0;
}

static int walk_domain(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
		       const uint8_t *val, size_t vallen)
{
	const uint8_t *nul = memchr(key, '\0', keylen);

	if (nul != NULL)
		return walk_domain_dkim(c, key, keylen, (size_t)(nul - key), val, vallen);
	if (keylen > STORE_DOMAIN_MAX) {
		problem(c, "domains.db: a key of %zu bytes is not a domain", keylen);
		return 0;
	}
	void *more = grow(c->domains, c->ndomains, &c->capdomains, sizeof(*c->domains));
	if (more == NULL)
		return store_err(c->store, "out of memory");
	c->domains = more;
	struct check_domain *d = &c->domains[c->ndomains];
	memset(d, 0, sizeof(*d));
	memcpy(d->name, key, keylen);
	int r = domain_get_txn(c->store, txn, d->name, &d->rec, 0);
	if (r < 0 && r != STORE_TXN_RETRY) {
		problem(c, "domain %s: %s", d->name, store_last_error(c->store));
		return 0;
	}
	if (r == 1) {
		c->ndomains++;
		check_domain_legacy(c, d->name);
	}
	return r < 0 ? r : 0;
}

/* A stored address as its records are keyed: in U-labels for a domain from
 * before IDNA (check_domain_legacy tells), else by the address grammar. */
static int check_addr_parse(const char *text, struct account_addr *addr_r, const char **why_r)
{
	return account_addr_legacy(text, addr_r) == 1 ? 1 : account_addr_parse(text, addr_r, why_r);
}

/* A user: its address must point back to it, its domain count it. */
static int walk_user(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
		     const uint8_t *val, size_t vallen)
{
	struct user_rec rec;
	struct account_addr addr;
	uint32_t id, back;
	(void)val;
	(void)vallen;
	if (keylen != 4) {
		problem(c, "accounts.db: a user key of %zu bytes is not a user id", keylen);
		return 0;
	}
	id = be32_get(key);
	int r = user_rec_get_txn(c->store, txn, id, &rec, 0);
	password_wipe(rec.hash, sizeof(rec.hash));
	if (r == STORE_TXN_RETRY)
		return r;
	if (r != 1) {
		problem(c, "user %u: %s", id, store_last_error(c->store));
		return 0;
	}
	void *more = grow(c->users, c->nusers, &c->capusers, sizeof(*c->users));
	if (more == NULL)
		return store_err(c->store, "out of memory");
	c->users = more;
	c->users[c->nusers++] = (struct check_user){ .id = id };
	const char *why = NULL;
	int p = check_addr_parse(rec.user.address, &addr, &why);
	if (p <= 0) {
		problem(c, "user %u: address %s is not valid%s%s", id, rec.user.address,
			why != NULL ? ": " : "", why != NULL ? why : "");
		return 0;
	}
	r = user_id_by_key_txn(c->store, txn, addr.key, &back, 0);
	if (r == STORE_TXN_RETRY)
		return r;
	if (r < 0)
		problem(c, "user %u (%s): %s", id, addr.key, store_last_error(c->store));
	else if (r == 0)
		problem(c, "user %u (%s): accounts.db has no address entry for it", id, addr.key);
	else if (back != id)
		problem(c, "user %u (%s): accounts.db gives the address to user %u", id,
			addr.key, back);
	struct check_domain *d = domain_find(c, account_addr_domain(&addr));
	if (d == NULL) {
		problem(c, "user %u (%s): domain %s is not in domains.db", id, addr.key,
			account_addr_domain(&addr));
		return 0;
	}
	d->users++;
	if (d->rec.id != rec.user.domain_id)
		problem(c, "user %u (%s): domain id %u, domains.db says %u", id, addr.key,
			rec.user.domain_id, d->rec.id);
	uint32_t inbox, uidvalidity;
	if (rec.user.inbox_id == 0)
		return 0;   /* a record from before it named INBOX */
	r = mailbox_inbox_txn(c->store, txn, id, &inbox, &uidvalidity);
	if (r == STORE_TXN_RETRY)
		return r;
	if (r < 0)
		problem(c, "user %u (%s): %s", id, addr.key, store_last_error(c->store));
	else if (r == 0)
		problem(c, "user %u (%s): the record names mailbox %u as INBOX, and there is no "
			"INBOX", id, addr.key, rec.user.inbox_id);
	else if (inbox != rec.user.inbox_id || uidvalidity != rec.user.inbox_uidvalidity)
		problem(c, "user %u (%s): the record names mailbox %u (UIDVALIDITY %u) as INBOX, "
			"which is mailbox %u (UIDVALIDITY %u)", id, addr.key, rec.user.inbox_id,
			rec.user.inbox_uidvalidity, inbox, uidvalidity);
	return 0;
}

/* An address must point to a user whose address it is. */
static int walk_address(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
			const uint8_t *val, size_t vallen)
{
	char text[STORE_ADDRESS_MAX + 1];
	struct user_rec rec;
	struct account_addr addr;
	snprintf(text, sizeof(text), "%.*s", (int)keylen, (const char *)key);
	if (vallen != 4) {
		problem(c, "address %s: its accounts.db entry is damaged", text);
		return 0;
	}
	uint32_t id = be32_get(val);
	if (user_find(c, id) == NULL) {
		problem(c, "address %s points to user %u, who does not exist", text, id);
		return 0;
	}
	int r = user_rec_get_txn(c->store, txn, id, &rec, 0);
	password_wipe(rec.hash, sizeof(rec.hash));
	if (r != 1)     /* a damaged record was told by walk_user */
		return r == STORE_TXN_RETRY ? r : 0;
	if (check_addr_parse(rec.user.address, &addr, NULL) == 1 && strcmp(addr.key, text) != 0)
		problem(c, "address %s points to user %u, whose address is %s", text, id, addr.key);
	return 0;
}

static int walk_usage(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
		      const uint8_t *val, size_t vallen)
{
	uint32_t id = be32_get(key), messages;
	uint64_t bytes;
	(void)keylen;
	(void)val;
	(void)vallen;
	struct check_user *u = user_find(c, id);
	if (u == NULL) {
		problem(c, "quota.db: a usage record for user %u, who does not exist", id);
		return 0;
	}
	int r = quota_get_txn(c->store, txn, id, &bytes, &messages, 0);
	if (r == STORE_TXN_RETRY)
		return r;
	if (r != 1) {
		problem(c, "user %u: %s", id,
			r < 0 ? store_last_error(c->store) : "usage record unreadable");
		return 0;
	}
	u->usage = true;
	if (messages != u->messages || bytes != u->bytes)
		problem(c, "user %u: usage record says %u messages/%llu bytes, mailboxes hold %u/%llu",
			id, messages, (unsigned long long)bytes, u->messages,
			(unsigned long long)u->bytes);
	return 0;
}

static int walk_alias(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
		      const uint8_t *val, size_t vallen)
{
	char text[STORE_ADDRESS_MAX + 1], target[STORE_ADDRESS_MAX + 1];
	(void)txn;
	snprintf(text, sizeof(text), "%.*s", (int)keylen, (const char *)key);
	snprintf(target, sizeof(target), "%.*s", (int)vallen, (const char *)val);
	const char *at = strchr(text, '@');
	struct check_domain *d = at != NULL ? domain_find(c, at + 1) : NULL;
	if (d == NULL)
		problem(c, "alias %s: its domain is not in domains.db", text);
	else
		d->aliases++;
	/* a domain alias leads to a local domain (domain del keeps it so) */
	if (target[0] == '@' && domain_find(c, target + 1) == NULL)
		problem(c, "alias %s -> %s: that domain is not in domains.db", text, target);
	return 0;
}

/* Info records (4-byte keys; longer ones are names left subscribed, which
 * only need an owner): {u8 version, u32 user_id, ...}. */
static int walk_info(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
		     const uint8_t *val, size_t vallen)
{
	(void)txn;
	if (keylen < 4) {
		problem(c, "mailbox_info.db: a key of %zu bytes", keylen);
		return 0;
	}
	uint32_t owner = be32_get(key);
	if (keylen > 4) {
		if (user_find(c, owner) == NULL)
			problem(c, "mailbox_info.db: a subscription of user %u, who does not exist",
				owner);
		return 0;
	}
	struct check_mbox *m = mbox_find(c, owner);
	if (m == NULL) {
		problem(c, "mailbox %u has an info record but no state record", owner);
		return 0;
	}
	m->info = true;
	if (vallen < 5 || be32_get(val + 1) != m->user_id)
		problem(c, "mailbox %u: the info record does not name its owner, user %u", m->id,
			m->user_id);
	return 0;
}

static int walk_name(struct check *c, DB_TXN *txn, const uint8_t *key, size_t keylen,
		     const uint8_t *val, size_t vallen)
{
	(void)txn;
	if (keylen < 4 || vallen != 4) {
		problem(c, "mailboxes.db: a damaged entry");
		return 0;
	}
	uint32_t owner = be32_get(key), id = be32_get(val);
	int namelen = (int)(keylen - 4);
	const char *name = (const char *)key + 4;
	struct check_mbox *m = mbox_find(c, id);
	if (m == NULL)
		problem(c, "mailbox %.*s of user %u: mailbox %u has no state record", namelen, name,
			owner, id);
	else if (m->named)
		problem(c, "mailbox %u has a second name, %.*s", id, namelen, name);
	else if (m->user_id != owner)
		problem(c, "mailbox %u (%.*s): mailboxes.db says user %u, its state user %u", id,
			namelen, name, owner, m->user_id);
	if (m != NULL)
		m->named = true;
	return 0;
}

/* Users and their addresses, usage records against the mailboxes' state,
 * mailboxes against their owners and records, domains' counters. After
 * check_mailboxes (which collects the mailboxes). */
static int check_accounts(struct check *c, DB_TXN *txn)
{
	int r;
	if ((r = walk(c, txn, DBI_DOMAINS, walk_domain)) < 0)
		return r;
	if (c->ndomains > 0)
		qsort(c->domains, c->ndomains, sizeof(*c->domains), domain_cmp);
	/* the users first: an address is checked against them */
	if ((r = walk(c, txn, DBI_ACCOUNTS, walk_account_tag)) < 0 ||
	    (r = walk_tag(c, txn, ACCOUNT_TAG_USER, walk_user)) < 0 ||
	    (r = walk_tag(c, txn, ACCOUNT_TAG_ADDRESS, walk_address)) < 0)
		return r;
	for (size_t i = 0; i < c->nmboxes; i++) {
		struct check_mbox *m = &c->mboxes[i];
		struct check_user *u = user_find(c, m->user_id);
		if (u == NULL) {
			problem(c, "mailbox %u: its owner, user %u, does not exist", m->id,
				m->user_id);
			continue;
		}
		u->messages += m->exists;
		u->bytes += m->bytes;
	}
	if ((r = walk(c, txn, DBI_QUOTA, walk_usage)) < 0 ||
	    (r = walk(c, txn, DBI_ALIASES, walk_alias)) < 0 ||
	    (r = walk(c, txn, DBI_MAILBOX_INFO, walk_info)) < 0 ||
	    (r = walk(c, txn, DBI_MAILBOXES, walk_name)) < 0)
		return r;
	for (size_t i = 0; i < c->nusers; i++)
		if (!c->users[i].usage)
			problem(c, "user %u has no usage record in quota.db", c->users[i].id);
	for (size_t i = 0; i < c->nmboxes; i++) {
		if (!c->mboxes[i].named)
			problem(c, "mailbox %u of user %u is not in mailboxes.db", c->mboxes[i].id,
				c->mboxes[i].user_id);
		if (!c->mboxes[i].info)
			problem(c, "mailbox %u of user %u has no info record", c->mboxes[i].id,
				c->mboxes[i].user_id);
	}
	for (size_t i = 0; i < c->ndomains; i++) {
		struct check_domain *d = &c->domains[i];
		if (d->users != d->rec.users || d->aliases != d->rec.aliases)
			problem(c, "domain %s: counters say %u users/%u aliases, there are %u/%u",
				d->name, d->rec.users, d->rec.aliases, d->users, d->aliases);
	}
	return 0;
}

static int check_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct check *c = ctx;
	c->store = store;
	c->nrefs = c->nmboxes = c->nusers = c->ndomains = 0;
	if (check_mailboxes(c, txn) < 0 || check_accounts(c, txn) < 0 ||
	    check_queue_refs(c, txn) < 0 || check_bodies(c, txn) < 0)
		return -1;
	return 1;
}

static int verify_databases(const char *home, FILE *out, int *problems)
{
	for (int i = 0; i < DBI_COUNT; i++) {
		char path[1024];
		DB *db;
		snprintf(path, sizeof(path), "%s/%s", home, store_dbspecs[i].file);
		if (db_create(&db, NULL, 0) != 0)
			return -1;
		db->set_errfile(db, out);
		db->set_errpfx(db, store_dbspecs[i].file);
		int ret = db->verify(db, path, NULL, NULL, 0);
		if (ret != 0) {
			fprintf(out, "%s: verification failed: %s\n", path, db_strerror(ret));
			(*problems)++;
		}
	}
	return 0;
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d != NULL) {
		struct dirent *e;
		char p[1024];
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

int store_check(const struct config *config, FILE *out, const char **error_r)
{
	char copy[1024];
	struct store *store;
	struct check c = { .out = out };
	*error_r = NULL;
	snprintf(copy, sizeof(copy), "%s/check-%d", config->store, (int)getpid());
	remove_tree(copy);
	if (store_open(config, false, &store, error_r) < 0)
		return -1;
	int hold = backup_logs_hold(store, false);
	if (hold < 0) {
		fail(error_r, "%s", store_last_error(store));
		store_close(&store);
		return -1;
	}
	int ret = store->env->txn_checkpoint(store->env, 0, 0, 0);
	if (ret == 0 && mkdir(copy, 02770) < 0)
		ret = errno;
	if (ret == 0)
		ret = store->env->backup(store->env, copy, DB_CREATE);
	close(hold);
	store_close(&store);
	if (ret != 0) {
		remove_tree(copy);
		return fail(error_r, "copying the databases to %s: %s", copy, db_strerror(ret));
	}
	char src[1024], dst[1024];
	snprintf(src, sizeof(src), "%s/env/DB_CONFIG", config->store);
	snprintf(dst, sizeof(dst), "%s/DB_CONFIG", copy);
	if (copy_file(src, dst) < 0 || recover_fatal(copy, error_r) < 0) {
		remove_tree(copy);
		if (*error_r == NULL)
			return fail(error_r, "%s: %s", dst, strerror(errno));
		return -1;
	}
	int r = verify_databases(copy, out, &c.problems);
	/* Damaged pages make the cross-reference pass meaningless (and may
	 * panic the copy's environment): report what verification found. */
	if (r == 0 && c.problems == 0)
		r = store_open_home(config, copy, false, &store, error_r);
	else if (r == 0) {
		remove_tree(copy);
		return c.problems;
	}
	if (r == 0) {
		r = store_read(store, check_txn, &c, error_r) < 0 ? -1 : 0;
		store_close(&store);
	}
	free(c.refs);
	free(c.mboxes);
	free(c.users);
	free(c.domains);
	remove_tree(copy);
	return r < 0 ? -1 : c.problems;
}
