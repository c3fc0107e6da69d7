/* Private to tzinfo.c and tzinfo_posix.c: the footer's POSIX TZ string. */
#ifndef PB_TZINFO_INT_H
#define PB_TZINFO_INT_H

#include "tzinfo.h"

/* A rule's day and time: "Jn", "n" or "Mm.w.d", then "/time". */
struct tzinfo_rule {
	char kind;       /* 'J' (1-365, no Feb 29), 'n' (0-365), 'M' */
	uint16_t day;    /* the day for 'J' and 'n'; the weekday 0-6 for 'M' */
	uint8_t month;   /* 'M': 1-12 */
	uint8_t week;    /* 'M': 1-5, 5 meaning the last */
	int32_t secs;    /* local time of day, -167 to 167 hours (RFC 8536 3.3.1) */
};

struct tzinfo_posix {
	int32_t std_off, dst_off; /* seconds east */
	bool has_dst;
	struct tzinfo_rule start; /* in local standard time */
	struct tzinfo_rule end;   /* in local daylight saving time */
	char std_abbr[TZINFO_ABBR_MAX + 1], dst_abbr[TZINFO_ABBR_MAX + 1];
};

/* Parses a TZ string as RFC 8536 3.3 allows in a footer:
 * std offset [dst [offset] ,start[/time],end[/time]], names of 3 to
 * TZINFO_ABBR_MAX letters or <quoted> [A-Za-z0-9+-], offsets within
 * +-24:59:59, transition hours within +-167. Daylight saving time without
 * rules (POSIX leaves those to the implementation) is refused. 0, or -1
 * with *error_r. */
int tzinfo_posix_parse(const char *s, size_t len, struct tzinfo_posix *p_r, const char **error_r);

/* Local time at `t` under the rules. */
void tzinfo_posix_local(const struct tzinfo_posix *p, int64_t t, int32_t *off_r, bool *dst_r,
	const char **abbr_r);

#endif
