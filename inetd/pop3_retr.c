/* RETR and TOP: the message streamed from the store in chunks through the
 * encoder (pop3_encoder.c). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3.h"

/* TOP's line count: past this many lines it is "the whole body" anyway
 * (and a bigger number is as good as this one). */
#define POP3_TOP_LINES_MAX 4294967295ULL

/* Streams message `index` with the encoder; 0 done (or answered -ERR),
 * -1 the connection must close. */
static int pop3_send_message(struct pop3_session *s, uint32_t index, int64_t top_lines)
{
	struct pop3_msg *m = &s->msgs[index];
	struct store_msg msg;
	struct store_msg_reader *reader = NULL;
	struct pop3_encoder enc;
	const char *error = NULL;
	char *in = NULL, *out = NULL, tail[8];
	uint64_t offset = 0;
	int r;

	r = store_msg_get(s->store, s->mailbox_id, m->uid, &msg, &error);
	if (r > 0)
		r = store_msg_open(s->store, &msg, &reader, &error);
	if (r == 0) {
		pop3_err(s, "Message was deleted by another session");
		return 0;
	}
	if (r < 0) {
		log_error("user=<%s>: reading message uid %u: %s", s->account.address, m->uid,
			  error);
		pop3_err(s, "[SYS/TEMP] Cannot read the message now, try again later");
		return 0;
	}
	in = malloc(POP3_RETR_CHUNK);
	out = malloc(2 * POP3_RETR_CHUNK + 2);
	if (in == NULL || out == NULL) {
		free(in);
		free(out);
		store_msg_close(&reader);
		pop3_err(s, "[SYS/TEMP] Out of memory");
		return 0;
	}
	if (top_lines < 0)
		conn_printf(s->conn, "+OK %llu octets\r\n", (unsigned long long)m->size);
	else
		pop3_ok(s, "Top of message follows");
	pop3_encoder_init(&enc, top_lines);
	r = 0;
	while (!enc.done && !conn_output_failed(s->conn)) {
		ssize_t n = store_msg_read(reader, offset, in, POP3_RETR_CHUNK);

		if (n < 0) {
			/* The "+OK" is out: a truncated message must not look
			 * complete, so the connection is closed. */
			log_error("user=<%s>: reading message uid %u at %llu failed",
				  s->account.address, m->uid, (unsigned long long)offset);
			r = -1;
			break;
		}
		if (n == 0)
			break;
		offset += (uint64_t)n;
		conn_write(s->conn, out, pop3_encoder_run(&enc, in, (size_t)n, out));
	}
	store_msg_close(&reader);
	free(in);
	free(out);
	if (r < 0 || conn_output_failed(s->conn))
		return -1;
	conn_write(s->conn, tail, pop3_encoder_finish(&enc, tail));
	if (top_lines < 0) {
		s->retrieved++;
		s->retrieved_bytes += enc.octets;
		if (enc.octets != m->size)
			log_warning("user=<%s>: message uid %u: sent %llu octets, listed %llu",
				    s->account.address, m->uid, (unsigned long long)enc.octets,
				    (unsigned long long)m->size);
	}
	return 0;
}

int pop3_cmd_retr(struct pop3_session *s, char *args)
{
	uint32_t i;

	if (!pop3_msg_arg(s, args, &i, NULL))
		return 0;
	return pop3_send_message(s, i, -1);
}

int pop3_cmd_top(struct pop3_session *s, char *args)
{
	uint32_t i;
	char *rest;
	uint64_t lines = 0;
	size_t len;

	if (!pop3_msg_arg(s, args, &i, &rest))
		return 0;
	len = strlen(rest);
	if (len == 0 || strspn(rest, "0123456789") != len) {
		pop3_err(s, "Invalid line count");
		return 0;
	}
	for (size_t k = 0; k < len; k++) {
		lines = lines * 10 + (uint64_t)(rest[k] - '0');
		if (lines > POP3_TOP_LINES_MAX) {
			lines = POP3_TOP_LINES_MAX;
			break;
		}
	}
	return pop3_send_message(s, i, (int64_t)lines);
}
