/* DKIM verification against messages signed by dkimpy (dkim_verify_fixtures.h,
 * written by dkim_verify_gen.py) and by the relay's own signer: each
 * algorithm and canonicalisation passes, and fails once its body or a signed
 * field changes; the key record's cases; the tag-list rules; simple
 * canonicalisation fed whole and one byte at a time. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_canon.h"
#include "dkim_sign.h"
#include "dkim_tags.h"
#include "dkim_verify.h"
#include "dkim_verify_fixtures.h"

/* ------------------------------------------------------------ DNS in memory */

struct key_entry {
	const char *selector;
	int status;
	const char *rec[2];
};

static const struct key_entry keys_default[] = {
	{ "rsa2048", DNS_FOUND, { FX_KEY_RSA2048 } },
	{ "rsa1024", DNS_FOUND, { FX_KEY_RSA1024 } },
	{ "rsa512", DNS_FOUND, { FX_KEY_RSA512 } },
	{ "ed", DNS_FOUND, { FX_KEY_ED } },
	{ "kmismatch", DNS_FOUND, { FX_KEY_KMISMATCH } },
	{ "testing", DNS_FOUND, { FX_KEY_TESTING } },
	{ "revoked", DNS_FOUND, { FX_KEY_REVOKED } },
	{ "missing", DNS_NXDOMAIN, { NULL } },
	{ "temp", DNS_TEMPFAIL, { NULL } },
	{ NULL, 0, { NULL } },
};

static const struct key_entry *keys = keys_default;
static unsigned lookups;

static int txt_lookup(void *ctx, const char *name, struct dns_txt *txt, const char **error_r)
{
	(void)ctx;
	(void)error_r;
	lookups++;
	memset(txt, 0, sizeof(*txt));
	for (const struct key_entry *k = keys; k->selector != NULL; k++) {
		size_t sl = strlen(k->selector);

		if (strncmp(name, k->selector, sl) != 0 || strcmp(name + sl, "._domainkey.example.com") != 0)
			continue;
		/* One block, as dns.c gives them (dns_txt_free frees mem). */
		size_t total = 0, o = 0;

		for (size_t i = 0; i < 2 && k->rec[i] != NULL; i++)
			total += strlen(k->rec[i]) + 1;
		txt->mem = malloc(total + 1);
		assert_non_null(txt->mem);
		for (size_t i = 0; i < 2 && k->rec[i] != NULL; i++) {
			txt->rec[i] = txt->mem + o;
			txt->len[i] = strlen(k->rec[i]);
			memcpy(txt->rec[i], k->rec[i], txt->len[i] + 1);
			o += txt->len[i] + 1;
			txt->n++;
		}
		return k->status;
	}
	return DNS_NXDOMAIN;
}

static const struct dns_lookup dns = { .txt = txt_lookup };

/* ------------------------------------------------------------ helpers */

/* Verifies msg (header, blank line, body) fed in pieces of `step` bytes. */
static size_t verify_step(const char *msg, size_t len, int64_t now, struct dkim_sig_result *res,
			  size_t max, size_t step)
{
	const char *blank = strstr(msg, "\r\n\r\n");
	size_t hlen = blank != NULL ? (size_t)(blank - msg) + 4 : len;
	struct dkim_verifier *v = NULL;
	const char *error = NULL;
	int r = dkim_verifier_new(msg, hlen, &v, &error);

	if (r <= 0)
		return 0;
	for (size_t i = hlen; i < len; i += step)
		dkim_verifier_body(v, msg + i, len - i < step ? len - i : step);
	return dkim_verifier_finish(&v, &dns, now, res, max);
}

static struct dkim_sig_result verify1(const char *msg, int64_t now)
{
	struct dkim_sig_result res[DKIM_VERIFY_SIGS_MAX];

	memset(res, 0, sizeof(res));
	assert_int_equal(verify_step(msg, strlen(msg), now, res, DKIM_VERIFY_SIGS_MAX, 4096), 1);
	return res[0];
}

static char *replace(const char *msg, const char *from, const char *to)
{
	const char *at = strstr(msg, from);
	size_t fl = strlen(from), tl = strlen(to), len = strlen(msg);
	char *out = malloc(len + tl + 1);

	assert_non_null(at);
	memcpy(out, msg, (size_t)(at - msg));
	memcpy(out + (at - msg), to, tl);
	memcpy(out + (at - msg) + tl, at + fl, len - (size_t)(at - msg) - fl + 1);
	return out;
}

static void expect(const char *msg, int64_t now, enum dkim_result want, const char *reason)
{
	struct dkim_sig_result r = verify1(msg, now);

	if (r.result != want || (reason != NULL && strcmp(r.reason, reason) != 0))
		fail_msg("got %s (%s), want %s (%s)", dkim_result_name(r.result), r.reason,
			 dkim_result_name(want), reason != NULL ? reason : "");
}

/* ------------------------------------------------------------ dkimpy fixtures */

static const struct {
	const char *name, *msg, *alg;
} good[] = {
	{ "rsa2048 relaxed/relaxed", FX_RSA2048_RR, "rsa-sha256" },
	{ "rsa2048 simple/simple", FX_RSA2048_SS, "rsa-sha256" },
	{ "rsa2048 relaxed/simple", FX_RSA2048_RS, "rsa-sha256" },
	{ "rsa1024 relaxed/relaxed", FX_RSA1024_RR, "rsa-sha256" },
	{ "ed25519 relaxed/relaxed", FX_ED_RR, "ed25519-sha256" },
	{ "ed25519 simple/simple", FX_ED_SS, "ed25519-sha256" },
	{ "l= relaxed", FX_LEN_RR, "rsa-sha256" },
	{ "l= simple", FX_LEN_SS, "rsa-sha256" },
	{ "i=", FX_IDENT, "rsa-sha256" },
	{ "x= in the future", FX_EXPIRING, "rsa-sha256" },
};

static void test_good_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *msg = good[i].msg;
		struct dkim_sig_result r = verify1(msg, FX_T0 + 10);
		struct dkim_sig_result res[1];
		char *m;

		print_message("%s\n", good[i].name);
		if (r.result != DKIM_PASS)
			fail_msg("%s: %s (%s)", good[i].name, dkim_result_name(r.result), r.reason);
		assert_string_equal(r.domain, "example.com");
		assert_string_equal(r.alg, good[i].alg);
		assert_int_equal(strlen(r.b8), 8);
		assert_memory_equal(r.b8, strstr(msg, " b=") + 3, 8);
		assert_false(r.testing);
		/* byte by byte */
		assert_int_equal(verify_step(msg, strlen(msg), FX_T0 + 10, res, 1, 1), 1);
		assert_int_equal(res[0].result, DKIM_PASS);
		/* the body changed */
		m = replace(msg, "Hello Bob", "Jello Bob");
		expect(m, FX_T0 + 10, DKIM_FAIL, "body hash did not verify");
		free(m);
		/* a signed field changed */
		m = replace(msg, "Subject: Fixture", "Subject: Fixturf");
		expect(m, FX_T0 + 10, DKIM_FAIL, "signature did not verify");
		free(m);
		/* a field that is not signed, added on the way */
		m = replace(msg, "DKIM-Signature:", "Received: from somewhere\r\nDKIM-Signature:");
		expect(m, FX_T0 + 10, DKIM_PASS, "");
		free(m);
		m = replace(msg, "Message-ID:", "X-Extra: 1\r\nMessage-ID:");
		expect(m, FX_T0 + 10, DKIM_PASS, "");
		free(m);
		/* a second From: (oversigning aside, the bottom one is signed) */
		m = replace(msg, "\r\n\r\n", "\r\nFrom: mallory@example.org\r\n\r\n");
		expect(m, FX_T0 + 10, DKIM_FAIL, NULL);
		free(m);
	}
}

static void test_identity(void **state)
{
	static const struct key_entry strict[] = {
		{ "rsa2048", DNS_FOUND, { FX_KEY_STRICT } }, { NULL, 0, { NULL } } };
	struct dkim_sig_result r;

	(void)state;
	r = verify1(FX_IDENT, FX_T0);
	assert_string_equal(r.identity, "alice@mail.example.com");
	r = verify1(FX_RSA2048_RR, FX_T0);
	assert_string_equal(r.identity, "@example.com");
	assert_string_equal(r.selector, "rsa2048");
	/* t=s: i= must be in d= itself */
	keys = strict;
	expect(FX_IDENT, FX_T0, DKIM_PERMERROR, "key requires i= domain to be d= (t=s)");
	expect(FX_RSA2048_RR, FX_T0, DKIM_PASS, "");
	keys = keys_default;
}

static void test_length(void **state)
{
	char *m;

	(void)state;
	/* l= lets text be appended (RFC 6376 8.2); a shorter body fails */
	m = replace(FX_LEN_RR, "Bye.\r\n", "Bye.\r\nAppended by someone.\r\n");
	expect(m, FX_T0, DKIM_PASS, "");
	free(m);
	m = replace(FX_LEN_SS, "Bye.\r\n\r\n\r\n", "Bye.\r\n\r\n\r\nAppended.\r\n");
	expect(m, FX_T0, DKIM_PASS, "");
	free(m);
	m = replace(FX_LEN_RR, "Bye.\r\n", "");
	expect(m, FX_T0, DKIM_FAIL, "body shorter than l=");
	free(m);
}

static void test_expired(void **state)
{
	(void)state;
	expect(FX_EXPIRING, FX_T0 + 100, DKIM_PASS, "");
	expect(FX_EXPIRING, FX_T0 + 101, DKIM_FAIL, "signature expired");
}

static void test_key_cases(void **state)
{
	static const struct key_entry two[] = {
		{ "rsa2048", DNS_FOUND, { FX_KEY_RSA2048, FX_KEY_RSA2048 } }, { NULL, 0, { NULL } } };
	struct dkim_sig_result r;

	(void)state;
	expect(FX_REVOKED, FX_T0, DKIM_PERMERROR, "key revoked");
	expect(FX_MISSING, FX_T0, DKIM_PERMERROR, "no key");
	expect(FX_TEMP, FX_T0, DKIM_TEMPERROR, "key lookup failed");
	expect(FX_SHA1, FX_T0, DKIM_PERMERROR, "rsa-sha1 not accepted");
	expect(FX_RSA512, FX_T0, DKIM_PERMERROR, "key too short");
	expect(FX_KMISMATCH, FX_T0, DKIM_PERMERROR, "key type does not match a=");
	r = verify1(FX_TESTING, FX_T0);
	assert_int_equal(r.result, DKIM_PASS);
	assert_true(r.testing);
	keys = two;
	expect(FX_RSA2048_RR, FX_T0, DKIM_PERMERROR, "several key records");
	keys = keys_default;
}

static void test_two_signatures(void **state)
{
	struct dkim_sig_result res[DKIM_VERIFY_SIGS_MAX];

	(void)state;
	assert_int_equal(verify_step(FX_TWO, strlen(FX_TWO), FX_T0, res, DKIM_VERIFY_SIGS_MAX, 7), 2);
	assert_int_equal(res[0].result, DKIM_FAIL);
	assert_string_equal(res[0].reason, "signature did not verify");
	assert_string_equal(res[0].selector, "rsa1024");
	assert_int_equal(res[1].result, DKIM_PASS);
	assert_string_equal(res[1].selector, "ed");
	/* max caps the results */
	assert_int_equal(verify_step(FX_TWO, strlen(FX_TWO), FX_T0, res, 1, 7), 1);
}

/* ------------------------------------------------------------ hand-made signatures */

#define BODY "\r\nHello\r\n"
#define BH "bh=47DEQpj8HBSa+/TVIXDGRjEPPA5fBP5WSm4I/kGgM3o=;"   /* not this body's */

static void parse_is(const char *sig, const char *reason)
{
	char *msg;
	struct dkim_sig_result r;

	assert_true(asprintf(&msg, "DKIM-Signature: %s\r\nFrom: a@example.com\r\n" BODY, sig) > 0);
	r = verify1(msg, FX_T0);
	if (r.result != DKIM_PERMERROR || strcmp(r.reason, reason) != 0)
		fail_msg("%s: got %s (%s), want %s", sig, dkim_result_name(r.result), r.reason, reason);
	free(msg);
}

static void test_tag_rules(void **state)
{
	(void)state;
	lookups = 0;
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=from; " BH " b=AAAA; d=x.com",
		 "malformed signature: a duplicate tag");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=from; " BH " b=AAAA;;",
		 "malformed signature: a tag without '='");
	parse_is("v=1; a=rsa-sha256; d=example.com; 1s=rsa2048; h=from; " BH " b=AAAA",
		 "malformed signature: a bad tag name");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=to:subject; " BH " b=AAAA",
		 "From not signed");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; " BH " b=AAAA", "signature lacks h=");
	parse_is("v=2; a=rsa-sha256; d=example.com; s=rsa2048; h=from; " BH " b=AAAA",
		 "unknown signature version");
	parse_is("v=1; a=rsa-md5; d=example.com; s=rsa2048; h=from; " BH " b=AAAA",
		 "unknown algorithm");
	parse_is("v=1; a=rsa-sha256; c=fancy; d=example.com; s=rsa2048; h=from; " BH " b=AAAA",
		 "unknown canonicalization");
	parse_is("v=1; a=rsa-sha256; q=http; d=example.com; s=rsa2048; h=from; " BH " b=AAAA",
		 "unknown query method");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; i=a@example.org; h=from; " BH
		 " b=AAAA", "i= not in d=");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; i=a@badexample.com; h=from; " BH
		 " b=AAAA", "i= not in d=");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; t=200; x=100; h=from; " BH
		 " b=AAAA", "x= is before t=");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=from; bh=AAAA; b=AAAA", "bad bh=");
	parse_is("v=1; a=rsa-sha256; d=exa mple.com; s=rsa2048; h=from; " BH " b=AAAA", "bad d=");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=from; " BH " b=A!AA", "bad b=");
	parse_is("v=1; a=rsa-sha256; d=example.com; s=rsa2048; l=12a; h=from; " BH " b=AAAA",
		 "bad l=");
	/* none of these was worth a DNS query */
	assert_int_equal(lookups, 0);
}

static void test_tags_parse(void **state)
{
	struct dkim_tag tags[4];
	const char *why;
	size_t n;
	static const char list[] = " a = 1 ;\r\n\tb=x y\r\n z ; c= ;";

	(void)state;
	assert_int_equal(dkim_tags_parse(list, strlen(list), tags, 4, &n, &why), 1);
	assert_int_equal(n, 3);
	assert_int_equal(tags[1].value_len, 7);
	assert_memory_equal(tags[1].value, "x y\r\n z", 7);
	assert_int_equal(tags[2].value_len, 0);
	assert_int_equal(dkim_tags_parse("a=1;b=2;c=3;d=4;e=5", 19, tags, 4, &n, &why), 0);
	assert_int_equal(dkim_tags_parse("", 0, tags, 4, &n, &why), 1);
	assert_int_equal(n, 0);
}

static void test_key_records(void **state)
{
	struct dkim_key_record k;
	const char *why;

	(void)state;
#define KEY_IS(rec, want) do { \
		assert_int_equal(dkim_key_record_parse(rec, strlen(rec), &k, &why), 0); \
		assert_string_equal(why, want); } while (0)
	KEY_IS("k=rsa; v=DKIM1; p=AAAA", "key record has a bad v=");
	KEY_IS("v=DKIM2; p=AAAA", "key record has a bad v=");
	KEY_IS("v=DKIM1; k=dsa; p=AAAA", "unknown key type");
	KEY_IS("v=DKIM1; h=sha1; p=AAAA", "key does not allow sha256");
	KEY_IS("v=DKIM1; s=tlsrpt; p=AAAA", "key not for email");
	KEY_IS("v=DKIM1; p=", "key revoked");
	KEY_IS("v=DKIM1; k=rsa", "key record has no p=");
	KEY_IS("v=DKIM1; p=A*AA", "key record has a bad p=");
	assert_int_equal(dkim_key_record_parse("p=AAAA; s=*; h=sha1:sha256; t=y:s", 33, &k, &why), 1);
	assert_true(k.testing && k.strict);
	assert_int_equal(k.key_len, 3);
}

/* ------------------------------------------------------------ simple canonicalisation */

struct sink {
	char buf[256];
	size_t len;
};

static void sink_out(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->len + len < sizeof(s->buf));
	memcpy(s->buf + s->len, data, len);
	s->len += len;
}

static void simple_is(const char *in, const char *want)
{
	for (size_t step = 1; step <= 64; step *= 64) {
		struct dkim_body *b = malloc(sizeof(*b));
		struct sink s = { .len = 0 };
		size_t len = strlen(in);

		dkim_body_init_simple(b, sink_out, &s);
		for (size_t i = 0; i < len; i += step)
			dkim_body_update(b, in + i, len - i < step ? len - i : step);
		dkim_body_finish(b);
		assert_int_equal(s.len, strlen(want));
		assert_memory_equal(s.buf, want, s.len);
		free(b);
	}
}

static void test_simple_canon(void **state)
{
	char out[64];

	(void)state;
	simple_is("", "\r\n");
	simple_is("\r\n\r\n\r\n", "\r\n");
	simple_is("a  b \r\n\r\n", "a  b \r\n");
	simple_is("a\r\n\r\nb", "a\r\n\r\nb\r\n");
	simple_is("a\r", "a\r\r\n");
	simple_is("a\nb\r\n", "a\nb\r\n");
	simple_is(" \r\n\r\n", " \r\n");
	assert_int_equal(dkim_canon_header_simple("B : Y\t\r\n\tZ  ", 12, out), 14);
	assert_memory_equal(out, "B : Y\t\r\n\tZ  \r\n", 14);
}

/* ------------------------------------------------------------ the relay's own signer */

static void round_trip(enum dkim_alg alg, unsigned bits)
{
	static const char header[] = "From: Bob <bob@example.com>\r\nTo: x@example.net\r\n"
				     "Subject: round  trip\r\n\r\n";
	static const char body[] = "Line one \r\n\r\n  two\r\n\r\n";
	struct key_entry table[2] = { { "own", DNS_FOUND, { NULL } }, { NULL, 0, { NULL } } };
	struct dkim_signer *signer;
	struct dkim_sign_key key = { "example.com", "own", alg, NULL, 0 };
	char *pem, *p, *field, *msg, *rec;
	size_t len, field_len;
	const char *why = NULL;

	assert_int_equal(dkim_key_generate(alg, bits, &pem, &len, &why), 1);
	key.pem = pem;
	key.pem_len = len;
	assert_int_equal(dkim_key_public(alg, pem, len, &p, &why), 1);
	assert_true(asprintf(&rec, "v=DKIM1; k=%s; p=%s", dkim_alg_key_name(alg), p) > 0);
	table[0].rec[0] = rec;
	assert_int_equal(dkim_signer_new(header, strlen(header), &signer, &why), 1);
	dkim_signer_body(signer, body, strlen(body));
	assert_int_equal(dkim_signer_finish(&signer, &key, FX_T0, &field, &field_len, &why), 1);
	assert_true(asprintf(&msg, "%s%s%s", field, header, body) > 0);
	keys = table;
	expect(msg, FX_T0, DKIM_PASS, "");
	free(msg);
	assert_true(asprintf(&msg, "%s%s%s", field, header, "Line one\r\n") > 0);
	expect(msg, FX_T0, DKIM_FAIL, "body hash did not verify");
	keys = keys_default;
	free(msg);
	free(field);
	free(rec);
	free(p);
	free(pem);
}

static void test_round_trip(void **state)
{
	(void)state;
	round_trip(DKIM_ALG_ED25519, 0);
	round_trip(DKIM_ALG_RSA, 2048);
}

static void test_no_signature(void **state)
{
	struct dkim_verifier *v = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(dkim_verifier_new("From: a@b.c\r\n\r\n", 15, &v, &error), 0);
	assert_null(v);
	assert_string_equal(dkim_result_name(DKIM_PERMERROR), "permerror");
	assert_string_equal(dkim_result_name(DKIM_NONE), "none");
}

static void test_many_signatures(void **state)
{
	char *msg = malloc(20 * 200 + 1000);
	struct dkim_sig_result res[DKIM_VERIFY_SIGS_MAX + 2];
	size_t o = 0;

	(void)state;
	for (int i = 0; i < 20; i++)
		o += (size_t)sprintf(msg + o, "DKIM-Signature: v=1; a=rsa-sha1; d=example.com; "
				     "s=s%d; h=from; " BH " b=AAAA\r\n", i);
	sprintf(msg + o, "From: a@example.com\r\n" BODY);
	assert_int_equal(verify_step(msg, strlen(msg), FX_T0, res, DKIM_VERIFY_SIGS_MAX + 2, 99),
			 DKIM_VERIFY_SIGS_MAX);
	assert_string_equal(res[7].selector, "s7");
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_fixtures),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_key_cases),
		cmocka_unit_test(test_two_signatures),
		cmocka_unit_test(test_tag_rules),
		cmocka_unit_test(test_tags_parse),
		cmocka_unit_test(test_key_records),
		cmocka_unit_test(test_simple_canon),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_no_signature),
		cmocka_unit_test(test_many_signatures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
