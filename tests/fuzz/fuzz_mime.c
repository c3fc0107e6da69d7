/* libFuzzer harness for the MIME parser and everything it drives: parse,
 * walk every part (sections, headers, body decoding, parameters), summary,
 * cache encode -> decode -> encode (must be byte-identical), truncated cache
 * (must be refused), the input itself as a cache blob, and the address,
 * date and encoded-word parsers on the raw input.
 * Odd first byte: small limits, so every limit path is reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "datetime.h"
#include "mime.h"
#include "rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                    \
	do {                           \
		if (!(cond))           \
			abort();       \
	} while (0)

static const struct mime_limits small_limits = {
	.header_max = 512,
	.parts_max = 40,
	.depth_max = 6,
	.fields_max = 16,
	.params_max = 4,
	.addresses_max = 8,
};

static void walk(const struct mime_message *msg, const char *data, size_t size)
{
	uint32_t n = 0;
	for (const struct mime_part *p = msg->root; p != NULL; p = mime_part_next(p), n++) {
		CHECK(n < msg->nparts && msg->parts[n] == p);
		CHECK(p->body_offset == p->header_offset + p->header_len);
		CHECK(p->body_offset + p->body_len <= msg->size);
		if (p->parent != NULL) {
			CHECK(p->header_offset >= p->parent->body_offset);
			CHECK(p->body_offset + p->body_len <= p->parent->body_offset + p->parent->body_len);
		}
		char section[MIME_SECTION_MAX];
		CHECK(mime_part_section(p, section, sizeof(section)) >= 0);
		const struct mime_part *found = mime_part_find(msg, section);
		CHECK(found == p || (found == p->parent && mime_part_is_message(p)));
		(void)mime_part_filename(p);
		(void)mime_params_get(&p->params, "charset");
		if (data == NULL)
			continue;
		size_t pos = 0;
		struct mime_header_field f;
		while (mime_header_next(data + p->header_offset, p->header_len, &pos, &f) > 0)
			CHECK(f.offset + f.len <= p->header_len && f.name_len > 0);
		char *body;
		size_t len;
		const char *error;
		int r = mime_part_body_decode(p, data, size, MIME_DECODE_UTF8, &body, &len, &error);
		CHECK(r == 1 || r == -1);
		free(body);
	}
	CHECK(n == msg->nparts);
}

static void summary_check(const struct mime_message *msg)
{
	struct mime_summary *s;
	const char *error;
	if (mime_summary_get(msg, &s, &error) < 0)
		return;
	/* what we encode, we decode back */
	char *enc, *dec;
	size_t enc_len;
	if (rfc2047_encode(s->subject, strlen(s->subject), 9, false, &enc, &enc_len) == 1) {
		if (rfc2047_decode(enc, enc_len, &dec, NULL) == 1) {
			CHECK(strcmp(dec, s->subject) == 0);
			free(dec);
		}
		free(enc);
	}
	mime_summary_free(&s);
}

static void cache_check(const struct mime_message *msg)
{
	void *blob, *blob2;
	size_t len, len2;
	const char *error;
	struct mime_message *copy;
	if (mime_cache_encode(msg, &blob, &len, &error) < 0)
		return;
	int r = mime_cache_decode(blob, len, &copy, &error);
	CHECK(r == 1 || r == -1);
	if (r == 1) {
		CHECK(copy->nparts == msg->nparts && copy->flags == msg->flags);
		walk(copy, NULL, 0);
		if (mime_cache_encode(copy, &blob2, &len2, &error) == 1) {
			CHECK(len2 == len && memcmp(blob, blob2, len) == 0);
			free(blob2);
		}
		mime_message_free(&copy);
	}
	r = mime_cache_decode(blob, len / 2, &copy, &error);
	CHECK(r == 0 || r == -1);
	free(blob);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const struct mime_limits *limits = size > 0 && (data[0] & 1) ? &small_limits : NULL;
	struct mime_message *msg;
	const char *error;
	int r = mime_parse(text, size, limits, &msg, &error);
	CHECK(r >= -1 && r <= 1);
	if (r >= 0) {
		CHECK(msg->size == size);
		CHECK((r == 0) == ((msg->flags & MIME_F_TRUNCATED_MASK) != 0));
		walk(msg, text, size);
		summary_check(msg);
		cache_check(msg);
		mime_message_free(&msg);
	}

	/* the input as a (corrupt) cache blob */
	if (mime_cache_decode(data, size, &msg, &error) == 1) {
		walk(msg, NULL, 0);
		summary_check(msg);
		mime_message_free(&msg);
	}

	/* the lower-level parsers on the raw bytes */
	struct address_list *list;
	if (address_list_parse(text, size, 64, &list) == 1) {
		for (size_t i = 0; i < list->count; i++) {
			char *spec = address_addr_spec(&list->addrs[i]);
			free(spec);
		}
		address_list_free(&list);
	}
	time_t t;
	int tz;
	if (datetime_parse(text, size, &t, &tz) == 1) {
		char buf[DATETIME_RFC5322_SIZE];
		time_t t2;
		int tz2;
		datetime_format_rfc5322(t, tz, buf);
		CHECK(datetime_parse(buf, strlen(buf), &t2, &tz2) == 1 && t2 == t && tz2 == tz);
	}
	return 0;
}
