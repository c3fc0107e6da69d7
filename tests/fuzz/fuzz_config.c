/* libFuzzer harness for the configuration parser (store/config.c): the
 * input is a pillarbox.conf. It is accepted, or refused with one message
 * that names the file (and the line: "FILE:LINE: what is wrong"), never a
 * crash. Every value an accepted file sets stays within its own checks:
 * a second load of the same bytes gives the same verdict.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_config
 * Run:   tests/fuzz/fuzz_config -max_total_time=600 ../../tests/fuzz/corpus/config */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file is read from a memfd through its /proc path, as any path. */
static int load(const char *path, const char **error_r)
{
	struct config *config = NULL;
	int r = config_load(path, &config, error_r);
	if ((r == 0) != (config != NULL))
		abort();
	config_free(&config);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	const char *error = NULL;
	int fd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int r = load(path, &error);
	if (r < 0 && (error == NULL || strncmp(error, path, strlen(path)) != 0)) {
		fprintf(stderr, "a refusal that does not name the file: %s\n", error ? error : "(none)");
		abort();
	}
	if (load(path, &error) != r)
		abort();
	close(fd);
	return 0;
}
