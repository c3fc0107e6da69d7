/* Unit tests of the template engine (cgi/template.c): escaping in each
 * context, the compile-time context checks, blocks, loops, includes,
 * layouts and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template.h"

static char dir[] = "/tmp/pbtplXXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s.html", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Renders `text` (as template "t") with `data`; returns the output (static). */
static const char *render(const char *text, struct tpl_obj *data, int *ret_r)
{
	static struct buf out;
	static char err[512];
	struct tpl_set *set;
	const char *dirs[] = { dir };
	put("t", text);
	assert_int_equal(tpl_set_new(dirs, 1, false, &set), 0);
	buf_free(&out);
	buf_init(&out, 0);
	err[0] = '\0';
	*ret_r = tpl_render(set, "t", data, &out, err, sizeof(err));
	tpl_set_free(&set);
	return *ret_r == 0 ? (out.data != NULL ? out.data : "") : err;
}

static void expect(const char *text, struct tpl_obj *data, const char *want)
{
	int r;
	const char *got = render(text, data, &r);
	if (r != 0)
		fail_msg("render failed: %s", got);
	assert_string_equal(got, want);
}

static void expect_error(const char *text, const char *needle)
{
	char err[512];
	int r = tpl_check(text, strlen(text), err, sizeof(err));
	if (r == 0)
		fail_msg("no compile error for: %s", text);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static struct arena *arena;

static struct tpl_obj *obj(void)
{
	return tpl_obj_new(arena);
}

static void test_html_text(void **state)
{
	(void)state;
	struct tpl_obj *o = obj();
	tpl_str(o, "v", "<script>alert('x') & \"y\"</script>");
	expect("<p>{{v}}</p>", o,
	       "<p>&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;</p>");
	tpl_str(o, "t", "</title><script>");
	expect("<title>{{t}}</title>", o, "<title>&lt;/title&gt;&lt;script&gt;</title>");
	tpl_int(o, "n", -42);
	expect("{{n}}", o, "-42");
	expect("[{{missing}}]", o, "[]");
}

static void test_attribute(void **state)
{
	(void)state;
	struct tpl_obj *o = obj();
	tpl_str(o, "v", "\" onmouseover=\"alert(1)' x='");
	expect("<a title=\"{{v}}\">", o,
	       "<a title=\"&quot; onmouseover=&quot;alert(1)&#39; x=&#39;\">");
	expect("<a title='{{v}}'>", o,
	       "<a title='&quot; onmouseover=&quot;alert(1)&#39; x=&#39;'>");
	tpl_bool(o, "c", true);
	expect("<input type=\"checkbox\"{{#if c}} checked{{/if}}>", o,
	       "<input type=\"checkbox\" checked>");
}

static void test_url_start(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "javascript:alert(1)", "#blocked" },
		{ "JaVaScRiPt:alert(1)", "#blocked" },
		{ " \x01java\tscript:alert(1)", "#blocked" },
		{ "java\nscript:alert(1)", "#blocked" },
		{ "data:text/html,<script>alert(1)</script>", "#blocked" },
		{ "vbscript:msgbox", "#blocked" },
		{ "https://example.org/?a=1&b=\"2\"", "https://example.org/?a=1&amp;b=&quot;2&quot;" },
		{ "http://x", "http://x" },
		{ "mailto:bob@example.com", "mailto:bob@example.com" },
		{ "/webmail/list?mb=1", "/webmail/list?mb=1" },
		{ "list:x/y", "#blocked" },
		{ "relative/path:x", "relative/path:x" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tpl_obj *o = obj();
		char want[512];
		tpl_str(o, "u", cases[i].in);
		snprintf(want, sizeof(want), "<a href=\"%s\">", cases[i].out);
		expect("<a href=\"{{u}}\">", o, want);
		snprintf(want, sizeof(want), "<img src=\"%s\">", cases[i].out);
		expect("<img src=\"{{u}}\">", o, want);
	}
}

static void test_url_part(void **state)
{
	(void)state;
	struct tpl_obj *o = obj();
	tpl_str(o, "base", "/webmail");
	tpl_str(o, "q", "a b&c=d/\xc3\xa9\"<");
	tpl_str(o, "j", "javascript:alert(1)");
	expect("<a href=\"{{base}}/list?q={{q}}&amp;x={{j}}\">", o,
	       "<a href=\"/webmail/list?q=a%20b%26c%3Dd%2F%C3%A9%22%3C&amp;x=javascript%3Aalert%281%29\">");
	expect("<form action=\"{{base}}/x\">", o, "<form action=\"/webmail/x\">");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	struct tpl_obj *o = obj();
	tpl_str(o, "v", "a\xff" "b\xc3\x28" "c\xed\xa0\x80" "d\xc3\xa9");
	expect("{{v}}", o, "a\xef\xbf\xbd" "b\xef\xbf\xbd(c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	       "d\xc3\xa9");
}

static void test_compile_errors(void **state)
{
	(void)state;
	expect_error("<script>var x = {{v}};</script>", "<script>");
	expect_error("<style>p { color: {{c}} }</style>", "<script>");
	expect_error("<p style=\"color: {{c}}\">", "style");
	expect_error("<p onclick=\"{{c}}\">", "event handler");
	expect_error("<a href={{u}}>", "quoted attribute");
	expect_error("<{{tag}}>", "quoted attribute");
	expect_error("<a {{name}}=\"x\">", "quoted attribute");
	expect_error("<!-- {{v}} -->", "comment");
	expect_error("{{#if x}}open", "not closed");
	expect_error("{{/if}}", "closing tag without");
	expect_error("{{#if x}}{{/each}}", "does not match");
	expect_error("{{else}}", "outside");
	expect_error("{{#each xs}}<a href=\"{{/each}}", "loop body");
	expect_error("<a {{#if x}}href=\"{{/if}}\">", "HTML context");
	expect_error("{{#if x}}<b>{{else}}<a title=\"{{/if}}\">", "different HTML contexts");
	expect_error("{{v", "without");
	expect_error("{{bad name}}", "bad slot name");
	expect_error("{{#for x}}{{/for}}", "unknown block");
	expect_error("<a href=\"x\">{{> ../etc}}</a>", "bad template name");
	expect_error("<a title=\"{{> inc}}\">", "include must stand in text");
	expect_error("<p title=\"x", "ends inside a tag");
}

static void test_blocks_and_loops(void **state)
{
	(void)state;
	struct tpl_obj *o = obj();
	tpl_bool(o, "yes", true);
	tpl_bool(o, "no", false);
	tpl_str(o, "empty", "");
	tpl_list(o, "none");
	for (int i = 0; i < 3; i++) {
		struct tpl_obj *it = tpl_item(o, "xs");
		tpl_int(it, "v", i * 10);
		struct tpl_obj *sub = tpl_obj(it, "sub");
		tpl_str(sub, "name", i == 1 ? "<one>" : "x");
	}
	tpl_str(o, "outer", "O");
	expect("{{#if yes}}A{{else}}B{{/if}}{{#if no}}C{{else}}D{{/if}}{{#unless empty}}E{{/unless}}"
	       "{{#if none}}F{{else}}G{{/if}}{{! a comment }}", o, "ADEG");
	expect("{{#each xs}}[{{@index}}/{{@number}}:{{v}} {{sub.name}} {{outer}}]{{/each}}", o,
	       "[0/1:0 x O][1/2:10 &lt;one&gt; O][2/3:20 x O]");
	expect("{{#each missing}}x{{/each}}-", o, "-");
	expect("{{#each xs}}{{#each xs}}{{v}}{{/each}};{{/each}}", o, "01020;01020;01020;");
}

static void test_include_and_layout(void **state)
{
	(void)state;
	struct tpl_set *set;
	struct buf out;
	char err[512];
	const char *dirs[] = { dir };
	struct tpl_obj *o = obj();
	tpl_str(o, "name", "<Bob>");
	put("inc", "<b>{{name}}</b>");
	put("page", "<p>{{> inc}}</p>");
	put("layout", "<main>{{content}}</main><i>{{name}}</i>");
	put("badlayout", "<a title=\"{{content}}\">x</a>");
	put("loop1", "{{> loop2}}");
	put("loop2", "{{> loop1}}");
	put("broken", "{{#if x}}");
	for (int cache = 0; cache < 2; cache++) {
		assert_int_equal(tpl_set_new(dirs, 1, cache, &set), 0);
		buf_init(&out, 0);
		assert_int_equal(tpl_render_page(set, "page", "layout", o, &out, err, sizeof(err)), 0);
		assert_string_equal(out.data, "<main><p><b>&lt;Bob&gt;</b></p></main><i>&lt;Bob&gt;</i>");
		buf_reset(&out);
		assert_int_equal(tpl_render_page(set, "page", "badlayout", o, &out, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "HTML value in an attribute"));
		assert_int_equal(tpl_render(set, "nosuch", o, &out, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "not found"));
		assert_int_equal(tpl_render(set, "loop1", o, &out, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "nested too deeply"));
		assert_int_equal(tpl_render(set, "broken", o, &out, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "broken.html:1"));
		assert_int_equal(tpl_render(set, "../x", o, &out, err, sizeof(err)), -1);
		/* a cached set gives the same answer twice */
		buf_reset(&out);
		assert_int_equal(tpl_render(set, "page", o, &out, err, sizeof(err)), 0);
		assert_string_equal(out.data, "<p><b>&lt;Bob&gt;</b></p>");
		buf_free(&out);
		tpl_set_free(&set);
	}
}

static void test_override_order(void **state)
{
	(void)state;
	char site[64];
	snprintf(site, sizeof(site), "%s/site", dir);
	mkdir(site, 0700);
	char path[128];
	snprintf(path, sizeof(path), "%s/x.html", site);
	FILE *f = fopen(path, "w");
	fputs("site", f);
	fclose(f);
	put("x", "default");
	put("y", "only default");
	struct tpl_set *set;
	const char *dirs[] = { site, dir };
	struct buf out;
	char err[256];
	assert_int_equal(tpl_set_new(dirs, 2, false, &set), 0);
	buf_init(&out, 0);
	assert_int_equal(tpl_render(set, "x", obj(), &out, err, sizeof(err)), 0);
	assert_string_equal(out.data, "site");
	buf_reset(&out);
	assert_int_equal(tpl_render(set, "y", obj(), &out, err, sizeof(err)), 0);
	assert_string_equal(out.data, "only default");
	buf_free(&out);
	tpl_set_free(&set);
	unlink(path);
	rmdir(site);
}

static void test_shipped_templates(void **state)
{
	(void)state;
	/* every template we ship compiles */
	static const char *const names[] = { "layout", "login", "list", "msg", "msgbody", "print",
					     "frame", "error", "settings", "folders" };
	char path[1024], err[512];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/templates/%s.html", TOP_SRCDIR, names[i]);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		static char text[TPL_FILE_MAX];
		size_t n = fread(text, 1, sizeof(text), f);
		fclose(f);
		if (tpl_check(text, n, err, sizeof(err)) != 0)
			fail_msg("%s: %s", names[i], err);
	}
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	arena = arena_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	arena_free(&arena);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_text),
		cmocka_unit_test(test_attribute),
		cmocka_unit_test(test_url_start),
		cmocka_unit_test(test_url_part),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_blocks_and_loops),
		cmocka_unit_test(test_include_and_layout),
		cmocka_unit_test(test_override_order),
		cmocka_unit_test(test_shipped_templates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
