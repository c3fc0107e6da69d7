/* The relay's DNS: MX and address lookups with res_nquery() against the
 * configured resolver (`resolver = host:port`, else /etc/resolv.conf), and
 * the pure parsers of the answers (unit-tested with hand-made packets).
 *
 * RFC 5321 5.1: MX records in preference order, random among equal
 * preferences; no MX but an address record: the domain itself is the one
 * host (implicit MX); RFC 7505: a lone "MX 0 ." (null MX) means the domain
 * accepts no mail. */
#ifndef PB_RELAY_DNS_H
#define PB_RELAY_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* MX hosts kept per domain (RFC 5321 asks senders to try at least two;
 * more than this are never reached within one attempt anyway). */
#define RELAY_MX_MAX 16
/* Addresses kept per host and per family. */
#define RELAY_ADDRS_MAX 8
/* A host name as text (RFC 1035: 253 characters plus the final dot). */
#define RELAY_HOST_MAX 256

enum relay_dns_status {
	RELAY_DNS_TEMPFAIL = -1,  /* SERVFAIL, timeout, refused: try again later */
	RELAY_DNS_NODATA = 0,     /* the name exists, no record of this type */
	RELAY_DNS_FOUND = 1,
	RELAY_DNS_NXDOMAIN = 2,   /* no such name: permanent */
};

struct relay_mx {
	uint16_t pref;
	uint32_t rnd;                 /* tie-breaker among equal preferences */
	char host[RELAY_HOST_MAX];    /* without the final dot */
};

struct relay_addr {
	struct sockaddr_storage sa;   /* AF_INET or AF_INET6, port set */
	socklen_t len;
};

/* ------------------------------------------------------------ pure parsers */

/* The MX records of a DNS answer message (msg, len). Returns
 * RELAY_DNS_FOUND with up to max records in mx[] (*n_r) and *null_mx_r
 * true when the only MX is the RFC 7505 null MX ("0 ."); RELAY_DNS_NODATA
 * when the answer holds no MX; RELAY_DNS_NXDOMAIN for rcode 3;
 * RELAY_DNS_TEMPFAIL for another rcode or a malformed message. Null MX
 * records are left out of mx[] when real ones are present. */
int relay_dns_parse_mx(const unsigned char *msg, size_t len, struct relay_mx *mx, size_t max,
		       size_t *n_r, bool *null_mx_r);

/* The A (family AF_INET) or AAAA (AF_INET6) records of an answer, as
 * socket addresses with `port`. Status as above. */
int relay_dns_parse_addrs(const unsigned char *msg, size_t len, int family, uint16_t port,
			  struct relay_addr *out, size_t max, size_t *n_r);

/* Sorts by preference, then by rnd (fill rnd at random first). */
void relay_mx_sort(struct relay_mx *mx, size_t n);

/* ------------------------------------------------------------ lookups */

struct relay_resolver;

/* `hostport` NULL: the system's resolv.conf; else "IP:port" or
 * "[IPv6]:port" (an address: the resolver cannot be looked up by name).
 * Each query waits at most `timeout` seconds per try, 2 tries. 0 or -1. */
int relay_resolver_new(const char *hostport, unsigned timeout, struct relay_resolver **res_r,
		       const char **error_r);
void relay_resolver_free(struct relay_resolver **res);

/* MX lookup of `domain`: status as relay_dns_parse_mx, the list sorted
 * (random among equal preferences). *error_r describes a failure. */
int relay_dns_mx(struct relay_resolver *res, const char *domain, struct relay_mx *mx, size_t max,
		 size_t *n_r, bool *null_mx_r, const char **error_r);

/* AAAA and A records of `host` with `port` (IPv6 first). FOUND if any,
 * NODATA if the name has neither, NXDOMAIN, TEMPFAIL (only when no
 * address was found). An IP literal is returned as it is. */
int relay_dns_addrs(struct relay_resolver *res, const char *host, uint16_t port,
		    struct relay_addr *out, size_t max, size_t *n_r, const char **error_r);

/* "192.0.2.1" / "2001:db8::1" for logs and DSNs. */
const char *relay_addr_text(const struct relay_addr *addr, char *buf, size_t size);

#endif
