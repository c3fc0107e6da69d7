/* libFuzzer harness for the spam checker's reply (inetd/spamc.c): any
 * octets, copied to exactly their length (ASan sees a read past the end),
 * parsed as they arrived so far and as all there is; the fields made of a
 * good reply must fit the buffer sized for them, end in CRLF, keep every
 * line within 78 columns + a name, and hold no control character but the
 * folds. The same octets as a header block lose their X-Spam fields and
 * nothing else: what is left is no longer, and whole fields in order. The
 * same octets as a reply to TELL (spam learning) are read too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spamc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spamc_result r;
	const char *error = NULL;
	char *copy = malloc(size > 0 ? size : 1), fields[SPAMC_FIELDS_MAX];

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	(void)spamc_reply_parse(copy, size, false, &r, &error);
	/* the reply to TELL (spam learning), read the same way */
	for (int eof = 0; eof < 2; eof++) {
		int t = spamc_tell_reply_parse(copy, size, eof, &error);

		if (t < -1 || t > 2 || (eof && t == 0))
			abort();
	}
	if (spamc_reply_parse(copy, size, true, &r, &error) == 1) {
		size_t n = spamc_fields_format(&r, fields, sizeof(fields)), col = 0;

		if (n == 0 || n != strlen(fields) || n < 2 || memcmp(fields + n - 2, "\r\n", 2) != 0)
			abort();
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)fields[i];

			if (ch == '\n') {
				col = 0;
				continue;
			}
			if ((ch < 32 && ch != '\r' && ch != '\t') || ch > 126 || ++col > 78 + 64)
				abort();
		}
	}
	for (int complete = 0; complete < 2; complete++) {
		memcpy(copy, data, size);
		size_t kept = spamc_strip_fields(copy, size, complete);

		if (kept > size)
			abort();
		/* kept is the input with whole runs taken out, in order */
		size_t i = 0;
		for (size_t j = 0; j < kept; j++, i++) {
			while (i < size && (char)data[i] != copy[j])
				i++;
			if (i == size)
				abort();
		}
	}
	free(copy);
	return 0;
}
