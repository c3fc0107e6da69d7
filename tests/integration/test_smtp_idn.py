#!/usr/bin/env python3
"""Internationalized domains on the way in. müller-bau.test is added in
U-labels (and stored as xn--mller-bau-q9a.test); mail from the Internet
names it in its A-label, an SMTPUTF8 client may name it in U-labels (NFC or
NFD): every form reaches sam's one INBOX, without SMTPUTF8 only the ASCII
form (RFC 6531 3.2). On the old code the A-label was no local domain
("relay access denied") and the U-label a different one."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import smtptest  # noqa: E402

A_LABEL = "xn--mller-bau-q9a.test"
U_LABEL = "m\u00fcller-bau.test"
NFD = "mu\u0308ller-bau.test"
SAM = "sam@" + A_LABEL


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def transaction(c, rcpt, smtputf8, expect):
    code, lines = c.cmd("MAIL FROM:<alice@remote.test>" + (" SMTPUTF8" if smtputf8 else ""))
    check(code == 250, "MAIL (%s)" % lines)
    code, lines = c.cmd("RCPT TO:<%s>" % rcpt)
    check(code == expect, "RCPT TO:<%s>%s: %d (%s)" % (rcpt, " SMTPUTF8" if smtputf8 else "",
                                                      code, lines))
    if code != 250:
        c.cmd("RSET")
        return
    code, _ = c.cmd("DATA")
    check(code == 354, "DATA")
    c.send(pbtest.make_message("to " + rcpt, "hello\r\n", sender="alice@remote.test",
                               to=SAM) + b".\r\n")
    code, lines = c.reply()
    check(code == 250, "delivered (%s)" % lines)


def main():
    with smtptest.SmtpFixture("smtp-idn") as fx:
        out = fx.pillarbox("domain", "add", U_LABEL)
        text = (out.stdout + out.stderr).decode()
        check("domain %s (%s) added" % (A_LABEL, U_LABEL) in text, "domain add says both forms")
        fx.add_user("sam@" + U_LABEL, "sam pw")
        fx.pillarbox("alias", "add", "info@" + A_LABEL, "sam@" + U_LABEL)
        mx = fx.smtpd("mx")
        c = smtptest.Raw(("127.0.0.1", mx.port))
        code, lines = c.cmd("EHLO client.test")
        check(code == 250 and any("SMTPUTF8" in ln for ln in lines), "SMTPUTF8 offered")
        transaction(c, SAM, False, 250)
        transaction(c, "Sam@XN--MLLER-BAU-Q9A.TEST", False, 250)
        transaction(c, "info@" + A_LABEL, False, 250)
        transaction(c, "sam@" + U_LABEL, False, 553)
        transaction(c, "sam@" + U_LABEL, True, 250)
        transaction(c, "sam@" + NFD, True, 250)
        transaction(c, "info@M\u00dcLLER-BAU.test", True, 250)
        transaction(c, "sam@b\u00fccher.test", True, 554)
        c.cmd("QUIT")
        c.close()
        counts = fx.count(SAM, "sam@" + U_LABEL)
        check(counts == {SAM: 6, "sam@" + U_LABEL: 6}, "one INBOX, 6 messages (%s)" % counts)
        domains = fx.pillarbox("domain", "list").stdout.decode().splitlines()
        check("%s\t%s" % (A_LABEL, U_LABEL) in domains, "domain list: A-label, tab, U-label")
    print("smtp idn: all checks passed")


if __name__ == "__main__":
    main()
