/* Automatic mail client set-up, no sign-in needed, for local domains only:
 *  - Thunderbird's autoconfig (clientConfig v1.1), GET
 *    /.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=A and
 *    /mail/config-v1.1.xml?emailaddress=A (the autoconfig.DOMAIN host);
 *  - Outlook's autodiscover ([MS-OXDSCLI], the outlook 2006a response
 *    schema), POST /autodiscover/autodiscover.xml with the request in XML.
 * Both tell what setup.h says; no user's existence is revealed (any
 * address of a local domain gets the same answer). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "autodiscover.h"
#include "log.h"
#include "setup.h"
#include "xmlout.h"

#define AUTODISCOVER_NS "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"

/* ---------------------------------------------------------------- domains */

struct one_domain {
	char name[256];
	unsigned count;
};

static int one_domain_cb(const char *domain, void *ctx)
{
	struct one_domain *d = ctx;
	if (d->count++ == 0)
		snprintf(d->name, sizeof(d->name), "%s", domain);
	return d->count > 1;
}

/* 1 local, 0 not, -1 store error (logged). */
static int domain_local(struct ctx *c, const char *domain)
{
	const char *error;
	int r = store_domain_is_local(c->store, domain, &error);
	if (r < 0)
		log_error("webmail: autoconfig: %s", error);
	return r < 0 ? -1 : r > 0;
}

/* ---------------------------------------------------------------- autoconfig */

static const char *socket_type(enum setup_security s)
{
	return s == SETUP_SSL ? "SSL" : s == SETUP_STARTTLS ? "STARTTLS" : "plain";
}

static void autoconfig_server(struct xml *x, const char *host, const struct setup_service *s)
{
	static const char *const types[] = { "imap", "pop3", "smtp" };
	xml_open(x, s->proto == SETUP_SMTP ? "outgoingServer" : "incomingServer",
		 (const char *const[]){ "type", types[s->proto], NULL });
	xml_elem(x, "hostname", host);
	xml_elem_uint(x, "port", s->port);
	xml_elem(x, "socketType", socket_type(s->security));
	xml_elem(x, "username", "%EMAILADDRESS%");
	xml_elem(x, "authentication", "password-cleartext");
	xml_close(x);
}

void page_autoconfig(struct ctx *c)
{
	const char *address = ctx_query(c, "emailaddress");
	char domain[256];
	if (address != NULL) {
		if (!setup_address_domain(address, domain, sizeof(domain))) {
			page_error(c, 400, "The emailaddress parameter is not a mail address.");
			return;
		}
		int r = domain_local(c, domain);
		if (r <= 0) {
			if (r < 0)
				page_store_error(c, "autoconfig", "see above");
			else
				page_error(c, 404, "This server does not handle mail for that domain.");
			return;
		}
	} else {
		/* a client that keeps the address to itself: fine when there
		 * is only one domain to answer for */
		struct one_domain d = { .count = 0 };
		const char *error;
		if (store_domain_list(c->store, one_domain_cb, &d, &error) < 0) {
			page_store_error(c, "autoconfig", error);
			return;
		}
		if (d.count != 1) {
			page_error(c, 404, "Add ?emailaddress= with your address.");
			return;
		}
		snprintf(domain, sizeof(domain), "%s", d.name);
	}

	struct setup_service s[SETUP_SERVICES_MAX];
	size_t n = setup_services(c->wm->config, s);
	const char *host = setup_hostname(c->wm->config);
	struct xml x;
	buf_reset(&c->resp->body);
	xml_begin(&x, &c->resp->body, NULL);
	xml_open(&x, "clientConfig", (const char *const[]){ "version", "1.1", NULL });
	xml_open(&x, "emailProvider", (const char *const[]){ "id", domain, NULL });
	xml_elem(&x, "domain", domain);
	xml_elem(&x, "displayName", arena_printf(c->a, "Mail for %s", domain));
	xml_elem(&x, "displayShortName", domain);
	for (size_t i = 0; i < n; i++) {
		if (s[i].proto != SETUP_SMTP)
			autoconfig_server(&x, host, &s[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i].proto == SETUP_SMTP)
			autoconfig_server(&x, host, &s[i]);
	}
	xml_close(&x);
	xml_close(&x);
	if (xml_finish(&x) < 0) {
		buf_reset(&c->resp->body);
		page_error(c, 500, "The configuration could not be written.");
		return;
	}
	http_header_add(c->resp, c->a, "Content-Type", "application/xml; charset=utf-8");
	http_header_add(c->resp, c->a, "Cache-Control", "max-age=3600");
}

/* ---------------------------------------------------------------- autodiscover */

/* An error response ([MS-OXDSCLI] 2.2.4.1.1.3); `outlook`: inside the
 * outlook response schema's Response (the request asked for it). */
static void autodiscover_error(struct ctx *c, int status, int code, const char *message,
			       bool outlook)
{
	char when[16];
	time_t now = (time_t)c->now;
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL)
		tm = (struct tm){ 0 };
	snprintf(when, sizeof(when), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	/* "a hash of the server's name": FNV-1a of ours */
	uint32_t h = 2166136261u;
	for (const char *p = setup_hostname(c->wm->config); *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	struct xml x;
	buf_reset(&c->resp->body);
	xml_begin(&x, &c->resp->body, NULL);
	xml_open(&x, "Autodiscover", (const char *const[]){ "xmlns", AUTODISCOVER_NS, NULL });
	xml_open(&x, "Response", outlook ? (const char *const[]){ "xmlns",
		 AUTODISCOVER_SCHEMA_OUTLOOK, NULL } : NULL);
	xml_open(&x, "Error", (const char *const[]){ "Time", when, "Id",
		 arena_printf(c->a, "%u", (unsigned)h), NULL });
	xml_elem_uint(&x, "ErrorCode", (unsigned long)code);
	xml_elem(&x, "Message", message);
	xml_empty(&x, "DebugData");
	xml_close(&x);
	xml_close(&x);
	xml_close(&x);
	c->resp->status = status;
	http_header_add(c->resp, c->a, "Content-Type", "text/xml; charset=utf-8");
	http_header_add(c->resp, c->a, "Cache-Control", "no-store");
}

static void autodiscover_protocol(struct xml *x, const char *host, const char *login,
				  const struct setup_service *s)
{
	xml_open(x, "Protocol", NULL);
	xml_elem(x, "Type", setup_proto_name(s->proto));
	xml_elem(x, "Server", host);
	xml_elem_uint(x, "Port", s->port);
	xml_elem(x, "DomainRequired", "off");
	xml_elem(x, "LoginName", login);
	xml_elem(x, "SPA", "off");
	xml_elem(x, "SSL", s->security == SETUP_PLAIN ? "off" : "on");
	if (s->security == SETUP_STARTTLS)
		xml_elem(x, "Encryption", "TLS");
	xml_elem(x, "AuthRequired", "on");
	if (s->proto == SETUP_SMTP) {
		xml_elem(x, "UsePOPAuth", "off");
		xml_elem(x, "SMTPLast", "off");
	}
	xml_close(x);
}

void page_autodiscover(struct ctx *c)
{
	struct autodiscover_request r;
	const char *error;
	char domain[256];
	if (c->req->xml == NULL) {
		autodiscover_error(c, 400, 600, "Invalid Request", false);
		return;
	}
	if (autodiscover_parse(c->req->xml, c->req->xml_len, &r, &error) < 0) {
		log_info("webmail: autodiscover: bad request: %s", error);
		autodiscover_error(c, 400, 600, "Invalid Request", false);
		return;
	}
	if (strcmp(r.schema, AUTODISCOVER_SCHEMA_OUTLOOK) != 0) {
		/* mobilesync and other schemas: not a provider we have */
		autodiscover_error(c, 200, 601, "Provider is not available", false);
		return;
	}
	if (!setup_address_domain(r.email, domain, sizeof(domain))) {
		autodiscover_error(c, 400, 600, "Invalid Request", true);
		return;
	}
	int local = domain_local(c, domain);
	if (local <= 0) {
		if (local < 0)
			autodiscover_error(c, 503, 603, "Internal Server Error", true);
		else
			autodiscover_error(c, 200, 500, "The e-mail address cannot be found.", true);
		return;
	}
	struct setup_service s[SETUP_SERVICES_MAX];
	size_t n = setup_services(c->wm->config, s);
	const char *host = setup_hostname(c->wm->config);
	struct xml x;
	buf_reset(&c->resp->body);
	xml_begin(&x, &c->resp->body, NULL);
	xml_open(&x, "Autodiscover", (const char *const[]){ "xmlns", AUTODISCOVER_NS, NULL });
	xml_open(&x, "Response", (const char *const[]){ "xmlns", AUTODISCOVER_SCHEMA_OUTLOOK, NULL });
	xml_open(&x, "Account", NULL);
	xml_elem(&x, "AccountType", "email");
	xml_elem(&x, "Action", "settings");
	/* the preferred service of each protocol: Outlook takes the first */
	for (enum setup_proto p = SETUP_IMAP; p <= SETUP_SMTP; p++) {
		const struct setup_service *one = setup_preferred(s, n, p);
		if (one != NULL)
			autodiscover_protocol(&x, host, r.email, one);
	}
	xml_close(&x);
	xml_close(&x);
	xml_close(&x);
	if (xml_finish(&x) < 0) {
		autodiscover_error(c, 500, 603, "Internal Server Error", true);
		return;
	}
	http_header_add(c->resp, c->a, "Content-Type", "text/xml; charset=utf-8");
	http_header_add(c->resp, c->a, "Cache-Control", "no-store");
}
