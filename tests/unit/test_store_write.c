/* Unit tests of the store's write path as tuned for throughput: bodies kept
 * in memory until they need a file, line ends made CRLF across chunks,
 * body ids, the bytes of small bodies written before the delivery (and
 * removed when it fails or after a crash), and DB_CONFIG brought up to date
 * by maintenance. White-box: uses the store's internal headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "body.h"
#include "config.h"
#include "store_fixture.h"
#include "process.h"
#include "session.h"
#include "store.h"
#include "store_int.h"

static uint32_t inbox_id;

/* The fixture's store with Bob and his INBOX. */
static int setup(void **state)
{
	const char *error = "";
	struct store_user user;
	struct store_mailbox mb;

	if (store_fixture_setup(state) < 0)
		return -1;
	struct store_fixture *f = *state;
	f->config->max_message_size = 1024 * 1024;
	if (store_domain_add(f->store, "example.com", &error) != 1 ||
	    store_user_add(f->store, "bob@example.com", "secret", NULL, &error) != 1 ||
	    store_user_find(f->store, "bob@example.com", &user, &error) != 1 ||
	    store_mailbox_find(f->store, user.id, "INBOX", &mb, &error) != 1) {
		fprintf(stderr, "setup: %s\n", error);
		return -1;
	}
	inbox_id = mb.id;
	return 0;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct row_ctx {
	enum store_dbi dbi;
	const uint8_t *id;
};

static int row_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct row_ctx *c = ctx;
	uint8_t buf[64 + BODY_MIME_INLINE_MAX];
	size_t len;
	if (c->dbi == DBI_BODYDATA) {
		char *data = malloc(BODY_INLINE_MAX + 1);
		int r = store_get(store, c->dbi, txn, c->id, STORE_BODY_ID_LEN, data,
				  BODY_INLINE_MAX + 1, &len, 0);
		free(data);
		return r;
	}
	return store_get(store, c->dbi, txn, c->id, STORE_BODY_ID_LEN, buf, sizeof(buf), &len, 0);
}

/* 1 if body `id` has a row in dbi, else 0. */
static int has_row(struct store_fixture *f, enum store_dbi dbi, const uint8_t *id)
{
	const char *error;
	struct row_ctx c = { dbi, id };
	int r = store_read(f->store, row_txn, &c, &error);
	if (r < 0)
		fail_msg("reading %s: %s", store_dbspecs[dbi].file, error);
	return r;
}

static int last_msg(const struct store_msg *msg, void *ctx)
{
	*(struct store_msg *)ctx = *msg;
	return 0;
}

/* Appends `len` bytes given in chunks of `chunk` and reads the message back. */
static char *roundtrip(struct store_fixture *f, const char *text, size_t len, size_t chunk,
		       size_t *len_r, struct store_body **body_r)
{
	const char *error;
	struct store_body_writer *w;
	struct store_body *body;
	assert_int_equal(store_body_create(f->store, &w, &error), 1);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		assert_int_equal(store_body_write(w, text + off, n, &error), 1);
	}
	if (store_body_finish(&w, &body, &error) != 1)
		fail_msg("store_body_finish: %s", error);
	uint32_t uid;
	if (store_msg_append(f->store, inbox_id, body, 0, NULL, 0, 0, 0, NULL, 0, &uid, &error) != 1)
		fail_msg("store_msg_append: %s", error);
	struct store_msg msg;
	assert_int_equal(store_msg_list(f->store, inbox_id, uid, uid, last_msg, &msg, &error), 1);
	struct store_msg_reader *reader;
	assert_int_equal(store_msg_open(f->store, &msg, &reader, &error), 1);
	size_t size = store_msg_reader_size(reader);
	char *out = malloc(size + 1);
	assert_int_equal(store_msg_read(reader, 0, out, size), (ssize_t)size);
	out[size] = '\0';
	store_msg_close(&reader);
	*len_r = size;
	if (body_r != NULL)
		*body_r = body;
	else
		store_body_free(&body);
	return out;
}

/* Bare CR, bare LF, CRLF split across chunks, CR CR, a CR at the very end:
 * every line end comes out CRLF, whatever the chunking. */
static void test_crlf_chunks(void **state)
{
	struct store_fixture *f = *state;
	static const char in[] = "Subject: x\n\nA\rB\nC\r\nD\r\rE\n\nF\r";
	static const char want[] = "Subject: x\r\n\r\nA\r\nB\r\nC\r\nD\r\n\r\nE\r\n\r\nF\r\n";
	for (size_t chunk = 1; chunk <= sizeof(in); chunk++) {
		size_t len;
		char *out = roundtrip(f, in, sizeof(in) - 1, chunk, &len, NULL);
		assert_int_equal(len, sizeof(want) - 1);
		assert_memory_equal(out, want, len);
		free(out);
	}
}

static char *make_message(size_t size)
{
	char *text = malloc(size + 1);
	size_t n = (size_t)snprintf(text, size + 1, "Subject: size %zu\r\n\r\n", size);
	for (; n < size; n++)
		text[n] = (n % 64 == 62) ? '\r' : (n % 64 == 63) ? '\n' : (char)('a' + n % 26);
	text[size] = '\0';
	return text;
}

/* A small body never touches blobs/ and goes inline (in bodydata.db's leaf
 * page up to about 2 KB, then one or two 8 KB overflow pages); one over
 * 15 KB that still fits the writer's buffer, and one bigger than the
 * buffer, become files; all read back whole. */
static void test_sizes(void **state)
{
	struct store_fixture *f = *state;
	char tmpdir[256];
	snprintf(tmpdir, sizeof(tmpdir), "%s/blobs/tmp", f->dir);
	static const size_t sizes[] = { 40, 2000, 2100, 5120, 8150, 8250, BODY_INLINE_MAX,
					BODY_INLINE_MAX + 1, 20000, 65536, 65537, 200000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *text = make_message(sizes[i]);
		struct store_body *body;
		size_t len;
		char *out = roundtrip(f, text, sizes[i], 4096, &len, &body);
		assert_int_equal(len, sizes[i]);
		assert_memory_equal(out, text, len);
		bool inline_body = sizes[i] <= BODY_INLINE_MAX;
		assert_int_equal(body->inline_data != NULL, inline_body);
		assert_int_equal(has_row(f, DBI_BODYDATA, body->id), inline_body);
		assert_int_equal(has_row(f, DBI_BODIES, body->id), 1);
		assert_int_equal(count_entries(tmpdir), 0);
		store_body_free(&body);
		free(out);
		free(text);
	}
}

/* What was written so far reads back before the body is kept (smtpd's
 * spam check): from the buffer alone, then from the file and the buffer,
 * whole or its first bytes. */
static void test_writer_read(void **state)
{
	struct store_fixture *f = *state;
	static const size_t sizes[] = { 0, 40, 65530, 65536, 65537, 200000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *text = make_message(sizes[i] > 0 ? sizes[i] : 1);
		const char *error;
		struct store_body_writer *w;
		assert_int_equal(store_body_create(f->store, &w, &error), 1);
		for (size_t off = 0; off < sizes[i]; off += 3000) {
			size_t n = sizes[i] - off < 3000 ? sizes[i] - off : 3000;
			assert_int_equal(store_body_write(w, text + off, n, &error), 1);
		}
		assert_int_equal(store_body_writer_size(w), sizes[i]);
		char *out = malloc(sizes[i] + 1);
		assert_int_equal(store_body_writer_read(w, out, sizes[i], &error), (ssize_t)sizes[i]);
		assert_memory_equal(out, text, sizes[i]);
		if (sizes[i] > 10) {
			assert_int_equal(store_body_writer_read(w, out, 10, &error), 10);
			assert_memory_equal(out, text, 10);
		}
		/* and it is kept as it was */
		struct store_body *body;
		assert_int_equal(store_body_finish(&w, &body, &error), 1);
		assert_int_equal(store_body_size(body), sizes[i]);
		store_body_free(&body);
		free(out);
		free(text);
	}
}

/* Ids made by one thread keep its byte and ascend (consecutive keys). */
static void test_ids(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	struct store_body *a, *b;
	assert_int_equal(store_body_from_buffer(f->store, "Subject: a\r\n\r\na\r\n", 17, &a, &error), 1);
	assert_int_equal(store_body_from_buffer(f->store, "Subject: b\r\n\r\nb\r\n", 17, &b, &error), 1);
	assert_int_equal(a->id[0], b->id[0]);
	assert_true(memcmp(a->id, b->id, STORE_BODY_ID_LEN) < 0);
	store_body_free(&a);
	store_body_free(&b);
}

/* A delivery refused (quota) leaves no bytes behind and keeps its message. */
static void test_refused_leaves_nothing(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 100, 0, &error), 1);
	char *text = make_message(5000);
	struct store_body *body;
	assert_int_equal(store_body_from_buffer(f->store, text, 5000, &body, &error), 1);
	const char *rcpt[] = { "bob@example.com" };
	struct store_delivery d = { .sender = "a@example.org", .recipients = rcpt, .nrecipients = 1,
				    .body = body };
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 0);
	if (strstr(error, "quota") == NULL)
		fail_msg("refused with: %s", error);
	assert_int_equal(has_row(f, DBI_BODYDATA, body->id), 0);
	assert_int_equal(has_row(f, DBI_BODIES, body->id), 0);
	/* The same body delivered once there is room. */
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 0, 0, &error), 1);
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 1);
	assert_int_equal(has_row(f, DBI_BODYDATA, body->id), 1);
	store_body_free(&body);
	free(text);
}

struct session_rec_ctx {
	const uint8_t *id;
	uint8_t rec[128];
	size_t len;
	bool put;
};

/* Reads a session record raw (with a buffer of rec_len), or writes one. */
static int session_rec_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct session_rec_ctx *c = ctx;
	if (c->put)
		return store_put(store, DBI_SESSIONS, txn, c->id, STORE_SESSION_ID_LEN, c->rec,
				 c->len, 0);
	return store_get(store, DBI_SESSIONS, txn, c->id, STORE_SESSION_ID_LEN, c->rec, c->len,
			 &c->len, 0);
}

/* A webmail form posted twice with its send token is delivered once: the
 * token is recorded in the session in the delivering transaction, the
 * last two are remembered, a touch keeps them, and session records from
 * before the field (53 bytes) still work, as do old readers (a 53 + 16
 * byte buffer) on the new ones. */
static void test_send_token(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	struct store_session s, got;
	struct store_mailbox mb;
	int64_t t = 1700000000;
	char *text = make_message(2000);
	struct store_body *body;
	const char *rcpt[] = { "bob@example.com" };
	uint8_t tok[3][STORE_SEND_TOKEN_LEN] = { "token-1", "token-2", "token-3" };

	assert_int_equal(store_session_create(f->store, 1, t, &s, &error), 1);
	/* as written before the field existed */
	struct session_rec_ctx rc = { .id = s.id, .len = sizeof(rc.rec) };
	assert_int_equal(store_read(f->store, session_rec_txn, &rc, &error), 1);
	assert_int_equal(rc.len, 53 + 16);
	rc.len = 53;
	rc.put = true;
	assert_int_equal(store_write(f->store, false, session_rec_txn, &rc, &error), 1);
	assert_int_equal(store_session_get(f->store, s.id, t, 1800, 43200, &got, &error), 1);
	assert_false(store_session_sent(&got, tok[0]));

	assert_int_equal(store_body_from_buffer(f->store, text, 2000, &body, &error), 1);
	struct store_delivery d = { .sender = "bob@example.com", .recipients = rcpt,
				    .nrecipients = 1, .body = body, .session_id = s.id,
				    .send_token = tok[0] };
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 1);
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 2);
	assert_int_equal(store_mailbox_get(f->store, inbox_id, &mb, &error), 1);
	assert_int_equal(mb.exists, 1);
	/* read as an old reader would: it fits */
	rc = (struct session_rec_ctx){ .id = s.id, .len = 53 + 16 };
	assert_int_equal(store_read(f->store, session_rec_txn, &rc, &error), 1);
	/* a touch keeps the tokens */
	assert_int_equal(store_session_get(f->store, s.id, t + 600, 1800, 43200, &got, &error), 1);
	assert_int_equal(got.last_seen, t + 600);
	assert_true(store_session_sent(&got, tok[0]));
	/* two more: the first is forgotten, the last two are not */
	d.send_token = tok[1];
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 1);
	d.send_token = tok[2];
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 1);
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 2);
	d.send_token = tok[1];
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 2);
	assert_int_equal(store_mailbox_get(f->store, inbox_id, &mb, &error), 1);
	assert_int_equal(mb.exists, 3);
	assert_int_equal(store_session_get(f->store, s.id, t + 700, 1800, 43200, &got, &error), 1);
	assert_false(store_session_sent(&got, tok[0]));
	/* without a token (smtpd) nothing is recorded */
	d.send_token = NULL;
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 1);
	assert_int_equal(store_deliver(f->store, &d, NULL, NULL, &error), 1);
	store_body_free(&body);
	free(text);
}

struct put_ctx {
	const struct store_body *body;
	bool record;
};

static int put_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct put_ctx *c = ctx;
	int r = store_put(store, DBI_BODYDATA, txn, c->body->id, STORE_BODY_ID_LEN,
			  c->body->inline_data, c->body->size, 0);
	if (r >= 0 && c->record)
		r = body_record_put(store, txn, c->body, 1);
	return r < 0 ? r : 1;
}

/* What a crash between a body's two transactions leaves is collected once
 * old enough; bytes with a record, and recent ones, are kept. */
static void test_gc(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	struct store_body *old_orphan, *old_kept, *fresh;
	const char *text = "Subject: gc\r\n\r\nbody\r\n";
	assert_int_equal(store_body_from_buffer(f->store, text, strlen(text), &old_orphan, &error), 1);
	assert_int_equal(store_body_from_buffer(f->store, text, strlen(text), &old_kept, &error), 1);
	assert_int_equal(store_body_from_buffer(f->store, text, strlen(text), &fresh, &error), 1);
	/* Made two days ago. */
	uint64_t ns = (uint64_t)(time(NULL) - 2 * 86400) * 1000000000u;
	be64_put(old_orphan->id + 1, ns);
	be64_put(old_kept->id + 1, ns + 1);
	struct put_ctx c1 = { old_orphan, false }, c2 = { old_kept, true };
	assert_int_equal(store_write(f->store, false, put_txn, &c1, &error), 1);
	assert_int_equal(store_write(f->store, false, put_txn, &c2, &error), 1);
	assert_int_equal(body_data_prestore(f->store, fresh, &error), 1);
	unsigned removed = 99;
	assert_int_equal(store_body_data_gc(f->store, 0, &removed, &error), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(has_row(f, DBI_BODYDATA, old_orphan->id), 0);
	assert_int_equal(has_row(f, DBI_BODYDATA, old_kept->id), 1);
	assert_int_equal(has_row(f, DBI_BODYDATA, fresh->id), 1);
	/* The next run goes on from where this one stopped, then wraps. */
	assert_int_equal(store_body_data_gc(f->store, 0, &removed, &error), 0);
	assert_int_equal(removed, 0);
	/* A failed delivery's release removes the fresh one at once. */
	body_data_release(f->store, fresh);
	assert_int_equal(has_row(f, DBI_BODYDATA, fresh->id), 0);
	store_body_free(&old_orphan);
	store_body_free(&old_kept);
	store_body_free(&fresh);
}

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static size_t count_lines(const char *text, const char *line)
{
	size_t n = 0, len = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p += len)
		if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			n++;
	return n;
}

/* What a snapshot reader that must not wait gets for a key another
 * transaction has just written: DB_NOTFOUND from a multiversion database
 * (the version before the write), DB_LOCK_DEADLOCK (DB_TXN_NOWAIT: the
 * lock is not granted) from one without. */
static int snapshot_read_while_written(struct store *store, enum store_dbi dbi)
{
	DB_ENV *env = store->env;
	DB *db = store_db_writer(store, dbi);
	DB_TXN *writer, *reader;
	char key[] = "snapshot-probe-key", buf[8];
	DBT k = { .data = key, .size = sizeof(key) };
	DBT v = { .data = "x", .size = 1 };
	assert_int_equal(env->txn_begin(env, NULL, &writer, 0), 0);
	assert_int_equal(db->put(db, writer, &k, &v, 0), 0);
	assert_int_equal(env->txn_begin(env, NULL, &reader, DB_TXN_SNAPSHOT | DB_TXN_NOWAIT), 0);
	DBT out = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int ret = db->get(db, reader, &k, &out, 0);
	reader->abort(reader);
	writer->abort(writer);
	return ret;
}

/* An older store's DB_CONFIG gets the settings it lacks, once, and loses
 * the retired ones; a value the administrator set stays. */
static void test_config_update(void **state)
{
	struct store_fixture *f = *state;
	const char *error;
	char path[256];
	snprintf(path, sizeof(path), "%s/env/DB_CONFIG", f->dir);
	char *text = read_file(path);
	assert_int_equal(count_lines(text, "log_set_config db_log_zero on"), 1);
	/* As written by an older version, plus an administrator's line. */
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (strncmp(line, "set_lk_tablesize", 16) != 0 && strncmp(line, "log_set_config", 14) != 0)
			fprintf(fp, "%s\n", line);
	fprintf(fp, "set_flags DB_MULTIVERSION\n");   /* retired */
	fprintf(fp, "set_lk_tablesize  4096");   /* no final newline */
	fclose(fp);
	free(text);
	store_close(&f->store);
	if (store_open(f->config, false, &f->store, &error) < 0)
		fail_msg("store_open: %s", error);
	if (store_maintain(f->store, 86400, &error) < 0)
		fail_msg("store_maintain: %s", error);
	text = read_file(path);
	assert_int_equal(count_lines(text, "set_lk_tablesize  4096"), 1);
	assert_int_equal(count_lines(text, "set_lk_tablesize 1024"), 0);
	assert_int_equal(count_lines(text, "set_lk_partitions 4"), 1);
	free(text);
	/* The value older versions wrote is retired and the new one added. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (const char *p = store_db_config_template(); *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		if (strncmp(p, "set_lk_tablesize", 16) != 0 && strncmp(p, "log_set_config", 14) != 0)
			fwrite(p, 1, len, fp);
		p += len;
	}
	fprintf(fp, "set_flags DB_MULTIVERSION\n");   /* retired */
	fprintf(fp, "set_lk_tablesize  32768\n");     /* as older versions wrote it */
	fclose(fp);
	/* Opened with that line, the store still chooses MVCC per database. */
	store_close(&f->store);
	if (store_open(f->config, false, &f->store, &error) < 0)
		fail_msg("store_open: %s", error);
	assert_int_equal(snapshot_read_while_written(f->store, DBI_BODYDATA), DB_LOCK_DEADLOCK);
	assert_int_equal(snapshot_read_while_written(f->store, DBI_MSGS), DB_NOTFOUND);
	for (int run = 0; run < 2; run++) {
		if (store_maintain(f->store, 86400, &error) < 0)
			fail_msg("store_maintain: %s", error);
		text = read_file(path);
		assert_int_equal(count_lines(text, "log_set_config db_log_zero on"), 1);
		assert_int_equal(count_lines(text, "set_lk_tablesize  32768"), 0);
		assert_int_equal(count_lines(text, "set_lk_tablesize 1024"), 1);
		assert_int_equal(count_lines(text, "set_cachesize 0 67108864 1"), 1);
		assert_int_equal(count_lines(text, "set_flags DB_MULTIVERSION"), 0);
		free(text);
	}
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	/* And the store still opens with it. */
	store_close(&f->store);
	if (store_open(f->config, false, &f->store, &error) < 0)
		fail_msg("store_open: %s", error);
}

int main(void)
{
	int user = store_fixture_become_store_user();
	if (user != 0)
		return user;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crlf_chunks, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_read, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_ids, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_refused_leaves_nothing, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_send_token, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_config_update, setup, store_fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
