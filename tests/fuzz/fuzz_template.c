/* libFuzzer harness for the template engine (cgi/template.c): the input is
 * a template (as a site override may be written). It must compile or be
 * refused with a message, never crash; includes of itself stop at the
 * depth limit. A template that compiles is rendered twice with the same
 * data shape: once with values full of markup (< > " '), once with plain
 * letters of the same truthiness. Every slot escapes for its context (or
 * percent-encodes, in a URL), so the two pages must hold the same number
 * of each of those four characters: one more in the first would be a value
 * that broke out of its context.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_template
 * Run:   tests/fuzz/fuzz_template -max_total_time=600 ../../tests/fuzz/corpus/template */
#include <config.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_world.h"
#include "template.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_file[96];
static struct tpl_set *fuzz_set;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *fuzz_dir = fuzz_world_tmpdir("fuzz_template");
	snprintf(fuzz_file, sizeof(fuzz_file), "%s/fuzz.html", fuzz_dir);
	/* a second template for {{> part}} */
	char part[96];
	snprintf(part, sizeof(part), "%s/part.html", fuzz_dir);
	FILE *f = fopen(part, "w");
	if (f == NULL || fputs("<b>{{name}}</b><a href=\"{{url}}\">x</a>", f) < 0 || fclose(f) != 0)
		abort();
	const char *dirs[1] = { fuzz_dir };
	if (tpl_set_new(dirs, 1, false, &fuzz_set) < 0)
		abort();
	return 0;
}

/* The data every render gets; `v` is every string value. */
static struct tpl_obj *make_data(struct arena *a, const char *v)
{
	struct tpl_obj *d = tpl_obj_new(a);
	tpl_str(d, "name", v);
	tpl_str(d, "url", v);
	tpl_str(d, "q", v);
	tpl_int(d, "n", 42);
	tpl_bool(d, "yes", true);
	tpl_bool(d, "no", false);
	tpl_str(tpl_obj(d, "a"), "b", v);
	for (int i = 0; i < 2; i++) {
		struct tpl_obj *it = tpl_item(d, "items");
		tpl_str(it, "x", v);
		tpl_str(it, "url", v);
	}
	tpl_list(d, "none");
	return d;
}

static int render(const char *v, struct buf *out)
{
	char err[256];
	struct arena *a = arena_new();
	if (a == NULL)
		abort();
	buf_init(out, 0);
	int r = tpl_render(fuzz_set, "fuzz", make_data(a, v), out, err, sizeof(err));
	arena_free(&a);
	return r;
}

static size_t count(const struct buf *b, char c)
{
	size_t n = 0;
	for (size_t i = 0; i < b->len; i++)
		n += b->data[i] == c;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	if (size > TPL_FILE_MAX)
		return 0;
	(void)tpl_check((const char *)data, size, err, sizeof(err));

	int fd = open(fuzz_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
		abort();
	struct buf hostile, plain;
	int r1 = render("<q\"x'>", &hostile);
	int r2 = render("zzzzzz", &plain);
	if (r1 == 0 && r2 == 0) {
		static const char marks[] = "<>\"'";
		for (const char *m = marks; *m != '\0'; m++) {
			if (count(&hostile, *m) != count(&plain, *m)) {
				fprintf(stderr, "a value put a raw %c in the page:\n%s\n", *m,
					hostile.data != NULL ? hostile.data : "");
				abort();
			}
		}
	}
	buf_free(&hostile);
	buf_free(&plain);
	return 0;
}
