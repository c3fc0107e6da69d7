/* The POSIX TZ string of a TZif footer (POSIX.1-2017 section 8.3, with the
 * extensions of RFC 8536 section 3.3.1), and the local time its rules give.
 * Debian's "slim" zone files stop listing transitions once the rule says
 * it all, so this decides every current date. */
#include "datetime.h"
#include "tzinfo_int.h"

#include <string.h>

/* The rules repeat every 400 Gregorian years: 146097 days, which is also a
 * whole number of weeks (20871). Reducing an instant into one cycle keeps
 * the calendar arithmetic small for any int64_t. */
#define CYCLE_SECS (146097LL * 86400)

struct cursor {
	const char *p, *end;
};

static bool at(const struct cursor *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* A name: 3 or more letters, or "<...>" of 3 or more letters, digits, '+'
 * and '-' (the brackets are not kept). */
static bool parse_name(struct cursor *c, char buf[TZINFO_ABBR_MAX + 1])
{
	bool quoted = at(c, '<');
	size_t n = 0;

	if (quoted)
		c->p++;
	while (c->p < c->end) {
		char ch = *c->p;
		if (!is_alpha(ch) && !(quoted && (is_digit(ch) || ch == '+' || ch == '-')))
			break;
		if (n == TZINFO_ABBR_MAX)
			return false;
		buf[n++] = ch;
		c->p++;
	}
	buf[n] = '\0';
	if (quoted) {
		if (!at(c, '>'))
			return false;
		c->p++;
	}
	return n >= 3;
}

/* 1 to max_digits digits with a value of at most max. */
static bool parse_num(struct cursor *c, unsigned max_digits, unsigned max, unsigned *v_r)
{
	unsigned v = 0, n = 0;

	while (c->p < c->end && is_digit(*c->p)) {
		if (n == max_digits)
			return false;
		v = v * 10 + (unsigned)(*c->p++ - '0');
		n++;
	}
	*v_r = v;
	return n > 0 && v <= max;
}

/* [+-]hh[:mm[:ss]], hh at most max_hours: seconds, with the sign as
 * written. */
static bool parse_hms(struct cursor *c, unsigned hour_digits, unsigned max_hours, int32_t *secs_r)
{
	int32_t sign = 1;
	unsigned h, m = 0, s = 0;

	if (at(c, '+')) {
		c->p++;
	} else if (at(c, '-')) {
		sign = -1;
		c->p++;
	}
	if (!parse_num(c, hour_digits, max_hours, &h))
		return false;
	if (at(c, ':')) {
		c->p++;
		if (!parse_num(c, 2, 59, &m))
			return false;
		if (at(c, ':')) {
			c->p++;
			if (!parse_num(c, 2, 59, &s))
				return false;
		}
	}
	*secs_r = sign * (int32_t)(h * 3600 + m * 60 + s);
	return true;
}

/* "Jn", "n" or "Mm.w.d", then an optional "/time" (02:00 if absent). */
static bool parse_rule(struct cursor *c, struct tzinfo_rule *r)
{
	unsigned v, month, week, wday;

	memset(r, 0, sizeof(*r));
	if (at(c, 'J')) {
		c->p++;
		if (!parse_num(c, 3, 365, &v) || v < 1)
			return false;
		r->kind = 'J';
		r->day = (uint16_t)v;
	} else if (at(c, 'M')) {
		c->p++;
		if (!parse_num(c, 2, 12, &month) || month < 1 || !at(c, '.'))
			return false;
		c->p++;
		if (!parse_num(c, 1, 5, &week) || week < 1 || !at(c, '.'))
			return false;
		c->p++;
		if (!parse_num(c, 1, 6, &wday))
			return false;
		r->kind = 'M';
		r->month = (uint8_t)month;
		r->week = (uint8_t)week;
		r->day = (uint16_t)wday;
	} else {
		if (!parse_num(c, 3, 365, &v))
			return false;
		r->kind = 'n';
		r->day = (uint16_t)v;
	}
	r->secs = 2 * 3600;
	if (at(c, '/')) {
		c->p++;
		if (!parse_hms(c, 3, 167, &r->secs))
			return false;
	}
	return true;
}

int tzinfo_posix_parse(const char *s, size_t len, struct tzinfo_posix *p_r, const char **error_r)
{
	struct cursor c = { s, s + len };
	struct tzinfo_posix p;
	int32_t west;

	memset(&p, 0, sizeof(p));
	if (!parse_name(&c, p.std_abbr)) {
		*error_r = "TZif footer: bad standard time name";
		return -1;
	}
	/* POSIX offsets count west and stay within 24 hours. */
	if (!parse_hms(&c, 2, 24, &west)) {
		*error_r = "TZif footer: bad UTC offset";
		return -1;
	}
	p.std_off = p.dst_off = -west;
	if (c.p == c.end) {
		*p_r = p;
		return 0;
	}
	if (!parse_name(&c, p.dst_abbr)) {
		*error_r = "TZif footer: bad daylight saving time name";
		return -1;
	}
	p.has_dst = true;
	p.dst_off = p.std_off + 3600;
	if (c.p < c.end && *c.p != ',') {
		if (!parse_hms(&c, 2, 24, &west)) {
			*error_r = "TZif footer: bad daylight saving time offset";
			return -1;
		}
		p.dst_off = -west;
	}
	/* Without rules POSIX lets each C library pick its own; a zone file
	 * must say. */
	if (!at(&c, ',')) {
		*error_r = "TZif footer: daylight saving time without rules";
		return -1;
	}
	c.p++;
	if (!parse_rule(&c, &p.start) || !at(&c, ',')) {
		*error_r = "TZif footer: bad daylight saving time start rule";
		return -1;
	}
	c.p++;
	if (!parse_rule(&c, &p.end) || c.p != c.end) {
		*error_r = "TZif footer: bad daylight saving time end rule";
		return -1;
	}
	*p_r = p;
	return 0;
}

/* The year of day `z` (days since 1970-01-01, not negative here). */
static int64_t year_from_days(int64_t z)
{
	z += 719468;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	return (int64_t)yoe + era * 400 + (mp >= 10);
}

static bool is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* The UTC instant at which rule `r` fires in `year`, local time being
 * `off` seconds east. */
static int64_t rule_utc(const struct tzinfo_rule *r, int64_t year, int32_t off)
{
	int64_t day;

	if (r->kind == 'J') {
		/* Jn never counts February 29. */
		day = datetime_days_from_civil(year, 1, 1) + r->day - 1 +
			(r->day >= 60 && is_leap(year));
	} else if (r->kind == 'n') {
		day = datetime_days_from_civil(year, 1, 1) + r->day;
	} else {
		int64_t first = datetime_days_from_civil(year, r->month, 1);
		/* 1970-01-01 was a Thursday. */
		int wday = (int)(((first % 7) + 7 + 4) % 7);
		unsigned mday = (unsigned)((r->day - wday + 7) % 7) + 7u * (r->week - 1u);
		while (mday >= days_in_month(year, r->month))
			mday -= 7;
		day = first + mday;
	}
	return day * 86400 + r->secs - off;
}

void tzinfo_posix_local(const struct tzinfo_posix *p, int64_t t, int32_t *off_r, bool *dst_r,
	const char **abbr_r)
{
	bool dst = false;

	if (p->has_dst) {
		int64_t r = t % CYCLE_SECS, best = INT64_MIN;
		if (r < 0)
			r += CYCLE_SECS;
		int64_t year = year_from_days(r / 86400);
		/* The latest change at or before r. A rule's time may lie a week
		 * outside its year (hours up to 167), so the changes of the two
		 * years before are looked at too. On a tie the one listed later
		 * wins: a start equal to the same year's end is no DST at all,
		 * and an end equal to next year's start (J1/0 .. J365/25) is DST
		 * all year, as RFC 8536 3.3.1 defines it. */
		for (int64_t y = year - 2; y <= year + 1; y++) {
			int64_t start = rule_utc(&p->start, y, p->std_off);
			int64_t end = rule_utc(&p->end, y, p->dst_off);
			if (start <= r && start >= best) {
				best = start;
				dst = true;
			}
			if (end <= r && end >= best) {
				best = end;
				dst = false;
			}
		}
	}
	*off_r = dst ? p->dst_off : p->std_off;
	*dst_r = dst;
	*abbr_r = dst ? p->dst_abbr : p->std_abbr;
}
