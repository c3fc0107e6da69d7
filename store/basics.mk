# store/basics.mk: process basics (config, log, password, process start-up,
# the shared --help/--version conventions, GnuTLS loaded on first use).
store_libpillarbox_a_SOURCES += store/config.c store/config.h store/log.c store/log.h \
	store/password.c store/password.h store/process.c store/process.h \
	store/cli.c store/cli.h store/gnutls_lib.c store/gnutls_lib.h \
	store/siphash.c store/siphash.h store/mta_sts.c store/mta_sts.h

check_PROGRAMS += tests/unit/test_config tests/unit/test_log tests/unit/test_password \
	tests/unit/test_process
TESTS += tests/unit/test_config tests/unit/test_log tests/unit/test_password \
	tests/unit/test_process

tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LIBS)

tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_log_LDADD = $(UNIT_LIBS)

tests_unit_test_password_SOURCES = tests/unit/test_password.c
tests_unit_test_password_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_password_LDADD = $(UNIT_LIBS)

tests_unit_test_process_SOURCES = tests/unit/test_process.c
tests_unit_test_process_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_process_LDADD = $(UNIT_LIBS)

# Fuzzing: the configuration parser.
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_config
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_config_LDADD = $(STORE_LIBS)
endif
