/* Structured MIME field values (RFC 2045 tokens, quoted strings, comments):
 * Content-Type, Content-Disposition (RFC 2183), Content-Transfer-Encoding,
 * and their parameters with RFC 2231 sections, charsets and languages. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "mime_buf.h"
#include "mime_private.h"
#include "rfc2047.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decoded text for display: valid UTF-8 (charset.h guarantees), control
 * characters made spaces. */
static void controls_to_spaces(struct mbuf *b, size_t from)
{
	if (b->failed)
		return;
	for (size_t i = from; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c < 0x20 || c == 0x7f)
			b->data[i] = ' ';
	}
}

static char *lowercase(char *s)
{
	for (char *p = s; p != NULL && *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return s;
}

/* ------------------------------------------------ structured values (RFC 2045) */

struct lex {
	const char *p, *end;
};

static void lex_cfws(struct lex *l)
{
	size_t depth = 0;
	while (l->p < l->end) {
		char c = *l->p;
		if (depth > 0) {
			if (c == '\\' && l->p + 1 < l->end)
				l->p++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(') {
			depth++;
		} else if (!is_wsp(c)) {
			return;
		}
		l->p++;
	}
}

/* RFC 2045 token characters; 8-bit bytes are tolerated. */
static bool token_char(unsigned char c)
{
	if (c <= ' ' || c == 0x7f)
		return false;
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':':
	case '\\': case '"': case '/': case '[': case ']': case '?': case '=':
		return false;
	default:
		return true;
	}
}

static size_t lex_token(struct lex *l, const char **s_r)
{
	*s_r = l->p;
	while (l->p < l->end && token_char((unsigned char)*l->p))
		l->p++;
	return (size_t)(l->p - *s_r);
}

/* After an opening quote: the content up to the closing one (escapes kept). */
static size_t lex_quoted(struct lex *l, const char **s_r)
{
	*s_r = l->p;
	while (l->p < l->end && *l->p != '"') {
		if (*l->p == '\\' && l->p + 1 < l->end)
			l->p++;
		l->p++;
	}
	size_t n = (size_t)(l->p - *s_r);
	if (l->p < l->end)
		l->p++;
	return n;
}

/* Skips to the next ';' outside quotes and comments. */
static void lex_skip_to_semicolon(struct lex *l)
{
	while (l->p < l->end && *l->p != ';') {
		if (*l->p == '"') {
			const char *s;
			l->p++;
			lex_quoted(l, &s);
		} else if (*l->p == '(') {
			lex_cfws(l);
		} else {
			l->p++;
		}
	}
}

/* --------------------------------------------------------- parameters */

/* Digits of an RFC 2231 section number: up to 999 sections, far more than
 * params_max lets through; a longer number makes the name an ordinary one. */
#define PARAM_SECTION_DIGITS 3

struct raw_param {
	const char *name; /* base name, without "*N" and "*" */
	size_t name_len;
	int section;      /* -1: none */
	bool extended;    /* charset'lang'%XX encoding */
	const char *value;
	size_t value_len;
	bool quoted;      /* value still has backslash escapes */
	size_t order;     /* position in the header */
};

/* Splits "name*N*" into its parts. */
static void param_name_split(struct raw_param *rp)
{
	rp->section = -1;
	rp->extended = false;
	if (rp->name_len > 1 && rp->name[rp->name_len - 1] == '*') {
		rp->extended = true;
		rp->name_len--;
	}
	size_t i = rp->name_len;
	while (i > 0 && rp->name[i - 1] >= '0' && rp->name[i - 1] <= '9')
		i--;
	if (i < rp->name_len && i > 1 && rp->name[i - 1] == '*' &&
	    rp->name_len - i <= PARAM_SECTION_DIGITS) {
		int v = 0;
		for (size_t k = i; k < rp->name_len; k++)
			v = v * 10 + (rp->name[k] - '0');
		rp->section = v;
		rp->name_len = i - 1;
	}
}

/* Reads "; name=value" pairs; true if params_max cut the list short. */
static bool params_scan(struct lex *l, size_t max, struct raw_param *out, size_t *count_r)
{
	size_t n = 0;
	for (;;) {
		lex_cfws(l);
		if (l->p >= l->end)
			break;
		if (*l->p != ';') {
			lex_skip_to_semicolon(l);
			continue;
		}
		l->p++;
		lex_cfws(l);
		struct raw_param rp = { 0 };
		rp.name_len = lex_token(l, &rp.name);
		lex_cfws(l);
		bool ascii = true;
		for (size_t i = 0; i < rp.name_len; i++)
			ascii &= (unsigned char)rp.name[i] < 0x80;
		if (rp.name_len == 0 || !ascii || l->p >= l->end || *l->p != '=')
			continue; /* garbage up to the next ';' is skipped above */
		l->p++;
		lex_cfws(l);
		if (l->p < l->end && *l->p == '"') {
			l->p++;
			rp.value_len = lex_quoted(l, &rp.value);
			rp.quoted = true;
		} else {
			/* a token; tolerated: unquoted words with spaces ("a b.pdf") */
			rp.value_len = lex_token(l, &rp.value);
			for (;;) {
				const char *save = l->p, *w;
				while (l->p < l->end && (*l->p == ' ' || *l->p == '\t'))
					l->p++;
				if (l->p > save && lex_token(l, &w) > 0) {
					rp.value_len = (size_t)(l->p - rp.value);
					continue;
				}
				l->p = save;
				break;
			}
		}
		if (n == max)
			return true;
		param_name_split(&rp);
		rp.order = n;
		out[n++] = rp;
	}
	*count_r = n;
	return false;
}

static int raw_param_cmp(const void *a, const void *b)
{
	const struct raw_param *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int r = strncasecmp(x->name, y->name, n);
	if (r != 0)
		return r;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	/* kinds: plain, then extended, then sections */
	int kx = x->section >= 0 ? 2 : x->extended, ky = y->section >= 0 ? 2 : y->extended;
	if (kx != ky)
		return kx - ky;
	if (x->section != y->section)
		return x->section < y->section ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void percent_decode(struct mbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			mbuf_putc(b, (char)(hi << 4 | lo));
			i += 2;
		} else {
			mbuf_putc(b, s[i]);
		}
	}
}

/* RFC 2231 attribute-char: what an extended value may carry unencoded. */
static bool attribute_char(unsigned char c)
{
	return token_char(c) && c < 0x80 && c != '*' && c != '\'' && c != '%';
}

struct param_group {
	size_t order; /* of its first raw parameter: the output order */
	struct mime_param param;
};

static int group_cmp(const void *a, const void *b)
{
	const struct param_group *x = a, *y = b;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool same_name(const struct raw_param *a, const struct raw_param *b)
{
	return a->name_len == b->name_len && strncasecmp(a->name, b->name, a->name_len) == 0;
}

static int kind_of(const struct raw_param *rp)
{
	return rp->section >= 0 ? 2 : rp->extended;
}

/* Splits an RFC 2231 extended value "charset'lang'data". */
static void ext_split(const char *v, size_t n, const char **cs_r, size_t *cs_len_r,
		      const char **data_r, size_t *data_len_r)
{
	const char *q1 = memchr(v, '\'', n);
	const char *q2 = q1 != NULL ? memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v)) : NULL;
	if (q2 == NULL) {
		*cs_r = "";
		*cs_len_r = 0;
		*data_r = v;
		*data_len_r = n;
		return;
	}
	*cs_r = v;
	*cs_len_r = (size_t)(q1 - v);
	*data_r = q2 + 1;
	*data_len_r = n - (size_t)(q2 + 1 - v);
}

/* Builds one output parameter from the raw parameters rp[0..n) that share a
 * name and kind (sorted: sections ascending). */
static int param_group_build(struct mime_arena *arena, const struct raw_param *rp, size_t n,
			     struct mime_param *out)
{
	bool oom = false, any_ext = false;
	struct mbuf raw = { 0 }, bytes = { 0 }, dec = { 0 }, one = { 0 };
	const char *cs = "";
	size_t cs_len = 0;
	int kind = kind_of(&rp[0]);
	if (kind != 2)
		n = 1; /* duplicates of a plain or extended parameter: first wins */
	for (size_t i = 0; i < n; i++)
		any_ext |= rp[i].extended;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && rp[i].section == rp[i - 1].section)
			continue; /* a repeated section: the first one counts */
		one.len = 0;
		mime_put_clean(&one, rp[i].value, rp[i].value_len, rp[i].quoted);
		const char *v = one.data != NULL ? one.data : "";
		size_t vn = one.failed ? 0 : one.len;
		if (rp[i].extended) {
			mbuf_append(&raw, v, vn);
			const char *data = v;
			size_t data_len = vn;
			if (i == 0 && rp[i].section <= 0)
				ext_split(v, vn, &cs, &cs_len, &data, &data_len);
			if (i == 0 && cs_len > 0) {
				/* keep the charset label: `one` is reused below */
				char *c = mime_arena_strndup(arena, cs, cs_len);
				if (c == NULL)
					oom = true;
				cs = c != NULL ? c : "";
			}
			percent_decode(&bytes, data, data_len);
		} else {
			if (any_ext && i == 0)
				mbuf_append(&raw, "''", 2);
			for (size_t k = 0; k < vn; k++) {
				unsigned char c = (unsigned char)v[k];
				if (!any_ext || attribute_char(c)) {
					mbuf_putc(&raw, (char)c);
				} else {
					char e[4];
					static const char hex[] = "0123456789ABCDEF";
					e[0] = '%';
					e[1] = hex[c >> 4];
					e[2] = hex[c & 15];
					mbuf_append(&raw, e, 3);
				}
			}
			mbuf_append(&bytes, v, vn);
		}
	}
	mbuf_free(&one);
	if (any_ext) {
		charset_append_utf8(&dec, cs, cs_len, bytes.data, bytes.len);
		controls_to_spaces(&dec, 0);
	} else {
		rfc2047_decode_append(&dec, bytes.data != NULL ? bytes.data : "", bytes.len);
	}
	if (bytes.failed)
		oom = true;
	mbuf_free(&bytes);
	char *name = mime_arena_strndup(arena, rp[0].name, rp[0].name_len);
	char *raw_name = NULL;
	if (name != NULL) {
		lowercase(name);
		raw_name = any_ext ? mime_arena_alloc(arena, rp[0].name_len + 2) : name;
		if (raw_name != NULL && any_ext) {
			memcpy(raw_name, name, rp[0].name_len);
			raw_name[rp[0].name_len] = '*';
		}
	}
	out->name = name;
	out->raw_name = raw_name;
	out->raw_value = mime_arena_take(arena, &raw, &oom);
	out->value = mime_arena_take(arena, &dec, &oom);
	return oom || name == NULL || raw_name == NULL ? -1 : 0;
}

/* Parses the parameters from the lexer's position into *out. */
static int params_parse(struct mime_arena *arena, struct lex *l, size_t max, struct mime_params *out,
			uint32_t *flags)
{
	out->items = NULL;
	out->count = 0;
	/* each parameter takes at least 3 bytes ("a=;"): no more can fit */
	size_t room = (size_t)(l->end - l->p) / 3 + 1;
	if (room > max)
		room = max;
	if (room == 0) {
		if (l->p < l->end && memchr(l->p, '=', (size_t)(l->end - l->p)) != NULL)
			*flags |= MIME_F_PARAMS_TRUNCATED;
		return 0;
	}
	struct raw_param *rp = malloc(room * sizeof(*rp));
	struct param_group *groups = malloc(room * sizeof(*groups));
	int ret = -1;
	size_t n = 0, ngroups = 0;
	if (rp == NULL || groups == NULL)
		goto out;
	if (params_scan(l, room, rp, &n)) {
		if (room == max)
			*flags |= MIME_F_PARAMS_TRUNCATED;
		n = room;
	}
	qsort(rp, n, sizeof(*rp), raw_param_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && same_name(&rp[i], &rp[j]) && kind_of(&rp[i]) == kind_of(&rp[j]))
			j++;
		size_t order = rp[i].order;
		for (size_t k = i; k < j; k++)
			order = rp[k].order < order ? rp[k].order : order;
		groups[ngroups].order = order;
		if (param_group_build(arena, rp + i, j - i, &groups[ngroups].param) < 0)
			goto out;
		ngroups++;
		i = j;
	}
	qsort(groups, ngroups, sizeof(*groups), group_cmp);
	struct mime_param *items = mime_arena_alloc(arena, ngroups * sizeof(*items) + 1);
	if (items == NULL)
		goto out;
	for (size_t i = 0; i < ngroups; i++)
		items[i] = groups[i].param;
	out->items = items;
	out->count = (uint32_t)ngroups;
	ret = 0;
out:
	free(rp);
	free(groups);
	return ret;
}

/* -------------------------------------------------------- field values */

static bool ascii_token(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return false;
	}
	return n > 0;
}

int mime_content_type_parse(struct mime_arena *arena, const struct mime_limits *limits,
			      const char *v, size_t n, struct mime_part *part)
{
	struct lex l = { v, v + n };
	const char *t, *st = NULL;
	size_t tn, stn = 0;
	lex_cfws(&l);
	tn = lex_token(&l, &t);
	lex_cfws(&l);
	if (l.p < l.end && *l.p == '/') {
		l.p++;
		lex_cfws(&l);
		stn = lex_token(&l, &st);
	}
	if (ascii_token(t, tn) && ascii_token(st, stn)) {
		char *type = mime_arena_strndup(arena, t, tn);
		char *subtype = mime_arena_strndup(arena, st, stn);
		if (type == NULL || subtype == NULL)
			return -1;
		part->type = lowercase(type);
		part->subtype = lowercase(subtype);
	} else {
		part->flags |= MIME_F_DEFAULT_TYPE;
	}
	return params_parse(arena, &l, limits->params_max, &part->params, &part->flags);
}

int mime_disposition_parse(struct mime_arena *arena, const struct mime_limits *limits,
			     const char *v, size_t n, struct mime_part *part)
{
	struct lex l = { v, v + n };
	const char *t;
	lex_cfws(&l);
	size_t tn = lex_token(&l, &t);
	if (!ascii_token(t, tn))
		return 0;
	char *type = mime_arena_strndup(arena, t, tn);
	if (type == NULL)
		return -1;
	part->disposition = lowercase(type);
	return params_parse(arena, &l, limits->params_max, &part->disposition_params, &part->flags);
}

int mime_encoding_parse(struct mime_arena *arena, const char *v, size_t n, struct mime_part *part)
{
	struct lex l = { v, v + n };
	const char *t;
	lex_cfws(&l);
	size_t tn = lex_token(&l, &t);
	if (!ascii_token(t, tn))
		return 0;
	char *enc = mime_arena_strndup(arena, t, tn);
	if (enc == NULL)
		return -1;
	part->encoding = lowercase(enc);
	return 0;
}

enum mime_encoding mime_encoding_from_name(const char *name)
{
	if (name == NULL || strcmp(name, "7bit") == 0)
		return MIME_ENC_7BIT;
	if (strcmp(name, "8bit") == 0)
		return MIME_ENC_8BIT;
	if (strcmp(name, "binary") == 0)
		return MIME_ENC_BINARY;
	if (strcmp(name, "base64") == 0)
		return MIME_ENC_BASE64;
	if (strcmp(name, "quoted-printable") == 0)
		return MIME_ENC_QP;
	return MIME_ENC_UNKNOWN;
}

const char *mime_part_boundary(const struct mime_part *part)
{
	for (uint32_t i = 0; i < part->params.count; i++) {
		const struct mime_param *p = &part->params.items[i];
		if (strcmp(p->raw_name, "boundary") == 0 && p->raw_value[0] != '\0')
			return p->raw_value;
	}
	return NULL;
}
