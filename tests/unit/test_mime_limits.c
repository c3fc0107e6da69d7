/* MIME parser limits, each probed just below, at and just above, and the
 * linear-time promises measured on large and adversarial input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "codec.h"
#include "mime.h"
#include "mime_check.h"

struct text {
	char *data;
	size_t len, size;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->size) {
		size_t size = t->size == 0 ? 4096 : t->size;
		while (size < t->len + n + 1)
			size *= 2;
		t->data = realloc(t->data, size);
		assert_non_null(t->data);
		t->size = size;
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

static void text_puts(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void text_fill(struct text *t, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		text_add(t, &c, 1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A header block of exactly `size` bytes (blank line included, size >= 13)
 * followed by a body. */
static void header_of_size(struct text *t, size_t size)
{
	text_puts(t, "Subject: ");
	text_fill(t, 'a', size - 13);
	text_puts(t, "\r\n\r\nbody\r\n");
}

static void test_header_limit(void **state)
{
	struct mime_limits lim = mime_limits_default;
	lim.header_max = 1000;
	for (size_t size = 999; size <= 1001; size++) {
		struct text t = { 0 };
		header_of_size(&t, size);
		bool over = size > lim.header_max;
		struct mime_message *msg = mime_check_parse(t.data, t.len, &lim, over ? 0 : 1);
		if (over) {
			assert_int_equal(msg->root->flags & MIME_F_TRUNCATED_MASK, MIME_F_HEADER_TRUNCATED);
			assert_string_equal(mime_flags_reason(msg->flags), "header too large");
			assert_int_equal(msg->root->header_len, size - 2); /* the blank line is body now */
		} else {
			assert_int_equal(msg->root->header_len, size);
			assert_null(mime_flags_reason(msg->flags));
		}
		assert_int_equal(strlen(msg->root->envelope->subject), size - 13);
		mime_message_free(&msg);
		free(t.data);
	}
}

/* The default limit with a real-looking 1 MiB header of Received: lines. */
static void test_header_limit_default(void **state)
{
	const size_t max = MIME_HEADER_MAX_DEFAULT;
	for (size_t size = max - 1; size <= max + 1; size++) {
		struct text t = { 0 };
		text_puts(&t, "Subject: big\r\n");
		static const char received[] = "Received: from relay.example.net by mx.example.org; ";
		while (t.len + 1000 + 13 <= size) { /* 1000-byte lines, room left for X-Last */
			text_puts(&t, received);
			text_fill(&t, 'x', 1000 - strlen(received) - 2);
			text_puts(&t, "\r\n");
		}
		size_t fill = size - t.len - 8 - 4;
		text_puts(&t, "X-Last: ");
		text_fill(&t, 'y', fill);
		text_puts(&t, "\r\n\r\nbody\r\n");
		bool over = size > max;
		struct mime_message *msg = mime_check_parse(t.data, t.len, NULL, over ? 0 : 1);
		assert_int_equal((msg->flags & MIME_F_HEADER_TRUNCATED) != 0, over);
		assert_int_equal(msg->root->header_len, over ? size - 2 : size);
		assert_string_equal(msg->root->envelope->subject, "big");
		mime_message_free(&msg);
		free(t.data);
	}
}

/* A multipart with `children` text parts. */
static void multipart_of(struct text *t, size_t children)
{
	text_puts(t, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (size_t i = 0; i < children; i++)
		text_puts(t, "--b\r\n\r\npart\r\n");
	text_puts(t, "--b--\r\n");
}

static void test_parts_limit(void **state)
{
	const size_t max = MIME_PARTS_MAX_DEFAULT;
	for (size_t total = max - 1; total <= max + 1; total++) {
		struct text t = { 0 };
		multipart_of(&t, total - 1); /* plus the root */
		bool over = total > max;
		struct mime_message *msg = mime_check_parse(t.data, t.len, NULL, over ? 0 : 1);
		assert_int_equal(msg->nparts, over ? max : total);
		assert_int_equal(msg->root->nchildren, msg->nparts - 1);
		assert_int_equal((msg->root->flags & MIME_F_PARTS_TRUNCATED) != 0, over);
		assert_int_equal(msg->root->body_offset + msg->root->body_len, t.len);
		mime_message_free(&msg);
		free(t.data);
	}
	/* a message/rfc822 with no part left for its message */
	static const char m[] = "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n";
	struct mime_limits lim = mime_limits_default;
	lim.parts_max = 1;
	struct mime_message *msg = mime_check_parse(m, sizeof(m) - 1, &lim, 0);
	assert_int_equal(msg->nparts, 1);
	assert_true(msg->root->flags & MIME_F_PARTS_TRUNCATED);
	mime_message_free(&msg);
}

/* `levels` multiparts, each inside the previous, the last holding a text
 * part: the deepest part is at depth `levels`. */
static void nested_multiparts(struct text *t, size_t levels)
{
	char line[128];
	for (size_t i = 0; i < levels; i++) {
		snprintf(line, sizeof(line), "Content-Type: multipart/mixed; boundary=\"level%zu\"\r\n\r\n--level%zu\r\n",
			 i, i);
		text_puts(t, line);
	}
	text_puts(t, "Content-Type: text/plain\r\n\r\ndeepest\r\n");
	for (size_t i = levels; i-- > 0;) {
		snprintf(line, sizeof(line), "--level%zu--\r\n", i);
		text_puts(t, line);
	}
}

static uint32_t max_depth(const struct mime_message *msg)
{
	uint32_t d = 0;
	for (uint32_t i = 0; i < msg->nparts; i++)
		d = msg->parts[i]->depth > d ? msg->parts[i]->depth : d;
	return d;
}

static void test_depth_limit(void **state)
{
	const size_t max = MIME_DEPTH_MAX_DEFAULT;
	for (size_t levels = max - 1; levels <= max + 1; levels++) {
		struct text t = { 0 };
		nested_multiparts(&t, levels);
		bool over = levels > max;
		struct mime_message *msg = mime_check_parse(t.data, t.len, NULL, over ? 0 : 1);
		assert_int_equal(max_depth(msg), over ? max : levels);
		assert_int_equal(msg->nparts, over ? max + 1 : levels + 1);
		assert_int_equal((msg->flags & MIME_F_DEPTH_TRUNCATED) != 0, over);
		if (over)
			assert_true(msg->parts[max]->flags & MIME_F_DEPTH_TRUNCATED);
		else
			assert_string_equal(msg->parts[levels]->type, "text");
		mime_message_free(&msg);
		free(t.data);
	}
}

static void test_deep_nesting_200(void **state)
{
	/* 200 levels of multipart, then 200 levels of message/rfc822 */
	struct text t = { 0 };
	nested_multiparts(&t, 200);
	struct mime_message *msg = mime_check_parse(t.data, t.len, NULL, 0);
	assert_int_equal(max_depth(msg), MIME_DEPTH_MAX_DEFAULT);
	mime_message_free(&msg);
	free(t.data);

	t = (struct text){ 0 };
	for (int i = 0; i < 200; i++)
		text_puts(&t, "Subject: level\r\nContent-Type: message/rfc822\r\n\r\n");
	text_puts(&t, "Subject: deepest\r\n\r\nbody\r\n");
	msg = mime_check_parse(t.data, t.len, NULL, 0);
	assert_int_equal(max_depth(msg), MIME_DEPTH_MAX_DEFAULT);
	assert_int_equal(msg->nparts, MIME_DEPTH_MAX_DEFAULT + 1);
	mime_message_free(&msg);
	free(t.data);
}

static void test_fields_limit(void **state)
{
	struct mime_limits lim = mime_limits_default;
	lim.fields_max = 20;
	for (size_t fields = 19; fields <= 21; fields++) {
		struct text t = { 0 };
		for (size_t i = 0; i + 1 < fields; i++)
			text_puts(&t, "X-Filler: x\r\n");
		text_puts(&t, "Subject: last\r\n\r\n");
		bool over = fields > lim.fields_max;
		struct mime_message *msg = mime_check_parse(t.data, t.len, &lim, over ? 0 : 1);
		const char *subject = msg->root->envelope->subject;
		if (over) {
			assert_null(subject);
			assert_true(msg->flags & MIME_F_FIELDS_TRUNCATED);
		} else {
			assert_string_equal(subject, "last");
		}
		assert_int_equal(msg->root->header_len, t.len);
		mime_message_free(&msg);
		free(t.data);
	}
}

static void test_params_limit(void **state)
{
	const size_t max = MIME_PARAMS_MAX_DEFAULT;
	for (size_t params = max - 1; params <= max + 1; params++) {
		struct text t = { 0 };
		char p[64];
		text_puts(&t, "Content-Type: text/plain");
		for (size_t i = 0; i + 1 < params; i++) {
			snprintf(p, sizeof(p), ";\r\n x%zu=%zu", i, i);
			text_puts(&t, p);
		}
		text_puts(&t, "; charset=utf-8\r\n\r\n");
		bool over = params > max;
		struct mime_message *msg = mime_check_parse(t.data, t.len, NULL, over ? 0 : 1);
		assert_int_equal(msg->root->params.count, over ? max : params);
		const char *cs = mime_params_get(&msg->root->params, "charset");
		if (over)
			assert_null(cs);
		else
			assert_string_equal(cs, "utf-8");
		assert_int_equal((msg->flags & MIME_F_PARAMS_TRUNCATED) != 0, over);
		mime_message_free(&msg);
		free(t.data);
	}
}

static void test_addresses_limit(void **state)
{
	const size_t max = MIME_ADDRESSES_MAX_DEFAULT;
	for (size_t n = max - 1; n <= max + 1; n++) {
		struct text t = { 0 };
		char a[64];
		text_puts(&t, "To: ");
		for (size_t i = 0; i < n; i++) {
			snprintf(a, sizeof(a), "%su%zu@example.org", i > 0 ? ",\r\n " : "", i);
			text_puts(&t, a);
		}
		text_puts(&t, "\r\n\r\n");
		bool over = n > max;
		struct mime_message *msg = mime_check_parse(t.data, t.len, NULL, over ? 0 : 1);
		const struct mime_addresses *to = &msg->root->envelope->to;
		assert_int_equal(to->count, over ? max : n);
		assert_string_equal(to->items[to->count - 1].host, "example.org");
		assert_int_equal((msg->flags & MIME_F_ADDRESSES_TRUNCATED) != 0, over);
		mime_message_free(&msg);
		free(t.data);
	}
}

static void test_boundary_length_limit(void **state)
{
	for (size_t blen = MIME_BOUNDARY_MAX - 1; blen <= MIME_BOUNDARY_MAX + 1; blen++) {
		struct text t = { 0 };
		char *b = malloc(blen + 1);
		assert_non_null(b);
		memset(b, 'q', blen);
		b[blen] = '\0';
		text_puts(&t, "Content-Type: multipart/mixed; boundary=");
		text_puts(&t, b);
		text_puts(&t, "\r\n\r\n--");
		text_puts(&t, b);
		text_puts(&t, "\r\n\r\nbody\r\n--");
		text_puts(&t, b);
		text_puts(&t, "--\r\n");
		bool over = blen > MIME_BOUNDARY_MAX;
		struct mime_message *msg = mime_check_parse(t.data, t.len, NULL, over ? 0 : 1);
		assert_int_equal(msg->root->nchildren, over ? 0 : 1);
		assert_int_equal((msg->flags & MIME_F_BOUNDARY_TOO_LONG) != 0, over);
		mime_message_free(&msg);
		free(b);
		free(t.data);
	}
}

static void test_30mb_base64(void **state)
{
	const size_t raw_len = 30 * 1000 * 1000 / 4 * 3; /* 30 MB of base64 */
	unsigned char *raw = malloc(raw_len);
	assert_non_null(raw);
	for (size_t i = 0; i < raw_len; i++)
		raw[i] = (unsigned char)(i * 2654435761u >> 13);
	struct text t = { 0 };
	text_puts(&t, "From: a@example.org\r\nSubject: big\r\n"
		      "Content-Type: multipart/mixed; boundary=\"=_big\"\r\n\r\n"
		      "--=_big\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
		      "--=_big\r\nContent-Type: application/octet-stream\r\n"
		      "Content-Transfer-Encoding: base64\r\n"
		      "Content-Disposition: attachment; filename=big.bin\r\n\r\n");
	size_t body_start = t.len;
	char *enc = malloc(BASE64_ENCODED_MAX(raw_len));
	assert_non_null(enc);
	size_t enc_len = base64_encode(raw, raw_len, BASE64_MIME_LINE, enc);
	text_add(&t, enc, enc_len);
	text_puts(&t, "--=_big--\r\n");
	free(enc);

	struct mime_message *msg;
	const char *error;
	double t0 = now();
	assert_int_equal(mime_parse(t.data, t.len, NULL, &msg, &error), 1);
	double dt = now() - t0;
	print_message("30 MB base64 attachment (%zu bytes): parsed in %.3f s\n", t.len, dt);
	assert_true(dt < 1.0);
	mime_check_invariants(msg);
	mime_check_roundtrip(msg);
	const struct mime_part *att = mime_part_find(msg, "2");
	assert_int_equal(att->body_offset, body_start);
	assert_int_equal(att->body_len, enc_len - 2); /* the last CRLF is the delimiter's */
	assert_int_equal(att->body_lines, (enc_len + 77) / 78);
	char *dec;
	size_t dec_len;
	t0 = now();
	assert_int_equal(mime_part_body_decode(att, t.data, t.len, MIME_DECODE_TRANSFER, &dec, &dec_len, &error), 1);
	print_message("decoded in %.3f s\n", now() - t0);
	assert_int_equal(dec_len, raw_len);
	assert_memory_equal(dec, raw, raw_len);
	free(dec);
	mime_message_free(&msg);
	free(raw);
	free(t.data);
}

/* `levels` nested multiparts whose boundaries share a 200-byte prefix, then
 * 20 MB of lines that almost match them. */
static void near_boundaries(struct text *t, size_t levels)
{
	char prefix[201];
	memset(prefix, 'x', 200);
	prefix[200] = '\0';
	char line[512];
	for (size_t i = 0; i < levels; i++) {
		snprintf(line, sizeof(line), "Content-Type: multipart/mixed; boundary=\"%s%03zu\"\r\n\r\n--%s%03zu\r\n",
			 prefix, i, prefix, i);
		text_puts(t, line);
	}
	text_puts(t, "\r\n");
	snprintf(line, sizeof(line), "--%s99\r\n--\r\n--%s\r\n--%s000-\r\n", prefix, prefix, prefix);
	size_t body_start = t->len;
	while (t->len - body_start < 20 * 1000 * 1000)
		text_puts(t, line);
}

static double parse_time(const struct text *t, uint32_t want_parts)
{
	struct mime_message *msg;
	const char *error;
	double t0 = now();
	assert_int_equal(mime_parse(t->data, t->len, NULL, &msg, &error), 1);
	double dt = now() - t0;
	assert_int_equal(msg->nparts, want_parts);
	mime_check_invariants(msg);
	mime_message_free(&msg);
	return dt;
}

/* Each line must cost its length, not depth x length: the same lines under
 * 100 open boundaries cost about what they cost under one. */
static void test_adversarial_boundaries(void **state)
{
	struct text one = { 0 }, deep = { 0 };
	near_boundaries(&one, 1);
	near_boundaries(&deep, MIME_DEPTH_MAX_DEFAULT);
	double t1 = parse_time(&one, 2);
	double t100 = parse_time(&deep, MIME_DEPTH_MAX_DEFAULT + 1);
	print_message("20 MB of near-boundary lines: %.3f s CPU under 1 open boundary, %.3f s under %d\n",
		      t1, t100, MIME_DEPTH_MAX_DEFAULT);
	assert_true(t100 < 3 * t1 + 0.1);
	assert_true(t100 < 2.0);
	free(one.data);
	free(deep.data);
}

static void test_many_parts_speed(void **state)
{
	struct text t = { 0 };
	multipart_of(&t, MIME_PARTS_MAX_DEFAULT - 1);
	struct mime_message *msg;
	const char *error;
	double t0 = now();
	assert_int_equal(mime_parse(t.data, t.len, NULL, &msg, &error), 1);
	double dt = now() - t0;
	void *blob;
	size_t len;
	assert_int_equal(mime_cache_encode(msg, &blob, &len, &error), 1);
	struct mime_message *copy;
	double t1 = now();
	assert_int_equal(mime_cache_decode(blob, len, &copy, &error), 1);
	print_message("10,000 parts: parse %.3f s, cache %zu bytes, decode %.3f s\n", dt, len, now() - t1);
	assert_true(dt < 1.0);
	mime_message_free(&copy);
	free(blob);
	mime_message_free(&msg);
	free(t.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_header_limit_default),
		cmocka_unit_test(test_parts_limit),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_deep_nesting_200),
		cmocka_unit_test(test_fields_limit),
		cmocka_unit_test(test_params_limit),
		cmocka_unit_test(test_addresses_limit),
		cmocka_unit_test(test_boundary_length_limit),
		cmocka_unit_test(test_30mb_base64),
		cmocka_unit_test(test_adversarial_boundaries),
		cmocka_unit_test(test_many_parts_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
