/* imapd: one IMAP session on fds 0/1, started per connection by xinetd or a
 * systemd socket (Accept=yes); port 143 with STARTTLS, 993 with --tls.
 * Start-up order (STYLE.md lesson 7): configuration, process_init (drops
 * root, limits, signals), TLS credentials, the store, then the first byte
 * to or from the client. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "handler.h"
#include "imap.h"
#include "log.h"
#include "process.h"
#include "store.h"
#include "tls.h"

/* Address space for one imapd: the store's mapped regions (the 512 MB
 * cache in DB_CONFIG), GnuTLS and our buffers (a 100,000-message mailbox
 * map is 400 KB). A runaway allocation fails here and the process exits
 * cleanly instead of being OOM-killed with the store open. */
#define IMAPD_ADDRESS_SPACE (2048UL * 1024 * 1024)
#define IMAPD_OPEN_FILES 256

static struct conn *imapd_conn;

/* The store's panic hook: one untagged BYE, then the store _exit()s. */
static void imapd_panic(void)
{
	const char *error;

	if (imapd_conn == NULL)
		return;
	conn_puts(imapd_conn, "* BYE [UNAVAILABLE] Internal error, try again later\r\n");
	(void)conn_flush(imapd_conn, &error);
}

static void imapd_usage(FILE *out)
{
	fputs("Usage: imapd [--config FILE] [--tls]\n"
	      "Serves one IMAP session on standard input/output (started by xinetd or a\n"
	      "systemd socket with Accept=yes).\n"
	      "  --config FILE  read FILE instead of the default pillarbox.conf\n"
	      "  --tls          implicit TLS (port 993): handshake before the greeting\n"
	      "  --help         show this help\n"
	      "  --version      show the version\n",
	      out);
}

static int imapd_fail(const char *what, const char *error, bool tell_client)
{
	log_error("%s: %s", what, error);
	if (tell_client) {
		static const char msg[] = "* BYE [UNAVAILABLE] Service unavailable, try again later\r\n";

		if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nobody to tell */
		}
	}
	return 75; /* EX_TEMPFAIL */
}

static int imapd_serve(const struct config *config, struct tls_creds *creds, bool implicit_tls)
{
	struct imap_session *session;
	struct store *store = NULL;
	const char *error = NULL;
	int ret;

	imapd_conn = conn_new(STDIN_FILENO, STDOUT_FILENO, IMAP_LINE_MAX);
	if (imapd_conn == NULL)
		return imapd_fail("start", "out of memory", true);
	conn_set_timeout(imapd_conn, config->idle_timeout);
	conn_set_stop_flag(imapd_conn, &process_stop_requested);
	log_info("connect rip=%s%s", conn_peer_ip(imapd_conn), implicit_tls ? " tls=implicit" : "");
	if (store_open(config, false, &store, &error) < 0) {
		conn_free(&imapd_conn);
		return imapd_fail("store", error, !implicit_tls);
	}
	store_set_panic_hook(imapd_panic);
	if (implicit_tls) {
		if (conn_start_tls(imapd_conn, creds, true, NULL, NULL, &error) < 0) {
			log_info("TLS handshake failed rip=%s: %s", conn_peer_ip(imapd_conn), error);
			store_close(&store);
			conn_free(&imapd_conn);
			return 1;
		}
		log_info("tls rip=%s tls=%s", conn_peer_ip(imapd_conn),
			 conn_tls_description(imapd_conn));
	}
	session = imap_session_new(imapd_conn, store, config, implicit_tls ? NULL : creds,
				   implicit_tls);
	if (session == NULL) {
		store_close(&store);
		conn_free(&imapd_conn);
		return imapd_fail("start", "out of memory", !implicit_tls);
	}
	ret = imap_session_run(session);
	imap_session_free(&session);
	store_close(&store);
	conn_free(&imapd_conn);
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
		.address_space = IMAPD_ADDRESS_SPACE,
		.open_files = IMAPD_OPEN_FILES,
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
			imapd_usage(stdout);
			return 0;
		case 'V':
			puts("imapd (" PACKAGE_NAME ") " PACKAGE_VERSION);
			return 0;
		default:
			imapd_usage(stderr);
			return 64; /* EX_USAGE */
		}
	}
	if (optind != argc) {
		imapd_usage(stderr);
		return 64;
	}
	struct handler_start start = {
		.name = "imapd", .limits = &limits, .implicit_tls = implicit_tls,
		.starttls = "STARTTLS", .fail = imapd_fail,
	};
	ret = handler_start(&start, config_file, &config, &creds);
	if (ret != 0)
		return ret;
	ret = imapd_serve(config, creds, implicit_tls);
	tls_creds_free(&creds);
	config_free(&config);
	return ret;
}
