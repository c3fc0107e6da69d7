# inetd/mailauth.mk: the MX's checks of who sent a message, in libinetd
# (smtpd runs them; the DNS they ask is inetd/dns.h): SPF (RFC 7208),
# DKIM verification (RFC 6376), DMARC (RFC 7489), and the
# Authentication-Results field (RFC 8601) that records them.

# ---------------------------------------------------------------- SPF
# check_host() over a dns_lookup table (inetd/dns.h), so the tests and the
# fuzz harness answer its DNS from memory.
inetd_libinetd_a_SOURCES += inetd/spf.c inetd/spf_parse.c inetd/spf_macro.c inetd/spf.h \
	inetd/spf_int.h
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
# The canonicalisation it shares with the relay's signer (inetd/dkim_canon.c)
# is in libinetd too (inetd/local.mk).
inetd_libinetd_a_SOURCES += inetd/dkim_verify.c inetd/dkim_verify.h \
	inetd/dkim_tags.c inetd/dkim_tags.h

# Fixtures signed by dkimpy (tests/unit/dkim_verify_gen.py writes
# tests/unit/dkim_verify_fixtures.h and the fuzz seeds), and a round trip
# through the relay's own signer.
check_PROGRAMS += tests/unit/test_dkim_verify
TESTS += tests/unit/test_dkim_verify
tests_unit_test_dkim_verify_SOURCES = tests/unit/test_dkim_verify.c \
	tests/unit/dkim_verify_fixtures.h
tests_unit_test_dkim_verify_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dkim_verify_LDADD = inetd/librelay.a inetd/libinetd.a $(UNIT_LIBS)
EXTRA_DIST += tests/unit/dkim_verify_gen.py

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_dkim_verify
tests_fuzz_fuzz_dkim_verify_SOURCES = tests/fuzz/fuzz_dkim_verify.c
tests_fuzz_fuzz_dkim_verify_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dkim_verify_LDADD = inetd/libinetd.a $(STORE_LIBS)
endif



# ---------------------------------------------------------------- DMARC

# The policy, alignment and the From: domain (dmarc.h); the organizational
# domain (orgdomain.h) with libpsl, dlopen()ed on first use: nothing to link.
inetd_libinetd_a_SOURCES += inetd/dmarc.c inetd/dmarc.h inetd/orgdomain.c inetd/orgdomain.h

check_PROGRAMS += tests/unit/test_dmarc
TESTS += tests/unit/test_dmarc
tests_unit_test_dmarc_SOURCES = tests/unit/test_dmarc.c
tests_unit_test_dmarc_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dmarc_LDADD = inetd/libinetd.a $(UNIT_LIBS)

if FUZZING
# The From: parser (the input as a header block), the record parser and
# the evaluation (the input's lines as the DNS's TXT answers).
noinst_PROGRAMS += tests/fuzz/fuzz_dmarc
tests_fuzz_fuzz_dmarc_SOURCES = tests/fuzz/fuzz_dmarc.c
tests_fuzz_fuzz_dmarc_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dmarc_LDADD = inetd/libinetd.a $(STORE_LIBS)
endif

# ---------------------------------------------------------------- DNSBL
# DNS blocklists (RFC 5782): query names and the verdict on an answer,
# over a dns_lookup table like SPF's; smtpd asks at the first RCPT.
inetd_libinetd_a_SOURCES += inetd/dnsbl.c inetd/dnsbl.h

check_PROGRAMS += tests/unit/test_dnsbl
TESTS += tests/unit/test_dnsbl
tests_unit_test_dnsbl_SOURCES = tests/unit/test_dnsbl.c
tests_unit_test_dnsbl_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dnsbl_LDADD = inetd/libinetd.a $(UNIT_LIBS)

if FUZZING
# The query name of any address text under any zone, and the verdict on
# any A records.
noinst_PROGRAMS += tests/fuzz/fuzz_dnsbl
tests_fuzz_fuzz_dnsbl_SOURCES = tests/fuzz/fuzz_dnsbl.c
tests_fuzz_fuzz_dnsbl_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dnsbl_LDADD = inetd/libinetd.a $(STORE_LIBS)
endif

# ---------------------------------------------------------------- end
# What smtpd runs: the three checks, the field, DNS with a time budget.
inetd_libinetd_a_SOURCES += inetd/mailauth.c inetd/mailauth.h

check_PROGRAMS += tests/unit/test_mailauth
TESTS += tests/unit/test_mailauth
tests_unit_test_mailauth_SOURCES = tests/unit/test_mailauth.c
tests_unit_test_mailauth_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mailauth_LDADD = inetd/libinetd.a $(UNIT_LIBS) $(GNUTLS_LIBS)

# End to end: dnsmasq serving the senders' records, dkimpy signing.
TESTS += tests/integration/test_smtp_mailauth.py

# ---------------------------------------------------------------- spam
# The spam check: a SPAMC client (spamd, rspamd) smtpd asks after DATA.
inetd_libinetd_a_SOURCES += inetd/spamc.c inetd/spamc.h

check_PROGRAMS += tests/unit/test_spamc
TESTS += tests/unit/test_spamc
tests_unit_test_spamc_SOURCES = tests/unit/test_spamc.c
tests_unit_test_spamc_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_spamc_LDADD = inetd/libinetd.a $(UNIT_LIBS) $(GNUTLS_LIBS)

# End to end: a real spamd (SpamAssassin, local rules only) behind the MX.
TESTS += tests/integration/test_smtp_spam.py

# Learning from the user's moves into and out of Junk (spam_learn): the
# learner the store starts after such a move, and a real spamd taught by it.
pkglibexec_PROGRAMS += inetd/spamlearn
inetd_spamlearn_SOURCES = inetd/spamlearn.c
inetd_spamlearn_LDADD = inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)
dist_man8_MANS += doc/spamlearn.8
TESTS += tests/integration/test_spam_learn.py

if FUZZING
# Any reply, whole or cut anywhere; the fields made of what it yields.
noinst_PROGRAMS += tests/fuzz/fuzz_spamc
tests_fuzz_fuzz_spamc_SOURCES = tests/fuzz/fuzz_spamc.c
tests_fuzz_fuzz_spamc_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_spamc_LDADD = inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS)
endif
