/* The services mail clients are told about (setup.h). */
#include <string.h>

#include "setup.h"
#include "store.h"

size_t setup_services(const struct config *config, struct setup_service out[SETUP_SERVICES_MAX])
{
	const struct {
		enum setup_proto proto;
		unsigned tls_port, starttls_port;
	} rows[] = {
		{ SETUP_IMAP, config->imaps_port, config->imap_port },
		{ SETUP_POP3, config->pop3s_port, config->pop3_port },
		{ SETUP_SMTP, config->smtps_port, config->submission_port },
	};
	/* without a certificate the handlers offer no TLS at all */
	bool tls = config->tls_cert != NULL && config->tls_key != NULL;
	size_t n = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (tls && rows[i].tls_port != 0)
			out[n++] = (struct setup_service){ rows[i].proto, SETUP_SSL, rows[i].tls_port };
		if (rows[i].starttls_port != 0)
			out[n++] = (struct setup_service){ rows[i].proto,
							   tls ? SETUP_STARTTLS : SETUP_PLAIN,
							   rows[i].starttls_port };
	}
	return n;
}

const struct setup_service *setup_preferred(const struct setup_service *s, size_t n,
					    enum setup_proto proto)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i].proto == proto)
			return &s[i];
	}
	return NULL;
}

const char *setup_hostname(const struct config *config)
{
	return config->public_hostname != NULL ? config->public_hostname : config->hostname;
}

const char *setup_proto_name(enum setup_proto proto)
{
	return proto == SETUP_IMAP ? "IMAP" : proto == SETUP_POP3 ? "POP3" : "SMTP";
}

const char *setup_security_name(enum setup_security security)
{
	return security == SETUP_SSL ? "SSL/TLS" : security == SETUP_STARTTLS ? "STARTTLS" : "None";
}

bool setup_address_domain(const char *address, char *domain, size_t size)
{
	size_t len = strlen(address);
	const char *at = strrchr(address, '@');
	if (len > STORE_ADDRESS_MAX || at == NULL || at == address || at - address > 64)
		return false;
	/* the local part: printable ASCII without the characters that would
	 * need quoting or could end a header (we only echo it back) */
	for (const char *s = address; s < at; s++) {
		if (*s <= ' ' || *s >= 0x7f || strchr("\"(),:;<>@[\\]", *s) != NULL)
			return false;
	}
	size_t dlen = len - (size_t)(at + 1 - address);
	if (dlen == 0 || at[dlen] == '.' || !config_dns_name_valid(at + 1, dlen) || dlen >= size)
		return false;
	for (size_t i = 0; i <= dlen; i++) {
		char c = at[1 + i];
		domain[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	return true;
}
