# inetd/imap.mk: imapd (IMAP4rev1/rev2), its unit tests, fuzzers, man page.
# The session code is a library so that the fuzz harnesses drive the same
# command loop.
noinst_LIBRARIES += inetd/libimap.a
inetd_libimap_a_SOURCES = inetd/imap.h inetd/imap_parser.c inetd/imap_parser.h \
	inetd/imap_write.c inetd/imap_session.c \
	inetd/imap_auth.c inetd/imap_mailbox.c inetd/imap_list.c inetd/imap_view.c inetd/imap_select.c \
	inetd/imap_fetch.c inetd/imap_fetch.h inetd/imap_bodystructure.c inetd/imap_search.c inetd/imap_sort.c \
	inetd/imap_thread.c \
	inetd/imap_store.c inetd/imap_append.c

pkglibexec_PROGRAMS += inetd/imapd
inetd_imapd_SOURCES = inetd/imapd.c
inetd_imapd_LDADD = inetd/libimap.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)

check_PROGRAMS += tests/unit/test_imap_parser tests/unit/test_imap_utf7
TESTS += tests/unit/test_imap_parser tests/unit/test_imap_utf7 \
	tests/integration/test_imap.py tests/integration/test_imap_badinput.py \
	tests/integration/test_imap_clients.py tests/integration/test_imap_concurrency.py \
	tests/integration/test_imap_quirks.py tests/integration/test_imap_sessions.py \
	tests/integration/test_imap_compress.py tests/integration/test_imap_sort.py \
	tests/integration/test_imap_roundcube.py
tests_unit_test_imap_parser_SOURCES = tests/unit/test_imap_parser.c
tests_unit_test_imap_parser_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_imap_parser_LDADD = inetd/libimap.a $(CMOCKA_LIBS)
tests_unit_test_imap_utf7_SOURCES = tests/unit/test_imap_utf7.c
tests_unit_test_imap_utf7_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_imap_utf7_LDADD = $(UNIT_LIBS)

EXTRA_DIST += dist/systemd/imap.socket dist/systemd/imaps.socket dist/systemd/imap@.service \
	dist/systemd/imaps@.service dist/xinetd.d/imap dist/xinetd.d/imaps

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_imap_parser tests/fuzz/fuzz_imap_utf7 \
	tests/fuzz/fuzz_imap_session
tests_fuzz_fuzz_imap_parser_SOURCES = tests/fuzz/fuzz_imap_parser.c
tests_fuzz_fuzz_imap_parser_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_imap_parser_LDADD = inetd/libimap.a
tests_fuzz_fuzz_imap_utf7_SOURCES = tests/fuzz/fuzz_imap_utf7.c
tests_fuzz_fuzz_imap_utf7_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_imap_utf7_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_imap_session_SOURCES = tests/fuzz/fuzz_imap_session.c tests/fuzz/fuzz_world.c \
	tests/fuzz/fuzz_world.h
tests_fuzz_fuzz_imap_session_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_imap_session_LDADD = inetd/libimap.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)
endif

dist_man8_MANS += doc/imapd.8

# the benchmark's filler (tests/bench/bench_imap.py runs it; not a test)
check_PROGRAMS += tests/bench/bench_imap_fill
tests_bench_bench_imap_fill_SOURCES = tests/bench/bench_imap_fill.c
tests_bench_bench_imap_fill_LDADD = $(STORE_LIBS)
EXTRA_DIST += tests/bench/bench_imap.py
