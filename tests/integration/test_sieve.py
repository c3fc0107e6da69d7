"""Server-side filters end to end: each user's active Sieve script, put with
`pillarbox sieve put --activate`, decides at delivery through the real MX
where the mail goes. Checked over IMAP (imaplib, the real imapd) and in the
queue: fileinto, :create (a subaddress test), flags and keywords, discard,
a mailbox that is not there (INBOX), redirect to a local user (who runs no
filter of theirs) and to a remote one (queued), :copy, two recipients with
different scripts in one transaction, the log line, vacation (RFC 5230) as
Roundcube writes it, a body test (RFC 5173) on base64 text parts, date and
currentdate (RFC 5260) as a vacation range and a date rule, variables (RFC
5229: folders named from List-Id and a subject tag), reject and ereject (RFC
5429: refused at DATA, or a notice to the sender), and no filter once the
script is deactivated."""

import base64
import imaplib
import os
import re
import smtplib
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import imaptest  # noqa: E402
import pbtest  # noqa: E402
import relaytest  # noqa: E402
import smtptest  # noqa: E402

BOB, ALICE = smtptest.BOB, smtptest.ALICE
check = relaytest.check

BOB_SCRIPT = r'''require ["fileinto", "imap4flags", "mailbox", "subaddress", "envelope", "copy"];
# reports are filed, read
if header :contains "subject" "report" {
    addflag "\\Seen";
    fileinto "Work";
    stop;
}
if envelope :detail "to" "lists" {
    fileinto :create "Lists/New";
    stop;
}
if address :is "from" "spam@example.org" {
    discard;
    stop;
}
if header :is "subject" "nowhere" {
    fileinto "No Such Folder";
    stop;
}
if header :is "subject" "forward" {
    redirect "carol@example.net";
    stop;
}
if header :is "subject" "share" {
    redirect :copy "alice@example.com";
    fileinto :flags ["\\Flagged", "$Shared"] "Work";
    stop;
}
'''

# Alice's own filter would discard everything Bob redirects to her: it
# must not run for those copies.
ALICE_SCRIPT = '''require ["fileinto"];
if header :contains "subject" "share" { discard; stop; }
if header :contains "subject" "both" { fileinto "Archive"; }
'''


def send(mx, rcpts, subject, sender="someone@example.org", from_=None):
    msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\n"
           "Hello.\r\n" % (from_ or sender, rcpts[0], subject, subject.replace(" ", ".")))
    s = smtplib.SMTP("127.0.0.1", mx.port, timeout=20)
    s.sendmail(sender, rcpts, msg.encode())
    s.quit()


class Mail:
    """An IMAP session as the user: which subjects are where, with which flags."""

    def __init__(self, port, user, pw):
        self.m = imaplib.IMAP4("127.0.0.1", port)
        self.m.login(user, pw)

    def folder(self, name):
        """{subject: set of flags} of one mailbox."""
        typ, data = self.m.select('"%s"' % name, readonly=True)
        if typ != "OK":
            return None
        if int(data[0]) == 0:
            return {}
        typ, data = self.m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            flags = imaplib.ParseFlags(item[0])
            subject = item[1].decode().strip().split(":", 1)[1].strip()
            out[subject] = {f.decode() for f in flags}
        return out

    def subscribed(self):
        typ, data = self.m.lsub('""', "*")
        return [d.decode() for d in data if d]

    def close(self):
        self.m.logout()


DORA, DORA_PW = "dora@example.com", "dora pw"
# Roundcube's managesieve vacation form writes this shape.
DORA_SCRIPT = r'''require ["vacation", "fileinto", "mailbox"];
if header :contains "subject" "[list]" { fileinto :create "Lists"; }
vacation :days 5 :subject "Out of office" :addresses ["sales@example.com"]
  :from "dora@example.com" text:
I am away until Monday.
.
;
'''


def vacation(fx, mx, imap):
    """A filter's vacation action (RFC 5230): one reply a sender, from the
    address the script names, to mail addressed to the user or an address
    of :addresses, none to a list; the copies go where the script says."""
    fx.add_user(DORA, DORA_PW)
    fx.pillarbox("alias", "add", "sales@example.com", DORA)
    fx.pillarbox("sieve", "put", DORA, "away", "--activate", input=DORA_SCRIPT.encode())
    send(mx, [DORA], "question one", sender=ALICE)
    send(mx, [DORA], "question two", sender=ALICE)
    send(mx, ["sales@example.com"], "an order", sender=BOB)
    msg = ("From: list@example.org\r\nTo: %s\r\nSubject: [list] news\r\n"
           "List-Id: <news.example.org>\r\n\r\nNews.\r\n" % DORA)
    s = smtplib.SMTP("127.0.0.1", mx.port, timeout=20)
    s.sendmail("list-bounces@example.org", [DORA], msg.encode())
    s.quit()

    d = Mail(imap.port, DORA, DORA_PW)
    dinbox = d.folder("INBOX")
    check(set(dinbox) == {"question one", "question two", "an order"},
          "vacation keeps the message (the implicit keep): %s" % sorted(dinbox))
    check(set(d.folder("Lists") or {}) == {"[list] news"}, "fileinto beside vacation")
    d.close()
    a = Mail(imap.port, ALICE, smtptest.ALICE_PW)
    replies = [x for x in a.folder("INBOX") if x == "Out of office"]
    check(len(replies) == 1, "alice got one reply for two messages (%s)" % replies)
    a.m.select("INBOX", readonly=True)
    typ, data = a.m.search(None, 'SUBJECT "Out of office"')
    typ, data = a.m.fetch(data[0].split()[-1], "(BODY.PEEK[])")
    raw = data[0][1].decode()
    check("Auto-Submitted: auto-replied" in raw and "From: <dora@example.com>" in raw and
          "I am away until Monday." in raw and "In-Reply-To: <question.one@example.org>" in raw,
          "the reply: RFC 3834 fields, from dora, the text:\n" + raw[:600])
    a.close()
    b = Mail(imap.port, BOB, smtptest.BOB_PW)
    check("Out of office" in b.folder("INBOX"), "mail to an address of :addresses is answered")
    b.close()
    # a :from that is not one of the user's addresses is not used
    fx.add_user("eve@example.com", "eve pw")
    fx.pillarbox("sieve", "put", "eve@example.com", "away", "--activate",
                 input=b'require "vacation"; vacation :from "boss@example.com" "Away.";')
    send(mx, ["eve@example.com"], "for eve", sender=BOB)
    b = Mail(imap.port, BOB, smtptest.BOB_PW)
    b.m.select("INBOX", readonly=True)
    typ, data = b.m.search(None, 'BODY "Away."')
    typ, data = b.m.fetch(data[0].split()[-1], "(BODY.PEEK[HEADER.FIELDS (FROM)])")
    check(b"<eve@example.com>" in data[0][1], "a foreign :from is not used: %r" % data[0][1])
    b.close()
    log = fx.log_text()
    check("vacation: user=<dora@example.com> from=<alice@example.com> no reply (filter): "
          "answered within 5 days" in log, "the second message: answered within 5 days")
    check("vacation: user=<dora@example.com> from=<list-bounces@example.org> no reply (filter): "
          in log, "a list: no reply")


FRAN, FRAN_PW = "fran@example.com", "fran pw"
FRAN_SCRIPT = ('require ["body","fileinto"]; '
               'if body :text :contains "invoice" { fileinto "Archive"; }')


def mime_mail(subject, text, attachment=b""):
    """multipart/mixed: an optional base64 attachment, then `text` as a
    base64 ISO-8859-1 text/plain part (no word of it readable undecoded)."""
    def b64(data):
        return base64.encodebytes(data).decode().replace("\n", "\r\n")
    parts = []
    if attachment:
        parts.append("Content-Type: application/octet-stream\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n" + b64(attachment))
    parts.append("Content-Type: text/plain; charset=ISO-8859-1\r\n"
                 "Content-Transfer-Encoding: base64\r\n\r\n" + b64(text.encode("latin-1")))
    return ("From: billing@example.org\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"=b=\"\r\n\r\n" % (FRAN, subject) +
            "".join("--=b=\r\n" + p for p in parts) + "--=b=--\r\n")


def body_filter(fx, mx, imap):
    """A body test (RFC 5173) as a Dovecot user's script has it: the
    decoded text of the message decides, never its header; a small body
    (kept inline) and one past the header read (a body file, read again)."""
    fx.add_user(FRAN, FRAN_PW)
    fx.pillarbox("sieve", "put", FRAN, "bills", "--activate", input=FRAN_SCRIPT.encode())
    f = Mail(imap.port, FRAN, FRAN_PW)
    f.m.create("Archive")
    mails = [mime_mail("march bill", "Your invoice for M\u00e4rz is attached.\r\n"),
             mime_mail("invoice in the header only", "Nothing to see here.\r\n"),
             mime_mail("big bill", "The INVOICE, at last.\r\n",
                       attachment=bytes(i * 7 % 251 for i in range(120000)))]
    check(all("invoice" not in m.lower().split("\r\n\r\n", 1)[1] for m in mails),
          "the word is nowhere in the bodies as sent")
    for m in mails:
        s = smtplib.SMTP("127.0.0.1", mx.port, timeout=20)
        s.sendmail("billing@example.org", [FRAN], m.encode())
        s.quit()
    inbox, archive = f.folder("INBOX"), f.folder("Archive")
    check(set(archive) == {"march bill", "big bill"},
          "body :text :contains found the base64 text parts (%s)" % sorted(archive))
    check(set(inbox) == {"invoice in the header only"},
          "a word in the header only is not in the body (%s)" % sorted(inbox))
    f.close()
    check('filter: user=<fran@example.com> script="bills" fileinto="Archive"' in fx.log_text(),
          "the log line of a body filter")


GINA, GINA_PW = "gina@example.com", "gina pw"


def date_filter(fx, mx, imap):
    """date and currentdate (RFC 5260) as Roundcube's vacation range and
    date rules write them, on the real clock of delivery."""
    import datetime
    today = datetime.date.today()
    lo, hi = today - datetime.timedelta(days=2), today + datetime.timedelta(days=2)
    script = ('require ["date", "relational", "fileinto"];\r\n'
              'if allof (currentdate :value "ge" "date" "%s", '
              'currentdate :value "le" "date" "%s", '
              'date :originalzone :value "ge" "date" "year" "2020") { fileinto "Now"; stop; }\r\n'
              'if date :originalzone :is "date" "date" "1999-12-31" { fileinto "Old"; }\r\n' % (lo, hi))
    fx.add_user(GINA, GINA_PW)
    fx.pillarbox("sieve", "put", GINA, "dates", "--activate", input=script.encode())
    g = Mail(imap.port, GINA, GINA_PW)
    g.m.create("Now")
    g.m.create("Old")
    for subject, date in (("fresh", "Sun, 29 Nov 2026 10:00:00 +0000"),
                          ("millennium", "Fri, 31 Dec 1999 23:59:59 -0800"),
                          ("undated", None)):
        head = "From: a@example.org\r\nTo: %s\r\nSubject: %s\r\n" % (GINA, subject)
        if date:
            head += "Date: %s\r\n" % date
        s = smtplib.SMTP("127.0.0.1", mx.port, timeout=20)
        s.sendmail("a@example.org", [GINA], (head + "\r\nHi.\r\n").encode())
        s.quit()
    now, old, inbox = g.folder("Now"), g.folder("Old"), g.folder("INBOX")
    check(set(now) == {"fresh"}, "currentdate within the range and a recent Date: (%s)" % sorted(now))
    check(set(old) == {"millennium"}, "date :originalzone of 1999-12-31 -0800 (%s)" % sorted(old))
    check(set(inbox) == {"undated"}, "no Date: field: neither rule (%s)" % sorted(inbox))
    g.close()


HAL, HAL_PW = "hal@example.com", "hal pw"
HAL_SCRIPT = ('require ["fileinto", "variables", "mailbox"];\r\n'
              'if header :matches "List-Id" "*<*.*>" { fileinto :create "Lists/${2}"; stop; }\r\n'
              'if header :matches "Subject" "[*] *" { set :lower "tag" "${1}"; '
              'fileinto :create "Tags/${tag}"; }\r\n')


def variables_filter(fx, mx, imap):
    """variables (RFC 5229) as Pigeonhole users write them: a folder a list,
    named from its List-Id; a folder from a subject tag, lowercased."""
    fx.add_user(HAL, HAL_PW)
    fx.pillarbox("sieve", "put", HAL, "lists", "--activate", input=HAL_SCRIPT.encode())
    list_id = "List-Id: Announcements <announce.lists.example.org>\r\n"
    for subject, extra in (("release notes", list_id), ("[URGENT] disk full", ""),
                           ("plain", "")):
        text = "From: a@example.org\r\nTo: %s\r\nSubject: %s\r\n%s\r\nHi.\r\n" % (
            HAL, subject, extra)
        s = smtplib.SMTP("127.0.0.1", mx.port, timeout=20)
        s.sendmail("a@example.org", [HAL], text.encode())
        s.quit()
    h = Mail(imap.port, HAL, HAL_PW)
    lists, tags, inbox = h.folder("Lists/announce"), h.folder("Tags/urgent"), h.folder("INBOX")
    check(lists is not None and set(lists) == {"release notes"},
          "fileinto :create \"Lists/${2}\" from the List-Id (%s)" % lists)
    check(tags is not None and set(tags) == {"[URGENT] disk full"},
          "set :lower from a :matches, then fileinto (%s)" % tags)
    check(set(inbox) == {"plain"}, "no match: INBOX (%s)" % sorted(inbox))
    h.close()


IVY, IVY_PW = "ivy@example.com", "ivy pw"
JOE, JOE_PW = "joe@example.com", "joe pw"
# Roundcube's "Reject with message" and Pigeonhole's ereject.
IVY_SCRIPT = 'require ["ereject"];\nif header :contains "subject" "offer" {\n' \
             '  ereject text:\nNo offers, thank you.\nReally.\n.\n;\n}\n'
JOE_SCRIPT = 'require ["reject", "variables"];\n' \
             'if header :matches "subject" "*" { set "s" "${1}"; }\n' \
             'reject "Joe has left the company (about: ${s}).";\n'


def queue(fx):
    """[{id, created, size, attempts, next, state, sender, rcpts, error}]"""
    keys = ("id", "created", "size", "attempts", "next", "state", "sender", "rcpts", "error")
    return [dict(zip(keys, line.split("\t")))
            for line in fx.pillarbox("queue", "list").stdout.decode().splitlines()]


def send_refused(mx, rcpts, subject, sender):
    """The DATA reply of a message the MX refuses: (code, text)."""
    try:
        send(mx, rcpts, subject, sender=sender)
    except smtplib.SMTPDataError as e:
        return e.smtp_code, e.smtp_error.decode()
    return 250, ""


def reject_filter(fx, mx, imap):
    """reject and ereject (RFC 5429): refused at DATA when every recipient
    rejects (550 5.7.1 and the reason, nothing stored); else the rejecting
    one gets nothing and the sender an MDN, queued in the delivery's
    transaction (read here once the relay delivered it to a local
    sender); none for the null sender."""
    fx.add_user(IVY, IVY_PW)
    fx.add_user(JOE, JOE_PW)
    fx.pillarbox("sieve", "put", IVY, "offers", "--activate", input=IVY_SCRIPT.encode())
    fx.pillarbox("sieve", "put", JOE, "gone", "--activate", input=JOE_SCRIPT.encode())
    before = {q["id"] for q in queue(fx)}

    code, text = send_refused(mx, [IVY], "an offer", ALICE)
    check(code == 550 and text == "5.7.1 No offers, thank you. Really.",
          "ereject at DATA: %d %s" % (code, text))
    code, text = send_refused(mx, [JOE], "lunch", ALICE)
    check(code == 550 and text == "5.7.1 Joe has left the company (about: lunch).",
          "reject at DATA, its reason expanded: %d %s" % (code, text))
    code, text = send_refused(mx, [IVY], "a question", ALICE)
    check(code == 250, "ereject not taken: delivered (%d %s)" % (code, text))
    i = Mail(imap.port, IVY, IVY_PW)
    check(set(i.folder("INBOX")) == {"a question"}, "nothing stored of the refused one")
    i.close()
    check(not ({q["id"] for q in queue(fx)} - before), "nothing queued for a refusal")

    # two recipients, one rejects: 250, the other has it, a notice for bob
    code, text = send_refused(mx, [JOE, ALICE], "for two", BOB)
    check(code == 250, "one recipient rejects, the other takes it: %d %s" % (code, text))
    a = Mail(imap.port, ALICE, smtptest.ALICE_PW)
    check("for two" in a.folder("INBOX"), "alice got the message")
    a.close()
    j = Mail(imap.port, JOE, JOE_PW)
    check(j.folder("INBOX") == {}, "joe got nothing: %s" % j.folder("INBOX"))
    j.close()
    new = [q for q in queue(fx) if q["id"] not in before]
    shown = fx.pillarbox("queue", "show", new[0]["id"]).stdout.decode() if new else ""
    check(len(new) == 1 and new[0]["sender"] == "<>" and BOB in shown,
          "one notice queued from <> to bob: %s\n%s" % (new, shown))
    r = subprocess.run([fx.program("inetd/relay"), "--config", fx.conf, "--id", new[0]["id"]],
                       stdin=subprocess.DEVNULL, capture_output=True, env=fx.env(), timeout=60)
    check(r.returncode == 0, "the relay delivered the notice: %r" % r.stderr[-400:])
    b = Mail(imap.port, BOB, smtptest.BOB_PW)
    b.m.select("INBOX", readonly=True)
    typ, data = b.m.search(None, 'SUBJECT "Automatically rejected mail"')
    check(typ == "OK" and data[0], "bob has the notice")
    typ, data = b.m.fetch(data[0].split()[-1], "(BODY.PEEK[])")
    raw = data[0][1].decode()
    for want in ("Auto-Submitted: auto-replied", "Return-Path: <>",
                 "report-type=disposition-notification",
                 "Your message to <joe@example.com> was automatically rejected:",
                 "Joe has left the company (about: for two).",
                 "Disposition: automatic-action/MDN-sent-automatically; deleted",
                 "Original-Message-ID: <for.two@example.org>",
                 "Final-Recipient: rfc822; joe@example.com",
                 "From: Mail Delivery System <MAILER-DAEMON@"):
        check(want in raw, "the notice has %r:\n%s" % (want, raw[:1500]))
    b.close()

    # the null sender, and an auto-submitted message: no notice
    before = {q["id"] for q in queue(fx)}
    code, text = send_refused(mx, [JOE, ALICE], "bounce for two", "")
    check(code == 250, "null sender, one rejects: %d %s" % (code, text))
    msg = ("From: robot@example.org\r\nTo: %s\r\nSubject: auto\r\n"
           "Auto-Submitted: auto-generated\r\n\r\nHi.\r\n" % JOE)
    s = smtplib.SMTP("127.0.0.1", mx.port, timeout=20)
    s.sendmail("robot@example.org", [JOE, ALICE], msg.encode())
    s.quit()
    check(not ({q["id"] for q in queue(fx)} - before), "no notice to <> nor for auto-submitted")
    log = fx.log_text()
    for want in ('filter: user=<ivy@example.com> script="offers" ereject="No offers, thank you.',
                 "reject: user=<ivy@example.com> from=<alice@example.com> ereject: refused "
                 "in the SMTP dialogue",
                 "reject: user=<joe@example.com> from=<bob@example.com> reject: notice queue=",
                 "reject: user=<joe@example.com> from=<> reject: discarded, no notice: ",
                 "reject: user=<joe@example.com> from=<robot@example.org> reject: discarded, "
                 "no notice: auto-submitted"):
        check(want in log, "the log has %r" % want)


def main():
    fx = smtptest.SmtpFixture("sieve")
    try:
        fx.pillarbox("sieve", "put", BOB, "rules", "--activate", input=BOB_SCRIPT.encode())
        fx.pillarbox("sieve", "put", ALICE, "mine", "--activate", input=ALICE_SCRIPT.encode())
        mx = fx.smtpd("mx", relay=fx.fake_relay())
        imap = imaptest.launch(fx)
        m = Mail(imap.port, BOB, smtptest.BOB_PW)
        m.m.create("Work")
        m.m.subscribe("Work")

        send(mx, [BOB], "weekly report")
        send(mx, ["bob+lists@example.com"], "list post")
        send(mx, [BOB], "junk mail", sender="spam@example.org")
        send(mx, [BOB], "nowhere")
        send(mx, [BOB], "forward")
        send(mx, [BOB], "share")
        send(mx, [BOB], "plain")
        send(mx, [BOB, ALICE], "both")

        inbox, work = m.folder("INBOX"), m.folder("Work")
        check(set(inbox) == {"nowhere", "plain", "both"},
              "bob's INBOX: the unmatched, a missing folder's and the shared one (%s)"
              % sorted(inbox))
        check(work.get("weekly report") == {"\\Seen"}, "fileinto with addflag \\Seen (%s)" % work)
        check(work.get("share") == {"\\Flagged", "$Shared"},
              "fileinto :flags, a keyword too (%s)" % work.get("share"))
        lists = m.folder("Lists/New")
        check(lists is not None and set(lists) == {"list post"},
              "fileinto :create made Lists/New for the +lists subaddress (%s)" % lists)
        check("Lists/New" in " ".join(m.subscribed()), "the folder made is subscribed")
        check(all("junk mail" not in (m.folder(f) or {}) for f in ("INBOX", "Work", "Junk")),
              "discard: stored nowhere")
        check("forward" not in inbox, "redirect without :copy cancels the keep")
        m.close()

        a = Mail(imap.port, ALICE, smtptest.ALICE_PW)
        ainbox, aarch = a.folder("INBOX"), a.folder("Archive")
        check("share" in ainbox, "redirect :copy reached alice's INBOX, her filter not run")
        check("both" in aarch and "both" not in ainbox,
              "alice's own filter for mail to both (%s / %s)" % (sorted(ainbox), sorted(aarch)))
        a.close()

        ids = [line.split("\t")[0] for line in
               fx.pillarbox("queue", "list").stdout.decode().splitlines() if line]
        shown = "".join(fx.pillarbox("queue", "show", i).stdout.decode() for i in ids)
        check(len(ids) == 1 and "carol@example.net" in shown and
              re.search(r"<SRS0=[A-Z2-7]{4}=[A-Z2-7]{2}=example\.org=someone@mail\.example\.com>",
                        shown) is not None,
              "the remote redirect is queued, from the SRS address of the original sender "
              "(test_relay_srs.py):\n" + shown)
        log = fx.log_text()
        check('filter: user=<bob@example.com> script="rules" fileinto="Work"' in log,
              "the log line names where the copy went")
        check('filter: user=<bob@example.com> script="rules" discard' in log,
              "and a discard")

        vacation(fx, mx, imap)
        body_filter(fx, mx, imap)
        date_filter(fx, mx, imap)
        variables_filter(fx, mx, imap)
        reject_filter(fx, mx, imap)

        # deactivated: nothing is filtered
        fx.pillarbox("sieve", "deactivate", BOB)
        send(mx, [BOB], "weekly report two")
        m = Mail(imap.port, BOB, smtptest.BOB_PW)
        check("weekly report two" in m.folder("INBOX"), "no active script: INBOX")
        m.close()
    finally:
        fx.close()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
