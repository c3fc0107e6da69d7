/* Unit tests of the vacation auto-reply (store/vacation*.c): who gets a
 * reply (RFC 3834, RFC 5230 4.5-4.6), the reply as built, and the setting
 * and the once-per-interval record in a store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_fixture.h"
#include "vacation.h"

static const char *const own[] = { "bob@example.com", "robert@example.com" };

static enum vacation_verdict decide(const char *sender, const char *header)
{
	return vacation_decide(sender, header, strlen(header), true, own, 2, "+");
}

#define PLAIN "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\nSubject: hi\r\n"

static void test_decide_reply(void **state)
{
	(void)state;
	assert_int_equal(decide("alice@example.org", PLAIN "\r\n"), VACATION_REPLY);
	/* an alias that is an identity, in Cc, in another case */
	assert_int_equal(decide("alice@example.org", "To: team@example.org\r\nCc: ROBERT@Example.COM\r\n\r\n"),
			 VACATION_REPLY);
	/* a subaddress of the user's */
	assert_int_equal(decide("alice@example.org", "To: bob+news@example.com\r\n\r\n"), VACATION_REPLY);
	/* a group and a folded list */
	assert_int_equal(decide("alice@example.org", "To: friends: a@x.org,\r\n bob@example.com;\r\n\r\n"),
			 VACATION_REPLY);
	assert_int_equal(decide("alice@example.org", PLAIN "Auto-Submitted: no\r\n\r\n"), VACATION_REPLY);
	assert_int_equal(decide("alice@example.org", PLAIN "Precedence: first-class\r\n\r\n"),
			 VACATION_REPLY);
}

static void test_decide_no_reply(void **state)
{
	(void)state;
	assert_int_equal(decide("", PLAIN "\r\n"), VACATION_NULL_SENDER);
	assert_int_equal(decide(NULL, PLAIN "\r\n"), VACATION_NULL_SENDER);
	assert_int_equal(decide("MAILER-DAEMON@example.org", PLAIN "\r\n"), VACATION_SYSTEM_SENDER);
	assert_int_equal(decide("postmaster@example.org", PLAIN "\r\n"), VACATION_SYSTEM_SENDER);
	assert_int_equal(decide("owner-list@example.org", PLAIN "\r\n"), VACATION_SYSTEM_SENDER);
	assert_int_equal(decide("list-request@example.org", PLAIN "\r\n"), VACATION_SYSTEM_SENDER);
	assert_int_equal(decide("list-bounces@example.org", PLAIN "\r\n"), VACATION_SYSTEM_SENDER);
	assert_int_equal(decide("noreply@example.org", PLAIN "\r\n"), VACATION_SYSTEM_SENDER);
	assert_int_equal(decide("Bob@Example.com", PLAIN "\r\n"), VACATION_OWN_SENDER);
	assert_int_equal(decide("alice@example.org", PLAIN "Auto-Submitted: auto-replied\r\n\r\n"),
			 VACATION_AUTO_SUBMITTED);
	assert_int_equal(decide("alice@example.org", PLAIN "auto-submitted: Auto-Generated; x=y\r\n\r\n"),
			 VACATION_AUTO_SUBMITTED);
	assert_int_equal(decide("alice@example.org", PLAIN "Precedence: bulk\r\n\r\n"), VACATION_BULK);
	assert_int_equal(decide("alice@example.org", PLAIN "Precedence: List\r\n\r\n"), VACATION_BULK);
	assert_int_equal(decide("alice@example.org", PLAIN "Precedence: junk\r\n\r\n"), VACATION_BULK);
	assert_int_equal(decide("alice@example.org", PLAIN "List-Id: <l.example.org>\r\n\r\n"), VACATION_LIST);
	assert_int_equal(decide("alice@example.org", PLAIN "List-Unsubscribe: <mailto:u@x>\r\n\r\n"),
			 VACATION_LIST);
	assert_int_equal(decide("alice@example.org", PLAIN "X-Auto-Response-Suppress: DR, OOF\r\n\r\n"),
			 VACATION_SUPPRESSED);
	/* Bcc: the user in no To or Cc */
	assert_int_equal(decide("alice@example.org", "To: list@example.org\r\nSubject: x\r\n\r\n"),
			 VACATION_NOT_ADDRESSED);
	assert_int_equal(decide("alice@example.org", "Subject: x\r\n\r\n"), VACATION_NOT_ADDRESSED);
	/* a header field in the body is not one */
	assert_int_equal(decide("alice@example.org", "Subject: x\r\n\r\nTo: bob@example.com\r\n"),
			 VACATION_NOT_ADDRESSED);
	/* another domain's bob, a longer local part */
	assert_int_equal(decide("alice@example.org", "To: bob@example.net, bobby@example.com\r\n\r\n"),
			 VACATION_NOT_ADDRESSED);
	assert_int_equal(vacation_decide("alice@example.org", PLAIN, strlen(PLAIN), false, own, 2, "+"),
			 VACATION_HEADER_TOO_LONG);
}

static void test_reply_build(void **state)
{
	(void)state;
	const char *hdr = PLAIN "Message-ID: <orig@example.org>\r\nReferences: <a@x>\r\n <b@x>\r\n\r\n";
	struct vacation_reply_input in = {
		.from = "bob@example.com", .to = "alice@example.org", .subject = "",
		.orig_subject = "Grüße", .text = "I am away.\nBack on Monday.",
		.header = hdr, .header_len = strlen(hdr), .now = 1700000000,
		.msgid_left = "vacation.0123", .msgid_domain = "example.com",
	};
	char *out;
	size_t len;
	assert_int_equal(vacation_reply_build(&in, &out, &len), 1);
	assert_int_equal(strlen(out), len);
	assert_non_null(strstr(out, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(out, "From: <bob@example.com>\r\n"));
	assert_non_null(strstr(out, "To: <alice@example.org>\r\n"));
	assert_non_null(strstr(out, "Subject: Auto: =?UTF-8?"));
	assert_null(strstr(out, "Grüße"));   /* encoded, no 8-bit header */
	assert_non_null(strstr(out, "Message-ID: <vacation.0123@example.com>\r\n"));
	assert_non_null(strstr(out, "In-Reply-To: <orig@example.org>\r\n"));
	assert_non_null(strstr(out, "References:\r\n <a@x>\r\n <b@x>\r\n <orig@example.org>\r\n"));
	assert_non_null(strstr(out, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(out, "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(out, "Content-Transfer-Encoding: 7bit\r\n\r\nI am away.\r\nBack on Monday.\r\n"));
	for (size_t i = 0; i < len; i++)   /* CRLF only */
		if (out[i] == '\n')
			assert_true(i > 0 && out[i - 1] == '\r');
	free(out);

	/* a subject of its own, UTF-8 text as quoted-printable, no Message-ID */
	const char *bare = "To: bob@example.com\r\n\r\n";
	in.header = bare;
	in.header_len = strlen(bare);
	in.subject = "Out of office";
	in.text = "Zurück am Montag.";
	assert_int_equal(vacation_reply_build(&in, &out, &len), 1);
	assert_non_null(strstr(out, "Subject: Out of office\r\n"));
	assert_null(strstr(out, "In-Reply-To"));
	assert_null(strstr(out, "References"));
	assert_non_null(strstr(out, "Content-Transfer-Encoding: quoted-printable\r\n\r\nZur=C3=BCck am Montag.\r\n"));
	free(out);
}

static uint32_t bob;

static int setup(void **state)
{
	struct store_user u;
	const char *err = "";
	if (store_fixture_setup(state) < 0)
		return -1;
	struct store_fixture *f = *state;
	if (store_domain_add(f->store, "example.com", &err) != 1 ||
	    store_user_add(f->store, "bob@example.com", "pw-bob", NULL, &err) != 1 ||
	    store_user_find(f->store, "bob@example.com", &u, &err) != 1) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	bob = u.id;
	return 0;
}

static void test_store_setting(void **state)
{
	struct store_fixture *f = *state;
	struct store_vacation v, got;
	const char *err;
	assert_int_equal(store_vacation_get(f->store, bob, &got, &err), 1);
	assert_false(got.enabled);
	assert_int_equal(got.days, STORE_VACATION_DAYS_DEFAULT);
	memset(&v, 0, sizeof(v));
	v.enabled = true;
	v.days = 3;
	v.start = 1000;
	v.end = 2000;
	snprintf(v.subject, sizeof(v.subject), "Away");
	snprintf(v.text, sizeof(v.text), "Back soon.\nBye");
	assert_int_equal(store_vacation_set(f->store, bob, &v, &err), 1);
	assert_int_equal(store_vacation_get(f->store, bob, &got, &err), 1);
	assert_true(got.enabled);
	assert_int_equal(got.days, 3);
	assert_int_equal(got.start, 1000);
	assert_int_equal(got.end, 2000);
	assert_string_equal(got.subject, "Away");
	assert_string_equal(got.text, "Back soon.\nBye");
	assert_false(store_vacation_active(&got, 999));
	assert_true(store_vacation_active(&got, 1000));
	assert_false(store_vacation_active(&got, 2000));
	/* refused: end before start, control characters, no text, interval */
	v.end = 500;
	assert_int_equal(store_vacation_set(f->store, bob, &v, &err), 0);
	v.end = 0;
	snprintf(v.subject, sizeof(v.subject), "a\nb");
	assert_int_equal(store_vacation_set(f->store, bob, &v, &err), 0);
	v.subject[0] = '\0';
	snprintf(v.text, sizeof(v.text), " \n");
	assert_int_equal(store_vacation_set(f->store, bob, &v, &err), 0);
	snprintf(v.text, sizeof(v.text), "x");
	v.days = 0;
	assert_int_equal(store_vacation_set(f->store, bob, &v, &err), 0);
	v.days = STORE_VACATION_DAYS_MAX + 1;
	assert_int_equal(store_vacation_set(f->store, bob, &v, &err), 0);
	/* deleting the user deletes the setting */
	assert_int_equal(store_user_del(f->store, "bob@example.com", &err), 1);
	assert_int_equal(store_vacation_get(f->store, bob, &got, &err), 1);
	assert_false(got.enabled);
}

int vacation_sent_claim(struct store *store, uint32_t user_id, const char *sender, int64_t now,
			unsigned days, const char **error_r);

static void test_store_once_per_interval(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	int64_t t = 1700000000;
	assert_int_equal(vacation_sent_claim(f->store, bob, "alice@example.org", t, 7, &err), 1);
	assert_int_equal(vacation_sent_claim(f->store, bob, "Alice@Example.org", t + 3600, 7, &err), 0);
	assert_int_equal(vacation_sent_claim(f->store, bob, "carol@example.org", t + 3600, 7, &err), 1);
	/* a 32-byte key would read as a session id: still works */
	assert_int_equal(vacation_sent_claim(f->store, bob, "abcdefghijklmn@example.org"
					     + 0, t, 7, &err), 1);
	/* the interval over: answered again */
	assert_int_equal(vacation_sent_claim(f->store, bob, "alice@example.org", t + 7 * 86400, 7, &err), 1);
	/* the prune removes what is over, keeps the rest */
	assert_int_equal(store_vacation_prune(f->store, t + 7 * 86400 + 10, &err), 1);
	assert_int_equal(vacation_sent_claim(f->store, bob, "alice@example.org", t + 7 * 86400 + 20, 7, &err), 0);
	/* a new setting forgets whom was answered */
	struct store_vacation v = { .enabled = true, .days = 7 };
	snprintf(v.text, sizeof(v.text), "away");
	assert_int_equal(store_vacation_set(f->store, bob, &v, &err), 1);
	assert_int_equal(vacation_sent_claim(f->store, bob, "alice@example.org", t + 7 * 86400 + 30, 7, &err), 1);
}

/* Forged senders, each new: at most VACATION_REPLIES_PER_HOUR replies an
 * hour, and a sender past the cap is not recorded (answered later). */
static void test_store_hourly_cap(void **state)
{
	struct store_fixture *f = *state;
	const char *err;
	char addr[64];
	int64_t t = 1700000000;
	for (unsigned i = 0; i < VACATION_REPLIES_PER_HOUR; i++) {
		snprintf(addr, sizeof(addr), "forged%u@example.org", i);
		assert_int_equal(vacation_sent_claim(f->store, bob, addr, t + i, 7, &err),
				 VACATION_CLAIM_DUE);
	}
	assert_int_equal(vacation_sent_claim(f->store, bob, "one-more@example.org", t + 100, 7, &err),
			 VACATION_CLAIM_CAPPED);
	/* one already answered is still "answered", not counted */
	assert_int_equal(vacation_sent_claim(f->store, bob, "forged0@example.org", t + 200, 7, &err),
			 VACATION_CLAIM_ANSWERED);
	/* the hour over: the refused sender is answered now */
	assert_int_equal(vacation_sent_claim(f->store, bob, "one-more@example.org", t + 3600, 7, &err),
			 VACATION_CLAIM_DUE);
	/* the count is the user's own: a second user still replies */
	struct store_user u;
	assert_int_equal(store_user_add(f->store, "ann@example.com", "pw-ann", NULL, &err), 1);
	assert_int_equal(store_user_find(f->store, "ann@example.com", &u, &err), 1);
	assert_int_equal(vacation_sent_claim(f->store, u.id, "one-more@example.org", t + 100, 7, &err),
			 VACATION_CLAIM_DUE);
}

int main(void)
{
	int code = store_fixture_become_store_user();
	if (code != 0)
		return code;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_reply),
		cmocka_unit_test(test_decide_no_reply),
		cmocka_unit_test(test_reply_build),
		cmocka_unit_test_setup_teardown(test_store_setting, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_once_per_interval, setup, store_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_store_hourly_cap, setup, store_fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
