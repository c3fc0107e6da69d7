/* The Sender Rewriting Scheme for forwarded mail, in the format of libsrs2
 * and postsrsd, so that the next hop's SPF check of the envelope sender
 * asks about our domain, not the original sender's.
 *
 *   SRS0=HHHH=TT=orig-domain=orig-local@SRSDOMAIN
 *   SRS1=HHHH=first-host==HHHH=TT=orig-domain=orig-local@SRSDOMAIN
 *
 * TT is the day (Unix time / 86400) modulo 1024 in two base32 characters
 * (libsrs2's alphabet A-Z 2-7); HHHH is four base32 characters (20 bits)
 * of SipHash-1-3 (siphash.h) under the store's secret over a tag and the
 * fields, ASCII-lowercased and NUL-separated (so no field can move into
 * its neighbour). Only we check our hashes, so the MAC need not be
 * libsrs2's HMAC-SHA1; four characters are what libsrs2 and postsrsd
 * use, and a forger must guess, one RCPT at a time, a value in a million.
 * Hash, timestamp and prefix are compared in any case: mail systems on
 * the way back may change the case of a whole address.
 *
 * A sender that is already another domain's SRS0 or SRS1 address becomes
 * SRS1 (as libsrs2 does): its first forwarder's host and the opaque rest,
 * so the local part does not grow with every hop; it decodes to that
 * forwarder's SRS0 address, who decodes it in turn. SRS1 carries no time:
 * the SRS0 inside it has one, checked by the host that made it.
 *
 * Only '=' is taken as the separator after SRS0/SRS1 (libsrs2 accepts '+'
 * and '-' too): a sender spelled another way is wrapped as a plain
 * address, which is correct, only longer. SRS addresses are ASCII: a
 * sender with UTF-8 in it is not rewritten. */
#ifndef PB_SRS_H
#define PB_SRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SRS_SECRET_LEN 16       /* the SipHash key */
#define SRS_HASH_LEN 4          /* base32 characters of the hash: 20 bits */
#define SRS_TIME_LEN 2          /* base32 characters of the day */
#define SRS_TIME_SLOTS 1024     /* days before TT repeats (libsrs2's) */
/* A bounce comes back within days; libsrs2's and postsrsd's default. An
 * address made on day D decodes until the end of day D + 21 (UTC). */
#define SRS_MAX_AGE_DAYS 21
/* A clock of ours set a day ahead on another machine of the same store. */
#define SRS_FUTURE_DAYS 1

/* ------------------------------------------------- codec (pure functions) */

/* Whether `address` (len bytes) is shaped as one of our SRS addresses: a
 * local part starting "SRS0=" or "SRS1=" (any case), a domain equal to
 * srs_domain (any case, a final dot on either ignored). Syntax only: no
 * hash or time is checked. */
bool srs_is_ours(const char *srs_domain, const char *address, size_t len);

/* The SRS address of envelope sender `sender` ("local@domain", valid by
 * store_address_valid) made on day `now` (Unix time) into out: 1, or 0
 * with *why_r when it cannot be made (not a valid ASCII address, or the
 * result would not be one: a local part past STORE_LOCALPART_MAX, which
 * RCPT would refuse on the way back). */
int srs_encode(const uint8_t secret[SRS_SECRET_LEN], const char *srs_domain, const char *sender,
	       int64_t now, char out[STORE_ADDRESS_MAX + 1], const char **why_r);

/* The address SRS address `address` (len bytes, any bytes) stands for,
 * into out: 1, or 0 with *why_r (a static string naming what is wrong:
 * the syntax, the hash, the age). Strict: at most STORE_ADDRESS_MAX bytes,
 * printable ASCII only, a valid address in srs_domain, every field there
 * and non-empty, hash and time exactly as long as they are made, the hash
 * right (compared in constant time), the time at most SRS_MAX_AGE_DAYS
 * days past and SRS_FUTURE_DAYS ahead, and the result a valid address by
 * store_address_valid. */
int srs_decode(const uint8_t secret[SRS_SECRET_LEN], const char *srs_domain, const char *address,
	       size_t len, int64_t now, char out[STORE_ADDRESS_MAX + 1], const char **why_r);

/* ------------------------------------------------------- the store's side */

/* The secret is SRS_SECRET_LEN random bytes in meta.db, written by `store
 * init`; a store made before SRS gets it the first time mail is forwarded,
 * in its own small durable transaction (srs_store.c). */

/* The SRS domain of the configuration (srs_domain, else hostname), a final
 * dot removed, into buf; returns buf. */
const char *srs_domain(const struct config *config, char buf[STORE_DOMAIN_MAX + 1]);

/* Whether `address` is shaped as one of our SRS addresses (srs_is_ours
 * with the configuration's SRS domain): for smtpd, to say why such a
 * recipient was refused. */
bool srs_address_ours(const struct config *config, const char *address);

/* The envelope sender forwarded mail leaves with (deliver.c): its SRS
 * address, into out (1), when `sender` is not null, not in a local domain
 * and not already in the SRS domain; else 0 and out "" (keep the sender;
 * one that cannot be rewritten, too long or UTF-8, is logged). Makes the
 * secret when the store has none. -1 on a store error (*error_r). */
int store_srs_forward(struct store *store, const char *sender, char out[STORE_ADDRESS_MAX + 1],
		      const char **error_r);

/* For store_resolve: what one of our SRS addresses stands for. */
enum srs_reverse_result {
	SRS_REVERSE_ERROR = -1,   /* a store error (*error_r) */
	SRS_REVERSE_NOT_SRS = 0,  /* not shaped as ours: resolve it as it is */
	SRS_REVERSE_OK = 1,       /* out: the original address */
	SRS_REVERSE_REFUSED = 2,  /* ours but forged, expired or malformed (*error_r why) */
};
enum srs_reverse_result store_srs_reverse(struct store *store, const char *address,
					  char out[STORE_ADDRESS_MAX + 1], const char **error_r);

/* `pillarbox srs rotate`: a new secret signs forwarded mail from now on.
 * With keep_previous the old one still verifies the addresses it made
 * until they expire (the end of day + SRS_MAX_AGE_DAYS, a day more for a
 * clock a day ahead: SRS_FUTURE_DAYS; UTC); without, they
 * are refused at once (the secret leaked). One previous secret is kept: a
 * second rotation within that time drops the first's. Durable; 1 or -1. */
struct store_srs_rotation {
	bool had_secret;          /* false: the store had none (made one) */
	int64_t previous_until;   /* Unix time the old secret verifies until, or 0 */
	bool dropped_older;       /* a still-valid secret before the old one was dropped */
};
int store_srs_rotate(struct store *store, bool keep_previous, struct store_srs_rotation *result_r,
		     const char **error_r);

#endif
