/* Unit tests of cgi/sieve_rules.c: rules -> Sieve text -> the same rules
 * for every field, test and action; escaping; what is refused; every
 * generated script compiled (and some run, body tests too) by the real
 * store/sieve.c; scripts that are not ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve.h"
#include "sieve_rules.h"

static struct sieve_rule_set *set_new(void)
{
	struct sieve_rule_set *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	return s;
}

static struct sieve_rule *rule_add(struct sieve_rule_set *s, const char *name)
{
	assert_true(s->n < SIEVE_RULES_MAX);
	struct sieve_rule *r = &s->rules[s->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->enabled = true;
	return r;
}

static struct sieve_cond *cond_add(struct sieve_rule *r, enum sieve_field f, enum sieve_op op,
				   const char *value)
{
	struct sieve_cond *c = &r->conds[r->nconds++];
	memset(c, 0, sizeof(*c));
	c->field = f;
	c->op = op;
	if (f == SF_SIZE) {
		c->size = (uint32_t)atoi(value);
		c->unit = value[strlen(value) - 1];
	} else {
		snprintf(c->value, sizeof(c->value), "%s", value);
	}
	return c;
}

static void action_add(struct sieve_rule *r, enum sieve_action_kind k, const char *target)
{
	struct sieve_action *a = &r->actions[r->nactions++];
	memset(a, 0, sizeof(*a));
	a->kind = k;
	snprintf(a->target, sizeof(a->target), "%s", target != NULL ? target : "");
}

static void rules_equal(const struct sieve_rule_set *a, const struct sieve_rule_set *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct sieve_rule *x = &a->rules[i], *y = &b->rules[i];
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->enabled, y->enabled);
		assert_int_equal(x->any, y->any);
		assert_int_equal(x->stop, y->stop);
		assert_int_equal(x->nconds, y->nconds);
		assert_int_equal(x->nactions, y->nactions);
		for (size_t k = 0; k < x->nconds; k++) {
			assert_int_equal(x->conds[k].field, y->conds[k].field);
			assert_int_equal(x->conds[k].op, y->conds[k].op);
			assert_string_equal(x->conds[k].header, y->conds[k].header);
			assert_string_equal(x->conds[k].value, y->conds[k].value);
			assert_int_equal(x->conds[k].size, y->conds[k].size);
			assert_int_equal(x->conds[k].unit, y->conds[k].unit);
		}
		for (size_t k = 0; k < x->nactions; k++) {
			assert_int_equal(x->actions[k].kind, y->actions[k].kind);
			assert_string_equal(x->actions[k].target, y->actions[k].target);
		}
	}
}

/* Writes, compiles with the real Sieve compiler, reads back, compares;
 * returns the text (to free). */
static char *round_trip(const struct sieve_rule_set *s)
{
	char *text, err[SIEVE_RULES_ERROR_MAX], cerr[SIEVE_ERROR_MAX];
	size_t len;
	int r = sieve_rules_to_sieve(s, &text, &len, err);
	if (r != 0)
		fail_msg("to_sieve: %s", err);
	assert_int_equal(strlen(text), len);
	struct sieve_script *script = sieve_compile(text, len, cerr);
	if (script == NULL)
		fail_msg("does not compile: %s\n%s", cerr, text);
	sieve_script_free(script);
	struct sieve_rule_set *back = set_new();
	assert_int_equal(sieve_rules_parse(text, len, back), 1);
	rules_equal(s, back);
	free(back);
	return text;
}

/* sieve_message's message_load: the message run() was given. */
static int message_load(void *ctx, const char **data_r, size_t *len_r)
{
	*data_r = ctx;
	*len_r = strlen(ctx);
	return 0;
}

/* Runs `text` against a message (its header block, then any body):
 * "mailbox{S}" per copy (S: \Seen, F: \Flagged), "->addr" per redirect. */
static const char *run(const char *text, const char *message, uint64_t size)
{
	static char out[512];
	char cerr[SIEVE_ERROR_MAX];
	struct sieve_script *script = sieve_compile(text, strlen(text), cerr);
	assert_non_null(script);
	const char *blank = strstr(message, "\r\n\r\n");
	struct sieve_message msg = { .header = message,
				     .header_len = blank != NULL ? (size_t)(blank - message) + 4
								 : strlen(message),
				     .size = size, .envelope_from = "a@example.org",
				     .envelope_to = "me@example.com",
				     .message_load = message_load, .ctx = (void *)message };
	struct sieve_result res;
	assert_int_equal(sieve_run(script, &msg, &res), 0);
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < res.ncopies; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s%s%s", n ? " " : "",
				      res.copies[i].mailbox,
				      res.copies[i].flags & SIEVE_FLAG_SEEN ? "{S}" : "",
				      res.copies[i].flags & SIEVE_FLAG_FLAGGED ? "{F}" : "");
	for (size_t i = 0; i < res.nredirects; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s->%s", n ? " " : "",
				      res.redirects[i]);
	sieve_result_free(&res);
	sieve_script_free(script);
	return out;
}

static void test_empty_set(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	char *text = round_trip(s);
	assert_string_equal(text, "# Pillarbox filters\n");
	free(text);
	free(s);
}

/* Every field with every operator it takes, each in a rule of its own. */
static void test_every_condition(void **state)
{
	(void)state;
	static const enum sieve_op text_ops[] = { SO_CONTAINS, SO_NOT_CONTAINS, SO_IS, SO_IS_NOT,
						  SO_STARTS };
	struct sieve_rule_set *s = set_new();
	for (int f = SF_FROM; f <= SF_HEADER; f++) {
		for (size_t o = 0; o < 5; o++) {
			char name[64];
			snprintf(name, sizeof(name), "%s %s", sieve_field_word((enum sieve_field)f),
				 sieve_op_word(text_ops[o]));
			struct sieve_rule *r = rule_add(s, name);
			struct sieve_cond *c = cond_add(r, (enum sieve_field)f, text_ops[o], "x@y");
			if (f == SF_HEADER)
				strcpy(c->header, "X-Mailing-List");
			action_add(r, SA_READ, NULL);
		}
	}
	struct sieve_rule *r = rule_add(s, "sizes");
	r->any = true;
	cond_add(r, SF_SIZE, SO_OVER, "100K");
	cond_add(r, SF_SIZE, SO_UNDER, "2M");
	cond_add(r, SF_SIZE, SO_OVER, "1000000M");
	action_add(r, SA_FLAG, NULL);
	char *text = round_trip(s);
	assert_non_null(strstr(text, "\n# rule: from contains\nif allof (header :contains \"From\" \"x@y\") {\n"));
	assert_non_null(strstr(text, "if allof (not header :contains [\"To\", \"Cc\"] \"x@y\")"));
	assert_non_null(strstr(text, "if allof (address :all :is \"From\" \"x@y\")"));
	assert_non_null(strstr(text, "if allof (not address :all :is [\"To\", \"Cc\"] \"x@y\")"));
	assert_non_null(strstr(text, "if allof (address :all :matches \"From\" \"x@y*\")"));
	assert_non_null(strstr(text, "if allof (header :is \"Subject\" \"x@y\")"));
	assert_non_null(strstr(text, "if allof (not header :is \"X-Mailing-List\" \"x@y\")"));
	assert_non_null(strstr(text, "if allof (header :matches \"Subject\" \"x@y*\")"));
	assert_non_null(strstr(text, "if anyof (size :over 100K, size :under 2M, size :over 1000000M) {\n"
				     "\taddflag \"\\\\Flagged\";\n}\n"));
	assert_non_null(strstr(text, "require [\"imap4flags\"];\n"));
	free(text);
	free(s);
}

static void test_every_action(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "all of them");
	cond_add(r, SF_SUBJECT, SO_CONTAINS, "report");
	cond_add(r, SF_FROM, SO_IS, "boss@example.org");
	action_add(r, SA_READ, NULL);
	action_add(r, SA_FLAG, NULL);
	action_add(r, SA_MOVE, "Work/Reports");
	action_add(r, SA_COPY, "Archive");
	r->stop = true;
	r = rule_add(s, "forwards");
	r->any = true;
	cond_add(r, SF_TOCC, SO_CONTAINS, "list");
	action_add(r, SA_FORWARD, "friend@example.net");
	action_add(r, SA_FORWARD_KEEP, "other@example.net");
	r = rule_add(s, "spam");
	cond_add(r, SF_HEADER, SO_IS, "yes")->header[0] = '\0';
	strcpy(r->conds[0].header, "X-Spam-Flag");
	action_add(r, SA_DELETE, NULL);
	r = rule_add(s, "off");
	r->enabled = false;
	cond_add(r, SF_SUBJECT, SO_STARTS, "[off]");
	action_add(r, SA_MOVE, "Off");
	char *text = round_trip(s);
	assert_string_equal(text,
		"# Pillarbox filters\n"
		"require [\"copy\", \"fileinto\", \"imap4flags\"];\n"
		"\n# rule: all of them\n"
		"if allof (header :contains \"Subject\" \"report\", address :all :is \"From\" \"boss@example.org\") {\n"
		"\taddflag \"\\\\Seen\";\n\taddflag \"\\\\Flagged\";\n"
		"\tfileinto \"Work/Reports\";\n\tfileinto :copy \"Archive\";\n\tstop;\n}\n"
		"\n# rule: forwards\n"
		"if anyof (header :contains [\"To\", \"Cc\"] \"list\") {\n"
		"\tredirect \"friend@example.net\";\n\tredirect :copy \"other@example.net\";\n}\n"
		"\n# rule: spam\n"
		"if allof (header :is \"X-Spam-Flag\" \"yes\") {\n\tdiscard;\n}\n"
		"\n# rule: off\n"
		"if allof (false, allof (header :matches \"Subject\" \"[off]*\")) {\n"
		"\tfileinto \"Off\";\n}\n");
	/* what it does */
	assert_string_equal(run(text, "From: Boss <BOSS@example.org>\r\nSubject: Weekly Report\r\n\r\n", 10),
			    "Work/Reports{S}{F} Archive{S}{F}");
	assert_string_equal(run(text, "To: list@example.com\r\nSubject: hi\r\n\r\n", 10),
			    "->friend@example.net ->other@example.net");  /* no keep: redirect cancels it */
	assert_string_equal(run(text, "X-Spam-Flag: YES\r\n\r\n", 10), "");
	assert_string_equal(run(text, "Subject: [off] x\r\n\r\n", 10), "INBOX");
	free(text);
	free(s);
}

/* Quotes, backslashes and wildcards stay data. */
static void test_escaping(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "quote \" and \\ # } { name");
	cond_add(r, SF_SUBJECT, SO_CONTAINS, "x\" { discard; } if true { \\");
	cond_add(r, SF_SUBJECT, SO_STARTS, "a*b?c\\d\"");
	struct sieve_cond *c = cond_add(r, SF_HEADER, SO_IS, "v");
	strcpy(c->header, "X-\"Odd\\Name\"");
	action_add(r, SA_MOVE, "Fold\"er\\x");
	char *text = round_trip(s);
	assert_non_null(strstr(text, "header :contains \"Subject\" \"x\\\" { discard; } if true { \\\\\""));
	assert_non_null(strstr(text, "header :matches \"Subject\" \"a\\\\*b\\\\?c\\\\\\\\d\\\"*\""));
	assert_non_null(strstr(text, "header :is \"X-\\\"Odd\\\\Name\\\"\" \"v\""));
	assert_non_null(strstr(text, "fileinto \"Fold\\\"er\\\\x\";"));
	/* an injected discard is a string: nothing is discarded */
	assert_string_equal(run(text, "Subject: nothing\r\n\r\n", 10), "INBOX");
	/* the prefix is literal: "a*b?c\d"" and more, but not "aXb..." */
	free(text);
	free(s);

	s = set_new();
	r = rule_add(s, "literal");
	cond_add(r, SF_SUBJECT, SO_STARTS, "a*b?");
	action_add(r, SA_MOVE, "Hit");
	text = round_trip(s);
	assert_string_equal(run(text, "Subject: a*b? yes\r\n\r\n", 10), "Hit");
	assert_string_equal(run(text, "Subject: aXbY no\r\n\r\n", 10), "INBOX");
	assert_string_equal(run(text, "Subject: A*B? case\r\n\r\n", 10), "Hit");
	free(text);
	free(s);
}

static void test_utf8(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "Grüße — 日本");
	cond_add(r, SF_SUBJECT, SO_CONTAINS, "Grüße");
	action_add(r, SA_MOVE, "Privé/Écoles");
	char *text = round_trip(s);
	assert_non_null(strstr(text, "# rule: Grüße — 日本\n"));
	assert_string_equal(run(text, "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Wien\r\n\r\n", 10),
			    "Privé/Écoles");
	free(text);
	free(s);
}

/* The message text (body :text): each test it takes written, read back
 * and run; the body matches, the header alone does not. */
static void test_body(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "invoices");
	cond_add(r, SF_BODY, SO_CONTAINS, "invoice");
	action_add(r, SA_MOVE, "Bills");
	r->stop = true;
	r = rule_add(s, "letters");
	cond_add(r, SF_BODY, SO_STARTS, "Dear customer");
	action_add(r, SA_COPY, "Letters");
	r = rule_add(s, "no agenda");
	cond_add(r, SF_BODY, SO_NOT_CONTAINS, "agenda");
	cond_add(r, SF_SUBJECT, SO_CONTAINS, "meeting");
	action_add(r, SA_MOVE, "NoAgenda");
	r = rule_add(s, "off");
	r->enabled = false;
	cond_add(r, SF_BODY, SO_CONTAINS, "off");
	action_add(r, SA_DELETE, NULL);
	char *text = round_trip(s);
	assert_string_equal(text,
		"# Pillarbox filters\n"
		"require [\"body\", \"copy\", \"fileinto\"];\n"
		"\n# rule: invoices\n"
		"if allof (body :text :contains \"invoice\") {\n\tfileinto \"Bills\";\n\tstop;\n}\n"
		"\n# rule: letters\n"
		"if allof (body :text :matches \"Dear customer*\") {\n\tfileinto :copy \"Letters\";\n}\n"
		"\n# rule: no agenda\n"
		"if allof (not body :text :contains \"agenda\", header :contains \"Subject\" \"meeting\") {\n"
		"\tfileinto \"NoAgenda\";\n}\n"
		"\n# rule: off\n"
		"if allof (false, allof (body :text :contains \"off\")) {\n\tdiscard;\n}\n");
	/* the body, not the header; case does not matter; decoded */
	assert_string_equal(run(text, "Subject: Your invoice\r\n\r\nHello.\r\n", 10), "INBOX");
	assert_string_equal(run(text, "Subject: hi\r\n\r\nThe INVOICE is attached.\r\n", 10), "Bills");
	assert_string_equal(run(text, "Subject: hi\r\nContent-Transfer-Encoding: quoted-printable\r\n"
				"\r\nYour inv=\r\noice=3D7\r\n", 10), "Bills");
	assert_string_equal(run(text, "Subject: hi\r\n\r\nDear Customer, hello\r\n", 10),
			    "Letters INBOX");
	assert_string_equal(run(text, "Subject: hi\r\n\r\nHello, dear customer\r\n", 10), "INBOX");
	assert_string_equal(run(text, "Subject: meeting\r\n\r\nAgenda: 1.\r\n", 10), "INBOX");
	assert_string_equal(run(text, "Subject: meeting\r\n\r\nSee you.\r\n", 10), "NoAgenda");
	assert_string_equal(run(text, "Subject: hi\r\n\r\noff\r\n", 10), "INBOX");
	free(text);
	free(s);
}

/* "body" is required when a rule has the message text, on or off, and
 * only then; merged with the other extensions. */
static void test_body_require(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "b");
	cond_add(r, SF_BODY, SO_CONTAINS, "x");
	action_add(r, SA_DELETE, NULL);
	char *text = round_trip(s);
	assert_string_equal(text, "# Pillarbox filters\nrequire [\"body\"];\n\n# rule: b\n"
			    "if allof (body :text :contains \"x\") {\n\tdiscard;\n}\n");
	free(text);
	r->enabled = false;
	text = round_trip(s);
	assert_non_null(strstr(text, "\nrequire [\"body\"];\n"));
	free(text);
	r->conds[0].field = SF_SUBJECT;
	text = round_trip(s);
	assert_null(strstr(text, "require"));
	assert_null(strstr(text, "body"));
	free(text);
	r->conds[0].field = SF_BODY;
	r->enabled = true;
	r->actions[0].kind = SA_READ;
	action_add(r, SA_COPY, "C");
	r = rule_add(s, "no body");
	cond_add(r, SF_FROM, SO_IS, "a@b.example");
	action_add(r, SA_MOVE, "M");
	text = round_trip(s);
	assert_non_null(strstr(text, "\nrequire [\"body\", \"copy\", \"fileinto\", \"imap4flags\"];\n\n"));
	free(text);
	s->rules[0] = s->rules[1];
	s->n = 1;
	text = round_trip(s);
	assert_non_null(strstr(text, "\nrequire [\"fileinto\"];\n\n"));
	free(text);
	free(s);
}

/* A message text's quotes, backslashes and wildcards stay data. */
static void test_body_escaping(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "odd");
	r->any = true;
	cond_add(r, SF_BODY, SO_CONTAINS, "say \"hi\" \\ \") { discard; } if true { \\");
	cond_add(r, SF_BODY, SO_STARTS, "a*b?\\\"");
	action_add(r, SA_MOVE, "Hit");
	char *text = round_trip(s);
	assert_non_null(strstr(text, "body :text :contains \"say \\\"hi\\\" \\\\ \\\") { discard; } "
				     "if true { \\\\\""));
	assert_non_null(strstr(text, "body :text :matches \"a\\\\*b\\\\?\\\\\\\\\\\"*\""));
	/* the injected discard is a string; the prefix is literal */
	assert_string_equal(run(text, "Subject: x\r\n\r\nnothing here\r\n", 10), "INBOX");
	assert_string_equal(run(text, "Subject: x\r\n\r\nThey say \"HI\" \\ \") { discard; } if true "
				"{ \\ ok\r\n", 10), "Hit");
	assert_string_equal(run(text, "Subject: x\r\n\r\na*b?\\\" yes\r\n", 10), "Hit");
	assert_string_equal(run(text, "Subject: x\r\n\r\naXbY\\\" no\r\n", 10), "INBOX");
	free(text);
	free(s);
}

static void expect_refused(struct sieve_rule *r, const char *why)
{
	char err[SIEVE_RULES_ERROR_MAX];
	assert_int_equal(sieve_rule_check(r, err), -1);
	if (strstr(err, why) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, why);
	struct sieve_rule_set *s = set_new();
	s->rules[0] = *r;
	s->n = 1;
	char *text = NULL;
	size_t len;
	assert_int_equal(sieve_rules_to_sieve(s, &text, &len, err), -1);
	assert_null(text);
	assert_non_null(strstr(err, "Rule 1: "));
	free(s);
}

static struct sieve_rule *good_rule(struct sieve_rule_set *s)
{
	s->n = 0;
	struct sieve_rule *r = rule_add(s, "good");
	cond_add(r, SF_SUBJECT, SO_CONTAINS, "x");
	action_add(r, SA_MOVE, "Work");
	char err[SIEVE_RULES_ERROR_MAX];
	assert_int_equal(sieve_rule_check(r, err), 0);
	return r;
}

static void test_hostile_refused(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r;
	static const char *const bad_texts[] = { "a\rb", "a\nb", "a\tb", "\x7f", "\xc3",
						 "\xc0\xaf", "\xc2\x85", "" };
	for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
		r = good_rule(s);
		strcpy(r->conds[0].value, bad_texts[i]);
		expect_refused(r, "Condition 1: the text");
		r = good_rule(s);
		strcpy(r->name, bad_texts[i]);
		expect_refused(r, "name");
		r = good_rule(s);
		strcpy(r->actions[0].target, bad_texts[i]);
		expect_refused(r, "Action 1: choose a folder");
	}
	/* a name of 100 characters (200 octets) is fine, 101 is not */
	r = good_rule(s);
	r->name[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(r->name, "é");
	char err[SIEVE_RULES_ERROR_MAX];
	assert_int_equal(sieve_rule_check(r, err), 0);
	strcat(r->name, "x");
	expect_refused(r, "name of 1 to 100");
	/* a value of the limit, and one octet over it */
	r = good_rule(s);
	memset(r->conds[0].value, 'v', SIEVE_RULE_VALUE_MAX);
	r->conds[0].value[SIEVE_RULE_VALUE_MAX] = '\0';
	assert_int_equal(sieve_rule_check(r, err), 0);
	r->conds[0].value[SIEVE_RULE_VALUE_MAX] = 'v';   /* not terminated within */
	expect_refused(r, "the text must be");
	/* header names */
	static const char *const bad_headers[] = { "", "X Space", "X:Colon", "Ä", "Subject", "FROM" };
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		r = good_rule(s);
		r->conds[0].field = SF_HEADER;
		strcpy(r->conds[0].header, bad_headers[i]);
		expect_refused(r, "Condition 1:");
	}
	r = good_rule(s);
	strcpy(r->conds[0].header, "X-Other");    /* on the subject field */
	expect_refused(r, "header name is for");
	/* operators that do not fit the field, sizes */
	r = good_rule(s);
	r->conds[0].op = SO_OVER;
	expect_refused(r, "only the size");
	r = good_rule(s);
	r->conds[0].field = SF_BODY;
	r->conds[0].op = SO_IS;
	expect_refused(r, "Condition 1: for the message text, choose contains");
	r->conds[0].op = SO_IS_NOT;
	expect_refused(r, "Condition 1: for the message text, choose contains");
	r->conds[0].op = SO_UNDER;
	expect_refused(r, "only the size");
	r = good_rule(s);
	r->conds[0].field = SF_BODY;
	strcpy(r->conds[0].header, "X-Other");
	expect_refused(r, "header name is for");
	r = good_rule(s);
	r->conds[0] = (struct sieve_cond){ .field = SF_SIZE, .op = SO_IS, .size = 1, .unit = 'K' };
	expect_refused(r, "over or under a number");
	static const struct { uint32_t n; char unit; } bad_sizes[] = {
		{ 0, 'K' }, { SIEVE_RULE_SIZE_MAX + 1, 'K' }, { 5, 'G' }, { 5, '\0' }, { 5, 'k' } };
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		r = good_rule(s);
		r->conds[0] = (struct sieve_cond){ .field = SF_SIZE, .op = SO_OVER,
						   .size = bad_sizes[i].n, .unit = bad_sizes[i].unit };
		expect_refused(r, "give the size");
	}
	/* counts */
	r = good_rule(s);
	r->nconds = 0;
	expect_refused(r, "1 to 5 conditions");
	r->nconds = SIEVE_RULE_CONDS_MAX + 1;
	expect_refused(r, "1 to 5 conditions");
	r = good_rule(s);
	r->nactions = 0;
	expect_refused(r, "1 to 4 actions");
	/* addresses: one addr-spec */
	static const char *const bad_addrs[] = { "", "nobody", "Name <a@example.org>", "a@example.org, b@example.org",
						 "@example.org", "a@", "a@b\r\nBcc: c@d", "g: a@b;" };
	for (size_t i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		r = good_rule(s);
		r->actions[0].kind = SA_FORWARD;
		strcpy(r->actions[0].target, bad_addrs[i]);
		expect_refused(r, "Action 1: give one address");
	}
	/* delete alone; flags first; no stray targets */
	r = good_rule(s);
	action_add(r, SA_DELETE, NULL);
	expect_refused(r, "Delete discards");
	r = good_rule(s);
	action_add(r, SA_READ, NULL);
	expect_refused(r, "come before");
	r = good_rule(s);
	r->actions[0].kind = SA_FLAG;
	expect_refused(r, "no folder or address");
	free(s);
}

static void test_normalize(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "n");
	strcpy(cond_add(r, SF_HEADER, SO_CONTAINS, "a")->header, "sUbJeCt");
	strcpy(cond_add(r, SF_HEADER, SO_IS, "b@c")->header, "from");
	strcpy(cond_add(r, SF_HEADER, SO_IS, "d")->header, "To");
	action_add(r, SA_MOVE, "M");
	action_add(r, SA_FLAG, NULL);
	action_add(r, SA_COPY, "C");
	action_add(r, SA_READ, NULL);
	sieve_rule_normalize(r);
	assert_int_equal(r->conds[0].field, SF_SUBJECT);
	assert_string_equal(r->conds[0].header, "");
	assert_int_equal(r->conds[1].field, SF_FROM);
	assert_int_equal(r->conds[2].field, SF_HEADER);
	assert_string_equal(r->conds[2].header, "To");
	assert_int_equal(r->actions[0].kind, SA_FLAG);
	assert_int_equal(r->actions[1].kind, SA_READ);
	assert_int_equal(r->actions[2].kind, SA_MOVE);
	assert_string_equal(r->actions[2].target, "M");
	assert_int_equal(r->actions[3].kind, SA_COPY);
	char *text = round_trip(s);
	/* a header "To" alone is not "To or Cc" */
	assert_non_null(strstr(text, "header :is \"To\" \"d\""));
	free(text);
	free(s);
}

/* 50 rules; a 51st refused; a set too long for a script refused. */
static void test_limits(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	char err[SIEVE_RULES_ERROR_MAX];
	for (int i = 0; i < SIEVE_RULES_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "r%d", i);
		struct sieve_rule *r = rule_add(s, name);
		cond_add(r, SF_SUBJECT, SO_CONTAINS, name);
		action_add(r, SA_COPY, name);
	}
	free(round_trip(s));
	s->n = SIEVE_RULES_MAX + 1;
	char *text = NULL;
	size_t len;
	assert_int_equal(sieve_rules_to_sieve(s, &text, &len, err), -1);
	assert_non_null(strstr(err, "At most 50"));
	s->n = SIEVE_RULES_MAX;
	for (int i = 0; i < SIEVE_RULES_MAX; i++) {
		struct sieve_rule *r = &s->rules[i];
		r->nconds = 0;
		for (int k = 0; k < SIEVE_RULE_CONDS_MAX; k++) {
			struct sieve_cond *c = cond_add(r, SF_SUBJECT, SO_CONTAINS, "");
			memset(c->value, 'x', SIEVE_RULE_VALUE_MAX);
		}
	}
	assert_int_equal(sieve_rules_to_sieve(s, &text, &len, err), -1);
	assert_non_null(strstr(err, "too long"));
	free(s);
}

static int parse_str(const char *text)
{
	struct sieve_rule_set *s = set_new();
	int r = sieve_rules_parse(text, strlen(text), s);
	free(s);
	return r;
}

#define OURS "# Pillarbox filters\nrequire [\"fileinto\"];\n\n# rule: a\n" \
	"if allof (header :contains \"Subject\" \"x\") {\n\tfileinto \"W\";\n}\n"

static void test_not_ours(void **state)
{
	(void)state;
	assert_int_equal(parse_str(OURS), 1);
	static const char *const others[] = {
		"",
		"require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"W\"; }\n",
		"# Pillarbox filters\r\nrequire [\"fileinto\"];\r\n\r\n# rule: a\r\n"
		"if allof (header :contains \"Subject\" \"x\") {\r\n\tfileinto \"W\";\r\n}\r\n",
		OURS "\n",                       /* a trailing blank line */
		OURS "keep;\n",                   /* more after the rules */
		"# Pillarbox filters\nrequire [\"fileinto\", \"copy\"];\n\n# rule: a\n"
		"if allof (header :contains \"Subject\" \"x\") {\n\tfileinto \"W\";\n}\n",
		"# Pillarbox filters\nrequire [\"fileinto\"];\n\n# rule: a\n"
		"if allof (header :contains \"Subject\" \"x\") {\n    fileinto \"W\";\n}\n",
		"# Pillarbox filters\nrequire [\"fileinto\"];\n\n# rule: a\n"
		"if allof (header :contains \"subject\" \"x\") {\n\tfileinto \"W\";\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (not size :over 1K) {\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (size :over 1G) {\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (address :all :is \"Subject\" \"x\") {\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (not header :matches \"Subject\" \"x*\") {\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (header :matches \"Subject\" \"x*y*\") {\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (header :matches \"Subject\" \"x\") {\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (header :is \"Subject\" \"\\x\") {\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (header :is \"Subject\" \"x\") {\n\tdiscard;\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: \nif allof (header :is \"Subject\" \"x\") {\n\tdiscard;\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (header :is \"Subject\" \"x\") {\n}\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (header :is \"Subject\" \"x\") {\n\tdiscard;\n",
		"# Pillarbox filters\n\n# rule: a\nif allof (header :is \"Subject\" \"x",
		"# Pillarbox filters\n\n# rule: a\nif allof (header :is \"Subject\" \"x\") {\n\tstop;\n}\n",
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (parse_str(others[i]) != 0)
			fail_msg("taken as ours: %s", others[i]);
	/* a NUL inside */
	char nul[] = OURS;
	nul[strlen("# Pillarbox filters\nrequire [\"fileinto\"];\n\n# rule: ")] = '\0';
	struct sieve_rule_set *s = set_new();
	assert_int_equal(sieve_rules_parse(nul, sizeof(nul) - 1, s), 0);
	/* every prefix of ours is not ours, but for the rule-less header */
	for (size_t n = 0; n < strlen(OURS); n++)
		assert_int_equal(sieve_rules_parse(OURS, n, s), n == strlen(SIEVE_RULES_MAGIC "\n"));
	/* 51 rules */
	size_t cap = 64 * 1024, len = 0;
	char *big = malloc(cap);
	assert_non_null(big);
	len += (size_t)snprintf(big, cap, "# Pillarbox filters\n");
	for (int i = 0; i <= SIEVE_RULES_MAX; i++)
		len += (size_t)snprintf(big + len, cap - len, "\n# rule: r\nif allof (header :is "
					"\"Subject\" \"x\") {\n\tdiscard;\n}\n");
	assert_int_equal(sieve_rules_parse(big, len, s), 0);
	free(big);
	free(s);
}

#define BODY_OURS "# Pillarbox filters\nrequire [\"body\"];\n\n# rule: a\n" \
	"if allof (body :text :contains \"x\") {\n\tdiscard;\n}\n"

/* Body tests the editor does not write (:raw, :content, the default
 * transform, "is", another comparator, no require) are not read as rules. */
static void test_body_not_ours(void **state)
{
	(void)state;
	assert_int_equal(parse_str(BODY_OURS), 1);
#define BODY_RULE(TEST) "# Pillarbox filters\nrequire [\"body\"];\n\n# rule: a\nif allof (" TEST \
	") {\n\tdiscard;\n}\n"
	static const char *const others[] = {
		BODY_RULE("body :raw :contains \"x\""),
		BODY_RULE("body :content \"text\" :contains \"x\""),
		BODY_RULE("body :content [\"text/plain\"] :contains \"x\""),
		BODY_RULE("body :contains \"x\""),
		BODY_RULE("body :text :is \"x\""),
		BODY_RULE("not body :text :is \"x\""),
		BODY_RULE("body :comparator \"i;octet\" :text :contains \"x\""),
		BODY_RULE("body :text :contains [\"x\", \"y\"]"),
		BODY_RULE("body :text :contains \"From\" \"x\""),
		BODY_RULE("not body :text :matches \"x*\""),
		BODY_RULE("body :text :matches \"x\""),
		BODY_RULE("body :text :matches \"x*y*\""),
		BODY_RULE("body :text :contains \"\""),
		/* the require line must be the writer's */
		"# Pillarbox filters\n\n# rule: a\nif allof (body :text :contains \"x\") {\n\tdiscard;\n}\n",
		"# Pillarbox filters\nrequire [\"body\"];\n\n# rule: a\n"
		"if allof (header :contains \"Subject\" \"x\") {\n\tdiscard;\n}\n",
	};
#undef BODY_RULE
	char cerr[SIEVE_ERROR_MAX];
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (parse_str(others[i]) != 0)
			fail_msg("taken as ours: %s", others[i]);
		/* most are good Sieve: a script that would run, shown as text */
		struct sieve_script *script = sieve_compile(others[i], strlen(others[i]), cerr);
		if (i < 4 && script == NULL)
			fail_msg("does not compile: %s\n%s", cerr, others[i]);
		sieve_script_free(script);
	}
}

/* "Reject with message" (RFC 5429): written as reject "text" with require
 * "reject", read back exactly so, alone in its rule, which stops. */
static void test_reject(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "no ads");
	cond_add(r, SF_SUBJECT, SO_CONTAINS, "offer");
	action_add(r, SA_REJECT, "No \"offers\", thanks \\ bye.");
	sieve_rule_normalize(r);
	assert_true(r->stop);
	r = rule_add(s, "work");
	cond_add(r, SF_FROM, SO_CONTAINS, "boss");
	action_add(r, SA_MOVE, "Work");
	char *text = round_trip(s);
	assert_string_equal(text,
		"# Pillarbox filters\n"
		"require [\"fileinto\", \"reject\"];\n"
		"\n# rule: no ads\n"
		"if allof (header :contains \"Subject\" \"offer\") {\n"
		"\treject \"No \\\"offers\\\", thanks \\\\ bye.\";\n\tstop;\n}\n"
		"\n# rule: work\n"
		"if allof (header :contains \"From\" \"boss\") {\n\tfileinto \"Work\";\n}\n");
	/* what it does: the reason as written, nothing kept */
	char cerr[SIEVE_ERROR_MAX];
	struct sieve_script *script = sieve_compile(text, strlen(text), cerr);
	assert_non_null(script);
	struct sieve_message msg = { .header = "Subject: an offer\r\n\r\n", .header_len = 21,
				     .envelope_from = "a@example.org" };
	struct sieve_result res;
	assert_int_equal(sieve_run(script, &msg, &res), 0);
	assert_int_equal(res.ncopies, 0);
	assert_string_equal(res.reject, "No \"offers\", thanks \\ bye.");
	sieve_result_free(&res);
	sieve_script_free(script);
	free(text);
	char out[512];
	sieve_rule_summary(&s->rules[0], out, sizeof(out));
	assert_string_equal(out, "If Subject contains “offer”: reject with "
			    "“No \"offers\", thanks \\ bye.”; then stop.");
	/* refused: no message, one of two lines, with another action, without stop */
	r = good_rule(s);
	r->actions[0].kind = SA_REJECT;
	r->actions[0].target[0] = '\0';
	r->stop = true;
	expect_refused(r, "Action 1: write the message for the sender");
	strcpy(r->actions[0].target, "a\nb");
	expect_refused(r, "Action 1: write the message for the sender");
	strcpy(r->actions[0].target, "gone");
	action_add(r, SA_FLAG, NULL);
	expect_refused(r, "Reject returns the message: it cannot go with other actions.");
	r->nactions = 1;
	r->stop = false;
	expect_refused(r, "A rule that rejects stops the rules after it.");
	/* a hand-written variant is not ours */
	static const char *const not_ours[] = {
		"# Pillarbox filters\nrequire [\"reject\"];\n\n# rule: x\n"
		"if allof (header :contains \"Subject\" \"x\") {\n\treject \"a\";\n}\n",
		"# Pillarbox filters\nrequire [\"ereject\"];\n\n# rule: x\n"
		"if allof (header :contains \"Subject\" \"x\") {\n\tereject \"a\";\n\tstop;\n}\n",
		"# Pillarbox filters\n\n# rule: x\n"
		"if allof (header :contains \"Subject\" \"x\") {\n\treject \"a\";\n\tstop;\n}\n",
	};
	for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++)
		assert_int_equal(sieve_rules_parse(not_ours[i], strlen(not_ours[i]), s), 0);
	free(s);
}

static void test_summary(void **state)
{
	(void)state;
	struct sieve_rule_set *s = set_new();
	struct sieve_rule *r = rule_add(s, "x");
	cond_add(r, SF_SUBJECT, SO_CONTAINS, "report");
	cond_add(r, SF_SIZE, SO_OVER, "100K");
	action_add(r, SA_READ, NULL);
	action_add(r, SA_MOVE, "Work");
	action_add(r, SA_FORWARD_KEEP, "a@b.example");
	r->stop = true;
	char out[512];
	sieve_rule_summary(r, out, sizeof(out));
	assert_string_equal(out, "If Subject contains “report” and Size is over 100 KB: mark as "
			    "read, move to “Work”, forward to “a@b.example” (keeping a copy); "
			    "then stop.");
	cond_add(r, SF_BODY, SO_NOT_CONTAINS, "unsubscribe");
	sieve_rule_summary(r, out, sizeof(out));
	assert_non_null(strstr(out, " and Message text does not contain “unsubscribe”: "));
	/* cut short on a character boundary, with an ellipsis */
	char small[24];
	strcpy(r->conds[0].value, "ééééééééééééééé");
	sieve_rule_summary(r, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_non_null(strstr(small, "…"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_set),
		cmocka_unit_test(test_every_condition),
		cmocka_unit_test(test_every_action),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_body_require),
		cmocka_unit_test(test_body_escaping),
		cmocka_unit_test(test_hostile_refused),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_body_not_ours),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
