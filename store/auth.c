/* Password authentication with throttling, shared by SASL (inetd/) and the
 * webmail login.
 *
 * Policy. Failures are counted per canonical address ("u:" key) and per
 * client IP ("i:" key; both under accounts.db's tag 'F', beside the users a
 * login reads) in windows of AUTH_WINDOW_SECONDS that start at the first
 * failure:
 *  - the attempts on one address run one at a time: each holds an flock on
 *    <store>/notify/auth-NN.lock (NN from a hash of the address) from the
 *    moment it reads the counters until its outcome is recorded, so parallel
 *    connections cannot pass the address's threshold together (the price: a
 *    client opening several connections at once logs them in one after the
 *    other, a password check's time each);
 *  - the IP's counter has no such lock (one IP may be a NAT of many users):
 *    once an IP has a failure in its window, its attempts are counted as
 *    failures BEFORE the password is checked, in a short write transaction,
 *    and a success takes its own count back. So parallel guesses from one IP
 *    can pass its threshold only with the first burst, before any failure is
 *    recorded (at most the number of connections open at that moment);
 *  - a success deletes the address's counter if it has one; a success with
 *    no counter anywhere writes nothing (most logins: one snapshot read);
 *  - an address with AUTH_ADDRESS_FAILURES_MAX failures in its window, or an
 *    IP with AUTH_IP_FAILURES_MAX, is answered THROTTLED at once, without a
 *    password check and without being counted, until the window ends;
 *  - any other failure is answered after n * AUTH_DELAY_MS, n being the
 *    address's failures in the window, at most AUTH_DELAY_STEPS_MAX steps
 *    (after the lock is released).
 * So 1000 wrong passwords in a row for one address take 0.5 + 1 + ... + 4 + 4
 * + 4 = 26 s for the first ten and are then answered THROTTLED at once: at most
 * ten guesses per address (thirty per IP, plus a first burst) per 15 minutes.
 * The price, accepted and bounded: someone who knows an address can keep its
 * owner throttled for 15 minutes at a time.
 * If the lock file cannot be opened, the attempt is counted before its check
 * for the address too (the same guarantee, without the lock).
 * Unknown users, disabled users and wrong passwords run the same code: counted,
 * checked (against a dummy hash when there is no user), delayed, FAIL.
 * The slow password check runs outside any transaction: the user and the
 * counters are read in one snapshot, the password checked, and the outcome
 * recorded in a short write transaction when there is one to record.
 * An IPv6 client is counted by its /64 (auth_ip_key): one subscriber's
 * smallest prefix, whose 2^64 addresses a single host may take in turn.
 * Counter writes are WRITE_NOSYNC: losing the last second of them in a power
 * cut is acceptable. Counters are expired by store_maintain (maintain.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* secure_getenv */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "account_int.h"
#include "log.h"

#define AUTH_WINDOW_SECONDS 900       /* failures count for 15 minutes */
#define AUTH_ADDRESS_FAILURES_MAX 10  /* then THROTTLED until the window ends */
#define AUTH_IP_FAILURES_MAX 30       /* an IP may be a NAT of several users who mistype */
#define AUTH_DELAY_MS 500             /* a failure is answered after n times this */
#define AUTH_DELAY_STEPS_MAX 8        /* at most 8 * 500 ms = 4 s */
#define AUTH_DELAY_MS_MAX 10000       /* largest PILLARBOX_AUTH_DELAY_MS accepted */
#define AUTH_DELAY_ENV "PILLARBOX_AUTH_DELAY_MS" /* tests: the step in ms (0 = none) */
#define AUTH_RIP_MAX 64               /* an IPv6 address with a zone id fits */
/* "u:" + address, or "i:" + IP */
#define AUTH_KEY_MAX (2 + STORE_ADDRESS_MAX)
#define AUTHFAIL_REC_LEN 21           /* u8 version, u32 failures, u64 start, u64 last */
/* Address lock files in notify/ (a hash picks one): attempts on addresses
 * sharing a file wait for each other for a password check's time, rarely. */
#define AUTH_LOCK_SLOTS 256

struct auth_counter {
	uint32_t failures;
	int64_t window_start;
	int64_t last_failure;
};

/* Reads a counter; a missing, damaged or expired one reads as fresh (a
 * damaged counter must not lock anybody out). */
static int counter_get(struct store *store, DB_TXN *txn, const char *key, size_t keylen,
		       int64_t now, struct auth_counter *c, uint32_t flags)
{
	uint8_t buf[64];
	size_t len;
	struct unpack u;

	*c = (struct auth_counter){ .window_start = now };
	int r = account_get(store, txn, ACCOUNT_TAG_FAILURES, key, keylen, buf, sizeof(buf), &len,
			    flags);
	if (r <= 0)
		return r;
	unpack_init(&u, buf, len);
	uint8_t version = unpack_u8(&u);
	struct auth_counter got = {
		.failures = unpack_u32(&u),
		.window_start = (int64_t)unpack_u64(&u),
		.last_failure = (int64_t)unpack_u64(&u),
	};
	if (!u.error && version == AUTHFAIL_REC_VERSION && got.window_start <= now &&
	    now - got.window_start < AUTH_WINDOW_SECONDS)
		*c = got;
	return 1;
}

static int counter_put(struct store *store, DB_TXN *txn, const char *key, size_t keylen,
		       const struct auth_counter *c)
{
	uint8_t buf[AUTHFAIL_REC_LEN];
	struct pack p;

	pack_init(&p, buf, sizeof(buf));
	pack_u8(&p, AUTHFAIL_REC_VERSION);
	pack_u32(&p, c->failures);
	pack_u64(&p, (uint64_t)c->window_start);
	pack_u64(&p, (uint64_t)c->last_failure);
	int r = account_put(store, txn, ACCOUNT_TAG_FAILURES, key, keylen, buf, p.len);
	return r < 0 ? r : 1;
}

struct auth_ctx {
	char ukey[AUTH_KEY_MAX + 1];
	size_t ukeylen;              /* 0: the address is invalid, not counted */
	char ikey[AUTH_KEY_MAX + 1];
	size_t ikeylen;              /* 0: the IP is unknown */
	int64_t now;
	struct account_addr addr;
	struct user_rec rec;
	int found;                   /* the user record: 1 read, 0 none */
	struct auth_counter u, ip;   /* as read before the check */
	bool u_exists;               /* the address has a record (maybe expired) */
	bool reserved;               /* this attempt was counted before its check */
	bool throttled;
	uint32_t failures;           /* counted for this attempt, for the delay */
};

/* The first look, in one snapshot: both counters and the user. */
static int auth_look_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct auth_ctx *c = ctx;
	int r;

	c->u = c->ip = (struct auth_counter){ .window_start = c->now };
	c->u_exists = false;
	c->found = 0;
	if (c->ukeylen > 0) {
		if ((r = counter_get(store, txn, c->ukey, c->ukeylen, c->now, &c->u, 0)) < 0)
			return r;
		c->u_exists = r == 1;
		if ((r = user_rec_find_txn(store, txn, &c->addr, &c->rec, 0)) < 0)
			return r;
		c->found = r;
	}
	if (c->ikeylen > 0 &&
	    (r = counter_get(store, txn, c->ikey, c->ikeylen, c->now, &c->ip, 0)) < 0)
		return r;
	return 1;
}

static int auth_reserve_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct auth_ctx *c = ctx;
	struct auth_counter u = { 0 }, ip = { 0 };
	int r;

	c->throttled = false;
	c->failures = 1;
	if (c->ukeylen > 0 &&
	    (r = counter_get(store, txn, c->ukey, c->ukeylen, c->now, &u, DB_RMW)) < 0)
		return r;
	if (c->ikeylen > 0 &&
	    (r = counter_get(store, txn, c->ikey, c->ikeylen, c->now, &ip, DB_RMW)) < 0)
		return r;
	if (u.failures >= AUTH_ADDRESS_FAILURES_MAX || ip.failures >= AUTH_IP_FAILURES_MAX) {
		c->throttled = true;
		return 1;
	}
	u.failures++;
	u.last_failure = c->now;
	ip.failures++;
	ip.last_failure = c->now;
	if (c->ukeylen > 0 && (r = counter_put(store, txn, c->ukey, c->ukeylen, &u)) < 0)
		return r;
	if (c->ikeylen > 0 && (r = counter_put(store, txn, c->ikey, c->ikeylen, &ip)) < 0)
		return r;
	c->failures = c->ukeylen > 0 ? u.failures : ip.failures;
	return 1;
}

static int auth_success_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct auth_ctx *c = ctx;
	struct auth_counter ip;
	int r;

	if (c->ukeylen > 0 &&
	    (r = account_del(store, txn, ACCOUNT_TAG_FAILURES, c->ukey, c->ukeylen)) < 0)
		return r;
	if (c->ikeylen == 0 || !c->reserved)
		return 1;
	if ((r = counter_get(store, txn, c->ikey, c->ikeylen, c->now, &ip, DB_RMW)) <= 0)
		return r;
	if (ip.failures == 0)
		return 1;
	ip.failures--;
	return counter_put(store, txn, c->ikey, c->ikeylen, &ip);
}

/* The delay step: AUTH_DELAY_MS, or PILLARBOX_AUTH_DELAY_MS for tests (read
 * with secure_getenv: ignored in setuid programs; handlers clear their
 * environment at start unless told to keep it). */
static unsigned auth_delay_step_ms(void)
{
	const char *s = secure_getenv(AUTH_DELAY_ENV);
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return AUTH_DELAY_MS;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > AUTH_DELAY_MS_MAX)
		return AUTH_DELAY_MS;
	return (unsigned)v;
}

static void auth_delay(uint32_t failures)
{
	uint64_t ms = (uint64_t)auth_delay_step_ms() *
		(failures < AUTH_DELAY_STEPS_MAX ? failures : AUTH_DELAY_STEPS_MAX);
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool rip_valid(const char *rip, size_t len)
{
	if (len == 0 || len > AUTH_RIP_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (rip[i] <= ' ' || rip[i] > '~')
			return false;
	return true;
}

/* The text after "i:" for a client address: an IPv6 address as its /64
 * ("2001:db8::/64"), since counting each of a host's addresses alone would
 * give it any number of AUTH_IP_FAILURES_MAX budgets; an IPv4-mapped one as
 * IPv4 (the same client on either socket family); anything else (IPv4, an
 * address with a zone id) as given. Returns the length written to dst. */
static size_t auth_ip_key(const char *rip, size_t len, char *dst, size_t dstsize)
{
	struct in6_addr a6;
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, rip, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			if (inet_ntop(AF_INET, &a6.s6_addr[12], text, sizeof(text)) != NULL)
				return (size_t)snprintf(dst, dstsize, "%s", text);
		} else {
			memset(&a6.s6_addr[8], 0, 8);
			if (inet_ntop(AF_INET6, &a6, text, sizeof(text)) != NULL)
				return (size_t)snprintf(dst, dstsize, "%s/64", text);
		}
	}
	memcpy(dst, rip, len);
	dst[len] = '\0';
	return len;
}

/* Serialises the attempts on one address (see the policy above): the
 * lock's fd, or -1 when there is none (the caller then counts the attempt
 * before checking it). FNV-1a of the address picks the file. */
static int auth_lock_address(struct store *store, const struct auth_ctx *c)
{
	char path[4096];
	uint32_t h = 2166136261u;
	int fd;

	if (c->ukeylen == 0)
		return -1;
	for (size_t i = 0; i < c->ukeylen; i++)
		h = (h ^ (uint8_t)c->ukey[i]) * 16777619u;
	snprintf(path, sizeof(path), "%s/auth-%02x.lock", store->notify,
		 (unsigned)(h % AUTH_LOCK_SLOTS));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd < 0) {
		log_warning("store: %s: %s (logins counted before their check)", path,
			    strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void auth_unlock_address(int *fd)
{
	if (*fd >= 0)
		close(*fd); /* releases the flock */
	*fd = -1;
}

/* Counts the attempt as a failure before or after its check. A full disk
 * must not lock everybody out (SECURITY.md 9: throttle, never lock): when
 * the count cannot be written for want of space, the attempt goes on
 * uncounted, still delayed. 1 counted, 0 not (so), -1 store error. */
static int auth_count(struct store *store, struct auth_ctx *c, const char **error_r)
{
	if (store_write(store, false, auth_reserve_txn, c, error_r) >= 0)
		return 1;
	if (!store_error_no_space(store))
		return -1;
	log_warning("store: a login attempt was not counted: %s", store_last_error(store));
	return 0;
}

static enum store_auth_result auth_login(struct store *store, struct auth_ctx *c,
					 const char *password, struct store_user *user_r,
					 const char **error_r)
{
	int lock = auth_lock_address(store, c);

	/* 1. The counters and the user, from one snapshot. */
	if (store_read(store, auth_look_txn, c, error_r) < 0) {
		auth_unlock_address(&lock);
		return STORE_AUTH_TEMPFAIL;
	}
	if (c->u.failures >= AUTH_ADDRESS_FAILURES_MAX || c->ip.failures >= AUTH_IP_FAILURES_MAX) {
		auth_unlock_address(&lock);
		account_refuse(store, error_r, "too many failed logins: try again later");
		return STORE_AUTH_THROTTLED;
	}
	/* 2. Counted first where parallel attempts could pass a threshold
	 * together: the IP has failures (its attempts are not serialised),
	 * or the address could not be locked. */
	if (lock < 0 || c->ip.failures > 0) {
		int counted = auth_count(store, c, error_r);
		if (counted < 0) {
			auth_unlock_address(&lock);
			return STORE_AUTH_TEMPFAIL;
		}
		if (c->throttled) {
			auth_unlock_address(&lock);
			account_refuse(store, error_r, "too many failed logins: try again later");
			return STORE_AUTH_THROTTLED;
		}
		c->reserved = counted == 1;
	}
	/* 3. The slow check, outside any transaction. */
	bool ok = false;
	if (password != NULL && strnlen(password, PASSWORD_MAX + 1) <= PASSWORD_MAX)
		ok = password_verify(password, c->found == 1 ? c->rec.hash : NULL) == 1;
	if (ok && c->found == 1 && !c->rec.user.disabled) {
		/* 4. Forget the address's failures, give the IP its count back;
		 * nothing to write when neither has any. The user proved the
		 * password: a store error here does not undo that. */
		if (c->reserved || c->u_exists)
			store_write(store, false, auth_success_txn, c, NULL);
		auth_unlock_address(&lock);
		if (user_r != NULL)
			*user_r = c->rec.user;
		return STORE_AUTH_OK;
	}
	/* 4. A failure not counted yet is counted now, before the lock goes. */
	if (!c->reserved && auth_count(store, c, error_r) < 0) {
		auth_unlock_address(&lock);
		return STORE_AUTH_TEMPFAIL;
	}
	auth_unlock_address(&lock);
	auth_delay(c->failures);
	account_refuse(store, error_r, "authentication failed");
	return STORE_AUTH_FAIL;
}

enum store_auth_result store_auth_login(struct store *store, const char *address,
					const char *password, const char *rip,
					struct store_user *user_r, const char **error_r)
{
	struct auth_ctx *c = calloc(1, sizeof(*c));
	enum store_auth_result result;

	if (c == NULL) {
		account_oom(store, error_r);
		return STORE_AUTH_TEMPFAIL;
	}
	c->now = (int64_t)time(NULL);
	const char *why = NULL;
	int parsed = address != NULL ? account_addr_parse(address, &c->addr, &why) : 0;
	if (parsed < 0) { /* an IDN, and libidn2 is missing: not the user's fault */
		account_parse_refuse(store, error_r, parsed, "", why);
		free(c);
		return STORE_AUTH_TEMPFAIL;
	}
	if (parsed == 1) {
		c->ukeylen = 2 + strlen(c->addr.key);
		memcpy(c->ukey, "u:", 2);
		memcpy(c->ukey + 2, c->addr.key, c->ukeylen - 2);
	}
	size_t riplen = rip != NULL ? strnlen(rip, AUTH_RIP_MAX + 1) : 0;
	if (riplen > 0) {
		if (!rip_valid(rip, riplen)) {
			store_err(store, "invalid client address given to store_auth_login");
			*error_r = store_last_error(store);
			free(c);
			return STORE_AUTH_TEMPFAIL;
		}
		memcpy(c->ikey, "i:", 2);
		c->ikeylen = 2 + auth_ip_key(rip, riplen, c->ikey + 2, sizeof(c->ikey) - 2);
	}
	result = auth_login(store, c, password, user_r, error_r);
	password_wipe(c->rec.hash, sizeof(c->rec.hash));
	free(c);
	return result;
}

/* ---- maintenance ---- */

int authfail_forget_txn(struct store *store, DB_TXN *txn, const char *key)
{
	char ukey[AUTH_KEY_MAX + 1];
	size_t len = strlen(key);

	if (len > STORE_ADDRESS_MAX)
		return 1;
	memcpy(ukey, "u:", 2);
	memcpy(ukey + 2, key, len);
	int r = account_del(store, txn, ACCOUNT_TAG_FAILURES, ukey, 2 + len);
	return r < 0 ? r : 1;
}

struct unlock_ctx {
	char keys[2][AUTH_KEY_MAX + 1];
	size_t lens[2];
	int removed;
};

static int unlock_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct unlock_ctx *c = ctx;
	c->removed = 0;
	for (size_t i = 0; i < 2; i++) {
		if (c->lens[i] == 0)
			continue;
		int r = account_del(store, txn, ACCOUNT_TAG_FAILURES, c->keys[i], c->lens[i]);
		if (r < 0)
			return r;
		c->removed += r;
	}
	return 1;
}

bool store_auth_ip_valid(const char *ip)
{
	struct in6_addr a;
	return rip_valid(ip, strnlen(ip, AUTH_RIP_MAX + 1)) &&
	       (inet_pton(AF_INET, ip, &a) == 1 || inet_pton(AF_INET6, ip, &a) == 1);
}

int store_auth_unlock(struct store *store, const char *address, const char *ip,
		      unsigned *removed_r, const char **error_r)
{
	struct unlock_ctx c = { .lens = { 0, 0 } };
	if (address != NULL) {
		struct account_addr addr;
		const char *why = NULL;
		int parsed = account_addr_parse(address, &addr, &why);
		if (parsed <= 0)
			return account_parse_refuse(store, error_r, parsed, address, why);
		c.lens[0] = 2 + strlen(addr.key);
		memcpy(c.keys[0], "u:", 2);
		memcpy(c.keys[0] + 2, addr.key, c.lens[0] - 2);
	}
	if (ip != NULL) {
		size_t len = strnlen(ip, AUTH_RIP_MAX + 1);
		if (!store_auth_ip_valid(ip))
			return account_refuse(store, error_r, "not an IP address");
		memcpy(c.keys[1], "i:", 2);
		c.lens[1] = 2 + auth_ip_key(ip, len, c.keys[1] + 2, sizeof(c.keys[1]) - 2);
	}
	int r = store_write(store, true, unlock_txn, &c, error_r);
	if (r == 1)
		*removed_r = (unsigned)c.removed;
	return r;
}
