/* Organizational domains (orgdomain.h): the one file that uses libpsl.
 *
 * libpsl is not linked but loaded with dlopen() the first time a name
 * needs it, as store/idn.c loads libidn2: smtpd runs once per connection,
 * and libpsl brings libidn2 and libunistring with it. The few prototypes
 * are declared here (libpsl's ABI has been stable since 0.x under the
 * soname libpsl.so.5), so no -dev package is needed to build.
 *
 * The list: psl_latest(NULL), which loads the newer of libpsl's built-in
 * list and the `publicsuffix` package's file (psl_dist_filename(): Debian
 * builds libpsl with /usr/share/publicsuffix/public_suffix_list.dafsa),
 * falling back to the built-in list if the file cannot be read. The
 * publicsuffix package is updated more often than libpsl; psl_builtin()
 * alone would freeze the list at libpsl's build. The context is loaded once
 * per process (pthread_once) and read-only afterwards. */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "orgdomain.h"

#define PSL_LIBRARY "libpsl.so.5"
#define PSL_PACKAGE "libpsl5"

/* libpsl.h's prototypes (0.21), as pointer types: the context is opaque. */
typedef struct psl_ctx_st psl_ctx_t;
typedef psl_ctx_t *psl_latest_fn(const char *fname);
typedef const psl_ctx_t *psl_builtin_fn(void);
typedef const char *psl_registrable_domain_fn(const psl_ctx_t *psl, const char *domain);

static struct {
	psl_latest_fn *psl_latest;
	psl_builtin_fn *psl_builtin;
	psl_registrable_domain_fn *psl_registrable_domain;
	const psl_ctx_t *psl;
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static bool lib_ok;
static const char *lib_soname = PSL_LIBRARY;

static const char psl_missing[] = "organizational domains need libpsl, which cannot be "
				  "loaded: apt-get install " PSL_PACKAGE " publicsuffix";

static void psl_library_load(void)
{
	void *h = lib_soname[0] != '\0' ? dlopen(lib_soname, RTLD_NOW | RTLD_LOCAL) : NULL;
	const char *why;

	if (h == NULL) {
		why = dlerror();
		log_error("%s (%s)", psl_missing, why != NULL ? why : lib_soname);
		return;
	}
	lib.psl_latest = (psl_latest_fn *)dlsym(h, "psl_latest");
	lib.psl_builtin = (psl_builtin_fn *)dlsym(h, "psl_builtin");
	lib.psl_registrable_domain =
		(psl_registrable_domain_fn *)dlsym(h, "psl_registrable_domain");
	if (lib.psl_latest == NULL || lib.psl_builtin == NULL ||
	    lib.psl_registrable_domain == NULL) {
		why = dlerror();
		log_error("%s (%s lacks a function: %s)", psl_missing, lib_soname,
			  why != NULL ? why : "?");
		dlclose(h);
		return;
	}
	lib.psl = lib.psl_latest(NULL);
	if (lib.psl == NULL)
		lib.psl = lib.psl_builtin();
	if (lib.psl == NULL) {
		log_error("%s (no Public Suffix List: neither the file nor the built-in one)",
			  psl_missing);
		return; /* h stays mapped: harmless, and never retried */
	}
	lib_ok = true;
}

bool org_domain_loaded(void)
{
	return lib_ok;
}

void org_domain_library_set(const char *soname)
{
	lib_soname = soname;
}

int org_domain_normalize(const char *domain, char out[DNS_HOST_MAX])
{
	size_t len = strlen(domain), label = 0;

	out[0] = '\0';
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_HOST_MAX - 3) /* 253 */
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = domain[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			label++;
		} else {
			return 0;
		}
		if (label > 63)
			return 0;
		out[i] = c;
	}
	if (label == 0) /* "a..": the dot dropped was not the only one */
		return 0;
	out[len] = '\0';
	return 1;
}

int org_domain(const char *domain, char out[DNS_HOST_MAX], const char **error_r)
{
	char name[DNS_HOST_MAX];

	out[0] = '\0';
	if (!org_domain_normalize(domain, name)) {
		*error_r = "not a valid domain name";
		return 0;
	}
	pthread_once(&lib_once, psl_library_load);
	if (!lib_ok) {
		*error_r = psl_missing;
		return -1;
	}
	/* NULL for a public suffix (and for the unknown bare labels its
	 * implicit "*" rule makes one); else a pointer into name */
	const char *reg = lib.psl_registrable_domain(lib.psl, name);

	if (reg == NULL)
		reg = name;
	memmove(out, reg, strlen(reg) + 1);
	return 1;
}
