/* The cache: a parsed tree as a compact, versioned, bounds-checked blob.
 *
 * Format (MIME_CACHE_VERSION 1). Integers are LEB128 varints ("v"); "s" is a
 * string (v length, bytes); "n" a string that may be NULL (v 0 = NULL, else
 * length + 1, bytes); "u8" one byte.
 *
 *   u8 version, v size, v nparts, then each part in pre-order:
 *     v depth, v flags, v header_offset - previous part's header_offset,
 *     v header_len, v body_offset - (header_offset + header_len), v body_len,
 *     v body_lines, s type, s subtype, params, n id, n description,
 *     n encoding, n disposition, params (disposition), n language,
 *     n location, n md5, u8 has_envelope [envelope]
 *   params:   v count, count x (s name, u8 bits, s value [s raw_value])
 *             bits: 1 = raw_name is name + "*", 2 = raw_value == value
 *   envelope: n date, n subject, n in_reply_to, n message_id,
 *             6 x (v count, v flags, count x (n name, n route, n mailbox, n host))
 *             for from, sender, reply_to, to, cc, bcc.
 *
 * Decoding checks every length against what is left, every count before
 * allocating, and the tree invariants documented in mime.h. */
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "mime_buf.h"
#include "mime_private.h"

/* The smallest encoding of a part, a parameter and an address: bounds for
 * counts read from a blob before anything is allocated. */
#define CACHE_PART_MIN 20
#define CACHE_PARAM_MIN 4
#define CACHE_ADDRESS_MIN 4

enum { PARAM_EXTENDED = 1, PARAM_RAW_SAME = 2 };

/* --------------------------------------------------------------- encoding */

static void put_varint(struct mbuf *b, uint64_t v)
{
	char buf[10];
	size_t n = 0;
	do {
		buf[n++] = (char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
	} while (v > 0);
	mbuf_append(b, buf, n);
}

static void put_str(struct mbuf *b, const char *s)
{
	size_t n = strlen(s);
	put_varint(b, n);
	mbuf_append(b, s, n);
}

static void put_nstr(struct mbuf *b, const char *s)
{
	if (s == NULL) {
		put_varint(b, 0);
		return;
	}
	size_t n = strlen(s);
	put_varint(b, (uint64_t)n + 1);
	mbuf_append(b, s, n);
}

static void put_params(struct mbuf *b, const struct mime_params *params)
{
	put_varint(b, params->count);
	for (uint32_t i = 0; i < params->count; i++) {
		const struct mime_param *p = &params->items[i];
		bool same = strcmp(p->raw_value, p->value) == 0;
		bool ext = strcmp(p->raw_name, p->name) != 0;
		put_str(b, p->name);
		mbuf_putc(b, (char)((ext ? PARAM_EXTENDED : 0) | (same ? PARAM_RAW_SAME : 0)));
		put_str(b, p->value);
		if (!same)
			put_str(b, p->raw_value);
	}
}

static void put_addresses(struct mbuf *b, const struct mime_addresses *list)
{
	put_varint(b, list->count);
	put_varint(b, list->flags);
	for (uint32_t i = 0; i < list->count; i++) {
		const struct address *a = &list->items[i];
		put_nstr(b, a->name);
		put_nstr(b, a->route);
		put_nstr(b, a->mailbox);
		put_nstr(b, a->host);
	}
}

static void put_envelope(struct mbuf *b, const struct mime_envelope *env)
{
	put_nstr(b, env->date);
	put_nstr(b, env->subject);
	put_nstr(b, env->in_reply_to);
	put_nstr(b, env->message_id);
	put_addresses(b, &env->from);
	put_addresses(b, &env->sender);
	put_addresses(b, &env->reply_to);
	put_addresses(b, &env->to);
	put_addresses(b, &env->cc);
	put_addresses(b, &env->bcc);
}

int mime_cache_encode(const struct mime_message *msg, void **blob_r, size_t *len_r,
		      const char **error_r)
{
	struct mbuf b = { 0 };
	uint64_t prev_offset = 0;
	mbuf_putc(&b, MIME_CACHE_VERSION);
	put_varint(&b, msg->size);
	put_varint(&b, msg->nparts);
	for (uint32_t i = 0; i < msg->nparts; i++) {
		const struct mime_part *p = msg->parts[i];
		put_varint(&b, p->depth);
		put_varint(&b, p->flags);
		put_varint(&b, p->header_offset - prev_offset);
		put_varint(&b, p->header_len);
		put_varint(&b, p->body_offset - (p->header_offset + p->header_len));
		put_varint(&b, p->body_len);
		put_varint(&b, p->body_lines);
		put_str(&b, p->type);
		put_str(&b, p->subtype);
		put_params(&b, &p->params);
		put_nstr(&b, p->id);
		put_nstr(&b, p->description);
		put_nstr(&b, p->encoding);
		put_nstr(&b, p->disposition);
		put_params(&b, &p->disposition_params);
		put_nstr(&b, p->language);
		put_nstr(&b, p->location);
		put_nstr(&b, p->md5);
		mbuf_putc(&b, p->envelope != NULL);
		if (p->envelope != NULL)
			put_envelope(&b, p->envelope);
		prev_offset = p->header_offset;
	}
	size_t len;
	char *blob = mbuf_steal(&b, &len);
	if (blob == NULL) {
		*error_r = "out of memory encoding the MIME cache";
		return -1;
	}
	*blob_r = blob;
	*len_r = len;
	return 1;
}

/* --------------------------------------------------------------- decoding */

struct reader {
	const unsigned char *p, *end;
	struct mime_arena *arena;
	const char *error; /* first problem found */
	bool oom;
};

static bool fail(struct reader *r, const char *error)
{
	if (r->error == NULL)
		r->error = error;
	return false;
}

static bool ok(const struct reader *r)
{
	return r->error == NULL && !r->oom;
}

static size_t left(const struct reader *r)
{
	return (size_t)(r->end - r->p);
}

static uint64_t get_varint(struct reader *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			fail(r, "truncated");
			return 0;
		}
		unsigned char c = *r->p++;
		if (shift == 63 && c > 1) {
			fail(r, "varint too large");
			return 0;
		}
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	fail(r, "varint too long");
	return 0;
}

static unsigned get_u8(struct reader *r)
{
	if (r->p >= r->end) {
		fail(r, "truncated");
		return 0;
	}
	return *r->p++;
}

/* A count of things each at least `min_bytes` long. */
static uint32_t get_count(struct reader *r, size_t min_bytes)
{
	uint64_t n = get_varint(r);
	if (n > left(r) / min_bytes) {
		fail(r, "count larger than the blob");
		return 0;
	}
	return (uint32_t)n;
}

enum str_rule {
	STR_RAW,     /* no NUL, CR, LF */
	STR_TOKEN,   /* non-empty lowercase ASCII token */
	STR_DECODED, /* valid UTF-8, no control characters */
};

static bool str_valid(const unsigned char *s, size_t n, enum str_rule rule)
{
	if (rule == STR_TOKEN && n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '\0' || c == '\r' || c == '\n')
			return false;
		if (rule == STR_TOKEN && (c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z')))
			return false;
		if (rule == STR_DECODED && (c < 0x20 || c == 0x7f))
			return false;
	}
	return rule != STR_DECODED || charset_utf8_valid(s, n);
}

/* A string (nullable: length + 1, 0 = NULL) checked against `rule`. */
static char *get_string(struct reader *r, bool nullable, enum str_rule rule)
{
	uint64_t n = get_varint(r);
	if (!ok(r))
		return NULL;
	if (nullable) {
		if (n == 0)
			return NULL;
		n--;
	}
	if (n > left(r)) {
		fail(r, "string longer than the blob");
		return NULL;
	}
	if (!str_valid(r->p, (size_t)n, rule)) {
		fail(r, "invalid string");
		return NULL;
	}
	char *s = mime_arena_strndup(r->arena, (const char *)r->p, (size_t)n);
	if (s == NULL)
		r->oom = true;
	r->p += n;
	return s;
}

static void get_params(struct reader *r, struct mime_params *out)
{
	uint32_t n = get_count(r, CACHE_PARAM_MIN);
	if (!ok(r) || n == 0)
		return;
	struct mime_param *items = mime_arena_alloc(r->arena, n * sizeof(*items));
	if (items == NULL) {
		r->oom = true;
		return;
	}
	for (uint32_t i = 0; i < n && ok(r); i++) {
		struct mime_param *p = &items[i];
		char *name = get_string(r, false, STR_TOKEN);
		unsigned bits = get_u8(r);
		p->value = get_string(r, false, STR_DECODED);
		p->raw_value = (bits & PARAM_RAW_SAME) ? p->value : get_string(r, false, STR_RAW);
		if (!ok(r))
			return;
		if (bits & ~(unsigned)(PARAM_EXTENDED | PARAM_RAW_SAME)) {
			fail(r, "bad parameter bits");
			return;
		}
		p->name = name;
		p->raw_name = name;
		if (bits & PARAM_EXTENDED) {
			size_t len = strlen(name);
			char *raw = mime_arena_alloc(r->arena, len + 2);
			if (raw == NULL) {
				r->oom = true;
				return;
			}
			memcpy(raw, name, len);
			raw[len] = '*';
			p->raw_name = raw;
		}
	}
	out->items = items;
	out->count = n;
}

static void get_addresses(struct reader *r, struct mime_addresses *out)
{
	uint32_t n = get_count(r, CACHE_ADDRESS_MIN);
	uint64_t flags = get_varint(r);
	if (!ok(r))
		return;
	if (flags & ~(uint64_t)(ADDRESS_LIST_F_INVALID | ADDRESS_LIST_F_TRUNCATED)) {
		fail(r, "bad address list flags");
		return;
	}
	out->flags = (unsigned)flags;
	if (n == 0)
		return;
	struct address *items = mime_arena_alloc(r->arena, n * sizeof(*items));
	if (items == NULL) {
		r->oom = true;
		return;
	}
	bool in_group = false;
	for (uint32_t i = 0; i < n && ok(r); i++) {
		struct address *a = &items[i];
		a->name = get_string(r, true, STR_RAW);
		a->route = get_string(r, true, STR_RAW);
		a->mailbox = get_string(r, true, STR_RAW);
		a->host = get_string(r, true, STR_RAW);
		if (!ok(r))
			return;
		if (a->host == NULL) {
			/* group markers: balanced, nothing but the group name */
			bool start = a->mailbox != NULL;
			if (a->name != NULL || a->route != NULL || start == in_group) {
				fail(r, "bad group marker");
				return;
			}
			in_group = start;
		} else if (a->mailbox == NULL) {
			fail(r, "address without mailbox");
			return;
		}
	}
	if (in_group) {
		fail(r, "group not closed");
		return;
	}
	out->items = items;
	out->count = n;
}

static struct mime_envelope *get_envelope(struct reader *r)
{
	struct mime_envelope *env = mime_arena_alloc(r->arena, sizeof(*env));
	if (env == NULL) {
		r->oom = true;
		return NULL;
	}
	env->date = get_string(r, true, STR_RAW);
	env->subject = get_string(r, true, STR_RAW);
	env->in_reply_to = get_string(r, true, STR_RAW);
	env->message_id = get_string(r, true, STR_RAW);
	get_addresses(r, &env->from);
	get_addresses(r, &env->sender);
	get_addresses(r, &env->reply_to);
	get_addresses(r, &env->to);
	get_addresses(r, &env->cc);
	get_addresses(r, &env->bcc);
	return env;
}

static bool is_message_type(const struct mime_part *p)
{
	return strcmp(p->type, "message") == 0 &&
		(strcmp(p->subtype, "rfc822") == 0 || strcmp(p->subtype, "global") == 0);
}

/* Offsets of one part, checked against the message size. */
static bool get_ranges(struct reader *r, struct mime_part *p, uint64_t prev_offset, uint64_t size)
{
	uint64_t delta = get_varint(r), hlen = get_varint(r), gap = get_varint(r);
	uint64_t blen = get_varint(r), lines = get_varint(r);
	if (!ok(r))
		return false;
	if (delta > size || prev_offset > size - delta)
		return fail(r, "header offset out of range");
	p->header_offset = prev_offset + delta;
	if (hlen > size - p->header_offset)
		return fail(r, "header length out of range");
	p->header_len = hlen;
	if (gap != 0)
		return fail(r, "gap between header and body");
	p->body_offset = p->header_offset + hlen;
	if (blen > size - p->body_offset)
		return fail(r, "body length out of range");
	p->body_len = blen;
	if (lines > blen)
		return fail(r, "more lines than bytes");
	p->body_lines = lines;
	return true;
}

/* The part's place in the tree: depth, parent, and ranges inside them. */
static bool check_place(struct reader *r, struct mime_part *p, const struct mime_part **last,
			uint32_t i, uint64_t depth, uint64_t prev_depth)
{
	if (i == 0) {
		if (depth != 0)
			return fail(r, "root not at depth 0");
		return true;
	}
	if (depth == 0 || depth > prev_depth + 1 || depth > MIME_DEPTH_HARD_MAX)
		return fail(r, "bad depth");
	const struct mime_part *parent = last[depth - 1];
	p->parent = parent;
	bool parent_multi = strcmp(parent->type, "multipart") == 0;
	if (!parent_multi && !is_message_type(parent))
		return fail(r, "child of a leaf part");
	if (p->header_offset < parent->body_offset ||
	    p->body_offset + p->body_len > parent->body_offset + parent->body_len)
		return fail(r, "part outside its parent");
	const struct mime_part *prev = depth <= prev_depth ? last[depth] : NULL;
	if (prev != NULL && prev->parent == parent) {
		if (!parent_multi)
			return fail(r, "second part in a message/rfc822");
		if (p->header_offset < prev->body_offset + prev->body_len)
			return fail(r, "parts out of order");
	}
	return true;
}

static struct mime_part *get_part(struct reader *r, uint64_t size, uint64_t prev_offset)
{
	struct mime_part *p = mime_arena_alloc(r->arena, sizeof(*p));
	if (p == NULL) {
		r->oom = true;
		return NULL;
	}
	uint64_t flags = get_varint(r);
	if (ok(r) && (flags & ~(uint64_t)MIME_F_ALL))
		fail(r, "bad part flags");
	p->flags = (uint32_t)flags;
	if (!ok(r) || !get_ranges(r, p, prev_offset, size))
		return NULL;
	p->type = get_string(r, false, STR_TOKEN);
	p->subtype = get_string(r, false, STR_TOKEN);
	get_params(r, &p->params);
	p->id = get_string(r, true, STR_RAW);
	p->description = get_string(r, true, STR_RAW);
	p->encoding = get_string(r, true, STR_TOKEN);
	p->transfer = mime_encoding_from_name(p->encoding);
	p->disposition = get_string(r, true, STR_TOKEN);
	get_params(r, &p->disposition_params);
	p->language = get_string(r, true, STR_RAW);
	p->location = get_string(r, true, STR_RAW);
	p->md5 = get_string(r, true, STR_RAW);
	unsigned has_env = get_u8(r);
	if (ok(r) && has_env > 1)
		fail(r, "bad envelope marker");
	if (ok(r) && has_env)
		p->envelope = get_envelope(r);
	return ok(r) ? p : NULL;
}

int mime_cache_decode(const void *blob, size_t len, struct mime_message **msg_r,
		      const char **error_r)
{
	struct reader r = { .p = blob, .end = (const unsigned char *)blob + len };
	struct mime_part **parts = NULL;
	const struct mime_part **last = NULL;
	*msg_r = NULL;
	struct mime_message *msg = mime_message_new();
	if (msg == NULL) {
		*error_r = "out of memory decoding the MIME cache";
		return -1;
	}
	r.arena = msg->arena;
	if (get_u8(&r) != MIME_CACHE_VERSION && ok(&r))
		fail(&r, "unknown version");
	msg->size = get_varint(&r);
	uint32_t nparts = get_count(&r, CACHE_PART_MIN);
	if (ok(&r) && nparts == 0)
		fail(&r, "no parts");
	if (ok(&r)) {
		parts = malloc(nparts * sizeof(*parts));
		last = calloc(MIME_DEPTH_HARD_MAX + 1, sizeof(*last));
		r.oom = parts == NULL || last == NULL;
	}
	uint64_t prev_offset = 0, prev_depth = 0;
	for (uint32_t i = 0; i < nparts && ok(&r); i++) {
		uint64_t depth = get_varint(&r);
		struct mime_part *p = ok(&r) ? get_part(&r, msg->size, prev_offset) : NULL;
		if (p == NULL || !check_place(&r, p, last, i, depth, prev_depth))
			break;
		p->depth = (uint32_t)depth;
		bool is_message = i == 0 || is_message_type(p->parent);
		if (is_message != (p->envelope != NULL)) {
			fail(&r, is_message ? "message without envelope" : "envelope on a body part");
			break;
		}
		if (i == 0 && (p->header_offset != 0 || p->body_offset + p->body_len != msg->size)) {
			fail(&r, "root does not span the message");
			break;
		}
		parts[i] = p;
		last[depth] = p;
		prev_offset = p->header_offset;
		prev_depth = depth;
	}
	if (ok(&r) && r.p != r.end)
		fail(&r, "trailing bytes");
	if (ok(&r) && mime_tree_finish(msg, parts, nparts) < 0)
		r.oom = true;
	free(parts);
	free(last);
	if (!ok(&r)) {
		mime_message_free(&msg);
		if (r.oom) {
			*error_r = "out of memory decoding the MIME cache";
			return -1;
		}
		*error_r = r.error;
		return 0;
	}
	*msg_r = msg;
	return 1;
}
