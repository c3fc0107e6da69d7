/* How many recipients each logged-in user sent mail to in the last 24
 * hours, against pillarbox.conf's send_limit: a stolen password then sends
 * a day's worth of spam at most, not a blocklisting's worth. 24 hourly
 * counts per user in the sessions database, read and written by the
 * delivery that adds to them (store_int.h). */
#include "store_int.h"

#define PREFIX "sendrate"
#define PREFIX_LEN 8
#define HOURS 24
#define REC_VERSION 1
#define REC_LEN (1 + 4 + 4 * HOURS)

static void send_key(uint8_t key[PREFIX_LEN + 4], uint32_t user_id)
{
	memcpy(key, PREFIX, PREFIX_LEN);
	be32_put(key + PREFIX_LEN, user_id);
}

/* The counts as of `hour` (counts[0] is that hour's, counts[k] k hours
 * before); an absent or unknown record counts nothing. */
static int counts_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint32_t hour,
			  uint32_t counts[HOURS], uint32_t flags)
{
	uint8_t key[PREFIX_LEN + 4], rec[REC_LEN];
	size_t len = 0;
	memset(counts, 0, HOURS * sizeof(counts[0]));
	send_key(key, user_id);
	int r = store_get(store, DBI_SESSIONS, txn, key, sizeof(key), rec, sizeof(rec), &len,
			  flags);
	if (r <= 0 || len != REC_LEN || rec[0] != REC_VERSION)
		return r < 0 ? r : 1;
	/* a clock set back counts the newest hour as this one */
	uint32_t then = be32_get(rec + 1), age = hour > then ? hour - then : 0;
	for (uint32_t k = 0; k + age < HOURS; k++)
		counts[k + age] = be32_get(rec + 5 + 4 * k);
	return 1;
}

static uint64_t counts_sum(const uint32_t counts[HOURS])
{
	uint64_t sum = 0;
	for (int k = 0; k < HOURS; k++)
		sum += counts[k];
	return sum;
}

int send_limit_add_txn(struct store *store, DB_TXN *txn, uint32_t user_id, size_t n,
		       unsigned limit, int64_t now, uint64_t *count_r)
{
	uint32_t counts[HOURS], hour = (uint32_t)(now / 3600);
	uint8_t key[PREFIX_LEN + 4], rec[REC_LEN];
	int r = counts_get_txn(store, txn, user_id, hour, counts, DB_RMW);
	if (r < 0)
		return r;
	*count_r = counts_sum(counts);
	if (*count_r + n > limit)
		return 0;
	counts[0] = counts[0] + n > UINT32_MAX ? UINT32_MAX : (uint32_t)(counts[0] + n);
	rec[0] = REC_VERSION;
	be32_put(rec + 1, hour);
	for (int k = 0; k < HOURS; k++)
		be32_put(rec + 5 + 4 * k, counts[k]);
	send_key(key, user_id);
	r = store_put(store, DBI_SESSIONS, txn, key, sizeof(key), rec, sizeof(rec), 0);
	return r < 0 ? r : 1;
}

int send_limit_user_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id)
{
	uint8_t key[PREFIX_LEN + 4];
	send_key(key, user_id);
	int r = store_del(store, DBI_SESSIONS, txn, key, sizeof(key));
	return r < 0 ? r : 1;
}

struct count_ctx {
	uint32_t user_id;
	int64_t now;
	uint64_t count;
};

static int count_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct count_ctx *c = ctx;
	uint32_t counts[HOURS];
	int r = counts_get_txn(store, txn, c->user_id, (uint32_t)(c->now / 3600), counts, 0);
	c->count = counts_sum(counts);
	return r;
}

int store_send_count(struct store *store, uint32_t user_id, int64_t now, uint64_t *count_r,
		     const char **error_r)
{
	struct count_ctx c = { user_id, now, 0 };
	int r = store_read(store, count_txn, &c, error_r);
	*count_r = c.count;
	return r < 0 ? -1 : 1;
}

static int reset_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	return send_limit_user_delete_txn(store, txn, *(uint32_t *)ctx);
}

int store_send_reset(struct store *store, uint32_t user_id, const char **error_r)
{
	return store_write(store, true, reset_txn, &user_id, error_r) < 0 ? -1 : 1;
}
