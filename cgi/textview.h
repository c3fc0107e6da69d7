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

/* Blocks and links made for one page (each new block and each link takes
 * one from the budget): a real mail has a few dozen; made-up text (a quote
 * level change on every line, a link every few bytes) would cost hundreds
 * of bytes of page data for each byte of text. */
#define TEXTVIEW_ITEMS_MAX 5000

/* Appends to list `name` of `o` blocks {depth, segments: [{text, href}]}:
 * one block per run of lines with the same quote level. `text` is UTF-8;
 * `flowed` / `delsp` from the Content-Type parameters. `*budget` is what
 * is left of the page's TEXTVIEW_ITEMS_MAX; once it is used up, the text
 * goes on in the block it is in, without links (none of it is lost). */
void textview_fill(struct tpl_obj *o, const char *name, const char *text, size_t len,
		   bool flowed, bool delsp, unsigned *budget);

#endif
