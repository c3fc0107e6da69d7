#!/usr/bin/env python3
"""SRS (Sender Rewriting Scheme) for forwarded mail, end to end, with
scripted MX hosts found through dnsmasq:

  example.com  at 127.0.0.2: bob, rita (whose Sieve script redirects), the
               alias fwd@ -> dest@far.test, gone@ -> x@bad.test; an MX
               smtpd and a submission smtpd; the test runs the relay. Its
               host name mail.example.com is the SRS domain (the default).
  far.test     at 127.0.0.9: takes everything (where forwarded mail goes)
  orig.test, fwd1.test at 127.0.0.10: takes everything (the original
               senders' server, where bounces must come back)
  bad.test     at 127.0.0.11: refuses every recipient

Checked: mail from carol@orig.test to the alias, and to rita's redirect,
reaches far.test from SRS0=HHHH=TT=orig.test=carol@mail.example.com; bob's
own mail through the alias, at the MX too, and bob's mail to a remote
address he names keep their sender; another forwarder's SRS0 sender
becomes SRS1; a bounce to the SRS0 address at the MX is accepted and
reaches orig.test with carol as RCPT, one to the SRS1 address (in small
letters) reaches fwd1.test's SRS0; our own DSN for forwarded mail refused
at bad.test goes to carol, not to the SRS address; a forged hash, garbage,
an expired and a future address (the smtpd's clock moved) are refused at
RCPT with 550 5.1.1 and the reason in the log, and the session goes on.
After `pillarbox srs rotate` the old addresses still come back and new
ones are signed anew; after `srs rotate --drop-previous` neither does."""

import os
import re
import shutil
import smtplib
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
from relaytest import check  # noqa: E402

BOB, RITA = "bob@example.com", "rita@example.com"
SRS0_RE = r"SRS0=[A-Z2-7]{4}=[A-Z2-7]{2}=%s=%s@mail\.example\.com"


def message(subject, sender, to):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            "Message-ID: <%s.%f@test>\r\n\r\n%s body\r\n" %
            (sender, to, subject, re.sub(r"\W", "", subject), time.time(), subject)).encode()


def mx_send(mx, sender, rcpts, subject):
    with smtplib.SMTP(mx.address[0], mx.address[1], timeout=30) as c:
        refused = c.sendmail(sender, rcpts, message(subject, sender or "mailer-daemon@test",
                                                    rcpts[0]))
    check(refused == {}, "%s: accepted at the MX" % subject)


def run_relay(com):
    for _ in range(4):
        code, _ = com.relay("--run-queue")
        check(code == 0, "the relay ran")
        if not com.queue():
            return
    raise AssertionError("the queue did not empty: %r" % com.queue())


def last_mail(fake, n_before, what):
    """(MAIL FROM address, RCPT addresses) of the message after n_before."""
    deadline = time.monotonic() + 10
    while len(fake.messages) <= n_before and time.monotonic() < deadline:
        time.sleep(0.05)
    check(len(fake.messages) == n_before + 1, "%s: one message arrived" % what)
    m = re.match(r"MAIL FROM:<([^>]*)>", fake.mails[-1], re.I)
    return m.group(1), fake.rcpts[-1]


def rcpt_reply(mx, rcpt, sender=""):
    """(code, text) of RCPT TO:<rcpt> in a fresh session, and whether the
    session still answers NOOP afterwards."""
    with smtplib.SMTP(mx.address[0], mx.address[1], timeout=30) as c:
        c.ehlo("bounce.test")
        c.mail(sender)
        code, text = c.rcpt(rcpt)
        alive = c.noop()[0] == 250
    return code, text.decode(errors="replace"), alive


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.2", "127.0.0.9", "127.0.0.10", "127.0.0.11"])
    records = ["mx-host=far.test,mx.far.test,10", "host-record=mx.far.test,127.0.0.9",
               "mx-host=orig.test,mx.orig.test,10", "mx-host=fwd1.test,mx.orig.test,10",
               "host-record=mx.orig.test,127.0.0.10",
               "mx-host=bad.test,mx.bad.test,10", "host-record=mx.bad.test,127.0.0.11"]
    with relaytest.Sender("relay-srs", records, port) as s:
        com = s.com
        far = s.fake("127.0.0.9", port, lambda p, srv: p.session())
        orig = s.fake("127.0.0.10", port, lambda p, srv: p.session())
        s.fake("127.0.0.11", port, lambda p, srv: p.session(rcpt_reply="550 5.1.1 no such user"))
        com.add_user(RITA, "pw")
        com.pillarbox("sieve", "put", RITA, "away", "--activate",
                      input=b'redirect "dest2@far.test";\r\n')
        com.pillarbox("alias", "add", "fwd@example.com", "dest@far.test")
        com.pillarbox("alias", "add", "gone@example.com", "x@bad.test")
        mx = com.listen("mx", relaytest.free_port_on("127.0.0.2"), relay=False)

        # 1. An alias to a remote address: from our SRS address.
        n = len(far.messages)
        mx_send(mx, "carol@orig.test", ["fwd@example.com"], "via alias")
        run_relay(com)
        sender, rcpt = last_mail(far, n, "alias")
        check(re.fullmatch(SRS0_RE % (r"orig\.test", "carol"), sender) is not None,
              "alias: far.test got MAIL FROM <%s>" % sender)
        check(rcpt == "dest@far.test", "alias: to dest@far.test")
        srs0 = sender
        check("srs: queue=" in com.log_text() and
              "from=<carol@orig.test> forwarded as <%s>" % srs0 in com.log_text(),
              "the log names the rewriting")

        # 2. A Sieve redirect: the same.
        n = len(far.messages)
        mx_send(mx, "dave@orig.test", [RITA], "via redirect")
        run_relay(com)
        sender, rcpt = last_mail(far, n, "redirect")
        check(re.fullmatch(SRS0_RE % (r"orig\.test", "dave"), sender) is not None and
              rcpt == "dest2@far.test", "redirect: far.test got MAIL FROM <%s>" % sender)

        # 3. Our own users' mail keeps its sender: through the alias, from
        # submission and at the MX, and to a remote address bob names.
        for how, send in (("submission", lambda: s.submit(["fwd@example.com"],
                                                           message("own", BOB, "fwd@example.com"))),
                          ("mx", lambda: mx_send(mx, BOB, ["fwd@example.com"], "own at mx")),
                          ("named", lambda: s.submit(["named@far.test"],
                                                     message("named", BOB, "named@far.test")))):
            n = len(far.messages)
            send()
            run_relay(com)
            sender, rcpt = last_mail(far, n, how)
            check(sender == BOB, "%s: bob's own mail leaves from <%s>" % (how, sender))

        # 4. Another forwarder's SRS0 sender: SRS1, not wrapped again.
        other = "SRS0=AbCd=7I=orig.test=carol@fwd1.test"
        n = len(far.messages)
        mx_send(mx, other, ["fwd@example.com"], "second hop")
        run_relay(com)
        sender, _ = last_mail(far, n, "second hop")
        check(re.fullmatch(r"SRS1=[A-Z2-7]{4}=fwd1\.test==AbCd=7I=orig\.test=carol"
                           r"@mail\.example\.com", sender) is not None,
              "another's SRS0: MAIL FROM <%s>" % sender)
        srs1 = sender

        # 5. Bounces to our SRS addresses come back to the original sender.
        n = len(orig.messages)
        mx_send(mx, "", [srs0], "bounce one")
        run_relay(com)
        sender, rcpt = last_mail(orig, n, "bounce to SRS0")
        check(sender == "" and rcpt == "carol@orig.test",
              "the bounce to <%s> reached orig.test for <%s>" % (srs0, rcpt))
        n = len(orig.messages)
        mx_send(mx, "", [srs1.lower()], "bounce two")
        run_relay(com)
        sender, rcpt = last_mail(orig, n, "bounce to SRS1")
        check(rcpt.lower() == other.lower() and rcpt.startswith("SRS0="),
              "the bounce to the SRS1 address (small letters) reached fwd1.test for <%s>" % rcpt)

        # 6. Our own DSN for forwarded mail goes to carol, not to the SRS
        # address (nor around through our MX).
        n = len(orig.messages)
        mx_send(mx, "carol@orig.test", ["gone@example.com"], "refused there")
        run_relay(com)
        sender, rcpt = last_mail(orig, n, "DSN")
        check(sender == "" and rcpt == "carol@orig.test" and
              b"report-type=delivery-status" in orig.messages[-1] and
              b"x@bad.test" in orig.messages[-1], "the DSN for x@bad.test reached carol")

        # 7. Forged, garbage, expired, future: 550 at RCPT, the reason logged.
        forged = srs0[:5] + ("B" if srs0[5] == "A" else "A") + srs0[6:]
        for addr, why in ((forged, "hash does not match"),
                          ("SRS0=garbage@mail.example.com", "malformed hash"),
                          ("SRS1=AAAA=fwd1.test=x@MAIL.example.com", "no SRS0 part"),
                          ("srs0=" + "A" * 300 + "@mail.example.com", None)):
            code, text, alive = rcpt_reply(mx, addr)
            # past the limits of a path, the SMTP parser refuses it first
            check((code == 550 and "5.1.1" in text if why else 500 <= code < 600) and alive,
                  "<%s...>: %d %s, and the session goes on" % (addr[:40], code, text))
            if why is not None:
                check(re.search(r"rcpt refused .*to=<%s> reason=SRS address: %s" %
                                (re.escape(addr), why), com.log_text(), re.I) is not None,
                      "the log says why: %s" % why)
        clock_dir = tempfile.mkdtemp(prefix="tmp.relay-srs-clock.", dir=os.path.dirname(com.dir))
        clock = relaytest.FakeClock(clock_dir)
        plain_env = com.env
        com.env = lambda extra=None: plain_env(dict(clock.env(), **(extra or {})))
        try:
            late = com.listen("mx", relaytest.free_port_on("127.0.0.2"), relay=False)
        finally:
            del com.env
        for offset, why in ((30 * 86400, "expired"), (-3 * 86400, "timestamp in the future")):
            clock.set(offset)
            code, text, alive = rcpt_reply(late, srs0)
            check(code == 550 and "5.1.1" in text and alive,
                  "%s: %d %s" % (why, code, text))
            check(re.search(r"rcpt refused .*reason=SRS address: %s" % why, com.log_text())
                  is not None, "the log says: %s" % why)
        clock.set(20 * 86400)
        code, text, _ = rcpt_reply(late, srs0)
        check(code == 250, "20 days later the address is still good (%d %s)" % (code, text))

        # 8. A new secret: the old one's addresses still come back; after
        # a leak (--drop-previous) none do.
        com.pillarbox("srs", "rotate")
        code, text, _ = rcpt_reply(mx, srs0)
        check(code == 250, "after srs rotate the old address is still good (%d %s)" % (code, text))
        n = len(far.messages)
        mx_send(mx, "carol@orig.test", ["fwd@example.com"], "after rotate")
        run_relay(com)
        sender, _ = last_mail(far, n, "after rotate")
        check(re.fullmatch(SRS0_RE % (r"orig\.test", "carol"), sender) is not None and
              sender != srs0, "after srs rotate forwarded mail is signed anew: <%s>" % sender)
        com.pillarbox("srs", "rotate", "--drop-previous")
        for addr in (srs0, sender):
            code, text, alive = rcpt_reply(mx, addr)
            check(code == 550 and "5.1.1" in text and alive,
                  "after srs rotate --drop-previous <%s>: %d %s" % (addr, code, text))
        if os.environ.get("PBTEST_KEEP") != "1":
            shutil.rmtree(clock_dir, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
