/* Plain text for display: format=flowed (RFC 3676) undone, quote levels
 * found, and links (http, https, mailto, www.) made into link segments.
 * The result goes into template values; nothing here writes markup. */
#ifndef PB_CGI_TEXTVIEW_H
#define PB_CGI_TEXTVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "template.h"

/* Quote levels shown (deeper quotes look like this one). */
#define TEXTVIEW_QUOTE_MAX 5

/* Appends to list `name` of `o` blocks {depth, segments: [{text, href}]}:
 * one block per run of lines with the same quote level. `text` is UTF-8;
 * `flowed` / `delsp` from the Content-Type parameters. */
void textview_fill(struct tpl_obj *o, const char *name, const char *text, size_t len,
		   bool flowed, bool delsp);

#endif
