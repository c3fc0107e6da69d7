/* Settings > Filters: the rules of the user's active Sieve script
 * (sieve_rules.h), listed, added, edited, moved, turned off and on,
 * deleted; a script that is not ours (put with the CLI or ManageSieve) is
 * edited as text. Every change writes the whole script, compiled first.
 *
 * The script the page works on: the active one; when none is, the one
 * named "filters" (saving activates it). Each form carries a version of
 * the script it was made from (v: a hash of its name and text), so a
 * change made meanwhile elsewhere (another window, the CLI) is not
 * overwritten by a stale rule number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filters.h"
#include "log.h"
#include "sieve_store.h"

#define FILTERS_SCRIPT "filters"
#define FILTERS_CHANGED "Your filters were changed elsewhere in the meantime (another " \
	"window or program): here they are now. Please try again."

struct filters {
	char name[STORE_SIEVE_NAME_MAX + 1];
	bool exists, active, ours;
	char *text;                /* malloc'd, NULL when it does not exist */
	size_t len;
	/* as loaded (name and active may change before a save: "replace") */
	char seen_name[STORE_SIEVE_NAME_MAX + 1], seen_active[STORE_SIEVE_NAME_MAX + 1];
	struct sieve_rule_set *set;
	char version[17];
};

static void filters_free(struct filters *f)
{
	free(f->text);
	free(f->set);
}

/* FNV-1a of the name and the text: tells one state of the script from the
 * next, not a secret. */
static void version_of(struct filters *f)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *parts[2] = { f->name, f->text != NULL ? f->text : "" };
	size_t lens[2] = { strlen(f->name) + 1, f->text != NULL ? f->len : 0 };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < lens[k]; i++)
			h = (h ^ (unsigned char)parts[k][i]) * 0x100000001b3ull;
	snprintf(f->version, sizeof(f->version), "%016llx", (unsigned long long)h);
}

/* 0 loaded, -1 answered (a store error). */
static int filters_load(struct ctx *c, struct filters *f)
{
	const char *error;
	memset(f, 0, sizeof(*f));
	if ((f->set = calloc(1, sizeof(*f->set))) == NULL) {
		page_error(c, 500, "Out of memory.");
		return -1;
	}
	int r = store_sieve_get_active(c->store, c->user.id, f->name, &f->text, &f->len, &error);
	if (r == 0) {
		snprintf(f->name, sizeof(f->name), "%s", FILTERS_SCRIPT);
		r = store_sieve_get(c->store, c->user.id, f->name, &f->text, &f->len, &error);
	} else if (r == 1) {
		f->active = true;
	}
	if (r < 0) {
		page_store_error(c, "filters", error);
		return -1;
	}
	f->exists = r == 1;
	f->ours = true;
	snprintf(f->seen_name, sizeof(f->seen_name), "%s", f->name);
	snprintf(f->seen_active, sizeof(f->seen_active), "%s", f->active ? f->name : "");
	if (f->exists) {
		int p = sieve_rules_parse(f->text, f->len, f->set);
		if (p < 0) {
			page_error(c, 500, "Out of memory.");
			return -1;
		}
		f->ours = p == 1;
	}
	version_of(f);
	return 0;
}

/* The user's mailbox names, for the folder selects (in the arena). */
struct names {
	struct ctx *c;
	char **v;
	size_t n, cap;
};

static int name_collect(const struct store_mailbox *mb, void *ctx)
{
	struct names *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap != 0 ? 2 * l->cap : 64;
		char **v = arena_alloc(l->c->a, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		if (l->n > 0)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v;
		l->cap = cap;
	}
	if ((l->v[l->n] = arena_strdup(l->c->a, mb->name)) == NULL)
		return -1;
	l->n++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Renders the page: the list, or with `f`orm the rule editor (`n`: the
 * rule's number, -1 new), or with `confirm` a question. */
struct view {
	int status;
	const char *error, *notice;
	const struct rule_form *form;
	int n;
	const char *confirm_op;    /* "delete", "replace" */
	const char *raw_text;      /* the raw editor's text when refused */
};

static void filters_show(struct ctx *c, struct filters *f, const struct view *v)
{
	if (ctx_folders(c, 0) < 0)
		return;
	tpl_str(c->data, "v", f->version);
	tpl_str(c->data, "script", f->name);
	tpl_bool(c->data, "off", f->exists && f->ours && !f->active);
	/* a refused script's error goes beside its text */
	tpl_str(c->data, v->raw_text != NULL ? "raw_error" : "error", v->error);
	tpl_str(c->data, "notice", v->notice);
	tpl_bool(c->data, "nav_filters", true);
	c->resp->status = v->status;
	if (v->confirm_op != NULL) {
		struct tpl_obj *q = tpl_obj(c->data, "confirm");
		bool del = strcmp(v->confirm_op, "delete") == 0;
		tpl_str(q, "op", v->confirm_op);
		tpl_int(q, "n", v->n);
		tpl_str(q, "question", del ? arena_printf(c->a, "Delete the rule \u201c%s\u201d?",
							  f->set->rules[v->n].name)
					   : "Replace this script with rules?");
		tpl_str(q, "detail", del ? "The rule is removed from your filters."
					 : arena_printf(c->a, "Your filters start empty under the name "
							"\u201c%s\u201d; the script \u201c%s\u201d is "
							"turned off%s.", FILTERS_SCRIPT, f->name,
							strcmp(f->name, FILTERS_SCRIPT) == 0
							? " and replaced" : " but kept"));
		tpl_str(q, "yes", del ? "Delete the rule" : "Replace with rules");
		page_render(c, "filters", "Filters");
		return;
	}
	if (!f->ours) {
		tpl_bool(c->data, "raw", true);
		tpl_str(c->data, "raw_text", v->raw_text != NULL ? v->raw_text : f->text);
		tpl_bool(c->data, "raw_active", f->active);
		tpl_int(c->data, "raw_max", SIEVE_SCRIPT_MAX);
		page_render(c, "filters", "Filters");
		return;
	}
	if (v->form != NULL) {
		struct names l = { .c = c };
		const char *error;
		if (store_mailbox_list(c->store, c->user.id, name_collect, &l, &error) < 0) {
			page_store_error(c, "mailbox list", error);
			return;
		}
		if (l.n > 0)
			qsort(l.v, l.n, sizeof(*l.v), name_cmp);
		tpl_bool(c->data, "editing", true);
		tpl_str(c->data, "n", v->n < 0 ? "new" : arena_printf(c->a, "%d", v->n));
		tpl_bool(c->data, "new", v->n < 0);
		rule_form_fill(c, v->form, l.v, l.n);
		page_render(c, "filters", v->n < 0 ? "New filter rule" : "Edit filter rule");
		return;
	}
	tpl_list(c->data, "rules");
	for (size_t i = 0; i < f->set->n; i++) {
		const struct sieve_rule *r = &f->set->rules[i];
		struct tpl_obj *it = tpl_item(c->data, "rules");
		char summary[8192];
		sieve_rule_summary(r, summary, sizeof(summary));
		tpl_int(it, "n", (long long)i);
		tpl_str(it, "name", r->name);
		tpl_str(it, "summary", summary);
		tpl_bool(it, "enabled", r->enabled);
		tpl_bool(it, "first", i == 0);
		tpl_bool(it, "last", i + 1 == f->set->n);
	}
	tpl_bool(c->data, "can_add", f->set->n < SIEVE_RULES_MAX);
	tpl_int(c->data, "rules_max", SIEVE_RULES_MAX);
	page_render(c, "filters", "Filters");
}

static void show_simple(struct ctx *c, struct filters *f, int status, const char *error)
{
	struct view v = { .status = status, .error = error, .n = -1 };
	filters_show(c, f, &v);
}

/* Compiles and keeps `text` as the script f works on (activated when no
 * script is active). 1 saved; 0 does not compile, -2 refused by the store
 * (a 17th script): why in error_r, nothing answered; -1 answered (a store
 * error). */
static int script_save(struct ctx *c, struct filters *f, const char *name, const char *text,
		       size_t len, char error_r[SIEVE_ERROR_MAX])
{
	const char *error;
	struct sieve_script *s = sieve_compile(text, len, error_r);
	if (s == NULL)
		return 0;
	sieve_script_free(s);
	/* written only if the script is still the one this form was made
	 * from: the version check at the start of the request and this save
	 * are two moments, and another window may save between them */
	struct store_sieve_seen seen = { f->seen_active, f->seen_name, f->exists ? f->text : NULL,
					 f->len };
	int r = store_sieve_put_if(c->store, c->user.id, name, text, len, &seen, !f->active, &error);
	if (r < 0) {
		page_store_error(c, "filters", error);
		return -1;
	}
	if (r == 2) {
		filters_free(f);
		if (filters_load(c, f) == 0)
			show_simple(c, f, 409, FILTERS_CHANGED);
		return -1;
	}
	if (r == 0) {
		snprintf(error_r, SIEVE_ERROR_MAX, "%s", error);
		return -2;
	}
	return 1;
}

/* The rules as kept, after a change that was not saved. */
static void rules_restore(struct filters *f)
{
	if (!f->exists || f->text == NULL || sieve_rules_parse(f->text, f->len, f->set) != 1)
		f->set->n = 0;
}

/* Writes the rule set as f's script, then back to the list. */
static void rules_save(struct ctx *c, struct filters *f, const char *what)
{
	char why[SIEVE_RULES_ERROR_MAX], cerr[SIEVE_ERROR_MAX];
	char *text;
	size_t len;
	if (sieve_rules_to_sieve(f->set, &text, &len, why) < 0) {
		rules_restore(f);
		show_simple(c, f, 400, arena_printf(c->a, "Not saved: %s", why));
		return;
	}
	int r = script_save(c, f, f->name, text, len, cerr);
	free(text);
	if (r == 0 || r == -2)
		rules_restore(f);
	if (r == -2) {
		show_simple(c, f, 400, arena_printf(c->a, "Not saved: %s.", cerr));
		return;
	}
	if (r == 0) {
		/* the rules were checked: a script that does not compile is our bug */
		log_error("webmail: filters: user=<%s> generated script refused: %s",
			  c->user.address, cerr);
		show_simple(c, f, 500, "Not saved: the filters could not be written (an error in "
			    "the webmail, logged). Please tell your administrator.");
		return;
	}
	if (r < 0)
		return;
	log_info("webmail: filters-%s user=<%s> rules=%zu", what, c->user.address, f->set->n);
	page_redirect(c, "/filters?saved=1");
}

/* A rule number from the request: -1 when it is none of the set's. */
static int rule_number(struct filters *f, const char *s)
{
	uint32_t n;
	return uint_parse(s, &n) && n < f->set->n ? (int)n : -1;
}

static void rule_post(struct ctx *c, struct filters *f, const char *op, int n)
{
	struct sieve_rule_set *set = f->set;
	const char *confirm = ctx_form(c, "confirm");
	if (strcmp(op, "save") == 0) {
		struct rule_form form;
		struct sieve_rule rule;
		char why[SIEVE_RULES_ERROR_MAX];
		rule_form_from_post(c, &form);
		if (rule_form_parse(&form, &rule, why) < 0) {
			struct view v = { .status = 400, .error = why, .form = &form, .n = n };
			filters_show(c, f, &v);
			return;
		}
		if (n < 0 && set->n == SIEVE_RULES_MAX) {
			show_simple(c, f, 400, "You have as many rules as can be kept: delete one first.");
			return;
		}
		set->rules[n < 0 ? set->n++ : (size_t)n] = rule;
		rules_save(c, f, "saved");
		return;
	}
	if (n < 0) {
		show_simple(c, f, 400, "Only a new rule can be saved without a number.");
		return;
	}
	if (strcmp(op, "up") == 0 || strcmp(op, "down") == 0) {
		int to = op[0] == 'u' ? n - 1 : n + 1;
		if (to < 0 || (size_t)to >= set->n) {
			show_simple(c, f, 400, "The rule cannot move further.");
			return;
		}
		struct sieve_rule tmp = set->rules[n];
		set->rules[n] = set->rules[to];
		set->rules[to] = tmp;
		rules_save(c, f, "moved");
	} else if (strcmp(op, "toggle") == 0) {
		set->rules[n].enabled = !set->rules[n].enabled;
		rules_save(c, f, set->rules[n].enabled ? "enabled" : "disabled");
	} else if (strcmp(op, "delete") == 0) {
		if (confirm == NULL || strcmp(confirm, "yes") != 0) {
			struct view v = { .status = 200, .confirm_op = "delete", .n = n };
			filters_show(c, f, &v);
			return;
		}
		memmove(&set->rules[n], &set->rules[n + 1], (set->n - (size_t)n - 1) * sizeof(set->rules[0]));
		set->n--;
		rules_save(c, f, "deleted");
	} else {
		page_error(c, 400, "Unknown request.");
	}
}

/* The raw editor: the text kept once it compiles; the rules replacing
 * it after a confirmation. */
static void raw_post(struct ctx *c, struct filters *f, const char *op)
{
	char cerr[SIEVE_ERROR_MAX];
	if (strcmp(op, "replace") == 0) {
		const char *confirm = ctx_form(c, "confirm");
		if (confirm == NULL || strcmp(confirm, "yes") != 0) {
			struct view v = { .status = 200, .confirm_op = "replace", .n = -1 };
			filters_show(c, f, &v);
			return;
		}
		snprintf(f->name, sizeof(f->name), "%s", FILTERS_SCRIPT);
		f->active = false;            /* activates "filters" */
		f->set->n = 0;
		rules_save(c, f, "replaced");
		return;
	}
	if (strcmp(op, "raw") != 0) {
		page_error(c, 400, "Unknown request.");
		return;
	}
	/* textareas send CRLF: kept as LF, as the CLI keeps a file */
	const char *in = ctx_form(c, "text");
	size_t n = in != NULL ? strlen(in) : 0, j = 0;
	char *text = arena_alloc(c->a, n + 1);
	if (text == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (in[i] != '\r' || in[i + 1] != '\n')
			text[j++] = in[i];
	text[j] = '\0';
	int r = j > SIEVE_SCRIPT_MAX ? 0 : script_save(c, f, f->name, text, j, cerr);
	if (r == -1)
		return;
	if (r <= 0) {
		if (j > SIEVE_SCRIPT_MAX)
			snprintf(cerr, sizeof(cerr), "the script is longer than %d KB",
				 SIEVE_SCRIPT_MAX / 1024);
		struct view v = { .status = 400, .n = -1, .raw_text = text,
				  .error = arena_printf(c->a, "Not saved: %s.", cerr) };
		filters_show(c, f, &v);
		return;
	}
	log_info("webmail: filters-script-saved user=<%s>", c->user.address);
	page_redirect(c, "/filters?saved=1");
}

void page_filters(struct ctx *c)
{
	struct filters f;
	if (filters_load(c, &f) < 0) {
		filters_free(&f);
		return;
	}
	if (c->req->method != HTTP_POST) {
		const char *edit = ctx_query(c, "edit");
		struct view v = { .status = 200, .n = -1 };
		struct rule_form form;
		if (ctx_query(c, "saved") != NULL)
			v.notice = "Your filters were saved.";
		if (edit != NULL && f.ours) {
			v.n = rule_number(&f, edit);
			if (v.n < 0 && strcmp(edit, "new") != 0) {
				page_error(c, 404, "There is no such rule.");
				filters_free(&f);
				return;
			}
			if (v.n >= 0) {
				rule_form_from_rule(c, &f.set->rules[v.n], &form);
			} else {
				memset(&form, 0, sizeof(form));
				form.enabled = true;
			}
			v.form = &form;
		}
		filters_show(c, &f, &v);
		filters_free(&f);
		return;
	}
	const char *op = ctx_form(c, "op");
	const char *version = ctx_form(c, "v");
	if (op == NULL) {
		page_error(c, 400, "Unknown request.");
	} else if (version == NULL || strcmp(version, f.version) != 0) {
		show_simple(c, &f, 409, FILTERS_CHANGED);
	} else if (!f.ours) {
		raw_post(c, &f, op);
	} else {
		/* "new" (a rule to add) or the number of one of the rules */
		const char *ns = ctx_form(c, "n");
		bool add = ns != NULL && strcmp(ns, "new") == 0;
		int n = add ? -1 : rule_number(&f, ns);
		if (!add && n < 0)
			show_simple(c, &f, 400, "There is no such rule.");
		else
			rule_post(c, &f, op, n);
	}
	filters_free(&f);
}
