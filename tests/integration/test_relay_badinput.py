#!/usr/bin/env python3
"""Hostile or broken remote MX hosts (scripted servers on 127.0.0.11-.16,
each the MX of its own domain through dnsmasq), relay_timeout = 3 s:

  longline.test   a 1 MB reply line (the greeting)
  garbage.test    garbage instead of a greeting
  endless.test    a multiline greeting that never ends (a line every 0.3 s:
                  only the hard per-reply deadline stops it, the idle
                  timeout never fires)
  closes.test     closes the connection in the middle of DATA
  stall.test      accepts the connection and says nothing
  stalldata.test  takes the whole message and never answers the final dot

Each must end in a timed-out or refused, logged, deferred attempt (the
entry stays queued with attempts 1 and the reason as its last error), and
the relay must finish within its timeouts."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402

BOB = "bob@example.com"
TIMEOUT = 3


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def longline(peer, srv):
    peer.send(b"220 " + b"x" * (1024 * 1024) + b"\r\n")
    time.sleep(30)


def garbage(peer, srv):
    peer.send(b"\x00\xffHELLO I AM NOT SMTP\r\n")
    time.sleep(30)


def endless(peer, srv):
    for _ in range(200):
        peer.send(b"220-still greeting you\r\n")
        time.sleep(0.3)


def closes(peer, srv):
    peer.send("220 fake ESMTP\r\n")
    while True:
        cmd = peer.line().upper()
        if cmd.startswith("EHLO"):
            peer.send("250-fake\r\n250 PIPELINING\r\n")
        elif cmd.startswith("MAIL") or cmd.startswith("RCPT"):
            peer.send("250 ok\r\n")
        elif cmd.startswith("DATA"):
            peer.send("354 go\r\n")
            peer.f.read(10)
            return  # closes in the middle of the message


def stall(peer, srv):
    time.sleep(30)


def stalldata(peer, srv):
    peer.session(before_data_end=lambda p: time.sleep(30))


SCRIPTS = [
    ("longline.test", longline, "reply line too long"),
    ("garbage.test", garbage, "malformed reply to the greeting"),
    ("endless.test", endless, "timed out (waiting for the reply to the greeting)"),
    ("closes.test", closes, ""),
    ("stall.test", stall, "timed out (waiting for the reply to the greeting)"),
    ("stalldata.test", stalldata, "timed out (waiting for the reply to end of data)"),
]


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    hosts = ["127.0.0.%d" % (11 + i) for i in range(len(SCRIPTS))]
    port = relaytest.common_port(hosts)
    base = os.path.join(pbtest.TOP_BUILDDIR, "tests", "integration")
    tmp = tempfile.mkdtemp(prefix="tmp.relay-bad-dns.", dir=base)
    records = []
    for (domain, _, _), host in zip(SCRIPTS, hosts):
        records += ["mx-host=%s,mx.%s,10" % (domain, domain),
                    "host-record=mx.%s,%s" % (domain, host)]
    dns = relaytest.Dns(tmp, records, zones=["test"])
    fakes = [relaytest.FakeSmtp(h, port, script) for (_, script, _), h in zip(SCRIPTS, hosts)]
    com = None
    try:
        com = relaytest.Instance("relay-bad", ["example.com"], "127.0.0.2", "mail.example.com",
                                 config_extra={"resolver": dns.address, "smtp_port": str(port),
                                               "relay_timeout": str(TIMEOUT),
                                               "relay_connect_timeout": str(TIMEOUT)})
        com.add_user(BOB, "pw")
        sub = com.listen("submission", relaytest.free_port_on("127.0.0.2"), relay=False)
        ids = {}
        for domain, _, _ in SCRIPTS:
            rcpt = "user@" + domain
            relaytest.submit(com, sub, BOB, "pw", [rcpt],
                             pbtest.make_message(domain, "x\r\n" * 1000, sender=BOB, to=rcpt))
        for e in com.queue():
            ids[e["id"]] = e
        check(len(ids) == len(SCRIPTS), "%d entries queued" % len(SCRIPTS))

        code, took = com.relay("--run-queue", timeout=120)
        # Worst case: 4 replies of one deadline, one final dot of two.
        bound = TIMEOUT * (len(SCRIPTS) + 1) + 2 * TIMEOUT + 10
        check(code == 0, "the relay exited normally")
        check(took < bound, "the relay took %.1f s (bound %d s)" % (took, bound))
        q = com.queue()
        by_rcpt = {}
        for e in q:
            show = com.queue_show(e["id"])
            for domain, _, _ in SCRIPTS:
                if "<user@%s>" % domain in show:
                    by_rcpt[domain] = e
        log = com.log_text()
        for domain, _, want in SCRIPTS:
            e = by_rcpt.get(domain)
            check(e is not None and e["attempts"] == "1" and e["state"] == "deferred",
                  "%s: deferred after one attempt" % domain)
            check(want in e["error"], "%s: the reason is kept: %s" % (domain, e["error"]))
            check(("domain=%s attempt failed" % domain) in log or
                  ("to=<user@%s> status=deferred" % domain) in log, "%s: logged" % domain)
        print("relay bad input: all checks passed")
    except Exception:
        if com is not None:
            sys.stderr.write("---- log ----\n%s\n" % com.log_text()[-8000:])
        raise
    finally:
        for f in fakes:
            f.close()
        if com is not None:
            com.close()
        dns.close()
        if os.environ.get("PBTEST_KEEP") != "1":
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
