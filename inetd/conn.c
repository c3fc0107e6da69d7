/* One client connection: buffered, time-limited I/O over fds or TLS (conn.h). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "deflate_stream.h"
#include "tls.h"

#define CONN_DEFAULT_TIMEOUT 1800

struct conn {
	int fd_in, fd_out;
	int fl_in, fl_out;          /* original file status flags, restored at free */
	struct tls_session *tls;
	struct deflate_stream *deflate; /* COMPRESS=DEFLATE, above TLS; NULL = off */
	unsigned timeout;           /* seconds, 0 = none */
	int64_t limit_ms;           /* conn_set_time_limit's end (monotonic ms), 0 = none */
	volatile sig_atomic_t *stop;
	void (*wait_hook)(bool waiting, void *ctx);
	void *wait_ctx;

	char *rbuf;
	size_t rsize, rstart, rend; /* unread bytes are rbuf[rstart .. rend) */
	size_t line_max;
	struct conn_line_state line;

	size_t wlen;
	const char *write_error;    /* sticky: set once a write failed */

	bool broken;                /* a failed TLS start: nothing more is read */
	uint64_t bytes_in, bytes_out;
	char peer[CONN_ADDR_MAX];
	bool peer_known, loopback;
	char errbuf[256];
	/* Last, and not zeroed by conn_new: clearing 64 KB cost every
	 * connection 16 page faults for bytes written before they are read. */
	char wbuf[CONN_WRITE_BUF];
};

/* ------------------------------------------------------------ line parser */

/* Keeps the first bytes of a line about to be skipped (buf is its start). */
static void conn_line_keep_head(struct conn_line_state *state, const char *buf, size_t len)
{
	state->head_len = len < CONN_SKIPPED_HEAD ? len : CONN_SKIPPED_HEAD;
	memcpy(state->head, buf, state->head_len);
}

static void conn_line_reset(struct conn_line_state *state)
{
	state->discarding = false;
	state->discarded = 0;
	state->scanned = 0;
}

enum conn_line_status conn_line_parse(struct conn_line_state *state, const char *buf,
				      size_t len, size_t max, size_t *consumed_r,
				      size_t *line_len_r, bool *crlf_r)
{
	const char *lf;
	size_t start, line_len;

	*line_len_r = 0;
	*crlf_r = false;
	if (state->discarding) {
		lf = memchr(buf, '\n', len);
		if (lf == NULL) {
			*consumed_r = len;
			state->discarded += len;
			return state->discarded > CONN_LINE_DISCARD_MAX ? CONN_LINE_FLOOD
									: CONN_LINE_NEED_MORE;
		}
		*consumed_r = (size_t)(lf - buf) + 1;
		conn_line_reset(state);
		return CONN_LINE_SKIPPED;
	}

	start = state->scanned < len ? state->scanned : len;
	lf = memchr(buf + start, '\n', len - start);
	if (lf == NULL) {
		/* max bytes and a CR may still be followed by the LF */
		if (len > max + 1) {
			conn_line_keep_head(state, buf, len);
			state->discarding = true;
			state->discarded = len;
			state->scanned = 0;
			*consumed_r = len;
			return state->discarded > CONN_LINE_DISCARD_MAX ? CONN_LINE_FLOOD
									: CONN_LINE_NEED_MORE;
		}
		state->scanned = len;
		*consumed_r = 0;
		return CONN_LINE_NEED_MORE;
	}
	line_len = (size_t)(lf - buf);
	*consumed_r = line_len + 1;
	state->scanned = 0;
	if (line_len > 0 && buf[line_len - 1] == '\r') {
		line_len--;
		*crlf_r = true;
	}
	if (line_len > max) {
		conn_line_keep_head(state, buf, line_len);
		*crlf_r = false;
		return CONN_LINE_SKIPPED;
	}
	*line_len_r = line_len;
	return CONN_LINE_DONE;
}

/* ------------------------------------------------------------- connection */

static void conn_peer_init(struct conn *conn)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);

	strcpy(conn->peer, "unknown");
	if (getpeername(conn->fd_in, (struct sockaddr *)&ss, &sslen) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		if (inet_ntop(AF_INET, &sin->sin_addr, conn->peer, sizeof(conn->peer)) == NULL)
			return;
		conn->peer_known = true;
		conn->loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			struct in_addr a4;

			memcpy(&a4, &sin6->sin6_addr.s6_addr[12], 4);
			if (inet_ntop(AF_INET, &a4, conn->peer, sizeof(conn->peer)) == NULL)
				return;
			conn->loopback = (ntohl(a4.s_addr) >> 24) == 127;
		} else {
			if (inet_ntop(AF_INET6, &sin6->sin6_addr, conn->peer,
				      sizeof(conn->peer)) == NULL)
				return;
			conn->loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		}
		conn->peer_known = true;
	}
	if (!conn->peer_known) {
		strcpy(conn->peer, "unknown");
		return;
	}
	/* We batch our own writes (one flush per response batch): Nagle's
	 * algorithm would only hold back the last segment of a batch until
	 * the peer's delayed ACK. */
	int one = 1;

	(void)setsockopt(conn->fd_out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int conn_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK) == 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return fl;
}

struct conn *conn_new(int fd_in, int fd_out, size_t line_max)
{
	struct conn *conn = malloc(sizeof(*conn));

	if (conn == NULL)
		return NULL;
	memset(conn, 0, offsetof(struct conn, wbuf));
	if (line_max > CONN_LINE_MAX_LIMIT)
		line_max = CONN_LINE_MAX_LIMIT;
	conn->line_max = line_max;
	conn->rsize = line_max + 2 > CONN_READ_BUF_MIN ? line_max + 2 : CONN_READ_BUF_MIN;
	conn->rbuf = malloc(conn->rsize + 1); /* + 1: room for a NUL after a full buffer */
	if (conn->rbuf == NULL) {
		free(conn);
		return NULL;
	}
	conn->fd_in = fd_in;
	conn->fd_out = fd_out;
	conn->timeout = CONN_DEFAULT_TIMEOUT;
	conn->fl_in = conn_set_nonblock(fd_in);
	conn->fl_out = fd_out == fd_in ? -1 : conn_set_nonblock(fd_out);
	conn_peer_init(conn);
	return conn;
}

void conn_free(struct conn **connp)
{
	struct conn *conn = *connp;

	if (conn == NULL)
		return;
	deflate_stream_free(&conn->deflate);
	if (conn->tls != NULL) {
		tls_session_bye(conn->tls);
		tls_session_free(&conn->tls);
	}
	/* Give back blocking mode: a terminal or pipe shared with a shell
	 * must not stay non-blocking after us. */
	if (conn->fl_in >= 0)
		(void)fcntl(conn->fd_in, F_SETFL, conn->fl_in);
	if (conn->fl_out >= 0)
		(void)fcntl(conn->fd_out, F_SETFL, conn->fl_out);
	free(conn->rbuf);
	free(conn);
	*connp = NULL;
}

void conn_set_timeout(struct conn *conn, unsigned seconds)
{
	conn->timeout = seconds;
}

void conn_set_wait_hook(struct conn *conn, void (*hook)(bool waiting, void *ctx), void *ctx)
{
	conn->wait_hook = hook;
	conn->wait_ctx = ctx;
}

void conn_set_stop_flag(struct conn *conn, volatile sig_atomic_t *flag)
{
	conn->stop = flag;
}

static int64_t conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void conn_set_time_limit(struct conn *conn, unsigned seconds)
{
	conn->limit_ms = seconds == 0 ? 0 : conn_now_ms() + (int64_t)seconds * 1000;
}

static int64_t conn_deadline(const struct conn *conn)
{
	int64_t idle = conn->timeout == 0 ? -1 : conn_now_ms() + (int64_t)conn->timeout * 1000;

	if (conn->limit_ms > 0 && (idle < 0 || conn->limit_ms < idle))
		return conn->limit_ms;
	return idle;
}

static const char *conn_errno(struct conn *conn, const char *what)
{
	snprintf(conn->errbuf, sizeof(conn->errbuf), "%s: %s", what, strerror(errno));
	return conn->errbuf;
}

/* Waits for fds[0] (and fds[1] if present) to become ready until the
 * deadline. Returns the index+1 of a ready fd, CONN_TIMEOUT or CONN_ERROR. */
static int conn_poll(struct conn *conn, struct pollfd *fds, nfds_t n, int64_t deadline,
		     const char **error_r)
{
	for (;;) {
		int timeout_ms = -1, ret;

		if (conn->stop != NULL && *conn->stop) {
			*error_r = "stopped";
			return CONN_ERROR;
		}
		if (deadline >= 0) {
			int64_t left = deadline - conn_now_ms();

			if (left <= 0)
				return CONN_TIMEOUT;
			timeout_ms = left > 3600 * 1000 ? 3600 * 1000 : (int)left;
		}
		if (conn->wait_hook != NULL)
			conn->wait_hook(true, conn->wait_ctx);
		ret = poll(fds, n, timeout_ms);
		if (conn->wait_hook != NULL)
			conn->wait_hook(false, conn->wait_ctx);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			*error_r = conn_errno(conn, "poll");
			return CONN_ERROR;
		}
		if (ret == 0)
			continue; /* re-checks the deadline */
		for (nfds_t i = 0; i < n; i++) {
			if (fds[i].revents != 0)
				return (int)i + 1;
		}
	}
}

static int conn_wait_fd(struct conn *conn, int want, int64_t deadline, const char **error_r)
{
	struct pollfd pfd;

	if (want == TLS_WANT_WRITE) {
		pfd.fd = conn->fd_out;
		pfd.events = POLLOUT;
	} else {
		pfd.fd = conn->fd_in;
		pfd.events = POLLIN;
	}
	pfd.revents = 0;
	/* POLLHUP/POLLERR also end the wait: the next read or write reports it. */
	return conn_poll(conn, &pfd, 1, deadline, error_r);
}

/* One read from the peer: > 0 bytes, CONN_EOF, CONN_TIMEOUT, CONN_ERROR. */
static ssize_t conn_raw_read(struct conn *conn, void *buf, size_t len, const char **error_r)
{
	int64_t deadline = conn_deadline(conn);

	for (;;) {
		ssize_t ret;
		int want, w;

		if (conn->stop != NULL && *conn->stop) {
			*error_r = "stopped";
			return CONN_ERROR;
		}
		if (conn->broken) {
			*error_r = conn->errbuf;
			return CONN_ERROR;
		}
		if (conn->tls != NULL) {
			ret = tls_session_read(conn->tls, buf, len, error_r);
			if (ret > 0) {
				conn->bytes_in += (uint64_t)ret;
				return ret;
			}
			if (ret == 0)
				return CONN_EOF;
			if (ret == -1)
				return CONN_ERROR;
			want = (int)ret;
		} else {
			ret = read(conn->fd_in, buf, len);
			if (ret > 0) {
				conn->bytes_in += (uint64_t)ret;
				return ret;
			}
			if (ret == 0)
				return CONN_EOF;
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				return CONN_EOF;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				*error_r = conn_errno(conn, "read");
				return CONN_ERROR;
			}
			want = TLS_WANT_READ;
		}
		w = conn_wait_fd(conn, want, deadline, error_r);
		if (w < 0)
			return w;
	}
}

/* Writes all of data: 0 or -1 with *error_r. */
static int conn_raw_write(struct conn *conn, const char *data, size_t len, const char **error_r)
{
	int64_t deadline = conn_deadline(conn);

	while (len > 0) {
		ssize_t ret;
		int want, w;

		if (conn->tls != NULL) {
			ret = tls_session_write(conn->tls, data, len, error_r);
			if (ret == -1)
				return -1;
			want = ret < 0 ? (int)ret : 0;
		} else {
			ret = write(conn->fd_out, data, len);
			want = 0;
			if (ret < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK) {
					*error_r = conn_errno(conn, "write");
					return -1;
				}
				want = TLS_WANT_WRITE;
			}
		}
		if (want == 0) {
			conn->bytes_out += (uint64_t)ret;
			data += ret;
			len -= (size_t)ret;
			continue;
		}
		w = conn_wait_fd(conn, want, deadline, error_r);
		if (w == CONN_TIMEOUT) {
			*error_r = "write timed out";
			return -1;
		}
		if (w < 0)
			return -1;
	}
	return 0;
}

/* One read of what the peer sent, inflated when compression is on:
 * > 0 bytes, CONN_EOF, CONN_TIMEOUT, CONN_ERROR. */
static ssize_t conn_stream_read(struct conn *conn, void *buf, size_t len, const char **error_r)
{
	if (conn->deflate == NULL)
		return conn_raw_read(conn, buf, len, error_r);
	for (;;) {
		long n = deflate_stream_inflate(conn->deflate, buf, len, error_r);

		if (n > 0)
			return n;
		if (n == -2)
			return CONN_EOF;
		if (n < 0) {
			snprintf(conn->errbuf, sizeof(conn->errbuf), "%s", *error_r);
			conn->broken = true;
			*error_r = conn->errbuf;
			return CONN_ERROR;
		}
		char *room;
		size_t space = deflate_stream_in_room(conn->deflate, &room);

		if (space == 0) { /* zlib takes all it is given: not expected */
			*error_r = "compressed input not consumed";
			return CONN_ERROR;
		}
		ssize_t got = conn_raw_read(conn, room, space, error_r);

		if (got <= 0)
			return got;
		deflate_stream_in_added(conn->deflate, (size_t)got);
	}
}

static int conn_raw_write_chunk(void *ctx, const char *chunk, size_t n, const char **error_r)
{
	return conn_raw_write(ctx, chunk, n, error_r);
}

/* Writes all of data, deflated when compression is on: 0 or -1. */
static int conn_stream_write(struct conn *conn, const char *data, size_t len,
			     const char **error_r)
{
	if (conn->deflate == NULL)
		return conn_raw_write(conn, data, len, error_r);
	return deflate_stream_deflate(conn->deflate, data, len, conn_raw_write_chunk, conn,
				      error_r);
}

/* Reads more into the buffer: > 0, CONN_EOF, CONN_TIMEOUT, CONN_ERROR. */
static ssize_t conn_fill(struct conn *conn, const char **error_r)
{
	/* About to wait for the peer: it may be waiting for our answers
	 * (the one flush per batch of pipelined commands). */
	if (conn->wlen > 0 && conn_flush(conn, error_r) < 0)
		return CONN_ERROR;
	if (conn->rstart == conn->rend) {
		conn->rstart = conn->rend = 0;
	} else if (conn->rend == conn->rsize && conn->rstart > 0) {
		memmove(conn->rbuf, conn->rbuf + conn->rstart, conn->rend - conn->rstart);
		conn->rend -= conn->rstart;
		conn->rstart = 0;
	}
	ssize_t ret = conn_stream_read(conn, conn->rbuf + conn->rend, conn->rsize - conn->rend,
					 error_r);

	if (ret > 0)
		conn->rend += (size_t)ret;
	return ret;
}

bool conn_skipped_line_starts(const struct conn *conn, const char *prefix)
{
	size_t n = strlen(prefix);

	return n <= conn->line.head_len && strncasecmp(conn->line.head, prefix, n) == 0;
}

int conn_read_line(struct conn *conn, size_t max, char **line_r, size_t *len_r, bool *crlf_r,
		   const char **error_r)
{
	if (max > conn->rsize - 2)
		max = conn->rsize - 2;
	for (;;) {
		if (conn->rend > conn->rstart) {
			size_t consumed, line_len;
			bool crlf;
			char *start = conn->rbuf + conn->rstart;
			enum conn_line_status st =
				conn_line_parse(&conn->line, start, conn->rend - conn->rstart, max,
						&consumed, &line_len, &crlf);

			conn->rstart += consumed;
			switch (st) {
			case CONN_LINE_DONE:
				start[line_len] = '\0';
				*line_r = start;
				*len_r = line_len;
				if (crlf_r != NULL)
					*crlf_r = crlf;
				return CONN_OK;
			case CONN_LINE_SKIPPED:
				return CONN_LINE_TOO_LONG;
			case CONN_LINE_FLOOD:
				*error_r = "line too long";
				return CONN_ERROR;
			case CONN_LINE_NEED_MORE:
				break;
			}
		}
		ssize_t ret = conn_fill(conn, error_r);

		if (ret <= 0)
			return (int)ret;
	}
}

ssize_t conn_read(struct conn *conn, void *buf, size_t len, const char **error_r)
{
	size_t have = conn->rend - conn->rstart;

	if (len == 0)
		return 0;
	if (have > 0) {
		size_t n = have < len ? have : len;

		memcpy(buf, conn->rbuf + conn->rstart, n);
		conn->rstart += n;
		return (ssize_t)n;
	}
	if (conn->wlen > 0 && conn_flush(conn, error_r) < 0)
		return CONN_ERROR;
	return conn_stream_read(conn, buf, len, error_r);
}

int conn_read_full(struct conn *conn, void *buf, size_t len, const char **error_r)
{
	char *p = buf;

	while (len > 0) {
		ssize_t ret = conn_read(conn, p, len, error_r);

		if (ret <= 0)
			return (int)ret;
		p += ret;
		len -= (size_t)ret;
	}
	return CONN_OK;
}

size_t conn_input_pending(const struct conn *conn)
{
	return conn->rend - conn->rstart;
}

/* With the read buffer empty: inflates compressed bytes already received
 * into it, without reading. 1 when that gave input (or an error for the
 * next read to report), 0 when a whole block is still to come. */
static int conn_inflate_buffered(struct conn *conn)
{
	const char *error;

	if (conn->deflate == NULL || !deflate_stream_in_pending(conn->deflate))
		return 0;
	conn->rstart = conn->rend = 0;
	long n = deflate_stream_inflate(conn->deflate, conn->rbuf, conn->rsize, &error);

	if (n > 0)
		conn->rend = (size_t)n;
	return n != 0;
}

int conn_wait_input(struct conn *conn, int extra_fd, int timeout_ms, const char **error_r)
{
	struct pollfd pfd[2];
	int64_t deadline;
	int ret;

	if (conn->rend > conn->rstart ||
	    (conn->tls != NULL && tls_session_pending(conn->tls) > 0) ||
	    conn_inflate_buffered(conn) != 0)
		return 1;
	if (conn->wlen > 0 && conn_flush(conn, error_r) < 0)
		return CONN_ERROR;
	deadline = timeout_ms < 0 ? conn_deadline(conn) : conn_now_ms() + timeout_ms;
	pfd[0].fd = conn->fd_in;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	pfd[1].fd = extra_fd;
	pfd[1].events = POLLIN;
	pfd[1].revents = 0;
	ret = conn_poll(conn, pfd, extra_fd >= 0 ? 2 : 1, deadline, error_r);
	return ret;
}

/* Remembers a write error (sticky); the text may already be in errbuf. */
static const char *conn_write_failed(struct conn *conn, const char *error)
{
	if (error != conn->errbuf)
		snprintf(conn->errbuf, sizeof(conn->errbuf), "%s", error);
	conn->write_error = conn->errbuf;
	return conn->write_error;
}

int conn_flush(struct conn *conn, const char **error_r)
{
	if (conn->write_error != NULL) {
		*error_r = conn->write_error;
		return -1;
	}
	if (conn->wlen == 0)
		return 0;
	if (conn_stream_write(conn, conn->wbuf, conn->wlen, error_r) < 0) {
		*error_r = conn_write_failed(conn, *error_r);
		conn->wlen = 0;
		return -1;
	}
	conn->wlen = 0;
	return 0;
}

bool conn_output_failed(const struct conn *conn)
{
	return conn->write_error != NULL;
}

void conn_write(struct conn *conn, const void *data, size_t len)
{
	const char *error;

	const char *p = data;

	/* Always through the buffer, so the socket sees full-size writes
	 * (a RETR stream of many messages goes out CONN_WRITE_BUF at a time,
	 * not as one short write per reply line and message). */
	while (len > 0 && conn->write_error == NULL) {
		size_t n = sizeof(conn->wbuf) - conn->wlen;

		if (n == 0) {
			if (conn_flush(conn, &error) < 0)
				return;
			continue;
		}
		if (n > len)
			n = len;
		memcpy(conn->wbuf + conn->wlen, p, n);
		conn->wlen += n;
		p += n;
		len -= n;
	}
}

void conn_puts(struct conn *conn, const char *str)
{
	conn_write(conn, str, strlen(str));
}

void conn_printf(struct conn *conn, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(buf)) {
		conn_write(conn, buf, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);

	if (big == NULL) {
		conn->write_error = "out of memory";
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	conn_write(conn, big, (size_t)n);
	free(big);
}

int conn_start_deflate(struct conn *conn, const char **error_r)
{
	if (conn->deflate != NULL) {
		*error_r = "compression is already active";
		return -1;
	}
	/* Input room for all the read buffer holds: bytes that came after the
	 * command were sent compressed (a client should wait for the reply,
	 * but that is what it would mean), and must all fit. */
	if (conn_flush(conn, error_r) < 0 ||
	    deflate_stream_new(&conn->deflate, conn->rsize, error_r) < 0)
		return -1;
	size_t have = conn->rend - conn->rstart;
	char *room;

	deflate_stream_in_room(conn->deflate, &room);
	memcpy(room, conn->rbuf + conn->rstart, have);
	deflate_stream_in_added(conn->deflate, have);
	conn->rstart = conn->rend = 0;
	conn_line_reset(&conn->line);
	return 0;
}

bool conn_is_deflate(const struct conn *conn)
{
	return conn->deflate != NULL;
}

int conn_start_tls(struct conn *conn, struct tls_creds *creds, bool server,
		   const char *server_name, size_t *discarded_r, const char **error_r)
{
	int64_t deadline;

	if (conn->tls != NULL) {
		*error_r = "TLS is already active";
		return -1;
	}
	if (conn_flush(conn, error_r) < 0)
		return -1;
	if (discarded_r != NULL)
		*discarded_r = conn->rend - conn->rstart;
	conn->rstart = conn->rend = 0;
	conn_line_reset(&conn->line);
	if (tls_session_new(creds, server, conn->fd_in, conn->fd_out, server_name, &conn->tls,
			    error_r) < 0)
		return -1;
	deadline = conn_deadline(conn);
	for (;;) {
		int ret = tls_session_handshake(conn->tls, error_r);

		if (ret == 1)
			return 0;
		if (ret == -1)
			break;
		ret = conn_wait_fd(conn, ret, deadline, error_r);
		if (ret == CONN_TIMEOUT)
			*error_r = "TLS handshake timed out";
		if (ret < 0)
			break;
	}
	/* The session is unusable; keep the error text, forget the session
	 * so nothing more is written through it. */
	*error_r = conn_write_failed(conn, *error_r);
	conn->broken = true;
	tls_session_free(&conn->tls);
	return -1;
}

bool conn_is_tls(const struct conn *conn)
{
	return conn->tls != NULL;
}

const char *conn_tls_description(const struct conn *conn)
{
	return conn->tls != NULL ? tls_session_description(conn->tls) : "";
}

const char *conn_tls_cert_name(const struct conn *conn)
{
	return conn->tls != NULL ? tls_session_cert_name(conn->tls) : "";
}

const char *conn_peer_ip(const struct conn *conn)
{
	return conn->peer;
}

const char *conn_peer_ip_or_null(const struct conn *conn)
{
	return conn->peer_known ? conn->peer : NULL;
}

bool conn_peer_is_loopback(const struct conn *conn)
{
	return conn->loopback;
}

uint64_t conn_bytes_in(const struct conn *conn)
{
	return conn->bytes_in;
}

uint64_t conn_bytes_out(const struct conn *conn)
{
	return conn->bytes_out;
}
