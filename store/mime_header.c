/* Header blocks: field iteration, and the interpretation of one part's
 * header: its MIME fields (parsed in mime_param.c) and, for a message, its
 * envelope fields (RFC 3501 ENVELOPE). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_buf.h"
#include "mime_private.h"

int mime_header_next(const char *h, size_t len, size_t *pos, struct mime_header_field *field_r)
{
	size_t p = *pos;
	while (p < len) {
		const char *nl = memchr(h + p, '\n', len - p);
		size_t line_end = nl != NULL ? (size_t)(nl - h) + 1 : len;
		size_t content_end = nl != NULL ? (size_t)(nl - h) : len;
		if (nl != NULL && content_end > p && h[content_end - 1] == '\r')
			content_end--;
		if (content_end == p)
			break; /* the blank line */
		/* the field goes on over continuation lines */
		size_t end = line_end;
		while (end < len && (h[end] == ' ' || h[end] == '\t')) {
			const char *n2 = memchr(h + end, '\n', len - end);
			end = n2 != NULL ? (size_t)(n2 - h) + 1 : len;
		}
		const char *colon = h[p] == ' ' || h[p] == '\t' ? NULL : memchr(h + p, ':', content_end - p);
		size_t name_len = colon != NULL ? (size_t)(colon - (h + p)) : 0;
		while (name_len > 0 && (h[p + name_len - 1] == ' ' || h[p + name_len - 1] == '\t'))
			name_len--;
		if (name_len == 0) {
			p = end; /* not a field: garbage or an orphan continuation */
			continue;
		}
		size_t value_start = (size_t)(colon - h) + 1, value_end = end;
		if (value_end > value_start && h[value_end - 1] == '\n')
			value_end--;
		if (value_end > value_start && h[value_end - 1] == '\r')
			value_end--;
		*field_r = (struct mime_header_field){
			.name = h + p,
			.name_len = name_len,
			.value = h + value_start,
			.value_len = value_end - value_start,
			.offset = p,
			.len = end - p,
		};
		*pos = end;
		return 1;
	}
	*pos = len;
	return 0;
}

/* ------------------------------------------------------------ strings */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void mime_put_clean(struct mbuf *b, const char *s, size_t n, bool unescape)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (unescape && c == '\\' && i + 1 < n)
			c = s[++i];
		if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n'))
			continue; /* a fold */
		mbuf_putc(b, c == '\0' || c == '\r' ? ' ' : c);
	}
}

char *mime_arena_take(struct mime_arena *arena, struct mbuf *b, bool *oom)
{
	char *s = NULL;
	if (!b->failed)
		s = mime_arena_strndup(arena, b->data != NULL ? b->data : "", b->len);
	if (s == NULL)
		*oom = true;
	mbuf_free(b);
	return s;
}

/* An unstructured value as IMAP sends it: unfolded, trimmed, raw bytes. */
static char *raw_value(struct mime_arena *arena, const char *v, size_t n, bool *oom)
{
	while (n > 0 && is_wsp(*v)) {
		v++;
		n--;
	}
	while (n > 0 && is_wsp(v[n - 1]))
		n--;
	struct mbuf b = { 0 };
	mime_put_clean(&b, v, n, false);
	return mime_arena_take(arena, &b, oom);
}

static int addresses_parse(struct mime_arena *arena, const char *v, size_t n, size_t max,
			   struct mime_addresses *out, uint32_t *flags)
{
	struct address_list *list;
	if (address_list_parse(v, n, max, &list) < 0)
		return -1;
	if (list->flags & ADDRESS_LIST_F_TRUNCATED)
		*flags |= MIME_F_ADDRESSES_TRUNCATED;
	struct address *items = mime_arena_alloc(arena, list->count * sizeof(*items) + 1);
	bool oom = items == NULL;
	for (size_t i = 0; !oom && i < list->count; i++) {
		const struct address *a = &list->addrs[i];
		const char *const src[4] = { a->name, a->route, a->mailbox, a->host };
		char *dst[4];
		for (int k = 0; k < 4; k++) {
			dst[k] = src[k] == NULL ? NULL : mime_arena_strndup(arena, src[k], strlen(src[k]));
			oom |= src[k] != NULL && dst[k] == NULL;
		}
		items[i] = (struct address){ dst[0], dst[1], dst[2], dst[3] };
	}
	out->items = items;
	out->count = (uint32_t)list->count;
	out->flags = list->flags;
	address_list_free(&list);
	return oom ? -1 : 0;
}

enum field_id {
	F_NONE, F_CONTENT_TYPE, F_ENCODING, F_ID, F_DESCRIPTION, F_DISPOSITION, F_LANGUAGE,
	F_LOCATION, F_MD5, F_DATE, F_SUBJECT, F_FROM, F_SENDER, F_REPLY_TO, F_TO, F_CC, F_BCC,
	F_IN_REPLY_TO, F_MESSAGE_ID, F_COUNT,
};

static const struct {
	const char *name;
	enum field_id id;
} known_fields[] = {
	{ "content-type", F_CONTENT_TYPE },
	{ "content-transfer-encoding", F_ENCODING },
	{ "content-id", F_ID },
	{ "content-description", F_DESCRIPTION },
	{ "content-disposition", F_DISPOSITION },
	{ "content-language", F_LANGUAGE },
	{ "content-location", F_LOCATION },
	{ "content-md5", F_MD5 },
	{ "date", F_DATE },
	{ "subject", F_SUBJECT },
	{ "from", F_FROM },
	{ "sender", F_SENDER },
	{ "reply-to", F_REPLY_TO },
	{ "to", F_TO },
	{ "cc", F_CC },
	{ "bcc", F_BCC },
	{ "in-reply-to", F_IN_REPLY_TO },
	{ "message-id", F_MESSAGE_ID },
};

static enum field_id field_lookup(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(known_fields) / sizeof(known_fields[0]); i++) {
		if (strlen(known_fields[i].name) == n && strncasecmp(known_fields[i].name, name, n) == 0)
			return known_fields[i].id;
	}
	return F_NONE;
}

static int field_interpret(struct mime_arena *arena, const struct mime_limits *limits,
			   enum field_id id, const char *v, size_t n, struct mime_part *part,
			   struct mime_envelope *env)
{
	bool oom = false;
	switch (id) {
	case F_CONTENT_TYPE:
		return mime_content_type_parse(arena, limits, v, n, part);
	case F_ENCODING:
		return mime_encoding_parse(arena, v, n, part);
	case F_DISPOSITION:
		return mime_disposition_parse(arena, limits, v, n, part);
	case F_ID:
		part->id = raw_value(arena, v, n, &oom);
		break;
	case F_DESCRIPTION:
		part->description = raw_value(arena, v, n, &oom);
		break;
	case F_LANGUAGE:
		part->language = raw_value(arena, v, n, &oom);
		break;
	case F_LOCATION:
		part->location = raw_value(arena, v, n, &oom);
		break;
	case F_MD5:
		part->md5 = raw_value(arena, v, n, &oom);
		break;
	case F_DATE:
		env->date = raw_value(arena, v, n, &oom);
		break;
	case F_SUBJECT:
		env->subject = raw_value(arena, v, n, &oom);
		break;
	case F_IN_REPLY_TO:
		env->in_reply_to = raw_value(arena, v, n, &oom);
		break;
	case F_MESSAGE_ID:
		env->message_id = raw_value(arena, v, n, &oom);
		break;
	case F_FROM:
		return addresses_parse(arena, v, n, limits->addresses_max, &env->from, &part->flags);
	case F_SENDER:
		return addresses_parse(arena, v, n, limits->addresses_max, &env->sender, &part->flags);
	case F_REPLY_TO:
		return addresses_parse(arena, v, n, limits->addresses_max, &env->reply_to, &part->flags);
	case F_TO:
		return addresses_parse(arena, v, n, limits->addresses_max, &env->to, &part->flags);
	case F_CC:
		return addresses_parse(arena, v, n, limits->addresses_max, &env->cc, &part->flags);
	case F_BCC:
		return addresses_parse(arena, v, n, limits->addresses_max, &env->bcc, &part->flags);
	case F_NONE:
	case F_COUNT:
		break;
	}
	return oom ? -1 : 0;
}

int mime_header_interpret(struct mime_arena *arena, const struct mime_limits *limits,
			  const char *header, size_t len, bool is_message, bool in_digest,
			  struct mime_part *part)
{
	struct mime_envelope *env = NULL;
	if (is_message) {
		env = mime_arena_alloc(arena, sizeof(*env));
		if (env == NULL)
			return -1;
		part->envelope = env;
	}
	part->type = in_digest ? "message" : "text";
	part->subtype = in_digest ? "rfc822" : "plain";
	bool seen[F_COUNT] = { false };
	size_t pos = 0, nfields = 0;
	struct mime_header_field f;
	while (mime_header_next(header, len, &pos, &f) > 0) {
		if (nfields++ == limits->fields_max) {
			part->flags |= MIME_F_FIELDS_TRUNCATED;
			break;
		}
		enum field_id id = field_lookup(f.name, f.name_len);
		if (id == F_NONE || seen[id] || (id >= F_DATE && env == NULL))
			continue;
		seen[id] = true;
		if (field_interpret(arena, limits, id, f.value, f.value_len, part, env) < 0)
			return -1;
	}
	if (!seen[F_CONTENT_TYPE])
		part->flags |= MIME_F_DEFAULT_TYPE;
	part->transfer = mime_encoding_from_name(part->encoding);
	return 0;
}
