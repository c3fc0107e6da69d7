/* DNS lookups for the relay and the MX's sender checks (dns.h). Answers are parsed
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

#include "dns.h"
#include "store.h" /* store/config.h: config_hostport_parse */

/* The largest DNS message (TCP): res_nquery retries over TCP when the UDP
 * answer is truncated, so the buffer must hold any answer. */
#define DNS_ANSWER_MAX 65536
#define DNS_TRIES 2

struct dns_resolver {
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
 * (DNS_FOUND to go on) with *pos at the first answer record and
 * *ancount the number of answers. */
static int message_start(const unsigned char *msg, size_t len, size_t *pos, unsigned *ancount)
{
	unsigned qdcount, rcode;
	size_t p = 12;

	if (len < 12)
		return DNS_TEMPFAIL;
	if ((msg[2] & 0x80) == 0)
		return DNS_TEMPFAIL; /* not a response */
	rcode = msg[3] & 0x0f;
	if (rcode == 3)
		return DNS_NXDOMAIN;
	if (rcode != 0)
		return DNS_TEMPFAIL;
	qdcount = get16(msg + 4);
	*ancount = get16(msg + 6);
	for (unsigned i = 0; i < qdcount; i++) {
		int n = dn_skipname(msg + p, msg + len);

		if (n < 0 || (size_t)n + 4 > len - p)
			return DNS_TEMPFAIL;
		p += (size_t)n + 4;
	}
	*pos = p;
	return DNS_FOUND;
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

int dns_parse_mx(const unsigned char *msg, size_t len, struct dns_mx *mx, size_t max,
		       size_t *n_r, bool *null_mx_r)
{
	unsigned ancount, nmx = 0, nnull = 0;
	size_t pos;
	int st = message_start(msg, len, &pos, &ancount);

	*n_r = 0;
	*null_mx_r = false;
	if (st != DNS_FOUND)
		return st;
	for (unsigned i = 0; i < ancount; i++) {
		unsigned type, class;
		size_t rdata, rdlen;
		char name[NS_MAXDNAME];
		int n;

		if (!record_next(msg, len, &pos, &type, &class, &rdata, &rdlen))
			return DNS_TEMPFAIL;
		if (type != ns_t_mx || class != ns_c_in)
			continue; /* e.g. the CNAME that led here */
		if (rdlen < 3)
			return DNS_TEMPFAIL;
		n = dn_expand(msg, msg + len, msg + rdata + 2, name, sizeof(name));
		if (n < 0 || (size_t)n + 2 != rdlen)
			return DNS_TEMPFAIL;
		nmx++;
		if (name[0] == '\0' || strcmp(name, ".") == 0) {
			nnull++;
			continue;
		}
		size_t hl = strlen(name);

		if (hl > 0 && name[hl - 1] == '.')
			name[--hl] = '\0';
		if (hl >= DNS_HOST_MAX || *n_r >= max)
			continue;
		mx[*n_r].pref = (uint16_t)get16(msg + rdata);
		mx[*n_r].rnd = 0;
		memcpy(mx[*n_r].host, name, hl + 1);
		(*n_r)++;
	}
	if (nmx == 0)
		return DNS_NODATA;
	/* RFC 7505 3: a null MX is the domain's only MX; mixed with real ones
	 * it is ignored (and so is a domain of nothing but oversized names). */
	if (*n_r == 0 && nnull > 0)
		*null_mx_r = true;
	return *n_r > 0 || *null_mx_r ? DNS_FOUND : DNS_NODATA;
}

int dns_parse_addrs(const unsigned char *msg, size_t len, int family, uint16_t port,
			  struct dns_addr *out, size_t max, size_t *n_r)
{
	unsigned ancount, want = family == AF_INET6 ? ns_t_aaaa : ns_t_a;
	size_t pos, alen = family == AF_INET6 ? 16 : 4;
	int st = message_start(msg, len, &pos, &ancount);

	*n_r = 0;
	if (st != DNS_FOUND)
		return st;
	for (unsigned i = 0; i < ancount; i++) {
		unsigned type, class;
		size_t rdata, rdlen;

		if (!record_next(msg, len, &pos, &type, &class, &rdata, &rdlen))
			return DNS_TEMPFAIL;
		if (type != want || class != ns_c_in)
			continue;
		if (rdlen != alen)
			return DNS_TEMPFAIL;
		if (*n_r >= max)
			continue;
		struct dns_addr *a = &out[(*n_r)++];

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
	return *n_r > 0 ? DNS_FOUND : DNS_NODATA;
}

void dns_txt_free(struct dns_txt *txt)
{
	free(txt->mem);
	memset(txt, 0, sizeof(*txt));
}

/* One TXT rdata's strings joined into out (NULL: only measured). Its
 * length, or -1 when malformed; *nul_r when a string holds a NUL byte. */
static long txt_join(const unsigned char *rd, size_t rdlen, char *out, bool *nul_r)
{
	size_t p = 0, n = 0;

	*nul_r = false;
	while (p < rdlen) {
		size_t l = rd[p++];

		if (l > rdlen - p)
			return -1;
		if (memchr(rd + p, '\0', l) != NULL)
			*nul_r = true;
		if (out != NULL)
			memcpy(out + n, rd + p, l);
		n += l;
		p += l;
	}
	return (long)n;
}

int dns_parse_txt(const unsigned char *msg, size_t len, struct dns_txt *txt)
{
	unsigned ancount;
	size_t pos, start, total = 0;
	int st = message_start(msg, len, &pos, &ancount);

	memset(txt, 0, sizeof(*txt));
	if (st != DNS_FOUND)
		return st;
	/* Twice over the answers: measure, then copy into one allocation. */
	start = pos;
	for (int pass = 0; pass < 2; pass++) {
		char *w = txt->mem;
		bool any = false;

		pos = start;
		for (unsigned i = 0; i < ancount; i++) {
			unsigned type, class;
			size_t rdata, rdlen;
			bool nul;
			long n;

			if (!record_next(msg, len, &pos, &type, &class, &rdata, &rdlen))
				return DNS_TEMPFAIL;
			if (type != ns_t_txt || class != ns_c_in)
				continue;
			any = true;
			n = txt_join(msg + rdata, rdlen, NULL, &nul);
			if (n < 0)
				return DNS_TEMPFAIL;
			if (nul || n > DNS_TXT_LEN_MAX || txt->n >= DNS_TXT_MAX) {
				txt->overflow = true;
				continue;
			}
			if (pass == 0) {
				total += (size_t)n + 1;
				continue;
			}
			txt_join(msg + rdata, rdlen, w, &nul);
			w[n] = '\0';
			txt->rec[txt->n] = w;
			txt->len[txt->n++] = (size_t)n;
			w += n + 1;
		}
		if (!any)
			return DNS_NODATA;
		if (pass == 0) {
			txt->n = 0;
			txt->overflow = false;
			if ((txt->mem = malloc(total > 0 ? total : 1)) == NULL)
				return DNS_TEMPFAIL;
		}
	}
	return DNS_FOUND;
}

int dns_parse_ptr(const unsigned char *msg, size_t len, char (*names)[DNS_HOST_MAX], size_t max,
		  size_t *n_r)
{
	unsigned ancount;
	size_t pos;
	bool any = false;
	int st = message_start(msg, len, &pos, &ancount);

	*n_r = 0;
	if (st != DNS_FOUND)
		return st;
	for (unsigned i = 0; i < ancount; i++) {
		unsigned type, class;
		size_t rdata, rdlen, hl;
		char name[NS_MAXDNAME];
		int n;

		if (!record_next(msg, len, &pos, &type, &class, &rdata, &rdlen))
			return DNS_TEMPFAIL;
		if (type != ns_t_ptr || class != ns_c_in)
			continue;
		n = dn_expand(msg, msg + len, msg + rdata, name, sizeof(name));
		if (n < 0 || (size_t)n != rdlen)
			return DNS_TEMPFAIL;
		any = true;
		hl = strlen(name);
		if (hl > 0 && name[hl - 1] == '.')
			name[--hl] = '\0';
		if (hl == 0 || hl >= DNS_HOST_MAX || *n_r >= max)
			continue;
		memcpy(names[(*n_r)++], name, hl + 1);
	}
	return any ? DNS_FOUND : DNS_NODATA;
}

static int mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	if (x->rnd != y->rnd)
		return x->rnd < y->rnd ? -1 : 1;
	return strcmp(x->host, y->host);
}

void dns_mx_sort(struct dns_mx *mx, size_t n)
{
	if (n > 1)
		qsort(mx, n, sizeof(*mx), mx_cmp);
}

const char *dns_addr_text(const struct dns_addr *addr, char *buf, size_t size)
{
	const void *src = addr->sa.ss_family == AF_INET6
				  ? (const void *)&((const struct sockaddr_in6 *)&addr->sa)->sin6_addr
				  : (const void *)&((const struct sockaddr_in *)&addr->sa)->sin_addr;

	if (inet_ntop(addr->sa.ss_family, src, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

/* ------------------------------------------------------------ lookups */

int dns_resolver_new(const char *hostport, unsigned timeout, struct dns_resolver **res_r,
		       const char **error_r)
{
	struct dns_resolver *r = calloc(1, sizeof(*r));
	char *host = NULL;
	uint16_t port = 0;

	*res_r = NULL;
	if (r == NULL || (r->answer = malloc(DNS_ANSWER_MAX)) == NULL) {
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
	r->state.retry = DNS_TRIES;
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

void dns_resolver_free(struct dns_resolver **res)
{
	if (*res == NULL)
		return;
	res_nclose(&(*res)->state);
	free((*res)->answer);
	free(*res);
	*res = NULL;
}

/* One query: the answer's length, or a status when res_nquery failed. */
static int query(struct dns_resolver *r, const char *name, int type, int *len_r,
		 const char **error_r)
{
	int n = res_nquery(&r->state, name, ns_c_in, type, r->answer, DNS_ANSWER_MAX);
	const char *tname = type == ns_t_mx    ? "MX"
			    : type == ns_t_a   ? "A"
			    : type == ns_t_txt ? "TXT"
			    : type == ns_t_ptr ? "PTR"
					       : "AAAA";

	if (n >= 0) {
		*len_r = n;
		return DNS_FOUND;
	}
	switch (r->state.res_h_errno) {
	case HOST_NOT_FOUND:
		snprintf(r->error, sizeof(r->error), "%s: no such domain (%s lookup)", name, tname);
		*error_r = r->error;
		return DNS_NXDOMAIN;
	case NO_DATA:
		snprintf(r->error, sizeof(r->error), "%s: no %s record", name, tname);
		*error_r = r->error;
		return DNS_NODATA;
	default:
		snprintf(r->error, sizeof(r->error), "%s: %s lookup failed (%s)", name, tname,
			 r->state.res_h_errno == TRY_AGAIN ? "server failure or timeout"
							   : "no answer");
		*error_r = r->error;
		return DNS_TEMPFAIL;
	}
}

int dns_mx(struct dns_resolver *r, const char *domain, struct dns_mx *mx, size_t max,
		 size_t *n_r, bool *null_mx_r, const char **error_r)
{
	int len, st;

	*n_r = 0;
	*null_mx_r = false;
	st = query(r, domain, ns_t_mx, &len, error_r);
	if (st != DNS_FOUND)
		return st;
	st = dns_parse_mx(r->answer, (size_t)len, mx, max, n_r, null_mx_r);
	if (st == DNS_TEMPFAIL) {
		snprintf(r->error, sizeof(r->error), "%s: malformed MX answer", domain);
		*error_r = r->error;
	} else if (st == DNS_NODATA) {
		snprintf(r->error, sizeof(r->error), "%s: no MX record", domain);
		*error_r = r->error;
	}
	if (st == DNS_FOUND) {
		for (size_t i = 0; i < *n_r; i++)
			if (getrandom(&mx[i].rnd, sizeof(mx[i].rnd), 0) != sizeof(mx[i].rnd))
				mx[i].rnd = (uint32_t)random();
		dns_mx_sort(mx, *n_r);
	}
	return st;
}

int dns_addrs(struct dns_resolver *r, const char *host, uint16_t port,
		    struct dns_addr *out, size_t max, size_t *n_r, const char **error_r)
{
	static const int families[2] = { AF_INET6, AF_INET };
	struct in_addr a4;
	struct in6_addr a6;
	int worst = DNS_NODATA;
	char first_error[sizeof(r->error)] = "";

	*n_r = 0;
	if (max == 0)
		return DNS_NODATA;
	memset(&out[0], 0, sizeof(out[0]));
	if (inet_pton(AF_INET, host, &a4) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out[0].sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = a4;
		out[0].len = sizeof(*s4);
		*n_r = 1;
		return DNS_FOUND;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[0].sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = a6;
		out[0].len = sizeof(*s6);
		*n_r = 1;
		return DNS_FOUND;
	}
	for (int f = 0; f < 2; f++) {
		int len, st;
		size_t n = 0;

		st = query(r, host, families[f] == AF_INET6 ? ns_t_aaaa : ns_t_a, &len, error_r);
		if (st == DNS_FOUND) {
			st = dns_parse_addrs(r->answer, (size_t)len, families[f], port,
						   out + *n_r, max - *n_r, &n);
			*n_r += n;
		}
		if (st == DNS_NXDOMAIN)
			return *n_r > 0 ? DNS_FOUND : DNS_NXDOMAIN;
		if (st == DNS_TEMPFAIL) {
			worst = DNS_TEMPFAIL;
			if (first_error[0] == '\0')
				snprintf(first_error, sizeof(first_error), "%s", *error_r);
		}
		if (*n_r >= max)
			break;
	}
	if (*n_r > 0)
		return DNS_FOUND;
	if (worst == DNS_TEMPFAIL) {
		snprintf(r->error, sizeof(r->error), "%s", first_error);
		*error_r = r->error;
		return DNS_TEMPFAIL;
	}
	snprintf(r->error, sizeof(r->error), "%s: no address record", host);
	*error_r = r->error;
	return DNS_NODATA;
}

int dns_txt(struct dns_resolver *r, const char *name, struct dns_txt *txt, const char **error_r)
{
	int len, st;

	memset(txt, 0, sizeof(*txt));
	st = query(r, name, ns_t_txt, &len, error_r);
	if (st != DNS_FOUND)
		return st;
	st = dns_parse_txt(r->answer, (size_t)len, txt);
	if (st == DNS_TEMPFAIL) {
		snprintf(r->error, sizeof(r->error), "%s: malformed TXT answer", name);
		*error_r = r->error;
	}
	return st;
}

int dns_addrs_family(struct dns_resolver *r, const char *host, int family, struct dns_addr *out,
		     size_t max, size_t *n_r, const char **error_r)
{
	int len, st;

	*n_r = 0;
	st = query(r, host, family == AF_INET6 ? ns_t_aaaa : ns_t_a, &len, error_r);
	if (st != DNS_FOUND)
		return st;
	st = dns_parse_addrs(r->answer, (size_t)len, family, 0, out, max, n_r);
	if (st == DNS_TEMPFAIL) {
		snprintf(r->error, sizeof(r->error), "%s: malformed address answer", host);
		*error_r = r->error;
	}
	return st;
}

int dns_ptr(struct dns_resolver *r, const struct sockaddr *sa, char (*names)[DNS_HOST_MAX],
	    size_t max, size_t *n_r, const char **error_r)
{
	char name[80];
	size_t w = 0;
	int len, st;

	*n_r = 0;
	if (sa->sa_family == AF_INET) {
		const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;

		snprintf(name, sizeof(name), "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
	} else if (sa->sa_family == AF_INET6) {
		const unsigned char *a =
			((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const char hex[] = "0123456789abcdef";

		for (int i = 15; i >= 0; i--) {
			name[w++] = hex[a[i] & 15];
			name[w++] = '.';
			name[w++] = hex[a[i] >> 4];
			name[w++] = '.';
		}
		memcpy(name + w, "ip6.arpa", sizeof("ip6.arpa"));
	} else {
		*error_r = "PTR lookup of an address that is neither IPv4 nor IPv6";
		return DNS_NODATA;
	}
	st = query(r, name, ns_t_ptr, &len, error_r);
	if (st != DNS_FOUND)
		return st;
	st = dns_parse_ptr(r->answer, (size_t)len, names, max, n_r);
	if (st == DNS_TEMPFAIL) {
		snprintf(r->error, sizeof(r->error), "%s: malformed PTR answer", name);
		*error_r = r->error;
	}
	return st;
}
