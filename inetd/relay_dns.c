/* MX and address lookups for the relay (relay_dns.h). Answers are parsed
 * here, bounds-checked, with glibc's dn_expand/dn_skipname for names (they
 * refuse compression loops and pointers outside the message). */
#include <config.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "relay_dns.h"
#include "store.h" /* store/config.h: config_hostport_parse */

/* The largest DNS message (TCP): res_nquery retries over TCP when the UDP
 * answer is truncated, so the buffer must hold any answer. */
#define RELAY_DNS_ANSWER_MAX 65536
#define RELAY_DNS_TRIES 2

struct relay_resolver {
	struct __res_state state;
	unsigned char *answer;
	char error[512];
};

/* ------------------------------------------------------------ parsing */

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Walks the header and the question section. Returns the rcode status
 * (RELAY_DNS_FOUND to go on) with *pos at the first answer record and
 * *ancount the number of answers. */
static int message_start(const unsigned char *msg, size_t len, size_t *pos, unsigned *ancount)
{
	unsigned qdcount, rcode;
	size_t p = 12;

	if (len < 12)
		return RELAY_DNS_TEMPFAIL;
	if ((msg[2] & 0x80) == 0)
		return RELAY_DNS_TEMPFAIL; /* not a response */
	rcode = msg[3] & 0x0f;
	if (rcode == 3)
		return RELAY_DNS_NXDOMAIN;
	if (rcode != 0)
		return RELAY_DNS_TEMPFAIL;
	qdcount = get16(msg + 4);
	*ancount = get16(msg + 6);
	for (unsigned i = 0; i < qdcount; i++) {
		int n = dn_skipname(msg + p, msg + len);

		if (n < 0 || (size_t)n + 4 > len - p)
			return RELAY_DNS_TEMPFAIL;
		p += (size_t)n + 4;
	}
	*pos = p;
	return RELAY_DNS_FOUND;
}

/* The next resource record: its type, class, rdata offset and length.
 * 1, or 0 when malformed. */
static int record_next(const unsigned char *msg, size_t len, size_t *pos, unsigned *type_r,
		       unsigned *class_r, size_t *rdata_r, size_t *rdlen_r)
{
	size_t p = *pos;
	int n;

	if (p >= len)
		return 0;
	n = dn_skipname(msg + p, msg + len);
	if (n < 0 || (size_t)n + 10 > len - p)
		return 0;
	p += (size_t)n;
	*type_r = get16(msg + p);
	*class_r = get16(msg + p + 2);
	*rdlen_r = get16(msg + p + 8);
	p += 10;
	if (*rdlen_r > len - p)
		return 0;
	*rdata_r = p;
	*pos = p + *rdlen_r;
	return 1;
}

int relay_dns_parse_mx(const unsigned char *msg, size_t len, struct relay_mx *mx, size_t max,
		       size_t *n_r, bool *null_mx_r)
{
	unsigned ancount, nmx = 0, nnull = 0;
	size_t pos;
	int st = message_start(msg, len, &pos, &ancount);

	*n_r = 0;
	*null_mx_r = false;
	if (st != RELAY_DNS_FOUND)
		return st;
	for (unsigned i = 0; i < ancount; i++) {
		unsigned type, class;
		size_t rdata, rdlen;
		char name[NS_MAXDNAME];
		int n;

		if (!record_next(msg, len, &pos, &type, &class, &rdata, &rdlen))
			return RELAY_DNS_TEMPFAIL;
		if (type != ns_t_mx || class != ns_c_in)
			continue; /* e.g. the CNAME that led here */
		if (rdlen < 3)
			return RELAY_DNS_TEMPFAIL;
		n = dn_expand(msg, msg + len, msg + rdata + 2, name, sizeof(name));
		if (n < 0 || (size_t)n + 2 != rdlen)
			return RELAY_DNS_TEMPFAIL;
		nmx++;
		if (name[0] == '\0' || strcmp(name, ".") == 0) {
			nnull++;
			continue;
		}
		size_t hl = strlen(name);

		if (hl > 0 && name[hl - 1] == '.')
			name[--hl] = '\0';
		if (hl >= RELAY_HOST_MAX || *n_r >= max)
			continue;
		mx[*n_r].pref = (uint16_t)get16(msg + rdata);
		mx[*n_r].rnd = 0;
		memcpy(mx[*n_r].host, name, hl + 1);
		(*n_r)++;
	}
	if (nmx == 0)
		return RELAY_DNS_NODATA;
	/* RFC 7505 3: a null MX is the domain's only MX; mixed with real ones
	 * it is ignored (and so is a domain of nothing but oversized names). */
	if (*n_r == 0 && nnull > 0)
		*null_mx_r = true;
	return *n_r > 0 || *null_mx_r ? RELAY_DNS_FOUND : RELAY_DNS_NODATA;
}

int relay_dns_parse_addrs(const unsigned char *msg, size_t len, int family, uint16_t port,
			  struct relay_addr *out, size_t max, size_t *n_r)
{
	unsigned ancount, want = family == AF_INET6 ? ns_t_aaaa : ns_t_a;
	size_t pos, alen = family == AF_INET6 ? 16 : 4;
	int st = message_start(msg, len, &pos, &ancount);

	*n_r = 0;
	if (st != RELAY_DNS_FOUND)
		return st;
	for (unsigned i = 0; i < ancount; i++) {
		unsigned type, class;
		size_t rdata, rdlen;

		if (!record_next(msg, len, &pos, &type, &class, &rdata, &rdlen))
			return RELAY_DNS_TEMPFAIL;
		if (type != want || class != ns_c_in)
			continue;
		if (rdlen != alen)
			return RELAY_DNS_TEMPFAIL;
		if (*n_r >= max)
			continue;
		struct relay_addr *a = &out[(*n_r)++];

		memset(a, 0, sizeof(*a));
		if (family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;

			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(port);
			memcpy(&s6->sin6_addr, msg + rdata, 16);
			a->len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;

			s4->sin_family = AF_INET;
			s4->sin_port = htons(port);
			memcpy(&s4->sin_addr, msg + rdata, 4);
			a->len = sizeof(*s4);
		}
	}
	return *n_r > 0 ? RELAY_DNS_FOUND : RELAY_DNS_NODATA;
}

static int mx_cmp(const void *a, const void *b)
{
	const struct relay_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	if (x->rnd != y->rnd)
		return x->rnd < y->rnd ? -1 : 1;
	return strcmp(x->host, y->host);
}

void relay_mx_sort(struct relay_mx *mx, size_t n)
{
	if (n > 1)
		qsort(mx, n, sizeof(*mx), mx_cmp);
}

const char *relay_addr_text(const struct relay_addr *addr, char *buf, size_t size)
{
	const void *src = addr->sa.ss_family == AF_INET6
				  ? (const void *)&((const struct sockaddr_in6 *)&addr->sa)->sin6_addr
				  : (const void *)&((const struct sockaddr_in *)&addr->sa)->sin_addr;

	if (inet_ntop(addr->sa.ss_family, src, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

/* ------------------------------------------------------------ lookups */

int relay_resolver_new(const char *hostport, unsigned timeout, struct relay_resolver **res_r,
		       const char **error_r)
{
	struct relay_resolver *r = calloc(1, sizeof(*r));
	char *host = NULL;
	uint16_t port = 0;

	*res_r = NULL;
	if (r == NULL || (r->answer = malloc(RELAY_DNS_ANSWER_MAX)) == NULL) {
		free(r);
		*error_r = "out of memory";
		return -1;
	}
	if (res_ninit(&r->state) < 0) {
		*error_r = "res_ninit failed";
		free(r->answer);
		free(r);
		return -1;
	}
	r->state.retrans = (int)(timeout > 0 ? timeout : 5);
	r->state.retry = RELAY_DNS_TRIES;
	/* Names are looked up as given (they are fully qualified). */
	r->state.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	if (hostport != NULL) {
		struct in_addr a4;
		struct in6_addr a6;

		if (config_hostport_parse(hostport, &host, &port, error_r) < 0)
			goto fail;
		/* Whatever resolv.conf gave (glibc keeps IPv6 servers apart). */
		for (int i = 0; i < r->state.nscount && i < MAXNS; i++) {
			free(r->state._u._ext.nsaddrs[i]);
			r->state._u._ext.nsaddrs[i] = NULL;
		}
		memset(&r->state.nsaddr_list[0], 0, sizeof(r->state.nsaddr_list[0]));
		if (inet_pton(AF_INET, host, &a4) == 1) {
			r->state.nsaddr_list[0].sin_family = AF_INET;
			r->state.nsaddr_list[0].sin_port = htons(port);
			r->state.nsaddr_list[0].sin_addr = a4;
		} else if (inet_pton(AF_INET6, host, &a6) == 1) {
			/* glibc reads _ext.nsaddrs[i] when nsaddr_list[i] has no
			 * family, and frees it in res_nclose. */
			struct sockaddr_in6 *s6 = calloc(1, sizeof(*s6));

			if (s6 == NULL) {
				*error_r = "out of memory";
				goto fail;
			}
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(port);
			s6->sin6_addr = a6;
			r->state._u._ext.nsaddrs[0] = s6;
		} else {
			*error_r = "resolver must be an IP address and port";
			goto fail;
		}
		r->state.nscount = 1;
		free(host);
	}
	*res_r = r;
	return 0;
fail:
	free(host);
	res_nclose(&r->state);
	free(r->answer);
	free(r);
	return -1;
}

void relay_resolver_free(struct relay_resolver **res)
{
	if (*res == NULL)
		return;
	res_nclose(&(*res)->state);
	free((*res)->answer);
	free(*res);
	*res = NULL;
}

/* One query: the answer's length, or a status when res_nquery failed. */
static int query(struct relay_resolver *r, const char *name, int type, int *len_r,
		 const char **error_r)
{
	int n = res_nquery(&r->state, name, ns_c_in, type, r->answer, RELAY_DNS_ANSWER_MAX);
	const char *tname = type == ns_t_mx ? "MX" : type == ns_t_a ? "A" : "AAAA";

	if (n >= 0) {
		*len_r = n;
		return RELAY_DNS_FOUND;
	}
	switch (r->state.res_h_errno) {
	case HOST_NOT_FOUND:
		snprintf(r->error, sizeof(r->error), "%s: no such domain (%s lookup)", name, tname);
		*error_r = r->error;
		return RELAY_DNS_NXDOMAIN;
	case NO_DATA:
		snprintf(r->error, sizeof(r->error), "%s: no %s record", name, tname);
		*error_r = r->error;
		return RELAY_DNS_NODATA;
	default:
		snprintf(r->error, sizeof(r->error), "%s: %s lookup failed (%s)", name, tname,
			 r->state.res_h_errno == TRY_AGAIN ? "server failure or timeout"
							   : "no answer");
		*error_r = r->error;
		return RELAY_DNS_TEMPFAIL;
	}
}

int relay_dns_mx(struct relay_resolver *r, const char *domain, struct relay_mx *mx, size_t max,
		 size_t *n_r, bool *null_mx_r, const char **error_r)
{
	int len, st;

	*n_r = 0;
	*null_mx_r = false;
	st = query(r, domain, ns_t_mx, &len, error_r);
	if (st != RELAY_DNS_FOUND)
		return st;
	st = relay_dns_parse_mx(r->answer, (size_t)len, mx, max, n_r, null_mx_r);
	if (st == RELAY_DNS_TEMPFAIL) {
		snprintf(r->error, sizeof(r->error), "%s: malformed MX answer", domain);
		*error_r = r->error;
	} else if (st == RELAY_DNS_NODATA) {
		snprintf(r->error, sizeof(r->error), "%s: no MX record", domain);
		*error_r = r->error;
	}
	if (st == RELAY_DNS_FOUND) {
		for (size_t i = 0; i < *n_r; i++)
			if (getrandom(&mx[i].rnd, sizeof(mx[i].rnd), 0) != sizeof(mx[i].rnd))
				mx[i].rnd = (uint32_t)random();
		relay_mx_sort(mx, *n_r);
	}
	return st;
}

int relay_dns_addrs(struct relay_resolver *r, const char *host, uint16_t port,
		    struct relay_addr *out, size_t max, size_t *n_r, const char **error_r)
{
	static const int families[2] = { AF_INET6, AF_INET };
	struct in_addr a4;
	struct in6_addr a6;
	int worst = RELAY_DNS_NODATA;
	char first_error[sizeof(r->error)] = "";

	*n_r = 0;
	if (max == 0)
		return RELAY_DNS_NODATA;
	memset(&out[0], 0, sizeof(out[0]));
	if (inet_pton(AF_INET, host, &a4) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out[0].sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = a4;
		out[0].len = sizeof(*s4);
		*n_r = 1;
		return RELAY_DNS_FOUND;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[0].sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = a6;
		out[0].len = sizeof(*s6);
		*n_r = 1;
		return RELAY_DNS_FOUND;
	}
	for (int f = 0; f < 2; f++) {
		int len, st;
		size_t n = 0;

		st = query(r, host, families[f] == AF_INET6 ? ns_t_aaaa : ns_t_a, &len, error_r);
		if (st == RELAY_DNS_FOUND) {
			st = relay_dns_parse_addrs(r->answer, (size_t)len, families[f], port,
						   out + *n_r, max - *n_r, &n);
			*n_r += n;
		}
		if (st == RELAY_DNS_NXDOMAIN)
			return *n_r > 0 ? RELAY_DNS_FOUND : RELAY_DNS_NXDOMAIN;
		if (st == RELAY_DNS_TEMPFAIL) {
			worst = RELAY_DNS_TEMPFAIL;
			if (first_error[0] == '\0')
				snprintf(first_error, sizeof(first_error), "%s", *error_r);
		}
		if (*n_r >= max)
			break;
	}
	if (*n_r > 0)
		return RELAY_DNS_FOUND;
	if (worst == RELAY_DNS_TEMPFAIL) {
		snprintf(r->error, sizeof(r->error), "%s", first_error);
		*error_r = r->error;
		return RELAY_DNS_TEMPFAIL;
	}
	snprintf(r->error, sizeof(r->error), "%s: no address record", host);
	*error_r = r->error;
	return RELAY_DNS_NODATA;
}
