/* The POP3 command table and dispatcher: the state and argument checks are
 * made here, once; handlers only do their work (STYLE.md lesson 1). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "pop3.h"
#include "process.h"
#include "sasl.h"

/* The longest command name we know ("CAPA", "UIDL"...): anything longer is
 * unknown without a lookup. */
#define POP3_COMMAND_NAME_MAX 4

enum pop3_cmd_flags {
	POP3_ARGS_NONE = 1 << 0,     /* the command takes no argument */
	POP3_ARGS_REQUIRED = 1 << 1, /* the command needs one */
};

struct pop3_command {
	const char *name;
	pop3_cmd_func *handler;
	unsigned states;             /* enum pop3_state bits it is allowed in */
	unsigned flags;              /* enum pop3_cmd_flags */
};

#define AUTHZ POP3_STATE_AUTHORIZATION
#define TRANS POP3_STATE_TRANSACTION

static const struct pop3_command pop3_commands[] = {
	{ "CAPA", pop3_cmd_capa, AUTHZ | TRANS, POP3_ARGS_NONE },
	{ "USER", pop3_cmd_user, AUTHZ, POP3_ARGS_REQUIRED },
	{ "PASS", pop3_cmd_pass, AUTHZ, 0 },
	{ "AUTH", pop3_cmd_auth, AUTHZ, 0 },
	{ "STLS", pop3_cmd_stls, AUTHZ, POP3_ARGS_NONE },
	{ "STAT", pop3_cmd_stat, TRANS, POP3_ARGS_NONE },
	{ "LIST", pop3_cmd_list, TRANS, 0 },
	{ "UIDL", pop3_cmd_uidl, TRANS, 0 },
	{ "RETR", pop3_cmd_retr, TRANS, POP3_ARGS_REQUIRED },
	{ "TOP", pop3_cmd_top, TRANS, POP3_ARGS_REQUIRED },
	{ "DELE", pop3_cmd_dele, TRANS, POP3_ARGS_REQUIRED },
	{ "NOOP", pop3_cmd_noop, TRANS, POP3_ARGS_NONE },
	{ "RSET", pop3_cmd_rset, TRANS, POP3_ARGS_NONE },
	{ "QUIT", pop3_cmd_quit, AUTHZ | TRANS, POP3_ARGS_NONE },
};

/* Arms the watchdog for a command. Pipelined commands run under the alarm
 * set for the first one while it is fresh: setting it again for each of a
 * thousand RETRs would cost a system call each (the alarm still has at
 * least watchdog_seconds - 1 s when a command starts). */
static void pop3_watchdog_arm(struct pop3_session *s)
{
	struct timespec ts;
	int64_t now_ms;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (s->watchdog_armed && now_ms - s->watchdog_armed_ms < POP3_WATCHDOG_REARM_MS)
		return;
	process_watchdog(s->config->watchdog_seconds);
	s->watchdog_armed = true;
	s->watchdog_armed_ms = now_ms;
}

/* conn's wait hook: the watchdog guards store work, never the client, so
 * it is off whenever the connection waits. */
static void pop3_wait_hook(bool waiting, void *ctx)
{
	struct pop3_session *s = ctx;

	if (waiting) {
		if (s->watchdog_armed)
			process_watchdog(0);
		s->watchdog_armed = false;
	} else if (s->busy) {
		pop3_watchdog_arm(s);
	}
}

struct pop3_session *pop3_session_new(struct conn *conn, struct store *store,
				      const struct config *config, struct tls_creds *tls_creds)
{
	struct pop3_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->conn = conn;
	s->store = store;
	s->config = config;
	s->tls_creds = tls_creds;
	s->state = POP3_STATE_AUTHORIZATION;
	s->lock_fd = -1;
	conn_set_wait_hook(conn, pop3_wait_hook, s);
	return s;
}

void pop3_session_free(struct pop3_session **session)
{
	if (*session == NULL)
		return;
	pop3_maildrop_close(*session);
	password_wipe((*session)->user, sizeof((*session)->user));
	free((*session)->retr_buf);
	free(*session);
	*session = NULL;
}

void pop3_ok(struct pop3_session *s, const char *text)
{
	conn_puts(s->conn, *text != '\0' ? "+OK " : "+OK");
	conn_puts(s->conn, text);
	conn_write(s->conn, "\r\n", 2);
}

void pop3_err(struct pop3_session *s, const char *text)
{
	conn_puts(s->conn, "-ERR ");
	conn_puts(s->conn, text);
	conn_write(s->conn, "\r\n", 2);
}

bool pop3_plaintext_allowed(const struct pop3_session *s)
{
	return conn_is_tls(s->conn) || conn_peer_is_loopback(s->conn) ||
	       s->config->allow_plaintext_auth;
}

static const struct pop3_command *pop3_command_find(const char *name, size_t len)
{
	if (len == 0 || len > POP3_COMMAND_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < sizeof(pop3_commands) / sizeof(pop3_commands[0]); i++) {
		if (strlen(pop3_commands[i].name) == len &&
		    strncasecmp(pop3_commands[i].name, name, len) == 0)
			return &pop3_commands[i];
	}
	return NULL;
}

/* Counts a bad command; -1 when it is one too many (the reply is sent). */
static int pop3_bad_command(struct pop3_session *s, const char *reply)
{
	if (++s->bad_commands < POP3_BAD_COMMANDS_MAX) {
		pop3_err(s, reply);
		return 0;
	}
	pop3_err(s, "Too many bad commands, closing connection");
	log_client("too many bad commands", s->account.address, conn_peer_ip(s->conn), " bad=%u",
		   s->bad_commands);
	return -1;
}

/* One command line: 0 go on, -1 close. */
static int pop3_dispatch(struct pop3_session *s, char *line, size_t len)
{
	const struct pop3_command *cmd;
	size_t name_len;
	char *args;
	int ret;

	if (memchr(line, '\0', len) != NULL)
		return pop3_bad_command(s, "NUL byte in command line");
	name_len = strcspn(line, " ");
	args = line + name_len;
	if (*args == ' ')
		args++;
	cmd = pop3_command_find(line, name_len);
	if (cmd == NULL)
		return pop3_bad_command(s, "Unknown command");
	if ((cmd->states & s->state) == 0)
		return pop3_bad_command(s, s->state == POP3_STATE_AUTHORIZATION
						   ? "Command not valid before login"
						   : "Command not valid after login");
	if ((cmd->flags & POP3_ARGS_NONE) != 0 && *args != '\0')
		return pop3_bad_command(s, "This command takes no arguments");
	if ((cmd->flags & POP3_ARGS_REQUIRED) != 0 && *args == '\0')
		return pop3_bad_command(s, "Missing argument");
	/* The watchdog covers store work; the wait hook disarms it while
	 * the command or the next read waits for the client (SASL, STLS, a
	 * slow reader, the next command). */
	s->busy = true;
	pop3_watchdog_arm(s);
	ret = cmd->handler(s, args);
	s->busy = false;
	return ret;
}

static void pop3_log_logout(struct pop3_session *s, const char *why)
{
	if (s->state == POP3_STATE_TRANSACTION)
		log_info("logout user=<%s> rip=%s reason=%s retr=%u/%llu del=%u in=%llu out=%llu",
			 s->account.address, conn_peer_ip(s->conn), why, s->retrieved,
			 (unsigned long long)s->retrieved_bytes, s->expunged,
			 (unsigned long long)conn_bytes_in(s->conn),
			 (unsigned long long)conn_bytes_out(s->conn));
	else
		log_info("disconnect rip=%s reason=%s in=%llu out=%llu", conn_peer_ip(s->conn), why,
			 (unsigned long long)conn_bytes_in(s->conn),
			 (unsigned long long)conn_bytes_out(s->conn));
}

int pop3_session_run(struct pop3_session *s)
{
	const char *error = NULL;
	int result = 1;

	pop3_ok(s, "Pillarbox POP3 ready");
	while (!s->quit) {
		char *line;
		size_t len;
		/* Commands are capped at POP3_LINE_MAX; the connection's
		 * buffer also fits the longer SASL responses (pop3_auth.c). */
		int r = conn_read_line(s->conn, POP3_LINE_MAX, &line, &len, NULL, &error);

		if (r == CONN_LINE_TOO_LONG) {
			if (pop3_bad_command(s, "Line too long") < 0)
				break;
			continue;
		}
		if (r == CONN_EOF) {
			pop3_log_logout(s, "disconnected");
			return 1;
		}
		if (r == CONN_TIMEOUT) {
			pop3_err(s, s->state == POP3_STATE_AUTHORIZATION ? "Login time limit reached"
								  : "Disconnected for inactivity");
			(void)conn_flush(s->conn, &error);
			pop3_log_logout(s, "timeout");
			return 1;
		}
		if (r == CONN_ERROR) {
			if (strcmp(error, "stopped") == 0) {
				pop3_err(s, "[SYS/TEMP] Server shutting down");
				(void)conn_flush(s->conn, &error);
				pop3_log_logout(s, "stopped");
				return 1;
			}
			if (strcmp(error, "line too long") == 0) {
				pop3_err(s, "Line too long, closing connection");
				(void)conn_flush(s->conn, &error);
			}
			log_info("connection error rip=%s: %s", conn_peer_ip(s->conn), error);
			pop3_log_logout(s, "error");
			return -1;
		}
		if (pop3_dispatch(s, line, len) < 0)
			break;
		if (conn_output_failed(s->conn))
			break;
	}
	if (conn_flush(s->conn, &error) < 0) {
		log_info("write error rip=%s: %s", conn_peer_ip(s->conn), error);
		pop3_log_logout(s, "disconnected");
		return 1;
	}
	if (s->quit)
		result = 0;
	pop3_log_logout(s, s->quit ? "quit" : "closed");
	return result;
}
