/* LIST (RFC 3501, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819,
 * SPECIAL-USE RFC 6154, CHILDREN RFC 3348) and LSUB.
 *
 * Client quirks handled here: every mailbox is selectable (CREATE makes the
 * parents, so there are no \Noselect holes); special-use attributes are
 * also shown in a plain LIST (Apple Mail otherwise creates its own "Sent
 * Messages") and in LSUB (Outlook); \HasChildren/\HasNoChildren always. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "imap.h"
#include "imap_utf7.h"

/* Bytes of a pattern (reference + mailbox pattern) after decoding: the
 * match costs name length times this. */
#define IMAP_PATTERN_MAX 1024
/* Patterns in one LIST-EXTENDED command. */
#define IMAP_PATTERNS_MAX 32

enum list_opts {
	SEL_SUBSCRIBED = 1 << 0,
	SEL_SPECIAL_USE = 1 << 1,
	SEL_RECURSIVEMATCH = 1 << 2,
	RET_SUBSCRIBED = 1 << 3,
	RET_CHILDREN = 1 << 4,
	RET_SPECIAL_USE = 1 << 5,
	RET_STATUS = 1 << 6,
	LIST_LSUB = 1 << 7,
};

struct mailbox_array {
	struct store_mailbox *items;
	size_t n, cap;
};

static int collect_cb(const struct store_mailbox *mb, void *ctx)
{
	struct mailbox_array *a = ctx;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		void *p = reallocarray(a->items, cap, sizeof(*a->items));
		if (p == NULL)
			return -1;
		a->items = p;
		a->cap = cap;
	}
	a->items[a->n++] = *mb;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_mailbox *)a)->name, ((const struct store_mailbox *)b)->name);
}

/* Index of the first mailbox whose name is >= key. */
static size_t lower_bound(const struct mailbox_array *a, const char *key)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(a->items[mid].name, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* 1 if some mailbox lies below `name`; with `subscribed_only`, a subscribed
 * one (or a subscribed name without a mailbox, id 0). */
/* The index of the first mailbox below `name` (its name starts "name/",
 * written to prefix, *len_r bytes), or a->n. */
static size_t first_child(const struct mailbox_array *a, const char *name,
			  char prefix[STORE_MAILBOX_NAME_MAX + 2], size_t *len_r)
{
	size_t len = strlen(name);

	memcpy(prefix, name, len);
	prefix[len] = '/';
	prefix[len + 1] = '\0';
	*len_r = len + 1;
	return lower_bound(a, prefix);
}

static bool has_children(const struct mailbox_array *a, const char *name, bool subscribed_only)
{
	char prefix[STORE_MAILBOX_NAME_MAX + 2];
	size_t len;

	for (size_t i = first_child(a, name, prefix, &len);
	     i < a->n && strncmp(a->items[i].name, prefix, len) == 0; i++) {
		if (subscribed_only ? a->items[i].subscribed : a->items[i].id != 0)
			return true;
	}
	return false;
}

/* Wildcard match: '*' anything, '%' anything but '/'. Dynamic programming
 * over the name, linear memory, no backtracking blow-up. */
static bool pattern_match(const char *pat, size_t plen, const char *name)
{
	size_t nlen = strlen(name);
	bool row[STORE_MAILBOX_NAME_MAX + 2], next[STORE_MAILBOX_NAME_MAX + 2];

	if (nlen > STORE_MAILBOX_NAME_MAX)
		return false;
	/* row[j]: pattern so far matches name[0..j) */
	memset(row, 0, sizeof(row));
	row[0] = true;
	for (size_t i = 0; i < plen; i++) {
		char c = pat[i];
		memset(next, 0, sizeof(next));
		if (c == '*' || c == '%') {
			bool carry = false;
			for (size_t j = 0; j <= nlen; j++) {
				/* '%' cannot swallow a hierarchy delimiter */
				if (c == '%' && j > 0 && name[j - 1] == '/')
					carry = false;
				if (row[j])
					carry = true;
				next[j] = carry;
			}
		} else {
			for (size_t j = 0; j < nlen; j++)
				if (row[j] && name[j] == c)
					next[j + 1] = true;
		}
		memcpy(row, next, sizeof(row));
	}
	return row[nlen];
}

struct list_pattern {
	char text[IMAP_PATTERN_MAX + 1];
	size_t len;
};

/* reference + pattern in UTF-8; INBOX prefix canonical. 1 ok, 0 matches nothing. */
static int pattern_make(struct imap_session *s, const struct imap_arg *ref,
			const struct imap_arg *pat, struct list_pattern *out)
{
	char joined[IMAP_PATTERN_MAX * 2 + 2];
	size_t len;

	if (ref->len + pat->len > IMAP_PATTERN_MAX)
		return 0;
	/* an absolute pattern ignores the reference */
	if (pat->len > 0 && pat->str[0] == '/')
		len = 0;
	else {
		memcpy(joined, ref->str, ref->len);
		len = ref->len;
	}
	memcpy(joined + len, pat->str, pat->len);
	len += pat->len;
	joined[len] = '\0';
	if (memchr(joined, '\0', len) != NULL)
		return 0;
	if (s->utf8) {
		if (!charset_utf8_valid(joined, len))
			return 0;
		memcpy(out->text, joined, len + 1);
		out->len = len;
	} else {
		int n = imap_utf7_to_utf8(joined, len, out->text, sizeof(out->text));
		if (n < 0)
			return 0;
		out->len = (size_t)n;
	}
	if (out->len >= 5 && strncasecmp(out->text, "INBOX", 5) == 0 &&
	    (out->len == 5 || out->text[5] == '/' || out->text[5] == '*' || out->text[5] == '%'))
		memcpy(out->text, "INBOX", 5);
	return 1;
}

/* RECURSIVEMATCH: whether a subscribed mailbox below `name` matches none of
 * the patterns, which CHILDINFO then reports (RFC 5258 3.5: the children
 * that match are listed themselves). */
static bool has_unmatched_subscribed_child(const struct mailbox_array *a, const char *name,
					   const struct list_pattern *patterns, size_t npatterns)
{
	char prefix[STORE_MAILBOX_NAME_MAX + 2];
	size_t len;

	for (size_t i = first_child(a, name, prefix, &len);
	     i < a->n && strncmp(a->items[i].name, prefix, len) == 0; i++) {
		bool match = false;
		for (size_t k = 0; k < npatterns && !match; k++)
			match = pattern_match(patterns[k].text, patterns[k].len, a->items[i].name);
		if (a->items[i].subscribed && !match)
			return true;
	}
	return false;
}

static int list_parse_status_items(const struct imap_arg *a, const struct imap_arg **items_r)
{
	if (a == NULL || a->type != IMAP_ARG_LIST)
		return 0;
	*items_r = a;
	return 1;
}

static int imap_list_run(struct imap_session *s, struct imap_cmd *cmd, unsigned opts)
{
	const struct imap_arg *a = cmd->args, *status_items = NULL;
	struct list_pattern *patterns = NULL;
	struct mailbox_array mbs = { 0 };
	const char *error = NULL;
	size_t npatterns = 0;

	if (!(opts & LIST_LSUB) && a != NULL && a->type == IMAP_ARG_LIST) {
		for (const struct imap_arg *o = a->child; o != NULL; o = o->next) {
			if (imap_arg_atom_is(o, "SUBSCRIBED"))
				opts |= SEL_SUBSCRIBED | RET_SUBSCRIBED;
			else if (imap_arg_atom_is(o, "SPECIAL-USE"))
				opts |= SEL_SPECIAL_USE | RET_SPECIAL_USE;
			else if (imap_arg_atom_is(o, "RECURSIVEMATCH"))
				opts |= SEL_RECURSIVEMATCH;
			else if (imap_arg_atom_is(o, "REMOTE"))
				continue;
			else {
				imap_bad(s, cmd, "Unknown LIST selection option");
				return 0;
			}
		}
		if ((opts & SEL_RECURSIVEMATCH) && !(opts & (SEL_SUBSCRIBED | SEL_SPECIAL_USE))) {
			imap_bad(s, cmd, "RECURSIVEMATCH needs another selection option");
			return 0;
		}
		a = a->next;
	}
	const struct imap_arg *ref = a, *pat = a != NULL ? a->next : NULL;
	if (!imap_arg_is_string(ref) || pat == NULL || pat->streamed ||
	    (pat->type == IMAP_ARG_LIST && (opts & LIST_LSUB))) {
		imap_bad(s, cmd, "LIST needs a reference and a mailbox pattern");
		return 0;
	}
	const struct imap_arg *ret = pat->next;
	if (ret != NULL) {
		if ((opts & LIST_LSUB) || !imap_arg_atom_is(ret, "RETURN") || ret->next == NULL ||
		    ret->next->type != IMAP_ARG_LIST || ret->next->next != NULL) {
			imap_bad(s, cmd, "Invalid LIST arguments");
			return 0;
		}
		for (const struct imap_arg *o = ret->next->child; o != NULL; o = o->next) {
			if (imap_arg_atom_is(o, "SUBSCRIBED"))
				opts |= RET_SUBSCRIBED;
			else if (imap_arg_atom_is(o, "CHILDREN"))
				opts |= RET_CHILDREN;
			else if (imap_arg_atom_is(o, "SPECIAL-USE"))
				opts |= RET_SPECIAL_USE;
			else if (imap_arg_atom_is(o, "STATUS") &&
				 list_parse_status_items(o->next, &status_items)) {
				opts |= RET_STATUS;
				o = o->next;
				if (imap_status_write(s, cmd, NULL, status_items, true) <= 0)
					return 0;
			} else {
				imap_bad(s, cmd, "Unknown LIST return option");
				return 0;
			}
		}
	}
	unsigned np = pat->type == IMAP_ARG_LIST ? imap_arg_count(pat->child) : 1;
	if (np == 0 || np > IMAP_PATTERNS_MAX) {
		imap_bad(s, cmd, "Invalid number of patterns");
		return 0;
	}
	patterns = calloc(np, sizeof(*patterns));
	if (patterns == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return 0;
	}
	for (const struct imap_arg *p = pat->type == IMAP_ARG_LIST ? pat->child : pat; p != NULL;
	     p = pat->type == IMAP_ARG_LIST ? p->next : NULL) {
		if (!imap_arg_is_string(p)) {
			free(patterns);
			imap_bad(s, cmd, "Invalid mailbox pattern");
			return 0;
		}
		/* LIST "" "": the hierarchy delimiter and root */
		if (p->len == 0 && !(opts & LIST_LSUB) && pat->type != IMAP_ARG_LIST) {
			free(patterns);
			imap_puts(s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
			imap_ok(s, cmd, "List completed");
			return 0;
		}
		if (pattern_make(s, ref, p, &patterns[npatterns]))
			npatterns++;
	}
	/* with the subscribed names whose mailbox was deleted (RFC 3501 6.3.4) */
	if (store_mailbox_list(s->store, s->user.id, collect_cb, &mbs, &error) < 0 ||
	    ((opts & (SEL_SUBSCRIBED | LIST_LSUB)) &&
	     store_mailbox_list_gone_subscribed(s->store, s->user.id, collect_cb, &mbs,
						&error) < 0)) {
		free(patterns);
		free(mbs.items);
		imap_store_error(s, cmd, error);
		return 0;
	}
	qsort(mbs.items, mbs.n, sizeof(*mbs.items), name_cmp);
	bool has_percent = false;
	for (size_t k = 0; k < npatterns; k++)
		has_percent |= memchr(patterns[k].text, '%', patterns[k].len) != NULL;
	for (size_t i = 0; i < mbs.n; i++) {
		const struct store_mailbox *mb = &mbs.items[i];
		bool match = false, childinfo = false;
		for (size_t k = 0; k < npatterns && !match; k++)
			match = pattern_match(patterns[k].text, patterns[k].len, mb->name);
		if (!match)
			continue;
		bool noselect = false, parent_only = false;
		if ((opts & SEL_SUBSCRIBED) && (opts & SEL_RECURSIVEMATCH))
			childinfo = has_unmatched_subscribed_child(&mbs, mb->name, patterns, npatterns);
		if ((opts & (SEL_SUBSCRIBED | LIST_LSUB)) && !mb->subscribed) {
			if (childinfo) {
				/* listed only for CHILDINFO */
				parent_only = true;
			} else if ((opts & LIST_LSUB) && has_percent &&
				   has_children(&mbs, mb->name, true)) {
				/* LSUB "" % with only "foo/bar" subscribed answers
				 * foo, \Noselect (RFC 3501 6.3.9) */
				noselect = true;
			} else {
				continue;
			}
		}
		if ((opts & SEL_SPECIAL_USE) && mb->special_use == 0)
			continue;
		imap_puts(s, opts & LIST_LSUB ? "* LSUB (" : "* LIST (");
		bool first = true;
		if (noselect || mb->id == 0) {
			/* id 0, a subscribed name without a mailbox: \NonExistent
			 * (RFC 5258 3.4, RFC 9051 7.3.1), to LSUB \Noselect */
			imap_puts(s, mb->id != 0 || (opts & LIST_LSUB) ? "\\Noselect"
								      : "\\NonExistent \\Subscribed");
			imap_puts(s, ") \"/\" ");
			imap_write_mailbox(s, mb->name);
			imap_puts(s, "\r\n");
			continue;
		}
		if (!parent_only) {
			imap_puts(s, has_children(&mbs, mb->name, false) ? "\\HasChildren"
									  : "\\HasNoChildren");
			first = false;
		}
		if (mb->subscribed && (opts & RET_SUBSCRIBED)) {
			imap_puts(s, first ? "\\Subscribed" : " \\Subscribed");
			first = false;
		}
		/* LSUB too, though RFC 6154 names only LIST: Outlook looks
		 * for Sent and Trash there (Dovecot sends them for it) */
		imap_write_special_use(s, mb->special_use, &first);
		imap_puts(s, ") \"/\" ");
		imap_write_mailbox(s, mb->name);
		if (childinfo)
			imap_puts(s, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
		imap_puts(s, "\r\n");
		if ((opts & RET_STATUS) && !parent_only &&
		    imap_status_write(s, cmd, mb, status_items, false) < 0)
			break;
	}
	free(patterns);
	free(mbs.items);
	imap_ok(s, cmd, opts & LIST_LSUB ? "Lsub completed" : "List completed");
	return 0;
}

int imap_list_selected(struct imap_session *s, const struct store_mailbox *mb)
{
	struct mailbox_array mbs = { 0 };
	const char *error = NULL;
	bool first = true;

	if (store_mailbox_list(s->store, s->user.id, collect_cb, &mbs, &error) < 0) {
		free(mbs.items);
		return -1;
	}
	qsort(mbs.items, mbs.n, sizeof(*mbs.items), name_cmp);
	imap_puts(s, has_children(&mbs, mb->name, false) ? "* LIST (\\HasChildren"
							   : "* LIST (\\HasNoChildren");
	first = false;
	imap_write_special_use(s, mb->special_use, &first);
	imap_puts(s, ") \"/\" ");
	imap_write_mailbox(s, mb->name);
	imap_puts(s, "\r\n");
	free(mbs.items);
	return 0;
}

int imap_cmd_list(struct imap_session *s, struct imap_cmd *cmd)
{
	return imap_list_run(s, cmd, 0);
}

int imap_cmd_lsub(struct imap_session *s, struct imap_cmd *cmd)
{
	return imap_list_run(s, cmd, LIST_LSUB | RET_SUBSCRIBED);
}
