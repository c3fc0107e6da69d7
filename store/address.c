/* RFC 5322 address-list parser. A tokenizer (atoms, quoted strings, domain
 * literals, specials; CFWS skipped with the first comment remembered) and a
 * loop that reads one list element at a time. An element's leading words are
 * scanned once to find what follows them ('<', '@', ':', or a delimiter),
 * then read again to build the phrase or local part: two passes, linear. */
#include "address.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_buf.h"

#define NONE SIZE_MAX

enum token_type { TK_END, TK_ATOM, TK_QUOTED, TK_LITERAL, TK_SPECIAL };

struct token {
	enum token_type type;
	char ch;           /* TK_SPECIAL */
	const char *s;     /* TK_ATOM, TK_QUOTED (inside the quotes), TK_LITERAL (with brackets) */
	size_t n;
	bool space_before; /* CFWS came before it */
};

struct entry {
	size_t name, route, mailbox, host; /* offsets into the pool, or NONE */
};

struct parser {
	const char *p, *end;
	const char *comment; /* first comment of the current element */
	size_t comment_len;
	unsigned flags;
	size_t max;
	struct mbuf pool;
	struct entry *entries;
	size_t count, cap;
	bool oom;
};

static bool is_special(char c)
{
	switch (c) {
	case '(': case ')': case '<': case '>': case '[': case ']': case ':': case ';':
	case '@': case '\\': case ',': case '.': case '"':
		return true;
	default:
		return false;
	}
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips whitespace and comments; true if anything was skipped. */
static bool skip_cfws(struct parser *ps)
{
	const char *start = ps->p;
	while (ps->p < ps->end) {
		if (is_wsp(*ps->p)) {
			ps->p++;
			continue;
		}
		if (*ps->p != '(')
			break;
		const char *body = ++ps->p;
		size_t depth = 1;
		while (ps->p < ps->end && depth > 0) {
			if (*ps->p == '\\' && ps->p + 1 < ps->end)
				ps->p++;
			else if (*ps->p == '(')
				depth++;
			else if (*ps->p == ')')
				depth--;
			ps->p++;
		}
		if (depth > 0)
			ps->flags |= ADDRESS_LIST_F_INVALID;
		if (ps->comment == NULL) {
			ps->comment = body;
			ps->comment_len = (size_t)(ps->p - body) - (depth == 0);
		}
	}
	return ps->p != start;
}

static void next_token(struct parser *ps, struct token *t)
{
	t->space_before = skip_cfws(ps);
	if (ps->p >= ps->end) {
		t->type = TK_END;
		return;
	}
	char c = *ps->p;
	if (c == '"' || c == '[') {
		char close = c == '"' ? '"' : ']';
		const char *s = ps->p++;
		while (ps->p < ps->end && *ps->p != close) {
			if (*ps->p == '\\' && ps->p + 1 < ps->end)
				ps->p++;
			ps->p++;
		}
		const char *content_end = ps->p;
		if (ps->p < ps->end)
			ps->p++;
		else
			ps->flags |= ADDRESS_LIST_F_INVALID;
		if (c == '"') {
			t->type = TK_QUOTED;
			t->s = s + 1;
			t->n = (size_t)(content_end - t->s);
		} else {
			t->type = TK_LITERAL;
			t->s = s;
			t->n = (size_t)(ps->p - s);
		}
		return;
	}
	if (is_special(c)) {
		t->type = TK_SPECIAL;
		t->ch = c;
		ps->p++;
		return;
	}
	t->type = TK_ATOM;
	t->s = ps->p;
	while (ps->p < ps->end && !is_wsp(*ps->p) && !is_special(*ps->p))
		ps->p++;
	t->n = (size_t)(ps->p - t->s);
}

static bool is_word(const struct token *t)
{
	return t->type == TK_ATOM || t->type == TK_QUOTED || t->type == TK_LITERAL ||
		(t->type == TK_SPECIAL && t->ch == '.');
}

/* Appends bytes to the pool: folds (LF, CRLF) removed, NUL and a lone CR
 * made spaces, and backslash escapes removed when `unescape`. */
static void pool_put(struct parser *ps, const char *s, size_t n, bool unescape)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (unescape && c == '\\' && i + 1 < n)
			c = s[++i];
		if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n'))
			continue; /* a fold */
		mbuf_putc(&ps->pool, c == '\0' || c == '\r' ? ' ' : c);
	}
}

static size_t pool_end(struct parser *ps, size_t start, bool empty_is_none)
{
	if (empty_is_none && ps->pool.len == start)
		return NONE;
	mbuf_putc(&ps->pool, '\0');
	return start;
}

static size_t pool_string(struct parser *ps, const char *s)
{
	size_t start = ps->pool.len;
	pool_put(ps, s, strlen(s), false);
	return pool_end(ps, start, false);
}

/* Appends the word tokens in [from, to): a phrase joins words with one
 * space where the source had CFWS; a local part or domain joins them as they
 * are. */
static void words_append(struct parser *ps, const char *from, const char *to, bool phrase)
{
	const char *save = ps->p;
	size_t start = ps->pool.len;
	ps->p = from;
	while (ps->p < to) {
		struct token t;
		next_token(ps, &t);
		if (t.type == TK_END)
			break;
		if (phrase && t.space_before && ps->pool.len > start)
			mbuf_putc(&ps->pool, ' ');
		if (t.type == TK_SPECIAL)
			mbuf_putc(&ps->pool, t.ch);
		else
			pool_put(ps, t.s, t.n, t.type == TK_QUOTED);
	}
	ps->p = save;
}

static size_t pool_words(struct parser *ps, const char *from, const char *to, bool phrase)
{
	size_t start = ps->pool.len;
	words_append(ps, from, to, phrase);
	return pool_end(ps, start, phrase);
}

static void emit(struct parser *ps, size_t name, size_t route, size_t mailbox, size_t host)
{
	if (ps->count == ps->cap) {
		size_t cap = ps->cap == 0 ? 8 : ps->cap * 2;
		struct entry *e = realloc(ps->entries, cap * sizeof(*e));
		if (e == NULL) {
			ps->oom = true;
			return;
		}
		ps->entries = e;
		ps->cap = cap;
	}
	ps->entries[ps->count++] = (struct entry){ name, route, mailbox, host };
}

/* The name of a mailbox without a phrase: its first comment, trimmed. */
static size_t comment_name(struct parser *ps)
{
	if (ps->comment == NULL)
		return NONE;
	const char *s = ps->comment;
	size_t n = ps->comment_len;
	while (n > 0 && is_wsp(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_wsp(s[n - 1]))
		n--;
	size_t start = ps->pool.len;
	pool_put(ps, s, n, true);
	return pool_end(ps, start, true);
}

/* Skips to the next element delimiter (',' or, in a group, ';'), flagging
 * anything skipped. */
static void skip_to_delimiter(struct parser *ps, bool in_group)
{
	for (;;) {
		const char *before = ps->p;
		struct token t;
		next_token(ps, &t);
		if (t.type == TK_END || (t.type == TK_SPECIAL && (t.ch == ',' || (t.ch == ';' && in_group)))) {
			ps->p = before;
			return;
		}
		ps->flags |= ADDRESS_LIST_F_INVALID;
	}
}

/* Appends a domain (atoms or literals separated by dots) to the pool. */
static void domain_append(struct parser *ps)
{
	const char *from = ps->p, *to = ps->p;
	bool after_label = false;
	for (;;) {
		const char *before = ps->p;
		struct token t;
		next_token(ps, &t);
		bool dot = t.type == TK_SPECIAL && t.ch == '.';
		bool label = t.type == TK_ATOM || t.type == TK_LITERAL;
		if (!(dot || (label && !after_label))) {
			ps->p = before; /* "a@b c@d": the domain is "b" */
			break;
		}
		after_label = label;
		to = ps->p;
	}
	if (to == from)
		ps->flags |= ADDRESS_LIST_F_INVALID;
	words_append(ps, from, to, false);
}

static size_t read_domain(struct parser *ps)
{
	size_t start = ps->pool.len;
	domain_append(ps);
	return pool_end(ps, start, false);
}

/* Scans word tokens; returns where they end (ps->p is left there). */
static const char *scan_words(struct parser *ps)
{
	for (;;) {
		const char *before = ps->p;
		struct token t;
		next_token(ps, &t);
		if (!is_word(&t)) {
			ps->p = before;
			return before;
		}
	}
}

static bool token_is(const struct token *t, char ch)
{
	return t->type == TK_SPECIAL && t->ch == ch;
}

/* obs-route after "<@": "a,@b,...:" into the pool as "@a,@b". */
static size_t read_route(struct parser *ps)
{
	size_t start = ps->pool.len;
	for (;;) {
		mbuf_putc(&ps->pool, '@');
		domain_append(ps);
		const char *before = ps->p;
		struct token t;
		next_token(ps, &t);
		while (token_is(&t, ',')) { /* obs-domain-list allows empty elements */
			before = ps->p;
			next_token(ps, &t);
		}
		if (token_is(&t, '@')) {
			mbuf_putc(&ps->pool, ',');
			continue;
		}
		if (!token_is(&t, ':')) {
			ps->flags |= ADDRESS_LIST_F_INVALID;
			ps->p = before;
		}
		break;
	}
	return pool_end(ps, start, false);
}

/* After '<': [route ":"] [local "@" domain] ">". */
static void read_angle(struct parser *ps, size_t name, bool in_group)
{
	size_t route = NONE, mailbox, host;
	const char *before = ps->p;
	struct token t;
	next_token(ps, &t);
	if (token_is(&t, '@'))
		route = read_route(ps);
	else
		ps->p = before;
	const char *from = ps->p, *to = scan_words(ps);
	mailbox = pool_words(ps, from, to, false);
	before = ps->p;
	next_token(ps, &t);
	if (token_is(&t, '@')) {
		host = read_domain(ps);
		before = ps->p;
		next_token(ps, &t);
	} else {
		/* "<>" is the null address; "<user>" lacks a domain */
		if (to != from)
			ps->flags |= ADDRESS_LIST_F_INVALID;
		host = pool_string(ps, "");
	}
	if (!token_is(&t, '>')) {
		ps->flags |= ADDRESS_LIST_F_INVALID;
		ps->p = before;
	}
	if (name == NONE)
		name = comment_name(ps);
	emit(ps, name, route, mailbox, host);
	skip_to_delimiter(ps, in_group);
}

/* One list element: a mailbox, a group start, or garbage up to the next
 * delimiter. */
static void read_element(struct parser *ps, bool *in_group)
{
	const char *from = ps->p, *to = scan_words(ps), *before = ps->p;
	struct token t;
	next_token(ps, &t);
	if (token_is(&t, '<')) {
		read_angle(ps, pool_words(ps, from, to, true), *in_group);
		return;
	}
	if (token_is(&t, ':') && !*in_group) {
		size_t name = pool_words(ps, from, to, true);
		emit(ps, NONE, NONE, name == NONE ? pool_string(ps, "") : name, NONE);
		*in_group = true;
		return;
	}
	if (token_is(&t, '@') && to != from) {
		size_t mailbox = pool_words(ps, from, to, false);
		size_t host = read_domain(ps);
		/* a comment after the address names it: "u@h (Name)" */
		skip_cfws(ps);
		emit(ps, comment_name(ps), NONE, mailbox, host);
		skip_to_delimiter(ps, *in_group);
		return;
	}
	ps->flags |= ADDRESS_LIST_F_INVALID;
	if (to != from) /* "undisclosed-recipients" or "user" alone */
		emit(ps, NONE, NONE, pool_words(ps, from, to, false), pool_string(ps, ""));
	if (t.type == TK_END || token_is(&t, ',') || (token_is(&t, ';') && *in_group))
		ps->p = before;
	else
		skip_to_delimiter(ps, *in_group);
}

static void parse_list(struct parser *ps)
{
	bool in_group = false;
	while (!ps->oom && !ps->pool.failed) {
		ps->comment = NULL;
		const char *before = ps->p;
		struct token t;
		next_token(ps, &t);
		if (t.type == TK_END)
			break;
		if (token_is(&t, ','))
			continue; /* obs-addr-list: empty elements */
		if (token_is(&t, ';')) {
			if (in_group) {
				emit(ps, NONE, NONE, NONE, NONE);
				in_group = false;
			} else {
				ps->flags |= ADDRESS_LIST_F_INVALID;
			}
			continue;
		}
		if (ps->count >= ps->max) {
			ps->flags |= ADDRESS_LIST_F_TRUNCATED;
			break;
		}
		ps->p = before;
		read_element(ps, &in_group);
	}
	if (in_group) {
		if (!(ps->flags & ADDRESS_LIST_F_TRUNCATED))
			ps->flags |= ADDRESS_LIST_F_INVALID;
		emit(ps, NONE, NONE, NONE, NONE);
	}
}

static char *pool_ptr(char *pool, size_t off)
{
	return off == NONE ? NULL : pool + off;
}

int address_list_parse(const char *in, size_t len, size_t max_count, struct address_list **list_r)
{
	struct parser ps = { .p = in, .end = in + len, .max = max_count };
	*list_r = NULL;
	if (ps.max == 0)
		ps.max = ADDRESS_LIST_MAX;
	if (len > ADDRESS_INPUT_MAX) {
		ps.end = in + ADDRESS_INPUT_MAX;
		ps.flags |= ADDRESS_LIST_F_TRUNCATED;
	}
	parse_list(&ps);
	struct address_list *list = NULL;
	size_t head = sizeof(*list) + ps.count * sizeof(struct address);
	if (!ps.oom && !ps.pool.failed)
		list = malloc(head + ps.pool.len + 1);
	if (list != NULL) {
		list->count = ps.count;
		list->flags = ps.flags;
		list->addrs = (struct address *)(list + 1);
		char *pool = (char *)list + head;
		if (ps.pool.len > 0)
			memcpy(pool, ps.pool.data, ps.pool.len);
		pool[ps.pool.len] = '\0';
		for (size_t i = 0; i < ps.count; i++) {
			const struct entry *e = &ps.entries[i];
			list->addrs[i] = (struct address){
				.name = pool_ptr(pool, e->name),
				.route = pool_ptr(pool, e->route),
				.mailbox = pool_ptr(pool, e->mailbox),
				.host = pool_ptr(pool, e->host),
			};
		}
	}
	free(ps.entries);
	mbuf_free(&ps.pool);
	*list_r = list;
	return list == NULL ? -1 : 1;
}

void address_list_free(struct address_list **list)
{
	free(*list);
	*list = NULL;
}

static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c >= 0x80 || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* true if s is a dot-atom: atoms separated by single dots. */
static bool is_dot_atom(const char *s)
{
	if (*s == '\0' || *s == '.')
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '.') {
			if (p[1] == '.' || p[1] == '\0')
				return false;
		} else if (!is_atext((unsigned char)*p)) {
			return false;
		}
	}
	return true;
}

char *address_addr_spec(const struct address *addr)
{
	if (addr->mailbox == NULL || addr->host == NULL)
		return NULL;
	struct mbuf b = { 0 };
	if (is_dot_atom(addr->mailbox) || addr->mailbox[0] == '\0') {
		mbuf_puts(&b, addr->mailbox);
	} else {
		mbuf_putc(&b, '"');
		for (const char *p = addr->mailbox; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				mbuf_putc(&b, '\\');
			mbuf_putc(&b, *p);
		}
		mbuf_putc(&b, '"');
	}
	if (addr->host[0] != '\0') {
		mbuf_putc(&b, '@');
		mbuf_puts(&b, addr->host);
	}
	return mbuf_steal(&b, NULL);
}
