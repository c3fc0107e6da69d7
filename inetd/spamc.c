/* SPAMC protocol client (spamc.h). The exchange, as spamd documents it
 * (spamd/PROTOCOL in SpamAssassin's source):
 *   SYMBOLS SPAMC/1.5\r\n Content-length: N\r\n \r\n <message>
 *   SPAMD/1.1 0 EX_OK\r\n Content-length: M\r\n Spam: True ; 15.3 / 5.0\r\n \r\n
 *   GTUBE,MISSING_DATE
 * The reply is read into one bounded buffer and parsed whole each time
 * more arrives (a reply is a few hundred octets), so the parser is pure
 * and fuzzed alone. */
#include <config.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "authres_id.h"
#include "conn.h"
#include "process.h"
#include "spamc.h"
#include "store.h" /* store/config.h: config_hostport_parse */

/* Seconds a connect may take of the check's SPAMC_TIMEOUT. */
#define SPAMC_CONNECT_TIMEOUT 10
/* Octets of a rule name kept (SpamAssassin's are at most 22, rspamd's
 * a few dozen). */
#define SPAMC_TEST_NAME_MAX 64

size_t spamc_request_format(uint64_t size, char *buf, size_t size_buf)
{
	int n = snprintf(buf, size_buf, "SYMBOLS SPAMC/1.5\r\nContent-length: %llu\r\n\r\n",
			 (unsigned long long)size);
	return n > 0 && (size_t)n < size_buf ? (size_t)n : 0;
}

/* ------------------------------------------------------------ the reply */

struct cursor {
	const char *p, *end;
};

/* The next line (without its CR LF or LF): false when no LF is there yet. */
static bool next_line(struct cursor *c, const char **line_r, size_t *len_r)
{
	const char *lf = memchr(c->p, '\n', (size_t)(c->end - c->p));

	if (lf == NULL)
		return false;
	*line_r = c->p;
	*len_r = (size_t)(lf - c->p);
	if (*len_r > 0 && lf[-1] == '\r')
		(*len_r)--;
	c->p = lf + 1;
	return true;
}

static void skip_blanks(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* "-12.34" into tenths, rounded half away from zero; at most 7 digits
 * before the point and 2 after it count (more decimals are dropped). */
static bool parse_score(const char **pp, const char *end, int32_t *tenths_r)
{
	const char *p = *pp;
	bool negative = false;
	int64_t hundredths = 0;
	int digits = 0;

	if (p < end && (*p == '-' || *p == '+'))
		negative = *p++ == '-';
	while (p < end && is_digit(*p)) {
		if (++digits > 7)
			return false;
		hundredths = hundredths * 10 + (*p++ - '0');
	}
	if (digits == 0)
		return false;
	hundredths *= 100;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !is_digit(*p))
			return false;
		for (int scale = 10; p < end && is_digit(*p); p++, scale /= 10)
			hundredths += (*p - '0') * scale;
	}
	int64_t tenths = (hundredths + 5) / 10;

	if (tenths > SPAMC_SCORE_MAX)
		return false;
	*tenths_r = (int32_t)(negative ? -tenths : tenths);
	*pp = p;
	return true;
}

static bool word_is(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

/* "True ; 15.3 / 5.0" (spamd) or "Yes ; ..." (rspamd) */
static bool parse_spam_value(const char *p, const char *end, struct spamc_result *r)
{
	const char *w = p;

	while (p < end && *p != ' ' && *p != '\t' && *p != ';')
		p++;
	if (word_is(w, (size_t)(p - w), "true") || word_is(w, (size_t)(p - w), "yes"))
		r->spam = true;
	else if (word_is(w, (size_t)(p - w), "false") || word_is(w, (size_t)(p - w), "no"))
		r->spam = false;
	else
		return false;
	skip_blanks(&p, end);
	if (p >= end || *p++ != ';')
		return false;
	skip_blanks(&p, end);
	if (!parse_score(&p, end, &r->score))
		return false;
	skip_blanks(&p, end);
	if (p >= end || *p++ != '/')
		return false;
	skip_blanks(&p, end);
	if (!parse_score(&p, end, &r->required))
		return false;
	skip_blanks(&p, end);
	return p == end;
}

static bool test_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_digit(ch) ||
	       ch == '_' || ch == '.' || ch == '-';
}

/* The rule names of the body: separated by commas or white space; a name
 * with anything else in it is left out, the list cut at a whole name. */
static void parse_tests(const char *p, const char *end, struct spamc_result *r)
{
	size_t out = 0;

	while (p < end) {
		const char *w = p;
		bool plain = true;

		for (; p < end && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n';
		     p++)
			plain = plain && test_char(*p);
		size_t n = (size_t)(p - w);

		if (p < end)
			p++;
		if (n == 0 || !plain || n > SPAMC_TEST_NAME_MAX)
			continue;
		if (out + (out > 0) + n > SPAMC_TESTS_MAX)
			break;
		if (out > 0)
			r->tests[out++] = ',';
		memcpy(r->tests + out, w, n);
		out += n;
	}
	r->tests[out] = '\0';
}

/* "SPAMD/1.1 0 EX_OK": true; else false with *error_r (its own error,
 * "76 Bad header line: ...", in the log and made safe there). */
static bool status_ok(const char *line, size_t line_len, const char **error_r)
{
	static char error[160];
	const char *p = line, *end = line + line_len;

	if (line_len < 6 || memcmp(p, "SPAMD/", 6) != 0) {
		*error_r = "not a spamd reply";
		return false;
	}
	p += 6;
	while (p < end && (is_digit(*p) || *p == '.'))
		p++;
	skip_blanks(&p, end);
	if (p >= end || !is_digit(*p)) {
		*error_r = "not a spamd reply";
		return false;
	}
	if (*p != '0' || (p + 1 < end && is_digit(p[1]))) {
		snprintf(error, sizeof(error), "spamd error %.*s", (int)(end - p), p);
		*error_r = error;
		return false;
	}
	return true;
}

int spamc_reply_parse(const char *reply, size_t len, bool eof, struct spamc_result *r,
		      const char **error_r)
{
	struct cursor c = { reply, reply + len };
	const char *line, *p, *end;
	size_t line_len;
	uint64_t content_length = 0;
	bool has_length = false, has_spam = false;

	memset(r, 0, sizeof(*r));
	if (len > SPAMC_REPLY_MAX) {
		*error_r = "reply too long";
		return -1;
	}
	if (!next_line(&c, &line, &line_len))
		goto incomplete;
	if (!status_ok(line, line_len, error_r))
		return -1;
	for (;;) {
		if (!next_line(&c, &line, &line_len))
			goto incomplete;
		if (line_len == 0)
			break;
		p = line;
		end = line + line_len;
		const char *colon = memchr(p, ':', line_len);

		if (colon == NULL) {
			*error_r = "a reply header line without a colon";
			return -1;
		}
		const char *value = colon + 1;

		skip_blanks(&value, end);
		if (word_is(p, (size_t)(colon - p), "spam")) {
			if (has_spam || !parse_spam_value(value, end, r)) {
				*error_r = "a bad Spam: line";
				return -1;
			}
			has_spam = true;
		} else if (word_is(p, (size_t)(colon - p), "content-length")) {
			const char *q = value;

			content_length = 0;
			while (q < end && is_digit(*q) && content_length <= SPAMC_REPLY_MAX)
				content_length = content_length * 10 + (uint64_t)(*q++ - '0');
			if (has_length || q == value || q != end || content_length > SPAMC_REPLY_MAX) {
				*error_r = "a bad Content-length: line";
				return -1;
			}
			has_length = true;
		}
	}
	if (!has_spam) {
		*error_r = "no Spam: line in the reply";
		return -1;
	}
	size_t body = (size_t)(c.end - c.p);

	if (has_length) {
		if (body < content_length)
			goto incomplete;
		body = (size_t)content_length;
	} else if (!eof) {
		return 0; /* the body ends where the connection does */
	}
	parse_tests(c.p, c.p + body, r);
	return 1;
incomplete:
	if (eof) {
		*error_r = "the reply ended early";
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- learning */

size_t spamc_tell_format(uint64_t size, bool spam, char *buf, size_t size_buf)
{
	int n = snprintf(buf, size_buf, "TELL SPAMC/1.5\r\nContent-length: %llu\r\n"
			 "Message-class: %s\r\nSet: local\r\n\r\n",
			 (unsigned long long)size, spam ? "spam" : "ham");
	return n > 0 && (size_t)n < size_buf ? (size_t)n : 0;
}

int spamc_tell_reply_parse(const char *reply, size_t len, bool eof, const char **error_r)
{
	struct cursor c = { reply, reply + len };
	const char *line;
	size_t line_len;
	bool did_set = false;

	if (len > SPAMC_REPLY_MAX) {
		*error_r = "reply too long";
		return -1;
	}
	if (!next_line(&c, &line, &line_len))
		goto incomplete;
	if (!status_ok(line, line_len, error_r))
		return -1;
	while (next_line(&c, &line, &line_len)) {
		if (line_len == 0) {
			if (!did_set) {
				/* already known as this class: spamd set nothing */
				*error_r = "not learned (spamd set nothing: known already)";
				return 2;
			}
			return 1;
		}
		const char *colon = memchr(line, ':', line_len);

		if (colon == NULL) {
			*error_r = "a reply header line without a colon";
			return -1;
		}
		did_set |= word_is(line, (size_t)(colon - line), "didset");
	}
incomplete:
	if (eof) {
		*error_r = "the reply ended early";
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the fields */

void spamc_score_format(int32_t tenths, char buf[16])
{
	int64_t t = tenths;
	bool negative = t < 0;

	if (negative)
		t = -t;
	snprintf(buf, 16, "%s%lld.%lld", negative ? "-" : "", (long long)(t / 10),
		 (long long)(t % 10));
}

size_t spamc_fields_format(const struct spamc_result *r, char *buf, size_t size)
{
	char score[16], required[16];
	size_t len = 0, col;
	int n;

	spamc_score_format(r->score, score);
	spamc_score_format(r->required, required);
	n = snprintf(buf, size, "%sX-Spam-Status: %s, score=%s required=%s tests=",
		     r->spam ? "X-Spam-Flag: YES\r\n" : "", r->spam ? "Yes" : "No", score, required);
	if (n < 0 || (size_t)n >= size)
		return 0;
	len = (size_t)n;
	col = len - (r->spam ? strlen("X-Spam-Flag: YES\r\n") : 0);
	const char *p = r->tests[0] != '\0' ? r->tests : "none";

	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		size_t word = comma != NULL ? (size_t)(comma - p) + 1 : strlen(p);

		/* fold after the previous comma rather than pass column 78 */
		if (col + word > 78 && p != r->tests && p[-1] == ',') {
			if (size - len < 4)
				return 0;
			memcpy(buf + len, "\r\n\t", 3);
			len += 3;
			col = 8;
		}
		if (size - len <= word)
			return 0;
		memcpy(buf + len, p, word);
		len += word;
		col += word;
		p += word;
	}
	if (size - len < 3)
		return 0;
	memcpy(buf + len, "\r\n", 3);
	return len + 2;
}

/* ------------------------------------------------------------ forged fields */

static bool is_spam_field(const char *f, size_t len)
{
	static const char *const names[] = { "x-spam-flag", "x-spam-status", "x-spam-level",
					     "x-spam-score" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]), colon = n;

		if (len <= n || strncasecmp(f, names[i], n) != 0)
			continue;
		while (colon < len && (f[colon] == ' ' || f[colon] == '\t'))
			colon++;
		if (colon < len && f[colon] == ':')
			return true;
	}
	return false;
}

size_t spamc_strip_fields(char *h, size_t len, bool complete)
{
	size_t r = 0, w = 0;

	while (r < len) {
		size_t end = authres_field_end(h, len, r);

		/* a field the cut block may go on past stays whole */
		if (!(end == len && !complete) && is_spam_field(h + r, end - r)) {
			r = end;
			continue;
		}
		memmove(h + w, h + r, end - r);
		w += end - r;
		r = end;
	}
	return w;
}

/* ------------------------------------------------------------ the exchange */

static int spamc_connect(const char *hostport, const char **error_r)
{
	static char error[256];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char *host = NULL, port[8];
	uint16_t portnum;
	int fd = -1, r;

	if (config_hostport_parse(hostport, &host, &portnum, error_r) < 0)
		return -1;
	snprintf(port, sizeof(port), "%u", (unsigned)portnum);
	r = getaddrinfo(host, port, &hints, &ai);
	free(host);
	if (r != 0) {
		snprintf(error, sizeof(error), "%s: %s", hostport, gai_strerror(r));
		*error_r = error;
		return -1;
	}
	snprintf(error, sizeof(error), "%s: no address", hostport);
	for (struct addrinfo *a = ai; a != NULL && fd < 0; a = a->ai_next) {
		/* Linux applies SO_SNDTIMEO to connect() too. */
		struct timeval tv = { .tv_sec = SPAMC_CONNECT_TIMEOUT };

		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
		    connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			snprintf(error, sizeof(error), "%s: connect: %s", hostport,
				 errno == EINPROGRESS ? "timed out" : strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		*error_r = error;
	return fd;
}

/* Sends head then msg to the checker and reads its reply through `parse`
 * (as spamc_reply_parse: 0 more, else done) within SPAMC_TIMEOUT: what
 * parse returned, or -1 (cannot connect, timed out). */
static int exchange(const char *hostport, const char *head, size_t head_len, const char *msg,
		    size_t len, int (*parse)(const char *reply, size_t len, bool eof, void *ctx,
					     const char **error_r),
		    void *ctx, const char **error_r)
{
	char *reply = NULL;
	size_t got = 0;
	struct conn *conn = NULL;
	int fd = spamc_connect(hostport, error_r), ret = -1;

	if (fd < 0)
		return -1;
	conn = conn_new(fd, fd, CONN_READ_BUF_MIN);
	reply = malloc(SPAMC_REPLY_MAX + 1);
	if (conn == NULL || reply == NULL) {
		*error_r = "out of memory";
		goto out;
	}
	conn_set_timeout(conn, SPAMC_TIMEOUT);
	conn_set_time_limit(conn, SPAMC_TIMEOUT);
	conn_set_stop_flag(conn, &process_stop_requested);
	conn_write(conn, head, head_len);
	conn_write(conn, msg, len);
	if (conn_flush(conn, error_r) < 0)
		goto out;
	for (;;) {
		ssize_t n = conn_read(conn, reply + got, SPAMC_REPLY_MAX + 1 - got, error_r);
		bool eof = n == CONN_EOF;

		if (n < 0 && !eof) {
			if (n == CONN_TIMEOUT)
				*error_r = "timed out";
			goto out;
		}
		if (n > 0)
			got += (size_t)n;
		int p = parse(reply, got, eof, ctx, error_r);

		if (p != 0) {
			ret = p;
			goto out;
		}
	}
out:
	free(reply);
	conn_free(&conn);
	close(fd);
	return ret;
}

static int check_parse(const char *reply, size_t len, bool eof, void *ctx, const char **error_r)
{
	return spamc_reply_parse(reply, len, eof, ctx, error_r);
}

int spamc_check(const char *hostport, const char *msg, size_t len, struct spamc_result *r,
		const char **error_r)
{
	char head[128];
	size_t head_len = spamc_request_format(len, head, sizeof(head));

	return exchange(hostport, head, head_len, msg, len, check_parse, r, error_r) == 1 ? 0
											  : -1;
}

static int tell_parse(const char *reply, size_t len, bool eof, void *ctx, const char **error_r)
{
	(void)ctx;
	return spamc_tell_reply_parse(reply, len, eof, error_r);
}

int spamc_tell(const char *hostport, const char *msg, size_t len, bool spam, const char **error_r)
{
	char head[160];
	size_t head_len = spamc_tell_format(len, spam, head, sizeof(head));

	return exchange(hostport, head, head_len, msg, len, tell_parse, NULL, error_r);
}
