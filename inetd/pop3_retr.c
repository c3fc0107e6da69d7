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

/* TOP's output goes through a buffer this many input bytes at a time. */
#define POP3_TOP_SLICE 4096

/* One chunk of the message. RETR: the runs that need no change go out as
 * they are (no copy through an output buffer), the rare byte that does (a
 * '.' starting a line, a bare LF) through the encoder. TOP: the encoder,
 * a slice at a time, until it is done. */
static void pop3_send_chunk(struct pop3_session *s, struct pop3_encoder *enc, const char *in,
			    size_t len)
{
	char out[2 * POP3_TOP_SLICE + 2];
	size_t off = 0;

	if (enc->lines_left >= 0) {
		for (; off < len && !enc->done; off += POP3_TOP_SLICE) {
			size_t n = len - off < POP3_TOP_SLICE ? len - off : POP3_TOP_SLICE;

			conn_write(s->conn, out, pop3_encoder_run(enc, in + off, n, out));
		}
		return;
	}
	while (off < len) {
		size_t n = pop3_encoder_pass(enc, in + off, len - off);

		if (n > 0)
			conn_write(s->conn, in + off, n);
		off += n;
		if (off < len) {
			conn_write(s->conn, out, pop3_encoder_run(enc, in + off, 1, out));
			off++;
		}
	}
}

/* Streams message `index` with the encoder; 0 done (or answered -ERR),
 * -1 the connection must close. */
static int pop3_send_message(struct pop3_session *s, uint32_t index, int64_t top_lines)
{
	struct pop3_msg *m = &s->msgs[index];
	/* store_msg_open reads the message's record again itself (one
	 * snapshot, not two): it needs only the mailbox and the UID. */
	struct store_msg msg = { .mailbox_id = s->mailbox_id, .uid = m->uid };
	struct store_msg_reader *reader = NULL;
	struct pop3_encoder enc;
	const char *error = NULL;
	char tail[8];
	uint64_t offset = 0;
	int r;

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
	/* One input buffer for the session, made by its first RETR or TOP. */
	if (s->retr_buf == NULL)
		s->retr_buf = malloc(POP3_RETR_CHUNK);
	if (s->retr_buf == NULL) {
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
		ssize_t n = store_msg_read(reader, offset, s->retr_buf, POP3_RETR_CHUNK);

		if (n == 0 && offset >= store_msg_reader_size(reader))
			break;
		if (n <= 0) {
			/* The "+OK" is out: a truncated message (a read error,
			 * or a body file shorter than its record) must not look
			 * complete, so the connection is closed. */
			log_error("user=<%s>: reading message uid %u at %llu failed%s",
				  s->account.address, m->uid, (unsigned long long)offset,
				  n == 0 ? ": body file too short" : "");
			r = -1;
			break;
		}
		offset += (uint64_t)n;
		pop3_send_chunk(s, &enc, s->retr_buf, (size_t)n);
	}
	store_msg_close(&reader);
	if (r < 0 || conn_output_failed(s->conn))
		return -1;
	conn_write(s->conn, tail, pop3_encoder_finish(&enc, tail));
	if (top_lines < 0) {
		m->retrieved = true;
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
