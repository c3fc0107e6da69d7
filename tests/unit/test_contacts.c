/* Unit tests of the address book (store/contacts.c): add, edit, delete,
 * lookup by address in any case, the per-user range, limits, collected
 * recipients, merging imports by address, and living beside the sessions
 * in one database without the session expiry touching it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contacts.h"
#include "process.h"
#include "session.h"
#include "identity.h"
#include "store.h"
#include "store_fixture.h"

static struct store_contact *contact(const char *name, const char *note, int n, ...)
{
	static struct store_contact c;
	va_list ap;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.note, sizeof(c.note), "%s", note);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		snprintf(c.addrs[i], sizeof(c.addrs[i]), "%s", va_arg(ap, const char *));
	va_end(ap);
	c.naddrs = (uint32_t)n;
	return &c;
}

struct names {
	char list[64][STORE_CONTACT_NAME_MAX + 1];
	uint32_t flags[64];
	int n;
};

static int names_cb(const struct store_contact *c, void *ctx)
{
	struct names *n = ctx;
	if (n->n < 64) {
		snprintf(n->list[n->n], sizeof(n->list[0]), "%s", c->name);
		n->flags[n->n] = c->flags;
		n->n++;
	}
	return 0;
}

static void test_add_get_find(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	uint32_t id, id2;
	struct store_contact got;
	assert_int_equal(store_contact_add(f->store, 7, contact("  Alice Example ", "met at\r\nFOSDEM\n",
				2, "Alice@Example.COM", "alice@work.example"), &id, &err), 1);
	assert_true(id > 0);
	assert_int_equal(store_contact_get(f->store, 7, id, &got, &err), 1);
	assert_string_equal(got.name, "Alice Example");
	assert_string_equal(got.note, "met at\nFOSDEM");
	assert_int_equal(got.naddrs, 2);
	/* the local part is kept as written, the domain lowercased */
	assert_string_equal(got.addrs[0], "Alice@example.com");
	assert_int_equal(got.flags, 0);
	/* lookups ignore case */
	assert_int_equal(store_contact_find(f->store, 7, "ALICE@example.com", &got, &err), 1);
	assert_int_equal(got.id, id);
	assert_int_equal(store_contact_find(f->store, 7, "alice@WORK.example", NULL, &err), 1);
	assert_int_equal(store_contact_find(f->store, 7, "bob@example.com", NULL, &err), 0);
	assert_int_equal(store_contact_find(f->store, 7, "not an address", NULL, &err), 0);
	assert_int_equal(store_contact_find(f->store, 7, "", NULL, &err), 0);
	/* another user sees nothing */
	assert_int_equal(store_contact_find(f->store, 8, "alice@example.com", NULL, &err), 0);
	assert_int_equal(store_contact_get(f->store, 8, id, &got, &err), 0);
	assert_int_equal(store_contact_list(f->store, 8, names_cb, &(struct names){ 0 }, &err), 0);
	/* an address belongs to one contact only */
	assert_int_equal(store_contact_add(f->store, 7, contact("Other", "", 1, "ALICE@example.com"),
					   &id2, &err), 0);
	assert_non_null(strstr(err, "already in the address book (Alice Example)"));
	/* ...but the same address in another user's book is fine */
	assert_int_equal(store_contact_add(f->store, 8, contact("Alice", "", 1, "alice@example.com"),
					   &id2, &err), 1);
	assert_int_equal(store_contacts_count(f->store, 7, &err), 1);
	assert_int_equal(store_contacts_count(f->store, 8, &err), 1);
}

static void test_invalid(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	uint32_t id;
	static const char *const bad[] = {
		"no-at-sign", "a@", "@b", "a@@b", "a b@c", "a@b c", "<a@b>", "a@b,c@d", "a..b@c",
		"a@-b.c", "\x01@b", "a@b\tc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store_contact_add(f->store, 7, contact("X", "", 1, bad[i]), &id, &err), 0);
		assert_non_null(strstr(err, "not valid"));
	}
	char longaddr[400];
	memset(longaddr, 'a', 300);
	strcpy(longaddr + 300, "@b.c");
	assert_int_equal(store_contact_add(f->store, 7, contact("X", "", 1, longaddr), &id, &err), 0);
	assert_int_equal(store_contact_add(f->store, 7, contact("X", "", 0), &id, &err), 0);
	assert_non_null(strstr(err, "at least one"));
	assert_int_equal(store_contact_add(f->store, 7, contact("X", "", 2, " ", ""), &id, &err), 0);
	assert_int_equal(store_contact_add(f->store, 7, contact("Bad\x01name", "", 1, "x@y.z"), &id,
					   &err), 0);
	assert_non_null(strstr(err, "control"));
	assert_int_equal(store_contact_add(f->store, 7, contact("\xff\xfe", "", 1, "x@y.z"), &id,
					   &err), 0);
	assert_int_equal(store_contact_add(f->store, 7, contact("X", "bell\a", 1, "x@y.z"), &id,
					   &err), 0);
	/* a count past the limit */
	struct store_contact *c = contact("Many", "", 0);
	for (int i = 0; i < STORE_CONTACT_ADDRS_MAX; i++)
		snprintf(c->addrs[i], sizeof(c->addrs[i]), "m%d@example.com", i);
	c->naddrs = STORE_CONTACT_ADDRS_MAX + 1;
	assert_int_equal(store_contact_add(f->store, 7, c, &id, &err), 0);
	assert_non_null(strstr(err, "at most 20"));
	c->naddrs = STORE_CONTACT_ADDRS_MAX;
	assert_int_equal(store_contact_add(f->store, 7, c, &id, &err), 1);
	/* duplicates inside one contact collapse */
	assert_int_equal(store_contact_add(f->store, 7, contact("Dup", "", 3, "d@x.org", "D@X.ORG",
								 "d@x.org"), &id, &err), 1);
	struct store_contact got;
	assert_int_equal(store_contact_get(f->store, 7, id, &got, &err), 1);
	assert_int_equal(got.naddrs, 1);
	/* UTF-8 names and addresses (SMTPUTF8) are fine */
	assert_int_equal(store_contact_add(f->store, 7, contact("Jürgen Weiß", "", 1,
								 "jürgen@münchen.example"), &id, &err), 1);
	assert_int_equal(store_contact_find(f->store, 7, "jürgen@münchen.example", NULL, &err), 1);
	/* either form of the IDN finds it; it keeps the form people read */
	assert_int_equal(store_contact_find(f->store, 7, "jürgen@XN--MNCHEN-3YA.example", NULL, &err), 1);
	assert_int_equal(store_contact_get(f->store, 7, id, &got, &err), 1);
	assert_string_equal(got.addrs[0], "jürgen@münchen.example");
	assert_int_equal(store_contacts_count(f->store, 7, &err), 3);
}

static void test_update_delete(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	uint32_t a, b;
	struct store_contact got;
	assert_int_equal(store_contact_add(f->store, 7, contact("A", "", 2, "a1@x.org", "a2@x.org"),
					   &a, &err), 1);
	assert_int_equal(store_contact_add(f->store, 7, contact("B", "", 1, "b@x.org"), &b, &err), 1);
	/* drop a1, keep a2 with another case, add a3 */
	struct store_contact *c = contact("A renamed", "note", 2, "A2@x.org", "a3@x.org");
	c->id = a;
	assert_int_equal(store_contact_update(f->store, 7, c, &err), 1);
	assert_int_equal(store_contact_find(f->store, 7, "a1@x.org", NULL, &err), 0);
	assert_int_equal(store_contact_find(f->store, 7, "a2@x.org", &got, &err), 1);
	assert_string_equal(got.name, "A renamed");
	assert_string_equal(got.addrs[0], "A2@x.org");
	assert_int_equal(store_contact_find(f->store, 7, "a3@x.org", &got, &err), 1);
	assert_int_equal(got.id, a);
	/* taking B's address is refused, nothing changes */
	c = contact("A", "", 2, "a2@x.org", "b@x.org");
	c->id = a;
	assert_int_equal(store_contact_update(f->store, 7, c, &err), 0);
	assert_non_null(strstr(err, "b@x.org is already"));
	assert_int_equal(store_contact_find(f->store, 7, "b@x.org", &got, &err), 1);
	assert_int_equal(got.id, b);
	assert_int_equal(store_contact_find(f->store, 7, "a3@x.org", NULL, &err), 1);
	/* updating what is not there, or another user's */
	c = contact("Z", "", 1, "z@x.org");
	c->id = 999;
	assert_int_equal(store_contact_update(f->store, 7, c, &err), 0);
	c->id = a;
	assert_int_equal(store_contact_update(f->store, 9, c, &err), 0);
	assert_int_equal(store_contact_find(f->store, 9, "z@x.org", NULL, &err), 0);
	/* delete */
	assert_int_equal(store_contact_delete(f->store, 7, a, &err), 1);
	assert_int_equal(store_contact_delete(f->store, 7, a, &err), 0);
	assert_int_equal(store_contact_delete(f->store, 9, b, &err), 0);
	assert_int_equal(store_contact_find(f->store, 7, "a2@x.org", NULL, &err), 0);
	assert_int_equal(store_contact_find(f->store, 7, "a3@x.org", NULL, &err), 0);
	assert_int_equal(store_contacts_count(f->store, 7, &err), 1);
	/* the freed address can be used again; ids are not reused */
	uint32_t a2;
	assert_int_equal(store_contact_add(f->store, 7, contact("A again", "", 1, "a2@x.org"), &a2,
					   &err), 1);
	assert_true(a2 > b);
	assert_int_equal(store_contacts_delete_all(f->store, 7, &err), 2);
	assert_int_equal(store_contacts_count(f->store, 7, &err), 0);
	assert_int_equal(store_contact_find(f->store, 7, "b@x.org", NULL, &err), 0);
}

static void test_collect(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	uint32_t id;
	struct store_contact got;
	struct names n = { 0 };
	assert_int_equal(store_contact_add(f->store, 7, contact("Carol", "", 1, "carol@x.org"), &id,
					   &err), 1);
	const char *addrs[] = { "CAROL@x.org", "dave@x.org", "not valid", NULL, "erin@x.org",
				"dave@X.org", "frank@x.org" };
	const char *names[] = { "Someone Else", "\"Dave D\"", "x", "y", NULL, "Dave 2",
				"bad\xff" };
	assert_int_equal(store_contacts_collect(f->store, 7, addrs, names, 7, &err), 1);
	assert_int_equal(store_contacts_count(f->store, 7, &err), 4);
	/* the one in the book is left alone */
	assert_int_equal(store_contact_find(f->store, 7, "carol@x.org", &got, &err), 1);
	assert_string_equal(got.name, "Carol");
	assert_int_equal(got.flags, 0);
	assert_int_equal(store_contact_find(f->store, 7, "dave@x.org", &got, &err), 1);
	assert_string_equal(got.name, "Dave D");
	assert_int_equal(got.flags, STORE_CONTACT_COLLECTED);
	assert_int_equal(store_contact_find(f->store, 7, "erin@x.org", &got, &err), 1);
	assert_string_equal(got.name, "");
	assert_int_equal(store_contact_find(f->store, 7, "frank@x.org", &got, &err), 1);
	assert_string_equal(got.name, "");       /* invalid UTF-8 name dropped */
	/* names may be NULL altogether; collecting again changes nothing */
	assert_int_equal(store_contacts_collect(f->store, 7, addrs, NULL, 7, &err), 1);
	assert_int_equal(store_contacts_count(f->store, 7, &err), 4);
	assert_int_equal(store_contact_list(f->store, 7, names_cb, &n, &err), 4);
	assert_int_equal(n.flags[0], 0);
	assert_int_equal(n.flags[1], STORE_CONTACT_COLLECTED);
}

static void test_merge(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	uint32_t id;
	struct store_contact got;
	const char *dave[] = { "dave@x.org" };
	assert_int_equal(store_contact_add(f->store, 7, contact("Gina", "", 1, "gina@x.org"), &id,
					   &err), 1);
	assert_int_equal(store_contacts_collect(f->store, 7, dave, NULL, 1, &err), 1);
	struct store_contact in[4];
	in[0] = *contact("Gina G", "from the import", 2, "GINA@x.org", "gina@home.example");
	in[1] = *contact("Dave", "", 1, "dave@x.org");
	in[2] = *contact("Hank", "", 1, "hank@x.org");
	in[3] = *contact("Broken", "", 1, "broken");
	enum store_merge_result res[4];
	const char *msg[4];
	assert_int_equal(store_contacts_merge(f->store, 7, in, 4, res, msg, &err), 1);
	assert_int_equal(res[0], STORE_MERGE_UPDATED);
	assert_int_equal(res[1], STORE_MERGE_UPDATED);
	assert_int_equal(res[2], STORE_MERGE_ADDED);
	assert_int_equal(res[3], STORE_MERGE_REFUSED);
	assert_non_null(msg[3]);
	assert_int_equal(store_contact_find(f->store, 7, "gina@home.example", &got, &err), 1);
	assert_int_equal(got.id, id);
	assert_string_equal(got.name, "Gina");            /* a name is kept */
	assert_string_equal(got.note, "from the import"); /* an empty note filled */
	assert_int_equal(store_contact_find(f->store, 7, "dave@x.org", &got, &err), 1);
	assert_int_equal(got.flags, 0);                   /* collected -> personal */
	assert_string_equal(got.name, "Dave");
	/* the same import again changes nothing */
	assert_int_equal(store_contacts_merge(f->store, 7, in, 4, res, NULL, &err), 1);
	assert_int_equal(res[0], STORE_MERGE_UNCHANGED);
	assert_int_equal(res[1], STORE_MERGE_UNCHANGED);
	assert_int_equal(res[2], STORE_MERGE_UNCHANGED);
	assert_int_equal(store_contacts_count(f->store, 7, &err), 3);
	/* two contacts of one batch sharing an address end up as one */
	in[0] = *contact("Ivy", "", 1, "ivy@x.org");
	in[1] = *contact("Ivy 2", "", 2, "ivy2@x.org", "IVY@x.org");
	assert_int_equal(store_contacts_merge(f->store, 7, in, 2, res, NULL, &err), 1);
	assert_int_equal(res[0], STORE_MERGE_ADDED);
	assert_int_equal(res[1], STORE_MERGE_UPDATED);
	assert_int_equal(store_contact_find(f->store, 7, "ivy2@x.org", &got, &err), 1);
	assert_string_equal(got.name, "Ivy");
	assert_int_equal(got.naddrs, 2);
	/* batches are bounded */
	assert_int_equal(store_contacts_merge(f->store, 7, in, STORE_CONTACTS_BATCH_MAX + 1, res,
					      NULL, &err), -1);
}

static void test_limit(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	uint32_t id;
	struct store_contact *batch = calloc(STORE_CONTACTS_BATCH_MAX, sizeof(*batch));
	enum store_merge_result res[STORE_CONTACTS_BATCH_MAX];
	assert_non_null(batch);
	for (int b = 0; b < STORE_CONTACTS_MAX / STORE_CONTACTS_BATCH_MAX; b++) {
		for (int i = 0; i < STORE_CONTACTS_BATCH_MAX; i++) {
			memset(&batch[i], 0, sizeof(batch[i]));
			snprintf(batch[i].name, sizeof(batch[i].name), "Person %05d",
				 b * STORE_CONTACTS_BATCH_MAX + i);
			snprintf(batch[i].addrs[0], sizeof(batch[i].addrs[0]), "p%05d@x.org",
				 b * STORE_CONTACTS_BATCH_MAX + i);
			batch[i].naddrs = 1;
		}
		assert_int_equal(store_contacts_merge(f->store, 7, batch, STORE_CONTACTS_BATCH_MAX, res,
						      NULL, &err), 1);
		assert_int_equal(res[STORE_CONTACTS_BATCH_MAX - 1], STORE_MERGE_ADDED);
	}
	assert_int_equal(store_contacts_count(f->store, 7, &err), STORE_CONTACTS_MAX);
	assert_int_equal(store_contact_list(f->store, 7, NULL, NULL, &err), STORE_CONTACTS_MAX);
	assert_int_equal(store_contact_add(f->store, 7, contact("One more", "", 1, "more@x.org"), &id,
					   &err), 0);
	assert_non_null(strstr(err, "full"));
	batch[0] = *contact("One more", "", 1, "more@x.org");
	assert_int_equal(store_contacts_merge(f->store, 7, batch, 1, res, NULL, &err), 1);
	assert_int_equal(res[0], STORE_MERGE_REFUSED);
	const char *more[] = { "more@x.org" };
	assert_int_equal(store_contacts_collect(f->store, 7, more, NULL, 1, &err), 1);
	assert_int_equal(store_contact_find(f->store, 7, "more@x.org", NULL, &err), 0);
	/* a merge into an existing contact still works when full */
	batch[0] = *contact("", "", 2, "p00042@x.org", "p42@home.example");
	assert_int_equal(store_contacts_merge(f->store, 7, batch, 1, res, NULL, &err), 1);
	assert_int_equal(res[0], STORE_MERGE_UPDATED);
	assert_int_equal(store_contacts_count(f->store, 7, &err), STORE_CONTACTS_MAX);
	/* the other user is not affected */
	assert_int_equal(store_contact_add(f->store, 8, contact("X", "", 1, "more@x.org"), &id, &err), 1);
	free(batch);
}

/* Session ids are 32-byte keys in the same database; the expiry deletes
 * any 32-byte key it cannot read as a session. An address whose key would
 * be 32 bytes (22 characters) must survive it. */
static void test_beside_sessions(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	uint32_t id;
	const char *addr22 = "abcdefghij@klmnop.qrst";
	assert_int_equal(strlen(addr22), 22);
	struct store_session s;
	/* random 32-byte session keys right after an empty book's range (all
	 * twenty sorting before "book.c" has a chance of 1e-8) */
	for (int i = 0; i < 20; i++)
		assert_int_equal(store_session_create(f->store, 7, 1000, &s, &err), 1);
	assert_int_equal(store_contact_list(f->store, 7, NULL, NULL, &err), 0);
	assert_int_equal(store_contacts_delete_all(f->store, 7, &err), 0);
	assert_int_equal(store_contacts_count(f->store, 7, &err), 0);
	for (int len = 3; len < 40; len++) {
		char a[64];
		snprintf(a, sizeof(a), "%.*s@x.org", len - 6 > 0 ? len - 6 : 1, "abcdefghijklmnopqrstuvwxyzabcdefghij");
		store_contact_add(f->store, 7, contact("", "", 1, a), &id, &err);
	}
	assert_int_equal(store_contact_add(f->store, 7, contact("", "", 1, addr22), &id, &err), 1);
	int before = store_contacts_count(f->store, 7, &err);
	assert_int_equal(store_session_expire(f->store, 1000000, 1800, 43200, &err), 20);
	assert_int_equal(store_contacts_count(f->store, 7, &err), before);
	assert_int_equal(store_contact_find(f->store, 7, addr22, NULL, &err), 1);
	assert_int_equal(store_contact_list(f->store, 7, NULL, NULL, &err), before);
	/* and the settings record is untouched by the book */
	struct store_prefs p = { .page_size = 20, .prefer_html = false };
	assert_int_equal(store_prefs_set(f->store, 7, &p, &err), 1);
	assert_int_equal(store_contacts_delete_all(f->store, 7, &err), before);
	assert_int_equal(store_prefs_get(f->store, 7, &p, &err), 1);
	assert_int_equal(p.page_size, 20);
}

/* Deleting a user takes their webmail data with them, in the same
 * transaction: contacts, sessions, settings, identity records; another
 * user's stay. */
static void test_user_delete(void **state)
{
	struct store_fixture *f = *state;
	const char *err = NULL;
	struct store_user bob, carol;
	struct store_session s1, s2, got;
	struct store_prefs prefs = { .page_size = 20, .tz_minutes = 60 };
	struct store_identity ident = { .address = "bob@example.com", .name = "Bob" };
	int64_t now = 1700000000;

	assert_int_equal(store_domain_add(f->store, "example.com", &err), 1);
	assert_int_equal(store_user_add(f->store, "bob@example.com", "pw-bob-1", NULL, &err), 1);
	assert_int_equal(store_user_add(f->store, "carol@example.com", "pw-carol", NULL, &err), 1);
	assert_int_equal(store_user_find(f->store, "bob@example.com", &bob, &err), 1);
	assert_int_equal(store_user_find(f->store, "carol@example.com", &carol, &err), 1);
	for (uint32_t id = bob.id; ; id = carol.id) {
		assert_int_equal(store_contact_add(f->store, id, contact("Zoe", "", 1, "zoe@example.net"),
						   NULL, &err), 1);
		assert_int_equal(store_prefs_set(f->store, id, &prefs, &err), 1);
		if (id == carol.id)
			break;
	}
	assert_int_equal(store_identity_set(f->store, bob.id, &ident, &err), 1);
	assert_int_equal(store_session_create(f->store, bob.id, now, &s1, &err), 1);
	assert_int_equal(store_session_create(f->store, carol.id, now, &s2, &err), 1);

	assert_int_equal(store_user_del(f->store, "bob@example.com", &err), 1);
	assert_int_equal(store_contacts_count(f->store, bob.id, &err), 0);
	assert_int_equal(store_contact_find(f->store, bob.id, "zoe@example.net", NULL, &err), 0);
	assert_int_equal(store_session_get(f->store, s1.id, now, 1800, 43200, &got, &err), 0);
	assert_int_equal(store_prefs_get(f->store, bob.id, &prefs, &err), 1);
	assert_int_equal(prefs.page_size, 50);   /* the defaults again */
	/* A new user with Bob's address starts with nothing of his. */
	assert_int_equal(store_user_add(f->store, "bob@example.com", "pw-bob-2", NULL, &err), 1);
	assert_int_equal(store_user_find(f->store, "bob@example.com", &bob, &err), 1);
	struct store_identity *list = NULL;
	size_t n = 0;
	assert_int_equal(store_identities_get(f->store, bob.id, &list, &n, &err), 1);
	assert_true(n >= 1);
	assert_string_equal(list[0].name, "");
	free(list);

	assert_int_equal(store_contacts_count(f->store, carol.id, &err), 1);
	assert_int_equal(store_session_get(f->store, s2.id, now, 1800, 43200, &got, &err), 1);
	assert_int_equal(store_prefs_get(f->store, carol.id, &prefs, &err), 1);
	assert_int_equal(prefs.page_size, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		STORE_TEST(test_add_get_find),
		STORE_TEST(test_invalid),
		STORE_TEST(test_update_delete),
		STORE_TEST(test_collect),
		STORE_TEST(test_merge),
		STORE_TEST(test_limit),
		STORE_TEST(test_beside_sessions),
		STORE_TEST(test_user_delete),
	};
	int user = store_fixture_become_store_user();
	if (user != 0)
		return user;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
