/* An opened message for the webmail: its record, its body reader and its
 * MIME tree (from the cache made at delivery: never parsed again), and the
 * ways to get a part's content out (decoded to UTF-8 text for display, or
 * streamed for download). Transfer decoding is the shared codecs (codec.h),
 * charsets the shared converter (charset.h). */
#ifndef PB_CGI_MSGPART_H
#define PB_CGI_MSGPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "mime.h"
#include "store.h"

/* Text shown on a page: larger text parts are cut here (with a note and the
 * download link). */
#define MSGPART_TEXT_MAX ((size_t)2 * 1024 * 1024)

struct msgview {
	struct store_msg msg;
	struct store_msg_reader *reader;
	struct mime_message *mime;
	uint16_t prefix_len;
};

/* Opens message `uid` of `mailbox_id`. 1 opened, 0 no such message, -1
 * error (*error_r). */
int msgview_open(struct store *store, uint32_t mailbox_id, uint32_t uid, struct msgview *v,
		 const char **error_r);
/* The same for a message record already read (list scans). */
int msgview_open_msg(struct store *store, const struct store_msg *msg, struct msgview *v,
		     const char **error_r);
void msgview_close(struct msgview *v);

/* Part number `index` in pre-order (0 = the root), or NULL. */
const struct mime_part *msgview_part(const struct msgview *v, uint32_t index);
uint32_t msgview_part_index(const struct msgview *v, const struct mime_part *part);
/* The name of a part that has none: "part-N.ext", ext from its type (html,
 * txt for text and the readable reports: delivery status, read receipts;
 * bin for the rest). */
const char *msgview_part_fallback_name(struct arena *a, const struct msgview *v,
				       const struct mime_part *part);

/* The part's body, transfer-decoded, and converted to UTF-8 when `text`
 * (charset parameter; none = the raw 8-bit rule), at most `max` bytes of
 * input read (*truncated_r set when cut). A new malloc'd NUL-terminated
 * buffer. 1, or -1 (*error_r). */
int msgview_part_decode(struct msgview *v, const struct mime_part *part, size_t max, bool text,
			char **out_r, size_t *len_r, bool *truncated_r, const char **error_r);

/* A stream of the part's decoded body for a download. The stream owns the
 * view from then on (it is closed with the stream). 0 or -1. */
int msgview_part_stream(struct msgview *v, const struct mime_part *part, struct http_stream *s);
/* A stream of the whole raw message (prefix + body); owns the view too. */
int msgview_raw_stream(struct msgview *v, struct http_stream *s);

/* The raw header block of a part as text (CRLF kept), into an arena copy;
 * NULL on error. For "all headers". At most 256 KiB. */
char *msgview_header_text(struct msgview *v, const struct mime_part *part, struct arena *a);

/* Decodes a raw header value for display (RFC 2047, UTF-8, never NULL). */
const char *header_decode(struct arena *a, const char *raw);

/* The decoded size estimate of a part body (base64 shrinks by 3/4). */
uint64_t msgview_part_size(const struct mime_part *part);

/* true if `part` is text/<subtype> */
bool part_is(const struct mime_part *part, const char *type, const char *subtype);

#endif
