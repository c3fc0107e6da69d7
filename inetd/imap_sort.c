/* SORT and UID SORT (RFC 5256), with DISPLAYFROM and DISPLAYTO (RFC 5957).
 * Roundcube and other webmails ask the server to sort rather than fetch
 * every envelope themselves. The search keys run as SEARCH's; then each hit
 * gets its sort keys: dates, size, the decoded subject and the sender's
 * display name from the message record, other addresses from the envelope
 * in the message's MIME cache (read only when a criterion needs one), the
 * whole subject or name from there too when the record's copy was cut.
 * Texts compare case-folded; messages equal in every criterion keep their
 * mailbox order (RFC 5256 3). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "imap.h"
#include "log.h"
#include "mime.h"
#include "rfc2047.h"

/* Criteria in one SORT: each key once makes nine; repeats only cost time. */
#define SORT_CRITERIA_MAX 16

enum sort_key {
	/* text keys first: they index sort_entry.text */
	SK_SUBJECT, SK_FROM, SK_TO, SK_CC, SK_DISPLAYFROM, SK_DISPLAYTO,
	SK_TEXT_COUNT,
	SK_ARRIVAL = SK_TEXT_COUNT, SK_DATE, SK_SIZE,
};

static const struct {
	const char *name;
	enum sort_key key;
} sort_keys[] = {
	{ "ARRIVAL", SK_ARRIVAL }, { "CC", SK_CC }, { "DATE", SK_DATE }, { "FROM", SK_FROM },
	{ "SIZE", SK_SIZE }, { "SUBJECT", SK_SUBJECT }, { "TO", SK_TO },
	{ "DISPLAYFROM", SK_DISPLAYFROM }, { "DISPLAYTO", SK_DISPLAYTO },
};

struct sort_criterion {
	enum sort_key key;
	bool reverse;
};

struct sort_entry {
	uint32_t uid, seq;
	bool present;            /* its record was read (not expunged meanwhile) */
	int64_t arrival, date;
	uint64_t size;
	char *text[SK_TEXT_COUNT];
};

struct sort_ctx {
	struct sort_criterion crit[SORT_CRITERIA_MAX];
	size_t ncrit;
	bool need_text[SK_TEXT_COUNT], need_envelope;
	struct sort_entry *entries; /* in UID order while the keys are read */
	size_t n, next;
	bool failed;
};

/* ------------------------------------------------------ base subject */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* subj-blob: "[" *BLOBCHAR "]" *WSP at s; its length, or 0. */
static size_t blob_len(const char *s)
{
	if (*s != '[')
		return 0;
	size_t i = 1;
	while (s[i] != '\0' && s[i] != '[' && s[i] != ']')
		i++;
	if (s[i] != ']')
		return 0;
	for (i++; is_wsp(s[i]); i++)
		;
	return i;
}

/* subj-leader: *subj-blob subj-refwd, where subj-refwd is ("re" / "fw" /
 * "fwd") *WSP [subj-blob] ":"; or a lone WSP. Its length at s, or 0;
 * *refwd_r tells which. */
static size_t leader_len(const char *s, bool *refwd_r)
{
	*refwd_r = false;
	if (is_wsp(*s))
		return 1;
	size_t i = 0, b;
	while ((b = blob_len(s + i)) > 0)
		i += b;
	if (strncasecmp(s + i, "re", 2) == 0)
		i += 2;
	else if (strncasecmp(s + i, "fwd", 3) == 0)
		i += 3;
	else if (strncasecmp(s + i, "fw", 2) == 0)
		i += 2;
	else
		return 0;
	while (is_wsp(s[i]))
		i++;
	i += blob_len(s + i);
	if (s[i] != ':')
		return 0;
	*refwd_r = true;
	return i + 1;
}

char *imap_base_subject(const char *subject, bool *reply_r)
{
	bool reply = false, refwd;
	size_t len = strlen(subject);
	char *text = malloc(len + 1), *folded;
	if (text == NULL)
		return NULL;
	/* (1) runs of white space (tabs, unfolded line breaks) as one space */
	size_t n = 0;
	for (const char *p = subject; *p != '\0'; p++) {
		char c = *p == '\t' || *p == '\r' || *p == '\n' ? ' ' : *p;
		if (c != ' ' || n == 0 || text[n - 1] != ' ')
			text[n++] = c;
	}
	text[n] = '\0';
	char *s = text;
	for (;;) {
		/* (2) subj-trailer: "(fwd)" and white space at the end */
		for (;;) {
			if (n > 0 && is_wsp(s[n - 1]))
				n--;
			else if (n >= 5 && strncasecmp(s + n - 5, "(fwd)", 5) == 0) {
				n -= 5;
				reply = true;
			}
			else
				break;
			s[n] = '\0';
		}
		/* (3)-(5) leaders, and blobs that leave something behind */
		for (;;) {
			size_t cut = leader_len(s, &refwd);
			reply |= refwd;
			if (cut == 0) {
				size_t b = blob_len(s);
				if (b > 0 && s[b] != '\0')
					cut = b;
			}
			if (cut == 0)
				break;
			s += cut;
			n -= cut;
		}
		/* (6) "[fwd: ... ]": unwrap and start again */
		if (n >= 6 && strncasecmp(s, "[fwd:", 5) == 0 && s[n - 1] == ']') {
			s += 5;
			n -= 6;
			s[n] = '\0';
			reply = true;
			continue;
		}
		break;
	}
	folded = imap_casefold(s, n, NULL);
	free(text);
	if (reply_r != NULL)
		*reply_r = reply;
	return folded;
}

/* ------------------------------------------------------ keys */

/* The message's envelope from its MIME cache, for what the record cut
 * short or does not hold: the tree (free it) or NULL, and the reader. */
static const struct mime_envelope *envelope_open(struct imap_session *s,
						 const struct store_msg *msg,
						 struct store_msg_reader **r,
						 struct mime_message **tree)
{
	const char *error = NULL;
	size_t blen;
	*r = NULL;
	*tree = NULL;
	if (store_msg_open_mime(s->store, msg, r, &error) < 0)
		log_error("sort user=<%s> uid=%u: %s", s->user.address, msg->uid, error);
	if (*r == NULL)
		return NULL;
	const void *blob = store_msg_mime_cache(*r, &blen);
	if (blob == NULL || blen == 0 || mime_cache_decode(blob, blen, tree, &error) != 1)
		return NULL;
	return (*tree)->root->envelope;
}

char *imap_msg_base_subject(struct imap_session *s, const struct store_msg *msg, bool *reply_r)
{
	if (!IMAP_RECORD_CUT(msg->subject))
		return imap_base_subject(msg->subject, reply_r);
	/* a long subject (85 CJK characters fill the record): whole from the
	 * envelope, so a reply's "Re: " does not shorten what is compared */
	struct store_msg_reader *r;
	struct mime_message *tree;
	const struct mime_envelope *env = envelope_open(s, msg, &r, &tree);
	char *text = NULL, *base;
	if (env != NULL && env->subject != NULL &&
	    rfc2047_decode(env->subject, strlen(env->subject), &text, NULL) < 0)
		text = NULL;
	base = imap_base_subject(text != NULL ? text : msg->subject, reply_r);
	free(text);
	mime_message_free(&tree);
	store_msg_close(&r);
	return base;
}

/* FROM, TO, CC: the first address's local part (RFC 5256's addr-mailbox);
 * DISPLAYFROM, DISPLAYTO: its decoded display name, trimmed, or else its
 * addr-spec (RFC 5957), as the record's sender is made. "" for a message
 * without one. */
static char *address_key(const struct mime_addresses *list, bool display)
{
	const struct address *a = list != NULL ? mime_first_mailbox(list) : NULL;
	if (a == NULL)
		return strdup("");
	if (!display)
		return imap_casefold(a->mailbox, strlen(a->mailbox), NULL);
	char *text = NULL, *key;
	if (a->name != NULL && rfc2047_decode(a->name, strlen(a->name), &text, NULL) < 0)
		return NULL;
	const char *start = text != NULL ? text : "";
	while (*start == ' ' || *start == '\t')
		start++;
	size_t len = strlen(start);
	while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
		len--;
	if (len == 0) {
		free(text);
		if ((text = address_addr_spec(a)) == NULL)
			return NULL;
		start = text;
		len = strlen(text);
	}
	key = imap_casefold(start, len, NULL);
	free(text);
	return key;
}

/* The envelope keys of one message from its MIME cache: 0, or -1 on out
 * of memory. A message whose cache cannot be read sorts as one without
 * those fields. DISPLAYFROM comes from here only when the record's sender
 * may have been cut short. */
static int envelope_keys(struct imap_session *s, struct sort_ctx *c, const struct store_msg *msg,
			 struct sort_entry *e)
{
	struct store_msg_reader *r;
	struct mime_message *tree;
	const struct mime_envelope *env = envelope_open(s, msg, &r, &tree);
	static const enum sort_key keys[] = { SK_FROM, SK_TO, SK_CC, SK_DISPLAYFROM, SK_DISPLAYTO };
	int ret = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && ret == 0; i++) {
		enum sort_key k = keys[i];
		if (!c->need_text[k] || e->text[k] != NULL)
			continue;
		const struct mime_addresses *list = NULL;
		if (env != NULL)
			list = k == SK_FROM || k == SK_DISPLAYFROM ? &env->from :
			       k == SK_CC ? &env->cc : &env->to;
		e->text[k] = address_key(list, k == SK_DISPLAYFROM || k == SK_DISPLAYTO);
		if (e->text[k] == NULL)
			ret = -1;
	}
	mime_message_free(&tree);
	store_msg_close(&r);
	return ret;
}

static int keys_cb(struct imap_session *s, const struct store_msg *msg, void *ctx)
{
	struct sort_ctx *c = ctx;

	while (c->next < c->n && c->entries[c->next].uid < msg->uid)
		c->next++;
	if (c->next == c->n || c->entries[c->next].uid != msg->uid)
		return 0;
	struct sort_entry *e = &c->entries[c->next++];
	e->present = true;
	e->arrival = msg->internaldate;
	e->date = msg->sent_date;
	e->size = msg->size;
	if (c->need_text[SK_SUBJECT] &&
	    (e->text[SK_SUBJECT] = imap_msg_base_subject(s, msg, NULL)) == NULL)
		c->failed = true;
	/* the record's sender is RFC 5957's: the decoded display name, else
	 * the address (Roundcube's "from" column sorts by it) */
	bool from_record = c->need_text[SK_DISPLAYFROM] && !IMAP_RECORD_CUT(msg->from);
	if (!c->failed && from_record &&
	    (e->text[SK_DISPLAYFROM] = imap_casefold(msg->from, strlen(msg->from), NULL)) == NULL)
		c->failed = true;
	if (!c->failed && (c->need_envelope || (c->need_text[SK_DISPLAYFROM] && !from_record)) &&
	    envelope_keys(s, c, msg, e) < 0)
		c->failed = true;
	return c->failed ? 1 : 0;
}

static int compare_entries(const void *a, const void *b, void *ctx)
{
	const struct sort_entry *x = a, *y = b;
	const struct sort_ctx *c = ctx;

	for (size_t i = 0; i < c->ncrit; i++) {
		enum sort_key k = c->crit[i].key;
		int r;
		if (k == SK_ARRIVAL)
			r = (x->arrival > y->arrival) - (x->arrival < y->arrival);
		else if (k == SK_DATE)
			r = (x->date > y->date) - (x->date < y->date);
		else if (k == SK_SIZE)
			r = (x->size > y->size) - (x->size < y->size);
		else
			r = strcmp(x->text[k], y->text[k]);
		if (r != 0)
			return c->crit[i].reverse ? -r : r;
	}
	/* RFC 5256 3: otherwise in the order of the mailbox */
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* ------------------------------------------------------ the command */

/* The criteria list: 1, or 0 with BAD sent. */
static int parse_criteria(struct imap_session *s, struct imap_cmd *cmd, const struct imap_arg *a,
			  struct sort_ctx *c)
{
	if (a == NULL || a->type != IMAP_ARG_LIST || a->child == NULL) {
		imap_bad(s, cmd, "SORT needs a list of sort criteria");
		return 0;
	}
	for (const struct imap_arg *o = a->child; o != NULL; o = o->next) {
		bool reverse = imap_arg_atom_is(o, "REVERSE");
		if (reverse && (o = o->next) == NULL) {
			imap_bad(s, cmd, "REVERSE needs a sort criterion after it");
			return 0;
		}
		size_t i = 0;
		while (i < sizeof(sort_keys) / sizeof(sort_keys[0]) &&
		       !imap_arg_atom_is(o, sort_keys[i].name))
			i++;
		if (i == sizeof(sort_keys) / sizeof(sort_keys[0])) {
			imap_bad(s, cmd, "Unknown sort criterion");
			return 0;
		}
		if (c->ncrit == SORT_CRITERIA_MAX) {
			imap_bad(s, cmd, "Too many sort criteria");
			return 0;
		}
		enum sort_key k = sort_keys[i].key;
		c->crit[c->ncrit].key = k;
		c->crit[c->ncrit++].reverse = reverse;
		if (k < SK_TEXT_COUNT) {
			c->need_text[k] = true;
			if (k != SK_SUBJECT && k != SK_DISPLAYFROM)
				c->need_envelope = true;
		}
	}
	return 1;
}

int imap_cmd_sort(struct imap_session *s, struct imap_cmd *cmd)
{
	struct sort_ctx c = { 0 };
	struct imap_search_result r = { 0 };
	const struct imap_arg *a = cmd->args;
	const char *error = NULL;
	size_t missing;

	if (!parse_criteria(s, cmd, a, &c))
		return 0;
	a = a->next;
	/* the charset is not optional here (RFC 5256 3) */
	if (!imap_search_charset(s, cmd, a))
		return 0;
	if (!imap_search_run(s, cmd, a->next, &r))
		return 0;
	if (r.n > 0 && (c.entries = calloc(r.n, sizeof(*c.entries))) == NULL) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		goto out;
	}
	c.n = r.n;
	for (size_t i = 0; i < r.n; i++) {
		c.entries[i].uid = r.uids[i];
		c.entries[i].seq = imap_view_seq(s->view, r.uids[i]);
	}
	if (c.n > 0 && imap_view_each(s, r.uids, r.n, keys_cb, &c, &missing, &error) < 0) {
		imap_store_error(s, cmd, error);
		goto out;
	}
	if (c.failed) {
		imap_no(s, cmd, "[UNAVAILABLE] Out of memory");
		goto out;
	}
	/* messages expunged since the search are left out, as SEARCH would */
	size_t kept = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (c.entries[i].present)
			c.entries[kept++] = c.entries[i];
		else
			for (size_t k = 0; k < SK_TEXT_COUNT; k++)
				free(c.entries[i].text[k]);
	}
	c.n = kept;
	if (c.n > 1)
		qsort_r(c.entries, c.n, sizeof(*c.entries), compare_entries, &c);
	imap_puts(s, "* SORT");
	for (size_t i = 0; i < c.n; i++)
		imap_printf(s, " %u", cmd->uid ? c.entries[i].uid : c.entries[i].seq);
	if (r.modseq_used && c.n > 0)
		imap_printf(s, " (MODSEQ %llu)", (unsigned long long)r.max_modseq);
	imap_puts(s, "\r\n");
	imap_ok(s, cmd, "Sort completed");
out:
	for (size_t i = 0; i < c.n; i++)
		for (size_t k = 0; k < SK_TEXT_COUNT; k++)
			free(c.entries[i].text[k]);
	free(c.entries);
	free(r.uids);
	return 0;
}
