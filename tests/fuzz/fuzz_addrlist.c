/* libFuzzer harness for the compose page's recipient lists
 * (cgi/addrlist.c) and, behind them, the message writer (cgi/msgbuild.c).
 * The input is a typed To field. Whatever addrlist_parse accepts must be
 * written by msgbuild_write without a refusal, and the message, parsed
 * back by the project's MIME parser, must carry the same addresses and
 * (whitespace aside) the same display names: a round trip through what
 * the webmail sends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"
#include "mime.h"
#include "msgbuild.h"
#include "rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int to_buf(void *ctx, const void *d, size_t len)
{
	return buf_append(ctx, d, len) ? 0 : -1;
}

/* Whitespace runs as one space, none at the ends. */
static void squeeze(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			if (o > 0 && s[o - 1] != ' ')
				s[o++] = ' ';
		} else {
			s[o++] = s[i];
		}
	}
	while (o > 0 && s[o - 1] == ' ')
		o--;
	s[o] = '\0';
}

static bool same_name(const char *sent, const char *raw_back)
{
	char *back = NULL, *want = strdup(sent != NULL ? sent : "");
	size_t len;
	if (want == NULL || rfc2047_decode(raw_back != NULL ? raw_back : "",
					   raw_back != NULL ? strlen(raw_back) : 0, &back, &len) < 0) {
		free(want);
		return true;   /* out of memory: nothing to compare */
	}
	squeeze(want);
	squeeze(back);
	bool same = strcmp(want, back) == 0;
	free(want);
	free(back);
	return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	struct arena *a = arena_new();
	struct addrlist l;
	const char *error;
	if (a == NULL)
		return 0;
	int r = addrlist_parse(a, (const char *)data, size, 200, &l, &error);
	if (r == 0 && (error == NULL || *error == '\0'))
		abort();
	if (r != 1 || l.count == 0) {
		arena_free(&a);
		return 0;
	}
	struct msgbuild_addr *to = calloc(l.count, sizeof(*to));
	if (to == NULL) {
		arena_free(&a);
		return 0;
	}
	for (size_t i = 0; i < l.count; i++) {
		if (!addrlist_addr_valid(l.items[i].addr))
			abort();
		to[i] = (struct msgbuild_addr){ l.items[i].name, l.items[i].addr };
	}
	struct msgbuild m = {
		.from = { "Fuzz", "fuzz@example.com" }, .to = to, .nto = l.count,
		.subject = "s", .text = "t", .text_len = 1,
		.message_id = "<fuzz@example.com>", .date = 0,
	};
	struct buf out;
	buf_init(&out, 0);
	r = msgbuild_write(&m, to_buf, &out, &error);
	if (r == 0)
		abort();   /* a list we accepted must be writable */
	if (r == 1) {
		struct mime_message *msg = NULL;
		if (mime_parse(out.data, out.len, NULL, &msg, &error) == 1) {
			const struct mime_addresses *back = &msg->root->envelope->to;
			if (back->count != l.count || back->flags != 0)
				abort();
			for (size_t i = 0; i < l.count; i++) {
				char *spec = address_addr_spec(&back->items[i]);
				if (spec != NULL && strcmp(spec, l.items[i].addr) != 0)
					abort();
				free(spec);
				if (!same_name(l.items[i].name, back->items[i].name))
					abort();
			}
		}
		mime_message_free(&msg);
	}
	buf_free(&out);
	free(to);
	arena_free(&a);
	return 0;
}
