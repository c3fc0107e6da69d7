/* pillarbox queue list | show ID | flush [ID] | delete ID | bounce ID
 * The outbound queue (store/outq.h); the relay delivers it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "outq.h"

static const char *const state_names[] = { "pending", "sent", "failed", "returned",
					    "delivered" };

/* "2024-01-01T10:00:00Z", or "-" for 0. */
static const char *when(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* The entry's state as one word: what the relay will do with it. */
static const char *entry_state(const struct outq_entry *e, int64_t now)
{
	if (outq_entry_leased(e, now))
		return "active";
	for (uint32_t i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].state == OUTQ_RCPT_FAILED)
			return "bouncing";
	/* only a success DSN left to send (RFC 3461 NOTIFY=SUCCESS) */
	for (uint32_t i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].state == OUTQ_RCPT_DELIVERED)
			return "reporting";
	return e->next_try <= now ? "due" : "deferred";
}

static int queue_print(const struct outq_entry *e, void *ctx)
{
	int64_t now = *(const int64_t *)ctx;
	char c[32], n[32];
	uint32_t pending = 0;

	for (uint32_t i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].state == OUTQ_RCPT_PENDING)
			pending++;
	/* id, created, size, attempts, next attempt, state, sender,
	 * recipients pending/total, last error. Values come from the store
	 * (validated addresses, control bytes removed): tabs are safe. */
	if (printf("%s\t%s\t%llu\t%u\t%s\t%s\t<%s>\t%u/%u\t%s\n", e->id, when(e->created, c),
		   (unsigned long long)e->size, e->attempts, when(e->next_try, n),
		   entry_state(e, now), admin_arg(e->sender), pending, e->nrcpts,
		   admin_arg(e->last_error)) < 0)
		return -1;
	return 0;
}

static int queue_cmd_list(struct admin *admin, int argc, char **argv)
{
	int64_t now = (int64_t)time(NULL);
	const char *error = NULL;

	(void)argc;
	(void)argv;
	if (outq_list(admin->store, queue_print, &now, &error) < 0)
		return admin_store_fail(-1, 0, "queue list", error);
	return ADMIN_EXIT_OK;
}

static int queue_id_check(const char *id)
{
	if (!outq_id_valid(id))
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: not a queue id (32 hexadecimal digits)",
				  admin_arg(id));
	return 0;
}

static int queue_cmd_show(struct admin *admin, int argc, char **argv)
{
	struct outq_entry e;
	const char *error = NULL;
	int64_t now = (int64_t)time(NULL);
	char b[32];
	int ret;

	(void)argc;
	if ((ret = queue_id_check(argv[0])) != 0)
		return ret;
	ret = outq_get(admin->store, argv[0], &e, &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: no such queue entry", admin_arg(argv[0]));
	if (ret < 0)
		return admin_store_fail(-1, 0, "queue show", error);
	printf("id: %s\n", e.id);
	printf("sender: <%s>\n", admin_arg(e.sender));
	printf("size: %llu\n", (unsigned long long)e.size);
	/* whose key the relay signs it with (only for the domain's From:) */
	printf("dkim-domain: %s\n", e.dkim_domain[0] != '\0' ? admin_arg(e.dkim_domain) : "-");
	printf("created: %s\n", when(e.created, b));
	printf("attempts: %u\n", e.attempts);
	printf("last-attempt: %s\n", when(e.last_try, b));
	printf("next-attempt: %s\n", when(e.next_try, b));
	printf("state: %s\n", entry_state(&e, now));
	if (outq_entry_leased(&e, now))
		printf("lease: pid %d until %s\n", (int)e.lease_pid, when(e.lease_until, b));
	printf("last-error: %s\n", admin_arg(e.last_error));
	for (uint32_t i = 0; i < e.nrcpts; i++) {
		const struct outq_rcpt *r = &e.rcpts[i];

		printf("recipient: %s\t<%s>\t%s\t%s\t%s\n", state_names[r->state],
		       admin_arg(r->address), r->status[0] != '\0' ? r->status : "-",
		       r->mta[0] != '\0' ? admin_arg(r->mta) : "-", admin_arg(r->reply));
	}
	outq_entry_clear(&e);
	return ADMIN_EXIT_OK;
}

static int queue_cmd_flush(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL, *id = argc > 0 ? argv[0] : NULL;
	int ret;

	if (id != NULL && (ret = queue_id_check(id)) != 0)
		return ret;
	ret = outq_flush(admin->store, id, &error);
	if (ret < 0)
		return admin_store_fail(-1, 0, "queue flush", error);
	if (ret == 0 && id != NULL) {
		/* 0 is also an entry already due or held by a relay: only
		 * an id that is not in the queue is an error. */
		struct outq_entry e;

		ret = outq_get(admin->store, id, &e, &error);
		if (ret == 0)
			return admin_fail(ADMIN_EXIT_DATAERR, "%s: no such queue entry", admin_arg(id));
		if (ret < 0)
			return admin_store_fail(-1, 0, "queue flush", error);
		outq_entry_clear(&e);
		ret = 0;
	}
	admin_say("%d entr%s due now; the next relay run (relay --run-queue, or the timer) "
		  "delivers %s", ret, ret == 1 ? "y" : "ies", ret == 1 ? "it" : "them");
	return ADMIN_EXIT_OK;
}

static int queue_cmd_delete(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	int ret;

	(void)argc;
	if ((ret = queue_id_check(argv[0])) != 0)
		return ret;
	ret = outq_delete(admin->store, argv[0], &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: no such queue entry", admin_arg(argv[0]));
	if (ret < 0)
		return admin_store_fail(-1, 0, "queue delete", error);
	admin_say("queue entry %s deleted (no bounce sent)", argv[0]);
	return ADMIN_EXIT_OK;
}

static int queue_cmd_bounce(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	int ret;

	(void)argc;
	if ((ret = queue_id_check(argv[0])) != 0)
		return ret;
	ret = outq_bounce(admin->store, argv[0], "returned to the sender by the postmaster", &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: no such queue entry", admin_arg(argv[0]));
	if (ret < 0)
		return admin_store_fail(-1, 0, "queue bounce", error);
	admin_say("queue entry %s: undelivered recipients marked failed; the next relay run "
		  "returns it to the sender", argv[0]);
	return ADMIN_EXIT_OK;
}

static const struct admin_verb queue_verbs[] = {
	/* Columns: id, created, size, attempts, next attempt, state, sender,
	 * pending/recipients, last error (documented in pillarbox(8)). */
	{ "list", "", "the outbound queue, one entry a line (tab-separated)",
	  0, 0, ADMIN_STORE_OPEN, true, NULL, NULL, queue_cmd_list },
	{ "show", "ID", "one entry and each recipient's state and last reply",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, queue_cmd_show },
	{ "flush", "[ID]", "make every entry (or ID) due now for the next relay run",
	  0, 1, ADMIN_STORE_OPEN, true, NULL, NULL, queue_cmd_flush },
	{ "delete", "ID", "remove an entry without telling the sender",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, queue_cmd_delete },
	{ "bounce", "ID", "give up on an entry: the sender gets a DSN on the next relay run",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, queue_cmd_bounce },
};

const struct admin_noun admin_noun_queue = {
	"queue", "The outbound queue (mail waiting for the relay).",
	queue_verbs, sizeof(queue_verbs) / sizeof(queue_verbs[0]),
};
