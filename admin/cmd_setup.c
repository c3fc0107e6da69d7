/* pillarbox setup [--webmail-cgi FILE]: what a package's post-installation
 * step does, run as root after `make install` (or by quickstart):
 *  1. the system user and group (`user` in pillarbox.conf, default
 *     pillarbox) when missing: useradd --system, no login shell, the store
 *     directory as home (not created by useradd);
 *  2. the store directory: mode 2770, owned by that user and group;
 *  3. the TLS key (tls_key), if configured, present and root's: group of
 *     that user, mode 0640, so that handlers can read it and nobody else;
 *  3b. the per-name keys under tls_cert_dir (NAME/privkey.pem): read as the
 *     store user, as a handler reads them at the handshake; each it cannot
 *     read is named with the fix (they are not changed: certbot owns them,
 *     and keeps a group and its read bit across renewals);
 *  4. webmail.cgi ($(pkglibexecdir)/webmail.cgi, or FILE) if installed:
 *     owned by that user, mode 4755 (setuid to it, never to root);
 *  then, as the store user like every other command: `store init` if the
 *  store directory is empty. Running it again changes only what is not
 *  right yet. Commands are run with execve and an argument vector, never
 *  through a shell. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "process.h"

#define SETUP_CGI_DEFAULT PKGLIBEXECDIR "/webmail.cgi"
/* setuid to the store user, readable and runnable by the web server. */
#define SETUP_CGI_MODE 04755
#define SETUP_KEY_MODE 0640
/* Unreadable per-name keys named one by one; past that, a count. */
#define SETUP_SNI_NAMED_MAX 20

static const char *setup_first_present(const char *const *paths)
{
	for (; *paths != NULL; paths++) {
		if (access(*paths, X_OK) == 0)
			return *paths;
	}
	return NULL;
}

/* Runs argv[0] with a fixed environment; 0 if it exited 0. */
static int setup_exec(char *const *argv)
{
	static char *const env[] = { "PATH=" PROCESS_SAFE_PATH, "LC_ALL=C", NULL };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execve(argv[0], argv, env);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int setup_user(struct admin *admin)
{
	static const char *const useradds[] = { "/usr/sbin/useradd", "/sbin/useradd", NULL };
	static const char *const shells[] = { "/usr/sbin/nologin", "/sbin/nologin", "/bin/false",
		NULL };
	const char *user = admin->config->user, *useradd, *shell;
	char *argv[12];
	int i = 0;

	if (getpwnam(user) != NULL)
		return 0;
	useradd = setup_first_present(useradds);
	shell = setup_first_present(shells);
	if (useradd == NULL)
		return admin_fail(ADMIN_EXIT_CONFIG, "user %s does not exist and useradd is not "
				  "there to create it", admin_arg(user));
	argv[i++] = (char *)useradd;
	argv[i++] = (char *)"--system";
	if (getgrnam(user) != NULL) {
		/* The group is there already (a half-done earlier attempt). */
		argv[i++] = (char *)"--gid";
		argv[i++] = (char *)user;
	} else {
		argv[i++] = (char *)"--user-group";
	}
	argv[i++] = (char *)"--home-dir";
	argv[i++] = admin->config->store;
	argv[i++] = (char *)"--no-create-home";
	argv[i++] = (char *)"--shell";
	argv[i++] = (char *)(shell != NULL ? shell : "/bin/false");
	argv[i++] = (char *)user;
	argv[i] = NULL;
	if (setup_exec(argv) < 0 || getpwnam(user) == NULL)
		return admin_fail(ADMIN_EXIT_CONFIG, "useradd could not create the user %s",
				  admin_arg(user));
	admin_say("system user and group %s created", admin_arg(user));
	return 0;
}

/* The store directory exists but is someone else's: say so (a store
 * created by root by mistake must be given back by hand: chown -R). */
static void setup_store_dir_check(const char *dir, uid_t uid)
{
	struct stat st;

	if (stat(dir, &st) == 0 && st.st_uid != uid)
		admin_say("warning: %s is owned by uid %ld, not the store user: fix it with "
			  "chown -R", admin_arg(dir), (long)st.st_uid);
}

static int setup_tls_key(struct admin *admin, gid_t gid)
{
	const char *key = admin->config->tls_key;
	struct stat st;
	int fd, code = 0;

	if (key == NULL)
		return 0;
	fd = open(key, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		admin_say("warning: tls_key %s: %s", admin_arg(key), strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		admin_say("warning: tls_key %s: not a regular file", admin_arg(key));
	} else if (st.st_uid != 0) {
		admin_say("tls_key %s is not root's: left as it is", admin_arg(key));
		/* whoever reads it can pose as this server */
		if (st.st_mode & S_IROTH)
			admin_say("warning: tls_key %s is readable by every user: chmod o-r it",
				  admin_arg(key));
	} else if (st.st_gid != gid || (st.st_mode & 07777) != SETUP_KEY_MODE) {
		if (fchown(fd, 0, gid) < 0 || fchmod(fd, SETUP_KEY_MODE) < 0)
			code = admin_fail(ADMIN_EXIT_CANTCREAT, "tls_key %s: %s", admin_arg(key),
					  strerror(errno));
		else
			admin_say("tls_key %s: group set to the store user's, mode 0640",
				  admin_arg(key));
	}
	close(fd);
	return code;
}

/* In the child, as the store user: 0 if it can read DIR/NAME/privkey.pem
 * (a directory entry without one is no certificate: skipped). */
static int setup_sni_key_check(const char *dir, const char *name, unsigned *bad)
{
	char key[PATH_MAX], chain[PATH_MAX];
	struct stat st;
	int fd;

	if (name[0] == '.' || (size_t)snprintf(key, sizeof(key), "%s/%s/privkey.pem", dir, name) >=
	    sizeof(key) || (size_t)snprintf(chain, sizeof(chain), "%s/%s/fullchain.pem", dir,
					      name) >= sizeof(chain))
		return 0;
	fd = open(key, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && errno == ENOENT && access(chain, F_OK) < 0)
		return 0;
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && (st.st_mode & S_IROTH))
			admin_say("warning: %s is readable by every user: chmod o-r it",
				  admin_arg(key));
		close(fd);
		return 0;
	}
	if (++*bad <= SETUP_SNI_NAMED_MAX)
		admin_say("warning: %s: %s for the store user: clients asking for %s get the "
			  "default certificate", admin_arg(key), strerror(errno), admin_arg(name));
	return -1;
}

/* tls_cert_dir is read by handlers that run as the store user: check it as
 * that user (in a child, so setup itself stays root), following symlinks
 * into certbot's archive/ as they do. Warnings only. */
static void setup_tls_cert_dir(struct admin *admin, uid_t uid, gid_t gid)
{
	const char *dir = admin->config->tls_cert_dir;
	int status;
	pid_t pid;

	if (dir == NULL)
		return;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		admin_say("warning: tls_cert_dir not checked: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		unsigned bad = 0;
		struct dirent *e;
		DIR *d;

		if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(1);
		d = opendir(dir);
		if (d == NULL) {
			admin_say("warning: tls_cert_dir %s: %s for the store user: every client "
				  "gets the default certificate", admin_arg(dir), strerror(errno));
			_exit(0);
		}
		while ((e = readdir(d)) != NULL)
			(void)setup_sni_key_check(dir, e->d_name, &bad);
		closedir(d);
		if (bad > SETUP_SNI_NAMED_MAX)
			admin_say("warning: %u more keys in %s the store user cannot read", bad -
				  SETUP_SNI_NAMED_MAX, admin_arg(dir));
		if (bad > 0)
			admin_say("to fix: chgrp %s each key (certbot: the files in archive/) and "
				  "chmod g+r it, and give the directories above it group x "
				  "(certbot keeps both at renewal)", admin_arg(admin->config->user));
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
}

static int setup_cgi(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd, code = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		admin_say("%s is not installed: nothing to make setuid", admin_arg(path));
		return 0;
	}
	if (fd < 0)
		return admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s", admin_arg(path), strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		code = admin_fail(ADMIN_EXIT_CANTCREAT, "%s: not a regular file", admin_arg(path));
	} else if (st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != SETUP_CGI_MODE) {
		/* chown clears the setuid bit: chmod after it. */
		if (fchown(fd, uid, gid) < 0 || fchmod(fd, SETUP_CGI_MODE) < 0)
			code = admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s", admin_arg(path),
					  strerror(errno));
		else
			admin_say("%s: setuid to the store user (mode 4755)", admin_arg(path));
	}
	close(fd);
	return code;
}

/* Everything that needs root; main then becomes the store user and runs
 * setup_cmd. */
static const char *setup_root(struct admin *admin, int argc, char **argv)
{
	const char *cgi = SETUP_CGI_DEFAULT, *error = NULL;
	uid_t uid;
	gid_t gid;
	int code;

	if (argc == 2 && strcmp(argv[0], "--webmail-cgi") == 0) {
		cgi = argv[1];
	} else if (argc != 0) {
		admin->root_code = admin_fail(ADMIN_EXIT_USAGE,
					      "usage: pillarbox setup [--webmail-cgi FILE]");
		return NULL;
	}
	if (geteuid() != 0) {
		admin->root_code = admin_fail(ADMIN_EXIT_NOPERM, "setup must be run as root "
					      "(it creates a system user and sets file owners)");
		return NULL;
	}
	if ((code = setup_user(admin)) != 0 ||
	    process_user_ids(admin->config->user, &uid, &gid, &error) < 0 ||
	    (code = admin_dir_prepare(admin->config->store, admin->config->user)) != 0) {
		admin->root_code = code != 0 ? code : admin_fail(ADMIN_EXIT_CONFIG, "%s", error);
		return NULL;
	}
	if (uid == 0) {
		admin->root_code = admin_fail(ADMIN_EXIT_CONFIG, "the store user must not be root");
		return NULL;
	}
	setup_store_dir_check(admin->config->store, uid);
	setup_tls_cert_dir(admin, uid, gid);
	if ((code = setup_tls_key(admin, gid)) != 0 || (code = setup_cgi(cgi, uid, gid)) != 0)
		admin->root_code = code;
	return NULL;
}

/* 1 empty, 0 not, -1 unreadable. */
static int setup_dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

static int setup_cmd(struct admin *admin, int argc, char **argv)
{
	const char *store = admin->config->store, *error = NULL;
	int empty = setup_dir_empty(store);

	(void)argc;
	(void)argv;
	if (empty < 0)
		return admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s", admin_arg(store), strerror(errno));
	if (empty == 0) {
		/* After an upgrade of Pillarbox: its store in the new format
		 * (refused while the services still use it). */
		uint32_t from;
		unsigned copied;
		int r = store_upgrade(admin->config, &from, &copied, &error);
		if (r < 0)
			return admin_store_fail(-1, 0, "store upgrade", error);
		if (r > 0)
			admin_say("store in %s upgraded from format %u to %u", admin_arg(store), from,
				  STORE_FORMAT_VERSION);
		else
			admin_say("store in %s already there: left as it is (pillarbox store check "
				  "verifies it)", admin_arg(store));
		return ADMIN_EXIT_OK;
	}
	if (store_init(admin->config, &error) < 0)
		return admin_fail(ADMIN_EXIT_CANTCREAT, "store init: %s", error);
	admin_say("store created in %s", admin_arg(store));
	return ADMIN_EXIT_OK;
}

static const struct admin_verb setup_verbs[] = {
	{ NULL, "[--webmail-cgi FILE]", "as root: system user, store directory, webmail.cgi "
	  "setuid, store init", 0, 2, ADMIN_STORE_NONE, true, setup_root, NULL, setup_cmd },
};

const struct admin_noun admin_noun_setup = {
	"setup", "Prepares the system after installation (run as root; safe to repeat):\n"
	"creates the store user and group if missing, the store directory (2770),\n"
	"makes the TLS key readable by that group only, names the keys under\n"
	"tls_cert_dir that user cannot read, makes webmail.cgi setuid to\n"
	"the store user, and creates the store if the directory is empty, or\n"
	"upgrades it to this version's format (stop the services first).",
	setup_verbs, 1,
};
