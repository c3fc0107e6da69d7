/* STORE (CONDSTORE UNCHANGEDSINCE, RFC 7162), COPY and MOVE (RFC 6851) with
 * UIDPLUS response codes (RFC 4315), and their UID forms. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap.h"
#include "log.h"

/* A UID or sequence set in compact form ("1:3,7") in a new string. */
static char *set_format(const uint32_t *v, size_t n)
{
	size_t cap = n * 22 + 1, w = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		if (j == i)
			w += (size_t)snprintf(out + w, cap - w, "%s%u", w ? "," : "", v[i]);
		else
			w += (size_t)snprintf(out + w, cap - w, "%s%u:%u", w ? "," : "", v[i], v[j]);
		i = j + 1;
	}
	return out;
}

struct store_run {
	bool silent;
	uint32_t *done;      /* changed or refused UIDs */
	size_t ndone;
	uint32_t *failed;    /* UNCHANGEDSINCE refusals */
	size_t nfailed;
};

static int store_changed_cb(const struct store_msg *msg, void *ctx)
{
	struct imap_session *s = ((void **)ctx)[0];
	struct store_run *run = ((void **)ctx)[1];

	run->done[run->ndone++] = msg->uid;
	imap_view_told(s->view, msg->modseq);
	imap_view_set_flags(s->view, msg->uid, msg->flags, msg->keywords);
	if (!run->silent || s->condstore)
		imap_view_fetch_flags(s, msg, !run->silent);
	return 0;
}

static int store_failed_cb(uint32_t uid, void *ctx)
{
	struct store_run *run = ((void **)ctx)[1];

	run->done[run->ndone++] = uid;
	run->failed[run->nfailed++] = uid;
	return 0;
}

static int store_unchanged_cb(struct imap_session *s, const struct store_msg *msg, void *ctx)
{
	(void)ctx;
	/* its flags may be another session's change: told here, not again
	 * by the sync after the command */
	imap_view_fetch_flags(s, msg, true);
	imap_view_told(s->view, msg->modseq);
	return 0;
}

/* Whether a message of the set (by sequence number) was expunged by
 * another process and not yet told: the STORE could not change it. The
 * gone list is brought up to date first (no EXPUNGE is sent). */
static bool store_hit_expunged(struct imap_session *s, const uint32_t *uids, size_t n,
			       const struct store_run *run)
{
	if (imap_view_sync(s, false) < 0)
		return false;
	for (size_t i = 0, k = 0; i < n; i++) {
		while (k < run->ndone && run->done[k] < uids[i])
			k++;
		bool done = k < run->ndone && run->done[k] == uids[i];
		if (!done && imap_view_is_gone(s->view, uids[i]))
			return true;
	}
	return false;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int imap_cmd_store(struct imap_session *s, struct imap_cmd *cmd)
{
	const struct imap_arg *set = cmd->args, *a = set != NULL ? set->next : NULL;
	const char *keywords[STORE_KEYWORDS_MAX];
	size_t nkeywords = 0, n = 0;
	uint64_t unchangedsince = 0;
	bool conditional = false;
	uint32_t flags = 0, *uids = NULL;
	enum store_flag_op op;
	const char *error = NULL;
	struct store_run run = { 0 };

	if (set == NULL || set->type != IMAP_ARG_ATOM || a == NULL) {
		imap_bad(s, cmd, "STORE needs a sequence set, an operation and flags");
		return 0;
	}
	if (a->type == IMAP_ARG_LIST) {
		const struct imap_arg *m = a->child;
		if (!imap_arg_atom_is(m, "UNCHANGEDSINCE") || m->next == NULL ||
		    m->next->next != NULL || m->next->type != IMAP_ARG_ATOM ||
		    !imap_parse_number(m->next->str, m->next->len, INT64_MAX, &unchangedsince)) {
			imap_bad(s, cmd, "Invalid STORE modifier");
			return 0;
		}
		imap_condstore_enable(s);
		conditional = true;
		a = a->next;
	}
	if (a == NULL || a->type != IMAP_ARG_ATOM || a->next == NULL) {
		imap_bad(s, cmd, "STORE needs an operation and flags");
		return 0;
	}
	const char *opname = a->str;
	if (*opname == '+') {
		op = STORE_FLAGS_ADD;
		opname++;
	} else if (*opname == '-') {
		op = STORE_FLAGS_REMOVE;
		opname++;
	} else {
		op = STORE_FLAGS_SET;
	}
	if (strcasecmp(opname, "FLAGS.SILENT") == 0)
		run.silent = true;
	else if (strcasecmp(opname, "FLAGS") != 0) {
		imap_bad(s, cmd, "Unknown STORE operation");
		return 0;
	}
	/* flags: one list, or flags separated by spaces */
	const struct imap_arg *f = a->next;
	if (f->type == IMAP_ARG_LIST && f->next != NULL) {
		imap_bad(s, cmd, "Invalid flag list");
		return 0;
	}
	for (const struct imap_arg *x = f; x != NULL; x = f->type == IMAP_ARG_LIST ? NULL : x->next) {
		uint32_t fl;
		size_t nk;
		const char *kw[STORE_KEYWORDS_MAX];
		if (!imap_flags_parse(x, &fl, kw, &nk, &error)) {
			imap_bad(s, cmd, error);
			return 0;
		}
		flags |= fl;
		for (size_t i = 0; i < nk; i++) {
			bool dup = false;
			for (size_t j = 0; j < nkeywords; j++)
				dup |= strcasecmp(keywords[j], kw[i]) == 0;
			if (!dup && nkeywords < STORE_KEYWORDS_MAX)
				keywords[nkeywords++] = kw[i];
		}
	}
	if (s->view->readonly) {
		imap_no(s, cmd, "[READ-ONLY] Mailbox is read-only");
		return 0;
	}
	if (imap_view_resolve(s, cmd, set->str, set->len, cmd->uid, &uids, &n) <= 0)
		return 0;
	if (n == 0) {
		imap_ok(s, cmd, "Store completed");
		return 0;
	}
	run.done = malloc(n * sizeof(uint32_t));
	run.failed = malloc(n * sizeof(uint32_t));
	if (run.done == NULL || run.failed == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		goto out;
	}
	void *ctx[2] = { s, &run };
	int r = 0;
	if (conditional && unchangedsince == 0) {
		/* Every message has a MODSEQ above 0: all fail (RFC 7162
		 * 3.1.3), while the store reads 0 as "no condition". */
		for (size_t i = 0; i < n; i++)
			store_failed_cb(uids[i], ctx);
	} else {
		r = store_msg_set_flags(s->store, s->view->mailbox_id, uids, n, op, flags, keywords,
					nkeywords, unchangedsince, store_changed_cb, store_failed_cb,
					ctx, &error);
	}
	if (r < 0) {
		imap_store_error(s, cmd, error);
		goto out;
	}
	if (r == 0 && error != NULL && run.ndone == 0 && strstr(error, "keyword") != NULL) {
		imap_replyf(s, cmd, "NO", "[%s] Cannot store these keywords",
			    strstr(error, "many") != NULL ? "LIMIT" : "CANNOT");
		goto out;
	}
	qsort(run.done, run.ndone, sizeof(uint32_t), uid_cmp);
	size_t missing = 0;
	if (!run.silent) {
		/* RFC 3501: the flags of every message in the set, changed or not */
		size_t w = 0, k = 0;
		for (size_t i = 0; i < n; i++) {
			while (k < run.ndone && run.done[k] < uids[i])
				k++;
			if (k < run.ndone && run.done[k] == uids[i])
				continue;
			uids[w++] = uids[i];
		}
		if (w > 0 && imap_view_each(s, uids, w, store_unchanged_cb, NULL, &missing, &error) < 0) {
			imap_store_error(s, cmd, error);
			goto out;
		}
	}
	/* RFC 2180 4.2.3, RFC 7162 3.1.3 example 11: by sequence number, a
	 * message another session expunged fails the STORE as it fails a
	 * FETCH (NO [EXPUNGEISSUED]), after the others are done; UID STORE
	 * skips a UID that is not there (RFC 9051 6.4.9) */
	bool expunged = !cmd->uid && (run.silent ? store_hit_expunged(s, uids, n, &run)
						 : missing > 0);
	if (run.nfailed > 0) {
		qsort(run.failed, run.nfailed, sizeof(uint32_t), uid_cmp);
		if (!cmd->uid) {
			for (size_t i = 0; i < run.nfailed; i++)
				run.failed[i] = imap_view_seq(s->view, run.failed[i]);
			qsort(run.failed, run.nfailed, sizeof(uint32_t), uid_cmp);
		}
		char *text = set_format(run.failed, run.nfailed);
		imap_replyf(s, cmd, expunged ? "NO" : "OK", "[MODIFIED %s] Conditional store failed",
			    text != NULL ? text : "");
		free(text);
	} else if (expunged) {
		imap_no(s, cmd, "[EXPUNGEISSUED] Some of the messages no longer exist");
	} else {
		imap_ok(s, cmd, "Store completed");
	}
out:
	free(run.done);
	free(run.failed);
	free(uids);
	return 0;
}

/* -------------------------------------------------------------- COPY/MOVE */

int imap_cmd_copy(struct imap_session *s, struct imap_cmd *cmd)
{
	bool move = strcasecmp(cmd->name, "MOVE") == 0;
	const struct imap_arg *set = cmd->args, *dst = set != NULL ? set->next : NULL;
	struct store_mailbox mb;
	const char *error = NULL;
	uint32_t *uids = NULL, *new_uids = NULL;
	size_t n = 0;

	if (set == NULL || set->type != IMAP_ARG_ATOM || dst == NULL || dst->next != NULL) {
		imap_bad(s, cmd, move ? "MOVE needs a sequence set and a mailbox"
				      : "COPY needs a sequence set and a mailbox");
		return 0;
	}
	if (move && s->view->readonly) {
		imap_no(s, cmd, "[READ-ONLY] Mailbox is read-only");
		return 0;
	}
	if (imap_view_resolve(s, cmd, set->str, set->len, cmd->uid, &uids, &n) <= 0)
		return 0;
	if (imap_mailbox_lookup(s, cmd, dst, "[TRYCREATE]", &mb) <= 0)
		goto out;
	/* COPY into the selected mailbox is allowed (new UIDs, EXISTS); a MOVE
	 * there would only renumber messages. */
	if (move && mb.id == s->view->mailbox_id) {
		imap_no(s, cmd, "[CANNOT] Source and destination are the same mailbox");
		goto out;
	}
	if (n == 0) {
		imap_ok(s, cmd, move ? "Move completed" : "Copy completed");
		goto out;
	}
	new_uids = calloc(n, sizeof(uint32_t));
	if (new_uids == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		goto out;
	}
	int r = store_msg_copy(s->store, s->view->mailbox_id, uids, n, mb.id, move, new_uids, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		goto out;
	}
	if (r == 0 && error != NULL && strstr(error, "quota") != NULL) {
		imap_no(s, cmd, "[OVERQUOTA] Quota exceeded");
		goto out;
	}
	/* the pairs that were copied, in source order */
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (new_uids[i] != 0) {
			uids[w] = uids[i];
			new_uids[w] = new_uids[i];
			w++;
		}
	}
	if (w == 0) {
		imap_ok(s, cmd, move ? "Move completed" : "Copy completed");
		goto out;
	}
	/* the mailbox record was read before the copy; its UIDVALIDITY is stable */
	char *src_set = set_format(uids, w), *dst_set = set_format(new_uids, w);
	if (move) {
		imap_printf(s, "* OK [COPYUID %u ", mb.uidvalidity);
		if (src_set != NULL && dst_set != NULL) {
			imap_puts(s, src_set);
			imap_puts(s, " ");
			imap_puts(s, dst_set);
		}
		imap_puts(s, "] Moved\r\n");
		/* the moved messages are expunged here (RFC 6851 3.3): still
		 * ascending, as resolved */
		imap_view_expunge(s, uids, w);
		imap_ok(s, cmd, "Move completed");
	} else if (src_set != NULL && dst_set != NULL) {
		imap_replyf(s, cmd, "OK", "[COPYUID %u %s %s] Copy completed", mb.uidvalidity, src_set,
			    dst_set);
	} else {
		imap_ok(s, cmd, "Copy completed");
	}
	free(src_set);
	free(dst_set);
out:
	free(uids);
	free(new_uids);
	return 0;
}
