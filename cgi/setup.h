/* What a mail client needs to know to connect, from the configuration:
 * one list shared by the set-up page, the Apple profile, Thunderbird's
 * autoconfig and Outlook's autodiscover, so they never disagree. */
#ifndef PB_CGI_SETUP_H
#define PB_CGI_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum setup_proto { SETUP_IMAP, SETUP_POP3, SETUP_SMTP };
enum setup_security {
	SETUP_SSL,          /* implicit TLS (993, 995, 465) */
	SETUP_STARTTLS,     /* 143, 110, 587 */
	SETUP_PLAIN,        /* no TLS configured (tls_cert/tls_key unset) */
};

struct setup_service {
	enum setup_proto proto;
	enum setup_security security;
	unsigned port;
};

#define SETUP_SERVICES_MAX 6

/* The services offered, IMAP then POP3 then SMTP submission, each with
 * implicit TLS before STARTTLS (the order clients should try). A port of 0
 * is left out; without TLS only the STARTTLS ports are left, as plain.
 * Returns how many. */
size_t setup_services(const struct config *config,
		      struct setup_service out[SETUP_SERVICES_MAX]);
/* The first service of `proto` in such a list, or NULL. */
const struct setup_service *setup_preferred(const struct setup_service *s, size_t n,
					    enum setup_proto proto);
/* The host name clients connect to (public_hostname, else hostname). */
const char *setup_hostname(const struct config *config);
/* "IMAP", "POP3", "SMTP"; "SSL/TLS", "STARTTLS", "None". */
const char *setup_proto_name(enum setup_proto proto);
const char *setup_security_name(enum setup_security security);

/* The domain of a plausible mailbox address "local@domain" (at most
 * STORE_ADDRESS_MAX bytes, printable ASCII, a DNS domain), lowercased into
 * `domain` (size > 253); false if it is not one. */
bool setup_address_domain(const char *address, char *domain, size_t size);

#endif
