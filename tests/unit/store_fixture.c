/* The temporary store of the unit tests (store_fixture.h). */
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process.h"
#include "store_fixture.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int store_fixture_setup(void **state)
{
	struct store_fixture *f = calloc(1, sizeof(*f));
	const char *err = "out of memory";

	if (f == NULL)
		return -1;
	*state = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pb-unit-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		fprintf(stderr, "store fixture: mkdtemp: %m\n");
		return -1;
	}
	if ((f->config = config_defaults()) == NULL)
		goto fail;
	free(f->config->store);
	if ((f->config->store = strdup(f->dir)) == NULL)
		goto fail;
	if (store_init(f->config, &err) < 0 || store_open(f->config, false, &f->store, &err) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "store fixture: %s\n", err);
	return -1;
}

int store_fixture_teardown(void **state)
{
	struct store_fixture *f = *state;

	if (f == NULL)
		return 0;
	store_close(&f->store);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	config_free(&f->config);
	free(f);
	*state = NULL;
	return 0;
}

int store_fixture_become_store_user(void)
{
	const char *err;

	if (geteuid() != 0)
		return 0;
	if (getpwnam("pillarbox") == NULL) {
		fprintf(stderr, "SKIP: running as root and there is no user pillarbox\n");
		return 77;
	}
	if (process_drop_root("pillarbox", &err) < 0) {
		fprintf(stderr, "process_drop_root: %s\n", err);
		return 1;
	}
	return 0;
}
