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
#include "imap.h"
#include "log.h"
#include "process.h"
#include "store.h"

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
static uint32_t fuzz_inbox;
static int fuzz_devnull = -1;
static char fuzz_dir[] = "/tmp/fuzz_imap.XXXXXX";

static const char *const fuzz_bodies[FUZZ_MESSAGES] = {
	"From: \"A\" <a@example.org>\r\nTo: b@example.com, group: c@d, e@f;\r\n"
	"Subject: =?utf-8?q?caf=C3=A9?=\r\nDate: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
	"Message-ID: <1@x>\r\n\r\nHello.\r\n",
	"Subject: multi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
	"--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n"
	"--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n"
	"Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\ninner text\r\n"
	"--b2\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b2--\r\n"
	"--b1\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
	"Content-Disposition: attachment; filename*=utf-8''%C3%A9.bin\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n",
	"Content-Type: multipart/mixed\r\n\r\nno boundary at all\r\n",
	"Subject: lf\n\nbare\nline\nfeeds\n",
};

static void fuzz_die(const char *what, const char *error)
{
	fprintf(stderr, "fuzz_imap_session: %s: %s\n", what, error != NULL ? error : "?");
	abort();
}

static int fuzz_count_cb(const struct store_msg *msg, void *ctx)
{
	(void)msg;
	(*(unsigned *)ctx)++;
	return 0;
}

static void fuzz_refill(void)
{
	const char *error = NULL;
	struct store_mailbox inbox;
	unsigned n = 0;

	if (store_mailbox_find(fuzz_store, fuzz_account.id, "INBOX", &inbox, &error) != 1)
		fuzz_die("inbox", error);
	fuzz_inbox = inbox.id;
	if (store_msg_list(fuzz_store, fuzz_inbox, 1, UINT32_MAX, fuzz_count_cb, &n, &error) < 0)
		fuzz_die("list", error);
	for (; n < FUZZ_MESSAGES; n++) {
		struct store_body *body = NULL;
		const char *text = fuzz_bodies[n];
		uint32_t uid;

		if (store_body_from_buffer(fuzz_store, text, strlen(text), &body, &error) <= 0 ||
		    store_msg_append(fuzz_store, fuzz_inbox, body, 0, NULL, 0, time(NULL), 60, NULL,
				     0, &uid, &error) <= 0)
			fuzz_die("append", error);
		store_body_free(&body);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *error = NULL;
	char path[256];

	(void)argc;
	(void)argv;
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
	log_open("fuzz_imap_session");
	fuzz_config = config_defaults();
	snprintf(path, sizeof(path), "%s/store", fuzz_dir);
	free(fuzz_config->store);
	fuzz_config->store = strdup(path);
	fuzz_config->password_cost = 1;
	fuzz_config->allow_plaintext_auth = true; /* a memfd is no loopback */
	fuzz_config->watchdog_seconds = 0;        /* no alarm() inside the fuzzer */
	fuzz_config->max_message_size = 1024 * 1024;
	if (store_init(fuzz_config, &error) < 0 ||
	    store_open(fuzz_config, false, &fuzz_store, &error) < 0 ||
	    store_domain_add(fuzz_store, "example.com", &error) < 0 ||
	    store_user_add(fuzz_store, FUZZ_USER, FUZZ_PASSWORD, NULL, &error) != 1 ||
	    store_user_find(fuzz_store, FUZZ_USER, &fuzz_account, &error) != 1)
		fuzz_die("store", error);
	fuzz_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fuzz_devnull < 0)
		fuzz_die("open", "/dev/null");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_session *session;
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
	fd = memfd_create("imap-input", MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		fuzz_die("memfd", "write");
	conn = conn_new(fd, fuzz_devnull, IMAP_LINE_MAX);
	if (conn == NULL)
		fuzz_die("conn", "out of memory");
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
