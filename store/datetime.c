/* RFC 5322 and IMAP dates. Calendar arithmetic is done here (proleptic
 * Gregorian, days from civil) so that no libc time zone state is involved. */
#include "datetime.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char day_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const month_full[12] = {
	"january", "february", "march", "april", "may", "june", "july", "august",
	"september", "october", "november", "december",
};
static const char *const day_full[7] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
};

/* 0001-01-01 and 9999-12-31 23:59:59 as seconds since the epoch. */
#define DATETIME_MIN (-62135596800LL)
#define DATETIME_MAX (253402300799LL)

int64_t datetime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned mp = m > 2 ? m - 3 : m + 9;
	unsigned doy = (153 * mp + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y_r, unsigned *m_r, unsigned *d_r)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d_r = doy - (153 * mp + 2) / 5 + 1;
	*m_r = mp < 10 ? mp + 3 : mp - 9;
	*y_r = (int)(y + (*m_r <= 2));
}

static unsigned days_in_month(int y, unsigned m)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return mdays[m - 1];
}

struct dt_fields {
	int year;
	unsigned month, day, hour, min, sec;
	int tz; /* minutes east */
};

/* 1 and *t_r, or 0 if a field is out of range. */
static int dt_fields_time(const struct dt_fields *f, time_t *t_r)
{
	if (f->year < 1 || f->year > 9999 || f->month < 1 || f->month > 12 || f->day < 1 ||
	    f->day > days_in_month(f->year, f->month) || f->hour > 23 || f->min > 59 || f->sec > 60)
		return 0;
	int64_t t = datetime_days_from_civil(f->year, f->month, f->day) * 86400 + f->hour * 3600 +
		f->min * 60 + f->sec - (int64_t)f->tz * 60;
	*t_r = (time_t)t;
	return 1;
}

struct cursor {
	const char *p, *end;
};

/* Skips whitespace, line breaks and (nested) comments. */
static void skip_cfws(struct cursor *c)
{
	size_t depth = 0;
	while (c->p < c->end) {
		char ch = *c->p;
		if (depth > 0) {
			if (ch == '\\' && c->p + 1 < c->end)
				c->p++;
			else if (ch == '(')
				depth++;
			else if (ch == ')')
				depth--;
		} else if (ch == '(') {
			depth++;
		} else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
			return;
		}
		c->p++;
	}
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* A word of letters (at most 15), lowercased into buf. */
static bool read_word(struct cursor *c, char buf[16])
{
	size_t n = 0;
	while (c->p < c->end && is_alpha(*c->p)) {
		if (n == 15)
			return false;
		char ch = *c->p++;
		buf[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	buf[n] = '\0';
	return n > 0;
}

/* 1 to max_digits digits; *ndigits_r how many. */
static bool read_number(struct cursor *c, unsigned max_digits, unsigned *v_r, unsigned *ndigits_r)
{
	unsigned v = 0, n = 0;
	while (c->p < c->end && is_digit(*c->p)) {
		if (n == max_digits)
			return false;
		v = v * 10 + (unsigned)(*c->p++ - '0');
		n++;
	}
	*v_r = v;
	if (ndigits_r != NULL)
		*ndigits_r = n;
	return n > 0;
}

static bool accept(struct cursor *c, char ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* Month from a 3-letter or full name; 0 if none. */
static unsigned month_from_word(const char *w)
{
	for (unsigned i = 0; i < 12; i++) {
		if ((strlen(w) == 3 && strncasecmp(w, month_names[i], 3) == 0) ||
		    strcmp(w, month_full[i]) == 0 || (strlen(w) == 4 && strcmp(w, "sept") == 0 && i == 8))
			return i + 1;
	}
	return 0;
}

static bool is_day_word(const char *w)
{
	for (unsigned i = 0; i < 7; i++) {
		if ((strlen(w) == 3 && strncasecmp(w, day_names[i], 3) == 0) || strcmp(w, day_full[i]) == 0)
			return true;
	}
	return false;
}

/* hh:mm[:ss][.fraction], comments allowed around ':' (obs-time). */
static bool read_time(struct cursor *c, struct dt_fields *f)
{
	unsigned n;
	if (!read_number(c, 2, &f->hour, NULL))
		return false;
	skip_cfws(c);
	if (!accept(c, ':'))
		return false;
	skip_cfws(c);
	if (!read_number(c, 2, &f->min, &n) || n != 2)
		return false;
	f->sec = 0;
	struct cursor save = *c;
	skip_cfws(c);
	if (accept(c, ':')) {
		skip_cfws(c);
		if (!read_number(c, 2, &f->sec, &n) || n != 2)
			return false;
		if (accept(c, '.'))
			while (c->p < c->end && is_digit(*c->p))
				c->p++;
	} else {
		*c = save;
	}
	return true;
}

static int zone_from_name(const char *w)
{
	static const struct {
		const char *name;
		int minutes;
	} zones[] = {
		{ "ut", 0 }, { "utc", 0 }, { "gmt", 0 }, { "z", 0 },
		{ "est", -300 }, { "edt", -240 }, { "cst", -360 }, { "cdt", -300 },
		{ "mst", -420 }, { "mdt", -360 }, { "pst", -480 }, { "pdt", -420 },
		/* not in RFC 5322 but common in broken mailers' output */
		{ "wet", 0 }, { "west", 60 }, { "bst", 60 }, { "cet", 60 }, { "met", 60 },
		{ "cest", 120 }, { "mest", 120 }, { "eet", 120 }, { "eest", 180 },
		{ "msk", 180 }, { "ist", 330 }, { "jst", 540 }, { "kst", 540 },
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strcmp(w, zones[i].name) == 0)
			return zones[i].minutes;
	}
	return 0; /* military letters and unknown names: RFC 5322 4.3 says -0000 */
}

/* [+-]hhmm, [+-]hh:mm, or a name; nothing at all means +0000. */
static bool read_zone(struct cursor *c, int *tz_r)
{
	*tz_r = 0;
	skip_cfws(c);
	if (c->p >= c->end)
		return true;
	char ch = *c->p;
	if (ch == '+' || ch == '-') {
		c->p++;
		unsigned hh, mm, n;
		if (!read_number(c, 4, &hh, &n))
			return false;
		if (n == 4) {
			mm = hh % 100;
			hh /= 100;
		} else if (n <= 2 && accept(c, ':')) {
			if (!read_number(c, 2, &mm, &n) || n != 2)
				return false;
		} else if (n <= 2) {
			mm = 0;
		} else {
			return false;
		}
		if (mm > 59)
			return false;
		*tz_r = (int)(hh * 60 + mm) * (ch == '-' ? -1 : 1);
		return true;
	}
	char w[16];
	if (is_alpha(ch) && read_word(c, w))
		*tz_r = zone_from_name(w);
	return true; /* anything else after the time is ignored */
}

static int year_from_digits(unsigned v, unsigned ndigits)
{
	if (ndigits == 2)
		return (int)(v < 50 ? 2000 + v : 1900 + v);
	if (ndigits == 3)
		return (int)(1900 + v);
	return (int)v;
}

int datetime_parse(const char *s, size_t len, time_t *time_r, int *tz_r)
{
	if (len > DATETIME_INPUT_MAX)
		return 0;
	struct cursor c = { s, s + len };
	struct dt_fields f = { 0 };
	char w[16];
	unsigned v, n;
	bool asctime_form = false;

	skip_cfws(&c);
	if (c.p < c.end && is_alpha(*c.p)) {
		if (!read_word(&c, w))
			return 0;
		if (is_day_word(w)) {
			skip_cfws(&c);
			accept(&c, ',');
			skip_cfws(&c);
			if (c.p < c.end && is_alpha(*c.p)) {
				if (!read_word(&c, w))
					return 0;
				asctime_form = true;
			}
		} else {
			asctime_form = true;
		}
		if (asctime_form && (f.month = month_from_word(w)) == 0)
			return 0;
	}
	if (asctime_form) {
		/* Mon Jan  1 10:00:00 2024 [zone] */
		skip_cfws(&c);
		if (!read_number(&c, 2, &f.day, NULL))
			return 0;
		skip_cfws(&c);
		if (!read_time(&c, &f))
			return 0;
		skip_cfws(&c);
		if (!read_number(&c, 4, &v, &n) || n < 2)
			return 0;
		f.year = year_from_digits(v, n);
	} else {
		if (!read_number(&c, 2, &f.day, NULL))
			return 0;
		skip_cfws(&c);
		if (!accept(&c, '-'))
			accept(&c, '/');
		skip_cfws(&c);
		if (!read_word(&c, w) || (f.month = month_from_word(w)) == 0)
			return 0;
		skip_cfws(&c);
		if (!accept(&c, '-'))
			accept(&c, '/');
		skip_cfws(&c);
		if (!read_number(&c, 4, &v, &n) || n < 2)
			return 0;
		f.year = year_from_digits(v, n);
		skip_cfws(&c);
		if (!read_time(&c, &f))
			return 0;
	}
	if (!read_zone(&c, &f.tz))
		return 0;
	time_t t;
	if (!dt_fields_time(&f, &t))
		return 0;
	*time_r = t;
	*tz_r = f.tz;
	return 1;
}

static bool read_imap_date(struct cursor *c, struct dt_fields *f, bool space_day)
{
	unsigned n;
	char w[16];
	if (space_day && c->p < c->end && *c->p == ' ')
		c->p++;
	if (!read_number(c, 2, &f->day, NULL) || !accept(c, '-'))
		return false;
	if (!read_word(c, w) || strlen(w) != 3 || (f->month = month_from_word(w)) == 0)
		return false;
	unsigned y;
	if (!accept(c, '-') || !read_number(c, 4, &y, &n) || n != 4)
		return false;
	f->year = (int)y;
	return true;
}

int datetime_parse_imap(const char *s, size_t len, time_t *time_r, int *tz_r)
{
	struct cursor c = { s, s + len };
	struct dt_fields f = { 0 };
	unsigned n, z;
	if (!read_imap_date(&c, &f, true) || !accept(&c, ' '))
		return 0;
	if (!read_number(&c, 2, &f.hour, &n) || n != 2 || !accept(&c, ':') ||
	    !read_number(&c, 2, &f.min, &n) || n != 2 || !accept(&c, ':') ||
	    !read_number(&c, 2, &f.sec, &n) || n != 2 || !accept(&c, ' '))
		return 0;
	if (c.p >= c.end || (*c.p != '+' && *c.p != '-'))
		return 0;
	int sign = *c.p++ == '-' ? -1 : 1;
	if (!read_number(&c, 4, &z, &n) || n != 4 || z % 100 > 59 || c.p != c.end)
		return 0;
	f.tz = sign * (int)(z / 100 * 60 + z % 100);
	time_t t;
	if (!dt_fields_time(&f, &t))
		return 0;
	*time_r = t;
	*tz_r = f.tz;
	return 1;
}

int datetime_parse_imap_date(const char *s, size_t len, time_t *time_r)
{
	struct cursor c = { s, s + len };
	struct dt_fields f = { 0 };
	if (!read_imap_date(&c, &f, false) || c.p != c.end)
		return 0;
	return dt_fields_time(&f, time_r);
}

void datetime_local(time_t t, int tz, struct datetime_local *l)
{
	if (tz > 99 * 60 + 59)
		tz = 99 * 60 + 59;
	if (tz < -(99 * 60 + 59))
		tz = -(99 * 60 + 59);
	int64_t local = (int64_t)t;
	if (local < DATETIME_MIN - (int64_t)tz * 60)
		local = DATETIME_MIN - (int64_t)tz * 60;
	if (local > DATETIME_MAX - (int64_t)tz * 60)
		local = DATETIME_MAX - (int64_t)tz * 60;
	local += (int64_t)tz * 60;
	int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	int64_t secs = local - days * 86400;
	civil_from_days(days, &l->year, &l->month, &l->day);
	l->hour = (unsigned)(secs / 3600);
	l->min = (unsigned)(secs / 60 % 60);
	l->sec = (unsigned)(secs % 60);
	l->wday = (unsigned)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
	l->tz = tz;
}

/* Writes n decimal digits of v (0 <= v < 10^n). */
static char *put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* "hh:mm:ss +zzzz" */
static char *put_time_zone(char *p, const struct datetime_local *l)
{
	unsigned az = (unsigned)(l->tz < 0 ? -l->tz : l->tz);
	p = put_digits(p, l->hour, 2);
	*p++ = ':';
	p = put_digits(p, l->min, 2);
	*p++ = ':';
	p = put_digits(p, l->sec, 2);
	*p++ = ' ';
	*p++ = l->tz < 0 ? '-' : '+';
	p = put_digits(p, az / 60, 2);
	return put_digits(p, az % 60, 2);
}

char *datetime_format_rfc5322(time_t t, int tz, char buf[DATETIME_RFC5322_SIZE])
{
	struct datetime_local l;
	datetime_local(t, tz, &l);
	char *p = buf;
	memcpy(p, day_names[l.wday], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = put_digits(p, l.day, 2);
	*p++ = ' ';
	memcpy(p, month_names[l.month - 1], 3);
	p += 3;
	*p++ = ' ';
	p = put_digits(p, (unsigned)l.year, 4);
	*p++ = ' ';
	p = put_time_zone(p, &l);
	*p = '\0';
	return buf;
}

char *datetime_format_imap(time_t t, int tz, char buf[DATETIME_IMAP_SIZE])
{
	struct datetime_local l;
	datetime_local(t, tz, &l);
	char *p = put_digits(buf, l.day, 2);
	*p++ = '-';
	memcpy(p, month_names[l.month - 1], 3);
	p += 3;
	*p++ = '-';
	p = put_digits(p, (unsigned)l.year, 4);
	*p++ = ' ';
	p = put_time_zone(p, &l);
	*p = '\0';
	return buf;
}
