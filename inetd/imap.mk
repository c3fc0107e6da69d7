# inetd/imap.mk
