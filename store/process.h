/* What every Pillarbox program does first, in a fixed order (one place):
 *   umask(007); sanitise fds 0-2 (open /dev/null on closed ones);
 *   clear the environment except a small allow-list (PATH reset, TZ, LANG,
 *   PILLARBOX_CONF, PILLARBOX_LOG_STDERR, and for CGI the CGI/1.1 variables)
 *   unless `keep_env`; set RLIMIT_AS / RLIMIT_CORE(0) / RLIMIT_NOFILE limits;
 *   SIGPIPE ignored; SIGTERM/SIGHUP/SIGINT set process_stop_requested;
 *   if running as root, switch to `user` (initgroups, setgid, setuid, and check
 *   that getting root back fails) before anything else is opened.
 * If `user` cannot be found or switched to, the program must refuse to run. */
#ifndef PB_PROCESS_H
#define PB_PROCESS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

extern volatile sig_atomic_t process_stop_requested;

struct process_limits {
	size_t address_space;  /* bytes for RLIMIT_AS; 0 = leave as is */
	unsigned open_files;   /* RLIMIT_NOFILE; 0 = leave as is */
};

/* Returns 0, or -1 with *error_r (e.g. "user pillarbox: no such user").
 * `limits` NULL leaves RLIMIT_AS and RLIMIT_NOFILE as they are (core dumps
 * are always disabled: they would hold passwords). RLIMIT_AS is never set
 * in AddressSanitizer builds (ASan reserves terabytes of address space).
 * `user` must not be NULL. Signals SIGTERM, SIGHUP, SIGINT, SIGALRM and
 * SIGPIPE are unblocked (a parent may have blocked them) and SIGCHLD is reset
 * to its default. File descriptors above 2 are left alone (the syslog socket
 * may already be open). */
int process_init(const char *user, const struct process_limits *limits,
		 bool keep_env, const char **error_r);

/* process_init() for webmail.cgi: the environment keeps the CGI/1.1
 * meta-variables (RFC 3875 section 4.1, the HTTP_* ones except HTTP_PROXY,
 * and HTTPS/REQUEST_URI/REMOTE_PORT) besides the usual allow-list. */
int process_init_cgi(const char *user, const struct process_limits *limits,
		     const char **error_r);

/* The steps of process_init(), in its order, for tests and special cases. */

/* Opens /dev/null on whichever of fds 0, 1, 2 is closed. 0 or -1. */
int process_fds_sanitise(const char **error_r);

/* Removes every environment variable but TZ, LANG, LC_ALL, PILLARBOX_CONF,
 * PILLARBOX_LOG_STDERR (and with `cgi` the CGI/1.1 variables above), and sets
 * PATH to PROCESS_SAFE_PATH. Sanitizer builds also keep ASAN_OPTIONS,
 * UBSAN_OPTIONS and LSAN_OPTIONS so tests can steer child processes.
 * 0 or -1 (out of memory). */
#define PROCESS_SAFE_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
int process_env_clean(bool cgi, const char **error_r);

/* Sets the limits (see process_init) and RLIMIT_CORE to 0. 0 or -1. */
int process_limits_set(const struct process_limits *limits, const char **error_r);

/* SIGPIPE ignored; SIGTERM/SIGHUP/SIGINT set process_stop_requested
 * (installed without SA_RESTART so a blocking read returns EINTR). */
void process_signals_init(void);

/* Switches to `user` if running as root (effective uid 0):
 * getpwnam_r, initgroups, setgid, setuid, then checks that setuid(0) fails.
 * Refuses (-1) when the user does not exist (the error says how to create
 * it) or is uid 0. Not root: a setuid/setgid program makes its effective ids
 * its real ones too (so the web server's user is gone for good); otherwise
 * a no-op. Part of process_init, exposed for the admin CLI which needs root
 * first (chown). */
int process_drop_root(const char *user, const char **error_r);

/* The uid and primary gid of `user`. Returns 0, or -1 with *error_r (a
 * missing user gets the same "create it with: useradd ..." advice as
 * process_drop_root). For preparing directories as root before the switch. */
int process_user_ids(const char *user, uid_t *uid_r, gid_t *gid_r, const char **error_r);

/* Watchdog: a process stuck in one operation longer than `seconds` _exit(75)s
 * (EX_TEMPFAIL) rather than hang forever on a dead store mutex. 0 disarms. */
void process_watchdog(unsigned seconds);
/* After the heap grew by more than `keep` bytes since the last call that
 * trimmed, gives its free memory back to the system when more than `keep`
 * is free: a long session (IMAP kept open for days) does not hold for good
 * what one big command (a SORT of 100,000 messages) took. */
void process_heap_trim(size_t keep);

#endif
