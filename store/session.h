/* Webmail sessions and per-user webmail settings, kept in the store's
 * sessions database (DBI_SESSIONS).
 *
 * A session id is 32 bytes from getrandom(2); the cookie carries it as 64
 * hex digits. The database key is the id itself (32 bytes); settings records
 * use the key "prefs" + u32 user id (9 bytes), so the two never collide.
 * Session records are small versioned structs:
 *   {u8 version, u32 user_id, i64 created, i64 last_seen, u8 csrf[32],
 *    u8 sent[2][8]}.
 * `sent` was added to version 1 records: older ones end before it, and
 * readers of the old length read a record 16 bytes longer (their buffer's
 * slack), so both still work; an old writer's touch drops it.
 * Touches and settings are WRITE_NOSYNC (losing the last second of them in
 * a power cut is acceptable: STORE-NOTES §5); creation and destruction too,
 * a lost session only means signing in again. */
#ifndef PB_SESSION_H
#define PB_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define STORE_SESSION_ID_LEN 32
/* The longest key of any record in DBI_SESSIONS (the scans' key buffer).
 * Only session records have keys of exactly STORE_SESSION_ID_LEN bytes:
 * other records (settings, identity.h) must never have that length. */
#define STORE_SESSIONS_KEY_MAX 512
#define STORE_SESSION_CSRF_LEN 32
/* The compose form's one-time send token, and how many used ones a
 * session remembers: a repeated POST of a form (double click, reload,
 * back and Send) is not sent again. Two: the 16 bytes old readers allow
 * (see above). */
#define STORE_SEND_TOKEN_LEN 8
#define STORE_SESSION_SENT_MAX 2
/* A session unused this long is over (seconds). */
#define STORE_SESSION_IDLE_DEFAULT (30 * 60)
/* A session is over this long after sign-in, used or not. */
#define STORE_SESSION_ABSOLUTE_DEFAULT (12 * 3600)
/* last_seen is rewritten at most this often (a write per page is waste). */
#define STORE_SESSION_TOUCH_INTERVAL 60

struct store_session {
	uint8_t id[STORE_SESSION_ID_LEN];
	uint32_t user_id;
	int64_t created;
	int64_t last_seen;
	uint8_t csrf[STORE_SESSION_CSRF_LEN];   /* the CSRF secret of this session */
	/* the send tokens used last, newest first; all zero: none */
	uint8_t sent[STORE_SESSION_SENT_MAX][STORE_SEND_TOKEN_LEN];
};

/* Fills `bytes` from the kernel CSPRNG (getrandom). 0, or -1 (*error_r). */
int store_random(void *bytes, size_t len, const char **error_r);

/* Creates a session for `user_id` with a fresh random id and CSRF secret.
 * 1 with *session_r, -1 on error. */
int store_session_create(struct store *store, uint32_t user_id, int64_t now,
			 struct store_session *session_r, const char **error_r);

/* Looks a session up. 1 valid (filled; last_seen rewritten when older than
 * STORE_SESSION_TOUCH_INTERVAL), 0 unknown or expired (an expired one is
 * deleted), -1 error. */
int store_session_get(struct store *store, const uint8_t id[STORE_SESSION_ID_LEN], int64_t now,
		      unsigned idle, unsigned absolute, struct store_session *session_r,
		      const char **error_r);

/* Whether session s (as read) used send token `token` already. */
bool store_session_sent(const struct store_session *s, const uint8_t token[STORE_SEND_TOKEN_LEN]);

/* Deletes a session (logout, rotation). 1 deleted, 0 unknown, -1 error. */
int store_session_destroy(struct store *store, const uint8_t id[STORE_SESSION_ID_LEN],
			  const char **error_r);

/* Deletes every session of `user_id` except `keep_id` (NULL: all of them):
 * after a password change the other sign-ins end. Returns the number
 * deleted, or -1. */
int store_session_destroy_user(struct store *store, uint32_t user_id,
			       const uint8_t keep_id[STORE_SESSION_ID_LEN], const char **error_r);

/* Deletes every session past its idle or absolute limit (the maintenance
 * job). Returns the number deleted, or -1. */
int store_session_expire(struct store *store, int64_t now, unsigned idle, unsigned absolute,
			 const char **error_r);

/* Webmail settings of a user. */
#define STORE_PREFS_PAGE_MIN 10
#define STORE_PREFS_PAGE_MAX 200
#define STORE_PREFS_TZ_MAX (14 * 60)
#define STORE_PREFS_ZONE_MAX 64     /* TZINFO_NAME_MAX */
struct store_prefs {
	uint16_t page_size;   /* messages per list page (10-200, default 50) */
	int16_t tz_minutes;   /* a fixed zone, minutes east of UTC (default 0), when zone is "" */
	char zone[STORE_PREFS_ZONE_MAX + 1]; /* a named zone ("Europe/Berlin"), or "" */
	bool prefer_html;     /* multipart/alternative: HTML (default) or text */
	uint8_t remote_images; /* STORE_REMOTE_IMAGES_*: when an HTML message may load them */
};
enum {
	STORE_REMOTE_IMAGES_NEVER = 0,   /* the default */
	STORE_REMOTE_IMAGES_KNOWN = 1,   /* from senders in the address book */
};

/* The user's settings, or the defaults when none were saved. 1, or -1. */
int store_prefs_get(struct store *store, uint32_t user_id, struct store_prefs *prefs_r,
		    const char **error_r);
/* Saves them (values are clamped to the ranges above). 1, or -1. */
int store_prefs_set(struct store *store, uint32_t user_id, const struct store_prefs *prefs,
		    const char **error_r);

#endif
