#!/usr/bin/env python3
"""The compose side of the webmail under pillarbox-webmaild, Apache + webmail.cgi
and nginx + fcgiwrap + webmail.cgi (one store, each server in turn):

  - in headless Chromium (browser_compose.mjs): a message with two attachments,
    a non-ASCII subject and display names to a local and a remote address and
    a Bcc; the copy in Sent; reply, reply all, forward, forward as attachment;
    the identity a reply is sent from; a draft saved twice, reopened, sent;
  - the local recipient reads everything over IMAP (imapd under
    systemd-socket-activate, Python's imaplib): attachment bytes, encoded
    headers, In-Reply-To/References, no Bcc field; the sender's Sent copy
    keeps Bcc, the originals got \\Answered and $Forwarded, Drafts is empty;
  - a form posted twice (one after the other, and both at once: a double
    click, a reload, Back and Send) is delivered once, with one Sent copy,
    the second answered with "already sent";
  - bad input over plain HTTP: CR/LF in every one-line field, 1000
    recipients, an attachment over max_message_size, a sender address that is
    not the user's, an unknown local recipient, a reply to a message that does
    not exist or is another user's, a POST without or with a wrong CSRF token:
    each a clear 4xx and nothing sent, stored or queued; a file name with
    "../" and control characters arrives cleaned;
  - the remote copies go out at once: the webmail starts the relay
    (relay_program) after each send, and it delivers them through a route to
    a fake SMTP server on loopback, without the Bcc field; the queue empties."""
import email
import email.policy
import html
import imaplib
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import webenv  # noqa: E402
sys.path.insert(0, os.path.join(webenv.TOP_SRCDIR, "tests", "integration"))
import relaytest  # noqa: E402

BOB, ALICE = "bob@example.com", "alice@example.com"
MAX_MESSAGE = 2 * 1024 * 1024
check, failures = webenv.check, webenv.failures


# ---------------------------------------------------------------- set-up

def extra_mail(store, tag):
    """What the browser answers, for each server's run."""
    store.deliver(BOB, "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>, "
                  "Carol <carol@example.net>\r\nCc: Dave <dave@example.org>, robert@example.com\r\n"
                  "Subject: Thread start %s\r\nDate: Tue, 2 Apr 2024 10:00:00 +0000\r\n"
                  "Message-ID: <thread-start-%s@test.example>\r\n"
                  "References: <older-%s@test.example>\r\n\r\nLet us talk.\r\n" % (tag, tag, tag))
    store.deliver(BOB, "From: Alice <alice@example.com>\r\nTo: robert@example.com\r\n"
                  "Subject: For Robert %s\r\nDate: Tue, 2 Apr 2024 11:00:00 +0000\r\n"
                  "Message-ID: <robert-%s@test.example>\r\n\r\nHi Robert.\r\n" % (tag, tag))
    store.deliver(BOB, "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\n"
                  "Subject: RE: Re: Already answered %s\r\nDate: Tue, 2 Apr 2024 12:00:00 +0000\r\n"
                  "\r\nAgain.\r\n" % tag)
    line = "A long report line that goes on for a while, seventy characters.\r\n"
    store.deliver(BOB, "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\n"
                  "Subject: Long text %s\r\nDate: Tue, 2 Apr 2024 12:30:00 +0000\r\n\r\n%s"
                  % (tag, line * 6000))
    # as filed by another client: Bob's own message, sent from his alias
    store.deliver(BOB, "From: Robert <robert@example.com>\r\nTo: Carol <carol@example.net>\r\n"
                  "Subject: Sent by Robert %s\r\nDate: Tue, 2 Apr 2024 13:00:00 +0000\r\n"
                  "Message-ID: <by-robert-%s@test.example>\r\n\r\nHi Carol.\r\n" % (tag, tag))


def start_imapd(store):
    """imapd per connection under systemd-socket-activate; (proc, port)."""
    if shutil.which("systemd-socket-activate") is None:
        webenv.skip("systemd-socket-activate is not installed (apt-get install systemd)")
    port = webenv.free_port()
    cmd = ["systemd-socket-activate", "--inetd", "--accept", "-l", "127.0.0.1:%d" % port,
           "-E", "PILLARBOX_CONF=%s" % store.conf]
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            cmd += ["-E", "%s=%s" % (k, os.environ[k])]
    cmd += [os.path.join(webenv.TOP_BUILDDIR, "inetd", "imapd"), "--config", store.conf]
    log = open(os.path.join(store.dir, "imapd.log"), "w")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    webenv.wait_port(port, proc)
    return proc, port


def imap_messages(port, user, mailbox="INBOX"):
    """[(flags, email.message.EmailMessage, raw bytes)] of a mailbox."""
    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    try:
        m.login(user, webenv.USERS[user])
        typ, _ = m.select('"%s"' % mailbox, readonly=True)
        assert typ == "OK", mailbox
        typ, data = m.uid("SEARCH", None, "ALL")
        out = []
        for uid in data[0].split():
            typ, parts = m.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
            flags = parts[0][0].decode()
            raw = parts[0][1]
            out.append((flags, email.message_from_bytes(raw, policy=email.policy.default), raw))
        m.logout()
        return out
    finally:
        try:
            m.shutdown()
        except OSError:
            pass


def by_subject(msgs, subject):
    return [t for t in msgs if str(t[1].get("Subject", "")) == subject]


def attachments(msg):
    return [p for p in msg.iter_attachments()]


# ---------------------------------------------------------------- HTTP

multipart = webenv.multipart


def post_compose(client, fields):
    body, ctype = multipart(fields)
    return client.request("POST", "/compose", body=body, headers={"Content-Type": ctype})


def folder_id(html, label):
    m = re.search(r'list\?mb=(\d+)"[^>]*><img[^>]*><span class="label">%s<' % label, html)
    return int(m.group(1))


def sent_list(server, tag):
    """In Sent every message is the user's own: its row names the
    recipients instead, as other mail programs do; the Inbox keeps senders."""
    c = webenv.Client(server)
    c.login()
    page = c.get("/list").text
    subject = "Grüße %s ✓ — Ελληνικά" % tag
    r = c.get("/list?mb=%s" % folder_id(page, "Sent"))
    row = [m for m in re.findall(r'<li class="msg[^"]*">.*?</li>', r.text, re.S) if subject in m]
    names = re.findall(r'<bdi>([^<]*)</bdi>', row[0]) if row else []
    check(len(row) == 1 and names[:1] == ["To: Älice Ünïcode, Jr., Rémi Distant"],
          "%s: the Sent list names a message's recipients (%s)" % (tag, names))
    check("<bdi>To: " not in page, "%s: ... and the Inbox its senders" % tag)


def snapshot(store):
    return (store.mailboxes(BOB), store.mailboxes(ALICE), store.admin("queue", "list"))


def bad_input(server, store, imap_port, tag):
    c = webenv.Client(server)
    c.login()
    page = c.get("/compose").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    inbox = folder_id(page, "Inbox")
    a = webenv.Client(server)
    a.login(ALICE)
    alice_inbox = folder_id(a.get("/compose").text, "Inbox")

    def send(**kw):
        fields = {"csrf": csrf, "from": BOB, "to": ALICE, "subject": "Bad %s" % tag,
                  "body": "x", "op": "send"}
        fields.update(kw)
        return post_compose(c, [(k, v) for k, v in fields.items() if v is not None])

    before = snapshot(store)
    for field in ("to", "cc", "bcc", "subject", "from"):
        for brk in ("\r\n", "\n", "\r"):
            value = (BOB if field == "from" else ALICE if field != "subject" else "Hi") + \
                brk + "Bcc: victim@example.org"
            r = send(**{field: value})
            check(r.status == 400 and "line break" in r.text,
                  "%s: %r in %s refused (%d)" % (tag, brk, field, r.status))
    r = send(to=", ".join("user%d@example.net" % i for i in range(1000)))
    check(r.status == 400 and "Too many recipients: 1000" in r.text,
          "%s: 1000 recipients refused with a clear error (%d)" % (tag, r.status))
    r = send(to=", ".join("a%d@example.net" % i for i in range(60)),
             cc=", ".join("c%d@example.net" % i for i in range(60)))
    check(r.status == 400 and "Too many recipients: 120" in r.text,
          "%s: 120 recipients over To and Cc refused (%d)" % (tag, r.status))
    big = os.urandom(MAX_MESSAGE * 4 // 5)
    body, ctype = multipart([("csrf", csrf), ("from", BOB), ("to", ALICE), ("subject", "Big"),
                             ("body", "x"), ("op", "send"),
                             ("attach", ("big.bin", big, "application/octet-stream"))])
    r = c.request("POST", "/compose", body=body, headers={"Content-Type": ctype})
    check(r.status == 413 and "too large" in r.text and "big.bin" in r.text,
          "%s: an attachment over max_message_size refused, its name listed (%d)" % (tag, r.status))
    r = send(**{"from": ALICE})
    check(r.status == 403 and "your own address" in r.text,
          "%s: another user's address as sender refused (%d)" % (tag, r.status))
    r = send(to="nobody@example.com")
    check(r.status == 400 and "no mailbox nobody@example.com" in r.text,
          "%s: an unknown local recipient refused (%d)" % (tag, r.status))
    for bad, why in (("x@[127.0.0.1]", "address literal"), ("team: a@example.org;", "group"),
                     ("bob", "not a complete")):
        r = send(to=bad)
        check(r.status == 400 and why in r.text, "%s: %s refused (%d)" % (tag, bad, r.status))
    r = c.get("/compose?mode=reply&mb=%d&uid=999999" % inbox)
    check(r.status == 404 and "no longer exists" in r.text,
          "%s: replying to a message that does not exist: 404 (%d)" % (tag, r.status))
    r = send(mode="reply", omb=str(inbox), ouid="999999")
    check(r.status == 404 and "Nothing was sent" in r.text,
          "%s: sending a reply to a message that does not exist: 404 (%d)" % (tag, r.status))
    r = c.get("/compose?mode=forward&mb=%d&uid=1" % alice_inbox)
    check(r.status == 404, "%s: forwarding another user's message: 404 (%d)" % (tag, r.status))
    r = send(mode="forward", omb=str(alice_inbox), ouid="1", keep="o:0")
    check(r.status == 404, "%s: sending another user's message: 404 (%d)" % (tag, r.status))
    r = send(mode="forward", omb=str(inbox), ouid="1", keep="o:0")
    check(r.status == 409 or r.status == 400,
          "%s: keeping a part that is not an attachment refused (%d)" % (tag, r.status))
    r = send(csrf=None)
    check(r.status == 403, "%s: a send without a CSRF token: 403 (%d)" % (tag, r.status))
    r = send(csrf="0" * 64)
    check(r.status == 403, "%s: a send with a wrong CSRF token: 403 (%d)" % (tag, r.status))
    r = c.post("/compose", {"to": ALICE, "subject": "x", "body": "x", "op": "send"})
    check(r.status == 403, "%s: an urlencoded send without a token: 403 (%d)" % (tag, r.status))
    check(snapshot(store) == before, "%s: none of that sent, stored or queued anything" % tag)

    # a file name with a path and control characters: cleaned, never a path
    r = post_compose(c, [("csrf", csrf), ("from", BOB), ("to", ALICE),
                         ("subject", "Filename %s" % tag), ("body", "see file"), ("op", "send"),
                         ("attach", ("../../etc/pass\x01wd\x7f.txt", b"root:x:0:0\n",
                                     "text/plain"))])
    check(r.status == 303, "%s: a message with a hostile file name is sent (%d)" % (tag, r.status))
    got = by_subject(imap_messages(imap_port, ALICE), "Filename %s" % tag)
    check(len(got) == 1, "%s: it arrived" % tag)
    if got:
        att = attachments(got[0][1])
        check(len(att) == 1 and att[0].get_filename() == "passwd.txt" and
              att[0].get_content() in ("root:x:0:0\n", b"root:x:0:0\n"),
              "%s: the file name is cleaned to passwd.txt (%s)" %
              (tag, att[0].get_filename() if att else None))
        check(b"../" not in got[0][2] and b"\x01" not in got[0][2],
              "%s: no path or control character in the message" % tag)
    made = [os.path.join(d, f) for d, _, files in os.walk(store.dir) for f in files
            if f.startswith("pass")]
    check(made == [], "%s: no file was made from the name (%s)" % (tag, made))


def own_and_kept(server, imap_port, tag):
    """A reply to one's own message sent from an alias goes to its
    recipients, from that alias; a part chosen twice is attached once."""
    c = webenv.Client(server)
    c.login()
    mb, uid = c.find("Sent by Robert %s" % tag)
    page = c.get("/compose?mode=reply&mb=%s&uid=%s" % (mb, uid)).text
    to = re.search(r'name="to" type="text" value="([^"]*)"', page).group(1)
    sel = re.search(r'<option value="([^"]+)" selected>', page)
    check("carol@example.net" in to and "robert@" not in to,
          "%s: a reply to one's own message goes to its recipients (%s)" % (tag, to))
    check(sel is not None and sel.group(1) == "robert@example.com",
          "%s: ... from the alias that sent it (%s)" % (tag, sel and sel.group(1)))
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    r = post_compose(c, [("csrf", csrf), ("from", BOB), ("to", ALICE), ("op", "send"),
                         ("subject", "Kept twice %s" % tag), ("body", "x"), ("mode", "attach"),
                         ("omb", mb), ("ouid", uid), ("keep", "o:m"), ("keep", "o:m")])
    check(r.status == 303, "%s: a forward with its part chosen twice is sent (%d)" % (tag, r.status))
    got = by_subject(imap_messages(imap_port, ALICE), "Kept twice %s" % tag)
    n = len(attachments(got[0][1])) if len(got) == 1 else None
    check(n == 1, "%s: ... with the part attached once (%s)" % (tag, n))
    # a reply to (and an inline forward of) a 400 KB text can be sent as it
    # is offered: the quote is cut to fit the form
    mb, uid = c.find("Long text %s" % tag)
    for mode in ("reply", "forward"):
        page = c.get("/compose?mode=%s&mb=%s&uid=%s" % (mode, mb, uid)).text
        text = html.unescape(re.search(r'<textarea id="body"[^>]*>\n(.*?)</textarea>', page,
                                       re.S).group(1)).replace("\n", "\r\n")
        try:
            status = post_compose(c, [("csrf", csrf), ("from", BOB), ("to", ALICE),
                                      ("op", "send"), ("subject", "Long %s %s" % (mode, tag)),
                                      ("body", "Answer.\r\n" + text), ("mode", mode),
                                      ("omb", mb), ("ouid", uid)]).status
        except OSError as e:     # a field over the form's limit: refused early
            status = str(e)
        check(status == 303 and "too long to include" in text,
              "%s: a %s of a long text is sent, its quote cut (%s, %d bytes)" %
              (tag, mode, status, len(text)))


def send_twice(server, imap_port, tag):
    """The same compose form posted twice: one after the other, then twice
    at once (one process each under CGI, two threads in webmaild)."""
    c = webenv.Client(server)
    c.login()
    for how in ("again", "at once"):
        page = c.get("/compose").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
        token = re.search(r'name="send_token" value="([0-9a-f]*)"', page)
        subject = "Twice %s %s" % (how, tag)
        fields = [("csrf", csrf), ("from", BOB), ("to", ALICE), ("subject", subject),
                  ("body", "Once, please."), ("op", "send")]
        if token:
            fields.append(("send_token", token.group(1)))
        if how == "again":
            got = [post_compose(c, fields) for _ in range(2)]
        else:
            got = [None, None]

            def post(i):
                got[i] = post_compose(c, fields)
            threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        where = [r.getheader("Location") or "" for r in got]
        check([r.status for r in got] == [303, 303],
              "%s: both posts %s answered with a redirect (%s)" % (tag, how, [r.status for r in got]))
        check(sum("again=1" in w for w in where) == 1,
              "%s: one post %s is told it was already sent (%s)" % (tag, how, where))
        for w in where:
            if "again=1" in w:
                r = c.get(w[len(server.base):] if w.startswith(server.base) else w)
                check(r.status == 200 and "already sent" in r.text,
                      "%s: ... on the sent page (%d)" % (tag, r.status))
        n = len(by_subject(imap_messages(imap_port, ALICE), subject))
        check(n == 1, "%s: a form posted twice %s is delivered once (%d)" % (tag, how, n))
        n = len(by_subject(imap_messages(imap_port, BOB, "Sent"), subject))
        check(n == 1, "%s: ... with one copy in Sent (%d)" % (tag, n))


# ---------------------------------------------------------------- checks

def check_mail(store, imap_port, tag, file1, file2):
    with open(file1, "rb") as f:
        data1 = f.read()
    with open(file2, "rb") as f:
        data2 = f.read()
    alice = imap_messages(imap_port, ALICE)
    bob = imap_messages(imap_port, BOB)
    sent = imap_messages(imap_port, BOB, "Sent")
    drafts = imap_messages(imap_port, BOB, "Drafts")

    subject = "Grüße %s ✓ — Ελληνικά" % tag
    got = by_subject(alice, subject)
    check(len(got) == 1, "%s: alice got the new message over IMAP" % tag)
    if got:
        m, raw = got[0][1], got[0][2]
        to = m["To"]
        names = [a.display_name for a in to.addresses]
        check("Älice Ünïcode, Jr." in names and "Rémi Distant" in names,
              "%s: display names decoded as typed (%s)" % (tag, names))
        check(m["Bcc"] is None and b"hidden@" not in raw, "%s: no Bcc in the delivered copy" % tag)
        check(m["Message-ID"] is not None and m["Date"] is not None,
              "%s: Message-ID and Date are set" % tag)
        body = m.get_body(("plain",))
        check(body is not None and body.get_param("format") == "flowed" and
              "here are the two files" in body.get_content(), "%s: the text is format=flowed" % tag)
        att = {p.get_filename(): p.get_content() for p in attachments(m)}
        check(att.get(os.path.basename(file1)) == data1 and att.get(os.path.basename(file2)) == data2,
              "%s: both attachments arrive byte for byte (%s)" % (tag, sorted(att)))
        check(all(b < 0x80 for b in raw), "%s: the message is 7-bit clean" % tag)
    copy = by_subject(sent, subject)
    check(len(copy) == 1 and "\\Seen" in copy[0][0] and
          str(copy[0][1]["Bcc"] or "").find("hidden@example.net") >= 0,
          "%s: the copy in Sent is seen and keeps the Bcc" % tag)

    def orig(subject):
        return [t for t in bob if str(t[1]["Subject"]) == subject]

    plain = orig("Plain text message")
    reply = by_subject(alice, "Re: Plain text message %s" % tag)
    check(len(reply) == 1, "%s: the reply arrived" % tag)
    if reply and plain:
        mid = str(plain[0][1]["Message-ID"]).strip()
        r = reply[0][1]
        check(str(r["In-Reply-To"]).strip() == mid, "%s: the reply's In-Reply-To" % tag)
        check(str(r["References"]).split()[-1] == mid, "%s: the reply's References" % tag)
        check("My answer %s." % tag in r.get_body(("plain",)).get_content() and
              "> Hello Bob," in r.get_body(("plain",)).get_content(),
              "%s: the reply has the answer and the quote" % tag)
        check("\\Answered" in plain[0][0], "%s: the original is marked answered" % tag)
    all_ = by_subject(alice, "Re: Thread start %s" % tag)
    check(len(all_) == 1, "%s: the reply to all arrived" % tag)
    if all_:
        r = all_[0][1]
        check(str(r["In-Reply-To"]).strip() == "<thread-start-%s@test.example>" % tag and
              str(r["References"]).split() == ["<older-%s@test.example>" % tag,
                                               "<thread-start-%s@test.example>" % tag],
              "%s: reply all keeps the thread (%s)" % (tag, r["References"]))
        cc = [a.addr_spec for a in r["Cc"].addresses]
        check(sorted(cc) == ["carol@example.net", "dave@example.org"],
              "%s: reply all's Cc without our addresses (%s)" % (tag, cc))
    files = orig("Files attached")
    fwd = by_subject(alice, "Fwd: Files attached %s" % tag)
    check(len(fwd) == 1, "%s: the forward arrived" % tag)
    if fwd and files:
        f = fwd[0][1]
        names = [p.get_filename() for p in attachments(f)]
        check("data.bin" in names and "red dot.png" in names and len(names) == 3,
              "%s: the forward keeps the attachments (%s)" % (tag, names))
        dat = [p.get_content() for p in attachments(f) if p.get_filename() == "data.bin"]
        check(dat == [bytes(range(256)) * 40], "%s: a forwarded attachment's bytes" % tag)
        check(str(f["References"]).split()[-1] == str(files[0][1]["Message-ID"]).strip(),
              "%s: the forward's References" % tag)
        check("$Forwarded" in files[0][0], "%s: the original is marked forwarded" % tag)
    fwa = by_subject(alice, "Fwd as attachment %s" % tag)
    check(len(fwa) == 1, "%s: the forward as attachment arrived" % tag)
    if fwa:
        inner = [p for p in fwa[0][1].iter_attachments() if p.get_content_type() == "message/rfc822"]
        check(len(inner) == 1 and str(inner[0].get_content()["Subject"]) == "Files attached",
              "%s: the original is attached as message/rfc822" % tag)
    draft = by_subject(alice, "Draft %s" % tag)
    check(len(draft) == 1, "%s: the draft was sent once" % tag)
    if draft:
        d = draft[0][1]
        check("Second version." in d.get_body(("plain",)).get_content(), "%s: the draft's latest text" % tag)
        att = [p.get_content() for p in attachments(d)]
        check(att == [data2], "%s: the draft's attachment was kept" % tag)
        check(d["X-Pillarbox-Origin"] is None, "%s: no draft bookkeeping in sent mail" % tag)
    check(not by_subject(drafts, "Draft %s" % tag), "%s: Drafts no longer has it" % tag)
    check(not by_subject(alice, "Never sent %s" % tag), "%s: the refused message was not sent" % tag)


def check_relay(store, fake, sends):
    """The webmail started the relay (relay_program) right after each send:
    the fake remote server has every remote copy and the queue empties."""
    end = time.time() + 60
    while time.time() < end:
        msgs = [email.message_from_bytes(m, policy=email.policy.default) for m in fake.messages]
        first = [m for m in msgs if str(m["Subject"]).startswith("Grüße ")]
        if len(first) >= sends and store.admin("queue", "list").strip() == "":
            break
        time.sleep(0.2)
    check(len(first) >= sends, "the relay started by the webmail delivered every remote copy"
          " (%d of %d)" % (len(first), sends))
    for m in first:
        check(m["Bcc"] is None and len(list(m.iter_attachments())) == 2,
              "the remote copy has both attachments and no Bcc")
    queue = store.admin("queue", "list").strip()
    check(queue == "", "the queue is empty afterwards (%s)" % queue)


# ---------------------------------------------------------------- main

def main():
    kinds = webenv.front_ends()
    store = webenv.Store()
    fake = imapd = None
    try:
        store.admin("alias", "add", "robert@example.com", BOB)
        fake_port = webenv.free_port()
        fake = relaytest.FakeSmtp("127.0.0.1", fake_port, lambda peer, srv: peer.session())
        with open(store.conf, "a") as f:
            f.write("max_message_size = %d\nroute example.net = 127.0.0.1:%d\n"
                    "route example.org = 127.0.0.1:%d\nrelay_tls_policy = none\n"
                    "relay_program = %s\n"
                    % (MAX_MESSAGE, fake_port, fake_port,
                       os.path.join(webenv.TOP_BUILDDIR, "inetd", "relay")))
        files = os.path.join(store.dir, "files")
        os.makedirs(files)
        os.chmod(files, 0o755)
        file1 = os.path.join(files, "Bericht über März.pdf")
        file2 = os.path.join(files, "photo.png")
        with open(file1, "wb") as f:
            f.write(b"%PDF-1.4\n" + os.urandom(150 * 1024))
        with open(file2, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(20 * 1024) + bytes(range(256)))
        for kind in kinds:
            extra_mail(store, kind)
        imapd, imap_port = start_imapd(store)
        for kind in kinds:
            t = time.time()
            server = webenv.SERVERS[kind](store)
            try:
                webenv.run_scenario("browser_compose.mjs", server, "compose-" + kind,
                                    BOB, webenv.USERS[BOB], kind, file1, file2)
                check_mail(store, imap_port, kind, file1, file2)
                sent_list(server, kind)
                bad_input(server, store, imap_port, kind)
                own_and_kept(server, imap_port, kind)
                send_twice(server, imap_port, kind)
            finally:
                server.stop()
                if failures:
                    print(server.log())
            print("# %s: %.1f s" % (kind, time.time() - t))
        check_relay(store, fake, len(kinds))
    finally:
        if imapd is not None:
            imapd.terminate()
            imapd.wait(timeout=10)
        if fake is not None:
            fake.close()
        if failures:
            os.system("tail -n 20 %s/imapd.log" % store.dir)
        store.cleanup()
    if failures:
        print("FAILED: %d check(s)" % len(failures))
        for f in failures:
            print("  " + f)
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
