/* pillarbox sieve list|get|put|activate|deactivate|delete|rename USER ...,
 * sieve check [FILE], sieve extensions: a user's Sieve filters
 * (store/sieve_store.h), compiled by store/sieve.h before they are kept. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "sieve.h"
#include "sieve_store.h"

/* The user's id, or an admin_exit code after saying why. */
static int sieve_user(struct admin *admin, const char *address, uint32_t *id_r)
{
	struct store_user user;
	const char *error = NULL;
	int ret = store_user_find(admin->store, address, &user, &error);

	if (ret <= 0)
		return ret == 0 ? admin_fail(ADMIN_EXIT_NOUSER, "%s: no such user", admin_arg(address))
				: admin_store_fail(ret, 0, admin_arg(address), error);
	*id_r = user.id;
	return ADMIN_EXIT_OK;
}

/* A store call's 0 or -1 for the user's script: the store's message may
 * hold the name as typed (control bytes too), so it is escaped. */
static int sieve_fail(int ret, const char *address, const char *error)
{
	return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(address),
				error != NULL ? admin_arg(error) : NULL);
}

/* Reads a script from fd into buf (SIEVE_SCRIPT_MAX + 1 octets: one more
 * than a script may have, to tell a long one). 1 read (*len_r octets),
 * 0 too long, -1 read error (errno). */
static int sieve_text_read(int fd, char *buf, size_t *len_r)
{
	size_t len = 0;

	while (len < SIEVE_SCRIPT_MAX + 1) {
		ssize_t n = read(fd, buf + len, SIEVE_SCRIPT_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*len_r = len;
	return len <= SIEVE_SCRIPT_MAX ? 1 : 0;
}

/* Reads and compiles a script from fd (`what` names it in messages):
 * ADMIN_EXIT_OK with the text in *text_r (malloc'd), or a code after
 * saying why. */
static int sieve_text_load(struct admin *admin, int fd, const char *what, char **text_r,
			   size_t *len_r)
{
	char error[SIEVE_ERROR_MAX];
	char *text = malloc(SIEVE_SCRIPT_MAX + 1);
	int ret;

	*text_r = NULL;
	if (text == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	/* a pipe or a person may take their time */
	admin_watchdog_pause();
	ret = sieve_text_read(fd, text, len_r);
	int err = errno;
	admin_watchdog_resume(admin);
	if (ret <= 0) {
		free(text);
		if (ret < 0)
			return admin_fail(ADMIN_EXIT_IOERR, "%s: %s", what, strerror(err));
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: longer than %d bytes", what,
				  SIEVE_SCRIPT_MAX);
	}
	struct sieve_script *script = sieve_compile(text, *len_r, error);
	if (script == NULL) {
		free(text);
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: %s", what, admin_arg(error));
	}
	sieve_script_free(script);
	*text_r = text;
	return ADMIN_EXIT_OK;
}

static int sieve_cmd_list(struct admin *admin, int argc, char **argv)
{
	struct store_sieve_entry *entries;
	const char *error = NULL;
	uint32_t id;
	size_t n;
	int code;

	(void)argc;
	if ((code = sieve_user(admin, argv[0], &id)) != ADMIN_EXIT_OK)
		return code;
	if (store_sieve_list(admin->store, id, &entries, &n, &error) < 0)
		return sieve_fail(-1, argv[0], error);
	for (size_t i = 0; i < n; i++)
		printf("%s\t%zu\t%s\n", entries[i].name, entries[i].len,
		       entries[i].active ? "active" : "-");
	free(entries);
	return ADMIN_EXIT_OK;
}

static int sieve_cmd_get(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	char *text;
	uint32_t id;
	size_t len;
	int code, ret;

	(void)argc;
	if ((code = sieve_user(admin, argv[0], &id)) != ADMIN_EXIT_OK)
		return code;
	ret = store_sieve_get(admin->store, id, argv[1], &text, &len, &error);
	if (ret <= 0)
		return sieve_fail(ret, argv[0], error);
	/* byte for byte: what put was given */
	fwrite(text, 1, len, stdout);
	free(text);
	return ADMIN_EXIT_OK;
}

static int sieve_cmd_put(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL, *name = argv[1];
	char *text;
	uint32_t id;
	size_t len;
	int code, ret;

	if (argc > 2 && strcmp(argv[2], "--activate") != 0)
		return admin_fail(ADMIN_EXIT_USAGE, "%s: unknown option (see --help)",
				  admin_arg(argv[2]));
	if ((code = sieve_user(admin, argv[0], &id)) != ADMIN_EXIT_OK)
		return code;
	if ((code = sieve_text_load(admin, STDIN_FILENO, admin_arg(name), &text, &len)) != 0)
		return code;
	ret = store_sieve_put(admin->store, id, name, text, len, &error);
	free(text);
	if (ret <= 0)
		return sieve_fail(ret, argv[0], error);
	if (argc > 2) {
		ret = store_sieve_activate(admin->store, id, name, &error);
		if (ret <= 0) {
			admin_say("sieve script \"%s\" of %s saved, not activated", admin_arg(name),
				  admin_arg(argv[0]));
			return sieve_fail(ret, argv[0], error);
		}
	}
	admin_say("sieve script \"%s\" of %s saved%s", admin_arg(name), admin_arg(argv[0]),
		  argc > 2 ? " and active" : "");
	return ADMIN_EXIT_OK;
}

static int sieve_cmd_activate(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	uint32_t id;
	int code, ret;

	(void)argc;
	if ((code = sieve_user(admin, argv[0], &id)) != ADMIN_EXIT_OK)
		return code;
	ret = store_sieve_activate(admin->store, id, argv[1], &error);
	if (ret <= 0)
		return sieve_fail(ret, argv[0], error);
	admin_say("sieve script \"%s\" of %s is active", admin_arg(argv[1]), admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

static int sieve_cmd_deactivate(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	uint32_t id;
	int code, ret;

	(void)argc;
	if ((code = sieve_user(admin, argv[0], &id)) != ADMIN_EXIT_OK)
		return code;
	ret = store_sieve_activate(admin->store, id, NULL, &error);
	if (ret <= 0)
		return sieve_fail(ret, argv[0], error);
	admin_say("no sieve script of %s is active", admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

static int sieve_cmd_delete(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	uint32_t id;
	int code, ret;

	(void)argc;
	if ((code = sieve_user(admin, argv[0], &id)) != ADMIN_EXIT_OK)
		return code;
	/* the store refuses the active script (as ManageSieve does) */
	ret = store_sieve_delete(admin->store, id, argv[1], &error);
	if (ret <= 0)
		return sieve_fail(ret, argv[0], error);
	admin_say("sieve script \"%s\" of %s deleted", admin_arg(argv[1]), admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

static int sieve_cmd_rename(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	uint32_t id;
	int code, ret;

	(void)argc;
	if ((code = sieve_user(admin, argv[0], &id)) != ADMIN_EXIT_OK)
		return code;
	ret = store_sieve_rename(admin->store, id, argv[1], argv[2], &error);
	if (ret <= 0)
		return sieve_fail(ret, argv[0], error);
	admin_say("sieve script \"%s\" of %s renamed to \"%s\"", admin_arg(argv[1]),
		  admin_arg(argv[0]), admin_arg(argv[2]));
	return ADMIN_EXIT_OK;
}

/* Opens check's FILE with the rights of whoever started the program (as
 * user import does); stdin without one or for "-". */
static const char *sieve_check_root(struct admin *admin, int argc, char **argv)
{
	struct stat st;
	const char *path = argc > 0 ? argv[0] : "-";

	if (strcmp(path, "-") == 0)
		admin->source_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		admin->source_fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (admin->source_fd < 0) {
		admin->root_code = admin_fail(ADMIN_EXIT_NOINPUT, "%s: %s", admin_arg(path),
					      strerror(errno));
	} else if (fstat(admin->source_fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		admin->root_code = admin_fail(ADMIN_EXIT_NOINPUT, "%s: not a file", admin_arg(path));
	} else {
		/* O_NONBLOCK was only for opening a FIFO without a writer. */
		fcntl(admin->source_fd, F_SETFL, 0);
	}
	return NULL;
}

static int sieve_cmd_check(struct admin *admin, int argc, char **argv)
{
	const char *what = argc > 0 && strcmp(argv[0], "-") != 0 ? admin_arg(argv[0])
								  : "standard input";
	char *text;
	size_t len;
	int code = sieve_text_load(admin, admin->source_fd, what, &text, &len);

	if (code != ADMIN_EXIT_OK)
		return code;
	free(text);
	printf("ok\n");
	return ADMIN_EXIT_OK;
}

static int sieve_cmd_extensions(struct admin *admin, int argc, char **argv)
{
	const char *p = sieve_extensions();

	(void)admin;
	(void)argc;
	(void)argv;
	/* one a line (the library gives them space-separated) */
	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n > 0)
			printf("%.*s\n", (int)n, p);
		p += n + strspn(p + n, " ");
	}
	return ADMIN_EXIT_OK;
}

static const struct admin_verb sieve_verbs[] = {
	{ "list", "USER", "the user's scripts as NAME BYTES active|- (tabs), one a line",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, sieve_cmd_list },
	{ "get", "USER NAME", "print a script's text as it was put",
	  2, 2, ADMIN_STORE_OPEN, true, NULL, NULL, sieve_cmd_get },
	{ "put", "USER NAME [--activate]",
	  "create or replace a script from stdin (at most 64 KB; it must compile); "
	  "--activate: make it the active one",
	  2, 3, ADMIN_STORE_OPEN, true, NULL, NULL, sieve_cmd_put },
	{ "activate", "USER NAME", "make NAME the script delivery runs",
	  2, 2, ADMIN_STORE_OPEN, true, NULL, NULL, sieve_cmd_activate },
	{ "deactivate", "USER", "no script runs (the scripts are kept)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, sieve_cmd_deactivate },
	{ "delete", "USER NAME", "delete a script (not the active one: deactivate it first)",
	  2, 2, ADMIN_STORE_OPEN, true, NULL, NULL, sieve_cmd_delete },
	{ "rename", "USER OLD NEW", "rename a script (the active one stays active)",
	  3, 3, ADMIN_STORE_OPEN, true, NULL, NULL, sieve_cmd_rename },
	{ "check", "[FILE]", "compile a script (FILE, or stdin): \"ok\", or the error and 65",
	  0, 1, ADMIN_STORE_NONE, true, sieve_check_root, NULL, sieve_cmd_check },
	{ "extensions", "", "the Sieve extensions scripts may require, one a line",
	  0, 0, ADMIN_STORE_NONE, true, NULL, NULL, sieve_cmd_extensions },
};

const struct admin_noun admin_noun_sieve = {
	"sieve", "Mail filters (Sieve, RFC 5228): up to 16 named scripts a user, one of them\n"
	"active: delivery runs it on each message for the user. USER is the full address.",
	sieve_verbs, sizeof(sieve_verbs) / sizeof(sieve_verbs[0]),
};
