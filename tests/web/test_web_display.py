#!/usr/bin/env python3
"""What the message list and message pages show at the edges, under
pillarbox-webmaild. Real-world MIME shapes on the message page:
  - a multipart/related whose root is named by its start parameter (RFC
    2387 3.2) and is not its first part: the HTML root is shown (with its
    cid: image), not hidden behind an attachment;
  - a cid: image sent as image/jpg (a common mislabel of image/jpeg) is
    shown inline, and served as image/jpeg;
  - a part of a multipart/related that no cid: can show (image/tiff with a
    Content-ID, an image without one) is listed as an attachment, not lost;
  - a file in the alternative not shown (Apple Mail puts it in the HTML
    branch only) is listed in the text view too;
  - an attachment named with a right-to-left override
    ("invoice<U+202E>fdp.exe", shown as "invoiceexe.pdf") is listed and
    downloaded without it;
  - a sender name with a right-to-left override is isolated (<bdi>), so
    it cannot turn the real address after it around ("<moc.lapyap@zk.ti>"
    read as "<it.kz@paypal.com>");
  - a bounce's unnamed delivery-status report downloads as .txt, and its
    sender, MAILER-DAEMON, is not offered as a contact.
And the list of an empty folder asked for a later page (a bookmark, or the
last messages moved away from page 2) is its first page: "No messages"
without a link to a "newer page", in a listing and in a search."""
import base64
import html
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures

PNG = base64.b64encode(base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))


def mail(subject, content_type, body):
    return (b"From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: " +
            subject.encode() + b"\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)


def image(ctype, cid):
    return (b"--b\r\nContent-Type: " + ctype.encode() + b"\r\nContent-ID: <" + cid.encode() +
            b">\r\nContent-Transfer-Encoding: base64\r\n\r\n" + PNG + b"\r\n")


def html_part(text, cid=None):
    return (b"--b\r\nContent-Type: text/html; charset=us-ascii\r\n" +
            (b"Content-ID: <" + cid.encode() + b">\r\n" if cid else b"") + b"\r\n" +
            text.encode() + b"\r\n")


def deliver_all(store):
    store.deliver("bob@example.com", mail(
        "Related with start", 'multipart/related; boundary="b"; type="text/html"; '
        'start="<root@x>"', image("image/png", "logo@x") +
        html_part('<p>The root body<img src="cid:logo@x"></p>', "root@x") + b"--b--\r\n"))
    store.deliver("bob@example.com", mail(
        "Related jpg", 'multipart/related; boundary="b"',
        html_part('<p>A photo<img src="cid:photo@x"></p>') + image("image/jpg", "photo@x") +
        b"--b--\r\n"))
    store.deliver("bob@example.com", mail(
        "Related tiff", 'multipart/related; boundary="b"',
        html_part('<p>A scan<img src="cid:scan@x"></p>') + image("image/tiff", "scan@x") +
        image("image/png", "unused@x").replace(b"Content-ID: <unused@x>\r\n", b"") +
        b"--b--\r\n"))
    store.deliver("bob@example.com", mail(
        "Alternative related", 'multipart/alternative; boundary="a"',
        b"--a\r\nContent-Type: text/plain\r\n\r\nA photo.\r\n"
        b'--a\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n' +
        html_part('<p>A photo<img src="cid:pic@x"></p>') + image("image/png", "pic@x") +
        b"--b--\r\n--a--\r\n"))
    # Apple Mail's shape: the file is in the HTML branch only
    store.deliver("bob@example.com", mail(
        "Apple attachment", 'multipart/alternative; boundary="a"',
        b"--a\r\nContent-Type: text/plain\r\n\r\nSee the plan.\r\n"
        b'--a\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
        html_part("<p>See the plan.</p>") +
        b"--b\r\nContent-Type: application/pdf; name=plan.pdf\r\nContent-Disposition: inline; "
        b"filename=plan.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
        html_part("<p>Thanks.</p>") + b"--b--\r\n--a--\r\n"))
    # a bounce (RFC 3464): its unnamed status report is text
    store.deliver("bob@example.com", mail(
        "Undelivered Mail Returned to Sender",
        'multipart/report; report-type=delivery-status; boundary="b"',
        b"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
        b"mail.example.com\r\n\r\nFinal-Recipient: rfc822; x@example.org\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\n\r\n--b\r\nContent-Type: application/x-unknown\r\n\r\nxx\r\n"
        b"--b--\r\n").replace(b"From: Ann <ann@example.com>",
                               b"From: Mail Delivery System <MAILER-DAEMON@mail.example.com>"))
    store.deliver("bob@example.com", mail(
        "Bidi sender", "text/plain; charset=us-ascii", b"Hello.\r\n").replace(
        b"From: Ann <ann@example.com>", b"From: =?utf-8?q?=E2=80=AESupport?= <moc.lapyap@zk.ti>"))
    store.deliver("bob@example.com", mail(
        "Bidi attachment", 'multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe invoice.\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        b"filename*=UTF-8''invoice%E2%80%AEfdp.exe\r\n\r\nMZ\r\n--b--\r\n"))


def frame(server, c, page):
    """The message frame's HTML, or ''."""
    src = re.search(r'<iframe class="html" src="([^"]+)"', page.text)
    if src is None:
        return ""
    r = c.get(html.unescape(src.group(1))[len(server.base):])
    return r.text if r.status == 200 else ""


def related_start(server, c):
    mb, uid = c.find("Related with start")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    body = frame(server, c, r)
    check("The root body" in body, "related with start=: the root (the second part) is shown")
    check(re.search(r'<img src="/webmail/part\?[^"]*inline=1">', body) is not None,
          "related with start=: ... with its cid: image")
    check('class="attachments"' not in r.text,
          "related with start=: the image is not listed as an attachment")


def related_jpg(server, c):
    mb, uid = c.find("Related jpg")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    body = frame(server, c, r)
    src = re.search(r'<img src="(/webmail/part\?[^"]*inline=1)">', body)
    check(src is not None, "an image/jpg cid: image is shown (%s)" % body[body.find("<p>"):][:80])
    if src is not None:
        p = c.get(html.unescape(src.group(1))[len(server.base):])
        check(p.status == 200 and p.getheader("Content-Type") == "image/jpeg",
              "... served as image/jpeg (%d %s)" % (p.status, p.getheader("Content-Type")))


def related_tiff(server, c):
    mb, uid = c.find("Related tiff")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check('class="attachments"' in r.text and "image/tiff" in r.text,
          "a related image/tiff part that cannot be shown is listed as an attachment")
    check("image/png" in r.text,
          "a related image without a Content-ID is listed as an attachment")


def alternative_attachment(server, c):
    """A file in the alternative not shown is listed, once, in either view;
    the cid: image of a related HTML branch is not (it is that branch's)."""
    for view in ("text", "html"):
        token = c.csrf("/settings")
        c.post("/settings", {"csrf": token, "section": "prefs", "view": view})
        mb, uid = c.find("Apple attachment")
        r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
        check(r.text.count("plan.pdf") >= 1 and 'class="attachments"' in r.text,
              "%s view: the PDF of the HTML branch of an alternative is listed" % view)
        mb, uid = c.find("Alternative related")
        r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
        check('class="attachments"' not in r.text,
              "%s view: the cid: image of an alternative's related HTML is no attachment" % view)


def bidi_sender(c):
    mb, uid = c.find("Bidi sender")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check("<strong><bdi>\u202eSupport</bdi></strong> &lt;moc.lapyap@zk.ti&gt;" in r.text,
          "a sender name with a right-to-left override is isolated from the address")
    r = c.get("/list?mb=%s" % mb)
    check("<bdi>\u202eSupport</bdi></span>" in r.text,
          "... and in the message list, from the subject after it")


def bidi_attachment(c):
    mb, uid = c.find("Bidi attachment")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check("invoicefdp.exe" in r.text and "\u202e" not in r.text,
          "an attachment name is listed without its right-to-left override")
    href = re.search(r'href="/webmail(/part\?[^"]+)" class="name"', r.text)
    d = c.get(html.unescape(href.group(1))).getheader("Content-Disposition") if href else ""
    check("invoicefdp.exe" in d and "%E2%80%AE" not in d.upper(),
          "... and downloads without it (%s)" % d)


def report_part_names(c):
    mb, uid = c.find("Undelivered Mail Returned to Sender")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check("part-2.txt" in r.text and "part-3.bin" in r.text,
          "a bounce's unnamed delivery status is part-2.txt, an unknown part part-3.bin")
    check("Add to contacts" not in r.text, "MAILER-DAEMON is not offered as a contact")
    mb, uid = c.find("Apple attachment")
    check("Add to contacts" in c.get("/msg?mb=%s&uid=%s" % (mb, uid)).text,
          "... a person is")


def move_menu(c):
    r = c.get("/list")
    sel = re.search(r'<select id="moveto" name="to">(.*?)</select>', r.text).group(1)
    check(sel.startswith('<option value="" selected disabled>Move to…</option>'),
          "the Move menu starts on \"Move to…\", not on a folder")
    opts = re.findall(r'<option value="\d+"( disabled)?>([^<]*)</option>', sel)
    check(opts and opts[0] == (" disabled", "Inbox") and
          all(not d for d, label in opts[1:]),
          "the Move menu offers every folder but the one shown (%s)" % opts[:3])
    # Move with the menu on "Move to…" (the browser sends no folder):
    # nothing moves, and the page says why
    mb, uid = c.find("Apple attachment")
    before = c.get("/list").text.count('class="subject"')
    token = c.csrf()
    for op in ("move", "copy"):
        r = c.post("/action", {"mb": mb, "uid": uid, "op": op, "csrf": token})
        loc = r.getheader("Location", "")
        check(r.status == 303 and "done=nofolder" in loc, "%s without a folder: back (%d %s)"
              % (op, r.status, loc))
        r = c.get(loc[len(c.server.base):])
        check('<p class="notice" role="status">Nothing moved: choose a folder in the “Move to…” menu first.'
              in r.text and r.text.count('class="subject"') == before,
              "... nothing moved or copied, and the page says why, as a hint, not a success")
        ticked = re.findall(r'value="(\d+)" id="sel\d+" aria-label="[^"]*" checked', r.text)
        check(ticked == [uid], "... with the message still ticked, to choose a folder and go on (%s)"
              % ticked)
    for bad in ("abc", "0", "1,,2", "99999999999", ",".join(["1"] * 500), "1:", ":1", "0:1",
                "2:1:1", "1:99999999999"):
        r = c.get("/list?sel=" + bad)
        ticked = re.findall(r'value="(\d+)" id="sel\d+" aria-label="[^"]*" checked', r.text)
        check(r.status == 200 and set(ticked) <= {"1"},
              "a list with sel=%s... ticks nothing it should not (%s)" % (bad[:12], ticked))


def empty_folder_paging(c):
    r = c.get("/list")
    trash = re.search(r'href="/webmail/list\?mb=(\d+)"[^>]*>(?:\s*<[^>]*>)*\s*Trash', r.text).group(1)
    for query in ("", "&subject=nothing"):
        r = c.get("/list?mb=%s&page=3%s" % (trash, query))
        check(r.status == 200 and "No messages" in r.text and 'rel="prev"' not in r.text and
              "page=2" not in r.text,
              "an empty folder's page 3%s: no link to a newer page" % (" (search)" if query else ""))


def search_all_folders(c, store):
    """A search "In: All folders" finds mail in every folder, each row saying
    where; its ticks name the folder too (Select all ticks them all), and a
    row opens the message in its own folder."""
    r = c.get("/list")
    archive = re.search(r'href="/webmail/list\?mb=(\d+)"[^>]*>(?:\s*<[^>]*>)*\s*Archive', r.text).group(1)
    token = c.csrf()
    mb, uid = c.find("Related jpg")
    c.post("/action", {"mb": mb, "uid": uid, "op": "move", "to": archive, "csrf": token})
    mb, uid = c.find("Related tiff")
    c.post("/action", {"mb": mb, "uid": uid, "op": "copy", "to": archive, "csrf": token})
    r = c.get("/list?subject=Related+jpg")
    check("Nothing matches this search." in r.text, "a search of the Inbox no longer finds a moved message")
    r = c.get("/list?subject=Related&in=all")
    rows = re.findall(r'<a href="([^"]+)" class="open">.*?<span class="subject">'
                      r'(?:<span class="tag infolder">([^<]*)</span> )?<bdi>([^<]*)</bdi>', r.text, re.S)
    found = sorted((subject, folder) for _, folder, subject in rows)
    check(found == [("Alternative related", "Inbox"), ("Related jpg", "Archive"),
                    ("Related tiff", "Archive"), ("Related tiff", "Inbox"), ("Related with start", "Inbox")],
          "In: All folders finds the Inbox's and the Archive's, each row naming its folder (%s)" % found)
    check('<option value="all" selected>All folders</option>' in r.text and
          "<title>Search in all folders" in r.text,
          "... the form keeps the choice and the title says where it looked")
    ticks = re.findall(r'name="uid" value="(\d+):(\d+)" id="sel\d+-\d+" aria-label="Select: ([^"]*)"',
                       r.text)
    inbox = re.search(r'name="mb" value="(\d+)"', r.text).group(1)
    check('<option value="%s">Inbox</option>' % inbox in r.text,
          "... the Inbox is a folder to move to from there (rows of other folders)")
    check(len(ticks) == 5 and 'aria-label="Selected messages"' in r.text
          and 'value="junk"' not in r.text and "Found in all your folders" in r.text,
          "... each row's tick names its folder; the toolbar has no Junk (it depends on the folder)")
    check(all("in=all" in unescape_href(h) for h in re.findall(r'class="sorts".*?</div>', r.text, re.S)),
          "... the sort links keep searching all folders")
    select = re.search(r'<a class="btn" href="([^"]+)">Select all</a>', r.text)
    check(select is not None and "in=all" in unescape_href(select.group(1)),
          "... Select all keeps searching all folders")
    if select is not None:
        r2 = c.get(unescape_href(select.group(1))[len(c.server.base):])
        ticked = re.findall(r'name="uid" value="(\d+:\d+)"[^>]*checked>', r2.text)
        check(sorted(ticked) == sorted("%s:%s" % (mb, uid) for mb, uid, _ in ticks) and
              ">Select none</a>" in r2.text,
              "... and ticks every row found, each naming its folder (%s)" % ticked)
    href = [h for h, folder, subject in rows if subject == "Related jpg"][0]
    r = c.get(unescape_href(href)[len(c.server.base):])
    check(r.status == 200 and '<h1 dir="auto">Related jpg</h1>' in r.text and
          "mb=%s" % archive in unescape_href(href),
          "... a row opens the message in its own folder")
    back = re.search(r'<a class="btn" href="([^"]+)">‹', r.text).group(1)
    check("in=all" in unescape_href(back), "... whose way back is to the results of all folders")
    r = c.get("/list?in=all")
    check('type="checkbox" name="uid"' in r.text and "All folders" not in r.text.split("<main")[1][:300],
          "in=all without a search is the folder's own list")
    act_on_all_folders(c, store, ticks)


def act_on_all_folders(c, store, ticks):
    """The ticks of a search in all folders act on messages of several
    folders at once, and lead back to the same results."""
    r = c.get("/list")
    shown = re.search(r'name="mb" value="(\d+)"', r.text).group(1)
    trash = re.search(r'href="/webmail/list\?mb=(\d+)"[^>]*>(?:\s*<[^>]*>)*\s*Trash', r.text).group(1)
    token = c.csrf()
    tiffs = ["%s:%s" % (mb, uid) for mb, uid, subject in ticks if subject == "Related tiff"]
    before = store.mailboxes("bob@example.com")

    def act(op, picks, **extra):
        fields = [("csrf", token), ("mb", shown), ("op", op), ("q_subject", "Related"), ("q_in", "all")]
        fields += [("uid", p) for p in picks] + list(extra.items())
        return c.post("/action", fields)

    r = act("move", tiffs)
    back = r.headers.get("location", "")
    check(r.status == 303 and "done=nofolder" in back and "sel=" + "%2C".join(tiffs).replace(":", "%3A")
          in back.replace(",", "%2C").replace(":", "%3A"),
          "Move with no folder chosen changes nothing and keeps both ticks (%s)" % back)
    r = c.get(back[len(c.server.base):])
    checked = re.findall(r'name="uid" value="(\d+:\d+)" id="sel\d+-\d+" aria-label="[^"]*" checked', r.text)
    check(sorted(checked) == sorted(tiffs), "... the list shows them ticked (%s)" % checked)
    r = act("flag", tiffs)
    back = r.headers.get("location", "")
    check(r.status == 303 and "in=all" in back and "subject=Related" in back,
          "Flag on ticks of two folders leads back to the results of all folders (%s)" % back)
    r = c.get("/list?subject=Related+tiff&in=all")
    check(r.text.count('class="msg flagged"') == 2, "... and flags the message in each folder")
    r = act("delete", tiffs)
    after = store.mailboxes("bob@example.com")
    check(r.status == 303 and after["Trash"][0] == before["Trash"][0] + 2 and
          after["INBOX"][0] == before["INBOX"][0] - 1 and after["Archive"][0] == before["Archive"][0] - 1,
          "Delete moves both to Trash (%s -> %s)" % (before, after))
    r = c.get("/list?subject=Related+tiff&in=all")
    in_trash = re.findall(r'name="uid" value="(%s:\d+)"' % trash, r.text)
    check(len(in_trash) == 2, "... where the same search finds them")
    r = act("delete", in_trash)
    check(r.status == 200 and "Delete 2 messages in Trash for good?" in r.text and
          store.mailboxes("bob@example.com")["Trash"] == after["Trash"],
          "Delete of messages in Trash asks first, and changes nothing yet")
    r = act("delete", in_trash, confirm="yes")
    check(r.status == 303 and
          store.mailboxes("bob@example.com")["Trash"][0] == after["Trash"][0] - 2,
          "... and deletes them for good once confirmed")
    now = store.mailboxes("bob@example.com")
    r = act("flag", ["999999:1"])
    check(r.status == 404 and store.mailboxes("bob@example.com") == now,
          "a tick naming a folder that is not the user's changes nothing")
    start = [("%s:%s" % (mb, uid)) for mb, uid, subject in ticks if subject == "Related with start"]
    r = act("flag", start + ["999999:1"])
    r2 = c.get("/list?subject=Related+with+start&in=all")
    check(r.status == 404 and 'class="msg flagged"' not in r2.text and len(start) == 1,
          "... nor does it with a tick of the user's own before it: folders are checked first")
    store.admin("user", "quota", "bob@example.com", "1")
    r = act("copy", start, to=trash)
    store.admin("user", "quota", "bob@example.com", "0")
    check(r.status == 409 and "quota is full" in r.text and store.mailboxes("bob@example.com") == now,
          "a copy over quota says so, and copies nothing")
    r = c.get("/list?subject=Related&in=all")
    related = re.findall(r'name="uid" value="(\d+:\d+)"', r.text)
    total = sum(n for n, unseen in now.values())
    # room for the first folder's ticks, not for the others'
    room = sum(1 for t in related if t.split(":")[0] == related[0].split(":")[0])
    store.admin("user", "quota", "bob@example.com", "0", str(total + room))
    r = act("copy", related, to=trash)
    store.admin("user", "quota", "bob@example.com", "0", "0")
    after = store.mailboxes("bob@example.com")
    check(len({t.split(":")[0] for t in related}) >= 2 and r.status == 409 and
          "quota is full" in r.text and after == now,
          "a copy of %s (two folders) with room for the first folder's %d copies none (%d, %s)"
          % (related, room, r.status, after))
    r = act("read", ["%s:1" % shown, "1"])
    check(r.status == 400, "ticks of both forms in one form are refused")
    r = c.get("/list?subject=Related&in=all&sel=" + start[0].split(":")[1])
    check(' checked>' not in r.text, "sel=UID alone ticks nothing in the list of all folders")


def unescape_href(h):
    return h.replace("&amp;", "&")


def main():
    store = webenv.Store()
    deliver_all(store)
    servers = []
    try:
        servers.append(webenv.Webmaild(store))
        c = webenv.Client(servers[0])
        c.login()
        related_start(servers[0], c)
        related_jpg(servers[0], c)
        related_tiff(servers[0], c)
        alternative_attachment(servers[0], c)
        bidi_attachment(c)
        bidi_sender(c)
        report_part_names(c)
        move_menu(c)
        empty_folder_paging(c)
        search_all_folders(c, store)
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


main()
