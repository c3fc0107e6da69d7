/* pillarbox domain add D | del D | list | migrate D (dkim and dns: cmd_dkim.c) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

/* RFC 5321 4.5.1: every mail domain MUST accept postmaster. Says where
 * postmaster@domain goes, or how to make it reach a person. */
static void domain_postmaster_say(struct admin *admin, const char *domain)
{
	struct store_rcpt_target *targets = calloc(STORE_ALIAS_TARGETS_MAX, sizeof(*targets));
	const char *pm = admin->config->postmaster, *error = NULL;
	char address[STORE_ADDRESS_MAX + 16];
	size_t n = 0;

	if (targets == NULL)
		return;
	snprintf(address, sizeof(address), "postmaster@%s", domain);
	enum store_resolve_result res = store_resolve(admin->store, address, targets,
						      STORE_ALIAS_TARGETS_MAX, &n, &error);
	free(targets);
	if (res == STORE_RESOLVE_ERROR)
		return; /* the domain is added; a wrong hint would not help */
	if (res == STORE_RESOLVE_OK && pm != NULL)
		admin_say("postmaster@%s goes to %s (postmaster in %s)", admin_arg(domain),
			  admin_arg(pm), admin_arg(admin->config->path));
	else if (res != STORE_RESOLVE_OK && pm != NULL)
		admin_say("postmaster@%s reaches nobody yet: %s (postmaster in %s) is no user "
			  "or alias here", admin_arg(domain), admin_arg(pm),
			  admin_arg(admin->config->path));
	else if (res != STORE_RESOLVE_OK)
		admin_say("postmaster@%s must reach a person: pillarbox alias add postmaster@%s "
			  "ADDRESS, or set postmaster in %s", admin_arg(domain), admin_arg(domain),
			  admin_arg(admin->config->path));
}

/* How a message names the domain `given`: as given, or for an
 * internationalized one both forms, "xn--mller-bau-q9a.de (müller-bau.de)":
 * the store keeps the first, people know the second. */
static const char *domain_shown(const char *given, char *buf, size_t size)
{
	char ascii[STORE_DOMAIN_MAX + 1], unicode[4 * STORE_DOMAIN_MAX + 1];
	const char *error = NULL;

	if (store_domain_ascii(given, ascii, &error) != 1 ||
	    store_domain_unicode(ascii, unicode, sizeof(unicode)) != 1)
		return admin_arg(given);
	snprintf(buf, size, "%s (%s)", ascii, admin_arg(unicode));
	return buf;
}

static int domain_cmd_add(struct admin *admin, int argc, char **argv)
{
	char shown[6 * STORE_DOMAIN_MAX];
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_domain_add(admin->store, argv[0], &error);
	if (ret == 0 && error == NULL)
		error = "already exists";
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(argv[0]), error);
	admin_say("domain %s added", domain_shown(argv[0], shown, sizeof(shown)));
	domain_postmaster_say(admin, argv[0]);
	return ADMIN_EXIT_OK;
}

static int domain_cmd_del(struct admin *admin, int argc, char **argv)
{
	char shown[6 * STORE_DOMAIN_MAX];
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_domain_del(admin->store, argv[0], &error);
	if (ret == 0 && error == NULL)
		error = "no such domain";
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(argv[0]), error);
	admin_say("domain %s deleted", domain_shown(argv[0], shown, sizeof(shown)));
	return ADMIN_EXIT_OK;
}

/* One name a line, as stored (A-labels: what every command, DNS and a
 * script take); an internationalized one is followed by a tab and its
 * U-labels, for people. ASCII lines are as they always were. */
static int domain_print(const char *domain, void *ctx)
{
	char unicode[4 * STORE_DOMAIN_MAX + 1];

	(void)ctx;
	if (store_domain_unicode(domain, unicode, sizeof(unicode)) == 1)
		return printf("%s\t%s\n", domain, unicode) < 0 ? -1 : 0;
	return printf("%s\n", domain) < 0 ? -1 : 0;
}

static int domain_cmd_list(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;

	(void)argc;
	(void)argv;
	if (store_domain_list(admin->store, domain_print, NULL, &error) < 0)
		return admin_store_fail(-1, 0, "domain list", error);
	return ADMIN_EXIT_OK;
}

static int domain_cmd_migrate(struct admin *admin, int argc, char **argv)
{
	char ascii[STORE_DOMAIN_MAX + 1];
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_domain_migrate(admin->store, argv[0], ascii, &error);
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(argv[0]), error);
	admin_say("domain %s moved to %s with its users and aliases", admin_arg(argv[0]), ascii);
	return ADMIN_EXIT_OK;
}

static const struct admin_verb domain_verbs[] = {
	{ "add", "DOMAIN", "make DOMAIN local; says where its postmaster@ goes "
	  "(postmaster = in pillarbox.conf)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_add },
	{ "del", "DOMAIN", "remove DOMAIN (refused while it has users or aliases)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_del },
	{ "list", "", "the local domains, one a line (an internationalized one in "
	  "A-labels, a tab, then in U-labels)",
	  0, 0, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_list },
	{ "migrate", "DOMAIN", "move DOMAIN, stored in U-labels by a version before IDNA "
	  "('store check' names it), to its A-labels with its users and aliases",
	  1, 1, ADMIN_STORE_OPEN, false, NULL, NULL, domain_cmd_migrate },
	{ "dkim", "DOMAIN [--new [--selector S] [--algorithm rsa-2048|ed25519] | --activate | "
	  "--delete [--pending]]",
	  "DOMAIN's DKIM keys, active and pending, with their DNS records; --new makes a "
	  "pending key (rsa-2048, selector pbYYYYMM by default) that signs nothing until "
	  "--activate, run once its record is published, makes it the signing key; "
	  "--delete stops signing (--pending: drops the pending key only)",
	  1, 6, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_dkim },
	{ "dns", "DOMAIN", "the DNS records DOMAIN's owner publishes: MX, SPF, DKIM, DMARC, "
	  "autoconfig/autodiscover and SRV",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_dns },
};

const struct admin_noun admin_noun_domain = {
	"domain", "Local domains. An internationalized domain is one domain in either form\n"
	"(müller-bau.de = xn--mller-bau-q9a.de: IDNA2008), stored in its A-labels.\n"
	"A domain's postmaster@ and abuse@ go to its own alias, user or catch-all,\n"
	"else to the address of postmaster = in pillarbox.conf (RFC 5321 4.5.1).\n"
	"bob+tag@DOMAIN reaches whom bob@DOMAIN reaches (recipient_delimiter = +).\n"
	"Mail a logged-in user sends From: a domain with an active DKIM key is signed\n"
	"by the relay with it (RFC 6376). A new key is pending (it signs nothing) until\n"
	"its DNS record is published and 'domain dkim DOMAIN --activate' is run;\n"
	"deleting the domain deletes its keys.",
	domain_verbs, sizeof(domain_verbs) / sizeof(domain_verbs[0]),
};
