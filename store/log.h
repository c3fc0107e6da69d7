/* Logging: syslog facility mail, one line per event, "prog: event k=v ...".
 * Messages are passed through log_safe() rules: CR, LF, NUL and other control
 * bytes in arguments are escaped (\xNN) so no client data can forge a line.
 * When PILLARBOX_LOG_STDERR=1 is in the environment (tests; read with
 * secure_getenv) lines also go to stderr.
 *
 * What a client did, well or badly (a login, a failed or throttled login, a
 * refused recipient, too many bad commands), is one form in every program,
 * written by log_client():
 *     EVENT user=<USER> rip=IP[ more fields][: text]
 * EVENT a few fixed words ("login failed"; the webmail's start "webmail: "),
 * USER as the client gave it (log_field: nothing in it can end the field or
 * read as another one), IP as log_rip() writes it. README ("Logs and
 * fail2ban") lists the events and dist/fail2ban/filter.d/pillarbox.conf
 * reads them: keep their words and the order of these two fields. */
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
/* For a program at a terminal (the admin tool): the copy to stderr reads
 * "prog: warning: ..." like its other messages, without the pid. */
void log_stderr_plain(bool on);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies `src` (len bytes) into dst (size dstsize, always NUL-terminated),
 * escaping control bytes, backslash and non-UTF-8 bytes as \xNN; truncates
 * with "..." if it does not fit. Use it for every client-supplied value. */
const char *log_safe(char *dst, size_t dstsize, const char *src, size_t len);

/* log_safe() for a value between a field's delimiters (user=<...>,
 * from=<...>): also escapes space, '"', '<', '>' and the Unicode spaces,
 * line separators and invisible formatting characters (each byte as \xNN),
 * so the value cannot end its field early or pass for another field
 * (" rip=192.0.2.1" in a user name becomes "\x20rip=192.0.2.1"). */
const char *log_field(char *dst, size_t dstsize, const char *src, size_t len);

/* The longest text of log_rip(), with its NUL (INET6_ADDRSTRLEN). */
#define LOG_RIP_MAX 46

/* A client's address as every rip= field writes it, into dst: IPv4 dotted,
 * IPv6 as inet_ntop writes it (lower case, the longest zero run as "::"), an
 * IPv4-mapped IPv6 address as IPv4 (one client, one spelling, whichever the
 * socket family or front end); "unknown" for NULL, "" or anything that is
 * not a numeric address (a pipe has no peer). Returns dst. */
const char *log_rip(char dst[LOG_RIP_MAX], const char *ip);

/* Logs (info) "EVENT user=<USER> rip=IP" followed by fmt's text, which
 * starts with a space or ':' (" tls=no mech=PLAIN"); values in it that a
 * client sent go through log_field(). USER may be NULL or "" (none known):
 * "user=<>". */
void log_client(const char *event, const char *user, const char *ip, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
