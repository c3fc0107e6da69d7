/* Filter rules <-> Sieve text (sieve_rules.h). The reader parses the one
 * shape the writer makes, then writes the rules again and compares: text
 * that differs in a single octet is not ours, so what the page shows is
 * exactly what runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "charset.h"
#include "sieve.h"
#include "sieve_rules.h"

static const char *const field_words[SF_COUNT] = { "from", "tocc", "subject", "header", "body",
						   "size" };
static const char *const op_words[SO_COUNT] = { "contains", "notcontains", "is", "isnot",
						 "starts", "over", "under" };
static const char *const action_words[SA_COUNT] = { "move", "copy", "read", "flag", "forward",
						    "forwardkeep", "delete", "reject" };

static int word_find(const char *const *words, int n, const char *s)
{
	for (int i = 0; s != NULL && i < n; i++)
		if (strcmp(words[i], s) == 0)
			return i;
	return -1;
}

const char *sieve_field_word(enum sieve_field f)
{
	return (unsigned)f < SF_COUNT ? field_words[f] : "";
}

const char *sieve_op_word(enum sieve_op op)
{
	return (unsigned)op < SO_COUNT ? op_words[op] : "";
}

const char *sieve_action_word(enum sieve_action_kind k)
{
	return (unsigned)k < SA_COUNT ? action_words[k] : "";
}

int sieve_field_from_word(const char *s)
{
	return word_find(field_words, SF_COUNT, s);
}

int sieve_op_from_word(const char *s)
{
	return word_find(op_words, SO_COUNT, s);
}

int sieve_action_from_word(const char *s)
{
	return word_find(action_words, SA_COUNT, s);
}

/* ------------------------------------------------------------ checks */

static bool is_flag_action(enum sieve_action_kind k)
{
	return k == SA_READ || k == SA_FLAG;
}

static bool is_address_field(enum sieve_field f)
{
	return f == SF_FROM || f == SF_TOCC;
}

/* A header name the user gave that is one of the fields: the writer would
 * make the same test for both, and the reader could not tell them apart. */
static int field_of_header(const char *h)
{
	if (strcasecmp(h, "subject") == 0)
		return SF_SUBJECT;
	if (strcasecmp(h, "from") == 0)
		return SF_FROM;
	return -1;
}

void sieve_rule_normalize(struct sieve_rule *r)
{
	for (size_t i = 0; i < r->nconds && i < SIEVE_RULE_CONDS_MAX; i++) {
		struct sieve_cond *c = &r->conds[i];
		int f = c->field == SF_HEADER ? field_of_header(c->header) : -1;
		if (f >= 0) {
			c->field = (enum sieve_field)f;
			c->header[0] = '\0';
		}
	}
	/* flags first, in their order, then the rest in theirs (stable) */
	struct sieve_action sorted[SIEVE_RULE_ACTIONS_MAX];
	size_t n = 0, count = r->nactions < SIEVE_RULE_ACTIONS_MAX ? r->nactions
								    : SIEVE_RULE_ACTIONS_MAX;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < count; i++)
			if (is_flag_action(r->actions[i].kind) == (pass == 0))
				sorted[n++] = r->actions[i];
	memcpy(r->actions, sorted, n * sizeof(sorted[0]));
	for (size_t i = 0; i < count; i++)
		r->stop |= r->actions[i].kind == SA_REJECT;
}

static bool text_ok(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);
	return len > 0 && len <= max && charset_utf8_text(s, len, false);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static bool header_name_ok(const char *s)
{
	size_t len = strnlen(s, SIEVE_RULE_HEADER_MAX + 1);
	if (len == 0 || len > SIEVE_RULE_HEADER_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 || s[i] == ':')
			return false;
	return true;
}

/* One addr-spec with a domain, written as the address parser writes it
 * back (so the reader gives the same string). */
static bool address_ok(const char *s)
{
	size_t len = strnlen(s, SIEVE_RULE_TARGET_MAX + 1);
	struct address_list *al = NULL;
	char *spec = NULL;
	bool ok = false;
	if (len == 0 || len > SIEVE_RULE_TARGET_MAX || !charset_utf8_text(s, len, false))
		return false;
	if (address_list_parse(s, len, 2, &al) < 0)
		return false;
	if (al->flags == 0 && al->count == 1 && al->addrs[0].name == NULL &&
	    al->addrs[0].route == NULL && al->addrs[0].host != NULL &&
	    al->addrs[0].host[0] != '\0' && al->addrs[0].mailbox[0] != '\0' &&
	    (spec = address_addr_spec(&al->addrs[0])) != NULL)
		ok = strcmp(spec, s) == 0;
	free(spec);
	address_list_free(&al);
	return ok;
}

#define FAIL(...) do { snprintf(error, SIEVE_RULES_ERROR_MAX, __VA_ARGS__); return -1; } while (0)

static int cond_check(const struct sieve_cond *c, size_t i, char error[SIEVE_RULES_ERROR_MAX])
{
	bool size_op = c->op == SO_OVER || c->op == SO_UNDER;
	if ((unsigned)c->field >= SF_COUNT || (unsigned)c->op >= SO_COUNT)
		FAIL("Condition %zu: unknown field or test.", i + 1);
	if ((c->field == SF_SIZE) != size_op)
		FAIL("Condition %zu: %s.", i + 1, size_op ? "only the size can be over or under"
						: "the size can only be over or under a number");
	if (c->field == SF_BODY && (c->op == SO_IS || c->op == SO_IS_NOT))
		FAIL("Condition %zu: for the message text, choose contains, does not contain or "
		     "starts with.", i + 1);
	if (c->field == SF_HEADER) {
		if (!header_name_ok(c->header))
			FAIL("Condition %zu: a header name is 1 to %d letters, digits or signs "
			     "(no space, no colon).", i + 1, SIEVE_RULE_HEADER_MAX);
		if (field_of_header(c->header) >= 0)
			FAIL("Condition %zu: choose the field %s rather than a header of that name.",
			     i + 1, c->header);
	} else if (c->header[0] != '\0') {
		FAIL("Condition %zu: a header name is for the field \"header\" only.", i + 1);
	}
	if (c->field == SF_SIZE) {
		if (c->size < 1 || c->size > SIEVE_RULE_SIZE_MAX || (c->unit != 'K' && c->unit != 'M'))
			FAIL("Condition %zu: give the size as a number from 1 to %d and K or M, "
			     "for example 500K.", i + 1, SIEVE_RULE_SIZE_MAX);
		if (c->value[0] != '\0')
			FAIL("Condition %zu: a size has no text.", i + 1);
		return 0;
	}
	if (c->size != 0 || c->unit != '\0')
		FAIL("Condition %zu: only the size has a number.", i + 1);
	if (!text_ok(c->value, SIEVE_RULE_VALUE_MAX))
		FAIL("Condition %zu: the text must be 1 to %d bytes on one line, without control "
		     "characters.", i + 1, SIEVE_RULE_VALUE_MAX);
	return 0;
}

static int action_check(const struct sieve_action *a, size_t i,
			char error[SIEVE_RULES_ERROR_MAX])
{
	switch (a->kind) {
	case SA_MOVE:
	case SA_COPY:
		if (!text_ok(a->target, SIEVE_RULE_TARGET_MAX))
			FAIL("Action %zu: choose a folder.", i + 1);
		return 0;
	case SA_FORWARD:
	case SA_FORWARD_KEEP:
		if (!address_ok(a->target))
			FAIL("Action %zu: give one address to forward to, like name@example.org.",
			     i + 1);
		return 0;
	case SA_REJECT:
		if (!text_ok(a->target, SIEVE_RULE_TARGET_MAX))
			FAIL("Action %zu: write the message for the sender, 1 to %d bytes on one line.",
			     i + 1, SIEVE_RULE_TARGET_MAX);
		return 0;
	case SA_READ:
	case SA_FLAG:
	case SA_DELETE:
		if (a->target[0] != '\0')
			FAIL("Action %zu: this action has no folder or address.", i + 1);
		return 0;
	default:
		FAIL("Action %zu: unknown action.", i + 1);
	}
}

int sieve_rule_check(const struct sieve_rule *r, char error[SIEVE_RULES_ERROR_MAX])
{
	size_t len = strnlen(r->name, sizeof(r->name));
	if (len == 0 || len == sizeof(r->name) || !charset_utf8_text(r->name, len, false) ||
	    utf8_chars(r->name) > SIEVE_RULE_NAME_MAX)
		FAIL("Give the rule a name of 1 to %d characters on one line.", SIEVE_RULE_NAME_MAX);
	if (r->nconds < 1 || r->nconds > SIEVE_RULE_CONDS_MAX)
		FAIL("A rule has 1 to %d conditions.", SIEVE_RULE_CONDS_MAX);
	if (r->nactions < 1 || r->nactions > SIEVE_RULE_ACTIONS_MAX)
		FAIL("A rule has 1 to %d actions.", SIEVE_RULE_ACTIONS_MAX);
	for (size_t i = 0; i < r->nconds; i++)
		if (cond_check(&r->conds[i], i, error) < 0)
			return -1;
	bool other = false;
	for (size_t i = 0; i < r->nactions; i++) {
		if (action_check(&r->actions[i], i, error) < 0)
			return -1;
		if (r->actions[i].kind == SA_DELETE && r->nactions > 1)
			FAIL("Delete discards the message: it cannot go with other actions.");
		if (r->actions[i].kind == SA_REJECT && r->nactions > 1)
			FAIL("Reject returns the message: it cannot go with other actions.");
		if (r->actions[i].kind == SA_REJECT && !r->stop)
			FAIL("A rule that rejects stops the rules after it.");
		if (is_flag_action(r->actions[i].kind) && other)
			FAIL("Mark as read and flag come before the other actions.");
		other |= !is_flag_action(r->actions[i].kind);
	}
	return 0;
}

/* ------------------------------------------------------------ writer */

/* A quoted string (RFC 5228 2.4.2): " and \ escaped. */
static void put_quoted(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* "starts with": a :matches key, the value's wildcards escaped. */
static void put_prefix_key(struct buf *b, const char *s)
{
	char key[2 * SIEVE_RULE_VALUE_MAX + 2];
	size_t n = 0;
	for (; *s != '\0' && n + 3 < sizeof(key); s++) {
		if (*s == '*' || *s == '?' || *s == '\\')
			key[n++] = '\\';
		key[n++] = *s;
	}
	key[n++] = '*';
	key[n] = '\0';
	put_quoted(b, key);
}

static void put_field(struct buf *b, const struct sieve_cond *c)
{
	switch (c->field) {
	case SF_FROM: buf_puts(b, "\"From\""); break;
	case SF_TOCC: buf_puts(b, "[\"To\", \"Cc\"]"); break;
	case SF_SUBJECT: buf_puts(b, "\"Subject\""); break;
	default: put_quoted(b, c->header); break;
	}
}

static void put_cond(struct buf *b, const struct sieve_cond *c)
{
	bool addr = is_address_field(c->field), body = c->field == SF_BODY;
	switch (c->op) {
	case SO_OVER:
	case SO_UNDER:
		buf_printf(b, "size :%s %u%c", c->op == SO_OVER ? "over" : "under", c->size, c->unit);
		return;
	case SO_NOT_CONTAINS:
	case SO_CONTAINS:
		buf_puts(b, c->op == SO_NOT_CONTAINS ? "not " : "");
		buf_puts(b, body ? "body :text :contains " : "header :contains ");
		break;
	case SO_IS:
	case SO_IS_NOT:
		buf_puts(b, c->op == SO_IS_NOT ? "not " : "");
		buf_puts(b, addr ? "address :all :is " : "header :is ");
		break;
	default:
		buf_puts(b, body ? "body :text :matches " : addr ? "address :all :matches "
								  : "header :matches ");
		break;
	}
	if (!body) {   /* body has no field: the key follows */
		put_field(b, c);
		buf_putc(b, ' ');
	}
	if (c->op == SO_STARTS)
		put_prefix_key(b, c->value);
	else
		put_quoted(b, c->value);
}

static void put_action(struct buf *b, const struct sieve_action *a)
{
	static const char *const verbs[SA_COUNT] = {
		[SA_MOVE] = "fileinto ", [SA_COPY] = "fileinto :copy ",
		[SA_READ] = "addflag \"\\\\Seen\"", [SA_FLAG] = "addflag \"\\\\Flagged\"",
		[SA_FORWARD] = "redirect ", [SA_FORWARD_KEEP] = "redirect :copy ",
		[SA_DELETE] = "discard", [SA_REJECT] = "reject ",
	};
	buf_putc(b, '\t');
	buf_puts(b, verbs[a->kind]);
	if (a->target[0] != '\0')
		put_quoted(b, a->target);
	buf_puts(b, ";\n");
}

static void put_rule(struct buf *b, const struct sieve_rule *r)
{
	buf_printf(b, "\n# rule: %s\nif ", r->name);
	if (!r->enabled)
		buf_puts(b, "allof (false, ");
	buf_puts(b, r->any ? "anyof (" : "allof (");
	for (size_t i = 0; i < r->nconds; i++) {
		if (i > 0)
			buf_puts(b, ", ");
		put_cond(b, &r->conds[i]);
	}
	buf_puts(b, r->enabled ? ") {\n" : ")) {\n");
	for (size_t i = 0; i < r->nactions; i++)
		put_action(b, &r->actions[i]);
	if (r->stop)
		buf_puts(b, "\tstop;\n");
	buf_puts(b, "}\n");
}

int sieve_rules_to_sieve(const struct sieve_rule_set *set, char **text_r, size_t *len_r,
			 char error[SIEVE_RULES_ERROR_MAX])
{
	char why[SIEVE_RULES_ERROR_MAX];
	bool body = false, fileinto = false, copy = false, flags = false, reject = false;
	if (set->n > SIEVE_RULES_MAX)
		FAIL("At most %d rules.", SIEVE_RULES_MAX);
	for (size_t i = 0; i < set->n; i++) {
		const struct sieve_rule *r = &set->rules[i];
		if (sieve_rule_check(r, why) < 0)
			FAIL("Rule %zu: %s", i + 1, why);
		for (size_t k = 0; k < r->nconds; k++)
			body |= r->conds[k].field == SF_BODY;
		for (size_t k = 0; k < r->nactions; k++) {
			enum sieve_action_kind a = r->actions[k].kind;
			fileinto |= a == SA_MOVE || a == SA_COPY;
			copy |= a == SA_COPY || a == SA_FORWARD_KEEP;
			flags |= is_flag_action(a);
			reject |= a == SA_REJECT;
		}
	}
	struct buf b;
	buf_init(&b, SIEVE_SCRIPT_MAX);
	buf_puts(&b, SIEVE_RULES_MAGIC "\n");
	if (body || fileinto || copy || flags || reject) {
		const char *sep = "require [";
		if (body) {
			buf_printf(&b, "%s\"body\"", sep);
			sep = ", ";
		}
		if (copy) {
			buf_printf(&b, "%s\"copy\"", sep);
			sep = ", ";
		}
		if (fileinto) {
			buf_printf(&b, "%s\"fileinto\"", sep);
			sep = ", ";
		}
		if (flags) {
			buf_printf(&b, "%s\"imap4flags\"", sep);
			sep = ", ";
		}
		if (reject)
			buf_printf(&b, "%s\"reject\"", sep);
		buf_puts(&b, "];\n");
	}
	for (size_t i = 0; i < set->n; i++)
		put_rule(&b, &set->rules[i]);
	if (b.failed) {
		buf_free(&b);
		FAIL("The rules are too long to keep: at most %d KB of script.",
		     SIEVE_SCRIPT_MAX / 1024);
	}
	*text_r = buf_steal(&b, len_r);
	if (*text_r == NULL)
		FAIL("Out of memory.");
	return 0;
}

/* ------------------------------------------------------------ reader */

struct cursor {
	const char *p, *end;
	bool bad;
};

/* Takes `lit` if the text goes on with it. */
static bool take(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);
	if (c->bad || (size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

static void expect(struct cursor *c, const char *lit)
{
	if (!take(c, lit))
		c->bad = true;
}

/* A quoted string, unescaped into out (`size` octets with the NUL). */
static void read_quoted(struct cursor *c, char *out, size_t size)
{
	size_t n = 0;
	expect(c, "\"");
	while (!c->bad) {
		if (c->p >= c->end || *c->p == '\0' || *c->p == '\n' || *c->p == '\r') {
			c->bad = true;
			break;
		}
		char ch = *c->p++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (c->p >= c->end) {
				c->bad = true;
				break;
			}
			ch = *c->p++;
		}
		if (n + 1 >= size)
			c->bad = true;
		else
			out[n++] = ch;
	}
	out[n] = '\0';
}

/* The rest of the line (without its LF) into out. */
static void read_line(struct cursor *c, char *out, size_t size)
{
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	size_t len = nl != NULL ? (size_t)(nl - c->p) : 0;
	if (c->bad || nl == NULL || len >= size || memchr(c->p, '\0', len) != NULL) {
		c->bad = true;
		return;
	}
	memcpy(out, c->p, len);
	out[len] = '\0';
	c->p = nl + 1;
}

/* A "starts with" key back to its value: unescaped, the final '*' off. */
static void unprefix(struct cursor *c, char *v)
{
	size_t j = 0, len = strlen(v);
	if (len == 0 || v[len - 1] != '*') {
		c->bad = true;
		return;
	}
	for (size_t i = 0; i + 1 < len; i++) {
		if (v[i] == '\\' && i + 2 < len)
			i++;
		else if (v[i] == '*' || v[i] == '?' || v[i] == '\\')
			c->bad = true;
		v[j++] = v[i];
	}
	v[j] = '\0';
}

static void read_size(struct cursor *c, struct sieve_cond *k)
{
	uint32_t n = 0;
	int digits = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && digits < 8) {
		n = n * 10 + (uint32_t)(*c->p++ - '0');
		digits++;
	}
	if (digits == 0 || c->p >= c->end || (*c->p != 'K' && *c->p != 'M')) {
		c->bad = true;
		return;
	}
	k->field = SF_SIZE;
	k->size = n;
	k->unit = *c->p++;
}

static void read_cond(struct cursor *c, struct sieve_cond *k)
{
	/* "not size", "not header :matches", "address" on a field that is no
	 * address: read as if ours, the comparison of the texts finds them */
	bool neg = take(c, "not ");
	bool over = take(c, "size :over ");
	bool body = false;
	if (over || take(c, "size :under ")) {
		k->op = over ? SO_OVER : SO_UNDER;
		read_size(c, k);
		return;
	}
	if (take(c, "header :contains ") || (body = take(c, "body :text :contains ")))
		k->op = neg ? SO_NOT_CONTAINS : SO_CONTAINS;
	else if (take(c, "header :is ") || take(c, "address :all :is "))
		k->op = neg ? SO_IS_NOT : SO_IS;
	else if (take(c, "header :matches ") || take(c, "address :all :matches ") ||
		 (body = take(c, "body :text :matches ")))
		k->op = SO_STARTS;
	else
		c->bad = true;
	if (body) {
		k->field = SF_BODY;   /* no field: the key follows */
	} else if (take(c, "[\"To\", \"Cc\"]")) {
		k->field = SF_TOCC;
	} else {
		read_quoted(c, k->header, sizeof(k->header));
		k->field = SF_HEADER;
		if (strcmp(k->header, "From") == 0)
			k->field = SF_FROM;
		else if (strcmp(k->header, "Subject") == 0)
			k->field = SF_SUBJECT;
		if (k->field != SF_HEADER)
			k->header[0] = '\0';
	}
	if (!body)
		expect(c, " ");
	read_quoted(c, k->value, sizeof(k->value));
	if (k->op == SO_STARTS && !c->bad)
		unprefix(c, k->value);
}

static void read_action(struct cursor *c, struct sieve_action *a)
{
	static const struct {
		const char *text;
		enum sieve_action_kind kind;
		bool target;
	} verbs[] = {
		{ "fileinto :copy ", SA_COPY, true }, { "fileinto ", SA_MOVE, true },
		{ "addflag \"\\\\Seen\"", SA_READ, false },
		{ "addflag \"\\\\Flagged\"", SA_FLAG, false },
		{ "redirect :copy ", SA_FORWARD_KEEP, true }, { "redirect ", SA_FORWARD, true },
		{ "discard", SA_DELETE, false }, { "reject ", SA_REJECT, true },
	};
	expect(c, "\t");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (take(c, verbs[i].text)) {
			a->kind = verbs[i].kind;
			if (verbs[i].target)
				read_quoted(c, a->target, sizeof(a->target));
			expect(c, ";\n");
			return;
		}
	}
	c->bad = true;
}

static void read_rule(struct cursor *c, struct sieve_rule *r)
{
	expect(c, "\n# rule: ");
	read_line(c, r->name, sizeof(r->name));
	expect(c, "if ");
	r->enabled = !take(c, "allof (false, ");
	if (take(c, "anyof ("))
		r->any = true;
	else
		expect(c, "allof (");
	do {
		if (r->nconds == SIEVE_RULE_CONDS_MAX)
			c->bad = true;
		if (c->bad)
			return;
		read_cond(c, &r->conds[r->nconds++]);
	} while (take(c, ", "));
	expect(c, r->enabled ? ") {\n" : ")) {\n");
	while (!c->bad && !take(c, "}\n")) {
		if (take(c, "\tstop;\n")) {
			r->stop = true;
			expect(c, "}\n");
			return;
		}
		if (r->nactions == SIEVE_RULE_ACTIONS_MAX) {
			c->bad = true;
			return;
		}
		read_action(c, &r->actions[r->nactions++]);
	}
}

int sieve_rules_parse(const char *text, size_t len, struct sieve_rule_set *set_r)
{
	struct cursor c = { text, text + len, false };
	char why[SIEVE_RULES_ERROR_MAX];
	memset(set_r, 0, sizeof(*set_r));
	if (len > SIEVE_SCRIPT_MAX)
		return 0;
	expect(&c, SIEVE_RULES_MAGIC "\n");
	if (take(&c, "require [")) {
		/* the extensions follow from the actions: compared below */
		const char *nl = memchr(c.p, '\n', (size_t)(c.end - c.p));
		if (nl == NULL)
			return 0;
		c.p = nl + 1;
	}
	while (!c.bad && c.p < c.end) {
		if (set_r->n == SIEVE_RULES_MAX)
			return 0;
		struct sieve_rule *r = &set_r->rules[set_r->n++];
		read_rule(&c, r);
		if (!c.bad && sieve_rule_check(r, why) < 0)
			c.bad = true;
	}
	if (c.bad)
		return 0;
	char *again;
	size_t again_len;
	if (sieve_rules_to_sieve(set_r, &again, &again_len, why) < 0)
		return -1;   /* every rule passed its check: out of memory */
	int r = again_len == len && memcmp(again, text, len) == 0;
	free(again);
	return r;
}

/* ------------------------------------------------------------ summary */

struct out {
	char *p;
	size_t size, len;
	bool full;
};

static void out_put(struct out *o, const char *s)
{
	size_t n = strlen(s);
	if (o->full)
		return;
	if (o->len + n + 4 > o->size) {   /* room for "…" and the NUL */
		/* cut at a character's start */
		size_t room = o->size - o->len >= 4 ? o->size - o->len - 4 : 0;
		while (room > 0 && ((unsigned char)s[room] & 0xc0) == 0x80)
			room--;
		memcpy(o->p + o->len, s, room);
		o->len += room;
		memcpy(o->p + o->len, "\xe2\x80\xa6", 3);
		o->len += 3;
		o->p[o->len] = '\0';
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n + 1);
	o->len += n;
}

static void out_quoted(struct out *o, const char *s)
{
	out_put(o, "\xe2\x80\x9c");
	out_put(o, s);
	out_put(o, "\xe2\x80\x9d");
}

void sieve_rule_summary(const struct sieve_rule *r, char *out, size_t size)
{
	static const char *const fields[SF_COUNT] = { "From", "To or Cc", "Subject", "",
						      "Message text", "Size" };
	static const char *const ops[SO_COUNT] = { "contains", "does not contain", "is", "is not",
						   "starts with", "is over", "is under" };
	static const char *const acts[SA_COUNT] = { "move to ", "copy to ", "mark as read", "flag",
						    "forward to ", "forward to ", "delete",
						    "reject with " };
	struct out o = { out, size, 0, false };
	char num[32];
	if (size < 8) {
		if (size > 0)
			out[0] = '\0';
		return;
	}
	out[0] = '\0';
	out_put(&o, "If ");
	for (size_t i = 0; i < r->nconds && i < SIEVE_RULE_CONDS_MAX; i++) {
		const struct sieve_cond *c = &r->conds[i];
		if (i > 0)
			out_put(&o, r->any ? " or " : " and ");
		out_put(&o, c->field == SF_HEADER ? c->header : fields[c->field % SF_COUNT]);
		out_put(&o, " ");
		out_put(&o, ops[c->op % SO_COUNT]);
		out_put(&o, " ");
		if (c->field == SF_SIZE) {
			snprintf(num, sizeof(num), "%u %cB", c->size, c->unit);
			out_put(&o, num);
		} else {
			out_quoted(&o, c->value);
		}
	}
	out_put(&o, ": ");
	for (size_t i = 0; i < r->nactions && i < SIEVE_RULE_ACTIONS_MAX; i++) {
		const struct sieve_action *a = &r->actions[i];
		if (i > 0)
			out_put(&o, ", ");
		out_put(&o, acts[a->kind % SA_COUNT]);
		if (a->target[0] != '\0')
			out_quoted(&o, a->target);
		if (a->kind == SA_FORWARD_KEEP)
			out_put(&o, " (keeping a copy)");
	}
	out_put(&o, r->stop ? "; then stop." : ".");
}
