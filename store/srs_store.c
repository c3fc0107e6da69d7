/* SRS in the store (srs.h): the secret in meta.db, which forwarded mail
 * is rewritten (deliver.c), and what one of our SRS addresses stands for
 * (store_resolve, alias.c). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "session.h"
#include "srs.h"
#include "store_int.h"

/* meta.db: the secret, SRS_SECRET_LEN bytes, changed only by `pillarbox
 * srs rotate` (store_srs_rotate); and after a rotation the one before it,
 * which still verifies the addresses it made until they expire: the day
 * it stops doing so (Unix time, 8 bytes big-endian), then the secret. */
static const char srs_secret_key[] = "srs secret";
#define SRS_SECRET_KEY_LEN (sizeof(srs_secret_key) - 1)
static const char srs_previous_key[] = "srs secret previous";
#define SRS_PREVIOUS_KEY_LEN (sizeof(srs_previous_key) - 1)
#define SRS_PREVIOUS_LEN (8 + SRS_SECRET_LEN)
#define DAY_SECONDS 86400

struct secret_ctx {
	uint8_t secret[SRS_SECRET_LEN];
	bool found;
	/* read only when asked for (store_srs_reverse): */
	bool want_previous, have_previous;
	size_t previous_bad_len;   /* a damaged record's length, else 0 */
	int64_t previous_until;
	uint8_t previous[SRS_SECRET_LEN];
};

/* Reads the secret in txn: 1 found, 0 none, < 0 (a record of another
 * length is damage, not "none": a new secret would hide it). */
static int secret_get_txn(struct store *store, DB_TXN *txn, struct secret_ctx *c, uint32_t flags)
{
	size_t len = 0;
	uint8_t buf[SRS_SECRET_LEN + 1];
	int r = store_get(store, DBI_META, txn, srs_secret_key, SRS_SECRET_KEY_LEN, buf,
			  sizeof(buf), &len, flags);
	if (r <= 0)
		return r;
	if (len != SRS_SECRET_LEN)
		return store_err(store, "meta.db: the SRS secret record is damaged (%zu bytes): "
				 "restore a backup", len);
	memcpy(c->secret, buf, SRS_SECRET_LEN);
	c->found = true;
	return 1;
}

/* The previous secret into c, if there is one: 1, 0 none, 2 its record
 * is damaged (of another length: c->previous_bad_len), < 0 a store error. */
static int previous_get_txn(struct store *store, DB_TXN *txn, struct secret_ctx *c)
{
	size_t len = 0;
	uint8_t buf[256];
	int r = store_get(store, DBI_META, txn, srs_previous_key, SRS_PREVIOUS_KEY_LEN, buf,
			  sizeof(buf), &len, 0);
	if (r <= 0)
		return r;
	if (len != SRS_PREVIOUS_LEN) {
		c->previous_bad_len = len;
		return 2;
	}
	c->previous_until = (int64_t)be64_get(buf);
	memcpy(c->previous, buf + 8, SRS_SECRET_LEN);
	c->have_previous = true;
	return 1;
}

/* Whether the previous secret still verifies at `now`: before its end, and
 * that end no further off than a rotation now would set (a clock set back
 * since the rotation must not stretch it). */
static bool previous_valid(const struct secret_ctx *c, int64_t now)
{
	return c->have_previous && now < c->previous_until &&
	       c->previous_until - now <= (SRS_MAX_AGE_DAYS + SRS_FUTURE_DAYS + 2) * DAY_SECONDS;
}

static int secret_read_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct secret_ctx *c = ctx;
	int r = secret_get_txn(store, txn, c, 0);
	if (r == 1 && c->want_previous)
		r = previous_get_txn(store, txn, c);
	return r < 0 ? r : 1;   /* (a damaged previous record matters only if needed) */
}

int srs_secret_create_txn(struct store *store, DB_TXN *txn)
{
	uint8_t secret[SRS_SECRET_LEN];
	const char *error = NULL;
	if (store_random(secret, sizeof(secret), &error) < 0)
		return store_err(store, "SRS secret: %s", error);
	return store_put(store, DBI_META, txn, srs_secret_key, SRS_SECRET_KEY_LEN, secret,
			 sizeof(secret), 0);
}

/* A store made before SRS: the first process to need the secret makes it;
 * two at once serialise on the record's page (DB_RMW) and the second reads
 * the first's. */
static int secret_make_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct secret_ctx *c = ctx;
	int r = secret_get_txn(store, txn, c, DB_RMW);
	if (r != 0)
		return r < 0 ? r : 1;
	if ((r = srs_secret_create_txn(store, txn)) < 0)
		return r;
	return secret_get_txn(store, txn, c, 0) == 1 ? 1 : store_err(store, "SRS secret not kept");
}

/* The secret, made first when there is none: 1, or -1. */
static int srs_secret(struct store *store, uint8_t secret_r[SRS_SECRET_LEN], const char **error_r)
{
	struct secret_ctx c = { .found = false };
	if (store_read(store, secret_read_txn, &c, error_r) < 0)
		return -1;
	if (!c.found) {
		/* durable: its hashes go out with the mail that is queued next */
		if (store_write(store, true, secret_make_txn, &c, error_r) < 0)
			return -1;
		log_info("srs: the store had no SRS secret: made one");
	}
	memcpy(secret_r, c.secret, SRS_SECRET_LEN);
	return 1;
}

const char *srs_domain(const struct config *config, char buf[STORE_DOMAIN_MAX + 1])
{
	const char *d = config->srs_domain != NULL ? config->srs_domain : config->hostname;
	size_t len = strnlen(d, STORE_DOMAIN_MAX + 1);
	if (len > STORE_DOMAIN_MAX)
		len = STORE_DOMAIN_MAX;
	if (len > 0 && d[len - 1] == '.')
		len--;
	memcpy(buf, d, len);
	buf[len] = '\0';
	return buf;
}

bool srs_address_ours(const struct config *config, const char *address)
{
	char domain[STORE_DOMAIN_MAX + 1];
	return srs_is_ours(srs_domain(config, domain), address, strlen(address));
}

int store_srs_forward(struct store *store, const char *sender, char out[STORE_ADDRESS_MAX + 1],
		      const char **error_r)
{
	char domain[STORE_DOMAIN_MAX + 1], safe[STORE_ADDRESS_MAX * 4 + 8];
	uint8_t secret[SRS_SECRET_LEN];
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL, *why = NULL;

	out[0] = '\0';
	if (at == NULL)
		return 0;   /* the null sender, a bounce: nothing to return to */
	srs_domain(store->config, domain);
	if (strcasecmp(at + 1, domain) == 0)
		return 0;   /* ours already (an SRS address of ours, or the host's) */
	bool ascii = true;
	for (const char *p = sender; *p != '\0'; p++)
		ascii = ascii && (unsigned char)*p < 0x80;
	int r = store_domain_is_local(store, at + 1, error_r);
	if (r == 1)
		return 0;   /* our users forwarding their own mail */
	if (r < 0 && ascii)
		return -1;
	/* (a UTF-8 domain libidn2 cannot convert now: not rewritten either) */
	if (!ascii)
		why = "SRS addresses are ASCII";
	else if (srs_secret(store, secret, error_r) < 0)
		return -1;
	else if (srs_encode(secret, domain, sender, (int64_t)time(NULL), out, &why) == 1)
		return 1;
	log_safe(safe, sizeof(safe), sender, strlen(sender));
	log_warning("srs: sender <%s> not rewritten: %s", safe, why);
	return 0;
}

enum srs_reverse_result store_srs_reverse(struct store *store, const char *address,
					  char out[STORE_ADDRESS_MAX + 1], const char **error_r)
{
	char domain[STORE_DOMAIN_MAX + 1];
	const char *why = NULL;
	size_t len = strlen(address);

	out[0] = '\0';
	if (!srs_is_ours(srs_domain(store->config, domain), address, len))
		return SRS_REVERSE_NOT_SRS;
	struct secret_ctx c = { .want_previous = true };
	int64_t now = (int64_t)time(NULL);
	if (store_read(store, secret_read_txn, &c, error_r) < 0)
		return SRS_REVERSE_ERROR;
	if (!c.found) {
		/* no secret, so no address of ours was ever made */
		store_refuse(store, "SRS address: this store never made one");
	} else if (srs_decode(c.secret, domain, address, len, now, out, &why) == 1) {
		return SRS_REVERSE_OK;
	} else if (c.previous_bad_len != 0) {
		/* maybe made with it: a temporary failure, so the bounce comes again */
		store_err(store, "meta.db: the previous SRS secret's record is damaged (%zu "
			  "bytes): `pillarbox srs rotate` replaces it (or restore a backup)",
			  c.previous_bad_len);
		*error_r = store_last_error(store);
		return SRS_REVERSE_ERROR;
	} else if (previous_valid(&c, now) &&
		   srs_decode(c.previous, domain, address, len, now, out, &why) == 1) {
		return SRS_REVERSE_OK;   /* made before the last rotation */
	} else {
		store_refuse(store, "SRS address: %s", why);
	}
	*error_r = store_last_error(store);
	return SRS_REVERSE_REFUSED;
}

/* ------------------------------------------------------------- rotate */

struct rotate_ctx {
	bool keep_previous;
	int64_t now, until;   /* until: 0 when no old secret verifies */
	bool had_secret, dropped_previous;
};

static int rotate_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct rotate_ctx *c = ctx;
	struct secret_ctx old = { .found = false };
	int r = secret_get_txn(store, txn, &old, DB_RMW);
	if (r < 0)
		return r;
	c->had_secret = old.found;
	c->until = 0;
	c->dropped_previous = false;
	struct secret_ctx prev = { .found = false };
	/* a damaged previous record is replaced */
	if ((r = previous_get_txn(store, txn, &prev)) < 0)
		return r;
	c->dropped_previous = previous_valid(&prev, c->now);
	if (c->keep_previous && old.found) {
		/* an address made today decodes until the end of day +
		 * SRS_MAX_AGE_DAYS; one by a machine whose clock runs a day
		 * ahead (SRS_FUTURE_DAYS), a day more */
		uint8_t rec[SRS_PREVIOUS_LEN];
		c->until = (c->now / DAY_SECONDS + SRS_MAX_AGE_DAYS + SRS_FUTURE_DAYS + 1) *
			   DAY_SECONDS;
		be64_put(rec, (uint64_t)c->until);
		memcpy(rec + 8, old.secret, SRS_SECRET_LEN);
		r = store_put(store, DBI_META, txn, srs_previous_key, SRS_PREVIOUS_KEY_LEN, rec,
			      sizeof(rec), 0);
	} else {
		r = store_del(store, DBI_META, txn, srs_previous_key, SRS_PREVIOUS_KEY_LEN);
	}
	if (r < 0)
		return r;
	return srs_secret_create_txn(store, txn) < 0 ? -1 : 1;
}

int store_srs_rotate(struct store *store, bool keep_previous, struct store_srs_rotation *result_r,
		     const char **error_r)
{
	struct rotate_ctx c = { .keep_previous = keep_previous, .now = (int64_t)time(NULL) };
	if (store_write(store, true, rotate_txn, &c, error_r) < 0)
		return -1;
	result_r->had_secret = c.had_secret;
	result_r->previous_until = c.until;
	result_r->dropped_older = c.dropped_previous;
	if (!c.had_secret)
		log_info("srs: secret rotated (there was none)");
	else if (c.until != 0)
		log_info("srs: secret rotated: the old one verifies the addresses it made for "
			 "%d days", SRS_MAX_AGE_DAYS);
	else
		log_info("srs: secret rotated: the old one no longer verifies");
	return 1;
}
