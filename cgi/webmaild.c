/* pillarbox-webmaild: the webmail on libmicrohttpd (a thread pool, HTTP or
 * HTTPS), the standalone default. A thin front end: it fills a request,
 * calls webmail_handle and sends the response. The only file that
 * includes <microhttpd.h>.
 *
 *   pillarbox-webmaild [--config FILE] [--listen ADDR:PORT] [--https]
 *                      [--threads N] [--proxy ADDR]...
 * Stops gracefully (requests in flight finish) on SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "process.h"
#include "store.h"
#include "webmail.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define THREADS_DEFAULT 4
#define THREADS_MAX 64
/* Idle connections are closed after this many seconds. */
#define CONNECTION_TIMEOUT 60
#define CONNECTIONS_MAX 1000
/* Connections from one address at a time, when no --proxy is named (behind
 * a proxy every connection comes from it: the proxy limits clients). One
 * client opening many slow connections cannot take them all. */
#define CONNECTIONS_PER_IP 64
/* --proxy addresses. */
#define PROXIES_MAX 8
/* Memory per connection for the request line and headers: a request whose
 * header does not fit gets 431/414 from libmicrohttpd. 64 KiB holds any
 * browser's request. */
#define CONNECTION_MEMORY 65536
/* A TLS certificate or key file. */
#define TLS_FILE_MAX (256 * 1024)
/* The server's address space: generous, but a runaway fails malloc
 * instead of meeting the OOM killer (which would crash the store). */
#define ADDRESS_SPACE ((size_t)4 << 30)
/* After SIGTERM, requests in flight (a large download) get this long to
 * finish before the rest are cut; well inside systemd's 90 s stop timeout. */
#define STOP_WAIT_SECONDS 30

struct server {
	struct webmail *wm;
	bool https;
	/* Reverse proxies in front (--proxy), canonical numeric form: their
	 * X-Forwarded-For and X-Forwarded-Proto are believed. */
	char proxies[PROXIES_MAX][INET6_ADDRSTRLEN];
	size_t nproxies;
	/* requests begun and not completed; set when a stop signal came */
	atomic_uint in_flight;
	atomic_bool stopping;
};

/* One request's state, from the URI log callback to "completed". */
struct conn_req {
	struct http_request *req;
	char *uri;                /* the raw request target */
	bool begun;               /* headers read, body parser started */
	bool answered;
	bool body_refused;        /* the body parser said no: the rest is read and dropped */
	uint64_t dropped;         /* ... this much of it so far */
	struct timespec start;
	struct http_response resp;
	uint64_t bytes;
};

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct server *srv = cls;
	(void)conn;
	struct conn_req *cr = calloc(1, sizeof(*cr));
	if (cr == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &cr->start);
	http_response_init(&cr->resp);
	cr->req = http_request_new();
	cr->uri = strdup(uri != NULL ? uri : "/");
	if (cr->req == NULL || cr->uri == NULL) {
		http_request_free(&cr->req);
		free(cr->uri);
		free(cr);
		return NULL;
	}
	atomic_fetch_add(&srv->in_flight, 1);
	return cr;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The canonical numeric form of an address (an IPv4-mapped IPv6 address
 * as IPv4), into out; false if text is none. */
static bool ip_canonical(const char *text, size_t len, char out[INET6_ADDRSTRLEN])
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1)
		return inet_ntop(AF_INET, bin, out, INET6_ADDRSTRLEN) != NULL;
	if (inet_pton(AF_INET6, buf, bin) != 1)
		return false;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(bin, mapped, sizeof(mapped)) == 0)
		return inet_ntop(AF_INET, bin + 12, out, INET6_ADDRSTRLEN) != NULL;
	return inet_ntop(AF_INET6, bin, out, INET6_ADDRSTRLEN) != NULL;
}

static bool is_proxy(const struct server *srv, const char *ip)
{
	for (size_t i = 0; i < srv->nproxies; i++)
		if (strcmp(srv->proxies[i], ip) == 0)
			return true;
	return false;
}

static enum MHD_Result last_forwarded_for(void *cls, enum MHD_ValueKind kind, const char *key,
					  const char *value)
{
	const char **last = cls;
	(void)kind;
	if (strcasecmp(key, "X-Forwarded-For") == 0 && value != NULL)
		*last = value;
	return MHD_YES;
}

/* The client a trusted proxy names: the last address of X-Forwarded-For,
 * the one the proxy itself appended (those before it came from the client
 * and prove nothing). Of several X-Forwarded-For lines, the last: a proxy
 * may add its own line after the client's (HAProxy's option forwardfor)
 * and the lines are one list in order (RFC 9110 5.3); MHD's lookup would
 * give the client's. False if there is none. */
static bool forwarded_for(struct MHD_Connection *conn, char out[INET6_ADDRSTRLEN])
{
	const char *v = NULL;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, last_forwarded_for, &v);
	if (v == NULL)
		return false;
	const char *comma = strrchr(v, ',');
	const char *start = comma != NULL ? comma + 1 : v, *end = start + strlen(start);
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	return ip_canonical(start, (size_t)(end - start), out);
}

/* The client's address and whether it came over HTTPS: the peer's, or
 * what a --proxy peer says of its client. */
static void fill_client(struct server *srv, struct MHD_Connection *conn, struct http_request *req)
{
	char peer[INET6_ADDRSTRLEN], client[INET6_ADDRSTRLEN];
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	req->https = srv->https;
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	const void *addr = sa->sa_family == AF_INET6
			   ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
			   : (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	if (inet_ntop(sa->sa_family, addr, client, sizeof(client)) == NULL ||
	    !ip_canonical(client, strlen(client), peer))
		return;
	req->remote_addr = arena_strdup(req->arena, peer);
	if (!is_proxy(srv, peer))
		return;
	if (forwarded_for(conn, client))
		req->remote_addr = arena_strdup(req->arena, client);
	const char *proto = header(conn, "X-Forwarded-Proto");
	if (proto != NULL)
		req->https = strcasecmp(proto, "https") == 0;
}

static enum MHD_Result host_count(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	unsigned *n = cls;
	(void)kind;
	(void)value;
	*n += strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0;
	return MHD_YES;
}

/* RFC 9112 3.2: a request with more than one Host, an HTTP/1.1 request
 * without one, or a Host that is not host[:port] is answered 400. */
static bool host_ok(struct MHD_Connection *conn, const char *version)
{
	unsigned n = 0;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, host_count, &n);
	const char *host = header(conn, MHD_HTTP_HEADER_HOST);
	if (n > 1 || (n == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0))
		return false;
	for (const char *s = host; s != NULL && *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("-._~%!$&'()*+,;=:[]", *s) == NULL)
			return false;
	return true;
}

static void fill_request(struct server *srv, struct MHD_Connection *conn, struct conn_req *cr,
			 const char *method, const char *version)
{
	struct http_request *req = cr->req;
	struct arena *a = req->arena;
	req->method = strcmp(method, "GET") == 0 ? HTTP_GET : strcmp(method, "HEAD") == 0 ? HTTP_HEAD
		      : strcmp(method, "POST") == 0 ? HTTP_POST : HTTP_OTHER;
	if (!host_ok(conn, version)) {
		req->error_status = 400;
		req->error = "a missing, repeated or malformed Host header";
	}
	/* absolute-form ("GET http://host/webmail/ HTTP/1.1"), which a server
	 * MUST accept (RFC 9112 3.2.2): the path after the authority */
	const char *uri = cr->uri;
	size_t scheme = strncasecmp(uri, "http://", 7) == 0 ? 7
			: strncasecmp(uri, "https://", 8) == 0 ? 8 : 0;
	if (scheme > 0) {
		uri += scheme + strcspn(uri + scheme, "/?");
		if (*uri != '/' && (uri = arena_printf(a, "/%s", uri)) == NULL) {
			uri = "/";
			req->error_status = 500;
			req->error = "out of memory";
		}
	}
	const char *q = strchr(uri, '?');
	size_t plen = q == NULL ? strlen(uri) : (size_t)(q - uri);
	const char *base = webmail_base(srv->wm);
	size_t blen = strlen(base);
	/* the application lives under its base path; outside it, the core
	 * answers the mail client set-up paths (and 404 to anything else) */
	if (plen >= blen && strncmp(uri, base, blen) == 0 && (plen == blen || uri[blen] == '/')) {
		http_request_set_target(req, uri + blen, plen - blen, q == NULL ? "" : q + 1,
					q == NULL ? 0 : strlen(q + 1));
	} else {
		http_request_set_target(req, uri, plen, q == NULL ? "" : q + 1,
					q == NULL ? 0 : strlen(q + 1));
		req->at_root = true;
	}
	const char *v;
	if ((v = header(conn, "Cookie")) != NULL)
		req->cookie = arena_strdup(a, v);
	if ((v = header(conn, "Content-Type")) != NULL)
		req->content_type = arena_strdup(a, v);
	if ((v = header(conn, "If-None-Match")) != NULL)
		req->if_none_match = arena_strdup(a, v);
	if ((v = header(conn, "User-Agent")) != NULL)
		req->user_agent = arena_strndup(a, v, strnlen(v, 200));
	if ((v = header(conn, "Sec-Fetch-Site")) != NULL)
		req->fetch_site = arena_strndup(a, v, strnlen(v, 32));
	if ((v = header(conn, "Content-Length")) != NULL) {
		char *end;
		errno = 0;
		long long n = strtoll(v, &end, 10);
		req->content_length = errno == 0 && *end == '\0' && n >= 0 ? n : -1;
	}
	fill_client(srv, conn, req);
}

struct stream_ctx {
	struct http_stream stream;
	struct conn_req *cr;      /* for the byte count; NULL after completion */
};

static ssize_t stream_read_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *s = cls;
	(void)pos;
	ssize_t n = s->read(s->ctx, buf, max);
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void stream_free_cb(void *cls)
{
	struct http_stream *s = cls;
	if (s->close != NULL)
		s->close(s->ctx);
	free(s);
}

static enum MHD_Result respond(struct server *srv, struct MHD_Connection *conn,
			       struct conn_req *cr)
{
	struct http_response *resp = &cr->resp;
	struct MHD_Response *r;
	cr->answered = true;
	if (resp->stream.read != NULL) {
		struct http_stream *s = malloc(sizeof(*s));
		if (s == NULL)
			return MHD_NO;
		*s = resp->stream;
		resp->stream = (struct http_stream){ .length = -1 };
		r = MHD_create_response_from_callback(s->length >= 0 ? (uint64_t)s->length
						      : MHD_SIZE_UNKNOWN, 65536, stream_read_cb, s,
						      stream_free_cb);
		if (r == NULL) {
			stream_free_cb(s);
			return MHD_NO;
		}
		cr->bytes = s->length >= 0 ? (uint64_t)s->length : 0;
	} else {
		size_t len;
		char *body = buf_steal(&resp->body, &len);
		if (body == NULL)
			return MHD_NO;
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (r == NULL) {
			free(body);
			return MHD_NO;
		}
		cr->bytes = len;
	}
	for (size_t i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	/* stopping: no further request on this connection */
	if (atomic_load(&srv->stopping))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct conn_req *cr = *con_cls;
	(void)url;
	if (cr == NULL)
		return MHD_NO;
	if (cr->answered) {
		*upload_data_size = 0;   /* an early answer: the rest is discarded */
		return MHD_YES;
	}
	if (!cr->begun) {
		cr->begun = true;
		fill_request(srv, conn, cr, method, version);
		if (cr->req->method == HTTP_POST && http_body_begin(cr->req, WEBMAIL_BODY_MAX) < 0) {
			webmail_handle(srv->wm, cr->req, &cr->resp);
			return respond(srv, conn, cr);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* Refused in the middle of the body (a field too long), the
		 * answer waits for its end: libmicrohttpd takes no response
		 * while a body is coming in, and closed the connection without
		 * one. What is left is dropped, up to the body's limit. */
		if (cr->body_refused) {
			cr->dropped += *upload_data_size;
			*upload_data_size = 0;
			return cr->dropped > WEBMAIL_BODY_MAX ? MHD_NO : MHD_YES;
		}
		if (cr->req->method == HTTP_POST &&
		    http_body_feed(cr->req, upload_data, *upload_data_size) < 0)
			cr->body_refused = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (cr->req->method == HTTP_POST && !cr->body_refused)
		http_body_end(cr->req);
	webmail_handle(srv->wm, cr->req, &cr->resp);
	return respond(srv, conn, cr);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct conn_req *cr = *con_cls;
	(void)conn;
	(void)toe;
	if (cr == NULL)
		return;
	atomic_fetch_sub(&srv->in_flight, 1);
	if (cr->answered) {
		struct timespec end;
		clock_gettime(CLOCK_MONOTONIC, &end);
		double secs = (double)(end.tv_sec - cr->start.tv_sec) +
			      (double)(end.tv_nsec - cr->start.tv_nsec) / 1e9;
		webmail_access_log(cr->req, &cr->resp, cr->bytes, secs);
	}
	http_response_free(&cr->resp);
	http_request_free(&cr->req);
	free(cr->uri);
	free(cr);
	*con_cls = NULL;
}

/* libmicrohttpd's own format strings, checked as printf formats. */
__attribute__((format(printf, 2, 0)))
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warning("webmaild: libmicrohttpd: %s", line);
}

/* No new connection; the requests in flight finish (MHD_stop_daemon alone
 * would cut a download in the middle), for at most STOP_WAIT_SECONDS or
 * until a second stop signal; then the daemon stops. */
static void stop_gracefully(struct server *srv, struct MHD_Daemon *d, const sigset_t *set)
{
	MHD_socket listen_fd = MHD_quiesce_daemon(d);
	struct timespec now, end, tick = { 0, 100 * 1000 * 1000 };
	atomic_store(&srv->stopping, true);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += STOP_WAIT_SECONDS;
	while (atomic_load(&srv->in_flight) > 0) {
		int sig = sigtimedwait(set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) {
			log_warning("webmaild: %u requests still running after %d s, cut",
				    atomic_load(&srv->in_flight), STOP_WAIT_SECONDS);
			break;
		}
	}
	MHD_stop_daemon(d);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
}

static char *read_file(const char *path, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > TLS_FILE_MAX) {
		if (fd >= 0)
			close(fd);
		*error_r = "cannot read it (or larger than 256 KiB)";
		return NULL;
	}
	char *data = calloc(1, (size_t)st.st_size + 1);
	size_t got = 0;
	while (data != NULL && got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (data == NULL || got != (size_t)st.st_size) {
		free(data);
		*error_r = "read failed";
		return NULL;
	}
	return data;
}

static const struct cli webmaild_cli = {
	.name = "pillarbox-webmaild",
	.usage = "Usage: pillarbox-webmaild [--config FILE] [--listen ADDR:PORT] [--https]\n"
		 "                          [--threads N] [--proxy ADDR]...\n"
		 "Serves the webmail over HTTP (or HTTPS) until SIGTERM or SIGINT.\n"
		 "  --config FILE       read FILE instead of the default pillarbox.conf\n"
		 "  --listen ADDR:PORT  where to listen, a numeric address\n"
		 "                      (default " DEFAULT_LISTEN ")\n"
		 "  --https             serve HTTPS with tls_cert and tls_key\n"
		 "  --threads N         worker threads, 1 to 64 (default 4)\n"
		 "  --proxy ADDR        a reverse proxy in front, a numeric address (up to 8):\n"
		 "                      for its requests the client is the last address of\n"
		 "                      X-Forwarded-For and HTTPS is X-Forwarded-Proto: https\n"
		 "  --help              show this help and exit\n"
		 "  --version           show the version and exit\n",
};

int main(int argc, char **argv)
{
	/* (-c, -l, -s, -t, -p and -h are the undocumented short forms) */
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "https", no_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "proxy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, CLI_OPT_HELP },
		{ "version", no_argument, NULL, CLI_OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_file = NULL, *listen = DEFAULT_LISTEN, *error;
	bool https = false;
	unsigned threads = THREADS_DEFAULT;
	unsigned long n;
	char *end;
	int opt;
	struct server srv = { .https = false };
	while ((opt = cli_getopt(&webmaild_cli, argc, argv, "c:l:st:p:h", opts)) != -1) {
		switch (opt) {
		case 'c': config_file = optarg; break;
		case 'p':
			if (srv.nproxies == PROXIES_MAX ||
			    !ip_canonical(optarg, strlen(optarg), srv.proxies[srv.nproxies]))
				return cli_usage_error(webmaild_cli.name, NULL,
						       "--proxy %s: not a numeric address (at most %d)",
						       optarg, PROXIES_MAX);
			srv.nproxies++;
			break;
		case 'l': listen = optarg; break;
		case 's': https = true; break;
		case 't':
			n = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n == 0 || n > THREADS_MAX)
				return cli_usage_error(webmaild_cli.name, NULL,
						       "--threads must be 1 to %d", THREADS_MAX);
			threads = (unsigned)n;
			break;
		case 'h': return cli_help(webmaild_cli.name, webmaild_cli.usage);
		}
	}
	if ((opt = cli_no_operands(webmaild_cli.name, argc, argv)) != 0)
		return opt;
	log_open("pillarbox-webmaild");

	struct config *config;
	if (config_load(config_path(config_file), &config, &error) < 0) {
		fprintf(stderr, "pillarbox-webmaild: %s\n", error);
		return 78;
	}
	char *host;
	uint16_t port;
	if (config_hostport_parse(listen, &host, &port, &error) < 0) {
		fprintf(stderr, "pillarbox-webmaild: --listen %s: %s\n", listen, error);
		config_free(&config);
		return 64;
	}
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *ai;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0) {
		fprintf(stderr, "pillarbox-webmaild: --listen %s: not a numeric address\n", listen);
		free(host);
		config_free(&config);
		return 64;
	}
	free(host);
	/* the key is read before the switch to the store user (it may be
	 * readable by root and the group only) */
	char *cert = NULL, *key = NULL;
	int status = 0;
	struct store *store = NULL;
	srv.https = https;
	if (https) {
		if (config->tls_cert == NULL || config->tls_key == NULL) {
			fprintf(stderr, "pillarbox-webmaild: --https needs tls_cert and tls_key in %s\n",
				config->path);
			status = 78;
			goto out;
		}
		if ((cert = read_file(config->tls_cert, &error)) == NULL ||
		    (key = read_file(config->tls_key, &error)) == NULL) {
			fprintf(stderr, "pillarbox-webmaild: %s: %s\n",
				cert == NULL ? config->tls_cert : config->tls_key, error);
			status = 78;
			goto out;
		}
	}
	struct process_limits limits = { .address_space = ADDRESS_SPACE, .open_files = 4096 };
	if (process_init(config->user, &limits, false, &error) < 0) {
		fprintf(stderr, "pillarbox-webmaild: %s\n", error);
		status = 77;
		goto out;
	}
	if (store_open(config, true, &store, &error) < 0) {
		fprintf(stderr, "pillarbox-webmaild: %s\n", error);
		status = 75;
		goto out;
	}
	if (webmail_new(config, store, true, &srv.wm, &error) < 0) {
		fprintf(stderr, "pillarbox-webmaild: %s\n", error);
		status = 70;
		goto out;
	}
	/* signals go to the main thread only: block them before the pool starts */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* MHD_USE_ITC: MHD_quiesce_daemon at a stop */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (https)
		flags |= MHD_USE_TLS;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, port, NULL, NULL, access_cb, &srv,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, &srv,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, &srv,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv.nproxies > 0 ? 0u : (unsigned)CONNECTIONS_PER_IP,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
		https ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
		MHD_OPTION_HTTPS_MEM_KEY, key,
		MHD_OPTION_HTTPS_PRIORITIES, config->tls_priority,
		MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "pillarbox-webmaild: cannot listen on %s\n", listen);
		status = 71;
		goto out;
	}
	log_info("webmaild: listening on %s (%s, %u threads)", listen, https ? "https" : "http",
		 threads);
	int sig = 0;
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		;   /* nothing to reload: templates are read at start */
	log_info("webmaild: stopping (signal %d)", sig);
	stop_gracefully(&srv, d, &set);
out:
	freeaddrinfo(ai);
	webmail_free(&srv.wm);
	store_close(&store);
	if (key != NULL) {
		memset(key, 0, strlen(key));
		free(key);
	}
	free(cert);
	config_free(&config);
	return status;
}
