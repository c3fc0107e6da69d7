/* What every per-connection handler (imapd, pop3d, smtpd) does before it
 * reads a client byte, in the fixed order of STYLE.md lesson 7: read the
 * configuration, switch to the store user and set limits (process_init),
 * then load the TLS credentials (the key is readable by the store group).
 * The store is opened by the handler afterwards. */
#ifndef PB_HANDLER_H
#define PB_HANDLER_H

#include <stdbool.h>

#include "config.h"
#include "process.h"
#include "tls.h"

struct handler_start {
	const char *name;                      /* syslog tag: "imapd" */
	const struct process_limits *limits;
	bool implicit_tls;                     /* --tls: no credentials, no service */
	const char *starttls;                  /* "STARTTLS" or "STLS", for the log */
	/* Logs `what: error`, tells a plaintext client (tell_client) with the
	 * protocol's temporary-failure line, returns the exit status. */
	int (*fail)(const char *what, const char *error, bool tell_client);
};

/* Returns 0 with *config_r and *creds_r (NULL when TLS is not configured,
 * or when the credentials are broken and TLS is optional: the handler then
 * does not offer STARTTLS), or the exit status from fail(). */
int handler_start(const struct handler_start *h, const char *config_file,
		  struct config **config_r, struct tls_creds **creds_r);

#endif
