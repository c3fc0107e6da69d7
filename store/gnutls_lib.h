/* GnuTLS, loaded with dlopen() on first use: the one place that loads it,
 * for TLS (inetd/tls.c) and DKIM keys (store/dkim_key.c).
 *
 * Not linked: its ten libraries and its constructor cost a plaintext
 * POP3/IMAP/SMTP process about 1 ms of its start-up (measured:
 * tests/bench/bench_pop3.py), for nothing. The headers still give the
 * types, the constants and each function's prototype (__typeof__), so
 * every call is type-checked as if linked. */
#ifndef PB_GNUTLS_LIB_H
#define PB_GNUTLS_LIB_H

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#define GNUTLS_LIB_FUNCTIONS(X) \
	X(gnutls_check_version) X(gnutls_strerror) X(gnutls_error_is_fatal) \
	/* TLS sessions (inetd/tls.c) */ \
	X(gnutls_priority_init) X(gnutls_priority_deinit) X(gnutls_priority_set) \
	X(gnutls_certificate_allocate_credentials) X(gnutls_certificate_free_credentials) \
	X(gnutls_certificate_set_x509_key_mem2) X(gnutls_certificate_set_x509_trust_file) \
	X(gnutls_certificate_set_x509_system_trust) X(gnutls_certificate_server_set_request) \
	X(gnutls_certificate_type_get) X(gnutls_certificate_verification_status_print) \
	X(gnutls_session_get_verify_cert_status) X(gnutls_session_set_verify_cert) \
	X(gnutls_init) X(gnutls_deinit) X(gnutls_credentials_set) X(gnutls_server_name_set) \
	X(gnutls_transport_set_int2) X(gnutls_handshake) X(gnutls_record_get_direction) \
	X(gnutls_record_recv) X(gnutls_record_send) X(gnutls_record_check_pending) \
	X(gnutls_alert_send) X(gnutls_bye) X(gnutls_protocol_get_version) \
	X(gnutls_protocol_get_name) X(gnutls_cipher_get) X(gnutls_cipher_get_name) \
	X(gnutls_session_set_ptr) X(gnutls_session_get_ptr) X(gnutls_server_name_get) \
	X(gnutls_handshake_set_post_client_hello_function) \
	/* keys, hashes and signatures (store/dkim_key.c) */ \
	X(gnutls_x509_privkey_init) X(gnutls_x509_privkey_deinit) \
	X(gnutls_x509_privkey_generate) X(gnutls_x509_privkey_export2_pkcs8) \
	X(gnutls_privkey_init) X(gnutls_privkey_deinit) X(gnutls_privkey_import_x509_raw) \
	X(gnutls_privkey_get_pk_algorithm) X(gnutls_privkey_sign_data2) \
	X(gnutls_pubkey_init) X(gnutls_pubkey_deinit) X(gnutls_pubkey_import_privkey) \
	X(gnutls_pubkey_export2) X(gnutls_pubkey_export_ecc_raw) \
	X(gnutls_hash_init) X(gnutls_hash) X(gnutls_hash_deinit) X(gnutls_hash_fast) \
	/* DKIM verification (store/dkim_key.c) */ \
	X(gnutls_pubkey_import) X(gnutls_pubkey_import_ecc_raw) \
	X(gnutls_pubkey_get_pk_algorithm) X(gnutls_pubkey_verify_data2)

/* The functions: gtls->gnutls_init(...) is gnutls_init(...). */
struct gnutls_lib {
#define GNUTLS_LIB_MEMBER(name) __typeof__(name) *name;
	GNUTLS_LIB_FUNCTIONS(GNUTLS_LIB_MEMBER)
#undef GNUTLS_LIB_MEMBER
	gnutls_free_function free; /* gnutls_free is a variable, not a function */
};

/* Loads GnuTLS and every function above, once per process (thread-safe:
 * the threaded webmail server signs too). 0, or -1 with *error_r saying
 * why (missing, too old, a function lacking). */
int gnutls_lib_load(const char **error_r);
/* The table, to be used once gnutls_lib_load returned 0. */
extern const struct gnutls_lib *const gtls;

#endif
