/* DKIM tag lists and key records (dkim_tags.h). */
#include <config.h>

#include <string.h>
#include <strings.h>

#include "codec.h"
#include "dkim_tags.h"

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

static void trim(const char *s, size_t *start, size_t *end)
{
	while (*start < *end && is_fws(s[*start]))
		(*start)++;
	while (*end > *start && is_fws(s[*end - 1]))
		(*end)--;
}

int dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags, size_t max, size_t *n_r,
		    const char **why_r)
{
	size_t n = 0, p = 0;

	*n_r = 0;
	while (p < len) {
		const char *semi = memchr(s + p, ';', len - p);
		size_t end = semi != NULL ? (size_t)(semi - s) : len;
		const char *eq = memchr(s + p, '=', end - p);
		size_t ns = p, ne, vs, ve = end;

		if (eq == NULL) {
			/* Only whitespace after the last ';' is allowed. */
			trim(s, &ns, &ve);
			if (semi == NULL && ns == ve && n > 0)
				break;
			*why_r = "a tag without '='";
			return 0;
		}
		ne = (size_t)(eq - s);
		vs = ne + 1;
		trim(s, &ns, &ne);
		if (ns == ne || !is_alpha(s[ns])) {
			*why_r = "a bad tag name";
			return 0;
		}
		for (size_t i = ns; i < ne; i++)
			if (!is_name_char(s[i])) {
				*why_r = "a bad tag name";
				return 0;
			}
		trim(s, &vs, &ve);
		for (size_t i = vs; i < ve; i++)
			if (((unsigned char)s[i] < 0x20 && !is_fws(s[i])) || s[i] == 0x7f) {
				*why_r = "a control character in a tag value";
				return 0;
			}
		for (size_t i = 0; i < n; i++)
			if (tags[i].name_len == ne - ns && memcmp(tags[i].name, s + ns, ne - ns) == 0) {
				*why_r = "a duplicate tag";
				return 0;
			}
		if (n == max) {
			*why_r = "too many tags";
			return 0;
		}
		tags[n++] = (struct dkim_tag){ s + ns, ne - ns, s + vs, ve - vs, ne + 1, end };
		p = end + 1;
	}
	*n_r = n;
	return 1;
}

const struct dkim_tag *dkim_tags_get(const struct dkim_tag *tags, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (tags[i].name_len == len && memcmp(tags[i].name, name, len) == 0)
			return &tags[i];
	return NULL;
}

bool dkim_tag_is(const struct dkim_tag *tag, const char *word)
{
	return tag->value_len == strlen(word) && strncasecmp(tag->value, word, tag->value_len) == 0;
}

int dkim_list_next(const char *v, size_t len, size_t *pos, const char **item_r,
		   size_t *item_len_r)
{
	size_t s = *pos, e;
	const char *colon;

	if (s > len || (s == len && (len == 0 || v[len - 1] != ':')))
		return 0;
	colon = memchr(v + s, ':', len - s);
	e = colon != NULL ? (size_t)(colon - v) : len;
	*pos = colon != NULL ? e + 1 : len + 1;
	trim(v, &s, &e);
	*item_r = v + s;
	*item_len_r = e - s;
	return 1;
}

bool dkim_list_has(const char *v, size_t len, const char *word)
{
	size_t pos = 0, n, wlen = strlen(word);
	const char *item;

	while (dkim_list_next(v, len, &pos, &item, &n) > 0)
		if (n == wlen && strncasecmp(item, word, n) == 0)
			return true;
	return false;
}

int dkim_b64_decode(const char *v, size_t len, unsigned char *out, size_t max, size_t *len_r)
{
	struct base64_decoder dec;
	size_t chars = 0, o;

	/* Checked before decoding: 4 characters make at most 3 bytes, and a
	 * last short quantum at most 2 more. */
	for (size_t i = 0; i < len; i++)
		chars += !is_fws(v[i]);
	if (chars / 4 * 3 + 2 > max)
		return 0;
	base64_decoder_init(&dec);
	o = base64_decode_update(&dec, v, len, out);
	if (base64_decode_finish(&dec) != 1)
		return 0;
	*len_r = o;
	return 1;
}

int dkim_key_record_parse(const char *rec, size_t len, struct dkim_key_record *k,
			  const char **why_r)
{
	struct dkim_tag tags[DKIM_TAGS_MAX];
	const struct dkim_tag *t;
	size_t n;

	memset(k, 0, sizeof(*k));
	k->alg = DKIM_ALG_RSA;
	if (dkim_tags_parse(rec, len, tags, DKIM_TAGS_MAX, &n, why_r) <= 0) {
		*why_r = "key record malformed";
		return 0;
	}
	/* 3.6.1: v= is optional, but when present it comes first. */
	if ((t = dkim_tags_get(tags, n, "v")) != NULL && (t != &tags[0] || !dkim_tag_is(t, "DKIM1"))) {
		*why_r = "key record has a bad v=";
		return 0;
	}
	if ((t = dkim_tags_get(tags, n, "k")) != NULL) {
		if (dkim_tag_is(t, "ed25519"))
			k->alg = DKIM_ALG_ED25519;
		else if (!dkim_tag_is(t, "rsa")) {
			*why_r = "unknown key type";
			return 0;
		}
	}
	if ((t = dkim_tags_get(tags, n, "h")) != NULL &&
	    !dkim_list_has(t->value, t->value_len, "sha256")) {
		*why_r = "key does not allow sha256";
		return 0;
	}
	if ((t = dkim_tags_get(tags, n, "s")) != NULL &&
	    !dkim_list_has(t->value, t->value_len, "email") &&
	    !dkim_list_has(t->value, t->value_len, "*")) {
		*why_r = "key not for email";
		return 0;
	}
	if ((t = dkim_tags_get(tags, n, "t")) != NULL) {
		k->testing = dkim_list_has(t->value, t->value_len, "y");
		k->strict = dkim_list_has(t->value, t->value_len, "s");
	}
	if ((t = dkim_tags_get(tags, n, "p")) == NULL) {
		*why_r = "key record has no p=";
		return 0;
	}
	if (t->value_len == 0) {
		*why_r = "key revoked";
		return 0;
	}
	if (dkim_b64_decode(t->value, t->value_len, k->key, sizeof(k->key), &k->key_len) <= 0) {
		*why_r = "key record has a bad p=";
		return 0;
	}
	return 1;
}
