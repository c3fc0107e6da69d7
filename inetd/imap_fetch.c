/* FETCH and UID FETCH (RFC 3501 6.4.5, BINARY RFC 3516, CONDSTORE and the
 * QRESYNC VANISHED modifier RFC 7162).
 *
 * Message attributes come from the message record; structure (ENVELOPE,
 * BODY, BODYSTRUCTURE, section offsets) from the MIME cache built at
 * delivery; content is streamed from the store by byte range, so a 50 MB
 * body never sits in memory (HEADER.FIELDS reads one header block). */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "datetime.h"
#include "imap.h"
#include "imap_fetch.h"
#include "log.h"
#include "mime.h"

/* Items in one FETCH (each BODY[...] counts one): far above what clients
 * send, small enough for a fixed array. */
#define FETCH_ITEMS_MAX 64
/* Header names in one HEADER.FIELDS list. */
#define FETCH_FIELDS_MAX 100
/* A header block read for HEADER.FIELDS: the MIME parser's header limit
 * plus the per-copy prefix. */
#define FETCH_HEADER_READ_MAX (MIME_HEADER_MAX_DEFAULT + STORE_PREFIX_MAX)
/* Longest section part number kept ("1.2.3..."). */
#define FETCH_PART_MAX 512

enum fetch_kind {
	F_FLAGS, F_INTERNALDATE, F_RFC822_SIZE, F_ENVELOPE, F_BODY, F_BODYSTRUCTURE, F_UID,
	F_MODSEQ, F_RFC822, F_RFC822_HEADER, F_RFC822_TEXT, F_SECTION, F_BINARY, F_BINARY_SIZE,
};

enum sec_text { SEC_ALL, SEC_HEADER, SEC_FIELDS, SEC_FIELDS_NOT, SEC_TEXT, SEC_MIME };

struct fetch_item {
	enum fetch_kind kind;
	bool peek;
	char part[FETCH_PART_MAX];
	enum sec_text text;
	char *fieldbuf;                 /* the names, NUL-separated */
	const char *fields[FETCH_FIELDS_MAX];
	size_t nfields;
	bool partial;
	uint64_t origin, length;
	char *label;                    /* "BODY[...]" as answered (malloc'd) */
};

struct fetch_ctx {
	struct fetch_item items[FETCH_ITEMS_MAX];
	size_t n;
	/* need_bytes: an item sends bytes of the message, not only what its
	 * MIME structure says */
	bool need_open, need_tree, need_bytes, sets_seen, want_uid, want_modseq, want_flags;
	uint64_t changedsince;
	bool has_changedsince, vanished;
	bool failed;          /* a message could not be read: NO at the end */
	bool unknown_cte;     /* BINARY of a part in an encoding we cannot undo */
	bool closed;          /* the connection must close (a literal cut short) */
};

static void fetch_ctx_free(struct fetch_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].fieldbuf);
		free(c->items[i].label);
	}
}

/* ------------------------------------------------------------- parsing */

static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* "(FROM TO \"X-Y\")" after HEADER.FIELDS: the names. */
static int parse_fields(struct fetch_item *it, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	if (i >= len || s[i] != '(' || s[len - 1] != ')')
		return 0;
	it->fieldbuf = malloc(len + 1);
	if (it->fieldbuf == NULL)
		return 0;
	size_t w = 0;
	i++;
	len--;
	while (i < len) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		if (it->nfields >= FETCH_FIELDS_MAX)
			return 0;
		bool quoted = s[i] == '"';
		if (quoted)
			i++;
		size_t start = w;
		while (i < len && (quoted ? s[i] != '"' : s[i] != ' ')) {
			unsigned char c = (unsigned char)s[i];
			if (c <= ' ' || c >= 0x7f || c == ':' || c == '(' || c == ')')
				return 0;
			it->fieldbuf[w++] = s[i++];
		}
		if (quoted) {
			if (i >= len)
				return 0;
			i++;
		}
		if (w == start)
			return 0;
		it->fieldbuf[w++] = '\0';
		it->fields[it->nfields++] = it->fieldbuf + start;
	}
	return it->nfields > 0;
}

/* The section spec between the brackets. */
static int parse_section(struct fetch_item *it, const char *s, size_t len, bool binary)
{
	size_t i = 0, w = 0;

	/* part numbers: nz-number *("." nz-number) */
	while (i < len && isdigit((unsigned char)s[i])) {
		if (s[i] == '0')
			return 0;
		while (i < len && isdigit((unsigned char)s[i])) {
			if (w + 2 >= sizeof(it->part))
				return 0;
			it->part[w++] = s[i++];
		}
		if (i < len && s[i] == '.') {
			i++;
			if (i < len && isdigit((unsigned char)s[i])) {
				it->part[w++] = '.';
				continue;
			}
			if (i >= len)
				return 0;
			break; /* ".HEADER" etc. */
		}
		if (i < len)
			return 0;
	}
	it->part[w] = '\0';
	const char *t = s + i;
	size_t tl = len - i;
	if (tl == 0) {
		it->text = SEC_ALL;
		return 1;
	}
	if (binary)
		return 0;
	if (word_is(t, tl, "HEADER")) {
		it->text = SEC_HEADER;
	} else if (word_is(t, tl, "TEXT")) {
		it->text = SEC_TEXT;
	} else if (word_is(t, tl, "MIME")) {
		if (w == 0)
			return 0;
		it->text = SEC_MIME;
	} else if (tl > 17 && strncasecmp(t, "HEADER.FIELDS.NOT", 17) == 0 && t[17] == ' ') {
		it->text = SEC_FIELDS_NOT;
		return parse_fields(it, t + 17, tl - 17);
	} else if (tl > 13 && strncasecmp(t, "HEADER.FIELDS", 13) == 0 && t[13] == ' ') {
		it->text = SEC_FIELDS;
		return parse_fields(it, t + 13, tl - 13);
	} else {
		return 0;
	}
	return 1;
}

/* "<origin.length>" */
static int parse_partial(struct fetch_item *it, const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);

	if (len < 5 || s[0] != '<' || s[len - 1] != '>' || dot == NULL)
		return 0;
	if (!imap_parse_number(s + 1, (size_t)(dot - s - 1), UINT32_MAX, &it->origin) ||
	    !imap_parse_number(dot + 1, (size_t)(s + len - 1 - dot - 1), UINT32_MAX, &it->length) ||
	    it->length == 0)
		return 0;
	it->partial = true;
	return 1;
}

static int add_simple(struct fetch_ctx *c, enum fetch_kind kind)
{
	if (c->n >= FETCH_ITEMS_MAX)
		return 0;
	memset(&c->items[c->n], 0, sizeof(c->items[0]));
	c->items[c->n++].kind = kind;
	switch (kind) {
	case F_UID:
		c->want_uid = true;
		break;
	case F_MODSEQ:
		c->want_modseq = true;
		break;
	case F_FLAGS:
		c->want_flags = true;
		break;
	case F_ENVELOPE:
	case F_BODY:
	case F_BODYSTRUCTURE:
		c->need_open = c->need_tree = true;
		break;
	case F_RFC822:
	case F_RFC822_TEXT:
		c->need_open = c->need_tree = c->need_bytes = c->sets_seen = true;
		break;
	case F_RFC822_HEADER:
		c->need_open = c->need_tree = c->need_bytes = true;
		break;
	default:
		break;
	}
	return 1;
}

static int parse_item(struct fetch_ctx *c, const char *s, size_t len)
{
	static const struct {
		const char *name;
		enum fetch_kind kind;
	} simple[] = {
		{ "FLAGS", F_FLAGS }, { "INTERNALDATE", F_INTERNALDATE },
		{ "RFC822.SIZE", F_RFC822_SIZE }, { "ENVELOPE", F_ENVELOPE }, { "BODY", F_BODY },
		{ "BODYSTRUCTURE", F_BODYSTRUCTURE }, { "UID", F_UID }, { "MODSEQ", F_MODSEQ },
		{ "RFC822", F_RFC822 }, { "RFC822.HEADER", F_RFC822_HEADER },
		{ "RFC822.TEXT", F_RFC822_TEXT },
	};
	const char *br = memchr(s, '[', len);

	if (br == NULL) {
		for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
			if (word_is(s, len, simple[i].name))
				return add_simple(c, simple[i].kind);
		return 0;
	}
	const char *close = memchr(br, ']', len - (size_t)(br - s));
	if (close == NULL || c->n >= FETCH_ITEMS_MAX)
		return 0;
	struct fetch_item *it = &c->items[c->n];
	memset(it, 0, sizeof(*it));
	size_t nlen = (size_t)(br - s);
	bool binary = false;
	if (word_is(s, nlen, "BODY")) {
		it->kind = F_SECTION;
	} else if (word_is(s, nlen, "BODY.PEEK")) {
		it->kind = F_SECTION;
		it->peek = true;
	} else if (word_is(s, nlen, "BINARY")) {
		it->kind = F_BINARY;
		binary = true;
	} else if (word_is(s, nlen, "BINARY.PEEK")) {
		it->kind = F_BINARY;
		it->peek = binary = true;
	} else if (word_is(s, nlen, "BINARY.SIZE")) {
		it->kind = F_BINARY_SIZE;
		it->peek = binary = true;
	} else {
		return 0;
	}
	c->n++; /* owned now: freed with the context */
	if (!parse_section(it, br + 1, (size_t)(close - br - 1), binary))
		return 0;
	size_t rest = len - (size_t)(close + 1 - s);
	if (rest > 0 && (it->kind == F_BINARY_SIZE || !parse_partial(it, close + 1, rest)))
		return 0;
	/* The label: the name without .PEEK, the section as given, the origin. */
	const char *base = it->kind == F_SECTION ? "BODY" : it->kind == F_BINARY ? "BINARY"
										 : "BINARY.SIZE";
	size_t sec = (size_t)(close - br + 1);
	it->label = malloc(strlen(base) + sec + 24);
	if (it->label == NULL)
		return 0;
	size_t w = (size_t)sprintf(it->label, "%s", base);
	for (size_t i = 0; i < sec; i++)
		it->label[w++] = (char)toupper((unsigned char)br[i]);
	it->label[w] = '\0';
	/* header names as the client wrote them (case kept) */
	if (it->text == SEC_FIELDS || it->text == SEC_FIELDS_NOT) {
		const char *open = memchr(br, '(', sec);
		if (open != NULL)
			memcpy(it->label + strlen(base) + (size_t)(open - br), open,
			       (size_t)(close - open));
	}
	if (it->partial)
		sprintf(it->label + w, "<%llu>", (unsigned long long)it->origin);
	c->need_open = c->need_bytes = true;
	if (!(it->text == SEC_ALL && it->part[0] == '\0' && it->kind != F_BINARY_SIZE))
		c->need_tree = true;
	if (!it->peek)
		c->sets_seen = true;
	return 1;
}

/* 1 ok, 0 bad (BAD sent). */
static int fetch_parse(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *items,
		       const struct imap_arg *mods, struct fetch_ctx *c)
{
	if (items->type == IMAP_ARG_ATOM && word_is(items->str, items->len, "ALL")) {
		add_simple(c, F_FLAGS);
		add_simple(c, F_INTERNALDATE);
		add_simple(c, F_RFC822_SIZE);
		add_simple(c, F_ENVELOPE);
	} else if (items->type == IMAP_ARG_ATOM && word_is(items->str, items->len, "FAST")) {
		add_simple(c, F_FLAGS);
		add_simple(c, F_INTERNALDATE);
		add_simple(c, F_RFC822_SIZE);
	} else if (items->type == IMAP_ARG_ATOM && word_is(items->str, items->len, "FULL")) {
		add_simple(c, F_FLAGS);
		add_simple(c, F_INTERNALDATE);
		add_simple(c, F_RFC822_SIZE);
		add_simple(c, F_ENVELOPE);
		add_simple(c, F_BODY);
	} else {
		const struct imap_arg *a = items->type == IMAP_ARG_LIST ? items->child : items;
		if (a == NULL) {
			imap_bad(s, cmd, "Empty FETCH item list");
			return 0;
		}
		for (; a != NULL; a = items->type == IMAP_ARG_LIST ? a->next : NULL) {
			if (a->type != IMAP_ARG_ATOM || !parse_item(c, a->str, a->len)) {
				imap_bad(s, cmd, "Invalid FETCH item");
				return 0;
			}
		}
	}
	if (mods != NULL) {
		if (mods->type != IMAP_ARG_LIST || mods->next != NULL) {
			imap_bad(s, cmd, "Invalid FETCH modifiers");
			return 0;
		}
		for (const struct imap_arg *m = mods->child; m != NULL; m = m->next) {
			if (imap_arg_atom_is(m, "CHANGEDSINCE") && m->next != NULL &&
			    m->next->type == IMAP_ARG_ATOM &&
			    imap_parse_number(m->next->str, m->next->len, INT64_MAX, &c->changedsince)) {
				m = m->next;
				c->want_modseq = c->has_changedsince = true;
				continue;
			}
			if (imap_arg_atom_is(m, "VANISHED") && !c->vanished) {
				c->vanished = true;
				continue;
			}
			imap_bad(s, cmd, "Invalid FETCH modifier");
			return 0;
		}
	}
	/* RFC 7162 3.2.6 */
	if (c->vanished && (!cmd->uid || !c->has_changedsince || !s->qresync)) {
		imap_bad(s, cmd, "VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC");
		return 0;
	}
	if (c->want_modseq)
		imap_condstore_enable(s);
	return 1;
}

/* ---------------------------------------------------------- content */

/* A literal may not carry NUL (RFC 9051 4.3.1: only BINARY answers in a
 * literal8); a message APPENDed as binary can hold it. Each NUL is sent
 * as 0x80, as Dovecot does, so every octet count stays true. */
static void nul_replace(char *p, size_t n)
{
	char *end = p + n;

	while ((p = memchr(p, '\0', (size_t)(end - p))) != NULL)
		*p++ = (char)0x80;
}

/* Streams [off, off+len) of the message as a literal. -1 if the message
 * could not be read to the end (the connection must close: a literal
 * cannot be taken back). */
static int write_range(struct imap_session *s, struct store_msg_reader *r, uint64_t off,
		       uint64_t len)
{
	char *buf = malloc(IMAP_CHUNK);

	imap_write_literal_header(s, len, false);
	if (buf == NULL && len > 0)
		return -1;
	while (len > 0) {
		size_t want = len < IMAP_CHUNK ? (size_t)len : IMAP_CHUNK;
		ssize_t n = store_msg_read(r, off, buf, want);
		if (n <= 0) {
			free(buf);
			return -1;
		}
		nul_replace(buf, (size_t)n);
		imap_write(s, buf, (size_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
		if (conn_output_failed(s->conn))
			break;
	}
	free(buf);
	return 0;
}

/* Applies <origin.length> to [off, off+len). */
static void apply_partial(const struct fetch_item *it, uint64_t *off, uint64_t *len)
{
	if (!it->partial)
		return;
	if (it->origin >= *len) {
		*off += *len;
		*len = 0;
		return;
	}
	*off += it->origin;
	*len -= it->origin;
	if (*len > it->length)
		*len = it->length;
}

static bool field_listed(const struct fetch_item *it, const char *name, size_t len)
{
	for (size_t i = 0; i < it->nfields; i++)
		if (strlen(it->fields[i]) == len && strncasecmp(it->fields[i], name, len) == 0)
			return true;
	return false;
}

/* Whether a header block ends with the blank line that ends a header. */
static bool header_has_blank(const char *h, size_t n)
{
	if (n == 0 || h[n - 1] != '\n')
		return false;
	n--;
	if (n > 0 && h[n - 1] == '\r')
		n--;
	return n == 0 || h[n - 1] == '\n';
}

/* HEADER.FIELDS (NOT): the chosen fields of one header block, then the
 * blank line, "except in the case of a message which has no body and no
 * blank line" (RFC 3501 6.4.5, RFC 9051 6.4.5). */
static int write_fields(struct imap_session *s, struct store_msg_reader *r,
			const struct fetch_item *it, uint64_t off, uint64_t len)
{
	if (len > FETCH_HEADER_READ_MAX)
		len = FETCH_HEADER_READ_MAX;
	char *hdr = malloc(len + 1), *out = malloc(len + 3);
	size_t olen = 0, pos = 0, got = 0;
	struct mime_header_field f;

	if (hdr == NULL || out == NULL) {
		free(hdr);
		free(out);
		return -1;
	}
	while (got < len) {
		ssize_t n = store_msg_read(r, off + got, hdr + got, (size_t)len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	while (mime_header_next(hdr, got, &pos, &f) == 1) {
		bool listed = field_listed(it, f.name, f.name_len);
		if (listed == (it->text == SEC_FIELDS)) {
			memcpy(out + olen, hdr + f.offset, f.len);
			olen += f.len;
			if (f.len > 0 && out[olen - 1] != '\n') {
				out[olen++] = '\r';
				out[olen++] = '\n';
			}
		}
	}
	if (header_has_blank(hdr, got) && olen + 2 <= len + 3) {
		out[olen++] = '\r';
		out[olen++] = '\n';
	}
	nul_replace(out, olen);
	uint64_t o = 0, l = olen;
	apply_partial(it, &o, &l);
	imap_write_literal_header(s, l, false);
	imap_write(s, out + o, (size_t)l);
	free(hdr);
	free(out);
	return 0;
}

/* BINARY: decodes [off, off+len) by `transfer`, twice when writing (the
 * size first, for the literal), never holding the whole part. */
static int binary_pass(struct store_msg_reader *r, uint64_t off, uint64_t len,
		       enum mime_encoding transfer, struct imap_session *out_s, uint64_t win_lo,
		       uint64_t win_len, uint64_t *total_r, bool *nul_r)
{
	char *in = malloc(IMAP_CHUNK), *dec = malloc(QP_DECODED_MAX(IMAP_CHUNK));
	struct base64_decoder b64;
	struct qp_decoder qp;
	uint64_t total = 0;
	int ret = 0;

	if (in == NULL || dec == NULL) {
		free(in);
		free(dec);
		return -1;
	}
	base64_decoder_init(&b64);
	qp_decoder_init(&qp);
	*nul_r = false;
	for (bool last = false; !last;) {
		size_t n = 0;
		size_t want = len < IMAP_CHUNK ? (size_t)len : IMAP_CHUNK;
		if (want > 0) {
			ssize_t got = store_msg_read(r, off, in, want);
			if (got <= 0) {
				ret = -1;
				break;
			}
			off += (uint64_t)got;
			len -= (uint64_t)got;
			if (transfer == MIME_ENC_BASE64)
				n = base64_decode_update(&b64, in, (size_t)got, dec);
			else if (transfer == MIME_ENC_QP)
				n = qp_decode_update(&qp, in, (size_t)got, dec);
			else {
				memcpy(dec, in, (size_t)got);
				n = (size_t)got;
			}
		} else {
			last = true;
			if (transfer == MIME_ENC_QP)
				n = qp_decode_finish(&qp, dec);
		}
		if (memchr(dec, '\0', n) != NULL)
			*nul_r = true;
		if (out_s != NULL) {
			/* the part of [total, total+n) inside the window */
			uint64_t lo = total > win_lo ? total : win_lo;
			uint64_t hi = total + n < win_lo + win_len ? total + n : win_lo + win_len;
			if (hi > lo)
				imap_write(out_s, dec + (lo - total), (size_t)(hi - lo));
		}
		total += n;
	}
	free(in);
	free(dec);
	*total_r = total;
	return ret;
}

/* Whether `section` names the part BODYSTRUCTURE invents for a multipart
 * without parts (RFC 3501 needs one; imap_bodystructure.c): its part 1,
 * an empty text part, so fetching it gives "" as announced, not NIL. */
static bool invented_part(const struct mime_message *tree, const char *section)
{
	char parent[FETCH_PART_MAX];
	size_t len = strlen(section);
	const struct mime_part *p;

	if (len == 0 || section[len - 1] != '1' || (len > 1 && section[len - 2] != '.'))
		return false;
	memcpy(parent, section, len > 1 ? len - 2 : 0);
	parent[len > 1 ? len - 2 : 0] = '\0';
	p = parent[0] != '\0' ? mime_part_find(tree, parent) : tree->root;
	if (p != NULL && !mime_part_is_multipart(p) && parent[0] != '\0')
		p = mime_part_message(p); /* numbering goes on inside a message/rfc822 */
	return p != NULL && mime_part_is_multipart(p) && p->nchildren == 0;
}

/* The byte range of a section in the whole message (prefix + body). 1 found,
 * 0 no such part (NIL). */
static int section_range(const struct mime_message *tree, uint64_t prefix, uint64_t size,
			 const struct fetch_item *it, uint64_t *off_r, uint64_t *len_r,
			 const struct mime_part **part_r)
{
	const struct mime_part *p = tree != NULL ? tree->root : NULL, *m;

	*part_r = NULL;
	if (it->part[0] == '\0' && it->text == SEC_ALL) {
		*off_r = 0;
		*len_r = size;
		return 1;
	}
	if (tree == NULL)
		return 0;
	if (it->part[0] != '\0' && (p = mime_part_find(tree, it->part)) == NULL) {
		if (!invented_part(tree, it->part))
			return 0;
		*off_r = 0;
		*len_r = 0;
		return 1;
	}
	*part_r = p;
	switch (it->text) {
	case SEC_ALL:
		*off_r = prefix + p->body_offset;
		*len_r = p->body_len;
		return 1;
	case SEC_MIME:
		if (p->parent == NULL) {
			/* part 1 of a one-part message: its MIME header is the
			 * message's header, per-copy prefix included (= HEADER) */
			*off_r = 0;
			*len_r = prefix + p->header_offset + p->header_len;
			return 1;
		}
		*off_r = prefix + p->header_offset;
		*len_r = p->header_len;
		return 1;
	default:
		break;
	}
	m = it->part[0] == '\0' ? p : mime_part_message(p);
	if (m == NULL) {
		*off_r = 0;
		*len_r = 0;
		return 1; /* not a message: an empty string */
	}
	if (it->text == SEC_TEXT) {
		*off_r = prefix + m->body_offset;
		*len_r = m->body_len;
	} else if (m->parent == NULL) {
		/* the top header includes the per-copy prefix */
		*off_r = 0;
		*len_r = prefix + m->header_offset + m->header_len;
	} else {
		*off_r = prefix + m->header_offset;
		*len_r = m->header_len;
	}
	return 1;
}

/* ------------------------------------------------------------- one message */

struct seen_ctx {
	uint32_t flags;
	uint64_t keywords, modseq;
	bool changed;
};

static int seen_cb(const struct store_msg *msg, void *ctx)
{
	struct seen_ctx *c = ctx;

	c->flags = msg->flags;
	c->keywords = msg->keywords;
	c->modseq = msg->modseq;
	c->changed = true;
	return 0;
}

struct fetch_run {
	struct fetch_ctx *c;
	struct imap_cmd *cmd;
};

static int write_item(struct imap_session *s, struct fetch_ctx *c, const struct fetch_item *it,
		      const struct store_msg *msg, struct store_msg_reader *r,
		      const struct mime_message *tree, uint64_t prefix)
{
	char date[DATETIME_IMAP_SIZE];
	uint64_t off = 0, len = 0;
	const struct mime_part *part;

	switch (it->kind) {
	case F_FLAGS:
		imap_puts(s, "FLAGS ");
		imap_write_flags(s, msg->flags, msg->keywords, imap_view_is_recent(s->view, msg->uid));
		return 0;
	case F_INTERNALDATE:
		imap_printf(s, "INTERNALDATE \"%s\"",
			    datetime_format_imap((time_t)msg->internaldate, msg->internaldate_tz, date));
		return 0;
	case F_RFC822_SIZE:
		imap_printf(s, "RFC822.SIZE %llu", (unsigned long long)msg->size);
		return 0;
	case F_ENVELOPE:
		imap_puts(s, "ENVELOPE ");
		imap_write_envelope(s, tree != NULL ? tree->root->envelope : NULL);
		return 0;
	case F_BODY:
	case F_BODYSTRUCTURE:
		imap_puts(s, it->kind == F_BODY ? "BODY " : "BODYSTRUCTURE ");
		if (tree != NULL)
			imap_write_bodystructure(s, tree->root, it->kind == F_BODYSTRUCTURE);
		else
			imap_puts(s, "(\"text\" \"plain\" NIL NIL NIL \"7BIT\" 0 0)");
		return 0;
	case F_UID:
	case F_MODSEQ:
		return 0; /* written once, up front / at the end */
	case F_RFC822:
		imap_puts(s, "RFC822 ");
		return write_range(s, r, 0, msg->size);
	case F_RFC822_HEADER:
	case F_RFC822_TEXT: {
		struct fetch_item tmp = { .text = it->kind == F_RFC822_HEADER ? SEC_HEADER : SEC_TEXT };
		imap_puts(s, it->kind == F_RFC822_HEADER ? "RFC822.HEADER " : "RFC822.TEXT ");
		if (!section_range(tree, prefix, msg->size, &tmp, &off, &len, &part)) {
			imap_puts(s, "\"\"");
			return 0;
		}
		return write_range(s, r, off, len);
	}
	case F_SECTION:
		imap_puts(s, it->label);
		imap_puts(s, " ");
		if (!section_range(tree, prefix, msg->size, it, &off, &len, &part)) {
			imap_puts(s, "NIL");
			return 0;
		}
		if (it->text == SEC_FIELDS || it->text == SEC_FIELDS_NOT)
			return write_fields(s, r, it, off, len);
		apply_partial(it, &off, &len);
		return write_range(s, r, off, len);
	case F_BINARY:
	case F_BINARY_SIZE: {
		imap_puts(s, it->label);
		imap_puts(s, " ");
		if (!section_range(tree, prefix, msg->size, it, &off, &len, &part)) {
			imap_puts(s, it->kind == F_BINARY ? "NIL" : "0");
			return 0;
		}
		enum mime_encoding enc = part != NULL && !mime_part_is_multipart(part) &&
						 mime_part_message(part) == NULL
					 ? part->transfer
					 : MIME_ENC_BINARY;
		uint64_t total;
		bool nul;
		if (binary_pass(r, off, len, enc, NULL, 0, 0, &total, &nul) < 0)
			return -1;
		if (it->kind == F_BINARY_SIZE) {
			imap_printf(s, "%llu", (unsigned long long)total);
			return 0;
		}
		uint64_t wo = 0, wl = total;
		apply_partial(it, &wo, &wl);
		imap_write_literal_header(s, wl, nul);
		if (binary_pass(r, off, len, enc, s, wo, wl, &total, &nul) < 0)
			return -1;
		return 0;
	}
	}
	(void)c;
	return 0;
}

/* Whether a BINARY item asks for a part whose transfer encoding we cannot
 * decode: the FETCH then fails with NO [UNKNOWN-CTE] (RFC 3516; RFC 9051 6.4.5). */
static bool binary_unknown_cte(const struct fetch_ctx *c, const struct mime_message *tree,
			       uint64_t prefix, uint64_t size)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct fetch_item *it = &c->items[i];
		const struct mime_part *part = NULL;
		uint64_t off, len;

		if ((it->kind == F_BINARY || it->kind == F_BINARY_SIZE) &&
		    section_range(tree, prefix, size, it, &off, &len, &part) && part != NULL &&
		    !mime_part_is_multipart(part) && mime_part_message(part) == NULL &&
		    part->transfer == MIME_ENC_UNKNOWN)
			return true;
	}
	return false;
}

static int fetch_one(struct imap_session *s, const struct store_msg *stored, void *ctx)
{
	struct fetch_run *run = ctx;
	struct fetch_ctx *c = run->c;
	struct store_msg msg = *stored;
	struct store_msg_reader *r = NULL;
	struct mime_message *tree = NULL;
	const char *error = NULL;
	bool flags_changed = false;
	int ret = 0;

	if (c->changedsince != 0 && msg.modseq <= c->changedsince)
		return 0;
	uint32_t seq = imap_view_seq(s->view, msg.uid);
	if (seq == 0)
		return 0;
	if (c->need_open) {
		int o = c->need_bytes ? store_msg_open(s->store, &msg, &r, &error)
				      : store_msg_open_mime(s->store, &msg, &r, &error);
		if (o == 0) {
			c->failed = true; /* expunged meanwhile */
			return 0;
		}
		if (o < 0) {
			log_error("fetch user=<%s> uid=%u: %s", s->user.address, msg.uid, error);
			c->failed = true;
			return 0;
		}
		if (c->need_tree) {
			size_t blen;
			const void *blob = store_msg_mime_cache(r, &blen);
			if (blob == NULL || blen == 0 || mime_cache_decode(blob, blen, &tree, &error) != 1) {
				log_error("fetch user=<%s> uid=%u: MIME cache unusable: %s",
					  s->user.address, msg.uid, error != NULL ? error : "missing");
				tree = NULL;
			}
		}
	}
	if (binary_unknown_cte(c, tree, r != NULL ? store_msg_prefix_len(r) : 0, msg.size)) {
		c->unknown_cte = true;   /* nothing sent for it, \Seen not set */
		mime_message_free(&tree);
		store_msg_close(&r);
		return 0;
	}
	if (c->sets_seen && !s->view->readonly && !(msg.flags & STORE_FLAG_SEEN)) {
		struct seen_ctx sc = { 0 };
		if (store_msg_set_flags(s->store, s->view->mailbox_id, &msg.uid, 1, STORE_FLAGS_ADD,
					STORE_FLAG_SEEN, NULL, 0, 0, seen_cb, NULL, &sc, &error) > 0 &&
		    sc.changed) {
			msg.flags = sc.flags;
			msg.keywords = sc.keywords;
			msg.modseq = sc.modseq;
			flags_changed = true;
			imap_view_set_flags(s->view, msg.uid, msg.flags, msg.keywords);
		}
	}
	if (c->want_flags || flags_changed)
		imap_view_announce_keywords(s, msg.keywords);
	imap_printf(s, "* %u FETCH (", seq);
	bool first = true;
	/* Once CONDSTORE is on, a flag change (here the \Seen this FETCH
	 * set) is reported with UID and MODSEQ (RFC 7162). */
	if (c->want_uid || (flags_changed && s->condstore)) {
		imap_printf(s, "UID %u", msg.uid);
		first = false;
	}
	for (size_t i = 0; i < c->n && ret == 0; i++) {
		const struct fetch_item *it = &c->items[i];
		if (it->kind == F_UID || it->kind == F_MODSEQ)
			continue;
		if (!first)
			imap_puts(s, " ");
		first = false;
		ret = write_item(s, c, it, &msg, r, tree, r != NULL ? store_msg_prefix_len(r) : 0);
	}
	if (ret == 0 && flags_changed && !c->want_flags) {
		imap_puts(s, first ? "FLAGS " : " FLAGS ");
		imap_write_flags(s, msg.flags, msg.keywords, imap_view_is_recent(s->view, msg.uid));
		first = false;
	}
	bool told_modseq = c->want_modseq || (flags_changed && s->condstore);
	if (ret == 0 && told_modseq)
		imap_printf(s, "%sMODSEQ (%llu)", first ? "" : " ", (unsigned long long)msg.modseq);
	if (ret == 0)
		imap_puts(s, ")\r\n");
	/* This answer has the message's flags as of its MODSEQ (a change by
	 * another session, say, which CHANGEDSINCE asked for): the sync after
	 * the command must not report that change again. Once CONDSTORE is on,
	 * only if the answer had the MODSEQ too (RFC 7162 3.2.4). */
	if (ret == 0 && (c->want_flags || flags_changed) && (told_modseq || !s->condstore))
		imap_view_told(s->view, msg.modseq);
	mime_message_free(&tree);
	store_msg_close(&r);
	if (ret < 0) {
		c->closed = true;
		return 1;
	}
	return conn_output_failed(s->conn) ? 1 : 0;
}

/* UID FETCH (CHANGEDSINCE m VANISHED): VANISHED (EARLIER) for the UIDs of
 * the set (already checked) expunged since m, before the FETCHes. '*' is
 * the last UID the client may know: one expunged above the last message
 * is in "1:*" too. 0, or -1 (NO sent). */
static int fetch_vanished(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *set,
			  uint64_t changedsince)
{
	struct imap_seqset ss = { 0 };
	const char *error = "out of memory";

	if (imap_set_is_saved(set->str, set->len)) {
		/* "$": the UIDs saved, those expunged since among them */
		if (s->view->nsaved == 0)
			return 0;
		ss.ranges = calloc(s->view->nsaved, sizeof(*ss.ranges));
		if (ss.ranges == NULL) {
			imap_store_error(s, cmd, error);
			return -1;
		}
		for (; ss.count < s->view->nsaved; ss.count++)
			ss.ranges[ss.count].lo = ss.ranges[ss.count].hi = s->view->saved[ss.count];
	} else if (imap_seqset_parse(set->str, set->len, &ss) <= 0) {
		imap_store_error(s, cmd, error);
		return -1;
	}
	imap_seqset_normalize(&ss, s->view->uidnext - 1);
	int r = imap_view_resync(s, &ss, changedsince, false, &error);
	imap_seqset_free(&ss);
	if (r < 0)
		imap_store_error(s, cmd, error);
	return r;
}

/* Writes n in decimal at p; returns the end. */
static char *put_u32(char *p, uint32_t n)
{
	char tmp[10];
	int k = 0;

	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	while (k > 0)
		*p++ = tmp[--k];
	return p;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* FETCH of UID and FLAGS only, from the map's flags (brought up to date by
 * a sync without expunges first): no store read per message, which is
 * what makes "FETCH 1:* (UID FLAGS)" cheap in a big mailbox. The messages
 * whose change that sync reported (with UID and FLAGS: all that is asked)
 * are not written twice. */
static int fetch_flags_fast(struct imap_session *s, struct imap_cmd *cmd, struct fetch_ctx *c,
			    const uint32_t *uids, size_t n, const uint32_t *reported,
			    uint32_t nreported)
{
	struct imap_view *v = s->view;
	bool missing = false, want_flags = false;

	for (size_t k = 0; k < c->n; k++)
		want_flags |= c->items[k].kind == F_FLAGS;
	for (size_t i = 0; i < n; i++) {
		uint32_t seq = imap_view_seq(v, uids[i]);
		if (seq == 0 || (v->ngone > 0 && imap_view_is_gone(v, uids[i]))) {
			missing = true;
			continue;
		}
		if (nreported > 0 &&
		    bsearch(&uids[i], reported, nreported, sizeof(uint32_t), uid_cmp) != NULL)
			continue;
		if (want_flags)
			imap_view_announce_keywords(s, v->kws[seq - 1]);
		char line[64], *p = line;
		memcpy(p, "* ", 2);
		p = put_u32(p + 2, seq);
		memcpy(p, " FETCH (", 8);
		p += 8;
		if (c->want_uid) {
			memcpy(p, "UID ", 4);
			p = put_u32(p + 4, uids[i]);
			if (want_flags)
				*p++ = ' ';
		}
		if (want_flags) {
			memcpy(p, "FLAGS ", 6);
			p += 6;
			imap_write(s, line, (size_t)(p - line));
			p = line;
			imap_write_flags(s, v->flags[seq - 1], v->kws[seq - 1],
					 imap_view_is_recent(v, uids[i]));
		}
		memcpy(p, ")\r\n", 3);
		p += 3;
		imap_write(s, line, (size_t)(p - line));
		if (conn_output_failed(s->conn))
			break;
	}
	if (missing && !cmd->uid)
		imap_no(s, cmd, "[EXPUNGEISSUED] Some messages could not be fetched");
	else
		imap_ok(s, cmd, "Fetch completed");
	return 0;
}

int imap_cmd_fetch(struct imap_session *s, struct imap_cmd *cmd)
{
	const struct imap_arg *set = cmd->args, *items = set != NULL ? set->next : NULL;
	struct fetch_ctx *c;
	struct fetch_run run;
	const char *error = NULL;
	uint32_t *uids = NULL;
	size_t n = 0, missing = 0;

	if (set == NULL || set->type != IMAP_ARG_ATOM || items == NULL || items->streamed ||
	    (items->type != IMAP_ARG_ATOM && items->type != IMAP_ARG_LIST)) {
		imap_bad(s, cmd, "FETCH needs a sequence set and items");
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		return 0;
	}
	if (!fetch_parse(s, cmd, items, items->next, c))
		goto out;
	if (cmd->uid && !c->want_uid)
		add_simple(c, F_UID);
	if (imap_view_resolve(s, cmd, set->str, set->len, cmd->uid, &uids, &n) <= 0)
		goto out;
	if (c->vanished && fetch_vanished(s, cmd, set, c->changedsince) < 0)
		goto out;
	bool only_flags = c->changedsince == 0 && !c->want_modseq && !c->need_open;
	for (size_t i = 0; only_flags && i < c->n; i++)
		only_flags = c->items[i].kind == F_UID || c->items[i].kind == F_FLAGS;
	if (only_flags) {
		uint32_t *reported, nreported;
		int synced = imap_view_sync_reported(s, &reported, &nreported);
		if (synced == 0)
			fetch_flags_fast(s, cmd, c, uids, n, reported, nreported);
		free(reported);
		if (synced == 0)
			goto out;
	}
	run.c = c;
	run.cmd = cmd;
	int r = imap_view_each(s, uids, n, fetch_one, &run, &missing, &error);
	if (r < 0) {
		imap_store_error(s, cmd, error);
		goto out;
	}
	if (c->closed) {
		log_error("fetch user=<%s>: a message could not be read to its end", s->user.address);
		free(uids);
		fetch_ctx_free(c);
		free(c);
		return -1;
	}
	/* UID FETCH simply omits vanished messages; by sequence number the
	 * client asked for something it cannot have (RFC 5530) */
	if (c->unknown_cte)
		imap_no(s, cmd, "[UNKNOWN-CTE] A part is in a transfer encoding the server cannot "
				"decode");
	else if ((c->failed || missing > 0) && !cmd->uid)
		imap_no(s, cmd, "[EXPUNGEISSUED] Some messages could not be fetched");
	else
		imap_ok(s, cmd, "Fetch completed");
out:
	free(uids);
	fetch_ctx_free(c);
	free(c);
	return 0;
}
