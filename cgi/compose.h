/* Inside the compose page: the state page_compose.c (the form, checks,
 * pages), compose_load.c (originals and drafts read back: quoting,
 * recipients, attachments, threading) and compose_send.c (messages
 * written, delivered, filed in Sent and Drafts) share. */
#ifndef PB_CGI_COMPOSE_H
#define PB_CGI_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addrlist.h"
#include "app.h"
#include "identity.h"
#include "msgbuild.h"
#include "msgpart.h"

/* Recipients of one message, To, Cc and Bcc together: smtpd's default
 * RCPT limit (SMTP_RECIPIENTS_DEFAULT, RFC 5321 4.5.3.1.8 minimum), so
 * the webmail sends nothing submission would refuse. */
#define COMPOSE_RECIPIENTS_MAX 100
/* Attachments of one message: uploads (the form parser allows 20 files a
 * request) plus parts kept from a draft or a forwarded message. */
#define COMPOSE_ATTACHMENTS_MAX 100
/* Bytes of the text typed (the form parser's limit for one field). */
#define COMPOSE_TEXT_MAX ((size_t)256 * 1024)

enum compose_mode {
	COMPOSE_NEW,
	COMPOSE_REPLY,
	COMPOSE_REPLY_ALL,
	COMPOSE_FORWARD,          /* inline, attachments kept */
	COMPOSE_FORWARD_ATTACH,   /* the whole message as message/rfc822 */
	COMPOSE_EDIT,             /* a copy of any message as a new one */
};

/* An attachment of a message being written. */
struct compose_att {
	const char *filename;
	const char *type;        /* "type/subtype" or NULL */
	const char *charset;
	char *data;              /* malloc'd when `owned`, else in the arena */
	size_t len;
	bool message;            /* message/rfc822 */
	bool owned;
};

/* A part of the original or of the draft that can be kept: its number,
 * what to call it, its size. index COMPOSE_WHOLE = the whole message. */
#define COMPOSE_WHOLE UINT32_MAX
struct compose_source_part {
	uint32_t index;
	const char *name;
	uint64_t size;
	bool message;
};

struct compose {
	struct ctx *c;
	enum compose_mode mode;
	uint32_t omb, ouid;           /* the original message, 0 = none */
	uint32_t draft;               /* its uid in Drafts, 0 = none */
	struct store_mailbox drafts, sent, orig_mb;
	bool have_drafts, have_sent;
	struct store_identity *ids;   /* malloc'd */
	size_t nids;
	size_t id;                    /* the chosen identity */
	/* typed values (UTF-8) */
	const char *to, *cc, *bcc, *subject, *text;
	struct addrlist lto, lcc, lbcc;
	/* attachments going out */
	struct compose_att *att;
	size_t natt;
	/* threading */
	const char *in_reply_to, *references;
	/* options: a return receipt (Disposition-Notification-To), delivery
	 * status notifications (RFC 3461 NOTIFY=SUCCESS,FAILURE), priority */
	bool receipt, dsn;
	enum msgbuild_priority priority;
	/* the form's attachment choices ("d:N", "o:N", "o:m"; all when
	 * keep_all) and the names of files uploaded with it, for the form
	 * shown again after an error */
	const char **keep;
	size_t nkeep;
	bool keep_all;
	const char **uploads;
	size_t nuploads;
	/* the form's one-time send token: a new one for a new form, the
	 * posted one when the form is shown again; token_posted when the
	 * POST carried one (forms from before it existed do not) */
	uint8_t token[STORE_SEND_TOKEN_LEN];
	bool token_posted;
};

/* compose_load.c ------------------------------------------------------ */

/* Fills the form for a new message (mode, omb, ouid or draft set): the
 * recipients, subject, text with quote or forward block and signature,
 * the identity. Returns 1, or 0/-1 with the page answered (404 for an
 * original or draft that does not exist, 503 store error). */
int compose_prefill(struct compose *cp);

/* The parts of message `uid` in `mailbox_id` that are attachments (what
 * a forward keeps, what a draft carries), into *list_r (arena). With
 * `whole`, one entry for the whole message instead. 1, 0 no such
 * message, -1 error (*error_r). */
int compose_source_parts(struct compose *cp, uint32_t mailbox_id, uint32_t uid, bool whole,
			 struct compose_source_part **list_r, size_t *n_r, const char **error_r);

/* Loads part `index` (COMPOSE_WHOLE: the whole message) of a source
 * message as an attachment, appended to cp->att. 1, 0 gone or not an
 * attachment, -1 error. */
int compose_source_load(struct compose *cp, uint32_t mailbox_id, uint32_t uid, uint32_t index,
			const char **error_r);

/* The threading fields for a reply or forward of the original (or, when
 * it is gone, those the draft carries), into cp->in_reply_to and
 * cp->references. Never fails: what cannot be read is left out. */
void compose_threading(struct compose *cp);

/* The identity index for an address (case-insensitive), or nids. */
size_t compose_identity_find(const struct compose *cp, const char *address);

/* compose_send.c ------------------------------------------------------ */

/* Sends cp (recipients parsed, attachments loaded) and answers: a redirect
 * to the success page, or an error page; nothing is sent unless every
 * check passed, and the Sent copy is filed only after the delivery
 * committed. */
void compose_send(struct compose *cp);

/* Saves cp as a draft (replacing the previous version) and answers with a
 * redirect to the compose page on the new draft, or an error page. */
void compose_save(struct compose *cp);

/* The error shown when the attachments make the message too large. */
const char *compose_too_big_text(struct compose *cp);

/* Frees the attachment data. */
void compose_free(struct compose *cp);

/* compose_keep.c ------------------------------------------------------ */

/* Names of uploaded files a kept message lists (the form parser allows 20
 * files a request), and the bytes kept of each name. */
#define COMPOSE_KEPT_UPLOADS_MAX 20
#define COMPOSE_KEPT_NAME_MAX 255

/* A message being written, kept over a sign-in: what a compose POST
 * without a valid session or CSRF token carried, within the compose
 * limits. Strings are UTF-8 in the arena, "" when absent. */
struct compose_kept {
	const char *owner;            /* the address of the compose page's user */
	const char *from, *to, *cc, *bcc, *subject, *text;
	const char *mode;             /* as the form said it (mode names) */
	uint32_t omb, ouid, draft;
	bool receipt, dsn;            /* the options ticked */
	enum msgbuild_priority priority;
	const char **keep;            /* attachment choices ("d:N", "o:N", "o:m") */
	size_t nkeep;
	const char **uploads;         /* names of files sent with it, not kept */
	size_t nuploads;
	bool cut;                     /* a field was longer than allowed: cut */
};

/* Reads a kept message from the request's form: the compose form's own
 * fields (prefix "") or the sign-in form's hidden copies of them (prefix
 * "k_"). Too long a field is cut at a character (k_r->cut), line breaks
 * in one-line fields become spaces, those of the text CRLF. 1 read, 0
 * none (no owner), -1 out of memory. */
int compose_kept_read(struct ctx *c, const char *prefix, struct compose_kept *k_r);

/* Adds data.kept (name, value): the sign-in form's hidden fields for k. */
void compose_kept_fields(struct ctx *c, const struct compose_kept *k);

/* The sentence the sign-in page shows with k. */
const char *compose_kept_notice(struct ctx *c, const struct compose_kept *k);

/* page_compose.c ------------------------------------------------------ */

/* Shows the form again with `error` (status 400 or 413). Uploaded files
 * cannot be put back into a file input: their names are listed. */
void compose_form_error(struct compose *cp, int status, const char *error);

/* Shows the compose page filled with kept message k for the signed-in
 * user, with `error` or `notice` (NULL: none) and `status`; nothing is
 * sent or saved. The draft and original k names are kept only when they
 * are the user's and still there. */
void compose_kept_show(struct ctx *c, const struct compose_kept *k, int status,
		       const char *error, const char *notice);

/* The Priority select's value ("high", "normal", "low"; anything else
 * normal), and its name for the form. */
enum msgbuild_priority compose_priority_parse(const char *value);
const char *compose_priority_name(enum msgbuild_priority priority);

#endif
