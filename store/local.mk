# store/local.mk: the store library (environment, mailboxes, messages,
# bodies, delivery, maintenance). <db.h> is included by these files only.
store_libpillarbox_a_SOURCES += store/store.h store/store_int.h \
	store/env.c store/txn.c \
	store/body.c store/body.h store/body_mime.c \
	store/mailbox.c store/mailbox.h \
	store/message.c store/message.h store/msgcopy.c store/msgread.c \
	store/notify.c store/deliver.c store/queue.c store/queue.h \
	store/maintain.c store/backup.c store/sortidx.c

check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_store_LDADD = $(UNIT_LIBS)
