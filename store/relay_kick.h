/* Starting the outbound relay for freshly queued mail, shared by everyone
 * who queues it (smtpd after DATA, the webmail after a send): the relay is
 * a separate program, exec'd, never linked in (DESIGN.md: "whoever queued
 * mail then starts the relay program for it"). */
#ifndef PB_RELAY_KICK_H
#define PB_RELAY_KICK_H

/* Starts `program --config FILE --id QUEUEID` detached (double fork,
 * setsid, stdio on /dev/null, other fds closed) if it exists and is
 * executable; never waits for it beyond the first child, which exits at
 * once. Only async-signal-safe calls happen between fork and exec, so a
 * threaded caller (pillarbox-webmaild) may use it. `config_path` may be
 * NULL (the relay then reads its default file). Returns 1 started, 0 not
 * there (logged: the queue keeps the mail for the next queue run), -1 fork
 * failed (errno). */
int relay_kick(const char *program, const char *config_path, const char *queue_id);

#endif
