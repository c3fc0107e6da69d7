/* smtpd: RFC 5321 SMTP in two modes, MX (port 25) and submission (587, and
 * 465 with implicit TLS, RFC 6409 / RFC 8314), with PIPELINING (RFC 2920),
 * SIZE (RFC 1870), 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034 /
 * 3463), STARTTLS (RFC 3207), AUTH PLAIN LOGIN (RFC 4954), SMTPUTF8
 * (RFC 6531), DSN (RFC 3461), CHUNKING (RFC 3030's BDAT; not BINARYMIME).
 *
 * One session per process: smtpd.c does the start-up; smtp_session.c holds
 * the command table and the dispatcher (state checks made there, once) and
 * the small commands; smtp_auth.c AUTH and STARTTLS; smtp_envelope.c MAIL
 * and RCPT (who may send, who may receive); smtp_deliver.c the message
 * sink (smtp_msg.h: the message streamed into a body file, then one
 * store_deliver, and the relay kick) and DATA; smtp_bdat.c BDAT, which
 * feeds the same sink. The pure parsers live in smtp_addr.c (paths, parameters),
 * smtp_data.c (the DATA byte stream) and smtp_header.c (header lines). */
#ifndef PB_SMTP_H
#define PB_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "sasl.h"
#include "smtp_addr.h"
#include "store.h"

/* RFC 5321 §4.5.3.1.4 allows 512 octets for a command line and lets
 * extensions add to it (SIZE, BODY, SMTPUTF8, AUTH= adds 500 by RFC 4954
 * §5): 2048 is ample. AUTH with an initial response may be longer: it gets
 * the SASL response cap. */
#define SMTP_LINE_MAX 2048
#define SMTP_AUTH_LINE_MAX (SASL_RESPONSE_MAX + 16)
/* Lines of message data: RFC 5321 §4.5.3.1.6 says 1000 octets, real mail
 * breaks that (HTML generators). A data line past this refuses the message
 * (554 5.6.0); past conn's flood limit (1 MB) the connection is dropped. */
#define SMTP_DATA_LINE_MAX CONN_LINE_MAX_LIMIT
/* RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for a command;
 * §4.5.3.2.5/6 give the client 3 minutes per data block. One idle timeout
 * of 5 minutes covers both (or the configured idle_timeout if shorter). */
#define SMTP_TIMEOUT 300
/* Default recipients per message (RFC 5321 §4.5.3.1.8 requires at least
 * 100 to be accepted); more get "452 4.5.3" and the client sends them in
 * another transaction. */
#define SMTP_RECIPIENTS_DEFAULT 100
#define SMTP_RECIPIENTS_LIMIT 1000
/* Errors (syntax, sequence, unknown commands or users, relay attempts,
 * failed logins) before the session is closed with 421 (Postfix's
 * smtpd_hard_error_limit): a real client makes few; a scanner many. */
#define SMTP_ERRORS_MAX 20
/* Commands that do nothing (NOOP, RSET, VRFY, EXPN, HELP) between two
 * messages accepted (Postfix's smtpd_junk_command_limit): past this each
 * counts as an error, so a client that only holds the session open is sent
 * away; a client that sends RSET before each message never gets near. */
#define SMTP_JUNK_COMMANDS_MAX 100
/* Failed AUTH attempts before hanging up (the store throttles too). */
#define SMTP_AUTH_FAILURES_MAX 5
/* Length of a transaction id in hex (logs, Received id, Message-ID). */
#define SMTP_ID_HEX 16

enum smtp_mode {
	SMTP_MODE_MX,
	SMTP_MODE_SUBMISSION,
};

/* What the start-up decides for the whole session. */
struct smtp_options {
	enum smtp_mode mode;
	bool quota_tempfail;        /* over quota: 452 4.2.2 instead of 552 5.2.2 */
	const char *relay_program;  /* started after queueing remote mail; NULL = never */
	unsigned max_recipients;    /* per message, <= SMTP_RECIPIENTS_LIMIT */
};

/* Session states: exactly one bit is set; the command table lists the
 * states in which each command is allowed. */
enum smtp_state {
	SMTP_STATE_INIT = 1 << 0, /* before EHLO/HELO */
	SMTP_STATE_IDLE = 1 << 1, /* greeted, no transaction */
	SMTP_STATE_MAIL = 1 << 2, /* MAIL accepted, no recipient yet */
	SMTP_STATE_RCPT = 1 << 3, /* at least one recipient accepted */
	SMTP_STATE_BDAT = 1 << 4, /* BDAT chunks taken, LAST not yet */
};

struct smtp_msg;

/* One mail transaction (MAIL .. DATA or RSET). */
struct smtp_txn {
	char id[SMTP_ID_HEX + 1];
	char sender[STORE_ADDRESS_MAX + 1];  /* "" for <> */
	bool smtputf8;
	bool body_8bit;
	uint64_t declared_size;              /* SIZE=, 0 if none */
	char (*rcpts)[STORE_ADDRESS_MAX + 1]; /* max_recipients of them */
	const char **rcpt_ptrs;              /* rcpts[i], for store_delivery */
	size_t nrcpts;
	size_t looked_up;                    /* RCPTs that cost a lookup and did not
						count as errors: the recipient limit */
	size_t ntargets;                     /* after alias expansion, duplicates counted */
	bool remote_rcpt;                    /* one recipient is not local */
	enum store_dsn_ret dsn_ret;          /* RFC 3461 RET= */
	char dsn_envid[STORE_DSN_ENVID_MAX + 1]; /* RFC 3461 ENVID=, "" none */
	/* RFC 3461 NOTIFY and ORCPT of rcpts[i]: made (max_recipients of
	 * them, zeroed) at the first RCPT that gives one, kept for the
	 * session; dsn_given says this transaction's are in use. */
	struct smtp_rcpt_dsn *rcpt_dsn;
	bool dsn_given;
	struct smtp_msg *msg;                /* BDAT: the message the chunks go into */
};

struct tls_creds;

struct smtp_session {
	struct conn *conn;
	struct store *store;
	const struct config *config;
	struct tls_creds *tls_creds;         /* NULL: no STARTTLS offered */
	const struct smtp_options *opt;
	unsigned max_recipients;             /* opt's, checked */

	enum smtp_state state;
	bool esmtp;                          /* EHLO (not HELO) */
	bool quit;                           /* leave the loop */
	unsigned errors;
	unsigned junk_commands;              /* since the last message accepted */
	unsigned auth_failures;
	char helo[SMTP_DOMAIN_MAX + 1];      /* validated by smtp_helo_valid */
	bool authenticated;
	struct store_user user;              /* when authenticated */
	struct smtp_txn txn;

	unsigned messages;                   /* accepted in this session */
	unsigned rejected_rcpts;
	struct dns_resolver *resolver;       /* the sender checks', made at first use */
	bool dnsbl_checked;                  /* looked up (at the first RCPT) */
	char dnsbl_reply[320];               /* listed: the 554 for each RCPT; else "" */
	/* A BDAT chunk was refused: the transaction is over, and this reply
	 * (a fixed text) answers the BDATs the client had already pipelined
	 * after it (RFC 3030 §2: read and discarded), until another command. */
	const char *bdat_refused;
};

/* ---------------------------------------------------------- session core */

/* The DNS resolver of the MX's checks (sender checks, blocklists), made
 * at first use and kept for the session; NULL when it cannot be made
 * (logged): the checks then answer temperror. */
struct dns_resolver *smtp_resolver(struct smtp_session *s);

/* A session over an established connection (TLS already up for implicit
 * TLS). Returns NULL on memory failure. Owns nothing but itself. */
struct smtp_session *smtp_session_new(struct conn *conn, struct store *store,
				      const struct config *config, struct tls_creds *tls_creds,
				      const struct smtp_options *opt);
/* Greets and serves commands until QUIT, EOF, timeout, too many errors or
 * a stop signal. Returns 0 after QUIT, 1 when the client went away or was
 * sent away, -1 after an I/O error. */
int smtp_session_run(struct smtp_session *session);
void smtp_session_free(struct smtp_session **session);

/* One reply line: "CODE X.Y.Z text" (the caller's fixed text, never client
 * data), CRLF added. Buffered: conn flushes before it waits for input. */
void smtp_reply(struct smtp_session *session, const char *line);
/* Counts an error (the reply already given); when it is one too many,
 * replies 421 and returns -1 (close); else 0. */
int smtp_error_count(struct smtp_session *session);
/* Counts an error and replies; when it is one too many, replies 421
 * instead and returns -1 (close); else 0. */
int smtp_error(struct smtp_session *session, const char *line);
/* Forgets the transaction (RSET, EHLO, after DATA or BDAT LAST), and the
 * chunks BDAT took. */
void smtp_txn_reset(struct smtp_session *session);
/* Whether AUTH may be used now: over TLS, from loopback, or when the
 * configuration allows plaintext authentication. */
bool smtp_auth_allowed(const struct smtp_session *session);
/* Arms (or disarms) the store watchdog around store work, never while
 * waiting for the client; nothing at all when watchdog_seconds is 0 (so a
 * fuzzer's own alarm is left alone). */
void smtp_watchdog(const struct smtp_session *session, bool arm);
/* A read from the client failed (r: CONN_EOF, CONN_TIMEOUT, CONN_ERROR
 * with its error): writes the 421 (or 500) owed to a client that is still
 * there; returns the reason for the log. The session closes after it. */
const char *smtp_read_failed(struct smtp_session *session, int r, const char *error);
/* A client's value for a log field (from=<...>): escaped with log_field. */
const char *smtp_log_safe(char *buf, size_t size, const char *text);

/* Command handlers: `args` is the rest of the line after the verb and one
 * space ("" if none), NUL-terminated, writable (AUTH wipes it). They reply
 * themselves. Return 0 to go on, -1 to close the session. */
typedef int smtp_cmd_func(struct smtp_session *session, char *args, size_t len);

/* smtp_session.c */
smtp_cmd_func smtp_cmd_ehlo, smtp_cmd_helo, smtp_cmd_rset, smtp_cmd_noop, smtp_cmd_quit,
	smtp_cmd_vrfy, smtp_cmd_expn, smtp_cmd_help;
/* smtp_auth.c */
smtp_cmd_func smtp_cmd_auth, smtp_cmd_starttls;
/* smtp_envelope.c */
smtp_cmd_func smtp_cmd_mail, smtp_cmd_rcpt;
/* smtp_deliver.c */
smtp_cmd_func smtp_cmd_data;
/* smtp_bdat.c */
smtp_cmd_func smtp_cmd_bdat;
/* BDAT refused by the dispatcher (state): its chunk is read away so the
 * session stays in step, then `reply` is sent (counted as an error). 0 go
 * on, -1 close. */
int smtp_bdat_skip(struct smtp_session *session, const char *args, size_t len,
		   const char *reply);
/* A BDAT line refused before its size could be trusted (no CRLF, a
 * control character, too long, a bad size): the octets that follow cannot
 * be told from commands, so `reply`, then 421 and the session closes.
 * Returns -1. */
int smtp_bdat_unframed(struct smtp_session *session, const char *reply);

/* The relay is started after queueing by relay_kick() (store/program_kick.h). */

#endif
