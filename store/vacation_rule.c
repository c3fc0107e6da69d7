/* Who gets a vacation reply, and the reply itself (vacation.h): pure
 * functions over bytes, unit-tested without a store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "codec.h"
#include "datetime.h"
#include "mime.h"
#include "rfc2047.h"
#include "vacation.h"

/* References kept from the original: a thread's chain can be long, and the
 * reply needs its end only (RFC 5322 3.6.4 allows trimming). */
#define REFERENCES_MAX 900

const char *vacation_verdict_name(enum vacation_verdict v)
{
	switch (v) {
	case VACATION_REPLY: return "reply";
	case VACATION_NULL_SENDER: return "null-sender";
	case VACATION_SYSTEM_SENDER: return "system-sender";
	case VACATION_OWN_SENDER: return "own-sender";
	case VACATION_AUTO_SUBMITTED: return "auto-submitted";
	case VACATION_BULK: return "precedence";
	case VACATION_LIST: return "list";
	case VACATION_SUPPRESSED: return "suppressed";
	case VACATION_NOT_ADDRESSED: return "not-addressed";
	case VACATION_HEADER_TOO_LONG: return "header-too-long";
	}
	return "?";
}

static bool field_is(const struct mime_header_field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

/* The value's first token (up to ';', a comment or white space), trimmed,
 * compared case-insensitively with `word`. */
static bool first_token_is(const char *v, size_t len, const char *word)
{
	size_t i = 0, n;
	while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n'))
		i++;
	for (n = 0; i + n < len && v[i + n] != ';' && v[i + n] != '(' && v[i + n] != ' ' &&
		    v[i + n] != '\t' && v[i + n] != '\r' && v[i + n] != '\n'; n++)
		;
	return n == strlen(word) && strncasecmp(v + i, word, n) == 0;
}

/* Whether the value names one of the comma or space separated words. */
static bool has_word(const char *v, size_t len, const char *word)
{
	size_t wl = strlen(word);
	for (size_t i = 0; i + wl <= len; i++) {
		bool start = i == 0 || v[i - 1] == ',' || v[i - 1] == ' ' || v[i - 1] == '\t';
		bool end = i + wl == len || v[i + wl] == ',' || v[i + wl] == ' ' ||
			   v[i + wl] == '\t' || v[i + wl] == '\r' || v[i + wl] == '\n';
		if (start && end && strncasecmp(v + i, word, wl) == 0)
			return true;
	}
	return false;
}

static bool str_ieq(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

bool vacation_system_sender(const char *sender)
{
	static const char *const exact[] = { "mailer-daemon", "postmaster", "listserv", "majordomo",
					     "noreply", "no-reply", "donotreply", "do-not-reply",
					     "nobody" };
	static const char *const suffixes[] = { "-request", "-bounces", "-bounce", "-owner" };
	const char *at = strrchr(sender, '@');
	size_t n = at != NULL ? (size_t)(at - sender) : strlen(sender);
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (str_ieq(sender, n, exact[i]))
			return true;
	if (n >= 6 && strncasecmp(sender, "owner-", 6) == 0)
		return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		if (n > sl && strncasecmp(sender + n - sl, suffixes[i], sl) == 0)
			return true;
	}
	return false;
}

bool vacation_auto_submitted(const char *header, size_t header_len)
{
	struct mime_header_field f;
	size_t pos = 0;
	while (mime_header_next(header, header_len, &pos, &f) > 0)
		if (field_is(&f, "Auto-Submitted") && !first_token_is(f.value, f.value_len, "no"))
			return true;
	return false;
}

/* mailbox@host is one of own[], also with its subaddress cut off. */
static bool is_own(const char *mailbox, const char *host, const char *const *own, size_t nown,
		   const char *delims)
{
	size_t ml = strlen(mailbox), hl = strlen(host);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			size_t cut = 0;
			if (delims == NULL || *delims == '\0')
				return false;
			while (cut < ml && strchr(delims, mailbox[cut]) == NULL)
				cut++;
			if (cut == 0 || cut == ml)
				return false;
			ml = cut;
		}
		for (size_t i = 0; i < nown; i++) {
			const char *at = strrchr(own[i], '@');
			if (at != NULL && (size_t)(at - own[i]) == ml &&
			    strncasecmp(own[i], mailbox, ml) == 0 && str_ieq(host, hl, at + 1))
				return true;
		}
	}
	return false;
}

static bool list_names_own(const char *v, size_t len, const char *const *own, size_t nown,
			   const char *delims, bool *oom)
{
	struct address_list *list;
	bool found = false;
	if (address_list_parse(v, len, 0, &list) < 0) {
		*oom = true;
		return false;
	}
	for (size_t i = 0; i < list->count && !found; i++) {
		const struct address *a = &list->addrs[i];
		if (a->host != NULL && a->mailbox != NULL)
			found = is_own(a->mailbox, a->host, own, nown, delims);
	}
	address_list_free(&list);
	return found;
}

enum vacation_verdict vacation_decide(const char *sender, const char *header, size_t header_len,
				      bool complete, const char *const *own, size_t nown,
				      const char *delims)
{
	struct mime_header_field f;
	size_t pos = 0;
	bool addressed = false, oom = false;

	if (sender == NULL || sender[0] == '\0' || strchr(sender, '@') == NULL)
		return VACATION_NULL_SENDER;
	if (vacation_system_sender(sender))
		return VACATION_SYSTEM_SENDER;
	const char *at = strrchr(sender, '@');
	char local[STORE_LOCALPART_MAX * 4 + 1];
	size_t ll = (size_t)(at - sender);
	if (ll < sizeof(local)) {
		memcpy(local, sender, ll);
		local[ll] = '\0';
		if (is_own(local, at + 1, own, nown, NULL))
			return VACATION_OWN_SENDER;
	}
	if (!complete)
		return VACATION_HEADER_TOO_LONG;
	while (mime_header_next(header, header_len, &pos, &f) > 0) {
		if (field_is(&f, "Auto-Submitted")) {
			if (!first_token_is(f.value, f.value_len, "no"))
				return VACATION_AUTO_SUBMITTED;
		} else if (field_is(&f, "Precedence")) {
			if (first_token_is(f.value, f.value_len, "bulk") ||
			    first_token_is(f.value, f.value_len, "list") ||
			    first_token_is(f.value, f.value_len, "junk"))
				return VACATION_BULK;
		} else if (field_is(&f, "List-Id") || field_is(&f, "List-Unsubscribe") ||
			   field_is(&f, "List-Post")) {
			return VACATION_LIST;
		} else if (field_is(&f, "X-Auto-Response-Suppress")) {
			if (has_word(f.value, f.value_len, "OOF") || has_word(f.value, f.value_len, "All"))
				return VACATION_SUPPRESSED;
		} else if (!addressed && (field_is(&f, "To") || field_is(&f, "Cc"))) {
			addressed = list_names_own(f.value, f.value_len, own, nown, delims, &oom);
		}
	}
	/* out of memory: no reply rather than one that may be wrong */
	return addressed && !oom ? VACATION_REPLY : VACATION_NOT_ADDRESSED;
}

/* ------------------------------------------------------------- the reply */

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void out_add(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap == 0 ? 1024 : o->cap;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *p = realloc(o->buf, cap);
		if (p == NULL) {
			o->oom = true;
			return;
		}
		o->buf = p;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* A header line of ASCII we produce from values with no CR or LF. */
static void out_field(struct out *o, const char *name, const char *value)
{
	out_str(o, name);
	out_str(o, ": ");
	for (const char *s = value; *s != '\0'; s++)
		if (*s != '\r' && *s != '\n')
			out_add(o, s, 1);
	out_str(o, "\r\n");
}

/* The value of the first field `name`, unfolded and trimmed, malloc'd
 * (NULL when absent or out of memory). */
static char *header_value(const char *header, size_t len, const char *name)
{
	struct mime_header_field f;
	size_t pos = 0;
	while (mime_header_next(header, len, &pos, &f) > 0) {
		if (!field_is(&f, name))
			continue;
		char *v = malloc(f.value_len + 1);
		size_t n = 0;
		if (v == NULL)
			return NULL;
		for (size_t i = 0; i < f.value_len; i++) {
			char ch = f.value[i];
			if (ch == '\r' || ch == '\n' || ch == '\t')
				ch = ' ';
			if (ch == ' ' && (n == 0 || v[n - 1] == ' '))
				continue;
			v[n++] = ch;
		}
		while (n > 0 && v[n - 1] == ' ')
			n--;
		v[n] = '\0';
		return v;
	}
	return NULL;
}

/* A message id as written: "<...>" of printable ASCII without spaces. */
static bool msgid_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n < 3 || s[0] != '<' || s[n - 1] != '>' || n > 250)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* References: the ids of the original's References (its end, up to
 * REFERENCES_MAX bytes, cut at an id) and its Message-ID. */
static void out_references(struct out *o, const char *refs, const char *msgid)
{
	out_str(o, "References:");
	if (refs != NULL) {
		size_t n = strlen(refs);
		const char *s = refs;
		if (n > REFERENCES_MAX) {
			s = strchr(refs + n - REFERENCES_MAX, '<');
			if (s == NULL)
				s = refs + n;
		}
		/* one id a folded line; only well-formed ids */
		while (*s != '\0') {
			const char *lt = strchr(s, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;
			if (gt == NULL)
				break;
			char id[256];
			size_t len = (size_t)(gt - lt) + 1;
			if (len < sizeof(id)) {
				memcpy(id, lt, len);
				id[len] = '\0';
				if (msgid_ok(id) && strcmp(id, msgid) != 0) {
					out_str(o, "\r\n ");
					out_str(o, id);
				}
			}
			s = gt + 1;
		}
	}
	out_str(o, "\r\n ");
	out_str(o, msgid);
	out_str(o, "\r\n");
}

static bool needs_qp(const char *text)
{
	size_t line = 0;
	for (const unsigned char *s = (const unsigned char *)text; *s != '\0'; s++) {
		if (*s >= 0x80 || (*s == '\r' && s[1] != '\n'))
			return true;
		line = *s == '\n' ? 0 : line + 1;
		if (line > 76)
			return true;
	}
	return false;
}

int vacation_reply_build(const struct vacation_reply_input *in, char **out_r, size_t *len_r)
{
	struct out o = { 0 };
	char date[DATETIME_RFC5322_SIZE];
	char *subject = NULL, *enc = NULL, *msgid = NULL, *refs = NULL, *text = NULL;
	size_t enc_len;

	*out_r = NULL;
	out_field(&o, "Date", datetime_format_rfc5322((time_t)in->now, 0, date));
	out_str(&o, "From: <");
	out_str(&o, in->from);
	out_str(&o, ">\r\nTo: <");
	out_str(&o, in->to);
	out_str(&o, ">\r\n");
	if (in->subject != NULL && in->subject[0] != '\0') {
		subject = strdup(in->subject);
	} else {
		const char *orig = in->orig_subject != NULL ? in->orig_subject : "";
		size_t n = strlen(orig) + 7;
		if ((subject = malloc(n)) != NULL)
			snprintf(subject, n, "Auto: %s", orig);
	}
	if (subject == NULL || rfc2047_encode(subject, strlen(subject), 9, false, &enc, &enc_len) < 0)
		goto oom;
	out_str(&o, "Subject: ");
	out_add(&o, enc, enc_len);
	out_str(&o, "\r\n");
	out_str(&o, "Message-ID: <");
	out_str(&o, in->msgid_left);
	out_str(&o, "@");
	out_str(&o, in->msgid_domain);
	out_str(&o, ">\r\n");
	msgid = header_value(in->header, in->header_len, "Message-ID");
	if (msgid_ok(msgid)) {
		out_field(&o, "In-Reply-To", msgid);
		refs = header_value(in->header, in->header_len, "References");
		out_references(&o, refs, msgid);
	}
	out_str(&o, "Auto-Submitted: auto-replied\r\n"
		    "MIME-Version: 1.0\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\n");
	/* the text with every line ended by CRLF */
	size_t tl = strlen(in->text);
	if ((text = malloc(tl * 2 + 3)) == NULL)
		goto oom;
	size_t n = 0;
	for (size_t i = 0; i < tl; i++) {
		if (in->text[i] == '\r' && in->text[i + 1] == '\n')
			continue;
		if (in->text[i] == '\n' || in->text[i] == '\r') {
			text[n++] = '\r';
			text[n++] = '\n';
		} else {
			text[n++] = in->text[i];
		}
	}
	if (n < 2 || text[n - 2] != '\r' || text[n - 1] != '\n') {
		text[n++] = '\r';
		text[n++] = '\n';
	}
	text[n] = '\0';
	if (needs_qp(text)) {
		char *qp = malloc(QP_ENCODED_MAX(n) + 1);
		if (qp == NULL)
			goto oom;
		size_t qn = qp_encode(text, n, false, qp);
		out_str(&o, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		out_add(&o, qp, qn);
		if (qn < 2 || qp[qn - 2] != '\r' || qp[qn - 1] != '\n')
			out_str(&o, "\r\n");
		free(qp);
	} else {
		out_str(&o, "Content-Transfer-Encoding: 7bit\r\n\r\n");
		out_add(&o, text, n);
	}
	if (o.oom)
		goto oom;
	free(subject);
	free(enc);
	free(msgid);
	free(refs);
	free(text);
	*out_r = o.buf;
	*len_r = o.len;
	return 1;
oom:
	free(o.buf);
	free(subject);
	free(enc);
	free(msgid);
	free(refs);
	free(text);
	return -1;
}
