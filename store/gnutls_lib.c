/* GnuTLS loaded on first use (gnutls_lib.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "gnutls_lib.h"

/* GnuTLS 3.x's soname (unchanged since 3.4). */
#define GNUTLS_LIBRARY "libgnutls.so.30"

static struct gnutls_lib lib;
const struct gnutls_lib *const gtls = &lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static bool lib_ok;
static char lib_error[256];

static void load(void)
{
	gnutls_free_function *free_fn;
	void *h = dlopen(GNUTLS_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		snprintf(lib_error, sizeof(lib_error), "cannot load GnuTLS: %s", dlerror());
		return;
	}
#define GNUTLS_LIB_RESOLVE(name) \
	if ((lib.name = (__typeof__(lib.name))dlsym(h, #name)) == NULL) \
		goto missing;
	GNUTLS_LIB_FUNCTIONS(GNUTLS_LIB_RESOLVE)
#undef GNUTLS_LIB_RESOLVE
	free_fn = (gnutls_free_function *)dlsym(h, "gnutls_free");
	if (free_fn == NULL || *free_fn == NULL)
		goto missing;
	lib.free = *free_fn;
	/* Older than the headers we were built with: refuse, do not guess. */
	if (lib.gnutls_check_version(GNUTLS_VERSION) == NULL) {
		snprintf(lib_error, sizeof(lib_error), "%s is older than GnuTLS %s, the version built "
			 "against", GNUTLS_LIBRARY, GNUTLS_VERSION);
		dlclose(h);
		return;
	}
	lib_ok = true;
	return;
missing:;
	const char *why = dlerror();

	snprintf(lib_error, sizeof(lib_error), "%s lacks a function: %s", GNUTLS_LIBRARY, why != NULL ? why : "gnutls_free");
	dlclose(h);
}

int gnutls_lib_load(const char **error_r)
{
	pthread_once(&lib_once, load);
	if (!lib_ok)
		*error_r = lib_error;
	return lib_ok ? 0 : -1;
}
