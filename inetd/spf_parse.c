/* SPF record syntax (RFC 7208 4.6.1, 5, 6, 12): terms, qualifiers,
 * domain-specs, CIDR lengths; names as DNS takes them (spf_int.h). */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf_int.h"

/* A name to ask DNS about: labels of 1..63 octets, 253 in all, printable
 * ASCII (spaces may come from macros) but no backslash, which the
 * resolver would read as an escape. */
bool spf_name_ok(const char *n)
{
	size_t len = strlen(n), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t k = 0; k < len; k++) {
		unsigned char ch = (unsigned char)n[k];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (ch < 0x20 || ch > 0x7e || ch == '\\' || ++label > 63)
			return false;
	}
	return label > 0;
}

/* RFC 7208 4.3: the identity's domain is a multi-label host name. */
bool spf_domain_valid(const char *d)
{
	size_t len = strlen(d), labels = 0, label = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t k = 0; k <= len; k++) {
		if (k == len || d[k] == '.') {
			if (label == 0)
				return false;
			labels++;
			label = 0;
		} else if ((!isalnum((unsigned char)d[k]) && d[k] != '-' && d[k] != '_') ||
			   ++label > 63) {
			return false;
		}
	}
	return labels >= 2;
}

/* name is domain or one of its subdomains (ASCII case-insensitive). */
bool spf_under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n < d || strcasecmp(name + n - d, domain) != 0)
		return false;
	return n == d || name[n - d - 1] == '.';
}

/* ------------------------------------------------------------ syntax */

/* ip4-cidr-length / ip6-cidr-length digits: no leading zero (as in
 * ip4-network), at most max. */
static bool cidr_num(const char *s, size_t n, unsigned max, unsigned *v)
{
	unsigned x = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t k = 0; k < n; k++) {
		if (!isdigit((unsigned char)s[k]))
			return false;
		x = x * 10 + (unsigned)(s[k] - '0');
	}
	*v = x;
	return x <= max;
}

/* Takes dual-cidr-length ("/n", "//n", "/n//m") off the end of s. */
static bool dual_cidr(const char *s, size_t *len, struct term *t)
{
	size_t e = *len, k = e;

	while (k > 0 && isdigit((unsigned char)s[k - 1]))
		k--;
	if (k < e && k >= 2 && s[k - 1] == '/' && s[k - 2] == '/') {
		if (!cidr_num(s + k, e - k, 128, &t->cidr6))
			return false;
		e = k - 2;
	}
	k = e;
	while (k > 0 && isdigit((unsigned char)s[k - 1]))
		k--;
	if (k < e && k >= 1 && s[k - 1] == '/') {
		if (!cidr_num(s + k, e - k, 32, &t->cidr4))
			return false;
		e = k - 1;
	}
	*len = e;
	return true;
}

static bool domain_spec(struct term *t, const char *s, size_t n, const char **why_r)
{
	t->spec = s;
	t->spec_len = n;
	return spf_macro_expand(s, n, SPF_MACRO_DOMAIN, NULL, NULL, 0, why_r) == 0;
}

static bool ip_network(struct term *t, const char *s, size_t n, int family, const char **why_r)
{
	const char *slash = NULL;
	char buf[64];

	for (size_t k = 0; k < n; k++)
		if (s[k] == '/')
			slash = s + k;
	if (slash != NULL) {
		size_t rest = n - (size_t)(slash - s) - 1;

		if (!cidr_num(slash + 1, rest, family == AF_INET ? 32 : 128,
			      family == AF_INET ? &t->cidr4 : &t->cidr6)) {
			*why_r = "bad CIDR length";
			return false;
		}
		n = (size_t)(slash - s);
	}
	if (n == 0 || n >= sizeof(buf)) {
		*why_r = "bad address";
		return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(family, buf, t->net) != 1) {
		*why_r = "bad address";
		return false;
	}
	return true;
}

static const struct {
	const char *name;
	enum mech mech;
} mechs[] = {
	{ "all", M_ALL }, { "include", M_INCLUDE }, { "a", M_A }, { "mx", M_MX },
	{ "ptr", M_PTR }, { "ip4", M_IP4 }, { "ip6", M_IP6 }, { "exists", M_EXISTS },
};

/* One term of a record (RFC 7208 4.6.1, 5, 6, 7.1). 0 or -1 (*why_r). */
int spf_term_parse(const char *s, size_t len, struct term *t, const char **why_r)
{
	size_t n = 0, q = 0, rlen;
	const char *rest;
	bool found = false;

	memset(t, 0, sizeof(*t));
	t->text = s;
	t->len = len;
	t->cidr4 = 32;
	t->cidr6 = 128;
	*why_r = "syntax error";
	while (n < len && s[n] != '=' && s[n] != ':' && s[n] != '/')
		n++;
	if (n < len && s[n] == '=') {
		if (n == 0 || !isalpha((unsigned char)s[0])) {
			*why_r = "bad modifier name";
			return -1;
		}
		for (size_t k = 1; k < n; k++)
			if (!isalnum((unsigned char)s[k]) && strchr("-_.", s[k]) == NULL) {
				*why_r = "bad modifier name";
				return -1;
			}
		if (n == 8 && strncasecmp(s, "redirect", 8) == 0)
			t->mod = MOD_REDIRECT;
		else if (n == 3 && strncasecmp(s, "exp", 3) == 0)
			t->mod = MOD_EXP;
		else
			t->mod = MOD_UNKNOWN;
		if (t->mod != MOD_UNKNOWN)
			return domain_spec(t, s + n + 1, len - n - 1, why_r) ? 0 : -1;
		return spf_macro_expand(s + n + 1, len - n - 1, SPF_MACRO_STRING, NULL, NULL, 0,
					why_r) == 0 ? 0 : -1;
	}
	t->qual = SPF_PASS;
	if (len > 0 && strchr("+-~?", s[0]) != NULL) {
		t->qual = s[0] == '+' ? SPF_PASS : s[0] == '-' ? SPF_FAIL
			: s[0] == '~' ? SPF_SOFTFAIL : SPF_NEUTRAL;
		q = 1;
	}
	n = q;
	while (n < len && s[n] != ':' && s[n] != '/')
		n++;
	for (size_t k = 0; k < sizeof(mechs) / sizeof(mechs[0]) && !found; k++)
		if (strlen(mechs[k].name) == n - q && strncasecmp(s + q, mechs[k].name, n - q) == 0) {
			t->mech = mechs[k].mech;
			found = true;
		}
	if (!found) {
		*why_r = "unknown mechanism";
		return -1;
	}
	rest = s + n;
	rlen = len - n;
	switch (t->mech) {
	case M_ALL:
		return rlen == 0 ? 0 : -1;
	case M_INCLUDE:
	case M_EXISTS:
		if (rlen == 0 || rest[0] != ':')
			return -1;
		return domain_spec(t, rest + 1, rlen - 1, why_r) ? 0 : -1;
	case M_PTR:
		if (rlen == 0)
			return 0;
		if (rest[0] != ':')
			return -1;
		return domain_spec(t, rest + 1, rlen - 1, why_r) ? 0 : -1;
	case M_A:
	case M_MX:
		if (rlen > 0 && rest[0] == ':') {
			rest++;
			rlen--;
			if (!dual_cidr(rest, &rlen, t)) {
				*why_r = "bad CIDR length";
				return -1;
			}
			return domain_spec(t, rest, rlen, why_r) ? 0 : -1;
		}
		if (!dual_cidr(rest, &rlen, t)) {
			*why_r = "bad CIDR length";
			return -1;
		}
		return rlen == 0 ? 0 : -1;
	case M_IP4:
	case M_IP6:
		if (rlen == 0 || rest[0] != ':')
			return -1;
		return ip_network(t, rest + 1, rlen - 1, t->mech == M_IP4 ? AF_INET : AF_INET6,
				  why_r) ? 0 : -1;
	}
	return -1;
}

/* The next space-separated term after *pos, or false at the end. */
bool spf_term_next(const char *rec, size_t len, size_t *pos, const char **s_r, size_t *n_r)
{
	size_t p = *pos, e;

	while (p < len && rec[p] == ' ')
		p++;
	if (p >= len)
		return false;
	e = p;
	while (e < len && rec[e] != ' ')
		e++;
	*s_r = rec + p;
	*n_r = e - p;
	*pos = e;
	return true;
}
