/* managesieved: one ManageSieve session (RFC 5804) on fds 0/1, started per
 * connection by xinetd or a systemd socket (Accept=yes) on port 4190.
 * Start-up order (STYLE.md lesson 7) as pop3d's: configuration,
 * process_init (drops root, limits, signals), TLS credentials, the store,
 * then the first byte to or from the client. */
#include <config.h>

#include "cli.h"
#include "conn.h"
#include "handler.h"
#include "managesieve.h"
#include "process.h"
#include "store.h"
#include "tls.h"

/* Address space: the store's mapped cache (512 MB in DB_CONFIG), GnuTLS
 * and at most three 64 KB literals; as pop3d. */
#define MANAGESIEVED_ADDRESS_SPACE (2048UL * 1024 * 1024)
#define MANAGESIEVED_OPEN_FILES 256

static const struct cli managesieved_cli = {
	.name = "managesieved",
	.usage = "Usage: managesieved [--config FILE] [--tls]\n"
		 "Serves one ManageSieve session on standard input/output (started by xinetd\n"
		 "or a systemd socket with Accept=yes, port 4190).\n"
		 "  --config FILE  read FILE instead of the default pillarbox.conf\n"
		 "  --tls          implicit TLS: handshake before the greeting\n"
		 "  --help         show this help and exit\n"
		 "  --version      show the version and exit\n",
};

static int managesieved_serve(const struct config *config, struct tls_creds *creds,
			      const struct handler_start *h)
{
	struct ms_session *session;
	struct conn *conn;
	struct store *store;
	int ret = handler_connect(h, config, creds, config->idle_timeout, "", &conn, &store);

	if (ret != 0)
		return ret;
	/* Lifted at login. */
	conn_set_time_limit(conn, config->login_timeout);
	session = ms_session_new(conn, store, config, creds);
	if (session == NULL) {
		handler_end(&conn, &store);
		return handler_fail(h, "start", "out of memory", !h->implicit_tls);
	}
	ret = ms_session_run(session);
	ms_session_free(&session);
	handler_end(&conn, &store);
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct process_limits limits = {
		.address_space = MANAGESIEVED_ADDRESS_SPACE,
		.open_files = MANAGESIEVED_OPEN_FILES,
	};
	struct handler_start start = {
		.name = "managesieved", .limits = &limits,
		.starttls = "STARTTLS",
		.tempfail = "BYE (TRYLATER) \"Service unavailable, try again later\"\r\n",
		.line_max = MS_LINE_MAX,
	};
	return handler_main(argc, argv, &managesieved_cli, &start, managesieved_serve);
}
