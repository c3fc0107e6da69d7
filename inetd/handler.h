/* What every per-connection handler (imapd, pop3d, smtpd) does before it
 * reads a client byte, in the fixed order of STYLE.md lesson 7: read the
 * configuration, read the default TLS certificate and key
 * (tls_creds_server_prepare: parsed by the first TLS session), then switch
 * to the store user and set limits (process_init). Per-name certificates
 * (tls_cert_dir) are read at the handshake, as the store user.
 * The store is opened by the handler afterwards. */
#ifndef PB_HANDLER_H
#define PB_HANDLER_H

#include <stdbool.h>

#include "cli.h"
#include "config.h"
#include "conn.h"
#include "process.h"
#include "store.h"
#include "tls.h"

struct handler_start {
	const char *name;                      /* syslog tag: "imapd" */
	const struct process_limits *limits;
	bool implicit_tls;                     /* --tls: no credentials, no service */
	const char *starttls;                  /* "STARTTLS" or "STLS", for the log */
	/* The protocol's "try again later" line, CRLF included: written in
	 * clear text when start-up fails, and through the connection (so under
	 * TLS too) when the store panics. */
	const char *tempfail;
	size_t line_max;                       /* for conn_new */
};

/* Logs `what: error`, tells a plaintext client (tell_client) the tempfail
 * line, and returns the exit status (75, EX_TEMPFAIL). */
int handler_fail(const struct handler_start *h, const char *what, const char *error,
		 bool tell_client);

/* Returns 0 with *config_r and *creds_r (NULL when TLS is not configured,
 * or when the credential files cannot be read and TLS is optional: the
 * handler then does not offer STARTTLS), or the exit status. */
int handler_start(const struct handler_start *h, const char *config_file,
		  struct config **config_r, struct tls_creds **creds_r);

/* The connection on fds 0/1 (timeout `timeout` seconds, the stop flag
 * set), the "connect" log line (with `log_extra`, e.g. " mode=mx"), the
 * store opened with the panic hook set, and the implicit TLS handshake.
 * Returns 0 with *conn_r and *store_r, or the exit status (everything
 * closed). */
int handler_connect(const struct handler_start *h, const struct config *config,
		    struct tls_creds *creds, unsigned timeout, const char *log_extra,
		    struct conn **conn_r, struct store **store_r);

/* Closes the store, then frees the connection. */
void handler_end(struct conn **conn, struct store **store);

/* Serves one session once the handler has started; returns the exit status. */
typedef int handler_serve_fn(const struct config *config, struct tls_creds *creds,
			     const struct handler_start *h);

/* The whole main() of a handler whose only options are --config FILE and
 * --tls (imapd, pop3d): parses them (h->implicit_tls set from --tls),
 * handler_start, serve, then frees everything. Returns the exit status. */
int handler_main(int argc, char **argv, const struct cli *cli, struct handler_start *h,
		 handler_serve_fn *serve);

#endif
