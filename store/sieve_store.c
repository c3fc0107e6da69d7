/* Each user's Sieve scripts, in the sessions database (sieve_store.h). */
#include <stdlib.h>

#include "charset.h"
#include "session.h"
#include "sieve_store.h"
#include "store_int.h"

#define SCRIPT_PREFIX "sievescr"
#define ACTIVE_PREFIX "sieveact"
#define PREFIX_LEN 8
#define REC_VERSION 1
/* prefix, user, name, and the NUL a session-id-long key gets */
#define KEY_MAX (PREFIX_LEN + 4 + STORE_SIEVE_NAME_MAX + 1)
#define REC_MAX (1 + SIEVE_SCRIPT_MAX)

static size_t script_key(uint8_t key[KEY_MAX], uint32_t user_id, const char *name)
{
	size_t n = strlen(name);
	memcpy(key, SCRIPT_PREFIX, PREFIX_LEN);
	be32_put(key + PREFIX_LEN, user_id);
	memcpy(key + PREFIX_LEN + 4, name, n);
	n += PREFIX_LEN + 4;
	if (n == STORE_SESSION_ID_LEN)   /* not to be taken for a session */
		key[n++] = '\0';
	return n;
}

static void active_key(uint8_t key[PREFIX_LEN + 4], uint32_t user_id)
{
	memcpy(key, ACTIVE_PREFIX, PREFIX_LEN);
	be32_put(key + PREFIX_LEN, user_id);
}

static bool name_valid(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= STORE_SIEVE_NAME_MAX && charset_utf8_text(name, n, false);
}

/* The active script's name into name_r ("" none): 1, or a store error. */
static int active_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id,
			  char name_r[STORE_SIEVE_NAME_MAX + 1], uint32_t flags)
{
	uint8_t key[PREFIX_LEN + 4], rec[1 + STORE_SIEVE_NAME_MAX];
	size_t len;
	name_r[0] = '\0';
	active_key(key, user_id);
	int r = store_get(store, DBI_SESSIONS, txn, key, sizeof(key), rec, sizeof(rec), &len, flags);
	if (r == 1 && len > 1 && rec[0] == REC_VERSION) {
		memcpy(name_r, rec + 1, len - 1);
		name_r[len - 1] = '\0';
	}
	return r < 0 ? r : 1;
}

/* A script's text (malloc'd, NUL-terminated) or NULL: 1, 0, or an error. */
static int script_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name,
			  char **text_r, size_t *len_r, uint32_t flags)
{
	uint8_t key[KEY_MAX];
	size_t len;
	*text_r = NULL;
	if (!name_valid(name))
		return 0;
	uint8_t *rec = malloc(REC_MAX + 1);
	if (rec == NULL)
		return store_err(store, "out of memory");
	int r = store_get(store, DBI_SESSIONS, txn, key, script_key(key, user_id, name), rec,
			  REC_MAX, &len, flags);
	if (r == 1 && (len < 1 || rec[0] != REC_VERSION))
		r = store_err(store, "sieve script \"%s\": unknown record version", name);
	if (r == 1) {
		memmove(rec, rec + 1, len - 1);
		rec[len - 1] = '\0';
		*text_r = (char *)rec;
		if (len_r != NULL)
			*len_r = len - 1;
		return 1;
	}
	free(rec);
	return r;
}

/* Calls cb with each script's name and text length, in name order. */
static int each_script(struct store *store, DB_TXN *txn, uint32_t user_id,
		       int (*cb)(const char *name, size_t len, void *ctx), void *ctx)
{
	DB *db = store_db(store, DBI_SESSIONS);
	uint8_t prefix[PREFIX_LEN + 4], kbuf[KEY_MAX];
	uint8_t *rec = malloc(REC_MAX);
	DBC *cur;
	if (rec == NULL)
		return store_err(store, "out of memory");
	memcpy(prefix, SCRIPT_PREFIX, PREFIX_LEN);
	be32_put(prefix + PREFIX_LEN, user_id);
	memcpy(kbuf, prefix, sizeof(prefix));
	DBT k = { .data = kbuf, .size = sizeof(prefix), .ulen = sizeof(kbuf),
		  .flags = DB_DBT_USERMEM };
	DBT v = { .data = rec, .ulen = REC_MAX, .flags = DB_DBT_USERMEM };
	int r = 0, ret = db->cursor(db, txn, &cur, 0);
	if (ret != 0) {
		free(rec);
		return store_dberr(store, ret, "sessions cursor");
	}
	ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	while (ret == 0 && k.size >= sizeof(prefix) && memcmp(kbuf, prefix, sizeof(prefix)) == 0) {
		char name[STORE_SIEVE_NAME_MAX + 2];
		size_t n = k.size - sizeof(prefix);
		memcpy(name, kbuf + sizeof(prefix), n);
		name[n] = '\0';   /* a key's trailing NUL ends the name too */
		if ((r = cb(name, v.size > 0 ? v.size - 1 : 0, ctx)) != 0)
			break;
		ret = cur->get(cur, &k, &v, DB_NEXT);
	}
	cur->close(cur);
	free(rec);
	if (r == 0 && ret != 0 && ret != DB_NOTFOUND)
		r = store_dberr(store, ret, "sessions cursor");
	return r;
}

/* ---------------------------------------------------------------- list */

struct list_ctx {
	uint32_t user_id;
	struct store_sieve_entry *items;
	size_t n;
	char active[STORE_SIEVE_NAME_MAX + 1];
};

static int list_cb(const char *name, size_t len, void *ctx)
{
	struct list_ctx *c = ctx;
	if (c->n == STORE_SIEVE_SCRIPTS_MAX)
		return 0;
	struct store_sieve_entry *e = &c->items[c->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->len = len;
	e->active = strcmp(name, c->active) == 0;
	return 0;
}

static int list_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct list_ctx *c = ctx;
	c->n = 0;
	int r = active_get_txn(store, txn, c->user_id, c->active, 0);
	if (r < 0)
		return r;
	r = each_script(store, txn, c->user_id, list_cb, c);
	return r < 0 ? r : 1;
}

int store_sieve_list(struct store *store, uint32_t user_id, struct store_sieve_entry **entries_r,
		     size_t *n_r, const char **error_r)
{
	struct list_ctx c = { .user_id = user_id };
	*entries_r = NULL;
	*n_r = 0;
	if ((c.items = calloc(STORE_SIEVE_SCRIPTS_MAX, sizeof(*c.items))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	int r = store_read(store, list_txn, &c, error_r);
	if (r < 0) {
		free(c.items);
		return -1;
	}
	*entries_r = c.items;
	*n_r = c.n;
	return 1;
}

/* ----------------------------------------------------------------- get */

struct get_ctx {
	uint32_t user_id;
	const char *name;     /* NULL: the active one, named into `active` */
	char active[STORE_SIEVE_NAME_MAX + 1];
	char *text;
	size_t len;
};

static int get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct get_ctx *c = ctx;
	free(c->text);
	c->text = NULL;
	const char *name = c->name;
	if (name == NULL) {
		int r = active_get_txn(store, txn, c->user_id, c->active, 0);
		if (r < 0 || c->active[0] == '\0')
			return r < 0 ? r : store_refuse(store, "no script is active");
		name = c->active;
	}
	int r = script_get_txn(store, txn, c->user_id, name, &c->text, &c->len, 0);
	return r != 0 ? r : store_refuse(store, "no script named \"%s\"", name);
}

int store_sieve_get(struct store *store, uint32_t user_id, const char *name, char **text_r,
		    size_t *len_r, const char **error_r)
{
	struct get_ctx c = { .user_id = user_id, .name = name };
	int r = store_read(store, get_txn, &c, error_r);
	if (r == 1) {
		*text_r = c.text;
		*len_r = c.len;
		return 1;
	}
	free(c.text);
	*text_r = NULL;
	return r;
}

int store_sieve_get_active(struct store *store, uint32_t user_id,
			   char name_r[STORE_SIEVE_NAME_MAX + 1], char **text_r, size_t *len_r,
			   const char **error_r)
{
	struct get_ctx c = { .user_id = user_id };
	int r = store_read(store, get_txn, &c, error_r);
	if (r == 1) {
		memcpy(name_r, c.active, sizeof(c.active));
		*text_r = c.text;
		*len_r = c.len;
		return 1;
	}
	free(c.text);
	*text_r = NULL;
	return r;
}

/* --------------------------------------------------------------- write */

static int count_cb(const char *name, size_t len, void *ctx)
{
	(void)name; (void)len;
	(*(size_t *)ctx)++;
	return 0;
}

static int script_put_txn(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name,
			  const char *text, size_t len)
{
	uint8_t key[KEY_MAX];
	uint8_t *rec = malloc(1 + len);
	if (rec == NULL)
		return store_err(store, "out of memory");
	rec[0] = REC_VERSION;
	memcpy(rec + 1, text, len);
	int r = store_put(store, DBI_SESSIONS, txn, key, script_key(key, user_id, name), rec,
			  1 + len, 0);
	free(rec);
	return r;
}

struct put_ctx {
	uint32_t user_id;
	const char *name;
	const char *text;
	size_t len;
	/* store_sieve_put_if: what the caller read, and whether it changed */
	const struct store_sieve_seen *seen;
	bool activate, changed;
};

/* Whether what `seen` describes is still so (read for update: no other
 * writer comes between the comparison and the write). 1, 0, or an error. */
static int seen_still_txn(struct store *store, DB_TXN *txn, uint32_t user_id,
			  const struct store_sieve_seen *seen)
{
	char active[STORE_SIEVE_NAME_MAX + 1], *text;
	size_t len = 0;
	int r = active_get_txn(store, txn, user_id, active, DB_RMW);
	if (r < 0 || strcmp(active, seen->active) != 0)
		return r < 0 ? r : 0;
	r = script_get_txn(store, txn, user_id, seen->name, &text, &len, DB_RMW);
	bool same = r >= 0 && (r == 1) == (seen->text != NULL) &&
		(r == 0 || (len == seen->len && memcmp(text, seen->text, len) == 0));
	free(text);
	return r < 0 ? r : same;
}

static int put_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct put_ctx *c = ctx;
	char *old;
	int r;
	if (c->seen != NULL) {
		if ((r = seen_still_txn(store, txn, c->user_id, c->seen)) < 0)
			return r;
		if ((c->changed = r == 0))
			return store_refuse(store, "the scripts were changed meanwhile");
	}
	r = script_get_txn(store, txn, c->user_id, c->name, &old, NULL, DB_RMW);
	free(old);
	if (r < 0)
		return r;
	if (r == 0) {
		size_t n = 0;
		if ((r = each_script(store, txn, c->user_id, count_cb, &n)) < 0)
			return r;
		if (n >= STORE_SIEVE_SCRIPTS_MAX)
			return store_refuse(store, "too many scripts (at most %d): delete one first",
					    STORE_SIEVE_SCRIPTS_MAX);
	}
	r = script_put_txn(store, txn, c->user_id, c->name, c->text, c->len);
	if (r >= 0 && c->activate) {
		uint8_t key[PREFIX_LEN + 4], rec[1 + STORE_SIEVE_NAME_MAX];
		size_t n = strlen(c->name);
		active_key(key, c->user_id);
		rec[0] = REC_VERSION;
		memcpy(rec + 1, c->name, n);
		r = store_put(store, DBI_SESSIONS, txn, key, sizeof(key), rec, 1 + n, 0);
	}
	return r < 0 ? r : 1;
}

static int refuse(struct store *store, const char **error_r, const char *msg)
{
	store_err(store, "%s", msg);
	*error_r = store_last_error(store);
	return 0;
}

#define NAME_RULE "a script's name is 1 to 128 octets of text (no control characters)"

int store_sieve_put(struct store *store, uint32_t user_id, const char *name, const char *text,
		    size_t len, const char **error_r)
{
	if (!name_valid(name))
		return refuse(store, error_r, NAME_RULE);
	if (len > SIEVE_SCRIPT_MAX)
		return refuse(store, error_r, "the script is longer than 64 KB");
	struct put_ctx c = { .user_id = user_id, .name = name, .text = text, .len = len };
	return store_write(store, true, put_txn, &c, error_r);
}

int store_sieve_put_if(struct store *store, uint32_t user_id, const char *name, const char *text,
		       size_t len, const struct store_sieve_seen *seen, bool activate,
		       const char **error_r)
{
	if (!name_valid(name))
		return refuse(store, error_r, NAME_RULE);
	if (len > SIEVE_SCRIPT_MAX)
		return refuse(store, error_r, "the script is longer than 64 KB");
	struct put_ctx c = { .user_id = user_id, .name = name, .text = text, .len = len,
			     .seen = seen, .activate = activate };
	int r = store_write(store, true, put_txn, &c, error_r);
	return r == 0 && c.changed ? 2 : r;
}

struct name_ctx {
	uint32_t user_id;
	const char *name, *new_name;
};

static int activate_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct name_ctx *c = ctx;
	uint8_t key[PREFIX_LEN + 4], rec[1 + STORE_SIEVE_NAME_MAX];
	active_key(key, c->user_id);
	if (c->name == NULL) {
		int r = store_del(store, DBI_SESSIONS, txn, key, sizeof(key));
		return r < 0 ? r : 1;
	}
	char *text;
	int r = script_get_txn(store, txn, c->user_id, c->name, &text, NULL, DB_RMW);
	free(text);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no script named \"%s\"", c->name);
	size_t n = strlen(c->name);
	rec[0] = REC_VERSION;
	memcpy(rec + 1, c->name, n);
	r = store_put(store, DBI_SESSIONS, txn, key, sizeof(key), rec, 1 + n, 0);
	return r < 0 ? r : 1;
}

int store_sieve_activate(struct store *store, uint32_t user_id, const char *name,
			 const char **error_r)
{
	struct name_ctx c = { user_id, name, NULL };
	return store_write(store, true, activate_txn, &c, error_r);
}

static int delete_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct name_ctx *c = ctx;
	char active[STORE_SIEVE_NAME_MAX + 1];
	uint8_t key[KEY_MAX];
	if (!name_valid(c->name))
		return store_refuse(store, "no script named \"%s\"", c->name);
	int r = active_get_txn(store, txn, c->user_id, active, DB_RMW);
	if (r < 0)
		return r;
	if (strcmp(active, c->name) == 0)
		return store_refuse(store, "\"%s\" is the active script: deactivate it first",
				    c->name);
	r = store_del(store, DBI_SESSIONS, txn, key, script_key(key, c->user_id, c->name));
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no script named \"%s\"", c->name);
	return 1;
}

int store_sieve_delete(struct store *store, uint32_t user_id, const char *name,
		       const char **error_r)
{
	struct name_ctx c = { user_id, name, NULL };
	return store_write(store, true, delete_txn, &c, error_r);
}

static int rename_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct name_ctx *c = ctx;
	char active[STORE_SIEVE_NAME_MAX + 1], *text, *other;
	uint8_t key[KEY_MAX];
	size_t len;
	int r = script_get_txn(store, txn, c->user_id, c->name, &text, &len, DB_RMW);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "no script named \"%s\"", c->name);
	if ((r = script_get_txn(store, txn, c->user_id, c->new_name, &other, NULL, DB_RMW)) != 0) {
		free(text);
		free(other);
		return r < 0 ? r : store_refuse(store, "a script named \"%s\" exists",
						 c->new_name);
	}
	r = script_put_txn(store, txn, c->user_id, c->new_name, text, len);
	free(text);
	if (r >= 0)
		r = store_del(store, DBI_SESSIONS, txn, key, script_key(key, c->user_id, c->name));
	if (r >= 0)
		r = active_get_txn(store, txn, c->user_id, active, DB_RMW);
	if (r >= 0 && strcmp(active, c->name) == 0) {
		struct name_ctx a = { c->user_id, c->new_name, NULL };
		r = activate_txn(store, txn, &a);
	}
	return r < 0 ? r : 1;
}

int store_sieve_rename(struct store *store, uint32_t user_id, const char *old_name,
		       const char *new_name, const char **error_r)
{
	if (!name_valid(new_name))
		return refuse(store, error_r, NAME_RULE);
	struct name_ctx c = { user_id, old_name, new_name };
	return store_write(store, true, rename_txn, &c, error_r);
}

int sieve_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	uint8_t prefix[PREFIX_LEN + 4];
	active_key(prefix, user_id);
	int r = store_del(store, DBI_SESSIONS, txn, prefix, sizeof(prefix));
	if (r < 0)
		return r;
	memcpy(prefix, SCRIPT_PREFIX, PREFIX_LEN);
	return sessions_del_prefix_txn(store, txn, prefix, sizeof(prefix), NULL);
}
