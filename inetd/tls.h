/* TLS with GnuTLS: the only file that includes <gnutls/gnutls.h>.
 *
 * GnuTLS itself is loaded (dlopen) the first time it is needed, so that a
 * plaintext session never pays for it. Credentials (a certificate and key
 * for a server, trust anchors for a client) and the priority string are
 * loaded once per process: a handler prepares them before the first client
 * byte is read (the files must be readable then) and they are loaded at the
 * first TLS session (STARTTLS, implicit TLS). Sessions run over non-blocking fds and never
 * wait: every call returns TLS_WANT_READ / TLS_WANT_WRITE when it needs the
 * fd to become ready, and the caller (conn.c) polls with its deadline and
 * calls again with the SAME arguments. */
#ifndef PB_TLS_H
#define PB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tls_creds;
struct tls_session;

/* Returned by the session calls below instead of blocking. */
#define TLS_WANT_READ (-2)
#define TLS_WANT_WRITE (-3)

/* The default when a caller has no priority string: TLS 1.2 and 1.3 only. */
#define TLS_PRIORITY_DEFAULT "SECURE192:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* Reads and parses a PEM certificate chain and its key, and `priority`
 * (NULL = TLS_PRIORITY_DEFAULT): tls_creds_server_prepare, then
 * tls_creds_ready. 0, or -1 with *error_r naming the file. */
int tls_creds_server_load(const char *cert_file, const char *key_file, const char *priority,
			  struct tls_creds **creds_r, const char **error_r);

/* Client credentials. `ca_file` is a PEM bundle of trust anchors, NULL for
 * the system's. With `verify` false the peer certificate is not checked
 * (opportunistic STARTTLS of the relay); with true the handshake fails
 * unless the chain verifies and matches the server name given to
 * tls_session_new(). 0 or -1 with *error_r. */
int tls_creds_client_new(const char *ca_file, bool verify, const char *priority,
			 struct tls_creds **creds_r, const char **error_r);

/* Reads both files now (before a handler started as root switches users,
 * so the key may be root's alone; a missing or unreadable file is reported
 * at start) and keeps their bytes: GnuTLS is loaded, they are parsed and
 * `priority` checked by tls_creds_ready(), or by the first
 * tls_session_new(). A key that does not parse is thus reported by the
 * first STARTTLS, not at start. The key's bytes are wiped when freed.
 * 0, or -1 with *error_r naming the file. */
int tls_creds_server_prepare(const char *cert_file, const char *key_file, const char *priority,
			     struct tls_creds **creds_r, const char **error_r);

/* Server credentials that choose a certificate by the client's name (SNI):
 * at each handshake, DIR/NAME/fullchain.pem and DIR/NAME/privkey.pem
 * (tls_sni.h: NAME checked and lowercased, then _wildcard.PARENT), read
 * then, as the user the process runs as by then; the prepared ones are the
 * default, used without SNI, for an unknown name, or when the name's files
 * cannot be read or parsed (logged through the log hook). `dir` NULL: the
 * default alone. 0, or -1 with *error_r. */
int tls_creds_server_sni_dir(struct tls_creds *creds, const char *dir, const char **error_r);

/* Loads prepared credentials now (a no-op for loaded ones): a STARTTLS
 * command calls it before answering that TLS may begin, so that broken
 * credentials give an error reply instead of a dropped connection. A
 * failure may be retried. 0, or -1 with *error_r. */
int tls_creds_ready(struct tls_creds *creds, const char **error_r);

void tls_creds_free(struct tls_creds **creds);

/* A session over fd_in/fd_out (non-blocking). `server` must match the
 * credentials' side; prepared credentials are loaded first (tls_creds_ready).
 * `server_name` (client only, may be NULL) is sent as
 * SNI and is the name verified. 0 or -1 with *error_r. */
int tls_session_new(struct tls_creds *creds, bool server, int fd_in, int fd_out,
		    const char *server_name, struct tls_session **session_r,
		    const char **error_r);

/* 1 handshake complete, TLS_WANT_READ/WRITE, -1 failure (*error_r, for the
 * log: a client that is not speaking TLS, a failed verification...). */
int tls_session_handshake(struct tls_session *session, const char **error_r);

/* > 0 bytes, 0 the peer closed (close_notify or a bare TCP close),
 * TLS_WANT_READ/WRITE, -1 error. */
ssize_t tls_session_read(struct tls_session *session, void *buf, size_t len,
			 const char **error_r);
/* > 0 bytes written (possibly fewer than len), TLS_WANT_READ/WRITE (call
 * again with the same buf and len), -1 error. */
ssize_t tls_session_write(struct tls_session *session, const void *buf, size_t len,
			  const char **error_r);

/* Decrypted bytes GnuTLS holds that poll() on the fd cannot see. */
size_t tls_session_pending(struct tls_session *session);

/* Sends close_notify without waiting for the peer's (best effort). */
void tls_session_bye(struct tls_session *session);

/* "TLS1.3/AES-256-GCM" (protocol and cipher, no spaces: it goes into k=v
 * log fields) after the handshake. */
const char *tls_session_description(struct tls_session *session);

/* The server certificate presented: the directory name under tls_cert_dir
 * ("mail.example.com", "_wildcard.example.com") or "default". */
const char *tls_session_cert_name(struct tls_session *session);

void tls_session_free(struct tls_session **session);

#endif
