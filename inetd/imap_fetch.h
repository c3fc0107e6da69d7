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
 * A multipart without children gets one empty text/plain part; a
 * message/rfc822 part not parsed as a message (encoded, or at a limit) an
 * all-NIL envelope and that empty part as its body. */
void imap_write_bodystructure(struct imap_session *s, const struct mime_part *part,
			      bool extended);

#endif
