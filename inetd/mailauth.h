/* The MX's checks of who sent a message, run by smtpd for every message
 * from a client that did not log in: SPF of the MAIL FROM (or HELO)
 * identity (spf.h), the DKIM signatures (dkim_verify.h) and the From:
 * domain's DMARC policy (dmarc.h), recorded in one Authentication-Results
 * field (RFC 8601) put on each local copy, and what DMARC asks for
 * (reject, quarantine) when `mail_auth = enforce`.
 *
 * The DNS lookups of one message share a time budget: a lookup past it is
 * a temporary error (temperror), and the message is delivered with that
 * result rather than held up. */
#ifndef PB_MAILAUTH_H
#define PB_MAILAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dkim_verify.h"
#include "dmarc.h"
#include "dns.h"
#include "spf.h"

/* Seconds all the lookups of one message may take together. */
#define MAILAUTH_BUDGET_SECONDS 20
/* Seconds one DNS try may take (the resolver makes 2 tries). */
#define MAILAUTH_DNS_TIMEOUT 3
/* The field, folded: it goes into the store's per-copy prefix beside
 * Return-Path and Delivered-To (STORE_PREFIX_MAX in all). */
#define MAILAUTH_FIELD_MAX 1400
/* Signatures listed in the field (all of them count for DMARC). */
#define MAILAUTH_FIELD_SIGS 4

enum mailauth_action {
	MAILAUTH_DELIVER,
	MAILAUTH_JUNK,     /* DMARC p=quarantine failed: to the Junk folder */
	MAILAUTH_REJECT,   /* DMARC p=reject failed: 550 5.7.1 */
};

struct mailauth_client {
	const struct sockaddr *ip;   /* NULL when unknown (a pipe): no SPF */
	const char *helo;            /* "" if none */
	const char *sender;          /* MAIL FROM, "" for the null sender */
	const char *authserv_id;     /* our host name */
};

struct mailauth_verdict {
	enum mailauth_action action;
	char field[MAILAUTH_FIELD_MAX];   /* "Authentication-Results: ...\r\n" */
	size_t field_len;                 /* 0: none could be made */
	char summary[512];                /* for the log: "spf=pass dkim=pass dmarc=pass" */
	char reply[320];                  /* MAILAUTH_REJECT: the SMTP reply line */
};

struct mailauth;

/* Starts the checks of one message: `header` is its header block
 * (CRLF lines; the blank line optional), complete = false when it was too
 * large to be kept whole (then no signature is checked and DMARC finds no
 * From:). Copies what it needs. 0, or -1 out of memory (*error_r). */
int mailauth_new(const char *header, size_t len, bool complete, struct mailauth **ma_r,
		 const char **error_r);
/* The body as received (after the blank line), any split. */
void mailauth_body(struct mailauth *ma, const char *data, size_t len);
/* Runs the lookups and fills *v; frees *ma. `enforce`: act on DMARC. */
void mailauth_finish(struct mailauth **ma, const struct dns_lookup *dns,
		     const struct mailauth_client *client, bool enforce, unsigned rnd,
		     struct mailauth_verdict *v);
void mailauth_free(struct mailauth **ma);

/* ------------------------------------------------------------ pure parts */

/* The Authentication-Results field for these results, folded, with its
 * CRLF: its length, or 0 when it does not fit `size`. */
size_t mailauth_field_format(const char *authserv_id, const struct spf_outcome *spf,
			     const struct dkim_sig_result *dkim, size_t n_dkim,
			     const struct dmarc_outcome *dmarc, char *buf, size_t size);

/* RFC 8601 5: Authentication-Results fields that name our authserv-id
 * did not come from us and are taken out of the header block
 * header[0..len), in place; the new length. Fields of other hosts stay.
 * `complete` false: the block was cut at len (too large to keep), and its
 * last field, which may go on past the cut, is kept. */
size_t mailauth_strip_forged(char *header, size_t len, bool complete, const char *authserv_id);

/* ------------------------------------------------------------ DNS with a budget */

/* `lookup` answers through `res` until `seconds` have passed since this
 * call, then every lookup is DNS_TEMPFAIL. */
struct mailauth_dns {
	struct dns_lookup lookup;
	struct dns_resolver *res;
	int64_t deadline_ms;
};
void mailauth_dns_init(struct mailauth_dns *md, struct dns_resolver *res, unsigned seconds);

#endif
