/* SPF (RFC 7208): check_host() for the MX's check of a sender, a pure
 * module: every DNS question goes through a `struct dns_lookup` (dns.h),
 * which the MX answers from the resolver within its time budget, and tests
 * and the fuzz harness from memory.
 *
 * Limits (RFC 7208 4.6.4): 10 terms that query DNS (include, a, mx, ptr,
 * exists, redirect) per check, then permerror; 2 void lookups (NXDOMAIN or
 * no data), then permerror; an mx with more than 10 MX names is a
 * permerror; ptr and %{p} look at the first 10 PTR names. include and
 * redirect nest at most SPF_DEPTH_MAX deep (the 10 already bound it). */
#ifndef PB_SPF_H
#define PB_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "dns.h"

/* Terms that cause DNS lookups, per check (RFC 7208 4.6.4). */
#define SPF_LOOKUPS_MAX 10
/* Lookups that find nothing, per check (RFC 7208 4.6.4). */
#define SPF_VOID_MAX 2
/* MX names one mx mechanism may have (RFC 7208 4.6.4). */
#define SPF_MX_MAX 10
/* include/redirect nesting (never reached: each counts in the 10). */
#define SPF_DEPTH_MAX SPF_LOOKUPS_MAX
/* A sender or HELO name longer than this is not checked (result none):
 * an SMTP path is at most 256 octets (RFC 5321 4.5.3.1.3). */
#define SPF_ADDR_MAX 512
/* One macro expansion; a longer one is a permerror (a record that builds
 * a name this long is broken; a domain is then cut to 253, RFC 7208 7.3). */
#define SPF_EXPAND_MAX 4096

enum spf_result { SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR, SPF_PERMERROR };
/* RFC 8601 names: "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" */
const char *spf_result_name(enum spf_result r);

struct spf_request {
	const struct sockaddr *ip;  /* the client, AF_INET or AF_INET6; an IPv4-mapped IPv6 address is IPv4 */
	const char *helo;           /* EHLO/HELO argument as given ("" if none) */
	const char *sender;         /* MAIL FROM address as given, "" for the null reverse-path */
	const char *receiver;       /* our host name, for %{r} */
	time_t now;                 /* for %{t} in an explanation; 0: time(NULL) */
};

struct spf_outcome {
	enum spf_result result;
	bool helo_identity;              /* the HELO name was checked (null sender: postmaster@helo, RFC 7208 2.4) */
	char domain[DNS_HOST_MAX];       /* the domain checked: the sender's domain (smtp.mailfrom) or the HELO name */
	/* Short text for logs and an A-R comment, e.g. "mechanism
	 * ip4:192.0.2.0/24 matched", "no SPF record", "too many DNS
	 * lookups". Printable ASCII without '(', ')' or '\' (others become
	 * '?'), so it fits inside an RFC 5322 comment as it is. */
	char reason[256];
	/* For fail only: the domain's exp= text (RFC 7208 6.2), expanded,
	 * same character rules as reason; "" when none or unusable. It is
	 * the sender domain's words: quote it in a 550 reply, never trust it. */
	char explanation[256];
};

/* check_host() for the request; fills *out and returns out->result. A
 * null sender checks the HELO name (helo_identity true); otherwise the
 * MAIL FROM domain, with "postmaster" when there is no local-part. */
enum spf_result spf_check(const struct dns_lookup *dns, const struct spf_request *req, struct spf_outcome *out);

/* ------------------------------------------------------------ macros (spf_macro.c) */

/* The values of the macro letters (RFC 7208 7.3), all NUL-terminated; p is
 * asked for only when used (it costs DNS lookups). */
struct spf_macro_vars {
	const char *s, *l, *o, *d, *i, *v, *h;  /* i: dotted quad or nibbles */
	const char *c, *r, *t;                  /* explanations only */
	const char *(*p)(void *arg);
	void *arg;
};

enum spf_macro_kind {
	SPF_MACRO_DOMAIN,   /* domain-spec: ends in a macro or "." toplabel ["."] */
	SPF_MACRO_STRING,   /* macro-string of an unknown modifier */
	SPF_MACRO_EXPLAIN,  /* explain-string: spaces and c, r, t allowed */
};

/* Expands in[0..len) of the given kind into out (size bytes, NUL-ended);
 * vars NULL checks the syntax only. A domain is returned without its final
 * dot and cut from the left to 253 octets by whole labels. 0 done, -1
 * syntax error (*why_r), -2 longer than size (or no label fits in 253). */
int spf_macro_expand(const char *in, size_t len, enum spf_macro_kind kind,
		     const struct spf_macro_vars *vars, char *out, size_t size, const char **why_r);

#endif
