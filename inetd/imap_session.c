/* The IMAP command table, the command reader and the dispatcher: the state
 * check is made here, once (STYLE.md lesson 1); literals are checked against
 * their limits before the "+" that asks for them; the client is kept in
 * step after each command, where RFC 3501 7.4.1 allows. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap.h"
#include "log.h"
#include "password.h"
#include "process.h"

/* A non-synchronizing literal we refuse is still read and thrown away, so
 * that the client's next line is read as a line; past this many bytes the
 * connection is closed instead (RFC 7888 section 4 allows both). */
#define IMAP_DISCARD_MAX (64 * 1024 * 1024)

enum imap_cmd_flags {
	IMAP_CMD_UID = 1 << 0,        /* also exists as UID <name> */
	IMAP_CMD_SEQ = 1 << 1,        /* uses sequence numbers (without UID): no EXPUNGE after */
	IMAP_CMD_NO_SYNC = 1 << 2,    /* the handler keeps the client in step itself */
};

struct imap_command {
	const char *name;
	imap_cmd_func *handler;
	unsigned states;
	unsigned flags;
};

#define NOAUTH IMAP_STATE_NOAUTH
#define AUTH IMAP_STATE_AUTH
#define SEL IMAP_STATE_SELECTED
#define ANY (NOAUTH | AUTH | SEL)

static const struct imap_command imap_commands[] = {
	{ "CAPABILITY", imap_cmd_capability, ANY, 0 },
	{ "NOOP", imap_cmd_noop, ANY, 0 },
	{ "LOGOUT", imap_cmd_logout, ANY, IMAP_CMD_NO_SYNC },
	{ "ID", imap_cmd_id, ANY, 0 },
	{ "ENABLE", imap_cmd_enable, AUTH | SEL, 0 },
	{ "STARTTLS", imap_cmd_starttls, NOAUTH, 0 },
	{ "COMPRESS", imap_cmd_compress, AUTH | SEL, 0 },
	{ "AUTHENTICATE", imap_cmd_authenticate, NOAUTH, 0 },
	{ "LOGIN", imap_cmd_login, NOAUTH, 0 },
	{ "SELECT", imap_cmd_select, AUTH | SEL, 0 },
	{ "EXAMINE", imap_cmd_select, AUTH | SEL, 0 },
	{ "CREATE", imap_cmd_create, AUTH | SEL, 0 },
	{ "DELETE", imap_cmd_delete, AUTH | SEL, 0 },
	{ "RENAME", imap_cmd_rename, AUTH | SEL, 0 },
	{ "SUBSCRIBE", imap_cmd_subscribe, AUTH | SEL, 0 },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, AUTH | SEL, 0 },
	{ "LIST", imap_cmd_list, AUTH | SEL, 0 },
	{ "LSUB", imap_cmd_lsub, AUTH | SEL, 0 },
	{ "NAMESPACE", imap_cmd_namespace, AUTH | SEL, 0 },
	{ "STATUS", imap_cmd_status, AUTH | SEL, 0 },
	{ "APPEND", imap_cmd_append, AUTH | SEL, 0 },
	{ "GETQUOTA", imap_cmd_getquota, AUTH | SEL, 0 },
	{ "GETQUOTAROOT", imap_cmd_getquotaroot, AUTH | SEL, 0 },
	{ "SETQUOTA", imap_cmd_setquota, AUTH | SEL, 0 },
	{ "IDLE", imap_cmd_idle, AUTH | SEL, IMAP_CMD_NO_SYNC },
	{ "CHECK", imap_cmd_check, SEL, 0 },
	{ "CLOSE", imap_cmd_close, SEL, IMAP_CMD_NO_SYNC },
	{ "UNSELECT", imap_cmd_unselect, SEL, IMAP_CMD_NO_SYNC },
	{ "EXPUNGE", imap_cmd_expunge, SEL, IMAP_CMD_UID },
	{ "SEARCH", imap_cmd_search, SEL, IMAP_CMD_UID | IMAP_CMD_SEQ },
	{ "SORT", imap_cmd_sort, SEL, IMAP_CMD_UID | IMAP_CMD_SEQ },
	{ "THREAD", imap_cmd_thread, SEL, IMAP_CMD_UID | IMAP_CMD_SEQ },
	{ "FETCH", imap_cmd_fetch, SEL, IMAP_CMD_UID | IMAP_CMD_SEQ },
	{ "STORE", imap_cmd_store, SEL, IMAP_CMD_UID | IMAP_CMD_SEQ },
	{ "COPY", imap_cmd_copy, SEL, IMAP_CMD_UID | IMAP_CMD_SEQ },
	{ "MOVE", imap_cmd_copy, SEL, IMAP_CMD_UID | IMAP_CMD_SEQ },
};

static const struct imap_command *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]); i++)
		if (strcasecmp(imap_commands[i].name, name) == 0)
			return &imap_commands[i];
	return NULL;
}

static void imap_wait_hook(bool waiting, void *ctx)
{
	struct imap_session *s = ctx;

	if (s->busy)
		process_watchdog(waiting ? 0 : s->config->watchdog_seconds);
}

struct imap_session *imap_session_new(struct conn *conn, struct store *store,
				      const struct config *config, struct tls_creds *tls_creds,
				      bool preauth_tls)
{
	const struct imap_parser_limits limits = {
		.command_max = IMAP_COMMAND_MAX,
		.depth_max = IMAP_DEPTH_MAX,
		.tokens_max = IMAP_TOKENS_MAX,
	};
	struct imap_session *s = calloc(1, sizeof(*s));

	(void)preauth_tls;
	if (s == NULL)
		return NULL;
	s->parser = imap_parser_new(&limits);
	if (s->parser == NULL) {
		free(s);
		return NULL;
	}
	s->conn = conn;
	s->store = store;
	s->config = config;
	s->tls_creds = tls_creds;
	s->state = IMAP_STATE_NOAUTH;
	conn_set_wait_hook(conn, imap_wait_hook, s);
	return s;
}

void imap_session_free(struct imap_session **session)
{
	struct imap_session *s = *session;

	if (s == NULL)
		return;
	imap_view_close(s);
	imap_parser_free(&s->parser);
	free(s);
	*session = NULL;
}

bool imap_plaintext_allowed(const struct imap_session *s)
{
	return conn_is_tls(s->conn) || conn_peer_is_loopback(s->conn) ||
	       s->config->allow_plaintext_auth;
}

void imap_write_capabilities(struct imap_session *s)
{
	imap_puts(s, "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT "
		     "CHILDREN");
	if (s->state == IMAP_STATE_NOAUTH) {
		if (s->tls_creds != NULL && !conn_is_tls(s->conn))
			imap_puts(s, " STARTTLS");
		if (imap_plaintext_allowed(s))
			imap_puts(s, " AUTH=PLAIN AUTH=LOGIN");
		else
			imap_puts(s, " LOGINDISABLED");
		return;
	}
	imap_puts(s, " UIDPLUS MOVE MULTIAPPEND BINARY SPECIAL-USE CREATE-SPECIAL-USE "
		     "LIST-EXTENDED LIST-STATUS ESEARCH SEARCHRES CONDSTORE QRESYNC UTF8=ACCEPT "
		     "STATUS=SIZE SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES");
	/* RFC 4978: after login, where a client may use it; not once on */
	if (!conn_is_deflate(s->conn))
		imap_puts(s, " COMPRESS=DEFLATE");
	/* RFC 9208: only when the account has a quota */
	if (s->user.quota_bytes != 0 || s->user.quota_messages != 0)
		imap_puts(s, " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE");
	imap_printf(s, " APPENDLIMIT=%llu", (unsigned long long)imap_append_limit(s));
}

void imap_condstore_enable(struct imap_session *s)
{
	if (s->condstore)
		return;
	s->condstore = true;
	if (s->view != NULL)
		imap_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
			    (unsigned long long)s->view->modseq);
}

void imap_store_error(struct imap_session *s, struct imap_cmd *cmd, const char *error)
{
	char safe[256];

	log_error("store error user=<%s> cmd=%s: %s", s->user.address,
		  cmd != NULL && cmd->name != NULL
			  ? log_safe(safe, sizeof(safe), cmd->name, strlen(cmd->name))
			  : "-",
		  error != NULL ? error : "unknown");
	/* A full disk is temporary and not the user's quota (RFC 5530). */
	imap_tagged(s, cmd, "NO", store_error_no_space(s->store)
		    ? "[UNAVAILABLE] Not enough disk space on the server, try again later"
		    : "[UNAVAILABLE] Temporary server failure, try again later");
}

/* --------------------------------------------------------------- reading */

enum read_result {
	READ_CLOSE = -1,   /* leave (the reason was written or logged) */
	READ_AGAIN = 0,    /* answered already (an error): read the next command */
	READ_COMMAND = 1,  /* a complete command in the parser */
	READ_STREAM = 2,   /* APPEND: a message literal follows */
};

/* Counts a bad command and answers it (untagged when the tag is unknown).
 * READ_CLOSE when there were too many. */
static int imap_bad_command(struct imap_session *s, const char *tag, const char *text)
{
	struct imap_cmd cmd = { .tag = tag };

	if (++s->bad_commands >= IMAP_BAD_COMMANDS_MAX) {
		imap_bye(s, "Too many invalid commands");
		log_client("too many bad commands", s->user.address, conn_peer_ip(s->conn),
			   " bad=%u", s->bad_commands);
		return READ_CLOSE;
	}
	if (tag == NULL) {
		imap_printf(s, "* BAD %s\r\n", text);
		return READ_AGAIN;
	}
	imap_tagged(s, &cmd, "BAD", text);
	imap_reply_flush(s, &cmd);
	return READ_AGAIN;
}

/* Reads and drops `size` bytes of a literal we refused. */
static int imap_discard(struct imap_session *s, uint64_t size)
{
	char buf[8192];
	const char *error;

	while (size > 0) {
		ssize_t n = conn_read(s->conn, buf, size < sizeof(buf) ? (size_t)size : sizeof(buf),
				      &error);
		if (n <= 0)
			return -1;
		size -= (uint64_t)n;
	}
	return 0;
}

/* After a refused line: skips the rest of the command (the lines that
 * follow non-synchronizing literals). 0, or -1 to close. */
static int imap_skip_command(struct imap_session *s, const char *line, size_t len)
{
	for (;;) {
		uint64_t size;
		bool sync;
		char *next;
		size_t nlen;
		const char *error;

		if (!imap_line_literal_suffix(line, len, &size, &sync) || sync)
			return 0;
		if (size > IMAP_DISCARD_MAX || (s->state == IMAP_STATE_NOAUTH &&
						size > IMAP_LITERAL_PREAUTH_MAX)) {
			imap_bye(s, "[TOOBIG] Literal too large");
			return -1;
		}
		if (imap_discard(s, size) < 0)
			return -1;
		int r = conn_read_line(s->conn, IMAP_LINE_MAX, &next, &nlen, NULL, &error);
		if (r == CONN_LINE_TOO_LONG)
			return 0;
		if (r != CONN_OK)
			return -1;
		line = next;
		len = nlen;
	}
}

int imap_session_skip_rest(struct imap_session *s)
{
	const char *error = NULL;
	char *line;
	size_t len;
	int r = conn_read_line(s->conn, IMAP_LINE_MAX, &line, &len, NULL, &error);

	if (r == CONN_LINE_TOO_LONG)
		return 0;
	if (r != CONN_OK)
		return -1;
	return imap_skip_command(s, line, len);
}

/* The tag of the command being parsed, if its first token is a valid tag. */
static const char *imap_current_tag(struct imap_session *s)
{
	const struct imap_arg *a = imap_parser_args(s->parser);

	if (a == NULL || a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > IMAP_TAG_MAX)
		return NULL;
	for (size_t i = 0; i < a->len; i++)
		if (strchr("+%*\\{", a->str[i]) != NULL)
			return NULL;
	return a->str;
}

static int imap_connection_ended(struct imap_session *s, int r, const char *error)
{
	if (r == CONN_TIMEOUT) {
		imap_bye(s, s->state == IMAP_STATE_NOAUTH ? "Login time limit reached"
							  : "Autologout; idle for too long");
		log_info("timeout user=<%s> rip=%s", s->user.address, conn_peer_ip(s->conn));
	} else if (r == CONN_ERROR && error != NULL && strcmp(error, "stopped") == 0) {
		imap_bye(s, "[UNAVAILABLE] Server shutting down");
	} else if (r == CONN_ERROR && error != NULL && strcmp(error, "line too long") == 0) {
		imap_bye(s, "Line too long");
	} else if (r == CONN_ERROR) {
		log_info("connection error user=<%s> rip=%s: %s", s->user.address,
			 conn_peer_ip(s->conn), error != NULL ? error : "");
	}
	return READ_CLOSE;
}

/* Feeds the literal announced by the last line into the parser, after the
 * limit check and the "+" for a synchronizing one. */
static int imap_read_literal(struct imap_session *s, const struct imap_literal_info *info)
{
	uint64_t max = s->state == IMAP_STATE_NOAUTH ? IMAP_LITERAL_PREAUTH_MAX : IMAP_LITERAL_MAX;
	const char *tag = imap_current_tag(s);
	const char *error = NULL;
	char buf[8192];

	if (info->size > max) {
		if (info->sync)
			return imap_bad_command(s, tag, "[TOOBIG] Literal too large");
		if (info->size > IMAP_DISCARD_MAX || s->state == IMAP_STATE_NOAUTH) {
			imap_bye(s, "[TOOBIG] Literal too large");
			return READ_CLOSE;
		}
		if (imap_discard(s, info->size) < 0)
			return READ_CLOSE;
		int r = imap_bad_command(s, tag, "[TOOBIG] Literal too large");
		return r == READ_CLOSE ? r : -2; /* skip the rest of the command */
	}
	if (info->sync) {
		imap_puts(s, "+ Ready for literal data\r\n");
	}
	if (info->size == 0)
		imap_parser_literal_data(s->parser, "", 0);
	uint64_t left = info->size;
	while (left > 0) {
		ssize_t n = conn_read(s->conn, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf),
				      &error);
		if (n <= 0)
			return imap_connection_ended(s, n == 0 ? CONN_EOF : (int)n, error);
		left -= (uint64_t)n;
		if (imap_parser_literal_data(s->parser, buf, (size_t)n) < 0) {
			if (imap_discard(s, left) < 0)
				return READ_CLOSE;
			int r = imap_bad_command(s, tag, imap_parser_error(s->parser));
			return r == READ_CLOSE ? r : -2;
		}
	}
	return READ_COMMAND;
}

/* Is the literal just announced an APPEND message (streamed, never held)?
 * At the top level, or alone in "UTF8 (" (RFC 6855 utf8-literal; refused
 * by APPEND itself unless UTF8=ACCEPT is on, before anything is read). */
static bool imap_literal_is_message(struct imap_session *s, const struct imap_literal_info *info)
{
	const struct imap_arg *a = imap_parser_args(s->parser), *prev = NULL, *last;

	if (s->state == IMAP_STATE_NOAUTH || info->depth > 1 || a == NULL ||
	    !imap_arg_atom_is(a->next, "APPEND"))
		return false;
	if (info->depth == 0)
		return info->index >= 3;
	for (last = a; last->next != NULL; last = last->next)
		prev = last;
	/* prev must not be the mailbox: "APPEND UTF8 ({5}" is no such form */
	return last->type == IMAP_ARG_LIST && last->len == 1 && imap_arg_atom_is(prev, "UTF8") &&
	       prev != a->next->next;
}

static int imap_read_command(struct imap_session *s)
{
	const char *error = NULL;
	bool first = true;

	imap_parser_reset(s->parser);
	for (;;) {
		char *line;
		size_t len;
		int r = conn_read_line(s->conn, IMAP_LINE_MAX, &line, &len, NULL, &error);

		if (r == CONN_LINE_TOO_LONG)
			return imap_bad_command(s, first ? NULL : imap_current_tag(s),
						"Line too long");
		if (r != CONN_OK)
			return imap_connection_ended(s, r, error);
		if (first && len == 0)
			continue; /* an empty line between commands: ignored */
		first = false;
		enum imap_parse_status st = imap_parser_line(s->parser, line, len);
		if (st == IMAP_PARSE_DONE)
			return READ_COMMAND;
		if (st == IMAP_PARSE_ERROR) {
			r = imap_bad_command(s, imap_current_tag(s), imap_parser_error(s->parser));
			if (r == READ_CLOSE)
				return r;
			return imap_skip_command(s, line, len) < 0 ? READ_CLOSE : READ_AGAIN;
		}
		struct imap_literal_info info;
		imap_parser_literal_info(s->parser, &info);
		if (imap_literal_is_message(s, &info))
			return READ_STREAM;
		r = imap_read_literal(s, &info);
		if (r == -2) {
			/* refused and drained: skip what follows on the next lines */
			char *next;
			size_t nlen;
			int rr = conn_read_line(s->conn, IMAP_LINE_MAX, &next, &nlen, NULL, &error);
			if (rr == CONN_LINE_TOO_LONG)
				return READ_AGAIN;
			if (rr != CONN_OK)
				return imap_connection_ended(s, rr, error);
			return imap_skip_command(s, next, nlen) < 0 ? READ_CLOSE : READ_AGAIN;
		}
		if (r != READ_COMMAND)
			return r;
	}
}

int imap_session_continue(struct imap_session *s, const char **error_r)
{
	for (;;) {
		char *line;
		size_t len;
		const char *error = NULL;
		int r = conn_read_line(s->conn, IMAP_LINE_MAX, &line, &len, NULL, &error);

		if (r == CONN_LINE_TOO_LONG) {
			*error_r = "Line too long";
			return IMAP_PARSE_ERROR;
		}
		if (r != CONN_OK) {
			imap_connection_ended(s, r, error);
			return -2;
		}
		enum imap_parse_status st = imap_parser_line(s->parser, line, len);
		if (st == IMAP_PARSE_ERROR) {
			*error_r = imap_parser_error(s->parser);
			if (imap_skip_command(s, line, len) < 0)
				return -2;
			return IMAP_PARSE_ERROR;
		}
		if (st == IMAP_PARSE_DONE)
			return st;
		struct imap_literal_info info;
		imap_parser_literal_info(s->parser, &info);
		if (imap_literal_is_message(s, &info))
			return IMAP_PARSE_LITERAL;
		/* another small literal inside APPEND's arguments */
		uint64_t max = IMAP_LITERAL_MAX;
		if (info.size > max) {
			if (!info.sync && info.size <= IMAP_DISCARD_MAX && imap_discard(s, info.size) == 0) {
				*error_r = "[TOOBIG] Literal too large";
				return IMAP_PARSE_ERROR;
			}
			if (info.sync) {
				*error_r = "[TOOBIG] Literal too large";
				return IMAP_PARSE_ERROR;
			}
			imap_bye(s, "[TOOBIG] Literal too large");
			return -2;
		}
		if (info.sync)
			imap_puts(s, "+ Ready for literal data\r\n");
		if (info.size == 0)
			imap_parser_literal_data(s->parser, "", 0);
		uint64_t left = info.size;
		char buf[8192];
		while (left > 0) {
			ssize_t n = conn_read(s->conn, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf),
					      &error);
			if (n <= 0) {
				imap_connection_ended(s, n == 0 ? CONN_EOF : (int)n, error);
				return -2;
			}
			left -= (uint64_t)n;
			imap_parser_literal_data(s->parser, buf, (size_t)n);
		}
	}
}

/* ------------------------------------------------------------ dispatch */

static const char *imap_state_refusal(const struct imap_session *s, const struct imap_command *c)
{
	if (s->state == IMAP_STATE_NOAUTH)
		return "Not authenticated: log in first";
	if ((c->states & IMAP_STATE_NOAUTH) != 0)
		return "Already authenticated";
	return "No mailbox selected";
}

/* Refuses a command before it runs; a message literal announced without
 * waiting for "+" is drained first. */
static int imap_refuse(struct imap_session *s, int how, const char *tag, const char *text)
{
	if (how == READ_STREAM) {
		struct imap_literal_info info;

		imap_parser_literal_info(s->parser, &info);
		if (!info.sync) {
			if (info.size > IMAP_DISCARD_MAX || imap_discard(s, info.size) < 0) {
				imap_bye(s, "[TOOBIG] Literal too large");
				return READ_CLOSE;
			}
			imap_parser_literal_streamed(s->parser);
			int r = imap_bad_command(s, tag, text);
			if (r == READ_CLOSE)
				return r;
			const char *error;
			char *line;
			size_t len;
			int rr = conn_read_line(s->conn, IMAP_LINE_MAX, &line, &len, NULL, &error);
			if (rr == CONN_LINE_TOO_LONG)
				return READ_AGAIN;
			if (rr != CONN_OK)
				return imap_connection_ended(s, rr, error);
			return imap_skip_command(s, line, len) < 0 ? READ_CLOSE : READ_AGAIN;
		}
	}
	return imap_bad_command(s, tag, text);
}

static int imap_dispatch(struct imap_session *s, int how)
{
	const struct imap_arg *args = imap_parser_args(s->parser);
	const struct imap_command *c;
	struct imap_cmd cmd = { 0 };
	const char *tag = imap_current_tag(s);
	int ret;

	if (tag == NULL)
		return imap_refuse(s, how, NULL, args == NULL ? "Empty command" : "Invalid tag");
	const struct imap_arg *name = args->next;
	if (name == NULL || name->type != IMAP_ARG_ATOM)
		return imap_refuse(s, how, tag, "Missing command name");
	cmd.args = name->next;
	if (strcasecmp(name->str, "UID") == 0) {
		const struct imap_arg *sub = name->next;
		if (sub == NULL || sub->type != IMAP_ARG_ATOM)
			return imap_refuse(s, how, tag, "Missing command after UID");
		c = imap_command_find(sub->str);
		if (c == NULL || !(c->flags & IMAP_CMD_UID))
			return imap_refuse(s, how, tag, "Unknown UID command");
		cmd.uid = true;
		name = sub;
		cmd.args = sub->next;
	} else {
		c = imap_command_find(name->str);
		if (c == NULL)
			return imap_refuse(s, how, tag, "Unknown command");
	}
	/* a command in the table: its name is short */
	snprintf(cmd.name_buf, sizeof(cmd.name_buf), "%s", name->str);
	snprintf(cmd.tag_buf, sizeof(cmd.tag_buf), "%s", tag);
	cmd.name = cmd.name_buf;
	cmd.tag = cmd.tag_buf;
	if (!(c->states & s->state))
		return imap_refuse(s, how, tag, imap_state_refusal(s, c));
	if (how == READ_STREAM && c->handler != imap_cmd_append)
		return imap_refuse(s, how, tag, "Unexpected literal");
	cmd.flags = c->flags;
	/* bad commands count in a row, as Dovecot counts them: in a session
	 * kept for days, the odd refusal (a FETCH pipelined after a SELECT
	 * that failed) must not add up to a hang-up */
	s->bad_commands = 0;

	s->busy = true;
	process_watchdog(s->config->watchdog_seconds);
	ret = how == READ_STREAM ? imap_append_run(s, &cmd) : c->handler(s, &cmd);
	if (ret >= 0 && s->state == IMAP_STATE_SELECTED && !(c->flags & IMAP_CMD_NO_SYNC) &&
	    !cmd.replied) {
		bool expunge_ok = cmd.uid || !(c->flags & IMAP_CMD_SEQ);
		(void)imap_view_sync(s, expunge_ok);
		if (!expunge_ok)
			imap_view_held_back(s);
	}
	if (s->state == IMAP_STATE_LOGOUT && s->said_bye && !cmd.replied) {
		/* the selected mailbox went under the command (another session
		 * deleted it, or renamed INBOX): the BYE is the answer, not a
		 * tagged reply about a mailbox that is gone ("BAD No messages",
		 * "NO [UNAVAILABLE]") after it (RFC 9051 7.1.5) */
		cmd.replied = true;
	}
	process_watchdog(0);
	process_heap_trim(IMAP_HEAP_FREE_KEEP);
	s->busy = false;
	if (ret < 0 && !cmd.replied && cmd.reply == NULL)
		/* the command ended the session: a BYE, not a tagged reply
		 * (an IDLE at shutdown, a client gone; no-op after one) */
		imap_bye(s, process_stop_requested ? "[UNAVAILABLE] Server shutting down" :
			 "[SERVERBUG] Internal error, reconnect");
	else if (!cmd.replied)
		imap_reply_flush(s, &cmd);
	free(cmd.reply);
	return ret < 0 ? READ_CLOSE : READ_AGAIN;
}

int imap_session_run(struct imap_session *s)
{
	const char *error = NULL;

	imap_puts(s, "* OK [CAPABILITY ");
	imap_write_capabilities(s);
	imap_puts(s, "] Pillarbox IMAP ready\r\n");
	while (s->state != IMAP_STATE_LOGOUT) {
		int r = imap_read_command(s);

		if (r == READ_CLOSE)
			break;
		if (r != READ_AGAIN && imap_dispatch(s, r) == READ_CLOSE)
			break;
		if (conn_output_failed(s->conn))
			break;
	}
	if (conn_flush(s->conn, &error) < 0)
		log_info("write error rip=%s: %s", conn_peer_ip(s->conn), error);
	log_info("%s user=<%s> rip=%s in=%llu out=%llu%s",
		 s->state == IMAP_STATE_LOGOUT ? "logout" : "disconnect", s->user.address,
		 conn_peer_ip(s->conn), (unsigned long long)conn_bytes_in(s->conn),
		 (unsigned long long)conn_bytes_out(s->conn),
		 conn_is_deflate(s->conn) ? " compress=deflate" : "");
	return s->state == IMAP_STATE_LOGOUT ? 0 : 1;
}
