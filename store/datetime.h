/* Dates: RFC 5322 Date: fields (with the obsolete and common broken forms)
 * and IMAP date-time / date (RFC 3501), parsed and formatted.
 *
 * Times are seconds since the epoch (UTC); zones are minutes east of UTC.
 * Years 1 to 9999 are representable; nothing here reads the TZ environment. */
#ifndef PB_DATETIME_H
#define PB_DATETIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "Mon, 01 Jan 2024 10:00:00 +0100" plus NUL. */
#define DATETIME_RFC5322_SIZE 32
/* "01-Jan-2024 10:00:00 +0100" plus NUL (no quotes). */
#define DATETIME_IMAP_SIZE 27
/* A Date: value longer than this is not a date (keeps parsing cheap when a
 * header is garbage); RFC 5322 dates with a comment fit in 80. */
#define DATETIME_INPUT_MAX 256

/* Parses an RFC 5322 date-time: "[Day,] DD Mon YYYY HH:MM[:SS] [zone]"
 * with comments (CFWS) anywhere, 2- and 3-digit years (RFC 5322 4.3: 00-49
 * -> 20xx, 50-999 -> +1900), named zones (UT, GMT, Z, EST/EDT, CST/CDT,
 * MST/MDT, PST/PDT; other letters and a missing zone mean +0000), full or
 * abbreviated day and month names, '-' or '/' between date parts, and the
 * asctime form "Mon Jan  1 10:00:00 2024". Fields are range-checked (day in
 * month, 23:59:60 at most). Returns 1 with *time_r and *tz_r set, or 0 if the
 * text is not a date (outputs untouched). */
int datetime_parse(const char *s, size_t len, time_t *time_r, int *tz_r);

/* Parses an IMAP date-time as in APPEND: "dd-Mon-yyyy hh:mm:ss +zzzz" (day
 * may be " d" or "d"; no quotes). 1 or 0. */
int datetime_parse_imap(const char *s, size_t len, time_t *time_r, int *tz_r);

/* Parses an IMAP date as in SEARCH: "d-Mon-yyyy" / "dd-Mon-yyyy"; *time_r is
 * that day's 00:00:00 UTC. 1 or 0. */
int datetime_parse_imap_date(const char *s, size_t len, time_t *time_r);

/* Formats `t` as seen in zone `tz` (clamped to +-99:59; years outside 1-9999
 * clamped to the ends of that range) as "Mon, 01 Jan 2024 10:00:00 +0100".
 * Returns buf. */
char *datetime_format_rfc5322(time_t t, int tz, char buf[DATETIME_RFC5322_SIZE]);

/* As above, as IMAP INTERNALDATE "01-Jan-2024 10:00:00 +0100". Returns buf. */
char *datetime_format_imap(time_t t, int tz, char buf[DATETIME_IMAP_SIZE]);

/* A time's calendar fields as seen in a zone. */
struct datetime_local {
	int year;                /* 1 to 9999 */
	unsigned month, day;     /* 1-12, 1-31 */
	unsigned hour, min, sec; /* 0-23, 0-59, 0-59 */
	unsigned wday;           /* 0 is Sunday */
	int tz;                  /* minutes east, clamped to +-99:59 */
};

/* `t` as seen in zone `tz`, as the formatters above see it: the zone
 * clamped to +-99:59, a local time outside years 1-9999 clamped to the
 * ends of that range. */
void datetime_local(time_t t, int tz, struct datetime_local *l_r);

/* Days from 1970-01-01 to year-month-day of the proleptic Gregorian
 * calendar (negative before it), for any year an int64_t day count holds. */
int64_t datetime_days_from_civil(int64_t year, unsigned month, unsigned day);

#endif
