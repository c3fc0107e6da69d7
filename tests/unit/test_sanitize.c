/* Unit tests of the HTML sanitizer (cgi/sanitize.c): expected output for
 * simple cases, and the XSS corpus (tests/unit/xss_corpus.html) checked by
 * parsing the output again with the same HTML5 parser: only allow-listed
 * elements and attributes, only safe URLs, no script-bearing CSS, and the
 * output is a fixed point (sanitising it again changes nothing: no
 * mutation on re-parse). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sanitize.h"

static const char *cid_cb(void *ctx, const char *cid)
{
	(void)ctx;
	return strcmp(cid, "logo@x") == 0 ? "/webmail/part?mb=1&uid=2&part=3&inline=1" : NULL;
}

static char *clean(const char *html, bool images, struct sanitize_stats *stats_r)
{
	struct buf out;
	struct sanitize_stats stats = { 0 };
	struct sanitize_options opt = { .show_images = images, .cid_url = cid_cb };
	buf_init(&out, 0);
	assert_int_equal(sanitize_html(html, strlen(html), &opt, &out, &stats), 0);
	if (stats_r != NULL)
		*stats_r = stats;
	char *s = buf_steal(&out, NULL);
	assert_non_null(s);
	return s;
}

static void expect(const char *html, const char *want)
{
	char *got = clean(html, false, NULL);
	if (strcmp(got, want) != 0)
		fail_msg("sanitize(%s)\n  got  %s\n  want %s", html, got, want);
	free(got);
}

static void test_basics(void **state)
{
	(void)state;
	expect("<p>Hello <b>world</b></p>", "<p>Hello <b>world</b></p>");
	expect("plain &amp; text &lt;x&gt;", "plain &amp; text &lt;x&gt;");
	expect("<p>unclosed <i>italic", "<p>unclosed <i>italic</i></p>");
	expect("<script>alert(1)</script>after", "after");
	expect("<img src=x onerror=alert(1)>", "<img>");
	expect("<a href=\"javascript:alert(1)\">x</a>", "<a target=\"_blank\" rel=\"noopener noreferrer\">x</a>");
	expect("<a href=\"https://e.org/?a=1&b=2\" onclick=\"x\">x</a>",
	       "<a href=\"https://e.org/?a=1&amp;b=2\" target=\"_blank\" rel=\"noopener noreferrer\">x</a>");
	expect("<a href='mailto:a@b'>m</a>",
	       "<a href=\"mailto:a@b\" target=\"_blank\" rel=\"noopener noreferrer\">m</a>");
	expect("<svg><script>alert(1)</script></svg>ok", "ok");
	expect("<math><mi>x</mi></math>ok", "ok");
	expect("<!-- comment --><p>x</p>", "<p>x</p>");
	expect("<form action=\"https://e\"><input name=p><p>t</p></form>", "<p>t</p>");
	expect("<table><tr><td colspan=2 onclick=x>c</td></tr></table>",
	       "<table><tbody><tr><td colspan=\"2\">c</td></tr></tbody></table>");
	expect("<p title='\"&lt;x&gt;'>t</p>", "<p title=\"&quot;&lt;x&gt;\">t</p>");
	expect("<unknown-el>text</unknown-el>", "text");
	expect("<base href=\"https://evil/\"><meta http-equiv=refresh content=0>x", "x");
	expect("<iframe src=\"https://e\"></iframe><object></object>x", "x");
	expect("<div style=\"color: red; width: expression(alert(1)); background: url(javascript:x)\">s</div>",
	       "<div style=\"color: red\">s</div>");
	/* position (overlays) and top are not on the property list */
	expect("<div style=\"position:fixed; top:0\">o</div>", "<div>o</div>");
	/* without a doctype (quirks mode) a <table> may be in a <p>; in the
	 * frame it ends the <p>: so it does in the output, and stays a table */
	expect("<p>Intro<table><tr><td>A</td><td>B</td></tr></table>after</p>",
	       "<p>Intro</p><table><tbody><tr><td>A</td><td>B</td></tr></tbody></table>after");
	expect("<p><b>a<table><tr><td>1</td></tr></table>b</b></p><p>c</p>",
	       "<p><b>a</b></p><table><tbody><tr><td>1</td></tr></tbody></table>b<p>c</p>");
}

static void test_images(void **state)
{
	(void)state;
	struct sanitize_stats st;
	char *s = clean("<img src=\"https://t.example/p.png\" alt=a>", false, &st);
	assert_string_equal(s, "<img alt=\"a\">");
	assert_int_equal(st.blocked_images, 1);
	free(s);
	s = clean("<img src=\"https://t.example/p.png\" alt=a>", true, &st);
	assert_string_equal(s, "<img src=\"https://t.example/p.png\" alt=\"a\">");
	assert_int_equal(st.blocked_images, 0);
	free(s);
	s = clean("<img src=\"cid:logo@x\"><img src=\"CID:logo%40x\"><img src=\"cid:other\">", false, &st);
	assert_string_equal(s, "<img src=\"/webmail/part?mb=1&amp;uid=2&amp;part=3&amp;inline=1\">"
			       "<img src=\"/webmail/part?mb=1&amp;uid=2&amp;part=3&amp;inline=1\"><img>");
	free(s);
	s = clean("<img src=\"data:image/png;base64,AAAA\"><img src=\"//t.example/x\">", true, &st);
	assert_string_equal(s, "<img><img>");
	free(s);
	s = clean("<style>p { background: url(https://t/x.png) }</style><p>x</p>", false, &st);
	assert_string_equal(s, "<p>x</p>");
	assert_int_equal(st.blocked_images, 1);
	free(s);
	s = clean("<style>p { background: url(https://t/x.png) }</style><p>x</p>", true, &st);
	assert_string_equal(s, "<style>p{background: url(https://t/x.png) }</style><p>x</p>");
	free(s);
	s = clean("<html><head><style>h1{color:red}</style><title>t</title></head><body><h1>x</h1></body></html>",
		  false, &st);
	assert_string_equal(s, "<style>h1{color:red}</style><h1>x</h1>");
	free(s);
}

/* ---------------------------------------------------------------- corpus */

static const char *const allowed_tags[] = {
	"a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote", "br",
	"caption", "center", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn",
	"div", "dl", "dt", "em", "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4",
	"h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "main", "mark", "nav", "ol",
	"p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strike",
	"strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
	"tr", "tt", "u", "ul", "var", "wbr", "style", "html", "head", "body",
};

static int violations;

static void bad(const char *what, const char *detail)
{
	fprintf(stderr, "violation: %s: %s\n", what, detail);
	violations++;
}

static bool url_ok(const char *v)
{
	return strncasecmp(v, "https://", 8) == 0 || strncasecmp(v, "http://", 7) == 0 ||
	       strncasecmp(v, "mailto:", 7) == 0 || strncmp(v, "/webmail/part?", 14) == 0;
}

static void inspect(const GumboNode *root, bool images)
{
	const GumboNode *stack[4096];
	size_t n = 0;
	stack[n++] = root;
	while (n > 0) {
		const GumboNode *node = stack[--n];
		if (node->type == GUMBO_NODE_COMMENT)
			bad("comment", node->v.text.text);
		if (node->type != GUMBO_NODE_ELEMENT)
			continue;
		const GumboElement *e = &node->v.element;
		const char *tag = gumbo_normalized_tagname(e->tag);
		bool ok = e->tag_namespace == GUMBO_NAMESPACE_HTML;
		size_t k;
		for (k = 0; ok && k < sizeof(allowed_tags) / sizeof(allowed_tags[0]); k++) {
			if (strcmp(tag, allowed_tags[k]) == 0)
				break;
		}
		if (!ok || k == sizeof(allowed_tags) / sizeof(allowed_tags[0]))
			bad("element", tag[0] != '\0' ? tag : "(unknown)");
		for (unsigned i = 0; i < e->attributes.length; i++) {
			const GumboAttribute *a = e->attributes.data[i];
			if (strncasecmp(a->name, "on", 2) == 0 || strcasecmp(a->name, "srcdoc") == 0 ||
			    strcasecmp(a->name, "srcset") == 0 || strcasecmp(a->name, "formaction") == 0 ||
			    strcasecmp(a->name, "background") == 0 || strcasecmp(a->name, "action") == 0)
				bad("attribute", a->name);
			if ((strcmp(a->name, "href") == 0 || strcmp(a->name, "src") == 0) &&
			    !url_ok(a->value))
				bad("url", a->value);
			if (strcmp(a->name, "src") == 0 && !images && strncmp(a->value, "/webmail/", 9) != 0)
				bad("remote image", a->value);
			if (strcmp(a->name, "style") == 0 &&
			    (strcasestr(a->value, "expression") || strcasestr(a->value, "javascript") ||
			     strchr(a->value, '\\') || (!images && strcasestr(a->value, "url(")) ||
			     strcasestr(a->value, "position")))
				bad("style", a->value);
		}
		if (e->tag == GUMBO_TAG_STYLE) {
			for (unsigned i = 0; i < e->children.length; i++) {
				const GumboNode *t = e->children.data[i];
				if (t->type == GUMBO_NODE_TEXT &&
				    (strcasestr(t->v.text.text, "@import") || strcasestr(t->v.text.text, "expression") ||
				     strcasestr(t->v.text.text, "javascript") || strchr(t->v.text.text, '\\') ||
				     strcasestr(t->v.text.text, "position") || strstr(t->v.text.text, "/*") ||
				     (!images && strcasestr(t->v.text.text, "url("))))
					bad("style element", t->v.text.text);
			}
		}
		for (unsigned i = e->children.length; i-- > 0 && n < 4096;)
			stack[n++] = e->children.data[i];
	}
}

static char *read_corpus(size_t *len_r)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/unit/xss_corpus.html", TOP_SRCDIR);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char data[1 << 20];
	size_t n = fread(data, 1, sizeof(data) - 1, f);
	fclose(f);
	data[n] = '\0';
	*len_r = n;
	return data;
}

static void check_vector(const char *vector, bool images)
{
	char *out = clean(vector, images, NULL);
	GumboOutput *tree = gumbo_parse(out);
	int before = violations;
	inspect(tree->root, images);
	gumbo_destroy_output(&kGumboDefaultOptions, tree);
	/* a fixed point: what the browser parses is what we checked */
	char *again = clean(out, images, NULL);
	if (strcmp(out, again) != 0) {
		fprintf(stderr, "not a fixed point:\n  %s\n  %s\n", out, again);
		violations++;
	}
	if (violations != before)
		fprintf(stderr, "  from vector: %s\n  output: %s\n", vector, out);
	free(again);
	free(out);
}

static void test_corpus(void **state)
{
	(void)state;
	size_t len;
	char *data = read_corpus(&len);
	violations = 0;
	/* the whole file as one mail, then each line alone */
	check_vector(data, false);
	check_vector(data, true);
	char *line = data;
	unsigned count = 0;
	while (line != NULL && *line != '\0') {
		char *nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (*line != '\0') {
			check_vector(line, false);
			check_vector(line, true);
			count++;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	assert_true(count >= 100);
	assert_int_equal(violations, 0);
}

static void test_limits(void **state)
{
	(void)state;
	/* deep nesting: no recursion anywhere, depth capped, text kept */
	size_t depth = 5000;
	struct buf in;
	buf_init(&in, 0);
	for (size_t i = 0; i < depth; i++)
		buf_puts(&in, "<div>");
	buf_puts(&in, "deep text");
	char *out = clean(in.data, false, NULL);
	assert_non_null(strstr(out, "deep text"));
	size_t divs = 0;
	for (char *p = out; (p = strstr(p, "<div>")) != NULL; p++)
		divs++;
	assert_true(divs <= SANITIZE_DEPTH_MAX);
	free(out);
	buf_free(&in);
	/* too large: refused */
	char *big = malloc(SANITIZE_INPUT_MAX + 2);
	memset(big, 'a', SANITIZE_INPUT_MAX + 1);
	big[SANITIZE_INPUT_MAX + 1] = '\0';
	struct buf o;
	struct sanitize_stats st = { 0 };
	struct sanitize_options opt = { 0 };
	buf_init(&o, 0);
	assert_int_equal(sanitize_html(big, SANITIZE_INPUT_MAX + 1, &opt, &o, &st), -1);
	buf_free(&o);
	free(big);
	/* invalid UTF-8 and NULs come out as valid UTF-8 */
	out = clean("a\xff\xfe<b>\xc3</b>", false, NULL);
	assert_string_equal(out, "a\xef\xbf\xbd\xef\xbf\xbd<b>\xef\xbf\xbd</b>");
	free(out);
}

/* ---------------------------------------------------------------- budget */

/* 300 open formatting elements, rebuilt by the parser in each of 6,000
 * paragraphs: 26 KB of HTML, a tree of more than 512 MB. */
static char *formatting_bomb(void)
{
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "<p>");
	for (int i = 0; i < 300; i++)
		buf_printf(&b, "<b a=%d>", i);
	buf_puts(&b, "x");
	for (int i = 0; i < 6000; i++)
		buf_puts(&b, "<p>x");
	return buf_steal(&b, NULL);
}

/* 100,000 nested <div>s: the parse time grows with the square of the
 * depth (about 35 s without a budget). */
static char *deep_divs(void)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 100000; i++)
		buf_puts(&b, "<div>");
	return buf_steal(&b, NULL);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Both entry points refuse `html` as too complex, in bounded time,
 * appending nothing. */
static void *expect_too_complex(void *arg)
{
	const char *html = arg;
	struct buf out;
	struct sanitize_stats st = { 0 };
	struct sanitize_options opt = { 0 };
	buf_init(&out, 0);
	buf_puts(&out, "before");
	double t0 = now_s();
	assert_int_equal(sanitize_html(html, strlen(html), &opt, &out, &st), SANITIZE_TOO_COMPLEX);
	assert_int_equal(sanitize_html_text(html, strlen(html), &out), SANITIZE_TOO_COMPLEX);
	assert_true(now_s() - t0 < 10.0);
	assert_string_equal(out.data, "before");
	buf_free(&out);
	return NULL;
}

static void *expect_fine(void *arg)
{
	const char *html = arg;
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(sanitize_html_text(html, strlen(html), &out), 0);
	assert_string_equal(out.data, "fine");
	buf_free(&out);
	return NULL;
}

static void test_budget(void **state)
{
	(void)state;
	char *bomb = formatting_bomb(), *deep = deep_divs();
	expect_too_complex(bomb);
	expect_too_complex(deep);
	/* the budget is per call: threads at it at once, one with a fine mail */
	pthread_t th[3];
	assert_int_equal(pthread_create(&th[0], NULL, expect_too_complex, bomb), 0);
	assert_int_equal(pthread_create(&th[1], NULL, expect_too_complex, deep), 0);
	assert_int_equal(pthread_create(&th[2], NULL, expect_fine, "<p>fine"), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	/* a budget shared by calls (the parts of one message page): the deep
	 * parse takes what is left of it, then a fine part finds it spent and
	 * is refused at once, appending nothing */
	struct sanitize_budget budget = { (long long)SANITIZE_CPU_MS * 1000000 / 4 };
	struct sanitize_options opt = { .budget = &budget };
	struct sanitize_stats st = { 0 };
	struct buf shared;
	buf_init(&shared, 0);
	assert_int_equal(sanitize_html(deep, strlen(deep), &opt, &shared, &st),
			 SANITIZE_TOO_COMPLEX);
	assert_true(budget.cpu_ns_left <= 0);
	assert_int_equal(sanitize_html("<p>fine", 7, &opt, &shared, &st), SANITIZE_TOO_COMPLEX);
	assert_int_equal(shared.len, 0);
	budget.cpu_ns_left = (long long)SANITIZE_CPU_MS * 1000000;
	assert_int_equal(sanitize_html("<p>fine", 7, &opt, &shared, &st), 0);
	assert_string_equal(shared.data, "<p>fine</p>");
	assert_true(budget.cpu_ns_left > 0 &&
		    budget.cpu_ns_left < (long long)SANITIZE_CPU_MS * 1000000);
	buf_free(&shared);
	free(bomb);
	free(deep);
	/* a table-heavy newsletter just below SANITIZE_INPUT_MAX is within it */
	static const char row[] = "<tr><td style=\"padding:4px;color:#333\" class=c>"
				  "<a href=\"https://example.com/x?y=1\">Item</a> some text &amp; more"
				  "</td><td><img src=\"https://img.example.com/a.png\" width=10></td></tr>\n";
	struct buf in;
	buf_init(&in, 0);
	buf_puts(&in, "<table>");
	while (in.len + sizeof(row) < SANITIZE_INPUT_MAX)
		buf_puts(&in, row);
	char *out = clean(in.data, false, NULL);
	assert_true(strlen(out) > in.len / 2);
	free(out);
	buf_free(&in);
}

/* <style> rules keep only what a style attribute keeps. */
static void test_style_rules(void **state)
{
	(void)state;
	expect("<style>div{position:fixed;top:0;left:0;width:100%;height:100%;z-index:9}</style>",
	       "<style>div{width:100%;height:100%}</style>");
	expect("<style>/* hi */ h1, .a td { color: red; position: absolute }\n"
	       "@media only screen and (max-width:600px) { .x { width:100% !important; top:0 }"
	       " .y { position:sticky } }\n"
	       "@font-face { font-family: x } @keyframes k { from { color: red } }"
	       " @supports (display:grid) { p { color: red } } p { } </style>",
	       "<style>h1, .a td{color: red}"
	       "@media only screen and (max-width:600px){.x{width:100% !important}}</style>");
	/* nested rules, braces where a browser reads them otherwise: dropped */
	expect("<style>a{color:red;b{position:fixed}}c{color:blue}</style>",
	       "<style>c{color:blue}</style>");
	expect("<style>a{color:f(})}b{color:red}</style>", "<style>b{color:red}</style>");
	expect("<style>a{color:red;width:x[y</style>", "<style>a{color:red}</style>");
	expect("<style>p{font-family:'x;}';position:fixed}</style>x", "x");
	/* Outlook's (and many newsletters') rules wrapped in <!-- -->: kept */
	expect("<style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:Calibri;}\n"
	       "p.MsoNormal, li.MsoNormal\n\t{margin:0cm;\n\tfont-size:11.0pt;}\n--></style>"
	       "<p class=MsoNormal>x</p>",
	       "<style>p.MsoNormal, li.MsoNormal{margin:0cm;font-size:11.0pt}</style>"
	       "<p class=\"MsoNormal\">x</p>");
	/* ... but not in a string, where they are text */
	expect("<style>p{font-family:\"<!--\"}</style>x", "x");
	/* with images, url() must be one plain token */
	char *s = clean("<style>p{background:url(http://t/a(;x);position:fixed}</style>x", true, NULL);
	assert_string_equal(s, "x");
	free(s);
	/* a style attribute: a quote in a comment or a line break in a string
	 * does not hide a declaration from the filter */
	expect("<div style=\"color:red/*&quot;*/;position:fixed;/*&quot;*/\">a</div>", "<div>a</div>");
	expect("<div style='font-family:\"x\n;position:fixed;top:0\"'>a</div>", "<div>a</div>");
}

/* The HTML of a message as the text a reply quotes. */
static void text_is(const char *html, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(sanitize_html_text(html, strlen(html), &b), 0);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	buf_free(&b);
}

static void test_plain_text(void **state)
{
	(void)state;
	text_is("<p>Hello  <b>Bob</b>,</p><p>the plan\nis ready.</p>",
		"Hello Bob,\n\nthe plan is ready.");
	text_is("<html><head><title>T</title><style>p{}</style></head>"
		"<body>a<br>b<script>alert(1)</script><!-- c --></body></html>", "a\nb");
	text_is("<ul><li>one</li><li>two</li></ul>after", "- one\n- two\nafter");
	text_is("<pre>  keep\n   this</pre>x", "  keep\n   this\n\nx");
	text_is("<a href=\"https://example.org/x\">the plan</a> and "
		"<a href=\"https://example.org/y\">https://example.org/y</a> "
		"<a href=\"javascript:alert(1)\">js</a>",
		"the plan <https://example.org/x> and https://example.org/y js");
	text_is("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc");
	text_is("caf\xc3\xa9 &amp; &lt;tag&gt;", "caf\xc3\xa9 & <tag>");
	text_is("", "");
	/* depth beyond the limit: what is deeper is left out, nothing breaks */
	struct buf deep;
	buf_init(&deep, 0);
	for (int i = 0; i < 5000; i++)
		buf_puts(&deep, "<div>");
	buf_puts(&deep, "bottom");
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(sanitize_html_text(deep.data, deep.len, &b), 0);
	buf_free(&b);
	buf_free(&deep);
	/* too large: refused */
	assert_int_equal(sanitize_html_text("x", SANITIZE_INPUT_MAX + 1, &b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basics),
		cmocka_unit_test(test_images),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_style_rules),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_plain_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
