/* libFuzzer harness for DNS blocklists (inetd/dnsbl.h): the query name of
 * any address text under any zone, the verdict on any answer, and
 * dnsbl_check over a DNS that gives that answer to every name.
 *
 * Input: byte 0 picks the status (DNS_TEMPFAIL, NODATA, FOUND, NXDOMAIN);
 * then "IP\nZONES\n" and the rest, 4 bytes each, as A records (up to
 * DNS_ADDRS_MAX; a fifth bit of byte 0 makes them AAAA-family entries that
 * must be ignored).
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_dnsbl
 * Run:   tests/fuzz/fuzz_dnsbl -max_total_time=300 ../../tests/fuzz/corpus/dnsbl */
#include <config.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input read: an address and zones are short; more is noise. */
#define FIELD_MAX 2048

struct answer {
	int status;
	struct dns_addr addrs[DNS_ADDRS_MAX];
	size_t n;
	unsigned queries;
};

static int fz_addrs(void *ctx, const char *host, int family, struct dns_addr *out, size_t max,
		    size_t *n_r, const char **error_r)
{
	struct answer *a = ctx;
	size_t len = strlen(host);

	/* what dnsbl asks is a DNS name of at most 253 characters */
	if (family != AF_INET || len == 0 || len > 253)
		abort();
	a->queries++;
	*n_r = a->n < max ? a->n : max;
	memcpy(out, a->addrs, *n_r * sizeof(out[0]));
	*error_r = "fuzzed failure";
	return a->status;
}

static void take_line(const uint8_t **p, const uint8_t *end, char *out)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t len = (size_t)((nl != NULL ? nl : end) - *p);

	if (len >= FIELD_MAX)
		len = FIELD_MAX - 1;
	memcpy(out, *p, len);
	out[len] = '\0';
	*p = nl != NULL ? nl + 1 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = { DNS_TEMPFAIL, DNS_NODATA, DNS_FOUND, DNS_NXDOMAIN };
	static char ip[FIELD_MAX], zones[FIELD_MAX];
	const uint8_t *p = data + 1, *end = data + size;
	struct answer a;
	struct dns_lookup dns = { 0 };
	struct dnsbl_result r;
	char name[DNSBL_NAME_MAX], code[INET_ADDRSTRLEN];
	size_t len;
	enum dnsbl_answer verdict;

	if (size < 1)
		return 0;
	memset(&a, 0, sizeof(a));
	a.status = statuses[data[0] & 3];
	take_line(&p, end, ip);
	take_line(&p, end, zones);
	for (; end - p >= 4 && a.n < DNS_ADDRS_MAX; p += 4, a.n++) {
		struct dns_addr *d = &a.addrs[a.n];

		d->sa.ss_family = (data[0] & 16) && (a.n & 1) ? AF_INET6 : AF_INET;
		memcpy(&((struct sockaddr_in *)&d->sa)->sin_addr, p, 4);
	}

	/* names: NUL-terminated, within the buffer and DNS's 253 */
	len = dnsbl_query_name(ip, zones, strlen(zones), name, sizeof(name));
	if (len != 0 && (len != strlen(name) || len > 253))
		abort();
	len = dnsbl_query_name(ip, zones, strlen(zones), name, (size_t)(data[0] >> 5) * 40);
	if (len != 0 && len != strlen(name))
		abort();

	verdict = dnsbl_answer(a.status, a.addrs, a.n, code);
	if ((verdict == DNSBL_ANSWER_LISTED) != (code[0] != '\0' && strncmp(code, "127.", 4) == 0 &&
						 strncmp(code, "127.255.255.", 12) != 0))
		abort();

	dns.addrs = fz_addrs;
	dns.ctx = &a;
	dnsbl_check(&dns, ip, zones, &r);
	if (a.queries > DNSBL_ZONES_MAX || (r.listed && verdict != DNSBL_ANSWER_LISTED) ||
	    (r.listed && (strcmp(r.code, code) != 0 || r.zone[0] == '\0')))
		abort();
	return 0;
}
