/* bench_smtp: an SMTP load client in the spirit of Postfix's smtp-source.
 * SESSIONS threads each open connections to HOST:PORT and send their share
 * of MESSAGES messages of SIZE bytes (MAIL, RCPT, DATA pipelined, then the
 * data), PER_CONN messages per connection (1 = a new connection, hence a
 * new smtpd process, for every message, as smtp-source does by default).
 * Recipients rotate over user0..user(USERS-1)@DOMAIN so that sessions do
 * not all queue on one mailbox. Prints the messages answered 250 and the
 * rate; what counts is checked in the store by tests/bench/bench_smtp.py.
 *
 * usage: bench_smtp HOST PORT SESSIONS MESSAGES [SIZE [PER_CONN [USERS [DOMAIN]]]] */
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


struct bench {
	struct sockaddr_in addr;
	unsigned sessions, messages, per_conn, users;
	size_t size;
	const char *domain;
	char *body;               /* the message, dot-stuffed, ending CRLF */
	size_t body_len;
	atomic_uint next;         /* messages handed out */
	atomic_uint ok, failed;
};

/* One reply (multi-line aware): its code, or -1. */
static int reply(struct bench_reader *c)
{
	for (;;) {
		size_t n;
		const char *line = bench_read_line(c, &n);

		if (line == NULL)
			return -1;
		if (n < 4)
			return -1;
		if (line[3] != '-')
			return atoi(line);
	}
}

static int bench_connect(struct bench *b, struct bench_reader *c)
{
	int one = 1;

	c->len = 0;
	c->used = 0;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (reply(c) != 220)
		return -1;
	if (bench_send_all(c->fd, "EHLO bench.example\r\n", 20) < 0 || reply(c) != 250)
		return -1;
	return 0;
}

static void *session(void *arg)
{
	struct bench *b = arg;
	struct bench_reader c = { .fd = -1 };
	unsigned sent_on_conn = 0;

	for (;;) {
		unsigned n = atomic_fetch_add(&b->next, 1);
		char cmd[512];
		int len;

		if (n >= b->messages)
			break;
		if (c.fd < 0 || sent_on_conn == b->per_conn) {
			if (c.fd >= 0) {
				bench_send_all(c.fd, "QUIT\r\n", 6);
				reply(&c);
				close(c.fd);
			}
			sent_on_conn = 0;
			if (bench_connect(b, &c) < 0) {
				atomic_fetch_add(&b->failed, 1);
				if (c.fd >= 0)
					close(c.fd);
				c.fd = -1;
				continue;
			}
		}
		sent_on_conn++;
		len = snprintf(cmd, sizeof(cmd), "MAIL FROM:<bench@load.example> SIZE=%zu\r\n"
						  "RCPT TO:<user%u@%s>\r\nDATA\r\n",
			       b->body_len, n % b->users, b->domain);
		if (bench_send_all(c.fd, cmd, (size_t)len) < 0 || reply(&c) != 250 || reply(&c) != 250 ||
		    reply(&c) != 354 || bench_send_all(c.fd, b->body, b->body_len) < 0 ||
		    bench_send_all(c.fd, ".\r\n", 3) < 0 || reply(&c) != 250) {
			atomic_fetch_add(&b->failed, 1);
			close(c.fd);
			c.fd = -1;
			continue;
		}
		atomic_fetch_add(&b->ok, 1);
	}
	if (c.fd >= 0) {
		bench_send_all(c.fd, "QUIT\r\n", 6);
		reply(&c);
		close(c.fd);
	}
	return NULL;
}

/* A message of about `size` bytes: a header and 76-character lines. */
static void make_body(struct bench *b)
{
	size_t cap = b->size + 256, len;

	b->body = malloc(cap);
	len = (size_t)snprintf(b->body, cap, "From: <bench@load.example>\r\nTo: <user@%s>\r\n"
					       "Subject: bench\r\nMessage-ID: <bench@load.example>\r\n\r\n",
			       b->domain);
	while (len + 78 <= b->size) {
		memset(b->body + len, 'a' + (char)(len % 26), 76);
		memcpy(b->body + len + 76, "\r\n", 2);
		len += 78;
	}
	b->body_len = len;
}

int main(int argc, char **argv)
{
	struct bench b;
	pthread_t *threads;
	double t0, t1;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_smtp HOST PORT SESSIONS MESSAGES "
				"[SIZE [PER_CONN [USERS [DOMAIN]]]]\n");
		return 64;
	}
	memset(&b, 0, sizeof(b));
	b.addr.sin_family = AF_INET;
	b.addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &b.addr.sin_addr) != 1) {
		fprintf(stderr, "bench_smtp: %s: not an IPv4 address\n", argv[1]);
		return 64;
	}
	b.sessions = (unsigned)atoi(argv[3]);
	b.messages = (unsigned)atoi(argv[4]);
	b.size = argc > 5 ? (size_t)atol(argv[5]) : 5120;
	b.per_conn = argc > 6 ? (unsigned)atoi(argv[6]) : 1000000;
	b.users = argc > 7 ? (unsigned)atoi(argv[7]) : 10;
	b.domain = argc > 8 ? argv[8] : "example.com";
	if (b.sessions == 0 || b.users == 0 || b.per_conn == 0) {
		fprintf(stderr, "bench_smtp: SESSIONS, PER_CONN and USERS must be positive\n");
		return 64;
	}
	make_body(&b);
	threads = calloc(b.sessions, sizeof(*threads));
	t0 = bench_now();
	for (unsigned i = 0; i < b.sessions; i++)
		pthread_create(&threads[i], NULL, session, &b);
	for (unsigned i = 0; i < b.sessions; i++)
		pthread_join(threads[i], NULL);
	t1 = bench_now();
	printf("sessions=%u messages=%u size=%zu per_conn=%u ok=%u failed=%u seconds=%.3f "
	       "rate=%.1f\n", b.sessions, b.messages, b.body_len, b.per_conn, atomic_load(&b.ok),
	       atomic_load(&b.failed), t1 - t0, atomic_load(&b.ok) / (t1 - t0));
	free(threads);
	free(b.body);
	return atomic_load(&b.failed) == 0 ? 0 : 1;
}
