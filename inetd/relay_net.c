/* What the relay needs beyond conn.h: a connect with a timeout, a hard
 * deadline per SMTP step (conn.h's timeouts are idle timeouts, which a peer
 * sending a byte now and then never trips), the stop signals, and client
 * TLS credentials made on first use. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "process.h"
#include "relay.h"
#include "tls.h"

/* The deadline timer's signal: SIGALRM belongs to the store watchdog. */
#define RELAY_TIMER_SIGNAL SIGUSR1

volatile sig_atomic_t relay_conn_stop;
static volatile sig_atomic_t relay_expired;
static timer_t relay_timer;
static bool relay_timer_ok;
static char relay_net_error[256];

static void relay_stop_handler(int sig)
{
	(void)sig;
	process_stop_requested = 1;
	relay_conn_stop = 1;
}

static void relay_timer_handler(int sig)
{
	(void)sig;
	relay_expired = 1;
	relay_conn_stop = 1;
}

int relay_net_init(const char **error_r)
{
	static const int stops[] = { SIGTERM, SIGHUP, SIGINT };
	struct sigevent sev;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a poll() returns EINTR and conn.c sees the flag. */
	sa.sa_handler = relay_stop_handler;
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);
	sa.sa_handler = relay_timer_handler;
	sigaction(RELAY_TIMER_SIGNAL, &sa, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = RELAY_TIMER_SIGNAL;
	if (timer_create(CLOCK_MONOTONIC, &sev, &relay_timer) < 0) {
		snprintf(relay_net_error, sizeof(relay_net_error), "timer_create: %s",
			 strerror(errno));
		*error_r = relay_net_error;
		return -1;
	}
	relay_timer_ok = true;
	return 0;
}

void relay_deadline_arm(unsigned seconds)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (relay_timer_ok)
		timer_settime(relay_timer, 0, &its, NULL); /* disarm first: no stale signal */
	relay_conn_stop = process_stop_requested;
	/* Disarming keeps the verdict for the caller to read. */
	if (seconds == 0 || !relay_timer_ok)
		return;
	relay_expired = 0;
	its.it_value.tv_sec = seconds;
	timer_settime(relay_timer, 0, &its, NULL);
}

bool relay_deadline_expired(void)
{
	return relay_expired != 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int relay_net_connect(const struct dns_addr *addr, unsigned timeout, const char **error_r)
{
	int64_t deadline = now_ms() + (int64_t)timeout * 1000;
	int fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0) {
		snprintf(relay_net_error, sizeof(relay_net_error), "socket: %s", strerror(errno));
		*error_r = relay_net_error;
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&addr->sa, addr->len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		snprintf(relay_net_error, sizeof(relay_net_error), "connect: %s", strerror(errno));
		goto fail;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int64_t left = deadline - now_ms();
		int r;

		if (relay_conn_stop) {
			snprintf(relay_net_error, sizeof(relay_net_error), "%s",
				 process_stop_requested ? "stopped" : "connect timed out");
			goto fail;
		}
		if (left <= 0) {
			snprintf(relay_net_error, sizeof(relay_net_error), "connect timed out");
			goto fail;
		}
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(relay_net_error, sizeof(relay_net_error), "poll: %s", strerror(errno));
			goto fail;
		}
		if (r > 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		err = errno;
	if (err != 0) {
		snprintf(relay_net_error, sizeof(relay_net_error), "connect: %s", strerror(err));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	*error_r = relay_net_error;
	return -1;
}

struct tls_creds *relay_tls_creds(struct relay *relay, enum relay_tls_policy policy)
{
	bool verify = policy == RELAY_TLS_VERIFY;
	struct tls_creds **slot = verify ? &relay->tls_verify : &relay->tls_any;
	const char *error = NULL;

	if (*slot == NULL &&
	    tls_creds_client_new(relay->rc->ca_file, verify, relay->config->tls_priority, slot,
				 &error) < 0) {
		relay->tls_error = error;
		*slot = NULL;
	}
	return *slot;
}
