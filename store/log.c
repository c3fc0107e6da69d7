/* Logging to syslog (facility mail), optionally mirrored to stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* secure_getenv, program_invocation_short_name */
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "charset.h"
#include "log.h"

/* One log line: syslog itself truncates around 8 KB on most systems and a
 * line longer than this carries nothing a reader needs. */
#define LOG_LINE_MAX 2048
/* Program names are ours ("imapd", "pillarbox"), never client data. */
#define LOG_PROGNAME_MAX 64

static char log_progname[LOG_PROGNAME_MAX];
static bool log_to_stderr;

void log_open(const char *progname)
{
	const char *env;

	if (progname == NULL || *progname == '\0')
		progname = program_invocation_short_name;
	snprintf(log_progname, sizeof(log_progname), "%s", progname);
	/* openlog keeps the pointer: log_progname is static, so it stays valid. */
	openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
	env = secure_getenv("PILLARBOX_LOG_STDERR");
	log_to_stderr = env != NULL && strcmp(env, "1") == 0;
}

bool log_to_stderr_enabled(void)
{
	return log_to_stderr;
}

bool log_to_stderr_set(bool on)
{
	bool was = log_to_stderr;
	log_to_stderr = on;
	return was;
}

/* Replaces every control byte that could split or forge a line. Arguments
 * should already have been escaped with log_safe(); this is the backstop for
 * a caller that forgot. */
static void log_line_scrub(char *line)
{
	for (unsigned char *p = (unsigned char *)line; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
}

static void log_emit(int priority, const char *level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void log_emit(int priority, const char *level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno; /* so callers may use %m or errno afterwards */
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		snprintf(line, sizeof(line), "(unformattable log message)");
	else if ((size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	log_line_scrub(line);

	syslog(priority, "%s", line);
	if (log_to_stderr) {
		char out[LOG_PROGNAME_MAX + LOG_LINE_MAX + 32];
		const char *prog = log_progname[0] != '\0' ? log_progname :
			program_invocation_short_name;
		int len = snprintf(out, sizeof(out), "%s[%ld]: %s%s\n", prog, (long)getpid(),
				   level, line);

		if (len > 0) {
			if ((size_t)len >= sizeof(out))
				len = sizeof(out) - 1;
			/* One write() so lines of concurrent processes do not interleave. */
			ssize_t ignored = write(STDERR_FILENO, out, (size_t)len);
			(void)ignored;
		}
	}
	errno = saved_errno;
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

const char *log_safe(char *dst, size_t dstsize, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t pos = 0, mark = 0, i = 0;

	if (dstsize == 0)
		return dst;
	if (src == NULL)
		len = 0;
	while (i < len) {
		char unit[4];
		size_t ulen = charset_utf8_text_char_len(s + i, len - i);

		if (ulen == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\'))
			ulen = 0;
		if (ulen == 0) {
			unit[0] = '\\';
			unit[1] = 'x';
			unit[2] = hex[s[i] >> 4];
			unit[3] = hex[s[i] & 0xf];
		}
		size_t wlen = ulen == 0 ? 4 : ulen;
		if (pos + wlen > dstsize - 1) {
			/* Does not fit: cut back to the last point that leaves
			 * room for "..." and say so. */
			pos = mark;
			if (dstsize >= 4) {
				memcpy(dst + pos, "...", 3);
				pos += 3;
			}
			break;
		}
		memcpy(dst + pos, ulen == 0 ? unit : (const char *)s + i, wlen);
		pos += wlen;
		i += ulen == 0 ? 1 : ulen;
		if (dstsize < 4 || pos + 3 <= dstsize - 1)
			mark = pos;
	}
	dst[pos] = '\0';
	return dst;
}
