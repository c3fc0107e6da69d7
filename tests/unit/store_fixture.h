/* A fresh store in a temporary directory for the unit tests that need one
 * (cmocka setup/teardown), and the store-user switch their main() makes. */
#ifndef PB_TEST_STORE_FIXTURE_H
#define PB_TEST_STORE_FIXTURE_H

#include "config.h"
#include "store.h"

struct store_fixture {
	struct config *config;
	struct store *store;
	char dir[64];
};

/* cmocka setup: *state = a struct store_fixture with an initialised, open
 * store under /tmp. -1 (and a message) on failure. */
int store_fixture_setup(void **state);
/* cmocka teardown: closes the store and removes its directory. */
int store_fixture_teardown(void **state);
/* A cmocka test on a fresh store. */
#define STORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, store_fixture_setup, store_fixture_teardown)

/* For main(): as root, switches to the `pillarbox` user (the store refuses
 * root). 0 to go on, or the exit status: 77 (skip: no such user) or 1. */
int store_fixture_become_store_user(void);

#endif
