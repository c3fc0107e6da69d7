/* Accounts: addresses, domains, users, quota, aliases, store_resolve.
 * Every test runs on a fresh store in a temporary directory, as the store
 * user (a run as root switches to `pillarbox` first, or skips). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "password.h"
#include "process.h"
#include "store.h"
#include "store_fixture.h"
#include "store_int.h" /* address_canonical */

/* A hash imported instead of hashing a password per user: fast. */
static char test_hash[PASSWORD_HASH_MAX];

static void add_domain(struct store *s, const char *d)
{
	const char *err = NULL;
	int r = store_domain_add(s, d, &err);
	if (r != 1)
		fail_msg("domain_add %s: %d %s", d, r, err ? err : "");
}

static uint32_t add_user(struct store *s, const char *address)
{
	const char *err = NULL;
	struct store_user u;
	int r = store_user_add(s, address, NULL, test_hash, &err);
	if (r != 1)
		fail_msg("user_add %s: %d %s", address, r, err ? err : "");
	assert_int_equal(store_user_find(s, address, &u, &err), 1);
	return u.id;
}

static void add_alias(struct store *s, const char *src, const char *dst)
{
	const char *err = NULL;
	int r = store_alias_add(s, src, dst, &err);
	if (r != 1)
		fail_msg("alias_add %s -> %s: %d %s", src, dst, r, err ? err : "");
}

/* Resolves and returns the result; targets in t (up to 128). */
static struct store_rcpt_target t[128];
static size_t nt;
static enum store_resolve_result resolve(struct store *s, const char *address)
{
	const char *err = NULL;
	return store_resolve(s, address, t, STORE_ALIAS_TARGETS_MAX, &nt, &err);
}

static bool has_local(uint32_t id)
{
	for (size_t i = 0; i < nt; i++)
		if (t[i].kind == STORE_RCPT_LOCAL && t[i].user_id == id)
			return true;
	return false;
}

static bool has_remote(const char *address)
{
	for (size_t i = 0; i < nt; i++)
		if (t[i].kind == STORE_RCPT_REMOTE && strcmp(t[i].address, address) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- addresses */

static void test_address_grammar(void **state)
{
	char out[STORE_ADDRESS_MAX + 1], big[400];
	(void)state;

	assert_int_equal(address_canonical("Bob.Smith+Tag@Example.ORG", out, sizeof(out)), 1);
	assert_string_equal(out, "bob.smith+tag@example.org");
	assert_int_equal(address_canonical("J\xc3\xb6rg@B\xc3\xbc" "cher.Example", out, sizeof(out)), 1);
	assert_string_equal(out, "j\xc3\xb6rg@xn--bcher-kva.example"); /* IDNA: test_idn */
	assert_int_equal(address_canonical("a@b", out, sizeof(out)), 1);
	assert_int_equal(address_canonical("!#$%&'*+-/=?^_`{|}~@x.org", out, sizeof(out)), 1);
	assert_int_equal(address_canonical("a@b", out, 3), 0); /* does not fit */

	static const char *const bad[] = {
		"", "bob", "@example.org", "bob@", "bob@@example.org", "a@b@c",
		"\"bob\"@example.org", "\"b@b\"@example.org", "bob smith@example.org", ".bob@x.org",
		"bob.@x.org", "bo..b@x.org", "bob@-x.org", "bob@x-.org", "bob@x..org", "bob@x.org.",
		"bob@.x.org", "bob@[127.0.0.1]", "bob\r@x.org", "bob@x.org\n", "b\tb@x.org",
		"bob@x_y.org", "bo(b)@x.org", "bo,b@x.org", "bo\\b@x.org", "bo\x7f@x.org",
		"\xc3@x.org", "\xc0\xaf@x.org", "\xc2\x85@x.org", "\xed\xa0\x80@x.org",
		"\xf4\x90\x80\x80@x.org", "\xe2\x82@x.org", "bob@\xff.org",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (address_canonical(bad[i], out, sizeof(out)) != 0 || store_address_valid(bad[i]))
			fail_msg("accepted invalid address #%zu", i);
	assert_true(store_address_valid("Bob.Smith+Tag@Example.ORG"));

	/* Limits: local part 64, label 63, domain 253, whole 254 (at, just past). */
	memset(big, 'a', 64);
	strcpy(big + 64, "@x.org");
	assert_int_equal(address_canonical(big, out, sizeof(out)), 1);
	memset(big, 'a', 65);
	strcpy(big + 65, "@x.org");
	assert_int_equal(address_canonical(big, out, sizeof(out)), 0);
	strcpy(big, "a@");
	memset(big + 2, 'b', 63);
	strcpy(big + 65, ".org");
	assert_int_equal(address_canonical(big, out, sizeof(out)), 1);
	strcpy(big, "a@");
	memset(big + 2, 'b', 64);
	strcpy(big + 66, ".org");
	assert_int_equal(address_canonical(big, out, sizeof(out)), 0);
	/* "a@" + 252 = 254 bytes: labels of 62, 62, 62 and 63 and three dots */
	char *p = big;
	*p++ = 'a';
	*p++ = '@';
	for (int i = 0; i < 4; i++) {
		memset(p, 'c', i < 3 ? 62 : 63);
		p += i < 3 ? 62 : 63;
		if (i < 3)
			*p++ = '.';
	}
	*p = '\0';
	assert_int_equal(strlen(big), 254);
	assert_int_equal(address_canonical(big, out, sizeof(out)), 1);
	big[0] = 'a';
	memmove(big + 1, big, 255); /* "aa@...": 255 bytes */
	assert_int_equal(strlen(big), 255);
	assert_int_equal(address_canonical(big, out, sizeof(out)), 0);
}

/* ------------------------------------------------------------------ domains */

struct names {
	char list[400][STORE_ADDRESS_MAX + 1];
	size_t n;
	int stop_at;
};

static int name_cb(const char *name, void *ctx)
{
	struct names *n = ctx;
	if (n->n < 400)
		snprintf(n->list[n->n], sizeof(n->list[0]), "%s", name);
	n->n++;
	return n->stop_at > 0 && (int)n->n == n->stop_at ? 7 : 0;
}

static void test_domains(void **state)
{
	struct store_fixture *f = *state;
	struct names *n = calloc(1, sizeof(*n));
	const char *err = NULL;

	assert_int_equal(store_domain_add(f->store, "Example.ORG", &err), 1);
	assert_int_equal(store_domain_add(f->store, "example.org", &err), 0);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(store_domain_add(f->store, "a.example", &err), 1);
	assert_int_equal(store_domain_add(f->store, "bad domain", &err), 0);
	assert_int_equal(store_domain_add(f->store, "", &err), 0);
	assert_int_equal(store_domain_is_local(f->store, "EXAMPLE.org", &err), 1);
	assert_int_equal(store_domain_is_local(f->store, "example.net", &err), 0);
	assert_int_equal(store_domain_is_local(f->store, "not a domain", &err), 0);

	assert_int_equal(store_domain_list(f->store, name_cb, n, &err), 2);
	assert_string_equal(n->list[0], "a.example");
	assert_string_equal(n->list[1], "example.org");
	n->n = 0;
	n->stop_at = 1;
	assert_int_equal(store_domain_list(f->store, name_cb, n, &err), 7);
	assert_int_equal(n->n, 1);

	assert_int_equal(store_domain_del(f->store, "EXAMPLE.ORG", &err), 1);
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 0);
	assert_int_equal(store_domain_is_local(f->store, "example.org", &err), 0);
	n->n = 0;
	n->stop_at = 0;
	assert_int_equal(store_domain_list(f->store, name_cb, n, &err), 1);

	/* More than one listing batch (256): resumed in order, none twice. */
	for (int i = 0; i < 300; i++) {
		char d[32];
		snprintf(d, sizeof(d), "d%03d.example", i);
		add_domain(f->store, d);
	}
	n->n = 0;
	assert_int_equal(store_domain_list(f->store, name_cb, n, &err), 301);
	for (size_t i = 1; i < n->n; i++)
		assert_true(strcmp(n->list[i - 1], n->list[i]) < 0);
	free(n);
}

static void test_domain_del_refused(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	add_user(f->store, "bob@example.org");
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 0);
	assert_string_equal(err, "domain example.org still has 1 user: delete it first");
	assert_int_equal(store_user_del(f->store, "bob@example.org", &err), 1);
	add_alias(f->store, "sales@example.org", "someone@remote.example");
	add_alias(f->store, "@example.org", "someone@remote.example");
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 0);
	assert_string_equal(err, "domain example.org still has 2 aliases: delete them first");
	assert_int_equal(store_alias_del(f->store, "sales@example.org", NULL, &err), 1);
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 0);
	assert_string_equal(err, "domain example.org still has 1 alias: delete it first");
	assert_int_equal(store_alias_del(f->store, "@example.org", "SOMEONE@remote.example", &err), 1);
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 1);
}

/* -------------------------------------------------------------------- users */

static void test_user_add_find(void **state)
{
	struct store_fixture *f = *state;
	struct store_user u, v;
	const char *err = NULL;
	time_t now = time(NULL);

	add_domain(f->store, "example.org");
	assert_int_equal(store_user_add(f->store, "Bob@Example.ORG", "secret one", NULL, &err), 1);
	assert_int_equal(store_user_find(f->store, "bob@example.org", &u, &err), 1);
	assert_string_equal(u.address, "Bob@example.org");
	assert_int_not_equal(u.id, 0);
	assert_int_equal(u.quota_bytes, 0);
	assert_int_equal(u.quota_messages, 0);
	assert_false(u.disabled);
	assert_true(u.created >= now - 1 && u.created <= now + 5);
	assert_int_equal(store_user_find(f->store, "BOB@EXAMPLE.ORG", &v, &err), 1);
	assert_int_equal(v.id, u.id);
	assert_int_equal(store_user_get(f->store, u.id, &v, &err), 1);
	assert_string_equal(v.address, "Bob@example.org");
	assert_int_equal(store_user_get(f->store, u.id + 100, &v, &err), 0);
	assert_int_equal(store_user_find(f->store, "nobody@example.org", &v, &err), 0);
	assert_int_equal(store_user_find(f->store, "not an address", &v, &err), 0);

	/* A second user gets another id. */
	uint32_t id2 = add_user(f->store, "alice@example.org");
	assert_int_not_equal(id2, u.id);
}

static void test_user_refused(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	char longpw[PASSWORD_MAX + 2];

	add_domain(f->store, "example.org");
	add_user(f->store, "bob@example.org");
	assert_int_equal(store_user_add(f->store, "bob@example.org", NULL, test_hash, &err), 0);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(store_user_add(f->store, "BOB@example.ORG", NULL, test_hash, &err), 0);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(store_user_add(f->store, "bob@example.net", NULL, test_hash, &err), 0);
	assert_string_equal(err, "domain example.net is not a local domain");
	assert_int_equal(store_user_add(f->store, "\"bob\"@example.org", NULL, test_hash, &err), 0);
	assert_int_equal(store_user_add(f->store, "carol@example.org", NULL, NULL, &err), 0);
	assert_int_equal(store_user_add(f->store, "carol@example.org", NULL, "$1$abc$def", &err), 0);
	assert_non_null(strstr(err, "unsupported"));
	assert_int_equal(store_user_add(f->store, "carol@example.org", "", NULL, &err), 0);
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(store_user_add(f->store, "carol@example.org", longpw, NULL, &err), 0);
	longpw[PASSWORD_MAX] = '\0'; /* exactly the limit: fine */
	assert_int_equal(store_user_add(f->store, "carol@example.org", longpw, NULL, &err), 1);
	struct store_user u;
	assert_int_equal(store_user_find(f->store, "carol@example.org", &u, &err), 1);
}

struct mbox_seen {
	char names[16][STORE_MAILBOX_NAME_MAX + 1];
	unsigned special[16];
	bool subscribed[16];
	size_t n;
};

static int mbox_cb(const struct store_mailbox *m, void *ctx)
{
	struct mbox_seen *s = ctx;
	if (s->n < 16) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", m->name);
		s->special[s->n] = m->special_use;
		s->subscribed[s->n] = m->subscribed;
	}
	s->n++;
	return 0;
}

static void test_user_mailboxes(void **state)
{
	struct store_fixture *f = *state;
	struct mbox_seen s = { .n = 0 };
	const char *err = NULL;
	static const struct {
		const char *name;
		unsigned special;
	} want[] = {
		{ "INBOX", STORE_SPECIAL_NONE }, { "Sent", STORE_SPECIAL_SENT },
		{ "Drafts", STORE_SPECIAL_DRAFTS }, { "Trash", STORE_SPECIAL_TRASH },
		{ "Junk", STORE_SPECIAL_JUNK }, { "Archive", STORE_SPECIAL_ARCHIVE },
	};

	add_domain(f->store, "example.org");
	uint32_t id = add_user(f->store, "bob@example.org");
	assert_true(store_mailbox_list(f->store, id, mbox_cb, &s, &err) >= 0);
	assert_int_equal(s.n, 6);
	for (size_t i = 0; i < 6; i++) {
		size_t j;
		for (j = 0; j < s.n; j++)
			if (strcmp(s.names[j], want[i].name) == 0)
				break;
		if (j == s.n)
			fail_msg("mailbox %s missing", want[i].name);
		assert_int_equal(s.special[j], want[i].special);
		assert_true(s.subscribed[j]);
	}
}

struct users_seen {
	char address[400][STORE_ADDRESS_MAX + 1];
	uint32_t id[400];
	size_t n;
};

static int user_cb(const struct store_user *u, void *ctx)
{
	struct users_seen *s = ctx;
	if (s->n < 400) {
		snprintf(s->address[s->n], sizeof(s->address[0]), "%s", u->address);
		s->id[s->n] = u->id;
	}
	s->n++;
	return 0;
}

static void test_user_list(void **state)
{
	struct store_fixture *f = *state;
	struct users_seen *s = calloc(1, sizeof(*s));
	const char *err = NULL;

	add_domain(f->store, "example.org");
	add_domain(f->store, "other.example");
	add_domain(f->store, "empty.example");
	add_user(f->store, "Zed@example.org");
	add_user(f->store, "amy@example.org");
	add_user(f->store, "bob@other.example");
	assert_int_equal(store_user_list(f->store, NULL, user_cb, s, &err), 3);
	assert_string_equal(s->address[0], "amy@example.org");
	assert_string_equal(s->address[1], "bob@other.example");
	assert_string_equal(s->address[2], "Zed@example.org");
	s->n = 0;
	assert_int_equal(store_user_list(f->store, "EXAMPLE.org", user_cb, s, &err), 2);
	assert_string_equal(s->address[0], "amy@example.org");
	assert_string_equal(s->address[1], "Zed@example.org");
	s->n = 0;
	assert_int_equal(store_user_list(f->store, "empty.example", user_cb, s, &err), 0);
	assert_int_equal(store_user_list(f->store, "nowhere.example", user_cb, s, &err), 0);
	/* "example.org" must not match "xexample.org". */
	add_domain(f->store, "xexample.org");
	add_user(f->store, "eve@xexample.org");
	assert_int_equal(store_user_list(f->store, "example.org", user_cb, s, &err), 2);

	/* Past one batch (256). */
	for (int i = 0; i < 300; i++) {
		char a[64];
		snprintf(a, sizeof(a), "u%03d@other.example", i);
		add_user(f->store, a);
	}
	s->n = 0;
	assert_int_equal(store_user_list(f->store, "other.example", user_cb, s, &err), 301);
	for (size_t i = 1; i < s->n; i++)
		assert_true(strcmp(s->address[i - 1], s->address[i]) < 0);
	free(s);
}

static void test_user_update(void **state)
{
	struct store_fixture *f = *state;
	struct store_user u;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	uint32_t id = add_user(f->store, "bob@example.org");
	assert_int_equal(store_user_quota(f->store, "Bob@example.org", 1000000, 50, &err), 1);
	assert_int_equal(store_user_find(f->store, "bob@example.org", &u, &err), 1);
	assert_int_equal(u.quota_bytes, 1000000);
	assert_int_equal(u.quota_messages, 50);
	assert_int_equal(store_user_disable(f->store, "bob@example.org", true, &err), 1);
	assert_int_equal(store_user_get(f->store, id, &u, &err), 1);
	assert_true(u.disabled);
	assert_int_equal(u.quota_bytes, 1000000);
	assert_int_equal(resolve(f->store, "bob@example.org"), STORE_RESOLVE_DISABLED);
	assert_int_equal(store_user_disable(f->store, "bob@example.org", false, &err), 1);
	assert_int_equal(resolve(f->store, "bob@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(store_user_quota(f->store, "nobody@example.org", 1, 1, &err), 0);
	assert_int_equal(store_user_disable(f->store, "nobody@example.org", true, &err), 0);
	assert_int_equal(store_user_passwd(f->store, "nobody@example.org", "pw", &err), 0);
	assert_int_equal(store_user_passwd(f->store, "bob@example.org", "", &err), 0);
}

static int append(struct store *s, uint32_t mailbox_id, size_t size, const char **err)
{
	struct store_body *body;
	char *data = malloc(size);
	uint32_t uid;

	assert_non_null(data);
	memset(data, 'x', size);
	memcpy(data, "Subject: t\r\n\r\n", 14);
	int r = store_body_from_buffer(s, data, size, &body, err);
	free(data);
	if (r != 1)
		fail_msg("store_body_from_buffer: %d %s", r, *err);
	r = store_msg_append(s, mailbox_id, body, 0, NULL, 0, time(NULL), 0, NULL, 0, &uid, err);
	store_body_free(&body);
	return r;
}

static void test_quota(void **state)
{
	struct store_fixture *f = *state;
	struct store_mailbox inbox;
	uint64_t bytes;
	uint32_t messages;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	uint32_t id = add_user(f->store, "bob@example.org");
	assert_int_equal(store_user_usage(f->store, id, &bytes, &messages, &err), 1);
	assert_int_equal(bytes, 0);
	assert_int_equal(messages, 0);
	assert_int_equal(store_user_usage(f->store, id + 1, &bytes, &messages, &err), 0);
	assert_int_equal(store_mailbox_find(f->store, id, "INBOX", &inbox, &err), 1);

	/* Unlimited: anything goes. */
	assert_int_equal(append(f->store, inbox.id, 1000, &err), 1);
	assert_int_equal(store_user_usage(f->store, id, &bytes, &messages, &err), 1);
	assert_int_equal(bytes, 1000);
	assert_int_equal(messages, 1);

	/* 2500 bytes: one more of 1000 fits (2000), the next (3000) does not. */
	assert_int_equal(store_user_quota(f->store, "bob@example.org", 2500, 0, &err), 1);
	assert_int_equal(append(f->store, inbox.id, 1000, &err), 1);
	assert_int_equal(append(f->store, inbox.id, 1000, &err), 0);
	assert_non_null(strstr(err, "quota"));
	assert_int_equal(append(f->store, inbox.id, 500, &err), 1); /* exactly at the limit */
	assert_int_equal(store_user_usage(f->store, id, &bytes, &messages, &err), 1);
	assert_int_equal(bytes, 2500);
	assert_int_equal(messages, 3);

	/* Message count. */
	assert_int_equal(store_user_quota(f->store, "bob@example.org", 0, 4, &err), 1);
	assert_int_equal(append(f->store, inbox.id, 100, &err), 1);
	assert_int_equal(append(f->store, inbox.id, 100, &err), 0);
	assert_non_null(strstr(err, "quota"));
	assert_int_equal(store_user_usage(f->store, id, &bytes, &messages, &err), 1);
	assert_int_equal(messages, 4);

	/* Deleting a user with mail: usage goes with it, no error. */
	assert_int_equal(store_user_del(f->store, "bob@example.org", &err), 1);
	assert_int_equal(store_user_usage(f->store, id, &bytes, &messages, &err), 0);
}

static void test_user_del(void **state)
{
	struct store_fixture *f = *state;
	struct store_user u;
	struct mbox_seen s = { .n = 0 };
	struct store_mailbox inbox;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	uint32_t id = add_user(f->store, "bob@example.org");
	assert_int_equal(store_mailbox_find(f->store, id, "INBOX", &inbox, &err), 1);
	assert_int_equal(append(f->store, inbox.id, 300, &err), 1);
	assert_int_equal(store_user_del(f->store, "BOB@example.org", &err), 1);
	assert_int_equal(store_user_find(f->store, "bob@example.org", &u, &err), 0);
	assert_int_equal(store_user_get(f->store, id, &u, &err), 0);
	store_mailbox_list(f->store, id, mbox_cb, &s, &err);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_user_del(f->store, "bob@example.org", &err), 0);
	assert_int_equal(store_user_del(f->store, "bob@example.net", &err), 0);
	assert_int_equal(resolve(f->store, "bob@example.org"), STORE_RESOLVE_NO_USER);
	/* The address can be used again, by a new user with a new id. */
	uint32_t id2 = add_user(f->store, "bob@example.org");
	assert_int_not_equal(id2, id);
	assert_int_equal(store_user_del(f->store, "bob@example.org", &err), 1);
	assert_int_equal(store_domain_del(f->store, "example.org", &err), 1);
}

/* ------------------------------------------------------------------ aliases */

static void test_alias_basic(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	uint32_t bob = add_user(f->store, "Bob@example.org");
	uint32_t alice = add_user(f->store, "alice@example.org");

	/* single */
	add_alias(f->store, "Sales@Example.org", "bob@example.org");
	assert_int_equal(resolve(f->store, "sales@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(t[0].kind, STORE_RCPT_LOCAL);
	assert_int_equal(t[0].user_id, bob);
	assert_string_equal(t[0].address, "Bob@example.org");
	/* multiple targets; the same target again in another case is a duplicate */
	add_alias(f->store, "team@example.org", "bob@example.org");
	add_alias(f->store, "team@example.org", "alice@example.org");
	assert_int_equal(store_alias_add(f->store, "team@example.org", "BOB@example.ORG", &err), 0);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(resolve(f->store, "TEAM@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 2);
	assert_true(has_local(bob) && has_local(alice));
	/* duplicates removed: team + sales (-> bob) */
	add_alias(f->store, "all@example.org", "team@example.org");
	add_alias(f->store, "all@example.org", "sales@example.org");
	assert_int_equal(resolve(f->store, "all@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 2);
	assert_true(has_local(bob) && has_local(alice));
	/* remote target: local part as given, domain lowercased */
	add_alias(f->store, "fwd@example.org", "Some.One@Remote.EXAMPLE");
	assert_int_equal(resolve(f->store, "fwd@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(t[0].kind, STORE_RCPT_REMOTE);
	assert_string_equal(t[0].address, "Some.One@remote.example");

	/* refusals */
	assert_int_equal(store_alias_add(f->store, "x@example.net", "bob@example.org", &err), 0);
	assert_string_equal(err, "domain example.net is not a local domain");
	assert_int_equal(store_alias_add(f->store, "x@example.org", "@example.org", &err), 0);
	assert_int_equal(store_alias_add(f->store, "x@example.org", "not an address", &err), 0);
	assert_int_equal(store_alias_add(f->store, "x y@example.org", "bob@example.org", &err), 0);
	assert_int_equal(store_alias_add(f->store, "@bad..domain", "bob@example.org", &err), 0);
}

static void test_alias_order(void **state)
{
	struct store_fixture *f = *state;

	add_domain(f->store, "example.org");
	uint32_t bob = add_user(f->store, "bob@example.org");
	uint32_t alice = add_user(f->store, "alice@example.org");
	uint32_t carol = add_user(f->store, "carol@example.org");

	/* catch-all for unknown addresses; a real user wins over it */
	add_alias(f->store, "@example.org", "bob@example.org");
	assert_int_equal(resolve(f->store, "random@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(t[0].user_id, bob);
	assert_int_equal(resolve(f->store, "alice@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(t[0].user_id, alice);
	/* an alias on a user's address expands instead of delivering to the user */
	add_alias(f->store, "alice@example.org", "carol@example.org");
	assert_int_equal(resolve(f->store, "alice@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(t[0].user_id, carol);
	/* ... unless it names the address itself: keep a copy */
	add_alias(f->store, "alice@example.org", "alice@example.org");
	assert_int_equal(resolve(f->store, "alice@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 2);
	assert_true(has_local(alice) && has_local(carol));
	/* chains */
	add_alias(f->store, "a@example.org", "b@example.org");
	add_alias(f->store, "b@example.org", "c@example.org");
	add_alias(f->store, "c@example.org", "carol@example.org");
	add_alias(f->store, "c@example.org", "far@remote.example");
	assert_int_equal(resolve(f->store, "a@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 2);
	assert_true(has_local(carol) && has_remote("far@remote.example"));
	/* a diamond: reached twice, delivered once */
	add_alias(f->store, "d@example.org", "a@example.org");
	add_alias(f->store, "d@example.org", "c@example.org");
	assert_int_equal(resolve(f->store, "d@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 2);
}

static void test_alias_loops(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	add_domain(f->store, "second.example");
	add_user(f->store, "bob@example.org");

	add_alias(f->store, "a@example.org", "b@example.org");
	add_alias(f->store, "b@example.org", "c@second.example");
	assert_int_equal(store_alias_add(f->store, "c@second.example", "A@example.org", &err), 0);
	assert_non_null(strstr(err, "loop"));
	assert_int_equal(store_alias_add(f->store, "b@example.org", "a@example.org", &err), 0);
	/* through a catch-all: x@second.example has no user, so it would come
	 * back to @second.example */
	assert_int_equal(store_alias_add(f->store, "@second.example", "x@second.example", &err), 0);
	assert_non_null(strstr(err, "loop"));
	assert_int_equal(store_alias_add(f->store, "@second.example", "a@example.org", &err), 0);
	add_alias(f->store, "@second.example", "bob@example.org");
	/* the catch-all now catches c@second.example: a -> b -> c -> bob */
	assert_int_equal(resolve(f->store, "a@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	/* no alias was stored by the refusals */
	assert_int_equal(store_alias_del(f->store, "c@second.example", NULL, &err), 0);
}

static void test_alias_limits(void **state)
{
	struct store_fixture *f = *state;
	struct store_rcpt_target few[10];
	size_t n;
	const char *err = NULL;
	char a[64], b[64];

	add_domain(f->store, "example.org");
	add_user(f->store, "bob@example.org");

	/* Depth: c1 -> c2 -> ... -> c11 -> bob is 11 hops from c1 (too deep) but
	 * 10 from c2. */
	for (int i = 2; i <= 11; i++) {
		snprintf(a, sizeof(a), "c%d@example.org", i);
		if (i < 11)
			snprintf(b, sizeof(b), "c%d@example.org", i + 1);
		else
			snprintf(b, sizeof(b), "bob@example.org");
		add_alias(f->store, a, b);
	}
	assert_int_equal(resolve(f->store, "c2@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(store_alias_add(f->store, "c1@example.org", "c2@example.org", &err), 0);
	assert_non_null(strstr(err, "deeper"));
	/* Growing the chain at its far end is not caught at add time, but
	 * resolution refuses (temporarily) and says why. */
	assert_int_equal(store_alias_del(f->store, "c11@example.org", NULL, &err), 1);
	add_alias(f->store, "c11@example.org", "c12@example.org");
	add_alias(f->store, "c12@example.org", "bob@example.org");
	assert_int_equal(store_resolve(f->store, "c2@example.org", t, 100, &nt, &err),
			 STORE_RESOLVE_ERROR);
	assert_non_null(strstr(err, "deeper"));

	/* Targets per source: 100, then refused. */
	for (int i = 0; i < STORE_ALIAS_TARGETS_MAX; i++) {
		snprintf(b, sizeof(b), "t%d@remote.example", i);
		add_alias(f->store, "many@example.org", b);
	}
	assert_int_equal(store_alias_add(f->store, "many@example.org", "one.more@remote.example",
					 &err), 0);
	assert_non_null(strstr(err, "100"));
	assert_int_equal(resolve(f->store, "many@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, STORE_ALIAS_TARGETS_MAX);
	assert_true(has_remote("t0@remote.example") && has_remote("t99@remote.example"));
	/* More targets than the caller's array: an error, not a silent cut. */
	assert_int_equal(store_resolve(f->store, "many@example.org", few, 10, &n, &err),
			 STORE_RESOLVE_ERROR);
}

static void test_alias_dangling_disabled(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	uint32_t bob = add_user(f->store, "bob@example.org");
	add_user(f->store, "dis@example.org");
	assert_int_equal(store_user_disable(f->store, "dis@example.org", true, &err), 1);

	add_alias(f->store, "old@example.org", "gone@example.org");
	assert_int_equal(resolve(f->store, "old@example.org"), STORE_RESOLVE_NO_USER);
	add_alias(f->store, "sales@example.org", "bob@example.org");
	add_alias(f->store, "both@example.org", "bob@example.org");
	add_alias(f->store, "both@example.org", "dis@example.org");
	add_alias(f->store, "only-dis@example.org", "dis@example.org");
	assert_int_equal(resolve(f->store, "both@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(t[0].user_id, bob);
	assert_int_equal(resolve(f->store, "only-dis@example.org"), STORE_RESOLVE_DISABLED);
	/* user deleted: its aliases dangle */
	assert_int_equal(store_user_del(f->store, "bob@example.org", &err), 1);
	assert_int_equal(resolve(f->store, "sales@example.org"), STORE_RESOLVE_NO_USER);
	/* a new bob gets the alias's mail again */
	uint32_t bob2 = add_user(f->store, "bob@example.org");
	assert_int_equal(resolve(f->store, "sales@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(t[0].user_id, bob2);
}

struct pairs_seen {
	char src[400][STORE_ADDRESS_MAX + 1];
	char dst[400][STORE_ADDRESS_MAX + 1];
	size_t n;
};

static int pair_cb(const char *src, const char *dst, void *ctx)
{
	struct pairs_seen *s = ctx;
	if (s->n < 400) {
		snprintf(s->src[s->n], sizeof(s->src[0]), "%s", src);
		snprintf(s->dst[s->n], sizeof(s->dst[0]), "%s", dst);
	}
	s->n++;
	return 0;
}

static void test_alias_del_list(void **state)
{
	struct store_fixture *f = *state;
	struct pairs_seen *s = calloc(1, sizeof(*s));
	const char *err = NULL;
	char b[64];

	add_domain(f->store, "example.org");
	add_alias(f->store, "x@example.org", "one@remote.example");
	add_alias(f->store, "x@example.org", "Two@remote.example");
	add_alias(f->store, "@example.org", "three@remote.example");
	assert_int_equal(store_alias_list(f->store, pair_cb, s, &err), 3);
	assert_string_equal(s->src[0], "@example.org");
	assert_string_equal(s->dst[0], "three@remote.example");
	assert_string_equal(s->src[1], "x@example.org");
	assert_string_equal(s->dst[1], "Two@remote.example");
	assert_string_equal(s->dst[2], "one@remote.example");
	assert_int_equal(store_alias_del(f->store, "X@example.org", "two@REMOTE.example", &err), 1);
	assert_int_equal(store_alias_del(f->store, "x@example.org", "two@remote.example", &err), 0);
	assert_int_equal(store_alias_del(f->store, "nope@example.org", NULL, &err), 0);
	assert_int_equal(resolve(f->store, "x@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_true(has_remote("one@remote.example"));
	assert_int_equal(store_alias_del(f->store, "x@example.org", NULL, &err), 1);
	assert_int_equal(store_alias_del(f->store, "@example.org", NULL, &err), 1);
	s->n = 0;
	assert_int_equal(store_alias_list(f->store, pair_cb, s, &err), 0);

	/* Past one batch, with resumption inside one source's targets. */
	for (int src = 0; src < 3; src++)
		for (int i = 0; i < 100; i++) {
			char a[64];
			snprintf(a, sizeof(a), "s%d@example.org", src);
			snprintf(b, sizeof(b), "t%03d@remote.example", i);
			add_alias(f->store, a, b);
		}
	s->n = 0;
	assert_int_equal(store_alias_list(f->store, pair_cb, s, &err), 300);
	for (size_t i = 1; i < s->n; i++) {
		int c = strcmp(s->src[i - 1], s->src[i]);
		assert_true(c < 0 || (c == 0 && strcmp(s->dst[i - 1], s->dst[i]) < 0));
	}
	free(s);
}

static void test_resolve_cases(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	uint32_t bob = add_user(f->store, "bob@example.org");
	assert_int_equal(resolve(f->store, "bob@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(t[0].kind, STORE_RCPT_LOCAL);
	assert_int_equal(t[0].user_id, bob);
	assert_int_equal(resolve(f->store, "BOB@EXAMPLE.ORG"), STORE_RESOLVE_OK);
	assert_int_equal(resolve(f->store, "someone@remote.example"), STORE_RESOLVE_NOT_LOCAL);
	assert_int_equal(resolve(f->store, "nobody@example.org"), STORE_RESOLVE_NO_USER);
	assert_int_equal(nt, 0);
	assert_int_equal(store_resolve(f->store, "\"bob\"@example.org", t, 10, &nt, &err),
			 STORE_RESOLVE_NO_USER);
	assert_non_null(err);
	assert_int_equal(resolve(f->store, ""), STORE_RESOLVE_NO_USER);
	assert_int_equal(store_user_disable(f->store, "bob@example.org", true, &err), 1);
	assert_int_equal(resolve(f->store, "bob@example.org"), STORE_RESOLVE_DISABLED);
}

/* Replaces a string setting of the store's configuration (the fixture's
 * config is the one the store reads). */
static void config_set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? strdup(value) : NULL;
	if (value != NULL)
		assert_non_null(*field);
}

/* RFC 5233 subaddresses with the default recipient_delimiter "+": the exact
 * address first (user or alias), then the address cut at the first
 * delimiter (user or alias), then the catch-all. */
static void test_subaddress(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	uint32_t bob = add_user(f->store, "bob@example.org");
	uint32_t a = add_user(f->store, "a@example.org");
	uint32_t ab = add_user(f->store, "a+b@example.org");
	uint32_t alice = add_user(f->store, "alice@example.org");
	uint32_t carol = add_user(f->store, "carol@example.org");
	add_alias(f->store, "sales@example.org", "alice@example.org");

	assert_string_equal(f->config->recipient_delimiter, "+");
	assert_int_equal(resolve(f->store, "bob+lists@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_int_equal(t[0].user_id, bob);
	assert_string_equal(t[0].address, "bob@example.org");
	assert_int_equal(resolve(f->store, "BOB+Lists@Example.ORG"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	assert_int_equal(resolve(f->store, "bob+@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	/* a user named with the delimiter matches exactly; others cut at the first */
	assert_int_equal(resolve(f->store, "A+B@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == ab);
	assert_int_equal(resolve(f->store, "a+c@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == a);
	assert_int_equal(resolve(f->store, "a+b+c@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == a);
	assert_int_equal(resolve(f->store, "bob+a+b@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	/* nothing before the delimiter, or a base that is no address */
	assert_int_equal(resolve(f->store, "+bob@example.org"), STORE_RESOLVE_NO_USER);
	assert_int_equal(resolve(f->store, "bob.+x@example.org"), STORE_RESOLVE_NO_USER);
	assert_int_equal(resolve(f->store, "nobody+x@example.org"), STORE_RESOLVE_NO_USER);
	/* the base's alias; an exact alias of the subaddress wins */
	assert_int_equal(resolve(f->store, "sales+q3@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == alice);
	add_alias(f->store, "bob+spam@example.org", "carol@example.org");
	assert_int_equal(resolve(f->store, "bob+spam@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == carol);
	/* an alias's target may be a subaddress */
	add_alias(f->store, "list@example.org", "bob+list@example.org");
	assert_int_equal(resolve(f->store, "list@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	/* bob -> bob+x would come back to bob: a loop */
	assert_int_equal(store_alias_add(f->store, "bob@example.org", "bob+x@example.org", &err), 0);
	assert_non_null(strstr(err, "loop"));
	/* the base before the catch-all; the catch-all for unknown bases */
	add_alias(f->store, "@example.org", "carol@example.org");
	assert_int_equal(resolve(f->store, "bob+x@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	assert_int_equal(resolve(f->store, "nobody+x@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == carol);
	/* another domain's subaddress is that domain's business */
	assert_int_equal(resolve(f->store, "x+y@remote.example"), STORE_RESOLVE_NOT_LOCAL);
	/* a disabled base: disabled, as the address itself would be */
	assert_int_equal(store_user_disable(f->store, "bob@example.org", true, &err), 1);
	assert_int_equal(resolve(f->store, "bob+x@example.org"), STORE_RESOLVE_DISABLED);
	assert_int_equal(store_user_disable(f->store, "bob@example.org", false, &err), 1);

	/* other delimiters; none */
	config_set(&f->config->recipient_delimiter, "-=");
	assert_int_equal(resolve(f->store, "bob-x@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	assert_int_equal(resolve(f->store, "bob=x-y@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	assert_int_equal(resolve(f->store, "bob+x@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == carol); /* the catch-all */
	config_set(&f->config->recipient_delimiter, NULL);
	assert_int_equal(resolve(f->store, "bob-x@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == carol);
	assert_int_equal(store_alias_del(f->store, "@example.org", NULL, &err), 1);
	assert_int_equal(resolve(f->store, "bob+x@example.org"), STORE_RESOLVE_NO_USER);
}

/* postmaster@ (RFC 5321 4.5.1) and abuse@ (RFC 2142) of every local domain:
 * the domain's own alias, user or catch-all, else the configured
 * postmaster, else nobody. */
static void test_postmaster(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;

	add_domain(f->store, "example.org");
	add_domain(f->store, "provider.example");
	add_domain(f->store, "catch.example");
	add_domain(f->store, "empty.example");
	uint32_t admin = add_user(f->store, "admin@provider.example");
	uint32_t bob = add_user(f->store, "bob@example.org");
	add_alias(f->store, "@catch.example", "bob@example.org");
	config_set(&f->config->hostname, "mail.example.org");

	/* unset: refused as any unknown address */
	assert_null(f->config->postmaster);
	assert_int_equal(resolve(f->store, "postmaster@example.org"), STORE_RESOLVE_NO_USER);
	assert_int_equal(resolve(f->store, "abuse@example.org"), STORE_RESOLVE_NO_USER);
	assert_int_equal(resolve(f->store, "Postmaster"), STORE_RESOLVE_NO_USER);

	config_set(&f->config->postmaster, "admin@provider.example");
	static const char *const to_admin[] = {
		"postmaster@example.org", "PostMaster@Example.ORG", "abuse@example.org",
		"postmaster+x@example.org", "postmaster@empty.example", "postmaster@provider.example",
		"Postmaster", "POSTMASTER",
	};
	for (size_t i = 0; i < sizeof(to_admin) / sizeof(to_admin[0]); i++) {
		if (resolve(f->store, to_admin[i]) != STORE_RESOLVE_OK || nt != 1 ||
		    t[0].user_id != admin)
			fail_msg("%s does not reach the configured postmaster", to_admin[i]);
	}
	assert_int_equal(resolve(f->store, "webmaster@example.org"), STORE_RESOLVE_NO_USER);
	assert_int_equal(resolve(f->store, "postmaster@remote.example"), STORE_RESOLVE_NOT_LOCAL);
	/* the domain's own catch-all, alias or user wins */
	assert_int_equal(resolve(f->store, "postmaster@catch.example"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	add_alias(f->store, "postmaster@example.org", "bob@example.org");
	assert_int_equal(resolve(f->store, "postmaster@example.org"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	assert_int_equal(resolve(f->store, "Postmaster"), STORE_RESOLVE_OK); /* mail.example.org */
	assert_true(nt == 1 && t[0].user_id == bob);
	uint32_t pm = add_user(f->store, "postmaster@empty.example");
	assert_int_equal(resolve(f->store, "postmaster@empty.example"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == pm);
	/* bare Postmaster without a local host domain: the configured address;
	 * a host name may end in a dot */
	config_set(&f->config->hostname, "mail.example.org.");
	assert_int_equal(resolve(f->store, "Postmaster"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == bob);
	config_set(&f->config->hostname, "mx.elsewhere.example");
	assert_int_equal(resolve(f->store, "postmaster"), STORE_RESOLVE_OK);
	assert_true(nt == 1 && t[0].user_id == admin);
	/* a remote postmaster address */
	config_set(&f->config->postmaster, "Hostmaster@Remote.example");
	assert_int_equal(resolve(f->store, "abuse@example.org"), STORE_RESOLVE_OK);
	assert_int_equal(nt, 1);
	assert_true(has_remote("Hostmaster@remote.example"));
	/* one that leads back to itself reaches nobody, and ends */
	config_set(&f->config->postmaster, "postmaster@provider.example");
	assert_int_equal(resolve(f->store, "abuse@example.org"), STORE_RESOLVE_NO_USER);
	/* an alias that would make a loop through it is refused */
	config_set(&f->config->postmaster, "admin@provider.example");
	assert_int_equal(store_alias_add(f->store, "admin@provider.example",
					 "abuse@provider.example", &err), 0);
	assert_non_null(strstr(err, "loop"));
}

int main(void)
{
	const char *err;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_grammar),
		STORE_TEST(test_domains),
		STORE_TEST(test_domain_del_refused),
		STORE_TEST(test_user_add_find),
		STORE_TEST(test_user_refused),
		STORE_TEST(test_user_mailboxes),
		STORE_TEST(test_user_list),
		STORE_TEST(test_user_update),
		STORE_TEST(test_quota),
		STORE_TEST(test_user_del),
		STORE_TEST(test_alias_basic),
		STORE_TEST(test_alias_order),
		STORE_TEST(test_alias_loops),
		STORE_TEST(test_alias_limits),
		STORE_TEST(test_alias_dangling_disabled),
		STORE_TEST(test_alias_del_list),
		STORE_TEST(test_resolve_cases),
		STORE_TEST(test_subaddress),
		STORE_TEST(test_postmaster),
	};

	int user = store_fixture_become_store_user();
	if (user != 0)
		return user;
	if (password_hash("test password", 0, test_hash, &err) < 0) {
		fprintf(stderr, "password_hash: %s\n", err);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
