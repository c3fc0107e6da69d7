/* SPF check_host() (RFC 7208 4-6): the record chosen among a name's TXT
 * records, every term's syntax checked before any is evaluated (4.6),
 * evaluation left to right within the lookup limits (4.6.4), redirect=
 * after the mechanisms, and the exp= text of a fail (6.2). */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "spf_int.h"

/* Addresses looked at per name for a, mx and ptr. RFC 7208 sets no limit
 * for address records (they cost no extra query); a name has few. */
#define SPF_ADDRS_MAX 32

/* eval_mech's answers besides SPF_TEMPERROR and SPF_PERMERROR. */
#define E_MATCH 100
#define E_NOMATCH 101

struct ctx {
	const struct dns_lookup *dns;
	struct spf_outcome *out;
	int family;            /* of the client; IPv4-mapped IPv6 is AF_INET */
	unsigned char ip[16];
	struct sockaddr_storage sa;
	char s[2 * SPF_ADDR_MAX + 16], l[SPF_ADDR_MAX + 16], o[SPF_ADDR_MAX + 1];
	char i[72], c[INET6_ADDRSTRLEN], t[24];
	const char *h, *r;
	unsigned lookups, voids;
	bool err_set;          /* out->reason holds the error being returned */
	/* The client's validated PTR names (RFC 7208 5.5), looked up once. */
	bool ptr_done;
	int ptr_status;
	size_t n_valid;
	char valid[DNS_PTR_MAX][DNS_HOST_MAX];
	const char *cur_domain;
	char p[DNS_HOST_MAX];
};

static enum spf_result check_host(struct ctx *c, const char *domain, unsigned depth,
				  bool in_include);

const char *spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_NONE: return "none";
	case SPF_NEUTRAL: return "neutral";
	case SPF_PASS: return "pass";
	case SPF_FAIL: return "fail";
	case SPF_SOFTFAIL: return "softfail";
	case SPF_TEMPERROR: return "temperror";
	case SPF_PERMERROR: return "permerror";
	}
	return "permerror";
}

/* An error's reason: the first one stays, it is the one returned. */
__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, int result, const char *fmt, ...)
{
	va_list ap;

	if (!c->err_set) {
		va_start(ap, fmt);
		vsnprintf(c->out->reason, sizeof(c->out->reason), fmt, ap);
		va_end(ap);
		c->err_set = true;
	}
	return result;
}

__attribute__((format(printf, 2, 3)))
static void reason(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err_set)
		return;
	va_start(ap, fmt);
	vsnprintf(c->out->reason, sizeof(c->out->reason), fmt, ap);
	va_end(ap);
}

/* Printable ASCII, and nothing that ends or escapes a header comment. */
static void clean(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '(' || *s == ')' || *s == '\\')
			*s = '?';
}
/* ------------------------------------------------------------ evaluation */

static const char *p_value(void *arg);

static void vars_init(struct ctx *c, const char *domain, struct spf_macro_vars *v)
{
	v->s = c->s;
	v->l = c->l;
	v->o = c->o;
	v->d = domain;
	v->i = c->i;
	v->v = c->family == AF_INET ? "in-addr" : "ip6";
	v->h = c->h;
	v->c = c->c;
	v->r = c->r;
	v->t = c->t;
	v->p = p_value;
	v->arg = c;
}

static bool addr_match(const struct ctx *c, const struct dns_addr *a, unsigned bits)
{
	const unsigned char *b;
	size_t full = bits / 8;

	if (a->sa.ss_family != c->family)
		return false;
	if (c->family == AF_INET)
		b = (const unsigned char *)&((const struct sockaddr_in *)&a->sa)->sin_addr;
	else
		b = ((const struct sockaddr_in6 *)&a->sa)->sin6_addr.s6_addr;
	if (memcmp(b, c->ip, full) != 0)
		return false;
	if (bits % 8 != 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - bits % 8));

		return (b[full] & mask) == (c->ip[full] & mask);
	}
	return true;
}

static int void_lookup(struct ctx *c)
{
	if (++c->voids > SPF_VOID_MAX)
		return fail(c, SPF_PERMERROR, "too many void DNS lookups");
	return E_NOMATCH;
}

/* The client's address among name's A or AAAA records (cidr bits). */
static int addrs_match(struct ctx *c, const char *name, unsigned bits, bool *void_r)
{
	struct dns_addr a[SPF_ADDRS_MAX];
	const char *err = NULL;
	size_t n = 0;
	int st = c->dns->addrs(c->dns->ctx, name, c->family, a, SPF_ADDRS_MAX, &n, &err);

	*void_r = false;
	if (st == DNS_TEMPFAIL)
		return fail(c, SPF_TEMPERROR, "DNS failure looking up the address of %s", name);
	if (st != DNS_FOUND) {
		*void_r = true;
		return E_NOMATCH;
	}
	for (size_t k = 0; k < n && k < SPF_ADDRS_MAX; k++)
		if (addr_match(c, &a[k], bits))
			return E_MATCH;
	return E_NOMATCH;
}

/* The PTR names of the client whose address records hold it (RFC 7208
 * 5.5): the first DNS_PTR_MAX names; errors only make names not count. */
static void ptr_validate(struct ctx *c)
{
	char names[DNS_PTR_MAX][DNS_HOST_MAX];
	const char *err = NULL;
	size_t n = 0;

	if (c->ptr_done)
		return;
	c->ptr_done = true;
	c->ptr_status = c->dns->ptr(c->dns->ctx, (const struct sockaddr *)&c->sa, names,
				    DNS_PTR_MAX, &n, &err);
	if (c->ptr_status != DNS_FOUND)
		return;
	for (size_t k = 0; k < n && k < DNS_PTR_MAX; k++) {
		struct dns_addr a[SPF_ADDRS_MAX];
		size_t na = 0;
		int st;

		names[k][DNS_HOST_MAX - 1] = '\0';
		if (!spf_name_ok(names[k]))
			continue;
		st = c->dns->addrs(c->dns->ctx, names[k], c->family, a, SPF_ADDRS_MAX, &na, &err);
		for (size_t j = 0; st == DNS_FOUND && j < na && j < SPF_ADDRS_MAX; j++)
			if (addr_match(c, &a[j], c->family == AF_INET ? 32 : 128)) {
				memcpy(c->valid[c->n_valid++], names[k], DNS_HOST_MAX);
				break;
			}
	}
}

/* %{p}: a validated name, the domain itself or a subdomain of it first. */
static const char *p_value(void *arg)
{
	struct ctx *c = arg;
	size_t best = SIZE_MAX;

	ptr_validate(c);
	for (size_t k = 0; k < c->n_valid; k++)
		if (strcasecmp(c->valid[k], c->cur_domain) == 0) {
			best = k;
			break;
		} else if (best == SIZE_MAX && spf_under(c->valid[k], c->cur_domain)) {
			best = k;
		}
	if (best == SIZE_MAX && c->n_valid > 0)
		best = 0;
	if (best == SIZE_MAX)
		return "unknown";
	snprintf(c->p, sizeof(c->p), "%s", c->valid[best]);
	return c->p;
}

/* The term's target name into name: its domain-spec expanded, else the
 * current domain. 1, 0 when it is no name DNS can be asked about, or
 * SPF_PERMERROR. */
static int target(struct ctx *c, struct spf_macro_vars *v, const struct term *t,
		  const char *domain, char name[DNS_HOST_MAX])
{
	char buf[SPF_EXPAND_MAX];
	const char *why;
	int r;

	if (t->spec == NULL) {
		snprintf(name, DNS_HOST_MAX, "%s", domain);
		return 1;
	}
	c->cur_domain = domain;
	r = spf_macro_expand(t->spec, t->spec_len, SPF_MACRO_DOMAIN, v, buf, sizeof(buf), &why);
	if (r != 0)
		return fail(c, SPF_PERMERROR, "macro expansion too long in %.*s",
			    (int)(t->len > 80 ? 80 : t->len), t->text);
	if (!spf_name_ok(buf))
		return 0;
	snprintf(name, DNS_HOST_MAX, "%s", buf);
	return 1;
}

static int count_lookup(struct ctx *c)
{
	if (++c->lookups > SPF_LOOKUPS_MAX)
		return fail(c, SPF_PERMERROR, "too many DNS lookups");
	return 0;
}

static int eval_mx(struct ctx *c, const char *name, unsigned bits)
{
	struct dns_mx mx[DNS_MX_MAX];
	const char *err = NULL;
	size_t n = 0;
	bool null_mx = false, v;
	int st = c->dns->mx(c->dns->ctx, name, mx, DNS_MX_MAX, &n, &null_mx, &err);

	if (st == DNS_TEMPFAIL)
		return fail(c, SPF_TEMPERROR, "DNS failure looking up the MX of %s", name);
	if (st != DNS_FOUND)
		return void_lookup(c);
	if (n > SPF_MX_MAX)
		return fail(c, SPF_PERMERROR, "more than %d MX names for %s", SPF_MX_MAX, name);
	for (size_t k = 0; k < n; k++) {
		int r;

		mx[k].host[DNS_HOST_MAX - 1] = '\0';
		if (!spf_name_ok(mx[k].host))
			continue;
		r = addrs_match(c, mx[k].host, bits, &v);
		if (r != E_NOMATCH)
			return r;
	}
	return E_NOMATCH;
}

static int eval_mech(struct ctx *c, struct spf_macro_vars *v, const struct term *t,
		     const char *domain, unsigned depth)
{
	char name[DNS_HOST_MAX];
	unsigned bits = c->family == AF_INET ? t->cidr4 : t->cidr6;
	bool is_void;
	int r;

	switch (t->mech) {
	case M_ALL:
		return E_MATCH;
	case M_IP4:
	case M_IP6: {
		struct dns_addr a = { .len = 0 };

		if ((t->mech == M_IP4) != (c->family == AF_INET))
			return E_NOMATCH;
		a.sa.ss_family = (sa_family_t)c->family;
		if (c->family == AF_INET)
			memcpy(&((struct sockaddr_in *)&a.sa)->sin_addr, t->net, 4);
		else
			memcpy(((struct sockaddr_in6 *)&a.sa)->sin6_addr.s6_addr, t->net, 16);
		return addr_match(c, &a, bits) ? E_MATCH : E_NOMATCH;
	}
	default:
		break;
	}
	if ((r = count_lookup(c)) != 0)
		return r;
	r = target(c, v, t, domain, name);
	if (r == SPF_PERMERROR)
		return r;
	if (r == 0) {
		if (t->mech == M_INCLUDE)
			return fail(c, SPF_PERMERROR, "%.*s: not a valid domain name",
				    (int)(t->len > 80 ? 80 : t->len), t->text);
		return E_NOMATCH;
	}
	switch (t->mech) {
	case M_INCLUDE:
		r = check_host(c, name, depth + 1, true);
		if (r == SPF_PASS)
			return E_MATCH;
		if (r == SPF_FAIL || r == SPF_SOFTFAIL || r == SPF_NEUTRAL)
			return E_NOMATCH;
		if (r == SPF_NONE)
			return fail(c, SPF_PERMERROR, "include:%s has no SPF record", name);
		return r;
	case M_A:
		r = addrs_match(c, name, bits, &is_void);
		return r == E_NOMATCH && is_void ? void_lookup(c) : r;
	case M_MX:
		return eval_mx(c, name, bits);
	case M_PTR: {
		bool asked = !c->ptr_done;

		ptr_validate(c);
		if (asked && (c->ptr_status == DNS_NXDOMAIN || c->ptr_status == DNS_NODATA) &&
		    void_lookup(c) == SPF_PERMERROR)
			return SPF_PERMERROR;
		for (size_t k = 0; k < c->n_valid; k++)
			if (spf_under(c->valid[k], name))
				return E_MATCH;
		return E_NOMATCH;
	}
	case M_EXISTS: {
		struct dns_addr a[1];
		const char *err = NULL;
		size_t n = 0;
		int st = c->dns->addrs(c->dns->ctx, name, AF_INET, a, 1, &n, &err);

		if (st == DNS_TEMPFAIL)
			return fail(c, SPF_TEMPERROR, "DNS failure looking up %s", name);
		return st == DNS_FOUND ? E_MATCH : void_lookup(c);
	}
	default:
		return SPF_PERMERROR;
	}
}

/* exp= (RFC 7208 6.2): one TXT record, an explain-string; any problem
 * and there is simply no explanation. */
static void explain(struct ctx *c, struct spf_macro_vars *v, const struct term *t,
		    const char *domain)
{
	char name[SPF_EXPAND_MAX], text[SPF_EXPAND_MAX];
	struct dns_txt txt;
	const char *why = NULL;

	memset(&txt, 0, sizeof(txt));
	c->cur_domain = domain;
	if (spf_macro_expand(t->spec, t->spec_len, SPF_MACRO_DOMAIN, v, name, sizeof(name), &why) != 0 ||
	    !spf_name_ok(name))
		return;
	if (c->dns->txt(c->dns->ctx, name, &txt, &why) == DNS_FOUND && txt.n == 1 &&
	    !txt.overflow &&
	    spf_macro_expand(txt.rec[0], txt.len[0], SPF_MACRO_EXPLAIN, v, text, sizeof(text),
			     &why) == 0)
		snprintf(c->out->explanation, sizeof(c->out->explanation), "%s", text);
	dns_txt_free(&txt);
}

static bool is_spf1(const char *rec, size_t len)
{
	return len >= 6 && strncasecmp(rec, "v=spf1", 6) == 0 && (len == 6 || rec[6] == ' ');
}

/* The one "v=spf1" record of domain (RFC 7208 4.5) into *rec_r, which
 * lives in txt. 1, or SPF_NONE, SPF_TEMPERROR, SPF_PERMERROR. */
static int record(struct ctx *c, const char *domain, struct dns_txt *txt, const char **rec_r,
		  size_t *len_r)
{
	const char *err = NULL;
	int st = c->dns->txt(c->dns->ctx, domain, txt, &err);
	size_t found = 0;

	if (st == DNS_TEMPFAIL)
		return fail(c, SPF_TEMPERROR, "DNS failure looking up the TXT records of %s",
			    domain);
	if (st != DNS_FOUND)
		return SPF_NONE;
	for (size_t k = 0; k < txt->n && k < DNS_TXT_MAX; k++)
		if (is_spf1(txt->rec[k], txt->len[k])) {
			*rec_r = txt->rec[k];
			*len_r = txt->len[k];
			found++;
		}
	if (found > 1)
		return fail(c, SPF_PERMERROR, "%s has several SPF records", domain);
	return found == 1 ? 1 : SPF_NONE;
}

static enum spf_result check_host(struct ctx *c, const char *domain, unsigned depth,
				  bool in_include)
{
	struct dns_txt txt;
	struct spf_macro_vars v;
	/* zeroed: gcc 12 -O2 cannot see that have_* guard every use */
	struct term t, redirect = { 0 }, exp = { 0 };
	const char *rec = NULL, *s, *why;
	size_t len = 0, pos, n;
	bool have_redirect = false, have_exp = false;
	int r;

	if (depth > SPF_DEPTH_MAX)
		return fail(c, SPF_PERMERROR, "SPF records nest too deep");
	memset(&txt, 0, sizeof(txt));
	r = record(c, domain, &txt, &rec, &len);
	if (r != 1) {
		dns_txt_free(&txt);
		return (enum spf_result)r;
	}
	vars_init(c, domain, &v);
	/* Syntax first: an error anywhere is a permerror (RFC 7208 4.6). */
	for (size_t k = 0; k < len; k++)
		if (rec[k] != ' ' && (rec[k] < 0x21 || rec[k] > 0x7e)) {
			r = fail(c, SPF_PERMERROR, "SPF record of %s has a non-ASCII or control character", domain);
			goto out;
		}
	pos = 6;
	while (spf_term_next(rec, len, &pos, &s, &n)) {
		if (spf_term_parse(s, n, &t, &why) < 0) {
			r = fail(c, SPF_PERMERROR, "SPF record of %s: %s in \"%.*s\"", domain, why,
				 (int)(n > 64 ? 64 : n), s);
			goto out;
		}
		if ((t.mod == MOD_REDIRECT && have_redirect) || (t.mod == MOD_EXP && have_exp)) {
			r = fail(c, SPF_PERMERROR, "SPF record of %s has %s twice", domain,
				 t.mod == MOD_EXP ? "exp=" : "redirect=");
			goto out;
		}
		if (t.mod == MOD_REDIRECT) {
			redirect = t;
			have_redirect = true;
		} else if (t.mod == MOD_EXP) {
			exp = t;
			have_exp = true;
		}
	}
	pos = 6;
	while (spf_term_next(rec, len, &pos, &s, &n)) {
		(void)spf_term_parse(s, n, &t, &why);
		if (t.mod != MOD_NONE)
			continue;
		r = eval_mech(c, &v, &t, domain, depth);
		if (r == E_NOMATCH)
			continue;
		if (r != E_MATCH)
			goto out;
		r = (int)t.qual;
		if (r == SPF_FAIL || r == SPF_SOFTFAIL)
			reason(c, "%s is not one of %s's senders; %.*s matched", c->c, domain,
			       (int)(n > 80 ? 80 : n), s);
		else
			reason(c, "mechanism %.*s matched", (int)(n > 80 ? 80 : n), s);
		if (r == SPF_FAIL && have_exp && !in_include)
			explain(c, &v, &exp, domain);
		goto out;
	}
	if (have_redirect) {
		char name[DNS_HOST_MAX];

		if ((r = count_lookup(c)) != 0)
			goto out;
		r = target(c, &v, &redirect, domain, name);
		if (r == 0)
			r = fail(c, SPF_PERMERROR, "redirect: not a valid domain name");
		if (r != 1)
			goto out;
		r = check_host(c, name, depth + 1, in_include);
		if (r == SPF_NONE)
			r = fail(c, SPF_PERMERROR, "redirect=%s has no SPF record", name);
		goto out;
	}
	r = SPF_NEUTRAL;
	reason(c, "no mechanism of %s's SPF record matched", domain);
out:
	dns_txt_free(&txt);
	return (enum spf_result)r;
}

/* ------------------------------------------------------------ the request */

static bool client(struct ctx *c, const struct sockaddr *sa)
{
	static const char hex[] = "0123456789abcdef";

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		c->family = AF_INET;
		memcpy(c->ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			c->family = AF_INET;
			memcpy(c->ip, a6->s6_addr + 12, 4);
		} else {
			c->family = AF_INET6;
			memcpy(c->ip, a6->s6_addr, 16);
		}
	} else {
		return false;
	}
	memset(&c->sa, 0, sizeof(c->sa));
	c->sa.ss_family = (sa_family_t)c->family;
	if (c->family == AF_INET) {
		memcpy(&((struct sockaddr_in *)&c->sa)->sin_addr, c->ip, 4);
		inet_ntop(AF_INET, c->ip, c->c, sizeof(c->c));
		snprintf(c->i, sizeof(c->i), "%s", c->c);
	} else {
		char *p = c->i;

		memcpy(((struct sockaddr_in6 *)&c->sa)->sin6_addr.s6_addr, c->ip, 16);
		inet_ntop(AF_INET6, c->ip, c->c, sizeof(c->c));
		/* RFC 7208 7.3: %{i} of IPv6 is the nibbles, dot-separated. */
		for (size_t k = 0; k < 16; k++) {
			*p++ = hex[c->ip[k] >> 4];
			*p++ = '.';
			*p++ = hex[c->ip[k] & 15];
			*p++ = k < 15 ? '.' : '\0';
		}
	}
	return true;
}

enum spf_result spf_check(const struct dns_lookup *dns, const struct spf_request *req,
			  struct spf_outcome *out)
{
	struct ctx c;
	const char *helo = req->helo != NULL ? req->helo : "";
	const char *sender = req->sender != NULL ? req->sender : "";
	const char *at, *domain;
	char dom[DNS_HOST_MAX];
	size_t dlen;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.dns = dns;
	c.out = out;
	c.h = helo;
	c.r = req->receiver != NULL && req->receiver[0] != '\0' ? req->receiver : "unknown";
	snprintf(c.t, sizeof(c.t), "%lld", (long long)(req->now != 0 ? req->now : time(NULL)));
	out->result = SPF_NONE;
	if (!client(&c, req->ip)) {
		snprintf(out->reason, sizeof(out->reason), "no client address");
		return out->result;
	}
	if (strnlen(helo, SPF_ADDR_MAX + 1) > SPF_ADDR_MAX ||
	    strnlen(sender, SPF_ADDR_MAX + 1) > SPF_ADDR_MAX) {
		snprintf(out->reason, sizeof(out->reason), "sender or HELO name too long");
		return out->result;
	}
	/* RFC 7208 2.4: the null reverse-path is postmaster@ the HELO name;
	 * 4.3: no local-part is "postmaster". */
	at = sender[0] != '\0' ? strrchr(sender, '@') : NULL;
	if (sender[0] == '\0') {
		out->helo_identity = true;
		domain = helo;
		snprintf(c.l, sizeof(c.l), "postmaster");
	} else if (at == NULL) {
		domain = sender;
		snprintf(c.l, sizeof(c.l), "postmaster");
	} else {
		domain = at + 1;
		if (at == sender)
			snprintf(c.l, sizeof(c.l), "postmaster");
		else
			snprintf(c.l, sizeof(c.l), "%.*s", (int)(at - sender), sender);
	}
	snprintf(c.o, sizeof(c.o), "%s", domain);
	snprintf(c.s, sizeof(c.s), "%s@%s", c.l, c.o);
	snprintf(out->domain, sizeof(out->domain), "%s", domain);
	clean(out->domain);
	if (!spf_domain_valid(domain)) {
		snprintf(out->reason, sizeof(out->reason), "%s is not a valid domain name",
			 out->helo_identity ? "the HELO name" : "the sender's domain");
		return out->result;
	}
	snprintf(dom, sizeof(dom), "%s", domain);
	dlen = strlen(dom);
	if (dlen > 0 && dom[dlen - 1] == '.')
		dom[dlen - 1] = '\0';
	out->result = check_host(&c, dom, 0, false);
	if (out->result == SPF_NONE && !c.err_set)
		snprintf(out->reason, sizeof(out->reason), "no SPF record");
	if (out->result != SPF_FAIL)
		out->explanation[0] = '\0';
	clean(out->reason);
	clean(out->explanation);
	return out->result;
}
