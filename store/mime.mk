# store/mime.mk: the RFC 5322/MIME parser and its cache, the transfer codecs,
# encoded words, charsets, address lists, dates and time zones. Only libc
# (iconv) is used, so the webmail and the relay can share them.
store_libpillarbox_a_SOURCES += \
	store/mime.c store/mime.h store/mime_private.h store/mime_buf.h \
	store/mime_header.c store/mime_param.c store/mime_part.c store/mime_cache.c \
	store/codec.c store/codec.h store/rfc2047.c store/rfc2047.h \
	store/charset.c store/charset.h store/address.c store/address.h \
	store/datetime.c store/datetime.h \
	store/tzinfo.c store/tzinfo.h store/tzinfo_int.h store/tzinfo_posix.c \
	store/imap_utf7.c store/imap_utf7.h

check_PROGRAMS += tests/unit/test_mime tests/unit/test_mime_limits tests/unit/test_codec \
	tests/unit/test_address tests/unit/test_datetime tests/unit/test_tzinfo
TESTS += tests/unit/test_mime tests/unit/test_mime_limits tests/unit/test_codec \
	tests/unit/test_address tests/unit/test_datetime tests/unit/test_tzinfo

tests_unit_test_mime_SOURCES = tests/unit/test_mime.c tests/unit/mime_check.c tests/unit/mime_check.h
tests_unit_test_mime_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mime_LDADD = $(UNIT_LIBS)

tests_unit_test_mime_limits_SOURCES = tests/unit/test_mime_limits.c tests/unit/mime_check.c \
	tests/unit/mime_check.h
tests_unit_test_mime_limits_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mime_limits_LDADD = $(UNIT_LIBS)

tests_unit_test_codec_SOURCES = tests/unit/test_codec.c
tests_unit_test_codec_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_codec_LDADD = $(UNIT_LIBS)

tests_unit_test_address_SOURCES = tests/unit/test_address.c
tests_unit_test_address_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_address_LDADD = $(UNIT_LIBS)

tests_unit_test_datetime_SOURCES = tests/unit/test_datetime.c
tests_unit_test_datetime_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_datetime_LDADD = $(UNIT_LIBS)

tests_unit_test_tzinfo_SOURCES = tests/unit/test_tzinfo.c
tests_unit_test_tzinfo_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_tzinfo_LDADD = $(UNIT_LIBS)

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_mime tests/fuzz/fuzz_tzinfo
tests_fuzz_fuzz_mime_SOURCES = tests/fuzz/fuzz_mime.c
tests_fuzz_fuzz_mime_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_mime_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_tzinfo_SOURCES = tests/fuzz/fuzz_tzinfo.c
tests_fuzz_fuzz_tzinfo_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_tzinfo_LDADD = $(STORE_LIBS)
endif
