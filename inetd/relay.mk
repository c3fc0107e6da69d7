# inetd/relay.mk
