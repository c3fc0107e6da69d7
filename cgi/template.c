/* The template engine (template.h): the compiler with its HTML context
 * scanner, the template set, and the renderer. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template_int.h"

/* ================================================================ compiler */

enum ctx { CTX_HTML, CTX_ATTR, CTX_URL_START, CTX_URL_PART };

enum node_type { N_TEXT, N_VAR, N_IF, N_EACH, N_INCLUDE };

struct node {
	enum node_type type;
	struct node *next;
	const char *text;      /* N_TEXT: literal; N_VAR/N_IF/N_EACH: path; N_INCLUDE: name */
	size_t len;
	enum ctx ctx;          /* N_VAR */
	bool negate;           /* N_IF from #unless */
	struct node *body, *alt;
	unsigned line;
};

struct tpl {
	char name[TPL_NAME_MAX + 1];
	struct arena *arena;
	struct node *nodes;
	struct tpl *next;      /* cache list */
};

/* The HTML scanner: where in the markup the literal text leaves us. */
enum scan_state {
	S_TEXT, S_TAG_OPEN, S_TAG_NAME, S_END_TAG, S_IN_TAG, S_ATTR_NAME, S_AFTER_ATTR_NAME,
	S_BEFORE_VALUE, S_VALUE_DQ, S_VALUE_SQ, S_VALUE_UNQ, S_MARKUP_DECL, S_COMMENT,
	S_RAWTEXT,
};

enum attr_kind { A_NORMAL, A_URL, A_FORBIDDEN };

struct scan {
	enum scan_state state;
	enum attr_kind attr;
	bool value_started;     /* URL attribute: something was written already */
	char tag[16];           /* current tag name, lowercase (truncated) */
	size_t taglen;
	char name[24];          /* current attribute name, lowercase (truncated) */
	size_t namelen;
	char raw_end[16];       /* "</script" or "</style" while in S_RAWTEXT */
	size_t raw_match;
	bool rcdata;            /* <title>, <textarea>: text, entities decoded */
	int dashes;             /* comment: '-' seen in a row */
};

static enum attr_kind attr_kind_of(const char *name)
{
	static const char *const url_attrs[] = { "href", "src", "action", "formaction",
						 "poster", "cite", "background", "data" };
	if (strncmp(name, "on", 2) == 0 || strcmp(name, "style") == 0 ||
	    strcmp(name, "srcdoc") == 0 || strcmp(name, "srcset") == 0)
		return A_FORBIDDEN;
	for (size_t i = 0; i < sizeof(url_attrs) / sizeof(url_attrs[0]); i++) {
		if (strcmp(name, url_attrs[i]) == 0)
			return A_URL;
	}
	return A_NORMAL;
}

static void scan_tag_end(struct scan *sc)
{
	if (strcmp(sc->tag, "script") == 0 || strcmp(sc->tag, "style") == 0 ||
	    strcmp(sc->tag, "textarea") == 0 || strcmp(sc->tag, "title") == 0) {
		snprintf(sc->raw_end, sizeof(sc->raw_end), "</%s", sc->tag);
		sc->raw_match = 0;
		sc->rcdata = sc->tag[0] == 't';
		sc->state = S_RAWTEXT;
	} else {
		sc->state = S_TEXT;
	}
}

static void scan_attr_done(struct scan *sc)
{
	sc->name[sc->namelen] = '\0';
	sc->attr = attr_kind_of(sc->name);
	sc->value_started = false;
}

static void scan_text(struct scan *sc, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		char lc = (char)tolower((unsigned char)c);
		bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
		switch (sc->state) {
		case S_TEXT:
			if (c == '<')
				sc->state = S_TAG_OPEN;
			break;
		case S_TAG_OPEN:
			if (isalpha((unsigned char)c)) {
				sc->state = S_TAG_NAME;
				sc->tag[0] = lc;
				sc->taglen = 1;
				sc->tag[1] = '\0';
			} else if (c == '/') {
				sc->state = S_END_TAG;
			} else if (c == '!') {
				sc->state = S_MARKUP_DECL;
				sc->dashes = 0;
			} else {
				sc->state = S_TEXT;
			}
			break;
		case S_TAG_NAME:
			if (space) {
				sc->state = S_IN_TAG;
			} else if (c == '>') {
				scan_tag_end(sc);
			} else if (c == '/') {
				sc->state = S_IN_TAG;
			} else if (sc->taglen + 1 < sizeof(sc->tag)) {
				sc->tag[sc->taglen++] = lc;
				sc->tag[sc->taglen] = '\0';
			}
			break;
		case S_END_TAG:
			if (c == '>')
				sc->state = S_TEXT;
			break;
		case S_MARKUP_DECL:
			if (c == '-' && ++sc->dashes == 2) {
				sc->state = S_COMMENT;
				sc->dashes = 0;
			} else if (c == '>') {
				sc->state = S_TEXT;
			} else if (c != '-') {
				sc->dashes = 0;
			}
			break;
		case S_COMMENT:
			if (c == '>' && sc->dashes >= 2)
				sc->state = S_TEXT;
			sc->dashes = c == '-' ? sc->dashes + 1 : 0;
			break;
		case S_IN_TAG:
			if (c == '>') {
				scan_tag_end(sc);
			} else if (!space && c != '/') {
				sc->state = S_ATTR_NAME;
				sc->name[0] = lc;
				sc->namelen = 1;
			}
			break;
		case S_ATTR_NAME:
			if (c == '=') {
				scan_attr_done(sc);
				sc->state = S_BEFORE_VALUE;
			} else if (space) {
				scan_attr_done(sc);
				sc->state = S_AFTER_ATTR_NAME;
			} else if (c == '>') {
				scan_tag_end(sc);
			} else if (sc->namelen + 1 < sizeof(sc->name)) {
				sc->name[sc->namelen++] = lc;
			}
			break;
		case S_AFTER_ATTR_NAME:
			if (c == '=') {
				sc->state = S_BEFORE_VALUE;
			} else if (c == '>') {
				scan_tag_end(sc);
			} else if (!space) {
				sc->state = S_ATTR_NAME;
				sc->name[0] = lc;
				sc->namelen = 1;
			}
			break;
		case S_BEFORE_VALUE:
			if (c == '"')
				sc->state = S_VALUE_DQ;
			else if (c == '\'')
				sc->state = S_VALUE_SQ;
			else if (c == '>')
				scan_tag_end(sc);
			else if (!space)
				sc->state = S_VALUE_UNQ;
			break;
		case S_VALUE_DQ:
		case S_VALUE_SQ:
			if (c == (sc->state == S_VALUE_DQ ? '"' : '\''))
				sc->state = S_IN_TAG;
			else
				sc->value_started = true;
			break;
		case S_VALUE_UNQ:
			if (space)
				sc->state = S_IN_TAG;
			else if (c == '>')
				scan_tag_end(sc);
			break;
		case S_RAWTEXT:
			if (lc == sc->raw_end[sc->raw_match]) {
				if (sc->raw_end[++sc->raw_match] == '\0') {
					sc->state = S_END_TAG;
					sc->raw_match = 0;
				}
			} else {
				sc->raw_match = lc == '<' ? 1 : 0;
			}
			break;
		}
	}
}

/* Inside a tag, "at an attribute name" and "between attributes" are the
 * same place for a block: `<input{{#if x}} checked{{/if}}>`. */
static enum scan_state scan_norm(enum scan_state s)
{
	return s == S_ATTR_NAME || s == S_AFTER_ATTR_NAME ? S_IN_TAG : s;
}

static bool scan_same(const struct scan *a, const struct scan *b)
{
	if (scan_norm(a->state) != scan_norm(b->state))
		return false;
	if ((a->state == S_VALUE_DQ || a->state == S_VALUE_SQ) && a->attr != b->attr)
		return false;
	return true;
}

struct compiler {
	struct arena *arena;
	const char *file;
	char *err;
	size_t errsize;
	unsigned line;
};

static int cerr(struct compiler *c, const char *what)
{
	snprintf(c->err, c->errsize, "%s:%u: %s", c->file, c->line, what);
	return -1;
}

static bool path_valid(const char *p, size_t len)
{
	if (len == 0 || len > 128)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!(isalnum((unsigned char)p[i]) || p[i] == '_' || p[i] == '.' || p[i] == '@'))
			return false;
	}
	return true;
}

static bool name_valid(const char *p, size_t len)
{
	if (len == 0 || len > TPL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!(islower((unsigned char)p[i]) || isdigit((unsigned char)p[i]) || p[i] == '_'))
			return false;
	}
	return true;
}

struct open_block {
	struct node *node;
	struct node **tail;     /* where the next node of the current branch goes */
	struct scan at_start;   /* scanner state when the block opened */
	struct scan then_end;   /* at {{else}} */
	bool in_else;
	const char *kind;       /* "if", "unless", "each" */
};

static const char *trim(const char *s, const char *e, size_t *len_r)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*len_r = (size_t)(e - s);
	return s;
}

static struct node *node_new(struct compiler *c, enum node_type type, const char *text, size_t len)
{
	struct node *n = arena_alloc(c->arena, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->type = type;
	n->line = c->line;
	if (text != NULL && (n->text = arena_strndup(c->arena, text, len)) == NULL)
		return NULL;
	n->len = len;
	return n;
}

static void count_lines(struct compiler *c, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		c->line += p[i] == '\n';
}

static int compile(struct compiler *c, const char *text, size_t len, struct node **nodes_r)
{
	struct open_block stack[TPL_DEPTH_MAX];
	size_t depth = 0;
	struct node *root = NULL, **tail = &root;
	struct scan sc = { .state = S_TEXT };
	const char *p = text, *end = text + len;

	c->line = 1;
	while (p < end) {
		const char *open = memmem(p, (size_t)(end - p), "{{", 2);
		const char *lit_end = open == NULL ? end : open;
		if (lit_end > p) {
			struct node *n = node_new(c, N_TEXT, p, (size_t)(lit_end - p));
			if (n == NULL)
				return cerr(c, "out of memory");
			*tail = n;
			tail = &n->next;
			scan_text(&sc, p, (size_t)(lit_end - p));
			count_lines(c, p, (size_t)(lit_end - p));
		}
		if (open == NULL)
			break;
		const char *close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
		if (close == NULL)
			return cerr(c, "'{{' without '}}'");
		const char *in = open + 2;
		size_t n_len;
		p = close + 2;
		if (*in == '!') {
			count_lines(c, open, (size_t)(p - open));
			continue;
		}
		if (*in == '#') {
			const char *kw = in + 1, *sp = kw;
			while (sp < close && isalpha((unsigned char)*sp))
				sp++;
			const char *arg = trim(sp, close, &n_len);
			const char *kind;
			enum node_type type = N_IF;
			bool negate = false;
			if (sp - kw == 2 && memcmp(kw, "if", 2) == 0) {
				kind = "if";
			} else if (sp - kw == 6 && memcmp(kw, "unless", 6) == 0) {
				kind = "unless";
				negate = true;
			} else if (sp - kw == 4 && memcmp(kw, "each", 4) == 0) {
				kind = "each";
				type = N_EACH;
			} else {
				return cerr(c, "unknown block (use #if, #unless, #each)");
			}
			if (!path_valid(arg, n_len))
				return cerr(c, "bad name in a block");
			if (depth == TPL_DEPTH_MAX)
				return cerr(c, "blocks nested too deeply");
			struct node *n = node_new(c, type, arg, n_len);
			if (n == NULL)
				return cerr(c, "out of memory");
			n->negate = negate;
			*tail = n;
			tail = &n->next;
			stack[depth++] = (struct open_block){ .node = n, .tail = tail, .at_start = sc,
							      .kind = kind };
			tail = &n->body;
			continue;
		}
		if (*in == '/') {
			const char *kw = trim(in + 1, close, &n_len);
			if (depth == 0)
				return cerr(c, "a closing tag without a block");
			struct open_block *b = &stack[depth - 1];
			if (strlen(b->kind) != n_len || memcmp(kw, b->kind, n_len) != 0)
				return cerr(c, "the closing tag does not match the open block");
			if (b->node->type == N_EACH) {
				if (!scan_same(&sc, &b->at_start))
					return cerr(c, "a loop body must end in the HTML context it starts in");
			} else if (b->in_else) {
				if (!scan_same(&sc, &b->then_end))
					return cerr(c, "the branches of a block end in different HTML contexts");
			} else if (!scan_same(&sc, &b->at_start)) {
				return cerr(c, "a block must end in the HTML context it starts in");
			}
			if (b->in_else && sc.value_started != b->then_end.value_started)
				sc.value_started = true;
			else if (!b->in_else && sc.value_started != b->at_start.value_started)
				sc.value_started = true;
			if (scan_norm(sc.state) == S_IN_TAG)
				sc.state = S_IN_TAG;
			tail = b->tail;
			depth--;
			continue;
		}
		if (*in == '>') {
			const char *name = trim(in + 1, close, &n_len);
			if (!name_valid(name, n_len))
				return cerr(c, "bad template name in an include");
			if (sc.state != S_TEXT)
				return cerr(c, "an include must stand in text, not inside a tag");
			struct node *n = node_new(c, N_INCLUDE, name, n_len);
			if (n == NULL)
				return cerr(c, "out of memory");
			*tail = n;
			tail = &n->next;
			continue;
		}
		const char *name = trim(in, close, &n_len);
		if (n_len == 4 && memcmp(name, "else", 4) == 0) {
			if (depth == 0 || stack[depth - 1].node->type != N_IF || stack[depth - 1].in_else)
				return cerr(c, "{{else}} outside an #if or #unless");
			struct open_block *b = &stack[depth - 1];
			b->in_else = true;
			b->then_end = sc;
			sc = b->at_start;
			tail = &b->node->alt;
			continue;
		}
		if (!path_valid(name, n_len))
			return cerr(c, "bad slot name");
		enum ctx ctx;
		switch (sc.state) {
		case S_TEXT:
			ctx = CTX_HTML;
			break;
		case S_VALUE_DQ:
		case S_VALUE_SQ:
			if (sc.attr == A_FORBIDDEN)
				return cerr(c, "a slot in a style, srcset or event handler attribute");
			ctx = sc.attr == A_NORMAL ? CTX_ATTR
			      : sc.value_started ? CTX_URL_PART : CTX_URL_START;
			sc.value_started = true;
			break;
		case S_RAWTEXT:
			if (!sc.rcdata)
				return cerr(c, "a slot inside <script> or <style>");
			ctx = CTX_HTML;   /* <title>, <textarea>: escaped text is safe */
			break;
		case S_COMMENT:
		case S_MARKUP_DECL:
			return cerr(c, "a slot inside an HTML comment or declaration");
		default:
			return cerr(c, "a slot inside a tag must stand in a quoted attribute value");
		}
		struct node *n = node_new(c, N_VAR, name, n_len);
		if (n == NULL)
			return cerr(c, "out of memory");
		n->ctx = ctx;
		*tail = n;
		tail = &n->next;
	}
	if (depth > 0) {
		c->line = stack[depth - 1].node->line;   /* where it opened */
		return cerr(c, "this block is not closed by the end of the file");
	}
	if (sc.state != S_TEXT)
		return cerr(c, "the file ends inside a tag, comment or <script>/<style>");
	*nodes_r = root;
	return 0;
}

int tpl_check(const char *text, size_t len, char *err, size_t errsize)
{
	struct arena *a = arena_new();
	if (a == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	struct compiler c = { .arena = a, .file = "(text)", .err = err, .errsize = errsize };
	struct node *nodes;
	int r = compile(&c, text, len, &nodes);
	arena_free(&a);
	return r;
}

/* ================================================================ the set */

struct tpl_set {
	char **dirs;
	size_t ndirs;
	bool cache;
	pthread_mutex_t lock;
	struct tpl *cached;
};

int tpl_set_new(const char *const *dirs, size_t ndirs, bool cache, struct tpl_set **set_r)
{
	struct tpl_set *set = calloc(1, sizeof(*set));
	if (set == NULL)
		return -1;
	set->dirs = calloc(ndirs + 1, sizeof(char *));
	if (set->dirs == NULL) {
		free(set);
		return -1;
	}
	for (size_t i = 0; i < ndirs; i++) {
		if (dirs[i] == NULL)
			continue;
		if ((set->dirs[set->ndirs] = strdup(dirs[i])) == NULL) {
			tpl_set_free(&set);
			return -1;
		}
		set->ndirs++;
	}
	set->cache = cache;
	pthread_mutex_init(&set->lock, NULL);
	*set_r = set;
	return 0;
}

static void tpl_free(struct tpl *t)
{
	if (t == NULL)
		return;
	arena_free(&t->arena);
	free(t);
}

void tpl_set_free(struct tpl_set **setp)
{
	struct tpl_set *set = *setp;
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->ndirs; i++)
		free(set->dirs[i]);
	free(set->dirs);
	struct tpl *t = set->cached;
	while (t != NULL) {
		struct tpl *next = t->next;
		tpl_free(t);
		t = next;
	}
	pthread_mutex_destroy(&set->lock);
	free(set);
	*setp = NULL;
}

/* Reads dir/name.html from the first directory that has it. */
static int tpl_read(struct tpl_set *set, const char *name, char **text_r, size_t *len_r,
		    char *path, size_t pathsize, char *err, size_t errsize)
{
	for (size_t i = 0; i < set->ndirs; i++) {
		snprintf(path, pathsize, "%s/%s.html", set->dirs[i], name);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			return -1;
		}
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TPL_FILE_MAX) {
			snprintf(err, errsize, "%s: not a regular file of at most %d bytes", path,
				 TPL_FILE_MAX);
			close(fd);
			return -1;
		}
		char *text = malloc((size_t)st.st_size + 1);
		size_t got = 0;
		while (text != NULL && got < (size_t)st.st_size) {
			ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		close(fd);
		if (text == NULL || got != (size_t)st.st_size) {
			free(text);
			snprintf(err, errsize, "%s: cannot read it", path);
			return -1;
		}
		text[got] = '\0';
		*text_r = text;
		*len_r = got;
		return 0;
	}
	snprintf(err, errsize, "template %s.html not found in the template directories", name);
	return -1;
}

static struct tpl *tpl_load(struct tpl_set *set, const char *name, char *err, size_t errsize)
{
	if (!name_valid(name, strlen(name))) {
		snprintf(err, errsize, "bad template name");
		return NULL;
	}
	if (set->cache) {
		pthread_mutex_lock(&set->lock);
		for (struct tpl *t = set->cached; t != NULL; t = t->next) {
			if (strcmp(t->name, name) == 0) {
				pthread_mutex_unlock(&set->lock);
				return t;
			}
		}
		pthread_mutex_unlock(&set->lock);
	}
	char path[1024], *text;
	size_t len;
	if (tpl_read(set, name, &text, &len, path, sizeof(path), err, errsize) < 0)
		return NULL;
	struct tpl *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->arena = arena_new()) == NULL) {
		free(t);
		free(text);
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	struct compiler c = { .arena = t->arena, .file = path, .err = err, .errsize = errsize };
	int r = compile(&c, text, len, &t->nodes);
	free(text);
	if (r < 0) {
		tpl_free(t);
		return NULL;
	}
	if (set->cache) {
		pthread_mutex_lock(&set->lock);
		for (struct tpl *o = set->cached; o != NULL; o = o->next) {
			if (strcmp(o->name, name) == 0) { /* another thread was quicker */
				pthread_mutex_unlock(&set->lock);
				tpl_free(t);
				return o;
			}
		}
		t->next = set->cached;
		set->cached = t;
		pthread_mutex_unlock(&set->lock);
	}
	return t;
}

/* ================================================================ render */

struct frame {
	const struct tpl_obj *obj;
	long long index;        /* loop frames: 0-based position; -1 otherwise */
};

struct render {
	struct tpl_set *set;
	struct buf *out;
	char *err;
	size_t errsize;
	struct frame frames[TPL_DEPTH_MAX * (TPL_INCLUDE_DEPTH_MAX + 1) + 2];
	size_t nframes;
	unsigned include_depth;
	struct tpl *loaded[TPL_INCLUDE_DEPTH_MAX * 4 + 1]; /* uncached includes to free */
	size_t nloaded;
	const char *file;
};

static const struct tpl_value *obj_get(const struct tpl_obj *o, const char *name, size_t len)
{
	for (const struct tpl_field *f = o->fields; f != NULL; f = f->next) {
		if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
			return &f->v;
	}
	return NULL;
}

static const struct tpl_value *lookup(struct render *r, const char *path, struct tpl_value *tmp)
{
	const char *dot = strchr(path, '.');
	size_t first = dot == NULL ? strlen(path) : (size_t)(dot - path);
	const struct tpl_value *v = NULL;

	if (path[0] == '@') {
		for (size_t i = r->nframes; i-- > 0;) {
			if (r->frames[i].index < 0)
				continue;
			*tmp = (struct tpl_value){ .type = T_INT };
			if (strcmp(path, "@index") == 0)
				tmp->i = r->frames[i].index;
			else if (strcmp(path, "@number") == 0)
				tmp->i = r->frames[i].index + 1;
			else
				return NULL;
			return tmp;
		}
		return NULL;
	}
	for (size_t i = r->nframes; i-- > 0 && v == NULL;)
		v = obj_get(r->frames[i].obj, path, first);
	while (v != NULL && dot != NULL) {
		const char *seg = dot + 1;
		dot = strchr(seg, '.');
		size_t n = dot == NULL ? strlen(seg) : (size_t)(dot - seg);
		v = v->type == T_OBJ ? obj_get(v->obj, seg, n) : NULL;
	}
	return v;
}

static bool truthy(const struct tpl_value *v)
{
	if (v == NULL)
		return false;
	switch (v->type) {
	case T_STR:
	case T_HTML:
		return v->len > 0;
	case T_INT:
	case T_BOOL:
		return v->i != 0;
	case T_OBJ:
		return true;
	case T_LIST:
		return v->count > 0;
	default:
		return false;
	}
}

static int rerr(struct render *r, const struct node *n, const char *what)
{
	snprintf(r->err, r->errsize, "%s:%u: %s", r->file, n->line, what);
	return -1;
}

static int write_var(struct render *r, const struct node *n, const struct tpl_value *v)
{
	char num[32];
	const char *s = "";
	size_t len = 0;

	if (v != NULL) {
		switch (v->type) {
		case T_STR:
			s = v->s;
			len = v->len;
			break;
		case T_HTML:
			if (n->ctx != CTX_HTML)
				return rerr(r, n, "an HTML value in an attribute");
			buf_append(r->out, v->s, v->len);
			return 0;
		case T_INT:
			len = (size_t)snprintf(num, sizeof(num), "%lld", v->i);
			s = num;
			break;
		case T_BOOL:
			s = v->i ? "true" : "false";
			len = strlen(s);
			break;
		case T_OBJ:
		case T_LIST:
			return rerr(r, n, "a list or object in a slot");
		default:
			break;
		}
	}
	switch (n->ctx) {
	case CTX_HTML:
	case CTX_ATTR:
		tpl_escape_html(r->out, s, len);
		break;
	case CTX_URL_START:
		if (tpl_url_safe(s, len))
			tpl_escape_html(r->out, s, len);
		else
			buf_puts(r->out, "#blocked");
		break;
	case CTX_URL_PART:
		tpl_escape_url_part(r->out, s, len);
		break;
	}
	return 0;
}

static int render_tpl(struct render *r, const char *name);

static int render_nodes(struct render *r, const struct node *n)
{
	struct tpl_value tmp;
	for (; n != NULL; n = n->next) {
		switch (n->type) {
		case N_TEXT:
			buf_append(r->out, n->text, n->len);
			break;
		case N_VAR:
			if (write_var(r, n, lookup(r, n->text, &tmp)) < 0)
				return -1;
			break;
		case N_IF: {
			bool t = truthy(lookup(r, n->text, &tmp)) != n->negate;
			if (render_nodes(r, t ? n->body : n->alt) < 0)
				return -1;
			break;
		}
		case N_EACH: {
			const struct tpl_value *v = lookup(r, n->text, &tmp);
			if (v == NULL || v->type != T_LIST)
				break;
			if (r->nframes == sizeof(r->frames) / sizeof(r->frames[0]))
				return rerr(r, n, "loops nested too deeply");
			long long i = 0;
			for (const struct tpl_item *it = v->first; it != NULL; it = it->next, i++) {
				r->frames[r->nframes++] = (struct frame){ .obj = it->obj, .index = i };
				int ret = render_nodes(r, n->body);
				r->nframes--;
				if (ret < 0)
					return -1;
			}
			break;
		}
		case N_INCLUDE: {
			const char *file = r->file;
			if (r->include_depth == TPL_INCLUDE_DEPTH_MAX)
				return rerr(r, n, "includes nested too deeply");
			r->include_depth++;
			int ret = render_tpl(r, n->text);
			r->include_depth--;
			r->file = file;
			if (ret < 0)
				return -1;
			break;
		}
		}
		if (r->out->failed)
			return rerr(r, n, "the page is too large or memory ran out");
	}
	return 0;
}

static int render_tpl(struct render *r, const char *name)
{
	struct tpl *t = tpl_load(r->set, name, r->err, r->errsize);
	if (t == NULL)
		return -1;
	if (!r->set->cache) {
		if (r->nloaded == sizeof(r->loaded) / sizeof(r->loaded[0])) {
			tpl_free(t);
			snprintf(r->err, r->errsize, "too many includes");
			return -1;
		}
		r->loaded[r->nloaded++] = t;
	}
	r->file = t->name;
	return render_nodes(r, t->nodes);
}

static void render_done(struct render *r)
{
	for (size_t i = 0; i < r->nloaded; i++)
		tpl_free(r->loaded[i]);
	r->nloaded = 0;
}

int tpl_render(struct tpl_set *set, const char *name, const struct tpl_obj *data,
	       struct buf *out, char *err, size_t errsize)
{
	if (data == NULL || data->shared->failed) {
		snprintf(err, errsize, "out of memory while preparing the page");
		return -1;
	}
	struct render *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	*r = (struct render){ .set = set, .out = out, .err = err, .errsize = errsize };
	r->frames[r->nframes++] = (struct frame){ .obj = data, .index = -1 };
	int ret = render_tpl(r, name);
	render_done(r);
	free(r);
	return ret;
}

int tpl_render_html(struct tpl_set *set, const char *layout, const struct tpl_obj *data,
		    const char *html, size_t html_len, struct buf *out, char *err, size_t errsize)
{
	if (data == NULL || data->shared->failed) {
		snprintf(err, errsize, "out of memory while preparing the page");
		return -1;
	}
	/* {{content}} lives in an object of its own, searched after data */
	struct tpl_field field = {
		.name = "content",
		.v = { .type = T_HTML, .s = html, .len = html_len },
	};
	struct tpl_obj extra = { .shared = data->shared, .fields = &field };
	struct render *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	*r = (struct render){ .set = set, .out = out, .err = err, .errsize = errsize };
	r->frames[r->nframes++] = (struct frame){ .obj = &extra, .index = -1 };
	r->frames[r->nframes++] = (struct frame){ .obj = data, .index = -1 };
	int ret = render_tpl(r, layout);
	render_done(r);
	free(r);
	return ret;
}

int tpl_render_page(struct tpl_set *set, const char *page, const char *layout,
		    const struct tpl_obj *data, struct buf *out, char *err, size_t errsize)
{
	struct buf content;
	buf_init(&content, out->max);
	if (tpl_render(set, page, data, &content, err, errsize) < 0) {
		buf_free(&content);
		return -1;
	}
	int ret = tpl_render_html(set, layout, data, content.data == NULL ? "" : content.data,
				  content.len, out, err, errsize);
	buf_free(&content);
	return ret;
}
