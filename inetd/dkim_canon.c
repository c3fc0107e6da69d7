/* Relaxed and simple canonicalisation, and the signed header fields
 * (dkim_canon.h). */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "dkim_canon.h"
#include "mime.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* ---------------------------------------------------------------- header */

size_t dkim_canon_header(const char *name, size_t name_len, const char *value, size_t value_len,
			 char *out)
{
	size_t o = 0;
	bool wsp = false, started = false;

	while (name_len > 0 && is_wsp(name[name_len - 1]))
		name_len--;
	for (size_t i = 0; i < name_len; i++)
		out[o++] = lower(name[i]);
	out[o++] = ':';
	for (size_t i = 0; i < value_len; i++) {
		char c = value[i];

		/* Unfolding removes the line breaks; the whitespace after them
		 * stays, and joins the run. */
		if (c == '\r' || c == '\n')
			continue;
		if (is_wsp(c)) {
			wsp = true;
			continue;
		}
		/* Whitespace right after the colon goes; a run inside is one SP. */
		if (wsp && started)
			out[o++] = ' ';
		wsp = false;
		started = true;
		out[o++] = c;
	}
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}

size_t dkim_canon_header_simple(const char *field, size_t len, char *out)
{
	memcpy(out, field, len);
	out[len] = '\r';
	out[len + 1] = '\n';
	return len + 2;
}

/* ------------------------------------------------------------------ body */

void dkim_body_init(struct dkim_body *b, void (*out)(void *ctx, const char *data, size_t len),
		    void *ctx)
{
	memset(b, 0, offsetof(struct dkim_body, buf));
	b->out = out;
	b->ctx = ctx;
}

void dkim_body_init_simple(struct dkim_body *b,
			   void (*out)(void *ctx, const char *data, size_t len), void *ctx)
{
	dkim_body_init(b, out, ctx);
	b->simple = true;
}

static void body_put(struct dkim_body *b, const char *s, size_t n)
{
	if (b->n + n > sizeof(b->buf)) {
		b->out(b->ctx, b->buf, b->n);
		b->n = 0;
	}
	memcpy(b->buf + b->n, s, n);
	b->n += n;
}

/* A byte of line content: first the line ends held back (they were not
 * the body's last), then one SP for a run of whitespace before it. */
static void body_content(struct dkim_body *b, char c)
{
	for (; b->empty_lines > 0; b->empty_lines--)
		body_put(b, "\r\n", 2);
	if (b->wsp)
		body_put(b, " ", 1);
	b->wsp = false;
	b->content = true;
	body_put(b, &c, 1);
}

/* A line end: after content it is always part of the body; an empty line
 * (or one of whitespace only) is held back until content follows. */
static void body_line_end(struct dkim_body *b)
{
	if (b->content)
		body_put(b, "\r\n", 2);
	else
		b->empty_lines++;
	b->content = false;
	b->wsp = false;
}

/* Simple: a byte of line content, after the empty lines held back. */
static void simple_content(struct dkim_body *b, char c)
{
	for (; b->empty_lines > 0; b->empty_lines--)
		body_put(b, "\r\n", 2);
	body_put(b, &c, 1);
	b->content = true;
	b->any = true;
}

static void simple_update(struct dkim_body *b, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (b->cr) {
			b->cr = false;
			if (c == '\n') {
				if (b->content)
					body_put(b, "\r\n", 2);
				else
					b->empty_lines++;
				b->content = false;
				continue;
			}
			simple_content(b, '\r');   /* a bare CR is content */
		}
		if (c == '\r')
			b->cr = true;
		else
			simple_content(b, c);
	}
}

static void simple_finish(struct dkim_body *b)
{
	if (b->cr) {
		b->cr = false;
		simple_content(b, '\r');
	}
	if (b->content || !b->any)
		body_put(b, "\r\n", 2);
	b->content = false;
	b->any = true;
	b->empty_lines = 0;
}

void dkim_body_update(struct dkim_body *b, const char *data, size_t len)
{
	if (b->simple) {
		simple_update(b, data, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (b->cr) {
			b->cr = false;
			if (c == '\n') {
				body_line_end(b);
				continue;
			}
			body_line_end(b);   /* a bare CR ends a line too */
		}
		if (c == '\r')
			b->cr = true;
		else if (c == '\n')
			body_line_end(b);
		else if (is_wsp(c))
			b->wsp = true;
		else
			body_content(b, c);
	}
}

void dkim_body_finish(struct dkim_body *b)
{
	if (b->simple)
		simple_finish(b);
	else if (b->cr) {
		b->cr = false;
		body_line_end(b);
	}
	if (b->content)
		body_put(b, "\r\n", 2);
	b->content = false;
	b->empty_lines = 0;
	if (b->n > 0)
		b->out(b->ctx, b->buf, b->n);
	b->n = 0;
}

/* --------------------------------------------------------------- fields */

static const char *const signed_names[] = {
	"from", "to", "cc", "subject", "date", "message-id", "reply-to", "in-reply-to",
	"references", "mime-version", "content-type", "content-transfer-encoding",
};
#define NSIGNED (sizeof(signed_names) / sizeof(signed_names[0]))
/* Distinct List-* names (RFC 2369, 2919, 8058 define nine). */
#define LIST_NAMES_MAX 16

struct field {
	const char *name, *value;
	size_t name_len, value_len;
	bool used;
};

static bool name_is(const struct field *f, const char *name, size_t len)
{
	return f->name_len == len && strncasecmp(f->name, name, len) == 0;
}

static bool is_list_name(const struct field *f)
{
	return f->name_len > 5 && strncasecmp(f->name, "list-", 5) == 0;
}

/* Appends `name` (lowercased) to h= and the bottom-most unused instance, if
 * any, to the canonical data. 0, or -1 on overflow. */
static int field_sign(struct dkim_headers *h, size_t *hlen, struct field *fields, size_t n,
		      const char *name, size_t len)
{
	if (*hlen + len + 2 > sizeof(h->h))
		return -1;
	if (*hlen > 0)
		h->h[(*hlen)++] = ':';
	for (size_t i = 0; i < len; i++)
		h->h[(*hlen)++] = lower(name[i]);
	h->h[*hlen] = '\0';
	for (size_t i = n; i-- > 0;) {
		if (fields[i].used || !name_is(&fields[i], name, len))
			continue;
		fields[i].used = true;
		h->canon_len += dkim_canon_header(fields[i].name, fields[i].name_len, fields[i].value,
						  fields[i].value_len, h->canon + h->canon_len);
		break;
	}
	return 0;
}

static size_t count_of(const struct field *fields, size_t n, const char *name, size_t len)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += name_is(&fields[i], name, len);
	return count;
}

/* The domain of the one address in a From: value, into h->from_domain. */
static int from_domain(struct dkim_headers *h, const struct field *from, const char **why_r)
{
	struct address_list *list = NULL;
	const struct address *a;
	size_t len;

	if (address_list_parse(from->value, from->value_len, 4, &list) < 0)
		return -1;
	a = list->count == 1 ? &list->addrs[0] : NULL;
	if (a == NULL || a->host == NULL || a->mailbox == NULL) {
		*why_r = list->count == 0 ? "From: has no address" : "From: has several addresses";
		address_list_free(&list);
		return 0;
	}
	len = strlen(a->host);
	if (len == 0 || len > STORE_DOMAIN_MAX || a->host[0] == '[') {
		*why_r = "the From: address has no domain name";
		address_list_free(&list);
		return 0;
	}
	for (size_t i = 0; i <= len; i++)
		h->from_domain[i] = lower(a->host[i]);
	address_list_free(&list);
	return 1;
}

int dkim_headers_select(const char *header, size_t len, struct dkim_headers *h,
			const char **why_r)
{
	struct field *fields;
	struct mime_header_field f;
	size_t n = 0, pos = 0, hlen = 0, nlist = 0, from = 0;
	const struct field *lists[LIST_NAMES_MAX];
	int r = 0;

	memset(h, 0, sizeof(*h));
	if (len > DKIM_HEADER_MAX) {
		*why_r = "the header is too long";
		return 0;
	}
	if ((fields = calloc(DKIM_FIELDS_MAX, sizeof(*fields))) == NULL)
		return -1;
	while (mime_header_next(header, len, &pos, &f) > 0) {
		if (n == DKIM_FIELDS_MAX) {
			*why_r = "the header has too many fields";
			goto out;
		}
		fields[n++] = (struct field){ f.name, f.value, f.name_len, f.value_len, false };
	}
	for (size_t i = 0; i < n; i++)
		if (name_is(&fields[i], "from", 4))
			from = from == 0 ? i + 1 : SIZE_MAX;
	if (from == 0 || from == SIZE_MAX) {
		*why_r = from == 0 ? "the message has no From:" : "the message has several From: fields";
		goto out;
	}
	if ((r = from_domain(h, &fields[from - 1], why_r)) <= 0)
		goto out;
	r = 0;
	/* Each field at most once in the canonical data, plus the h= names. */
	if ((h->canon = malloc(len + 3 * n + 1)) == NULL) {
		r = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		if (!is_list_name(&fields[i]))
			continue;
		for (size_t k = 0; k < nlist && !known; k++)
			known = name_is(lists[k], fields[i].name, fields[i].name_len);
		if (known)
			continue;
		if (nlist == LIST_NAMES_MAX) {
			*why_r = "the header has too many List-* fields";
			goto out;
		}
		lists[nlist++] = &fields[i];
	}
	for (size_t k = 0; k < NSIGNED + nlist; k++) {
		const char *name = k < NSIGNED ? signed_names[k] : lists[k - NSIGNED]->name;
		size_t nlen = k < NSIGNED ? strlen(name) : lists[k - NSIGNED]->name_len;
		size_t count = count_of(fields, n, name, nlen);

		if (count > DKIM_FIELD_REPEAT_MAX) {
			*why_r = "a signed field is repeated too often";
			goto out;
		}
		if (k == 0)
			count++;   /* From, oversigned */
		for (size_t c = 0; c < count; c++)
			if (field_sign(h, &hlen, fields, n, name, nlen) < 0) {
				*why_r = "too many fields to sign";
				goto out;
			}
	}
	r = 1;
out:
	free(fields);
	if (r != 1)
		dkim_headers_clear(h);
	return r;
}

void dkim_headers_clear(struct dkim_headers *h)
{
	free(h->canon);
	h->canon = NULL;
	h->canon_len = 0;
}
