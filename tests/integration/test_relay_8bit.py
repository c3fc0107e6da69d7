#!/usr/bin/env python3
"""8-bit content and servers without 8BITMIME (RFC 6152 3). Scripted MX
hosts through dnsmasq: seven.test (127.0.0.4) does not offer 8BITMIME;
two.test has a primary (127.0.0.6) without it and a backup (127.0.0.7) with
it. A 7-bit message goes to seven.test as it was; an 8-bit one is never sent
there raw: it is returned to the sender with status 5.6.3. For two.test the
backup MX takes it (BODY=8BITMIME) in the same run; a backup answering 4xx
leaves the message deferred, not returned (that host may take it later)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
from relaytest import check  # noqa: E402

BOB = relaytest.Sender.BOB
SEVEN_BIT_EHLO = ("PIPELINING", "SIZE 10000000")
EIGHT_BIT = ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
             "Content-Transfer-Encoding: 8bit"]


def body_of(raw):
    return raw.split(b"\r\n\r\n", 1)[1]


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.4", "127.0.0.6", "127.0.0.7"])
    with relaytest.Sender("relay-8bit", ["mx-host=seven.test,mx.seven.test,10",
                                         "host-record=mx.seven.test,127.0.0.4",
                                         "mx-host=two.test,mx1.two.test,10",
                                         "mx-host=two.test,mx2.two.test,20",
                                         "host-record=mx1.two.test,127.0.0.6",
                                         "host-record=mx2.two.test,127.0.0.7"], port) as s:
        com = s.com
        seven = s.fake("127.0.0.4", port,
                       lambda peer, srv: peer.session(ehlo_lines=SEVEN_BIT_EHLO))
        mx1 = s.fake("127.0.0.6", port,
                     lambda peer, srv: peer.session(ehlo_lines=SEVEN_BIT_EHLO))
        backup = {"rcpt": "250 2.1.5 ok"}
        mx2 = s.fake("127.0.0.7", port, lambda peer, srv: peer.session(rcpt_reply=backup["rcpt"]))

        def send8(subject, text, rcpt):
            msg = pbtest.make_message(subject, text, sender=BOB, to=rcpt,
                                      extra_headers=EIGHT_BIT)
            s.submit([rcpt], msg, mail_options=["BODY=8BITMIME"])
            return msg

        # 7-bit: sent as it was, without BODY=8BITMIME.
        plain = pbtest.make_message("plain", "seven bits\r\n.only\r\n", sender=BOB,
                                    to="sam@seven.test")
        s.submit(["sam@seven.test"], plain)
        com.relay("--run-queue")
        check(not com.queue() and len(seven.messages) == 1, "a 7-bit message is delivered")
        check(body_of(seven.messages[0]) == body_of(plain) and
              b"Subject: plain\r\n" in seven.messages[0], "unchanged")
        check("BODY=" not in seven.mails[0].upper(), "without BODY=8BITMIME (%s)" % seven.mails[0])

        # 8-bit to a server without 8BITMIME: returned with 5.6.3, not sent.
        send8("accents", "caf\u00e9 cr\u00e8me\r\n", "sue@seven.test")
        com.relay("--run-queue")
        check(len(seven.messages) == 1, "nothing 8-bit was sent to a server without 8BITMIME")
        check(not com.queue(), "the entry is done")
        dsn = relaytest.dsn_for(com.inbox(BOB), "sue@seven.test")
        check(len(dsn) == 1 and b"Status: 5.6.3" in dsn[0] and b"8BITMIME" in dsn[0] and
              b"mx.seven.test" in dsn[0],
              "the sender has a DSN with 5.6.3, the reason and the host")

        # Primary without 8BITMIME, backup with it: the backup has it.
        msg = send8("backup", "na\u00efve\r\n", "ann@two.test")
        com.relay("--run-queue")
        check(not com.queue() and not mx1.messages and len(mx2.messages) == 1,
              "the primary lacks 8BITMIME: the backup MX has the message")
        check(body_of(mx2.messages[0]) == body_of(msg) and
              "BODY=8BITMIME" in mx2.mails[-1].upper(), "as it was, with BODY=8BITMIME")
        check(not relaytest.dsn_for(com.inbox(BOB), "ann@two.test"), "and no DSN")

        # The backup answers 4xx: it may take the message later, so it is
        # deferred with the backup's reply, not returned for the primary.
        backup["rcpt"] = "451 4.3.0 busy"
        send8("later", "d\u00e9j\u00e0\r\n", "ned@two.test")
        com.relay("--run-queue")
        q = com.queue()
        check(len(q) == 1 and q[0]["state"] == "deferred" and "451 4.3.0 busy" in q[0]["error"],
              "backup busy: deferred with its reply (%s)" % q)
        check(not mx1.messages and not relaytest.dsn_for(com.inbox(BOB), "ned@two.test"),
              "nothing sent to the primary, no DSN")
        backup["rcpt"] = "250 2.1.5 ok"
        com.pillarbox("queue", "flush")
        com.relay("--run-queue")
        check(not com.queue() and len(mx2.messages) == 2, "the backup takes it on the retry")
    print("relay 8bit: all checks passed")


if __name__ == "__main__":
    main()
