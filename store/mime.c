/* The MIME parser: one forward pass over the lines of the message with an
 * explicit stack of open parts (root at the bottom, the part being read at
 * the top). A line starting with "--" is looked up in a trie of the
 * boundaries of the open multiparts. It is a delimiter line only as RFC 2046
 * says: "--" boundary ["--"] and transport padding (spaces, tabs), nothing
 * else; when several open boundaries qualify (one a prefix of another) the
 * longest wins, and the innermost among equal ones. A match closes every
 * part above its multipart and starts the next child, or ends the
 * multipart's list at a close delimiter. So every line costs O(its length),
 * whatever the depth. */
#include <stdlib.h>
#include <string.h>

#include "mime_private.h"

const struct mime_limits mime_limits_default = {
	.header_max = MIME_HEADER_MAX_DEFAULT,
	.parts_max = MIME_PARTS_MAX_DEFAULT,
	.depth_max = MIME_DEPTH_MAX_DEFAULT,
	.fields_max = MIME_FIELDS_MAX_DEFAULT,
	.params_max = MIME_PARAMS_MAX_DEFAULT,
	.addresses_max = MIME_ADDRESSES_MAX_DEFAULT,
};

/* ------------------------------------------------------------------ trie */

/* Nodes are appended on insertion and, since multiparts close in LIFO
 * order, removed by truncating the node array back. */
struct trie_node {
	uint32_t *kids;    /* node indexes, sorted by their byte */
	uint32_t nkids, kids_cap;
	int32_t owner;     /* stack index of the multipart whose boundary ends here, -1 */
	unsigned char byte;
};

struct trie {
	struct trie_node *nodes;
	uint32_t count, cap;
};

/* What trie_remove needs to undo one insertion. */
struct trie_undo {
	uint32_t old_count; /* nodes before the insertion */
	uint32_t attach;    /* the node the first new node hangs from */
	uint32_t end;       /* the node where the boundary ends */
	int32_t old_owner;
};

static int trie_init(struct trie *t)
{
	t->nodes = calloc(16, sizeof(*t->nodes));
	if (t->nodes == NULL)
		return -1;
	t->cap = 16;
	t->count = 1;
	t->nodes[0].owner = -1;
	return 0;
}

static void trie_free(struct trie *t)
{
	for (uint32_t i = 0; i < t->count; i++)
		free(t->nodes[i].kids);
	free(t->nodes);
	t->nodes = NULL;
}

/* Index in node->kids of the first kid whose byte is >= b. */
static uint32_t trie_kid_pos(const struct trie *t, const struct trie_node *node, unsigned char b)
{
	uint32_t lo = 0, hi = node->nkids;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->nodes[node->kids[mid]].byte < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int trie_insert(struct trie *t, const char *s, size_t n, int32_t owner, struct trie_undo *undo)
{
	uint32_t node = 0;
	size_t i = 0;
	/* follow what exists */
	for (; i < n; i++) {
		struct trie_node *nd = &t->nodes[node];
		uint32_t k = trie_kid_pos(t, nd, (unsigned char)s[i]);
		if (k == nd->nkids || t->nodes[nd->kids[k]].byte != (unsigned char)s[i])
			break;
		node = nd->kids[k];
	}
	undo->old_count = t->count;
	undo->attach = node;
	if (t->count + (n - i) > t->cap) {
		uint32_t cap = t->cap;
		while (cap < t->count + (n - i))
			cap *= 2;
		struct trie_node *nodes = realloc(t->nodes, cap * sizeof(*nodes));
		if (nodes == NULL)
			return -1;
		t->nodes = nodes;
		t->cap = cap;
	}
	/* the new chain: only its first node joins an existing kid list */
	for (; i < n; i++) {
		uint32_t nn = t->count;
		struct trie_node *nd = &t->nodes[node];
		if (node == undo->attach && nn == undo->old_count) {
			if (nd->nkids == nd->kids_cap) {
				uint32_t cap = nd->kids_cap == 0 ? 4 : nd->kids_cap * 2;
				uint32_t *kids = realloc(nd->kids, cap * sizeof(*kids));
				if (kids == NULL)
					return -1;
				nd->kids = kids;
				nd->kids_cap = cap;
			}
			uint32_t k = trie_kid_pos(t, nd, (unsigned char)s[i]);
			memmove(nd->kids + k + 1, nd->kids + k, (nd->nkids - k) * sizeof(*nd->kids));
			nd->kids[k] = nn;
			nd->nkids++;
		} else {
			nd->kids = malloc(sizeof(*nd->kids));
			if (nd->kids == NULL)
				return -1;
			nd->kids[0] = nn;
			nd->nkids = nd->kids_cap = 1;
		}
		t->nodes[nn] = (struct trie_node){ .owner = -1, .byte = (unsigned char)s[i] };
		t->count++;
		node = nn;
	}
	undo->end = node;
	undo->old_owner = t->nodes[node].owner;
	t->nodes[node].owner = owner;
	return 0;
}

static void trie_remove(struct trie *t, const struct trie_undo *undo)
{
	t->nodes[undo->end].owner = undo->old_owner;
	if (undo->old_count == t->count)
		return;
	struct trie_node *at = &t->nodes[undo->attach];
	for (uint32_t k = 0; k < at->nkids; k++) {
		if (at->kids[k] == undo->old_count) {
			memmove(at->kids + k, at->kids + k + 1, (at->nkids - k - 1) * sizeof(*at->kids));
			at->nkids--;
			break;
		}
	}
	for (uint32_t i = undo->old_count; i < t->count; i++)
		free(t->nodes[i].kids);
	t->count = undo->old_count;
}

/* The longest open boundary that the line `s` (after its "--", `n` bytes
 * without trailing whitespace) is a delimiter for: the boundary, then
 * nothing or "--" (close delimiter). Returns its owner, or -1. */
static int32_t trie_match(const struct trie *t, const char *s, size_t n, bool *close_r)
{
	uint32_t node = 0;
	int32_t best = -1;
	size_t walk = n > MIME_BOUNDARY_MAX ? MIME_BOUNDARY_MAX : n;
	for (size_t i = 0; i < walk; i++) {
		const struct trie_node *nd = &t->nodes[node];
		uint32_t k = trie_kid_pos(t, nd, (unsigned char)s[i]);
		if (k == nd->nkids || t->nodes[nd->kids[k]].byte != (unsigned char)s[i])
			break;
		node = nd->kids[k];
		size_t end = i + 1;
		if (t->nodes[node].owner >= 0 &&
		    (end == n || (end + 2 == n && s[end] == '-' && s[end + 1] == '-'))) {
			best = t->nodes[node].owner;
			*close_r = end != n;
		}
	}
	return best;
}

/* ---------------------------------------------------------------- parser */

enum open_state { ST_HEADER, ST_BODY };

struct open_part {
	struct mime_part *part;
	enum open_state state;
	bool is_message;     /* root or encapsulated message: has an envelope */
	bool in_trie;        /* its boundary is in the trie (an open multipart) */
	uint64_t body_lf;    /* LFs in the data before body_offset */
	struct trie_undo undo;
};

struct parser {
	const char *data;
	size_t len;
	struct mime_limits limits;
	struct mime_message *msg;
	struct open_part *stack;
	size_t depth;        /* entries in use */
	struct trie trie;
	struct mime_part **parts;
	size_t nparts, parts_cap;
	uint64_t lf;         /* LFs before the current line */
	bool oom;
};

/* Opens a part whose header starts at `offset`; false if parts_max is used
 * up (the caller flags the parent). */
static bool part_start(struct parser *ps, struct mime_part *parent, size_t offset, bool is_message)
{
	if (ps->nparts >= ps->limits.parts_max)
		return false;
	if (ps->nparts == ps->parts_cap) {
		size_t cap = ps->parts_cap == 0 ? 16 : ps->parts_cap * 2;
		struct mime_part **parts = realloc(ps->parts, cap * sizeof(*parts));
		if (parts == NULL) {
			ps->oom = true;
			return false;
		}
		ps->parts = parts;
		ps->parts_cap = cap;
	}
	struct mime_part *part = mime_arena_alloc(ps->msg->arena, sizeof(*part));
	if (part == NULL) {
		ps->oom = true;
		return false;
	}
	part->parent = parent;
	part->depth = parent == NULL ? 0 : parent->depth + 1;
	part->header_offset = offset;
	part->type = "text";
	part->subtype = "plain";
	ps->parts[ps->nparts++] = part;
	ps->stack[ps->depth++] = (struct open_part){
		.part = part,
		.state = ST_HEADER,
		.is_message = is_message,
	};
	return true;
}

static bool type_is(const struct mime_part *part, const char *type, const char *subtype)
{
	return strcmp(part->type, type) == 0 && (subtype == NULL || strcmp(part->subtype, subtype) == 0);
}

static void header_interpret(struct parser *ps, struct open_part *op)
{
	struct mime_part *part = op->part;
	const struct mime_part *parent = part->parent;
	bool in_digest = parent != NULL && !op->is_message && type_is(parent, "multipart", "digest");
	if (mime_header_interpret(ps->msg->arena, &ps->limits, ps->data + part->header_offset,
				  part->header_len, op->is_message, in_digest, part) < 0)
		ps->oom = true;
}

/* The header of the top part ends at `body_start` (LFs before it: ps->lf). */
static void header_end(struct parser *ps, size_t body_start)
{
	struct open_part *op = &ps->stack[ps->depth - 1];
	struct mime_part *part = op->part;
	part->header_len = body_start - part->header_offset;
	part->body_offset = body_start;
	op->body_lf = ps->lf;
	op->state = ST_BODY;
	header_interpret(ps, op);
	if (ps->oom)
		return;
	bool deeper_ok = part->depth + 1 <= ps->limits.depth_max;
	if (type_is(part, "multipart", NULL)) {
		const char *boundary = mime_part_boundary(part);
		if (boundary == NULL) {
			part->flags |= MIME_F_NO_BOUNDARY;
		} else if (!deeper_ok) {
			part->flags |= MIME_F_DEPTH_TRUNCATED;
		} else if (strlen(boundary) > MIME_BOUNDARY_MAX) {
			part->flags |= MIME_F_BOUNDARY_TOO_LONG;
		} else if (trie_insert(&ps->trie, boundary, strlen(boundary), (int32_t)(ps->depth - 1),
				       &op->undo) < 0) {
			ps->oom = true;
		} else {
			op->in_trie = true;
		}
	} else if ((type_is(part, "message", "rfc822") || type_is(part, "message", "global")) &&
		   part->transfer != MIME_ENC_BASE64 && part->transfer != MIME_ENC_QP &&
		   part->transfer != MIME_ENC_UNKNOWN) {
		if (!deeper_ok)
			part->flags |= MIME_F_DEPTH_TRUNCATED;
		else if (!part_start(ps, part, body_start, true) && !ps->oom)
			part->flags |= MIME_F_PARTS_TRUNCATED;
	}
}

static size_t count_lf(const char *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += p[i] == '\n';
	return c;
}

/* Closes the top part at `end` (LFs before it: lf_end), or later if its own
 * start or a closed child's end (`floor`) lies beyond; returns where it
 * ended. */
static size_t part_close(struct parser *ps, size_t end, uint64_t lf_end, size_t floor)
{
	struct open_part *op = &ps->stack[ps->depth - 1];
	struct mime_part *part = op->part;
	size_t e = end > floor ? end : floor;
	if (op->state == ST_HEADER) {
		/* cut off before its blank line: all header, no body */
		if (e < part->header_offset)
			e = part->header_offset;
		part->flags |= MIME_F_NO_BLANK_LINE;
		part->header_len = e - part->header_offset;
		part->body_offset = e;
		header_interpret(ps, op);
	} else {
		if (e < part->body_offset)
			e = part->body_offset;
		part->body_len = e - part->body_offset;
		if (part->body_len > 0) {
			uint64_t lf_e = lf_end + (e > end ? count_lf(ps->data + end, e - end) : 0);
			part->body_lines = lf_e - op->body_lf + (ps->data[e - 1] != '\n');
		}
		if (op->in_trie) {
			trie_remove(&ps->trie, &op->undo);
			part->flags |= MIME_F_NO_END;
		}
	}
	ps->depth--;
	return e;
}

/* A boundary line of the multipart at stack index `owner` spans
 * [pos, line_end); `close` if it is a close delimiter. */
static void boundary_line(struct parser *ps, size_t owner, size_t pos, size_t line_end, bool close)
{
	/* the line break before the boundary line belongs to it (RFC 2046) */
	size_t eol = pos >= 1 && ps->data[pos - 1] == '\n' ? 1 + (pos >= 2 && ps->data[pos - 2] == '\r') : 0;
	size_t cut = pos - eol, floor = 0;
	uint64_t lf_cut = ps->lf - (eol > 0);
	while (ps->depth - 1 > owner)
		floor = part_close(ps, cut, lf_cut, floor);
	struct open_part *op = &ps->stack[owner];
	if (close) {
		trie_remove(&ps->trie, &op->undo);
		op->in_trie = false;
		return;
	}
	if (!part_start(ps, op->part, line_end, false) && !ps->oom)
		op->part->flags |= MIME_F_PARTS_TRUNCATED;
}

static void parse_lines(struct parser *ps)
{
	const char *data = ps->data;
	size_t pos = 0;
	while (pos < ps->len && !ps->oom) {
		const char *nl = memchr(data + pos, '\n', ps->len - pos);
		size_t line_end = nl != NULL ? (size_t)(nl - data) + 1 : ps->len;
		size_t content_end = nl != NULL ? (size_t)(nl - data) : ps->len;
		if (nl != NULL && content_end > pos && data[content_end - 1] == '\r')
			content_end--;
		if (ps->trie.count > 1 && content_end - pos >= 2 && data[pos] == '-' && data[pos + 1] == '-') {
			/* RFC 2046: transport padding (spaces, tabs) may follow */
			size_t trimmed = content_end;
			while (trimmed > pos + 2 && (data[trimmed - 1] == ' ' || data[trimmed - 1] == '\t'))
				trimmed--;
			bool close = false;
			int32_t owner = trie_match(&ps->trie, data + pos + 2, trimmed - pos - 2, &close);
			if (owner >= 0) {
				boundary_line(ps, (size_t)owner, pos, line_end, close);
				ps->lf += nl != NULL;
				pos = line_end;
				continue;
			}
		}
		struct open_part *op = &ps->stack[ps->depth - 1];
		if (op->state == ST_HEADER) {
			struct mime_part *part = op->part;
			if (line_end - part->header_offset > ps->limits.header_max) {
				part->flags |= MIME_F_HEADER_TRUNCATED;
				header_end(ps, pos);
				continue; /* the same line again, as body */
			}
			if (content_end == pos) {
				ps->lf += nl != NULL;
				pos = line_end;
				header_end(ps, pos);
				continue;
			}
		}
		ps->lf += nl != NULL;
		pos = line_end;
	}
	while (ps->depth > 0 && !ps->oom)
		part_close(ps, ps->len, ps->lf, 0);
}

int mime_parse(const char *data, size_t len, const struct mime_limits *limits,
	       struct mime_message **msg_r, const char **error_r)
{
	struct parser ps = { .data = data, .len = len };
	ps.limits = limits != NULL ? *limits : mime_limits_default;
	if (ps.limits.depth_max > MIME_DEPTH_HARD_MAX)
		ps.limits.depth_max = MIME_DEPTH_HARD_MAX;
	if (ps.limits.parts_max < 1)
		ps.limits.parts_max = 1;
	if (ps.limits.parts_max > UINT32_MAX)
		ps.limits.parts_max = UINT32_MAX;
	*msg_r = NULL;
	ps.msg = mime_message_new();
	ps.stack = calloc(ps.limits.depth_max + 1, sizeof(*ps.stack));
	if (ps.msg == NULL || ps.stack == NULL || trie_init(&ps.trie) < 0) {
		ps.oom = true;
	} else {
		ps.msg->size = len;
		if (part_start(&ps, NULL, 0, true))
			parse_lines(&ps);
		if (!ps.oom && mime_tree_finish(ps.msg, ps.parts, (uint32_t)ps.nparts) < 0)
			ps.oom = true;
	}
	trie_free(&ps.trie);
	free(ps.stack);
	free(ps.parts);
	if (ps.oom) {
		mime_message_free(&ps.msg);
		*error_r = "out of memory parsing MIME structure";
		return -1;
	}
	*msg_r = ps.msg;
	return (ps.msg->flags & MIME_F_TRUNCATED_MASK) != 0 ? 0 : 1;
}
