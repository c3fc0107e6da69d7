/* Unit tests of the store's mailboxes, messages, bodies, delivery and checks,
 * each on a fresh store in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account_int.h"
#include "config.h"
#include "mime.h"
#include "process.h"
#include "store.h"
#include "store_int.h"

struct fixture {
	struct config *config;
	struct store *store;
	char dir[64];
	uint32_t user_id;
	uint32_t inbox;
};

static void rm_rf(const char *path)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

static int setup(void **state)
{
	const char *error;
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/pb-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->config = config_defaults();
	free(f->config->store);
	assert_int_equal(asprintf(&f->config->store, "%s/store", f->dir) > 0, 1);
	f->config->password_cost = 0;
	f->config->max_message_size = 1024 * 1024;
	if (store_init(f->config, &error) < 0)
		fail_msg("store_init: %s", error);
	if (store_open(f->config, false, &f->store, &error) < 0)
		fail_msg("store_open: %s", error);
	assert_int_equal(store_domain_add(f->store, "example.com", &error), 1);
	assert_int_equal(store_user_add(f->store, "bob@example.com", "secret", NULL, &error), 1);
	struct store_user user;
	assert_int_equal(store_user_find(f->store, "bob@example.com", &user, &error), 1);
	f->user_id = user.id;
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "INBOX", &mb, &error), 1);
	f->inbox = mb.id;
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

static uint32_t append(struct fixture *f, uint32_t mailbox, const char *text, uint32_t flags)
{
	const char *error;
	struct store_body *body;
	uint32_t uid = 0;
	assert_int_equal(store_body_from_buffer(f->store, text, strlen(text), &body, &error), 1);
	int r = store_msg_append(f->store, mailbox, body, flags, NULL, 0, 0, 0, NULL, 0, &uid, &error);
	if (r != 1)
		fail_msg("append: %d %s", r, error);
	store_body_free(&body);
	return uid;
}

/* store check finds nothing wrong (it prints what it finds). It opens the
 * store itself, and a process has one environment at a time. */
static void check_clean(struct fixture *f)
{
	const char *error;
	store_close(&f->store);
	int problems = store_check(f->config, stderr, &error);
	if (problems != 0)
		fail_msg("store check: %d %s", problems, problems < 0 ? error : "problems");
	assert_int_equal(store_open(f->config, false, &f->store, &error), 0);
}

static int count_cb(const struct store_msg *msg, void *ctx)
{
	(void)msg;
	(*(int *)ctx)++;
	return 0;
}

static int name_cb(const struct store_mailbox *mb, void *ctx)
{
	char *names = ctx;
	strcat(names, mb->name);
	strcat(names, ",");
	return 0;
}

static void test_default_mailboxes(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char names[512] = "";
	assert_int_equal(store_mailbox_list(f->store, f->user_id, name_cb, names, &error), 6);
	assert_string_equal(names, "Archive,Drafts,INBOX,Junk,Sent,Trash,");
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Sent", &mb, &error), 1);
	assert_int_equal(mb.special_use, STORE_SPECIAL_SENT);
	assert_true(mb.subscribed);
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "inbox", &mb, &error), 1);
	assert_string_equal(mb.name, "INBOX");
}

static void test_mailbox_names(void **state)
{
	(void)state;
	assert_true(store_mailbox_name_valid("Work/2024/Q1"));
	assert_true(store_mailbox_name_valid("Entwürfe"));
	assert_false(store_mailbox_name_valid(""));
	assert_false(store_mailbox_name_valid("a//b"));
	assert_false(store_mailbox_name_valid("/a"));
	assert_false(store_mailbox_name_valid("a/"));
	assert_false(store_mailbox_name_valid("a/../b"));
	assert_false(store_mailbox_name_valid("."));
	assert_false(store_mailbox_name_valid("a\tb"));
	assert_false(store_mailbox_name_valid("a*b"));
	assert_false(store_mailbox_name_valid("\xc3"));
	char big[STORE_MAILBOX_NAME_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(store_mailbox_name_valid(big));
	big[STORE_MAILBOX_NAME_MAX] = '\0';
	assert_true(store_mailbox_name_valid(big));
}

static void test_mailbox_create_rename_delete(void **state)
{
	struct fixture *f = *state;
	const char *error;
	uint32_t id, id2;
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Work", 0, &id, &error), 1);
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Work", 0, &id2, &error), 0);
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Work/2024", 0, &id2, &error), 1);
	append(f, id2, "Subject: a\r\n\r\nx\r\n", 0);
	/* Children move with their parent. */
	assert_int_equal(store_mailbox_rename(f->store, f->user_id, "Work", "Job", &error), 1);
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Job/2024", &mb, &error), 1);
	assert_int_equal(mb.id, id2);
	assert_int_equal(mb.exists, 1);
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Work/2024", &mb, &error), 0);
	/* Into itself, onto an existing name, onto INBOX: refused. */
	assert_int_equal(store_mailbox_rename(f->store, f->user_id, "Job", "Job/x", &error), 0);
	assert_int_equal(store_mailbox_rename(f->store, f->user_id, "Job", "Sent", &error), 0);
	assert_int_equal(store_mailbox_rename(f->store, f->user_id, "Job", "INBOX", &error), 0);
	/* A parent with children is not deleted; INBOX never. */
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Job", &error), 0);
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "INBOX", &error), 0);
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Job/2024", &error), 1);
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Job", &error), 1);
	assert_int_equal(store_mailbox_get(f->store, id2, &mb, &error), 0);
	/* A new mailbox of the same name gets a new UIDVALIDITY. */
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Job", 0, &id2, &error), 1);
	assert_int_not_equal(id2, id);
	uint64_t bytes;
	uint32_t messages;
	assert_int_equal(store_user_usage(f->store, f->user_id, &bytes, &messages, &error), 1);
	assert_int_equal(messages, 0);
	assert_int_equal(bytes, 0);
}

static void test_inbox_rename(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_mailbox mb;
	append(f, f->inbox, "Subject: 1\r\n\r\n1\r\n", 0);
	append(f, f->inbox, "Subject: 2\r\n\r\n2\r\n", 0);
	assert_int_equal(store_mailbox_subscribe(f->store, f->user_id, "INBOX", true, &error), 1);
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	uint64_t modseq = mb.highestmodseq;
	/* the user's record names INBOX (a POP3 login reads it from there) */
	struct store_user user;
	assert_int_equal(store_user_get(f->store, f->user_id, &user, &error), 1);
	assert_int_equal(user.inbox_id, f->inbox);
	assert_int_equal(user.inbox_uidvalidity, mb.uidvalidity);
	assert_int_equal(store_mailbox_rename(f->store, f->user_id, "INBOX", "Old", &error), 1);
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Old", &mb, &error), 1);
	assert_int_equal(mb.exists, 2);
	/* sessions with it selected as INBOX see a change and look again */
	assert_true(mb.highestmodseq > modseq);
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "INBOX", &mb, &error), 1);
	assert_int_equal(mb.exists, 0);
	assert_int_not_equal(mb.id, f->inbox);
	/* the subscription is to the name INBOX (RFC 3501 6.3.6) */
	assert_true(mb.subscribed);
	/* and the user's record names the new one */
	assert_int_equal(store_user_get(f->store, f->user_id, &user, &error), 1);
	assert_int_equal(user.inbox_id, mb.id);
	assert_int_equal(user.inbox_uidvalidity, mb.uidvalidity);
	assert_int_not_equal(mb.uidvalidity, 0);
}

/* Rewrites user id's record in accounts.db through fn (raw bytes, their
 * length). */
static void user_record_edit_id(struct fixture *f, uint32_t id,
				void (*fn)(uint8_t *buf, uint32_t *len))
{
	DB *db = store_db_writer(f->store, DBI_ACCOUNTS);
	DB_TXN *txn;
	uint8_t key[1 + 4] = { ACCOUNT_TAG_USER }, buf[1024];
	be32_put(key + 1, id);
	DBT k = { .data = key, .size = sizeof(key) };
	DBT v = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	assert_int_equal(f->store->env->txn_begin(f->store->env, NULL, &txn, 0), 0);
	assert_int_equal(db->get(db, txn, &k, &v, 0), 0);
	fn(buf, &v.size);
	assert_int_equal(db->put(db, txn, &k, &v, 0), 0);
	assert_int_equal(txn->commit(txn, 0), 0);
}

static void user_record_edit(struct fixture *f, void (*fn)(uint8_t *buf, uint32_t *len))
{
	user_record_edit_id(f, f->user_id, fn);
}

static void drop_inbox_fields(uint8_t *buf, uint32_t *len)
{
	(void)buf;
	*len -= 8;   /* a record from before INBOX was kept in it */
}

static void wrong_inbox(uint8_t *buf, uint32_t *len)
{
	be32_put(buf + *len - 8, be32_get(buf + *len - 8) + 1);
}

/* A record without the INBOX fields reads as "look INBOX up" and passes
 * the check; a record naming another mailbox is a problem the check tells. */
static void test_user_inbox_fields(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_user user;
	user_record_edit(f, drop_inbox_fields);
	assert_int_equal(store_user_get(f->store, f->user_id, &user, &error), 1);
	assert_int_equal(user.inbox_id, 0);
	assert_int_equal(user.inbox_uidvalidity, 0);
	assert_string_equal(user.address, "bob@example.com");
	check_clean(f);
	/* store maintain points it at INBOX, and does that once */
	unsigned filled;
	assert_int_equal(user_inbox_fill(f->store, &filled, &error), 0);
	assert_int_equal(filled, 1);
	assert_int_equal(store_user_get(f->store, f->user_id, &user, &error), 1);
	assert_int_equal(user.inbox_id, f->inbox);
	assert_int_not_equal(user.inbox_uidvalidity, 0);
	user_record_edit(f, drop_inbox_fields);
	assert_int_equal(user_inbox_fill(f->store, &filled, &error), 0);
	assert_int_equal(filled, 0);
	assert_int_equal(store_user_get(f->store, f->user_id, &user, &error), 1);
	assert_int_equal(user.inbox_id, 0);
	/* a change to the user writes the record whole again, still without */
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 1000000, 0, &error), 1);
	assert_int_equal(store_user_get(f->store, f->user_id, &user, &error), 1);
	assert_int_equal(user.inbox_id, 0);
	assert_int_equal(user.quota_bytes, 1000000);
	/* RENAME INBOX points it at the new INBOX */
	assert_int_equal(store_mailbox_rename(f->store, f->user_id, "INBOX", "Old", &error), 1);
	assert_int_equal(store_user_get(f->store, f->user_id, &user, &error), 1);
	assert_int_not_equal(user.inbox_id, 0);
	check_clean(f);

	user_record_edit(f, wrong_inbox);
	store_close(&f->store);
	FILE *out = tmpfile();
	assert_int_equal(store_check(f->config, out, &error), 1);
	char text[1024] = "";
	rewind(out);
	assert_true(fread(text, 1, sizeof(text) - 1, out) > 0);
	fclose(out);
	assert_non_null(strstr(text, "as INBOX, which is mailbox"));
	assert_int_equal(store_open(f->config, false, &f->store, &error), 0);
}

/* Filling in INBOX goes through the users in batches of 256: every one of
 * 600 older records (the fixture's user and 599 more) is filled. */
static void test_user_inbox_fill_batches(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char address[64];
	struct store_user user;
	unsigned filled;
	for (int i = 0; i < 599; i++) {
		snprintf(address, sizeof(address), "u%d@example.com", i);
		assert_int_equal(store_user_add(f->store, address, "secret", NULL, &error), 1);
	}
	for (uint32_t id = f->user_id; id < f->user_id + 600; id++)
		user_record_edit_id(f, id, drop_inbox_fields);
	assert_int_equal(user_inbox_fill(f->store, &filled, &error), 0);
	assert_int_equal(filled, 600);
	for (uint32_t id = f->user_id; id < f->user_id + 600; id++) {
		assert_int_equal(store_user_get(f->store, id, &user, &error), 1);
		assert_int_not_equal(user.inbox_id, 0);
	}
	check_clean(f);
}

/* A login failure counter whose last failure is a day past, in
 * accounts.db's 'F' range beside the users' records. */
static int old_failure_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	uint8_t rec[21] = { 1 };   /* version, u32 failures, u64 start, u64 last */
	int64_t long_ago = (int64_t)time(NULL) - 2 * 86400;
	(void)ctx;
	be32_put(rec + 1, 3);
	be64_put(rec + 5, (uint64_t)long_ago);
	be64_put(rec + 13, (uint64_t)long_ago);
	return account_put(store, txn, ACCOUNT_TAG_FAILURES, "i:198.51.100.7", 14, rec, sizeof(rec));
}

struct failures_seen {
	int old, fresh;
};

static int failures_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct failures_seen *seen = ctx;
	uint8_t buf[64];
	size_t len;
	seen->old = account_get(store, txn, ACCOUNT_TAG_FAILURES, "i:198.51.100.7", 14, buf,
				sizeof(buf), &len, 0);
	seen->fresh = account_get(store, txn, ACCOUNT_TAG_FAILURES, "i:192.0.2.1", 11, buf,
				  sizeof(buf), &len, 0);
	return seen->old < 0 || seen->fresh < 0 ? -1 : 1;
}

/* store maintain drops the login failure counters of long ago, and only
 * them: the fresh ones and the users' records beside them stay. */
static void test_failure_counters_expire(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_user user;
	struct failures_seen seen;
	setenv("PILLARBOX_AUTH_DELAY_MS", "0", 1);
	assert_int_equal(store_write(f->store, false, old_failure_txn, NULL, &error), 1);
	assert_int_equal(store_auth_login(f->store, "zed@example.com", "wrong", "192.0.2.1", &user,
					  &error), STORE_AUTH_FAIL);
	assert_int_equal(store_read(f->store, failures_txn, &seen, &error), 1);
	assert_int_equal(seen.old, 1);
	assert_int_equal(seen.fresh, 1);
	assert_int_equal(store_maintain(f->store, 3600, &error), 1);   /* what it dropped */
	assert_int_equal(store_read(f->store, failures_txn, &seen, &error), 1);
	assert_int_equal(seen.old, 0);
	assert_int_equal(seen.fresh, 1);
	assert_int_equal(store_user_get(f->store, f->user_id, &user, &error), 1);
	assert_int_equal(store_user_find(f->store, user.address, &user, &error), 1);
	check_clean(f);
}

/* A subscription is to a name (RFC 3501 6.3.4): DELETE leaves the name
 * subscribed until UNSUBSCRIBE, CREATE or RENAME of it takes it back, and
 * deleting the user removes it. */
static void test_subscription_outlives_delete(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_mailbox mb;
	char names[256] = "";
	uint32_t id;
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Gone", 0, &id, &error), 1);
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Plain", 0, &id, &error), 1);
	assert_int_equal(store_mailbox_subscribe(f->store, f->user_id, "Gone", true, &error), 1);
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Gone", &error), 1);
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Plain", &error), 1);
	assert_int_equal(store_mailbox_list_gone_subscribed(f->store, f->user_id, name_cb, names,
							    &error), 1);
	assert_string_equal(names, "Gone,");
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Gone", &mb, &error), 0);
	assert_int_equal(store_mailbox_subscribe(f->store, f->user_id, "Gone", true, &error), 1);
	assert_int_equal(store_mailbox_subscribe(f->store, f->user_id, "Plain", true, &error), 0);
	/* CREATE takes it back */
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Gone", 0, &id, &error), 1);
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Gone", &mb, &error), 1);
	assert_true(mb.subscribed);
	assert_int_equal(store_mailbox_list_gone_subscribed(f->store, f->user_id, name_cb, names,
							    &error), 0);
	/* so does RENAME onto the name */
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Gone", &error), 1);
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Keep", 0, &id, &error), 1);
	assert_int_equal(store_mailbox_rename(f->store, f->user_id, "Keep", "Gone", &error), 1);
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Gone", &mb, &error), 1);
	assert_true(mb.subscribed);
	assert_int_equal(store_mailbox_list_gone_subscribed(f->store, f->user_id, name_cb, names,
							    &error), 0);
	/* UNSUBSCRIBE removes it */
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Gone", &error), 1);
	assert_int_equal(store_mailbox_subscribe(f->store, f->user_id, "Gone", false, &error), 1);
	assert_int_equal(store_mailbox_list_gone_subscribed(f->store, f->user_id, name_cb, names,
							    &error), 0);
	/* and so does deleting the user */
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Gone", 0, &id, &error), 1);
	assert_int_equal(store_mailbox_subscribe(f->store, f->user_id, "Gone", true, &error), 1);
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Gone", &error), 1);
	assert_int_equal(store_mailbox_list_gone_subscribed(f->store, f->user_id, name_cb, names,
							    &error), 1);
	assert_int_equal(store_user_del(f->store, "bob@example.com", &error), 1);
	assert_int_equal(store_mailbox_list_gone_subscribed(f->store, f->user_id, name_cb, names,
							    &error), 0);
	check_clean(f);
}

static void test_append_uids_and_counts(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_mailbox mb;
	assert_int_equal(append(f, f->inbox, "Subject: one\r\n\r\nbody\r\n", 0), 1);
	assert_int_equal(append(f, f->inbox, "Subject: two\r\n\r\nbody\r\n", STORE_FLAG_SEEN), 2);
	assert_int_equal(append(f, f->inbox, "Subject: three\r\n\r\nbody\r\n", STORE_FLAG_DELETED), 3);
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	assert_int_equal(mb.exists, 3);
	assert_int_equal(mb.unseen, 2);
	assert_int_equal(mb.deleted, 1);
	assert_int_equal(mb.uidnext, 4);
	int n = 0;
	assert_int_equal(store_msg_list(f->store, f->inbox, 2, UINT32_MAX, count_cb, &n, &error), 2);
	assert_int_equal(n, 2);
	struct store_msg msg;
	assert_int_equal(store_msg_get(f->store, f->inbox, 1, &msg, &error), 1);
	assert_string_equal(msg.subject, "one");
	assert_int_equal(msg.size, strlen("Subject: one\r\n\r\nbody\r\n"));
}

/* The Date: header's zone is kept beside the time (SENTON & co. compare
 * the date as written); a record written before the zone was kept (version
 * 1, without its 4 bytes) still reads, with zone 0. */
static void test_sent_date_zone(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_msg msg;
	assert_int_equal(append(f, f->inbox, "Date: Mon, 01 Jan 2024 23:30:00 -0500\r\n"
				"Subject: late\r\n\r\nbody\r\n", 0), 1);
	assert_int_equal(store_msg_get(f->store, f->inbox, 1, &msg, &error), 1);
	assert_int_equal(msg.sent_date, 1704169800);        /* 2024-01-02 04:30 UTC */
	assert_int_equal(msg.sent_date_tz, -300);

	/* Rewritten as version 1: the zone's 4 bytes after sent_date go. */
	DB *db = store_db_writer(f->store, DBI_MSGS);
	DB_TXN *txn;
	uint8_t key[8], buf[2048];
	be32_put(key, f->inbox);   /* msgs.db: mailbox id, UID */
	be32_put(key + 4, 1);
	DBT k = { .data = key, .size = 8 };
	DBT v = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	assert_int_equal(f->store->env->txn_begin(f->store->env, NULL, &txn, 0), 0);
	assert_int_equal(db->get(db, txn, &k, &v, 0), 0);
	size_t at = 1 + 4 + 8 + 8 + 8 + 4 + 8 + STORE_BODY_ID_LEN + 8;   /* after sent_date */
	assert_int_equal(buf[0], 3);
	buf[0] = 1;
	memmove(buf + at, buf + at + 4, v.size - at - 4);
	v.size -= 4 + 8;   /* and version 3's size_crlf at the end */
	assert_int_equal(db->put(db, txn, &k, &v, 0), 0);
	assert_int_equal(txn->commit(txn, 0), 0);
	memset(&msg, 0xff, sizeof(msg));
	assert_int_equal(store_msg_get(f->store, f->inbox, 1, &msg, &error), 1);
	assert_int_equal(msg.sent_date, 1704169800);
	assert_int_equal(msg.sent_date_tz, 0);
	assert_string_equal(msg.subject, "late");
	assert_int_equal(msg.size_crlf, msg.size);   /* not known: what was said before */
}

/* Bare LF and bare CR become CRLF on the way in; sizes count what is stored. */
static void test_body_crlf(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_msg msg;
	struct store_msg_reader *reader;
	uint32_t uid = append(f, f->inbox, "Subject: lf\n\nline1\nline2\rend", 0);
	const char expect[] = "Subject: lf\r\n\r\nline1\r\nline2\r\nend";
	assert_int_equal(store_msg_get(f->store, f->inbox, uid, &msg, &error), 1);
	assert_int_equal(msg.size, strlen(expect));
	/* POP3's count: the last line ended too (RFC 1939 11) */
	assert_int_equal(msg.size_crlf, strlen(expect) + 2);
	assert_int_equal(store_msg_open(f->store, &msg, &reader, &error), 1);
	char buf[128] = "";
	assert_int_equal(store_msg_read(reader, 0, buf, sizeof(buf)), strlen(expect));
	assert_string_equal(buf, expect);
	/* A range in the middle. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(store_msg_read(reader, 15, buf, 5), 5);
	assert_string_equal(buf, "line1");
	size_t len;
	const void *cache = store_msg_mime_cache(reader, &len);
	struct mime_message *mime;
	assert_int_equal(mime_cache_decode(cache, len, &mime, &error), 1);
	assert_int_equal(mime->root->body_offset, 15);
	mime_message_free(&mime);
	store_msg_close(&reader);
}

/* A binary body keeps its bare LFs, and POP3's count adds a CR for each,
 * however the writes split a CRLF, and the end of an unended last line. */
static void test_body_binary_crlf(void **state)
{
	static const char *const pieces[] = { "Subject: b\r\n\r\na\nb\r", "\nc\n\n", "\r" };
	struct fixture *f = *state;
	const char *error;
	struct store_body_writer *w;
	struct store_body *body;
	struct store_msg msg;
	uint32_t uid = 0;
	size_t len = 0;

	assert_int_equal(store_body_create(f->store, &w, &error), 1);
	store_body_binary(w);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		assert_int_equal(store_body_write(w, pieces[i], strlen(pieces[i]), &error), 1);
		len += strlen(pieces[i]);
	}
	assert_int_equal(store_body_finish(&w, &body, &error), 1);
	assert_int_equal(store_msg_append(f->store, f->inbox, body, 0, NULL, 0, 0, 0, NULL, 0,
					  &uid, &error), 1);
	store_body_free(&body);
	assert_int_equal(store_msg_get(f->store, f->inbox, uid, &msg, &error), 1);
	assert_int_equal(msg.size, len);
	/* "a\n", "c\n", "\n" bare; "b\r" "\n" is one CRLF; the last CR gets its LF */
	assert_int_equal(msg.size_crlf, len + 3 + 1);
}

static void test_too_big(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_body_writer *w;
	struct store_body *body = NULL;
	char chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(store_body_create(f->store, &w, &error), 1);
	int r = 1;
	for (int i = 0; i < 300 && r == 1; i++)
		r = store_body_write(w, chunk, sizeof(chunk), &error);
	assert_int_equal(r, 0);
	assert_int_equal(store_body_finish(&w, &body, &error), 0);
	assert_null(body);
	assert_null(w);
}

struct flag_seen {
	int changed;
	int failed;
	uint64_t modseq;
};

static int flag_cb(const struct store_msg *msg, void *ctx)
{
	struct flag_seen *s = ctx;
	s->changed++;
	s->modseq = msg->modseq;
	return 0;
}

static int flag_failed_cb(uint32_t uid, void *ctx)
{
	(void)uid;
	((struct flag_seen *)ctx)->failed++;
	return 0;
}

static int keyword_cb(unsigned id, const char *name, void *ctx)
{
	char *names = ctx;
	sprintf(names + strlen(names), "%u:%s,", id, name);
	return 0;
}

static void test_flags_and_modseq(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_mailbox mb;
	uint32_t uids[2] = { append(f, f->inbox, "a: b\r\n\r\n", 0), append(f, f->inbox, "a: b\r\n\r\n", 0) };
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	uint64_t before = mb.highestmodseq;
	const char *kw[] = { "$Label1", "work" };
	struct flag_seen s = { 0 };
	assert_int_equal(store_msg_set_flags(f->store, f->inbox, uids, 2, STORE_FLAGS_ADD,
					     STORE_FLAG_SEEN, kw, 2, 0, flag_cb, flag_failed_cb, &s, &error), 2);
	assert_int_equal(s.changed, 2);
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	assert_int_equal(mb.unseen, 0);
	assert_int_equal(mb.highestmodseq, before + 2);
	/* No change, no new modseq. */
	assert_int_equal(store_msg_set_flags(f->store, f->inbox, uids, 2, STORE_FLAGS_ADD,
					     STORE_FLAG_SEEN, NULL, 0, 0, NULL, NULL, NULL, &error), 0);
	/* UNCHANGEDSINCE below the message's modseq fails it. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_msg_set_flags(f->store, f->inbox, uids, 1, STORE_FLAGS_REMOVE,
					     STORE_FLAG_SEEN, NULL, 0, before, flag_cb, flag_failed_cb, &s, &error), 0);
	assert_int_equal(s.failed, 1);
	struct store_msg msg;
	assert_int_equal(store_msg_get(f->store, f->inbox, uids[0], &msg, &error), 1);
	assert_int_equal(msg.keywords, 3);
	int n = 0;
	assert_int_equal(store_msg_changed_since(f->store, f->inbox, before, count_cb, &n, &error), 2);
	char names[256] = "";
	assert_int_equal(store_keyword_list(f->store, f->inbox, keyword_cb, names, &error), 2);
	assert_string_equal(names, "0:$Label1,1:work,");
}

static void test_copy_move_expunge(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_mailbox inbox, trash;
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Trash", &trash, &error), 1);
	uint32_t uids[3] = { append(f, f->inbox, "Subject: 1\r\n\r\n1\r\n", 0),
			     append(f, f->inbox, "Subject: 2\r\n\r\n2\r\n", STORE_FLAG_SEEN),
			     append(f, f->inbox, "Subject: 3\r\n\r\n3\r\n", 0) };
	uint32_t out[3];
	assert_int_equal(store_msg_copy(f->store, f->inbox, uids, 1, trash.id, false, out, &error), 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(store_msg_copy(f->store, f->inbox, uids + 1, 2, trash.id, true, out, &error), 2);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 3);
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &inbox, &error), 1);
	assert_int_equal(store_mailbox_get(f->store, trash.id, &trash, &error), 1);
	assert_int_equal(inbox.exists, 1);
	assert_int_equal(trash.exists, 3);
	assert_int_equal(trash.unseen, 2);
	uint64_t bytes;
	uint32_t messages;
	assert_int_equal(store_user_usage(f->store, f->user_id, &bytes, &messages, &error), 1);
	assert_int_equal(messages, 4);
	/* A copy into the same mailbox gets a new UID. */
	uint32_t again;
	assert_int_equal(store_msg_copy(f->store, trash.id, out, 1, trash.id, false, &again, &error), 1);
	assert_int_equal(again, 4);
	assert_int_equal(store_msg_expunge(f->store, trash.id, &again, 1, &error), 1);
	uint32_t all[3] = { 1, 2, 3 };
	assert_int_equal(store_msg_expunge(f->store, trash.id, all, 3, &error), 3);
	assert_int_equal(store_msg_expunge(f->store, f->inbox, uids, 1, &error), 1);
	assert_int_equal(store_user_usage(f->store, f->user_id, &bytes, &messages, &error), 1);
	assert_int_equal(messages, 0);
	assert_int_equal(bytes, 0);
	/* Every body file went with its last reference. */
	assert_int_equal(store_maintain(f->store, 0, &error) >= 0, 1);
	check_clean(f);
}

static int uid_cb(uint32_t uid, uint64_t modseq, void *ctx)
{
	(void)modseq;
	*(uint32_t *)ctx = uid;
	return 0;
}

struct since {
	uint32_t uids[8];
	unsigned n;
	uint64_t forgotten;
};

static int since_cb(uint32_t uid, uint64_t modseq, void *ctx)
{
	struct since *s = ctx;
	(void)modseq;
	if (s->n < 8)
		s->uids[s->n++] = uid;
	return 0;
}

static void test_expunged_since(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_mailbox mb;
	uint32_t uid = append(f, f->inbox, "x: y\r\n\r\n", 0);
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	assert_int_equal(store_msg_expunge(f->store, f->inbox, &uid, 1, &error), 1);
	uint32_t seen = 0;
	assert_int_equal(store_msg_expunged_since(f->store, f->inbox, mb.highestmodseq, uid_cb, &seen, NULL, &error), 1);
	assert_int_equal(seen, uid);
}

static struct since *since_in(struct fixture *f, uint32_t mailbox, uint64_t modseq,
			       struct since *out)
{
	const char *error;
	out->n = 0;
	out->forgotten = 99;
	assert_int_equal(store_msg_expunged_since(f->store, mailbox, modseq, since_cb, out,
						  &out->forgotten, &error) >= 0, 1);
	return out;
}

static struct since *since(struct fixture *f, uint64_t modseq, struct since *out)
{
	return since_in(f, f->inbox, modseq, out);
}

/* An expunge record as stores before 2026-11-28 wrote them: no time. */
static int old_record_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	const uint8_t *key = ctx;
	return store_put(store, DBI_EXPUNGED, txn, key, 16, "", 0, 0) < 0 ? -1 : 1;
}

/* `store maintain` forgets expunges older than expunge_history_days, and
 * readers learn from the horizon where the history stops being complete. */
static void test_expunged_forgotten(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_mailbox mb;
	struct since s;
	uint32_t uids[2] = { append(f, f->inbox, "a: 1\r\n\r\n", 0), append(f, f->inbox, "a: 2\r\n\r\n", 0) };
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	uint64_t m0 = mb.highestmodseq;
	/* a record without a time is dated by the first maintenance that
	 * sees it, not dropped: it may be minutes old */
	uint8_t key[16];
	be32_put(key, f->inbox);
	be64_put(key + 4, m0);
	be32_put(key + 12, 1000);
	assert_int_equal(store_write(f->store, false, old_record_txn, key, &error), 1);
	f->config->expunge_history_days = 0;
	assert_int_equal(store_maintain(f->store, 0, &error) >= 0, 1);
	since(f, m0 - 1, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.uids[0], 1000);
	assert_int_equal(s.forgotten, 0);
	/* younger than the history: kept */
	f->config->expunge_history_days = 30;
	assert_int_equal(store_msg_expunge(f->store, f->inbox, &uids[0], 1, &error), 1);
	assert_int_equal(store_maintain(f->store, 0, &error) >= 0, 1);
	since(f, m0 - 1, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.uids[1], uids[0]);
	assert_int_equal(s.forgotten, 0);
	/* a history of 0 days: forgotten, and the horizon says so */
	f->config->expunge_history_days = 0;
	assert_int_equal(store_maintain(f->store, 0, &error) >= 0, 1);
	since(f, m0 - 1, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.forgotten, m0 + 1);
	/* what comes after the horizon is complete */
	assert_int_equal(store_msg_expunge(f->store, f->inbox, &uids[1], 1, &error), 1);
	since(f, m0 + 1, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.uids[0], uids[1]);
	assert_int_equal(s.forgotten, m0 + 1);
	/* maintenance passes over mailboxes with nothing due (INBOX now)
	 * to later ones: an untimed record of a later mailbox is dated by
	 * the first run and goes with the second */
	uint32_t later;
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Later", 0, &later, &error), 1);
	assert_true(later > f->inbox);
	be32_put(key, later);
	be64_put(key + 4, 1);
	be32_put(key + 12, 7);
	assert_int_equal(store_write(f->store, false, old_record_txn, key, &error), 1);
	f->config->expunge_history_days = 30;
	assert_int_equal(store_maintain(f->store, 0, &error) >= 0, 1);
	since(f, m0 + 1, &s);
	assert_int_equal(s.n, 1);
	since_in(f, later, 0, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.forgotten, 0);
	f->config->expunge_history_days = 0;
	assert_int_equal(store_maintain(f->store, 0, &error) >= 0, 1);
	since_in(f, later, 0, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.forgotten, 1);
	since(f, m0 + 1, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.forgotten, m0 + 2);
}

/* Descriptors this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void test_deliver_and_aliases(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_body *body;
	struct store_mailbox mb;
	assert_int_equal(store_user_add(f->store, "alice@example.com", "pw", NULL, &error), 1);
	assert_int_equal(store_alias_add(f->store, "team@example.com", "bob@example.com", &error), 1);
	assert_int_equal(store_alias_add(f->store, "team@example.com", "alice@example.com", &error), 1);
	assert_int_equal(store_alias_add(f->store, "team@example.com", "carol@example.org", &error), 1);
	const char text[] = "From: x@example.net\r\nSubject: hi\r\n\r\nhello\r\n";
	assert_int_equal(store_body_from_buffer(f->store, text, strlen(text), &body, &error), 1);
	const char *rcpts[] = { "team@example.com", "BOB@example.com" };
	struct store_delivery d = { .sender = "x@example.net", .recipients = rcpts, .nrecipients = 2,
				    .body = body, .add_prefix = true };
	bool queued = false;
	char qid[33];
	assert_int_equal(store_deliver(f->store, &d, &queued, qid, &error), 1);
	assert_true(queued);
	assert_int_equal(strlen(qid), 32);
	store_body_free(&body);
	/* bob once, not twice, with his own Delivered-To. */
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	assert_int_equal(mb.exists, 1);
	struct store_msg msg;
	struct store_msg_reader *reader;
	assert_int_equal(store_msg_get(f->store, f->inbox, 1, &msg, &error), 1);
	assert_int_equal(store_msg_open(f->store, &msg, &reader, &error), 1);
	char buf[256] = "";
	store_msg_read(reader, 0, buf, sizeof(buf) - 1);
	assert_string_equal(buf, "Return-Path: <x@example.net>\r\nDelivered-To: bob@example.com\r\n"
			    "From: x@example.net\r\nSubject: hi\r\n\r\nhello\r\n");
	assert_int_equal(store_msg_reader_size(reader), strlen(buf));
	size_t cache_len, mime_len;
	const void *cache = store_msg_mime_cache(reader, &cache_len);
	/* Opened for its structure alone: the same prefix, size and MIME
	 * cache, no descriptor for the bytes, and reading them fails. */
	struct store_msg_reader *mime_only;
	int fds = open_fds();
	assert_int_equal(store_msg_open_mime(f->store, &msg, &mime_only, &error), 1);
	assert_int_equal(open_fds(), fds);
	assert_int_equal(store_msg_reader_size(mime_only), strlen(buf));
	const void *mime = store_msg_mime_cache(mime_only, &mime_len);
	assert_int_equal(mime_len, cache_len);
	assert_memory_equal(mime, cache, cache_len);
	uint16_t plen = store_msg_prefix_len(mime_only);
	assert_int_equal(plen, strlen("Return-Path: <x@example.net>\r\nDelivered-To: bob@example.com\r\n"));
	char head[256];
	assert_int_equal(store_msg_read(mime_only, 0, head, plen), plen);
	assert_memory_equal(head, buf, plen);
	assert_int_equal(store_msg_read(mime_only, plen, head, 1), -1);
	store_msg_close(&mime_only);
	store_msg_close(&reader);
	check_clean(f);
}

static void test_quota(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_body *body;
	uint32_t uid;
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 90, 0, &error), 1);
	const char text[] = "Subject: small\r\n\r\nsmall\r\n";
	assert_int_equal(store_body_from_buffer(f->store, text, strlen(text), &body, &error), 1);
	assert_int_equal(store_msg_append(f->store, f->inbox, body, 0, NULL, 0, 0, 0, NULL, 0, &uid, &error), 1);
	assert_int_equal(store_msg_append(f->store, f->inbox, body, 0, NULL, 0, 0, 0, NULL, 0, &uid, &error), 1);
	assert_int_equal(store_msg_append(f->store, f->inbox, body, 0, NULL, 0, 0, 0, NULL, 0, &uid, &error), 1);
	assert_int_equal(store_msg_append(f->store, f->inbox, body, 0, NULL, 0, 0, 0, NULL, 0, &uid, &error), 0);
	store_body_free(&body);
}

/* A copy from several folders (a webmail search in all of them) is one
 * transaction: when the quota has room for only part of it, nothing is
 * copied; with room, every part is, into consecutive UIDs. A move of the
 * same changes nothing in the usage. */
static void test_copy_groups(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_mailbox sent, archive, mb;
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Sent", &sent, &error), 1);
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Archive", &archive, &error), 1);
	uint32_t a[2] = { append(f, f->inbox, "Subject: a1\r\n\r\n1\r\n", 0),
			  append(f, f->inbox, "Subject: a2\r\n\r\n2\r\n", 0) };
	uint32_t b[1] = { append(f, sent.id, "Subject: b1\r\n\r\n3\r\n", STORE_FLAG_SEEN) };
	uint32_t new_a[2], new_b[1];
	const struct store_copy_group groups[2] = { { f->inbox, a, 2, new_a }, { sent.id, b, 1, new_b } };
	/* 3 messages and room for 5: the first part fits, the second not */
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 0, 5, &error), 1);
	assert_int_equal(store_msg_copy_groups(f->store, groups, 2, archive.id, false, &error), 0);
	assert_non_null(strstr(error, "quota"));
	assert_int_equal(store_mailbox_get(f->store, archive.id, &mb, &error), 1);
	assert_int_equal(mb.exists, 0);
	assert_int_equal(mb.uidnext, 1);
	uint64_t bytes;
	uint32_t messages;
	assert_int_equal(store_user_usage(f->store, f->user_id, &bytes, &messages, &error), 1);
	assert_int_equal(messages, 3);
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 0, 6, &error), 1);
	assert_int_equal(store_msg_copy_groups(f->store, groups, 2, archive.id, false, &error), 3);
	assert_int_equal(new_a[0], 1);
	assert_int_equal(new_a[1], 2);
	assert_int_equal(new_b[0], 3);
	assert_int_equal(store_mailbox_get(f->store, archive.id, &mb, &error), 1);
	assert_int_equal(mb.exists, 3);
	assert_int_equal(mb.unseen, 2);
	/* the copies moved on to Trash: the quota is full, a move still works */
	struct store_mailbox trash;
	assert_int_equal(store_mailbox_find(f->store, f->user_id, "Trash", &trash, &error), 1);
	uint32_t copies[3] = { 1, 2, 3 }, in_trash[3];
	const struct store_copy_group all[1] = { { archive.id, copies, 3, in_trash } };
	assert_int_equal(store_msg_copy_groups(f->store, all, 1, trash.id, true, &error), 3);
	assert_int_equal(store_user_usage(f->store, f->user_id, &bytes, &messages, &error), 1);
	assert_int_equal(messages, 6);
	assert_int_equal(store_mailbox_get(f->store, archive.id, &mb, &error), 1);
	assert_int_equal(mb.exists, 0);
	check_clean(f);
}

/* Several messages in one transaction: consecutive UIDs, or none of them
 * when one does not fit (the quota), with UIDNEXT, counts and the store
 * as they were (no body left behind: store check is clean). */
static void test_append_many(void **state)
{
	struct fixture *f = *state;
	const char *error;
	struct store_body *bodies[4];
	struct store_append msgs[4];
	struct store_mailbox mb;
	static const char *const kw[] = { "$Label1" };
	for (int i = 0; i < 4; i++) {
		char text[64];
		snprintf(text, sizeof(text), "Subject: m%d\r\n\r\nbody %d\r\n", i, i);
		assert_int_equal(store_body_from_buffer(f->store, text, strlen(text), &bodies[i],
							&error), 1);
		msgs[i] = (struct store_append){ bodies[i], i == 1 ? STORE_FLAG_SEEN : 0,
						 i == 2 ? kw : NULL, i == 2 ? 1 : 0, 0, 0, 0 };
	}
	assert_int_equal(append(f, f->inbox, "Subject: first\r\n\r\nx\r\n", 0), 1);
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 0, 4, &error), 1);
	/* four more do not fit a quota of four messages: none is kept */
	assert_int_equal(store_msg_append_many(f->store, f->inbox, msgs, 4, &error), 0);
	assert_non_null(strstr(error, "quota"));
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	assert_int_equal(mb.exists, 1);
	assert_int_equal(mb.uidnext, 2);
	/* three do, with consecutive UIDs, their flags and keywords */
	assert_int_equal(store_msg_append_many(f->store, f->inbox, msgs, 3, &error), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(msgs[i].uid, 2 + i);
	assert_int_equal(store_mailbox_get(f->store, f->inbox, &mb, &error), 1);
	assert_int_equal(mb.exists, 4);
	assert_int_equal(mb.unseen, 3);
	assert_int_equal(mb.uidnext, 5);
	struct store_msg msg;
	assert_int_equal(store_msg_get(f->store, f->inbox, 4, &msg, &error), 1);
	assert_string_equal(msg.subject, "m2");
	assert_int_not_equal(msg.keywords, 0);
	for (int i = 0; i < 4; i++)
		store_body_free(&bodies[i]);
	check_clean(f);
}

static void test_watch(void **state)
{
	struct fixture *f = *state;
	const char *error;
	int fd = store_watch(f->store, f->inbox, &error);
	assert_true(fd >= 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	append(f, f->inbox, "a: b\r\n\r\n", 0);
	assert_int_equal(poll(&p, 1, 1000), 1);
	store_watch_drain(fd);
	assert_int_equal(poll(&p, 1, 0), 0);
	store_watch_close(&fd);
	uint64_t modseq;
	assert_int_equal(store_mailbox_modseq(f->store, f->inbox, &modseq, &error), 1);
	assert_true(modseq > 1);
}

/* Whether notify/<id> (pop3: notify/pop3-<id>.lock) exists. */
static bool notify_file(struct fixture *f, uint32_t id, bool pop3)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/notify/%s%u%s", f->config->store, pop3 ? "pop3-" : "",
		 id, pop3 ? ".lock" : "");
	return access(path, F_OK) == 0;
}

static void make_pop3_lock(struct fixture *f, uint32_t id)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/notify/pop3-%u.lock", f->config->store, id);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	assert_true(fd >= 0);
	close(fd);
}

/* A deleted mailbox's files in notify/ go after the commit, a user's with
 * the user; their watchers (IMAP IDLE) wake, and a late touch or watch
 * leaves nothing behind. */
static void test_gone_mailbox_files(void **state)
{
	struct fixture *f = *state;
	const char *error;
	uint32_t doomed;
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Doomed", 0, &doomed, &error), 1);
	int fd = store_watch(f->store, doomed, &error);
	assert_true(fd >= 0);
	make_pop3_lock(f, doomed);
	assert_true(notify_file(f, doomed, false));
	assert_int_equal(store_mailbox_delete(f->store, f->user_id, "Doomed", &error), 1);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 1000), 1);
	store_watch_close(&fd);
	assert_false(notify_file(f, doomed, false));
	assert_false(notify_file(f, doomed, true));
	/* a delivery's touch, an IDLE's watch after the delete */
	store_notify_mailbox(f->store, doomed);
	fd = store_watch(f->store, doomed, &error);
	store_watch_close(&fd);
	assert_false(notify_file(f, doomed, false));

	/* user del: every mailbox's files, and the IDLE on INBOX wakes */
	uint32_t other;
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Other", 0, &other, &error), 1);
	store_notify_mailbox(f->store, other);
	make_pop3_lock(f, f->inbox);
	fd = store_watch(f->store, f->inbox, &error);
	assert_true(fd >= 0);
	p.fd = fd;
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(store_user_del(f->store, "bob@example.com", &error), 1);
	assert_int_equal(poll(&p, 1, 1000), 1);
	store_watch_close(&fd);
	assert_false(notify_file(f, f->inbox, false));
	assert_false(notify_file(f, f->inbox, true));
	assert_false(notify_file(f, other, false));
	/* a session of the deleted user makes no mailbox without an owner */
	assert_int_equal(store_mailbox_create(f->store, f->user_id, "Late", 0, &other, &error), 0);
	check_clean(f);
}

static void test_backup_restore(void **state)
{
	struct fixture *f = *state;
	const char *error;
	char backup[128], restored[128];
	append(f, f->inbox, "Subject: keep\r\n\r\nkeep me\r\n", 0);
	snprintf(backup, sizeof(backup), "%s/backup", f->dir);
	assert_int_equal(store_backup(f->store, backup, &error), 0);
	/* A backup never goes over an existing one. */
	assert_int_equal(store_backup(f->store, backup, &error), -1);
	struct config *c2 = config_defaults();
	free(c2->store);
	snprintf(restored, sizeof(restored), "%s/restored", f->dir);
	c2->store = strdup(restored);
	if (store_restore(c2, backup, &error) < 0)
		fail_msg("restore: %s", error);
	FILE *out = tmpfile();
	int problems = store_check(c2, out, &error);
	fclose(out);
	assert_int_equal(problems, 0);
	/* The live store stays open in this process: one environment per
	 * process, so look at the copy by closing the live one first. */
	store_close(&f->store);
	struct store *s2;
	assert_int_equal(store_open(c2, false, &s2, &error), 0);
	struct store_user user;
	assert_int_equal(store_user_find(s2, "bob@example.com", &user, &error), 1);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_find(s2, user.id, "INBOX", &mb, &error), 1);
	assert_int_equal(mb.exists, 1);
	store_close(&s2);
	config_free(&c2);
	assert_int_equal(store_open(f->config, false, &f->store, &error), 0);
}

int main(void)
{
	const char *error;
	if (geteuid() == 0 && process_drop_root("pillarbox", &error) < 0) {
		fprintf(stderr, "cannot switch to user pillarbox: %s\n", error);
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailbox_names),
		cmocka_unit_test_setup_teardown(test_default_mailboxes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_create_rename_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_inbox_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_inbox_fill_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_counters_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscription_outlives_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_uids_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_binary_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sent_date_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_and_modseq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_move_expunge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expunged_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expunged_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_and_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_mailbox_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_restore, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
