/* libFuzzer harness over the relay's parsers of remote input: the SMTP reply
 * parser with the EHLO keyword reader (the input's lines, as a server would
 * send them), the DNS answer parsers (the input as a DNS message) and the
 * DATA encoder (the input as a message body), and DKIM's choice of header
 * fields and relaxed canonicalisation (the input as a message). Pure
 * functions: no store, no network.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_relay
 * Run:   tests/fuzz/fuzz_relay -max_total_time=600 ../../tests/fuzz/corpus/relay */
#include <config.h>

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_canon.h"
#include "dns.h"
#include "relay_smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dkim_count(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(size_t *)ctx += len;
}

/* The input as a message: its header's fields to sign (the canonical data
 * holds each field once, so it is never longer than the header and its
 * line ends), and its body canonicalised: never longer than the body plus
 * a CRLF for each line it has, and ending in CRLF unless empty. */
static void dkim_fuzz(const char *data, size_t size)
{
	struct dkim_headers h;
	struct dkim_body *b = malloc(sizeof(*b));
	const char *why = NULL, *blank = NULL;
	size_t hlen = size, canon = 0;

	for (size_t i = 0; i + 4 <= size && blank == NULL; i++)
		if (memcmp(data + i, "\r\n\r\n", 4) == 0)
			blank = data + i;
	if (blank != NULL)
		hlen = (size_t)(blank - data) + 2;
	if (dkim_headers_select(data, hlen, &h, &why) == 1) {
		if (h.canon_len > 3 * hlen + 3 || strlen(h.h) >= sizeof(h.h))
			abort();
		dkim_headers_clear(&h);
	}
	if (b == NULL)
		return;
	dkim_body_init(b, dkim_count, &canon);
	dkim_body_update(b, data + (blank != NULL ? hlen + 2 : 0),
			 blank != NULL ? size - hlen - 2 : size);
	dkim_body_finish(b);
	if (canon > 2 * size + 2)
		abort();
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct relay_reply reply;
	struct relay_ehlo ehlo;
	struct dns_mx mx[DNS_MX_MAX];
	struct dns_addr addrs[DNS_ADDRS_MAX];
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
	(void)dns_parse_mx(data, size, mx, DNS_MX_MAX, &n, &null_mx);
	dns_mx_sort(mx, n);
	(void)dns_parse_addrs(data, size, AF_INET, 25, addrs, DNS_ADDRS_MAX, &n);
	(void)dns_parse_addrs(data, size, AF_INET6, 25, addrs, DNS_ADDRS_MAX, &n);
	{
		struct dns_txt txt;
		static char names[DNS_PTR_MAX][DNS_HOST_MAX];

		if (dns_parse_txt(data, size, &txt) == DNS_FOUND)
			for (size_t i = 0; i < txt.n; i++)
				if (strlen(txt.rec[i]) != txt.len[i])
					abort();
		dns_txt_free(&txt);
		(void)dns_parse_ptr(data, size, names, DNS_PTR_MAX, &n);
	}
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
	dkim_fuzz((const char *)data, size);
	return 0;
}
