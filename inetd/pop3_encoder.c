/* The RETR/TOP encoder: bare LF sent as CRLF, lines starting with '.'
 * dot-stuffed (RFC 1939 section 3), TOP's header/body cut. A pure function
 * over chunks, so any split of the message gives the same bytes. */
#include <config.h>

#include <string.h>

#include "pop3.h"

void pop3_encoder_init(struct pop3_encoder *enc, int64_t max_body_lines)
{
	memset(enc, 0, sizeof(*enc));
	enc->at_bol = true;
	enc->lines_left = max_body_lines;
}

/* A line ended (its LF is out): track the header/body boundary for TOP. */
static void pop3_encoder_line_end(struct pop3_encoder *enc, bool empty)
{
	if (enc->lines_left < 0)
		return;
	if (!enc->in_body) {
		if (empty) {
			enc->in_body = true;
			if (enc->lines_left == 0)
				enc->done = true;
		}
		return;
	}
	if (--enc->lines_left == 0)
		enc->done = true;
}

/* Line by line: memchr finds the LF and the text before it is copied in
 * one go, so the cost is per line, not per byte. */
size_t pop3_encoder_run(struct pop3_encoder *enc, const char *in, size_t len, char *out)
{
	const char *p = in, *end = in + len;
	char *o = out;

	while (p < end && !enc->done) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t run = (size_t)((lf != NULL ? lf : end) - p);

		if (enc->at_bol && run > 0 && *p == '.')
			*o++ = '.';
		if (run > 0) {
			memcpy(o, p, run);
			o += run;
			enc->octets += run;
			enc->line_bytes += run;
			enc->last_cr = p[run - 1] == '\r';
			enc->at_bol = false;
			p += run;
		}
		if (lf == NULL)
			break;
		/* the LF: CR first if it is bare */
		bool empty = enc->line_bytes == 0 || (enc->line_bytes == 1 && enc->last_cr);

		if (!enc->last_cr) {
			*o++ = '\r';
			enc->octets++;
		}
		*o++ = '\n';
		enc->octets++;
		p++;
		enc->at_bol = true;
		enc->last_cr = false;
		enc->line_bytes = 0;
		pop3_encoder_line_end(enc, empty);
	}
	return (size_t)(o - out);
}

size_t pop3_encoder_finish(struct pop3_encoder *enc, char *out)
{
	char *o = out;

	if (!enc->at_bol && !enc->done) {
		if (!enc->last_cr)
			*o++ = '\r';
		*o++ = '\n';
	}
	memcpy(o, ".\r\n", 3);
	return (size_t)(o - out) + 3;
}
