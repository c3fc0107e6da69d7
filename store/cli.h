/* The command-line conventions every installed Pillarbox program shares, in
 * one place (GNU coding standards):
 *   --help      the program's usage text on stdout, exit 0
 *   --version   "<program> (Pillarbox) <version>" on stdout, exit 0
 *   a bad option, a missing option argument or an unexpected operand:
 *               "<program>: <what is wrong>" and "Try '<program> --help'."
 *               on stderr, exit CLI_EXIT_USAGE (64, EX_USAGE)
 * The version is configure's PACKAGE_VERSION (AC_INIT), which reaches the
 * compiler through DEFS (there is no config.h); cli.c is the only file that
 * prints it. */
#ifndef PB_CLI_H
#define PB_CLI_H

#include <getopt.h>

#define CLI_EXIT_USAGE 64 /* EX_USAGE */
#define CLI_EXIT_IOERR 74 /* EX_IOERR: --help or --version could not be written */

/* getopt_long values of the shared options, above any short option letter.
 * A program's own long-only options use values from CLI_OPT_FIRST on, so
 * that an error names the option as the user typed it. */
enum {
	CLI_OPT_HELP = 0x1000,
	CLI_OPT_VERSION,
	CLI_OPT_FIRST,
};

/* The two shared rows, for the end of a program's option table (before the
 * terminating { NULL, 0, NULL, 0 }). */
#define CLI_OPTIONS_COMMON \
	{ "help", no_argument, NULL, CLI_OPT_HELP }, \
	{ "version", no_argument, NULL, CLI_OPT_VERSION }

struct cli {
	const char *name;  /* the program's name in messages: "imapd" */
	const char *usage; /* the whole --help text, ending in a newline */
};

/* getopt_long with the shared behaviour (getopt's own messages are off).
 * Returns the next of the program's own options (optarg set as usual) or -1
 * at the end of the options. --help and --version are answered here, and a
 * bad option or a missing argument is reported here: in those cases the
 * process exits (call it before anything is opened). `shortopts` is the
 * usual getopt string ("" for long options only). */
int cli_getopt(const struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* Prints `usage` on stdout. Returns the exit status: 0, or CLI_EXIT_IOERR
 * (with a message) when stdout cannot be written. */
int cli_help(const char *program, const char *usage);

/* For a help text written some other way: flushes stdout and returns the
 * exit status as cli_help does. */
int cli_stdout_status(const char *program);

/* Prints "<program> (Pillarbox) <version>" on stdout; exit status as
 * cli_help. */
int cli_version(const char *program);

/* Reports a usage error: "<program>: <message>" and "Try '<program>
 * --help'." on stderr. `help_topic`, when not NULL, is put between the
 * program and --help ("pillarbox user --help"). Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *program, const char *help_topic, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* After the options: an operand left over is a usage error (reported as
 * above, returns CLI_EXIT_USAGE); none left returns 0. */
int cli_no_operands(const char *program, int argc, char **argv);

/* A command-line argument made safe to echo in a message (control bytes
 * escaped, cut to a screen line). Two calls may share one message. */
const char *cli_arg(const char *arg);

#endif
