/* The SMTP DATA reader as a pure state machine (RFC 5321 §4.1.1.4, §4.5.2):
 * bytes from the client in, the message out, never blocking: when the
 * input runs out it says "need more" and keeps its state, so the same code
 * is fed whole chunks by smtpd, one byte at a time by the unit tests, and
 * anything at all by the fuzzer.
 *
 *  - CRLF is the only line ending. A bare CR or bare LF anywhere marks the
 *    message as refused (bare_cr / bare_lf); the reader goes on to find the
 *    end so the session stays in step, but the caller stores nothing. So
 *    does a NUL byte (nul): 7bit and 8BITMIME data hold none (RFC 2045
 *    2.7-2.8, RFC 6152), only BINARYMIME's BDAT may, which we do not offer.
 *  - The end of data is recognised only as CRLF "." CRLF (the first CRLF
 *    may be the one that ended the DATA command line, hence the reader
 *    starts at the beginning of a line).
 *  - A line starting with "." has that dot removed (dot-unstuffing).
 *  - After a bare CR or LF, a line "." ended by a bare CR or LF (the
 *    "<LF>.<LF>", "<CR>.<CR>" SMTP smuggling shapes) is reported as
 *    SMTP_DATA_LOOSE_END: the client believes the data ended where we do
 *    not, so whatever follows may be commands another server would have
 *    read differently. The only safe answer is to refuse and hang up.
 *
 * BDAT (RFC 3030) uses the same machine in its counted framing
 * (smtp_data_init_counted): the client counts the octets, so there is no
 * end marker and no dot-unstuffing, and a chunk may end anywhere (inside a
 * CRLF too). The rules for the stored message stay: CRLF only, no NUL (we
 * offer CHUNKING, not BINARYMIME), and a line-length cap, which in DATA is
 * conn's job (it reads line by line) but here falls to the machine. */
#ifndef PB_SMTP_DATA_H
#define PB_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smtp_data_status {
	SMTP_DATA_MORE = 0,      /* every input byte consumed: feed more */
	SMTP_DATA_END = 1,       /* CRLF.CRLF: *consumed_r ends right after it */
	SMTP_DATA_LOOSE_END = 2, /* a smuggling-shaped end after a bare CR/LF */
};

struct smtp_data {
	int state;               /* private */
	bool bare_cr;            /* a CR not followed by LF was seen */
	bool bare_lf;            /* a LF not preceded by CR was seen */
	bool nul;                /* a NUL byte was seen */
	bool long_line;          /* counted: a line past line_max was seen */
	uint64_t octets;         /* message bytes produced so far */
	bool counted;            /* private: BDAT's framing */
	size_t line_max;         /* private: counted, the longest line (no CRLF) */
	size_t line_len;         /* private: counted, bytes of the current line */
};

/* DATA's framing: dot-stuffed, ended by CRLF "." CRLF. */
void smtp_data_init(struct smtp_data *data);
/* BDAT's framing: octets taken as they are, lines of at most line_max
 * bytes before their CRLF; smtp_data_parse never returns END, the caller
 * knows where the message ends and then calls smtp_data_finish. */
void smtp_data_init_counted(struct smtp_data *data, size_t line_max);

/* Consumes in[0..len) (stopping right after the end of data), writing the
 * unstuffed message to out, which must have room for len + 1 bytes (a CR
 * held back at the end of one call is written with the LF of the next).
 * *out_len_r receives the bytes written, *consumed_r the input bytes used
 * (len unless the end was found). Once END or LOOSE_END has been returned
 * the state is final: init again for the next message. */
enum smtp_data_status smtp_data_parse(struct smtp_data *data, const char *in, size_t len,
				      char *out, size_t *out_len_r, size_t *consumed_r);

/* Counted framing, after the last chunk: a CR held back is a bare CR; a
 * last line without its CRLF gets one (written to out, room for 2 bytes;
 * RFC 5322 mail ends with CRLF, as DATA's always does). *out_len_r: the
 * bytes written. */
void smtp_data_finish(struct smtp_data *data, char *out, size_t *out_len_r);

/* true when the message may be stored: no bare CR or LF, no NUL. */
static inline bool smtp_data_clean(const struct smtp_data *data)
{
	return !data->bare_cr && !data->bare_lf && !data->nul;
}

#endif
