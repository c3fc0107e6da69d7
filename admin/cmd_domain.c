/* pillarbox domain add D | del D | list */
#include <stdio.h>

#include "admin.h"

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
	/* RFC 5321 4.5.1: every mail domain MUST accept postmaster, and the
	 * store has nobody to give it to until the admin says who. */
	admin_say("postmaster@%s must reach a person: pillarbox alias add postmaster@%s ADDRESS",
		  admin_arg(argv[0]), admin_arg(argv[0]));
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
	{ "add", "DOMAIN", "make DOMAIN local (mail for it is delivered here)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_add },
	{ "del", "DOMAIN", "remove DOMAIN (refused while it has users or aliases)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_del },
	{ "list", "", "the local domains, one a line",
	  0, 0, ADMIN_STORE_OPEN, true, NULL, NULL, domain_cmd_list },
};

const struct admin_noun admin_noun_domain = {
	"domain", "Local domains.",
	domain_verbs, sizeof(domain_verbs) / sizeof(domain_verbs[0]),
};
