/* Time zones by IANA name ("Europe/Berlin"): the UTC offset in force at an
 * instant, read from the zone's TZif file (RFC 8536) by this code alone.
 *
 * Nothing here reads or sets TZ or calls tzset()/localtime(): that state is
 * process-wide, and the webmail server answers requests on several threads.
 * A loaded zone is immutable; any number of threads may query it at once.
 *
 * Times are seconds since the epoch (UTC, no leap seconds); offsets are
 * seconds east of UTC. */
#ifndef PB_TZINFO_H
#define PB_TZINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where Debian's tzdata puts the zone files. */
#define TZINFO_DIR "/usr/share/zoneinfo"

/* Limits on what is accepted; anything larger is refused as malformed.
 * The largest file in tzdata 2025b is under 4 KB with about 240
 * transitions, 18 types and 40 bytes of abbreviations. */
/* A zone name: "America/Argentina/ComodRivadavia" is 32. */
#define TZINFO_NAME_MAX 64
/* Bytes in a TZif file. */
#define TZINFO_FILE_MAX 65536
/* Transitions in the data block used. */
#define TZINFO_TRANSITIONS_MAX 2000
/* Local time types: the format's own limit (a type index is one byte). */
#define TZINFO_TYPES_MAX 256
/* Bytes of abbreviations: an index is one byte, plus room for the last
 * abbreviation to run past index 255. */
#define TZINFO_CHARS_MAX 512
/* The footer's TZ string, between its two newlines: real ones are under 50. */
#define TZINFO_FOOTER_MAX 128
/* Characters in a footer abbreviation ("CEST", "<+0545>" counts 5). */
#define TZINFO_ABBR_MAX 15

struct tzinfo;

/* True if `name` is safe to use as a path below the zone directory:
 * 1 to TZINFO_NAME_MAX bytes of components made of [A-Za-z0-9_+-], joined
 * by single '/', none starting with '.' or '-' (so no "..", no absolute
 * path, no option-like or hidden names). Says nothing about whether the
 * zone exists. */
bool tzinfo_name_valid(const char *name);

/* The same for a name given with its length (a form field): a NUL byte
 * inside makes it invalid. */
bool tzinfo_name_valid_n(const char *name, size_t len);

/* Parses a TZif file (versions 1 to 4) held in memory; the 64-bit data
 * block and the footer's POSIX TZ string are used when the version has
 * them. Every count, index and offset is checked against the buffer and
 * the limits above; transitions must be strictly ascending. Files with
 * leap-second records (the "right/" zones) are refused: their times are
 * not POSIX times. Returns 0 with a new zone in *z_r (free it with
 * tzinfo_free()), or -1 with a static message in *error_r. */
int tzinfo_parse(const uint8_t *buf, size_t len, struct tzinfo **z_r, const char **error_r);

/* Loads zone `name` (checked with tzinfo_name_valid()) from directory
 * `dir` (NULL means TZINFO_DIR; tests pass their own). Symbolic links
 * inside the directory are followed (tzdata's aliases are links); the file
 * must be a regular file of at most TZINFO_FILE_MAX bytes. Returns the
 * zone, or NULL with a static message in *error_r ("unknown time zone"
 * when there is no such file, "invalid time zone name"). */
struct tzinfo *tzinfo_load(const char *dir, const char *name, const char **error_r);

/* Frees *_z (NULL is fine) and sets it to NULL. */
void tzinfo_free(struct tzinfo **_z);

/* The offset in seconds east of UTC in force at instant `t`, and in
 * *dst_r (if not NULL) whether it is daylight saving time. As RFC 8536
 * section 3.2 says: before the first transition, local time type 0; from
 * the last transition on (or always, with no transitions) the footer's
 * TZ string if there is one, else the last transition's type (type 0 with
 * no transitions). Any int64_t instant works; the footer's rules repeat
 * every 400 years. No allocation, no locks. */
int tzinfo_offset(const struct tzinfo *z, int64_t t, bool *dst_r);

/* The abbreviation in force at `t` ("CEST", "+0545"); the string lives as
 * long as the zone. */
const char *tzinfo_abbr(const struct tzinfo *z, int64_t t);

#endif
