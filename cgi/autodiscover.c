/* The autodiscover request parser (autodiscover.h): a strict reader of the
 * XML 1.0 subset such a request can use. Every loop advances through the
 * body, which is bounded; open elements sit on a fixed stack. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "autodiscover.h"
#include "xmlout.h"

struct name {
	const char *s;
	size_t len;
};

enum target { T_NONE, T_EMAIL, T_SCHEMA };

struct parser {
	const char *s;
	size_t len, pos;
	const char *error;
	struct name stack[AUTODISCOVER_DEPTH_MAX];
	size_t depth;
	size_t elements;
	enum target target;          /* the element whose text we collect */
	bool seen_email, seen_schema;
	char *out;                   /* its buffer */
	size_t out_len;
	struct autodiscover_request *req;
};

static int fail(struct parser *p, const char *why)
{
	if (p->error == NULL)
		p->error = why;
	return -1;
}

static bool at(const struct parser *p, const char *lit)
{
	size_t n = strlen(lit);
	return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(struct parser *p)
{
	while (p->pos < p->len && is_space(p->s[p->pos]))
		p->pos++;
}

static bool name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int parse_name(struct parser *p, struct name *n)
{
	size_t start = p->pos;
	if (p->pos >= p->len || !name_start((unsigned char)p->s[p->pos]))
		return fail(p, "a name was expected");
	while (p->pos < p->len && name_char((unsigned char)p->s[p->pos]))
		p->pos++;
	n->s = p->s + start;
	n->len = p->pos - start;
	if (n->len > AUTODISCOVER_NAME_MAX)
		return fail(p, "a name is too long");
	return 0;
}

/* The part of a name after its namespace prefix. */
static bool local_is(const struct name *n, const char *want)
{
	const char *colon = memrchr(n->s, ':', n->len);
	const char *l = colon != NULL ? colon + 1 : n->s;
	size_t len = n->len - (size_t)(l - n->s);
	return len == strlen(want) && memcmp(l, want, len) == 0;
}

static int out_append(struct parser *p, const char *s, size_t n)
{
	if (p->target == T_NONE)
		return 0;
	if (n > AUTODISCOVER_VALUE_MAX - p->out_len)
		return fail(p, "a value is too long");
	memcpy(p->out + p->out_len, s, n);
	p->out_len += n;
	return 0;
}

static size_t utf8_encode(long cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At '&': one of the five predefined entities or a character reference
 * (no other entity can exist without a DOCTYPE). Decoded into `o` (4
 * bytes), its length in *n. */
static int parse_reference(struct parser *p, char *o, size_t *n)
{
	static const struct { const char *name; char c; } predefined[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&apos;", '\'' }, { "&quot;", '"' },
	};
	for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++) {
		if (at(p, predefined[i].name)) {
			p->pos += strlen(predefined[i].name);
			o[0] = predefined[i].c;
			*n = 1;
			return 0;
		}
	}
	if (!at(p, "&#"))
		return fail(p, "an unknown entity (only &amp; &lt; &gt; &apos; &quot; and &#...;)");
	p->pos += 2;
	bool hex = p->pos < p->len && p->s[p->pos] == 'x';
	p->pos += hex;
	long cp = 0;
	size_t digits = 0;
	for (; p->pos < p->len && p->s[p->pos] != ';'; p->pos++, digits++) {
		char c = p->s[p->pos];
		int v = c >= '0' && c <= '9' ? c - '0'
			: hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
			: hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0 || digits == 8)
			return fail(p, "a malformed character reference");
		cp = cp * (hex ? 16 : 10) + v;
	}
	if (p->pos == p->len || digits == 0 || !xml_is_char(cp))
		return fail(p, "a malformed character reference");
	p->pos++;
	*n = utf8_encode(cp, o);
	return 0;
}

/* name="value" or name='value' pairs up to '>' or '/>' (or '?>' in the XML
 * declaration); the values are checked, not kept, but for the raw value of
 * attribute `want` (if not NULL) in *value_r. */
static int parse_attributes(struct parser *p, const char *end, const char *want,
			    struct name *value_r)
{
	for (unsigned count = 0;; count++) {
		size_t before = p->pos;
		skip_space(p);
		if (at(p, end) || at(p, "/>") || at(p, ">"))
			return 0;
		if (p->pos == before)
			return fail(p, "a blank was expected between attributes");
		if (count == 32)
			return fail(p, "too many attributes");
		struct name n;
		if (parse_name(p, &n) < 0)
			return -1;
		skip_space(p);
		if (!at(p, "="))
			return fail(p, "an attribute without '='");
		p->pos++;
		skip_space(p);
		if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\''))
			return fail(p, "an attribute value without quotes");
		char q = p->s[p->pos++];
		size_t vstart = p->pos;
		while (p->pos < p->len && p->s[p->pos] != q) {
			char c = p->s[p->pos];
			if (c == '<')
				return fail(p, "'<' in an attribute value");
			if (c == '&') {
				char o[4];
				size_t on;
				if (parse_reference(p, o, &on) < 0)
					return -1;
			} else {
				p->pos++;
			}
		}
		if (p->pos == p->len)
			return fail(p, "an attribute value is not closed");
		if (want != NULL && n.len == strlen(want) && memcmp(n.s, want, n.len) == 0)
			*value_r = (struct name){ p->s + vstart, p->pos - vstart };
		p->pos++;
	}
}

/* Skips a comment or a processing instruction at '<!--' or '<?'. */
static int parse_misc(struct parser *p)
{
	if (at(p, "<!--")) {
		p->pos += 4;
		for (;;) {
			if (p->pos + 1 >= p->len)
				return fail(p, "a comment is not closed");
			if (at(p, "--")) {
				if (!at(p, "-->"))
					return fail(p, "'--' inside a comment");
				p->pos += 3;
				return 0;
			}
			p->pos++;
		}
	}
	/* <?target ...?>; the target "xml" (any case) is reserved */
	p->pos += 2;
	struct name n;
	if (parse_name(p, &n) < 0)
		return -1;
	if (n.len == 3 && strncasecmp(n.s, "xml", 3) == 0)
		return fail(p, "an XML declaration that is not at the start");
	for (;;) {
		if (p->pos + 1 >= p->len)
			return fail(p, "a processing instruction is not closed");
		if (at(p, "?>")) {
			p->pos += 2;
			return 0;
		}
		p->pos++;
	}
}

static void trim(char *s, size_t len)
{
	while (len > 0 && is_space(s[len - 1]))
		len--;
	s[len] = '\0';
	size_t start = 0;
	while (is_space(s[start]))
		start++;
	memmove(s, s + start, len - start + 1);
}

static int start_tag(struct parser *p)
{
	struct name n;
	p->pos++;
	if (parse_name(p, &n) < 0 || parse_attributes(p, ">", NULL, NULL) < 0)
		return -1;
	bool empty = at(p, "/>");
	p->pos += empty ? 2 : 1;
	if (++p->elements > AUTODISCOVER_ELEMENTS_MAX)
		return fail(p, "too many elements");
	if (p->target != T_NONE)
		return fail(p, "EMailAddress and AcceptableResponseSchema hold text only");
	if (p->depth == 0 && !local_is(&n, "Autodiscover"))
		return fail(p, "the root element is not Autodiscover");
	if (p->depth == 2 && local_is(&p->stack[1], "Request")) {
		bool *seen = NULL;
		if (local_is(&n, "EMailAddress")) {
			p->target = T_EMAIL;
			p->out = p->req->email;
			seen = &p->seen_email;
		} else if (local_is(&n, "AcceptableResponseSchema")) {
			p->target = T_SCHEMA;
			p->out = p->req->schema;
			seen = &p->seen_schema;
		}
		if (seen != NULL) {
			if (*seen)
				return fail(p, "EMailAddress or AcceptableResponseSchema given twice");
			*seen = true;
			p->out_len = 0;
		}
	}
	if (empty) {
		if (p->target != T_NONE) {
			p->out[0] = '\0';
			p->target = T_NONE;
		}
		return 0;
	}
	if (p->depth == AUTODISCOVER_DEPTH_MAX)
		return fail(p, "elements nested too deeply");
	p->stack[p->depth++] = n;
	return 0;
}

static int end_tag(struct parser *p)
{
	struct name n;
	p->pos += 2;
	if (parse_name(p, &n) < 0)
		return -1;
	skip_space(p);
	if (!at(p, ">"))
		return fail(p, "a malformed end tag");
	p->pos++;
	const struct name *open = &p->stack[p->depth - 1];
	if (open->len != n.len || memcmp(open->s, n.s, n.len) != 0)
		return fail(p, "an end tag does not match its start tag");
	p->depth--;
	if (p->target != T_NONE && p->depth == 2) {
		trim(p->out, p->out_len);
		p->target = T_NONE;
	}
	return 0;
}

/* Character data up to the next '<' or '&'. */
static int char_data(struct parser *p)
{
	size_t start = p->pos;
	while (p->pos < p->len && p->s[p->pos] != '<' && p->s[p->pos] != '&') {
		if (at(p, "]]>"))
			return fail(p, "']]>' in text");
		p->pos++;
	}
	if (p->depth == 0) {
		for (size_t i = start; i < p->pos; i++) {
			if (!is_space(p->s[i]))
				return fail(p, "text outside the root element");
		}
		return 0;
	}
	return out_append(p, p->s + start, p->pos - start);
}

static int content(struct parser *p)
{
	bool root_seen = false;
	while (p->pos < p->len) {
		if (p->s[p->pos] == '&') {
			char o[4];
			size_t n;
			if (p->depth == 0)
				return fail(p, "a reference outside the root element");
			if (parse_reference(p, o, &n) < 0 || out_append(p, o, n) < 0)
				return -1;
		} else if (p->s[p->pos] != '<') {
			if (char_data(p) < 0)
				return -1;
		} else if (at(p, "<!--") || at(p, "<?")) {
			if (parse_misc(p) < 0)
				return -1;
		} else if (at(p, "<![CDATA[")) {
			if (p->depth == 0)
				return fail(p, "a CDATA section outside the root element");
			p->pos += 9;
			const char *end = memmem(p->s + p->pos, p->len - p->pos, "]]>", 3);
			if (end == NULL)
				return fail(p, "a CDATA section is not closed");
			size_t n = (size_t)(end - (p->s + p->pos));
			if (out_append(p, p->s + p->pos, n) < 0)
				return -1;
			p->pos += n + 3;
		} else if (at(p, "<!DOCTYPE")) {
			return fail(p, "a DOCTYPE is not accepted");
		} else if (at(p, "<!")) {
			return fail(p, "a markup declaration is not accepted");
		} else if (at(p, "</")) {
			if (p->depth == 0)
				return fail(p, "an end tag without a start tag");
			if (end_tag(p) < 0)
				return -1;
		} else {
			if (p->depth == 0 && root_seen)
				return fail(p, "a second root element");
			root_seen = true;
			if (start_tag(p) < 0)
				return -1;
		}
	}
	if (p->depth > 0)
		return fail(p, "the document ends inside an element");
	if (!root_seen)
		return fail(p, "no Autodiscover element");
	return 0;
}

/* <?xml version="1.0" encoding="UTF-8"?> at the very start: optional; an
 * encoding other than UTF-8 (or US-ASCII, a subset) is refused. */
static int xml_declaration(struct parser *p)
{
	if (!(at(p, "<?xml") && p->pos + 5 < p->len && is_space(p->s[p->pos + 5])))
		return 0;
	struct name enc = { NULL, 0 };
	p->pos += 5;
	if (parse_attributes(p, "?>", "encoding", &enc) < 0)
		return -1;
	if (!at(p, "?>"))
		return fail(p, "a malformed XML declaration");
	p->pos += 2;
	if (enc.s != NULL && !(enc.len == 5 && strncasecmp(enc.s, "utf-8", 5) == 0) &&
	    !(enc.len == 8 && strncasecmp(enc.s, "us-ascii", 8) == 0))
		return fail(p, "an encoding other than UTF-8");
	return 0;
}

int autodiscover_parse(const char *xml, size_t len, struct autodiscover_request *req,
		       const char **error_r)
{
	struct parser p = { .s = xml, .len = len, .req = req };
	req->email[0] = '\0';
	req->schema[0] = '\0';
	if (len > AUTODISCOVER_BODY_MAX) {
		*error_r = "the request is too large";
		return -1;
	}
	/* valid UTF-8 of XML characters throughout: no NUL, no controls */
	for (size_t i = 0, n; i < len; i += n) {
		long cp = xml_utf8_decode((const unsigned char *)xml + i, len - i, &n);
		if (cp < 0 || !xml_is_char(cp)) {
			*error_r = "the request is not UTF-8 text";
			return -1;
		}
	}
	if (len >= 3 && memcmp(xml, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	if (xml_declaration(&p) < 0 || content(&p) < 0) {
		*error_r = p.error;
		req->email[0] = '\0';
		req->schema[0] = '\0';
		return -1;
	}
	return 0;
}
