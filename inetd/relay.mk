# inetd/relay.mk: the outbound queue runner `relay`, the store's public
# queue API (store/outq.h over store/queue.c, which store/local.mk builds),
# unit and integration tests, the systemd timer and the man page.
store_libpillarbox_a_SOURCES += store/outq.h

# The relay's parts are a library so the unit tests link exactly them.
noinst_LIBRARIES += inetd/librelay.a
inetd_librelay_a_SOURCES = inetd/relay.h inetd/relay_deliver.c inetd/relay_net.c \
	inetd/relay_config.c inetd/relay_config.h \
	inetd/relay_smtp.c inetd/relay_smtp.h inetd/relay_dsn.c inetd/relay_dsn.h \
	inetd/relay_dkim.c inetd/dkim_sign.c inetd/dkim_sign.h
inetd_librelay_a_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)

pkglibexec_PROGRAMS += inetd/relay
inetd_relay_SOURCES = inetd/relay.c
inetd_relay_LDADD = inetd/librelay.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)

check_PROGRAMS += tests/unit/test_relay_dsn \
	tests/unit/test_relay_smtp tests/unit/test_relay_queue tests/unit/test_dkim_canon
TESTS += tests/unit/test_relay_dsn \
	tests/unit/test_relay_smtp tests/unit/test_relay_queue tests/unit/test_dkim_canon

# DKIM canonicalisation and field choice alone: no key, no network.
tests_unit_test_dkim_canon_SOURCES = tests/unit/test_dkim_canon.c inetd/dkim_canon.c \
	inetd/dkim_canon.h
tests_unit_test_dkim_canon_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dkim_canon_LDADD = $(UNIT_LIBS)

tests_unit_test_relay_dsn_SOURCES = tests/unit/test_relay_dsn.c
tests_unit_test_relay_dsn_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_relay_dsn_LDADD = inetd/librelay.a $(UNIT_LIBS)

tests_unit_test_relay_smtp_SOURCES = tests/unit/test_relay_smtp.c
tests_unit_test_relay_smtp_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_relay_smtp_LDADD = inetd/librelay.a inetd/libinetd.a $(UNIT_LIBS) $(GNUTLS_LIBS)

tests_unit_test_relay_queue_SOURCES = tests/unit/test_relay_queue.c
tests_unit_test_relay_queue_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_relay_queue_LDADD = $(UNIT_LIBS)

# Integration: two Pillarbox instances, dnsmasq on a loopback port, real
# smtpd on both sides (tests/integration/relaytest.py).
TESTS += tests/integration/test_relay.py tests/integration/test_relay_retry.py \
	tests/integration/test_relay_smarthost.py tests/integration/test_relay_badinput.py \
	tests/integration/test_relay_crash.py tests/integration/test_relay_8bit.py \
	tests/integration/test_relay_longline.py tests/integration/test_relay_dsn_quota.py \
	tests/integration/test_smtp_dsn.py \
	tests/integration/test_relay_lease.py tests/integration/test_relay_idn.py \
	tests/integration/test_relay_dkim.py tests/integration/test_relay_srs.py

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_relay
tests_fuzz_fuzz_relay_SOURCES = tests/fuzz/fuzz_relay.c
tests_fuzz_fuzz_relay_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_relay_LDADD = inetd/librelay.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)
# The conversation with a server, and the bounce made of its replies.
noinst_PROGRAMS += tests/fuzz/fuzz_relay_session
tests_fuzz_fuzz_relay_session_SOURCES = tests/fuzz/fuzz_relay_session.c tests/fuzz/fuzz_world.c \
	tests/fuzz/fuzz_world.h
tests_fuzz_fuzz_relay_session_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_relay_session_LDADD = inetd/librelay.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)
endif

# dist/systemd/pillarbox-relay.{timer,service} ship with dist/ (Makefile.am's
# EXTRA_DIST) and install with the other units (dist/local.mk).
dist_man8_MANS += doc/relay.8

# Out-of-office replies: set in the webmail (webmaild), sent at delivery
# through the MX, relayed to a scripted MX once (store/vacation*.c).
TESTS += tests/integration/test_vacation.py
EXTRA_DIST += tests/integration/test_vacation.py
