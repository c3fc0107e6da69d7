/* The protocol fuzzers' store and input (fuzz_world.h). */
#include <config.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_world.h"
#include "log.h"
#include "process.h"

static const char *world_name = "fuzz";

const char fuzz_world_multipart[] =
	"Subject: multi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
	"--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n"
	"--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n"
	"Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\ninner text\r\n"
	"--b2\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b2--\r\n"
	"--b1\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
	"Content-Disposition: attachment; filename*=utf-8''%C3%A9.bin\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n";
static struct config *world_config;
static struct store *world_store;
static int world_devnull = -1;
static char world_dir[64];

void fuzz_die(const char *what, const char *error)
{
	fprintf(stderr, "%s: %s: %s\n", world_name, what, error != NULL ? error : "?");
	abort();
}

static int world_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* At exit, after the store's own atexit handler closed it (registered
 * later, so it runs first): the temporary store goes (100 MB of regions
 * and logs otherwise left in /dev/shm by every run). */
static void world_remove_dir(void)
{
	if (world_dir[0] != '\0')
		nftw(world_dir, world_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The store refuses root: the directory (and the corpus directories named
 * on the command line) go to the store user, then the process becomes it. */
static void world_drop_root(int *argc, char ***argv)
{
	const char *error = NULL;
	uid_t uid;
	gid_t gid;
	struct stat st;

	if (process_user_ids("pillarbox", &uid, &gid, &error) < 0 ||
	    chown(world_dir, uid, gid) < 0 || chmod(world_dir, 0755) < 0)
		fuzz_die("chown", world_dir);
	for (int i = 1; argc != NULL && argv != NULL && i < *argc; i++) {
		const char *arg = (*argv)[i];

		if (arg[0] != '-' && stat(arg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
		    chown(arg, uid, gid) < 0)
			fuzz_die("chown", arg);
	}
	if (process_drop_root("pillarbox", &error) < 0)
		fuzz_die("drop root", error);
}

const char *fuzz_world_tmpdir(const char *name)
{
	world_name = name;
	snprintf(world_dir, sizeof(world_dir), "%s/%s.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name);
	if (mkdtemp(world_dir) == NULL)
		fuzz_die("mkdtemp", world_dir);
	atexit(world_remove_dir);
	return world_dir;
}

struct config *fuzz_world_config(const char *name, int *argc, char ***argv)
{
	char path[128];

	setenv("PILLARBOX_AUTH_DELAY_MS", "0", 1);
	fuzz_world_tmpdir(name);
	if (geteuid() == 0)
		world_drop_root(argc, argv);
	umask(007);
	log_open(name);
	world_config = config_defaults();
	if (world_config == NULL)
		fuzz_die("config", "out of memory");
	snprintf(path, sizeof(path), "%s/store", world_dir);
	free(world_config->store);
	world_config->store = strdup(path);
	world_config->password_cost = 1;
	world_config->allow_plaintext_auth = true; /* a memfd is no loopback */
	world_config->watchdog_seconds = 0;        /* leave libFuzzer's alarm alone */
	/* The MX's sender checks run (DKIM, DMARC; a memfd has no address
	 * for SPF), their DNS refused at once by a closed loopback port:
	 * no query leaves the machine, each answer is a temperror. */
	world_config->resolver = strdup("127.0.0.1:1");
	world_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (world_config->store == NULL || world_config->resolver == NULL || world_devnull < 0)
		fuzz_die("set-up", "out of memory or no /dev/null");
	return world_config;
}

struct store *fuzz_world_store(void)
{
	const char *error = NULL;

	if (store_init(world_config, &error) < 0 ||
	    store_open(world_config, false, &world_store, &error) < 0)
		fuzz_die("store", error);
	return world_store;
}

static int world_count_cb(const struct store_msg *msg, void *ctx)
{
	(void)msg;
	(*(unsigned *)ctx)++;
	return 0;
}

void fuzz_world_refill(uint32_t mailbox_id, const char *const *bodies, unsigned count)
{
	const char *error = NULL;
	unsigned n = 0;

	if (store_msg_list(world_store, mailbox_id, 1, UINT32_MAX, world_count_cb, &n, &error) < 0)
		fuzz_die("list", error);
	for (; n < count; n++) {
		struct store_body *body = NULL;
		uint32_t uid;

		if (store_body_from_buffer(world_store, bodies[n], strlen(bodies[n]), &body,
					   &error) <= 0 ||
		    store_msg_append(world_store, mailbox_id, body, 0, NULL, 0, time(NULL), 60, NULL,
				     0, &uid, &error) <= 0)
			fuzz_die("append", error);
		store_body_free(&body);
	}
}

struct conn *fuzz_world_conn(const uint8_t *data, size_t size, size_t max, size_t line_max,
			     int *fd_r)
{
	if (size > max)
		size = max;
	int fd = memfd_create(world_name, MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		fuzz_die("memfd", "write");
	struct conn *conn = conn_new(fd, world_devnull, line_max);
	if (conn == NULL)
		fuzz_die("conn", "out of memory");
	*fd_r = fd;
	return conn;
}
