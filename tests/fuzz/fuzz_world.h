/* What the protocol fuzzers (POP3, IMAP, SMTP sessions) share: a real store
 * made once per fuzzing process in a temporary directory, handed to the
 * store user when run as root and removed at exit; the fuzz input served to
 * the handler's conn from a memfd, its answers going to /dev/null. */
#ifndef PB_FUZZ_WORLD_H
#define PB_FUZZ_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "store.h"

/* A message of every kind of part: quoted-printable Latin-1 text, an
 * encapsulated multipart/alternative, a base64 attachment with an RFC 2231
 * file name. */
extern const char fuzz_world_multipart[];

/* A temporary directory for the fuzzer `name`, removed at exit (the
 * store's, made by fuzz_world_config; or one of a harness's own). */
const char *fuzz_world_tmpdir(const char *name);

/* Reports and aborts (libFuzzer shows the message with the crash). */
__attribute__((noreturn)) void fuzz_die(const char *what, const char *error);

/* Step one, from LLVMFuzzerInitialize: the directory, the switch to the
 * store user (the corpus directories on the command line are handed over
 * too, or libFuzzer could not add to them), logging, and a configuration
 * fit for fuzzing (cheap hashes, plaintext auth allowed: a memfd is no
 * loopback; no watchdog alarm inside libFuzzer; no auth delays). The
 * harness tunes the configuration before step two. */
struct config *fuzz_world_config(const char *name, int *argc, char ***argv);
/* Step two: the store itself, created and opened. */
struct store *fuzz_world_store(void);

/* Appends bodies[n..count-1] to the mailbox so that it holds `count`
 * messages again after a run expunged some. */
void fuzz_world_refill(uint32_t mailbox_id, const char *const *bodies, unsigned count);

/* A conn reading `data` (at most `max` bytes of it) and writing to
 * /dev/null; *fd_r is the memfd, closed by the caller after conn_free. */
struct conn *fuzz_world_conn(const uint8_t *data, size_t size, size_t max, size_t line_max,
			     int *fd_r);

#endif
