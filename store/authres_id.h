/* Whose Authentication-Results field is this (RFC 8601 2.2, 5): the one
 * reading of a field's authserv-id, shared by smtpd, which removes fields
 * naming our host from incoming mail (inetd/mailauth.c), and the webmail,
 * which trusts only those (cgi/authres.c). Were the two to read it apart, a
 * field smtpd keeps as another host's could pass for ours. */
#ifndef PB_AUTHRES_ID_H
#define PB_AUTHRES_ID_H

#include <stdbool.h>
#include <stddef.h>

/* The end of the header field that starts at h[p]: past its continuation
 * lines (those starting with SP or HTAB); len when it runs to the end. */
size_t authres_field_end(const char *h, size_t len, size_t p);

/* From v[i], past folding white space and (nested, escaped) comments; an
 * unterminated comment runs to the end (n). */
size_t authres_skip_cfws(const char *v, size_t n, size_t i);

/* Whether the field value v[0..n) (after the colon) names `id`: its first
 * run up to white space, ';' or '(' after CFWS, a quoted one compared
 * without its quotes, case-insensitively. *after_r (may be NULL): where
 * the run ends. An empty id names nothing. */
bool authres_names_id(const char *v, size_t n, const char *id, size_t *after_r);

#endif
