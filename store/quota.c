/* Per-user usage counters (quota.db, a Queue database for record locks):
 * the record number is the user id, so appending a record allocates one. */
#include "account_int.h"

/* u8 version, u64 bytes, u32 messages; the rest of QUOTA_RECLEN is padding. */
#define QUOTA_REC_LEN 13

static void quota_encode(uint8_t buf[QUOTA_RECLEN], uint64_t bytes, uint32_t messages)
{
	struct pack p;

	memset(buf, 0, QUOTA_RECLEN);
	pack_init(&p, buf, QUOTA_RECLEN);
	pack_u8(&p, QUOTA_REC_VERSION);
	pack_u64(&p, bytes);
	pack_u32(&p, messages);
}

int quota_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint64_t *bytes_r,
		  uint32_t *messages_r, uint32_t flags)
{
	uint8_t key[4], buf[QUOTA_RECLEN];
	size_t len;
	struct unpack u;

	be32_put(key, user_id);
	int r = store_get(store, DBI_QUOTA, txn, key, 4, buf, sizeof(buf), &len, flags);
	if (r <= 0)
		return r;
	unpack_init(&u, buf, len);
	uint8_t version = unpack_u8(&u);
	*bytes_r = unpack_u64(&u);
	*messages_r = unpack_u32(&u);
	if (u.error || version != QUOTA_REC_VERSION)
		return store_err(store, "quota.db: the record of user %u is damaged or of an "
				 "unknown version", user_id);
	return 1;
}

static int quota_put_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint64_t bytes,
			 uint32_t messages)
{
	uint8_t key[4], buf[QUOTA_RECLEN];

	be32_put(key, user_id);
	quota_encode(buf, bytes, messages);
	int r = store_put(store, DBI_QUOTA, txn, key, 4, buf, sizeof(buf), 0);
	return r < 0 ? r : 1;
}

int quota_create_txn(struct store *store, DB_TXN *txn, uint32_t *user_id_r)
{
	uint8_t buf[QUOTA_RECLEN];

	quota_encode(buf, 0, 0);
	return store_append(store, DBI_QUOTA, txn, buf, sizeof(buf), user_id_r);
}

int quota_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	uint8_t key[4];

	be32_put(key, user_id);
	int r = store_del(store, DBI_QUOTA, txn, key, 4);
	return r < 0 ? r : 1;
}

/* used + delta, kept within [0, max] (a negative total means a counting
 * bug elsewhere: never wrap around). */
static uint64_t add_u64(uint64_t used, int64_t delta)
{
	if (delta >= 0)
		return (uint64_t)delta > UINT64_MAX - used ? UINT64_MAX : used + (uint64_t)delta;
	uint64_t minus = (uint64_t)0 - (uint64_t)delta;
	return minus > used ? 0 : used - minus;
}

static uint32_t add_u32(uint32_t used, int32_t delta)
{
	uint64_t v = add_u64(used, delta);
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int quota_fits_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint64_t bytes)
{
	struct store_user user;
	uint64_t used_bytes;
	uint32_t used_messages;
	int r;

	/* The same records, in the same order, as quota_add_txn reads them. */
	if ((r = user_get_txn(store, txn, user_id, &user)) <= 0)
		return r < 0 ? r : store_err(store, "user %u does not exist", user_id);
	if (user.quota_bytes == 0 && user.quota_messages == 0)
		return 1;
	if ((r = quota_get_txn(store, txn, user_id, &used_bytes, &used_messages, DB_RMW)) <= 0)
		return r < 0 ? r : store_err(store, "user %u has no usage record", user_id);
	if (user.quota_bytes != 0 && add_u64(used_bytes, (int64_t)bytes) > user.quota_bytes)
		return 0;
	if (user.quota_messages != 0 && add_u32(used_messages, 1) > user.quota_messages)
		return 0;
	return 1;
}

int quota_add_txn(struct store *store, DB_TXN *txn, uint32_t user_id, int64_t bytes,
		  int32_t messages, bool check)
{
	struct store_user user;
	uint64_t used_bytes;
	uint32_t used_messages;
	bool grows = bytes > 0 || messages > 0;
	int r;

	/* The users record first: the lock order (account data, then quota). */
	if (check && grows) {
		if ((r = user_get_txn(store, txn, user_id, &user)) < 0)
			return r;
		if (r == 0)
			return store_err(store, "user %u does not exist", user_id);
	}
	r = quota_get_txn(store, txn, user_id, &used_bytes, &used_messages, DB_RMW);
	if (r < 0)
		return r;
	if (r == 0) {
		/* Being deleted (user_del frees the mailboxes first): nothing to
		 * count down. Adding to a user that is gone is an error. */
		if (!grows)
			return 1;
		return store_err(store, "user %u has no usage record", user_id);
	}
	uint64_t new_bytes = add_u64(used_bytes, bytes);
	uint32_t new_messages = add_u32(used_messages, messages);
	if (check && grows) {
		if (user.quota_bytes != 0 && bytes > 0 && new_bytes > user.quota_bytes)
			return store_refuse(store, "quota exceeded: %llu of %llu bytes used, "
					    "%lld more do not fit", (unsigned long long)used_bytes,
					    (unsigned long long)user.quota_bytes, (long long)bytes);
		if (user.quota_messages != 0 && messages > 0 && new_messages > user.quota_messages)
			return store_refuse(store, "quota exceeded: %u of %u messages", used_messages,
					    user.quota_messages);
	}
	return quota_put_txn(store, txn, user_id, new_bytes, new_messages);
}

struct usage_ctx {
	uint32_t user_id;
	uint64_t bytes;
	uint32_t messages;
};

static int usage_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct usage_ctx *c = ctx;

	return quota_get_txn(store, txn, c->user_id, &c->bytes, &c->messages, 0);
}

int store_user_usage(struct store *store, uint32_t user_id, uint64_t *bytes_r,
		     uint32_t *messages_r, const char **error_r)
{
	struct usage_ctx c = { .user_id = user_id };

	int r = store_read(store, usage_txn, &c, error_r);
	if (r == 1) {
		*bytes_r = c.bytes;
		*messages_r = c.messages;
	} else if (r == 0) {
		account_refuse(store, error_r, "no such user (id %u)", user_id);
	}
	return r;
}
