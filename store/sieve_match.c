/* Sieve comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric)
 * and match types (RFC 5228 2.7: :is, :contains, :matches; RFC 5231:
 * :value). :matches runs in O(n*m): a "*" only remembers where it was, and
 * a mismatch goes back to the last one, never further; :contains in
 * O(n+m). */
#include <string.h>

#include "charset.h"
#include "sieve_int.h"

static unsigned char fold(enum sieve_cmp cmp, unsigned char c)
{
	return cmp == CMP_CASEMAP && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* i;ascii-numeric: the leading digits as a number of any size; a value not
 * starting with a digit is positive infinity (RFC 4790 9.1.1). */
static int numeric_order(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t an = 0, bn = 0;
	while (an < alen && a[an] >= '0' && a[an] <= '9')
		an++;
	while (bn < blen && b[bn] >= '0' && b[bn] <= '9')
		bn++;
	if (an == 0 || bn == 0)
		return (an == 0) - (bn == 0);
	while (an > 1 && *a == '0')
		a++, an--;
	while (bn > 1 && *b == '0')
		b++, bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	int r = memcmp(a, b, an);
	return (r > 0) - (r < 0);
}

static int order(enum sieve_cmp cmp, const char *a, size_t alen, const char *b, size_t blen)
{
	if (cmp == CMP_NUMERIC)
		return numeric_order(a, alen, b, blen);
	for (size_t i = 0; i < alen && i < blen; i++) {
		unsigned char x = fold(cmp, (unsigned char)a[i]), y = fold(cmp, (unsigned char)b[i]);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return (alen > blen) - (alen < blen);
}

/* Knuth-Morris-Pratt over folded octets: a key like "aaa...ab" against a
 * value of "a"s costs vlen + klen comparisons, not vlen * klen, which is
 * what the run's work budget charges for it. */
static bool contains(enum sieve_cmp cmp, const char *v, size_t vlen, const char *k, size_t klen)
{
	uint16_t back[SIEVE_STRING_MAX]; /* longest proper border of k[0..i] */
	if (klen > vlen)
		return false;
	if (klen == 0)
		return true;
	if (klen > SIEVE_STRING_MAX || cmp == CMP_NUMERIC) {
		/* no script key is this long, and numeric cannot :contains */
		for (size_t i = 0; i + klen <= vlen; i++)
			if (order(cmp, v + i, klen, k, klen) == 0)
				return true;
		return false;
	}
	back[0] = 0;
	for (size_t i = 1, j = 0; i < klen; i++) {
		while (j > 0 && fold(cmp, (unsigned char)k[i]) != fold(cmp, (unsigned char)k[j]))
			j = back[j - 1];
		if (fold(cmp, (unsigned char)k[i]) == fold(cmp, (unsigned char)k[j]))
			j++;
		back[i] = (uint16_t)j;
	}
	for (size_t i = 0, j = 0; i < vlen; i++) {
		while (j > 0 && fold(cmp, (unsigned char)v[i]) != fold(cmp, (unsigned char)k[j]))
			j = back[j - 1];
		if (fold(cmp, (unsigned char)v[i]) == fold(cmp, (unsigned char)k[j]) && ++j == klen)
			return true;
	}
	return false;
}

/* Octets "?" takes at v: one, or one UTF-8 character for the casemap
 * comparator (values are UTF-8; an invalid byte counts alone). */
static size_t one_char(enum sieve_cmp cmp, const char *v, size_t n)
{
	size_t l = cmp == CMP_CASEMAP ? charset_utf8_char_len(v, n) : 1;
	return l == 0 ? 1 : l;
}

/* With `cap`, each wildcard's span is recorded as the scan reaches it; a
 * mismatch that goes back to the last "*" lengthens that one's span and
 * the later wildcards are recorded again as the scan passes them, so a
 * match leaves every "*" as short as it can be, left to right. */
static bool matches(enum sieve_cmp cmp, const char *v, size_t n, const char *k, size_t m,
		    struct sieve_capture *cap)
{
	size_t i = 0, j = 0, star_j = 0, star_i = 0, w = 0, star_w = 0;
	bool star = false;
	while (i < n) {
		if (j < m && k[j] == '*') {
			star = true;
			star_j = ++j;
			star_i = i;
			star_w = ++w;
			if (cap != NULL && w < SIEVE_MATCH_VARS)
				cap->start[w] = cap->end[w] = i;
			continue;
		}
		if (j < m && k[j] == '?') {
			size_t l = one_char(cmp, v + i, n - i);
			if (cap != NULL && ++w < SIEVE_MATCH_VARS) {
				cap->start[w] = i;
				cap->end[w] = i + l;
			}
			i += l;
			j++;
			continue;
		}
		if (j < m) {
			size_t lit = k[j] == '\\' && j + 1 < m ? j + 1 : j;
			if (fold(cmp, (unsigned char)k[lit]) == fold(cmp, (unsigned char)v[i])) {
				i++;
				j = lit + 1;
				continue;
			}
		}
		if (!star)
			return false;
		/* the last "*" takes one more octet and the rest starts over */
		j = star_j;
		i = ++star_i;
		w = star_w;
		if (cap != NULL && w < SIEVE_MATCH_VARS)
			cap->end[w] = i;
	}
	while (j < m && k[j] == '*') {
		j++;
		if (cap != NULL && ++w < SIEVE_MATCH_VARS)
			cap->start[w] = cap->end[w] = n;
	}
	if (j != m)
		return false;
	if (cap != NULL)
		cap->n = w;
	return true;
}

bool sieve_match(enum sieve_cmp cmp, enum sieve_mt mt, enum sieve_rel rel, const char *val,
		 size_t vlen, const char *key, size_t klen, struct sieve_capture *cap)
{
	int o;
	switch (mt) {
	case MT_IS:
		return order(cmp, val, vlen, key, klen) == 0;
	case MT_CONTAINS:
		return contains(cmp, val, vlen, key, klen);
	case MT_MATCHES:
		return matches(cmp, val, vlen, key, klen, cap);
	default:
		o = order(cmp, val, vlen, key, klen);
		switch (rel) {
		case REL_GT: return o > 0;
		case REL_GE: return o >= 0;
		case REL_LT: return o < 0;
		case REL_LE: return o <= 0;
		case REL_EQ: return o == 0;
		default: return o != 0;
		}
	}
}
