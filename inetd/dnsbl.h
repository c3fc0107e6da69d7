/* DNS blocklists (RFC 5782) at the MX, as Postfix's reject_rbl_client:
 * smtpd looks a client that did not log in up once per connection (at its
 * first RCPT) in each zone of `dnsbl` and refuses its recipients when one
 * lists it.
 *
 * A client is listed when a zone answers its query name with an A record
 * in 127.0.0.0/8, except 127.255.255.0/24, which Spamhaus returns for its
 * errors (127.255.255.252 typo, .254 "query via a public resolver", .255
 * "over the free limit"): logged as a warning, never a listing. An address
 * outside 127/8 is no list's answer (a resolver that rewrites NXDOMAIN to
 * an advertising page): ignored and logged. NXDOMAIN is "not listed"; a
 * DNS failure or timeout too (fail open: a dead list must not stop mail),
 * logged. */
#ifndef PB_DNSBL_H
#define PB_DNSBL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

/* Seconds the lookups of one connection may take together (every zone):
 * a slow list delays a client's first RCPT by at most this. */
#define DNSBL_BUDGET_SECONDS 10
/* Zones looked at (CONFIG_DNSBL_MAX): more in `zones` are ignored. */
#define DNSBL_ZONES_MAX 8
/* The longest zone (CONFIG_DNSBL_ZONE_MAX): an IPv6 query name puts 32
 * nibbles and their dots (64 characters) before it, within DNS's 253. */
#define DNSBL_ZONE_MAX 189
/* A query name as text with its NUL. */
#define DNSBL_NAME_MAX (64 + DNSBL_ZONE_MAX + 1)

/* The query name of the client address `ip` (text, IPv4 "192.0.2.1" or
 * IPv6) under `zone` (zone_len bytes, no final dot): "1.2.0.192.ZONE", or
 * the 32 nibbles of an IPv6 address reversed (RFC 5782 2.1, 2.4). An
 * IPv4-mapped IPv6 address is queried as IPv4. Returns its length, or 0
 * when `ip` is no address or the name would not fit `size` or 253
 * characters. */
size_t dnsbl_query_name(const char *ip, const char *zone, size_t zone_len, char *buf,
			size_t size);

/* What one zone's answer says. */
enum dnsbl_answer {
	DNSBL_ANSWER_NONE,      /* NXDOMAIN or no A record: not listed */
	DNSBL_ANSWER_LISTED,    /* an A record in 127/8 outside 127.255.255/24 */
	DNSBL_ANSWER_ERROR,     /* only the list's error codes (127.255.255/24) */
	DNSBL_ANSWER_BOGUS,     /* only addresses outside 127/8: ignored */
	DNSBL_ANSWER_FAILED,    /* SERVFAIL, timeout, no resolver: not listed */
};

/* The verdict on one lookup's dns_status `status` and its addresses
 * (AF_INET ones count; others are ignored): a listing code wins over
 * error codes, which win over bogus addresses. `code_r` gets the address
 * that decided (LISTED, ERROR, BOGUS), else "". Pure. */
enum dnsbl_answer dnsbl_answer(int status, const struct dns_addr *addrs, size_t n,
			       char code_r[INET_ADDRSTRLEN]);

struct dnsbl_result {
	bool listed;
	char zone[DNSBL_ZONE_MAX + 1];   /* the first zone that lists the client */
	char code[INET_ADDRSTRLEN];      /* its answer, "127.0.0.2" */
};

/* Looks `ip` up in the zones of `zones` (as config keeps `dnsbl`: separated
 * by one space; the first DNSBL_ZONES_MAX) in order through dns->addrs
 * (AF_INET), stopping at the first that lists it. Error codes, bogus answers and failed lookups are
 * logged as warnings with the zone and count as not listed. */
void dnsbl_check(const struct dns_lookup *dns, const char *ip, const char *zones,
		 struct dnsbl_result *r);

#endif
