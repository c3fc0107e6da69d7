/* RFC 3676 format=flowed plain text: what the compose page's text becomes
 * in a message (lines of at most FLOWED_LINE_WIDTH bytes, soft breaks after
 * a space, space-stuffing, quote marks repeated on every line), and the way
 * back to plain lines for a textarea (quoting a reply, continuing a
 * draft). Pure functions over bytes. */
#ifndef PB_CGI_FLOWED_H
#define PB_CGI_FLOWED_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* RFC 3676 4.2: flowed lines SHOULD be at most 78 characters. */
#define FLOWED_LINE_WIDTH 78

/* Text (any line ends: CRLF, LF, CR) to flowed lines ending in CRLF: a
 * line starting with '>' is quoted (its depth is the run of '>'), hard
 * line ends lose their trailing spaces (except the "-- " signature
 * separator), long lines break after a space (a longer word stays whole).
 * false on out of memory (out->failed). */
bool flowed_encode(const char *text, size_t len, struct buf *out);

/* Flowed text (delsp per its Content-Type) to plain lines ending in LF,
 * soft-broken lines joined, quote marks written as a '>' run and one
 * space. false on out of memory. */
bool flowed_decode(const char *text, size_t len, bool delsp, struct buf *out);

#endif
