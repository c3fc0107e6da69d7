/* pop3d: one POP3 session on fds 0/1, started per connection by xinetd or a
 * systemd socket (Accept=yes). Start-up order (STYLE.md lesson 7):
 * configuration, process_init (drops root, limits, signals), TLS
 * credentials, the store, then the first byte to or from the client. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
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


static const struct cli pop3d_cli = {
	.name = "pop3d",
	.usage = "Usage: pop3d [--config FILE] [--tls]\n"
		 "Serves one POP3 session on standard input/output (started by xinetd or a\n"
		 "systemd socket with Accept=yes).\n"
		 "  --config FILE  read FILE instead of the default pillarbox.conf\n"
		 "  --tls          implicit TLS (port 995): handshake before the greeting\n"
		 "  --help         show this help and exit\n"
		 "  --version      show the version and exit\n",
};

static int pop3d_serve(const struct config *config, struct tls_creds *creds, const struct handler_start *h)
{
	struct pop3_session *session;
	struct conn *conn;
	struct store *store;
	int ret = handler_connect(h, config, creds, config->idle_timeout, "", &conn, &store);

	if (ret != 0)
		return ret;
	/* Lifted at login: until then a client cannot hold the process
	 * longer, however busy it keeps the connection. */
	conn_set_time_limit(conn, config->login_timeout);
	session = pop3_session_new(conn, store, config, creds);
	if (session == NULL) {
		handler_end(&conn, &store);
		return handler_fail(h, "start", "out of memory", !h->implicit_tls);
	}
	ret = pop3_session_run(session);
	pop3_session_free(&session); /* the maildrop lock goes first */
	handler_end(&conn, &store);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct process_limits limits = {
		.address_space = POP3D_ADDRESS_SPACE,
		.open_files = POP3D_OPEN_FILES,
	};
	struct handler_start start = {
		.name = "pop3d", .limits = &limits,
		.starttls = "STLS", .tempfail = "-ERR [SYS/TEMP] Service unavailable, try again later\r\n",
		.line_max = SASL_RESPONSE_MAX,
	};
	return handler_main(argc, argv, &pop3d_cli, &start, pop3d_serve);
}
