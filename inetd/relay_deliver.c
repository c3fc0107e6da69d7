/* One queue entry, start to end: every pending recipient is tried (grouped
 * by domain: one SMTP transaction per domain and host), the outcomes and
 * the next attempt are committed in one transaction, then the failed
 * recipients are reported to the sender in a DSN, marked returned in the
 * transaction that delivers (or queues) the DSN: a relay killed at any
 * moment sends it once, never not at all. Recipients whose domain became
 * local are marked sent in their delivery's transaction likewise. A DSN
 * the sender's full mailbox cannot take stays owed in the entry and is
 * retried like mail. */
#include <config.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "process.h"
#include "relay.h"
#include "relay_dsn.h"
#include "relay_smtp.h"

/* Header bytes scanned for non-ASCII (SMTPUTF8) and quoted in a DSN. */
#define RELAY_HEADER_SCAN_MAX (DSN_HEADERS_MAX + 1)
/* An address as sent in MAIL and RCPT, its domain in A-labels: longer than
 * the U-label form it was queued in. */
#define RELAY_ADDRESS_SENT_MAX (STORE_ADDRESS_MAX + STORE_DOMAIN_MAX + 2)

unsigned relay_retry_delay(uint32_t attempts)
{
	unsigned delay = RELAY_RETRY_MIN;

	for (uint32_t i = 1; i < attempts && delay < RELAY_RETRY_MAX; i++)
		delay *= 2;
	return delay < RELAY_RETRY_MAX ? delay : RELAY_RETRY_MAX;
}

struct job {
	struct relay *relay;
	struct outq_entry *e;
	int64_t now;
	int fd;                       /* the body, -1 if missing */
	struct relay_message msg;
	char sender[RELAY_ADDRESS_SENT_MAX]; /* msg.sender, when converted */
	char *headers;                /* the header block (up to the scan limit) */
	size_t headers_len;
	char last_error[OUTQ_ERROR_MAX + 1];
	char *dkim;                   /* msg.dkim: signed once an attempt, when the
					 first remote domain is reached */
	bool dkim_done;
	bool gone;                    /* deleted (done), or the lease was lost */
	bool deleted;
};

static void rcpt_set(struct job *j, size_t i, enum outq_rcpt_state state, const char *reply,
		     const char *status, const char *mta)
{
	struct outq_rcpt *r = &j->e->rcpts[i];
	static const char *const names[] = { "deferred", "sent", "bounced", "returned",
					     "delivered" };
	struct outq_rcpt next;

	/* Through a copy: the arguments may be this recipient's own fields. */
	snprintf(next.reply, sizeof(next.reply), "%s", reply != NULL ? reply : "");
	snprintf(next.status, sizeof(next.status), "%s", status != NULL ? status : "");
	snprintf(next.mta, sizeof(next.mta), "%s", mta != NULL ? mta : "");
	r->state = state;
	memcpy(r->reply, next.reply, sizeof(r->reply));
	memcpy(r->status, next.status, sizeof(r->status));
	memcpy(r->mta, next.mta, sizeof(r->mta));
	r->updated = j->now;
	log_info("queue=%s to=<%s> status=%s%s%s reply=\"%s\"", j->e->id, r->address,
		 names[state], r->mta[0] != '\0' ? " mta=" : "", r->mta, r->reply);
	if (state == OUTQ_RCPT_PENDING && j->last_error[0] == '\0')
		snprintf(j->last_error, sizeof(j->last_error), "<%s>: %s", r->address, r->reply);
}

static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL ? at + 1 : "";
}

/* ------------------------------------------------------------ IDNA */

static bool has_utf8(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* The domain of `address` as DNS knows it, into dst: an internationalized
 * one in A-labels (the store converts it, loading libidn2), anything else
 * (an ASCII name, an address literal) as it is. 1, 0 not a valid IDN, -1
 * libidn2 missing; *error_r says why. */
static int rcpt_domain(const char *address, char dst[STORE_DOMAIN_MAX + 1], const char **error_r)
{
	const char *domain = domain_of(address);

	if (!has_utf8(domain)) {
		snprintf(dst, STORE_DOMAIN_MAX + 1, "%s", domain);
		return 1;
	}
	return store_domain_ascii(domain, dst, error_r);
}

/* `address` as sent: with `domain` (its A-label form) for its domain. RFC
 * 6531 3.2: the A-label is the same domain, so a server without SMTPUTF8
 * takes it, and only a UTF-8 local part needs that extension. */
static const char *address_sent(const char *address, const char *domain, char *buf, size_t size)
{
	const char *at = strrchr(address, '@');

	if (at == NULL || strcmp(at + 1, domain) == 0)
		return address;
	snprintf(buf, size, "%.*s@%s", (int)(at - address), address, domain);
	return buf;
}

/* MAIL FROM's address: its domain in A-labels when it converts (else as
 * queued: the server judges it). */
static const char *sender_sent(struct job *j)
{
	char domain[STORE_DOMAIN_MAX + 1];
	const char *error = NULL;

	if (!has_utf8(domain_of(j->e->sender)) || rcpt_domain(j->e->sender, domain, &error) != 1)
		return j->e->sender;
	return address_sent(j->e->sender, domain, j->sender, sizeof(j->sender));
}

/* ------------------------------------------------------------ local */

/* A recipient in one of our own domains (it became local after the mail
 * was queued): delivered into the store, never sent out. */
static void deliver_local(struct job *j, size_t i)
{
	struct store *store = j->relay->store;
	const char *addr = j->e->rcpts[i].address, *error = NULL;
	struct store_rcpt_target targets[STORE_ALIAS_TARGETS_MAX];
	struct store_body_writer *w = NULL;
	struct store_body *body = NULL;
	char buf[65536];
	uint64_t off = 0;
	size_t n;
	int r;

	r = store_resolve(store, addr, targets, STORE_ALIAS_TARGETS_MAX, &n, &error);
	if (r == STORE_RESOLVE_NO_USER || r == STORE_RESOLVE_DISABLED) {
		rcpt_set(j, i, OUTQ_RCPT_FAILED, "550 5.1.1 no such user here", "5.1.1", NULL);
		return;
	}
	if (r != STORE_RESOLVE_OK || j->fd < 0) {
		rcpt_set(j, i, OUTQ_RCPT_PENDING, r < 0 ? error : "local delivery failed", "4.3.0", NULL);
		return;
	}
	/* A copy of the body through the public API (the queued one belongs
	 * to the queue entry). */
	if (store_body_create(store, &w, &error) < 0)
		goto temp;
	for (;;) {
		ssize_t got = pread(j->fd, buf, sizeof(buf), (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			error = strerror(errno);
			store_body_abort(&w);
			goto temp;
		}
		if (got == 0)
			break;
		off += (uint64_t)got;
		if (store_body_write(w, buf, (size_t)got, &error) <= 0) {
			store_body_abort(&w);
			goto temp;
		}
	}
	if (store_body_finish(&w, &body, &error) <= 0)
		goto temp;
	const char *rcpts[1] = { addr };
	uint32_t settled[1] = { (uint32_t)i };
	/* Marked sent in the delivering transaction: never delivered twice. */
	struct store_delivery d = {
		.sender = j->e->sender, .recipients = rcpts, .nrecipients = 1, .body = body,
		.add_prefix = true, .outq_id = j->e->id, .outq_rcpts = settled, .outq_nrcpts = 1,
	};

	r = store_deliver(store, &d, NULL, NULL, &error);
	store_body_free(&body);
	if (r == 1) {
		/* as queue_rcpts_settle_txn recorded it */
		rcpt_set(j, i, outq_rcpt_done_state(j->e, &j->e->rcpts[i], false),
			 "delivered locally", "2.0.0", NULL);
		return;
	}
	if (r == 0) {
		char why[OUTQ_REPLY_MAX];

		snprintf(why, sizeof(why), "452 4.2.2 %s", error != NULL ? error : "over quota");
		rcpt_set(j, i, OUTQ_RCPT_PENDING, why, "4.2.2", NULL);
		return;
	}
temp:
	rcpt_set(j, i, OUTQ_RCPT_PENDING, error != NULL ? error : "local delivery failed", "4.3.0",
		 NULL);
}

/* ------------------------------------------------------------- remote */

struct hop {
	char host[DNS_HOST_MAX];
	bool system;        /* resolved with getaddrinfo (route, relayhost) */
};

/* Addresses of a route or relayhost name: literals as they are, names
 * through the system resolver (/etc/hosts included). */
static int hop_addrs_system(const char *host, uint16_t port, struct dns_addr *out, size_t max,
			    size_t *n_r, const char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char portstr[8];
	int r;

	*n_r = 0;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r != 0) {
		*error_r = gai_strerror(r);
		return r == EAI_NONAME ? DNS_NXDOMAIN : DNS_TEMPFAIL;
	}
	for (struct addrinfo *ai = res; ai != NULL && *n_r < max; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(out[0].sa))
			continue;
		memset(&out[*n_r], 0, sizeof(out[0]));
		memcpy(&out[*n_r].sa, ai->ai_addr, ai->ai_addrlen);
		out[*n_r].len = ai->ai_addrlen;
		(*n_r)++;
	}
	freeaddrinfo(res);
	return *n_r > 0 ? DNS_FOUND : DNS_NODATA;
}

/* Applies a session's results; true if every recipient is settled for
 * this attempt (no further address is tried). */
static void results_apply(struct job *j, const size_t *idx, size_t n,
			  const struct relay_result *res, const char *mta)
{
	for (size_t k = 0; k < n; k++) {
		const struct outq_rcpt *rc = &j->e->rcpts[idx[k]];
		enum outq_rcpt_state st =
			res[k].outcome == RELAY_OUTCOME_SENT ? outq_rcpt_done_state(j->e, rc, res[k].reported)
			: res[k].outcome == RELAY_OUTCOME_PERM ? OUTQ_RCPT_FAILED
							       : OUTQ_RCPT_PENDING;

		rcpt_set(j, idx[k], st, res[k].reply, res[k].status, mta);
	}
}

static void all_set(struct job *j, const size_t *idx, size_t n, enum outq_rcpt_state st,
		    const char *reply, const char *status, const char *mta)
{
	for (size_t k = 0; k < n; k++)
		rcpt_set(j, idx[k], st, reply, status, mta);
}

/* Renews the claim before a session to `n` recipients for as long as the
 * session may last within the configured timeouts (and the usual lease on
 * top), so that no other relay takes the entry over while this one may
 * still deliver it. 1 still ours, 0 lost (logged), -1 store error. */
static int lease_for_session(struct job *j, size_t n)
{
	const struct relay_config *rc = j->relay->rc;
	uint64_t lease = RELAY_LEASE_SECONDS + (uint64_t)rc->connect_timeout +
			 (uint64_t)rc->timeout * (RELAY_SESSION_WAITS + 2 * (uint64_t)n) +
			 j->e->size / RELAY_DATA_MIN_RATE;
	const char *error = NULL;
	int r = outq_renew(j->relay->store, j->e->id, time(NULL),
			   lease < UINT32_MAX ? (unsigned)lease : UINT32_MAX, &error);

	if (r == 0)
		log_warning("queue=%s: lease lost, leaving the entry", j->e->id);
	else if (r < 0)
		log_error("queue=%s: %s", j->e->id, error);
	return r;
}

static void deliver_batch(struct job *j, const char *domain, const size_t *idx, size_t n)
{
	struct relay *relay = j->relay;
	const struct config *config = relay->config;
	const struct config_route *route = config_route_find(config, domain);
	struct dns_mx mx[DNS_MX_MAX];
	struct dns_addr addrs[2 * DNS_ADDRS_MAX];
	struct relay_result *res = calloc(n, sizeof(*res)), *kept = calloc(n, sizeof(*kept));
	const char **rcpts = calloc(n, sizeof(*rcpts));
	struct store_dsn_rcpt *rcpt_dsn = calloc(n, sizeof(*rcpt_dsn));
	char (*sent)[RELAY_ADDRESS_SENT_MAX] = calloc(n, sizeof(*sent));
	char error[OUTQ_REPLY_MAX + 1] = "", mta[OUTQ_MTA_MAX + 1] = "";
	enum relay_tls_policy policy;
	const char *why = NULL;
	uint16_t port;
	size_t nmx = 0, tries = 0;
	bool system = false, auth = false, null_mx = false, temp = false, any = false;
	char kept_mta[OUTQ_MTA_MAX + 1] = "";
	char *relayhost = NULL;
	int st;

	if (res == NULL || kept == NULL || rcpts == NULL || rcpt_dsn == NULL || sent == NULL) {
		all_set(j, idx, n, OUTQ_RCPT_PENDING, "out of memory", "4.3.0", NULL);
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		const struct outq_rcpt *rc = &j->e->rcpts[idx[k]];

		rcpts[k] = address_sent(rc->address, domain, sent[k], sizeof(sent[k]));
		rcpt_dsn[k] = (struct store_dsn_rcpt){ rc->notify, rc->orcpt };
	}
	j->msg.rcpt_dsn = rcpt_dsn;

	if (domain[0] == '[') {
		/* An address literal (RFC 5321 4.1.3): that host, no DNS. */
		const char *lit = domain + 1;
		size_t len = strlen(lit);

		if (strncasecmp(lit, "IPv6:", 5) == 0) {
			lit += 5;
			len -= 5;
		}
		if (len < 2 || lit[len - 1] != ']' || len > sizeof(mx[0].host)) {
			all_set(j, idx, n, OUTQ_RCPT_FAILED, "bad address literal", "5.1.2", NULL);
			goto out;
		}
		snprintf(mx[0].host, sizeof(mx[0].host), "%.*s", (int)(len - 1), lit);
		nmx = 1;
		port = relay->rc->smtp_port;
		system = true;
		policy = relay_config_policy(relay->rc, domain, false);
	} else if (route != NULL) {
		snprintf(mx[0].host, sizeof(mx[0].host), "%s", route->host);
		nmx = 1;
		port = route->port;
		system = true;
		policy = relay_config_policy(relay->rc, domain, true);
	} else if (config->relayhost != NULL) {
		if (config_hostport_parse(config->relayhost, &relayhost, &port, &why) < 0) {
			all_set(j, idx, n, OUTQ_RCPT_PENDING, why, "4.3.5", NULL);
			goto out;
		}
		snprintf(mx[0].host, sizeof(mx[0].host), "%s", relayhost);
		nmx = 1;
		system = true;
		auth = relay->rc->auth_file != NULL;
		policy = relay->rc->relayhost_tls_policy;
	} else {
		port = relay->rc->smtp_port;
		policy = relay_config_policy(relay->rc, domain, false);
		st = dns_mx(relay->resolver, domain, mx, DNS_MX_MAX, &nmx, &null_mx, &why);
		if (st == DNS_NXDOMAIN) {
			snprintf(error, sizeof(error), "domain %s does not exist (DNS: %s)", domain, why);
			all_set(j, idx, n, OUTQ_RCPT_FAILED, error, "5.1.2", NULL);
			goto out;
		}
		if (st == DNS_TEMPFAIL) {
			snprintf(error, sizeof(error), "DNS: %s", why);
			all_set(j, idx, n, OUTQ_RCPT_PENDING, error, "4.4.3", NULL);
			goto out;
		}
		if (null_mx) {
			snprintf(error, sizeof(error), "domain %s does not accept mail (null MX, RFC 7505)",
				 domain);
			all_set(j, idx, n, OUTQ_RCPT_FAILED, error, "5.1.10", NULL);
			goto out;
		}
		if (st == DNS_NODATA) {
			/* RFC 5321 5.1: the domain itself, as if MX 0. */
			snprintf(mx[0].host, sizeof(mx[0].host), "%s", domain);
			nmx = 1;
		}
	}

	for (size_t h = 0; h < nmx && tries < RELAY_TRIES_PER_DOMAIN; h++) {
		size_t na = 0;

		st = system ? hop_addrs_system(mx[h].host, port, addrs, 2 * DNS_ADDRS_MAX, &na, &why)
			    : dns_addrs(relay->resolver, mx[h].host, port, addrs,
					      2 * DNS_ADDRS_MAX, &na, &why);
		if (st != DNS_FOUND) {
			if (nmx == 1 && route == NULL && config->relayhost == NULL &&
			    st != DNS_TEMPFAIL) {
				snprintf(error, sizeof(error), "%s has no MX and no address record (%s)",
					 domain, why);
				all_set(j, idx, n, OUTQ_RCPT_FAILED, error, "5.1.2", NULL);
				goto out;
			}
			snprintf(error, sizeof(error), "%s: %s", mx[h].host, why);
			continue;
		}
		for (size_t a = 0; a < na && tries < RELAY_TRIES_PER_DOMAIN; a++) {
			struct relay_target t = { .host = mx[h].host, .addr = &addrs[a], .tls = policy,
						  .auth = auth };
			int s;

			/* A long message to many hosts: keep the claim fresh. */
			if (lease_for_session(j, n) == 0) {
				j->gone = true;
				goto out;
			}
			tries++;
			s = relay_smtp_session(relay, &t, &j->msg, rcpts, n, false, res, mta,
					       sizeof(mta), error, sizeof(error));
			if (s == RELAY_SESSION_TLS_FAILED) {
				log_info("queue=%s %s: trying again without TLS", j->e->id, error);
				if (lease_for_session(j, n) == 0) {
					j->gone = true;
					goto out;
				}
				s = relay_smtp_session(relay, &t, &j->msg, rcpts, n, true, res, mta,
						       sizeof(mta), error, sizeof(error));
			}
			if (s == RELAY_SESSION_DONE && !res[0].unsuited) {
				results_apply(j, idx, n, res, mta);
				goto out;
			}
			/* Kept unless a later host does better. A host that
			 * answered 4xx may take the message later; one that
			 * lacks what it needs (8BITMIME, SMTPUTF8, SIZE) never
			 * will, so its refusal is returned to the sender only
			 * when no host did better in this attempt. */
			if (s == RELAY_SESSION_TEMP || (s == RELAY_SESSION_DONE && !temp)) {
				memcpy(kept, res, n * sizeof(*kept));
				snprintf(kept_mta, sizeof(kept_mta), "%s", mta);
				temp = s == RELAY_SESSION_TEMP;
				any = true;
			}
			log_info("queue=%s domain=%s attempt failed: %s", j->e->id, domain, error);
			if (process_stop_requested)
				break;
		}
		if (process_stop_requested)
			break;
	}
	if (any)
		results_apply(j, idx, n, kept, kept_mta);   /* the servers' own replies */
	else
		all_set(j, idx, n, OUTQ_RCPT_PENDING, error[0] != '\0' ? error : "no host to try",
			"4.4.1", NULL);
out:
	j->msg.rcpt_dsn = NULL;
	free(relayhost);
	free(res);
	free(kept);
	free(rcpts);
	free(rcpt_dsn);
	free(sent);
}

/* A domain's recipients, at most RELAY_RCPTS_PER_SESSION to a transaction
 * (RFC 5321 4.5.3.1.8: servers need take no more than 100; past their limit
 * they answer 452, which would repeat on every retry). */
static void deliver_domain(struct job *j, const char *domain, const size_t *idx, size_t n)
{
	if (!j->dkim_done && j->fd >= 0) {
		relay_dkim_sign(j->relay, j->e, j->fd, &j->dkim, &j->msg.dkim_len);
		j->msg.dkim = j->dkim;
		j->msg.size = j->e->size + j->msg.dkim_len;
		j->dkim_done = true;
	}
	for (size_t k = 0; k < n && !process_stop_requested && !j->gone;
	     k += RELAY_RCPTS_PER_SESSION)
		deliver_batch(j, domain, idx + k,
			      n - k < RELAY_RCPTS_PER_SESSION ? n - k : RELAY_RCPTS_PER_SESSION);
}

/* --------------------------------------------------------------- DSN */

/* Whether recipient i goes into the entry's DSN: failed, unless its
 * NOTIFY left FAILURE out; delivered with a success DSN owed. */
static bool dsn_lists(const struct outq_entry *e, uint32_t i)
{
	const struct outq_rcpt *rc = &e->rcpts[i];

	return (rc->state == OUTQ_RCPT_FAILED && outq_rcpt_failure_wanted(e, rc)) ||
	       rc->state == OUTQ_RCPT_DELIVERED;
}

static enum dsn_action dsn_action_of(const struct outq_rcpt *rc)
{
	if (rc->state == OUTQ_RCPT_FAILED)
		return DSN_ACTION_FAILED;
	if (rc->mta[0] != '\0')
		return DSN_ACTION_RELAYED;
	return strncmp(rc->reply, OUTQ_REPLY_EXPANDED, strlen(OUTQ_REPLY_EXPANDED)) == 0
	       ? DSN_ACTION_EXPANDED : DSN_ACTION_DELIVERED;
}

/* The whole message for RET=FULL (malloc'd into *msg_r), when it is small
 * enough to be returned (DSN_MESSAGE_MAX) and a recipient failed. */
static void dsn_message(struct job *j, char **msg_r, size_t *len_r)
{
	const struct outq_entry *e = j->e;
	bool failed = false;

	*msg_r = NULL;
	*len_r = 0;
	for (uint32_t i = 0; i < e->nrcpts; i++)
		failed |= e->rcpts[i].state == OUTQ_RCPT_FAILED && dsn_lists(e, i);
	if (e->dsn_ret != STORE_DSN_RET_FULL || !failed || j->fd < 0 || e->size > DSN_MESSAGE_MAX)
		return;
	char *buf = malloc(e->size > 0 ? e->size : 1);
	size_t off = 0;

	while (buf != NULL && off < e->size) {
		ssize_t n = pread(j->fd, buf + off, e->size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (buf != NULL && off == e->size) {
		*msg_r = buf;
		*len_r = off;
	} else {
		free(buf); /* the header is returned instead */
	}
}

/* The DSN of the entry's recipients to report (dsn_lists), to the sender.
 * 1 delivered or queued (or owed to nobody: none to list, or the sender is
 * gone), 0 the sender's mailbox cannot take it now (why in the entry's
 * last_error), -1 error. */
static int dsn_send(struct job *j)
{
	struct outq_entry *e = j->e;
	struct store *store = j->relay->store;
	struct dsn_rcpt *dr = calloc(e->nrcpts, sizeof(*dr));
	uint32_t *settled = NULL;
	struct store_rcpt_target targets[STORE_ALIAS_TARGETS_MAX];
	struct store_body *body = NULL;
	uint8_t rnd[12];
	char boundary[64], *msg = NULL;
	const char *error = NULL;
	size_t n = 0, len, nt;
	int r;

	if (dr == NULL)
		return -1;
	for (uint32_t i = 0; i < e->nrcpts; i++) {
		const struct outq_rcpt *rc = &e->rcpts[i];

		if (!dsn_lists(e, i))
			continue;
		dr[n].address = rc->address;
		dr[n].status = rc->status;
		dr[n].remote_mta = rc->mta;
		dr[n].diagnostic = rc->reply;
		dr[n].last_attempt = (time_t)rc->updated;
		dr[n].action = dsn_action_of(rc);
		dr[n].orcpt = rc->orcpt;
		n++;
	}
	if (n == 0) {
		/* every failure's NOTIFY said not to tell (RFC 3461 4.1) */
		log_info("queue=%s: no DSN: the sender asked for none", e->id);
		free(dr);
		return 1;
	}
	/* Where it goes: a sender that no longer exists gets nothing. */
	r = store_resolve(store, e->sender, targets, STORE_ALIAS_TARGETS_MAX, &nt, &error);
	if (r == STORE_RESOLVE_NO_USER || r == STORE_RESOLVE_DISABLED) {
		log_warning("queue=%s: DSN to <%s> dropped: no such user here", e->id, e->sender);
		free(dr);
		return 1;
	}
	if (r == STORE_RESOLVE_ERROR) {
		free(dr);
		return -1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		free(dr);
		return -1;
	}
	len = (size_t)snprintf(boundary, sizeof(boundary), "=_pillarbox_");
	for (size_t i = 0; i < sizeof(rnd); i++)
		len += (size_t)snprintf(boundary + len, sizeof(boundary) - len, "%02x", rnd[i]);
	struct dsn_input in = {
		.reporting_mta = j->relay->config->hostname, .sender = e->sender,
		.queue_id = e->id, .arrival = (time_t)e->created, .now = (time_t)j->now,
		.boundary = boundary, .rcpts = dr, .nrcpts = n,
		.headers = j->headers, .headers_len = j->headers_len, .envid = e->envid,
	};
	char *full = NULL;

	dsn_message(j, &full, &in.message_len);
	in.message = full;
	/* With the whole message (RET=FULL) a report can pass the store's
	 * size limit: then it quotes the header only. */
	for (;;) {
		r = relay_dsn_build(&in, &msg, &len);
		if (r < 0)
			break;
		r = store_body_from_buffer(store, msg, len, &body, &error);
		free(msg);
		if (r != 0 || in.message == NULL)
			break;
		in.message = NULL;
		in.message_len = 0;
	}
	free(full);
	free(dr);
	if (r == 0) {
		/* it would never fit: retrying would only repeat this */
		log_warning("queue=%s: DSN to <%s> dropped: too big for the store", e->id,
			    e->sender);
		return 1;
	}
	if (r < 0) {
		log_error("queue=%s: DSN body: %s", e->id, error != NULL ? error : "out of memory");
		return -1;
	}
	/* Its recipients are marked returned in the delivering transaction:
	 * a relay killed after it does not send a second DSN. */
	settled = calloc(e->nrcpts, sizeof(*settled));
	if (settled == NULL) {
		store_body_free(&body);
		return -1;
	}
	n = 0;
	for (uint32_t i = 0; i < e->nrcpts; i++)
		if (dsn_lists(e, i))
			settled[n++] = i;
	const char *to[1] = { e->sender };
	char qid[33], pm[STORE_ADDRESS_MAX + 1];
	bool queued = false;
	/* A DSN that leaves (the sender is remote) may be signed by the
	 * postmaster's domain, the host name's own or nearest local parent:
	 * its From: is MAILER-DAEMON@hostname (relay_dkim.c). */
	const char *pm_error = NULL;
	const char *pm_at = store_postmaster_name(store, pm, sizeof(pm), &pm_error) == 1
			    ? strrchr(pm, '@') : NULL;
	struct store_delivery d = {
		.sender = "", .recipients = to, .nrecipients = 1, .body = body, .add_prefix = true,
		.outq_id = e->id, .outq_rcpts = settled, .outq_nrcpts = n, .outq_dsn = true,
		.dkim_domain = pm_at != NULL ? pm_at + 1 : NULL,
	};

	r = store_deliver(store, &d, &queued, qid, &error);
	store_body_free(&body);
	free(settled);
	if (r == 1) {
		log_info("queue=%s DSN to <%s> for %zu recipient%s%s%s", e->id, e->sender, n,
			 n == 1 ? "" : "s", queued ? " queued as " : " delivered", queued ? qid : "");
		return 1;
	}
	if (r == 0) {
		/* The sender's mailbox is full: as deliver_local's 4.2.2. */
		snprintf(e->last_error, sizeof(e->last_error), "DSN to <%s>: 452 4.2.2 %s",
			 e->sender, error != NULL ? error : "over quota");
		return 0;
	}
	log_error("queue=%s: DSN to <%s>: %s", e->id, e->sender, error != NULL ? error : "refused");
	return -1;
}

/* A DSN the sender cannot take now (dsn_send() 0) stays owed in the entry
 * (its recipients FAILED) and is retried with the back-off of a deferred
 * delivery, `counted` telling whether this run's attempt is counted
 * already. It is dropped once queue_lifetime has passed since the last of
 * them failed, as mail is: a DSN about it would go to the null sender.
 * 1 dropped, 0 kept. */
static int dsn_defer(struct job *j, bool counted)
{
	struct outq_entry *e = j->e;
	int64_t since = e->created;

	for (uint32_t i = 0; i < e->nrcpts; i++)
		if ((e->rcpts[i].state == OUTQ_RCPT_FAILED ||
		     e->rcpts[i].state == OUTQ_RCPT_DELIVERED) && e->rcpts[i].updated > since)
			since = e->rcpts[i].updated;
	if (j->now >= since + (int64_t)j->relay->rc->queue_lifetime) {
		log_warning("queue=%s: %s: dropped after queue_lifetime", e->id, e->last_error);
		return 1;
	}
	if (!counted) {
		e->attempts++;
		e->last_try = j->now;
	}
	e->next_try = j->now + relay_retry_delay(e->attempts);
	log_info("queue=%s: %s: deferred", e->id, e->last_error);
	return 0;
}

/* ------------------------------------------------------------- message */

/* Opens the queued body and reads its header block: for a DSN, and
 * non-ASCII in it means SMTPUTF8. 1, 0 the body is missing, -1. */
static int message_open(struct job *j, const char **error_r)
{
	uint64_t header_len = 0;
	int r = outq_body_open(j->relay->store, j->e, &j->fd, &header_len, error_r);

	if (r <= 0)
		return r;
	j->msg.sender = sender_sent(j);
	j->msg.dsn_ret = j->e->dsn_ret;
	j->msg.dsn_envid = j->e->envid;
	j->msg.fd = j->fd;
	j->msg.size = j->e->size;
	j->msg.smtputf8 = false;
	if (header_len > RELAY_HEADER_SCAN_MAX)
		header_len = RELAY_HEADER_SCAN_MAX;
	if (header_len > 0 && (j->headers = malloc(header_len)) != NULL) {
		ssize_t n = pread(j->fd, j->headers, header_len, 0);

		j->headers_len = n > 0 ? (size_t)n : 0;
		for (size_t i = 0; i < j->headers_len; i++)
			if ((unsigned char)j->headers[i] >= 0x80)
				j->msg.smtputf8 = true;
	}
	return 1;
}

/* 8-bit bytes anywhere, header or body: BODY=8BITMIME, and a server
 * without 8BITMIME cannot take the message (RFC 6152 3). */
static void message_scan(struct job *j)
{
	char buf[65536];
	uint64_t off = 0;

	j->msg.eightbit = false;
	for (;;) {
		ssize_t n = pread(j->fd, buf, sizeof(buf), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (uint64_t)n;
		for (ssize_t i = 0; i < n; i++)
			if ((unsigned char)buf[i] >= 0x80) {
				j->msg.eightbit = true;
				return;
			}
	}
}

/* ---------------------------------------------------------------- entry */

static bool any_state(const struct outq_entry *e, enum outq_rcpt_state st)
{
	for (uint32_t i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].state == st)
			return true;
	return false;
}

/* Records what a domain's session settled at once (lease kept), so a relay
 * killed later in the entry does not send it again. 1 go on, 0 stop (the
 * entry is done or no longer ours), -1 error (go on: the final commit
 * retries). */
static int checkpoint(struct job *j, const size_t *idx, size_t n)
{
	const char *error = NULL;
	bool settled = false;
	int r;

	for (size_t k = 0; k < n && !settled; k++)
		settled = j->e->rcpts[idx[k]].state != OUTQ_RCPT_PENDING;
	if (!settled)
		return 1;
	r = outq_commit(j->relay->store, j->e, false, &j->deleted, &error);
	if (r < 0) {
		log_error("queue=%s: %s", j->e->id, error);
		return -1;
	}
	if (r == 0 || j->deleted) {
		j->gone = true;
		if (r == 0)
			log_warning("queue=%s: lease lost or entry deleted meanwhile", j->e->id);
		return 0;
	}
	return 1;
}

/* Each pending recipient's domain as DNS knows it (rcpt_domain); one that
 * is no valid IDN is returned, one that needs the missing libidn2 waits
 * (both settled for this attempt: done). */
static void rcpt_domains(struct job *j, char (*domains)[STORE_DOMAIN_MAX + 1], bool *done)
{
	for (uint32_t i = 0; i < j->e->nrcpts; i++) {
		const char *error = NULL;
		int r;

		if (j->e->rcpts[i].state != OUTQ_RCPT_PENDING)
			continue;
		r = rcpt_domain(j->e->rcpts[i].address, domains[i], &error);
		if (r == 1)
			continue;
		done[i] = true;
		if (r < 0) {
			rcpt_set(j, i, OUTQ_RCPT_PENDING, error, "4.3.0", NULL);
		} else {
			char why[OUTQ_REPLY_MAX];

			snprintf(why, sizeof(why), "bad destination domain: %s", error);
			rcpt_set(j, i, OUTQ_RCPT_FAILED, why, "5.1.2", NULL);
		}
	}
}

static void attempt(struct job *j)
{
	struct outq_entry *e = j->e;
	const char *error = NULL;
	bool *done = calloc(e->nrcpts, sizeof(*done));
	size_t *idx = calloc(e->nrcpts, sizeof(*idx));
	char (*domains)[STORE_DOMAIN_MAX + 1] = calloc(e->nrcpts, sizeof(*domains));
	int r;

	if (done == NULL || idx == NULL || domains == NULL)
		goto out;
	r = message_open(j, &error);
	if (r < 0) {
		for (uint32_t i = 0; i < e->nrcpts; i++)
			if (e->rcpts[i].state == OUTQ_RCPT_PENDING)
				rcpt_set(j, i, OUTQ_RCPT_PENDING, error, "4.3.0", NULL);
		goto out;
	}
	if (r == 0) {
		for (uint32_t i = 0; i < e->nrcpts; i++)
			if (e->rcpts[i].state == OUTQ_RCPT_PENDING)
				rcpt_set(j, i, OUTQ_RCPT_FAILED, "the queued message is lost (no body)",
					 "5.3.0", NULL);
		goto out;
	}
	message_scan(j);
	rcpt_domains(j, domains, done);

	/* One domain at a time (in A-labels: either form is one domain), its
	 * recipients together. */
	for (uint32_t i = 0; i < e->nrcpts && !process_stop_requested; i++) {
		const char *domain = domains[i];
		size_t n = 0;
		int local;

		if (done[i] || e->rcpts[i].state != OUTQ_RCPT_PENDING)
			continue;
		for (uint32_t k = i; k < e->nrcpts; k++) {
			if (!done[k] && e->rcpts[k].state == OUTQ_RCPT_PENDING &&
			    strcasecmp(domains[k], domain) == 0) {
				idx[n++] = k;
				done[k] = true;
			}
		}
		local = store_domain_is_local(j->relay->store, domain, &error);
		if (local < 0) {
			all_set(j, idx, n, OUTQ_RCPT_PENDING, error, "4.3.0", NULL);
		} else if (local == 1) {
			/* As before a connection: a relay that took the entry
			 * over (this lease ended) delivers these itself. */
			r = outq_renew(j->relay->store, e->id, time(NULL), RELAY_LEASE_SECONDS, &error);
			if (r == 0) {
				log_warning("queue=%s: lease lost, leaving the entry", e->id);
				j->gone = true;
				break;
			}
			for (size_t k = 0; k < n; k++) {
				if (r < 0)
					rcpt_set(j, idx[k], OUTQ_RCPT_PENDING, error, "4.3.0", NULL);
				else
					deliver_local(j, idx[k]);
			}
		} else {
			deliver_domain(j, domain, idx, n);
		}
		if (j->gone || checkpoint(j, idx, n) <= 0)
			break;
	}
out:
	free(done);
	free(idx);
	free(domains);
}

int relay_entry_process(struct relay *relay, const char *id)
{
	struct outq_entry e;
	struct job j = { .relay = relay, .e = &e, .fd = -1 };
	const char *error = NULL;
	bool deleted = false;
	int r;

	/* The claim may be old (--run-queue claims a batch): if its lease
	 * ended and another relay took the entry over, leave it to that one. */
	r = outq_renew(relay->store, id, (int64_t)time(NULL), RELAY_LEASE_SECONDS, &error);
	if (r == 0) {
		log_warning("queue=%s: lease lost, leaving the entry", id);
		return 0;
	}
	if (r > 0)
		r = outq_get(relay->store, id, &e, &error);
	if (r <= 0) {
		if (r < 0)
			log_error("queue=%s: %s", id, error);
		return r;
	}
	j.now = (int64_t)time(NULL);
	bool tried = any_state(&e, OUTQ_RCPT_PENDING);

	if (tried) {
		attempt(&j);
		if (j.gone) {
			deleted = j.deleted;
			r = 1;
			goto done;
		}
		j.now = (int64_t)time(NULL);
		e.attempts++;
		e.last_try = j.now;
		snprintf(e.last_error, sizeof(e.last_error), "%s", j.last_error);
		if (any_state(&e, OUTQ_RCPT_PENDING)) {
			bool expired = j.now >= e.created + (int64_t)relay->rc->queue_lifetime;

			e.next_try = j.now + relay_retry_delay(e.attempts);
			for (uint32_t i = 0; expired && i < e.nrcpts; i++) {
				struct outq_rcpt *rc = &e.rcpts[i];
				char why[OUTQ_REPLY_MAX + 1];

				if (rc->state != OUTQ_RCPT_PENDING)
					continue;
				snprintf(why, sizeof(why), "%s (gave up after %u attempts)",
					 rc->reply[0] != '\0' ? rc->reply : "not delivered", e.attempts);
				rcpt_set(&j, i, OUTQ_RCPT_FAILED, why,
					 rc->status[0] != '\0' ? rc->status : "4.4.7", rc->mta);
			}
			if (expired)
				log_info("queue=%s expired after %u attempts", e.id, e.attempts);
		}
	}
	bool dsn_due = any_state(&e, OUTQ_RCPT_FAILED) || any_state(&e, OUTQ_RCPT_DELIVERED);

	if (dsn_due && e.next_try > j.now)
		e.next_try = j.now;
	r = outq_commit(relay->store, &e, !dsn_due, &deleted, &error);
	if (r <= 0) {
		if (r == 0)
			log_warning("queue=%s: lease lost or entry deleted meanwhile", e.id);
		else
			log_error("queue=%s: %s", e.id, error);
		goto out;
	}
	if (dsn_due && !deleted) {
		int d = 1;

		if (e.sender[0] == '\0') {
			log_info("queue=%s: no DSN for a DSN (null sender)", e.id);
		} else {
			/* A DSN retried (no recipient tried in this run) quotes
			 * the original header too, when it can be read. */
			if (j.fd < 0)
				(void)message_open(&j, &error);
			d = dsn_send(&j);
		}
		if (d == 0)
			d = dsn_defer(&j, tried);
		for (uint32_t i = 0; i < e.nrcpts && d == 1; i++)
			if (e.rcpts[i].state == OUTQ_RCPT_FAILED)
				e.rcpts[i].state = OUTQ_RCPT_RETURNED;
			else if (e.rcpts[i].state == OUTQ_RCPT_DELIVERED)
				e.rcpts[i].state = OUTQ_RCPT_SENT;
		if (d < 0)
			e.next_try = j.now + RELAY_RETRY_MIN;
		else if (d == 1 && any_state(&e, OUTQ_RCPT_PENDING))
			e.next_try = j.now + relay_retry_delay(e.attempts);
		r = outq_commit(relay->store, &e, true, &deleted, &error);
		if (r < 0)
			log_error("queue=%s: %s", e.id, error);
	}
done:
	if (deleted)
		log_info("queue=%s removed (done)", e.id);
out:
	if (j.fd >= 0)
		close(j.fd);
	free(j.dkim);
	free(j.headers);
	outq_entry_clear(&e);
	return r < 0 ? -1 : r;
}
