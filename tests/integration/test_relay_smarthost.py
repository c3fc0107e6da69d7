#!/usr/bin/env python3
"""A smarthost (relayhost) with AUTH over TLS, all real Pillarbox:

  com    (bob@example.com) at 127.0.0.2: relayhost = 127.0.0.5:SUB,
         relayhost_auth_file (bob's credentials at the smarthost)
  smart  (bob@example.com too) at 127.0.0.5: submission smtpd, which
         queues and starts its own relay, which finds example.org's MX
  org    (alice@example.org) at 127.0.0.3: MX smtpd on the MX port

The message must reach alice through both hops: the smarthost's Received:
says ESMTPSA (authenticated, over TLS). A wrong password defers the mail
with the reason; a password file readable by everyone is refused."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402

BOB, BOB_PW, ALICE = "bob@example.com", "smart pw", "alice@example.org"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def write_auth(inst, user, password, mode=0o640):
    path = os.path.join(inst.dir, "relayhost.auth")
    with open(path, "w") as f:
        f.write("%s\n%s\n" % (user, password))
    os.chmod(path, mode)
    if inst.root:
        os.chown(path, 0, inst.gid)
    return path


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.3", "127.0.0.5"])
    base = os.path.join(pbtest.TOP_BUILDDIR, "tests", "integration")
    tmp = tempfile.mkdtemp(prefix="tmp.relay-smart-dns.", dir=base)
    dns = relaytest.Dns(tmp, ["mx-host=example.org,mx.example.org,10",
                              "host-record=mx.example.org,127.0.0.3"],
                        zones=["example.org", "example.com"])
    org = smart = com = None
    try:
        org = relaytest.Instance("relay-sorg", ["example.org"], "127.0.0.3", "mx.example.org")
        org.add_user(ALICE, "pw")
        org.listen("mx", port, relay=False)
        smart = relaytest.Instance("relay-smart", ["example.com"], "127.0.0.5",
                                   "smart.example.net",
                                   config_extra={"resolver": dns.address, "smtp_port": str(port),
                                                 "relay_timeout": "10"})
        smart.add_user(BOB, BOB_PW)
        smart_sub = smart.listen("submission", relaytest.free_port_on("127.0.0.5"))
        com = relaytest.Instance("relay-scom", ["example.com"], "127.0.0.2", "mail.example.com",
                                 config_extra={"relay_timeout": "10"})
        com.add_user(BOB, "local pw")
        auth = write_auth(com, BOB, BOB_PW)
        com.reconfigure(relayhost="127.0.0.5:%d" % smart_sub.port, relayhost_auth_file=auth)
        sub = com.listen("submission", relaytest.free_port_on("127.0.0.2"), relay=False)

        relaytest.submit(com, sub, BOB, "local pw", [ALICE],
                         pbtest.make_message("via smarthost", "hop hop\r\n", sender=BOB, to=ALICE))
        code, _ = com.relay("--run-queue")
        check(code == 0 and not com.queue(), "the relay handed the message to the smarthost")
        got = org.wait_inbox(ALICE, 1)
        check(len(got) == 1 and b"hop hop" in got[0], "alice got it through the smarthost")
        rec = relaytest.received_lines(got[0])
        check(any("by smart.example.net" in r and "ESMTPSA" in r and "using TLS" in r
                  for r in rec), "the smarthost's Received: says ESMTPSA over TLS")
        check(any("by mx.example.org" in r for r in rec), "and the MX's Received: follows")

        # A wrong password: deferred, with the reason.
        write_auth(com, BOB, "wrong password")
        relaytest.submit(com, sub, BOB, "local pw", [ALICE],
                         pbtest.make_message("bad auth", "x\r\n", sender=BOB, to=ALICE))
        com.relay("--run-queue")
        q = com.queue()
        check(len(q) == 1 and q[0]["state"] == "deferred" and "authentication failed" in
              q[0]["error"], "a refused password defers the mail: %s" % (q[0]["error"] if q else q))

        # A password file everyone can read is refused (exit 78).
        write_auth(com, BOB, BOB_PW, mode=0o644)
        code, _ = com.relay("--run-queue")
        check(code == 78, "a world-readable password file: relay refuses to start (78)")
        write_auth(com, BOB, BOB_PW)
        com.pillarbox("queue", "flush")
        code, _ = com.relay("--run-queue")
        check(code == 0 and not com.queue(), "fixed: delivered on the next run")
        check(len(org.wait_inbox(ALICE, 2)) == 2, "alice has both")
        print("relay smarthost: all checks passed")
    except Exception:
        for inst in (com, smart, org):
            if inst is not None:
                sys.stderr.write("---- log of %s ----\n%s\n" % (inst.name, inst.log_text()[-5000:]))
        raise
    finally:
        for inst in (com, smart, org):
            if inst is not None:
                inst.close()
        dns.close()
        if os.environ.get("PBTEST_KEEP") != "1":
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
