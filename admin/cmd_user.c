/* pillarbox user add ADDR [--hash] | del ADDR | list [DOMAIN] | passwd ADDR |
 * quota ADDR BYTES [MESSAGES] | disable ADDR | enable ADDR | unlock ADDR [--ip IP] |
 * import FILE | vacation ADDR [OPTIONS] (cmd_vacation.c) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "identity.h"

/* user list collects the users first (store calls are not made from inside
 * another one's callback), growing the array by this many. */
#define USER_LIST_CHUNK 256
/* user import: a passwd-file line longer than this is refused (a user
 * name, a hash of at most PASSWORD_HASH_MAX and the ignored fields fit). */
#define USER_IMPORT_LINE_MAX 4096

/* user add: ADDR and an optional --hash, in either order. */
/* `user add ADDRESS [--hash] [--name NAME]`: the address, or NULL on a
 * usage error. */
static const char *user_add_address(int argc, char **argv, bool *hash_r, const char **name_r)
{
	const char *address = NULL;

	*hash_r = false;
	*name_r = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--hash") == 0)
			*hash_r = true;
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc && *name_r == NULL)
			*name_r = argv[++i];
		else if (address == NULL && argv[i][0] != '-')
			address = argv[i];
		else
			return NULL;
	}
	return address;
}

/* What would refuse the password, checked before it is asked: nobody types
 * one twice to learn that the address was wrong. `new_user` (add): a valid
 * address in a local domain, not a user yet; else (passwd) a user. The
 * store is open for the check alone, not while a human types; what changes
 * in between, the store's add or passwd refuses itself. */
static int user_check_address(struct admin *admin, const char *address, bool new_user)
{
	struct store_user user;
	const char *error = NULL, *at = strrchr(address, '@');
	int code = ADMIN_EXIT_OK, ret;

	if (new_user && (ret = store_address_check(address, &error)) <= 0)
		return admin_fail(ret < 0 ? ADMIN_EXIT_TEMPFAIL : ADMIN_EXIT_DATAERR, "%s: %s",
				  admin_arg(address), error);
	if (store_open(admin->config, false, &admin->store, &error) < 0)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "%s", error);
	ret = store_user_find(admin->store, address, &user, &error);
	if (ret == 0 && !new_user)
		code = admin_store_fail(0, ADMIN_EXIT_NOUSER, admin_arg(address),
					error != NULL ? error : "no such user");
	else if (ret > 0 && new_user)
		code = admin_fail(ADMIN_EXIT_DATAERR, "user %s exists already", admin_arg(address));
	else if (ret == 0 && (ret = store_domain_is_local(admin->store, at + 1, &error)) == 0)
		code = admin_fail(ADMIN_EXIT_DATAERR, "domain %s is not a local domain",
				  admin_arg(at + 1));
	if (ret < 0)
		code = admin_store_fail(ret, 0, admin_arg(address), error);
	store_close(&admin->store);
	return code;
}

/* The admin may set a short first password on purpose (to be changed at
 * once); said, not refused, since users are asked for more. */
static void user_password_warn(const char *password)
{
	size_t n = password_chars(password);

	if (n < PASSWORD_MIN_CHARS)
		fprintf(stderr, "pillarbox: warning: the password is %zu character%s long; the "
			"webmail asks users for at least %d\n", n, n == 1 ? "" : "s",
			PASSWORD_MIN_CHARS);
}

static int user_prepare_add(struct admin *admin, int argc, char **argv)
{
	const char *address, *name, *why;
	bool hash;
	int code;

	address = user_add_address(argc, argv, &hash, &name);
	if (address == NULL)
		return admin_fail(ADMIN_EXIT_USAGE,
				  "usage: pillarbox user add ADDRESS [--hash] [--name NAME]");
	if (name != NULL && (why = store_identity_name_check(name)) != NULL)
		return admin_fail(ADMIN_EXIT_DATAERR, "--name: %s", why);
	code = user_check_address(admin, address, true);
	if (code != 0)
		return code;
	code = admin_password_read(hash ? "Password hash" : "New password", !hash,
				   admin->password);
	if (code != 0)
		return code;
	if (hash && !password_hash_supported(admin->password))
		return admin_fail(ADMIN_EXIT_DATAERR, "not a supported password hash "
				  "(yescrypt $y$, scrypt $7$, SHA-crypt $6$/$5$, bcrypt $2b$/$2y$)");
	if (!hash)
		user_password_warn(admin->password);
	admin->have_password = true;
	admin->password_is_hash = hash;
	return ADMIN_EXIT_OK;
}

static int user_cmd_add(struct admin *admin, int argc, char **argv)
{
	const char *address, *name, *error = NULL;
	bool hash;
	int ret;

	address = user_add_address(argc, argv, &hash, &name);
	ret = store_user_add(admin->store, address, hash ? NULL : admin->password,
			     hash ? admin->password : NULL, &error);
	password_wipe(admin->password, sizeof(admin->password));
	if (ret == 0 && error == NULL)
		error = "already exists";
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(address), error);
	admin_say("user %s added", admin_arg(address));
	struct store_user user;
	ret = store_user_find(admin->store, address, &user, &error);
	if (ret == 1 && name != NULL) {
		/* the display name of the primary address: the webmail's From */
		struct store_identity *id = calloc(1, sizeof(*id));
		if (id == NULL)
			return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
		snprintf(id->address, sizeof(id->address), "%s", user.address);
		snprintf(id->name, sizeof(id->name), "%s", name);
		ret = store_identity_set(admin->store, user.id, id, &error);
		free(id);
		if (ret <= 0)
			return admin_store_fail(ret, ADMIN_EXIT_DATAERR, "--name", error);
	}
	if (ret == 1 && !admin_alias_reaches(admin, address, user.id)) {
		const char *a = admin_arg(address);
		admin_say("warning: an alias of %s takes the mail to this address: the new mailbox "
			  "gets none of it until the alias names it too (pillarbox alias add %s %s) "
			  "or is deleted (pillarbox alias del %s)", a, a, a, a);
	}
	return ADMIN_EXIT_OK;
}

static int user_prepare_passwd(struct admin *admin, int argc, char **argv)
{
	int code;

	(void)argc;
	code = user_check_address(admin, argv[0], false);
	if (code != 0)
		return code;
	code = admin_password_read("New password", true, admin->password);
	if (code == 0) {
		user_password_warn(admin->password);
		admin->have_password = true;
	}
	return code;
}

static int user_cmd_passwd(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL;
	int ret;

	(void)argc;
	ret = store_user_passwd(admin->store, argv[0], admin->password, &error);
	password_wipe(admin->password, sizeof(admin->password));
	if (ret == 0)
		return admin_store_fail(0, ADMIN_EXIT_NOUSER, admin_arg(argv[0]),
					error != NULL ? error : "no such user");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	admin_say("password of %s changed", admin_arg(argv[0]));
	/* with its new password the user may log in at once, however many
	 * wrong ones were tried before */
	unsigned removed = 0;
	if (store_auth_unlock(admin->store, argv[0], NULL, &removed, &error) == 1 && removed > 0)
		admin_say("its failed logins are forgotten");
	return ADMIN_EXIT_OK;
}

/* user unlock ADDRESS [--ip IP] */
static int user_cmd_unlock(struct admin *admin, int argc, char **argv)
{
	const char *error = NULL, *ip = NULL;
	if (argc == 3 && strcmp(argv[1], "--ip") == 0)
		ip = argv[2];
	else if (argc != 1)
		return admin_fail(ADMIN_EXIT_USAGE, "usage: pillarbox user unlock ADDRESS [--ip IP]");
	if (ip != NULL && !store_auth_ip_valid(ip))
		return admin_fail(ADMIN_EXIT_DATAERR, "%s: not an IP address", admin_arg(ip));
	unsigned removed = 0;
	int ret = store_auth_unlock(admin->store, argv[0], ip, &removed, &error);
	if (ret <= 0)
		return admin_store_fail(ret, ADMIN_EXIT_DATAERR, admin_arg(argv[0]), error);
	if (removed == 0)
		admin_say("%s%s%s had no failed logins counted: nothing to unlock", admin_arg(argv[0]),
			  ip != NULL ? " and " : "", ip != NULL ? admin_arg(ip) : "");
	else
		admin_say("%s%s%s may log in again at once (%u failed-login count%s removed)",
			  admin_arg(argv[0]), ip != NULL ? " and " : "", ip != NULL ? admin_arg(ip) : "",
			  removed, removed == 1 ? "" : "s");
	return ADMIN_EXIT_OK;
}

/* Aliases whose target is the user being deleted (ASCII case folded, as
 * the store compares addresses), collected before the deletion. */
struct user_aliases {
	const char *address;
	char (*pairs)[2][STORE_ADDRESS_MAX + 1];
	size_t n, cap;
};

static int user_alias_collect(const char *source, const char *target, void *ctx)
{
	struct user_aliases *a = ctx;

	if (strcasecmp(target, a->address) != 0)
		return 0;
	if (a->n == a->cap) {
		void *grown = reallocarray(a->pairs, a->cap + USER_LIST_CHUNK, sizeof(*a->pairs));

		if (grown == NULL)
			return -1;
		a->pairs = grown;
		a->cap += USER_LIST_CHUNK;
	}
	snprintf(a->pairs[a->n][0], sizeof(a->pairs[0][0]), "%s", source);
	snprintf(a->pairs[a->n][1], sizeof(a->pairs[0][1]), "%s", target);
	a->n++;
	return 0;
}

/* At a terminal, `user del` says what goes and asks first (the store is
 * closed while a human reads); --yes, or input that is not a terminal (a
 * script), deletes without asking. */
static int user_prepare_del(struct admin *admin, int argc, char **argv)
{
	struct store_user user;
	const char *error = NULL;
	uint64_t bytes = 0;
	uint32_t messages = 0;
	char answer[16];
	int ret;

	if (argc == 2 && strcmp(argv[1], "--yes") != 0)
		return admin_fail(ADMIN_EXIT_USAGE, "usage: pillarbox user del ADDRESS [--yes]");
	if (argc == 2 || isatty(STDIN_FILENO) != 1)
		return ADMIN_EXIT_OK;
	if (store_open(admin->config, false, &admin->store, &error) < 0)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "%s", error);
	ret = store_user_find(admin->store, argv[0], &user, &error);
	if (ret > 0 && store_user_usage(admin->store, user.id, &bytes, &messages, &error) < 0)
		ret = -1;
	store_close(&admin->store);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "no such user %s", admin_arg(argv[0]));
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	fprintf(stderr, "Delete %s and all their mail (%" PRIu32 " message%s, %" PRIu64
		" bytes)? This cannot be undone. [y/N] ", user.address, messages,
		messages == 1 ? "" : "s", bytes);
	fflush(stderr);
	if (fgets(answer, sizeof(answer), stdin) == NULL ||
	    (strcmp(answer, "y\n") != 0 && strcmp(answer, "yes\n") != 0 &&
	     strcmp(answer, "Y\n") != 0))
		return admin_fail(ADMIN_EXIT_DATAERR, "user %s kept", admin_arg(argv[0]));
	return ADMIN_EXIT_OK;
}

static int user_cmd_del(struct admin *admin, int argc, char **argv)
{
	struct user_aliases aliases = { .address = argv[0] };
	const char *error = NULL;
	int ret;

	(void)argc;
	/* Aliases are addresses, not users: one naming the user stays, and a
	 * user created later with that address gets its mail. Say which. */
	if (store_alias_list(admin->store, user_alias_collect, &aliases, &error) < 0) {
		free(aliases.pairs);
		return admin_store_fail(-1, 0, "alias list", error);
	}
	ret = store_user_del(admin->store, argv[0], &error);
	if (ret <= 0)
		free(aliases.pairs);
	if (ret == 0)
		return admin_store_fail(0, ADMIN_EXIT_NOUSER, admin_arg(argv[0]),
					error != NULL ? error : "no such user");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	admin_say("user %s deleted, with all their mail", admin_arg(argv[0]));
	/* Stored addresses passed the store's parser: no control bytes. */
	for (size_t i = 0; i < aliases.n; i++)
		admin_say("alias %s -> %s is left (a new user %s would get its mail): "
			  "pillarbox alias del %s %s", aliases.pairs[i][0], aliases.pairs[i][1],
			  aliases.pairs[i][1], aliases.pairs[i][0], aliases.pairs[i][1]);
	free(aliases.pairs);
	return ADMIN_EXIT_OK;
}

struct user_list {
	struct store_user *users;
	size_t n, cap;
};

static int user_collect(const struct store_user *user, void *ctx)
{
	struct user_list *list = ctx;

	if (list->n == list->cap) {
		struct store_user *grown = reallocarray(list->users, list->cap + USER_LIST_CHUNK,
							sizeof(*grown));
		if (grown == NULL)
			return -1;
		list->users = grown;
		list->cap += USER_LIST_CHUNK;
	}
	list->users[list->n++] = *user;
	return 0;
}

static int user_cmd_list(struct admin *admin, int argc, char **argv)
{
	struct user_list list = { NULL, 0, 0 };
	const char *domain = argc > 0 ? argv[0] : NULL, *error = NULL;
	int code = ADMIN_EXIT_OK, ret;

	if (domain != NULL) {
		ret = store_domain_is_local(admin->store, domain, &error);
		if (ret == 0)
			return admin_fail(ADMIN_EXIT_DATAERR, "%s: not a local domain",
					  admin_arg(domain));
		if (ret < 0)
			return admin_store_fail(ret, 0, "user list", error);
	}
	if (store_user_list(admin->store, domain, user_collect, &list, &error) < 0) {
		free(list.users);
		return admin_store_fail(-1, 0, "user list", error != NULL ? error : "out of memory");
	}
	for (size_t i = 0; i < list.n; i++) {
		const struct store_user *user = &list.users[i];
		uint64_t bytes = 0;
		uint32_t messages = 0;

		if (store_user_usage(admin->store, user->id, &bytes, &messages, &error) < 0) {
			code = admin_store_fail(-1, 0, "user list", error);
			break;
		}
		if (printf("%s\t%s\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu64 "\n",
			   user->address, user->disabled ? "disabled" : "enabled", messages, bytes,
			   user->quota_messages, user->quota_bytes) < 0)
			break; /* main reports the failed stdout */
	}
	free(list.users);
	return code;
}

static int user_cmd_quota(struct admin *admin, int argc, char **argv)
{
	struct store_user user;
	const char *error = NULL;
	uint64_t bytes, messages;
	int ret;

	if (config_size_parse(argv[1], &bytes) < 0)
		return admin_fail(ADMIN_EXIT_USAGE, "%s: expected a size in bytes (K, M, G "
				  "suffixes allowed; 0 = unlimited)", admin_arg(argv[1]));
	if (argc > 2 && admin_number_parse(argv[2], UINT32_MAX, &messages) < 0)
		return admin_fail(ADMIN_EXIT_USAGE, "%s: expected a number of messages "
				  "(0 = unlimited)", admin_arg(argv[2]));
	ret = store_user_find(admin->store, argv[0], &user, &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "%s: no such user", admin_arg(argv[0]));
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	/* Without MESSAGES the message limit stays what it was. */
	if (argc <= 2)
		messages = user.quota_messages;
	ret = store_user_quota(admin->store, argv[0], bytes, (uint32_t)messages, &error);
	if (ret == 0)
		return admin_store_fail(0, ADMIN_EXIT_NOUSER, admin_arg(argv[0]),
					error != NULL ? error : "no such user");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	admin_say("quota of %s: %" PRIu64 " bytes, %" PRIu64 " messages (0 = unlimited)",
		  admin_arg(argv[0]), bytes, messages);
	return ADMIN_EXIT_OK;
}

static int user_set_disabled(struct admin *admin, const char *address, bool disabled)
{
	const char *error = NULL;
	int ret = store_user_disable(admin->store, address, disabled, &error);

	if (ret == 0)
		return admin_store_fail(0, ADMIN_EXIT_NOUSER, admin_arg(address),
					error != NULL ? error : "no such user");
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(address), error);
	admin_say("user %s %s", admin_arg(address), disabled ? "disabled" : "enabled");
	return ADMIN_EXIT_OK;
}

static int user_cmd_disable(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	return user_set_disabled(admin, argv[0], true);
}

static int user_cmd_enable(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	return user_set_disabled(admin, argv[0], false);
}

/* ---- user import FILE: a Dovecot passwd-file ---- */

/* Root stage: the file is opened with the rights of whoever started the
 * command (often only root can read it); read after the switch. */
static const char *user_import_root(struct admin *admin, int argc, char **argv)
{
	struct stat st;

	(void)argc;
	if (strcmp(argv[0], "-") == 0)
		admin->source_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		admin->source_fd = open(argv[0], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (admin->source_fd < 0) {
		admin->root_code = admin_fail(ADMIN_EXIT_NOINPUT, "%s: %s", admin_arg(argv[0]),
					      strerror(errno));
	} else if (fstat(admin->source_fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		admin->root_code = admin_fail(ADMIN_EXIT_NOINPUT, "%s: not a file",
					      admin_arg(argv[0]));
	} else {
		/* O_NONBLOCK was only for opening a FIFO without a writer. */
		fcntl(admin->source_fd, F_SETFL, 0);
	}
	return NULL;
}

/* The hash of a passwd-file password field: "{SCHEME}hash" with one of the
 * crypt(3) schemes, or a bare crypt hash. NULL (and *why_r) if it cannot be
 * imported. */
static const char *user_import_hash(char *field, const char **why_r)
{
	static const char *const schemes[] = {
		"CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "YESCRYPT",
	};
	char *hash = field;

	if (field[0] == '\0') {
		*why_r = "no password hash";
		return NULL;
	}
	if (field[0] == '{') {
		char *end = strchr(field, '}');
		bool known = false;

		if (end == NULL) {
			*why_r = "malformed {SCHEME}";
			return NULL;
		}
		*end = '\0';
		for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
			known = known || strcasecmp(field + 1, schemes[i]) == 0;
		if (!known) {
			*why_r = "this scheme cannot be imported (a crypt hash is needed: "
				 "$y$, $6$, $5$ or $2b$); set a password with: pillarbox user passwd";
			return NULL;
		}
		hash = end + 1;
	}
	if (strlen(hash) >= PASSWORD_HASH_MAX || !password_hash_supported(hash)) {
		*why_r = "not a supported hash (yescrypt $y$, SHA-crypt $6$/$5$, bcrypt $2b$/$2y$, "
			 "scrypt $7$); set a password with: pillarbox user passwd";
		return NULL;
	}
	return hash;
}

struct user_import_counts {
	unsigned long added, existing, skipped;
};

/* One line of the file. Returns 0, or an exit code that ends the import. */
static int user_import_line(struct admin *admin, const char *file, unsigned long lineno,
			    char *line, struct user_import_counts *counts)
{
	struct store_user user;
	const char *hash, *why = NULL, *error = NULL;
	char *address = line, *pass, *end;
	int ret;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
		return 0;
	pass = strchr(line, ':');
	if (pass == NULL) {
		why = "not \"user:password:...\"";
	} else {
		*pass++ = '\0';
		end = strchr(pass, ':');
		if (end != NULL)
			*end = '\0';
		if (strchr(address, '@') == NULL)
			why = "not a full address (local@domain)";
	}
	hash = why == NULL ? user_import_hash(pass, &why) : NULL;
	if (hash == NULL) {
		counts->skipped++;
		admin_say("%s:%lu: %s: %s: skipped", admin_arg(file), lineno, admin_arg(address), why);
		return 0;
	}
	admin_watchdog_resume(admin);
	ret = store_user_find(admin->store, address, &user, &error);
	if (ret > 0) {
		counts->existing++;
		admin_say("%s:%lu: %s already exists: left as it is", admin_arg(file), lineno,
			  admin_arg(address));
		return 0;
	}
	if (ret == 0)
		ret = store_user_add(admin->store, address, NULL, hash, &error);
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(address), error);
	if (ret == 0) {
		counts->skipped++;
		admin_say("%s:%lu: %s: %s: skipped", admin_arg(file), lineno, admin_arg(address),
			  error != NULL ? error : "refused");
		return 0;
	}
	counts->added++;
	return 0;
}

static int user_cmd_import(struct admin *admin, int argc, char **argv)
{
	struct user_import_counts counts = { 0, 0, 0 };
	char line[USER_IMPORT_LINE_MAX + 2];
	unsigned long lineno = 0;
	bool long_line = false;
	int code = 0;
	FILE *in = fdopen(admin->source_fd, "r");

	(void)argc;
	if (in == NULL)
		return admin_fail(ADMIN_EXIT_IOERR, "%s: %s", admin_arg(argv[0]), strerror(errno));
	admin->source_fd = -1; /* now in's */
	while (code == 0 && fgets(line, sizeof(line), in) != NULL) {
		size_t len = strlen(line);
		bool complete = len > 0 && line[len - 1] == '\n';

		if (long_line) {
			/* the rest of a line already refused */
			long_line = !complete;
			continue;
		}
		lineno++;
		if (!complete && len > USER_IMPORT_LINE_MAX) {
			counts.skipped++;
			admin_say("%s:%lu: line longer than %d bytes: skipped", admin_arg(argv[0]),
				  lineno, USER_IMPORT_LINE_MAX);
			long_line = true;
			continue;
		}
		code = user_import_line(admin, argv[0], lineno, line, &counts);
	}
	password_wipe(line, sizeof(line));
	if (code == 0 && ferror(in))
		code = admin_fail(ADMIN_EXIT_IOERR, "%s: %s", admin_arg(argv[0]), strerror(errno));
	fclose(in);
	admin_say("user import: %lu added, %lu already there, %lu skipped", counts.added,
		  counts.existing, counts.skipped);
	if (code == 0 && counts.skipped > 0)
		code = ADMIN_EXIT_DATAERR;
	return code;
}

/* user sent ADDRESS [--reset]: what the send_limit counts, and clearing it */
static int user_cmd_sent(struct admin *admin, int argc, char **argv)
{
	struct store_user user;
	const char *error = NULL;
	uint64_t count;
	int ret;

	if (argc == 2 && strcmp(argv[1], "--reset") != 0)
		return admin_fail(ADMIN_EXIT_USAGE, "usage: pillarbox user sent ADDRESS [--reset]");
	ret = store_user_find(admin->store, argv[0], &user, &error);
	if (ret == 0)
		return admin_fail(ADMIN_EXIT_NOUSER, "no such user %s", admin_arg(argv[0]));
	if (ret < 0)
		return admin_store_fail(ret, 0, admin_arg(argv[0]), error);
	if (argc == 2) {
		if (store_send_reset(admin->store, user.id, &error) < 0)
			return admin_store_fail(-1, 0, admin_arg(argv[0]), error);
		if (admin->config->send_limit == 0)
			admin_say("%s: count cleared (no send_limit is set)", user.address);
		else
			admin_say("%s may send to %u recipients again from now", user.address,
				  admin->config->send_limit);
		return ADMIN_EXIT_OK;
	}
	if (store_send_count(admin->store, user.id, (int64_t)time(NULL), &count, &error) < 0)
		return admin_store_fail(-1, 0, admin_arg(argv[0]), error);
	if (admin->config->send_limit == 0)
		printf("%" PRIu64 "\tunlimited\n", count);
	else
		printf("%" PRIu64 "\t%u\n", count, admin->config->send_limit);
	return ADMIN_EXIT_OK;
}

static const struct admin_verb user_verbs[] = {
	{ "add", "ADDRESS [--hash] [--name NAME]",
	  "create a user (password asked; --hash: an existing hash; --name: the name mail is sent with)",
	  1, 4, ADMIN_STORE_OPEN, true, NULL, user_prepare_add, user_cmd_add },
	{ "del", "ADDRESS [--yes]", "delete a user and all their mail (asked first at a terminal)",
	  1, 2, ADMIN_STORE_OPEN, true, NULL, user_prepare_del, user_cmd_del },
	{ "list", "[DOMAIN]",
	  "ADDRESS STATE MESSAGES BYTES QUOTA_MESSAGES QUOTA_BYTES (tabs), one user a line",
	  0, 1, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_list },
	{ "passwd", "ADDRESS", "set a new password (asked twice, or one line of stdin)",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, user_prepare_passwd, user_cmd_passwd },
	{ "quota", "ADDRESS BYTES [MESSAGES]", "set limits (K/M/G suffixes; 0 = unlimited)",
	  2, 3, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_quota },
	{ "disable", "ADDRESS", "lock the account: logins and new mail refused, its mail kept",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_disable },
	{ "sent", "ADDRESS [--reset]",
	  "SENT LIMIT (tab): recipients sent to in the last 24 hours and send_limit; "
	  "--reset forgets them", 1, 2, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_sent },
	{ "enable", "ADDRESS", "undo disable",
	  1, 1, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_enable },
	{ "unlock", "ADDRESS [--ip IP]",
	  "let an address (and a client IP) that failed too many logins log in again at once",
	  1, 3, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_unlock },
	{ "vacation", "ADDRESS [--on|--off] [--subject S] [--text-file F|-] [--from DAY] "
	  "[--until DAY] [--days N]",
	  "show or set the out-of-office reply (days YYYY-MM-DD in UTC, --until included)",
	  1, -1, ADMIN_STORE_OPEN, true, NULL, NULL, user_cmd_vacation },
	{ "import", "FILE", "add users from a Dovecot passwd-file (user:{SCHEME}hash:...; - = stdin)",
	  1, 1, ADMIN_STORE_OPEN, true, user_import_root, NULL, user_cmd_import },
};

const struct admin_noun admin_noun_user = {
	"user", "Users (mail accounts): ADDRESS is the full address, local@domain.",
	user_verbs, sizeof(user_verbs) / sizeof(user_verbs[0]),
};
