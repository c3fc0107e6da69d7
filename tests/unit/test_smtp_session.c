/* Scripted SMTP sessions (STYLE.md lesson 16): the real command loop of
 * inetd/libsmtp.a on one end of a socketpair, a whole client script
 * written to the other end (so every script is also a pipelining test),
 * a fresh store behind it; the replies are compared, then the store is
 * read back. A run as root switches to the store user first. */
#include <ftw.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "conn.h"
#include "log.h"
#include "process.h"
#include "smtp.h"
#include "store.h"

struct fixture {
	struct config *config;
	struct store *store;
	char dir[64];
	struct smtp_options opt;
};

static struct fixture *fx;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void add_user(const char *address, const char *password)
{
	const char *err = NULL;

	if (store_user_add(fx->store, address, password, NULL, &err) != 1)
		fail_msg("user_add %s: %s", address, err ? err : "");
}

static void add_alias(const char *src, const char *dst)
{
	const char *err = NULL;

	if (store_alias_add(fx->store, src, dst, &err) != 1)
		fail_msg("alias_add %s -> %s: %s", src, dst, err ? err : "");
}

static int setup(void **state)
{
	const char *err;

	fx = calloc(1, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/pb-test-smtp-XXXXXX");
	if (mkdtemp(fx->dir) == NULL || (fx->config = config_defaults()) == NULL)
		return -1;
	free(fx->config->store);
	fx->config->store = strdup(fx->dir);
	free(fx->config->hostname);
	fx->config->hostname = strdup("mail.example.com");
	fx->config->password_cost = 1;
	fx->config->max_message_size = 100000;
	fx->config->allow_plaintext_auth = true; /* a socketpair is not loopback */
	/* The sender checks ask DNS (tests/integration/test_smtp_mailauth.py). */
	fx->config->mail_auth = CONFIG_MAIL_AUTH_OFF;
	if (store_init(fx->config, &err) < 0 || store_open(fx->config, false, &fx->store, &err) < 0) {
		print_error("store: %s\n", err);
		return -1;
	}
	if (store_domain_add(fx->store, "example.com", &err) != 1 ||
	    store_domain_add(fx->store, "example.net", &err) != 1)
		return -1;
	add_user("bob@example.com", "bob pw");
	add_user("alice@example.com", "alice pw");
	add_user("carol@example.com", "carol pw");
	add_user("postmaster@example.com", "pm pw");
	add_alias("sales@example.com", "alice@example.com");
	add_alias("team@example.com", "alice@example.com");
	add_alias("team@example.com", "bob@example.com");
	add_alias("ext@example.com", "someone@elsewhere.example");
	add_alias("@example.net", "carol@example.com");
	fx->opt.mode = SMTP_MODE_MX;
	fx->opt.max_recipients = SMTP_RECIPIENTS_DEFAULT;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_close(&fx->store);
	nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	config_free(&fx->config);
	free(fx);
	return 0;
}

/* ------------------------------------------------------------ running */

struct pump {
	int fd;
	const char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_size;
};

static void *writer(void *arg)
{
	struct pump *p = arg;
	size_t off = 0;

	while (off < p->in_len) {
		ssize_t n = write(p->fd, p->in + off, p->in_len - off);

		if (n <= 0)
			break; /* the session hung up: the rest is never read */
		off += (size_t)n;
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

static void *reader(void *arg)
{
	struct pump *p = arg;

	for (;;) {
		if (p->out_size - p->out_len < 4096) {
			p->out_size = p->out_size * 2 + 8192;
			p->out = realloc(p->out, p->out_size);
		}
		ssize_t n = read(p->fd, p->out + p->out_len, p->out_size - p->out_len - 1);

		if (n <= 0)
			break;
		p->out_len += (size_t)n;
	}
	p->out[p->out_len] = '\0';
	return NULL;
}

static int last_ret;

/* Runs one session over `in` and returns everything it said (malloc'd). */
static char *session(const char *in, size_t len)
{
	int sv[2];
	pthread_t tw, tr;
	struct pump w = { 0 }, r = { 0 };
	struct conn *conn;
	struct smtp_session *s;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	w.fd = r.fd = sv[0];
	w.in = in;
	w.in_len = len;
	assert_int_equal(pthread_create(&tw, NULL, writer, &w), 0);
	assert_int_equal(pthread_create(&tr, NULL, reader, &r), 0);
	conn = conn_new(sv[1], sv[1], SMTP_DATA_LINE_MAX);
	conn_set_timeout(conn, 20);
	s = smtp_session_new(conn, fx->store, fx->config, NULL, &fx->opt);
	assert_non_null(s);
	last_ret = smtp_session_run(s);
	smtp_session_free(&s);
	conn_free(&conn);
	shutdown(sv[1], SHUT_RDWR);
	close(sv[1]);
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	close(sv[0]);
	return r.out;
}

static char *session_str(const char *in)
{
	return session(in, strlen(in));
}

/* Checks that the replies are `expect`: lines separated by "\n", each a
 * prefix of the reply line; "*" skips one line (multi-line EHLO etc.). */
static void expect_replies(const char *out, const char *expect)
{
	const char *o = out, *e = expect;
	int line = 1;

	while (*e != '\0') {
		const char *eol = strchr(e, '\n');
		size_t elen = eol != NULL ? (size_t)(eol - e) : strlen(e);
		const char *ocrlf = strstr(o, "\r\n");

		if (ocrlf == NULL)
			fail_msg("reply %d missing, wanted \"%.*s\"; got:\n%s", line, (int)elen, e, out);
		if (!(elen == 1 && *e == '*') && strncmp(o, e, elen) != 0)
			fail_msg("reply %d: \"%.*s\", wanted \"%.*s\"; all:\n%s", line,
				 (int)(ocrlf - o), o, (int)elen, e, out);
		o = ocrlf + 2;
		e += elen + (eol != NULL);
		line++;
	}
	if (*o != '\0')
		fail_msg("more replies than expected after %d: %s", line - 1, o);
}

/* ------------------------------------------------------- reading back */

static uint32_t inbox_of(const char *address)
{
	struct store_user u;
	struct store_mailbox mb;
	const char *err = NULL;

	assert_int_equal(store_user_find(fx->store, address, &u, &err), 1);
	assert_int_equal(store_mailbox_find(fx->store, u.id, "INBOX", &mb, &err), 1);
	return mb.id;
}

static int count_cb(const struct store_msg *msg, void *ctx)
{
	(void)msg;
	(*(unsigned *)ctx)++;
	return 0;
}

static unsigned inbox_count(const char *address)
{
	unsigned n = 0;
	const char *err = NULL;

	assert_true(store_msg_list(fx->store, inbox_of(address), 1, UINT32_MAX, count_cb, &n,
				   &err) >= 0);
	return n;
}

struct last_ctx {
	struct store_msg msg;
	bool found;
};

static int last_cb(const struct store_msg *msg, void *ctx)
{
	struct last_ctx *c = ctx;

	c->msg = *msg;
	c->found = true;
	return 0;
}

/* The newest message of the INBOX, whole (malloc'd, NUL-terminated). */
static char *inbox_last(const char *address)
{
	struct last_ctx c = { .found = false };
	struct store_msg_reader *rd;
	const char *err = NULL;
	char *buf;
	uint64_t size;
	ssize_t n;

	assert_true(store_msg_list(fx->store, inbox_of(address), 1, UINT32_MAX, last_cb, &c,
				   &err) >= 0);
	assert_true(c.found);
	assert_int_equal(store_msg_open(fx->store, &c.msg, &rd, &err), 1);
	size = store_msg_reader_size(rd);
	buf = malloc(size + 1);
	n = store_msg_read(rd, 0, buf, size);
	assert_int_equal(n, (ssize_t)size);
	buf[size] = '\0';
	store_msg_close(&rd);
	return buf;
}

/* ---------------------------------------------------------------- tests */

/* The greeting and the 9 lines of EHLO (AUTH offered: plaintext allowed). */
#define EHLO_REPLIES "220\n*\n*\n*\n*\n*\n*\n*\n*\n*\n"

static const char MSG[] = "From: <alice@example.org>\r\nSubject: test\r\n\r\nHello\r\n"
			  "..stuffed\r\n";

static void test_ehlo(void **state)
{
	char *out;

	(void)state;
	out = session_str("EHLO client.example\r\nQUIT\r\n");
	expect_replies(out, "220 mail.example.com ESMTP\n250-mail.example.com\n250-PIPELINING\n"
			    "250-SIZE 100000\n250-8BITMIME\n250-CHUNKING\n250-ENHANCEDSTATUSCODES\n"
			    "250-SMTPUTF8\n250-DSN\n250 AUTH PLAIN LOGIN\n221 2.0.0");
	assert_int_equal(last_ret, 0);
	free(out);
	out = session_str("HELO client.example\r\nEHLO bad host\r\nHELO\r\nNOOP\r\nRSET\r\n"
			  "VRFY bob\r\nEXPN staff\r\nHELP\r\nquit\r\n");
	expect_replies(out, "220\n250 mail.example.com\n501 5.5.4\n501 5.5.4\n250 2.0.0\n250 2.0.0\n"
			    "252 2.0.0\n502 5.5.1\n214 2.0.0\n221 2.0.0");
	free(out);
}

static void test_deliver_mx(void **state)
{
	char in[1024], *out, *msg;
	unsigned before = inbox_count("bob@example.com");

	(void)state;
	snprintf(in, sizeof(in), "EHLO client.example\r\nMAIL FROM:<alice@example.org>\r\n"
				 "RCPT TO:<Bob@Example.com>\r\nDATA\r\n%s.\r\nQUIT\r\n", MSG);
	out = session_str(in);
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n354\n"
			    "250 2.0.0 Ok: queued as\n221");
	free(out);
	assert_int_equal(inbox_count("bob@example.com"), before + 1);
	msg = inbox_last("bob@example.com");
	/* prefix, Received, then the message byte for byte, unstuffed */
	assert_true(strncmp(msg, "Return-Path: <alice@example.org>\r\nDelivered-To: bob@example.com\r\n"
				 "Received: from client.example (unknown)\r\n"
				 "\tby mail.example.com (Pillarbox) with ESMTP id ", 150) == 0);
	assert_non_null(strstr(msg, "\tfor <Bob@example.com>;\r\n"));
	assert_string_equal(strstr(msg, "\r\nFrom: ") + 2,
			    "From: <alice@example.org>\r\nSubject: test\r\n\r\nHello\r\n.stuffed\r\n");
	/* MX mode adds no Message-ID / Date */
	assert_null(strstr(msg, "Message-ID:"));
	free(msg);
}

static void test_sequence_errors(void **state)
{
	char *out;

	(void)state;
	out = session_str("MAIL FROM:<a@b.example>\r\nEHLO c.example\r\nRCPT TO:<bob@example.com>\r\n"
			  "DATA\r\nMAIL FROM:<a@b.example>\r\nMAIL FROM:<a@b.example>\r\nDATA\r\n"
			  "RCPT TO:<nobody@example.com>\r\nDATA\r\nAUTH PLAIN\r\nFOO\r\nQUIT x\r\n"
			  "QUIT\r\n");
	expect_replies(out, "220\n503 5.5.1 Send EHLO\n*\n*\n*\n*\n*\n*\n*\n*\n*\n503 5.5.1 Need MAIL\n"
			    "503 5.5.1 Need MAIL and RCPT\n250 2.1.0\n503 5.5.1 Nested\n"
			    "503 5.5.1 Need RCPT\n550 5.1.1\n554 5.5.1 No valid recipients\n"
			    "503 5.5.1 AUTH not allowed\n500 5.5.1\n501 5.5.4\n221");
	free(out);
}

static void test_relay_refused(void **state)
{
	char *out;

	(void)state;
	out = session_str("EHLO c.example\r\nMAIL FROM:<x@elsewhere.example>\r\n"
			  "RCPT TO:<user@elsewhere.example>\r\n"
			  "RCPT TO:<user%elsewhere.example@example.com>\r\n"
			  "RCPT TO:<@example.com:user@elsewhere.example>\r\n"
			  "RCPT TO:<\"user@elsewhere.example\"@example.com>\r\n"
			  "RCPT TO:<elsewhere.example!user@example.com>\r\n"
			  "RCPT TO:<user@[127.0.0.1]>\r\n"
			  "RCPT TO:<>\r\nRCPT TO:<user@>\r\nRCPT TO:user@elsewhere.example\r\n"
			  "RCPT TO:<\"user@elsewhere.example\">\r\n"
			  "RCPT TO:<\"x y\"@elsewhere.example>\r\n"
			  "RCPT TO:<user@elsewhere.example.>\r\n"
			  "QUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n554 5.7.1\n550 5.1.1\n554 5.7.1\n"
			    "550 5.1.1\n550 5.1.1\n554 5.7.1\n501 5.1.3\n501 5.1.3\n501 5.1.3\n"
			    "501 5.1.3\n554 5.7.1\n501 5.1.3\n221");
	free(out);
}

static void test_aliases_and_duplicates(void **state)
{
	char in[1024], *out;
	unsigned a = inbox_count("alice@example.com"), b = inbox_count("bob@example.com");
	unsigned c = inbox_count("carol@example.com");

	(void)state;
	snprintf(in, sizeof(in), "EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<team@example.com>\r\n"
				 "RCPT TO:<bob@example.com>\r\nRCPT TO:<BOB@example.com>\r\n"
				 "RCPT TO:<sales@example.com>\r\nRCPT TO:<anyone@example.net>\r\n"
				 "RCPT TO:<Postmaster>\r\nDATA\r\n%s.\r\nQUIT\r\n", MSG);
	out = session_str(in);
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n250 2.1.5\n250 2.1.5\n"
			    "250 2.1.5\n250 2.1.5\n250 2.1.5\n354\n250 2.0.0\n221");
	free(out);
	assert_int_equal(inbox_count("alice@example.com"), a + 1);
	assert_int_equal(inbox_count("bob@example.com"), b + 1);
	assert_int_equal(inbox_count("carol@example.com"), c + 1);
	assert_int_equal(inbox_count("postmaster@example.com"), 1);
}

static void test_pipelined_transactions(void **state)
{
	char in[4096], *out;
	unsigned b = inbox_count("bob@example.com");

	(void)state;
	snprintf(in, sizeof(in), "EHLO c.example\r\n"
				 "MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n%s.\r\n"
				 "MAIL FROM:<a@b.example>\r\nRCPT TO:<nobody@example.com>\r\n"
				 "RCPT TO:<bob@example.com>\r\nDATA\r\n%s.\r\n"
				 "RSET\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
				 "RSET\r\nQUIT\r\n", MSG, MSG);
	out = session_str(in);
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n354\n250 2.0.0\n"
			    "250 2.1.0\n550 5.1.1\n250 2.1.5\n354\n250 2.0.0\n250 2.0.0\n"
			    "250 2.1.0\n250 2.1.5\n250 2.0.0\n221");
	free(out);
	assert_int_equal(inbox_count("bob@example.com"), b + 2);
}

static void test_bare_newlines(void **state)
{
	char *out;
	unsigned b = inbox_count("bob@example.com");

	(void)state;
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "DATA\r\nSubject: x\r\n\r\nbare\nLF\r\n.\r\n"
			  "MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "DATA\r\nSubject: x\r\n\r\nbare\rCR\r\n.\r\nQUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250\n250\n354\n550 5.6.0\n250\n250\n354\n"
			    "550 5.6.0\n221");
	free(out);
	assert_int_equal(inbox_count("bob@example.com"), b);
}

static void test_smuggling(void **state)
{
	char *out;
	unsigned b = inbox_count("bob@example.com"), a = inbox_count("alice@example.com");

	(void)state;
	/* <LF>.<LF>: the session refuses and hangs up; the smuggled
	 * transaction after it is never read. */
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "DATA\r\nSubject: x\r\n\r\nhi\n.\nMAIL FROM:<admin@example.com>\r\n"
			  "RCPT TO:<alice@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n"
			  "QUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250\n250\n354\n550 5.6.0\n421 4.7.0");
	free(out);
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "DATA\r\nSubject: x\r\n\r\nhi\r.\rMAIL FROM:<admin@example.com>\r\n"
			  "RCPT TO:<alice@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n"
			  "QUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250\n250\n354\n550 5.6.0\n421 4.7.0");
	free(out);
	assert_int_equal(inbox_count("bob@example.com"), b);
	assert_int_equal(inbox_count("alice@example.com"), a);
}

static void test_headerless_data(void **state)
{
	char *out, *msg;

	(void)state;
	/* Data that does not start with a header field has no header: its
	 * first line must not continue the Received: field smtpd put before
	 * it (a leading space) nor stand in the header block; an empty line
	 * ends the header smtpd made. */
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "DATA\r\n (forged: by trusted.example)\r\nSubject: x\r\n\r\nbody\r\n.\r\n"
			  "MAIL FROM:<a@b.example>\r\nRCPT TO:<alice@example.com>\r\n"
			  "DATA\r\nhello\r\n.\r\nQUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250\n250\n354\n250 2.0.0\n250\n250\n354\n250 2.0.0\n221");
	free(out);
	msg = inbox_last("bob@example.com");
	assert_non_null(strstr(msg, "\r\n\r\n"));
	assert_string_equal(strstr(msg, "\r\n\r\n"),
			    "\r\n\r\n (forged: by trusted.example)\r\nSubject: x\r\n\r\nbody\r\n");
	free(msg);
	msg = inbox_last("alice@example.com");
	assert_non_null(strstr(msg, "\r\n\r\n"));
	assert_string_equal(strstr(msg, "\r\n\r\n"), "\r\n\r\nhello\r\n");
	free(msg);
	/* a message that starts with the empty line keeps it, once */
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "DATA\r\n\r\nno header\r\n.\r\nQUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250\n250\n354\n250 2.0.0\n221");
	free(out);
	msg = inbox_last("bob@example.com");
	assert_non_null(strstr(msg, "\r\n\r\n"));
	assert_string_equal(strstr(msg, "\r\n\r\n"), "\r\n\r\nno header\r\n");
	free(msg);
}

static void test_size(void **state)
{
	char *in, *out;
	size_t len;
	unsigned b = inbox_count("bob@example.com");

	(void)state;
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example> SIZE=100001\r\n"
			  "MAIL FROM:<a@b.example> SIZE=100000\r\nQUIT\r\n");
	expect_replies(out, EHLO_REPLIES "552 5.3.4\n250 2.1.0\n221");
	free(out);
	/* data past max_message_size: read to the end, refused, session goes on */
	in = malloc(200000);
	len = (size_t)sprintf(in, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
				  "RCPT TO:<bob@example.com>\r\nDATA\r\n");
	for (int i = 0; i < 1500; i++)
		len += (size_t)sprintf(in + len, "%098d\r\n", i);
	len += (size_t)sprintf(in + len, ".\r\nNOOP\r\nQUIT\r\n");
	out = session(in, len);
	expect_replies(out, EHLO_REPLIES "250\n250\n354\n552 5.3.4\n250 2.0.0\n221");
	free(out);
	free(in);
	assert_int_equal(inbox_count("bob@example.com"), b);
}

/* BDAT (RFC 3030): chunks taken exactly as counted, pipelined in one
 * write, split inside a CRLF, no unstuffing; every refusal reads the
 * chunk away so the next command is found where the client put it. */
static void test_bdat(void **state)
{
	static const char body[] = "Subject: chunks\r\n\r\n.not stuffed\r\n..two\r\nend\r\n";
	char in[4096], *out, *msg, *big;
	size_t len;
	unsigned b = inbox_count("bob@example.com");

	(void)state;
	/* one write: two chunks, the first ending between a CR and its LF */
	assert_int_equal(body[17], '\r');
	snprintf(in, sizeof(in), "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
				 "RCPT TO:<bob@example.com>\r\nBDAT 18\r\n%.18sBDAT %zu LAST\r\n%s"
				 "NOOP\r\nQUIT\r\n", body, strlen(body) - 18, body + 18);
	out = session_str(in);
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n250 2.0.0 18 octets received\n"
			    "250 2.0.0 Ok: queued as\n250 2.0.0\n221");
	free(out);
	assert_int_equal(inbox_count("bob@example.com"), b + 1);
	msg = inbox_last("bob@example.com");
	assert_string_equal(strstr(msg, "\r\nSubject: chunks") + 2, body);
	free(msg);

	/* BDAT 0 LAST ends the message; a last line without CRLF gets one */
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "BDAT 3\r\nS: BDAT 2\r\nx\rBDAT 5\r\n\n\r\nx!BDAT 0 LAST\r\nQUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n250 2.0.0 3 octets\n"
			    "250 2.0.0 2 octets\n250 2.0.0 5 octets\n250 2.0.0 Ok: queued\n221");
	free(out);
	msg = inbox_last("bob@example.com");
	assert_string_equal(strstr(msg, "\r\nS: x\r\n") + 2, "S: x\r\n\r\nx!\r\n");
	free(msg);
	assert_int_equal(inbox_count("bob@example.com"), b + 2);

	/* sequence: BDAT before EHLO, without MAIL (its chunk "NOOP\r\n" is
	 * not a command), without RCPT; DATA after BDAT; RSET between chunks;
	 * BDAT after LAST: each chunk read away */
	out = session_str("BDAT 4\r\nQUIT"
			  "EHLO c.example\r\nBDAT 6 LAST\r\nNOOP\r\n"
			  "MAIL FROM:<a@b.example>\r\nBDAT 4\r\nQUIT"
			  "RCPT TO:<bob@example.com>\r\nBDAT 6\r\nS: x\r\nDATA\r\n"
			  "MAIL FROM:<a@b.example>\r\nRSET\r\nBDAT 2 LAST\r\n\r\n"
			  "MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "BDAT 2 LAST\r\n\r\nBDAT 2 LAST\r\n\r\nQUIT\r\n");
	expect_replies(out, "220\n503 5.5.1 Send EHLO\n*\n*\n*\n*\n*\n*\n*\n*\n*\n"
			    "503 5.5.1 Need MAIL and RCPT before BDAT\n250 2.1.0\n"
			    "503 5.5.1 Need RCPT before BDAT\n250 2.1.5\n250 2.0.0 6 octets\n"
			    "503 5.5.1 BDAT transfer in progress\n503 5.5.1 BDAT transfer\n"
			    "250 2.0.0 Ok\n503 5.5.1 Need MAIL and RCPT before BDAT\n"
			    "250 2.1.0\n250 2.1.5\n250 2.0.0 Ok: queued\n"
			    "503 5.5.1 Need MAIL and RCPT before BDAT\n221");
	free(out);
	assert_int_equal(inbox_count("bob@example.com"), b + 3);

	/* a refused chunk (bare LF, NUL): the transaction ends, the BDATs
	 * pipelined behind it get the same answer, the next MAIL is fine */
	len = (size_t)snprintf(in, sizeof(in), "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
				 "RCPT TO:<bob@example.com>\r\nBDAT 9\r\nS: x\n\r\nhiBDAT 3\r\nabc"
				 "BDAT 3 LAST\r\nabcBDAT 1\r\nzMAIL FROM:<a@b.example>\r\n"
				 "RCPT TO:<bob@example.com>\r\nBDAT 9 LAST\r\nS: x\r\n");
	memcpy(in + len, "\0\r\n", 3);
	len += 3;
	len += (size_t)snprintf(in + len, sizeof(in) - len, "QUIT\r\n");
	out = session(in, len);
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n550 5.6.0 Message refused: bare\n"
			    "550 5.6.0 Message refused: bare\n550 5.6.0 Message refused: bare\n"
			    "503 5.5.1 Need MAIL\n250 2.1.0\n250 2.1.5\n"
			    "550 5.6.0 Message refused: NUL\n221");
	free(out);
	assert_int_equal(inbox_count("bob@example.com"), b + 3);

	/* over max_message_size (100000): refused before a byte is kept, the
	 * chunk read away; then a line past the line limit */
	big = malloc(300000);
	len = (size_t)sprintf(big, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
				   "RCPT TO:<bob@example.com>\r\nBDAT 100001 LAST\r\n");
	memset(big + len, 'a', 100001);
	len += 100001;
	len += (size_t)sprintf(big + len, "NOOP\r\nMAIL FROM:<a@b.example>\r\n"
					  "RCPT TO:<bob@example.com>\r\nBDAT 70000 LAST\r\n");
	memset(big + len, 'b', 70000);
	len += 70000;
	len += (size_t)sprintf(big + len, "QUIT\r\n");
	out = session(big, len);
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n552 5.3.4\n250 2.0.0\n"
			    "250 2.1.0\n250 2.1.5\n554 5.6.0 Message refused: line too long\n221");
	free(out);
	free(big);
	assert_int_equal(inbox_count("bob@example.com"), b + 3);

	/* a size that cannot be read: the chunk cannot be found, so close */
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
			  "RCPT TO:<bob@example.com>\r\nBDAT 1x\r\nNOOP\r\n");
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n501 5.5.4\n421 4.7.0");
	free(out);
	out = session_str("EHLO c.example\r\nBDAT 18446744073709551616\r\nNOOP\r\n");
	expect_replies(out, EHLO_REPLIES "501 5.5.4\n421 4.7.0");
	free(out);
	out = session_str("EHLO c.example\r\nBDAT 5\nhello");
	expect_replies(out, EHLO_REPLIES "500 5.5.2\n421 4.7.0");
	free(out);
	/* a BDAT line past conn's limit is never seen as one: any line that
	 * long closes the session, or its chunk would be read as commands */
	big = malloc(50000);
	assert_non_null(big);
	len = (size_t)sprintf(big, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
			      "RCPT TO:<bob@example.com>\r\nBDAT ");
	memset(big + len, '0', 40000);
	len += 40000;
	len += (size_t)sprintf(big + len, "31\r\nRSET\r\nMAIL FROM:<x@example.org>\r\n");
	out = session(big, len);
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n500 5.5.2 Line too long\n421 4.7.0");
	free(out);
	free(big);
	/* exactly max_message_size octets whose last line has no CRLF: the
	 * one we add is not the client's */
	big = malloc(100000 + 400);
	assert_non_null(big);
	len = (size_t)sprintf(big, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
			      "RCPT TO:<bob@example.com>\r\nBDAT 100000 LAST\r\nSubject: x\r\n\r\n");
	for (int i = 0; i < 1249; i++) {  /* 14 + 1249 * 80 + 66 = 100000 */
		memset(big + len, 'a', 78);
		memcpy(big + len + 78, "\r\n", 2);
		len += 80;
	}
	memset(big + len, 'a', 66);
	len += 66;
	len += (size_t)sprintf(big + len, "QUIT\r\n");
	out = session(big, len);
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n250 2.1.5\n250 2.0.0 Ok: queued\n221");
	free(out);
	free(big);
	assert_int_equal(inbox_count("bob@example.com"), b + 4);
	/* empty chunks do nothing, and count as NOOPs do */
	big = malloc(200 * 8 + 200);
	assert_non_null(big);
	len = (size_t)sprintf(big, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
			      "RCPT TO:<bob@example.com>\r\n");
	for (int i = 0; i < 120; i++)
		len += (size_t)sprintf(big + len, "BDAT 0\r\n");
	out = session(big, len);
	assert_non_null(strstr(out, "421 4.7.0"));
	free(out);
	free(big);
	assert_int_equal(inbox_count("bob@example.com"), b + 4);
}

static void test_recipient_limit(void **state)
{
	char *in, *out, *expect;
	const char *err = NULL;
	size_t len, elen;

	(void)state;
	in = malloc(20000);
	expect = malloc(20000);
	len = (size_t)sprintf(in, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
	elen = (size_t)sprintf(expect, EHLO_REPLIES "250\n");
	for (int i = 0; i < 102; i++) {
		len += (size_t)sprintf(in + len, "RCPT TO:<nobody%d@example.com>\r\n", i);
		(void)i;
	}
	/* nobodyN is nobody: every one is a 550 and 20 of them close the session */
	len += (size_t)sprintf(in + len, "QUIT\r\n");
	for (int i = 0; i < SMTP_ERRORS_MAX - 1; i++)
		elen += (size_t)sprintf(expect + elen, "550 5.1.1\n");
	sprintf(expect + elen, "550 5.1.1\n421 4.7.0");
	out = session(in, len);
	expect_replies(out, expect);
	free(out);

	/* 101 real recipients: the 101st gets 452 4.5.3 (not an error) */
	len = (size_t)sprintf(in, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
	elen = (size_t)sprintf(expect, EHLO_REPLIES "250\n");
	for (int i = 0; i < 101; i++) {
		/* distinct addresses, all caught by the example.net catch-all */
		len += (size_t)sprintf(in + len, "RCPT TO:<r%d@example.net>\r\n", i);
		elen += (size_t)sprintf(expect + elen, i < 100 ? "250 2.1.5\n" : "452 4.5.3\n");
	}
	len += (size_t)sprintf(in + len, "QUIT\r\n");
	sprintf(expect + elen, "221");
	out = session(in, len);
	expect_replies(out, expect);
	free(out);

	/* a duplicate or a full mailbox costs a lookup and is no error: they
	 * count against the limit, or a client could send them for ever */
	assert_int_equal(store_user_quota(fx->store, "carol@example.com", 10, 0, &err), 1);
	for (int round = 0; round < 2; round++) {
		const char *rcpt = round == 0 ? "bob@example.com" : "carol@example.com";

		len = (size_t)sprintf(in, "EHLO c.example\r\nMAIL FROM:<a@b.example> SIZE=100\r\n");
		elen = (size_t)sprintf(expect, EHLO_REPLIES "250\n");
		for (int i = 0; i < 101; i++) {
			len += (size_t)sprintf(in + len, "RCPT TO:<%s>\r\n", rcpt);
			elen += (size_t)sprintf(expect + elen, "%s\n", i == 100 ? "452 4.5.3" :
						round == 0 ? "250 2.1.5" : "552 5.2.2");
		}
		len += (size_t)sprintf(in + len, "QUIT\r\n");
		sprintf(expect + elen, "221");
		out = session(in, len);
		expect_replies(out, expect);
		free(out);
	}
	assert_int_equal(store_user_quota(fx->store, "carol@example.com", 0, 0, &err), 1);
	free(in);
	free(expect);
}

/* Aliases multiply recipients: what one delivery takes is counted at RCPT,
 * so the recipient past it gets 452 4.5.3 (sent again in another
 * transaction) instead of a DATA that fails with 451 at every retry. */
static void test_alias_expansion_limit(void **state)
{
	char src[64], dst[64], *in, *expect, *out;
	size_t len, elen;
	int lists = STORE_DELIVER_TARGETS_MAX / STORE_ALIAS_TARGETS_MAX + 1;

	(void)state;
	for (int k = 0; k < lists; k++) {
		snprintf(src, sizeof(src), "list%d@example.com", k);
		for (int i = 0; i < STORE_ALIAS_TARGETS_MAX; i++) {
			snprintf(dst, sizeof(dst), "m%d.%d@elsewhere.example", k, i);
			add_alias(src, dst);
		}
	}
	in = malloc(4096);
	expect = malloc(4096);
	len = (size_t)sprintf(in, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
	elen = (size_t)sprintf(expect, EHLO_REPLIES "250\n");
	for (int k = 0; k < lists; k++) {
		len += (size_t)sprintf(in + len, "RCPT TO:<list%d@example.com>\r\n", k);
		elen += (size_t)sprintf(expect + elen, k < lists - 1 ? "250 2.1.5\n" : "452 4.5.3\n");
	}
	len += (size_t)sprintf(in + len, "DATA\r\n%s.\r\nQUIT\r\n", MSG);
	sprintf(expect + elen, "354\n250 2.0.0\n221");
	out = session(in, len);
	expect_replies(out, expect);
	free(out);
	free(in);
	free(expect);
}

static void test_junk_commands(void **state)
{
	char *in = malloc(64 * 1024), *expect = malloc(64 * 1024), *out;
	size_t len, elen;
	unsigned b = inbox_count("bob@example.com");

	(void)state;
	/* NOOP, RSET, VRFY, EXPN and HELP do nothing: past
	 * SMTP_JUNK_COMMANDS_MAX each counts as an error, so a client that
	 * only keeps the session open is sent away (421) at last. */
	len = (size_t)sprintf(in, "EHLO c.example\r\n");
	elen = (size_t)sprintf(expect, EHLO_REPLIES);
	for (int i = 0; i < SMTP_JUNK_COMMANDS_MAX + SMTP_ERRORS_MAX; i++) {
		len += (size_t)sprintf(in + len, "%s\r\n", i % 2 ? "NOOP" : "RSET");
		elen += (size_t)sprintf(expect + elen, "250 2.0.0\n");
	}
	len += (size_t)sprintf(in + len, "NOOP\r\nQUIT\r\n");
	sprintf(expect + elen, "421 4.7.0");
	out = session(in, len);
	expect_replies(out, expect);
	assert_int_equal(last_ret, 1);
	free(out);
	/* the count starts again after each message accepted */
	len = (size_t)sprintf(in, "EHLO c.example\r\n");
	elen = (size_t)sprintf(expect, EHLO_REPLIES);
	for (int m = 0; m < 3; m++) {
		for (int i = 0; i < SMTP_JUNK_COMMANDS_MAX; i++) {
			len += (size_t)sprintf(in + len, "RSET\r\n");
			elen += (size_t)sprintf(expect + elen, "250 2.0.0\n");
		}
		len += (size_t)sprintf(in + len, "MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
					 "DATA\r\n%s.\r\n", MSG);
		elen += (size_t)sprintf(expect + elen, "250 2.1.0\n250 2.1.5\n354\n250 2.0.0\n");
	}
	len += (size_t)sprintf(in + len, "QUIT\r\n");
	sprintf(expect + elen, "221");
	out = session(in, len);
	expect_replies(out, expect);
	free(out);
	assert_int_equal(inbox_count("bob@example.com"), b + 3);
	free(in);
	free(expect);
}

static void test_bad_commands(void **state)
{
	static const char nul[] = "EHLO c.example\r\nNO\0OP\r\nMAIL FROM:<j\xc3\xb6@b.example>\r\n"
				  "MAIL FROM:<a@b.example>\r\nRCPT TO:<b\xc3\xb6@example.com>\r\n"
				  "NOOP\nQUIT\r\n";
	char *out;

	(void)state;
	out = session(nul, sizeof(nul) - 1);
	expect_replies(out, EHLO_REPLIES "500 5.5.2\n553 5.6.7\n250 2.1.0\n"
			    "553 5.6.7\n500 5.5.2\n221");
	free(out);
	out = session_str("EHLO c.example\r\nMAIL FROM:<j\xc3\xb6@b.example> SMTPUTF8\r\n"
			  "RCPT TO:<b\xc3\xb6@example.com>\r\nQUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250 2.1.0\n550 5.1.1\n221");
	free(out);
}

static void test_submission(void **state)
{
	char in[2048], *out, *msg;
	unsigned a = inbox_count("alice@example.com");

	(void)state;
	fx->opt.mode = SMTP_MODE_SUBMISSION;
	/* AUTH PLAIN "\0bob@example.com\0bob pw" */
	snprintf(in, sizeof(in),
		 "EHLO c.example\r\nMAIL FROM:<bob@example.com>\r\n"
		 "AUTH PLAIN AGJvYkBleGFtcGxlLmNvbQBib2IgcHc=\r\n"
		 "MAIL FROM:<alice@example.com>\r\nMAIL FROM:<sales@example.com>\r\n"
		 "MAIL FROM:<nobody@example.net>\r\nMAIL FROM:<>\r\nRSET\r\n"
		 "MAIL FROM:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\n"
		 "RCPT TO:<friend@elsewhere.example>\r\nDATA\r\nSubject: sub\r\n\r\nbody\r\n.\r\n"
		 "QUIT\r\n");
	out = session_str(in);
	fx->opt.mode = SMTP_MODE_MX;
	/* others' addresses refused; the null sender (read receipts) taken */
	expect_replies(out, EHLO_REPLIES "530 5.7.0\n235 2.7.0\n553 5.7.1\n"
			    "553 5.7.1\n553 5.7.1\n250 2.1.0\n250 2.0.0\n250 2.1.0\n250 2.1.5\n"
			    "250 2.1.5\n354\n250 2.0.0\n221");
	free(out);
	assert_int_equal(inbox_count("alice@example.com"), a + 1);
	msg = inbox_last("alice@example.com");
	assert_non_null(strstr(msg, "with ESMTPA id "));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <"));
	assert_non_null(strstr(msg, "@mail.example.com>\r\nDate: "));
	assert_non_null(strstr(msg, "\r\nSubject: sub\r\n\r\nbody\r\n"));
	free(msg);

	/* AUTH LOGIN as alice: her alias sales@ is hers; Message-ID and Date
	 * already present are not added again */
	fx->opt.mode = SMTP_MODE_SUBMISSION;
	out = session_str("EHLO c.example\r\nAUTH LOGIN\r\nYWxpY2VAZXhhbXBsZS5jb20=\r\n"
			  "YWxpY2UgcHc=\r\nMAIL FROM:<sales@example.com>\r\n"
			  "RCPT TO:<bob@example.com>\r\nDATA\r\nMessage-ID: <m@x>\r\n"
			  "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nhi\r\n.\r\nQUIT\r\n");
	fx->opt.mode = SMTP_MODE_MX;
	expect_replies(out, EHLO_REPLIES "334 VXNlcm5hbWU6\n334 UGFzc3dvcmQ6\n"
			    "235 2.7.0\n250 2.1.0\n250 2.1.5\n354\n250 2.0.0\n221");
	free(out);
	msg = inbox_last("bob@example.com");
	assert_non_null(strstr(msg, "Return-Path: <sales@example.com>\r\n"));
	assert_null(strstr(msg, "Message-ID: <20"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <m@x>\r\nDate: Mon, 1 Jan 2024"));
	free(msg);
}

static void test_auth_failures(void **state)
{
	char *out;

	(void)state;
	out = session_str("EHLO c.example\r\nAUTH PLAIN !!!notbase64\r\nAUTH PLAIN\r\n*\r\n"
			  "AUTH CRAM-MD5\r\nAUTH PLAIN AGJvYkBleGFtcGxlLmNvbQB3cm9uZw==\r\n"
			  "QUIT\r\n");
	expect_replies(out, EHLO_REPLIES "501 5.5.2\n334 \n501 5.0.0\n504 5.5.4\n"
			    "535 5.7.8\n221");
	free(out);
	/* without TLS, not loopback, plaintext not allowed: no AUTH at all */
	fx->config->allow_plaintext_auth = false;
	out = session_str("EHLO c.example\r\nAUTH PLAIN AGJvYkBleGFtcGxlLmNvbQBib2IgcHc=\r\n"
			  "STARTTLS\r\nQUIT\r\n");
	fx->config->allow_plaintext_auth = true;
	expect_replies(out, "220\n*\n*\n*\n*\n*\n*\n*\n250 DSN\n538 5.7.11\n454 4.7.0\n221");
	free(out);
}

static void test_quota(void **state)
{
	const char *err = NULL;
	char *out;

	(void)state;
	assert_int_equal(store_user_quota(fx->store, "carol@example.com", 10, 0, &err), 1);
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example> SIZE=1000\r\n"
			  "RCPT TO:<carol@example.com>\r\nQUIT\r\n");
	expect_replies(out, EHLO_REPLIES "250\n552 5.2.2\n221");
	free(out);
	fx->opt.quota_tempfail = true;
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example> SIZE=1000\r\n"
			  "RCPT TO:<carol@example.com>\r\nQUIT\r\n");
	fx->opt.quota_tempfail = false;
	expect_replies(out, EHLO_REPLIES "250\n452 4.2.2\n221");
	free(out);
	assert_int_equal(store_user_quota(fx->store, "carol@example.com", 0, 0, &err), 1);
}

static void test_dropped_in_data(void **state)
{
	char *out;
	unsigned b = inbox_count("bob@example.com");

	(void)state;
	out = session_str("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.com>\r\n"
			  "DATA\r\nSubject: half\r\n\r\nand then the client goes");
	expect_replies(out, EHLO_REPLIES "250\n250\n354");
	free(out);
	assert_int_equal(last_ret, 1);
	assert_int_equal(inbox_count("bob@example.com"), b);
}

int main(void)
{
	const char *err;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ehlo),
		cmocka_unit_test(test_deliver_mx),
		cmocka_unit_test(test_sequence_errors),
		cmocka_unit_test(test_relay_refused),
		cmocka_unit_test(test_aliases_and_duplicates),
		cmocka_unit_test(test_pipelined_transactions),
		cmocka_unit_test(test_bare_newlines),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_headerless_data),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_recipient_limit),
		cmocka_unit_test(test_alias_expansion_limit),
		cmocka_unit_test(test_bad_commands),
		cmocka_unit_test(test_junk_commands),
		cmocka_unit_test(test_submission),
		cmocka_unit_test(test_auth_failures),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_dropped_in_data),
	};

	if (geteuid() == 0) {
		if (getpwnam("pillarbox") == NULL) {
			fprintf(stderr, "SKIP: running as root and there is no user pillarbox\n");
			return 77;
		}
		if (process_drop_root("pillarbox", &err) < 0) {
			fprintf(stderr, "process_drop_root: %s\n", err);
			return 1;
		}
	}
	setenv("PILLARBOX_AUTH_DELAY_MS", "0", 1);
	log_open("test_smtp_session");
	return cmocka_run_group_tests(tests, setup, teardown);
}
