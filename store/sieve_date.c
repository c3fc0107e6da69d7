/* The date and currentdate tests' values (RFC 5260 4-5): a date from the
 * header block or the run's clock, seen in a zone, made a string by its
 * date-part. Pure functions of the message and the clock; sieve_run.c
 * matches the string and charges the work. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "datetime.h"
#include "mime.h"
#include "sieve_int.h"

/* Modified Julian Day of 1970-01-01 (RFC 5260 4.2: MJD 0 is 1858-11-17) */
#define MJD_1970 40587

/* The process's local zone at `t` in minutes east, as smtpd's time stamps
 * take it; +0000 when libc cannot say. A zone of seconds (old local mean
 * times) loses them. */
static int local_zone(time_t t)
{
	struct tm tm;
	return localtime_r(&t, &tm) != NULL ? (int)(tm.tm_gmtoff / 60) : 0;
}

/* The date-part of `t` seen in zone `tz` (RFC 5260 4.2), in buf; its length. */
static size_t date_part(enum sieve_datepart part, time_t t, int tz, char buf[SIEVE_DATE_PART_SIZE])
{
	struct datetime_local l;
	int n = 0;
	datetime_local(t, tz, &l);
	unsigned az = (unsigned)(l.tz < 0 ? -l.tz : l.tz);
	char sign = l.tz < 0 ? '-' : '+'; /* RFC 5260 4.2: +0000 for zero */
	switch (part) {
	case DP_YEAR:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%04d", l.year);
		break;
	case DP_MONTH:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%02u", l.month);
		break;
	case DP_DAY:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%02u", l.day);
		break;
	case DP_DATE:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%04d-%02u-%02u", l.year, l.month, l.day);
		break;
	case DP_JULIAN:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%lld",
			     (long long)(datetime_days_from_civil(l.year, l.month, l.day) + MJD_1970));
		break;
	case DP_HOUR:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%02u", l.hour);
		break;
	case DP_MINUTE:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%02u", l.min);
		break;
	case DP_SECOND:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%02u", l.sec);
		break;
	case DP_TIME:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%02u:%02u:%02u", l.hour, l.min, l.sec);
		break;
	case DP_ISO8601: /* RFC 3339 date-time; RFC 5260 4.2: "Z" for a zero offset */
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%04d-%02u-%02uT%02u:%02u:%02u", l.year, l.month,
			     l.day, l.hour, l.min, l.sec);
		if (az == 0)
			n += snprintf(buf + n, SIEVE_DATE_PART_SIZE - (size_t)n, "Z");
		else
			n += snprintf(buf + n, SIEVE_DATE_PART_SIZE - (size_t)n, "%c%02u:%02u", sign, az / 60,
				      az % 60);
		break;
	case DP_STD11:
		n = (int)strlen(datetime_format_rfc5322(t, tz, buf));
		break;
	case DP_ZONE:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%c%02u%02u", sign, az / 60, az % 60);
		break;
	case DP_WEEKDAY:
		n = snprintf(buf, SIEVE_DATE_PART_SIZE, "%u", l.wday);
		break;
	}
	return n > 0 ? (size_t)n : 0;
}

/* date's date-time (RFC 5260 4): the first field named `name` alone, a
 * later one is not read; a value that is no date as a whole (a Received:
 * field) is read after its last ";" (RFC 5321 4.4's time stamp). false
 * when there is no such field, or no date in it. */
static bool header_date(const struct sieve_message *msg, const char *name, time_t *t_r,
			int *tz_r, uint64_t *work_r)
{
	struct mime_header_field f;
	size_t pos = 0, want = strlen(name);
	const char *h = msg->header != NULL ? msg->header : "";
	size_t hlen = msg->header != NULL ? msg->header_len : 0;

	while (mime_header_next(h, hlen, &pos, &f) == 1) {
		/* walking the header is work too: a field's length a name */
		*work_r += f.name_len + f.value_len;
		if (f.name_len != want || strncasecmp(f.name, name, want) != 0)
			continue;
		if (datetime_parse(f.value, f.value_len, t_r, tz_r))
			return true;
		const char *semi = f.value_len > 0 ? memrchr(f.value, ';', f.value_len) : NULL;
		return semi != NULL &&
		       datetime_parse(semi + 1, f.value_len - (size_t)(semi + 1 - f.value), t_r, tz_r);
	}
	return false;
}

bool sieve_date_value(const struct sieve_message *msg, int64_t now, const struct sieve_test *t,
		      char buf[SIEVE_DATE_PART_SIZE], size_t *len_r, uint64_t *work_r)
{
	time_t when = (time_t)now;
	int tz = 0;

	if (t->kind == T_DATE && !header_date(msg, t->names.v[0], &when, &tz, work_r))
		return false;
	if (t->zone == ZONE_GIVEN)
		tz = t->zone_minutes;
	else if (t->zone == ZONE_LOCAL)
		tz = local_zone(when);
	*len_r = date_part(t->datepart, when, tz, buf);
	return true;
}
