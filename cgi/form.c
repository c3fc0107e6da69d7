/* Form parsing (form.h): urlencoded and multipart/form-data. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "form.h"

const struct form_limits form_limits_default = {
	.body_max = 1024 * 1024,
	.fields_max = 1000,
	.name_max = 256,
	.value_max = 256 * 1024,
	.file_max = 0,
	.files_max = 0,
};

const char *form_get(const struct form *form, const char *name)
{
	for (size_t i = 0; i < form->count; i++) {
		if (strcmp(form->fields[i].name, name) == 0)
			return form->fields[i].value;
	}
	return NULL;
}

size_t form_each(const struct form *form, const char *name,
		 void (*cb)(const char *value, void *ctx), void *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < form->count; i++) {
		if (strcmp(form->fields[i].name, name) == 0) {
			cb(form->fields[i].value, ctx);
			n++;
		}
	}
	return n;
}

/* A growing vector of fields in the arena. */
struct fields {
	struct arena *arena;
	struct form_field *items;
	size_t count, cap;
};

static bool text_ok(const char *s, size_t len)
{
	return memchr(s, '\0', len) == NULL && charset_utf8_valid(s, len);
}

static int fields_add(struct fields *f, const struct form_limits *limits, const char *name,
		      size_t name_len, const char *value, size_t value_len,
		      int *status_r, const char **error_r)
{
	if (f->count >= limits->fields_max) {
		*status_r = 413;
		*error_r = "too many form fields";
		return -1;
	}
	if (name_len > limits->name_max) {
		*status_r = 413;
		*error_r = "a form field name is too long";
		return -1;
	}
	if (value_len > limits->value_max) {
		*status_r = 413;
		*error_r = "a form field is too long";
		return -1;
	}
	if (!text_ok(name, name_len) || !text_ok(value, value_len)) {
		*status_r = 400;
		*error_r = "a form field is not valid UTF-8 text";
		return -1;
	}
	if (f->count == f->cap) {
		size_t cap = f->cap == 0 ? 16 : f->cap * 2;
		struct form_field *items = arena_alloc(f->arena, cap * sizeof(*items));
		if (items == NULL)
			goto oom;
		if (f->count > 0)
			memcpy(items, f->items, f->count * sizeof(*items));
		f->items = items;
		f->cap = cap;
	}
	struct form_field *fld = &f->items[f->count];
	*fld = (struct form_field){ 0 };
	fld->name = arena_strndup(f->arena, name, name_len);
	fld->value = arena_strndup(f->arena, value, value_len);
	if (fld->name == NULL || fld->value == NULL)
		goto oom;
	fld->value_len = value_len;
	f->count++;
	return 1;
oom:
	*status_r = 500;
	*error_r = "out of memory";
	return -1;
}

static int hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes s[0..len) in place into dst (dst may be s); returns the length. */
static size_t url_decode(char *dst, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			dst[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < len && hexdigit((unsigned char)s[i + 1]) >= 0 &&
			   hexdigit((unsigned char)s[i + 2]) >= 0) {
			dst[o++] = (char)(hexdigit((unsigned char)s[i + 1]) << 4 |
					  hexdigit((unsigned char)s[i + 2]));
			i += 2;
		} else {
			dst[o++] = s[i];
		}
	}
	return o;
}

int form_parse_urlencoded(struct arena *a, const char *s, size_t len,
			  const struct form_limits *limits, struct form *form_r,
			  int *status_r, const char **error_r)
{
	struct fields f = { .arena = a };
	if (len > limits->body_max) {
		*status_r = 413;
		*error_r = "the form is too large";
		return -1;
	}
	char *copy = arena_strndup(a, s, len);
	if (copy == NULL) {
		*status_r = 500;
		*error_r = "out of memory";
		return -1;
	}
	size_t pos = 0;
	while (pos < len) {
		char *field = copy + pos;
		char *amp = memchr(field, '&', len - pos);
		size_t flen = amp == NULL ? len - pos : (size_t)(amp - field);
		pos += flen + 1;
		if (flen == 0)
			continue;
		char *eq = memchr(field, '=', flen);
		size_t nlen = eq == NULL ? flen : (size_t)(eq - field);
		char *val = eq == NULL ? field + flen : eq + 1;
		size_t vlen = eq == NULL ? 0 : flen - nlen - 1;
		nlen = url_decode(field, field, nlen);
		vlen = url_decode(val, val, vlen);
		if (fields_add(&f, limits, field, nlen, val, vlen, status_r, error_r) < 0)
			return -1;
	}
	form_r->fields = f.items;
	form_r->count = f.count;
	return 1;
}

/* ================================================================ multipart */

enum mp_state {
	MP_PREAMBLE,     /* before the first delimiter: skipped */
	MP_AFTER_DELIM,  /* "--" (close) or padding and CRLF follow */
	MP_DASH2,
	MP_PADDING,
	MP_CR,
	MP_HEADERS,
	MP_BODY,
	MP_END,          /* after the close delimiter: the epilogue is skipped */
};

enum body_kind { BODY_NONE, BODY_URLENCODED, BODY_MULTIPART };

struct form_parser {
	struct arena *arena;
	struct form_limits limits;
	enum body_kind kind;
	size_t total;
	int status;
	const char *error;
	struct buf raw;          /* urlencoded: the whole body */
	/* multipart */
	enum mp_state state;
	char delim[4 + FORM_BOUNDARY_MAX + 1]; /* CRLF "--" boundary */
	size_t delim_len, match;
	struct buf header;
	struct buf value;
	bool in_part;
	char *name, *filename, *ctype;
	size_t files;
	struct fields fields;
};

static int fail(struct form_parser *p, int status, const char *error)
{
	if (p->status == 0) {
		p->status = status;
		p->error = error;
	}
	return -1;
}

static bool is_bchar(int c)
{
	return isalnum(c) || strchr("'()+_,-./:=? ", c) != NULL;
}

/* Parses `; name=value` parameters after the first token of a header value;
 * returns the value of `want` (arena copy) or NULL. *bad_r on syntax errors. */
static char *param_get(struct arena *a, const char *v, size_t len, const char *want, bool *bad_r)
{
	size_t i = 0;
	char *found = NULL;
	while (i < len && v[i] != ';')
		i++;
	while (i < len) {
		if (v[i] != ';') {
			*bad_r = true;
			return found;
		}
		i++;
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t ns = i;
		while (i < len && v[i] != '=' && v[i] != ';' && v[i] != ' ' && v[i] != '\t')
			i++;
		size_t nlen = i - ns;
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i >= len || v[i] != '=') {
			if (nlen == 0)
				continue;           /* "a; ; b" and a trailing ';' */
			*bad_r = true;
			return found;
		}
		i++;
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		struct buf val;
		buf_init(&val, 4096);
		if (i < len && v[i] == '"') {
			i++;
			while (i < len && v[i] != '"') {
				/* only \" and \\ are escapes: browsers send a
				 * backslash in a file name as it is, and old ones
				 * a Windows path ("C:\dir\a.pdf", RFC 7578 4.2) */
				if (v[i] == '\\' && i + 1 < len && (v[i + 1] == '"' || v[i + 1] == '\\'))
					i++;
				buf_putc(&val, v[i++]);
			}
			if (i >= len) {
				buf_free(&val);
				*bad_r = true;
				return found;
			}
			i++;
		} else {
			while (i < len && v[i] != ';' && v[i] != ' ' && v[i] != '\t')
				buf_putc(&val, v[i++]);
		}
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (found == NULL && nlen == strlen(want) && strncasecmp(v + ns, want, nlen) == 0 &&
		    !val.failed)
			found = arena_strndup(a, val.data == NULL ? "" : val.data, val.len);
		buf_free(&val);
	}
	return found;
}

struct form_parser *form_parser_new(struct arena *a, const char *content_type,
				    const struct form_limits *limits, int *status_r,
				    const char **error_r)
{
	struct form_parser *p = arena_alloc(a, sizeof(*p));
	if (p == NULL) {
		*status_r = 500;
		*error_r = "out of memory";
		return NULL;
	}
	p->arena = a;
	p->limits = *limits;
	p->fields.arena = a;
	buf_init(&p->raw, limits->body_max + 1);
	buf_init(&p->header, FORM_PART_HEADER_MAX + 1);
	buf_init(&p->value, 0);
	if (content_type == NULL || *content_type == '\0') {
		p->kind = BODY_NONE;
		return p;
	}
	size_t tlen = strcspn(content_type, "; \t");
	if (tlen == 33 && strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0) {
		p->kind = BODY_URLENCODED;
		return p;
	}
	if (!(tlen == 19 && strncasecmp(content_type, "multipart/form-data", 19) == 0)) {
		*status_r = 415;
		*error_r = "unsupported form encoding";
		return NULL;
	}
	bool bad = false;
	size_t ctlen = strlen(content_type);
	if (ctlen > FORM_PART_HEADER_MAX) {
		*status_r = 400;
		*error_r = "the Content-Type header is too long";
		return NULL;
	}
	char *boundary = param_get(a, content_type, ctlen, "boundary", &bad);
	size_t blen = boundary == NULL ? 0 : strlen(boundary);
	if (bad || blen == 0 || blen > FORM_BOUNDARY_MAX || boundary[blen - 1] == ' ') {
		*status_r = 400;
		*error_r = "the multipart boundary is missing, empty or longer than 70 characters";
		return NULL;
	}
	for (size_t i = 0; i < blen; i++) {
		if (!is_bchar((unsigned char)boundary[i])) {
			*status_r = 400;
			*error_r = "the multipart boundary has characters RFC 2046 does not allow";
			return NULL;
		}
	}
	p->kind = BODY_MULTIPART;
	p->delim_len = (size_t)snprintf(p->delim, sizeof(p->delim), "\r\n--%s", boundary);
	p->state = MP_PREAMBLE;
	p->match = 2; /* the body may start with the delimiter, without the CRLF */
	return p;
}

static int part_begin(struct form_parser *p)
{
	/* header holds the block, CRLF CRLF included (or just CRLF) */
	const char *h = p->header.data;
	size_t len = p->header.len;
	size_t pos = 0;
	bool have_disp = false;
	p->name = p->filename = p->ctype = NULL;
	while (pos < len) {
		const char *line = h + pos;
		const char *crlf = memmem(line, len - pos, "\r\n", 2);
		size_t llen = crlf == NULL ? len - pos : (size_t)(crlf - line);
		pos += llen + 2;
		if (llen == 0)
			break;
		const char *colon = memchr(line, ':', llen);
		if (colon == NULL)
			return fail(p, 400, "a multipart part header line without a colon");
		size_t nlen = (size_t)(colon - line);
		const char *v = colon + 1;
		size_t vlen = llen - nlen - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		if (nlen == 19 && strncasecmp(line, "Content-Disposition", 19) == 0) {
			bool bad = false;
			if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0)
				return fail(p, 400, "a multipart part that is not form-data");
			p->name = param_get(p->arena, v, vlen, "name", &bad);
			p->filename = param_get(p->arena, v, vlen, "filename", &bad);
			if (bad)
				return fail(p, 400, "a malformed Content-Disposition header");
			have_disp = true;
		} else if (nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
			p->ctype = arena_strndup(p->arena, v, vlen);
		}
	}
	if (!have_disp || p->name == NULL)
		return fail(p, 400, "a multipart part without a field name");
	if (p->filename != NULL) {
		if (p->files >= p->limits.files_max)
			return fail(p, 413, "too many uploaded files");
		p->files++;
	}
	p->in_part = true;
	buf_reset(&p->value);
	return 0;
}

static int part_end(struct form_parser *p)
{
	const char *error;
	int status;
	p->in_part = false;
	if (p->filename != NULL) {
		/* a file: contents as they are; name and file name must be text */
		if (!text_ok(p->filename, strlen(p->filename)))
			return fail(p, 400, "an uploaded file name is not valid UTF-8");
		struct form_limits l = p->limits;
		l.value_max = SIZE_MAX;
		if (p->fields.count >= l.fields_max)
			return fail(p, 413, "too many form fields");
		if (fields_add(&p->fields, &l, p->name, strlen(p->name), "", 0, &status, &error) < 0)
			return fail(p, status, error);
		struct form_field *f = &p->fields.items[p->fields.count - 1];
		char *data = arena_alloc(p->arena, p->value.len + 1);
		if (data == NULL)
			return fail(p, 500, "out of memory");
		if (p->value.len > 0)
			memcpy(data, p->value.data, p->value.len);
		f->value = data;
		f->value_len = p->value.len;
		f->filename = p->filename;
		f->content_type = p->ctype;
		return 0;
	}
	if (fields_add(&p->fields, &p->limits, p->name, strlen(p->name),
		       p->value.data == NULL ? "" : p->value.data, p->value.len, &status, &error) < 0)
		return fail(p, status, error);
	p->fields.items[p->fields.count - 1].content_type = p->ctype;
	return 0;
}

static int content_append(struct form_parser *p, const char *data, size_t len)
{
	if (p->state != MP_BODY || len == 0)
		return 0;
	size_t max = p->filename != NULL ? p->limits.file_max : p->limits.value_max;
	if (len > max || p->value.len > max - len)
		return fail(p, 413, p->filename != NULL ? "an uploaded file is too large"
							: "a form field is too long");
	if (!buf_append(&p->value, data, len))
		return fail(p, 500, "out of memory");
	return 0;
}

static int multipart_byte(struct form_parser *p, char c)
{
	switch (p->state) {
	case MP_PREAMBLE:
	case MP_BODY:
		for (;;) {
			if (c == p->delim[p->match]) {
				if (++p->match == p->delim_len) {
					p->match = 0;
					if (p->state == MP_BODY && part_end(p) < 0)
						return -1;
					p->state = MP_AFTER_DELIM;
				}
				return 0;
			}
			if (p->match == 0)
				return content_append(p, &c, 1);
			/* the boundary holds no CR, so a partial match can only
			 * restart at this byte: give back what matched */
			if (content_append(p, p->delim, p->match) < 0)
				return -1;
			p->match = 0;
		}
	case MP_AFTER_DELIM:
		if (c == '-')
			p->state = MP_DASH2;
		else if (c == ' ' || c == '\t')
			p->state = MP_PADDING;
		else if (c == '\r')
			p->state = MP_CR;
		else
			return fail(p, 400, "garbage after a multipart boundary");
		return 0;
	case MP_DASH2:
		if (c != '-')
			return fail(p, 400, "garbage after a multipart boundary");
		p->state = MP_END;
		return 0;
	case MP_PADDING:
		if (c == '\r')
			p->state = MP_CR;
		else if (c != ' ' && c != '\t')
			return fail(p, 400, "garbage after a multipart boundary");
		return 0;
	case MP_CR:
		if (c != '\n')
			return fail(p, 400, "a multipart boundary line not ended by CRLF");
		p->state = MP_HEADERS;
		buf_reset(&p->header);
		return 0;
	case MP_HEADERS:
		if (!buf_putc(&p->header, c) || p->header.len > FORM_PART_HEADER_MAX)
			return fail(p, 413, "a multipart part header is too large");
		if ((p->header.len == 2 && memcmp(p->header.data, "\r\n", 2) == 0) ||
		    (p->header.len >= 4 &&
		     memcmp(p->header.data + p->header.len - 4, "\r\n\r\n", 4) == 0)) {
			if (part_begin(p) < 0)
				return -1;
			p->state = MP_BODY;
			p->match = 0;
		}
		return 0;
	case MP_END:
		return 0;
	}
	return 0;
}

int form_parser_feed(struct form_parser *p, const void *data, size_t len)
{
	const char *s = data;
	if (p->status != 0)
		return -1;
	if (len > p->limits.body_max || p->total > p->limits.body_max - len)
		return fail(p, 413, "the request body is too large");
	p->total += len;
	switch (p->kind) {
	case BODY_NONE:
		return len == 0 ? 0 : fail(p, 415, "a request body of no declared type");
	case BODY_URLENCODED:
		if (!buf_append(&p->raw, s, len))
			return fail(p, 413, "the request body is too large");
		return 0;
	case BODY_MULTIPART:
		for (size_t i = 0; i < len; i++) {
			if (p->state == MP_BODY && p->match == 0) {
				/* fast path: copy up to the next CR at once */
				const char *cr = memchr(s + i, '\r', len - i);
				size_t n = cr == NULL ? len - i : (size_t)(cr - (s + i));
				if (n > 0) {
					if (content_append(p, s + i, n) < 0)
						return -1;
					i += n;
					if (i == len)
						break;
				}
			}
			if (multipart_byte(p, s[i]) < 0)
				return -1;
		}
		return 0;
	}
	return 0;
}

int form_parser_finish(struct form_parser *p, struct form *form_r, int *status_r,
		       const char **error_r)
{
	*form_r = (struct form){ 0 };
	if (p->status == 0) {
		switch (p->kind) {
		case BODY_NONE:
			break;
		case BODY_URLENCODED:
			if (form_parse_urlencoded(p->arena, p->raw.data == NULL ? "" : p->raw.data,
						  p->raw.len, &p->limits, form_r, &p->status,
						  &p->error) < 0)
				break;
			buf_free(&p->raw);
			buf_free(&p->header);
			buf_free(&p->value);
			return 1;
		case BODY_MULTIPART:
			if (p->state != MP_END) {
				fail(p, 400, "the multipart body ends without its final boundary");
				break;
			}
			form_r->fields = p->fields.items;
			form_r->count = p->fields.count;
			break;
		}
	}
	buf_free(&p->raw);
	buf_free(&p->header);
	buf_free(&p->value);
	if (p->status != 0) {
		*form_r = (struct form){ 0 };
		*status_r = p->status;
		*error_r = p->error;
		return -1;
	}
	return 1;
}
