/* Inside the store: message records. */
#ifndef PB_MESSAGE_H
#define PB_MESSAGE_H

#include "store_int.h"

#define MSG_RECORD_MAX (128 + 128 + 256 + STORE_PREFIX_MAX)

/* A message record as stored, with its per-copy prefix. */
struct msg_record {
	struct store_msg msg;
	char prefix[STORE_PREFIX_MAX];
};

int msg_record_get(struct store *store, DB_TXN *txn, uint32_t mailbox_id, uint32_t uid,
		   struct msg_record *rec, bool rmw);
int msg_record_put(struct store *store, DB_TXN *txn, const struct msg_record *rec);
/* Deletes every message of a mailbox (bodies dereferenced), its indexes and
 * keywords, inside txn. Does not touch the mailbox state. */
int msg_delete_all_txn(struct store *store, DB_TXN *txn, uint32_t mailbox_id);
/* Keyword names to a bit mask for the mailbox; unknown names are created
 * when `create` (refused past STORE_KEYWORDS_MAX), skipped otherwise. */
int keyword_mask_txn(struct store *store, DB_TXN *txn, uint32_t mailbox_id,
		     const char *const *names, size_t n, bool create, uint64_t *mask_r);
/* Sort index entries of a message (webmail lists), inside txn. */
int sortidx_add_txn(struct store *store, DB_TXN *txn, const struct store_msg *m);
int sortidx_del_txn(struct store *store, DB_TXN *txn, const struct store_msg *m);
/* Remembers an expunge for QRESYNC and sessions catching up (expunged.c). */
int expunged_record_put(struct store *store, DB_TXN *txn, uint32_t mailbox_id, uint64_t modseq,
			uint32_t uid);
/* Forgets expunges made at or before `cutoff` (Unix time), *pruned_r of
 * them; 0 or -1. */
int expunged_prune(struct store *store, int64_t cutoff, unsigned *pruned_r,
			 const char **error_r);
/* Unlinks the files of bodies whose last reference went (after commit). */
void body_unlink_files(struct store *store, const uint8_t (*ids)[STORE_BODY_ID_LEN], size_t n);

#endif
