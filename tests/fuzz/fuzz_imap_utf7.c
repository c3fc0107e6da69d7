/* libFuzzer harness over modified UTF-7 (inetd/imap_utf7.c): decoding any
 * bytes never crashes, and whatever decodes re-encodes to the same bytes
 * (one spelling per name); whatever encodes decodes back.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_imap_utf7
 * Run:   tests/fuzz/fuzz_imap_utf7 -max_total_time=600 ../../tests/fuzz/corpus/imap_utf7 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_utf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char utf8[4096], utf7[IMAP_UTF7_MAX(4096)], back[IMAP_UTF7_MAX(4096)];
	const char *in = (const char *)data;

	if (size > 1024)
		return 0;
	int n = imap_utf7_to_utf8(in, size, utf8, sizeof(utf8));
	if (n >= 0) {
		int m = imap_utf8_to_utf7(utf8, (size_t)n, back, sizeof(back));
		if (m < 0 || (size_t)m != size || memcmp(back, in, size) != 0)
			abort();
	}
	n = imap_utf8_to_utf7(in, size, utf7, sizeof(utf7));
	if (n >= 0) {
		int m = imap_utf7_to_utf8(utf7, (size_t)n, back, sizeof(back));
		if (m < 0 || (size_t)m != size || memcmp(back, in, size) != 0)
			abort();
	}
	return 0;
}
