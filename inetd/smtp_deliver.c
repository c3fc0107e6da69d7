/* The message sink of DATA and BDAT (smtp_msg.h), and DATA itself. DATA's
 * message is read line by line through conn (so the end of data never
 * overshoots into pipelined commands); BDAT's chunks come from
 * smtp_bdat.c. Either way the bytes run through the reader state machine
 * (smtp_data.c), the header block is held in a bounded buffer and
 * looked at (smtp_header.c), then streamed into a body file; on the MX,
 * mail from a client that did not log in is checked on the way
 * (mailauth.h: SPF, DKIM, DMARC) and, once it is all in, asked of the spam
 * checker (spamc.h); at the end one store_deliver() stores
 * every local copy and queues the remote recipients in one durable
 * transaction, and only then is 250 sent (SECURITY.md 5). Anything refused or failed leaves nothing referenced:
 * the body file is removed, or collected later if we die. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/random.h>

#include "dns.h"
#include "log.h"
#include "mailauth.h"
#include "program_kick.h"
#include "smtp.h"
#include "smtp_data.h"
#include "smtp_header.h"
#include "smtp_msg.h"
#include "spamc.h"

#define SMTP_REPLY_NOSPACE "452 4.3.1 Insufficient system storage, try again later"
/* rspamd's milter words it so; 5.7.1: delivery not authorized (RFC 3463). */
#define SMTP_REPLY_SPAM "554 5.7.1 Spam message rejected"

/* Why a message is refused, in the order the checks are made. */
enum smtp_msg_error {
	SMTP_MSG_OK,
	SMTP_MSG_BARE_NEWLINE,   /* a bare CR or LF */
	SMTP_MSG_NUL,            /* a NUL byte (as `pillarbox deliver` refuses) */
	SMTP_MSG_LINE_TOO_LONG,  /* a line past SMTP_DATA_LINE_MAX */
	SMTP_MSG_TOO_BIG,        /* past max_message_size */
	SMTP_MSG_HEADER_TOO_BIG, /* submission: header past SMTP_HEADER_MAX */
	SMTP_MSG_LOOP,           /* too many Received: fields */
	SMTP_MSG_TEMPFAIL,       /* writing the body failed */
	SMTP_MSG_NOSPACE,        /* the store's file system is full */
};

struct smtp_msg {
	struct smtp_session *s;
	struct smtp_data data;
	struct smtp_header_scan scan;
	struct store_body_writer *writer;
	char *hdr;                 /* the header block so far (SMTP_HEADER_MAX) */
	size_t hdr_len;
	bool header_done;          /* the header block was written out */
	char *out;                 /* the state machine's output */
	uint64_t size;             /* message bytes as received (unstuffed) */
	uint64_t added;            /* of them, the final CRLF we add to BDAT's last line */
	enum smtp_msg_error error;
	time_t now;
	int tz;
	const char *store_error;
	bool check_sender;         /* run the sender checks (mailauth.h) */
	struct mailauth *auth;     /* they are under way */
	bool check_spam;           /* ask the spam checker (spamc.h) */
};

/* The lines put before the message: Received, and for submission a
 * Message-ID and a Date when the header has none. */
static size_t smtp_msg_prefix(struct smtp_msg *m, char *buf, size_t size)
{
	struct smtp_session *s = m->s;
	const char *ip = conn_peer_ip_or_null(s->conn);
	struct smtp_received r = {
		.helo = s->helo,
		.peer_ip = ip,
		.peer_ipv6 = ip != NULL && strchr(ip, ':') != NULL,
		.hostname = s->config->hostname,
		.protocol = smtp_protocol_name(s->esmtp, s->txn.smtputf8, conn_is_tls(s->conn),
					       s->authenticated),
		.tls = conn_tls_description(s->conn),
		.id = s->txn.id,
		.for_rcpt = s->txn.nrcpts == 1 ? s->txn.rcpts[0] : NULL,
		.now = m->now,
		.tz = m->tz,
	};
	size_t len = smtp_received_format(&r, buf, size), n;

	if (len == 0)
		return 0;
	if (s->opt->mode == SMTP_MODE_SUBMISSION) {
		if (!m->scan.has_message_id) {
			n = smtp_message_id_format(s->txn.id, s->config->hostname, m->now, buf + len,
						   size - len);
			if (n == 0)
				return 0;
			len += n;
		}
		if (!m->scan.has_date) {
			n = smtp_date_format(m->now, m->tz, buf + len, size - len);
			if (n == 0)
				return 0;
			len += n;
		}
	}
	return len;
}

/* A store failure: the temporary error it is (RFC 3463 4.3.1 for a full
 * disk, as Postfix answers). */
static enum smtp_msg_error smtp_msg_tempfail(struct smtp_session *s)
{
	return store_error_no_space(s->store) ? SMTP_MSG_NOSPACE : SMTP_MSG_TEMPFAIL;
}

static void smtp_msg_fail(struct smtp_msg *m, enum smtp_msg_error error)
{
	if (m->error == SMTP_MSG_OK)
		m->error = error;
	store_body_abort(&m->writer);
}

static void smtp_msg_write(struct smtp_msg *m, const char *data, size_t len)
{
	const char *error = NULL;

	if (m->error != SMTP_MSG_OK || len == 0)
		return;
	int r = store_body_write(m->writer, data, len, &error);

	if (r == 0) {
		smtp_msg_fail(m, SMTP_MSG_TOO_BIG);
	} else if (r < 0) {
		m->store_error = error;
		smtp_msg_fail(m, smtp_msg_tempfail(m->s));
	}
}

/* Where the header block held in the buffer ends. */
static size_t smtp_msg_header_end(const struct smtp_msg *m)
{
	return m->scan.done ? m->scan.end : m->hdr_len;
}

/* Fields were taken out of the header block, which now ends at `kept`:
 * the rest of the buffer moves up. */
static void smtp_msg_header_cut(struct smtp_msg *m, size_t kept)
{
	size_t end = smtp_msg_header_end(m);

	memmove(m->hdr + kept, m->hdr + end, m->hdr_len - end);
	m->hdr_len -= end - kept;
	if (m->scan.done)
		m->scan.end = kept;
}

/* The sender checks start on the header block as received; then fields
 * that claim to be our own Authentication-Results are taken out (RFC 8601
 * 5), and the body bytes already in the buffer go to the checks. */
static void smtp_msg_auth_start(struct smtp_msg *m)
{
	struct smtp_session *s = m->s;
	size_t end = smtp_msg_header_end(m), body;
	const char *error = NULL;

	if (mailauth_new(m->hdr, end, m->scan.done, &m->auth, &error) < 0) {
		log_error("id=%s sender checks: %s", s->txn.id, error);
		return;
	}
	size_t kept = mailauth_strip_forged(m->hdr, end, m->scan.done, s->config->hostname);

	if (kept < end) {
		log_info("id=%s removed an Authentication-Results field naming us (forged)",
			 s->txn.id);
		smtp_msg_header_cut(m, kept);
		end = kept;
	}
	body = end;
	if (m->hdr_len - body >= 2 && m->hdr[body] == '\r' && m->hdr[body + 1] == '\n')
		body += 2;
	else if (m->hdr_len - body >= 1 && m->hdr[body] == '\n')
		body += 1;
	mailauth_body(m->auth, m->hdr + body, m->hdr_len - body);
}

/* The header block is complete (or given up on): prefix, then the block. */
static void smtp_msg_header_out(struct smtp_msg *m)
{
	char prefix[SMTP_ADDED_HEADERS_MAX];
	size_t len;

	m->header_done = true;
	if (m->error != SMTP_MSG_OK)
		return;
	if (m->scan.received >= SMTP_RECEIVED_MAX) {
		smtp_msg_fail(m, SMTP_MSG_LOOP);
		return;
	}
	len = smtp_msg_prefix(m, prefix, sizeof(prefix));
	if (len == 0) {
		m->store_error = "added header lines too long";
		smtp_msg_fail(m, SMTP_MSG_TEMPFAIL);
		return;
	}
	/* Data that starts with neither a header field nor the empty line
	 * has no header: an empty line ends ours, or its first line would
	 * continue our last field (a leading space) or sit in the header. */
	if (m->scan.done && !m->scan.in_field && m->hdr_len > 0 && m->hdr[0] != '\r') {
		if (len + 2 > sizeof(prefix)) {
			m->store_error = "added header lines too long";
			smtp_msg_fail(m, SMTP_MSG_TEMPFAIL);
			return;
		}
		memcpy(prefix + len, "\r\n", 2);
		len += 2;
	}
	if (m->check_sender)
		smtp_msg_auth_start(m);
	if (m->check_spam) {
		/* after the sender checks: a DKIM signature may cover them */
		size_t kept = spamc_strip_fields(m->hdr, smtp_msg_header_end(m), m->scan.done);

		if (kept < smtp_msg_header_end(m)) {
			log_info("id=%s removed X-Spam fields the sender wrote", m->s->txn.id);
			smtp_msg_header_cut(m, kept);
		}
	}
	/* Our own lines do not count against the size the client was told. */
	store_body_limit_add(m->writer, len);
	smtp_msg_write(m, prefix, len);
	smtp_msg_write(m, m->hdr, m->hdr_len);
}

/* What the state machine found wrong in the data so far, if anything. */
static enum smtp_msg_error smtp_msg_data_error(const struct smtp_data *data)
{
	if (data->nul)
		return SMTP_MSG_NUL;
	if (!smtp_data_clean(data))
		return SMTP_MSG_BARE_NEWLINE;
	if (data->long_line)
		return SMTP_MSG_LINE_TOO_LONG;
	return SMTP_MSG_OK;
}

/* Message bytes from the state machine. */
static void smtp_msg_put(struct smtp_msg *m, const char *data, size_t len)
{
	enum smtp_msg_error error = smtp_msg_data_error(&m->data);

	if (m->error != SMTP_MSG_OK)
		return;
	if (error != SMTP_MSG_OK) {
		smtp_msg_fail(m, error);
		return;
	}
	m->size += len;
	if (m->size - m->added > m->s->config->max_message_size) {
		smtp_msg_fail(m, SMTP_MSG_TOO_BIG);
		return;
	}
	if (m->header_done) {
		mailauth_body(m->auth, data, len);
		smtp_msg_write(m, data, len);
		return;
	}
	if (len > SMTP_HEADER_MAX - m->hdr_len) {
		/* No end of header in sight: submission must see the whole
		 * header (Message-ID, Date); MX only counts hops and goes on. */
		if (m->s->opt->mode == SMTP_MODE_SUBMISSION) {
			smtp_msg_fail(m, SMTP_MSG_HEADER_TOO_BIG);
			return;
		}
		smtp_header_scan(&m->scan, m->hdr, m->hdr_len);
		smtp_msg_header_out(m);
		mailauth_body(m->auth, data, len);
		smtp_msg_write(m, data, len);
		return;
	}
	memcpy(m->hdr + m->hdr_len, data, len);
	m->hdr_len += len;
	if (smtp_header_scan(&m->scan, m->hdr, m->hdr_len))
		smtp_msg_header_out(m);
}

enum smtp_data_status smtp_msg_feed(struct smtp_msg *m, const char *in, size_t len)
{
	size_t out_len, consumed;
	enum smtp_data_status st = smtp_data_parse(&m->data, in, len, m->out, &out_len, &consumed);

	smtp_msg_put(m, m->out, out_len);
	if (st != SMTP_DATA_MORE && smtp_msg_data_error(&m->data) != SMTP_MSG_OK)
		smtp_msg_fail(m, smtp_msg_data_error(&m->data));
	return st;
}

void smtp_msg_expect(struct smtp_msg *m, uint64_t octets)
{
	uint64_t max = m->s->config->max_message_size;

	if (m->size > max || octets > max - m->size)
		smtp_msg_fail(m, SMTP_MSG_TOO_BIG);
}

bool smtp_msg_failed(const struct smtp_msg *m)
{
	return m->error != SMTP_MSG_OK;
}

static const char *smtp_msg_reply(enum smtp_msg_error error)
{
	switch (error) {
	case SMTP_MSG_BARE_NEWLINE:
		return "550 5.6.0 Message refused: bare CR or LF in message data (CRLF required)";
	case SMTP_MSG_NUL:
		return "550 5.6.0 Message refused: NUL byte in message data";
	case SMTP_MSG_LINE_TOO_LONG:
		return "554 5.6.0 Message refused: line too long";
	case SMTP_MSG_TOO_BIG:
		return "552 5.3.4 Message size exceeds fixed maximum message size";
	case SMTP_MSG_HEADER_TOO_BIG:
		return "554 5.6.0 Message refused: header too large";
	case SMTP_MSG_LOOP:
		return "554 5.4.6 Too many hops: mail loop detected";
	case SMTP_MSG_NOSPACE:
		return SMTP_REPLY_NOSPACE;
	default:
		return "451 4.3.0 Local error in processing, try again later";
	}
}

const char *smtp_msg_error_reply(const struct smtp_msg *m)
{
	return smtp_msg_reply(m->error);
}

static void smtp_msg_log(struct smtp_msg *m, const char *result, const char *detail)
{
	struct smtp_session *s = m->s;
	char from[STORE_ADDRESS_MAX * 4 + 8], det[512];

	log_info("message id=%s rip=%s user=<%s> from=<%s> nrcpt=%zu size=%llu tls=%s result=%s%s%s",
		 s->txn.id, conn_peer_ip(s->conn), s->authenticated ? s->user.address : "",
		 smtp_log_safe(from, sizeof(from), s->txn.sender), s->txn.nrcpts,
		 (unsigned long long)m->size, conn_is_tls(s->conn) ? "yes" : "no", result,
		 detail != NULL ? " detail=" : "",
		 detail != NULL ? log_safe(det, sizeof(det), detail, strlen(detail)) : "");
}

/* The domain a logged-in client speaks for (store_delivery.dkim_domain):
 * its envelope sender's, which MAIL checked against the login, or the
 * login's own for the null sender. NULL without a login: mail that merely
 * arrives is never signed, whatever its From: says. */
static const char *smtp_dkim_domain(struct smtp_session *s, char dst[STORE_DOMAIN_MAX + 1])
{
	const char *address = s->txn.sender[0] != '\0' ? s->txn.sender : s->user.address;
	const char *at = strrchr(address, '@'), *error = NULL;

	if (!s->authenticated || at == NULL || store_domain_ascii(at + 1, dst, &error) != 1)
		return NULL;
	return dst;
}

/* The sender checks' lookups and verdict (the resolver is the session's,
 * made for its first message). */
static void smtp_msg_auth_finish(struct smtp_msg *m, struct mailauth_verdict *v)
{
	struct smtp_session *s = m->s;
	const char *ip = conn_peer_ip_or_null(s->conn), *error = NULL;
	struct sockaddr_storage ss;
	struct mailauth_dns md;
	char sender[STORE_ADDRESS_MAX + 1], domain[STORE_DOMAIN_MAX + 1], sum[600];
	const char *at = strrchr(s->txn.sender, '@');
	uint32_t rnd = 0;

	memset(&ss, 0, sizeof(ss));
	if (ip != NULL && strchr(ip, ':') != NULL &&
	    inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else if (ip != NULL && inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	/* SPF asks DNS for A-labels. */
	snprintf(sender, sizeof(sender), "%s", s->txn.sender);
	if (at != NULL && store_domain_ascii(at + 1, domain, &error) == 1)
		snprintf(sender, sizeof(sender), "%.*s@%s", (int)(at - s->txn.sender),
			 s->txn.sender, domain);
	mailauth_dns_init(&md, smtp_resolver(s), MAILAUTH_BUDGET_SECONDS);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)m->now;
	struct mailauth_client client = {
		.ip = ss.ss_family != 0 ? (const struct sockaddr *)&ss : NULL,
		.helo = s->helo,
		.sender = sender,
		.authserv_id = s->config->hostname,
	};

	mailauth_finish(&m->auth, &md.lookup, &client,
			s->config->mail_auth == CONFIG_MAIL_AUTH_ENFORCE, rnd % 100, v);
	log_info("id=%s sender checks: %s%s", s->txn.id,
		 log_safe(sum, sizeof(sum), v->summary, strlen(v->summary)),
		 v->action == MAILAUTH_REJECT ? " action=reject"
		 : v->action == MAILAUTH_JUNK ? " action=junk" : "");
}

/* The spam check of the message as it will be kept (our Received first):
 * 1 checked (*r), 0 not (too large, or the checker failed: logged, the
 * mail goes on unchecked). */
static int smtp_msg_spam_check(struct smtp_msg *m, struct spamc_result *r)
{
	struct smtp_session *s = m->s;
	uint64_t size = store_body_writer_size(m->writer);
	const char *error = NULL;
	char *copy;
	ssize_t n;
	int ret = 0;

	if (size > s->config->spam_max_size) {
		log_info("id=%s spam check: skipped, %llu bytes (spam_max_size %llu)", s->txn.id,
			 (unsigned long long)size, (unsigned long long)s->config->spam_max_size);
		return 0;
	}
	copy = malloc(size > 0 ? (size_t)size : 1);
	if (copy == NULL) {
		log_error("id=%s spam check: out of memory (delivered unchecked)", s->txn.id);
		return 0;
	}
	n = store_body_writer_read(m->writer, copy, (size_t)size, &error);
	if (n < 0)
		log_error("id=%s spam check: %s (delivered unchecked)", s->txn.id, error);
	else if (spamc_check(s->config->spamd, copy, (size_t)n, r, &error) < 0)
		log_error("id=%s spam check: %s: %s (delivered unchecked)", s->txn.id,
			  s->config->spamd, error);
	else
		ret = 1;
	free(copy);
	return ret;
}

/* What the spam check decided: 1 refuse, 0 deliver (*junk set for spam);
 * the fields to add go after fields[0..*len). */
static int smtp_msg_spam_verdict(struct smtp_msg *m, const struct spamc_result *r,
				 bool *junk, char *fields, size_t *len, size_t size)
{
	struct smtp_session *s = m->s;
	char score[16], required[16];
	bool refuse = s->config->spam_reject_score > 0 &&
		      r->score >= (int32_t)s->config->spam_reject_score * 10;

	spamc_score_format(r->score, score);
	spamc_score_format(r->required, required);
	log_info("id=%s spam check: score=%s required=%s tests=%s%s", s->txn.id, score, required,
		 r->tests[0] != '\0' ? r->tests : "none",
		 refuse ? " action=reject" : r->spam ? " action=junk" : "");
	if (refuse)
		return 1;
	*junk = *junk || r->spam;
	*len += spamc_fields_format(r, fields + *len, size - *len);
	return 0;
}

void smtp_msg_aborted(struct smtp_msg *m, const char *why)
{
	smtp_msg_log(m, "aborted", why);
}

int smtp_msg_refuse(struct smtp_msg *m)
{
	struct smtp_session *s = m->s;

	smtp_msg_log(m, "refused", smtp_msg_reply(m->error));
	if (m->error == SMTP_MSG_TEMPFAIL || m->error == SMTP_MSG_NOSPACE) {
		log_error("id=%s body: %s", s->txn.id,
			  m->store_error != NULL ? m->store_error : "error");
		smtp_reply(s, smtp_msg_reply(m->error));
		return 0;
	}
	return smtp_error(s, smtp_msg_reply(m->error));
}

int smtp_msg_commit(struct smtp_msg *m)
{
	struct smtp_session *s = m->s;
	struct store_body *body = NULL;
	struct store_delivery d;
	const char *error = NULL;
	char queue_id[33] = "", dkim_domain[STORE_DOMAIN_MAX + 1];
	struct mailauth_verdict verdict = { .action = MAILAUTH_DELIVER };
	struct spamc_result spam;
	/* per copy, above our Received: Authentication-Results, X-Spam-* */
	char extra[MAILAUTH_FIELD_MAX + SPAMC_FIELDS_MAX];
	size_t extra_len = 0;
	bool queued = false, junk;
	int r;

	if (m->data.counted) {
		size_t out_len;

		smtp_data_finish(&m->data, m->out, &out_len);
		/* a CRLF we end an unterminated last line with is not the
		 * client's: it does not count against max_message_size */
		m->added = out_len == 2 ? 2 : 0;
		if (m->added > 0 && m->writer != NULL)
			store_body_limit_add(m->writer, m->added);
		smtp_msg_put(m, m->out, out_len);
		if (smtp_msg_data_error(&m->data) != SMTP_MSG_OK)
			smtp_msg_fail(m, smtp_msg_data_error(&m->data));
	}
	if (!m->header_done) {
		/* the whole message was header (or empty) */
		smtp_header_scan(&m->scan, m->hdr, m->hdr_len);
		smtp_msg_header_out(m);
	}
	if (m->error != SMTP_MSG_OK)
		return smtp_msg_refuse(m);
	if (m->auth != NULL) {
		smtp_msg_auth_finish(m, &verdict);
		if (verdict.action == MAILAUTH_REJECT) {
			store_body_abort(&m->writer);
			smtp_msg_log(m, "refused", verdict.reply);
			smtp_reply(s, verdict.reply);
			return 0;
		}
		memcpy(extra, verdict.field, verdict.field_len);
		extra_len = verdict.field_len;
	}
	junk = verdict.action == MAILAUTH_JUNK;
	if (m->check_spam && smtp_msg_spam_check(m, &spam) == 1 &&
	    smtp_msg_spam_verdict(m, &spam, &junk, extra, &extra_len, sizeof(extra)) == 1) {
		store_body_abort(&m->writer);
		smtp_msg_log(m, "refused", SMTP_REPLY_SPAM);
		smtp_reply(s, SMTP_REPLY_SPAM);
		return 0;
	}
	smtp_watchdog(s, true);
	r = store_body_finish(&m->writer, &body, &error);
	if (r <= 0) {
		smtp_watchdog(s, false);
		smtp_msg_log(m, r == 0 ? "refused" : "tempfail", error);
		smtp_reply(s, smtp_msg_reply(r == 0 ? SMTP_MSG_TOO_BIG : smtp_msg_tempfail(s)));
		return 0;
	}
	memset(&d, 0, sizeof(d));
	d.sender = s->txn.sender;
	d.recipients = s->txn.rcpt_ptrs;
	d.nrecipients = s->txn.nrcpts;
	d.body = body;
	d.internaldate = (int64_t)m->now;
	d.add_prefix = true;
	d.dkim_domain = smtp_dkim_domain(s, dkim_domain);
	d.sender_user_id = s->authenticated ? s->user.id : 0;
	if (extra_len > 0) {
		d.prefix_extra = extra;
		d.prefix_extra_len = extra_len;
	}
	d.junk = junk;
	/* the DATA reply is not sent yet: a message every recipient's filter
	 * rejects is refused here rather than answered by a notice (RFC 5429
	 * 2.1: ereject must, reject may) */
	d.reject_refusable = true;
	/* RFC 3461: what the sender asked to be told, and how */
	struct store_dsn_rcpt *dsn = NULL;
	if (s->txn.dsn_given && (dsn = calloc(s->txn.nrcpts, sizeof(*dsn))) != NULL)
		for (size_t i = 0; i < s->txn.nrcpts; i++)
			dsn[i] = (struct store_dsn_rcpt){ s->txn.rcpt_dsn[i].notify,
							  s->txn.rcpt_dsn[i].orcpt };
	d.dsn = dsn;
	d.dsn_ret = s->txn.dsn_ret;
	d.dsn_envid = s->txn.dsn_envid;
	if (s->txn.dsn_given && dsn == NULL)
		error = "out of memory";
	r = s->txn.dsn_given && dsn == NULL ? -1
		: store_deliver(s->store, &d, &queued, queue_id, &error);
	free(dsn);
	smtp_watchdog(s, false);
	store_body_free(&body);
	if (r == 1) {
		s->messages++;
		s->junk_commands = 0;
		smtp_msg_log(m, queued ? "queued" : "delivered", NULL);
		conn_printf(s->conn, "250 2.0.0 Ok: queued as %s\r\n", s->txn.id);
		/* The reply first: the relay start must not delay it. */
		if (conn_flush(s->conn, &error) < 0)
			return -1;
		if (queued && relay_kick(s->opt->relay_program, s->config->path, queue_id) < 0)
			log_error("id=%s queue=%s: cannot start the relay: %s", s->txn.id, queue_id,
				  strerror(errno));
		return 0;
	}
	if (r == 3) {
		/* a stolen password sends a day's worth at most (send_limit) */
		log_warning("id=%s send limit user=<%s>: %s", s->txn.id, s->user.address, error);
		smtp_msg_log(m, "refused", error);
		smtp_reply(s, "450 4.7.1 Sending limit reached for today, try again later");
		return 0;
	}
	if (r == 4) {
		/* error is one line of printable ASCII (sieve_reject_line),
		 * short enough for a 512-octet reply line */
		smtp_msg_log(m, "rejected by filter", error);
		conn_printf(s->conn, "550 5.7.1 %s\r\n", error);
		return 0;
	}
	if (r == 0) {
		smtp_msg_log(m, "over quota", error);
		smtp_reply(s, s->opt->quota_tempfail ? "452 4.2.2 Mailbox full"
						     : "552 5.2.2 Mailbox full");
		return 0;
	}
	smtp_msg_log(m, "tempfail", error);
	log_error("id=%s deliver: %s", s->txn.id, error != NULL ? error : "store error");
	smtp_reply(s, smtp_msg_reply(smtp_msg_tempfail(s)));
	return 0;
}

/* Reads the data to its end. 1 end found, 0 loose end (refuse and close),
 * -1 the connection ended (replied when there was someone to tell). */
static int smtp_msg_read(struct smtp_msg *m)
{
	struct smtp_session *s = m->s;
	const char *error = NULL;

	for (;;) {
		enum smtp_data_status st;
		char *line;
		size_t len;
		bool crlf = false;
		int r = conn_read_line(s->conn, SMTP_DATA_LINE_MAX, &line, &len, &crlf, &error);

		if (r == CONN_OK) {
			st = smtp_msg_feed(m, line, len);
			if (st == SMTP_DATA_MORE)
				st = smtp_msg_feed(m, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
		} else if (r == CONN_LINE_TOO_LONG) {
			/* Skipped up to its LF; the machine goes on after a
			 * stand-in line so that its state stays right. */
			smtp_msg_fail(m, SMTP_MSG_LINE_TOO_LONG);
			st = smtp_msg_feed(m, "x\r\n", 3);
		} else {
			smtp_msg_aborted(m, smtp_read_failed(s, r, error));
			return -1;
		}
		if (st == SMTP_DATA_END)
			return 1;
		if (st == SMTP_DATA_LOOSE_END)
			return 0;
	}
}

struct smtp_msg *smtp_msg_start(struct smtp_session *s, bool counted, const char **reply_r)
{
	struct smtp_msg *m = calloc(1, sizeof(*m));
	struct tm tm;
	const char *error = NULL;

	*reply_r = "451 4.3.0 Local error in processing, try again later";
	if (m == NULL) {
		log_error("id=%s out of memory", s->txn.id);
		return NULL;
	}
	m->s = s;
	m->now = time(NULL);
	m->tz = localtime_r(&m->now, &tm) != NULL ? (int)(tm.tm_gmtoff / 60) : 0;
	if (counted)
		smtp_data_init_counted(&m->data, SMTP_DATA_LINE_MAX);
	else
		smtp_data_init(&m->data);
	smtp_header_scan_init(&m->scan);
	/* Who sent it, and whether it is spam, are asked of mail that merely
	 * arrives; a logged-in client proved who it is already, and a loopback
	 * one is a program of this machine (a web form sending From: its
	 * visitor; OpenDMARC's IgnoreHosts default, rspamd's local_addrs). */
	bool outside = s->opt->mode == SMTP_MODE_MX && !s->authenticated &&
		       !conn_peer_is_loopback(s->conn);

	m->check_sender = outside && s->config->mail_auth != CONFIG_MAIL_AUTH_OFF;
	m->check_spam = outside && s->config->spamd != NULL;
	m->hdr = malloc(SMTP_HEADER_MAX);
	/* the machine writes up to one byte more than it is fed */
	m->out = malloc(SMTP_MSG_FEED_MAX + 3);
	if (m->hdr == NULL || m->out == NULL) {
		log_error("id=%s out of memory", s->txn.id);
		smtp_msg_free(&m);
		return NULL;
	}
	/* Not even started when the store has no room (RFC 5321 allows 452
	 * for DATA): the client keeps the message rather than send it in vain. */
	if (store_space_check(s->store, s->txn.declared_size, &error) == 0) {
		log_error("id=%s %s", s->txn.id, error);
		*reply_r = SMTP_REPLY_NOSPACE;
		smtp_msg_free(&m);
		return NULL;
	}
	if (store_body_create(s->store, &m->writer, &error) < 0) {
		log_error("id=%s body: %s", s->txn.id, error);
		smtp_msg_free(&m);
		return NULL;
	}
	return m;
}

void smtp_msg_free(struct smtp_msg **msg)
{
	struct smtp_msg *m = *msg;

	if (m == NULL)
		return;
	store_body_abort(&m->writer); /* a no-op once finished */
	mailauth_free(&m->auth);
	free(m->hdr);
	free(m->out);
	free(m);
	*msg = NULL;
}

int smtp_cmd_data(struct smtp_session *s, char *args, size_t len)
{
	const char *reply = NULL;
	struct smtp_msg *m = smtp_msg_start(s, false, &reply);
	int r, ret;

	if (m == NULL) {
		smtp_reply(s, reply);
		return 0;
	}
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	r = smtp_msg_read(m);
	if (r == 1) {
		ret = smtp_msg_commit(m);
	} else if (r == 0) {
		smtp_msg_fail(m, SMTP_MSG_BARE_NEWLINE);
		smtp_msg_log(m, "refused", "end of data after a bare CR or LF: closing");
		smtp_reply(s, smtp_msg_reply(SMTP_MSG_BARE_NEWLINE));
		conn_printf(s->conn, "421 4.7.0 %s Closing connection\r\n", s->config->hostname);
		ret = -1;
	} else {
		ret = -1;
	}
	smtp_msg_free(&m);
	smtp_txn_reset(s);
	return ret;
}
