/* libFuzzer harness over TZif zone files (store/tzinfo.c, tzinfo_posix.c):
 * any bytes are either refused with a message or give a zone whose lookups,
 * at fixed instants and at instants taken from the input, answer an offset
 * in the accepted range and a NUL-terminated abbreviation.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_tzinfo
 * Run:   tests/fuzz/fuzz_tzinfo -max_total_time=600 ../../tests/fuzz/corpus/tzinfo */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tzinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ends of int64_t and of 32-bit time, the epoch, 2024 in winter and
 * summer, 2100. */
static const int64_t fixed[] = {
	INT64_MIN, INT64_MIN + 1, -2147483649LL, -2147483648LL, -1, 0, 1,
	1704067200, 1719835200, 2147483647, 2147483648LL, 4102444800LL, INT64_MAX - 1, INT64_MAX,
};

static void check(const struct tzinfo *z, int64_t t)
{
	bool dst;
	int off = tzinfo_offset(z, t, &dst);
	/* -24:59:59 to +24:59:59, plus an hour of DST */
	if (off < -89999 || off > 93599)
		abort();
	const char *abbr = tzinfo_abbr(z, t);
	if (abbr == NULL || strlen(abbr) > TZINFO_CHARS_MAX)
		abort();
	if (tzinfo_offset(z, t, NULL) != off)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tzinfo *z = NULL;
	const char *error = NULL;

	if (tzinfo_parse(data, size, &z, &error) < 0) {
		if (error == NULL || z != NULL)
			abort();
		return 0;
	}
	if (z == NULL)
		abort();
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check(z, fixed[i]);
	/* Instants from the input's own bytes land on and beside its
	 * transitions now and then. */
	for (size_t i = 0; i + 8 <= size && i < 64 * 8; i += 8) {
		uint64_t u = 0;
		for (size_t j = 0; j < 8; j++)
			u = u << 8 | data[i + j];
		int64_t t = (int64_t)u;
		check(z, t);
		if (t > INT64_MIN)
			check(z, t - 1);
	}
	tzinfo_free(&z);
	if (z != NULL)
		abort();
	return 0;
}
