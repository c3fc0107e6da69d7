/* Requests and responses shared by both front ends (http.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "log.h"

struct http_request *http_request_new(void)
{
	struct arena *a = arena_new();
	if (a == NULL)
		return NULL;
	struct http_request *req = arena_alloc(a, sizeof(*req));
	if (req == NULL) {
		arena_free(&a);
		return NULL;
	}
	req->arena = a;
	req->path = "/";
	req->query = "";
	req->content_length = -1;
	return req;
}

void http_request_free(struct http_request **reqp)
{
	struct http_request *req = *reqp;
	if (req == NULL)
		return;
	if (req->body_parser != NULL) {
		int status;
		const char *error;
		struct form form;
		form_parser_finish(req->body_parser, &form, &status, &error);
		req->body_parser = NULL;
	}
	struct arena *a = req->arena;
	arena_free(&a);
	*reqp = NULL;
}

static void bad(struct http_request *req, int status, const char *error)
{
	if (req->error_status == 0) {
		req->error_status = status;
		req->error = error;
	}
}

/* Accepts only a clean absolute path: no NUL or control bytes, no
 * backslash, no empty, "." or ".." segment. */
static bool path_clean(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *s = p; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '\\')
			return false;
		if (*s == '/') {
			const char *seg = s + 1;
			size_t n = strcspn(seg, "/");
			if ((n == 0 && seg[0] == '/') || (n == 1 && seg[0] == '.') ||
			    (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
		}
	}
	return true;
}

void http_request_set_path(struct http_request *req, const char *path)
{
	if (path == NULL || *path == '\0')
		path = "/";
	if (strlen(path) > HTTP_URI_MAX) {
		bad(req, 414, "the path is too long");
		return;
	}
	if (!path_clean(path)) {
		bad(req, 400, "a path with '..', '//' or control characters");
		return;
	}
	req->path = arena_strdup(req->arena, path);
	if (req->path == NULL) {
		req->path = "/";
		bad(req, 500, "out of memory");
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void http_request_set_target(struct http_request *req, const char *raw_path, size_t path_len,
			     const char *query, size_t query_len)
{
	if (path_len > HTTP_URI_MAX || query_len > HTTP_URI_MAX) {
		bad(req, 414, "the request target is too long");
		return;
	}
	req->query = arena_strndup(req->arena, query, query_len);
	char *path = arena_alloc(req->arena, path_len + 1);
	if (path == NULL || req->query == NULL) {
		req->query = "";
		bad(req, 500, "out of memory");
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < path_len; i++) {
		if (raw_path[i] == '%') {
			int hi = i + 2 < path_len ? hexval((unsigned char)raw_path[i + 1]) : -1;
			int lo = hi >= 0 ? hexval((unsigned char)raw_path[i + 2]) : -1;
			if (lo < 0) {
				bad(req, 400, "a malformed %-escape in the path");
				return;
			}
			int c = hi << 4 | lo;
			if (c == 0 || c == '/') {
				bad(req, 400, "an encoded NUL or '/' in the path");
				return;
			}
			path[o++] = (char)c;
			i += 2;
		} else {
			path[o++] = raw_path[i];
		}
	}
	path[o] = '\0';
	if (strlen(path) != o) {
		bad(req, 400, "a NUL in the path");
		return;
	}
	http_request_set_path(req, path);
}

/* ---------------------------------------------------------------- body */

/* text/xml or application/xml (parameters such as charset ignored). */
static bool type_is_xml(const char *content_type)
{
	if (content_type == NULL)
		return false;
	size_t n = strcspn(content_type, "; \t");
	return (n == 8 && strncasecmp(content_type, "text/xml", 8) == 0) ||
	       (n == 15 && strncasecmp(content_type, "application/xml", 15) == 0);
}

/* Multipart bodies may carry files (the compose page); URL-encoded ones
 * are small forms; XML ones (autodiscover) are kept raw, small. */
int http_body_begin(struct http_request *req, size_t body_max)
{
	struct form_limits limits = form_limits_default;
	int status;
	const char *error;

	if (req->error_status != 0)
		return -1;
	if (type_is_xml(req->content_type)) {
		if (req->content_length > HTTP_XML_BODY_MAX) {
			bad(req, 413, "the XML request body is too large");
			return -1;
		}
		req->xml_in = arena_alloc(req->arena, HTTP_XML_BODY_MAX + 1);
		if (req->xml_in == NULL) {
			bad(req, 500, "out of memory");
			return -1;
		}
		req->xml_len = 0;
		return 0;
	}
	limits.body_max = body_max;
	limits.file_max = body_max;
	limits.files_max = 20;
	if (req->content_length >= 0 && (uint64_t)req->content_length > body_max) {
		bad(req, 413, "the request body is too large");
		return -1;
	}
	req->body_parser = form_parser_new(req->arena, req->content_type, &limits, &status, &error);
	if (req->body_parser == NULL) {
		bad(req, status, error);
		return -1;
	}
	return 0;
}

int http_body_feed(struct http_request *req, const void *data, size_t len)
{
	if (req->error_status == 0 && req->xml_in != NULL) {
		if (len > HTTP_XML_BODY_MAX - req->xml_len) {
			req->xml_in = NULL;
			bad(req, 413, "the XML request body is too large");
			return -1;
		}
		memcpy(req->xml_in + req->xml_len, data, len);
		req->xml_len += len;
		return 0;
	}
	if (req->error_status != 0 || req->body_parser == NULL)
		return -1;
	if (form_parser_feed(req->body_parser, data, len) < 0) {
		/* finish now to learn the status; the parser is spent */
		http_body_end(req);
		return -1;
	}
	return 0;
}

int http_body_end(struct http_request *req)
{
	int status;
	const char *error;
	if (req->xml_in != NULL) {
		req->xml_in[req->xml_len] = '\0';
		req->xml = req->error_status == 0 ? req->xml_in : NULL;
		req->xml_in = NULL;
	}
	if (req->body_parser == NULL)
		return req->error_status != 0 ? -1 : 0;
	int r = form_parser_finish(req->body_parser, &req->body, &status, &error);
	req->body_parser = NULL;
	if (r < 0) {
		bad(req, status, error);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- response */

void http_response_init(struct http_response *resp)
{
	*resp = (struct http_response){ .status = 200 };
	buf_init(&resp->body, 0);
	resp->stream.length = -1;
}

void http_response_free(struct http_response *resp)
{
	buf_free(&resp->body);
	if (resp->stream.close != NULL)
		resp->stream.close(resp->stream.ctx);
	resp->stream = (struct http_stream){ .length = -1 };
}

void http_header_add(struct http_response *resp, struct arena *a, const char *name,
		     const char *value)
{
	if (resp->nheaders == HTTP_HEADERS_MAX) {
		log_error("webmail: too many response headers, %s dropped", name);
		return;
	}
	for (const char *s = value; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n') {
			log_error("webmail: a line break in response header %s, dropped", name);
			return;
		}
	}
	const char *n = arena_strdup(a, name), *v = arena_strdup(a, value);
	if (n == NULL || v == NULL)
		return;
	resp->headers[resp->nheaders++] = (struct http_header){ n, v };
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
	}
}

bool http_etag_match(const char *list, const char *etag)
{
	size_t elen = strlen(etag);
	const char *p = list;
	if (p == NULL)
		return false;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return false;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		const char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
		if (end == NULL)
			return false;
		end++;
		if ((size_t)(end - p) == elen && memcmp(p, etag, elen) == 0)
			return true;
		p = end;
	}
}

bool http_cookie_get(const char *header, const char *name, char *dst, size_t size)
{
	size_t nlen = strlen(name);
	if (header == NULL || size == 0)
		return false;
	const char *p = header, *end = header + strnlen(header, HTTP_COOKIE_MAX);
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		const char *pair = p;
		while (p < end && *p != ';')
			p++;
		const char *eq = memchr(pair, '=', (size_t)(p - pair));
		if (eq == NULL || (size_t)(eq - pair) != nlen || memcmp(pair, name, nlen) != 0)
			continue;
		const char *v = eq + 1, *ve = p;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
			v++;
			ve--;
		}
		size_t n = (size_t)(ve - v);
		if (n >= size)
			return false;
		memcpy(dst, v, n);
		dst[n] = '\0';
		return true;
	}
	return false;
}
