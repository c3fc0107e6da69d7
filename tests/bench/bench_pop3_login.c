/* bench_pop3_login: the POP3 login benchmark's load client, in C so that
 * the client's own CPU (a Python client spent about as much per login as
 * the server on two cores) takes as little as possible from what it
 * measures. CLIENTS threads share COUNT connections to HOST:PORT:
 *   - with IRs (AUTH PLAIN initial responses, base64): greeting, then
 *     "AUTH PLAIN IR" (client i uses IR i modulo their number), then STAT
 *     and QUIT pipelined; every reply must be +OK;
 *   - without: the greeting only (a line starting "+OK"), the bare
 *     launcher's rate.
 * Prints "ok N failed M seconds S rate R" (R: completed connections per
 * second). Run by tests/bench/bench_pop3.py.
 *
 * usage: bench_pop3_login HOST PORT CLIENTS COUNT [IR...] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_client.h"

#define CMD_MAX 1024

struct bench {
	struct sockaddr_in addr;
	unsigned clients, count;
	char **irs;
	unsigned nirs;
	atomic_uint next, ok, failed;
};

struct client {
	struct bench *b;
	unsigned index;
};

/* One reply line: true when it starts "+OK". */
static bool reply_ok(struct bench_reader *r)
{
	size_t n;
	const char *line = bench_read_line(r, &n);

	return line != NULL && n >= 3 && memcmp(line, "+OK", 3) == 0;
}

static bool one_connection(struct bench *b, unsigned index)
{
	struct bench_reader r = { .fd = socket(AF_INET, SOCK_STREAM, 0) };
	int one = 1;
	bool ok = false;

	if (r.fd < 0)
		return false;
	setsockopt(r.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(r.fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) < 0 || !reply_ok(&r))
		goto out;
	if (b->nirs == 0) {
		ok = true;
		goto out;
	}
	char cmd[CMD_MAX];
	int len = snprintf(cmd, sizeof(cmd), "AUTH PLAIN %s\r\n", b->irs[index % b->nirs]);

	if (len < 0 || (size_t)len >= sizeof(cmd) || bench_send_all(r.fd, cmd, (size_t)len) < 0 ||
	    !reply_ok(&r) || bench_send_all(r.fd, "STAT\r\nQUIT\r\n", 12) < 0 || !reply_ok(&r) ||
	    !reply_ok(&r))
		goto out;
	ok = true;
out:
	close(r.fd);
	return ok;
}

static void *client_run(void *arg)
{
	struct client *c = arg;

	while (atomic_fetch_add(&c->b->next, 1) < c->b->count) {
		if (one_connection(c->b, c->index))
			atomic_fetch_add(&c->b->ok, 1);
		else
			atomic_fetch_add(&c->b->failed, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench b;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_pop3_login HOST PORT CLIENTS COUNT [IR...]\n");
		return 64;
	}
	memset(&b, 0, sizeof(b));
	b.addr.sin_family = AF_INET;
	b.addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &b.addr.sin_addr) != 1) {
		fprintf(stderr, "bench_pop3_login: %s: not an IPv4 address\n", argv[1]);
		return 64;
	}
	b.clients = (unsigned)atoi(argv[3]);
	b.count = (unsigned)atoi(argv[4]);
	b.irs = argv + 5;
	b.nirs = (unsigned)(argc - 5);
	if (b.clients == 0 || b.clients > 1000) {
		fprintf(stderr, "bench_pop3_login: CLIENTS must be 1..1000\n");
		return 64;
	}
	pthread_t threads[1000];
	struct client clients[1000];
	double t0 = bench_now();

	for (unsigned i = 0; i < b.clients; i++) {
		clients[i] = (struct client){ .b = &b, .index = i };
		if (pthread_create(&threads[i], NULL, client_run, &clients[i]) != 0) {
			fprintf(stderr, "bench_pop3_login: pthread_create failed\n");
			return 1;
		}
	}
	for (unsigned i = 0; i < b.clients; i++)
		pthread_join(threads[i], NULL);
	double seconds = bench_now() - t0;

	printf("ok %u failed %u seconds %.3f rate %.1f\n", atomic_load(&b.ok),
	       atomic_load(&b.failed), seconds, atomic_load(&b.ok) / seconds);
	return atomic_load(&b.failed) == 0 ? 0 : 1;
}
