/* Folder management: the user's folders with their counts; create (under a
 * parent), rename or move, delete after a confirmation that says how many
 * messages go, subscribe and unsubscribe. The special folders (INBOX and the
 * special-use ones: Sent, Drafts, Trash, Junk, Archive) are protected from
 * rename and delete. Folders are addressed by id in forms; the store's
 * folder calls take names, looked up here from the user's own list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"

struct mb_list {
	struct store_mailbox *mb;
	size_t n, cap;
	bool oom;
};

static int collect(const struct store_mailbox *mb, void *ctx)
{
	struct mb_list *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 32 : l->cap * 2;
		struct store_mailbox *p = realloc(l->mb, cap * sizeof(*p));
		if (p == NULL) {
			l->oom = true;
			return 1;
		}
		l->mb = p;
		l->cap = cap;
	}
	l->mb[l->n++] = *mb;
	return 0;
}

static bool is_inbox(const struct store_mailbox *mb)
{
	return strcmp(mb->name, "INBOX") == 0;
}

static bool is_protected(const struct store_mailbox *mb)
{
	return is_inbox(mb) || mb->special_use != STORE_SPECIAL_NONE;
}

static const char *special_label(const struct store_mailbox *mb)
{
	if (is_inbox(mb))
		return "Inbox";
	if (mb->special_use & STORE_SPECIAL_SENT)
		return "Sent";
	if (mb->special_use & STORE_SPECIAL_DRAFTS)
		return "Drafts";
	if (mb->special_use & STORE_SPECIAL_TRASH)
		return "Trash";
	if (mb->special_use & STORE_SPECIAL_JUNK)
		return "Junk";
	if (mb->special_use & STORE_SPECIAL_ARCHIVE)
		return "Archive";
	return mb->special_use != 0 ? "Special" : NULL;
}

/* true if `name` is `parent` or below it */
static bool within(const char *name, const char *parent)
{
	size_t n = strlen(parent);
	return strncmp(name, parent, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

/* The sidebar's order (app.c): Inbox, Drafts, Sent, Archive, Junk, Trash,
 * each with its subfolders, then the others by name. */
static unsigned rank(const struct store_mailbox *mb)
{
	static const unsigned order[] = { STORE_SPECIAL_DRAFTS, STORE_SPECIAL_SENT,
					  STORE_SPECIAL_ARCHIVE, STORE_SPECIAL_JUNK,
					  STORE_SPECIAL_TRASH };
	if (is_inbox(mb))
		return 0;
	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (mb->special_use & order[i])
			return i + 1;
	return 6;
}

struct ranked {
	unsigned rank;
	struct store_mailbox mb;
};

/* By rank, then by name with a child right after its parent ('/' sorting
 * before every other character). */
static int mb_cmp(const void *pa, const void *pb)
{
	const struct ranked *ra = pa, *rb = pb;
	const struct store_mailbox *a = &ra->mb, *b = &rb->mb;
	if (ra->rank != rb->rank)
		return ra->rank < rb->rank ? -1 : 1;
	const char *x = a->name, *y = b->name;
	for (; *x != '\0' && *x == *y; x++, y++)
		;
	unsigned char cx = *x == '/' ? 1 : (unsigned char)*x, cy = *y == '/' ? 1 : (unsigned char)*y;
	return cx < cy ? -1 : cx > cy;
}

/* The user's folders, sorted. 0, or -1 (answered). */
static int load(struct ctx *c, struct mb_list *l)
{
	const char *error;
	*l = (struct mb_list){ 0 };
	if (store_mailbox_list(c->store, c->user.id, collect, l, &error) < 0 || l->oom) {
		free(l->mb);
		page_store_error(c, "mailbox list", l->oom ? "out of memory" : error);
		return -1;
	}
	struct ranked *r = calloc(l->n + 1, sizeof(*r));
	if (r == NULL) {
		free(l->mb);
		page_store_error(c, "mailbox list", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		const char *slash = strchr(l->mb[i].name, '/');
		size_t top = slash != NULL ? (size_t)(slash - l->mb[i].name) : 0;
		r[i].mb = l->mb[i];
		r[i].rank = rank(&l->mb[i]);
		/* a child ranks with its top-level folder */
		for (size_t k = 0; slash != NULL && k < l->n; k++)
			if (strlen(l->mb[k].name) == top &&
			    strncmp(l->mb[k].name, l->mb[i].name, top) == 0)
				r[i].rank = rank(&l->mb[k]);
	}
	qsort(r, l->n, sizeof(*r), mb_cmp);
	for (size_t i = 0; i < l->n; i++)
		l->mb[i] = r[i].mb;
	free(r);
	return 0;
}

static const struct store_mailbox *by_id(const struct mb_list *l, uint32_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->mb[i].id == id)
			return &l->mb[i];
	return NULL;
}

static const char *leaf(const struct store_mailbox *mb)
{
	const char *slash = strrchr(mb->name, '/');
	return is_inbox(mb) ? "Inbox" : slash != NULL ? slash + 1 : mb->name;
}

static unsigned depth(const char *name)
{
	unsigned d = 0;
	for (; *name != '\0'; name++)
		d += *name == '/';
	return d > 6 ? 6 : d;
}

/* The parent choices; `exclude` (and what is below it) is left out: a
 * folder cannot move into itself. */
static void fill_parents(struct ctx *c, const struct mb_list *l, const char *exclude,
			 const char *selected)
{
	struct tpl_obj *it = tpl_item(c->data, "parents");
	tpl_int(it, "id", 0);
	tpl_str(it, "label", "(top level)");
	tpl_bool(it, "selected", selected == NULL);
	for (size_t i = 0; i < l->n; i++) {
		const struct store_mailbox *mb = &l->mb[i];
		if (exclude != NULL && within(mb->name, exclude))
			continue;
		it = tpl_item(c->data, "parents");
		tpl_int(it, "id", mb->id);
		tpl_str(it, "label", is_inbox(mb) ? "Inbox" : mb->name);
		tpl_bool(it, "selected", selected != NULL && strcmp(selected, mb->name) == 0);
	}
}

static void fill_row(struct ctx *c, const struct store_mailbox *mb)
{
	struct tpl_obj *it = tpl_item(c->data, "rows");
	tpl_int(it, "id", mb->id);
	tpl_str(it, "label", leaf(mb));
	tpl_str(it, "path", is_inbox(mb) ? "Inbox" : mb->name);
	tpl_int(it, "depth", depth(mb->name));
	tpl_int(it, "exists", mb->exists);
	tpl_int(it, "unseen", mb->unseen);
	tpl_str(it, "size", fmt_size(c, mb->bytes));
	tpl_bool(it, "subscribed", mb->subscribed || is_inbox(mb));
	tpl_bool(it, "inbox", is_inbox(mb));
	tpl_bool(it, "protected", is_protected(mb));
	/* the kind of a special folder, when its name does not say it already */
	const char *kind = special_label(mb);
	tpl_str(it, "special", kind != NULL && strcmp(kind, leaf(mb)) != 0 ? kind : NULL);
}

/* The page; `edit`/`del` select the rename form or the delete confirmation
 * of one folder (NULL: neither). `name`/`parent`: what the user typed, shown
 * again after an error. Frees l. */
static void show(struct ctx *c, struct mb_list *l, int status, const char *message,
		 const struct store_mailbox *edit, const struct store_mailbox *del,
		 const char *name, const char *parent)
{
	uint64_t total_bytes = 0;
	tpl_list(c->data, "rows");
	for (size_t i = 0; i < l->n; i++) {
		fill_row(c, &l->mb[i]);
		total_bytes += l->mb[i].bytes;
	}
	if (edit != NULL) {
		struct tpl_obj *e = tpl_obj(c->data, "edit");
		char par[STORE_MAILBOX_NAME_MAX + 1];
		const char *slash = strrchr(edit->name, '/');
		snprintf(par, sizeof(par), "%.*s", slash != NULL ? (int)(slash - edit->name) : 0,
			 edit->name);
		tpl_int(e, "id", edit->id);
		tpl_str(e, "path", edit->name);
		tpl_str(e, "name", name != NULL ? name : leaf(edit));
		fill_parents(c, l, edit->name, parent != NULL ? parent : slash != NULL ? par : NULL);
	} else if (del != NULL) {
		struct tpl_obj *d = tpl_obj(c->data, "del");
		uint64_t msgs = 0, bytes = 0;
		tpl_int(d, "id", del->id);
		tpl_str(d, "path", del->name);
		for (size_t i = 0; i < l->n; i++) {
			if (!within(l->mb[i].name, del->name))
				continue;
			msgs += l->mb[i].exists;
			bytes += l->mb[i].bytes;
			if (l->mb[i].id != del->id) {
				struct tpl_obj *it = tpl_item(d, "children");
				tpl_str(it, "path", l->mb[i].name);
				tpl_int(it, "exists", l->mb[i].exists);
			}
		}
		tpl_int(d, "messages", (long long)msgs);
		tpl_str(d, "size", fmt_size(c, bytes));
		tpl_bool(d, "one", msgs == 1);
	} else {
		fill_parents(c, l, NULL, parent);
		tpl_str(c->data, "new_name", name);
	}
	free(l->mb);
	l->mb = NULL;
	if (ctx_folders(c, 0) < 0 || ctx_quota(c) < 0)
		return;
	static const struct { const char *key, *text; } done[] = {
		{ "created", "The folder was created." },
		{ "renamed", "The folder was renamed." },
		{ "deleted", "The folder was deleted." },
		{ "subscribed", "The folder is subscribed: mail programs show it." },
		{ "unsubscribed", "The folder is unsubscribed: it is hidden in the folder list "
				  "and in mail programs, its messages stay." },
	};
	const char *d = ctx_query(c, "done");
	for (size_t i = 0; message == NULL && d != NULL && i < sizeof(done) / sizeof(done[0]); i++)
		if (strcmp(d, done[i].key) == 0)
			tpl_str(c->data, "notice", done[i].text);
	tpl_str(c->data, "error", message);
	tpl_str(c->data, "folders_size", fmt_size(c, total_bytes));
	tpl_bool(c->data, "nav_folders", true);
	c->resp->status = status;
	page_render(c, "folders_manage", "Folders");
}

static const char *protected_message(struct ctx *c, const struct store_mailbox *mb,
				     const char *what)
{
	return arena_printf(c->a, "%s is a special folder: it cannot be %s. (Mail programs and "
			    "the webmail rely on it.)", special_label(mb), what);
}

/* The full name for `leaf` under the parent with id `parent_id` (0: top
 * level), or NULL with *message_r. */
static const char *new_name(struct ctx *c, const struct mb_list *l, const char *leaf_in,
			    uint32_t parent_id, const char **message_r)
{
	const struct store_mailbox *parent = parent_id != 0 ? by_id(l, parent_id) : NULL;
	const char *s = leaf_in != NULL ? leaf_in : "";
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0) {
		*message_r = "Enter a name for the folder.";
		return NULL;
	}
	if (memchr(s, '/', len) != NULL) {
		*message_r = "A folder name cannot contain \"/\". To make a subfolder, choose its "
			     "parent folder.";
		return NULL;
	}
	if (parent_id != 0 && parent == NULL) {
		*message_r = "The parent folder does not exist any more.";
		return NULL;
	}
	if (len > STORE_MAILBOX_NAME_MAX) {
		*message_r = arena_printf(c->a, "The name is too long: a folder's full name is at "
					  "most %d bytes.", STORE_MAILBOX_NAME_MAX);
		return NULL;
	}
	const char *name = parent != NULL ? arena_printf(c->a, "%s/%.*s", parent->name, (int)len, s)
					  : arena_strndup(c->a, s, len);
	if (name == NULL) {
		*message_r = "Out of memory.";
		return NULL;
	}
	if (!store_mailbox_name_valid(name)) {
		*message_r = arena_printf(c->a, "\"%.*s\" cannot be used as a folder name: a name "
					  "may not be \".\" or \"..\" or contain control "
					  "characters, a full name is at most %d bytes and at "
					  "most %d levels deep.", (int)len, s,
					  STORE_MAILBOX_NAME_MAX, STORE_MAILBOX_DEPTH_MAX);
		return NULL;
	}
	return name;
}

/* A store refusal as the user should read it. */
static const char *refusal(struct ctx *c, const char *error, const char *name)
{
	if (error != NULL && strstr(error, "exists") != NULL)
		return arena_printf(c->a, "A folder named \"%s\" exists already.", name);
	if (error != NULL && strstr(error, "too many") != NULL)
		return arena_printf(c->a, "You have the most folders allowed (%d). Delete one "
				    "first.", STORE_MAILBOXES_MAX);
	return arena_printf(c->a, "That did not work: %s.", error != NULL ? error : "refused");
}

static void op_create(struct ctx *c, struct mb_list *l)
{
	const char *message = NULL, *error = NULL;
	const char *leaf_in = ctx_form(c, "name");
	uint32_t parent_id = ctx_form_uint(c, "parent", 0);
	const struct store_mailbox *parent = by_id(l, parent_id);
	const char *name = new_name(c, l, leaf_in, parent_id, &message);
	uint32_t id;

	if (name != NULL) {
		int r = store_mailbox_create(c->store, c->user.id, name, STORE_SPECIAL_NONE, &id,
					     &error);
		if (r < 0) {
			free(l->mb);
			page_store_error(c, "create folder", error);
			return;
		}
		if (r == 0) {
			message = refusal(c, error, name);
		} else {
			/* like Roundcube: a folder made here shows everywhere */
			if (store_mailbox_subscribe(c->store, c->user.id, name, true, &error) < 0)
				log_error("webmail: subscribe %u: %s", id, error);
			log_info("webmail: folder-created user=<%s> mailbox=%u", c->user.address, id);
			free(l->mb);
			page_redirect(c, "/folders?done=created");
			return;
		}
	}
	show(c, l, 400, message, NULL, NULL, leaf_in, parent != NULL ? parent->name : NULL);
}

static void op_rename(struct ctx *c, struct mb_list *l, const struct store_mailbox *mb)
{
	const char *message = NULL, *error = NULL;
	const char *leaf_in = ctx_form(c, "name");
	uint32_t parent_id = ctx_form_uint(c, "parent", 0);
	const struct store_mailbox *parent = by_id(l, parent_id);

	if (is_protected(mb)) {
		show(c, l, 409, protected_message(c, mb, "renamed"), NULL, NULL, NULL, NULL);
		return;
	}
	if (parent != NULL && within(parent->name, mb->name)) {
		show(c, l, 400, "A folder cannot be moved into itself or into one of its "
				"subfolders.", mb, NULL, leaf_in, parent->name);
		return;
	}
	const char *name = new_name(c, l, leaf_in, parent_id, &message);
	if (name != NULL && strcmp(name, mb->name) == 0) {
		free(l->mb);
		page_redirect(c, "/folders");
		return;
	}
	if (name != NULL) {
		int r = store_mailbox_rename(c->store, c->user.id, mb->name, name, &error);
		if (r < 0) {
			free(l->mb);
			page_store_error(c, "rename folder", error);
			return;
		}
		if (r == 1) {
			log_info("webmail: folder-renamed user=<%s> mailbox=%u", c->user.address,
				 mb->id);
			free(l->mb);
			page_redirect(c, "/folders?done=renamed");
			return;
		}
		message = refusal(c, error, name);
	}
	show(c, l, 400, message, mb, NULL, leaf_in, parent != NULL ? parent->name : NULL);
}

/* Deepest first: the store deletes a folder only once it has no children. */
static int depth_desc(const void *pa, const void *pb)
{
	const struct store_mailbox *a = pa, *b = pb;
	unsigned da = 0, db = 0;
	for (const char *s = a->name; *s != '\0'; s++)
		da += *s == '/';
	for (const char *s = b->name; *s != '\0'; s++)
		db += *s == '/';
	return da > db ? -1 : da < db;
}

static void op_delete(struct ctx *c, struct mb_list *l, const struct store_mailbox *mb)
{
	const char *error = NULL;
	if (is_protected(mb)) {
		show(c, l, 409, protected_message(c, mb, "deleted"), NULL, NULL, NULL, NULL);
		return;
	}
	/* without the confirmation step's field: show the confirmation */
	const char *confirm = ctx_form(c, "confirm");
	if (confirm == NULL || strcmp(confirm, "yes") != 0) {
		const char *to = arena_printf(c->a, "/folders?delete=%u", mb->id);
		free(l->mb);
		page_redirect(c, to);
		return;
	}
	/* the folder and what is below it; a protected one below stops it all */
	struct store_mailbox *gone = calloc(l->n, sizeof(*gone));
	size_t n = 0;
	if (gone == NULL) {
		free(l->mb);
		page_error(c, 500, "Out of memory.");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (!within(l->mb[i].name, mb->name))
			continue;
		if (is_protected(&l->mb[i])) {
			const char *m = arena_printf(c->a, "\"%s\" holds the special folder \"%s\", "
						     "which cannot be deleted.", mb->name,
						     l->mb[i].name);
			free(gone);
			show(c, l, 409, m, NULL, NULL, NULL, NULL);
			return;
		}
		gone[n++] = l->mb[i];
	}
	qsort(gone, n, sizeof(*gone), depth_desc);
	uint64_t messages = 0;
	for (size_t i = 0; i < n; i++) {
		int r = store_mailbox_delete(c->store, c->user.id, gone[i].name, &error);
		if (r < 0) {
			free(gone);
			free(l->mb);
			page_store_error(c, "delete folder", error);
			return;
		}
		if (r == 0 && (error == NULL || strstr(error, "no such") == NULL)) {
			/* a subfolder made meanwhile (by a mail program): say so */
			const char *m = arena_printf(c->a, "\"%s\" was not deleted: %s.", gone[i].name,
						     error != NULL ? error : "refused");
			free(gone);
			struct mb_list fresh;
			free(l->mb);
			if (load(c, &fresh) == 0)
				show(c, &fresh, 409, m, NULL, NULL, NULL, NULL);
			return;
		}
		messages += gone[i].exists;
	}
	log_info("webmail: folder-deleted user=<%s> mailbox=%u folders=%zu messages=%llu",
		 c->user.address, mb->id, n, (unsigned long long)messages);
	free(gone);
	free(l->mb);
	page_redirect(c, "/folders?done=deleted");
}

static void op_subscribe(struct ctx *c, struct mb_list *l, const struct store_mailbox *mb, bool on)
{
	const char *error;
	if (is_inbox(mb) && !on) {
		show(c, l, 409, "The Inbox is always shown: it cannot be unsubscribed.", NULL, NULL,
		     NULL, NULL);
		return;
	}
	int r = store_mailbox_subscribe(c->store, c->user.id, mb->name, on, &error);
	free(l->mb);
	if (r < 0) {
		page_store_error(c, "subscribe", error);
		return;
	}
	page_redirect(c, on ? "/folders?done=subscribed" : "/folders?done=unsubscribed");
}

void page_folders(struct ctx *c)
{
	struct mb_list l;
	if (load(c, &l) < 0)
		return;
	if (c->req->method != HTTP_POST) {
		const struct store_mailbox *edit = by_id(&l, ctx_query_uint(c, "edit", 0));
		const struct store_mailbox *del = by_id(&l, ctx_query_uint(c, "delete", 0));
		if (edit != NULL && is_protected(edit)) {
			show(c, &l, 409, protected_message(c, edit, "renamed"), NULL, NULL, NULL, NULL);
			return;
		}
		if (del != NULL && is_protected(del)) {
			show(c, &l, 409, protected_message(c, del, "deleted"), NULL, NULL, NULL, NULL);
			return;
		}
		show(c, &l, 200, NULL, edit, edit == NULL ? del : NULL, NULL, NULL);
		return;
	}
	const char *op = ctx_form(c, "op");
	if (op != NULL && strcmp(op, "create") == 0) {
		op_create(c, &l);
		return;
	}
	/* every other operation is on one of the user's folders */
	const struct store_mailbox *mb = by_id(&l, ctx_form_uint(c, "mb", 0));
	if (op == NULL || mb == NULL) {
		free(l.mb);
		page_error(c, op == NULL ? 400 : 404, op == NULL ? "No action was chosen."
							 : "There is no such folder.");
		return;
	}
	if (strcmp(op, "rename") == 0)
		op_rename(c, &l, mb);
	else if (strcmp(op, "delete") == 0)
		op_delete(c, &l, mb);
	else if (strcmp(op, "subscribe") == 0 || strcmp(op, "unsubscribe") == 0)
		op_subscribe(c, &l, mb, strcmp(op, "subscribe") == 0);
	else {
		free(l.mb);
		page_error(c, 400, "Unknown action.");
	}
}
