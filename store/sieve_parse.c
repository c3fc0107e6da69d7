/* Sieve scripts to a tree (RFC 5228 8.2-8.3), checked as they are read:
 * extensions required before use, the arguments each command and test
 * takes, constant names (header fields, mailboxes, addresses, flags)
 * valid, and the limits of sieve.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "charset.h"
#include "sieve_int.h"

enum ext {
	EXT_FILEINTO = 1 << 0, EXT_ENVELOPE = 1 << 1, EXT_COPY = 1 << 2,
	EXT_IMAP4FLAGS = 1 << 3, EXT_MAILBOX = 1 << 4, EXT_SUBADDRESS = 1 << 5,
	EXT_RELATIONAL = 1 << 6, EXT_NUMERIC = 1 << 7, EXT_OCTET = 1 << 8,
	EXT_CASEMAP = 1 << 9, EXT_VACATION = 1 << 10, EXT_BODY = 1 << 11, EXT_DATE = 1 << 12,
	EXT_VARIABLES = 1 << 13, EXT_REJECT = 1 << 14, EXT_EREJECT = 1 << 15,
};

static const struct {
	const char *name;
	unsigned bit;
} extensions[] = {
	{ "fileinto", EXT_FILEINTO }, { "envelope", EXT_ENVELOPE }, { "copy", EXT_COPY },
	{ "imap4flags", EXT_IMAP4FLAGS }, { "mailbox", EXT_MAILBOX },
	{ "subaddress", EXT_SUBADDRESS }, { "relational", EXT_RELATIONAL },
	{ "comparator-i;ascii-numeric", EXT_NUMERIC }, { "comparator-i;octet", EXT_OCTET },
	{ "comparator-i;ascii-casemap", EXT_CASEMAP }, { "vacation", EXT_VACATION },
	{ "body", EXT_BODY }, { "date", EXT_DATE }, { "variables", EXT_VARIABLES },
	{ "reject", EXT_REJECT }, { "ereject", EXT_EREJECT },
};

const char *sieve_extensions(void)
{
	return "fileinto envelope copy imap4flags mailbox subaddress relational "
	       "comparator-i;ascii-numeric comparator-i;octet comparator-i;ascii-casemap "
	       "vacation body date variables reject ereject";
}

/* Tags: which command or test may take them (A_*), and what follows. */
enum {
	A_CMP = 1 << 0, A_MATCH = 1 << 1, A_PART = 1 << 2, A_COPY = 1 << 3,
	A_CREATE = 1 << 4, A_FLAGS = 1 << 5, A_SIZE = 1 << 6, A_VACATION = 1 << 7,
	A_TRANSFORM = 1 << 8, A_ZONE = 1 << 9, A_ORIGINALZONE = 1 << 10, A_MODS = 1 << 11,
};

struct args {
	int cmp, mt, rel, part, size, transform, zone; /* -1: not given */
	bool copy, create, has_flags, over;
	uint64_t number;
	int zone_minutes;       /* :zone's */
	struct sieve_list flags;
	struct sieve_list pos[3];
	bool pos_list[3];       /* written as [..] */
	int npos;
	/* vacation's tags: set once each */
	bool has_days, has_subject, has_from, has_addresses, has_handle;
	uint64_t days;
	const char *subject, *from;
	struct sieve_list addresses;
	struct sieve_list content; /* body :content's types */
	unsigned mods;             /* set's SIEVE_MOD_* */
};

struct parser {
	struct sieve_lexer lx;
	struct sieve_token tok;
	struct sieve_script *s;
	unsigned exts;          /* required so far */
	bool cmds_seen;         /* a command other than require */
	char *error;
	bool failed;
	char lexerr[SIEVE_ERROR_MAX];
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	va_list ap;
	int n = snprintf(p->error, SIEVE_ERROR_MAX, "line %u: ", line);
	va_start(ap, fmt);
	vsnprintf(p->error + n, SIEVE_ERROR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	p->failed = true;
	return -1;
}

/* Every allocation of a script is chained behind a small header. */
struct chunk {
	struct chunk *next;
	max_align_t align[];
};

static void *alloc(struct parser *p, size_t n)
{
	struct chunk *c = calloc(1, sizeof(*c) + n);
	if (c == NULL) {
		fail(p, p->tok.line, "out of memory");
		return NULL;
	}
	c->next = p->s->mem;
	p->s->mem = c;
	return c->align;
}

static char *dup_str(struct parser *p, const char *s, size_t len)
{
	char *d = alloc(p, len + 1);
	if (d != NULL)
		memcpy(d, s, len);
	return d;
}

static int next(struct parser *p)
{
	sieve_lex(&p->lx, &p->tok);
	if (p->tok.type == TOK_ERROR) {
		if (!p->failed)
			snprintf(p->error, SIEVE_ERROR_MAX, "%s", p->lx.error);
		p->failed = true;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ arguments */

/* With variables, every string may hold references (RFC 5229 3); those
 * that cannot be expanded are errors: a namespace (no extension here
 * gives one) and a match variable past ${9} (RFC 5229 6). */
static int check_refs(struct parser *p, unsigned line, const char *s)
{
	struct sieve_ref ref;
	size_t len = strlen(s), used;
	if (!(p->exts & EXT_VARIABLES))
		return 0;
	for (const char *q = s; (q = strstr(q, "${")) != NULL; q += used > 0 ? used : 1) {
		used = sieve_ref_parse(q, len - (size_t)(q - s), &ref);
		if (used == 0)
			continue;
		if (ref.kind == REF_NAMESPACE)
			return fail(p, line, "variable namespace \"%.*s\" is not supported",
				    (int)(used > 64 ? 64 : used), q);
		if (ref.kind == REF_NUMBER && ref.number >= SIEVE_MATCH_VARS)
			return fail(p, line, "match variable \"%.*s\" past ${%d}",
				    (int)(used > 64 ? 64 : used), q, SIEVE_MATCH_VARS - 1);
	}
	return 0;
}

/* Whether a string will expand at run time. */
static bool expands(const struct parser *p, const char *s)
{
	return (p->exts & EXT_VARIABLES) && sieve_has_ref(s);
}

static bool list_expands(const struct parser *p, const struct sieve_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (expands(p, l->v[i]))
			return true;
	return false;
}

/* string / "[" string *("," string) "]" */
static int parse_list(struct parser *p, struct sieve_list *l, bool *bracket_r)
{
	*l = (struct sieve_list){ 0 };
	*bracket_r = p->tok.type == TOK_LBRACKET;
	if (p->tok.type == TOK_STRING) {
		l->v = alloc(p, sizeof(char *));
		if (l->v == NULL || (l->v[0] = dup_str(p, p->tok.str, p->tok.len)) == NULL ||
		    check_refs(p, p->tok.line, l->v[0]) < 0)
			return -1;
		l->n = 1;
		return next(p);
	}
	if (p->tok.type != TOK_LBRACKET)
		return fail(p, p->tok.line, "string or string list expected");
	char *v[SIEVE_LIST_MAX];
	do {
		if (next(p) < 0)
			return -1;
		if (p->tok.type != TOK_STRING)
			return fail(p, p->tok.line, "string expected in list");
		if (l->n == SIEVE_LIST_MAX)
			return fail(p, p->tok.line, "string list longer than %d", SIEVE_LIST_MAX);
		if ((v[l->n++] = dup_str(p, p->tok.str, p->tok.len)) == NULL ||
		    check_refs(p, p->tok.line, v[l->n - 1]) < 0 || next(p) < 0)
			return -1;
	} while (p->tok.type == TOK_COMMA);
	if (p->tok.type != TOK_RBRACKET)
		return fail(p, p->tok.line, "\"]\" expected");
	if ((l->v = alloc(p, l->n * sizeof(char *))) == NULL)
		return -1;
	memcpy(l->v, v, l->n * sizeof(char *));
	return next(p);
}

static int find(const char *const *names, const char *s)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcasecmp(names[i], s) == 0)
			return i;
	return -1;
}

static bool need(struct parser *p, unsigned ext, unsigned line, const char *what, const char *name)
{
	if (p->exts & ext)
		return true;
	fail(p, line, "%s requires require \"%s\"", what, name);
	return false;
}

/* A string tag parameter: the token, copied; NULL after a failure. */
static const char *tag_string(struct parser *p, const char *tag, unsigned line)
{
	if (p->tok.type != TOK_STRING) {
		fail(p, line, "vacation: :%s needs a string", tag);
		return NULL;
	}
	char *v = dup_str(p, p->tok.str, p->tok.len);
	return v != NULL && check_refs(p, p->tok.line, v) == 0 && next(p) == 0 ? v : NULL;
}

/* vacation's tags (RFC 5230 4): 0 taken, 1 not one of them, -1. */
static int parse_vacation_tag(struct parser *p, struct args *a, const char *tag, unsigned line)
{
	static const char *const names[] = { "days", "subject", "from", "addresses", "handle",
					     "mime", NULL };
	bool *given[] = { &a->has_days, &a->has_subject, &a->has_from, &a->has_addresses,
			  &a->has_handle, NULL };
	int i = find(names, tag);
	if (i < 0)
		return 1;
	if (i == 5)
		return fail(p, line, "vacation :mime is not supported (give the reason as text)");
	if (*given[i])
		return fail(p, line, "vacation: :%s given twice", tag);
	*given[i] = true;
	switch (i) {
	case 0:
		if (p->tok.type != TOK_NUMBER)
			return fail(p, line, "vacation: :days needs a number");
		a->days = p->tok.number;
		return next(p);
	case 1:
		a->subject = tag_string(p, tag, line);
		if (a->subject != NULL && !expands(p, a->subject) &&
		    !charset_utf8_text(a->subject, strlen(a->subject), false))
			return fail(p, line, "vacation: :subject must be one line of text");
		return a->subject != NULL ? 0 : -1;
	case 2:
		return (a->from = tag_string(p, tag, line)) != NULL ? 0 : -1;
	case 3: {
		bool br;
		return parse_list(p, &a->addresses, &br);
	}
	default: /* :handle only tells replies apart; one record per sender here */
		return tag_string(p, tag, line) != NULL ? 0 : -1;
	}
}

/* :zone's value (RFC 5260 4.1): time-zone = ("+" / "-") 4DIGIT, "hhmm"
 * with hours to 23 and minutes to 59: what the iso8601 date-part's offset
 * (RFC 3339 time-numoffset) can write. */
static bool zone_parse(const char *s, int *minutes_r)
{
	if (strlen(s) != 5 || (s[0] != '+' && s[0] != '-'))
		return false;
	for (int i = 1; i < 5; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	int hh = (s[1] - '0') * 10 + (s[2] - '0'), mm = (s[3] - '0') * 10 + (s[4] - '0');
	if (hh > 23 || mm > 59)
		return false;
	*minutes_r = (hh * 60 + mm) * (s[0] == '-' ? -1 : 1);
	return true;
}

/* One tag and its parameter; `what` names the command or test. */
static int parse_tag(struct parser *p, struct args *a, unsigned allowed, const char *what)
{
	static const char *const mts[] = { "is", "contains", "matches", "value", "count", NULL };
	static const char *const parts[] = { "all", "localpart", "domain", "user", "detail", NULL };
	static const char *const rels[] = { "gt", "ge", "lt", "le", "eq", "ne", NULL };
	static const char *const cmps[] = { "i;ascii-casemap", "i;octet", "i;ascii-numeric", NULL };
	static const char *const transforms[] = { "text", "raw", "content", NULL }; /* BT_* */
	/* SIEVE_MOD_*'s bits, pairs of one precedence first */
	static const char *const modifiers[] = { "lower", "upper", "lowerfirst", "upperfirst",
						 "quotewildcard", "length", NULL };
	unsigned line = p->tok.line;
	char tag[32];
	int i;

	snprintf(tag, sizeof(tag), "%s", p->tok.str);
	if (next(p) < 0)
		return -1;
	if ((allowed & A_MATCH) && (i = find(mts, tag)) >= 0) {
		if (a->mt >= 0)
			return fail(p, line, "%s: more than one match type", what);
		a->mt = i;
		if (i < MT_VALUE)
			return 0;
		if (!need(p, EXT_RELATIONAL, line, ":value and :count", "relational"))
			return -1;
		if (p->tok.type != TOK_STRING)
			return fail(p, line, ":%s needs a relational operator", tag);
		if ((a->rel = find(rels, p->tok.str)) < 0)
			return fail(p, line, "unknown relational operator \"%s\"", p->tok.str);
		return next(p);
	}
	if ((allowed & A_PART) && (i = find(parts, tag)) >= 0) {
		if (a->part >= 0)
			return fail(p, line, "%s: more than one address part", what);
		if (i >= PART_USER && !need(p, EXT_SUBADDRESS, line, ":user and :detail", "subaddress"))
			return -1;
		a->part = i;
		return 0;
	}
	if ((allowed & A_CMP) && strcasecmp(tag, "comparator") == 0) {
		if (a->cmp >= 0)
			return fail(p, line, "%s: more than one comparator", what);
		if (p->tok.type != TOK_STRING)
			return fail(p, line, ":comparator needs a comparator name");
		if ((a->cmp = find(cmps, p->tok.str)) < 0)
			return fail(p, line, "unknown comparator \"%s\"", p->tok.str);
		if (a->cmp == CMP_NUMERIC &&
		    !need(p, EXT_NUMERIC, line, "i;ascii-numeric", "comparator-i;ascii-numeric"))
			return -1;
		return next(p);
	}
	if ((allowed & A_COPY) && strcasecmp(tag, "copy") == 0) {
		if (!need(p, EXT_COPY, line, ":copy", "copy"))
			return -1;
		a->copy = true;
		return 0;
	}
	if ((allowed & A_CREATE) && strcasecmp(tag, "create") == 0) {
		if (!need(p, EXT_MAILBOX, line, ":create", "mailbox"))
			return -1;
		a->create = true;
		return 0;
	}
	if ((allowed & A_FLAGS) && strcasecmp(tag, "flags") == 0) {
		bool br;
		if (!need(p, EXT_IMAP4FLAGS, line, ":flags", "imap4flags"))
			return -1;
		if (a->has_flags)
			return fail(p, line, "%s: :flags given twice", what);
		a->has_flags = true;
		return parse_list(p, &a->flags, &br);
	}
	if ((allowed & A_TRANSFORM) && (i = find(transforms, tag)) >= 0) {
		bool br;
		if (a->transform >= 0)
			return fail(p, line, "%s: more than one body transform", what);
		a->transform = i;
		if (i != BT_CONTENT)
			return 0;
		if (p->tok.type != TOK_STRING && p->tok.type != TOK_LBRACKET)
			return fail(p, line, ":content needs a list of content types");
		return parse_list(p, &a->content, &br);
	}
	if (((allowed & A_ZONE) && strcasecmp(tag, "zone") == 0) ||
	    ((allowed & A_ORIGINALZONE) && strcasecmp(tag, "originalzone") == 0)) {
		if (a->zone >= 0)
			return fail(p, line, "%s: more than one of :zone and :originalzone", what);
		if (strcasecmp(tag, "originalzone") == 0) {
			a->zone = ZONE_ORIGINAL;
			return 0;
		}
		a->zone = ZONE_GIVEN;
		if (p->tok.type != TOK_STRING)
			return fail(p, line, ":zone needs a time zone offset such as \"+0100\"");
		if (!zone_parse(p->tok.str, &a->zone_minutes))
			return fail(p, line, "invalid :zone \"%s\" (+hhmm or -hhmm expected, hours to 23)",
				    p->tok.str);
		return next(p);
	}
	if ((allowed & A_MODS) && (i = find(modifiers, tag)) >= 0) {
		/* RFC 5229 4.1: one modifier of each precedence */
		unsigned bit = 1u << i, group = bit | (i < 4 ? 1u << (i ^ 1) : 0);
		if (a->mods & group)
			return fail(p, line, "set: more than one modifier of the precedence of :%s",
				    tag);
		a->mods |= bit;
		return 0;
	}
	if ((allowed & A_VACATION) && parse_vacation_tag(p, a, tag, line) != 1)
		return p->failed ? -1 : 0;
	if ((allowed & A_SIZE) && (strcasecmp(tag, "over") == 0 || strcasecmp(tag, "under") == 0)) {
		if (a->size >= 0)
			return fail(p, line, "size: more than one of :over and :under");
		a->size = 1;
		a->over = strcasecmp(tag, "over") == 0;
		if (p->tok.type != TOK_NUMBER)
			return fail(p, line, ":%s needs a number", tag);
		a->number = p->tok.number;
		return next(p);
	}
	return fail(p, line, "%s: unknown tag \":%s\"", what, tag);
}

/* The arguments before a test, test list, block or ";". `shape` gives the
 * positional ones: 'L' a string list, 'S' one string. */
static int parse_args(struct parser *p, struct args *a, unsigned allowed, const char *shape,
		      const char *what)
{
	unsigned line = p->tok.line;
	*a = (struct args){ .cmp = -1, .mt = -1, .rel = -1, .part = -1, .size = -1,
			    .transform = -1, .zone = -1 };
	for (;;) {
		if (p->tok.type == TOK_TAG) {
			if (a->npos > 0)
				return fail(p, p->tok.line, "%s: tag \":%s\" after positional arguments",
					    what, p->tok.str);
			if (parse_tag(p, a, allowed, what) < 0)
				return -1;
		} else if (p->tok.type == TOK_STRING || p->tok.type == TOK_LBRACKET) {
			if (a->npos >= (int)strlen(shape))
				return fail(p, p->tok.line, "%s: too many arguments", what);
			if (parse_list(p, &a->pos[a->npos], &a->pos_list[a->npos]) < 0)
				return -1;
			if (shape[a->npos] == 'S' && (a->pos_list[a->npos] || a->pos[a->npos].n != 1))
				return fail(p, line, "%s: a string expected, not a list", what);
			a->npos++;
		} else if (p->tok.type == TOK_NUMBER) {
			return fail(p, p->tok.line, "%s: unexpected number", what);
		} else {
			break;
		}
	}
	if (a->npos < (int)strlen(shape))
		return fail(p, line, "%s: missing argument", what);
	if (a->cmp == CMP_NUMERIC && (a->mt == MT_CONTAINS || a->mt == MT_MATCHES))
		return fail(p, line, "%s: i;ascii-numeric cannot do :contains or :matches", what);
	return 0;
}

/* ------------------------------------------------------------ names */

/* RFC 5322 field-name: printable ASCII but ":". */
static bool field_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 33 || (unsigned char)*s > 126 || *s == ':')
			return false;
	return true;
}

bool sieve_address_field(const char *s)
{
	static const char *const fields[] = {
		"from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender",
		"resent-to", "resent-cc", "resent-bcc", "resent-reply-to", "return-path",
		"delivered-to", "x-original-to", "envelope-to", "errors-to", "mail-followup-to",
		"mail-reply-to", "disposition-notification-to", "original-recipient", NULL,
	};
	return find(fields, s) >= 0;
}

/* Names that expand are checked at run time (a bad one matches nothing). */
static int check_fields(struct parser *p, unsigned line, const struct sieve_list *l, bool address)
{
	for (size_t i = 0; i < l->n; i++) {
		if (expands(p, l->v[i]))
			continue;
		if (!field_name_ok(l->v[i]))
			return fail(p, line, "invalid header name \"%s\"", l->v[i]);
		if (address && !sieve_address_field(l->v[i]))
			return fail(p, line, "address: \"%s\" is not an address header", l->v[i]);
	}
	return 0;
}

bool sieve_mailbox_ok(char *name)
{
	if (*name == '\0' || !charset_utf8_text(name, strlen(name), false))
		return false;
	if (strcasecmp(name, "INBOX") == 0)
		memcpy(name, "INBOX", 5);
	return true;
}

static int check_mailbox(struct parser *p, unsigned line, char *name)
{
	if (!sieve_mailbox_ok(name))
		return fail(p, line, "invalid mailbox name \"%s\"", name);
	return 0;
}

int sieve_address_check(const char *s, char **spec_r)
{
	struct address_list *al = NULL;
	*spec_r = NULL;
	if (address_list_parse(s, strlen(s), 2, &al) < 0)
		return -1;
	bool ok = al->flags == 0 && al->count == 1 && al->addrs[0].host != NULL &&
		  al->addrs[0].host[0] != '\0' && al->addrs[0].mailbox[0] != '\0';
	if (ok && (*spec_r = address_addr_spec(&al->addrs[0])) == NULL) {
		address_list_free(&al);
		return -1;
	}
	address_list_free(&al);
	return ok ? 1 : 0;
}

/* redirect's and vacation's addresses, kept as their addr-spec; `what`
 * names it in the error. */
static char *check_address(struct parser *p, unsigned line, const char *s, const char *what)
{
	char *spec, *res = NULL;
	int rc = sieve_address_check(s, &spec);
	if (rc < 0)
		fail(p, line, "out of memory");
	else if (rc == 0)
		fail(p, line, "%s: invalid address \"%s\"", what, s);
	else
		res = dup_str(p, spec, strlen(spec));
	free(spec);
	return res;
}

/* vacation's arguments, checked: the addresses as addr-specs, the reason
 * text. NULL after a failure. */
static struct sieve_vacation *vacation_args(struct parser *p, const struct args *a, unsigned line)
{
	struct sieve_vacation *v = alloc(p, sizeof(*v));
	const char *reason = a->pos[0].v[0];
	if (v == NULL)
		return NULL;
	if (!expands(p, reason) && !charset_utf8_text(reason, strlen(reason), true)) {
		fail(p, line, "vacation: the reason must be UTF-8 text");
		return NULL;
	}
	v->reason = a->pos[0].v[0];
	v->days = a->has_days ? (a->days > 0 ? a->days : 1) : 0; /* RFC 5230 4.1: at least 1 */
	v->subject = (char *)a->subject;
	if (a->from != NULL && expands(p, a->from))
		v->from = (char *)a->from; /* checked at run time */
	else if (a->from != NULL &&
		 (v->from = check_address(p, line, a->from, "vacation :from")) == NULL)
		return NULL;
	if (a->addresses.n > 0 && (v->addresses = alloc(p, a->addresses.n * sizeof(char *))) == NULL)
		return NULL;
	for (size_t i = 0; i < a->addresses.n; i++)
		if (expands(p, a->addresses.v[i]))
			v->addresses[i] = a->addresses.v[i];
		else if ((v->addresses[i] = check_address(p, line, a->addresses.v[i],
							  "vacation :addresses")) == NULL)
			return NULL;
	v->naddresses = a->addresses.n;
	return v;
}

/* ------------------------------------------------------------ tests */

static struct sieve_test *parse_test(struct parser *p, int depth);

/* "(" test *("," test) ")" */
static struct sieve_test *parse_test_list(struct parser *p, int depth)
{
	struct sieve_test *first = NULL, **tail = &first;
	if (p->tok.type != TOK_LPAREN) {
		fail(p, p->tok.line, "\"(\" expected");
		return NULL;
	}
	do {
		if (next(p) < 0 || (*tail = parse_test(p, depth)) == NULL)
			return NULL;
		tail = &(*tail)->next;
	} while (p->tok.type == TOK_COMMA);
	if (p->tok.type != TOK_RPAREN) {
		fail(p, p->tok.line, "\")\" expected");
		return NULL;
	}
	return next(p) < 0 ? NULL : first;
}

static const struct {
	const char *name;
	enum sieve_test_kind kind;
	unsigned allowed;
	const char *shape;
	unsigned ext;
	const char *ext_name;
} tests[] = {
	{ "address", T_ADDRESS, A_CMP | A_MATCH | A_PART, "LL", 0, NULL },
	{ "allof", T_ALLOF, 0, "", 0, NULL },
	{ "anyof", T_ANYOF, 0, "", 0, NULL },
	{ "envelope", T_ENVELOPE, A_CMP | A_MATCH | A_PART, "LL", EXT_ENVELOPE, "envelope" },
	{ "exists", T_EXISTS, 0, "L", 0, NULL },
	{ "false", T_FALSE, 0, "", 0, NULL },
	{ "true", T_TRUE, 0, "", 0, NULL },
	{ "header", T_HEADER, A_CMP | A_MATCH, "LL", 0, NULL },
	{ "not", T_NOT, 0, "", 0, NULL },
	{ "size", T_SIZE, A_SIZE, "", 0, NULL },
	{ "hasflag", T_HASFLAG, A_CMP | A_MATCH, "L", EXT_IMAP4FLAGS, "imap4flags" },
	{ "mailboxexists", T_MAILBOXEXISTS, 0, "L", EXT_MAILBOX, "mailbox" },
	{ "body", T_BODY, A_CMP | A_MATCH | A_TRANSFORM, "L", EXT_BODY, "body" },
	{ "date", T_DATE, A_CMP | A_MATCH | A_ZONE | A_ORIGINALZONE, "SSL", EXT_DATE, "date" },
	{ "currentdate", T_CURRENTDATE, A_CMP | A_MATCH | A_ZONE, "SL", EXT_DATE, "date" },
	{ "string", T_STRING, A_CMP | A_MATCH, "LL", EXT_VARIABLES, "variables" },
};

/* RFC 5260 4.2's date-parts, in enum sieve_datepart's order */
static const char *const dateparts[] = {
	"year", "month", "day", "date", "julian", "hour", "minute", "second", "time", "iso8601",
	"std11", "zone", "weekday", NULL,
};

/* date and currentdate: the date-part (any case, as tags) and the zone. */
static int date_args(struct parser *p, struct sieve_test *t, const struct args *a,
		     const char *part, unsigned line)
{
	int i = find(dateparts, part);
	if (i < 0)
		return fail(p, line, "%s: unknown date-part \"%s\"",
			    t->kind == T_DATE ? "date" : "currentdate", part);
	t->datepart = i;
	t->zone = a->zone >= 0 ? a->zone : ZONE_LOCAL;
	t->zone_minutes = a->zone_minutes;
	return 0;
}

static struct sieve_test *parse_test(struct parser *p, int depth)
{
	unsigned line = p->tok.line;
	size_t k = 0;
	struct args a;

	if (depth >= SIEVE_DEPTH_MAX) {
		fail(p, line, "nested deeper than %d", SIEVE_DEPTH_MAX);
		return NULL;
	}
	if (p->tok.type != TOK_IDENT) {
		fail(p, line, "test expected");
		return NULL;
	}
	while (k < sizeof(tests) / sizeof(tests[0]) && strcasecmp(tests[k].name, p->tok.str) != 0)
		k++;
	if (k == sizeof(tests) / sizeof(tests[0])) {
		fail(p, line, "unknown test \"%s\"", p->tok.str);
		return NULL;
	}
	if (tests[k].ext != 0 && !need(p, tests[k].ext, line, tests[k].name, tests[k].ext_name))
		return NULL;
	struct sieve_test *t = alloc(p, sizeof(*t));
	if (t == NULL || next(p) < 0 || parse_args(p, &a, tests[k].allowed, tests[k].shape, tests[k].name) < 0)
		return NULL;
	t->kind = tests[k].kind;
	t->cmp = a.cmp >= 0 ? a.cmp : CMP_CASEMAP;
	t->mt = a.mt >= 0 ? a.mt : MT_IS;
	t->rel = a.rel >= 0 ? a.rel : REL_EQ;
	t->part = a.part >= 0 ? a.part : PART_ALL;
	t->names = a.pos[0];
	t->keys = a.pos[1];
	t->over = a.over;
	t->size = a.number;
	t->line = line;
	/* what expands at run time: keys, header names, mailbox names (the
	 * date-part, zone, envelope part and :content types stay literal) */
	for (int i = 0; i < a.npos; i++)
		t->expand |= (t->kind != T_ENVELOPE || i > 0) &&
			     !(t->kind == T_DATE && i == 1) && !(t->kind == T_CURRENTDATE && i == 0) &&
			     list_expands(p, &a.pos[i]);
	switch (t->kind) {
	case T_ALLOF:
	case T_ANYOF:
		t->sub = parse_test_list(p, depth + 1);
		return t->sub != NULL ? t : NULL;
	case T_NOT:
		t->sub = parse_test(p, depth + 1);
		return t->sub != NULL ? t : NULL;
	case T_HASFLAG:
		t->keys = a.pos[0];
		break;
	case T_BODY:
		/* RFC 5173 5.2: a malformed content type matches nothing; no error */
		t->keys = a.pos[0];
		t->names = a.content;
		t->transform = a.transform >= 0 ? a.transform : BT_TEXT;
		break;
	case T_SIZE:
		if (a.size < 0) {
			fail(p, line, "size needs :over or :under");
			return NULL;
		}
		break;
	case T_ENVELOPE:
		for (size_t i = 0; i < t->names.n; i++)
			if (strcasecmp(t->names.v[i], "from") != 0 && strcasecmp(t->names.v[i], "to") != 0) {
				fail(p, line, "envelope: unsupported part \"%s\"", t->names.v[i]);
				return NULL;
			}
		break;
	case T_MAILBOXEXISTS:
		for (size_t i = 0; i < t->names.n; i++)
			if (!expands(p, t->names.v[i]) && check_mailbox(p, line, t->names.v[i]) < 0)
				return NULL;
		break;
	case T_HEADER:
	case T_ADDRESS:
	case T_EXISTS:
		if (check_fields(p, line, &t->names, t->kind == T_ADDRESS) < 0)
			return NULL;
		break;
	case T_DATE: /* header-name, date-part, keys */
		t->keys = a.pos[2];
		if (check_fields(p, line, &t->names, false) < 0 ||
		    date_args(p, t, &a, a.pos[1].v[0], line) < 0)
			return NULL;
		break;
	case T_CURRENTDATE: /* date-part, keys */
		t->names = (struct sieve_list){ 0 };
		if (date_args(p, t, &a, a.pos[0].v[0], line) < 0)
			return NULL;
		break;
	default:
		break;
	}
	return t;
}

/* ------------------------------------------------------------ commands */

static struct sieve_cmd *parse_block(struct parser *p, int depth, bool top);

static int do_require(struct parser *p, const struct args *a, unsigned line)
{
	if (p->cmds_seen)
		return fail(p, line, "require after other commands");
	for (size_t i = 0; i < a->pos[0].n; i++) {
		size_t k = 0;
		while (k < sizeof(extensions) / sizeof(extensions[0]) &&
		       strcmp(extensions[k].name, a->pos[0].v[i]) != 0)
			k++;
		if (k == sizeof(extensions) / sizeof(extensions[0]))
			return fail(p, line, "unsupported extension \"%s\"", a->pos[0].v[i]);
		p->exts |= extensions[k].bit;
	}
	return 0;
}

static const struct {
	const char *name;
	enum sieve_op op;
	unsigned allowed;
	const char *shape;
	unsigned ext;
	const char *ext_name;
} commands[] = {
	{ "if", OP_IF, 0, "", 0, NULL },
	{ "stop", OP_STOP, 0, "", 0, NULL },
	{ "keep", OP_KEEP, A_FLAGS, "", 0, NULL },
	{ "discard", OP_DISCARD, 0, "", 0, NULL },
	{ "fileinto", OP_FILEINTO, A_COPY | A_CREATE | A_FLAGS, "S", EXT_FILEINTO, "fileinto" },
	{ "redirect", OP_REDIRECT, A_COPY, "S", 0, NULL },
	{ "setflag", OP_SETFLAG, 0, "L", EXT_IMAP4FLAGS, "imap4flags" },
	{ "addflag", OP_ADDFLAG, 0, "L", EXT_IMAP4FLAGS, "imap4flags" },
	{ "removeflag", OP_REMOVEFLAG, 0, "L", EXT_IMAP4FLAGS, "imap4flags" },
	{ "vacation", OP_VACATION, A_VACATION, "S", EXT_VACATION, "vacation" },
	{ "set", OP_SET, A_MODS, "SS", EXT_VARIABLES, "variables" },
	{ "reject", OP_REJECT, 0, "S", EXT_REJECT, "reject" },
	{ "ereject", OP_EREJECT, 0, "S", EXT_EREJECT, "ereject" },
	{ "elsif", OP_IF, 0, "", 0, NULL },
	{ "else", OP_IF, 0, "", 0, NULL },
	{ "require", OP_STOP, 0, "L", 0, NULL },
};

/* set's name (RFC 5229 4: a constant identifier) gets its index among the
 * script's variables, the first spelling kept (names are case-insensitive). */
static int set_args(struct parser *p, struct sieve_cmd *c, const struct args *a, unsigned line)
{
	const char *name = a->pos[0].v[0];
	struct sieve_script *s = p->s;
	if (!sieve_var_name_ok(name))
		return fail(p, line, "set: invalid variable name \"%.64s\"", name);
	c->arg = a->pos[1].v[0];
	c->mods = a->mods;
	for (c->var = 0; c->var < s->nvars; c->var++)
		if (strcasecmp(s->var_names[c->var], name) == 0)
			return 0;
	if (s->nvars == SIEVE_VARS_MAX)
		return fail(p, line, "more than %d variables", SIEVE_VARS_MAX);
	if (s->var_names == NULL &&
	    (s->var_names = alloc(p, SIEVE_VARS_MAX * sizeof(char *))) == NULL)
		return -1;
	s->var_names[s->nvars++] = (char *)name;
	return 0;
}

/* One command; *chain_r is the if/elsif an elsif/else attaches to. NULL
 * with no error for a require (it leaves nothing in the tree). */
static struct sieve_cmd *parse_command(struct parser *p, int depth, bool top,
				       struct sieve_cmd **chain_r)
{
	unsigned line = p->tok.line;
	size_t k = 0;
	struct args a;
	char name[16];

	if (p->tok.type != TOK_IDENT) {
		fail(p, line, "command expected");
		return NULL;
	}
	while (k < sizeof(commands) / sizeof(commands[0]) && strcasecmp(commands[k].name, p->tok.str) != 0)
		k++;
	if (k == sizeof(commands) / sizeof(commands[0])) {
		fail(p, line, "unknown command \"%s\"", p->tok.str);
		return NULL;
	}
	snprintf(name, sizeof(name), "%s", commands[k].name);
	if (commands[k].ext != 0 && !need(p, commands[k].ext, line, name, commands[k].ext_name))
		return NULL;
	bool is_else = strcmp(name, "else") == 0, is_elsif = strcmp(name, "elsif") == 0;
	bool is_require = strcmp(name, "require") == 0;
	if ((is_else || is_elsif) && *chain_r == NULL) {
		fail(p, line, "%s without if", name);
		return NULL;
	}
	if (is_require && !top) {
		fail(p, line, "require inside a block");
		return NULL;
	}
	if (!is_require)
		p->cmds_seen = true;
	struct sieve_cmd *c = alloc(p, sizeof(*c));
	if (c == NULL || next(p) < 0 || parse_args(p, &a, commands[k].allowed, commands[k].shape, name) < 0)
		return NULL;
	c->op = commands[k].op;
	c->line = line;
	c->copy = a.copy;
	c->create = a.create;
	c->has_flags = a.has_flags;
	c->flags = a.has_flags ? a.flags : a.pos[0];
	for (int i = 0; i < a.npos; i++)
		c->expand |= list_expands(p, &a.pos[i]);
	c->expand |= list_expands(p, &a.flags) || list_expands(p, &a.addresses) ||
		     (a.subject != NULL && expands(p, a.subject)) ||
		     (a.from != NULL && expands(p, a.from));
	if (c->op == OP_IF) {
		if (!is_else && (c->test = parse_test(p, depth + 1)) == NULL)
			return NULL;
		if (p->tok.type != TOK_LBRACE) {
			fail(p, p->tok.line, "%s: \"{\" expected", name);
			return NULL;
		}
		if (next(p) < 0 || ((c->block = parse_block(p, depth + 1, false)) == NULL && p->failed))
			return NULL;
		if (p->tok.type != TOK_RBRACE) {
			fail(p, p->tok.line, "\"}\" expected");
			return NULL;
		}
		if (next(p) < 0)
			return NULL;
		if (is_else || is_elsif) {
			(*chain_r)->orelse = c;
			*chain_r = is_else ? NULL : c;
			return NULL; /* already in the tree */
		}
		*chain_r = c;
		return c;
	}
	*chain_r = NULL;
	if (p->tok.type == TOK_IDENT || p->tok.type == TOK_LPAREN) {
		fail(p, p->tok.line, "%s takes no test", name);
		return NULL;
	}
	if (p->tok.type != TOK_SEMICOLON) {
		fail(p, p->tok.line, "\";\" expected after %s", name);
		return NULL;
	}
	if (next(p) < 0)
		return NULL;
	if (is_require) {
		do_require(p, &a, line);
		return NULL;
	}
	if (c->op == OP_FILEINTO) {
		c->arg = a.pos[0].v[0];
		if (!expands(p, c->arg) && check_mailbox(p, line, c->arg) < 0)
			return NULL;
	} else if (c->op == OP_REDIRECT && expands(p, a.pos[0].v[0])) {
		c->arg = a.pos[0].v[0]; /* checked at run time */
	} else if (c->op == OP_SET) {
		if (set_args(p, c, &a, line) < 0)
			return NULL;
	} else if (c->op == OP_REDIRECT &&
		   (c->arg = check_address(p, line, a.pos[0].v[0], "redirect")) == NULL) {
		return NULL;
	} else if (c->op == OP_VACATION && (c->vacation = vacation_args(p, &a, line)) == NULL) {
		return NULL;
	} else if (c->op == OP_REJECT || c->op == OP_EREJECT) {
		/* RFC 5429 2.1: the reason is UTF-8 text (an expanded one is
		 * cleaned at run time, sieve_reject_reason) */
		c->arg = a.pos[0].v[0];
		if (!expands(p, c->arg) && !charset_utf8_text(c->arg, strlen(c->arg), true)) {
			fail(p, line, "%s: the reason must be UTF-8 text", name);
			return NULL;
		}
	}
	return c;
}

/* Commands up to "}" or the end. */
static struct sieve_cmd *parse_block(struct parser *p, int depth, bool top)
{
	struct sieve_cmd *first = NULL, **tail = &first, *chain = NULL;
	if (depth >= SIEVE_DEPTH_MAX) {
		fail(p, p->tok.line, "nested deeper than %d", SIEVE_DEPTH_MAX);
		return NULL;
	}
	while (p->tok.type != TOK_EOF && p->tok.type != TOK_RBRACE) {
		struct sieve_cmd *c = parse_command(p, depth, top, &chain);
		if (p->failed)
			return NULL;
		if (c != NULL) {
			*tail = c;
			tail = &c->next;
		}
	}
	return first;
}

static bool block_has_vacation(const struct sieve_cmd *c)
{
	for (; c != NULL; c = c->next)
		for (const struct sieve_cmd *b = c; b != NULL; b = b->orelse)
			if (b->op == OP_VACATION || block_has_vacation(b->block))
				return true;
	return false;
}

bool sieve_script_has_vacation(const struct sieve_script *script)
{
	return block_has_vacation(script->cmds);
}

void sieve_script_free(struct sieve_script *s)
{
	if (s == NULL)
		return;
	for (struct chunk *c = s->mem, *n; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(s);
}

struct sieve_script *sieve_compile(const char *text, size_t len, char error[SIEVE_ERROR_MAX])
{
	struct parser *p = calloc(1, sizeof(*p));
	struct sieve_script *s = calloc(1, sizeof(*s));
	error[0] = '\0';
	if (p == NULL || s == NULL) {
		snprintf(error, SIEVE_ERROR_MAX, "line 1: out of memory");
		goto err;
	}
	p->s = s;
	p->error = error;
	p->lx = (struct sieve_lexer){ .p = text, .end = text + len, .line = 1, .error = p->lexerr };
	if (len > SIEVE_SCRIPT_MAX) {
		fail(p, 1, "script longer than %d octets", SIEVE_SCRIPT_MAX);
		goto err;
	}
	const char *nul = memchr(text, '\0', len);
	if (nul != NULL) {
		unsigned line = 1;
		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		fail(p, line, "NUL in script");
		goto err;
	}
	if (next(p) < 0)
		goto err;
	s->cmds = parse_block(p, 0, true);
	s->variables = (p->exts & EXT_VARIABLES) != 0;
	if (!p->failed && p->tok.type != TOK_EOF)
		fail(p, p->tok.line, "unexpected \"}\"");
	if (p->failed)
		goto err;
	free(p);
	return s;
err:
	sieve_script_free(s);
	free(p);
	return NULL;
}
