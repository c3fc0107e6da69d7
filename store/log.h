/* Logging: syslog facility mail, one line per event, "prog: event k=v ...".
 * Messages are passed through log_safe() rules: CR, LF, NUL and other control
 * bytes in arguments are escaped (\xNN) so no client data can forge a line.
 * When PILLARBOX_LOG_STDERR=1 is in the environment (tests; read with
 * secure_getenv) lines also go to stderr. */
#ifndef PB_LOG_H
#define PB_LOG_H

#include <stdbool.h>
#include <stddef.h>

void log_open(const char *progname);
/* Whether log lines are mirrored to stderr (PILLARBOX_LOG_STDERR=1): then a
 * program started for us keeps our stderr, so its lines land with ours. */
bool log_to_stderr_enabled(void);
/* Turns the copy to stderr on or off; returns what it was. */
bool log_to_stderr_set(bool on);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies `src` (len bytes) into dst (size dstsize, always NUL-terminated),
 * escaping control bytes, backslash and non-UTF-8 bytes as \xNN; truncates
 * with "..." if it does not fit. Use it for every client-supplied value. */
const char *log_safe(char *dst, size_t dstsize, const char *src, size_t len);

#endif
