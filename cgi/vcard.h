/* vCard files (RFC 6350 vCard 4.0; RFC 2426 3.0 and the 2.1 that phones
 * still export are read too): the address book's import and export.
 *
 * Only what the address book keeps is read: FN (or, without it, a name made
 * from N, or ORG), EMAIL (several; PREF=1 / TYPE=pref first), NOTE, and our
 * own X-PILLARBOX-COLLECTED. Content lines are unfolded (CRLF or LF followed
 * by a space or tab), text values unescaped (\\ \, \; \n), quoted-printable
 * values (2.1) decoded and CHARSET= parameters converted; values without a
 * charset are UTF-8 when valid, else windows-1252 (what old exporters
 * wrote). Everything else (photos, addresses, phones...) is skipped without
 * being copied, so a long PHOTO line costs nothing.
 *
 * Hostile input: the file size, the number of cards, the length of a line we
 * look at and of every value kept, and the number of addresses per card are
 * bounded; values past a limit are cut (at a character boundary) and
 * counted; a card that never ends or nests another card is dropped and
 * counted; NUL bytes and control characters never reach a value (names get
 * a space instead, notes keep their newlines). The parser is a pure function
 * over the bytes it is given. */
#ifndef PB_CGI_VCARD_H
#define PB_CGI_VCARD_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Bytes of one file: an export of 5,000 contacts with small photos. */
#define VCARD_INPUT_MB 16
#define VCARD_INPUT_MAX ((size_t)VCARD_INPUT_MB * 1024 * 1024)
/* Cards in one file: the address book's own limit. */
#define VCARD_CARDS_MAX 5000
/* Bytes of an unfolded line whose value we keep: far above any name, note
 * or address; longer lines (photos, keys) are skipped whole. */
#define VCARD_LINE_MAX (64 * 1024)
/* What a card keeps, as the address book does. */
#define VCARD_EMAILS_MAX 20
#define VCARD_NAME_MAX 200
#define VCARD_NOTE_MAX 4000
#define VCARD_EMAIL_MAX 254
/* vCards inside a vCard (2.1 AGENT): skipped, up to this depth. */
#define VCARD_DEPTH_MAX 8
/* Output lines are folded at this many octets (RFC 6350 3.2). */
#define VCARD_FOLD 75

struct vcard {
	const char *name;      /* UTF-8, no control characters; "" if none (a name
				  that is one of the card's addresses is none) */
	const char *note;      /* UTF-8, newlines as LF; "" if none */
	const char *emails[VCARD_EMAILS_MAX];
	size_t nemails;        /* as written (not checked as addresses) */
	bool collected;        /* X-PILLARBOX-COLLECTED:TRUE */
};

struct vcard_stats {
	size_t cards;          /* given to the callback */
	size_t dropped;        /* cards that never ended or were nested */
	size_t cut;            /* values cut or addresses left out at a limit */
	size_t skipped_lines;  /* malformed lines (no ':', NUL bytes, too long) */
};

/* Parses `len` bytes, calling cb (if not NULL) for each complete card; the
 * strings live until cb returns; cb returns 0 to go on, -1 to stop (the
 * parse then fails with cb's *error_r). Returns 0 with *stats filled, or -1
 * with a message for the user in *error_r: the file is too large, holds no
 * vCard, holds more than VCARD_CARDS_MAX cards (found when the first card
 * past the limit ends: a caller that must not act on half a file parses
 * once with cb NULL first), or memory ran out. */
int vcard_parse(const char *data, size_t len,
		int (*cb)(const struct vcard *card, void *ctx, const char **error_r), void *ctx,
		struct vcard_stats *stats, const char **error_r);

/* Appends one card as vCard 4.0 (CRLF line ends, folded, escaped; FN is the
 * name, or the first address when there is none; the first address gets
 * PREF=1). Strings must be UTF-8; control characters are dropped but for
 * newlines in the note. */
void vcard_write(struct buf *out, const struct vcard *card);

#endif
