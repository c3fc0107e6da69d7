/* Aliases and recipient resolution.
 *
 * Resolution order for an address in a local domain (Postfix's virtual alias
 * semantics):
 *   1. an exact alias "local@domain" expands to its targets, even when a user
 *      of that address exists (so an alias can redirect a user's mail);
 *      a target equal to the address itself ("bob -> bob, bob@elsewhere")
 *      means "also deliver to the user bob" and is not expanded again;
 *   2. otherwise the user of that address, if any (a disabled user receives
 *      nothing: the address resolves to DISABLED when nothing else remains);
 *   3. otherwise, for a subaddress (RFC 5233: "bob+tag", a local part with
 *      a recipient_delimiter character after its first character), the
 *      address cut at its first delimiter ("bob"), by steps 1 and 2;
 *   4. otherwise the catch-all "@domain" expands to its targets; a target
 *      "@other" (a domain alias) stands for the same local part at other,
 *      a local domain (one that is no longer local contributes nothing);
 *   5. otherwise, for postmaster@ or abuse@ (RFC 5321 4.5.1, RFC 2142;
 *      "postmaster+tag" too), the configured `postmaster` address, as if an
 *      alias named it;
 *   6. otherwise nobody: NO_USER (also for a dangling alias target in a local
 *      domain, which contributes nothing).
 * So an address that exists (a user "a+b") always matches exactly, and the
 * mail of a subaddress goes where the base address's would, the tag kept in
 * the envelope. The bare "postmaster" of RFC 5321 (no domain) is postmaster
 * at the host name or its nearest local parent domain, else the configured
 * address.
 * Each target is resolved the same way, recursively: an address in a domain
 * that is not local is kept as a REMOTE target. Every address is expanded at
 * most once (a visited set): duplicates are removed and a cycle ends. Limits:
 * STORE_ALIAS_DEPTH_MAX levels and ALIAS_WALK_NODES_MAX distinct addresses;
 * past them resolution fails temporarily (a configuration error to fix, and
 * no mail is lost meanwhile).
 *
 * store_alias_add checks the same walk from the new target: it refuses a
 * target whose expansion reaches the source (a loop), or nests too deep when
 * seen from the source. (A chain can still grow too deep by adding at its
 * far end; resolution then reports it.)
 *
 * One of our SRS addresses (srs.h: the sender of mail we forwarded, where
 * its bounces come back) stands for the address it encodes, as an alias
 * would: checked (hash, age), then that address is resolved once, so a
 * remote one is a REMOTE target and the mail is relayed to it. One that
 * does not check is nobody (NO_USER, *error_r says why), whether or not
 * the SRS domain is a local one. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "account_int.h"
#include "srs.h"

/* Distinct addresses one expansion may visit. Fan-out (up to
 * STORE_ALIAS_TARGETS_MAX per source) to the power of the depth is
 * astronomic, so the work of one resolution is bounded here. */
#define ALIAS_WALK_NODES_MAX 1000

typedef char alias_addr[STORE_ADDRESS_MAX + 1];

/* An alias target as stored: an address, or "@domain" (a domain alias:
 * the same local part at that domain). As account_addr_parse. */
static int alias_target_parse(const char *text, struct account_addr *t, const char **why_r)
{
	return text[0] == '@' ? account_source_parse(text, t, why_r)
			      : account_addr_parse(text, t, why_r);
}

/* Reads the targets of source `key` into out (at most `max`). Returns how
 * many the source has (possibly more than max), or <0. */
static int alias_targets_txn(struct store *store, DB_TXN *txn, const char *key, alias_addr *out,
			     size_t max, uint32_t flags)
{
	DB *db = store_db(store, DBI_ALIASES);
	DBC *cur;
	alias_addr kbuf, vbuf;
	size_t keylen = strlen(key);
	DBT k = { .data = kbuf, .size = (uint32_t)keylen, .ulen = sizeof(kbuf) - 1,
		  .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf) - 1, .flags = DB_DBT_USERMEM };
	size_t n = 0;
	int ret;

	if (keylen >= sizeof(kbuf))
		return 0;
	memcpy(kbuf, key, keylen);
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "aliases.db cursor");
	for (uint32_t op = DB_SET; (ret = cur->get(cur, &k, &v, op | flags)) == 0; op = DB_NEXT_DUP) {
		if (n < max) {
			memcpy(out[n], vbuf, v.size);
			out[n][v.size] = '\0';
		}
		n++;
	}
	cur->close(cur);
	if (ret != DB_NOTFOUND)
		return store_dberr(store, ret, "reading aliases.db");
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* ---- the walk ---- */

struct walk {
	struct store *store;
	DB_TXN *txn;
	const char *stop;        /* a key that must not be reached (alias_add), or NULL */
	bool stop_hit, too_deep, too_big, overflow, disabled;
	alias_addr *visited;     /* ALIAS_WALK_NODES_MAX */
	size_t nvisited;
	struct store_rcpt_target *out; /* NULL: walk only (alias_add) */
	size_t max, n;
};

static int walk_address(struct walk *w, const struct account_addr *a, unsigned depth);

static bool walk_stopped(const struct walk *w)
{
	return w->stop_hit || w->too_deep || w->too_big || w->overflow;
}

/* Delivery to the user of `a`. 1 a user, 0 none, <0 error. */
static int walk_user(struct walk *w, const struct account_addr *a)
{
	struct user_rec rec;

	int r = user_rec_find_txn(w->store, w->txn, a, &rec, 0);
	password_wipe(rec.hash, sizeof(rec.hash));
	if (r <= 0)
		return r;
	if (rec.user.disabled) {
		w->disabled = true;
		return 1;
	}
	if (w->out == NULL)
		return 1;
	for (size_t i = 0; i < w->n; i++)
		if (w->out[i].kind == STORE_RCPT_LOCAL && w->out[i].user_id == rec.user.id)
			return 1;
	if (w->n == w->max) {
		w->overflow = true;
		return 1;
	}
	w->out[w->n].kind = STORE_RCPT_LOCAL;
	w->out[w->n].user_id = rec.user.id;
	memcpy(w->out[w->n].address, rec.user.address, sizeof(w->out[0].address));
	w->n++;
	return 1;
}

/* An address in a domain that is not ours (visited once, so no duplicate). */
static int walk_remote(struct walk *w, const struct account_addr *a)
{
	if (w->out == NULL)
		return 1;
	if (w->n == w->max) {
		w->overflow = true;
		return 1;
	}
	w->out[w->n].kind = STORE_RCPT_REMOTE;
	w->out[w->n].user_id = 0;
	memcpy(w->out[w->n].address, a->norm, sizeof(w->out[0].address));
	w->n++;
	return 1;
}

/* A domain alias: `from`'s local part at `domain_target` ("@other"), when
 * that domain is local. Returns as walk_address. */
static int walk_domain_alias(struct walk *w, const struct account_addr *from,
			     const char *domain_target, unsigned depth)
{
	alias_addr text;
	struct account_addr t;
	struct domain_rec dom;

	if (snprintf(text, sizeof(text), "%.*s%s", (int)from->at, from->norm, domain_target) >=
		    (int)sizeof(text) ||
	    account_addr_parse(text, &t, NULL) != 1)
		return 0; /* too long there: no such address */
	int r = domain_get_txn(w->store, w->txn, account_addr_domain(&t), &dom, 0);
	if (r <= 0)
		return r;
	return walk_address(w, &t, depth);
}

/* Expands the targets of alias `key` (for the address `from`), which sit at
 * `depth`. Returns the number of targets (0: no such alias), or <0. */
static int walk_targets(struct walk *w, const struct account_addr *from, const char *key,
			unsigned depth)
{
	alias_addr *targets = malloc(STORE_ALIAS_TARGETS_MAX * sizeof(*targets));
	struct account_addr t;
	const char *why = NULL;

	if (targets == NULL)
		return store_err(w->store, "out of memory");
	int n = alias_targets_txn(w->store, w->txn, key, targets, STORE_ALIAS_TARGETS_MAX, 0);
	if (n > 0 && depth > STORE_ALIAS_DEPTH_MAX)
		w->too_deep = true;
	int r = 0;
	for (int i = 0; n > 0 && i < n && i < STORE_ALIAS_TARGETS_MAX && !walk_stopped(w); i++) {
		if (targets[i][0] == '@') {
			r = walk_domain_alias(w, from, targets[i], depth);
			if (r < 0)
				break;
			continue;
		}
		int p = account_addr_parse(targets[i], &t, &why);
		if (p < 0) {
			r = store_err(w->store, "%s", why);
			break;
		}
		if (p == 0) {
			r = store_err(w->store, "aliases.db: a target of %s is not a valid address: "
				      "run 'pillarbox store check'", key);
			break;
		}
		if (strcmp(t.key, from->key) == 0)
			r = walk_user(w, &t);
		else
			r = walk_address(w, &t, depth);
		if (r < 0)
			break;
	}
	free(targets);
	return n < 0 ? n : r < 0 ? r : n;
}

/* Whether `key` is the one alias_add must not reach (and note it). */
static bool walk_at_stop(struct walk *w, const char *key)
{
	if (w->stop == NULL || strcmp(key, w->stop) != 0)
		return false;
	w->stop_hit = true;
	return true;
}

/* The address's own delivery: its alias, else its user. */
static int walk_own(struct walk *w, const struct account_addr *a, unsigned depth)
{
	int r = walk_targets(w, a, a->key, depth + 1);
	return r != 0 ? r : walk_user(w, a);
}

/* The address without its subaddress: the local part cut at its first
 * recipient_delimiter character. 1 (base_r filled), or 0 when there is
 * nothing to cut: no delimiter configured or in the local part, a local
 * part that starts with one, or a base that is no address ("bob.+x"). */
static int detail_strip(const struct store *store, const struct account_addr *a,
			struct account_addr *base_r)
{
	const char *delims = store->config->recipient_delimiter;
	char text[STORE_ADDRESS_MAX + 1];
	size_t cut = 0;

	if (delims == NULL)
		return 0;
	while (cut < a->at && memchr(delims, a->norm[cut], strlen(delims)) == NULL)
		cut++;
	if (cut == 0 || cut == a->at)
		return 0;
	snprintf(text, sizeof(text), "%.*s%s", (int)cut, a->norm, a->norm + a->at);
	return account_addr_parse(text, base_r, NULL);
}

/* Local parts every mail domain has: postmaster (RFC 5321 4.5.1, a MUST)
 * and abuse (RFC 2142, a SHOULD; for a hosted domain the reports are about
 * the service, which the provider runs). */
static bool role_address(const struct account_addr *a)
{
	static const char *const roles[] = { "postmaster", "abuse" };

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (a->at == strlen(roles[i]) && memcmp(a->key, roles[i], a->at) == 0)
			return true;
	return false;
}

/* The configured postmaster address, reached like an alias's target from
 * an address at `depth`. Returns as walk_address; 0 when none is set. */
static int walk_postmaster(struct walk *w, unsigned depth)
{
	const char *to = w->store->config->postmaster;
	struct account_addr t;

	if (to == NULL || account_addr_parse(to, &t, NULL) != 1)
		return 0;
	if (depth + 1 > STORE_ALIAS_DEPTH_MAX) {
		w->too_deep = true;
		return 0;
	}
	return walk_address(w, &t, depth + 1);
}

static int walk_address(struct walk *w, const struct account_addr *a, unsigned depth)
{
	struct domain_rec dom;
	struct account_addr base;
	char catchall[STORE_DOMAIN_MAX + 2];
	int r;

	if (walk_at_stop(w, a->key))
		return 0;
	for (size_t i = 0; i < w->nvisited; i++)
		if (strcmp(w->visited[i], a->key) == 0)
			return 0;
	if (w->nvisited == ALIAS_WALK_NODES_MAX) {
		w->too_big = true;
		return 0;
	}
	memcpy(w->visited[w->nvisited++], a->key, sizeof(w->visited[0]));

	if ((r = domain_get_txn(w->store, w->txn, account_addr_domain(a), &dom, 0)) < 0)
		return r;
	if (r == 0)
		return walk_remote(w, a);
	if ((r = walk_own(w, a, depth)) != 0)
		return r;
	bool tagged = detail_strip(w->store, a, &base) == 1;
	if (tagged && walk_at_stop(w, base.key))
		return 0;
	if (tagged && (r = walk_own(w, &base, depth)) != 0)
		return r;
	catchall[0] = '@';
	memcpy(catchall + 1, account_addr_domain(a), strlen(account_addr_domain(a)) + 1);
	if (walk_at_stop(w, catchall))
		return 0;
	if ((r = walk_targets(w, a, catchall, depth + 1)) != 0)
		return r;
	return role_address(tagged ? &base : a) ? walk_postmaster(w, depth) : 0;
}

static int walk_init(struct walk *w, struct store *store, DB_TXN *txn)
{
	alias_addr *visited = w->visited;

	if (visited == NULL && (visited = malloc(ALIAS_WALK_NODES_MAX * sizeof(*visited))) == NULL)
		return store_err(store, "out of memory");
	struct store_rcpt_target *out = w->out;
	size_t max = w->max;
	const char *stop = w->stop;
	*w = (struct walk){ .store = store, .txn = txn, .stop = stop, .visited = visited,
			    .out = out, .max = max };
	return 1;
}

/* ---- resolution ---- */

struct resolve_ctx {
	struct account_addr addr;
	struct walk w;
	bool bare_postmaster;       /* RCPT TO:<Postmaster>, no domain */
	bool not_local;
};

/* Postmaster at the host name or its nearest parent domain that is local
 * (RFC 5321 4.5.1's bare "postmaster"), into addr_r: 1, 0 none, -1. */
static int postmaster_local(struct store *store, DB_TXN *txn, struct account_addr *addr_r)
{
	char text[STORE_ADDRESS_MAX + 1];
	struct domain_rec dom;

	for (const char *d = store->config->hostname; d != NULL && *d != '\0';
	     d = strchr(d, '.') != NULL ? strchr(d, '.') + 1 : NULL) {
		/* a host name may end in a dot; an address domain does not */
		int n = snprintf(text, sizeof(text), "postmaster@%s", d);
		if (n > 0 && (size_t)n < sizeof(text) && text[n - 1] == '.')
			text[n - 1] = '\0';
		if (account_addr_parse(text, addr_r, NULL) != 1)
			continue;
		int r = domain_get_txn(store, txn, account_addr_domain(addr_r), &dom, 0);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Bare "postmaster": postmaster_local's address, else the configured
 * postmaster. Returns as walk_address. */
static int resolve_bare_postmaster(struct store *store, DB_TXN *txn, struct resolve_ctx *c)
{
	int r = postmaster_local(store, txn, &c->addr);
	if (r < 0)
		return r;
	return r == 1 ? walk_address(&c->w, &c->addr, 0) : walk_postmaster(&c->w, 0);
}

struct postmaster_ctx {
	struct account_addr addr;
	int found;
};

static int postmaster_name_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct postmaster_ctx *c = ctx;
	c->found = postmaster_local(store, txn, &c->addr);
	return c->found < 0 ? c->found : 1;
}

int store_postmaster_name(struct store *store, char *dst, size_t size, const char **error_r)
{
	struct postmaster_ctx c = { .found = 0 };
	if (store_read(store, postmaster_name_txn, &c, error_r) < 0)
		return -1;
	snprintf(dst, size, "%s", c.found == 1 ? c.addr.key : "postmaster");
	return c.found;
}

static int resolve_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct resolve_ctx *c = ctx;
	struct domain_rec dom;

	c->not_local = false;
	int r = walk_init(&c->w, store, txn);
	if (r < 0)
		return r;
	if (c->bare_postmaster) {
		r = resolve_bare_postmaster(store, txn, c);
		return r < 0 ? r : 1;
	}
	if ((r = domain_get_txn(store, txn, account_addr_domain(&c->addr), &dom, 0)) < 0)
		return r;
	if (r == 0) {
		c->not_local = true;
		return 1;
	}
	r = walk_address(&c->w, &c->addr, 0);
	return r < 0 ? r : 1;
}

/* RFC 5321 Quoted-string local part, as smtpd's parser leaves it: at most
 * 64 octets, quotes around, inside printable ASCII (or UTF-8) with only
 * '"' and '\\' escaped by a backslash. */
static bool quoted_local_valid(const char *local, size_t len)
{
	if (len < 2 || len > 64 || local[0] != '"' || local[len - 1] != '"')
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char ch = (unsigned char)local[i];
		if (ch == '\\') {
			i++;
			if (i + 1 >= len || local[i] < 32 || local[i] > 126)
				return false;
		} else if (ch == '"' || ch < 32 || ch == 127) {
			return false;
		}
	}
	return true;
}

/* A quoted local part names nobody here (local addresses are dot-atoms),
 * but in another domain it is that domain's to interpret: it is relayed
 * as received (submission checks who may relay). */
static enum store_resolve_result resolve_quoted(struct store *store, const char *address,
						const char **error_r)
{
	const char *at = strrchr(address, '@'), *why = NULL;
	char domain[STORE_DOMAIN_MAX + 1];
	if (at == NULL || !quoted_local_valid(address, (size_t)(at - address))) {
		account_refuse(store, error_r, "invalid address");
		return STORE_RESOLVE_NO_USER;
	}
	int p = account_domain_parse(at + 1, domain, &why);
	if (p <= 0) {
		account_parse_refuse(store, error_r, p, "invalid address", why);
		return p < 0 ? STORE_RESOLVE_ERROR : STORE_RESOLVE_NO_USER;
	}
	int r = store_domain_is_local(store, domain, error_r);
	if (r < 0)
		return STORE_RESOLVE_ERROR;
	if (r == 1) {
		account_refuse(store, error_r, "no such user");
		return STORE_RESOLVE_NO_USER;
	}
	return STORE_RESOLVE_NOT_LOCAL;
}

enum store_resolve_result store_resolve(struct store *store, const char *address,
					struct store_rcpt_target *targets, size_t max, size_t *n_r,
					const char **error_r)
{
	struct resolve_ctx *c = calloc(1, sizeof(*c));
	enum store_resolve_result result;
	const char *why = NULL;
	char decoded[STORE_ADDRESS_MAX + 1];

	*n_r = 0;
	if (c == NULL) {
		account_oom(store, error_r);
		return STORE_RESOLVE_ERROR;
	}
	enum srs_reverse_result srs = store_srs_reverse(store, address, decoded, error_r);
	if (srs == SRS_REVERSE_ERROR || srs == SRS_REVERSE_REFUSED) {
		free(c);
		return srs == SRS_REVERSE_ERROR ? STORE_RESOLVE_ERROR : STORE_RESOLVE_NO_USER;
	}
	if (srs == SRS_REVERSE_OK)
		address = decoded;
	c->bare_postmaster = strcasecmp(address, "postmaster") == 0;
	int p = c->bare_postmaster ? 1 : account_addr_parse(address, &c->addr, &why);
	if (p <= 0) {
		free(c);
		if (p == 0 && why == NULL) /* not a dot-atom local part: maybe quoted */
			return resolve_quoted(store, address, error_r);
		account_parse_refuse(store, error_r, p, "invalid address", why);
		return p < 0 ? STORE_RESOLVE_ERROR : STORE_RESOLVE_NO_USER;
	}
	c->w.out = targets;
	c->w.max = max;
	if (store_read(store, resolve_txn, c, error_r) < 0) {
		result = STORE_RESOLVE_ERROR;
	} else if (c->not_local && srs == SRS_REVERSE_OK && max > 0) {
		/* a bounce to our SRS address: relayed as an alias's target is */
		targets[0].kind = STORE_RCPT_REMOTE;
		targets[0].user_id = 0;
		memcpy(targets[0].address, decoded, sizeof(decoded));
		*n_r = 1;
		result = STORE_RESOLVE_OK;
	} else if (c->not_local) {
		result = STORE_RESOLVE_NOT_LOCAL;
	} else if (c->w.too_deep || c->w.too_big || c->w.overflow) {
		store_err(store, "aliases of %s %s: fix the aliases",
			  c->bare_postmaster ? "postmaster" : c->addr.key,
			  c->w.too_deep ? "nest deeper than " ACCOUNT_STR(STORE_ALIAS_DEPTH_MAX) " levels" :
			  c->w.too_big ? "reach more than " ACCOUNT_STR(ALIAS_WALK_NODES_MAX) " addresses" :
			  "expand to more recipients than allowed here");
		*error_r = store_last_error(store);
		result = STORE_RESOLVE_ERROR;
	} else if (c->w.n > 0) {
		*n_r = c->w.n;
		result = STORE_RESOLVE_OK;
	} else if (c->w.disabled) {
		account_refuse(store, error_r, "account disabled");
		result = STORE_RESOLVE_DISABLED;
	} else {
		account_refuse(store, error_r, "no such user");
		result = STORE_RESOLVE_NO_USER;
	}
	free(c->w.visited);
	free(c);
	return result;
}

/* ---- add, delete ---- */

struct alias_ctx {
	struct account_addr source, target;
	bool all;                   /* alias_del: every target */
	struct walk w;
	alias_addr targets[STORE_ALIAS_TARGETS_MAX];
};

/* Whether the domain alias chain from "@domain" key `from` reaches `stop`
 * (another "@domain" key) within `depth` more levels: 1, 0, 2 when it
 * fans out past *budget sources (ALIAS_WALK_NODES_MAX, as a resolution's
 * walk), or <0. */
static int domain_alias_reaches(struct store *store, DB_TXN *txn, const char *from,
				const char *stop, unsigned depth, unsigned *budget)
{
	if (*budget == 0)
		return 2;
	(*budget)--;
	alias_addr *targets = malloc(STORE_ALIAS_TARGETS_MAX * sizeof(*targets));
	int r = 0;

	if (targets == NULL)
		return store_err(store, "out of memory");
	int n = alias_targets_txn(store, txn, from, targets, STORE_ALIAS_TARGETS_MAX, 0);
	for (int i = 0; i < n && i < STORE_ALIAS_TARGETS_MAX && r == 0; i++) {
		if (targets[i][0] != '@')
			continue;
		if (strcmp(targets[i], stop) == 0 || depth == 0)
			r = 1;
		else
			r = domain_alias_reaches(store, txn, targets[i], stop, depth - 1, budget);
	}
	free(targets);
	return n < 0 ? n : r;
}

/* A domain alias "@a -> @b": from a catch-all source, to another domain
 * that is local, making no loop of domain aliases. 1, 0 refused, <0. */
static int domain_alias_check(struct store *store, DB_TXN *txn, struct alias_ctx *c)
{
	struct domain_rec dom;
	const char *to = c->target.key + 1;

	if (c->source.key[0] != '@') {
		store_err(store, "a domain (@%s) can only be the target of a domain (@example.com)",
			  to);
		return 0;
	}
	if (strcmp(c->source.key, c->target.key) == 0) {
		store_err(store, "a domain cannot be an alias of itself");
		return 0;
	}
	int r = domain_get_txn(store, txn, to, &dom, 0);
	if (r <= 0) {
		if (r == 0)
			store_err(store, "domain %s is not a local domain: a domain alias leads to one "
				  "('pillarbox domain add %s' first)", to, to);
		return r;
	}
	unsigned budget = ALIAS_WALK_NODES_MAX;
	r = domain_alias_reaches(store, txn, c->target.key, c->source.key, STORE_ALIAS_DEPTH_MAX,
				 &budget);
	if (r > 0)
		store_err(store, "alias %s -> %s refused: %s", c->source.key, c->target.key,
			  r == 1 ? "it would make a loop" : "domain aliases would lead to too many "
			  "domains");
	return r < 0 ? r : r == 0;
}

static int alias_add_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct alias_ctx *c = ctx;
	const char *domain = account_addr_domain(&c->source);
	struct domain_rec dom;
	struct account_addr t;

	int r = domain_get_txn(store, txn, domain, &dom, DB_RMW);
	if (r < 0)
		return r;
	if (r == 0) {
		store_err(store, "domain %s is not a local domain", domain);
		return 0;
	}
	int n = alias_targets_txn(store, txn, c->source.key, c->targets, STORE_ALIAS_TARGETS_MAX,
				  DB_RMW);
	if (n < 0)
		return n;
	for (int i = 0; i < n && i < STORE_ALIAS_TARGETS_MAX; i++) {
		if (alias_target_parse(c->targets[i], &t, NULL) == 1 && strcmp(t.key, c->target.key) == 0) {
			store_err(store, "alias %s -> %s exists already", c->source.key, c->targets[i]);
			return 0;
		}
	}
	if (n >= STORE_ALIAS_TARGETS_MAX) {
		store_err(store, "alias %s has %d targets, the most allowed", c->source.key,
			  STORE_ALIAS_TARGETS_MAX);
		return 0;
	}
	if (c->target.key[0] == '@') {
		if ((r = domain_alias_check(store, txn, c)) <= 0)
			return r;
	} else if (strcmp(c->source.key, c->target.key) != 0) {
		c->w.stop = c->source.key;
		if ((r = walk_init(&c->w, store, txn)) < 0 ||
		    (r = walk_address(&c->w, &c->target, 1)) < 0)
			return r;
		if (c->w.stop_hit || c->w.too_deep || c->w.too_big) {
			store_err(store, "alias %s -> %s refused: %s", c->source.key, c->target.norm,
				  c->w.stop_hit ? "it would make a loop" :
				  c->w.too_deep ? "aliases would nest deeper than "
				  ACCOUNT_STR(STORE_ALIAS_DEPTH_MAX) " levels" :
				  "the expansion would reach too many addresses");
			return 0;
		}
	}
	if (dom.aliases == UINT32_MAX)
		return store_err(store, "domain %s has too many aliases", domain);
	dom.aliases++;
	if ((r = store_put(store, DBI_ALIASES, txn, c->source.key, strlen(c->source.key),
			   c->target.norm, strlen(c->target.norm), 0)) < 0 ||
	    (r = domain_put_txn(store, txn, domain, &dom)) < 0)
		return r;
	return 1;
}

/* The source and (unless NULL) the target of an alias command: 1, or as
 * account_parse_refuse. */
static int alias_parse(struct store *store, struct alias_ctx *c, const char *source,
		       const char *target, const char **error_r)
{
	const char *why = NULL;

	int r = account_source_parse(source, &c->source, &why);
	if (r <= 0)
		return account_parse_refuse(store, error_r, r,
					    "invalid alias source (local@domain or @domain)", why);
	if (target == NULL)
		return 1;
	r = alias_target_parse(target, &c->target, &why);
	if (r <= 0)
		return account_parse_refuse(store, error_r, r,
					    "invalid alias target (an address, or @domain)", why);
	return 1;
}

int store_alias_add(struct store *store, const char *source, const char *target,
		    const char **error_r)
{
	struct alias_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return account_oom(store, error_r);
	if ((r = alias_parse(store, c, source, target, error_r)) == 1)
		r = store_write(store, true, alias_add_txn, c, error_r);
	free(c->w.visited);
	free(c);
	return r;
}

static int alias_del_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct alias_ctx *c = ctx;
	const char *domain = account_addr_domain(&c->source);
	DB *db = store_db(store, DBI_ALIASES);
	DBC *cur;
	struct domain_rec dom;
	struct account_addr t;
	alias_addr kbuf, vbuf;
	size_t keylen = strlen(c->source.key);
	DBT k = { .data = kbuf, .size = (uint32_t)keylen, .ulen = sizeof(kbuf) - 1,
		  .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf) - 1, .flags = DB_DBT_USERMEM };
	uint32_t deleted = 0;
	int ret;

	int r = domain_get_txn(store, txn, domain, &dom, DB_RMW);
	if (r < 0)
		return r;
	memcpy(kbuf, c->source.key, keylen);
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "aliases.db cursor");
	for (uint32_t op = DB_SET; (ret = cur->get(cur, &k, &v, op | DB_RMW)) == 0; op = DB_NEXT_DUP) {
		vbuf[v.size] = '\0';
		if (!c->all && (alias_target_parse(vbuf, &t, NULL) != 1 || strcmp(t.key, c->target.key) != 0))
			continue;
		if ((ret = cur->del(cur, 0)) != 0)
			break;
		deleted++;
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "deleting from aliases.db");
	if (deleted == 0) {
		store_err(store, "no such alias");
		return 0;
	}
	if (r == 1) {
		dom.aliases = dom.aliases > deleted ? dom.aliases - deleted : 0;
		if ((r = domain_put_txn(store, txn, domain, &dom)) < 0)
			return r;
	}
	return 1;
}

int store_alias_del(struct store *store, const char *source, const char *target,
		    const char **error_r)
{
	struct alias_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return account_oom(store, error_r);
	c->all = target == NULL;
	if ((r = alias_parse(store, c, source, target, error_r)) == 1)
		r = store_write(store, true, alias_del_txn, c, error_r);
	free(c);
	return r;
}

/* ---- listing: (source, target) order, a batch per snapshot ---- */

struct alias_pair {
	alias_addr source, target;
};

struct alias_batch {
	struct alias_pair *pairs;
	size_t n;
	bool more;
	struct alias_pair after;    /* resume after this pair (source "" = start) */
};

static int alias_batch_txn(struct store *store, DB_TXN *txn, void *ctx)
{
	struct alias_batch *b = ctx;
	DB *db = store_db(store, DBI_ALIASES);
	DBC *cur;
	alias_addr kbuf, vbuf;
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf) - 1, .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf) - 1, .flags = DB_DBT_USERMEM };
	int ret;

	b->n = 0;
	b->more = false;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "aliases.db cursor");
	if (b->after.source[0] == '\0') {
		ret = cur->get(cur, &k, &v, DB_FIRST);
	} else {
		k.size = (uint32_t)strlen(b->after.source);
		memcpy(kbuf, b->after.source, k.size);
		v.size = (uint32_t)strlen(b->after.target);
		memcpy(vbuf, b->after.target, v.size);
		ret = cur->get(cur, &k, &v, DB_GET_BOTH_RANGE);
		if (ret == 0 && v.size == strlen(b->after.target) &&
		    memcmp(vbuf, b->after.target, v.size) == 0)
			ret = cur->get(cur, &k, &v, DB_NEXT);
		else if (ret == DB_NOTFOUND) {
			/* Every remaining target of that source sorts before: skip it. */
			k.size = (uint32_t)strlen(b->after.source);
			memcpy(kbuf, b->after.source, k.size);
			ret = cur->get(cur, &k, &v, DB_SET_RANGE);
			while (ret == 0 && k.size == strlen(b->after.source) &&
			       memcmp(kbuf, b->after.source, k.size) == 0)
				ret = cur->get(cur, &k, &v, DB_NEXT);
		}
	}
	for (; ret == 0; ret = cur->get(cur, &k, &v, DB_NEXT)) {
		if (b->n == ACCOUNT_LIST_BATCH) {
			b->more = true;
			break;
		}
		memcpy(b->pairs[b->n].source, kbuf, k.size);
		b->pairs[b->n].source[k.size] = '\0';
		memcpy(b->pairs[b->n].target, vbuf, v.size);
		b->pairs[b->n].target[v.size] = '\0';
		b->n++;
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "reading aliases.db");
	return 1;
}

int store_alias_list(struct store *store, int (*cb)(const char *source, const char *target, void *ctx),
		     void *ctx, const char **error_r)
{
	struct alias_batch b = { .n = 0 };
	int count = 0, stop = 0;

	b.pairs = calloc(ACCOUNT_LIST_BATCH, sizeof(*b.pairs));
	if (b.pairs == NULL)
		return account_oom(store, error_r);
	do {
		if (store_read(store, alias_batch_txn, &b, error_r) < 0) {
			free(b.pairs);
			return -1;
		}
		for (size_t i = 0; i < b.n && stop == 0; i++, count++)
			stop = cb(b.pairs[i].source, b.pairs[i].target, ctx);
		if (b.n > 0)
			b.after = b.pairs[b.n - 1];
	} while (stop == 0 && b.more);
	free(b.pairs);
	return stop != 0 ? stop : count;
}

/* ---- domain aliases leading to a domain (domain.c's delete) ---- */

int alias_domain_alias_to_txn(struct store *store, DB_TXN *txn, const char *domain,
			      char *source_r)
{
	DB *db = store_db(store, DBI_ALIASES);
	DBC *cur;
	alias_addr kbuf, vbuf;
	DBT k = { .data = kbuf, .size = 1, .ulen = sizeof(kbuf) - 1, .flags = DB_DBT_USERMEM };
	DBT v = { .data = vbuf, .ulen = sizeof(vbuf) - 1, .flags = DB_DBT_USERMEM };
	int ret, found = 0;

	/* catch-all sources sort first ('@' is below every letter and digit) */
	kbuf[0] = '@';
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return store_dberr(store, ret, "aliases.db cursor");
	for (uint32_t op = DB_SET_RANGE; (ret = cur->get(cur, &k, &v, op)) == 0; op = DB_NEXT) {
		if (k.size == 0 || kbuf[0] != '@')
			break;
		if (v.size == strlen(domain) + 1 && vbuf[0] == '@' &&
		    memcmp(vbuf + 1, domain, v.size - 1) == 0) {
			memcpy(source_r, kbuf, k.size);
			source_r[k.size] = '\0';
			found = 1;
			break;
		}
	}
	cur->close(cur);
	if (ret != 0 && ret != DB_NOTFOUND)
		return store_dberr(store, ret, "reading aliases.db");
	return found;
}

/* ---- a domain stored in U-labels before IDNA (domain.c) ---- */

/* The targets of source `from_key` moved to the same local part at `to`,
 * each in A-labels when it parses (an old one may hold U-labels). */
static int alias_key_move_txn(struct store *store, DB_TXN *txn, const char *from_key,
			      const char *to, alias_addr *targets, uint32_t *merged_r)
{
	const char *at = strrchr(from_key, '@');
	struct account_addr t;
	alias_addr to_key;

	if (snprintf(to_key, sizeof(to_key), "%.*s@%s", (int)(at - from_key), from_key, to) >=
	    (int)sizeof(to_key)) {
		store_err(store, "alias %s is too long with its domain in A-labels: delete it",
			  from_key);
		return 0;
	}
	int r = alias_targets_txn(store, txn, to_key, targets, 0, DB_RMW);
	if (r > 0)
		store_err(store, "aliases %s and %s are one address now: delete one of them first",
			  from_key, to_key);
	if (r != 0)
		return r < 0 ? r : 0;
	int n = alias_targets_txn(store, txn, from_key, targets, STORE_ALIAS_TARGETS_MAX, DB_RMW);
	for (int i = 0; i < n && i < STORE_ALIAS_TARGETS_MAX; i++) {
		const char *target = alias_target_parse(targets[i], &t, NULL) == 1 ? t.norm
										    : targets[i];
		if ((r = store_put(store, DBI_ALIASES, txn, to_key, strlen(to_key), target,
				   strlen(target), 0)) < 0)
			return r;
		if (r == 0) /* two old targets are one in A-labels */
			(*merged_r)++;
	}
	if (n < 0)
		return n;
	r = store_del(store, DBI_ALIASES, txn, from_key, strlen(from_key));
	return r < 0 ? r : 1;
}

int alias_domain_move_txn(struct store *store, DB_TXN *txn, const char *from, const char *to,
			  uint32_t *merged_r)
{
	alias_addr *targets = malloc(STORE_ALIAS_TARGETS_MAX * sizeof(*targets));
	char suffix[STORE_DOMAIN_MAX + 2];
	account_key *keys = NULL;
	size_t n = 0;

	if (targets == NULL)
		return store_err(store, "out of memory");
	snprintf(suffix, sizeof(suffix), "@%s", from);
	int r = account_keys_ending(store, txn, 0, suffix, &keys, &n);
	for (size_t i = 0; r == 1 && i < n; i++)
		r = alias_key_move_txn(store, txn, keys[i], to, targets, merged_r);
	free(keys);
	free(targets);
	return r;
}
