/* reject's and ereject's reason (RFC 5429): the text the result keeps and
 * the one line an SMTP reply gives of it. The reason comes from a user's
 * script, and with variables from the message itself, so both are cleaned
 * here before anything else sees them (SECURITY.md 8). */
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "sieve_int.h"

char *sieve_reject_reason(const char *s, size_t len)
{
	char *out = malloc((len < SIEVE_REJECT_MAX ? len : SIEVE_REJECT_MAX) + 1);
	size_t n = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n') {
			/* CRLF, a lone CR and a lone LF are each one LF */
			i += c == '\r' && i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
			if (n + 1 > SIEVE_REJECT_MAX)
				break;
			out[n++] = '\n';
			continue;
		}
		size_t cl = c == '\t' ? 1 : charset_utf8_text_char_len(s + i, len - i);
		if (cl == 0 || (cl == 1 && c != '\t' && (c < 0x20 || c == 0x7f))) {
			i++;   /* a control or no UTF-8: left out */
			continue;
		}
		if (n + cl > SIEVE_REJECT_MAX)
			break;   /* cut before the character that does not fit */
		memcpy(out + n, s + i, cl);
		n += cl;
		i += cl;
	}
	out[n] = '\0';
	return out;
}

char *sieve_reject_line(const char *reason, char out[SIEVE_REJECT_LINE_MAX + 1])
{
	size_t n = 0, len = reason != NULL ? strlen(reason) : 0;
	bool space = false;
	for (size_t i = 0; i < len && n < SIEVE_REJECT_LINE_MAX;) {
		unsigned char c = (unsigned char)reason[i];
		size_t cl = c < 0x80 ? 1 : charset_utf8_char_len(reason + i, len - i);
		i += cl > 0 ? cl : 1;
		if (c <= ' ' || c == 0x7f) {
			space = n > 0;
			continue;
		}
		if (space) {
			if (n + 2 > SIEVE_REJECT_LINE_MAX)
				break;
			out[n++] = ' ';
			space = false;
		}
		out[n++] = c < 0x80 ? (char)c : '?';
	}
	if (n == 0) {
		static const char fallback[] = "Message rejected";
		memcpy(out, fallback, sizeof(fallback));
		return out;
	}
	out[n] = '\0';
	return out;
}
