/* Templates: the only writer of user data into webmail responses.
 *
 * A template is an HTML file in templates/ (name.html) with slots:
 *   {{name}}  {{a.b}}            a value, escaped for where it stands
 *   {{#if x}} .. {{else}} .. {{/if}}   {{#unless x}} .. {{/unless}}
 *   {{#each list}} .. {{/each}}  (inside: the item's fields, @index, @number)
 *   {{> name}}                    include another template (in text only)
 *   {{! comment }}
 * The engine reads the HTML around each slot when it compiles a template
 * and picks the escaping from there, so a template author cannot forget it:
 *   - in text:                     HTML-escaped (& < > " ')
 *   - in a quoted attribute:       attribute-escaped (same set)
 *   - at the start of href/src/action/formaction/poster/cite: a URL whose
 *     scheme must be http, https or mailto (or none: a relative URL), else
 *     "#blocked"; then attribute-escaped
 *   - further on in such an attribute: percent-encoded (a path segment or a
 *     query value)
 * A slot anywhere else (tag or attribute names, unquoted values, style and
 * on* attributes, <script>, <style>, comments) is a compile error, and so
 * are blocks whose branches end in a different HTML context. Values of type
 * "html" (only the engine makes them: the rendered page given to a layout
 * as {{content}}) are written as they are, in text only.
 *
 * Invalid UTF-8 in a value is replaced by U+FFFD on output.
 * Templates are found in a list of directories, the first one that has the
 * file wins (site overrides first). Compiled templates may be cached
 * (webmaild): safe to use from several threads. */
#ifndef PB_CGI_TEMPLATE_H
#define PB_CGI_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Bytes of one template file: ours are a few KiB. */
#define TPL_FILE_MAX (256 * 1024)
/* Nesting of blocks in one template, and of scopes while rendering. */
#define TPL_DEPTH_MAX 32
/* Includes inside includes. */
#define TPL_INCLUDE_DEPTH_MAX 8
/* Template names: [a-z0-9_]{1,TPL_NAME_MAX}. */
#define TPL_NAME_MAX 64

/* ------------------------------------------------------------ the data */

struct tpl_obj;

/* A new empty object in arena `a` (NULL on out of memory). Setting a field
 * twice keeps the last value. Out of memory inside a setter is remembered and
 * makes tpl_render fail; setters on a NULL object do nothing. Strings are
 * copied into the arena. */
struct tpl_obj *tpl_obj_new(struct arena *a);
void tpl_str(struct tpl_obj *o, const char *name, const char *value);
void tpl_strn(struct tpl_obj *o, const char *name, const char *value, size_t len);
void tpl_int(struct tpl_obj *o, const char *name, long long value);
void tpl_bool(struct tpl_obj *o, const char *name, bool value);
/* A nested object {{name.field}} (created on first use). */
struct tpl_obj *tpl_obj(struct tpl_obj *o, const char *name);
/* Appends a new object to the list `name` (created on first use). */
struct tpl_obj *tpl_item(struct tpl_obj *o, const char *name);
/* Makes the list `name` exist (empty), so {{#if name}} is false. */
void tpl_list(struct tpl_obj *o, const char *name);

/* ------------------------------------------------------------ rendering */

struct tpl_set;

/* dirs: directories searched in order (NULL entries skipped). `cache`: keep
 * compiled templates (a server); else compile on every use (a CGI process
 * renders one page). Returns 0, or -1 out of memory. */
int tpl_set_new(const char *const *dirs, size_t ndirs, bool cache, struct tpl_set **set_r);
void tpl_set_free(struct tpl_set **set);

/* Renders template `name` with `data` appended to `out`. Returns 0, or -1
 * with a message in err (missing file, syntax error with file:line, a value
 * of the wrong kind, out of memory); `out` may then hold part of a page. */
int tpl_render(struct tpl_set *set, const char *name, const struct tpl_obj *data,
	       struct buf *out, char *err, size_t errsize);

/* Renders `page`, then `layout` with the page's output as {{content}} and
 * `data`'s fields visible too. */
int tpl_render_page(struct tpl_set *set, const char *page, const char *layout,
		    const struct tpl_obj *data, struct buf *out, char *err, size_t errsize);

/* Renders `layout` with `html` (trusted markup: the HTML sanitizer's
 * output) as {{content}} and `data`'s fields visible too. */
int tpl_render_html(struct tpl_set *set, const char *layout, const struct tpl_obj *data,
		    const char *html, size_t html_len, struct buf *out, char *err, size_t errsize);

/* Compiles template text (for tests and for checking a site's overrides).
 * Returns 0, or -1 with err. */
int tpl_check(const char *text, size_t len, char *err, size_t errsize);

/* ------------------------------------------------------------ escaping */
/* The writers the engine uses, exported for the HTML sanitizer's serialiser
 * (the only other place that writes mail content into a response). */

/* & < > " ' as entities; invalid UTF-8, C0 (but tab, LF, FF) and C1
 * controls as U+FFFD; CRLF and CR as LF; NUL dropped. */
void tpl_escape_html(struct buf *out, const char *s, size_t len);
/* Percent-encodes every byte but A-Z a-z 0-9 - . _ ~ */
void tpl_escape_url_part(struct buf *out, const char *s, size_t len);
/* true if `s` is a URL we link to: relative, or http:, https:, mailto:
 * (tabs, newlines and leading controls ignored as browsers do). */
bool tpl_url_safe(const char *s, size_t len);

#endif
