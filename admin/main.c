/* pillarbox: the admin CLI. Argument parsing, help, and the fixed start-up
 * order around each verb (see admin.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* strcasestr */
#endif
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "log.h"
#include "process.h"

/* A runaway admin process fails a malloc instead of meeting the OOM killer;
 * far above what a Berkeley DB cache plus a 4 GB message could need. */
#define ADMIN_ADDRESS_SPACE ((size_t)16 << 30)
/* Arguments echoed into messages and the log line are cut here. */
#define ADMIN_ARG_SHOWN_MAX 256

static const struct admin_noun *const admin_nouns[] = {
	&admin_noun_store, &admin_noun_domain, &admin_noun_user, &admin_noun_alias,
	&admin_noun_sieve, &admin_noun_mailbox, &admin_noun_deliver, &admin_noun_queue,
	&admin_noun_import, &admin_noun_export, &admin_noun_srs, &admin_noun_setup,
};
#define ADMIN_NNOUNS (sizeof(admin_nouns) / sizeof(admin_nouns[0]))

static const char admin_exit_help[] =
	"Exit status:\n"
	"  0   success\n"
	"  64  usage error (bad command line)\n"
	"  65  data error: invalid or refused input, or problems found by store check\n"
	"  66  an input file cannot be opened (import, sieve check)\n"
	"  67  no such user or address\n"
	"  73  cannot create (store init/restore, export); over quota (deliver, import)\n"
	"  74  reading or writing a file failed (import, export, sieve put/check)\n"
	"  75  temporary failure: the store is busy or unavailable; try again\n"
	"  77  permission denied: setup must run as root\n"
	"  78  configuration error, or the store user does not exist\n";

static unsigned admin_watchdog_seconds;

void admin_say(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("pillarbox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int admin_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("pillarbox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Whether `msg` names `what` already, as a word: the store's messages
 * often name the address ("no such user X", a delivery's "X: quota
 * exceeded"), in its own case (domains lowercased). */
static bool admin_names(const char *msg, const char *what)
{
	size_t n = strlen(what);

	for (const char *p = msg; n > 0 && (p = strcasestr(p, what)) != NULL; p++) {
		if ((p == msg || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == ':'))
			return true;
	}
	return false;
}

int admin_store_fail(int ret, int refused_code, const char *what, const char *error)
{
	const char *sep = ": ";

	if (error == NULL)
		error = ret < 0 ? "store error" : "refused";
	/* Not "X: no such user X". */
	if (admin_names(error, what))
		what = sep = "";
	if (ret < 0)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "%s%s%s (temporary failure: try again)",
				  what, sep, error);
	return admin_fail(refused_code, "%s%s%s", what, sep, error);
}

const char *admin_arg(const char *arg)
{
	/* A few calls may share one message. */
	static char bufs[4][ADMIN_ARG_SHOWN_MAX];
	static unsigned next;
	char *buf = bufs[next++ % 4];

	return log_safe(buf, ADMIN_ARG_SHOWN_MAX, arg, strlen(arg));
}

void admin_watchdog_pause(void)
{
	process_watchdog(0);
}

void admin_watchdog_resume(struct admin *admin)
{
	(void)admin;
	process_watchdog(admin_watchdog_seconds);
}

int admin_number_parse(const char *s, uint64_t max, uint64_t *n_r)
{
	uint64_t n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (n > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*n_r = n;
	return 0;
}

/* Help fits an 80-column terminal (counted in bytes: a UTF-8 character only
 * breaks a line early). A verb's description starts at ADMIN_HELP_DESC. */
#define ADMIN_HELP_WIDTH 80
#define ADMIN_HELP_DESC 39

/* Writes `text` from column `col` on, broken between words, each new line
 * indented to `indent` (a word longer than a line is kept whole); returns
 * the column it ends in, without ending the line. */
static size_t admin_help_wrap(FILE *out, size_t col, size_t indent, const char *text)
{
	bool first = true;

	for (const char *p = text + strspn(text, " "); *p != '\0'; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");

		if (!first && col + 1 + len > ADMIN_HELP_WIDTH) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, len, out);
		col += len;
		p += len;
		first = false;
	}
	return col;
}

/* "  noun verb ARGS   description", the synopsis continued 6 columns in and
 * the description ADMIN_HELP_DESC in (below a synopsis that reaches it). */
static void admin_verb_line(FILE *out, const struct admin_noun *noun, const struct admin_verb *verb)
{
	char synopsis[256];
	size_t col;

	snprintf(synopsis, sizeof(synopsis), "%s%s%s%s%s", noun->name,
		 verb->name != NULL ? " " : "", verb->name != NULL ? verb->name : "",
		 verb->args[0] != '\0' ? " " : "", verb->args);
	fputs("  ", out);
	col = admin_help_wrap(out, 2, 6, synopsis);
	if (col >= ADMIN_HELP_DESC) {
		fputc('\n', out);
		col = 0;
	}
	fprintf(out, "%*s", (int)(ADMIN_HELP_DESC - col), "");
	admin_help_wrap(out, ADMIN_HELP_DESC, ADMIN_HELP_DESC, verb->help);
	fputc('\n', out);
}

static void admin_usage(FILE *out)
{
	fprintf(out,
		"Usage: pillarbox [--config FILE] NOUN VERB [ARGS...]\n"
		"       pillarbox --help | --version | NOUN --help\n"
		"\n"
		"Manages a Pillarbox mail store. Started as root it first switches to the\n"
		"configured user (user = in pillarbox.conf). Data goes to standard output,\n"
		"one record a line (fields separated by tabs); messages go to standard error.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ADMIN_NNOUNS; i++) {
		for (unsigned j = 0; j < admin_nouns[i]->nverbs; j++)
			admin_verb_line(out, admin_nouns[i], &admin_nouns[i]->verbs[j]);
	}
	fprintf(out,
		"\n"
		"Options:\n"
		"  --config FILE   the configuration file (default: $PILLARBOX_CONF, else\n"
		"                  %s)\n"
		"  --help          this text;  --version  the version\n"
		"\n"
		"Passwords are read from the terminal (echo off, asked twice) or, when\n"
		"standard input is not a terminal, as one line from it; never from arguments.\n"
		"\n%s",
		CONFIG_DEFAULT_PATH, admin_exit_help);
}

static void admin_noun_usage(FILE *out, const struct admin_noun *noun)
{
	fprintf(out, "Usage: pillarbox [--config FILE] %s ...\n%s\n\n", noun->name, noun->help);
	for (unsigned j = 0; j < noun->nverbs; j++)
		admin_verb_line(out, noun, &noun->verbs[j]);
	fprintf(out, "\n%s", admin_exit_help);
}

static const struct admin_noun *admin_noun_find(const char *name)
{
	for (size_t i = 0; i < ADMIN_NNOUNS; i++) {
		if (strcmp(admin_nouns[i]->name, name) == 0)
			return admin_nouns[i];
	}
	return NULL;
}

static const struct admin_verb *admin_verb_find(const struct admin_noun *noun, const char *name)
{
	for (unsigned j = 0; j < noun->nverbs; j++) {
		if (noun->verbs[j].name != NULL && strcmp(noun->verbs[j].name, name) == 0)
			return &noun->verbs[j];
	}
	return NULL;
}

static int admin_usage_error(const struct admin_noun *noun, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int admin_usage_error(const struct admin_noun *noun, const char *fmt, ...)
{
	char msg[ADMIN_ARG_SHOWN_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_usage_error("pillarbox", noun != NULL ? noun->name : NULL, "%s", msg);
}

/* One syslog line per command: who ran what and how it ended. */
static void admin_log_command(const struct admin_noun *noun, const struct admin_verb *verb,
			      int argc, char **argv, int code)
{
	char args[ADMIN_ARG_SHOWN_MAX * 2] = "";
	size_t len = 0;

	for (int i = 0; i < argc && len < sizeof(args) - 1; i++) {
		int n = snprintf(args + len, sizeof(args) - len, "%s%s", i > 0 ? " " : "",
				 admin_arg(argv[i]));
		if (n < 0)
			break;
		len += (size_t)n;
	}
	log_info("%s%s%s args=[%s] uid=%ld exit=%d", noun->name, verb->name != NULL ? " " : "",
		 verb->name != NULL ? verb->name : "", args, (long)getuid(), code);
}

/* Everything after parsing: the fixed start-up order, the verb, the end. */
/* A TLS file the configuration names that is not there: every handler
 * would log it per connection and offer no TLS (so no plaintext login off
 * loopback either); said here, where the administrator looks. Only a
 * missing file: one this user may not read can still be read as root
 * (handlers started by xinetd read it before switching users). */
static void tls_files_warn(const struct config *config)
{
	const char *const files[] = { config->tls_cert, config->tls_key, config->tls_cert_dir };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i] != NULL && access(files[i], F_OK) < 0 && errno != EACCES)
			admin_say("warning: %s: %s: IMAP, POP3, SMTP and pillarbox-webmaild "
				  "offer no TLS until it is there", files[i], strerror(errno));
	}
}

static int admin_run(const char *config_file, const struct admin_noun *noun,
		     const struct admin_verb *verb, int argc, char **argv)
{
	struct process_limits limits = { .address_space = ADMIN_ADDRESS_SPACE };
	struct admin *admin;
	const char *path = config_path(config_file), *error = NULL;
	int code;

	/* Big (it holds a password buffer) and wiped at the end. */
	admin = calloc(1, sizeof(*admin));
	if (admin == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	admin->source_fd = -1;
	/* The configuration's warnings (an unknown key: a typo) reach the
	 * administrator at the terminal, not only syslog. */
	bool was = log_to_stderr_set(true);
	int loaded = config_load(path, &admin->config, &error);
	log_to_stderr_set(was);
	if (loaded < 0) {
		free(admin);
		return admin_fail(ADMIN_EXIT_CONFIG, "%s", error);
	}
	if (verb->root_dir != NULL) {
		const char *dir = verb->root_dir(admin, argc, argv);

		if ((code = admin->root_code) != 0)
			goto out;
		if (dir != NULL && (code = admin_dir_prepare(dir, admin->config->user)) != 0)
			goto out;
	}
	if (process_init(admin->config->user, &limits, false, &error) < 0) {
		code = admin_fail(ADMIN_EXIT_CONFIG, "%s", error);
		goto out;
	}
	tls_files_warn(admin->config);
	admin_watchdog_seconds = verb->watchdog ? admin->config->watchdog_seconds : 0;
	if (verb->prepare != NULL && (code = verb->prepare(admin, argc, argv)) != 0)
		goto out;
	admin_watchdog_resume(admin);
	if (verb->store == ADMIN_STORE_OPEN &&
	    store_open(admin->config, false, &admin->store, &error) < 0) {
		code = admin_fail(ADMIN_EXIT_TEMPFAIL, "%s", error);
		goto out;
	}
	code = verb->run(admin, argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (code == 0)
			code = admin_fail(ADMIN_EXIT_TEMPFAIL, "standard output: %s",
					  strerror(errno));
	}
out:
	store_close(&admin->store);
	process_watchdog(0);
	if (admin->source_fd >= 0)
		close(admin->source_fd);
	if (admin->reader_pid > 0 && kill(admin->reader_pid, SIGTERM) == 0) {
		/* The verb reaps its reader; this is for the early exits. A
		 * reader running as another user cannot be signalled: it ends
		 * at its next write into the closed pipe. */
		while (waitpid(admin->reader_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	admin_log_command(noun, verb, argc, argv, code);
	password_wipe(admin->password, sizeof(admin->password));
	config_free(&admin->config);
	free(admin);
	return code;
}

/* A panic ends the process from inside the store (store_panic), after a
 * line to syslog only: the administrator at the terminal is told too. */
static void admin_panic(void)
{
	fputs("pillarbox: the store stopped this command (an environment panic: another "
	      "process recovers the store, or a write failed); try again in a moment\n", stderr);
}

int main(int argc, char **argv)
{
	const struct admin_noun *noun;
	const struct admin_verb *verb;
	const char *config_file = NULL;
	int i = 1, nargs;

	log_open("pillarbox");
	log_stderr_plain(true);
	store_set_panic_hook(admin_panic);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			admin_usage(stdout);
			return cli_stdout_status("pillarbox");
		} else if (strcmp(argv[i], "--version") == 0) {
			return cli_version("pillarbox");
		} else if (strcmp(argv[i], "--config") == 0) {
			if (++i >= argc)
				return admin_usage_error(NULL, "--config needs a FILE");
			config_file = argv[i];
		} else if (strncmp(argv[i], "--config=", 9) == 0 && argv[i][9] != '\0') {
			config_file = argv[i] + 9;
		} else {
			return admin_usage_error(NULL, "unknown option '%s'", admin_arg(argv[i]));
		}
	}
	if (i >= argc)
		return admin_usage_error(NULL, "a command is needed");
	noun = admin_noun_find(argv[i]);
	if (noun == NULL)
		return admin_usage_error(NULL, "unknown command '%s'", admin_arg(argv[i]));
	i++;
	if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
		admin_noun_usage(stdout, noun);
		return cli_stdout_status("pillarbox");
	}
	if (noun->nverbs == 1 && noun->verbs[0].name == NULL) {
		verb = &noun->verbs[0];
	} else {
		if (i >= argc)
			return admin_usage_error(noun, "%s needs a verb", noun->name);
		verb = admin_verb_find(noun, argv[i]);
		if (verb == NULL)
			return admin_usage_error(noun, "unknown verb '%s'", admin_arg(argv[i]));
		i++;
	}
	nargs = argc - i;
	for (int j = i; j < argc; j++) {
		if (strcmp(argv[j], "--help") == 0) {
			admin_noun_usage(stdout, noun);
			return cli_stdout_status("pillarbox");
		}
	}
	if (nargs < verb->min_args || (verb->max_args >= 0 && nargs > verb->max_args))
		return admin_usage_error(noun, "wrong number of arguments (usage: pillarbox %s%s%s%s%s)",
					 noun->name, verb->name != NULL ? " " : "",
					 verb->name != NULL ? verb->name : "",
					 verb->args[0] != '\0' ? " " : "", verb->args);
	return admin_run(config_file, noun, verb, nargs, argv + i);
}
