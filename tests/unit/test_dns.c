/* Unit tests of the DNS answer parsers (MX, addresses, TXT, PTR) and MX
 * ordering, on DNS messages built here byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"

struct msg {
	unsigned char b[16384];
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
	struct dns_mx out[4];
	size_t n;
	bool null_mx;

	(void)state;
	header(&m, 0, 2, "example.org", 15);
	mx(&m, 20, "mx2.example.org");
	mx(&m, 10, "mx1.example.org");
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 4, &n, &null_mx), DNS_FOUND);
	assert_int_equal(n, 2);
	assert_false(null_mx);
	dns_mx_sort(out, n);
	assert_string_equal(out[0].host, "mx1.example.org");
	assert_int_equal(out[0].pref, 10);
	assert_string_equal(out[1].host, "mx2.example.org");
}

static void test_mx_compressed_target(void **state)
{
	struct msg m;
	struct dns_mx out[2];
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
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_FOUND);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].host, "mail.example.org");
}

static void test_null_mx(void **state)
{
	struct msg m;
	struct dns_mx out[2];
	size_t n;
	bool null_mx;

	(void)state;
	header(&m, 0, 1, "nomail.test", 15);
	mx(&m, 0, "");
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_FOUND);
	assert_int_equal(n, 0);
	assert_true(null_mx);
	/* Mixed with a real MX, the null one is ignored (RFC 7505 3). */
	header(&m, 0, 2, "nomail.test", 15);
	mx(&m, 0, "");
	mx(&m, 10, "mx.nomail.test");
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_FOUND);
	assert_int_equal(n, 1);
	assert_false(null_mx);
}

static void test_rcodes(void **state)
{
	struct msg m;
	struct dns_mx out[2];
	size_t n;
	bool null_mx;

	(void)state;
	header(&m, 3, 0, "nx.test", 15);
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_NXDOMAIN);
	header(&m, 2, 0, "sf.test", 15);
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_TEMPFAIL);
	header(&m, 0, 0, "a.test", 15);
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_NODATA);
	/* A CNAME alone is no MX. */
	header(&m, 0, 1, "a.test", 15);
	rr_start(&m, 5, 3);
	name(&m, "b");
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_NODATA);
}

static void test_malformed(void **state)
{
	struct msg m;
	struct dns_mx out[2];
	size_t n;
	bool null_mx;

	(void)state;
	/* rdlength beyond the end */
	header(&m, 0, 1, "example.org", 15);
	rr_start(&m, 15, 200);
	u16(&m, 10);
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_TEMPFAIL);
	/* a compression loop */
	header(&m, 0, 1, "example.org", 15);
	size_t at = m.len;
	rr_start(&m, 15, 4);
	u16(&m, 10);
	u16(&m, 0xc000 | (unsigned)(at + 14)); /* points at itself */
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_TEMPFAIL);
	/* more answers announced than present */
	header(&m, 0, 3, "example.org", 15);
	mx(&m, 10, "mx.example.org");
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_TEMPFAIL);
	/* truncated header; every prefix of a good message is refused or
	 * parsed without reading past it (ASan watches) */
	header(&m, 0, 1, "example.org", 15);
	mx(&m, 10, "mx.example.org");
	for (size_t len = 0; len < m.len; len++) {
		unsigned char copy[4096];

		memcpy(copy, m.b, len);
		assert_int_not_equal(dns_parse_mx(copy, len, out, 2, &n, &null_mx),
				     DNS_FOUND);
	}
	/* not a response */
	header(&m, 0, 0, "example.org", 15);
	m.b[2] &= 0x7f;
	assert_int_equal(dns_parse_mx(m.b, m.len, out, 2, &n, &null_mx), DNS_TEMPFAIL);
}

static void test_addrs(void **state)
{
	struct msg m;
	struct dns_addr out[4];
	char text[64];
	size_t n;

	(void)state;
	header(&m, 0, 2, "mx.example.org", 1);
	rr_start(&m, 1, 4);
	m.b[m.len++] = 127; m.b[m.len++] = 0; m.b[m.len++] = 0; m.b[m.len++] = 3;
	rr_start(&m, 1, 4);
	m.b[m.len++] = 192; m.b[m.len++] = 0; m.b[m.len++] = 2; m.b[m.len++] = 1;
	assert_int_equal(dns_parse_addrs(m.b, m.len, AF_INET, 2525, out, 4, &n),
			 DNS_FOUND);
	assert_int_equal(n, 2);
	assert_string_equal(dns_addr_text(&out[0], text, sizeof(text)), "127.0.0.3");
	assert_int_equal(ntohs(((struct sockaddr_in *)&out[0].sa)->sin_port), 2525);
	/* An A record asked as AAAA is not an address. */
	assert_int_equal(dns_parse_addrs(m.b, m.len, AF_INET6, 25, out, 4, &n),
			 DNS_NODATA);
	/* AAAA with the wrong length is malformed */
	header(&m, 0, 1, "mx.example.org", 28);
	rr_start(&m, 28, 4);
	u16(&m, 0); u16(&m, 1);
	assert_int_equal(dns_parse_addrs(m.b, m.len, AF_INET6, 25, out, 4, &n),
			 DNS_TEMPFAIL);
	header(&m, 0, 1, "mx.example.org", 28);
	rr_start(&m, 28, 16);
	for (int i = 0; i < 15; i++)
		m.b[m.len++] = 0;
	m.b[m.len++] = 1;
	assert_int_equal(dns_parse_addrs(m.b, m.len, AF_INET6, 25, out, 4, &n),
			 DNS_FOUND);
	assert_string_equal(dns_addr_text(&out[0], text, sizeof(text)), "::1");
}

static void test_sort_random_ties(void **state)
{
	struct dns_mx mxs[3] = {
		{ 10, 3, "c" }, { 5, 9, "z" }, { 10, 1, "d" },
	};

	(void)state;
	dns_mx_sort(mxs, 3);
	assert_string_equal(mxs[0].host, "z");
	assert_string_equal(mxs[1].host, "d"); /* rnd 1 before rnd 3 */
	assert_string_equal(mxs[2].host, "c");
}

/* A TXT record of the given character-strings (lengths given, so that a
 * string may hold a NUL byte). */
static void txt(struct msg *m, const char *const *strs, const size_t *lens, size_t n)
{
	size_t rdlen = 0;

	for (size_t i = 0; i < n; i++)
		rdlen += 1 + lens[i];
	rr_start(m, 16, (unsigned)rdlen);
	for (size_t i = 0; i < n; i++) {
		m->b[m->len++] = (unsigned char)lens[i];
		memcpy(m->b + m->len, strs[i], lens[i]);
		m->len += lens[i];
	}
}

static void test_txt(void **state)
{
	static const char *const spf[] = { "v=spf1 ip4:192.0.2.0/24 ", "-all" };
	static const size_t spf_len[] = { 24, 4 };
	static const char *const other[] = { "google-site-verification=x" };
	static const size_t other_len[] = { 26 };
	static const char *const empty[] = { "" };
	static const size_t empty_len[] = { 0 };
	static const char *const nul[] = { "a\0b" };
	static const size_t nul_len[] = { 3 };
	struct msg m;
	struct dns_txt t;

	(void)state;
	header(&m, 0, 5, "example.org", 16);
	txt(&m, spf, spf_len, 2);
	rr_start(&m, 5, 2); /* a CNAME on the way is skipped */
	u16(&m, 0xc00c);
	txt(&m, other, other_len, 1);
	txt(&m, empty, empty_len, 1);
	txt(&m, nul, nul_len, 1);
	assert_int_equal(dns_parse_txt(m.b, m.len, &t), DNS_FOUND);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.rec[0], "v=spf1 ip4:192.0.2.0/24 -all");
	assert_int_equal(t.len[0], 28);
	assert_string_equal(t.rec[1], "google-site-verification=x");
	assert_string_equal(t.rec[2], "");
	assert_true(t.overflow); /* the record with a NUL byte */
	dns_txt_free(&t);

	/* A string longer than its rdata is a malformed answer. */
	header(&m, 0, 1, "example.org", 16);
	rr_start(&m, 16, 3);
	m.b[m.len++] = 5;
	m.b[m.len++] = 'a';
	m.b[m.len++] = 'b';
	assert_int_equal(dns_parse_txt(m.b, m.len, &t), DNS_TEMPFAIL);
	dns_txt_free(&t);

	header(&m, 0, 0, "example.org", 16);
	assert_int_equal(dns_parse_txt(m.b, m.len, &t), DNS_NODATA);
	dns_txt_free(&t);
	header(&m, 3, 0, "example.org", 16);
	assert_int_equal(dns_parse_txt(m.b, m.len, &t), DNS_NXDOMAIN);
	dns_txt_free(&t);
}

static void test_txt_limits(void **state)
{
	static char big[255];
	const char *strs[40];
	size_t lens[40];
	static struct msg m; /* larger than the stack frame likes */
	struct dns_txt t;

	(void)state;
	memset(big, 'k', sizeof(big));
	/* 33 strings of 255: 8,415 bytes, over DNS_TXT_LEN_MAX. */
	for (size_t i = 0; i < 33; i++) {
		strs[i] = big;
		lens[i] = sizeof(big);
	}
	header(&m, 0, 1, "sel._domainkey.example.org", 16);
	txt(&m, strs, lens, 33);
	assert_true(m.len < sizeof(m.b));
	assert_int_equal(dns_parse_txt(m.b, m.len, &t), DNS_FOUND);
	assert_int_equal(t.n, 0);
	assert_true(t.overflow);
	dns_txt_free(&t);

	/* DNS_TXT_MAX + 2 small records: the first DNS_TXT_MAX kept. */
	header(&m, 0, DNS_TXT_MAX + 2, "example.org", 16);
	for (size_t i = 0; i < DNS_TXT_MAX + 2; i++) {
		strs[0] = "r";
		lens[0] = 1;
		txt(&m, strs, lens, 1);
	}
	assert_int_equal(dns_parse_txt(m.b, m.len, &t), DNS_FOUND);
	assert_int_equal(t.n, DNS_TXT_MAX);
	assert_true(t.overflow);
	dns_txt_free(&t);
}

static void test_ptr(void **state)
{
	struct msg m, tmp = { .len = 0 };
	char names[DNS_PTR_MAX][DNS_HOST_MAX];
	size_t n;

	(void)state;
	header(&m, 0, 2, "1.2.0.192.in-addr.arpa", 12);
	name(&tmp, "mail.example.org");
	rr_start(&m, 12, (unsigned)tmp.len);
	memcpy(m.b + m.len, tmp.b, tmp.len);
	m.len += tmp.len;
	rr_start(&m, 12, 2); /* a pointer back to the question's name */
	u16(&m, 0xc00c);
	assert_int_equal(dns_parse_ptr(m.b, m.len, names, DNS_PTR_MAX, &n), DNS_FOUND);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "mail.example.org");
	assert_string_equal(names[1], "1.2.0.192.in-addr.arpa");

	/* A name running past its rdata. */
	header(&m, 0, 1, "1.2.0.192.in-addr.arpa", 12);
	rr_start(&m, 12, 1);
	m.b[m.len++] = 9;
	assert_int_equal(dns_parse_ptr(m.b, m.len, names, DNS_PTR_MAX, &n), DNS_TEMPFAIL);
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
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_txt_limits),
		cmocka_unit_test(test_ptr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
