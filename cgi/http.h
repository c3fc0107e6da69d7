/* One request and one response, the same for both front ends (kcgi's
 * abstract environment). A front end fills a struct http_request, feeds the
 * body through http_body_*, calls webmail_handle (webmail.h) and writes the
 * struct http_response it gets back; it interprets nothing itself. */
#ifndef PB_CGI_HTTP_H
#define PB_CGI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "form.h"

/* A request line's path or query longer than this is answered 414. */
#define HTTP_URI_MAX 8192
/* Cookie header bytes kept (a browser sends at most a few KiB). */
#define HTTP_COOKIE_MAX 8192
/* Response headers per response. */
#define HTTP_HEADERS_MAX 24
/* An XML request body (Outlook's autodiscover request: a few hundred
 * bytes); a larger one is answered 413. */
#define HTTP_XML_BODY_MAX 16384

enum http_method { HTTP_OTHER, HTTP_GET, HTTP_HEAD, HTTP_POST };

struct http_request {
	struct arena *arena;
	enum http_method method;
	const char *path;          /* decoded, below the base ("/list"); never NULL */
	bool at_root;              /* path is from the site's root, outside the base
				      (mail client set-up: webmail_site_path) */
	const char *query;         /* raw query string without '?'; never NULL */
	const char *cookie;        /* Cookie header or NULL */
	const char *content_type;  /* or NULL */
	const char *if_none_match; /* or NULL */
	const char *remote_addr;   /* client IP as text, or NULL */
	const char *user_agent;    /* for the access log only, or NULL */
	const char *fetch_site;    /* Sec-Fetch-Site ("same-origin", "cross-site"...),
				      or NULL: a browser's word on who made the request */
	bool https;
	int64_t content_length;    /* -1 unknown */
	/* filled by http_body_* */
	struct form_parser *body_parser;
	struct form body;
	const char *xml;           /* a text/xml or application/xml body (NUL-terminated,
				      at most HTTP_XML_BODY_MAX bytes), or NULL */
	size_t xml_len;
	char *xml_in;              /* the XML body while it is read (in the arena) */
	int error_status;          /* set when the request is bad already (4xx) */
	const char *error;
};

struct http_header {
	const char *name;
	const char *value;
};

/* A streamed body: read(ctx, buf, max) returns bytes (0 at the end, -1 on
 * error: the connection is then cut); close(ctx) is always called once. */
struct http_stream {
	ssize_t (*read)(void *ctx, char *buf, size_t max);
	void (*close)(void *ctx);
	void *ctx;
	int64_t length;            /* -1 unknown */
};

struct http_response {
	int status;
	struct http_header headers[HTTP_HEADERS_MAX];
	size_t nheaders;
	struct buf body;           /* used when stream.read is NULL */
	struct http_stream stream;
	const char *user;          /* for the access log: the signed-in address */
};

/* A new request in its own arena (NULL on out of memory). */
struct http_request *http_request_new(void);
/* Frees the request, its arena and a body parser left open. */
void http_request_free(struct http_request **req);

/* Sets the path from a raw (percent-encoded) request target path and the
 * query, as libmicrohttpd gives them: the path is decoded; NUL, "%2F",
 * "..", "//" and backslashes are refused (req->error_status = 400). */
void http_request_set_target(struct http_request *req, const char *raw_path, size_t path_len,
			     const char *query, size_t query_len);
/* The same from CGI's PATH_INFO (already decoded by the server). */
void http_request_set_path(struct http_request *req, const char *path);

/* Body: begin once (with the Content-Type and Content-Length), feed the
 * bytes, end. Errors (413 too large, 400 malformed, 415 type) land in
 * req->error_status; feeding stops mattering after one. Returns 0 or -1.
 * Forms are parsed into req->body; an XML body is kept as it is (req->xml)
 * for the page that reads it. */
int http_body_begin(struct http_request *req, size_t body_max);
int http_body_feed(struct http_request *req, const void *data, size_t len);
int http_body_end(struct http_request *req);

void http_response_init(struct http_response *resp);
void http_response_free(struct http_response *resp);
/* Adds a header (name and value copied into `a`; CR, LF and NUL in the
 * value are refused: the header is dropped and logged). */
void http_header_add(struct http_response *resp, struct arena *a, const char *name,
		     const char *value);
/* The reason phrase for a status ("Not Found"). */
const char *http_reason(int status);

/* true if an If-None-Match header value (a list of entity tags, or "*")
 * matches our strong `etag` ("\"...\""): weak comparison, as RFC 9110
 * 13.1.2 requires (W/"x" matches "x"). A malformed list matches nothing. */
bool http_etag_match(const char *if_none_match, const char *etag);

/* Looks a cookie up in the Cookie header: copies its value (at most
 * size-1 bytes) into dst. true if found. */
bool http_cookie_get(const char *header, const char *name, char *dst, size_t size);

#endif
