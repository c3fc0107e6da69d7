/* Inside SPF: the syntax of a record's terms (spf_parse.c), used by the
 * evaluation (spf.c). */
#ifndef PB_SPF_INT_H
#define PB_SPF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "spf.h"

enum mech { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS };
enum mod { MOD_NONE, MOD_REDIRECT, MOD_EXP, MOD_UNKNOWN };

struct term {
	const char *text;
	size_t len;
	enum mod mod;          /* MOD_NONE: a mechanism */
	enum spf_result qual;
	enum mech mech;
	const char *spec;      /* domain-spec; NULL: none given */
	size_t spec_len;
	unsigned cidr4, cidr6;
	unsigned char net[16];
};

/* A name to ask DNS about: labels of 1..63 octets, 253 in all, printable
 * ASCII but no backslash. */
bool spf_name_ok(const char *n);
/* A sender or HELO domain check_host() may look at (RFC 7208 4.3). */
bool spf_domain_valid(const char *d);
/* `name` is `domain` or a name under it (case-insensitive). */
bool spf_under(const char *name, const char *domain);
/* One term of a record (RFC 7208 4.6.1): 0 and *t, or -1 (*why_r). */
int spf_term_parse(const char *s, size_t len, struct term *t, const char **why_r);
/* The next term of a record from *pos: false at its end. */
bool spf_term_next(const char *rec, size_t len, size_t *pos, const char **s_r, size_t *n_r);

#endif
