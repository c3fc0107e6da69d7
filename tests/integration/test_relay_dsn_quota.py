#!/usr/bin/env python3
"""A DSN for a sender whose mailbox is full is not lost. A scripted MX
(refuse.test at 127.0.0.4, through dnsmasq) answers 550 at RCPT; the
sender, bob, is over quota. The DSN stays owed in the queue (the reason in
the entry's error) and, once bob's quota is raised, the next relay run
delivers it to his INBOX, quoting the original header. Past queue_lifetime
a DSN that still does not fit is dropped, and nothing is sent about it (a
DSN has the null sender)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
from relaytest import check  # noqa: E402

BOB = relaytest.Sender.BOB


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.4"])
    with relaytest.Sender("relay-dsn-quota", ["mx-host=refuse.test,mx.refuse.test,10",
                                              "host-record=mx.refuse.test,127.0.0.4"],
                          port) as s:
        com = s.com
        fake = s.fake("127.0.0.4", port, lambda peer, srv: peer.session(
            rcpt_reply="550 5.1.1 no such mailbox"))
        com.pillarbox("user", "quota", BOB, "1", "0")    # no DSN fits

        s.submit(["dora@refuse.test"], pbtest.make_message("to dora", "x\r\n", sender=BOB,
                                                           to="dora@refuse.test"))
        com.relay("--run-queue")
        q = com.queue()
        check(len(fake.rcpts) == 1 and not com.inbox(BOB), "550 from the MX, bob is full")
        check(len(q) == 1 and q[0]["sender"] == "<%s>" % BOB and q[0]["state"] == "bouncing" and
              "DSN to <%s>" % BOB in q[0]["error"] and "4.2.2" in q[0]["error"],
              "the DSN is kept in the queue, with the reason (%s)" % q)
        com.relay("--run-queue")
        check(len(com.queue()) == 1 and com.queue()[0]["attempts"] == q[0]["attempts"],
              "and retried only when due")

        com.pillarbox("user", "quota", BOB, "0", "0")
        com.pillarbox("queue", "flush")
        com.relay("--run-queue")
        check(not com.queue(), "room again: the entry is done")
        dsn = relaytest.dsn_for(com.inbox(BOB), "dora@refuse.test")
        check(len(dsn) == 1 and b"Status: 5.1.1" in dsn[0] and
              b"550 5.1.1 no such mailbox" in dsn[0], "bob has the DSN for dora")
        check(b"Subject: to dora" in dsn[0], "quoting the original header")
        check(len(fake.rcpts) == 1, "the message was not sent again")

        # Past queue_lifetime the DSN is dropped, about which nothing is sent.
        com.pillarbox("user", "quota", BOB, "1", "0")
        com.reconfigure(queue_lifetime="3")
        s.submit(["erin@refuse.test"], pbtest.make_message("to erin", "x\r\n", sender=BOB,
                                                           to="erin@refuse.test"))

        def gone():
            com.pillarbox("queue", "flush")
            com.relay("--run-queue")
            return not com.queue()

        com.relay("--run-queue")
        check(len(com.queue()) == 1, "kept within queue_lifetime")
        check(com.wait_for(gone, timeout=30), "dropped once queue_lifetime has passed")
        check("dropped after queue_lifetime" in com.log_text(), "and logged")
        com.pillarbox("user", "quota", BOB, "0", "0")
        com.relay("--run-queue")
        check(not com.queue() and len(com.inbox(BOB)) == 1, "no DSN about the DSN")
    print("relay DSN over quota: all checks passed")


if __name__ == "__main__":
    main()
