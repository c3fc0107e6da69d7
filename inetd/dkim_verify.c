/* DKIM signature verification (dkim_verify.h). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_tags.h"
#include "dkim_verify.h"
#include "mime.h"

/* Names in one h=: generous oversigning of every common field twice stays
 * far below; each name costs a scan of the header's fields. */
#define DKIM_H_NAMES_MAX 256
/* l=, t= and x= digits: 18 fit an int64_t (RFC 6376 caps l= at 76 digits,
 * so a longer l= is read as "more than any body"). */
#define DKIM_NUM_DIGITS_MAX 18
#define DKIM_L_DIGITS_MAX 76

struct field {
	size_t start;        /* the name, in v->header */
	size_t name_len;
	size_t value_off;    /* the raw value, folds included */
	size_t value_len;
};

struct hasher {
	bool simple, limited;
	uint64_t l, seen;
	struct dkim_hash *hash;
	uint8_t digest[DKIM_HASH_LEN];
	struct dkim_body canon;
};

struct sig {
	struct dkim_sig_result r;
	bool decided;               /* r is final (found malformed in new()) */
	size_t field;
	enum dkim_alg alg;
	bool head_simple, body_simple, limited, has_i, has_x;
	uint64_t l;
	int64_t x;
	struct hasher *hasher;
	size_t h_off, h_len;        /* h= in v->header */
	size_t del_start, del_end;  /* b='s value and the whitespace around it */
	char key_name[DNS_HOST_MAX];
	char idomain[DNS_HOST_MAX];
	unsigned char bh[DKIM_HASH_LEN + 3];
	unsigned char b[DKIM_SIG_MAX + 3];
	size_t b_len;
};

struct dkim_verifier {
	char *header;
	size_t len;
	struct field *fields;
	size_t nfields;
	const char *too_big;        /* why the header is past the limits */
	struct sig sigs[DKIM_VERIFY_SIGS_MAX];
	size_t nsigs;
	struct hasher *hashers[DKIM_VERIFY_SIGS_MAX];
	size_t nhashers;
};

const char *dkim_result_name(enum dkim_result r)
{
	static const char *const names[] = { "none", "pass", "fail", "neutral", "policy",
					      "temperror", "permerror" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void decide(struct sig *s, enum dkim_result result, const char *reason)
{
	s->r.result = result;
	snprintf(s->r.reason, sizeof(s->r.reason), "%s", reason);
	s->decided = true;
}

/* A domain name or selector: letters, digits, '-', '_', dot-separated
 * labels, shorter than `max`. */
static bool name_ok(const char *s, size_t n, size_t max)
{
	if (n == 0 || n >= max || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = lower(s[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.') || (c == '.' && s[i + 1] == '.'))
			return false;
	}
	return true;
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* Digits only, at most `max` of them; saturates past UINT64_MAX. */
static bool number(const struct dkim_tag *t, size_t max, uint64_t *n_r)
{
	uint64_t n = 0;

	if (t->value_len == 0 || t->value_len > max)
		return false;
	for (size_t i = 0; i < t->value_len; i++) {
		unsigned d = (unsigned)(t->value[i] - '0');

		if (d > 9)
			return false;
		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
	}
	*n_r = n;
	return true;
}

/* What a report shows even of a malformed signature. */
static void sig_readable(struct sig *s, const struct dkim_tag *tags, size_t n)
{
	const struct dkim_tag *t;
	size_t k = 0;

	if ((t = dkim_tags_get(tags, n, "d")) != NULL && name_ok(t->value, t->value_len, DNS_HOST_MAX))
		for (size_t i = 0; i < t->value_len; i++)
			s->r.domain[i] = lower(t->value[i]);
	if ((t = dkim_tags_get(tags, n, "s")) != NULL &&
	    name_ok(t->value, t->value_len, sizeof(s->r.selector)))
		memcpy(s->r.selector, t->value, t->value_len);
	if ((t = dkim_tags_get(tags, n, "a")) != NULL && t->value_len < sizeof(s->r.alg) &&
	    printable(t->value, t->value_len))
		memcpy(s->r.alg, t->value, t->value_len);
	if ((t = dkim_tags_get(tags, n, "i")) != NULL) {
		if (t->value_len < sizeof(s->r.identity) && printable(t->value, t->value_len))
			memcpy(s->r.identity, t->value, t->value_len);
	} else if (s->r.domain[0] != '\0') {
		snprintf(s->r.identity, sizeof(s->r.identity), "@%s", s->r.domain);
	}
	if ((t = dkim_tags_get(tags, n, "b")) != NULL)
		for (size_t i = 0; i < t->value_len && k < 8; i++)
			if (!is_fws(t->value[i]) && t->value[i] > 0x20 && t->value[i] < 0x7f)
				s->r.b8[k++] = t->value[i];
}

/* c=: "header[/body]", each "simple" or "relaxed"; body defaults to simple. */
static bool canon_parse(const struct dkim_tag *t, bool *head_simple_r, bool *body_simple_r)
{
	const char *slash = memchr(t->value, '/', t->value_len);
	size_t hl = slash != NULL ? (size_t)(slash - t->value) : t->value_len;
	const char *b = slash != NULL ? slash + 1 : "simple";
	size_t bl = slash != NULL ? t->value_len - hl - 1 : 6;

	*head_simple_r = hl == 6 && strncasecmp(t->value, "simple", 6) == 0;
	*body_simple_r = bl == 6 && strncasecmp(b, "simple", 6) == 0;
	return (*head_simple_r || (hl == 7 && strncasecmp(t->value, "relaxed", 7) == 0)) &&
	       (*body_simple_r || (bl == 7 && strncasecmp(b, "relaxed", 7) == 0));
}

/* h=: field names, From among them. NULL, or why not. */
static const char *h_check(const struct dkim_tag *t)
{
	size_t pos = 0, n, count = 0;
	const char *item;
	bool from = false;

	if (t->value_len > DKIM_H_MAX)
		return "h= too long";
	while (dkim_list_next(t->value, t->value_len, &pos, &item, &n) > 0) {
		if (n == 0 || !printable(item, n))
			return "bad h=";
		if (++count > DKIM_H_NAMES_MAX)
			return "h= lists too many fields";
		from |= n == 4 && strncasecmp(item, "from", 4) == 0;
	}
	return from ? NULL : "From not signed";
}

/* i=: [local-part] "@" domain, the domain d= or a subdomain of it. */
static const char *i_check(struct sig *s, const struct dkim_tag *t, const char *d)
{
	const char *at = NULL;
	size_t dl = strlen(d), il;

	for (size_t i = 0; i < t->value_len; i++)
		if (t->value[i] == '@')
			at = t->value + i;
	if (at == NULL)
		return "bad i=";
	il = t->value_len - (size_t)(at + 1 - t->value);
	if (!name_ok(at + 1, il, DNS_HOST_MAX))
		return "bad i=";
	for (size_t i = 0; i < il; i++)
		s->idomain[i] = lower(at[1 + i]);
	s->idomain[il] = '\0';
	if (il == dl ? strcmp(s->idomain, d) != 0
		     : il < dl + 1 || s->idomain[il - dl - 1] != '.' || strcmp(s->idomain + il - dl, d) != 0)
		return "i= not in d=";
	s->has_i = true;
	return NULL;
}

/* The tags of one signature: NULL if it can be checked, else why not. */
static const char *sig_tags(struct dkim_verifier *v, struct sig *s, const struct dkim_tag *tags,
			    size_t n)
{
	static const char *const required[] = { "v", "a", "b", "bh", "d", "h", "s" };
	const struct field *f = &v->fields[s->field];
	const struct dkim_tag *t;
	const char *why;
	uint64_t tv = 0, xv = 0;
	size_t len;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (dkim_tags_get(tags, n, required[i]) == NULL) {
			static __thread char buf[40];

			snprintf(buf, sizeof(buf), "signature lacks %s=", required[i]);
			return buf;
		}
	if (!dkim_tag_is(dkim_tags_get(tags, n, "v"), "1"))
		return "unknown signature version";
	t = dkim_tags_get(tags, n, "a");
	if (dkim_tag_is(t, "rsa-sha256"))
		s->alg = DKIM_ALG_RSA;
	else if (dkim_tag_is(t, "ed25519-sha256"))
		s->alg = DKIM_ALG_ED25519;
	else if (dkim_tag_is(t, "rsa-sha1"))
		return "rsa-sha1 not accepted";   /* RFC 8301 3.1 */
	else
		return "unknown algorithm";
	s->head_simple = s->body_simple = true;
	if ((t = dkim_tags_get(tags, n, "c")) != NULL &&
	    !canon_parse(t, &s->head_simple, &s->body_simple))
		return "unknown canonicalization";
	if ((t = dkim_tags_get(tags, n, "q")) != NULL && !dkim_list_has(t->value, t->value_len, "dns/txt"))
		return "unknown query method";
	if (s->r.domain[0] == '\0')
		return "bad d=";
	if (s->r.selector[0] == '\0')
		return "bad s=";
	if ((size_t)snprintf(s->key_name, sizeof(s->key_name), "%s._domainkey.%s", s->r.selector,
			     s->r.domain) >= sizeof(s->key_name) - 1)
		return "key name too long";
	t = dkim_tags_get(tags, n, "h");
	if ((why = h_check(t)) != NULL)
		return why;
	s->h_off = (size_t)(t->value - v->header);
	s->h_len = t->value_len;
	if ((t = dkim_tags_get(tags, n, "i")) != NULL && (why = i_check(s, t, s->r.domain)) != NULL)
		return why;
	t = dkim_tags_get(tags, n, "bh");
	if (dkim_b64_decode(t->value, t->value_len, s->bh, sizeof(s->bh), &len) <= 0 ||
	    len != DKIM_HASH_LEN)
		return "bad bh=";
	t = dkim_tags_get(tags, n, "b");
	if (dkim_b64_decode(t->value, t->value_len, s->b, sizeof(s->b), &s->b_len) <= 0 ||
	    s->b_len == 0 || s->b_len > DKIM_SIG_MAX)
		return "bad b=";
	/* 3.5: b= is hashed as empty, its surrounding whitespace removed. */
	s->del_start = f->value_off + t->eq;
	s->del_end = f->value_off + t->end;
	if ((t = dkim_tags_get(tags, n, "l")) != NULL) {
		if (!number(t, DKIM_L_DIGITS_MAX, &s->l))
			return "bad l=";
		s->limited = true;
	}
	if ((t = dkim_tags_get(tags, n, "t")) != NULL && !number(t, DKIM_NUM_DIGITS_MAX, &tv))
		return "bad t=";
	if ((t = dkim_tags_get(tags, n, "x")) != NULL) {
		if (!number(t, DKIM_NUM_DIGITS_MAX, &xv))
			return "bad x=";
		if (dkim_tags_get(tags, n, "t") != NULL && xv < tv)
			return "x= is before t=";
		s->has_x = true;
		s->x = (int64_t)xv;
	}
	return NULL;
}

static void sig_parse(struct dkim_verifier *v, struct sig *s, size_t field)
{
	const struct field *f = &v->fields[field];
	struct dkim_tag tags[DKIM_TAGS_MAX];
	const char *why;
	size_t n;

	s->field = field;
	if (dkim_tags_parse(v->header + f->value_off, f->value_len, tags, DKIM_TAGS_MAX, &n,
			    &why) <= 0) {
		char buf[sizeof(s->r.reason)];

		snprintf(buf, sizeof(buf), "malformed signature: %s", why);
		decide(s, DKIM_PERMERROR, buf);
		return;
	}
	sig_readable(s, tags, n);
	if ((why = sig_tags(v, s, tags, n)) == NULL)
		why = v->too_big;
	if (why != NULL)
		decide(s, DKIM_PERMERROR, why);
}

static void body_hashed(void *ctx, const char *data, size_t len)
{
	struct hasher *h = ctx;
	size_t n = len;

	if (h->limited) {
		uint64_t room = h->seen < h->l ? h->l - h->seen : 0;

		if (n > room)
			n = (size_t)room;
	}
	if (n > 0)
		dkim_hash_update(h->hash, data, n);
	h->seen += len;
}

/* The body hasher for a signature's (canonicalisation, l=), shared. */
static int hasher_for(struct dkim_verifier *v, struct sig *s, const char **error_r)
{
	struct hasher *h;

	for (size_t i = 0; i < v->nhashers; i++) {
		h = v->hashers[i];
		if (h->simple == s->body_simple && h->limited == s->limited &&
		    (!h->limited || h->l == s->l)) {
			s->hasher = h;
			return 0;
		}
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (dkim_hash_new(&h->hash, error_r) < 0) {
		free(h);
		return -1;
	}
	h->simple = s->body_simple;
	h->limited = s->limited;
	h->l = s->l;
	if (h->simple)
		dkim_body_init_simple(&h->canon, body_hashed, h);
	else
		dkim_body_init(&h->canon, body_hashed, h);
	v->hashers[v->nhashers++] = h;
	s->hasher = h;
	return 0;
}

int dkim_verifier_new(const char *header, size_t len, struct dkim_verifier **v_r,
		      const char **error_r)
{
	struct dkim_verifier *v = calloc(1, sizeof(*v));
	struct mime_header_field f;
	size_t pos = 0;

	*v_r = NULL;
	if (v == NULL)
		goto oom;
	if (len > DKIM_HEADER_MAX) {
		/* Only to find the signatures, each of which fails. */
		v->too_big = "the header is too large";
		len = DKIM_HEADER_MAX;
	}
	v->len = len;
	if ((v->header = malloc(len + 1)) == NULL ||
	    (v->fields = calloc(DKIM_FIELDS_MAX, sizeof(*v->fields))) == NULL)
		goto oom;
	memcpy(v->header, header, len);
	v->header[len] = '\0';
	while (mime_header_next(v->header, len, &pos, &f) > 0) {
		if (v->nfields == DKIM_FIELDS_MAX) {
			v->too_big = "the header has too many fields";
			break;
		}
		v->fields[v->nfields++] = (struct field){ f.offset, f.name_len,
							  (size_t)(f.value - v->header), f.value_len };
	}
	for (size_t i = 0; i < v->nfields && v->nsigs < DKIM_VERIFY_SIGS_MAX; i++)
		if (v->fields[i].name_len == 14 &&
		    strncasecmp(v->header + v->fields[i].start, "dkim-signature", 14) == 0)
			sig_parse(v, &v->sigs[v->nsigs++], i);
	if (v->nsigs == 0) {
		dkim_verifier_free(&v);
		return 0;
	}
	for (size_t i = 0; i < v->nsigs; i++)
		if (!v->sigs[i].decided && hasher_for(v, &v->sigs[i], error_r) < 0) {
			dkim_verifier_free(&v);
			return -1;
		}
	*v_r = v;
	return 1;
oom:
	dkim_verifier_free(&v);
	*error_r = "out of memory";
	return -1;
}

void dkim_verifier_body(struct dkim_verifier *v, const char *data, size_t len)
{
	for (size_t i = 0; i < v->nhashers; i++)
		dkim_body_update(&v->hashers[i]->canon, data, len);
}

void dkim_verifier_free(struct dkim_verifier **vp)
{
	struct dkim_verifier *v = *vp;

	if (v == NULL)
		return;
	*vp = NULL;
	for (size_t i = 0; i < v->nhashers; i++) {
		dkim_hash_free(&v->hashers[i]->hash);
		free(v->hashers[i]);
	}
	free(v->fields);
	free(v->header);
	free(v);
}

/* The data a signature signs (3.7): the h= fields, each instance from the
 * bottom up, then the DKIM-Signature field with b= empty and no final CRLF.
 * Malloc'd into *data_r; -1 out of memory. */
static int signed_data(const struct dkim_verifier *v, const struct sig *s, char **data_r,
		       size_t *len_r)
{
	const struct field *sf = &v->fields[s->field];
	size_t sig_end = sf->value_off + sf->value_len, pos = 0, n, o = 0;
	/* Each field at most once through h= (relaxed adds at most 3 bytes),
	 * and the signature field once more at the end. */
	size_t cap = v->len + 3 * v->nfields + (sig_end - sf->start) + 8;
	bool *used = calloc(v->nfields, sizeof(*used));
	char *data = malloc(cap), *value = malloc(sf->value_len + 1);
	const char *item;

	if (used == NULL || data == NULL || value == NULL) {
		free(used);
		free(data);
		free(value);
		return -1;
	}
	while (dkim_list_next(v->header + s->h_off, s->h_len, &pos, &item, &n) > 0) {
		for (size_t i = v->nfields; i-- > 0;) {
			const struct field *f = &v->fields[i];

			if (used[i] || f->name_len != n || strncasecmp(v->header + f->start, item, n) != 0)
				continue;
			used[i] = true;
			o += s->head_simple
			     ? dkim_canon_header_simple(v->header + f->start,
							f->value_off + f->value_len - f->start, data + o)
			     : dkim_canon_header(v->header + f->start, f->name_len,
						 v->header + f->value_off, f->value_len, data + o);
			break;
		}
	}
	/* The signature field, without the bytes of b='s value. */
	n = s->del_start - sf->value_off;
	memcpy(value, v->header + sf->value_off, n);
	memcpy(value + n, v->header + s->del_end, sig_end - s->del_end);
	n += sig_end - s->del_end;
	if (s->head_simple) {
		size_t prefix = sf->value_off - sf->start;

		memcpy(data + o, v->header + sf->start, prefix);
		memcpy(data + o + prefix, value, n);
		o += prefix + n;
	} else {
		o += dkim_canon_header(v->header + sf->start, sf->name_len, value, n, data + o) - 2;
	}
	free(used);
	free(value);
	*data_r = data;
	*len_r = o;
	return 0;
}

/* The key record of a signature: 1 with *k, 0 the result is decided. */
static int key_fetch(struct sig *s, const struct dns_lookup *dns, struct dkim_key_record *k)
{
	struct dns_txt txt;
	const char *err = NULL, *why;
	int st, r = 0;

	memset(&txt, 0, sizeof(txt));
	st = dns->txt(dns->ctx, s->key_name, &txt, &err);
	if (st == DNS_TEMPFAIL || (st != DNS_FOUND && st != DNS_NODATA && st != DNS_NXDOMAIN))
		decide(s, DKIM_TEMPERROR, "key lookup failed");
	else if (st != DNS_FOUND || (txt.n == 0 && !txt.overflow))
		decide(s, DKIM_PERMERROR, "no key");
	else if (txt.n == 0)
		decide(s, DKIM_PERMERROR, "key record unreadable");
	else if (txt.n > 1 || txt.overflow)
		decide(s, DKIM_PERMERROR, "several key records");
	else if (dkim_key_record_parse(txt.rec[0], txt.len[0], k, &why) <= 0)
		decide(s, DKIM_PERMERROR, why);
	else
		r = 1;
	dns_txt_free(&txt);
	return r;
}

static void sig_check(const struct dkim_verifier *v, struct sig *s, const struct dns_lookup *dns,
		      int64_t now)
{
	struct dkim_key_record k;
	const struct hasher *h = s->hasher;
	const char *err = "signature did not verify";
	char *data;
	size_t len;
	int r;

	if (s->has_x && s->x < now) {
		decide(s, DKIM_FAIL, "signature expired");
		return;
	}
	if (key_fetch(s, dns, &k) <= 0)
		return;
	s->r.testing = k.testing;
	if (k.alg != s->alg) {
		decide(s, DKIM_PERMERROR, "key type does not match a=");
		return;
	}
	if (k.strict && s->has_i && strcmp(s->idomain, s->r.domain) != 0) {
		decide(s, DKIM_PERMERROR, "key requires i= domain to be d= (t=s)");
		return;
	}
	if (h->limited && h->seen < h->l) {
		decide(s, DKIM_FAIL, "body shorter than l=");
		return;
	}
	if (memcmp(h->digest, s->bh, DKIM_HASH_LEN) != 0) {
		decide(s, DKIM_FAIL, "body hash did not verify");
		return;
	}
	if (signed_data(v, s, &data, &len) < 0) {
		decide(s, DKIM_TEMPERROR, "out of memory");
		return;
	}
	r = dkim_key_verify(s->alg, k.key, k.key_len, data, len, s->b, s->b_len, &err);
	free(data);
	if (r > 0)
		decide(s, DKIM_PASS, "");
	else
		decide(s, r == 0 ? DKIM_FAIL : DKIM_PERMERROR, err);
}

size_t dkim_verifier_finish(struct dkim_verifier **vp, const struct dns_lookup *dns, int64_t now,
			    struct dkim_sig_result *res, size_t max)
{
	struct dkim_verifier *v = *vp;
	size_t n = 0;

	for (size_t i = 0; i < v->nhashers; i++) {
		dkim_body_finish(&v->hashers[i]->canon);
		dkim_hash_finish(&v->hashers[i]->hash, v->hashers[i]->digest);
	}
	for (; n < v->nsigs && n < max; n++) {
		if (!v->sigs[n].decided)
			sig_check(v, &v->sigs[n], dns, now);
		res[n] = v->sigs[n].r;
	}
	dkim_verifier_free(vp);
	return n;
}
