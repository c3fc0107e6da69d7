/* One client connection: fds 0/1 (a socket from inetd/systemd, or pipes in
 * tests) or a TLS session over them. Buffered line reading with a maximum
 * length, exact-count reads (literals, SASL), buffered writes with one
 * explicit flush per response batch (PIPELINING), idle timeouts, byte
 * counters and the peer address. It knows no protocol: IMAP, POP3, SMTP and
 * the relay's client side all sit on it.
 *
 * Reads and writes never block longer than the idle timeout: the fds are
 * switched to non-blocking mode and every wait is a poll() with a deadline.
 * A signal that sets the stop flag (conn_set_stop_flag) ends a wait with
 * CONN_ERROR ("stopped").
 *
 * Lines: only LF ends a line; the line handed out excludes the LF and a CR
 * right before it, and tells whether that CR was there (CRLF is the only
 * legal ending for most protocols: the caller decides what to do with a bare
 * LF). A line longer than the caller's maximum is swallowed up to its LF and
 * reported once as CONN_LINE_TOO_LONG, so the protocol can answer "line too
 * long" and carry on in step with a pipelining client. */
#ifndef PB_CONN_H
#define PB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

struct tls_creds;

/* The largest line any protocol may ask for (IMAP command lines with long
 * UID sets are the biggest; RFC 7162 suggests accepting at least 8 KB).
 * The read buffer is sized from the caller's maximum, never above this. */
#define CONN_LINE_MAX_LIMIT 65536
/* Bytes of an over-long line swallowed while looking for its end before
 * the connection is given up (a peer streaming megabytes without a LF is
 * not a client; the per-line cap alone would let it burn CPU forever). */
#define CONN_LINE_DISCARD_MAX (1024 * 1024)
/* Output is flushed automatically when this much is pending: a RETR of a
 * 50 MB message streams through it in writes of this size (64 KB: four TLS
 * records; fewer, fuller socket writes than one per reply and message). */
#define CONN_WRITE_BUF 65536
/* Read buffer used when nothing larger is needed. */
#define CONN_READ_BUF_MIN 16384
/* The longest peer address text (an IPv6 literal) plus NUL. */
#define CONN_ADDR_MAX 64

enum conn_result {
	CONN_LINE_TOO_LONG = -3, /* a line past the maximum was skipped */
	CONN_TIMEOUT = -2,       /* idle timeout */
	CONN_ERROR = -1,         /* I/O or TLS error, or a stop signal */
	CONN_EOF = 0,            /* the peer closed (a partial line is dropped) */
	CONN_OK = 1,
};

/* ------------------------------------------------------------ line parser */

/* The pure line parser under conn_read_line(), exposed for unit tests and
 * fuzzing: it never blocks and never allocates. Feed it the unread bytes;
 * it says how many it consumed and whether a line ended. */
/* The first bytes of a line skipped as too long, kept: a protocol may
 * need to know what it was (smtpd: a BDAT's chunk would follow it). */
#define CONN_SKIPPED_HEAD 8
struct conn_line_state {
	bool discarding;   /* inside an over-long line, looking for its LF */
	size_t discarded;  /* bytes swallowed so far in this line */
	size_t scanned;    /* kept bytes already known to hold no LF */
	char head[CONN_SKIPPED_HEAD]; /* the last skipped line's first bytes */
	size_t head_len;
};
enum conn_line_status {
	CONN_LINE_NEED_MORE = 0,  /* no line end yet: keep the unconsumed bytes, read more */
	CONN_LINE_DONE = 1,       /* a line: buf[0 .. *line_len_r) */
	CONN_LINE_SKIPPED = 2,    /* an over-long line ended and was skipped */
	CONN_LINE_FLOOD = 3,      /* over CONN_LINE_DISCARD_MAX swallowed: give up */
};
/* Looks for a LF in buf[0..len). `max` is the longest line accepted,
 * excluding CR LF. On CONN_LINE_DONE, *line_len_r excludes the line end,
 * *crlf_r tells whether a CR preceded the LF, and *consumed_r includes the
 * line end. On NEED_MORE, *consumed_r bytes may be dropped (they belong to
 * a line being skipped) and the rest must be kept and presented again with
 * more after it; when not skipping and len > max + 1, the parser starts
 * skipping by itself. */
enum conn_line_status conn_line_parse(struct conn_line_state *state, const char *buf,
				      size_t len, size_t max, size_t *consumed_r,
				      size_t *line_len_r, bool *crlf_r);

/* ------------------------------------------------------------- connection */

struct conn;

/* Creates a connection over fd_in/fd_out (they may be equal), switching
 * them to non-blocking mode. `line_max` (<= CONN_LINE_MAX_LIMIT) sizes the
 * read buffer: it is the longest line conn_read_line() may be asked for.
 * The peer address comes from getpeername(fd_in): "unknown" for a pipe or a
 * Unix socket (which is never treated as loopback). IPv4-mapped IPv6
 * addresses are shown as IPv4. Never fails except on memory (NULL). */
struct conn *conn_new(int fd_in, int fd_out, size_t line_max);

/* Flushes nothing (call conn_flush first if the peer should see more), ends
 * TLS without waiting, frees. The fds are left open. Safe on NULL. */
void conn_free(struct conn **conn);

/* Idle timeout for every read and write wait, in seconds (0 = none).
 * Default 1800. */
void conn_set_timeout(struct conn *conn, unsigned seconds);

/* A limit on the time left for the whole connection, from now, in seconds
 * (0 = none, the default): once it passes, every wait ends with
 * CONN_TIMEOUT however active the peer is. For the time a client has to
 * log in. */
void conn_set_time_limit(struct conn *conn, unsigned seconds);

/* Called with waiting = true right before the connection waits for the
 * peer (poll) and with false right after: a protocol disarms its store
 * watchdog while a slow client sets the pace. NULL = none. */
void conn_set_wait_hook(struct conn *conn, void (*hook)(bool waiting, void *ctx), void *ctx);

/* A flag set by signal handlers (process_stop_requested): a wait that sees
 * it set ends with CONN_ERROR "stopped". NULL = none (the default). */
void conn_set_stop_flag(struct conn *conn, volatile sig_atomic_t *flag);

/* Reads one line of at most `max` bytes (<= the line_max given at
 * creation). CONN_OK: *line_r points into the read buffer, NUL-terminated
 * at *len_r (the line itself may contain NULs: check len), valid until the
 * next read call; *crlf_r as in conn_line_parse (may be NULL). Otherwise a
 * conn_result; CONN_ERROR with *error_r set (a flood of one endless line is
 * CONN_ERROR "line too long"). */
int conn_read_line(struct conn *conn, size_t max, char **line_r, size_t *len_r, bool *crlf_r,
		   const char **error_r);
/* After CONN_LINE_TOO_LONG: whether the skipped line began with `prefix`
 * (at most CONN_SKIPPED_HEAD bytes, compared without case). */
bool conn_skipped_line_starts(const struct conn *conn, const char *prefix);

/* Reads between 1 and len bytes (buffered ones first): a count, CONN_EOF,
 * CONN_TIMEOUT or CONN_ERROR. For streamed literals and DATA. */
ssize_t conn_read(struct conn *conn, void *buf, size_t len, const char **error_r);

/* Reads exactly len bytes: CONN_OK, or CONN_EOF if the peer closed first,
 * CONN_TIMEOUT, CONN_ERROR. */
int conn_read_full(struct conn *conn, void *buf, size_t len, const char **error_r);

/* Bytes already read from the peer and not yet consumed (after a line). */
size_t conn_input_pending(const struct conn *conn);

/* Waits until input is available on the connection or `extra_fd` (>= 0;
 * -1 = none) is readable, for at most timeout_ms (-1 = the idle timeout).
 * Returns 1 connection input, 2 extra_fd readable, CONN_TIMEOUT, CONN_ERROR.
 * For IMAP IDLE: wait for the client or a store_watch() descriptor. */
int conn_wait_input(struct conn *conn, int extra_fd, int timeout_ms, const char **error_r);

/* Buffered output. Writes never fail immediately: an error is remembered
 * and every later write is dropped; conn_flush() reports it. A full buffer
 * is flushed on the way (so a long response streams). */
void conn_write(struct conn *conn, const void *data, size_t len);
void conn_puts(struct conn *conn, const char *str);
void conn_printf(struct conn *conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends everything buffered. 0, or -1 with *error_r (peer gone, timeout).
 * Reads flush by themselves before they wait for the peer, so a protocol
 * only flushes explicitly before slow work or before closing. */
int conn_flush(struct conn *conn, const char **error_r);
/* true once a write has failed (the peer left in the middle of a long
 * response: stop producing it). */
bool conn_output_failed(const struct conn *conn);

/* Compression (IMAP COMPRESS=DEFLATE, RFC 4978): from here on what is read
 * is inflated and what is written deflated (raw DEFLATE, above TLS when TLS
 * is on), each flush ending on a byte boundary. Pending output goes out
 * plain first: the reply that agreed to it. Input already buffered is
 * taken as compressed. 0, or -1 with *error_r (then the connection is not
 * usable: close it). */
int conn_start_deflate(struct conn *conn, const char **error_r);
bool conn_is_deflate(const struct conn *conn);

/* Starts TLS on the connection: flushes pending output (the "begin TLS"
 * reply must reach the client in clear), DISCARDS every buffered input byte
 * (plaintext pipelined before the handshake must never be read as if it
 * came over TLS; the count is returned in *discarded_r, may be NULL), then
 * handshakes within the idle timeout. `server` selects the side;
 * `server_name` (client side only, may be NULL) is sent as SNI and, when
 * the credentials verify, checked against the certificate. 0 or -1 with
 * *error_r; after -1 the connection is unusable. */
int conn_start_tls(struct conn *conn, struct tls_creds *creds, bool server,
		   const char *server_name, size_t *discarded_r, const char **error_r);
bool conn_is_tls(const struct conn *conn);
/* "TLS1.3/AES-256-GCM" style text for logs, or "" without TLS. */
const char *conn_tls_description(const struct conn *conn);
/* The server certificate presented (tls_session_cert_name), or "". */
const char *conn_tls_cert_name(const struct conn *conn);

/* The peer's address as text ("unknown" when not a TCP socket). */
const char *conn_peer_ip(const struct conn *conn);
/* The same, or NULL when unknown (what store_auth_login wants). */
const char *conn_peer_ip_or_null(const struct conn *conn);
/* true for 127.0.0.0/8 and ::1 (never for a pipe or Unix socket). */
bool conn_peer_is_loopback(const struct conn *conn);

/* Application bytes read from and written to the peer (before TLS). */
uint64_t conn_bytes_in(const struct conn *conn);
uint64_t conn_bytes_out(const struct conn *conn);

#endif
