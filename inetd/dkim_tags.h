/* DKIM tag lists (RFC 6376 3.2) and key records (3.6.1): pure parsers over
 * bytes, shared by the signature field and the key record so that both
 * follow one grammar (tests/unit/test_dkim_verify.c, fuzz_dkim_verify.c). */
#ifndef PB_DKIM_TAGS_H
#define PB_DKIM_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "dkim_key.h"

/* Tags in one list: a signature has 14 defined tags, a key record 7; more
 * than this is not a DKIM list. */
#define DKIM_TAGS_MAX 32
/* The decoded p= of a key record: an RSA-8192 SubjectPublicKeyInfo is
 * about 1,060 bytes. */
#define DKIM_KEY_DER_MAX 1200

struct dkim_tag {
	const char *name;
	size_t name_len;
	const char *value;   /* without the whitespace around it */
	size_t value_len;
	size_t eq, end;      /* offsets in the list: just after the '=', and the
				';' (or the end) that closes the tag */
};

/* Parses `s` (len bytes) as a tag list: tag-spec *(";" tag-spec) [";"],
 * with FWS (SP, HTAB, CR, LF) allowed around names and values and inside
 * values. 1 with the tags in tags[0..*n_r), 0 malformed (an empty spec, a
 * bad name, a control byte, a duplicate tag, more than `max` tags) with
 * *why_r saying which. */
int dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags, size_t max, size_t *n_r,
		    const char **why_r);
/* The tag called `name`, or NULL. */
const struct dkim_tag *dkim_tags_get(const struct dkim_tag *tags, size_t n, const char *name);
/* The value is `word` (ASCII case-insensitive). */
bool dkim_tag_is(const struct dkim_tag *tag, const char *word);

/* Iterates over a colon-separated list (h=, q=, the key's h=, s=, t=):
 * *pos starts at 0; each item comes without whitespace around it. 1 with
 * an item, 0 at the end. */
int dkim_list_next(const char *v, size_t len, size_t *pos, const char **item_r,
		   size_t *item_len_r);
/* The list holds `word` (ASCII case-insensitive). */
bool dkim_list_has(const char *v, size_t len, const char *word);

/* Base64 with whitespace inside (b=, bh=, p=) into out, a buffer of `max`
 * bytes: 1 with *len_r, 0 not clean base64 or too long for out (checked
 * before decoding). */
int dkim_b64_decode(const char *v, size_t len, unsigned char *out, size_t max, size_t *len_r);

/* A key record (RFC 6376 3.6.1, RFC 8463 4). */
struct dkim_key_record {
	enum dkim_alg alg;        /* k= (default rsa) */
	bool testing;             /* t=y */
	bool strict;              /* t=s: i= must be in d= itself */
	unsigned char key[DKIM_KEY_DER_MAX + 3];
	size_t key_len;
};
/* 1 parsed, 0 not usable (*why_r: "key revoked", "unknown key type",
 * "key not for email", ...). */
int dkim_key_record_parse(const char *rec, size_t len, struct dkim_key_record *k,
			  const char **why_r);

#endif
