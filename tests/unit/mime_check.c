/* Shared checks for the MIME tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "charset.h"
#include "mime_check.h"

/* Blobs up to this size get the exhaustive truncation/corruption pass
 * (quadratic in the blob size). */
#define EXHAUSTIVE_BLOB_MAX 3000

size_t mime_check_offset(const char *data, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++) {
		if (memcmp(data + i, needle, n) == 0)
			return i;
	}
	fail_msg("\"%s\" not in the message", needle);
	return 0;
}

static void check_raw(const char *s)
{
	if (s == NULL)
		return;
	assert_null(strpbrk(s, "\r\n"));
}

static void check_decoded(const char *s)
{
	assert_non_null(s);
	size_t n = strlen(s);
	assert_true(charset_utf8_valid(s, n));
	for (size_t i = 0; i < n; i++)
		assert_false((unsigned char)s[i] < 0x20 || s[i] == 0x7f);
}

static void check_token(const char *s)
{
	if (s == NULL)
		return;
	assert_true(s[0] != '\0');
	for (const char *p = s; *p != '\0'; p++)
		assert_false((*p >= 'A' && *p <= 'Z') || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f);
}

static void check_params(const struct mime_params *params)
{
	for (uint32_t i = 0; i < params->count; i++) {
		const struct mime_param *p = &params->items[i];
		check_token(p->name);
		check_decoded(p->value);
		check_raw(p->raw_value);
		size_t n = strlen(p->name);
		assert_int_equal(strncmp(p->raw_name, p->name, n), 0);
		assert_true(p->raw_name[n] == '\0' || strcmp(p->raw_name + n, "*") == 0);
	}
}

static void check_addresses(const struct mime_addresses *list)
{
	bool in_group = false;
	for (uint32_t i = 0; i < list->count; i++) {
		const struct address *a = &list->items[i];
		check_raw(a->name);
		check_raw(a->route);
		check_raw(a->mailbox);
		check_raw(a->host);
		if (a->host == NULL) {
			assert_null(a->name);
			assert_null(a->route);
			assert_true((a->mailbox != NULL) != in_group);
			in_group = a->mailbox != NULL;
		} else {
			assert_non_null(a->mailbox);
		}
	}
	assert_false(in_group);
}

static bool is_message_type(const struct mime_part *p)
{
	return strcmp(p->type, "message") == 0 &&
		(strcmp(p->subtype, "rfc822") == 0 || strcmp(p->subtype, "global") == 0);
}

void mime_check_invariants(const struct mime_message *msg)
{
	assert_true(msg->nparts >= 1);
	assert_ptr_equal(msg->root, msg->parts[0]);
	assert_null(msg->root->parent);
	assert_int_equal(msg->root->header_offset, 0);
	assert_int_equal(msg->root->body_offset + msg->root->body_len, msg->size);
	uint32_t flags = 0, i = 0;
	for (const struct mime_part *p = msg->root; p != NULL; p = mime_part_next(p), i++) {
		assert_true(i < msg->nparts);
		assert_ptr_equal(p, msg->parts[i]);
		flags |= p->flags;
		assert_int_equal(p->body_offset, p->header_offset + p->header_len);
		assert_true(p->body_offset + p->body_len <= msg->size);
		assert_true(p->body_lines <= p->body_len);
		check_token(p->type);
		check_token(p->subtype);
		check_token(p->encoding);
		check_token(p->disposition);
		check_raw(p->id);
		check_raw(p->description);
		check_raw(p->language);
		check_raw(p->location);
		check_raw(p->md5);
		check_params(&p->params);
		check_params(&p->disposition_params);
		const struct mime_part *parent = p->parent;
		if (parent != NULL) {
			assert_int_equal(p->depth, parent->depth + 1);
			assert_ptr_equal(parent->children[p->index], p);
			assert_true(p->header_offset >= parent->body_offset);
			assert_true(p->body_offset + p->body_len <= parent->body_offset + parent->body_len);
			if (p->index > 0) {
				const struct mime_part *prev = parent->children[p->index - 1];
				assert_true(p->header_offset >= prev->body_offset + prev->body_len);
			}
			assert_true(mime_part_is_multipart(parent) || is_message_type(parent));
			assert_int_equal(p->envelope != NULL, is_message_type(parent));
		} else {
			assert_int_equal(p->depth, 0);
			assert_non_null(p->envelope);
		}
		if (p->envelope != NULL) {
			const struct mime_envelope *e = p->envelope;
			check_raw(e->date);
			check_raw(e->subject);
			check_raw(e->in_reply_to);
			check_raw(e->message_id);
			check_addresses(&e->from);
			check_addresses(&e->sender);
			check_addresses(&e->reply_to);
			check_addresses(&e->to);
			check_addresses(&e->cc);
			check_addresses(&e->bcc);
		}
		/* section numbers lead back to the part (a multipart encapsulated
		 * message shares its number with its message/rfc822 part) */
		char section[MIME_SECTION_MAX];
		assert_true(mime_part_section(p, section, sizeof(section)) >= 0);
		const struct mime_part *found = mime_part_find(msg, section);
		if (mime_part_is_message(p) && mime_part_is_multipart(p) && parent != NULL)
			assert_ptr_equal(found, parent);
		else
			assert_ptr_equal(found, p);
	}
	assert_int_equal(i, msg->nparts);
	assert_int_equal(flags, msg->flags);
}

static void equal_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void equal_params(const struct mime_params *a, const struct mime_params *b)
{
	assert_int_equal(a->count, b->count);
	for (uint32_t i = 0; i < a->count; i++) {
		equal_str(a->items[i].name, b->items[i].name);
		equal_str(a->items[i].value, b->items[i].value);
		equal_str(a->items[i].raw_name, b->items[i].raw_name);
		equal_str(a->items[i].raw_value, b->items[i].raw_value);
	}
}

static void equal_addresses(const struct mime_addresses *a, const struct mime_addresses *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->flags, b->flags);
	for (uint32_t i = 0; i < a->count; i++) {
		equal_str(a->items[i].name, b->items[i].name);
		equal_str(a->items[i].route, b->items[i].route);
		equal_str(a->items[i].mailbox, b->items[i].mailbox);
		equal_str(a->items[i].host, b->items[i].host);
	}
}

void mime_check_equal(const struct mime_message *a, const struct mime_message *b)
{
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->nparts, b->nparts);
	for (uint32_t i = 0; i < a->nparts; i++) {
		const struct mime_part *x = a->parts[i], *y = b->parts[i];
		assert_int_equal(x->nchildren, y->nchildren);
		assert_int_equal(x->index, y->index);
		assert_int_equal(x->depth, y->depth);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->header_offset, y->header_offset);
		assert_int_equal(x->header_len, y->header_len);
		assert_int_equal(x->body_offset, y->body_offset);
		assert_int_equal(x->body_len, y->body_len);
		assert_int_equal(x->body_lines, y->body_lines);
		equal_str(x->type, y->type);
		equal_str(x->subtype, y->subtype);
		equal_params(&x->params, &y->params);
		equal_str(x->id, y->id);
		equal_str(x->description, y->description);
		equal_str(x->encoding, y->encoding);
		assert_int_equal(x->transfer, y->transfer);
		equal_str(x->disposition, y->disposition);
		equal_params(&x->disposition_params, &y->disposition_params);
		equal_str(x->language, y->language);
		equal_str(x->location, y->location);
		equal_str(x->md5, y->md5);
		assert_int_equal(x->envelope != NULL, y->envelope != NULL);
		if (x->envelope != NULL) {
			const struct mime_envelope *e = x->envelope, *f = y->envelope;
			equal_str(e->date, f->date);
			equal_str(e->subject, f->subject);
			equal_str(e->in_reply_to, f->in_reply_to);
			equal_str(e->message_id, f->message_id);
			equal_addresses(&e->from, &f->from);
			equal_addresses(&e->sender, &f->sender);
			equal_addresses(&e->reply_to, &f->reply_to);
			equal_addresses(&e->to, &f->to);
			equal_addresses(&e->cc, &f->cc);
			equal_addresses(&e->bcc, &f->bcc);
		}
	}
}

/* A corrupt or truncated blob must be refused, or decode to a valid tree. */
static void decode_must_be_safe(const void *blob, size_t len)
{
	struct mime_message *msg = NULL;
	const char *error = NULL;
	int r = mime_cache_decode(blob, len, &msg, &error);
	assert_true(r == 0 || r == 1);
	if (r == 0) {
		assert_null(msg);
		assert_non_null(error);
	} else {
		mime_check_invariants(msg);
		mime_message_free(&msg);
	}
}

void mime_check_roundtrip(const struct mime_message *msg)
{
	void *blob;
	size_t len;
	const char *error;
	assert_int_equal(mime_cache_encode(msg, &blob, &len, &error), 1);
	assert_int_equal(((unsigned char *)blob)[0], MIME_CACHE_VERSION);
	struct mime_message *copy;
	assert_int_equal(mime_cache_decode(blob, len, &copy, &error), 1);
	mime_check_invariants(copy);
	mime_check_equal(msg, copy);
	mime_message_free(&copy);
	assert_null(copy);
	/* every strict prefix is refused */
	size_t step = len <= EXHAUSTIVE_BLOB_MAX ? 1 : len / 20 + 1;
	for (size_t n = 0; n < len; n += step) {
		struct mime_message *m = NULL;
		assert_int_equal(mime_cache_decode(blob, n, &m, &error), 0);
		assert_null(m);
	}
	/* and so is trailing junk */
	unsigned char *buf = malloc(len + 1);
	assert_non_null(buf);
	memcpy(buf, blob, len);
	buf[len] = 0;
	struct mime_message *m = NULL;
	assert_int_equal(mime_cache_decode(buf, len + 1, &m, &error), 0);
	/* single-byte corruption anywhere: refused or valid, never a crash */
	for (size_t i = 0; i < len; i += step) {
		static const unsigned char flips[] = { 0xff, 0x01, 0x80, 0x7f };
		for (size_t f = 0; f < sizeof(flips); f++) {
			buf[i] ^= flips[f];
			decode_must_be_safe(buf, len);
			buf[i] ^= flips[f];
		}
	}
	buf[0] = MIME_CACHE_VERSION + 1;
	assert_int_equal(mime_cache_decode(buf, len, &m, &error), 0);
	assert_string_equal(error, "unknown version");
	free(buf);
	free(blob);
}

struct mime_message *mime_check_parse(const char *data, size_t len, const struct mime_limits *limits,
				      int expect)
{
	struct mime_message *msg = NULL;
	const char *error = NULL;
	int r = mime_parse(data, len, limits, &msg, &error);
	assert_int_equal(r, expect);
	assert_non_null(msg);
	assert_int_equal(msg->size, len);
	mime_check_invariants(msg);
	mime_check_roundtrip(msg);
	return msg;
}
