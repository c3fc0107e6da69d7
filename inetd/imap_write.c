/* The response writer: the one place that turns values into IMAP syntax
 * (STYLE.md lesson 9): atoms, quoted strings, literals, flag lists, tagged
 * lines. Handlers never format client data themselves. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "imap.h"
#include "imap_utf7.h"

void imap_puts(struct imap_session *s, const char *str)
{
	conn_puts(s->conn, str);
}

void imap_write(struct imap_session *s, const void *data, size_t len)
{
	conn_write(s->conn, data, len);
}

void imap_printf(struct imap_session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	conn_write(s->conn, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void imap_reply_set(struct imap_session *s, struct imap_cmd *cmd, const char *status,
			   const char *text, size_t len)
{
	if (cmd == NULL) {
		/* no command: an untagged status line at once */
		conn_puts(s->conn, "* ");
		conn_puts(s->conn, status);
		if (len > 0) {
			conn_write(s->conn, " ", 1);
			conn_write(s->conn, text, len);
		}
		conn_write(s->conn, "\r\n", 2);
		return;
	}
	if (cmd->reply != NULL || cmd->replied)
		return;
	size_t slen = strlen(status);
	cmd->reply = malloc(slen + len + 2);
	if (cmd->reply == NULL)
		return; /* the dispatcher answers "out of memory" */
	memcpy(cmd->reply, status, slen);
	if (len > 0) {
		cmd->reply[slen] = ' ';
		memcpy(cmd->reply + slen + 1, text, len);
		cmd->reply[slen + 1 + len] = '\0';
	} else {
		cmd->reply[slen] = '\0';
	}
}

void imap_tagged(struct imap_session *s, struct imap_cmd *cmd, const char *status,
		 const char *text)
{
	imap_reply_set(s, cmd, status, text != NULL ? text : "", text != NULL ? strlen(text) : 0);
}

void imap_replyf(struct imap_session *s, struct imap_cmd *cmd, const char *status,
		 const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return;
	}
	imap_reply_set(s, cmd, status, text, (size_t)n);
	free(text);
}

void imap_bye(struct imap_session *s, const char *text)
{
	if (s->said_bye)
		return;
	s->said_bye = true;
	conn_puts(s->conn, "* BYE ");
	conn_puts(s->conn, text);
	conn_write(s->conn, "\r\n", 2);
}

void imap_reply_flush(struct imap_session *s, struct imap_cmd *cmd)
{
	if (cmd->replied)
		return;
	conn_puts(s->conn, cmd->tag != NULL ? cmd->tag : "*");
	conn_write(s->conn, " ", 1);
	conn_puts(s->conn, cmd->reply != NULL ? cmd->reply : "NO [SERVERBUG] Out of memory");
	conn_write(s->conn, "\r\n", 2);
	free(cmd->reply);
	cmd->reply = NULL;
	cmd->replied = true;
}

void imap_ok(struct imap_session *s, struct imap_cmd *cmd, const char *text)
{
	imap_tagged(s, cmd, "OK", text);
}

void imap_no(struct imap_session *s, struct imap_cmd *cmd, const char *text)
{
	imap_tagged(s, cmd, "NO", text);
}

void imap_bad(struct imap_session *s, struct imap_cmd *cmd, const char *text)
{
	imap_tagged(s, cmd, "BAD", text);
}

void imap_write_literal_header(struct imap_session *s, uint64_t len, bool binary)
{
	imap_printf(s, "%s{%llu}\r\n", binary ? "~" : "", (unsigned long long)len);
}

static void set_writer_flush(struct imap_set_writer *w)
{
	char item[24];
	int n = w->lo == w->hi ? snprintf(item, sizeof(item), "%u", w->lo)
			       : snprintf(item, sizeof(item), "%u:%u", w->lo, w->hi);

	if (w->line > 0 && w->line + 1 + (size_t)n > IMAP_SET_LINE_MAX) {
		conn_write(w->s->conn, "\r\n", 2);
		w->line = 0;
	}
	if (w->line == 0) {
		conn_puts(w->s->conn, w->prefix);
		w->line = strlen(w->prefix);
	} else {
		conn_write(w->s->conn, ",", 1);
		w->line++;
	}
	conn_write(w->s->conn, item, (size_t)n);
	w->line += (size_t)n;
	w->lo = 0;
}

void imap_set_writer_add(struct imap_set_writer *w, uint32_t lo, uint32_t hi)
{
	if (w->lo != 0 && w->hi != UINT32_MAX && lo == w->hi + 1) {
		w->hi = hi;
		return;
	}
	if (w->lo != 0)
		set_writer_flush(w);
	w->lo = lo;
	w->hi = hi;
}

void imap_set_writer_end(struct imap_set_writer *w)
{
	if (w->lo != 0)
		set_writer_flush(w);
	if (w->line > 0)
		conn_write(w->s->conn, "\r\n", 2);
	w->line = 0;
}

/* Whether the bytes may go in a quoted string. */
static bool quotable(const struct imap_session *s, const char *str, size_t len)
{
	bool eight = false;

	if (len > IMAP_QUOTED_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];
		if (c == '\0' || c == '\r' || c == '\n')
			return false;
		if (c >= 0x80)
			eight = true;
	}
	return !eight || (s->utf8 && charset_utf8_valid(str, len));
}

void imap_write_string(struct imap_session *s, const char *str, size_t len)
{
	if (!quotable(s, str, len)) {
		imap_write_literal_header(s, len, false);
		conn_write(s->conn, str, len);
		return;
	}
	conn_write(s->conn, "\"", 1);
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (str[i] == '"' || str[i] == '\\') {
			conn_write(s->conn, str + start, i - start);
			conn_write(s->conn, "\\", 1);
			start = i;
		}
	}
	conn_write(s->conn, str + start, len - start);
	conn_write(s->conn, "\"", 1);
}

void imap_write_nstring(struct imap_session *s, const char *str)
{
	if (str == NULL)
		conn_write(s->conn, "NIL", 3);
	else
		imap_write_string(s, str, strlen(str));
}

static bool is_atom(const char *str, size_t len)
{
	if (len == 0 || len > 100 || (len == 3 && strncasecmp(str, "NIL", 3) == 0))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];
		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

void imap_write_astring(struct imap_session *s, const char *str, size_t len)
{
	if (is_atom(str, len))
		conn_write(s->conn, str, len);
	else
		imap_write_string(s, str, len);
}

void imap_write_mailbox(struct imap_session *s, const char *name)
{
	char wire[IMAP_MAILBOX_WIRE_MAX];
	size_t len = strlen(name);

	if (!s->utf8) {
		int n = imap_utf8_to_utf7(name, len, wire, sizeof(wire));
		if (n >= 0) {
			imap_write_string(s, wire, (size_t)n);
			return;
		}
	}
	/* Always quoted: some clients mishandle atoms here. */
	imap_write_string(s, name, len);
}

static const struct {
	uint32_t flag;
	const char *name;
} imap_system_flags[] = {
	{ STORE_FLAG_ANSWERED, "\\Answered" },
	{ STORE_FLAG_FLAGGED, "\\Flagged" },
	{ STORE_FLAG_DELETED, "\\Deleted" },
	{ STORE_FLAG_SEEN, "\\Seen" },
	{ STORE_FLAG_DRAFT, "\\Draft" },
	{ STORE_FLAG_FORWARDED, "$Forwarded" },
	{ STORE_FLAG_JUNK, "$Junk" },
	{ STORE_FLAG_NOTJUNK, "$NotJunk" },
};

void imap_write_flags(struct imap_session *s, uint32_t flags, uint64_t keywords, bool recent)
{
	bool first = true;

	conn_write(s->conn, "(", 1);
	for (size_t i = 0; i < sizeof(imap_system_flags) / sizeof(imap_system_flags[0]); i++) {
		if (flags & imap_system_flags[i].flag) {
			if (!first)
				conn_write(s->conn, " ", 1);
			conn_puts(s->conn, imap_system_flags[i].name);
			first = false;
		}
	}
	if (recent && !s->rev2) {
		if (!first)
			conn_write(s->conn, " ", 1);
		conn_puts(s->conn, "\\Recent");
		first = false;
	}
	for (unsigned id = 0; keywords != 0 && id < STORE_KEYWORDS_MAX; id++) {
		if (!(keywords & (1ULL << id)))
			continue;
		const char *name = s->view != NULL ? imap_view_keyword(s, id) : NULL;
		if (name == NULL)
			continue;
		if (!first)
			conn_write(s->conn, " ", 1);
		conn_puts(s->conn, name);
		first = false;
	}
	conn_write(s->conn, ")", 1);
}

int imap_flags_parse(const struct imap_arg *arg, uint32_t *flags_r, const char **keywords,
		     size_t *nkeywords_r, const char **error_r)
{
	const struct imap_arg *a = arg->type == IMAP_ARG_LIST ? arg->child : arg;
	bool single = arg->type != IMAP_ARG_LIST;

	*flags_r = 0;
	*nkeywords_r = 0;
	for (; a != NULL; a = single ? NULL : a->next) {
		bool found = false;
		if (a->type != IMAP_ARG_ATOM) {
			*error_r = "Flags must be atoms";
			return 0;
		}
		for (size_t i = 0; i < sizeof(imap_system_flags) / sizeof(imap_system_flags[0]);
		     i++) {
			if (strcasecmp(a->str, imap_system_flags[i].name) == 0) {
				*flags_r |= imap_system_flags[i].flag;
				found = true;
				break;
			}
		}
		if (found || strcasecmp(a->str, "\\Recent") == 0)
			continue; /* \Recent cannot be set: ignored (RFC 3501 6.4.6) */
		if (a->str[0] == '\\') {
			*error_r = "Invalid system flag";
			return 0;
		}
		if (a->len > STORE_KEYWORD_MAX) {
			*error_r = "Keyword too long";
			return 0;
		}
		for (size_t i = 0; i < a->len; i++) {
			if (strchr("(){%*\"\\]", a->str[i]) != NULL) {
				*error_r = "Invalid characters in a keyword";
				return 0;
			}
		}
		bool dup = false;
		for (size_t i = 0; i < *nkeywords_r; i++)
			if (strcasecmp(keywords[i], a->str) == 0)
				dup = true;
		if (dup)
			continue;
		if (*nkeywords_r >= STORE_KEYWORDS_MAX) {
			*error_r = "Too many keywords";
			return 0;
		}
		keywords[(*nkeywords_r)++] = a->str;
	}
	return 1;
}
