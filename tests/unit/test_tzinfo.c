/* Time zones from TZif files: offsets compared with glibc's localtime_r()
 * (the test is single-threaded, so it may set TZ) for many zones and
 * instants, as installed ("fat") and as zic's "slim" form that leaves
 * current dates to the footer; footer TZ strings compared with glibc's own
 * parsing; zone names; malformed files refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ftw.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tzinfo.h"

/* Zones chosen for their oddities. */
static const char *const zones[] = {
	"Europe/Berlin", "Europe/London", "Europe/Dublin" /* negative DST */, "Europe/Lisbon",
	"Europe/Moscow", "Europe/Chisinau", "Europe/Istanbul",
	"America/New_York", "America/Chicago", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "America/Havana" /* DST at midnight */, "America/Sao_Paulo",
	"America/St_Johns" /* -03:30 */, "America/Santiago" /* /24 */, "America/Asuncion",
	"America/Nuuk" /* /-1 */, "America/Scoresbysund", "America/Caracas",
	"America/Mexico_City", "Pacific/Easter" /* /22 */,
	"Asia/Kolkata", "Asia/Kathmandu" /* +05:45 */, "Asia/Tehran", "Asia/Jerusalem" /* /26 */,
	"Asia/Gaza" /* /50 */, "Asia/Beirut", "Asia/Tokyo", "Asia/Shanghai",
	"Australia/Lord_Howe" /* 30-minute DST */, "Australia/Sydney", "Australia/Adelaide",
	"Australia/Eucla" /* +08:45 */, "Pacific/Chatham" /* +12:45/+13:45 */, "Pacific/Apia",
	"Pacific/Kiritimati" /* +14 */, "Pacific/Auckland", "Pacific/Marquesas" /* -09:30 */,
	"Africa/Casablanca" /* Ramadan, listed to 2087 */, "Africa/Cairo" /* /24 */,
	"Africa/Johannesburg", "Antarctica/Troll" /* 2-hour DST */, "UTC", "Etc/GMT+5",
	"Etc/GMT-14",
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* 1900-01-01 and 2100-01-01. */
#define T_1900 (-2208988800LL)
#define T_2100 4102444800LL
#define T_2024 1704067200LL
#define T_2028 1830297600LL

static size_t comparisons;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* glibc's local time under the TZ value set last. */
struct oracle {
	int64_t t;
	long off;
	bool dst;
	char abbr[16];
};

static void glibc_at(int64_t t, struct oracle *o)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (localtime_r(&tt, &tm) == NULL)
		fail_msg("localtime_r(%lld) failed", (long long)t);
	o->t = t;
	o->off = tm.tm_gmtoff;
	o->dst = tm.tm_isdst > 0;
	snprintf(o->abbr, sizeof(o->abbr), "%s", tm.tm_zone);
}

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void same(const char *what, const struct tzinfo *z, const struct oracle *o)
{
	bool dst = !o->dst;
	int off = tzinfo_offset(z, o->t, &dst);
	const char *abbr = tzinfo_abbr(z, o->t);
	if (off != o->off || dst != o->dst || strcmp(abbr, o->abbr) != 0)
		fail_msg("%s at %lld: got %d %s %s, glibc %ld %s %s", what, (long long)o->t, off,
			dst ? "dst" : "std", abbr, o->off, o->dst ? "dst" : "std", o->abbr);
	comparisons++;
}

/* The 64-bit transition times of a (trusted) zone file. */
static size_t file_transitions(const char *path, int64_t *out, size_t max)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static uint8_t buf[TZINFO_FILE_MAX];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(len > 44 && buf[4] >= '2');
#define BE32(p) ((uint32_t)(p)[0] << 24 | (uint32_t)(p)[1] << 16 | (uint32_t)(p)[2] << 8 | (p)[3])
	const uint8_t *h = buf;
	size_t v1 = BE32(h + 32) * 5 + BE32(h + 36) * 6 + BE32(h + 40) + BE32(h + 28) * 8 +
		BE32(h + 24) + BE32(h + 20);
	h = buf + 44 + v1;
	size_t n = BE32(h + 32);
	assert_true(n <= max && 44 + v1 + 44 + n * 8 <= len);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = h + 44 + i * 8;
		out[i] = (int64_t)((uint64_t)BE32(p) << 32 | BE32(p + 4));
	}
	return n;
}

/* Instants worth asking about, with glibc's answers for the TZ set last:
 * hourly through 2024-2027, each listed transition and glibc's own changes
 * 1900-2100 (found day by day, then by bisection) at -1, 0, +1 seconds,
 * and random instants 1900-2100. */
struct instants {
	struct oracle *o;
	size_t n, cap;
};

static void add(struct instants *in, int64_t t)
{
	if (in->n == in->cap) {
		in->cap = in->cap == 0 ? 65536 : in->cap * 2;
		in->o = realloc(in->o, in->cap * sizeof(in->o[0]));
		assert_non_null(in->o);
	}
	glibc_at(t, &in->o[in->n++]);
}

static void add_around(struct instants *in, int64_t t)
{
	add(in, t - 1);
	add(in, t);
	add(in, t + 1);
}

static void collect(struct instants *in, const char *path)
{
	static int64_t trans[TZINFO_TRANSITIONS_MAX];
	struct oracle a, b;

	in->n = 0;
	for (int64_t t = T_2024; t < T_2028; t += 3600)
		add(in, t);
	size_t n = file_transitions(path, trans, TZINFO_TRANSITIONS_MAX);
	for (size_t i = 0; i < n; i++)
		add_around(in, trans[i]);
	glibc_at(T_1900, &a);
	for (int64_t t = T_1900 + 86400; t <= T_2100; t += 86400) {
		glibc_at(t, &b);
		if (b.off != a.off || b.dst != a.dst || strcmp(b.abbr, a.abbr) != 0) {
			int64_t lo = t - 86400, hi = t; /* a change in (lo, hi] */
			while (hi - lo > 1) {
				struct oracle m;
				int64_t mid = lo + (hi - lo) / 2;
				glibc_at(mid, &m);
				if (m.off == a.off && m.dst == a.dst && strcmp(m.abbr, a.abbr) == 0)
					lo = mid;
				else
					hi = mid;
			}
			add_around(in, hi);
		}
		a = b;
	}
	for (int i = 0; i < 2000; i++)
		add(in, T_1900 + (int64_t)(next_random() % (uint64_t)(T_2100 - T_1900)));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* zic -b slim of the installed sources into dir; false if zic or the
 * sources are missing. */
static bool make_slim(const char *dir)
{
	static const char *const zics[] = { "/usr/sbin/zic", "/usr/bin/zic", "/sbin/zic" };
	const char *zic = NULL;
	for (size_t i = 0; i < 3 && zic == NULL; i++)
		if (access(zics[i], X_OK) == 0)
			zic = zics[i];
	if (zic == NULL || access(TZINFO_DIR "/tzdata.zi", R_OK) != 0)
		return false;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(zic, "zic", "-b", "slim", "-d", dir, TZINFO_DIR "/tzdata.zi", (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Each zone of the list from the installed file, and from zic's slim
 * output of the installed sources, against glibc reading the same file
 * (zic's outputs may differ: glibc 2.36's zic -b slim leaves out Gaza's
 * Ramadan changes of 2073). */
static char slim[] = "/tmp/test_tzinfo.XXXXXX";

/* The slim files' directory, removed even when a comparison fails. */
static int slim_setup(void **state)
{
	return mkdtemp(slim) == NULL ? -1 : 0;
}

static int slim_teardown(void **state)
{
	return nftw(slim, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_zones_match_glibc(void **state)
{
	struct instants in = { 0 };
	const char *error = NULL;
	size_t before = comparisons, cross = 0;

	bool have_slim = make_slim(slim);
	if (!have_slim)
		print_message("zic or tzdata.zi missing: slim files not checked\n");
	for (size_t i = 0; i < NZONES; i++) {
		struct tzinfo *fat = NULL;
		for (int pass = 0; pass < (have_slim ? 2 : 1); pass++) {
			const char *dir = pass == 0 ? TZINFO_DIR : slim;
			char path[256], tz[260];
			snprintf(path, sizeof(path), "%s/%s", dir, zones[i]);
			snprintf(tz, sizeof(tz), ":%s", path);
			set_tz(tz);
			collect(&in, path);
			struct tzinfo *z = tzinfo_load(dir, zones[i], &error);
			if (z == NULL)
				fail_msg("%s: %s", path, error);
			for (size_t j = 0; j < in.n; j++)
				same(path, z, &in.o[j]);
			if (pass == 0) {
				fat = z;
				continue;
			}
			/* The slim file's footer against the installed file's
			 * table (zic's own expansion of the same rules). */
			bool gaza = strcmp(zones[i], "Asia/Gaza") == 0;
			for (size_t j = 0; j < in.n && !gaza; j++) {
				int64_t t = in.o[j].t;
				bool d1, d2;
				int off = tzinfo_offset(z, t, &d1);
				if (off != tzinfo_offset(fat, t, &d2) || d1 != d2)
					fail_msg("%s: slim and installed differ at %lld", zones[i],
						(long long)t);
				cross++;
			}
			tzinfo_free(&z);
			assert_null(z);
		}
		tzinfo_free(&fat);
	}
	free(in.o);
	print_message("%zu zones%s, %zu comparisons with glibc, %zu of slim with installed\n",
		NZONES, have_slim ? " (installed and slim)" : "", comparisons - before, cross);
}

/* A TZif file made by hand. */
struct tzif {
	char version;              /* 0, '2', '3', '4' */
	size_t ntimes;
	const int64_t *times;
	const uint8_t *idx;
	size_t ntypes;
	const int32_t *offs;
	const uint8_t *dsts, *abbrs;
	const char *chars;
	size_t nchars;
	size_t nstd, nut;
	const uint8_t *std, *ut;
	const char *footer;        /* between the newlines; NULL: none at all */
};

struct out {
	uint8_t *buf;
	size_t len, cap;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2;
		o->buf = realloc(o->buf, o->cap);
		assert_non_null(o->buf);
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put32(struct out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put(o, b, 4);
}

static void put_header(struct out *o, char version, uint32_t isut, uint32_t isstd, uint32_t leap,
	uint32_t time, uint32_t type, uint32_t chars)
{
	static const uint8_t zero[15];
	put(o, "TZif", 4);
	put(o, &version, 1);
	put(o, zero, 15);
	put32(o, isut);
	put32(o, isstd);
	put32(o, leap);
	put32(o, time);
	put32(o, type);
	put32(o, chars);
}

/* The file's bytes (malloc'd, *len_r long). Version 2 and later get an
 * empty version 1 block, as zic -b slim writes. */
static uint8_t *tzif_make(const struct tzif *f, size_t *len_r)
{
	struct out o = { 0 };
	bool v1 = f->version == 0;

	if (!v1) {
		put_header(&o, f->version, 0, 0, 0, 0, 1, 1);
		put(&o, "\0\0\0\0\0\0\0", 7); /* one type, one NUL */
	}
	put_header(&o, f->version, (uint32_t)f->nut, (uint32_t)f->nstd, 0, (uint32_t)f->ntimes,
		(uint32_t)f->ntypes, (uint32_t)f->nchars);
	for (size_t i = 0; i < f->ntimes; i++) {
		if (!v1)
			put32(&o, (uint32_t)((uint64_t)f->times[i] >> 32));
		put32(&o, (uint32_t)f->times[i]);
	}
	put(&o, f->idx, f->ntimes);
	for (size_t i = 0; i < f->ntypes; i++) {
		put32(&o, (uint32_t)f->offs[i]);
		put(&o, &f->dsts[i], 1);
		put(&o, &f->abbrs[i], 1);
	}
	put(&o, f->chars, f->nchars);
	put(&o, f->std, f->nstd);
	put(&o, f->ut, f->nut);
	if (!v1 && f->footer != NULL) {
		put(&o, "\n", 1);
		put(&o, f->footer, strlen(f->footer));
		put(&o, "\n", 1);
	}
	*len_r = o.len;
	return o.buf;
}

static struct tzinfo *parse_ok(const uint8_t *buf, size_t len)
{
	struct tzinfo *z = NULL;
	const char *error = NULL;
	if (tzinfo_parse(buf, len, &z, &error) != 0)
		fail_msg("refused: %s", error);
	assert_non_null(z);
	return z;
}

/* Refused, with `expect` in the message (NULL: any message). */
static void refused_as(const uint8_t *buf, size_t len, const char *why, const char *expect)
{
	struct tzinfo *z = NULL;
	const char *error = NULL;
	/* An exact copy, so that ASan sees any read past the end. */
	uint8_t *copy = malloc(len == 0 ? 1 : len);
	assert_non_null(copy);
	memcpy(copy, buf, len);
	if (tzinfo_parse(copy, len, &z, &error) != -1)
		fail_msg("accepted: %s (%zu bytes)", why, len);
	assert_null(z);
	assert_non_null(error);
	if (expect != NULL && strstr(error, expect) == NULL)
		fail_msg("%s: \"%s\", not \"%s\"", why, error, expect);
	free(copy);
}

static void refused(const uint8_t *buf, size_t len, const char *why)
{
	refused_as(buf, len, why, NULL);
}

/* A one-transition file: type 0 until 1901-12-14, then the footer's
 * standard time (type 1), then the footer. */
static uint8_t *footer_file(const char *footer, int32_t std_off, size_t *len_r)
{
	static const int64_t times[] = { -2147483648LL };
	static const uint8_t idx[] = { 1 }, dsts[] = { 0, 0 }, abbrs[] = { 0, 4 };
	const int32_t offs[] = { 0, std_off };
	struct tzif f = {
		.version = '3', .ntimes = 1, .times = times, .idx = idx, .ntypes = 2, .offs = offs,
		.dsts = dsts, .abbrs = abbrs, .chars = "LMT\0STD\0", .nchars = 8, .footer = footer,
	};
	return tzif_make(&f, len_r);
}

/* glibc 2.36 computes a TZ string's changes in years before 1971 as if in
 * 1970 (compute_change()), so there it is asked 400 years later: the
 * rules repeat every 400 years. */
#define CYCLE_SECS (146097LL * 86400)
#define T_1971 31536000LL

static void add_rule_instant(struct instants *in, int64_t t)
{
	if (t >= T_1971) {
		add(in, t);
		return;
	}
	add(in, t + CYCLE_SECS);
	in->o[in->n - 1].t = t;
}

/* Footers of every rule form, each compared with glibc given the same
 * string as TZ. */
static void test_footers_match_glibc(void **state)
{
	static const struct {
		const char *tz;
		int32_t std_off;
	} cases[] = {
		{ "EST5EDT,J60/2,J300/2", -18000 },          /* Jn: Feb 29 not counted */
		{ "AAA3BBB,59/2,300", -10800 },              /* n: counted */
		{ "AAA3BBB,10/0,364/0", -10800 },            /* n 364: Dec 30 in leap years */
		{ "<-03>3<-02>,M3.2.0/-1,M11.1.0/26", -10800 },
		{ "XXX-5:30YYY-6:45:15,M4.1.0/0:30:15,M9.5.6/167", 19800 },
		{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", 45900 },
		{ "IST-1GMT0,M10.5.0,M3.5.0/1", 3600 },      /* negative DST */
		{ "ABC+3DEF+2,M3.5.0/-2,M10.5.0/-3", -10800 },
		{ "AAA-14BBB-13,M5.5.5/50,M8.1.1/-50", 50400 },
		{ "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3", 0 },   /* 2-hour DST */
		{ "CCC2DDD,J1/12,J365/12", -7200 },          /* DST most of the year */
		{ "<-0930>9:30", -34200 },
		{ "EEE-14", 50400 },
		{ "FFF+0:0:1GGG-24:59:59,M2.5.0/0,M2.4.0/23", -1 },
	};
	struct instants in = { 0 };
	size_t before = comparisons;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *buf = footer_file(cases[i].tz, cases[i].std_off, &len);
		struct tzinfo *z = parse_ok(buf, len);
		set_tz(cases[i].tz);
		struct oracle a, b;
		in.n = 0;
		for (int64_t t = T_2024; t < T_2028; t += 1800)
			add(&in, t);
		glibc_at(T_1971, &a);
		for (int64_t t = a.t + 4 * 3600; t <= T_2100; t += 4 * 3600) {
			glibc_at(t, &b);
			if (b.off != a.off || b.dst != a.dst) {
				int64_t lo = t - 4 * 3600, hi = t;
				while (hi - lo > 1) {
					struct oracle m;
					int64_t mid = lo + (hi - lo) / 2;
					glibc_at(mid, &m);
					if (m.off == a.off && m.dst == a.dst)
						lo = mid;
					else
						hi = mid;
				}
				add_around(&in, hi);
			}
			a = b;
		}
		/* after the file's one transition, at -2**31 */
		for (int j = 0; j < 5000; j++)
			add_rule_instant(&in, -2147483648LL +
				(int64_t)(next_random() % (uint64_t)(T_2100 + 2147483648LL)));
		for (size_t j = 0; j < in.n; j++)
			same(cases[i].tz, z, &in.o[j]);
		tzinfo_free(&z);
		free(buf);
	}
	free(in.o);
	print_message("%zu footer comparisons with glibc\n", comparisons - before);
}

static int off_at(const uint8_t *buf, size_t len, int64_t t, bool *dst_r)
{
	struct tzinfo *z = parse_ok(buf, len);
	int off = tzinfo_offset(z, t, dst_r);
	tzinfo_free(&z);
	return off;
}

static void dst_at(const struct tzinfo *z, int64_t t, int off, bool dst)
{
	bool got_dst = !dst;
	int got = tzinfo_offset(z, t, &got_dst);
	if (got != off || got_dst != dst)
		fail_msg("at %lld: got %d %d, want %d %d", (long long)t, got, got_dst, off, dst);
}

/* Rules whose changes cross a new year, where glibc 2.36 is wrong: it
 * takes both changes from the UTC year of the instant. */
static void test_year_edges(void **state)
{
	size_t len;
	/* DST all year (RFC 8536 3.3.1): from Jan 1 00:00 to Dec 31 24:00
	 * plus the hour saved. glibc says EST from Jan 1 00:00 to 05:00 UTC. */
	uint8_t *buf = footer_file("EST5EDT,0/0,J365/25", -18000, &len);
	struct tzinfo *z = parse_ok(buf, len);
	for (int64_t t = T_2024 - 86400 * 3; t < T_2028; t += 600)
		dst_at(z, t, -14400, true);
	/* And far away: the rules repeat every 400 years. */
	dst_at(z, INT64_MAX, -14400, true);
	dst_at(z, INT64_MAX - 7 * 86400, -14400, true);
	assert_string_equal(tzinfo_abbr(z, 0), "EDT");
	/* Before the file's one transition: type 0. */
	dst_at(z, INT64_MIN, 0, false);
	assert_string_equal(tzinfo_abbr(z, INT64_MIN), "LMT");
	tzinfo_free(&z);
	free(buf);

	/* Day 365 counted from 0 is next Jan 1 in a common year: 2023's DST
	 * runs from 2023-01-01 03:00 to 2024-01-01 02:00 UTC, 2024's from
	 * 03:00 that day to 2024-12-31 02:00 UTC. glibc says std at
	 * 2024-01-01 00:00 UTC. */
	buf = footer_file("AAA3BBB,0/0,365/0", -10800, &len);
	z = parse_ok(buf, len);
	dst_at(z, T_2024 - 1, -7200, true);
	dst_at(z, T_2024, -7200, true);
	dst_at(z, T_2024 + 7199, -7200, true);
	dst_at(z, T_2024 + 7200, -10800, false);
	dst_at(z, T_2024 + 10799, -10800, false);
	dst_at(z, T_2024 + 10800, -7200, true);
	dst_at(z, 1735610400 - 1, -7200, true); /* 2024-12-31 02:00 UTC */
	dst_at(z, 1735610400, -10800, false);
	tzinfo_free(&z);
	free(buf);

	/* A change a week past its year (RFC 8536 hours up to 167): 2023's
	 * DST starts on its last Sunday (Dec 31) at 167:00, 2024-01-06 23:00
	 * UTC, and ends with 2024's rule on Jan 14 at 00:00 local. */
	buf = footer_file("AAA0BBB,M12.5.0/167,M1.2.0/0", 0, &len);
	z = parse_ok(buf, len);
	dst_at(z, T_2024 + 5 * 86400 + 23 * 3600 - 1, 0, false);
	dst_at(z, T_2024 + 5 * 86400 + 23 * 3600, 3600, true);
	dst_at(z, T_2024 + 12 * 86400 + 23 * 3600 - 1, 3600, true);
	dst_at(z, T_2024 + 12 * 86400 + 23 * 3600, 0, false);
	tzinfo_free(&z);
	free(buf);
}

/* RFC 8536 3.2 rules that glibc 2.36 does not follow: type 0 before the
 * first transition even when it is DST, and the footer for every instant
 * when there are no transitions. */
static void test_rfc_rules(void **state)
{
	static const int64_t times[] = { 1000, 2000 };
	static const uint8_t idx[] = { 1, 0 }, dsts[] = { 1, 0 }, abbrs[] = { 0, 4 };
	static const int32_t offs[] = { 3600, 0 };
	struct tzif f = {
		.version = '2', .ntimes = 2, .times = times, .idx = idx, .ntypes = 2, .offs = offs,
		.dsts = dsts, .abbrs = abbrs, .chars = "AAA\0BBB\0", .nchars = 8, .footer = "",
	};
	size_t len;
	bool dst;
	uint8_t *buf = tzif_make(&f, &len);
	struct tzinfo *z = parse_ok(buf, len);
	assert_int_equal(tzinfo_offset(z, 999, &dst), 3600);
	assert_true(dst);
	assert_string_equal(tzinfo_abbr(z, 999), "AAA");
	assert_int_equal(tzinfo_offset(z, 1000, &dst), 0);
	assert_false(dst);
	assert_int_equal(tzinfo_offset(z, 1999, NULL), 0);
	/* No footer rule: the last type stays. */
	assert_int_equal(tzinfo_offset(z, 2000, &dst), 3600);
	assert_int_equal(tzinfo_offset(z, INT64_MAX, &dst), 3600);
	assert_int_equal(tzinfo_offset(z, INT64_MIN, &dst), 3600);
	tzinfo_free(&z);
	free(buf);

	/* No transitions: the footer, else type 0. */
	f.ntimes = 0;
	f.footer = "BBB-5";
	buf = tzif_make(&f, &len);
	assert_int_equal(off_at(buf, len, 0, &dst), 18000);
	assert_int_equal(off_at(buf, len, INT64_MIN, &dst), 18000);
	free(buf);
	f.footer = "";
	buf = tzif_make(&f, &len);
	assert_int_equal(off_at(buf, len, 0, &dst), 3600);
	assert_true(dst);
	free(buf);

	/* Version 1: 32-bit times, no footer; the last type stays. */
	f.version = 0;
	f.ntimes = 2;
	f.footer = NULL;
	buf = tzif_make(&f, &len);
	assert_int_equal(off_at(buf, len, 1500, &dst), 0);
	assert_int_equal(off_at(buf, len, 1LL << 40, &dst), 3600);
	free(buf);

	/* Versions 3 and 4, and bytes after the footer (left for future
	 * versions). */
	f.version = '4';
	f.footer = "BBB-5";
	buf = tzif_make(&f, &len);
	assert_int_equal(off_at(buf, len, 2000, &dst), 18000);
	buf = realloc(buf, len + 3);
	memcpy(buf + len, "xyz", 3);
	assert_int_equal(off_at(buf, len + 3, 2000, &dst), 18000);
	free(buf);
}

static void test_names(void **state)
{
	static const char *const good[] = {
		"Europe/Berlin", "UTC", "Etc/GMT+5", "Etc/GMT-14", "America/Argentina/Buenos_Aires",
		"America/Port-au-Prince", "a", "A/B/C/D", "GMT0", "+x", "right/UTC",
	};
	static const char *const bad[] = {
		"", "../etc/passwd", "/etc", "/etc/passwd", "a//b", ".hidden", "Europe/../x",
		"Europe/./Berlin", "Europe/", "/", "..", ".", "Europe/.x", "-x", "Europe/-x",
		"Europe/Ber lin", " Europe/Berlin", "Europe/Berlin\n", "Europe\\Berlin", "zone.tab",
		"Europe/Berlin:", "Ëurope/Berlin", "a/%2e%2e",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!tzinfo_name_valid(good[i]))
			fail_msg("refused: \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tzinfo_name_valid(bad[i]))
			fail_msg("accepted: \"%s\"", bad[i]);

	/* Lengths: 64 is the most. */
	char name[TZINFO_NAME_MAX + 2];
	memset(name, 'a', sizeof(name));
	name[TZINFO_NAME_MAX] = '\0';
	assert_true(tzinfo_name_valid(name));
	name[TZINFO_NAME_MAX] = 'a';
	name[TZINFO_NAME_MAX + 1] = '\0';
	assert_false(tzinfo_name_valid(name));

	/* NUL inside a counted name. */
	assert_true(tzinfo_name_valid_n("Europe/Berlin", 13));
	assert_false(tzinfo_name_valid_n("Europe/Berlin\0", 14));
	assert_false(tzinfo_name_valid_n("Europe\0/Berlin", 14));
	assert_false(tzinfo_name_valid_n("", 0));
}

static void test_load(void **state)
{
	const char *error = NULL;
	struct tzinfo *z;

	z = tzinfo_load(NULL, "Europe/Berlin", &error);
	assert_non_null(z);
	/* 2024-07-01 12:00 UTC, 2024-01-01 */
	bool dst;
	assert_int_equal(tzinfo_offset(z, 1719835200, &dst), 7200);
	assert_true(dst);
	assert_string_equal(tzinfo_abbr(z, 1719835200), "CEST");
	assert_int_equal(tzinfo_offset(z, T_2024, &dst), 3600);
	assert_false(dst);
	tzinfo_free(&z);
	tzinfo_free(&z); /* NULL is fine */

	assert_null(tzinfo_load(TZINFO_DIR, "Europe", &error));
	assert_string_equal(error, "unknown time zone");
	assert_null(tzinfo_load(TZINFO_DIR, "No/Such_Zone", &error));
	assert_string_equal(error, "unknown time zone");
	assert_null(tzinfo_load(TZINFO_DIR, "../../etc/passwd", &error));
	assert_string_equal(error, "invalid time zone name");
	assert_null(tzinfo_load("/nonexistent", "UTC", &error));
	assert_string_equal(error, "unknown time zone");
	if (access(TZINFO_DIR "/right/UTC", R_OK) == 0) {
		assert_null(tzinfo_load(TZINFO_DIR, "right/UTC", &error));
		assert_string_equal(error, "TZif: leap-second zones are not supported");
	}
	/* A file that is not TZif; aliases are links and work. */
	if (access(TZINFO_DIR "/leapseconds", R_OK) == 0) {
		assert_null(tzinfo_load(TZINFO_DIR, "leapseconds", &error));
		assert_string_equal(error, "not a TZif file");
	}
	z = tzinfo_load(TZINFO_DIR, "GB", &error);
	assert_non_null(z);
	tzinfo_free(&z);
}

/* A valid file, cut at every length, and changed in each way that must
 * be refused. */
static void test_malformed(void **state)
{
	static const int64_t times[] = { -100, 0, 100 };
	static const uint8_t idx[] = { 1, 2, 1 }, dsts[] = { 0, 0, 1 }, abbrs[] = { 0, 4, 8 };
	static const int32_t offs[] = { 1000, 3600, 7200 };
	static const uint8_t std[] = { 0, 1, 1 }, ut[] = { 0, 0, 1 };
	const struct tzif good = {
		.version = '2', .ntimes = 3, .times = times, .idx = idx, .ntypes = 3, .offs = offs,
		.dsts = dsts, .abbrs = abbrs, .chars = "LMT\0CET\0CEST\0", .nchars = 13, .nstd = 3,
		.nut = 3, .std = std, .ut = ut, .footer = "CET-1CEST,M3.5.0,M10.5.0/3",
	};
	struct tzif f;
	size_t len;
	uint8_t *buf = tzif_make(&good, &len);

	struct tzinfo *z = parse_ok(buf, len);
	tzinfo_free(&z);
	for (size_t cut = 0; cut < len; cut++)
		refused(buf, cut, "truncated");
	/* Each installed zone of the list, cut everywhere too. */
	for (size_t i = 0; i < NZONES && access(TZINFO_DIR, F_OK) == 0; i++) {
		char path[256];
		static uint8_t file[TZINFO_FILE_MAX];
		snprintf(path, sizeof(path), "%s/%s", TZINFO_DIR, zones[i]);
		FILE *fp = fopen(path, "rb");
		assert_non_null(fp);
		size_t n = fread(file, 1, sizeof(file), fp);
		fclose(fp);
		z = parse_ok(file, n);
		tzinfo_free(&z);
		for (size_t cut = 0; cut < n; cut++)
			refused(file, cut, zones[i]);
	}

	/* Header: magic, version, counts. */
	uint8_t *bad = malloc(len + 1);
	memcpy(bad, buf, len);
	bad[0] = 'X';
	refused_as(bad, len, "magic", "not a TZif file");
	memcpy(bad, buf, len);
	bad[4] = '5';
	refused_as(bad, len, "version 5", "unknown version");
	memcpy(bad, buf, len);
	bad[44 + 7 + 4] = '3';
	refused_as(bad, len, "second header's version", "versions differ");
	static const size_t count_at[] = { 20, 24, 28, 32, 36, 40 };
	for (size_t i = 0; i < 6; i++) {
		for (int second = 0; second < 2; second++) {
			size_t at = count_at[i] + (second ? 44 + 7 : 0);
			memcpy(bad, buf, len);
			memset(bad + at, 0xff, 4);
			refused_as(bad, len, "count 0xffffffff", "count larger than the file");
			memcpy(bad, buf, len);
			bad[at + 3]++;
			refused(bad, len, "count + 1");
		}
	}
	memcpy(bad, buf, len);
	memset(bad + 44 + 7 + 36, 0, 4);
	refused_as(bad, len, "no types", "no local time types");
	free(bad);

	/* Limits, one past each. */
	static int64_t many[TZINFO_TRANSITIONS_MAX + 1];
	static uint8_t many_idx[TZINFO_TRANSITIONS_MAX + 1];
	for (size_t i = 0; i <= TZINFO_TRANSITIONS_MAX; i++)
		many[i] = (int64_t)i * 1000;
	f = good;
	f.times = many;
	f.idx = many_idx;
	f.ntimes = TZINFO_TRANSITIONS_MAX;
	free(buf);
	buf = tzif_make(&f, &len);
	z = parse_ok(buf, len);
	assert_int_equal(tzinfo_offset(z, 500, NULL), 1000);
	tzinfo_free(&z);
	free(buf);
	f.ntimes = TZINFO_TRANSITIONS_MAX + 1;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "too many transitions", "more than 2000 transitions");
	free(buf);

	static int32_t many_offs[TZINFO_TYPES_MAX + 1];
	static uint8_t many_dsts[TZINFO_TYPES_MAX + 1], many_abbrs[TZINFO_TYPES_MAX + 1];
	f = good;
	f.offs = many_offs;
	f.dsts = many_dsts;
	f.abbrs = many_abbrs;
	f.nstd = f.nut = 0;
	f.ntypes = TZINFO_TYPES_MAX;
	buf = tzif_make(&f, &len);
	z = parse_ok(buf, len);
	tzinfo_free(&z);
	free(buf);
	f.ntypes = TZINFO_TYPES_MAX + 1;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "too many types", "more than 256 local time types");
	free(buf);

	static char many_chars[TZINFO_CHARS_MAX + 1];
	f = good;
	f.chars = many_chars;
	f.nchars = TZINFO_CHARS_MAX;
	buf = tzif_make(&f, &len);
	z = parse_ok(buf, len);
	tzinfo_free(&z);
	free(buf);
	f.nchars = TZINFO_CHARS_MAX + 1;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "too many abbreviation bytes", "more than 512 bytes");
	free(buf);

	/* Data. */
	static const int64_t unsorted[] = { 0, -100, 100 }, equal[] = { -100, 100, 100 };
	static const uint8_t idx_high[] = { 1, 3, 1 }, dst_two[] = { 0, 2, 1 };
	static const uint8_t abbr_out[] = { 0, 13, 8 }, abbr_unterminated[] = { 0, 4, 9 };
	static const int32_t off_low[] = { 1000, -90000, 0 }, off_high[] = { 1000, 93600, 0 };
	static const int32_t off_min[] = { 1000, INT32_MIN, 0 };
	static const uint8_t std_two[] = { 0, 2, 1 }, ut_not_std[] = { 1, 0, 0 };
	f = good;
	f.times = unsorted;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "unsorted", "ascending");
	free(buf);
	f.times = equal;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "equal transitions", "ascending");
	free(buf);
	f = good;
	f.idx = idx_high;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "type index", "type index out of range");
	free(buf);
	f = good;
	f.dsts = dst_two;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "isdst 2", "isdst");
	free(buf);
	f = good;
	f.abbrs = abbr_out;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "abbreviation index", "abbreviation index");
	free(buf);
	f = good;
	f.abbrs = abbr_unterminated;
	f.nchars = 12; /* "CEST" without its NUL */
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "abbreviation without NUL", "abbreviation index");
	free(buf);
	const int32_t *const offsets[] = { off_low, off_high, off_min };
	for (size_t i = 0; i < 3; i++) {
		f = good;
		f.offs = offsets[i];
		buf = tzif_make(&f, &len);
		refused_as(buf, len, "UTC offset", "UTC offset out of range");
		free(buf);
	}
	f = good;
	f.std = std_two;
	buf = tzif_make(&f, &len);
	refused(buf, len, "standard/wall 2");
	free(buf);
	f = good;
	f.ut = ut_not_std;
	buf = tzif_make(&f, &len);
	refused(buf, len, "UT but not standard");
	free(buf);
	f = good;
	f.nstd = 0;
	buf = tzif_make(&f, &len);
	refused(buf, len, "UT without standard indicators");
	free(buf);
	f = good;
	f.footer = NULL;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "no footer", "missing footer");
	free(buf);

	/* Footers. */
	static const char *const footers[] = {
		"CET-1CEST", "CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,", "CE-1", "CET", "CET-25",
		"CET-1:60", "CET-1:00:60", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M0.1.0,M10.5.0",
		"CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.0.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
		"CET-1CEST,J0,J300", "CET-1CEST,J366,J300", "CET-1CEST,366,300",
		"CET-1CEST,M3.5.0/168,M10.5.0", "CET-1CEST,M3.5.0/-168,M10.5.0",
		"CET-1CEST,M3.5.0,M10.5.0/3 ", " CET-1", "<+03", "<+3>-3", "<+03>>-3", "<+0 3>-3",
		"CET-1CEST-25,M3.5.0,M10.5.0", "CET-1CEST,M3.5.0/,M10.5.0", "CET-001", "CET--1",
		"CET-1CEST,M3.5.0,M10.5.0/3:", "CET-1CEST;M3.5.0,M10.5.0", "CET-1,M3.5.0,M10.5.0",
		"ABCDEFGHIJKLMNOP-1", "<ABCDEFGHIJKLMNOP>-1", "1CET", "CET-1CEST,M3.5.0,M10.5.0\r",
		"CET-1CEST,M03.5.0,M10.5.0/3x", "CET-1CEST,J060,J0300",
	};
	for (size_t i = 0; i < sizeof(footers) / sizeof(footers[0]); i++) {
		f = good;
		f.footer = footers[i];
		buf = tzif_make(&f, &len);
		refused_as(buf, len, footers[i], "TZif footer: ");
		free(buf);
	}
	char long_footer[TZINFO_FOOTER_MAX + 2];
	memset(long_footer, 'A', sizeof(long_footer) - 1);
	long_footer[sizeof(long_footer) - 1] = '\0';
	f = good;
	f.footer = long_footer;
	buf = tzif_make(&f, &len);
	refused_as(buf, len, "long footer", "footer too long");
	free(buf);
	/* A NUL in the footer. */
	f = good;
	buf = tzif_make(&f, &len);
	buf[len - 5] = '\0';
	refused(buf, len, "NUL in footer");
	free(buf);
	/* ... and accepted: the edges of each range. */
	static const char *const fine[] = {
		"CET-24", "CET+24:59:59", "<ABCDEFGHIJKLMNO>-1", "ABCDEFGHIJKLMNO-1", "<+0545>-5:45",
		"CET-1CEST,M3.5.0/167,M10.5.0/-167", "CET-1CEST,J1,J365", "CET-1CEST,0,365",
		"CET-1CEST,M12.5.6/0:0:0,M1.1.0/+3", "CET-1CEST-3,M03.5.0,M10.5.0/03:00:00", "XYZ0",
	};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		f = good;
		f.footer = fine[i];
		buf = tzif_make(&f, &len);
		z = parse_ok(buf, len);
		tzinfo_free(&z);
		free(buf);
	}
	/* Too large as a whole. */
	buf = calloc(1, TZINFO_FILE_MAX + 1);
	memcpy(buf, "TZif2", 5);
	refused_as(buf, TZINFO_FILE_MAX + 1, "file too large", "larger than 65536");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest self[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rfc_rules),
		cmocka_unit_test(test_year_edges),
		cmocka_unit_test(test_malformed),
	};
	const struct CMUnitTest with_glibc[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test_setup_teardown(test_zones_match_glibc, slim_setup, slim_teardown),
		cmocka_unit_test(test_footers_match_glibc),
	};

	/* glibc must read the same directory as the zones loaded here. */
	unsetenv("TZDIR");
	bool have_zones = access(TZINFO_DIR "/Europe/Berlin", R_OK) == 0;
	int failed = cmocka_run_group_tests_name("tzinfo", self, NULL, NULL);
	if (!have_zones) {
		fprintf(stderr, "test_tzinfo: no %s (install tzdata): glibc comparisons skipped\n",
			TZINFO_DIR);
		return failed != 0 ? 1 : 77;
	}
	return failed + cmocka_run_group_tests_name("tzinfo, compared with glibc", with_glibc, NULL, NULL);
}
