/* The Pillarbox store: one transactional Berkeley DB environment plus
 * immutable body files, shared by every program (see DESIGN.md, STORE-NOTES.md).
 *
 * Conventions (every function here):
 *  - returns -1 on error with a message in *error_r (valid until the next call
 *    on the same store), 0 for "no / not found / refused", 1 (or a count) for
 *    success, unless documented otherwise;
 *  - -1 is always a *temporary* failure (answer 4xx / NO [UNAVAILABLE]);
 *    permanent refusals are 0 or a documented code;
 *  - strings are UTF-8, NUL-terminated; addresses are "local@domain";
 *  - writes are transactions; those that acknowledge mail to someone (append,
 *    delivery, expunge, queue) are durable (DB_TXN_SYNC) before returning 1.
 *  - If the environment panics (DB_RUNRECOVERY) the store calls the panic hook
 *    (store_set_panic_hook) and then _exit(75): nothing can be saved in this
 *    process, the next process to open runs recovery.
 * <db.h> is included by store/ files only; this header keeps it out. */
#ifndef PB_STORE_H
#define PB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"

#define STORE_FORMAT_VERSION 2
#define STORE_FORMAT_UPGRADABLE 1    /* the oldest 'pillarbox store upgrade' takes */
#define STORE_ADDRESS_MAX 254        /* RFC 5321 path limit less the brackets */
#define STORE_LOCALPART_MAX 64
#define STORE_DOMAIN_MAX 253
#define STORE_MAILBOX_NAME_MAX 255   /* bytes of UTF-8 */
#define STORE_MAILBOX_DEPTH_MAX 16
#define STORE_MAILBOXES_MAX 1000     /* per user */
#define STORE_KEYWORDS_MAX 64        /* per mailbox: they are bits in a 64-bit mask */
#define STORE_KEYWORD_MAX 100        /* bytes in one keyword */
#define STORE_ALIAS_TARGETS_MAX 100
#define STORE_ALIAS_DEPTH_MAX 10
#define STORE_BODY_ID_LEN 16
#define STORE_PREFIX_MAX 2048        /* per-copy header lines (Return-Path, Delivered-To) */

struct store;

/* ---------------------------------------------------------------- lifecycle */

/* Creates a new store at config->store: the directory (must be empty or
 * absent), DB_CONFIG, every database, the format record, blobs/ and notify/.
 * Run as the store user. Returns 0 or -1. */
int store_init(const struct config *config, const char **error_r);

/* Joins the store (running recovery if a process died; killing store
 * processes still attached to the dead environment). Opens every database in
 * a snapshot transaction, never creating one. Refuses to run as root.
 * `threaded` is for the libmicrohttpd server (DB_THREAD). Returns 0 or -1
 * with an error naming the file and what to do. */
int store_open(const struct config *config, bool threaded, struct store **store_r,
	       const char **error_r);

/* store_open for a process that serves one connection (the protocol
 * handlers, webmail.cgi): the databases' files are only looked for at start,
 * each is checked when first opened (checking all eighteen cost a POP3 login,
 * which opens two, 6% of its CPU). A file found damaged then ends the process
 * (status 75, the panic hook's line to the client where one is set, the
 * file named in the log) with the store closed as store_close does: no
 * other process has to recover after it. */
int store_open_per_connection(const struct config *config, struct store **store_r,
			      const char **error_r);

/* Aborts nothing (callers own no open transactions between calls), closes
 * databases with DB_NOSYNC, checkpoints if past the threshold, closes the
 * environment. Safe on NULL. Registered with atexit() by store_open too. */
void store_close(struct store **store);

/* Called (async-signal-unsafe context is fine) when the environment panics,
 * right before _exit(75): write the protocol's temporary-failure line here. */
void store_set_panic_hook(void (*hook)(void));

/* Human description of the last error on this store. */
const char *store_last_error(struct store *store);

/* Whether the last error was the store's file system being full (ENOSPC,
 * EDQUOT, or less free space than the store keeps for Berkeley DB's own
 * writes): still a temporary failure, answered as such ("452 4.3.1
 * Insufficient system storage", EX_TEMPFAIL). */
bool store_error_no_space(struct store *store);

/* Before taking a message of about `size` bytes (0: unknown): 1 the store's
 * file system has room for it and for what Berkeley DB must be able to
 * write (a new log file, recovery); 0 it has not (*error_r says so, and
 * store_error_no_space is true). Reading, deleting and flag changes are
 * never refused for space. */
int store_space_check(struct store *store, uint64_t size, const char **error_r);

/* ----------------------------------------------------------------- accounts */

struct store_user {
	uint32_t id;
	uint32_t domain_id;
	char address[STORE_ADDRESS_MAX + 1]; /* canonical: localpart as created, domain lowercased */
	uint64_t quota_bytes;                /* 0 = unlimited */
	uint32_t quota_messages;             /* 0 = unlimited */
	bool disabled;
	int64_t created;
	/* INBOX's mailbox id and UIDVALIDITY, kept with the user so a POP3
	 * login need not open three databases to find them; 0 in a record
	 * written before 2026-11-29: look INBOX up by name. */
	uint32_t inbox_id;
	uint32_t inbox_uidvalidity;
};

/* Domains: names lowercased, an internationalized one in its A-labels
 * (IDNA2008: "müller-bau.de" is stored as "xn--mller-bau-q9a.de", and either
 * form names it here and in every address). -1 is also the answer when a
 * name needs libidn2 and it cannot be loaded (*error_r names the package).
 * 1 added, 0 already there or invalid (*error_r says why), -1 error. */
int store_domain_add(struct store *store, const char *domain, const char **error_r);
/* 1 deleted, 0 no such domain; refuses (0 with *error_r set) while users exist. */
int store_domain_del(struct store *store, const char *domain, const char **error_r);
int store_domain_list(struct store *store, int (*cb)(const char *domain, void *ctx), void *ctx,
		      const char **error_r);
/* 1 if `domain` is local, 0 if not (or not a valid domain). */
int store_domain_is_local(struct store *store, const char *domain, const char **error_r);
/* `domain` as the store names it (lowercased, A-labels) into dst: 1, 0 not
 * a valid (internationalized) domain name, -1 libidn2 cannot be loaded;
 * *error_r says why (a static or per-thread string). */
int store_domain_ascii(const char *domain, char dst[STORE_DOMAIN_MAX + 1], const char **error_r);
/* For display: `domain` with its A-labels decoded to UTF-8 into dst: 1, or 0
 * (dst "") when it has none or they cannot be decoded. */
int store_domain_unicode(const char *domain, char *dst, size_t size);
/* A domain stored in U-labels by a version before IDNA (its records are
 * out of reach of the names above: 'store check' reports them) moved with
 * its users and aliases to its A-label form, joined to it if that exists
 * (refused when an address exists in both). 1 (ascii_r: the new name), 0
 * refused, -1 error. */
int store_domain_migrate(struct store *store, const char *domain,
			 char ascii_r[STORE_DOMAIN_MAX + 1], const char **error_r);

/* Users. The domain must exist. Creates INBOX, Sent, Drafts, Trash, Junk,
 * Archive in the same transaction. `password` is hashed here (password.h);
 * or `hash` is stored as given (imports) when password is NULL.
 * 1 added, 0 exists / domain not local / invalid address (*error_r says). */
int store_user_add(struct store *store, const char *address, const char *password,
		   const char *hash, const char **error_r);
/* Deletes the user, their mailboxes, messages (bodies' refcounts dropped). */
int store_user_del(struct store *store, const char *address, const char **error_r);
int store_user_passwd(struct store *store, const char *address, const char *password,
		      const char **error_r);
int store_user_quota(struct store *store, const char *address, uint64_t bytes, uint32_t messages,
		     const char **error_r);
int store_user_disable(struct store *store, const char *address, bool disabled,
		       const char **error_r);
/* Whether `address` is one a user or alias could have (local@domain, within
 * the length limits): what store_user_add refuses as "invalid address". */
bool store_address_valid(const char *address);
/* The same with the reason: 1 valid, 0 invalid, -1 its domain needs
 * libidn2, which cannot be loaded; *error_r says why on 0 and -1. */
int store_address_check(const char *address, const char **error_r);
/* Whether two addresses are one mailbox for another server (RFC 5321 2.4):
 * the local part exactly, the domain in any case. (Ours compare the local
 * part in any case too: store_user_find.) */
bool store_address_same_remote(const char *a, const char *b);
/* 1 found (user_r filled), 0 no such user. Case-insensitive domain; local
 * part compared case-insensitively too (as most providers do). */
int store_user_find(struct store *store, const char *address, struct store_user *user_r,
		    const char **error_r);
int store_user_get(struct store *store, uint32_t user_id, struct store_user *user_r,
		   const char **error_r);
int store_user_list(struct store *store, const char *domain /* NULL = all */,
		    int (*cb)(const struct store_user *user, void *ctx), void *ctx,
		    const char **error_r);
/* Bytes and messages in use (for quota checks and display). */
int store_user_usage(struct store *store, uint32_t user_id, uint64_t *bytes_r,
		     uint32_t *messages_r, const char **error_r);

/* Authentication with throttling, shared by SASL and the webmail login.
 * `rip` is the client IP as text, or NULL when unknown (pipe).
 * Failures are counted per address and per IP; each failure delays the answer
 * (growing), and past a threshold the answer is THROTTLED without checking the
 * password. Unknown user and wrong password take the same time and give the
 * same answer. A success resets the address's counter. */
enum store_auth_result {
	STORE_AUTH_TEMPFAIL = -1,  /* store error: try later */
	STORE_AUTH_FAIL = 0,       /* wrong address or password (or disabled) */
	STORE_AUTH_OK = 1,
	STORE_AUTH_THROTTLED = 2,  /* too many failures: try later, do not count as wrong */
};
enum store_auth_result store_auth_login(struct store *store, const char *address,
					const char *password, const char *rip,
					struct store_user *user_r, const char **error_r);
/* Forgets the failed logins counted for an address and/or a client IP
 * (either may be NULL), so that they may log in again at once (`pillarbox
 * user unlock`, and a new password). 1 (*removed_r: counters removed, 0 to
 * 2), 0 refused (not an address or IP: *error_r), -1 error. Durable. */
int store_auth_unlock(struct store *store, const char *address, const char *ip,
		      unsigned *removed_r, const char **error_r);
/* Whether `ip` is an IPv4 or IPv6 address as store_auth_unlock takes it. */
bool store_auth_ip_valid(const char *ip);

/* Aliases: source is "local@domain" or "@domain" (catch-all); target is any
 * address. Adding one that would make a loop (or exceed the depth) is refused
 * with 0 and *error_r. 1 added, 0 refused/exists. */
int store_alias_add(struct store *store, const char *source, const char *target,
		    const char **error_r);
/* target NULL removes every target of source. 1 removed, 0 none. */
int store_alias_del(struct store *store, const char *source, const char *target,
		    const char **error_r);
int store_alias_list(struct store *store, int (*cb)(const char *source, const char *target, void *ctx),
		     void *ctx, const char **error_r);

/* The address RFC 5321 4.5.1's bare "postmaster" names here, into dst:
 * postmaster at the host name or its nearest parent domain that is local
 * (1), else "postmaster" (0), which store_resolve gives to the configured
 * postmaster; -1 on a store error. */
int store_postmaster_name(struct store *store, char *dst, size_t size, const char **error_r);

/* Resolves one recipient address through aliases (depth-limited) into local
 * users and remote addresses, deduplicated. A subaddress (bob+tag, config
 * recipient_delimiter) goes where its base does; postmaster@/abuse@ a local
 * domain without its own to the config's postmaster; the bare "postmaster"
 * (RFC 5321 4.5.1) is accepted too. The order is in alias.c. */
enum store_rcpt_kind {
	STORE_RCPT_LOCAL,    /* a local user */
	STORE_RCPT_REMOTE,   /* an address in a non-local domain */
};
struct store_rcpt_target {
	enum store_rcpt_kind kind;
	uint32_t user_id;                   /* LOCAL */
	char address[STORE_ADDRESS_MAX + 1]; /* the final address (the user's or the remote one) */
};
enum store_resolve_result {
	STORE_RESOLVE_ERROR = -1,
	STORE_RESOLVE_NOT_LOCAL = 0,   /* domain is not ours: relaying question */
	STORE_RESOLVE_OK = 1,          /* targets filled */
	STORE_RESOLVE_NO_USER = 2,     /* our domain, nobody there: 550 5.1.1 */
	STORE_RESOLVE_DISABLED = 3,    /* user exists but is disabled */
};
/* Fills up to `max` targets (STORE_ALIAS_TARGETS_MAX is plenty); *n_r = count. */
enum store_resolve_result store_resolve(struct store *store, const char *address,
					struct store_rcpt_target *targets, size_t max, size_t *n_r,
					const char **error_r);

/* ---------------------------------------------------------------- mailboxes */

enum store_special_use {
	STORE_SPECIAL_NONE = 0,
	STORE_SPECIAL_SENT = 1 << 0,
	STORE_SPECIAL_DRAFTS = 1 << 1,
	STORE_SPECIAL_TRASH = 1 << 2,
	STORE_SPECIAL_JUNK = 1 << 3,
	STORE_SPECIAL_ARCHIVE = 1 << 4,
	STORE_SPECIAL_ALL = 1 << 5,
	STORE_SPECIAL_FLAGGED = 1 << 6,
};

struct store_mailbox {
	uint32_t id;
	uint32_t user_id;
	char name[STORE_MAILBOX_NAME_MAX + 1]; /* UTF-8, '/'-separated, "INBOX" for the inbox */
	unsigned special_use;
	bool subscribed;
	/* state: */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t exists;
	uint32_t unseen;
	uint32_t deleted;      /* messages with \Deleted */
	uint32_t recent_uid;   /* messages with uid >= this are \Recent for the next claimer */
	uint64_t bytes;
};

/* 1 if `name` is acceptable: UTF-8, no control chars, no empty level, no
 * leading/trailing '/', no "." or ".." level, <= STORE_MAILBOX_NAME_MAX bytes
 * and <= STORE_MAILBOX_DEPTH_MAX levels. "inbox" in any case means INBOX. */
bool store_mailbox_name_valid(const char *name);

/* 1 created (*id_r), 0 exists already or invalid (*error_r), -1 error. */
int store_mailbox_create(struct store *store, uint32_t user_id, const char *name,
			 unsigned special_use, uint32_t *id_r, const char **error_r);
/* 1 found, 0 not. Names are case-sensitive except INBOX. */
int store_mailbox_find(struct store *store, uint32_t user_id, const char *name,
		       struct store_mailbox *mailbox_r, const char **error_r);
/* By id (state only: counts, uid/modseq fields; name/user/special filled too). */
int store_mailbox_get(struct store *store, uint32_t mailbox_id, struct store_mailbox *mailbox_r,
		      const char **error_r);
/* All mailboxes of the user in name order (a snapshot). */
int store_mailbox_list(struct store *store, uint32_t user_id,
		       int (*cb)(const struct store_mailbox *mailbox, void *ctx), void *ctx,
		       const char **error_r);
/* The names that stay subscribed after their mailbox was deleted (a
 * subscription is to a name, RFC 3501 6.3.4), as mailboxes with id 0 and
 * only user_id, name and subscribed set; a snapshot, in name order. Such a
 * name is subscribed again when CREATE or RENAME makes it a mailbox, and
 * UNSUBSCRIBE removes it. Returns the count, or as store_mailbox_list. */
int store_mailbox_list_gone_subscribed(struct store *store, uint32_t user_id,
				       int (*cb)(const struct store_mailbox *mailbox, void *ctx),
				       void *ctx, const char **error_r);
/* Renames a mailbox and all its children (new UIDVALIDITY is not needed:
 * ids stay). Renaming INBOX moves its messages into a new mailbox `to` and
 * leaves INBOX empty (RFC 3501). 1 done, 0 refused (exists, missing, invalid). */
int store_mailbox_rename(struct store *store, uint32_t user_id, const char *from, const char *to,
			 const char **error_r);
/* Deletes the mailbox and its messages; INBOX cannot be deleted; a mailbox
 * with children is refused (0). Its name stays subscribed if it was. */
int store_mailbox_delete(struct store *store, uint32_t user_id, const char *name,
			 const char **error_r);
int store_mailbox_subscribe(struct store *store, uint32_t user_id, const char *name, bool on,
			    const char **error_r);
/* Sets the special-use attributes (CREATE-SPECIAL-USE, admin). */
int store_mailbox_set_special(struct store *store, uint32_t mailbox_id, unsigned special_use,
			      const char **error_r);
/* Claims \Recent for the UIDs below `uidnext` (the caller's view of the
 * mailbox): returns the old recent_uid and raises it to `uidnext`, so only
 * one session sees a message as recent. Mail delivered since the caller
 * looked stays for the next claim. On a full disk it claims nothing
 * (returns `uidnext`) rather than fail. */
int store_mailbox_claim_recent(struct store *store, uint32_t mailbox_id, uint32_t uidnext,
			       uint32_t *recent_uid_r, const char **error_r);

/* ------------------------------------------------------------------- bodies */

/* A body being written: a temporary file in blobs/tmp. Writing enforces the
 * configured max_message_size (write returns 0 "too big" past it, and the
 * writer keeps swallowing nothing more). finish() fsyncs, renames into place,
 * fsyncs the directories and parses the MIME structure (cached). The body is
 * not referenced until a transaction (append/deliver) references it; a crash
 * in between leaves an orphan that `store maintain` collects. */
struct store_body_writer;
struct store_body;

int store_body_create(struct store *store, struct store_body_writer **writer_r,
		      const char **error_r);
/* Raises this body's size limit (max_message_size) by `len`: for header
 * lines the system adds itself (smtpd's Received:), so that a message as
 * large as the limit a client was told (EHLO SIZE) still fits. */
void store_body_limit_add(struct store_body_writer *writer, uint64_t len);
/* Keeps the bytes exactly as written: no CRLF normalisation (an IMAP
 * literal8 APPEND, RFC 3516 4.4: a binary part's bare CR or LF is data).
 * Call before the first write. */
void store_body_binary(struct store_body_writer *writer);
/* What was written so far, for a check made before the body is kept
 * (smtpd's spam check): its size, and its first len bytes into buf (the
 * count, or -1 with *error_r). */
uint64_t store_body_writer_size(const struct store_body_writer *writer);
ssize_t store_body_writer_read(struct store_body_writer *writer, void *buf, size_t len,
			       const char **error_r);
/* 1 written, 0 too big (the body is then refused at finish), -1 error. */
int store_body_write(struct store_body_writer *writer, const void *data, size_t len,
		     const char **error_r);
/* 1 done (*body_r), 0 too big, -1 error. The writer is freed in all cases. */
int store_body_finish(struct store_body_writer **writer, struct store_body **body_r,
		      const char **error_r);
void store_body_abort(struct store_body_writer **writer);
/* Convenience: a whole body from memory. */
int store_body_from_buffer(struct store *store, const void *data, size_t len,
			   struct store_body **body_r, const char **error_r);
uint64_t store_body_size(const struct store_body *body);
void store_body_free(struct store_body **body);

/* ----------------------------------------------------------------- messages */

enum store_flag {
	STORE_FLAG_SEEN = 1 << 0,
	STORE_FLAG_ANSWERED = 1 << 1,
	STORE_FLAG_FLAGGED = 1 << 2,
	STORE_FLAG_DELETED = 1 << 3,
	STORE_FLAG_DRAFT = 1 << 4,
	STORE_FLAG_FORWARDED = 1 << 5, /* $Forwarded */
	STORE_FLAG_JUNK = 1 << 6,      /* $Junk */
	STORE_FLAG_NOTJUNK = 1 << 7,   /* $NotJunk */
};

struct store_msg {
	uint32_t mailbox_id;
	uint32_t uid;
	uint32_t flags;          /* enum store_flag */
	uint64_t keywords;       /* bit i = keyword id i of this mailbox */
	uint64_t modseq;
	int64_t internaldate;    /* seconds since the epoch */
	int32_t internaldate_tz; /* minutes east of UTC, for IMAP INTERNALDATE */
	uint64_t size;           /* RFC822.SIZE: prefix + body, CRLF line ends */
	uint64_t size_crlf;      /* with every line ended by CRLF, the last one
				    too: what POP3 sends (RFC 1939 11); more
				    than size for a body that does not end in
				    CRLF or keeps bare LFs (a binary one).
				    Records written before 2026-12 say size. */
	uint8_t body_id[STORE_BODY_ID_LEN];
	uint16_t prefix_len;
	/* Summary computed at delivery, for lists and sorting (decoded UTF-8,
	 * truncated): */
	int64_t sent_date;       /* Date: header, or internaldate */
	int32_t sent_date_tz;    /* its zone, minutes east of UTC (SENTON & co.
				    compare the date as written) */
	char from[128];
	char subject[256];
	bool has_attachment;
};

/* Appends a finished body to a mailbox: UID allocated in the same
 * transaction, durable on return. `keywords` are names (created in the
 * mailbox's keyword table), may be NULL. `prefix` are header lines put before
 * this copy only (e.g. "Return-Path: <a@b>\r\n"), may be NULL.
 * 1 done (*uid_r), 0 refused: quota (*error_r "quota"), -1 error. */
int store_msg_append(struct store *store, uint32_t mailbox_id, const struct store_body *body,
		     uint32_t flags, const char *const *keywords, size_t nkeywords,
		     int64_t internaldate, int32_t internaldate_tz,
		     const char *prefix, size_t prefix_len, uint32_t *uid_r,
		     const char **error_r);
/* One message of store_msg_append_many: as store_msg_append's arguments
 * (no prefix); uid is set on success. */
struct store_append {
	const struct store_body *body;
	uint32_t flags;
	const char *const *keywords;
	size_t nkeywords;
	int64_t internaldate;
	int32_t internaldate_tz;
	uint32_t uid;
};
/* Several messages in one transaction (IMAP MULTIAPPEND, RFC 3502): all of
 * them or none, with consecutive UIDs; no other session ever sees a part.
 * Results as store_msg_append. */
int store_msg_append_many(struct store *store, uint32_t mailbox_id, struct store_append *msgs,
			  size_t n, const char **error_r);

/* Messages with uid_lo <= uid <= uid_hi in ascending UID order, from one
 * snapshot. The callback returns 0 to go on, non-zero to stop. Returns the
 * number of messages given to the callback, or the callback's non-zero value
 * when it stopped (callers that need to tell these apart keep a flag in ctx),
 * or -1. The callback runs inside the snapshot: no client I/O in it beyond
 * buffering. */
int store_msg_list(struct store *store, uint32_t mailbox_id, uint32_t uid_lo, uint32_t uid_hi,
		   int (*cb)(const struct store_msg *msg, void *ctx), void *ctx,
		   const char **error_r);
int store_msg_get(struct store *store, uint32_t mailbox_id, uint32_t uid, struct store_msg *msg_r,
		  const char **error_r);

enum store_flag_op { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };
/* Changes flags and keywords of the given UIDs in one transaction; each
 * changed message gets a new MODSEQ. With unchangedsince != 0, messages whose
 * modseq is greater are left alone and reported to `failed_cb`. Changed
 * messages are reported to `cb` with their new state. Returns count changed. */
int store_msg_set_flags(struct store *store, uint32_t mailbox_id, const uint32_t *uids, size_t n,
			enum store_flag_op op, uint32_t flags, const char *const *keywords,
			size_t nkeywords, uint64_t unchangedsince,
			int (*cb)(const struct store_msg *msg, void *ctx),
			int (*failed_cb)(uint32_t uid, void *ctx), void *ctx, const char **error_r);

/* Copies (or moves) messages to another mailbox of the same user, sharing the
 * bodies. new_uids_r[i] receives the UID of uids[i] in dst (0 if it vanished);
 * new_uids_r may be NULL.
 * Durable. Returns the count copied, 0 on quota refusal. */
int store_msg_copy(struct store *store, uint32_t src_mailbox_id, const uint32_t *uids, size_t n,
		   uint32_t dst_mailbox_id, bool move, uint32_t *new_uids_r, const char **error_r);
/* The messages of several mailboxes of one user (a search in all folders)
 * copied or moved into dst in one transaction: all of them or, on a quota
 * refusal (0), none. Returns the count copied. */
struct store_copy_group {
	uint32_t mailbox_id;
	const uint32_t *uids;
	size_t n;
	uint32_t *new_uids;   /* as new_uids_r above; may be NULL */
};
int store_msg_copy_groups(struct store *store, const struct store_copy_group *groups, size_t n,
			  uint32_t dst_mailbox_id, bool move, const char **error_r);
/* Removes the messages (durable); bodies freed when no copy remains. */
int store_msg_expunge(struct store *store, uint32_t mailbox_id, const uint32_t *uids, size_t n,
		      const char **error_r);
/* Messages whose modseq > `modseq`, ascending by modseq (CONDSTORE, change
 * detection). */
int store_msg_changed_since(struct store *store, uint32_t mailbox_id, uint64_t modseq,
			    int (*cb)(const struct store_msg *msg, void *ctx), void *ctx,
			    const char **error_r);
/* UIDs expunged with modseq > `modseq` (QRESYNC, sessions catching up),
 * ascending by modseq. `store maintain` forgets old expunges: *forgotten_r
 * (if not NULL) is the highest MODSEQ whose expunge was forgotten, 0 if
 * none; when it is above `modseq`, some expunges since may be missing. */
int store_msg_expunged_since(struct store *store, uint32_t mailbox_id, uint64_t modseq,
			     int (*cb)(uint32_t uid, uint64_t modseq, void *ctx), void *ctx,
			     uint64_t *forgotten_r, const char **error_r);
/* The mailbox's keyword names by id (id = bit position). */
int store_keyword_list(struct store *store, uint32_t mailbox_id,
		       int (*cb)(unsigned id, const char *name, void *ctx), void *ctx,
		       const char **error_r);

/* One page of a mailbox in a chosen order, for the webmail's message list:
 * skips `offset` messages, then reports up to `count` (callback as in
 * store_msg_list). Backed by per-mailbox sort indexes kept at append, copy
 * and expunge time, so a page costs about the same in a mailbox of 100 or
 * 100,000 messages (offset is skipped over index keys only). Returns the
 * number reported. */
enum store_sort {
	STORE_SORT_ARRIVAL,   /* UID order */
	STORE_SORT_DATE,      /* Date: header (internal date when absent) */
	STORE_SORT_FROM,      /* decoded From display, case-folded */
	STORE_SORT_SUBJECT,   /* decoded Subject without Re:/Fwd:, case-folded */
	STORE_SORT_SIZE,
};
int store_msg_page(struct store *store, uint32_t mailbox_id, enum store_sort sort, bool descending,
		   uint32_t offset, uint32_t count,
		   int (*cb)(const struct store_msg *msg, void *ctx), void *ctx,
		   const char **error_r);

/* Reading a message: prefix + body file, by byte range, and its MIME
 * structure (cached at delivery; never reparsed). */
struct store_msg_reader;
/* Only msg->mailbox_id and msg->uid are read: the message's record is read
 * again in the open's own snapshot. 1 (*reader_r), 0 the message is gone
 * (expunged), -1 error. */
int store_msg_open(struct store *store, const struct store_msg *msg,
		   struct store_msg_reader **reader_r, const char **error_r);
/* As store_msg_open, for the MIME structure and prefix alone (ENVELOPE,
 * BODYSTRUCTURE, SORT keys): reading the bytes past the prefix fails. */
int store_msg_open_mime(struct store *store, const struct store_msg *msg,
			struct store_msg_reader **reader_r, const char **error_r);
/* Reads up to len bytes at offset of the whole message (prefix + body).
 * Returns bytes read (0 at end) or -1. */
ssize_t store_msg_read(struct store_msg_reader *reader, uint64_t offset, void *buf, size_t len);
uint64_t store_msg_reader_size(const struct store_msg_reader *reader);
/* The cached MIME structure blob (see mime.h: mime_cache_*), for the body
 * only: offsets inside it are relative to the body; add prefix_len. */
const void *store_msg_mime_cache(const struct store_msg_reader *reader, size_t *len_r);
uint16_t store_msg_prefix_len(const struct store_msg_reader *reader);
void store_msg_close(struct store_msg_reader **reader);

/* ----------------------------------------------------------- change notices */

/* HIGHESTMODSEQ of a mailbox, from one record read: the cheap "has anything
 * changed" test. 1 found, 0 no such mailbox. */
int store_mailbox_modseq(struct store *store, uint32_t mailbox_id, uint64_t *modseq_r,
			 const char **error_r);
/* A file descriptor that becomes readable (poll) when the mailbox may have
 * changed; drain it with store_watch_drain(). Inotify on notify/<id>, which
 * every committing change touches. -1 on error. */
int store_watch(struct store *store, uint32_t mailbox_id, const char **error_r);
void store_watch_drain(int fd);
void store_watch_close(int *fd);

/* ----------------------------------------------------------------- delivery */

/* Delivers one message to recipients (as given in RCPT TO, already known to
 * resolve): aliases expanded, duplicates removed, every local copy appended
 * to the user's INBOX in ONE transaction (the body stored once), remote
 * targets put in the outbound queue in the same transaction, committed
 * durably. Per-copy prefix: "Return-Path: <sender>\r\nDelivered-To: addr\r\n".
 * Remote targets that forwarding reached (an alias, a Sieve redirect, a
 * bounce to our SRS address) are queued from the sender's SRS address
 * (srs.h) when it is in no local domain; with recipients that keep the
 * sender too, the delivery makes two entries.
 * Returns 1 done (*queued_r = true if remote mail was queued; queue_id_r
 * names the entry, the forwarded one of two), 2 not again (send_token,
 * below), 3 refused because the sender passed its send_limit (below;
 * *error_r says how far), 4 refused because every recipient's Sieve filter
 * rejected it (reject_refusable, below; *error_r is the reason as one
 * SMTP reply line, sieve_reject_line), 0 refused because a local recipient is over
 * quota (*error_r names them: SMTP 552 5.2.2), -1
 * temporary error (including a recipient that vanished since RCPT: the
 * client retries and RCPT then answers 550). More than
 * STORE_DELIVER_TARGETS_MAX distinct targets after expansion is a
 * temporary error: smtpd counts targets at RCPT to stay below it. */
#define STORE_DELIVER_TARGETS_MAX 1000

/* Delivery status notifications asked for by the sender (RFC 3461, smtpd's
 * DSN extension). NOTIFY per recipient: a set of SUCCESS, FAILURE, DELAY,
 * or NEVER alone; none given (0) means FAILURE and DELAY, as before the
 * extension. */
#define STORE_DSN_NOTIFY_SUCCESS 1u
#define STORE_DSN_NOTIFY_FAILURE 2u
#define STORE_DSN_NOTIFY_DELAY 4u
#define STORE_DSN_NOTIFY_NEVER 8u
/* RFC 3461 4.4 and 4.2: the longest ENVID and ORCPT values (as xtext). */
#define STORE_DSN_ENVID_MAX 100
#define STORE_DSN_ORCPT_MAX 500
/* RET: what a failure DSN returns (RFC 3461 4.3); DEFAULT returns the
 * header, as HDRS does. */
enum store_dsn_ret {
	STORE_DSN_RET_DEFAULT = 0,
	STORE_DSN_RET_FULL = 1,
	STORE_DSN_RET_HDRS = 2,
};
struct store_dsn_rcpt {
	uint8_t notify;            /* STORE_DSN_NOTIFY_*, 0 = not given */
	const char *orcpt;         /* "addr-type;xtext" as received, NULL/"" none */
};

struct store_delivery {
	const char *sender;                   /* envelope sender, "" = null */
	const char *const *recipients;        /* RCPT addresses */
	size_t nrecipients;
	const struct store_body *body;
	int64_t internaldate;                 /* 0 = now */
	bool add_prefix;                      /* Return-Path/Delivered-To per copy */
	/* Header lines put on each local copy after those two (smtpd's
	 * Authentication-Results), CRLF-terminated; left off a copy whose
	 * lines would pass STORE_PREFIX_MAX. NULL: none. */
	const char *prefix_extra;
	size_t prefix_extra_len;
	/* Local copies go to each user's Junk mailbox (special-use \Junk;
	 * INBOX when there is none): mail whose sender's domain asks
	 * receivers to quarantine what fails its checks (DMARC). */
	bool junk;
	/* The domain the sender proved to speak for (A-labels), NULL none:
	 * the relay DKIM-signs the remote copies of a message whose From:
	 * is in it with its key (inetd/relay_dkim.c). Only a sender who
	 * authenticated sets it: smtpd for a logged-in client (the envelope
	 * sender's domain, checked against the login), the webmail (the
	 * identity's), the relay for its own DSNs (the postmaster's). Mail
	 * that merely arrived, even From: a local domain, is never signed. */
	const char *dkim_domain;
	/* The logged-in user who sends it (smtpd after AUTH, the webmail), 0
	 * none: its recipients count against pillarbox.conf's send_limit in
	 * the same transaction (store_deliver returns 3 past it). */
	uint32_t sender_user_id;
	/* The relay's own deliveries of queued mail: queue entry `outq_id`
	 * (leased by this process, outq.h) records them in the same
	 * transaction, so a relay killed after the commit does not deliver
	 * again. The recipients at the outq_nrcpts indexes in outq_rcpts are
	 * marked sent (a domain that became local), or with outq_dsn returned
	 * (this is their DSN). -1, nothing delivered, if the lease is no longer
	 * ours or one of them is no longer owed. outq_id NULL: none. */
	const char *outq_id;
	const uint32_t *outq_rcpts;
	size_t outq_nrcpts;
	bool outq_dsn;
	/* The webmail's send: its form's one-time token (STORE_SEND_TOKEN_LEN
	 * bytes) is recorded as used in session `session_id` in the same
	 * transaction, so a form posted twice is delivered once, even by a
	 * crash between the two; returns 2, nothing delivered, when the
	 * session had used it already. send_token NULL: none. */
	const uint8_t *session_id;
	const uint8_t *send_token;
	/* RFC 3461: per recipient (nrecipients of them; NULL: none given),
	 * and for the message RET and ENVID (xtext as received, NULL none).
	 * A recipient that asked NOTIFY=SUCCESS and is delivered here gets
	 * its "delivered" DSN queued in the delivery's transaction (one
	 * reached through an alias of several targets: "expanded"); remote
	 * ones carry theirs into the queue for the relay. */
	const struct store_dsn_rcpt *dsn;
	enum store_dsn_ret dsn_ret;
	const char *dsn_envid;
	/* The caller can still refuse the message (smtpd before its DATA
	 * reply): when every recipient is local and each one's filter
	 * rejects it (Sieve reject/ereject, RFC 5429 2.1), nothing is stored
	 * and store_deliver returns 4. Otherwise (false, or some recipient
	 * takes it) a rejecting recipient gets nothing and the sender a
	 * notice, queued in the delivery's transaction. */
	bool reject_refusable;
};
int store_deliver(struct store *store, const struct store_delivery *delivery, bool *queued_r,
		  char queue_id_r[33], const char **error_r);

/* The recipients user_id sent to in the 24 hours up to `now`, as the
 * send_limit counts them (*count_r). 1, or -1. */
int store_send_count(struct store *store, uint32_t user_id, int64_t now, uint64_t *count_r,
		     const char **error_r);
/* Forgets them: the user may send a whole send_limit again at once (an
 * administrator's answer to a legitimate mailing). 1, or -1. */
int store_send_reset(struct store *store, uint32_t user_id, const char **error_r);

/* -------------------------------------------------------------- maintenance */

/* Checkpoint, remove old logs, expire sessions and auth counters, forget
 * expunges older than the configured history, collect orphan bodies
 * (older than `orphan_age` seconds). Prints nothing. */
int store_maintain(struct store *store, unsigned orphan_age, const char **error_r);
/* Hot backup of databases then bodies into `dir` (created, must be empty). */
int store_backup(struct store *store, const char *dir, const char **error_r);
/* The same of the configured store, whatever its format: the backup an
 * administrator takes before `store upgrade` (which store_open refuses). */
int store_backup_config(const struct config *config, const char *dir, const char **error_r);
/* Restores a backup made by store_backup into config->store (must be empty
 * or absent): copies, then runs catastrophic recovery. */
int store_restore(const struct config *config, const char *dir, const char **error_r);
/* Brings a store written by an older Pillarbox (format STORE_FORMAT_UPGRADABLE
 * or later) to STORE_FORMAT_VERSION in one durable transaction, with the
 * services stopped (upgrade.c). *from_r: the format it had; *copied_r: the
 * records it moved. 1 upgraded, 0 it was current, -1 error (nothing
 * changed). */
int store_upgrade(const struct config *config, uint32_t *from_r, unsigned *copied_r,
		  const char **error_r);
/* Verifies a store on a COPY (never the live env): db_verify of every
 * database, counters vs messages, body refcounts vs references, body files
 * present. Problems are printed to `out` one per line; returns count. */
int store_check(const struct config *config, FILE *out, const char **error_r);
/* Figures for `pillarbox store stats`, printed as "key: value" lines: the
 * record count of each database (records_too: a walk of every page) and
 * the environment's log, transaction and lock figures. */
int store_stats(struct store *store, FILE *out, bool records_too, const char **error_r);

#endif
