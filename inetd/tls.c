/* TLS with GnuTLS (see tls.h): the one file that includes <gnutls/gnutls.h>. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "tls.h"

struct tls_creds {
	bool server;
	bool verify;
	gnutls_certificate_credentials_t cert;
	gnutls_priority_t priority;
};

struct tls_session {
	gnutls_session_t session;
	bool server;
	char description[96];
};

static char tls_error_buf[512];

static const char *tls_error_set(const char *what, const char *detail, int ret)
{
	if (detail != NULL)
		snprintf(tls_error_buf, sizeof(tls_error_buf), "%s %s: %s", what, detail,
			 gnutls_strerror(ret));
	else
		snprintf(tls_error_buf, sizeof(tls_error_buf), "%s: %s", what, gnutls_strerror(ret));
	return tls_error_buf;
}

static int tls_priority_init(struct tls_creds *creds, const char *priority, const char **error_r)
{
	const char *err_pos = NULL;
	int ret;

	if (priority == NULL || *priority == '\0')
		priority = TLS_PRIORITY_DEFAULT;
	ret = gnutls_priority_init(&creds->priority, priority, &err_pos);
	if (ret < 0) {
		snprintf(tls_error_buf, sizeof(tls_error_buf),
			 "tls_priority \"%s\": %s at \"%s\"", priority, gnutls_strerror(ret),
			 err_pos != NULL ? err_pos : "");
		*error_r = tls_error_buf;
		creds->priority = NULL;
		return -1;
	}
	return 0;
}

int tls_creds_server_load(const char *cert_file, const char *key_file, const char *priority,
			  struct tls_creds **creds_r, const char **error_r)
{
	struct tls_creds *creds;
	int ret;

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
	ret = gnutls_certificate_allocate_credentials(&creds->cert);
	if (ret < 0) {
		*error_r = tls_error_set("TLS credentials", NULL, ret);
		free(creds);
		return -1;
	}
	ret = gnutls_certificate_set_x509_key_file2(creds->cert, cert_file, key_file,
						    GNUTLS_X509_FMT_PEM, NULL, 0);
	if (ret < 0) {
		char files[300];

		snprintf(files, sizeof(files), "%.140s / %.140s", cert_file, key_file);
		*error_r = tls_error_set("TLS certificate/key", files, ret);
		tls_creds_free(&creds);
		return -1;
	}
	if (tls_priority_init(creds, priority, error_r) < 0) {
		tls_creds_free(&creds);
		return -1;
	}
	*creds_r = creds;
	return 0;
}

int tls_creds_client_new(const char *ca_file, bool verify, const char *priority,
			 struct tls_creds **creds_r, const char **error_r)
{
	struct tls_creds *creds;
	int ret;

	*creds_r = NULL;
	creds = calloc(1, sizeof(*creds));
	if (creds == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	creds->verify = verify;
	ret = gnutls_certificate_allocate_credentials(&creds->cert);
	if (ret < 0) {
		*error_r = tls_error_set("TLS credentials", NULL, ret);
		free(creds);
		return -1;
	}
	if (verify || ca_file != NULL) {
		if (ca_file != NULL)
			ret = gnutls_certificate_set_x509_trust_file(creds->cert, ca_file,
								     GNUTLS_X509_FMT_PEM);
		else
			ret = gnutls_certificate_set_x509_system_trust(creds->cert);
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
	if ((*creds)->priority != NULL)
		gnutls_priority_deinit((*creds)->priority);
	if ((*creds)->cert != NULL)
		gnutls_certificate_free_credentials((*creds)->cert);
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
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	s->server = server;
	ret = gnutls_init(&s->session, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK);
	if (ret < 0) {
		*error_r = tls_error_set("TLS session", NULL, ret);
		free(s);
		return -1;
	}
	ret = gnutls_priority_set(s->session, creds->priority);
	if (ret >= 0)
		ret = gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, creds->cert);
	if (ret >= 0 && !server && server_name != NULL)
		ret = gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, server_name,
					     strlen(server_name));
	if (ret < 0) {
		*error_r = tls_error_set("TLS session", NULL, ret);
		tls_session_free(&s);
		return -1;
	}
	if (server)
		gnutls_certificate_server_set_request(s->session, GNUTLS_CERT_IGNORE);
	else if (creds->verify)
		gnutls_session_set_verify_cert(s->session, server_name, 0);
	gnutls_transport_set_int2(s->session, fd_in, fd_out);
	*session_r = s;
	return 0;
}

/* GNUTLS_E_AGAIN / INTERRUPTED → which way the fd must become ready. */
static int tls_want(struct tls_session *s)
{
	return gnutls_record_get_direction(s->session) == 0 ? TLS_WANT_READ : TLS_WANT_WRITE;
}

int tls_session_handshake(struct tls_session *s, const char **error_r)
{
	int ret = gnutls_handshake(s->session);

	if (ret == GNUTLS_E_SUCCESS) {
		const char *proto = gnutls_protocol_get_name(gnutls_protocol_get_version(s->session));
		const char *cipher = gnutls_cipher_get_name(gnutls_cipher_get(s->session));

		snprintf(s->description, sizeof(s->description), "%s/%s",
			 proto != NULL ? proto : "?", cipher != NULL ? cipher : "?");
		return 1;
	}
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return tls_want(s);
	if (!gnutls_error_is_fatal(ret) && ret != GNUTLS_E_WARNING_ALERT_RECEIVED)
		return tls_want(s);
	if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		gnutls_datum_t out = { NULL, 0 };
		unsigned status = gnutls_session_get_verify_cert_status(s->session);

		if (gnutls_certificate_verification_status_print(
			    status, gnutls_certificate_type_get(s->session), &out, 0) == 0) {
			snprintf(tls_error_buf, sizeof(tls_error_buf), "TLS handshake: %s",
				 (const char *)out.data);
			gnutls_free(out.data);
			*error_r = tls_error_buf;
			return -1;
		}
	}
	*error_r = tls_error_set("TLS handshake", NULL, ret);
	return -1;
}

ssize_t tls_session_read(struct tls_session *s, void *buf, size_t len, const char **error_r)
{
	ssize_t ret = gnutls_record_recv(s->session, buf, len);

	if (ret >= 0)
		return ret;
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return tls_want(s);
	if (ret == GNUTLS_E_PREMATURE_TERMINATION)
		return 0; /* a bare TCP close: the protocol sees EOF either way */
	if (ret == GNUTLS_E_REHANDSHAKE) {
		/* We never renegotiate (TLS 1.3 has none; 1.2 renegotiation is
		 * refused with a warning alert and the session goes on). */
		gnutls_alert_send(s->session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
		return tls_want(s);
	}
	if (!gnutls_error_is_fatal((int)ret))
		return tls_want(s);
	*error_r = tls_error_set("TLS read", NULL, (int)ret);
	return -1;
}

ssize_t tls_session_write(struct tls_session *s, const void *buf, size_t len,
			  const char **error_r)
{
	ssize_t ret = gnutls_record_send(s->session, buf, len);

	if (ret >= 0)
		return ret;
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return tls_want(s);
	*error_r = tls_error_set("TLS write", NULL, (int)ret);
	return -1;
}

size_t tls_session_pending(struct tls_session *s)
{
	return gnutls_record_check_pending(s->session);
}

void tls_session_bye(struct tls_session *s)
{
	/* Non-blocking: one try; a peer that is not reading gets no alert. */
	(void)gnutls_bye(s->session, GNUTLS_SHUT_WR);
}

const char *tls_session_description(struct tls_session *s)
{
	return s->description;
}

void tls_session_free(struct tls_session **session)
{
	if (*session == NULL)
		return;
	if ((*session)->session != NULL)
		gnutls_deinit((*session)->session);
	free(*session);
	*session = NULL;
}
