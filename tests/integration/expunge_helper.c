/* Test helper: expunges messages from a user's INBOX the way IMAP or the
 * webmail would (store_msg_expunge), so POP3 tests can remove a message
 * under a running session. Usage: expunge_helper CONFIG ADDRESS UID... */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "process.h"
#include "store.h"

#define EXPUNGE_HELPER_UIDS_MAX 64 /* a test names a few */

int main(int argc, char **argv)
{
	struct config *config = NULL;
	struct store *store = NULL;
	struct store_user user;
	struct store_mailbox inbox;
	uint32_t uids[EXPUNGE_HELPER_UIDS_MAX];
	size_t n = 0;
	const char *error = NULL;
	int r;

	if (argc < 4 || argc - 3 > EXPUNGE_HELPER_UIDS_MAX) {
		fprintf(stderr, "usage: expunge_helper CONFIG ADDRESS UID...\n");
		return 64;
	}
	for (int i = 3; i < argc; i++)
		uids[n++] = (uint32_t)strtoul(argv[i], NULL, 10);
	if (config_load(argv[1], &config, &error) < 0 ||
	    process_init(config->user, &(struct process_limits){ 0, 0 }, true, &error) < 0 ||
	    store_open(config, false, &store, &error) < 0) {
		fprintf(stderr, "expunge_helper: %s\n", error);
		return 75;
	}
	r = store_user_find(store, argv[2], &user, &error);
	if (r > 0)
		r = store_mailbox_find(store, user.id, "INBOX", &inbox, &error);
	if (r > 0)
		r = store_msg_expunge(store, inbox.id, uids, n, &error);
	if (r < 0)
		fprintf(stderr, "expunge_helper: %s\n", error);
	else
		printf("%d\n", r);
	store_close(&store);
	config_free(&config);
	return r < 0 ? 75 : 0;
}
