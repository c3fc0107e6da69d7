/* libFuzzer harness over DMARC (dmarc.h): the From: domain of a header
 * block, the record parser and the whole evaluation with the DNS answered
 * from the input. No network: the TXT lookups are answered from memory.
 *
 * Input: one byte of choices (DNS failures, SPF/DKIM results, rnd), then a
 * header block up to the first NUL, then TXT records, one a line: the lines
 * before a line "@" answer the first name asked (_dmarc.<From domain>),
 * the lines after it any later one (the organizational domain).
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_dmarc
 * Run:   tests/fuzz/fuzz_dmarc -max_total_time=300 ../../tests/fuzz/corpus/dmarc */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct answers {
	const char *text;   /* the records' part of the input */
	size_t len;
	unsigned choices;
	unsigned asked;
};

/* The lines of part `which` (0: before "@", 1: after) as TXT records. */
static int fake_txt(void *ctx, const char *name, struct dns_txt *txt, const char **error_r)
{
	struct answers *a = ctx;
	unsigned which = a->asked++ == 0 ? 0 : 1;
	unsigned fail = (a->choices >> (which * 2)) & 3;
	size_t part = 0, i = 0;

	memset(txt, 0, sizeof(*txt));
	if (strlen(name) >= DNS_HOST_MAX)
		abort(); /* dmarc.c never asks for a name DNS cannot hold */
	if (fail == 1) {
		*error_r = "fuzz: temporary failure";
		return DNS_TEMPFAIL;
	}
	if (fail == 2)
		return DNS_NXDOMAIN;
	txt->mem = malloc(a->len + 1);
	if (txt->mem == NULL)
		return DNS_TEMPFAIL;
	char *out = txt->mem;
	while (i <= a->len) {
		const char *nl = memchr(a->text + i, '\n', a->len - i);
		size_t end = nl != NULL ? (size_t)(nl - a->text) : a->len;
		size_t n = end - i;

		if (n == 1 && a->text[i] == '@') {
			part++;
		} else if (part == which) {
			if (memchr(a->text + i, '\0', n) != NULL || txt->n == DNS_TXT_MAX) {
				txt->overflow = true; /* as dns.c leaves them out */
			} else {
				memcpy(out, a->text + i, n);
				out[n] = '\0';
				txt->rec[txt->n] = out;
				txt->len[txt->n++] = n;
				out += n + 1;
			}
		}
		i = end + 1;
	}
	return txt->n > 0 ? DNS_FOUND : DNS_NODATA;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned choices = data[0];
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	const char *nul = memchr(in, '\0', len);
	size_t hlen = nul != NULL ? (size_t)(nul - in) : len;
	char from[DNS_HOST_MAX], org[DNS_HOST_MAX];
	const char *why = NULL;

	/* the From: domain: a domain that is a valid, normalised name */
	int r = dmarc_from_domain(in, hlen, from, &why);
	if (r == 1) {
		char norm[DNS_HOST_MAX];
		if (org_domain_normalize(from, norm) != 1 || strcmp(norm, from) != 0)
			abort();
		if (org_domain(from, org, &why) != 1 || strlen(org) > strlen(from))
			abort();
	} else if (why == NULL || from[0] != '\0') {
		abort();
	} else {
		strcpy(from, "a.b.example.co.uk");
	}

	struct answers a = {
		.text = nul != NULL ? nul + 1 : "",
		.len = nul != NULL ? len - hlen - 1 : 0,
		.choices = choices,
	};
	/* each line alone through the record parser */
	for (size_t i = 0; i < a.len;) {
		const char *nl = memchr(a.text + i, '\n', a.len - i);
		size_t end = nl != NULL ? (size_t)(nl - a.text) : a.len;
		struct dmarc_record rec;
		const char *w = NULL;
		int pr = dmarc_record_parse(a.text + i, end - i, &rec, &w);
		if ((pr < 0 && w == NULL) || (pr == 1 && rec.pct > 100))
			abort();
		i = end + 1;
	}

	const struct dns_lookup dns = { .txt = fake_txt, .ctx = &a };
	const struct dmarc_dkim dkim[] = {
		{ (choices & 0x10) != 0 ? DKIM_PASS : DKIM_FAIL, "example.co.uk" },
		{ DKIM_PASS, "other.example" },
		{ (choices & 0x20) != 0 ? DKIM_PASS : DKIM_NONE, from },
	};
	struct dmarc_input input = {
		.from_domain = from,
		.spf = (choices & 0x40) != 0 ? SPF_PASS : SPF_SOFTFAIL,
		.spf_domain = (choices & 0x80) != 0 ? "mail.example.co.uk" : "Example.CO.UK.",
		.spf_helo = (choices & 0x08) != 0,
		.dkim = dkim,
		.n_dkim = 3,
	};
	struct dmarc_outcome out;
	enum dmarc_result res = dmarc_evaluate(&dns, &input, choices * 7u, &out);
	if (res != out.result || strlen(out.reason) >= sizeof(out.reason) ||
	    (res != DMARC_FAIL && out.policy != DMARC_POLICY_NONE) ||
	    out.policy > out.requested || a.asked > 2)
		abort();
	(void)dmarc_result_name(res);
	(void)dmarc_policy_name(out.policy);
	return 0;
}
