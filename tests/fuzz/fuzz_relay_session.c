/* libFuzzer harness over the relay's side of an SMTP conversation
 * (relay_smtp_converse): the input is what a broken or hostile server
 * answers, read by the real conn layer from a memfd, the relay's commands
 * going to /dev/null. Then the bounce the relay would send for the
 * recipients is built from the results, as relay_deliver.c does, and
 * parsed back: whatever the server said, it is a multipart/report of
 * exactly its three parts (a reply may not start a line of its own, so
 * it can neither end the report early nor add a part or a header field).
 *
 * Byte 0 picks the envelope: bits 0-1 the number of recipients (1..4),
 * bit 2 AUTH to a relayhost, bit 3 a non-ASCII sender (SMTPUTF8 needed),
 * bit 4 an 8-bit body, bit 5 a body announced as 1 GB (SIZE), bit 6 the
 * sender's DSN request (RFC 3461 RET, ENVID, NOTIFY, ORCPT).
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_relay_session
 * Run:   tests/fuzz/fuzz_relay_session -max_total_time=600 ../../tests/fuzz/corpus/relay_session */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conn.h"
#include "fuzz_world.h"
#include "mime.h"
#include "relay.h"
#include "relay_dsn.h"
#include "relay_smtp.h"

#define FUZZ_RCPTS 4
/* Inputs past this are cut: the reply limits are far below it. */
#define FUZZ_INPUT_MAX 65536

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_header[] =
	"From: Bob <bob@example.com>\r\nTo: a@remote.example\r\nSubject: hello\r\n"
	"Message-ID: <1@example.com>\r\n\r\n";
static const char fuzz_text[] = "Hello.\r\n.leading dot\r\n\r\n";

static struct config *fuzz_config;
static struct relay_config fuzz_rc;
static struct relay fuzz_relay;
static int fuzz_body_fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_config = fuzz_world_config("fuzz_relay_session", argc, argv);
	free(fuzz_config->hostname);
	fuzz_config->hostname = strdup("mail.example.com");
	if (fuzz_config->hostname == NULL)
		fuzz_die("config", "out of memory");
	fuzz_rc.config = fuzz_config;
	fuzz_rc.smtp_port = RELAY_DEFAULT_SMTP_PORT;
	fuzz_rc.timeout = RELAY_DEFAULT_TIMEOUT;
	fuzz_rc.connect_timeout = RELAY_DEFAULT_CONNECT_TIMEOUT;
	fuzz_rc.tls_policy = RELAY_TLS_NONE;
	snprintf(fuzz_rc.auth_user, sizeof(fuzz_rc.auth_user), "relay-user");
	snprintf(fuzz_rc.auth_password, sizeof(fuzz_rc.auth_password), "relay password");
	fuzz_relay.config = fuzz_config;
	fuzz_relay.rc = &fuzz_rc;
	/* the body, read with pread as the queued file is */
	fuzz_body_fd = memfd_create("fuzz_relay_body", MFD_CLOEXEC);
	if (fuzz_body_fd < 0 ||
	    write(fuzz_body_fd, fuzz_header, strlen(fuzz_header)) != (ssize_t)strlen(fuzz_header) ||
	    write(fuzz_body_fd, fuzz_text, strlen(fuzz_text)) != (ssize_t)strlen(fuzz_text))
		fuzz_die("memfd", "write");
	return 0;
}

/* The DSN of relay_deliver.c for these results, parsed back. */
static void bounce_check(const char *const *rcpts, size_t n, const struct relay_result *results,
			 const char *mta)
{
	struct dsn_rcpt dr[FUZZ_RCPTS];
	char status[FUZZ_RCPTS][16];
	for (size_t i = 0; i < n; i++) {
		dr[i] = (struct dsn_rcpt){
			.address = rcpts[i],
			.status = relay_dsn_status(results[i].status, results[i].reply, "4.0.0", status[i]),
			.remote_mta = mta, .diagnostic = results[i].reply, .last_attempt = 1700000000,
			/* a success report (NOTIFY=SUCCESS) has the same shape */
			.action = results[i].outcome == RELAY_OUTCOME_SENT ? DSN_ACTION_RELAYED
									   : DSN_ACTION_FAILED,
			.orcpt = "rfc822;a+2Bx@remote.example",
		};
	}
	struct dsn_input in = {
		.reporting_mta = fuzz_config->hostname, .sender = "bob@example.com",
		.queue_id = "0123456789abcdef", .arrival = 1700000000, .now = 1700000100,
		.boundary = "=_pillarbox_0123456789abcdef", .rcpts = dr, .nrcpts = n,
		.headers = fuzz_header, .headers_len = strlen(fuzz_header), .envid = "E+2B1",
	};
	char *msg;
	size_t len;
	if (relay_dsn_build(&in, &msg, &len) < 0)
		fuzz_die("dsn", "out of memory");
	struct mime_message *parsed;
	const char *error = NULL;
	if (mime_parse(msg, len, NULL, &parsed, &error) < 0)
		fuzz_die("dsn parse", error);
	const struct mime_part *root = parsed->root;
	if (strcmp(root->type, "multipart") != 0 || strcmp(root->subtype, "report") != 0 ||
	    root->nchildren != 3 ||
	    /* message/global-delivery-status when a reply is not ASCII (RFC 6533) */
	    (strcmp(root->children[1]->subtype, "delivery-status") != 0 &&
	     strcmp(root->children[1]->subtype, "global-delivery-status") != 0) ||
	    strcmp(root->children[2]->subtype, "rfc822-headers") != 0) {
		fprintf(stderr, "%.*s\n", (int)len, msg);
		fuzz_die("dsn", "a server's reply changed the bounce's structure");
	}
	mime_message_free(&parsed);
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[FUZZ_RCPTS] = {
		"a@remote.example", "b@remote.example", "c@remote.example", "d@remote.example",
	};
	if (size == 0)
		return 0;
	uint8_t flags = data[0];
	size_t n = (size_t)(flags & 3) + 1;
	struct dns_addr addr = { 0 };
	struct relay_target t = {
		.host = "mx.remote.example", .addr = &addr, .tls = RELAY_TLS_NONE,
		.auth = (flags & 4) != 0,
	};
	/* bit 6: the sender asked for DSNs (RFC 3461), passed on if offered */
	static const struct store_dsn_rcpt dsn[FUZZ_RCPTS] = {
		{ STORE_DSN_NOTIFY_SUCCESS | STORE_DSN_NOTIFY_FAILURE, "rfc822;a@remote.example" },
		{ STORE_DSN_NOTIFY_NEVER, NULL },
		{ 0, "utf-8;c@remote.example" },
		{ STORE_DSN_NOTIFY_DELAY, "" },
	};
	struct relay_message m = {
		.dsn_ret = (flags & 64) ? STORE_DSN_RET_FULL : STORE_DSN_RET_DEFAULT,
		.dsn_envid = (flags & 64) ? "QQ+2B314" : NULL,
		.rcpt_dsn = (flags & 64) ? dsn : NULL,
		.sender = (flags & 8) ? "bøb@example.com" : "bob@example.com",
		.fd = fuzz_body_fd,
		.size = (flags & 32) ? UINT64_C(1) << 30 : strlen(fuzz_header) + strlen(fuzz_text),
		.eightbit = (flags & 16) != 0,
	};
	struct relay_result results[FUZZ_RCPTS];
	char error[OUTQ_REPLY_MAX + 1];
	int fd;
	struct conn *conn = fuzz_world_conn(data + 1, size - 1, FUZZ_INPUT_MAX, RELAY_REPLY_LINE_MAX,
					    &fd);

	memset(results, 0, sizeof(results));
	int status = relay_smtp_converse(&fuzz_relay, &t, &m, rcpts, n, false, conn, results,
					 "mx.remote.example [192.0.2.25]", error, sizeof(error));
	conn_free(&conn);
	close(fd);
	if (status != RELAY_SESSION_RETRY && status != RELAY_SESSION_DONE &&
	    status != RELAY_SESSION_TLS_FAILED && status != RELAY_SESSION_TEMP)
		fuzz_die("session", "an unknown status");
	if (status == RELAY_SESSION_TEMP)
		for (size_t i = 0; i < n; i++)
			if (results[i].outcome != RELAY_OUTCOME_TEMP)
				fuzz_die("session", "TEMP with a final outcome");
	if (status == RELAY_SESSION_DONE || status == RELAY_SESSION_TEMP)
		for (size_t i = 0; i < n; i++)
			if (results[i].outcome != RELAY_OUTCOME_TEMP &&
			    results[i].outcome != RELAY_OUTCOME_SENT &&
			    results[i].outcome != RELAY_OUTCOME_PERM)
				fuzz_die("session", "an unknown outcome");
	/* FUZZ_RELAY_SHOW=1: each session's outcome, to see what a corpus reaches */
	if (getenv("FUZZ_RELAY_SHOW") != NULL) {
		fprintf(stderr, "fuzz_relay_session: status %d (%s)\n", status, error);
		for (size_t i = 0; i < n && (status == RELAY_SESSION_DONE ||
					     status == RELAY_SESSION_TEMP); i++)
			fprintf(stderr, "  %s: outcome %d [%s] %s\n", rcpts[i], (int)results[i].outcome,
				results[i].status, results[i].reply);
	}
	bounce_check(rcpts, n, results, "mx.remote.example [192.0.2.25]");
	return 0;
}
