/* Our Authentication-Results field, read back (authres.h). */
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "authres_id.h"

/* ------------------------------------------------------------ tokens */

enum tok { T_END, T_SEMI, T_EQ, T_WORD, T_QUOTED, T_BAD };

struct lex {
	const char *v;
	size_t n, i;
	const char *s;     /* T_WORD, T_QUOTED (still escaped): the text */
	size_t slen;
};

static enum tok lex_next(struct lex *l)
{
	l->i = authres_skip_cfws(l->v, l->n, l->i);
	if (l->i >= l->n)
		return T_END;
	char c = l->v[l->i];
	if (c == ';' || c == '=') {
		l->i++;
		return c == ';' ? T_SEMI : T_EQ;
	}
	if (c == '"') {
		size_t j = l->i + 1;
		while (j < l->n && l->v[j] != '"') {
			if (l->v[j] == '\\' && j + 1 < l->n)
				j++;
			j++;
		}
		if (j >= l->n)
			return T_BAD;
		l->s = l->v + l->i + 1;
		l->slen = j - l->i - 1;
		l->i = j + 1;
		return T_QUOTED;
	}
	size_t j = l->i;
	while (j < l->n && strchr(" \t\r\n;=\"(", l->v[j]) == NULL)
		j++;
	l->s = l->v + l->i;
	l->slen = j - l->i;
	l->i = j;
	return T_WORD;
}

static bool word_digits(const struct lex *l)
{
	for (size_t i = 0; i < l->slen; i++) {
		if (l->s[i] < '0' || l->s[i] > '9')
			return false;
	}
	return l->slen > 0;
}

static bool word_is(const struct lex *l, const char *w)
{
	size_t n = strlen(w);
	return l->slen == n && strncasecmp(l->s, w, n) == 0;
}

/* Copies the token's value (unescaped when quoted) into out, or "" when it
 * is too long or has bytes other than printable ASCII. */
static void value_copy(const struct lex *l, enum tok t, char out[AUTHRES_VALUE_MAX + 1])
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->slen; i++) {
		unsigned char c = (unsigned char)l->s[i];
		if (t == T_QUOTED && c == '\\' && i + 1 < l->slen)
			c = (unsigned char)l->s[++i];
		if (c <= 0x20 || c >= 0x7f || n == AUTHRES_VALUE_MAX) {
			out[0] = '\0';
			return;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
}

static enum authres_result result_of(const struct lex *l)
{
	static const struct { const char *name; enum authres_result r; } names[] = {
		{ "pass", AUTHRES_PASS }, { "fail", AUTHRES_FAIL }, { "hardfail", AUTHRES_FAIL },
		{ "softfail", AUTHRES_SOFTFAIL }, { "neutral", AUTHRES_NEUTRAL },
		{ "none", AUTHRES_NONE }, { "temperror", AUTHRES_TEMPERROR },
		{ "permerror", AUTHRES_PERMERROR }, { "policy", AUTHRES_POLICY },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (word_is(l, names[i].name))
			return names[i].r;
	}
	return AUTHRES_OTHER;
}

/* ------------------------------------------------------------ results */

/* Which result the properties being read belong to. */
enum cur { CUR_OTHER, CUR_DMARC, CUR_SPF, CUR_DKIM };

/* The method name without its "/version". */
static enum cur method_of(const struct lex *l)
{
	size_t n = 0;
	while (n < l->slen && l->s[n] != '/')
		n++;
	if (n == 5 && strncasecmp(l->s, "dmarc", 5) == 0)
		return CUR_DMARC;
	if (n == 3 && strncasecmp(l->s, "spf", 3) == 0)
		return CUR_SPF;
	if (n == 4 && strncasecmp(l->s, "dkim", 4) == 0)
		return CUR_DKIM;
	return CUR_OTHER;
}

/* Reads the results after the authserv-id: [version] then ";"-separated
 * resinfo (method=result [reason=value] [ptype.property=value ...]),
 * stopping at the end, at "; none", or at the first fault. */
static void results_read(struct lex *l, struct authres *ar)
{
	bool d_from_pass = false;
	enum tok t = lex_next(l);
	if (t == T_WORD && word_digits(l))
		t = lex_next(l);         /* authres-version */
	for (unsigned count = 0; t == T_SEMI && count < AUTHRES_RESULTS_MAX; count++) {
		if (lex_next(l) != T_WORD)
			return;
		enum cur cur = method_of(l);
		if (lex_next(l) != T_EQ || lex_next(l) != T_WORD)
			return;          /* also "; none" */
		enum authres_result r = result_of(l);
		if ((cur == CUR_DMARC && ar->dmarc != AUTHRES_ABSENT) ||
		    (cur == CUR_SPF && ar->spf != AUTHRES_ABSENT))
			cur = CUR_OTHER; /* only the first one counts */
		if (cur == CUR_DMARC)
			ar->dmarc = r;
		else if (cur == CUR_SPF)
			ar->spf = r;
		else if (cur == CUR_DKIM && ar->dkim == AUTHRES_ABSENT)
			ar->dkim = r;
		if (cur == CUR_DKIM && r == AUTHRES_PASS)
			ar->dkim_pass = true;
		while ((t = lex_next(l)) == T_WORD) {
			/* reason=value or ptype.property=value */
			bool reason = word_is(l, "reason"), from = word_is(l, "header.from"),
			     d = word_is(l, "header.d"),
			     spfid = word_is(l, "smtp.mailfrom") || word_is(l, "smtp.helo");
			if (lex_next(l) != T_EQ)
				return;
			t = lex_next(l);
			if (t != T_WORD && t != T_QUOTED)
				return;
			if (reason)
				continue;
			if (cur == CUR_DMARC && from && ar->header_from[0] == '\0')
				value_copy(l, t, ar->header_from);
			else if (cur == CUR_SPF && spfid && ar->spf_domain[0] == '\0')
				value_copy(l, t, ar->spf_domain);
			else if (cur == CUR_DKIM && d && r == AUTHRES_PASS && !d_from_pass) {
				value_copy(l, t, ar->header_d);
				d_from_pass = ar->header_d[0] != '\0';
			} else if (cur == CUR_DKIM && d && !d_from_pass && ar->header_d[0] == '\0') {
				value_copy(l, t, ar->header_d);
			}
		}
	}
}

int authres_parse(const char *header, size_t len, const char *authserv_id,
		  struct authres *ar_r)
{
	static const char name[] = "authentication-results";
	const size_t nl = sizeof(name) - 1;
	memset(ar_r, 0, sizeof(*ar_r));
	if (len > AUTHRES_HEADER_MAX)
		len = AUTHRES_HEADER_MAX;
	for (size_t r = 0, end; r < len; r = end) {
		end = authres_field_end(header, len, r);
		if (header[r] == '\n' || (header[r] == '\r' && r + 1 < len && header[r + 1] == '\n'))
			break;           /* the blank line: the body follows */
		size_t colon = r + nl, after;
		while (colon < end && (header[colon] == ' ' || header[colon] == '\t'))
			colon++;
		if (end - r <= nl || strncasecmp(header + r, name, nl) != 0 || colon >= end ||
		    header[colon] != ':')
			continue;
		const char *v = header + colon + 1;
		size_t n = end - colon - 1;
		if (!authres_names_id(v, n, authserv_id, &after))
			continue;
		/* ours is at most MAILAUTH_FIELD_MAX: a longer one is not
		 * read (and, taken as ours, hides any after it) */
		if (n <= AUTHRES_FIELD_MAX) {
			struct lex l = { .v = v, .n = n, .i = after };
			results_read(&l, ar_r);
		}
		return 1;
	}
	return 0;
}

enum authres_warning authres_warning(const struct authres *ar)
{
	if (ar->dmarc == AUTHRES_FAIL)
		return AUTHRES_WARN_DMARC;
	if (ar->dmarc == AUTHRES_PASS || ar->dkim_pass)
		return AUTHRES_WARN_NONE;
	if (ar->spf == AUTHRES_FAIL || ar->spf == AUTHRES_SOFTFAIL)
		return AUTHRES_WARN_UNVERIFIED;
	return AUTHRES_WARN_NONE;
}
