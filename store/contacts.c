/* The address book in DBI_SESSIONS (contacts.h). */
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "account_int.h"
#include "charset.h"
#include "contacts.h"
#include "store_int.h"

#define CONTACT_REC_VERSION 1
#define META_REC_VERSION 1
#define PREFIX_LEN 6                       /* "book.c", "book.a", "book.m" */
#define CONTACT_KEY_LEN (PREFIX_LEN + 8)
#define META_KEY_LEN (PREFIX_LEN + 4)
#define META_REC_LEN (1 + 4 + 4)
/* an address key, plus the NUL that keeps it off 32 bytes */
#define ADDR_KEY_MAX (PREFIX_LEN + 4 + STORE_ADDRESS_MAX + 1)
/* The session expiry looks at keys of this length only. */
#define SESSION_KEY_LEN 32
#define CONTACT_REC_MAX (1 + 1 + 8 + 8 + 2 + STORE_CONTACT_NAME_MAX + 2 + STORE_CONTACT_NOTE_MAX + \
			 1 + STORE_CONTACT_ADDRS_MAX * (2 + STORE_ADDRESS_MAX))

/* ---------------------------------------------------------------- keys */

static void contact_key(uint8_t key[CONTACT_KEY_LEN], uint32_t user_id, uint32_t id)
{
	memcpy(key, "book.c", PREFIX_LEN);
	be32_put(key + PREFIX_LEN, user_id);
	be32_put(key + PREFIX_LEN + 4, id);
}

static void meta_key(uint8_t key[META_KEY_LEN], uint32_t user_id)
{
	memcpy(key, "book.m", PREFIX_LEN);
	be32_put(key + PREFIX_LEN, user_id);
}

/* `lower` is the lowercased address. Returns the key length. */
static size_t addr_key(uint8_t key[ADDR_KEY_MAX], uint32_t user_id, const char *lower)
{
	size_t len = strlen(lower);
	memcpy(key, "book.a", PREFIX_LEN);
	be32_put(key + PREFIX_LEN, user_id);
	memcpy(key + PREFIX_LEN + 4, lower, len);
	size_t n = PREFIX_LEN + 4 + len;
	if (n == SESSION_KEY_LEN)
		key[n++] = '\0';
	return n;
}

static void lower_ascii(char *dst, const char *src)
{
	for (; *src != '\0'; src++)
		*dst++ = *src >= 'A' && *src <= 'Z' ? (char)(*src + 32) : *src;
	*dst = '\0';
}

/* The index form of an address: its account key (the domain in A-labels,
 * so both forms of an internationalized domain find one contact), else the
 * address lowercased. */
static void addr_index_form(char lower[STORE_ADDRESS_MAX + 1], const char *address)
{
	struct account_addr a;

	if (account_addr_parse(address, &a, NULL) == 1)
		memcpy(lower, a.key, strlen(a.key) + 1);
	else
		lower_ascii(lower, address);
}

/* An address as a contact keeps it: as written, the domain's ASCII letters
 * lowercased (a U-label stays one, for people to read). */
static void addr_shown_form(char *address)
{
	char *at = strrchr(address, '@');

	if (at != NULL)
		lower_ascii(at, at);
}

/* ---------------------------------------------------------------- records */

static size_t contact_pack(const struct store_contact *c, uint8_t *buf)
{
	struct pack p;
	pack_init(&p, buf, CONTACT_REC_MAX);
	pack_u8(&p, CONTACT_REC_VERSION);
	pack_u8(&p, (uint8_t)c->flags);
	pack_u64(&p, (uint64_t)c->created);
	pack_u64(&p, (uint64_t)c->updated);
	pack_str(&p, c->name);
	pack_str(&p, c->note);
	pack_u8(&p, (uint8_t)c->naddrs);
	for (uint32_t i = 0; i < c->naddrs; i++)
		pack_str(&p, c->addrs[i]);
	return p.overflow ? 0 : p.len;
}

static bool contact_unpack(const uint8_t *buf, size_t len, uint32_t id, struct store_contact *c)
{
	struct unpack u;
	unpack_init(&u, buf, len);
	if (unpack_u8(&u) != CONTACT_REC_VERSION)
		return false;
	c->id = id;
	c->flags = unpack_u8(&u);
	c->created = (int64_t)unpack_u64(&u);
	c->updated = (int64_t)unpack_u64(&u);
	unpack_str(&u, c->name, sizeof(c->name));
	unpack_str(&u, c->note, sizeof(c->note));
	c->naddrs = unpack_u8(&u);
	if (c->naddrs == 0 || c->naddrs > STORE_CONTACT_ADDRS_MAX)
		return false;
	for (uint32_t i = 0; i < c->naddrs; i++)
		unpack_str(&u, c->addrs[i], sizeof(c->addrs[i]));
	return !u.error;
}

struct meta {
	uint32_t count, next_id;
};

static int meta_get(struct store *store, DB_TXN *txn, uint32_t user_id, struct meta *m,
		    uint32_t flags)
{
	uint8_t key[META_KEY_LEN], rec[META_REC_LEN + 16];
	size_t len;
	meta_key(key, user_id);
	int r = store_get(store, DBI_SESSIONS, txn, key, sizeof(key), rec, sizeof(rec), &len, flags);
	*m = (struct meta){ .count = 0, .next_id = 1 };
	if (r <= 0)
		return r;
	struct unpack u;
	unpack_init(&u, rec, len);
	if (unpack_u8(&u) != META_REC_VERSION)
		return store_err(store, "address book of user %u: unknown record version", user_id);
	m->count = unpack_u32(&u);
	m->next_id = unpack_u32(&u);
	if (u.error || m->next_id == 0)
		return store_err(store, "address book of user %u: damaged record", user_id);
	return 1;
}

static int meta_put(struct store *store, DB_TXN *txn, uint32_t user_id, const struct meta *m)
{
	uint8_t key[META_KEY_LEN], rec[META_REC_LEN];
	struct pack p;
	meta_key(key, user_id);
	pack_init(&p, rec, sizeof(rec));
	pack_u8(&p, META_REC_VERSION);
	pack_u32(&p, m->count);
	pack_u32(&p, m->next_id);
	return store_put(store, DBI_SESSIONS, txn, key, sizeof(key), rec, p.len, 0);
}

static int contact_read(struct store *store, DB_TXN *txn, uint32_t user_id, uint32_t id,
			struct store_contact *c, uint32_t flags)
{
	uint8_t key[CONTACT_KEY_LEN];
	uint8_t *rec = malloc(CONTACT_REC_MAX);
	size_t len;
	if (rec == NULL)
		return store_err(store, "out of memory");
	contact_key(key, user_id, id);
	int r = store_get(store, DBI_SESSIONS, txn, key, sizeof(key), rec, CONTACT_REC_MAX, &len,
			  flags);
	if (r == 1 && !contact_unpack(rec, len, id, c))
		r = store_err(store, "address book of user %u: contact %u is damaged", user_id, id);
	free(rec);
	return r;
}

static int contact_write(struct store *store, DB_TXN *txn, uint32_t user_id,
			 const struct store_contact *c)
{
	uint8_t key[CONTACT_KEY_LEN];
	uint8_t *rec = malloc(CONTACT_REC_MAX);
	if (rec == NULL)
		return store_err(store, "out of memory");
	contact_key(key, user_id, c->id);
	size_t len = contact_pack(c, rec);
	int r = len == 0 ? store_err(store, "contact record too large")
			 : store_put(store, DBI_SESSIONS, txn, key, sizeof(key), rec, len, 0);
	free(rec);
	return r;
}

/* The id of the contact holding `address` (any case): 1, 0 none, <0. */
static int addr_lookup(struct store *store, DB_TXN *txn, uint32_t user_id, const char *address,
		       uint32_t *id_r, uint32_t flags)
{
	char lower[STORE_ADDRESS_MAX + 1];
	uint8_t key[ADDR_KEY_MAX], val[8];
	size_t len;
	if (strlen(address) > STORE_ADDRESS_MAX)
		return 0;
	addr_index_form(lower, address);
	int r = store_get(store, DBI_SESSIONS, txn, key, addr_key(key, user_id, lower), val,
			  sizeof(val), &len, flags);
	if (r == 1) {
		if (len != 4)
			return store_err(store, "address book of user %u: damaged index", user_id);
		*id_r = be32_get(val);
	}
	return r;
}

static int addr_put(struct store *store, DB_TXN *txn, uint32_t user_id, const char *address,
		    uint32_t id)
{
	char lower[STORE_ADDRESS_MAX + 1];
	uint8_t key[ADDR_KEY_MAX], val[4];
	addr_index_form(lower, address);
	be32_put(val, id);
	return store_put(store, DBI_SESSIONS, txn, key, addr_key(key, user_id, lower), val, 4, 0);
}

static int addr_del(struct store *store, DB_TXN *txn, uint32_t user_id, const char *address)
{
	char lower[STORE_ADDRESS_MAX + 1];
	uint8_t key[ADDR_KEY_MAX];
	addr_index_form(lower, address);
	return store_del(store, DBI_SESSIONS, txn, key, addr_key(key, user_id, lower));
}

static bool has_addr(const struct store_contact *c, const char *address)
{
	for (uint32_t i = 0; i < c->naddrs; i++) {
		if (strcasecmp(c->addrs[i], address) == 0)
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- checks */

static bool text_ok(const char *s, bool multiline)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) || *p == 0x7f)
			return false;
	}
	return charset_utf8_valid(s, strlen(s));
}

/* Trims spaces (and, in a note, blank lines) at both ends, in place. */
static void trim(char *s)
{
	size_t len = strlen(s), start = 0;
	while (start < len && (s[start] == ' ' || s[start] == '\t' || s[start] == '\n' ||
			       s[start] == '\r'))
		start++;
	while (len > start && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
			       s[len - 1] == '\r'))
		len--;
	memmove(s, s + start, len - start);
	s[len - start] = '\0';
}

/* CRLF and lone CR become LF. */
static void newlines_lf(char *s)
{
	char *d = s;
	for (; *s != '\0'; s++) {
		if (*s == '\r') {
			*d++ = '\n';
			if (s[1] == '\n')
				s++;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* `lenient` (imports): invalid addresses are left out instead of refused. */
static int normalize(struct store_contact *c, bool lenient, const char **error_r)
{
	c->name[STORE_CONTACT_NAME_MAX] = '\0';
	c->note[STORE_CONTACT_NOTE_MAX] = '\0';
	trim(c->name);
	newlines_lf(c->note);
	trim(c->note);
	if (!text_ok(c->name, false)) {
		*error_r = "The name holds control characters or is not valid UTF-8.";
		return 0;
	}
	if (!text_ok(c->note, true)) {
		*error_r = "The note holds control characters or is not valid UTF-8.";
		return 0;
	}
	if (c->naddrs > STORE_CONTACT_ADDRS_MAX) {
		*error_r = "A contact has at most 20 addresses.";
		return 0;
	}
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->naddrs; i++) {
		struct account_addr a;
		char *addr = c->addrs[i];
		addr[STORE_ADDRESS_MAX] = '\0';
		trim(addr);
		if (*addr == '\0')
			continue;
		if (account_addr_parse(addr, &a, NULL) != 1) {
			if (lenient)
				continue;
			*error_r = "An address is not valid: it must look like name@example.com "
				   "(at most 254 characters).";
			return 0;
		}
		addr_shown_form(addr);
		bool dup = false;
		for (uint32_t k = 0; k < n; k++)
			dup |= strcasecmp(c->addrs[k], addr) == 0;
		if (!dup) {
			if (n != i)
				memcpy(c->addrs[n], addr, strlen(addr) + 1);
			n++;
		}
	}
	c->naddrs = n;
	if (n == 0) {
		*error_r = lenient ? "It has no valid email address."
				   : "A contact needs at least one email address.";
		return 0;
	}
	c->flags &= STORE_CONTACT_COLLECTED;
	return 1;
}

int store_contact_normalize(struct store_contact *c, const char **error_r)
{
	return normalize(c, false, error_r);
}

/* ---------------------------------------------------------------- add */

static int refuse_taken(struct store *store, DB_TXN *txn, uint32_t user_id, const char *address,
			uint32_t owner, struct store_contact *tmp)
{
	int r = contact_read(store, txn, user_id, owner, tmp, 0);
	if (r < 0)
		return r;
	if (r == 1 && tmp->name[0] != '\0')
		return store_refuse(store, "%s is already in the address book (%s).", address,
				    tmp->name);
	return store_refuse(store, "%s is already in the address book.", address);
}

struct add_ctx {
	uint32_t user_id;
	const struct store_contact *in;
	struct store_contact *tmp;
	uint32_t id;
};

static int add_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct add_ctx *c = ctx;
	struct meta m;
	int r = meta_get(store, txn, c->user_id, &m, DB_RMW);
	if (r < 0)
		return r;
	if (m.count >= STORE_CONTACTS_MAX)
		return store_refuse(store, "The address book is full (%d contacts): delete some first.",
				    STORE_CONTACTS_MAX);
	for (uint32_t i = 0; i < c->in->naddrs; i++) {
		uint32_t owner;
		r = addr_lookup(store, txn, c->user_id, c->in->addrs[i], &owner, DB_RMW);
		if (r < 0)
			return r;
		if (r == 1)
			return refuse_taken(store, txn, c->user_id, c->in->addrs[i], owner, c->tmp);
	}
	*c->tmp = *c->in;
	c->tmp->id = m.next_id;
	c->tmp->created = c->tmp->updated = (int64_t)time(NULL);
	if ((r = contact_write(store, txn, c->user_id, c->tmp)) < 0)
		return r;
	for (uint32_t i = 0; i < c->in->naddrs; i++) {
		if ((r = addr_put(store, txn, c->user_id, c->in->addrs[i], c->tmp->id)) < 0)
			return r;
	}
	c->id = m.next_id;
	m.count++;
	m.next_id++;
	if ((r = meta_put(store, txn, c->user_id, &m)) < 0)
		return r;
	return 1;
}

/* A normalised copy of `in` in malloc'd memory, or NULL (*error_r set and
 * *result_r 0 for a refusal, -1 for out of memory). */
static struct store_contact *normalized_copy(struct store *store, const struct store_contact *in,
					     int *result_r, const char **error_r)
{
	struct store_contact *c = malloc(2 * sizeof(*c));
	if (c == NULL) {
		store_err(store, "out of memory");
		*error_r = store_last_error(store);
		*result_r = -1;
		return NULL;
	}
	*c = *in;
	if (store_contact_normalize(c, error_r) == 0) {
		free(c);
		*result_r = 0;
		return NULL;
	}
	return c;
}

int store_contact_add(struct store *store, uint32_t user_id, const struct store_contact *contact,
		      uint32_t *id_r, const char **error_r)
{
	int r;
	struct store_contact *c = normalized_copy(store, contact, &r, error_r);
	if (c == NULL)
		return r;
	struct add_ctx a = { .user_id = user_id, .in = c, .tmp = c + 1 };
	r = store_write(store, true, add_txn, &a, error_r);
	free(c);
	if (r == 1 && id_r != NULL)
		*id_r = a.id;
	return r;
}

/* ---------------------------------------------------------------- update */

struct update_ctx {
	uint32_t user_id;
	const struct store_contact *in;
	struct store_contact *old;
};

static int update_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct update_ctx *c = ctx;
	const struct store_contact *in = c->in;
	int r = contact_read(store, txn, c->user_id, in->id, c->old, DB_RMW);
	if (r <= 0)
		return r < 0 ? r : store_refuse(store, "There is no such contact.");
	for (uint32_t i = 0; i < in->naddrs; i++) {
		uint32_t owner;
		r = addr_lookup(store, txn, c->user_id, in->addrs[i], &owner, DB_RMW);
		if (r < 0)
			return r;
		if (r == 1 && owner != in->id) {
			struct store_contact *tmp = c->old;
			return refuse_taken(store, txn, c->user_id, in->addrs[i], owner, tmp);
		}
	}
	/* the index: addresses gone, then addresses new or with a new case */
	for (uint32_t i = 0; i < c->old->naddrs; i++) {
		if (!has_addr(in, c->old->addrs[i]) &&
		    (r = addr_del(store, txn, c->user_id, c->old->addrs[i])) < 0)
			return r;
	}
	for (uint32_t i = 0; i < in->naddrs; i++) {
		if ((r = addr_put(store, txn, c->user_id, in->addrs[i], in->id)) < 0)
			return r;
	}
	int64_t created = c->old->created;
	*c->old = *in;
	c->old->created = created;
	c->old->updated = (int64_t)time(NULL);
	if ((r = contact_write(store, txn, c->user_id, c->old)) < 0)
		return r;
	return 1;
}

int store_contact_update(struct store *store, uint32_t user_id, const struct store_contact *contact,
			 const char **error_r)
{
	int r;
	struct store_contact *c = normalized_copy(store, contact, &r, error_r);
	if (c == NULL)
		return r;
	struct update_ctx u = { .user_id = user_id, .in = c, .old = c + 1 };
	r = store_write(store, true, update_txn, &u, error_r);
	free(c);
	return r;
}

/* ---------------------------------------------------------------- delete */

struct delete_ctx {
	uint32_t user_id, id;
	struct store_contact *old;
};

static int delete_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct delete_ctx *c = ctx;
	struct meta m;
	uint8_t key[CONTACT_KEY_LEN];
	int r = contact_read(store, txn, c->user_id, c->id, c->old, DB_RMW);
	if (r <= 0)
		return r;
	for (uint32_t i = 0; i < c->old->naddrs; i++) {
		if ((r = addr_del(store, txn, c->user_id, c->old->addrs[i])) < 0)
			return r;
	}
	contact_key(key, c->user_id, c->id);
	if ((r = store_del(store, DBI_SESSIONS, txn, key, sizeof(key))) < 0)
		return r;
	if ((r = meta_get(store, txn, c->user_id, &m, DB_RMW)) < 0)
		return r;
	if (m.count > 0)
		m.count--;
	if ((r = meta_put(store, txn, c->user_id, &m)) < 0)
		return r;
	return 1;
}

int store_contact_delete(struct store *store, uint32_t user_id, uint32_t id, const char **error_r)
{
	struct delete_ctx d = { .user_id = user_id, .id = id, .old = malloc(sizeof(*d.old)) };
	if (d.old == NULL) {
		store_err(store, "out of memory");
		*error_r = store_last_error(store);
		return -1;
	}
	int r = store_write(store, true, delete_txn, &d, error_r);
	free(d.old);
	return r;
}

/* Calls fn for each record whose key starts with `prefix` (PREFIX_LEN
 * bytes) + the user id, in key order; with the value when `values`. The
 * keys around the range are other records of the database (sessions,
 * settings), of any size: the buffers grow as needed. fn returns 0 to go
 * on, anything else stops the walk and is returned. */
typedef int range_fn(struct store *store, DBC *cur, const uint8_t *key, size_t keylen,
		     const uint8_t *val, size_t vallen, void *ctx);

static int range_walk(struct store *store, DB_TXN *txn, const char *prefix, uint32_t user_id,
		      bool values, uint32_t flags, range_fn *fn, void *ctx)
{
	DB *db = store_db(store, DBI_SESSIONS);
	DBC *cur;
	uint8_t start[PREFIX_LEN + 4];
	memcpy(start, prefix, PREFIX_LEN);
	be32_put(start + PREFIX_LEN, user_id);
	DBT k = { .data = malloc(sizeof(start)), .size = sizeof(start), .flags = DB_DBT_REALLOC };
	DBT v = { .flags = DB_DBT_REALLOC | (values ? 0 : DB_DBT_PARTIAL) };
	if (k.data == NULL)
		return store_err(store, "out of memory");
	memcpy(k.data, start, sizeof(start));
	int ret = db->cursor(db, txn, &cur, 0);
	if (ret != 0) {
		free(k.data);
		return store_dberr(store, ret, "address book cursor");
	}
	int r = 0;
	ret = cur->get(cur, &k, &v, DB_SET_RANGE | flags);
	while (ret == 0) {
		if (k.size < sizeof(start) || memcmp(k.data, start, sizeof(start)) != 0)
			break;
		if ((r = fn(store, cur, k.data, k.size, v.data, v.size, ctx)) != 0)
			break;
		ret = cur->get(cur, &k, &v, DB_NEXT | flags);
	}
	cur->close(cur);
	free(k.data);
	free(v.data);
	if (r == 0 && ret != 0 && ret != DB_NOTFOUND)
		r = store_dberr(store, ret, "address book cursor");
	return r;
}

/* Deletes every key that starts with prefix + user id. */
static int delete_prefix(struct store *store, DB_TXN *txn, const char *prefix, uint32_t user_id,
			 int *count)
{
	uint8_t start[PREFIX_LEN + 4];
	memcpy(start, prefix, PREFIX_LEN);
	be32_put(start + PREFIX_LEN, user_id);
	return sessions_del_prefix_txn(store, txn, start, sizeof(start), count);
}

struct delete_all_ctx {
	uint32_t user_id;
	int count;
};

/* The contacts, their address index and the user's counter record. */
static int delete_user(struct store *store, DB_TXN *txn, uint32_t user_id, int *count)
{
	int r;
	if ((r = delete_prefix(store, txn, "book.c", user_id, count)) < 0 ||
	    (r = delete_prefix(store, txn, "book.a", user_id, NULL)) < 0 ||
	    (r = delete_prefix(store, txn, "book.m", user_id, NULL)) < 0)
		return r;
	return 1;
}

int contacts_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	return delete_user(store, txn, user_id, NULL);
}

static int delete_all_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct delete_all_ctx *c = ctx;
	c->count = 0;
	return delete_user(store, txn, c->user_id, &c->count);
}

int store_contacts_delete_all(struct store *store, uint32_t user_id, const char **error_r)
{
	struct delete_all_ctx d = { .user_id = user_id };
	if (store_write(store, true, delete_all_txn, &d, error_r) < 0)
		return -1;
	return d.count;
}

/* ---------------------------------------------------------------- reads */

struct get_ctx {
	uint32_t user_id, id;
	const char *address;
	struct store_contact *c;
	bool found;
};

static int get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct get_ctx *g = ctx;
	int r;
	g->found = false;
	if (g->address != NULL) {
		if ((r = addr_lookup(store, txn, g->user_id, g->address, &g->id, 0)) <= 0)
			return r < 0 ? r : 1;
		if (g->c == NULL) {
			g->found = true;
			return 1;
		}
	}
	if ((r = contact_read(store, txn, g->user_id, g->id, g->c, 0)) < 0)
		return r;
	g->found = r == 1;
	return 1;
}

int store_contact_get(struct store *store, uint32_t user_id, uint32_t id,
		      struct store_contact *contact_r, const char **error_r)
{
	struct get_ctx g = { .user_id = user_id, .id = id, .c = contact_r };
	if (store_read(store, get_txn, &g, error_r) < 0)
		return -1;
	return g.found ? 1 : 0;
}

int store_contact_find(struct store *store, uint32_t user_id, const char *address,
		       struct store_contact *contact_r, const char **error_r)
{
	struct get_ctx g = { .user_id = user_id, .address = address, .c = contact_r };
	if (address == NULL || *address == '\0')
		return 0;
	if (store_read(store, get_txn, &g, error_r) < 0)
		return -1;
	return g.found ? 1 : 0;
}

struct list_ctx {
	uint32_t user_id;
	int (*cb)(const struct store_contact *contact, void *ctx);
	void *cb_ctx;
	struct store_contact *c;
	int count, stopped;
};

static int list_cb(struct store *store, DBC *cur, const uint8_t *key, size_t keylen,
		   const uint8_t *val, size_t vallen, void *ctx)
{
	struct list_ctx *l = ctx;
	(void)cur;
	if (keylen != CONTACT_KEY_LEN)
		return 0;
	uint32_t id = be32_get(key + PREFIX_LEN + 4);
	if (!contact_unpack(val, vallen, id, l->c))
		return store_err(store, "address book of user %u: contact %u is damaged", l->user_id,
				 id);
	l->count++;
	if (l->cb != NULL && (l->stopped = l->cb(l->c, l->cb_ctx)) != 0)
		return 1;
	return 0;
}

static int list_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct list_ctx *l = ctx;
	l->count = 0;
	l->stopped = 0;
	int r = range_walk(store, txn, "book.c", l->user_id, true, 0, list_cb, l);
	return r < 0 ? r : 1;
}

int store_contact_list(struct store *store, uint32_t user_id,
		       int (*cb)(const struct store_contact *contact, void *ctx), void *ctx,
		       const char **error_r)
{
	struct list_ctx l = { .user_id = user_id, .cb = cb, .cb_ctx = ctx, .c = malloc(sizeof(*l.c)) };
	int r = -1;
	if (l.c == NULL) {
		store_err(store, "out of memory");
		*error_r = store_last_error(store);
	} else if (store_read(store, list_txn, &l, error_r) >= 0) {
		r = l.stopped != 0 ? l.stopped : l.count;
	}
	free(l.c);
	return r;
}

struct count_ctx {
	uint32_t user_id;
	struct meta m;
};

static int count_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct count_ctx *c = ctx;
	int r = meta_get(store, txn, c->user_id, &c->m, 0);
	return r < 0 ? r : 1;
}

int store_contacts_count(struct store *store, uint32_t user_id, const char **error_r)
{
	struct count_ctx c = { .user_id = user_id };
	if (store_read(store, count_txn, &c, error_r) < 0)
		return -1;
	return (int)c.m.count;
}

/* ---------------------------------------------------------------- merge */

struct merge_ctx {
	uint32_t user_id;
	const struct store_contact *in;  /* normalised; naddrs 0 = refused already */
	size_t n;
	enum store_merge_result *results;
	const char **messages;
	struct store_contact *tmp;
};

/* Joins `in` to contact `id`. */
static int merge_one(struct store *store, DB_TXN *txn, struct merge_ctx *c,
		     const struct store_contact *in, uint32_t id, enum store_merge_result *result)
{
	struct store_contact *old = c->tmp;
	int r = contact_read(store, txn, c->user_id, id, old, DB_RMW);
	if (r <= 0)
		return r < 0 ? r : store_err(store, "address book of user %u: index names contact %u "
					     "which is missing", c->user_id, id);
	bool changed = false;
	for (uint32_t i = 0; i < in->naddrs && old->naddrs < STORE_CONTACT_ADDRS_MAX; i++) {
		uint32_t owner;
		if ((r = addr_lookup(store, txn, c->user_id, in->addrs[i], &owner, DB_RMW)) < 0)
			return r;
		if (r == 1)
			continue;        /* this contact's or another's */
		if ((r = addr_put(store, txn, c->user_id, in->addrs[i], id)) < 0)
			return r;
		strcpy(old->addrs[old->naddrs++], in->addrs[i]);
		changed = true;
	}
	if (old->name[0] == '\0' && in->name[0] != '\0') {
		strcpy(old->name, in->name);
		changed = true;
	}
	if (old->note[0] == '\0' && in->note[0] != '\0') {
		strcpy(old->note, in->note);
		changed = true;
	}
	if ((old->flags & STORE_CONTACT_COLLECTED) && !(in->flags & STORE_CONTACT_COLLECTED)) {
		old->flags &= ~(uint32_t)STORE_CONTACT_COLLECTED;
		changed = true;
	}
	*result = changed ? STORE_MERGE_UPDATED : STORE_MERGE_UNCHANGED;
	if (!changed)
		return 1;
	old->updated = (int64_t)time(NULL);
	if ((r = contact_write(store, txn, c->user_id, old)) < 0)
		return r;
	return 1;
}

static int merge_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct merge_ctx *c = ctx;
	struct meta m;
	int r = meta_get(store, txn, c->user_id, &m, DB_RMW);
	if (r < 0)
		return r;
	struct meta before = m;
	for (size_t i = 0; i < c->n; i++) {
		const struct store_contact *in = &c->in[i];
		if (in->naddrs == 0)
			continue;       /* refused by normalisation */
		uint32_t id = 0;
		r = 0;
		for (uint32_t k = 0; k < in->naddrs && r == 0; k++) {
			if ((r = addr_lookup(store, txn, c->user_id, in->addrs[k], &id, DB_RMW)) < 0)
				return r;
		}
		if (r == 1) {
			if ((r = merge_one(store, txn, c, in, id, &c->results[i])) < 0)
				return r;
			continue;
		}
		if (m.count >= STORE_CONTACTS_MAX) {
			c->results[i] = STORE_MERGE_REFUSED;
			if (c->messages != NULL)
				c->messages[i] = "The address book is full.";
			continue;
		}
		*c->tmp = *in;
		c->tmp->id = m.next_id;
		c->tmp->created = c->tmp->updated = (int64_t)time(NULL);
		if ((r = contact_write(store, txn, c->user_id, c->tmp)) < 0)
			return r;
		for (uint32_t k = 0; k < in->naddrs; k++) {
			if ((r = addr_put(store, txn, c->user_id, in->addrs[k], m.next_id)) < 0)
				return r;
		}
		m.count++;
		m.next_id++;
		c->results[i] = STORE_MERGE_ADDED;
	}
	if ((m.count != before.count || m.next_id != before.next_id) &&
	    (r = meta_put(store, txn, c->user_id, &m)) < 0)
		return r;
	return 1;
}

int store_contacts_merge(struct store *store, uint32_t user_id, const struct store_contact *contacts,
			 size_t n, enum store_merge_result *results, const char **messages,
			 const char **error_r)
{
	if (n > STORE_CONTACTS_BATCH_MAX) {
		store_err(store, "too many contacts in one batch (%zu, at most %d)", n,
			  STORE_CONTACTS_BATCH_MAX);
		*error_r = store_last_error(store);
		return -1;
	}
	struct store_contact *in = malloc((n + 1) * sizeof(*in));
	if (in == NULL) {
		store_err(store, "out of memory");
		*error_r = store_last_error(store);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *why;
		in[i] = contacts[i];
		if (messages != NULL)
			messages[i] = NULL;
		if (normalize(&in[i], true, &why) == 0) {
			in[i].naddrs = 0;
			results[i] = STORE_MERGE_REFUSED;
			if (messages != NULL)
				messages[i] = why;
		}
	}
	struct merge_ctx c = { .user_id = user_id, .in = in, .n = n, .results = results,
			       .messages = messages, .tmp = &in[n] };
	int r = store_write(store, true, merge_txn, &c, error_r);
	free(in);
	return r < 0 ? -1 : 1;
}

/* ---------------------------------------------------------------- collect */

/* A display name from a header, made fit to store: invalid UTF-8 gives no
 * name, control characters become spaces, cut to the limit at a character
 * boundary, quotes people put around names removed. */
static void name_clean(char *dst, const char *src)
{
	dst[0] = '\0';
	if (src == NULL)
		return;
	size_t len = strnlen(src, STORE_CONTACT_NAME_MAX + 1);
	if (len > STORE_CONTACT_NAME_MAX) {
		len = STORE_CONTACT_NAME_MAX;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	if (!charset_utf8_valid(src, len))
		return;
	for (size_t i = 0; i < len; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
	dst[len] = '\0';
	trim(dst);
	len = strlen(dst);
	if (len >= 2 && ((dst[0] == '"' && dst[len - 1] == '"') ||
			 (dst[0] == '\'' && dst[len - 1] == '\''))) {
		memmove(dst, dst + 1, len - 2);
		dst[len - 2] = '\0';
		trim(dst);
	}
}

struct collect_ctx {
	uint32_t user_id;
	const char *const *addresses;
	const char *const *names;
	size_t n;
	struct store_contact *tmp;
};

static int collect_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct collect_ctx *c = ctx;
	struct meta m;
	int r = meta_get(store, txn, c->user_id, &m, DB_RMW);
	if (r < 0)
		return r;
	struct meta before = m;
	for (size_t i = 0; i < c->n && m.count < STORE_CONTACTS_MAX; i++) {
		struct account_addr a;
		uint32_t owner;
		if (c->addresses[i] == NULL || account_addr_parse(c->addresses[i], &a, NULL) != 1)
			continue;
		if ((r = addr_lookup(store, txn, c->user_id, a.key, &owner, DB_RMW)) < 0)
			return r;
		if (r == 1)
			continue;
		struct store_contact *k = c->tmp;
		memset(k, 0, sizeof(*k));
		name_clean(k->name, c->names != NULL ? c->names[i] : NULL);
		snprintf(k->addrs[0], sizeof(k->addrs[0]), "%s", c->addresses[i]);
		addr_shown_form(k->addrs[0]);
		if (strcasecmp(k->name, k->addrs[0]) == 0)
			k->name[0] = '\0';       /* "a@b <a@b>" */
		k->id = m.next_id;
		k->flags = STORE_CONTACT_COLLECTED;
		k->created = k->updated = (int64_t)time(NULL);
		k->naddrs = 1;
		if ((r = contact_write(store, txn, c->user_id, k)) < 0 ||
		    (r = addr_put(store, txn, c->user_id, a.key, k->id)) < 0)
			return r;
		m.count++;
		m.next_id++;
	}
	if (m.next_id != before.next_id && (r = meta_put(store, txn, c->user_id, &m)) < 0)
		return r;
	return 1;
}

int store_contacts_collect(struct store *store, uint32_t user_id, const char *const *addresses,
			   const char *const *names, size_t n, const char **error_r)
{
	struct collect_ctx c = { .user_id = user_id, .addresses = addresses, .names = names,
				 .n = n < STORE_CONTACTS_COLLECT_MAX ? n : STORE_CONTACTS_COLLECT_MAX,
				 .tmp = malloc(sizeof(*c.tmp)) };
	if (c.tmp == NULL) {
		store_err(store, "out of memory");
		*error_r = store_last_error(store);
		return -1;
	}
	int r = store_write(store, true, collect_txn, &c, error_r);
	free(c.tmp);
	return r < 0 ? -1 : 1;
}
