/* pillarbox mailbox list USER */
#include <inttypes.h>
#include <stdio.h>

#include "admin.h"

static int mailbox_print(const struct store_mailbox *mailbox, void *ctx)
{
	(void)ctx;
	/* Names cannot hold control characters (store_mailbox_name_valid), so
	 * a tab or newline never appears inside a field. */
	return printf("%s\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu64 "\n", mailbox->name, mailbox->exists,
		      mailbox->unseen, mailbox->bytes) < 0 ? -1 : 0;
}

static int mailbox_cmd_list(struct admin *admin, int argc, char **argv)
{
	struct store_user user;
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_user_find(admin->store, argv[0], &user, &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: no such user", admin_arg(argv[0]));
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	if (store_mailbox_list(admin->store, user.id, mailbox_print, NULL, &error) < 0)
		return admin_store_fail(-1, 0, "mailbox list", error);
	return ADMIN_EXIT_OK;
}

static const struct admin_verb mailbox_verbs[] = {
	{ "list", "USER", "NAME<tab>MESSAGES<tab>UNSEEN<tab>BYTES, one mailbox a line",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, mailbox_cmd_list },
};

const struct admin_noun admin_noun_mailbox = {
	"mailbox", "A user's mailboxes.",
	mailbox_verbs, sizeof(mailbox_verbs) / sizeof(mailbox_verbs[0]),
};
