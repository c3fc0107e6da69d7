/* SEARCH and UID SEARCH (RFC 3501 6.4.4, ESEARCH RFC 4731, SEARCHRES RFC
 * 5182, CONDSTORE MODSEQ RFC 7162). The keys are parsed into a tree
 * (depth-limited), then evaluated per message: attributes from the message
 * record, headers and bodies only when a key needs them, read from the
 * store, RFC 2047 words and transfer encodings decoded, charsets converted,
 * and compared case-insensitively in UTF-8. */
#include <config.h>

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

#include "datetime.h"
#include "imap.h"
#include "log.h"
#include "mime.h"
#include "rfc2047.h"

/* Keys in one SEARCH, and their nesting (NOT and OR chains nest without
 * parentheses, so the parser's list depth is not enough). */
#define SEARCH_KEYS_MAX 2000
#define SEARCH_DEPTH_MAX 64
/* Header bytes read for header keys (the MIME parser's limit). */
#define SEARCH_HEADER_MAX (MIME_HEADER_MAX_DEFAULT + STORE_PREFIX_MAX)

enum skey_type {
	K_ALL, K_AND, K_OR, K_NOT, K_SET, K_FLAG, K_NOFLAG, K_KEYWORD, K_UNKEYWORD, K_NEW, K_OLD,
	K_RECENT, K_BEFORE, K_ON, K_SINCE, K_SENTBEFORE, K_SENTON, K_SENTSINCE, K_LARGER, K_SMALLER,
	K_HEADER, K_BODY, K_TEXT, K_MODSEQ, K_NONE,
};

struct skey {
	enum skey_type type;
	struct skey *child;      /* AND/OR/NOT */
	struct skey *next;
	uint32_t flag;
	uint64_t num;            /* dates (day number), sizes, modseq */
	const char *field;       /* HEADER field name */
	char *value;             /* case-folded UTF-8 needle */
	size_t value_len;
	uint32_t *uids;          /* K_SET */
	size_t nuids;
	const char *keyword;
};

struct search_ctx {
	struct imap_session *s;
	struct imap_cmd *cmd;
	struct skey *keys;
	size_t nkeys;
	bool modseq_used;
	bool failed;
	bool map_stale;          /* the sync before the search failed */
	/* results */
	uint32_t *hits;
	size_t nhits, hits_cap;
	uint64_t max_modseq;
	/* per-message content, loaded on demand */
	struct store_msg_reader *reader;
	struct mime_message *tree;
	char *header;            /* the top header block */
	size_t header_len;
	char *body;              /* the whole body (without the prefix) */
	size_t body_len;
	bool loaded, header_loaded, body_loaded;
};

/* --------------------------------------------------------- case folding */

static locale_t search_locale(void)
{
	static locale_t loc;
	static bool tried;

	if (!tried) {
		tried = true;
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return loc;
}

size_t imap_casefold_into(const char *in, size_t len, char *out)
{
	locale_t loc = search_locale();
	size_t w = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)in[i];
		uint32_t cp;
		size_t n;
		if (c < 0x80) {
			out[w++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			out[w++] = (char)c;
			i++;
			continue;
		}
		bool ok = i + n <= len;
		for (size_t k = 1; ok && k < n; k++) {
			if (((unsigned char)in[i + k] & 0xc0) != 0x80)
				ok = false;
			else
				cp = cp << 6 | ((unsigned char)in[i + k] & 0x3f);
		}
		if (!ok) {
			out[w++] = (char)c;
			i++;
			continue;
		}
		uint32_t lc = loc != (locale_t)0 ? (uint32_t)towlower_l((wint_t)cp, loc) : cp;
		if (lc < 0x80 || lc > 0x10ffff || (lc >= 0xd800 && lc <= 0xdfff))
			lc = cp;
		if (lc < 0x800) {
			out[w++] = (char)(0xc0 | lc >> 6);
			out[w++] = (char)(0x80 | (lc & 0x3f));
		} else if (lc < 0x10000) {
			out[w++] = (char)(0xe0 | lc >> 12);
			out[w++] = (char)(0x80 | (lc >> 6 & 0x3f));
			out[w++] = (char)(0x80 | (lc & 0x3f));
		} else {
			out[w++] = (char)(0xf0 | lc >> 18);
			out[w++] = (char)(0x80 | (lc >> 12 & 0x3f));
			out[w++] = (char)(0x80 | (lc >> 6 & 0x3f));
			out[w++] = (char)(0x80 | (lc & 0x3f));
		}
		i += n;
	}
	out[w] = '\0';
	return w;
}

char *imap_casefold(const char *in, size_t len, size_t *out_len)
{
	char *out = malloc(len * 2 + 1);

	if (out != NULL) {
		size_t n = imap_casefold_into(in, len, out);
		if (out_len != NULL)
			*out_len = n;
	}
	return out;
}

/* Does the case-folded needle occur in `text` (any case)? */
static bool text_contains(const char *text, size_t len, const struct skey *k)
{
	char stack[1024];
	size_t flen;

	if (k->value_len == 0)
		return true;
	if (len * 2 + 1 <= sizeof(stack)) {
		/* short texts (subjects, addresses): no allocation */
		flen = imap_casefold_into(text, len, stack);
		return memmem(stack, flen, k->value, k->value_len) != NULL;
	}
	char *folded = imap_casefold(text, len, &flen);
	if (folded == NULL)
		return false;
	bool found = memmem(folded, flen, k->value, k->value_len) != NULL;
	free(folded);
	return found;
}

/* ------------------------------------------------------------- parsing */

static struct skey *key_new(struct search_ctx *c, enum skey_type type)
{
	if (c->nkeys >= SEARCH_KEYS_MAX)
		return NULL;
	struct skey *k = &c->keys[c->nkeys++];
	memset(k, 0, sizeof(*k));
	k->type = type;
	return k;
}

static bool is_astring(const struct imap_arg *a)
{
	return imap_arg_is_string(a);
}

static int parse_date(const struct imap_arg *a, uint64_t *day_r)
{
	time_t t;

	if (!is_astring(a) || !datetime_parse_imap_date(a->str, a->len, &t))
		return 0;
	*day_r = (uint64_t)(t / 86400 + 1000000); /* offset keeps days before 1970 positive */
	return 1;
}

static int set_value(struct skey *k, const struct imap_arg *a)
{
	if (!is_astring(a))
		return 0;
	k->value = imap_casefold(a->str, a->len, &k->value_len);
	return k->value != NULL;
}

/* Parses one key at *a (advancing it). NULL on error (*error_r). */
static struct skey *parse_key(struct search_ctx *c, const struct imap_arg **ap, unsigned depth,
			      const char **error_r);

static struct skey *parse_list(struct search_ctx *c, const struct imap_arg *a, unsigned depth,
			       const char **error_r)
{
	struct skey *and = key_new(c, K_AND), *last = NULL;

	if (and == NULL) {
		*error_r = "Too many search keys";
		return NULL;
	}
	if (a == NULL) {
		*error_r = "Empty search key list";
		return NULL;
	}
	while (a != NULL) {
		struct skey *k = parse_key(c, &a, depth + 1, error_r);
		if (k == NULL)
			return NULL;
		if (last == NULL)
			and->child = k;
		else
			last->next = k;
		last = k;
	}
	return and;
}

static const struct {
	const char *name;
	enum skey_type type;
	uint32_t flag;
} simple_keys[] = {
	{ "ALL", K_ALL, 0 },
	{ "ANSWERED", K_FLAG, STORE_FLAG_ANSWERED },
	{ "DELETED", K_FLAG, STORE_FLAG_DELETED },
	{ "DRAFT", K_FLAG, STORE_FLAG_DRAFT },
	{ "FLAGGED", K_FLAG, STORE_FLAG_FLAGGED },
	{ "SEEN", K_FLAG, STORE_FLAG_SEEN },
	{ "UNANSWERED", K_NOFLAG, STORE_FLAG_ANSWERED },
	{ "UNDELETED", K_NOFLAG, STORE_FLAG_DELETED },
	{ "UNDRAFT", K_NOFLAG, STORE_FLAG_DRAFT },
	{ "UNFLAGGED", K_NOFLAG, STORE_FLAG_FLAGGED },
	{ "UNSEEN", K_NOFLAG, STORE_FLAG_SEEN },
	{ "NEW", K_NEW, 0 },
	{ "OLD", K_OLD, 0 },
	{ "RECENT", K_RECENT, 0 },
};

static const struct {
	const char *name;
	enum skey_type type;
} date_keys[] = {
	{ "BEFORE", K_BEFORE }, { "ON", K_ON }, { "SINCE", K_SINCE },
	{ "SENTBEFORE", K_SENTBEFORE }, { "SENTON", K_SENTON }, { "SENTSINCE", K_SENTSINCE },
};

static const char *const header_keys[] = { "FROM", "TO", "CC", "BCC", "SUBJECT" };

static struct skey *parse_key(struct search_ctx *c, const struct imap_arg **ap, unsigned depth,
			      const char **error_r)
{
	const struct imap_arg *a = *ap;
	struct skey *k;

	if (depth > SEARCH_DEPTH_MAX) {
		*error_r = "Search keys nested too deeply";
		return NULL;
	}
	if (a == NULL) {
		*error_r = "Missing search key";
		return NULL;
	}
	*ap = a->next;
	if (a->type == IMAP_ARG_LIST)
		return parse_list(c, a->child, depth, error_r);
	if (a->type != IMAP_ARG_ATOM) {
		*error_r = "Invalid search key";
		return NULL;
	}
	*error_r = "Too many search keys";
	for (size_t i = 0; i < sizeof(simple_keys) / sizeof(simple_keys[0]); i++) {
		if (imap_arg_atom_is(a, simple_keys[i].name)) {
			if ((k = key_new(c, simple_keys[i].type)) != NULL)
				k->flag = simple_keys[i].flag;
			return k;
		}
	}
	for (size_t i = 0; i < sizeof(date_keys) / sizeof(date_keys[0]); i++) {
		if (imap_arg_atom_is(a, date_keys[i].name)) {
			if ((k = key_new(c, date_keys[i].type)) == NULL)
				return NULL;
			if (!parse_date(*ap, &k->num)) {
				*error_r = "Invalid search date";
				return NULL;
			}
			*ap = (*ap)->next;
			return k;
		}
	}
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++) {
		if (imap_arg_atom_is(a, header_keys[i])) {
			if ((k = key_new(c, K_HEADER)) == NULL)
				return NULL;
			k->field = header_keys[i];
			if (!set_value(k, *ap)) {
				*error_r = "Missing search string";
				return NULL;
			}
			*ap = (*ap)->next;
			return k;
		}
	}
	if (imap_arg_atom_is(a, "HEADER")) {
		const struct imap_arg *f = *ap;
		if ((k = key_new(c, K_HEADER)) == NULL)
			return NULL;
		if (!is_astring(f) || f->len == 0 || f->next == NULL || !set_value(k, f->next)) {
			*error_r = "HEADER needs a field name and a string";
			return NULL;
		}
		k->field = f->str;
		*ap = f->next->next;
		return k;
	}
	if (imap_arg_atom_is(a, "BODY") || imap_arg_atom_is(a, "TEXT")) {
		if ((k = key_new(c, imap_arg_atom_is(a, "BODY") ? K_BODY : K_TEXT)) == NULL)
			return NULL;
		if (!set_value(k, *ap)) {
			*error_r = "Missing search string";
			return NULL;
		}
		*ap = (*ap)->next;
		return k;
	}
	if (imap_arg_atom_is(a, "KEYWORD") || imap_arg_atom_is(a, "UNKEYWORD")) {
		if ((k = key_new(c, imap_arg_atom_is(a, "KEYWORD") ? K_KEYWORD : K_UNKEYWORD)) == NULL)
			return NULL;
		const struct imap_arg *f = *ap;
		uint32_t fl;
		const char *kw[1];
		size_t nk;
		const char *err = NULL;
		if (f == NULL || f->type != IMAP_ARG_ATOM || !imap_flags_parse(f, &fl, kw, &nk, &err)) {
			*error_r = "Invalid keyword";
			return NULL;
		}
		/* $Forwarded & co are system bits in the store */
		if (fl != 0) {
			k->type = k->type == K_KEYWORD ? K_FLAG : K_NOFLAG;
			k->flag = fl;
		} else {
			k->keyword = nk > 0 ? kw[0] : NULL;
		}
		*ap = f->next;
		return k;
	}
	if (imap_arg_atom_is(a, "LARGER") || imap_arg_atom_is(a, "SMALLER")) {
		if ((k = key_new(c, imap_arg_atom_is(a, "LARGER") ? K_LARGER : K_SMALLER)) == NULL)
			return NULL;
		const struct imap_arg *nn = *ap;
		if (nn == NULL || nn->type != IMAP_ARG_ATOM ||
		    !imap_parse_number(nn->str, nn->len, UINT64_MAX / 2, &k->num)) {
			*error_r = "Invalid size";
			return NULL;
		}
		*ap = nn->next;
		return k;
	}
	if (imap_arg_atom_is(a, "NOT")) {
		if ((k = key_new(c, K_NOT)) == NULL)
			return NULL;
		k->child = parse_key(c, ap, depth + 1, error_r);
		return k->child != NULL ? k : NULL;
	}
	if (imap_arg_atom_is(a, "OR")) {
		if ((k = key_new(c, K_OR)) == NULL)
			return NULL;
		k->child = parse_key(c, ap, depth + 1, error_r);
		if (k->child == NULL)
			return NULL;
		k->child->next = parse_key(c, ap, depth + 1, error_r);
		return k->child->next != NULL ? k : NULL;
	}
	if (imap_arg_atom_is(a, "MODSEQ")) {
		if ((k = key_new(c, K_MODSEQ)) == NULL)
			return NULL;
		const struct imap_arg *nn = *ap;
		if (nn != NULL && nn->type == IMAP_ARG_QUOTED) {
			/* entry name and type: only the per-message value is kept */
			if (nn->next == NULL || nn->next->type != IMAP_ARG_ATOM) {
				*error_r = "Invalid MODSEQ entry";
				return NULL;
			}
			nn = nn->next->next;
		}
		if (nn == NULL || nn->type != IMAP_ARG_ATOM ||
		    !imap_parse_number(nn->str, nn->len, INT64_MAX, &k->num)) {
			*error_r = "Invalid MODSEQ value";
			return NULL;
		}
		c->modseq_used = true;
		imap_condstore_enable(c->s);
		*ap = nn->next;
		return k;
	}
	bool uid = imap_arg_atom_is(a, "UID");
	const struct imap_arg *set = a;
	if (uid) {
		set = *ap;
		if (set == NULL || set->type != IMAP_ARG_ATOM) {
			*error_r = "UID needs a set";
			return NULL;
		}
		*ap = set->next;
	}
	bool saved = imap_set_is_saved(set->str, set->len);
	if ((set->str[0] >= '0' && set->str[0] <= '9') || set->str[0] == '*' || saved) {
		if ((k = key_new(c, K_SET)) == NULL)
			return NULL;
		if (!uid && !saved && c->s->view->loaded && c->s->view->count == 0) {
			/* nothing to number in an empty mailbox: matches nothing */
			struct imap_seqset ss;
			if (imap_seqset_parse(set->str, set->len, &ss) != 1) {
				*error_r = "Invalid sequence set";
				return NULL;
			}
			imap_seqset_free(&ss);
			return k;
		}
		int r = imap_view_resolve(c->s, c->cmd, set->str, set->len, uid, &k->uids, &k->nuids);
		if (r <= 0) {
			*error_r = NULL; /* answered */
			return NULL;
		}
		return k;
	}
	*error_r = "Unknown search key";
	return NULL;
}

static void keys_free(struct search_ctx *c)
{
	for (size_t i = 0; i < c->nkeys; i++) {
		free(c->keys[i].value);
		free(c->keys[i].uids);
	}
}

/* ------------------------------------------------------------ content */

static void content_free(struct search_ctx *c)
{
	mime_message_free(&c->tree);
	store_msg_close(&c->reader);
	free(c->header);
	free(c->body);
	c->header = c->body = NULL;
	c->loaded = c->header_loaded = c->body_loaded = false;
}

/* 1 open, 0 expunged meanwhile, -1 error. */
static int content_open(struct search_ctx *c, const struct store_msg *msg)
{
	const char *error = NULL;

	if (c->loaded)
		return c->reader != NULL ? 1 : 0;
	c->loaded = true;
	int r = store_msg_open(c->s->store, msg, &c->reader, &error);
	if (r <= 0) {
		if (r < 0)
			log_error("search user=<%s> uid=%u: %s", c->s->user.address, msg->uid, error);
		return r;
	}
	size_t blen;
	const void *blob = store_msg_mime_cache(c->reader, &blen);
	if (blob == NULL || blen == 0 || mime_cache_decode(blob, blen, &c->tree, &error) != 1)
		c->tree = NULL;
	return 1;
}

static int content_header(struct search_ctx *c, const struct store_msg *msg)
{
	if (c->header_loaded)
		return c->header != NULL;
	c->header_loaded = true;
	if (content_open(c, msg) <= 0 || c->tree == NULL)
		return 0;
	uint64_t len = store_msg_prefix_len(c->reader) + c->tree->root->header_offset +
		       c->tree->root->header_len;
	if (len > SEARCH_HEADER_MAX)
		len = SEARCH_HEADER_MAX;
	c->header = malloc(len + 1);
	if (c->header == NULL)
		return 0;
	ssize_t n = store_msg_read(c->reader, 0, c->header, (size_t)len);
	c->header_len = n > 0 ? (size_t)n : 0;
	c->header[c->header_len] = '\0';
	return 1;
}

static int content_body(struct search_ctx *c, const struct store_msg *msg)
{
	if (c->body_loaded)
		return c->body != NULL;
	c->body_loaded = true;
	if (content_open(c, msg) <= 0 || c->tree == NULL)
		return 0;
	uint64_t prefix = store_msg_prefix_len(c->reader);
	uint64_t len = store_msg_reader_size(c->reader) - prefix;
	if (len != c->tree->size)
		return 0;
	c->body = malloc(len + 1);
	if (c->body == NULL)
		return 0;
	size_t got = 0;
	while (got < len) {
		ssize_t n = store_msg_read(c->reader, prefix + got, c->body + got, (size_t)len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != len) {
		free(c->body);
		c->body = NULL;
		return 0;
	}
	c->body_len = len;
	return 1;
}

/* Whether a header field's decoded value (of the fields named `field`, or
 * of every field when NULL) holds the string. */
static bool fields_contain(const char *header, size_t len, const struct skey *k,
			   const char *field)
{
	struct mime_header_field f;
	size_t pos = 0;
	size_t flen = field != NULL ? strlen(field) : 0;

	while (mime_header_next(header, len, &pos, &f) == 1) {
		if (field != NULL && (f.name_len != flen || strncasecmp(f.name, field, flen) != 0))
			continue;
		char *dec = NULL;
		size_t dlen = 0;
		if (rfc2047_decode(f.value, f.value_len, &dec, &dlen) < 0)
			continue;
		bool hit = text_contains(dec, dlen, k);
		free(dec);
		if (hit)
			return true;
	}
	return false;
}

static bool match_header(struct search_ctx *c, const struct store_msg *msg, const struct skey *k,
			 const char *field)
{
	return content_header(c, msg) && fields_contain(c->header, c->header_len, k, field);
}

static bool match_body(struct search_ctx *c, const struct store_msg *msg, const struct skey *k)
{
	if (!content_body(c, msg))
		return false;
	for (uint32_t i = 0; i < c->tree->nparts; i++) {
		const struct mime_part *p = c->tree->parts[i];
		/* An attached message's header is part of this message's body:
		 * forwarded mail is found by its subject and sender. For TEXT
		 * every part's MIME header is too (an attachment's file name),
		 * as in Dovecot; BODY skips those. */
		if (p->parent != NULL && (mime_part_is_message(p) || k->type == K_TEXT) &&
		    p->header_offset <= c->body_len &&
		    p->header_len <= c->body_len - p->header_offset &&
		    fields_contain(c->body + p->header_offset, (size_t)p->header_len, k, NULL))
			return true;
		if (mime_part_is_multipart(p) || mime_part_message(p) != NULL ||
		    strcmp(p->type, "text") != 0)
			continue;
		char *dec = NULL;
		size_t dlen = 0;
		const char *error;
		if (mime_part_body_decode(p, c->body, c->body_len, MIME_DECODE_UTF8, &dec, &dlen,
					  &error) != 1) {
			free(dec);
			continue;
		}
		bool hit = text_contains(dec, dlen, k);
		free(dec);
		if (hit)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ evaluation */

static bool uid_in(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && uids[lo] == uid;
}

static uint64_t day_of(int64_t t, int32_t tz_minutes)
{
	int64_t local = t + (int64_t)tz_minutes * 60;
	int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;

	return (uint64_t)(day + 1000000);
}

static bool eval(struct search_ctx *c, const struct skey *k, const struct store_msg *m)
{
	struct imap_view *v = c->s->view;

	switch (k->type) {
	case K_ALL:
		return true;
	case K_NONE:
		return false;
	case K_AND:
		/* cheap keys first: attributes, then content */
		for (int pass = 0; pass < 2; pass++) {
			for (const struct skey *x = k->child; x != NULL; x = x->next) {
				bool content = x->type == K_HEADER || x->type == K_BODY ||
					       x->type == K_TEXT || x->type == K_AND ||
					       x->type == K_OR || x->type == K_NOT;
				if (content != (pass == 1))
					continue;
				if (!eval(c, x, m))
					return false;
			}
		}
		return true;
	case K_OR:
		return eval(c, k->child, m) || eval(c, k->child->next, m);
	case K_NOT:
		return !eval(c, k->child, m);
	case K_SET:
		return uid_in(k->uids, k->nuids, m->uid);
	case K_FLAG:
		return (m->flags & k->flag) != 0;
	case K_NOFLAG:
		return (m->flags & k->flag) == 0;
	case K_KEYWORD:
	case K_UNKEYWORD: {
		bool has = false;
		for (unsigned id = 0; k->keyword != NULL && id < STORE_KEYWORDS_MAX; id++) {
			if (!(m->keywords & (1ULL << id)))
				continue;
			const char *name = imap_view_keyword(c->s, id);
			if (name != NULL && strcasecmp(name, k->keyword) == 0)
				has = true;
		}
		return k->type == K_KEYWORD ? has : !has;
	}
	case K_NEW:
		return imap_view_is_recent(v, m->uid) && !(m->flags & STORE_FLAG_SEEN);
	case K_OLD:
		return !imap_view_is_recent(v, m->uid);
	case K_RECENT:
		return imap_view_is_recent(v, m->uid);
	case K_BEFORE:
		return day_of(m->internaldate, m->internaldate_tz) < k->num;
	case K_ON:
		return day_of(m->internaldate, m->internaldate_tz) == k->num;
	case K_SINCE:
		return day_of(m->internaldate, m->internaldate_tz) >= k->num;
	case K_SENTBEFORE:
		return day_of(m->sent_date, m->sent_date_tz) < k->num;
	case K_SENTON:
		return day_of(m->sent_date, m->sent_date_tz) == k->num;
	case K_SENTSINCE:
		return day_of(m->sent_date, m->sent_date_tz) >= k->num;
	case K_LARGER:
		return m->size > k->num;
	case K_SMALLER:
		return m->size < k->num;
	case K_MODSEQ:
		return m->modseq >= k->num;
	case K_HEADER:
		/* the decoded subject kept in the record, when it is whole */
		if (strcmp(k->field, "SUBJECT") == 0 && !IMAP_RECORD_CUT(m->subject))
			return text_contains(m->subject, strlen(m->subject), k);
		return match_header(c, m, k, k->field);
	case K_BODY:
		return match_body(c, m, k);
	case K_TEXT:
		return match_header(c, m, k, NULL) || match_body(c, m, k);
	}
	return false;
}

static int search_cb(struct imap_session *s, const struct store_msg *msg, void *ctx)
{
	struct search_ctx *c = ctx;
	bool hit = eval(c, &c->keys[0], msg);

	(void)s;
	content_free(c);
	if (!hit)
		return 0;
	if (c->nhits == c->hits_cap) {
		size_t cap = c->hits_cap ? c->hits_cap * 2 : 256;
		uint32_t *p = reallocarray(c->hits, cap, sizeof(uint32_t));
		if (p == NULL) {
			c->failed = true;
			return 1;
		}
		c->hits = p;
		c->hits_cap = cap;
	}
	c->hits[c->nhits++] = msg->uid;
	if (msg->modseq > c->max_modseq)
		c->max_modseq = msg->modseq;
	return 0;
}

/* Whether a key can be decided from the map alone (UID, flags, keywords). */
static bool key_from_map(const struct skey *k)
{
	switch (k->type) {
	case K_ALL: case K_NONE: case K_SET: case K_FLAG: case K_NOFLAG: case K_KEYWORD:
	case K_UNKEYWORD: case K_NEW: case K_OLD: case K_RECENT:
		return true;
	case K_AND: case K_OR: case K_NOT:
		for (const struct skey *x = k->child; x != NULL; x = x->next)
			if (!key_from_map(x))
				return false;
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------ the command */

enum { RET_MIN = 1, RET_MAX = 2, RET_COUNT = 4, RET_ALL = 8, RET_SAVE = 16 };

static void write_set(struct imap_session *s, const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		if (j == i)
			imap_printf(s, "%s%u", i ? "," : "", v[i]);
		else
			imap_printf(s, "%s%u:%u", i ? "," : "", v[i], v[j]);
		i = j + 1;
	}
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Keeps a SEARCH result (UIDs, ascending) for "$": all of it, or with MIN
 * or MAX but neither ALL nor COUNT only those (RFC 5182 2.4). 0, or -1
 * out of memory. */
static int search_save(struct imap_view *v, const uint32_t *hits, size_t n, unsigned ret_opts)
{
	uint32_t *saved = NULL;
	size_t k = 0;

	if (n > 0 && (saved = malloc(n * sizeof(uint32_t))) == NULL)
		return -1;
	if ((ret_opts & (RET_ALL | RET_COUNT)) || !(ret_opts & (RET_MIN | RET_MAX))) {
		if (n > 0)
			memcpy(saved, hits, n * sizeof(uint32_t));
		k = n;
	} else if (n > 0) {
		if (ret_opts & RET_MIN)
			saved[k++] = hits[0];
		if ((ret_opts & RET_MAX) && (k == 0 || hits[n - 1] != saved[0]))
			saved[k++] = hits[n - 1];
	}
	free(v->saved);
	v->saved = saved;
	v->nsaved = k;
	return 0;
}

/* CHARSET's name, for SEARCH, SORT and THREAD: 1 accepted, 0 answered. */
int imap_search_charset(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *a)
{
	if (!imap_arg_is_string(a)) {
		imap_bad(s, cmd, "Missing charset name");
		return 0;
	}
	if (strcasecmp(a->str, "UTF-8") != 0 && strcasecmp(a->str, "US-ASCII") != 0) {
		imap_no(s, cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return 0;
	}
	return 1;
}

int imap_search_run(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *a,
		    struct imap_search_result *result)
{
	struct search_ctx *c = calloc(1, sizeof(*c));
	const char *error = NULL;
	size_t missing;
	int ret = 0;

	memset(result, 0, sizeof(*result));
	if (c == NULL || (c->keys = calloc(SEARCH_KEYS_MAX, sizeof(struct skey))) == NULL) {
		free(c);
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return 0;
	}
	c->s = s;
	c->cmd = cmd;
	if (a == NULL) {
		imap_bad(s, cmd, "Missing search keys");
		goto out;
	}
	if (imap_view_load(s, &error) < 0) {
		imap_store_error(s, cmd, error);
		goto out;
	}
	/* flags in the map brought up to date (no expunges: sequence numbers
	 * stay), before any set is resolved against it */
	c->map_stale = imap_view_sync(s, false) < 0;
	if (s->state == IMAP_STATE_LOGOUT)
		goto out;   /* the mailbox went (BYE sent): nothing after it */
	if (parse_list(c, a, 0, &error) == NULL) {
		if (error != NULL)
			imap_bad(s, cmd, error);
		goto out;
	}
	/* candidates: a top-level set narrows the walk */
	const uint32_t *cand = s->view->uids;
	size_t ncand = s->view->count;
	for (const struct skey *k = c->keys[0].child; k != NULL; k = k->next) {
		if (k->type == K_SET && k->nuids < ncand) {
			cand = k->uids;
			ncand = k->nuids;
		}
	}
	if (key_from_map(&c->keys[0]) && !c->map_stale) {
		/* flags and sets only: from the map, no store read */
		struct store_msg *m = calloc(1, sizeof(*m));
		struct imap_view *v = s->view;
		for (size_t i = 0; m != NULL && i < ncand && !c->failed; i++) {
			uint32_t seq = cand == v->uids ? (uint32_t)i + 1 : imap_view_seq(v, cand[i]);
			if (seq == 0 || (v->ngone > 0 && imap_view_is_gone(v, cand[i])))
				continue;
			m->uid = cand[i];
			m->flags = v->flags[seq - 1];
			m->keywords = v->kws[seq - 1];
			search_cb(s, m, c);
		}
		if (m == NULL)
			c->failed = true;
		free(m);
	} else if (ncand > 0 && imap_view_each(s, cand, ncand, search_cb, c, &missing, &error) < 0) {
		content_free(c);
		imap_store_error(s, cmd, error);
		goto out;
	}
	content_free(c);
	if (c->failed) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		goto out;
	}
	result->uids = c->hits;
	result->n = c->nhits;
	result->modseq_used = c->modseq_used;
	result->max_modseq = c->max_modseq;
	c->hits = NULL;
	ret = 1;
out:
	keys_free(c);
	free(c->keys);
	free(c->hits);
	free(c);
	return ret;
}

int imap_cmd_search(struct imap_session *s, struct imap_cmd *cmd)
{
	const struct imap_arg *a = cmd->args;
	struct imap_search_result r = { 0 };
	unsigned ret_opts = 0;
	bool esearch = s->rev2, done = false;

	if (imap_arg_atom_is(a, "RETURN")) {
		a = a->next;
		if (a == NULL || a->type != IMAP_ARG_LIST) {
			imap_bad(s, cmd, "RETURN needs a list");
			goto out;
		}
		esearch = true;
		for (const struct imap_arg *o = a->child; o != NULL; o = o->next) {
			if (imap_arg_atom_is(o, "MIN"))
				ret_opts |= RET_MIN;
			else if (imap_arg_atom_is(o, "MAX"))
				ret_opts |= RET_MAX;
			else if (imap_arg_atom_is(o, "COUNT"))
				ret_opts |= RET_COUNT;
			else if (imap_arg_atom_is(o, "ALL"))
				ret_opts |= RET_ALL;
			else if (imap_arg_atom_is(o, "SAVE"))
				ret_opts |= RET_SAVE;
			else {
				imap_bad(s, cmd, "Unknown RETURN option");
				goto out;
			}
		}
		a = a->next;
	}
	if (esearch && ret_opts == 0)
		ret_opts = RET_ALL;
	if (imap_arg_atom_is(a, "CHARSET")) {
		if (s->utf8_accept) {
			/* RFC 6855 3: the client MUST NOT, the server SHOULD
			 * answer BAD (the charsets would conflict) */
			imap_bad(s, cmd, "No CHARSET after ENABLE UTF8=ACCEPT");
			goto out;
		}
		a = a->next;
		if (!imap_search_charset(s, cmd, a))
			goto out;
		a = a->next;
	}
	if (!imap_search_run(s, cmd, a, &r))
		goto out;
	if ((ret_opts & RET_SAVE) && search_save(s->view, r.uids, r.n, ret_opts) < 0) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		goto out;
	}
	if (!cmd->uid) {
		for (size_t i = 0; i < r.n; i++)
			r.uids[i] = imap_view_seq(s->view, r.uids[i]);
		if (r.n > 1)
			qsort(r.uids, r.n, sizeof(uint32_t), uid_cmp);
	}
	if (!esearch) {
		imap_puts(s, "* SEARCH");
		for (size_t i = 0; i < r.n; i++)
			imap_printf(s, " %u", r.uids[i]);
		if (r.modseq_used && r.n > 0)
			imap_printf(s, " (MODSEQ %llu)", (unsigned long long)r.max_modseq);
		imap_puts(s, "\r\n");
	} else if (ret_opts != RET_SAVE) {
		/* SAVE alone answers with nothing but the OK (RFC 5182 2.4) */
		imap_puts(s, "* ESEARCH (TAG ");
		imap_write_string(s, cmd->tag, strlen(cmd->tag));
		imap_puts(s, ")");
		if (cmd->uid)
			imap_puts(s, " UID");
		if (r.n > 0 && (ret_opts & RET_MIN))
			imap_printf(s, " MIN %u", r.uids[0]);
		if (r.n > 0 && (ret_opts & RET_MAX))
			imap_printf(s, " MAX %u", r.uids[r.n - 1]);
		if (ret_opts & RET_COUNT)
			imap_printf(s, " COUNT %zu", r.n);
		if (r.n > 0 && (ret_opts & RET_ALL)) {
			imap_puts(s, " ALL ");
			write_set(s, r.uids, r.n);
		}
		if (r.modseq_used && r.n > 0)
			imap_printf(s, " MODSEQ %llu", (unsigned long long)r.max_modseq);
		imap_puts(s, "\r\n");
	}
	imap_ok(s, cmd, "Search completed");
	done = true;
out:
	if ((ret_opts & RET_SAVE) && !done && s->view != NULL) {
		/* a failed SEARCH ... SAVE leaves "$" empty (RFC 5182 2.1) */
		free(s->view->saved);
		s->view->saved = NULL;
		s->view->nsaved = 0;
	}
	free(r.uids);
	return 0;
}
