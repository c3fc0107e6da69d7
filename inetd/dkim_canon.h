/* DKIM's "relaxed" canonicalisation (RFC 6376 3.4.2, 3.4.4), the "simple"
 * one a verifier also meets (3.4.1, 3.4.3), and the choice of header fields
 * to sign: pure functions over bytes, no keys, no
 * network (tests/unit/test_dkim_canon.c). dkim_sign.h hashes and signs
 * what these produce.
 *
 * Input is a message as the next hop receives it: CRLF line ends (the
 * relay's DATA encoder makes every line end CRLF before anything is
 * signed), no dot-stuffing. A bare CR or LF is taken as an ordinary byte
 * of a header value and as a line end in the body, as a receiver would
 * have them after its own normalisation. */
#ifndef PB_DKIM_CANON_H
#define PB_DKIM_CANON_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* Header bytes a signer looks at: the MIME parser's own limit on a header
 * block. A longer header is not signed (a real one is a few KB). */
#define DKIM_HEADER_MAX (1024 * 1024)
/* Fields in a header block: past this a header is hostile or broken, and
 * not signed. */
#define DKIM_FIELDS_MAX 1000
/* Instances of one signed field (Received: is not signed): a message with
 * more To: or Subject: fields than this is not signed, so that h= stays a
 * few hundred bytes whatever the input. */
#define DKIM_FIELD_REPEAT_MAX 16
/* The h= value: the longest list the limits above allow. */
#define DKIM_H_MAX 4096

/* Relaxed canonical form of one header field: the name lowercased, the
 * value unfolded (CRLF removed), runs of SP/HTAB made one SP, whitespace
 * at the value's ends and around the colon removed, "name:value\r\n".
 * `out` needs name_len + value_len + 3 bytes; returns the bytes written. */
size_t dkim_canon_header(const char *name, size_t name_len, const char *value, size_t value_len,
			 char *out);

/* Simple canonical form of one header field: the field exactly as received
 * (`field`, from its name to the end of its value, folds included, without
 * the final line break) and CRLF. `out` needs len + 2 bytes; returns the
 * bytes written. */
size_t dkim_canon_header_simple(const char *field, size_t len, char *out);

/* Relaxed body canonicalisation, fed any split of the body: whitespace at
 * line ends removed, runs of SP/HTAB made one SP, empty lines at the end
 * removed, a last line without CRLF given one. An empty body (or one of
 * empty lines) canonicalises to nothing at all (RFC 6376 3.4.4; "simple"
 * would give CRLF). The canonical bytes go to `out` in pieces. */
#define DKIM_BODY_BUF 4096
struct dkim_body {
	void (*out)(void *ctx, const char *data, size_t len);
	void *ctx;
	size_t empty_lines;   /* private: empty lines held back */
	bool wsp;             /* private: whitespace held back within the line */
	bool content;         /* private: the line has content */
	bool cr;              /* private: a CR held back */
	bool simple;          /* private: simple canonicalisation */
	bool any;             /* private: simple: bytes given out */
	size_t n;             /* private: bytes in buf */
	char buf[DKIM_BODY_BUF];
};
void dkim_body_init(struct dkim_body *b, void (*out)(void *ctx, const char *data, size_t len),
		    void *ctx);
/* Simple body canonicalisation (for verifiers) through the same calls:
 * the body as it is, empty lines at its end removed, a last line without
 * CRLF given one; an empty body is one CRLF. Only CRLF ends a line. */
void dkim_body_init_simple(struct dkim_body *b,
			   void (*out)(void *ctx, const char *data, size_t len), void *ctx);
void dkim_body_update(struct dkim_body *b, const char *data, size_t len);
void dkim_body_finish(struct dkim_body *b);

/* The header fields a signature covers (h=) and their canonical form. */
struct dkim_headers {
	char h[DKIM_H_MAX];          /* "from:from:to:subject:..." */
	char *canon;                 /* malloc'd: the fields in h= order, each
					relaxed, CRLF-terminated */
	size_t canon_len;
	char from_domain[STORE_DOMAIN_MAX + 1]; /* of the one From: address,
						   ASCII lowercased, as written */
};

/* Chooses the fields of `header` (the header block, with or without the
 * blank line) to sign: From, To, Cc, Subject, Date, Message-ID, Reply-To,
 * In-Reply-To, References, MIME-Version, Content-Type,
 * Content-Transfer-Encoding and every List-* field, each name listed once
 * per instance, and From once more than present (oversigned: a From added
 * later breaks the signature, RFC 6376 8.15). Instances are hashed from the
 * bottom up (5.4.2). 1 done (*h_r filled: dkim_headers_clear), 0 not to be
 * signed (no From, several From fields or addresses, a From without a
 * domain, limits above) with the reason in *why_r, -1 out of memory. */
int dkim_headers_select(const char *header, size_t len, struct dkim_headers *h_r,
			const char **why_r);
void dkim_headers_clear(struct dkim_headers *h);

#endif
