/* A progress bar for long admin commands (import, export): drawn on
 * standard error only when it is a terminal, redrawn at most a few times a
 * second, and cleared before any other message is printed. */
#ifndef PB_PROGRESS_H
#define PB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

enum progress_unit { PROGRESS_MESSAGES, PROGRESS_BYTES };

struct progress {
	bool on;                   /* stderr is a terminal */
	bool shown;                /* a bar is on the screen */
	const char *what;          /* "import", "export" */
	enum progress_unit unit;
	uint64_t total;            /* 0 = unknown: a count without a bar */
	uint64_t done;
	int64_t last_ms;           /* when it was last drawn */
};

/* Starts a bar (nothing is drawn yet). */
void progress_start(struct progress *p, const char *what, uint64_t total, enum progress_unit unit);
/* Sets the amount done; redraws when enough time has passed. */
void progress_update(struct progress *p, uint64_t done);
/* Erases the bar so that a message can be printed; the next update draws
 * it again. */
void progress_clear(struct progress *p);
/* Draws the final state and ends the line (after a failure, progress_clear
 * leaves no bar behind instead). */
void progress_end(struct progress *p);

#endif
