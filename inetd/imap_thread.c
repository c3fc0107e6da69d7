/* THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES, for the
 * conversation views of webmails (Roundcube asks for REFERENCES). The
 * search runs as SEARCH's; then, in mailbox order, each hit's Message-ID,
 * In-Reply-To and References are read from its header and linked as they
 * come (REFERENCES step 1), and the steps after it work on the tree.
 *
 * Mail is hostile input: every walk of the tree is a loop over parent and
 * sibling links, never a recursion, so a chain of a million references
 * costs time in proportion, not stack; the id and subject tables hash with
 * a key drawn per command, so ids made to collide cannot make them
 * quadratic; loop checks share one work budget, and the older references
 * of messages one memory budget (a message's own id and its parent's are
 * always kept, so mail after a flood still threads). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "imap.h"
#include "log.h"
#include "mime.h"
#include "siphash.h"

#define THREAD_REFS_MAX 64               /* the last ones of a References field */
#define THREAD_MSGID_MAX 250             /* a longer one is not taken as an id */
#define THREAD_ID_BYTES_MAX (32u << 20)  /* older references' ids held at once */
#define THREAD_LOOP_WORK_MAX (1u << 26)  /* ancestor steps of all loop checks */
/* header bytes read for the ids: all the MIME parser reads of a header */
#define THREAD_HEADER_MAX (MIME_HEADER_MAX_DEFAULT + STORE_PREFIX_MAX)
#define THREAD_POOL_CHUNK 1024

/* A container (RFC 5256's "message", JWZ's container): a message of the
 * result, or a dummy for an id that only references name. */
struct tnode {
	struct tnode *parent, *child, *last, *prev, *next;
	uint32_t uid, seq;      /* seq 0: a dummy */
	int64_t date;           /* sent date */
	const char *base;       /* base subject (messages) */
	bool reply;             /* the subject was a reply's or forward's */
};

struct pool_chunk {
	struct pool_chunk *next;
	size_t used;
	struct tnode nodes[THREAD_POOL_CHUNK];
};

/* Strings to containers: message ids, then base subjects (step 5). */
struct strmap {
	const char **keys;
	struct tnode **nodes;
	size_t cap, count;
	uint64_t key[2];        /* the hash's, from getrandom */
};

struct thread_ctx {
	bool references;        /* else ORDEREDSUBJECT */
	const uint32_t *uids;   /* the search result, ascending */
	size_t n, next;
	struct tnode **msgs;    /* per hit, NULL until its record is read */
	char **bases;           /* per hit: its base subject (owned) */
	struct pool_chunk *pool;
	size_t nnodes;
	struct tnode root;
	struct strmap ids;
	size_t id_bytes;
	uint64_t loop_work;
	char *header;           /* THREAD_HEADER_MAX + 1 */
	bool failed;
};

/* ------------------------------------------------------ small pieces */

static struct tnode *node_new(struct thread_ctx *c)
{
	if (c->pool == NULL || c->pool->used == THREAD_POOL_CHUNK) {
		struct pool_chunk *p = malloc(sizeof(*p));
		if (p == NULL)
			return NULL;
		p->next = c->pool;
		p->used = 0;
		c->pool = p;
	}
	struct tnode *x = &c->pool->nodes[c->pool->used++];
	memset(x, 0, sizeof(*x));
	c->nnodes++;
	return x;
}

/* The slot hash: SipHash (siphash.h) under the map's key, so without the
 * key nobody can make ids that land in one slot. */
static uint64_t str_hash(const uint64_t key[2], const char *s)
{
	return siphash13(key, s, strlen(s));
}

/* An empty map with a fresh key: 0, or -1 if there is no randomness. */
static int strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
	return getrandom(m->key, sizeof(m->key), 0) == (ssize_t)sizeof(m->key) ? 0 : -1;
}

/* The slot of key: where it is, or the empty one it would go in. */
static size_t strmap_slot(const struct strmap *m, const char *key)
{
	size_t i = (size_t)str_hash(m->key, key) & (m->cap - 1);
	while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static struct tnode *strmap_get(const struct strmap *m, const char *key)
{
	if (m->cap == 0)
		return NULL;
	size_t i = strmap_slot(m, key);
	return m->keys[i] != NULL ? m->nodes[i] : NULL;
}

/* Sets key (a string that outlives the map) to x: 0, or -1 out of memory. */
static int strmap_put(struct strmap *m, const char *key, struct tnode *x)
{
	if ((m->count + 1) * 2 > m->cap) {
		struct strmap bigger = { .key = { m->key[0], m->key[1] } };
		bigger.cap = m->cap ? m->cap * 2 : 256;
		bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
		bigger.nodes = calloc(bigger.cap, sizeof(*bigger.nodes));
		if (bigger.keys == NULL || bigger.nodes == NULL) {
			free(bigger.keys);
			free(bigger.nodes);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (m->keys[i] != NULL) {
				size_t j = strmap_slot(&bigger, m->keys[i]);
				bigger.keys[j] = m->keys[i];
				bigger.nodes[j] = m->nodes[i];
			}
		}
		bigger.count = m->count;
		free(m->keys);
		free(m->nodes);
		*m = bigger;
	}
	size_t i = strmap_slot(m, key);
	if (m->keys[i] == NULL)
		m->count++;
	m->keys[i] = key;
	m->nodes[i] = x;
	return 0;
}

static void detach(struct tnode *x)
{
	struct tnode *p = x->parent;
	if (p == NULL)
		return;
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		p->child = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	else
		p->last = x->prev;
	x->parent = x->prev = x->next = NULL;
}

/* x (detached) as p's last child, or before `before` among them. */
static void attach(struct tnode *p, struct tnode *x, struct tnode *before)
{
	x->parent = p;
	x->next = before;
	x->prev = before != NULL ? before->prev : p->last;
	if (x->prev != NULL)
		x->prev->next = x;
	else
		p->child = x;
	if (before != NULL)
		before->prev = x;
	else
		p->last = x;
}

/* Whether p as x's parent would close a loop (x is p or above it); a spent
 * budget says yes, and the link is left out. */
static bool would_loop(struct thread_ctx *c, const struct tnode *p, const struct tnode *x)
{
	if (x->child == NULL)
		return p == x;  /* nothing below x: no walk (most links) */
	for (const struct tnode *a = p; a != NULL; a = a->parent) {
		if (a == x || ++c->loop_work > THREAD_LOOP_WORK_MAX)
			return true;
	}
	return false;
}

/* Every container under the root, parents before their children. */
static size_t preorder(struct tnode *root, struct tnode **out)
{
	size_t k = 0;
	struct tnode *x = root->child;
	while (x != NULL) {
		out[k++] = x;
		if (x->child != NULL) {
			x = x->child;
			continue;
		}
		while (x != NULL && x->next == NULL)
			x = x->parent == root ? NULL : x->parent;
		if (x != NULL)
			x = x->next;
	}
	return k;
}

/* ------------------------------------------------------ message ids */

/* The next msg-id in a field value from *p: what is inside "<...>", quotes
 * and white space taken out (RFC 5256: <"a"@b> is <a@b>). 1 with it in
 * out (THREAD_MSGID_MAX + 1 bytes), 0 when there are no more. */
static int next_msgid(const char **p, const char *end, char *out)
{
	while (*p < end) {
		const char *lt = memchr(*p, '<', (size_t)(end - *p));
		const char *gt = lt != NULL ? memchr(lt, '>', (size_t)(end - lt)) : NULL;
		if (gt == NULL) {
			*p = end;
			return 0;
		}
		lt = memrchr(lt, '<', (size_t)(gt - lt));
		*p = gt + 1;
		size_t n = 0;
		bool at = false;
		for (const char *q = lt + 1; q < gt && n <= THREAD_MSGID_MAX; q++) {
			if (*q == '"' || *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
				continue;
			at |= *q == '@';
			if (n < THREAD_MSGID_MAX)
				out[n] = *q;
			n++;
		}
		if (at && n >= 3 && n <= THREAD_MSGID_MAX) {
			out[n] = '\0';
			return 1;
		}
	}
	return 0;
}

/* The container of an id, a dummy made for it if it is new; NULL when the
 * id budget is spent (or out of memory: c->failed). A message's own id and
 * its parent's are `essential`: outside the budget (two per message). */
static struct tnode *id_container(struct thread_ctx *c, const char *id, bool essential)
{
	struct tnode *x = strmap_get(&c->ids, id);
	if (x != NULL)
		return x;
	size_t len = strlen(id);
	if (!essential && c->id_bytes + len + 1 > THREAD_ID_BYTES_MAX)
		return NULL;
	char *key = strdup(id);
	if (key == NULL || (x = node_new(c)) == NULL || strmap_put(&c->ids, key, x) < 0) {
		free(key);
		c->failed = true;
		return NULL;
	}
	if (!essential)
		c->id_bytes += len + 1;
	return x;
}

/* The last THREAD_REFS_MAX ids of a field, in a ring: ids[(start + i) %
 * THREAD_REFS_MAX] is the i-th, oldest first. */
struct refs {
	char ids[THREAD_REFS_MAX][THREAD_MSGID_MAX + 1];
	size_t n, start;
};

static const char *refs_id(const struct refs *r, size_t i)
{
	return r->ids[(r->start + i) % THREAD_REFS_MAX];
}

static void refs_from(struct refs *r, const char *value, size_t len, bool first_only)
{
	const char *p = value, *end = value + len;
	char id[THREAD_MSGID_MAX + 1];
	while (next_msgid(&p, end, id)) {
		if (r->n == THREAD_REFS_MAX) {
			memcpy(r->ids[r->start], id, sizeof(id));
			r->start = (r->start + 1) % THREAD_REFS_MAX;
		} else {
			memcpy(r->ids[(r->start + r->n++) % THREAD_REFS_MAX], id, sizeof(id));
		}
		if (first_only)
			return;
	}
}

/* Step 1 for one message: its container, and the links its references
 * make. */
static void link_message(struct thread_ctx *c, struct tnode *m, const char *msgid,
			 struct refs *refs)
{
	/* (A) the references, each the parent of the next, where the next has
	 * no parent yet */
	struct tnode *prev = NULL;
	for (size_t i = 0; i < refs->n && !c->failed; i++) {
		struct tnode *x = id_container(c, refs_id(refs, i), i + 1 == refs->n);
		if (x == NULL)
			continue;
		if (prev != NULL && x->parent == NULL && prev != x && !would_loop(c, prev, x))
			attach(prev, x, NULL);
		prev = x;
	}
	/* the message's own container: its id's, unless another message had
	 * the id first (or it has none): then one of its own */
	struct tnode *self = NULL;
	if (msgid != NULL && (self = id_container(c, msgid, true)) != NULL && self->seq != 0)
		self = NULL;
	if (self == NULL && (self = node_new(c)) == NULL) {
		c->failed = true;
		return;
	}
	self->uid = m->uid;
	self->seq = m->seq;
	self->date = m->date;
	self->base = m->base;
	self->reply = m->reply;
	c->msgs[c->next - 1] = self;
	/* (B) the last reference is the parent, whatever was there before */
	detach(self);
	if (prev != NULL && !would_loop(c, prev, self))
		attach(prev, self, NULL);
}

/* The header of a message, read in growing pieces until its end: length
 * in bytes of c->header, 0 if it cannot be read. */
static size_t read_header(struct thread_ctx *c, struct store_msg_reader *r)
{
	size_t have = 0, want = 16384;
	for (;;) {
		ssize_t got = store_msg_read(r, have, c->header + have, want - have);
		if (got <= 0)
			break;
		have += (size_t)got;
		c->header[have] = '\0';
		if (memmem(c->header, have, "\n\n", 2) != NULL ||
		    memmem(c->header, have, "\n\r\n", 3) != NULL || have < want ||
		    want == THREAD_HEADER_MAX)
			break;
		want = want * 4 > THREAD_HEADER_MAX ? THREAD_HEADER_MAX : want * 4;
	}
	return have;
}

static int thread_cb(struct imap_session *s, const struct store_msg *msg, void *ctx)
{
	struct thread_ctx *c = ctx;

	while (c->next < c->n && c->uids[c->next] < msg->uid)
		c->next++;
	if (c->next == c->n || c->uids[c->next] != msg->uid)
		return 0;
	size_t i = c->next++;
	struct tnode m = { .uid = msg->uid, .seq = imap_view_seq(s->view, msg->uid),
			   .date = msg->sent_date };
	if ((c->bases[i] = imap_msg_base_subject(s, msg, &m.reply)) == NULL) {
		c->failed = true;
		return 1;
	}
	m.base = c->bases[i];
	if (!c->references) {
		struct tnode *x = node_new(c);
		if (x == NULL) {
			c->failed = true;
			return 1;
		}
		*x = m;
		c->msgs[i] = x;
		return 0;
	}
	struct store_msg_reader *r = NULL;
	const char *error = NULL;
	struct refs *refs = calloc(1, sizeof(*refs));
	char *msgid = NULL, idbuf[THREAD_MSGID_MAX + 1];
	if (refs == NULL) {
		c->failed = true;
		return 1;
	}
	if (store_msg_open(s->store, msg, &r, &error) < 0)
		log_error("thread user=<%s> uid=%u: %s", s->user.address, msg->uid, error);
	size_t hlen = r != NULL ? read_header(c, r) : 0, pos = 0;
	struct mime_header_field f;
	bool have_refs = false;
	const char *in_reply_to = NULL;
	size_t in_reply_to_len = 0;
	while (mime_header_next(c->header, hlen, &pos, &f) == 1) {
		if (f.name_len == 10 && strncasecmp(f.name, "Message-ID", 10) == 0 && msgid == NULL) {
			const char *p = f.value;
			if (next_msgid(&p, f.value + f.value_len, idbuf))
				msgid = idbuf;
		} else if (f.name_len == 10 && strncasecmp(f.name, "References", 10) == 0 &&
			   !have_refs) {
			refs_from(refs, f.value, f.value_len, false);
			have_refs = refs->n > 0;
		} else if (f.name_len == 11 && strncasecmp(f.name, "In-Reply-To", 11) == 0 &&
			   in_reply_to == NULL) {
			in_reply_to = f.value;
			in_reply_to_len = f.value_len;
		}
	}
	/* without References, the first id of In-Reply-To is the parent */
	if (!have_refs && in_reply_to != NULL)
		refs_from(refs, in_reply_to, in_reply_to_len, true);
	link_message(c, &m, msgid, refs);
	store_msg_close(&r);
	free(refs);
	return c->failed ? 1 : 0;
}

/* ------------------------------------------------------ ordering */

/* A container's place among its siblings: its sent date, then mailbox
 * order; a dummy's is its first child's (RFC 5256 step 4). */
static const struct tnode *sort_rep(const struct tnode *x)
{
	while (x->seq == 0 && x->child != NULL)
		x = x->child;
	return x;
}

static int date_cmp(const void *a, const void *b)
{
	const struct tnode *x = sort_rep(*(struct tnode *const *)a);
	const struct tnode *y = sort_rep(*(struct tnode *const *)b);
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts every set of siblings by date, the deepest first (steps 4 and 6).
 * scratch holds c->nnodes pointers. */
static void sort_all(struct thread_ctx *c, struct tnode **order, struct tnode **scratch)
{
	size_t k = preorder(&c->root, order);
	for (size_t i = k + 1; i-- > 0;) {
		/* order[k - 1] first, back to order[0], the root last */
		struct tnode *p = i == 0 ? &c->root : order[i - 1];
		if (p->child == NULL || p->child->next == NULL)
			continue;
		size_t n = 0;
		for (struct tnode *x = p->child; x != NULL; x = x->next)
			scratch[n++] = x;
		qsort(scratch, n, sizeof(*scratch), date_cmp);
		p->child = p->last = NULL;
		for (size_t j = 0; j < n; j++)
			attach(p, scratch[j], NULL);
	}
}

/* Step 3: dummies without children go; the others give their children to
 * their parent, except at the top with more than one child. */
static void prune(struct thread_ctx *c, struct tnode **order)
{
	size_t k = preorder(&c->root, order);
	for (size_t i = k; i-- > 0;) {
		struct tnode *d = order[i];
		if (d->seq != 0)
			continue;
		struct tnode *p = d->parent;
		if (d->child != NULL && p == &c->root && d->child->next != NULL)
			continue;
		while (d->child != NULL) {
			struct tnode *x = d->child;
			detach(x);
			attach(p, x, d);
		}
		detach(d);
	}
}

/* The thread subject of a top-level container (step 5.B.i). */
static const struct tnode *subject_of(const struct tnode *x)
{
	return x->seq != 0 ? x : x->child != NULL && x->child->seq != 0 ? x->child : NULL;
}

/* Step 5: threads at the top with the same base subject, merged. */
static int merge_subjects(struct thread_ctx *c, struct tnode **top)
{
	struct strmap subjects;
	size_t n = 0;
	if (strmap_init(&subjects) < 0)
		return -1;
	for (struct tnode *x = c->root.child; x != NULL; x = x->next)
		top[n++] = x;
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const struct tnode *m = subject_of(top[i]);
		if (m == NULL || m->base[0] == '\0')
			continue;
		struct tnode *t = strmap_get(&subjects, m->base);
		if (t == NULL || (t->seq != 0 && (top[i]->seq == 0 || (t->reply && !top[i]->reply))))
			ret = strmap_put(&subjects, m->base, top[i]);
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct tnode *x = top[i];
		const struct tnode *m = subject_of(x);
		if (m == NULL || m->base[0] == '\0')
			continue;
		const char *subject = m->base;
		struct tnode *t = strmap_get(&subjects, subject);
		if (t == NULL || t == x)
			continue;
		if (t->seq == 0 && x->seq == 0) {
			while (x->child != NULL) {
				struct tnode *y = x->child;
				detach(y);
				attach(t, y, NULL);
			}
			detach(x);
		} else if (t->seq == 0 || (x->reply && !t->reply)) {
			detach(x);
			attach(t, x, NULL);
		} else {
			struct tnode *d = node_new(c);
			if (d == NULL) {
				ret = -1;
				break;
			}
			attach(&c->root, d, t);
			detach(t);
			detach(x);
			attach(d, t, NULL);
			attach(d, x, NULL);
			ret = strmap_put(&subjects, subject, d);
		}
	}
	free(subjects.keys);
	free(subjects.nodes);
	return ret;
}

/* ------------------------------------------------------ the answer */

static void write_node(struct imap_session *s, const struct tnode *x, bool uid, bool *space)
{
	if (x->seq == 0)
		return;
	imap_printf(s, "%s%u", *space ? " " : "", uid ? x->uid : x->seq);
	*space = true;
}

/* Each top-level thread as "(...)": a container with one child goes on
 * with it in the same list, one with more opens a list per child. */
static void write_tree(struct imap_session *s, const struct tnode *root, bool uid)
{
	const struct tnode *x = root->child;
	bool space = false;
	while (x != NULL) {
		if (x->parent == root || x->parent->child->next != NULL) {
			imap_puts(s, x->parent == root || x->prev != NULL || x->parent->seq == 0 ?
				     "(" : " (");
			space = false;
		}
		write_node(s, x, uid, &space);
		if (x->child != NULL) {
			x = x->child;
			continue;
		}
		/* up, closing the lists of the containers finished */
		for (;;) {
			const struct tnode *p = x->parent;
			if (p == root || p->child->next != NULL)
				imap_puts(s, ")");
			if (x->next != NULL) {
				x = x->next;
				break;
			}
			if (p == root) {
				x = NULL;
				break;
			}
			x = p;
		}
	}
}

/* ORDEREDSUBJECT: by base subject, then date; each run of one subject a
 * thread, its first message the parent of the others; threads by date. */
static int ordered_cmp(const void *a, const void *b)
{
	const struct tnode *x = *(struct tnode *const *)a, *y = *(struct tnode *const *)b;
	int r = strcmp(x->base, y->base);
	return r != 0 ? r : date_cmp(a, b);
}

static void ordered_subject(struct thread_ctx *c, struct tnode **list, size_t n)
{
	if (n > 1)
		qsort(list, n, sizeof(*list), ordered_cmp);
	for (size_t i = 0; i < n;) {
		struct tnode *first = list[i++];
		attach(&c->root, first, NULL);
		while (i < n && strcmp(list[i]->base, first->base) == 0)
			attach(first, list[i++], NULL);
	}
}

/* ------------------------------------------------------ the command */

static void ctx_free(struct thread_ctx *c)
{
	while (c->pool != NULL) {
		struct pool_chunk *p = c->pool;
		c->pool = p->next;
		free(p);
	}
	for (size_t i = 0; i < c->ids.cap; i++)
		free((char *)c->ids.keys[i]);
	free(c->ids.keys);
	free(c->ids.nodes);
	for (size_t i = 0; c->bases != NULL && i < c->n; i++)
		free(c->bases[i]);
	free(c->bases);
	free(c->msgs);
	free(c->header);
}

int imap_cmd_thread(struct imap_session *s, struct imap_cmd *cmd)
{
	struct thread_ctx c = { 0 };
	struct imap_search_result r = { 0 };
	const struct imap_arg *a = cmd->args;
	struct tnode **order = NULL, **scratch = NULL;
	const char *error = NULL;
	size_t missing;

	if (imap_arg_atom_is(a, "REFERENCES")) {
		c.references = true;
	} else if (!imap_arg_atom_is(a, "ORDEREDSUBJECT")) {
		imap_bad(s, cmd, a == NULL || a->type != IMAP_ARG_ATOM ?
			 "THREAD needs an algorithm" : "Unknown threading algorithm");
		return 0;
	}
	a = a->next;
	if (!imap_search_charset(s, cmd, a))
		return 0;
	if (strmap_init(&c.ids) < 0) {
		imap_no(s, cmd, "[UNAVAILABLE] No random numbers for the id table");
		return 0;
	}
	if (!imap_search_run(s, cmd, a->next, &r))
		return 0;
	c.uids = r.uids;
	c.n = r.n;
	if (r.n > 0 && ((c.msgs = calloc(r.n, sizeof(*c.msgs))) == NULL ||
			(c.bases = calloc(r.n, sizeof(*c.bases))) == NULL ||
			(c.references && (c.header = malloc(THREAD_HEADER_MAX + 1)) == NULL))) {
		c.failed = true;
	} else if (r.n > 0 && imap_view_each(s, r.uids, r.n, thread_cb, &c, &missing, &error) < 0) {
		imap_store_error(s, cmd, error);
		goto out;
	}
	size_t n = 0;
	for (size_t i = 0; !c.failed && i < c.n; i++)
		if (c.msgs[i] != NULL)
			c.msgs[n++] = c.msgs[i];
	/* room for every container, and the dummies step 5 may add */
	if (!c.failed && ((order = calloc(c.nnodes + n + 1, sizeof(*order))) == NULL ||
			  (scratch = calloc(c.nnodes + n + 1, sizeof(*scratch))) == NULL))
		c.failed = true;
	if (!c.failed && !c.references) {
		ordered_subject(&c, c.msgs, n);
		sort_all(&c, order, scratch);
	} else if (!c.failed) {
		/* (2) the containers without a parent make the top level */
		for (struct pool_chunk *p = c.pool; p != NULL; p = p->next)
			for (size_t i = 0; i < p->used; i++)
				if (p->nodes[i].parent == NULL)
					attach(&c.root, &p->nodes[i], NULL);
		prune(&c, order);                           /* (3) */
		sort_all(&c, order, scratch);               /* (4) */
		if (merge_subjects(&c, scratch) < 0)        /* (5) */
			c.failed = true;
		else
			sort_all(&c, order, scratch);       /* (6) */
	}
	if (c.failed) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		goto out;
	}
	imap_puts(s, "* THREAD");
	if (c.root.child != NULL) {
		imap_puts(s, " ");
		write_tree(s, &c.root, cmd->uid);
	}
	imap_puts(s, "\r\n");
	imap_ok(s, cmd, "Thread completed");
out:
	free(order);
	free(scratch);
	ctx_free(&c);
	free(r.uids);
	return 0;
}
