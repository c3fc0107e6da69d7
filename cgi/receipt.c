/* Return receipts a message asks for (receipt.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "addrlist.h"
#include "log.h"
#include "mime.h"
#include "receipt.h"

/* Elements of a Disposition-Notification-To read: the first valid one is
 * the one honoured, and a list of many is a mailing, not a person. */
#define RECEIPT_ADDRESSES_MAX 10

/* The first field `name` of header block h, or false. */
static bool field_find(const char *h, size_t len, const char *name, struct mime_header_field *f)
{
	size_t pos = 0, n = strlen(name);
	while (mime_header_next(h, len, &pos, f) == 1)
		if (f->name_len == n && strncasecmp(f->name, name, n) == 0)
			return true;
	return false;
}

/* The first mailbox of an address field's value that is a complete
 * address (addrlist.h's rules) into out: 1; 0 none or a value that did not
 * parse cleanly; -1 out of memory. */
static int first_address(const char *value, size_t len, char out[STORE_ADDRESS_MAX + 1])
{
	struct address_list *l = NULL;
	int r = 0;
	if (address_list_parse(value, len, RECEIPT_ADDRESSES_MAX, &l) < 0)
		return -1;
	if (l->flags & ADDRESS_LIST_F_INVALID) {
		address_list_free(&l);
		return 0;
	}
	for (size_t i = 0; i < l->count && r == 0; i++) {
		const struct address *a = &l->addrs[i];
		if (a->host == NULL || a->host[0] == '\0' || a->route != NULL)
			continue;
		char *spec = address_addr_spec(a);
		if (spec == NULL) {
			r = -1;
			break;
		}
		if (strlen(spec) <= STORE_ADDRESS_MAX && addrlist_addr_valid(spec)) {
			strcpy(out, spec);
			r = 1;
		}
		free(spec);
	}
	address_list_free(&l);
	return r;
}

int receipt_request_parse(const char *h, size_t len, struct receipt_request *r)
{
	struct mime_header_field f;
	char rp[STORE_ADDRESS_MAX + 1];
	*r = (struct receipt_request){ 0 };
	if (h == NULL || !field_find(h, len, "Disposition-Notification-To", &f))
		return 0;
	int got = first_address(f.value, f.value_len, r->address);
	if (got <= 0)
		return got;
	/* a Return-Path of another address (or none, or null): the receipt
	 * would not go back to who sent the message */
	int same = field_find(h, len, "Return-Path", &f) ? first_address(f.value, f.value_len, rp)
							  : 0;
	if (same < 0)
		return -1;
	r->redirected = same == 0 || strcasecmp(rp, r->address) != 0;
	return 1;
}

bool receipt_mailbox_allowed(const struct store_mailbox *mb)
{
	return (mb->special_use & (STORE_SPECIAL_JUNK | STORE_SPECIAL_TRASH | STORE_SPECIAL_SENT |
				   STORE_SPECIAL_DRAFTS)) == 0;
}

struct keyword_find {
	int id;
};

static int keyword_cb(unsigned id, const char *name, void *ctx)
{
	struct keyword_find *k = ctx;
	if (strcasecmp(name, RECEIPT_KEYWORD) != 0)
		return 0;
	k->id = (int)id;
	return 1;
}

int receipt_answered(struct ctx *c, const struct store_msg *msg, const char **error_r)
{
	struct keyword_find k = { -1 };
	if (store_keyword_list(c->store, msg->mailbox_id, keyword_cb, &k, error_r) < 0)
		return -1;
	return k.id >= 0 && k.id < 64 && (msg->keywords & ((uint64_t)1 << k.id)) != 0;
}

void receipt_notice_fill(struct ctx *c, const struct store_mailbox *mb,
			 const struct store_msg *msg, const char *h)
{
	struct receipt_request req;
	const char *error;
	const char *done = ctx_query(c, "receipt");
	if (done != NULL && strcmp(done, "sent") == 0)
		tpl_str(c->data, "done", "Receipt sent.");
	else if (done != NULL && strcmp(done, "ignored") == 0)
		tpl_str(c->data, "done", "No receipt will be sent for this message.");
	if (h == NULL || !receipt_mailbox_allowed(mb) ||
	    receipt_request_parse(h, strlen(h), &req) != 1)
		return;
	int r = receipt_answered(c, msg, &error);
	if (r < 0)
		log_error("webmail: receipt: keywords: %s", error);
	if (r != 0)
		return;
	tpl_bool(c->data, "receipt_asked", true);
	tpl_str(c->data, "receipt_to", arena_strdup(c->a, req.address));
	tpl_bool(c->data, "receipt_redirected", req.redirected);
}
