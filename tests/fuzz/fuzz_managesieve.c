/* libFuzzer harness over the ManageSieve command loop: the input is what a
 * client sends, read by the real conn layer from a memfd, answered into
 * /dev/null, with a real store behind it (made once per fuzzing process in
 * a temporary directory).
 *
 * The first input byte picks the start: even = from the greeting
 * (AUTHENTICATE, literals in SASL responses...), odd = already logged in,
 * so the fuzzer does not have to guess the password to reach PUTSCRIPT,
 * RENAMESCRIPT and the rest. The user's scripts are removed before each
 * run, so that one input means one behaviour. Auth delays are off.
 *
 * Build: ../../configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_managesieve
 * Run:   tests/fuzz/fuzz_managesieve -max_total_time=600 ../../tests/fuzz/corpus/managesieve */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_world.h"
#include "managesieve.h"

#define FUZZ_USER "bob@example.com"
#define FUZZ_PASSWORD "pw"
/* Three scripts' worth of literals fit twice over. */
#define FUZZ_INPUT_MAX (4 * SIEVE_SCRIPT_MAX)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *fuzz_config;
static struct store *fuzz_store;
static struct store_user fuzz_account;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *error = NULL;

	fuzz_config = fuzz_world_config("fuzz_managesieve", argc, argv);
	fuzz_store = fuzz_world_store();
	if (store_domain_add(fuzz_store, "example.com", &error) < 0 ||
	    store_user_add(fuzz_store, FUZZ_USER, FUZZ_PASSWORD, NULL, &error) != 1 ||
	    store_user_find(fuzz_store, FUZZ_USER, &fuzz_account, &error) != 1)
		fuzz_die("store", error);
	return 0;
}

/* Every script of the user gone, none active. */
static void fuzz_scripts_clear(void)
{
	struct store_sieve_entry *list;
	const char *error = NULL;
	size_t n;

	if (store_sieve_activate(fuzz_store, fuzz_account.id, NULL, &error) < 0 ||
	    store_sieve_list(fuzz_store, fuzz_account.id, &list, &n, &error) < 0)
		fuzz_die("sieve", error);
	for (size_t i = 0; i < n; i++) {
		if (store_sieve_delete(fuzz_store, fuzz_account.id, list[i].name, &error) != 1)
			fuzz_die("sieve delete", error);
	}
	free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_session *session;
	struct conn *conn;
	int fd;

	if (size == 0)
		return 0;
	fuzz_scripts_clear();
	conn = fuzz_world_conn(data + 1, size - 1, FUZZ_INPUT_MAX, MS_LINE_MAX, &fd);
	session = ms_session_new(conn, fuzz_store, fuzz_config, NULL);
	if (session == NULL)
		fuzz_die("session", "out of memory");
	if ((data[0] & 1) != 0) {
		session->account = fuzz_account;
		session->state = MS_STATE_AUTH;
	}
	(void)ms_session_run(session);
	ms_session_free(&session);
	conn_free(&conn);
	close(fd);
	return 0;
}
