/* base64 and quoted-printable, streaming. */
#include "codec.h"

#include <string.h>

static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0-63: value; B64_WS: skipped silently; B64_PAD: '='; B64_BAD: garbage. */
enum { B64_WS = 64, B64_PAD = 65, B64_BAD = 66 };

static unsigned char base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned char)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (unsigned char)(c - '0' + 52);
	switch (c) {
	case '+':
		return 62;
	case '/':
		return 63;
	case '=':
		return B64_PAD;
	case ' ':
	case '\t':
	case '\r':
	case '\n':
		return B64_WS;
	default:
		return B64_BAD;
	}
}

void base64_decoder_init(struct base64_decoder *dec)
{
	memset(dec, 0, sizeof(*dec));
}

size_t base64_decode_update(struct base64_decoder *dec, const void *in, size_t len, void *out)
{
	const unsigned char *p = in;
	unsigned char *o = out;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char v = base64_value(p[i]);
		if (v < 64) {
			if (dec->padded) {
				/* data after padding: a new, concatenated quantum */
				dec->padded = false;
				dec->quantum = 0;
				dec->bits = 0;
				dec->nbits = 0;
			}
			dec->bits = (dec->bits << 6) | v;
			dec->nbits += 6;
			if (dec->nbits >= 8) {
				dec->nbits -= 8;
				o[n++] = (unsigned char)(dec->bits >> dec->nbits);
				dec->bits &= (1u << dec->nbits) - 1;
			}
			dec->quantum = (dec->quantum + 1) & 3;
		} else if (v == B64_PAD) {
			if (!dec->padded) {
				if (dec->quantum == 1)
					dec->bad_end = true;
				else if (dec->quantum == 0)
					dec->garbage++; /* '=' where no quantum is open */
				dec->padded = true;
				dec->bits = 0;
				dec->nbits = 0;
			}
		} else if (v == B64_BAD) {
			dec->garbage++;
		}
	}
	return n;
}

int base64_decode_finish(struct base64_decoder *dec)
{
	if (!dec->padded && dec->quantum == 1)
		dec->bad_end = true;
	return dec->garbage == 0 && !dec->bad_end ? 1 : 0;
}

size_t base64_decode(const void *in, size_t len, void *out, bool *clean_r)
{
	struct base64_decoder dec;
	base64_decoder_init(&dec);
	size_t n = base64_decode_update(&dec, in, len, out);
	int clean = base64_decode_finish(&dec);
	if (clean_r != NULL)
		*clean_r = clean == 1;
	return n;
}

void base64_encoder_init(struct base64_encoder *enc, size_t line_max)
{
	memset(enc, 0, sizeof(*enc));
	if (line_max > 0)
		line_max = line_max < 4 ? 4 : line_max / 4 * 4;
	enc->line_max = line_max;
}

static size_t base64_put_quantum(struct base64_encoder *enc, const unsigned char q[3], unsigned n,
				 char *out)
{
	size_t o = 0;
	if (enc->line_max > 0 && enc->col >= enc->line_max) {
		out[o++] = '\r';
		out[o++] = '\n';
		enc->col = 0;
	}
	uint32_t v = (uint32_t)q[0] << 16 | (uint32_t)(n > 1 ? q[1] : 0) << 8 | (n > 2 ? q[2] : 0);
	out[o++] = base64_alphabet[(v >> 18) & 63];
	out[o++] = base64_alphabet[(v >> 12) & 63];
	out[o++] = n > 1 ? base64_alphabet[(v >> 6) & 63] : '=';
	out[o++] = n > 2 ? base64_alphabet[v & 63] : '=';
	enc->col += 4;
	return o;
}

size_t base64_encode_update(struct base64_encoder *enc, const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		enc->pending[enc->npending++] = p[i];
		if (enc->npending == 3) {
			o += base64_put_quantum(enc, enc->pending, 3, out + o);
			enc->npending = 0;
		}
	}
	return o;
}

size_t base64_encode_finish(struct base64_encoder *enc, char *out)
{
	size_t o = 0;
	if (enc->npending > 0) {
		o += base64_put_quantum(enc, enc->pending, enc->npending, out);
		enc->npending = 0;
	}
	if (enc->line_max > 0 && enc->col > 0) {
		out[o++] = '\r';
		out[o++] = '\n';
		enc->col = 0;
	}
	return o;
}

size_t base64_encode(const void *in, size_t len, size_t line_max, char *out)
{
	struct base64_encoder enc;
	base64_encoder_init(&enc, line_max);
	size_t n = base64_encode_update(&enc, in, len, out);
	return n + base64_encode_finish(&enc, out + n);
}

/* ------------------------------------------------------- quoted-printable */

enum qp_state {
	QP_TEXT,   /* nothing pending */
	QP_WS,     /* pending: whitespace */
	QP_CR,     /* pending: [whitespace] CR */
	QP_EQ,     /* pending: "=" */
	QP_EQ_HEX, /* pending: "=X" */
	QP_EQ_WS,  /* pending: "=" whitespace */
	QP_EQ_CR,  /* pending: "=" [whitespace] CR */
};

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void qp_decoder_init(struct qp_decoder *dec)
{
	memset(dec, 0, sizeof(*dec));
	dec->state = QP_TEXT;
}

/* Writes the pending bytes literally. */
static size_t qp_flush(struct qp_decoder *dec, unsigned char *out)
{
	size_t n = dec->npending;
	if (n > 0 && dec->pending[0] == '=')
		dec->malformed++;
	memcpy(out, dec->pending, n);
	dec->npending = 0;
	dec->state = QP_TEXT;
	return n;
}

static void qp_hold(struct qp_decoder *dec, unsigned char c, enum qp_state state)
{
	dec->pending[dec->npending++] = c;
	dec->state = state;
}

size_t qp_decode_update(struct qp_decoder *dec, const void *in, size_t len, void *out)
{
	const unsigned char *p = in;
	unsigned char *o = out;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		bool ws = c == ' ' || c == '\t';
	again:
		switch ((enum qp_state)dec->state) {
		case QP_TEXT:
			if (c == '=')
				qp_hold(dec, c, QP_EQ);
			else if (ws)
				qp_hold(dec, c, QP_WS);
			else if (c == '\r')
				qp_hold(dec, c, QP_CR);
			else
				o[n++] = c;
			break;
		case QP_WS:
			if (ws) {
				if (dec->npending >= QP_PENDING_MAX)
					n += qp_flush(dec, o + n); /* too long to be padding */
				qp_hold(dec, c, QP_WS);
			} else if (c == '\r') {
				qp_hold(dec, c, QP_CR);
			} else if (c == '\n') {
				dec->npending = 0; /* trailing whitespace: deleted */
				dec->state = QP_TEXT;
				o[n++] = c;
			} else {
				n += qp_flush(dec, o + n);
				goto again;
			}
			break;
		case QP_CR:
			if (c == '\n') {
				dec->npending = 0;
				dec->state = QP_TEXT;
				o[n++] = '\r';
				o[n++] = '\n';
			} else {
				n += qp_flush(dec, o + n); /* a bare CR is data */
				goto again;
			}
			break;
		case QP_EQ:
			if (hex_value(c) >= 0) {
				qp_hold(dec, c, QP_EQ_HEX);
			} else if (ws) {
				qp_hold(dec, c, QP_EQ_WS);
			} else if (c == '\r') {
				qp_hold(dec, c, QP_EQ_CR);
			} else if (c == '\n') {
				dec->npending = 0; /* soft line break */
				dec->state = QP_TEXT;
			} else {
				n += qp_flush(dec, o + n);
				goto again;
			}
			break;
		case QP_EQ_HEX:
			if (hex_value(c) >= 0) {
				o[n++] = (unsigned char)(hex_value(dec->pending[1]) << 4 | hex_value(c));
				dec->npending = 0;
				dec->state = QP_TEXT;
			} else {
				n += qp_flush(dec, o + n);
				goto again;
			}
			break;
		case QP_EQ_WS:
			if (ws && dec->npending < QP_PENDING_MAX) {
				qp_hold(dec, c, QP_EQ_WS);
			} else if (c == '\r') {
				qp_hold(dec, c, QP_EQ_CR);
			} else if (c == '\n') {
				dec->npending = 0;
				dec->state = QP_TEXT;
			} else {
				n += qp_flush(dec, o + n);
				goto again;
			}
			break;
		case QP_EQ_CR:
			if (c == '\n') {
				dec->npending = 0;
				dec->state = QP_TEXT;
			} else {
				n += qp_flush(dec, o + n);
				goto again;
			}
			break;
		}
	}
	return n;
}

size_t qp_decode_finish(struct qp_decoder *dec, void *out)
{
	size_t n = 0;
	switch ((enum qp_state)dec->state) {
	case QP_WS:   /* trailing whitespace of the last line */
	case QP_EQ:   /* "=" at the very end: a soft break */
	case QP_EQ_WS:
	case QP_EQ_CR:
		break;
	case QP_CR:
	case QP_EQ_HEX:
		n = qp_flush(dec, out);
		break;
	case QP_TEXT:
		break;
	}
	dec->npending = 0;
	dec->state = QP_TEXT;
	return n;
}

size_t qp_decode(const void *in, size_t len, void *out, size_t *malformed_r)
{
	struct qp_decoder dec;
	qp_decoder_init(&dec);
	size_t n = qp_decode_update(&dec, in, len, out);
	n += qp_decode_finish(&dec, (unsigned char *)out + n);
	if (malformed_r != NULL)
		*malformed_r = dec.malformed;
	return n;
}

void qp_encoder_init(struct qp_encoder *enc, bool binary)
{
	memset(enc, 0, sizeof(*enc));
	enc->pend_ws = -1;
	enc->binary = binary;
}

/* Writes one token of 1 or 3 characters, preceded by a soft break if the line
 * would grow past QP_LINE_MAX. */
static size_t qp_put(struct qp_encoder *enc, unsigned char c, bool encode, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, w = encode ? 3 : 1;
	if (enc->col + w > QP_LINE_MAX) {
		out[o++] = '=';
		out[o++] = '\r';
		out[o++] = '\n';
		enc->col = 0;
	}
	if (encode) {
		out[o++] = '=';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	} else {
		out[o++] = (char)c;
	}
	enc->col += w;
	return o;
}

size_t qp_encode_update(struct qp_encoder *enc, const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		bool line_end = !enc->binary && (c == '\r' || c == '\n');
		if (enc->pend_cr) {
			enc->pend_cr = false;
			if (c == '\n') {
				out[o++] = '\r';
				out[o++] = '\n';
				enc->col = 0;
				continue;
			}
			o += qp_put(enc, '\r', true, out + o); /* a bare CR */
		}
		if (enc->pend_ws >= 0) {
			/* whitespace before a line end would be deleted: encode it */
			o += qp_put(enc, (unsigned char)enc->pend_ws, line_end, out + o);
			enc->pend_ws = -1;
		}
		if (!enc->binary && c == '\r') {
			enc->pend_cr = true;
		} else if (!enc->binary && c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			enc->col = 0;
		} else if (c == ' ' || c == '\t') {
			enc->pend_ws = c;
		} else {
			o += qp_put(enc, c, c < 33 || c > 126 || c == '=', out + o);
		}
	}
	return o;
}

size_t qp_encode_finish(struct qp_encoder *enc, char *out)
{
	size_t o = 0;
	if (enc->pend_cr)
		o += qp_put(enc, '\r', true, out + o);
	else if (enc->pend_ws >= 0)
		o += qp_put(enc, (unsigned char)enc->pend_ws, true, out + o);
	enc->pend_cr = false;
	enc->pend_ws = -1;
	return o;
}

size_t qp_encode(const void *in, size_t len, bool binary, char *out)
{
	struct qp_encoder enc;
	qp_encoder_init(&enc, binary);
	size_t n = qp_encode_update(&enc, in, len, out);
	return n + qp_encode_finish(&enc, out + n);
}

size_t xtext_encode(const void *in, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = in;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 33 || p[i] > 126 || p[i] == '+' || p[i] == '=') {
			out[o++] = '+';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 15];
		} else {
			out[o++] = (char)p[i];
		}
	}
	return o;
}
