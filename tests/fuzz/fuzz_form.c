/* libFuzzer harness for the form parsers (cgi/form.c). The input's first
 * byte picks the split size for feeding (1..64 bytes, or all at once) and
 * the body type; the rest is the body. The multipart result must not
 * depend on how the body is split: it is parsed whole and in pieces and
 * the fields compared. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(struct arena *a, const char *ct, const char *body, size_t len, size_t step,
		 struct form *f, int *status)
{
	const char *error;
	struct form_limits l = form_limits_default;
	l.file_max = 64 * 1024;
	l.files_max = 8;
	l.fields_max = 64;
	struct form_parser *p = form_parser_new(a, ct, &l, status, &error);
	if (p == NULL)
		return -2;
	for (size_t i = 0; i < len; i += step) {
		size_t n = len - i < step ? len - i : step;
		if (form_parser_feed(p, body + i, n) < 0)
			break;
	}
	return form_parser_finish(p, f, status, &error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {
		"multipart/form-data; boundary=XyZ",
		"multipart/form-data; boundary=\"a b-c\"",
		"application/x-www-form-urlencoded",
		"multipart/form-data; boundary=-",
	};
	if (size < 1 || size > 128 * 1024)
		return 0;
	size_t step = (data[0] & 63) + 1;
	const char *ct = types[(data[0] >> 6) & 3];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	struct arena *a = arena_new();
	struct form f1, f2;
	int s1 = 0, s2 = 0;
	int r1 = parse(a, ct, body, len, len == 0 ? 1 : len, &f1, &s1);
	int r2 = parse(a, ct, body, len, step, &f2, &s2);
	if (r1 != r2 || s1 != s2)
		abort();
	if (r1 == 1) {
		if (f1.count != f2.count)
			abort();
		for (size_t i = 0; i < f1.count; i++) {
			if (strcmp(f1.fields[i].name, f2.fields[i].name) != 0 ||
			    f1.fields[i].value_len != f2.fields[i].value_len ||
			    memcmp(f1.fields[i].value, f2.fields[i].value, f1.fields[i].value_len) != 0)
				abort();
		}
	}
	/* the query-string parser on the same bytes */
	struct form q;
	int status;
	const char *error;
	form_parse_urlencoded(a, body, len, &form_limits_default, &q, &status, &error);
	arena_free(&a);
	return 0;
}
