/* The IMAP command tokenizer: see imap_parser.h. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_parser.h"

/* Digits in a literal size: 4294967295 has ten; anything longer is refused
 * before it is converted (no overflow). */
#define IMAP_LITERAL_DIGITS_MAX 10

enum parser_state {
	PS_LINE,       /* expecting a line (a new command, or after a literal) */
	PS_LITERAL,    /* inside literal data */
	PS_DONE,
	PS_ERROR,
};

struct imap_parser {
	struct imap_parser_limits limits;
	enum parser_state state;
	const char *error;

	char *buf;                /* token contents, each NUL-terminated */
	size_t len, cap;
	struct imap_arg *tokens;  /* tokens[0] is the root list */
	uint32_t ntokens, tokens_cap;

	uint32_t *stack;          /* open lists, stack[0] = root */
	uint32_t *last;           /* last element of each open list (0 = none) */
	unsigned depth;
	bool need_sep;            /* a token just ended: SP, ')' or the line end must follow */
	unsigned top_count;       /* top-level tokens so far */

	struct imap_literal_info literal;
	uint32_t literal_token;
	uint64_t literal_got;
};

static enum imap_parse_status parser_fail(struct imap_parser *p, const char *error)
{
	p->state = PS_ERROR;
	p->error = error;
	return IMAP_PARSE_ERROR;
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->limits = *limits;
	p->stack = calloc(limits->depth_max + 1, sizeof(uint32_t));
	p->last = calloc(limits->depth_max + 1, sizeof(uint32_t));
	if (p->stack == NULL || p->last == NULL) {
		imap_parser_free(&p);
		return NULL;
	}
	imap_parser_reset(p);
	return p;
}

void imap_parser_free(struct imap_parser **parser)
{
	struct imap_parser *p = *parser;

	if (p == NULL)
		return;
	free(p->buf);
	free(p->tokens);
	free(p->stack);
	free(p->last);
	free(p);
	*parser = NULL;
}

/* Buffers are kept between commands unless a big command made them large:
 * an idle session stays small. */
#define PARSER_KEEP_BYTES 16384
#define PARSER_KEEP_TOKENS 512

void imap_parser_reset(struct imap_parser *p)
{
	if (p->cap > PARSER_KEEP_BYTES) {
		free(p->buf);
		p->buf = NULL;
		p->cap = 0;
	}
	if (p->tokens_cap > PARSER_KEEP_TOKENS) {
		free(p->tokens);
		p->tokens = NULL;
		p->tokens_cap = 0;
	}
	p->state = PS_LINE;
	p->error = NULL;
	p->len = 0;
	p->ntokens = 0;
	p->depth = 0;
	p->need_sep = false;
	p->top_count = 0;
	p->literal_got = 0;
	memset(&p->literal, 0, sizeof(p->literal));
	if (p->tokens_cap == 0) {
		p->tokens = malloc(64 * sizeof(*p->tokens));
		p->tokens_cap = p->tokens != NULL ? 64 : 0;
	}
	if (p->tokens != NULL) {
		/* the root list */
		memset(&p->tokens[0], 0, sizeof(p->tokens[0]));
		p->tokens[0].type = IMAP_ARG_LIST;
		p->ntokens = 1;
	}
	p->stack[0] = 0;
	p->last[0] = 0;
}

/* Reserves room for `more` content bytes plus a NUL: false past the limit. */
static bool buf_reserve(struct imap_parser *p, size_t more)
{
	if (more > p->limits.command_max || p->len > p->limits.command_max - more)
		return false;
	size_t need = p->len + more + 1;
	if (need <= p->cap)
		return true;
	size_t cap = p->cap < 1024 ? 1024 : p->cap;
	while (cap < need)
		cap *= 2;
	if (cap > p->limits.command_max + 1)
		cap = p->limits.command_max + 1;
	char *b = realloc(p->buf, cap);
	if (b == NULL)
		return false;
	p->buf = b;
	p->cap = cap;
	return true;
}

/* A new token in the innermost open list; 0 if the token limit is reached. */
static uint32_t token_new(struct imap_parser *p, enum imap_arg_type type)
{
	if (p->tokens == NULL || p->ntokens > p->limits.tokens_max)
		return 0;
	if (p->ntokens == p->tokens_cap) {
		uint32_t cap = p->tokens_cap * 2;
		struct imap_arg *t = reallocarray(p->tokens, cap, sizeof(*t));
		if (t == NULL)
			return 0;
		p->tokens = t;
		p->tokens_cap = cap;
	}
	uint32_t id = p->ntokens++;
	struct imap_arg *a = &p->tokens[id];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->off = (uint32_t)p->len;
	uint32_t parent = p->stack[p->depth];
	if (p->last[p->depth] == 0)
		p->tokens[parent].ichild = id;
	else
		p->tokens[p->last[p->depth]].inext = id;
	p->last[p->depth] = id;
	p->tokens[parent].len++;
	if (p->depth == 0)
		p->top_count++;
	return id;
}

static enum imap_parse_status parse_quoted(struct imap_parser *p, const char *line, size_t len,
					   size_t *pos)
{
	size_t i = *pos + 1;
	uint32_t id;

	/* Unescaped contents are never longer than the quoted text. */
	if (!buf_reserve(p, len - i))
		return parser_fail(p, "Command too long");
	if ((id = token_new(p, IMAP_ARG_QUOTED)) == 0)
		return parser_fail(p, "Too many arguments");
	for (;;) {
		if (i >= len)
			return parser_fail(p, "Missing '\"'");
		unsigned char c = (unsigned char)line[i];
		if (c == '"')
			break;
		if (c == '\\') {
			if (i + 1 >= len || (line[i + 1] != '"' && line[i + 1] != '\\'))
				return parser_fail(p, "Invalid escape in a quoted string");
			c = (unsigned char)line[++i];
		} else if (c == '\0' || c == '\r' || c == '\n') {
			return parser_fail(p, "Invalid characters in a quoted string");
		}
		p->buf[p->len++] = (char)c;
		i++;
	}
	p->tokens[id].len = (uint32_t)(p->len - p->tokens[id].off);
	p->buf[p->len++] = '\0';
	*pos = i + 1;
	p->need_sep = true;
	return IMAP_PARSE_DONE;
}

static bool atom_char_ok(unsigned char c)
{
	/* ATOM-CHAR plus list-wildcards, resp-specials (astring) and '\\'
	 * (flags); never CTL, 8-bit or the quote. */
	return c > ' ' && c < 0x7f && c != '"';
}

static enum imap_parse_status parse_atom(struct imap_parser *p, const char *line, size_t len,
					 size_t *pos)
{
	size_t start = *pos, i = start;
	uint32_t id;

	while (i < len && line[i] != ' ' && line[i] != '(' && line[i] != ')') {
		unsigned char c = (unsigned char)line[i];
		if (c == '[') {
			/* A section: kept whole, spaces and parentheses included,
			 * if it is closed on this line. */
			const char *close = memchr(line + i, ']', len - i);
			if (close != NULL) {
				for (size_t j = i; j < (size_t)(close - line); j++) {
					unsigned char d = (unsigned char)line[j];
					if (d < ' ' || d >= 0x7f)
						return parser_fail(p, "Invalid characters in an atom");
				}
				i = (size_t)(close - line) + 1;
				continue;
			}
		}
		if (!atom_char_ok(c))
			return parser_fail(p, c == '"' ? "Unexpected '\"'"
							: "Invalid characters in an atom");
		i++;
	}
	if (!buf_reserve(p, i - start))
		return parser_fail(p, "Command too long");
	if ((id = token_new(p, IMAP_ARG_ATOM)) == 0)
		return parser_fail(p, "Too many arguments");
	memcpy(p->buf + p->len, line + start, i - start);
	p->len += i - start;
	p->tokens[id].len = (uint32_t)(i - start);
	p->buf[p->len++] = '\0';
	*pos = i;
	p->need_sep = true;
	return IMAP_PARSE_DONE;
}

/* "{123}", "{123+}", "{123-}" or "~{123}" ending the line at *pos. */
static enum imap_parse_status parse_literal(struct imap_parser *p, const char *line, size_t len,
					    size_t pos)
{
	bool binary = false, sync = true;
	uint64_t size = 0;
	size_t digits = 0;
	uint32_t id;

	if (line[pos] == '~') {
		binary = true;
		pos++;
	}
	if (pos >= len || line[pos] != '{')
		return parser_fail(p, "Invalid literal");
	pos++;
	while (pos < len && line[pos] >= '0' && line[pos] <= '9') {
		if (++digits > IMAP_LITERAL_DIGITS_MAX)
			return parser_fail(p, "Literal size too large");
		size = size * 10 + (uint64_t)(line[pos] - '0');
		pos++;
	}
	if (digits == 0)
		return parser_fail(p, "Invalid literal size");
	if (pos < len && (line[pos] == '+' || line[pos] == '-')) {
		sync = false; /* LITERAL+ / LITERAL- */
		pos++;
	}
	if (pos >= len || line[pos] != '}')
		return parser_fail(p, "Invalid literal");
	if (pos + 1 != len)
		return parser_fail(p, "A literal must end the line");
	if (size > UINT32_MAX)
		return parser_fail(p, "Literal size too large");
	if ((id = token_new(p, IMAP_ARG_LITERAL)) == 0)
		return parser_fail(p, "Too many arguments");
	p->tokens[id].literal8 = binary;
	p->literal.size = size;
	p->literal.sync = sync;
	p->literal.binary = binary;
	p->literal.depth = p->depth;
	p->literal.index = p->depth == 0 ? p->top_count - 1 : 0;
	p->literal_token = id;
	p->literal_got = 0;
	p->state = PS_LITERAL;
	return IMAP_PARSE_LITERAL;
}

enum imap_parse_status imap_parser_line(struct imap_parser *p, const char *line, size_t len)
{
	size_t pos = 0;

	if (p->state != PS_LINE)
		return parser_fail(p, p->state == PS_LITERAL ? "Literal data missing"
							     : "Command already complete");
	if (p->tokens == NULL)
		return parser_fail(p, "Out of memory");
	if (memchr(line, '\0', len) != NULL)
		return parser_fail(p, "NUL byte in the command");
	for (;;) {
		if (pos >= len) {
			if (p->depth > 0)
				return parser_fail(p, "Missing ')'");
			p->state = PS_DONE;
			return IMAP_PARSE_DONE;
		}
		char c = line[pos];
		if (p->need_sep) {
			if (c == ' ') {
				while (pos < len && line[pos] == ' ')
					pos++;
				p->need_sep = false;
				continue;
			}
			if (c != ')')
				return parser_fail(p, "Missing space between arguments");
		}
		enum imap_parse_status st = IMAP_PARSE_DONE;
		switch (c) {
		case ' ':
			pos++; /* extra spaces after '(' are tolerated */
			break;
		case '(': {
			if (p->depth >= p->limits.depth_max)
				return parser_fail(p, "Too deeply nested parentheses");
			uint32_t id = token_new(p, IMAP_ARG_LIST);
			if (id == 0)
				return parser_fail(p, "Too many arguments");
			p->depth++;
			p->stack[p->depth] = id;
			p->last[p->depth] = 0;
			p->need_sep = false;
			pos++;
			break;
		}
		case ')':
			if (p->depth == 0)
				return parser_fail(p, "Unexpected ')'");
			p->depth--;
			p->need_sep = true;
			pos++;
			break;
		case '"':
			st = parse_quoted(p, line, len, &pos);
			break;
		case '{':
			return parse_literal(p, line, len, pos);
		case '~':
			if (pos + 1 < len && line[pos + 1] == '{')
				return parse_literal(p, line, len, pos);
			st = parse_atom(p, line, len, &pos);
			break;
		default:
			st = parse_atom(p, line, len, &pos);
			break;
		}
		if (st != IMAP_PARSE_DONE)
			return st;
	}
}

void imap_parser_literal_info(const struct imap_parser *p, struct imap_literal_info *info_r)
{
	*info_r = p->literal;
}

int imap_parser_literal_data(struct imap_parser *p, const void *data, size_t len)
{
	if (p->state != PS_LITERAL)
		return -1;
	if (len > p->literal.size - p->literal_got)
		len = (size_t)(p->literal.size - p->literal_got);
	if (!buf_reserve(p, len)) {
		parser_fail(p, "Command too long");
		return -1;
	}
	memcpy(p->buf + p->len, data, len);
	p->len += len;
	p->literal_got += len;
	if (p->literal_got < p->literal.size)
		return 0;
	struct imap_arg *a = &p->tokens[p->literal_token];
	a->len = (uint32_t)(p->len - a->off);
	p->buf[p->len++] = '\0';
	p->state = PS_LINE;
	p->need_sep = true;
	return 1;
}

void imap_parser_literal_streamed(struct imap_parser *p)
{
	if (p->state != PS_LITERAL)
		return;
	struct imap_arg *a = &p->tokens[p->literal_token];
	a->streamed = true;
	a->len = 0;
	if (buf_reserve(p, 0))
		p->buf[p->len++] = '\0';
	a->off = (uint32_t)p->len - 1;
	p->state = PS_LINE;
	p->need_sep = true;
}

const char *imap_parser_error(const struct imap_parser *p)
{
	return p->error != NULL ? p->error : "Syntax error";
}

const struct imap_arg *imap_parser_args(struct imap_parser *p)
{
	static const char empty[1] = "";

	if (p->tokens == NULL || p->ntokens <= 1)
		return NULL;
	for (uint32_t i = 0; i < p->ntokens; i++) {
		struct imap_arg *a = &p->tokens[i];
		a->str = a->type == IMAP_ARG_LIST || p->buf == NULL ? empty : p->buf + a->off;
		a->child = a->ichild != 0 ? &p->tokens[a->ichild] : NULL;
		a->next = a->inext != 0 ? &p->tokens[a->inext] : NULL;
	}
	/* a literal still being received reads as empty */
	if (p->state == PS_LITERAL)
		p->tokens[p->literal_token].str = empty;
	return p->tokens[0].child;
}

int imap_line_literal_suffix(const char *line, size_t len, uint64_t *size_r, bool *sync_r)
{
	size_t i;
	uint64_t size = 0;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	i = len - 1;
	*sync_r = true;
	if (line[i - 1] == '+' || line[i - 1] == '-') {
		*sync_r = false;
		i--;
	}
	size_t end = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == end || i == 0 || line[i - 1] != '{' || end - i > IMAP_LITERAL_DIGITS_MAX)
		return 0;
	for (size_t j = i; j < end; j++)
		size = size * 10 + (uint64_t)(line[j] - '0');
	*size_r = size;
	return 1;
}

/* ---------------------------------------------------------------- helpers */

bool imap_arg_is_string(const struct imap_arg *arg)
{
	return arg != NULL && arg->type != IMAP_ARG_LIST && !arg->streamed;
}

bool imap_arg_atom_is(const struct imap_arg *arg, const char *word)
{
	return arg != NULL && arg->type == IMAP_ARG_ATOM && strlen(word) == arg->len &&
	       strcasecmp(arg->str, word) == 0;
}

unsigned imap_arg_count(const struct imap_arg *arg)
{
	unsigned n = 0;

	for (; arg != NULL; arg = arg->next)
		n++;
	return n;
}

int imap_parse_number(const char *s, size_t len, uint64_t max, uint64_t *value_r)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	if (v > max)
		return 0;
	*value_r = v;
	return 1;
}

/* One seq-number: nz-number or '*' (0). */
static int seq_number(const char *s, size_t len, uint32_t *v_r)
{
	uint64_t v;

	if (len == 1 && s[0] == '*') {
		*v_r = 0;
		return 1;
	}
	if (len == 0 || s[0] == '0' || !imap_parse_number(s, len, UINT32_MAX, &v))
		return 0;
	*v_r = (uint32_t)v;
	return 1;
}

int imap_seqset_parse(const char *s, size_t len, struct imap_seqset *set_r)
{
	size_t n = 1, i = 0;

	set_r->ranges = NULL;
	set_r->count = 0;
	if (len == 0)
		return 0;
	for (size_t j = 0; j < len; j++)
		if (s[j] == ',')
			n++;
	set_r->ranges = calloc(n, sizeof(*set_r->ranges));
	if (set_r->ranges == NULL)
		return -1;
	while (i <= len) {
		size_t end = i;
		while (end < len && s[end] != ',')
			end++;
		const char *colon = memchr(s + i, ':', end - i);
		struct imap_range *r = &set_r->ranges[set_r->count];
		if (colon == NULL) {
			if (!seq_number(s + i, end - i, &r->lo))
				goto bad;
			r->hi = r->lo;
		} else {
			size_t c = (size_t)(colon - s);
			if (!seq_number(s + i, c - i, &r->lo) ||
			    !seq_number(s + c + 1, end - c - 1, &r->hi))
				goto bad;
		}
		set_r->count++;
		i = end + 1;
		if (end == len)
			break;
		if (i == len)
			goto bad; /* trailing comma */
	}
	return 1;
bad:
	imap_seqset_free(set_r);
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void imap_seqset_normalize(struct imap_seqset *set, uint32_t star)
{
	size_t m = 0;

	if (set->count == 0)
		return;
	for (size_t i = 0; i < set->count; i++) {
		struct imap_range *r = &set->ranges[i];
		if (r->lo == 0)
			r->lo = star;
		if (r->hi == 0)
			r->hi = star;
		if (r->lo > r->hi) {
			uint32_t t = r->lo;
			r->lo = r->hi;
			r->hi = t;
		}
	}
	/* qsort, not an insertion sort: a set written backwards must not
	 * cost the square of its length */
	qsort(set->ranges, set->count, sizeof(*set->ranges), range_cmp);
	for (size_t i = 0; i < set->count; i++) {
		struct imap_range r = set->ranges[i];
		if (m > 0 && (uint64_t)r.lo <= (uint64_t)set->ranges[m - 1].hi + 1) {
			if (r.hi > set->ranges[m - 1].hi)
				set->ranges[m - 1].hi = r.hi;
		} else {
			set->ranges[m++] = r;
		}
	}
	set->count = m;
}

bool imap_seqset_has_star(const struct imap_seqset *set)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->ranges[i].lo == 0 || set->ranges[i].hi == 0)
			return true;
	return false;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->ranges[mid].hi < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < set->count && set->ranges[lo].lo <= n;
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->ranges);
	set->ranges = NULL;
	set->count = 0;
}
