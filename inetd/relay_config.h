/* The relay's settings: the shared pillarbox.conf (struct config: hostname,
 * relayhost, resolver, routes, tls_priority) plus the relay's own keys,
 * read from the same file by relay_config_load():
 *
 *   smtp_port = 25               port of MX hosts (tests point it elsewhere)
 *   queue_lifetime = 5d          how long undeliverable mail is retried before
 *                                it bounces (seconds, or with s, m, h, d)
 *   relay_timeout = 300          seconds for each SMTP reply (RFC 5321
 *                                4.5.3.2: 5 minutes; the reply to the final
 *                                "." gets twice this)
 *   relay_connect_timeout = 30   seconds for a TCP connection
 *   relay_tls_policy = may       none | may | encrypt | verify, for MX delivery
 *   route_tls_policy = DOMAIN POLICY   per domain, for its route or MX (repeatable)
 *   relayhost_tls_policy = ...   default encrypt with AUTH, may without
 *   relayhost_auth_file = PATH   two lines: user name, password (AUTH to the
 *                                smarthost; readable by the store group only)
 *   relay_ca_file = PATH         trust anchors for `verify` (default: the system's)
 *
 * (These keys belong in store/config.c's table; until they are there,
 * config_load() warns that it does not know them, and this reader, which
 * runs after config_load() has validated the file's syntax, picks them up.) */
#ifndef PB_RELAY_CONFIG_H
#define PB_RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* store.h brings store/config.h (a plain "config.h" here is autoconf's). */
#include "store.h"
#include "password.h"

enum relay_tls_policy {
	RELAY_TLS_NONE,      /* never STARTTLS */
	RELAY_TLS_MAY,       /* STARTTLS when offered, certificate not checked */
	RELAY_TLS_ENCRYPT,   /* STARTTLS required, certificate not checked */
	RELAY_TLS_VERIFY,    /* STARTTLS required, certificate verified for the host name */
};

#define RELAY_DEFAULT_SMTP_PORT 25
#define RELAY_DEFAULT_LIFETIME (5 * 86400)  /* the 5 days (Postfix: 5d too) */
#define RELAY_DEFAULT_TIMEOUT 300           /* RFC 5321 4.5.3.2 */
#define RELAY_DEFAULT_CONNECT_TIMEOUT 30
/* Upper bounds: a day (as config.c's CONFIG_SECONDS_LIMIT) for timeouts, a
 * year for the lifetime. */
#define RELAY_TIMEOUT_LIMIT 86400
#define RELAY_LIFETIME_LIMIT (365 * 86400)

struct relay_route_tls {
	char *domain;                 /* lowercased */
	enum relay_tls_policy policy;
};

struct relay_config {
	const struct config *config;  /* not owned */
	uint16_t smtp_port;
	unsigned queue_lifetime;
	unsigned timeout;
	unsigned connect_timeout;
	enum relay_tls_policy tls_policy;
	enum relay_tls_policy relayhost_tls_policy;
	bool relayhost_tls_policy_set;
	char *ca_file;                /* NULL = system trust */
	char *auth_file;              /* NULL = no AUTH */
	char auth_user[256];
	char auth_password[PASSWORD_MAX + 1];
	size_t nroute_tls;
	struct relay_route_tls route_tls[CONFIG_MAX_ROUTES];
};

/* Reads the relay's keys from config->path (after config_load succeeded).
 * 0, or -1 with "FILE:LINE: key: reason" in *error_r. */
int relay_config_load(const struct config *config, struct relay_config *rc, const char **error_r);

/* Reads relayhost_auth_file (after the switch to the store user: the file
 * is readable by the store group only). 0 (also when none is set), -1. */
int relay_config_auth_load(struct relay_config *rc, const char **error_r);

/* Parses "none", "may", "encrypt", "verify". 0 or -1. */
int relay_tls_policy_parse(const char *s, enum relay_tls_policy *policy_r);
const char *relay_tls_policy_name(enum relay_tls_policy policy);

/* Parses seconds with an optional s, m, h or d suffix. 0 or -1. */
int relay_seconds_parse(const char *s, uint64_t max, unsigned *seconds_r);

/* The policy for mail to `domain` sent through its route (or by MX when
 * route is false). */
enum relay_tls_policy relay_config_policy(const struct relay_config *rc, const char *domain,
					  bool route);

/* Frees what load allocated and wipes the password. */
void relay_config_free(struct relay_config *rc);

#endif
