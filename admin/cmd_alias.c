/* pillarbox alias add SRC TARGET... | del SRC [TARGET] | list */
#include <stdio.h>
#include <stdlib.h>

#include "admin.h"

/* store_resolve's answer for `address` (targets dropped). */
static enum store_resolve_result alias_resolve(struct admin *admin, const char *address)
{
	struct store_rcpt_target *targets = calloc(STORE_ALIAS_TARGETS_MAX, sizeof(*targets));
	const char *error = NULL;
	size_t n = 0;

	if (targets == NULL)
		return STORE_RESOLVE_ERROR;
	enum store_resolve_result res = store_resolve(admin->store, address, targets,
						      STORE_ALIAS_TARGETS_MAX, &n, &error);
	free(targets);
	return res;
}

bool admin_alias_reaches(struct admin *admin, const char *address, uint32_t user_id)
{
	struct store_rcpt_target *targets = calloc(STORE_ALIAS_TARGETS_MAX, sizeof(*targets));
	const char *error = NULL;
	size_t n = 0;
	bool reaches = true; /* in doubt (a store error): nothing to warn about */

	if (targets != NULL && store_resolve(admin->store, address, targets, STORE_ALIAS_TARGETS_MAX,
					     &n, &error) == STORE_RESOLVE_OK) {
		reaches = false;
		for (size_t i = 0; i < n && !reaches; i++)
			reaches = targets[i].kind == STORE_RCPT_LOCAL && targets[i].user_id == user_id;
	}
	free(targets);
	return reaches;
}

/* An alias on a user's own address takes that address's mail (the alias
 * is looked up first, as Postfix's virtual aliases are): said, since a
 * typo would otherwise empty someone's mailbox without a word. */
static void alias_source_check(struct admin *admin, const char *source)
{
	struct store_user user;
	const char *error = NULL;

	if (source[0] == '@' || store_user_find(admin->store, source, &user, &error) != 1 ||
	    admin_alias_reaches(admin, source, user.id))
		return;
	const char *a = admin_arg(source);
	admin_say("warning: %s is a user: the alias takes its mail, which now goes to the "
		  "alias's targets and not to that mailbox; to keep a copy there: "
		  "pillarbox alias add %s %s", a, a, a);
}

/* A target in a local domain that is no user or alias contributes nothing
 * (alias.c): said, not refused, since the admin may create it next. Mail
 * to the source is refused (550 5.1.1) while no other target reaches
 * anyone. Remote targets are not checked. */
static void alias_targets_check(struct admin *admin, int argc, char **argv)
{
	enum store_resolve_result source = argv[0][0] == '@' ? STORE_RESOLVE_NO_USER
							     : alias_resolve(admin, argv[0]);

	for (int i = 1; i < argc; i++) {
		/* a domain alias (@other) is checked by the store: a local domain */
		if (argv[i][0] == '@' || alias_resolve(admin, argv[i]) != STORE_RESOLVE_NO_USER)
			continue;
		if (source == STORE_RESOLVE_NO_USER)
			admin_say("warning: %s is no user or alias here: mail to %s will be "
				  "refused until that user or alias exists", admin_arg(argv[i]),
				  admin_arg(argv[0]));
		else
			admin_say("warning: %s is no user or alias here: it gets none of the "
				  "mail to %s until that user or alias exists", admin_arg(argv[i]),
				  admin_arg(argv[0]));
	}
}

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
	if (code == ADMIN_EXIT_OK) {
		alias_targets_check(admin, argc, argv);
		alias_source_check(admin, argv[0]);
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
	{ "add", "SOURCE TARGET...", "deliver mail for SOURCE (or @domain) to the TARGETs; "
	  "@domain to @other: every address at domain is the same one at other",
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
