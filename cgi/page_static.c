/* Static files (CSS, icons) from templates/static, with caching headers.
 * Apache and nginx may serve the directory themselves instead. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"

/* Our static files are a few KiB each. */
#define STATIC_FILE_MAX (1024 * 1024)

static const struct { const char *ext, *type; } types[] = {
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
};

/* A file name of ours: [a-z0-9_-]+ plus a known extension. No path. */
static const char *static_type(const char *name)
{
	const char *dot = strchr(name, '.');
	if (dot == NULL || dot == name || dot - name > 64)
		return NULL;
	for (const char *s = name; s < dot; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return NULL;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

static int open_static(struct ctx *c, const char *name, struct stat *st)
{
	const char *dirs[2] = { c->wm->site_static_dir, c->wm->static_dir };
	char path[1024];
	for (size_t i = 0; i < 2; i++) {
		if (dirs[i] == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_size <= STATIC_FILE_MAX)
			return fd;
		close(fd);
	}
	return -1;
}

void page_static(struct ctx *c)
{
	const char *name = c->req->path + strlen("/static/");
	const char *type = static_type(name);
	struct stat st;
	int fd = type != NULL ? open_static(c, name, &st) : -1;
	if (fd < 0) {
		page_error(c, 404, "There is no such file.");
		return;
	}
	const char *etag = arena_printf(c->a, "\"%llx-%llx\"", (unsigned long long)st.st_size,
					(unsigned long long)st.st_mtime);
	http_header_add(c->resp, c->a, "Cache-Control", "public, max-age=86400");
	http_header_add(c->resp, c->a, "ETag", etag);
	char chunk[16384];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&c->resp->body, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		buf_reset(&c->resp->body);
		page_error(c, 500, "The file could not be read.");
		return;
	}
	/* the body stays: a front end sends none with a 304, but a
	 * Content-Length must be the 200's or none (RFC 9110 8.6), and
	 * libmicrohttpd sends one from the body's size */
	if (http_etag_match(c->req->if_none_match, etag))
		c->resp->status = 304;
	else
		http_header_add(c->resp, c->a, "Content-Type", type);
}
