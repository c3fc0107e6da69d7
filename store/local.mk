# store/local.mk: the store library (environment, mailboxes, messages,
# bodies, delivery, maintenance). <db.h> is included by these files only.
store_libpillarbox_a_SOURCES += store/store.h store/store_int.h \
	store/authres_id.c store/authres_id.h \
	store/env.c store/txn.c store/space.c \
	store/body.c store/body.h store/body_header.c store/body_mime.c \
	store/mailbox.c store/mailbox.h \
	store/message.c store/message.h store/msgcopy.c store/expunged.c store/msgread.c \
	store/notify.c store/deliver.c store/deliver_reject.c store/mdn.c \
	store/mdn.h store/send_limit.c store/vacation.c store/vacation.h \
	store/vacation_rule.c store/vacation_send.c store/queue.c store/queue.h \
	store/maintain.c store/backup.c store/upgrade.c store/sortidx.c \
	store/program_kick.c store/program_kick.h store/srs.c store/srs.h store/srs_store.c

# The MDN builder (a Sieve reject's notice, the webmail's read receipt).
check_PROGRAMS += tests/unit/test_mdn
TESTS += tests/unit/test_mdn
tests_unit_test_mdn_SOURCES = tests/unit/test_mdn.c tests/unit/mime_check.c \
	tests/unit/mime_check.h
tests_unit_test_mdn_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mdn_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_store_LDADD = $(UNIT_LIBS)

# The write path as tuned for throughput (bodies, body ids, DB_CONFIG update).
check_PROGRAMS += tests/unit/test_store_write
TESTS += tests/unit/test_store_write
tests_unit_test_store_write_SOURCES = tests/unit/test_store_write.c tests/unit/store_fixture.c \
	tests/unit/store_fixture.h
tests_unit_test_store_write_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_store_write_LDADD = $(UNIT_LIBS)

# Opening and closing under churn (store/env.c's registry handling).
check_PROGRAMS += tests/unit/test_store_open
TESTS += tests/unit/test_store_open
tests_unit_test_store_open_SOURCES = tests/unit/test_store_open.c tests/unit/store_fixture.c \
	tests/unit/store_fixture.h
tests_unit_test_store_open_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_store_open_LDADD = $(UNIT_LIBS)

# Vacation auto-replies: who gets one, the reply, the setting and the
# once-per-interval record (store/vacation*.c).
check_PROGRAMS += tests/unit/test_vacation
TESTS += tests/unit/test_vacation
tests_unit_test_vacation_SOURCES = tests/unit/test_vacation.c tests/unit/store_fixture.c \
	tests/unit/store_fixture.h
tests_unit_test_vacation_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_vacation_LDADD = $(UNIT_LIBS)
if FUZZING
# The out-of-office rules and reply over hostile senders and headers.
noinst_PROGRAMS += tests/fuzz/fuzz_vacation
tests_fuzz_fuzz_vacation_SOURCES = tests/fuzz/fuzz_vacation.c
tests_fuzz_fuzz_vacation_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_vacation_LDADD = $(STORE_LIBS)
endif

# The send limit, through store_deliver.
check_PROGRAMS += tests/unit/test_send_limit
TESTS += tests/unit/test_send_limit
tests_unit_test_send_limit_SOURCES = tests/unit/test_send_limit.c \
	tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_send_limit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_send_limit_LDADD = $(UNIT_LIBS)

# SRS (store/srs.c, srs_store.c): the codec, and forwarding and bounces
# through a store.
check_PROGRAMS += tests/unit/test_srs
TESTS += tests/unit/test_srs
tests_unit_test_srs_SOURCES = tests/unit/test_srs.c tests/unit/store_fixture.c \
	tests/unit/store_fixture.h
tests_unit_test_srs_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_srs_LDADD = $(UNIT_LIBS)
if FUZZING
# SRS decoding (and encoding) over any bytes.
noinst_PROGRAMS += tests/fuzz/fuzz_srs
tests_fuzz_fuzz_srs_SOURCES = tests/fuzz/fuzz_srs.c
tests_fuzz_fuzz_srs_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_srs_LDADD = $(STORE_LIBS)
endif
