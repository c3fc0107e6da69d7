/* Unit tests of the plain text view (cgi/textview.c): links found in text
 * (where they end), quote levels and format=flowed, read back through a
 * template as the message page shows them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "template.h"
#include "textview.h"

static char dir[] = "/tmp/pbtvXXXXXX";

/* Blocks as [depth|text], links as <a href="...">text</a>. */
static const char view[] = "{{#each p}}[{{depth}}|{{#each segments}}{{#if href}}<a href=\"{{href}}\">"
			   "{{text}}</a>{{else}}{{text}}{{/if}}{{/each}}]{{/each}}";

static void expect_view(const char *text, bool flowed, bool delsp, const char *want)
{
	struct arena *a = arena_new();
	struct tpl_obj *o = tpl_obj_new(a);
	struct tpl_set *set;
	const char *dirs[] = { dir };
	struct buf out;
	char err[256];
	unsigned budget = TEXTVIEW_ITEMS_MAX;
	textview_fill(o, "p", text, strlen(text), flowed, delsp, &budget);
	assert_int_equal(tpl_set_new(dirs, 1, false, &set), 0);
	buf_init(&out, 0);
	if (tpl_render(set, "t", o, &out, err, sizeof(err)) < 0)
		fail_msg("render: %s", err);
	if (strcmp(out.data, want) != 0)
		fail_msg("textview(%s)\n  got  %s\n  want %s", text, out.data, want);
	buf_free(&out);
	tpl_set_free(&set);
	arena_free(&a);
}

static void test_links(void **state)
{
	(void)state;
	expect_view("See https://example.com/a. Or www.example.org, (https://e.org/x) and "
		    "https://en.wikipedia.org/wiki/Foo_(bar)!", false, false,
		    "[0|See <a href=\"https://example.com/a\">https://example.com/a</a>. Or "
		    "<a href=\"http://www.example.org\">www.example.org</a>, (<a href=\"https://e.org/x\">"
		    "https://e.org/x</a>) and <a href=\"https://en.wikipedia.org/wiki/Foo_(bar)\">"
		    "https://en.wikipedia.org/wiki/Foo_(bar)</a>!]");
	/* a bracket the link did not open is the sentence's */
	expect_view("Click here [https://t.example/c?id=1] or https://e.org/?a[]=1", false, false,
		    "[0|Click here [<a href=\"https://t.example/c?id=1\">https://t.example/c?id=1</a>] or "
		    "<a href=\"https://e.org/?a[]=1\">https://e.org/?a[]=1</a>]");
	/* no-break spaces (text/plain made from HTML), typographic quotes and
	 * CJK punctuation end a link; other non-ASCII text belongs to it */
	expect_view("Lien\xc2\xa0: https://exemple.fr/page\xc2\xa0\xc2\xbb ici", false, false,
		    "[0|Lien\xc2\xa0: <a href=\"https://exemple.fr/page\">https://exemple.fr/page</a>"
		    "\xc2\xa0\xc2\xbb ici]");
	expect_view("\xe2\x80\x9chttps://e.org/b\xe2\x80\x9d \xe8\xa9\xb3\xe7\xb4\xb0\xe3\x81\xaf"
		    "https://e.jp/\xe3\x80\x82 https://b\xc3\xbc" "cher.de/\xc3\xa9t\xc3\xa9", false, false,
		    "[0|\xe2\x80\x9c<a href=\"https://e.org/b\">https://e.org/b</a>\xe2\x80\x9d "
		    "\xe8\xa9\xb3\xe7\xb4\xb0\xe3\x81\xaf<a href=\"https://e.jp/\">https://e.jp/</a>"
		    "\xe3\x80\x82 <a href=\"https://b\xc3\xbc" "cher.de/\xc3\xa9t\xc3\xa9\">https://b\xc3\xbc"
		    "cher.de/\xc3\xa9t\xc3\xa9</a>]");
}

static void test_flowed(void **state)
{
	(void)state;
	expect_view("a soft \nline\n> quoted \n> on\n-- \nsig", true, false,
		    "[0|a soft line\n][1|quoted on\n][0|-- \nsig]");
	expect_view("no space\xe3\x81\xaa \nhere", true, true, "[0|no space\xe3\x81\xaahere]");
}

/* Made-up text that changes the quote level on every line and is full of
 * links: at most TEXTVIEW_ITEMS_MAX blocks and links for the page (parts
 * share it), and all of the text is still there. */
static void test_budget(void **state)
{
	(void)state;
	struct buf text;
	buf_init(&text, 0);
	for (int i = 0; i < 4000; i++)
		buf_puts(&text, "a www.e.org\n> b\n");
	struct arena *a = arena_new();
	struct tpl_obj *o = tpl_obj_new(a);
	struct tpl_set *set;
	const char *dirs[] = { dir };
	struct buf out;
	char err[256];
	unsigned budget = TEXTVIEW_ITEMS_MAX;
	textview_fill(o, "p", text.data, text.len, false, false, &budget);
	textview_fill(o, "p", text.data, text.len, true, false, &budget);
	assert_int_equal(budget, 0);
	assert_int_equal(tpl_set_new(dirs, 1, false, &set), 0);
	buf_init(&out, 0);
	assert_int_equal(tpl_render(set, "t", o, &out, err, sizeof(err)), 0);
	size_t blocks = 0, links = 0, bs = 0;
	for (const char *p = out.data; (p = strchr(p, '[')) != NULL; p++)
		blocks++;
	for (const char *p = out.data; (p = strstr(p, "<a ")) != NULL; p++)
		links++;
	for (const char *p = out.data; (p = strchr(p, 'b')) != NULL; p++)
		bs++;
	assert_true(blocks + links <= TEXTVIEW_ITEMS_MAX + 2);
	assert_int_equal(bs, 8000);
	buf_free(&out);
	buf_free(&text);
	tpl_set_free(&set);
	arena_free(&a);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/t.html", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(view, f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char path[256];
	snprintf(path, sizeof(path), "%s/t.html", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_flowed),
		cmocka_unit_test(test_budget),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
