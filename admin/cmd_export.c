/* pillarbox export mbox USER FOLDER FILE: a folder as an mboxrd file.
 *
 * Each message: "From SENDER DATE" (the Return-Path address or
 * MAILER-DAEMON; the internal date in UTC, asctime form), the message with
 * LF line ends, lines matching ^>*From  quoted with one more '>', the flags
 * as Status: (R seen, O old), X-Status: (A answered, F flagged, T draft,
 * D deleted) and X-Keywords: fields at the end of the header (any such
 * fields the message had are left out: they would contradict), and a blank
 * line. `pillarbox import mbox` reads all of it back: the same bytes, flags,
 * keywords and dates (a message that did not end in a line end gets one).
 *
 * The file is created (never overwritten) with mode 0600 before the switch
 * to the store user, so root may export anywhere; "-" is standard output.
 * One message is held in memory at a time. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "import.h"
#include "progress.h"

struct exporter {
	struct admin *admin;
	FILE *out;
	char keywords[STORE_KEYWORDS_MAX][STORE_KEYWORD_MAX + 1];
	char *buf;
	size_t cap;
	uint64_t count;
	int code;
	struct progress progress;
};

static int export_keyword_name(unsigned id, const char *name, void *ctx)
{
	struct exporter *ex = ctx;

	if (id < STORE_KEYWORDS_MAX)
		snprintf(ex->keywords[id], sizeof(ex->keywords[id]), "%s", name);
	return 0;
}

/* The envelope sender for the From line: the Return-Path address when it
 * is a plain one, else MAILER-DAEMON (as mbox writers do for bounces). */
static void export_sender(const char *msg, size_t len, char out[STORE_ADDRESS_MAX + 1])
{
	size_t pos = 0;

	snprintf(out, STORE_ADDRESS_MAX + 1, "MAILER-DAEMON");
	while (pos < len) {
		const char *line = msg + pos, *lf = memchr(line, '\n', len - pos);
		size_t n = lf != NULL ? (size_t)(lf - line) + 1 : len - pos, i = 12, a;

		if (n <= 2 && (line[0] == '\n' || line[0] == '\r'))
			return; /* end of the header */
		pos += n;
		if (n < 12 || strncasecmp(line, "Return-Path:", 12) != 0)
			continue;
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= n || line[i] != '<')
			return;
		for (a = ++i; i < n && line[i] != '>'; i++) {
			if ((unsigned char)line[i] <= ' ' || line[i] == 0x7f)
				return;
		}
		if (i < n && i > a && i - a <= STORE_ADDRESS_MAX)
			snprintf(out, STORE_ADDRESS_MAX + 1, "%.*s", (int)(i - a), line + a);
		return;
	}
}

static bool export_status_field(const char *line, size_t len)
{
	static const char *const names[] = { "Status:", "X-Status:", "X-Keywords:" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		if (len >= n && strncasecmp(line, names[i], n) == 0)
			return true;
	}
	return false;
}

static void export_status_write(struct exporter *ex, const struct store_msg *msg)
{
	static const struct { uint32_t flag; const char *name; } system_keywords[] = {
		{ STORE_FLAG_FORWARDED, "$Forwarded" },
		{ STORE_FLAG_JUNK, "$Junk" },
		{ STORE_FLAG_NOTJUNK, "$NotJunk" },
	};
	FILE *out = ex->out;
	bool any = false;

	fprintf(out, "Status: %s\n", (msg->flags & STORE_FLAG_SEEN) ? "RO" : "O");
	if (msg->flags & (STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | STORE_FLAG_DRAFT |
			  STORE_FLAG_DELETED)) {
		fprintf(out, "X-Status: %s%s%s%s\n", (msg->flags & STORE_FLAG_ANSWERED) ? "A" : "",
			(msg->flags & STORE_FLAG_FLAGGED) ? "F" : "",
			(msg->flags & STORE_FLAG_DRAFT) ? "T" : "",
			(msg->flags & STORE_FLAG_DELETED) ? "D" : "");
	}
	for (size_t i = 0; i < sizeof(system_keywords) / sizeof(system_keywords[0]); i++) {
		if (msg->flags & system_keywords[i].flag) {
			fprintf(out, "%s%s", any ? " " : "X-Keywords: ", system_keywords[i].name);
			any = true;
		}
	}
	for (unsigned id = 0; id < STORE_KEYWORDS_MAX; id++) {
		if ((msg->keywords & (1ULL << id)) && ex->keywords[id][0] != '\0') {
			fprintf(out, "%s%s", any ? " " : "X-Keywords: ", ex->keywords[id]);
			any = true;
		}
	}
	if (any)
		fputc('\n', out);
}

static void export_write(struct exporter *ex, const struct store_msg *msg, const char *data,
			 size_t len)
{
	char sender[STORE_ADDRESS_MAX + 1], date[64];
	time_t t = (time_t)msg->internaldate;
	bool header = true, skipping = false;
	struct tm tm;
	size_t pos = 0;
	FILE *out = ex->out;

	export_sender(data, len, sender);
	if (gmtime_r(&t, &tm) == NULL || strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(date, sizeof(date), "Thu Jan  1 00:00:00 1970");
	fprintf(out, "From %s %s\n", sender, date);
	while (pos < len) {
		const char *line = data + pos, *lf = memchr(line, '\n', len - pos);
		size_t n = lf != NULL ? (size_t)(lf - line) : len - pos, quotes = 0;

		pos += lf != NULL ? n + 1 : n;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (header) {
			if (n == 0) {
				export_status_write(ex, msg);
				header = false;
			} else if (line[0] == ' ' || line[0] == '\t') {
				if (skipping)
					continue;
			} else {
				skipping = export_status_field(line, n);
				if (skipping)
					continue;
			}
		}
		while (quotes < n && line[quotes] == '>')
			quotes++;
		if (n - quotes >= 5 && memcmp(line + quotes, "From ", 5) == 0)
			fputc('>', out);
		fwrite(line, 1, n, out);
		fputc('\n', out);
	}
	if (header)
		export_status_write(ex, msg);
	fputc('\n', out);
}

static int export_one(const struct store_msg *msg, void *ctx)
{
	struct exporter *ex = ctx;
	const char *error = NULL;
	size_t len = 0;
	int r;

	admin_watchdog_resume(ex->admin);
	r = import_stored_read(ex->admin->store, msg, &ex->buf, &ex->cap, &len, &error);
	if (r < 0) {
		progress_clear(&ex->progress);
		ex->code = admin_store_fail(-1, 0, "export", error);
		return 1;
	}
	if (r == 0)
		return 0; /* expunged while we were at it */
	/* A slow reader of the output is no stuck store: no watchdog while
	 * writing. */
	admin_watchdog_pause();
	export_write(ex, msg, ex->buf, len);
	if (ferror(ex->out)) {
		progress_clear(&ex->progress);
		ex->code = admin_fail(ADMIN_EXIT_IOERR, "export: writing: %s", strerror(errno));
		return 1;
	}
	ex->count++;
	progress_update(&ex->progress, ex->count);
	admin_watchdog_resume(ex->admin);
	return 0;
}

/* Root stage: create the output file. */
static const char *export_mbox_root(struct admin *admin, int argc, char **argv)
{
	const char *path = argv[2];

	(void)argc;
	if (!store_mailbox_name_valid(argv[1])) {
		admin->root_code = admin_fail(ADMIN_EXIT_USAGE, "%s: not a valid folder name",
					      admin_arg(argv[1]));
		return NULL;
	}
	if (strcmp(path, "-") == 0)
		admin->source_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		admin->source_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					0600);
	if (admin->source_fd < 0) {
		int err = errno;

		admin->root_code = admin_fail(ADMIN_EXIT_CANTCREAT, "%s: %s%s", admin_arg(path),
					      strerror(err), err == EEXIST ?
					      " (export never overwrites a file)" : "");
	}
	return NULL;
}

static int export_cmd_mbox(struct admin *admin, int argc, char **argv)
{
	struct exporter *ex = calloc(1, sizeof(*ex));
	struct store_mailbox box;
	struct store_user user;
	const char *error = NULL;
	struct stat st;
	int r, code;

	(void)argc;
	if (ex == NULL)
		return admin_fail(ADMIN_EXIT_TEMPFAIL, "out of memory");
	ex->admin = admin;
	r = store_user_find(admin->store, argv[0], &user, &error);
	if (r == 0) {
		code = admin_fail(ADMIN_EXIT_NOUSER, "%s: no such user", admin_arg(argv[0]));
		goto out;
	}
	if (r > 0)
		r = store_mailbox_find(admin->store, user.id, argv[1], &box, &error);
	if (r == 0) {
		code = admin_fail(ADMIN_EXIT_DATAERR, "%s: no folder %s", admin_arg(argv[0]),
				  admin_arg(argv[1]));
		goto out;
	}
	if (r > 0)
		r = store_keyword_list(admin->store, box.id, export_keyword_name, ex, &error);
	if (r < 0) {
		code = admin_store_fail(r, 0, "export", error);
		goto out;
	}
	ex->out = fdopen(admin->source_fd, "w");
	if (ex->out == NULL) {
		code = admin_fail(ADMIN_EXIT_IOERR, "export: %s", strerror(errno));
		goto out;
	}
	admin->source_fd = -1; /* now ex->out's */
	progress_start(&ex->progress, "export", box.exists, PROGRESS_MESSAGES);
	if (import_stored_each(admin->store, box.id, export_one, ex, &error) < 0)
		ex->code = admin_store_fail(-1, 0, "export", error);
	admin_watchdog_pause();
	if (ex->code == 0 && (fflush(ex->out) != 0 || ferror(ex->out) ||
			      (fstat(fileno(ex->out), &st) == 0 && S_ISREG(st.st_mode) &&
			       fsync(fileno(ex->out)) != 0)))
		ex->code = admin_fail(ADMIN_EXIT_IOERR, "export: writing: %s", strerror(errno));
	if (fclose(ex->out) != 0 && ex->code == 0)
		ex->code = admin_fail(ADMIN_EXIT_IOERR, "export: writing: %s", strerror(errno));
	if (ex->code == 0)
		progress_end(&ex->progress);
	code = ex->code;
	if (code == 0)
		admin_say("export of %s %s: %llu messages written to %s", admin_arg(argv[0]),
			  admin_arg(argv[1]), (unsigned long long)ex->count, admin_arg(argv[2]));
	else if (strcmp(argv[2], "-") != 0)
		admin_say("export: %s is incomplete", admin_arg(argv[2]));
out:
	free(ex->buf);
	free(ex);
	return code;
}

static const struct admin_verb export_verbs[] = {
	{ "mbox", "USER FOLDER FILE", "write a folder as an mboxrd file (new FILE, or - = stdout)",
	  3, 3, ADMIN_STORE_OPEN, true, export_mbox_root, NULL, export_cmd_mbox },
};

const struct admin_noun admin_noun_export = {
	"export", "A user's folder as an mbox file (mboxrd, flags in Status: fields); import\n"
	"mbox reads it back.",
	export_verbs, sizeof(export_verbs) / sizeof(export_verbs[0]),
};
