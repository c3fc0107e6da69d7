/* SRS (store/srs.c, store/srs_store.c): addresses made and read back, in
 * any case, SRS1 for another's SRS address and back, a wrong hash, an
 * expired and a future day refused, the 21-day boundary, and every
 * malformed shape; then in a store: forwarded mail queued from the SRS
 * address (an alias, a redirect), our users' own mail, bounces and named
 * recipients keeping their sender, both kinds in two entries, a bounce to
 * the SRS address resolving to the original sender, and a store made
 * before SRS getting its secret on first need. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "outq.h"
#include "sieve_store.h"
#include "siphash.h"
#include "srs.h"
#include "store.h"
#include "store_fixture.h"
#include "store_int.h"

#define DAY 86400
#define SRSDOM "srs.example.net"
/* Day 1000 (2.7 years in), the start of it: TT = "7I" (31, 8). */
#define T0 ((int64_t)1000 * DAY)

static const uint8_t secret[SRS_SECRET_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
						15, 16 };
static const uint8_t other_secret[SRS_SECRET_LEN] = { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
						      4, 3, 2, 1 };

static int enc(const char *sender, int64_t now, char out[STORE_ADDRESS_MAX + 1])
{
	const char *why = NULL;
	int r = srs_encode(secret, SRSDOM, sender, now, out, &why);
	if (r != 1)
		assert_non_null(why);
	return r;
}

static int dec_len(const char *address, size_t len, int64_t now, char out[STORE_ADDRESS_MAX + 1],
		   const char **why_r)
{
	*why_r = NULL;
	int r = srs_decode(secret, SRSDOM, address, len, now, out, why_r);
	if (r == 1)
		assert_null(*why_r);
	else
		assert_true(*why_r != NULL && out[0] == '\0');
	return r;
}

static int dec(const char *address, int64_t now, char out[STORE_ADDRESS_MAX + 1],
	       const char **why_r)
{
	return dec_len(address, strlen(address), now, out, why_r);
}

/* The hash as srs.h documents it, made here independently. */
static void doc_hash(const uint8_t key[SRS_SECRET_LEN], const char *tag, const char *const *fields,
		     size_t n, char out[SRS_HASH_LEN + 1])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t buf[1024];
	size_t o = strlen(tag);
	memcpy(buf, tag, o);
	for (size_t i = 0; i < n; i++) {
		buf[o++] = 0;
		for (const char *p = fields[i]; *p != '\0'; p++)
			buf[o++] = (uint8_t)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	}
	uint64_t k[2];
	siphash_key(key, k);
	uint64_t h = siphash13(k, buf, o);
	for (int i = 0; i < SRS_HASH_LEN; i++)
		out[i] = b32[(h >> (5 * i)) & 31];
	out[SRS_HASH_LEN] = '\0';
}

/* ---------------------------------------------------------------- codec */

/* SipHash-1-3's published values (key 00..0f, input 00 01 ...), as the
 * moved code gives them on any machine. */
static void test_siphash_vectors(void **state)
{
	(void)state;
	uint8_t k[16], m[3] = { 0, 1, 2 };
	uint64_t key[2];
	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	siphash_key(k, key);
	assert_true(siphash13(key, m, 0) == 0xabac0158050fc4dcull);
	assert_true(siphash13(key, m, 1) == 0xc9f49bf37d57ca93ull);
	assert_true(siphash13(key, m, 2) == 0x82cb9b024dc7d44dull);
}

static void test_round_trip(void **state)
{
	(void)state;
	char srs[STORE_ADDRESS_MAX + 1], back[STORE_ADDRESS_MAX + 1], h[SRS_HASH_LEN + 1];
	const char *why;
	assert_int_equal(enc("alice@example.org", T0, srs), 1);
	/* the shape, and the hash as documented */
	const char *f[] = { "7I", "example.org", "alice" };
	doc_hash(secret, "SRS0", f, 3, h);
	char want[STORE_ADDRESS_MAX + 1];
	snprintf(want, sizeof(want), "SRS0=%s=7I=example.org=alice@" SRSDOM, h);
	assert_string_equal(srs, want);
	assert_int_equal(dec(srs, T0, back, &why), 1);
	assert_string_equal(back, "alice@example.org");
	assert_true(srs_is_ours(SRSDOM, srs, strlen(srs)));
	/* the case as given goes out; an '=' in the local part comes back */
	assert_int_equal(enc("Bob.Smith=x@Mail.Example.ORG", T0 + 5, srs), 1);
	assert_true(strncmp(srs + 10, "7I=Mail.Example.ORG=Bob.Smith=x@", 32) == 0);
	assert_int_equal(dec(srs, T0 + 5, back, &why), 1);
	assert_string_equal(back, "Bob.Smith=x@Mail.Example.ORG");
	/* the srs_domain's final dot is not part of the address */
	const char *why2 = NULL;
	assert_int_equal(srs_encode(secret, SRSDOM ".", "a@b.example", T0, srs, &why2), 1);
	assert_true(strlen(srs) > strlen(SRSDOM) &&
		    strcmp(srs + strlen(srs) - strlen(SRSDOM) - 1, "@" SRSDOM) == 0);
	assert_int_equal(srs_decode(secret, SRSDOM ".", srs, strlen(srs), T0, back, &why2), 1);
	assert_string_equal(back, "a@b.example");
}

static void upper(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 32);
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static void test_case_insensitive(void **state)
{
	(void)state;
	char srs[STORE_ADDRESS_MAX + 1], other[STORE_ADDRESS_MAX + 1], back[STORE_ADDRESS_MAX + 1];
	const char *why;
	assert_int_equal(enc("Alice@Example.org", T0, srs), 1);
	/* the same hash for the address in any case */
	assert_int_equal(enc("alice@EXAMPLE.ORG", T0, other), 1);
	assert_memory_equal(srs, other, 5 + SRS_HASH_LEN);
	/* a mail system on the way back may change the case of it all */
	char copy[STORE_ADDRESS_MAX + 1];
	strcpy(copy, srs);
	lower(copy);
	assert_int_equal(dec(copy, T0, back, &why), 1);
	assert_string_equal(back, "alice@example.org");
	strcpy(copy, srs);
	upper(copy);
	assert_int_equal(dec(copy, T0, back, &why), 1);
	assert_string_equal(back, "ALICE@EXAMPLE.ORG");
	assert_true(srs_is_ours("SRS.Example.NET", copy, strlen(copy)));
	assert_int_equal(srs_decode(secret, "SRS.EXAMPLE.net", copy, strlen(copy), T0, back, &why),
			 1);
	/* an SRS1 address too */
	assert_int_equal(enc("SRS0=AbCd=7I=orig.example=carol@fwd1.example", T0, srs), 1);
	strcpy(copy, srs);
	lower(copy);
	assert_int_equal(dec(copy, T0, back, &why), 1);
	assert_string_equal(back, "SRS0=abcd=7i=orig.example=carol@fwd1.example");
}

static void test_srs1(void **state)
{
	(void)state;
	char srs[STORE_ADDRESS_MAX + 1], back[STORE_ADDRESS_MAX + 1], h[SRS_HASH_LEN + 1];
	char want[STORE_ADDRESS_MAX + 1];
	const char *why;
	/* another's SRS0: its host and rest, not wrapped again */
	const char *srs0 = "SRS0=AbCd=7I=orig.example=carol@fwd1.example";
	assert_int_equal(enc(srs0, T0, srs), 1);
	const char *f[] = { "fwd1.example", "=AbCd=7I=orig.example=carol" };
	doc_hash(secret, "SRS1", f, 2, h);
	snprintf(want, sizeof(want), "SRS1=%s=fwd1.example==AbCd=7I=orig.example=carol@" SRSDOM, h);
	assert_string_equal(srs, want);
	assert_int_equal(dec(srs, T0, back, &why), 1);
	assert_string_equal(back, srs0);
	/* SRS1 carries no time: the SRS0 inside has one */
	assert_int_equal(dec(srs, T0 + 300 * DAY, back, &why), 1);
	/* another's SRS1: its first host and rest, a new hash; back to that
	 * host's SRS0 */
	const char *srs1 = "srs1=ZZZZ=fwd1.example==AbCd=7I=orig.example=carol@fwd2.example";
	assert_int_equal(enc(srs1, T0, srs), 1);
	assert_string_equal(srs, want);
	assert_int_equal(dec(srs, T0, back, &why), 1);
	assert_string_equal(back, srs0);
	/* the local part does not grow hop after hop */
	char again[STORE_ADDRESS_MAX + 1];
	char relayed[STORE_ADDRESS_MAX + 1];
	snprintf(relayed, sizeof(relayed), "%.*s@fwd3.example", (int)(strchr(srs, '@') - srs), srs);
	assert_int_equal(enc(relayed, T0, again), 1);
	assert_int_equal(strlen(again), strlen(srs));
	/* an SRS1 that is not one (no host, no SRS0 part) is a plain address */
	const char *odd[] = { "SRS1=x@fwd.example", "SRS1=ab==c@fwd.example",
			      "SRS1=ab=host=c@fwd.example", "SRS0=@fwd.example",
			      /* its SRS0 would be at no domain (found by fuzz_srs) */
			      "SRS1=Z=a{b==x@fwd.example" };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_int_equal(enc(odd[i], T0, srs), 1);
		assert_true(strncmp(srs, "SRS0=", 5) == 0);
		assert_int_equal(dec(srs, T0, back, &why), 1);
		assert_string_equal(back, odd[i]);
	}
}

static void test_wrong_hash(void **state)
{
	(void)state;
	char srs[STORE_ADDRESS_MAX + 1], back[STORE_ADDRESS_MAX + 1];
	const char *why;
	assert_int_equal(enc("alice@example.org", T0, srs), 1);
	for (int pos = 5; pos < 5 + SRS_HASH_LEN; pos++) {
		char forged[STORE_ADDRESS_MAX + 1];
		strcpy(forged, srs);
		forged[pos] = forged[pos] == 'A' ? 'B' : 'A';
		assert_int_equal(dec(forged, T0, back, &why), 0);
		assert_non_null(strstr(why, "hash"));
	}
	/* the same hash on another address */
	char moved[STORE_ADDRESS_MAX + 1];
	snprintf(moved, sizeof(moved), "%.*s=example.org=mallory@" SRSDOM, 12, srs);
	assert_int_equal(dec(moved, T0, back, &why), 0);
	assert_non_null(strstr(why, "hash"));
	/* or another day */
	strcpy(moved, srs);
	moved[11] = moved[11] == 'A' ? 'B' : 'A';
	assert_int_equal(dec(moved, T0, back, &why), 0);
	assert_non_null(strstr(why, "hash"));
	/* the field boundary is in the hash: the domain cannot take a
	 * character of the local part */
	char a[STORE_ADDRESS_MAX + 1];
	assert_int_equal(enc("lice@example.orga", T0, a), 1);
	snprintf(moved, sizeof(moved), "SRS0=%.4s=7I=example.org=alice@" SRSDOM, a + 5);
	assert_int_equal(dec(moved, T0, back, &why), 0);
	/* another store's secret */
	assert_int_equal(srs_decode(other_secret, SRSDOM, srs, strlen(srs), T0, back, &why), 0);
	assert_non_null(strstr(why, "hash"));
	/* SRS1 */
	assert_int_equal(enc("SRS0=AbCd=7I=orig.example=carol@fwd1.example", T0, srs), 1);
	strcpy(moved, srs);
	moved[6] = moved[6] == 'A' ? 'B' : 'A';
	assert_int_equal(dec(moved, T0, back, &why), 0);
	assert_non_null(strstr(why, "hash"));
	strcpy(moved, srs);
	*strstr(moved, "carol") = 'k';
	assert_int_equal(dec(moved, T0, back, &why), 0);
	assert_non_null(strstr(why, "hash"));
}

/* Made at `made`, read at `now`: 1 or 0. */
static int at(int64_t made, int64_t now, const char **why_r)
{
	char srs[STORE_ADDRESS_MAX + 1], back[STORE_ADDRESS_MAX + 1];
	assert_int_equal(enc("alice@example.org", made, srs), 1);
	return dec(srs, now, back, why_r);
}

static void test_age(void **state)
{
	(void)state;
	const char *why;
	/* 21 days exactly: day D made, good to the end of day D + 21 */
	assert_int_equal(at(T0, T0 + 21 * DAY, &why), 1);
	assert_int_equal(at(T0, T0 + 22 * DAY - 1, &why), 1);
	assert_int_equal(at(T0 + DAY - 1, T0 + 22 * DAY - 1, &why), 1);
	assert_int_equal(at(T0, T0 + 22 * DAY, &why), 0);
	assert_non_null(strstr(why, "expired"));
	assert_int_equal(at(T0 + DAY - 1, T0 + 22 * DAY, &why), 0);
	assert_int_equal(at(T0, T0 + 500 * DAY, &why), 0);
	assert_non_null(strstr(why, "expired"));
	/* a day ahead (another machine's clock) is fine, two are not */
	assert_int_equal(at(T0 + DAY, T0, &why), 1);
	assert_int_equal(at(T0 + 2 * DAY, T0 + DAY, &why), 1);
	assert_int_equal(at(T0 + 2 * DAY, T0 + DAY - 1, &why), 0);
	assert_int_equal(at(T0 + 2 * DAY, T0, &why), 0);
	assert_non_null(strstr(why, "future"));
	assert_int_equal(at(T0 + 100 * DAY, T0, &why), 0);
	assert_non_null(strstr(why, "future"));
	/* TT wraps every 1024 days */
	int64_t last = (int64_t)1023 * DAY;
	assert_int_equal(at(last, last + 10 * DAY, &why), 1);
	assert_int_equal(at(last, last + 21 * DAY, &why), 1);
	assert_int_equal(at(last, last + 22 * DAY, &why), 0);
	assert_int_equal(at(last + 1024 * DAY, last + 1024 * DAY + 5 * DAY, &why), 1);
	/* the same day of another 1024-day cycle is not told apart (as libsrs2) */
	assert_int_equal(at(T0, T0 + 1024 * DAY, &why), 1);
}

static void expect_bad(const char *address, size_t len, const char *reason)
{
	char back[STORE_ADDRESS_MAX + 1];
	const char *why;
	int r = dec_len(address, len, T0, back, &why);
	if (r != 0)
		fail_msg("decoded <%.*s> to <%s>", (int)len, address, back);
	if (reason != NULL && strstr(why, reason) == NULL)
		fail_msg("<%.*s>: \"%s\", expected \"%s\"", (int)len, address, why, reason);
}

static void bad(const char *address, const char *reason)
{
	expect_bad(address, strlen(address), reason);
}

static void test_malformed(void **state)
{
	(void)state;
	char good[STORE_ADDRESS_MAX + 1], s[512], h[SRS_HASH_LEN + 1];
	assert_int_equal(enc("alice@example.org", T0, good), 1);
	const char *hash = good + 5;   /* 4 characters */

	bad("", "not an SRS address");
	bad("@", "not an SRS address");
	bad("@" SRSDOM, "not an SRS address");
	bad("alice@" SRSDOM, "not an SRS address");
	bad("SRS0@" SRSDOM, "not an SRS address");           /* no '=' */
	bad("SRS2=AAAA=7I=example.org=alice@" SRSDOM, "not an SRS address");
	bad("SRS0-AAAA=7I=example.org=alice@" SRSDOM, "not an SRS address");
	bad("SRS0=@" SRSDOM, "hash");
	bad("SRS0==7I=example.org=alice@" SRSDOM, "hash");
	bad("SRS0=AAA=7I=example.org=alice@" SRSDOM, "hash");
	bad("SRS0=AAAAA=7I=example.org=alice@" SRSDOM, "hash");
	bad("SRS0=AAA1=7I=example.org=alice@" SRSDOM, "hash");  /* not base32 */
	bad("SRS0=AA8A=7I=example.org=alice@" SRSDOM, "hash");
	bad("SRS0=AA!A=7I=example.org=alice@" SRSDOM, "hash");
	bad("SRS0=AAAA@" SRSDOM, "hash");
	bad("SRS1=AAA=host==AAAA=7I=d.example=x@" SRSDOM, "hash");
	snprintf(s, sizeof(s), "SRS0=%.4s@" SRSDOM, hash);
	bad(s, "hash");
	snprintf(s, sizeof(s), "SRS0=%.4s=@" SRSDOM, hash);
	bad(s, "timestamp");
	snprintf(s, sizeof(s), "SRS0=%.4s==example.org=alice@" SRSDOM, hash);
	bad(s, "timestamp");
	snprintf(s, sizeof(s), "SRS0=%.4s=7=example.org=alice@" SRSDOM, hash);
	bad(s, "timestamp");
	snprintf(s, sizeof(s), "SRS0=%.4s=7IA=example.org=alice@" SRSDOM, hash);
	bad(s, "timestamp");
	snprintf(s, sizeof(s), "SRS0=%.4s=79=example.org=alice@" SRSDOM, hash);
	bad(s, "timestamp");
	snprintf(s, sizeof(s), "SRS0=%.4s=7I@" SRSDOM, hash);
	bad(s, "timestamp");
	snprintf(s, sizeof(s), "SRS0=%.4s=7I=@" SRSDOM, hash);
	bad(s, "domain");
	snprintf(s, sizeof(s), "SRS0=%.4s=7I==alice@" SRSDOM, hash);
	bad(s, "domain");
	snprintf(s, sizeof(s), "SRS0=%.4s=7I=example.org@" SRSDOM, hash);
	bad(s, "domain");
	snprintf(s, sizeof(s), "SRS0=%.4s=7I=example.org=@" SRSDOM, hash);
	bad(s, "local part");
	/* the right hash, but what it stands for is no address */
	const char *f1[] = { "7I", "bad_domain", "alice" };
	doc_hash(secret, "SRS0", f1, 3, h);
	snprintf(s, sizeof(s), "SRS0=%s=7I=bad_domain=alice@" SRSDOM, h);
	bad(s, "valid address");
	const char *f2[] = { "7I", "example.org", "alice." };
	doc_hash(secret, "SRS0", f2, 3, h);
	snprintf(s, sizeof(s), "SRS0=%s=7I=example.org=alice.@" SRSDOM, h);
	bad(s, "valid address");
	/* SRS1 without its parts */
	snprintf(s, sizeof(s), "SRS1=%.4s@" SRSDOM, hash);
	bad(s, "hash");
	snprintf(s, sizeof(s), "SRS1=%.4s=@" SRSDOM, hash);
	bad(s, "host");
	snprintf(s, sizeof(s), "SRS1=%.4s=host.example@" SRSDOM, hash);
	bad(s, "host");
	snprintf(s, sizeof(s), "SRS1=%.4s==x@" SRSDOM, hash);
	bad(s, "host");
	snprintf(s, sizeof(s), "SRS1=%.4s=host.example=x@" SRSDOM, hash);
	bad(s, "SRS0 part");
	snprintf(s, sizeof(s), "SRS1=%.4s=host.example=@" SRSDOM, hash);
	bad(s, "SRS0 part");
	snprintf(s, sizeof(s), "SRS1=%.4s=host.example==@" SRSDOM, hash);
	bad(s, "SRS0 part");
	/* the right SRS1 hash, a host that is no domain */
	const char *f3[] = { "bad_host", "=AAAA=7I=d.example=x" };
	doc_hash(secret, "SRS1", f3, 2, h);
	snprintf(s, sizeof(s), "SRS1=%s=bad_host==AAAA=7I=d.example=x@" SRSDOM, h);
	bad(s, "valid address");
	/* the good one elsewhere, or in no domain */
	snprintf(s, sizeof(s), "%.*s@other.example", (int)(strchr(good, '@') - good), good);
	bad(s, "not an SRS address");
	snprintf(s, sizeof(s), "%.*s@" SRSDOM ".evil.example", (int)(strchr(good, '@') - good),
		 good);
	bad(s, "not an SRS address");
	snprintf(s, sizeof(s), "%.*s", (int)(strchr(good, '@') - good), good);
	bad(s, "not an SRS address");
	snprintf(s, sizeof(s), "%s@" SRSDOM, good);                   /* two '@' */
	bad(s, NULL);
	/* no address syntax: dots, quotes */
	bad("SRS0=AAAA=7I=example.org=a..b@" SRSDOM, "valid address");
	bad("\"SRS0=AAAA=7I=example.org=alice\"@" SRSDOM, NULL);
	/* control characters, space, DEL, 8-bit, NUL, each in the good one */
	const char *inject[] = { "\r", "\n", "\t", " ", "\x7f", "\x01", "\xc3\xa9", "\xff" };
	size_t glen = strlen(good);
	for (size_t i = 0; i < sizeof(inject) / sizeof(inject[0]); i++) {
		for (size_t pos = 0; pos <= glen; pos += 7) {
			snprintf(s, sizeof(s), "%.*s%s%s", (int)pos, good, inject[i], good + pos);
			bad(s, "character");
		}
	}
	for (size_t pos = 0; pos < glen; pos += 5) {
		memcpy(s, good, glen);
		s[pos] = '\0';
		expect_bad(s, glen, "character");
	}
	/* NUL at the end, inside the length */
	memcpy(s, good, glen + 1);
	expect_bad(s, glen + 1, "character");
	/* lengths: an address of 255, a local part of 65, the limits */
	memset(s, 'a', sizeof(s));
	snprintf(s, sizeof(s), "SRS0=%.4s=7I=example.org=", hash);
	memset(s + strlen(s), 'a', 300);
	strcpy(s + STORE_ADDRESS_MAX + 1 - strlen("@" SRSDOM), "@" SRSDOM);
	assert_int_equal(strlen(s), STORE_ADDRESS_MAX + 1);
	bad(s, "longer");
	/* "SRS0=HHHH=7I=example.org=" is 25 characters */
	char local[80];
	memset(local, 'b', 40);
	local[40] = '\0';
	const char *f4[] = { "7I", "example.org", local };
	doc_hash(secret, "SRS0", f4, 3, h);
	snprintf(s, sizeof(s), "SRS0=%s=7I=example.org=%s@" SRSDOM, h, local);
	assert_int_equal(strchr(s, '@') - s, 65);
	bad(s, "valid address");
	/* 64 is fine */
	local[strlen(local) - 1] = '\0';
	doc_hash(secret, "SRS0", f4, 3, h);
	snprintf(s, sizeof(s), "SRS0=%s=7I=example.org=%s@" SRSDOM, h, local);
	assert_int_equal(strchr(s, '@') - s, 64);
	char back[STORE_ADDRESS_MAX + 1];
	const char *why;
	assert_int_equal(dec(s, T0, back, &why), 1);
}

static void test_encode_refused(void **state)
{
	(void)state;
	char srs[STORE_ADDRESS_MAX + 1];
	/* "SRS0=HHHH=TT=example.org=" is 25 characters: a local part of
	 * 40 makes 65, one too many */
	char longest[80];
	memset(longest, 'c', 40);
	strcpy(longest + 40, "@example.org");
	const char *refused[] = {
		"", "alice", "@example.org", "alice@", "a@b@example.org", "\"a b\"@example.org",
		"j\xc3\xb6rg@example.org", "joerg@b\xc3\xbc" "cher.example", "a b@example.org",
		"a\r\n@example.org", longest,
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (enc(refused[i], T0, srs) != 0)
			fail_msg("<%s> was rewritten to <%s>", refused[i], srs);
		assert_string_equal(srs, "");
	}
	const char *why = NULL;
	assert_int_equal(srs_encode(secret, SRSDOM, longest, T0, srs, &why), 0);
	assert_non_null(strstr(why, "too long"));
	/* one shorter fits, exactly */
	memmove(longest + 39, longest + 40, strlen(longest + 40) + 1);
	assert_int_equal(enc(longest, T0, srs), 1);
	assert_int_equal(strchr(srs, '@') - srs, 64);
	/* an SRS domain that is no domain */
	assert_int_equal(srs_encode(secret, "bad_domain", "a@b.example", T0, srs, &why), 0);
	assert_non_null(why);
}

/* ---------------------------------------------------------- in a store */

static int setup(void **state)
{
	if (store_fixture_setup(state) != 0)
		return -1;
	struct store_fixture *f = *state;
	const char *error = NULL;
	f->config->srs_domain = strdup("Srs.Example.NET");
	if (f->config->srs_domain == NULL ||
	    store_domain_add(f->store, "example.com", &error) != 1 ||
	    store_user_add(f->store, "bob@example.com", "secret", NULL, &error) != 1 ||
	    store_alias_add(f->store, "fwd@example.com", "carol@example.org", &error) != 1 ||
	    store_alias_add(f->store, "team@example.com", "bob@example.com", &error) != 1 ||
	    store_alias_add(f->store, "team@example.com", "dan@example.net", &error) != 1) {
		fprintf(stderr, "setup: %s\n", f->config->srs_domain ? error : "out of memory");
		return -1;
	}
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, store_fixture_teardown)

struct entries {
	size_t n;
	char sender[4][STORE_ADDRESS_MAX + 1];
	char id[4][OUTQ_ID_HEX_LEN + 1];
	char rcpts[4][512];
};

static int entry_cb(const struct outq_entry *e, void *ctx)
{
	struct entries *q = ctx;
	if (q->n == 4)
		return 1;
	snprintf(q->sender[q->n], sizeof(q->sender[0]), "%s", e->sender);
	snprintf(q->id[q->n], sizeof(q->id[0]), "%s", e->id);
	size_t o = 0;
	for (uint32_t i = 0; i < e->nrcpts; i++)
		o += (size_t)snprintf(q->rcpts[q->n] + o, sizeof(q->rcpts[0]) - o, "%s%s",
				      i ? " " : "", e->rcpts[i].address);
	q->n++;
	return 0;
}

static void queue_read(struct store_fixture *f, struct entries *q)
{
	const char *error;
	memset(q, 0, sizeof(*q));
	assert_true(outq_list(f->store, entry_cb, q, &error) >= 0);
}

/* The entry whose recipients are `rcpts`, or NULL. */
static const char *sender_of(const struct entries *q, const char *rcpts)
{
	for (size_t i = 0; i < q->n; i++)
		if (strcmp(q->rcpts[i], rcpts) == 0)
			return q->sender[i];
	return NULL;
}

static int deliver(struct store_fixture *f, const char *sender, const char *const *rcpts, size_t n,
		   char qid[33])
{
	static const char text[] = "From: x@example.org\r\nSubject: fwd\r\n\r\nHi.\r\n";
	struct store_body *body;
	const char *error;
	bool queued = false;
	assert_int_equal(store_body_from_buffer(f->store, text, sizeof(text) - 1, &body, &error),
			 1);
	struct store_delivery d = { .sender = sender, .recipients = rcpts, .nrecipients = n,
				    .body = body, .add_prefix = true };
	int r = store_deliver(f->store, &d, &queued, qid, &error);
	store_body_free(&body);
	if (r != 1)
		fail_msg("store_deliver: %d %s", r, error ? error : "");
	return r;
}

/* `srs` resolves to one remote target, `to`. */
static void resolves_to(struct store_fixture *f, const char *srs, const char *to)
{
	struct store_rcpt_target t[STORE_ALIAS_TARGETS_MAX];
	size_t n = 0;
	const char *error = NULL;
	enum store_resolve_result r = store_resolve(f->store, srs, t, STORE_ALIAS_TARGETS_MAX, &n,
						    &error);
	if (r != STORE_RESOLVE_OK)
		fail_msg("<%s>: %d %s", srs, r, error ? error : "");
	assert_int_equal(n, 1);
	assert_int_equal(t[0].kind, STORE_RCPT_REMOTE);
	assert_string_equal(t[0].address, to);
}

static bool is_srs0_of(const char *sender, const char *domain, const char *local)
{
	char tail[STORE_ADDRESS_MAX + 1];
	snprintf(tail, sizeof(tail), "=%s=%s@Srs.Example.NET", domain, local);
	size_t n = strlen(sender), t = strlen(tail);
	return strncmp(sender, "SRS0=", 5) == 0 && n == 5 + SRS_HASH_LEN + 1 + SRS_TIME_LEN + t &&
	       strcmp(sender + n - t, tail) == 0;
}

static void test_alias_forward(void **state)
{
	struct store_fixture *f = *state;
	struct entries q;
	char qid[33];
	const char *rcpt[] = { "fwd@example.com" };
	deliver(f, "x@example.org", rcpt, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 1);
	assert_string_equal(q.rcpts[0], "carol@example.org");
	assert_true(is_srs0_of(q.sender[0], "example.org", "x"));
	assert_string_equal(q.id[0], qid);
	/* its bounce comes back to the original sender */
	resolves_to(f, q.sender[0], "x@example.org");
	char lowered[STORE_ADDRESS_MAX + 1];
	strcpy(lowered, q.sender[0]);
	lower(lowered);
	resolves_to(f, lowered, "x@example.org");
}

static void test_redirect_forward(void **state)
{
	struct store_fixture *f = *state;
	struct entries q;
	char qid[33];
	const char *error;
	struct store_user u;
	const char text[] = "redirect \"eve@example.net\";";
	assert_int_equal(store_user_find(f->store, "bob@example.com", &u, &error), 1);
	assert_int_equal(store_sieve_put(f->store, u.id, "s", text, strlen(text), &error), 1);
	assert_int_equal(store_sieve_activate(f->store, u.id, "s", &error), 1);
	const char *rcpt[] = { "bob@example.com" };
	deliver(f, "someone@example.org", rcpt, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 1);
	assert_string_equal(q.rcpts[0], "eve@example.net");
	assert_true(is_srs0_of(q.sender[0], "example.org", "someone"));
	resolves_to(f, q.sender[0], "someone@example.org");
}

/* Our own users', bounces and mail already ours keep their sender. */
static void test_kept(void **state)
{
	struct store_fixture *f = *state;
	struct entries q;
	char qid[33];
	const char *rcpt[] = { "fwd@example.com" };
	deliver(f, "bob@example.com", rcpt, 1, qid);
	deliver(f, "", rcpt, 1, qid);
	deliver(f, "postmaster@srs.example.net", rcpt, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 3);
	for (size_t i = 0; i < q.n; i++)
		assert_true(strcmp(q.sender[i], "bob@example.com") == 0 || q.sender[i][0] == '\0' ||
			    strcmp(q.sender[i], "postmaster@srs.example.net") == 0);
	/* a sender that cannot be rewritten (a local part too long for one) */
	char longer[80];
	memset(longer, 'c', 40);
	strcpy(longer + 40, "@example.org");
	deliver(f, longer, rcpt, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 4);
	bool kept = false;
	for (size_t i = 0; i < q.n; i++)
		kept |= strcmp(q.sender[i], longer) == 0;
	assert_true(kept);
}

/* A named remote recipient keeps the sender, a forwarded one gets the SRS
 * address, a full local mailbox's copy keeps it: two entries. */
static void test_two_entries(void **state)
{
	struct store_fixture *f = *state;
	struct entries q;
	char qid[33];
	const char *error;
	const char *rcpts[] = { "dave@elsewhere.example", "fwd@example.com", "team@example.com",
				"dan@example.net" };
	deliver(f, "x@example.org", rcpts, 4, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 2);
	/* dan: named and reached by the alias: as named */
	const char *kept = sender_of(&q, "dave@elsewhere.example dan@example.net");
	const char *srs = sender_of(&q, "carol@example.org");
	assert_non_null(kept);
	assert_non_null(srs);
	assert_string_equal(kept, "x@example.org");
	assert_true(is_srs0_of(srs, "example.org", "x"));
	/* the id given back is the forwarded entry's */
	assert_string_equal(q.id[strcmp(q.sender[0], srs) == 0 ? 0 : 1], qid);

	/* bob full: his copy is queued with the sender, apart from carol's */
	store_fixture_teardown(state);
	assert_int_equal(setup(state), 0);
	f = *state;
	assert_int_equal(store_user_quota(f->store, "bob@example.com", 10, 0, &error), 1);
	const char *two[] = { "bob@example.com", "fwd@example.com" };
	deliver(f, "x@example.org", two, 2, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 2);
	assert_string_equal(sender_of(&q, "bob@example.com"), "x@example.org");
	assert_true(is_srs0_of(sender_of(&q, "carol@example.org"), "example.org", "x"));
}

/* A bounce to the SRS address of mail we forwarded: relayed to the
 * original sender, not with our SRS address again. */
static void test_bounce(void **state)
{
	struct store_fixture *f = *state;
	struct entries q;
	char qid[33];
	const char *rcpt[] = { "fwd@example.com" };
	deliver(f, "x@example.org", rcpt, 1, qid);
	queue_read(f, &q);
	char srs[STORE_ADDRESS_MAX + 1];
	strcpy(srs, q.sender[0]);
	const char *back[] = { srs };
	deliver(f, "", back, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 2);
	assert_string_equal(sender_of(&q, "x@example.org"), "");
	/* an SRS1 of another forwarder's SRS0 comes back as that SRS0 */
	const char *srs0 = "SRS0=AbCd=7I=orig.example=carol@fwd1.example";
	deliver(f, srs0, rcpt, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 3);
	const char *srs1 = NULL;
	for (size_t i = 0; i < q.n; i++)
		if (strncmp(q.sender[i], "SRS1=", 5) == 0)
			srs1 = q.sender[i];
	assert_non_null(srs1);
	resolves_to(f, srs1, srs0);
}

static void refused(struct store_fixture *f, const char *address, const char *reason)
{
	struct store_rcpt_target t[STORE_ALIAS_TARGETS_MAX];
	size_t n = 0;
	const char *error = NULL;
	assert_int_equal(store_resolve(f->store, address, t, STORE_ALIAS_TARGETS_MAX, &n, &error),
			 STORE_RESOLVE_NO_USER);
	assert_int_equal(n, 0);
	if (error == NULL || strstr(error, reason) == NULL)
		fail_msg("<%s>: \"%s\", expected \"%s\"", address, error ? error : "", reason);
	struct config *c = f->config;
	assert_true(srs_address_ours(c, address));
}

static int secret_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	size_t len = 0;
	int r = store_get(store, DBI_META, txn, "srs secret", 10, ctx, SRS_SECRET_LEN, &len, 0);
	return r == 1 && len == SRS_SECRET_LEN ? 1 : r < 0 ? r : store_err(store, "no secret");
}

static int secret_del_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	(void)ctx;
	return store_del(store, DBI_META, txn, "srs secret", 10);
}

static void test_resolve_refused(void **state)
{
	struct store_fixture *f = *state;
	uint8_t key[SRS_SECRET_LEN];
	char srs[STORE_ADDRESS_MAX + 1];
	const char *error, *why;
	/* `store init` made the secret */
	assert_int_equal(store_read(f->store, secret_txn, key, &error), 1);
	assert_int_equal(srs_encode(key, "srs.example.net", "x@example.org", time(NULL), srs, &why),
			 1);
	resolves_to(f, srs, "x@example.org");
	srs[6] = srs[6] == 'A' ? 'B' : 'A';
	refused(f, srs, "hash does not match");
	assert_int_equal(srs_encode(key, "srs.example.net", "x@example.org",
				    time(NULL) - 30 * DAY, srs, &why), 1);
	refused(f, srs, "expired");
	assert_int_equal(srs_encode(key, "srs.example.net", "x@example.org",
				    time(NULL) + 3 * DAY, srs, &why), 1);
	refused(f, srs, "future");
	refused(f, "SRS0=garbage@srs.example.net", "SRS address");
	refused(f, "srs1=@SRS.example.net", "SRS address");
	/* in another domain it is an ordinary (remote) address */
	struct store_rcpt_target t[STORE_ALIAS_TARGETS_MAX];
	size_t n;
	assert_int_equal(store_resolve(f->store, "SRS0=garbage@other.example", t,
				       STORE_ALIAS_TARGETS_MAX, &n, &error),
			 STORE_RESOLVE_NOT_LOCAL);
}

/* A store made before SRS has no secret: nothing decodes, and the first
 * forward makes one (durably, apart from the delivery). */
static void test_old_store(void **state)
{
	struct store_fixture *f = *state;
	struct entries q;
	uint8_t key[SRS_SECRET_LEN], key2[SRS_SECRET_LEN];
	char qid[33], srs[STORE_ADDRESS_MAX + 1];
	const char *error, *why;
	assert_int_equal(store_read(f->store, secret_txn, key, &error), 1);
	assert_int_equal(store_write(f->store, true, secret_del_txn, NULL, &error), 1);
	assert_int_equal(store_read(f->store, secret_txn, key2, &error), -1);
	assert_int_equal(srs_encode(key, "srs.example.net", "x@example.org", time(NULL), srs, &why),
			 1);
	refused(f, srs, "never made one");
	const char *rcpt[] = { "fwd@example.com" };
	deliver(f, "x@example.org", rcpt, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 1);
	assert_true(is_srs0_of(q.sender[0], "example.org", "x"));
	assert_int_equal(store_read(f->store, secret_txn, key2, &error), 1);
	assert_memory_not_equal(key, key2, SRS_SECRET_LEN);
	resolves_to(f, q.sender[0], "x@example.org");
	/* the old secret's address stays refused; the next forward uses the
	 * same new secret */
	refused(f, srs, "hash does not match");
	deliver(f, "y@example.org", rcpt, 1, qid);
	uint8_t key3[SRS_SECRET_LEN];
	assert_int_equal(store_read(f->store, secret_txn, key3, &error), 1);
	assert_memory_equal(key2, key3, SRS_SECRET_LEN);
}

/* srs_domain unset: the host name. */
static void test_domain_default(void **state)
{
	struct store_fixture *f = *state;
	char d[STORE_DOMAIN_MAX + 1];
	free(f->config->srs_domain);
	f->config->srs_domain = NULL;
	free(f->config->hostname);
	f->config->hostname = strdup("mail.example.com.");
	assert_non_null(f->config->hostname);
	assert_string_equal(srs_domain(f->config, d), "mail.example.com");
	struct entries q;
	char qid[33];
	const char *rcpt[] = { "fwd@example.com" };
	deliver(f, "x@example.org", rcpt, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 1);
	assert_true(strncmp(q.sender[0], "SRS0=", 5) == 0);
	assert_non_null(strstr(q.sender[0], "=example.org=x@mail.example.com"));
	resolves_to(f, q.sender[0], "x@example.org");
}

/* The SRS address of x@example.org under the store's current secret. */
static void srs_now(struct store_fixture *f, char srs[STORE_ADDRESS_MAX + 1])
{
	uint8_t key[SRS_SECRET_LEN];
	const char *error, *why;
	assert_int_equal(store_read(f->store, secret_txn, key, &error), 1);
	assert_int_equal(srs_encode(key, "srs.example.net", "x@example.org", time(NULL), srs, &why),
			 1);
}

struct previous_rec {
	uint8_t rec[64];
	size_t len;
};

static int previous_get_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct previous_rec *p = ctx;
	p->len = 0;
	return store_get(store, DBI_META, txn, "srs secret previous", 19, p->rec, sizeof(p->rec),
			 &p->len, 0) < 0 ? -1 : 1;
}

static int previous_put_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct previous_rec *p = ctx;
	return store_put(store, DBI_META, txn, "srs secret previous", 19, p->rec, p->len, 0);
}

static void rotate(struct store_fixture *f, bool keep, struct store_srs_rotation *r)
{
	const char *error = NULL;
	if (store_srs_rotate(f->store, keep, r, &error) != 1)
		fail_msg("store_srs_rotate: %s", error ? error : "");
}

/* `pillarbox srs rotate`: the new secret signs; the old one verifies what
 * it made until the end of day + 22, or not at all with --drop-previous;
 * one previous secret is kept. */
static void test_rotate(void **state)
{
	struct store_fixture *f = *state;
	struct store_srs_rotation r;
	struct previous_rec p;
	char a[STORE_ADDRESS_MAX + 1], b[STORE_ADDRESS_MAX + 1], c[STORE_ADDRESS_MAX + 1];
	const char *error;
	int64_t now = time(NULL);
	srs_now(f, a);
	rotate(f, true, &r);
	assert_true(r.had_secret);
	assert_false(r.dropped_older);
	assert_int_equal(r.previous_until,
			 (now / DAY + SRS_MAX_AGE_DAYS + SRS_FUTURE_DAYS + 1) * DAY);
	srs_now(f, b);
	assert_string_not_equal(a, b);
	resolves_to(f, a, "x@example.org");
	resolves_to(f, b, "x@example.org");
	/* forwarded mail is signed with the new secret */
	struct entries q;
	char qid[33];
	const char *rcpt[] = { "fwd@example.com" };
	deliver(f, "x@example.org", rcpt, 1, qid);
	queue_read(f, &q);
	assert_int_equal(q.n, 1);
	assert_int_equal(strcasecmp(q.sender[0], b), 0);
	/* again: the first secret, still valid, is dropped for the second */
	rotate(f, true, &r);
	assert_true(r.dropped_older);
	srs_now(f, c);
	refused(f, a, "hash does not match");
	resolves_to(f, b, "x@example.org");
	resolves_to(f, c, "x@example.org");
	/* once its time is up the old one verifies nothing */
	assert_int_equal(store_read(f->store, previous_get_txn, &p, &error), 1);
	assert_int_equal(p.len, 8 + SRS_SECRET_LEN);
	uint64_t until = 0;
	for (int i = 0; i < 8; i++)
		until = until << 8 | p.rec[i];
	assert_true((int64_t)until > now);
	for (int i = 0; i < 8; i++)
		p.rec[i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
	assert_int_equal(store_write(f->store, true, previous_put_txn, &p, &error), 1);
	refused(f, b, "hash does not match");
	resolves_to(f, c, "x@example.org");
	/* nor does an end further off than a rotation sets: a clock set back */
	for (int i = 0; i < 8; i++)
		p.rec[i] = (uint8_t)((uint64_t)(now + 30 * DAY) >> (56 - 8 * i));
	assert_int_equal(store_write(f->store, true, previous_put_txn, &p, &error), 1);
	refused(f, b, "hash does not match");
	/* a damaged record: the current secret still verifies; an address it
	 * does not is a temporary failure that names the record, and a
	 * rotation mends it */
	p.len = 5;
	assert_int_equal(store_write(f->store, true, previous_put_txn, &p, &error), 1);
	resolves_to(f, c, "x@example.org");
	struct store_rcpt_target t[STORE_ALIAS_TARGETS_MAX];
	size_t n;
	assert_int_equal(store_resolve(f->store, b, t, STORE_ALIAS_TARGETS_MAX, &n, &error),
			 STORE_RESOLVE_ERROR);
	assert_non_null(strstr(error, "previous SRS secret"));
	assert_non_null(strstr(error, "`pillarbox srs rotate` replaces it"));
	/* --drop-previous: refused at once, and no previous record is left */
	rotate(f, false, &r);
	assert_true(r.had_secret);
	assert_int_equal(r.previous_until, 0);
	refused(f, c, "hash does not match");
	srs_now(f, a);
	resolves_to(f, a, "x@example.org");
	assert_int_equal(store_read(f->store, previous_get_txn, &p, &error), 1);
	assert_int_equal(p.len, 0);
}

/* A store with no secret gets one; nothing was ever signed. */
static void test_rotate_none(void **state)
{
	struct store_fixture *f = *state;
	struct store_srs_rotation r;
	const char *error;
	char a[STORE_ADDRESS_MAX + 1];
	assert_int_equal(store_write(f->store, true, secret_del_txn, NULL, &error), 1);
	rotate(f, true, &r);
	assert_false(r.had_secret);
	assert_int_equal(r.previous_until, 0);
	srs_now(f, a);
	resolves_to(f, a, "x@example.org");
}

int main(void)
{
	const struct CMUnitTest codec[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_srs1),
		cmocka_unit_test(test_wrong_hash),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_encode_refused),
	};
	int failed = cmocka_run_group_tests_name("codec", codec, NULL, NULL);
	int r = store_fixture_become_store_user();
	if (r != 0)
		return r == 77 && failed == 0 ? 77 : 1;
	const struct CMUnitTest store[] = {
		TEST(test_alias_forward),
		TEST(test_redirect_forward),
		TEST(test_kept),
		TEST(test_two_entries),
		TEST(test_bounce),
		TEST(test_resolve_refused),
		TEST(test_old_store),
		TEST(test_domain_default),
		TEST(test_rotate),
		TEST(test_rotate_none),
	};
	return failed + cmocka_run_group_tests_name("store", store, NULL, NULL) != 0;
}
