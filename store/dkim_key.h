/* DKIM keys and signatures (RFC 6376, RFC 8301, RFC 8463) with GnuTLS: key
 * generation, the public key as DNS publishes it, SHA-256, signing and
 * verifying.
 *
 * GnuTLS is loaded with dlopen() the first time one of these is called (as
 * inetd/tls.c loads it for TLS, and store/idn.c libidn2): every program
 * links the store, and a POP3 login must not map GnuTLS for the relay's and
 * the admin tool's sake. This file and inetd/tls.c are the two that include
 * GnuTLS's headers: TLS sessions belong to the handlers' plumbing (inetd/),
 * which the admin tool, which generates keys, does not link.
 *
 * Keys travel as PEM text (PKCS#8 "PRIVATE KEY", or an RSA "RSA PRIVATE
 * KEY"), which is how the store keeps them (dkim.h). Errors are returned
 * through *error_r, a per-thread buffer valid until the next call. */
#ifndef PB_DKIM_KEY_H
#define PB_DKIM_KEY_H

#include <stddef.h>
#include <stdint.h>

enum dkim_alg {
	DKIM_ALG_RSA = 1,        /* rsa-sha256, PKCS#1 v1.5 (RFC 8301: never rsa-sha1) */
	DKIM_ALG_ED25519 = 2,    /* ed25519-sha256 (RFC 8463) */
};

/* RFC 8301 3.2: verifiers refuse RSA keys under 1024 bits, and signers
 * should use 2048; past 4096 the TXT record no longer fits comfortably and
 * several receivers give up on it. */
#define DKIM_RSA_BITS_MIN 1024
#define DKIM_RSA_BITS_DEFAULT 2048
#define DKIM_RSA_BITS_MAX 4096
/* The PEM of an RSA-4096 key is about 3,300 bytes. */
#define DKIM_KEY_PEM_MAX 8192
/* SHA-256 */
#define DKIM_HASH_LEN 32
/* A verifier takes RSA keys up to this size (signatures of 1,024 bytes):
 * larger ones exist nowhere and only cost time. */
#define DKIM_RSA_VERIFY_BITS_MAX 8192
#define DKIM_SIG_MAX (DKIM_RSA_VERIFY_BITS_MAX / 8)

/* "rsa-sha256" / "ed25519-sha256" (the a= tag), and "rsa" / "ed25519" (k=). */
const char *dkim_alg_sig_name(enum dkim_alg alg);
const char *dkim_alg_key_name(enum dkim_alg alg);

/* A new key of `alg` (`bits` for RSA, ignored for Ed25519) as PEM, into a
 * malloc'd NUL-terminated *pem_r (the caller wipes and frees it). 1, or -1. */
int dkim_key_generate(enum dkim_alg alg, unsigned bits, char **pem_r, size_t *len_r,
		      const char **error_r);

/* The p= value of the key's DNS record: base64 of the DER SubjectPublicKeyInfo
 * (RSA, RFC 6376 3.6.1) or of the raw 32-byte public key (Ed25519, RFC 8463
 * 4), malloc'd into *p_r. Checks that the PEM holds a key of `alg` (and of
 * at least DKIM_RSA_BITS_MIN bits): 1, 0 it does not (*error_r says why),
 * -1 GnuTLS cannot be loaded or memory ran out. */
int dkim_key_public(enum dkim_alg alg, const char *pem, size_t len, char **p_r,
		    const char **error_r);

/* SHA-256 over data given in pieces (the body hash of a large message). */
struct dkim_hash;
int dkim_hash_new(struct dkim_hash **hash_r, const char **error_r);
void dkim_hash_update(struct dkim_hash *hash, const void *data, size_t len);
/* The digest into out, and the hash is freed. */
void dkim_hash_finish(struct dkim_hash **hash, uint8_t out[DKIM_HASH_LEN]);
/* Frees a hash without a result (safe on NULL). */
void dkim_hash_free(struct dkim_hash **hash);

/* b= of a signature over `data` (the canonical header fields and the
 * DKIM-Signature field itself, RFC 6376 3.7): RSA signs SHA-256(data) in
 * PKCS#1 v1.5; Ed25519 signs the 32-byte SHA-256(data) with PureEdDSA (RFC
 * 8463 3). The base64 into a malloc'd *b64_r. 1, 0 the key is not a usable
 * key of `alg`, -1. */
int dkim_key_sign(enum dkim_alg alg, const char *pem, size_t pem_len, const void *data,
		  size_t len, char **b64_r, const char **error_r);

/* Checks `sig` against `data` (as dkim_key_sign signs it) with a public key
 * as a key record's p= decodes: DER SubjectPublicKeyInfo (RSA, of
 * DKIM_RSA_BITS_MIN to DKIM_RSA_VERIFY_BITS_MAX bits) or the raw 32 bytes
 * (Ed25519). 1 the signature verifies, 0 it does not, -1 the key is not a
 * usable key of `alg` or GnuTLS failed (*error_r: "key too short", ...). */
int dkim_key_verify(enum dkim_alg alg, const void *key, size_t key_len, const void *data,
		    size_t len, const void *sig, size_t sig_len, const char **error_r);

#endif
