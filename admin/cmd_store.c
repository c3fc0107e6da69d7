/* pillarbox store init | check | backup DIR | restore DIR | maintain | stats | upgrade */
#include <stdio.h>

#include "admin.h"

/* `store maintain` collects body files that no message references once they
 * are this old: a body is written before the transaction that references it
 * commits, and no delivery or APPEND takes an hour between the two. */
#define ADMIN_ORPHAN_AGE 3600

static const char *store_dir_of_config(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return admin->config->store;
}

static const char *store_dir_of_arg(struct admin *admin, int argc, char **argv)
{
	(void)admin;
	(void)argc;
	return argv[0];
}

static int store_cmd_init(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;

	(void)argc;
	(void)argv;
	if (store_init(admin->config, &error) < 0)
		return admin_fail(ADMIN_EXIT_CANTCREAT, "store init: %s", error);
	admin_say("store created in %s", admin->config->store);
	return ADMIN_EXIT_OK;
}

static int store_cmd_check(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	int problems;

	(void)argc;
	(void)argv;
	problems = store_check(admin->config, stdout, &error);
	if (problems < 0)
		return admin_store_fail(-1, 0, "store check", error);
	if (problems > 0)
		return admin_fail(ADMIN_EXIT_DATAERR, "store check: %d problem%s found", problems,
				  problems == 1 ? "" : "s");
	admin_say("store check: no problems found");
	return ADMIN_EXIT_OK;
}

static int store_cmd_backup(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;

	(void)argc;
	if (store_backup_config(admin->config, argv[0], &error) < 0)
		return admin_fail(ADMIN_EXIT_CANTCREAT, "store backup: %s", error);
	admin_say("backup written to %s", admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

static int store_cmd_restore(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;

	(void)argc;
	if (store_restore(admin->config, argv[0], &error) < 0)
		return admin_fail(ADMIN_EXIT_CANTCREAT, "store restore: %s", error);
	admin_say("store restored from %s into %s", admin_arg(argv[0]), admin->config->store);
	return ADMIN_EXIT_OK;
}

static int store_cmd_maintain(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;

	(void)argc;
	(void)argv;
	if (store_maintain(admin->store, ADMIN_ORPHAN_AGE, &error) < 0)
		return admin_store_fail(-1, 0, "store maintain", error);
	return ADMIN_EXIT_OK;
}

static int store_cmd_stats(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;

	(void)argc;
	(void)argv;
	if (store_stats(admin->store, stdout, true, &error) < 0)
		return admin_store_fail(-1, 0, "store stats", error);
	return ADMIN_EXIT_OK;
}

static int store_cmd_upgrade(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	uint32_t from;
	unsigned copied;

	(void)argc;
	(void)argv;
	int r = store_upgrade(admin->config, &from, &copied, &error);
	if (r < 0)
		return admin_store_fail(-1, 0, "store upgrade", error);
	if (r == 0)
		admin_say("store format %u is this program's: nothing to upgrade", from);
	else
		admin_say("store upgraded from format %u to %u (%u records moved)", from,
			  STORE_FORMAT_VERSION, copied);
	return ADMIN_EXIT_OK;
}

static const struct admin_verb store_verbs[] = {
	{ "init", "", "create a new store in the configured directory",
	  0, 0, ADMIN_STORE_NONE, true, store_dir_of_config, NULL, store_cmd_init },
	{ "check", "", "verify a copy of the store; problems on stdout, one a line",
	  0, 0, ADMIN_STORE_NONE, false, NULL, NULL, store_cmd_check },
	{ "backup", "DIR", "hot backup into DIR (new or empty)",
	  1, 1, ADMIN_STORE_NONE, false, store_dir_of_arg, NULL, store_cmd_backup },
	{ "restore", "DIR", "restore a backup into the (empty) store directory",
	  1, 1, ADMIN_STORE_NONE, false, store_dir_of_config, NULL, store_cmd_restore },
	{ "maintain", "", "checkpoint, remove old logs, expire sessions and old expunges, collect orphans",
	  0, 0, ADMIN_STORE_OPEN, true, NULL, NULL, store_cmd_maintain },
	{ "stats", "", "print figures as \"key: value\" lines",
	  0, 0, ADMIN_STORE_OPEN, false, NULL, NULL, store_cmd_stats },
	{ "upgrade", "", "bring a store of an older Pillarbox to this format (services stopped)",
	  0, 0, ADMIN_STORE_NONE, false, NULL, NULL, store_cmd_upgrade },
};

const struct admin_noun admin_noun_store = {
	"store", "The store itself: creation, checks, backups, maintenance, upgrades.",
	store_verbs, sizeof(store_verbs) / sizeof(store_verbs[0]),
};
