/* The webmail address book: each user's contacts (a name, one or more
 * addresses, a note), and the recipients of sent mail remembered as
 * "collected" contacts.
 *
 * Records live in the sessions database (DBI_SESSIONS) under their own key
 * prefixes, beside the settings records ("prefs" + user id):
 *   "book.c" u32 user, u32 id  -> contact {u8 version, u8 flags, i64 created,
 *                                 i64 updated, str name, str note, u8 n, n × str address}
 *   "book.a" u32 user, address -> u32 contact id (the address lowercased)
 *   "book.m" u32 user          -> {u8 version, u32 count, u32 next id}
 * so one user's book is a range scan and a lookup by address one btree
 * search. An address belongs to at most one contact of a user. A key is
 * never 32 bytes long (those are session ids, which the session expiry
 * examines): an address key that would be is given a trailing NUL byte.
 * Writes are durable (DB_TXN_SYNC): an address book is the user's data. */
#ifndef PB_CONTACTS_H
#define PB_CONTACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Contacts of one user, collected ones included: far above a personal
 * address book, low enough that the contacts page and the compose page's
 * list stay quick (Roundcube's default "max_group_members" is similar). */
#define STORE_CONTACTS_MAX 5000
/* Addresses of one contact (private, work, old ones...). */
#define STORE_CONTACT_ADDRS_MAX 20
/* Bytes of a display name and of a note (UTF-8). */
#define STORE_CONTACT_NAME_MAX 200
#define STORE_CONTACT_NOTE_MAX 4000
/* Recipients remembered from one sent message; more are ignored (the
 * submission server refuses messages with more recipients anyway). */
#define STORE_CONTACTS_COLLECT_MAX 200
/* Contacts written by one store_contacts_merge call (one transaction). */
#define STORE_CONTACTS_BATCH_MAX 100

enum store_contact_flags {
	STORE_CONTACT_COLLECTED = 1 << 0,   /* remembered from sent mail, not added by hand */
};

struct store_contact {
	uint32_t id;             /* per user, from 1; 0 for a new contact */
	uint32_t flags;          /* enum store_contact_flags */
	int64_t created, updated;
	char name[STORE_CONTACT_NAME_MAX + 1];
	char note[STORE_CONTACT_NOTE_MAX + 1];
	uint32_t naddrs;         /* 1..STORE_CONTACT_ADDRS_MAX */
	char addrs[STORE_CONTACT_ADDRS_MAX][STORE_ADDRESS_MAX + 1];
};

/* Checks and normalises a contact before it is stored: the name and note
 * trimmed, control characters (but newlines in the note) refused, lengths
 * and UTF-8 checked, every address valid ("local@domain", a dot-atom local
 * part) with its domain lowercased, duplicates removed, at least one left.
 * 1 ok, 0 refused with a message for the user in *error_r (static text). */
int store_contact_normalize(struct store_contact *contact, const char **error_r);

/* Adds a contact (contact->id is ignored; *id_r gets the new id when not
 * NULL). 1 added, 0 refused (invalid, an address already in another
 * contact, the book full: *error_r says which), -1 error. */
int store_contact_add(struct store *store, uint32_t user_id, const struct store_contact *contact,
		      uint32_t *id_r, const char **error_r);

/* Replaces contact->id's name, note and addresses; the collected flag is
 * taken from contact->flags. 1, 0 (no such contact, or refused as for add),
 * -1 error. */
int store_contact_update(struct store *store, uint32_t user_id, const struct store_contact *contact,
			 const char **error_r);

/* 1 deleted, 0 no such contact, -1 error. */
int store_contact_delete(struct store *store, uint32_t user_id, uint32_t id, const char **error_r);

/* Deletes a user's whole book (when the account goes). Count, or -1. */
int store_contacts_delete_all(struct store *store, uint32_t user_id, const char **error_r);

/* 1 found (filled), 0 no such contact, -1 error. */
int store_contact_get(struct store *store, uint32_t user_id, uint32_t id,
		      struct store_contact *contact_r, const char **error_r);

/* The contact holding `address` (compared without regard to ASCII case).
 * 1 found (*contact_r filled when not NULL), 0 not (or not an address),
 * -1 error. A collected contact (STORE_CONTACT_COLLECTED in its flags: mail
 * was sent to it) is found too: the message view trusts it for remote images. */
int store_contact_find(struct store *store, uint32_t user_id, const char *address,
		       struct store_contact *contact_r, const char **error_r);

/* Calls cb for each contact of the user in id order, inside one snapshot
 * (cb must not call the store; returning non-zero stops the walk and is
 * returned). The number of contacts, or -1. */
int store_contact_list(struct store *store, uint32_t user_id,
		       int (*cb)(const struct store_contact *contact, void *ctx), void *ctx,
		       const char **error_r);

/* The number of contacts of the user (collected ones included), or -1. */
int store_contacts_count(struct store *store, uint32_t user_id, const char **error_r);

/* Remembers recipients of sent mail as "collected" contacts (an address
 * already in the book is left alone). 1, or -1 with *error_r.
 * `names[i]` may be NULL (and `names` itself); invalid addresses are
 * skipped, and so is everything once the book holds STORE_CONTACTS_MAX
 * contacts; at most STORE_CONTACTS_COLLECT_MAX addresses are looked at. */
int store_contacts_collect(struct store *store, uint32_t user_id, const char *const *addresses,
			   const char *const *names, size_t n, const char **error_r);

/* What store_contacts_merge did with each contact. */
enum store_merge_result {
	STORE_MERGE_ADDED = 1,     /* a new contact */
	STORE_MERGE_UPDATED,       /* joined to the contact holding one of its addresses */
	STORE_MERGE_UNCHANGED,     /* already there, nothing new */
	STORE_MERGE_REFUSED,       /* invalid, or the book is full (see the message) */
};

/* Imports up to STORE_CONTACTS_BATCH_MAX contacts in one transaction (each
 * normalised as above, except that invalid addresses are left out: a
 * contact with none left is refused), merging by address: a contact one of whose addresses is already in the book is
 * joined to that contact (its other addresses added while there is room and
 * they belong to no other contact; an empty name or note filled, a
 * collected contact becoming a personal one unless the import is marked
 * collected too); the others are added. results[i] (and messages[i], a
 * static text for a refusal, when messages is not NULL) say what happened
 * to contacts[i]. 1, or -1 error (then nothing was written). */
int store_contacts_merge(struct store *store, uint32_t user_id, const struct store_contact *contacts,
			 size_t n, enum store_merge_result *results, const char **messages,
			 const char **error_r);

#endif
