/* Choosing a server certificate by the name a TLS client asked for (SNI,
 * RFC 6066 3): the name checks and the file names, with no GnuTLS (tls.c
 * calls these from its handshake hook; tests/unit/test_tls_sni.c tests them).
 *
 * The layout is certbot's (and dehydrated's): under the directory
 * `tls_cert_dir`, NAME/fullchain.pem and NAME/privkey.pem, NAME lowercase;
 * a certificate for *.example.com lives in _wildcard.example.com/. */
#ifndef PB_TLS_SNI_H
#define PB_TLS_SNI_H

#include <stddef.h>

/* RFC 1035 2.3.4: 253 characters written as text, 63 a label. */
#define TLS_SNI_NAME_MAX 253
#define TLS_SNI_LABEL_MAX 63
/* The directory of a wildcard certificate: this, then the parent name. */
#define TLS_SNI_WILDCARD_PREFIX "_wildcard."
/* Room for either kind of directory name and its NUL. */
#define TLS_SNI_DIR_NAME_SIZE (TLS_SNI_NAME_MAX + sizeof(TLS_SNI_WILDCARD_PREFIX))

#define TLS_SNI_CERT_FILE "fullchain.pem"
#define TLS_SNI_KEY_FILE "privkey.pem"

/* The client's name (`len` bytes, hostile: any byte, any length) as a
 * directory name: lowercased into `out` (TLS_SNI_NAME_MAX + 1 bytes) if it
 * is a host name (labels of letters, digits and inner hyphens, 1 to 63
 * long, at most 253 in all, no empty label: so no "..", no "/", no leading
 * or trailing dot). 0, or -1 with `out` empty. */
int tls_sni_name_normalize(const void *name, size_t len, char *out);

/* The wildcard directory name for a normalized `name` ("mail.example.com"
 * -> "_wildcard.example.com") into `out` (TLS_SNI_DIR_NAME_SIZE bytes).
 * 0, or -1 when the name has a single label (nothing to stand for). */
int tls_sni_wildcard_name(const char *name, char *out);

/* DIR/DIR_NAME/fullchain.pem and DIR/DIR_NAME/privkey.pem into cert and key
 * (`size` bytes each). 0, or -1 when they do not fit. */
int tls_sni_paths(const char *dir, const char *dir_name, char *cert, char *key, size_t size);

#endif
