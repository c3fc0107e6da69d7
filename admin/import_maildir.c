/* Reading a Maildir++ tree (Dovecot's and Courier's layout) for import.
 *
 * Layout: DIR/{cur,new,tmp} is INBOX; DIR/.Sub.Folder/{cur,new,tmp} is the
 * folder "Sub/Folder", each level's name in modified UTF-7. A message file
 * is named "BASE:2,INFO": INFO's capitals are flags (D draft, F flagged,
 * P passed = $Forwarded, R replied, S seen, T trashed = \Deleted) and its
 * small letters a-z are the keywords numbered 0-25 in the folder's
 * dovecot-keywords file. BASE may carry ",S=<file size>" and ",W=<size with
 * CRLF line ends>" (checked here), and starts with the delivery time.
 * dovecot-uidlist (or Courier's courierimapuiddb) gives the UID order, kept
 * on import so clients see the old order. tmp/ is never read.
 *
 * Every file is opened with O_NOFOLLOW relative to its directory, and only
 * regular files are read. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap_utf7.h"
#include "import.h"

/* dovecot-uidlist and dovecot-keywords files are read whole up to this. */
#define MAILDIR_INDEX_FILE_MAX ((size_t)256 << 20)
/* Keyword letters a-z. */
#define MAILDIR_KEYWORD_LETTERS 26
/* Folders deeper or more numerous than the store accepts are refused there;
 * this only bounds the scan. */
#define MAILDIR_FOLDERS_MAX (STORE_MAILBOXES_MAX * 4)

/* ------------------------------------------------------------- file names */

static uint64_t name_number(const char *s, size_t len)
{
	uint64_t n = 0;

	for (size_t i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (n > (UINT64_MAX - 9) / 10)
			return 0;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	return n;
}

bool import_maildir_name_parse(const char *name, struct import_maildir_name *out)
{
	const char *info = NULL;
	size_t len = strlen(name);

	memset(out, 0, sizeof(*out));
	/* The info starts at the last ":2," (or "!2,", used where ':' cannot
	 * be in a file name). */
	for (size_t i = len; i-- > 0;) {
		if ((name[i] == ':' || name[i] == '!') && i + 2 < len && name[i + 1] == '2' &&
		    name[i + 2] == ',') {
			info = name + i + 3;
			out->base_len = i;
			break;
		}
		if (name[i] == ':') {
			out->base_len = i; /* ":1," or unknown: no flags */
			break;
		}
	}
	if (info == NULL && out->base_len == 0)
		out->base_len = len;
	if (out->base_len == 0)
		return false;
	for (const char *f = info; f != NULL && *f != '\0'; f++) {
		switch (*f) {
		case 'D': out->flags |= STORE_FLAG_DRAFT; break;
		case 'F': out->flags |= STORE_FLAG_FLAGGED; break;
		case 'P': out->flags |= STORE_FLAG_FORWARDED; break;
		case 'R': out->flags |= STORE_FLAG_ANSWERED; break;
		case 'S': out->flags |= STORE_FLAG_SEEN; break;
		case 'T': out->flags |= STORE_FLAG_DELETED; break;
		default:
			if (*f >= 'a' && *f <= 'z')
				out->keyword_mask |= 1u << (*f - 'a');
			break;
		}
	}
	/* ",S=" and ",W=" fields of the base; the leading time stamp. */
	for (size_t i = 0; i + 3 < out->base_len; i++) {
		if (name[i] == ',' && name[i + 2] == '=' && (name[i + 1] == 'S' || name[i + 1] == 'W')) {
			uint64_t v = name_number(name + i + 3, out->base_len - i - 3);

			if (name[i + 1] == 'S')
				out->size_s = v;
			else
				out->size_w = v;
		}
	}
	out->stamp = (int64_t)name_number(name, out->base_len);
	return true;
}

/* ----------------------------------------------------------- index files */

/* Reads a small file of the folder whole (NUL-terminated); NULL if absent. */
static char *file_slurp(int dirfd, const char *name, size_t *len_r)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAILDIR_INDEX_FILE_MAX)
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len_r = got;
out:
	close(fd);
	return buf;
}

struct uid_entry {
	const char *base;   /* points into the uidlist text */
	size_t base_len;
	uint32_t uid;
};

struct uidlist {
	char *text;
	struct uid_entry *entries;
	size_t n;
};

static int uid_entry_cmp(const void *a, const void *b)
{
	const struct uid_entry *x = a, *y = b;
	size_t n = x->base_len < y->base_len ? x->base_len : y->base_len;
	int c = memcmp(x->base, y->base, n);

	if (c != 0)
		return c;
	return x->base_len < y->base_len ? -1 : x->base_len > y->base_len;
}

/* dovecot-uidlist: version 3 "3 V<uidvalidity> N<next> ..." then
 * "<uid> [fields...] :<base>"; version 1 (and courierimapuiddb) "1 ..." then
 * "<uid> <base>". */
static void uidlist_load(int dirfd, struct uidlist *list)
{
	size_t len = 0, cap = 0;
	char *line, *next;

	memset(list, 0, sizeof(*list));
	list->text = file_slurp(dirfd, "dovecot-uidlist", &len);
	if (list->text == NULL)
		list->text = file_slurp(dirfd, "courierimapuiddb", &len);
	if (list->text == NULL)
		return;
	line = strchr(list->text, '\n'); /* the header line */
	for (line = line != NULL ? line + 1 : NULL; line != NULL && *line != '\0'; line = next) {
		char *end = strchr(line, '\n'), *name, *colon;
		uint64_t uid;

		next = end != NULL ? end + 1 : NULL;
		if (end != NULL)
			*end = '\0';
		if (!isdigit((unsigned char)*line))
			continue;
		uid = name_number(line, strlen(line));
		if (uid == 0 || uid > UINT32_MAX)
			continue;
		colon = strstr(line, " :");
		if (colon != NULL) {
			name = colon + 2;
		} else {
			name = strchr(line, ' ');
			if (name == NULL)
				continue;
			name++;
		}
		if (*name == '\0')
			continue;
		if (list->n == cap) {
			size_t ncap = cap == 0 ? 256 : cap * 2;
			struct uid_entry *grown = reallocarray(list->entries, ncap, sizeof(*grown));

			if (grown == NULL)
				break; /* order is a nicety: go on with what we have */
			list->entries = grown;
			cap = ncap;
		}
		/* The base ends before any ":2,..." a v1 list may keep. */
		list->entries[list->n].base = name;
		list->entries[list->n].base_len = strcspn(name, ":");
		list->entries[list->n].uid = (uint32_t)uid;
		list->n++;
	}
	if (list->n > 1)
		qsort(list->entries, list->n, sizeof(*list->entries), uid_entry_cmp);
}

static uint32_t uidlist_find(const struct uidlist *list, const char *base, size_t len)
{
	struct uid_entry key = { base, len, 0 }, *e;

	if (list->n == 0)
		return 0;
	e = bsearch(&key, list->entries, list->n, sizeof(*list->entries), uid_entry_cmp);
	return e != NULL ? e->uid : 0;
}

static void uidlist_free(struct uidlist *list)
{
	free(list->entries);
	free(list->text);
	memset(list, 0, sizeof(*list));
}

/* dovecot-keywords: "<id> <name>" lines, id 0-25 = letters a-z. */
static void keywords_load(int dirfd, char names[MAILDIR_KEYWORD_LETTERS][STORE_KEYWORD_MAX + 1])
{
	size_t len = 0;
	char *text = file_slurp(dirfd, "dovecot-keywords", &len), *line, *next;

	memset(names, 0, MAILDIR_KEYWORD_LETTERS * (STORE_KEYWORD_MAX + 1));
	if (text == NULL)
		return;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		char *end = strchr(line, '\n'), *sp;
		uint64_t id;

		next = end != NULL ? end + 1 : NULL;
		if (end != NULL)
			*end = '\0';
		sp = strchr(line, ' ');
		if (sp == NULL || !isdigit((unsigned char)*line))
			continue;
		id = name_number(line, (size_t)(sp - line));
		if (id < MAILDIR_KEYWORD_LETTERS && strlen(sp + 1) <= STORE_KEYWORD_MAX)
			snprintf(names[id], STORE_KEYWORD_MAX + 1, "%s", sp + 1);
	}
	free(text);
}

/* ---------------------------------------------------------------- folders */

struct maildir_file {
	char *name;
	bool in_new;
	uint32_t uid;       /* from the uidlist, 0 if not listed */
	int64_t stamp;
};

struct maildir_folder {
	char *dirname;      /* "" for INBOX, else ".Sub.Folder" */
	char name[STORE_MAILBOX_NAME_MAX + 1];
	struct maildir_file *files;
	size_t nfiles;
};

static int file_cmp(const void *a, const void *b)
{
	const struct maildir_file *x = a, *y = b;

	/* Listed files in UID order first, then the rest by time stamp. */
	if ((x->uid == 0) != (y->uid == 0))
		return x->uid == 0 ? 1 : -1;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	if (x->stamp != y->stamp)
		return x->stamp < y->stamp ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int folder_cmp(const void *a, const void *b)
{
	const struct maildir_folder *x = a, *y = b;

	if ((x->dirname[0] == '\0') != (y->dirname[0] == '\0'))
		return x->dirname[0] == '\0' ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* ".Sub.F&AOQ-lder" -> "Sub/Földer". 0 or -1 (not a usable name). */
static int folder_name_decode(const char *dirname, char out[STORE_MAILBOX_NAME_MAX + 1])
{
	const char *p = dirname + 1;
	size_t o = 0;

	for (;;) {
		size_t n = strcspn(p, ".");
		int d;

		if (n == 0)
			return -1; /* empty level */
		if (o > 0) {
			if (o + 1 >= STORE_MAILBOX_NAME_MAX + 1)
				return -1;
			out[o++] = '/';
		}
		d = imap_utf7_to_utf8(p, n, out + o, STORE_MAILBOX_NAME_MAX + 1 - o);
		if (d < 0 || memchr(out + o, '/', (size_t)d) != NULL)
			return -1;
		o += (size_t)d;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	out[o] = '\0';
	return store_mailbox_name_valid(out) ? 0 : -1;
}

/* Lists cur/ and new/ of one folder directory into folder->files. */
static int folder_scan(int folderfd, struct maildir_folder *folder, const struct import_sink *sink)
{
	static const char *const subs[] = { "cur", "new" };
	struct uidlist uids;
	size_t cap = 0;
	int r = 0;

	uidlist_load(folderfd, &uids);
	for (size_t s = 0; s < 2 && r == 0; s++) {
		int fd = openat(folderfd, subs[s], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct dirent *e;
		DIR *d;

		if (fd < 0)
			continue;
		d = fdopendir(fd);
		if (d == NULL) {
			close(fd);
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			struct import_maildir_name parsed;
			struct maildir_file *f;

			if (e->d_name[0] == '.')
				continue;
			if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
				continue;
			if (!import_maildir_name_parse(e->d_name, &parsed))
				continue;
			if (folder->nfiles == cap) {
				size_t ncap = cap == 0 ? 64 : cap * 2;
				struct maildir_file *grown =
					reallocarray(folder->files, ncap, sizeof(*grown));

				if (grown == NULL) {
					r = import_note(sink, IMPORT_NOTE_FATAL, "out of memory");
					break;
				}
				folder->files = grown;
				cap = ncap;
			}
			f = &folder->files[folder->nfiles];
			f->name = strdup(e->d_name);
			if (f->name == NULL) {
				r = import_note(sink, IMPORT_NOTE_FATAL, "out of memory");
				break;
			}
			f->in_new = s == 1;
			f->uid = uidlist_find(&uids, e->d_name, parsed.base_len);
			f->stamp = parsed.stamp;
			folder->nfiles++;
		}
		closedir(d);
	}
	uidlist_free(&uids);
	if (r == 0 && folder->nfiles > 1)
		qsort(folder->files, folder->nfiles, sizeof(*folder->files), file_cmp);
	return r == 0 ? 0 : -1;
}

static bool dir_has_maildir(int dirfd)
{
	struct stat st;

	return (fstatat(dirfd, "cur", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) ||
	       (fstatat(dirfd, "new", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
}

/* --------------------------------------------------------------- messages */

struct maildir_reader {
	const struct import_sink *sink;
	uint64_t max_size;
	char *buf;
	size_t cap;
	uint64_t done;
};

/* Bytes the message has once every line end is CRLF (what W= counts). */
static uint64_t crlf_size(const char *p, size_t len)
{
	uint64_t n = len;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			n++;
		else if (p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n'))
			n++;
	}
	return n;
}

static int message_read(struct maildir_reader *rd, int subfd, const char *folder_dir,
			const struct maildir_file *f,
			char keywords[MAILDIR_KEYWORD_LETTERS][STORE_KEYWORD_MAX + 1])
{
	const struct import_sink *sink = rd->sink;
	char source[IMPORT_SOURCE_MAX];
	struct import_maildir_name parsed;
	struct import_msg msg;
	struct stat st;
	size_t got = 0;
	int fd, r = 0;

	snprintf(source, sizeof(source), "%s%s%s/%s", folder_dir, folder_dir[0] != '\0' ? "/" : "",
		 f->in_new ? "new" : "cur", f->name);
	fd = openat(subfd, f->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return import_note(sink, IMPORT_NOTE_SKIP, "%s: %s%s", source, strerror(errno),
				   errno == ENOENT ? " (renamed: is a mail server still using "
				   "this Maildir?)" : "");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return import_note(sink, IMPORT_NOTE_SKIP, "%s: not a regular file", source);
	}
	if ((uint64_t)st.st_size > rd->max_size) {
		close(fd);
		return import_note(sink, IMPORT_NOTE_SKIP, "%s: %lld bytes, more than "
				   "max_message_size", source, (long long)st.st_size);
	}
	if ((size_t)st.st_size + 1 > rd->cap) {
		char *grown = realloc(rd->buf, (size_t)st.st_size + 1);

		if (grown == NULL) {
			close(fd);
			return import_note(sink, IMPORT_NOTE_FATAL, "out of memory");
		}
		rd->buf = grown;
		rd->cap = (size_t)st.st_size + 1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, rd->buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = import_note(sink, IMPORT_NOTE_SKIP, "%s: %s", source, strerror(errno));
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size)
		return import_note(sink, IMPORT_NOTE_SKIP, "%s: changed while being read", source);

	import_maildir_name_parse(f->name, &parsed);
	if (parsed.size_s != 0 && parsed.size_s != got)
		r = import_note(sink, IMPORT_NOTE_INFO, "%s: the name says S=%llu but the file "
				"has %zu bytes (imported as it is)", source,
				(unsigned long long)parsed.size_s, got);
	if (r == 0 && parsed.size_w != 0 && parsed.size_w != crlf_size(rd->buf, got))
		r = import_note(sink, IMPORT_NOTE_INFO, "%s: the name says W=%llu but the "
				"message has %llu bytes with CRLF line ends (imported as it is)",
				source, (unsigned long long)parsed.size_w,
				(unsigned long long)crlf_size(rd->buf, got));
	if (r != 0)
		return r;

	memset(&msg, 0, sizeof(msg));
	msg.flags = parsed.flags;
	/* Dovecot keeps the received date as the file's mtime; the name's
	 * time stamp is the delivery time when the mtime is lost. */
	msg.date = st.st_mtime > 0 ? (int64_t)st.st_mtime : parsed.stamp;
	msg.tz = 0;
	for (unsigned k = 0; k < MAILDIR_KEYWORD_LETTERS; k++) {
		if (!(parsed.keyword_mask & (1u << k)))
			continue;
		if (keywords[k][0] == '\0') {
			r = import_note(sink, IMPORT_NOTE_INFO, "%s: keyword letter '%c' has no name "
					"in dovecot-keywords: dropped", source, 'a' + k);
			if (r != 0)
				return r;
			continue;
		}
		if (msg.nkeywords < IMPORT_KEYWORDS_MAX)
			msg.keywords[msg.nkeywords++] = keywords[k];
	}
	msg.data = rd->buf;
	msg.len = got;
	msg.source = source;
	msg.done = rd->done;
	return sink->message(sink->ctx, &msg);
}

static int folder_import(struct maildir_reader *rd, int rootfd, const struct maildir_folder *folder)
{
	char keywords[MAILDIR_KEYWORD_LETTERS][STORE_KEYWORD_MAX + 1];
	int folderfd, curfd, newfd, r;

	if (folder->dirname[0] == '\0')
		folderfd = dup(rootfd);
	else
		folderfd = openat(rootfd, folder->dirname,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (folderfd < 0) {
		rd->done += folder->nfiles;
		return import_note(rd->sink, IMPORT_NOTE_SKIP, "%s: %s (%zu messages not imported)",
				   folder->dirname, strerror(errno), folder->nfiles);
	}
	r = rd->sink->folder(rd->sink->ctx, folder->name);
	if (r != 0) {
		close(folderfd);
		return r;
	}
	keywords_load(folderfd, keywords);
	curfd = openat(folderfd, "cur", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	newfd = openat(folderfd, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (size_t i = 0; i < folder->nfiles && r == 0; i++) {
		const struct maildir_file *f = &folder->files[i];

		rd->done++;
		r = message_read(rd, f->in_new ? newfd : curfd, folder->dirname, f, keywords);
	}
	if (curfd >= 0)
		close(curfd);
	if (newfd >= 0)
		close(newfd);
	close(folderfd);
	return r;
}

static void folders_free(struct maildir_folder *folders, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < folders[i].nfiles; j++)
			free(folders[i].files[j].name);
		free(folders[i].files);
		free(folders[i].dirname);
	}
	free(folders);
}

/* Finds INBOX and the ".Folder" directories. */
static int folders_find(int rootfd, const struct import_sink *sink,
			struct maildir_folder **folders_r, size_t *n_r)
{
	struct maildir_folder *folders = calloc(1, sizeof(*folders));
	size_t n = 1, cap = 1;
	int dupfd, r = 0;
	struct dirent *e;
	DIR *d;

	if (folders == NULL)
		return import_note(sink, IMPORT_NOTE_FATAL, "out of memory");
	folders[0].dirname = strdup("");
	snprintf(folders[0].name, sizeof(folders[0].name), "INBOX");
	*folders_r = folders;
	*n_r = 1;
	if (folders[0].dirname == NULL)
		return import_note(sink, IMPORT_NOTE_FATAL, "out of memory");
	dupfd = dup(rootfd);
	d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	if (d == NULL) {
		if (dupfd >= 0)
			close(dupfd);
		return import_note(sink, IMPORT_NOTE_FATAL, "reading the Maildir: %s",
				   strerror(errno));
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		char name[STORE_MAILBOX_NAME_MAX + 1];
		int fd;

		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		fd = openat(rootfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* a file, a link, or unreadable: not a folder */
		if (!dir_has_maildir(fd)) {
			close(fd);
			continue;
		}
		close(fd);
		if (folder_name_decode(e->d_name, name) < 0) {
			r = import_note(sink, IMPORT_NOTE_SKIP, "%s: not a folder name this store "
					"can hold (modified UTF-7 levels, at most %d levels and %d "
					"bytes): folder not imported", e->d_name,
					STORE_MAILBOX_DEPTH_MAX, STORE_MAILBOX_NAME_MAX);
			continue;
		}
		if (n == MAILDIR_FOLDERS_MAX) {
			r = import_note(sink, IMPORT_NOTE_FATAL, "more than %d folders",
					MAILDIR_FOLDERS_MAX);
			break;
		}
		if (n == cap) {
			struct maildir_folder *grown = reallocarray(folders, cap * 2, sizeof(*grown));

			if (grown == NULL) {
				r = import_note(sink, IMPORT_NOTE_FATAL, "out of memory");
				break;
			}
			folders = grown;
			*folders_r = folders;
			cap *= 2;
		}
		memset(&folders[n], 0, sizeof(folders[n]));
		folders[n].dirname = strdup(e->d_name);
		memcpy(folders[n].name, name, sizeof(name));
		if (folders[n].dirname == NULL) {
			r = import_note(sink, IMPORT_NOTE_FATAL, "out of memory");
			break;
		}
		*n_r = ++n;
	}
	closedir(d);
	if (r == 0 && n > 1)
		qsort(folders, n, sizeof(*folders), folder_cmp);
	return r == 0 ? 0 : -1;
}

int import_maildir_read(int rootfd, uint64_t max_size, const struct import_sink *sink)
{
	struct maildir_reader rd = { sink, max_size, NULL, 0, 0 };
	struct maildir_folder *folders = NULL;
	struct stat st;
	uint64_t total = 0;
	size_t n = 0;
	int r;

	if (!dir_has_maildir(rootfd)) {
		import_note(sink, IMPORT_NOTE_FATAL, "not a Maildir (no cur/ or new/ directory)");
		return -1;
	}
	if (fstatat(rootfd, "courierimapkeywords", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    import_note(sink, IMPORT_NOTE_INFO, "Courier's keywords (courierimapkeywords/) are "
			"not imported; flags are") != 0)
		return -1;
	r = folders_find(rootfd, sink, &folders, &n);
	for (size_t i = 0; i < n && r == 0; i++) {
		int fd = folders[i].dirname[0] == '\0'
			? dup(rootfd)
			: openat(rootfd, folders[i].dirname,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0)
			continue; /* reported when importing it */
		r = folder_scan(fd, &folders[i], sink);
		close(fd);
		total += folders[i].nfiles;
	}
	if (r == 0)
		r = sink->total(sink->ctx, total, IMPORT_UNIT_MESSAGES);
	for (size_t i = 0; i < n && r == 0; i++)
		r = folder_import(&rd, rootfd, &folders[i]);
	folders_free(folders, n);
	free(rd.buf);
	return r == 0 ? 0 : -1;
}
