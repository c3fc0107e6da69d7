/* Character sets to UTF-8 (glibc iconv), and UTF-8 checking/repair.
 *
 * Every function here succeeds on any input: bytes that are not valid in the
 * named charset become U+FFFD, and an unknown charset keeps ASCII bytes and
 * turns every other byte into U+FFFD. The only failure is out-of-memory.
 *
 * Labels are matched case-insensitively, with the aliases mail really uses
 * mapped to the superset a reader expects (as browsers do, WHATWG Encoding):
 * latin1/iso-8859-1 -> windows-1252, gb2312/gbk -> gb18030,
 * big5 -> big5-hkscs, shift_jis -> cp932, euc-kr/ks_c_5601-1987 -> cp949,
 * iso-2022-jp -> iso-2022-jp-2, tis-620 -> cp874; other names go to iconv
 * as given. A label that is empty, "us-ascii", "unknown-8bit" or similar gets
 * the "raw 8-bit" rule: kept if it is valid UTF-8, else read as windows-1252. */
#ifndef PB_CHARSET_H
#define PB_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

/* Longest charset label looked up (the longest IANA name is 45 bytes);
 * longer labels are unknown, which also keeps them away from iconv_open. */
#define CHARSET_NAME_MAX 64

struct mbuf;

/* Converts `len` bytes in `charset` (NUL-terminated label) to UTF-8 in a new
 * malloc'd NUL-terminated string *out_r (length *out_len_r, may be NULL).
 * Returns 1 converted, 0 charset unknown (converted as described above),
 * -1 out of memory (*out_r = NULL). The output is always valid UTF-8; it may
 * contain control characters if the input did. */
int charset_to_utf8(const char *charset, const void *in, size_t len, char **out_r,
		    size_t *out_len_r);

/* The same, appending to a MIME buffer (mime_buf.h); `charset` has a length
 * and need not be NUL-terminated. Returns 1 or 0 as above; out-of-memory is
 * reported by out->failed. */
int charset_append_utf8(struct mbuf *out, const char *charset, size_t charset_len,
			const void *in, size_t len);

/* true if the label names a charset we can convert (an alias, iconv, or the
 * raw 8-bit rule). */
bool charset_is_known(const char *charset);

/* The length of the one well-formed UTF-8 character at `at` (1 for ASCII),
 * or 0 when the bytes there are not one (overlong, surrogate, above
 * U+10FFFF, cut off by `n`). The one UTF-8 decoder of the project. */
size_t charset_utf8_char_len(const void *at, size_t n);
/* The same, but a C1 control (U+0080..U+009F, which some terminals obey)
 * counts as not a character: for names and log text. */
size_t charset_utf8_text_char_len(const void *at, size_t n);

/* true if `len` bytes are well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
bool charset_utf8_valid(const void *in, size_t len);

/* true if `len` bytes are well-formed UTF-8 text a user typed for a
 * header phrase (one line: no control at all) or, with multiline, a body
 * (tab, CR and LF allowed); never DEL or a C1 control (U+0080..U+009F).
 * For identity names and signatures, the out-of-office subject and text. */
bool charset_utf8_text(const char *s, size_t len, bool multiline);

/* true if none of `len` bytes is 8-bit. */
bool charset_ascii(const void *in, size_t len);

/* `src` (NULL as "") as a header field's value on one line, into dst
 * (size bytes, NUL-terminated): every run of controls and spaces becomes
 * one space, none leading or trailing; at most `max` octets, never ending
 * inside a UTF-8 character (other 8-bit bytes are kept). For the fields of the
 * reports the store and the relay write (DSNs, reject notices). */
void charset_one_line(char *dst, size_t size, const char *src, size_t max);

/* Appends `len` bytes to `out`, replacing every ill-formed UTF-8 sequence by
 * U+FFFD (one per bad byte). */
void charset_utf8_repair(struct mbuf *out, const void *in, size_t len);

/* Appends the raw 8-bit rule: valid UTF-8 as is, otherwise windows-1252. */
void charset_append_raw(struct mbuf *out, const void *in, size_t len);

#endif
