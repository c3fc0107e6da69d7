/* libFuzzer harness over DKIM verification (inetd/dkim_verify.h): the
 * signature fields, the header and body canonicalisation, the key record.
 * The input is a message, then optionally a NUL and the key records (up to
 * three, NUL-separated) that answer for any selector but the fixed ones:
 * rsa2048, rsa1024 and ed answer with the good keys of the unit tests'
 * fixtures (so seeds signed by them reach the signature check), "temp"
 * fails temporarily. The body is fed in pieces whose size comes from the
 * input's length; the clock is fixed: deterministic.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_dkim_verify
 * Run:   tests/fuzz/fuzz_dkim_verify -max_total_time=300 ../../tests/fuzz/corpus/dkim_verify */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_verify.h"
#include "../unit/dkim_verify_fixtures.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECS_MAX 3

struct answers {
	const char *rec[RECS_MAX];
	size_t len[RECS_MAX], n;
};

static int put(struct dns_txt *txt, const char *const *rec, const size_t *len, size_t n)
{
	size_t total = 1, o = 0;

	for (size_t i = 0; i < n; i++)
		total += len[i] + 1;
	if ((txt->mem = malloc(total)) == NULL)
		return DNS_TEMPFAIL;
	for (size_t i = 0; i < n; i++) {
		txt->rec[i] = txt->mem + o;
		memcpy(txt->rec[i], rec[i], len[i]);
		txt->rec[i][len[i]] = '\0';
		txt->len[i] = len[i];
		o += len[i] + 1;
	}
	txt->n = n;
	return DNS_FOUND;
}

static int txt_lookup(void *ctx, const char *name, struct dns_txt *txt, const char **error_r)
{
	static const struct {
		const char *name, *rec;
	} fixed[] = {
		{ "rsa2048._domainkey.example.com", FX_KEY_RSA2048 },
		{ "rsa1024._domainkey.example.com", FX_KEY_RSA1024 },
		{ "ed._domainkey.example.com", FX_KEY_ED },
	};
	const struct answers *a = ctx;

	(void)error_r;
	memset(txt, 0, sizeof(*txt));
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(name, fixed[i].name) == 0) {
			size_t len = strlen(fixed[i].rec);

			return put(txt, &fixed[i].rec, &len, 1);
		}
	if (strncmp(name, "temp.", 5) == 0)
		return DNS_TEMPFAIL;
	if (a->n == 0)
		return DNS_NXDOMAIN;
	return put(txt, a->rec, a->len, a->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data, *nul = memchr(msg, '\0', size);
	size_t mlen = nul != NULL ? (size_t)(nul - msg) : size, hlen = mlen, step;
	struct answers a = { .n = 0 };
	struct dns_lookup dns = { .txt = txt_lookup, .ctx = &a };
	struct dkim_sig_result res[DKIM_VERIFY_SIGS_MAX];
	struct dkim_verifier *v = NULL;
	const char *error = NULL;
	size_t n;

	if (nul != NULL) {
		const char *p = nul + 1, *end = msg + size;

		while (a.n < RECS_MAX) {
			const char *z = memchr(p, '\0', (size_t)(end - p));

			a.rec[a.n] = p;
			a.len[a.n++] = z != NULL ? (size_t)(z - p) : (size_t)(end - p);
			if (z == NULL)
				break;
			p = z + 1;
		}
	}
	for (size_t i = 0; i + 4 <= mlen; i++)
		if (memcmp(msg + i, "\r\n\r\n", 4) == 0) {
			hlen = i + 4;
			break;
		}
	if (dkim_verifier_new(msg, hlen, &v, &error) <= 0)
		return 0;
	step = 1 + mlen % 97;
	for (size_t i = hlen; i < mlen; i += step)
		dkim_verifier_body(v, msg + i, mlen - i < step ? mlen - i : step);
	n = dkim_verifier_finish(&v, &dns, FX_T0, res, DKIM_VERIFY_SIGS_MAX);
	if (n == 0 || n > DKIM_VERIFY_SIGS_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (res[i].reason[sizeof(res[i].reason) - 1] != '\0' ||
		    (res[i].result == DKIM_PASS && res[i].domain[0] == '\0') ||
		    strlen(dkim_result_name(res[i].result)) == 0)
			abort();
	return 0;
}
