/* Reading a password for `user add` / `user passwd`: from the terminal with
 * echo off, or one line of a non-terminal stdin; never from argv. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin.h"
#include "process.h"

/* Reads one line from fd 0 into buf (PASSWORD_MAX + 1 bytes), byte by byte so
 * that nothing after the line is consumed. Returns 0 or an exit code; on
 * failure buf is wiped. */
static int password_line_read(char buf[PASSWORD_MAX + 1])
{
	size_t len = 0;
	bool too_long = false;
	char c;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, &c, 1);

		if (n < 0 && errno == EINTR && !process_stop_requested)
			continue;
		if (n < 0) {
			int err = errno;

			password_wipe(buf, PASSWORD_MAX + 1);
			if (err == EINTR)
				return admin_fail(ADMIN_EXIT_TEMPFAIL, "interrupted: nothing changed");
			return admin_fail(ADMIN_EXIT_TEMPFAIL, "reading the password: %s",
					  strerror(err));
		}
		if (n == 0 || c == '\n')
			break;
		if (c == '\0') {
			password_wipe(buf, PASSWORD_MAX + 1);
			return admin_fail(ADMIN_EXIT_DATAERR, "the password contains a NUL byte");
		}
		if (len < PASSWORD_MAX)
			buf[len++] = c;
		else
			too_long = true; /* read on to the end of the line */
	}
	if (len > 0 && buf[len - 1] == '\r' && !too_long)
		len--;
	buf[len] = '\0';
	if (too_long) {
		password_wipe(buf, PASSWORD_MAX + 1);
		return admin_fail(ADMIN_EXIT_DATAERR, "the password is too long (at most %d bytes)",
				  PASSWORD_MAX);
	}
	if (len == 0)
		return admin_fail(ADMIN_EXIT_DATAERR, "empty password refused");
	return 0;
}

/* Prompts on the terminal with echo off; the terminal is restored whatever
 * happens (also on Ctrl-C: the signal handlers only set a flag). */
static int password_tty_read(const char *prompt, char buf[PASSWORD_MAX + 1])
{
	struct termios saved, quiet;
	int code;

	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "terminal: %s", strerror(errno));
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "terminal: %s", strerror(errno));
	fprintf(stderr, "%s: ", prompt);
	fflush(stderr);
	code = password_line_read(buf);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	return code;
}

int admin_password_read(const char *prompt, bool confirm, char buf[PASSWORD_MAX + 1])
{
	char again[PASSWORD_MAX + 1];
	bool same;
	int code;

	/* A human may take a while: no watchdog while waiting (the store is
	 * not open yet anyway). */
	admin_watchdog_pause();
	if (!isatty(STDIN_FILENO))
		return password_line_read(buf);
	code = password_tty_read(prompt, buf);
	if (code != 0 || !confirm)
		return code;
	code = password_tty_read("Again", again);
	if (code != 0) {
		password_wipe(buf, PASSWORD_MAX + 1);
		return code;
	}
	same = strcmp(buf, again) == 0;
	password_wipe(again, sizeof(again));
	if (!same) {
		password_wipe(buf, PASSWORD_MAX + 1);
		return admin_fail(ADMIN_EXIT_DATAERR, "the passwords do not match: nothing changed");
	}
	return 0;
}
