/* Form data: application/x-www-form-urlencoded (bodies and query strings)
 * and multipart/form-data (RFC 7578), parsed once for both front ends.
 *
 * The multipart parser is a pure function over bytes: feed it any split of
 * the body (one byte at a time gives the same result) and it never blocks
 * or reads ahead; "need more" is simply returning 0 from form_parser_feed.
 * Every dimension has a limit (struct form_limits), checked before anything
 * is allocated; exceeding one is an error with the HTTP status to answer
 * (413 for sizes, 400 for syntax). Field names and values (not file
 * contents) must be valid UTF-8 without NUL, else 400. */
#ifndef PB_CGI_FORM_H
#define PB_CGI_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* RFC 2046: a boundary is 1 to 70 characters. Longer ones are refused. */
#define FORM_BOUNDARY_MAX 70
/* Header block of one multipart part: browsers send ~150 bytes. */
#define FORM_PART_HEADER_MAX 8192

struct form_limits {
	size_t body_max;     /* bytes of the whole body (413 past it) */
	size_t fields_max;   /* fields, files included */
	size_t name_max;     /* bytes of a field name */
	size_t value_max;    /* bytes of one non-file value */
	size_t file_max;     /* bytes of one uploaded file */
	size_t files_max;    /* uploaded files */
};

/* For urlencoded bodies and query strings: 1 MiB, 1000 fields of names up to
 * 256 bytes and values up to 256 KiB; no files. */
extern const struct form_limits form_limits_default;

struct form_field {
	const char *name;
	const char *value;      /* NUL-terminated (file contents may hold NULs) */
	size_t value_len;
	const char *filename;   /* NULL unless a file upload */
	const char *content_type; /* multipart only, may be NULL */
};

struct form {
	struct form_field *fields;  /* in the arena */
	size_t count;
};

/* The first value of field `name`, or NULL. */
const char *form_get(const struct form *form, const char *name);
/* Field i of the same name as the first, for repeated fields: calls cb for
 * each value in order. Returns the number of values. */
size_t form_each(const struct form *form, const char *name,
		 void (*cb)(const char *value, void *ctx), void *ctx);

/* Parses urlencoded text ('+' is a space, %XX decoded; "a", "a=" give "").
 * Returns 1, or -1 with *status_r (400/413) and *error_r. */
int form_parse_urlencoded(struct arena *a, const char *s, size_t len,
			  const struct form_limits *limits, struct form *form_r,
			  int *status_r, const char **error_r);

struct form_parser;

/* A parser for a request body of `content_type` (the header value; NULL or
 * empty means no body is expected). Returns NULL with *status_r = 415
 * (unsupported type) or 400 (a multipart boundary missing or longer than
 * FORM_BOUNDARY_MAX) and *error_r; or out of memory (500). */
struct form_parser *form_parser_new(struct arena *a, const char *content_type,
				    const struct form_limits *limits, int *status_r,
				    const char **error_r);
/* Feeds bytes. Returns 0 (go on), or -1 on error (then *status_r, *error_r
 * from form_parser_finish); after an error further bytes are ignored. */
int form_parser_feed(struct form_parser *p, const void *data, size_t len);
/* Ends the body. Returns 1 with the fields, or -1 with the status to answer
 * and a message (e.g. a multipart body without its final boundary: 400). */
int form_parser_finish(struct form_parser *p, struct form *form_r, int *status_r,
		       const char **error_r);

#endif
