#!/usr/bin/env python3
"""The message page's warning about mail that failed its sender checks,
under pillarbox-webmaild. It is read from our own Authentication-Results
field (cgi/authres.c: the first one whose authserv-id is the `hostname` of
pillarbox.conf):
  - dmarc=fail: a warning (role="alert") naming the header.from domain;
  - no dmarc pass or fail, spf=fail or softfail and no dkim=pass: a milder
    note that the sender's address could not be verified;
  - dmarc=pass, no field, or only another host's field (not trusted, even
    saying dmarc=fail), or a name that only looks like ours: nothing;
  - the domain is escaped like any other value;
  - an attached message's own field is not ours (it never passed our MX):
    nothing on its page.

The messages are put in the store with `pillarbox deliver`, which adds
Return-Path and Delivered-To only, so the Authentication-Results field is
written into the message text itself, with the fixture's host name
(mail.example.com) as its authserv-id. The webmail cannot tell who wrote a
field in the stored header; that is why smtpd removes every field naming
us from mail that arrives (inetd/mailauth.c mailauth_strip_forged) before
it adds its own, at the top."""
import html
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures

OURS = "mail.example.com"
DMARC_WARNING = "This message may not be from %s: it failed that domain's sender checks (DMARC)."
NOTE = "The sender's address could not be verified."


def field(authserv_id, spf, dkim, dmarc, domain="bank.test"):
    """An Authentication-Results field shaped as mailauth_field_format
    writes it."""
    return ("Authentication-Results: %s;\r\n"
            "\tspf=%s (192.0.2.9 is not one of %s's senders; -all matched) smtp.mailfrom=%s;\r\n"
            "\tdkim=%s;\r\n"
            "\tdmarc=%s (p=none) header.from=%s\r\n" % (authserv_id, spf, domain, domain, dkim,
                                                         dmarc, domain))


def mail(subject, ar="", sender="ceo@bank.test"):
    return ("%sFrom: The bank <%s>\r\nTo: bob@example.com\r\nSubject: %s\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nPlease confirm your account.\r\n"
            % (ar, sender, subject))


CASES = [
    # subject, the fields, what the page says: "warn", "note" or None
    ("AR dmarc fail", field(OURS, "fail", "none", "fail"), "warn"),
    ("AR dmarc pass", field(OURS, "fail", "none", "pass"), None),
    ("AR other host", field("mx.other.test", "fail", "none", "fail"), None),
    ("AR looks like ours", field(OURS + ".evil.test", "fail", "none", "fail"), None),
    ("AR spf fail", field(OURS, "fail", "none", "none"), "note"),
    ("AR spf softfail dkim pass", field(OURS, "softfail", "pass header.d=bank.test", "none"), None),
    ("AR none", "", None),
    # another host's pass before ours: ours counts
    ("AR ours after another", field("mx.other.test", "pass", "pass", "pass") +
     field(OURS.upper(), "fail", "none", "fail", "paypa1.test"), "warn"),
]


def deliver_all(store):
    for subject, ar, _ in CASES:
        store.deliver("bob@example.com", mail(subject, ar))
    store.deliver("bob@example.com", mail("AR escaped", field(OURS, "fail", "none", "fail",
                                                              "<b>x</b>.test")))
    store.deliver("bob@example.com", html_mail("AR images pass", field(OURS, "pass", "none", "pass")))
    store.deliver("bob@example.com", html_mail("AR images fail", field(OURS, "fail", "none", "fail")))
    inner = mail("AR inner", field(OURS, "fail", "none", "fail"))
    store.deliver("bob@example.com",
                  "From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: AR attached\r\n"
                  "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                  "--b\r\nContent-Type: text/plain\r\n\r\nForwarded.\r\n"
                  "--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "--b--\r\n")


def html_mail(subject, ar):
    return ("%sFrom: The bank <ceo@bank.test>\r\nTo: bob@example.com\r\nSubject: %s\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n"
            "<p>Look: <img src=\"https://tracker.example.net/pixel.png\" alt=\"px\"></p>\r\n"
            % (ar, subject))


def images_known_sender(c, server):
    """remote_images = known loads a contact's images, but not those of a
    message that failed DMARC: its From: is the contact's only in name."""
    token = c.csrf("/settings")
    c.post("/settings", {"csrf": token, "section": "prefs", "remote_images": "known"})
    mb, uid = c.find("AR images pass")
    r = c.post("/contacts/add-sender", {"mb": mb, "uid": uid, "csrf": token})
    check(r.status == 303, "the bank's address is added to the contacts")

    def loaded(subject):
        mb, uid = c.find(subject)
        m = re.search(r'<iframe class="html" src="([^"]+)"', c.get("/msg?mb=%s&uid=%s"
                                                                   % (mb, uid)).text)
        return m is not None and "images=1" in html.unescape(m.group(1))

    check(loaded("AR images pass"), "a contact's message that passed: its images load")
    check(not loaded("AR images fail"),
          "a message From: the same contact that failed DMARC: its images stay blocked")
    c.post("/settings", {"csrf": token, "section": "prefs", "remote_images": "never"})


def page(c, subject):
    mb, uid = c.find(subject)
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check(r.status == 200, "%s: the page is shown (%d)" % (subject, r.status))
    return r.text


def shown(text):
    """What the page warns: "warn", "note" or None, and the warning's text."""
    m = re.search(r'<p class="error authwarn" role="alert">(.*?)</p>', text, re.S)
    if m:
        return "warn", html.unescape(re.sub(r"<[^>]+>", "", m.group(1)))
    m = re.search(r'<p class="notice authwarn" role="status">(.*?)</p>', text, re.S)
    if m:
        return "note", html.unescape(m.group(1))
    return None, ""


def cases(c):
    for subject, ar, want in CASES:
        got, text = shown(page(c, subject))
        check(got == want, "%s: %s shown (got %s: %s)" % (subject, want or "nothing", got, text))
        if want == "warn":
            domain = "paypa1.test" if "paypa1" in ar else "bank.test"
            check(text.startswith(DMARC_WARNING % domain),
                  "%s: the warning names %s (%s)" % (subject, domain, text))
        if want == "note":
            check(text == NOTE, "%s: the note says %r (%s)" % (subject, NOTE, text))


def escaped(c):
    t = page(c, "AR escaped")
    got, text = shown(t)
    check(got == "warn" and "&lt;b&gt;x&lt;/b&gt;.test" in t and "<b>x</b>" not in t,
          "the domain in the warning is escaped (%s)" % text)


def attached(c):
    t = page(c, "AR attached")
    check(shown(t)[0] is None, "a message with a clean header and an attached one: nothing")
    view = re.search(r'href="/webmail(/msg\?[^"]*part=\d+)" class="btn small">View message', t)
    check(view is not None, "the attached message has a View link")
    if view is not None:
        r = c.get(html.unescape(view.group(1)))
        check(r.status == 200 and "AR inner" in r.text and shown(r.text)[0] is None,
              "the attached message's own field (dmarc=fail) is not ours: nothing")


def main():
    store = webenv.Store()
    deliver_all(store)
    servers = []
    try:
        servers.append(webenv.Webmaild(store))
        c = webenv.Client(servers[0])
        c.login()
        cases(c)
        escaped(c)
        attached(c)
        images_known_sender(c, servers[0])
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


main()
