/* RFC 2047 encoded words in header values ("=?charset?B|Q?text?=").
 *
 * Decoding is for display (webmail, summaries, sorting): it never fails and
 * always produces valid UTF-8 without control characters. Encoding is for
 * headers Pillarbox writes (webmail compose, bounces). */
#ifndef PB_RFC2047_H
#define PB_RFC2047_H

#include <stdbool.h>
#include <stddef.h>

/* Longest encoded word we write: RFC 2047 section 2 limit. */
#define RFC2047_WORD_MAX 75
/* Longest line of a header field holding encoded words (section 2). */
#define RFC2047_LINE_MAX 76

struct mbuf;

/* Decodes a header value (folded or not) into a new malloc'd NUL-terminated
 * UTF-8 string *out_r (length *out_len_r, may be NULL):
 *  - B and Q encoded words in any charset (charset.h; "charset*lang" too),
 *    found anywhere in the value, also inside quoted strings and words;
 *  - whitespace between two adjacent encoded words is dropped, and adjacent
 *    words in the same charset are joined before conversion (so a character
 *    split across two words survives);
 *  - an unknown charset keeps ASCII and gives U+FFFD for other bytes; a
 *    malformed encoded word is kept literally;
 *  - text outside encoded words: kept if the whole value is valid UTF-8,
 *    otherwise read as windows-1252 (raw 8-bit headers);
 *  - line breaks are unfolded; other control characters become spaces.
 * Runs in time linear in len. Returns 1, or -1 out of memory (*out_r NULL). */
int rfc2047_decode(const char *in, size_t len, char **out_r, size_t *out_len_r);

/* The same, appending to a MIME buffer (mime_buf.h); out-of-memory is
 * reported by out->failed. */
void rfc2047_decode_append(struct mbuf *out, const char *in, size_t len);

/* Encodes UTF-8 text for an unstructured header or (`phrase`) a
 * display-name phrase, written from column `col` of its line (after
 * "Subject: ", 9). Text that is printable ASCII (and contains no "=?") is
 * copied unchanged but for folds at blanks that keep its lines within
 * RFC2047_LINE_MAX. Otherwise the stretch from the first to the last word
 * that needs it (in a phrase: every word that is not an atom, as a quoted
 * string may not hold encoded words; anywhere: a word too long for a line)
 * is written as UTF-8 encoded words ("Q" for mostly-ASCII text, else "B"),
 * each at most RFC2047_WORD_MAX characters, never splitting a character,
 * separated by "\r\n " folds, and the words around it are folded too, so
 * that no line passes RFC2047_LINE_MAX; the Q form uses only characters
 * allowed in a phrase (RFC 2047 section 5(3)). Invalid UTF-8 input is
 * repaired first. The result never contains a bare CR or LF. Returns 1, or
 * -1 out of memory. */
int rfc2047_encode(const char *in, size_t len, size_t col, bool phrase, char **out_r,
		   size_t *out_len_r);

#endif
