/* SPF macro expansion (RFC 7208 7): %{letter digits r delimiters},
 * %% %_ %-, upper-case letters URL-escaped, and the domain-end rule. */
#include <config.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "spf.h"

/* Parts of one value kept for a transformer: a value is at most
 * SPF_EXPAND_MAX octets, so at most half of it plus one are parts. */
#define PARTS_MAX (SPF_EXPAND_MAX / 2 + 1)

struct out {
	char *b;
	size_t size, len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->b == NULL || o->full)
		return;
	if (n >= o->size - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
	o->b[o->len] = '\0';
}

static bool is_delim(char c, const char *delims, size_t nd)
{
	return memchr(delims, c, nd) != NULL;
}

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void put_part(struct out *o, const char *s, size_t n, bool escape)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!escape) {
		put(o, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (unreserved(c))
			put(o, s + i, 1);
		else
			put(o, e, 3);
	}
}

/* One %{...}: the value split on the delimiters, reversed if asked, its
 * rightmost `keep` parts joined with dots, escaped if upper-case. */
static void put_macro(struct out *o, const char *val, unsigned keep, bool rev, const char *delims,
		      size_t nd, bool escape)
{
	uint16_t start[PARTS_MAX], plen[PARTS_MAX];
	size_t n = 0, len = strnlen(val, SPF_EXPAND_MAX), first;

	if (nd == 0) {
		delims = ".";
		nd = 1;
	}
	start[0] = 0;
	for (size_t i = 0; i <= len; i++)
		if (i == len || is_delim(val[i], delims, nd)) {
			plen[n] = (uint16_t)(i - start[n]);
			n++;
			if (i < len)
				start[n] = (uint16_t)(i + 1);
		}
	first = keep != 0 && keep < n ? n - keep : 0;
	for (size_t k = first; k < n; k++) {
		size_t idx = rev ? n - 1 - k : k;

		if (k > first)
			put(o, ".", 1);
		put_part(o, val + start[idx], plen[idx], escape);
	}
}

static const char *letter_value(const struct spf_macro_vars *v, char c)
{
	switch (c) {
	case 's': return v->s;
	case 'l': return v->l;
	case 'o': return v->o;
	case 'd': return v->d;
	case 'i': return v->i;
	case 'v': return v->v;
	case 'h': return v->h;
	case 'c': return v->c;
	case 'r': return v->r;
	case 't': return v->t;
	case 'p': return v->p != NULL ? v->p(v->arg) : "unknown";
	}
	return "";
}

/* "." toplabel ["."] at the end of a literal domain-spec (RFC 7208 7.1):
 * toplabel is alphanumerics with at least one letter, or alphanumerics and
 * inner hyphens. */
static bool domain_end_ok(const char *s, size_t len)
{
	size_t end = len, i;
	bool alpha = false;

	if (end > 0 && s[end - 1] == '.')
		end--;
	i = end;
	while (i > 0 && s[i - 1] != '.')
		i--;
	if (i == 0 || i == end)
		return false;       /* no dot before it, or empty */
	if (s[i] == '-' || s[end - 1] == '-')
		return false;
	for (size_t k = i; k < end; k++) {
		unsigned char c = (unsigned char)s[k];

		if (!isalnum(c) && c != '-')
			return false;
		if (isalpha(c) || c == '-')
			alpha = true;
	}
	return alpha;
}

/* RFC 7208 7.3: over 253 octets, whole labels go from the left. */
static int domain_cut(struct out *o)
{
	size_t off = 0;

	if (o->len > 0 && o->b[o->len - 1] == '.')
		o->b[--o->len] = '\0';
	while (o->len - off > 253) {
		const char *dot = memchr(o->b + off, '.', o->len - off);

		if (dot == NULL)
			return -2;
		off = (size_t)(dot - o->b) + 1;
	}
	memmove(o->b, o->b + off, o->len - off + 1);
	o->len -= off;
	return 0;
}

int spf_macro_expand(const char *in, size_t len, enum spf_macro_kind kind,
		     const struct spf_macro_vars *vars, char *out, size_t size, const char **why_r)
{
	struct out o = { vars != NULL ? out : NULL, size, 0, false };
	bool ends_macro = false;
	size_t i = 0;

	*why_r = NULL;
	if (o.b != NULL) {
		if (size == 0)
			return -2;
		out[0] = '\0';
	}
	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		unsigned keep = 0;
		bool rev = false, upper;
		const char *delims;
		size_t nd = 0;
		char letter;

		ends_macro = false;
		if (c != '%') {
			if ((c < 0x21 || c > 0x7e) && !(kind == SPF_MACRO_EXPLAIN && c == ' ')) {
				*why_r = "character not allowed";
				return -1;
			}
			put(&o, in + i, 1);
			i++;
			continue;
		}
		ends_macro = true;
		if (i + 1 >= len) {
			*why_r = "'%' at the end";
			return -1;
		}
		switch (in[i + 1]) {
		case '%': put(&o, "%", 1); i += 2; continue;
		case '_': put(&o, " ", 1); i += 2; continue;
		case '-': put(&o, "%20", 3); i += 2; continue;
		case '{': break;
		default:
			*why_r = "'%' not followed by '{', '%', '_' or '-'";
			return -1;
		}
		i += 2;
		if (i >= len) {
			*why_r = "unterminated macro";
			return -1;
		}
		letter = (char)tolower((unsigned char)in[i]);
		upper = isupper((unsigned char)in[i]) != 0;
		if (strchr("slodipvh", letter) == NULL &&
		    (kind != SPF_MACRO_EXPLAIN || strchr("crt", letter) == NULL)) {
			*why_r = "unknown macro letter";
			return -1;
		}
		i++;
		if (i < len && isdigit((unsigned char)in[i])) {
			while (i < len && isdigit((unsigned char)in[i])) {
				keep = keep * 10 + (unsigned)(in[i] - '0');
				if (keep > 1000)
					keep = 1000;    /* more parts than any value has */
				i++;
			}
			if (keep == 0) {
				*why_r = "macro keeps zero parts";
				return -1;
			}
		}
		if (i < len && (in[i] == 'r' || in[i] == 'R')) {
			rev = true;
			i++;
		}
		delims = in + i;
		while (i < len && strchr(".-+,/_=", in[i]) != NULL && in[i] != '\0') {
			nd++;
			i++;
		}
		if (i >= len || in[i] != '}') {
			*why_r = "malformed macro";
			return -1;
		}
		i++;
		if (o.b != NULL)
			put_macro(&o, letter_value(vars, letter), keep, rev, delims, nd, upper);
	}
	if (kind == SPF_MACRO_DOMAIN && !ends_macro && !domain_end_ok(in, len)) {
		*why_r = "domain does not end in a valid top label";
		return -1;
	}
	if (o.b == NULL)
		return 0;
	if (o.full)
		return -2;
	if (kind == SPF_MACRO_DOMAIN)
		return domain_cut(&o);
	return 0;
}
