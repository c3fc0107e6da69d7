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

/* meta.db: SRS_SECRET_LEN bytes, never changed once made (a new one would
 * make every SRS address still out there fail to verify). */
static const char srs_secret_key[] = "srs secret";
#define SRS_SECRET_KEY_LEN (sizeof(srs_secret_key) - 1)

struct secret_ctx {
	uint8_t secret[SRS_SECRET_LEN];
	bool found;
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

static int secret_read_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	int r = secret_get_txn(store, txn, ctx, 0);
	return r < 0 ? r : 1;
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

/* The secret, made when `make` and there is none: 1, 0 none, -1. */
static int srs_secret(struct store *store, bool make, uint8_t secret_r[SRS_SECRET_LEN],
		      const char **error_r)
{
	struct secret_ctx c = { .found = false };
	if (store_read(store, secret_read_txn, &c, error_r) < 0)
		return -1;
	if (!c.found && make) {
		/* durable: its hashes go out with the mail that is queued next */
		if (store_write(store, true, secret_make_txn, &c, error_r) < 0)
			return -1;
		if (c.found)
			log_info("srs: the store had no SRS secret: made one");
	}
	if (!c.found)
		return 0;
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
	else if (srs_secret(store, true, secret, error_r) < 0)
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
	uint8_t secret[SRS_SECRET_LEN];
	const char *why = NULL;
	size_t len = strlen(address);

	out[0] = '\0';
	if (!srs_is_ours(srs_domain(store->config, domain), address, len))
		return SRS_REVERSE_NOT_SRS;
	int r = srs_secret(store, false, secret, error_r);
	if (r < 0)
		return SRS_REVERSE_ERROR;
	if (r == 0) {
		/* no secret, so no address of ours was ever made */
		store_refuse(store, "SRS address: this store never made one");
	} else if (srs_decode(secret, domain, address, len, (int64_t)time(NULL), out, &why) == 1) {
		return SRS_REVERSE_OK;
	} else {
		store_refuse(store, "SRS address: %s", why);
	}
	*error_r = store_last_error(store);
	return SRS_REVERSE_REFUSED;
}
