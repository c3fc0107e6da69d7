#!/usr/bin/env python3
"""Delivery status notifications asked for by the sender (RFC 3461, the
SMTP DSN extension), end to end: bob@example.com submits through smtpd
(which offers DSN), the relay reaches scripted MX hosts through dnsmasq:

  plain.test  127.0.0.4  a server without DSN
  dsn.test    127.0.0.5  a server that offers DSN (gets the request passed on)
  refuse.test 127.0.0.6  a server that answers 550 at RCPT

and bob's INBOX gets the reports:

  - NOTIFY=SUCCESS to a local user: "delivered", once the relay runs, with
    Original-Envelope-Id and Original-Recipient (xtext decoded), the
    header only;
  - to a server without DSN: "relayed", naming the server;
  - to a server with DSN: RET, ENVID, NOTIFY and ORCPT passed on, and no
    report from us;
  - to an alias of several members: "expanded", its remote member passed
    on without SUCCESS;
  - a failure with NOTIFY=NEVER (or without FAILURE): no report at all;
  - a failure with RET=FULL: the whole message returned (message/rfc822),
    with RET=HDRS or none the header only;
  - a recipient's mailbox full: its "delivered" report waits until the
    relay delivers the queued copy;
  - no report for mail that was not accepted, nor to the null sender;
  - the parameters checked: bad ones get 501, unknown ones 555, and none
    without EHLO."""

import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
from relaytest import check  # noqa: E402

BOB = relaytest.Sender.BOB
CAROL = "carol@example.com"


def reports(com, kind=None):
    """bob's DSNs (optionally those whose Action is `kind`)."""
    out = [m for m in com.inbox(BOB) if b"report-type=delivery-status" in m]
    if kind is not None:
        out = [m for m in out if ("Action: %s" % kind).encode() in m]
    return out


def session(s, login=True):
    c = smtplib.SMTP(s.sub.address[0], s.sub.address[1], timeout=30)
    c.ehlo("client.test")
    c.starttls(context=s.com.ssl_context(verify=False))
    c.ehlo("client.test")
    if login:
        c.login(BOB, "pw")
    return c


def send(s, rcpts, subject, mail_options=(), rcpt_options=(), body="hello\r\n"):
    """bob sends through submission with DSN parameters."""
    msg = pbtest.make_message(subject, body, sender=BOB, to=", ".join(rcpts))
    with session(s) as c:
        refused = c.sendmail(BOB, rcpts, msg, mail_options=list(mail_options),
                             rcpt_options=list(rcpt_options))
    check(not refused, "%s: accepted" % subject)
    return msg


def ehlo_dsn():
    return ("PIPELINING", "8BITMIME", "SIZE 10000000", "DSN")


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    hosts = ["127.0.0.4", "127.0.0.5", "127.0.0.6"]
    port = relaytest.common_port(hosts)
    records = []
    for name, ip in (("plain", hosts[0]), ("dsn", hosts[1]), ("refuse", hosts[2])):
        records += ["mx-host=%s.test,mx.%s.test,10" % (name, name),
                    "host-record=mx.%s.test,%s" % (name, ip)]
    with relaytest.Sender("smtp-dsn", records, port) as s:
        com = s.com
        com.add_user(CAROL, "pw")
        plain = s.fake(hosts[0], port, lambda peer, srv: peer.session())
        dsn = s.fake(hosts[1], port, lambda peer, srv: peer.session(ehlo_lines=ehlo_dsn()))
        refuse = s.fake(hosts[2], port, lambda peer, srv: peer.session(
            rcpt_reply="550 5.1.1 no such mailbox"))

        with session(s, login=False) as c:
            check("dsn" in c.esmtp_features, "EHLO offers DSN")

        # 1. Delivered here, as asked.
        send(s, [CAROL], "to carol", ["RET=HDRS", "ENVID=QQ+2B314"],
             ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;carol+2Btag@example.com"])
        check(len(com.inbox(CAROL)) == 1, "carol has the message")
        check([q["state"] for q in com.queue()] == ["reporting"],
              "the report waits in the queue for the relay (%s)" % com.queue())
        com.relay("--run-queue")
        r = reports(com, "delivered")
        check(len(r) == 1 and not com.queue(), "bob has one 'delivered' report, the queue is empty")
        r = r[0]
        check(b"Subject: Successful Mail Delivery Report" in r, "its subject says so")
        check(b"Final-Recipient: rfc822; carol@example.com" in r and b"Status: 2.0.0" in r,
              "naming carol, status 2.0.0")
        check(b"Original-Envelope-Id: QQ+314" in r, "with the ENVID, xtext decoded")
        check(b"Original-Recipient: rfc822; carol+tag@example.com" in r,
              "with the ORCPT, xtext decoded")
        check(b"Subject: to carol" in r and b"text/rfc822-headers" in r and b"hello" not in r,
              "quoting the header, not the body")
        check(b"Return-Path: <>" in r, "sent from the null sender")

        # 2. Relayed to a server without DSN: we say so.
        send(s, ["ann@plain.test"], "to ann", (), ["NOTIFY=SUCCESS,FAILURE"])
        com.relay("--run-queue")
        check(len(plain.messages) == 1 and "NOTIFY" not in plain.rcpt_lines[0],
              "plain.test got it, without the parameters it does not know")
        r = reports(com, "relayed")
        check(len(r) == 1 and b"Final-Recipient: rfc822; ann@plain.test" in r[0] and
              b"Remote-MTA: dns; mx.plain.test" in r[0], "a 'relayed' report naming the server")
        check(not com.queue(), "the queue is empty")

        # 3. Relayed to a server with DSN: passed on, nothing from us.
        before = len(reports(com))
        send(s, ["dave@dsn.test"], "to dave", ["RET=HDRS", "ENVID=E3"],
             ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;dave@dsn.test"])
        com.relay("--run-queue")
        check(len(dsn.messages) == 1, "dsn.test got it")
        check(dsn.mails[0].endswith(" RET=HDRS ENVID=E3"),
              "MAIL carries RET and ENVID (%s)" % dsn.mails[0])
        check(dsn.rcpt_lines[0] ==
              "RCPT TO:<dave@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;dave@dsn.test",
              "RCPT carries NOTIFY and ORCPT (%s)" % dsn.rcpt_lines[0])
        check(len(reports(com)) == before and not com.queue(), "and no report from us")

        # 4. An alias of several members: "expanded"; its remote member
        # goes on without SUCCESS.
        com.pillarbox("alias", "add", "team@example.com", CAROL, "erin@dsn.test")
        send(s, ["team@example.com"], "to team", (), ["NOTIFY=SUCCESS"])
        com.relay("--run-queue")
        r = reports(com, "expanded")
        check(len(r) == 1 and b"Final-Recipient: rfc822; team@example.com" in r[0],
              "an 'expanded' report for the alias")
        check(len(com.inbox(CAROL)) == 2, "carol, a member, has it")
        check(dsn.rcpt_lines[-1] == "RCPT TO:<erin@dsn.test> NOTIFY=NEVER",
              "the remote member is told NOTIFY=NEVER (%s)" % dsn.rcpt_lines[-1])
        check(not reports(com, "delivered")[1:], "and carol's copy makes no report of its own")

        # 5. Failures: NOTIFY=NEVER and NOTIFY=SUCCESS alone make none.
        before = len(reports(com))
        send(s, ["fay@refuse.test"], "to fay", (), ["NOTIFY=NEVER"])
        send(s, ["gus@refuse.test"], "to gus", (), ["NOTIFY=SUCCESS"])
        com.relay("--run-queue")
        check(len(refuse.rcpts) == 2, "refuse.test refused both")
        check(len(reports(com)) == before and not com.queue(),
              "no report for either, and the queue is empty")
        check("no DSN: the sender asked for none" in com.log_text(), "the log says why")

        # 6. RET=FULL returns the whole message; the default the header.
        send(s, ["hal@refuse.test"], "to hal", ["RET=FULL"], ["NOTIFY=FAILURE"],
             body="the body comes back\r\n")
        send(s, ["ida@refuse.test"], "to ida", (), (), body="the body stays\r\n")
        com.relay("--run-queue")
        hal = relaytest.dsn_for(com.inbox(BOB), "hal@refuse.test")
        ida = relaytest.dsn_for(com.inbox(BOB), "ida@refuse.test")
        check(len(hal) == 1 and b"Content-Type: message/rfc822" in hal[0] and
              b"the body comes back" in hal[0] and b"Action: failed" in hal[0],
              "RET=FULL: the failure report holds the whole message")
        check(b"Subject: Undelivered Mail Returned to Sender" in hal[0], "a failure's subject")
        check(len(ida) == 1 and b"the body stays" not in ida[0] and
              b"text/rfc822-headers" in ida[0], "no RET: the header only")

        # 6b. A whole message that would make the report too big for the
        # store: the report quotes the header instead (never stuck).
        com.reconfigure(max_message_size="6000")
        send(s, ["kim@refuse.test"], "to kim", ["RET=FULL"], (), body="k" * 70 + "\r\n" * 1 +
             ("b" * 76 + "\r\n") * 60)
        com.relay("--run-queue")
        kim = relaytest.dsn_for(com.inbox(BOB), "kim@refuse.test")
        check(len(kim) == 1 and b"text/rfc822-headers" in kim[0] and b"bbbbbbbb" not in kim[0],
              "RET=FULL past the size limit: the header only")
        check(not com.queue(), "and nothing left in the queue (%s)" % com.queue())
        com.reconfigure(max_message_size=None)

        # 7. A full mailbox: the report waits for the queued copy.
        com.add_user("jo@example.com", "pw")
        com.pillarbox("user", "quota", "jo@example.com", "1", "0")
        # (by hand: smtplib would declare SIZE, which RCPT refuses at once)
        with session(s) as c:
            check(c.mail(BOB)[0] == 250 and
                  c.rcpt("jo@example.com", ["NOTIFY=SUCCESS"])[0] == 250 and
                  c.rcpt(CAROL, ["NOTIFY=FAILURE"])[0] == 250, "to jo and carol: RCPTs taken")
            code = c.data(pbtest.make_message("to jo", "x\r\n", sender=BOB))[0]
            check(code == 250, "to jo and carol: accepted (jo's copy queued)")
        com.relay("--run-queue")
        check(not com.inbox("jo@example.com") and
              not [m for m in reports(com, "delivered")
                   if b"Final-Recipient: rfc822; jo@example.com" in m],
              "jo is full: no copy, no report yet")
        com.pillarbox("user", "quota", "jo@example.com", "0", "0")
        com.pillarbox("queue", "flush")
        com.relay("--run-queue")
        com.relay("--run-queue")
        jo = [m for m in reports(com, "delivered")
              if b"Final-Recipient: rfc822; jo@example.com" in m]
        check(len(com.inbox("jo@example.com")) == 1 and len(jo) == 1,
              "room again: jo has it, and bob the report")
        check(not com.queue(), "the queue is empty (%s)" % com.queue())

        # 8. Nothing for the null sender; nothing for mail not accepted.
        before = len(reports(com))
        with session(s) as c:
            c.sendmail("<>", [CAROL], pbtest.make_message("null", "x\r\n", to=CAROL),
                       rcpt_options=["NOTIFY=SUCCESS"])
        com.relay("--run-queue")
        check(len(reports(com)) == before and not com.queue(), "no report to the null sender")

        # 9. The parameters are checked.
        with session(s) as c:
            for args, code in (("RET=ALL", 501), ("RET=FULL RET=HDRS", 501),
                               ("ENVID=a+zz", 501), ("ENVID=" + "x" * 101, 501),
                               ("MT-PRIORITY=1", 555)):
                got = c.docmd("MAIL FROM:<%s> %s" % (BOB, args))[0]
                check(got == code, "MAIL %s: %d" % (args[:20], got))
                c.rset()
            check(c.docmd("MAIL FROM:<%s> RET=FULL ENVID=x" % BOB)[0] == 250, "good MAIL: 250")
            for args, code in (("NOTIFY=NEVER,SUCCESS", 501), ("NOTIFY=ALWAYS", 501),
                               ("ORCPT=carol@example.com", 501),
                               ("ORCPT=rfc822;" + "y" * 494, 501), ("XFOO=1", 555)):
                got = c.docmd("RCPT TO:<%s> %s" % (CAROL, args))[0]
                check(got == code, "RCPT %s: %d" % (args[:24], got))
            check(c.docmd("RCPT TO:<%s> NOTIFY=NEVER ORCPT=rfc822;%s" % (CAROL, CAROL))[0] == 250,
                  "good RCPT: 250")
            c.send(b"RCPT TO:<" + CAROL.encode() + b"> ORCPT=utf-8;j\xc3\xb6rg@example.com\r\n")
            got = c.getreply()[0]
            check(got == 553, "a UTF-8 ORCPT without SMTPUTF8: %d" % got)
            c.rset()
        with session(s) as c:
            c.helo("client.test")      # logged in, but no ESMTP now
            check(c.docmd("MAIL FROM:<%s> RET=FULL" % BOB)[0] == 555, "no RET after HELO")
            check(c.docmd("MAIL FROM:<%s>" % BOB)[0] == 250 and
                  c.docmd("RCPT TO:<%s> NOTIFY=NEVER" % CAROL)[0] == 555,
                  "no NOTIFY after HELO")
    print("smtp DSN: all checks passed")


if __name__ == "__main__":
    main()
