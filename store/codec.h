/* Content transfer codecs: base64 (RFC 2045 6.8, RFC 4648) and
 * quoted-printable (RFC 2045 6.7). Pure functions over bytes, no allocation.
 *
 * Each codec is a small state struct that can be fed any split of its input
 * (one byte at a time gives the same output as the whole buffer), plus a
 * one-shot helper. The caller provides the output buffer; the *_MAX macros
 * give its size for an input of n bytes (n at most CODEC_INPUT_MAX, so the
 * arithmetic cannot overflow). Nothing is ever read or written past the given
 * lengths. Decoders never fail: they decode what they can, keep or skip what
 * they cannot, and report it. */
#ifndef PB_CODEC_H
#define PB_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest input a single update call may be given: keeps the *_MAX size
 * computations below far from SIZE_MAX. Feed longer input in pieces. */
#define CODEC_INPUT_MAX ((size_t)1 << 40)

/* ------------------------------------------------------------------ base64 */

/* Output room for decoding n bytes of base64 text (any split). */
#define BASE64_DECODED_MAX(n) ((n) / 4 * 3 + 3)
/* Output room for encoding n bytes, including line breaks when line_max is 0
 * or at least 4, and for what base64_encode_finish writes. */
#define BASE64_ENCODED_MAX(n) (((n) / 3 + 2) * 6 + 2)
/* The MIME line length (RFC 2045: at most 76 characters per line). */
#define BASE64_MIME_LINE 76

struct base64_decoder {
	uint32_t bits;    /* private: bits not yet output */
	unsigned nbits;   /* private */
	unsigned quantum; /* private: alphabet characters in the current quantum, 0-3 */
	bool padded;      /* private: '=' seen in the current quantum */
	size_t garbage;   /* bytes that were neither alphabet, '=' nor whitespace (skipped) */
	bool bad_end;     /* a quantum ended with a lone character (6 bits, no byte) */
};

void base64_decoder_init(struct base64_decoder *dec);
/* Decodes `len` bytes. Whitespace and line breaks are skipped, other
 * non-alphabet bytes are skipped and counted in dec->garbage; '=' ends a
 * quantum and decoding goes on after it (concatenated base64). Missing final
 * padding is accepted. Writes at most BASE64_DECODED_MAX(len) bytes; returns
 * the number written. */
size_t base64_decode_update(struct base64_decoder *dec, const void *in, size_t len, void *out);
/* Ends the input. Returns 1 if everything was clean base64, 0 if garbage or a
 * truncated quantum was seen (the output is still the best reading). */
int base64_decode_finish(struct base64_decoder *dec);
/* One shot: decodes into out (room BASE64_DECODED_MAX(len)), returns bytes
 * written; *clean_r (may be NULL) as base64_decode_finish. */
size_t base64_decode(const void *in, size_t len, void *out, bool *clean_r);

struct base64_encoder {
	unsigned char pending[3]; /* private */
	unsigned npending;        /* private */
	size_t line_max;          /* private: 0 = one line */
	size_t col;               /* private */
};

/* line_max: characters per line (CRLF after each), 0 for no line breaks. A
 * value that is not a multiple of 4 is rounded down (minimum 4). */
void base64_encoder_init(struct base64_encoder *enc, size_t line_max);
/* Returns the number of characters written (at most BASE64_ENCODED_MAX(len)). */
size_t base64_encode_update(struct base64_encoder *enc, const void *in, size_t len, char *out);
/* Writes the last quantum with padding and, with line breaks on, the final
 * CRLF (every line ends in CRLF). At most 8 characters. */
size_t base64_encode_finish(struct base64_encoder *enc, char *out);
/* One shot into out (room BASE64_ENCODED_MAX(len)); returns characters
 * written. Not NUL-terminated. */
size_t base64_encode(const void *in, size_t len, size_t line_max, char *out);

/* -------------------------------------------------------- quoted-printable */

/* Trailing whitespace is held back until the decoder knows whether a line end
 * follows (RFC 2045 rule 3: it is then padding and deleted). A run longer
 * than an RFC line (76 characters) cannot be padding and is passed through. */
#define QP_PENDING_MAX 80

/* Output room for decoding n bytes (any split), and for qp_decode_finish. */
#define QP_DECODED_MAX(n) ((n) + QP_PENDING_MAX + 3)
/* Output room for encoding n bytes, and for qp_encode_finish. */
#define QP_ENCODED_MAX(n) ((n) * 4 + 8)
/* Characters before a soft line break: the '=' makes it 76 (RFC 2045). */
#define QP_LINE_MAX 75

struct qp_decoder {
	unsigned state;                           /* private */
	unsigned char pending[QP_PENDING_MAX + 3]; /* private */
	size_t npending;                          /* private */
	size_t malformed; /* '=' not starting "=XY" or a soft break: kept literally */
};

void qp_decoder_init(struct qp_decoder *dec);
/* Decodes `len` bytes: "=XY" (upper- or lowercase hex) becomes the byte,
 * '=' before a line end (after optional whitespace) is a soft break and
 * vanishes, whitespace before a line end is deleted, any other '=' is kept
 * as it is. Line ends (CRLF or LF) are kept as given. Writes at most
 * QP_DECODED_MAX(len) bytes; returns the number written. */
size_t qp_decode_update(struct qp_decoder *dec, const void *in, size_t len, void *out);
/* Ends the input (a final '=' is a soft break); returns bytes written. */
size_t qp_decode_finish(struct qp_decoder *dec, void *out);
/* One shot into out (room QP_DECODED_MAX(len)); returns bytes written;
 * *malformed_r (may be NULL) counts literal '='s. */
size_t qp_decode(const void *in, size_t len, void *out, size_t *malformed_r);

struct qp_encoder {
	size_t col;    /* private */
	int pend_ws;   /* private: a space or tab held back, or -1 */
	bool pend_cr;  /* private */
	bool binary;   /* private */
};

/* binary = false: text, line ends (CRLF or bare LF) become CRLF hard breaks;
 * binary = true: every CR and LF is encoded (=0D, =0A). */
void qp_encoder_init(struct qp_encoder *enc, bool binary);
/* Lines of at most 76 characters (soft breaks "=\r\n"); '=' and bytes outside
 * 33-126 are encoded, space and tab only at a line end. Returns characters
 * written (at most QP_ENCODED_MAX(len)). */
size_t qp_encode_update(struct qp_encoder *enc, const void *in, size_t len, char *out);
/* Flushes a held-back space/tab or CR; at most 6 characters. */
size_t qp_encode_finish(struct qp_encoder *enc, char *out);
/* One shot into out (room QP_ENCODED_MAX(len)); returns characters written. */
size_t qp_encode(const void *in, size_t len, bool binary, char *out);

/* ------------------------------------------------------------------ xtext */

/* Output room for encoding n bytes as xtext. */
#define XTEXT_ENCODED_MAX(n) ((n) * 3)
/* RFC 3461 4: the xtext of the ENVID and ORCPT parameters: '+', '=' and
 * every byte outside 33..126 as "+HH" (upper-case hex), others as they
 * are. Writes into out (room XTEXT_ENCODED_MAX(len), no NUL added);
 * returns characters written. */
size_t xtext_encode(const void *in, size_t len, char *out);

#endif
