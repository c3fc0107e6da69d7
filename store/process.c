/* Process start-up in one fixed order: umask, fds, environment, limits,
 * signals, then the switch away from root. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* setresuid, setresgid, clearenv */
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"

#if defined(__SANITIZE_ADDRESS__)
#define PROCESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROCESS_ASAN 1
#endif
#endif
#ifndef PROCESS_ASAN
#define PROCESS_ASAN 0
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__) || PROCESS_ASAN
#define PROCESS_SANITIZERS 1
#else
#define PROCESS_SANITIZERS 0
#endif

/* getpwnam_r scratch: glibc's suggested size is 1 KB; an LDAP/sssd entry
 * with many fields can need more. Past this the entry is not plausible. */
#define PROCESS_PWBUF_MAX (1024 * 1024)
/* Messages name the user and a command line: room for both. */
#define PROCESS_ERROR_MAX 512
/* The exit status of a process stopped by its watchdog (EX_TEMPFAIL). */
#define PROCESS_WATCHDOG_EXIT 75

volatile sig_atomic_t process_stop_requested;

static char process_error_buf[PROCESS_ERROR_MAX];

/* Kept by every program. */
static const char *const process_env_base[] = {
	"TZ", "LANG", "LC_ALL", "PILLARBOX_CONF", "PILLARBOX_LOG_STDERR",
	"PILLARBOX_AUTH_DELAY_MS", /* tests shorten login delays; ignored by setuid programs */
#if PROCESS_SANITIZERS
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
#endif
};

/* Kept by webmail.cgi: RFC 3875 section 4.1 and what servers commonly add. */
static const char *const process_env_cgi[] = {
	"AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "GATEWAY_INTERFACE", "PATH_INFO",
	"PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT",
	"REMOTE_USER", "REQUEST_METHOD", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT",
	"SERVER_PROTOCOL", "SERVER_SOFTWARE", "HTTPS", "REQUEST_URI", "REMOTE_PORT",
	"REQUEST_SCHEME",
};

static int process_error(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int process_error(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(process_error_buf, sizeof(process_error_buf), fmt, ap);
	va_end(ap);
	*error_r = process_error_buf;
	return -1;
}

int process_fds_sanitise(const char **error_r)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* The lowest free number is `fd` itself: lower ones are open. */
		nfd = open("/dev/null", O_RDWR);
		if (nfd < 0)
			return process_error(error_r, "/dev/null: %s", strerror(errno));
		if (nfd != fd) {
			close(nfd);
			return process_error(error_r, "fd %d: could not be reopened", fd);
		}
	}
	return 0;
}

static bool process_env_allowed(const char *entry, size_t namelen, bool cgi)
{
	for (size_t i = 0; i < sizeof(process_env_base) / sizeof(process_env_base[0]); i++) {
		if (strlen(process_env_base[i]) == namelen &&
		    memcmp(entry, process_env_base[i], namelen) == 0)
			return true;
	}
	if (!cgi)
		return false;
	for (size_t i = 0; i < sizeof(process_env_cgi) / sizeof(process_env_cgi[0]); i++) {
		if (strlen(process_env_cgi[i]) == namelen &&
		    memcmp(entry, process_env_cgi[i], namelen) == 0)
			return true;
	}
	/* Request headers; HTTP_PROXY is a header ("Proxy:") that libraries
	 * would mistake for configuration (httpoxy). */
	return namelen > 5 && memcmp(entry, "HTTP_", 5) == 0 &&
		!(namelen == 10 && memcmp(entry, "HTTP_PROXY", 10) == 0);
}

int process_env_clean(bool cgi, const char **error_r)
{
	char **kept;
	size_t n = 0, nkept = 0;
	int ret = 0;

	if (environ != NULL) {
		while (environ[n] != NULL)
			n++;
	}
	kept = calloc(n + 1, sizeof(*kept));
	if (kept == NULL)
		return process_error(error_r, "environment: out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');

		if (eq == NULL || eq == environ[i] ||
		    !process_env_allowed(environ[i], (size_t)(eq - environ[i]), cgi))
			continue;
		kept[nkept] = strdup(environ[i]);
		if (kept[nkept] == NULL) {
			ret = process_error(error_r, "environment: out of memory");
			break;
		}
		nkept++;
	}
	/* Clear even on failure: an unfiltered environment is worse than none. */
	clearenv();
	for (size_t i = 0; i < nkept; i++) {
		char *eq = strchr(kept[i], '=');

		*eq = '\0';
		if (ret == 0 && setenv(kept[i], eq + 1, 1) < 0)
			ret = process_error(error_r, "environment: %s", strerror(errno));
		free(kept[i]);
	}
	free(kept);
	if (ret == 0 && setenv("PATH", PROCESS_SAFE_PATH, 1) < 0)
		ret = process_error(error_r, "environment: %s", strerror(errno));
	return ret;
}

static int process_rlimit_lower(int resource, const char *name, rlim_t value,
				const char **error_r)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) < 0)
		return process_error(error_r, "getrlimit(%s): %s", name, strerror(errno));
	/* Only the soft limit, never above the hard one: lowering the hard
	 * limit cannot be undone and a parent's stricter one stays. */
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && value > rl.rlim_max ? rl.rlim_max : value;
	if (setrlimit(resource, &rl) < 0)
		return process_error(error_r, "setrlimit(%s): %s", name, strerror(errno));
	return 0;
}

int process_limits_set(const struct process_limits *limits, const char **error_r)
{
	struct rlimit core = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &core) < 0)
		return process_error(error_r, "setrlimit(RLIMIT_CORE): %s", strerror(errno));
	if (limits == NULL)
		return 0;
	if (limits->address_space != 0 && !PROCESS_ASAN &&
	    process_rlimit_lower(RLIMIT_AS, "RLIMIT_AS", (rlim_t)limits->address_space,
				 error_r) < 0)
		return -1;
	if (limits->open_files != 0 &&
	    process_rlimit_lower(RLIMIT_NOFILE, "RLIMIT_NOFILE", (rlim_t)limits->open_files,
				 error_r) < 0)
		return -1;
	return 0;
}

static void process_stop_handler(int sig)
{
	(void)sig;
	process_stop_requested = 1;
}

static void process_watchdog_handler(int sig)
{
	(void)sig;
	_exit(PROCESS_WATCHDOG_EXIT);
}

void process_signals_init(void)
{
	static const int stops[] = { SIGTERM, SIGHUP, SIGINT };
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/* No SA_RESTART: a read blocked on a client returns EINTR and the
	 * caller sees process_stop_requested. */
	sa.sa_handler = process_stop_handler;
	sa.sa_flags = 0;
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void process_heap_trim(size_t keep)
{
#ifdef __GLIBC__
	/* The heap's top, glibc's cached break (no system call), tells cheaply
	 * whether a command grew the heap; only then is its free memory
	 * counted and, past `keep`, given back. */
	static char *top_after_trim;
	char *top = sbrk(0);
	if (top_after_trim == NULL || top < top_after_trim)
		top_after_trim = top;
	if ((size_t)(top - top_after_trim) <= keep)
		return;
	if (mallinfo2().fordblks > keep)
		malloc_trim(0);
	top_after_trim = sbrk(0);
#else
	(void)keep;
#endif
}

void process_watchdog(unsigned seconds)
{
	static bool installed;

	if (!installed) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = process_watchdog_handler;
		sigaction(SIGALRM, &sa, NULL);
		installed = true;
	}
	alarm(seconds);
}

/* getpwnam_r with a buffer grown on ERANGE. Returns 1 found (*buf_r to be
 * freed), 0 no such user, -1 error. */
static int process_user_lookup(const char *user, struct passwd *pw, char **buf_r,
			       const char **error_r)
{
	long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = suggested > 0 ? (size_t)suggested : 4096;
	struct passwd *result = NULL;
	char *buf = NULL;
	int err;

	for (;;) {
		char *nbuf = realloc(buf, size);

		if (nbuf == NULL) {
			free(buf);
			return process_error(error_r, "user %s: out of memory", user);
		}
		buf = nbuf;
		err = getpwnam_r(user, pw, buf, size, &result);
		if (err != ERANGE || size >= PROCESS_PWBUF_MAX)
			break;
		size *= 2;
	}
	if (result == NULL) {
		free(buf);
		if (err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM)
			return 0;
		return process_error(error_r, "user %s: lookup failed: %s", user, strerror(err));
	}
	*buf_r = buf;
	return 1;
}

/* A setuid/setgid (non-root) program: make the effective ids the real and
 * saved ones too, so the caller's identity cannot be regained. */
static int process_settle_setid(const char **error_r)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return process_error(error_r, "getresuid: %s", strerror(errno));
	if ((rgid != egid || sgid != egid) && setresgid(egid, egid, egid) < 0)
		return process_error(error_r, "setresgid(%ld): %s", (long)egid, strerror(errno));
	if ((ruid != euid || suid != euid) && setresuid(euid, euid, euid) < 0)
		return process_error(error_r, "setresuid(%ld): %s", (long)euid, strerror(errno));
	if (ruid != euid && setuid(ruid) == 0)
		return process_error(error_r, "could not drop uid %ld for good", (long)ruid);
	return 0;
}

static int process_no_user(const char *user, const char **error_r)
{
	return process_error(error_r, "user %s: no such user; create it with: "
			     "useradd --system --user-group --home-dir /var/lib/pillarbox "
			     "--shell /usr/sbin/nologin %s", user, user);
}

int process_user_ids(const char *user, uid_t *uid_r, gid_t *gid_r, const char **error_r)
{
	struct passwd pw;
	char *buf = NULL;
	int ret;

	if (user == NULL || *user == '\0')
		return process_error(error_r, "no user configured to run as");
	ret = process_user_lookup(user, &pw, &buf, error_r);
	if (ret < 0)
		return -1;
	if (ret == 0)
		return process_no_user(user, error_r);
	*uid_r = pw.pw_uid;
	*gid_r = pw.pw_gid;
	free(buf);
	return 0;
}

int process_drop_root(const char *user, const char **error_r)
{
	struct passwd pw;
	char *buf = NULL;
	int ret;

	if (user == NULL || *user == '\0')
		return process_error(error_r, "no user configured to run as");
	/* Only an effective root can switch users; a setuid program started
	 * by root (real uid 0) just settles on its effective ids. */
	if (geteuid() != 0)
		return process_settle_setid(error_r);

	ret = process_user_lookup(user, &pw, &buf, error_r);
	if (ret < 0)
		return -1;
	if (ret == 0)
		return process_no_user(user, error_r);
	if (pw.pw_uid == 0 || pw.pw_gid == 0) {
		free(buf);
		return process_error(error_r, "user %s: has uid or gid 0; refusing to run as root",
				     user);
	}
	/* Groups first: after setuid we could no longer change them. The
	 * store group alone: what a program opens after the switch is the
	 * store's (a handler reads its TLS key before it). initgroups would
	 * also enumerate every NSS group source, which cost every connection
	 * started by xinetd 0.5 ms (libnss_systemd loaded each time). */
	if (setgroups(1, &pw.pw_gid) < 0) {
		ret = process_error(error_r, "setgroups(%s): %s", user, strerror(errno));
	} else if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0) {
		ret = process_error(error_r, "setgid(%ld): %s", (long)pw.pw_gid, strerror(errno));
	} else if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0) {
		ret = process_error(error_r, "setuid(%ld): %s", (long)pw.pw_uid, strerror(errno));
	} else if (setuid(0) == 0 || geteuid() != pw.pw_uid || getegid() != pw.pw_gid) {
		ret = process_error(error_r, "user %s: root privileges could not be dropped", user);
	} else {
		ret = 0;
	}
	free(buf);
	return ret;
}

enum process_env_mode { PROCESS_ENV_KEEP, PROCESS_ENV_CLEAN, PROCESS_ENV_CGI };

static int process_init_mode(const char *user, const struct process_limits *limits,
			     enum process_env_mode env, const char **error_r)
{
	umask(007);
	if (process_fds_sanitise(error_r) < 0)
		return -1;
	if (env != PROCESS_ENV_KEEP && process_env_clean(env == PROCESS_ENV_CGI, error_r) < 0)
		return -1;
	if (process_limits_set(limits, error_r) < 0)
		return -1;
	process_signals_init();
	return process_drop_root(user, error_r);
}

int process_init(const char *user, const struct process_limits *limits, bool keep_env,
		 const char **error_r)
{
	return process_init_mode(user, limits, keep_env ? PROCESS_ENV_KEEP : PROCESS_ENV_CLEAN,
				 error_r);
}

int process_init_cgi(const char *user, const struct process_limits *limits,
		     const char **error_r)
{
	return process_init_mode(user, limits, PROCESS_ENV_CGI, error_r);
}
