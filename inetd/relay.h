/* The relay: the outbound queue runner (relay.c), its per-entry work
 * (relay_deliver.c), the network helpers it needs beyond conn.h
 * (relay_net.c), the SMTP client (relay_smtp.h), DNS (dns.h), DSNs
 * (relay_dsn.h) and its configuration (relay_config.h).
 *
 * One relay process handles one entry (--id) or every due entry
 * (--run-queue), one after the other, and exits. Entries are claimed with a
 * lease in the store (outq.h), so relays started by smtpd, by the timer
 * and by cron may run at the same time without ever sending the same entry
 * twice at once. */
#ifndef PB_RELAY_H
#define PB_RELAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "outq.h"
#include "relay_config.h"
#include "dns.h"

struct tls_creds;

/* A claim lasts this long and is renewed before every connection (then
 * for as long as the session may take on top: relay_deliver.c) and every
 * entry; a relay that dies loses it at once anyway (outq.h), this only
 * covers a relay that hangs. */
#define RELAY_LEASE_SECONDS 3600
/* The waits of one SMTP session besides one command and reply per
 * recipient, each up to relay_timeout: greeting, EHLO (and HELO),
 * STARTTLS and its handshake, EHLO again, AUTH, MAIL, DATA, the data, its
 * reply (twice the timeout), QUIT; a few to spare. */
#define RELAY_SESSION_WAITS 32
/* Entries claimed at a time by --run-queue. */
#define RELAY_CLAIM_BATCH 10
/* Retry back-off after a temporary failure: 5 minutes, doubling per
 * attempt, at most 4 hours (Postfix: 5 min to 66 min; sendmail: 15 min to
 * hours). The entry bounces once queue_lifetime has passed. */
#define RELAY_RETRY_MIN 300
#define RELAY_RETRY_MAX (4 * 3600)
/* Recipients per SMTP transaction: the 100 every server must accept. */
#define RELAY_RCPTS_PER_SESSION 100
/* Network addresses tried per domain and attempt (across its MX hosts). */
#define RELAY_TRIES_PER_DOMAIN 10
/* Sending the message body: at least this many bytes a second, on top of
 * relay_timeout, or the transfer counts as stalled. */
#define RELAY_DATA_MIN_RATE 10240

struct relay {
	const struct config *config;
	struct relay_config *rc;
	struct store *store;
	struct dns_resolver *resolver;
	struct tls_creds *tls_any;      /* STARTTLS without verification (may, encrypt) */
	struct tls_creds *tls_verify;   /* with verification (verify) */
	const char *tls_error;          /* why a set of credentials could not be made */
};

/* ------------------------------------------------------- relay_deliver.c */

/* Works on one claimed entry: every pending recipient is tried, outcomes
 * and the next attempt are committed, DSNs for failed recipients are
 * delivered. 1 done (whatever the outcome), 0 the lease was lost, -1 a
 * store error (the entry stays claimed until the lease ends). */
int relay_entry_process(struct relay *relay, const char *id);

/* The delay before attempt number `attempts` + 1 (RELAY_RETRY_MIN doubling
 * up to RELAY_RETRY_MAX). */
unsigned relay_retry_delay(uint32_t attempts);

/* ---------------------------------------------------------- relay_dkim.c */

/* The DKIM-Signature field for entry `e`'s message (the body on `fd`) as
 * this attempt sends it, malloc'd into *field_r, or NULL when it is not
 * signed: the reason is logged at info (an error at error). */
void relay_dkim_sign(struct relay *relay, const struct outq_entry *e, int fd, char **field_r,
		     size_t *len_r);

/* ----------------------------------------------------------- relay_net.c */

/* Set by the deadline timer and by SIGTERM/SIGHUP/SIGINT; the flag given to
 * conn_set_stop_flag(), so a wait on a peer ends when either fires. */
extern volatile sig_atomic_t relay_conn_stop;

/* Installs the stop-signal handlers and the deadline timer. 0 or -1. */
int relay_net_init(const char **error_r);
/* Arms the deadline `seconds` from now, clearing the expired state; 0
 * disarms, keeping it (relay_deadline_expired() then tells why the last
 * step ended). Both clear relay_conn_stop unless a stop was requested. */
void relay_deadline_arm(unsigned seconds);
/* true once the armed deadline has passed. */
bool relay_deadline_expired(void);

/* Connects to addr within `timeout` seconds (and the deadline). Returns
 * the socket (non-blocking, close-on-exec) or -1 with *error_r. */
int relay_net_connect(const struct dns_addr *addr, unsigned timeout, const char **error_r);

/* The TLS credentials for a policy, made on first use. NULL with
 * relay->tls_error when they cannot be made. */
struct tls_creds *relay_tls_creds(struct relay *relay, enum relay_tls_policy policy);

#endif
