/* The SMTP command table and dispatcher (STYLE.md lesson 1: the state and
 * argument checks are made here, once; handlers only do their work), the
 * session loop, and the small commands: EHLO, HELO, RSET, NOOP, QUIT, VRFY,
 * EXPN, HELP. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "process.h"
#include "dns.h"
#include "mailauth.h"
#include "smtp.h"
#include "smtp_msg.h"

/* The longest verb ("STARTTLS"): anything longer is unknown unlooked-at. */
#define SMTP_VERB_MAX 8

enum smtp_cmd_flags {
	SMTP_ARGS_NONE = 1 << 0,     /* takes no argument */
	SMTP_ARGS_REQUIRED = 1 << 1, /* needs one */
	SMTP_LONG_LINE = 1 << 2,     /* may use SMTP_AUTH_LINE_MAX (AUTH) */
	SMTP_STORE_WORK = 1 << 3,    /* touches the store: under the watchdog */
	SMTP_JUNK = 1 << 4,          /* does nothing: counted (SMTP_JUNK_COMMANDS_MAX) */
	SMTP_CHUNK = 1 << 5,         /* octets follow the line (BDAT): read them
					whatever the answer, or lose step */
};

struct smtp_command {
	const char *name;
	smtp_cmd_func *handler;
	unsigned states;             /* enum smtp_state bits it is allowed in */
	unsigned flags;              /* enum smtp_cmd_flags */
	const char *syntax;          /* the 501 reply when the argument is missing/extra */
};

#define ANY (SMTP_STATE_INIT | SMTP_STATE_IDLE | SMTP_STATE_MAIL | SMTP_STATE_RCPT | \
	     SMTP_STATE_BDAT)

static const struct smtp_command smtp_commands[] = {
	{ "EHLO", smtp_cmd_ehlo, ANY, SMTP_ARGS_REQUIRED, "501 5.5.4 Syntax: EHLO hostname" },
	{ "HELO", smtp_cmd_helo, ANY, SMTP_ARGS_REQUIRED, "501 5.5.4 Syntax: HELO hostname" },
	{ "MAIL", smtp_cmd_mail, SMTP_STATE_IDLE, SMTP_ARGS_REQUIRED | SMTP_STORE_WORK,
	  "501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "RCPT", smtp_cmd_rcpt, SMTP_STATE_MAIL | SMTP_STATE_RCPT,
	  SMTP_ARGS_REQUIRED | SMTP_STORE_WORK, "501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "DATA", smtp_cmd_data, SMTP_STATE_RCPT, SMTP_ARGS_NONE, "501 5.5.4 Syntax: DATA" },
	/* its argument is checked by smtp_bdat.c: a bad one closes */
	{ "BDAT", smtp_cmd_bdat, SMTP_STATE_RCPT | SMTP_STATE_BDAT, SMTP_CHUNK, NULL },
	{ "RSET", smtp_cmd_rset, ANY, SMTP_ARGS_NONE | SMTP_JUNK, "501 5.5.4 Syntax: RSET" },
	{ "NOOP", smtp_cmd_noop, ANY, SMTP_JUNK, NULL },
	{ "QUIT", smtp_cmd_quit, ANY, SMTP_ARGS_NONE, "501 5.5.4 Syntax: QUIT" },
	{ "VRFY", smtp_cmd_vrfy, ANY, SMTP_ARGS_REQUIRED | SMTP_JUNK,
	  "501 5.5.4 Syntax: VRFY address" },
	{ "EXPN", smtp_cmd_expn, ANY, SMTP_JUNK, NULL },
	{ "HELP", smtp_cmd_help, ANY, SMTP_JUNK, NULL },
	{ "AUTH", smtp_cmd_auth, SMTP_STATE_IDLE, SMTP_ARGS_REQUIRED | SMTP_LONG_LINE,
	  "501 5.5.4 Syntax: AUTH mechanism [initial-response]" },
	{ "STARTTLS", smtp_cmd_starttls, SMTP_STATE_INIT | SMTP_STATE_IDLE, SMTP_ARGS_NONE,
	  "501 5.5.4 Syntax: STARTTLS" },
};

struct smtp_session *smtp_session_new(struct conn *conn, struct store *store,
				      const struct config *config, struct tls_creds *tls_creds,
				      const struct smtp_options *opt)
{
	struct smtp_session *s = calloc(1, sizeof(*s));
	unsigned max = opt->max_recipients;

	if (s == NULL)
		return NULL;
	if (max == 0 || max > SMTP_RECIPIENTS_LIMIT)
		max = SMTP_RECIPIENTS_DEFAULT;
	s->txn.rcpts = calloc(max, sizeof(*s->txn.rcpts));
	s->txn.rcpt_ptrs = calloc(max, sizeof(*s->txn.rcpt_ptrs));
	if (s->txn.rcpts == NULL || s->txn.rcpt_ptrs == NULL) {
		smtp_session_free(&s);
		return NULL;
	}
	s->conn = conn;
	s->store = store;
	s->config = config;
	s->tls_creds = tls_creds;
	s->opt = opt;
	s->max_recipients = max;
	s->state = SMTP_STATE_INIT;
	return s;
}

void smtp_session_free(struct smtp_session **session)
{
	struct smtp_session *s = *session;

	if (s == NULL)
		return;
	smtp_msg_free(&s->txn.msg);
	free(s->txn.rcpts);
	free(s->txn.rcpt_ptrs);
	free(s->txn.rcpt_dsn);
	dns_resolver_free(&s->resolver);
	free(s);
	*session = NULL;
}

struct dns_resolver *smtp_resolver(struct smtp_session *s)
{
	const char *error = NULL;

	if (s->resolver == NULL &&
	    dns_resolver_new(s->config->resolver, MAILAUTH_DNS_TIMEOUT, &s->resolver, &error) < 0) {
		log_error("resolver: %s", error);
		s->resolver = NULL;
	}
	return s->resolver;
}

void smtp_reply(struct smtp_session *s, const char *line)
{
	conn_puts(s->conn, line);
	conn_write(s->conn, "\r\n", 2);
}

/* Counts an error after its reply: -1 (421 sent) when it is one too many. */
int smtp_error_count(struct smtp_session *s)
{
	if (++s->errors < SMTP_ERRORS_MAX)
		return 0;
	conn_printf(s->conn, "421 4.7.0 %s Too many errors, closing connection\r\n",
		    s->config->hostname);
	log_client("too many errors", s->authenticated ? s->user.address : "",
		   conn_peer_ip(s->conn), " errors=%u", s->errors);
	return -1;
}

int smtp_error(struct smtp_session *s, const char *line)
{
	smtp_reply(s, line);
	return smtp_error_count(s);
}

void smtp_txn_reset(struct smtp_session *s)
{
	s->txn.id[0] = '\0';
	s->txn.sender[0] = '\0';
	s->txn.smtputf8 = false;
	s->txn.body_8bit = false;
	s->txn.declared_size = 0;
	if (s->txn.dsn_given) /* only the accepted RCPTs' were written */
		memset(s->txn.rcpt_dsn, 0, s->txn.nrcpts * sizeof(*s->txn.rcpt_dsn));
	s->txn.dsn_given = false;
	s->txn.nrcpts = 0;
	s->txn.looked_up = 0;
	s->txn.ntargets = 0;
	s->txn.remote_rcpt = false;
	s->txn.dsn_ret = STORE_DSN_RET_DEFAULT;
	s->txn.dsn_envid[0] = '\0';
	smtp_msg_free(&s->txn.msg);
	if (s->state != SMTP_STATE_INIT)
		s->state = SMTP_STATE_IDLE;
}

bool smtp_auth_allowed(const struct smtp_session *s)
{
	return conn_is_tls(s->conn) || conn_peer_is_loopback(s->conn) ||
	       s->config->allow_plaintext_auth;
}

void smtp_watchdog(const struct smtp_session *s, bool arm)
{
	if (s->config->watchdog_seconds != 0)
		process_watchdog(arm ? s->config->watchdog_seconds : 0);
}

const char *smtp_read_failed(struct smtp_session *s, int r, const char *error)
{
	if (r == CONN_TIMEOUT) {
		conn_printf(s->conn, "421 4.4.2 %s Timeout exceeded, closing connection\r\n",
			    s->config->hostname);
		return "timeout";
	}
	if (r == CONN_EOF)
		return "disconnected";
	if (strcmp(error, "stopped") == 0)
		conn_printf(s->conn, "421 4.3.2 %s Server shutting down\r\n", s->config->hostname);
	else if (strcmp(error, "line too long") == 0)
		smtp_reply(s, "500 5.5.2 Line too long, closing connection");
	return error;
}

const char *smtp_log_safe(char *buf, size_t size, const char *text)
{
	return log_field(buf, size, text, strlen(text));
}

/* ------------------------------------------------------- small commands */

/* The EHLO/HELO argument: strict (it goes into Received:). 1 greeted,
 * 0 refused (replied), -1 close. */
static int smtp_greet(struct smtp_session *s, char *args, size_t len, bool esmtp)
{
	if (!smtp_helo_valid(args, len))
		return smtp_error(s, "501 5.5.4 Invalid hostname: a domain or an address literal");
	smtp_txn_reset(s);
	memcpy(s->helo, args, len);
	s->helo[len] = '\0';
	s->esmtp = esmtp;
	s->state = SMTP_STATE_IDLE;
	return 1;
}

int smtp_cmd_ehlo(struct smtp_session *s, char *args, size_t len)
{
	const char *lines[12];
	char size_line[48];
	size_t n = 0;

	int r = smtp_greet(s, args, len, true);

	if (r <= 0)
		return r;
	snprintf(size_line, sizeof(size_line), "SIZE %llu",
		 (unsigned long long)s->config->max_message_size);
	lines[n++] = "PIPELINING";
	lines[n++] = size_line;
	lines[n++] = "8BITMIME";
	lines[n++] = "CHUNKING";
	lines[n++] = "ENHANCEDSTATUSCODES";
	lines[n++] = "SMTPUTF8";
	lines[n++] = "DSN";
	if (s->tls_creds != NULL && !conn_is_tls(s->conn))
		lines[n++] = "STARTTLS";
	if (smtp_auth_allowed(s) && !s->authenticated)
		lines[n++] = "AUTH " SASL_MECHANISMS;
	conn_printf(s->conn, "250-%s\r\n", s->config->hostname);
	for (size_t i = 0; i < n; i++)
		conn_printf(s->conn, "250%c%s\r\n", i + 1 < n ? '-' : ' ', lines[i]);
	return 0;
}

int smtp_cmd_helo(struct smtp_session *s, char *args, size_t len)
{
	int r = smtp_greet(s, args, len, false);

	if (r <= 0)
		return r;
	conn_printf(s->conn, "250 %s\r\n", s->config->hostname);
	return 0;
}

int smtp_cmd_rset(struct smtp_session *s, char *args, size_t len)
{
	smtp_txn_reset(s);
	smtp_reply(s, "250 2.0.0 Ok");
	return 0;
}

int smtp_cmd_noop(struct smtp_session *s, char *args, size_t len)
{
	smtp_reply(s, "250 2.0.0 Ok");
	return 0;
}

int smtp_cmd_quit(struct smtp_session *s, char *args, size_t len)
{
	conn_printf(s->conn, "221 2.0.0 %s Bye\r\n", s->config->hostname);
	s->quit = true;
	return 0;
}

/* RFC 5321 §3.5.3: 252 when we will not say; SECURITY.md 9: reveal
 * whether a user exists only where the protocol requires it (RCPT). */
int smtp_cmd_vrfy(struct smtp_session *s, char *args, size_t len)
{
	smtp_reply(s, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
	return 0;
}

int smtp_cmd_expn(struct smtp_session *s, char *args, size_t len)
{
	smtp_reply(s, "502 5.5.1 EXPN not available");
	return 0;
}

int smtp_cmd_help(struct smtp_session *s, char *args, size_t len)
{
	smtp_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY AUTH "
		      "STARTTLS; see RFC 5321");
	return 0;
}

/* ----------------------------------------------------------- dispatcher */

static const struct smtp_command *smtp_command_find(const char *name, size_t len)
{
	if (len == 0 || len > SMTP_VERB_MAX)
		return NULL;
	for (size_t i = 0; i < sizeof(smtp_commands) / sizeof(smtp_commands[0]); i++) {
		if (strlen(smtp_commands[i].name) == len &&
		    strncasecmp(smtp_commands[i].name, name, len) == 0)
			return &smtp_commands[i];
	}
	return NULL;
}

/* The 503 for a command given in the wrong state. */
static const char *smtp_sequence_reply(const struct smtp_session *s,
				       const struct smtp_command *cmd)
{
	if (s->state == SMTP_STATE_INIT)
		return "503 5.5.1 Send EHLO or HELO first";
	/* RFC 3030 §2: DATA after BDAT is 503; the chunks are kept */
	if (s->state == SMTP_STATE_BDAT)
		return "503 5.5.1 BDAT transfer in progress: send BDAT LAST or RSET";
	if (cmd->handler == smtp_cmd_bdat) {
		if (s->state == SMTP_STATE_IDLE)
			return "503 5.5.1 Need MAIL and RCPT before BDAT";
		return s->rejected_rcpts > 0 ? "554 5.5.1 No valid recipients"
					     : "503 5.5.1 Need RCPT before BDAT";
	}
	if (cmd->handler == smtp_cmd_mail)
		return "503 5.5.1 Nested MAIL command";
	if (cmd->handler == smtp_cmd_rcpt)
		return "503 5.5.1 Need MAIL before RCPT";
	if (cmd->handler == smtp_cmd_data) {
		if (s->state == SMTP_STATE_IDLE)
			return "503 5.5.1 Need MAIL and RCPT before DATA";
		/* RFC 2920 §3.1: pipelined RCPTs all refused */
		return s->rejected_rcpts > 0 ? "554 5.5.1 No valid recipients"
					     : "503 5.5.1 Need RCPT before DATA";
	}
	if (cmd->handler == smtp_cmd_auth)
		return "503 5.5.1 AUTH not allowed during a mail transaction";
	return "503 5.5.1 Not allowed during a mail transaction";
}

/* A command line refused as a line: 0 go on, -1 close. A BDAT line
 * closes, as its chunk cannot be found. */
static int smtp_refuse_line(struct smtp_session *s, bool chunk, const char *reply)
{
	if (chunk)
		return smtp_bdat_unframed(s, reply);
	return smtp_error(s, reply);
}

/* One command line: 0 go on, -1 close. */
static int smtp_dispatch(struct smtp_session *s, char *line, size_t len, bool crlf)
{
	const struct smtp_command *cmd;
	size_t verb_len;
	char *args;
	bool chunk;
	int ret;

	verb_len = strcspn(line, " ");
	cmd = smtp_command_find(line, verb_len);
	chunk = cmd != NULL && (cmd->flags & SMTP_CHUNK) != 0;
	if (!crlf)
		return smtp_refuse_line(s, chunk, "500 5.5.2 Syntax error: a line must end with CRLF");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			return smtp_refuse_line(s, chunk,
						"500 5.5.2 Syntax error: control character in command");
	}
	if (cmd == NULL)
		return smtp_error(s, "500 5.5.1 Command unrecognized");
	if (len > SMTP_LINE_MAX && (cmd->flags & SMTP_LONG_LINE) == 0)
		return smtp_refuse_line(s, chunk, "500 5.5.2 Line too long");
	/* the client moved on from a refused BDAT's pipeline */
	if (!chunk)
		s->bdat_refused = NULL;
	args = line + verb_len;
	if (*args == ' ')
		args++;
	/* Trailing spaces are a common client slip, not an argument. */
	while (len > 0 && line[len - 1] == ' ')
		line[--len] = '\0';
	if (args > line + len)
		args = line + len;
	if ((cmd->states & s->state) == 0) {
		if (chunk)
			return smtp_bdat_skip(s, args, (size_t)(line + len - args),
					      smtp_sequence_reply(s, cmd));
		return smtp_error(s, smtp_sequence_reply(s, cmd));
	}
	if (((cmd->flags & SMTP_ARGS_NONE) != 0 && *args != '\0') ||
	    ((cmd->flags & SMTP_ARGS_REQUIRED) != 0 && *args == '\0'))
		return smtp_error(s, cmd->syntax);
	/* The watchdog covers store work, never waiting for the client. */
	if ((cmd->flags & SMTP_STORE_WORK) != 0)
		smtp_watchdog(s, true);
	ret = cmd->handler(s, args, (size_t)(line + len - args));
	if ((cmd->flags & SMTP_STORE_WORK) != 0)
		smtp_watchdog(s, false);
	if (ret == 0 && (cmd->flags & SMTP_JUNK) != 0 &&
	    ++s->junk_commands > SMTP_JUNK_COMMANDS_MAX)
		ret = smtp_error_count(s);
	return ret;
}

static void smtp_log_disconnect(struct smtp_session *s, const char *why)
{
	char user[STORE_ADDRESS_MAX * 4 + 8];

	log_info("disconnect rip=%s reason=%s user=<%s> messages=%u errors=%u in=%llu out=%llu",
		 conn_peer_ip(s->conn), why,
		 s->authenticated ? smtp_log_safe(user, sizeof(user), s->user.address) : "",
		 s->messages, s->errors, (unsigned long long)conn_bytes_in(s->conn),
		 (unsigned long long)conn_bytes_out(s->conn));
}

int smtp_session_run(struct smtp_session *s)
{
	const char *error = NULL;

	conn_printf(s->conn, "220 %s ESMTP Pillarbox\r\n", s->config->hostname);
	while (!s->quit) {
		char *line;
		size_t len;
		bool crlf = false;
		int r = conn_read_line(s->conn, SMTP_AUTH_LINE_MAX, &line, &len, &crlf, &error);

		if (r == CONN_LINE_TOO_LONG) {
			/* A BDAT line is gone unread with its size: its chunk
			 * would be taken for commands (RFC 3030). */
			if (conn_skipped_line_starts(s->conn, "BDAT ")) {
				(void)smtp_bdat_unframed(s, "500 5.5.2 Line too long");
				break;
			}
			if (smtp_error(s, "500 5.5.2 Line too long") < 0)
				break;
			continue;
		}
		if (r == CONN_EOF || r == CONN_TIMEOUT || r == CONN_ERROR) {
			const char *why = smtp_read_failed(s, r, error);

			(void)conn_flush(s->conn, &error);
			if (r == CONN_ERROR && strcmp(why, "stopped") != 0) {
				log_info("connection error rip=%s: %s", conn_peer_ip(s->conn), why);
				smtp_log_disconnect(s, "error");
				return -1;
			}
			smtp_log_disconnect(s, why);
			return 1;
		}
		if (smtp_dispatch(s, line, len, crlf) < 0)
			break;
		if (conn_output_failed(s->conn))
			break;
	}
	if (conn_flush(s->conn, &error) < 0) {
		log_info("write error rip=%s: %s", conn_peer_ip(s->conn), error);
		smtp_log_disconnect(s, "disconnected");
		return 1;
	}
	smtp_log_disconnect(s, s->quit ? "quit" : "closed");
	return s->quit ? 0 : 1;
}
