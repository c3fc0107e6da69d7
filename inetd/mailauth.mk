# inetd/mailauth.mk: the MX's checks of who sent a message, in libinetd
# (smtpd runs them; the DNS they ask is inetd/dns.h): SPF (RFC 7208),
# DKIM verification (RFC 6376), DMARC (RFC 7489), and the
# Authentication-Results field (RFC 8601) that records them.

# ---------------------------------------------------------------- SPF



# ---------------------------------------------------------------- DKIM verification



# ---------------------------------------------------------------- DMARC



# ---------------------------------------------------------------- end
