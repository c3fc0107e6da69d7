/* Unit tests of Sieve (store/sieve*.c): every command, test and extension,
 * RFC 5228's examples, the implicit keep, duplicates, flags, matching edge
 * cases, hostile header blocks, each compile error and each limit at and
 * one past; body (RFC 5173) on MIME messages; date and currentdate (RFC
 * 5260) in a fixed local zone and at a fixed clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sieve.h"

#define HDR "From: Alice Example <alice@example.org>\r\n" \
	"To: Bob <bob+lists@example.com>, carol@other.net\r\n" \
	"Cc: undisclosed:;\r\n" \
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from\r\n  the  list \r\n" \
	"X-Spam-Score: 7\r\n" \
	"X-Spam-Score: 12\r\n" \
	"Received: by a\r\nReceived: by b\r\nReceived: by c\r\n" \
	"\r\n"

static const char *const existing[] = { "INBOX", "Junk", "lists", NULL };

static bool mbox_exists(void *ctx, const char *name)
{
	(void)ctx;
	for (int i = 0; existing[i] != NULL; i++)
		if (strcmp(existing[i], name) == 0)
			return true;
	return false;
}

static struct sieve_message msg_with(const char *header)
{
	return (struct sieve_message){
		.header = header, .header_len = strlen(header), .size = 2000,
		.envelope_from = "alice+x@example.org", .envelope_to = "bob+lists@example.com",
		.subaddress_separators = "+", .mailbox_exists = mbox_exists,
	};
}

/* The result in one line: "mailbox{flags}" per copy, "->addr" per
 * redirect, "reject:reason" (or ereject), "FAILED " in front of a failed
 * run. */
static char *describe(const struct sieve_result *r, char *out, size_t size)
{
	static const char *const sys[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };
	size_t n = 0;
	out[0] = '\0';
	if (r->failed)
		n += (size_t)snprintf(out + n, size - n, "FAILED ");
	for (size_t i = 0; i < r->ncopies; i++) {
		const struct sieve_copy *c = &r->copies[i];
		n += (size_t)snprintf(out + n, size - n, "%s%s%s", i > 0 ? " " : "", c->mailbox,
				      c->create ? "+create" : "");
		if (c->flags != 0 || c->nkeywords > 0) {
			const char *sep = "{";
			for (int k = 0; k < 5; k++)
				if (c->flags & (1u << k)) {
					n += (size_t)snprintf(out + n, size - n, "%s%s", sep, sys[k]);
					sep = " ";
				}
			for (size_t k = 0; k < c->nkeywords; k++) {
				n += (size_t)snprintf(out + n, size - n, "%s%s", sep, c->keywords[k]);
				sep = " ";
			}
			n += (size_t)snprintf(out + n, size - n, "}");
		}
	}
	for (size_t i = 0; i < r->nredirects; i++)
		n += (size_t)snprintf(out + n, size - n, "%s->%s", n > 0 ? " " : "", r->redirects[i]);
	if (r->reject != NULL)
		n += (size_t)snprintf(out + n, size - n, "%s%s:%s", n > 0 ? " " : "",
				      r->ereject ? "ereject" : "reject", r->reject);
	return out;
}

static char outbuf[4096];

static const char *run_msg(const char *script, const struct sieve_message *msg)
{
	char error[SIEVE_ERROR_MAX];
	struct sieve_script *s = sieve_compile(script, strlen(script), error);
	if (s == NULL)
		fail_msg("compile failed: %s\nscript: %s", error, script);
	struct sieve_result r;
	int rc = sieve_run(s, msg, &r);
	assert_int_equal(rc, r.failed ? -1 : 0);
	describe(&r, outbuf, sizeof(outbuf));
	if (r.failed)
		snprintf(outbuf + strlen(outbuf), sizeof(outbuf) - strlen(outbuf), " (%s)", r.error);
	sieve_result_free(&r);
	sieve_script_free(s);
	return outbuf;
}

static const char *run_hdr(const char *script, const char *header)
{
	struct sieve_message m = msg_with(header);
	return run_msg(script, &m);
}

static const char *run(const char *script)
{
	return run_hdr(script, HDR);
}

/* true/false of one test at the clock `now` (0: the real one), through
 * fileinto "yes" */
static bool is_true_at(const char *req, const char *test, const char *header, int64_t now)
{
	char script[8192];
	struct sieve_message m = msg_with(header);
	m.now = now;
	snprintf(script, sizeof(script), "require [\"fileinto\"%s];\nif %s { fileinto \"yes\"; }", req, test);
	const char *o = run_msg(script, &m);
	if (strcmp(o, "yes") == 0)
		return true;
	if (strcmp(o, "INBOX") != 0)
		fail_msg("unexpected result %s for %s", o, test);
	return false;
}

static bool is_true(const char *req, const char *test, const char *header)
{
	return is_true_at(req, test, header, 0);
}

#define T(test) assert_true(is_true("", test, HDR))
#define F(test) assert_false(is_true("", test, HDR))
#define TR(req, test) assert_true(is_true(req, test, HDR))
#define FR(req, test) assert_false(is_true(req, test, HDR))

static void compile_error(const char *script, const char *want)
{
	char error[SIEVE_ERROR_MAX];
	struct sieve_script *s = sieve_compile(script, strlen(script), error);
	if (s != NULL)
		fail_msg("compiled but should not: %s", script);
	if (strcmp(error, want) != 0)
		fail_msg("error \"%s\", wanted \"%s\"", error, want);
}

/* ------------------------------------------------------------ tests */

static void test_actions(void **state)
{
	(void)state;
	assert_string_equal(run(""), "INBOX");
	assert_string_equal(run("keep;"), "INBOX");
	assert_string_equal(run("discard;"), "");
	assert_string_equal(run("require \"fileinto\"; fileinto \"Junk\";"), "Junk");
	assert_string_equal(run("redirect \"x@example.net\";"), "->x@example.net");
	assert_string_equal(run("redirect \"Xavier <x@example.net>\";"), "->x@example.net");
	assert_string_equal(run("stop; discard;"), "INBOX");
	assert_string_equal(run("discard; stop; keep;"), "");
	/* case-insensitive commands, inbox in any case */
	assert_string_equal(run("require \"fileinto\"; FILEINTO \"inbox\"; Keep;"), "INBOX");
	assert_string_equal(run("require \"fileinto\"; fileinto \"a/b\";"), "a/b");
	assert_string_equal(run("if true { discard; } elsif true { keep; } else { keep; }"), "");
	assert_string_equal(run("if false { discard; } elsif true { redirect \"a@b.c\"; } else { keep; }"),
			    "->a@b.c");
	assert_string_equal(run("if false { discard; } elsif false { redirect \"a@b.c\"; } else { stop; }\n"
				"discard;"), "INBOX");
	assert_string_equal(run("if true { if false { discard; } else { if true { stop; } } } discard;"),
			    "INBOX");
}

static void test_implicit_keep(void **state)
{
	(void)state;
	/* cancelled by fileinto, redirect, discard; not by :copy ones */
	assert_string_equal(run("require [\"fileinto\", \"copy\"]; fileinto :copy \"Junk\";"), "Junk INBOX");
	assert_string_equal(run("require \"copy\"; redirect :copy \"a@b.c\";"), "INBOX ->a@b.c");
	assert_string_equal(run("require [\"fileinto\", \"copy\"]; fileinto :copy \"Junk\"; discard;"),
			    "Junk");
	/* keep re-instates */
	assert_string_equal(run("discard; keep;"), "INBOX");
	assert_string_equal(run("redirect \"a@b.c\"; keep;"), "INBOX ->a@b.c");
	assert_string_equal(run("require \"fileinto\"; fileinto \"Junk\"; keep;"), "Junk INBOX");
	/* a stop leaves it as it is */
	assert_string_equal(run("require \"fileinto\"; fileinto \"Junk\"; stop; keep;"), "Junk");
}

static void test_duplicates(void **state)
{
	(void)state;
	assert_string_equal(run("require \"fileinto\"; fileinto \"Junk\"; fileinto \"Junk\";"), "Junk");
	assert_string_equal(run("require \"fileinto\"; fileinto \"INBOX\"; keep;"), "INBOX");
	assert_string_equal(run("keep; keep;"), "INBOX");
	assert_string_equal(run("redirect \"a@b.c\"; redirect \"A@B.C\"; redirect \"<a@b.c>\";"), "->a@b.c");
	assert_string_equal(run("redirect \"a@b.c\"; redirect \"d@b.c\";"), "->a@b.c ->d@b.c");
}

static void test_copy_create(void **state)
{
	(void)state;
	compile_error("require \"fileinto\"; fileinto :copy \"x\";", "line 1: :copy requires require \"copy\"");
	compile_error("require \"fileinto\"; fileinto :create \"x\";",
		      "line 1: :create requires require \"mailbox\"");
	/* :create asks: only a missing mailbox is made */
	assert_string_equal(run("require [\"fileinto\", \"mailbox\"]; fileinto :create \"new\";"), "new+create");
	assert_string_equal(run("require [\"fileinto\", \"mailbox\"]; fileinto :create \"Junk\";"), "Junk");
	assert_string_equal(run("require [\"fileinto\", \"mailbox\", \"copy\"]; fileinto :create :copy \"n\";"),
			    "n+create INBOX");
	TR(", \"mailbox\"", "mailboxexists [\"Junk\", \"lists\", \"inbox\"]");
	FR(", \"mailbox\"", "mailboxexists [\"Junk\", \"nope\"]");
	struct sieve_message m = msg_with(HDR);
	m.mailbox_exists = NULL; /* every mailbox exists */
	assert_string_equal(run_msg("require [\"fileinto\", \"mailbox\"]; if mailboxexists \"zz\" "
				    "{ fileinto :create \"zz\"; }", &m), "zz");
}

static void test_flags(void **state)
{
	(void)state;
	const char *req = "require [\"imap4flags\", \"fileinto\"];\n";
	char s[1024];
#define FL(body, want) do { snprintf(s, sizeof(s), "%s%s", req, body); \
		assert_string_equal(run(s), want); } while (0)
	FL("addflag \"\\\\Seen\";", "INBOX{\\Seen}");
	FL("addflag \"\\\\seen \\\\FLAGGED  $Label1\"; keep;", "INBOX{\\Seen \\Flagged $Label1}");
	FL("setflag [\"\\\\Answered\", \"\\\\Deleted \\\\Draft\"]; fileinto \"Junk\";",
	   "Junk{\\Answered \\Deleted \\Draft}");
	/* invalid names are ignored: \Recent, an unknown system flag, non-atoms */
	FL("addflag [\"\\\\Recent\", \"\\\\Bogus\", \"a(b\", \"c]\", \"ok\", \"\"];", "INBOX{ok}");
	FL("addflag \"a b c\"; removeflag \"B\"; addflag \"A\";", "INBOX{a c}");
	FL("addflag \"\\\\Seen x\"; setflag \"y\";", "INBOX{y}");
	FL("addflag \"\\\\Seen x\"; removeflag [\"\\\\seen\", \"X\"];", "INBOX");
	/* :flags replaces the variable for that copy only */
	FL("addflag \"x\"; fileinto :flags \"\\\\Flagged\" \"Junk\"; fileinto \"lists\";",
	   "Junk{\\Flagged} lists{x}");
	FL("keep :flags [\"\\\\Seen\", \"k\"];", "INBOX{\\Seen k}");
	/* flags are taken when the action runs; the implicit keep takes the last */
	FL("addflag \"a\"; fileinto \"Junk\"; addflag \"b\"; keep; removeflag \"a\";",
	   "Junk{a} INBOX{a b}");
	FL("addflag \"a\"; removeflag \"a\";", "INBOX");
	FL("addflag \"late\";", "INBOX{late}");
	/* the same mailbox twice: one copy with both copies' flags */
	FL("fileinto :flags \"a\" \"Junk\"; fileinto :flags \"\\\\Seen b\" \"Junk\";", "Junk{\\Seen a b}");
	/* hasflag */
	FL("addflag \"\\\\Seen Work\"; if hasflag \"work\" { discard; }", "");
	FL("addflag \"\\\\Seen Work\"; if hasflag :is \"\\\\SEEN\" { discard; }", "");
	FL("addflag \"Work\"; if hasflag \"Play\" { discard; }", "INBOX{Work}");
	FL("addflag \"Work\"; if hasflag :contains \"or\" { discard; }", "");
	FL("addflag \"Work\"; if hasflag :matches \"W*\" { discard; }", "");
	snprintf(s, sizeof(s), "require [\"imap4flags\", \"relational\", \"comparator-i;ascii-numeric\"];"
		 "addflag \"a b \\\\Seen\"; if hasflag :count \"eq\" :comparator \"i;ascii-numeric\" \"3\" "
		 "{ discard; }");
	assert_string_equal(run(s), "");
	compile_error("addflag \"x\";", "line 1: addflag requires require \"imap4flags\"");
	compile_error("keep :flags \"x\";", "line 1: :flags requires require \"imap4flags\"");
	compile_error("require \"imap4flags\"; keep :flags \"x\" :flags \"y\";",
		      "line 1: keep: :flags given twice");
	compile_error("require \"imap4flags\"; if hasflag { }", "line 1: hasflag: missing argument");
	/* SIEVE_KEYWORDS_MAX distinct keywords */
	char big[SIEVE_STRING_MAX];
	size_t n = 0;
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "k%d ", i);
	snprintf(s, sizeof(s), "%saddflag \"%s\";", req, big);
	assert_int_equal(strncmp(run(s), "INBOX{k0 k1 ", 12), 0);
	snprintf(s, sizeof(s), "%saddflag \"%s\"; addflag \"k64\";", req, big);
	assert_string_equal(run(s), "FAILED INBOX (more than 64 keywords)");
#undef FL
}

static void test_header(void **state)
{
	(void)state;
	T("header :is \"subject\" \"Grüße from  the  list\"");   /* decoded, unfolded, trimmed */
	T("header :contains \"SUBJECT\" \"üß\"");
	T("header :is \"X-Spam-Score\" \"12\"");               /* each field tested */
	T("header :is [\"Nope\", \"x-spam-score\"] [\"1\", \"7\"]");
	F("header :is \"X-Spam-Score\" \"1\"");
	F("header :contains \"Nope\" \"\"");
	T("header :contains \"From\" \"\"");
	T("header :is :comparator \"i;ascii-casemap\" \"from\" \"ALICE EXAMPLE <ALICE@EXAMPLE.ORG>\"");
	F("header :is :comparator \"i;octet\" \"from\" \"ALICE EXAMPLE <ALICE@EXAMPLE.ORG>\"");
	T("header :comparator \"i;octet\" :contains \"from\" \"Alice\"");
	T("exists [\"from\", \"RECEIVED\"]");
	F("exists [\"from\", \"nope\"]");
	T("not exists \"nope\"");
	T("allof (true, exists \"to\", not false)");
	F("allof (true, false)");
	T("anyof (false, true)");
	F("anyof (false, not true)");
	T("size :over 1999");
	F("size :over 2000");
	T("size :under 2001");
	F("size :under 2000");
	F("size :under 1K");
	T("size :over 1k");
	/* an encoded word in a non-UTF-8 charset */
	assert_true(is_true("", "header :is \"subject\" \"café\"",
			    "Subject: =?ISO-8859-1?Q?caf=E9?=\r\n\r\n"));
	assert_true(is_true("", "header :is \"subject\" \"a b\"", "Subject: =?UTF-8?B?YQ==?= b\r\n\r\n"));
}

static void test_hostile_header(void **state)
{
	(void)state;
	static const char nul[] = "Subject: a\0b\nX: y\n";
	struct sieve_message m = msg_with("");
	const char *sc = "require \"fileinto\"; if header :contains \"x\" \"y\" { fileinto \"yes\"; }";
	/* bare LF, no blank line */
	assert_true(is_true("", "header :is \"x\" \"y\"", "Subject: a\nX:   y  \n"));
	/* cut short in the middle of a field */
	assert_true(is_true("", "header :is \"x\" \"y\"", "Subject: a\r\nX: y"));
	assert_false(is_true("", "exists \"x\"", "Subject: a\r\nX"));
	/* fields past the blank line are the body */
	assert_false(is_true("", "exists \"x\"", "Subject: a\r\n\r\nX: y\r\n"));
	/* NUL bytes and 8-bit garbage */
	m.header = nul;
	m.header_len = sizeof(nul) - 1;
	assert_string_equal(run_msg(sc, &m), "yes");
	/* raw 8-bit text is read as windows-1252 */
	assert_true(is_true("", "header :is \"subject\" \"\xc3\xa9t\xc3\xa9\"", "Subject: \xe9t\xe9\r\n\r\n"));
	assert_false(is_true("", "address :contains \"to\" \"@\"", "To: \xff\xfe<<>>,,;:@\r\n\r\n"));
	/* only header_len octets are read */
	m.header = "X: y\r\nX: z\r\n";
	m.header_len = 6;
	assert_string_equal(run_msg("if header :is \"x\" \"z\" { discard; }", &m), "INBOX");
	m.header = NULL;
	m.header_len = 0;
	assert_string_equal(run_msg("if exists \"x\" { discard; }", &m), "INBOX");
}

static void test_address(void **state)
{
	(void)state;
	const char *sub = ", \"subaddress\"";
	T("address :is \"from\" \"alice@example.org\"");
	T("address :all :is \"from\" \"ALICE@example.org\"");
	T("address :localpart :is \"from\" \"alice\"");
	T("address :domain :is [\"from\", \"to\"] \"other.net\"");
	T("address :domain :matches \"to\" \"*.com\"");
	F("address :is \"from\" \"Alice Example <alice@example.org>\"");
	TR(sub, "address :user :is \"to\" \"bob\"");
	TR(sub, "address :detail :is \"to\" \"lists\"");
	FR(sub, "address :detail :matches \"from\" \"*\"");     /* no separator: no detail */
	TR(sub, "address :user :is \"from\" \"alice\"");
	/* group syntax and empty lists */
	F("address :contains \"cc\" \"\"");
	assert_true(is_true("", "address :is \"to\" \"b@c.d\"", "To: team: a@b.c, b@c.d;, e@f.g\r\n\r\n"));
	assert_false(is_true("", "address :contains \"to\" \"\"", "To:\r\n\r\n"));
	assert_false(is_true("", "address :contains \"to\" \"\"", "To: ;:;,<>\r\n\r\n"));
	/* subaddress with other separators, and none configured */
	struct sieve_message m = msg_with("To: bob-x+y@example.com\r\n\r\n");
	m.subaddress_separators = "-+";
	const char *s = "require \"subaddress\"; if address :detail :is \"to\" \"x+y\" { discard; }";
	assert_string_equal(run_msg(s, &m), "");
	m.subaddress_separators = "";
	assert_string_equal(run_msg(s, &m), "INBOX");
	assert_string_equal(run_msg("require \"subaddress\"; if address :user :is \"to\" \"bob-x+y\" "
				    "{ discard; }", &m), "");
	m.subaddress_separators = NULL;
	assert_string_equal(run_msg(s, &m), "INBOX");
	/* an empty detail is still a detail */
	assert_true(is_true(sub, "address :detail :is \"to\" \"\"", "To: bob+@example.com\r\n\r\n"));
}

static void test_envelope(void **state)
{
	(void)state;
	const char *env = ", \"envelope\", \"subaddress\"";
	TR(env, "envelope :is \"from\" \"alice+x@example.org\"");
	TR(env, "envelope :is \"FROM\" \"alice+x@example.org\"");
	TR(env, "envelope :domain :is \"to\" \"EXAMPLE.com\"");
	TR(env, "envelope :user :is \"to\" \"bob\"");
	TR(env, "envelope :detail :is [\"from\", \"to\"] \"x\"");
	FR(env, "envelope :localpart :is \"to\" \"bob\"");
	struct sieve_message m = msg_with(HDR);
	m.envelope_from = "";
	const char *s = "require \"envelope\"; if envelope :is \"from\" \"\" { discard; }";
	assert_string_equal(run_msg(s, &m), "");
	m.envelope_from = NULL;
	assert_string_equal(run_msg(s, &m), "INBOX");
	compile_error("if envelope \"from\" \"x\" { }", "line 1: envelope requires require \"envelope\"");
	compile_error("require \"envelope\";\nif envelope \"auth\" \"x\" { }",
		      "line 2: envelope: unsupported part \"auth\"");
}

static void test_matches(void **state)
{
	(void)state;
	struct { const char *key, *value; bool want; } cases[] = {
		{ "*", "", true }, { "", "", true }, { "", "a", false }, { "**", "", true },
		{ "**", "abc", true }, { "?*", "", false }, { "?*", "a", true }, { "*?", "ab", true },
		{ "a*b", "ab", true }, { "a*b", "axxb", true }, { "a*b", "axxbc", false },
		{ "a?c", "abc", true }, { "a?c", "ac", false }, { "*a*b*c*", "xaybzc", true },
		{ "\\\\*", "*", true }, { "\\\\*", "x", false }, { "\\\\?", "?", true },
		{ "\\\\?", "a", false }, { "a\\\\\\\\b", "a\\b", true }, { "*\\\\**", "x*y", true },
		{ "*\\\\**", "xy", false }, { "?", "é", true }, { "??", "é", false },
		{ "*make*money*fast*", "Make MONEY fast now", true }, { "A*", "abc", true },
		{ "*ab", "aab", true }, { "*aab", "aaab", true }, { "a*a*a", "aa", false },
	};
	char test[256], hdr[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(test, sizeof(test), "header :matches \"x\" \"%s\"", cases[i].key);
		snprintf(hdr, sizeof(hdr), "X: %s\r\n\r\n", cases[i].value);
		if (is_true("", test, hdr) != cases[i].want)
			fail_msg("%s against \"%s\" should be %d", test, cases[i].value, cases[i].want);
	}
	/* i;octet: "?" is one octet, case matters */
	assert_true(is_true("", "header :matches :comparator \"i;octet\" \"x\" \"??\"", "X: é\r\n"));
	assert_false(is_true("", "header :matches :comparator \"i;octet\" \"x\" \"A*\"", "X: abc\r\n"));
	/* :contains and :is edge cases */
	assert_true(is_true("", "header :contains \"x\" \"\"", "X:\r\n"));
	assert_true(is_true("", "header :is \"x\" \"\"", "X:   \r\n"));
	assert_false(is_true("", "header :contains \"x\" \"abcd\"", "X: abc\r\n"));

	/* not exponential: a 4000-octet value against many stars */
	char *big = malloc(SIEVE_STRING_MAX + 64);
	char *script = malloc(8192);
	assert_non_null(big);
	assert_non_null(script);
	strcpy(big, "X: ");
	memset(big + 3, 'a', 4000);
	strcpy(big + 4003, "\r\n\r\n");
	snprintf(script, 8192, "if header :matches \"x\" \"*a*a*a*a*a*a*a*a*a*a*a*a*b\" { discard; }");
	clock_t t0 = clock();
	for (int i = 0; i < 10; i++)
		assert_string_equal(run_hdr(script, big), "INBOX");
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	free(big);
	free(script);
}

static void test_relational(void **state)
{
	(void)state;
	const char *rel = ", \"relational\", \"comparator-i;ascii-numeric\", \"envelope\"";
	const char *num = ":comparator \"i;ascii-numeric\"";
	char t[256];
#define REL(fmt, want) do { snprintf(t, sizeof(t), fmt, num); \
		if (want) TR(rel, t); else FR(rel, t); } while (0)
	REL("header :value \"gt\" %s \"x-spam-score\" \"10\"", true);    /* 12 > 10 */
	REL("header :value \"gt\" %s \"x-spam-score\" \"12\"", false);
	REL("header :value \"ge\" %s \"x-spam-score\" \"12\"", true);
	REL("header :value \"lt\" %s \"x-spam-score\" \"7\"", false);
	REL("header :value \"le\" %s \"x-spam-score\" \"7\"", true);
	REL("header :value \"eq\" %s \"x-spam-score\" \"007\"", true);
	REL("header :value \"ne\" %s \"x-spam-score\" \"7\"", true);     /* 12 != 7 */
	REL("header :value \"gt\" %s \"x-spam-score\" \"99999999999999999999999\"", false);
	REL("header :count \"eq\" %s \"received\" \"3\"", true);
	REL("header :count \"gt\" %s \"received\" [\"5\", \"2\"]", true);
	REL("header :count \"eq\" %s \"nope\" \"0\"", true);
	REL("address :count \"eq\" %s [\"to\", \"cc\"] \"2\"", true);    /* the group holds none */
	REL("envelope :count \"eq\" %s [\"from\", \"to\"] \"2\"", true);
	REL("header :is %s \"x-spam-score\" \"12\"", true);
	/* i;ascii-numeric: a value not starting with a digit is infinity */
	assert_true(is_true(rel, "header :value \"gt\" :comparator \"i;ascii-numeric\" \"x\" \"99999\"",
			    "X: abc\r\n\r\n"));
	assert_true(is_true(rel, "header :value \"eq\" :comparator \"i;ascii-numeric\" \"x\" \"zzz\"",
			    "X: abc\r\n\r\n"));
	assert_true(is_true(rel, "header :value \"lt\" :comparator \"i;ascii-numeric\" \"x\" \"x\"",
			    "X: 5abc\r\n\r\n"));
	assert_true(is_true(rel, "header :is :comparator \"i;ascii-numeric\" \"x\" \"5\"",
			    "X: 05 apples\r\n\r\n"));
	/* casemap ordering is by octet, after folding */
	assert_true(is_true(rel, "header :value \"lt\" \"x\" \"B\"", "X: a\r\n\r\n"));
	assert_true(is_true(rel, "header :value \"gt\" \"x\" \"10\"", "X: 9\r\n\r\n"));
	compile_error("require \"relational\"; if header :value \"xx\" \"a\" \"b\" { }",
		      "line 1: unknown relational operator \"xx\"");
	compile_error("if header :count \"eq\" \"a\" \"b\" { }",
		      "line 1: :value and :count requires require \"relational\"");
	compile_error("require \"relational\"; if header :value 5 \"a\" \"b\" { }",
		      "line 1: :value needs a relational operator");
	compile_error("if header :comparator \"i;ascii-numeric\" \"a\" \"b\" { }",
		      "line 1: i;ascii-numeric requires require \"comparator-i;ascii-numeric\"");
	compile_error("require \"comparator-i;ascii-numeric\";\n"
		      "if header :contains :comparator \"i;ascii-numeric\" \"a\" \"b\" { }",
		      "line 2: header: i;ascii-numeric cannot do :contains or :matches");
#undef REL
}

/* RFC 5228 section 9, and the examples of sections 2-5. */
static void test_rfc5228_examples(void **state)
{
	(void)state;
	const char *ex9 =
		"# Example Sieve Filter\r\n"
		"# Declare any optional features or extension used by the script\r\n"
		"require [\"fileinto\"];\r\n\r\n"
		"# Handle messages from known mailing lists\r\n"
		"# Move messages from IETF filter discussion list to filter mailbox\r\n"
		"if header :is \"Sender\" \"owner-ietf-mta-filters@imc.org\"\r\n"
		"        {\r\n"
		"        fileinto \"filter\";  # move to \"filter\" mailbox\r\n"
		"        }\r\n"
		"#\r\n# Keep all messages to or from people in my company\r\n#\r\n"
		"elsif address :DOMAIN :is [\"From\", \"To\"] \"example.com\"\r\n"
		"        {\r\n"
		"        keep;               # keep in \"In\" mailbox\r\n"
		"        }\r\n\r\n"
		"#\r\n# Try and catch unsolicited email.  If a message is not to me,\r\n"
		"# or it contains a subject known to be spam, file it away.\r\n#\r\n"
		"elsif anyof (NOT address :all :contains\r\n"
		"               [\"To\", \"Cc\", \"Bcc\"] \"me@example.com\",\r\n"
		"             header :matches \"subject\"\r\n"
		"               [\"*make*money*fast*\", \"*university*dipl*mas*\"])\r\n"
		"        {\r\n"
		"        fileinto \"spam\";   # move to \"spam\" mailbox\r\n"
		"        }\r\n"
		"else\r\n"
		"        {\r\n"
		"        # Move all other (non-company) mail to \"personal\"\r\n"
		"        # mailbox.\r\n"
		"        fileinto \"personal\";\r\n"
		"        }\r\n";
	assert_string_equal(run_hdr(ex9, "Sender: owner-ietf-mta-filters@imc.org\r\nTo: x@y.z\r\n\r\n"),
			    "filter");
	assert_string_equal(run_hdr(ex9, "From: boss@example.com\r\nTo: x@y.z\r\n\r\n"), "INBOX");
	assert_string_equal(run_hdr(ex9, "From: a@b.c\r\nTo: x@y.z\r\n\r\n"), "spam");
	assert_string_equal(run_hdr(ex9, "From: a@b.c\r\nCc: me@example.com\r\n"
					 "Subject: make lots of money fast\r\n\r\n"), "spam");
	assert_string_equal(run_hdr(ex9, "From: a@b.c\r\nBcc: me@example.com\r\n\r\n"), "personal");

	/* 3.1 */
	const char *ex31 = "require \"fileinto\";\n"
		"if header :contains \"from\" \"coyote\" {\n   discard;\n"
		"} elsif header :contains [\"subject\"] [\"$$$\"] {\n   discard;\n"
		"} else {\n   fileinto \"INBOX\";\n}\n";
	assert_string_equal(run_hdr(ex31, "From: Wile E. Coyote <w@acme.com>\r\n\r\n"), "");
	assert_string_equal(run_hdr(ex31, "Subject: $$$ now\r\n\r\n"), "");
	assert_string_equal(run_hdr(ex31, "Subject: hi\r\n\r\n"), "INBOX");
	/* 2.4.2.4 multi-line strings and 2.7.1 :comparator */
	assert_string_equal(run_hdr("if header :contains :comparator \"i;octet\" \"Subject\"\n"
				    "        \"MAKE MONEY FAST\" {\n        discard;\n}",
				    "Subject: MAKE MONEY FAST!!\r\n\r\n"), "");
	assert_string_equal(run_hdr("if header :contains :comparator \"i;octet\" \"Subject\"\n"
				    "        \"MAKE MONEY FAST\" {\n        discard;\n}",
				    "Subject: make money fast!!\r\n\r\n"), "INBOX");
	/* 4.2, 5.1, 5.5, 5.9 */
	assert_string_equal(run("redirect \"bart@example.com\";"), "->bart@example.com");
	assert_string_equal(run_hdr("if address :is :all \"from\" \"tim@example.com\" {\n discard;\n}",
				    "From: Tim <tim@example.com>\r\n\r\n"), "");
	assert_string_equal(run_hdr("if not exists [\"From\",\"Date\"] {\n discard;\n}",
				    "From: a@b.c\r\n\r\n"), "");
	assert_string_equal(run_hdr("if not exists [\"From\",\"Date\"] {\n discard;\n}",
				    "From: a@b.c\r\nDate: x\r\n\r\n"), "INBOX");
	struct sieve_message m = msg_with(HDR);
	m.size = 500 * 1024 + 1;
	assert_string_equal(run_msg("if size :over 500K { discard; }", &m), "");
	m.size = 500 * 1024;
	assert_string_equal(run_msg("if size :over 500K { discard; }", &m), "INBOX");
	m.size = 1024 * 1024 * 1024;
	assert_string_equal(run_msg("if size :under 1G { discard; }", &m), "INBOX");
	assert_string_equal(run_msg("if size :under 1025M { discard; }", &m), "");
}

static void test_lexer(void **state)
{
	(void)state;
	/* multi-line strings: dot-unstuffing, a comment after "text:", CRLF kept */
	assert_true(is_true("", "header :is \"x\" text:\r\nline\r\n..dot\r\n.\r\n",
			    "X: line\r\n") == false);
	assert_true(is_true("", "header :contains \"x\" text: # c\r\n..dot\r\n.\r\n",
			    "X: a .dot\r\n \r\n") == false);
	char error[SIEVE_ERROR_MAX];
	const char *t = "require \"fileinto\"; fileinto text: # c\r\nbox\r\n.\r\n;";
	struct sieve_script *s = sieve_compile(t, strlen(t), error);
	assert_null(s);    /* a mailbox with a line break is not a mailbox name */
	assert_string_equal(error, "line 1: invalid mailbox name \"box\r\n\"");
	assert_true(is_true("", "header :is \"x\" \"a\\\"b\\\\c\\d\"", "X: a\"b\\cd\r\n"));
	assert_true(is_true("", "/* a\n comment */ header # another\n :is \"x\" \"a\"", "X: a\r\n"));
	/* a text: string ends with its last line break */
	assert_false(is_true("", "header :matches \"x\" text:\n*\n.\n", "X: b\r\n"));
	assert_true(is_true("", "header :matches \"x\" \"*\" ", "X: b\r\n"));
	assert_string_equal(run("redirect text:\na@b.c\n.\n;"), "->a@b.c");
	/* numbers */
	struct sieve_message m = msg_with(HDR);
	m.size = 3;
	assert_string_equal(run_msg("if size :under 4 { discard; }", &m), "");
	m.size = UINT64_MAX;
	assert_string_equal(run_msg("if size :over 17179869183G { discard; }", &m), "");
	compile_error("if size :over 17179869184G { }", "line 1: number too large");
	compile_error("if size :over 99999999999999999999 { }", "line 1: number too large");
	compile_error("if size :over 1X { }", "line 1: bad number");
}

static void test_compile_errors(void **state)
{
	(void)state;
	compile_error("frobnicate;", "line 1: unknown command \"frobnicate\"");
	compile_error("\n\nif frob { }", "line 3: unknown test \"frob\"");
	compile_error("fileinto \"x\";", "line 1: fileinto requires require \"fileinto\"");
	compile_error("require \"regex\";", "line 1: unsupported extension \"regex\"");
	compile_error("require \"FILEINTO\";", "line 1: unsupported extension \"FILEINTO\"");
	compile_error("keep; require \"fileinto\";", "line 1: require after other commands");
	compile_error("if true { require \"fileinto\"; }", "line 1: require inside a block");
	compile_error("keep", "line 1: \";\" expected after keep");
	compile_error("keep \"x\";", "line 1: keep: too many arguments");
	compile_error("redirect;", "line 1: redirect: missing argument");
	compile_error("redirect [\"a@b.c\"];", "line 1: redirect: a string expected, not a list");
	compile_error("redirect \"not an address\";", "line 1: redirect: invalid address \"not an address\"");
	compile_error("redirect \"a@b.c, d@e.f\";", "line 1: redirect: invalid address \"a@b.c, d@e.f\"");
	compile_error("redirect \"a@\";", "line 1: redirect: invalid address \"a@\"");
	compile_error("redirect :foo \"a@b.c\";", "line 1: redirect: unknown tag \":foo\"");
	compile_error("keep 5;", "line 1: keep: unexpected number");
	compile_error("require \"fileinto\"; fileinto \"\";", "line 1: invalid mailbox name \"\"");
	compile_error("require \"fileinto\"; fileinto \"\xff\";", "line 1: invalid mailbox name \"\xff\"");
	compile_error("require \"fileinto\"; fileinto \"x\" :copy;",
		      "line 1: fileinto: tag \":copy\" after positional arguments");
	compile_error("require \"mailbox\"; if mailboxexists \"\" {}", "line 1: invalid mailbox name \"\"");
	compile_error("if header \"a b\" \"x\" { }", "line 1: invalid header name \"a b\"");
	compile_error("if header \"a:\" \"x\" { }", "line 1: invalid header name \"a:\"");
	compile_error("if exists \"\" { }", "line 1: invalid header name \"\"");
	compile_error("if address \"subject\" \"x\" { }", "line 1: address: \"subject\" is not an address header");
	compile_error("if header :is :contains \"a\" \"b\" { }", "line 1: header: more than one match type");
	compile_error("if address :all :domain \"to\" \"b\" { }", "line 1: address: more than one address part");
	compile_error("if address :user \"to\" \"b\" { }", "line 1: :user and :detail requires require \"subaddress\"");
	compile_error("if header :comparator \"i;octet\" :comparator \"i;octet\" \"a\" \"b\" { }",
		      "line 1: header: more than one comparator");
	compile_error("if header :comparator \"i;foo\" \"a\" \"b\" { }", "line 1: unknown comparator \"i;foo\"");
	compile_error("if header :comparator 5 \"a\" \"b\" { }", "line 1: :comparator needs a comparator name");
	compile_error("if size 5 { }", "line 1: size: unexpected number");
	compile_error("if size { }", "line 1: size needs :over or :under");
	compile_error("if size :over { }", "line 1: :over needs a number");
	compile_error("if size :over 1 :under 2 { }", "line 1: size: more than one of :over and :under");
	compile_error("if true keep;", "line 1: if: \"{\" expected");
	compile_error("if { }", "line 1: test expected");
	compile_error("if true { keep;", "line 1: \"}\" expected");
	compile_error("keep; }", "line 1: unexpected \"}\"");
	compile_error("elsif true { }", "line 1: elsif without if");
	compile_error("if true { } keep; else { }", "line 1: else without if");
	compile_error("if true { } else { } else { }", "line 1: else without if");
	compile_error("if anyof true { }", "line 1: \"(\" expected");
	compile_error("if anyof (true false) { }", "line 1: \")\" expected");
	compile_error("if not { }", "line 1: test expected");
	compile_error("if true true { }", "line 1: if: \"{\" expected");
	compile_error("keep true;", "line 1: keep takes no test");
	compile_error("if header [\"a\" \"b\"] \"c\" { }", "line 1: \"]\" expected");
	compile_error("if header [\"a\", 5] \"c\" { }", "line 1: string expected in list");
	compile_error("if header \"a\" \"b\n", "line 1: unterminated string");
	compile_error("keep; /* x\n", "line 1: unterminated comment");
	compile_error("redirect text:\na@b.c\n", "line 1: unterminated \"text:\" string");
	compile_error("redirect text: x\na@b.c\n.\n;", "line 1: \"text:\" must end its line");
	compile_error("keep;\n@", "line 2: unexpected character 0x40");
	compile_error("require \"fileinto\";\nif true {\n  fileinto \"a\" \"b\";\n}",
		      "line 3: fileinto: too many arguments");
	compile_error("keep;\n\"x\";", "line 2: command expected");
	compile_error("if header :is \"a\" [\"b\",\n\"c\"] { } else if true { }", "line 2: else: \"{\" expected");
	char nul[] = "keep;\nkeep;\0";
	char error[SIEVE_ERROR_MAX];
	assert_null(sieve_compile(nul, sizeof(nul) - 1, error));
	assert_string_equal(error, "line 2: NUL in script");
	/* extensions list */
	assert_string_equal(sieve_extensions(), "fileinto envelope copy imap4flags mailbox subaddress "
			    "relational comparator-i;ascii-numeric comparator-i;octet comparator-i;ascii-casemap "
			    "vacation body date variables reject ereject");
	assert_string_equal(run("require [\"comparator-i;octet\", \"comparator-i;ascii-casemap\"];"), "INBOX");
}

/* vacation (RFC 5230): the action and its arguments in the result, the
 * implicit keep untouched (a discard too goes with it), one action a run,
 * and what does not compile. */
static void test_vacation(void **state)
{
	char error[SIEVE_ERROR_MAX];
	struct sieve_message m = msg_with(HDR);
	struct sieve_result r;
	(void)state;
	const char *script =
		"require [\"vacation\", \"fileinto\"];\n"
		"if header :contains \"subject\" \"list\" { fileinto \"lists\"; }\n"
		"vacation :days 3 :subject \"Away \xc3\xa0 la plage\" :from \"Bob <bob@example.com>\"\n"
		"  :addresses [\"bob+lists@example.com\", \"info@example.com\"] :handle \"h1\"\n"
		"  text:\nI am away.\r\nBack on Monday.\n.\n;";
	struct sieve_script *s = sieve_compile(script, strlen(script), error);
	if (s == NULL)
		fail_msg("%s", error);
	assert_int_equal(sieve_run(s, &m, &r), 0);
	assert_non_null(r.vacation);
	assert_int_equal(r.vacation->days, 3);
	assert_string_equal(r.vacation->subject, "Away \xc3\xa0 la plage");
	assert_string_equal(r.vacation->from, "bob@example.com");
	assert_int_equal(r.vacation->naddresses, 2);
	assert_string_equal(r.vacation->addresses[1], "info@example.com");
	assert_string_equal(r.vacation->reason, "I am away.\r\nBack on Monday.\n");
	assert_string_equal(describe(&r, outbuf, sizeof(outbuf)), "lists");
	sieve_result_free(&r);
	assert_null(r.vacation);
	sieve_script_free(s);

	/* no tags: days 0 (the caller's default); with discard: no copy */
	assert_string_equal(run("require \"vacation\"; vacation \"x\"; discard;"), "");
	const char *zero = "require \"vacation\"; vacation :days 0 \"Out.\";";
	s = sieve_compile(zero, strlen(zero), error);
	assert_non_null(s);
	assert_int_equal(sieve_run(s, &m, &r), 0);
	assert_int_equal(r.vacation->days, 1); /* at least 1 (RFC 5230 4.1) */
	assert_null(r.vacation->subject);
	assert_null(r.vacation->from);
	assert_int_equal(r.vacation->naddresses, 0);
	assert_string_equal(describe(&r, outbuf, sizeof(outbuf)), "INBOX");
	sieve_result_free(&r);
	sieve_script_free(s);
	/* a second vacation in one run fails it: the implicit keep alone */
	assert_string_equal(run("require \"vacation\"; vacation \"a\"; vacation \"b\"; discard;"),
			    "FAILED INBOX (line 1: a second vacation action)");
	assert_string_equal(run("require \"vacation\"; if false { vacation \"a\"; } vacation \"b\";"),
			    "INBOX");

	/* has_vacation: anywhere in the tree, in an else branch too */
	static const struct { const char *script; bool has; } hv[] = {
		{ "keep;", false },
		{ "require \"vacation\"; vacation \"a\";", true },
		{ "require \"vacation\"; if false { keep; } elsif true { stop; } else { if true "
		  "{ vacation \"a\"; } }", true },
		{ "require \"vacation\"; if true { keep; } else { discard; }", false },
	};
	for (size_t i = 0; i < sizeof(hv) / sizeof(hv[0]); i++) {
		s = sieve_compile(hv[i].script, strlen(hv[i].script), error);
		assert_non_null(s);
		assert_int_equal(sieve_script_has_vacation(s), hv[i].has);
		sieve_script_free(s);
	}

	compile_error("vacation \"x\";", "line 1: vacation requires require \"vacation\"");
	compile_error("require \"vacation\"; vacation;", "line 1: vacation: missing argument");
	compile_error("require \"vacation\"; vacation :mime \"x\";",
		      "line 1: vacation :mime is not supported (give the reason as text)");
	compile_error("require \"vacation\"; vacation :days \"3\" \"x\";",
		      "line 1: vacation: :days needs a number");
	compile_error("require \"vacation\"; vacation :days 1 :days 2 \"x\";",
		      "line 1: vacation: :days given twice");
	compile_error("require \"vacation\"; vacation :subject \"a\nb\" \"x\";",
		      "line 1: vacation: :subject must be one line of text");
	compile_error("require \"vacation\"; vacation :from \"nobody\" \"x\";",
		      "line 1: vacation :from: invalid address \"nobody\"");
	compile_error("require \"vacation\"; vacation :addresses [\"a@b.c\", \"d\"] \"x\";",
		      "line 1: vacation :addresses: invalid address \"d\"");
	compile_error("require \"vacation\"; vacation \"\xff\";",
		      "line 1: vacation: the reason must be UTF-8 text");
	compile_error("require \"vacation\"; vacation :copy \"x\";", "line 1: vacation: unknown tag \":copy\"");
}

/* A script may not make delivery slow: its matching work has a budget
 * (SIEVE_WORK_MAX), past which the run fails and keeps the message. A 60 KB
 * Subject against a 4,000-octet :matches key is over it at once; the same
 * header against :contains a few times is far under it, as is a long
 * script of cheap tests on an ordinary header. */
static void test_work_budget(void **state)
{
	(void)state;
	size_t big = 60 * 1024;
	char *header = malloc(big + 64);
	char *script = malloc(SIEVE_SCRIPT_MAX);
	assert_non_null(header);
	assert_non_null(script);
	int n = sprintf(header, "Subject: ");
	memset(header + n, 'a', big);
	strcpy(header + n + big, "\r\n\r\n");
	n = sprintf(script, "require \"fileinto\"; if header :matches \"subject\" \"*");
	for (int i = 0; i < 1990; i++)
		n += sprintf(script + n, "a*");
	strcpy(script + n, "b\" { fileinto \"x\"; }");
	const char *out = run_hdr(script, header);
	static const char want[] = "FAILED INBOX (more matching work than";
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("a :matches over the budget: %s", out);
	assert_string_equal(run_hdr("require \"fileinto\"; if header :contains \"subject\" \"b\" "
				    "{ fileinto \"x\"; } if header :contains \"subject\" \"aaaa\" "
				    "{ fileinto \"y\"; }", header), "y");
	/* a thousand cheap tests: fine */
	n = sprintf(script, "require \"fileinto\";");
	for (int i = 0; i < 1000; i++)
		n += sprintf(script + n, " if header :is \"subject\" \"%d\" { fileinto \"x\"; }", i);
	assert_string_equal(run(script), "INBOX");
	free(script);
	free(header);
}

/* ------------------------------------------------------------ body */

/* A message for the body test, handed out by message_load; counts the
 * loads (one a run, none without a body test). */
struct body_src {
	const char *data;
	size_t len;
	int loads;
	bool fail;
};

static int load_message(void *ctx, const char **data_r, size_t *len_r)
{
	struct body_src *src = ctx;
	src->loads++;
	if (src->fail)
		return -1;
	*data_r = src->data;
	*len_r = src->len;
	return 0;
}

static struct sieve_message msg_body(struct body_src *src)
{
	struct sieve_message m = msg_with(src->data);
	m.header_len = src->len;   /* the header is read up to its blank line */
	m.message_load = load_message;
	m.ctx = src;
	return m;
}

/* true/false of one test on `message`, through fileinto "yes" */
static bool body_true(const char *test, const char *message)
{
	char script[8192];
	struct body_src src = { message, strlen(message), 0, false };
	struct sieve_message m = msg_body(&src);
	snprintf(script, sizeof(script),
		 "require [\"fileinto\", \"body\", \"relational\", \"comparator-i;octet\"];\n"
		 "if %s { fileinto \"yes\"; }", test);
	const char *o = run_msg(script, &m);
	assert_int_equal(src.loads, strncmp(test, "body", 4) == 0 ? 1 : 0);
	if (strcmp(o, "yes") == 0)
		return true;
	if (strcmp(o, "INBOX") != 0)
		fail_msg("unexpected result %s for %s", o, test);
	return false;
}

#define BT(test, message) assert_true(body_true(test, message))
#define BF(test, message) assert_false(body_true(test, message))

/* multipart/alternative: base64 ISO-8859-1 text/plain, quoted-printable
 * UTF-8 text/html, a prologue and an epilogue; a word only the header has. */
#define ALT "From: Alice <alice@example.org>\r\n" \
	"Subject: quarterly-statement\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" \
	"\r\n" \
	"This is the prologue.\r\n" \
	"--b1\r\n" \
	"Content-Type: text/plain; charset=ISO-8859-1\r\n" \
	"Content-Transfer-Encoding: base64\r\n" \
	"\r\n" \
	"R3L832UgYXVzIGRlbSBDYWbpDQpSZWNobnVuZyBmb2xndC4NCg==\r\n" \
	"--b1\r\n" \
	"Content-Type: text/html; charset=utf-8\r\n" \
	"Content-Transfer-Encoding: quoted-printable\r\n" \
	"\r\n" \
	"<p>Caf=C3=A9 au lait, soft=\r\n" \
	"break</p>\r\n" \
	"--b1--\r\n" \
	"The epilogue.\r\n"

#define UML "Gr\xc3\xbc\xc3\x9f" "e"   /* "Grüße" in UTF-8 */

static void test_body_transforms(void **state)
{
	(void)state;
	/* :raw: the body as it came, MIME headers and encodings included */
	BT("body :raw :contains \"Content-Transfer-Encoding: base64\"", ALT);
	BT("body :raw :contains \"soft=\r\nbreak\"", ALT);
	BT("body :raw :contains \"This is the prologue\"", ALT);
	BF("body :raw :contains \"" UML "\"", ALT);
	BF("body :raw :contains \"softbreak\"", ALT);
	BT("body :raw :matches \"This is*The epilogue.\r\n\"", ALT);
	/* :text (the default): each text part decoded to UTF-8 */
	BT("body :text :contains \"" UML " aus dem Caf\xc3\xa9\"", ALT);
	BT("body :contains \"rechnung FOLGT\"", ALT);
	BT("body :text :contains \"softbreak\"", ALT);
	BT("body :text :contains \"Caf\xc3\xa9 au lait\"", ALT);
	BF("body :text :contains \"prologue\"", ALT);
	BF("body :text :contains \"Content-Type\"", ALT);
	BF("body :text :contains \"R3L832\"", ALT);
	/* :is and :matches take a part whole; "?" is a character for casemap */
	BT("body :is \"<P>caf\xc3\xa9 AU lait, softbreak</p>\"", ALT);
	BF("body :is \"softbreak\"", ALT);
	BT("body :matches \"*" "Gr??e aus*\"", ALT);
	BF("body :comparator \"i;octet\" :matches \"*Gr??e aus*\"", ALT);
	BT("body :comparator \"i;octet\" :matches \"*Gr????e aus*\"", ALT);
	BF("body :comparator \"i;octet\" :contains \"rechnung\"", ALT);
	BT("body :text :count \"eq\" \"2\"", ALT);
	/* :content: by type, type/subtype, or "" for all */
	BT("body :content \"text/html\" :contains \"<p>\"", ALT);
	BF("body :content \"text/html\" :contains \"" UML "\"", ALT);
	BF("body :content \"text/plain\" :contains \"<p>\"", ALT);
	BT("body :content \"TEXT/Plain\" :contains \"" UML "\"", ALT);
	BT("body :content \"text\" :contains \"" UML "\"", ALT);
	BT("body :content \"text\" :contains \"<p>\"", ALT);
	BT("body :content [\"image\", \"text/html\"] :contains \"lait\"", ALT);
	BF("body :content [\"/html\", \"text/\", \"text/html/x\", \"html\"] :contains \"lait\"", ALT);
	/* a multipart: its prologue and epilogue, never its delimiters */
	BT("body :content \"multipart\" :contains \"This is the prologue.\"", ALT);
	BT("body :content \"multipart/alternative\" :is \"The epilogue.\r\n\"", ALT);
	BT("body :content \"multipart\" :is \"This is the prologue.\"", ALT);
	BF("body :content \"multipart\" :contains \"--b1\"", ALT);
	BF("body :content \"multipart\" :contains \"lait\"", ALT);
	BT("body :content \"\" :count \"eq\" \"4\"", ALT);
	/* a word only the header has is not in the body */
	BF("body :raw :contains \"quarterly-statement\"", ALT);
	BF("body :text :contains \"quarterly-statement\"", ALT);
	BF("body :content \"\" :contains \"quarterly-statement\"", ALT);
	BF("body :raw :contains \"MIME-Version\"", ALT);
	BT("header :contains \"subject\" \"quarterly-statement\"", ALT);
}

/* message/rfc822 inside: its header block is one string of :content
 * "message"; its parts are parts like the others. Other types are
 * transfer-decoded, not converted. Not MIME at all: text/plain. */
static void test_body_nested(void **state)
{
	(void)state;
	const char *mixed =
		"Subject: outer\r\n"
		"Content-Type: multipart/mixed; boundary=\"out\"\r\n"
		"\r\n"
		"--out\r\n"
		"\r\n"
		"Outer words.\r\n"
		"--out\r\n"
		"Content-Type: message/rfc822\r\n"
		"\r\n"
		"Subject: inner-subject\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"\r\n"
		"Inner body text.\r\n"
		"--out\r\n"
		"Content-Type: application/octet-stream\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n"
		"c2VjcmV0LWJpbmFyeS13b3JkAP8=\r\n"
		"--out--\r\n";
	BT("body :text :contains \"outer words\"", mixed);
	BT("body :text :contains \"inner body text\"", mixed);
	BF("body :text :contains \"inner-subject\"", mixed);
	BT("body :content \"message/rfc822\" :contains \"Subject: inner-subject\"", mixed);
	BF("body :content \"message\" :contains \"inner body text\"", mixed);
	BT("body :content \"message\" :matches \"Subject: inner-subject*\r\n\r\n\"", mixed);
	BF("body :text :contains \"secret-binary-word\"", mixed);
	BT("body :content \"application\" :contains \"secret-binary-word\"", mixed);
	BT("body :content \"application/octet-stream\" :comparator \"i;octet\" "
	   ":matches \"*word?\xff\"", mixed);
	BT("body :content \"\" :contains \"secret-binary-word\"", mixed);
	BT("body :raw :contains \"c2VjcmV0\"", mixed);
	/* no MIME: text/plain us-ascii; 8-bit as UTF-8 if it is, else windows-1252 */
	BT("body :is \"Hello \xc3\xa9.\r\n\"", "Subject: x\r\n\r\nHello \xe9.\r\n");
	BT("body :raw :is \"Hello \xe9.\r\n\"", "Subject: x\r\n\r\nHello \xe9.\r\n");
	BT("body :is \"line\nend\n\"", "Subject: x\n\nline\nend\n");
	/* no body: one empty string */
	BT("body :raw :is \"\"", "Subject: x\r\n\r\n");
	BT("body :text :is \"\"", "Subject: x\r\n");
	BF("body :contains \"x\"", "Subject: x\r\n");
}

static void test_body_errors(void **state)
{
	(void)state;
	compile_error("if body \"x\" { }", "line 1: body requires require \"body\"");
	compile_error("require \"body\";\nif body :raw :text \"x\" { }",
		      "line 2: body: more than one body transform");
	compile_error("require \"body\"; if body :content \"text\" :raw \"x\" { }",
		      "line 1: body: more than one body transform");
	compile_error("require \"body\"; if body :content :contains \"x\" { }",
		      "line 1: :content needs a list of content types");
	compile_error("require \"body\"; if body :content \"text\" { }", "line 1: body: missing argument");
	compile_error("require \"body\"; if body :raw { }", "line 1: body: missing argument");
	compile_error("require \"body\"; if body :raw \"a\" \"b\" { }", "line 1: body: too many arguments");
	compile_error("require \"body\"; if body :binary \"a\" { }", "line 1: body: unknown tag \":binary\"");
	compile_error("require \"body\"; if body :count \"eq\" \"1\" { }",
		      "line 1: :value and :count requires require \"relational\"");
	compile_error("require \"body\"; if body :comparator \"i;ascii-numeric\" :contains \"1\" { }",
		      "line 1: i;ascii-numeric requires require \"comparator-i;ascii-numeric\"");
	/* no body test: the message is not read; two body tests: once */
	struct body_src src = { ALT, strlen(ALT), 0, false };
	struct sieve_message m = msg_body(&src);
	assert_string_equal(run_msg("require \"body\"; if header :contains \"subject\" \"x\" { discard; }",
				    &m), "INBOX");
	assert_int_equal(src.loads, 0);
	assert_string_equal(run_msg("require \"body\"; if body :contains \"x\" { discard; }"
				    "if body :raw :contains \"y\" { discard; }"
				    "if body :content \"text\" :contains \"lait\" { discard; }", &m), "");
	assert_int_equal(src.loads, 1);
	/* a message that cannot be read: the run fails, the message is kept */
	src.fail = true;
	assert_string_equal(run_msg("require \"body\"; if body :contains \"x\" { discard; }", &m),
			    "FAILED INBOX (the message could not be read for the body test)");
	/* no message_load: a message without a body */
	m = msg_with(HDR);
	assert_string_equal(run_msg("require [\"body\", \"fileinto\"]; if body :raw :is \"\" "
				    "{ fileinto \"empty\"; }", &m), "empty");
}

static double seconds_since(clock_t start)
{
	return (double)(clock() - start) / CLOCKS_PER_SEC;
}

/* SIEVE_BODY_MAX: a key ending at the limit is found, one octet past it
 * is not; SIEVE_BODY_PARTS_MAX likewise. A huge message costs no more
 * than its first megabyte, and a key that made naive :contains quadratic
 * does not. */
static void test_body_limits(void **state)
{
	(void)state;
	static const char head[] = "Subject: big\r\n\r\n";
	size_t hlen = strlen(head), big = 64u * 1024 * 1024;
	char *msg = malloc(hlen + big + 1);
	assert_non_null(msg);
	memcpy(msg, head, hlen);
	memset(msg + hlen, 'a', big);
	msg[hlen + big] = '\0';
	struct body_src src = { msg, 0, 0, false };
	struct sieve_message m = msg_body(&src);
	const char *script = "require [\"body\", \"fileinto\"]; if body :raw :contains \"needle\" "
			     "{ fileinto \"found\"; } if body :text :contains \"needle\" { fileinto \"text\"; }";
	for (size_t extra = 0; extra <= 1; extra++) {
		memset(msg + hlen, 'a', SIEVE_BODY_MAX + 1);
		memcpy(msg + hlen + SIEVE_BODY_MAX + extra - 6, "needle", 6);
		src.len = hlen + SIEVE_BODY_MAX + extra;
		assert_string_equal(run_msg(script, &m), extra == 0 ? "found text" : "INBOX");
	}
	/* the header block does not count in the body's megabyte */
	char *longhead = malloc(hlen + 40000 + SIEVE_BODY_MAX + 1);
	assert_non_null(longhead);
	size_t n = (size_t)sprintf(longhead, "X-Long: ");
	memset(longhead + n, 'h', 40000);
	n += 40000;
	n += (size_t)sprintf(longhead + n, "\r\n\r\n");
	memset(longhead + n, 'a', SIEVE_BODY_MAX);
	memcpy(longhead + n + SIEVE_BODY_MAX - 6, "needle", 6);
	struct body_src lsrc = { longhead, n + SIEVE_BODY_MAX, 0, false };
	struct sieve_message lm = msg_body(&lsrc);
	assert_string_equal(run_msg(script, &lm), "found text");
	free(longhead);

	/* a 64 MiB message: only its first megabyte is looked at */
	memset(msg + hlen, 'a', big);
	memcpy(msg + hlen + big - 6, "needle", 6);
	src.len = hlen + big;
	clock_t start = clock();
	assert_string_equal(run_msg(script, &m), "INBOX");
	/* "aaa...ab" against a megabyte of "a": linear, not 4096 x 1 MiB */
	char *key = malloc(SIEVE_STRING_MAX + 256);
	assert_non_null(key);
	n = (size_t)sprintf(key, "require \"body\"; if body :raw :contains \"");
	memset(key + n, 'a', SIEVE_STRING_MAX - 1);
	strcpy(key + n + SIEVE_STRING_MAX - 1, "b\" { discard; }");
	assert_string_equal(run_msg(key, &m), "INBOX");
	free(key);
	double t = seconds_since(start);
	if (t > 2.0)
		fail_msg("body tests on a 64 MiB message took %.2f s", t);
	/* :matches on a megabyte against a long key: past the work budget */
	start = clock();
	const char *out = run_msg("require \"body\"; if body :raw :matches \"*a*a*a*a*a*a*a*a*a*a*"
				  "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*"
				  "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*"
				  "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\" { discard; }", &m);
	static const char want[] = "FAILED INBOX (more matching work than";
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("a :matches over the budget: %s", out);
	t = seconds_since(start);
	if (t > 2.0)
		fail_msg("a :matches over the budget took %.2f s", t);
	free(msg);

	/* SIEVE_BODY_PARTS_MAX parts, root included: child 255 is seen, 256 not */
	size_t size = 300 * 64 + 256;
	char *parts = malloc(size);
	assert_non_null(parts);
	n = (size_t)sprintf(parts, "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	for (int i = 1; i <= 300; i++)
		n += (size_t)sprintf(parts + n, "--x\r\n\r\npart-%d.\r\n", i);
	n += (size_t)sprintf(parts + n, "--x--\r\n");
	assert_true(n < size);
	BT("body :contains \"part-255.\"", parts);
	BF("body :contains \"part-256.\"", parts);
	BT("body :count \"eq\" \"255\"", parts);
	/* what is beyond the limit stays raw inside the last part seen */
	BT("body :raw :contains \"part-300.\"", parts);
	free(parts);
}

static void test_limits(void **state)
{
	(void)state;
	char error[SIEVE_ERROR_MAX];
	size_t size = SIEVE_SCRIPT_MAX + 4096;
	char *s = malloc(size);
	assert_non_null(s);

	/* SIEVE_SCRIPT_MAX: at, and one past */
	memset(s, ' ', SIEVE_SCRIPT_MAX);
	memcpy(s, "keep;", 5);
	struct sieve_script *sc = sieve_compile(s, SIEVE_SCRIPT_MAX, error);
	assert_non_null(sc);
	sieve_script_free(sc);
	assert_null(sieve_compile(s, SIEVE_SCRIPT_MAX + 1, error));
	assert_string_equal(error, "line 1: script longer than 65536 octets");

	/* SIEVE_STRING_MAX, quoted and text: */
	size_t n = (size_t)sprintf(s, "if header \"x\" \"");
	memset(s + n, 'a', SIEVE_STRING_MAX);
	strcpy(s + n + SIEVE_STRING_MAX, "\" { }");
	sc = sieve_compile(s, strlen(s), error);
	assert_non_null(sc);
	sieve_script_free(sc);
	n = (size_t)sprintf(s, "if header \"x\" \"");
	memset(s + n, 'a', SIEVE_STRING_MAX + 1);
	strcpy(s + n + SIEVE_STRING_MAX + 1, "\" { }");
	assert_null(sieve_compile(s, strlen(s), error));
	assert_string_equal(error, "line 1: string longer than 4096 octets");
	n = (size_t)sprintf(s, "if header \"x\" text:\n");
	memset(s + n, 'a', SIEVE_STRING_MAX - 1);
	strcpy(s + n + SIEVE_STRING_MAX - 1, "\n.\n { }");
	sc = sieve_compile(s, strlen(s), error);
	assert_non_null(sc);
	sieve_script_free(sc);
	s[n] = 'b';
	memset(s + n, 'a', SIEVE_STRING_MAX);
	strcpy(s + n + SIEVE_STRING_MAX, "\n.\n { }");
	assert_null(sieve_compile(s, strlen(s), error));
	assert_string_equal(error, "line 1: string longer than 4096 octets");

	/* SIEVE_LIST_MAX */
	for (int over = 0; over <= 1; over++) {
		n = (size_t)sprintf(s, "if header \"x\" [");
		for (int i = 0; i < SIEVE_LIST_MAX + over; i++)
			n += (size_t)sprintf(s + n, "%s\"%d\"", i > 0 ? "," : "", i);
		strcpy(s + n, "] { discard; }");
		sc = sieve_compile(s, strlen(s), error);
		if (over) {
			assert_null(sc);
			assert_string_equal(error, "line 1: string list longer than 256");
		} else {
			assert_non_null(sc);
			sieve_script_free(sc);
			assert_string_equal(run_hdr(s, "X: 255\r\n"), "");
		}
	}

	/* SIEVE_DEPTH_MAX: nested blocks, nested tests */
	for (int depth = SIEVE_DEPTH_MAX - 1; depth <= SIEVE_DEPTH_MAX; depth++) {
		n = 0;
		for (int i = 0; i < depth; i++)
			n += (size_t)sprintf(s + n, "if true {");
		n += (size_t)sprintf(s + n, "discard;");
		for (int i = 0; i < depth; i++)
			n += (size_t)sprintf(s + n, "}");
		sc = sieve_compile(s, n, error);
		if (depth == SIEVE_DEPTH_MAX) {
			assert_null(sc);
			assert_string_equal(error, "line 1: nested deeper than 32");
		} else {
			assert_non_null(sc);
			sieve_script_free(sc);
			assert_string_equal(run(s), "");
		}
		n = (size_t)sprintf(s, "if ");
		for (int i = 0; i < depth - 1; i++)
			n += (size_t)sprintf(s + n, "not ");
		n += (size_t)sprintf(s + n, "%s { discard; }", depth % 2 == 0 ? "false" : "true");
		sc = sieve_compile(s, n, error);
		if (depth == SIEVE_DEPTH_MAX) {
			assert_null(sc);
			assert_string_equal(error, "line 1: nested deeper than 32");
		} else {
			assert_non_null(sc);
			sieve_script_free(sc);
			assert_string_equal(run(s), "");
		}
	}
	n = (size_t)sprintf(s, "if ");
	for (int i = 0; i < 40; i++)
		n += (size_t)sprintf(s + n, "allof(");
	assert_null(sieve_compile(s, n, error));
	assert_string_equal(error, "line 1: nested deeper than 32");

	/* SIEVE_REDIRECTS_MAX distinct addresses (repeats do not count) */
	n = (size_t)sprintf(s, "redirect \"a@b.c\";");
	for (int i = 0; i < SIEVE_REDIRECTS_MAX; i++)
		n += (size_t)sprintf(s + n, "redirect \"u%d@b.c\";", i);
	assert_string_equal(run(s), "FAILED INBOX (line 1: more than 4 redirects)");
	n = 0;
	for (int i = 0; i < SIEVE_REDIRECTS_MAX; i++)
		n += (size_t)sprintf(s + n, "redirect \"u%d@b.c\"; redirect \"u%d@b.c\";", i, i);
	assert_string_equal(run(s), "->u0@b.c ->u1@b.c ->u2@b.c ->u3@b.c");

	/* SIEVE_ACTIONS_MAX executed keep/fileinto/redirect */
	n = (size_t)sprintf(s, "require [\"fileinto\", \"imap4flags\"]; addflag \"x\";\n");
	for (int i = 0; i < SIEVE_ACTIONS_MAX - 1; i++)
		n += (size_t)sprintf(s + n, "fileinto \"f%d\";", i);
	n += (size_t)sprintf(s + n, "keep;");
	const char *o = run(s);
	assert_int_equal(strncmp(o, "f0{x} f1{x}", 11), 0);
	assert_non_null(strstr(o, "f30{x} INBOX{x}"));
	strcpy(s + n, "keep; redirect \"a@b.c\";");
	assert_string_equal(run(s), "FAILED INBOX (line 2: more than 32 actions)");
	free(s);
}

/* ------------------------------------------------------------ date */

/* The local zone of the date tests: Europe/Berlin's rule written out
 * (+0100, +0200 from the last Sunday of March to the last of October), so
 * that no tzdata is needed. No other test reads the local zone. */
static void zone_berlin(void)
{
	assert_int_equal(setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1), 0);
	tzset();
}

#define DATE_REQ ", \"date\", \"relational\", \"comparator-i;ascii-numeric\""
#define DT(test, header) assert_true(is_true(DATE_REQ, test, header))
#define DF(test, header) assert_false(is_true(DATE_REQ, test, header))

/* Tuesday 1 December 2026, 23:05:09 UTC: Wednesday in Berlin */
#define H1 "Date: Tue, 1 Dec 2026 18:05:09 -0500\r\n\r\n"
/* RFC 5322 4.3's obsolete form: 2-digit year, no seconds, a zone name */
#define OBS "Date: 1 Dec 26 18:05 EST\r\n\r\n"
/* summer time in Berlin */
#define SUMMER "Date: Mon, 1 Jun 2026 12:00:00 +0000\r\n\r\n"
/* Saturday 4 July 2026, 16:30:00 UTC */
#define NOW 1783182600

/* Every date-part of a header date in each kind of zone; the values were
 * computed apart, with Python's datetime and zoneinfo (Europe/Berlin). */
static void test_date_parts(void **state)
{
	(void)state;
	zone_berlin();
	static const struct { const char *header, *zone, *part, *want; } cases[] = {
		{ H1, ":originalzone", "year", "2026" },
		{ H1, ":originalzone", "month", "12" },
		{ H1, ":originalzone", "day", "01" },
		{ H1, ":originalzone", "date", "2026-12-01" },
		{ H1, ":originalzone", "julian", "61375" },
		{ H1, ":originalzone", "hour", "18" },
		{ H1, ":originalzone", "minute", "05" },
		{ H1, ":originalzone", "second", "09" },
		{ H1, ":originalzone", "time", "18:05:09" },
		{ H1, ":originalzone", "iso8601", "2026-12-01T18:05:09-05:00" },
		{ H1, ":originalzone", "std11", "Tue, 01 Dec 2026 18:05:09 -0500" },
		{ H1, ":originalzone", "zone", "-0500" },
		{ H1, ":originalzone", "weekday", "2" },
		{ H1, "", "year", "2026" },
		{ H1, "", "month", "12" },
		{ H1, "", "day", "02" },
		{ H1, "", "date", "2026-12-02" },
		{ H1, "", "julian", "61376" },
		{ H1, "", "hour", "00" },
		{ H1, "", "minute", "05" },
		{ H1, "", "second", "09" },
		{ H1, "", "time", "00:05:09" },
		{ H1, "", "iso8601", "2026-12-02T00:05:09+01:00" },
		{ H1, "", "std11", "Wed, 02 Dec 2026 00:05:09 +0100" },
		{ H1, "", "zone", "+0100" },
		{ H1, "", "weekday", "3" },
		{ H1, ":zone \"+0000\"", "year", "2026" },
		{ H1, ":zone \"+0000\"", "month", "12" },
		{ H1, ":zone \"+0000\"", "day", "01" },
		{ H1, ":zone \"+0000\"", "date", "2026-12-01" },
		{ H1, ":zone \"+0000\"", "julian", "61375" },
		{ H1, ":zone \"+0000\"", "hour", "23" },
		{ H1, ":zone \"+0000\"", "minute", "05" },
		{ H1, ":zone \"+0000\"", "second", "09" },
		{ H1, ":zone \"+0000\"", "time", "23:05:09" },
		{ H1, ":zone \"+0000\"", "iso8601", "2026-12-01T23:05:09Z" },
		{ H1, ":zone \"+0000\"", "std11", "Tue, 01 Dec 2026 23:05:09 +0000" },
		{ H1, ":zone \"+0000\"", "zone", "+0000" },
		{ H1, ":zone \"+0000\"", "weekday", "2" },
		{ H1, ":zone \"+0530\"", "year", "2026" },
		{ H1, ":zone \"+0530\"", "month", "12" },
		{ H1, ":zone \"+0530\"", "day", "02" },
		{ H1, ":zone \"+0530\"", "date", "2026-12-02" },
		{ H1, ":zone \"+0530\"", "julian", "61376" },
		{ H1, ":zone \"+0530\"", "hour", "04" },
		{ H1, ":zone \"+0530\"", "minute", "35" },
		{ H1, ":zone \"+0530\"", "second", "09" },
		{ H1, ":zone \"+0530\"", "time", "04:35:09" },
		{ H1, ":zone \"+0530\"", "iso8601", "2026-12-02T04:35:09+05:30" },
		{ H1, ":zone \"+0530\"", "std11", "Wed, 02 Dec 2026 04:35:09 +0530" },
		{ H1, ":zone \"+0530\"", "zone", "+0530" },
		{ H1, ":zone \"+0530\"", "weekday", "3" },
		{ H1, ":zone \"-1000\"", "year", "2026" },
		{ H1, ":zone \"-1000\"", "month", "12" },
		{ H1, ":zone \"-1000\"", "day", "01" },
		{ H1, ":zone \"-1000\"", "date", "2026-12-01" },
		{ H1, ":zone \"-1000\"", "julian", "61375" },
		{ H1, ":zone \"-1000\"", "hour", "13" },
		{ H1, ":zone \"-1000\"", "minute", "05" },
		{ H1, ":zone \"-1000\"", "second", "09" },
		{ H1, ":zone \"-1000\"", "time", "13:05:09" },
		{ H1, ":zone \"-1000\"", "iso8601", "2026-12-01T13:05:09-10:00" },
		{ H1, ":zone \"-1000\"", "std11", "Tue, 01 Dec 2026 13:05:09 -1000" },
		{ H1, ":zone \"-1000\"", "zone", "-1000" },
		{ H1, ":zone \"-1000\"", "weekday", "2" },
		{ OBS, ":originalzone", "year", "2026" },
		{ OBS, ":originalzone", "month", "12" },
		{ OBS, ":originalzone", "day", "01" },
		{ OBS, ":originalzone", "date", "2026-12-01" },
		{ OBS, ":originalzone", "julian", "61375" },
		{ OBS, ":originalzone", "hour", "18" },
		{ OBS, ":originalzone", "minute", "05" },
		{ OBS, ":originalzone", "second", "00" },
		{ OBS, ":originalzone", "time", "18:05:00" },
		{ OBS, ":originalzone", "iso8601", "2026-12-01T18:05:00-05:00" },
		{ OBS, ":originalzone", "std11", "Tue, 01 Dec 2026 18:05:00 -0500" },
		{ OBS, ":originalzone", "zone", "-0500" },
		{ OBS, ":originalzone", "weekday", "2" },
		{ OBS, "", "year", "2026" },
		{ OBS, "", "month", "12" },
		{ OBS, "", "day", "02" },
		{ OBS, "", "date", "2026-12-02" },
		{ OBS, "", "julian", "61376" },
		{ OBS, "", "hour", "00" },
		{ OBS, "", "minute", "05" },
		{ OBS, "", "second", "00" },
		{ OBS, "", "time", "00:05:00" },
		{ OBS, "", "iso8601", "2026-12-02T00:05:00+01:00" },
		{ OBS, "", "std11", "Wed, 02 Dec 2026 00:05:00 +0100" },
		{ OBS, "", "zone", "+0100" },
		{ OBS, "", "weekday", "3" },
		{ SUMMER, "", "year", "2026" },
		{ SUMMER, "", "month", "06" },
		{ SUMMER, "", "day", "01" },
		{ SUMMER, "", "date", "2026-06-01" },
		{ SUMMER, "", "julian", "61192" },
		{ SUMMER, "", "hour", "14" },
		{ SUMMER, "", "minute", "00" },
		{ SUMMER, "", "second", "00" },
		{ SUMMER, "", "time", "14:00:00" },
		{ SUMMER, "", "iso8601", "2026-06-01T14:00:00+02:00" },
		{ SUMMER, "", "std11", "Mon, 01 Jun 2026 14:00:00 +0200" },
		{ SUMMER, "", "zone", "+0200" },
		{ SUMMER, "", "weekday", "1" },
	};
	char test[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(test, sizeof(test), "date %s :is \"date\" \"%s\" \"%s\"", cases[i].zone,
			 cases[i].part, cases[i].want);
		if (!is_true(DATE_REQ, test, cases[i].header))
			fail_msg("false: %s on %s", test, cases[i].header);
		/* one value, not a list of them: :count says 1 */
		snprintf(test, sizeof(test), "date %s :count \"eq\" \"date\" \"%s\" \"1\"", cases[i].zone,
			 cases[i].part);
		if (!is_true(DATE_REQ, test, cases[i].header))
			fail_msg("false: %s on %s", test, cases[i].header);
	}
	/* :zone "-0000" is zero, and zero is written "+0000" */
	DT("date :zone \"-0000\" \"date\" \"zone\" \"+0000\"", H1);
	DT("date :zone \"-0000\" \"date\" \"hour\" \"23\"", H1);
	/* date-part names in any case, as tags; header names too */
	DT("date :originalzone \"DATE\" \"WeekDay\" \"2\"", H1);
	/* :contains and :matches on the string, comparators as header's */
	DT("date :originalzone :matches \"date\" \"std11\" \"Tue, * -0500\"", H1);
	DF("date :originalzone :matches \"date\" \"std11\" \"Wed, *\"", H1);
	DT("date :contains \"date\" \"iso8601\" \"T00:05\"", H1);
	DT("date :zone \"+0000\" :matches \"date\" \"iso8601\" \"*Z\"", H1);
	DT("date :zone \"+0000\" :is :comparator \"i;octet\" \"date\" \"iso8601\" \"2026-12-01T23:05:09Z\"",
	   H1);
	DF("date :zone \"+0000\" :is :comparator \"i;octet\" \"date\" \"iso8601\" \"2026-12-01t23:05:09z\"",
	   H1);
	DT("date :zone \"+0000\" :is \"date\" \"iso8601\" \"2026-12-01t23:05:09z\"", H1);
	DT("date :originalzone :is \"date\" \"hour\" [\"17\", \"18\"]", H1);
	/* a new year in the local zone only */
	DT("date :is \"date\" \"year\" \"2027\"", "Date: Thu, 31 Dec 2026 23:30:00 +0000\r\n\r\n");
	DT("date :originalzone :is \"date\" \"year\" \"2026\"",
	   "Date: Thu, 31 Dec 2026 23:30:00 +0000\r\n\r\n");
	/* comments, a folded field, a named zone of the common broken kind */
	DT("date :originalzone \"date\" \"time\" \"18:05:09\"",
	   "Date: Tue, 1 Dec 2026 (x)\r\n 18:05:09 +0100 (CET)\r\n\r\n");
	DT("date :originalzone \"date\" \"zone\" \"+0100\"", "Date: Tue, 1 Dec 2026 18:05:09 CET\r\n\r\n");
	/* RFC 5260 4's example: a Received: field's date after its last ";" */
	const char *rcvd = "Received: from a.example by b.example; Sun, 29 Nov 2026 10:00:00 +0000\r\n"
			   "Received: from c.example; Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\n";
	DT("anyof (date :is \"received\" \"weekday\" \"0\", date :is \"received\" \"weekday\" \"6\")", rcvd);
	DT("date :originalzone \"received\" \"date\" \"2026-11-29\"", rcvd);
	DF("date \"received\" \"date\" \"2026-11-30\"", rcvd);
	DF("date \"received\" \"weekday\" \"0\"", "Received: from a; x\r\n\r\n");
}

/* date reads the first field of its name alone (RFC 5260 4; no "index"
 * needed); a missing or unparsable date is no value, not an error. */
static void test_date_missing(void **state)
{
	(void)state;
	zone_berlin();
	const char *two = "Date: Tue, 1 Dec 2026 18:05:09 +0100\r\nDate: Fri, 1 Jan 2027 10:00:00 +0100\r\n\r\n";
	DT("date :originalzone \"date\" \"date\" \"2026-12-01\"", two);
	DF("date :originalzone \"date\" \"date\" \"2027-01-01\"", two);
	DT("date :count \"eq\" \"date\" \"year\" \"1\"", two);
	/* the first field is no date: the second is not read */
	const char *bad_first = "Date: next Tuesday\r\nDate: Fri, 1 Jan 2027 10:00:00 +0100\r\n\r\n";
	DF("date :matches \"date\" \"date\" \"*\"", bad_first);
	DT("date :count \"eq\" \"date\" \"year\" \"0\"", bad_first);
	/* no Date: field at all */
	DF("date :matches \"date\" \"date\" \"*\"", HDR);
	DF("date :value \"ge\" \"date\" \"year\" \"0000\"", HDR);
	DT("not date :is \"date\" \"year\" \"2026\"", HDR);
	DT("date :count \"eq\" \"date\" \"year\" \"0\"", HDR);
	DT("date :count \"eq\" \"x-date\" \"year\" \"0\"", "");
	/* dates that are none: garbage, 31 November, 24:00, a 1-digit minute */
	static const char *const bad[] = {
		"Date: yesterday\r\n\r\n", "Date:\r\n\r\n", "Date: Tue, 31 Nov 2026 10:00:00 +0000\r\n\r\n",
		"Date: Tue, 1 Dec 2026 24:00:00 +0000\r\n\r\n", "Date: Tue, 1 Dec 2026 10:0:00 +0000\r\n\r\n",
		"Date: 29 Feb 2026 10:00 +0000\r\n\r\n", "Date: Tue, 1 Dec 2026\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (is_true(DATE_REQ, "date :matches \"date\" \"std11\" \"*\"", bad[i]))
			fail_msg("a date in %s", bad[i]);
		assert_true(is_true(DATE_REQ, "date :count \"eq\" \"date\" \"std11\" \"0\"", bad[i]));
	}
	/* a value of DATETIME_INPUT_MAX (256) octets is read, one more is not */
	char h[512];
	for (int over = 0; over <= 1; over++) {
		int n = snprintf(h, sizeof(h), "Date:Tue, 1 Dec 2026 18:05:09 +0100 (");
		int pad = 256 - (n - 5) - 1 + over;
		memset(h + n, 'x', (size_t)pad);
		strcpy(h + n + pad, ")\r\n\r\n");
		assert_int_equal(strlen(h), 5 + 256 + over + 4);
		assert_int_equal(is_true(DATE_REQ, "date :originalzone \"date\" \"hour\" \"18\"", h), !over);
	}
}

/* julian (Modified Julian Day: days since 1858-11-17; MJD 51544 is
 * 2000-01-01) and weekday (0 is Sunday) over a week and at the ends. */
static void test_date_julian_weekday(void **state)
{
	(void)state;
	static const struct { const char *date, *mjd, *weekday; } days[] = {
		{ "17 Nov 1858", "0", "3" }, { "16 Nov 1858", "-1", "2" },
		{ "1 Jan 1970", "40587", "4" }, { "1 Jan 2000", "51544", "6" },
		{ "29 Feb 2000", "51603", "2" },
		{ "29 Nov 2026", "61373", "0" }, { "30 Nov 2026", "61374", "1" },
		{ "1 Dec 2026", "61375", "2" }, { "2 Dec 2026", "61376", "3" },
		{ "3 Dec 2026", "61377", "4" }, { "4 Dec 2026", "61378", "5" },
		{ "5 Dec 2026", "61379", "6" }, { "6 Dec 2026", "61380", "0" },
		{ "1 Jan 0001", "-678575", "1" }, { "31 Dec 9999", "2973483", "5" },
	};
	char header[128], test[128];
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		snprintf(header, sizeof(header), "Date: %s 12:00:00 +0000\r\n\r\n", days[i].date);
		snprintf(test, sizeof(test), "date :originalzone \"date\" \"julian\" \"%s\"", days[i].mjd);
		if (!is_true(DATE_REQ, test, header))
			fail_msg("false: %s on %s", test, header);
		snprintf(test, sizeof(test), "date :originalzone \"date\" \"weekday\" \"%s\"",
			 days[i].weekday);
		if (!is_true(DATE_REQ, test, header))
			fail_msg("false: %s on %s", test, header);
	}
	/* the date-part of the zone's date: Sunday in UTC, Monday east of it */
	DT("date :zone \"+1300\" \"date\" \"julian\" \"61374\"", "Date: 29 Nov 2026 12:00 +0000\r\n\r\n");
	DT("date :zone \"+1300\" \"date\" \"weekday\" \"1\"", "Date: 29 Nov 2026 12:00 +0000\r\n\r\n");
	/* julian compares as a number with i;ascii-numeric */
	DT("date :originalzone :value \"gt\" :comparator \"i;ascii-numeric\" \"date\" \"julian\" \"9999\"",
	   "Date: 29 Nov 2026 12:00 +0000\r\n\r\n");
}

/* :value and :count (RFC 5231) on dates: fixed-width parts compare as
 * strings, and as numbers with i;ascii-numeric. */
static void test_date_relational(void **state)
{
	(void)state;
	zone_berlin();
	const char *h18 = "Date: Tue, 1 Dec 2026 18:05:09 +0100\r\n\r\n";
	const char *h17 = "Date: Tue, 1 Dec 2026 17:59:59 +0100\r\n\r\n";
	DT("date :zone \"+0100\" :value \"ge\" \"date\" \"hour\" \"18\"", h18);
	DF("date :zone \"+0100\" :value \"ge\" \"date\" \"hour\" \"18\"", h17);
	DT("date :zone \"+0100\" :value \"lt\" \"date\" \"hour\" \"18\"", h17);
	DF("date :zone \"+0100\" :value \"lt\" \"date\" \"hour\" \"18\"", h18);
	/* the same instant, an hour earlier at +0000 */
	DF("date :zone \"+0000\" :value \"ge\" \"date\" \"hour\" \"18\"", h18);
	DT("date :value \"ge\" \"date\" \"date\" \"2026-12-01\"", h18);
	DF("date :value \"lt\" \"date\" \"date\" \"2026-12-01\"", h18);
	DT("date :value \"lt\" \"date\" \"date\" \"2026-12-02\"", h18);
	DT("date :value \"gt\" \"date\" \"date\" \"2026-11-30\"", h18);
	DT("date :value \"le\" \"date\" \"time\" \"18:05:09\"", h18);
	DF("date :value \"lt\" \"date\" \"time\" \"18:05:09\"", h18);
	/* "9" sorts after "18" as a string, not as a number */
	DT("date :value \"lt\" \"date\" \"hour\" \"9\"", h18);
	DF("date :value \"lt\" :comparator \"i;ascii-numeric\" \"date\" \"hour\" \"9\"", h18);
	DT("date :value \"ge\" :comparator \"i;ascii-numeric\" \"date\" \"hour\" \"9\"", h18);
	DT("date :value \"eq\" :comparator \"i;ascii-numeric\" \"date\" \"minute\" \"5\"", h18);
	DT("date :value \"ne\" \"date\" \"weekday\" [\"0\", \"6\"]", h18);
	/* :count: one date that parses, none else */
	DT("date :count \"eq\" \"date\" \"date\" \"1\"", h18);
	DT("date :count \"ge\" \"date\" \"weekday\" [\"1\"]", h18);
	DF("date :count \"gt\" \"date\" \"date\" \"1\"", h18);
	assert_true(is_true_at(DATE_REQ, "currentdate :count \"eq\" \"date\" \"1\"", HDR, NOW));
}

/* currentdate (RFC 5260 5) at the run's clock: every date-part, local
 * and given zones, and the date range Roundcube's vacation form writes. */
static void test_currentdate(void **state)
{
	(void)state;
	zone_berlin();
	static const struct { const char *header, *zone, *part, *want; } cases[] = {
		{ HDR, "", "year", "2026" },
		{ HDR, "", "month", "07" },
		{ HDR, "", "day", "04" },
		{ HDR, "", "date", "2026-07-04" },
		{ HDR, "", "julian", "61225" },
		{ HDR, "", "hour", "18" },
		{ HDR, "", "minute", "30" },
		{ HDR, "", "second", "00" },
		{ HDR, "", "time", "18:30:00" },
		{ HDR, "", "iso8601", "2026-07-04T18:30:00+02:00" },
		{ HDR, "", "std11", "Sat, 04 Jul 2026 18:30:00 +0200" },
		{ HDR, "", "zone", "+0200" },
		{ HDR, "", "weekday", "6" },
		{ HDR, ":zone \"+0100\"", "year", "2026" },
		{ HDR, ":zone \"+0100\"", "month", "07" },
		{ HDR, ":zone \"+0100\"", "day", "04" },
		{ HDR, ":zone \"+0100\"", "date", "2026-07-04" },
		{ HDR, ":zone \"+0100\"", "julian", "61225" },
		{ HDR, ":zone \"+0100\"", "hour", "17" },
		{ HDR, ":zone \"+0100\"", "minute", "30" },
		{ HDR, ":zone \"+0100\"", "second", "00" },
		{ HDR, ":zone \"+0100\"", "time", "17:30:00" },
		{ HDR, ":zone \"+0100\"", "iso8601", "2026-07-04T17:30:00+01:00" },
		{ HDR, ":zone \"+0100\"", "std11", "Sat, 04 Jul 2026 17:30:00 +0100" },
		{ HDR, ":zone \"+0100\"", "zone", "+0100" },
		{ HDR, ":zone \"+0100\"", "weekday", "6" },
	};
	char test[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(test, sizeof(test), "currentdate %s :is \"%s\" \"%s\"", cases[i].zone,
			 cases[i].part, cases[i].want);
		if (!is_true_at(DATE_REQ, test, cases[i].header, NOW))
			fail_msg("false: %s", test);
		/* an hour later the hour has moved, the date not */
		static const char *const moved[] = { "hour", "time", "iso8601", "std11", NULL };
		bool same = true;
		for (int k = 0; moved[k] != NULL; k++)
			same &= strcmp(cases[i].part, moved[k]) != 0;
		if (is_true_at(DATE_REQ, test, cases[i].header, NOW + 3600) != same)
			fail_msg("an hour later: %s", test);
	}
	/* the message's Date: does not matter to currentdate */
	assert_true(is_true_at(DATE_REQ, "currentdate :is \"date\" \"2026-07-04\"", H1, NOW));
	/* 0 is the real clock */
	assert_true(is_true_at(DATE_REQ, "currentdate :value \"ge\" \"year\" \"2025\"", HDR, 0));
	assert_true(is_true_at(DATE_REQ, "currentdate :value \"lt\" \"year\" \"9999\"", HDR, 0));

	/* Roundcube's vacation between two dates, ends included, in the
	 * local zone: 1 December starts at 23:00 UTC the day before */
	static const struct { int64_t now; bool away; } range[] = {
		{ 1796079599, false }, /* 2026-11-30 23:59:59 Berlin */
		{ 1796079600, true },  /* 2026-12-01 00:00:00 */
		{ 1796904000, true },  /* 2026-12-10 13:00:00 */
		{ 1798153199, true },  /* 2026-12-24 23:59:59 */
		{ 1798153200, false }, /* 2026-12-25 00:00:00 */
		{ NOW, false },
	};
	const char *vacation =
		"require [\"date\", \"relational\", \"vacation\"];\n"
		"if allof (currentdate :value \"ge\" \"date\" \"2026-12-01\",\n"
		"          currentdate :value \"le\" \"date\" \"2026-12-24\") {\n"
		"  vacation :days 1 :subject \"Away\" \"I am away until 24 December.\";\n"
		"}";
	char error[SIEVE_ERROR_MAX];
	struct sieve_script *s = sieve_compile(vacation, strlen(vacation), error);
	if (s == NULL)
		fail_msg("%s", error);
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		struct sieve_message m = msg_with(HDR);
		struct sieve_result r;
		m.now = range[i].now;
		assert_int_equal(sieve_run(s, &m, &r), 0);
		if ((r.vacation != NULL) != range[i].away)
			fail_msg("at %lld: vacation %s", (long long)range[i].now,
				 r.vacation != NULL ? "taken" : "not taken");
		assert_string_equal(describe(&r, outbuf, sizeof(outbuf)), "INBOX");
		sieve_result_free(&r);
	}
	sieve_script_free(s);
	/* the same range at a given zone: 1 December starts at 10:00 UTC at +1400 */
	const char *at14 = "allof (currentdate :zone \"+1400\" :value \"ge\" \"date\" \"2026-12-01\", "
			   "currentdate :zone \"+1400\" :value \"le\" \"date\" \"2026-12-24\")";
	assert_false(is_true_at(DATE_REQ, at14, HDR, 1796032799)); /* 2026-11-30 09:59:59 UTC */
	assert_true(is_true_at(DATE_REQ, at14, HDR, 1796032800));
	/* Thunderbird's evening rule: 18:00 and later at +0100 */
	assert_true(is_true_at(DATE_REQ, "currentdate :zone \"+0100\" :value \"ge\" \"hour\" \"17\"", HDR,
			       NOW));
	assert_false(is_true_at(DATE_REQ, "currentdate :zone \"+0100\" :value \"ge\" \"hour\" \"18\"", HDR,
				NOW));
}

/* What does not compile, with its line. */
static void test_date_compile_errors(void **state)
{
	(void)state;
	compile_error("if date \"date\" \"year\" \"2026\" { }", "line 1: date requires require \"date\"");
	compile_error("require \"relational\";\nif currentdate :value \"ge\" \"year\" \"2026\" { }",
		      "line 2: currentdate requires require \"date\"");
	compile_error("require \"date\";\nif true {\n  if date \"date\" \"fortnight\" \"1\" { }\n}",
		      "line 3: date: unknown date-part \"fortnight\"");
	compile_error("require \"date\"; if currentdate \"years\" \"1\" { }",
		      "line 1: currentdate: unknown date-part \"years\"");
	compile_error("require \"date\"; if currentdate \"\" \"1\" { }",
		      "line 1: currentdate: unknown date-part \"\"");
	static const char *const zones[] = {
		"+2500", "abc", "+01:00", "+2400", "+0160", "0100", "+100", "+01000", "", "+01 0", "Z",
		"UTC", "-99999",
	};
	char script[128], want[160];
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		snprintf(script, sizeof(script),
			 "require \"date\";\n\nif date :zone \"%s\" \"date\" \"year\" \"1\" { }", zones[i]);
		snprintf(want, sizeof(want),
			 "line 3: invalid :zone \"%s\" (+hhmm or -hhmm expected, hours to 23)", zones[i]);
		compile_error(script, want);
		snprintf(script, sizeof(script),
			 "require \"date\"; if currentdate :zone \"%s\" \"year\" \"1\" { }", zones[i]);
		snprintf(want, sizeof(want),
			 "line 1: invalid :zone \"%s\" (+hhmm or -hhmm expected, hours to 23)", zones[i]);
		compile_error(script, want);
	}
	/* the ends of what is valid */
	assert_string_equal(run("require \"date\"; if date :zone \"+2359\" \"date\" \"year\" \"1\" { discard; }"
				" if currentdate :zone \"-2359\" \"year\" \"1\" { discard; }"), "INBOX");
	compile_error("require \"date\"; if date :zone 100 \"date\" \"year\" \"1\" { }",
		      "line 1: :zone needs a time zone offset such as \"+0100\"");
	compile_error("require \"date\"; if date :zone [\"+0100\"] \"date\" \"year\" \"1\" { }",
		      "line 1: :zone needs a time zone offset such as \"+0100\"");
	compile_error("require \"date\"; if date :zone \"+0100\" :originalzone \"date\" \"year\" \"1\" { }",
		      "line 1: date: more than one of :zone and :originalzone");
	compile_error("require \"date\"; if date :originalzone :zone \"+0100\" \"date\" \"year\" \"1\" { }",
		      "line 1: date: more than one of :zone and :originalzone");
	compile_error("require \"date\"; if date :zone \"+0100\" :zone \"+0200\" \"date\" \"year\" \"1\" { }",
		      "line 1: date: more than one of :zone and :originalzone");
	compile_error("require \"date\"; if currentdate :originalzone \"year\" \"1\" { }",
		      "line 1: currentdate: unknown tag \":originalzone\"");
	compile_error("require \"date\"; if date :index 1 \"date\" \"year\" \"1\" { }",
		      "line 1: date: unknown tag \":index\"");
	compile_error("require [\"date\", \"index\"];", "line 1: unsupported extension \"index\"");
	compile_error("require \"date\"; if date [\"date\", \"x\"] \"year\" \"1\" { }",
		      "line 1: date: a string expected, not a list");
	compile_error("require \"date\"; if date \"date\" [\"year\"] \"1\" { }",
		      "line 1: date: a string expected, not a list");
	compile_error("require \"date\"; if date \"date\" \"year\" { }", "line 1: date: missing argument");
	compile_error("require \"date\"; if currentdate \"year\" { }",
		      "line 1: currentdate: missing argument");
	compile_error("require \"date\"; if currentdate \"a\" \"b\" \"c\" { }",
		      "line 1: currentdate: too many arguments");
	compile_error("require \"date\"; if date \"da te\" \"year\" \"1\" { }",
		      "line 1: invalid header name \"da te\"");
	compile_error("require \"date\"; if date :value \"ge\" \"date\" \"year\" \"1\" { }",
		      "line 1: :value and :count requires require \"relational\"");
	compile_error("require [\"date\", \"comparator-i;ascii-numeric\"];\n"
		      "if date :matches :comparator \"i;ascii-numeric\" \"date\" \"year\" \"1\" { }",
		      "line 2: date: i;ascii-numeric cannot do :contains or :matches");
	/* a key list of SIEVE_LIST_MAX is what the other tests take, and no more */
	char *s = malloc(8192);
	assert_non_null(s);
	for (int over = 0; over <= 1; over++) {
		int n = sprintf(s, "require \"date\"; if currentdate \"year\" [");
		for (int i = 0; i < SIEVE_LIST_MAX + over; i++)
			n += sprintf(s + n, "%s\"%d\"", i > 0 ? "," : "", i);
		strcpy(s + n, "] { discard; }");
		char error[SIEVE_ERROR_MAX];
		struct sieve_script *sc = sieve_compile(s, strlen(s), error);
		if (over) {
			assert_null(sc);
			assert_string_equal(error, "line 1: string list longer than 256");
		} else {
			assert_non_null(sc);
			sieve_script_free(sc);
		}
	}
	free(s);
}


/* ------------------------------------------------------------ variables */

#define VARS "require [\"fileinto\", \"variables\", \"mailbox\", \"envelope\"]; "

/* The value of ${name} at the end of `script` (run on HDR), through
 * fileinto "v:${name}" (a "v:" mailbox is never empty). */
static const char *var_after(const char *script, const char *name)
{
	static char s[SIEVE_SCRIPT_MAX];
	snprintf(s, sizeof(s), VARS "%s fileinto \"v:${%s}\";", script, name);
	const char *o = run(s);
	if (strncmp(o, "v:", 2) != 0)
		fail_msg("unexpected result %s for %s", o, script);
	return o + 2;
}

static void test_vars_pigeonhole(void **state)
{
	(void)state;
	static const char list[] = "List-Id: Pillarbox users <users.pillarbox.example>\r\n"
				   "Subject: x\r\n\r\n";
	static const char script[] =
		"require [\"fileinto\", \"variables\", \"mailbox\", \"envelope\"];\n"
		"if header :matches \"List-Id\" \"*<*.*>\" { fileinto :create \"Lists/${2}\"; stop; }\n"
		"if envelope :matches \"to\" \"*+*@*\" { set :lower \"folder\" \"${2}\"; "
		"fileinto \"${folder}\"; }\n"
		"set \"subject\" \"x\"; if string :is \"${subject}\" \"\" { discard; }\n";
	assert_string_equal(run_hdr(script, list), "Lists/users+create");
	struct sieve_message m = msg_with("Subject: y\r\n\r\n");
	m.envelope_to = "bob+Shopping@example.com";
	assert_string_equal(run_msg(script, &m), "shopping");
	/* "lists" exists: no :create; the subaddress has no "+": INBOX */
	assert_string_equal(run_hdr(script, "List-Id: <lists.example.org>\r\n\r\n"), "Lists/lists+create");
	m.envelope_to = "bob@example.com";
	assert_string_equal(run_msg(script, &m), "INBOX");
	/* RFC 5229 3.2's examples: each "*" as short as it can be */
	assert_string_equal(run_hdr(VARS "if header :matches \"Subject\" \"[*] *\" "
				    "{ fileinto \"${1}|${2}\"; }",
				    "Subject: [acme-users] [fwd] version 1.0 is out\r\n\r\n"),
			    "acme-users|[fwd] version 1.0 is out");
	assert_string_equal(run_hdr(VARS "if address :matches [\"To\", \"Cc\"] "
				    "[\"coyote@**.com\", \"wile@**.com\"] { fileinto \"${0}|${1}|${2}\"; }",
				    "To: coyote@ACME.Example.COM\r\n\r\n"),
			    "coyote@ACME.Example.COM||ACME.Example");
	/* "?" is a wildcard too, one character (UTF-8 for the casemap) */
	assert_string_equal(run_hdr(VARS "if header :matches \"Subject\" \"?*?\" "
				    "{ fileinto \"${1}-${2}-${3}\"; }", "Subject: \xc3\xa9t\xc3\xa9\r\n\r\n"),
			    "\xc3\xa9-t-\xc3\xa9");
}

static void test_vars_modifiers(void **state)
{
	(void)state;
	/* RFC 5229 4.1's examples */
	const char *a = "set \"a\" \"juMBlEd lETteRS\";";
	char s[256];
	assert_string_equal(var_after(a, "a"), "juMBlEd lETteRS");
#define MOD(mods, want) do { \
		snprintf(s, sizeof(s), "%s set %s \"b\" \"${a}\";", a, mods); \
		assert_string_equal(var_after(s, "b"), want); \
	} while (0)
	MOD(":length", "15");
	MOD(":lower", "jumbled letters");
	MOD(":upper", "JUMBLED LETTERS");
	MOD(":upperfirst", "JuMBlEd lETteRS");
	MOD(":lowerfirst", "juMBlEd lETteRS");
	MOD(":upperfirst :lower", "Jumbled letters");
	MOD(":lower :upperfirst", "Jumbled letters");
	MOD(":lowerfirst :upper", "jUMBLED LETTERS");
	MOD(":upper :lowerfirst", "jUMBLED LETTERS");
	MOD(":length :upper", "15");
	MOD(":UPPER", "JUMBLED LETTERS");
#undef MOD
	assert_string_equal(var_after("set :quotewildcard \"b\" \"Rock*\";", "b"), "Rock\\*");
	assert_string_equal(var_after("set :quotewildcard \"b\" \"a?b\\\\c*\";", "b"),
			    "a\\?b\\\\c\\*");
	/* :quotewildcard then :length: the quoted value's characters */
	assert_string_equal(var_after("set :quotewildcard :length \"b\" \"**\";", "b"), "4");
	/* :length counts characters: "Grüße" is 5 of 7 octets */
	assert_string_equal(var_after("set :length \"b\" \"Gr\xc3\xbc\xc3\x9f" "e\";", "b"), "5");
	assert_string_equal(var_after("set :length \"b\" \"\";", "b"), "0");
	/* case modifiers change US-ASCII letters only */
	assert_string_equal(var_after("set :upper \"b\" \"gr\xc3\xbc\xc3\x9f" "e\";", "b"),
			    "GR\xc3\xbc\xc3\x9f" "E");
	assert_string_equal(var_after("set :upperfirst \"b\" \"\xc3\xbc" "ber\";", "b"), "\xc3\xbc" "ber");
	/* :quotewildcard keeps :matches literal */
	assert_string_equal(run_hdr(VARS "set \"k\" \"a*\"; if header :matches \"Subject\" \"${k}\" "
				    "{ fileinto \"wild\"; }", "Subject: abc\r\n\r\n"), "wild");
	assert_string_equal(run_hdr(VARS "set :quotewildcard \"k\" \"a*\"; "
				    "if header :matches \"Subject\" \"${k}\" { fileinto \"wild\"; }",
				    "Subject: abc\r\n\r\n"), "INBOX");
	assert_string_equal(run_hdr(VARS "set :quotewildcard \"k\" \"a*\"; "
				    "if header :matches \"Subject\" \"${k}\" { fileinto \"literal\"; }",
				    "Subject: a*\r\n\r\n"), "literal");
}

static void test_vars_strings(void **state)
{
	(void)state;
	/* RFC 5229 3's examples */
	const char *c = "set \"company\" \"ACME\";";
	char s[512];
#define EXP(str, want) do { \
		snprintf(s, sizeof(s), "%s set \"r\" \"%s\";", c, str); \
		assert_string_equal(var_after(s, "r"), want); \
	} while (0)
	EXP("&%${}!", "&%${}!");
	EXP("${doh!}", "${doh!}");
	EXP("${full}", "");
	EXP("${company}", "ACME");
	EXP("${BAD${Company}", "${BADACME");
	EXP("${President, ${Company} Inc.}", "${President, ACME Inc.}");
	EXP("${COMPANY}-${cOmPaNy}", "ACME-ACME");
	EXP("${", "${");
	EXP("x${company", "x${company");
	EXP("${ company}", "${ company}");
	EXP("${1a}", "${1a}");
	/* one pass: a value is not expanded again */
	EXP("${d}", "");
	assert_string_equal(var_after("set \"d\" \"$\"; set \"e\" \"${d}{company}\"; "
				      "set \"company\" \"ACME\";", "e"), "${company}");
	/* set's name is the first spelling; any case finds it */
	assert_string_equal(var_after("set \"Name\" \"1\"; set \"NAME\" \"2\";", "name"), "2");
	/* match variables before any match: empty; ${00} is ${0} */
	assert_string_equal(var_after("set \"r\" \"[${0}${1}${9}]\";", "r"), "[]");
	assert_string_equal(run_hdr(VARS "if header :matches \"Subject\" \"*\" "
				    "{ fileinto \"${00}/${01}\"; }", "Subject: hi\r\n\r\n"), "hi/hi");
	/* without require "variables" nothing expands */
	assert_string_equal(run("require \"fileinto\"; fileinto \"${x}\";"), "${x}");
	assert_string_equal(run_hdr("require \"fileinto\"; if header :is \"Subject\" \"${x}\" "
				    "{ fileinto \"lit\"; }", "Subject: ${x}\r\n\r\n"), "lit");
	/* expansion in the flag commands, :flags, redirect, header names */
	assert_string_equal(run("require [\"variables\", \"imap4flags\", \"fileinto\"]; "
				"set \"f\" \"\\\\Seen\"; addflag \"${f} x\"; "
				"fileinto :flags \"${f} k\" \"a\"; keep;"), "a{\\Seen k} INBOX{\\Seen x}");
	assert_string_equal(run(VARS "set \"d\" \"example.net\"; redirect \"u@${d}\";"),
			    "->u@example.net");
	assert_string_equal(run(VARS "set \"h\" \"x-spam-score\"; "
				"if header :is \"${h}\" \"12\" { fileinto \"h\"; }"), "h");
	assert_string_equal(run(VARS "set \"h\" \"subject\"; "
				"if address :is \"${h}\" \"x\" { fileinto \"h\"; }"), "INBOX");
	assert_string_equal(run(VARS "set \"m\" \"inbox\"; if mailboxexists \"${m}\" "
				"{ fileinto \"${m}\"; }"), "INBOX");
	/* the string test */
	assert_string_equal(var_after("set \"r\" \"n\"; if string :is \"${x}\" \"\" "
				      "{ set \"r\" \"y\"; }", "r"), "y");
	assert_string_equal(var_after("set \"r\" \"n\"; set \"a\" \"Hello\"; "
				      "if string :contains [\"x\", \"${a}\"] \"ELL\" { set \"r\" \"y\"; }",
				      "r"), "y");
	assert_string_equal(var_after("set \"r\" \"n\"; set \"a\" \"Hello\"; "
				      "if string :comparator \"i;octet\" :is \"${a}\" \"hello\" "
				      "{ set \"r\" \"y\"; }", "r"), "n");
	/* RFC 5229 5: an empty string counts 0 */
	assert_string_equal(run("require [\"variables\", \"relational\", \"fileinto\"]; "
				"if string :count \"eq\" [\"a\", \"\", \"${no}\", \"b\"] \"2\" "
				"{ fileinto \"two\"; }"), "two");
	assert_string_equal(run("require [\"variables\", \"relational\", \"fileinto\", "
				"\"comparator-i;ascii-numeric\"]; set \"n\" \"12\"; "
				"if string :value \"gt\" :comparator \"i;ascii-numeric\" \"${n}\" \"9\" "
				"{ fileinto \"gt\"; }"), "gt");
}

static void test_vars_match_vars(void **state)
{
	(void)state;
	/* a failed :matches leaves them; a successful one replaces them all */
	assert_string_equal(run_hdr(VARS "if header :matches \"Subject\" \"*-*\" { } "
				    "if header :matches \"Subject\" \"*+*\" { } "
				    "fileinto \"${0}|${1}|${2}\";", "Subject: ab-cd\r\n\r\n"), "ab-cd|ab|cd");
	assert_string_equal(run_hdr(VARS "if header :matches \"Subject\" \"*-*\" { } "
				    "if string :matches \"x\" \"?\" { } "
				    "fileinto \"${0}|${1}|${2}\";", "Subject: ab-cd\r\n\r\n"), "x|x|");
	/* other match types do not set them */
	assert_string_equal(run_hdr(VARS "if header :matches \"Subject\" \"*-*\" { } "
				    "if header :contains \"Subject\" \"b\" { } "
				    "if header :is \"Subject\" \"ab-cd\" { } "
				    "fileinto \"${1}\";", "Subject: ab-cd\r\n\r\n"), "ab");
	/* the first value and key that match; a key's own ${1} expands
	 * before the match */
	assert_string_equal(run_hdr(VARS "if string :matches \"k\" \"?\" { } "
				    "if header :matches \"X\" [\"z*\", \"${1}*\"] { fileinto \"${1}\"; }",
				    "X: a1\r\nX: k2\r\nX: k3\r\n\r\n"), "2");
	/* anyof stops at the first true test (RFC 5229 3.2) */
	assert_string_equal(run_hdr(VARS "if anyof (true, header :matches \"Subject\" \"*\") { } "
				    "fileinto \"[${0}]\";", "Subject: hi\r\n\r\n"), "[]");
	/* past the ninth wildcard: not kept */
	assert_string_equal(run_hdr(VARS "if header :matches \"Subject\" \"??????????*\" "
				    "{ fileinto \"${9}${0}\"; }", "Subject: 0123456789ab\r\n\r\n"),
			    "80123456789ab");
	/* body and date :matches set them too */
	assert_string_equal(run_hdr("require [\"variables\", \"date\", \"fileinto\"]; "
				    "if date :matches \"date\" \"year\" \"??*\" { fileinto \"${1}${2}${3}\"; }",
				    "Date: Tue, 01 Dec 2026 18:05:09 +0000\r\n\r\n"), "2026");
}

static void test_vars_fileinto(void **state)
{
	(void)state;
	/* an expansion that is no valid name fails the run, as the written
	 * name does not compile */
	compile_error(VARS "fileinto \"\";", "line 1: invalid mailbox name \"\"");
	assert_string_equal(run(VARS "fileinto \"${empty}\";"),
			    "FAILED INBOX (line 1: fileinto: invalid mailbox name after expansion)");
	assert_string_equal(run_hdr(VARS "if header :matches \"Subject\" \"x*\" { fileinto \"${1}\"; }",
				    "Subject: x\r\n\r\n"),
			    "FAILED INBOX (line 1: fileinto: invalid mailbox name after expansion)");
	/* a control character from the header: as a written one would be */
	compile_error(VARS "fileinto \"a\tb\";", "line 1: invalid mailbox name \"a\tb\"");
	assert_string_equal(run(VARS "set \"nl\" text:\n\n.\n;\nfileinto \"a${nl}b\";"),
			    "FAILED INBOX (line 5: fileinto: invalid mailbox name after expansion)");
	assert_string_equal(run(VARS "set \"m\" \"iNbOx\"; fileinto \"${m}\";"), "INBOX");
	assert_string_equal(run(VARS "set \"m\" \"Junk\"; fileinto :create \"${m}\";"), "Junk");
	assert_string_equal(run(VARS "redirect \"${nobody}\";"),
			    "FAILED INBOX (line 1: redirect: invalid address after expansion)");
}

static void test_vars_vacation(void **state)
{
	(void)state;
	char error[SIEVE_ERROR_MAX];
	static const char script[] =
		"require [\"vacation\", \"variables\"];\n"
		"if header :matches \"Subject\" \"*\" { set \"s\" \"${1}\"; }\n"
		"set \"me\" \"bob\";\n"
		"vacation :subject \"Re: ${s}\" :from \"${me}@example.com\" "
		":addresses [\"${me}@example.net\"] \"Away, ${me}.\";";
	struct sieve_script *s = sieve_compile(script, strlen(script), error);
	assert_non_null(s);
	struct sieve_message m = msg_with("Subject: lunch\r\n\r\n");
	struct sieve_result r;
	assert_int_equal(sieve_run(s, &m, &r), 0);
	assert_non_null(r.vacation);
	assert_string_equal(r.vacation->subject, "Re: lunch");
	assert_string_equal(r.vacation->from, "bob@example.com");
	assert_int_equal(r.vacation->naddresses, 1);
	assert_string_equal(r.vacation->addresses[0], "bob@example.net");
	assert_string_equal(r.vacation->reason, "Away, bob.");
	sieve_result_free(&r);
	sieve_script_free(s);
	/* a subject of two lines after expansion fails the run */
	assert_string_equal(run("require [\"vacation\", \"variables\"]; set \"nl\" text:\n\n.\n;"
				"vacation :subject \"a${nl}b\" \"x\";"),
			    "FAILED INBOX (line 4: vacation: :subject must be one line of text "
			    "after expansion)");
	assert_string_equal(run("require [\"vacation\", \"variables\"]; vacation :from \"${x}\" \"r\";"),
			    "FAILED INBOX (line 1: vacation :from: invalid address after expansion)");
	assert_string_equal(run("require [\"vacation\", \"variables\"]; "
				"vacation :addresses [\"a@b.example\", \"${x}\"] \"r\";"),
			    "FAILED INBOX (line 1: vacation :addresses: invalid address after expansion)");
}

/* ------------------------------------------------------------ reject */

static void test_reject(void **state)
{
	(void)state;
	assert_string_equal(run("require \"reject\"; reject \"go away\";"), "reject:go away");
	assert_string_equal(run("require \"ereject\"; ereject \"go away\";"), "ereject:go away");
	assert_string_equal(run("require [\"reject\", \"ereject\"]; if false { reject \"no\"; }"),
			    "INBOX");
	assert_string_equal(run("require \"reject\"; if header :contains \"From\" \"alice\" "
				"{ reject \"not you\"; stop; } keep;"), "reject:not you");
	/* discard and the flag commands go with it; stop before it keeps */
	assert_string_equal(run("require \"reject\"; discard; reject \"x\";"), "reject:x");
	assert_string_equal(run("require [\"reject\", \"imap4flags\"]; addflag \"\\\\Seen\"; "
				"reject \"x\";"), "reject:x");
	assert_string_equal(run("require \"reject\"; stop; reject \"x\";"), "INBOX");
	/* multi-line text: CRLF as LF, an empty reason is one */
	assert_string_equal(run("require \"reject\"; reject text:\r\nNot here.\r\nBye.\r\n.\r\n;"),
			    "reject:Not here.\nBye.\n");
	assert_string_equal(run("require \"reject\"; reject \"\";"), "reject:");
}

/* RFC 5429 2.2: with keep, fileinto, redirect, vacation or a second
 * reject, in either order, the run fails (the implicit keep). */
static void test_reject_conflicts(void **state)
{
	(void)state;
	static const char *const before[][2] = {
		{ "keep;", "" },
		{ "fileinto \"Junk\";", "" },
		{ "fileinto :copy \"Junk\";", "" },
		{ "redirect \"x@example.net\";", "" },
		{ "redirect :copy \"x@example.net\";", "" },
		{ "vacation \"away\";", "" },
	};
	const char *req = "require [\"reject\", \"ereject\", \"fileinto\", \"copy\", \"vacation\"];\n";
	char script[512];
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		snprintf(script, sizeof(script), "%s%s reject \"r\";", req, before[i][0]);
		assert_string_equal(run(script), "FAILED INBOX (line 2: reject after keep, fileinto, "
					"redirect or vacation (RFC 5429 2.2))");
		snprintf(script, sizeof(script), "%sereject \"r\"; %s", req, before[i][0]);
		const char *o = run(script);
		if (strncmp(o, "FAILED INBOX (line 2: ", 22) != 0 ||
		    strstr(o, " after ereject (RFC 5429 2.2))") == NULL)
			fail_msg("%s: %s", before[i][0], o);
	}
	snprintf(script, sizeof(script), "%sreject \"a\"; ereject \"b\";", req);
	assert_string_equal(run(script), "FAILED INBOX (line 2: ereject after reject (RFC 5429 2.2))");
	snprintf(script, sizeof(script), "%sreject \"a\";\nreject \"a\";", req);
	assert_string_equal(run(script), "FAILED INBOX (line 3: reject after reject (RFC 5429 2.2))");
	/* only what the run takes counts */
	snprintf(script, sizeof(script), "%sif false { keep; } reject \"a\";", req);
	assert_string_equal(run(script), "reject:a");
}

static void test_reject_compile_errors(void **state)
{
	(void)state;
	compile_error("reject \"x\";", "line 1: reject requires require \"reject\"");
	compile_error("ereject \"x\";", "line 1: ereject requires require \"ereject\"");
	compile_error("require \"reject\";\nereject \"x\";", "line 2: ereject requires require \"ereject\"");
	compile_error("require \"reject\"; reject;", "line 1: reject: missing argument");
	compile_error("require \"reject\"; reject [\"a\", \"b\"];",
		      "line 1: reject: a string expected, not a list");
	compile_error("require \"reject\"; reject :days 1 \"a\";", "line 1: reject: unknown tag \":days\"");
	compile_error("require \"reject\"; reject \"a\" \"b\";", "line 1: reject: too many arguments");
	compile_error("require \"reject\"; reject \"\xff\";",
		      "line 1: reject: the reason must be UTF-8 text");
	compile_error("require \"reject\"; reject \"a\x01\";",
		      "line 1: reject: the reason must be UTF-8 text");
	assert_non_null(strstr(sieve_extensions(), " reject ereject"));
}

static void test_reject_variables(void **state)
{
	(void)state;
	assert_string_equal(run_hdr("require [\"reject\", \"variables\"];\n"
				    "if header :matches \"Subject\" \"*\" { reject \"No ${1}, thanks\"; }",
				    "Subject: lunch\r\n\r\n"), "reject:No lunch, thanks");
	assert_string_equal(run("require [\"ereject\", \"variables\"]; set \"who\" \"Bob\";"
				"ereject \"${who} is away\";"), "ereject:Bob is away");
	/* controls that expansion brings are taken out (tab and LF stay),
	 * so is what is no UTF-8 */
	assert_string_equal(run("require [\"reject\", \"variables\"]; set \"x\" \"a\x7f\tb\";"
				"reject \"${x}\";"), "reject:a\tb");
	assert_string_equal(run("require [\"reject\", \"variables\"]; "
				"set \"x\" \"<a\x1b[31m\xc2\x85z\xff\r\n>\"; reject \"${x}\";"),
			    "reject:<a[31mz\n>");
}

/* The reason: below, at and one past SIEVE_REJECT_MAX; cut at a character */
static void test_reject_limits(void **state)
{
	(void)state;
	char *script = malloc(SIEVE_STRING_MAX + 64), *want = malloc(SIEVE_STRING_MAX + 16);
	assert_non_null(script);
	assert_non_null(want);
	static const size_t lens[] = { SIEVE_REJECT_MAX - 1, SIEVE_REJECT_MAX, SIEVE_REJECT_MAX + 1 };
	for (size_t k = 0; k < 3; k++) {
		int n = snprintf(script, 64, "require \"reject\"; reject \"");
		memset(script + n, 'a', lens[k]);
		strcpy(script + n + lens[k], "\";");
		memcpy(want, "reject:", 7);
		size_t keep = lens[k] > SIEVE_REJECT_MAX ? SIEVE_REJECT_MAX : lens[k];
		memset(want + 7, 'a', keep);
		want[7 + keep] = '\0';
		assert_string_equal(run(script), want);
	}
	/* a two-octet character across the limit is left out whole */
	int n = snprintf(script, 64, "require \"reject\"; reject \"");
	memset(script + n, 'a', SIEVE_REJECT_MAX - 1);
	strcpy(script + n + SIEVE_REJECT_MAX - 1, "\xc3\xbc\";");
	const char *o = run(script);
	assert_int_equal(strlen(o), 7 + SIEVE_REJECT_MAX - 1);
	/* ... and one that ends at it is kept */
	memset(script + n, 'a', SIEVE_REJECT_MAX - 2);
	strcpy(script + n + SIEVE_REJECT_MAX - 2, "\xc3\xbc\";");
	o = run(script);
	assert_int_equal(strlen(o), 7 + SIEVE_REJECT_MAX);
	assert_string_equal(o + strlen(o) - 2, "\xc3\xbc");
	/* expanded past it: cut too (two 4096-octet values) */
	snprintf(script, SIEVE_STRING_MAX + 64, "require [\"reject\", \"variables\"]; set \"a\" \"%0*d\";"
		 "reject \"${a}${a}\";", 4000, 0);
	assert_int_equal(strlen(run(script)), 7 + SIEVE_REJECT_MAX);
	free(script);
	free(want);
}

/* The SMTP reply line of a reason (sieve_reject_line). */
static void test_reject_line(void **state)
{
	(void)state;
	char line[SIEVE_REJECT_LINE_MAX + 1], *long_reason = malloc(SIEVE_REJECT_MAX + 1);
	assert_string_equal(sieve_reject_line("Go away.", line), "Go away.");
	assert_string_equal(sieve_reject_line("  Not\nhere,\t\tsorry \n", line), "Not here, sorry");
	assert_string_equal(sieve_reject_line("Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80!", line),
			    "Gr??e ?!");
	assert_string_equal(sieve_reject_line("", line), "Message rejected");
	assert_string_equal(sieve_reject_line(" \n\t", line), "Message rejected");
	assert_string_equal(sieve_reject_line(NULL, line), "Message rejected");
	/* below, at and past the line's room */
	assert_non_null(long_reason);
	for (size_t len = SIEVE_REJECT_LINE_MAX - 1; len <= SIEVE_REJECT_LINE_MAX + 1; len++) {
		memset(long_reason, 'x', len);
		long_reason[len] = '\0';
		size_t got = strlen(sieve_reject_line(long_reason, line));
		assert_int_equal(got, len < SIEVE_REJECT_LINE_MAX ? len : SIEVE_REJECT_LINE_MAX);
	}
	/* a space is never the last octet */
	memset(long_reason, 'x', SIEVE_REJECT_MAX);
	long_reason[SIEVE_REJECT_LINE_MAX - 1] = ' ';
	long_reason[SIEVE_REJECT_MAX] = '\0';
	assert_int_equal(strlen(sieve_reject_line(long_reason, line)), SIEVE_REJECT_LINE_MAX - 1);
	assert_int_equal(10 + strlen(line) + 2 <= 512, 1);
	free(long_reason);
}

static void test_vars_limits(void **state)
{
	(void)state;
	char *s = malloc(SIEVE_SCRIPT_MAX), name[80];
	assert_non_null(s);
	/* variables: 128 compile, 129 do not */
	for (int over = 0; over <= 1; over++) {
		int n = sprintf(s, "require \"variables\";");
		for (int i = 0; i < 128 + over; i++)
			n += sprintf(s + n, " set \"v%d\" \"x\";", i);
		n += sprintf(s + n, " set \"V0\" \"y\";"); /* the same variable */
		char error[SIEVE_ERROR_MAX];
		struct sieve_script *sc = sieve_compile(s, strlen(s), error);
		if (over) {
			assert_null(sc);
			assert_string_equal(error, "line 1: more than 128 variables");
		} else {
			assert_non_null(sc);
			sieve_script_free(sc);
		}
	}
	/* names of 64 octets, not 65 */
	memset(name, 'n', 65);
	name[64] = '\0';
	snprintf(s, SIEVE_SCRIPT_MAX, VARS "set \"%s\" \"1\"; fileinto \"v:${%s}\";", name, name);
	assert_string_equal(run(s), "v:1");
	name[64] = 'n';
	name[65] = '\0';
	snprintf(s, SIEVE_SCRIPT_MAX, "require \"variables\"; set \"%s\" \"1\";", name);
	char want[160];
	snprintf(want, sizeof(want), "line 1: set: invalid variable name \"%.64s\"", name);
	compile_error(s, want);
	/* a value is cut at 4096 octets, at a character's start */
	int n = sprintf(s, VARS "set \"a\" \"");
	memset(s + n, 'a', 4095);
	n += 4095;
	n += sprintf(s + n, "\"; set \"b\" \"${a}b\"; set \"c\" \"${a}\xc3\xa9\"; "
		     "set :length \"lb\" \"${b}\"; set :length \"lc\" \"${c}\"; "
		     "set \"q\" \"${a}\"; set :quotewildcard :length \"lq\" \"${q}*\"; "
		     "fileinto \"${lb}/${lc}/${lq}\";");
	assert_string_equal(run(s), "4096/4095/4095");
	/* expansion: 8192 octets, not 8193 */
	n = sprintf(s, VARS "set \"a\" \"");
	memset(s + n, 'a', 4096);
	n += 4096;
	n += sprintf(s + n, "\"; set :length \"l\" \"${a}${a}\"; fileinto \"${l}\"; "
		     "set \"z\" \"${a}${a}z\";");
	assert_string_equal(run(s), "FAILED INBOX (line 1: a string longer than 8192 octets "
			    "after expansion)");
	s[n - strlen(" set \"z\" \"${a}${a}z\";")] = '\0';
	assert_string_equal(run(s), "8192");
	/* doubling: memory stays at the value limit, the run stays short */
	n = sprintf(s, VARS "set \"a\" \"ab\";");
	for (int i = 0; i < 2000; i++)
		n += sprintf(s + n, " set \"a\" \"${a}${a}\";");
	sprintf(s + n, " set :length \"l\" \"${a}\"; fileinto \"${l}\";");
	assert_string_equal(run(s), "4096");
	/* and matching the doubled values stops at the work budget */
	n = sprintf(s, VARS "set \"a\" \"ab\";");
	for (int i = 0; i < 12; i++)
		n += sprintf(s + n, " set \"a\" \"${a}${a}\";");
	for (int i = 0; i < 20; i++)
		n += sprintf(s + n, " if string :matches \"${a}\" \"*${a}x\" { }");
	const char *out = run(s);
	static const char budget[] = "FAILED INBOX (more matching work than";
	if (strncmp(out, budget, strlen(budget)) != 0)
		fail_msg("doubling and matching over the budget: %s", out);
	/* match variables: a 64 KB value is kept to 4096 octets */
	char *hdr = malloc(70000);
	assert_non_null(hdr);
	n = sprintf(hdr, "Subject: ");
	memset(hdr + n, 'x', 65000);
	strcpy(hdr + n + 65000, "\r\n\r\n");
	assert_string_equal(run_hdr(VARS "if header :matches \"subject\" \"*\" "
				    "{ set :length \"l\" \"${1}\"; fileinto \"${l}\"; }", hdr), "4096");
	free(hdr);
	free(s);
}

static void test_vars_compile_errors(void **state)
{
	(void)state;
	compile_error("set \"a\" \"b\";", "line 1: set requires require \"variables\"");
	compile_error("require \"fileinto\";\nif string \"a\" \"b\" { }",
		      "line 2: string requires require \"variables\"");
	compile_error("require \"variables\";\n\nset \"1a\" \"b\";",
		      "line 3: set: invalid variable name \"1a\"");
	compile_error("require \"variables\";\nset \"a.b\" \"b\";",
		      "line 2: set: invalid variable name \"a.b\"");
	compile_error("require \"variables\";\nset \"${a}\" \"b\";",
		      "line 2: set: invalid variable name \"${a}\"");
	compile_error("require \"variables\";\nset \"\" \"b\";",
		      "line 2: set: invalid variable name \"\"");
	compile_error("require \"variables\";\nset \"a\";", "line 2: set: missing argument");
	compile_error("require \"variables\";\nset [\"a\"] \"b\";",
		      "line 2: set: a string expected, not a list");
	compile_error("require \"variables\";\nset :lower :upper \"a\" \"b\";",
		      "line 2: set: more than one modifier of the precedence of :upper");
	compile_error("require \"variables\";\nset :upperfirst :lowerfirst \"a\" \"b\";",
		      "line 2: set: more than one modifier of the precedence of :lowerfirst");
	compile_error("require \"variables\";\nset :length :length \"a\" \"b\";",
		      "line 2: set: more than one modifier of the precedence of :length");
	compile_error("require \"variables\";\nset :quotewildcard :quotewildcard \"a\" \"b\";",
		      "line 2: set: more than one modifier of the precedence of :quotewildcard");
	compile_error("require \"variables\";\nset :frob \"a\" \"b\";", "line 2: set: unknown tag \":frob\"");
	compile_error("require \"variables\";\nset \"a\" \"${10}\";",
		      "line 2: match variable \"${10}\" past ${9}");
	compile_error("require \"variables\";\nif string \"${0010}\" \"\" { }",
		      "line 2: match variable \"${0010}\" past ${9}");
	compile_error("require [\"variables\", \"fileinto\"];\nfileinto \"${env.home}\";",
		      "line 2: variable namespace \"${env.home}\" is not supported");
	compile_error("require [\"variables\", \"fileinto\"];\nif header :is \"x\" \"${a.1.b}\" { }",
		      "line 2: variable namespace \"${a.1.b}\" is not supported");
	/* not references: literal, no error */
	assert_string_equal(run(VARS "fileinto \"${1.a}${.a}${a.}\";"), "${1.a}${.a}${a.}");
	/* without require, "${10}" is just text */
	assert_string_equal(run("require \"fileinto\"; fileinto \"${10}\";"), "${10}");
	/* names that expand are checked at run time, written ones still here */
	compile_error(VARS "if address :is \"subject\" \"x\" { }",
		      "line 1: address: \"subject\" is not an address header");
	assert_string_equal(run(VARS "if address :is \"${x}subject\" \"x\" { }"), "INBOX");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_implicit_keep),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_copy_create),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_hostile_header),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_relational),
		cmocka_unit_test(test_rfc5228_examples),
		cmocka_unit_test(test_lexer),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_vacation),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_work_budget),
		cmocka_unit_test(test_body_transforms),
		cmocka_unit_test(test_body_nested),
		cmocka_unit_test(test_body_errors),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_date_parts),
		cmocka_unit_test(test_date_missing),
		cmocka_unit_test(test_date_julian_weekday),
		cmocka_unit_test(test_date_relational),
		cmocka_unit_test(test_currentdate),
		cmocka_unit_test(test_date_compile_errors),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_reject_conflicts),
		cmocka_unit_test(test_reject_compile_errors),
		cmocka_unit_test(test_reject_variables),
		cmocka_unit_test(test_reject_limits),
		cmocka_unit_test(test_reject_line),
		cmocka_unit_test(test_vars_pigeonhole),
		cmocka_unit_test(test_vars_modifiers),
		cmocka_unit_test(test_vars_strings),
		cmocka_unit_test(test_vars_match_vars),
		cmocka_unit_test(test_vars_fileinto),
		cmocka_unit_test(test_vars_vacation),
		cmocka_unit_test(test_vars_limits),
		cmocka_unit_test(test_vars_compile_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
