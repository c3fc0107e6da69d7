/* Unit tests of the store's outbound queue API (store/outq.h): entries made
 * by store_deliver, listing, claims and leases (also against a second
 * process, alive and then dead), commits, flush, bounce, delete, bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "outq.h"
#include "process.h"
#include "store.h"
#include "store_int.h"

struct fixture {
	struct config *config;
	struct store *store;
	char dir[64];
	char id[OUTQ_ID_HEX_LEN + 1];
};

static const char message[] =
	"From: <bob@example.com>\r\nTo: <alice@example.org>\r\nSubject: queued\r\n\r\nhello\r\n";

static void rm_rf(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

/* Queues message for the given recipients; returns the queue id in f->id. */
static void queue(struct fixture *f, const char *const *rcpts, size_t n)
{
	struct store_body *body;
	const char *error;
	bool queued = false;
	struct store_delivery d = {
		.sender = "bob@example.com", .recipients = rcpts, .nrecipients = n,
	};

	assert_int_equal(store_body_from_buffer(f->store, message, sizeof(message) - 1, &body,
						&error), 1);
	d.body = body;
	assert_int_equal(store_deliver(f->store, &d, &queued, f->id, &error), 1);
	assert_true(queued);
	assert_true(outq_id_valid(f->id));
	store_body_free(&body);
}

static int setup(void **state)
{
	const char *error;
	struct fixture *f = calloc(1, sizeof(*f));
	static const char *const rcpts[] = { "alice@example.org", "carol@example.net" };

	snprintf(f->dir, sizeof(f->dir), "/tmp/pb-outq-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->config = config_defaults();
	free(f->config->store);
	assert_true(asprintf(&f->config->store, "%s/store", f->dir) > 0);
	if (store_init(f->config, &error) < 0)
		fail_msg("store_init: %s", error);
	if (store_open(f->config, false, &f->store, &error) < 0)
		fail_msg("store_open: %s", error);
	assert_int_equal(store_domain_add(f->store, "example.com", &error), 1);
	assert_int_equal(store_user_add(f->store, "bob@example.com", "pw", NULL, &error), 1);
	queue(f, rcpts, 2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(&f->store);
	rm_rf(f->dir);
	config_free(&f->config);
	free(f);
	return 0;
}

static int count_cb(const struct outq_entry *e, void *ctx)
{
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

static int count(struct fixture *f)
{
	const char *error;
	int n = 0;

	assert_true(outq_list(f->store, count_cb, &n, &error) >= 0);
	return n;
}

static void test_entry_fields(void **state)
{
	struct fixture *f = *state;
	struct outq_entry e;
	const char *error;

	assert_int_equal(count(f), 1);
	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	assert_string_equal(e.sender, "bob@example.com");
	assert_int_equal(e.nrcpts, 2);
	assert_string_equal(e.rcpts[0].address, "alice@example.org");
	assert_int_equal(e.rcpts[0].state, OUTQ_RCPT_PENDING);
	assert_int_equal(e.attempts, 0);
	assert_int_equal(e.size, sizeof(message) - 1);
	assert_true(e.next_try <= time(NULL));
	assert_false(outq_entry_leased(&e, time(NULL)));
	outq_entry_clear(&e);
	assert_int_equal(outq_get(f->store, "00000000000000000000000000000000", &e, &error), 0);
	assert_int_equal(outq_get(f->store, "not-an-id", &e, &error), 0);
}

/* Rewrites entry f->id's record as an older version: the version byte set
 * and `cut` bytes taken off its end (what that version did not have yet). */
struct rewrite {
	uint8_t id[16];
	uint8_t version;
	size_t cut;
};

static int rewrite_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct rewrite *w = ctx;
	uint8_t buf[8192];
	size_t len;
	int r = store_get(store, DBI_OUTQ, txn, w->id, sizeof(w->id), buf, sizeof(buf), &len,
			  DB_RMW);
	if (r != 1 || len <= w->cut)
		return r < 0 ? r : store_err(store, "no record");
	buf[0] = w->version;
	r = store_put(store, DBI_OUTQ, txn, w->id, sizeof(w->id), buf, len - w->cut, 0);
	return r < 0 ? r : 1;
}

/* Entries written by older versions (3: before RFC 3461's fields; 2:
 * before dkim_domain) are read as they were, with the new fields empty. */
static void test_older_records(void **state)
{
	struct fixture *f = *state;
	struct outq_entry e;
	const char *error;
	struct rewrite w = { .version = 3 };

	for (size_t i = 0; i < 16; i++)
		assert_int_equal(sscanf(f->id + 2 * i, "%2hhx", &w.id[i]), 1);
	/* version 4's tail: RET, ENVID "", and per recipient NOTIFY and ORCPT "" */
	w.cut = 1 + 2 + 2 * (1 + 2);
	assert_int_equal(store_write(f->store, true, rewrite_txn, &w, &error), 1);
	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	assert_int_equal(e.nrcpts, 2);
	assert_string_equal(e.rcpts[1].address, "carol@example.net");
	assert_int_equal(e.dsn_ret, STORE_DSN_RET_DEFAULT);
	assert_string_equal(e.envid, "");
	assert_int_equal(e.rcpts[0].notify, 0);
	assert_string_equal(e.rcpts[1].orcpt, "");
	outq_entry_clear(&e);
	/* and version 2 (no dkim_domain: an empty string's 2 bytes) */
	w.version = 2;
	w.cut = 2;
	assert_int_equal(store_write(f->store, true, rewrite_txn, &w, &error), 1);
	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	assert_int_equal(e.nrcpts, 2);
	assert_string_equal(e.dkim_domain, "");
	assert_string_equal(e.sender, "bob@example.com");
	outq_entry_clear(&e);
	/* a version past ours is damaged, not guessed at */
	w.version = 5;
	w.cut = 0;
	assert_int_equal(store_write(f->store, true, rewrite_txn, &w, &error), 1);
	assert_int_equal(outq_get(f->store, f->id, &e, &error), -1);
}

static void test_claim_commit_retry(void **state)
{
	struct fixture *f = *state;
	char ids[4][OUTQ_ID_HEX_LEN + 1];
	struct outq_entry e;
	const char *error;
	bool deleted;
	int64_t now = time(NULL);

	assert_int_equal(outq_claim(f->store, NULL, now, 60, 4, ids, &error), 1);
	assert_string_equal(ids[0], f->id);
	/* held by a living process (this one): not claimed again */
	assert_int_equal(outq_claim(f->store, NULL, now, 60, 4, ids, &error), 0);
	assert_int_equal(outq_claim(f->store, f->id, now, 60, 1, ids, &error), 0);
	assert_int_equal(outq_flush(f->store, NULL, &error), 0);

	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	assert_true(outq_entry_leased(&e, now));
	e.rcpts[0].state = OUTQ_RCPT_SENT;
	snprintf(e.rcpts[1].reply, sizeof(e.rcpts[1].reply), "451 4.3.0 try later\r\nX: y");
	e.attempts = 1;
	e.last_try = now;
	e.next_try = now + 300;
	assert_int_equal(outq_commit(f->store, &e, true, &deleted, &error), 1);
	assert_false(deleted);
	outq_entry_clear(&e);

	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	assert_int_equal(e.rcpts[0].state, OUTQ_RCPT_SENT);
	assert_int_equal(e.rcpts[1].state, OUTQ_RCPT_PENDING);
	assert_null(strchr(e.rcpts[1].reply, '\n')); /* one line, always */
	assert_int_equal(e.attempts, 1);
	assert_false(outq_entry_leased(&e, now));
	outq_entry_clear(&e);

	/* not due: nothing to claim until a flush */
	assert_int_equal(outq_claim(f->store, NULL, now, 60, 4, ids, &error), 0);
	assert_int_equal(outq_claim(f->store, NULL, now + 301, 60, 4, ids, &error), 1);
	/* a commit without release keeps the lease; then all sent: deleted */
	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	e.rcpts[1].state = OUTQ_RCPT_SENT;
	assert_int_equal(outq_commit(f->store, &e, false, &deleted, &error), 1);
	assert_true(deleted);
	/* a second commit finds nothing */
	assert_int_equal(outq_commit(f->store, &e, true, &deleted, &error), 0);
	outq_entry_clear(&e);
	assert_int_equal(count(f), 0);
}

static void test_flush_bounce_delete(void **state)
{
	struct fixture *f = *state;
	char ids[1][OUTQ_ID_HEX_LEN + 1];
	struct outq_entry e;
	const char *error;
	bool deleted;
	int64_t now = time(NULL);

	/* defer it */
	assert_int_equal(outq_claim(f->store, f->id, now, 60, 1, ids, &error), 1);
	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	e.next_try = now + 3600;
	assert_int_equal(outq_commit(f->store, &e, true, &deleted, &error), 1);
	outq_entry_clear(&e);
	assert_int_equal(outq_claim(f->store, NULL, now, 60, 1, ids, &error), 0);
	assert_int_equal(outq_flush(f->store, f->id, &error), 1);
	assert_int_equal(outq_claim(f->store, NULL, time(NULL), 60, 1, ids, &error), 1);
	/* an administrator bounces it while this "relay" holds it: the
	 * bounce sticks when the relay commits a pending state, and the
	 * entry stays due now for its DSN (not at the relay's retry time) */
	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	assert_int_equal(outq_bounce(f->store, f->id, "by hand", &error), 1);
	e.next_try = now + 3600;
	assert_int_equal(outq_commit(f->store, &e, true, &deleted, &error), 1);
	outq_entry_clear(&e);
	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	assert_int_equal(e.rcpts[0].state, OUTQ_RCPT_FAILED);
	assert_string_equal(e.rcpts[0].reply, "by hand");
	assert_true(e.next_try <= time(NULL));
	outq_entry_clear(&e);
	assert_int_equal(outq_claim(f->store, NULL, time(NULL), 60, 1, ids, &error), 1);
	assert_int_equal(outq_delete(f->store, f->id, &error), 1);
	assert_int_equal(outq_delete(f->store, f->id, &error), 0);
	assert_int_equal(outq_bounce(f->store, f->id, "x", &error), 0);
	assert_int_equal(count(f), 0);
}

static void test_body(void **state)
{
	struct fixture *f = *state;
	struct outq_entry e;
	const char *error;
	uint64_t hlen;
	char buf[256];
	int fd;

	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	assert_int_equal(outq_body_open(f->store, &e, &fd, &hlen, &error), 1);
	assert_int_equal(hlen, strstr(message, "\r\n\r\n") + 4 - message);
	assert_int_equal(read(fd, buf, sizeof(buf)), sizeof(message) - 1);
	assert_memory_equal(buf, message, sizeof(message) - 1);
	close(fd);
	outq_entry_clear(&e);
}

/* A second process claims the entry: while it lives the lease holds (and
 * our commit is refused); once it is gone the entry is ours at once. */
static void test_lease_other_process(void **state)
{
	struct fixture *f = *state;
	char ids[1][OUTQ_ID_HEX_LEN + 1];
	struct outq_entry e;
	const char *error;
	int to_child[2], to_parent[2], status;
	char c;
	pid_t pid;

	assert_int_equal(outq_get(f->store, f->id, &e, &error), 1);
	/* Never fork with an open environment (STORE-NOTES §13.20). */
	store_close(&f->store);
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *s = NULL;
		char cids[1][OUTQ_ID_HEX_LEN + 1];
		int ok = store_open(f->config, false, &s, &error) == 0 &&
			 outq_claim(s, f->id, time(NULL), 600, 1, cids, &error) == 1;

		c = ok ? 'y' : 'n';
		if (write(to_parent[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1)
			ok = 0;
		store_close(&s);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(read(to_parent[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(store_open(f->config, false, &f->store, &error), 0);
	assert_int_equal(outq_claim(f->store, NULL, time(NULL), 60, 1, ids, &error), 0);
	assert_int_equal(outq_claim(f->store, f->id, time(NULL), 60, 1, ids, &error), 0);
	/* our stale copy cannot be committed: the lease is not ours */
	assert_int_equal(outq_commit(f->store, &e, true, NULL, &error), 0);
	assert_int_equal(write(to_child[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the holder is dead: its lease (600 s) no longer counts */
	assert_int_equal(outq_claim(f->store, NULL, time(NULL), 60, 1, ids, &error), 1);
	outq_entry_clear(&e);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_entry_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_commit_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_bounce_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_other_process, setup, teardown),
	};
	const char *error;

	if (geteuid() == 0 && process_drop_root("pillarbox", &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 77;
	}
	umask(007);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
