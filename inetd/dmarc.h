/* DMARC (RFC 7489) for the MX: the From: domain of a message, the policy
 * its owner publishes (_dmarc.<domain> TXT, then at the organizational
 * domain), and whether an SPF or DKIM pass is aligned with it. The result
 * goes into Authentication-Results (RFC 8601: "dmarc=fail (p=reject)
 * header.from=example.com"); what to do with a failing message is the
 * caller's choice, `policy` says what the domain asks.
 *
 * DNS goes only through `struct dns_lookup` (dns.h), so tests and the fuzz
 * harness answer from memory. Decisions where RFC 7489 leaves room:
 *  - tag names and keyword values are case-insensitive (its ABNF strings);
 *    "DMARC1" is exact and v= must be the first tag;
 *  - an optional tag with an invalid value takes its default (adkim/aspf
 *    relaxed, pct 100); unknown tags are ignored; a tag given twice or a
 *    tag list that breaks the grammar makes the record invalid: permerror
 *    (RFC 8601 2.7.1's example of a DMARC permerror);
 *  - p= missing or invalid, or sp= invalid: p=none when rua= holds a URI,
 *    else no policy (6.6.3 step 6);
 *  - several v=DMARC1 records at the name looked up: no policy (6.6.3
 *    step 5, result none); a name with more TXT records than dns.h keeps
 *    (or one too long): permerror, as one left out could be a second DMARC
 *    record;
 *  - a null MAIL FROM: RFC 7489 4.1 uses SPF's MAIL FROM identity and
 *    points at RFC 7208 2.4, which makes it postmaster@<HELO name> then,
 *    so an SPF pass for the HELO name of a null sender IS aligned like any
 *    MAIL FROM domain (spf_helo only changes the reason text). A caller
 *    must set spf_domain to the HELO name only in that case, never for a
 *    separate HELO check of a non-null sender.
 *  - pct: the policy is applied when rnd % 100 < pct; otherwise the next
 *    lower one (reject -> quarantine -> none, 6.6.4). */
#ifndef PB_DMARC_H
#define PB_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dkim_verify.h"
#include "dns.h"
#include "orgdomain.h" /* org_domain(): the organizational domain */
#include "spf.h"

/* Bytes of a header block searched for From:, as dkim_canon.h's
 * DKIM_HEADER_MAX: smtpd keeps at most SMTP_HEADER_MAX anyway. */
#define DMARC_HEADER_MAX (1024 * 1024)
/* DKIM signatures looked at for alignment: the verifier checks fewer. */
#define DMARC_DKIM_MAX 64

enum dmarc_result { DMARC_NONE, DMARC_PASS, DMARC_FAIL, DMARC_TEMPERROR, DMARC_PERMERROR };
/* "none" "pass" "fail" "temperror" "permerror" */
const char *dmarc_result_name(enum dmarc_result r);

enum dmarc_policy { DMARC_POLICY_NONE, DMARC_POLICY_QUARANTINE, DMARC_POLICY_REJECT };
/* "none" "quarantine" "reject" */
const char *dmarc_policy_name(enum dmarc_policy p);

/* One verified signature's d=. */
struct dmarc_dkim {
	enum dkim_result result;
	const char *domain;
};

struct dmarc_input {
	const char *from_domain;          /* RFC5322.From domain: A-labels, lowercased, no final dot */
	enum spf_result spf;              /* SPF of the MAIL FROM identity */
	const char *spf_domain;           /* the domain SPF checked (MAIL FROM's, or the HELO
					     name when the sender was null); NULL: none */
	bool spf_helo;                    /* spf_domain is the HELO name of a null sender:
					     aligned like a MAIL FROM domain (see above) */
	const struct dmarc_dkim *dkim;    /* the first DMARC_DKIM_MAX are looked at */
	size_t n_dkim;
};

struct dmarc_outcome {
	enum dmarc_result result;
	enum dmarc_policy policy;         /* what the receiver should do: the record's p= (or
					     sp= for a subdomain of the org domain with a
					     record found at the org domain), after pct=
					     sampling; NONE when the result is not fail */
	enum dmarc_policy requested;      /* p=/sp= as published, before pct (NONE without
					     a record) */
	char domain[DNS_HOST_MAX];        /* header.from */
	char reason[160];                 /* "aligned dkim pass (example.org)", "no aligned
					     pass", "no DMARC record", ... */
	/* added: */
	unsigned pct;                     /* the record's pct= (100 without one) */
	bool org_record;                  /* the record came from the org domain */
	char record_domain[DNS_HOST_MAX]; /* where the record was found, "" if none */
};

/* Looks up the policy (_dmarc.<from>, then _dmarc.<organizational domain>)
 * and evaluates alignment (adkim/aspf relaxed by default: same
 * organizational domain; strict: equal). pct sampling uses `rnd` (0..99,
 * the caller's random number; taken modulo 100) so tests are
 * deterministic. Fills *out and returns out->result: NONE without a usable
 * policy, PASS/FAIL, TEMPERROR on a DNS failure or when libpsl is missing
 * and an organizational domain is needed, PERMERROR for an invalid record
 * or From domain. */
enum dmarc_result dmarc_evaluate(const struct dns_lookup *dns, const struct dmarc_input *in,
				 unsigned rnd, struct dmarc_outcome *out);

/* The From: domain of a header block (CRLF lines, blank line optional,
 * at most DMARC_HEADER_MAX bytes): 1 and the domain (A-labels, lowercased)
 * when the header has exactly one From: field holding exactly one address
 * with a domain; 0 otherwise (none, several fields, a group or list, no
 * domain, a domain literal, an unparsable one, an IDN that does not
 * convert) with *why_r (a static string). The field is read by the
 * store's RFC 5322 parser (address.h); U-labels go through idn.h. */
int dmarc_from_domain(const char *header, size_t len, char domain[DNS_HOST_MAX],
		      const char **why_r);

/* ------------------------------------------------------------ the record */

/* One DMARC record's tags (RFC 7489 6.3), as dmarc_record_parse reads them. */
struct dmarc_record {
	bool p_valid;              /* p= present with a known value */
	bool sp_set, sp_valid;     /* sp= present; and valid */
	enum dmarc_policy p, sp;   /* sp is p when absent */
	bool adkim_strict, aspf_strict;
	unsigned pct;              /* 0..100 */
	bool rua_valid;            /* rua= holds at least one URI with a scheme */
};

/* Parses one TXT record (len bytes, no NUL needed). 1: a DMARC record,
 * valid, in *rec; 0: not a DMARC record (it does not start with
 * v=DMARC1: ignore it); -1: a DMARC record that is invalid (*why_r: a
 * static string). A missing or invalid p= still gives 1 with p_valid
 * false: the caller applies 6.6.3 step 6. */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec, const char **why_r);

#endif
