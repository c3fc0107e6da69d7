/* DKIM signature verification for the MX (RFC 6376 6, RFC 8301, RFC 8463):
 * rsa-sha256 and ed25519-sha256, simple and relaxed canonicalisation, l=,
 * i=, t=, x=, the key record's k=, h=, s=, t= flags. Keys come through the
 * DNS table (dns.h), so tests and the fuzz harness answer from memory.
 *
 * Every signature is judged on its own: a malformed one gets its own
 * permerror and never changes another's result. Each body hash is computed
 * once per distinct (body canonicalisation, l=) pair. Limits: the header
 * (DKIM_HEADER_MAX bytes, DKIM_FIELDS_MAX fields: a larger header makes
 * each signature permerror), DKIM_VERIFY_SIGS_MAX signatures, h= of at most
 * DKIM_H_MAX bytes, b= of at most DKIM_SIG_MAX bytes, key records of
 * DKIM_KEY_DER_MAX bytes. */
#ifndef PB_DKIM_VERIFY_H
#define PB_DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define DKIM_VERIFY_SIGS_MAX 8   /* signatures looked at; more are ignored (not failed) */

enum dkim_result { DKIM_NONE, DKIM_PASS, DKIM_FAIL, DKIM_NEUTRAL, DKIM_POLICY, DKIM_TEMPERROR, DKIM_PERMERROR };
/* RFC 8601 names: "none" "pass" "fail" "neutral" "policy" "temperror" "permerror" */
const char *dkim_result_name(enum dkim_result r);

struct dkim_sig_result {
	enum dkim_result result;
	char domain[DNS_HOST_MAX];   /* d=, lowercased ("" if unreadable) */
	char selector[64];           /* s= ("" if unreadable or too long) */
	char identity[256];          /* i= as given or "@"+d= (header.i), "" if unreadable */
	char b8[9];                  /* the first 8 characters of b= (header.b, RFC 6008) */
	char alg[20];                /* a= as given, "" if unreadable */
	bool testing;                /* the key record says t=y */
	char reason[128];            /* "body hash did not verify", "key revoked", "signature expired", ... */
};

struct dkim_verifier;

/* Starts verification of a message whose header block (CRLF lines, the
 * blank line optional) is header[0..len); the header is copied. 1 started
 * (*v_r), 0 no DKIM-Signature field (nothing to verify), -1 out of memory or
 * GnuTLS not loadable (*error_r). */
int dkim_verifier_new(const char *header, size_t len, struct dkim_verifier **v_r,
		      const char **error_r);
/* The body (after the blank line), any split, as received (CRLF lines, no
 * dot-stuffing). */
void dkim_verifier_body(struct dkim_verifier *v, const char *data, size_t len);
/* Fetches the keys and checks each signature (at most DKIM_VERIFY_SIGS_MAX)
 * at time now: results into res[0..n), in header order, n the returned
 * count (at most max); frees *v. Returns 0 only if new() returned 0, for
 * which it is not called. */
size_t dkim_verifier_finish(struct dkim_verifier **v, const struct dns_lookup *dns, int64_t now,
			    struct dkim_sig_result *res, size_t max);
/* Frees a verifier without results (safe on NULL). */
void dkim_verifier_free(struct dkim_verifier **v);

#endif
