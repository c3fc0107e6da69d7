# cgi/local.mk
