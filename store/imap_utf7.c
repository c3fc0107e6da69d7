/* Modified UTF-7: see imap_utf7.h. */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "imap_utf7.h"

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static bool printable(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Appends code point c as UTF-8; false if it does not fit. */
static bool put_utf8(char *out, size_t size, size_t *pos, uint32_t c)
{
	unsigned char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (unsigned char)(0xc0 | c >> 6);
		b[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xe0 | c >> 12);
		b[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | c >> 18);
		b[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	if (*pos + n >= size)
		return false;
	memcpy(out + *pos, b, n);
	*pos += n;
	return true;
}

int imap_utf7_to_utf8(const char *in, size_t len, char *out, size_t size)
{
	size_t i = 0, pos = 0, run_end = (size_t)-1;

	if (size == 0)
		return -1;
	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		/* two encoded runs back to back are one run spelt twice */
		if (c == '&' && i == run_end && !(i + 1 < len && in[i + 1] == '-'))
			return -1;
		if (c != '&') {
			if (!printable(c) || pos + 1 >= size)
				return -1;
			out[pos++] = (char)c;
			i++;
			continue;
		}
		i++;
		if (i < len && in[i] == '-') {
			/* "&-" is '&' */
			if (pos + 1 >= size)
				return -1;
			out[pos++] = '&';
			i++;
			continue;
		}
		/* A run of base64 UTF-16BE up to '-'. */
		uint32_t bits = 0, high = 0;
		unsigned nbits = 0, units = 0;
		for (;;) {
			if (i >= len)
				return -1; /* unterminated */
			unsigned char d = (unsigned char)in[i++];
			if (d == '-')
				break;
			int v = b64value(d);
			if (v < 0)
				return -1;
			bits = bits << 6 | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			uint32_t u = bits >> nbits & 0xffff;
			bits &= (1u << nbits) - 1;
			units++;
			if (high != 0) {
				if (u < 0xdc00 || u > 0xdfff)
					return -1; /* unpaired high surrogate */
				uint32_t cp = 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00);
				high = 0;
				if (!put_utf8(out, size, &pos, cp))
					return -1;
			} else if (u >= 0xd800 && u <= 0xdbff) {
				high = u;
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				return -1; /* lone low surrogate */
			} else {
				/* printable ASCII must not be encoded; controls never */
				if (u < 0x80 || (u >= 0x80 && u < 0xa0))
					return -1;
				if (!put_utf8(out, size, &pos, u))
					return -1;
			}
		}
		if (units == 0 || high != 0 || nbits >= 6 || bits != 0)
			return -1; /* empty run, half a pair, or bad padding */
		run_end = i;
	}
	out[pos] = '\0';
	return (int)pos;
}

/* Reads one UTF-8 character at in[*i]; -1 if malformed. */
static int32_t get_utf8(const unsigned char *in, size_t len, size_t *i)
{
	unsigned char c = in[*i];
	uint32_t cp, min;
	size_t n;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1; cp = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2; cp = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3; cp = c & 0x07; min = 0x10000;
	} else {
		return -1;
	}
	for (size_t k = 1; k <= n; k++) {
		if (*i + k >= len || (in[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (in[*i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	return (int32_t)cp;
}

int imap_utf8_to_utf7(const char *in, size_t len, char *out, size_t size)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i = 0, pos = 0;

	if (size == 0)
		return -1;
	while (i < len) {
		if (u[i] < 0x80) {
			if (!printable(u[i]))
				return -1;
			if (pos + 2 >= size)
				return -1;
			out[pos++] = (char)u[i];
			if (u[i] == '&')
				out[pos++] = '-';
			i++;
			continue;
		}
		/* A run of non-ASCII characters. */
		uint32_t bits = 0;
		unsigned nbits = 0;
		if (pos + 1 >= size)
			return -1;
		out[pos++] = '&';
		while (i < len && u[i] >= 0x80) {
			int32_t cp = get_utf8(u, len, &i);
			if (cp < 0 || (cp >= 0x80 && cp < 0xa0))
				return -1;
			uint16_t units[2];
			int nu = 1;
			if (cp >= 0x10000) {
				units[0] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
				units[1] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
				nu = 2;
			} else {
				units[0] = (uint16_t)cp;
			}
			for (int k = 0; k < nu; k++) {
				bits = bits << 16 | units[k];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					if (pos + 1 >= size)
						return -1;
					out[pos++] = b64chars[bits >> nbits & 0x3f];
				}
				bits &= (1u << nbits) - 1;
			}
		}
		if (nbits > 0) {
			if (pos + 1 >= size)
				return -1;
			out[pos++] = b64chars[bits << (6 - nbits) & 0x3f];
		}
		if (pos + 1 >= size)
			return -1;
		out[pos++] = '-';
	}
	out[pos] = '\0';
	return (int)pos;
}
