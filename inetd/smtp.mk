# inetd/smtp.mk: smtpd (MX and submission), its unit tests, integration
# tests, fuzz harness and benchmark. The session code is a library so that
# the fuzz harness and the unit tests drive the same command loop.
noinst_LIBRARIES += inetd/libsmtp.a
inetd_libsmtp_a_SOURCES = inetd/smtp.h inetd/smtp_session.c inetd/smtp_auth.c \
	inetd/smtp_envelope.c inetd/smtp_deliver.c inetd/smtp_msg.h inetd/smtp_bdat.c \
	inetd/smtp_addr.c inetd/smtp_addr.h inetd/smtp_data.c inetd/smtp_data.h \
	inetd/smtp_header.c inetd/smtp_header.h

pkglibexec_PROGRAMS += inetd/smtpd
inetd_smtpd_SOURCES = inetd/smtpd.c
inetd_smtpd_LDADD = inetd/libsmtp.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)

# Unit tests: the pure parsers byte by byte, and scripted sessions over a
# socketpair with a fresh store.
check_PROGRAMS += tests/unit/test_smtp_addr tests/unit/test_smtp_data \
	tests/unit/test_smtp_header tests/unit/test_smtp_session
TESTS += tests/unit/test_smtp_addr tests/unit/test_smtp_data \
	tests/unit/test_smtp_header tests/unit/test_smtp_session

tests_unit_test_smtp_addr_SOURCES = tests/unit/test_smtp_addr.c
tests_unit_test_smtp_addr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_smtp_addr_LDADD = inetd/libsmtp.a $(UNIT_LIBS)

tests_unit_test_smtp_data_SOURCES = tests/unit/test_smtp_data.c
tests_unit_test_smtp_data_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_smtp_data_LDADD = inetd/libsmtp.a $(CMOCKA_LIBS)

tests_unit_test_smtp_header_SOURCES = tests/unit/test_smtp_header.c
tests_unit_test_smtp_header_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_smtp_header_LDADD = inetd/libsmtp.a $(UNIT_LIBS)

tests_unit_test_smtp_session_SOURCES = tests/unit/test_smtp_session.c
tests_unit_test_smtp_session_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_smtp_session_LDADD = inetd/libsmtp.a inetd/libinetd.a $(UNIT_LIBS) $(GNUTLS_LIBS) -lpthread

# Integration tests: real clients against smtpd under systemd-socket-activate
# and xinetd (tests/integration/smtptest.py extends pbtest.py); smtp_peek
# reads back what was stored.
check_PROGRAMS += tests/integration/smtp_peek
tests_integration_smtp_peek_SOURCES = tests/integration/smtp_peek.c
tests_integration_smtp_peek_LDADD = $(STORE_LIBS)
TESTS += tests/integration/test_smtp.py tests/integration/test_smtp_relay.py \
	tests/integration/test_smtp_clients.py tests/integration/test_smtp_badinput.py \
	tests/integration/test_smtp_crash.py tests/integration/test_smtp_idn.py \
	tests/integration/test_smtp_dnsbl.py tests/integration/test_sieve.py \
	tests/integration/test_smtp_send_limit.py tests/integration/test_smtp_chunking.py

# The benchmark's load client (run by hand: tests/bench/bench_smtp.py).
noinst_PROGRAMS += tests/bench/bench_smtp
tests_bench_bench_smtp_SOURCES = tests/bench/bench_smtp.c tests/bench/bench_client.h
tests_bench_bench_smtp_LDADD = -lpthread

# (the lead may merge this into a shared dist_man8_MANS)
dist_man8_MANS += doc/smtpd.8

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_smtp
tests_fuzz_fuzz_smtp_SOURCES = tests/fuzz/fuzz_smtp.c tests/fuzz/fuzz_world.c \
	tests/fuzz/fuzz_world.h
tests_fuzz_fuzz_smtp_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_smtp_LDADD = inetd/libsmtp.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)
endif
