/* The client set-up page (server names, ports, security, user name for
 * IMAP, POP3 and SMTP submission) and the Apple configuration profile, both
 * for the signed-in user, from the configuration (setup.h). */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "setup.h"
#include "xmlout.h"

#define PLIST_DOCTYPE "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" " \
	"\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">"

static const char *const proto_ids[] = { "imap", "pop3", "smtp" };
static const char *const security_ids[] = { "ssl", "starttls", "plain" };

void page_setup(struct ctx *c)
{
	const struct config *config = c->wm->config;
	struct setup_service s[SETUP_SERVICES_MAX];
	size_t n = setup_services(config, s);
	const char *host = setup_hostname(config);
	if (ctx_folders(c, 0) < 0)
		return;
	tpl_list(c->data, "incoming");
	tpl_list(c->data, "outgoing");
	for (size_t i = 0; i < n; i++) {
		struct tpl_obj *it = tpl_item(c->data, s[i].proto == SETUP_SMTP ? "outgoing"
									: "incoming");
		tpl_str(it, "id", arena_printf(c->a, "%s-%s", proto_ids[s[i].proto],
					       security_ids[s[i].security]));
		tpl_str(it, "proto", setup_proto_name(s[i].proto));
		tpl_str(it, "host", host);
		tpl_int(it, "port", s[i].port);
		tpl_str(it, "security", setup_security_name(s[i].security));
		/* the first of each list: IMAP before POP3, TLS before STARTTLS */
		tpl_bool(it, "preferred", s[i].proto == SETUP_SMTP
					  ? setup_preferred(s, n, SETUP_SMTP) == &s[i]
					  : i == 0);
	}
	/* filters: Thunderbird's Sieve add-on and the like (managesieved) */
	tpl_list(c->data, "filters");
	if (config->managesieve_port != 0) {
		bool tls = config->tls_cert != NULL && config->tls_key != NULL;
		struct tpl_obj *it = tpl_item(c->data, "filters");
		tpl_str(it, "id", tls ? "sieve-starttls" : "sieve-plain");
		tpl_str(it, "host", host);
		tpl_int(it, "port", config->managesieve_port);
		tpl_str(it, "security", setup_security_name(tls ? SETUP_STARTTLS : SETUP_PLAIN));
	}
	tpl_bool(c->data, "nav_setup", true);
	tpl_bool(c->data, "tls", config->tls_cert != NULL && config->tls_key != NULL);
	tpl_bool(c->data, "profile", setup_preferred(s, n, SETUP_IMAP) != NULL &&
				     setup_preferred(s, n, SETUP_SMTP) != NULL);
	page_render(c, "setup", "Set up a mail app");
}

/* ---------------------------------------------------------------- profile */

/* A random (version 4) UUID in upper case, as Apple's tools write them. */
static const char *uuid_new(struct ctx *c)
{
	uint8_t b[16];
	const char *error;
	if (store_random(b, sizeof(b), &error) < 0) {
		log_error("webmail: profile: %s", error);
		return NULL;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	return arena_printf(c->a, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
			    "%02X%02X%02X%02X%02X%02X", b[0], b[1], b[2], b[3], b[4], b[5], b[6],
			    b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* "mail.example.com" -> "com.example.mail": the reverse-DNS prefix of the
 * profile's identifiers (one per account, so a new download replaces the
 * installed profile instead of adding a second one). */
static const char *reverse_dns(struct ctx *c, const char *host)
{
	size_t len = strlen(host);
	char *r = arena_alloc(c->a, len + 1);
	if (r == NULL)
		return NULL;
	size_t o = 0, end = len;
	while (end > 0) {
		size_t start = end;
		while (start > 0 && host[start - 1] != '.')
			start--;
		if (o > 0)
			r[o++] = '.';
		memcpy(r + o, host + start, end - start);
		o += end - start;
		end = start > 0 ? start - 1 : 0;
	}
	r[o] = '\0';
	return r;
}

static void plist_str(struct xml *x, const char *key, const char *value)
{
	xml_elem(x, "key", key);
	xml_elem(x, "string", value);
}

static void plist_int(struct xml *x, const char *key, unsigned value)
{
	xml_elem(x, "key", key);
	xml_elem_uint(x, "integer", value);
}

static void plist_bool(struct xml *x, const char *key, bool value)
{
	xml_elem(x, "key", key);
	xml_empty(x, value ? "true" : "false");
}

/* A com.apple.mail.managed payload ("Configuration Profile Reference"):
 * IMAP in, SMTP out, the address as user name for both, no password (the
 * device asks for it when the profile is installed). */
void page_mobileconfig(struct ctx *c)
{
	const struct config *config = c->wm->config;
	struct setup_service s[SETUP_SERVICES_MAX];
	size_t n = setup_services(config, s);
	const struct setup_service *in = setup_preferred(s, n, SETUP_IMAP);
	const struct setup_service *out = setup_preferred(s, n, SETUP_SMTP);
	if (in == NULL || out == NULL) {
		page_error(c, 404, "This server offers no IMAP or no SMTP submission port.");
		return;
	}
	const char *host = setup_hostname(config), *address = c->user.address;
	const char *uuid_top = uuid_new(c), *uuid_mail = uuid_new(c);
	const char *rev = reverse_dns(c, host);
	const char *ident = rev == NULL ? NULL
			    : arena_printf(c->a, "%s.pillarbox.u%u", rev, (unsigned)c->user.id);
	if (uuid_top == NULL || uuid_mail == NULL || ident == NULL) {
		page_error(c, 500, "The profile could not be made. Please try again.");
		return;
	}
	struct xml x;
	struct buf *body = &c->resp->body;
	buf_reset(body);
	xml_begin(&x, body, PLIST_DOCTYPE);
	xml_open(&x, "plist", (const char *const[]){ "version", "1.0", NULL });
	xml_open(&x, "dict", NULL);
	xml_elem(&x, "key", "PayloadContent");
	xml_open(&x, "array", NULL);
	xml_open(&x, "dict", NULL);
	plist_str(&x, "EmailAccountDescription", address);
	plist_str(&x, "EmailAccountType", "EmailTypeIMAP");
	plist_str(&x, "EmailAddress", address);
	plist_str(&x, "IncomingMailServerAuthentication", "EmailAuthPassword");
	plist_str(&x, "IncomingMailServerHostName", host);
	plist_int(&x, "IncomingMailServerPortNumber", in->port);
	plist_bool(&x, "IncomingMailServerUseSSL", in->security != SETUP_PLAIN);
	plist_str(&x, "IncomingMailServerUsername", address);
	plist_str(&x, "OutgoingMailServerAuthentication", "EmailAuthPassword");
	plist_str(&x, "OutgoingMailServerHostName", host);
	plist_int(&x, "OutgoingMailServerPortNumber", out->port);
	plist_bool(&x, "OutgoingMailServerUseSSL", out->security != SETUP_PLAIN);
	plist_str(&x, "OutgoingMailServerUsername", address);
	plist_bool(&x, "OutgoingPasswordSameAsIncomingPassword", true);
	plist_str(&x, "PayloadDescription", "Configures the mail account.");
	plist_str(&x, "PayloadDisplayName", address);
	plist_str(&x, "PayloadIdentifier", arena_printf(c->a, "%s.mail", ident));
	plist_str(&x, "PayloadType", "com.apple.mail.managed");
	plist_str(&x, "PayloadUUID", uuid_mail);
	plist_int(&x, "PayloadVersion", 1);
	xml_close(&x);   /* dict */
	xml_close(&x);   /* array */
	plist_str(&x, "PayloadDescription",
		  arena_printf(c->a, "Sets up %s on %s (IMAP and SMTP).", address, host));
	plist_str(&x, "PayloadDisplayName", arena_printf(c->a, "Mail: %s", address));
	plist_str(&x, "PayloadIdentifier", ident);
	plist_bool(&x, "PayloadRemovalDisallowed", false);
	plist_str(&x, "PayloadType", "Configuration");
	plist_str(&x, "PayloadUUID", uuid_top);
	plist_int(&x, "PayloadVersion", 1);
	xml_close(&x);   /* dict */
	xml_close(&x);   /* plist */
	if (xml_finish(&x) < 0) {
		buf_reset(body);
		page_error(c, 500, "The profile could not be made. Please try again.");
		return;
	}
	http_header_add(c->resp, c->a, "Content-Type", "application/x-apple-aspen-config");
	http_header_add(c->resp, c->a, "Content-Disposition",
			"attachment; filename=\"pillarbox.mobileconfig\"");
	http_header_add(c->resp, c->a, "Cache-Control", "no-store");
}
