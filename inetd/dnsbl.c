/* DNS blocklists: query names, the verdict on an answer, the lookup. */
#include <config.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dnsbl.h"
#include "log.h"

/* RFC 1035: a name as text, without the final dot. */
#define DNSBL_TEXT_MAX 253

size_t dnsbl_query_name(const char *ip, const char *zone, size_t zone_len, char *buf,
			size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	char rev[64 + 1];
	size_t len = 0, total;

	if (inet_pton(AF_INET, ip, a) == 1) {
		len = (size_t)snprintf(rev, sizeof(rev), "%u.%u.%u.%u.", a[3], a[2], a[1], a[0]);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
			len = (size_t)snprintf(rev, sizeof(rev), "%u.%u.%u.%u.", a[15], a[14],
					       a[13], a[12]);
		} else {
			for (int i = 15; i >= 0; i--) {
				rev[len++] = hex[a[i] & 15];
				rev[len++] = '.';
				rev[len++] = hex[a[i] >> 4];
				rev[len++] = '.';
			}
		}
	} else {
		return 0;
	}
	total = len + zone_len;
	if (zone_len == 0 || total > DNSBL_TEXT_MAX || total >= size)
		return 0;
	memcpy(buf, rev, len);
	memcpy(buf + len, zone, zone_len);
	buf[total] = '\0';
	return total;
}

enum dnsbl_answer dnsbl_answer(int status, const struct dns_addr *addrs, size_t n,
			       char code_r[INET_ADDRSTRLEN])
{
	enum dnsbl_answer best = DNSBL_ANSWER_NONE;
	struct in_addr best_addr = { 0 };

	code_r[0] = '\0';
	if (status == DNS_NXDOMAIN || status == DNS_NODATA)
		return DNSBL_ANSWER_NONE;
	if (status != DNS_FOUND)
		return DNSBL_ANSWER_FAILED;
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&addrs[i].sa;
		uint32_t a = ntohl(sin->sin_addr.s_addr);
		enum dnsbl_answer kind;

		if (addrs[i].sa.ss_family != AF_INET)
			continue;
		if ((a >> 24) != 127)
			kind = DNSBL_ANSWER_BOGUS;
		else if ((a >> 8) == 0x7fffff)
			kind = DNSBL_ANSWER_ERROR;
		else
			kind = DNSBL_ANSWER_LISTED;
		/* LISTED beats ERROR beats BOGUS beats NONE; the first of a kind */
		if (best == DNSBL_ANSWER_NONE ||
		    (kind == DNSBL_ANSWER_LISTED && best != DNSBL_ANSWER_LISTED) ||
		    (kind == DNSBL_ANSWER_ERROR && best == DNSBL_ANSWER_BOGUS)) {
			best = kind;
			best_addr = sin->sin_addr;
		}
	}
	if (best != DNSBL_ANSWER_NONE)
		inet_ntop(AF_INET, &best_addr, code_r, INET_ADDRSTRLEN);
	return best;
}

/* One zone: true when it lists `ip` (r filled). */
static bool dnsbl_check_zone(const struct dns_lookup *dns, const char *ip, const char *zone,
			     size_t zone_len, struct dnsbl_result *r)
{
	struct dns_addr addrs[DNS_ADDRS_MAX];
	char name[DNSBL_NAME_MAX], code[INET_ADDRSTRLEN];
	const char *error = NULL;
	size_t n = 0;
	int st;

	if (zone_len > DNSBL_ZONE_MAX ||
	    dnsbl_query_name(ip, zone, zone_len, name, sizeof(name)) == 0)
		return false;
	st = dns->addrs(dns->ctx, name, AF_INET, addrs, DNS_ADDRS_MAX, &n, &error);
	switch (dnsbl_answer(st, addrs, n, code)) {
	case DNSBL_ANSWER_LISTED:
		memcpy(r->zone, zone, zone_len);
		r->zone[zone_len] = '\0';
		memcpy(r->code, code, sizeof(r->code));
		r->listed = true;
		return true;
	case DNSBL_ANSWER_ERROR:
		log_warning("dnsbl zone=%.*s code=%s: the list refused the query (an error "
			    "code, not a listing: a public resolver, or over its limit?)",
			    (int)zone_len, zone, code);
		break;
	case DNSBL_ANSWER_BOGUS:
		log_warning("dnsbl zone=%.*s code=%s: outside 127.0.0.0/8, ignored (a "
			    "resolver that rewrites answers?)", (int)zone_len, zone, code);
		break;
	case DNSBL_ANSWER_FAILED:
		log_warning("dnsbl zone=%.*s rip=%s lookup failed, not listed: %s",
			    (int)zone_len, zone, ip, error != NULL ? error : "DNS error");
		break;
	case DNSBL_ANSWER_NONE:
		break;
	}
	return false;
}

void dnsbl_check(const struct dns_lookup *dns, const char *ip, const char *zones,
		 struct dnsbl_result *r)
{
	unsigned n = 0;

	memset(r, 0, sizeof(*r));
	for (const char *p = zones; *p != '\0' && n < DNSBL_ZONES_MAX;) {
		size_t len = strcspn(p, " ");

		if (len > 0 && (n++, dnsbl_check_zone(dns, ip, p, len, r)))
			return;
		p += len;
		if (*p == ' ')
			p++;
	}
}
