/* The admin CLI `pillarbox`: shared types of its command files.
 *
 * main.c parses `pillarbox [--config FILE] NOUN VERB [args]`, finds the row
 * of the verb in its noun's table, checks the argument count, then runs the
 * fixed start-up: config_load, (root: prepare directories), process_init
 * (switching to the store user), the verb's `prepare` (reading a password,
 * with no store open: a check before it opens and closes the store itself),
 * store_open (unless the verb manages the store itself), the verb's `run`,
 * store_close. Data goes to stdout one record a line; messages for humans
 * go to stderr. */
#ifndef PB_ADMIN_H
#define PB_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Not "config.h": from admin/ that name is autoconf's header; store.h
 * brings store/config.h. */
#include "store.h"
#include "password.h"

/* Exit codes (sysexits.h values, spelled out: they are part of the CLI's
 * documented interface, see --help and pillarbox(8)). */
enum admin_exit {
	ADMIN_EXIT_OK = 0,
	ADMIN_EXIT_USAGE = 64,       /* EX_USAGE: bad command line */
	ADMIN_EXIT_DATAERR = 65,     /* EX_DATAERR: bad input, refused, problems found */
	ADMIN_EXIT_NOINPUT = 66,     /* EX_NOINPUT: an input file cannot be opened */
	ADMIN_EXIT_NOUSER = 67,      /* EX_NOUSER: no such user/address */
	ADMIN_EXIT_CANTCREAT = 73,   /* EX_CANTCREAT: cannot create; over quota */
	ADMIN_EXIT_IOERR = 74,       /* EX_IOERR: reading or writing a file failed */
	ADMIN_EXIT_TEMPFAIL = 75,    /* EX_TEMPFAIL: store error, try again */
	ADMIN_EXIT_NOPERM = 77,      /* EX_NOPERM: needs root (setup) */
	ADMIN_EXIT_CONFIG = 78,      /* EX_CONFIG: configuration or user problem */
};

/* What main.c does with the store before `run`. */
enum admin_store_mode {
	ADMIN_STORE_OPEN,     /* store_open before run, store_close after */
	ADMIN_STORE_NONE,     /* run works from the config (init, check, restore,
	                         deliver: which opens the store once stdin is read) */
};

struct admin {
	struct config *config;
	struct store *store;           /* NULL unless ADMIN_STORE_OPEN */
	char password[PASSWORD_MAX + 1]; /* filled by a prepare step; wiped at exit */
	bool have_password;
	bool password_is_hash;         /* user add --hash: `password` holds a hash */
	/* Left by a root_dir step that did more than name a directory: */
	int root_code;                 /* non-zero: stop with this exit code */
	int source_fd;                 /* a file opened for the verb (import, export), or -1 */
	pid_t reader_pid;              /* the import's reader process, or 0 */
};

struct admin_verb {
	const char *name;
	const char *args;              /* synopsis of the arguments, "" if none */
	const char *help;              /* one line */
	int min_args, max_args;        /* positional arguments after the verb; max -1 = any */
	enum admin_store_mode store;
	/* Watchdog: true = config->watchdog_seconds around the store work;
	 * false for verbs whose duration grows with the store (backup, check,
	 * restore, stats: it counts every record), which a fixed alarm would
	 * kill half-way. */
	bool watchdog;
	/* Optional: a directory that, when running as root, is created (mkdir -p)
	 * and given to the store user with mode 2770 before root is dropped
	 * (config->store for init/restore, the target of backup).
	 * It runs first, with the rights of whoever started the program, so a
	 * verb may also do here what needs them (setup; opening the file to
	 * import or export; starting the import's reader process), return NULL
	 * and set admin->root_code to stop with that exit code. */
	const char *(*root_dir)(struct admin *admin, int argc, char **argv);
	/* Optional, runs after the user switch and before the store is opened. */
	int (*prepare)(struct admin *admin, int argc, char **argv);
	/* Returns an admin_exit code. argv[0] is the first argument. */
	int (*run)(struct admin *admin, int argc, char **argv);
};

struct admin_noun {
	const char *name;
	const char *help;
	const struct admin_verb *verbs;
	unsigned nverbs;
};

extern const struct admin_noun admin_noun_store, admin_noun_domain, admin_noun_user,
	admin_noun_alias, admin_noun_mailbox, admin_noun_deliver, admin_noun_queue,
	admin_noun_import, admin_noun_export, admin_noun_setup, admin_noun_sieve,
	admin_noun_srs;

/* domain dkim, domain dns (cmd_dkim.c), rows of cmd_domain.c's table. */
int domain_cmd_dkim(struct admin *admin, int argc, char **argv);
int domain_cmd_dns(struct admin *admin, int argc, char **argv);

/* Prints "pillarbox: MESSAGE\n" to stderr. */
void admin_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* admin_say() and returns `code`: `return admin_fail(ADMIN_EXIT_DATAERR, ...)`. */
int admin_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a store call that returned 0 or -1: -1 is a temporary failure (75),
 * 0 a refusal (`refused_code`). Prints `what: error` (`error` alone when it
 * names `what` already) and returns the code. */
int admin_store_fail(int ret, int refused_code, const char *what, const char *error);

/* `arg` escaped for a message or log line (control bytes as \xNN, cut at
 * 255 bytes); the result stays valid for the next 3 calls. */
const char *admin_arg(const char *arg);

/* Pauses / resumes the watchdog around waits for a human or a pipe. */
void admin_watchdog_pause(void);
void admin_watchdog_resume(struct admin *admin);

/* Reads a password: from the terminal with echo off (asking twice when
 * `confirm`), or one line from stdin when it is not a terminal. Empty
 * passwords, NUL bytes and more than PASSWORD_MAX bytes are refused.
 * Returns 0 with the password in buf (size PASSWORD_MAX + 1), or an
 * admin_exit code after printing why. */
int admin_password_read(const char *prompt, bool confirm, char buf[PASSWORD_MAX + 1]);

/* As root: mkdir -p `dir` (parents 0755), then make `dir` owned by
 * user:group with mode 2770 if it was created or is empty. Not root: only
 * the parents are made (the command creates `dir` itself).
 * Returns 0 or an admin_exit code after printing why. */
int admin_dir_prepare(const char *dir, const char *user);

/* Whether mail to `address` reaches the user `user_id`: false when an
 * alias on the address sends it elsewhere (cmd_alias.c). */
bool admin_alias_reaches(struct admin *admin, const char *address, uint32_t user_id);

/* pillarbox user vacation (cmd_vacation.c). */
int user_cmd_vacation(struct admin *admin, int argc, char **argv);
/* Parses a count that must fit `max`; 0 or -1. */
int admin_number_parse(const char *s, uint64_t max, uint64_t *n_r);

#endif
