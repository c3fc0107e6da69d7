#!/usr/bin/env python3
"""Retries: a remote MX (a scripted server at 127.0.0.4, MX of flaky.test
through dnsmasq) answers 451 at RCPT. The entry is deferred with a back-off,
retried on the next run once due (made due with `queue flush`), and
delivered when the remote recovers; with queue_lifetime set short, a message
the remote keeps refusing with 451 is returned to the sender in a DSN after
the lifetime. The back-off is checked as scheduled by the store. A message
that needs SMTPUTF8, for a remote without it, bounces with 5.6.7; a
recipient whose domain became local is delivered locally. A primary MX that
answers EHLO but then 421 (or 4xx to every recipient) leaves the message to
the backup MX in the same run (RFC 5321 5.1). A local recipient whose
mailbox is full does not cost the others their copy: theirs is delivered,
the full one is queued and delivered by the relay once there is room."""

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
    port = relaytest.common_port(["127.0.0.4", "127.0.0.6", "127.0.0.7"])
    base = os.path.join(pbtest.TOP_BUILDDIR, "tests", "integration")
    tmp = tempfile.mkdtemp(prefix="tmp.relay-retry-dns.", dir=base)
    dns = relaytest.Dns(tmp, ["mx-host=flaky.test,mx.flaky.test,10",
                              "host-record=mx.flaky.test,127.0.0.4",
                              "mx-host=two.test,mx1.two.test,10",
                              "mx-host=two.test,mx2.two.test,20",
                              "host-record=mx1.two.test,127.0.0.6",
                              "host-record=mx2.two.test,127.0.0.7"], zones=["test"])
    state = {"rcpt": "451 4.3.0 try again later"}
    fake = relaytest.FakeSmtp("127.0.0.4", port,
                              lambda peer, srv: peer.session(rcpt_reply=state["rcpt"]))
    two = {"mail": "421 4.3.2 mx1 shutting down"}

    def primary(peer, srv):
        # EHLO, then MAIL answered with two["mail"] (a 421 closes)
        peer.send("220 mx1.two.test ESMTP\r\n")
        while True:
            verb = peer.line()[:4].upper()
            if verb == "EHLO":
                peer.send("250-mx1.two.test\r\n250 PIPELINING\r\n")
            elif verb == "MAIL":
                peer.send(two["mail"] + "\r\n")
                if two["mail"].startswith("421"):
                    return
            elif verb == "QUIT":
                peer.send("221 bye\r\n")
                return
            else:
                peer.send("503 5.5.1 no\r\n")

    mx1 = relaytest.FakeSmtp("127.0.0.6", port, primary)
    mx2 = relaytest.FakeSmtp("127.0.0.7", port, lambda peer, srv: peer.session())
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

        # Two recipients whose local parts differ by case alone are two
        # mailboxes for the remote server (RFC 5321 2.4): both are sent.
        rcpts_before = len(fake.rcpts)
        relaytest.submit(com, sub, BOB, "pw", ["Kim@flaky.test", "kim@flaky.test", "kim@FLAKY.test"],
                         pbtest.make_message("case", "x\r\n", sender=BOB, to="kim@flaky.test"))
        com.relay("--run-queue")
        sent = fake.rcpts[rcpts_before:]
        check(not com.queue() and sorted(sent) == ["Kim@flaky.test", "kim@flaky.test"],
              "local parts that differ by case are both sent, the domain's case is not (%s)" % sent)

        # Over quota among several recipients: the others get the message
        # at once, the full one is queued and delivered once there is room.
        carol, dan = "carol@example.com", "dan@example.com"
        com.add_user(carol, "pw")
        com.add_user(dan, "pw")
        com.pillarbox("user", "quota", carol, "3000", "0")
        com.pillarbox("alias", "add", "team@example.com", carol, dan)
        import smtplib
        big = pbtest.make_message("five kilobytes", ("q" * 98 + "\r\n") * 50, sender=BOB,
                                  to="team@example.com")
        for rcpts in ([carol, dan], ["team@example.com"]):
            with smtplib.SMTP(sub.address[0], sub.address[1], timeout=30) as s:
                s.ehlo("client.test")
                s.login(BOB, "pw")
                s.esmtp_features.pop("size", None)   # no SIZE=: found full at the data
                refused = s.sendmail(BOB, rcpts, big)
            check(refused == {}, "%s: every recipient accepted" % rcpts)
        check(len(com.inbox(dan)) == 2 and len(com.inbox(carol)) == 0,
              "dan has both copies at once, carol (over quota) none yet")
        q = com.queue()
        check(len(q) == 2, "carol's two copies are queued (%s)" % q)
        com.relay("--run-queue")
        q = com.queue()
        check(len(q) == 2 and all(e["state"] == "deferred" and "4.2.2" in e["error"] for e in q),
              "still full: deferred with 4.2.2 (%s)" % q)
        com.pillarbox("user", "quota", carol, "0", "0")
        com.pillarbox("queue", "flush")
        com.relay("--run-queue")
        check(not com.queue() and len(com.inbox(carol)) == 2,
              "room again: the relay delivers carol's copies")
        # carol alone and full: refused at the data, as before
        com.pillarbox("user", "quota", carol, "3000", "0")
        with smtplib.SMTP(sub.address[0], sub.address[1], timeout=30) as s:
            s.ehlo("client.test")
            s.login(BOB, "pw")
            s.esmtp_features.pop("size", None)
            try:
                s.sendmail(BOB, [carol], big)
                code = 250
            except smtplib.SMTPDataError as e:
                code = e.smtp_code
            except smtplib.SMTPRecipientsRefused as e:
                code = list(e.recipients.values())[0][0]
        check(code in (452, 552) and not com.queue(),
              "the only recipient full: refused (%s), nothing queued" % code)

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

        # The primary MX takes the connection and EHLO, then refuses for now:
        # the backup gets the message in the same run.
        for reply in ("421 4.3.2 mx1 shutting down", "451 4.3.0 mx1 busy"):
            two["mail"] = reply
            before = len(mx2.messages)
            relaytest.submit(com, sub, BOB, "pw", ["ann@two.test"],
                             pbtest.make_message("backup " + reply[:3], "x\r\n", sender=BOB,
                                                 to="ann@two.test"))
            com.relay("--run-queue")
            check(not com.queue() and len(mx2.messages) == before + 1,
                  "primary answers %s after EHLO: the backup MX has the message" % reply[:3])
        # Both refuse for now: deferred, with the primary's own reply kept.
        mx2.close()
        two["mail"] = "451 4.3.0 mx1 busy"
        relaytest.submit(com, sub, BOB, "pw", ["ann@two.test"],
                         pbtest.make_message("both busy", "x\r\n", sender=BOB, to="ann@two.test"))
        com.relay("--run-queue")
        q = com.queue()
        check(len(q) == 1 and q[0]["state"] == "deferred" and "451 4.3.0 mx1 busy" in q[0]["error"],
              "primary busy, backup down: deferred with the primary's reply (%s)"
              % (q[0]["error"] if q else "no entry"))
        print("relay retry: all checks passed")
    except Exception:
        if com is not None:
            sys.stderr.write("---- log ----\n%s\n" % com.log_text()[-6000:])
        raise
    finally:
        fake.close()
        mx1.close()
        mx2.close()
        if com is not None:
            com.close()
        dns.close()
        if os.environ.get("PBTEST_KEEP") != "1":
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
