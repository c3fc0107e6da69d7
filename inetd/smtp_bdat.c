/* BDAT (RFC 3030 CHUNKING): the message comes in chunks whose octets the
 * client counts, each announced by "BDAT size [LAST]" and taken exactly:
 * no dot-stuffing, and never a byte more from conn's buffer, where the
 * next pipelined command may already wait. The chunks feed the same sink
 * as DATA (smtp_msg.h), so the stored message obeys the same rules; BINARYMIME is
 * not offered, so CRLF-only text it must be.
 *
 * Every chunk is read whatever the answer (a refused command, a refused
 * message), or its octets would be taken for commands. A chunk refused
 * ends the transaction; the BDATs the client had pipelined behind it get
 * the same reply (RFC 3030 §2: accepted and discarded) until it sends
 * another command. A BDAT whose size cannot be read leaves no way to
 * find the next command: the session closes. */
#include <config.h>

#include <inttypes.h>

#include "log.h"
#include "smtp.h"
#include "smtp_msg.h"

/* The bytes read from conn at a time (conn's own read buffer size). */
#define SMTP_BDAT_READ CONN_READ_BUF_MIN

_Static_assert(SMTP_BDAT_READ <= SMTP_MSG_FEED_MAX, "a read must fit one smtp_msg_feed");

/* Reads the chunk's `size` octets into m (NULL, or a message already
 * refused: away). CONN_OK or what conn said (*error_r). */
static int smtp_bdat_read(struct smtp_session *s, struct smtp_msg *m, uint64_t size,
			  const char **error_r)
{
	char buf[SMTP_BDAT_READ];

	while (size > 0) {
		ssize_t n = conn_read(s->conn, buf, size < sizeof(buf) ? (size_t)size : sizeof(buf),
				      error_r);

		if (n <= 0)
			return (int)n;
		size -= (uint64_t)n;
		if (m != NULL && !smtp_msg_failed(m))
			(void)smtp_msg_feed(m, buf, (size_t)n);
	}
	return CONN_OK;
}

/* The connection ended inside a chunk: the 421 owed, logged. -1. */
static int smtp_bdat_lost(struct smtp_session *s, struct smtp_msg *m, int r, const char *error)
{
	const char *why = smtp_read_failed(s, r, error);

	if (m != NULL)
		smtp_msg_aborted(m, why);
	else
		log_info("bdat aborted rip=%s: %s", conn_peer_ip(s->conn), why);
	return -1;
}

int smtp_bdat_unframed(struct smtp_session *s, const char *reply)
{
	smtp_reply(s, reply);
	conn_printf(s->conn, "421 4.7.0 %s Closing connection\r\n", s->config->hostname);
	log_client("bdat refused", s->authenticated ? s->user.address : "", conn_peer_ip(s->conn),
		   ": chunk size unknown, closing");
	return -1;
}

int smtp_bdat_skip(struct smtp_session *s, const char *args, size_t len, const char *reply)
{
	const char *error = NULL;
	uint64_t size;
	bool last;
	int r;

	/* args point into conn's buffer, which the read below may move */
	if (smtp_bdat_parse(args, len, &size, &last) != 1)
		return smtp_bdat_unframed(s, "501 5.5.4 Syntax: BDAT chunk-size [LAST]");
	if ((r = smtp_bdat_read(s, NULL, size, &error)) != CONN_OK)
		return smtp_bdat_lost(s, NULL, r, error);
	if (s->bdat_refused != NULL) {
		/* the rest of a refused transaction's pipeline */
		smtp_reply(s, s->bdat_refused);
		if (last)
			s->bdat_refused = NULL;
		return 0;
	}
	return smtp_error(s, reply);
}

/* A chunk's message could not be started or was refused: the transaction
 * is over, its pipelined BDATs get `reply`. */
static void smtp_bdat_end_refused(struct smtp_session *s, const char *reply, bool last)
{
	smtp_txn_reset(s);
	s->bdat_refused = last ? NULL : reply;
}

int smtp_cmd_bdat(struct smtp_session *s, char *args, size_t len)
{
	const char *error = NULL, *reply = NULL;
	uint64_t size;
	bool last;
	int r, ret;

	if (smtp_bdat_parse(args, len, &size, &last) != 1)
		return smtp_bdat_unframed(s, "501 5.5.4 Syntax: BDAT chunk-size [LAST]");
	if (s->txn.msg == NULL) {
		s->txn.msg = smtp_msg_start(s, true, &reply);
		if (s->txn.msg == NULL) {
			if ((r = smtp_bdat_read(s, NULL, size, &error)) != CONN_OK)
				return smtp_bdat_lost(s, NULL, r, error);
			smtp_reply(s, reply);
			smtp_bdat_end_refused(s, reply, last);
			return 0;
		}
		s->state = SMTP_STATE_BDAT;
	}
	smtp_msg_expect(s->txn.msg, size);
	if ((r = smtp_bdat_read(s, s->txn.msg, size, &error)) != CONN_OK)
		return smtp_bdat_lost(s, s->txn.msg, r, error);
	if (smtp_msg_failed(s->txn.msg)) {
		reply = smtp_msg_error_reply(s->txn.msg);
		ret = smtp_msg_refuse(s->txn.msg);
		smtp_bdat_end_refused(s, reply, last);
		return ret;
	}
	if (!last) {
		conn_printf(s->conn, "250 2.0.0 %" PRIu64 " octets received\r\n", size);
		/* an empty chunk does nothing: it counts as NOOP does */
		if (size == 0 && ++s->junk_commands > SMTP_JUNK_COMMANDS_MAX)
			return smtp_error_count(s);
		return 0;
	}
	ret = smtp_msg_commit(s->txn.msg);
	smtp_txn_reset(s);
	return ret;
}
