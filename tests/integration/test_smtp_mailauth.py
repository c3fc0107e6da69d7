#!/usr/bin/env python3
"""The MX's sender checks (SPF, DKIM, DMARC) end to end: a real dnsmasq
serves the senders' records, smtpd (--mode=mx, `mail_auth = enforce`)
asks it, and what it decided is read back from the store. Signatures are
made by an independent signer, Debian's python3-dkim (dkimpy), with an RSA
key from certtool.

The client connects from this machine's non-loopback address (loopback
clients, local programs, are not checked: that is checked too; without
such an address the test is skipped). Domains:
  good.test     SPF allows the client, DMARC p=reject: delivered, spf=pass,
                dmarc=pass;
  spoof.test    SPF allows only 192.0.2.1, DMARC p=reject: unsigned mail is
                refused with 550 5.7.1 and nothing is stored; a subdomain
                (news.spoof.test) falls under the organisational domain's
                policy;
  quar.test     SPF -all, DMARC p=quarantine: delivered to Junk, not INBOX;
  signed.test   SPF -all, DMARC p=reject, but the message carries a good
                DKIM signature of signed.test: dkim=pass, dmarc=pass,
                delivered; the same message with its body changed: refused;
  nodmarc.test  SPF -all, no DMARC: delivered with spf=fail dmarc=none.
Also: an Authentication-Results field naming our host is removed (forged),
another host's stays; `mail_auth = record` delivers spoof.test's mail with
dmarc=fail recorded; `mail_auth = off` adds no field; a logged-in client on
submission is not checked; a resolver that refuses gives temperror at once,
one that never answers after its tries (3 s each), and the message is
delivered either way."""

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
import relaytest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB, BOB_PW  # noqa: E402

SYSTEM_PYTHON = "/usr/bin/python3"
HOST = "mail.example.com"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def txt(name, text):
    """A dnsmasq txt-record line, the text cut into strings of 255."""
    parts = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
    return "txt-record=%s,%s" % (name, ",".join('"%s"' % p for p in parts))


def make_key(d):
    pbtest.require("certtool", "gnutls-bin")
    key = os.path.join(d, "dkim.pem")
    subprocess.run(["certtool", "--generate-privkey", "--key-type", "rsa", "--bits", "2048",
                    "--outfile", key], check=True, capture_output=True)
    der = subprocess.run(["certtool", "--load-privkey", key, "--pubkey-info", "--outder"],
                         check=True, capture_output=True).stdout
    import base64
    return key, base64.b64encode(der).decode()


def sign(message, domain, key):
    code = ("import sys, dkim\n"
            "msg = sys.stdin.buffer.read()\n"
            "sig = dkim.sign(msg, b'sel', sys.argv[1].encode(), open(sys.argv[2], 'rb').read(),\n"
            "                include_headers=[b'from', b'to', b'subject', b'date'])\n"
            "sys.stdout.buffer.write(sig + msg)\n")
    r = subprocess.run([SYSTEM_PYTHON, "-c", code, domain, key], input=message,
                       capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("dkim.sign: " + r.stderr.decode())
    return r.stdout


def message(sender, subject, extra=()):
    return pbtest.make_message(subject, "Hello from %s.\r\n" % sender, sender=sender, to=BOB,
                               extra_headers=extra)


def send(svc, sender, msg, login=None):
    """(code, text) of the reply to the data."""
    return smtptest.send_one(svc, sender, BOB, msg, "client.good.test", login)


def ar_fields(raw):
    """The Authentication-Results fields of a stored message, unfolded."""
    return smtptest.header_fields(raw, "authentication-results:")


def last_inbox(fx):
    msgs = fx.dump(BOB)
    return msgs[-1][1] if msgs else b""


def main():
    if subprocess.run([SYSTEM_PYTHON, "-c", "import dkim"], capture_output=True).returncode:
        print("SKIP: python3-dkim is needed (apt-get install python3-dkim)")
        return pbtest.SKIP
    addr = imaptest.external_address()
    if addr is None:
        print("SKIP: no non-loopback IPv4 address to connect from")
        return pbtest.SKIP
    fx = smtptest.SmtpFixture("mailauth", tls=False)
    dns = None
    try:
        key, pub = make_key(fx.dir)
        records = [
            txt("good.test", "v=spf1 ip4:%s -all" % addr),
            txt("_dmarc.good.test", "v=DMARC1; p=reject"),
            txt("spoof.test", "v=spf1 ip4:192.0.2.1 -all"),
            txt("_dmarc.spoof.test", "v=DMARC1; p=reject; sp=reject"),
            txt("news.spoof.test", "v=spf1 -all"),
            txt("quar.test", "v=spf1 -all"),
            txt("_dmarc.quar.test", "v=DMARC1; p=quarantine"),
            txt("signed.test", "v=spf1 -all"),
            txt("_dmarc.signed.test", "v=DMARC1; p=reject"),
            txt("sel._domainkey.signed.test", "v=DKIM1; k=rsa; p=" + pub),
            txt("nodmarc.test", "v=spf1 -all"),
        ]
        dns = relaytest.Dns(fx.dir, records, ["test"])
        fx.write_config({"resolver": dns.address, "mail_auth": "enforce"})
        mx = fx.smtpd("mx", host=addr)
        local_mx = fx.smtpd("mx")
        imap = fx.socket_activate(fx.program("inetd/imapd"))

        # good.test: SPF pass, aligned: DMARC pass.
        code, text = send(mx, "alice@good.test", message("alice@good.test", "good"))
        check(code == 250, "good.test delivered (%d %s)" % (code, text))
        ar = ar_fields(last_inbox(fx))
        check(len(ar) == 1 and ar[0].startswith("Authentication-Results: " + HOST + ";"),
              "one Authentication-Results field, ours: %s" % ar)
        check("spf=pass" in ar[0] and "smtp.mailfrom=good.test" in ar[0],
              "spf=pass smtp.mailfrom=good.test")
        check("dmarc=pass" in ar[0] and "header.from=good.test" in ar[0],
              "dmarc=pass header.from=good.test")
        check("dkim=none" in ar[0], "dkim=none without a signature")
        raw = last_inbox(fx)
        check(raw.index(b"Authentication-Results:") < raw.index(b"Received:"),
              "the field is above our Received:")

        # A program of this machine (loopback) is not checked.
        code, _ = send(local_mx, "ceo@spoof.test", message("ceo@spoof.test", "from loopback"))
        check(code == 250 and ar_fields(last_inbox(fx)) == [],
              "a loopback client: delivered, no checks, no field")

        # spoof.test: refused, nothing stored.
        before = fx.count(BOB)[BOB]
        code, text = send(mx, "ceo@spoof.test", message("ceo@spoof.test", "spoof"))
        check(code == 550 and "5.7.1" in text and "spoof.test" in text,
              "spoof.test refused with 550 5.7.1 naming the domain (%d %s)" % (code, text))
        code, text = send(mx, "info@news.spoof.test", message("info@news.spoof.test", "sub"))
        check(code == 550, "a subdomain under the organisational domain's sp=reject: %d" % code)
        check(fx.count(BOB)[BOB] == before, "nothing stored for refused mail")
        check("action=reject" in fx.log_text(), "the log says the message was refused")

        # quar.test: to Junk.
        code, text = send(mx, "x@quar.test", message("x@quar.test", "quarantined"))
        check(code == 250, "quar.test accepted (%d %s)" % (code, text))
        check(fx.count(BOB)[BOB] == before, "not in INBOX")
        junk = smtptest.folder_messages(imap.port, BOB, BOB_PW, "Junk")
        check(len(junk) == 1 and b"Subject: quarantined" in junk[0], "in Junk")
        check(any("dmarc=fail" in f for f in ar_fields(junk[0])), "dmarc=fail recorded on it")

        # signed.test: SPF fails but an aligned DKIM signature passes.
        signed = sign(message("news@signed.test", "signed"), "signed.test", key)
        code, text = send(mx, "news@signed.test", signed)
        check(code == 250, "signed.test delivered (%d %s)" % (code, text))
        ar = ar_fields(last_inbox(fx))[0]
        check("dkim=pass" in ar and "header.d=signed.test" in ar and "header.s=sel" in ar,
              "dkim=pass header.d=signed.test header.s=sel: %s" % ar)
        check("spf=fail" in ar and "dmarc=pass" in ar, "spf=fail, dmarc=pass")
        tampered = signed.replace(b"Hello from", b"Hallo from")
        code, text = send(mx, "news@signed.test", tampered)
        check(code == 550, "the same message with a changed body is refused (%d)" % code)

        # nodmarc.test: recorded, delivered.
        code, _ = send(mx, "a@nodmarc.test", message("a@nodmarc.test", "nodmarc"))
        ar = ar_fields(last_inbox(fx))[0]
        check(code == 250 and "spf=fail" in ar and "dmarc=none" in ar,
              "no DMARC record: delivered, spf=fail dmarc=none")

        # A forged field naming us goes, another host's stays.
        forged = message("alice@good.test", "forged", extra=(
            "Authentication-Results: %s; dmarc=pass header.from=bank.test" % HOST.upper(),
            "Authentication-Results: relay.other.test;\r\n spf=pass smtp.mailfrom=x.test"))
        code, _ = send(mx, "alice@good.test", forged)
        ar = ar_fields(last_inbox(fx))
        check(code == 250 and len(ar) == 2, "two fields left: ours and the other host's")
        check(not any("bank.test" in f for f in ar), "the forged field naming us is gone")
        check(any(f.startswith("Authentication-Results: relay.other.test;") for f in ar),
              "the other host's field is kept")
        check("removed an Authentication-Results field" in fx.log_text(), "logged")

        # record: spoofed mail delivered with the verdict recorded.
        fx.write_config({"resolver": dns.address, "mail_auth": "record"})
        code, _ = send(mx, "ceo@spoof.test", message("ceo@spoof.test", "recorded"))
        ar = ar_fields(last_inbox(fx))
        check(code == 250 and "dmarc=fail" in ar[0], "record: delivered with dmarc=fail")

        # off: no field at all.
        fx.write_config({"resolver": dns.address, "mail_auth": "off"})
        code, _ = send(mx, "alice@good.test", message("alice@good.test", "off"))
        check(code == 250 and ar_fields(last_inbox(fx)) == [], "off: no field")

        # A logged-in client is not checked.
        fx.write_config({"resolver": dns.address, "mail_auth": "enforce"})
        sub = fx.smtpd("submission")
        code, _ = send(sub, ALICE, message(ALICE, "submitted"), login=(ALICE, ALICE_PW))
        check(code == 250 and ar_fields(last_inbox(fx)) == [],
              "submission after login: no checks, no field")

        # A resolver that does not answer: temperror, delivered, in time.
        dead = relaytest.free_port_on("127.0.0.1")
        fx.write_config({"resolver": "127.0.0.1:%d" % dead, "mail_auth": "enforce"})
        t = time.monotonic()
        code, _ = send(mx, "ceo@spoof.test", message("ceo@spoof.test", "dns down"))
        took = time.monotonic() - t
        ar = ar_fields(last_inbox(fx))
        check(code == 250 and "spf=temperror" in ar[0] and "dmarc=temperror" in ar[0],
              "DNS down: spf=temperror dmarc=temperror, delivered (%.1f s)" % took)
        check(took < 30, "within the checks' time budget")

        # A resolver that takes the questions and never answers: each
        # lookup waits out its tries, the message still goes in.
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        try:
            fx.write_config({"resolver": "127.0.0.1:%d" % silent.getsockname()[1],
                             "mail_auth": "enforce"})
            t = time.monotonic()
            code, _ = send(mx, "ceo@spoof.test", message("ceo@spoof.test", "dns silent"))
            took = time.monotonic() - t
        finally:
            silent.close()
        ar = ar_fields(last_inbox(fx))
        check(code == 250 and "dmarc=temperror" in ar[0],
              "DNS silent: temperror, delivered after %.1f s" % took)
        check(took < 30, "within the checks' time budget")
    finally:
        if dns is not None:
            dns.close()
        fx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
