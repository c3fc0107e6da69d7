/* Reading our own Authentication-Results field (RFC 8601) back from a
 * stored message's header, for the message page's warning about mail that
 * failed its sender checks.
 *
 * Only a field whose authserv-id is our host name is read: the MX
 * (inetd/mailauth.c) writes one on each message from the Internet and
 * removes any other field naming us (RFC 8601 5), so ours is the first one
 * naming us; fields of other hosts say what those hosts think and are
 * ignored. The authserv-id is compared as smtpd compares it when it
 * removes forged ones (mailauth_strip_forged), so no field can be taken as
 * ours here that smtpd would have let through as someone else's.
 *
 * Pure: bytes in, a struct out; no allocation. */
#ifndef PB_CGI_AUTHRES_H
#define PB_CGI_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

/* Header bytes looked at (the message page reads at most 256 KiB of it;
 * ours is at the top, in the per-copy prefix). */
#define AUTHRES_HEADER_MAX (256 * 1024)
/* A field longer than this, unfolded, is not read: ours is at most 1400
 * bytes (MAILAUTH_FIELD_MAX). */
#define AUTHRES_FIELD_MAX 4096
/* Results (resinfo) read from the field: ours has spf, up to 4 dkim and
 * dmarc. Later ones are not read. */
#define AUTHRES_RESULTS_MAX 16
/* A property value kept (a domain name is at most 253 bytes); longer ones,
 * and ones with bytes other than printable ASCII, are kept as "". */
#define AUTHRES_VALUE_MAX 253

enum authres_result {
	AUTHRES_ABSENT = 0,    /* no such method in the field */
	AUTHRES_PASS,
	AUTHRES_FAIL,          /* also SPF's old "hardfail" */
	AUTHRES_SOFTFAIL,
	AUTHRES_NEUTRAL,
	AUTHRES_NONE,
	AUTHRES_TEMPERROR,
	AUTHRES_PERMERROR,
	AUTHRES_POLICY,
	AUTHRES_OTHER,         /* a keyword not listed here */
};

struct authres {
	enum authres_result dmarc;                 /* the first dmarc result */
	enum authres_result spf;                   /* the first spf result */
	enum authres_result dkim;                  /* the first dkim result */
	bool dkim_pass;                            /* some dkim result is pass */
	char header_from[AUTHRES_VALUE_MAX + 1];   /* dmarc's header.from, "" none */
	char header_d[AUTHRES_VALUE_MAX + 1];      /* header.d of the first passing dkim
						    * result, else the first one given */
	char spf_domain[AUTHRES_VALUE_MAX + 1];    /* spf's smtp.mailfrom or smtp.helo */
};

/* What the message page shows for a message's results. */
enum authres_warning {
	AUTHRES_WARN_NONE,
	AUTHRES_WARN_DMARC,        /* dmarc=fail: it may not be from header.from */
	AUTHRES_WARN_UNVERIFIED,   /* no dmarc pass or fail, spf fail or softfail,
				    * and no dkim pass */
};

/* Reads the first Authentication-Results field of the header block
 * header[0..len) (CRLF or LF lines, folded; the first AUTHRES_HEADER_MAX
 * bytes) whose authserv-id equals `authserv_id` (ASCII case-insensitive)
 * into *ar_r. 1 found, 0 none of ours (*ar_r all AUTHRES_ABSENT / "").
 * A field of ours that is malformed part way gives what was read before
 * the fault. */
int authres_parse(const char *header, size_t len, const char *authserv_id,
		  struct authres *ar_r);

/* The warning for `ar` (AUTHRES_WARN_NONE for a zeroed one). */
enum authres_warning authres_warning(const struct authres *ar);

#endif
