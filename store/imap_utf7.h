/* Modified UTF-7 for IMAP mailbox names (RFC 3501 section 5.1.3), to and
 * from UTF-8. Strict both ways: what one side produces the other accepts,
 * and every name has exactly one encoding (no needlessly encoded printable
 * ASCII, no non-zero padding bits, no unpaired surrogates, no control
 * characters), so two spellings can never name one mailbox. */
#ifndef PB_IMAP_UTF7_H
#define PB_IMAP_UTF7_H

#include <stddef.h>

/* Bytes needed to encode a UTF-8 name of n bytes (each 4-byte character
 * becomes a surrogate pair: 4 bytes -> 32 bits -> at most 6 base64
 * characters, plus '&' and '-' per run), with the NUL. */
#define IMAP_UTF7_MAX(n) ((n) * 3 + 3)

/* Decodes modified UTF-7 `in` (len bytes) into out (size bytes, always
 * NUL-terminated on success). Returns the length written, or -1 if the input
 * is not valid modified UTF-7 or does not fit. */
int imap_utf7_to_utf8(const char *in, size_t len, char *out, size_t size);

/* Encodes UTF-8 `in` into modified UTF-7. Returns the length written, or -1
 * if the input is not valid UTF-8 (or holds control characters) or does not
 * fit. */
int imap_utf8_to_utf7(const char *in, size_t len, char *out, size_t size);

#endif
