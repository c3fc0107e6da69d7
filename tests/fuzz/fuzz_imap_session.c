/* libFuzzer harness over the IMAP command loop: the input is what a client
 * sends, read by the real conn layer from a memfd, answered into /dev/null,
 * with a real store behind it (made once per fuzzing process in a temporary
 * directory; INBOX refilled before each run), so FETCH, SEARCH, STORE,
 * APPEND, COPY/MOVE, LIST and the rest run against real messages, nested
 * multiparts and encapsulated messages included.
 *
 * The first input byte picks the start: even = from the greeting (LOGIN,
 * AUTHENTICATE, STARTTLS refused...), odd = already logged in, so the
 * fuzzer does not have to guess the password. Auth delays are off.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_imap_session
 * Run:   tests/fuzz/fuzz_imap_session -max_total_time=600 ../../tests/fuzz/corpus/imap_session */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "fuzz_world.h"
#include "imap.h"

#define FUZZ_USER "bob@example.com"
#define FUZZ_PASSWORD "pw"
#define FUZZ_MESSAGES 4
/* Inputs past this are cut: 64 KB covers the line limit. */
#define FUZZ_INPUT_MAX 65536

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *fuzz_config;
static struct store *fuzz_store;
static struct store_user fuzz_account;

static const char *const fuzz_bodies[FUZZ_MESSAGES] = {
	"From: \"A\" <a@example.org>\r\nTo: b@example.com, group: c@d, e@f;\r\n"
	"Subject: =?utf-8?q?caf=C3=A9?=\r\nDate: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
	"Message-ID: <1@x>\r\n\r\nHello.\r\n",
	fuzz_world_multipart,
	"Content-Type: multipart/mixed\r\n\r\nno boundary at all\r\n",
	"Subject: lf\n\nbare\nline\nfeeds\n",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *error = NULL;

	fuzz_config = fuzz_world_config("fuzz_imap_session", argc, argv);
	fuzz_config->max_message_size = 1024 * 1024;
	fuzz_store = fuzz_world_store();
	if (store_domain_add(fuzz_store, "example.com", &error) < 0 ||
	    store_user_add(fuzz_store, FUZZ_USER, FUZZ_PASSWORD, NULL, &error) != 1 ||
	    store_user_find(fuzz_store, FUZZ_USER, &fuzz_account, &error) != 1)
		fuzz_die("store", error);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *error = NULL;
	struct store_mailbox inbox;
	struct imap_session *session;
	struct conn *conn;
	bool preauth;
	int fd;

	if (size == 0)
		return 0;
	preauth = (data[0] & 1) != 0;
	/* A run may have renamed or deleted INBOX's contents: look it up. */
	if (store_mailbox_find(fuzz_store, fuzz_account.id, "INBOX", &inbox, &error) != 1)
		fuzz_die("inbox", error);
	fuzz_world_refill(inbox.id, fuzz_bodies, FUZZ_MESSAGES);
	conn = fuzz_world_conn(data + 1, size - 1, FUZZ_INPUT_MAX, IMAP_LINE_MAX, &fd);
	conn_set_timeout(conn, 1);
	session = imap_session_new(conn, fuzz_store, fuzz_config, NULL, false);
	if (session == NULL)
		fuzz_die("session", "out of memory");
	if (preauth) {
		session->user = fuzz_account;
		session->state = IMAP_STATE_AUTH;
	}
	(void)imap_session_run(session);
	imap_session_free(&session);
	conn_free(&conn);
	close(fd);
	return 0;
}
