/* Inside the store: per-mailbox state records (the Queue database whose
 * record locks let deliveries to different mailboxes commit together). */
#ifndef PB_MAILBOX_H
#define PB_MAILBOX_H

#include "store_int.h"

#define MBOXSTATE_FLAG_GONE 1   /* the mailbox was deleted */

struct mboxstate {
	uint8_t flags;
	uint32_t user_id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t exists;
	uint32_t unseen;
	uint32_t deleted;
	uint32_t recent_uid;
	uint64_t bytes;
};

/* 1 found, 0 no such (or deleted) mailbox. `rmw` locks it for update;
 * without it a read inside a snapshot transaction releases its lock at once
 * (Queue databases have no MVCC). */
int mboxstate_get(struct store *store, DB_TXN *txn, uint32_t mailbox_id, struct mboxstate *st,
		  bool rmw);
int mboxstate_put(struct store *store, DB_TXN *txn, uint32_t mailbox_id,
		  const struct mboxstate *st);

/* Sets the subscription flag of a mailbox inside txn. */
int mailbox_info_subscribe_txn(struct store *store, DB_TXN *txn, uint32_t id, bool on);

/* The id of the user's INBOX: 1 found, 0 not. */
int mailbox_inbox_id_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint32_t *id_r);

/* The id of the user's mailbox `name` ("inbox" in any case is INBOX): 1
 * found, 0 not. */
int mailbox_id_txn(struct store *store, DB_TXN *txn, uint32_t user_id, const char *name,
		   uint32_t *id_r);

/* The id of the user's first mailbox with one of the `special` attributes
 * (enum store_special_use): 1 found, 0 none. */
int mailbox_special_id_txn(struct store *store, DB_TXN *txn, uint32_t user_id, unsigned special,
			   uint32_t *id_r);

/* Canonical name: a first level "inbox" in any case becomes "INBOX". */
void mailbox_name_canonical(const char *name, char *dst, size_t dstsize);

#endif
