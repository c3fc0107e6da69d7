/* DMARC (dmarc.h): the record's grammar (RFC 7489 6.3-6.4, the tag list of
 * RFC 6376 3.2), policy discovery (6.6.3), identifier alignment (3.1) and
 * the From: domain (6.6.1). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "dmarc.h"
#include "idn.h"
#include "mime.h"

/* Tags in one record: RFC 7489 defines 11; a record with more is no policy
 * anyone wrote, and the cap keeps the duplicate check quadratic in a small
 * number. */
#define DMARC_TAGS_MAX 32

const char *dmarc_result_name(enum dmarc_result r)
{
	switch (r) {
	case DMARC_NONE: return "none";
	case DMARC_PASS: return "pass";
	case DMARC_FAIL: return "fail";
	case DMARC_TEMPERROR: return "temperror";
	case DMARC_PERMERROR: return "permerror";
	}
	return "permerror";
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_NONE: return "none";
	case DMARC_POLICY_QUARANTINE: return "quarantine";
	case DMARC_POLICY_REJECT: return "reject";
	}
	return "none";
}

/* ------------------------------------------------------------ the record */

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Whether (s, n) is the case-insensitive keyword kw. */
static bool word_is(const char *s, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(s, kw, n) == 0;
}

static bool policy_parse(const char *v, size_t n, enum dmarc_policy *p_r)
{
	if (word_is(v, n, "none"))
		*p_r = DMARC_POLICY_NONE;
	else if (word_is(v, n, "quarantine"))
		*p_r = DMARC_POLICY_QUARANTINE;
	else if (word_is(v, n, "reject"))
		*p_r = DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}

/* pct: 1*3DIGIT, 0..100; anything else is the default, 100. */
static unsigned pct_parse(const char *v, size_t n)
{
	unsigned pct = 0;

	if (n == 0 || n > 3)
		return 100;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return 100;
		pct = pct * 10 + (unsigned)(v[i] - '0');
	}
	return pct <= 100 ? pct : 100;
}

/* rua: a comma-separated list of URIs (6.4 dmarc-uri); "valid" here is one
 * element with a scheme (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" /
 * "." ) ":") and something after it. Nothing is ever sent to it. */
static bool rua_valid(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && (is_fws(v[i]) || v[i] == ','))
			i++;
		size_t start = i;
		while (i < n && v[i] != ',')
			i++;
		size_t end = i, p = start;
		if (p < end && is_alpha(v[p])) {
			while (p < end && (is_alpha(v[p]) || is_digit(v[p]) || v[p] == '+' ||
					   v[p] == '-' || v[p] == '.'))
				p++;
			if (p + 1 < end && v[p] == ':' && !is_fws(v[p + 1]))
				return true;
		}
	}
	return false;
}

static void tag_apply(struct dmarc_record *rec, const char *name, size_t nlen, const char *v,
		      size_t vlen)
{
	if (word_is(name, nlen, "p")) {
		rec->p_valid = policy_parse(v, vlen, &rec->p);
	} else if (word_is(name, nlen, "sp")) {
		rec->sp_set = true;
		rec->sp_valid = policy_parse(v, vlen, &rec->sp);
	} else if (word_is(name, nlen, "adkim")) {
		rec->adkim_strict = word_is(v, vlen, "s");
	} else if (word_is(name, nlen, "aspf")) {
		rec->aspf_strict = word_is(v, vlen, "s");
	} else if (word_is(name, nlen, "pct")) {
		rec->pct = pct_parse(v, vlen);
	} else if (word_is(name, nlen, "rua")) {
		rec->rua_valid = rua_valid(v, vlen);
	}
	/* ruf, fo, rf, ri: reports, which we do not send; others: ignored */
}

int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec, const char **why_r)
{
	struct {
		const char *name;
		size_t len;
	} tags[DMARC_TAGS_MAX];
	size_t ntags = 0, i = 0;

	*rec = (struct dmarc_record){ .pct = 100 };
	while (i < len) {
		while (i < len && is_fws(txt[i]))
			i++;
		if (i == len)
			break;
		if (txt[i] == ';' && ntags > 0) { /* an empty tag-spec: tolerated */
			i++;
			continue;
		}
		/* tag-name = ALPHA *ALNUMPUNC */
		size_t name = i;
		if (!is_alpha(txt[i]))
			goto bad_syntax;
		while (i < len && (is_alpha(txt[i]) || is_digit(txt[i]) || txt[i] == '_'))
			i++;
		size_t nlen = i - name;
		while (i < len && is_fws(txt[i]))
			i++;
		if (i == len || txt[i] != '=')
			goto bad_syntax;
		i++;
		while (i < len && is_fws(txt[i]))
			i++;
		/* tag-value: VALCHARs (%x21-3A / %x3C-7E) separated by FWS */
		size_t value = i, vend = i;
		for (; i < len && txt[i] != ';'; i++) {
			unsigned char c = (unsigned char)txt[i];
			if (is_fws((char)c))
				continue;
			if (c < 0x21 || c > 0x7e)
				goto bad_syntax;
			vend = i + 1;
		}
		if (i < len)
			i++; /* the ';' */
		size_t vlen = vend - value;

		if (ntags == 0) {
			/* v=DMARC1 first, the value exact */
			if (!word_is(txt + name, nlen, "v") || vlen != 6 ||
			    memcmp(txt + value, "DMARC1", 6) != 0)
				return 0;
		} else if (word_is(txt + name, nlen, "v")) {
			*why_r = "v= is not the only version tag";
			return -1;
		}
		if (ntags == DMARC_TAGS_MAX) {
			*why_r = "too many tags";
			return -1;
		}
		for (size_t t = 0; t < ntags; t++) {
			if (tags[t].len == nlen && strncasecmp(tags[t].name, txt + name, nlen) == 0) {
				*why_r = "a tag given twice";
				return -1;
			}
		}
		tags[ntags].name = txt + name;
		tags[ntags++].len = nlen;
		tag_apply(rec, txt + name, nlen, txt + value, vlen);
	}
	if (ntags == 0)
		return 0;
	if (!rec->sp_set)
		rec->sp = rec->p;
	return 1;
bad_syntax:
	if (ntags == 0)
		return 0; /* does not start with v=DMARC1 */
	*why_r = "a tag that breaks the tag-list grammar";
	return -1;
}

/* ------------------------------------------------------------ discovery */

static void reason_set(struct dmarc_outcome *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reason_set(struct dmarc_outcome *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

enum found { FOUND_NONE, FOUND_ONE, FOUND_SEVERAL, FOUND_TEMPFAIL, FOUND_INVALID };

/* The DMARC records at _dmarc.<domain> (6.6.3 steps 1-2 and 3-4). */
static enum found policy_at(const struct dns_lookup *dns, const char *domain,
			    struct dmarc_record *rec, struct dmarc_outcome *out)
{
	char name[DNS_HOST_MAX + 8];
	struct dns_txt txt;
	const char *error = NULL, *why = NULL;
	size_t n = 0;
	bool invalid = false;

	/* longer than a DNS name can be: no such record can exist */
	if ((size_t)snprintf(name, sizeof(name), "_dmarc.%s", domain) > DNS_HOST_MAX - 3)
		return FOUND_NONE;
	memset(&txt, 0, sizeof(txt));
	int st = dns->txt(dns->ctx, name, &txt, &error);
	if (st == DNS_TEMPFAIL) {
		reason_set(out, "DNS lookup of %s: %s", name,
			   error != NULL ? error : "temporary failure");
		dns_txt_free(&txt);
		return FOUND_TEMPFAIL;
	}
	if (st != DNS_FOUND) {
		dns_txt_free(&txt);
		return FOUND_NONE;
	}
	if (txt.overflow) {
		reason_set(out, "%s has TXT records left out (too many, too long)", name);
		dns_txt_free(&txt);
		return FOUND_INVALID;
	}
	for (size_t i = 0; i < txt.n && i < DNS_TXT_MAX; i++) {
		struct dmarc_record one;
		const char *w = NULL;
		int r = dmarc_record_parse(txt.rec[i], txt.len[i], &one, &w);

		if (r == 0)
			continue;
		n++;
		if (r < 0) {
			invalid = true;
			why = w;
		} else {
			*rec = one;
		}
	}
	dns_txt_free(&txt);
	if (n == 0)
		return FOUND_NONE;
	if (n > 1) {
		reason_set(out, "several DMARC records at %s", name);
		return FOUND_SEVERAL;
	}
	if (invalid) {
		reason_set(out, "invalid DMARC record at %s: %s", name, why);
		return FOUND_INVALID;
	}
	return FOUND_ONE;
}

/* ------------------------------------------------------------ alignment */

struct align {
	const char *from;
	char from_org[DNS_HOST_MAX];
	int from_org_state;   /* 0: not looked up yet, 1: in from_org, -1: failed */
	const char *error;
};

/* Whether `domain` is aligned with the From domain (3.1.1, 3.1.2): equal
 * in strict mode, the same organizational domain in relaxed mode. 1, 0, or
 * -1 when libpsl is missing. The normalised domain goes to d. */
static int aligned(struct align *a, const char *domain, bool strict, char d[DNS_HOST_MAX])
{
	char d_org[DNS_HOST_MAX];

	if (domain == NULL || !org_domain_normalize(domain, d))
		return 0;
	if (strcmp(d, a->from) == 0)
		return 1; /* needs no list */
	if (strict)
		return 0;
	if (a->from_org_state == 0)
		a->from_org_state = org_domain(a->from, a->from_org, &a->error) == 1 ? 1 : -1;
	if (a->from_org_state < 0)
		return -1;
	int r = org_domain(d, d_org, &a->error);
	if (r <= 0)
		return r;
	return strcmp(d_org, a->from_org) == 0;
}

/* 6.6.4: a message outside the pct= sample gets the next lower policy. */
static enum dmarc_policy policy_sampled(enum dmarc_policy p, unsigned pct, unsigned rnd)
{
	if (rnd % 100 < pct || p == DMARC_POLICY_NONE)
		return p;
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

static enum dmarc_result result(struct dmarc_outcome *out, enum dmarc_result r)
{
	out->result = r;
	return r;
}

enum dmarc_result dmarc_evaluate(const struct dns_lookup *dns, const struct dmarc_input *in,
				 unsigned rnd, struct dmarc_outcome *out)
{
	struct align a = { .from = out->domain };
	struct dmarc_record rec;
	char d[DNS_HOST_MAX];
	bool helper_failed = false;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	if (in->from_domain == NULL || !org_domain_normalize(in->from_domain, out->domain)) {
		reason_set(out, "invalid From domain");
		return result(out, DMARC_PERMERROR);
	}

	/* 6.6.3: the From domain, then (no DMARC record there) the org domain */
	enum found f = policy_at(dns, out->domain, &rec, out);
	if (f == FOUND_NONE) {
		a.from_org_state = org_domain(out->domain, a.from_org, &a.error) == 1 ? 1 : -1;
		if (a.from_org_state < 0) {
			reason_set(out, "organizational domain: %s", a.error);
			return result(out, DMARC_TEMPERROR);
		}
		if (strcmp(a.from_org, out->domain) != 0) {
			f = policy_at(dns, a.from_org, &rec, out);
			out->org_record = true;
		}
	}
	switch (f) {
	case FOUND_NONE:
		out->org_record = false;
		reason_set(out, "no DMARC record");
		return result(out, DMARC_NONE);
	case FOUND_SEVERAL:
		out->org_record = false;
		return result(out, DMARC_NONE);
	case FOUND_TEMPFAIL:
		out->org_record = false;
		return result(out, DMARC_TEMPERROR);
	case FOUND_INVALID:
		out->org_record = false;
		return result(out, DMARC_PERMERROR);
	case FOUND_ONE:
		break;
	}
	memcpy(out->record_domain, out->org_record ? a.from_org : out->domain, DNS_HOST_MAX);

	/* 6.6.3 step 6 */
	if (!rec.p_valid || (rec.sp_set && !rec.sp_valid)) {
		if (!rec.rua_valid) {
			reason_set(out, "DMARC record at %s without a valid p= or sp=",
				   out->record_domain);
			out->org_record = false;
			out->record_domain[0] = '\0';
			return result(out, DMARC_NONE);
		}
		rec.p = rec.sp = DMARC_POLICY_NONE;
	}
	out->requested = out->org_record ? rec.sp : rec.p;
	out->pct = rec.pct;

	size_t n_dkim = in->n_dkim < DMARC_DKIM_MAX ? in->n_dkim : DMARC_DKIM_MAX;
	for (size_t i = 0; i < n_dkim; i++) {
		if (in->dkim[i].result != DKIM_PASS)
			continue;
		int r = aligned(&a, in->dkim[i].domain, rec.adkim_strict, d);
		if (r > 0) {
			reason_set(out, "aligned dkim pass (%s)", d);
			return result(out, DMARC_PASS);
		}
		helper_failed |= r < 0;
	}
	if (in->spf == SPF_PASS) {
		int r = aligned(&a, in->spf_domain, rec.aspf_strict, d);
		if (r > 0) {
			reason_set(out, "aligned spf pass (%s%s)", in->spf_helo ? "helo " : "", d);
			return result(out, DMARC_PASS);
		}
		helper_failed |= r < 0;
	}
	if (helper_failed) {
		reason_set(out, "organizational domain: %s", a.error);
		return result(out, DMARC_TEMPERROR);
	}
	out->policy = policy_sampled(out->requested, rec.pct, rnd);
	reason_set(out, "no aligned pass");
	return result(out, DMARC_FAIL);
}

/* ------------------------------------------------------------ From: */

int dmarc_from_domain(const char *header, size_t len, char domain[DNS_HOST_MAX],
		      const char **why_r)
{
	struct mime_header_field f, from = { 0 };
	struct address_list *list = NULL;
	size_t pos = 0, n = 0;
	int ret = 0;

	domain[0] = '\0';
	if (len > DMARC_HEADER_MAX) {
		*why_r = "header too long";
		return 0;
	}
	while (mime_header_next(header, len, &pos, &f) > 0) {
		if (word_is(f.name, f.name_len, "from") && n++ == 0)
			from = f;
	}
	if (n != 1) {
		*why_r = n == 0 ? "no From field" : "several From fields";
		return 0;
	}
	/* 3 elements are enough to tell one mailbox from anything else */
	if (address_list_parse(from.value, from.value_len, 3, &list) < 0) {
		*why_r = "out of memory";
		return 0;
	}
	const struct address *ad = list->count > 0 ? &list->addrs[0] : NULL;
	if ((list->flags & ADDRESS_LIST_F_INVALID) != 0) {
		*why_r = "unparsable From field";
	} else if (list->count == 0) {
		*why_r = "no address in From";
	} else if (ad->host == NULL) {
		*why_r = "a group in From";
	} else if (list->count > 1) {
		*why_r = "several addresses in From";
	} else if (ad->host[0] == '\0') {
		*why_r = "an address without a domain in From";
	} else if (ad->host[0] == '[') {
		*why_r = "a domain literal in From";
	} else if (idn_domain_needs(ad->host, strlen(ad->host))) {
		char ascii[DNS_HOST_MAX];
		const char *error = NULL;

		if (idn_domain_to_ascii(ad->host, ascii, sizeof(ascii), &error) != 1)
			*why_r = "an internationalized domain in From that does not convert";
		else if (org_domain_normalize(ascii, domain) != 1)
			*why_r = "an invalid domain in From";
		else
			ret = 1;
	} else if (org_domain_normalize(ad->host, domain) != 1) {
		*why_r = "an invalid domain in From";
	} else {
		ret = 1;
	}
	address_list_free(&list);
	if (ret == 0)
		domain[0] = '\0';
	return ret;
}
