/* Inside the store: the outbound queue (filled by delivery, emptied by the
 * relay). An entry: sender, body, recipients each with a state, attempts,
 * next attempt time, last error. */
#ifndef PB_QUEUE_H
#define PB_QUEUE_H

#include "store_int.h"

#define QUEUE_ID_LEN 16            /* random bytes; shown as 32 hex digits */
#define QUEUE_RCPTS_MAX 1000       /* per entry: more than SMTP's 100 per message, with aliases */

/* A new entry: sender, body, recipients (each with its RFC 3461 NOTIFY
 * and ORCPT when given), the message's RET and ENVID. */
struct queue_new {
	const char *sender;
	const char *dkim_domain;            /* as in store_delivery; NULL none */
	const struct store_body *body;
	const char (*rcpts)[STORE_ADDRESS_MAX + 1];
	const struct store_dsn_rcpt *dsn;   /* n of them, NULL: none given */
	size_t n;
	enum store_dsn_ret dsn_ret;
	const char *dsn_envid;              /* NULL none */
	/* NULL: the recipients are to be delivered (PENDING). Else they were
	 * delivered here and only their success DSN is owed: DELIVERED, with
	 * this reply ("delivered to mailbox", "expanded"). */
	const char *delivered;
};

/* Adds the entry inside txn and takes a reference on the body. id_hex_r
 * receives the id as text. */
int queue_add_txn(struct store *store, DB_TXN *txn, const struct queue_new *q,
		  char id_hex_r[2 * QUEUE_ID_LEN + 1]);

/* Inside txn, for store_delivery.outq_id: the `n` recipients at `rcpts` of
 * entry `id_hex`, whose lease this process holds, were delivered locally
 * (marked SENT, "delivered locally", or DELIVERED when a success DSN is
 * owed; a FAILED one too: an administrator's bounce loses to a delivery,
 * as in outq_commit) or, with `dsn`, their DSN was (FAILED ones marked
 * RETURNED, DELIVERED ones SENT). 1, or an error (<0) when the
 * lease is not ours or a recipient is not in a state to move so. */
int queue_rcpts_settle_txn(struct store *store, DB_TXN *txn, const char *id_hex,
			   const uint32_t *rcpts, size_t n, bool dsn);

#endif
