/* Unit tests of inetd/conn.c and inetd/tls.c: the line parser byte by byte
 * and at its limits, connections over socketpairs, pipes and loopback TCP,
 * timeouts, exact reads, buffered writes, COMPRESS=DEFLATE, and STARTTLS
 * (pipelined plaintext discarded, certificate verified against a throwaway
 * CA made by certtool). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "conn.h"
#include "tls.h"

/* ---------------------------------------------------------------- parser */

/* Feeds `input` to the parser one byte at a time the way conn.c does
 * (kept bytes presented again with the next byte) and collects the lines
 * as "text|crlf" or "<skipped>" joined by '\n' into out. */
static void feed_bytewise(const char *input, size_t len, size_t max, char *out, size_t outsize,
			  bool *flood_r)
{
	struct conn_line_state st = { 0 };
	char buf[4096];
	size_t have = 0;

	out[0] = '\0';
	*flood_r = false;
	for (size_t i = 0; i < len; i++) {
		buf[have++] = input[i];
		for (;;) {
			size_t consumed, line_len;
			bool crlf;
			enum conn_line_status s =
				conn_line_parse(&st, buf, have, max, &consumed, &line_len, &crlf);

			assert_true(consumed <= have);
			if (s == CONN_LINE_DONE) {
				char tmp[4200];

				snprintf(tmp, sizeof(tmp), "%.*s|%d\n", (int)line_len, buf, crlf);
				strncat(out, tmp, outsize - strlen(out) - 1);
			} else if (s == CONN_LINE_SKIPPED) {
				strncat(out, "<skipped>\n", outsize - strlen(out) - 1);
			} else if (s == CONN_LINE_FLOOD) {
				*flood_r = true;
				return;
			}
			memmove(buf, buf + consumed, have - consumed);
			have -= consumed;
			if (s == CONN_LINE_NEED_MORE)
				break;
		}
		assert_true(have <= max + 2);
	}
}

static void test_parse_bytewise(void **state)
{
	static const char in[] = "USER bob\r\nPASS x\nNOOP\r\n\r\n\n";
	char out[512];
	bool flood;

	feed_bytewise(in, sizeof(in) - 1, 100, out, sizeof(out), &flood);
	assert_false(flood);
	assert_string_equal(out, "USER bob|1\nPASS x|0\nNOOP|1\n|1\n|0\n");
}

/* A skipped line's first bytes are kept, whether its LF came with it or
 * later (smtpd asks whether it was a BDAT). */
static void test_parse_skipped_head(void **state)
{
	struct conn_line_state st = { 0 };
	const char *whole = "BDAT 000000000031\r\nNOOP\r\n";
	size_t consumed, line_len;
	bool crlf;

	(void)state;
	assert_int_equal(conn_line_parse(&st, whole, strlen(whole), 10, &consumed, &line_len, &crlf),
			 CONN_LINE_SKIPPED);
	assert_int_equal(st.head_len, CONN_SKIPPED_HEAD);
	assert_memory_equal(st.head, "BDAT 000", CONN_SKIPPED_HEAD);
	/* no LF yet: skipping starts, the head is kept until it ends */
	memset(&st, 0, sizeof(st));
	assert_int_equal(conn_line_parse(&st, "MAIL FROM:<aaaaaa", 17, 10, &consumed, &line_len,
					 &crlf), CONN_LINE_NEED_MORE);
	assert_int_equal(conn_line_parse(&st, "aa>\r\n", 5, 10, &consumed, &line_len, &crlf),
			 CONN_LINE_SKIPPED);
	assert_memory_equal(st.head, "MAIL FRO", CONN_SKIPPED_HEAD);
}

static void test_parse_whole_buffer(void **state)
{
	struct conn_line_state st = { 0 };
	const char *buf = "A\r\nBB\r\npartial";
	size_t consumed, line_len;
	bool crlf;

	assert_int_equal(conn_line_parse(&st, buf, strlen(buf), 10, &consumed, &line_len, &crlf),
			 CONN_LINE_DONE);
	assert_int_equal(consumed, 3);
	assert_int_equal(line_len, 1);
	assert_true(crlf);
	buf += consumed;
	assert_int_equal(conn_line_parse(&st, buf, strlen(buf), 10, &consumed, &line_len, &crlf),
			 CONN_LINE_DONE);
	assert_int_equal(line_len, 2);
	buf += consumed;
	assert_int_equal(conn_line_parse(&st, buf, strlen(buf), 10, &consumed, &line_len, &crlf),
			 CONN_LINE_NEED_MORE);
	assert_int_equal(consumed, 0);
}

static void test_parse_limits(void **state)
{
	char in[64], out[512], expect[512];
	bool flood;

	/* exactly max bytes, with CRLF and with a bare LF: accepted */
	memset(in, 'a', 8);
	memcpy(in + 8, "\r\nbbbbbbbb\n", 11);
	feed_bytewise(in, 19, 8, out, sizeof(out), &flood);
	assert_string_equal(out, "aaaaaaaa|1\nbbbbbbbb|0\n");

	/* max + 1 bytes: skipped, and the next line is read in step */
	memset(in, 'a', 9);
	memcpy(in + 9, "\r\nok\r\n", 6);
	feed_bytewise(in, 15, 8, out, sizeof(out), &flood);
	assert_string_equal(out, "<skipped>\nok|1\n");

	/* max + 1 then bare LF (the CR allowance must not admit a 9-byte line) */
	memset(in, 'a', 9);
	memcpy(in + 9, "\nok\n", 4);
	feed_bytewise(in, 13, 8, out, sizeof(out), &flood);
	assert_string_equal(out, "<skipped>\nok|0\n");

	/* a long line of 30 bytes with max 8, then two good ones */
	memset(in, 'x', 30);
	memcpy(in + 30, "\r\n1\r\n22\r\n", 9);
	feed_bytewise(in, 39, 8, out, sizeof(out), &flood);
	snprintf(expect, sizeof(expect), "<skipped>\n1|1\n22|1\n");
	assert_string_equal(out, expect);
	assert_false(flood);

	/* NUL bytes are part of a line; the length tells */
	feed_bytewise("a\0b\r\n", 5, 8, out, sizeof(out), &flood);
	assert_int_equal(out[0], 'a');
}

static void test_parse_flood(void **state)
{
	struct conn_line_state st = { 0 };
	static char chunk[65536];
	size_t consumed, line_len, total = 0;
	bool crlf;
	enum conn_line_status s = CONN_LINE_NEED_MORE;

	memset(chunk, 'z', sizeof(chunk));
	while (s == CONN_LINE_NEED_MORE && total < 4 * CONN_LINE_DISCARD_MAX) {
		s = conn_line_parse(&st, chunk, sizeof(chunk), 100, &consumed, &line_len, &crlf);
		assert_int_equal(consumed, sizeof(chunk));
		total += consumed;
	}
	assert_int_equal(s, CONN_LINE_FLOOD);
	assert_true(total > CONN_LINE_DISCARD_MAX);
	assert_true(total <= CONN_LINE_DISCARD_MAX + sizeof(chunk));
}

/* ------------------------------------------------------------ connection */

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void test_conn_lines_socketpair(void **state)
{
	int sv[2];
	struct conn *conn;
	char *line;
	size_t len;
	bool crlf;
	const char *error = NULL;
	char big[300];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	conn = conn_new(sv[0], sv[0], 200);
	assert_non_null(conn);
	assert_string_equal(conn_peer_ip(conn), "unknown");
	assert_null(conn_peer_ip_or_null(conn));
	assert_false(conn_peer_is_loopback(conn));

	memset(big, 'L', sizeof(big));
	write_all(sv[1], "CAPA\r\n", 6);
	write_all(sv[1], big, sizeof(big));
	write_all(sv[1], "\r\nNOOP\nQU", 9);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, &crlf, &error), CONN_OK);
	assert_string_equal(line, "CAPA");
	assert_true(crlf);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, &crlf, &error),
			 CONN_LINE_TOO_LONG);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, &crlf, &error), CONN_OK);
	assert_string_equal(line, "NOOP");
	assert_false(crlf);
	write_all(sv[1], "IT\r\n", 4);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, &crlf, &error), CONN_OK);
	assert_string_equal(line, "QUIT");
	assert_int_equal(conn_bytes_in(conn), 6 + 300 + 9 + 4);

	/* a partial line then EOF: EOF */
	write_all(sv[1], "half", 4);
	close(sv[1]);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, &crlf, &error), CONN_EOF);
	conn_free(&conn);
	assert_null(conn);
	close(sv[0]);
}

static void test_conn_read_exact(void **state)
{
	int sv[2];
	struct conn *conn;
	char *line, buf[64];
	size_t len;
	const char *error = NULL;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	conn = conn_new(sv[0], sv[0], 100);
	/* a literal: the line, then 10 bytes partly buffered, partly not */
	write_all(sv[1], "APPEND {10}\r\n0123", 17);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "APPEND {10}");
	assert_int_equal(conn_input_pending(conn), 4);
	write_all(sv[1], "456789\r\nNEXT\r\n", 14);
	assert_int_equal(conn_read_full(conn, buf, 10, &error), CONN_OK);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, NULL, &error), CONN_OK);
	assert_int_equal(len, 0);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "NEXT");
	/* EOF in the middle of an exact read */
	write_all(sv[1], "abc", 3);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(conn_read_full(conn, buf, 10, &error), CONN_EOF);
	conn_free(&conn);
	close(sv[0]);
	close(sv[1]);
}

static void test_conn_timeout_and_stop(void **state)
{
	int sv[2];
	struct conn *conn;
	char *line;
	size_t len;
	const char *error = NULL;
	volatile sig_atomic_t stop = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	conn = conn_new(sv[0], sv[0], 100);
	conn_set_timeout(conn, 1);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, NULL, &error), CONN_TIMEOUT);
	conn_set_stop_flag(conn, &stop);
	stop = 1;
	assert_int_equal(conn_read_line(conn, 100, &line, &len, NULL, &error), CONN_ERROR);
	assert_string_equal(error, "stopped");
	conn_free(&conn);
	close(sv[0]);
	close(sv[1]);
}

static void test_conn_write_flush(void **state)
{
	int sv[2];
	struct conn *conn;
	const char *error = NULL;
	static char big[200000], got[200100];
	size_t have = 0;
	int status;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	conn = conn_new(sv[0], sv[0], 100);
	conn_puts(conn, "+OK one\r\n");
	conn_printf(conn, "+OK %d %s\r\n", 2, "two");
	/* nothing written before the flush */
	assert_int_equal(conn_bytes_out(conn), 0);
	assert_int_equal(conn_flush(conn, &error), 0);
	assert_int_equal(conn_bytes_out(conn), 20);
	assert_int_equal(read(sv[1], got, sizeof(got)), 20);
	assert_memory_equal(got, "+OK one\r\n+OK 2 two\r\n", 20);

	/* a write bigger than the socket buffer: streamed while a child reads */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		conn_write(conn, big, sizeof(big));
		conn_puts(conn, "END");
		_exit(conn_flush(conn, &error) == 0 ? 0 : 1);
	}
	while (have < sizeof(big) + 3) {
		ssize_t n = read(sv[1], got + have, sizeof(got) - have);

		assert_true(n > 0);
		have += (size_t)n;
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_memory_equal(got, big, sizeof(big));
	assert_memory_equal(got + sizeof(big), "END", 3);

	/* the peer gone: the flush reports it, later writes are dropped */
	close(sv[1]);
	conn_puts(conn, "+OK lost\r\n");
	assert_int_equal(conn_flush(conn, &error), -1);
	assert_non_null(error);
	conn_puts(conn, "+OK lost again\r\n");
	assert_int_equal(conn_flush(conn, &error), -1);
	conn_free(&conn);
	close(sv[0]);
}

static void test_conn_pipe_and_wait(void **state)
{
	int in[2], out[2], extra[2];
	struct conn *conn;
	const char *error = NULL;
	char *line;
	size_t len;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(extra), 0);
	conn = conn_new(in[0], out[1], 100);
	assert_string_equal(conn_peer_ip(conn), "unknown");
	/* nothing yet: the wait times out */
	assert_int_equal(conn_wait_input(conn, extra[0], 50, &error), CONN_TIMEOUT);
	write_all(extra[1], "x", 1);
	assert_int_equal(conn_wait_input(conn, extra[0], 1000, &error), 2);
	write_all(in[1], "A\r\nB\r\n", 6);
	assert_int_equal(conn_wait_input(conn, -1, 1000, &error), 1);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, NULL, &error), CONN_OK);
	/* "B" is buffered now: input is reported without polling */
	assert_true(conn_input_pending(conn) > 0);
	assert_int_equal(conn_wait_input(conn, extra[0], 0, &error), 1);
	conn_free(&conn);
	/* the fds got their blocking mode back */
	assert_int_equal(fcntl(in[0], F_GETFL) & O_NONBLOCK, 0);
	for (int i = 0; i < 2; i++) {
		close(in[i]);
		close(out[i]);
		close(extra[i]);
	}
}

/* COMPRESS=DEFLATE between two connections (a server and a client side)
 * over a socketpair: the reply that starts it goes plain, then lines both
 * ways, a burst that the wire sees shrunk, compressed bytes that arrived
 * with the command itself, and garbage from the peer ends the connection. */
static void test_conn_deflate(void **state)
{
	int sv[2];
	struct conn *server, *client;
	const char *error = NULL;
	char *line;
	size_t len;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	server = conn_new(sv[0], sv[0], 1000);
	client = conn_new(sv[1], sv[1], 1000);
	conn_puts(client, "a COMPRESS DEFLATE\r\n");
	assert_int_equal(conn_flush(client, &error), 0);
	assert_int_equal(conn_read_line(server, 1000, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "a COMPRESS DEFLATE");
	assert_false(conn_is_deflate(server));
	conn_puts(server, "a OK DEFLATE active\r\n");
	assert_int_equal(conn_start_deflate(server, &error), 0);
	assert_true(conn_is_deflate(server));
	assert_int_equal(conn_start_deflate(server, &error), -1);
	assert_string_equal(error, "compression is already active");
	/* the agreeing reply came plain */
	assert_int_equal(conn_read_line(client, 1000, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "a OK DEFLATE active");
	assert_int_equal(conn_start_deflate(client, &error), 0);

	conn_puts(client, "b NOOP\r\n");
	assert_int_equal(conn_flush(client, &error), 0);
	assert_int_equal(conn_wait_input(server, -1, 1000, &error), 1);
	assert_int_equal(conn_read_line(server, 1000, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "b NOOP");

	uint64_t before = conn_bytes_out(server);

	for (int i = 0; i < 2000; i++)
		conn_printf(server, "* %d FETCH (FLAGS (\\Seen) UID %d)\r\n", i + 1, i + 1);
	assert_int_equal(conn_flush(server, &error), 0);
	assert_true(conn_bytes_out(server) - before < 2000 * 30 / 5);
	for (int i = 0; i < 2000; i++) {
		char want[64];

		snprintf(want, sizeof(want), "* %d FETCH (FLAGS (\\Seen) UID %d)", i + 1, i + 1);
		assert_int_equal(conn_read_line(client, 1000, &line, &len, NULL, &error), CONN_OK);
		assert_string_equal(line, want);
	}
	/* nothing more: a wait times out rather than reporting input */
	assert_int_equal(conn_wait_input(client, -1, 50, &error), CONN_TIMEOUT);

	/* bytes that are no DEFLATE stream: an error, and it stays one */
	assert_int_equal(write(sv[1], "\xff\xff\xff\xff\x00\x13", 6), 6);
	assert_int_equal(conn_read_line(server, 1000, &line, &len, NULL, &error), CONN_ERROR);
	assert_string_equal(error, "corrupt compressed data");
	assert_int_equal(conn_read_line(server, 1000, &line, &len, NULL, &error), CONN_ERROR);
	conn_free(&server);
	conn_free(&client);
	close(sv[0]);
	close(sv[1]);

	/* a client that compresses right behind its command, in one write:
	 * those bytes are read as compressed, not as plain text */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	server = conn_new(sv[0], sv[0], 1000);
	client = conn_new(sv[1], sv[1], 1000);
	conn_puts(client, "c COMPRESS DEFLATE\r\n");
	assert_int_equal(conn_start_deflate(client, &error), 0);
	conn_puts(client, "d CAPABILITY\r\n");
	assert_int_equal(conn_flush(client, &error), 0);
	assert_int_equal(conn_read_line(server, 1000, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "c COMPRESS DEFLATE");
	assert_true(conn_input_pending(server) > 0);
	assert_int_equal(conn_start_deflate(server, &error), 0);
	assert_int_equal(conn_input_pending(server), 0);
	assert_int_equal(conn_read_line(server, 1000, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "d CAPABILITY");
	/* the peer closing ends it as EOF */
	conn_free(&client);
	close(sv[1]);
	assert_int_equal(conn_read_line(server, 1000, &line, &len, NULL, &error), CONN_EOF);
	conn_free(&server);
	close(sv[0]);

	/* more compressed input behind the command than the inflater reads
	 * ahead by itself (16 KB): all of the read buffer's bytes fit */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	server = conn_new(sv[0], sv[0], 60000);
	client = conn_new(sv[1], sv[1], 60000);
	conn_puts(client, "e COMPRESS DEFLATE\r\n");
	assert_int_equal(conn_start_deflate(client, &error), 0);
	uint32_t x = 1;
	for (int i = 0; i < 1000; i++) {
		conn_printf(client, "n%d NOOP", i);
		for (int k = 0; k < 6; k++) {
			x = x * 1103515245u + 12345u;
			conn_printf(client, " %08x", x);
		}
		conn_puts(client, "\r\n");
	}
	assert_int_equal(conn_flush(client, &error), 0);
	assert_true(conn_bytes_out(client) > 24000);
	assert_int_equal(conn_read_line(server, 60000, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "e COMPRESS DEFLATE");
	assert_true(conn_input_pending(server) > 16384);
	assert_int_equal(conn_start_deflate(server, &error), 0);
	for (int i = 0; i < 1000; i++) {
		char want[16];

		assert_int_equal(conn_read_line(server, 60000, &line, &len, NULL, &error), CONN_OK);
		snprintf(want, sizeof(want), "n%d NOOP ", i);
		assert_memory_equal(line, want, strlen(want));
	}
	conn_free(&client);
	conn_free(&server);
	close(sv[0]);
	close(sv[1]);
}

static void test_conn_tcp_peer(void **state)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int lfd, cfd, afd;
	struct conn *conn;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	conn = conn_new(afd, afd, 100);
	assert_string_equal(conn_peer_ip(conn), "127.0.0.1");
	assert_string_equal(conn_peer_ip_or_null(conn), "127.0.0.1");
	assert_true(conn_peer_is_loopback(conn));
	conn_free(&conn);
	close(afd);
	close(cfd);
	close(lfd);
}

/* ------------------------------------------------------------------- TLS */

static char tls_dir[] = "/tmp/pb-test-conn-XXXXXX";
static char ca_pem[128], cert_pem[128], key_pem[128];

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int tls_setup(void **state)
{
	FILE *f;
	char path[128];

	if (mkdtemp(tls_dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ca.tmpl", tls_dir);
	f = fopen(path, "w");
	fputs("cn = Pillarbox test CA\nca\ncert_signing_key\nexpiration_days = 2\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/srv.tmpl", tls_dir);
	f = fopen(path, "w");
	fputs("cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\n"
	      "tls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n", f);
	fclose(f);
	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", tls_dir);
	snprintf(cert_pem, sizeof(cert_pem), "%s/cert.pem", tls_dir);
	snprintf(key_pem, sizeof(key_pem), "%s/key.pem", tls_dir);
	if (run("cd %s && certtool --generate-privkey --key-type=ecdsa --outfile ca.key 2>/dev/null"
		" && certtool --generate-self-signed --load-privkey ca.key --template ca.tmpl"
		" --outfile ca.pem >/dev/null 2>&1"
		" && certtool --generate-privkey --key-type=ecdsa --outfile key.pem 2>/dev/null"
		" && certtool --generate-certificate --load-privkey key.pem --load-ca-certificate ca.pem"
		" --load-ca-privkey ca.key --template srv.tmpl --outfile cert.pem >/dev/null 2>&1",
		tls_dir) != 0)
		return -1;
	return 0;
}

static int tls_teardown(void **state)
{
	return run("rm -rf %s", tls_dir) == 0 ? 0 : -1;
}

/* The client side of a STARTTLS exchange, in a child: sends the command
 * with plaintext pipelined behind it, reads the go-ahead, starts TLS
 * (verifying `name`), then talks over TLS. Exit 0 when all went as
 * expected; `expect_fail` = the handshake must fail. */
static int tls_client_child(int fd, const char *name, bool expect_fail)
{
	struct tls_creds *creds = NULL;
	struct conn *conn;
	const char *error = NULL;
	char *line;
	size_t len;

	if (tls_creds_client_new(ca_pem, true, NULL, &creds, &error) < 0)
		return 10;
	conn = conn_new(fd, fd, 100);
	conn_puts(conn, "STARTTLS\r\nINJECTED PLAINTEXT\r\n");
	if (conn_flush(conn, &error) < 0)
		return 11;
	if (conn_read_line(conn, 100, &line, &len, NULL, &error) != CONN_OK ||
	    strcmp(line, "OK begin TLS") != 0)
		return 12;
	if (conn_start_tls(conn, creds, false, name, NULL, &error) < 0)
		return expect_fail ? 0 : 13;
	if (expect_fail)
		return 14;
	if (!conn_is_tls(conn) || strncmp(conn_tls_description(conn), "TLS1.", 5) != 0)
		return 15;
	conn_puts(conn, "HELLO over tls\r\n");
	if (conn_read_line(conn, 100, &line, &len, NULL, &error) != CONN_OK ||
	    strcmp(line, "WELCOME") != 0)
		return 16;
	conn_free(&conn);
	tls_creds_free(&creds);
	return 0;
}

static void starttls_round(const char *name, bool expect_fail, bool prepared)
{
	int sv[2], status;
	pid_t pid;
	struct tls_creds *creds = NULL;
	struct conn *conn;
	const char *error = NULL;
	char *line;
	size_t len, discarded = 0;

	/* prepared: loaded by the handshake's first session (what handlers do) */
	if (prepared)
		assert_int_equal(tls_creds_server_prepare(cert_pem, key_pem, NULL, &creds, &error), 0);
	else
		assert_int_equal(tls_creds_server_load(cert_pem, key_pem, NULL, &creds, &error), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(tls_client_child(sv[1], name, expect_fail));
	}
	close(sv[1]);
	conn = conn_new(sv[0], sv[0], 100);
	conn_set_timeout(conn, 10);
	assert_int_equal(conn_read_line(conn, 100, &line, &len, NULL, &error), CONN_OK);
	assert_string_equal(line, "STARTTLS");
	/* the pipelined plaintext came in the same write, so it is buffered */
	assert_int_equal(conn_input_pending(conn), strlen("INJECTED PLAINTEXT\r\n"));
	conn_puts(conn, "OK begin TLS\r\n");
	if (expect_fail) {
		assert_int_equal(conn_start_tls(conn, creds, true, NULL, &discarded, &error), -1);
		assert_non_null(error);
	} else {
		assert_int_equal(conn_start_tls(conn, creds, true, NULL, &discarded, &error), 0);
		assert_int_equal(discarded, strlen("INJECTED PLAINTEXT\r\n"));
		assert_true(conn_is_tls(conn));
		/* the first line over TLS is the client's, not the injected one */
		assert_int_equal(conn_read_line(conn, 100, &line, &len, NULL, &error), CONN_OK);
		assert_string_equal(line, "HELLO over tls");
		conn_puts(conn, "WELCOME\r\n");
		assert_int_equal(conn_flush(conn, &error), 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	conn_free(&conn);
	close(sv[0]);
	tls_creds_free(&creds);
	assert_null(creds);
}

static void test_starttls_ok(void **state)
{
	starttls_round("localhost", false, false);
}

static void test_starttls_prepared(void **state)
{
	starttls_round("localhost", false, true);
}

static void test_starttls_wrong_name(void **state)
{
	starttls_round("not-this-host.example", true, false);
}

static void test_tls_bad_files(void **state)
{
	struct tls_creds *creds = NULL;
	const char *error = NULL;

	assert_int_equal(tls_creds_server_load("/nonexistent/cert.pem", key_pem, NULL, &creds,
					       &error), -1);
	assert_non_null(strstr(error, "/nonexistent/cert.pem"));
	assert_null(creds);
	assert_int_equal(tls_creds_server_load(cert_pem, key_pem, "NONSENSE:+FOO", &creds, &error),
			 -1);
	assert_non_null(strstr(error, "tls_priority"));
}

/* Prepared credentials: unreadable files are reported at once; a key that
 * does not parse only when TLS is first wanted, and then every time. */
static void test_tls_prepared_bad(void **state)
{
	struct tls_creds *creds = NULL;
	const char *error = NULL;
	char bad_key[300];
	int sv[2];

	assert_int_equal(tls_creds_server_prepare(cert_pem, "/nonexistent/key.pem", NULL, &creds,
						  &error), -1);
	assert_non_null(strstr(error, "/nonexistent/key.pem"));
	assert_null(creds);
	snprintf(bad_key, sizeof(bad_key), "%s/bad-key.pem", tls_dir);
	FILE *f = fopen(bad_key, "w");
	assert_non_null(f);
	fputs("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	assert_int_equal(tls_creds_server_prepare(cert_pem, bad_key, NULL, &creds, &error), 0);
	assert_non_null(creds);
	for (int i = 0; i < 2; i++) {
		error = NULL;
		assert_int_equal(tls_creds_ready(creds, &error), -1);
		assert_non_null(strstr(error, "bad-key.pem"));
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct conn *conn = conn_new(sv[0], sv[0], 100);
	assert_int_equal(conn_start_tls(conn, creds, true, NULL, NULL, &error), -1);
	conn_free(&conn);
	close(sv[0]);
	close(sv[1]);
	tls_creds_free(&creds);
	assert_null(creds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bytewise),
		cmocka_unit_test(test_parse_whole_buffer),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_flood),
		cmocka_unit_test(test_parse_skipped_head),
		cmocka_unit_test(test_conn_lines_socketpair),
		cmocka_unit_test(test_conn_read_exact),
		cmocka_unit_test(test_conn_timeout_and_stop),
		cmocka_unit_test(test_conn_write_flush),
		cmocka_unit_test(test_conn_pipe_and_wait),
		cmocka_unit_test(test_conn_tcp_peer),
		cmocka_unit_test(test_conn_deflate),
		cmocka_unit_test(test_starttls_ok),
		cmocka_unit_test(test_starttls_prepared),
		cmocka_unit_test(test_starttls_wrong_name),
		cmocka_unit_test(test_tls_bad_files),
		cmocka_unit_test(test_tls_prepared_bad),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, tls_setup, tls_teardown);
}
