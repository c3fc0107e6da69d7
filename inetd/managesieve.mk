# inetd/managesieve.mk: managesieved, RFC 5804 ManageSieve on port 4190.
# The session code is a library, so that the fuzz harness drives the same
# command loop.
noinst_LIBRARIES += inetd/libmanagesieve.a
inetd_libmanagesieve_a_SOURCES = inetd/managesieve.h inetd/managesieve_proto.c \
	inetd/managesieve_session.c inetd/managesieve_auth.c inetd/managesieve_cmds.c

pkglibexec_PROGRAMS += inetd/managesieved
inetd_managesieved_SOURCES = inetd/managesieved.c
inetd_managesieved_LDADD = inetd/libmanagesieve.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)

# The argument parser alone (it links only the parser and the store's basics).
check_PROGRAMS += tests/unit/test_managesieve_proto
TESTS += tests/unit/test_managesieve_proto
tests_unit_test_managesieve_proto_SOURCES = tests/unit/test_managesieve_proto.c
tests_unit_test_managesieve_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_managesieve_proto_LDADD = inetd/libmanagesieve.a $(UNIT_LIBS)

# Every command and response code over raw sockets, STARTTLS, SASL, bad
# input, a delivery filed by the script, and sieve-connect as the real client.
TESTS += tests/integration/test_managesieve.py

dist_man8_MANS += doc/managesieved.8

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_managesieve
tests_fuzz_fuzz_managesieve_SOURCES = tests/fuzz/fuzz_managesieve.c tests/fuzz/fuzz_world.c \
	tests/fuzz/fuzz_world.h
tests_fuzz_fuzz_managesieve_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_managesieve_LDADD = inetd/libmanagesieve.a inetd/libinetd.a $(STORE_LIBS) \
	$(GNUTLS_LIBS)
endif
