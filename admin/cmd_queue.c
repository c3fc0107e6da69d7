/* pillarbox queue list | flush | delete ID: kept in the command set so that
 * scripts and documentation are stable; they need the relay, not built yet. */
#include "admin.h"

static int queue_cmd_pending(struct admin *admin, int argc, char **argv)
{
	(void)admin;
	(void)argc;
	(void)argv;
	return admin_fail(ADMIN_EXIT_UNAVAILABLE,
			  "not available yet: the relay is not built (queue list, queue flush "
			  "and queue delete are pending)");
}

static const struct admin_verb queue_verbs[] = {
	{ "list", "", "the outbound queue, one message a line (pending: needs the relay)",
	  0, 0, ADMIN_STORE_NONE, true, NULL, NULL, queue_cmd_pending },
	{ "flush", "", "retry every queued message now (pending: needs the relay)",
	  0, 0, ADMIN_STORE_NONE, true, NULL, NULL, queue_cmd_pending },
	{ "delete", "ID", "remove a queued message (pending: needs the relay)",
	  1, 1, ADMIN_STORE_NONE, true, NULL, NULL, queue_cmd_pending },
};

const struct admin_noun admin_noun_queue = {
	"queue", "The outbound queue (mail waiting for the relay).",
	queue_verbs, sizeof(queue_verbs) / sizeof(queue_verbs[0]),
};
