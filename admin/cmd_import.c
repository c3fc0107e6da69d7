/* pillarbox import maildir USER DIR | import mbox USER FOLDER FILE
 *
 * Before the switch to the store user, a reader process is started with the
 * rights of the source's owner (import.h); the store process receives its
 * records and appends the messages.
 *
 * Re-running an import adds nothing: for each target folder, the messages it
 * already holds are read once per run and each one's digest (FNV-1a 64 of
 * its bytes with CRLF line ends, trailing line ends ignored, plus that
 * length) goes into a table. A message to import whose digest and length
 * match an unused entry is compared byte for byte with that stored message;
 * if equal, it is a duplicate and the entry is used up. So the folder ends
 * with as many copies of each message as the source has (two identical
 * messages in the source give two copies, once), a digest collision costs
 * one extra read and never a lost message, and no state is kept between
 * runs. Flags of messages already there are left as they are. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "import.h"
#include "process.h"
#include "progress.h"

/* Stored messages listed per store call when reading a folder. */
#define IMPORT_BATCH 256
/* What a flag argument from the source may set. */
#define IMPORT_FLAGS_KNOWN (STORE_FLAG_SEEN | STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | \
	STORE_FLAG_DELETED | STORE_FLAG_DRAFT | STORE_FLAG_FORWARDED | STORE_FLAG_JUNK | \
	STORE_FLAG_NOTJUNK)

/* ------------------------------------------------------ the stored messages */

struct stored_batch {
	struct store_msg msgs[IMPORT_BATCH];
	size_t n;
};

static int stored_collect(const struct store_msg *msg, void *ctx)
{
	struct stored_batch *b = ctx;

	b->msgs[b->n++] = *msg;
	return b->n == IMPORT_BATCH ? 1 : 0;
}

int import_stored_each(struct store *store, uint32_t mailbox_id,
		       int (*cb)(const struct store_msg *msg, void *ctx), void *ctx,
		       const char **error_r)
{
	struct stored_batch *b = malloc(sizeof(*b));
	uint32_t lo = 1;
	int r = 0;

	if (b == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	for (;;) {
		b->n = 0;
		if (store_msg_list(store, mailbox_id, lo, UINT32_MAX, stored_collect, b, error_r) < 0) {
			r = -1;
			break;
		}
		for (size_t i = 0; i < b->n && r == 0; i++)
			r = cb(&b->msgs[i], ctx);
		if (r != 0 || b->n < IMPORT_BATCH || b->msgs[b->n - 1].uid == UINT32_MAX)
			break;
		lo = b->msgs[b->n - 1].uid + 1;
	}
	free(b);
	return r;
}

int import_stored_read(struct store *store, const struct store_msg *msg, char **buf, size_t *cap,
		       size_t *len_r, const char **error_r)
{
	struct store_msg_reader *reader = NULL;
	uint64_t size, off = 0;

	if (store_msg_open(store, msg, &reader, error_r) < 0)
		return 0; /* expunged meanwhile, or unreadable: not a match */
	size = store_msg_reader_size(reader);
	if (size + 1 > *cap) {
		char *grown = size + 1 <= SIZE_MAX ? realloc(*buf, (size_t)size + 1) : NULL;

		if (grown == NULL) {
			store_msg_close(&reader);
			*error_r = "out of memory";
			return -1;
		}
		*buf = grown;
		*cap = (size_t)size + 1;
	}
	while (off < size) {
		ssize_t n = store_msg_read(reader, off, *buf + off, (size_t)(size - off));

		if (n < 0) {
			store_msg_close(&reader);
			*error_r = "reading a stored message failed";
			return -1;
		}
		if (n == 0)
			break;
		off += (uint64_t)n;
	}
	store_msg_close(&reader);
	*len_r = (size_t)off;
	return 1;
}

uint32_t import_keyword_flag(const char *name)
{
	if (strcasecmp(name, "$Forwarded") == 0)
		return STORE_FLAG_FORWARDED;
	if (strcasecmp(name, "$Junk") == 0)
		return STORE_FLAG_JUNK;
	if (strcasecmp(name, "$NotJunk") == 0)
		return STORE_FLAG_NOTJUNK;
	return 0;
}

/* ------------------------------------------------------------------ digest */

struct dedupe_entry {
	uint64_t hash;
	uint64_t len;        /* without trailing line ends */
	uint32_t uid;
	bool used;
};

/* Length without the trailing CR and LF bytes. */
static size_t trimmed_len(const char *p, size_t len)
{
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	return len;
}

static uint64_t digest(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int dedupe_cmp(const void *a, const void *b)
{
	const struct dedupe_entry *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* ---------------------------------------------------------------- importer */

struct importer {
	struct admin *admin;
	struct store_user user;
	bool box_ok;
	struct store_mailbox box;
	struct dedupe_entry *seen;
	size_t nseen, seen_cap;
	char *canon, *other;          /* the message to import; a stored one */
	size_t canon_cap, other_cap;
	uint64_t imported, duplicates, skipped, notes, folders_created;
	int code;                     /* non-zero: stop with this */
	struct progress progress;
};

static void importer_say(struct importer *im, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void importer_say(struct importer *im, const char *fmt, ...)
{
	char text[IMPORT_NOTE_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	progress_clear(&im->progress);
	admin_say("%s", text);
}

/* Stops the import with `code` after saying why. Returns 1 (stop). */
static int importer_stop(struct importer *im, int code, const char *what, const char *error)
{
	importer_say(im, "import: %s: %s", what, error != NULL ? error : "failed");
	if (im->code == 0)
		im->code = code;
	return 1;
}

static int seen_add(const struct store_msg *msg, void *ctx)
{
	struct importer *im = ctx;
	const char *error = NULL;
	size_t len = 0;
	int r;

	admin_watchdog_resume(im->admin);
	r = import_stored_read(im->admin->store, msg, &im->other, &im->other_cap, &len, &error);
	if (r < 0)
		return importer_stop(im, ADMIN_EXIT_TEMPFAIL, "reading the folder", error);
	if (r == 0)
		return 0;
	if (im->nseen == im->seen_cap) {
		size_t cap = im->seen_cap == 0 ? 1024 : im->seen_cap * 2;
		struct dedupe_entry *grown = reallocarray(im->seen, cap, sizeof(*grown));

		if (grown == NULL)
			return importer_stop(im, ADMIN_EXIT_TEMPFAIL, "reading the folder",
					     "out of memory");
		im->seen = grown;
		im->seen_cap = cap;
	}
	len = trimmed_len(im->other, len);
	im->seen[im->nseen].hash = digest(im->other, len);
	im->seen[im->nseen].len = len;
	im->seen[im->nseen].uid = msg->uid;
	im->seen[im->nseen].used = false;
	im->nseen++;
	return 0;
}

static int importer_folder(void *ctx, const char *name)
{
	struct importer *im = ctx;
	struct store *store = im->admin->store;
	const char *error = NULL;
	uint32_t id;
	int r;

	im->box_ok = false;
	im->nseen = 0;
	admin_watchdog_resume(im->admin);
	if (!store_mailbox_name_valid(name)) {
		im->notes++;
		importer_say(im, "import: skipped: folder %s: not a valid folder name",
			     admin_arg(name));
		return 0;
	}
	r = store_mailbox_find(store, im->user.id, name, &im->box, &error);
	if (r == 0) {
		r = store_mailbox_create(store, im->user.id, name, STORE_SPECIAL_NONE, &id, &error);
		if (r == 0) {
			im->notes++;
			importer_say(im, "import: skipped: folder %s: %s", admin_arg(name),
				     error != NULL ? error : "cannot be created");
			return 0;
		}
		if (r > 0) {
			im->folders_created++;
			/* Subscribed, as the user had it where it came from:
			 * the webmail and Thunderbird show subscribed folders
			 * only, and a migrated folder must not seem lost. */
			r = store_mailbox_subscribe(store, im->user.id, name, true, &error);
			if (r >= 0)
				r = store_mailbox_get(store, id, &im->box, &error);
		}
	}
	if (r < 0)
		return importer_stop(im, ADMIN_EXIT_TEMPFAIL, admin_arg(name), error);
	if (r == 0)
		return importer_stop(im, ADMIN_EXIT_TEMPFAIL, admin_arg(name), "vanished");
	if (import_stored_each(store, im->box.id, seen_add, im, &error) < 0)
		return importer_stop(im, ADMIN_EXIT_TEMPFAIL, admin_arg(name), error);
	if (im->code != 0)
		return 1;
	if (im->nseen > 1)
		qsort(im->seen, im->nseen, sizeof(*im->seen), dedupe_cmp);
	im->box_ok = true;
	return 0;
}

/* The message in im->canon with CRLF line ends (as the store keeps it).
 * Returns the length, or -1 for a NUL byte (not mail; deliver refuses it
 * too). */
static ssize_t importer_canon(struct importer *im, const char *p, size_t len)
{
	size_t need = len, o = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0')
			return -1;
		if ((p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) ||
		    (p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n')))
			need++;
	}
	if (need + 1 > im->canon_cap) {
		char *grown = realloc(im->canon, need + 1);

		if (grown == NULL)
			return -2;
		im->canon = grown;
		im->canon_cap = need + 1;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) {
			im->canon[o++] = '\r';
			im->canon[o++] = '\n';
		} else if (p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n')) {
			im->canon[o++] = '\r';
			im->canon[o++] = '\n';
		} else {
			im->canon[o++] = p[i];
		}
	}
	return (ssize_t)o;
}

/* 1 if the folder already holds this message (an unused copy), 0 if not. */
static int importer_is_duplicate(struct importer *im, size_t len)
{
	struct dedupe_entry key = { digest(im->canon, len), len, 0, false };
	size_t lo = 0, hi = im->nseen;

	/* The first entry with this hash and length. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dedupe_cmp(&im->seen[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < im->nseen && im->seen[i].hash == key.hash &&
	     im->seen[i].len == key.len; i++) {
		struct store_msg msg;
		const char *error = NULL;
		size_t got = 0;

		if (im->seen[i].used)
			continue;
		if (store_msg_get(im->admin->store, im->box.id, im->seen[i].uid, &msg, &error) <= 0)
			continue;
		if (import_stored_read(im->admin->store, &msg, &im->other, &im->other_cap, &got,
				       &error) <= 0)
			continue;
		if (trimmed_len(im->other, got) == len && memcmp(im->other, im->canon, len) == 0) {
			im->seen[i].used = true;
			return 1;
		}
	}
	return 0;
}

static int importer_append(struct importer *im, const struct import_msg *msg, size_t len)
{
	struct store *store = im->admin->store;
	const char *keywords[IMPORT_KEYWORDS_MAX], *error = NULL;
	struct store_body *body = NULL;
	uint32_t flags = msg->flags & IMPORT_FLAGS_KNOWN, uid;
	size_t nkeywords = 0;
	int r;

	for (size_t i = 0; i < msg->nkeywords; i++) {
		uint32_t flag = import_keyword_flag(msg->keywords[i]);
		bool again = false;

		if (flag != 0) {
			flags |= flag;
			continue;
		}
		for (size_t j = 0; j < nkeywords; j++)
			again = again || strcasecmp(keywords[j], msg->keywords[i]) == 0;
		if (!again)
			keywords[nkeywords++] = msg->keywords[i];
	}
	r = store_body_from_buffer(store, im->canon, len, &body, &error);
	if (r == 0) {
		im->skipped++;
		importer_say(im, "import: skipped: %s: larger than max_message_size",
			     admin_arg(msg->source));
		return 0;
	}
	if (r < 0)
		return importer_stop(im, ADMIN_EXIT_TEMPFAIL, admin_arg(msg->source), error);
	r = store_msg_append(store, im->box.id, body, flags, keywords, nkeywords, msg->date,
			     msg->tz, NULL, 0, &uid, &error);
	if (r == 0 && nkeywords > 0 && (error == NULL || strstr(error, "quota") == NULL)) {
		/* A keyword the store refuses (not an IMAP atom, or the
		 * folder's 64 are used up): the message without them. */
		im->notes++;
		importer_say(im, "import: note: %s: keywords dropped (%s)", admin_arg(msg->source),
			     error != NULL ? error : "refused");
		r = store_msg_append(store, im->box.id, body, flags, NULL, 0, msg->date, msg->tz,
				     NULL, 0, &uid, &error);
	}
	store_body_free(&body);
	if (r == 0)
		return importer_stop(im, ADMIN_EXIT_CANTCREAT, im->box.name,
				     error != NULL ? error : "refused (over quota?)");
	if (r < 0)
		return importer_stop(im, ADMIN_EXIT_TEMPFAIL, admin_arg(msg->source), error);
	im->imported++;
	return 0;
}

static int importer_message(void *ctx, const struct import_msg *msg)
{
	struct importer *im = ctx;
	ssize_t len;
	size_t trimmed;

	admin_watchdog_resume(im->admin);
	progress_update(&im->progress, msg->done);
	if (!im->box_ok) {
		im->skipped++;
		return 0;
	}
	len = importer_canon(im, msg->data, msg->len);
	if (len == -2)
		return importer_stop(im, ADMIN_EXIT_TEMPFAIL, admin_arg(msg->source), "out of memory");
	if (len < 0 || trimmed_len(im->canon, (size_t)len) == 0) {
		im->skipped++;
		importer_say(im, "import: skipped: %s: %s", admin_arg(msg->source),
			     len < 0 ? "contains a NUL byte" : "empty message");
		return 0;
	}
	if ((uint64_t)len > im->admin->config->max_message_size) {
		im->skipped++;
		importer_say(im, "import: skipped: %s: larger than max_message_size",
			     admin_arg(msg->source));
		return 0;
	}
	trimmed = trimmed_len(im->canon, (size_t)len);
	if (importer_is_duplicate(im, trimmed)) {
		im->duplicates++;
		return 0;
	}
	return importer_append(im, msg, (size_t)len);
}

/* The watchdog covers the store work of each record, not the waits for the
 * reader (which may scan a large Maildir for minutes before its first). */
static int importer_folder_timed(void *ctx, const char *name)
{
	struct importer *im = ctx;
	int r;

	admin_watchdog_resume(im->admin);
	r = importer_folder(ctx, name);
	admin_watchdog_pause();
	return r;
}

static int importer_message_timed(void *ctx, const struct import_msg *msg)
{
	struct importer *im = ctx;
	int r;

	admin_watchdog_resume(im->admin);
	r = importer_message(ctx, msg);
	admin_watchdog_pause();
	return r;
}

static int importer_total(void *ctx, uint64_t units, enum import_unit unit)
{
	struct importer *im = ctx;

	progress_start(&im->progress, "import", units,
		       unit == IMPORT_UNIT_BYTES ? PROGRESS_BYTES : PROGRESS_MESSAGES);
	return 0;
}

static int importer_note(void *ctx, enum import_note_kind kind, const char *text)
{
	struct importer *im = ctx;

	if (kind == IMPORT_NOTE_SKIP)
		im->skipped++;
	else
		im->notes++;
	importer_say(im, "import: %s%s", kind == IMPORT_NOTE_SKIP ? "skipped: " :
		     kind == IMPORT_NOTE_INFO ? "note: " : "", admin_arg(text));
	return 0;
}

/* --------------------------------------------------------- reader process */

/* The reader: becomes the source's owner (when started as root), opens the
 * source, checks it is what the parent looked at, reads it into the pipe. */
static void reader_main(int out, const struct config *config, const char *path, bool maildir,
			const char *folder, bool drop, uid_t uid, gid_t gid, const struct stat *seen)
{
	struct import_sink sink;
	struct stat st;
	int fd, status = 0, r;

	memset(&st, 0, sizeof(st));
	import_pipe_sink(out, &sink);
	if (drop && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0 ||
		     setuid(0) == 0)) {
		import_note(&sink, IMPORT_NOTE_FATAL, "cannot switch to uid %ld: %s", (long)uid,
			    strerror(errno));
		import_pipe_end(out, ADMIN_EXIT_TEMPFAIL);
		_exit(ADMIN_EXIT_TEMPFAIL);
	}
	if (path == NULL) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (maildir ? O_DIRECTORY : 0));
		if (fd < 0) {
			status = ADMIN_EXIT_NOINPUT;
			import_note(&sink, IMPORT_NOTE_FATAL, "%s: %s", path, strerror(errno));
			import_pipe_end(out, status);
			_exit(status);
		}
		if (fstat(fd, &st) < 0 || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino) {
			import_note(&sink, IMPORT_NOTE_FATAL, "%s: changed while being opened", path);
			import_pipe_end(out, ADMIN_EXIT_NOINPUT);
			_exit(ADMIN_EXIT_NOINPUT);
		}
	}
	if (maildir) {
		r = import_maildir_read(fd, config->max_message_size, &sink);
	} else {
		uint64_t total = path != NULL && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;

		r = import_mbox_read(fd, folder, total, config->max_message_size, &sink);
	}
	if (r < 0)
		status = ADMIN_EXIT_DATAERR;
	import_pipe_end(out, status);
	_exit(status);
}

/* Root stage of both verbs: looks at the source, starts the reader. */
static void import_start(struct admin *admin, const char *path, bool maildir, const char *folder)
{
	struct stat st;
	uid_t uid = 0;
	gid_t gid = 0;
	bool drop = false;
	const char *error = NULL;
	int fds[2];
	pid_t pid;

	memset(&st, 0, sizeof(st));
	if (path != NULL && strcmp(path, "-") == 0 && !maildir)
		path = NULL;
	if (path != NULL) {
		if (lstat(path, &st) < 0) {
			admin->root_code = admin_fail(ADMIN_EXIT_NOINPUT, "%s: %s", admin_arg(path),
						      strerror(errno));
			return;
		}
		if (maildir ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
			admin->root_code = admin_fail(ADMIN_EXIT_NOINPUT, "%s: not a %s",
						      admin_arg(path),
						      maildir ? "directory" : "regular file");
			return;
		}
	}
	if (geteuid() == 0) {
		/* Read with the owner's rights (root's own files as root);
		 * standard input needs no rights: read as the store user. */
		if (path == NULL) {
			if (process_user_ids(admin->config->user, &uid, &gid, &error) < 0) {
				admin->root_code = admin_fail(ADMIN_EXIT_CONFIG, "%s", error);
				return;
			}
			drop = true;
		} else if (st.st_uid != 0) {
			uid = st.st_uid;
			gid = st.st_gid;
			drop = true;
		}
	}
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		admin->root_code = admin_fail(ADMIN_EXIT_TEMPFAIL, "cannot start the reader: %s",
					      strerror(errno));
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		reader_main(fds[1], admin->config, path, maildir, folder, drop, uid, gid, &st);
	}
	close(fds[1]);
	admin->source_fd = fds[0];
	admin->reader_pid = pid;
}

static const char *import_maildir_root(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	import_start(admin, argv[1], true, NULL);
	return NULL;
}

static const char *import_mbox_root(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	if (!store_mailbox_name_valid(argv[1])) {
		admin->root_code = admin_fail(ADMIN_EXIT_USAGE, "%s: not a valid folder name",
					      admin_arg(argv[1]));
		return NULL;
	}
	import_start(admin, argv[2], false, argv[1]);
	return NULL;
}

/* ------------------------------------------------------------------- run */

static int import_run(struct admin *admin, const char *address)
{
	struct import_sink sink;
	struct importer *im = calloc(1, sizeof(*im));
	const char *error = NULL;
	int code, r, status = 0;

	if (im == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	im->admin = admin;
	r = store_user_find(admin->store, address, &im->user, &error);
	if (r <= 0) {
		free(im);
		if (r == 0)
			return admin_fail(ADMIN_EXIT_NOUSER, "%s: no such user", admin_arg(address));
		return admin_store_fail(r, 0, admin_arg(address), error);
	}
	progress_start(&im->progress, "import", 0, PROGRESS_MESSAGES);
	sink.total = importer_total;
	sink.folder = importer_folder_timed;
	sink.message = importer_message_timed;
	sink.note = importer_note;
	sink.ctx = im;
	admin_watchdog_pause();
	r = import_pipe_read(admin->source_fd, admin->config->max_message_size, &sink, &error);
	close(admin->source_fd);
	admin->source_fd = -1;
	while (waitpid(admin->reader_pid, &status, 0) < 0 && errno == EINTR)
		;
	admin->reader_pid = 0;
	admin_watchdog_resume(admin);
	if (im->code == 0 && r >= 0)
		progress_end(&im->progress);
	else
		progress_clear(&im->progress);

	if (im->code != 0)
		code = im->code;
	else if (r == -1)
		code = admin_fail(ADMIN_EXIT_IOERR, "import: %s", error);
	else if (r > 0)
		code = r;
	else if (im->skipped > 0)
		code = ADMIN_EXIT_DATAERR;
	else
		code = ADMIN_EXIT_OK;
	admin_say("import into %s: %llu imported, %llu already there, %llu skipped, "
		  "%llu folders created%s", admin_arg(address), (unsigned long long)im->imported,
		  (unsigned long long)im->duplicates, (unsigned long long)im->skipped,
		  (unsigned long long)im->folders_created,
		  code == ADMIN_EXIT_OK ? "" : " (not complete: see above)");
	free(im->seen);
	free(im->canon);
	free(im->other);
	free(im);
	return code;
}

static int import_cmd_maildir(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	return import_run(admin, argv[0]);
}

static int import_cmd_mbox(struct admin *admin, int argc, char **argv)
{
	(void)argc;
	return import_run(admin, argv[0]);
}

static const struct admin_verb import_verbs[] = {
	{ "maildir", "USER DIR", "import a Maildir++ tree (Dovecot, Courier): every folder",
	  2, 2, ADMIN_STORE_OPEN, true, import_maildir_root, NULL, import_cmd_maildir },
	{ "mbox", "USER FOLDER FILE", "import an mbox file (- = stdin) into FOLDER",
	  3, 3, ADMIN_STORE_OPEN, true, import_mbox_root, NULL, import_cmd_mbox },
};

const struct admin_noun admin_noun_import = {
	"import", "Migration: mail from Maildir++ (Dovecot, Courier) or mbox into a user's\n"
	"folders, with flags, keywords and dates. Running it again adds only what is\n"
	"new: messages the folder already holds (the same bytes) are skipped.\n"
	"Started as root, the source is read with its owner's rights. A message that\n"
	"cannot be imported is named on stderr and the exit status is then 65.",
	import_verbs, sizeof(import_verbs) / sizeof(import_verbs[0]),
};
