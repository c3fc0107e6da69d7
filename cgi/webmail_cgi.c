/* webmail.cgi: the webmail as a CGI/1.1 program (RFC 3875), run by Apache
 * (mod_cgi) or nginx + fcgiwrap, one process per request. Installed setuid
 * to the store user (never root). A thin front end: the meta-variables and
 * the body (read only up to CONTENT_LENGTH) become a request; the response
 * goes to standard output as a CGI response. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
	fputs(unavailable, stdout);
	fflush(stdout);
	return 0;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
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
		ssize_t n = read(0, chunk, left < sizeof(chunk) ? (size_t)left : sizeof(chunk));
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
		ssize_t n = read(0, chunk, want);
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
	uint64_t bytes = 0;
	printf("Status: %d %s\r\n", resp->status, http_reason(resp->status));
	for (size_t i = 0; i < resp->nheaders; i++)
		printf("%s: %s\r\n", resp->headers[i].name, resp->headers[i].value);
	if (resp->stream.read == NULL && resp->status != 304)
		printf("Content-Length: %zu\r\n", resp->body.len);
	fputs("\r\n", stdout);
	if (req->method == HTTP_HEAD)
		return 0;
	if (resp->stream.read != NULL) {
		char chunk[65536];
		ssize_t n;
		while ((n = resp->stream.read(resp->stream.ctx, chunk, sizeof(chunk))) > 0) {
			if (fwrite(chunk, 1, (size_t)n, stdout) != (size_t)n)
				break;
			bytes += (uint64_t)n;
		}
	} else if (resp->body.len > 0) {
		fwrite(resp->body.data, 1, resp->body.len, stdout);
		bytes = resp->body.len;
	}
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
		 "The Pillarbox webmail as a CGI/1.1 program: Apache (mod_cgi) or nginx with\n"
		 "fcgiwrap runs it once per request, the request in its environment\n"
		 "(REQUEST_METHOD, PATH_INFO, QUERY_STRING, CONTENT_LENGTH, HTTP_COOKIE, ...).\n"
		 "It reads " CONFIG_DEFAULT_PATH " (PILLARBOX_CONF\n"
		 "when it is not setuid). Under a web server its arguments are ignored.\n"
		 "  --help     show this help and exit\n"
		 "  --version  show the version and exit\n",
};

/* Run by hand (no GATEWAY_INTERFACE, so not by a web server) with arguments:
 * --help and --version answer before the configuration or the store is
 * touched. Under a web server the arguments are not ours: an ISINDEX query
 * (no '=') reaches a CGI program as its arguments (RFC 3875 4.4), and
 * "?--version" must not change the response. */
static void cgi_options(int argc, char **argv)
{
	static const struct option options[] = { CLI_OPTIONS_COMMON, { NULL, 0, NULL, 0 } };
	int ret;

	if (argc < 2 || getenv("GATEWAY_INTERFACE") != NULL)
		return;
	while (cli_getopt(&cgi_cli, argc, argv, "", options) != -1)
		; /* no option of its own: cli_getopt answers or exits */
	if ((ret = cli_no_operands(cgi_cli.name, argc, argv)) != 0)
		exit(ret);
}

int main(int argc, char **argv)
{
	const char *error;
	struct config *config;
	struct timespec t0, t1;
	cgi_options(argc, argv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
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
	const char *script = env("SCRIPT_NAME");
	if (script != NULL && config->webmail_base != NULL &&
	    strcmp(script, config->webmail_base) != 0 && !webmail_site_path(script))
		log_warning("webmail.cgi: SCRIPT_NAME %s differs from webmail_base %s: links use "
			    "webmail_base", script, config->webmail_base);
	struct http_request *req = http_request_new();
	if (req == NULL)
		return fail("start", "out of memory");
	fill_request(req);
	read_body(req);
	struct store *store;
	if (store_open(config, false, &store, &error) < 0)
		return fail("store", error);
	struct webmail *wm;
	if (webmail_new(config, store, false, &wm, &error) < 0)
		return fail("start", error);
	struct http_response resp;
	http_response_init(&resp);
	webmail_handle(wm, req, &resp);
	uint64_t bytes = write_response(req, &resp);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	webmail_access_log(req, &resp, bytes, (double)(t1.tv_sec - t0.tv_sec) +
						     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	http_response_free(&resp);
	http_request_free(&req);
	webmail_free(&wm);
	store_close(&store);
	config_free(&config);
	cgi_hold_output_past_exit();
	return 0;
}
