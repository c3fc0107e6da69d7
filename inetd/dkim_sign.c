/* Building and signing a DKIM-Signature field (dkim_sign.h). */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dkim_canon.h"
#include "dkim_sign.h"

/* Folded lines of the field stay under RFC 5322's 78 octets. */
#define DKIM_FOLD 72
/* The field without b=: tags of known length, h= and a long domain. */
#define DKIM_FIELD_MAX (DKIM_H_MAX + DKIM_H_MAX / DKIM_FOLD * 3 + 1024)

struct dkim_signer {
	struct dkim_headers headers;
	struct dkim_hash *body_hash;
	struct dkim_body body;
};

static void body_hashed(void *ctx, const char *data, size_t len)
{
	dkim_hash_update(ctx, data, len);
}

int dkim_signer_new(const char *header, size_t len, struct dkim_signer **signer_r,
		    const char **why_r)
{
	struct dkim_signer *s = calloc(1, sizeof(*s));
	int r;

	*signer_r = NULL;
	if (s == NULL) {
		*why_r = "out of memory";
		return -1;
	}
	r = dkim_headers_select(header, len, &s->headers, why_r);
	if (r == 1 && dkim_hash_new(&s->body_hash, why_r) < 0)
		r = -1;
	if (r != 1) {
		if (r < 0 && *why_r == NULL)
			*why_r = "out of memory";
		dkim_signer_free(&s);
		return r;
	}
	dkim_body_init(&s->body, body_hashed, s->body_hash);
	*signer_r = s;
	return 1;
}

const char *dkim_signer_from_domain(const struct dkim_signer *s)
{
	return s->headers.from_domain;
}

void dkim_signer_body(struct dkim_signer *s, const char *data, size_t len)
{
	dkim_body_update(&s->body, data, len);
}

void dkim_signer_free(struct dkim_signer **signer)
{
	struct dkim_signer *s = *signer;

	if (s == NULL)
		return;
	*signer = NULL;
	dkim_hash_free(&s->body_hash);
	dkim_headers_clear(&s->headers);
	free(s);
}

/* Appends a tag to the field being built, folding before it when the line
 * would pass DKIM_FOLD; h= is folded after its colons. */
struct field {
	char *buf;
	size_t len, cap, col;
};

static void field_add(struct field *f, const char *s, size_t n)
{
	if (f->len + n < f->cap) {
		memcpy(f->buf + f->len, s, n);
		f->len += n;
		f->col += n;
	}
	f->buf[f->len] = '\0';
}

static void field_fold(struct field *f)
{
	field_add(f, "\r\n\t", 3);
	f->col = 1;
}

static void field_tag(struct field *f, const char *tag)
{
	size_t n = strlen(tag);

	if (f->col > 1 && f->col + 1 + n > DKIM_FOLD)
		field_fold(f);
	else if (f->col > 1)
		field_add(f, " ", 1);
	field_add(f, tag, n);
}

static void field_h(struct field *f, const char *h)
{
	if (f->col + 3 > DKIM_FOLD)
		field_fold(f);
	else
		field_add(f, " ", 1);
	field_add(f, "h=", 2);
	while (*h != '\0') {
		const char *colon = strchr(h, ':');
		size_t n = colon != NULL ? (size_t)(colon - h) + 1 : strlen(h);

		if (f->col + n + 1 > DKIM_FOLD)
			field_fold(f);
		field_add(f, h, n);
		h += n;
	}
	field_add(f, ";", 1);
}

int dkim_signer_finish(struct dkim_signer **signer, const struct dkim_sign_key *key, int64_t now,
		       char **field_r, size_t *len_r, const char **error_r)
{
	struct dkim_signer *s = *signer;
	uint8_t bh[DKIM_HASH_LEN];
	char bh64[BASE64_ENCODED_MAX(DKIM_HASH_LEN) + 1], tag[STORE_DOMAIN_MAX + 80];
	struct field f = { .cap = DKIM_FIELD_MAX };
	char *data = NULL, *b64 = NULL, *out = NULL;
	size_t data_len, b64_len, canon;
	int r = -1;

	*field_r = NULL;
	dkim_body_finish(&s->body);
	dkim_hash_finish(&s->body_hash, bh);
	bh64[base64_encode(bh, sizeof(bh), 0, bh64)] = '\0';
	if ((f.buf = malloc(f.cap)) == NULL)
		goto oom;
	f.buf[0] = '\0';
	field_add(&f, "DKIM-Signature: v=1;", 20);
	snprintf(tag, sizeof(tag), "a=%s;", dkim_alg_sig_name(key->alg));
	field_tag(&f, tag);
	field_tag(&f, "c=relaxed/relaxed;");
	snprintf(tag, sizeof(tag), "d=%s;", key->domain);
	field_tag(&f, tag);
	snprintf(tag, sizeof(tag), "s=%s;", key->selector);
	field_tag(&f, tag);
	snprintf(tag, sizeof(tag), "t=%" PRId64 ";", now);
	field_tag(&f, tag);
	field_h(&f, s->headers.h);
	snprintf(tag, sizeof(tag), "bh=%s;", bh64);
	field_tag(&f, tag);
	field_tag(&f, "b=");
	/* The data signed: the chosen fields, then this field with an empty
	 * b= and no final CRLF (RFC 6376 3.7). */
	canon = s->headers.canon_len;
	if ((data = malloc(canon + f.len + 3)) == NULL)
		goto oom;
	memcpy(data, s->headers.canon, canon);
	data_len = canon + dkim_canon_header(f.buf, 14, f.buf + 15, f.len - 15, data + canon) - 2;
	r = dkim_key_sign(key->alg, key->pem, key->pem_len, data, data_len, &b64, error_r);
	if (r <= 0)
		goto out;
	b64_len = strlen(b64);
	/* b= folded in pieces; whitespace inside it is ignored (3.5). */
	if ((out = malloc(f.len + b64_len + b64_len / 8 + 8)) == NULL)
		goto oom;
	memcpy(out, f.buf, f.len);
	*len_r = f.len;
	for (size_t i = 0, col = f.col; i < b64_len;) {
		size_t room = col < DKIM_FOLD ? DKIM_FOLD - col : 0;
		size_t n = b64_len - i < room ? b64_len - i : room;

		if (n == 0) {
			memcpy(out + *len_r, "\r\n\t", 3);
			*len_r += 3;
			col = 1;
			continue;
		}
		memcpy(out + *len_r, b64 + i, n);
		*len_r += n;
		i += n;
		col += n;
	}
	memcpy(out + *len_r, "\r\n", 3);
	*len_r += 2;
	*field_r = out;
	r = 1;
	goto out;
oom:
	*error_r = "out of memory";
	r = -1;
out:
	free(f.buf);
	free(data);
	free(b64);
	dkim_signer_free(signer);
	return r;
}
