/* The outbound queue: entries and their schedule index. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "body.h"
#include "queue.h"

#define QUEUE_RECORD_VERSION 1
#define QUEUE_RCPT_PENDING 0

int queue_add_txn(struct store *store, DB_TXN *txn, const char *sender,
		  const struct store_body *body, const char (*rcpts)[STORE_ADDRESS_MAX + 1],
		  size_t n, char id_hex_r[2 * QUEUE_ID_LEN + 1])
{
	uint8_t id[QUEUE_ID_LEN], sched[8 + QUEUE_ID_LEN];
	if (n == 0 || n > QUEUE_RCPTS_MAX)
		return store_err(store, "queue: bad recipient count %zu", n);
	if (getrandom(id, sizeof(id), 0) != sizeof(id))
		return store_err(store, "getrandom failed");
	size_t cap = 128 + STORE_ADDRESS_MAX + n * (STORE_ADDRESS_MAX + 8);
	uint8_t *buf = malloc(cap);
	if (buf == NULL)
		return store_err(store, "out of memory");
	uint64_t now = (uint64_t)time(NULL);
	struct pack p;
	pack_init(&p, buf, cap);
	pack_u8(&p, QUEUE_RECORD_VERSION);
	pack_str(&p, sender);
	pack_bytes(&p, body->id, STORE_BODY_ID_LEN);
	pack_u64(&p, body->size);
	pack_u64(&p, now);          /* created */
	pack_u32(&p, 0);            /* attempts */
	pack_u64(&p, now);          /* next try */
	pack_u64(&p, 0);            /* lease held until */
	pack_str(&p, "");           /* last error */
	pack_u32(&p, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		pack_u8(&p, QUEUE_RCPT_PENDING);
		pack_str(&p, rcpts[i]);
		pack_str(&p, "");   /* last reply for this recipient */
	}
	int r;
	if (p.overflow)
		r = store_err(store, "queue record overflow");
	else
		r = store_put(store, DBI_OUTQ, txn, id, sizeof(id), buf, p.len, 0);
	free(buf);
	if (r < 0)
		return r;
	be64_put(sched, now);
	memcpy(sched + 8, id, sizeof(id));
	if ((r = store_put(store, DBI_OUTQ_SCHED, txn, sched, sizeof(sched), "", 0, 0)) < 0)
		return r;
	if ((r = body_use_txn(store, txn, body, 1)) < 0)
		return r;
	for (size_t i = 0; i < QUEUE_ID_LEN; i++)
		snprintf(id_hex_r + 2 * i, 3, "%02x", id[i]);
	return 1;
}
