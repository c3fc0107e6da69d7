/* managesieved: RFC 5804 ManageSieve, so that mail clients (Thunderbird's
 * Sieve add-on, Roundcube's managesieve plugin, sieve-connect) manage a
 * user's Sieve scripts (store/sieve_store.h) on port 4190.
 *
 * One session per process: managesieved.c does the start-up,
 * managesieve_session.c holds the command table, the dispatcher (the state
 * and argument checks are made there, once), the reader and the replies,
 * managesieve_auth.c the connection-level commands (CAPABILITY,
 * AUTHENTICATE, STARTTLS, LOGOUT, NOOP, UNAUTHENTICATE),
 * managesieve_proto.c the string/literal argument parser (pure: no I/O),
 * managesieve_cmds.c the script commands. */
#ifndef PB_MANAGESIEVE_H
#define PB_MANAGESIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "sieve.h"
#include "sieve_store.h"
#include "store.h"

/* A command line without its literals: four quoted strings of
 * MS_QUOTED_MAX, every octet escaped, fit with room to spare. */
#define MS_LINE_MAX 10240
/* Octets of one quoted string once unescaped (names are shorter; a SASL
 * response longer than this must come as a literal, as RFC 5804 allows). */
#define MS_QUOTED_MAX 1024
/* Octets of one literal: a script is the longest thing a client sends. */
#define MS_LITERAL_MAX SIEVE_SCRIPT_MAX
/* Arguments after the command name (AUTHENTICATE, PUTSCRIPT and
 * RENAMESCRIPT take two; one more is kept only to say "too many"). */
#define MS_ARGS_MAX 3
/* The longest command name ("UNAUTHENTICATE"). */
#define MS_COMMAND_NAME_MAX 14
/* Unknown, malformed or refused-in-this-state commands before BYE. */
#define MS_BAD_COMMANDS_MAX 20
/* Failed logins in one session before BYE (the store throttles too). */
#define MS_AUTH_FAILURES_MAX 5

/* ------------------------------------------------------------- parser */

enum ms_arg_type {
	MS_ARG_ATOM,   /* a bare word: a command name or a number */
	MS_ARG_STRING, /* quoted or literal */
};

struct ms_arg {
	enum ms_arg_type type;
	char *data;    /* malloc'd, NUL-terminated at len (may hold NULs: use len) */
	size_t len;
	bool literal;  /* came as {n} or {n+} */
};

/* One command (or, with `command` false, one SASL response) being parsed
 * across its lines and literals. */
struct ms_parser {
	bool command;             /* the first token is the command name */
	bool continuing;          /* the next line follows a literal */
	char name[MS_COMMAND_NAME_MAX + 1];
	struct ms_arg args[MS_ARGS_MAX + 1];
	size_t nargs;
	uint64_t literal_len;     /* MS_PARSE_LITERAL / _TOO_BIG: its announced size */
	bool literal_sync;        /* {n} rather than {n+} */
	bool literal_pending;     /* MS_PARSE_ERROR on a line ending in a literal
				   * marker: the client sends it anyway */
	const char *error;        /* MS_PARSE_ERROR: fixed text for the NO */
};

enum ms_parse_status {
	MS_PARSE_ERROR = -1,   /* malformed: p->error */
	MS_PARSE_TOO_BIG = -2, /* a literal over MS_LITERAL_MAX announced (p->literal_len):
				* nothing read; the client will send it, so close */
	MS_PARSE_DONE = 0,     /* the command is complete */
	MS_PARSE_LITERAL = 1,  /* read p->literal_len octets, give them to
				* ms_parser_literal, then the next line to ms_parse_line */
};

/* Starts a command (`command` true: name first) or a SASL response (one
 * string, no name). */
void ms_parser_init(struct ms_parser *p, bool command);
/* One line, without its CRLF (may hold NULs: they are an error). */
enum ms_parse_status ms_parse_line(struct ms_parser *p, const char *line, size_t len);
/* The literal announced by MS_PARSE_LITERAL: takes `data` (malloc'd, len
 * octets + 1 for a NUL, len == p->literal_len). */
void ms_parser_literal(struct ms_parser *p, char *data, size_t len);
/* Wipes (SASL responses carry passwords) and frees the arguments. */
void ms_parser_clear(struct ms_parser *p);

/* A strict decimal number (no sign, at most 10 digits, <= UINT32_MAX): 1
 * and *n_r, or 0. */
int ms_arg_number(const struct ms_arg *arg, uint32_t *n_r);

/* ------------------------------------------------------------ session */

enum ms_state {
	MS_STATE_NONAUTH = 1 << 0,
	MS_STATE_AUTH = 1 << 1,
};

struct tls_creds;

struct ms_session {
	struct conn *conn;
	struct store *store;
	const struct config *config;
	struct tls_creds *tls_creds; /* NULL: no STARTTLS offered */

	enum ms_state state;
	bool busy;                   /* in a command: the watchdog is armed */
	bool logout;                 /* LOGOUT handled: leave the loop */
	unsigned bad_commands;
	unsigned auth_failures;
	struct store_user account;   /* after AUTHENTICATE */
	unsigned puts, gets, deletes; /* for the logout line */
	const char *read_error;      /* what the last failed read said */
};

struct ms_session *ms_session_new(struct conn *conn, struct store *store,
				  const struct config *config, struct tls_creds *tls_creds);
/* Greets and serves commands until LOGOUT, EOF, timeout, too many errors
 * or a stop signal; logs the logout line. 0 after LOGOUT, 1 when the
 * client went away or was sent away, -1 after an I/O error. */
int ms_session_run(struct ms_session *s);
void ms_session_free(struct ms_session **s);

/* Replies: `code` is a response code without its parentheses (NULL none),
 * `text` human text sent as a quoted string or, when it holds CR or LF or
 * is long, a literal (so a compiler message is safe in it). */
void ms_reply(struct ms_session *s, const char *status, const char *code, const char *text);
#define ms_ok(s, code, text) ms_reply((s), "OK", (code), (text))
#define ms_no(s, code, text) ms_reply((s), "NO", (code), (text))
/* A string as ManageSieve writes it: quoted (with \" and \\) when it is
 * short single-line text, else a literal {n}. */
void ms_write_string(struct ms_session *s, const char *str, size_t len);

/* Command handlers get the parsed arguments (their count and types
 * checked by the dispatcher). 0 go on, -1 close. */
typedef int ms_cmd_func(struct ms_session *s, struct ms_parser *p);

/* managesieve_auth.c */
ms_cmd_func ms_cmd_capability, ms_cmd_authenticate, ms_cmd_starttls, ms_cmd_logout,
	ms_cmd_noop, ms_cmd_unauthenticate;
/* managesieve_cmds.c */
ms_cmd_func ms_cmd_havespace, ms_cmd_putscript, ms_cmd_listscripts, ms_cmd_setactive,
	ms_cmd_getscript, ms_cmd_deletescript, ms_cmd_renamescript, ms_cmd_checkscript;

/* ms_read: a literal over MS_LITERAL_MAX was announced (BYE sent). */
#define MS_READ_TOO_BIG (-10)
/* ms_read: malformed (p->error says why; the NO is the caller's). */
#define MS_READ_BAD (-11)
/* Reads one whole command or SASL response into `p` (lines and literals).
 * 1 parsed, MS_READ_BAD, MS_READ_TOO_BIG, or what conn_read_line/conn_read_full said
 * (CONN_LINE_TOO_LONG: go on; EOF, timeout, error: s->read_error). */
int ms_read(struct ms_session *s, struct ms_parser *p);

/* The capability lines (greeting, CAPABILITY, after STARTTLS): what may be
 * used now. */
void ms_capabilities(struct ms_session *s);
/* Whether AUTHENTICATE may be used now: over TLS, from loopback, or when
 * the configuration allows plaintext authentication. */
bool ms_plaintext_allowed(const struct ms_session *s);
/* The logout (or disconnect, before login) log line, pop3d's form. */
void ms_log_logout(struct ms_session *s, const char *why);

#endif
