/* The header block of a body being delivered, read once for the steps after
 * the body is stored that look at it: the recipients' filters and their
 * vacation replies (body.h). The filters' body test reads the message's
 * first octets the same way, with a larger `max`. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "body.h"
#include "log.h"

void body_header_load(struct store *store, const struct store_body *body, size_t max,
		      struct body_header *h)
{
	size_t want = body->size < max ? (size_t)body->size : max;
	h->loaded = true;
	if ((h->data = malloc(want + 1)) == NULL) {
		h->failed = true;
		return;
	}
	if (body->inline_data != NULL) {
		memcpy(h->data, body->inline_data, want);
		h->len = want;
	} else {
		char path[512];
		body_path(store, body->id, path, sizeof(path));
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		while (fd >= 0 && h->len < want) {
			ssize_t n = pread(fd, h->data + h->len, want - h->len, (off_t)h->len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			h->len += (size_t)n;
		}
		if (fd < 0 || h->len < want) {
			log_warning("store: reading the first %zu octets of %s: %s", want, path,
				    fd < 0 ? strerror(errno) : "short read");
			h->failed = true;
		}
		if (fd >= 0)
			close(fd);
	}
	h->data[h->len] = '\0';
	/* the header ends at the first empty line (CRLF CRLF or LF LF) */
	for (size_t i = 0; i + 1 < h->len && !h->complete; i++)
		h->complete = (h->data[i] == '\n' && h->data[i + 1] == '\n') ||
			      (i + 2 < h->len && h->data[i] == '\n' && h->data[i + 1] == '\r' &&
			       h->data[i + 2] == '\n');
	/* a message of headers only is complete at its end */
	if (!h->complete && h->len == body->size)
		h->complete = true;
}

void body_header_free(struct body_header *h)
{
	free(h->data);
	*h = (struct body_header){ 0 };
}
