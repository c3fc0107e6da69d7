/* bench_client.h: what the benchmarks' C load clients share. */
#ifndef PILLARBOX_BENCH_CLIENT_H
#define PILLARBOX_BENCH_CLIENT_H

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

#endif
