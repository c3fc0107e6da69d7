/* DNS for the relay (MX and address lookups) and for the MX's checks of
 * senders (SPF, DKIM, DMARC: TXT, address, MX and PTR lookups), with
 * res_nquery() against the configured resolver (`resolver = host:port`,
 * else /etc/resolv.conf), and the pure parsers of the answers (unit-tested
 * with hand-made packets).
 *
 * RFC 5321 5.1: MX records in preference order, random among equal
 * preferences; no MX but an address record: the domain itself is the one
 * host (implicit MX); RFC 7505: a lone "MX 0 ." (null MX) means the domain
 * accepts no mail. */
#ifndef PB_DNS_H
#define PB_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* MX hosts kept per domain (RFC 5321 asks senders to try at least two;
 * more than this are never reached within one attempt anyway). */
#define DNS_MX_MAX 16
/* Addresses kept per host and per family. */
#define DNS_ADDRS_MAX 8
/* A host name as text (RFC 1035: 253 characters plus the final dot). */
#define DNS_HOST_MAX 256
/* TXT records kept per name: domains carry many (site verifications); a
 * name with more is reported with `overflow` set. */
#define DNS_TXT_MAX 32
/* One TXT record, its strings joined: a DKIM key of 4096 bits is ~750
 * bytes, an SPF record a few hundred. */
#define DNS_TXT_LEN_MAX 8192
/* Names kept from a PTR answer (RFC 7208 5.5: at most 10 are looked at). */
#define DNS_PTR_MAX 10

enum dns_status {
	DNS_TEMPFAIL = -1,  /* SERVFAIL, timeout, refused: try again later */
	DNS_NODATA = 0,     /* the name exists, no record of this type */
	DNS_FOUND = 1,
	DNS_NXDOMAIN = 2,   /* no such name: permanent */
};

struct dns_mx {
	uint16_t pref;
	uint32_t rnd;                 /* tie-breaker among equal preferences */
	char host[DNS_HOST_MAX];    /* without the final dot */
};

struct dns_addr {
	struct sockaddr_storage sa;   /* AF_INET or AF_INET6, port set */
	socklen_t len;
};

/* The TXT records of one name, each record's character-strings joined
 * (RFC 7208 3.3, RFC 6376 3.6.2.2) and NUL-terminated. */
struct dns_txt {
	size_t n;
	char *rec[DNS_TXT_MAX];
	size_t len[DNS_TXT_MAX];
	bool overflow;   /* records left out: more than DNS_TXT_MAX, longer than
			    DNS_TXT_LEN_MAX, or holding a NUL byte */
	char *mem;       /* private: one allocation for all of them */
};
void dns_txt_free(struct dns_txt *txt);

/* ------------------------------------------------------------ pure parsers */

/* The MX records of a DNS answer message (msg, len). Returns
 * DNS_FOUND with up to max records in mx[] (*n_r) and *null_mx_r
 * true when the only MX is the RFC 7505 null MX ("0 ."); DNS_NODATA
 * when the answer holds no MX; DNS_NXDOMAIN for rcode 3;
 * DNS_TEMPFAIL for another rcode or a malformed message. Null MX
 * records are left out of mx[] when real ones are present. */
int dns_parse_mx(const unsigned char *msg, size_t len, struct dns_mx *mx, size_t max,
		       size_t *n_r, bool *null_mx_r);

/* The A (family AF_INET) or AAAA (AF_INET6) records of an answer, as
 * socket addresses with `port`. Status as above. */
int dns_parse_addrs(const unsigned char *msg, size_t len, int family, uint16_t port,
			  struct dns_addr *out, size_t max, size_t *n_r);

/* The TXT records of an answer into *txt (zeroed first; dns_txt_free it
 * whatever the result). Status as above; -1 also when out of memory. */
int dns_parse_txt(const unsigned char *msg, size_t len, struct dns_txt *txt);

/* The PTR names of an answer, without the final dot, up to max. Status as
 * above. */
int dns_parse_ptr(const unsigned char *msg, size_t len, char (*names)[DNS_HOST_MAX], size_t max,
		  size_t *n_r);

/* Sorts by preference, then by rnd (fill rnd at random first). */
void dns_mx_sort(struct dns_mx *mx, size_t n);

/* ------------------------------------------------------------ lookups */

struct dns_resolver;

/* `hostport` NULL: the system's resolv.conf; else "IP:port" or
 * "[IPv6]:port" (an address: the resolver cannot be looked up by name).
 * Each query waits at most `timeout` seconds per try, 2 tries. 0 or -1. */
int dns_resolver_new(const char *hostport, unsigned timeout, struct dns_resolver **res_r,
		       const char **error_r);
void dns_resolver_free(struct dns_resolver **res);

/* MX lookup of `domain`: status as dns_parse_mx, the list sorted
 * (random among equal preferences). *error_r describes a failure. */
int dns_mx(struct dns_resolver *res, const char *domain, struct dns_mx *mx, size_t max,
		 size_t *n_r, bool *null_mx_r, const char **error_r);

/* AAAA and A records of `host` with `port` (IPv6 first). FOUND if any,
 * NODATA if the name has neither, NXDOMAIN, TEMPFAIL (only when no
 * address was found). An IP literal is returned as it is. */
int dns_addrs(struct dns_resolver *res, const char *host, uint16_t port,
		    struct dns_addr *out, size_t max, size_t *n_r, const char **error_r);

/* The TXT records of `name` (dns_txt_free *txt after any result). */
int dns_txt(struct dns_resolver *res, const char *name, struct dns_txt *txt,
	    const char **error_r);

/* The A (AF_INET) or AAAA (AF_INET6) records of `host` alone: no IP
 * literal shortcut, no other family. Status as dns_parse_addrs. */
int dns_addrs_family(struct dns_resolver *res, const char *host, int family,
		     struct dns_addr *out, size_t max, size_t *n_r, const char **error_r);

/* The PTR names of an IPv4 or IPv6 address (in-addr.arpa, ip6.arpa). */
int dns_ptr(struct dns_resolver *res, const struct sockaddr *sa, char (*names)[DNS_HOST_MAX],
	    size_t max, size_t *n_r, const char **error_r);

/* ------------------------------------------------------------ lookups as functions */

/* The lookups sender checks (SPF, DKIM, DMARC, DNSBL) make, as a table, so
 * that unit tests and fuzz harnesses answer them from memory; smtpd's table
 * (inetd/mailauth.h, mailauth_dns_init) calls the resolver's functions above
 * within a time budget. Each returns a dns_status and, on failure, may set
 * *error_r. */
struct dns_lookup {
	int (*txt)(void *ctx, const char *name, struct dns_txt *txt, const char **error_r);
	int (*addrs)(void *ctx, const char *host, int family, struct dns_addr *out, size_t max,
		     size_t *n_r, const char **error_r);
	int (*mx)(void *ctx, const char *domain, struct dns_mx *mx, size_t max, size_t *n_r,
		  bool *null_mx_r, const char **error_r);
	int (*ptr)(void *ctx, const struct sockaddr *sa, char (*names)[DNS_HOST_MAX], size_t max,
		   size_t *n_r, const char **error_r);
	void *ctx;
};

/* "192.0.2.1" / "2001:db8::1" for logs and DSNs. */
const char *dns_addr_text(const struct dns_addr *addr, char *buf, size_t size);

#endif
