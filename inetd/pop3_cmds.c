/* POP3 TRANSACTION commands (RFC 1939 section 5) and QUIT / UPDATE. */
#include <config.h>

#include <string.h>

#include "log.h"
#include "pop3.h"

/* A message number has at most this many digits: 10 fits every uint32_t
 * and a longer string can only be out of range. */
#define POP3_NUMBER_DIGITS_MAX 10

/* Strict decimal: 1 and *value_r, 0 not a number, -1 a number out of range. */
static int pop3_number_parse(const char *str, size_t len, uint64_t *value_r)
{
	uint64_t v = 0;
	size_t i = 0;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (str[i] < '0' || str[i] > '9')
			return 0;
	}
	while (len > 1 && *str == '0') {
		str++;
		len--;
	}
	if (len > POP3_NUMBER_DIGITS_MAX)
		return -1;
	for (i = 0; i < len; i++)
		v = v * 10 + (uint64_t)(str[i] - '0');
	*value_r = v;
	return v > UINT32_MAX ? -1 : 1;
}

int pop3_msg_arg(struct pop3_session *s, char *args, uint32_t *index_r, char **rest_r)
{
	size_t len = strcspn(args, " ");
	uint64_t n = 0;
	int r;

	if (rest_r != NULL)
		*rest_r = args[len] == ' ' ? args + len + 1 : args + len;
	else if (args[len] != '\0') {
		pop3_err(s, "Invalid message number");
		return 0;
	}
	r = pop3_number_parse(args, len, &n);
	if (r == 0) {
		pop3_err(s, "Invalid message number");
		return 0;
	}
	if (r < 0 || n == 0 || n > s->nmsgs) {
		pop3_err(s, "No such message");
		return 0;
	}
	if (s->msgs[n - 1].deleted) {
		pop3_err(s, "Message already deleted");
		return 0;
	}
	*index_r = (uint32_t)(n - 1);
	return 1;
}

int pop3_cmd_stat(struct pop3_session *s, char *args)
{
	conn_printf(s->conn, "+OK %u %llu\r\n", s->nmsgs - s->ndeleted,
		    (unsigned long long)(s->total_bytes - s->deleted_bytes));
	return 0;
}

int pop3_cmd_list(struct pop3_session *s, char *args)
{
	uint32_t i;

	if (*args != '\0') {
		if (pop3_msg_arg(s, args, &i, NULL))
			conn_printf(s->conn, "+OK %u %llu\r\n", i + 1,
				    (unsigned long long)s->msgs[i].size);
		return 0;
	}
	conn_printf(s->conn, "+OK %u message%s (%llu octets)\r\n", s->nmsgs - s->ndeleted,
		    s->nmsgs - s->ndeleted == 1 ? "" : "s",
		    (unsigned long long)(s->total_bytes - s->deleted_bytes));
	for (i = 0; i < s->nmsgs; i++) {
		if (!s->msgs[i].deleted)
			conn_printf(s->conn, "%u %llu\r\n", i + 1,
				    (unsigned long long)s->msgs[i].size);
	}
	conn_puts(s->conn, ".\r\n");
	return 0;
}

/* UIDL: "<uidvalidity>.<uid>" is unique for the mailbox's lifetime (a UID
 * is never reused under one UIDVALIDITY) and the same in every session. */
int pop3_cmd_uidl(struct pop3_session *s, char *args)
{
	uint32_t i;

	if (*args != '\0') {
		if (pop3_msg_arg(s, args, &i, NULL))
			conn_printf(s->conn, "+OK %u %u.%u\r\n", i + 1, s->uidvalidity,
				    s->msgs[i].uid);
		return 0;
	}
	conn_puts(s->conn, "+OK Unique-ID listing follows\r\n");
	for (i = 0; i < s->nmsgs; i++) {
		if (!s->msgs[i].deleted)
			conn_printf(s->conn, "%u %u.%u\r\n", i + 1, s->uidvalidity, s->msgs[i].uid);
	}
	conn_puts(s->conn, ".\r\n");
	return 0;
}

int pop3_cmd_dele(struct pop3_session *s, char *args)
{
	uint32_t i;

	if (!pop3_msg_arg(s, args, &i, NULL))
		return 0;
	s->msgs[i].deleted = true;
	s->ndeleted++;
	s->deleted_bytes += s->msgs[i].size;
	pop3_ok(s, "Marked to be deleted");
	return 0;
}

int pop3_cmd_noop(struct pop3_session *s, char *args)
{
	pop3_ok(s, "");
	return 0;
}

int pop3_cmd_rset(struct pop3_session *s, char *args)
{
	/* and the \Seen the RETRs so far would set at QUIT, as in Dovecot */
	for (uint32_t i = 0; i < s->nmsgs; i++) {
		s->msgs[i].deleted = false;
		s->msgs[i].retrieved = false;
	}
	s->ndeleted = 0;
	s->deleted_bytes = 0;
	conn_printf(s->conn, "+OK %u message%s (%llu octets)\r\n", s->nmsgs,
		    s->nmsgs == 1 ? "" : "s", (unsigned long long)s->total_bytes);
	return 0;
}

int pop3_cmd_quit(struct pop3_session *s, char *args)
{
	const char *error = NULL;

	s->quit = true;
	if (s->state != POP3_STATE_TRANSACTION) {
		pop3_ok(s, "Bye");
		return 0;
	}
	/* UPDATE state: one durable expunge, then the answer (a success
	 * reply is a promise: SECURITY.md 5). */
	if (pop3_maildrop_update(s, &error) < 0) {
		log_error("user=<%s>: expunge at QUIT failed: %s", s->account.address, error);
		pop3_err(s, "[SYS/TEMP] Some deleted messages not removed");
		return 0;
	}
	pop3_maildrop_close(s);
	conn_printf(s->conn, "+OK Bye, %u message%s deleted\r\n", s->expunged,
		    s->expunged == 1 ? "" : "s");
	return 0;
}
