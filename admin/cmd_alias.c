/* pillarbox alias add SRC TARGET... | del SRC [TARGET] | list */
#include <stdio.h>

#include "admin.h"

static int alias_cmd_add(struct admin *admin, int argc, char **argv)
{
	int code = ADMIN_EXIT_OK;

	/* One transaction per target: each line says what happened to it. */
	for (int i = 1; i < argc; i++) {
		const char *error = NULL;
		int ret = store_alias_add(admin->store, argv[0], argv[i], &error);

		if (ret == 0 && error == NULL)
			error = "already exists";
		if (ret <= 0) {
			char what[600];

			snprintf(what, sizeof(what), "alias %s -> %s", admin_arg(argv[0]),
				 admin_arg(argv[i]));
			ret = admin_store_fail(ret, ADMIN_EXIT_DATAERR, what, error);
			/* A temporary failure outranks a refusal. */
			if (code != ADMIN_EXIT_TEMPFAIL)
				code = ret;
			continue;
		}
		admin_say("alias %s -> %s added", admin_arg(argv[0]), admin_arg(argv[i]));
	}
	return code;
}

static int alias_cmd_del(struct admin *admin, int argc, char **argv)
{
	const char *target = argc > 1 ? argv[1] : NULL, *error = NULL;
	int ret;

	ret = store_alias_del(admin->store, argv[0], target, &error);
	if (ret == 0 && error == NULL)
		error = "no such alias";
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(argv[0]), error);
	if (target != NULL)
		admin_say("alias %s -> %s deleted", admin_arg(argv[0]), admin_arg(target));
	else
		admin_say("alias %s deleted", admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

static int alias_print(const char *source, const char *target, void *ctx)
{
	(void)ctx;
	return printf("%s\t%s\n", source, target) < 0 ? -1 : 0;
}

static int alias_cmd_list(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;

	(void)argc;
	(void)argv;
	if (store_alias_list(admin->store, alias_print, NULL, &error) < 0)
		return admin_store_fail(-1, 0, "alias list", error);
	return ADMIN_EXIT_OK;
}

static const struct admin_verb alias_verbs[] = {
	{ "add", "SOURCE TARGET...", "deliver mail for SOURCE (or @domain) to the TARGETs",
	  2, 1 + STORE_ALIAS_TARGETS_MAX, ADMIN_STORE_OPEN, true, NULL, NULL, alias_cmd_add },
	{ "del", "SOURCE [TARGET]", "remove one target, or every target of SOURCE",
	  1, 2, ADMIN_STORE_OPEN, true, NULL, NULL, alias_cmd_del },
	{ "list", "", "every alias as SOURCE<tab>TARGET, one a line",
	  0, 0, ADMIN_STORE_OPEN, true, NULL, NULL, alias_cmd_list },
};

const struct admin_noun admin_noun_alias = {
	"alias", "Aliases: an address (or @domain, a catch-all) delivered to other addresses.",
	alias_verbs, sizeof(alias_verbs) / sizeof(alias_verbs[0]),
};
