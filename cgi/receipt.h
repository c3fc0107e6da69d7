/* Return receipts a message asks for (RFC 8098 2.1): what its header
 * requests, whether the user answered already, the notice on the message
 * page (receipt.c) and its two buttons, POST /receipt (page_receipt.c).
 *
 * Nothing is ever sent without the user's click. Only one address is
 * honoured: the first valid mailbox of the first Disposition-Notification-
 * To field; a field that does not parse cleanly asks for nothing. A
 * message is answered once its IMAP keyword $MDNSent is set (Thunderbird
 * sets the same one, so a receipt sent from either client counts). No
 * notice and no receipt for a message in Junk or Trash (a spammer's way to
 * confirm an address), nor in Sent or Drafts (the user's own). */
#ifndef PB_CGI_RECEIPT_H
#define PB_CGI_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "store.h"

/* The keyword that marks a message whose receipt was sent or declined. */
#define RECEIPT_KEYWORD "$MDNSent"

struct receipt_request {
	char address[STORE_ADDRESS_MAX + 1];   /* where the receipt would go */
	bool redirected;    /* not the Return-Path's address (RFC 8098 2.1's warning) */
};

/* Reads the request from a message's header block h[0..len). 1 with *r
 * filled; 0 none asked, or a Disposition-Notification-To that is not a
 * clean address list, or one without a valid address; -1 out of memory. */
int receipt_request_parse(const char *h, size_t len, struct receipt_request *r);

/* true when a receipt may be offered for a message in mailbox mb. */
bool receipt_mailbox_allowed(const struct store_mailbox *mb);

/* Whether message msg carries RECEIPT_KEYWORD: 1 yes, 0 no, -1 store error
 * (*error_r). */
int receipt_answered(struct ctx *c, const struct store_msg *msg, const char **error_r);

/* The message page's notice (data.receipt_asked, receipt_to,
 * receipt_redirected) for message msg of mailbox mb with header block h,
 * when it asks for a receipt not yet answered; and data.done after a
 * button (?receipt=sent|ignored). A store error is logged and shows no
 * notice. */
void receipt_notice_fill(struct ctx *c, const struct store_mailbox *mb,
			 const struct store_msg *msg, const char *h);

#endif
