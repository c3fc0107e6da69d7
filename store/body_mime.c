/* The MIME structure of a body: computed once at delivery (mime.h), cached
 * in the bodies record or, when large, in a file beside the body. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "body.h"
#include "mime.h"

/* A cache file larger than this is damaged (10,000 parts at most). */
#define BODY_MIME_FILE_MAX (64u << 20)

int body_mime_write(struct store_body *body, const char *dir)
{
	char hexid[2 * STORE_BODY_ID_LEN + 1], path[600];
	body_id_hex(body->id, hexid);
	snprintf(path, sizeof(path), "%s/%s.mime", dir, hexid);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return store_syserr(body->store, errno, "%s: %s", path, strerror(errno));
	size_t off = 0;
	while (off < body->mime_len) {
		ssize_t n = write(fd, (char *)body->mime + off, body->mime_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			store_syserr(body->store, errno, "writing %s: %s", path, strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		store_syserr(body->store, errno, "fsync %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		store_syserr(body->store, errno, "closing %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int body_mime_read(struct store *store, const uint8_t id[STORE_BODY_ID_LEN], void **data_r,
		   size_t *len_r)
{
	char path[600];
	struct stat st;
	body_path(store, id, path, sizeof(path) - 8);
	strcat(path, ".mime");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return store_err(store, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > BODY_MIME_FILE_MAX) {
		close(fd);
		return store_err(store, "%s: unreadable or too large", path);
	}
	char *data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (data == NULL) {
		close(fd);
		return store_err(store, "out of memory");
	}
	size_t off = 0, len = (size_t)st.st_size;
	while (off < len) {
		ssize_t n = pread(fd, data + off, len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (off != len) {
		free(data);
		return store_err(store, "%s: short read", path);
	}
	*data_r = data;
	*len_r = len;
	return 0;
}

/* Copies at most size-1 bytes of UTF-8 without cutting a character. */
static void copy_utf8(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int body_analyze(struct store_body *body, const char *data, size_t len)
{
	struct mime_message *msg;
	struct mime_summary *summary;
	const char *error;
	/* A limit reached (result 0) still gives a usable tree. */
	if (mime_parse(data, len, NULL, &msg, &error) < 0)
		return store_err(body->store, "parsing the message: %s", error);
	int r = mime_cache_encode(msg, &body->mime, &body->mime_len, &error);
	if (r == 1)
		r = mime_summary_get(msg, &summary, &error);
	mime_message_free(&msg);
	if (r != 1)
		return store_err(body->store, "caching the message structure: %s", error);
	body->sent_date = summary->date;
	body->sent_tz = summary->tz;
	copy_utf8(body->from, sizeof(body->from), summary->from_display);
	copy_utf8(body->subject, sizeof(body->subject), summary->subject);
	body->has_attachment = summary->has_attachment;
	mime_summary_free(&summary);
	return 0;
}
