# inetd/local.mk: the shared protocol plumbing (libinetd.a) and pop3d.
noinst_LIBRARIES += inetd/libinetd.a
inetd_libinetd_a_SOURCES = inetd/conn.c inetd/conn.h inetd/tls.c inetd/tls.h \
	inetd/deflate_stream.c inetd/deflate_stream.h \
	inetd/tls_sni.c inetd/tls_sni.h \
	inetd/sasl.c inetd/sasl.h inetd/handler.c inetd/handler.h inetd/dns.c inetd/dns.h \
	inetd/dkim_canon.c inetd/dkim_canon.h
inetd_libinetd_a_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)

# pop3d's session code is a library too, so that the fuzz harness drives the
# same command loop.
noinst_LIBRARIES += inetd/libpop3.a
inetd_libpop3_a_SOURCES = inetd/pop3.h inetd/pop3_session.c inetd/pop3_auth.c \
	inetd/pop3_cmds.c inetd/pop3_maildrop.c inetd/pop3_retr.c inetd/pop3_encoder.c

pkglibexec_PROGRAMS += inetd/pop3d
inetd_pop3d_SOURCES = inetd/pop3d.c
inetd_pop3d_LDADD = inetd/libpop3.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)

check_PROGRAMS += tests/unit/test_conn tests/unit/test_sasl tests/unit/test_pop3_encoder \
	tests/unit/test_tls_sni tests/unit/test_dns
TESTS += tests/unit/test_conn tests/unit/test_sasl tests/unit/test_pop3_encoder \
	tests/unit/test_tls_sni tests/unit/test_dns
tests_unit_test_conn_SOURCES = tests/unit/test_conn.c
tests_unit_test_conn_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_conn_LDADD = inetd/libinetd.a $(UNIT_LIBS) $(GNUTLS_LIBS)

# Links zlib itself, to check the dlopen()ed one against it both ways.
check_PROGRAMS += tests/unit/test_deflate_stream
TESTS += tests/unit/test_deflate_stream
tests_unit_test_deflate_stream_SOURCES = tests/unit/test_deflate_stream.c
tests_unit_test_deflate_stream_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_deflate_stream_LDADD = inetd/libinetd.a $(CMOCKA_LIBS) -lz

tests_unit_test_sasl_SOURCES = tests/unit/test_sasl.c
tests_unit_test_sasl_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sasl_LDADD = inetd/libinetd.a $(UNIT_LIBS) $(GNUTLS_LIBS)

# Links only the name checks: no GnuTLS.
tests_unit_test_tls_sni_SOURCES = tests/unit/test_tls_sni.c
tests_unit_test_tls_sni_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_tls_sni_LDADD = inetd/libinetd.a $(CMOCKA_LIBS)

# The DNS answer parsers on hand-made packets (dns.h: the relay's MX and
# address lookups, the MX's sender checks).
tests_unit_test_dns_SOURCES = tests/unit/test_dns.c
tests_unit_test_dns_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dns_LDADD = inetd/libinetd.a $(UNIT_LIBS)

tests_unit_test_pop3_encoder_SOURCES = tests/unit/test_pop3_encoder.c
tests_unit_test_pop3_encoder_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pop3_encoder_LDADD = inetd/libpop3.a $(CMOCKA_LIBS)

# Integration tests (real clients; pbtest.py is the shared fixture module).
check_PROGRAMS += tests/integration/expunge_helper
tests_integration_expunge_helper_SOURCES = tests/integration/expunge_helper.c
tests_integration_expunge_helper_LDADD = $(STORE_LIBS)
TESTS += tests/integration/test_pop3.py tests/integration/test_pop3_clients.py \
	tests/integration/test_pop3_badinput.py tests/integration/test_pop3_xinetd.py \
	tests/integration/test_starttls_bad_key.py tests/integration/test_tls_sni.py
# A message is never altered or misreported on its way in and out: every way
# in (APPEND, deliver, SMTP, import, webmail) against every way out (IMAP,
# POP3, webmail, export, relay, backup). Uses smtp_peek (inetd/smtp.mk).
TESTS += tests/integration/test_fidelity.py

dist_man8_MANS += doc/pop3d.8

# The login benchmark's load client (run by hand: tests/bench/bench_pop3.py).
noinst_PROGRAMS += tests/bench/bench_pop3_login
tests_bench_bench_pop3_login_SOURCES = tests/bench/bench_pop3_login.c tests/bench/bench_client.h
tests_bench_bench_pop3_login_LDADD = -lpthread

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_pop3
tests_fuzz_fuzz_pop3_SOURCES = tests/fuzz/fuzz_pop3.c tests/fuzz/fuzz_world.c \
	tests/fuzz/fuzz_world.h
tests_fuzz_fuzz_pop3_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_pop3_LDADD = inetd/libpop3.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)

# COMPRESS=DEFLATE: any client input inflated; our output inflates back.
noinst_PROGRAMS += tests/fuzz/fuzz_deflate_stream
tests_fuzz_fuzz_deflate_stream_SOURCES = tests/fuzz/fuzz_deflate_stream.c
tests_fuzz_fuzz_deflate_stream_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_deflate_stream_LDADD = inetd/libinetd.a
endif
