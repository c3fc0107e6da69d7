/* pillarbox user add ADDR [--hash] | del ADDR | list [DOMAIN] | passwd ADDR |
 * quota ADDR BYTES [MESSAGES] | disable ADDR | enable ADDR */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

/* user list collects the users first (store calls are not made from inside
 * another one's callback), growing the array by this many. */
#define USER_LIST_CHUNK 256

/* user add: ADDR and an optional --hash, in either order. */
static const char *user_add_address(int argc, char **argv, bool *hash_r)
{
	const char *address = NULL;

	*hash_r = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--hash") == 0)
			*hash_r = true;
		else if (address == NULL)
			address = argv[i];
		else
			return NULL;
	}
	return address;
}

static int user_prepare_add(struct admin *admin, int argc, char **argv)
{
	bool hash;
	int code;

	if (user_add_address(argc, argv, &hash) == NULL)
		return admin_fail(ADMIN_EXIT_USAGE, "usage: pillarbox user add ADDRESS [--hash]");
	code = admin_password_read(hash ? "Password hash" : "New password", !hash,
				   admin->password);
	if (code != 0)
		return code;
	if (hash && !password_hash_supported(admin->password))
		return admin_fail(ADMIN_EXIT_DATAERR, "not a supported password hash "
				  "(yescrypt $y$, scrypt $7$, SHA-crypt $6$/$5$, bcrypt $2b$/$2y$)");
	admin->have_password = true;
	admin->password_is_hash = hash;
	return ADMIN_EXIT_OK;
}

static int user_cmd_add(struct admin *admin, int argc, char **argv)
{
	const char *address, *error = NULL;
	bool hash;
	int ret;

	address = user_add_address(argc, argv, &hash);
	ret = store_user_add(admin->store, address, hash ? NULL : admin->password,
			     hash ? admin->password : NULL, &error);
	password_wipe(admin->password, sizeof(admin->password));
	if (ret == 0 && error == NULL)
		error = "already exists";
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(address), error);
	admin_say("user %s added", admin_arg(address));
	return ADMIN_EXIT_OK;
}

static int user_prepare_passwd(struct admin *admin, int argc, char **argv)
{
	int code;

	(void)argc;
	(void)argv;
	code = admin_password_read("New password", true, admin->password);
	if (code == 0)
		admin->have_password = true;
	return code;
}

static int user_cmd_passwd(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_user_passwd(admin->store, argv[0], admin->password, &error);
	password_wipe(admin->password, sizeof(admin->password));
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: %s", admin_arg(argv[0]),
				  error != NULL ? error : "no such user");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	admin_say("password of %s changed", admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

static int user_cmd_del(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_user_del(admin->store, argv[0], &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: %s", admin_arg(argv[0]),
				  error != NULL ? error : "no such user");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	admin_say("user %s deleted, with all their mail", admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

struct user_list {
	struct store_user *users;
	size_t n, cap;
};

static int user_collect(const struct store_user *user, void *ctx)
{
	struct user_list *list = ctx;

	if (list->n == list->cap) {
		struct store_user *grown = reallocarray(list->users, list->cap + USER_LIST_CHUNK,
							sizeof(*grown));
		if (grown == NULL)
			return -1;
		list->users = grown;
		list->cap += USER_LIST_CHUNK;
	}
	list->users[list->n++] = *user;
	return 0;
}

static int user_cmd_list(struct admin *admin, int argc, char **argv)
{
	struct user_list list = { NULL, 0, 0 };
	const char *domain = argc > 0 ? argv[0] : NULL, *error = NULL;
	int code = ADMIN_EXIT_OK, ret;

	if (domain != NULL) {
		ret = store_domain_is_local(admin->store, domain, &error);
		if (ret == 0)
			return admin_fail(ADMIN_EXIT_DATAERR, "%s: not a local domain",
					  admin_arg(domain));
		if (ret < 0)
			return admin_store_fail(ret, 0, "user list", error);
	}
	if (store_user_list(admin->store, domain, user_collect, &list, &error) < 0) {
		free(list.users);
		return admin_store_fail(-1, 0, "user list", error != NULL ? error : "out of memory");
	}
	for (size_t i = 0; i < list.n; i++) {
		const struct store_user *user = &list.users[i];
		uint64_t bytes = 0;
		uint32_t messages = 0;

		if (store_user_usage(admin->store, user->id, &bytes, &messages, &error) < 0) {
			code = admin_store_fail(-1, 0, "user list", error);
			break;
		}
		if (printf("%s\t%s\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu64 "\n",
			   user->address, user->disabled ? "disabled" : "enabled", messages, bytes,
			   user->quota_messages, user->quota_bytes) < 0)
			break; /* main reports the failed stdout */
	}
	free(list.users);
	return code;
}

static int user_cmd_quota(struct admin *admin, int argc, char **argv)
{
	struct store_user user;
	const char *error = NULL;
	uint64_t bytes, messages;
	int ret;

	if (config_size_parse(argv[1], &bytes) < 0)
		return admin_fail(ADMIN_EXIT_USAGE, "%s: expected a size in bytes (K, M, G "
				  "suffixes allowed; 0 = unlimited)", admin_arg(argv[1]));
	if (argc > 2 && admin_number_parse(argv[2], UINT32_MAX, &messages) < 0)
		return admin_fail(ADMIN_EXIT_USAGE, "%s: expected a number of messages "
				  "(0 = unlimited)", admin_arg(argv[2]));
	ret = store_user_find(admin->store, argv[0], &user, &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: no such user", admin_arg(argv[0]));
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	/* Without MESSAGES the message limit stays what it was. */
	if (argc <= 2)
		messages = user.quota_messages;
	ret = store_user_quota(admin->store, argv[0], bytes, (uint32_t)messages, &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: %s", admin_arg(argv[0]),
				  error != NULL ? error : "no such user");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	admin_say("quota of %s: %" PRIu64 " bytes, %" PRIu64 " messages (0 = unlimited)",
		  admin_arg(argv[0]), bytes, messages);
	return ADMIN_EXIT_OK;
}

static int user_set_disabled(struct admin *admin, const char *address, bool disabled)
{
	const char *error = NULL;
	int ret = store_user_disable(admin->store, address, disabled, &error);

	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: %s", admin_arg(address),
				  error != NULL ? error : "no such user");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(address), error);
	admin_say("user %s %s", admin_arg(address), disabled ? "disabled" : "enabled");
	return ADMIN_EXIT_OK;
}

static int user_cmd_disable(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	return user_set_disabled(admin, argv[0], true);
}

static int user_cmd_enable(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	return user_set_disabled(admin, argv[0], false);
}

static const struct admin_verb user_verbs[] = {
	{ "add", "ADDRESS [--hash]", "create a user (password asked; --hash: an existing hash)",
	  1, 2, ADMIN_STORE_OPEN, true, NULL, user_prepare_add, user_cmd_add },
	{ "del", "ADDRESS", "delete a user and all their mail",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_del },
	{ "list", "[DOMAIN]",
	  "ADDRESS STATE MESSAGES BYTES QUOTA_MESSAGES QUOTA_BYTES (tabs), one user a line",
	  0, 1, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_list },
	{ "passwd", "ADDRESS", "set a new password (asked twice, or one line of stdin)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, user_prepare_passwd, user_cmd_passwd },
	{ "quota", "ADDRESS BYTES [MESSAGES]", "set limits (K/M/G suffixes; 0 = unlimited)",
	  2, 3, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_quota },
	{ "disable", "ADDRESS", "lock the account (logins refused), keeping its mail",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_disable },
	{ "enable", "ADDRESS", "undo disable",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_enable },
};

const struct admin_noun admin_noun_user = {
	"user", "Users (mail accounts): ADDRESS is the full address, local@domain.",
	user_verbs, sizeof(user_verbs) / sizeof(user_verbs[0]),
};
