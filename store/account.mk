# store/account.mk: accounts — addresses, domains (IDNA through libidn2,
# dlopen()ed by store/idn.c: never linked) and their DKIM keys (GnuTLS,
# loaded by store/gnutls_lib.c), users, quota counters, aliases
# and recipient resolution, authentication with throttling.
store_libpillarbox_a_SOURCES += store/account.c store/account_int.h store/account_db.c store/domain.c \
	store/user.c store/quota.c store/alias.c store/auth.c \
	store/identity.c store/identity.h store/idn.c store/idn.h \
	store/dkim.c store/dkim.h store/dkim_key.c store/dkim_key.h

check_PROGRAMS += tests/unit/test_account tests/unit/test_auth tests/unit/test_identity \
	tests/unit/test_idn tests/unit/test_dkim_store
TESTS += tests/unit/test_account tests/unit/test_auth tests/unit/test_identity \
	tests/unit/test_idn tests/unit/test_dkim_store

tests_unit_test_dkim_store_SOURCES = tests/unit/test_dkim_store.c tests/unit/store_fixture.c \
	tests/unit/store_fixture.h
tests_unit_test_dkim_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dkim_store_LDADD = $(UNIT_LIBS)

tests_unit_test_account_SOURCES = tests/unit/test_account.c tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_account_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_account_LDADD = $(UNIT_LIBS)

tests_unit_test_auth_SOURCES = tests/unit/test_auth.c tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_auth_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_auth_LDADD = $(UNIT_LIBS)

tests_unit_test_identity_SOURCES = tests/unit/test_identity.c tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_identity_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_identity_LDADD = $(UNIT_LIBS)

tests_unit_test_idn_SOURCES = tests/unit/test_idn.c tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_idn_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_idn_LDADD = $(UNIT_LIBS)
