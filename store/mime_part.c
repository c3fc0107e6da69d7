/* The parsed tree: memory (arena), assembly, walking, section numbers,
 * parameters, body decoding and the list summary. */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "codec.h"
#include "datetime.h"
#include "mime_buf.h"
#include "mime_private.h"
#include "rfc2047.h"

/* ------------------------------------------------------------------ arena */

#define ARENA_FIRST_CHUNK 4096
#define ARENA_MAX_CHUNK (1024 * 1024) /* chunks stop growing here */
#define ARENA_ALLOC_MAX ((size_t)1 << 30)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

struct mime_arena {
	struct arena_chunk *head;
	size_t next_size;
};

struct mime_arena *mime_arena_create(void)
{
	struct mime_arena *arena = calloc(1, sizeof(*arena));
	if (arena != NULL)
		arena->next_size = ARENA_FIRST_CHUNK;
	return arena;
}

void *mime_arena_alloc(struct mime_arena *arena, size_t size)
{
	if (size > ARENA_ALLOC_MAX)
		return NULL;
	size = (size + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
	struct arena_chunk *c = arena->head;
	if (c == NULL || c->size - c->used < size) {
		size_t csize = arena->next_size > size ? arena->next_size : size;
		c = malloc(sizeof(*c) + csize);
		if (c == NULL)
			return NULL;
		c->size = csize;
		c->used = 0;
		c->next = arena->head;
		arena->head = c;
		if (arena->next_size < ARENA_MAX_CHUNK)
			arena->next_size *= 2;
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *mime_arena_strndup(struct mime_arena *arena, const char *s, size_t n)
{
	if (n >= ARENA_ALLOC_MAX)
		return NULL;
	char *p = mime_arena_alloc(arena, n + 1);
	if (p != NULL) {
		if (n > 0)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void mime_arena_free(struct mime_arena **arena)
{
	if (*arena == NULL)
		return;
	struct arena_chunk *c = (*arena)->head;
	while (c != NULL) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(*arena);
	*arena = NULL;
}

struct mime_message *mime_message_new(void)
{
	struct mime_arena *arena = mime_arena_create();
	if (arena == NULL)
		return NULL;
	struct mime_message *msg = mime_arena_alloc(arena, sizeof(*msg));
	if (msg == NULL) {
		mime_arena_free(&arena);
		return NULL;
	}
	msg->arena = arena;
	return msg;
}

void mime_message_free(struct mime_message **msg)
{
	if (*msg == NULL)
		return;
	struct mime_arena *arena = (*msg)->arena;
	mime_arena_free(&arena); /* the message lives in its arena */
	*msg = NULL;
}

int mime_tree_finish(struct mime_message *msg, struct mime_part *const *parts, uint32_t nparts)
{
	const struct mime_part **all = mime_arena_alloc(msg->arena, (size_t)nparts * sizeof(*all));
	if (all == NULL)
		return -1;
	for (uint32_t i = 0; i < nparts; i++) {
		all[i] = parts[i];
		parts[i]->nchildren = 0;
		msg->flags |= parts[i]->flags;
	}
	for (uint32_t i = 1; i < nparts; i++)
		((struct mime_part *)parts[i]->parent)->nchildren++;
	for (uint32_t i = 0; i < nparts; i++) {
		if (parts[i]->nchildren == 0)
			continue;
		parts[i]->children = mime_arena_alloc(msg->arena, parts[i]->nchildren * sizeof(*all));
		if (parts[i]->children == NULL)
			return -1;
		parts[i]->nchildren = 0;
	}
	for (uint32_t i = 1; i < nparts; i++) {
		struct mime_part *parent = (struct mime_part *)parts[i]->parent;
		((const struct mime_part **)parent->children)[parent->nchildren] = parts[i];
		parts[i]->index = parent->nchildren++;
	}
	msg->parts = all;
	msg->nparts = nparts;
	msg->root = all[0];
	return 0;
}

const char *mime_flags_reason(uint32_t flags)
{
	static const char *const reasons[] = {
		"header too large", "too many header fields", "too many parts",
		"nesting too deep", "too many parameters", "too many addresses",
		"boundary too long",
	};
	for (unsigned i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (flags & (1u << i))
			return reasons[i];
	}
	return NULL;
}

/* ---------------------------------------------------------------- walking */

const struct mime_part *mime_part_next(const struct mime_part *part)
{
	if (part->nchildren > 0)
		return part->children[0];
	while (part->parent != NULL) {
		if (part->index + 1 < part->parent->nchildren)
			return part->parent->children[part->index + 1];
		part = part->parent;
	}
	return NULL;
}

bool mime_part_is_message(const struct mime_part *part)
{
	return part->envelope != NULL;
}

bool mime_part_is_multipart(const struct mime_part *part)
{
	return strcmp(part->type, "multipart") == 0;
}

const struct mime_part *mime_part_message(const struct mime_part *part)
{
	if (part->nchildren == 1 && strcmp(part->type, "message") == 0 &&
	    mime_part_is_message(part->children[0]))
		return part->children[0];
	return NULL;
}

const struct mime_part *mime_part_find(const struct mime_message *msg, const char *section)
{
	const struct mime_part *cur = msg->root;
	bool at_message = true; /* cur is a message node whose parts are numbered next */
	const char *p = section;
	if (*p == '\0')
		return cur;
	for (;;) {
		if (*p < '1' || *p > '9')
			return NULL;
		uint64_t n = 0;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (uint64_t)(*p++ - '0');
			if (n > UINT32_MAX)
				return NULL;
		}
		if (mime_part_is_multipart(cur)) {
			if (n > cur->nchildren)
				return NULL;
			cur = cur->children[n - 1];
		} else if (!(at_message && n == 1)) {
			return NULL; /* a non-multipart message has one part: itself */
		}
		if (*p == '\0')
			return cur;
		if (*p++ != '.')
			return NULL;
		/* numbering goes on inside an encapsulated message, or in a multipart */
		const struct mime_part *inner = mime_part_message(cur);
		if (inner != NULL) {
			cur = inner;
			at_message = true;
		} else if (mime_part_is_multipart(cur)) {
			at_message = false;
		} else {
			return NULL;
		}
	}
}

int mime_part_section(const struct mime_part *part, char *buf, size_t size)
{
	uint32_t comps[MIME_DEPTH_HARD_MAX + 2];
	size_t nc = 0;
	const struct mime_part *p = part;
	/* A message node is numbered as its message/rfc822 part (or, for the
	 * root, as nothing), plus ".1" when it is not multipart; any other part
	 * by its index in its multipart. */
	while (nc < MIME_DEPTH_HARD_MAX + 2) {
		if (mime_part_is_message(p)) {
			if (!mime_part_is_multipart(p))
				comps[nc++] = 1;
			if (p->parent == NULL)
				break;
		} else {
			comps[nc++] = p->index + 1;
		}
		p = p->parent;
	}
	size_t len = 0;
	if (size == 0)
		return -1;
	buf[0] = '\0';
	while (nc > 0) {
		int w = snprintf(buf + len, size - len, len > 0 ? ".%u" : "%u", comps[--nc]);
		if (w < 0 || (size_t)w >= size - len)
			return -1;
		len += (size_t)w;
	}
	return (int)len;
}

const char *mime_params_get(const struct mime_params *params, const char *name)
{
	const char *found = NULL;
	for (uint32_t i = 0; i < params->count; i++) {
		const struct mime_param *p = &params->items[i];
		if (strcmp(p->name, name) != 0)
			continue;
		size_t rn = strlen(p->raw_name);
		if (rn > 0 && p->raw_name[rn - 1] == '*')
			return p->value;
		if (found == NULL)
			found = p->value;
	}
	return found;
}

const char *mime_part_filename(const struct mime_part *part)
{
	const char *name = mime_params_get(&part->disposition_params, "filename");
	if (name == NULL || name[0] == '\0')
		name = mime_params_get(&part->params, "name");
	return name != NULL && name[0] != '\0' ? name : NULL;
}

/* ---------------------------------------------------------------- content */

int mime_part_body_decode(const struct mime_part *part, const char *data, size_t len,
			  unsigned flags, char **out_r, size_t *out_len_r, const char **error_r)
{
	*out_r = NULL;
	if (part->body_offset > len || part->body_len > len - part->body_offset) {
		*error_r = "MIME part lies outside the message data";
		return 0;
	}
	const char *body = data + part->body_offset;
	size_t n = (size_t)part->body_len;
	struct mbuf dec = { 0 };
	bool transfer = (flags & (MIME_DECODE_TRANSFER | MIME_DECODE_UTF8)) != 0;
	if (transfer && part->transfer == MIME_ENC_BASE64 && n <= CODEC_INPUT_MAX) {
		if (mbuf_reserve(&dec, BASE64_DECODED_MAX(n)))
			dec.len = base64_decode(body, n, dec.data, NULL);
	} else if (transfer && part->transfer == MIME_ENC_QP && n <= CODEC_INPUT_MAX) {
		if (mbuf_reserve(&dec, QP_DECODED_MAX(n)))
			dec.len = qp_decode(body, n, dec.data, NULL);
	} else {
		mbuf_append(&dec, body, n);
	}
	if ((flags & MIME_DECODE_UTF8) && strcmp(part->type, "text") == 0 && !dec.failed) {
		const char *charset = mime_params_get(&part->params, "charset");
		if (charset == NULL)
			charset = "";
		struct mbuf utf8 = { 0 };
		charset_append_utf8(&utf8, charset, strlen(charset), dec.data != NULL ? dec.data : "", dec.len);
		mbuf_free(&dec);
		dec = utf8;
	}
	*out_r = mbuf_steal(&dec, out_len_r);
	if (*out_r == NULL) {
		*error_r = "out of memory decoding a MIME part";
		return -1;
	}
	return 1;
}

/* ---------------------------------------------------------------- summary */

static char *trimmed_copy(const char *s)
{
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	char *p = malloc(n + 1);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static char *decode_trimmed(const char *raw)
{
	char *dec;
	if (rfc2047_decode(raw, strlen(raw), &dec, NULL) < 0)
		return NULL;
	char *t = trimmed_copy(dec);
	free(dec);
	return t;
}

const struct address *mime_first_mailbox(const struct mime_addresses *list)
{
	for (uint32_t i = 0; i < list->count; i++)
		if (list->items[i].host != NULL)
			return &list->items[i];
	return NULL;
}

int mime_summary_get(const struct mime_message *msg, struct mime_summary **summary_r,
		     const char **error_r)
{
	struct mime_summary *s = calloc(1, sizeof(*s));
	const struct mime_envelope *env = msg->root->envelope;
	*summary_r = NULL;
	if (s == NULL)
		goto oom;
	if (env != NULL && env->date != NULL) {
		time_t t;
		int tz;
		if (datetime_parse(env->date, strlen(env->date), &t, &tz) == 1) {
			s->date = t;
			s->tz = tz;
		}
	}
	s->subject = decode_trimmed(env != NULL && env->subject != NULL ? env->subject : "");
	const struct address *from = env != NULL ? mime_first_mailbox(&env->from) : NULL;
	if (from != NULL) {
		s->from_address = address_addr_spec(from);
		s->from_display = decode_trimmed(from->name != NULL ? from->name : "");
		if (s->from_display != NULL && s->from_display[0] == '\0' && s->from_address != NULL) {
			free(s->from_display);
			s->from_display = trimmed_copy(s->from_address);
		}
	} else {
		s->from_address = trimmed_copy("");
		s->from_display = trimmed_copy("");
	}
	if (s->subject == NULL || s->from_address == NULL || s->from_display == NULL)
		goto oom;
	for (const struct mime_part *p = msg->root; p != NULL && !s->has_attachment; p = mime_part_next(p)) {
		if (p->disposition != NULL && strcmp(p->disposition, "attachment") == 0)
			s->has_attachment = true;
		else if (!mime_part_is_multipart(p) && strcmp(p->type, "text") != 0 &&
			 mime_part_filename(p) != NULL)
			s->has_attachment = true;
	}
	*summary_r = s;
	return 1;
oom:
	mime_summary_free(&s);
	*error_r = "out of memory summarising a message";
	return -1;
}

void mime_summary_free(struct mime_summary **summary)
{
	if (*summary == NULL)
		return;
	free((*summary)->from_display);
	free((*summary)->from_address);
	free((*summary)->subject);
	free(*summary);
	*summary = NULL;
}
