/* SRS addresses: making and reading them (srs.h). Pure functions over
 * bytes: no store, no clock, no allocation; the store's side (the secret,
 * who is rewritten) is srs_store.c. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "siphash.h"
#include "srs.h"

static const char srs_base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* The hash's input: a 4-character tag and up to three fields of one
 * address (so at most STORE_ADDRESS_MAX bytes together), NUL-separated. */
#define SRS_HASH_INPUT_MAX (4 + 3 + 2 * STORE_ADDRESS_MAX)
#define SRS_SECONDS_PER_DAY 86400

static int b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return 26 + (c - '2');
	return -1;
}

static bool b32_all(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b32_value(s[i]) < 0)
			return false;
	return true;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Printable ASCII, no space: what an SRS address is made of. */
static bool ascii_graphic(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* The day of `now`, modulo SRS_TIME_SLOTS. */
static unsigned srs_day(int64_t now)
{
	return (unsigned)((uint64_t)(now < 0 ? 0 : now) / SRS_SECONDS_PER_DAY % SRS_TIME_SLOTS);
}

struct field {
	const char *s;
	size_t len;
};

/* SRS_HASH_LEN base32 characters of the keyed hash of tag and fields. */
static void srs_hash(const uint8_t secret[SRS_SECRET_LEN], const char tag[4],
		     const struct field *fields, size_t n, char out[SRS_HASH_LEN])
{
	uint8_t buf[SRS_HASH_INPUT_MAX];
	size_t o = 4;
	memcpy(buf, tag, 4);
	for (size_t i = 0; i < n; i++) {
		/* the fields are parts of one address: this never cuts */
		size_t len = fields[i].len;
		if (len > sizeof(buf) - o - 1)
			len = sizeof(buf) - o - 1;
		buf[o++] = '\0';
		for (size_t k = 0; k < len; k++)
			buf[o++] = (uint8_t)ascii_lower(fields[i].s[k]);
	}
	uint64_t key[2];
	siphash_key(secret, key);
	uint64_t h = siphash13(key, buf, o);
	for (size_t i = 0; i < SRS_HASH_LEN; i++)
		out[i] = srs_base32[(h >> (5 * i)) & 31];
}

/* Whether `given` (SRS_HASH_LEN characters, any case) is `want`, in a
 * time that does not depend on where they differ. */
static bool hash_equal(const char *given, const char want[SRS_HASH_LEN])
{
	unsigned diff = 0;
	for (size_t i = 0; i < SRS_HASH_LEN; i++)
		diff |= (unsigned char)(ascii_upper(given[i]) ^ want[i]);
	return diff == 0;
}

/* The length of a domain without its final dot. */
static size_t domain_len(const char *domain, size_t len)
{
	return len > 0 && domain[len - 1] == '.' ? len - 1 : len;
}

static bool srs_prefix(const char *local, size_t len)
{
	return len >= 5 &&
	       (strncasecmp(local, "SRS0=", 5) == 0 || strncasecmp(local, "SRS1=", 5) == 0);
}

bool srs_is_ours(const char *srs_domain, const char *address, size_t len)
{
	size_t at = len;
	while (at > 0 && address[at - 1] != '@')
		at--;
	if (at == 0 || !srs_prefix(address, at - 1))
		return false;
	const char *d = address + at;
	size_t dlen = domain_len(d, len - at), slen = domain_len(srs_domain, strlen(srs_domain));
	return dlen > 0 && dlen == slen && strncasecmp(d, srs_domain, dlen) == 0;
}

/* A sender that is another's SRS address, as the first forwarder's host
 * and the opaque rest to put in an SRS1 address (the rest starts with the
 * '=' after SRS0): true, or false to wrap it as a plain address (also an
 * SRS1 whose SRS0 would not be a valid address: its host no domain). */
static bool srs1_parts(const char *local, size_t llen, const char *domain, struct field *host_r,
		       struct field *rest_r)
{
	if (llen <= 5)
		return false;
	if (strncasecmp(local, "SRS0=", 5) == 0) {
		*host_r = (struct field){ domain, strlen(domain) };
		*rest_r = (struct field){ local + 4, llen - 4 };
		return true;
	}
	if (strncasecmp(local, "SRS1=", 5) != 0)
		return false;
	const char *end = local + llen, *hash = local + 5;
	const char *host = memchr(hash, '=', (size_t)(end - hash));
	if (host == NULL || host == hash)
		return false;
	host++;
	const char *rest = memchr(host, '=', (size_t)(end - host));
	if (rest == NULL || rest == host)
		return false;
	rest++;
	if (end - rest < 2 || rest[0] != '=')
		return false;
	*host_r = (struct field){ host, (size_t)(rest - 1 - host) };
	*rest_r = (struct field){ rest, (size_t)(end - rest) };
	char back[STORE_ADDRESS_MAX + 1];
	int n = snprintf(back, sizeof(back), "SRS0%.*s@%.*s", (int)rest_r->len, rest_r->s,
			 (int)host_r->len, host_r->s);
	return n > 0 && n <= STORE_ADDRESS_MAX && store_address_valid(back);
}

/* out as made, if it is a valid address: 1, else 0 and *why_r. */
static int made(int n, char out[STORE_ADDRESS_MAX + 1], const char **why_r)
{
	if (n > 0 && n <= STORE_ADDRESS_MAX && store_address_valid(out))
		return 1;
	const char *at = n > 0 && n <= STORE_ADDRESS_MAX ? strrchr(out, '@') : NULL;
	*why_r = at == NULL || at - out > STORE_LOCALPART_MAX
		 ? "its SRS address would be too long (a local part of at most "
		   "64 characters)"
		 : "its SRS address would not be valid (is srs_domain a domain name?)";
	out[0] = '\0';
	return 0;
}

int srs_encode(const uint8_t secret[SRS_SECRET_LEN], const char *srs_domain, const char *sender,
	       int64_t now, char out[STORE_ADDRESS_MAX + 1], const char **why_r)
{
	size_t len = strnlen(sender, STORE_ADDRESS_MAX + 1);
	out[0] = '\0';
	if (len > STORE_ADDRESS_MAX || !ascii_graphic(sender, len) ||
	    !store_address_valid(sender)) {
		*why_r = "not a valid ASCII address";
		return 0;
	}
	const char *at = strrchr(sender, '@'), *domain = at + 1;
	size_t llen = (size_t)(at - sender);
	int slen = (int)domain_len(srs_domain, strnlen(srs_domain, STORE_DOMAIN_MAX + 1));
	char hash[SRS_HASH_LEN];
	struct field f[3];
	int n;

	if (srs1_parts(sender, llen, domain, &f[0], &f[1])) {
		srs_hash(secret, "SRS1", f, 2, hash);
		n = snprintf(out, STORE_ADDRESS_MAX + 1, "SRS1=%.*s=%.*s=%.*s@%.*s", SRS_HASH_LEN,
			     hash, (int)f[0].len, f[0].s, (int)f[1].len, f[1].s, slen, srs_domain);
		return made(n, out, why_r);
	}
	unsigned day = srs_day(now);
	char tt[SRS_TIME_LEN] = { srs_base32[day >> 5 & 31], srs_base32[day & 31] };
	f[0] = (struct field){ tt, SRS_TIME_LEN };
	f[1] = (struct field){ domain, strlen(domain) };
	f[2] = (struct field){ sender, llen };
	srs_hash(secret, "SRS0", f, 3, hash);
	n = snprintf(out, STORE_ADDRESS_MAX + 1, "SRS0=%.*s=%.*s=%s=%.*s@%.*s", SRS_HASH_LEN, hash,
		     SRS_TIME_LEN, tt, domain, (int)llen, sender, slen, srs_domain);
	return made(n, out, why_r);
}

static int refuse(const char **why_r, const char *why)
{
	*why_r = why;
	return 0;
}

/* The day TT (two base32 characters) within the accepted window of now. */
static int age_check(const char *tt, int64_t now, const char **why_r)
{
	unsigned then = (unsigned)(b32_value(tt[0]) * 32 + b32_value(tt[1]));
	unsigned age = (srs_day(now) + SRS_TIME_SLOTS - then) % SRS_TIME_SLOTS;
	if (age <= SRS_MAX_AGE_DAYS || SRS_TIME_SLOTS - age <= SRS_FUTURE_DAYS)
		return 1;
	return refuse(why_r, age < SRS_TIME_SLOTS / 2 ? "expired (older than 21 days)"
						      : "timestamp in the future");
}

int srs_decode(const uint8_t secret[SRS_SECRET_LEN], const char *srs_domain, const char *address,
	       size_t len, int64_t now, char out[STORE_ADDRESS_MAX + 1], const char **why_r)
{
	char addr[STORE_ADDRESS_MAX + 1], want[SRS_HASH_LEN];
	struct field f[3];
	int n;

	out[0] = '\0';
	if (len > STORE_ADDRESS_MAX)
		return refuse(why_r, "longer than an address may be");
	if (!ascii_graphic(address, len))
		return refuse(why_r, "a control, space or non-ASCII character");
	memcpy(addr, address, len);
	addr[len] = '\0';
	if (!srs_is_ours(srs_domain, addr, len))
		return refuse(why_r, "not an SRS address in the SRS domain");
	if (!store_address_valid(addr))
		return refuse(why_r, "not a valid address");
	const char *end = strrchr(addr, '@'), *hash = addr + 5, *p = hash + SRS_HASH_LEN;
	bool srs0 = addr[3] == '0';
	if (end - hash <= SRS_HASH_LEN || *p != '=' || !b32_all(hash, SRS_HASH_LEN))
		return refuse(why_r, "malformed hash");
	p++;
	if (srs0) {
		const char *tt = p;
		if (end - tt <= SRS_TIME_LEN || tt[SRS_TIME_LEN] != '=' ||
		    !b32_all(tt, SRS_TIME_LEN))
			return refuse(why_r, "malformed timestamp");
		const char *domain = tt + SRS_TIME_LEN + 1;
		const char *eq = memchr(domain, '=', (size_t)(end - domain));
		if (eq == NULL || eq == domain)
			return refuse(why_r, "no original domain");
		const char *local = eq + 1;
		if (local == end)
			return refuse(why_r, "no original local part");
		f[0] = (struct field){ tt, SRS_TIME_LEN };
		f[1] = (struct field){ domain, (size_t)(eq - domain) };
		f[2] = (struct field){ local, (size_t)(end - local) };
		srs_hash(secret, "SRS0", f, 3, want);
		if (!hash_equal(hash, want))
			return refuse(why_r, "hash does not match (forged or damaged)");
		if (age_check(tt, now, why_r) == 0)
			return 0;
		n = snprintf(out, STORE_ADDRESS_MAX + 1, "%.*s@%.*s", (int)f[2].len, f[2].s,
			     (int)f[1].len, f[1].s);
	} else {
		const char *host = p;
		const char *eq = memchr(host, '=', (size_t)(end - host));
		if (eq == NULL || eq == host)
			return refuse(why_r, "no host in an SRS1 address");
		const char *rest = eq + 1;
		if (end - rest < 2 || rest[0] != '=')
			return refuse(why_r, "no SRS0 part in an SRS1 address");
		f[0] = (struct field){ host, (size_t)(eq - host) };
		f[1] = (struct field){ rest, (size_t)(end - rest) };
		srs_hash(secret, "SRS1", f, 2, want);
		if (!hash_equal(hash, want))
			return refuse(why_r, "hash does not match (forged or damaged)");
		n = snprintf(out, STORE_ADDRESS_MAX + 1, "SRS0%.*s@%.*s", (int)f[1].len, f[1].s,
			     (int)f[0].len, f[0].s);
	}
	if (n <= 0 || n > STORE_ADDRESS_MAX || !store_address_valid(out)) {
		out[0] = '\0';
		return refuse(why_r, "does not stand for a valid address");
	}
	return 1;
}
