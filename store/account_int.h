/* Accounts inside the store: the address grammar, the account records and the
 * helpers shared by account.c (addresses), domain.c, user.c, alias.c and
 * auth.c. Included by those files only, and by backup.c (store check).
 *
 * Records (first byte = record version; integers big-endian; no NULs stored):
 *  DBI_DOMAINS       lowercased domain in A-labels (RFC 5890)
 *                    -> u8 1, u32 domain_id, u32 users, u32 aliases
 *                       (users / alias pairs whose source is in the domain: a
 *                       domain is deleted only at 0/0, checked in O(1))
 *                    domain NUL "dkim" -> the domain's DKIM keys, active and pending (dkim.h, dkim.c)
 *  DBI_ACCOUNTS      what a login reads, in one database so that it opens one
 *                    (each DB->open takes Berkeley DB's environment lock): a
 *                    key is a tag byte and the key proper (format 2; format 1
 *                    kept these in users.db, user_by_addr.db and authfail.db
 *                    without the tags: upgrade.c)
 *    'U' u32 user_id -> u8 1, u32 domain_id, str address (local part as
 *                       created, domain lowercased), str hash, u64 quota_bytes,
 *                       u32 quota_messages, u8 flags (bit 0 disabled), u64 created,
 *                       u32 inbox_id, u32 inbox_uidvalidity (INBOX, kept so by
 *                       user_add and RENAME INBOX; absent before 2026-11-29)
 *    'A' canonical address (all ASCII lowercased) -> u32 user_id
 *    'F' "u:" canonical address | "i:" client IP (auth.c)
 *                    -> u8 1, u32 failures, u64 window_start, u64 last_failure
 *  DBI_ALIASES       canonical source "local@domain" or "@domain" (dupsort)
 *                    -> target with the domain lowercased and the local part as
 *                       given (a remote server may treat case as significant);
 *                       targets are compared canonically
 *  DBI_QUOTA         recno = user_id -> u8 1, u64 bytes, u32 messages (padded)
 *
 * Address grammar for accounts and aliases (one parser, here):
 *   local@domain, exactly one '@'; local 1..STORE_LOCALPART_MAX bytes, a
 *   dot-atom of RFC 5322 atext or UTF-8 (RFC 6531) — quoted local parts are
 *   refused; domain 1..STORE_DOMAIN_MAX bytes of labels (letters, digits,
 *   inner '-', or UTF-8), no address literals. UTF-8 must be well-formed and
 *   free of C1 controls. A domain with UTF-8 goes through IDNA2008
 *   (idn.h) to its A-labels, so "müller-bau.de" and "xn--mller-bau-q9a.de"
 *   are one domain, and an invalid U-label is an invalid address; an ASCII
 *   name (A-labels too) is the DNS name as given, lowercased. The limits (labels of 1..63, the domain STORE_DOMAIN_MAX, the
 *   address STORE_ADDRESS_MAX) hold for the A-label form.
 *   Case: ASCII letters are folded (the A-label too); a UTF-8 local part is
 *   compared byte for byte. Stores written before IDNA may hold U-label keys:
 *   no parse yields them any more; 'pillarbox store check' reports them and
 *   'pillarbox domain migrate' moves them (domain.c). */
#ifndef PB_ACCOUNT_INT_H
#define PB_ACCOUNT_INT_H

#include "password.h"
#include "store_int.h"

#define DOMAIN_REC_VERSION 1
#define USER_REC_VERSION 1
#define QUOTA_REC_VERSION 1
#define AUTHFAIL_REC_VERSION 1
#define USER_FLAG_DISABLED 0x01
/* Largest encoded user record: the fields above with the longest address and hash. */
#define USER_REC_MAX 1024
/* Entries handed to a list callback per snapshot: callbacks run outside any
 * transaction, so a slow reader (a pipe) never holds one open. */
#define ACCOUNT_LIST_BATCH 256
/* A limit's value in a message. */
#define ACCOUNT_STR_(x) #x
#define ACCOUNT_STR(x) ACCOUNT_STR_(x)

/* accounts.db's tags (above) */
#define ACCOUNT_TAG_ADDRESS 'A'
#define ACCOUNT_TAG_FAILURES 'F'
#define ACCOUNT_TAG_USER 'U'
/* The longest key proper: "u:" and an address. */
#define ACCOUNT_KEY_MAX (2 + STORE_ADDRESS_MAX)
/* store_get, store_put and store_del on accounts.db, the tag put before the
 * key. */
int account_get(struct store *store, DB_TXN *txn, char tag, const void *key, size_t keylen,
		void *buf, size_t bufsize, size_t *len_r, uint32_t flags);
int account_put(struct store *store, DB_TXN *txn, char tag, const void *key, size_t keylen,
		const void *val, size_t vallen);
int account_del(struct store *store, DB_TXN *txn, char tag, const void *key, size_t keylen);
/* A cursor step over the records of one tag in accounts.db: DB_NOTFOUND
 * past the last. k's buffer receives the tag and the key proper; with
 * DB_SET_RANGE, k holds the tag and where to start. */
int account_cursor_get(DBC *cur, char tag, DBT *k, DBT *v, uint32_t op);

/* A parsed address. For a catch-all source "@domain" `at` is 0. */
struct account_addr {
	char key[STORE_ADDRESS_MAX + 1];  /* all ASCII lowercased: index keys */
	char norm[STORE_ADDRESS_MAX + 1]; /* domain lowercased, local part as given */
	size_t at;                        /* offset of the '@' in both */
};
static inline const char *account_addr_domain(const struct account_addr *a)
{
	return a->key + a->at + 1;
}

/* 1 if `text` is a valid address (addr_r filled), 0 if not, -1 if its
 * domain needs libidn2, which cannot be loaded (a temporary failure). On 0
 * *why_r (why_r may be NULL) is NULL for a plain syntax error, or a reason
 * for an invalid IDN; on -1 it names the package to install. The string is
 * static or per thread, valid until the thread's next parse. */
int account_addr_parse(const char *text, struct account_addr *addr_r, const char **why_r);
/* Like account_addr_parse, and also accepts "@domain" (a catch-all source). */
int account_source_parse(const char *text, struct account_addr *addr_r, const char **why_r);
/* A domain as the store keys it (lowercased, A-labels) into dst: 1, 0, -1
 * and *why_r as account_addr_parse. */
int account_domain_parse(const char *text, char dst[STORE_DOMAIN_MAX + 1], const char **why_r);
/* For a parse that did not give 1 (r): -1 with *error_r = why when r < 0
 * (libidn2 missing: temporary), else a refusal (0) "what" or "what: why". */
int account_parse_refuse(struct store *store, const char **error_r, int r, const char *what,
			 const char *why);

/* Records a permanent refusal message for *error_r and returns 0 (for use
 * outside transactions, where store_write would not set it). */
int account_refuse(struct store *store, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records "out of memory" for *error_r and returns -1. */
int account_oom(struct store *store, const char **error_r);
/* List callbacks (domain, user, alias lists) return 0 to go on; a non-zero
 * value stops the listing and is returned. Otherwise the lists return the
 * number of entries given to the callback, or -1. */

/* ---- domains (domain.c) ---- */
struct domain_rec {
	uint32_t id;
	uint32_t users;
	uint32_t aliases;
};
/* `domain` lowercased. 1 found, 0 not, <0 error/retry. */
int domain_get_txn(struct store *store, DB_TXN *txn, const char *domain, struct domain_rec *rec_r,
		   uint32_t flags);
int domain_put_txn(struct store *store, DB_TXN *txn, const char *domain,
		   const struct domain_rec *rec);

/* ---- a domain's DKIM key (dkim.c): domains.db key domain + DKIM_KEY_SUFFIX ---- */
#define DKIM_KEY_SUFFIX "\0dkim"
#define DKIM_KEY_SUFFIX_LEN 5
struct store_dkim_keys;
/* Deletes the domain's keys inside txn (domain deletion): 1, 0 none, < 0. */
int dkim_domain_del_txn(struct store *store, DB_TXN *txn, const char *domain);
/* A key record's value (version 1 or 2, dkim.h): 1 decoded, 0 damaged or
 * of an unknown version. */
int dkim_rec_decode(const void *val, size_t len, struct store_dkim_keys *keys_r);

/* ---- a domain stored in U-labels before IDNA, moved to its A-labels ---- */
typedef char account_key[STORE_ADDRESS_MAX + 1];
/* The pre-IDNA key of a domain given in U-labels: the old grammar, ASCII
 * lowercased, nothing converted. 1, or 0 if it is no such domain (an ASCII
 * one included: its key is its name). */
int account_domain_legacy(const char *text, char dst[STORE_DOMAIN_MAX + 1]);
/* An address of such a domain as its records were keyed (store check). 1,
 * or 0 if its domain is not in U-labels. */
int account_addr_legacy(const char *text, struct account_addr *addr_r);
/* The address keys that end with `suffix` ("@domain", a catch-all "@domain"
 * too): of users in accounts.db (tag ACCOUNT_TAG_ADDRESS, returned without
 * it) or of aliases.db (tag 0), collected in one malloc'd array (*keys_r,
 * free it; *n_r of them) so that they can be changed after. 1, <0. */
int account_keys_ending(struct store *store, DB_TXN *txn, char tag, const char *suffix,
			account_key **keys_r, size_t *n_r);
/* Moves the users of domain `from` to domain `to` (keys, addresses, the
 * domain id). 1, 0 refused (an address exists under both: store_err), <0. */
int user_domain_move_txn(struct store *store, DB_TXN *txn, const char *from, const char *to,
			 uint32_t domain_id);
/* Moves the aliases whose source is in `from` to `to`; their targets are
 * rewritten in A-labels too (*merged_r counts the pairs that became one).
 * 1, 0 refused (a source exists under both), <0. */
int alias_domain_move_txn(struct store *store, DB_TXN *txn, const char *from, const char *to,
			  uint32_t *merged_r);
/* A domain alias leading to `domain` ("@x -> @domain"): its source into
 * source_r (STORE_ADDRESS_MAX + 1 bytes). 1 found, 0 none, <0. */
int alias_domain_alias_to_txn(struct store *store, DB_TXN *txn, const char *domain,
			      char *source_r);

/* ---- users (user.c) ---- */
struct user_rec {
	struct store_user user;
	char hash[PASSWORD_HASH_MAX];
};
/* By canonical address key. 1 found (*id_r), 0 not, <0 error/retry. */
int user_id_by_key_txn(struct store *store, DB_TXN *txn, const char *key, uint32_t *id_r,
		       uint32_t flags);
/* 1 found, 0 not, <0 error/retry. */
int user_rec_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id, struct user_rec *rec_r,
		     uint32_t flags);
/* By address (parsed). 1 found, 0 not, <0 error/retry. */
int user_rec_find_txn(struct store *store, DB_TXN *txn, const struct account_addr *addr,
		      struct user_rec *rec_r, uint32_t flags);

/* ---- usage counters (quota.c) ---- */
/* 1 found, 0 not (no such user), <0 error/retry. */
int quota_get_txn(struct store *store, DB_TXN *txn, uint32_t user_id, uint64_t *bytes_r,
		  uint32_t *messages_r, uint32_t flags);
/* Appends a zero usage record: its record number is the new user's id. */
int quota_create_txn(struct store *store, DB_TXN *txn, uint32_t *user_id_r);
int quota_delete_txn(struct store *store, DB_TXN *txn, uint32_t user_id);

/* ---- auth counters (auth.c) ---- */
/* Deletes the "u:" counter of an address key inside txn (user deletion). */
int authfail_forget_txn(struct store *store, DB_TXN *txn, const char *key);

#endif
