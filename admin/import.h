/* Migration into the store: readers of other systems' mail (Maildir++ as
 * Dovecot and Courier keep it, mbox) and the pipe that carries what they
 * read to the importer (cmd_import.c).
 *
 * `pillarbox import` runs the reader in a child process started before the
 * switch to the store user, with the rights of the source's owner, so a
 * Maildir that only its owner can read imports without being opened up to
 * the store user, and the store process never parses a directory tree. The
 * reader hands over typed records on a pipe; the importer checks every field
 * again (they come from foreign files and another process).
 *
 * A reader reports to a sink: total() once (if it knows the amount of work),
 * folder() before the messages of each folder (also for an empty folder),
 * message() per message, note() for what it could not take. Callbacks return
 * 0 to go on, non-zero to stop the reader (which then returns -1). */
#ifndef PB_IMPORT_H
#define PB_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/* Keywords one imported message may carry: Maildir has 26 letters; an mbox
 * X-Keywords: line may hold more (the rest are dropped with a note). */
#define IMPORT_KEYWORDS_MAX 32
/* Where a message came from, for notes ("cur/1700000000.M1P2.host:2,S"). */
#define IMPORT_SOURCE_MAX 512
/* A note's text is cut here. */
#define IMPORT_NOTE_MAX 1024

enum import_unit {
	IMPORT_UNIT_MESSAGES = 1,
	IMPORT_UNIT_BYTES = 2,
};

enum import_note_kind {
	IMPORT_NOTE_INFO = 1,   /* something not carried over (e.g. a size mismatch) */
	IMPORT_NOTE_SKIP = 2,   /* a message or folder was not imported */
	IMPORT_NOTE_FATAL = 3,  /* the source cannot be read at all */
};

struct import_msg {
	uint32_t flags;                 /* enum store_flag */
	int64_t date;                   /* internal date; 0 = unknown (the store uses now) */
	int32_t tz;                     /* minutes east of UTC */
	size_t nkeywords;
	const char *keywords[IMPORT_KEYWORDS_MAX]; /* names as found ($Forwarded too) */
	const char *data;               /* the message as stored there (any line ends) */
	size_t len;
	const char *source;             /* for notes */
	uint64_t done;                  /* progress units done after this message */
};

struct import_sink {
	int (*total)(void *ctx, uint64_t units, enum import_unit unit);
	int (*folder)(void *ctx, const char *name);
	int (*message)(void *ctx, const struct import_msg *msg);
	int (*note)(void *ctx, enum import_note_kind kind, const char *text);
	void *ctx;
};

/* Formats a note and passes it to sink->note; returns what that returned,
 * or -1 for a FATAL note (the reader stops). */
int import_note(const struct import_sink *sink, enum import_note_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- Maildir++ (import_maildir.c) ---- */

/* Reads the Maildir at `dirfd` (an open directory: the caller checked whose
 * it is): INBOX from cur/ and new/, then every ".Sub.Folder" directory as
 * "Sub/Folder" (modified UTF-7 names decoded), in dovecot-uidlist (or
 * courierimapuiddb) order, flags from the ":2,FLAGS" suffix, keywords from
 * dovecot-keywords, the internal date from the file's mtime (or the time
 * stamp that starts its name); S= and W= sizes in the name are checked.
 * Files larger than `max_size` are skipped with a note. Returns 0, or -1 if
 * the sink stopped it or the directory is not a Maildir (a FATAL note). */
int import_maildir_read(int dirfd, uint64_t max_size, const struct import_sink *sink);

/* The parts of a Maildir file name "BASE[:2,INFO]": flags from the standard
 * letters (D F P R S T), keyword ids 0-25 from a-z as a mask, and the S=
 * and W= sizes (0 when absent). Returns false if the name has no usable
 * shape (empty base). `sep` is the info separator (':' normally). */
struct import_maildir_name {
	size_t base_len;
	uint32_t flags;
	uint32_t keyword_mask;
	uint64_t size_s, size_w;
	int64_t stamp;                  /* leading decimal seconds, 0 if none */
};
bool import_maildir_name_parse(const char *name, struct import_maildir_name *out);

/* ---- mbox (import_mbox.c) ---- */

/* Reads an mbox (mboxrd, and mboxo: "From " lines separate messages, one
 * '>' is removed from ">From ", ">>From "... lines) from `fd` into `folder`.
 * A "From " line separates only at the start of the file or when the rest of
 * it ends in a date. Status:, X-Status: and X-Keywords: header fields are
 * taken as flags and keywords (as mutt, Pine and Dovecot write them) and
 * removed from the message. The internal date is the From line's date.
 * `total_bytes` (0 if unknown) is the file size, for progress. Returns 0 or
 * -1 (the sink stopped it, or the file is not an mbox: a FATAL note). */
int import_mbox_read(int fd, const char *folder, uint64_t total_bytes, uint64_t max_size,
		     const struct import_sink *sink);

/* The flags and keywords named by one Status:/X-Status:/X-Keywords: field
 * value. `keywords` receives pointers into `value` (modified: NULs put after
 * each name) up to IMPORT_KEYWORDS_MAX; *nkeywords_r is updated. */
enum import_mbox_field { IMPORT_MBOX_STATUS, IMPORT_MBOX_X_STATUS, IMPORT_MBOX_X_KEYWORDS };
void import_mbox_field(enum import_mbox_field field, char *value, uint32_t *flags,
		       const char **keywords, size_t *nkeywords_r, size_t *dropped_r);

/* Parses the rest of a "From " line (after "From "): the sender, then a
 * date. Returns 1 with *date_r and *tz_r if a date ends the line, else 0. */
int import_mbox_from_date(const char *rest, size_t len, int64_t *date_r, int32_t *tz_r);

/* ---- the pipe between reader and importer (import_pipe.c) ---- */

/* Fills `sink` with callbacks that write records to `fd` (one such sink a
 * process: the reader has one pipe). */
void import_pipe_sink(int fd, struct import_sink *sink);
/* Tells the importer the reader finished (the last record). 0 or -1. */
int import_pipe_end(int fd, int status);

/* Reads records from `fd` and calls `sink` for each, until the reader's end
 * record (returns its status, 0 = the reader read everything it could) or a
 * broken stream (-1 with *error_r: the reader died, or sent a record that
 * breaks a limit: `max_size` for a message). A non-zero return of a sink
 * callback stops the reading: returned as -2. */
int import_pipe_read(int fd, uint64_t max_size, const struct import_sink *sink,
		     const char **error_r);

/* ---- reading what the store holds (cmd_import.c; export uses them too) ---- */

/* Calls `cb` for every message of the mailbox in UID order, listing them in
 * batches so that `cb` may call the store itself. Stops at a non-zero
 * return of `cb` (returned). -1 with *error_r on a store error. */
int import_stored_each(struct store *store, uint32_t mailbox_id,
		       int (*cb)(const struct store_msg *msg, void *ctx), void *ctx,
		       const char **error_r);

/* Reads a whole stored message (prefix and body, CRLF line ends) into *buf
 * (grown as needed, *cap its size). 1 with *len_r, 0 if it is gone, -1. */
int import_stored_read(struct store *store, const struct store_msg *msg, char **buf, size_t *cap,
		       size_t *len_r, const char **error_r);

/* The flags named by the system keywords $Forwarded, $Junk, $NotJunk
 * (case-insensitive), 0 for any other name. */
uint32_t import_keyword_flag(const char *name);

#endif
