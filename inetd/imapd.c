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

#include "cli.h"
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


static const struct cli imapd_cli = {
	.name = "imapd",
	.usage = "Usage: imapd [--config FILE] [--tls]\n"
		 "Serves one IMAP session on standard input/output (started by xinetd or a\n"
		 "systemd socket with Accept=yes).\n"
		 "  --config FILE  read FILE instead of the default pillarbox.conf\n"
		 "  --tls          implicit TLS (port 993): handshake before the greeting\n"
		 "  --help         show this help and exit\n"
		 "  --version      show the version and exit\n",
};

static int imapd_serve(const struct config *config, struct tls_creds *creds, const struct handler_start *h)
{
	struct imap_session *session;
	struct conn *conn;
	struct store *store;
	int ret = handler_connect(h, config, creds, config->idle_timeout, "", &conn, &store);

	if (ret != 0)
		return ret;
	session = imap_session_new(conn, store, config, h->implicit_tls ? NULL : creds,
				   h->implicit_tls);
	if (session == NULL) {
		handler_end(&conn, &store);
		return handler_fail(h, "start", "out of memory", !h->implicit_tls);
	}
	ret = imap_session_run(session);
	imap_session_free(&session);
	handler_end(&conn, &store);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CONFIG = CLI_OPT_FIRST, OPT_TLS };
	static const struct option options[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "tls", no_argument, NULL, OPT_TLS },
		CLI_OPTIONS_COMMON,
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

	while ((opt = cli_getopt(&imapd_cli, argc, argv, "", options)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			config_file = optarg;
			break;
		case OPT_TLS:
			implicit_tls = true;
			break;
		}
	}
	if ((ret = cli_no_operands(imapd_cli.name, argc, argv)) != 0)
		return ret;
	struct handler_start start = {
		.name = "imapd", .limits = &limits, .implicit_tls = implicit_tls,
		.starttls = "STARTTLS", .tempfail = "* BYE [UNAVAILABLE] Service unavailable, try again later\r\n",
		.line_max = IMAP_LINE_MAX,
	};
	ret = handler_start(&start, config_file, &config, &creds);
	if (ret != 0)
		return ret;
	ret = imapd_serve(config, creds, &start);
	tls_creds_free(&creds);
	config_free(&config);
	return ret;
}
