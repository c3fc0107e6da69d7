/* bench_client.h: what the benchmarks' C load clients share. */
#ifndef PILLARBOX_BENCH_CLIENT_H
#define PILLARBOX_BENCH_CLIENT_H

#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

/* Monotonic seconds. */
static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* All n bytes to a socket: 0, or -1 when the peer is gone. */
static inline int bench_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A connection's replies, read a line at a time. */
struct bench_reader {
	int fd;
	size_t len;   /* bytes in buf */
	size_t used;  /* the line returned last, dropped at the next call */
	char buf[4096];
};

/* The next line, LF included, its length in *n; NULL when the peer is gone
 * or a line does not fit the buffer. */
static inline const char *bench_read_line(struct bench_reader *r, size_t *n)
{
	memmove(r->buf, r->buf + r->used, r->len - r->used);
	r->len -= r->used;
	r->used = 0;
	for (;;) {
		char *eol = memchr(r->buf, '\n', r->len);

		if (eol != NULL) {
			r->used = (size_t)(eol - r->buf) + 1;
			*n = r->used;
			return r->buf;
		}
		if (r->len == sizeof(r->buf))
			return NULL;
		ssize_t got = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);

		if (got <= 0)
			return NULL;
		r->len += (size_t)got;
	}
}

#endif
