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

size_t pop3_encoder_run(struct pop3_encoder *enc, const char *in, size_t len, char *out)
{
	char *o = out;

	for (size_t i = 0; i < len && !enc->done; i++) {
		char c = in[i];

		if (c == '\n') {
			bool empty = enc->line_bytes == 0 || (enc->line_bytes == 1 && enc->last_cr);

			if (!enc->last_cr) {
				*o++ = '\r';
				enc->octets++;
			}
			*o++ = '\n';
			enc->octets++;
			enc->at_bol = true;
			enc->last_cr = false;
			enc->line_bytes = 0;
			pop3_encoder_line_end(enc, empty);
			continue;
		}
		if (enc->at_bol && c == '.')
			*o++ = '.';
		*o++ = c;
		enc->octets++;
		enc->at_bol = false;
		enc->last_cr = c == '\r';
		enc->line_bytes++;
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
