/* FETCH's writers of message structure (imap_bodystructure.c), from the
 * MIME tree cached at delivery. */
#ifndef PB_IMAP_FETCH_H
#define PB_IMAP_FETCH_H

#include <stdbool.h>

#include "imap.h"
#include "mime.h"

/* ENVELOPE: "(date subject from sender reply-to to cc bcc in-reply-to
 * message-id)"; Sender and Reply-To default to From. NULL writes an
 * all-NIL envelope. */
void imap_write_envelope(struct imap_session *s, const struct mime_envelope *env);

/* BODYSTRUCTURE (extended = true) or BODY of a part and everything below.
 * A multipart without children gets one empty text/plain part. */
void imap_write_bodystructure(struct imap_session *s, const struct mime_part *part,
			      bool extended);

#endif
