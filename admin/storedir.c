/* Creating a directory for the store user while still root (store init and
 * restore need the store directory, backup its target, before the switch). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "process.h"

/* Mode of the store directory (DESIGN.md "Privileges"): owner and group
 * read/write, setgid so files inherit the group, nothing for others. */
#define ADMIN_STORE_DIR_MODE 02770

/* mkdir -p of everything before the last component of `path`, mode 0755 so
 * the store user can reach its directory. */
static int dir_parents_make(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return admin_fail(ADMIN_EXIT_CONFIG, "%s: path too long", admin_arg(path));
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (size_t i = 1; i < len; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
			int err = errno;

			return admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s", admin_arg(buf), strerror(err));
		}
		buf[i] = '/';
	}
	return 0;
}

static int dir_is_empty(int fd)
{
	int dup_fd = dup(fd);
	struct dirent *e;
	DIR *d;
	int empty = 1;

	if (dup_fd < 0)
		return -1;
	d = fdopendir(dup_fd);
	if (d == NULL) {
		close(dup_fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

int admin_dir_prepare(const char *dir, const char *user)
{
	const char *error = NULL;
	uid_t uid;
	gid_t gid;
	int code, fd, empty;

	if (geteuid() != 0) {
		/* Already the store user (or about to fail as someone else):
		 * just the parents, the command makes the directory itself. */
		return dir_parents_make(dir);
	}
	if (process_user_ids(user, &uid, &gid, &error) < 0)
		return admin_fail(ADMIN_EXIT_CONFIG, "%s", error);
	if ((code = dir_parents_make(dir)) != 0)
		return code;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s", admin_arg(dir), strerror(errno));
	/* Through a descriptor, refusing a symbolic link in the last place: the
	 * chown must land on the directory we looked at. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s", admin_arg(dir), strerror(errno));
	empty = dir_is_empty(fd);
	if (empty < 0) {
		code = admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s", admin_arg(dir), strerror(errno));
	} else if (empty == 0) {
		/* An existing store or backup: its owner is not ours to change;
		 * the command itself says whether it can use it. */
		code = 0;
	} else if (fchown(fd, uid, gid) < 0 || fchmod(fd, ADMIN_STORE_DIR_MODE) < 0) {
		code = admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s", admin_arg(dir), strerror(errno));
	} else {
		code = 0;
	}
	close(fd);
	return code;
}
