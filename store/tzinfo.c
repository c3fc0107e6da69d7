/* Zone files (TZif, RFC 8536): names, loading, parsing, and the local time
 * type in force at an instant. The footer's TZ string is tzinfo_posix.c's. */
#include "tzinfo_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* RFC 8536 3.2: a UTC offset "SHOULD" be within (-25h, +26h); one outside
 * is no place's time. */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599

/* A limit's number in its error message. */
#define STR_(x) #x
#define STR(x) STR_(x)

/* RFC 8536 3.1: magic, version, 15 reserved bytes, six counts. */
#define HEADER_SIZE 44

struct tzinfo_type {
	int32_t utoff;
	bool isdst;
	uint8_t abbr; /* index into chars */
};

struct tzinfo_trans {
	int64_t at;
	uint8_t type;
};

struct tzinfo {
	size_t ntrans;
	bool has_footer;
	struct tzinfo_posix footer;
	struct tzinfo_type types[TZINFO_TYPES_MAX];
	char chars[TZINFO_CHARS_MAX + 1]; /* a NUL after the last byte */
	struct tzinfo_trans trans[];
};

/* The header's counts, in the file's order. */
struct counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

bool tzinfo_name_valid_n(const char *name, size_t len)
{
	bool start = true;

	if (len == 0 || len > TZINFO_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		if (ch == '/') {
			/* a leading '/', "//" */
			if (start)
				return false;
			start = true;
			continue;
		}
		/* No '.' at all, so no "." or ".." component; no NUL. */
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '+' || ch == '-'))
			return false;
		if (start && ch == '-')
			return false;
		start = false;
	}
	return !start; /* not ending in '/' */
}

bool tzinfo_name_valid(const char *name)
{
	return tzinfo_name_valid_n(name, strnlen(name, TZINFO_NAME_MAX + 1));
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The header at buf[pos]. 0, or -1 with *error_r. */
static int read_header(const uint8_t *buf, size_t len, size_t pos, uint8_t *version_r,
	struct counts *c, const char **error_r)
{
	if (len - pos < HEADER_SIZE) {
		*error_r = pos == 0 && len >= 4 && memcmp(buf, "TZif", 4) != 0 ?
			"not a TZif file" : "TZif: truncated header";
		return -1;
	}
	const uint8_t *h = buf + pos;
	if (memcmp(h, "TZif", 4) != 0) {
		*error_r = pos == 0 ? "not a TZif file" : "TZif: bad second header";
		return -1;
	}
	if (h[4] != 0 && h[4] != '2' && h[4] != '3' && h[4] != '4') {
		*error_r = "TZif: unknown version";
		return -1;
	}
	*version_r = h[4];
	c->isut = be32(h + 20);
	c->isstd = be32(h + 24);
	c->leap = be32(h + 28);
	c->time = be32(h + 32);
	c->type = be32(h + 36);
	c->chars = be32(h + 40);
	/* Counts no larger than the largest file keep the sums in
	 * block_size() far from overflowing. */
	if (c->isut > TZINFO_FILE_MAX || c->isstd > TZINFO_FILE_MAX || c->leap > TZINFO_FILE_MAX ||
	    c->time > TZINFO_FILE_MAX || c->type > TZINFO_FILE_MAX || c->chars > TZINFO_FILE_MAX) {
		*error_r = "TZif: count larger than the file";
		return -1;
	}
	if (c->type == 0 || c->chars == 0) {
		*error_r = "TZif: no local time types or abbreviations";
		return -1;
	}
	if ((c->isut != 0 && c->isut != c->type) || (c->isstd != 0 && c->isstd != c->type)) {
		*error_r = "TZif: indicator count is neither 0 nor the type count";
		return -1;
	}
	return 0;
}

/* The bytes of a data block with `time_size`-byte times. */
static size_t block_size(const struct counts *c, size_t time_size)
{
	return (size_t)c->time * (time_size + 1) + (size_t)c->type * 6 + c->chars +
		(size_t)c->leap * (time_size + 4) + c->isstd + c->isut;
}

/* Fills z from the data block at p (block_size() bytes, checked). */
static int read_block(struct tzinfo *z, const struct counts *c, const uint8_t *p, size_t time_size,
	const char **error_r)
{
	for (size_t i = 0; i < c->time; i++, p += time_size) {
		int64_t at = time_size == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
		if (i > 0 && at <= z->trans[i - 1].at) {
			*error_r = "TZif: transitions not in ascending order";
			return -1;
		}
		z->trans[i].at = at;
	}
	for (size_t i = 0; i < c->time; i++, p++) {
		if (*p >= c->type) {
			*error_r = "TZif: transition type index out of range";
			return -1;
		}
		z->trans[i].type = *p;
	}
	/* The abbreviations follow the types: copy them first. */
	memcpy(z->chars, p + (size_t)c->type * 6, c->chars);
	for (size_t i = 0; i < c->type; i++, p += 6) {
		struct tzinfo_type *ty = &z->types[i];
		ty->utoff = (int32_t)be32(p);
		if (ty->utoff < UTOFF_MIN || ty->utoff > UTOFF_MAX) {
			*error_r = "TZif: UTC offset out of range";
			return -1;
		}
		if (p[4] > 1) {
			*error_r = "TZif: bad isdst flag";
			return -1;
		}
		ty->isdst = p[4] == 1;
		ty->abbr = p[5];
		if (p[5] >= c->chars || memchr(z->chars + p[5], '\0', c->chars - p[5]) == NULL) {
			*error_r = "TZif: abbreviation index outside the abbreviations";
			return -1;
		}
	}
	p += c->chars;
	/* No leap-second records here (refused before); then the indicators,
	 * unused but checked: a UT time is also a standard time. */
	for (size_t i = 0; i < c->isstd; i++) {
		if (p[i] > 1) {
			*error_r = "TZif: bad standard/wall indicator";
			return -1;
		}
	}
	for (size_t i = 0; i < c->isut; i++) {
		if (p[c->isstd + i] > 1 || (p[c->isstd + i] == 1 && (c->isstd == 0 || p[i] != 1))) {
			*error_r = "TZif: bad UT/local indicator";
			return -1;
		}
	}
	return 0;
}

/* The footer at buf[pos]: "\n" TZ string "\n". What may follow is left
 * for future versions (RFC 8536 4). */
static int read_footer(struct tzinfo *z, const uint8_t *buf, size_t len, size_t pos,
	const char **error_r)
{
	if (pos >= len || buf[pos] != '\n') {
		*error_r = "TZif: missing footer";
		return -1;
	}
	pos++;
	size_t room = len - pos < TZINFO_FOOTER_MAX + 1 ? len - pos : TZINFO_FOOTER_MAX + 1;
	const uint8_t *nl = memchr(buf + pos, '\n', room);
	if (nl == NULL) {
		*error_r = room > TZINFO_FOOTER_MAX ? "TZif: footer too long" : "TZif: truncated footer";
		return -1;
	}
	size_t flen = (size_t)(nl - (buf + pos));
	if (flen == 0)
		return 0; /* no rule for after the last transition */
	if (tzinfo_posix_parse((const char *)buf + pos, flen, &z->footer, error_r) < 0)
		return -1;
	z->has_footer = true;
	return 0;
}

int tzinfo_parse(const uint8_t *buf, size_t len, struct tzinfo **z_r, const char **error_r)
{
	struct counts c;
	uint8_t version, version2;
	size_t pos = HEADER_SIZE, time_size = 4;

	if (len > TZINFO_FILE_MAX) {
		*error_r = "TZif: file larger than " STR(TZINFO_FILE_MAX) " bytes";
		return -1;
	}
	if (read_header(buf, len, 0, &version, &c, error_r) < 0)
		return -1;
	if (block_size(&c, 4) > len - pos) {
		*error_r = "TZif: truncated data";
		return -1;
	}
	/* Version 2 and later repeat header and data with 64-bit times; the
	 * first block is only skipped. */
	if (version != 0) {
		pos += block_size(&c, 4);
		if (read_header(buf, len, pos, &version2, &c, error_r) < 0)
			return -1;
		if (version2 != version) {
			*error_r = "TZif: the two headers' versions differ";
			return -1;
		}
		pos += HEADER_SIZE;
		time_size = 8;
		if (block_size(&c, 8) > len - pos) {
			*error_r = "TZif: truncated data";
			return -1;
		}
	}
	if (c.time > TZINFO_TRANSITIONS_MAX) {
		*error_r = "TZif: more than " STR(TZINFO_TRANSITIONS_MAX) " transitions";
		return -1;
	}
	if (c.type > TZINFO_TYPES_MAX) {
		*error_r = "TZif: more than " STR(TZINFO_TYPES_MAX) " local time types";
		return -1;
	}
	if (c.chars > TZINFO_CHARS_MAX) {
		*error_r = "TZif: more than " STR(TZINFO_CHARS_MAX) " bytes of abbreviations";
		return -1;
	}
	if (c.leap != 0) {
		*error_r = "TZif: leap-second zones are not supported";
		return -1;
	}

	struct tzinfo *z = calloc(1, sizeof(*z) + (size_t)c.time * sizeof(z->trans[0]));
	if (z == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	z->ntrans = c.time;
	if (read_block(z, &c, buf + pos, time_size, error_r) < 0 ||
	    (version != 0 && read_footer(z, buf, len, pos + block_size(&c, time_size), error_r) < 0)) {
		free(z);
		return -1;
	}
	*z_r = z;
	return 0;
}

/* Reads at most TZINFO_FILE_MAX bytes of fd into buf (one byte more
 * there tells a file too large). -1 on a read error. */
static ssize_t read_all(int fd, uint8_t *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

struct tzinfo *tzinfo_load(const char *dir, const char *name, const char **error_r)
{
	char path[PATH_MAX];
	struct stat st;
	struct tzinfo *z = NULL;

	if (dir == NULL)
		dir = TZINFO_DIR;
	if (!tzinfo_name_valid(name)) {
		*error_r = "invalid time zone name";
		return NULL;
	}
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		*error_r = "time zone path too long";
		return NULL;
	}
	/* O_NONBLOCK: a FIFO put there must not hang the caller. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*error_r = errno == ENOENT || errno == ENOTDIR ? "unknown time zone" :
			"cannot open the time zone file";
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		/* "Europe" is a directory, not a zone. */
		*error_r = "unknown time zone";
		close(fd);
		return NULL;
	}
	uint8_t *buf = malloc(TZINFO_FILE_MAX + 1);
	if (buf == NULL) {
		*error_r = "out of memory";
		close(fd);
		return NULL;
	}
	ssize_t len = read_all(fd, buf, TZINFO_FILE_MAX + 1);
	close(fd);
	if (len < 0)
		*error_r = "cannot read the time zone file";
	else if (len > TZINFO_FILE_MAX)
		*error_r = "TZif: file larger than " STR(TZINFO_FILE_MAX) " bytes";
	else if (tzinfo_parse(buf, (size_t)len, &z, error_r) < 0)
		z = NULL;
	free(buf);
	return z;
}

void tzinfo_free(struct tzinfo **_z)
{
	free(*_z);
	*_z = NULL;
}

/* RFC 8536 3.2: type 0 before the first transition; the footer from the
 * last one on, or always when there are none; without a footer the last
 * type stays. */
static void local_at(const struct tzinfo *z, int64_t t, int32_t *off_r, bool *dst_r,
	const char **abbr_r)
{
	size_t n = z->ntrans;
	const struct tzinfo_type *ty;

	if (n > 0 && t < z->trans[0].at) {
		ty = &z->types[0];
	} else if (n == 0 || t >= z->trans[n - 1].at) {
		if (z->has_footer) {
			tzinfo_posix_local(&z->footer, t, off_r, dst_r, abbr_r);
			return;
		}
		ty = &z->types[n == 0 ? 0 : z->trans[n - 1].type];
	} else {
		/* trans[lo].at <= t < trans[hi].at */
		size_t lo = 0, hi = n - 1;
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;
			if (z->trans[mid].at <= t)
				lo = mid;
			else
				hi = mid;
		}
		ty = &z->types[z->trans[lo].type];
	}
	*off_r = ty->utoff;
	*dst_r = ty->isdst;
	*abbr_r = z->chars + ty->abbr;
}

int tzinfo_offset(const struct tzinfo *z, int64_t t, bool *dst_r)
{
	int32_t off;
	bool dst;
	const char *abbr;

	local_at(z, t, &off, &dst, &abbr);
	if (dst_r != NULL)
		*dst_r = dst;
	return off;
}

const char *tzinfo_abbr(const struct tzinfo *z, int64_t t)
{
	int32_t off;
	bool dst;
	const char *abbr;

	local_at(z, t, &off, &dst, &abbr);
	return abbr;
}
