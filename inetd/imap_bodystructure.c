/* ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2) written from the MIME
 * tree cached at delivery (store/mime.h), never from reparsing the message.
 * Strings go through the one string writer (quoted or literal as the bytes
 * require; NIL for absent values). */
#include <config.h>

#include <string.h>
#include <strings.h>

#include "imap.h"
#include "imap_fetch.h"
#include "mime.h"

static void write_addresses(struct imap_session *s, const struct mime_addresses *list)
{
	if (list == NULL || list->count == 0) {
		imap_puts(s, "NIL");
		return;
	}
	imap_puts(s, "(");
	for (uint32_t i = 0; i < list->count; i++) {
		const struct address *a = &list->items[i];
		imap_puts(s, "(");
		imap_write_nstring(s, a->name);
		imap_puts(s, " ");
		imap_write_nstring(s, a->route);
		imap_puts(s, " ");
		imap_write_nstring(s, a->mailbox);
		imap_puts(s, " ");
		imap_write_nstring(s, a->host);
		imap_puts(s, ")");
	}
	imap_puts(s, ")");
}

void imap_write_envelope(struct imap_session *s, const struct mime_envelope *env)
{
	if (env == NULL) {
		imap_puts(s, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
		return;
	}
	imap_puts(s, "(");
	imap_write_nstring(s, env->date);
	imap_puts(s, " ");
	imap_write_nstring(s, env->subject);
	imap_puts(s, " ");
	write_addresses(s, &env->from);
	imap_puts(s, " ");
	/* Sender and Reply-To default to From (RFC 3501 7.4.2) */
	write_addresses(s, env->sender.count > 0 ? &env->sender : &env->from);
	imap_puts(s, " ");
	write_addresses(s, env->reply_to.count > 0 ? &env->reply_to : &env->from);
	imap_puts(s, " ");
	write_addresses(s, &env->to);
	imap_puts(s, " ");
	write_addresses(s, &env->cc);
	imap_puts(s, " ");
	write_addresses(s, &env->bcc);
	imap_puts(s, " ");
	imap_write_nstring(s, env->in_reply_to);
	imap_puts(s, " ");
	imap_write_nstring(s, env->message_id);
	imap_puts(s, ")");
}

static void write_params(struct imap_session *s, const struct mime_params *params)
{
	if (params == NULL || params->count == 0) {
		imap_puts(s, "NIL");
		return;
	}
	imap_puts(s, "(");
	for (uint32_t i = 0; i < params->count; i++) {
		if (i > 0)
			imap_puts(s, " ");
		imap_write_nstring(s, params->items[i].raw_name);
		imap_puts(s, " ");
		imap_write_nstring(s, params->items[i].raw_value);
	}
	imap_puts(s, ")");
}

static void write_encoding(struct imap_session *s, const struct mime_part *p)
{
	static const char *const names[] = {
		[MIME_ENC_7BIT] = "7BIT", [MIME_ENC_8BIT] = "8BIT", [MIME_ENC_BINARY] = "BINARY",
		[MIME_ENC_BASE64] = "BASE64", [MIME_ENC_QP] = "QUOTED-PRINTABLE",
	};

	if (p->transfer != MIME_ENC_UNKNOWN || p->encoding == NULL || *p->encoding == '\0') {
		imap_printf(s, "\"%s\"", names[p->transfer == MIME_ENC_UNKNOWN ? MIME_ENC_7BIT
									     : p->transfer]);
		return;
	}
	imap_write_string(s, p->encoding, strlen(p->encoding));
}

/* body-fld-lang: one string, a list of strings, or NIL. */
static void write_language(struct imap_session *s, const char *lang)
{
	char tags[32][64];
	size_t n = 0;

	if (lang == NULL) {
		imap_puts(s, "NIL");
		return;
	}
	for (const char *p = lang; *p != '\0' && n < 32;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t len = strcspn(p, " \t,");
		if (len == 0)
			break;
		if (len < sizeof(tags[0])) {
			memcpy(tags[n], p, len);
			tags[n][len] = '\0';
			n++;
		}
		p += len;
	}
	if (n == 0) {
		imap_puts(s, "NIL");
	} else if (n == 1) {
		imap_write_string(s, tags[0], strlen(tags[0]));
	} else {
		imap_puts(s, "(");
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				imap_puts(s, " ");
			imap_write_string(s, tags[i], strlen(tags[i]));
		}
		imap_puts(s, ")");
	}
}

/* body-ext-1part / body-ext-mpart after the MD5 (or the parameters): the
 * disposition, language and location. */
static void write_ext_tail(struct imap_session *s, const struct mime_part *p)
{
	imap_puts(s, " ");
	if (p->disposition != NULL) {
		imap_puts(s, "(");
		imap_write_string(s, p->disposition, strlen(p->disposition));
		imap_puts(s, " ");
		write_params(s, &p->disposition_params);
		imap_puts(s, ")");
	} else {
		imap_puts(s, "NIL");
	}
	imap_puts(s, " ");
	write_language(s, p->language);
	imap_puts(s, " ");
	imap_write_nstring(s, p->location);
}

/* The body put where RFC 3501 needs one and the message has none. */
#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)"

void imap_write_bodystructure(struct imap_session *s, const struct mime_part *p, bool extended)
{
	if (mime_part_is_multipart(p)) {
		imap_puts(s, "(");
		if (p->nchildren == 0) {
			/* RFC 3501 needs at least one part: an empty text one */
			imap_puts(s, EMPTY_BODY);
		}
		for (uint32_t i = 0; i < p->nchildren; i++)
			imap_write_bodystructure(s, p->children[i], extended);
		imap_puts(s, " ");
		imap_write_string(s, p->subtype, strlen(p->subtype));
		if (extended) {
			imap_puts(s, " ");
			write_params(s, &p->params);
			write_ext_tail(s, p);
		}
		imap_puts(s, ")");
		return;
	}
	const struct mime_part *inner = mime_part_message(p);
	imap_puts(s, "(");
	imap_write_string(s, p->type, strlen(p->type));
	imap_puts(s, " ");
	imap_write_string(s, p->subtype, strlen(p->subtype));
	imap_puts(s, " ");
	write_params(s, &p->params);
	imap_puts(s, " ");
	imap_write_nstring(s, p->id);
	imap_puts(s, " ");
	imap_write_nstring(s, p->description);
	imap_puts(s, " ");
	write_encoding(s, p);
	imap_printf(s, " %llu", (unsigned long long)p->body_len);
	if (inner != NULL) {
		imap_puts(s, " ");
		imap_write_envelope(s, inner->envelope);
		imap_puts(s, " ");
		imap_write_bodystructure(s, inner, extended);
		imap_printf(s, " %llu", (unsigned long long)p->body_lines);
	} else if (strcmp(p->type, "message") == 0 &&
		   (strcmp(p->subtype, "rfc822") == 0 || strcmp(p->subtype, "global") == 0)) {
		/* not parsed as a message (encoded, or at a limit): RFC 3501
		 * 7.4.2 still puts an envelope, a body and the lines here */
		imap_puts(s, " ");
		imap_write_envelope(s, NULL);
		imap_printf(s, " " EMPTY_BODY " %llu", (unsigned long long)p->body_lines);
	} else if (strcmp(p->type, "text") == 0) {
		imap_printf(s, " %llu", (unsigned long long)p->body_lines);
	}
	if (extended) {
		imap_puts(s, " ");
		imap_write_nstring(s, p->md5);
		write_ext_tail(s, p);
	}
	imap_puts(s, ")");
}
