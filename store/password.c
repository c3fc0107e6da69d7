/* Password hashing and checking with libxcrypt (the only file with <crypt.h>). */
#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"

_Static_assert(PASSWORD_MAX < CRYPT_MAX_PASSPHRASE_SIZE, "libxcrypt refuses longer passwords");
_Static_assert(PASSWORD_HASH_MAX >= CRYPT_OUTPUT_SIZE, "hash_r must hold any crypt output");

/* What an unknown user's (or a disabled account's) password is checked
 * against, so every failure costs one yescrypt computation at the default
 * cost, like a real check. Its password is not secret and matters not: the
 * result is thrown away. */
static const char password_dummy_hash[] =
	"$y$j9T$eB7BXp1J4VuqoaEyRgUml0$EgW.xGHtRVZAi2ML5lD9jBn52D/chXepuUGBZJ74zQ5";

/* The methods we verify: yescrypt (ours), scrypt, SHA-crypt and bcrypt, as
 * found in /etc/shadow and other systems' exports. MD5-crypt and DES are
 * refused: too weak to import. */
static const char *const password_prefixes[] = {
	"$y$", "$7$", "$6$", "$5$", "$2b$", "$2y$",
};

void password_wipe(void *buf, size_t len)
{
	explicit_bzero(buf, len);
}

bool password_hash_supported(const char *hash)
{
	size_t len, i;
	int check;

	if (hash == NULL)
		return false;
	len = strnlen(hash, PASSWORD_HASH_MAX);
	if (len == 0 || len >= PASSWORD_HASH_MAX)
		return false;
	for (i = 0; i < sizeof(password_prefixes) / sizeof(password_prefixes[0]); i++) {
		if (strncmp(hash, password_prefixes[i], strlen(password_prefixes[i])) == 0)
			break;
	}
	if (i == sizeof(password_prefixes) / sizeof(password_prefixes[0]))
		return false;
	for (const char *p = hash; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '$' || c == '='))
			return false;
	}
	check = crypt_checksalt(hash);
	return check == CRYPT_SALT_OK || check == CRYPT_SALT_METHOD_LEGACY;
}

int password_hash(const char *password, unsigned cost, char hash_r[PASSWORD_HASH_MAX],
		  const char **error_r)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data;
	const char *out;
	size_t len;
	int ret = -1;

	if (strnlen(password, PASSWORD_MAX + 1) > PASSWORD_MAX) {
		*error_r = "password too long";
		return -1;
	}
	/* NULL random bytes: libxcrypt reads them from the kernel (getrandom). */
	if (crypt_gensalt_rn("$y$", cost, NULL, 0, salt, sizeof(salt)) == NULL) {
		*error_r = errno == EINVAL ? "bad password cost" :
			"cannot make a salt (kernel random source unavailable)";
		return -1;
	}
	/* struct crypt_data is 32 KB: too big for a handler's stack habits. */
	data = calloc(1, sizeof(*data));
	if (data == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	out = crypt_rn(password, salt, data, sizeof(*data));
	if (out == NULL || out[0] == '*') {
		*error_r = "password hashing failed";
	} else if ((len = strlen(out)) >= PASSWORD_HASH_MAX) {
		*error_r = "password hash too long";
	} else {
		memcpy(hash_r, out, len + 1);
		ret = 0;
	}
	password_wipe(data, sizeof(*data));
	free(data);
	return ret;
}

/* Constant-time in the contents; the lengths are not secret (a hash's length
 * follows from its method). */
static bool password_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char diff = alen != blen;

	for (size_t i = 0; i < alen; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)(i < blen ? b[i] : 0);
	return diff == 0;
}

int password_verify(const char *password, const char *hash)
{
	struct crypt_data *data;
	const char *setting = hash, *out;
	bool usable = true;
	int ret = 0;

	if (password == NULL || strnlen(password, PASSWORD_MAX + 1) > PASSWORD_MAX) {
		password = "";
		usable = false;
	}
	if (!password_hash_supported(hash)) {
		/* Unknown user, disabled ("!", "*") or damaged hash: spend the
		 * same time on the dummy and fail. */
		setting = password_dummy_hash;
		usable = false;
	}
	data = calloc(1, sizeof(*data));
	if (data == NULL)
		return 0;
	out = crypt_rn(password, setting, data, sizeof(*data));
	if (usable && out != NULL && out[0] != '*' &&
	    password_equal(out, strlen(out), hash, strlen(hash)))
		ret = 1;
	password_wipe(data, sizeof(*data));
	free(data);
	return ret;
}

size_t password_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}
