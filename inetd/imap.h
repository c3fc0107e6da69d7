/* imapd: IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) with the extensions
 * real clients use. One session per process.
 *
 * Files: imapd.c start-up; imap_session.c the command table, the reader
 * (lines and literals through the tokenizer in imap_parser.c) and the
 * dispatcher, which checks the state once; imap_write.c every byte of
 * response (strings, flags, tagged and untagged lines); imap_auth.c the
 * commands before login and the "any state" ones; imap_mailbox.c names and
 * the mailbox commands; imap_list.c LIST/LSUB/STATUS; imap_view.c the
 * selected mailbox (sequence map, keeping in step); imap_select.c
 * EXPUNGE/CLOSE/UNSELECT/CHECK/IDLE;
 * imap_fetch.c and imap_bodystructure.c FETCH; imap_search.c SEARCH;
 * imap_store.c STORE/COPY/MOVE; imap_append.c APPEND. */
#ifndef PB_IMAP_H
#define PB_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "imap_parser.h"
#include "store.h"

/* Longest line: a UID set of a big mailbox in one STORE or FETCH is the
 * longest thing clients send (RFC 7162 asks for at least 8 KB). */
#define IMAP_LINE_MAX CONN_LINE_MAX_LIMIT
/* Bytes of one command's tokens (lines plus literals other than APPEND's
 * message): a SEARCH with several literals stays far below. */
#define IMAP_COMMAND_MAX (256 * 1024)
/* A literal other than an APPEND message (a password, a mailbox name, a
 * search string). */
#define IMAP_LITERAL_MAX (64 * 1024)
/* Before login the only literals a client needs are a user name and a
 * password. */
#define IMAP_LITERAL_PREAUTH_MAX 4096
/* Free heap a session keeps between commands; past it the rest goes back
 * to the system (a SORT of 100,000 messages leaves ~10 MB free). */
#define IMAP_HEAP_FREE_KEEP (1024 * 1024)
/* Nesting of parentheses: SEARCH keys and FETCH lists need a handful. */
#define IMAP_DEPTH_MAX 32
/* Tokens in one command: 64 KB lines of two-byte tokens are 32768. */
#define IMAP_TOKENS_MAX 40000
/* Bad commands (syntax, unknown, wrong state) in a row before we hang up. */
#define IMAP_BAD_COMMANDS_MAX 50
/* Failed logins in one connection before we hang up (the store's throttle
 * delays each one further). */
#define IMAP_AUTH_FAILURES_MAX 5
/* IDLE: an untagged "* OK Still here" this often keeps NATs open, and IDLE
 * may last this long (RFC 3501 5.4: at least 30 minutes). */
#define IMAP_IDLE_KEEPALIVE_SECONDS 120
#define IMAP_IDLE_MAX_SECONDS 3600
/* Messages read from the store per batch (FETCH, SEARCH): records are
 * copied out of a short snapshot and handled outside it. */
#define IMAP_BATCH 256
/* Messages in a mailbox whose first unseen message is worth finding at
 * SELECT (the UNSEEN response code); above this SELECT stays O(1). */
#define IMAP_UNSEEN_SCAN_MAX 1000
/* Bytes of a message streamed per read (FETCH body data, APPEND). */
#define IMAP_CHUNK 65536
/* Quoted strings up to this length; longer ones are sent as literals. */
#define IMAP_QUOTED_MAX 1024
/* A response line carrying a UID set (VANISHED) is cut into several
 * before this many bytes, for clients that read lines into 8 KB. */
#define IMAP_SET_LINE_MAX 8000
/* Mailbox names as the client sees them (modified UTF-7 may be longer). */
#define IMAP_MAILBOX_WIRE_MAX (STORE_MAILBOX_NAME_MAX * 3 + 3)

enum imap_state {
	IMAP_STATE_NOAUTH = 1 << 0,
	IMAP_STATE_AUTH = 1 << 1,
	IMAP_STATE_SELECTED = 1 << 2,
	IMAP_STATE_LOGOUT = 1 << 3,
};

struct imap_view;
struct tls_creds;
struct imap_session;

/* Longest tag accepted (Dovecot's is 100; clients use a few characters). */
#define IMAP_TAG_MAX 256

/* One command being run. */
struct imap_cmd {
	/* Copies, not pointers into the parser: APPEND feeds the parser
	 * again (the lines after each message), which moves its buffer. */
	const char *tag;              /* tag_buf, or NULL */
	const char *name;             /* name_buf: as the client wrote it */
	char tag_buf[IMAP_TAG_MAX + 1];
	char name_buf[32];
	const struct imap_arg *args;  /* after the name (after the UID sub-command);
					 APPEND's are gone once it reads on */
	bool uid;                     /* UID FETCH/STORE/SEARCH/COPY/MOVE/EXPUNGE */
	unsigned flags;               /* enum imap_cmd_flags of the table row */
	/* The tagged reply, written by the dispatcher after keeping the client
	 * in step (untagged responses come first). */
	char *reply;                  /* "OK [code] text" (malloc'd), NULL = none yet */
	bool replied;                 /* already written (STARTTLS, LOGOUT) */
};

struct imap_session {
	struct conn *conn;
	struct store *store;
	const struct config *config;
	struct tls_creds *tls_creds;  /* NULL: no STARTTLS */

	enum imap_state state;
	bool busy;
	bool said_bye;   /* a BYE went out: the connection is closing */
	unsigned bad_commands;
	unsigned auth_failures;
	struct store_user user;

	bool utf8;       /* UTF8=ACCEPT or IMAP4rev2 enabled: names and strings in UTF-8 */
	bool utf8_accept; /* UTF8=ACCEPT named in ENABLE: SEARCH takes no CHARSET */
	bool rev2;       /* ENABLE IMAP4rev2 */
	bool condstore;  /* CONDSTORE enabled (explicitly or by use) */
	bool qresync;    /* ENABLE QRESYNC: VANISHED instead of EXPUNGE */

	struct imap_parser *parser;
	struct imap_view *view;       /* SELECTED state */
};

typedef int imap_cmd_func(struct imap_session *s, struct imap_cmd *cmd);

/* ------------------------------------------------------------ session */

struct imap_session *imap_session_new(struct conn *conn, struct store *store,
				      const struct config *config, struct tls_creds *tls_creds,
				      bool preauth_tls);
/* Greets and serves until LOGOUT, EOF, timeout or too many errors. 0 after
 * LOGOUT, 1 the client left or was sent away, -1 I/O or store error. */
int imap_session_run(struct imap_session *s);
void imap_session_free(struct imap_session **s);

/* Whether LOGIN/AUTHENTICATE may be used now (TLS, loopback, or allowed). */
bool imap_plaintext_allowed(const struct imap_session *s);
/* The capability list for now (without "CAPABILITY"). */
void imap_write_capabilities(struct imap_session *s);
/* Turns CONDSTORE on (ENABLE, or a command that uses it); the first time,
 * with a mailbox selected, says the HIGHESTMODSEQ the client is in step
 * with, as Dovecot does (RFC 7162 3.1). */
void imap_condstore_enable(struct imap_session *s);

/* A store error on a command: logs it and answers NO [UNAVAILABLE] (or
 * [SERVERBUG] for a damaged store). */
void imap_store_error(struct imap_session *s, struct imap_cmd *cmd, const char *error);

/* ------------------------------------------------------------ writer */

void imap_puts(struct imap_session *s, const char *str);
/* "* BYE <text>": the server closes the connection (once per session). */
void imap_bye(struct imap_session *s, const char *text);
void imap_printf(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_write(struct imap_session *s, const void *data, size_t len);
/* Tagged reply: "<tag> <status> [text]\r\n"; `text` is fixed by the caller
 * (never client data); it may start with a response code "[...] ". It is
 * kept in cmd->reply and written after the command (the first reply set
 * wins); imap_reply_flush() writes it at once. */
void imap_tagged(struct imap_session *s, struct imap_cmd *cmd, const char *status,
		 const char *text);
void imap_replyf(struct imap_session *s, struct imap_cmd *cmd, const char *status,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void imap_reply_flush(struct imap_session *s, struct imap_cmd *cmd);
void imap_ok(struct imap_session *s, struct imap_cmd *cmd, const char *text);
void imap_no(struct imap_session *s, struct imap_cmd *cmd, const char *text);
void imap_bad(struct imap_session *s, struct imap_cmd *cmd, const char *text);
/* A string as quoted or literal, whichever the bytes allow (8-bit text only
 * quoted once UTF-8 is enabled). */
void imap_write_string(struct imap_session *s, const char *str, size_t len);
/* NIL for NULL. */
void imap_write_nstring(struct imap_session *s, const char *str);
/* An astring: an atom when it is one (and not NIL), else a string. */
void imap_write_astring(struct imap_session *s, const char *str, size_t len);
/* A mailbox name (UTF-8 inside) in the client's encoding. */
void imap_write_mailbox(struct imap_session *s, const char *name);
/* A literal header "{n}\r\n" ("~{n}\r\n" when binary). */
void imap_write_literal_header(struct imap_session *s, uint64_t len, bool binary);
/* "(\Seen \Answered kw ...)" for flags and keywords of the selected
 * mailbox. */
void imap_write_flags(struct imap_session *s, uint32_t flags, uint64_t keywords, bool recent);
/* A UID set as ranges ("1:3,7") in untagged lines "<prefix><set>\r\n":
 * ranges are added in ascending order, neighbours are joined, and a line
 * that would pass IMAP_SET_LINE_MAX ends and the next starts with the
 * prefix again. Zero-initialise with s and prefix; end() ends the line. */
struct imap_set_writer {
	struct imap_session *s;
	const char *prefix;     /* "* VANISHED " */
	uint32_t lo, hi;        /* the range not yet written; lo 0 = none */
	size_t line;            /* bytes of the line begun; 0 = none */
};
void imap_set_writer_add(struct imap_set_writer *w, uint32_t lo, uint32_t hi);
void imap_set_writer_end(struct imap_set_writer *w);

/* -------------------------------------------------------- mailboxes */

/* Converts a client's mailbox name (modified UTF-7, or UTF-8 once enabled)
 * into the store's UTF-8 form in dst (STORE_MAILBOX_NAME_MAX + 1 bytes):
 * INBOX canonical, one trailing '/' dropped. 1 ok, 0 invalid (the NO is
 * sent). */
int imap_mailbox_name(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *arg,
		      char *dst);
/* Finds a mailbox by a client's argument: 1 found, 0 not (NO sent with
 * `missing_code`, e.g. "[NONEXISTENT]" or "[TRYCREATE]"), -1 (NO sent). */
int imap_mailbox_lookup(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *arg,
			const char *missing_code, struct store_mailbox *mb_r);
/* Special-use attributes "\Sent \Trash ..." for a mailbox (may be ""). */
void imap_write_special_use(struct imap_session *s, unsigned special, bool *first);
/* Writes the STATUS response for `items` (a list argument) of a mailbox:
 * 1 ok, 0 bad item (BAD sent), -1 store error (NO sent). */
int imap_status_write(struct imap_session *s, struct imap_cmd *cmd,
		      const struct store_mailbox *mb, const struct imap_arg *items, bool check_only);
/* The user's APPENDLIMIT (max_message_size). */
uint64_t imap_append_limit(const struct imap_session *s);

/* ------------------------------------------------------ selected view */

/* The state of the selected mailbox as this session told the client. */
struct imap_view {
	uint32_t mailbox_id;
	char name[STORE_MAILBOX_NAME_MAX + 1];
	bool readonly;
	uint32_t uidvalidity;
	uint32_t uidnext;        /* UIDs below this are known to the view */
	uint64_t modseq;         /* changes up to this are reflected */
	uint64_t select_modseq;  /* HIGHESTMODSEQ at SELECT (lazy loading) */
	uint32_t select_uidnext; /* UIDNEXT at SELECT */
	uint32_t exists;         /* EXISTS as told (before the map is loaded) */

	/* The sequence map: the UIDs the client knows, ascending, with their
	 * flags and keywords as of the last sync (16 bytes a message), so that
	 * FETCH FLAGS and flag searches need no store read. */
	bool loaded;
	uint32_t *uids;
	uint32_t *flags;
	uint64_t *kws;
	uint32_t count, cap;
	/* Expunged in the store, still in the map (not yet told), sorted;
	 * the lowest MODSEQ of those expunges. */
	uint32_t *gone;
	uint32_t ngone, gone_cap;
	uint64_t gone_modseq;
	/* UIDs this session holds as \Recent: [lo, hi) ranges, ascending.
	 * Not capped: a dropped range would be \Recent in no session. */
	struct imap_recent_range { uint32_t lo, hi; } *recent;
	uint32_t nrecent, recent_cap;
	/* The MODSEQs of flag changes after `modseq` this session reported
	 * itself since the last sync (its STORE, the \Seen a FETCH set, a
	 * FETCH that answered with the new flags), so that the sync does not
	 * report them again; a MODSEQ names one change of one message.
	 * Sorted at the sync when they came out of order. Past IMAP_TOLD_MAX
	 * they are reported again at the sync. */
	uint64_t *told;
	size_t ntold, told_cap;
	bool told_unsorted;
	bool told_overflow;

	/* The result SEARCH RETURN (SAVE) kept for "$" (RFC 5182): UIDs,
	 * ascending; expunged ones drop out as "$" is resolved against the
	 * map. It goes with the selection. */
	uint32_t *saved;
	size_t nsaved;

	/* Keyword names by id (bit), loaded at SELECT and when a new bit shows. */
	char *keywords[STORE_KEYWORDS_MAX];
	uint64_t keywords_known;
	bool keywords_changed;   /* send a new FLAGS at the next chance */
};

/* The QRESYNC parameter of SELECT/EXAMINE (RFC 7162 3.2.5). */
struct imap_qresync {
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_seqset known;   /* known-uids, normalized; count 0 = not given */
};

/* SELECT / EXAMINE; with `qresync` (NULL: none) and a matching
 * UIDVALIDITY, the changes since its MODSEQ follow the usual responses. */
int imap_view_open(struct imap_session *s, struct imap_cmd *cmd, const struct store_mailbox *mb,
		   bool readonly, const struct imap_qresync *qresync);
void imap_view_close(struct imap_session *s);
/* Loads the sequence map if not yet loaded: 1, or -1 (error_r). */
int imap_view_load(struct imap_session *s, const char **error_r);
/* The sequence number of `uid` (1-based), or 0. */
uint32_t imap_view_seq(const struct imap_view *v, uint32_t uid);
/* Tells the client that the messages with these UIDs (ascending; those
 * not in the map are skipped) are gone and drops them from the map:
 * EXPUNGE for each, highest sequence number first, or VANISHED once QRESYNC
 * is on (RFC 7162 3.2.10). Linear in the map and the UIDs. */
void imap_view_expunge(struct imap_session *s, const uint32_t *uids, size_t n);
/* "* seq FETCH (UID u FLAGS (...) MODSEQ (m))" for a message in the map
 * (nothing if it is not): FLAGS only with `flags`, MODSEQ once CONDSTORE is
 * on. */
void imap_view_fetch_flags(struct imap_session *s, const struct store_msg *msg, bool flags);
/* Sends FLAGS and PERMANENTFLAGS first if `keywords` (or another keyword
 * loaded since) is new to the client: a FETCH must not show a keyword the
 * client was not told of. Call before the FETCH response starts. */
void imap_view_announce_keywords(struct imap_session *s, uint64_t keywords);
/* Records new flags of a message in the map (no-op if not there). */
void imap_view_set_flags(struct imap_view *v, uint32_t uid, uint32_t flags, uint64_t keywords);
bool imap_view_is_gone(const struct imap_view *v, uint32_t uid);
bool imap_view_is_recent(const struct imap_view *v, uint32_t uid);
/* Keeps the client in step: new messages (EXISTS), flag changes (FETCH),
 * and, when `expunge_ok`, expunges (EXPUNGE). Returns 0, or -1 (logged;
 * the caller answers as it can). */
int imap_view_sync(struct imap_session *s, bool expunge_ok);
/* imap_view_sync without expunges that also gives the UIDs whose flag
 * change it reported ("* n FETCH (UID u FLAGS (...) [MODSEQ (m)])"),
 * ascending, in *reported_r (malloc'd; NULL when none): a FETCH of UID and
 * FLAGS need not repeat those messages (the client reads one FETCH like
 * another). */
int imap_view_sync_reported(struct imap_session *s, uint32_t **reported_r, uint32_t *n_r);
/* After a command that could not be told of expunges (a sequence number
 * command): with QRESYNC, the HIGHESTMODSEQ below the first one held back. */
void imap_view_held_back(struct imap_session *s);
/* QRESYNC: VANISHED (EARLIER) for the UIDs of `known` (normalized; NULL
 * = all below UIDNEXT) that left the mailbox after `modseq`, and with
 * `fetch` FETCH (UID FLAGS MODSEQ) for those of them changed since
 * (RFC 7162 3.2.5.1, 3.2.6). 0, or -1 with *error_r. */
int imap_view_resync(struct imap_session *s, const struct imap_seqset *known, uint64_t modseq,
		     bool fetch, const char **error_r);
/* Remembers that the client was told about the change with this MODSEQ
 * (one change of one message: its flags and, once CONDSTORE is on, the
 * MODSEQ): the next sync does not report it again. In any order. */
void imap_view_told(struct imap_view *v, uint64_t modseq);
/* Keyword name for a bit, reloading names if unknown (NULL if none). */
const char *imap_view_keyword(struct imap_session *s, unsigned id);

/* Resolves a sequence set (or UID set) argument to the view's UIDs, sorted,
 * unique: 1 with *uids_r (malloc'd) / *n_r, 0 on a bad set (BAD sent), -1
 * error (NO sent). Sequence numbers beyond the mailbox are an error;
 * UIDs that are not there are skipped. "$" is the saved search result. */
int imap_view_resolve(struct imap_session *s, struct imap_cmd *cmd, const char *set, size_t len,
		      bool uid, uint32_t **uids_r, size_t *n_r);
/* Whether a set argument is "$", the saved search result (RFC 5182). */
bool imap_set_is_saved(const char *set, size_t len);
/* Calls cb for each stored message among the sorted UIDs, in batches read
 * from short snapshots; the cb returns 0 to go on. Missing (expunged)
 * messages are counted in *missing_r. Returns 0, the cb's non-zero, or -1
 * with *error_r. */
int imap_view_each(struct imap_session *s, const uint32_t *uids, size_t n,
		   int (*cb)(struct imap_session *s, const struct store_msg *msg, void *ctx),
		   void *ctx, size_t *missing_r, const char **error_r);

/* ---------------------------------------------------------- commands */

imap_cmd_func imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_starttls,
	imap_cmd_compress,
	imap_cmd_authenticate, imap_cmd_login, imap_cmd_id, imap_cmd_enable;
imap_cmd_func imap_cmd_select, imap_cmd_create, imap_cmd_delete, imap_cmd_rename,
	imap_cmd_subscribe, imap_cmd_unsubscribe, imap_cmd_namespace, imap_cmd_status,
	imap_cmd_getquota, imap_cmd_getquotaroot, imap_cmd_setquota;
imap_cmd_func imap_cmd_list, imap_cmd_lsub;
/* The LIST line of the mailbox SELECT opened, as LIST would give it
 * (IMAP4rev2 puts it in the SELECT response). 0, or -1 (store error). */
int imap_list_selected(struct imap_session *s, const struct store_mailbox *mb);
imap_cmd_func imap_cmd_check, imap_cmd_close, imap_cmd_unselect, imap_cmd_expunge,
	imap_cmd_idle;
imap_cmd_func imap_cmd_fetch;
imap_cmd_func imap_cmd_search, imap_cmd_sort, imap_cmd_thread;

/* What a search found: the messages' UIDs, ascending. */
struct imap_search_result {
	uint32_t *uids;       /* malloc'd */
	size_t n;
	bool modseq_used;     /* a MODSEQ key: answers name max_modseq (RFC 7162) */
	uint64_t max_modseq;
};
/* Runs the search keys from `a` (those after RETURN and CHARSET) over the
 * selected mailbox: 1 with *result (free result->uids), 0 when the
 * command has been answered (BAD, NO) or the session ended. */
int imap_search_run(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *a,
		    struct imap_search_result *result);
/* A charset argument of SEARCH, SORT or THREAD: 1 accepted, 0 answered. */
int imap_search_charset(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *a);
/* Lowercases UTF-8 text (invalid bytes kept) into out (room for 2 * len + 1
 * bytes); returns the length. Comparisons of SEARCH and SORT go through it. */
size_t imap_casefold_into(const char *in, size_t len, char *out);
/* The same into a new string (NULL out of memory); *out_len may be NULL. */
char *imap_casefold(const char *in, size_t len, size_t *out_len);
/* Whether a text of the message record (subject, sender) may have been cut
 * to fit: it is cut at a character boundary, up to 3 bytes short. */
#define IMAP_RECORD_CUT(field) (strlen(field) + 4 >= sizeof(field))
/* RFC 5256 2.1's base subject of a decoded subject, case-folded, into a new
 * string (NULL out of memory): what SORT SUBJECT and THREAD compare.
 * *reply_r (may be NULL): whether a reply or forward marker was removed. */
char *imap_base_subject(const char *subject, bool *reply_r);
/* The same of a message: from its record, or from its envelope when the
 * record's copy of the subject may have been cut short. */
char *imap_msg_base_subject(struct imap_session *s, const struct store_msg *msg, bool *reply_r);
imap_cmd_func imap_cmd_store, imap_cmd_copy;
imap_cmd_func imap_cmd_append;

/* APPEND reads its literal itself: the session hands over the parser in
 * the middle of a command. */
int imap_append_run(struct imap_session *s, struct imap_cmd *cmd);
/* Reads the next line of a command in progress into the parser (after a
 * streamed literal): the status, or IMAP_PARSE_ERROR with a reason; -2
 * when the connection is gone. */
int imap_session_continue(struct imap_session *s, const char **error_r);

/* After a refused streamed literal: reads and skips the rest of the
 * command (lines after non-synchronizing literals). 0, or -1 to close. */
int imap_session_skip_rest(struct imap_session *s);

/* Flags: parses a flag list (or one flag) of STORE/APPEND into system flags
 * and keyword names (pointers into the args). 1 ok, 0 invalid (*error_r). */
int imap_flags_parse(const struct imap_arg *arg, uint32_t *flags_r, const char **keywords,
		     size_t *nkeywords_r, const char **error_r);

#endif
