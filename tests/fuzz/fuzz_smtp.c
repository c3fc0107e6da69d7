/* libFuzzer harness over the SMTP command loop: the input is what a client
 * sends, read by the real conn layer from a memfd, answered into /dev/null,
 * with a real store behind it (made once per fuzzing process, on /dev/shm
 * when there is one so that the durable commits cost little; emptied every
 * FUZZ_CLEAN_EVERY runs so it stays small).
 *
 * The first input byte picks the start: bit 0 = submission (else MX),
 * bit 1 = already logged in as bob (so the fuzzer need not guess a password
 * to reach MAIL/RCPT/DATA in submission mode). Auth delays are switched off
 * (PILLARBOX_AUTH_DELAY_MS=0) and plaintext AUTH allowed (a memfd is not
 * loopback); no relay program is started.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_smtp
 * Run:   tests/fuzz/fuzz_smtp -max_total_time=600 -max_len=65536 \
 *            ../../tests/fuzz/corpus/smtp */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_world.h"
#include "smtp.h"

/* Inputs past this are cut: 64 KB covers every line limit. */
#define FUZZ_INPUT_MAX 65536
/* Runs between two cleanings of the store (expunge everything, collect
 * the bodies). */
#define FUZZ_CLEAN_EVERY 500

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_users[] = {
	"bob@example.com", "alice@example.com", "carol@example.com",
};

static struct config *fuzz_config;
static struct store *fuzz_store;
static struct store_user fuzz_bob;
static unsigned fuzz_runs;

struct fuzz_uids {
	uint32_t *uids;
	size_t n, size;
};

static int fuzz_uid_cb(const struct store_msg *msg, void *ctx)
{
	struct fuzz_uids *u = ctx;

	if (u->n == u->size) {
		u->size = u->size * 2 + 64;
		u->uids = realloc(u->uids, u->size * sizeof(*u->uids));
		if (u->uids == NULL)
			fuzz_die("clean", "out of memory");
	}
	u->uids[u->n++] = msg->uid;
	return 0;
}

/* Expunges every INBOX and collects the freed bodies. */
static void fuzz_clean(void)
{
	const char *error = NULL;

	for (size_t i = 0; i < sizeof(fuzz_users) / sizeof(fuzz_users[0]); i++) {
		struct store_user user;
		struct store_mailbox inbox;
		struct fuzz_uids u = { NULL, 0, 0 };

		if (store_user_find(fuzz_store, fuzz_users[i], &user, &error) != 1 ||
		    store_mailbox_find(fuzz_store, user.id, "INBOX", &inbox, &error) != 1 ||
		    store_msg_list(fuzz_store, inbox.id, 1, UINT32_MAX, fuzz_uid_cb, &u, &error) < 0)
			fuzz_die("clean", error);
		if (u.n > 0 && store_msg_expunge(fuzz_store, inbox.id, u.uids, u.n, &error) < 0)
			fuzz_die("expunge", error);
		free(u.uids);
	}
	if (store_maintain(fuzz_store, 0, &error) < 0)
		fuzz_die("maintain", error);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *error = NULL;

	fuzz_config = fuzz_world_config("fuzz_smtp", argc, argv);
	free(fuzz_config->hostname);
	fuzz_config->hostname = strdup("mail.example.com");
	fuzz_config->max_message_size = 40000;
	fuzz_store = fuzz_world_store();
	if (store_domain_add(fuzz_store, "example.com", &error) < 0 ||
	    store_domain_add(fuzz_store, "example.net", &error) < 0)
		fuzz_die("store", error);
	for (size_t i = 0; i < sizeof(fuzz_users) / sizeof(fuzz_users[0]); i++)
		if (store_user_add(fuzz_store, fuzz_users[i], "pw", NULL, &error) != 1)
			fuzz_die("user", error);
	if (store_user_quota(fuzz_store, "carol@example.com", 50000, 0, &error) != 1 ||
	    store_alias_add(fuzz_store, "team@example.com", "bob@example.com", &error) != 1 ||
	    store_alias_add(fuzz_store, "team@example.com", "alice@example.com", &error) != 1 ||
	    store_alias_add(fuzz_store, "ext@example.com", "x@elsewhere.example", &error) != 1 ||
	    store_alias_add(fuzz_store, "@example.net", "carol@example.com", &error) != 1 ||
	    store_user_find(fuzz_store, "bob@example.com", &fuzz_bob, &error) != 1)
		fuzz_die("store", error);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_options opt = {
		.mode = SMTP_MODE_MX,
		.relay_program = NULL,
		.max_recipients = 5, /* reach the limit with short inputs */
	};
	struct smtp_session *session;
	struct conn *conn;
	bool preauth;
	int fd;

	if (size == 0)
		return 0;
	if ((data[0] & 1) != 0)
		opt.mode = SMTP_MODE_SUBMISSION;
	preauth = (data[0] & 2) != 0;
	opt.quota_tempfail = (data[0] & 4) != 0;
	if (++fuzz_runs % FUZZ_CLEAN_EVERY == 0)
		fuzz_clean();
	conn = fuzz_world_conn(data + 1, size - 1, FUZZ_INPUT_MAX, SMTP_DATA_LINE_MAX, &fd);
	session = smtp_session_new(conn, fuzz_store, fuzz_config, NULL, &opt);
	if (session == NULL)
		fuzz_die("session", "out of memory");
	if (preauth) {
		session->authenticated = true;
		session->user = fuzz_bob;
	}
	(void)smtp_session_run(session);
	smtp_session_free(&session);
	conn_free(&conn);
	close(fd);
	return 0;
}
