/* The relay's SMTP client (RFC 5321): EHLO (HELO as a fallback), STARTTLS
 * by policy, AUTH PLAIN/LOGIN to a smarthost, PIPELINING (RFC 2920), SIZE
 * (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN (RFC 3461: the
 * sender's RET, ENVID, NOTIFY and ORCPT passed on), per-recipient
 * results. Every reply is read under a hard deadline (relay_net.c) as well
 * as conn.h's idle timeout, with its line length and line count capped.
 *
 * The pure parts (reply parser, EHLO keywords, DATA encoder) are exposed
 * for the unit tests. */
#ifndef PB_RELAY_SMTP_H
#define PB_RELAY_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay.h"

/* A reply line: RFC 5321 4.5.3.1.5 says 512 octets; four times that is
 * lenient with verbose servers, and anything longer is refused. */
#define RELAY_REPLY_LINE_MAX 2048
/* Lines in one (multiline) reply: EHLO answers have ~15; a peer that never
 * ends a reply is cut here. */
#define RELAY_REPLY_LINES_MAX 100

/* ---------------------------------------------------------- reply parser */

struct relay_reply {
	int code;                        /* 0 until the first line */
	char status[16];                 /* RFC 3463 "x.y.z" of the first line, or "" */
	char text[OUTQ_REPLY_MAX + 1];   /* every line joined by spaces, control bytes
					    replaced; truncated */
	unsigned lines;
};

void relay_reply_init(struct relay_reply *reply);
/* Feeds one line without its line end. 0: more lines follow, 1: the reply
 * is complete, -1: malformed (not "NNN" + ' ' or '-', code changed between
 * lines, or more than RELAY_REPLY_LINES_MAX lines). */
int relay_reply_feed(struct relay_reply *reply, const char *line, size_t len);

/* ------------------------------------------------------------------ EHLO */

struct relay_ehlo {
	bool pipelining, size, eightbitmime, smtputf8, starttls, enhanced, dsn;
	bool auth_plain, auth_login;
	uint64_t size_max;               /* 0: no limit announced */
};

/* One line of an EHLO reply after the code and separator ("SIZE 1000",
 * "AUTH PLAIN LOGIN", "AUTH=LOGIN"): sets what it announces. */
void relay_ehlo_line(struct relay_ehlo *ehlo, const char *line, size_t len);

/* ----------------------------------------------------------- DATA encoder */

/* Octets of a line as sent, without CRLF (RFC 5321 4.5.3.1.6, RFC 5322
 * 2.1.1). smtpd takes longer lines, and many servers refuse them. */
#define RELAY_LINE_MAX 998

struct relay_dot {
	size_t col;  /* octets sent on the current line (0: at its start) */
	bool cr;     /* a CR was seen, its LF not yet */
	bool stuff;  /* double a leading dot (relay_dot_init); false: the same
			bytes as the server reads them, for DKIM signing */
};

void relay_dot_init(struct relay_dot *dot);
/* Encodes len bytes for DATA: every line end becomes CRLF (a bare CR or
 * LF too: RFC 5321 4.1.1.4 forbids them), a '.' that starts a line is
 * doubled (4.5.2), and a line longer than RELAY_LINE_MAX octets is broken
 * by CRLF and one space (as Postfix's smtp_line_length_limit), so the
 * continuation never starts with a dot. `out` needs room for 2 * len + 2
 * bytes. Returns the bytes written. */
size_t relay_dot_encode(struct relay_dot *dot, const char *in, size_t len, char *out);
/* Ends the data: CRLF if the message did not end with a line end, then
 * ".\r\n". At most 5 bytes. */
size_t relay_dot_finish(struct relay_dot *dot, char *out);

/* --------------------------------------------------------------- session */

enum relay_outcome {
	RELAY_OUTCOME_TEMP = 0,   /* 4xx or no answer: retry later */
	RELAY_OUTCOME_SENT = 1,   /* accepted */
	RELAY_OUTCOME_PERM = 2,   /* 5xx: bounce */
};

struct relay_result {
	enum relay_outcome outcome;
	char reply[OUTQ_REPLY_MAX + 1];  /* the reply, or what went wrong */
	char status[16];                 /* RFC 3463, "" if none was given */
	bool unsuited;                   /* PERM because this server lacks what the
					    message needs (SMTPUTF8, 8BITMIME,
					    SIZE): another MX may take it */
	bool reported;                   /* the server offers DSN and was given the
					    sender's request: it reports further */
};

struct relay_message {
	const char *sender;              /* "" = null sender */
	int fd;                          /* the body, read with pread */
	uint64_t size;
	bool eightbit;                   /* bytes >= 0x80 in the body */
	bool smtputf8;                   /* non-ASCII addresses or header */
	const char *dkim;                /* a DKIM-Signature field sent before the
					    message (CRLF-terminated), or NULL */
	size_t dkim_len;                 /* counted in size too */
	/* RFC 3461, passed on to a server that offers DSN: the message's RET
	 * and ENVID (NULL/"" none) and each recipient's NOTIFY and ORCPT
	 * (rcpt_dsn[i] for rcpts[i] of the session; NULL: none). */
	enum store_dsn_ret dsn_ret;
	const char *dsn_envid;
	const struct store_dsn_rcpt *rcpt_dsn;
};

struct relay_target {
	const char *host;                /* name for SNI/verification and logs */
	const struct dns_addr *addr;
	enum relay_tls_policy tls;
	bool auth;                       /* AUTH with the relayhost credentials */
};

enum relay_session_status {
	RELAY_SESSION_RETRY = 0,       /* nothing learned about the recipients: try
					  the next address (error says why) */
	RELAY_SESSION_DONE = 1,        /* every result is this attempt's outcome
					  (every one `unsuited` when the server
					  cannot take this message) */
	RELAY_SESSION_TLS_FAILED = 2,  /* the handshake failed under "may": the
					  caller may try again without STARTTLS */
	RELAY_SESSION_TEMP = 3,        /* every result is temporary (a 421, 4xx to
					  MAIL, to each RCPT or to the data, or the
					  connection lost): this attempt's outcome,
					  but the next MX may do better (RFC 5321
					  5.1) */
};

/* One SMTP session to one address for `n` recipients (all of one domain).
 * `no_starttls` skips STARTTLS (the retry after RELAY_SESSION_TLS_FAILED).
 * mta_r receives "host [address]" for the results. On RETRY/TLS_FAILED the
 * results are untouched and error (size errsize) says what happened. */
int relay_smtp_session(struct relay *relay, const struct relay_target *target,
		       const struct relay_message *msg, const char *const *rcpts, size_t n,
		       bool no_starttls, struct relay_result *results, char *mta_r,
		       size_t mta_size, char *error, size_t errsize);

struct conn;
/* The conversation of relay_smtp_session over a connection made already
 * (the fuzzer's: the server's side from a file): greeting, EHLO, STARTTLS,
 * AUTH, the transaction, QUIT. `mta` names the server in the results. */
int relay_smtp_converse(struct relay *relay, const struct relay_target *t,
			const struct relay_message *m, const char *const *rcpts, size_t n,
			bool no_starttls, struct conn *conn, struct relay_result *results,
			const char *mta, char *error, size_t errsize);

#endif
