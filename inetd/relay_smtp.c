/* The relay's SMTP client session (relay_smtp.h). */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "codec.h"
#include "charset.h"
#include "conn.h"
#include "log.h"
#include "password.h"
#include "process.h"
#include "relay_smtp.h"

/* Bytes of the body read and encoded at a time. */
#define RELAY_DATA_CHUNK 65536
/* QUIT is a courtesy: sending it waits no longer than this. */
#define RELAY_QUIT_TIMEOUT 5

/* ---------------------------------------------------------- reply parser */

void relay_reply_init(struct relay_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An RFC 3463 status at the start of text ("5.1.1 "), matching the class
 * of the reply code. Its length, or 0. */
static size_t status_parse(const char *s, size_t len, int code, char out[16])
{
	size_t i = 0, start, parts = 0;

	if (len < 5 || s[0] != '0' + code / 100 || s[1] != '.')
		return 0;
	i = 2;
	for (parts = 1; parts < 3; parts++) {
		start = i;
		while (i < len && is_digit(s[i]) && i - start < 3)
			i++;
		if (i == start)
			return 0;
		if (parts == 1) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < len && s[i] != ' ')
		return 0;
	if (i >= 16)
		return 0;
	memcpy(out, s, i);
	out[i] = '\0';
	return i;
}

static void text_append(struct relay_reply *r, const char *s, size_t len)
{
	size_t have = strlen(r->text);

	if (have > 0 && have < sizeof(r->text) - 1)
		r->text[have++] = ' ';
	for (size_t i = 0; i < len && have < sizeof(r->text) - 1; i++) {
		unsigned char c = (unsigned char)s[i];

		r->text[have++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	r->text[have] = '\0';
}

int relay_reply_feed(struct relay_reply *r, const char *line, size_t len)
{
	int code;

	if (len < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
	    line[0] < '2' || line[0] > '5' || (len > 3 && line[3] != ' ' && line[3] != '-'))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->lines > 0 && code != r->code)
		return -1;
	if (++r->lines > RELAY_REPLY_LINES_MAX)
		return -1;
	if (r->lines == 1) {
		r->code = code;
		if (len > 4)
			(void)status_parse(line + 4, len - 4, code, r->status);
		/* "550-5.1.1 text" is kept as "550 5.1.1 text ...": the
		 * continuation mark means nothing once the lines are joined */
		text_append(r, line, 3);
		if (len > 4)
			text_append(r, line + 4, len - 4);
	} else {
		/* Later lines: without the code (and a repeated status). */
		size_t skip = len > 4 ? 4 : len;
		char st[16];

		if (len > 4)
			skip += status_parse(line + 4, len - 4, code, st);
		while (skip < len && line[skip] == ' ')
			skip++;
		if (skip < len)
			text_append(r, line + skip, len - skip);
	}
	return len == 3 || line[3] == ' ' ? 1 : 0;
}

/* ------------------------------------------------------------------ EHLO */

static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

void relay_ehlo_line(struct relay_ehlo *e, const char *line, size_t len)
{
	size_t i = 0, kw;

	while (i < len && line[i] != ' ' && line[i] != '=')
		i++;
	kw = i;
	if (word_is(line, kw, "PIPELINING")) {
		e->pipelining = true;
	} else if (word_is(line, kw, "8BITMIME")) {
		e->eightbitmime = true;
	} else if (word_is(line, kw, "SMTPUTF8")) {
		e->smtputf8 = true;
	} else if (word_is(line, kw, "STARTTLS")) {
		e->starttls = true;
	} else if (word_is(line, kw, "ENHANCEDSTATUSCODES")) {
		e->enhanced = true;
	} else if (word_is(line, kw, "DSN")) {
		e->dsn = true;
	} else if (word_is(line, kw, "SIZE")) {
		uint64_t n = 0;

		e->size = true;
		for (i = kw + 1; i < len && is_digit(line[i]); i++) {
			if (n > (UINT64_MAX - 9) / 10)
				break;
			n = n * 10 + (uint64_t)(line[i] - '0');
		}
		e->size_max = n;
	} else if (word_is(line, kw, "AUTH")) {
		/* "AUTH PLAIN LOGIN" or the old "AUTH=PLAIN LOGIN" */
		while (i < len) {
			size_t start;

			while (i < len && (line[i] == ' ' || line[i] == '='))
				i++;
			start = i;
			while (i < len && line[i] != ' ')
				i++;
			if (word_is(line + start, i - start, "PLAIN"))
				e->auth_plain = true;
			else if (word_is(line + start, i - start, "LOGIN"))
				e->auth_login = true;
		}
	}
}

/* ----------------------------------------------------------- DATA encoder */

void relay_dot_init(struct relay_dot *dot)
{
	dot->col = 0;
	dot->cr = false;
	dot->stuff = true;
}

size_t relay_dot_encode(struct relay_dot *dot, const char *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (dot->cr) {
			dot->cr = false;
			out[o++] = '\r';
			out[o++] = '\n';
			dot->col = 0;
			if (c == '\n')
				continue;
		}
		if (c == '\r') {
			dot->cr = true;
			continue;
		}
		if (c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			dot->col = 0;
			continue;
		}
		if (dot->col >= RELAY_LINE_MAX) {
			/* At most 3 bytes more per RELAY_LINE_MAX bytes of
			 * the line, within the room promised in the header. */
			memcpy(out + o, "\r\n ", 3);
			o += 3;
			dot->col = 1;
		}
		if (dot->col == 0 && c == '.') {
			/* Counted either way: the long-line breaks fall where
			 * they fall in what is sent. */
			if (dot->stuff)
				out[o++] = '.';
			dot->col++;
		}
		out[o++] = c;
		dot->col++;
	}
	return o;
}

size_t relay_dot_finish(struct relay_dot *dot, char *out)
{
	size_t o = 0;

	if (dot->cr || dot->col > 0) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	dot->cr = false;
	dot->col = 0;
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

/* --------------------------------------------------------------- session */

struct session {
	struct relay *relay;
	const struct relay_target *t;
	struct conn *conn;
	struct relay_ehlo ehlo;
	char *error;
	size_t errsize;
	const char *mta;
	bool failed;          /* fail() was called: no QUIT */
};

static void fail(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct session *s, const char *fmt, ...)
{
	char what[OUTQ_REPLY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(s->error, s->errsize, "%s: %s", s->mta, what);
	s->failed = true;
}

/* Why a wait on the peer ended. */
static const char *conn_why(int ret, const char *error)
{
	if (relay_deadline_expired())
		return "timed out";
	if (process_stop_requested)
		return "stopped by a signal";
	switch (ret) {
	case CONN_EOF:
		return "connection closed";
	case CONN_TIMEOUT:
		return "timed out";
	case CONN_LINE_TOO_LONG:
		return "reply line too long";
	default:
		return error != NULL ? error : "connection error";
	}
}

/* Reads one reply within `timeout` seconds (a hard deadline). 1 read, or
 * -1 after fail() naming `what` the reply answered. */
static int reply_read(struct session *s, struct relay_reply *r, unsigned timeout, const char *what)
{
	const char *error = NULL;
	char *line = NULL;
	size_t len = 0;
	int cret, fret = 0;

	relay_reply_init(r);
	conn_set_timeout(s->conn, timeout);
	relay_deadline_arm(timeout);
	for (;;) {
		cret = conn_read_line(s->conn, RELAY_REPLY_LINE_MAX, &line, &len, NULL, &error);
		if (cret != CONN_OK)
			break;
		fret = relay_reply_feed(r, line, len);
		if (fret != 0)
			break;
	}
	relay_deadline_arm(0);
	if (cret == CONN_OK && fret == 1)
		return 1;
	if (cret == CONN_OK && r->lines > RELAY_REPLY_LINES_MAX) {
		fail(s, "reply to %s longer than %d lines", what, RELAY_REPLY_LINES_MAX);
	} else if (cret == CONN_OK) {
		char shown[128];

		fail(s, "malformed reply to %s: \"%s\"", what,
		     log_safe(shown, sizeof(shown), line, len < 80 ? len : 80));
	} else {
		fail(s, "%s (waiting for the reply to %s)", conn_why(cret, error), what);
	}
	return -1;
}

static int flush(struct session *s, unsigned timeout, const char *what)
{
	const char *error = NULL;
	int ret;

	conn_set_timeout(s->conn, timeout);
	relay_deadline_arm(timeout);
	ret = conn_flush(s->conn, &error);
	relay_deadline_arm(0);
	if (ret < 0) {
		fail(s, "%s (sending %s)", relay_deadline_expired() ? "timed out" : error, what);
		return -1;
	}
	return 0;
}

static int command(struct session *s, struct relay_reply *r, const char *what, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
static int command(struct session *s, struct relay_reply *r, const char *what, const char *fmt,
		   ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		fail(s, "command too long");
		return -1;
	}
	conn_write(s->conn, buf, (size_t)n);
	if (flush(s, s->relay->rc->timeout, what) < 0)
		return -1;
	return reply_read(s, r, s->relay->rc->timeout, what);
}

static void result_set(struct relay_result *res, enum relay_outcome outcome, const char *reply,
		       const char *status)
{
	res->outcome = outcome;
	snprintf(res->reply, sizeof(res->reply), "%s", reply);
	snprintf(res->status, sizeof(res->status), "%s", status);
	res->unsuited = false;
	res->reported = false;
}

static void result_from_reply(struct relay_result *res, const struct relay_reply *r)
{
	enum relay_outcome o = r->code / 100 == 2 ? RELAY_OUTCOME_SENT
			       : r->code / 100 == 5 ? RELAY_OUTCOME_PERM : RELAY_OUTCOME_TEMP;

	result_set(res, o, r->text, r->status);
}

/* The EHLO exchange, reading keyword lines as they come. 1 or -1. */
static int ehlo(struct session *s)
{
	const char *error = NULL, *hostname = s->relay->config->hostname;
	unsigned timeout = s->relay->rc->timeout;
	struct relay_reply r;
	char *line;
	size_t len;
	int ret = 0, cret;

	memset(&s->ehlo, 0, sizeof(s->ehlo));
	conn_printf(s->conn, "EHLO %s\r\n", hostname);
	if (flush(s, timeout, "EHLO") < 0)
		return -1;
	relay_reply_init(&r);
	conn_set_timeout(s->conn, timeout);
	relay_deadline_arm(timeout);
	for (;;) {
		cret = conn_read_line(s->conn, RELAY_REPLY_LINE_MAX, &line, &len, NULL, &error);
		if (cret != CONN_OK)
			break;
		ret = relay_reply_feed(&r, line, len);
		if (ret >= 0 && r.code == 250 && r.lines > 1 && len > 4)
			relay_ehlo_line(&s->ehlo, line + 4, len - 4);
		if (ret != 0)
			break;
	}
	relay_deadline_arm(0);
	if (cret != CONN_OK) {
		fail(s, "%s (waiting for the reply to EHLO)", conn_why(cret, error));
		return -1;
	}
	if (ret == 1 && r.code == 250)
		return 1;
	if (ret == 1 && r.code / 100 == 5) {
		/* An old server: HELO, and no extensions. */
		memset(&s->ehlo, 0, sizeof(s->ehlo));
		if (command(s, &r, "HELO", "HELO %s\r\n", hostname) < 0)
			return -1;
		if (r.code == 250)
			return 1;
	}
	if (ret == 1)
		fail(s, "%s (in reply to EHLO)", r.text);
	else
		fail(s, "malformed reply to EHLO");
	return -1;
}

/* AUTH PLAIN (with an initial response) or LOGIN. 1 or -1. */
static int authenticate(struct session *s)
{
	const struct relay_config *rc = s->relay->rc;
	size_t ulen = strlen(rc->auth_user), plen = strlen(rc->auth_password);
	char raw[sizeof(rc->auth_user) + PASSWORD_MAX + 4];
	char enc[BASE64_ENCODED_MAX(sizeof(raw)) + 1];
	struct relay_reply r;
	size_t n;
	int ret = -1;

	if (!conn_is_tls(s->conn)) {
		fail(s, "not sending the relayhost password without TLS");
		return -1;
	}
	if (s->ehlo.auth_plain) {
		raw[0] = '\0';
		memcpy(raw + 1, rc->auth_user, ulen);
		raw[1 + ulen] = '\0';
		memcpy(raw + 2 + ulen, rc->auth_password, plen);
		n = base64_encode(raw, 2 + ulen + plen, 0, enc);
		enc[n] = '\0';
		ret = command(s, &r, "AUTH", "AUTH PLAIN %s\r\n", enc);
		if (ret == 1 && r.code == 334)
			ret = command(s, &r, "AUTH", "%s\r\n", enc);
	} else if (s->ehlo.auth_login) {
		ret = command(s, &r, "AUTH", "AUTH LOGIN\r\n");
		if (ret == 1 && r.code == 334) {
			n = base64_encode(rc->auth_user, ulen, 0, enc);
			enc[n] = '\0';
			ret = command(s, &r, "AUTH", "%s\r\n", enc);
		}
		if (ret == 1 && r.code == 334) {
			n = base64_encode(rc->auth_password, plen, 0, enc);
			enc[n] = '\0';
			ret = command(s, &r, "AUTH", "%s\r\n", enc);
		}
	} else {
		fail(s, "the relayhost offers neither AUTH PLAIN nor AUTH LOGIN");
	}
	password_wipe(raw, sizeof(raw));
	password_wipe(enc, sizeof(enc));
	if (ret == 1 && r.code != 235) {
		fail(s, "authentication failed: %s", r.text);
		ret = -1;
	}
	return ret;
}

/* STARTTLS and the second EHLO. 1 on, 0 not offered, -1 failed (fail()),
 * -2 the handshake failed (fail()). */
static int starttls(struct session *s)
{
	struct relay_reply r;
	struct tls_creds *creds;
	const char *error = NULL, *name = s->t->host;
	int ret;

	if (!s->ehlo.starttls)
		return 0;
	creds = relay_tls_creds(s->relay, s->t->tls);
	if (creds == NULL) {
		fail(s, "TLS: %s", s->relay->tls_error != NULL ? s->relay->tls_error : "no credentials");
		return -1;
	}
	if (command(s, &r, "STARTTLS", "STARTTLS\r\n") < 0)
		return -1;
	if (r.code != 220) {
		fail(s, "%s (in reply to STARTTLS)", r.text);
		return -2;
	}
	conn_set_timeout(s->conn, s->relay->rc->timeout);
	relay_deadline_arm(s->relay->rc->timeout);
	ret = conn_start_tls(s->conn, creds, false, name, NULL, &error);
	relay_deadline_arm(0);
	if (ret < 0) {
		fail(s, "TLS handshake failed: %s", relay_deadline_expired() ? "timed out" : error);
		return -2;
	}
	if (ehlo(s) < 0)
		return -1;
	return 1;
}

/* Streams the body as DATA content. 0 or -1 after fail(). */
static int data_send(struct session *s, const struct relay_message *m)
{
	char *in = malloc(RELAY_DATA_CHUNK), *out = malloc(2 * RELAY_DATA_CHUNK + 8);
	unsigned timeout = s->relay->rc->timeout + (unsigned)(m->size / RELAY_DATA_MIN_RATE);
	struct relay_dot dot;
	const char *error = NULL;
	uint64_t off = 0;
	int ret = -1;

	if (in == NULL || out == NULL) {
		fail(s, "out of memory");
		goto out;
	}
	relay_dot_init(&dot);
	conn_set_timeout(s->conn, s->relay->rc->timeout);
	relay_deadline_arm(timeout);
	/* Whole CRLF lines, none starting with a dot: as they are. */
	if (m->dkim != NULL)
		conn_write(s->conn, m->dkim, m->dkim_len);
	for (;;) {
		ssize_t n = pread(m->fd, in, RELAY_DATA_CHUNK, (off_t)off);

		if (n < 0 && errno == EINTR && !relay_conn_stop)
			continue;
		if (n < 0) {
			fail(s, "reading the queued message: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (uint64_t)n;
		conn_write(s->conn, out, relay_dot_encode(&dot, in, (size_t)n, out));
		if (conn_output_failed(s->conn))
			break;
	}
	conn_write(s->conn, out, relay_dot_finish(&dot, out));
	ret = conn_flush(s->conn, &error);
	if (ret < 0)
		fail(s, "%s (sending the message)",
		     relay_deadline_expired() ? "timed out" : process_stop_requested ? "stopped" : error);
out:
	relay_deadline_arm(0);
	free(in);
	free(out);
	return ret < 0 ? -1 : 0;
}

static bool ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* RCPT's RFC 3461 parameters for recipient i, into buf ("" none). */
static const char *rcpt_params(const struct session *s, const struct relay_message *m, size_t i,
			       char *buf, size_t size)
{
	const struct store_dsn_rcpt *d = m->rcpt_dsn != NULL ? &m->rcpt_dsn[i] : NULL;
	size_t len = 0;

	buf[0] = '\0';
	if (!s->ehlo.dsn || d == NULL)
		return buf;
	if (d->notify != 0) {
		static const struct { uint8_t bit; const char *name; } words[] = {
			{ STORE_DSN_NOTIFY_SUCCESS, "SUCCESS" }, { STORE_DSN_NOTIFY_FAILURE, "FAILURE" },
			{ STORE_DSN_NOTIFY_DELAY, "DELAY" },
		};
		char sep = '=';

		len += (size_t)snprintf(buf + len, size - len, " NOTIFY");
		if (d->notify & STORE_DSN_NOTIFY_NEVER)
			len += (size_t)snprintf(buf + len, size - len, "=NEVER");
		for (size_t w = 0; w < 3 && !(d->notify & STORE_DSN_NOTIFY_NEVER); w++)
			if (d->notify & words[w].bit) {
				len += (size_t)snprintf(buf + len, size - len, "%c%s", sep, words[w].name);
				sep = ',';
			}
	}
	/* optional (RFC 3461 4.2): a UTF-8 one only in an SMTPUTF8 transaction */
	if (d->orcpt != NULL && d->orcpt[0] != '\0' && len < size &&
	    (m->smtputf8 || charset_ascii(d->orcpt, strlen(d->orcpt))))
		snprintf(buf + len, size - len, " ORCPT=%s", d->orcpt);
	return buf;
}

/* MAIL, RCPT, DATA: with PIPELINING in one batch. Fills results. */
static void transaction(struct session *s, const struct relay_message *m,
			const char *const *rcpts, size_t n, struct relay_result *results)
{
	char params[96 + STORE_DSN_ENVID_MAX] = "", rparams[64 + STORE_DSN_ORCPT_MAX];
	struct relay_reply r;
	size_t accepted = 0, plen = 0;
	bool pipe = s->ehlo.pipelining;
	unsigned timeout = s->relay->rc->timeout;

	if (s->ehlo.size)
		plen += (size_t)snprintf(params + plen, sizeof(params) - plen, " SIZE=%llu",
					 (unsigned long long)m->size);
	if (m->eightbit && s->ehlo.eightbitmime)
		plen += (size_t)snprintf(params + plen, sizeof(params) - plen, " BODY=8BITMIME");
	if (m->smtputf8)
		plen += (size_t)snprintf(params + plen, sizeof(params) - plen, " SMTPUTF8");
	if (s->ehlo.dsn && m->dsn_ret != STORE_DSN_RET_DEFAULT)
		plen += (size_t)snprintf(params + plen, sizeof(params) - plen, " RET=%s",
					 m->dsn_ret == STORE_DSN_RET_FULL ? "FULL" : "HDRS");
	if (s->ehlo.dsn && m->dsn_envid != NULL && m->dsn_envid[0] != '\0')
		plen += (size_t)snprintf(params + plen, sizeof(params) - plen, " ENVID=%s",
					 m->dsn_envid);

	for (size_t i = 0; i < n; i++)
		result_set(&results[i], RELAY_OUTCOME_TEMP, "", "");

	conn_printf(s->conn, "MAIL FROM:<%s>%s\r\n", m->sender, params);
	if (pipe) {
		for (size_t i = 0; i < n; i++)
			conn_printf(s->conn, "RCPT TO:<%s>%s\r\n", rcpts[i],
				    rcpt_params(s, m, i, rparams, sizeof(rparams)));
		conn_puts(s->conn, "DATA\r\n");
	}
	if (flush(s, timeout, "MAIL FROM") < 0 || reply_read(s, &r, timeout, "MAIL FROM") < 0)
		goto broken;
	if (r.code / 100 != 2) {
		for (size_t i = 0; i < n; i++)
			result_from_reply(&results[i], &r);
		if (!pipe)
			return;
		/* The RCPT and DATA replies still come: read them, then RSET. */
	}
	for (size_t i = 0; i < n; i++) {
		struct relay_reply rr;

		if (!pipe) {
			conn_printf(s->conn, "RCPT TO:<%s>%s\r\n", rcpts[i],
				    rcpt_params(s, m, i, rparams, sizeof(rparams)));
			if (flush(s, timeout, "RCPT TO") < 0)
				goto broken;
		}
		if (reply_read(s, &rr, timeout, "RCPT TO") < 0)
			goto broken;
		if (r.code / 100 != 2)
			continue;
		result_from_reply(&results[i], &rr);
		if (rr.code / 100 == 2)
			accepted++;
		else
			results[i].outcome = rr.code / 100 == 5 ? RELAY_OUTCOME_PERM : RELAY_OUTCOME_TEMP;
	}
	if (!pipe && accepted == 0)
		return;
	if (!pipe) {
		conn_puts(s->conn, "DATA\r\n");
		if (flush(s, timeout, "DATA") < 0)
			goto broken;
	}
	struct relay_reply dr;

	if (reply_read(s, &dr, timeout, "DATA") < 0)
		goto broken;
	if (dr.code != 354) {
		for (size_t i = 0; i < n && accepted > 0; i++)
			if (results[i].outcome == RELAY_OUTCOME_SENT)
				result_from_reply(&results[i], &dr);
		if (dr.code / 100 == 2) /* 2xx to DATA is nonsense: not a delivery */
			for (size_t i = 0; i < n; i++)
				if (results[i].outcome == RELAY_OUTCOME_SENT)
					result_set(&results[i], RELAY_OUTCOME_TEMP, dr.text, "");
		return;
	}
	if (accepted == 0 || r.code / 100 != 2) {
		/* RFC 2920 3.1: DATA accepted although no recipient was: send an
		 * empty message's end and forget its reply. */
		conn_puts(s->conn, ".\r\n");
		if (flush(s, timeout, "end of data") == 0)
			(void)reply_read(s, &dr, timeout, "end of data");
		return;
	}
	if (data_send(s, m) < 0)
		goto lost;
	if (reply_read(s, &dr, 2 * timeout, "end of data") < 0)
		goto lost;
	for (size_t i = 0; i < n; i++)
		if (results[i].outcome == RELAY_OUTCOME_SENT) {
			result_from_reply(&results[i], &dr);
			results[i].reported = s->ehlo.dsn;
		}
	return;
lost:
	/* Accepted recipients whose message may or may not have arrived:
	 * retried later (at most a duplicate). */
	for (size_t i = 0; i < n; i++)
		if (results[i].outcome == RELAY_OUTCOME_SENT)
			result_set(&results[i], RELAY_OUTCOME_TEMP, s->error, "");
	return;
broken:
	for (size_t i = 0; i < n; i++)
		if (results[i].outcome != RELAY_OUTCOME_PERM)
			result_set(&results[i], RELAY_OUTCOME_TEMP, s->error, "");
}

/* What the message needs that the server lacks: true with every result
 * PERM and `unsuited` (permanent for this server only: the caller may try
 * the next MX before returning the message). */
static bool server_lacks(struct session *s, const struct relay_message *m, bool utf8,
			 struct relay_result *results, size_t n)
{
	const char *host = s->t->host, *status;
	char why[OUTQ_REPLY_MAX];

	if (utf8 && !s->ehlo.smtputf8) {
		snprintf(why, sizeof(why), "the message needs SMTPUTF8 (non-ASCII addresses or "
			 "header fields) and %s does not support it", host);
		status = "5.6.7";
	} else if (m->eightbit && !s->ehlo.eightbitmime) {
		/* RFC 6152 3: never sent as it is. Returned rather than
		 * converted to quoted-printable, which would break DKIM
		 * signatures and rewrite every 8bit part of a multipart. */
		snprintf(why, sizeof(why), "the message has 8-bit content and %s does not accept "
			 "8BITMIME (conversion required but not supported)", host);
		status = "5.6.3";
	} else if (s->ehlo.size && s->ehlo.size_max > 0 && m->size > s->ehlo.size_max) {
		snprintf(why, sizeof(why), "message size %llu exceeds the limit of %s (%llu bytes)",
			 (unsigned long long)m->size, host, (unsigned long long)s->ehlo.size_max);
		status = "5.3.4";
	} else {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		result_set(&results[i], RELAY_OUTCOME_PERM, why, status);
		results[i].unsuited = true;
	}
	snprintf(s->error, s->errsize, "%s: %s", s->mta, why);
	return true;
}

int relay_smtp_session(struct relay *relay, const struct relay_target *t,
		       const struct relay_message *m, const char *const *rcpts, size_t n,
		       bool no_starttls, struct relay_result *results, char *mta_r,
		       size_t mta_size, char *error, size_t errsize)
{
	struct session s = { .relay = relay, .t = t, .error = error, .errsize = errsize };
	char addr[64];
	const char *cerr = NULL;

	snprintf(mta_r, mta_size, "%s [%s]", t->host, dns_addr_text(t->addr, addr, sizeof(addr)));
	s.mta = mta_r;
	error[0] = '\0';
	relay_deadline_arm(0);
	int fd = relay_net_connect(t->addr, relay->rc->connect_timeout, &cerr);
	if (fd < 0) {
		fail(&s, "%s", cerr);
		return RELAY_SESSION_RETRY;
	}
	struct conn *conn = conn_new(fd, fd, RELAY_REPLY_LINE_MAX);
	if (conn == NULL) {
		close(fd);
		fail(&s, "out of memory");
		return RELAY_SESSION_RETRY;
	}
	conn_set_stop_flag(conn, &relay_conn_stop);
	int status = relay_smtp_converse(relay, t, m, rcpts, n, no_starttls, conn, results, mta_r,
					 error, errsize);
	relay_deadline_arm(0);
	conn_free(&conn);
	close(fd);
	return status;
}

int relay_smtp_converse(struct relay *relay, const struct relay_target *t,
			const struct relay_message *m, const char *const *rcpts, size_t n,
			bool no_starttls, struct conn *conn, struct relay_result *results,
			const char *mta, char *error, size_t errsize)
{
	struct session s = { .relay = relay, .t = t, .conn = conn, .error = error,
			     .errsize = errsize, .mta = mta };
	struct relay_reply r;
	bool need_tls = t->tls == RELAY_TLS_ENCRYPT || t->tls == RELAY_TLS_VERIFY;
	int ret, status = RELAY_SESSION_RETRY;

	error[0] = '\0';
	if (reply_read(&s, &r, relay->rc->timeout, "the greeting") < 0)
		goto out;
	if (r.code != 220) {
		fail(&s, "%s (greeting)", r.text);
		goto out;
	}
	if (ehlo(&s) < 0)
		goto out;
	if (t->tls != RELAY_TLS_NONE && !no_starttls) {
		ret = starttls(&s);
		if (ret == -2 && !need_tls) {
			status = RELAY_SESSION_TLS_FAILED;
			goto out;
		}
		if (ret < 0)
			goto out;
	}
	if (need_tls && !conn_is_tls(s.conn)) {
		fail(&s, "TLS is required (tls_policy %s) but not offered",
		     relay_tls_policy_name(t->tls));
		goto out;
	}
	if (t->auth && authenticate(&s) < 0)
		goto out;

	bool utf8 = m->smtputf8 || !ascii(m->sender);

	for (size_t i = 0; i < n && !utf8; i++)
		utf8 = !ascii(rcpts[i]);
	if (server_lacks(&s, m, utf8, results, n)) {
		status = RELAY_SESSION_DONE;
		goto quit;
	}
	struct relay_message mm = *m;

	mm.smtputf8 = utf8;
	transaction(&s, &mm, rcpts, n, results);
	status = RELAY_SESSION_DONE;
	/* Nothing accepted and nothing refused for good (a 421 or a 4xx to
	 * MAIL, to every RCPT or to the data, or the connection lost): the
	 * next MX may do better (RFC 5321 5.1), as for a failed connect. */
	bool all_temp = true;

	for (size_t i = 0; i < n && all_temp; i++)
		all_temp = results[i].outcome == RELAY_OUTCOME_TEMP;
	if (all_temp && n > 0) {
		if (error[0] == '\0')
			snprintf(error, errsize, "%s: %s", mta, results[0].reply);
		status = RELAY_SESSION_TEMP;
	}
	log_info("session mta=\"%s\" tls=%s rcpts=%zu", mta,
		 conn_is_tls(s.conn) ? conn_tls_description(s.conn) : "no", n);
quit:
	/* QUIT without waiting for its reply (as Postfix's default
	 * smtp_skip_quit_response): the outcome is known, and every moment
	 * before it is recorded is a moment in which a killed relay would
	 * send the message again. */
	if (!s.failed && !relay_conn_stop) {
		char keep[OUTQ_REPLY_MAX + 1];

		snprintf(keep, sizeof(keep), "%s", error);
		conn_puts(s.conn, "QUIT\r\n");
		(void)flush(&s, RELAY_QUIT_TIMEOUT, "QUIT");
		snprintf(error, errsize, "%s", keep);
	}
out:
	return status;
}
