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

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "pop3.h"
#include "process.h"
#include "sasl.h"
#include "store.h"

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
static int fuzz_devnull = -1;
static char fuzz_dir[] = "/tmp/fuzz_pop3.XXXXXX";

static const char *const fuzz_bodies[FUZZ_MESSAGES] = {
	"From: a@example.org\r\nSubject: one\r\n\r\nHello.\r\n",
	"Subject: dots\r\n\r\n.leading\r\n..two\r\n.\r\nend\r\n",
	"Subject: no final newline\r\n\r\nlast line",
	"Subject: lf\n\nbare\nline\nfeeds\n",
};

static void fuzz_die(const char *what, const char *error)
{
	fprintf(stderr, "fuzz_pop3: %s: %s\n", what, error != NULL ? error : "?");
	abort();
}

static int fuzz_count_cb(const struct store_msg *msg, void *ctx)
{
	(*(unsigned *)ctx)++;
	return 0;
}

static void fuzz_refill(void)
{
	const char *error = NULL;
	unsigned n = 0;

	if (store_msg_list(fuzz_store, fuzz_inbox, 1, UINT32_MAX, fuzz_count_cb, &n, &error) < 0)
		fuzz_die("list", error);
	for (; n < FUZZ_MESSAGES; n++) {
		struct store_body *body = NULL;
		const char *text = fuzz_bodies[n];
		uint32_t uid;

		if (store_body_from_buffer(fuzz_store, text, strlen(text), &body, &error) <= 0 ||
		    store_msg_append(fuzz_store, fuzz_inbox, body, 0, NULL, 0, time(NULL), 0, NULL,
				     0, &uid, &error) <= 0)
			fuzz_die("append", error);
		store_body_free(&body);
	}
}

/* Registered before store_open's own atexit, so it runs after the store
 * is closed: the temporary store goes away with the fuzzing process. */
static void fuzz_cleanup(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_pop3: could not remove %s\n", fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *error = NULL;
	char path[256];
	struct store_mailbox inbox;

	setenv("PILLARBOX_AUTH_DELAY_MS", "0", 1);
	if (mkdtemp(fuzz_dir) == NULL)
		fuzz_die("mkdtemp", fuzz_dir);
	if (geteuid() == 0) {
		/* the store refuses root: hand the directory over, then drop */
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "chown pillarbox:pillarbox %s && chmod 755 %s", fuzz_dir,
			 fuzz_dir);
		if (system(cmd) != 0)
			fuzz_die("chown", fuzz_dir);
		if (process_drop_root("pillarbox", &error) < 0)
			fuzz_die("drop root", error);
	}
	umask(007);
	atexit(fuzz_cleanup);
	log_open("fuzz_pop3");
	fuzz_config = config_defaults();
	snprintf(path, sizeof(path), "%s/store", fuzz_dir);
	free(fuzz_config->store);
	fuzz_config->store = strdup(path);
	fuzz_config->password_cost = 1;
	fuzz_config->allow_plaintext_auth = true; /* a memfd is no loopback */
	fuzz_config->watchdog_seconds = 0;        /* no alarm() inside the fuzzer */
	if (store_init(fuzz_config, &error) < 0 ||
	    store_open(fuzz_config, false, &fuzz_store, &error) < 0 ||
	    store_domain_add(fuzz_store, "example.com", &error) < 0 ||
	    store_user_add(fuzz_store, FUZZ_USER, FUZZ_PASSWORD, NULL, &error) != 1 ||
	    store_user_find(fuzz_store, FUZZ_USER, &fuzz_account, &error) != 1 ||
	    store_mailbox_find(fuzz_store, fuzz_account.id, "INBOX", &inbox, &error) != 1)
		fuzz_die("store", error);
	fuzz_inbox = inbox.id;
	fuzz_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fuzz_devnull < 0)
		fuzz_die("open", "/dev/null");
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
	data++;
	size--;
	if (size > FUZZ_INPUT_MAX)
		size = FUZZ_INPUT_MAX;
	fuzz_refill();
	fd = memfd_create("pop3-input", MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		fuzz_die("memfd", "write");
	conn = conn_new(fd, fuzz_devnull, SASL_RESPONSE_MAX);
	session = pop3_session_new(conn, fuzz_store, fuzz_config, NULL);
	if (conn == NULL || session == NULL)
		fuzz_die("session", "out of memory");
	if (!preauth || pop3_maildrop_open(session, &fuzz_account) == 1)
		(void)pop3_session_run(session);
	pop3_session_free(&session);
	conn_free(&conn);
	close(fd);
	return 0;
}
