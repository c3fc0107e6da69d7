#!/usr/bin/env python3
"""Junk and Not junk in the webmail (pillarbox-webmaild), checked over HTTP
and read back over IMAP (imapd on a pipe), where mail apps see it:
  - Junk on a message in the Inbox, from the list: moved to the Junk folder,
    keyword $Junk set (what Thunderbird and Apple Mail read), the notice
    says so; the Junk list offers Not junk instead;
  - Not junk in Junk, from the message page: back to the Inbox, $NotJunk
    set and $Junk gone;
  - Not junk on a message outside Junk: it stays, $NotJunk set;
  - Junk in Junk: it stays, $Junk set;
  - without the CSRF token, or on another user's message: nothing changes."""
import imaplib
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402
from webenv import check  # noqa: E402

BOB = "bob@example.com"
IMAPD = os.path.join(webenv.TOP_BUILDDIR, "inetd", "imapd")


def message(subject):
    return ("From: Shop <shop@example.net>\r\nTo: bob@example.com\r\nSubject: %s\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nBuy.\r\n" % subject)


def imap_flags(store, folder):
    """{subject: set of flags} of a folder, over IMAP (imapd on a pipe;
    plaintext login allowed in a configuration of its own)."""
    conf = os.path.join(store.dir, "imap.conf")
    with open(store.conf) as f, open(conf, "w") as g:
        g.write(f.read() + "allow_plaintext_auth = yes\n")
    os.environ["PILLARBOX_AUTH_DELAY_MS"] = "0"
    c = imaplib.IMAP4_stream("%s --config %s" % (IMAPD, conf))
    try:
        c.login(BOB, webenv.USERS[BOB])
        c.select(folder, readonly=True)
        typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            flags = set(imaplib.ParseFlags(item[0]))
            subject = item[1].decode().strip().replace("Subject: ", "")
            out[subject] = {f.decode() for f in flags}
        return out
    finally:
        c.logout()


def main():
    store = webenv.Store()
    for s in ("Cheap watches", "Lunch on Friday", "Rich uncle"):
        store.deliver(BOB, message(s))
    server = webenv.Webmaild(store)
    try:
        c = webenv.Client(server)
        c.login()
        token = c.csrf()
        mb, uid = c.find("Cheap watches")
        r = c.get("/list")
        check('value="junk"' in r.text and 'value="notjunk"' not in r.text,
              "the Inbox list offers Junk, not Not junk")
        junk_before = store.mailboxes(BOB)["Junk"][0]

        # no token, another user: nothing
        r = c.post("/action", {"mb": mb, "uid": uid, "op": "junk"})
        check(r.status == 403, "without the CSRF token: refused (%d)" % r.status)
        alice = webenv.Client(server)
        alice.login("alice@example.com")
        r = alice.post("/action", {"mb": mb, "uid": uid, "op": "junk", "csrf": alice.csrf()})
        check(r.status in (403, 404), "another user's folder: refused (%d)" % r.status)
        check(store.mailboxes(BOB)["Junk"][0] == junk_before, "nothing moved")

        # Junk from the list
        r = c.post("/action", {"mb": mb, "uid": uid, "op": "junk", "csrf": token})
        loc = r.getheader("Location", "")
        check(r.status == 303 and "done=junk-moved" in loc and "n=1" in loc,
              "Junk: back to the list with a notice (%d %s)" % (r.status, loc))
        r = c.get(loc[len(server.base):])
        check("Message marked as junk and moved to Junk." in r.text, "the notice says where")
        check(store.mailboxes(BOB)["Junk"][0] == junk_before + 1, "one more in Junk")
        flags = imap_flags(store, "Junk")
        check("$Junk" in flags.get("Cheap watches", ()), "$Junk set: %s" % flags)
        check("Cheap watches" not in imap_flags(store, "INBOX"), "gone from the Inbox")

        # Not junk from the message page in Junk: back to the Inbox
        r = c.get("/list")
        jmb = re.search(r'/list\?mb=(\d+)"><img[^>]*><span class="label">Junk</span>', r.text)
        check(jmb is not None, "the Junk folder is linked")
        jmb = jmb.group(1)
        r = c.get("/list?mb=%s" % jmb)
        check('value="notjunk"' in r.text and 'value="junk"' not in r.text,
              "the Junk list offers Not junk, not Junk")
        juid = re.search(r'value="(\d+)" id="sel\d+" aria-label="Select: Cheap watches"',
                         r.text).group(1)
        r = c.get("/msg?mb=%s&uid=%s" % (jmb, juid))
        check('value="notjunk"' in r.text, "the message page in Junk offers Not junk")
        r = c.post("/action", {"mb": jmb, "uid": juid, "op": "notjunk", "csrf": token,
                               "return": "msg", "ret_uid": juid})
        loc = r.getheader("Location", "")
        check(r.status == 303 and "done=notjunk-moved" in loc,
              "Not junk: back with a notice (%d %s)" % (r.status, loc))
        flags = imap_flags(store, "INBOX")
        check("$NotJunk" in flags.get("Cheap watches", ()) and
              "$Junk" not in flags.get("Cheap watches", ()),
              "back in the Inbox with $NotJunk, without $Junk: %s" % flags.get("Cheap watches"))
        check(store.mailboxes(BOB)["Junk"][0] == junk_before, "Junk as before")

        # Not junk in the Inbox: stays, marked
        mb, uid = c.find("Lunch on Friday")
        r = c.post("/action", {"mb": mb, "uid": uid, "op": "notjunk", "csrf": token})
        loc = r.getheader("Location", "")
        check(r.status == 303 and "done=notjunk&" in loc, "Not junk in the Inbox: %s" % loc)
        r = c.get(loc[len(server.base):])
        check("Message marked as not junk." in r.text, "the notice says so")
        check("$NotJunk" in imap_flags(store, "INBOX").get("Lunch on Friday", ()),
              "stays in the Inbox with $NotJunk")

        # Junk in Junk: stays, marked
        mb, uid = c.find("Rich uncle")
        c.post("/action", {"mb": mb, "uid": uid, "op": "move", "to": jmb, "csrf": token})
        r = c.get("/list?mb=%s" % jmb)
        juid = re.search(r'value="(\d+)" id="sel\d+" aria-label="Select: Rich uncle"',
                         r.text).group(1)
        r = c.post("/action", {"mb": jmb, "uid": juid, "op": "junk", "csrf": token})
        loc = r.getheader("Location", "")
        check(r.status == 303 and "done=junk&" in loc, "Junk in Junk: %s" % loc)
        check("$Junk" in imap_flags(store, "Junk").get("Rich uncle", ()),
              "stays in Junk with $Junk")
    finally:
        webenv.stop_all([server], store, webenv.failures)
    webenv.exit_with(webenv.failures)


if __name__ == "__main__":
    main()
