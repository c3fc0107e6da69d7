/* Mailbox names and the mailbox commands: SELECT/EXAMINE, CREATE
 * (CREATE-SPECIAL-USE), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, NAMESPACE,
 * STATUS, and QUOTA (RFC 9208, read-only).
 *
 * Names: the hierarchy delimiter is '/', the personal namespace has an empty
 * prefix (clients that see "INBOX." duplicate folders), INBOX is
 * case-insensitive. On the wire a name is modified UTF-7 (IMAP4rev1) or
 * UTF-8 (after ENABLE UTF8=ACCEPT or IMAP4rev2); in the store always UTF-8.
 * Refused: invalid encodings, "..", empty levels, control characters, names
 * over STORE_MAILBOX_NAME_MAX bytes or STORE_MAILBOX_DEPTH_MAX levels. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "imap.h"
#include "imap_utf7.h"
#include "log.h"

uint64_t imap_append_limit(const struct imap_session *s)
{
	return s->config->max_message_size;
}

int imap_mailbox_name(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *arg,
		      char *dst)
{
	char tmp[STORE_MAILBOX_NAME_MAX * 4 + 4];
	size_t len;

	if (!imap_arg_is_string(arg)) {
		imap_bad(s, cmd, "Missing mailbox name");
		return 0;
	}
	if (arg->len == 0 || arg->len >= IMAP_MAILBOX_WIRE_MAX ||
	    memchr(arg->str, '\0', arg->len) != NULL) {
		imap_no(s, cmd, "[CANNOT] Invalid mailbox name");
		return 0;
	}
	if (s->utf8) {
		if (!charset_utf8_valid(arg->str, arg->len)) {
			imap_no(s, cmd, "[CANNOT] Mailbox name is not valid UTF-8");
			return 0;
		}
		memcpy(tmp, arg->str, arg->len);
		len = arg->len;
		tmp[len] = '\0';
	} else {
		int n = imap_utf7_to_utf8(arg->str, arg->len, tmp, sizeof(tmp));
		if (n < 0) {
			imap_no(s, cmd, "[CANNOT] Mailbox name is not valid modified UTF-7");
			return 0;
		}
		len = (size_t)n;
	}
	/* "Work/" is Work: CREATE's way to say a parent (RFC 3501 6.3.3), and
	 * Thunderbird sends it to SELECT, STATUS, DELETE... too (Dovecot's
	 * tb-extra-mailbox-sep); no mailbox name ends in the delimiter */
	if (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = '\0';
	if (len > STORE_MAILBOX_NAME_MAX || strstr(tmp, "..") != NULL) {
		imap_no(s, cmd, "[CANNOT] Invalid mailbox name");
		return 0;
	}
	/* INBOX in any case, as a whole name or a first level. */
	if (strncasecmp(tmp, "INBOX", 5) == 0 && (tmp[5] == '\0' || tmp[5] == '/'))
		memcpy(tmp, "INBOX", 5);
	if (!store_mailbox_name_valid(tmp)) {
		imap_no(s, cmd, "[CANNOT] Invalid mailbox name");
		return 0;
	}
	memcpy(dst, tmp, len + 1);
	return 1;
}

int imap_mailbox_lookup(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *arg,
			const char *missing_code, struct store_mailbox *mb_r)
{
	char name[STORE_MAILBOX_NAME_MAX + 1];
	const char *error = NULL;

	if (!imap_mailbox_name(s, cmd, arg, name))
		return -1;
	int r = store_mailbox_find(s->store, s->user.id, name, mb_r, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		return -1;
	}
	if (r == 0) {
		imap_replyf(s, cmd, "NO", "%s Mailbox does not exist", missing_code);
		return 0;
	}
	return 1;
}

/* The SPECIAL-USE attributes (RFC 6154) and the store's bits. */
static const struct {
	unsigned bit;
	const char *name;
} special_uses[] = {
	{ STORE_SPECIAL_ALL, "\\All" },
	{ STORE_SPECIAL_ARCHIVE, "\\Archive" },
	{ STORE_SPECIAL_DRAFTS, "\\Drafts" },
	{ STORE_SPECIAL_FLAGGED, "\\Flagged" },
	{ STORE_SPECIAL_JUNK, "\\Junk" },
	{ STORE_SPECIAL_SENT, "\\Sent" },
	{ STORE_SPECIAL_TRASH, "\\Trash" },
};

void imap_write_special_use(struct imap_session *s, unsigned special, bool *first)
{
	for (size_t i = 0; i < sizeof(special_uses) / sizeof(special_uses[0]); i++) {
		if (!(special & special_uses[i].bit))
			continue;
		if (!*first)
			imap_puts(s, " ");
		imap_puts(s, special_uses[i].name);
		*first = false;
	}
}

/* "\Sent" etc. -> bits; 0 if unknown. */
static unsigned imap_special_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(special_uses) / sizeof(special_uses[0]); i++)
		if (strcasecmp(name, special_uses[i].name) == 0)
			return special_uses[i].bit;
	return 0;
}

/* ------------------------------------------------------- SELECT/EXAMINE */

/* Deselects the mailbox (back to the authenticated state) with the untagged
 * OK [CLOSED] that marks the end of a selection (RFC 9051 7.1);
 * `why` is fixed text. */
static void imap_selection_end(struct imap_session *s, const char *why)
{
	imap_view_close(s);
	s->state = IMAP_STATE_AUTH;
	imap_printf(s, "* OK [CLOSED] %s\r\n", why);
}

/* A sequence set without '*' (known-uids and seq-match-data, RFC 7162
 * 3.2.5), normalized, with the number of values in it: 1, 0 invalid, -1
 * out of memory. */
static int qresync_set(const struct imap_arg *a, struct imap_seqset *set_r, uint64_t *size_r)
{
	int r = a->type == IMAP_ARG_ATOM ? imap_seqset_parse(a->str, a->len, set_r) : 0;

	if (r <= 0)
		return r;
	if (imap_seqset_has_star(set_r)) {
		imap_seqset_free(set_r);
		return 0;
	}
	imap_seqset_normalize(set_r, 0);
	*size_r = 0;
	for (size_t i = 0; i < set_r->count; i++)
		*size_r += (uint64_t)set_r->ranges[i].hi - set_r->ranges[i].lo + 1;
	return 1;
}

/* seq-match-data "(known-sequence-set known-uid-set)": checked (the same
 * number of messages in each), not used: it only narrows what VANISHED
 * (EARLIER) must hold, and sending more is allowed. 1, 0 invalid, -1. */
static int qresync_match_data(const struct imap_arg *a)
{
	const struct imap_arg *x = a->type == IMAP_ARG_LIST ? a->child : NULL;
	struct imap_seqset set;
	uint64_t size[2];
	int r;

	if (x == NULL || x->next == NULL || x->next->next != NULL)
		return 0;
	for (int i = 0; i < 2; i++, x = x->next) {
		if ((r = qresync_set(x, &set, &size[i])) <= 0)
			return r;
		imap_seqset_free(&set);
	}
	return size[0] == size[1];
}

/* "(uidvalidity modseq [known-uids] [seq-match-data])" after QRESYNC:
 * 1 parsed into *q (known normalized, to be freed), 0 BAD sent, -1 NO sent. */
static int select_qresync_parse(struct imap_session *s, struct imap_cmd *cmd,
				const struct imap_arg *list, struct imap_qresync *q)
{
	const struct imap_arg *a = list != NULL && list->type == IMAP_ARG_LIST ? list->child : NULL;
	uint64_t validity, size;
	int r = 0;

	if (!s->qresync) {
		imap_bad(s, cmd, "QRESYNC is not enabled");
		return 0;
	}
	if (a == NULL || a->type != IMAP_ARG_ATOM ||
	    !imap_parse_number(a->str, a->len, UINT32_MAX, &validity) || validity == 0 ||
	    (a = a->next) == NULL || a->type != IMAP_ARG_ATOM ||
	    !imap_parse_number(a->str, a->len, INT64_MAX, &q->modseq) || q->modseq == 0)
		goto bad;
	q->uidvalidity = (uint32_t)validity;
	a = a->next;
	if (a != NULL && a->type == IMAP_ARG_ATOM) {
		if ((r = qresync_set(a, &q->known, &size)) <= 0)
			goto bad;
		a = a->next;
	}
	if (a != NULL && ((r = qresync_match_data(a)) <= 0 || a->next != NULL))
		goto bad;
	return 1;
bad:
	imap_seqset_free(&q->known);
	if (r < 0) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return -1;
	}
	imap_bad(s, cmd, "Invalid QRESYNC parameter");
	return 0;
}

/* The parameters of SELECT/EXAMINE: CONDSTORE, QRESYNC (RFC 7162). 1 ok
 * (*qresync_r set when QRESYNC was given), 0 BAD sent, -1 NO sent. */
static int select_params(struct imap_session *s, struct imap_cmd *cmd,
			 const struct imap_arg *params, struct imap_qresync *q, bool *qresync_r)
{
	*qresync_r = false;
	for (const struct imap_arg *p = params != NULL ? params->child : NULL; p != NULL; p = p->next) {
		if (imap_arg_atom_is(p, "CONDSTORE")) {
			s->condstore = true;
			continue;
		}
		if (!imap_arg_atom_is(p, "QRESYNC") || *qresync_r) {
			imap_bad(s, cmd, "Unknown SELECT parameter");
			return 0;
		}
		int r = select_qresync_parse(s, cmd, p->next, q);
		if (r <= 0)
			return r;
		*qresync_r = true;
		p = p->next;
	}
	return 1;
}

int imap_cmd_select(struct imap_session *s, struct imap_cmd *cmd)
{
	bool readonly = strcasecmp(cmd->name, "EXAMINE") == 0, qresync;
	const struct imap_arg *params = cmd->args != NULL ? cmd->args->next : NULL;
	struct imap_qresync q = { 0 };
	struct store_mailbox mb;

	if (cmd->args == NULL || (params != NULL && (params->type != IMAP_ARG_LIST ||
						     params->next != NULL))) {
		imap_bad(s, cmd, "SELECT needs a mailbox name and optional parameters");
		return 0;
	}
	if (select_params(s, cmd, params, &q, &qresync) <= 0)
		goto out;
	if (s->view != NULL)
		imap_selection_end(s, "Previous mailbox closed");
	if (imap_mailbox_lookup(s, cmd, cmd->args, "[NONEXISTENT]", &mb) <= 0)
		goto out;
	if (imap_view_open(s, cmd, &mb, readonly, qresync ? &q : NULL) <= 0)
		goto out;
	s->state = IMAP_STATE_SELECTED;
out:
	imap_seqset_free(&q.known);
	return 0;
}

/* ---------------------------------------------------------------- CREATE */

/* Creates `name` and any missing parent (no \Noselect holes). 1 created,
 * 0 refused (NO sent), -1 error (NO sent). */
static int imap_create_path(struct imap_session *s, struct imap_cmd *cmd, const char *name,
			    unsigned special)
{
	char path[STORE_MAILBOX_NAME_MAX + 1];
	const char *error = NULL;
	struct store_mailbox mb;
	uint32_t id;

	snprintf(path, sizeof(path), "%s", name);
	for (char *slash = strchr(path, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		int r = store_mailbox_find(s->store, s->user.id, path, &mb, &error);
		if (r == 0)
			r = store_mailbox_create(s->store, s->user.id, path, 0, &id, &error);
		*slash = '/';
		if (r < 0) {
			imap_store_error(s, cmd, error);
			return -1;
		}
		if (r == 0) {
			imap_replyf(s, cmd, "NO", "[%s] Cannot create the parent mailbox",
				    error != NULL && strstr(error, "many") != NULL ? "LIMIT" : "CANNOT");
			return 0;
		}
	}
	int r = store_mailbox_create(s->store, s->user.id, name, special, &id, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		return -1;
	}
	if (r == 0) {
		imap_replyf(s, cmd, "NO", "[%s] Cannot create the mailbox",
			    error != NULL && strstr(error, "many") != NULL ? "LIMIT" : "CANNOT");
		return 0;
	}
	return 1;
}

int imap_cmd_create(struct imap_session *s, struct imap_cmd *cmd)
{
	char name[STORE_MAILBOX_NAME_MAX + 1];
	const struct imap_arg *params = cmd->args != NULL ? cmd->args->next : NULL;
	const char *error = NULL;
	struct store_mailbox mb;
	unsigned special = 0;

	if (cmd->args == NULL || (params != NULL && (params->type != IMAP_ARG_LIST ||
						     params->next != NULL))) {
		imap_bad(s, cmd, "CREATE needs a mailbox name and optional parameters");
		return 0;
	}
	/* RFC 6154: CREATE name (USE (\Sent ...)) */
	for (const struct imap_arg *p = params != NULL ? params->child : NULL; p != NULL;
	     p = p->next->next) {
		if (!imap_arg_atom_is(p, "USE") || p->next == NULL ||
		    p->next->type != IMAP_ARG_LIST) {
			imap_bad(s, cmd, "Unknown CREATE parameter");
			return 0;
		}
		for (const struct imap_arg *u = p->next->child; u != NULL; u = u->next) {
			unsigned bit = u->type == IMAP_ARG_ATOM ? imap_special_parse(u->str) : 0;
			if (bit == 0) {
				imap_no(s, cmd, "[USEATTR] Unsupported special-use attribute");
				return 0;
			}
			special |= bit;
		}
	}
	if (!imap_mailbox_name(s, cmd, cmd->args, name))
		return 0;
	int r = store_mailbox_find(s->store, s->user.id, name, &mb, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		return 0;
	}
	if (r == 1) {
		imap_no(s, cmd, "[ALREADYEXISTS] Mailbox already exists");
		return 0;
	}
	if (imap_create_path(s, cmd, name, special) == 1)
		imap_ok(s, cmd, "Create completed");
	return 0;
}

/* ---------------------------------------------------------------- DELETE */

int imap_cmd_delete(struct imap_session *s, struct imap_cmd *cmd)
{
	struct store_mailbox mb;
	const char *error = NULL;

	if (cmd->args == NULL || cmd->args->next != NULL) {
		imap_bad(s, cmd, "DELETE needs a mailbox name");
		return 0;
	}
	if (imap_mailbox_lookup(s, cmd, cmd->args, "[NONEXISTENT]", &mb) <= 0)
		return 0;
	if (strcmp(mb.name, "INBOX") == 0) {
		imap_no(s, cmd, "[CANNOT] INBOX cannot be deleted");
		return 0;
	}
	int r = store_mailbox_delete(s->store, s->user.id, mb.name, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		return 0;
	}
	if (r == 0) {
		imap_no(s, cmd, "[HASCHILDREN] Mailbox has children: delete them first");
		return 0;
	}
	if (s->view != NULL && s->view->mailbox_id == mb.id)
		imap_selection_end(s, "Selected mailbox deleted");
	imap_ok(s, cmd, "Delete completed");
	return 0;
}

/* ---------------------------------------------------------------- RENAME */

int imap_cmd_rename(struct imap_session *s, struct imap_cmd *cmd)
{
	char to[STORE_MAILBOX_NAME_MAX + 1];
	struct store_mailbox mb, other;
	const char *error = NULL;

	if (cmd->args == NULL || cmd->args->next == NULL || cmd->args->next->next != NULL) {
		imap_bad(s, cmd, "RENAME needs two mailbox names");
		return 0;
	}
	if (imap_mailbox_lookup(s, cmd, cmd->args, "[NONEXISTENT]", &mb) <= 0)
		return 0;
	if (!imap_mailbox_name(s, cmd, cmd->args->next, to))
		return 0;
	size_t flen = strlen(mb.name);
	if (strcmp(to, mb.name) == 0 || (strncmp(to, mb.name, flen) == 0 && to[flen] == '/')) {
		imap_no(s, cmd, "[CANNOT] Cannot rename a mailbox into itself");
		return 0;
	}
	int r = store_mailbox_find(s->store, s->user.id, to, &other, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		return 0;
	}
	if (r == 1) {
		imap_no(s, cmd, "[ALREADYEXISTS] Target mailbox already exists");
		return 0;
	}
	/* the target's parents, so that no hole appears */
	char *slash = strrchr(to, '/');
	if (slash != NULL) {
		*slash = '\0';
		r = store_mailbox_find(s->store, s->user.id, to, &other, &error);
		if (r == 0) {
			r = imap_create_path(s, cmd, to, 0);
			if (r <= 0)
				return 0;
		} else if (r < 0) {
			imap_store_error(s, cmd, error);
			return 0;
		}
		*slash = '/';
	}
	r = store_mailbox_rename(s->store, s->user.id, mb.name, to, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		return 0;
	}
	if (r == 0) {
		imap_no(s, cmd, "[CANNOT] Rename refused");
		return 0;
	}
	/* The view follows its mailbox id. Renaming INBOX gives that id the
	 * new name and makes a new, empty INBOX with another UIDVALIDITY:
	 * the client's INBOX is gone, so the selection ends (the view would
	 * otherwise go on working on the renamed mailbox as INBOX). */
	if (s->view != NULL && s->view->mailbox_id == mb.id) {
		if (strcmp(mb.name, "INBOX") == 0)
			imap_selection_end(s, "INBOX renamed: its messages moved, select it again");
		else
			snprintf(s->view->name, sizeof(s->view->name), "%s", to);
	}
	imap_ok(s, cmd, "Rename completed");
	return 0;
}

/* ------------------------------------------------------- SUBSCRIBE etc. */

static int imap_subscribe(struct imap_session *s, struct imap_cmd *cmd, bool on)
{
	char name[STORE_MAILBOX_NAME_MAX + 1];
	const char *error = NULL;

	if (cmd->args == NULL || cmd->args->next != NULL) {
		imap_bad(s, cmd, "A mailbox name is needed");
		return 0;
	}
	if (!imap_mailbox_name(s, cmd, cmd->args, name))
		return 0;
	int r = store_mailbox_subscribe(s->store, s->user.id, name, on, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		return 0;
	}
	if (r == 0 && on) {
		imap_no(s, cmd, "[NONEXISTENT] Mailbox does not exist");
		return 0;
	}
	imap_ok(s, cmd, on ? "Subscribe completed" : "Unsubscribe completed");
	return 0;
}

int imap_cmd_subscribe(struct imap_session *s, struct imap_cmd *cmd)
{
	return imap_subscribe(s, cmd, true);
}

int imap_cmd_unsubscribe(struct imap_session *s, struct imap_cmd *cmd)
{
	return imap_subscribe(s, cmd, false);
}

int imap_cmd_namespace(struct imap_session *s, struct imap_cmd *cmd)
{
	if (cmd->args != NULL) {
		imap_bad(s, cmd, "NAMESPACE takes no arguments");
		return 0;
	}
	imap_puts(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_ok(s, cmd, "Namespace completed");
	return 0;
}

/* ---------------------------------------------------------------- STATUS */

struct recent_count {
	uint32_t n;
};

static int recent_count_cb(const struct store_msg *msg, void *ctx)
{
	(void)msg;
	((struct recent_count *)ctx)->n++;
	return 0;
}

static int deleted_bytes_cb(const struct store_msg *msg, void *ctx)
{
	if (msg->flags & STORE_FLAG_DELETED)
		*(uint64_t *)ctx += msg->size;
	return 0;
}

int imap_status_write(struct imap_session *s, struct imap_cmd *cmd,
		      const struct store_mailbox *mb, const struct imap_arg *items, bool check_only)
{
	static const char *const known[] = {
		"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE",
		"HIGHESTMODSEQ", "APPENDLIMIT", "DELETED-STORAGE",
	};
	const char *error = NULL;

	if (items == NULL || items->type != IMAP_ARG_LIST || items->child == NULL) {
		imap_bad(s, cmd, "STATUS needs a list of items");
		return 0;
	}
	for (const struct imap_arg *a = items->child; a != NULL; a = a->next) {
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (imap_arg_atom_is(a, known[i]))
				ok = true;
		if (!ok) {
			imap_bad(s, cmd, "Unknown STATUS item");
			return 0;
		}
		/* before the STATUS line: enabling may send a line of its own */
		if (imap_arg_atom_is(a, "HIGHESTMODSEQ"))
			imap_condstore_enable(s);
	}
	if (check_only)
		return 1;
	imap_puts(s, "* STATUS ");
	imap_write_mailbox(s, mb->name);
	imap_puts(s, " (");
	bool first = true;
	for (const struct imap_arg *a = items->child; a != NULL; a = a->next) {
		uint64_t v;
		if (imap_arg_atom_is(a, "MESSAGES")) {
			v = mb->exists;
		} else if (imap_arg_atom_is(a, "RECENT")) {
			struct recent_count rc = { 0 };
			if (mb->recent_uid < mb->uidnext &&
			    store_msg_list(s->store, mb->id, mb->recent_uid, UINT32_MAX,
					   recent_count_cb, &rc, &error) < 0) {
				imap_puts(s, ")\r\n");
				imap_store_error(s, cmd, error);
				return -1;
			}
			v = rc.n;
		} else if (imap_arg_atom_is(a, "UIDNEXT")) {
			v = mb->uidnext;
		} else if (imap_arg_atom_is(a, "UIDVALIDITY")) {
			v = mb->uidvalidity;
		} else if (imap_arg_atom_is(a, "UNSEEN")) {
			v = mb->unseen;
		} else if (imap_arg_atom_is(a, "DELETED")) {
			v = mb->deleted;
		} else if (imap_arg_atom_is(a, "SIZE")) {
			v = mb->bytes;
		} else if (imap_arg_atom_is(a, "DELETED-STORAGE")) {
			/* QUOTA=RES-STORAGE needs it (RFC 9208 5.1.1): what an
			 * EXPUNGE would free, in the 1024-octet units of STORAGE */
			uint64_t bytes = 0;
			if (mb->deleted > 0 && mb->uidnext > 1 &&
			    store_msg_list(s->store, mb->id, 1, mb->uidnext - 1, deleted_bytes_cb,
					   &bytes, &error) < 0) {
				imap_puts(s, ")\r\n");
				imap_store_error(s, cmd, error);
				return -1;
			}
			v = (bytes + 1023) / 1024;
		} else if (imap_arg_atom_is(a, "HIGHESTMODSEQ")) {
			v = mb->highestmodseq;
		} else {
			v = imap_append_limit(s);
		}
		char upper[32];
		size_t i;
		for (i = 0; i < a->len && i < sizeof(upper) - 1; i++)
			upper[i] = (char)(a->str[i] >= 'a' && a->str[i] <= 'z' ? a->str[i] - 32
										   : a->str[i]);
		upper[i] = '\0';
		imap_printf(s, "%s%s %llu", first ? "" : " ", upper, (unsigned long long)v);
		first = false;
	}
	imap_puts(s, ")\r\n");
	return 1;
}

int imap_cmd_status(struct imap_session *s, struct imap_cmd *cmd)
{
	struct store_mailbox mb;

	if (cmd->args == NULL || cmd->args->next == NULL || cmd->args->next->next != NULL) {
		imap_bad(s, cmd, "STATUS needs a mailbox name and a list of items");
		return 0;
	}
	if (imap_status_write(s, cmd, NULL, cmd->args->next, true) <= 0)
		return 0;
	if (imap_mailbox_lookup(s, cmd, cmd->args, "[NONEXISTENT]", &mb) <= 0)
		return 0;
	if (imap_status_write(s, cmd, &mb, cmd->args->next, false) == 1)
		imap_ok(s, cmd, "Status completed");
	return 0;
}

/* ----------------------------------------------------------------- QUOTA */

static bool imap_has_quota(const struct imap_session *s)
{
	return s->user.quota_bytes != 0 || s->user.quota_messages != 0;
}

static int imap_quota_write(struct imap_session *s, struct imap_cmd *cmd)
{
	uint64_t bytes;
	uint32_t messages;
	const char *error = NULL;
	bool first = true;

	if (store_user_usage(s->store, s->user.id, &bytes, &messages, &error) < 0) {
		imap_store_error(s, cmd, error);
		return -1;
	}
	imap_puts(s, "* QUOTA \"\" (");
	if (s->user.quota_bytes != 0) {
		imap_printf(s, "STORAGE %llu %llu", (unsigned long long)((bytes + 1023) / 1024),
			    (unsigned long long)(s->user.quota_bytes / 1024));
		first = false;
	}
	if (s->user.quota_messages != 0)
		imap_printf(s, "%sMESSAGE %u %u", first ? "" : " ", messages,
			    s->user.quota_messages);
	imap_puts(s, ")\r\n");
	return 1;
}

int imap_cmd_getquota(struct imap_session *s, struct imap_cmd *cmd)
{
	if (!imap_arg_is_string(cmd->args) || cmd->args->next != NULL) {
		imap_bad(s, cmd, "GETQUOTA needs a quota root");
		return 0;
	}
	if (cmd->args->len != 0 || !imap_has_quota(s)) {
		imap_no(s, cmd, "[NONEXISTENT] No such quota root");
		return 0;
	}
	if (imap_quota_write(s, cmd) == 1)
		imap_ok(s, cmd, "Getquota completed");
	return 0;
}

int imap_cmd_getquotaroot(struct imap_session *s, struct imap_cmd *cmd)
{
	struct store_mailbox mb;

	if (cmd->args == NULL || cmd->args->next != NULL) {
		imap_bad(s, cmd, "GETQUOTAROOT needs a mailbox name");
		return 0;
	}
	if (imap_mailbox_lookup(s, cmd, cmd->args, "[NONEXISTENT]", &mb) <= 0)
		return 0;
	imap_puts(s, "* QUOTAROOT ");
	imap_write_mailbox(s, mb.name);
	if (imap_has_quota(s)) {
		imap_puts(s, " \"\"\r\n");
		if (imap_quota_write(s, cmd) != 1)
			return 0;
	} else {
		imap_puts(s, "\r\n");
	}
	imap_ok(s, cmd, "Getquotaroot completed");
	return 0;
}

int imap_cmd_setquota(struct imap_session *s, struct imap_cmd *cmd)
{
	imap_no(s, cmd, "[NOPERM] Quotas are set by the administrator");
	return 0;
}
