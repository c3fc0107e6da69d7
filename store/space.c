/* Disk space: what the store keeps free for Berkeley DB, and the blocks it
 * reserves for the shared regions. Measured on a full ext4 file system
 * (tests/store/test_disk_full.py): body files and log writes inside the
 * current log file fail cleanly with ENOSPC; what does not is below. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "store_int.h"

/* Free space a new message must leave for Berkeley DB: each 8 MB log file
 * (set_lg_max) is made whole, zero-filled, when the last one is full; a
 * recovery may need another; checkpoints grow the database files. Four
 * log files' worth. Without it the log switch fails, and 5.3 then reports
 * the commit that needed the new file as durable (txn.c). */
#define SPACE_KEEP_BYTES (32ull << 20)
/* Free inodes kept: a new log file needs one. */
#define SPACE_KEEP_INODES 64
/* Region files are __db.001 to __db.00N; 5.3 makes at most a handful. */
#define REGION_FILES_MAX 9

int store_space_check(struct store *store, uint64_t size, const char **error_r)
{
	struct statvfs sv;
	/* Unknown: the writes themselves will tell. */
	if (statvfs(store->home, &sv) < 0)
		return 1;
	uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	bool inodes_low = sv.f_files > 0 && sv.f_favail < SPACE_KEEP_INODES;
	if (!inodes_low && avail >= SPACE_KEEP_BYTES && avail - SPACE_KEEP_BYTES >= size)
		return 1;
	store_syserr(store, ENOSPC, "the store's file system is full (%llu KB and %llu inodes "
		     "free; the store keeps %llu MB and %d inodes for its database): free some space",
		     (unsigned long long)(avail >> 10), (unsigned long long)sv.f_favail,
		     SPACE_KEEP_BYTES >> 20, SPACE_KEEP_INODES);
	*error_r = store_last_error(store);
	return 0;
}

struct region_map {
	dev_t dev;
	ino_t ino;
	uint64_t len;
};

/* The region files this process has mapped, from /proc/self/maps: how
 * long each mapping is. Berkeley DB maps a region at its maximum size.
 * Returns how many were found. */
static size_t region_maps(struct region_map *maps, size_t max)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096];
	size_t n = 0;
	if (f == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		unsigned long long start, end, ino;
		unsigned int major, minor;
		if (strstr(line, "/__db.0") == NULL ||
		    sscanf(line, "%llx-%llx %*s %*s %x:%x %llu", &start, &end, &major, &minor,
			   &ino) != 5)
			continue;
		maps[n].dev = makedev(major, minor);
		maps[n].ino = (ino_t)ino;
		maps[n].len = end - start;
		n++;
	}
	fclose(f);
	return n;
}

static bool region_path(struct store *store, int i, char *path, size_t size)
{
	return (size_t)snprintf(path, size, "%s/__db.%03d", store->home, i) < size;
}

static bool on_memory_fs(int fd)
{
	struct statfs fs;
	return fstatfs(fd, &fs) == 0 &&
	       ((unsigned long)fs.f_type == TMPFS_MAGIC || (unsigned long)fs.f_type == RAMFS_MAGIC);
}

static void region_reserve(const char *path, int fd, const struct region_map *maps, size_t n)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || on_memory_fs(fd))
		return;
	for (size_t i = 0; i < n; i++) {
		if (maps[i].dev != st.st_dev || maps[i].ino != st.st_ino)
			continue;
		if ((uint64_t)st.st_blocks * 512 >= maps[i].len)
			return;
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)maps[i].len) < 0 &&
		    errno != EOPNOTSUPP)
			log_warning("store: %s: reserving %llu MB for the shared region: %s "
				    "(on a full disk a store process could die of SIGBUS)",
				    path, (unsigned long long)(maps[i].len >> 20), strerror(errno));
		return;
	}
}

/* Berkeley DB creates the region files sparse and grows them by writing
 * their last page, ignoring a failure of that write (__db_file_extend);
 * every process maps them whole. A process touching a page with no block
 * under it, or past the end, when the file system is full gets SIGBUS
 * (measured: in __env_alloc, during a delivery; the recovery after it
 * restarted every session). Blocks are reserved past each file's end up
 * to its mapped size (about 350 MB with our DB_CONFIG: the 256 MB
 * set_memory_max, the 80 MB cache, the mutexes), so every page has one.
 * Not on tmpfs, where a reservation would hold memory. */
void store_regions_reserve(struct store *store)
{
	struct region_map maps[REGION_FILES_MAX];
	size_t n = region_maps(maps, REGION_FILES_MAX);
	char path[1024];
	int last = 0;
	while (n > 0 && last < REGION_FILES_MAX && region_path(store, last + 1, path, sizeof(path)) &&
	       access(path, F_OK) == 0)
		last++;
	/* __db.001 last: env.c takes it as the mark of a reserved set, so a
	 * set left short (a full disk) is tried again at the next open. */
	for (int i = last; i >= 1; i--) {
		if (!region_path(store, i, path, sizeof(path)))
			return;
		int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		region_reserve(path, fd, maps, n);
		close(fd);
	}
}
