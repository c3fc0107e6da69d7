/* Organizational domains (RFC 7489 3.2): a domain's registrable domain per
 * the Public Suffix List, which DMARC's relaxed alignment and its policy
 * discovery use ("mail.example.co.uk" -> "example.co.uk").
 *
 * libpsl does the work with the list of Debian's `publicsuffix` package
 * (/usr/share/publicsuffix, updated apart from libpsl), loaded with
 * dlopen() the first time a name needs it: smtpd is a process per
 * connection, and a session that never evaluates DMARC never maps libpsl
 * and its dependencies (see orgdomain.c). */
#ifndef PB_ORGDOMAIN_H
#define PB_ORGDOMAIN_H

#include <stdbool.h>

#include "dns.h"

/* `domain` as a DNS host name in A-labels, lowercased and without a final
 * dot, into out: labels of 1-63 letters, digits, hyphens and underscores
 * (the underscore for names such as _dmarc), at most 253 characters. One
 * final dot is dropped ("example.com." is example.com); "", ".", an empty
 * label or any other byte (non-ASCII included: convert U-labels first) is
 * refused. 1 or 0. */
int org_domain_normalize(const char *domain, char out[DNS_HOST_MAX]);

/* The organizational domain of `domain` (normalised as above first): its
 * registrable domain per the Public Suffix List, public suffix plus one
 * label; the domain itself when it is a public suffix ("co.uk", "com") or
 * a bare label the list does not know (its implicit "*" rule makes it one).
 * Returns 1, 0 when `domain` is no valid name, -1 when libpsl cannot be
 * loaded (*error_r names the package; logged once per process). */
int org_domain(const char *domain, char out[DNS_HOST_MAX], const char **error_r);

/* Whether libpsl is loaded in this process (tests: a session that needs
 * no organizational domain never loads it). */
bool org_domain_loaded(void);

/* Tests only: the library to load instead of libpsl.so.5, before the first
 * use in the process ("" or a missing file: the not-installed case). */
void org_domain_library_set(const char *soname);

#endif
