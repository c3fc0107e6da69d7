/* webmail.cgi: the webmail as a CGI/1.1 program (RFC 3875), run by Apache
 * (mod_cgid, mod_cgi) or nginx + fcgiwrap, one process per request; or, when
 * started with a listening socket (as standard input by Apache's mod_fcgid,
 * or by systemd socket activation for nginx), as a FastCGI server that
 * answers request after request with the store kept open. Installed setuid to the store user
 * (never root). A thin front end: the meta-variables and the body (read
 * only up to CONTENT_LENGTH) become a request; the response goes back as a
 * CGI response. */
#include <errno.h>
#include <fcgiapp.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "process.h"
#include "store.h"
#include "webmail.h"

/* A request process needs little; a runaway fails malloc cleanly. */
#define ADDRESS_SPACE ((size_t)1 << 30)
/* How long the child of cgi_hold_output_past_exit waits for us at most. */
#define HOLD_OUTPUT_MS 5000
/* --workers: FastCGI processes on one systemd socket, at most. */
#define WORKERS_MAX 64

/* --workers N (systemd socket activation): processes accepting on the
 * socket; 1, the default, serves in this process. */
static long workers = 1;

/* The FastCGI request being served, or NULL: CGI, one request per process,
 * its meta-variables in the environment and its body on standard input. */
static FCGX_Request *fcgi;

/* false when the web server is gone */
static bool out_write(const void *data, size_t len)
{
	if (fcgi != NULL)
		return len <= INT_MAX && FCGX_PutStr(data, (int)len, fcgi->out) == (int)len;
	return fwrite(data, 1, len, stdout) == len;
}

static void out_puts(const char *text)
{
	(void)out_write(text, strlen(text));
}

/* A header line; the name and value are the response's own. */
static void out_header(const char *name, const char *value)
{
	out_puts(name);
	out_puts(": ");
	out_puts(value);
	out_puts("\r\n");
}

static ssize_t body_read(void *buf, size_t len)
{
	if (fcgi != NULL)
		return FCGX_GetStr(buf, len > 65536 ? 65536 : (int)len, fcgi->in);
	return read(0, buf, len);
}

static const char unavailable[] =
	"Status: 503 Service Unavailable\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Retry-After: 30\r\n"
	"Cache-Control: no-store\r\n"
	"X-Content-Type-Options: nosniff\r\n"
	"X-Frame-Options: DENY\r\n"
	"Referrer-Policy: no-referrer\r\n"
	"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
	"\r\n"
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>Webmail unavailable</title></head><body><h1>Webmail unavailable</h1>"
	"<p>The webmail cannot run right now. The error was logged; please try again later.</p>"
	"</body></html>\n";

static int fail(const char *what, const char *error)
{
	log_error("webmail.cgi: %s: %s", what, error);
	out_puts(unavailable);
	if (fcgi == NULL)
		fflush(stdout);
	return 0;
}

/* A FastCGI parameter; the last one of a name wins, as a CGI environment
 * set one after the other has it (nginx sends fastcgi_params' SCRIPT_NAME,
 * then the one of our snippet). */
static const char *fcgi_param(const char *name)
{
	size_t len = strlen(name);
	const char *v = NULL;
	for (char **p = fcgi->envp; *p != NULL; p++) {
		if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
			v = *p + len + 1;
	}
	return v;
}

static const char *env(const char *name)
{
	const char *v = fcgi != NULL ? fcgi_param(name) : getenv(name);
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Reads and discards what is left of the body, up to DRAIN_MAX bytes.
 * Apache's mod_cgid hands us the request body on a Unix socket that is also
 * our standard output: closing it with unread bytes in it resets it, and
 * Apache loses the response (a PUT with a body got a truncated 405). */
#define DRAIN_MAX ((uint64_t)WEBMAIL_BODY_MAX + ((uint64_t)1 << 20))
static void drain_body(uint64_t left)
{
	char chunk[65536];
	if (left > DRAIN_MAX)
		left = DRAIN_MAX;
	while (left > 0) {
		ssize_t n = body_read(chunk, left < sizeof(chunk) ? (size_t)left : sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= (uint64_t)n;
	}
}

/* Reads exactly CONTENT_LENGTH bytes of body (never more: RFC 3875 4.2);
 * a body we refuse is still read to its end (drain_body). */
static void read_body(struct http_request *req)
{
	char chunk[65536];
	uint64_t left = req->content_length > 0 ? (uint64_t)req->content_length : 0;
	if (req->method != HTTP_POST || req->error_status != 0 ||
	    http_body_begin(req, WEBMAIL_BODY_MAX) < 0) {
		drain_body(left);
		return;
	}
	while (left > 0) {
		size_t want = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
		ssize_t n = body_read(chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= (uint64_t)n;
		if (http_body_feed(req, chunk, (size_t)n) < 0) {
			drain_body(left);
			return;
		}
	}
	if (left > 0 && req->error_status == 0) {
		req->error_status = 400;
		req->error = "the request body ended early";
	}
	http_body_end(req);
}

static void fill_request(struct http_request *req)
{
	const char *m = env("REQUEST_METHOD");
	req->method = m == NULL ? HTTP_OTHER : strcmp(m, "GET") == 0 ? HTTP_GET
		      : strcmp(m, "HEAD") == 0 ? HTTP_HEAD : strcmp(m, "POST") == 0 ? HTTP_POST
		      : HTTP_OTHER;
	/* the mail client set-up paths are mapped to us by a ScriptAlias (or
	 * nginx location) of their own: then the page is the whole path,
	 * SCRIPT_NAME + PATH_INFO (a PATH_INFO after it is no page of ours) */
	const char *script = env("SCRIPT_NAME"), *info = env("PATH_INFO");
	if (script != NULL && webmail_site_path(script)) {
		const char *full = arena_printf(req->arena, "%s%s", script, info != NULL ? info : "");
		http_request_set_path(req, full != NULL ? full : script);
		req->at_root = true;
	} else {
		http_request_set_path(req, info);
	}
	const char *q = env("QUERY_STRING");
	if (q != NULL && strlen(q) > HTTP_URI_MAX) {
		if (req->error_status == 0) {
			req->error_status = 414;
			req->error = "the query string is too long";
		}
	} else if (q != NULL) {
		req->query = arena_strdup(req->arena, q);
		if (req->query == NULL)
			req->query = "";
	}
	req->cookie = env("HTTP_COOKIE");
	req->content_type = env("CONTENT_TYPE");
	req->if_none_match = env("HTTP_IF_NONE_MATCH");
	req->user_agent = env("HTTP_USER_AGENT");
	req->fetch_site = env("HTTP_SEC_FETCH_SITE");
	req->remote_addr = env("REMOTE_ADDR");
	const char *https = env("HTTPS");
	req->https = https != NULL && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0);
	const char *cl = env("CONTENT_LENGTH");
	if (cl != NULL) {
		char *end;
		errno = 0;
		long long n = strtoll(cl, &end, 10);
		req->content_length = errno == 0 && *end == '\0' && n >= 0 ? n : -1;
		if (req->content_length < 0 && req->error_status == 0) {
			req->error_status = 400;
			req->error = "a malformed CONTENT_LENGTH";
		}
	}
}

static uint64_t write_response(const struct http_request *req, struct http_response *resp)
{
	char line[64];
	uint64_t bytes = 0;
	snprintf(line, sizeof(line), "Status: %d %s\r\n", resp->status, http_reason(resp->status));
	out_puts(line);
	for (size_t i = 0; i < resp->nheaders; i++)
		out_header(resp->headers[i].name, resp->headers[i].value);
	if (resp->stream.read == NULL && resp->status != 304) {
		snprintf(line, sizeof(line), "%zu", resp->body.len);
		out_header("Content-Length", line);
	}
	out_puts("\r\n");
	if (req->method == HTTP_HEAD || resp->status == 304)
		return 0;
	if (resp->stream.read != NULL) {
		char chunk[65536];
		ssize_t n;
		while ((n = resp->stream.read(resp->stream.ctx, chunk, sizeof(chunk))) > 0) {
			if (!out_write(chunk, (size_t)n))
				break;
			bytes += (uint64_t)n;
		}
	} else if (resp->body.len > 0) {
		(void)out_write(resp->body.data, resp->body.len);
		bytes = resp->body.len;
	}
	if (fcgi == NULL)
		fflush(stdout);
	return bytes;
}

/* Apache's mod_cgi (through APR) reaps a CGI program as soon as its output
 * ends; one that is not quite dead at that instant gets SIGTERM, and the
 * Apache worker sleeps 47 ms (APR's free_proc_chain) before it serves its
 * connection again. Our output ends when exit() closes it, a moment before
 * the process is dead: measured under load, 40% of requests paid those
 * 47 ms. So a child keeps standard output and error open until this
 * process is gone (its pidfd polls readable), and only then closes them.
 * Without pidfd_open (Linux < 5.3) nothing changes. mod_cgi gives us a
 * pipe; mod_cgid, whose daemon reaps us, gives us a socket: no hold then
 * (a fork per request for nothing). */
static void cgi_hold_output_past_exit(void)
{
#ifdef SYS_pidfd_open
	struct stat st;
	fflush(stdout);
	fflush(stderr);
	if (fstat(1, &st) == 0 && S_ISSOCK(st.st_mode))
		return;
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		(void)poll(&p, 1, HOLD_OUTPUT_MS);
		_exit(0);
	}
	close(pidfd);
#endif
}

static const struct cli cgi_cli = {
	.name = "webmail.cgi",
	.usage = "Usage: webmail.cgi (run by a web server)\n"
		 "       webmail.cgi --help | --version\n"
		 "The Pillarbox webmail as a CGI/1.1 program: Apache (mod_cgid, mod_cgi) or\n"
		 "nginx with fcgiwrap runs it once per request, the request in its environment\n"
		 "(REQUEST_METHOD, PATH_INFO, QUERY_STRING, CONTENT_LENGTH, HTTP_COOKIE, ...).\n"
		 "Started with a listening socket (standard input: Apache's mod_fcgid; or\n"
		 "systemd socket activation, LISTEN_FDS) it is a FastCGI server instead,\n"
		 "answering request after request.\n"
		 "It reads " CONFIG_DEFAULT_PATH " (PILLARBOX_CONF\n"
		 "when it is not setuid). Under a web server its arguments are ignored.\n"
		 "  --workers N  with a systemd socket: N processes (1 to 64, default 1)\n"
		 "               answer on it, so one long request holds up only one\n"
		 "  --help       show this help and exit\n"
		 "  --version    show the version and exit\n",
};

/* Run by hand (no GATEWAY_INTERFACE, so not by a web server) with arguments:
 * --help and --version answer before the configuration or the store is
 * touched. Under a web server the arguments are not ours: an ISINDEX query
 * (no '=') reaches a CGI program as its arguments (RFC 3875 4.4), and
 * "?--version" must not change the response. */
static void cgi_options(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_OPTIONS_COMMON, { "workers", required_argument, NULL, 'w' }, { NULL, 0, NULL, 0 }
	};
	int ret;

	if (argc < 2 || getenv("GATEWAY_INTERFACE") != NULL)
		return;
	while ((ret = cli_getopt(&cgi_cli, argc, argv, "", options)) != -1) {
		if (ret == 'w') {
			char *end;
			errno = 0;
			workers = strtol(optarg, &end, 10);
			if (errno != 0 || *optarg == '\0' || *end != '\0' || workers < 1 ||
			    workers > WORKERS_MAX)
				exit(cli_usage_error(cgi_cli.name, NULL, "--workers must be 1 to %d",
						     WORKERS_MAX));
		}
	}
	if ((ret = cli_no_operands(cgi_cli.name, argc, argv)) != 0)
		exit(ret);
}

/* One request, from the gateway (the environment and standard input, or
 * fcgi) to the response. The store and the webmail are opened by the first
 * request, after its body is read, and kept for the next ones. */
static void serve_request(const struct config *config, struct store **store,
			  struct webmail **wm, bool server)
{
	const char *error;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *script = env("SCRIPT_NAME");
	if (script != NULL && config->webmail_base != NULL &&
	    strcmp(script, config->webmail_base) != 0 && !webmail_site_path(script))
		log_warning("webmail.cgi: SCRIPT_NAME %s differs from webmail_base %s: links use "
			    "webmail_base", script, config->webmail_base);
	struct http_request *req = http_request_new();
	if (req == NULL) {
		fail("start", "out of memory");
		return;
	}
	fill_request(req);
	read_body(req);
	if (*store == NULL && store_open_per_connection(config, store, &error) < 0) {
		fail("store", error);
	} else if (*wm == NULL && webmail_new(config, *store, server, wm, &error) < 0) {
		fail("start", error);
	} else {
		struct http_response resp;
		http_response_init(&resp);
		webmail_handle(*wm, req, &resp);
		uint64_t bytes = write_response(req, &resp);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		webmail_access_log(req, &resp, bytes, (double)(t1.tv_sec - t0.tv_sec) +
							     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		http_response_free(&resp);
	}
	http_request_free(&req);
}

/* The FastCGI listening socket: systemd's one socket (LISTEN_FDS=1 for
 * this process: fd 3), or standard input when it listens (mod_fcgid,
 * spawn-fcgi); -1: CGI. Read before the environment is cleaned. */
static int fastcgi_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (pid != NULL && fds != NULL && strcmp(fds, "1") == 0 &&
	    strtol(pid, NULL, 10) == (long)getpid())
		return 3;
	return FCGX_IsCGI() ? -1 : 0;
}

/* Waits for the web server's next connection on the listening socket;
 * false when asked to stop (SIGTERM from mod_fcgid or systemd), so that the
 * store is closed rather than abandoned. Idle, a process is not stuck: no
 * watchdog meanwhile. */
static bool fastcgi_wait(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	alarm(0);
	while (!process_stop_requested) {
		/* a second's timeout: a stop signal just before poll is seen */
		int n = poll(&p, 1, 1000);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
	return false;
}

/* A stop signal in FastCGI mode: also tells libfcgi, whose accept loop
 * (entered again by itself after a client that broke off its request) would
 * otherwise block on the socket with the signal already spent, so that a
 * stopped worker never ended (seen in test_fastcgi_workers). */
static void fastcgi_stop_handler(int sig)
{
	(void)sig;
	process_stop_requested = 1;
	FCGX_ShutdownPending();
}

/* FastCGI: requests one after the other until the web server stops us
 * (SIGTERM) or the listening socket fails. The web server decides when a
 * process has served enough (FcgidMaxRequestsPerProcess): ending on our own
 * would reset the connections already queued on our socket. */
static void fastcgi_serve(const struct config *config, int sock, struct store **store,
			  struct webmail **wm)
{
	FCGX_Request request;
	/* FCGI_FAIL_ACCEPT_ON_INTR: a stop signal ends an accept() that blocks
	 * (several processes on one socket: another took the connection) */
	if (FCGX_Init() != 0 || FCGX_InitRequest(&request, sock, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("webmail.cgi: FastCGI: cannot set up the request");
		return;
	}
	struct sigaction sa = { .sa_handler = fastcgi_stop_handler };   /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (fastcgi_wait(sock)) {
		if (FCGX_Accept_r(&request) < 0)
			break;
		process_watchdog(config->watchdog_seconds);
		fcgi = &request;
		serve_request(config, store, wm, true);
		fcgi = NULL;
		FCGX_Finish_r(&request);
	}
	FCGX_Free(&request, 1);
}

/* --workers N: N processes accept on the one socket, each opening the
 * store itself on its first request (a process never forks with the store
 * open: STORE-NOTES §3.3). This first one only looks after them: a worker
 * that ends is started again (at most once a second), and a stop signal is
 * passed on and waited for, so every worker closes the store; a worker
 * whose parent dies is sent SIGTERM. Returns in a worker (true) or when
 * every worker has ended (false). */
static bool fastcgi_supervise(void)
{
	pid_t pids[WORKERS_MAX] = { 0 };
	pid_t parent = getpid();
	alarm(0);   /* idle for good: no watchdog here */
	while (!process_stop_requested) {
		for (long i = 0; i < workers; i++) {
			if (pids[i] > 0)
				continue;
			pid_t pid = fork();
			if (pid == 0) {
				if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
					_exit(0);
				return true;
			}
			if (pid < 0)
				log_error("webmail.cgi: cannot start a worker: %s", strerror(errno));
			else
				pids[i] = pid;
		}
		/* a second between checks: a worker ending in a loop is not
		 * started again faster than that */
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (long i = 0; i < workers; i++) {
				if (pids[i] == pid) {
					pids[i] = 0;
					if (!process_stop_requested)
						log_warning("webmail.cgi: worker %d ended (%s %d); starting "
							    "another", (int)pid, WIFSIGNALED(status) ?
							    "signal" : "status", WIFSIGNALED(status) ?
							    WTERMSIG(status) : WEXITSTATUS(status));
				}
			}
		}
	}
	for (long i = 0; i < workers; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (long i = 0; i < workers; i++)
		if (pids[i] > 0)
			while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
				;
	return false;
}

int main(int argc, char **argv)
{
	const char *error;
	struct config *config;
	cgi_options(argc, argv);
	int sock = fastcgi_socket();
	log_open("webmail.cgi");
	/* config_path reads PILLARBOX_CONF with secure_getenv: ignored when
	 * setuid, so the web server's user cannot point us elsewhere */
	if (config_load(config_path(NULL), &config, &error) < 0)
		return fail("configuration", error);
	struct process_limits limits = { .address_space = ADDRESS_SPACE, .open_files = 256 };
	if (process_init_cgi(config->user, &limits, &error) < 0)
		return fail("start", error);
	/* a request that takes this long is stuck (a dead store mutex, a
	 * client that never sends its body): end it rather than hang */
	process_watchdog(config->watchdog_seconds);
	struct store *store = NULL;
	struct webmail *wm = NULL;
	if (sock < 0)
		serve_request(config, &store, &wm, false);
	else if (workers == 1 || fastcgi_supervise())
		fastcgi_serve(config, sock, &store, &wm);
	webmail_free(&wm);
	store_close(&store);
	config_free(&config);
	if (sock < 0)
		cgi_hold_output_past_exit();
	return 0;
}
