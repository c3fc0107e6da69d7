/* Unit tests of store/process.c. Anything that changes the process for good
 * (closing fds, switching user, the watchdog) runs in a forked child that
 * reports through its exit status: 0 = pass, otherwise the failed step. */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process.h"

/* The user the CI creates (quickstart: useradd --system pillarbox). */
#define TEST_USER "pillarbox"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

/* Runs fn in a child; returns its wait status. */
static int run_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_child_ok(int (*fn)(void))
{
	int status = run_child(fn);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child failed: %s %d", WIFEXITED(status) ? "exit" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static size_t env_count(void)
{
	size_t n = 0;

	for (char **e = environ; e != NULL && *e != NULL; e++) {
		/* Sanitizer options are kept in sanitizer builds; not counted. */
		if (strncmp(*e, "ASAN_OPTIONS=", 13) != 0 && strncmp(*e, "UBSAN_OPTIONS=", 14) != 0 &&
		    strncmp(*e, "LSAN_OPTIONS=", 13) != 0)
			n++;
	}
	return n;
}

static void env_fill(void)
{
	setenv("TZ", "UTC", 1);
	setenv("LANG", "C.UTF-8", 1);
	setenv("LC_ALL", "C", 1);
	setenv("PILLARBOX_CONF", "/etc/x.conf", 1);
	setenv("PILLARBOX_LOG_STDERR", "1", 1);
	setenv("PATH", "/tmp/evil:/usr/bin", 1);
	setenv("LD_LIBRARY_PATH", "/tmp/evil", 1);
	setenv("HOME", "/root", 1);
	setenv("IFS", " ", 1);
	setenv("FOO", "bar", 1);
	setenv("QUERY_STRING", "a=1", 1);
	setenv("REQUEST_METHOD", "GET", 1);
	setenv("HTTP_COOKIE", "s=1", 1);
	setenv("HTTP_PROXY", "http://evil/", 1);
	setenv("HTTPS", "on", 1);
	setenv("TZX", "no", 1);     /* a prefix of nothing allowed */
	setenv("HTTP_", "no", 1);   /* just the prefix */
}

static void test_env_clean(void **state)
{
	const char *error = NULL;

	(void)state;
	env_fill();
	assert_int_equal(process_env_clean(false, &error), 0);
	assert_string_equal(getenv("TZ"), "UTC");
	assert_string_equal(getenv("LANG"), "C.UTF-8");
	assert_string_equal(getenv("LC_ALL"), "C");
	assert_string_equal(getenv("PILLARBOX_CONF"), "/etc/x.conf");
	assert_string_equal(getenv("PILLARBOX_LOG_STDERR"), "1");
	assert_string_equal(getenv("PATH"), PROCESS_SAFE_PATH);
	assert_null(getenv("LD_LIBRARY_PATH"));
	assert_null(getenv("HOME"));
	assert_null(getenv("IFS"));
	assert_null(getenv("FOO"));
	assert_null(getenv("QUERY_STRING"));
	assert_null(getenv("HTTP_COOKIE"));
	assert_null(getenv("HTTPS"));
	assert_null(getenv("TZX"));
	assert_int_equal(env_count(), 6);
}

static void test_env_clean_cgi(void **state)
{
	const char *error = NULL;

	(void)state;
	env_fill();
	assert_int_equal(process_env_clean(true, &error), 0);
	assert_string_equal(getenv("TZ"), "UTC");
	assert_string_equal(getenv("QUERY_STRING"), "a=1");
	assert_string_equal(getenv("REQUEST_METHOD"), "GET");
	assert_string_equal(getenv("HTTP_COOKIE"), "s=1");
	assert_string_equal(getenv("HTTPS"), "on");
	assert_string_equal(getenv("PATH"), PROCESS_SAFE_PATH);
	assert_null(getenv("HTTP_PROXY"));
	assert_null(getenv("HTTP_"));
	assert_null(getenv("LD_LIBRARY_PATH"));
	assert_null(getenv("FOO"));
	assert_int_equal(env_count(), 10);
}

static bool fd_is_dev_null(int fd)
{
	struct stat st, null;

	return fstat(fd, &st) == 0 && stat("/dev/null", &null) == 0 && S_ISCHR(st.st_mode) &&
		st.st_rdev == null.st_rdev;
}

static int child_fds(void)
{
	const char *error = NULL;

	close(0);
	if (process_fds_sanitise(&error) < 0)
		return 1;
	if (!fd_is_dev_null(0))
		return 2;
	if (fcntl(1, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0)
		return 3;
	/* All three closed. */
	close(0);
	close(1);
	close(2);
	if (process_fds_sanitise(&error) < 0)
		return 4;
	if (!fd_is_dev_null(0) || !fd_is_dev_null(1) || !fd_is_dev_null(2))
		return 5;
	/* Nothing else was opened: the next fd is the lowest free one above 2. */
	int fd = open("/dev/null", O_RDONLY);
	if (fd < 3)
		return 6;
	return 0;
}

static void test_fds(void **state)
{
	(void)state;
	assert_child_ok(child_fds);
}

static int child_watchdog_fires(void)
{
	process_watchdog(1);
	sleep(5);
	return 0; /* reached only if the watchdog did not fire */
}

static int child_watchdog_disarmed(void)
{
	process_watchdog(1);
	process_watchdog(0);
	sleep(2);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_watchdog(void **state)
{
	double t0 = now(), elapsed;
	int status = run_child(child_watchdog_fires);

	(void)state;
	elapsed = now() - t0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 75);
	assert_true(elapsed >= 0.9 && elapsed < 4.0);
	assert_child_ok(child_watchdog_disarmed);
}

static int child_signals(void)
{
	char c;
	int fds[2];
	pid_t parent = getpid();
	pid_t killer;

	process_signals_init();
	if (process_stop_requested)
		return 1;
	if (pipe(fds) < 0)
		return 2;
	killer = fork();
	if (killer < 0)
		return 3;
	if (killer == 0) {
		usleep(200 * 1000);
		kill(parent, SIGTERM);
		_exit(0);
	}
	/* Blocks until SIGTERM: without SA_RESTART, read returns EINTR. */
	if (read(fds[0], &c, 1) != -1 || errno != EINTR)
		return 4;
	if (!process_stop_requested)
		return 5;
	waitpid(killer, NULL, 0);
	/* SIGHUP and SIGINT set the flag too. */
	process_stop_requested = 0;
	raise(SIGHUP);
	if (!process_stop_requested)
		return 6;
	process_stop_requested = 0;
	raise(SIGINT);
	if (!process_stop_requested)
		return 7;
	/* SIGPIPE is ignored: writing to a closed pipe gives EPIPE. */
	close(fds[0]);
	if (write(fds[1], "x", 1) != -1 || errno != EPIPE)
		return 8;
	return 0;
}

static void test_signals(void **state)
{
	(void)state;
	assert_child_ok(child_signals);
}

static int child_limits(void)
{
	struct process_limits limits = { .address_space = (size_t)64 << 30, .open_files = 64 };
	const char *error = NULL;
	struct rlimit before, rl;

	if (getrlimit(RLIMIT_AS, &before) < 0)
		return 1;
	if (process_limits_set(&limits, &error) < 0)
		return 2;
	if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur != 0 || rl.rlim_max != 0)
		return 3;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 64)
		return 4;
	if (getrlimit(RLIMIT_AS, &rl) < 0)
		return 5;
	if (TEST_ASAN ? rl.rlim_cur != before.rlim_cur : rl.rlim_cur != (rlim_t)64 << 30)
		return 6;
	/* NULL: core dumps still off, the rest untouched. */
	if (process_limits_set(NULL, &error) < 0)
		return 7;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 64)
		return 8;
	return 0;
}

static void test_limits(void **state)
{
	(void)state;
	assert_child_ok(child_limits);
}

static bool test_user_exists(void)
{
	return getpwnam(TEST_USER) != NULL;
}

static int child_drop_root(void)
{
	struct passwd *pw = getpwnam(TEST_USER);
	const char *error = NULL;
	gid_t groups[64];
	int n;

	if (pw == NULL)
		return 1;
	if (process_drop_root(TEST_USER, &error) < 0)
		return 2;
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
		return 3;
	if (getgid() != pw->pw_gid || getegid() != pw->pw_gid)
		return 4;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 5;
	n = getgroups(64, groups);
	if (n < 0)
		return 6;
	for (int i = 0; i < n; i++) {
		if (groups[i] == 0)
			return 7;
	}
	return 0;
}

static void test_drop_root(void **state)
{
	(void)state;
	if (geteuid() != 0 || !test_user_exists()) {
		print_message("skipped: needs root and user " TEST_USER "\n");
		skip();
	}
	assert_child_ok(child_drop_root);
}

/* A setuid-`pillarbox` program run by `caller`: real uid caller, effective
 * and saved uid pillarbox. Afterwards every id is pillarbox's for good. */
static int setuid_program_settles(uid_t caller)
{
	struct passwd *pw = getpwnam(TEST_USER);
	const char *error = NULL;
	uid_t r, e, s;

	if (pw == NULL)
		return 1;
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
		return 2;
	if (setresuid(caller, pw->pw_uid, pw->pw_uid) < 0)
		return 3;
	if (process_drop_root(TEST_USER, &error) < 0)
		return 4;
	if (getresuid(&r, &e, &s) < 0 || r != pw->pw_uid || e != pw->pw_uid || s != pw->pw_uid)
		return 5;
	if (setuid(caller) == 0 || setuid(0) == 0)
		return 6;
	return 0;
}

static int child_setuid_by_nobody(void)
{
	return setuid_program_settles(65534);
}

static int child_setuid_by_root(void)
{
	return setuid_program_settles(0);
}

static void test_setuid_program(void **state)
{
	(void)state;
	if (geteuid() != 0 || !test_user_exists()) {
		print_message("skipped: needs root and user " TEST_USER "\n");
		skip();
	}
	assert_child_ok(child_setuid_by_nobody);
	assert_child_ok(child_setuid_by_root);
}

static int child_no_such_user(void)
{
	const char *error = NULL;

	if (process_drop_root("pb-no-such-user", &error) != -1)
		return 1;
	if (strstr(error, "pb-no-such-user") == NULL ||
	    strstr(error, "useradd --system --user-group --home-dir /var/lib/pillarbox "
		   "--shell /usr/sbin/nologin pb-no-such-user") == NULL)
		return 2;
	if (geteuid() != 0)
		return 3; /* still root: nothing was half-done */
	if (process_drop_root("root", &error) != -1 || strstr(error, "uid or gid 0") == NULL)
		return 4;
	if (process_drop_root(NULL, &error) != -1)
		return 5;
	return 0;
}

static void test_no_such_user(void **state)
{
	const char *error = NULL;

	(void)state;
	if (geteuid() != 0) {
		/* Not root: nothing to switch, whatever the user. */
		assert_int_equal(process_drop_root("pb-no-such-user", &error), 0);
		return;
	}
	assert_child_ok(child_no_such_user);
}

/* The whole sequence, as a handler would run it. */
static int child_init(void)
{
	struct process_limits limits = { .open_files = 128 };
	const char *error = NULL;
	mode_t mask;

	close(0);
	umask(022);
	setenv("FOO", "bar", 1);
	setenv("LANG", "C", 1);
	if (process_init(TEST_USER, &limits, false, &error) < 0)
		return 1;
	if (!fd_is_dev_null(0))
		return 2;
	if (getenv("FOO") != NULL || getenv("LANG") == NULL)
		return 3;
	mask = umask(0);
	if (mask != 007)
		return 4;
	if (getuid() == 0 || geteuid() == 0)
		return 5;
	if (signal(SIGPIPE, SIG_IGN) != SIG_IGN)
		return 6;
	return 0;
}

static void test_init(void **state)
{
	(void)state;
	if (geteuid() == 0 && !test_user_exists()) {
		print_message("skipped: running as root without user " TEST_USER "\n");
		skip();
	}
	assert_child_ok(child_init);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_ALLOCATOR 1
#endif

/* Resident memory of this process, in KB. */
static long resident_kb(void)
{
	long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* What one big command left free goes back to the system (an IMAP session
 * after a SORT of 100,000 messages); what is in use stays usable. */
static void test_heap_trim(void **state)
{
	enum { N = 40000, SIZE = 256 };
	static char *blocks[N];
	(void)state;
	process_heap_trim(1024 * 1024);   /* the starting point */
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc(SIZE);
		assert_non_null(blocks[i]);
		memset(blocks[i], 'x', SIZE);
	}
	char *live = malloc(SIZE);        /* above them: the heap cannot just shrink */
	assert_non_null(live);
	strcpy(live, "still here");
	for (int i = 0; i < N; i++)
		free(blocks[i]);
	long before = resident_kb();
	process_heap_trim(1024 * 1024);
	long after = resident_kb();
	assert_string_equal(live, "still here");
	free(live);
#ifdef ASAN_ALLOCATOR
	/* the sanitizer's allocator keeps no brk heap: nothing to give back */
	print_message("under ASan: trimmed nothing (%ld -> %ld KB resident)\n", before, after);
#else
	/* ~10 MB were freed: most of it left the process */
	assert_true(before - after > 6 * 1024);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_clean),
		cmocka_unit_test(test_env_clean_cgi),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_drop_root),
		cmocka_unit_test(test_setuid_program),
		cmocka_unit_test(test_no_such_user),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_heap_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
