/* Password hashing with libxcrypt: the only file that includes <crypt.h>. */
#ifndef PB_PASSWORD_H
#define PB_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Longer passwords are refused, not truncated. libxcrypt itself refuses
 * passphrases of CRYPT_MAX_PASSPHRASE_SIZE (512) bytes or more, NUL included. */
#define PASSWORD_MAX 511
#define PASSWORD_HASH_MAX 512
/* Characters (not bytes) a new password needs at least: NIST SP 800-63B
 * asks for 8; 10 keeps a typed passphrase out of the reach of the usual
 * dictionaries while remaining easy to remember. The webmail refuses
 * shorter ones; the admin tool warns. */
#define PASSWORD_MIN_CHARS 10

/* Characters of a UTF-8 password (continuation bytes not counted). */
size_t password_chars(const char *password);

/* Hashes `password` with yescrypt ($y$) at `cost` (0 = libxcrypt's default)
 * into hash_r (size PASSWORD_HASH_MAX). Salt from the kernel CSPRNG.
 * Returns 0, or -1 with *error_r. */
int password_hash(const char *password, unsigned cost, char hash_r[PASSWORD_HASH_MAX],
		  const char **error_r);

/* 1 if `password` matches `hash` ($y$, $7$, $6$, $5$, $2b$/$2y$ accepted),
 * 0 if not (or the hash is malformed/disabled such as "!" or "*").
 * When `hash` is NULL (unknown user) a dummy yescrypt hash is checked so the
 * time taken is the same, and 0 is returned. Comparison is constant-time. */
int password_verify(const char *password, const char *hash);

/* true if `hash` looks like one password_verify understands (for imports). */
bool password_hash_supported(const char *hash);

/* Wipes a buffer in a way the compiler cannot elide. */
void password_wipe(void *buf, size_t len);

#endif
