/* The template engine's data model (values set by page handlers) and its
 * escaping writers (template.h). */
#include <ctype.h>
#include <string.h>

#include "charset.h"
#include "template_int.h"

struct tpl_obj *tpl_obj_new(struct arena *a)
{
	struct tpl_shared *sh = arena_alloc(a, sizeof(*sh));
	struct tpl_obj *o = arena_alloc(a, sizeof(*o));
	if (sh == NULL || o == NULL)
		return NULL;
	sh->arena = a;
	o->shared = sh;
	return o;
}

static struct tpl_value *field_get(struct tpl_obj *o, const char *name, bool create)
{
	for (struct tpl_field *f = o->fields; f != NULL; f = f->next) {
		if (strcmp(f->name, name) == 0)
			return &f->v;
	}
	if (!create)
		return NULL;
	struct tpl_field *f = arena_alloc(o->shared->arena, sizeof(*f));
	if (f == NULL || (f->name = arena_strdup(o->shared->arena, name)) == NULL) {
		o->shared->failed = true;
		return NULL;
	}
	f->next = o->fields;
	o->fields = f;
	return &f->v;
}

void tpl_strn(struct tpl_obj *o, const char *name, const char *value, size_t len)
{
	if (o == NULL)
		return;
	struct tpl_value *v = field_get(o, name, true);
	if (v == NULL)
		return;
	char *copy = arena_strndup(o->shared->arena, value == NULL ? "" : value,
				   value == NULL ? 0 : len);
	if (copy == NULL) {
		o->shared->failed = true;
		return;
	}
	*v = (struct tpl_value){ .type = T_STR, .s = copy, .len = value == NULL ? 0 : len };
}

void tpl_str(struct tpl_obj *o, const char *name, const char *value)
{
	tpl_strn(o, name, value, value == NULL ? 0 : strlen(value));
}

void tpl_int(struct tpl_obj *o, const char *name, long long value)
{
	struct tpl_value *v = o == NULL ? NULL : field_get(o, name, true);
	if (v != NULL)
		*v = (struct tpl_value){ .type = T_INT, .i = value };
}

void tpl_bool(struct tpl_obj *o, const char *name, bool value)
{
	struct tpl_value *v = o == NULL ? NULL : field_get(o, name, true);
	if (v != NULL)
		*v = (struct tpl_value){ .type = T_BOOL, .i = value };
}

struct tpl_obj *tpl_obj(struct tpl_obj *o, const char *name)
{
	struct tpl_value *v = o == NULL ? NULL : field_get(o, name, true);
	if (v == NULL)
		return NULL;
	if (v->type != T_OBJ) {
		struct tpl_obj *child = arena_alloc(o->shared->arena, sizeof(*child));
		if (child == NULL) {
			o->shared->failed = true;
			return NULL;
		}
		child->shared = o->shared;
		*v = (struct tpl_value){ .type = T_OBJ, .obj = child };
	}
	return v->obj;
}

void tpl_list(struct tpl_obj *o, const char *name)
{
	struct tpl_value *v = o == NULL ? NULL : field_get(o, name, true);
	if (v != NULL && v->type != T_LIST)
		*v = (struct tpl_value){ .type = T_LIST };
}

struct tpl_obj *tpl_item(struct tpl_obj *o, const char *name)
{
	struct tpl_value *v = o == NULL ? NULL : field_get(o, name, true);
	if (v == NULL)
		return NULL;
	if (v->type != T_LIST)
		*v = (struct tpl_value){ .type = T_LIST };
	struct tpl_item *it = arena_alloc(o->shared->arena, sizeof(*it));
	struct tpl_obj *child = arena_alloc(o->shared->arena, sizeof(*child));
	if (it == NULL || child == NULL) {
		o->shared->failed = true;
		return NULL;
	}
	child->shared = o->shared;
	it->obj = child;
	if (v->last == NULL)
		v->first = it;
	else
		v->last->next = it;
	v->last = it;
	v->count++;
	return child;
}

/* ================================================================ escaping */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > len || !charset_utf8_valid(s, n))
		return 0;
	return n;
}

void tpl_escape_html(struct buf *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t start = 0, i = 0;
	while (i < len) {
		const char *rep = NULL;
		size_t n = 1;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\0': rep = ""; break;
		/* an HTML parser turns CR and CRLF into LF: do it here, so what
		 * is parsed back is what was written */
		case '\r': rep = i + 1 < len && s[i + 1] == '\n' ? "" : "\n"; break;
		default:
			if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\f') || s[i] == 0x7f) {
				rep = "\xef\xbf\xbd";    /* control characters: U+FFFD */
			} else if (s[i] >= 0x80) {
				n = utf8_seq(s + i, len - i);
				if (n == 0) {
					rep = "\xef\xbf\xbd";
					n = 1;
				} else if (n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) {
					rep = "\xef\xbf\xbd";    /* C1 controls */
				}
			}
		}
		if (rep != NULL) {
			buf_append(out, s + start, i - start);
			buf_puts(out, rep);
			start = i + n;
		}
		i += n;
	}
	buf_append(out, s + start, len - start);
}

void tpl_escape_url_part(struct buf *out, const char *str, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0; i < len; i++) {
		if (isalnum(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_' || s[i] == '~') {
			buf_putc(out, (char)s[i]);
		} else {
			char e[3] = { '%', hex[s[i] >> 4], hex[s[i] & 15] };
			buf_append(out, e, 3);
		}
	}
}

bool tpl_url_safe(const char *str, size_t len)
{
	static const char *const schemes[] = { "http", "https", "mailto" };
	const unsigned char *s = (const unsigned char *)str;
	char scheme[16];
	size_t n = 0, i = 0;

	while (i < len && s[i] <= 0x20)   /* the URL parser strips these */
		i++;
	for (; i < len; i++) {
		unsigned char c = s[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;               /* ... and removes these anywhere */
		if (c == ':')
			break;
		if (c == '/' || c == '?' || c == '#')
			return true;            /* no scheme: relative */
		if (!(isalnum(c) || c == '+' || c == '-' || c == '.') || n + 1 >= sizeof(scheme))
			return false;           /* not a scheme we know: refuse */
		scheme[n++] = (char)tolower(c);
	}
	if (i >= len)
		return true;                    /* no colon: relative */
	scheme[n] = '\0';
	for (size_t k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
		if (strcmp(scheme, schemes[k]) == 0)
			return true;
	}
	return false;
}

