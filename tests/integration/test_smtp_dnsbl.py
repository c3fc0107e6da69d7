#!/usr/bin/env python3
"""DNS blocklists (`dnsbl`, RFC 5782) at the MX end to end: a real dnsmasq
serves the lists, smtpd (--mode=mx) listens on a non-loopback address of
this machine (loopback clients are never checked) and the client connects
from it. Zones (all under .test, answered by dnsmasq alone):
  bl.test    lists the client (127.0.0.2) and 127.0.0.1: every RCPT is
             refused with Postfix's 554 5.7.1 naming the zone, nothing is
             delivered, one "dnsbl listed" line, one query per connection;
  err.test   answers 127.255.255.254 (Spamhaus: "query via a public
             resolver"): not a listing, a warning with the zone;
  none.test  NXDOMAIN: accepted.
Also: a resolver that does not answer (accepted, logged); a client that
logs in (submission, and AUTH on the MX) from the listed address is not
checked; nor one on 127.0.0.1; a client that never sends RCPT costs no
query; `dnsbl` unset asks nothing (dnsmasq's query log)."""

import base64
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
import relaytest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def reverse(ip):
    return ".".join(reversed(ip.split(".")))


def session(svc, rcpts=(BOB,), login=None, data=True, ehlo="client.example.net"):
    """[(code, text)] of the RCPT replies, then DATA's end (if any RCPT
    was accepted and `data`)."""
    c = smtptest.Raw(svc.address)
    out = []
    try:
        c.cmd("EHLO " + ehlo)
        if login is not None:
            tok = base64.b64encode(("\0%s\0%s" % login).encode()).decode()
            code, _ = c.cmd("AUTH PLAIN " + tok)
            check(code == 235, "AUTH as %s" % login[0])
        sender = login[0] if login is not None else "someone@example.net"
        code, _ = c.cmd("MAIL FROM:<%s>" % sender)
        check(code == 250, "MAIL FROM")
        for r in rcpts:
            code, lines = c.cmd("RCPT TO:<%s>" % r)
            out.append((code, " ".join(lines)))
        if data and any(code == 250 for code, _ in out):
            code, _ = c.cmd("DATA")
            check(code == 354, "DATA")
            c.send(pbtest.make_message("dnsbl", "Hello.\r\n", sender=sender, to=BOB)
                   + b".\r\n")
            code, lines = c.reply()
            out.append((code, " ".join(lines)))
        c.cmd("QUIT")
        return out
    finally:
        c.close()


def main():
    addr = imaptest.external_address()
    if addr is None:
        print("SKIP: no non-loopback IPv4 address to listen on")
        return pbtest.SKIP
    rev = reverse(addr)
    fx = smtptest.SmtpFixture("dnsbl", tls=False)
    dns = None
    try:
        dns = relaytest.Dns(fx.dir, [
            "host-record=%s.bl.test,127.0.0.2" % rev,
            "host-record=1.0.0.127.bl.test,127.0.0.2",
            "host-record=%s.err.test,127.255.255.254" % rev,
        ], ["test"])

        def queries(zone):
            """How many A queries for the client's name under `zone` dnsmasq has had."""
            time.sleep(0.2)   # dnsmasq writes its log line after answering
            with open(os.path.join(fx.dir, "dnsmasq.log"), "rb") as f:
                log = f.read().decode(errors="replace")
            return log.count("query[A] %s.%s " % (rev, zone))

        def configure(**keys):
            base = {"resolver": dns.address, "allow_plaintext_auth": "yes"}
            base.update(keys)
            fx.write_config(base)

        mx = fx.smtpd("mx", host=addr)
        sub = fx.smtpd("submission", host=addr)
        local_mx = fx.smtpd("mx")

        # Listed: every RCPT refused with the zone named, nothing stored.
        configure(dnsbl="err.test bl.test")
        before = fx.count(BOB)[BOB]
        got = session(mx, rcpts=(BOB, ALICE))
        want = "554 5.7.1 Service unavailable; client [%s] blocked using bl.test" % addr
        check(len(got) == 2 and all(code == 554 and text == want for code, text in got),
              "listed: each RCPT refused with %r (%s)" % (want, got))
        check(fx.count(BOB)[BOB] == before, "listed: nothing delivered")
        log = fx.log_text()
        check("dnsbl listed user=<> rip=%s zone=bl.test code=127.0.0.2" % addr in log,
              "one line says who, which zone, which code")
        check(log.count("dnsbl listed") == 1, "logged once for the connection")
        check("reason=dnsbl" in log, "the refused RCPTs are logged as such")
        check(queries("bl.test") == 1, "one query per connection, not per RCPT")
        check("dnsbl zone=err.test code=127.255.255.254" in log,
              "the error code of err.test is logged as a warning with the zone")

        # An error code alone: not refused.
        configure(dnsbl="err.test")
        got = session(mx)
        check(got[0][0] == 250 and got[-1][0] == 250,
              "127.255.255.254 is no listing: delivered (%s)" % got)
        check(fx.count(BOB)[BOB] == before + 1, "delivered")

        # NXDOMAIN: accepted.
        configure(dnsbl="none.test")
        got = session(mx)
        check(got[0][0] == 250 and got[-1][0] == 250, "NXDOMAIN: accepted (%s)" % got)

        # A client that logs in is not checked: submission, and AUTH on the MX.
        configure(dnsbl="bl.test")
        n = queries("bl.test")
        got = session(sub, login=(ALICE, ALICE_PW))
        check(got[0][0] == 250 and got[-1][0] == 250,
              "submission after login from a listed address: accepted (%s)" % got)
        got = session(mx, login=(ALICE, ALICE_PW))
        check(got[0][0] == 250 and got[-1][0] == 250,
              "MX after login from a listed address: accepted (%s)" % got)
        check(queries("bl.test") == n, "no query for clients that logged in")

        # Loopback (local programs) is never checked, though listed too.
        got = session(local_mx)
        check(got[0][0] == 250, "a client on 127.0.0.1: accepted (%s)" % got)

        # A client that never gets to RCPT costs nothing.
        c = smtptest.Raw(mx.address)
        c.cmd("EHLO probe.example.net")
        c.cmd("MAIL FROM:<probe@example.net>")
        c.cmd("QUIT")
        c.close()
        check(queries("bl.test") == n, "no query before the first RCPT")

        # The resolver does not answer: fail open, logged.
        dead = relaytest.free_port_on("127.0.0.1")
        configure(dnsbl="bl.test", resolver="127.0.0.1:%d" % dead)
        t = time.monotonic()
        got = session(mx)
        took = time.monotonic() - t
        check(got[0][0] == 250 and got[-1][0] == 250,
              "DNS down: accepted (%s, %.1f s)" % (got, took))
        check("dnsbl zone=bl.test rip=%s lookup failed" % addr in fx.log_text(),
              "DNS down: logged with the zone")
        check(took < 20, "within the time budget")

        # dnsbl unset: no lookup at all.
        configure()
        n = queries("bl.test")
        got = session(mx)
        check(got[0][0] == 250, "dnsbl unset: accepted")
        check(queries("bl.test") == n, "dnsbl unset: nothing asked")
    finally:
        if dns is not None:
            dns.close()
        fx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
