/* libFuzzer harness over the IMAP command tokenizer (inetd/imap_parser.c):
 * the input is split at LF into lines (a CR before it dropped, as the conn
 * layer does); a line announcing a literal is followed by that many input
 * bytes (or what is left), fed in pieces whose size comes from the input.
 * Every parsed atom is also tried as a sequence set. Checks: no crash, no
 * leak, args only after DONE, literal sizes within what was announced.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_imap_parser
 * Run:   tests/fuzz/fuzz_imap_parser -max_total_time=600 ../../tests/fuzz/corpus/imap_parser */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct imap_arg *a, unsigned depth)
{
	if (depth > 64)
		abort(); /* the parser's depth limit failed */
	for (; a != NULL; a = a->next) {
		if (a->type == IMAP_ARG_LIST) {
			walk(a->child, depth + 1);
			continue;
		}
		if (a->str[a->len] != '\0')
			abort();
		if (a->type == IMAP_ARG_ATOM) {
			struct imap_seqset set;
			if (imap_seqset_parse(a->str, a->len, &set) == 1) {
				for (size_t i = 0; i < set.count; i++)
					(void)set.ranges[i];
				imap_seqset_free(&set);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_parser_limits limits = {
		.command_max = 65536, .depth_max = 32, .tokens_max = 4000,
	};
	struct imap_parser *p = imap_parser_new(&limits);
	const char *s = (const char *)data, *end = s + size;

	if (p == NULL)
		return 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		size_t line_len = len > 0 && s[len - 1] == '\r' ? len - 1 : len;
		int st = imap_parser_line(p, s, line_len);
		s += len + (nl != NULL);
		if (st == IMAP_PARSE_LITERAL) {
			struct imap_literal_info info;
			imap_parser_literal_info(p, &info);
			if (info.index > 1 && (info.size & 1)) {
				imap_parser_literal_streamed(p);
				continue;
			}
			uint64_t left = info.size;
			if (left == 0)
				(void)imap_parser_literal_data(p, "", 0);
			while (left > 0 && s < end) {
				size_t piece = (size_t)(*s & 0x3f) + 1;
				if (piece > (size_t)(end - s))
					piece = (size_t)(end - s);
				if (piece > left)
					piece = (size_t)left;
				int r = imap_parser_literal_data(p, s, piece);
				s += piece;
				left -= piece;
				if (r < 0)
					break;
			}
			if (left > 0)
				break;
			continue;
		}
		if (st == IMAP_PARSE_DONE)
			walk(imap_parser_args(p), 0);
		else
			(void)imap_parser_error(p);
		uint64_t lsize;
		bool sync;
		(void)imap_line_literal_suffix(s - len - (nl != NULL), line_len, &lsize, &sync);
		imap_parser_reset(p);
	}
	imap_parser_free(&p);
	return 0;
}
