/* Starting a helper program for work that must not hold up the one who
 * asks (DESIGN.md: "whoever queued mail then starts the relay program for
 * it"): the outbound relay for freshly queued mail (smtpd after DATA, the
 * webmail after a send, deliveries that queue a report), and the spam
 * learner for mail moved into or out of Junk. Each is a separate program,
 * exec'd, never linked in. */
#ifndef PB_PROGRAM_KICK_H
#define PB_PROGRAM_KICK_H

#include <stdbool.h>
#include <stdint.h>

/* Starts `program [--config FILE] ARGS...` detached (double fork, setsid,
 * stdio on /dev/null, other fds closed) if it exists and is executable;
 * never waits for it beyond the first child, which exits at once. Only
 * async-signal-safe calls happen between fork and exec, so a threaded
 * caller (pillarbox-webmaild) may use it. `config_path` may be NULL (the
 * program then reads its default file); `args` ends with NULL, at most 8.
 * Returns 1 started, 0 not there, -1 fork failed (errno). */
int program_kick(const char *program, const char *config_path, const char *const *args);

/* The relay for queue entry `queue_id` (`--id QUEUEID`); not there is
 * logged: the queue keeps the mail for the next queue run. */
int relay_kick(const char *program, const char *config_path, const char *queue_id);

/* The spam learner (`--mailbox ID --uids FIRST:LAST --class spam|ham`):
 * messages FIRST..LAST of the mailbox teach the spam checker. Not there
 * is logged; nothing else depends on it. */
int spam_learn_kick(const char *program, const char *config_path, uint32_t mailbox_id,
		    uint32_t first_uid, uint32_t last_uid, bool spam);

#endif
