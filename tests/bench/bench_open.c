/* bench_open: timing helpers for tests/bench/bench_store.sh (plain libc).
 *
 *   bench_open [--user NAME] [--stdin FILE] --runs N PROG [ARGS...]
 *       fork+exec+wait PROG N times, timed from outside; every run must exit
 *       0. Prints "runs N median_ms M p90_ms P min_ms L cpu_median_ms C"
 *       (C: the child's user+system time, robust on a busy machine). With --user (as
 *       root) the runs are made as that user, as xinetd/systemd would. With
 *       --stdin, each run reads FILE from its start (a whole session of a
 *       protocol handler, say) and its standard output and error go to
 *       /dev/null (a failed run still shows in its exit status).
 *   bench_open --noop
 *       returns at once: the bare fork+exec cost when run by the above.
 *   bench_open --syncrate DIR SECONDS
 *       the disk's raw synchronous-write rate: write(4 KB) + fdatasync on a
 *       file in DIR (appending, like a log) for SECONDS. Prints
 *       "syncs_per_s R".
 *   bench_open --syncrate-prealloc DIR SECONDS
 *       the same over a file written with zeros first (as the store's log
 *       files are, db_log_zero): no block allocation in each sync.
 *   bench_open --cpuscale SECONDS
 *       how much more work the machine does with one process per CPU than
 *       with one process, for two loops (half of SECONDS each): one over a
 *       64 KB buffer (it stays in the core's cache) and one over 64 MB (it
 *       waits on memory), each run alone, then once per CPU at the same
 *       time. Prints "cpuscale X memscale Y cpus N". A virtual machine
 *       whose CPUs share physical cores, or a busy host, gives well under N.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS_MAX 100000
#define SYNC_BLOCK 4096

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The FILE of --stdin, or NULL. */
static const char *stdin_path;

/* In the child: FILE as standard input, standard output and error to
 * /dev/null. */
static void child_stdio(void)
{
	if (stdin_path == NULL)
		return;
	int in = open(stdin_path, O_RDONLY | O_CLOEXEC), out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
		perror(stdin_path);
		_exit(127);
	}
}

static int run_many(long runs, char **argv)
{
	double *t = calloc((size_t)runs, sizeof(*t));
	double *cpu = calloc((size_t)runs, sizeof(*cpu));
	if (t == NULL || cpu == NULL)
		return 1;
	for (long i = 0; i < runs; i++) {
		double t0 = now_ms();
		pid_t pid = fork();
		if (pid < 0) {
			perror("bench_open: fork");
			return 1;
		}
		if (pid == 0) {
			child_stdio();
			execv(argv[0], argv);
			perror(argv[0]);
			_exit(127);
		}
		int status;
		struct rusage ru;
		while (wait4(pid, &status, 0, &ru) < 0)
			if (errno != EINTR) {
				perror("bench_open: wait4");
				return 1;
			}
		t[i] = now_ms() - t0;
		cpu[i] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
			 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench_open: run %ld of %s failed (status %d)\n", i + 1,
				argv[0], status);
			return 1;
		}
	}
	qsort(t, (size_t)runs, sizeof(*t), dbl_cmp);
	qsort(cpu, (size_t)runs, sizeof(*cpu), dbl_cmp);
	printf("runs %ld median_ms %.3f p90_ms %.3f min_ms %.3f cpu_median_ms %.3f\n", runs,
	       t[runs / 2], t[runs * 9 / 10], t[0], cpu[runs / 2]);
	free(t);
	free(cpu);
	return 0;
}

/* Size of the zero-filled file of --syncrate-prealloc; writes wrap around. */
#define PREALLOC_BYTES (32L << 20)

static int sync_rate(const char *dir, double seconds, bool prealloc)
{
	char path[4096], block[SYNC_BLOCK];
	snprintf(path, sizeof(path), "%s/bench_open.sync.%d", dir, (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	memset(block, 0, sizeof(block));
	for (off_t off = 0; prealloc && off < PREALLOC_BYTES; off += SYNC_BLOCK) {
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) {
			perror(path);
			close(fd);
			unlink(path);
			return 1;
		}
	}
	if (prealloc && (fdatasync(fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)) {
		perror(path);
		close(fd);
		unlink(path);
		return 1;
	}
	memset(block, 'x', sizeof(block));
	long n = 0;
	double t0 = now_ms(), t1;
	do {
		if (prealloc && (n * SYNC_BLOCK) % PREALLOC_BYTES == 0 && lseek(fd, 0, SEEK_SET) < 0) {
			perror(path);
			close(fd);
			unlink(path);
			return 1;
		}
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block) || fdatasync(fd) < 0) {
			perror(path);
			close(fd);
			unlink(path);
			return 1;
		}
		n++;
		t1 = now_ms();
	} while (t1 - t0 < seconds * 1e3);
	close(fd);
	unlink(path);
	printf("syncs_per_s %.0f\n", (double)n * 1e3 / (t1 - t0));
	return 0;
}

/* Passes of an FNV-1a hash over a buffer of `size` bytes done in
 * `seconds`, each byte read at a pseudo-random place in the buffer: over
 * 64 KB the loop stays in the core's cache; over 64 MB (the store's cache
 * size) it waits on memory, as the store's page lookups do. */
static long cpu_passes(size_t size, double seconds)
{
	unsigned char *buf = malloc(size);
	uint32_t h = 2166136261u;
	long passes = 0;
	if (buf == NULL) {
		perror("bench_open: malloc");
		return 0;
	}
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)i;
	double t0 = now_ms();
	do {
		for (size_t i = 0; i < 65536; i++)
			h = (h ^ buf[(h + i * 4099) % size]) * 16777619u;
		buf[h % size]++;
		passes++;
	} while (now_ms() - t0 < seconds * 1e3);
	free(buf);
	return passes;
}

/* Total passes of `procs` processes running cpu_passes at once. */
static long cpu_passes_parallel(long procs, size_t size, double seconds)
{
	int fds[2];
	if (pipe(fds) < 0) {
		perror("pipe");
		return -1;
	}
	long started = 0;
	for (; started < procs; started++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("bench_open: fork");
			break;
		}
		if (pid == 0) {
			long n = cpu_passes(size, seconds);
			_exit(write(fds[1], &n, sizeof(n)) == (ssize_t)sizeof(n) ? 0 : 1);
		}
	}
	close(fds[1]);
	long total = started == procs ? 0 : -1, n;
	for (long i = 0; i < started; i++) {
		if (read(fds[0], &n, sizeof(n)) != (ssize_t)sizeof(n) || n <= 0) {
			fprintf(stderr, "bench_open: a CPU loop failed\n");
			total = -1;
			break;
		}
		if (total >= 0)
			total += n;
	}
	close(fds[0]);
	while (wait(NULL) > 0)
		;
	return total;
}

static int cpu_scale(double seconds)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	size_t sizes[] = { 64 << 10, 64 << 20 };
	double scale[2];
	for (int i = 0; i < 2; i++) {
		long one = cpu_passes_parallel(1, sizes[i], seconds / 4);
		long all = cpu_passes_parallel(cpus, sizes[i], seconds / 4);
		if (one <= 0 || all <= 0)
			return 1;
		scale[i] = (double)all / (double)one;
	}
	printf("cpuscale %.2f memscale %.2f cpus %ld\n", scale[0], scale[1], cpus);
	return 0;
}

static int become(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		fprintf(stderr, "bench_open: no user %s\n", user);
		return -1;
	}
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		perror("bench_open: switching user");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--user") == 0) {
		if (become(argv[2]) < 0)
			return 1;
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	if (argc >= 3 && strcmp(argv[1], "--stdin") == 0) {
		stdin_path = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	if (argc == 2 && strcmp(argv[1], "--noop") == 0)
		return 0;
	if (argc >= 4 && strcmp(argv[1], "--runs") == 0) {
		long runs = strtol(argv[2], NULL, 10);
		if (runs < 1 || runs > RUNS_MAX) {
			fprintf(stderr, "bench_open: --runs 1..%d\n", RUNS_MAX);
			return 2;
		}
		return run_many(runs, argv + 3);
	}
	if (argc == 4 && strcmp(argv[1], "--syncrate") == 0)
		return sync_rate(argv[2], strtod(argv[3], NULL), false);
	if (argc == 4 && strcmp(argv[1], "--syncrate-prealloc") == 0)
		return sync_rate(argv[2], strtod(argv[3], NULL), true);
	if (argc == 3 && strcmp(argv[1], "--cpuscale") == 0)
		return cpu_scale(strtod(argv[2], NULL));
	fprintf(stderr, "usage: bench_open [--user NAME] [--stdin FILE] --runs N PROG [ARGS...] | --noop | "
		"--syncrate[-prealloc] DIR SECONDS | --cpuscale SECONDS\n");
	return 2;
}
