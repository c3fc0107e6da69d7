/* libFuzzer harness for Sieve (store/sieve.h): the input is a script, a NUL,
 * then a message (header block, body). The script is compiled; if it
 * compiles it runs against the message (copied to exactly its bytes, so
 * ASan sees any read past header_len, or past the length the body test's
 * message_load gives), and the result must be sane: copies with
 * mailboxes, no more redirects than the limit, a failed run keeping the
 * message in INBOX alone, a vacation action whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct message {
	const char *data;
	size_t len;
	int loads;
};

static bool exists(void *ctx, const char *mailbox)
{
	(void)ctx;
	return strcmp(mailbox, "Junk") == 0 || strcmp(mailbox, "INBOX") == 0;
}

/* The body test asks once a run at most. */
static int load(void *ctx, const char **data_r, size_t *len_r)
{
	struct message *m = ctx;
	if (m->loads++ > 0)
		abort();
	*data_r = m->data;
	*len_r = m->len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t slen = nul != NULL ? (size_t)(nul - data) : size;
	size_t hlen = nul != NULL ? size - slen - 1 : 0;
	char error[SIEVE_ERROR_MAX];
	struct sieve_script *s = sieve_compile((const char *)data, slen, error);
	if (s == NULL) {
		if (strncmp(error, "line ", 5) != 0)
			abort();
		return 0;
	}
	char *header = malloc(hlen + 1);
	if (header == NULL)
		abort();
	memcpy(header, nul != NULL ? nul + 1 : data + size, hlen);
	struct message m = { header, hlen, 0 };
	struct sieve_message msg = {
		.header = header, .header_len = hlen, .size = size,
		.envelope_from = "sender+tag@example.org", .envelope_to = "bob+list@example.com",
		.subaddress_separators = "+-", .mailbox_exists = exists,
		.message_load = load, .ctx = &m,
		.now = 1795000000,   /* currentdate: a fixed clock, so a finding replays */
	};
	struct sieve_result res;
	int rc = sieve_run(s, &msg, &res);
	if ((rc < 0) != res.failed || res.nredirects > SIEVE_REDIRECTS_MAX ||
	    res.ncopies > SIEVE_ACTIONS_MAX + 1)
		abort();
	if (res.failed && (res.ncopies != 1 || strcmp(res.copies[0].mailbox, "INBOX") != 0 ||
			   res.nredirects != 0))
		abort();
	for (size_t i = 0; i < res.ncopies; i++)
		if (res.copies[i].mailbox == NULL || res.copies[i].mailbox[0] == '\0')
			abort();
	/* a vacation action: a reason, addresses that are there, not after a failure */
	if (res.vacation != NULL &&
	    (res.failed || res.vacation->reason == NULL || strchr(res.vacation->subject != NULL
								  ? res.vacation->subject : "", '\n') != NULL))
		abort();
	for (size_t i = 0; res.vacation != NULL && i < res.vacation->naddresses; i++)
		if (strchr(res.vacation->addresses[i], '@') == NULL)
			abort();
	sieve_result_free(&res);
	sieve_script_free(s);
	free(header);
	return 0;
}
