#!/usr/bin/env python3
"""The send limit in smtpd (send_limit = 3, submission after AUTH): a user
who sent to 3 recipients in the last 24 hours has the next message refused
at the end of its data with 450 4.7.1, nothing stored, the session going
on, and a warning in the log; another user sends; mail arriving at the MX
for the same user counts nothing."""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB, BOB_PW  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def transaction(c, sender, rcpts, subject):
    """MAIL, RCPTs, DATA: the code of the reply to the data and its text."""
    code, _ = c.cmd("MAIL FROM:<%s>" % sender)
    check(code == 250, "MAIL FROM")
    for r in rcpts:
        code, _ = c.cmd("RCPT TO:<%s>" % r)
        check(code == 250, "RCPT TO:<%s>" % r)
    code, _ = c.cmd("DATA")
    check(code == 354, "DATA")
    c.send(pbtest.make_message(subject, "Hello.\r\n", sender=sender, to=rcpts[0]) + b".\r\n")
    code, lines = c.reply()
    return code, " ".join(lines)


def login(svc, user, password):
    c = smtptest.Raw(svc.address)
    c.cmd("EHLO client.example")
    tok = base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()
    code, _ = c.cmd("AUTH PLAIN " + tok)
    check(code == 235, "AUTH as %s" % user)
    return c


def main():
    fx = smtptest.SmtpFixture("sendlimit", tls=False)
    try:
        fx.write_config({"send_limit": "3", "mail_auth": "off"})
        sub = fx.smtpd("submission")
        mx = fx.smtpd("mx")
        c = login(sub, ALICE, ALICE_PW)
        code, _ = transaction(c, ALICE, [BOB], "one")
        check(code == 250, "1 of 3")
        code, _ = transaction(c, ALICE, [BOB, ALICE], "two")
        check(code == 250, "3 of 3")
        before = fx.count(BOB)[BOB]
        code, text = transaction(c, ALICE, [BOB], "three")
        check(code == 450 and "4.7.1" in text and "limit" in text,
              "the next: 450 4.7.1 (%d %s)" % (code, text))
        check(fx.count(BOB)[BOB] == before, "nothing stored")
        code, _ = c.cmd("NOOP")
        check(code == 250, "the session goes on")
        c.cmd("QUIT")
        c.close()
        check("send limit user=<%s>" % ALICE in fx.log_text(), "a warning in the log")

        # mail that arrives for alice at the MX is not hers to count
        m = smtptest.Raw(mx.address)
        m.cmd("EHLO mx.example.org")
        code, _ = transaction(m, "someone@example.org", [ALICE], "incoming")
        check(code == 250, "the MX still takes mail for her")
        m.cmd("QUIT")
        m.close()

        # bob has a count of his own
        c = login(sub, BOB, BOB_PW)
        code, _ = transaction(c, BOB, [ALICE, BOB], "from bob")
        check(code == 250, "another user sends")
        c.cmd("QUIT")
        c.close()
    finally:
        fx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
