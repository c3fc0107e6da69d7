/* The message sink that DATA and BDAT both feed (smtp_deliver.c): client
 * bytes go through the reader state machine (smtp_data.h: DATA's
 * dot-stuffed framing or BDAT's counted one), the header block is held
 * and looked at (smtp_header.h), the sender and spam checks run on the
 * MX, the message is streamed into a body file, and at the end one
 * store_deliver() stores it durably before the reply. So both commands
 * apply the same rules to the stored message, written once. */
#ifndef PB_SMTP_MSG_H
#define PB_SMTP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp.h"
#include "smtp_data.h"

/* The most client bytes one smtp_msg_feed() call may take. */
#define SMTP_MSG_FEED_MAX SMTP_DATA_LINE_MAX

/* Starts the message of the session's transaction, in BDAT's counted
 * framing or DATA's. NULL when it cannot start (logged): *reply_r is the
 * temporary error to answer (no room in the store, a local error). */
struct smtp_msg *smtp_msg_start(struct smtp_session *s, bool counted, const char **reply_r);
void smtp_msg_free(struct smtp_msg **msg);

/* Feeds len (<= SMTP_MSG_FEED_MAX) client bytes: SMTP_DATA_END or
 * LOOSE_END when DATA's framing found its end (the bytes after it are not
 * taken: DATA feeds line by line), else SMTP_DATA_MORE. */
enum smtp_data_status smtp_msg_feed(struct smtp_msg *msg, const char *in, size_t len);

/* BDAT: `octets` more are announced; past max_message_size the message
 * is refused at once (552), so that the chunk need only be read away. */
void smtp_msg_expect(struct smtp_msg *msg, uint64_t octets);

/* true once the message is refused: nothing will be stored. */
bool smtp_msg_failed(const struct smtp_msg *msg);
/* The reply of a refused message (a fixed text). */
const char *smtp_msg_error_reply(const struct smtp_msg *msg);
/* Logs the refusal and replies; a permanent one counts as a session
 * error. 0 go on, -1 close (too many errors). */
int smtp_msg_refuse(struct smtp_msg *msg);

/* The data is all in: for the counted framing, its end is settled
 * (smtp_data_finish); then the checks, the store, and the reply (250 only
 * once committed). 0 go on, -1 close. */
int smtp_msg_commit(struct smtp_msg *msg);

/* The client went away or timed out in the middle: logged. */
void smtp_msg_aborted(struct smtp_msg *msg, const char *why);

#endif
