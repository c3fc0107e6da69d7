# inetd/mailauth.mk: the MX's checks of who sent a message, in libinetd
# (smtpd runs them; the DNS they ask is inetd/dns.h): SPF (RFC 7208),
# DKIM verification (RFC 6376), DMARC (RFC 7489), and the
# Authentication-Results field (RFC 8601) that records them.

# ---------------------------------------------------------------- SPF
# check_host() over a dns_lookup table (inetd/dns.h), so the tests and the
# fuzz harness answer its DNS from memory.
inetd_libinetd_a_SOURCES += inetd/spf.c inetd/spf_macro.c inetd/spf.h
check_PROGRAMS += tests/unit/test_spf
TESTS += tests/unit/test_spf
tests_unit_test_spf_SOURCES = tests/unit/test_spf.c
tests_unit_test_spf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_spf_LDADD = inetd/libinetd.a $(UNIT_LIBS)

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_spf
tests_fuzz_fuzz_spf_SOURCES = tests/fuzz/fuzz_spf.c
tests_fuzz_fuzz_spf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_spf_LDADD = inetd/libinetd.a $(STORE_LIBS)
endif

# ---------------------------------------------------------------- DKIM verification



# ---------------------------------------------------------------- DMARC



# ---------------------------------------------------------------- end



