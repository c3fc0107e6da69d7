/* TLS sessions with GnuTLS (see tls.h). GnuTLS is not linked: it is loaded
 * the first time TLS is actually used (store/gnutls_lib.h). One thread uses
 * this module (the handlers are single-threaded). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gnutls_lib.h"
#include "log.h"
#include "tls.h"
#include "tls_sni.h"

struct tls_creds {
	bool server;
	bool verify;
	gnutls_certificate_credentials_t cert;
	gnutls_priority_t priority;
	/* A server's credentials not parsed yet (tls_creds_server_prepare):
	 * the files' names (for messages), their bytes and the priority, for
	 * the first use. */
	char *cert_file, *key_file, *priority_string;
	gnutls_datum_t cert_pem, key_pem;
	/* tls_cert_dir: a certificate per SNI name, read at the handshake. */
	char *sni_dir;
};

/* A certificate chain or key file: far more than any real one. */
#define TLS_FILE_MAX (256 * 1024)

struct tls_session {
	gnutls_session_t session;
	bool server;
	char description[96];
	struct tls_creds *creds;
	/* The certificate chosen by the client's name, or NULL: the default. */
	gnutls_certificate_credentials_t sni_cert;
	char cert_name[TLS_SNI_DIR_NAME_SIZE];
};

static char tls_error_buf[512];

static const char *tls_error_set(const char *what, const char *detail, int ret)
{
	if (detail != NULL)
		snprintf(tls_error_buf, sizeof(tls_error_buf), "%s %s: %s", what, detail,
			 gtls->gnutls_strerror(ret));
	else
		snprintf(tls_error_buf, sizeof(tls_error_buf), "%s: %s", what, gtls->gnutls_strerror(ret));
	return tls_error_buf;
}

static int tls_priority_init(struct tls_creds *creds, const char *priority, const char **error_r)
{
	const char *err_pos = NULL;
	int ret;

	if (priority == NULL || *priority == '\0')
		priority = TLS_PRIORITY_DEFAULT;
	ret = gtls->gnutls_priority_init(&creds->priority, priority, &err_pos);
	if (ret < 0) {
		snprintf(tls_error_buf, sizeof(tls_error_buf),
			 "tls_priority \"%s\": %s at \"%s\"", priority, gtls->gnutls_strerror(ret),
			 err_pos != NULL ? err_pos : "");
		*error_r = tls_error_buf;
		creds->priority = NULL;
		return -1;
	}
	return 0;
}

/* The GnuTLS part of a server's credentials: certificate, key, priority. */
static int tls_creds_server_fill(struct tls_creds *creds, const char **error_r)
{
	int ret;

	if (gnutls_lib_load(error_r) < 0)
		return -1;
	ret = gtls->gnutls_certificate_allocate_credentials(&creds->cert);
	if (ret < 0) {
		creds->cert = NULL;
		*error_r = tls_error_set("TLS credentials", NULL, ret);
		return -1;
	}
	ret = gtls->gnutls_certificate_set_x509_key_mem2(creds->cert, &creds->cert_pem, &creds->key_pem,
						       GNUTLS_X509_FMT_PEM, NULL, 0);
	if (ret < 0) {
		char files[300];

		snprintf(files, sizeof(files), "%.140s / %.140s", creds->cert_file, creds->key_file);
		*error_r = tls_error_set("TLS certificate/key", files, ret);
		return -1;
	}
	return tls_priority_init(creds, creds->priority_string, error_r);
}

/* Forgets what a failed fill made, so that a later try starts clean. */
static void tls_creds_clear(struct tls_creds *creds)
{
	if (creds->priority != NULL)
		gtls->gnutls_priority_deinit(creds->priority);
	if (creds->cert != NULL)
		gtls->gnutls_certificate_free_credentials(creds->cert);
	creds->priority = NULL;
	creds->cert = NULL;
}

int tls_creds_server_load(const char *cert_file, const char *key_file, const char *priority,
			  struct tls_creds **creds_r, const char **error_r)
{
	if (tls_creds_server_prepare(cert_file, key_file, priority, creds_r, error_r) < 0)
		return -1;
	if (tls_creds_ready(*creds_r, error_r) < 0) {
		tls_creds_free(creds_r);
		return -1;
	}
	return 0;
}

/* The whole of a (small) file into *datum, or -1 with *error_r naming it
 * and errno set to why it could not be opened (0 for any other failure). */
static int tls_file_read(const char *what, const char *path, gnutls_datum_t *datum,
			 const char **error_r)
{
	/* O_NONBLOCK: a FIFO in the file's place must not hold the open (and
	 * the handshake) until a writer comes; it is refused as not regular */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	const char *why = NULL;
	unsigned char *data = NULL;
	size_t got = 0;
	int open_errno = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		open_errno = errno;
		why = strerror(errno);
	} else if (!S_ISREG(st.st_mode) || st.st_size > TLS_FILE_MAX)
		why = "not a regular file of at most 256 KiB";
	else if ((data = malloc((size_t)st.st_size + 1)) == NULL)
		why = "out of memory";
	while (why == NULL && got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			why = n < 0 ? strerror(errno) : "file shrank while read";
		else
			got += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	if (why != NULL) {
		if (data != NULL)
			explicit_bzero(data, got);
		free(data);
		snprintf(tls_error_buf, sizeof(tls_error_buf), "TLS %s %.300s: %s", what, path, why);
		*error_r = tls_error_buf;
		errno = open_errno; /* ENOENT: a missing file, for tls_sni_cert_load */
		return -1;
	}
	data[got] = '\0';
	datum->data = data;
	datum->size = (unsigned)got;
	return 0;
}

static void tls_datum_wipe(gnutls_datum_t *datum)
{
	if (datum->data != NULL)
		explicit_bzero(datum->data, datum->size);
	free(datum->data);
	datum->data = NULL;
	datum->size = 0;
}

int tls_creds_server_sni_dir(struct tls_creds *creds, const char *dir, const char **error_r)
{
	free(creds->sni_dir);
	creds->sni_dir = NULL;
	if (dir != NULL && (creds->sni_dir = strdup(dir)) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	return 0;
}

/* Parses a chain and key read from the certificate directory. */
static int tls_sni_cert_parse(const gnutls_datum_t *cert, const gnutls_datum_t *key,
			      const char *what, gnutls_certificate_credentials_t *cert_r,
			      const char **error_r)
{
	int ret = gtls->gnutls_certificate_allocate_credentials(cert_r);

	if (ret < 0) {
		*cert_r = NULL;
		*error_r = tls_error_set("TLS credentials", NULL, ret);
		return -1;
	}
	ret = gtls->gnutls_certificate_set_x509_key_mem2(*cert_r, cert, key, GNUTLS_X509_FMT_PEM,
						       NULL, 0);
	if (ret < 0) {
		gtls->gnutls_certificate_free_credentials(*cert_r);
		*cert_r = NULL;
		*error_r = tls_error_set("TLS certificate/key", what, ret);
		return -1;
	}
	return 0;
}

/* DIR/dir_name's chain and key into *cert_r: 1; 0 when there is no
 * certificate for that name; -1 with *error_r (unreadable, unparsable).
 * Read now, at each connection: a renewed certificate needs no reload. */
static int tls_sni_cert_load(const char *dir, const char *dir_name,
			     gnutls_certificate_credentials_t *cert_r, const char **error_r)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX];
	gnutls_datum_t cert = { NULL, 0 }, key = { NULL, 0 };
	int ret;

	*cert_r = NULL;
	if (tls_sni_paths(dir, dir_name, cert_path, key_path, sizeof(cert_path)) < 0) {
		*error_r = "the file names are too long";
		return -1;
	}
	if (tls_file_read("certificate", cert_path, &cert, error_r) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (tls_file_read("key", key_path, &key, error_r) < 0) {
		tls_datum_wipe(&cert);
		return -1;
	}
	ret = tls_sni_cert_parse(&cert, &key, cert_path, cert_r, error_r);
	tls_datum_wipe(&cert);
	tls_datum_wipe(&key);
	return ret < 0 ? -1 : 1;
}

/* Called by GnuTLS once the ClientHello is parsed: the certificate for the
 * name the client asked for, else its wildcard, else (no name, a name that
 * is not a host name, no such certificate, one that cannot be read) the
 * default one, already set. Never fails the handshake. */
static int tls_sni_hook(gnutls_session_t session)
{
	struct tls_session *s = gtls->gnutls_session_get_ptr(session);
	unsigned char raw[TLS_SNI_NAME_MAX + 1];
	char name[TLS_SNI_NAME_MAX + 1], wild[TLS_SNI_DIR_NAME_SIZE];
	const char *chosen = name, *error = NULL;
	size_t len = sizeof(raw);
	unsigned type = 0;
	int ret;

	/* A second ClientHello (TLS 1.3 HelloRetryRequest) names the same
	 * host: keep the certificate chosen for the first. */
	if (s->sni_cert != NULL)
		return 0;
	/* A name longer than raw's room is GNUTLS_E_SHORT_MEMORY_BUFFER. */
	if (gtls->gnutls_server_name_get(session, raw, &len, &type, 0) < 0 ||
	    type != GNUTLS_NAME_DNS || tls_sni_name_normalize(raw, len, name) < 0)
		return 0;
	ret = tls_sni_cert_load(s->creds->sni_dir, name, &s->sni_cert, &error);
	if (ret == 0 && tls_sni_wildcard_name(name, wild) == 0) {
		chosen = wild;
		ret = tls_sni_cert_load(s->creds->sni_dir, wild, &s->sni_cert, &error);
	}
	if (ret == 1) {
		int set = gtls->gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, s->sni_cert);

		if (set < 0) {
			error = tls_error_set("TLS credentials", NULL, set);
			ret = -1;
		}
	}
	if (ret < 0)
		log_error("TLS certificate for %s: %s (the default certificate is used)", chosen,
			  error);
	if (ret == 1)
		snprintf(s->cert_name, sizeof(s->cert_name), "%s", chosen);
	return 0;
}

int tls_creds_server_prepare(const char *cert_file, const char *key_file, const char *priority,
			     struct tls_creds **creds_r, const char **error_r)
{
	struct tls_creds *creds;

	*creds_r = NULL;
	if (cert_file == NULL || key_file == NULL) {
		*error_r = "tls_cert and tls_key must both be set";
		return -1;
	}
	creds = calloc(1, sizeof(*creds));
	if (creds == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	creds->server = true;
	if (tls_file_read("certificate", cert_file, &creds->cert_pem, error_r) < 0 ||
	    tls_file_read("key", key_file, &creds->key_pem, error_r) < 0) {
		tls_creds_free(&creds);
		return -1;
	}
	creds->cert_file = strdup(cert_file);
	creds->key_file = strdup(key_file);
	creds->priority_string = priority != NULL ? strdup(priority) : NULL;
	if (creds->cert_file == NULL || creds->key_file == NULL ||
	    (priority != NULL && creds->priority_string == NULL)) {
		tls_creds_free(&creds);
		*error_r = "out of memory";
		return -1;
	}
	*creds_r = creds;
	return 0;
}

int tls_creds_ready(struct tls_creds *creds, const char **error_r)
{
	if (creds->cert != NULL && creds->priority != NULL)
		return 0;
	if (creds->key_pem.data == NULL) {
		*error_r = "TLS credentials were not loaded";
		return -1;
	}
	if (tls_creds_server_fill(creds, error_r) < 0) {
		tls_creds_clear(creds);
		return -1;
	}
	return 0;
}

int tls_creds_client_new(const char *ca_file, bool verify, const char *priority,
			 struct tls_creds **creds_r, const char **error_r)
{
	struct tls_creds *creds;
	int ret;

	*creds_r = NULL;
	if (gnutls_lib_load(error_r) < 0)
		return -1;
	creds = calloc(1, sizeof(*creds));
	if (creds == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	creds->verify = verify;
	ret = gtls->gnutls_certificate_allocate_credentials(&creds->cert);
	if (ret < 0) {
		*error_r = tls_error_set("TLS credentials", NULL, ret);
		free(creds);
		return -1;
	}
	if (verify || ca_file != NULL) {
		if (ca_file != NULL)
			ret = gtls->gnutls_certificate_set_x509_trust_file(creds->cert, ca_file,
								     GNUTLS_X509_FMT_PEM);
		else
			ret = gtls->gnutls_certificate_set_x509_system_trust(creds->cert);
		if (ret <= 0 && verify) {
			*error_r = tls_error_set("TLS trust anchors",
						 ca_file != NULL ? ca_file : "(system)",
						 ret == 0 ? GNUTLS_E_NO_CERTIFICATE_FOUND : ret);
			tls_creds_free(&creds);
			return -1;
		}
	}
	if (tls_priority_init(creds, priority, error_r) < 0) {
		tls_creds_free(&creds);
		return -1;
	}
	*creds_r = creds;
	return 0;
}

void tls_creds_free(struct tls_creds **creds)
{
	if (*creds == NULL)
		return;
	tls_creds_clear(*creds);
	free((*creds)->cert_file);
	free((*creds)->key_file);
	free((*creds)->priority_string);
	free((*creds)->sni_dir);
	tls_datum_wipe(&(*creds)->cert_pem);
	tls_datum_wipe(&(*creds)->key_pem);
	free(*creds);
	*creds = NULL;
}

int tls_session_new(struct tls_creds *creds, bool server, int fd_in, int fd_out,
		    const char *server_name, struct tls_session **session_r,
		    const char **error_r)
{
	struct tls_session *s;
	int ret;

	*session_r = NULL;
	if (server != creds->server) {
		*error_r = "TLS credentials are for the other side";
		return -1;
	}
	if (tls_creds_ready(creds, error_r) < 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	s->server = server;
	ret = gtls->gnutls_init(&s->session, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK);
	if (ret < 0) {
		*error_r = tls_error_set("TLS session", NULL, ret);
		free(s);
		return -1;
	}
	ret = gtls->gnutls_priority_set(s->session, creds->priority);
	if (ret >= 0)
		ret = gtls->gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, creds->cert);
	if (ret >= 0 && !server && server_name != NULL)
		ret = gtls->gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, server_name,
					     strlen(server_name));
	if (ret < 0) {
		*error_r = tls_error_set("TLS session", NULL, ret);
		tls_session_free(&s);
		return -1;
	}
	if (server && creds->sni_dir != NULL) {
		s->creds = creds;
		gtls->gnutls_session_set_ptr(s->session, s);
		gtls->gnutls_handshake_set_post_client_hello_function(s->session, tls_sni_hook);
	}
	if (server)
		gtls->gnutls_certificate_server_set_request(s->session, GNUTLS_CERT_IGNORE);
	else if (creds->verify)
		gtls->gnutls_session_set_verify_cert(s->session, server_name, 0);
	gtls->gnutls_transport_set_int2(s->session, fd_in, fd_out);
	*session_r = s;
	return 0;
}

/* GNUTLS_E_AGAIN / INTERRUPTED → which way the fd must become ready. */
static int tls_want(struct tls_session *s)
{
	return gtls->gnutls_record_get_direction(s->session) == 0 ? TLS_WANT_READ : TLS_WANT_WRITE;
}

int tls_session_handshake(struct tls_session *s, const char **error_r)
{
	int ret = gtls->gnutls_handshake(s->session);

	if (ret == GNUTLS_E_SUCCESS) {
		const char *proto = gtls->gnutls_protocol_get_name(gtls->gnutls_protocol_get_version(s->session));
		const char *cipher = gtls->gnutls_cipher_get_name(gtls->gnutls_cipher_get(s->session));

		snprintf(s->description, sizeof(s->description), "%s/%s",
			 proto != NULL ? proto : "?", cipher != NULL ? cipher : "?");
		return 1;
	}
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return tls_want(s);
	if (!gtls->gnutls_error_is_fatal(ret) && ret != GNUTLS_E_WARNING_ALERT_RECEIVED)
		return tls_want(s);
	if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		gnutls_datum_t out = { NULL, 0 };
		unsigned status = gtls->gnutls_session_get_verify_cert_status(s->session);

		if (gtls->gnutls_certificate_verification_status_print(
			    status, gtls->gnutls_certificate_type_get(s->session), &out, 0) == 0) {
			snprintf(tls_error_buf, sizeof(tls_error_buf), "TLS handshake: %s",
				 (const char *)out.data);
			gtls->free(out.data);
			*error_r = tls_error_buf;
			return -1;
		}
	}
	*error_r = tls_error_set("TLS handshake", NULL, ret);
	return -1;
}

ssize_t tls_session_read(struct tls_session *s, void *buf, size_t len, const char **error_r)
{
	ssize_t ret = gtls->gnutls_record_recv(s->session, buf, len);

	if (ret >= 0)
		return ret;
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return tls_want(s);
	if (ret == GNUTLS_E_PREMATURE_TERMINATION)
		return 0; /* a bare TCP close: the protocol sees EOF either way */
	if (ret == GNUTLS_E_REHANDSHAKE) {
		/* We never renegotiate (TLS 1.3 has none; 1.2 renegotiation is
		 * refused with a warning alert and the session goes on). */
		gtls->gnutls_alert_send(s->session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
		return tls_want(s);
	}
	if (!gtls->gnutls_error_is_fatal((int)ret))
		return tls_want(s);
	*error_r = tls_error_set("TLS read", NULL, (int)ret);
	return -1;
}

ssize_t tls_session_write(struct tls_session *s, const void *buf, size_t len,
			  const char **error_r)
{
	ssize_t ret = gtls->gnutls_record_send(s->session, buf, len);

	if (ret >= 0)
		return ret;
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return tls_want(s);
	*error_r = tls_error_set("TLS write", NULL, (int)ret);
	return -1;
}

size_t tls_session_pending(struct tls_session *s)
{
	return gtls->gnutls_record_check_pending(s->session);
}

void tls_session_bye(struct tls_session *s)
{
	/* Non-blocking: one try; a peer that is not reading gets no alert. */
	(void)gtls->gnutls_bye(s->session, GNUTLS_SHUT_WR);
}

const char *tls_session_description(struct tls_session *s)
{
	return s->description;
}

const char *tls_session_cert_name(struct tls_session *s)
{
	return s->cert_name[0] != '\0' ? s->cert_name : "default";
}

void tls_session_free(struct tls_session **session)
{
	if (*session == NULL)
		return;
	if ((*session)->session != NULL)
		gtls->gnutls_deinit((*session)->session);
	/* after the session that used it */
	if ((*session)->sni_cert != NULL)
		gtls->gnutls_certificate_free_credentials((*session)->sni_cert);
	free(*session);
	*session = NULL;
}
