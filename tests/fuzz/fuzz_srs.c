/* libFuzzer harness over SRS addresses (store/srs.c): decoding any bytes
 * never crashes, and what decodes is a valid address within the limits;
 * as a sender, what encodes decodes back to it (an SRS1 of another's SRS1
 * to that forwarder's SRS0), and a hash changed in one character never
 * decodes. The first byte picks the day, so the window and its wrap are
 * covered. The corpus has made addresses under the key below.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_srs
 * Run:   tests/fuzz/fuzz_srs -max_total_time=300 ../../tests/fuzz/corpus/srs */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "srs.h"

#define SRSDOM "srs.example.net"
#define DAY 86400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[SRS_SECRET_LEN] = { 'p', 'i', 'l', 'l', 'a', 'r', 'b', 'o', 'x', '-',
					     'f', 'u', 'z', 'z', '!', '!' };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[STORE_ADDRESS_MAX + 1], back[STORE_ADDRESS_MAX + 1], in[STORE_ADDRESS_MAX + 1];
	const char *why = NULL;

	if (size == 0 || size > 1024)
		return 0;
	/* days 1000 (the corpus's) to 1030, and across the wrap near 1023 */
	int64_t now = ((int64_t)1000 + data[0] % 40) * DAY + (int64_t)data[0] * 331;
	const char *s = (const char *)data + 1;
	size_t len = size - 1;

	int r = srs_decode(key, SRSDOM, s, len, now, out, &why);
	if (r == 1) {
		if (why != NULL || strlen(out) > STORE_ADDRESS_MAX || !store_address_valid(out) ||
		    !srs_is_ours(SRSDOM, s, len))
			abort();
	} else if (r != 0 || why == NULL || out[0] != '\0') {
		abort();
	}

	if (len > STORE_ADDRESS_MAX || memchr(s, '\0', len) != NULL)
		return 0;
	memcpy(in, s, len);
	in[len] = '\0';
	why = NULL;
	if (srs_encode(key, SRSDOM, in, now, out, &why) != 1) {
		if (why == NULL || out[0] != '\0')
			abort();
		return 0;
	}
	if (!store_address_valid(out) || !srs_is_ours(SRSDOM, out, strlen(out)))
		abort();
	if (srs_decode(key, SRSDOM, out, strlen(out), now, back, &why) != 1)
		abort();
	/* another's SRS0 comes back as itself (the tag in capitals), another's
	 * SRS1 as its first hop's SRS0, any other sender as itself */
	if (strncmp(out, "SRS1=", 5) != 0) {
		if (strcmp(back, in) != 0)
			abort();
	} else if (strncmp(back, "SRS0=", 5) != 0 ||
		   (strncasecmp(in, "SRS0=", 5) == 0 && strcmp(back + 4, in + 4) != 0)) {
		abort();
	}
	/* one hash character changed: refused */
	out[5] = out[5] == 'A' ? 'B' : 'A';
	if (srs_decode(key, SRSDOM, out, strlen(out), now, back, &why) != 0)
		abort();
	return 0;
}
