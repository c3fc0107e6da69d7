# admin/local.mk: the admin CLI `pillarbox`, its migration commands (import,
# export, user import), setup, and their tests.
sbin_PROGRAMS += admin/pillarbox
admin_pillarbox_SOURCES = admin/admin.h admin/main.c admin/cmd_store.c admin/cmd_domain.c \
	admin/cmd_dkim.c \
	admin/cmd_user.c admin/cmd_vacation.c admin/cmd_sieve.c admin/cmd_alias.c \
	admin/cmd_mailbox.c admin/cmd_deliver.c admin/cmd_srs.c \
	admin/cmd_queue.c admin/password_input.c admin/storedir.c \
	admin/cmd_import.c admin/cmd_export.c admin/cmd_setup.c \
	admin/import.h admin/import_maildir.c admin/import_mbox.c admin/import_pipe.c \
	admin/progress.c admin/progress.h
admin_pillarbox_LDADD = $(STORE_LIBS)

# (dist_man8_MANS is first set in inetd/local.mk; it belongs in Makefile.am)
dist_man8_MANS += doc/pillarbox.8

# The readers' pure parts (file names, modified UTF-7, mbox fields), byte by
# byte; the rest end to end in the shell tests.
check_PROGRAMS += tests/unit/test_import
tests_unit_test_import_SOURCES = tests/unit/test_import.c admin/import_maildir.c \
	admin/import_mbox.c admin/import_pipe.c admin/import.h
tests_unit_test_import_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/admin
tests_unit_test_import_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_import_LDADD = $(UNIT_LIBS)

TESTS += tests/store/test_cli.sh tests/store/test_sieve_cli.sh tests/unit/test_import \
	tests/store/test_import.py tests/store/test_backup_load.sh tests/store/test_setup.sh

# Fuzzing: the mbox reader, the reader-to-importer pipe (what a reader sends
# is what the importer gets; a hostile reader gets nowhere), Maildir names.
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_import
tests_fuzz_fuzz_import_SOURCES = tests/fuzz/fuzz_import.c admin/import_maildir.c \
	admin/import_mbox.c admin/import_pipe.c admin/import.h
tests_fuzz_fuzz_import_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/admin
tests_fuzz_fuzz_import_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_import_LDADD = $(STORE_LIBS)
endif
