# tests/store/local.mk: the store's multi-process tests (shell scripts driving
# tests/store/storetool; tests/store/lib.sh is their shared part) and the
# benchmark's helper (tests/bench/bench_store.sh is run by hand, not a test).
# Makefile.am already distributes tests/store and tests/bench whole.
check_PROGRAMS += tests/store/storetool tests/bench/bench_open
TESTS += tests/store/test_concurrency.sh tests/store/test_crash.sh \
	tests/store/test_bystanders.sh tests/store/test_badstore.sh tests/store/test_panic_rejoin.sh \
	tests/store/test_commit_panic.sh tests/store/test_many_users.sh tests/store/test_upgrade.sh \
	tests/store/test_disk_full.py

tests_store_storetool_SOURCES = tests/store/storetool.c
tests_store_storetool_LDADD = $(STORE_LIBS)

tests_bench_bench_open_SOURCES = tests/bench/bench_open.c
