/* libFuzzer harness over the POP3 command loop: the input is what a client
 * sends, read by the real conn layer from a memfd, answered into /dev/null,
 * with a real store behind it (made once per fuzzing process in a temporary
 * directory, refilled when a session's DELE+QUIT emptied the maildrop).
 *
 * The first input byte picks the start: even = from the greeting (USER/PASS,
 * AUTH...), odd = already logged in (TRANSACTION state), so the fuzzer does
 * not have to guess the password to reach RETR/TOP/DELE. Auth delays are
 * switched off (PILLARBOX_AUTH_DELAY_MS=0).
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_pop3
 * Run:   tests/fuzz/fuzz_pop3 -max_total_time=600 ../../tests/fuzz/corpus/pop3 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "fuzz_world.h"
#include "pop3.h"
#include "sasl.h"

#define FUZZ_USER "bob@example.com"
#define FUZZ_PASSWORD "pw"
#define FUZZ_MESSAGES 4 /* refilled up to this many before each run */
/* Inputs past this are cut: a session's cost grows with its commands and
 * RETR of the big message; 64 KB covers every line limit twice over. */
#define FUZZ_INPUT_MAX 65536

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *fuzz_config;
static struct store *fuzz_store;
static struct store_user fuzz_account;
static uint32_t fuzz_inbox;

static const char *const fuzz_bodies[FUZZ_MESSAGES] = {
	"From: a@example.org\r\nSubject: one\r\n\r\nHello.\r\n",
	"Subject: dots\r\n\r\n.leading\r\n..two\r\n.\r\nend\r\n",
	"Subject: no final newline\r\n\r\nlast line",
	"Subject: lf\n\nbare\nline\nfeeds\n",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *error = NULL;
	struct store_mailbox inbox;

	fuzz_config = fuzz_world_config("fuzz_pop3", argc, argv);
	fuzz_store = fuzz_world_store();
	if (store_domain_add(fuzz_store, "example.com", &error) < 0 ||
	    store_user_add(fuzz_store, FUZZ_USER, FUZZ_PASSWORD, NULL, &error) != 1 ||
	    store_user_find(fuzz_store, FUZZ_USER, &fuzz_account, &error) != 1 ||
	    store_mailbox_find(fuzz_store, fuzz_account.id, "INBOX", &inbox, &error) != 1)
		fuzz_die("store", error);
	fuzz_inbox = inbox.id;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_session *session;
	struct conn *conn;
	bool preauth;
	int fd;

	if (size == 0)
		return 0;
	preauth = (data[0] & 1) != 0;
	fuzz_world_refill(fuzz_inbox, fuzz_bodies, FUZZ_MESSAGES);
	conn = fuzz_world_conn(data + 1, size - 1, FUZZ_INPUT_MAX, SASL_RESPONSE_MAX, &fd);
	session = pop3_session_new(conn, fuzz_store, fuzz_config, NULL);
	if (session == NULL)
		fuzz_die("session", "out of memory");
	if (!preauth || pop3_maildrop_open(session, &fuzz_account) == 1)
		(void)pop3_session_run(session);
	pop3_session_free(&session);
	conn_free(&conn);
	close(fd);
	return 0;
}
