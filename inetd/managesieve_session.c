/* The ManageSieve command table, dispatcher, reader and replies: the state
 * and argument checks are made here, once; handlers only do their work
 * (STYLE.md lesson 1). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "managesieve.h"
#include "password.h"
#include "process.h"

struct ms_command {
	const char *name;
	ms_cmd_func *handler;
	unsigned states;  /* enum ms_state bits it is allowed in */
	const char *args; /* one letter an argument: S string, N number */
	size_t min_args;
};

#define NONAUTH MS_STATE_NONAUTH
#define AUTH MS_STATE_AUTH

static const struct ms_command ms_commands[] = {
	{ "CAPABILITY", ms_cmd_capability, NONAUTH | AUTH, "", 0 },
	{ "AUTHENTICATE", ms_cmd_authenticate, NONAUTH, "SS", 1 },
	{ "STARTTLS", ms_cmd_starttls, NONAUTH, "", 0 },
	{ "LOGOUT", ms_cmd_logout, NONAUTH | AUTH, "", 0 },
	{ "NOOP", ms_cmd_noop, NONAUTH | AUTH, "S", 0 },
	{ "UNAUTHENTICATE", ms_cmd_unauthenticate, AUTH, "", 0 },
	{ "HAVESPACE", ms_cmd_havespace, AUTH, "SN", 2 },
	{ "PUTSCRIPT", ms_cmd_putscript, AUTH, "SS", 2 },
	{ "LISTSCRIPTS", ms_cmd_listscripts, AUTH, "", 0 },
	{ "SETACTIVE", ms_cmd_setactive, AUTH, "S", 1 },
	{ "GETSCRIPT", ms_cmd_getscript, AUTH, "S", 1 },
	{ "DELETESCRIPT", ms_cmd_deletescript, AUTH, "S", 1 },
	{ "RENAMESCRIPT", ms_cmd_renamescript, AUTH, "SS", 2 },
	{ "CHECKSCRIPT", ms_cmd_checkscript, AUTH, "S", 1 },
};

/* conn's wait hook: the watchdog guards store work, never the client. */
static void ms_wait_hook(bool waiting, void *ctx)
{
	struct ms_session *s = ctx;

	if (waiting)
		process_watchdog(0);
	else if (s->busy)
		process_watchdog(s->config->watchdog_seconds);
}

struct ms_session *ms_session_new(struct conn *conn, struct store *store,
				  const struct config *config, struct tls_creds *tls_creds)
{
	struct ms_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->conn = conn;
	s->store = store;
	s->config = config;
	s->tls_creds = tls_creds;
	s->state = MS_STATE_NONAUTH;
	conn_set_wait_hook(conn, ms_wait_hook, s);
	return s;
}

void ms_session_free(struct ms_session **s)
{
	if (*s == NULL)
		return;
	conn_set_wait_hook((*s)->conn, NULL, NULL);
	free(*s);
	*s = NULL;
}

void ms_write_string(struct ms_session *s, const char *str, size_t len)
{
	if (len > MS_QUOTED_MAX || memchr(str, '\r', len) != NULL ||
	    memchr(str, '\n', len) != NULL || memchr(str, '\0', len) != NULL) {
		conn_printf(s->conn, "{%zu}\r\n", len);
		conn_write(s->conn, str, len);
		return;
	}
	conn_write(s->conn, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (str[i] == '"' || str[i] == '\\')
			conn_write(s->conn, "\\", 1);
		conn_write(s->conn, &str[i], 1);
	}
	conn_write(s->conn, "\"", 1);
}

void ms_reply(struct ms_session *s, const char *status, const char *code, const char *text)
{
	conn_puts(s->conn, status);
	if (code != NULL)
		conn_printf(s->conn, " (%s)", code);
	if (text != NULL) {
		conn_write(s->conn, " ", 1);
		ms_write_string(s, text, strlen(text));
	}
	conn_write(s->conn, "\r\n", 2);
}

int ms_read(struct ms_session *s, struct ms_parser *p)
{
	for (;;) {
		const char *error = NULL;
		char *line, *data;
		size_t len;
		bool crlf;
		int r = conn_read_line(s->conn, MS_LINE_MAX, &line, &len, &crlf, &error);

		if (r != CONN_OK) {
			s->read_error = error;
			return r;
		}
		if (!crlf) {
			/* SECURITY.md 1: only CRLF ends a line. */
			p->error = "Lines end with CRLF";
			p->literal_pending = false;
			return MS_READ_BAD;
		}
		enum ms_parse_status st = ms_parse_line(p, line, len);

		/* Copied by the parser; SASL data is gone from the buffer. */
		password_wipe(line, len);
		switch (st) {
		case MS_PARSE_DONE:
			return 1;
		case MS_PARSE_ERROR:
			return MS_READ_BAD;
		case MS_PARSE_TOO_BIG:
			/* Refused before a byte of it is read; the client sends
			 * it anyway (no continuation to wait for), so we go. */
			if (strcmp(p->name, "PUTSCRIPT") == 0 || strcmp(p->name, "CHECKSCRIPT") == 0)
				ms_reply(s, "BYE", "QUOTA/MAXSIZE",
					 "Script too big (at most 65536 octets), closing connection");
			else
				ms_reply(s, "BYE", NULL, "Literal too big, closing connection");
			return MS_READ_TOO_BIG;
		case MS_PARSE_LITERAL:
			break;
		}
		data = malloc((size_t)p->literal_len + 1);
		if (data == NULL) {
			ms_reply(s, "BYE", "TRYLATER", "Out of memory");
			return MS_READ_TOO_BIG;
		}
		r = conn_read_full(s->conn, data, (size_t)p->literal_len, &error);
		if (r != CONN_OK) {
			password_wipe(data, (size_t)p->literal_len);
			free(data);
			s->read_error = error;
			return r;
		}
		data[p->literal_len] = '\0';
		ms_parser_literal(p, data, (size_t)p->literal_len);
	}
}

/* Counts a bad command; -1 when it is one too many (BYE sent). */
static int ms_bad_command(struct ms_session *s, const char *reply)
{
	if (++s->bad_commands < MS_BAD_COMMANDS_MAX) {
		ms_no(s, NULL, reply);
		return 0;
	}
	ms_reply(s, "BYE", NULL, "Too many bad commands, closing connection");
	log_client("too many bad commands", s->account.address, conn_peer_ip(s->conn), " bad=%u",
		   s->bad_commands);
	return -1;
}

static const char *ms_check_args(const struct ms_command *cmd, const struct ms_parser *p)
{
	size_t max = strlen(cmd->args);
	uint32_t n;

	if (p->nargs < cmd->min_args)
		return "Missing argument";
	if (p->nargs > max)
		return "Too many arguments";
	for (size_t i = 0; i < p->nargs; i++) {
		if (cmd->args[i] == 'S' && p->args[i].type != MS_ARG_STRING)
			return "Strings must be quoted or literals";
		if (cmd->args[i] == 'N' && !ms_arg_number(&p->args[i], &n))
			return "Bad number";
	}
	return NULL;
}

static int ms_dispatch(struct ms_session *s, struct ms_parser *p)
{
	const struct ms_command *cmd = NULL;
	const char *error;
	int ret;

	for (size_t i = 0; i < sizeof(ms_commands) / sizeof(ms_commands[0]); i++) {
		if (strcmp(ms_commands[i].name, p->name) == 0)
			cmd = &ms_commands[i];
	}
	if (cmd == NULL)
		return ms_bad_command(s, "Unknown command");
	if ((cmd->states & s->state) == 0)
		return ms_bad_command(s, s->state == MS_STATE_NONAUTH
						 ? "Authenticate first"
						 : "Already authenticated");
	if ((error = ms_check_args(cmd, p)) != NULL)
		return ms_bad_command(s, error);
	s->busy = true;
	process_watchdog(s->config->watchdog_seconds);
	ret = cmd->handler(s, p);
	s->busy = false;
	process_watchdog(0);
	return ret;
}

void ms_log_logout(struct ms_session *s, const char *why)
{
	if (s->state == MS_STATE_AUTH)
		log_info("logout user=<%s> rip=%s reason=%s put=%u get=%u del=%u in=%llu out=%llu",
			 s->account.address, conn_peer_ip(s->conn), why, s->puts, s->gets,
			 s->deletes, (unsigned long long)conn_bytes_in(s->conn),
			 (unsigned long long)conn_bytes_out(s->conn));
	else
		log_info("disconnect rip=%s reason=%s in=%llu out=%llu", conn_peer_ip(s->conn), why,
			 (unsigned long long)conn_bytes_in(s->conn),
			 (unsigned long long)conn_bytes_out(s->conn));
}

/* A read that got no command: 0 go on, 1 leave (logged), -1 error. */
static int ms_read_failed(struct ms_session *s, struct ms_parser *p, int r)
{
	const char *error = s->read_error != NULL ? s->read_error : "";

	switch (r) {
	case MS_READ_BAD:
		if (p->literal_pending) {
			/* Its literal is on the way and is no command. */
			ms_reply(s, "BYE", NULL, p->error);
		} else if (ms_bad_command(s, p->error) == 0) {
			return 0;
		}
		ms_log_logout(s, "closed");
		return 1;
	case CONN_LINE_TOO_LONG:
		if (ms_bad_command(s, "Line too long") == 0)
			return 0;
		ms_log_logout(s, "closed");
		return 1;
	case MS_READ_TOO_BIG:
		ms_log_logout(s, "closed");
		return 1;
	case CONN_EOF:
		ms_log_logout(s, "disconnected");
		return 1;
	case CONN_TIMEOUT:
		ms_reply(s, "BYE", NULL, s->state == MS_STATE_NONAUTH ? "Login time limit reached"
								 : "Disconnected for inactivity");
		ms_log_logout(s, "timeout");
		return 1;
	default:
		if (strcmp(error, "stopped") == 0) {
			ms_reply(s, "BYE", "TRYLATER", "Server shutting down");
			ms_log_logout(s, "stopped");
			return 1;
		}
		if (strcmp(error, "line too long") == 0)
			ms_reply(s, "BYE", NULL, "Line too long, closing connection");
		log_info("connection error rip=%s: %s", conn_peer_ip(s->conn), error);
		ms_log_logout(s, "error");
		return -1;
	}
}

int ms_session_run(struct ms_session *s)
{
	struct ms_parser p;
	const char *error = NULL;
	int ret = 0;

	ms_capabilities(s);
	ms_ok(s, NULL, "Pillarbox ManageSieve ready");
	ms_parser_init(&p, true);
	while (!s->logout) {
		int r = ms_read(s, &p);

		if (r == 1) {
			ret = ms_dispatch(s, &p) < 0 ? 1 : 0;
			if (ret != 0)
				ms_log_logout(s, "closed");
		} else {
			ret = ms_read_failed(s, &p, r);
		}
		ms_parser_clear(&p);
		if (ret != 0 || conn_output_failed(s->conn))
			break;
	}
	if (conn_flush(s->conn, &error) < 0) {
		log_info("write error rip=%s: %s", conn_peer_ip(s->conn), error);
		if (ret == 0)
			ms_log_logout(s, "disconnected");
		return 1;
	}
	if (s->logout) {
		ms_log_logout(s, "logout");
		return 0;
	}
	return ret < 0 ? -1 : 1;
}
