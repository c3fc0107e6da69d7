#!/usr/bin/env python3
"""DKIM signing by the relay (RFC 6376, RFC 8463), checked by a real
verifier: python3-dkim (Debian's dkimpy) with the TXT record that
`pillarbox domain dkim` printed as its DNS, so no DNS is used. A new key
is pending and signs nothing until `--activate`; during a rotation the
active key signs until then.

Scripted MX hosts through dnsmasq: far.test (127.0.0.9) takes everything,
bad.test (127.0.0.10) refuses every recipient. example.com (127.0.0.2) has
bob, a submission smtpd, an MX smtpd and the webmail (pillarbox-webmaild).

  - without a key: sent unsigned, the log says why;
  - a new key is pending: sent unsigned, the log says the key is not
    active; after --activate:
  - rsa-2048: a folded Subject, 8-bit UTF-8 (BODY=8BITMIME), trailing
    whitespace, a line starting with a dot, a 1,200-octet line the relay
    breaks, a quoted-printable part: each verifies as received;
  - a rotation to ed25519: while the new key is pending the rsa key signs
    (verified with the rsa record alone); after --activate ed25519 signs
    with the new selector and verifies, and the rsa record no longer does;
  - From: another domain than the sender's: unsigned;
  - mail that arrived at the MX From: bob@example.com and is forwarded by
    an alias: unsigned (nobody authenticated);
  - the webmail's send: signed, verifies;
  - the relay's own DSN to a remote sender: signed by the postmaster's
    domain, verifies;
  - deleting the key: unsigned again.
The relay never converts 8-bit content to quoted-printable (relay_smtp.c
returns such mail to a server without 8BITMIME instead), so there is no
relay-converted message to check."""

import base64
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
from relaytest import check  # noqa: E402
sys.path.insert(0, os.path.join(pbtest.TOP_SRCDIR, "tests", "web"))
import webenv  # noqa: E402

# Debian's python3-dkim lives in the system interpreter, whatever python3
# runs this test.
SYSTEM_PYTHON = "/usr/bin/python3"
VERIFY = r"""
import sys, dkim
msg = sys.stdin.buffer.read()
txt = {}
for a in sys.argv[1:]:
    name, _, value = a.partition("=")
    txt[name.encode()] = value.encode()
def dnsfunc(name, timeout=5):
    return txt.get(name.rstrip(b".") + b".", txt.get(name, None))
print("pass" if dkim.verify(msg, dnsfunc=dnsfunc) else "fail")
"""

BOB, PW = "bob@example.com", "pw"
FAR = "carol@far.test"


def require_dkimpy():
    r = subprocess.run([SYSTEM_PYTHON, "-c", "import dkim, nacl"], capture_output=True)
    if r.returncode != 0:
        print("SKIP: python3-dkim and python3-nacl are needed (apt-get install python3-dkim "
              "python3-nacl)")
        sys.exit(pbtest.SKIP)


def txt_record(out):
    """(name, value) of the zone line `pillarbox domain dkim` printed."""
    line = [ln for ln in out.splitlines() if "._domainkey." in ln][0]
    name = line.split()[0]
    strings = re.findall(r'"([^"]*)"', line)
    for s in strings:
        assert len(s) <= 255, "a TXT string over 255 bytes"
    return name, "".join(strings)


def verify(msg, records):
    r = subprocess.run([SYSTEM_PYTHON, "-c", VERIFY] + ["%s=%s" % kv for kv in records],
                       input=msg, capture_output=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr.decode(errors="replace"))
    return r.stdout.decode().strip() == "pass"


def sig_tags(msg):
    m = re.search(rb"^DKIM-Signature:(.*?)\r\n(?![ \t])", msg, re.S | re.M)
    if m is None:
        return None
    value = re.sub(rb"\s+", b"", m.group(1)).decode()
    return dict(t.split("=", 1) for t in value.split(";") if "=" in t)


def message(subject, body, sender=BOB, to=FAR, extra=""):
    return ("From: Bob <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            "Message-ID: <%s@example.com>\r\nMIME-Version: 1.0\r\n%s\r\n" %
            (sender, to, subject, re.sub(r"\W", "", subject)[:20] + str(time.time()), extra)
            ).encode() + body


def run_relay(com):
    for _ in range(3):
        code, _ = com.relay("--run-queue")
        check(code == 0, "the relay ran")
        if not com.queue():
            return
    raise AssertionError("the queue did not empty: %r" % com.queue())


def last(fake, n_before):
    deadline = time.monotonic() + 10
    while len(fake.messages) <= n_before and time.monotonic() < deadline:
        time.sleep(0.05)
    check(len(fake.messages) > n_before, "the fake MX got the message")
    return fake.messages[-1]


def webmail_send(com, subject, body):
    """bob sends through pillarbox-webmaild: login, compose, send."""
    web = com.webmaild()
    try:
        c = webenv.Client(web)
        c.login(BOB, PW)
        page = c.get("/compose").text
        fields = [("csrf", re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1))]
        for name in ("token", "send_token"):
            m = re.search(r'name="%s" value="([0-9a-f]+)"' % name, page)
            if m:
                fields.append((name, m.group(1)))
        fields += [("from", BOB), ("to", FAR), ("subject", subject), ("body", body),
                   ("op", "send")]
        data, ctype = webenv.multipart(fields)
        r = c.request("POST", "/compose", body=data,
                      headers={"Content-Type": ctype, "Sec-Fetch-Site": "same-origin"})
        check(r.status == 303, "webmail: the message was sent (%d)" % r.status)
    finally:
        web.stop()


def main():
    require_dkimpy()
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.2", "127.0.0.9", "127.0.0.10"])
    records = ["mx-host=far.test,mx.far.test,10", "host-record=mx.far.test,127.0.0.9",
               "mx-host=bad.test,mx.bad.test,10", "host-record=mx.bad.test,127.0.0.10"]
    templates = os.path.join(pbtest.TOP_SRCDIR, "templates")
    with relaytest.Sender("relay-dkim", records, port, templates=templates,
                          webmail_base="/webmail") as s:
        com = s.com
        far = s.fake("127.0.0.9", port, lambda p, srv: p.session())
        s.fake("127.0.0.10", port, lambda p, srv: p.session(rcpt_reply="550 5.1.1 no such user"))

        # -- no key: unsigned, and why
        n = len(far.messages)
        s.submit([FAR], message("no key yet", b"plain\r\n"))
        run_relay(com)
        got = last(far, n)
        check(b"DKIM-Signature" not in got, "without a key the message goes unsigned")
        check("dkim=none: example.com has no DKIM key" in com.log_text(),
              "the log says why it was not signed")

        # -- rsa-2048: pending (its record not published yet) until --activate
        r = com.pillarbox("domain", "dkim", "example.com", "--new")
        out = r.stdout.decode()
        rsa = txt_record(out)
        check(rsa[0].startswith("pb") and rsa[1].startswith("v=DKIM1; k=rsa; p=MII"),
              "domain dkim --new printed an rsa record (%s)" % rsa[0])
        check("pending: nothing is signed with it yet" in r.stderr.decode() and
              "--activate" in r.stderr.decode(), "--new says the key is pending, and the next step")
        shown = txt_record(com.pillarbox("domain", "dkim", "example.com").stdout.decode())
        check(shown == rsa, "domain dkim shows the same record")
        dns = com.pillarbox("domain", "dns", "example.com").stdout.decode()
        check(rsa[0] in dns and "v=spf1 mx -all" in dns and "_dmarc.example.com." in dns and
              "IN MX 10 mail.example.com." in dns and "_submission._tcp.example.com." in dns,
              "domain dns lists MX, SPF, DKIM (the pending key), DMARC and SRV records")
        n = len(far.messages)
        s.submit([FAR], message("pending key", b"x\r\n"))
        run_relay(com)
        got = last(far, n)
        check(b"DKIM-Signature" not in got, "a pending key signs nothing")
        check("dkim=none: example.com has no active DKIM key" in com.log_text(),
              "the log says the key is not active")
        r = com.pillarbox("domain", "dkim", "example.com", "--activate")
        check(("mail is signed with selector %s from now on" % rsa[0].split(".")[0])
              in r.stderr.decode(), "--activate names the selector that signs")

        body = ("Gr\u00fc\u00dfe aus K\u00f6ln \t  with   spaces   \r\n"
                ".a line starting with a dot\r\n"
                "trailing whitespace \t \r\n\r\n"
                + "x" * 1200 + "\r\n"
                "\r\n\r\n").encode()
        n = len(far.messages)
        s.submit([FAR], message("A folded\r\n\tsubject line", body,
                                extra="Content-Type: text/plain; charset=utf-8\r\n"
                                "Content-Transfer-Encoding: 8bit\r\n"),
                 mail_options=["BODY=8BITMIME"])
        run_relay(com)
        got = last(far, n)
        tags = sig_tags(got)
        check(tags is not None and tags["a"] == "rsa-sha256" and tags["d"] == "example.com" and
              tags["c"] == "relaxed/relaxed" and "l" not in tags and "t" in tags,
              "signed: rsa-sha256, d=example.com, relaxed/relaxed, t=, no l=")
        check(tags["h"].split(":").count("from") == 2 and "subject" in tags["h"].split(":"),
              "h= oversigns From and covers Subject (%s)" % tags["h"])
        check(b"\r\n x" in got, "the 1,200-octet line arrived broken by the relay")
        check(verify(got, [rsa]), "rsa: 8-bit, folded Subject, long line: dkimpy verifies")
        check(not verify(got.replace(b"K\xc3\xb6ln", b"Koeln"), [rsa]),
              "and a changed body fails verification")

        n = len(far.messages)
        qp = (b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
              b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
              b"Gr=C3=BC=C3=9Fe, a soft =\r\nbreak and =3D signs=20\r\n--b1--\r\n")
        s.submit([FAR], message("quoted-printable", qp,
                                extra='Content-Type: multipart/mixed; boundary="b1"\r\n'))
        run_relay(com)
        got = last(far, n)
        check(verify(got, [rsa]), "rsa: a quoted-printable part: dkimpy verifies")

        # -- From: a domain the sender does not speak for
        com.pillarbox("domain", "add", "other.org")
        n = len(far.messages)
        s.submit([FAR], message("not mine", b"x\r\n").replace(b"From: Bob <bob@example.com>",
                                                               b"From: <ceo@other.org>"))
        run_relay(com)
        got = last(far, n)
        check(b"DKIM-Signature" not in got, "From: another domain: unsigned")

        # -- arrived at the MX, forwarded by an alias: unsigned
        com.pillarbox("alias", "add", "fwd@example.com", FAR)
        mx = com.listen("mx", relaytest.free_port_on("127.0.0.2"), relay=False)
        import smtplib
        n = len(far.messages)
        with smtplib.SMTP(mx.address[0], mx.address[1], timeout=30) as c:
            # MX mode takes any envelope sender, ours too: no login, no key.
            c.sendmail(BOB, ["fwd@example.com"],
                       message("forged", b"x\r\n", to="fwd@example.com"))
        run_relay(com)
        got = last(far, n)
        check(b"From: Bob <bob@example.com>" in got and b"DKIM-Signature" not in got,
              "mail that arrived From: bob@example.com and was forwarded: unsigned")
        check("dkim=none: not sent by an authenticated user" in com.log_text(),
              "the log says why")

        # -- the relay's own DSN to a remote sender: the postmaster's domain signs
        com.pillarbox("alias", "add", "gone@example.com", "nobody@bad.test")
        n = len(far.messages)
        with smtplib.SMTP(mx.address[0], mx.address[1], timeout=30) as c:
            c.sendmail("carol@far.test", ["gone@example.com"],
                       message("to be returned", b"x\r\n", sender="carol@far.test",
                               to="gone@example.com"))
        run_relay(com)
        got = last(far, n)
        tags = sig_tags(got)
        check(b"report-type=delivery-status" in got and tags is not None and
              tags["d"] == "example.com", "the DSN to carol is signed by example.com")
        check(verify(got, [rsa]), "DSN: dkimpy verifies")

        # -- a rotation to ed25519: rsa signs until --activate
        out = com.pillarbox("domain", "dkim", "example.com", "--new", "--algorithm", "ed25519",
                            "--selector", "ed2026").stdout.decode()
        ed = txt_record(out)
        check(ed[0] == "ed2026._domainkey.example.com." and "k=ed25519" in ed[1] and
              len(base64.b64decode(ed[1].split("p=")[1])) == 32,
              "an ed25519 record with the raw 32-byte key")
        shown = com.pillarbox("domain", "dkim", "example.com").stdout.decode()
        dns = com.pillarbox("domain", "dns", "example.com").stdout.decode()
        check(rsa[0] in shown and ed[0] in shown and rsa[0] in dns and ed[0] in dns,
              "domain dkim and domain dns show the active and the pending record")
        n = len(far.messages)
        s.submit([FAR], message("rotation pending", b"x\r\n"))
        run_relay(com)
        got = last(far, n)
        tags = sig_tags(got)
        check(tags is not None and tags["a"] == "rsa-sha256" and
              tags["s"] + "._domainkey.example.com." == rsa[0],
              "while the new key is pending, the published rsa key signs")
        check(verify(got, [rsa]), "pending rotation: dkimpy verifies with the rsa record alone")
        r = com.pillarbox("domain", "dkim", "example.com", "--activate")
        check("mail is signed with selector ed2026 from now on" in r.stderr.decode() and
              ("the key of selector %s is forgotten" % rsa[0].split(".")[0]) in r.stderr.decode(),
              "--activate names the new selector and the record that may go")
        n = len(far.messages)
        s.submit([FAR], message("ed25519", "\u00e9t\u00e9\r\n".encode()),
                 mail_options=["BODY=8BITMIME"])
        run_relay(com)
        got = last(far, n)
        check(sig_tags(got)["a"] == "ed25519-sha256" and sig_tags(got)["s"] == "ed2026",
              "after --activate: signed ed25519-sha256, s=ed2026")
        check(verify(got, [ed]), "ed25519: dkimpy verifies")
        check(not verify(got, [rsa]), "and the old rsa record alone does not verify it")

        # -- the webmail's send
        n = len(far.messages)
        webmail_send(com, "from the webmail", "Hello from the webmail \u00e4")
        run_relay(com)
        got = last(far, n)
        check(sig_tags(got) is not None and verify(got, [ed]),
              "the webmail's message is signed and verifies")

        # -- deleted: unsigned again
        com.pillarbox("domain", "dkim", "example.com", "--delete")
        n = len(far.messages)
        s.submit([FAR], message("after delete", b"x\r\n"))
        run_relay(com)
        got = last(far, n)
        check(b"DKIM-Signature" not in got, "after --delete: unsigned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
