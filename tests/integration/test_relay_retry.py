#!/usr/bin/env python3
"""Retries: a remote MX (a scripted server at 127.0.0.4, MX of flaky.test
through dnsmasq) answers 451 at RCPT. The entry is deferred with a back-off,
retried on the next run once due (made due with `queue flush`), and
delivered when the remote recovers; with queue_lifetime set short, a message
the remote keeps refusing with 451 is returned to the sender in a DSN after
the lifetime. The back-off is checked as scheduled by the store. A message
that needs SMTPUTF8, for a remote without it, bounces with 5.6.7; a
recipient whose domain became local is delivered locally."""

import calendar
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402

BOB = "bob@example.com"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.4"])
    base = os.path.join(pbtest.TOP_BUILDDIR, "tests", "integration")
    tmp = tempfile.mkdtemp(prefix="tmp.relay-retry-dns.", dir=base)
    dns = relaytest.Dns(tmp, ["mx-host=flaky.test,mx.flaky.test,10",
                              "host-record=mx.flaky.test,127.0.0.4"], zones=["test"])
    state = {"rcpt": "451 4.3.0 try again later"}
    fake = relaytest.FakeSmtp("127.0.0.4", port,
                              lambda peer, srv: peer.session(rcpt_reply=state["rcpt"]))
    com = None
    try:
        com = relaytest.Instance("relay-retry", ["example.com"], "127.0.0.2", "mail.example.com",
                                 config_extra={"resolver": dns.address, "smtp_port": str(port),
                                               "relay_timeout": "5"})
        com.add_user(BOB, "pw")
        # smtpd queues; this test runs the relay itself (no kick).
        sub = com.listen("submission", relaytest.free_port_on("127.0.0.2"), relay=False)
        relaytest.submit(com, sub, BOB, "pw", ["dora@flaky.test"],
                         pbtest.make_message("flaky", "retry me\r\n", sender=BOB,
                                             to="dora@flaky.test"))
        q = com.queue()
        check(len(q) == 1 and q[0]["state"] == "due", "queued, due at once")
        code, _ = com.relay("--run-queue")
        q = com.queue()
        check(code == 0 and len(q) == 1 and q[0]["attempts"] == "1" and
              q[0]["state"] == "deferred", "451: deferred after one attempt")
        check("451 4.3.0 try again later" in q[0]["error"], "the 451 is the last error")
        delay = calendar.timegm(time.strptime(q[0]["next"], "%Y-%m-%dT%H:%M:%SZ")) - time.time()
        check(240 <= delay <= 310, "first back-off about 5 minutes (%.0f s)" % delay)
        code, _ = com.relay("--run-queue")
        check(com.queue()[0]["attempts"] == "1", "not retried before it is due")
        com.pillarbox("queue", "flush")
        code, _ = com.relay("--run-queue")
        q = com.queue()
        check(q[0]["attempts"] == "2", "retried on the next run once due")
        delay = calendar.timegm(time.strptime(q[0]["next"], "%Y-%m-%dT%H:%M:%SZ")) - time.time()
        check(540 <= delay <= 610, "second back-off doubled (%.0f s)" % delay)
        state["rcpt"] = "250 2.1.5 ok"
        com.pillarbox("queue", "flush")
        code, _ = com.relay("--run-queue")
        check(not com.queue(), "delivered when the remote recovered: the entry is gone")
        check(len(fake.messages) == 1 and b"retry me" in fake.messages[0],
              "the remote has the message once")

        # Lifetime: 2 s; the remote keeps answering 451.
        state["rcpt"] = "451 4.7.1 greylisted"
        com.reconfigure(queue_lifetime="2")
        relaytest.submit(com, sub, BOB, "pw", ["eve@flaky.test"],
                         pbtest.make_message("expires", "x\r\n", sender=BOB,
                                             to="eve@flaky.test"))
        com.relay("--run-queue")
        check(com.queue() and com.queue()[0]["attempts"] == "1", "deferred once")
        check(not com.inbox(BOB), "no DSN yet")
        time.sleep(2.5)
        com.pillarbox("queue", "flush")
        com.relay("--run-queue")
        check(not com.queue(), "past its lifetime the entry is gone")
        box = com.inbox(BOB)
        dsn = relaytest.dsn_for(box, "eve@flaky.test")
        check(len(dsn) == 1, "and bob has a DSN for eve@flaky.test")
        check(b"451 4.7.1 greylisted" in dsn[0] and b"gave up after 2 attempts" in dsn[0] and
              b"Status: 4.7.1" in dsn[0], "the DSN quotes the last reply and the attempts")

        # SMTPUTF8: a non-ASCII header field, and a remote without SMTPUTF8.
        com.reconfigure(queue_lifetime=None)
        state["rcpt"] = "250 2.1.5 ok"
        before = len(com.inbox(BOB))
        utf8 = pbtest.make_message("caf\u00e9 \u2615", "x\r\n", sender=BOB,
                                   to="uma@flaky.test")
        import smtplib
        with smtplib.SMTP(sub.address[0], sub.address[1], timeout=30) as s:
            s.ehlo("client.test")
            s.login(BOB, "pw")
            s.sendmail(BOB, ["uma@flaky.test"], utf8, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        com.relay("--run-queue")
        check(not com.queue(), "the SMTPUTF8 message is not kept")
        dsn = relaytest.dsn_for(com.inbox(BOB)[before:], "uma@flaky.test")
        check(len(dsn) == 1 and b"Status: 5.6.7" in dsn[0] and b"needs SMTPUTF8" in dsn[0],
              "the remote lacks SMTPUTF8: a DSN with 5.6.7 and the reason")
        check(len(fake.messages) == 1, "nothing was sent to it")

        # A domain that became local after queueing: delivered here, not sent.
        state["rcpt"] = "451 4.3.0 not now"
        relaytest.submit(com, sub, BOB, "pw", ["lou@flaky.test"],
                         pbtest.make_message("now local", "x\r\n", sender=BOB,
                                             to="lou@flaky.test"))
        com.pillarbox("domain", "add", "flaky.test")
        com.add_user("lou@flaky.test", "pw")
        connections = fake.connections
        com.relay("--run-queue")
        check(not com.queue() and len(com.inbox("lou@flaky.test")) == 1,
              "a recipient whose domain became local is delivered locally")
        check(fake.connections == connections, "and nothing went out through the relay")
        print("relay retry: all checks passed")
    except Exception:
        if com is not None:
            sys.stderr.write("---- log ----\n%s\n" % com.log_text()[-6000:])
        raise
    finally:
        fake.close()
        if com is not None:
            com.close()
        dns.close()
        if os.environ.get("PBTEST_KEEP") != "1":
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
