/* pillarbox domain dkim DOMAIN [--new [--selector S] [--algorithm A] |
 * --activate | --delete [--pending]] and pillarbox domain dns DOMAIN: a
 * domain's DKIM keys and the DNS records its owner publishes. Records go to
 * stdout in zone-file form, one a line; what to do with them to stderr.
 *
 * A rotation takes two steps, as with OpenDKIM: --new makes a pending key
 * that signs nothing and prints its record; once that record is published
 * and visible, --activate makes it the signing key. The first key of a
 * domain is pending too, and there is no --new --activate: a key cannot have
 * been published before it exists, so signing with it at once would be the
 * failing signatures this order is here to avoid. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin.h"
#include "dkim.h"
#include "mta_sts.h"
#include "srs.h"

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

#define DKIM_USAGE "pillarbox domain dkim DOMAIN [--new [--selector S] " \
	"[--algorithm rsa-2048|ed25519] | --activate | --delete [--pending]]"

struct dkim_args {
	const char *domain, *selector, *algorithm;
	bool new_key, activate, delete, pending;
};

static int dkim_args_parse(int argc, char **argv, struct dkim_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--new") == 0) {
			a->new_key = true;
		} else if (strcmp(argv[i], "--activate") == 0) {
			a->activate = true;
		} else if (strcmp(argv[i], "--delete") == 0) {
			a->delete = true;
		} else if (strcmp(argv[i], "--pending") == 0) {
			a->pending = true;
		} else if (strcmp(argv[i], "--selector") == 0 && i + 1 < argc) {
			a->selector = argv[++i];
		} else if (strcmp(argv[i], "--algorithm") == 0 && i + 1 < argc) {
			a->algorithm = argv[++i];
		} else if (argv[i][0] == '-' || a->domain != NULL) {
			return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: unexpected '%s' (usage: "
					  DKIM_USAGE ")", admin_arg(argv[i]));
		} else {
			a->domain = argv[i];
		}
	}
	if (a->domain == NULL)
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim needs a DOMAIN");
	if (a->new_key && a->activate)
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: --new and --activate are two "
				  "steps: publish the new key's record between them");
	if ((int)a->new_key + (int)a->activate + (int)a->delete > 1)
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: give one of --new, --activate "
				  "and --delete");
	if (!a->new_key && (a->selector != NULL || a->algorithm != NULL))
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: --selector and --algorithm go "
				  "with --new");
	if (a->pending && !a->delete)
		return admin_fail(ADMIN_EXIT_USAGE, "domain dkim: --pending goes with --delete");
	return ADMIN_EXIT_OK;
}

/* "pbYYYYMM" (a new key a month at most is the common case), or with the
 * day and time when a key of the domain has that name already: a new key
 * never takes the name of one whose record is published. */
static void selector_default(const struct store_dkim_keys *keys,
			     char out[STORE_DKIM_SELECTOR_MAX + 1])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, STORE_DKIM_SELECTOR_MAX + 1, "pb%Y%m", &tm);
	if ((keys->has_active && strcmp(out, keys->active.selector) == 0) ||
	    (keys->has_pending && strcmp(out, keys->pending.selector) == 0))
		strftime(out, STORE_DKIM_SELECTOR_MAX + 1, "pb%Y%m%d%H%M%S", &tm);
}

/* What to do with a pending key's record. */
static void dkim_next_step(const char *domain, const char *selector)
{
	admin_say("publish this record, wait for it to be visible (e.g. dig TXT "
		  "%s._domainkey.%s), then run: pillarbox domain dkim %s --activate", selector,
		  domain, domain);
}

static int dkim_new(struct admin *admin, const struct dkim_args *a, const char *domain,
		    const struct store_dkim_keys *keys)
{
	struct store_dkim *key = malloc(sizeof(*key));
	const char *error = NULL;
	unsigned bits = DKIM_RSA_BITS_DEFAULT;
	char *pem = NULL;
	size_t len = 0;
	int r, code;

	if (key == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	memset(key, 0, sizeof(*key));
	key->alg = DKIM_ALG_RSA;
	if (a->algorithm != NULL && alg_parse(a->algorithm, &key->alg, &bits) < 0) {
		code = admin_fail(ADMIN_EXIT_USAGE, "domain dkim: unknown algorithm '%s' (rsa-%d "
				  "to rsa-%d, or ed25519; rsa-2048 by default)",
				  admin_arg(a->algorithm), DKIM_RSA_BITS_MIN, DKIM_RSA_BITS_MAX);
		goto out;
	}
	if (a->selector != NULL) {
		if (!store_dkim_selector_valid(a->selector)) {
			code = admin_fail(ADMIN_EXIT_DATAERR, "invalid DKIM selector '%s': one DNS "
					  "label of lowercase letters, digits and inner '-'",
					  admin_arg(a->selector));
			goto out;
		}
		snprintf(key->selector, sizeof(key->selector), "%s", a->selector);
	} else {
		selector_default(keys, key->selector);
	}
	if (dkim_key_generate(key->alg, bits, &pem, &len, &error) < 0) {
		code = admin_fail(ADMIN_EXIT_TEMPFAIL, "%s: %s", domain, error);
		goto out;
	}
	if (len > DKIM_KEY_PEM_MAX) {
		password_wipe(pem, len);
		free(pem);
		code = admin_fail(ADMIN_EXIT_DATAERR, "%s: the new key is too large", domain);
		goto out;
	}
	memcpy(key->pem, pem, len + 1);
	key->pem_len = len;
	key->created = (int64_t)time(NULL);
	password_wipe(pem, len);
	free(pem);
	r = store_dkim_pending_set(admin->store, domain, key, &error);
	if (r <= 0) {
		code = admin_store_fail(r, ADMIN_EXIT_DATAERR, domain, error);
		goto out;
	}
	admin_say("%s: new DKIM key, selector %s (%s), pending: nothing is signed with it yet%s%s%s",
		  domain, key->selector, dkim_alg_sig_name(key->alg),
		  keys->has_active ? "; mail goes on being signed with selector " : "",
		  keys->has_active ? keys->active.selector : "",
		  keys->has_active ? " until then" : " (mail goes unsigned until then)");
	if (keys->has_pending && strcmp(keys->pending.selector, key->selector) != 0)
		admin_say("it replaces the pending key of selector %s, whose record is no longer "
			  "needed", keys->pending.selector);
	dkim_next_step(domain, key->selector);
	code = dkim_record_print(domain, key);
out:
	password_wipe(key, sizeof(*key));
	free(key);
	return code;
}

static int dkim_activate(struct admin *admin, const char *domain)
{
	struct store_dkim *old = malloc(sizeof(*old));
	struct store_dkim_keys *keys = malloc(sizeof(*keys));
	const char *error = NULL;
	int r, code = ADMIN_EXIT_OK;

	if (old == NULL || keys == NULL) {
		free(old);
		free(keys);
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	}
	r = store_dkim_activate(admin->store, domain, old, &error);
	if (r <= 0) {
		code = admin_store_fail(r, ADMIN_EXIT_DATAERR, domain, error);
		if (r == 0 && store_domain_is_local(admin->store, domain, &error) == 1)
			admin_say("make one with: pillarbox domain dkim %s --new, publish its "
				  "record, then --activate", domain);
	} else {
		r = store_dkim_keys_get(admin->store, domain, keys, &error);
		admin_say("%s: mail is signed with selector %s from now on", domain,
			  r == 1 && keys->has_active ? keys->active.selector : "(unknown)");
		if (old->selector[0] != '\0')
			admin_say("the key of selector %s is forgotten: its record "
				  "%s._domainkey.%s may be removed after a few days, once the mail "
				  "it signed has arrived", old->selector, old->selector, domain);
	}
	password_wipe(old, sizeof(*old));
	password_wipe(keys, sizeof(*keys));
	free(old);
	free(keys);
	return code;
}

/* Both keys with their states and records. */
static int dkim_show(const char *domain, const struct store_dkim_keys *keys)
{
	const struct store_dkim *k[2] = { keys->has_active ? &keys->active : NULL,
					   keys->has_pending ? &keys->pending : NULL };
	int code = ADMIN_EXIT_OK;

	for (int i = 0; i < 2; i++) {
		char when[32];
		struct tm tm;
		time_t t;

		if (k[i] == NULL)
			continue;
		t = (time_t)k[i]->created;
		strftime(when, sizeof(when), "%Y-%m-%d", gmtime_r(&t, &tm));
		if (i == 0)
			admin_say("%s signs with selector %s (%s, made %s), active: keep this record "
				  "published", domain, k[i]->selector, dkim_alg_sig_name(k[i]->alg),
				  when);
		else
			admin_say("%s has a pending key, selector %s (%s, made %s), not used yet: %s",
				  domain, k[i]->selector, dkim_alg_sig_name(k[i]->alg), when,
				  "publish its record, then --activate it");
		int r = dkim_record_print(domain, k[i]);

		if (r != ADMIN_EXIT_OK)
			code = r;
	}
	if (!keys->has_active)
		admin_say("mail from %s is not signed until the pending key is activated: "
			  "pillarbox domain dkim %s --activate", domain, domain);
	return code;
}

int domain_cmd_dkim(struct admin *admin, int argc, char **argv)
{
	char domain[STORE_DOMAIN_MAX + 1];
	struct dkim_args a;
	struct store_dkim_keys *keys;
	const char *error = NULL;
	int code = dkim_args_parse(argc, argv, &a), r;

	if (code != ADMIN_EXIT_OK)
		return code;
	r = store_domain_ascii(a.domain, domain, &error);
	if (r <= 0)
		return admin_fail(r < 0 ? ADMIN_EXIT_TEMPFAIL : ADMIN_EXIT_DATAERR, "%s: %s",
				  admin_arg(a.domain), error);
	if (a.delete) {
		r = store_dkim_del(admin->store, domain, a.pending, &error);
		if (r <= 0)
			return admin_store_fail(r, ADMIN_EXIT_DATAERR, domain, error);
		if (a.pending)
			admin_say("%s: pending DKIM key deleted (its record is no longer needed)",
				  domain);
		else
			admin_say("%s: DKIM keys deleted; mail from %s is no longer signed (the "
				  "active key's record may go once the mail it signed has arrived)",
				  domain, domain);
		return ADMIN_EXIT_OK;
	}
	if (a.activate)
		return dkim_activate(admin, domain);
	r = store_domain_is_local(admin->store, domain, &error);
	if (r <= 0)
		return admin_store_fail(r, ADMIN_EXIT_DATAERR, domain,
					r == 0 ? "not a local domain" : error);
	if ((keys = malloc(sizeof(*keys))) == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	r = store_dkim_keys_get(admin->store, domain, keys, &error);
	if (r == 0 && a.new_key) {
		/* the domain's first key */
		keys->has_active = keys->has_pending = false;
		r = 1;
	}
	if (r <= 0) {
		code = admin_store_fail(r, ADMIN_EXIT_DATAERR, domain, error);
		if (r == 0)
			admin_say("make one with: pillarbox domain dkim %s --new", domain);
	} else if (a.new_key) {
		code = dkim_new(admin, &a, domain, keys);
	} else {
		code = dkim_show(domain, keys);
	}
	password_wipe(keys, sizeof(*keys));
	free(keys);
	return code;
}

/* ------------------------------------------------------------------- dns */

/* The SRV records of RFC 6186, RFC 8314 and RFC 5804 for what the configuration
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
		{ "_sieve", config->managesieve_port, false }, /* RFC 5804 1.8 */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].port != 0 && (tls || !rows[i].needs_tls))
			printf("%s._tcp.%s. IN SRV 0 1 %u %s.\n", rows[i].service, domain, rows[i].port,
			       host);
}

/* `name` as the target of an MX, CNAME or SRV record into dst, without a
 * trailing dot: 1, or 0 when it is none. Targets are host names, never
 * addresses (RFC 2181 10.3, RFC 7505). The configuration takes an IPv4
 * address as a host name: its last label is all digits, which no top-level
 * domain is (RFC 3696 2). A single label ("localhost") is no name in the
 * DNS either. */
static int dns_target(const char *name, char dst[STORE_DOMAIN_MAX + 1])
{
	size_t len = name != NULL ? strlen(name) : 0;
	const char *dot;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > STORE_DOMAIN_MAX || !config_dns_name_valid(name, len))
		return 0;
	memcpy(dst, name, len);
	dst[len] = '\0';
	if ((dot = strrchr(dst, '.')) == NULL || dot[1 + strspn(dot + 1, "0123456789")] == '\0')
		return 0;
	return 1;
}

/* A name for host_records_print: 1 a host name that is no local domain
 * (a local domain's records are its own: one SPF record a name, RFC 7208
 * 3.2), else 0. */
static int host_name_own(struct admin *admin, const char *name, char dst[STORE_DOMAIN_MAX + 1])
{
	const char *error = NULL;
	return dns_target(name, dst) && store_domain_is_local(admin->store, dst, &error) == 0;
}

/* The records of the mail host's own names, the same for every domain:
 * SPF for its HELO name, which receivers check for bounces (their MAIL FROM
 * is empty, RFC 7208 2.3), and for the SRS domain, the MAIL FROM of
 * forwarded mail (srs.h: srs_domain, else the HELO name), which also needs
 * an MX for the bounces of forwarded mail (host: the MX records' host). */
static void host_records_print(struct admin *admin, const char *host)
{
	const struct config *config = admin->config;
	char helo[STORE_DOMAIN_MAX + 1], srs[STORE_DOMAIN_MAX + 1], spf[STORE_DOMAIN_MAX + 32];
	char name[STORE_DOMAIN_MAX + 1];

	bool helo_own = host_name_own(admin, config->hostname, helo);
	bool srs_own = host_name_own(admin, srs_domain(config, name), srs);
	bool srs_is_helo = helo_own && srs_own && strcasecmp(srs, helo) == 0;
	srs_own = srs_own && !srs_is_helo;
	if (helo_own || srs_own)
		printf("; for every domain alike: %s%s%s\n",
		       helo_own ? "SPF for the mail host's name (bounces" : "",
		       helo_own ? (srs_is_helo ? " and forwarded mail, SRS)" : ")") : "",
		       srs_own ? (helo_own ? ", then the SRS domain's MX and SPF (forwarded mail)"
				 : "the SRS domain's MX and SPF (forwarded mail)") : "");
	if (helo_own) {
		printf("%s.", helo);
		txt_print("v=spf1 a -all");
	}
	if (srs_own) {
		printf("%s. IN MX 10 %s.\n", srs, host);
		snprintf(spf, sizeof(spf), "v=spf1 a:%s -all", helo_own ? helo : host);
		printf("%s.", srs);
		txt_print(spf);
	}
}

/* The mail host the records name into host: public_hostname, else hostname,
 * else (neither is a host name) the placeholder mail.DOMAIN, which a
 * comment line above the records and stderr say to replace. */
static void dns_host(const struct admin *admin, const char *domain,
		     char host[STORE_DOMAIN_MAX + 1])
{
	const struct config *config = admin->config;
	const char *pub = config->public_hostname;

	if (dns_target(pub != NULL ? pub : config->hostname, host))
		return;
	if (pub != NULL && dns_target(config->hostname, host)) {
		admin_say("public_hostname %s is no host name (MX, CNAME and SRV records name "
			  "hosts, RFC 2181 10.3): the records name hostname %s instead",
			  admin_arg(pub), host);
		return;
	}
	const char *key = pub != NULL ? "public_hostname" : "hostname";

	snprintf(host, STORE_DOMAIN_MAX + 1, "mail.%.*s", STORE_DOMAIN_MAX - 5, domain);
	admin_say("warning: %s %s is no host name (MX, CNAME and SRV records name hosts, "
		  "RFC 2181 10.3): the records name %s as a placeholder; set %s in %s to "
		  "this server's host name", key, admin_arg(pub != NULL ? pub : config->hostname),
		  host, key, admin_arg(config->path));
	printf("; %s. below is a placeholder: set %s in %s to this server's host name\n", host,
	       key, admin_arg(config->path));
}

/* MTA-STS (mta_sts.h): the policy host, the record that announces the
 * policy (its id changes with it) and where TLS reports go (RFC 8460). */
static void mta_sts_print(struct admin *admin, const char *domain, const char *host)
{
	char policy[MTA_STS_POLICY_MAX], id[MTA_STS_ID_LEN + 1], txt[STORE_DOMAIN_MAX + 64];
	size_t len = mta_sts_policy(admin->config, policy);
	char mx[STORE_DOMAIN_MAX + 16];
	int n = snprintf(mx, sizeof(mx), "\r\nmx: %s\r\n", host);
	for (int i = 0; i < n && (size_t)i < sizeof(mx); i++)   /* the policy's is lowercase */
		mx[i] = (char)tolower((unsigned char)mx[i]);
	if (len == 0 || strstr(policy, mx) == NULL) {
		admin_say("no MTA-STS policy (no records for it): it needs tls_cert and the MX's "
			  "host name in %s", admin_arg(admin->config->path));
		return;
	}
	switch (admin->config->mta_sts) {
	case CONFIG_MTA_STS_NONE:
		admin_say("mta_sts = none: the policy says \"mode: none\", which withdraws one "
			  "published before; keep its records a week (its max_age), then delete them");
		break;
	case CONFIG_MTA_STS_TESTING:
		admin_say("MTA-STS, mode testing: senders that support it deliver anyway and "
			  "report TLS failures to postmaster@%s; once the reports are clean, set "
			  "mta_sts = enforce", domain);
		break;
	case CONFIG_MTA_STS_ENFORCE:
		admin_say("MTA-STS, mode enforce: senders that support it deliver to this MX over "
			  "verified TLS only");
		break;
	}
	admin_say("the web server must answer https://mta-sts.%s/.well-known/mta-sts.txt "
		  "(a certificate for that name)", domain);
	printf("mta-sts.%s. IN CNAME %s.\n", domain, host);
	mta_sts_id(policy, len, id);
	snprintf(txt, sizeof(txt), "v=STSv1; id=%s", id);
	printf("_mta-sts.%s.", domain);
	txt_print(txt);
	snprintf(txt, sizeof(txt), "v=TLSRPTv1; rua=mailto:postmaster@%s", domain);
	printf("_smtp._tls.%s.", domain);
	txt_print(txt);
}

int domain_cmd_dns(struct admin *admin, int argc, char **argv)
{
	const struct config *config = admin->config;
	char host[STORE_DOMAIN_MAX + 1];
	char domain[STORE_DOMAIN_MAX + 1];
	struct store_dkim_keys *keys;
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
	if ((keys = malloc(sizeof(*keys))) == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	dns_host(admin, domain, host);
	admin_say("the DNS records of %s (mail host %s): MX, SPF, DKIM, a DMARC starting "
		  "point, and client set-up", domain, host);
	printf("%s. IN MX 10 %s.\n", domain, host);
	/* SPF (RFC 7208): the MX hosts send the domain's mail. */
	printf("%s.", domain);
	txt_print("v=spf1 mx -all");
	host_records_print(admin, host);
	if (config->relayhost != NULL)
		admin_say("mail leaves through relayhost %s: add its senders to the SPF records "
			  "(its provider names them, often as an include:)", admin_arg(config->relayhost));
	r = store_dkim_keys_get(admin->store, domain, keys, &error);
	if (r < 0) {
		code = admin_store_fail(r, 0, domain, error);
	} else if (r == 1) {
		/* the active key's record, then the pending one's (to publish
		 * before --activate) */
		if (keys->has_active)
			code = dkim_record_print(domain, &keys->active);
		if (keys->has_pending) {
			admin_say("%s: the DKIM key of selector %s is pending: publish its record, "
				  "then pillarbox domain dkim %s --activate", domain,
				  keys->pending.selector, domain);
			r = dkim_record_print(domain, &keys->pending);
			if (r != ADMIN_EXIT_OK)
				code = r;
		}
	} else {
		admin_say("%s has no DKIM key (no record for it): pillarbox domain dkim %s --new",
			  domain, domain);
	}
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
	mta_sts_print(admin, domain, host);
	password_wipe(keys, sizeof(*keys));
	free(keys);
	return code;
}
