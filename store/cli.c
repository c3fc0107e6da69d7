/* The shared --help, --version and usage-error behaviour (see cli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

#ifndef PACKAGE_VERSION
#error "PACKAGE_VERSION comes from configure (AC_INIT) through DEFS"
#endif

/* An option or operand echoed in a message is cut here (one screen line). */
#define CLI_ARG_SHOWN_MAX 128
/* Room for ':' plus a program's short options. */
#define CLI_SHORTOPTS_MAX 64

const char *cli_arg(const char *arg)
{
	static char bufs[2][CLI_ARG_SHOWN_MAX];
	static unsigned next;
	char *buf = bufs[next++ % 2];

	return log_safe(buf, sizeof(bufs[0]), arg, arg != NULL ? strlen(arg) : 0);
}

int cli_stdout_status(const char *program)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: standard output: %s\n", program, strerror(errno));
		return CLI_EXIT_IOERR;
	}
	return 0;
}

int cli_help(const char *program, const char *usage)
{
	fputs(usage, stdout);
	return cli_stdout_status(program);
}

int cli_version(const char *program)
{
	printf("%s (Pillarbox) %s\n", program, PACKAGE_VERSION);
	return cli_stdout_status(program);
}

int cli_usage_error(const char *program, const char *help_topic, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", program, help_topic != NULL ? " " : "",
		help_topic != NULL ? help_topic : "");
	return CLI_EXIT_USAGE;
}

int cli_no_operands(const char *program, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	return cli_usage_error(program, NULL, "unexpected argument '%s'", cli_arg(argv[optind]));
}

/* Does the long option argument `arg` ("--name" or "--name=value") name the
 * table row whose value is `val` (as a whole name or, like getopt_long, an
 * abbreviation)? */
static int cli_names_row(const char *arg, size_t len, const struct option *longopts, int val)
{
	for (const struct option *o = longopts; o->name != NULL; o++) {
		if (o->val == val && o->flag == NULL && strncmp(o->name, arg, len) == 0)
			return 1;
	}
	return 0;
}

/* The option getopt_long has just refused, as the user wrote it (without an
 * "=value"), into buf. Long options are read back from argv; a short one is
 * rebuilt from optopt, as it may sit inside a group ("-sx"). */
static const char *cli_refused(int argc, char **argv, const struct option *longopts,
			       char *buf, size_t size, int *had_value_r)
{
	const char *arg = optind >= 1 && optind <= argc ? argv[optind - 1] : "";
	size_t len;
	int is_long;

	*had_value_r = 0;
	if (strncmp(arg, "--", 2) == 0) {
		len = strcspn(arg + 2, "=");
		/* optopt 0: an unknown or ambiguous long option; a long-only
		 * value: that row; a letter: the row, unless a short option in
		 * a group after this argument was meant. */
		is_long = optopt == 0 || optopt >= 256 ||
			  cli_names_row(arg + 2, len, longopts, optopt);
		if (is_long) {
			*had_value_r = arg[2 + len] == '=';
			snprintf(buf, size, "--%.*s", (int)(len < size ? len : size), arg + 2);
			return buf;
		}
	}
	if (optopt > 0 && optopt < 256)
		snprintf(buf, size, "-%c", optopt);
	else
		snprintf(buf, size, "%s", arg);
	return buf;
}

int cli_getopt(const struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char opts[CLI_SHORTOPTS_MAX], bad[CLI_ARG_SHOWN_MAX];
	int o, had_value;

	/* ':' first: a missing argument comes back as ':', not '?' */
	if ((size_t)snprintf(opts, sizeof(opts), ":%s", shortopts) >= sizeof(opts))
		abort(); /* a program's table, not user input */
	opterr = 0;
	o = getopt_long(argc, argv, opts, longopts, NULL);
	switch (o) {
	case CLI_OPT_HELP:
		exit(cli_help(cli->name, cli->usage));
	case CLI_OPT_VERSION:
		exit(cli_version(cli->name));
	case ':':
		cli_refused(argc, argv, longopts, bad, sizeof(bad), &had_value);
		exit(cli_usage_error(cli->name, NULL, "option '%s' needs an argument",
				     cli_arg(bad)));
	case '?':
		cli_refused(argc, argv, longopts, bad, sizeof(bad), &had_value);
		if (had_value && optopt != 0)
			exit(cli_usage_error(cli->name, NULL, "option '%s' takes no argument",
					     cli_arg(bad)));
		exit(cli_usage_error(cli->name, NULL, "unknown option '%s'", cli_arg(bad)));
	default:
		return o;
	}
}
