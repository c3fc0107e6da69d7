/* The HTML mail sanitizer: untrusted HTML in, a safe HTML fragment out.
 *
 * Built on gumbo, a conformant HTML5 parser: the input is parsed into a tree
 * exactly as a browser would, the tree is walked keeping only allow-listed
 * elements and attributes (everything else is dropped, or for harmless
 * unknown containers unwrapped to their children), URLs are checked and
 * rewritten, and the result is serialised once through the template
 * engine's escaping writers. The output is never edited as a string.
 *
 *  - Dropped with their content: script, style-less foreign content (svg,
 *    math), iframe/object/embed/frames, form controls, template, noscript,
 *    head-only elements (base, meta, link, title), comments, processing
 *    instructions and doctype.
 *  - Links: http, https and mailto only; they get rel="noopener noreferrer"
 *    and target="_blank".
 *  - Images: "cid:" URLs are mapped to the part's download URL by a callback;
 *    remote (http/https) images are removed and counted unless show_images;
 *    data: and every other scheme removed.
 *  - CSS (style attributes and <style> elements): kept only if it holds no
 *    escapes, comments, "expression", "behavior", "-moz-binding",
 *    "javascript", "@import", or url() (url() allowed for http/https when
 *    show_images). A failing declaration is dropped; a failing <style>
 *    element is dropped whole. Only allow-listed properties are kept, in
 *    style attributes and <style> rules alike: position:fixed/absolute/
 *    sticky are dropped (no overlays). A <style> element is rewritten from
 *    its rules (selector and declarations; its comments go) and @media
 *    blocks; other at-rules are dropped.
 * Limits: input beyond SANITIZE_INPUT_MAX is refused (the caller offers a
 * download instead); a parse that needs more than SANITIZE_MEM_MAX(len)
 * bytes or SANITIZE_CPU_MS of CPU time (or what is left of the caller's
 * shared budget) is abandoned (SANITIZE_TOO_COMPLEX);
 * elements nested deeper than SANITIZE_DEPTH_MAX are unwrapped (their text
 * is kept). */
#ifndef PB_CGI_SANITIZE_H
#define PB_CGI_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Bytes of HTML accepted: mail bodies above a few MB are machine-made
 * newsletters with data we cannot show anyway. */
#define SANITIZE_INPUT_MAX ((size_t)8 * 1024 * 1024)
/* Tree depth kept; browsers cap nesting at 512 for parsing, mail rarely
 * passes 50. */
#define SANITIZE_DEPTH_MAX 256
/* Bytes of one style attribute or <style> element examined. */
#define SANITIZE_CSS_MAX (256 * 1024)
/* Memory the parser may take for `len` bytes of HTML: at most 352 MB, at
 * SANITIZE_INPUT_MAX. A table-heavy newsletter needs about 25 bytes per
 * byte, a list of images 41 (what gumbo frees included: the arena frees
 * nothing before the end); open formatting elements that the parser
 * rebuilds in every new paragraph need thousands. */
#define SANITIZE_MEM_BASE ((size_t)32 * 1024 * 1024)
#define SANITIZE_MEM_PER_BYTE 40
#define SANITIZE_MEM_MAX(len) (SANITIZE_MEM_BASE + (size_t)(len) * SANITIZE_MEM_PER_BYTE)
/* CPU time of one parse: an 8 MB newsletter takes half a second; gumbo's
 * time grows with the square of the nesting depth. */
#define SANITIZE_CPU_MS 2000
/* Returned when the parse went past its memory or time budget: nothing was
 * appended. The message is shown as a notice instead (a download remains). */
#define SANITIZE_TOO_COMPLEX 1

/* CPU time that several calls share (the HTML parts of one message page:
 * a mail of many parts each just within SANITIZE_CPU_MS must not add up
 * to minutes). A call may use at most what is left of it, and takes what
 * it used off it; a call that finds it spent returns SANITIZE_TOO_COMPLEX
 * at once, without parsing. Set cpu_ns_left to the shared allowance. */
struct sanitize_budget {
	long long cpu_ns_left;
};

struct sanitize_options {
	bool show_images;
	/* Maps a cid: URL's id (percent-decoded, without "cid:") to a URL, or
	 * NULL if no such part. The string must live until sanitize returns. */
	const char *(*cid_url)(void *ctx, const char *cid);
	void *cid_ctx;
	/* The caller's shared CPU allowance, or NULL: SANITIZE_CPU_MS for
	 * this call alone. */
	struct sanitize_budget *budget;
};

struct sanitize_stats {
	unsigned blocked_images;   /* remote images (and CSS urls) held back */
	unsigned removed;          /* elements and attributes dropped */
};

/* Appends the sanitised body content to `out` (the <style> elements found
 * in the head come first). Returns 0, SANITIZE_TOO_COMPLEX, or -1 if the
 * input is too large or memory ran out (`out` may then hold part of the
 * output: discard it). */
int sanitize_html(const char *html, size_t len, const struct sanitize_options *options,
		  struct buf *out, struct sanitize_stats *stats);

/* The text a reader sees in `html`, for quoting it in a reply: block
 * elements and <br> as line breaks, blank lines between paragraphs, white
 * space collapsed outside <pre>, list items with "- ", links as
 * "text <url>" when the URL is not the text itself; scripts, styles, the
 * head and comments dropped. UTF-8 in, UTF-8 out, no markup. Returns 0,
 * SANITIZE_TOO_COMPLEX, or -1 if the input is too large (SANITIZE_INPUT_MAX)
 * or memory ran out. */
int sanitize_html_text(const char *html, size_t len, struct buf *out);

#endif
