/* Change notification without a daemon: every committed change to a mailbox
 * touches notify/<id>; a waiting process (IMAP IDLE, the webmail) watches it
 * with inotify, so it wakes at once and never polls. A deleted mailbox's
 * files go with it (its id is never used again). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox.h"
#include "store_int.h"

static void notify_path(const struct store *store, uint32_t mailbox_id, char *dst, size_t size)
{
	snprintf(dst, size, "%s/%u", store->notify, mailbox_id);
}

static int notify_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* A file made after the deleting process removed it (a late touch, a watch
 * of a session that has not noticed yet) goes again; watchers wake. */
static void notify_drop_if_gone(struct store *store, uint32_t mailbox_id, const char *path)
{
	struct mboxstate st;
	if (mboxstate_get(store, NULL, mailbox_id, &st, false) == 0)
		unlink(path);
}

void store_notify_mailbox(struct store *store, uint32_t mailbox_id)
{
	char path[512];
	notify_path(store, mailbox_id, path, sizeof(path));
	/* A failure here only delays watchers until their periodic check. */
	if (utimensat(AT_FDCWD, path, NULL, 0) < 0 && errno == ENOENT && notify_create(path) == 0) {
		utimensat(AT_FDCWD, path, NULL, 0);
		notify_drop_if_gone(store, mailbox_id, path);
	}
}

void store_notify_gone(struct store *store, uint32_t mailbox_id)
{
	char path[512];
	notify_path(store, mailbox_id, path, sizeof(path));
	/* The unlink wakes the watchers (IN_ATTRIB: the link count); a
	 * process with the file open keeps it until it closes it. */
	unlink(path);
	/* inetd/pop3_maildrop.c's maildrop lock: a session holding it keeps
	 * its lock on the unlinked file; a lock on a new file could only
	 * guard a mailbox that is gone. */
	snprintf(path, sizeof(path), "%s/pop3-%u.lock", store->notify, mailbox_id);
	unlink(path);
}

int store_watch(struct store *store, uint32_t mailbox_id, const char **error_r)
{
	char path[512];
	notify_path(store, mailbox_id, path, sizeof(path));
	bool created = false;
	if (access(path, F_OK) < 0 && !(created = notify_create(path) == 0) && errno != EEXIST) {
		store_err(store, "%s: %s", path, strerror(errno));
		*error_r = store_last_error(store);
		return -1;
	}
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0 || inotify_add_watch(fd, path, IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF) < 0) {
		store_err(store, "inotify %s: %s", path, strerror(errno));
		*error_r = store_last_error(store);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (created)
		notify_drop_if_gone(store, mailbox_id, path);
	return fd;
}

void store_watch_drain(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

void store_watch_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
