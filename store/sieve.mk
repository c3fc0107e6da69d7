# store/sieve.mk: Sieve mail filtering (RFC 5228 and the extensions listed
# in store/sieve.h): a script compiled once, run against a message's header
# block and envelope, giving the copies to store and the redirects.
store_libpillarbox_a_SOURCES += store/sieve.h store/sieve_int.h store/sieve_lex.c \
	store/sieve_parse.c store/sieve_run.c store/sieve_match.c store/sieve_vars.c store/sieve_date.c \
	store/sieve_reject.c \
	store/sieve_store.c store/sieve_store.h \
	store/deliver_filter.c store/deliver_int.h

check_PROGRAMS += tests/unit/test_sieve
TESTS += tests/unit/test_sieve
tests_unit_test_sieve_SOURCES = tests/unit/test_sieve.c
tests_unit_test_sieve_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sieve_LDADD = $(UNIT_LIBS)

# The filters at delivery, on a real store.
check_PROGRAMS += tests/unit/test_deliver_filter
TESTS += tests/unit/test_deliver_filter
tests_unit_test_deliver_filter_SOURCES = tests/unit/test_deliver_filter.c \
	tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_deliver_filter_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_deliver_filter_LDADD = $(UNIT_LIBS)

# Each user's scripts in the store, every function and limit.
check_PROGRAMS += tests/unit/test_sieve_store
TESTS += tests/unit/test_sieve_store
tests_unit_test_sieve_store_SOURCES = tests/unit/test_sieve_store.c \
	tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_sieve_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sieve_store_LDADD = $(UNIT_LIBS)

if FUZZING
# Scripts and header blocks, both hostile.
noinst_PROGRAMS += tests/fuzz/fuzz_sieve
tests_fuzz_fuzz_sieve_SOURCES = tests/fuzz/fuzz_sieve.c
tests_fuzz_fuzz_sieve_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sieve_LDADD = $(STORE_LIBS)
endif
