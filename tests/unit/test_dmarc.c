/* Unit tests of DMARC (dmarc.h): the record's tags, policy discovery at the
 * From domain then the organizational domain, alignment, pct sampling,
 * DNS failures; the From: domain of a header; organizational domains with
 * the Public Suffix List (orgdomain.h). DNS is answered from a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmarc.h"

/* ----------------------------------------------------------------- fake DNS */

struct zone {
	const char *name;
	int status;
	const char *txt[4];   /* NULL-terminated */
	bool overflow;
};

#define ZONE(n, st, ...) { .name = (n), .status = (st), .txt = { __VA_ARGS__ } }
#define ZONE_END { .name = NULL }

static const struct zone *zone;
static char asked[8][DNS_HOST_MAX];
static size_t n_asked;

static int fake_txt(void *ctx, const char *name, struct dns_txt *txt, const char **error_r)
{
	(void)ctx;
	memset(txt, 0, sizeof(*txt));
	if (n_asked < 8)
		strcpy(asked[n_asked], name);
	n_asked++;
	for (const struct zone *z = zone; z != NULL && z->name != NULL; z++) {
		if (strcmp(z->name, name) != 0)
			continue;
		if (z->status != DNS_FOUND) {
			*error_r = "fake failure";
			return z->status;
		}
		size_t total = 0;
		for (size_t i = 0; z->txt[i] != NULL; i++)
			total += strlen(z->txt[i]) + 1;
		txt->mem = malloc(total + 1);
		char *p = txt->mem;
		for (size_t i = 0; z->txt[i] != NULL; i++) {
			txt->len[i] = strlen(z->txt[i]);
			txt->rec[i] = memcpy(p, z->txt[i], txt->len[i] + 1);
			p += txt->len[i] + 1;
			txt->n++;
		}
		txt->overflow = z->overflow;
		return txt->n > 0 ? DNS_FOUND : DNS_NODATA;
	}
	return DNS_NXDOMAIN;
}

static const struct dns_lookup fake_dns = { .txt = fake_txt };

static enum dmarc_result eval(const struct zone *z, const struct dmarc_input *in, unsigned rnd,
			      struct dmarc_outcome *out)
{
	zone = z;
	n_asked = 0;
	return dmarc_evaluate(&fake_dns, in, rnd, out);
}

/* A DKIM pass for d=, nothing from SPF. */
#define DKIM_PASS_FOR(d) ((const struct dmarc_dkim[]){ { DKIM_PASS, (d) } })

/* ----------------------------------------------------------------- the record */

static int parse(const char *s, struct dmarc_record *rec)
{
	const char *why = NULL;
	int r = dmarc_record_parse(s, strlen(s), rec, &why);

	if (r < 0)
		assert_non_null(why);
	return r;
}

static void test_record_tags(void **state)
{
	struct dmarc_record r;

	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject", &r), 1);
	assert_true(r.p_valid);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_REJECT); /* sp defaults to p */
	assert_false(r.adkim_strict);
	assert_false(r.aspf_strict);
	assert_int_equal(r.pct, 100);
	assert_false(r.rua_valid);

	assert_int_equal(parse(" v = DMARC1 ;\tsp=none;p=quarantine; adkim=s; aspf=s; pct=25; "
			       "rua=mailto:agg@example.com!10m, mailto:b@example.net; "
			       "ruf=mailto:f@example.com; fo=1; rf=afrf; ri=3600; x_future=1;",
			       &r),
			 1);
	assert_int_equal(r.p, DMARC_POLICY_QUARANTINE);
	assert_true(r.sp_set && r.sp_valid);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	assert_true(r.adkim_strict);
	assert_true(r.aspf_strict);
	assert_int_equal(r.pct, 25);
	assert_true(r.rua_valid);

	/* tag names and keywords are case-insensitive; "DMARC1" is not */
	assert_int_equal(parse("V=DMARC1; P=Reject; ADKIM=S", &r), 1);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_true(r.adkim_strict);
	assert_int_equal(parse("v=dmarc1; p=reject", &r), 0);
	assert_int_equal(parse("v=DMARC2; p=reject", &r), 0);
	/* v= first, or it is no DMARC record */
	assert_int_equal(parse("p=reject; v=DMARC1", &r), 0);
	assert_int_equal(parse("v=spf1 -all", &r), 0);
	assert_int_equal(parse("", &r), 0);
	assert_int_equal(parse("v=DMARC1 p=reject", &r), 0); /* v's value is not exact */
	assert_int_equal(parse("; v=DMARC1; p=reject", &r), 0);
	/* tag names are ALPHA *(ALPHA / DIGIT / "_") (RFC 6376 3.2) */
	assert_int_equal(parse("v=DMARC1; p=none; x-future=1", &r), -1);
	/* v=DMARC1 alone: a DMARC record without p= */
	assert_int_equal(parse("v=DMARC1", &r), 1);
	assert_false(r.p_valid);
}

static void test_record_invalid_values(void **state)
{
	struct dmarc_record r;

	(void)state;
	/* invalid p or sp: the record is read, p_valid/sp_valid say so */
	assert_int_equal(parse("v=DMARC1; p=block", &r), 1);
	assert_false(r.p_valid);
	assert_int_equal(parse("v=DMARC1; p=reject; sp=maybe", &r), 1);
	assert_true(r.p_valid);
	assert_true(r.sp_set);
	assert_false(r.sp_valid);
	/* an invalid optional value takes the default */
	assert_int_equal(parse("v=DMARC1; p=none; adkim=x; aspf=strict", &r), 1);
	assert_false(r.adkim_strict);
	assert_false(r.aspf_strict);
	const char *bad_pct[] = { "101", "-1", "", "1000", "5a", "0x10", "50%" };
	for (size_t i = 0; i < sizeof(bad_pct) / sizeof(bad_pct[0]); i++) {
		char s[64];

		snprintf(s, sizeof(s), "v=DMARC1; p=none; pct=%s", bad_pct[i]);
		assert_int_equal(parse(s, &r), 1);
		assert_int_equal(r.pct, 100);
	}
	assert_int_equal(parse("v=DMARC1; p=none; pct=0", &r), 1);
	assert_int_equal(r.pct, 0);
	assert_int_equal(parse("v=DMARC1; p=none; pct=100", &r), 1);
	assert_int_equal(r.pct, 100);
	assert_int_equal(parse("v=DMARC1; p=none; pct=007", &r), 1);
	assert_int_equal(r.pct, 7);
	/* rua: a URI needs a scheme and something after it */
	assert_int_equal(parse("v=DMARC1; rua=agg@example.com", &r), 1);
	assert_false(r.rua_valid);
	assert_int_equal(parse("v=DMARC1; rua=mailto:", &r), 1);
	assert_false(r.rua_valid);
	assert_int_equal(parse("v=DMARC1; rua=, ,1x:y,mailto:a@b", &r), 1);
	assert_true(r.rua_valid);
}

static void test_record_broken(void **state)
{
	struct dmarc_record r;

	(void)state;
	/* a tag twice, whatever its case, known or not */
	assert_int_equal(parse("v=DMARC1; p=none; p=reject", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=none; P=none", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=none; foo=1; foo=2", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=none; v=DMARC1", &r), -1);
	/* the tag-list grammar */
	assert_int_equal(parse("v=DMARC1; p", &r), -1);
	assert_int_equal(parse("v=DMARC1; =none", &r), -1);
	assert_int_equal(parse("v=DMARC1; 1p=none", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=n\xc3\xb6ne", &r), -1);
	/* empty tag-specs and trailing semicolons are tolerated */
	assert_int_equal(parse("v=DMARC1;; p=none;;", &r), 1);
	/* at most DMARC_TAGS_MAX tags */
	char many[1024] = "v=DMARC1";
	for (int i = 1; i < 32; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "; t%d=1", i);
	assert_int_equal(parse(many, &r), 1);
	strcat(many, "; t99=1");
	assert_int_equal(parse(many, &r), -1);
}

/* ----------------------------------------------------------------- discovery */

static void test_discovery_from_domain(void **state)
{
	struct dmarc_outcome out;
	const struct zone z[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=spf1 -all", "v=DMARC1; p=reject; sp=none"),
		ZONE_END,
	};
	struct dmarc_input in = { .from_domain = "example.com" };

	(void)state;
	assert_int_equal(eval(z, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.requested, DMARC_POLICY_REJECT); /* p=, not sp= */
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	assert_false(out.org_record);
	assert_string_equal(out.record_domain, "example.com");
	assert_string_equal(out.domain, "example.com");
	assert_string_equal(out.reason, "no aligned pass");
	assert_int_equal(n_asked, 1);
	/* a pass: no policy to apply, the requested one still told */
	in.dkim = DKIM_PASS_FOR("example.com");
	in.n_dkim = 1;
	assert_int_equal(eval(z, &in, 0, &out), DMARC_PASS);
	assert_int_equal(out.policy, DMARC_POLICY_NONE);
	assert_int_equal(out.requested, DMARC_POLICY_REJECT);
	assert_string_equal(out.reason, "aligned dkim pass (example.com)");
}

static void test_discovery_org_domain(void **state)
{
	struct dmarc_outcome out;
	const struct zone z[] = {
		ZONE("_dmarc.example.co.uk", DNS_FOUND, "v=DMARC1; p=reject; sp=quarantine"),
		ZONE("_dmarc.example.net", DNS_FOUND, "v=DMARC1; p=reject"),
		ZONE_END,
	};
	struct dmarc_input in = { .from_domain = "a.b.example.co.uk" };

	(void)state;
	/* nothing at the From domain: the org domain's sp= applies */
	assert_int_equal(eval(z, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(n_asked, 2);
	assert_string_equal(asked[0], "_dmarc.a.b.example.co.uk");
	assert_string_equal(asked[1], "_dmarc.example.co.uk");
	assert_true(out.org_record);
	assert_string_equal(out.record_domain, "example.co.uk");
	assert_string_equal(out.domain, "a.b.example.co.uk");
	assert_int_equal(out.requested, DMARC_POLICY_QUARANTINE);
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	/* the org domain itself uses p= */
	in.from_domain = "example.co.uk";
	assert_int_equal(eval(z, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.requested, DMARC_POLICY_REJECT);
	assert_false(out.org_record);
	/* no sp=: p= for subdomains too */
	in.from_domain = "mail.example.net";
	assert_int_equal(eval(z, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.requested, DMARC_POLICY_REJECT);
	/* a record at the From domain wins: the org domain is not asked */
	const struct zone z2[] = {
		ZONE("_dmarc.mail.example.net", DNS_FOUND, "v=DMARC1; p=none"),
		ZONE("_dmarc.example.net", DNS_FOUND, "v=DMARC1; p=reject"),
		ZONE_END,
	};
	assert_int_equal(eval(z2, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.requested, DMARC_POLICY_NONE);
	assert_int_equal(n_asked, 1);
	/* nowhere */
	in.from_domain = "other.example.org";
	assert_int_equal(eval(z, &in, 0, &out), DMARC_NONE);
	assert_string_equal(out.reason, "no DMARC record");
	assert_int_equal(n_asked, 2);
	/* a From domain that is its own org domain is asked once */
	in.from_domain = "example.org";
	assert_int_equal(eval(z, &in, 0, &out), DMARC_NONE);
	assert_int_equal(n_asked, 1);
}

static void test_discovery_errors(void **state)
{
	struct dmarc_outcome out;
	struct dmarc_input in = { .from_domain = "mail.example.com",
				  .dkim = DKIM_PASS_FOR("mail.example.com"), .n_dkim = 1 };

	(void)state;
	const struct zone tempfail_from[] = {
		ZONE("_dmarc.mail.example.com", DNS_TEMPFAIL, NULL),
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject"),
		ZONE_END,
	};
	assert_int_equal(eval(tempfail_from, &in, 0, &out), DMARC_TEMPERROR);
	assert_non_null(strstr(out.reason, "_dmarc.mail.example.com"));
	assert_int_equal(out.policy, DMARC_POLICY_NONE);
	const struct zone tempfail_org[] = {
		ZONE("_dmarc.example.com", DNS_TEMPFAIL, NULL),
		ZONE_END,
	};
	assert_int_equal(eval(tempfail_org, &in, 0, &out), DMARC_TEMPERROR);
	/* several DMARC records: no policy (6.6.3), and no fallback */
	const struct zone several[] = {
		ZONE("_dmarc.mail.example.com", DNS_FOUND,
		  "v=DMARC1; p=reject", "v=DMARC1; p=none"),
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject"),
		ZONE_END,
	};
	assert_int_equal(eval(several, &in, 0, &out), DMARC_NONE);
	assert_non_null(strstr(out.reason, "several DMARC records"));
	assert_int_equal(n_asked, 1);
	/* an invalid record (a duplicate tag) */
	const struct zone dup[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject; pct=5; pct=6"),
		ZONE_END,
	};
	assert_int_equal(eval(dup, &in, 0, &out), DMARC_PERMERROR);
	assert_non_null(strstr(out.reason, "twice"));
	/* TXT records left out */
	const struct zone overflow[] = {
		{ .name = "_dmarc.mail.example.com", .status = DNS_FOUND, .txt = { "v=DMARC1; p=reject" },
		  .overflow = true },
		ZONE_END,
	};
	assert_int_equal(eval(overflow, &in, 0, &out), DMARC_PERMERROR);
	/* NODATA (only other TXT records) and NXDOMAIN: none */
	const struct zone other[] = {
		ZONE("_dmarc.mail.example.com", DNS_FOUND, "google-site-verification=x"),
		ZONE("_dmarc.example.com", DNS_NODATA, NULL),
		ZONE_END,
	};
	assert_int_equal(eval(other, &in, 0, &out), DMARC_NONE);
	assert_int_equal(n_asked, 2);
	/* an invalid From domain */
	in.from_domain = "exa mple.com";
	assert_int_equal(eval(other, &in, 0, &out), DMARC_PERMERROR);
	in.from_domain = NULL;
	assert_int_equal(eval(other, &in, 0, &out), DMARC_PERMERROR);
}

/* 6.6.3 step 6: no valid p= (or an invalid sp=) is p=none with a rua=,
 * else no policy. */
static void test_missing_p(void **state)
{
	struct dmarc_outcome out;
	struct dmarc_input in = { .from_domain = "example.com" };

	(void)state;
	const struct zone with_rua[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=blocked; rua=mailto:r@example.com"),
		ZONE_END,
	};
	assert_int_equal(eval(with_rua, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.requested, DMARC_POLICY_NONE);
	assert_int_equal(out.policy, DMARC_POLICY_NONE);
	const struct zone no_p[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; rua=mailto:r@example.com; sp=reject"),
		ZONE_END,
	};
	assert_int_equal(eval(no_p, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.requested, DMARC_POLICY_NONE);
	const struct zone no_rua[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=blocked"),
		ZONE_END,
	};
	assert_int_equal(eval(no_rua, &in, 0, &out), DMARC_NONE);
	assert_string_equal(out.record_domain, "");
	const struct zone bad_sp[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject; sp=all"),
		ZONE_END,
	};
	assert_int_equal(eval(bad_sp, &in, 0, &out), DMARC_NONE);
	const struct zone bad_sp_rua[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject; sp=all; rua=mailto:a@b"),
		ZONE_END,
	};
	assert_int_equal(eval(bad_sp_rua, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.requested, DMARC_POLICY_NONE);
}

/* ----------------------------------------------------------------- alignment */

static const struct zone relaxed_zone[] = {
	ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject"),
	ZONE("_dmarc.strict.example", DNS_FOUND, "v=DMARC1; p=reject; adkim=s; aspf=s"),
	ZONE_END,
};

static void test_align_dkim(void **state)
{
	struct dmarc_outcome out;
	struct dmarc_input in = { .from_domain = "news.example.com", .n_dkim = 1 };

	(void)state;
	/* relaxed: same org domain, either way round, any case */
	in.dkim = DKIM_PASS_FOR("example.com");
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_PASS);
	in.dkim = DKIM_PASS_FOR("Mail.Example.COM");
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_PASS);
	assert_string_equal(out.reason, "aligned dkim pass (mail.example.com)");
	in.dkim = DKIM_PASS_FOR("example.net");
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	/* a public suffix never aligns with a registrable domain */
	in.dkim = DKIM_PASS_FOR("com");
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	in.dkim = DKIM_PASS_FOR("");
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	in.dkim = DKIM_PASS_FOR(NULL);
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	/* only a pass counts; any one of several */
	const struct dmarc_dkim sigs[] = {
		{ DKIM_FAIL, "example.com" },
		{ DKIM_PASS, "example.org" },
		{ DKIM_TEMPERROR, "news.example.com" },
		{ DKIM_PASS, "list.example.com" },
	};
	in.dkim = sigs;
	in.n_dkim = 3;
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	in.n_dkim = 4;
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_PASS);
	assert_string_equal(out.reason, "aligned dkim pass (list.example.com)");
	/* strict: equal only */
	in.from_domain = "strict.example";
	in.n_dkim = 1;
	in.dkim = DKIM_PASS_FOR("mail.strict.example");
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	in.dkim = DKIM_PASS_FOR("STRICT.example");
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_PASS);
}

static void test_align_spf(void **state)
{
	struct dmarc_outcome out;
	struct dmarc_input in = { .from_domain = "example.com", .spf = SPF_PASS,
				  .spf_domain = "bounces.example.com" };

	(void)state;
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_PASS);
	assert_string_equal(out.reason, "aligned spf pass (bounces.example.com)");
	/* a null sender's HELO identity (RFC 7489 4.1, RFC 7208 2.4) */
	in.spf_helo = true;
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_PASS);
	assert_string_equal(out.reason, "aligned spf pass (helo bounces.example.com)");
	in.spf_helo = false;
	/* only a pass counts */
	const enum spf_result others[] = { SPF_NONE, SPF_NEUTRAL, SPF_FAIL, SPF_SOFTFAIL,
					   SPF_TEMPERROR, SPF_PERMERROR };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		in.spf = others[i];
		assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	}
	in.spf = SPF_PASS;
	in.spf_domain = "example.org";
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	in.spf_domain = NULL;
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	/* strict */
	in.from_domain = "strict.example";
	in.spf_domain = "bounce.strict.example";
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_FAIL);
	in.spf_domain = "strict.example";
	assert_int_equal(eval(relaxed_zone, &in, 0, &out), DMARC_PASS);
	/* aspf=s does not make DKIM strict, nor the other way round */
	const struct zone mixed[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject; aspf=s"),
		ZONE_END,
	};
	struct dmarc_input in2 = { .from_domain = "example.com", .spf = SPF_PASS,
				   .spf_domain = "mail.example.com",
				   .dkim = DKIM_PASS_FOR("mail.example.com"), .n_dkim = 1 };
	assert_int_equal(eval(mixed, &in2, 0, &out), DMARC_PASS);
	assert_string_equal(out.reason, "aligned dkim pass (mail.example.com)");
	in2.n_dkim = 0;
	assert_int_equal(eval(mixed, &in2, 0, &out), DMARC_FAIL);
}

/* pct=: rnd < pct applies the policy, else the next lower one. */
static void test_pct(void **state)
{
	struct dmarc_outcome out;
	struct dmarc_input in = { .from_domain = "example.com" };
	const struct zone reject30[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject; pct=30"),
		ZONE_END,
	};
	const struct zone quarantine0[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=quarantine; pct=0"),
		ZONE_END,
	};
	const struct zone reject100[] = {
		ZONE("_dmarc.example.com", DNS_FOUND, "v=DMARC1; p=reject; pct=100"),
		ZONE_END,
	};

	(void)state;
	assert_int_equal(eval(reject30, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.pct, 30);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	assert_int_equal(eval(reject30, &in, 29, &out), DMARC_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	assert_int_equal(eval(reject30, &in, 30, &out), DMARC_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	assert_int_equal(out.requested, DMARC_POLICY_REJECT);
	assert_int_equal(eval(reject30, &in, 129, &out), DMARC_FAIL); /* modulo 100 */
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	assert_int_equal(eval(quarantine0, &in, 0, &out), DMARC_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_NONE);
	assert_int_equal(out.requested, DMARC_POLICY_QUARANTINE);
	assert_int_equal(eval(reject100, &in, 99, &out), DMARC_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dmarc_result_name(DMARC_NONE), "none");
	assert_string_equal(dmarc_result_name(DMARC_PASS), "pass");
	assert_string_equal(dmarc_result_name(DMARC_FAIL), "fail");
	assert_string_equal(dmarc_result_name(DMARC_TEMPERROR), "temperror");
	assert_string_equal(dmarc_result_name(DMARC_PERMERROR), "permerror");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_NONE), "none");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_REJECT), "reject");
}

/* ----------------------------------------------------------------- From: */

static const char *from(const char *header)
{
	static char domain[DNS_HOST_MAX];
	const char *why = NULL;

	if (dmarc_from_domain(header, strlen(header), domain, &why) != 1) {
		assert_non_null(why);
		assert_string_equal(domain, "");
		return NULL;
	}
	return domain;
}

static void test_from_one(void **state)
{
	(void)state;
	assert_string_equal(from("From: a@Example.COM\r\n"), "example.com");
	assert_string_equal(from("Subject: x\r\nFROM : Ann <ann@example.org>\r\nTo: b@c.example\r\n"
				 "\r\nFrom: body@not.header\r\n"),
			    "example.org");
	/* no final blank line, no final CRLF */
	assert_string_equal(from("To: x@y.example\r\nFrom: a@example.net"), "example.net");
	/* folding and comments */
	assert_string_equal(from("From: (the boss)\r\n \"Ann Lee\"\r\n\t<ann(x)@(y)example.org> "
				 "(work)\r\n"),
			    "example.org");
	/* a quoted local part with an @ and a comma */
	assert_string_equal(from("From: \"a@b, c\"@example.org\r\n"), "example.org");
	/* a display name with commas and an address in quotes */
	assert_string_equal(from("From: \"Doe, John <j@evil.example>\" <john@example.org>\r\n"),
			    "example.org");
	/* encoded words in the display name */
	assert_string_equal(from("From: =?utf-8?q?J=C3=B6rg?= =?utf-8?b?TcO8bGxlcg==?= "
				 "<j@example.de>\r\n"),
			    "example.de");
	/* raw UTF-8 in the display name (RFC 6532) */
	assert_string_equal(from("From: J\xc3\xb6rg <j@example.de>\r\n"), "example.de");
	/* Resent-From and others are not From */
	assert_string_equal(from("Resent-From: a@x.example\r\nFrom: b@y.example\r\n"
				 "X-From: c@z.example\r\n"),
			    "y.example");
}

static void test_from_refused(void **state)
{
	(void)state;
	assert_null(from("Subject: no from\r\n\r\n"));
	assert_null(from(""));
	assert_null(from("From: a@x.example\r\nFrom: b@y.example\r\n"));
	assert_null(from("From: a@x.example, b@y.example\r\n"));
	assert_null(from("From: a@x.example,\r\n b@x.example\r\n"));
	assert_null(from("From: friends: a@x.example, b@y.example;\r\n"));
	assert_null(from("From: undisclosed-recipients:;\r\n"));
	assert_null(from("From: \r\n"));
	assert_null(from("From: Ann Lee\r\n"));
	assert_null(from("From: ann\r\n"));
	assert_null(from("From: a@[192.0.2.1]\r\n"));
	assert_null(from("From: <a@x.example\r\n"));
	assert_null(from("From: a@exa_mple!.com\r\n"));
	assert_null(from("From: a@x..example\r\n"));
	/* bounded */
	size_t big = DMARC_HEADER_MAX + 1;
	char *h = malloc(big + 1);
	memset(h, 'x', big);
	memcpy(h, "From: a@example.com\r\nX: ", 24);
	h[big] = '\0';
	const char *why = NULL;
	char domain[DNS_HOST_MAX];
	assert_int_equal(dmarc_from_domain(h, big, domain, &why), 0);
	assert_string_equal(why, "header too long");
	assert_int_equal(dmarc_from_domain(h, big - 1, domain, &why), 1);
	free(h);
}

static void test_from_idn(void **state)
{
	(void)state;
	/* U-labels become A-labels; A-labels stay */
	assert_string_equal(from("From: m@M\xc3\xbcller-Bau.example\r\n"),
			    "xn--mller-bau-q9a.example");
	assert_string_equal(from("From: m@xn--mller-bau-q9a.example\r\n"),
			    "xn--mller-bau-q9a.example");
	/* not a valid IDN */
	assert_null(from("From: m@\xff\xfe.example\r\n"));
}

/* ----------------------------------------------------------------- org domains */

static const char *org(const char *d)
{
	static char out[DNS_HOST_MAX];
	const char *error = NULL;
	int r = org_domain(d, out, &error);

	if (r != 1) {
		assert_int_equal(r, 0);
		assert_non_null(error);
		return NULL;
	}
	return out;
}

static void test_org_domain(void **state)
{
	(void)state;
	assert_string_equal(org("example.com"), "example.com");
	assert_string_equal(org("www.example.com"), "example.com");
	assert_string_equal(org("a.b.example.co.uk"), "example.co.uk");
	assert_string_equal(org("A.B.Example.CO.UK"), "example.co.uk");
	/* a public suffix is its own; a bare TLD too, known or not */
	assert_string_equal(org("co.uk"), "co.uk");
	assert_string_equal(org("com"), "com");
	assert_string_equal(org("nosuchtld"), "nosuchtld");
	assert_string_equal(org("x.y.nosuchtld"), "y.nosuchtld");
	/* private-section suffixes count too */
	assert_string_equal(org("a.foo.blogspot.com"), "foo.blogspot.com");
	/* an IDN suffix in A-labels (.рф) */
	assert_string_equal(org("www.xn--d1acufc.xn--p1ai"), "xn--d1acufc.xn--p1ai");
	/* one final dot is the same name; more is not a name */
	assert_string_equal(org("www.example.com."), "example.com");
	assert_null(org("example.com.."));
	assert_null(org("."));
	assert_null(org(""));
	assert_null(org(".example.com"));
	assert_null(org("exa mple.com"));
	assert_null(org("m\xc3\xbcller.de"));
	char label[80];
	memset(label, 'a', 64);
	strcpy(label + 64, ".com");
	assert_null(org(label));
	assert_non_null(org(label + 1)); /* 63 */
}

/* A message whose signature is by its From domain itself needs no org
 * domain: libpsl is not loaded. And a missing libpsl is a temperror only
 * where the org domain is needed. Forked: loading is once per process. */
static void test_library_lazy_and_missing(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct dmarc_outcome out;
		struct dmarc_input in = { .from_domain = "example.com",
					  .dkim = DKIM_PASS_FOR("example.com"), .n_dkim = 1 };
		int bad = 0;
		char header[] = "From: a@example.com\r\n";
		char d[DNS_HOST_MAX];
		const char *why;

		org_domain_library_set("libpsl-not-installed.so.5");
		bad |= dmarc_from_domain(header, strlen(header), d, &why) != 1;
		bad |= eval(relaxed_zone, &in, 0, &out) != DMARC_PASS;
		bad |= org_domain_loaded() ? 2 : 0;
		/* relaxed alignment needs it: temperror */
		in.dkim = DKIM_PASS_FOR("mail.example.com");
		bad |= eval(relaxed_zone, &in, 0, &out) != DMARC_TEMPERROR ? 4 : 0;
		bad |= strstr(out.reason, "libpsl5") == NULL ? 8 : 0;
		/* and discovery beyond the From domain */
		in.from_domain = "mail.example.com";
		bad |= eval(relaxed_zone, &in, 0, &out) != DMARC_TEMPERROR ? 16 : 0;
		const char *error = NULL;
		bad |= org_domain("example.com", d, &error) != -1 ? 32 : 0;
		_exit(bad);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_library_lazy_and_missing),
		cmocka_unit_test(test_record_tags),
		cmocka_unit_test(test_record_invalid_values),
		cmocka_unit_test(test_record_broken),
		cmocka_unit_test(test_discovery_from_domain),
		cmocka_unit_test(test_discovery_org_domain),
		cmocka_unit_test(test_discovery_errors),
		cmocka_unit_test(test_missing_p),
		cmocka_unit_test(test_align_dkim),
		cmocka_unit_test(test_align_spf),
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_from_one),
		cmocka_unit_test(test_from_refused),
		cmocka_unit_test(test_from_idn),
		cmocka_unit_test(test_org_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
