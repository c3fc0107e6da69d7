# admin/local.mk: the admin CLI `pillarbox` and its end-to-end test.
sbin_PROGRAMS += admin/pillarbox
admin_pillarbox_SOURCES = admin/admin.h admin/main.c admin/cmd_store.c admin/cmd_domain.c \
	admin/cmd_user.c admin/cmd_alias.c admin/cmd_mailbox.c admin/cmd_deliver.c \
	admin/cmd_queue.c admin/password_input.c admin/storedir.c
admin_pillarbox_CPPFLAGS = $(AM_CPPFLAGS) -DADMIN_VERSION='"$(PACKAGE_VERSION)"'
admin_pillarbox_LDADD = $(STORE_LIBS)

# (dist_man8_MANS is first set in inetd/local.mk; it belongs in Makefile.am)
dist_man8_MANS += doc/pillarbox.8

TESTS += tests/store/test_cli.sh
