/* Logging to syslog (facility mail), optionally mirrored to stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* secure_getenv, program_invocation_short_name */
#endif

#include <arpa/inet.h>
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
/* The user field of log_client(): an address is at most 320 bytes (254 in
 * practice); what a client sends beyond that, escaped, is cut here so that
 * the rip= after it always fits in the line. */
#define LOG_USER_MAX 1024

static char log_progname[LOG_PROGNAME_MAX];
static bool log_to_stderr;
static bool log_plain;

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

void log_stderr_plain(bool on)
{
	log_plain = on;
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
		int len = log_plain ? snprintf(out, sizeof(out), "%s: %s%s\n", prog, level, line) :
			  snprintf(out, sizeof(out), "%s[%ld]: %s%s\n", prog, (long)getpid(),
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

/* Whether the UTF-8 character at s (ulen bytes, 2 to 4) is a space, a line
 * or paragraph separator or an invisible formatting character (zero width,
 * bidirectional controls): in a field value it could pass for the space
 * between two fields, or hide or reorder what a reader sees. */
static bool log_char_hidden(const unsigned char *s, size_t ulen)
{
	uint32_t cp;

	if (ulen == 2)
		cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	else if (ulen == 3)
		cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	else
		return false;
	return cp == 0xa0 || cp == 0x1680 || cp == 0x180e || (cp >= 0x2000 && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202f) || (cp >= 0x205f && cp <= 0x206f) ||
	       cp == 0x3000 || cp == 0xfeff;
}

/* The bytes at s (len > 0) to escape as \xNN one at a time: 0 (escape s[0]),
 * else the length of the character to copy as it is. */
static size_t log_unit_len(const unsigned char *s, size_t len, bool field)
{
	size_t ulen = charset_utf8_text_char_len(s, len);

	if (ulen == 1 && (s[0] < 0x20 || s[0] == 0x7f || s[0] == '\\'))
		return 0;
	if (field && ulen == 1 && (s[0] == ' ' || s[0] == '"' || s[0] == '<' || s[0] == '>'))
		return 0;
	if (field && ulen > 1 && log_char_hidden(s, ulen))
		return 0; /* each of its bytes is escaped in turn */
	return ulen;
}

static const char *log_escape(char *dst, size_t dstsize, const char *src, size_t len, bool field)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t pos = 0, mark = 0, i = 0, hidden = 0;

	if (dstsize == 0)
		return dst;
	if (src == NULL)
		len = 0;
	while (i < len) {
		char unit[4];
		size_t ulen = hidden > 0 ? 0 : log_unit_len(s + i, len - i, field);

		if (ulen == 0 && hidden == 0 && field)
			hidden = charset_utf8_text_char_len(s + i, len - i);
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
		if (hidden > 0)
			hidden--;
		if (hidden == 0 && (dstsize < 4 || pos + 3 <= dstsize - 1))
			mark = pos;
	}
	dst[pos] = '\0';
	return dst;
}

const char *log_safe(char *dst, size_t dstsize, const char *src, size_t len)
{
	return log_escape(dst, dstsize, src, len, false);
}

const char *log_field(char *dst, size_t dstsize, const char *src, size_t len)
{
	return log_escape(dst, dstsize, src, len, true);
}

const char *log_rip(char dst[LOG_RIP_MAX], const char *ip)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char bin[sizeof(struct in6_addr)];
	const unsigned char *at = bin;
	int family = AF_INET;

	if (ip == NULL || inet_pton(AF_INET, ip, bin) != 1) {
		if (ip == NULL || inet_pton(AF_INET6, ip, bin) != 1)
			family = AF_UNSPEC;
		else if (memcmp(bin, mapped, sizeof(mapped)) == 0)
			at = bin + sizeof(mapped); /* the IPv4 address inside */
		else
			family = AF_INET6;
	}
	if (family == AF_UNSPEC || inet_ntop(family, at, dst, LOG_RIP_MAX) == NULL)
		snprintf(dst, LOG_RIP_MAX, "unknown");
	return dst;
}

void log_client(const char *event, const char *user, const char *ip, const char *fmt, ...)
{
	char who[LOG_USER_MAX], rip[LOG_RIP_MAX], rest[LOG_LINE_MAX];
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(rest, sizeof(rest), fmt, ap) < 0)
		rest[0] = '\0';
	va_end(ap);
	log_field(who, sizeof(who), user, user != NULL ? strlen(user) : 0);
	errno = saved_errno;
	log_info("%s user=<%s> rip=%s%s", event, who, log_rip(rip, ip), rest);
}
