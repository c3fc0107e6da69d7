/* imapd: one IMAP session on fds 0/1, started per connection by xinetd or a
 * systemd socket (Accept=yes); port 143 with STARTTLS, 993 with --tls.
 * Start-up order (STYLE.md lesson 7): configuration, process_init (drops
 * root, limits, signals), TLS credentials, the store, then the first byte
 * to or from the client. */
#include <config.h>

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
	/* Lifted at login: until then a client cannot hold the process
	 * longer, however busy it keeps the connection. */
	conn_set_time_limit(conn, config->login_timeout);
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
	const struct process_limits limits = {
		.address_space = IMAPD_ADDRESS_SPACE,
		.open_files = IMAPD_OPEN_FILES,
	};
	struct handler_start start = {
		.name = "imapd", .limits = &limits,
		.starttls = "STARTTLS", .tempfail = "* BYE [UNAVAILABLE] Service unavailable, try again later\r\n",
		.line_max = IMAP_LINE_MAX,
	};
	return handler_main(argc, argv, &imapd_cli, &start, imapd_serve);
}
