#!/usr/bin/env python3
"""The relay between two Pillarbox instances on loopback, found through MX
records served by a real dnsmasq:

  example.com  (bob)   at 127.0.0.2: submission smtpd, which starts the relay
  example.org  (alice), example.net (carol), implicit.test (ivy)
                       at 127.0.0.3: MX smtpd, port P (the relay's smtp_port)
  dnsmasq on 127.0.0.1: MX example.org/example.net -> mx.example.org
  (127.0.0.3); implicit.test has only an A record; v6.test's MX has only an AAAA
  record (::1, where the org instance listens too); nullmx.test has the RFC
  7505 null MX; dead.test's MX is 127.0.0.9, where nothing listens.

Checked: delivery through an MX lookup over STARTTLS (the remote Received:
says so) and through an implicit MX; a 550 at RCPT gives a DSN naming the
recipient and the reply; three recipients over two domains with one
refused give exactly the right copies and one DSN; a null MX bounces at
once; a dead MX defers (then `queue show`, `queue bounce`, `queue delete`);
tls_policy verify with the right and the wrong CA."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402

BOB, BOB_PW = "bob@example.com", "bob pw"
ALICE, CAROL, IVY = "alice@example.org", "carol@example.net", "ivy@implicit.test"
VIC = "vic@v6.test"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.2", "127.0.0.3", "127.0.0.9", "::1"])
    base = os.path.join(pbtest.TOP_BUILDDIR, "tests", "integration")
    os.makedirs(base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tmp.relay-dns.", dir=base)
    dns = relaytest.Dns(tmp, [
        "mx-host=example.org,mx.example.org,10",
        "mx-host=example.net,mx.example.org,10",
        "host-record=mx.example.org,127.0.0.3",
        "mx-host=example.com,mx.example.com,10",
        "host-record=mx.example.com,127.0.0.2",
        "host-record=implicit.test,127.0.0.3",
        "mx-host=v6.test,mx6.v6.test,10",
        "host-record=mx6.v6.test,::1",
        "mx-host=dead.test,mx.dead.test,10",
        "host-record=mx.dead.test,127.0.0.9",
        "dns-rr=nullmx.test,15,000000",
    ], zones=["example.org", "example.net", "example.com", "test"])
    org = com = None
    try:
        org = relaytest.Instance("relay-org", ["example.org", "example.net", "implicit.test",
                                               "v6.test"], "127.0.0.3", "mx.example.org")
        for a in (ALICE, CAROL, IVY, VIC):
            org.add_user(a, "pw")
        org.listen("mx", port, relay=False)
        org.listen("mx", port, relay=False, host="::1")
        com = relaytest.Instance("relay-com", ["example.com"], "127.0.0.2", "mail.example.com",
                                 config_extra={
                                     "resolver": dns.address, "smtp_port": str(port),
                                     "relay_timeout": "10", "relay_connect_timeout": "5",
                                     "relay_ca_file": org.ca_pem})
        com.add_user(BOB, BOB_PW)
        sub = com.listen("submission", relaytest.free_port_on("127.0.0.2"))

        # 1. MX lookup, STARTTLS, the remote Received: says so.
        msg = pbtest.make_message("over tls", "hello alice\r\n", sender=BOB, to=ALICE)
        relaytest.submit(com, sub, BOB, BOB_PW, [ALICE], msg)
        got = org.wait_inbox(ALICE, 1)
        check(len(got) == 1, "alice@example.org got the message through the MX")
        rec = relaytest.received_lines(got[0])
        check(any("by mx.example.org" in r and "ESMTPS" in r and "using TLS" in r for r in rec),
              "the remote Received: names STARTTLS: %s" % rec[0][:160])
        check(b"hello alice" in got[0], "the body arrived")
        check(com.wait_queue_empty(), "the queue entry is gone")

        # Implicit MX (an A record and no MX).
        relaytest.submit(com, sub, BOB, BOB_PW, [IVY],
                         pbtest.make_message("implicit", "hi ivy\r\n", sender=BOB, to=IVY))
        check(len(org.wait_inbox(IVY, 1)) == 1, "implicit MX: ivy@implicit.test got it")

        # IPv6: an MX whose only address is ::1 (AAAA).
        relaytest.submit(com, sub, BOB, BOB_PW, [VIC],
                         pbtest.make_message("over v6", "hi vic\r\n", sender=BOB, to=VIC))
        got = org.wait_inbox(VIC, 1)
        check(len(got) == 1 and any("[IPv6:::1]" in r for r in relaytest.received_lines(got[0])),
              "IPv6: vic@v6.test got it over ::1")

        # 2. 550 at RCPT: a DSN naming the recipient and the reply.
        relaytest.submit(com, sub, BOB, BOB_PW, ["nobody@example.org"],
                         pbtest.make_message("to nobody", "x\r\n", sender=BOB,
                                             to="nobody@example.org"))
        box = com.wait_inbox(BOB, 1)
        dsn = relaytest.dsn_for(box, "nobody@example.org")
        check(len(dsn) == 1, "a DSN for nobody@example.org is in bob's INBOX")
        check(b"Diagnostic-Code: smtp; 550" in dsn[0] and b"Status: 5.1.1" in dsn[0],
              "the DSN quotes the 550 5.1.1 reply")
        check(b"Subject: to nobody" in dsn[0], "the DSN holds the original header")
        check(b"Return-Path: <>" in dsn[0], "the DSN has the null sender")
        check(com.wait_queue_empty(), "the queue is empty after the bounce")

        # 3. Three recipients, two domains, one refused.
        before_alice = len(org.inbox(ALICE))
        before_bob = len(com.inbox(BOB))
        rcpts = [ALICE, "nobody2@example.org", CAROL]
        relaytest.submit(com, sub, BOB, BOB_PW, rcpts,
                         pbtest.make_message("three", "to three\r\n", sender=BOB,
                                             to=", ".join(rcpts)))
        check(com.wait_queue_empty(), "the three-recipient entry is done")
        check(len(org.wait_inbox(ALICE, before_alice + 1)) == before_alice + 1,
              "alice got exactly one copy")
        check(len(org.wait_inbox(CAROL, 1)) == 1, "carol@example.net got exactly one copy")
        box = com.wait_inbox(BOB, before_bob + 1)
        new = box[before_bob:]
        check(len(new) == 1 and len(relaytest.dsn_for(new, "nobody2@example.org")) == 1,
              "exactly one DSN, naming nobody2@example.org")
        check(b"Final-Recipient: rfc822; " + ALICE.encode() not in new[0] and
              b"Final-Recipient: rfc822; " + CAROL.encode() not in new[0],
              "the DSN names only the refused recipient")
        time.sleep(0.5)
        check(len(org.inbox(ALICE)) == before_alice + 1, "still one copy for alice")

        # 4. Null MX: bounced at once, without a connection.
        before_bob = len(com.inbox(BOB))
        relaytest.submit(com, sub, BOB, BOB_PW, ["x@nullmx.test"],
                         pbtest.make_message("null", "x\r\n", sender=BOB, to="x@nullmx.test"))
        box = com.wait_inbox(BOB, before_bob + 1)
        dsn = relaytest.dsn_for(box[before_bob:], "x@nullmx.test")
        check(len(dsn) == 1 and b"Status: 5.1.10" in dsn[0] and b"null MX" in dsn[0],
              "null MX: a DSN with 5.1.10")

        # 5. An MX that does not answer: deferred, with the reason.
        relaytest.submit(com, sub, BOB, BOB_PW, ["y@dead.test"],
                         pbtest.make_message("dead", "x\r\n", sender=BOB, to="y@dead.test"))
        deadline = time.monotonic() + 20
        q = com.queue()
        while time.monotonic() < deadline and not (q and q[0]["attempts"] == "1" and
                                                   q[0]["state"] == "deferred"):
            time.sleep(0.1)
            q = com.queue()
        check(len(q) == 1 and q[0]["attempts"] == "1" and q[0]["state"] == "deferred",
              "dead MX: deferred after one attempt (%s)" % q)
        check("refused" in q[0]["error"].lower(), "the last error says why: %s" % q[0]["error"])
        show = com.queue_show(q[0]["id"])
        check("recipient: pending\t<y@dead.test>" in show, "queue show lists the recipient")
        check("\ndkim-domain: %s\n" % BOB.split("@")[1] in show,
              "queue show names the domain bob proved to speak for (its DKIM key signs)")
        next_try = q[0]["next"]
        check(next_try != "-" and time.strptime(next_try, "%Y-%m-%dT%H:%M:%SZ"),
              "a next attempt is scheduled: %s" % next_try)
        code, took = com.relay("--run-queue")
        check(code == 0 and com.queue()[0]["attempts"] == "1",
              "a run before the next attempt time does not retry")
        before_bob = len(com.inbox(BOB))
        com.pillarbox("queue", "bounce", q[0]["id"])
        code, took = com.relay("--run-queue")
        box = com.wait_inbox(BOB, before_bob + 1)
        check(len(relaytest.dsn_for(box[before_bob:], "y@dead.test")) == 1,
              "queue bounce: the sender gets a DSN on the next run")
        check(com.wait_queue_empty(), "and the entry is gone")
        relaytest.submit(com, sub, BOB, BOB_PW, ["z@dead.test"],
                         pbtest.make_message("dead2", "x\r\n", sender=BOB, to="z@dead.test"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (com.queue() and
                                                   com.queue()[0]["attempts"] == "1"):
            time.sleep(0.1)
        before_bob = len(com.inbox(BOB))
        com.pillarbox("queue", "delete", com.queue()[0]["id"])
        com.pillarbox("queue", "flush")
        com.relay("--run-queue")
        check(not com.queue() and len(com.inbox(BOB)) == before_bob,
              "queue delete: gone, and no DSN")
        r = com.pillarbox("queue", "show", "0" * 32, check=False)
        check(r.returncode == 65, "queue show of an unknown id: exit 65")

        # 6. tls_policy verify: the right CA delivers, a wrong one defers.
        com.reconfigure(route_tls_policy="example.org verify")
        before_alice = len(org.inbox(ALICE))
        relaytest.submit(com, sub, BOB, BOB_PW, [ALICE],
                         pbtest.make_message("verified", "x\r\n", sender=BOB, to=ALICE))
        check(len(org.wait_inbox(ALICE, before_alice + 1)) == before_alice + 1,
              "verify with the remote's CA: delivered")
        com.reconfigure(relay_ca_file=com.ca_pem)
        relaytest.submit(com, sub, BOB, BOB_PW, [ALICE],
                         pbtest.make_message("unverified", "x\r\n", sender=BOB, to=ALICE))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (com.queue() and
                                                   com.queue()[0]["attempts"] == "1"):
            time.sleep(0.1)
        q = com.queue()
        check(q and "TLS" in q[0]["error"], "verify with a wrong CA: deferred (%s)" %
              (q[0]["error"] if q else q))
        check(len(org.inbox(ALICE)) == before_alice + 1, "and nothing was sent")
        print("relay: all checks passed")
    except Exception:
        for inst in (com, org):
            if inst is not None:
                sys.stderr.write("---- log of %s ----\n%s\n" % (inst.name, inst.log_text()[-6000:]))
        raise
    finally:
        for inst in (com, org):
            if inst is not None:
                inst.close()
        dns.close()
        if os.environ.get("PBTEST_KEEP") != "1":
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
