/* Unit tests of the relay's DNS answer parsers and MX ordering, on DNS
 * messages built here byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "relay_dns.h"

struct msg {
	unsigned char b[4096];
	size_t len;
};

static void u16(struct msg *m, unsigned v)
{
	m->b[m->len++] = (unsigned char)(v >> 8);
	m->b[m->len++] = (unsigned char)v;
}

/* A name as labels; "" is the root. */
static void name(struct msg *m, const char *n)
{
	while (*n != '\0') {
		const char *dot = strchr(n, '.');
		size_t l = dot != NULL ? (size_t)(dot - n) : strlen(n);

		m->b[m->len++] = (unsigned char)l;
		memcpy(m->b + m->len, n, l);
		m->len += l;
		n += l;
		if (*n == '.')
			n++;
	}
	m->b[m->len++] = 0;
}

static void header(struct msg *m, unsigned rcode, unsigned ancount, const char *qname,
		   unsigned qtype)
{
	m->len = 0;
	u16(m, 0x1234);
	u16(m, 0x8180 | rcode);
	u16(m, 1);
	u16(m, ancount);
	u16(m, 0);
	u16(m, 0);
	name(m, qname);
	u16(m, qtype);
	u16(m, 1);
}

/* An answer whose owner is a pointer to the question name (offset 12). */
static void rr_start(struct msg *m, unsigned type, unsigned rdlen)
{
	u16(m, 0xc00c);
	u16(m, type);
	u16(m, 1);
	u16(m, 0);
	u16(m, 300);
	u16(m, rdlen);
}

static void mx(struct msg *m, unsigned pref, const char *host)
{
	struct msg tmp = { .len = 0 };

	name(&tmp, host);
	rr_start(m, 15, (unsigned)tmp.len + 2);
	u16(m, pref);
	memcpy(m->b + m->len, tmp.b, tmp.len);
	m->len += tmp.len;
}

static void test_mx_two(void **state)
{
	struct msg m;
	struct relay_mx out[4];
	size_t n;
	bool null_mx;

	(void)state;
	header(&m, 0, 2, "example.org", 15);
	mx(&m, 20, "mx2.example.org");
	mx(&m, 10, "mx1.example.org");
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 4, &n, &null_mx), RELAY_DNS_FOUND);
	assert_int_equal(n, 2);
	assert_false(null_mx);
	relay_mx_sort(out, n);
	assert_string_equal(out[0].host, "mx1.example.org");
	assert_int_equal(out[0].pref, 10);
	assert_string_equal(out[1].host, "mx2.example.org");
}

static void test_mx_compressed_target(void **state)
{
	struct msg m;
	struct relay_mx out[2];
	size_t n;
	bool null_mx;

	(void)state;
	header(&m, 0, 1, "example.org", 15);
	/* target "mail" + pointer to "example.org" at 12 */
	rr_start(&m, 15, 2 + 5 + 2);
	u16(&m, 5);
	m.b[m.len++] = 4;
	memcpy(m.b + m.len, "mail", 4);
	m.len += 4;
	u16(&m, 0xc00c);
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_FOUND);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].host, "mail.example.org");
}

static void test_null_mx(void **state)
{
	struct msg m;
	struct relay_mx out[2];
	size_t n;
	bool null_mx;

	(void)state;
	header(&m, 0, 1, "nomail.test", 15);
	mx(&m, 0, "");
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_FOUND);
	assert_int_equal(n, 0);
	assert_true(null_mx);
	/* Mixed with a real MX, the null one is ignored (RFC 7505 3). */
	header(&m, 0, 2, "nomail.test", 15);
	mx(&m, 0, "");
	mx(&m, 10, "mx.nomail.test");
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_FOUND);
	assert_int_equal(n, 1);
	assert_false(null_mx);
}

static void test_rcodes(void **state)
{
	struct msg m;
	struct relay_mx out[2];
	size_t n;
	bool null_mx;

	(void)state;
	header(&m, 3, 0, "nx.test", 15);
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_NXDOMAIN);
	header(&m, 2, 0, "sf.test", 15);
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_TEMPFAIL);
	header(&m, 0, 0, "a.test", 15);
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_NODATA);
	/* A CNAME alone is no MX. */
	header(&m, 0, 1, "a.test", 15);
	rr_start(&m, 5, 3);
	name(&m, "b");
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_NODATA);
}

static void test_malformed(void **state)
{
	struct msg m;
	struct relay_mx out[2];
	size_t n;
	bool null_mx;

	(void)state;
	/* rdlength beyond the end */
	header(&m, 0, 1, "example.org", 15);
	rr_start(&m, 15, 200);
	u16(&m, 10);
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_TEMPFAIL);
	/* a compression loop */
	header(&m, 0, 1, "example.org", 15);
	size_t at = m.len;
	rr_start(&m, 15, 4);
	u16(&m, 10);
	u16(&m, 0xc000 | (unsigned)(at + 14)); /* points at itself */
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_TEMPFAIL);
	/* more answers announced than present */
	header(&m, 0, 3, "example.org", 15);
	mx(&m, 10, "mx.example.org");
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_TEMPFAIL);
	/* truncated header; every prefix of a good message is refused or
	 * parsed without reading past it (ASan watches) */
	header(&m, 0, 1, "example.org", 15);
	mx(&m, 10, "mx.example.org");
	for (size_t len = 0; len < m.len; len++) {
		unsigned char copy[4096];

		memcpy(copy, m.b, len);
		assert_int_not_equal(relay_dns_parse_mx(copy, len, out, 2, &n, &null_mx),
				     RELAY_DNS_FOUND);
	}
	/* not a response */
	header(&m, 0, 0, "example.org", 15);
	m.b[2] &= 0x7f;
	assert_int_equal(relay_dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), RELAY_DNS_TEMPFAIL);
}

static void test_addrs(void **state)
{
	struct msg m;
	struct relay_addr out[4];
	char text[64];
	size_t n;

	(void)state;
	header(&m, 0, 2, "mx.example.org", 1);
	rr_start(&m, 1, 4);
	m.b[m.len++] = 127; m.b[m.len++] = 0; m.b[m.len++] = 0; m.b[m.len++] = 3;
	rr_start(&m, 1, 4);
	m.b[m.len++] = 192; m.b[m.len++] = 0; m.b[m.len++] = 2; m.b[m.len++] = 1;
	assert_int_equal(relay_dns_parse_addrs(m.b, m.len, AF_INET, 2525, out, 4, &n),
			 RELAY_DNS_FOUND);
	assert_int_equal(n, 2);
	assert_string_equal(relay_addr_text(&out[0], text, sizeof(text)), "127.0.0.3");
	assert_int_equal(ntohs(((struct sockaddr_in *)&out[0].sa)->sin_port), 2525);
	/* An A record asked as AAAA is not an address. */
	assert_int_equal(relay_dns_parse_addrs(m.b, m.len, AF_INET6, 25, out, 4, &n),
			 RELAY_DNS_NODATA);
	/* AAAA with the wrong length is malformed */
	header(&m, 0, 1, "mx.example.org", 28);
	rr_start(&m, 28, 4);
	u16(&m, 0); u16(&m, 1);
	assert_int_equal(relay_dns_parse_addrs(m.b, m.len, AF_INET6, 25, out, 4, &n),
			 RELAY_DNS_TEMPFAIL);
	header(&m, 0, 1, "mx.example.org", 28);
	rr_start(&m, 28, 16);
	for (int i = 0; i < 15; i++)
		m.b[m.len++] = 0;
	m.b[m.len++] = 1;
	assert_int_equal(relay_dns_parse_addrs(m.b, m.len, AF_INET6, 25, out, 4, &n),
			 RELAY_DNS_FOUND);
	assert_string_equal(relay_addr_text(&out[0], text, sizeof(text)), "::1");
}

static void test_sort_random_ties(void **state)
{
	struct relay_mx mxs[3] = {
		{ 10, 3, "c" }, { 5, 9, "z" }, { 10, 1, "d" },
	};

	(void)state;
	relay_mx_sort(mxs, 3);
	assert_string_equal(mxs[0].host, "z");
	assert_string_equal(mxs[1].host, "d"); /* rnd 1 before rnd 3 */
	assert_string_equal(mxs[2].host, "c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_two),
		cmocka_unit_test(test_mx_compressed_target),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_rcodes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_sort_random_ties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
