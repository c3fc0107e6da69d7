#!/usr/bin/env python3
"""Internationalized domains on the way out (RFC 6531 3.2, RFC 5891). bob
submits to sam@müller-bau.test (SMTPUTF8, the domain in U-labels) and to
ann@xn--mller-bau-q9a.test (its A-label): the relay looks up the MX of the
A-label (dnsmasq knows only that name), sends both in one session, and the
server, which does not offer SMTPUTF8, gets RCPT TO with the A-label: only
a UTF-8 local part would need SMTPUTF8. A recipient whose domain is no
valid IDN is refused at RCPT. On the old code the relay asked DNS for the
UTF-8 name and returned the message ("needs SMTPUTF8") for want of it."""

import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
from relaytest import check  # noqa: E402

BOB = relaytest.Sender.BOB
A_LABEL = "xn--mller-bau-q9a.test"
U_LABEL = "m\u00fcller-bau.test"


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.4"])
    with relaytest.Sender("relay-idn", ["mx-host=%s,mx.%s,10" % (A_LABEL, A_LABEL),
                                        "host-record=mx.%s,127.0.0.4" % A_LABEL], port) as s:
        com = s.com
        mx = s.fake("127.0.0.4", port, lambda peer, srv: peer.session())
        msg = pbtest.make_message("idn", "to a German domain\r\n", sender=BOB,
                                  to="sam@" + A_LABEL)
        refused = s.submit(["sam@" + U_LABEL, "ann@" + A_LABEL], msg,
                           mail_options=["SMTPUTF8"])
        check(not refused, "both forms are accepted for relaying")
        com.relay("--run-queue")
        check(not com.queue() and len(mx.messages) == 1,
              "delivered through the MX of the A-label (queue %s)" % com.queue())
        check(mx.connections == 1 and sorted(mx.rcpts) == ["ann@" + A_LABEL, "sam@" + A_LABEL],
              "one session, RCPT TO in A-labels (%s)" % mx.rcpts)
        check("SMTPUTF8" not in mx.mails[0].upper(), "without SMTPUTF8 (%s)" % mx.mails[0])
        check(not relaytest.dsn_for(com.inbox(BOB), "sam@" + U_LABEL), "and no DSN")

        try:
            r = s.submit(["x@a\u2603.test", "ann@" + A_LABEL], msg, mail_options=["SMTPUTF8"])
        except smtplib.SMTPRecipientsRefused as e:
            r = e.recipients
        bad = r.get("x@a\u2603.test")
        check(bad is not None and bad[0] == 550, "a domain that is no IDN is refused (%s)" % r)
    print("relay idn: all checks passed")


if __name__ == "__main__":
    main()
