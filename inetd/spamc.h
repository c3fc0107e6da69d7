/* The MX's spam check: a client of the SPAMC protocol, which SpamAssassin's
 * spamd speaks and rspamd's normal worker speaks too (its port 11333), so
 * one `spamd = HOST:PORT` serves either. smtpd sends each message from
 * outside (smtp_deliver.c) with SYMBOLS and gets back the verdict, the
 * score and the names of the rules that hit; it adds SpamAssassin's
 * X-Spam-Status and X-Spam-Flag fields, which mail clients know, and files
 * spam in Junk or refuses it past `spam_reject_score`.
 *
 * A spam checker that cannot be reached, is too slow or answers nonsense
 * costs the check, never the mail: the caller delivers unchecked and logs
 * why (as rspamd's and SpamAssassin's own milters do by default). */
#ifndef PB_SPAMC_H
#define PB_SPAMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPAMC_REPLY_MAX 65536   /* octets of a reply read; more is an error */
#define SPAMC_TESTS_MAX 900     /* octets of the rule names kept */
#define SPAMC_SCORE_MAX 9999999 /* |score| in tenths of a point: past it, nonsense */
#define SPAMC_TIMEOUT 30        /* seconds for a whole check, connect included */
/* The two fields at their longest (the rule names folded), with CRLFs. */
#define SPAMC_FIELDS_MAX (SPAMC_TESTS_MAX + SPAMC_TESTS_MAX / 8 + 128)

struct spamc_result {
	bool spam;                      /* the checker's own verdict */
	int32_t score, required;        /* tenths of a point */
	char tests[SPAMC_TESTS_MAX + 1]; /* "GTUBE,MISSING_DATE": names of
					  * [A-Za-z0-9_.-] joined by ',' */
};

/* The request line and header for a message of `size` octets (the
 * message follows them): its length, or 0 when it does not fit. */
size_t spamc_request_format(uint64_t size, char *buf, size_t size_buf);

/* Reads a reply to SYMBOLS, reply[0..len) being what arrived so far (eof:
 * all there will be): 1 complete (*r filled), 0 incomplete (read more),
 * -1 not a good reply
 * (*error_r says why: the checker's own error line, a bad score ...).
 * Rule names that are not plain words are left out, and the list is cut
 * at a whole name past SPAMC_TESTS_MAX. */
int spamc_reply_parse(const char *reply, size_t len, bool eof, struct spamc_result *r,
		      const char **error_r);

/* The fields smtpd adds, as SpamAssassin writes them:
 *   X-Spam-Flag: YES                       (spam only)
 *   X-Spam-Status: Yes, score=15.3 required=5.0 tests=GTUBE,
 *   	MISSING_DATE
 * folded below 78 columns: the length, or 0 when they do not fit. */
size_t spamc_fields_format(const struct spamc_result *r, char *buf, size_t size);

/* Takes the fields a checker writes (X-Spam-Flag, -Status, -Level,
 * -Score) out of the header block h[0..len), in place, when we check:
 * a sender's own "X-Spam-Status: No" must not pass for ours. `complete`
 * false: the block was cut at len and its last field is left whole. The
 * new length. */
size_t spamc_strip_fields(char *h, size_t len, bool complete);

/* A score in tenths as SpamAssassin prints it ("-1.5", "15.0"). */
void spamc_score_format(int32_t tenths, char buf[16]);

/* Asks the checker at `hostport` about the message msg[0..len) within
 * SPAMC_TIMEOUT seconds (a stop signal ends the wait): 0 with *r, or -1
 * with *error_r (cannot connect, timed out, a bad reply). */
int spamc_check(const char *hostport, const char *msg, size_t len, struct spamc_result *r,
		const char **error_r);

/* Learning (SpamAssassin's TELL; spamd needs --allow-tell): the request
 * line and header that teach the checker a message of `size` octets is
 * spam or ham ("Set: local": its own Bayes database). The length, or 0. */
size_t spamc_tell_format(uint64_t size, bool spam, char *buf, size_t size_buf);
/* Reads a reply to TELL as spamc_reply_parse does: 1 learned (DidSet),
 * 2 nothing set (known as that class already; *error_r says so), 0 read
 * more, -1 an error (spamd's own, e.g. TELL not enabled). */
int spamc_tell_reply_parse(const char *reply, size_t len, bool eof, const char **error_r);
/* Teaches the checker at `hostport` about msg[0..len) within SPAMC_TIMEOUT:
 * 1 learned, 2 known already, -1 (*error_r). */
int spamc_tell(const char *hostport, const char *msg, size_t len, bool spam, const char **error_r);

#endif
