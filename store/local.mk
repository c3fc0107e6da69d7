# store/local.mk: the store library (environment, mailboxes, messages,
# bodies, delivery, maintenance). <db.h> is included by these files only.
store_libpillarbox_a_SOURCES += store/store.h store/store_int.h \
	store/env.c store/txn.c \
	store/body.c store/body.h store/body_mime.c \
	store/mailbox.c store/mailbox.h \
	store/message.c store/message.h store/msgcopy.c store/msgread.c \
	store/notify.c store/deliver.c store/queue.c store/queue.h \
	store/maintain.c store/backup.c
