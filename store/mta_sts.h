/* MTA-STS (RFC 8461): the policy this MX publishes for every local domain,
 * so that senders that know it reach the MX over TLS with a certificate
 * valid for its name (enforce), or deliver anyway and report what failed
 * (testing, with TLS-RPT, RFC 8460). The web front ends serve it at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt (cgi/mta_sts.c); `pillarbox
 * domain dns` prints the records that announce it, whose id changes with
 * the text. */
#ifndef PB_MTA_STS_H
#define PB_MTA_STS_H

#include <stddef.h>

#include "config.h"

#define MTA_STS_POLICY_MAX 512
/* How long senders keep the policy: a week (RFC 8461 3.2 suggests weeks). */
#define MTA_STS_MAX_AGE 604800
#define MTA_STS_ID_LEN 16

/* The policy's text (lines ending CRLF) into buf: its length, or 0 when
 * there is none to publish: no TLS certificate configured (tls_cert), or
 * neither public_hostname nor hostname is a host name of two labels or
 * more (the MX's name is the first that is, as in the MX records of
 * `pillarbox domain dns`). */
size_t mta_sts_policy(const struct config *config, char buf[MTA_STS_POLICY_MAX]);

/* The id of the _mta-sts TXT record: MTA_STS_ID_LEN hex digits of a hash
 * of the policy text, so it changes whenever the policy does. */
void mta_sts_id(const char *policy, size_t len, char id[MTA_STS_ID_LEN + 1]);

#endif
