/* DKIM keys and signatures with GnuTLS (dkim_key.h), loaded on first use
 * (gnutls_lib.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dkim_key.h"
#include "gnutls_lib.h"
#include "password.h"

static __thread char error_buf[320];

static int fail(const char **error_r, int code, const char *what, int ret)
{
	snprintf(error_buf, sizeof(error_buf), "%s: %s", what, gtls->gnutls_strerror(ret));
	*error_r = error_buf;
	return code;
}

const char *dkim_alg_sig_name(enum dkim_alg alg)
{
	return alg == DKIM_ALG_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

const char *dkim_alg_key_name(enum dkim_alg alg)
{
	return alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa";
}

static char *b64_new(const void *data, size_t len)
{
	char *out = malloc(BASE64_ENCODED_MAX(len) + 1);

	if (out != NULL)
		out[base64_encode(data, len, 0, out)] = '\0';
	return out;
}

int dkim_key_generate(enum dkim_alg alg, unsigned bits, char **pem_r, size_t *len_r,
		      const char **error_r)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t out = { NULL, 0 };
	int ret, r = -1;

	*pem_r = NULL;
	if (gnutls_lib_load(error_r) < 0)
		return -1;
	if (alg == DKIM_ALG_RSA && (bits < DKIM_RSA_BITS_MIN || bits > DKIM_RSA_BITS_MAX)) {
		snprintf(error_buf, sizeof(error_buf), "RSA keys have %d to %d bits",
			 DKIM_RSA_BITS_MIN, DKIM_RSA_BITS_MAX);
		*error_r = error_buf;
		return -1;
	}
	if ((ret = gtls->gnutls_x509_privkey_init(&key)) < 0)
		return fail(error_r, -1, "generating the key", ret);
	ret = gtls->gnutls_x509_privkey_generate(key, alg == DKIM_ALG_ED25519
					       ? GNUTLS_PK_EDDSA_ED25519 : GNUTLS_PK_RSA,
					       alg == DKIM_ALG_ED25519 ? 256 : bits, 0);
	if (ret >= 0)
		ret = gtls->gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
							    GNUTLS_PKCS_PLAIN, &out);
	if (ret < 0) {
		fail(error_r, -1, "generating the key", ret);
		goto out;
	}
	*pem_r = malloc(out.size + 1);
	if (*pem_r == NULL) {
		*error_r = "out of memory";
		goto out;
	}
	memcpy(*pem_r, out.data, out.size);
	(*pem_r)[out.size] = '\0';
	*len_r = out.size;
	r = 1;
out:
	if (out.data != NULL) {
		password_wipe(out.data, out.size);
		gtls->free(out.data);
	}
	gtls->gnutls_x509_privkey_deinit(key);
	return r;
}

/* The private key of `pem`, checked to be of `alg`: 1, 0 (not such a key),
 * -1. */
static int privkey_load(enum dkim_alg alg, const char *pem, size_t len, gnutls_privkey_t *key_r,
			const char **error_r)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
	unsigned bits = 0;
	int ret;

	*key_r = NULL;
	if (gnutls_lib_load(error_r) < 0)
		return -1;
	if ((ret = gtls->gnutls_privkey_init(key_r)) < 0)
		return fail(error_r, -1, "loading the key", ret);
	if ((ret = gtls->gnutls_privkey_import_x509_raw(*key_r, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		gtls->gnutls_privkey_deinit(*key_r);
		*key_r = NULL;
		return fail(error_r, 0, "the stored key does not load", ret);
	}
	ret = gtls->gnutls_privkey_get_pk_algorithm(*key_r, &bits);
	if ((alg == DKIM_ALG_RSA && ret == GNUTLS_PK_RSA && bits >= DKIM_RSA_BITS_MIN) ||
	    (alg == DKIM_ALG_ED25519 && ret == GNUTLS_PK_EDDSA_ED25519))
		return 1;
	gtls->gnutls_privkey_deinit(*key_r);
	*key_r = NULL;
	snprintf(error_buf, sizeof(error_buf), "the stored key is not a%s %s key",
		 alg == DKIM_ALG_RSA ? "n" : "", alg == DKIM_ALG_RSA ? "RSA (1024 bits or more)"
								  : "Ed25519");
	*error_r = error_buf;
	return 0;
}

int dkim_key_public(enum dkim_alg alg, const char *pem, size_t len, char **p_r,
		    const char **error_r)
{
	gnutls_privkey_t key;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	int ret, r = privkey_load(alg, pem, len, &key, error_r);

	*p_r = NULL;
	if (r <= 0)
		return r;
	if ((ret = gtls->gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gtls->gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0) {
		r = fail(error_r, 0, "the public key", ret);
		goto out;
	}
	ret = alg == DKIM_ALG_ED25519 ? gtls->gnutls_pubkey_export_ecc_raw(pub, &curve, &der, NULL)
				      : gtls->gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der);
	if (ret < 0) {
		r = fail(error_r, 0, "the public key", ret);
		goto out;
	}
	if ((*p_r = b64_new(der.data, der.size)) == NULL) {
		*error_r = "out of memory";
		r = -1;
	}
out:
	if (der.data != NULL)
		gtls->free(der.data);
	if (pub != NULL)
		gtls->gnutls_pubkey_deinit(pub);
	gtls->gnutls_privkey_deinit(key);
	return r;
}

struct dkim_hash {
	gnutls_hash_hd_t h;
};

int dkim_hash_new(struct dkim_hash **hash_r, const char **error_r)
{
	struct dkim_hash *hash;
	int ret;

	*hash_r = NULL;
	if (gnutls_lib_load(error_r) < 0)
		return -1;
	if ((hash = malloc(sizeof(*hash))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if ((ret = gtls->gnutls_hash_init(&hash->h, GNUTLS_DIG_SHA256)) < 0) {
		free(hash);
		return fail(error_r, -1, "SHA-256", ret);
	}
	*hash_r = hash;
	return 1;
}

void dkim_hash_update(struct dkim_hash *hash, const void *data, size_t len)
{
	/* Only fails for an unknown algorithm, which SHA-256 is not. */
	(void)gtls->gnutls_hash(hash->h, data, len);
}

void dkim_hash_finish(struct dkim_hash **hash, uint8_t out[DKIM_HASH_LEN])
{
	gtls->gnutls_hash_deinit((*hash)->h, out);
	free(*hash);
	*hash = NULL;
}

void dkim_hash_free(struct dkim_hash **hash)
{
	uint8_t discard[DKIM_HASH_LEN];

	if (*hash != NULL)
		dkim_hash_finish(hash, discard);
}

int dkim_key_sign(enum dkim_alg alg, const char *pem, size_t pem_len, const void *data,
		  size_t len, char **b64_r, const char **error_r)
{
	gnutls_privkey_t key;
	uint8_t digest[DKIM_HASH_LEN];
	gnutls_datum_t in = { (unsigned char *)data, (unsigned)len }, sig = { NULL, 0 };
	int ret, r;

	*b64_r = NULL;
	if (len > UINT32_MAX) {
		*error_r = "the data to sign is too long";
		return -1;
	}
	if ((r = privkey_load(alg, pem, pem_len, &key, error_r)) <= 0)
		return r;
	if (alg == DKIM_ALG_ED25519) {
		/* RFC 8463 3: Ed25519 signs the SHA-256 hash, not the data. */
		if ((ret = gtls->gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest)) < 0) {
			r = fail(error_r, -1, "SHA-256", ret);
			goto out;
		}
		in = (gnutls_datum_t){ digest, sizeof(digest) };
	}
	ret = gtls->gnutls_privkey_sign_data2(key, alg == DKIM_ALG_ED25519 ? GNUTLS_SIGN_EDDSA_ED25519
					    : GNUTLS_SIGN_RSA_SHA256, 0, &in, &sig);
	if (ret < 0) {
		r = fail(error_r, -1, "signing", ret);
		goto out;
	}
	if ((*b64_r = b64_new(sig.data, sig.size)) == NULL) {
		*error_r = "out of memory";
		r = -1;
	}
out:
	if (sig.data != NULL)
		gtls->free(sig.data);
	gtls->gnutls_privkey_deinit(key);
	return r;
}

/* The public key of a key record: 1, or -1 (*error_r). */
static int pubkey_load(enum dkim_alg alg, const void *key, size_t key_len, gnutls_pubkey_t *pub_r,
		       const char **error_r)
{
	gnutls_datum_t d = { (unsigned char *)key, (unsigned)key_len };
	unsigned bits = 0;
	int ret;

	*pub_r = NULL;
	if (gnutls_lib_load(error_r) < 0)
		return -1;
	if ((ret = gtls->gnutls_pubkey_init(pub_r)) < 0)
		return fail(error_r, -1, "loading the key", ret);
	if (alg == DKIM_ALG_ED25519) {
		if (key_len != 32) {
			*error_r = "Ed25519 key is not 32 bytes";
			return -1;
		}
		if ((ret = gtls->gnutls_pubkey_import_ecc_raw(*pub_r, GNUTLS_ECC_CURVE_ED25519, &d,
							     NULL)) < 0)
			return fail(error_r, -1, "unusable key", ret);
		return 1;
	}
	if ((ret = gtls->gnutls_pubkey_import(*pub_r, &d, GNUTLS_X509_FMT_DER)) < 0)
		return fail(error_r, -1, "unusable key", ret);
	ret = gtls->gnutls_pubkey_get_pk_algorithm(*pub_r, &bits);
	if (ret != GNUTLS_PK_RSA) {
		*error_r = "key is not an RSA key";
		return -1;
	}
	if (bits < DKIM_RSA_BITS_MIN) {
		*error_r = "key too short";   /* RFC 8301 3.2 */
		return -1;
	}
	if (bits > DKIM_RSA_VERIFY_BITS_MAX) {
		*error_r = "key too long";
		return -1;
	}
	return 1;
}

int dkim_key_verify(enum dkim_alg alg, const void *key, size_t key_len, const void *data,
		    size_t len, const void *sig, size_t sig_len, const char **error_r)
{
	gnutls_pubkey_t pub;
	uint8_t digest[DKIM_HASH_LEN];
	gnutls_datum_t in = { (unsigned char *)data, (unsigned)len };
	gnutls_datum_t s = { (unsigned char *)sig, (unsigned)sig_len };
	int ret, r;

	if (len > UINT32_MAX || sig_len > DKIM_SIG_MAX) {
		*error_r = "the data to verify is too long";
		return -1;
	}
	if ((r = pubkey_load(alg, key, key_len, &pub, error_r)) < 0)
		goto out;
	if (alg == DKIM_ALG_ED25519) {
		/* RFC 8463 3: Ed25519 signs the SHA-256 hash, not the data. */
		if ((ret = gtls->gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest)) < 0) {
			r = fail(error_r, -1, "SHA-256", ret);
			goto out;
		}
		in = (gnutls_datum_t){ digest, sizeof(digest) };
	}
	ret = gtls->gnutls_pubkey_verify_data2(pub, alg == DKIM_ALG_ED25519
					      ? GNUTLS_SIGN_EDDSA_ED25519 : GNUTLS_SIGN_RSA_SHA256,
					      0, &in, &s);
	r = ret >= 0 ? 1 : 0;
	if (ret < 0 && ret != GNUTLS_E_PK_SIG_VERIFY_FAILED)
		fail(error_r, 0, "signature did not verify", ret);
	else if (ret < 0)
		*error_r = "signature did not verify";
out:
	if (pub != NULL)
		gtls->gnutls_pubkey_deinit(pub);
	return r;
}
