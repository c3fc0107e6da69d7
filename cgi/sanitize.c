/* The HTML mail sanitizer (sanitize.h): gumbo tree in, allow-listed HTML
 * out, serialised once. The only file that includes <gumbo.h>. */
#include <ctype.h>
#include <gumbo.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sanitize.h"
#include "template.h"

/* ---------------------------------------------------------------- policy */

enum action { DROP, KEEP, UNWRAP, STYLE };

static enum action element_action(const GumboNode *node)
{
	const GumboElement *e = &node->v.element;
	if (e->tag_namespace != GUMBO_NAMESPACE_HTML)
		return DROP;        /* svg, math: foreign content is never kept */
	switch (e->tag) {
	case GUMBO_TAG_A: case GUMBO_TAG_ABBR: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE:
	case GUMBO_TAG_ASIDE: case GUMBO_TAG_B: case GUMBO_TAG_BDI: case GUMBO_TAG_BDO:
	case GUMBO_TAG_BIG: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_BR: case GUMBO_TAG_CAPTION:
	case GUMBO_TAG_CENTER: case GUMBO_TAG_CITE: case GUMBO_TAG_CODE: case GUMBO_TAG_COL:
	case GUMBO_TAG_COLGROUP: case GUMBO_TAG_DD: case GUMBO_TAG_DEL: case GUMBO_TAG_DETAILS:
	case GUMBO_TAG_DFN: case GUMBO_TAG_DIV: case GUMBO_TAG_DL: case GUMBO_TAG_DT:
	case GUMBO_TAG_EM: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FONT:
	case GUMBO_TAG_FOOTER: case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3:
	case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_HEADER:
	case GUMBO_TAG_HR: case GUMBO_TAG_I: case GUMBO_TAG_IMG: case GUMBO_TAG_INS:
	case GUMBO_TAG_KBD: case GUMBO_TAG_LI: case GUMBO_TAG_MAIN: case GUMBO_TAG_MARK:
	case GUMBO_TAG_NAV: case GUMBO_TAG_OL: case GUMBO_TAG_P: case GUMBO_TAG_PRE:
	case GUMBO_TAG_Q: case GUMBO_TAG_RP: case GUMBO_TAG_RT: case GUMBO_TAG_RUBY:
	case GUMBO_TAG_S: case GUMBO_TAG_SAMP: case GUMBO_TAG_SECTION: case GUMBO_TAG_SMALL:
	case GUMBO_TAG_SPAN: case GUMBO_TAG_STRIKE: case GUMBO_TAG_STRONG: case GUMBO_TAG_SUB:
	case GUMBO_TAG_SUMMARY: case GUMBO_TAG_SUP: case GUMBO_TAG_TABLE: case GUMBO_TAG_TBODY:
	case GUMBO_TAG_TD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TH: case GUMBO_TAG_THEAD:
	case GUMBO_TAG_TIME: case GUMBO_TAG_TR: case GUMBO_TAG_TT: case GUMBO_TAG_U:
	case GUMBO_TAG_UL: case GUMBO_TAG_VAR: case GUMBO_TAG_WBR:
		return KEEP;
	case GUMBO_TAG_STYLE:
		return STYLE;
	/* containers whose tag goes but whose text stays */
	case GUMBO_TAG_HTML: case GUMBO_TAG_BODY: case GUMBO_TAG_HEAD: case GUMBO_TAG_FORM:
	case GUMBO_TAG_LABEL: case GUMBO_TAG_FIELDSET: case GUMBO_TAG_LEGEND:
	case GUMBO_TAG_NOBR: case GUMBO_TAG_BLINK: case GUMBO_TAG_MARQUEE: case GUMBO_TAG_DIR:
	case GUMBO_TAG_MENU: case GUMBO_TAG_HGROUP: case GUMBO_TAG_ACRONYM: case GUMBO_TAG_BASEFONT:
	case GUMBO_TAG_SPACER: case GUMBO_TAG_MULTICOL: case GUMBO_TAG_LISTING:
	case GUMBO_TAG_UNKNOWN:
		return UNWRAP;
	default:
		/* script, noscript, template, iframe, object, embed, applet,
		 * frame(set), noframes, title, meta, link, base, textarea,
		 * select, option, button, input, canvas, audio, video, source,
		 * xmp, plaintext, noembed, dialog and everything else */
		return DROP;
	}
}

static bool is_void(GumboTag tag)
{
	return tag == GUMBO_TAG_BR || tag == GUMBO_TAG_HR || tag == GUMBO_TAG_IMG ||
	       tag == GUMBO_TAG_WBR || tag == GUMBO_TAG_COL;
}

/* Attributes kept on any kept element (values are escaped on output and
 * none of these can hold a URL or script). */
static const char *const global_attrs[] = {
	"title", "lang", "dir", "align", "valign", "width", "height", "bgcolor", "color",
	"border", "cellpadding", "cellspacing", "colspan", "rowspan", "nowrap", "class",
	"face", "size", "alt", "summary", "abbr", "scope", "hspace", "vspace", "span",
	"start", "reversed", "datetime", "headers", "open", "id",
};

static bool attr_allowed(const char *name)
{
	for (size_t i = 0; i < sizeof(global_attrs) / sizeof(global_attrs[0]); i++) {
		if (strcmp(name, global_attrs[i]) == 0)
			return true;
	}
	return false;
}

/* CSS properties kept in style attributes. */
static const char *const css_props[] = {
	"color", "background-color", "background", "font", "font-family", "font-size",
	"font-style", "font-weight", "font-variant", "text-align", "text-decoration",
	"text-indent", "text-transform", "line-height", "letter-spacing", "word-spacing",
	"white-space", "vertical-align", "direction", "margin", "margin-top", "margin-right",
	"margin-bottom", "margin-left", "padding", "padding-top", "padding-right",
	"padding-bottom", "padding-left", "border", "border-top", "border-right",
	"border-bottom", "border-left", "border-color", "border-style", "border-width",
	"border-radius", "border-collapse", "border-spacing", "width", "height", "max-width",
	"min-width", "max-height", "min-height", "display", "list-style", "list-style-type",
	"table-layout", "float", "clear", "overflow", "word-wrap", "word-break",
	"overflow-wrap", "background-image", "opacity", "text-shadow", "box-sizing",
};

static bool css_prop_allowed(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof(css_props) / sizeof(css_props[0]); i++) {
		if (strlen(css_props[i]) == n && strncasecmp(p, css_props[i], n) == 0)
			return true;
	}
	return false;
}

static bool contains_ci(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++) {
		if (strncasecmp(s + i, needle, n) == 0)
			return true;
	}
	return false;
}

/* A URL in CSS url(...) at s: true if it is http(s), quoted or not, and
 * plain enough that a browser reads the token as we do (no brackets,
 * quotes, spaces or controls in it). */
static bool css_url_remote(const char *s, size_t len)
{
	size_t i = 4; /* after "url(" */
	while (i < len && s[i] == ' ')
		i++;
	char quote = i < len && (s[i] == '"' || s[i] == '\'') ? s[i++] : 0;
	size_t start = i;
	while (i < len && (unsigned char)s[i] > 0x20 && strchr("\"'()[]{}", s[i]) == NULL)
		i++;
	size_t n = i - start;
	if (quote != 0 && (i == len || s[i++] != quote))
		return false;
	while (i < len && s[i] == ' ')
		i++;
	return i < len && s[i] == ')' &&
	       ((n > 7 && strncasecmp(s + start, "http://", 7) == 0) ||
		(n > 8 && strncasecmp(s + start, "https://", 8) == 0));
}

/* Checks CSS text. 1 fine, 0 refused; a url() that would load a remote
 * image counts in *blocked when images are off. */
static int css_ok(const char *s, size_t len, bool images, unsigned *blocked)
{
	static const char *const bad[] = {
		"\\", "<", ">", "/*", "expression", "javascript", "vbscript", "behavior",
		"behaviour", "-moz-binding", "@import", "@charset", "@namespace", "image-set", "src(",
	};
	if (len > SANITIZE_CSS_MAX || memchr(s, '\0', len) != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (contains_ci(s, len, bad[i]))
			return 0;
	}
	for (size_t i = 0; i + 4 <= len; i++) {
		if (strncasecmp(s + i, "url(", 4) != 0)
			continue;
		if (!css_url_remote(s + i, len - i))
			return 0;           /* data:, javascript:, relative... */
		if (!images) {
			(*blocked)++;
			return 0;
		}
	}
	return 1;
}

/* ---------------------------------------------------------------- output */

struct san {
	const struct sanitize_options *opt;
	struct sanitize_stats *stats;
	struct buf *out;
};

static void put_attr(struct san *s, const char *name, const char *value, size_t len)
{
	buf_putc(s->out, ' ');
	buf_puts(s->out, name);
	buf_puts(s->out, "=\"");
	tpl_escape_html(s->out, value, len);
	buf_putc(s->out, '"');
}

/* The index of the quote closing the string at css[open], or len. */
static size_t css_string_end(const char *css, size_t len, size_t open)
{
	const char *end = memchr(css + open + 1, css[open], len - open - 1);
	return end != NULL ? (size_t)(end - css) : len;
}

/* The index of the bracket closing the '{', '(' or '[' at css[open], with
 * blocks nested as a browser nests them; len if it is never closed. */
static size_t css_close(const char *css, size_t len, size_t open)
{
	char want[32];
	size_t n = 0;
	for (size_t i = open; i < len; i++) {
		char c = css[i];
		if (c == '"' || c == '\'') {
			i = css_string_end(css, len, i);
		} else if (c == '{' || c == '(' || c == '[') {
			if (n == sizeof(want))
				return len;
			want[n++] = c == '{' ? '}' : c == '(' ? ')' : ']';
		} else if (n > 0 && c == want[n - 1] && --n == 0) {
			return i;
		}
	}
	return len;
}

/* True if every bracket in css[0..len) is closed, as css_close pairs them
 * (a browser would read past an open one). */
static bool css_balanced(const char *css, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (css[i] == '(' || css[i] == '[')
			i = css_close(css, len, i);
		else if (css[i] == '"' || css[i] == '\'')
			i = css_string_end(css, len, i);
		if (i == len)
			return false;
	}
	return true;
}

/* Appends the allowed declarations of `v` to `css`, ';'-separated. A
 * declaration ends at ';' outside quotes and parentheses; a string ends at
 * a quote or, as in a browser, at a line break (which spoils its
 * declaration). Whatever a browser could read differently (open quotes or
 * brackets, braces) is dropped. */
static void css_declarations(struct san *s, const char *v, size_t len, struct buf *css)
{
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		int depth = 0;
		char quote = 0;
		bool spoilt = false;
		for (; i < len; i++) {
			char c = v[i];
			if (quote != 0 && (c == '\n' || c == '\r' || c == '\f')) {
				quote = 0;
				spoilt = true;
			} else if (quote != 0) {
				if (c == quote)
					quote = 0;
			} else if (c == '"' || c == '\'') {
				quote = c;
			} else if (c == '(') {
				depth++;
			} else if (c == ')') {
				depth--;
			} else if (c == '{' || c == '}') {
				spoilt = true;
			} else if (c == ';' && depth <= 0) {
				break;
			}
		}
		const char *d = v + start;
		size_t dlen = i - start;
		i++;
		const char *colon = memchr(d, ':', dlen);
		if (colon == NULL)
			continue;
		const char *p = d;
		size_t plen = (size_t)(colon - d);
		while (plen > 0 && isspace((unsigned char)*p)) {
			p++;
			plen--;
		}
		while (plen > 0 && isspace((unsigned char)p[plen - 1]))
			plen--;
		const char *val = colon + 1;
		size_t vlen = (size_t)(d + dlen - val);
		if (!css_prop_allowed(p, plen) || quote != 0 || spoilt || !css_balanced(val, vlen) ||
		    !css_ok(val, vlen, s->opt->show_images, &s->stats->blocked_images)) {
			s->stats->removed++;
			continue;
		}
		if (css->len > 0 && css->data[css->len - 1] != '{')
			buf_putc(css, ';');
		buf_append(css, p, plen);
		buf_putc(css, ':');
		buf_append(css, val, vlen);
	}
}

/* Rebuilds a style attribute from its allowed declarations. */
static void put_style(struct san *s, const char *v)
{
	struct buf css;
	size_t len = strlen(v);
	if (len > SANITIZE_CSS_MAX) {
		s->stats->removed++;
		return;
	}
	buf_init(&css, SANITIZE_CSS_MAX * 2);
	css_declarations(s, v, len, &css);
	if (css.len > 0 && !css.failed)
		put_attr(s, "style", css.data, css.len);
	buf_free(&css);
}

/* URL parsers drop leading C0 controls and spaces: so do we, and write
 * the URL without them, so what we checked is what the browser reads. */
static const char *url_trim(const char *v)
{
	while (*v != '\0' && (unsigned char)*v <= 0x20)
		v++;
	return v;
}

static bool url_has_scheme(const char *v, const char *scheme)
{
	return strncasecmp(url_trim(v), scheme, strlen(scheme)) == 0;
}

static int pct(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void put_img_src(struct san *s, const char *v)
{
	if (url_has_scheme(v, "cid:") && s->opt->cid_url != NULL) {
		char id[512];
		size_t n = 0;
		const char *p = strchr(v, ':') + 1;
		for (; *p != '\0' && n + 1 < sizeof(id); p++) {
			if (*p == '%' && pct(p[1]) >= 0 && pct(p[2]) >= 0) {
				id[n++] = (char)(pct(p[1]) << 4 | pct(p[2]));
				p += 2;
			} else {
				id[n++] = *p;
			}
		}
		id[n] = '\0';
		const char *u = strlen(id) == n ? s->opt->cid_url(s->opt->cid_ctx, id) : NULL;
		if (u != NULL)
			put_attr(s, "src", u, strlen(u));
		else
			s->stats->removed++;
		return;
	}
	if (url_has_scheme(v, "http://") || url_has_scheme(v, "https://")) {
		v = url_trim(v);
		if (s->opt->show_images && tpl_url_safe(v, strlen(v)))
			put_attr(s, "src", v, strlen(v));
		else
			s->stats->blocked_images++;
		return;
	}
	s->stats->removed++;            /* data:, javascript:, relative... */
}

static void put_start_tag(struct san *s, const GumboNode *node)
{
	const GumboElement *e = &node->v.element;
	const char *tag = gumbo_normalized_tagname(e->tag);
	buf_putc(s->out, '<');
	buf_puts(s->out, tag);
	for (unsigned i = 0; i < e->attributes.length; i++) {
		const GumboAttribute *a = e->attributes.data[i];
		if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE) {
			s->stats->removed++;
			continue;
		}
		const char *n = a->name, *v = a->value;
		if (e->tag == GUMBO_TAG_A && strcmp(n, "href") == 0) {
			v = url_trim(v);
			if ((url_has_scheme(v, "http://") || url_has_scheme(v, "https://") ||
			     url_has_scheme(v, "mailto:")) && tpl_url_safe(v, strlen(v)))
				put_attr(s, "href", v, strlen(v));
			else
				s->stats->removed++;
		} else if (e->tag == GUMBO_TAG_IMG && strcmp(n, "src") == 0) {
			put_img_src(s, v);
		} else if (strcmp(n, "style") == 0) {
			put_style(s, v);
		} else if (strcmp(n, "type") == 0 &&
			   (e->tag == GUMBO_TAG_OL || e->tag == GUMBO_TAG_UL || e->tag == GUMBO_TAG_LI)) {
			put_attr(s, n, v, strlen(v));
		} else if (strcmp(n, "value") == 0 && e->tag == GUMBO_TAG_LI) {
			put_attr(s, n, v, strlen(v));
		} else if (attr_allowed(n)) {
			put_attr(s, n, v, strlen(v));
		} else {
			s->stats->removed++;
		}
	}
	if (e->tag == GUMBO_TAG_A)
		buf_puts(s->out, " target=\"_blank\" rel=\"noopener noreferrer\"");
	buf_putc(s->out, '>');
}

/* <style> elements are rewritten from their rules, so that what a browser
 * applies is what we checked: each rule's selector and its allowed
 * declarations (css_declarations), @media blocks of such rules, nothing
 * else. Braces are then only ever rule delimiters. */

/* Copies the text of a <style> element without its comments, and without
 * the "<!--" and "-->" that Outlook and many newsletters wrap their rules
 * in (CSS ignores them; kept, their '<' and '>' would drop the element).
 * False if a string holds a line break or a brace (where browsers and we
 * could disagree about where it ends). */
static bool css_uncomment(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		size_t cdo = len - i >= 4 && memcmp(s + i, "<!--", 4) == 0 ? 4
			     : len - i >= 3 && memcmp(s + i, "-->", 3) == 0 ? 3 : 0;
		if (cdo > 0) {
			buf_putc(out, ' ');
			i += cdo - 1;
			continue;
		}
		if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			size_t end = i + 2;
			while (end + 1 < len && !(s[end] == '*' && s[end + 1] == '/'))
				end++;
			buf_putc(out, ' ');
			i = end + 1;       /* an open comment runs to the end */
			continue;
		}
		if (s[i] == '"' || s[i] == '\'') {
			size_t n = strcspn(s + i + 1, s[i] == '"' ? "\"\n\r\f{}" : "'\n\r\f{}");
			if (i + 1 + n >= len || s[i + 1 + n] != s[i])
				return false;
			buf_append(out, s + i, n + 2);
			i += n + 1;
			continue;
		}
		buf_putc(out, s[i]);
	}
	return true;
}

/* The first '{' or ';' from css[i] outside strings and brackets, or len. */
static size_t css_block_start(const char *css, size_t len, size_t i)
{
	for (; i < len && css[i] != '{' && css[i] != ';'; i++) {
		if (css[i] == '(' || css[i] == '[')
			i = css_close(css, len, i);
		else if (css[i] == '"' || css[i] == '\'')
			i = css_string_end(css, len, i);
	}
	return i < len ? i : len;
}

/* Trims white space; true if what is left is made of `chars` (and
 * non-ASCII bytes). */
static bool css_made_of(const char **s, size_t *len, const char *chars)
{
	while (*len > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
	for (size_t i = 0; i < *len; i++) {
		unsigned char c = (unsigned char)(*s)[i];
		if (c < 0x80 && !isalnum(c) && !isspace(c) && strchr(chars, c) == NULL)
			return false;
	}
	return *len > 0;
}

/* Appends the allowed rules of css[0..len) to `out`; at the top level,
 * @media blocks of them too. */
static void css_rules(struct san *s, const char *css, size_t len, bool top, struct buf *out)
{
	size_t i = 0;
	for (;;) {
		while (i < len && isspace((unsigned char)css[i]))
			i++;
		if (i >= len)
			break;
		size_t open = css_block_start(css, len, i);
		size_t close = open < len && css[open] == '{' ? css_close(css, len, open) : open;
		const char *head = css + i, *body = css + open + 1;
		size_t hlen = open - i, blen = close - open - 1, mark = out->len;
		i = close + 1;
		if (open == len || css[open] == ';') {
			s->stats->removed++;     /* at-rules without a block, junk */
			continue;
		}
		if (top && hlen > 6 && strncasecmp(head, "@media", 6) == 0 &&
		    (isspace((unsigned char)head[6]) || head[6] == '(')) {
			head += 6;
			hlen -= 6;
			if (css_made_of(&head, &hlen, "-_,:()./")) {
				buf_puts(out, "@media ");
				buf_append(out, head, hlen);
				buf_putc(out, '{');
				css_rules(s, body, blen, false, out);
				buf_putc(out, '}');
			}
		} else if (css_made_of(&head, &hlen, "-_.#,:*[]=~|^$()+\"'") &&
			   memchr(body, '{', blen) == NULL && memchr(body, '}', blen) == NULL) {
			buf_append(out, head, hlen);
			buf_putc(out, '{');
			css_declarations(s, body, blen, out);
			buf_putc(out, '}');
		}
		if (out->len >= mark + 2 && out->data[out->len - 2] == '{') {
			out->len = mark;        /* nothing kept: no empty rule */
			out->data[mark] = '\0';
		}
		s->stats->removed += out->len == mark;
	}
}

static void put_style_element(struct san *s, const GumboNode *node)
{
	struct buf text, css, rules;
	buf_init(&text, SANITIZE_CSS_MAX + 1);
	buf_init(&css, SANITIZE_CSS_MAX + 1);
	buf_init(&rules, SANITIZE_CSS_MAX * 2);
	const GumboVector *kids = &node->v.element.children;
	for (unsigned i = 0; i < kids->length; i++) {
		const GumboNode *k = kids->data[i];
		if (k->type == GUMBO_NODE_TEXT || k->type == GUMBO_NODE_WHITESPACE)
			buf_puts(&text, k->v.text.text);
	}
	if (!text.failed && text.len > 0 && css_uncomment(text.data, text.len, &css) &&
	    !css.failed && css_ok(css.data, css.len, s->opt->show_images, &s->stats->blocked_images))
		css_rules(s, css.data, css.len, true, &rules);
	if (rules.len > 0 && !rules.failed) {
		buf_puts(s->out, "<style>");
		buf_append(s->out, rules.data, rules.len);
		buf_puts(s->out, "</style>");
	} else {
		s->stats->removed++;
	}
	buf_free(&text);
	buf_free(&css);
	buf_free(&rules);
}

/* ---------------------------------------------------------------- nesting */

/* The output must parse back into the tree we wrote (otherwise what the
 * browser builds is not what we checked: the root of mXSS). Gumbo's tree
 * is already what a parser makes, but dropping and unwrapping elements can
 * bring together elements that the HTML5 tree builder would pull apart
 * again (a <div> in a <p>, an <h1> in an <h1>, an <li> in an <li>, an <a> in
 * an <a>, a cell outside a row, text in a table). Such an element is
 * unwrapped (its content kept) and such text dropped, following the tree
 * builder's "in body" and "in table" rules. */

static bool is_heading(GumboTag t)
{
	return t == GUMBO_TAG_H1 || t == GUMBO_TAG_H2 || t == GUMBO_TAG_H3 || t == GUMBO_TAG_H4 ||
	       t == GUMBO_TAG_H5 || t == GUMBO_TAG_H6;
}

static bool in_list(GumboTag t, const GumboTag *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i] == t)
			return true;
	}
	return false;
}

#define IN(t, ...) in_list((t), (const GumboTag[]){ __VA_ARGS__ }, \
			   sizeof((const GumboTag[]){ __VA_ARGS__ }) / sizeof(GumboTag))

/* Start tags that close an open <p> ("in body"). */
static bool closes_p(GumboTag t)
{
	return is_heading(t) || IN(t, GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,
		GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_CENTER, GUMBO_TAG_DETAILS, GUMBO_TAG_DIR,
		GUMBO_TAG_DIV, GUMBO_TAG_DL, GUMBO_TAG_FIELDSET, GUMBO_TAG_FIGCAPTION,
		GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER, GUMBO_TAG_HEADER, GUMBO_TAG_HGROUP,
		GUMBO_TAG_MAIN, GUMBO_TAG_MENU, GUMBO_TAG_NAV, GUMBO_TAG_OL, GUMBO_TAG_P,
		GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY, GUMBO_TAG_UL, GUMBO_TAG_PRE,
		GUMBO_TAG_LISTING, GUMBO_TAG_TABLE, GUMBO_TAG_HR, GUMBO_TAG_FORM, GUMBO_TAG_DD,
		GUMBO_TAG_DT, GUMBO_TAG_LI);
}

static bool table_context(GumboTag t)
{
	return IN(t, GUMBO_TAG_TABLE, GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT,
		  GUMBO_TAG_TR, GUMBO_TAG_COLGROUP);
}

/* Where a search for an open element stops ("button scope" and markers). */
static bool scope_boundary(GumboTag t)
{
	return IN(t, GUMBO_TAG_TABLE, GUMBO_TAG_TD, GUMBO_TAG_TH, GUMBO_TAG_CAPTION,
		  GUMBO_TAG_HTML, GUMBO_TAG_MARQUEE, GUMBO_TAG_OBJECT, GUMBO_TAG_APPLET,
		  GUMBO_TAG_TEMPLATE, GUMBO_TAG_BUTTON);
}

/* "Special" elements other than address, div and p stop the search for an
 * open li, dd or dt (those we keep are enough). */
static bool stops_list_item(GumboTag t)
{
	return scope_boundary(t) || table_context(t) || is_heading(t) ||
	       IN(t, GUMBO_TAG_OL, GUMBO_TAG_UL, GUMBO_TAG_DL, GUMBO_TAG_BLOCKQUOTE,
		  GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE, GUMBO_TAG_SECTION, GUMBO_TAG_NAV,
		  GUMBO_TAG_HEADER, GUMBO_TAG_FOOTER, GUMBO_TAG_MAIN, GUMBO_TAG_FIGURE,
		  GUMBO_TAG_FIGCAPTION, GUMBO_TAG_DETAILS, GUMBO_TAG_SUMMARY, GUMBO_TAG_CENTER,
		  GUMBO_TAG_PRE, GUMBO_TAG_BODY);
}

/* True if a <p> is open in button scope (where the start tags of closes_p
 * end it). */
static bool p_open(const GumboTag *open, size_t n)
{
	for (size_t i = n; i-- > 0 && !scope_boundary(open[i]);) {
		if (open[i] == GUMBO_TAG_P)
			return true;
	}
	return false;
}

/* May element `x` be written inside the open elements open[0..n)? */
static bool fits(const GumboTag *open, size_t n, GumboTag x)
{
	GumboTag cur = n > 0 ? open[n - 1] : GUMBO_TAG_BODY;
	if (table_context(cur)) {
		switch (cur) {
		case GUMBO_TAG_TABLE:
			return IN(x, GUMBO_TAG_CAPTION, GUMBO_TAG_COLGROUP, GUMBO_TAG_TBODY,
				  GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT);
		case GUMBO_TAG_TR:
			return x == GUMBO_TAG_TD || x == GUMBO_TAG_TH;
		case GUMBO_TAG_COLGROUP:
			return x == GUMBO_TAG_COL;
		default:
			return x == GUMBO_TAG_TR;
		}
	}
	switch (x) {
	case GUMBO_TAG_TD: case GUMBO_TAG_TH: case GUMBO_TAG_TR: case GUMBO_TAG_TBODY:
	case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP:
	case GUMBO_TAG_COL:
		return false;   /* only inside their table parts (handled above) */
	default:
		break;
	}
	if (is_heading(x) && is_heading(cur))
		return false;
	/* an open <p> (in button scope) or <a> is closed by these */
	for (size_t i = n; i-- > 0 && !scope_boundary(open[i]);) {
		if ((closes_p(x) && open[i] == GUMBO_TAG_P) || (x == GUMBO_TAG_A && open[i] == GUMBO_TAG_A))
			return false;
	}
	/* <rp> and <rt> with a <ruby> in scope first end the elements with an
	 * implied end tag (of those we keep: p, li, dd, dt, rp, rt) that are
	 * the current node: an <rp> once in an unwrapped <form> in an <rt>
	 * would leave it */
	if ((x == GUMBO_TAG_RP || x == GUMBO_TAG_RT) &&
	    IN(cur, GUMBO_TAG_P, GUMBO_TAG_LI, GUMBO_TAG_DD, GUMBO_TAG_DT, GUMBO_TAG_RP,
	       GUMBO_TAG_RT)) {
		for (size_t i = n; i-- > 0 && !scope_boundary(open[i]);) {
			if (open[i] == GUMBO_TAG_RUBY)
				return false;
		}
	}
	/* an open <li> (or <dd>/<dt>) is closed by another, up to a list */
	bool li = x == GUMBO_TAG_LI, dx = x == GUMBO_TAG_DD || x == GUMBO_TAG_DT;
	for (size_t i = n; (li || dx) && i-- > 0 && !stops_list_item(open[i]);) {
		if ((li && open[i] == GUMBO_TAG_LI) ||
		    (dx && (open[i] == GUMBO_TAG_DD || open[i] == GUMBO_TAG_DT)))
			return false;
	}
	return true;
}

static bool all_space(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f')
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- walk */

struct frame {
	const GumboNode *node;
	unsigned next;       /* next child to visit */
	bool open;           /* a start tag was written */
};

static int walk(struct san *s, const GumboNode *root, bool styles_only)
{
	size_t cap = 64, depth = 0, nopen = 0, pre_mark = SIZE_MAX;
	GumboTag open_tags[SANITIZE_DEPTH_MAX + 1];
	struct frame *stack = malloc(cap * sizeof(*stack));
	if (stack == NULL)
		return -1;
	stack[depth++] = (struct frame){ .node = root };
	while (depth > 0) {
		struct frame *f = &stack[depth - 1];
		const GumboNode *n = f->node;
		const GumboVector *kids = n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE
					  ? &n->v.element.children : NULL;
		if (kids == NULL || f->next >= kids->length) {
			if (f->open)  {
				buf_puts(s->out, "</");
				buf_puts(s->out, gumbo_normalized_tagname(n->v.element.tag));
				buf_putc(s->out, '>');
				nopen--;
			}
			depth--;
			continue;
		}
		const GumboNode *k = kids->data[f->next++];
		switch (k->type) {
		case GUMBO_NODE_TEXT:
		case GUMBO_NODE_WHITESPACE:
			if (styles_only)
				break;
			/* text directly in a table would be moved out of it */
			if (nopen > 0 && table_context(open_tags[nopen - 1]) &&
			    !all_space(k->v.text.text)) {
				s->stats->removed++;
				break;
			}
			/* the parser drops a newline right after <pre>: when the
			 * first text there starts with one, write one more */
			if (s->out->len == pre_mark && (k->v.text.text[0] == '\n' ||
							 k->v.text.text[0] == '\r'))
				buf_putc(s->out, '\n');
			tpl_escape_html(s->out, k->v.text.text, strlen(k->v.text.text));
			break;
		case GUMBO_NODE_ELEMENT: {
			enum action act = element_action(k);
			bool head = k->v.element.tag == GUMBO_TAG_HEAD;
			if (styles_only) {
				/* first pass: the head's <style> elements only */
				if (act == STYLE)
					put_style_element(s, k);
				else if (head)
					stack[depth++] = (struct frame){ .node = k };
				break;
			}
			if (head)
				break;
			if (act == STYLE) {
				put_style_element(s, k);
				break;
			}
			if (act == DROP) {
				s->stats->removed++;
				break;
			}
			GumboTag tag = k->v.element.tag;
			/* a mail without a doctype is parsed in quirks mode, where a
			 * <table> may be in a <p>; the frame is in standards mode,
			 * where the table ends the <p>: end it (and what is open in
			 * it) here, as the browser would, instead of losing the table */
			for (size_t i = depth; act == KEEP && tag == GUMBO_TAG_TABLE && i-- > 0 &&
			     p_open(open_tags, nopen);) {
				if (!stack[i].open)
					continue;
				buf_puts(s->out, "</");
				buf_puts(s->out, gumbo_normalized_tagname(stack[i].node->v.element.tag));
				buf_putc(s->out, '>');
				stack[i].open = false;
				nopen--;
			}
			bool open = act == KEEP && nopen < SANITIZE_DEPTH_MAX &&
				    fits(open_tags, nopen, tag);
			if (!open && nopen > 0 && table_context(open_tags[nopen - 1])) {
				/* its content would be moved out of the table */
				s->stats->removed++;
				break;
			}
			if (open) {
				put_start_tag(s, k);
				if (tag == GUMBO_TAG_PRE)
					pre_mark = s->out->len;
				if (!is_void(tag))
					open_tags[nopen++] = tag;
			}
			if (open && is_void(k->v.element.tag))
				break;
			if (depth == cap) {
				cap *= 2;
				struct frame *ns = realloc(stack, cap * sizeof(*stack));
				if (ns == NULL) {
					free(stack);
					return -1;
				}
				stack = ns;
			}
			stack[depth++] = (struct frame){ .node = k, .open = open };
			break;
		}
		default:
			/* comments, CDATA, templates, the doctype: never kept */
			break;
		}
		if (s->out->failed)
			break;
	}
	free(stack);
	return s->out->failed ? -1 : 0;
}

/* ---------------------------------------------------------------- parse */

/* gumbo allocates from our arena: the whole tree goes at once (gumbo's own
 * destructor recurses, which a deep tree must not be allowed to do). The
 * allocator also holds the parse to its budget: gumbo cannot handle a
 * failed allocation, so past the budget (or out of memory) we jump out of
 * it; all it made is in the arena, freed as a whole. One per call, on the
 * caller's stack: webmaild parses in several threads at once. */
struct parse {
	struct arena *arena;
	size_t used, max;           /* bytes handed to gumbo, and the cap */
	unsigned calls;             /* allocations, to read the clock now and then */
	struct timespec deadline;   /* of this thread's CPU time */
	int failure;                /* SANITIZE_TOO_COMPLEX or -1, for the jump */
	jmp_buf jump;
};

/* The clock is read every so many allocations (gumbo allocates for every
 * token, so this is every few hundred tags at most). */
#define PARSE_CLOCK_EVERY 256

static bool parse_past_deadline(const struct parse *p)
{
	struct timespec now;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) < 0)
		return false;
	return now.tv_sec > p->deadline.tv_sec ||
	       (now.tv_sec == p->deadline.tv_sec && now.tv_nsec > p->deadline.tv_nsec);
}

static void *parse_alloc(void *ud, size_t size)
{
	struct parse *p = ud;
	const size_t align = sizeof(max_align_t);     /* as the arena rounds */
	size_t charged = size < p->max ? (size + align - 1) / align * align : SIZE_MAX;
	void *r = NULL;
	p->failure = SANITIZE_TOO_COMPLEX;
	if (charged <= p->max - p->used &&
	    (++p->calls % PARSE_CLOCK_EVERY != 0 || !parse_past_deadline(p))) {
		p->failure = -1;
		r = arena_alloc(p->arena, size);
	}
	if (r == NULL)
		longjmp(p->jump, 1);
	p->used += charged;
	return r;
}

static void parse_free(void *ud, void *ptr)
{
	(void)ud;
	(void)ptr;
}

/* CPU time of one call when no shared budget says less. */
#define CALL_CPU_NS ((long long)SANITIZE_CPU_MS * 1000000)

/* Parses `html` within the budget of SANITIZE_MEM_MAX(len) bytes and
 * cpu_ns of CPU time: 0 with the tree in *tree_r (in p->arena, which the
 * caller frees in every case), SANITIZE_TOO_COMPLEX, or -1. */
static int parse(struct parse *p, const char *html, size_t len, long long cpu_ns,
		 GumboOutput **tree_r)
{
	*p = (struct parse){ .arena = arena_new(), .max = SANITIZE_MEM_MAX(len) };
	if (p->arena == NULL || clock_gettime(CLOCK_THREAD_CPUTIME_ID, &p->deadline) < 0)
		return -1;
	p->deadline.tv_sec += (time_t)(cpu_ns / 1000000000);
	p->deadline.tv_nsec += (long)(cpu_ns % 1000000000);
	if (p->deadline.tv_nsec >= 1000000000L) {
		p->deadline.tv_sec++;
		p->deadline.tv_nsec -= 1000000000L;
	}
	GumboOptions go = kGumboDefaultOptions;
	go.allocator = parse_alloc;
	go.deallocator = parse_free;
	go.userdata = p;
	go.max_errors = 0;     /* we do not read the error list: do not build it */
	if (setjmp(p->jump) != 0)
		return p->failure;
	*tree_r = gumbo_parse_with_options(&go, html, len);
	return 0;
}

/* ------------------------------------------------------------ plain text */

static bool text_block(GumboTag t)
{
	static const GumboTag blocks[] = {
		GUMBO_TAG_P, GUMBO_TAG_DIV, GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3, GUMBO_TAG_H4,
		GUMBO_TAG_H5, GUMBO_TAG_H6, GUMBO_TAG_UL, GUMBO_TAG_OL, GUMBO_TAG_LI, GUMBO_TAG_TABLE,
		GUMBO_TAG_TR, GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_PRE, GUMBO_TAG_HR, GUMBO_TAG_SECTION,
		GUMBO_TAG_ARTICLE, GUMBO_TAG_HEADER, GUMBO_TAG_FOOTER, GUMBO_TAG_ADDRESS,
		GUMBO_TAG_DL, GUMBO_TAG_DT, GUMBO_TAG_DD, GUMBO_TAG_CENTER,
	};
	return in_list(t, blocks, sizeof(blocks) / sizeof(blocks[0]));
}

struct plain {
	struct buf *out;
	size_t start;        /* out->len when the text began */
	unsigned newlines;   /* how many line breaks end the output (2 = a blank line) */
	bool space;          /* a space is owed before the next word */
};

/* Ends the line, or the paragraph (want 2), without piling blank lines. */
static void plain_break(struct plain *p, unsigned want)
{
	if (p->out->len == p->start)
		return;
	while (p->newlines < want) {
		buf_putc(p->out, '\n');
		p->newlines++;
	}
	p->space = false;
}

static void plain_text(struct plain *p, const char *t, bool pre)
{
	for (; *t != '\0'; t++) {
		unsigned char ch = (unsigned char)*t;
		if (pre) {
			if (ch == '\r')
				continue;
			buf_putc(p->out, (char)ch);
			p->newlines = ch == '\n' ? p->newlines + 1 : 0;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f') {
			p->space = p->newlines == 0 && p->out->len > p->start;
			continue;
		}
		if (p->space)
			buf_putc(p->out, ' ');
		p->space = false;
		buf_putc(p->out, (char)ch);
		p->newlines = 0;
	}
}

/* The text of an element's subtree, for comparing a link with its URL. */
static bool node_text_is(const GumboNode *n, const char *want)
{
	const GumboVector *kids = &n->v.element.children;
	return kids->length == 1 && ((const GumboNode *)kids->data[0])->type == GUMBO_NODE_TEXT &&
	       strcmp(((const GumboNode *)kids->data[0])->v.text.text, want) == 0;
}

struct text_frame {
	const GumboNode *node;
	unsigned next;
};

int sanitize_html_text(const char *html, size_t len, struct buf *out)
{
	if (len > SANITIZE_INPUT_MAX)
		return -1;
	struct parse parsed;
	GumboOutput *tree;
	size_t cap = 64, depth = 0, pre = 0;
	int r = parse(&parsed, html, len, CALL_CPU_NS, &tree);
	struct text_frame *stack = r == 0 ? malloc(cap * sizeof(*stack)) : NULL;
	if (stack == NULL) {
		arena_free(&parsed.arena);
		return r != 0 ? r : -1;
	}
	struct plain p = { .out = out, .start = out->len };
	stack[depth++] = (struct text_frame){ .node = tree->root };
	while (depth > 0 && !out->failed) {
		struct text_frame *f = &stack[depth - 1];
		const GumboNode *n = f->node;
		const GumboVector *kids = &n->v.element.children;
		if (f->next >= kids->length) {
			GumboTag t = n->v.element.tag;
			if (t == GUMBO_TAG_PRE && pre > 0)
				pre--;
			if (t == GUMBO_TAG_A) {
				const GumboAttribute *href = gumbo_get_attribute(&n->v.element.attributes, "href");
				const char *url = href != NULL ? url_trim(href->value) : NULL;
				if (url != NULL && (url_has_scheme(url, "http") || url_has_scheme(url, "https")) &&
				    !node_text_is(n, url)) {
					plain_text(&p, " <", false);
					plain_text(&p, url, true);
					plain_text(&p, ">", true);
				}
			}
			if (text_block(t))
				plain_break(&p, t == GUMBO_TAG_P || t == GUMBO_TAG_TABLE ||
						    t == GUMBO_TAG_BLOCKQUOTE || t == GUMBO_TAG_PRE ||
						    (t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6) ? 2 : 1);
			depth--;
			continue;
		}
		const GumboNode *k = kids->data[f->next++];
		if (k->type == GUMBO_NODE_TEXT || k->type == GUMBO_NODE_WHITESPACE ||
		    k->type == GUMBO_NODE_CDATA) {
			plain_text(&p, k->v.text.text, pre > 0);
			continue;
		}
		if (k->type != GUMBO_NODE_ELEMENT)
			continue;     /* comments, the doctype, templates */
		GumboTag t = k->v.element.tag;
		if (t == GUMBO_TAG_HEAD || t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE ||
		    t == GUMBO_TAG_NOSCRIPT || t == GUMBO_TAG_TEMPLATE || t == GUMBO_TAG_TITLE)
			continue;
		if (t == GUMBO_TAG_BR) {
			buf_putc(out, '\n');
			p.newlines++;
			p.space = false;
			continue;
		}
		if (text_block(t))
			plain_break(&p, t == GUMBO_TAG_LI || t == GUMBO_TAG_TR || t == GUMBO_TAG_DIV ||
					    t == GUMBO_TAG_DT || t == GUMBO_TAG_DD ? 1 : 2);
		if (t == GUMBO_TAG_LI)
			plain_text(&p, "- ", true);
		if ((t == GUMBO_TAG_TD || t == GUMBO_TAG_TH) && p.newlines == 0 && out->len > p.start)
			p.space = true;
		if (t == GUMBO_TAG_PRE)
			pre++;
		if (depth > SANITIZE_DEPTH_MAX)
			continue;     /* deeper than any real mail: left out */
		if (depth == cap) {
			cap *= 2;
			struct text_frame *ns = realloc(stack, cap * sizeof(*stack));
			if (ns == NULL) {
				out->failed = true;
				break;
			}
			stack = ns;
		}
		stack[depth++] = (struct text_frame){ .node = k };
	}
	/* no trailing blank lines */
	while (out->len > p.start && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	free(stack);
	arena_free(&parsed.arena);
	return out->failed ? -1 : 0;
}

int sanitize_html(const char *html, size_t len, const struct sanitize_options *options,
		  struct buf *out, struct sanitize_stats *stats)
{
	struct sanitize_budget *budget = options->budget;
	long long cpu_ns = CALL_CPU_NS;
	struct timespec t0 = { 0 }, t1;
	if (len > SANITIZE_INPUT_MAX)
		return -1;
	if (budget != NULL) {
		if (budget->cpu_ns_left <= 0)
			return SANITIZE_TOO_COMPLEX;
		if (budget->cpu_ns_left < cpu_ns)
			cpu_ns = budget->cpu_ns_left;
		if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0) < 0)
			return -1;
	}
	struct parse parsed;
	GumboOutput *tree;
	int r = parse(&parsed, html, len, cpu_ns, &tree);
	struct san s = { .opt = options, .stats = stats, .out = out };
	/* document > html > (head, body): head's <style>s first, then the body */
	if (r == 0)
		r = walk(&s, tree->root, true);
	if (r == 0)
		r = walk(&s, tree->root, false);
	arena_free(&parsed.arena);
	/* what this call used, the parse that gave up included */
	if (budget != NULL && clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1) == 0)
		budget->cpu_ns_left -= (long long)(t1.tv_sec - t0.tv_sec) * 1000000000 +
				       (t1.tv_nsec - t0.tv_nsec);
	return r;
}
