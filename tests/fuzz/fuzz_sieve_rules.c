/* libFuzzer harness for the webmail's filter rules reader (cgi/sieve_rules.c):
 * the input is a script, copied to exactly its bytes (ASan sees a read past
 * the end). What the reader calls ours must be what the writer makes of the
 * rules it read, byte for byte, and must compile: the page shows exactly
 * what runs. Each rule read must also pass the writer's checks, and its
 * summary must be a NUL-terminated string within its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve.h"
#include "sieve_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sieve_rule_set set;
	char *text = malloc(size > 0 ? size : 1), error[SIEVE_RULES_ERROR_MAX];
	char cerr[SIEVE_ERROR_MAX], summary[200], *again = NULL;
	size_t len = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	if (sieve_rules_parse(text, size, &set) == 1) {
		for (size_t i = 0; i < set.n; i++) {
			if (sieve_rule_check(&set.rules[i], error) != 0)
				abort();
			sieve_rule_summary(&set.rules[i], summary, sizeof(summary));
			if (strnlen(summary, sizeof(summary)) == sizeof(summary))
				abort();
		}
		if (sieve_rules_to_sieve(&set, &again, &len, error) != 0)
			abort();
		if (len != size || memcmp(again, text, size) != 0)
			abort();
		struct sieve_script *s = sieve_compile(again, len, cerr);
		if (s == NULL)
			abort();
		sieve_script_free(s);
		free(again);
	}
	free(text);
	return 0;
}
