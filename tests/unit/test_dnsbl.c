/* Unit tests of DNS blocklists (inetd/dnsbl.h): query names (RFC 5782's
 * examples, IPv4-mapped, the length limit), the verdict on answers (a
 * listing, Spamhaus's error codes, addresses outside 127/8, failures) and
 * dnsbl_check over zones answered from a table here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dnsbl.h"

/* ------------------------------------------------------------ DNS from a table */

/* An A record; data "TEMPFAIL" makes every lookup of the name fail. */
struct rr {
	const char *name;
	const char *data;
};

struct zone {
	const struct rr *rr;
	size_t n;
	unsigned queries;
	char asked[8][DNSBL_NAME_MAX];
};

static int fake_addrs(void *ctx, const char *host, int family, struct dns_addr *out, size_t max,
		      size_t *n_r, const char **error_r)
{
	struct zone *z = ctx;

	assert_int_equal(family, AF_INET);
	if (z->queries < 8)
		snprintf(z->asked[z->queries], sizeof(z->asked[0]), "%s", host);
	z->queries++;
	*n_r = 0;
	for (size_t k = 0; k < z->n; k++) {
		struct dns_addr *a = &out[*n_r];

		if (strcasecmp(z->rr[k].name, host) != 0)
			continue;
		if (strcmp(z->rr[k].data, "TEMPFAIL") == 0) {
			*error_r = "timed out";
			return DNS_TEMPFAIL;
		}
		if (*n_r >= max)
			break;
		memset(a, 0, sizeof(*a));
		a->sa.ss_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, z->rr[k].data,
					   &((struct sockaddr_in *)&a->sa)->sin_addr), 1);
		(*n_r)++;
	}
	return *n_r > 0 ? DNS_FOUND : DNS_NXDOMAIN;
}

static void lookup_init(struct dns_lookup *dns, struct zone *z)
{
	memset(dns, 0, sizeof(*dns));
	dns->addrs = fake_addrs;
	dns->ctx = z;
}

/* ------------------------------------------------------------ query names */

static size_t qname(const char *ip, const char *zone, char *buf, size_t size)
{
	return dnsbl_query_name(ip, zone, strlen(zone), buf, size);
}

static void test_query_name(void **state)
{
	char buf[DNSBL_NAME_MAX], zone[DNSBL_ZONE_MAX + 2];
	size_t n;

	(void)state;
	/* RFC 5782 2.1 */
	n = qname("192.168.1.234", "bad.example.com", buf, sizeof(buf));
	assert_string_equal(buf, "234.1.168.192.bad.example.com");
	assert_int_equal(n, strlen(buf));
	qname("127.0.0.2", "zen.spamhaus.org", buf, sizeof(buf));
	assert_string_equal(buf, "2.0.0.127.zen.spamhaus.org");
	/* RFC 5782 2.4 */
	qname("2001:db8:1:2:3:4:567:89ab", "ugly.example.com", buf, sizeof(buf));
	assert_string_equal(buf, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2."
				 "ugly.example.com");
	qname("::1", "z", buf, sizeof(buf));
	assert_string_equal(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.z");
	/* the socket of a dual-stack listener: queried as IPv4 */
	qname("::ffff:203.0.113.7", "bl.test", buf, sizeof(buf));
	assert_string_equal(buf, "7.113.0.203.bl.test");
	/* not addresses */
	assert_int_equal(qname("unknown", "bl.test", buf, sizeof(buf)), 0);
	assert_int_equal(qname("", "bl.test", buf, sizeof(buf)), 0);
	assert_int_equal(qname("192.0.2.1 ", "bl.test", buf, sizeof(buf)), 0);
	assert_int_equal(qname("192.0.2.1", "", buf, sizeof(buf)), 0);
	/* the longest zone fits after an IPv6 name (253 characters); one
	 * more does not, nor a buffer one short */
	memset(zone, 'a', DNSBL_ZONE_MAX);
	zone[DNSBL_ZONE_MAX] = '\0';
	assert_int_equal(qname("2001:db8::1", zone, buf, sizeof(buf)), 253);
	assert_int_equal(qname("2001:db8::1", zone, buf, 253), 0);
	assert_int_equal(qname("2001:db8::1", zone, buf, 254), 253);
	zone[DNSBL_ZONE_MAX] = 'a';
	zone[DNSBL_ZONE_MAX + 1] = '\0';
	assert_int_equal(dnsbl_query_name("2001:db8::1", zone, strlen(zone), buf, sizeof(buf)), 0);
	assert_int_equal(qname("192.0.2.1", zone, buf, sizeof(buf)), 10 + 190);
}

/* ------------------------------------------------------------ verdicts */

static enum dnsbl_answer answer(int status, const char *const *a, size_t n, char *code)
{
	struct dns_addr addrs[DNS_ADDRS_MAX];

	memset(addrs, 0, sizeof(addrs));
	for (size_t i = 0; i < n; i++) {
		if (strchr(a[i], ':') != NULL) {
			addrs[i].sa.ss_family = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, a[i],
					 &((struct sockaddr_in6 *)&addrs[i].sa)->sin6_addr), 1);
			continue;
		}
		addrs[i].sa.ss_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, a[i],
					   &((struct sockaddr_in *)&addrs[i].sa)->sin_addr), 1);
	}
	return dnsbl_answer(status, addrs, n, code);
}

static void test_answer(void **state)
{
	char code[INET_ADDRSTRLEN];
	static const char *const listed[] = { "127.0.0.2" };
	static const char *const low[] = { "127.0.0.0" };
	static const char *const high[] = { "127.255.254.255" };
	static const char *const query_public[] = { "127.255.255.254" };
	static const char *const over_limit[] = { "127.255.255.255" };
	static const char *const err_low[] = { "127.255.255.0" };
	static const char *const hijack[] = { "198.51.100.80" };
	static const char *const mixed[] = { "198.51.100.80", "127.255.255.254", "127.0.0.4",
					     "127.0.0.10" };
	static const char *const err_bogus[] = { "10.0.0.1", "127.255.255.252" };
	static const char *const v6[] = { "::1" };

	(void)state;
	assert_int_equal(answer(DNS_FOUND, listed, 1, code), DNSBL_ANSWER_LISTED);
	assert_string_equal(code, "127.0.0.2");
	/* 127/8 edges: all of it lists but 127.255.255.0/24 */
	assert_int_equal(answer(DNS_FOUND, low, 1, code), DNSBL_ANSWER_LISTED);
	assert_int_equal(answer(DNS_FOUND, high, 1, code), DNSBL_ANSWER_LISTED);
	assert_string_equal(code, "127.255.254.255");
	assert_int_equal(answer(DNS_FOUND, query_public, 1, code), DNSBL_ANSWER_ERROR);
	assert_string_equal(code, "127.255.255.254");
	assert_int_equal(answer(DNS_FOUND, over_limit, 1, code), DNSBL_ANSWER_ERROR);
	assert_int_equal(answer(DNS_FOUND, err_low, 1, code), DNSBL_ANSWER_ERROR);
	/* a resolver's advertising page */
	assert_int_equal(answer(DNS_FOUND, hijack, 1, code), DNSBL_ANSWER_BOGUS);
	assert_string_equal(code, "198.51.100.80");
	/* a listing wins, the first one is kept */
	assert_int_equal(answer(DNS_FOUND, mixed, 4, code), DNSBL_ANSWER_LISTED);
	assert_string_equal(code, "127.0.0.4");
	assert_int_equal(answer(DNS_FOUND, err_bogus, 2, code), DNSBL_ANSWER_ERROR);
	assert_string_equal(code, "127.255.255.252");
	/* not IPv4: ignored */
	assert_int_equal(answer(DNS_FOUND, v6, 1, code), DNSBL_ANSWER_NONE);
	assert_string_equal(code, "");
	assert_int_equal(answer(DNS_FOUND, listed, 0, code), DNSBL_ANSWER_NONE);
	/* statuses */
	assert_int_equal(answer(DNS_NXDOMAIN, NULL, 0, code), DNSBL_ANSWER_NONE);
	assert_int_equal(answer(DNS_NODATA, NULL, 0, code), DNSBL_ANSWER_NONE);
	assert_int_equal(answer(DNS_TEMPFAIL, NULL, 0, code), DNSBL_ANSWER_FAILED);
	assert_int_equal(answer(DNS_TEMPFAIL, listed, 1, code), DNSBL_ANSWER_FAILED);
	assert_string_equal(code, "");
}

/* ------------------------------------------------------------ the lookup */

static void test_check(void **state)
{
	static const struct rr rr[] = {
		{ "2.2.0.192.bl.test", "127.0.0.2" },
		{ "2.2.0.192.second.test", "127.0.0.3" },
		{ "2.2.0.192.err.test", "127.255.255.254" },
		{ "2.2.0.192.hijack.test", "198.51.100.80" },
		{ "2.2.0.192.dead.test", "TEMPFAIL" },
		{ "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test",
		  "127.0.0.9" },
	};
	struct zone z = { rr, sizeof(rr) / sizeof(rr[0]), 0, { "" } };
	struct dns_lookup dns;
	struct dnsbl_result r;

	(void)state;
	lookup_init(&dns, &z);
	/* errors, hijacks, failures and NXDOMAIN do not list; the first zone
	 * that does is kept, later ones are not asked */
	dnsbl_check(&dns, "192.0.2.2", "err.test hijack.test dead.test none.test second.test bl.test",
		    &r);
	assert_true(r.listed);
	assert_string_equal(r.zone, "second.test");
	assert_string_equal(r.code, "127.0.0.3");
	assert_int_equal(z.queries, 5);
	assert_string_equal(z.asked[3], "2.2.0.192.none.test");

	z.queries = 0;
	dnsbl_check(&dns, "192.0.2.2", "err.test hijack.test dead.test none.test", &r);
	assert_false(r.listed);
	assert_string_equal(r.zone, "");
	assert_int_equal(z.queries, 4);

	dnsbl_check(&dns, "2001:db8::2", "second.test bl.test", &r);
	assert_true(r.listed);
	assert_string_equal(r.zone, "bl.test");
	assert_string_equal(r.code, "127.0.0.9");

	/* no zones, no address: nothing asked */
	z.queries = 0;
	dnsbl_check(&dns, "192.0.2.2", "", &r);
	assert_false(r.listed);
	dnsbl_check(&dns, "unknown", "bl.test", &r);
	assert_false(r.listed);
	assert_int_equal(z.queries, 0);
	/* at most DNSBL_ZONES_MAX zones are asked */
	dnsbl_check(&dns, "192.0.2.1", "a b c d e f g h bl.test", &r);
	assert_false(r.listed);
	assert_int_equal(z.queries, DNSBL_ZONES_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_name),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
