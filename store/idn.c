/* Internationalized domain names (idn.h): the one file that includes
 * <idn2.h>.
 *
 * libidn2 is not linked: every handler is a process per connection, and
 * libidn2 with libunistring would be mapped and relocated at every start
 * for the few domains that need them. It is loaded with dlopen() the first
 * time a domain does (as inetd/tls.c loads GnuTLS); the header still gives
 * each prototype (__typeof__), so every call is type-checked. The webmail
 * server is threaded: the loading runs once (pthread_once) and is read-only
 * afterwards; libidn2 itself is thread-safe.
 *
 * No UTS #46 transitional fallback (curl and browsers retry a refused name
 * transitionally): transitional processing maps ß to ss and drops ZWJ/ZWNJ,
 * so "straße.de" would become "strasse.de", another registrant's domain.
 * The store keys mail by these names; a name IDNA2008 refuses is refused
 * here with its reason, never quietly turned into a different one. */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include <idn2.h>

#include "idn.h"
#include "log.h"

/* libidn2 2.x's soname; the Debian package that ships it, for messages. */
#define IDN_LIBRARY "libidn2.so.0"
#define IDN_PACKAGE "libidn2-0"
/* IDNA2008 with UTS #46 non-transitional mapping: NFC first, so NFD input
 * is the same name; the mapping folds case (MÜLLER is müller) and keeps ß
 * and ς as they are (the registries' IDNA2008). */
#define IDN_FLAGS (IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL)

#define IDN_FUNCTIONS(X) X(idn2_lookup_u8) X(idn2_to_unicode_8z8z) X(idn2_strerror) X(idn2_free)

static struct {
#define IDN_MEMBER(name) __typeof__(name) *name;
	IDN_FUNCTIONS(IDN_MEMBER)
#undef IDN_MEMBER
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static bool lib_ok;
static const char *lib_soname = IDN_LIBRARY;

static const char idn_missing[] = "internationalized domain names need libidn2, which "
				  "cannot be loaded: apt-get install " IDN_PACKAGE;

static void idn_library_load(void)
{
	void *h = lib_soname[0] != '\0' ? dlopen(lib_soname, RTLD_NOW | RTLD_LOCAL) : NULL;

	if (h == NULL) {
		const char *why = dlerror();

		log_error("%s (%s)", idn_missing, why != NULL ? why : lib_soname);
		return;
	}
#define IDN_RESOLVE(name) \
	if ((lib.name = (__typeof__(lib.name))dlsym(h, #name)) == NULL) \
		goto missing;
	IDN_FUNCTIONS(IDN_RESOLVE)
#undef IDN_RESOLVE
	lib_ok = true;
	return;
missing:;
	const char *why = dlerror();

	log_error("%s (%s lacks a function: %s)", idn_missing, lib_soname,
		  why != NULL ? why : "?");
	dlclose(h);
}

static bool idn_library(void)
{
	pthread_once(&lib_once, idn_library_load);
	return lib_ok;
}

bool idn_loaded(void)
{
	return lib_ok;
}

void idn_library_set(const char *soname)
{
	lib_soname = soname;
}

static bool is_xn_label(const char *s, size_t len)
{
	return len >= 4 && (s[0] == 'x' || s[0] == 'X') && (s[1] == 'n' || s[1] == 'N') &&
	       s[2] == '-' && s[3] == '-';
}

bool idn_domain_needs(const char *domain, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)domain[i] >= 0x80)
			return true;
	return false;
}

/* Whether an ASCII domain has an A-label to show decoded. */
static bool has_xn_label(const char *domain, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || domain[i] == '.') {
			if (is_xn_label(domain + start, i - start))
				return true;
			start = i + 1;
		}
	}
	return false;
}

int idn_domain_to_ascii(const char *domain, char *dst, size_t size, const char **error_r)
{
	char *out = NULL;

	if (!idn_library()) {
		*error_r = idn_missing;
		return -1;
	}
	int rc = lib.idn2_lookup_u8((const uint8_t *)domain, (uint8_t **)&out, IDN_FLAGS);
	if (rc != IDN2_OK) {
		*error_r = lib.idn2_strerror(rc);
		return 0;
	}
	size_t len = strlen(out);
	if (len >= size) {
		lib.idn2_free(out);
		*error_r = "its A-label form is too long";
		return 0;
	}
	for (size_t i = 0; i <= len; i++) /* lookup lowercases; to be sure */
		dst[i] = out[i] >= 'A' && out[i] <= 'Z' ? (char)(out[i] - 'A' + 'a') : out[i];
	lib.idn2_free(out);
	return 1;
}

int idn_domain_to_unicode(const char *domain, char *dst, size_t size)
{
	char *out = NULL;
	int r = 0;

	dst[0] = '\0';
	if (!has_xn_label(domain, strlen(domain)) || !idn_library())
		return 0;
	if (lib.idn2_to_unicode_8z8z(domain, &out, 0) != IDN2_OK)
		return 0;
	if (strcmp(out, domain) != 0 && strlen(out) < size) {
		memcpy(dst, out, strlen(out) + 1);
		r = 1;
	}
	lib.idn2_free(out);
	return r;
}
