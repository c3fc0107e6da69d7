/* Shared checks for the MIME tests: tree invariants, cache round trip,
 * corrupt-blob handling. Every function asserts with cmocka. */
#ifndef PB_TEST_MIME_CHECK_H
#define PB_TEST_MIME_CHECK_H

#include <stddef.h>

#include "mime.h"

/* Parses data with `limits` (NULL = default), asserts the return value is
 * `expect` (1 or 0), checks the invariants and the cache round trip, and
 * returns the tree (free with mime_message_free). */
struct mime_message *mime_check_parse(const char *data, size_t len, const struct mime_limits *limits,
				      int expect);

/* Every invariant promised in mime.h, on any tree (parsed or decoded). */
void mime_check_invariants(const struct mime_message *msg);

/* Encodes, decodes, compares field by field; for small blobs also decodes
 * every truncation and every single-byte corruption (must be refused or
 * yield a valid tree). */
void mime_check_roundtrip(const struct mime_message *msg);

/* Asserts two trees are equal in every field. */
void mime_check_equal(const struct mime_message *a, const struct mime_message *b);

/* Offset of the first occurrence of `needle` in data (asserts it exists). */
size_t mime_check_offset(const char *data, size_t len, const char *needle);

#endif
