"""Out-of-office replies end to end: bob turns his vacation reply on in the
webmail (pillarbox-webmaild, over HTTP, with the form's CSRF token); mail
from outside reaches him through the MX; the reply is queued and the real
relay delivers it to the sender's MX (a scripted fake, by a route) once,
with the null sender and Auto-Submitted: auto-replied. A second message
within the interval, list mail, Auto-Submitted mail and a Bcc'd copy get
none, mail To: an alias of his gets one; past the last day nobody does.
The page names an active filter script that has a vacation action of its
own (it answers in the setting's place)."""

import datetime
import os
import re
import smtplib
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "web"))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
import smtptest  # noqa: E402
import webenv  # noqa: E402

BOB = smtptest.BOB


def send(mx, sender, rcpt, headers, body="Hello Bob.\r\n"):
    msg = "".join("%s: %s\r\n" % kv for kv in headers) + "\r\n" + body
    s = smtplib.SMTP("127.0.0.1", mx.port, timeout=20)
    s.sendmail(sender, [rcpt], msg.encode())
    s.quit()


def main():
    relay = os.path.join(pbtest.TOP_BUILDDIR, "inetd", "relay")
    if not os.access(relay, os.X_OK):
        print("SKIP: inetd/relay is not built")
        return 77
    port = pbtest.free_port()
    fake = relaytest.FakeSmtp("127.0.0.1", port, lambda p, s: p.session())
    fx = smtptest.SmtpFixture("vacation", config_extra={
        "templates": os.path.join(pbtest.TOP_SRCDIR, "templates"),
        "webmail_base": "/webmail", "relay_program": relay, "relay_timeout": "5",
        "route example.org": "127.0.0.1:%d" % port})
    web = None
    try:
        store = types.SimpleNamespace(dir=fx.dir, conf=fx.conf,
                                      env=fx.env({"PILLARBOX_AUTH_DELAY_MS": "0"}))
        web = webenv.Webmaild(store)
        client = webenv.Client(web)
        client.login(BOB, smtptest.BOB_PW)
        r = client.get("/vacation")
        relaytest.check(r.status == 200 and 'for="text"' in r.text, "the vacation page")
        relaytest.check("Out of office is on" not in r.text, "no notice while off")
        relaytest.check("of its own" not in r.text, "no filter note without a script")
        # a filter script's own vacation (a ManageSieve client's) is named on the page
        fx.pillarbox("sieve", "put", BOB, "away", "--activate",
                     input=b'require "vacation";\nif header :contains "subject" "x" '
                           b'{ vacation "Away."; }\n')
        relaytest.check('Your active filter script "away" has an out-of-office reply of its own'
                        in client.get("/vacation").text, "the page names the filter's vacation")
        fx.pillarbox("sieve", "deactivate", BOB)
        relaytest.check("of its own" not in client.get("/vacation").text,
                        "... and not once the script is off")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text).group(1)
        r = client.post("/vacation", {"enabled": "on", "subject": "", "days": "7",
                                      "text": "I am away until Monday.\r\nBob", "start": "",
                                      "end": ""})
        relaytest.check(r.status == 400 or r.status == 403, "a POST without the token is refused")
        r = client.post("/vacation", {"csrf": token, "enabled": "on", "subject": "", "days": "7",
                                      "text": "I am away until Monday.\r\nBob", "start": "",
                                      "end": ""})
        relaytest.check(r.status == 303, "saved (%d)" % r.status)
        r = client.get("/list")
        relaytest.check("Out of office is on" in r.text, "the folder list shows it is on")

        mx = fx.smtpd("mx")
        send(mx, "alice@example.org", BOB, [("From", "Alice <alice@example.org>"), ("To", BOB),
                                            ("Subject", "Lunch?"),
                                            ("Message-ID", "<lunch@example.org>")])
        relaytest.check(fx.wait_for(lambda: len(fake.messages) == 1, timeout=30),
                        "the reply reached the sender's MX")
        reply = fake.messages[0]
        relaytest.check(fake.mails[0].upper().startswith("MAIL FROM:<>"), "null envelope sender")
        relaytest.check(fake.rcpts == ["alice@example.org"], "to the envelope sender")
        for line in (b"Auto-Submitted: auto-replied\r\n", b"From: <bob@example.com>\r\n",
                     b"In-Reply-To: <lunch@example.org>\r\n", b"Subject: Auto: Lunch?\r\n",
                     b"I am away until Monday.\r\nBob\r\n"):
            relaytest.check(line in reply, "the reply has %r" % line)

        def refused(sender, reason, headers, rcpt=BOB):
            send(mx, sender, rcpt, headers)
            relaytest.check(fx.wait_for(lambda: re.search(
                r"from=<%s> no reply: %s" % (re.escape(sender), reason), fx.log_text())),
                "%s: no reply (%s)" % (sender, reason))

        refused("alice@example.org", "answered within 7 days",
                [("From", "alice@example.org"), ("To", BOB), ("Subject", "again")])
        refused("carol@example.org", "list", [("From", "carol@example.org"), ("To", BOB),
                                              ("List-Id", "<chat.example.org>")])
        refused("dave@example.org", "auto-submitted",
                [("From", "dave@example.org"), ("To", BOB), ("Auto-Submitted", "auto-generated")])
        refused("erin@example.org", "not-addressed",
                [("From", "erin@example.org"), ("To", "team@example.org")])
        # an alias of bob's is one of his identities: addressed to him
        fx.pillarbox("alias", "add", "info@example.com", BOB)
        send(mx, "heidi@example.org", "info@example.com",
             [("From", "heidi@example.org"), ("To", "info@example.com"), ("Subject", "Prices")])
        relaytest.check(fx.wait_for(lambda: len(fake.messages) == 2, timeout=30),
                        "mail to an alias of his is answered")

        # the last day was yesterday: no reply, no notice
        yesterday = (datetime.date.today() - datetime.timedelta(days=2)).isoformat()
        token = client.csrf("/vacation")
        r = client.post("/vacation", {"csrf": token, "enabled": "on", "subject": "Away",
                                      "days": "7", "text": "Away.", "start": "",
                                      "end": yesterday})
        relaytest.check(r.status == 303, "saved with an end date (%d)" % r.status)
        relaytest.check("Out of office is on" not in client.get("/list").text,
                        "no notice past the last day")
        send(mx, "frank@example.org", BOB, [("From", "frank@example.org"), ("To", BOB)])
        # on again: the next sender is answered, frank never was
        token = client.csrf("/vacation")
        client.post("/vacation", {"csrf": token, "enabled": "on", "subject": "Away",
                                  "days": "7", "text": "Away.", "start": "", "end": ""})
        send(mx, "grace@example.org", BOB, [("From", "grace@example.org"), ("To", BOB)])
        relaytest.check(fx.wait_for(lambda: len(fake.messages) == 3, timeout=30),
                        "the next reply reached the MX")
        time.sleep(0.5)
        relaytest.check(fake.rcpts == ["alice@example.org", "heidi@example.org",
                                       "grace@example.org"],
                        "exactly three replies: %s" % fake.rcpts)
        relaytest.check(fx.count(BOB)[BOB] == 8, "every message was delivered to bob")
    except BaseException:
        sys.stderr.write("---- log ----\n%s\n" % fx.log_text()[-6000:])
        if web is not None:
            sys.stderr.write(web.log())
        raise
    finally:
        if web is not None:
            web.stop()
        fake.close()
        fx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
