/* The selected mailbox: SELECT/EXAMINE from the mailbox record alone (O(1)),
 * the sequence map loaded on first need, keeping the client in step with
 * other processes (RFC 3501 5.2, 7.4.1).
 *
 * The map is a sorted array of UIDs (4 bytes a message: 100,000 messages in
 * 400 KB). At SELECT the client is told EXISTS, UIDNEXT and HIGHESTMODSEQ
 * from the mailbox record; the map is then, whenever it is first needed,
 * rebuilt as of that moment: the messages below UIDNEXT present now plus
 * those expunged since that HIGHESTMODSEQ (which the next sync reports).
 * Changes are found with one record read (store_mailbox_modseq) and, when
 * it moved, store_msg_changed_since / store_msg_expunged_since.
 * QRESYNC (RFC 7162 3.2): expunges are told as VANISHED, and SELECT
 * (QRESYNC) and UID FETCH (VANISHED) catch a returning client up from its
 * MODSEQ (imap_view_resync) with the same two reads.
 * The commands that work on the selection (CHECK, CLOSE, UNSELECT,
 * EXPUNGE, IDLE) are in imap_select.c. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap.h"
#include "log.h"

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A new message's UID and its place in the sync's list, to sort by UID
 * (ties keep their MODSEQ order: the index decides). */
struct imap_uid_index {
	uint32_t uid, index;
};

static int uid_index_cmp(const void *a, const void *b)
{
	const struct imap_uid_index *x = a, *y = b;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int uids_push(uint32_t **arr, uint32_t *n, uint32_t *cap, uint32_t uid)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 64;
		uint32_t *p = reallocarray(*arr, c, sizeof(uint32_t));
		if (p == NULL)
			return -1;
		*arr = p;
		*cap = c;
	}
	(*arr)[(*n)++] = uid;
	return 0;
}

/* First index of the map with uid >= `uid` (count if none). */
static uint32_t view_lower_bound(const struct imap_view *v, uint32_t uid)
{
	uint32_t lo = 0, hi = v->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (v->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of uid in the map, or -1. */
static int64_t view_index(const struct imap_view *v, uint32_t uid)
{
	uint32_t i = view_lower_bound(v, uid);

	return i < v->count && v->uids[i] == uid ? (int64_t)i : -1;
}

/* Appends a message to the map (UIDs ascending). */
static int view_push(struct imap_view *v, uint32_t uid, uint32_t flags, uint64_t kw)
{
	if (v->count == v->cap) {
		uint32_t c = v->cap ? v->cap * 2 : 64;
		uint32_t *u = reallocarray(v->uids, c, sizeof(uint32_t));
		if (u == NULL)
			return -1;
		v->uids = u;
		uint32_t *f = reallocarray(v->flags, c, sizeof(uint32_t));
		if (f == NULL)
			return -1;
		v->flags = f;
		uint64_t *k = reallocarray(v->kws, c, sizeof(uint64_t));
		if (k == NULL)
			return -1;
		v->kws = k;
		v->cap = c;
	}
	v->uids[v->count] = uid;
	v->flags[v->count] = flags;
	v->kws[v->count] = kw;
	v->count++;
	return 0;
}

/* Drops the messages with these UIDs (ascending) from the map in one pass
 * from the first of them (not one memmove each: a million expunges). */
static void view_drop(struct imap_view *v, const uint32_t *uids, size_t n)
{
	uint32_t w = n > 0 ? view_lower_bound(v, uids[0]) : v->count;
	size_t j = 0;

	for (uint32_t i = w; i < v->count; i++) {
		while (j < n && uids[j] < v->uids[i])
			j++;
		if (j < n && uids[j] == v->uids[i])
			continue;
		v->uids[w] = v->uids[i];
		v->flags[w] = v->flags[i];
		v->kws[w] = v->kws[i];
		w++;
	}
	v->count = w;
	v->exists = v->count;
}

void imap_view_expunge(struct imap_session *s, const uint32_t *uids, size_t n)
{
	struct imap_view *v = s->view;

	if (s->qresync) {
		struct imap_set_writer w = { .s = s, .prefix = "* VANISHED " };
		for (size_t i = 0; i < n; i++)
			if (view_index(v, uids[i]) >= 0)
				imap_set_writer_add(&w, uids[i], uids[i]);
		imap_set_writer_end(&w);
	} else {
		/* highest first: each number is still right when the client
		 * reads it, the ones below do not move */
		for (size_t i = n; i-- > 0;) {
			int64_t k = view_index(v, uids[i]);
			if (k >= 0)
				imap_printf(s, "* %u EXPUNGE\r\n", (uint32_t)k + 1);
		}
	}
	view_drop(v, uids, n);
}

void imap_view_fetch_flags(struct imap_session *s, const struct store_msg *msg, bool flags)
{
	uint32_t seq = imap_view_seq(s->view, msg->uid);

	if (seq == 0)
		return;
	if (flags)
		imap_view_announce_keywords(s, msg->keywords);
	imap_printf(s, "* %u FETCH (UID %u", seq, msg->uid);
	if (flags) {
		imap_puts(s, " FLAGS ");
		imap_write_flags(s, msg->flags, msg->keywords, imap_view_is_recent(s->view, msg->uid));
	}
	if (s->condstore)
		imap_printf(s, " MODSEQ (%llu)", (unsigned long long)msg->modseq);
	imap_puts(s, ")\r\n");
}

void imap_view_set_flags(struct imap_view *v, uint32_t uid, uint32_t flags, uint64_t keywords)
{
	int64_t i = v->loaded ? view_index(v, uid) : -1;

	if (i >= 0) {
		v->flags[i] = flags;
		v->kws[i] = keywords;
	}
}

uint32_t imap_view_seq(const struct imap_view *v, uint32_t uid)
{
	int64_t i = view_index(v, uid);

	return i < 0 ? 0 : (uint32_t)i + 1;
}

bool imap_view_is_gone(const struct imap_view *v, uint32_t uid)
{
	return v->ngone > 0 && bsearch(&uid, v->gone, v->ngone, sizeof(*v->gone), uid_cmp) != NULL;
}

bool imap_view_is_recent(const struct imap_view *v, uint32_t uid)
{
	uint32_t lo = 0, hi = v->nrecent;

	/* many ranges in a long session on a busy mailbox: bisect */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (uid < v->recent[mid].lo)
			hi = mid;
		else if (uid >= v->recent[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static void view_add_recent(struct imap_view *v, uint32_t lo, uint32_t hi)
{
	if (lo >= hi)
		return;
	if (v->nrecent > 0 && v->recent[v->nrecent - 1].hi >= lo) {
		if (hi > v->recent[v->nrecent - 1].hi)
			v->recent[v->nrecent - 1].hi = hi;
		return;
	}
	if (v->nrecent == v->recent_cap) {
		uint32_t cap = v->recent_cap ? v->recent_cap * 2 : 8;
		struct imap_recent_range *r = realloc(v->recent, cap * sizeof(*r));
		if (r == NULL)
			return; /* out of memory: these lose \Recent, nothing worse */
		v->recent = r;
		v->recent_cap = cap;
	}
	v->recent[v->nrecent].lo = lo;
	v->recent[v->nrecent].hi = hi;
	v->nrecent++;
}

/* A STORE on every message of a 1,000,000-message mailbox stays below it. */
#define IMAP_TOLD_MAX (2u * 1024 * 1024)

void imap_view_told(struct imap_view *v, uint64_t modseq)
{
	/* the sync reports only changes after the view's MODSEQ */
	if (v->told_overflow || modseq <= v->modseq)
		return;
	if (v->ntold == v->told_cap) {
		size_t cap = v->told_cap ? v->told_cap * 2 : 64;
		uint64_t *t = cap <= IMAP_TOLD_MAX ? reallocarray(v->told, cap, sizeof(*t)) : NULL;
		if (t == NULL) {
			v->told_overflow = true;
			return;
		}
		v->told = t;
		v->told_cap = cap;
	}
	/* a STORE tells its changes in MODSEQ order, a FETCH in UID order */
	if (v->ntold > 0 && modseq < v->told[v->ntold - 1])
		v->told_unsorted = true;
	v->told[v->ntold++] = modseq;
}

static int modseq_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts the told MODSEQs for view_was_told (once, before a sync reads
 * them: nothing is added while it runs). */
static void view_told_sort(struct imap_view *v)
{
	if (v->told_unsorted)
		qsort(v->told, v->ntold, sizeof(*v->told), modseq_cmp);
	v->told_unsorted = false;
}

static bool view_was_told(const struct imap_view *v, uint64_t modseq)
{
	return v->ntold > 0 && bsearch(&modseq, v->told, v->ntold, sizeof(*v->told), modseq_cmp) != NULL;
}

/* ------------------------------------------------------------- keywords */

static int keyword_cb(unsigned id, const char *name, void *ctx)
{
	struct imap_view *v = ctx;

	if (id >= STORE_KEYWORDS_MAX || (v->keywords_known & (1ULL << id)))
		return 0;
	v->keywords[id] = strdup(name);
	if (v->keywords[id] != NULL)
		v->keywords_known |= 1ULL << id;
	return 0;
}

static int view_keywords_load(struct imap_session *s, const char **error_r)
{
	uint64_t before = s->view->keywords_known;
	int r = store_keyword_list(s->store, s->view->mailbox_id, keyword_cb, s->view, error_r);

	if (r >= 0 && s->view->keywords_known != before)
		s->view->keywords_changed = true;
	return r < 0 ? -1 : 0;
}

const char *imap_view_keyword(struct imap_session *s, unsigned id)
{
	struct imap_view *v = s->view;
	const char *error;

	if (v == NULL || id >= STORE_KEYWORDS_MAX)
		return NULL;
	if (!(v->keywords_known & (1ULL << id)))
		(void)view_keywords_load(s, &error);
	return (v->keywords_known & (1ULL << id)) ? v->keywords[id] : NULL;
}

static void view_write_flag_lists(struct imap_session *s)
{
	struct imap_view *v = s->view;
	static const char sys[] = "\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk $NotJunk";

	imap_puts(s, "* FLAGS (" );
	imap_puts(s, sys);
	for (unsigned id = 0; id < STORE_KEYWORDS_MAX; id++) {
		if (v->keywords_known & (1ULL << id)) {
			imap_puts(s, " ");
			imap_puts(s, v->keywords[id]);
		}
	}
	imap_puts(s, ")\r\n");
	if (v->readonly) {
		imap_puts(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	} else {
		imap_puts(s, "* OK [PERMANENTFLAGS (");
		imap_puts(s, sys);
		for (unsigned id = 0; id < STORE_KEYWORDS_MAX; id++) {
			if (v->keywords_known & (1ULL << id)) {
				imap_puts(s, " ");
				imap_puts(s, v->keywords[id]);
			}
		}
		imap_puts(s, " \\*)] Flags permitted\r\n");
	}
	v->keywords_changed = false;
}

void imap_view_announce_keywords(struct imap_session *s, uint64_t keywords)
{
	struct imap_view *v = s->view;
	const char *error;

	if (v == NULL)
		return;
	if ((keywords & ~v->keywords_known) != 0)
		(void)view_keywords_load(s, &error);
	if (v->keywords_changed)
		view_write_flag_lists(s);
}

/* --------------------------------------------------------------- SELECT */

struct select_scan {
	uint32_t pos, first_unseen, recent;
	uint32_t recent_lo;
};

static int select_scan_cb(const struct store_msg *msg, void *ctx)
{
	struct select_scan *c = ctx;

	c->pos++;
	if (c->first_unseen == 0 && !(msg->flags & STORE_FLAG_SEEN))
		c->first_unseen = c->pos;
	if (msg->uid >= c->recent_lo)
		c->recent++;
	return 0;
}

int imap_view_open(struct imap_session *s, struct imap_cmd *cmd, const struct store_mailbox *mb,
		   bool readonly, const struct imap_qresync *qresync)
{
	struct imap_view *v = calloc(1, sizeof(*v));
	const char *error = NULL;
	struct select_scan scan = { 0 };

	if (v == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return -1;
	}
	v->mailbox_id = mb->id;
	snprintf(v->name, sizeof(v->name), "%s", mb->name);
	v->readonly = readonly;
	v->uidvalidity = mb->uidvalidity;
	v->uidnext = v->select_uidnext = mb->uidnext;
	v->modseq = v->select_modseq = mb->highestmodseq;
	v->exists = mb->exists;
	s->view = v;
	if (view_keywords_load(s, &error) < 0)
		goto fail;
	scan.recent_lo = UINT32_MAX;
	if (!readonly && !s->rev2) {
		uint32_t r;
		if (store_mailbox_claim_recent(s->store, mb->id, mb->uidnext, &r, &error) < 0)
			goto fail;
		if (r < mb->uidnext) {
			view_add_recent(v, r, mb->uidnext);
			scan.recent_lo = r;
		}
	}
	/* Cheap extras: the recent count (new mail only) and, in small
	 * mailboxes, the first unseen message. */
	if (mb->exists > 0 && mb->unseen > 0 && mb->exists <= IMAP_UNSEEN_SCAN_MAX) {
		if (store_msg_list(s->store, mb->id, 1, mb->uidnext - 1, select_scan_cb, &scan,
				   &error) < 0)
			goto fail;
	} else if (scan.recent_lo != UINT32_MAX) {
		scan.pos = 0;
		if (store_msg_list(s->store, mb->id, scan.recent_lo, mb->uidnext - 1, select_scan_cb,
				   &scan, &error) < 0)
			goto fail;
		scan.first_unseen = 0;
	}
	view_write_flag_lists(s);
	imap_printf(s, "* %u EXISTS\r\n", mb->exists);
	if (!s->rev2)
		imap_printf(s, "* %u RECENT\r\n", scan.recent);
	if (scan.first_unseen != 0)
		imap_printf(s, "* OK [UNSEEN %u] First unseen\r\n", scan.first_unseen);
	imap_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", mb->uidvalidity);
	imap_printf(s, "* OK [UIDNEXT %u] Predicted next UID\r\n", mb->uidnext);
	imap_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
		    (unsigned long long)mb->highestmodseq);
	/* RFC 9051 6.3.2: its attributes accurate; without them if the
	 * list cannot be read (the SELECT itself has worked) */
	if (s->rev2 && imap_list_selected(s, mb) < 0) {
		imap_puts(s, "* LIST () \"/\" ");
		imap_write_mailbox(s, mb->name);
		imap_puts(s, "\r\n");
	}
	/* RFC 7162 3.2.5: a UIDVALIDITY that changed means start afresh */
	if (qresync != NULL && qresync->uidvalidity == mb->uidvalidity &&
	    imap_view_resync(s, qresync->known.count > 0 ? &qresync->known : NULL, qresync->modseq,
			     true, &error) < 0)
		goto fail;
	imap_ok(s, cmd, readonly ? "[READ-ONLY] Examine completed" : "[READ-WRITE] Select completed");
	return 1;
fail:
	imap_view_close(s);
	imap_store_error(s, cmd, error);
	return -1;
}

void imap_view_close(struct imap_session *s)
{
	struct imap_view *v = s->view;

	if (v == NULL)
		return;
	for (unsigned i = 0; i < STORE_KEYWORDS_MAX; i++)
		free(v->keywords[i]);
	free(v->uids);
	free(v->flags);
	free(v->kws);
	free(v->gone);
	free(v->told);
	free(v->recent);
	free(v->saved);
	free(v);
	s->view = NULL;
}

/* ----------------------------------------------------------- the map */

struct load_ctx {
	struct imap_view *v;
	uint32_t *extra;
	uint32_t nextra, extra_cap;
	bool failed;
};

static int load_cb(const struct store_msg *msg, void *ctx)
{
	struct load_ctx *c = ctx;

	if (view_push(c->v, msg->uid, msg->flags, msg->keywords) < 0) {
		c->failed = true;
		return 1;
	}
	return 0;
}

static int load_expunged_cb(uint32_t uid, uint64_t modseq, void *ctx)
{
	struct load_ctx *c = ctx;

	(void)modseq;
	if (uid < c->v->select_uidnext && uids_push(&c->extra, &c->nextra, &c->extra_cap, uid) < 0) {
		c->failed = true;
		return 1;
	}
	return 0;
}

int imap_view_load(struct imap_session *s, const char **error_r)
{
	struct imap_view *v = s->view;
	struct load_ctx c = { .v = v };

	if (v->loaded)
		return 1;
	v->count = 0;
	if (v->exists > 0) {
		v->uids = malloc(v->exists * sizeof(uint32_t));
		v->flags = malloc(v->exists * sizeof(uint32_t));
		v->kws = malloc(v->exists * sizeof(uint64_t));
		v->cap = v->uids != NULL && v->flags != NULL && v->kws != NULL ? v->exists : 0;
	}
	if (v->select_uidnext > 1 &&
	    store_msg_list(s->store, v->mailbox_id, 1, v->select_uidnext - 1, load_cb, &c,
			   error_r) < 0)
		return -1;
	uint64_t forgotten = 0;
	if (!c.failed &&
	    store_msg_expunged_since(s->store, v->mailbox_id, v->select_modseq, load_expunged_cb,
				     &c, &forgotten, error_r) < 0) {
		free(c.extra);
		return -1;
	}
	if (forgotten > v->select_modseq) {
		/* some messages the client was shown at SELECT are gone and
		 * the store no longer knows which: their sequence numbers
		 * cannot be told. Only a session idle for longer than the
		 * expunge history (30 days by default) gets here. */
		free(c.extra);
		imap_bye(s, "[UNAVAILABLE] The mailbox changed too long ago, reconnect");
		s->state = IMAP_STATE_LOGOUT;
		*error_r = "the mailbox's expunge history no longer reaches back to SELECT";
		return -1;
	}
	if (!c.failed && c.nextra > 0) {
		/* merge the messages expunged since SELECT (still known to the
		 * client, reported at the next sync) into the map */
		qsort(c.extra, c.nextra, sizeof(uint32_t), uid_cmp);
		struct imap_view m = { 0 };
		uint32_t i = 0, j = 0;
		while (!c.failed && (i < v->count || j < c.nextra)) {
			int r;
			if (j >= c.nextra || (i < v->count && v->uids[i] < c.extra[j])) {
				r = view_push(&m, v->uids[i], v->flags[i], v->kws[i]);
				i++;
			} else {
				if (i < v->count && v->uids[i] == c.extra[j])
					i++;
				r = view_push(&m, c.extra[j], 0, 0);
				j++;
			}
			if (r < 0)
				c.failed = true;
		}
		free(v->uids);
		free(v->flags);
		free(v->kws);
		v->uids = m.uids;
		v->flags = m.flags;
		v->kws = m.kws;
		v->count = m.count;
		v->cap = m.cap;
	}
	free(c.extra);
	if (c.failed) {
		*error_r = "out of memory";
		return -1;
	}
	v->loaded = true;
	if (v->count != v->exists) {
		/* the record and the messages disagreed for a moment: the map
		 * is the truth from now on */
		log_info("select: map has %u messages, record said %u (mailbox %u)", v->count,
			 v->exists, v->mailbox_id);
		if (v->count > v->exists)
			imap_printf(s, "* %u EXISTS\r\n", v->count);
		v->exists = v->count;
	}
	return 1;
}

/* ---------------------------------------------------------- keeping in step */

static void view_free_arrays(struct imap_view *v)
{
	free(v->uids);
	free(v->flags);
	free(v->kws);
	v->uids = v->flags = NULL;
	v->kws = NULL;
	v->count = v->cap = 0;
}

struct sync_ctx {
	struct imap_session *s;
	struct imap_view fresh;  /* new messages (only the map arrays are used) */
	/* with `collect`: the UIDs whose flag change was reported */
	uint32_t *reported;
	uint32_t nreported, reported_cap;
	bool collect;
	bool failed;
};

static int sync_changed_cb(const struct store_msg *msg, void *ctx)
{
	struct sync_ctx *c = ctx;
	struct imap_session *s = c->s;
	struct imap_view *v = s->view;

	if (msg->uid >= v->uidnext) {
		if (view_push(&c->fresh, msg->uid, msg->flags, msg->keywords) < 0)
			c->failed = true;
		return 0;
	}
	uint32_t seq = imap_view_seq(v, msg->uid);
	if (seq == 0 || imap_view_is_gone(v, msg->uid))
		return 0;
	v->flags[seq - 1] = msg->flags;
	v->kws[seq - 1] = msg->keywords;
	if (!v->told_overflow && view_was_told(v, msg->modseq))
		return 0;
	imap_view_fetch_flags(s, msg, true);
	/* out of memory: the list stays true, only shorter */
	if (c->collect && uids_push(&c->reported, &c->nreported, &c->reported_cap, msg->uid) < 0)
		c->collect = false;
	return 0;
}

static int sync_expunged_cb(uint32_t uid, uint64_t modseq, void *ctx)
{
	struct sync_ctx *c = ctx;
	struct imap_view *v = c->s->view;

	if (uid >= v->uidnext || view_index(v, uid) < 0)
		return 0;
	if (uids_push(&v->gone, &v->ngone, &v->gone_cap, uid) < 0)
		c->failed = true;
	else if (v->gone_modseq == 0 || modseq < v->gone_modseq)
		v->gone_modseq = modseq;
	return 0;
}

struct listing_ctx {
	struct imap_view *v;
	uint32_t next;     /* index of the first map UID not yet matched */
	bool failed;
};

/* Map UIDs below the present message's are gone. */
static int listing_cb(const struct store_msg *msg, void *ctx)
{
	struct listing_ctx *c = ctx;
	struct imap_view *v = c->v;

	for (; c->next < v->count && v->uids[c->next] <= msg->uid; c->next++)
		if (v->uids[c->next] < msg->uid &&
		    uids_push(&v->gone, &v->ngone, &v->gone_cap, v->uids[c->next]) < 0) {
			c->failed = true;
			return 1;
		}
	return 0;
}

/* The store forgot some expunges since the view's MODSEQ: every message of
 * the map that is no longer there is gone (a walk over the mailbox, where
 * the expunge history is one over the changes; only a session idle for
 * longer than the history needs it). */
static int view_gone_by_listing(struct imap_session *s, struct sync_ctx *sc, const char **error_r)
{
	struct imap_view *v = s->view;
	struct listing_ctx c = { .v = v };

	if (v->uidnext > 1 &&
	    store_msg_list(s->store, v->mailbox_id, 1, v->uidnext - 1, listing_cb, &c, error_r) < 0)
		return -1;
	for (; !c.failed && c.next < v->count; c.next++)
		if (uids_push(&v->gone, &v->ngone, &v->gone_cap, v->uids[c.next]) < 0)
			c.failed = true;
	if (c.failed)
		sc->failed = true;
	else if (v->ngone > 0 && (v->gone_modseq == 0 || v->gone_modseq > v->modseq + 1))
		v->gone_modseq = v->modseq + 1;
	return 0;
}

/* Keeps the gone list sorted and unique between syncs (a failed sync may
 * have listed some already), so that imap_view_is_gone is a bsearch. */
static void view_gone_sort(struct imap_view *v)
{
	uint32_t m = 0;

	if (v->ngone == 0)
		return;
	qsort(v->gone, v->ngone, sizeof(uint32_t), uid_cmp);
	for (uint32_t i = 0; i < v->ngone; i++)
		if (m == 0 || v->gone[i] != v->gone[m - 1])
			v->gone[m++] = v->gone[i];
	v->ngone = m;
}

/* Tells the client about every gone message and drops them from the map. */
static void view_expunge_gone(struct imap_session *s)
{
	struct imap_view *v = s->view;

	if (v->ngone == 0)
		return;
	imap_view_expunge(s, v->gone, v->ngone);
	v->ngone = 0;
	v->gone_modseq = 0;
}

static int view_sync(struct imap_session *s, bool expunge_ok, uint32_t **reported_r,
		     uint32_t *nreported_r)
{
	struct imap_view *v = s->view;
	struct sync_ctx c = { .s = s, .collect = reported_r != NULL };
	const char *error = NULL;
	uint64_t highest;

	if (v == NULL)
		return 0;
	int r = store_mailbox_modseq(s->store, v->mailbox_id, &highest, &error);
	if (r < 0) {
		log_error("sync user=<%s>: %s", s->user.address, error != NULL ? error : "");
		return -1;
	}
	if (r == 0) {
		imap_bye(s, "Selected mailbox was deleted, reconnect");
		s->state = IMAP_STATE_LOGOUT;
		return -1;
	}
	if (highest != v->modseq && strcmp(v->name, "INBOX") == 0) {
		/* RENAME INBOX in another session gives this mailbox another
		 * name (and moves its MODSEQ): new mail goes to a new INBOX
		 * this view would never show */
		struct store_mailbox inbox;
		r = store_mailbox_find(s->store, s->user.id, "INBOX", &inbox, &error);
		if (r < 0) {
			log_error("sync user=<%s>: %s", s->user.address, error != NULL ? error : "");
			return -1;
		}
		if (r == 0 || inbox.id != v->mailbox_id) {
			imap_bye(s, "Selected mailbox was renamed, reconnect");
			s->state = IMAP_STATE_LOGOUT;
			return -1;
		}
	}
	if (highest != v->modseq) {
		uint64_t forgotten = 0;
		view_told_sort(v);
		if (imap_view_load(s, &error) < 0 ||
		    store_msg_changed_since(s->store, v->mailbox_id, v->modseq, sync_changed_cb, &c,
					    &error) < 0 ||
		    store_msg_expunged_since(s->store, v->mailbox_id, v->modseq, sync_expunged_cb, &c,
					     &forgotten, &error) < 0 ||
		    (forgotten > v->modseq && view_gone_by_listing(s, &c, &error) < 0)) {
			view_gone_sort(v);
			view_free_arrays(&c.fresh);
			free(c.reported);
			log_error("sync user=<%s>: %s", s->user.address, error != NULL ? error : "");
			return -1;
		}
		view_gone_sort(v);
		if (c.failed) {
			view_free_arrays(&c.fresh);
			free(c.reported);
			log_error("sync user=<%s>: out of memory", s->user.address);
			return -1;
		}
		v->modseq = highest;
		v->ntold = 0;
		v->told_overflow = v->told_unsorted = false;
	}
	if (v->keywords_changed)
		view_write_flag_lists(s);
	if (expunge_ok)
		view_expunge_gone(s);
	if (c.fresh.count > 0) {
		/* by UID: changed_since gave them by MODSEQ (an insertion
		 * sort here was quadratic when many arrived and were changed
		 * in another order before this sync) */
		struct imap_uid_index *order = malloc(c.fresh.count * sizeof(*order));
		uint32_t added = 0, lo = UINT32_MAX;
		struct imap_view *fv = &c.fresh;
		for (uint32_t i = 0; order != NULL && i < fv->count; i++)
			order[i] = (struct imap_uid_index){ fv->uids[i], i };
		if (order != NULL)
			qsort(order, fv->count, sizeof(*order), uid_index_cmp);
		for (uint32_t k = 0; order != NULL && k < fv->count; k++) {
			uint32_t i = order[k].index;
			if (fv->uids[i] < v->uidnext)
				continue; /* a duplicate */
			if (view_push(v, fv->uids[i], fv->flags[i], fv->kws[i]) < 0)
				break;
			if (fv->uids[i] < lo)
				lo = fv->uids[i];
			v->uidnext = fv->uids[i] + 1;
			added++;
		}
		free(order);
		if (added > 0) {
			imap_printf(s, "* %u EXISTS\r\n", v->count);
			if (!v->readonly && !s->rev2) {
				uint32_t rec;
				if (store_mailbox_claim_recent(s->store, v->mailbox_id, v->uidnext,
							       &rec, &error) == 1)
					view_add_recent(v, rec > lo ? rec : lo, v->uidnext);
				uint32_t n = 0;
				for (uint32_t i = 0; i < v->count; i++)
					n += imap_view_is_recent(v, v->uids[i]);
				imap_printf(s, "* %u RECENT\r\n", n);
			}
		}
		v->exists = v->count;
	}
	view_free_arrays(&c.fresh);
	if (reported_r != NULL) {
		if (c.nreported > 1)
			qsort(c.reported, c.nreported, sizeof(uint32_t), uid_cmp);
		*reported_r = c.reported;
		*nreported_r = c.nreported;
	} else {
		free(c.reported);
	}
	return 0;
}

int imap_view_sync(struct imap_session *s, bool expunge_ok)
{
	return view_sync(s, expunge_ok, NULL, NULL);
}

int imap_view_sync_reported(struct imap_session *s, uint32_t **reported_r, uint32_t *n_r)
{
	*reported_r = NULL;
	*n_r = 0;
	return view_sync(s, false, reported_r, n_r);
}

/* ------------------------------------------------------------- QRESYNC */

void imap_view_held_back(struct imap_session *s)
{
	struct imap_view *v = s->view;

	/* a client that saw MODSEQs past a VANISHED held back must not
	 * resync from them after a disconnection (RFC 7162 3.2) */
	if (v != NULL && s->qresync && v->ngone > 0)
		imap_printf(s, "* OK [HIGHESTMODSEQ %llu] Expunges pending\r\n",
			    (unsigned long long)v->gone_modseq - 1);
}

struct vanished_ctx {
	const struct imap_view *v;
	const struct imap_seqset *known;
	uint32_t *uids;
	uint32_t n, cap;
	bool failed;
};

static int vanished_cb(uint32_t uid, uint64_t modseq, void *ctx)
{
	struct vanished_ctx *c = ctx;

	(void)modseq;
	/* not in the map: the client was told, or never had it in this
	 * session; those still in it are the next sync's VANISHED */
	if (uid >= c->v->uidnext || (c->known != NULL && !imap_seqset_contains(c->known, uid)) ||
	    view_index(c->v, uid) >= 0)
		return 0;
	if (uids_push(&c->uids, &c->n, &c->cap, uid) < 0) {
		c->failed = true;
		return 1;
	}
	return 0;
}

/* Every known UID below UIDNEXT that is not in the map: the gaps between
 * the map's UIDs inside each known range, one pass. */
static void vanished_all(struct imap_set_writer *w, const struct imap_view *v,
			 const struct imap_seqset *known)
{
	struct imap_range all = { 1, v->uidnext - 1 };
	const struct imap_range *r = known != NULL ? known->ranges : &all;
	size_t nr = known != NULL ? known->count : 1;

	for (size_t i = 0; i < nr; i++) {
		uint64_t lo = r[i].lo > 0 ? r[i].lo : 1;
		uint64_t hi = r[i].hi < v->uidnext ? r[i].hi : (uint64_t)v->uidnext - 1;
		for (uint32_t k = view_lower_bound(v, (uint32_t)lo); lo <= hi; k++) {
			uint64_t next = k < v->count && v->uids[k] <= hi ? v->uids[k] : hi + 1;
			if (next > lo)
				imap_set_writer_add(w, (uint32_t)lo, (uint32_t)(next - 1));
			lo = next + 1;
		}
	}
}

/* The UIDs expunged after `modseq` among the known ones, from the store's
 * expunge records; if it forgot some of those, every known UID not here
 * now, which RFC 7162 3.2.5.1 allows (the client ignores the others). */
static int vanished_since(struct imap_session *s, struct imap_set_writer *w,
			  const struct imap_seqset *known, uint64_t modseq, const char **error_r)
{
	struct vanished_ctx c = { .v = s->view, .known = known };

	uint64_t forgotten = 0;

	if (store_msg_expunged_since(s->store, s->view->mailbox_id, modseq, vanished_cb, &c,
				     &forgotten, error_r) < 0 || c.failed) {
		free(c.uids);
		if (c.failed)
			*error_r = "out of memory";
		return -1;
	}
	if (forgotten > modseq) {
		free(c.uids);
		vanished_all(w, s->view, known);
		return 0;
	}
	if (c.n > 0)
		qsort(c.uids, c.n, sizeof(uint32_t), uid_cmp);
	for (uint32_t i = 0; i < c.n; i++)
		imap_set_writer_add(w, c.uids[i], c.uids[i]);
	free(c.uids);
	return 0;
}

struct resync_ctx {
	struct imap_session *s;
	const struct imap_seqset *known;
};

static int resync_changed_cb(const struct store_msg *msg, void *ctx)
{
	struct resync_ctx *c = ctx;
	const struct imap_view *v = c->s->view;

	/* what changed after the view's MODSEQ, and new mail, is the next
	 * sync's to tell */
	if (msg->modseq > v->modseq || msg->uid >= v->uidnext ||
	    (c->known != NULL && !imap_seqset_contains(c->known, msg->uid)))
		return 0;
	imap_view_fetch_flags(c->s, msg, true);
	return 0;
}

int imap_view_resync(struct imap_session *s, const struct imap_seqset *known, uint64_t modseq,
		     bool fetch, const char **error_r)
{
	struct imap_view *v = s->view;
	struct imap_set_writer w = { .s = s, .prefix = "* VANISHED (EARLIER) " };
	struct resync_ctx c = { .s = s, .known = known };

	/* every expunge raises HIGHESTMODSEQ: nothing left or changed since,
	 * and SELECT stays O(1) for a client that is up to date */
	if (modseq >= v->modseq)
		return 0;
	if (imap_view_load(s, error_r) < 0 || vanished_since(s, &w, known, modseq, error_r) < 0)
		return -1;
	imap_set_writer_end(&w);
	if (fetch && store_msg_changed_since(s->store, v->mailbox_id, modseq, resync_changed_cb, &c,
					     error_r) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------ sets and batches */

bool imap_set_is_saved(const char *set, size_t len)
{
	return len == 1 && set[0] == '$';
}

/* "$": the saved UIDs still in the map, by UID or by sequence number
 * alike (RFC 5182 2.1); empty when nothing was saved. */
static int view_resolve_saved(struct imap_session *s, struct imap_cmd *cmd, uint32_t **uids_r,
			      size_t *n_r)
{
	struct imap_view *v = s->view;
	const char *error = NULL;
	size_t n = 0;

	if (imap_view_load(s, &error) < 0) {
		imap_store_error(s, cmd, error);
		return -1;
	}
	if (v->nsaved == 0)
		return 1;
	uint32_t *out = malloc(v->nsaved * sizeof(uint32_t));
	if (out == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return -1;
	}
	for (size_t i = 0; i < v->nsaved; i++)
		if (view_index(v, v->saved[i]) >= 0)
			out[n++] = v->saved[i];
	if (n == 0)
		free(out);
	else
		*uids_r = out;
	*n_r = n;
	return 1;
}

int imap_view_resolve(struct imap_session *s, struct imap_cmd *cmd, const char *set, size_t len,
		      bool uid, uint32_t **uids_r, size_t *n_r)
{
	struct imap_view *v = s->view;
	struct imap_seqset ss;
	const char *error = NULL;
	int r;

	*uids_r = NULL;
	*n_r = 0;
	if (imap_set_is_saved(set, len))
		return view_resolve_saved(s, cmd, uids_r, n_r);
	r = imap_seqset_parse(set, len, &ss);
	if (r <= 0) {
		if (r < 0)
			imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		else
			imap_bad(s, cmd, "Invalid sequence set");
		return r < 0 ? -1 : 0;
	}
	if (imap_view_load(s, &error) < 0) {
		imap_seqset_free(&ss);
		imap_store_error(s, cmd, error);
		return -1;
	}
	if (!uid && v->count == 0) {
		imap_seqset_free(&ss);
		imap_bad(s, cmd, "No messages in the mailbox: sequence numbers are invalid");
		return 0;
	}
	/* a range wholly past the last message (not merely reaching past
	 * it) is an error */
	for (size_t i = 0; !uid && i < ss.count; i++) {
		uint32_t lo = ss.ranges[i].lo, hi = ss.ranges[i].hi;
		if (lo != 0 && hi != 0 && lo > v->count && hi > v->count) {
			imap_seqset_free(&ss);
			imap_bad(s, cmd, "Invalid message sequence number");
			return 0;
		}
	}
	imap_seqset_normalize(&ss, uid ? (v->count > 0 ? v->uids[v->count - 1] : 0) : v->count);
	/* each range as an interval of map indices [a, b): sorted and
	 * disjoint like the ranges, so the cost follows the set and the
	 * answer, not the mailbox */
	struct { uint32_t a, b; } *iv = calloc(ss.count, sizeof(*iv));
	if (iv == NULL) {
		imap_seqset_free(&ss);
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return -1;
	}
	size_t niv = 0, n = 0;
	for (size_t i = 0; i < ss.count; i++) {
		uint32_t lo = ss.ranges[i].lo, hi = ss.ranges[i].hi, a, b;
		if (!uid) {
			a = lo - 1;
			b = hi < v->count ? hi : v->count;
		} else {
			a = view_lower_bound(v, lo);
			b = hi == UINT32_MAX ? v->count : view_lower_bound(v, hi + 1);
		}
		if (a < b) {
			iv[niv].a = a;
			iv[niv].b = b;
			n += b - a;
			niv++;
		}
	}
	imap_seqset_free(&ss);
	if (n > 0) {
		uint32_t *out = malloc(n * sizeof(uint32_t));
		if (out == NULL) {
			free(iv);
			imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
			return -1;
		}
		size_t w = 0;
		for (size_t i = 0; i < niv; i++) {
			memcpy(out + w, v->uids + iv[i].a, (iv[i].b - iv[i].a) * sizeof(uint32_t));
			w += iv[i].b - iv[i].a;
		}
		*uids_r = out;
	}
	*n_r = n;
	free(iv);
	return 1;
}

struct batch_ctx {
	struct store_msg *msgs;
	size_t n;
};

static int batch_cb(const struct store_msg *msg, void *ctx)
{
	struct batch_ctx *b = ctx;

	b->msgs[b->n++] = *msg;
	return b->n == IMAP_BATCH ? 1 : 0;
}

int imap_view_each(struct imap_session *s, const uint32_t *uids, size_t n,
		   int (*cb)(struct imap_session *s, const struct store_msg *msg, void *ctx),
		   void *ctx, size_t *missing_r, const char **error_r)
{
	struct imap_view *v = s->view;
	struct batch_ctx b = { .msgs = malloc(IMAP_BATCH * sizeof(struct store_msg)) };
	size_t i = 0, got = 0;
	int ret = 0;

	*missing_r = 0;
	if (b.msgs == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	while (i < n && ret == 0) {
		/* a run of neighbours in the map: one range read from the store */
		int64_t start = view_index(v, uids[i]);
		size_t j = i + 1;
		while (start >= 0 && j < n && (uint64_t)(start + (int64_t)(j - i)) < v->count &&
		       v->uids[start + (int64_t)(j - i)] == uids[j])
			j++;
		uint32_t lo = uids[i], hi = uids[j - 1];
		size_t run_got = 0;
		while (lo <= hi && ret == 0) {
			b.n = 0;
			if (store_msg_list(s->store, v->mailbox_id, lo, hi, batch_cb, &b, error_r) < 0) {
				ret = -1;
				break;
			}
			for (size_t k = 0; k < b.n && ret == 0; k++)
				ret = cb(s, &b.msgs[k], ctx);
			run_got += b.n;
			if (b.n < IMAP_BATCH)
				break;
			if (b.msgs[b.n - 1].uid == UINT32_MAX)
				break;
			lo = b.msgs[b.n - 1].uid + 1;
		}
		got += run_got;
		i = j;
	}
	free(b.msgs);
	if (ret == 0 && got < n)
		*missing_r = n - got;
	return ret;
}
