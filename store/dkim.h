/* A domain's DKIM signing key in the store: at most one a domain, kept in
 * domains.db beside the domain's own record, so backup, restore and check
 * carry it, every store process can read it, and deleting the domain
 * deletes it in the same transaction. No key files to get permissions
 * wrong; the private key is as safe as the store itself (SECURITY.md: any
 * process that can write the store's regions can read all of it).
 *
 * Key: the domain (A-labels, as domains.db keys it), a NUL, "dkim": a NUL
 * is in no domain name, so the key is never read as a domain, and it sorts
 * right after its domain. Value (version 1):
 *   u8 version, u8 algorithm (dkim_key.h), u64 created, str selector,
 *   blob PEM private key.
 * A record over a quarter of the 4 KB page (an RSA key's PEM) goes to an
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

/* Whether `s` is a selector we make and accept: 1-63 bytes of lowercase
 * ASCII letters, digits and inner '-'. */
bool store_dkim_selector_valid(const char *s);

/* The key of a local domain (either form). 1 found, 0 the domain has none
 * (or is not local: *error_r says which), -1. */
int store_dkim_get(struct store *store, const char *domain, struct store_dkim *key_r,
		   const char **error_r);
/* Makes `key` the domain's key, replacing any other. 1, 0 refused (not a
 * local domain, an invalid selector or key), -1. Durable. */
int store_dkim_set(struct store *store, const char *domain, const struct store_dkim *key,
		   const char **error_r);
/* Removes the domain's key. 1 removed, 0 none (or not local), -1. */
int store_dkim_del(struct store *store, const char *domain, const char **error_r);

#endif
