#!/usr/bin/env python3
"""Receipts in the webmail under pillarbox-webmaild, Apache + webmail.cgi and
nginx + fcgiwrap + webmail.cgi (one store, each server in turn):

  - in headless Chromium (browser_receipts.mjs): bob ticks Return receipt and
    Delivery status notification and chooses High priority; the options are
    kept when the form comes back with an error and in a saved draft; he
    sends the message to alice. He reads messages that ask for a receipt:
    "Send receipt" and "Ignore" each end the notice (also after a reload), a
    receipt to another address than the Return-Path is named in a warning,
    a message in Junk shows none;
  - over IMAP (imapd under systemd-socket-activate): alice's copy carries
    Disposition-Notification-To: bob and X-Priority: 1; once the relay has
    run, bob's INBOX has a "delivered" DSN (RFC 3464) for alice; alice got
    one MDN (RFC 8098) for the receipt sent: from bob, with the null
    envelope sender, Disposition manual-action/MDN-sent-manually;
    displayed; none for the message ignored; both have $MDNSent;
  - over plain HTTP: a POST /receipt without or with a wrong CSRF token, for
    a message in Junk, and for a message that asks for nothing changes
    nothing (no mail, no keyword)."""
import email
import email.policy
import email.utils
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import webenv  # noqa: E402
from test_web_compose import folder_id, imap_messages, start_imapd  # noqa: E402

BOB, ALICE = "bob@example.com", "alice@example.com"
check, failures = webenv.check, webenv.failures


def deliver(store, to, sender, message):
    r = subprocess.run([webenv.ADMIN, "--config", store.conf, "deliver", "-f", sender, to],
                       input=message.encode(), capture_output=True, env=store.env)
    if r.returncode != 0:
        raise RuntimeError("deliver: %s" % r.stderr)


def asking(tag, subject, dnt="Alice <alice@example.com>"):
    return ("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>\r\n"
            "Subject: %s %s\r\nDate: Tue, 2 Apr 2024 10:00:00 +0000\r\n"
            "Message-ID: <%s-%s@test.example>\r\nDisposition-Notification-To: %s\r\n\r\n"
            "Please confirm.\r\n" % (subject, tag, subject.replace(" ", "-").lower(), tag, dnt))


def mail_for(store, tag):
    """What bob reads in each server's run."""
    deliver(store, BOB, ALICE, asking(tag, "Receipt please"))
    deliver(store, BOB, ALICE, asking(tag, "Ignore me"))
    deliver(store, BOB, ALICE, asking(tag, "Redirected", "collector@example.net"))
    deliver(store, BOB, ALICE, asking(tag, "Junk receipt"))
    deliver(store, BOB, ALICE, asking(tag, "Csrf check"))
    deliver(store, BOB, ALICE, "From: alice@example.com\r\nTo: bob@example.com\r\n"
            "Subject: No request %s\r\n\r\nHi.\r\n" % tag)


def flags_of(imap_port, user, subject, mailbox="INBOX"):
    got = [t for t in imap_messages(imap_port, user, mailbox) if str(t[1]["Subject"]) == subject]
    return got[0][0] if len(got) == 1 else None


def mdns(imap_port, subject):
    """The MDNs in alice's INBOX for `subject`."""
    return [t for t in imap_messages(imap_port, ALICE)
            if str(t[1]["Subject"]) == "Read: " + subject]


def find_in(c, mb, subject):
    """The uid of the message with this subject in folder mb."""
    r = c.get("/list?mb=%s&subject=%s" % (mb, subject.replace(" ", "+")))
    m = re.search(r'value="(\d+)" id="sel\d+" aria-label="Select: %s"' % re.escape(subject), r.text)
    return m.group(1) if m else None


def to_junk(server, tag):
    """A message that asks for a receipt moved to Junk, as the user would."""
    c = webenv.Client(server)
    c.login()
    page = c.get("/list").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    mb, uid = c.find("Junk receipt %s" % tag)
    r = c.post("/action", {"csrf": csrf, "mb": mb, "uid": uid, "op": "move",
                           "to": str(folder_id(page, "Junk"))})
    check(r.status == 303, "%s: the message is moved to Junk (%d)" % (tag, r.status))


def http_checks(server, store, imap_port, tag):
    """POSTs that must change nothing: no token, a wrong one, a message in
    Junk, a message that asks for nothing."""
    c = webenv.Client(server)
    c.login()
    page = c.get("/list").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    junk = folder_id(page, "Junk")
    mb, uid = c.find("Csrf check %s" % tag)
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check("The sender asked to be notified" in r.text and 'action="/webmail/receipt"' in r.text,
          "%s: the notice is on the message page" % tag)
    before = (store.mailboxes(ALICE), store.admin("queue", "list"))
    for fields, what in (({}, "without a token"), ({"csrf": "0" * 64}, "with a wrong token")):
        fields.update({"mb": mb, "uid": uid, "op": "send"})
        r = c.post("/receipt", fields)
        check(r.status == 403, "%s: a receipt POST %s: 403 (%d)" % (tag, what, r.status))
    r = c.post("/receipt", {"csrf": csrf, "mb": mb, "uid": uid, "op": "other"})
    check(r.status == 400, "%s: an unknown op: 400 (%d)" % (tag, r.status))
    jmb, juid = junk, find_in(c, junk, "Junk receipt %s" % tag)
    check(juid is not None, "%s: the message is in Junk" % tag)
    r = c.post("/receipt", {"csrf": csrf, "mb": jmb, "uid": juid, "op": "send"})
    check(r.status == 409, "%s: a receipt for a message in Junk refused: 409 (%d)" % (tag, r.status))
    nmb, nuid = c.find("No request %s" % tag)
    r = c.post("/receipt", {"csrf": csrf, "mb": nmb, "uid": nuid, "op": "send"})
    check(r.status == 409, "%s: a receipt for a message that asks none refused (%d)" % (tag, r.status))
    r = c.get("/msg?mb=%s&uid=%s" % (nmb, nuid))
    check("The sender asked to be notified" not in r.text, "%s: ... and it shows no notice" % tag)
    check((store.mailboxes(ALICE), store.admin("queue", "list")) == before,
          "%s: none of that sent or queued anything" % tag)
    for subject, box in (("Csrf check", "INBOX"), ("Junk receipt", "Junk")):
        f = flags_of(imap_port, BOB, "%s %s" % (subject, tag), box)
        check(f is not None and "$MDNSent" not in f,
              "%s: %s has no $MDNSent (%s)" % (tag, subject, f))
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check("The sender asked to be notified" in r.text, "%s: the notice is still there" % tag)


def check_mail(store, imap_port, tag):
    alice = imap_messages(imap_port, ALICE)
    got = [t for t in alice if str(t[1]["Subject"]) == "Options %s" % tag]
    check(len(got) == 1, "%s: alice got the message with the options" % tag)
    if got:
        m = got[0][1]
        dnt = m["Disposition-Notification-To"]
        check(dnt is not None and [a for _, a in email.utils.getaddresses([str(dnt)])] == [BOB],
              "%s: it asks for a receipt to bob (%s)" % (tag, dnt))
        check(str(m["X-Priority"]).startswith("1") and str(m["Importance"]) == "high",
              "%s: it has high priority (%s, %s)" % (tag, m["X-Priority"], m["Importance"]))
        check(m["X-Pillarbox-DSN"] is None, "%s: no draft bookkeeping in sent mail" % tag)

    got = mdns(imap_port, "Receipt please %s" % tag)
    check(len(got) == 1, "%s: alice got one receipt (%d)" % (tag, len(got)))
    if got:
        m, raw = got[0][1], got[0][2]
        check(m.get_content_type() == "multipart/report" and
              m.get_param("report-type") == "disposition-notification",
              "%s: the receipt is a disposition-notification report" % tag)
        parts = list(m.iter_parts())
        report = parts[1].get_payload(decode=False) if len(parts) > 1 else None
        text = report if isinstance(report, str) else \
            (parts[1].as_string() if len(parts) > 1 else "")
        check("Disposition: manual-action/MDN-sent-manually; displayed" in text and
              "Final-Recipient: rfc822; bob@example.com" in text and
              "Original-Message-ID: <receipt-please-%s@test.example>" % tag in text,
              "%s: Disposition, Final-Recipient and Original-Message-ID (%r)" % (tag, text[:300]))
        check([a.addr_spec for a in m["From"].addresses] == [BOB],
              "%s: the receipt is from bob (%s)" % (tag, m["From"]))
        check(raw.startswith(b"Return-Path: <>\r\n"),
              "%s: it was sent with the null sender (%r)" % (tag, raw[:40]))
        body = parts[0].get_content() if parts else ""
        check("has been displayed" in body and "Receipt please %s" % tag in body,
              "%s: the text says it was displayed (%r)" % (tag, body[:200]))
    check(mdns(imap_port, "Ignore me %s" % tag) == [], "%s: no receipt for the one ignored" % tag)
    for subject in ("Receipt please", "Ignore me"):
        f = flags_of(imap_port, BOB, "%s %s" % (subject, tag))
        check(f is not None and "$MDNSent" in f, "%s: %s has $MDNSent (%s)" % (tag, subject, f))


def run_relay(store):
    subprocess.run([os.path.join(webenv.TOP_BUILDDIR, "inetd", "relay"), "--config", store.conf,
                    "--run-queue"], env=store.env, capture_output=True, timeout=120)


def check_dsn(store, imap_port, kinds):
    """The "delivered" DSNs for alice's copies: once the relay ran."""
    end = time.time() + 60
    while True:
        run_relay(store)
        dsns = [t for t in imap_messages(imap_port, BOB)
                if t[1].get_content_type() == "multipart/report" and
                t[1].get_param("report-type") == "delivery-status"]
        if len(dsns) >= len(kinds) or time.time() > end:
            break
        time.sleep(0.5)
    check(len(dsns) == len(kinds), "bob has one DSN for each message sent with it (%d of %d)"
          % (len(dsns), len(kinds)))
    for t in dsns:
        raw = t[2].decode("utf-8", "replace")
        check(re.search(r"Action: delivered", raw) is not None and
              re.search(r"Final-Recipient: rfc822; ?alice@example.com", raw, re.I) is not None and
              re.search(r"Original-Recipient: rfc822; ?alice@example.com", raw, re.I) is not None,
              "the DSN says delivered to alice (%s)" % raw[raw.find("Action"):][:200])
        check(raw.startswith("Return-Path: <>\r\n"), "a DSN comes from the null sender")


def main():
    kinds = webenv.front_ends()
    store = webenv.Store()
    imapd = None
    try:
        with open(store.conf, "a") as f:
            f.write("relay_program = %s\n" % os.path.join(webenv.TOP_BUILDDIR, "inetd", "relay"))
        for kind in kinds:
            mail_for(store, kind)
        imapd, imap_port = start_imapd(store)
        for kind in kinds:
            t = time.time()
            server = webenv.SERVERS[kind](store)
            try:
                to_junk(server, kind)
                webenv.run_scenario("browser_receipts.mjs", server, "receipts-" + kind,
                                    BOB, webenv.USERS[BOB], kind)
                http_checks(server, store, imap_port, kind)
                check_mail(store, imap_port, kind)
            finally:
                server.stop()
                if failures:
                    print(server.log())
            print("# %s: %.1f s" % (kind, time.time() - t))
        check_dsn(store, imap_port, kinds)
        queue = store.admin("queue", "list").strip()
        check(queue == "", "the queue is empty afterwards (%s)" % queue)
    finally:
        if imapd is not None:
            imapd.terminate()
            imapd.wait(timeout=10)
        store.cleanup()
    webenv.exit_with(failures)


if __name__ == "__main__":
    main()
