/* Each user's Sieve scripts (sieve.h): up to STORE_SIEVE_SCRIPTS_MAX named
 * scripts, at most one of them active; delivery runs the active one
 * (deliver_filter.c). The store keeps text and compiles nothing: callers
 * check a script with sieve_compile() before they put it.
 *
 * Records live in the sessions database (DBI_SESSIONS) beside the other
 * per-user settings (vacation.h):
 *   "sievescr" u32 user, name  -> {u8 version, text}
 *   "sieveact" u32 user        -> {u8 version, name}
 * A key that would be STORE_SESSION_ID_LEN bytes long (a session id) gets
 * a trailing NUL. Changes are durable (the user typed them); deleting the
 * user deletes them (user.c).
 *
 * Results: 1 done or found, 0 refused or not found (*error_r says why),
 * -1 store error. */
#ifndef PB_SIEVE_STORE_H
#define PB_SIEVE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sieve.h"

#define STORE_SIEVE_NAME_MAX 128     /* octets of UTF-8, no control characters */
#define STORE_SIEVE_SCRIPTS_MAX 16   /* a user's */

struct store;

struct store_sieve_entry {
	char name[STORE_SIEVE_NAME_MAX + 1];
	bool active;
	size_t len;
};

/* The user's scripts, by name (*entries_r malloc'd, *n_r of them). */
int store_sieve_list(struct store *store, uint32_t user_id, struct store_sieve_entry **entries_r,
		     size_t *n_r, const char **error_r);
/* A script's text (*text_r malloc'd, NUL-terminated, *len_r octets). */
int store_sieve_get(struct store *store, uint32_t user_id, const char *name, char **text_r,
		    size_t *len_r, const char **error_r);
/* The active script: its name and text; 0 when none is active. */
int store_sieve_get_active(struct store *store, uint32_t user_id,
			   char name_r[STORE_SIEVE_NAME_MAX + 1], char **text_r, size_t *len_r,
			   const char **error_r);
/* Creates or replaces a script. Refused: a bad name, a text over
 * SIEVE_SCRIPT_MAX, a script past STORE_SIEVE_SCRIPTS_MAX. */
int store_sieve_put(struct store *store, uint32_t user_id, const char *name, const char *text,
		    size_t len, const char **error_r);
/* What a caller read of the scripts (a form made from them): the active
 * script's name ("" none), and one script's name and text (NULL: it did
 * not exist). */
struct store_sieve_seen {
	const char *active;
	const char *name;
	const char *text;
	size_t len;
};
/* store_sieve_put, only if nothing `seen` describes changed since; with
 * `activate`, `name` also becomes the active script. One transaction: two
 * saves at once cannot both pass. 1 written, 2 changed meanwhile (nothing
 * written), 0 refused, -1 error. */
int store_sieve_put_if(struct store *store, uint32_t user_id, const char *name, const char *text,
		       size_t len, const struct store_sieve_seen *seen, bool activate,
		       const char **error_r);
/* Makes `name` the active script (NULL: none is). 0: no such script. */
int store_sieve_activate(struct store *store, uint32_t user_id, const char *name,
			 const char **error_r);
/* 0: no such script, or it is the active one (as ManageSieve's
 * DELETESCRIPT: deactivate it first). */
int store_sieve_delete(struct store *store, uint32_t user_id, const char *name,
		       const char **error_r);
/* 0: no such script, a bad new name, or one of that name exists. The
 * active script stays active under its new name. */
int store_sieve_rename(struct store *store, uint32_t user_id, const char *old_name,
		       const char *new_name, const char **error_r);

#endif
