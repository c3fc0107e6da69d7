/* pop3d: one POP3 session on fds 0/1, started per connection by xinetd or a
 * systemd socket (Accept=yes). Start-up order (STYLE.md lesson 7):
 * configuration, process_init (drops root, limits, signals), TLS
 * credentials, the store, then the first byte to or from the client. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "handler.h"
#include "log.h"
#include "pop3.h"
#include "process.h"
#include "sasl.h"
#include "store.h"
#include "tls.h"

/* Address space for one pop3d: the store's shared regions (the cache is
 * mapped, 512 MB in DB_CONFIG) plus GnuTLS and our buffers. A runaway
 * allocation fails here and the process exits cleanly instead of being
 * OOM-killed without closing the store. */
#define POP3D_ADDRESS_SPACE (2048UL * 1024 * 1024)
/* Enough for the store's databases, body files, lock file and the socket. */
#define POP3D_OPEN_FILES 256

static struct conn *pop3d_conn;
static struct store *pop3d_store;

/* The store's panic hook: one temporary-failure line, then the store
 * _exit()s. Runs in whatever state we are in: the reply goes through the
 * connection so that it is encrypted under TLS. */
static void pop3d_panic(void)
{
	const char *error;

	if (pop3d_conn == NULL)
		return;
	conn_puts(pop3d_conn, "-ERR [SYS/TEMP] Internal error, try again later\r\n");
	(void)conn_flush(pop3d_conn, &error);
}

static void pop3d_usage(FILE *out)
{
	fputs("Usage: pop3d [--config FILE] [--tls]\n"
	      "Serves one POP3 session on standard input/output (started by xinetd or a\n"
	      "systemd socket with Accept=yes).\n"
	      "  --config FILE  read FILE instead of the default pillarbox.conf\n"
	      "  --tls          implicit TLS (port 995): handshake before the greeting\n"
	      "  --help         show this help\n"
	      "  --version      show the version\n",
	      out);
}

/* A fatal start-up error before the session: tell the client in one line
 * (in clear text: without TLS there is nothing better) and leave. */
static int pop3d_fail(const char *what, const char *error, bool tell_client)
{
	log_error("%s: %s", what, error);
	if (tell_client) {
		static const char msg[] = "-ERR [SYS/TEMP] Service unavailable, try again later\r\n";

		if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nobody to tell */
		}
	}
	return 75; /* EX_TEMPFAIL */
}

static int pop3d_serve(const struct config *config, struct tls_creds *creds, bool implicit_tls)
{
	struct pop3_session *session;
	const char *error = NULL;
	int ret;

	pop3d_conn = conn_new(STDIN_FILENO, STDOUT_FILENO, SASL_RESPONSE_MAX);
	if (pop3d_conn == NULL)
		return pop3d_fail("start", "out of memory", true);
	conn_set_timeout(pop3d_conn, config->idle_timeout);
	conn_set_stop_flag(pop3d_conn, &process_stop_requested);
	log_info("connect rip=%s%s", conn_peer_ip(pop3d_conn), implicit_tls ? " tls=implicit" : "");

	if (store_open(config, false, &pop3d_store, &error) < 0) {
		conn_free(&pop3d_conn);
		return pop3d_fail("store", error, !implicit_tls);
	}
	store_set_panic_hook(pop3d_panic);
	if (implicit_tls) {
		if (conn_start_tls(pop3d_conn, creds, true, NULL, NULL, &error) < 0) {
			log_info("TLS handshake failed rip=%s: %s", conn_peer_ip(pop3d_conn), error);
			store_close(&pop3d_store);
			conn_free(&pop3d_conn);
			return 1;
		}
		log_info("tls rip=%s tls=%s", conn_peer_ip(pop3d_conn),
			 conn_tls_description(pop3d_conn));
	}
	session = pop3_session_new(pop3d_conn, pop3d_store, config, creds);
	if (session == NULL) {
		store_close(&pop3d_store);
		conn_free(&pop3d_conn);
		return pop3d_fail("start", "out of memory", !implicit_tls);
	}
	ret = pop3_session_run(session);
	pop3_session_free(&session); /* the maildrop lock goes first */
	store_close(&pop3d_store);
	conn_free(&pop3d_conn);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "tls", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct process_limits limits = {
		.address_space = POP3D_ADDRESS_SPACE,
		.open_files = POP3D_OPEN_FILES,
	};
	const char *config_file = NULL;
	struct config *config = NULL;
	struct tls_creds *creds = NULL;
	bool implicit_tls = false;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_file = optarg;
			break;
		case 't':
			implicit_tls = true;
			break;
		case 'h':
			pop3d_usage(stdout);
			return 0;
		case 'V':
			puts("pop3d (" PACKAGE_NAME ") " PACKAGE_VERSION);
			return 0;
		default:
			pop3d_usage(stderr);
			return 64; /* EX_USAGE */
		}
	}
	if (optind != argc) {
		pop3d_usage(stderr);
		return 64;
	}

	struct handler_start start = {
		.name = "pop3d", .limits = &limits, .implicit_tls = implicit_tls,
		.starttls = "STLS", .fail = pop3d_fail,
	};
	ret = handler_start(&start, config_file, &config, &creds);
	if (ret != 0)
		return ret;
	ret = pop3d_serve(config, creds, implicit_tls);
	tls_creds_free(&creds);
	config_free(&config);
	return ret;
}
