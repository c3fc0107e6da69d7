# cgi/local.mk: the webmail — one application core (libwebmail.a), two thin
# front ends (webmail.cgi, pillarbox-webmaild), the session store module,
# templates, tests, fuzzers and the benchmark.
# <gumbo.h> is included by cgi/sanitize.c only, <microhttpd.h> by
# cgi/webmaild.c only, <fcgiapp.h> by cgi/webmail_cgi.c only.

store_libpillarbox_a_SOURCES += store/session.c store/session.h store/contacts.c store/contacts.h

noinst_LIBRARIES += cgi/libwebmail.a
cgi_libwebmail_a_SOURCES = cgi/buf.c cgi/buf.h cgi/template.c cgi/template.h \
	cgi/template_data.c cgi/template_int.h cgi/form.c cgi/form.h cgi/http.c cgi/http.h \
	cgi/sanitize.c cgi/sanitize.h \
	cgi/webmail.h cgi/app.h cgi/app.c cgi/page_login.c cgi/page_list.c cgi/page_action.c \
	cgi/page_settings.c cgi/page_password.c cgi/page_vacation.c cgi/page_folders.c \
	cgi/page_msg.c cgi/page_static.c cgi/msgpart.c cgi/msgpart.h \
	cgi/textview.c cgi/textview.h cgi/authres.c cgi/authres.h \
	cgi/setup.c cgi/setup.h cgi/page_setup.c cgi/autoconfig.c cgi/autodiscover.c cgi/mta_sts.c \
	cgi/autodiscover.h cgi/xmlout.c cgi/xmlout.h
cgi_libwebmail_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
cgi_libwebmail_a_CFLAGS = $(AM_CFLAGS) $(GUMBO_CFLAGS)
# The address book's pages and its vCard import/export.
cgi_libwebmail_a_SOURCES += cgi/page_contacts.c cgi/vcard.c cgi/vcard.h
WEBMAIL_LIBS = cgi/libwebmail.a $(STORE_LIBS) $(GUMBO_LIBS) -lpthread
# Compose and send (page_compose.c and compose_*.c), the MIME writer
# (msgbuild.c), format=flowed text (flowed.c) and typed recipient lists
# (addrlist.c).
cgi_libwebmail_a_SOURCES += cgi/addrlist.c cgi/addrlist.h cgi/msgbuild.c cgi/msgbuild.h \
	cgi/flowed.c cgi/flowed.h \
	cgi/compose.h cgi/page_compose.c cgi/compose_load.c cgi/compose_send.c \
	cgi/compose_keep.c
# Return receipts asked for by a message read (RFC 8098): the notice, its
# buttons.
cgi_libwebmail_a_SOURCES += cgi/receipt.c cgi/receipt.h cgi/page_receipt.c
check_PROGRAMS += tests/unit/test_receipt
TESTS += tests/unit/test_receipt
tests_unit_test_receipt_SOURCES = tests/unit/test_receipt.c
tests_unit_test_receipt_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_receipt_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_receipt_LDADD = cgi/libwebmail.a $(UNIT_LIBS) $(GUMBO_LIBS) -lpthread
check_PROGRAMS += tests/unit/test_msgbuild
TESTS += tests/unit/test_msgbuild
tests_unit_test_msgbuild_SOURCES = tests/unit/test_msgbuild.c tests/unit/mime_check.c \
	tests/unit/mime_check.h
tests_unit_test_msgbuild_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_msgbuild_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_msgbuild_LDADD = cgi/libwebmail.a $(UNIT_LIBS)

pkglibexec_PROGRAMS += cgi/webmail.cgi
cgi_webmail_cgi_SOURCES = cgi/webmail_cgi.c
cgi_webmail_cgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
cgi_webmail_cgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS)
cgi_webmail_cgi_LDADD = $(WEBMAIL_LIBS) $(FCGI_LIBS)

sbin_PROGRAMS += cgi/pillarbox-webmaild
cgi_pillarbox_webmaild_SOURCES = cgi/webmaild.c
cgi_pillarbox_webmaild_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
cgi_pillarbox_webmaild_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
cgi_pillarbox_webmaild_LDADD = $(WEBMAIL_LIBS) $(MHD_LIBS)

# Templates and static files, installed to $(pkgdatadir)/templates.
templatesdir = $(pkgdatadir)/templates
dist_templates_DATA = templates/layout.html templates/login.html templates/list.html \
	templates/msg.html templates/msgbody.html templates/print.html templates/frame.html \
	templates/error.html templates/settings.html templates/folders.html \
	templates/settings_nav.html templates/settings_head.html templates/password.html templates/folders_manage.html \
	templates/quota.html \
	templates/setup.html templates/vacation.html
templatesstaticdir = $(pkgdatadir)/templates/static
dist_templatesstatic_DATA = templates/static/style.css templates/static/print.css \
	templates/static/frame.css templates/static/logo.svg templates/static/inbox.svg \
	templates/static/sent.svg templates/static/drafts.svg templates/static/trash.svg \
	templates/static/junk.svg templates/static/archive.svg templates/static/folder.svg \
	templates/static/clip.svg templates/static/flag.svg
dist_templates_DATA += templates/contacts.html templates/contacts_edit.html \
	templates/contacts_datalist.html
dist_templatesstatic_DATA += templates/static/complete.js
dist_templates_DATA += templates/compose.html templates/sent.html
# What cannot be undone, asked first (page_action.c).
dist_templates_DATA += templates/confirm.html

# Unit tests: each links only what it tests.
check_PROGRAMS += tests/unit/test_template tests/unit/test_form tests/unit/test_sanitize \
	tests/unit/test_session tests/unit/test_http
TESTS += tests/unit/test_template tests/unit/test_form tests/unit/test_sanitize \
	tests/unit/test_session tests/unit/test_http
tests_unit_test_template_SOURCES = tests/unit/test_template.c
tests_unit_test_template_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_template_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_template_LDADD = cgi/libwebmail.a $(UNIT_LIBS) -lpthread
tests_unit_test_form_SOURCES = tests/unit/test_form.c
tests_unit_test_form_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_form_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_form_LDADD = cgi/libwebmail.a $(UNIT_LIBS)
tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_http_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_http_LDADD = cgi/libwebmail.a $(UNIT_LIBS)
tests_unit_test_sanitize_SOURCES = tests/unit/test_sanitize.c
tests_unit_test_sanitize_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_sanitize_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(GUMBO_CFLAGS)
tests_unit_test_sanitize_LDADD = cgi/libwebmail.a $(UNIT_LIBS) $(GUMBO_LIBS) -lpthread
# The plain text view (cgi/textview.c).
check_PROGRAMS += tests/unit/test_textview
TESTS += tests/unit/test_textview
tests_unit_test_textview_SOURCES = tests/unit/test_textview.c
tests_unit_test_textview_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_textview_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_textview_LDADD = cgi/libwebmail.a $(UNIT_LIBS)
# Our Authentication-Results field read back for the message page (cgi/authres.c).
check_PROGRAMS += tests/unit/test_authres
TESTS += tests/unit/test_authres
tests_unit_test_authres_SOURCES = tests/unit/test_authres.c
tests_unit_test_authres_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi -I$(top_srcdir)/inetd
tests_unit_test_authres_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
# the MX's writer and forged-field removal too: what it writes is read back
tests_unit_test_authres_LDADD = cgi/libwebmail.a inetd/libinetd.a $(UNIT_LIBS) $(GNUTLS_LIBS)
# Mail client set-up: autodiscover parser, XML writer, services, XML bodies.
check_PROGRAMS += tests/unit/test_autodiscover
TESTS += tests/unit/test_autodiscover
tests_unit_test_autodiscover_SOURCES = tests/unit/test_autodiscover.c
tests_unit_test_autodiscover_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_autodiscover_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_autodiscover_LDADD = cgi/libwebmail.a $(UNIT_LIBS) -lpthread
tests_unit_test_session_SOURCES = tests/unit/test_session.c tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_session_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_session_LDADD = $(UNIT_LIBS)

# The address book (store/contacts.c) and the vCard module (cgi/vcard.c).
check_PROGRAMS += tests/unit/test_contacts
TESTS += tests/unit/test_contacts
tests_unit_test_contacts_SOURCES = tests/unit/test_contacts.c tests/unit/store_fixture.c tests/unit/store_fixture.h
tests_unit_test_contacts_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_contacts_LDADD = $(UNIT_LIBS)
check_PROGRAMS += tests/unit/test_vcard
TESTS += tests/unit/test_vcard
tests_unit_test_vcard_SOURCES = tests/unit/test_vcard.c
tests_unit_test_vcard_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_vcard_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_vcard_LDADD = cgi/libwebmail.a $(UNIT_LIBS)

# The webmail under real servers and a real browser (tests/web/README in
# webenv.py): pillarbox-webmaild, Apache + webmail.cgi (mod_cgid; mod_fcgid,
# webmail.cgi a FastCGI server), nginx + fcgiwrap, nginx + webmail.cgi as a
# socket-activated FastCGI server.
TESTS += tests/web/test_web_webmaild.py tests/web/test_web_apache.py \
	tests/web/test_web_apache_fcgid.py tests/web/test_web_nginx.py \
	tests/web/test_web_nginx_fastcgi.py tests/web/test_web_security.py
# webmail.cgi --workers under systemd socket activation.
TESTS += tests/web/test_fastcgi_workers.py
EXTRA_DIST += tests/web/test_fastcgi_workers.py
# Mail client set-up: the page, autoconfig, autodiscover, the Apple profile.
TESTS += tests/web/test_web_setup.py
EXTRA_DIST += tests/web/test_web_setup.py
TESTS += tests/web/test_webmaild_proxy.py
EXTRA_DIST += tests/web/test_webmaild_proxy.py
EXTRA_DIST += tests/web/webenv.py tests/web/mkmail.py tests/web/browser.mjs tests/web/browserlib.mjs \
	tests/web/package.json tests/web/package-lock.json tests/unit/xss_corpus.html \
	tests/web/test_web_webmaild.py tests/web/test_web_apache.py tests/web/test_web_nginx.py \
	tests/web/test_web_apache_fcgid.py tests/web/test_web_nginx_fastcgi.py \
	tests/web/test_web_security.py tests/bench/bench_webmail.py tests/bench/bench_webmail_fill.c \
	dist/apache/pillarbox-webmail.conf dist/nginx/pillarbox-webmail.conf

# The address book under the three servers.
TESTS += tests/web/test_web_contacts.py
EXTRA_DIST += tests/web/test_web_contacts.py tests/web/browser_contacts.mjs

# Settings, identities, password change, folder management (and a browser run).
TESTS += tests/web/test_web_settings.py
EXTRA_DIST += tests/web/test_web_settings.py tests/web/browser_settings.mjs

# Compose and send: the browser run on the three servers, IMAP and relay checks.
TESTS += tests/web/test_web_compose.py
EXTRA_DIST += tests/web/test_web_compose.py tests/web/browser_compose.mjs

# Receipts: the compose options, the notice and its buttons in the browser on
# the three servers; the MDN, the DSN and $MDNSent checked over IMAP.
TESTS += tests/web/test_web_receipts.py
EXTRA_DIST += tests/web/test_web_receipts.py tests/web/browser_receipts.mjs

# Hostile HTML mail under webmaild: parse budgets, cid: images, part numbers.
TESTS += tests/web/test_web_hostile_html.py
EXTRA_DIST += tests/web/test_web_hostile_html.py

# A phone, a keyboard and a screen reader: axe-core on each page, no sideways
# scrolling, a keyboard path, the list as it was after an action.
TESTS += tests/web/test_web_a11y.py
EXTRA_DIST += tests/web/test_web_a11y.py tests/web/browser_a11y.mjs

# A message being written survives the end of its session; what cannot be
# undone is asked first.
check_PROGRAMS += tests/unit/test_compose_keep
TESTS += tests/unit/test_compose_keep
tests_unit_test_compose_keep_SOURCES = tests/unit/test_compose_keep.c
tests_unit_test_compose_keep_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_compose_keep_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_compose_keep_LDADD = cgi/libwebmail.a $(UNIT_LIBS) $(GUMBO_LIBS) -lpthread
TESTS += tests/web/test_web_keep.py
EXTRA_DIST += tests/web/test_web_keep.py tests/web/browser_keep.mjs

# The warning for a message that failed its sender checks (our Authentication-Results).
TESTS += tests/web/test_web_authres.py
EXTRA_DIST += tests/web/test_web_authres.py

# What the list and message pages show at the edges: real-world MIME shapes, empty folders.
TESTS += tests/web/test_web_display.py
EXTRA_DIST += tests/web/test_web_display.py

# Fuzzing: the HTML sanitizer, the form/multipart parser, the vCard parser.
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_sanitize tests/fuzz/fuzz_form
tests_fuzz_fuzz_sanitize_SOURCES = tests/fuzz/fuzz_sanitize.c
tests_fuzz_fuzz_sanitize_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_fuzz_fuzz_sanitize_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sanitize_LDADD = cgi/libwebmail.a $(STORE_LIBS) $(GUMBO_LIBS) -lpthread
tests_fuzz_fuzz_form_SOURCES = tests/fuzz/fuzz_form.c
tests_fuzz_fuzz_form_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_fuzz_fuzz_form_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_form_LDADD = cgi/libwebmail.a $(STORE_LIBS) -lpthread
noinst_PROGRAMS += tests/fuzz/fuzz_vcard
tests_fuzz_fuzz_vcard_SOURCES = tests/fuzz/fuzz_vcard.c
tests_fuzz_fuzz_vcard_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_fuzz_fuzz_vcard_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_vcard_LDADD = cgi/libwebmail.a $(STORE_LIBS) -lpthread
# Typed recipient lists, round-tripped through the message writer.
noinst_PROGRAMS += tests/fuzz/fuzz_addrlist
tests_fuzz_fuzz_addrlist_SOURCES = tests/fuzz/fuzz_addrlist.c
tests_fuzz_fuzz_addrlist_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_fuzz_fuzz_addrlist_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_addrlist_LDADD = cgi/libwebmail.a $(STORE_LIBS) -lpthread
# The autodiscover request parser and the XML writer.
noinst_PROGRAMS += tests/fuzz/fuzz_autodiscover
tests_fuzz_fuzz_autodiscover_SOURCES = tests/fuzz/fuzz_autodiscover.c
tests_fuzz_fuzz_autodiscover_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_fuzz_fuzz_autodiscover_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_autodiscover_LDADD = cgi/libwebmail.a $(STORE_LIBS) -lpthread
# The template compiler and the escaping of every slot.
noinst_PROGRAMS += tests/fuzz/fuzz_template
tests_fuzz_fuzz_template_SOURCES = tests/fuzz/fuzz_template.c tests/fuzz/fuzz_world.c \
	tests/fuzz/fuzz_world.h
tests_fuzz_fuzz_template_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi -I$(top_srcdir)/inetd
tests_fuzz_fuzz_template_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_template_LDADD = cgi/libwebmail.a inetd/libinetd.a $(STORE_LIBS) -lpthread
# Our Authentication-Results field read back (cgi/authres.c), checked
# against smtpd's removal of forged ones (inetd/mailauth.c).
noinst_PROGRAMS += tests/fuzz/fuzz_authres
tests_fuzz_fuzz_authres_SOURCES = tests/fuzz/fuzz_authres.c
tests_fuzz_fuzz_authres_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi -I$(top_srcdir)/inetd
tests_fuzz_fuzz_authres_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_authres_LDADD = cgi/libwebmail.a inetd/libinetd.a $(STORE_LIBS) $(GNUTLS_LIBS) \
	-lpthread
# The whole core: one request against a real store (fuzz_world.c).
noinst_PROGRAMS += tests/fuzz/fuzz_webmail
tests_fuzz_fuzz_webmail_SOURCES = tests/fuzz/fuzz_webmail.c tests/fuzz/fuzz_world.c \
	tests/fuzz/fuzz_world.h
tests_fuzz_fuzz_webmail_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi -I$(top_srcdir)/inetd \
	-DFUZZ_TEMPLATES='"$(abs_top_srcdir)/templates"'
tests_fuzz_fuzz_webmail_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_webmail_LDADD = cgi/libwebmail.a inetd/libinetd.a $(STORE_LIBS) $(GUMBO_LIBS) \
	-lpthread
endif

# The benchmark (run by hand: tests/bench/bench_webmail.sh); its filler.
noinst_PROGRAMS += tests/bench/bench_webmail_fill tests/bench/bench_cgi_floor
tests_bench_bench_webmail_fill_SOURCES = tests/bench/bench_webmail_fill.c
tests_bench_bench_webmail_fill_LDADD = $(STORE_LIBS)
tests_bench_bench_cgi_floor_SOURCES = tests/bench/bench_cgi_floor.c

dist_man8_MANS += doc/webmail.cgi.8 doc/pillarbox-webmaild.8

# Settings > Filters: rules kept as Sieve scripts (sieve_rules.c, pure), the
# page and its form.
cgi_libwebmail_a_SOURCES += cgi/sieve_rules.c cgi/sieve_rules.h cgi/page_filters.c \
	cgi/filters_form.c cgi/filters.h
dist_templates_DATA += templates/filters.html
check_PROGRAMS += tests/unit/test_sieve_rules
TESTS += tests/unit/test_sieve_rules
tests_unit_test_sieve_rules_SOURCES = tests/unit/test_sieve_rules.c
tests_unit_test_sieve_rules_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_unit_test_sieve_rules_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sieve_rules_LDADD = cgi/libwebmail.a $(UNIT_LIBS)
TESTS += tests/web/test_web_filters.py tests/web/test_web_junk.py tests/web/test_web_send_limit.py
EXTRA_DIST += tests/web/test_web_filters.py tests/web/browser_filters.mjs tests/web/test_web_junk.py \
	tests/web/test_web_send_limit.py
if FUZZING
# The rules reader: what it calls ours is what the writer makes, and compiles.
noinst_PROGRAMS += tests/fuzz/fuzz_sieve_rules
tests_fuzz_fuzz_sieve_rules_SOURCES = tests/fuzz/fuzz_sieve_rules.c
tests_fuzz_fuzz_sieve_rules_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi
tests_fuzz_fuzz_sieve_rules_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sieve_rules_LDADD = cgi/libwebmail.a $(STORE_LIBS) -lpthread
endif
