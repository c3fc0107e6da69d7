/* DKIM-signing a queued message before it leaves (relay.h): which key may
 * sign it, and the bytes the signature covers.
 *
 * The key is the active one (store_dkim_get: a pending key, whose record
 * may not be published yet, never signs) of the domain the sender proved to
 * speak for (outq_entry.dkim_domain, set only for authenticated senders and the
 * relay's own DSNs), used only when the From: address is in that domain or
 * below it (DMARC's relaxed alignment: a DSN from MAILER-DAEMON@mail.
 * example.com is signed by example.com). So a local domain's key never
 * signs mail that merely arrived, From: that domain or not, nor a customer's
 * mail From: another customer's domain.
 *
 * What is signed is what the server reads: the body file through the same
 * DATA encoder as sent (line ends made CRLF, over-long lines broken), less
 * the dot-stuffing the server removes. The relay never rewrites 8-bit
 * content (relay_smtp.c returns it instead), so one signature fits every
 * server of the attempt. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dkim.h"
#include "dkim_canon.h"
#include "dkim_sign.h"
#include "log.h"
#include "password.h"
#include "relay.h"
#include "relay_smtp.h"

#define RELAY_DKIM_CHUNK 65536

/* Whether `domain` is `parent` or below it. */
static bool domain_within(const char *domain, const char *parent)
{
	size_t dl = strlen(domain), pl = strlen(parent);

	if (dl == pl)
		return strcasecmp(domain, parent) == 0;
	return dl > pl && domain[dl - pl - 1] == '.' && strcasecmp(domain + dl - pl, parent) == 0;
}

struct reader {
	char *header;           /* the header block as sent, until the blank line */
	size_t hlen;
	bool in_body;
	struct dkim_signer *signer;
	const char *why;        /* not signed: why */
	int r;                  /* dkim_signer_new's result, once called */
};

/* Encoded bytes, in order: the header is collected up to its blank line,
 * which starts the signer; the rest is body. */
static void reader_feed(struct reader *rd, const char *data, size_t len)
{
	if (rd->in_body) {
		if (rd->signer != NULL)
			dkim_signer_body(rd->signer, data, len);
		return;
	}
	size_t from = rd->hlen >= 3 ? rd->hlen - 3 : 0, take = len;

	if (rd->hlen + len > DKIM_HEADER_MAX + 4)
		take = DKIM_HEADER_MAX + 4 - rd->hlen;
	memcpy(rd->header + rd->hlen, data, take);
	rd->hlen += take;
	for (size_t i = from; i + 4 <= rd->hlen; i++) {
		if (memcmp(rd->header + i, "\r\n\r\n", 4) != 0)
			continue;
		size_t body_at = i + 4, rest = rd->hlen - body_at;

		rd->in_body = true;
		rd->r = dkim_signer_new(rd->header, i + 2, &rd->signer, &rd->why);
		/* What followed the blank line in this piece, then the rest. */
		if (rd->signer != NULL)
			dkim_signer_body(rd->signer, rd->header + body_at, rest);
		if (take < len && rd->signer != NULL)
			dkim_signer_body(rd->signer, data + take, len - take);
		return;
	}
	if (rd->hlen > DKIM_HEADER_MAX) {
		rd->in_body = true;
		rd->r = 0;
		rd->why = "the header is too long";
	}
}

/* Reads the message as it will be sent into a signer. 1, 0 not signable
 * (why in rd->why), -1. */
static int message_read(int fd, struct reader *rd, const char **error_r)
{
	char *in = malloc(RELAY_DKIM_CHUNK), *out = malloc(2 * RELAY_DKIM_CHUNK + 8);
	struct relay_dot dot;
	uint64_t off = 0;
	int r = -1;

	rd->header = malloc(DKIM_HEADER_MAX + 5);
	if (in == NULL || out == NULL || rd->header == NULL) {
		*error_r = "out of memory";
		goto out;
	}
	relay_dot_init(&dot);
	dot.stuff = false;
	for (;;) {
		ssize_t n = pread(fd, in, RELAY_DKIM_CHUNK, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = strerror(errno);
			goto out;
		}
		if (n == 0)
			break;
		off += (uint64_t)n;
		reader_feed(rd, out, relay_dot_encode(&dot, in, (size_t)n, out));
	}
	/* The final CRLF data_send adds to a message without one, not the dot. */
	reader_feed(rd, out, relay_dot_finish(&dot, out) - 3);
	if (!rd->in_body) {
		/* No blank line: all header, an empty body. */
		rd->in_body = true;
		rd->r = dkim_signer_new(rd->header, rd->hlen, &rd->signer, &rd->why);
	}
	r = rd->r;
	if (r < 0)
		*error_r = rd->why;
out:
	free(in);
	free(out);
	free(rd->header);
	rd->header = NULL;
	return r;
}

void relay_dkim_sign(struct relay *relay, const struct outq_entry *e, int fd, char **field_r,
		     size_t *len_r)
{
	struct store_dkim *key = NULL;
	struct reader rd = { 0 };
	char from[STORE_DOMAIN_MAX + 1];
	const char *error = NULL;
	int r;

	*field_r = NULL;
	*len_r = 0;
	if (e->dkim_domain[0] == '\0') {
		log_info("queue=%s dkim=none: not sent by an authenticated user", e->id);
		return;
	}
	if ((key = malloc(sizeof(*key))) == NULL) {
		log_error("queue=%s dkim: out of memory", e->id);
		return;
	}
	r = store_dkim_get(relay->store, e->dkim_domain, key, &error);
	if (r <= 0) {
		if (r < 0)
			log_error("queue=%s dkim: %s", e->id, error);
		else
			log_info("queue=%s dkim=none: %s", e->id, error != NULL ? error
				 : "no DKIM key");
		goto out;
	}
	r = message_read(fd, &rd, &error);
	if (r <= 0) {
		if (r < 0)
			log_error("queue=%s dkim: not signed: %s", e->id, error);
		else
			log_info("queue=%s dkim=none: %s", e->id, rd.why);
		goto out;
	}
	/* A From: domain in U-labels is compared in its A-labels. */
	if (store_domain_ascii(dkim_signer_from_domain(rd.signer), from, &error) != 1)
		snprintf(from, sizeof(from), "%s", dkim_signer_from_domain(rd.signer));
	if (!domain_within(from, e->dkim_domain)) {
		log_info("queue=%s dkim=none: From: is in %s, the sender speaks for %s", e->id, from,
			 e->dkim_domain);
		goto out;
	}
	struct dkim_sign_key k = { .domain = e->dkim_domain, .selector = key->selector,
				   .alg = key->alg, .pem = key->pem, .pem_len = key->pem_len };

	r = dkim_signer_finish(&rd.signer, &k, (int64_t)time(NULL), field_r, len_r, &error);
	if (r <= 0) {
		log_error("queue=%s dkim: not signed: %s", e->id, error);
		goto out;
	}
	log_info("queue=%s dkim=signed d=%s s=%s a=%s", e->id, e->dkim_domain, key->selector,
		 dkim_alg_sig_name(key->alg));
out:
	dkim_signer_free(&rd.signer);
	if (key != NULL) {
		password_wipe(key, sizeof(*key));
		free(key);
	}
}
