# dist/local.mk: installing like a distribution package. Besides the programs
# and man pages, `make install` puts:
#   $(sysconfdir)/pillarbox/pillarbox.conf   the sample, only if no file is there
#   $(pkgdatadir)/pillarbox.conf.sample      the sample, for reference
#   $(systemdunitdir)/                       dist/systemd/* units
#   $(xinetddir)/                            dist/xinetd.d/* services
#   $(pkgdatadir)/apache/, $(pkgdatadir)/nginx/  the web server snippets
#   $(pkgdatadir)/fail2ban/filter.d/, $(pkgdatadir)/fail2ban/jail.d/
#                                            a fail2ban filter and a jail (off)
#                                            to copy to /etc/fail2ban (README)
# Every file is installed with the paths of this build: @pkglibexecdir@,
# @sbindir@, @sysconfdir@, @pkgdatadir@ and @fcgiwrap_socket@ placeholders
# are replaced, and so are the Debian paths the units and xinetd files are
# written with (/usr/libexec/pillarbox/, /usr/sbin/pillarbox, /etc/pillarbox/).
# Nothing is chowned or made setuid here (DESTDIR installs run as anyone):
# `pillarbox setup`, run as root afterwards, does that.
#
# Directories (no configure option; override on the make command line, e.g.
# make install systemdunitdir=/lib/systemd/system):
systemdunitdir = $(prefix)/lib/systemd/system
xinetddir = $(sysconfdir)/xinetd.d
pillarbox_confdir = $(sysconfdir)/pillarbox
# Debian's fcgiwrap.socket listens here.
fcgiwrap_socket = /run/fcgiwrap.socket

dist_man5_MANS = doc/pillarbox.conf.5

# What this fragment installs. (Makefile.am must not list the directory
# `dist` itself in EXTRA_DIST: automake makes it a prerequisite of distdir,
# where it names the `dist` target, and `make dist` recurses without end.)
EXTRA_DIST += dist/pillarbox.conf.sample dist/systemd dist/xinetd.d dist/apache dist/nginx \
	dist/fail2ban

TESTS += tests/store/test_install.sh tests/store/test_units.sh

# tests/deploy: what a new user meets first. test_help.sh runs every
# installed program (the list comes from `make print-programs`, so a new
# program is checked without editing the test) with --help, --version and a
# bad option; test_readme_walkthrough.py follows the README's quickstart in
# a copy of the source tree and checks every endpoint it prints.
TESTS += tests/deploy/test_help.sh tests/deploy/test_readme_walkthrough.py
# test_inetd_limits.sh: the xinetd files and the socket units allow the
# same sessions, and no burst of connections shuts a port.
TESTS += tests/deploy/test_inetd_limits.sh
# test_fail2ban.py: real failed logins and refused recipients, logged by the
# handlers and the webmail, are what dist/fail2ban's filter bans, with the
# right address; successes and forged user names are not.
TESTS += tests/deploy/test_fail2ban.py
EXTRA_DIST += tests/deploy

# The programs `make install` installs, as paths in the build tree, one a line.
print-programs:
	@for p in $(bin_PROGRAMS) $(sbin_PROGRAMS) $(libexec_PROGRAMS) $(pkglibexec_PROGRAMS) \
	  $(bin_SCRIPTS) $(sbin_SCRIPTS) $(libexec_SCRIPTS) $(pkglibexec_SCRIPTS) \
	  $(dist_bin_SCRIPTS) $(dist_sbin_SCRIPTS) $(dist_pkglibexec_SCRIPTS); do \
	  echo "$$p"; done
.PHONY: print-programs

# ([@] keeps config.status from replacing the placeholders in this rule.)
pillarbox_subst = sed \
	-e 's|[@]pkglibexecdir[@]|$(pkglibexecdir)|g' \
	-e 's|[@]libexecdir[@]|$(libexecdir)|g' \
	-e 's|[@]sbindir[@]|$(sbindir)|g' \
	-e 's|[@]sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|[@]pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|[@]localstatedir[@]|$(localstatedir)|g' \
	-e 's|[@]fcgiwrap_socket[@]|$(fcgiwrap_socket)|g' \
	-e 's|/usr/libexec/pillarbox/|$(pkglibexecdir)/|g' \
	-e 's|/usr/sbin/pillarbox|$(sbindir)/pillarbox|g' \
	-e 's|/etc/pillarbox/|$(sysconfdir)/pillarbox/|g' \
	-e 's|/usr/share/pillarbox/|$(pkgdatadir)/|g'

# The files of each group, as shell words (the sources are globbed at install
# time, so a unit added to dist/systemd/ is installed without editing this):
# units by their systemd suffix; xinetd files are those without '.' or '~'
# in the name (xinetd's includedir skips the others); snippets are *.conf.
pillarbox_units = $(srcdir)/dist/systemd/*.service $(srcdir)/dist/systemd/*.socket \
	$(srcdir)/dist/systemd/*.timer $(srcdir)/dist/systemd/*.path \
	$(srcdir)/dist/systemd/*.target
pillarbox_xinetd = $(srcdir)/dist/xinetd.d/*
pillarbox_apache = $(srcdir)/dist/apache/*.conf
pillarbox_nginx = $(srcdir)/dist/nginx/*.conf
pillarbox_f2b_filter = $(srcdir)/dist/fail2ban/filter.d/*.conf
pillarbox_f2b_jail = $(srcdir)/dist/fail2ban/jail.d/*.conf

# pillarbox_install_group KIND DIR FILES...: substitute and install each
# file; KIND xinetd skips names with '.' or '~'.
pillarbox_install_group = pillarbox_install_group() { \
	kind=$$1; dir=$$2; shift; shift; \
	for f in "$$@"; do \
	  test -f "$$f" || continue; \
	  base=`basename "$$f"`; \
	  case "$$kind:$$base" in xinetd:*.*|xinetd:*~) continue ;; esac; \
	  $(MKDIR_P) "$$dir" || exit 1; \
	  $(pillarbox_subst) "$$f" > dist-install.tmp || exit 1; \
	  echo " $(INSTALL_DATA) $$base '$$dir'"; \
	  $(INSTALL_DATA) dist-install.tmp "$$dir/$$base" || exit 1; \
	done; rm -f dist-install.tmp; }

install-data-local:
	@$(pillarbox_install_group); \
	pillarbox_install_group plain '$(DESTDIR)$(systemdunitdir)' $(pillarbox_units) && \
	pillarbox_install_group xinetd '$(DESTDIR)$(xinetddir)' $(pillarbox_xinetd) && \
	pillarbox_install_group plain '$(DESTDIR)$(pkgdatadir)/apache' $(pillarbox_apache) && \
	pillarbox_install_group plain '$(DESTDIR)$(pkgdatadir)/nginx' $(pillarbox_nginx) && \
	pillarbox_install_group plain '$(DESTDIR)$(pkgdatadir)/fail2ban/filter.d' \
	  $(pillarbox_f2b_filter) && \
	pillarbox_install_group plain '$(DESTDIR)$(pkgdatadir)/fail2ban/jail.d' $(pillarbox_f2b_jail) && \
	pillarbox_install_group plain '$(DESTDIR)$(pkgdatadir)' $(srcdir)/dist/pillarbox.conf.sample
	@$(MKDIR_P) '$(DESTDIR)$(pillarbox_confdir)'
	@if test -e '$(DESTDIR)$(pillarbox_confdir)/pillarbox.conf'; then \
	  echo " keeping the existing $(DESTDIR)$(pillarbox_confdir)/pillarbox.conf" \
	       "(the new sample is $(pkgdatadir)/pillarbox.conf.sample)"; \
	else \
	  echo " $(INSTALL_DATA) pillarbox.conf.sample '$(DESTDIR)$(pillarbox_confdir)/pillarbox.conf'"; \
	  $(INSTALL_DATA) '$(DESTDIR)$(pkgdatadir)/pillarbox.conf.sample' \
	    '$(DESTDIR)$(pillarbox_confdir)/pillarbox.conf' || exit 1; \
	fi
	@echo " now, as root: $(sbindir)/pillarbox setup (after an upgrade too:" \
	     "the new webmail.cgi is not setuid until it runs)"

# Removes what install-data-local put, except a pillarbox.conf that differs
# from the sample (it holds someone's settings).
uninstall-local:
	@conf='$(DESTDIR)$(pillarbox_confdir)/pillarbox.conf'; \
	sample='$(DESTDIR)$(pkgdatadir)/pillarbox.conf.sample'; \
	if test -f "$$conf"; then \
	  if test -f "$$sample" && cmp -s "$$conf" "$$sample"; then \
	    echo " rm -f '$$conf'"; rm -f "$$conf"; \
	  else \
	    echo " keeping $$conf: it differs from the sample"; \
	  fi; \
	fi; \
	rm -f "$$sample"; \
	for pair in '$(DESTDIR)$(systemdunitdir)':'$(pillarbox_units)' \
	    '$(DESTDIR)$(xinetddir)':'$(pillarbox_xinetd)' \
	    '$(DESTDIR)$(pkgdatadir)/apache':'$(pillarbox_apache)' \
	    '$(DESTDIR)$(pkgdatadir)/nginx':'$(pillarbox_nginx)' \
	    '$(DESTDIR)$(pkgdatadir)/fail2ban/filter.d':'$(pillarbox_f2b_filter)' \
	    '$(DESTDIR)$(pkgdatadir)/fail2ban/jail.d':'$(pillarbox_f2b_jail)'; do \
	  dir=`echo "$$pair" | sed 's/:.*//'`; globs=`echo "$$pair" | sed 's/^[^:]*://'`; \
	  for f in $$globs; do \
	    test -f "$$f" || continue; \
	    base=`basename "$$f"`; \
	    test -f "$$dir/$$base" || continue; \
	    echo " rm -f '$$dir/$$base'"; rm -f "$$dir/$$base"; \
	  done; \
	  rmdir "$$dir" 2>/dev/null || :; \
	done; \
	rmdir '$(DESTDIR)$(pkgdatadir)/fail2ban' 2>/dev/null || :; \
	rmdir '$(DESTDIR)$(pillarbox_confdir)' 2>/dev/null || :

CLEANFILES += dist-install.tmp
