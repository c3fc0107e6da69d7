/* APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502), APPENDUID (RFC
 * 4315), APPENDLIMIT (RFC 7889), LITERAL+ (RFC 7888).
 *
 * The message literal is streamed from the connection into a store body
 * writer in IMAP_CHUNK pieces: a 50 MB message never sits in memory. A
 * synchronizing literal gets its "+" only once its size is accepted; a
 * non-synchronizing one that is too big is read and thrown away, then
 * answered NO [TOOBIG]. An empty literal is refused (NO [CANNOT]) as
 * `pillarbox deliver` refuses an empty message. With several messages,
 * all bodies are written first and then appended in one transaction: the
 * command is all or nothing, and no other session sees a part of it. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datetime.h"
#include "imap.h"
#include "log.h"

/* Messages in one MULTIAPPEND. */
#define IMAP_APPEND_MESSAGES_MAX 100

struct append_msg {
	struct store_body *body;
	uint32_t flags;
	char *keywords[STORE_KEYWORDS_MAX];
	size_t nkeywords;
	int64_t date;
	int32_t tz;
};

static void append_msgs_free(struct append_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		store_body_free(&m[i].body);
		for (size_t k = 0; k < m[i].nkeywords; k++)
			free(m[i].keywords[k]);
	}
}

int imap_cmd_append(struct imap_session *s, struct imap_cmd *cmd)
{
	/* reached without a literal: the message is missing */
	imap_bad(s, cmd, "APPEND needs a message literal");
	return 0;
}

/* Flags and date between two literals. 1 ok, 0 bad (*error_r). */
static int append_params(const struct imap_arg *a, const struct imap_arg *end,
			 struct append_msg *m, const char **error_r)
{
	m->date = 0;
	m->tz = 0;
	for (; a != NULL && a != end; a = a->next) {
		if (a->type == IMAP_ARG_LIST) {
			const char *kw[STORE_KEYWORDS_MAX];
			size_t nk;
			if (m->flags != 0 || m->nkeywords != 0 ||
			    !imap_flags_parse(a, &m->flags, kw, &nk, error_r)) {
				if (*error_r == NULL)
					*error_r = "Invalid flag list";
				return 0;
			}
			for (size_t i = 0; i < nk; i++) {
				m->keywords[i] = strdup(kw[i]);
				if (m->keywords[i] == NULL) {
					*error_r = "Out of memory";
					return 0;
				}
				m->nkeywords++;
			}
		} else if (a->type == IMAP_ARG_QUOTED) {
			time_t t;
			int tz;
			if (m->date != 0 || !datetime_parse_imap(a->str, a->len, &t, &tz)) {
				*error_r = "Invalid date-time";
				return 0;
			}
			m->date = t;
			m->tz = tz;
		} else {
			*error_r = "Invalid APPEND arguments";
			return 0;
		}
	}
	return 1;
}

/* A message as given: a streamed literal, or "UTF8 (" one (RFC 6855). */
static bool append_is_message(const struct imap_arg *a)
{
	return a->streamed || (a->type == IMAP_ARG_LIST && a->len == 1 && a->child->streamed);
}

/* Reads one literal of `size` bytes into a new body (a literal8 `binary`
 * one byte for byte); 1 stored, 0 too big (drained), -1 store error (drained
 * when possible), -2 connection gone. */
static int append_stream(struct imap_session *s, uint64_t size, bool binary,
			 struct store_body **body_r, const char **error_r)
{
	struct store_body_writer *w = NULL;
	char *buf = malloc(IMAP_CHUNK);
	bool too_big = false, failed = false;

	if (buf == NULL) {
		*error_r = "out of memory";
		return -2;
	}
	if (store_body_create(s->store, &w, error_r) < 0)
		failed = true;
	else if (binary)
		store_body_binary(w);
	while (size > 0) {
		const char *cerr = NULL;
		ssize_t n = conn_read(s->conn, buf, size < IMAP_CHUNK ? (size_t)size : IMAP_CHUNK,
				      &cerr);
		if (n <= 0) {
			store_body_abort(&w);
			free(buf);
			return -2;
		}
		size -= (uint64_t)n;
		if (failed || too_big)
			continue;
		int r = store_body_write(w, buf, (size_t)n, error_r);
		if (r == 0)
			too_big = true;
		else if (r < 0)
			failed = true;
	}
	free(buf);
	if (failed || too_big) {
		store_body_abort(&w);
		return failed ? -1 : 0;
	}
	int r = store_body_finish(&w, body_r, error_r);
	return r;
}

/* Drains a refused literal and the rest of the command: 0, or -1 (close). */
static int append_refuse_literal(struct imap_session *s, const struct imap_literal_info *info)
{
	if (info->sync)
		return 0; /* the client waits for "+": it sends nothing */
	if (info->size > s->config->max_message_size * 2 + IMAP_LITERAL_MAX) {
		imap_bye(s, "[TOOBIG] Message far too large");
		return -1;
	}
	char buf[8192];
	uint64_t left = info->size;

	while (left > 0) {
		const char *cerr;
		ssize_t n = conn_read(s->conn, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf),
				      &cerr);
		if (n <= 0)
			return -1;
		left -= (uint64_t)n;
	}
	imap_parser_literal_streamed(s->parser);
	return imap_session_skip_rest(s);
}

int imap_append_run(struct imap_session *s, struct imap_cmd *cmd)
{
	struct append_msg *msgs = calloc(IMAP_APPEND_MESSAGES_MAX, sizeof(*msgs));
	struct imap_literal_info info;
	struct store_mailbox mb;
	const char *error = NULL;
	size_t n = 0;
	int ret = 0;

	imap_parser_literal_info(s->parser, &info);
	if (msgs == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return append_refuse_literal(s, &info);
	}
	/* the mailbox must exist before anything is read (TRYCREATE) */
	int found = imap_mailbox_lookup(s, cmd, cmd->args, "[TRYCREATE]", &mb);
	if (found <= 0) {
		free(msgs);
		return append_refuse_literal(s, &info);
	}
	const struct imap_arg *after = cmd->args->next; /* first token after the mailbox */
	for (;;) {
		/* the literal is the last top-level token so far, or in it
		 * after "UTF8" (then the parameters end at that atom) */
		const struct imap_arg *args = imap_parser_args(s->parser), *lit = NULL, *end = NULL;
		for (const struct imap_arg *a = args; a != NULL; a = a->next) {
			end = lit;
			lit = a;
		}
		if (info.depth == 0)
			end = lit;
		struct append_msg *m = &msgs[n];
		error = NULL;
		if (n >= IMAP_APPEND_MESSAGES_MAX) {
			imap_no(s, cmd, "[LIMIT] Too many messages in one APPEND");
			ret = append_refuse_literal(s, &info);
			goto out;
		}
		if (info.depth > 0 && !s->utf8) {
			/* RFC 6855: UTF-8 headers only once the client said it
			 * reads them; the literal is not taken ("+" not sent) */
			imap_no(s, cmd, "[CANNOT] UTF8 APPEND needs ENABLE UTF8=ACCEPT");
			ret = append_refuse_literal(s, &info);
			goto out;
		}
		if (!append_params(after, end, m, &error)) {
			imap_bad(s, cmd, error);
			ret = append_refuse_literal(s, &info);
			goto out;
		}
		if (info.size > s->config->max_message_size) {
			imap_no(s, cmd, "[TOOBIG] Message too large");
			ret = append_refuse_literal(s, &info);
			goto out;
		}
		if (info.size == 0) {
			/* Not mail (RFC 5322 3.6 wants Date and From at
			 * least): `pillarbox deliver` and import refuse it
			 * too, and an mbox export could not carry it. */
			imap_no(s, cmd, "[CANNOT] An empty message is not mail");
			ret = append_refuse_literal(s, &info);
			goto out;
		}
		if (info.sync) {
			imap_puts(s, "+ Ready for literal data\r\n");
		}
		int r = append_stream(s, info.size, info.binary, &m->body, &error);
		if (r == -2) {
			ret = -1;
			goto out;
		}
		n++;
		imap_parser_literal_streamed(s->parser);
		if (r <= 0) {
			if (r == 0)
				imap_no(s, cmd, "[TOOBIG] Message too large");
			else
				imap_store_error(s, cmd, error);
			ret = imap_session_skip_rest(s);
			goto out;
		}
		/* the rest of the command: the end, or another message */
		int st = imap_session_continue(s, &error);
		if (st == -2) {
			ret = -1;
			goto out;
		}
		if (st == IMAP_PARSE_ERROR) {
			imap_bad(s, cmd, error);
			goto out;
		}
		if (st == IMAP_PARSE_DONE) {
			const struct imap_arg *a = imap_parser_args(s->parser), *last = NULL;
			for (; a != NULL; a = a->next)
				last = a;
			if (last != NULL && !append_is_message(last)) {
				imap_bad(s, cmd, "Unexpected arguments after the message");
				goto out;
			}
			break;
		}
		imap_parser_literal_info(s->parser, &info);
		/* the tokens after the previous literal */
		const struct imap_arg *a = imap_parser_args(s->parser);
		for (; a != NULL && !append_is_message(a); a = a->next)
			;
		/* skip to the last streamed literal */
		const struct imap_arg *prev = a;
		for (; a != NULL; a = a->next)
			if (append_is_message(a))
				prev = a;
		after = prev != NULL ? prev->next : NULL;
	}
	/* all bodies are in: append them, all or nothing (RFC 3502), in one
	 * transaction, so their UIDs are consecutive */
	struct store_append *many = calloc(n, sizeof(*many));
	if (many == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		many[i] = (struct store_append){ msgs[i].body, msgs[i].flags,
						 (const char *const *)msgs[i].keywords,
						 msgs[i].nkeywords, msgs[i].date, msgs[i].tz, 0 };
	int r = store_msg_append_many(s->store, mb.id, many, n, &error);
	if (r <= 0) {
		if (r < 0)
			imap_store_error(s, cmd, error);
		else if (error != NULL && strstr(error, "quota") != NULL)
			imap_no(s, cmd, "[OVERQUOTA] Quota exceeded");
		else if (error != NULL && strstr(error, "keyword") != NULL)
			imap_no(s, cmd, "[LIMIT] Too many keywords in this mailbox");
		else
			imap_no(s, cmd, "[CANNOT] Append refused");
	} else {
		log_info("append user=<%s> mailbox=%u messages=%zu", s->user.address, mb.id, n);
		if (n == 1)
			imap_replyf(s, cmd, "OK", "[APPENDUID %u %u] Append completed",
				    mb.uidvalidity, many[0].uid);
		else
			imap_replyf(s, cmd, "OK", "[APPENDUID %u %u:%u] Append completed",
				    mb.uidvalidity, many[0].uid, many[n - 1].uid);
	}
	free(many);
out:
	/* msgs[n] holds the keywords of a message refused before its body */
	append_msgs_free(msgs, n < IMAP_APPEND_MESSAGES_MAX ? n + 1 : n);
	free(msgs);
	return ret;
}
