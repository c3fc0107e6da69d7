/* The actions on selected messages: mark, move, copy, delete (with a
 * confirmation where nothing can undo it), empty Trash/Junk; each returns
 * to the list as it was (list_state_*, page_list.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"

/* Messages changed by one action. */
#define ACTION_UIDS_MAX 1000

static const char *num(struct ctx *c, unsigned long long v)
{
	return arena_printf(c->a, "%llu", v);
}

struct uid_list {
	uint32_t uids[ACTION_UIDS_MAX];
	uint32_t new_uids[ACTION_UIDS_MAX];
	/* "MB:UID" ticks (a search of all folders): each one's folder, in
	 * step with uids; all 0 for ticks of the folder shown */
	uint32_t mbs[ACTION_UIDS_MAX];
	size_t n;
	bool bad, folders;
};

static void uid_add(const char *value, void *ctx)
{
	struct uid_list *l = ctx;
	uint32_t mb = 0, uid;
	const char *colon = strchr(value, ':');
	char head[11];
	bool ok = true;
	if (colon != NULL) {
		size_t len = (size_t)(colon - value);
		ok = len < sizeof(head);
		if (ok) {
			memcpy(head, value, len);
			head[len] = '\0';
			ok = uint_parse(head, &mb) && mb != 0;
		}
		value = colon + 1;
	}
	if (!ok || !uint_parse(value, &uid) || uid == 0 || l->n == ACTION_UIDS_MAX ||
	    (l->n > 0 && (mb != 0) != l->folders)) {
		l->bad = true;
		return;
	}
	l->folders = mb != 0;
	l->mbs[l->n] = mb;
	l->uids[l->n++] = uid;
}

/* "&done=move&n=2&dest=5" for the notice of the page an action returns
 * to (list_done_notice), or "" when nothing changed. */
static const char *done_query(struct ctx *c, const char *done, size_t n, uint32_t dest)
{
	if (done == NULL)
		return "";
	return arena_printf(c->a, "&done=%s&n=%zu%s", done, n,
			    dest != 0 ? arena_printf(c->a, "&dest=%u", dest) : "");
}

/* "&sel=UID,UID..." (or MB:UID, the ticks of several folders) for a list
 * that shows these messages still ticked (the action did nothing and the
 * user will try again); none for more than a page can show. */
static const char *picked_query(struct ctx *c, const struct uid_list *l)
{
	if (l->n > STORE_PREFS_PAGE_MAX)
		return "";
	size_t size = l->n * 22 + 6, off = 0;  /* "&sel=" and "," or NUL after each */
	char *q = arena_alloc(c->a, size);
	if (q == NULL)
		return "";
	for (size_t i = 0; i < l->n; i++)
		off += (size_t)(l->folders ? snprintf(q + off, size - off, "%s%u:%u",
						      i == 0 ? "&sel=" : ",", l->mbs[i], l->uids[i])
					   : snprintf(q + off, size - off, "%s%u",
						      i == 0 ? "&sel=" : ",", l->uids[i]));
	return q;
}

/* Where to go back to after an action: the same list (page, sort and
 * search), or the message when it was sent from there. A message marked
 * unread goes back to the list (showing it again would mark it read); one
 * moved away or deleted makes way for the next in the list, as in
 * Roundcube, or for the list after the last. */
static const char *return_href(struct ctx *c, uint32_t mb, const char *op, bool gone)
{
	struct list_state st;
	const char *ret = ctx_form(c, "return");
	uint32_t uid = ctx_form_uint(c, "ret_uid", 0), next = ctx_form_uint(c, "next_uid", 0);
	uint32_t pos;
	list_state_read(c, true, &st);
	bool from_msg = ret != NULL && strcmp(ret, "msg") == 0 && uid != 0;
	bool has_pos = uint_parse(ctx_form(c, "pos"), &pos);
	if (from_msg && !gone && strcmp(op, "unread") != 0)
		return list_state_href(c, "/msg", mb, uid, has_pos ? num(c, pos) : NULL, &st);
	if (from_msg && gone && next != 0)
		/* the next message moved up into the place of this one */
		return list_state_href(c, "/msg", mb, next, has_pos ? num(c, pos) : NULL, &st);
	return list_state_href(c, "/list", mb, 0, NULL, &st);
}

static void action_return(struct ctx *c, uint32_t mb, const char *op, bool gone, const char *done)
{
	const char *to = return_href(c, mb, op, gone);
	if (to[0] == '#') {
		page_error(c, 500, "Out of memory.");
		return;
	}
	page_redirect(c, arena_printf(c->a, "%s%s", to + strlen(c->wm->base), done));
}

/* ---------------------------------------------------------------- confirmation */

/* What cannot be undone (deleting for good, emptying Trash or Junk) is
 * asked first, on a page of its own that works without JavaScript: its
 * button posts the same form again with confirm=yes; Cancel is a link back
 * to where the user was. */
static bool confirmed(struct ctx *c)
{
	const char *v = ctx_form(c, "confirm");
	return v != NULL && strcmp(v, "yes") == 0;
}

static void confirm_field(struct ctx *c, const char *name, const char *value)
{
	struct tpl_obj *it = tpl_item(c->data, "fields");
	tpl_str(it, "name", name);
	tpl_str(it, "value", value);
}

/* The page: `question` its heading, `detail` before "This cannot be
 * undone.", `yes` the button posting to /empty (empty) or /action with
 * data.fields and the list state; Cancel goes to `cancel`. */
static void confirm_page(struct ctx *c, uint32_t mb, bool empty, const char *question,
			 const char *detail, const char *yes, const char *cancel)
{
	struct list_state st;
	if (ctx_folders(c, mb) < 0)
		return;
	list_state_read(c, true, &st);
	list_state_keep(c, &st);
	tpl_bool(c->data, "empty", empty);
	tpl_str(c->data, "question", question);
	tpl_str(c->data, "detail", detail);
	tpl_str(c->data, "yes", yes);
	tpl_str(c->data, "cancel_href", cancel);
	page_render(c, "confirm", question);
}

/* Delete for good, asked: the selection and the way back go with it. */
static void purge_confirm(struct ctx *c, const struct store_mailbox *mb, const struct uid_list *l)
{
	uint32_t v;
	const char *ret = ctx_form(c, "return");
	bool from_msg = ret != NULL && strcmp(ret, "msg") == 0;
	tpl_list(c->data, "fields");
	confirm_field(c, "mb", num(c, mb->id));
	confirm_field(c, "op", "delete");
	for (size_t i = 0; i < l->n; i++)
		confirm_field(c, "uid", num(c, l->uids[i]));
	if (from_msg)
		confirm_field(c, "return", "msg");
	static const char *const way_back[] = { "ret_uid", "next_uid", "pos" };
	for (size_t i = 0; from_msg && i < sizeof(way_back) / sizeof(way_back[0]); i++)
		if (uint_parse(ctx_form(c, way_back[i]), &v))
			confirm_field(c, way_back[i], num(c, v));
	const char *question = from_msg && l->n == 1 ? "Delete this message for good?"
			       : l->n == 1 ? "Delete 1 message for good?"
			       : arena_printf(c->a, "Delete %zu messages for good?", l->n);
	confirm_page(c, mb->id, false, question, NULL, "Delete for good",
		     return_href(c, mb->id, "delete", false));
}

/* Junk or not junk: the keywords mail apps read and set for it ($Junk,
 * $NotJunk: RFC 5788's registry; Thunderbird, Apple Mail), then a move to
 * Junk, or from Junk back to the Inbox (a message marked not junk
 * elsewhere stays where it is). The count moved, or -1 after the error
 * page; *dst the folder it went to (or mb). */
static int junk_action(struct ctx *c, bool junk, const struct store_mailbox *mb,
		       struct uid_list *l, struct store_mailbox *dst, const char **error_r)
{
	static const char *const kw_junk[] = { "$Junk" }, *const kw_not[] = { "$NotJunk" };
	int t;
	*dst = *mb;
	if (store_msg_set_flags(c->store, mb->id, l->uids, l->n, STORE_FLAGS_REMOVE, 0,
				junk ? kw_not : kw_junk, 1, 0, NULL, NULL, NULL, error_r) < 0 ||
	    store_msg_set_flags(c->store, mb->id, l->uids, l->n, STORE_FLAGS_ADD, 0,
				junk ? kw_junk : kw_not, 1, 0, NULL, NULL, NULL, error_r) < 0) {
		page_store_error(c, "flags", *error_r);
		return -1;
	}
	if (junk) {
		t = ctx_special_mailbox(c, STORE_SPECIAL_JUNK, dst);
		if (t == 0) {
			page_error(c, 409, "There is no Junk folder to move the messages to.");
			return -1;
		}
	} else if (mb->special_use & STORE_SPECIAL_JUNK) {
		t = store_mailbox_find(c->store, c->user.id, "INBOX", dst, error_r);
		if (t < 0)
			page_store_error(c, "mailbox", *error_r);
	} else {
		return (int)l->n;
	}
	if (t < 0)
		return -1;
	if (dst->id == mb->id)
		return (int)l->n;
	int r = store_msg_copy(c->store, mb->id, l->uids, l->n, dst->id, true, l->new_uids, error_r);
	if (r < 0)
		page_store_error(c, "junk", *error_r);
	return r;
}

/* The notice for a move, copy or delete that changed r messages (the
 * count a copy returns; an expunge's is the selection's, n): none when
 * nothing moved (the form sent twice, or into its own folder). */
static const char *action_done(struct ctx *c, const char *op, const struct store_mailbox *mb,
			       const struct store_mailbox *dst, int r, size_t n)
{
	bool purge = strcmp(op, "delete") == 0 && (mb->special_use & STORE_SPECIAL_TRASH);
	if (purge)
		return done_query(c, "purge", n, 0);
	if (r <= 0 || dst->id == mb->id)
		return "";
	return done_query(c, op, (size_t)r, dst->id);
}

/* The actions that set or clear a flag. */
static const struct flag_op {
	const char *op;
	enum store_flag_op how;
	uint32_t flag;
} flag_ops[] = {
	{ "read", STORE_FLAGS_ADD, STORE_FLAG_SEEN },
	{ "unread", STORE_FLAGS_REMOVE, STORE_FLAG_SEEN },
	{ "flag", STORE_FLAGS_ADD, STORE_FLAG_FLAGGED },
	{ "unflag", STORE_FLAGS_REMOVE, STORE_FLAG_FLAGGED },
};

static const struct flag_op *flag_op_find(const char *op)
{
	for (size_t i = 0; i < sizeof(flag_ops) / sizeof(flag_ops[0]); i++)
		if (strcmp(op, flag_ops[i].op) == 0)
			return &flag_ops[i];
	return NULL;
}

/* The Trash folder into trash: true, or false when the error page (no
 * Trash folder, or the store's error) is the answer. */
static bool trash_find(struct ctx *c, struct store_mailbox *trash)
{
	int t = ctx_special_mailbox(c, STORE_SPECIAL_TRASH, trash);
	if (t == 0)
		page_error(c, 409, "There is no Trash folder to move the messages to.");
	return t > 0;
}

/* ------------------------------------------------ ticks in several folders */

/* The ticks of folder mb among l's, into group. */
static void group_of(const struct uid_list *l, uint32_t mb, struct uid_list *group)
{
	group->n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->mbs[i] == mb)
			group->uids[group->n++] = l->uids[i];
}

/* Delete for good, asked, when in_trash of the ticks are in Trash. */
static void purge_confirm_folders(struct ctx *c, uint32_t shown, const struct uid_list *l,
				  size_t in_trash)
{
	tpl_list(c->data, "fields");
	confirm_field(c, "mb", num(c, shown));
	confirm_field(c, "op", "delete");
	for (size_t i = 0; i < l->n; i++)
		confirm_field(c, "uid", arena_printf(c->a, "%u:%u", l->mbs[i], l->uids[i]));
	const char *question = in_trash == 1 ? "Delete 1 message in Trash for good?"
			       : arena_printf(c->a, "Delete %zu messages in Trash for good?", in_trash);
	confirm_page(c, shown, false, question,
		     l->n > in_trash ? "The others selected go to Trash." : NULL, "Delete",
		     return_href(c, shown, "delete", false));
}

/* The action on the ticks of a search in all folders, folder by folder
 * (each one checked as the user's), then back to the same results. No
 * Junk there: where it moves to depends on the folder. */
static void action_folders(struct ctx *c, uint32_t shown, const char *op, struct uid_list *l)
{
	const struct flag_op *flag_op = flag_op_find(op);
	bool move = strcmp(op, "move") == 0, copy = strcmp(op, "copy") == 0;
	bool del = strcmp(op, "delete") == 0;
	struct store_mailbox dst = { 0 };
	if (flag_op == NULL && !move && !copy && !del) {
		page_error(c, 400, "This action is for the messages of one folder.");
		return;
	}
	if ((move || copy) && ctx_form_uint(c, "to", 0) == 0) {
		action_return(c, shown, "nofolder", false,
			      arena_printf(c->a, "%s%s", done_query(c, "nofolder", l->n, 0),
					   picked_query(c, l)));
		return;
	}
	if ((move || copy) && ctx_mailbox(c, ctx_form_uint(c, "to", 0), &dst) <= 0)
		return;
	size_t in_trash = 0;
	if (del) {
		if (!trash_find(c, &dst))
			return;
		for (size_t i = 0; i < l->n; i++)
			in_trash += l->mbs[i] == dst.id;
		if (in_trash > 0 && !confirmed(c)) {
			purge_confirm_folders(c, shown, l, in_trash);
			return;
		}
	}
	struct uid_list *g = arena_alloc(c->a, sizeof(*g));
	if (g == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	/* every folder checked as the user's before anything changes */
	uint32_t *folders = arena_alloc(c->a, l->n * sizeof(*folders));
	size_t nfolders = 0;
	if (folders == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		bool seen = false;
		for (size_t j = 0; j < nfolders && !seen; j++)
			seen = folders[j] == l->mbs[i];
		struct store_mailbox mb;
		if (!seen && ctx_mailbox(c, l->mbs[i], &mb) <= 0)
			return;
		if (!seen)
			folders[nfolders++] = l->mbs[i];
	}
	/* A move or copy (a delete: a move to Trash) takes every folder's ticks
	 * in one transaction, so a full quota leaves none copied; the ticks in
	 * Trash itself are deleted for good afterwards. */
	uint32_t *by_folder = arena_alloc(c->a, l->n * sizeof(*by_folder));
	struct store_copy_group *groups = arena_alloc(c->a, nfolders * sizeof(*groups));
	if (by_folder == NULL || groups == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	size_t ngroups = 0, used = 0, moved = 0;
	for (size_t f = 0; f < nfolders; f++) {
		uint32_t mb = folders[f];
		const char *error = NULL;
		group_of(l, mb, g);
		if (flag_op != NULL &&
		    store_msg_set_flags(c->store, mb, g->uids, g->n, flag_op->how, flag_op->flag, NULL,
					0, 0, NULL, NULL, NULL, &error) < 0) {
			page_store_error(c, op, error);
			return;
		}
		if (flag_op == NULL && mb != dst.id) {   /* (into its own folder: nothing to do) */
			memcpy(by_folder + used, g->uids, g->n * sizeof(*by_folder));
			groups[ngroups++] = (struct store_copy_group){ mb, by_folder + used, g->n, NULL };
			used += g->n;
		}
	}
	if (ngroups > 0) {
		const char *error = NULL;
		int r = store_msg_copy_groups(c->store, groups, ngroups, dst.id, !copy, &error);
		if (r < 0) {
			page_store_error(c, op, error);
			return;
		}
		if (r == 0 && error != NULL && strstr(error, "quota") != NULL) {
			page_error(c, 409, "The target folder's quota is full.");
			return;
		}
		moved = (size_t)r;
	}
	if (in_trash > 0) {
		const char *error = NULL;
		group_of(l, dst.id, g);
		if (store_msg_expunge(c->store, dst.id, g->uids, g->n, &error) < 0) {
			page_store_error(c, op, error);
			return;
		}
	}
	log_info("webmail: %s user=<%s> mailboxes=%zu count=%zu", op, c->user.address, nfolders,
		 l->n);
	const char *done = flag_op != NULL ? done_query(c, op, l->n, 0)
		: moved > 0 ? done_query(c, op, moved, dst.id)
		: in_trash > 0 ? done_query(c, "purge", in_trash, 0) : "";
	action_return(c, shown, op, false, done);
}

void page_action(struct ctx *c)
{
	struct store_mailbox mb, dst = { 0 };
	struct uid_list *l = arena_alloc(c->a, sizeof(*l));
	/* NULL unless a refusal says why: a copy or move of messages that are
	 * no longer there (a form sent twice), or into the same folder,
	 * moves nothing and says nothing */
	const char *error = NULL;
	const char *op = ctx_form(c, "op");
	if (l == NULL) {
		page_error(c, 500, "Out of memory.");
		return;
	}
	if (ctx_mailbox(c, ctx_form_uint(c, "mb", 0), &mb) <= 0)
		return;
	form_each(&c->req->body, "uid", uid_add, l);
	if (l->bad) {
		page_error(c, 400, "The selection is invalid or too large (at most 1000 messages).");
		return;
	}
	if (op == NULL) {
		page_error(c, 400, "No action was chosen.");
		return;
	}
	if (l->n == 0) {
		action_return(c, mb.id, op, false, "");
		return;
	}
	if (l->folders) {
		action_folders(c, mb.id, op, l);
		return;
	}
	int r = 0;
	bool gone = false;
	const struct flag_op *flag_op = flag_op_find(op);
	if (flag_op != NULL) {
		r = store_msg_set_flags(c->store, mb.id, l->uids, l->n, flag_op->how,
					flag_op->flag, NULL, 0, 0, NULL, NULL, NULL, &error);
		if (r < 0) {
			page_store_error(c, "flags", error);
			return;
		}
		action_return(c, mb.id, op, false, done_query(c, op, l->n, 0));
		return;
	}
	if ((strcmp(op, "move") == 0 || strcmp(op, "copy") == 0) && ctx_form_uint(c, "to", 0) == 0) {
		/* Move or Copy with the menu still on "Move to…": say so, change
		 * nothing (no error page for a slip) */
		action_return(c, mb.id, "nofolder", false,
			      arena_printf(c->a, "%s%s", done_query(c, "nofolder", l->n, 0),
					   picked_query(c, l)));
		return;
	}
	if (strcmp(op, "move") == 0) {
		if (ctx_mailbox(c, ctx_form_uint(c, "to", 0), &dst) <= 0)
			return;
		if (dst.id != mb.id) {
			r = store_msg_copy(c->store, mb.id, l->uids, l->n, dst.id, true, l->new_uids,
					   &error);
			gone = true;
		}
	} else if (strcmp(op, "copy") == 0) {
		/* copying into the same folder would only duplicate: like a move there */
		if (ctx_mailbox(c, ctx_form_uint(c, "to", 0), &dst) <= 0)
			return;
		if (dst.id != mb.id)
			r = store_msg_copy(c->store, mb.id, l->uids, l->n, dst.id, false, l->new_uids,
					   &error);
	} else if (strcmp(op, "junk") == 0 || strcmp(op, "notjunk") == 0) {
		r = junk_action(c, op[0] == 'j', &mb, l, &dst, &error);
		if (r < 0)
			return;
		gone = dst.id != mb.id;
		log_info("webmail: %s user=<%s> mailbox=%u count=%zu", op, c->user.address, mb.id,
			 l->n);
		action_return(c, mb.id, op, gone,
			      done_query(c, gone ? arena_printf(c->a, "%s-moved", op) : op, l->n,
					 gone ? dst.id : 0));
		return;
	} else if (strcmp(op, "delete") == 0) {
		if ((mb.special_use & STORE_SPECIAL_TRASH) && !confirmed(c)) {
			purge_confirm(c, &mb, l);
			return;
		}
		if (mb.special_use & STORE_SPECIAL_TRASH) {
			r = store_msg_expunge(c->store, mb.id, l->uids, l->n, &error);
		} else {
			if (!trash_find(c, &dst))
				return;
			r = store_msg_copy(c->store, mb.id, l->uids, l->n, dst.id, true, l->new_uids,
					   &error);
		}
		gone = true;
	} else {
		page_error(c, 400, "Unknown action.");
		return;
	}
	if (r < 0) {
		page_store_error(c, op, error);
		return;
	}
	if (r == 0 && strcmp(op, "delete") != 0 && error != NULL && strstr(error, "quota") != NULL) {
		page_error(c, 409, "The target folder's quota is full.");
		return;
	}
	log_info("webmail: %s user=<%s> mailbox=%u count=%zu", op, c->user.address, mb.id, l->n);
	action_return(c, mb.id, op, gone, action_done(c, op, &mb, &dst, r, l->n));
}

struct all_uids {
	uint32_t *uids;
	size_t n, cap;
	bool oom;
};

static int all_cb(const struct store_msg *m, void *ctx)
{
	struct all_uids *a = ctx;
	if (a->n == a->cap) {
		size_t cap = a->cap == 0 ? 1024 : a->cap * 2;
		uint32_t *u = realloc(a->uids, cap * sizeof(*u));
		if (u == NULL) {
			a->oom = true;
			return 1;
		}
		a->uids = u;
		a->cap = cap;
	}
	a->uids[a->n++] = m->uid;
	return 0;
}

/* Empty Trash or Junk, asked: the messages there now (up to the highest
 * uid: one that arrives meanwhile is not deleted unseen). */
static void empty_confirm(struct ctx *c, const struct store_mailbox *mb, const struct all_uids *a)
{
	struct list_state st;
	list_state_read(c, true, &st);
	tpl_list(c->data, "fields");
	confirm_field(c, "mb", num(c, mb->id));
	confirm_field(c, "upto", num(c, a->uids[a->n - 1]));
	confirm_page(c, mb->id, true, arena_printf(c->a, "Empty %s?", mb->name),
		     a->n == 1 ? "The message in it will be deleted for good."
			       : arena_printf(c->a, "The %zu messages in it will be deleted for good.",
					      a->n),
		     arena_printf(c->a, "Empty %s", mb->name),
		     list_state_href(c, "/list", mb->id, 0, NULL, &st));
}

void page_empty(struct ctx *c)
{
	struct store_mailbox mb;
	struct list_state st;
	const char *error;
	struct all_uids a = { 0 };
	if (ctx_mailbox(c, ctx_form_uint(c, "mb", 0), &mb) <= 0)
		return;
	if (!(mb.special_use & (STORE_SPECIAL_TRASH | STORE_SPECIAL_JUNK))) {
		page_error(c, 400, "Only the Trash and Junk folders can be emptied.");
		return;
	}
	bool yes = confirmed(c);
	uint32_t upto = yes ? ctx_form_uint(c, "upto", 0) : UINT32_MAX;
	if (upto > 0 && store_msg_list(c->store, mb.id, 1, upto, all_cb, &a, &error) < 0) {
		free(a.uids);
		page_store_error(c, "empty", error);
		return;
	}
	if (a.oom) {
		free(a.uids);
		page_error(c, 500, "Out of memory.");
		return;
	}
	if (!yes && a.n > 0) {
		empty_confirm(c, &mb, &a);
		free(a.uids);
		return;
	}
	for (size_t i = 0; i < a.n; i += ACTION_UIDS_MAX) {
		size_t n = a.n - i < ACTION_UIDS_MAX ? a.n - i : ACTION_UIDS_MAX;
		if (store_msg_expunge(c->store, mb.id, a.uids + i, n, &error) < 0) {
			free(a.uids);
			page_store_error(c, "empty", error);
			return;
		}
	}
	free(a.uids);
	log_info("webmail: empty user=<%s> mailbox=%u count=%zu", c->user.address, mb.id, a.n);
	/* the same list (sort, search), from its first page */
	list_state_read(c, true, &st);
	st.page = 0;
	const char *to = list_state_href(c, "/list", mb.id, 0, NULL, &st);
	if (to[0] == '#') {
		page_error(c, 500, "Out of memory.");
		return;
	}
	page_redirect(c, arena_printf(c->a, "%s%s", to + strlen(c->wm->base),
				      done_query(c, a.n > 0 ? "purge" : NULL, a.n, 0)));
}
