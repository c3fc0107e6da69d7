/* A domain's DKIM signing keys in the store: an active key, which signs,
 * and a pending one, which does not sign yet: its DNS record is published
 * first, and it becomes the active key once that record can be seen
 * (store_dkim_activate), so no mail is signed with a selector receivers
 * cannot look up. Both are kept in one record in domains.db beside the
 * domain's own record, so backup, restore and check
 * carry it, every store process can read it, and deleting the domain
 * deletes it in the same transaction. No key files to get permissions
 * wrong; the private key is as safe as the store itself (SECURITY.md: any
 * process that can write the store's regions can read all of it).
 *
 * Key: the domain (A-labels, as domains.db keys it), a NUL, "dkim": a NUL
 * is in no domain name, so the key is never read as a domain, and it sorts
 * right after its domain. Value (version 2):
 *   u8 version, u8 slots (bit 0: an active key follows, bit 1: a pending
 *   key follows; at least one), then the active key if any, then the
 *   pending key if any, each:
 *     u8 algorithm (dkim_key.h), u64 created, str selector,
 *     blob PEM private key.
 * Version 1 (before pending keys) is one key without the slots byte:
 *   u8 version, u8 algorithm, u64 created, str selector, blob PEM;
 * it is read as the active key and rewritten as version 2 at the next
 * change. A record over a quarter of the 4 KB page (an RSA key's PEM) goes to an
 * overflow page; it is written when a key is made, not per message, so the
 * writer serialisation of STORE-NOTES §6 does not apply. */
#ifndef PB_DKIM_H
#define PB_DKIM_H

#include <stdint.h>

#include "dkim_key.h"
#include "store.h"

/* A selector is one DNS label (RFC 6376 3.1 allows dotted ones; one label
 * keeps the record name simple to publish). */
#define STORE_DKIM_SELECTOR_MAX 63

struct store_dkim {
	char selector[STORE_DKIM_SELECTOR_MAX + 1];
	enum dkim_alg alg;
	int64_t created;
	char pem[DKIM_KEY_PEM_MAX + 1];
	size_t pem_len;
};

/* Both keys of a domain. */
struct store_dkim_keys {
	bool has_active, has_pending;
	struct store_dkim active;     /* signs the domain's mail */
	struct store_dkim pending;    /* its record published, not used yet */
};

/* Whether `s` is a selector we make and accept: 1-63 bytes of lowercase
 * ASCII letters, digits and inner '-'. */
bool store_dkim_selector_valid(const char *s);

/* The active key of a local domain (either form): the one that signs.
 * 1 found, 0 the domain has no active key (a pending one signs nothing),
 * or is not local (*error_r says which), -1. */
int store_dkim_get(struct store *store, const char *domain, struct store_dkim *key_r,
		   const char **error_r);
/* Both keys of a local domain. 1 it has one or both, 0 neither (or not
 * local), -1. */
int store_dkim_keys_get(struct store *store, const char *domain, struct store_dkim_keys *keys_r,
			const char **error_r);
/* Makes `key` the domain's pending key, replacing any pending one; the
 * active key goes on signing. 1, 0 refused (not a local domain, an invalid
 * selector or key, the active key's selector: its record stays published
 * for the mail it signed), -1. Durable. */
int store_dkim_pending_set(struct store *store, const char *domain, const struct store_dkim *key,
			   const char **error_r);
/* Makes the pending key the active one; the former active key is
 * forgotten and given in *old_r when old_r is not NULL (its selector ""
 * when there was none). 1, 0 no pending key (or not local), -1. Durable. */
int store_dkim_activate(struct store *store, const char *domain, struct store_dkim *old_r,
			const char **error_r);
/* Removes both keys of the domain, or with `pending_only` the pending key
 * only. 1 removed, 0 none (or not local), -1. */
int store_dkim_del(struct store *store, const char *domain, bool pending_only,
		   const char **error_r);

#endif
