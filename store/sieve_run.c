/* Running a compiled Sieve script against one message: tests over the
 * header block, envelope, the run's clock (currentdate, RFC 5260:
 * sieve_date.c) and (body, RFC 5173) the message's MIME parts, actions
 * into a result (RFC 5228 2.10: the implicit keep, one copy per mailbox,
 * one redirect per address). With variables (RFC 5229: sieve_vars.c), a
 * command's or test's strings are expanded when the run reaches it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "mime.h"
#include "rfc2047.h"
#include "sieve_int.h"

/* imap4flags' flags: system flags as bits, keywords as atoms. */
struct flagset {
	unsigned sys;
	char *kw[SIEVE_KEYWORDS_MAX];
	size_t nkw;
};

/* The body test's view of the message, made at its first use in a run and
 * kept for the rest of it: a script of many body tests reads, parses and
 * decodes the message once. */
struct body_view {
	bool made;
	const char *data;          /* the caller's octets, cut (body_view_make) */
	size_t len;
	struct mime_message *mime; /* data parsed; NULL until made or when that failed */
	char **decoded;            /* per part (pre-order): its body decoded, on first use */
	size_t *decoded_len;
};

struct run {
	const struct sieve_message *msg;
	struct sieve_result *res;
	struct flagset flags;     /* the internal variable */
	bool implicit_keep, stopped, failed;
	size_t nactions;
	uint64_t work;            /* octet comparisons charged so far */
	int64_t now;              /* currentdate's clock, one a run */
	struct body_view body;
	struct sieve_vars *vars;  /* require "variables": the values; else NULL */
};

static bool list_for(struct run *r, unsigned line, bool expand, const struct sieve_list *in,
		     struct sieve_list *out);
static void list_done(bool expand, struct sieve_list *l);
static char *expand(struct run *r, unsigned line, const char *s, size_t *len_r);

static const char *const sys_names[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };
#define NSYS (sizeof(sys_names) / sizeof(sys_names[0]))

__attribute__((format(printf, 2, 3)))
static void run_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	if (r->failed)
		return;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(r->res->error, SIEVE_ERROR_MAX, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ flags */

static void flags_clear(struct flagset *f)
{
	for (size_t i = 0; i < f->nkw; i++)
		free(f->kw[i]);
	*f = (struct flagset){ 0 };
}

/* IMAP atom characters (RFC 3501 9) but "]" */
static bool atom_ok(const char *w, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)w[i];
		if (c <= 32 || c >= 127 || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return len > 0;
}

/* Adds or removes one flag name; an invalid one is ignored (RFC 5232 3). */
static void flags_word(struct run *r, struct flagset *f, const char *w, size_t len, bool remove)
{
	for (size_t i = 0; i < NSYS; i++)
		if (strlen(sys_names[i]) == len && strncasecmp(sys_names[i], w, len) == 0) {
			f->sys = remove ? f->sys & ~(1u << i) : f->sys | 1u << i;
			return;
		}
	if (!atom_ok(w, len))
		return;
	for (size_t i = 0; i < f->nkw; i++)
		if (strlen(f->kw[i]) == len && strncasecmp(f->kw[i], w, len) == 0) {
			if (remove) {
				free(f->kw[i]);
				f->kw[i] = f->kw[--f->nkw];
			}
			return;
		}
	if (remove)
		return;
	if (f->nkw == SIEVE_KEYWORDS_MAX) {
		run_fail(r, "more than %d keywords", SIEVE_KEYWORDS_MAX);
		return;
	}
	if ((f->kw[f->nkw] = strndup(w, len)) == NULL)
		run_fail(r, "out of memory");
	else
		f->nkw++;
}

/* Each string of the list holds flags separated by spaces. */
static void flags_list(struct run *r, struct flagset *f, const struct sieve_list *l, bool remove)
{
	for (size_t i = 0; i < l->n && !r->failed; i++)
		for (const char *s = l->v[i]; *s != '\0' && !r->failed;) {
			size_t n = strcspn(s, " ");
			if (n > 0)
				flags_word(r, f, s, n, remove);
			s += n + (s[n] == ' ');
		}
}

/* ------------------------------------------------------------ result */

static struct sieve_copy *add_copy(struct run *r, const char *mailbox, bool create,
				   const struct flagset *f)
{
	struct sieve_result *res = r->res;
	struct sieve_copy *c = NULL;
	for (size_t i = 0; i < res->ncopies && c == NULL; i++)
		if (strcmp(res->copies[i].mailbox, mailbox) == 0)
			c = &res->copies[i];   /* RFC 5228 4.2: one copy, flags merged */
	if (c == NULL) {
		c = &res->copies[res->ncopies];
		if ((c->mailbox = strdup(mailbox)) == NULL) {
			run_fail(r, "out of memory");
			return NULL;
		}
		res->ncopies++;
	}
	c->create |= create;
	c->flags |= f->sys;
	for (size_t i = 0; i < f->nkw; i++) {
		size_t k = 0;
		while (k < c->nkeywords && strcasecmp(c->keywords[k], f->kw[i]) != 0)
			k++;
		if (k < c->nkeywords)
			continue;
		char **kw = realloc(c->keywords, (c->nkeywords + 1) * sizeof(char *));
		if (kw == NULL || (kw[c->nkeywords] = strdup(f->kw[i])) == NULL) {
			if (kw != NULL)
				c->keywords = kw;
			run_fail(r, "out of memory");
			return NULL;
		}
		c->keywords = kw;
		c->nkeywords++;
	}
	return c;
}

/* RFC 5429 2.2: reject and ereject go with no action that delivers or
 * answers the message (exec_reject checks those before it). */
static bool after_reject(struct run *r, const struct sieve_cmd *c, const char *what)
{
	if (r->res->reject != NULL)
		run_fail(r, "line %u: %s after %s (RFC 5429 2.2)", c->line, what,
			 r->res->ereject ? "ereject" : "reject");
	return r->failed;
}

/* keep and fileinto: counted, with :flags or the internal variable. */
static void store_copy(struct run *r, const struct sieve_cmd *c, const char *mailbox, bool create)
{
	struct flagset given = { 0 };
	if (after_reject(r, c, c->op == OP_KEEP ? "keep" : "fileinto"))
		return;
	if (++r->nactions > SIEVE_ACTIONS_MAX) {
		run_fail(r, "line %u: more than %d actions", c->line, SIEVE_ACTIONS_MAX);
		return;
	}
	if (c->has_flags) {
		struct sieve_list l;
		if (list_for(r, c->line, c->expand, &c->flags, &l)) {
			flags_list(r, &given, &l, false);
			list_done(c->expand, &l);
		}
	}
	if (!r->failed)
		add_copy(r, mailbox, create, c->has_flags ? &given : &r->flags);
	flags_clear(&given);
}

static void do_redirect(struct run *r, const struct sieve_cmd *c, const char *addr)
{
	struct sieve_result *res = r->res;
	if (after_reject(r, c, "redirect"))
		return;
	if (++r->nactions > SIEVE_ACTIONS_MAX) {
		run_fail(r, "line %u: more than %d actions", c->line, SIEVE_ACTIONS_MAX);
		return;
	}
	if (!c->copy)
		r->implicit_keep = false;
	for (size_t i = 0; i < res->nredirects; i++)
		if (strcasecmp(res->redirects[i], addr) == 0)
			return;
	if (res->nredirects == SIEVE_REDIRECTS_MAX) {
		run_fail(r, "line %u: more than %d redirects", c->line, SIEVE_REDIRECTS_MAX);
		return;
	}
	if ((res->redirects[res->nredirects] = strdup(addr)) == NULL)
		run_fail(r, "out of memory");
	else
		res->nredirects++;
}

/* RFC 5230 4.7: no more than one vacation action a run. `a` is the
 * command's arguments, expanded. */
static void do_vacation(struct run *r, const struct sieve_cmd *c, const struct sieve_vacation *a)
{
	struct sieve_vacation *v;
	if (after_reject(r, c, "vacation"))
		return;
	if (r->res->vacation != NULL) {
		run_fail(r, "line %u: a second vacation action", c->line);
		return;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->addresses = calloc(a->naddresses + 1, sizeof(char *))) == NULL) {
		free(v);
		run_fail(r, "out of memory");
		return;
	}
	r->res->vacation = v;
	v->days = a->days;
	bool oom = (v->reason = strdup(a->reason)) == NULL ||
		   (a->subject != NULL && (v->subject = strdup(a->subject)) == NULL) ||
		   (a->from != NULL && (v->from = strdup(a->from)) == NULL);
	for (size_t i = 0; !oom && i < a->naddresses; i++, v->naddresses++)
		oom = (v->addresses[i] = strdup(a->addresses[i])) == NULL;
	if (oom)
		run_fail(r, "out of memory");
}

static bool mailbox_exists(const struct run *r, const char *name)
{
	return r->msg->mailbox_exists == NULL || r->msg->mailbox_exists(r->msg->ctx, name);
}

/* ------------------------------------------------------------ values */

/* What a test has seen so far of its values. */
struct seen {
	struct run *r;
	const struct sieve_test *t;
	size_t count;
	bool hit;
};

/* Charges a match of `vlen` octets against a key of `klen` to the run's
 * budget: the compile limits alone allow a script whose tests scan a 64 KB
 * header a thousand times over, and filters run inside the MX. false (the
 * run failed: the implicit keep) past SIEVE_WORK_MAX. */
static bool charge(struct run *r, enum sieve_mt mt, size_t vlen, size_t klen)
{
	r->work += mt == MT_MATCHES ? (uint64_t)vlen * (klen + 1) : (uint64_t)vlen + klen;
	if (r->work > SIEVE_WORK_MAX)
		run_fail(r, "more matching work than %d octet comparisons", SIEVE_WORK_MAX);
	return !r->failed;
}

/* ------------------------------------------------------------ variables */

/* The expansion's outcome (RFC 5229 3) for the command or test at `line`:
 * false when the run failed (too long, the budget, out of memory). */
static bool expanded(struct run *r, unsigned line, int rc)
{
	if (rc == -1)
		run_fail(r, "line %u: a string longer than %d octets after expansion", line,
			 SIEVE_EXPAND_MAX);
	else if (rc < 0)
		run_fail(r, "out of memory");
	return charge(r, MT_IS, 0, 0);
}

/* `s` expanded (the caller frees it), or NULL when the run failed. */
static char *expand(struct run *r, unsigned line, const char *s, size_t *len_r)
{
	char *out = NULL;
	size_t len;
	int rc = sieve_vars_expand(r->vars, s, &out, &len, &r->work);
	if (!expanded(r, line, rc)) {
		free(out);
		return NULL;
	}
	if (len_r != NULL)
		*len_r = len;
	return out;
}

/* `in` expanded when `expand` (the script has variables and the strings
 * references), else `in` itself; list_done() after. false when the run
 * failed. */
static bool list_for(struct run *r, unsigned line, bool expand, const struct sieve_list *in,
		     struct sieve_list *out)
{
	if (!expand) {
		*out = *in;
		return true;
	}
	int rc = sieve_vars_expand_list(r->vars, in, out, &r->work);
	if (expanded(r, line, rc))
		return true;
	if (rc == 0)
		sieve_list_free(out);
	return false;
}

static void list_done(bool expand, struct sieve_list *l)
{
	if (expand)
		sieve_list_free(l);
}

/* true when the test's answer is known and no more values are needed (or
 * the run failed) */
static bool see(struct seen *s, const char *v, size_t len)
{
	s->count++;
	if (s->t->mt == MT_COUNT)
		return false;
	for (size_t i = 0; i < s->t->keys.n && !s->hit; i++) {
		size_t klen = strlen(s->t->keys.v[i]);
		if (!charge(s->r, s->t->mt, len, klen))
			return true;
		struct sieve_capture cap;
		bool capture = s->r->vars != NULL && s->t->mt == MT_MATCHES;
		s->hit = sieve_match(s->t->cmp, s->t->mt, s->t->rel, v, len, s->t->keys.v[i], klen,
				     capture ? &cap : NULL);
		/* RFC 5229 3.2: a successful :matches sets ${0}..${9}, a
		 * failed one leaves them */
		if (s->hit && capture &&
		    sieve_vars_set_matches(s->r->vars, v, len, &cap, &s->r->work) < 0)
			run_fail(s->r, "out of memory");
		if (s->hit && capture)
			charge(s->r, MT_IS, 0, 0);
	}
	return s->hit;
}

static bool seen_result(const struct seen *s)
{
	if (s->t->mt != MT_COUNT)
		return s->hit;
	char n[24];
	int len = snprintf(n, sizeof(n), "%zu", s->count);
	for (size_t i = 0; i < s->t->keys.n; i++)
		if (sieve_match(s->t->cmp, MT_VALUE, s->t->rel, n, (size_t)len, s->t->keys.v[i],
				strlen(s->t->keys.v[i]), NULL))
			return true;
	return false;
}

static bool name_in(const struct sieve_list *l, const char *name, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == len && strncasecmp(l->v[i], name, len) == 0)
			return true;
	return false;
}

/* The address part the test asks for (RFC 5228 2.7.4, RFC 5233); false
 * when there is none (:detail without a separator). */
static bool see_address(struct run *r, struct seen *s, const char *local, size_t llen,
			const char *domain)
{
	const char *seps = r->msg->subaddress_separators;
	size_t user = llen;
	for (size_t i = 0; seps != NULL && seps[0] != '\0' && i < llen && user == llen; i++)
		if (strchr(seps, local[i]) != NULL && local[i] != '\0')
			user = i;
	switch (s->t->part) {
	case PART_LOCAL:
		return see(s, local, llen);
	case PART_DOMAIN:
		return see(s, domain, strlen(domain));
	case PART_USER:
		return see(s, local, user);
	case PART_DETAIL:
		return user < llen && see(s, local + user + 1, llen - user - 1);
	default:
		break;
	}
	if (*domain == '\0')
		return see(s, local, llen);
	size_t dlen = strlen(domain);
	char *all = malloc(llen + dlen + 2);
	if (all == NULL) {
		run_fail(r, "out of memory");
		return true;
	}
	memcpy(all, local, llen);
	all[llen] = '@';
	memcpy(all + llen + 1, domain, dlen + 1);
	bool done = see(s, all, llen + dlen + 1);
	free(all);
	return done;
}

/* header and address: every field with one of the names. */
static bool test_fields(struct run *r, const struct sieve_test *t)
{
	struct seen s = { .r = r, .t = t };
	struct mime_header_field f;
	size_t pos = 0;
	const char *h = r->msg->header != NULL ? r->msg->header : "";
	size_t hlen = r->msg->header != NULL ? r->msg->header_len : 0;
	bool done = false;

	while (!done && !r->failed && mime_header_next(h, hlen, &pos, &f) == 1) {
		/* walking the header is work too: a field's length a name */
		if (!charge(r, MT_IS, f.name_len + f.value_len, 0))
			break;
		if (!name_in(&t->names, f.name, f.name_len))
			continue;
		if (t->kind == T_HEADER) {
			char *v;
			size_t len;
			if (rfc2047_decode(f.value, f.value_len, &v, &len) < 0) {
				run_fail(r, "out of memory");
				break;
			}
			const char *b = v;
			while (*b == ' ' || *b == '\t')
				b++;
			len -= (size_t)(b - v);
			while (len > 0 && (b[len - 1] == ' ' || b[len - 1] == '\t'))
				len--;
			done = see(&s, b, len);
			free(v);
			continue;
		}
		struct address_list *al = NULL;
		if (address_list_parse(f.value, f.value_len, 0, &al) < 0) {
			run_fail(r, "out of memory");
			break;
		}
		for (size_t i = 0; i < al->count && !done; i++)
			/* group markers are no addresses, nor is "<>" */
			if (al->addrs[i].host != NULL &&
			    (al->addrs[i].mailbox[0] != '\0' || al->addrs[i].host[0] != '\0'))
				done = see_address(r, &s, al->addrs[i].mailbox, strlen(al->addrs[i].mailbox),
						   al->addrs[i].host);
		address_list_free(&al);
	}
	return !r->failed && seen_result(&s);
}

static bool test_envelope(struct run *r, const struct sieve_test *t)
{
	struct seen s = { .r = r, .t = t };
	bool done = false;
	for (size_t i = 0; i < t->names.n && !done; i++) {
		const char *a = strcasecmp(t->names.v[i], "from") == 0 ? r->msg->envelope_from
								      : r->msg->envelope_to;
		if (a == NULL)
			continue;
		const char *at = strrchr(a, '@');
		size_t llen = at != NULL ? (size_t)(at - a) : strlen(a);
		done = see_address(r, &s, a, llen, at != NULL ? at + 1 : "");
	}
	return !r->failed && seen_result(&s);
}

static bool test_hasflag(struct run *r, const struct sieve_test *t)
{
	struct seen s = { .r = r, .t = t };
	bool done = false;
	for (size_t i = 0; i < NSYS && !done; i++)
		if (r->flags.sys & (1u << i))
			done = see(&s, sys_names[i], strlen(sys_names[i]));
	for (size_t i = 0; i < r->flags.nkw && !done; i++)
		done = see(&s, r->flags.kw[i], strlen(r->flags.kw[i]));
	return seen_result(&s);
}

static bool test_exists(struct run *r, const struct sieve_test *t)
{
	const char *h = r->msg->header != NULL ? r->msg->header : "";
	size_t hlen = r->msg->header != NULL ? r->msg->header_len : 0;
	for (size_t i = 0; i < t->names.n; i++) {
		struct mime_header_field f;
		size_t pos = 0, want = strlen(t->names.v[i]);
		bool found = false;
		while (!found && mime_header_next(h, hlen, &pos, &f) == 1)
			found = f.name_len == want && strncasecmp(f.name, t->names.v[i], want) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ dates */

/* date and currentdate: one date, made a string by the date-part, or
 * none (a header without the date: :count counts 0). */
static bool test_date(struct run *r, const struct sieve_test *t)
{
	struct seen s = { .r = r, .t = t };
	char v[SIEVE_DATE_PART_SIZE];
	size_t len;
	bool has = sieve_date_value(r->msg, r->now, t, v, &len, &r->work);

	if (charge(r, MT_IS, 0, 0) && has)
		see(&s, v, len);
	return !r->failed && seen_result(&s);
}

/* ------------------------------------------------------------ body */

/* Reads and parses the message at the run's first body test. What the
 * test cannot see, it cannot match: past the body's first SIEVE_BODY_MAX
 * octets and past SIEVE_BODY_PARTS_MAX parts (a part cut by the limit is
 * seen up to it). false when the run failed. */
static bool body_view_make(struct run *r)
{
	struct body_view *b = &r->body;
	struct mime_limits limits = mime_limits_default;
	const char *error;

	if (b->made)
		return !r->failed && b->decoded != NULL && b->decoded_len != NULL;
	b->made = true;
	b->data = "";
	const struct sieve_message *msg = r->msg;
	if (msg->message_load != NULL && msg->message_load(msg->ctx, &b->data, &b->len) < 0) {
		run_fail(r, "the message could not be read for the body test");
		return false;
	}
	if (b->data == NULL) {
		b->data = "";
		b->len = 0;
	}
	if (b->len > SIEVE_MESSAGE_MAX)
		b->len = SIEVE_MESSAGE_MAX;
	limits.parts_max = SIEVE_BODY_PARTS_MAX;
	/* parsing is work too, an octet a comparison (twice for a long body) */
	if (!charge(r, MT_IS, b->len, 0))
		return false;
	if (mime_parse(b->data, b->len, &limits, &b->mime, &error) < 0)
		goto oom;
	uint64_t end = b->mime->root->body_offset + SIEVE_BODY_MAX;
	if (end < b->len) {
		mime_message_free(&b->mime);
		b->len = (size_t)end;
		if (!charge(r, MT_IS, b->len, 0))
			return false;
		if (mime_parse(b->data, b->len, &limits, &b->mime, &error) < 0)
			goto oom;
	}
	b->decoded = calloc(b->mime->nparts, sizeof(*b->decoded));
	b->decoded_len = calloc(b->mime->nparts, sizeof(*b->decoded_len));
	if (b->decoded != NULL && b->decoded_len != NULL)
		return true;
oom:
	run_fail(r, "out of memory");
	return false;
}

static void body_view_free(struct body_view *b)
{
	for (uint32_t i = 0; b->decoded != NULL && b->mime != NULL && i < b->mime->nparts; i++)
		free(b->decoded[i]);
	free(b->decoded);
	free(b->decoded_len);
	mime_message_free(&b->mime);
	*b = (struct body_view){ 0 };
}

/* Part i's body transfer-decoded and, a text part's, converted to UTF-8
 * (mime.h); false when the run failed. */
static bool part_decoded(struct run *r, uint32_t i, const char **v_r, size_t *len_r)
{
	struct body_view *b = &r->body;
	const char *error;
	if (b->decoded[i] == NULL) {
		const struct mime_part *p = b->mime->parts[i];
		if (!charge(r, MT_IS, (size_t)p->body_len, 0))
			return false;
		int rc = mime_part_body_decode(p, b->data, b->len, MIME_DECODE_UTF8, &b->decoded[i],
					       &b->decoded_len[i], &error);
		if (rc <= 0) {
			run_fail(r, "%s", error);
			return false;
		}
	}
	*v_r = b->decoded[i];
	*len_r = b->decoded_len[i];
	return true;
}

/* RFC 5173 5.2: "" is every type, "type" each of its subtypes,
 * "type/subtype" that one; a "/" at either end, or two, match nothing. */
static bool content_type_is(const char *want, const struct mime_part *p)
{
	const char *slash = strchr(want, '/');
	if (slash == NULL)
		return *want == '\0' || strcasecmp(want, p->type) == 0;
	size_t tlen = (size_t)(slash - want);
	if (tlen == 0 || slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
		return false;
	return strlen(p->type) == tlen && strncasecmp(want, p->type, tlen) == 0 &&
	       strcasecmp(slash + 1, p->subtype) == 0;
}

/* :text is :content "text" (RFC 5173 5.3 allows it). */
static bool content_wanted(const struct sieve_test *t, const struct mime_part *p)
{
	if (t->transform == BT_TEXT)
		return strcmp(p->type, "text") == 0;
	for (size_t i = 0; i < t->names.n; i++)
		if (content_type_is(t->names.v[i], p))
			return true;
	return false;
}

/* A multipart's prologue and epilogue (RFC 2046 5.1.1), as [from, to)
 * pairs: the text before the line of its first delimiter (the line break
 * before that line belongs to the delimiter) and after the line of its
 * close delimiter. A multipart whose parts were not found (no boundary, a
 * limit) is all prologue; one without its close delimiter, or whose later
 * parts a limit cut off, has an empty epilogue. */
static void multipart_margins(const struct body_view *b, const struct mime_part *p,
			      size_t m[4])
{
	const char *d = b->data;
	size_t start = (size_t)p->body_offset, end = start + (size_t)p->body_len;
	m[0] = start;
	m[1] = m[2] = m[3] = end;
	if (p->nchildren == 0)
		return;
	size_t line = (size_t)p->children[0]->header_offset;
	if (line < start || line > end)
		return;
	if (line > start && d[line - 1] == '\n')
		line--;
	while (line > start && d[line - 1] != '\n')
		line--;
	if (line > start)
		line--;
	if (line > start && d[line - 1] == '\r')
		line--;
	m[1] = line;
	if (p->flags & (MIME_F_NO_END | MIME_F_PARTS_TRUNCATED))
		return;
	const struct mime_part *last = p->children[p->nchildren - 1];
	size_t close = (size_t)(last->body_offset + last->body_len);
	if (close < m[1] || close > end)
		return;
	close += close < end && d[close] == '\r';
	close += close < end && d[close] == '\n';
	const char *nl = memchr(d + close, '\n', end - close);
	m[2] = nl != NULL ? (size_t)(nl - d) + 1 : end;
}

/* Part i as :content and :text see it (RFC 5173 5.2): a matching multipart
 * gives its prologue and epilogue, a matching message/rfc822 its
 * encapsulated header block, any other matching part its decoded body;
 * the parts inside are parts of their own. true when the test's answer is
 * known (or the run failed). */
static bool see_part(struct run *r, struct seen *s, uint32_t i)
{
	const struct body_view *b = &r->body;
	const struct mime_part *p = b->mime->parts[i], *inner;
	const char *v;
	size_t len, m[4];

	if (!content_wanted(s->t, p))
		return false;
	if (mime_part_is_multipart(p)) {
		multipart_margins(b, p, m);
		if (see(s, b->data + m[0], m[1] - m[0]))
			return true;
		return see(s, b->data + m[2], m[3] - m[2]);
	}
	if ((inner = mime_part_message(p)) != NULL)
		return see(s, b->data + inner->header_offset, (size_t)inner->header_len);
	if (!part_decoded(r, i, &v, &len))
		return true;
	return see(s, v, len);
}

/* body (RFC 5173): never the message's header block. :raw is the body as
 * it came, one string, MIME or not. */
static bool test_body(struct run *r, const struct sieve_test *t)
{
	struct seen s = { .r = r, .t = t };
	if (!body_view_make(r))
		return false;
	const struct body_view *b = &r->body;
	if (t->transform == BT_RAW) {
		size_t from = (size_t)b->mime->root->body_offset;
		see(&s, b->data + from, b->len - from);
	} else {
		for (uint32_t i = 0; i < b->mime->nparts && !see_part(r, &s, i); i++)
			;
	}
	return !r->failed && seen_result(&s);
}

/* string (RFC 5229 5): each source a value; for :count, an empty one
 * counts 0. */
static bool test_string(struct run *r, const struct sieve_test *t)
{
	struct seen s = { .r = r, .t = t };
	bool done = false;
	for (size_t i = 0; i < t->names.n && !done; i++) {
		size_t len = strlen(t->names.v[i]);
		if (t->mt != MT_COUNT || len > 0)
			done = see(&s, t->names.v[i], len);
	}
	return !r->failed && seen_result(&s);
}

static bool test(struct run *r, const struct sieve_test *t);

/* A test whose keys or names hold references, run on them expanded. A
 * name that is not valid after expansion is what the compiler would have
 * refused: address skips a field that holds no addresses (RFC 5228 5.1),
 * mailboxexists finds no such mailbox; a header name that is no field
 * name matches no field. */
static bool test_expanded(struct run *r, const struct sieve_test *t)
{
	struct sieve_test x = *t;
	bool names = t->kind != T_ENVELOPE && t->kind != T_BODY && t->kind != T_CURRENTDATE;
	bool res = true;
	x.expand = false;
	if (!list_for(r, t->line, true, &t->keys, &x.keys))
		return false;
	if (!names)
		x.names = t->names;
	else if (!list_for(r, t->line, true, &t->names, &x.names)) {
		sieve_list_free(&x.keys);
		return false;
	}
	size_t kept = 0;
	for (size_t i = 0; names && i < x.names.n; i++) {
		if (t->kind == T_MAILBOXEXISTS && !sieve_mailbox_ok(x.names.v[i]))
			res = false;
		if (t->kind == T_ADDRESS && !sieve_address_field(x.names.v[i]))
			free(x.names.v[i]);
		else
			x.names.v[kept++] = x.names.v[i];
	}
	if (names)
		x.names.n = kept;
	res = res && test(r, &x);
	sieve_list_free(&x.keys);
	list_done(names, &x.names);
	return res && !r->failed;
}

/* Depth is bounded by the compiler (SIEVE_DEPTH_MAX). */
static bool test(struct run *r, const struct sieve_test *t)
{
	if (t->expand)
		return test_expanded(r, t);
	switch (t->kind) {
	case T_ADDRESS:
	case T_HEADER:
		return test_fields(r, t);
	case T_ENVELOPE:
		return test_envelope(r, t);
	case T_ALLOF:
		for (const struct sieve_test *s = t->sub; s != NULL; s = s->next)
			if (!test(r, s) || r->failed)
				return false;
		return true;
	case T_ANYOF:
		for (const struct sieve_test *s = t->sub; s != NULL && !r->failed; s = s->next)
			if (test(r, s))
				return true;
		return false;
	case T_NOT:
		return !test(r, t->sub);
	case T_EXISTS:
		return test_exists(r, t);
	case T_TRUE:
		return true;
	case T_FALSE:
		return false;
	case T_SIZE:
		return t->over ? r->msg->size > t->size : r->msg->size < t->size;
	case T_HASFLAG:
		return test_hasflag(r, t);
	case T_MAILBOXEXISTS:
		for (size_t i = 0; i < t->names.n; i++)
			if (!mailbox_exists(r, t->names.v[i]))
				return false;
		return true;
	case T_BODY:
		return test_body(r, t);
	case T_DATE:
	case T_CURRENTDATE:
		return test_date(r, t);
	case T_STRING:
		return test_string(r, t);
	}
	return false;
}

/* ------------------------------------------------------------ commands */

/* fileinto's mailbox, redirect's address and vacation's strings that
 * expand are checked as the compiler checks written ones; one that is not
 * valid fails the run, as a script with it written out does not compile:
 * either way the message is kept in INBOX and the log says why. */
static void exec_fileinto(struct run *r, const struct sieve_cmd *c)
{
	char *mailbox = c->expand ? expand(r, c->line, c->arg, NULL) : c->arg;
	if (mailbox == NULL)
		return;
	if (c->expand && !sieve_mailbox_ok(mailbox)) {
		run_fail(r, "line %u: fileinto: invalid mailbox name after expansion", c->line);
	} else {
		if (!c->copy)
			r->implicit_keep = false;
		store_copy(r, c, mailbox, c->create && !mailbox_exists(r, mailbox));
	}
	if (c->expand)
		free(mailbox);
}

/* An expansion that is no valid address or text: the run fails. */
static bool checked(struct run *r, const struct sieve_cmd *c, int rc, const char *what)
{
	if (rc == 1)
		run_fail(r, "line %u: %s after expansion", c->line, what);
	return expanded(r, c->line, rc < 0 ? rc : 0) && rc == 0;
}

static void exec_redirect(struct run *r, const struct sieve_cmd *c)
{
	char *spec = NULL;
	const char *what = "redirect: invalid address";
	if (!c->expand)
		do_redirect(r, c, c->arg);
	else if (checked(r, c, sieve_vars_address(r->vars, c->arg, &spec, &r->work), what))
		do_redirect(r, c, spec);
	free(spec);
}

static void exec_vacation(struct run *r, const struct sieve_cmd *c)
{
	struct sieve_vacation x;
	const char *what = "";
	if (!c->expand) {
		do_vacation(r, c, c->vacation);
		return;
	}
	int rc = sieve_vars_vacation(r->vars, c->vacation, &x, &what, &r->work);
	if (checked(r, c, rc, what))
		do_vacation(r, c, &x);
	sieve_vars_vacation_free(&x);
}

/* reject and ereject (RFC 5429): the reason expanded and cleaned; the
 * implicit keep cancelled. One a run, and none after an action that
 * delivers or answers the message (after_reject the other way round). */
static void exec_reject(struct run *r, const struct sieve_cmd *c)
{
	const char *name = c->op == OP_EREJECT ? "ereject" : "reject";
	size_t len;
	if (after_reject(r, c, name))
		return;
	if (r->nactions > 0 || r->res->vacation != NULL) {
		run_fail(r, "line %u: %s after keep, fileinto, redirect or vacation (RFC 5429 2.2)",
			 c->line, name);
		return;
	}
	char *v = c->expand ? expand(r, c->line, c->arg, &len) : c->arg;
	if (v == NULL)
		return;
	if ((r->res->reject = sieve_reject_reason(v, c->expand ? len : strlen(v))) == NULL)
		run_fail(r, "out of memory");
	r->res->ereject = c->op == OP_EREJECT;
	r->implicit_keep = false;
	if (c->expand)
		free(v);
	charge(r, MT_IS, 0, 0);
}

/* set (RFC 5229 4): the value expanded, the modifiers applied. */
static void exec_set(struct run *r, const struct sieve_cmd *c)
{
	size_t len;
	char *v = expand(r, c->line, c->arg, &len);
	if (v == NULL)
		return;
	if (sieve_vars_set(r->vars, c->var, c->mods, v, len, &r->work) < 0)
		run_fail(r, "out of memory");
	free(v);
	charge(r, MT_IS, 0, 0);
}

static void exec_flags(struct run *r, const struct sieve_cmd *c)
{
	struct sieve_list l;
	if (!list_for(r, c->line, c->expand, &c->flags, &l))
		return;
	if (c->op == OP_SETFLAG)
		flags_clear(&r->flags);
	flags_list(r, &r->flags, &l, c->op == OP_REMOVEFLAG);
	list_done(c->expand, &l);
}

static void exec(struct run *r, const struct sieve_cmd *c)
{
	for (; c != NULL && !r->stopped && !r->failed; c = c->next) {
		switch (c->op) {
		case OP_IF: {
			const struct sieve_cmd *b = c;
			while (b != NULL && b->test != NULL && !test(r, b->test) && !r->failed)
				b = b->orelse;
			if (b != NULL && !r->failed)
				exec(r, b->block);
			break;
		}
		case OP_STOP:
			r->stopped = true;
			break;
		case OP_KEEP:
			store_copy(r, c, "INBOX", false);
			break;
		case OP_DISCARD:
			r->implicit_keep = false;
			break;
		case OP_FILEINTO:
			exec_fileinto(r, c);
			break;
		case OP_REDIRECT:
			exec_redirect(r, c);
			break;
		case OP_SETFLAG:
		case OP_ADDFLAG:
		case OP_REMOVEFLAG:
			exec_flags(r, c);
			break;
		case OP_VACATION:
			exec_vacation(r, c);
			break;
		case OP_SET:
			exec_set(r, c);
			break;
		case OP_REJECT:
		case OP_EREJECT:
			exec_reject(r, c);
			break;
		}
	}
}

void sieve_result_free(struct sieve_result *res)
{
	for (size_t i = 0; i < res->ncopies; i++) {
		for (size_t k = 0; k < res->copies[i].nkeywords; k++)
			free(res->copies[i].keywords[k]);
		free(res->copies[i].keywords);
		free(res->copies[i].mailbox);
	}
	free(res->copies);
	for (size_t i = 0; i < res->nredirects; i++)
		free(res->redirects[i]);
	free(res->redirects);
	if (res->vacation != NULL) {
		struct sieve_vacation *v = res->vacation;
		for (size_t i = 0; i < v->naddresses; i++)
			free(v->addresses[i]);
		free(v->addresses);
		free(v->reason);
		free(v->subject);
		free(v->from);
		free(v);
	}
	free(res->reject);
	res->copies = NULL;
	res->redirects = NULL;
	res->vacation = NULL;
	res->reject = NULL;
	res->ncopies = res->nredirects = 0;
}

int sieve_run(const struct sieve_script *script, const struct sieve_message *msg,
	      struct sieve_result *res)
{
	struct run r = { .msg = msg, .res = res, .implicit_keep = true,
			 .now = msg->now != 0 ? msg->now : (int64_t)time(NULL) };
	struct sieve_vars vars;

	*res = (struct sieve_result){ 0 };
	/* every action is a copy or a redirect: their counts bound the arrays */
	res->copies = calloc(SIEVE_ACTIONS_MAX + 1, sizeof(*res->copies));
	res->redirects = calloc(SIEVE_REDIRECTS_MAX, sizeof(*res->redirects));
	if (script->variables) {
		if (sieve_vars_init(&vars, script) < 0)
			run_fail(&r, "out of memory");
		r.vars = &vars;
	}
	if (res->copies == NULL || res->redirects == NULL)
		run_fail(&r, "out of memory");
	else if (!r.failed)
		exec(&r, script->cmds);
	if (r.vars != NULL)
		sieve_vars_free(r.vars);
	body_view_free(&r.body);
	if (!r.failed && r.implicit_keep)
		add_copy(&r, "INBOX", false, &r.flags);
	flags_clear(&r.flags);
	if (!r.failed)
		return 0;
	/* RFC 5228 2.10.6: a failed run keeps the message, nothing else */
	char error[SIEVE_ERROR_MAX];
	memcpy(error, res->error, sizeof(error));
	sieve_result_free(res);
	*res = (struct sieve_result){ .failed = true };
	memcpy(res->error, error, sizeof(error));
	res->copies = calloc(1, sizeof(*res->copies));
	if (res->copies != NULL && (res->copies[0].mailbox = strdup("INBOX")) != NULL)
		res->ncopies = 1;
	return -1;
}
