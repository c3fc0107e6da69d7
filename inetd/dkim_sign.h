/* A DKIM-Signature field (RFC 6376) for a message as sent: relaxed/relaxed,
 * SHA-256, a t= timestamp, no l= (a body cut at l= lets anyone append to a
 * signed message), the fields dkim_canon.h chooses. The body is given in
 * pieces; the header block first, since it decides whether the message can
 * be signed at all (From:). Hashing and signing go through store/dkim_key.h
 * (GnuTLS). */
#ifndef PB_DKIM_SIGN_H
#define PB_DKIM_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "dkim_key.h"

struct dkim_signer;

/* Starts a signature over the message whose header block (CRLF lines, the
 * blank line optional) is `header`. 1 started, 0 the message is not to be
 * signed (*why_r: dkim_headers_select's reasons), -1 (*why_r). */
int dkim_signer_new(const char *header, size_t len, struct dkim_signer **signer_r,
		    const char **why_r);
/* The domain of the message's one From: address (ASCII lowercased, as
 * written: U-labels stay U-labels). */
const char *dkim_signer_from_domain(const struct dkim_signer *signer);
/* The body, as sent (after the blank line), any split. */
void dkim_signer_body(struct dkim_signer *signer, const char *data, size_t len);

struct dkim_sign_key {
	const char *domain;     /* d=, A-labels */
	const char *selector;   /* s= */
	enum dkim_alg alg;
	const char *pem;
	size_t pem_len;
};

/* Ends the body and signs at time `now`: the whole field, "DKIM-Signature:
 * ..." folded below 78 octets a line and CRLF-terminated, into a malloc'd
 * *field_r. The signer is freed either way. 1, 0 the key cannot sign
 * (*error_r), -1. */
int dkim_signer_finish(struct dkim_signer **signer, const struct dkim_sign_key *key, int64_t now,
		       char **field_r, size_t *len_r, const char **error_r);
void dkim_signer_free(struct dkim_signer **signer);

#endif
