/* pillarbox domain add D | del D | list */
#include <stdio.h>
#include <stdlib.h>

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

static int domain_cmd_add(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_domain_add(admin->store, argv[0], &error);
	if (ret == 0 && error == NULL)
		error = "already exists";
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(argv[0]), error);
	admin_say("domain %s added", admin_arg(argv[0]));
	domain_postmaster_say(admin, argv[0]);
	return ADMIN_EXIT_OK;
}

static int domain_cmd_del(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_domain_del(admin->store, argv[0], &error);
	if (ret == 0 && error == NULL)
		error = "no such domain";
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(argv[0]), error);
	admin_say("domain %s deleted", admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

static int domain_print(const char *domain, void *ctx)
{
	(void)ctx;
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

static const struct admin_verb domain_verbs[] = {
	{ "add", "DOMAIN", "make DOMAIN local; says where its postmaster@ goes "
	  "(postmaster = in pillarbox.conf)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_add },
	{ "del", "DOMAIN", "remove DOMAIN (refused while it has users or aliases)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_del },
	{ "list", "", "the local domains, one a line",
	  0, 0, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_list },
};

const struct admin_noun admin_noun_domain = {
	"domain", "Local domains. A domain's postmaster@ and abuse@ go to its own alias, user or\n"
	"catch-all, else to the address of postmaster = in pillarbox.conf (RFC 5321 4.5.1).\n"
	"bob+tag@DOMAIN reaches whom bob@DOMAIN reaches (recipient_delimiter = +).",
	domain_verbs, sizeof(domain_verbs) / sizeof(domain_verbs[0]),
};
