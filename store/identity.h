/* The webmail's From identities of a user: the primary address and every
 * alias that delivers to the user, each with a display name and a signature
 * the user saved.
 *
 * Which addresses: the aliases database is keyed by source only (no index
 * from target to source), so the aliases that reach a user are found by a
 * scan of it, bounded by IDENTITY_ALIAS_SCAN_MAX pairs (identity.c); chains
 * (a -> b -> user) are followed for up to STORE_ALIAS_DEPTH_MAX passes, and
 * every candidate is confirmed with store_resolve (an alias that redirects
 * elsewhere, or a disabled user, is not an identity). Catch-alls ("@domain")
 * are never identities.
 *
 * Names and signatures are kept in the sessions database (DBI_SESSIONS)
 * under the key "ident" + u32 user id + canonical (lowercased) address
 * NUL-padded to STORE_ADDRESS_MAX + 1 bytes (a fixed length, so a key is never
 * mistaken for a session id: session.h):
 *   {u8 version, str name, str signature}
 * Saves are durable (DB_TXN_SYNC), unlike the other settings there. 
 * A record whose alias has gone is simply never shown again. */
#ifndef PB_IDENTITY_H
#define PB_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STORE_IDENTITY_NAME_MAX 128
#define STORE_SIGNATURE_MAX 4000
/* Identities listed per user: the primary address and at most this many
 * less one aliases (a menu longer than this is unusable anyway). */
#define STORE_IDENTITIES_MAX 100

struct store_identity {
	char address[256];
	char name[STORE_IDENTITY_NAME_MAX + 1];
	char signature[STORE_SIGNATURE_MAX + 1];
};

/* The user's From identities: the primary address first, then each alias
 * that delivers to the user (not catch-alls) in address order, with saved
 * names and signatures (empty when never set). *list_r is malloc'd (free()).
 * 1, or -1 with *error_r. */
int store_identities_get(struct store *store, uint32_t user_id, struct store_identity **list_r,
			 size_t *n_r, const char **error_r);

/* NULL when `name` may be an identity's display name, else why not (a
 * static text): one line of UTF-8 of at most STORE_IDENTITY_NAME_MAX bytes. */
const char *store_identity_name_check(const char *name);

/* Saves the name and signature of one identity; the address must be one of
 * the user's (compared case-insensitively). The name is one line of UTF-8
 * (no control characters: it goes into a From: header); the signature is
 * UTF-8 text whose only control characters are tab, CR and LF. Lengths are in
 * bytes (STORE_IDENTITY_NAME_MAX, STORE_SIGNATURE_MAX).
 * 1 saved, 0 refused (not one of theirs, or an invalid name/signature:
 * *error_r says which), -1 error. */
int store_identity_set(struct store *store, uint32_t user_id, const struct store_identity *identity,
		       const char **error_r);

#endif
