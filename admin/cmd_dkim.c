/* pillarbox domain dkim DOMAIN [--new [--selector S] [--algorithm A] | --delete]
 * and pillarbox domain dns DOMAIN: a domain's DKIM key and the DNS records
 * its owner publishes. Records go to stdout in zone-file form, one a line;
 * what to do with them to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "dkim.h"

/* One character-string of a TXT record holds at most 255 bytes (RFC 1035
 * 3.3); a longer value is several strings, which receivers join. */
#define TXT_STRING_MAX 255

/* `value` as a TXT record's strings: "..." "..." */
static void txt_print(const char *value)
{
	size_t len = strlen(value);

	printf(" IN TXT");
	for (size_t i = 0; i < len || i == 0; i += TXT_STRING_MAX) {
		size_t n = len - i < TXT_STRING_MAX ? len - i : TXT_STRING_MAX;

		printf(" \"%.*s\"", (int)n, value + i);
	}
	printf("\n");
}

/* The key's DNS record: SELECTOR._domainkey.DOMAIN. IN TXT "v=DKIM1; ...".
 * ADMIN_EXIT_OK or an exit code after saying why. */
static int dkim_record_print(const char *domain, const struct store_dkim *key)
{
	const char *error = NULL;
	char *p = NULL, *value;
	int r = dkim_key_public(key->alg, key->pem, key->pem_len, &p, &error);

	if (r <= 0)
		return admin_fail(r < 0 ? ADMIN_EXIT_TEMPFAIL : ADMIN_EXIT_DATAERR,
				  "%s: DKIM key: %s", domain, error);
	size_t size = strlen(p) + 64;

	if ((value = malloc(size)) == NULL) {
		free(p);
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	}
	snprintf(value, size, "v=DKIM1; k=%s; p=%s", dkim_alg_key_name(key->alg), p);
	printf("%s._domainkey.%s.", key->selector, domain);
	txt_print(value);
	free(value);
	free(p);
	return ADMIN_EXIT_OK;
}

/* --algorithm: rsa-BITS or ed25519. */
static int alg_parse(const char *s, enum dkim_alg *alg_r, unsigned *bits_r)
{
	uint64_t bits;

	if (strcmp(s, "ed25519") == 0) {
		*alg_r = DKIM_ALG_ED25519;
		*bits_r = 0;
		return 0;
	}
	if (strncmp(s, "rsa-", 4) != 0 || admin_number_parse(s + 4, DKIM_RSA_BITS_MAX, &bits) < 0 ||
	    bits < DKIM_RSA_BITS_MIN)
		return -1;
	*alg_r = DKIM_ALG_RSA;
	*bits_r = (unsigned)bits;
	return 0;
}

struct dkim_args {
	const char *domain, *selector, *algorithm;
	bool new_key, delete;
};

static int dkim_args_parse(int argc, char **argv, struct dkim_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--new") == 0) {
			a->new_key = true;
		} else if (strcmp(argv[i], "--delete") == 0) {
			a->delete = true;
		} else if (strcmp(argv[i], "--selector") == 0 && i + 1 < argc) {
			a->selector = argv[++i];
		} else if (strcmp(argv[i], "--algorithm") == 0 && i + 1 < argc) {
			a->algorithm = argv[++i];
		} else if (argv[i][0] == '-' || a->domain != NULL) {
			return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: unexpected '%s' (usage: "
					  "pillarbox domain dkim DOMAIN [--new [--selector S] "
					  "[--algorithm rsa-2048|ed25519] | --delete])",
					  admin_arg(argv[i]));
		} else {
			a->domain = argv[i];
		}
	}
	if (a->domain == NULL)
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim needs a DOMAIN");
	if (a->new_key && a->delete)
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: give --new or --delete, not both");
	if (!a->new_key && (a->selector != NULL || a->algorithm != NULL))
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: --selector and --algorithm go "
				  "with --new");
	return ADMIN_EXIT_OK;
}

/* "pbYYYYMM" (a new key a month at most is the common case), or with the
 * day and time when the current key has that name already: a new key never
 * takes the name of the one still in DNS for mail on its way. */
static void selector_default(const char *current, char out[STORE_DKIM_SELECTOR_MAX + 1])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, STORE_DKIM_SELECTOR_MAX + 1, "pb%Y%m", &tm);
	if (strcmp(out, current) == 0)
		strftime(out, STORE_DKIM_SELECTOR_MAX + 1, "pb%Y%m%d%H%M%S", &tm);
}

static int dkim_new(struct admin *admin, const struct dkim_args *a, const char *domain,
		    struct store_dkim *key, bool had)
{
	char old[STORE_DKIM_SELECTOR_MAX + 1];
	const char *error = NULL;
	unsigned bits = DKIM_RSA_BITS_DEFAULT;
	char *pem = NULL;
	size_t len = 0;
	int r;

	snprintf(old, sizeof(old), "%s", had ? key->selector : "");
	key->alg = DKIM_ALG_RSA;
	if (a->algorithm != NULL && alg_parse(a->algorithm, &key->alg, &bits) < 0)
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: unknown algorithm '%s' (rsa-%d "
				  "to rsa-%d, or ed25519; rsa-2048 by default)", admin_arg(a->algorithm),
				  DKIM_RSA_BITS_MIN, DKIM_RSA_BITS_MAX);
	if (a->selector != NULL) {
		if (!store_dkim_selector_valid(a->selector))
			return admin_fail(ADMIN_EXIT_DATAERR, "invalid DKIM selector '%s': one DNS "
					  "label of lowercase letters, digits and inner '-'",
					  admin_arg(a->selector));
		snprintf(key->selector, sizeof(key->selector), "%s", a->selector);
	} else {
		selector_default(old, key->selector);
	}
	if (dkim_key_generate(key->alg, bits, &pem, &len, &error) < 0)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "%s: %s", domain, error);
	if (len > DKIM_KEY_PEM_MAX) {
		password_wipe(pem, len);
		free(pem);
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: the new key is too large", domain);
	}
	memcpy(key->pem, pem, len + 1);
	key->pem_len = len;
	key->created = (int64_t)time(NULL);
	password_wipe(pem, len);
	free(pem);
	r = store_dkim_set(admin->store, domain, key, &error);
	if (r <= 0)
		return admin_store_fail(r, ADMIN_EXIT_DATAERR, domain, error);
	admin_say("%s: new DKIM key, selector %s (%s); mail is signed with it from now on: "
		  "publish this record%s%s%s", domain, key->selector, dkim_alg_sig_name(key->alg),
		  had ? " (keep the one of selector " : "", had ? old : "",
		  had ? " until the mail it signed has arrived, a few days)" : "");
	return dkim_record_print(domain, key);
}

int domain_cmd_dkim(struct admin *admin, int argc, char **argv)
{
	char domain[STORE_DOMAIN_MAX + 1], when[32];
	struct dkim_args a;
	struct store_dkim *key;
	const char *error = NULL;
	int code = dkim_args_parse(argc, argv, &a), r;

	if (code != ADMIN_EXIT_OK)
		return code;
	r = store_domain_ascii(a.domain, domain, &error);
	if (r <= 0)
		return admin_fail(r < 0 ? ADMIN_EXIT_TEMPFAIL : ADMIN_EXIT_DATAERR, "%s: %s",
				  admin_arg(a.domain), error);
	if (a.delete) {
		r = store_dkim_del(admin->store, domain, &error);
		if (r <= 0)
			return admin_store_fail(r, ADMIN_EXIT_DATAERR, domain, error);
		admin_say("%s: DKIM key deleted; mail from %s is no longer signed (its DNS record "
			  "may go once the mail it signed has arrived)", domain, domain);
		return ADMIN_EXIT_OK;
	}
	if ((key = malloc(sizeof(*key))) == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	r = store_dkim_get(admin->store, domain, key, &error);
	if (r < 0 || (r == 0 && !a.new_key)) {
		code = admin_store_fail(r, ADMIN_EXIT_DATAERR, domain, error);
		if (r == 0)
			admin_say("make one with: pillarbox domain dkim %s --new", domain);
	} else if (a.new_key) {
		code = dkim_new(admin, &a, domain, key, r == 1);
	} else {
		time_t t = (time_t)key->created;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d", gmtime_r(&t, &tm));
		admin_say("%s signs with selector %s (%s, made %s): publish this record",
			  domain, key->selector, dkim_alg_sig_name(key->alg), when);
		code = dkim_record_print(domain, key);
	}
	password_wipe(key, sizeof(*key));
	free(key);
	return code;
}

/* ------------------------------------------------------------------- dns */

/* The SRV records of RFC 6186 and RFC 8314 for what the configuration
 * offers, as the webmail's set-up page tells clients (cgi/setup.c). */
static void srv_print(const struct config *config, const char *domain, const char *host)
{
	bool tls = config->tls_cert != NULL && config->tls_key != NULL;
	const struct {
		const char *service;
		unsigned port;
		bool needs_tls;
	} rows[] = {
		{ "_imaps", config->imaps_port, true },
		{ "_imap", config->imap_port, false },
		{ "_pop3s", config->pop3s_port, true },
		{ "_pop3", config->pop3_port, false },
		{ "_submissions", config->smtps_port, true },
		{ "_submission", config->submission_port, false },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].port != 0 && (tls || !rows[i].needs_tls))
			printf("%s._tcp.%s. IN SRV 0 1 %u %s.\n", rows[i].service, domain, rows[i].port,
			       host);
}

int domain_cmd_dns(struct admin *admin, int argc, char **argv)
{
	const struct config *config = admin->config;
	const char *host = config->public_hostname != NULL ? config->public_hostname
							   : config->hostname;
	char domain[STORE_DOMAIN_MAX + 1];
	struct store_dkim *key;
	const char *error = NULL;
	int r, code = ADMIN_EXIT_OK;

	(void)argc;
	r = store_domain_ascii(argv[0], domain, &error);
	if (r <= 0)
		return admin_fail(r < 0 ? ADMIN_EXIT_TEMPFAIL : ADMIN_EXIT_DATAERR, "%s: %s",
				  admin_arg(argv[0]), error);
	r = store_domain_is_local(admin->store, domain, &error);
	if (r <= 0)
		return admin_store_fail(r, ADMIN_EXIT_DATAERR, domain,
					r == 0 ? "not a local domain" : error);
	if ((key = malloc(sizeof(*key))) == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	admin_say("the DNS records of %s (mail host %s): MX, SPF, DKIM, a DMARC starting "
		  "point, and client set-up", domain, host);
	printf("%s. IN MX 10 %s.\n", domain, host);
	/* SPF (RFC 7208): the MX hosts send the domain's mail. */
	printf("%s.", domain);
	txt_print("v=spf1 mx -all");
	r = store_dkim_get(admin->store, domain, key, &error);
	if (r < 0)
		code = admin_store_fail(r, 0, domain, error);
	else if (r == 1)
		code = dkim_record_print(domain, key);
	else
		admin_say("%s has no DKIM key (no record for it): pillarbox domain dkim %s --new",
			  domain, domain);
	/* DMARC (RFC 7489): p=none only reports; tighten once reports are clean. */
	printf("_dmarc.%s.", domain);
	char dmarc[STORE_DOMAIN_MAX + 64];

	snprintf(dmarc, sizeof(dmarc), "v=DMARC1; p=none; rua=mailto:postmaster@%s", domain);
	txt_print(dmarc);
	/* Thunderbird's autoconfig and Outlook's autodiscover hosts (the web
	 * server routes both to the webmail), and the SRV records. */
	printf("autoconfig.%s. IN CNAME %s.\n", domain, host);
	printf("autodiscover.%s. IN CNAME %s.\n", domain, host);
	printf("_autodiscover._tcp.%s. IN SRV 0 1 443 %s.\n", domain, host);
	srv_print(config, domain, host);
	password_wipe(key, sizeof(*key));
	free(key);
	return code;
}
