/* Sieve variables (RFC 5229): "${...}" references in strings, the values
 * set gives, the match variables a :matches leaves, set's modifiers. Every
 * value is at most SIEVE_VAR_VALUE_MAX octets and every expansion at most
 * SIEVE_EXPAND_MAX, and the octets handled are reported for the run's work
 * budget (sieve_run.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "sieve_int.h"

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* identifier or num-variable at s: its length, 0 for neither */
static size_t component(const char *s, size_t len, bool *number_r)
{
	size_t i = 0;
	*number_r = len > 0 && is_digit(s[0]);
	if (*number_r) {
		while (i < len && is_digit(s[i]))
			i++;
		return i;
	}
	if (len == 0 || !is_alpha(s[0]))
		return 0;
	while (i < len && (is_alpha(s[i]) || is_digit(s[i])))
		i++;
	return i;
}

/* variable-ref = "${" [namespace] variable-name "}"
 * namespace = identifier "." *sub-namespace; sub-namespace = variable-name "."
 * variable-name = num-variable / identifier */
size_t sieve_ref_parse(const char *s, size_t len, struct sieve_ref *ref)
{
	size_t i = 2, ncomp = 0, start = 0, clen = 0;
	bool number = false, first_number = false;
	if (len < 4 || s[0] != '$' || s[1] != '{')
		return 0;
	for (;;) {
		start = i;
		clen = component(s + i, len - i, &number);
		if (clen == 0)
			return 0;
		if (ncomp++ == 0)
			first_number = number;
		i += clen;
		if (i < len && s[i] == '}')
			break;
		if (i >= len || s[i] != '.')
			return 0;
		i++;
	}
	if (ncomp > 1 && first_number) /* a namespace starts with an identifier */
		return 0;
	if (ncomp > 1) {
		ref->kind = REF_NAMESPACE;
	} else if (number) {
		const char *d = s + start;
		size_t n = clen;
		while (n > 1 && *d == '0') /* RFC 5229 3.2: leading zeroes are ignored */
			d++, n--;
		ref->kind = REF_NUMBER;
		ref->number = n > 18 ? UINT64_MAX : 0; /* 18 digits fit */
		for (size_t k = 0; k < n && n <= 18; k++)
			ref->number = ref->number * 10 + (uint64_t)(d[k] - '0');
	} else {
		ref->kind = REF_NAME;
	}
	ref->name = s + start;
	ref->name_len = clen;
	return i + 1;
}

bool sieve_var_name_ok(const char *s)
{
	bool number;
	size_t len = strlen(s);
	return len <= SIEVE_VAR_NAME_MAX && component(s, len, &number) == len && len > 0 && !number;
}

bool sieve_has_ref(const char *s)
{
	struct sieve_ref ref;
	size_t len = strlen(s);
	for (const char *p = s; (p = strstr(p, "${")) != NULL; p++)
		if (sieve_ref_parse(p, len - (size_t)(p - s), &ref) > 0)
			return true;
	return false;
}

int sieve_vars_init(struct sieve_vars *v, const struct sieve_script *script)
{
	*v = (struct sieve_vars){ .script = script };
	if (script->nvars > 0 && (v->vals = calloc(script->nvars, sizeof(*v->vals))) == NULL)
		return -1;
	return 0;
}

void sieve_vars_free(struct sieve_vars *v)
{
	for (size_t i = 0; v->vals != NULL && i < v->script->nvars; i++)
		free(v->vals[i].v);
	for (size_t i = 0; i < SIEVE_MATCH_VARS; i++)
		free(v->match[i].v);
	free(v->vals);
	*v = (struct sieve_vars){ 0 };
}

/* The value a reference stands for: empty for an unknown name or a match
 * variable no match has set (RFC 5229 3). */
static struct sieve_var lookup(const struct sieve_vars *v, const struct sieve_ref *ref,
			       uint64_t *work_r)
{
	static const struct sieve_var empty = { "", 0 };
	if (ref->kind == REF_NUMBER)
		return ref->number < SIEVE_MATCH_VARS && v->match[ref->number].v != NULL
		       ? v->match[ref->number] : empty;
	if (ref->kind != REF_NAME)
		return empty;
	const struct sieve_script *s = v->script;
	for (size_t i = 0; i < s->nvars; i++) {
		*work_r += ref->name_len;
		if (strlen(s->var_names[i]) == ref->name_len &&
		    strncasecmp(s->var_names[i], ref->name, ref->name_len) == 0)
			return v->vals[i].v != NULL ? v->vals[i] : empty;
	}
	return empty;
}

int sieve_vars_expand(const struct sieve_vars *v, const char *s, char **out_r, size_t *len_r,
		      uint64_t *work_r)
{
	size_t slen = strlen(s), n = 0;
	char *out = malloc(SIEVE_EXPAND_MAX + 1);
	if (out == NULL)
		return -2;
	for (size_t i = 0; i < slen;) {
		struct sieve_ref ref;
		struct sieve_var val = { (char *)s + i, 1 };
		size_t used = s[i] == '$' ? sieve_ref_parse(s + i, slen - i, &ref) : 0;
		if (used > 0)
			val = lookup(v, &ref, work_r);
		else
			used = 1;
		if (val.len > SIEVE_EXPAND_MAX - n) {
			free(out);
			return -1;
		}
		memcpy(out + n, val.v, val.len);
		n += val.len;
		i += used;
		*work_r += used + val.len;
	}
	out[n] = '\0';
	char *small = realloc(out, n + 1); /* most strings are short */
	*out_r = small != NULL ? small : out;
	*len_r = n;
	return 0;
}

int sieve_vars_expand_list(const struct sieve_vars *v, const struct sieve_list *in,
			   struct sieve_list *out, uint64_t *work_r)
{
	size_t len;
	*out = (struct sieve_list){ 0 };
	if (in->n == 0)
		return 0;
	if ((out->v = calloc(in->n, sizeof(char *))) == NULL)
		return -2;
	for (; out->n < in->n; out->n++) {
		int rc = sieve_vars_expand(v, in->v[out->n], &out->v[out->n], &len, work_r);
		if (rc < 0) {
			sieve_list_free(out);
			return rc;
		}
	}
	return 0;
}

void sieve_list_free(struct sieve_list *l)
{
	for (size_t i = 0; l->v != NULL && i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct sieve_list){ 0 };
}

/* The longest prefix of s, at most max octets, that does not end inside a
 * UTF-8 character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	for (int k = 0; k < 3 && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; k++)
		n--;
	return n;
}

/* One UTF-8 character's octets at s (an invalid octet counts alone). */
static size_t char_len(const char *s, size_t n)
{
	size_t l = charset_utf8_char_len(s, n);
	return l == 0 ? 1 : l;
}

/* Case changes are US-ASCII's, as i;ascii-casemap's: other letters stay. */
static char ascii_case(char c, bool upper)
{
	if (upper && c >= 'a' && c <= 'z')
		return (char)(c - 32);
	if (!upper && c >= 'A' && c <= 'Z')
		return (char)(c + 32);
	return c;
}

static int store(struct sieve_var *var, const char *val, size_t len)
{
	len = utf8_cut(val, len, SIEVE_VAR_VALUE_MAX);
	char *c = malloc(len + 1);
	if (c == NULL)
		return -1;
	memcpy(c, val, len);
	c[len] = '\0';
	free(var->v);
	var->v = c;
	var->len = len;
	return 0;
}

int sieve_vars_set(struct sieve_vars *v, size_t idx, unsigned mods, char *val, size_t len,
		   uint64_t *work_r)
{
	char quoted[SIEVE_VAR_VALUE_MAX], number[24];
	/* precedence 40, 30, 20, 10 (RFC 5229 4.1); the compiler allows one
	 * modifier of each */
	if (mods & (SIEVE_MOD_LOWER | SIEVE_MOD_UPPER)) {
		for (size_t i = 0; i < len; i++)
			val[i] = ascii_case(val[i], mods & SIEVE_MOD_UPPER);
		*work_r += len;
	}
	if (len > 0 && (mods & (SIEVE_MOD_LOWERFIRST | SIEVE_MOD_UPPERFIRST)))
		val[0] = ascii_case(val[0], mods & SIEVE_MOD_UPPERFIRST);
	if (mods & SIEVE_MOD_QUOTEWILDCARD) {
		/* what the stored value can hold: no character, and no "\*"
		 * pair, cut in two */
		size_t n = 0;
		for (size_t i = 0; i < len;) {
			size_t l = char_len(val + i, len - i);
			bool q = l == 1 && strchr("*?\\", val[i]) != NULL;
			if (n + q + l > sizeof(quoted))
				break;
			if (q)
				quoted[n++] = '\\';
			memcpy(quoted + n, val + i, l);
			n += l;
			i += l;
		}
		*work_r += len + n;
		val = quoted;
		len = n;
	}
	if (mods & SIEVE_MOD_LENGTH) {
		size_t chars = 0;
		for (size_t i = 0; i < len; chars++)
			i += char_len(val + i, len - i);
		*work_r += len;
		len = (size_t)snprintf(number, sizeof(number), "%zu", chars);
		val = number;
	}
	*work_r += len;
	return store(&v->vals[idx], val, len);
}

int sieve_vars_set_matches(struct sieve_vars *v, const char *val, size_t len,
			   const struct sieve_capture *cap, uint64_t *work_r)
{
	if (store(&v->match[0], val, len) < 0)
		return -1;
	*work_r += len < SIEVE_VAR_VALUE_MAX ? len : SIEVE_VAR_VALUE_MAX;
	for (size_t i = 1; i < SIEVE_MATCH_VARS; i++) {
		size_t from = i <= cap->n ? cap->start[i] : 0, to = i <= cap->n ? cap->end[i] : 0;
		if (store(&v->match[i], val + from, to - from) < 0)
			return -1;
		*work_r += to - from < SIEVE_VAR_VALUE_MAX ? to - from : SIEVE_VAR_VALUE_MAX;
	}
	return 0;
}

int sieve_vars_address(const struct sieve_vars *v, const char *s, char **spec_r,
		       uint64_t *work_r)
{
	char *e;
	size_t len;
	*spec_r = NULL;
	int rc = sieve_vars_expand(v, s, &e, &len, work_r);
	if (rc < 0)
		return rc;
	rc = sieve_address_check(e, spec_r);
	free(e);
	return rc < 0 ? -2 : rc == 0;
}

/* A text, checked as the compiler checks a written one. */
static int text(const struct sieve_vars *v, const char *s, bool multiline, char **out_r,
		uint64_t *work_r)
{
	size_t len;
	int rc = sieve_vars_expand(v, s, out_r, &len, work_r);
	if (rc < 0)
		return rc;
	return !charset_utf8_text(*out_r, len, multiline);
}

int sieve_vars_vacation(const struct sieve_vars *v, const struct sieve_vacation *a,
			struct sieve_vacation *out, const char **what_r, uint64_t *work_r)
{
	int rc;
	*out = (struct sieve_vacation){ .days = a->days };
	if ((out->addresses = calloc(a->naddresses + 1, sizeof(char *))) == NULL)
		return -2;
	*what_r = "vacation: the reason must be UTF-8 text";
	if ((rc = text(v, a->reason, true, &out->reason, work_r)) != 0)
		return rc;
	*what_r = "vacation: :subject must be one line of text";
	if (a->subject != NULL && (rc = text(v, a->subject, false, &out->subject, work_r)) != 0)
		return rc;
	*what_r = "vacation :from: invalid address";
	if (a->from != NULL && (rc = sieve_vars_address(v, a->from, &out->from, work_r)) != 0)
		return rc;
	*what_r = "vacation :addresses: invalid address";
	for (; out->naddresses < a->naddresses; out->naddresses++)
		if ((rc = sieve_vars_address(v, a->addresses[out->naddresses],
					     &out->addresses[out->naddresses], work_r)) != 0)
			return rc;
	return 0;
}

void sieve_vars_vacation_free(struct sieve_vacation *x)
{
	for (size_t i = 0; x->addresses != NULL && i <= x->naddresses; i++)
		free(x->addresses[i]);
	free(x->addresses);
	free(x->reason);
	free(x->subject);
	free(x->from);
	*x = (struct sieve_vacation){ 0 };
}
