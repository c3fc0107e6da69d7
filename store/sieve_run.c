/* Running a compiled Sieve script against one message: tests over the
 * header block, envelope, the run's clock (currentdate, RFC 5260) and
 * (body, RFC 5173) the message's MIME parts, actions into a result (RFC
 * 5228 2.10: the implicit keep, one copy per mailbox, one redirect per
 * address). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "datetime.h"
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
};

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

/* keep and fileinto: counted, with :flags or the internal variable. */
static void store_copy(struct run *r, const struct sieve_cmd *c, const char *mailbox, bool create)
{
	struct flagset given = { 0 };
	if (++r->nactions > SIEVE_ACTIONS_MAX) {
		run_fail(r, "line %u: more than %d actions", c->line, SIEVE_ACTIONS_MAX);
		return;
	}
	if (c->has_flags)
		flags_list(r, &given, &c->flags, false);
	if (!r->failed)
		add_copy(r, mailbox, create, c->has_flags ? &given : &r->flags);
	flags_clear(&given);
}

static void do_redirect(struct run *r, const struct sieve_cmd *c)
{
	struct sieve_result *res = r->res;
	if (++r->nactions > SIEVE_ACTIONS_MAX) {
		run_fail(r, "line %u: more than %d actions", c->line, SIEVE_ACTIONS_MAX);
		return;
	}
	if (!c->copy)
		r->implicit_keep = false;
	for (size_t i = 0; i < res->nredirects; i++)
		if (strcasecmp(res->redirects[i], c->arg) == 0)
			return;
	if (res->nredirects == SIEVE_REDIRECTS_MAX) {
		run_fail(r, "line %u: more than %d redirects", c->line, SIEVE_REDIRECTS_MAX);
		return;
	}
	if ((res->redirects[res->nredirects] = strdup(c->arg)) == NULL)
		run_fail(r, "out of memory");
	else
		res->nredirects++;
}

/* RFC 5230 4.7: no more than one vacation action a run. */
static void do_vacation(struct run *r, const struct sieve_cmd *c)
{
	const struct sieve_vacation *a = c->vacation;
	struct sieve_vacation *v;
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
		s->hit = sieve_match(s->t->cmp, s->t->mt, s->t->rel, v, len, s->t->keys.v[i], klen);
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
				strlen(s->t->keys.v[i])))
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

/* The longest date-part, std11's "Tue, 01 Dec 2026 18:05:09 +0100", and
 * room to spare */
#define DATE_PART_SIZE 48

/* Modified Julian Day of 1970-01-01 (RFC 5260 4.2: MJD 0 is 1858-11-17) */
#define MJD_1970 40587

/* The process's local zone at `t` in minutes east, as smtpd's time stamps
 * take it; +0000 when libc cannot say. A zone of seconds (old local mean
 * times) loses them. */
static int local_zone(time_t t)
{
	struct tm tm;
	return localtime_r(&t, &tm) != NULL ? (int)(tm.tm_gmtoff / 60) : 0;
}

/* The date-part of `t` seen in zone `tz` (RFC 5260 4.2), in buf; its length. */
static size_t date_part(enum sieve_datepart part, time_t t, int tz, char buf[DATE_PART_SIZE])
{
	struct datetime_local l;
	int n = 0;
	datetime_local(t, tz, &l);
	unsigned az = (unsigned)(l.tz < 0 ? -l.tz : l.tz);
	char sign = l.tz < 0 ? '-' : '+'; /* RFC 5260 4.2: +0000 for zero */
	switch (part) {
	case DP_YEAR:
		n = snprintf(buf, DATE_PART_SIZE, "%04d", l.year);
		break;
	case DP_MONTH:
		n = snprintf(buf, DATE_PART_SIZE, "%02u", l.month);
		break;
	case DP_DAY:
		n = snprintf(buf, DATE_PART_SIZE, "%02u", l.day);
		break;
	case DP_DATE:
		n = snprintf(buf, DATE_PART_SIZE, "%04d-%02u-%02u", l.year, l.month, l.day);
		break;
	case DP_JULIAN:
		n = snprintf(buf, DATE_PART_SIZE, "%lld",
			     (long long)(datetime_days_from_civil(l.year, l.month, l.day) + MJD_1970));
		break;
	case DP_HOUR:
		n = snprintf(buf, DATE_PART_SIZE, "%02u", l.hour);
		break;
	case DP_MINUTE:
		n = snprintf(buf, DATE_PART_SIZE, "%02u", l.min);
		break;
	case DP_SECOND:
		n = snprintf(buf, DATE_PART_SIZE, "%02u", l.sec);
		break;
	case DP_TIME:
		n = snprintf(buf, DATE_PART_SIZE, "%02u:%02u:%02u", l.hour, l.min, l.sec);
		break;
	case DP_ISO8601: /* RFC 3339 date-time; RFC 5260 4.2: "Z" for a zero offset */
		n = snprintf(buf, DATE_PART_SIZE, "%04d-%02u-%02uT%02u:%02u:%02u", l.year, l.month,
			     l.day, l.hour, l.min, l.sec);
		if (az == 0)
			n += snprintf(buf + n, DATE_PART_SIZE - (size_t)n, "Z");
		else
			n += snprintf(buf + n, DATE_PART_SIZE - (size_t)n, "%c%02u:%02u", sign, az / 60,
				      az % 60);
		break;
	case DP_STD11:
		n = (int)strlen(datetime_format_rfc5322(t, tz, buf));
		break;
	case DP_ZONE:
		n = snprintf(buf, DATE_PART_SIZE, "%c%02u%02u", sign, az / 60, az % 60);
		break;
	case DP_WEEKDAY:
		n = snprintf(buf, DATE_PART_SIZE, "%u", l.wday);
		break;
	}
	return n > 0 ? (size_t)n : 0;
}

/* date's date-time (RFC 5260 4): the first field named `name` alone, a
 * later one is not read; a value that is no date as a whole (a Received:
 * field) is read after its last ";" (RFC 5321 4.4's time stamp). false
 * when there is no such field, or no date in it (or the run failed). */
static bool header_date(struct run *r, const char *name, time_t *t_r, int *tz_r)
{
	struct mime_header_field f;
	size_t pos = 0, want = strlen(name);
	const char *h = r->msg->header != NULL ? r->msg->header : "";
	size_t hlen = r->msg->header != NULL ? r->msg->header_len : 0;

	while (mime_header_next(h, hlen, &pos, &f) == 1) {
		if (!charge(r, MT_IS, f.name_len + f.value_len, 0))
			return false;
		if (f.name_len != want || strncasecmp(f.name, name, want) != 0)
			continue;
		if (datetime_parse(f.value, f.value_len, t_r, tz_r))
			return true;
		const char *semi = f.value_len > 0 ? memrchr(f.value, ';', f.value_len) : NULL;
		return semi != NULL &&
		       datetime_parse(semi + 1, f.value_len - (size_t)(semi + 1 - f.value), t_r, tz_r);
	}
	return false;
}

/* date and currentdate: one date, made a string by the date-part, or
 * none (a header without the date: :count counts 0). */
static bool test_date(struct run *r, const struct sieve_test *t)
{
	struct seen s = { .r = r, .t = t };
	time_t when = (time_t)r->now;
	int tz = 0;
	char v[DATE_PART_SIZE];

	if (t->kind == T_DATE && !header_date(r, t->names.v[0], &when, &tz))
		return !r->failed && seen_result(&s);
	if (t->zone == ZONE_GIVEN)
		tz = t->zone_minutes;
	else if (t->zone == ZONE_LOCAL)
		tz = local_zone(when);
	see(&s, v, date_part(t->datepart, when, tz, v));
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

/* Depth is bounded by the compiler (SIEVE_DEPTH_MAX). */
static bool test(struct run *r, const struct sieve_test *t)
{
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
	}
	return false;
}

/* ------------------------------------------------------------ commands */

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
			if (!c->copy)
				r->implicit_keep = false;
			store_copy(r, c, c->arg, c->create && !mailbox_exists(r, c->arg));
			break;
		case OP_REDIRECT:
			do_redirect(r, c);
			break;
		case OP_SETFLAG:
			flags_clear(&r->flags);
			flags_list(r, &r->flags, &c->flags, false);
			break;
		case OP_ADDFLAG:
		case OP_REMOVEFLAG:
			flags_list(r, &r->flags, &c->flags, c->op == OP_REMOVEFLAG);
			break;
		case OP_VACATION:
			do_vacation(r, c);
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
	res->copies = NULL;
	res->redirects = NULL;
	res->vacation = NULL;
	res->ncopies = res->nredirects = 0;
}

int sieve_run(const struct sieve_script *script, const struct sieve_message *msg,
	      struct sieve_result *res)
{
	struct run r = { .msg = msg, .res = res, .implicit_keep = true,
			 .now = msg->now != 0 ? msg->now : (int64_t)time(NULL) };

	*res = (struct sieve_result){ 0 };
	/* every action is a copy or a redirect: their counts bound the arrays */
	res->copies = calloc(SIEVE_ACTIONS_MAX + 1, sizeof(*res->copies));
	res->redirects = calloc(SIEVE_REDIRECTS_MAX, sizeof(*res->redirects));
	if (res->copies == NULL || res->redirects == NULL)
		run_fail(&r, "out of memory");
	else
		exec(&r, script->cmds);
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
