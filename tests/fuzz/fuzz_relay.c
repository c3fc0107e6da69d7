/* libFuzzer harness over the relay's parsers of remote input: the SMTP reply
 * parser with the EHLO keyword reader (the input's lines, as a server would
 * send them), the DNS answer parsers (the input as a DNS message) and the
 * DATA encoder (the input as a message body). Pure functions: no store, no
 * network.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_relay
 * Run:   tests/fuzz/fuzz_relay -max_total_time=600 ../../tests/fuzz/corpus/relay */
#include <config.h>

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay_dns.h"
#include "relay_smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct relay_reply reply;
	struct relay_ehlo ehlo;
	struct relay_mx mx[RELAY_MX_MAX];
	struct relay_addr addrs[RELAY_ADDRS_MAX];
	struct relay_dot dot;
	size_t n;
	bool null_mx;
	char *out;

	/* Replies: one line at a time, a new reply after each complete one. */
	relay_reply_init(&reply);
	memset(&ehlo, 0, sizeof(ehlo));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		size_t l = len > 0 && p[len - 1] == '\r' ? len - 1 : len;

		if (l <= RELAY_REPLY_LINE_MAX) {
			int r = relay_reply_feed(&reply, p, l);

			if (r >= 0 && l > 4)
				relay_ehlo_line(&ehlo, p + 4, l - 4);
			if (r != 0)
				relay_reply_init(&reply);
		}
		p += len + (nl != NULL);
	}
	(void)relay_dns_parse_mx(data, size, mx, RELAY_MX_MAX, &n, &null_mx);
	relay_mx_sort(mx, n);
	(void)relay_dns_parse_addrs(data, size, AF_INET, 25, addrs, RELAY_ADDRS_MAX, &n);
	(void)relay_dns_parse_addrs(data, size, AF_INET6, 25, addrs, RELAY_ADDRS_MAX, &n);
	out = malloc(2 * size + 8);
	if (out != NULL) {
		relay_dot_init(&dot);
		n = relay_dot_encode(&dot, (const char *)data, size, out);
		n += relay_dot_finish(&dot, out + n);
		if (n > 2 * size + 5)
			abort();
		/* Every line sent: CRLF-ended, at most RELAY_LINE_MAX octets
		 * before it, and a leading dot always doubled. */
		for (size_t start = 0, i = 0; i < n; i++) {
			if (out[i] == '\r' && (i + 1 >= n || out[i + 1] != '\n'))
				abort();
			if (out[i] != '\n')
				continue;
			if (i == start || out[i - 1] != '\r' || i - 1 - start > RELAY_LINE_MAX)
				abort();
			if (out[start] == '.' && i + 1 < n && (i - 1 - start < 2 || out[start + 1] != '.'))
				abort();
			start = i + 1;
		}
		free(out);
	}
	return 0;
}
