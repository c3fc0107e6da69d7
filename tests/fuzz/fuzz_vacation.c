/* libFuzzer harness for the out-of-office rules and reply (store/vacation.h).
 * The input is an envelope sender (its first line), the original's decoded
 * subject (the second line) and a received message's header (the rest).
 * vacation_decide must give a verdict without reading past the header; a
 * reply it allows must be a message whose header holds exactly the fields
 * vacation_reply_build writes, each once, every line ended by CRLF: nothing
 * of the hostile header, sender or subject may add a field of its own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vacation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = {
	"Date", "From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
	"Auto-Submitted", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* A piece of the input as a string (NUL bytes end it early). */
static char *piece(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl != NULL ? nl : end) - *p);
	char *s = malloc(n + 1);
	if (s == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl != NULL ? nl + 1 : end;
	return s;
}

static void check_reply(const char *reply, size_t len)
{
	unsigned seen[NFIELDS] = { 0 };
	size_t at = 0;
	for (;;) {
		const char *eol = memchr(reply + at, '\n', len - at);
		if (eol == NULL || eol == reply + at || eol[-1] != '\r')
			abort();   /* every header line ends with CRLF */
		size_t n = (size_t)(eol - (reply + at)) - 1;
		if (n == 0)
			break;     /* the blank line: the body follows */
		if (reply[at] != ' ' && reply[at] != '\t') {
			const char *colon = memchr(reply + at, ':', n);
			size_t i = 0;
			while (colon != NULL && i < NFIELDS &&
			       (strlen(fields[i]) != (size_t)(colon - (reply + at)) ||
				strncasecmp(fields[i], reply + at, strlen(fields[i])) != 0))
				i++;
			if (colon == NULL || i == NFIELDS || ++seen[i] > 1)
				abort();   /* a field we do not write, or one twice */
		}
		at = (size_t)(eol - reply) + 1;
	}
	for (size_t i = 0; i < NFIELDS; i++)
		if (seen[i] == 0 && strcmp(fields[i], "In-Reply-To") != 0 &&
		    strcmp(fields[i], "References") != 0)
			abort();   /* a field every reply carries is missing */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const own[] = { "bob@example.com", "Bob.Alias@Example.com" };
	const uint8_t *p = data, *end = data + size;
	char *sender = piece(&p, end), *subject = piece(&p, end);
	size_t hlen = (size_t)(end - p);
	char *header = malloc(hlen + 1);   /* exactly the bytes: ASan sees an overread */
	if (header == NULL)
		abort();
	memcpy(header, p, hlen);
	header[hlen] = '\0';
	enum vacation_verdict v = vacation_decide(sender, header, hlen, true, own, 2, "+");
	if (vacation_verdict_name(v) == NULL)
		abort();
	if (v == VACATION_REPLY) {
		struct vacation_reply_input in = {
			/* the setting's subject is checked when saved; the original's
			 * (decoded: it may hold CR LF) is not */
			.from = own[0], .to = sender, .subject = NULL, .orig_subject = subject,
			.text = "Away.\nBack on Monday.", .header = header, .header_len = hlen,
			.now = 1700000000, .msgid_left = "vacation.0123", .msgid_domain = "example.com",
		};
		char *reply;
		size_t len;
		if (vacation_reply_build(&in, &reply, &len) == 1) {
			check_reply(reply, len);
			free(reply);
		}
	}
	free(header);
	free(sender);
	free(subject);
	return 0;
}
