/* pop3d: RFC 1939 POP3 with RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH.
 *
 * One session per process: pop3d.c does the start-up, pop3_session.c holds
 * the command table and the dispatcher (the state check is made there,
 * once), pop3_auth.c the AUTHORIZATION commands, pop3_maildrop.c the lock,
 * the message snapshot and the UPDATE state, pop3_cmds.c the TRANSACTION
 * commands, pop3_retr.c the streamed RETR/TOP with dot-stuffing. */
#ifndef PB_POP3_H
#define PB_POP3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "store.h"

/* RFC 2449: a command line is at most 255 octets with its CRLF; we accept
 * a little more (clients with long addresses in USER) and answer longer
 * ones "-ERR Line too long". SASL responses have their own, longer cap
 * (SASL_RESPONSE_MAX), so the connection is made for that. */
#define POP3_LINE_MAX 1024
/* Commands that are unknown, malformed or too long before we hang up: a
 * real client never needs many; a scanner does. */
#define POP3_BAD_COMMANDS_MAX 20
/* Failed logins in one session before we hang up (the store's throttling
 * delays each one further; this only saves a process slot). */
#define POP3_AUTH_FAILURES_MAX 5
/* Messages shown in one session, oldest first (16 bytes each in memory):
 * a maildrop past this is served in parts, one session at a time. */
#define POP3_MAILDROP_MAX 200000
/* Pipelined commands starting within this long of the watchdog being set
 * run under that alarm instead of setting it again (pop3_session.c). */
#define POP3_WATCHDOG_REARM_MS 1000
/* Bytes read from the store per chunk of RETR/TOP (memory stays flat). */
#define POP3_RETR_CHUNK 65536

enum pop3_state {
	POP3_STATE_AUTHORIZATION = 1 << 0,
	POP3_STATE_TRANSACTION = 1 << 1,
};

struct pop3_msg {
	uint32_t uid;
	bool deleted;
	bool retrieved;              /* sent whole by RETR: \Seen at QUIT */
	uint64_t size;               /* octets RETR sends (store_msg.size_crlf) */
};

struct tls_creds;

struct pop3_session {
	struct conn *conn;
	struct store *store;
	const struct config *config;
	struct tls_creds *tls_creds; /* NULL: no STLS offered */

	enum pop3_state state;
	bool busy;                   /* in a command: the store watchdog is armed */
	bool watchdog_armed;         /* the alarm is set (pop3_session.c) */
	int64_t watchdog_armed_ms;   /* when it was set, CLOCK_MONOTONIC */
	bool quit;                   /* QUIT handled: leave the loop */
	unsigned bad_commands;
	unsigned auth_failures;
	char user[STORE_ADDRESS_MAX + 1]; /* from USER, waiting for PASS */

	/* TRANSACTION state: */
	struct store_user account;
	uint32_t mailbox_id;
	uint32_t uidvalidity;
	int lock_fd;
	struct pop3_msg *msgs;
	uint32_t nmsgs, msgs_alloc;
	uint32_t ndeleted;
	uint64_t deleted_bytes, total_bytes;
	uint32_t retrieved;          /* RETR count, for the logout line */
	uint64_t retrieved_bytes;
	uint32_t expunged;           /* removed at QUIT */
	char *retr_buf;              /* POP3_RETR_CHUNK bytes, made by the first RETR */
};

/* ---------------------------------------------------------- session core */

/* A session over an established connection (TLS already started for
 * implicit TLS). Nothing is owned but the session itself. */
struct pop3_session *pop3_session_new(struct conn *conn, struct store *store,
				      const struct config *config, struct tls_creds *tls_creds);
/* Greets and serves commands until QUIT, EOF, timeout, too many errors or
 * a stop signal; logs the logout line. Returns 0 after QUIT, 1 when the
 * client went away or was sent away, -1 after an I/O or store error. */
int pop3_session_run(struct pop3_session *session);
/* Releases the maildrop lock (nothing is expunged) and frees. */
void pop3_session_free(struct pop3_session **session);

/* Replies. The text is fixed by the caller: never client data. */
void pop3_ok(struct pop3_session *session, const char *text);
void pop3_err(struct pop3_session *session, const char *text);

/* Command handlers: `args` is the rest of the line after one space ("" if
 * none), writable (PASS wipes it). Return 0 to go on, -1 to close. */
typedef int pop3_cmd_func(struct pop3_session *session, char *args);

/* pop3_auth.c */
pop3_cmd_func pop3_cmd_capa, pop3_cmd_user, pop3_cmd_pass, pop3_cmd_auth, pop3_cmd_stls;
/* pop3_cmds.c */
pop3_cmd_func pop3_cmd_stat, pop3_cmd_list, pop3_cmd_uidl, pop3_cmd_dele, pop3_cmd_noop,
	pop3_cmd_rset, pop3_cmd_quit;
/* pop3_retr.c */
pop3_cmd_func pop3_cmd_retr, pop3_cmd_top;

/* Whether USER/PASS and AUTH may be used now: over TLS, from loopback, or
 * when the configuration allows plaintext authentication. */
bool pop3_plaintext_allowed(const struct pop3_session *session);

/* Parses a message number argument (strict decimal, no sign, no leading
 * garbage) and checks it: 1 with *index_r (0-based), or 0 after sending
 * the -ERR ("Invalid message number", "No such message", "Message already
 * deleted"). `rest_r`, when not NULL, receives what follows one space. */
int pop3_msg_arg(struct pop3_session *session, char *args, uint32_t *index_r, char **rest_r);

/* --------------------------------------------------------------- maildrop */

/* After a successful login: finds INBOX, takes the exclusive maildrop lock
 * (flock on <store>/notify/pop3-<mailbox id>.lock: released by the kernel
 * if the process dies, never a store transaction held across client I/O),
 * snapshots the messages. 1 ready, 0 locked by another session ([IN-USE]
 * sent), -1 store error ([SYS/TEMP] sent). */
int pop3_maildrop_open(struct pop3_session *session, const struct store_user *user);
/* UPDATE: expunges the messages marked deleted in one durable store call.
 * 0 done, -1 failed (nothing or not all removed). */
int pop3_maildrop_update(struct pop3_session *session, const char **error_r);
/* Releases the lock and the snapshot. */
void pop3_maildrop_close(struct pop3_session *session);

/* ------------------------------------------------------------- streaming */

/* The RETR/TOP encoder, a pure function over chunks of the stored
 * message: bare LF becomes CRLF, a '.' starting a line is doubled, and in
 * TOP mode (max_body_lines >= 0) the output stops after the header, the
 * blank line and that many body lines. */
struct pop3_encoder {
	bool at_bol;          /* the next byte starts a line */
	bool last_cr;         /* the previous byte was CR */
	bool in_body;         /* past the blank line ending the header */
	bool done;            /* TOP limit reached: ignore the rest */
	uint64_t line_bytes;  /* bytes of the current line so far */
	int64_t lines_left;   /* TOP: body lines still to send; -1 = all */
	uint64_t octets;      /* message octets produced (without stuffing; with
				 the line end finish adds to a last line) */
};
void pop3_encoder_init(struct pop3_encoder *enc, int64_t max_body_lines);
/* Encodes in[0..len) into out (room for 2 * len + 2 bytes), returning the
 * bytes written. Once enc->done, nothing more is written. */
size_t pop3_encoder_run(struct pop3_encoder *enc, const char *in, size_t len, char *out);
/* The fast path of RETR (max_body_lines < 0): the length of the longest
 * prefix of in[0..len) that goes out unchanged (CRLF-ended lines not
 * starting with '.'), with the state and octets updated as
 * pop3_encoder_run would. The caller sends those bytes as they are, then
 * runs pop3_encoder_run on the one byte that stopped the scan. Always 0 in
 * TOP mode. */
size_t pop3_encoder_pass(struct pop3_encoder *enc, const char *in, size_t len);
/* The end of the message: CRLF if the last line was not ended (counted in
 * octets: the client keeps it), then the ".\r\n" terminator; returns bytes
 * written (at most 5). */
size_t pop3_encoder_finish(struct pop3_encoder *enc, char *out);

#endif
