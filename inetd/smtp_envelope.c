/* MAIL and RCPT: who may send and who may receive.
 *
 * MX mode takes mail from anyone for local recipients and relays for no
 * one; an authenticated session (submission always, MX when a client logs
 * in) relays anywhere, and its envelope sender must be the login's own
 * address, an alias that resolves to it, or the null path <> (SECURITY.md
 * 6: authority comes only from the authenticated principal, never from the
 * sender address). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "charset.h"
#include "dnsbl.h"
#include "log.h"
#include "mailauth.h"
#include "smtp.h"
#include "srs.h"

/* --------------------------------------------------------------- sender */

struct alias_find {
	const char *address;
	bool found;
};

static int alias_find_cb(const char *source, const char *target, void *ctx)
{
	struct alias_find *f = ctx;

	if (strcasecmp(source, f->address) == 0) {
		f->found = true;
		return 1;
	}
	return 0;
}

/* 1 if the authenticated user may use `path` as envelope sender, 0 if
 * not, -1 on a store error. Allowed: the null path (MDNs, RFC 8098, and
 * vacation replies, RFC 3834, are sent with it: it names nobody, and no
 * bounce is ever made for it), the login's own address, or an address that
 * is an explicit alias source (not merely caught by a catch-all) whose
 * expansion reaches the user. */
static int smtp_sender_allowed(struct smtp_session *s, const struct smtp_path *path)
{
	struct store_rcpt_target targets[STORE_ALIAS_TARGETS_MAX];
	struct store_user other;
	struct alias_find find = { path->address, false };
	const char *error = NULL;
	size_t n = 0;
	bool reaches = false;
	int r;

	if (path->null)
		return 1;
	if (path->quoted || path->literal)
		return 0;
	if (strcasecmp(path->address, s->user.address) == 0)
		return 1;
	r = store_user_find(s->store, path->address, &other, &error);
	if (r < 0)
		return -1;
	if (r == 1)
		return other.id == s->user.id ? 1 : 0; /* another user's address */
	switch (store_resolve(s->store, path->address, targets, STORE_ALIAS_TARGETS_MAX, &n,
			      &error)) {
	case STORE_RESOLVE_ERROR:
		return -1;
	case STORE_RESOLVE_OK:
		break;
	default:
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (targets[i].kind == STORE_RCPT_LOCAL && targets[i].user_id == s->user.id)
			reaches = true;
	if (!reaches)
		return 0;
	if (store_alias_list(s->store, alias_find_cb, &find, &error) < 0)
		return -1;
	return find.found ? 1 : 0;
}

static void smtp_txn_id_new(char id[SMTP_ID_HEX + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char rnd[SMTP_ID_HEX / 2];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* never short for 8 bytes; keep the id unique enough anyway */
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(rand() >> 8);
	}
	for (size_t i = 0; i < sizeof(rnd); i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 15];
	}
	id[SMTP_ID_HEX] = '\0';
}

int smtp_cmd_mail(struct smtp_session *s, char *args, size_t len)
{
	struct smtp_mail_args m;
	const char *reply = NULL;
	char safe[STORE_ADDRESS_MAX * 4 + 8];

	if (s->opt->mode == SMTP_MODE_SUBMISSION && !s->authenticated)
		return smtp_error(s, "530 5.7.0 Authentication required");
	if (!smtp_mail_parse(args, len, &m, &reply))
		return smtp_error(s, reply);
	if (!s->esmtp && (m.size_given || m.body_given || m.smtputf8 ||
			  m.ret != STORE_DSN_RET_DEFAULT || m.envid[0] != '\0'))
		return smtp_error(s, "555 5.5.4 MAIL parameters need EHLO");
	if (m.path.utf8 && !m.smtputf8)
		return smtp_error(s, "553 5.6.7 Non-ASCII addresses need SMTPUTF8");
	if (m.size_given && m.size > s->config->max_message_size) {
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
		return 0;
	}
	if (s->authenticated) {
		int r = smtp_sender_allowed(s, &m.path);

		if (r < 0) {
			smtp_reply(s, "451 4.3.0 Temporary lookup failure, try again later");
			return 0;
		}
		if (r == 0) {
			log_client("sender refused", s->user.address, conn_peer_ip(s->conn),
				   " from=<%s>", smtp_log_safe(safe, sizeof(safe), m.path.address));
			return smtp_error(s, "553 5.7.1 Sender address not owned by the "
					     "authenticated user");
		}
	}
	smtp_txn_reset(s);
	smtp_txn_id_new(s->txn.id);
	memcpy(s->txn.sender, m.path.address, sizeof(s->txn.sender));
	s->txn.smtputf8 = m.smtputf8;
	s->txn.body_8bit = m.body_8bit;
	s->txn.declared_size = m.size_given ? m.size : 0;
	s->txn.dsn_ret = m.ret;
	memcpy(s->txn.dsn_envid, m.envid, sizeof(s->txn.dsn_envid));
	s->rejected_rcpts = 0;
	s->state = SMTP_STATE_MAIL;
	smtp_reply(s, "250 2.1.0 Ok");
	return 0;
}

/* ------------------------------------------------------------ recipient */

/* Why nobody has `address`: for postmaster, which RFC 5321 4.5.1 says
 * MUST be accepted, the log says how to close the gap. */
static const char *smtp_no_user_reason(const char *address)
{
	const char *at = strchr(address, '@');
	size_t len = at != NULL ? (size_t)(at - address) : strlen(address);

	if (len == 10 && strncasecmp(address, "postmaster", len) == 0)
		return "no postmaster (RFC 5321 4.5.1: add an alias, or set postmaster in "
		       "pillarbox.conf)";
	return "no such user";
}

/* Quota of the targets (one address, or an alias's members): 1 if one of
 * them has room (a full member is queued for later at delivery), 0 if every
 * one is full, -1 store error. */
static int smtp_quota_room(struct smtp_session *s, const struct store_rcpt_target *targets,
			   size_t n)
{
	const char *full = NULL;

	for (size_t i = 0; i < n; i++) {
		struct store_user u;
		uint64_t bytes = 0;
		uint32_t messages = 0;
		const char *error = NULL;
		int r;

		if (targets[i].kind != STORE_RCPT_LOCAL)
			return 1;
		r = store_user_get(s->store, targets[i].user_id, &u, &error);
		if (r < 0)
			return -1;
		if (r == 0 || (u.quota_bytes == 0 && u.quota_messages == 0))
			return 1;
		if (store_user_usage(s->store, u.id, &bytes, &messages, &error) < 0)
			return -1;
		if ((u.quota_bytes != 0 &&
		     (bytes >= u.quota_bytes || s->txn.declared_size > u.quota_bytes - bytes)) ||
		    (u.quota_messages != 0 && messages >= u.quota_messages))
			full = targets[i].address;
		else
			return 1;
	}
	if (full != NULL)
		log_info("over quota id=%s rip=%s to=<%s>", s->txn.id, conn_peer_ip(s->conn), full);
	return full != NULL ? 0 : 1;
}

static int smtp_rcpt_refused(struct smtp_session *s, const struct smtp_path *p,
			     const char *why, const char *reply)
{
	char from[STORE_ADDRESS_MAX * 4 + 8], to[STORE_ADDRESS_MAX * 4 + 8];

	log_client("rcpt refused", s->authenticated ? s->user.address : "", conn_peer_ip(s->conn),
		   " id=%s from=<%s> to=<%s> reason=%s", s->txn.id,
		   smtp_log_safe(from, sizeof(from), s->txn.sender),
		   smtp_log_safe(to, sizeof(to), p->address), why);
	s->rejected_rcpts++;
	return smtp_error(s, reply);
}

/* DNS blocklists (dnsbl.h, `dnsbl`): whether the MX refuses this client.
 * Looked up at the first RCPT (a client that only probes costs no lookup,
 * and AUTH before it exempts the client), once per connection: the answer
 * is about the address, which STARTTLS does not change. Never asked for a
 * client that logged in, nor for loopback ones (local programs). */
static bool smtp_dnsbl_listed(struct smtp_session *s)
{
	const char *ip = conn_peer_ip_or_null(s->conn);
	struct mailauth_dns md;
	struct dnsbl_result r;

	if (s->opt->mode != SMTP_MODE_MX || s->authenticated || s->config->dnsbl == NULL ||
	    ip == NULL || conn_peer_is_loopback(s->conn))
		return false;
	if (s->dnsbl_checked)
		return s->dnsbl_reply[0] != '\0';
	s->dnsbl_checked = true;
	/* without a resolver every zone fails: logged there, not listed */
	mailauth_dns_init(&md, smtp_resolver(s), DNSBL_BUDGET_SECONDS);
	dnsbl_check(&md.lookup, ip, s->config->dnsbl, &r);
	if (!r.listed)
		return false;
	log_client("dnsbl listed", "", ip, " zone=%s code=%s", r.zone, r.code);
	/* Postfix's words, which admins and senders' postmasters know */
	snprintf(s->dnsbl_reply, sizeof(s->dnsbl_reply),
		 "554 5.7.1 Service unavailable; client [%s] blocked using %s", ip, r.zone);
	return true;
}

int smtp_cmd_rcpt(struct smtp_session *s, char *args, size_t len)
{
	struct store_rcpt_target targets[STORE_ALIAS_TARGETS_MAX];
	struct smtp_path p;
	struct smtp_rcpt_dsn dsn;
	char address[STORE_ADDRESS_MAX + 1];
	const char *reply = NULL, *error = NULL;
	enum store_resolve_result res;
	size_t n = 0;
	bool remote = false;
	int r;

	if (!smtp_rcpt_parse(args, len, &p, &dsn, &reply)) {
		s->rejected_rcpts++;
		return smtp_error(s, reply);
	}
	bool dsn_given = dsn.notify != 0 || dsn.orcpt[0] != '\0';
	if (dsn_given && !s->esmtp) {
		s->rejected_rcpts++;
		return smtp_error(s, "555 5.5.4 RCPT parameters need EHLO");
	}
	/* RFC 6533 3: a UTF-8 ORCPT belongs to an SMTPUTF8 transaction */
	if (!s->txn.smtputf8 && !charset_ascii(dsn.orcpt, strlen(dsn.orcpt)))
		return smtp_rcpt_refused(s, &p, "8-bit ORCPT without SMTPUTF8",
					 "553 5.6.7 Non-ASCII ORCPT needs SMTPUTF8");
	if (smtp_dnsbl_listed(s))
		return smtp_rcpt_refused(s, &p, "dnsbl", s->dnsbl_reply);
	if (p.utf8 && !s->txn.smtputf8)
		return smtp_rcpt_refused(s, &p, "8-bit without SMTPUTF8",
					 "553 5.6.7 Non-ASCII addresses need SMTPUTF8");
	/* Duplicates and full mailboxes count too (as Postfix counts every
	 * recipient accepted), or a client could repeat them for ever, each
	 * one a store lookup that is not an error. */
	if (s->txn.looked_up >= s->max_recipients) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return 0;
	}
	if (p.literal)
		return smtp_rcpt_refused(s, &p, "address literal",
					 s->authenticated ? "550 5.1.2 Address literals are not "
							    "accepted as recipients"
							  : "554 5.7.1 Relay access denied");
	/* A quoted local part is nobody here (the store's addresses are
	 * dot-atoms); store_resolve says so, or that its domain is another's,
	 * where an authenticated session relays it as received. */
	memcpy(address, p.address, sizeof(address));
	/* bare <Postmaster> is recorded (Received:, the store at DATA) as the
	 * address it names here */
	if (p.postmaster && store_postmaster_name(s->store, address, sizeof(address), &error) < 0)
		res = STORE_RESOLVE_ERROR;
	else
		res = store_resolve(s->store, address, targets, STORE_ALIAS_TARGETS_MAX, &n,
				    &error);
	switch (res) {
	case STORE_RESOLVE_ERROR:
		log_error("resolve %s: %s", address, error != NULL ? error : "store error");
		smtp_reply(s, "451 4.3.0 Temporary lookup failure, try again later");
		return 0;
	case STORE_RESOLVE_NOT_LOCAL:
		if (!s->authenticated)
			return smtp_rcpt_refused(s, &p, "relay denied",
						 "554 5.7.1 Relay access denied");
		remote = true;
		break;
	case STORE_RESOLVE_NO_USER:
		/* a bounce to a forged, expired or garbled SRS address (srs.h):
		 * the log says which */
		if (srs_address_ours(s->config, address))
			return smtp_rcpt_refused(s, &p, error != NULL ? error : "SRS address",
						 "550 5.1.1 Invalid or expired SRS address");
		return smtp_rcpt_refused(s, &p, smtp_no_user_reason(address),
					 "550 5.1.1 No such user here");
	case STORE_RESOLVE_DISABLED:
		return smtp_rcpt_refused(s, &p, "disabled", "550 5.2.1 Mailbox disabled");
	case STORE_RESOLVE_OK:
		for (size_t i = 0; i < n; i++)
			if (targets[i].kind == STORE_RCPT_REMOTE)
				remote = true;
		r = smtp_quota_room(s, targets, n);
		if (r < 0) {
			smtp_reply(s, "451 4.3.0 Temporary lookup failure, try again later");
			return 0;
		}
		if (r == 0) {
			s->rejected_rcpts++;
			s->txn.looked_up++;
			smtp_reply(s, s->opt->quota_tempfail ? "452 4.2.2 Mailbox full"
							     : "552 5.2.2 Mailbox full");
			return 0;
		}
		break;
	}
	/* The same recipient twice is accepted and delivered once (the
	 * store also removes duplicates after alias expansion). Another
	 * server's local parts may differ by case alone. */
	for (size_t i = 0; i < s->txn.nrcpts; i++) {
		if (remote ? store_address_same_remote(s->txn.rcpts[i], address)
			   : strcasecmp(s->txn.rcpts[i], address) == 0) {
			s->txn.looked_up++;
			smtp_reply(s, "250 2.1.5 Ok");
			return 0;
		}
	}
	/* Aliases multiply recipients: past what one delivery takes, DATA
	 * could only fail, and again at every retry. Duplicates across
	 * recipients are counted, which errs on the safe side. */
	if (res != STORE_RESOLVE_OK)
		n = 1;
	if (n > STORE_DELIVER_TARGETS_MAX - s->txn.ntargets) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return 0;
	}
	if (dsn_given && s->txn.rcpt_dsn == NULL &&
	    (s->txn.rcpt_dsn = calloc(s->max_recipients, sizeof(*s->txn.rcpt_dsn))) == NULL) {
		smtp_reply(s, "451 4.3.0 Out of memory, try again later");
		return 0;
	}
	if (dsn_given) {
		s->txn.rcpt_dsn[s->txn.nrcpts] = dsn;
		s->txn.dsn_given = true;
	}
	s->txn.ntargets += n;
	s->txn.looked_up++;
	memcpy(s->txn.rcpts[s->txn.nrcpts], address, sizeof(address));
	s->txn.rcpt_ptrs[s->txn.nrcpts] = s->txn.rcpts[s->txn.nrcpts];
	s->txn.nrcpts++;
	s->txn.remote_rcpt |= remote;
	s->state = SMTP_STATE_RCPT;
	smtp_reply(s, "250 2.1.5 Ok");
	return 0;
}
