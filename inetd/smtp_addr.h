/* SMTP envelope addresses: the arguments of MAIL FROM and RCPT TO, parsed
 * by the RFC 5321 §4.1.2 grammar (Path, Mailbox, Local-part, Domain,
 * address-literal) extended by RFC 6531 (UTF-8 in atoms, quoted strings and
 * domain labels), and the ESMTP parameters after them. Pure functions: no
 * I/O, no store, no allocation; the session decides what the address means.
 *
 * Canonical form handed on: "local@domain" with the local part unquoted
 * when it is a valid dot-string (RFC 5321 §4.1.2: "a" and "\a" quoted mean
 * the same) and minimally quoted otherwise, the domain's ASCII letters
 * lowercased, a source route (A-d-l) parsed and dropped (§4.1.1.3: accepted,
 * ignored). */
#ifndef PB_SMTP_ADDR_H
#define PB_SMTP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* RFC 5321 §4.5.3.1: local part 64 octets, domain 255 octets; the
 * store's addresses are at most 254 (a path of 256 less the brackets). */
#define SMTP_LOCALPART_MAX 64
#define SMTP_DOMAIN_MAX 255
#define SMTP_DOMAIN_LABEL_MAX 63
/* Parameters after a path: more than this is not a client, it is a test. */
#define SMTP_PARAMS_MAX 16

struct smtp_path {
	char address[STORE_ADDRESS_MAX + 1]; /* canonical; "" for the null path <> */
	size_t local_len;          /* bytes of the (canonical) local part */
	bool null;                 /* <> (MAIL only) */
	bool utf8;                 /* non-ASCII bytes somewhere (needs SMTPUTF8) */
	bool quoted;               /* the local part needs quotes (not a dot-string) */
	bool literal;              /* the domain is an address literal [1.2.3.4] */
	bool postmaster;           /* RCPT TO:<Postmaster> without a domain (§4.5.1) */
	bool source_route;         /* an A-d-l was given (and ignored) */
};

struct smtp_mail_args {
	struct smtp_path path;
	bool size_given;
	uint64_t size;             /* SIZE=; UINT64_MAX when it does not fit */
	bool body_given;
	bool body_8bit;            /* BODY=8BITMIME (else 7BIT) */
	bool smtputf8;             /* SMTPUTF8 */
	enum store_dsn_ret ret;    /* RET=FULL | HDRS (RFC 3461 4.3) */
	char envid[STORE_DSN_ENVID_MAX + 1]; /* ENVID=xtext (RFC 3461 4.4), "" none */
};

/* RCPT's RFC 3461 parameters. */
struct smtp_rcpt_dsn {
	uint8_t notify;            /* NOTIFY= as STORE_DSN_NOTIFY_* bits, 0 not given */
	char orcpt[STORE_DSN_ORCPT_MAX + 1]; /* ORCPT=addr-type;xtext, "" not given */
};

/* Parses the argument of MAIL ("FROM:<path> [params]", the verb already
 * removed; spaces after the colon are tolerated, the angle brackets are
 * not optional). Parameters understood: SIZE=n (RFC 1870), BODY=7BIT |
 * 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), AUTH=xtext (RFC 4954, ignored),
 * RET=FULL|HDRS and ENVID=xtext (RFC 3461), each at most once.
 * Returns 1, or 0 with *reply_r set to the full reply line without CRLF
 * ("501 5.1.7 ..."). */
int smtp_mail_parse(const char *args, size_t len, struct smtp_mail_args *args_r,
		    const char **reply_r);

/* The same for RCPT ("TO:<path> [params]"): NOTIFY=NEVER | a list of
 * SUCCESS, FAILURE, DELAY and ORCPT=addr-type;xtext (RFC 3461 4.1, 4.2),
 * each at most once, into *dsn_r; any other is refused with 555.
 * "<Postmaster>" without a domain is accepted with path_r->postmaster set
 * and address "postmaster". */
int smtp_rcpt_parse(const char *args, size_t len, struct smtp_path *path_r,
		    struct smtp_rcpt_dsn *dsn_r, const char **reply_r);

/* Parses the argument of BDAT (RFC 3030 §2: chunk-size [SP "LAST"],
 * chunk-size 1*DIGIT; LAST in any case, as SMTP keywords are). 1 with
 * *size_r and *last_r, or 0 when it is not that or the size does not fit
 * in 64 bits: then the chunk's length is unknown. */
int smtp_bdat_parse(const char *args, size_t len, uint64_t *size_r, bool *last_r);

/* true if `s` (len bytes) is a valid EHLO/HELO argument as accepted here:
 * a domain name (letters, digits, '-', '_' and dots: '_' because Windows
 * machine names carry it) or an address literal [IPv4] / [IPv6:...], at
 * most SMTP_DOMAIN_MAX bytes. Nothing else reaches a Received: header. */
bool smtp_helo_valid(const char *s, size_t len);

#endif
