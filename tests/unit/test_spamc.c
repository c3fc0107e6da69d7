/* Unit tests of the SPAMC client (inetd/spamc.h): the request, replies of
 * spamd and rspamd (whole, cut at every octet, with the checker's own
 * error), scores and their rounding, rule names made safe and cut, the
 * fields and their folding, and spamc_check against a server forked here
 * (a good answer, a refused connection, a server that hangs up). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spamc.h"

#define SPAMD_GTUBE "SPAMD/1.1 0 EX_OK\r\nContent-length: 30\r\nSpam: True ; 1002.7 / 5.0\r\n" \
	"\r\nGTUBE,MISSING_DATE,NO_RECEIVED"

static void test_request(void **state)
{
	char buf[128];
	(void)state;
	size_t n = spamc_request_format(1234, buf, sizeof(buf));
	assert_int_equal(n, strlen("SYMBOLS SPAMC/1.5\r\nContent-length: 1234\r\n\r\n"));
	assert_string_equal(buf, "SYMBOLS SPAMC/1.5\r\nContent-length: 1234\r\n\r\n");
	assert_int_equal(spamc_request_format(1234, buf, 20), 0);
}

static void test_spamd_reply(void **state)
{
	struct spamc_result r;
	const char *error = NULL;
	(void)state;
	assert_int_equal(spamc_reply_parse(SPAMD_GTUBE, strlen(SPAMD_GTUBE), false, &r, &error), 1);
	assert_true(r.spam);
	assert_int_equal(r.score, 10027);
	assert_int_equal(r.required, 50);
	assert_string_equal(r.tests, "GTUBE,MISSING_DATE,NO_RECEIVED");
	/* every cut is incomplete, and an error if the connection ended there */
	for (size_t n = 0; n < strlen(SPAMD_GTUBE); n++) {
		error = NULL;
		assert_int_equal(spamc_reply_parse(SPAMD_GTUBE, n, false, &r, &error), 0);
		assert_int_equal(spamc_reply_parse(SPAMD_GTUBE, n, true, &r, &error), -1);
		assert_non_null(error);
	}
	/* past Content-length: ignored */
	const char *more = SPAMD_GTUBE "XYZ";
	assert_int_equal(spamc_reply_parse(more, strlen(more), false, &r, &error), 1);
	assert_string_equal(r.tests, "GTUBE,MISSING_DATE,NO_RECEIVED");
}

static void test_rspamd_reply(void **state)
{
	/* rspamd: no Content-length (the body ends with the connection),
	 * "False", two decimals, rule names one a line */
	static const char reply[] = "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 2.45 / 15.00\r\n\r\n"
				    "R_SPF_ALLOW\r\nDMARC_POLICY_ALLOW\r\n";
	struct spamc_result r;
	const char *error = NULL;
	(void)state;
	assert_int_equal(spamc_reply_parse(reply, strlen(reply), false, &r, &error), 0);
	assert_int_equal(spamc_reply_parse(reply, strlen(reply), true, &r, &error), 1);
	assert_false(r.spam);
	assert_int_equal(r.score, 25); /* 2.45 rounds half away from zero */
	assert_int_equal(r.required, 150);
	assert_string_equal(r.tests, "R_SPF_ALLOW,DMARC_POLICY_ALLOW");
	/* LF-only lines and "Yes" */
	static const char lf[] = "SPAMD/1.1 0 EX_OK\nspam: yes ; -1.25 / 5\n\n";
	assert_int_equal(spamc_reply_parse(lf, strlen(lf), true, &r, &error), 1);
	assert_true(r.spam);
	assert_int_equal(r.score, -13);
	assert_int_equal(r.required, 50);
	assert_string_equal(r.tests, "");
}

static void test_bad_replies(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\n\r\n",
		"SPAMD/1.1 x EX_OK\r\nSpam: True ; 1 / 5\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\n\r\n",                                 /* no Spam: */
		"SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 5\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5 x\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nSpam: True ; . / 5\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1. / 5\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 12345678 / 5\r\n\r\n",  /* too large */
		"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\nSpam: False ; 1 / 5\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\nbroken\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nContent-length: 1x\r\nSpam: True ; 1 / 5\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nContent-length: 99999999\r\nSpam: True ; 1 / 5\r\n\r\n",
	};
	struct spamc_result r;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *error = NULL;
		if (spamc_reply_parse(bad[i], strlen(bad[i]), true, &r, &error) != -1)
			fail_msg("taken: %s", bad[i]);
		assert_non_null(error);
	}
	/* the checker's own error is passed on */
	const char *err = "SPAMD/1.0 76 Bad header line: xyz\r\n", *error = NULL;
	assert_int_equal(spamc_reply_parse(err, strlen(err), false, &r, &error), -1);
	assert_string_equal(error, "spamd error 76 Bad header line: xyz");
	/* too long */
	char *big = malloc(SPAMC_REPLY_MAX + 2);
	memset(big, 'a', SPAMC_REPLY_MAX + 1);
	assert_int_equal(spamc_reply_parse(big, SPAMC_REPLY_MAX + 1, false, &r, &error), -1);
	free(big);
}

static void test_tests_made_safe(void **state)
{
	struct spamc_result r;
	const char *error = NULL;
	char reply[4096], name[70];
	(void)state;
	/* odd names left out: a control character, a quote, a space inside
	 * splits (two names), an empty one, one too long */
	memset(name, 'N', 65);
	name[65] = '\0';
	snprintf(reply, sizeof(reply), "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 6 / 5\r\n\r\n"
		 "A_1,B\x01,C\"D,,E F,%s,G-2.x", name);
	assert_int_equal(spamc_reply_parse(reply, strlen(reply), true, &r, &error), 1);
	assert_string_equal(r.tests, "A_1,E,F,G-2.x");
	/* cut at a whole name */
	size_t len = (size_t)snprintf(reply, sizeof(reply),
				      "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 6 / 5\r\n\r\n");
	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(reply + len, sizeof(reply) - len, "RULE_%03d,", i);
	assert_int_equal(spamc_reply_parse(reply, len, true, &r, &error), 1);
	assert_true(strlen(r.tests) <= SPAMC_TESTS_MAX);
	assert_true(strlen(r.tests) > SPAMC_TESTS_MAX - 10);
	assert_int_equal(strlen(r.tests) % 9, 8); /* whole "RULE_nnn"s */
}

/* Every line of fields ends in CRLF, fits 78 columns, and continuation
 * lines start with a tab. */
static void assert_folded(const char *f)
{
	const char *p = f;
	bool first = true;
	while (*p != '\0') {
		const char *crlf = strstr(p, "\r\n");
		assert_non_null(crlf);
		assert_true(crlf - p <= 78);
		if (!first && strncmp(p, "X-Spam-", 7) != 0)
			assert_int_equal(*p, '\t');
		first = false;
		p = crlf + 2;
	}
}

static void test_fields(void **state)
{
	struct spamc_result r = { .spam = true, .score = 10027, .required = 50 };
	char buf[SPAMC_FIELDS_MAX];
	(void)state;
	strcpy(r.tests, "GTUBE,MISSING_DATE");
	size_t n = spamc_fields_format(&r, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "X-Spam-Flag: YES\r\n"
				 "X-Spam-Status: Yes, score=1002.7 required=5.0 tests=GTUBE,MISSING_DATE\r\n");
	strcpy(r.tests, "GTUBE,MISSING_DATE,NO_RECEIVED");
	spamc_fields_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "X-Spam-Flag: YES\r\n"
				 "X-Spam-Status: Yes, score=1002.7 required=5.0 tests=GTUBE,MISSING_DATE,\r\n"
				 "\tNO_RECEIVED\r\n");
	strcpy(r.tests, "GTUBE,MISSING_DATE");
	r.spam = false;
	r.score = -5;
	r.tests[0] = '\0';
	spamc_fields_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "X-Spam-Status: No, score=-0.5 required=5.0 tests=none\r\n");
	/* the longest list folds, and fits the buffer made for it */
	size_t len = 0;
	while (len + 9 <= SPAMC_TESTS_MAX)
		len += (size_t)sprintf(r.tests + len, "%sRULE_%03zu", len ? "," : "", len / 9);
	r.spam = true;
	n = spamc_fields_format(&r, buf, sizeof(buf));
	assert_true(n > SPAMC_TESTS_MAX);
	assert_folded(buf);
	/* 64-octet names, one a line */
	memset(r.tests, 'X', 64);
	r.tests[64] = ',';
	memset(r.tests + 65, 'Y', 64);
	r.tests[129] = '\0';
	n = spamc_fields_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, ",\r\n\tYYYY"));
	assert_int_equal(spamc_fields_format(&r, buf, 40), 0);
}

static void test_strip(void **state)
{
	char h[512];
	(void)state;
	strcpy(h, "Received: from x\r\nX-Spam-Status: No, score=-5.0\r\n\ttests=none\r\n"
		  "x-spam-flag : NO\r\nX-Spam-Report: kept\r\nX-Spam-Statusx: kept\r\n"
		  "X-Spam-Level: **\r\nX-Spam-Score: 1\r\nSubject: hi\r\n");
	size_t n = spamc_strip_fields(h, strlen(h), true);
	h[n] = '\0';
	assert_string_equal(h, "Received: from x\r\nX-Spam-Report: kept\r\n"
			       "X-Spam-Statusx: kept\r\nSubject: hi\r\n");
	/* a block cut short: its last field may go on past the cut, left whole */
	strcpy(h, "X-Spam-Flag: NO\r\nX-Spam-Status: No");
	n = spamc_strip_fields(h, strlen(h), false);
	h[n] = '\0';
	assert_string_equal(h, "X-Spam-Status: No");
}

/* ------------------------------------------------------------ the exchange */

/* Listens on 127.0.0.1; a child answers one connection with `answer`
 * (NULL: closes at once) after reading the request, which it then writes
 * to *request_fd_r (read it after the check); "127.0.0.1:PORT". */
static pid_t serve_once(const char *answer, char hostport[32], int *request_fd_r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0), pipefd[2];
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	snprintf(hostport, 32, "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(ls, NULL, NULL);
		char buf[4096];
		size_t got = 0;
		ssize_t n;
		close(pipefd[0]);
		if (answer != NULL) {
			/* the request: its header and Content-length octets */
			while ((n = read(c, buf + got, sizeof(buf) - got)) > 0) {
				got += (size_t)n;
				char *end = memmem(buf, got, "\r\n\r\n", 4);
				unsigned long cl;
				/* SYMBOLS or TELL */
				if (end != NULL && sscanf(buf, "%*s SPAMC/1.5\r\nContent-length: %lu",
							  &cl) == 1 &&
				    got >= (size_t)(end + 4 - buf) + cl)
					break;
			}
			if (write(c, answer, strlen(answer)) < 0)
				_exit(1);
			/* read by test_check only: no one may be reading */
			if (write(pipefd[1], buf, got) < 0 && errno != EPIPE)
				_exit(1);
		}
		close(c);
		_exit(0);
	}
	close(ls);
	close(pipefd[1]);
	if (request_fd_r != NULL)
		*request_fd_r = pipefd[0];
	else
		close(pipefd[0]);
	return pid;
}

static void reap(pid_t pid)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_check(void **state)
{
	static const char msg[] = "Received: from x\r\nSubject: hi\r\n\r\nbody\r\n";
	struct spamc_result r;
	const char *error = NULL;
	char hostport[32], request[4096];
	int fd;
	size_t got = 0;
	ssize_t n;
	(void)state;
	pid_t server = serve_once(SPAMD_GTUBE, hostport, &fd);
	assert_int_equal(spamc_check(hostport, msg, strlen(msg), &r, &error), 0);
	assert_true(r.spam);
	assert_int_equal(r.score, 10027);
	assert_string_equal(r.tests, "GTUBE,MISSING_DATE,NO_RECEIVED");
	while ((n = read(fd, request + got, sizeof(request) - 1 - got)) > 0)
		got += (size_t)n;
	request[got] = '\0';
	close(fd);
	reap(server);
	char want[256];
	snprintf(want, sizeof(want), "SYMBOLS SPAMC/1.5\r\nContent-length: %zu\r\n\r\n%s",
		 strlen(msg), msg);
	assert_string_equal(request, want);
}

static void test_check_failures(void **state)
{
	struct spamc_result r;
	const char *error = NULL;
	char hostport[32];
	(void)state;
	/* nobody listens: refused at once */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	snprintf(hostport, sizeof(hostport), "127.0.0.1:%u", ntohs(sa.sin_port));
	close(s);
	assert_int_equal(spamc_check(hostport, "x\r\n", 3, &r, &error), -1);
	assert_non_null(strstr(error, "Connection refused"));
	/* hangs up without a word */
	pid_t server = serve_once(NULL, hostport, NULL);
	error = NULL;
	assert_int_equal(spamc_check(hostport, "x\r\n", 3, &r, &error), -1);
	assert_non_null(error);
	reap(server);
	/* its own error */
	server = serve_once("SPAMD/1.0 76 Bad header line\r\n", hostport, NULL);
	assert_int_equal(spamc_check(hostport, "x\r\n", 3, &r, &error), -1);
	assert_string_equal(error, "spamd error 76 Bad header line");
	reap(server);
	/* not an address */
	assert_int_equal(spamc_check("nowhere", "x\r\n", 3, &r, &error), -1);
}

/* TELL (learning): the request as SpamAssassin's spamc -L sends it, and
 * spamd's answers: learned, known already, not enabled, cut short. */
/* spamc_tell_reply_parse of a whole string. */
static int tell_parse(const char *reply, bool eof, const char **error_r)
{
	return spamc_tell_reply_parse(reply, strlen(reply), eof, error_r);
}

/* TELL (learning): the request as SpamAssassin's spamc -L sends it, and
 * spamd's answers: learned, known already, not enabled, cut short. */
static void test_tell(void **state)
{
	static const char msg[] = "Subject: pills\r\n\r\nbuy\r\n";
	static const char off[] =
		"SPAMD/1.0 69 EX_UNAVAILABLE TELL commands have not been enabled.\r\n";
	const char *error = NULL;
	char hostport[32], request[4096], want[256];
	size_t got = 0;
	ssize_t n;
	int fd;
	(void)state;
	assert_int_equal(tell_parse("SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n", false, &error), 1);
	assert_int_equal(tell_parse("SPAMD/1.1 0 EX_OK\r\n\r\n", false, &error), 2);
	assert_int_equal(tell_parse("SPAMD/1.1 0 EX_OK\r\nDidSet: lo", false, &error), 0);
	assert_int_equal(tell_parse("SPAMD/1.1 0 EX_OK\r\nDidSet: lo", true, &error), -1);
	assert_int_equal(tell_parse("SPAMD/1.1 0 EX_OK\r\nno colon\r\n\r\n", true, &error), -1);
	assert_int_equal(tell_parse(off, false, &error), -1);
	assert_non_null(strstr(error, "spamd error 69"));

	pid_t server = serve_once("SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n", hostport, &fd);
	assert_int_equal(spamc_tell(hostport, msg, strlen(msg), true, &error), 1);
	while ((n = read(fd, request + got, sizeof(request) - 1 - got)) > 0)
		got += (size_t)n;
	request[got] = '\0';
	close(fd);
	reap(server);
	snprintf(want, sizeof(want), "TELL SPAMC/1.5\r\nContent-length: %zu\r\n"
		 "Message-class: spam\r\nSet: local\r\n\r\n%s", strlen(msg), msg);
	assert_string_equal(request, want);
	server = serve_once(off, hostport, NULL);
	assert_int_equal(spamc_tell(hostport, msg, strlen(msg), false, &error), -1);
	reap(server);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_spamd_reply),
		cmocka_unit_test(test_rspamd_reply),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_tests_made_safe),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_failures),
		cmocka_unit_test(test_tell),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
