#!/usr/bin/env python3
"""The address book over real HTTP, against pillarbox-webmaild, Apache +
webmail.cgi and nginx + fcgiwrap + webmail.cgi sharing one store:
  - "Add to contacts" on a message adds its sender (an attached message's
    sender too), and the button goes away;
  - the compose page's <datalist id="contacts"> offers the contact (as
    "Name <address>"), with script-src 'self' for complete.js;
  - contacts added, edited, filtered, deleted; the collected book apart;
  - the remote-images setting: images load only when it says "senders in
    my address book" AND the sender is in it; the default blocks them;
  - vCard export, then import into another user, gives the same book, and
    importing it again adds nothing;
  - bad input: every POST without the CSRF token is refused and changes
    nothing; another user's contacts are out of reach; a file that is not a
    vCard, a hostile one, one with more than 5,000 cards and one over
    16 MB are refused with a clear message and nothing written; 21
    addresses, an overlong name, and a full book (5,000) are refused;
  - in headless Chromium (browser_contacts.mjs, webmaild only): the button,
    the form, and complete.js completing the address after the last comma
    under the compose page's CSP."""
import os
import re
import shutil
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures
PASSWORD = "contacts-Secret-9"


def unescape(s):
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&#39;", "'").replace("&amp;", "&"))


def multipart(fields, files):
    boundary = "----pbx%d" % int(time.time() * 1000)
    out = []
    for k, v in fields.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, k, v)).encode())
    for k, (name, data) in files.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: text/vcard\r\n\r\n" % (boundary, k, name)).encode())
        out.append(data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def upload(client, data, csrf=True, name="contacts.vcf"):
    fields = {"csrf": client.csrf("/contacts")} if csrf else {}
    body, ctype = multipart(fields, {"file": (name, data)})
    return client.request("POST", "/contacts/import", body=body,
                          headers={"Content-Type": ctype})


def book(client, which="personal", q=None):
    """[(name, [addresses])] of one book, as the page lists it."""
    path = "/contacts?book=%s" % which + ("&q=%s" % q if q else "")
    r = client.get(path)
    rows = []
    for m in re.finditer(r'<tr>\s*<td><input type="checkbox" name="id" value="(\d+)".*?</tr>',
                         r.text, re.S):
        row = m.group(0)
        name = re.search(r'<th scope="row"><a [^>]*>(.*?)</a></th>', row, re.S).group(1)
        if "(no name)" in name:
            name = ""
        addrs = [unescape(a) for a in re.findall(r'<a class="addr" [^>]*>(.*?)</a>', row)]
        rows.append((unescape(name), addrs, int(m.group(1))))
    return rows


def names(rows):
    return [(n, a) for n, a, _ in rows]


def inbox(client):
    r = client.get("/list")
    return re.search(r'name="mb" value="(\d+)"', r.text).group(1)


def uid_of(client, subject):
    r = client.get("/list?sort=date&dir=desc")
    m = re.search(r'value="(\d+)" id="sel\d+" aria-label="Select: %s"' % re.escape(subject), r.text)
    return m.group(1) if m else None


def frame_src(page):
    m = re.search(r'<iframe class="html" src="([^"]+)"', page)
    return unescape(m.group(1)) if m else ""


def new_user(store, tag):
    address = "%s@example.com" % tag
    store.admin("user", "add", address, stdin=PASSWORD + "\n")
    return address


def login(server, address):
    c = webenv.Client(server)
    c.login(address, PASSWORD)
    return c


def deliver_fixtures(store, user):
    store.deliver(user, "From: =?utf-8?q?Zo=C3=AB_Sender?= <zoe@example.net>\r\nTo: %s\r\n"
                        "Subject: Hello from Zoe\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n"
                        "Hi.\r\n" % user)
    store.deliver(user, "From: News <news@example.org>\r\nTo: %s\r\nSubject: Pictures inside\r\n"
                        "Date: Mon, 1 Jan 2024 11:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                        "Content-Type: text/html; charset=utf-8\r\n\r\n"
                        "<p>Look: <img src=\"https://tracker.example.net/pixel.png\" alt=\"px\"></p>\r\n"
                        % user)
    store.deliver(user, "From: Fwd Person <fwd@example.com>\r\nTo: %s\r\nSubject: Forwarding\r\n"
                        "Date: Mon, 1 Jan 2024 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                        "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
                        "Content-Type: text/plain\r\n\r\nSee below.\r\n--b1\r\n"
                        "Content-Type: message/rfc822\r\n\r\n"
                        "From: Inner Author <inner@example.net>\r\nSubject: Inner\r\n\r\nInner body.\r\n"
                        "--b1--\r\n" % user)


def add_sender(server, c):
    name = server.name
    mb = inbox(c)
    uid = uid_of(c, "Hello from Zoe")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check(r.status == 200 and "Add to contacts" in r.text,
          "%s: the message offers to add its sender" % name)
    token = c.csrf("/msg?mb=%s&uid=%s" % (mb, uid))
    r = c.post("/contacts/add-sender", {"mb": mb, "uid": uid})
    check(r.status == 403, "%s: add-sender without the CSRF token is refused" % name)
    check(book(c) == [], "%s: ... and added nothing" % name)
    r = c.post("/contacts/add-sender", {"mb": mb, "uid": uid, "csrf": token})
    loc = r.getheader("Location", "")
    check(r.status == 303 and "contact=added" in loc, "%s: add-sender answers 303 back to the message" % name)
    r = c.get(loc[len(server.base):])
    check("zoe@example.net is in your contacts now" in r.text and "Add to contacts" not in r.text,
          "%s: the message says so and drops the button" % name)
    check(names(book(c)) == [("Zoë Sender", ["zoe@example.net"])],
          "%s: the book holds the sender with the decoded name" % name)
    # again: nothing doubles
    c.post("/contacts/add-sender", {"mb": mb, "uid": uid, "csrf": token})
    check(len(book(c)) == 1, "%s: adding the same sender again adds nothing" % name)
    # the sender of an attached message
    uid = uid_of(c, "Forwarding")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    part = re.search(r'/msg\?mb=\d+&amp;uid=\d+&amp;part=(\d+)', r.text).group(1)
    r = c.get("/msg?mb=%s&uid=%s&part=%s" % (mb, uid, part))
    check('name="part" value="%s"' % part in r.text, "%s: an attached message has its own button" % name)
    r = c.post("/contacts/add-sender", {"mb": mb, "uid": uid, "part": part, "csrf": token})
    check(r.status == 303 and "part=%s" % part in r.getheader("Location", ""),
          "%s: ... which adds the inner sender" % name)
    check(("Inner Author", ["inner@example.net"]) in names(book(c)),
          "%s: ... Inner Author is in the book" % name)
    r = c.post("/contacts/add-sender", {"mb": mb, "uid": "999999", "csrf": token})
    check(r.status == 404, "%s: add-sender for a missing message is 404" % name)


def datalist(server, c):
    """The compose page's datalist (H1's page; the partial and the data are
    ctx_contacts_datalist's)."""
    name = server.name
    r = c.get("/compose")
    if r.status == 404:
        check(False, "%s: /compose exists to show the contacts datalist" % name)
        return
    check(r.status == 200 and '<datalist id="contacts">' in r.text,
          "%s: the compose page has the contacts datalist" % name)
    options = [unescape(v) for v in re.findall(r'<option value="([^"]*)"></option>', r.text)]
    check("Zoë Sender <zoe@example.net>" in options,
          "%s: ... offering \"Zoë Sender <zoe@example.net>\" (%r)" % (name, options[:5]))
    check('"Doe, Jane" <jane2@example.com>' in options,
          "%s: ... a name with a comma quoted" % name)
    check(re.search(r'<input[^>]+list="contacts"', r.text) is not None,
          "%s: ... and To/Cc/Bcc use it" % name)
    csp = r.getheader("Content-Security-Policy", "")
    check("script-src 'self'" in csp and "default-src 'none'" in csp,
          "%s: ... the page allows our own script only (%s)" % (name, csp))
    check("/static/complete.js" in r.text, "%s: ... and loads complete.js" % name)
    js = c.get("/static/complete.js")
    check(js.status == 200 and "javascript" in js.getheader("Content-Type", "")
          and b"lastStart" in js.body, "%s: complete.js is served as JavaScript" % name)
    csp = c.get("/contacts").getheader("Content-Security-Policy", "")
    check("script-src" not in csp, "%s: other pages still allow no script" % name)


def edit_and_delete(server, c, other):
    name = server.name
    token = c.csrf("/contacts")
    base = {"name": "Doe, Jane", "emails": "jane@example.com\nJ.Doe@Work.Example", "note": "<b>note</b>"}
    r = c.post("/contacts/edit", base)
    check(r.status == 403, "%s: adding without the CSRF token is refused" % name)
    r = c.post("/contacts/edit", dict(base, csrf="0" * 64))
    check(r.status == 403, "%s: ... and with a wrong token" % name)
    check(not any(n == "Doe, Jane" for n, _, _ in book(c)), "%s: ... nothing was added" % name)
    r = c.post("/contacts/edit", dict(base, csrf=token))
    check(r.status == 303 and "saved=1" in r.getheader("Location", ""), "%s: a contact is added" % name)
    rows = book(c)
    jane = [row for row in rows if row[0] == "Doe, Jane"]
    check(len(jane) == 1 and jane[0][1] == ["jane@example.com", "J.Doe@work.example"],
          "%s: ... with both addresses, the domain lowercased" % name)
    check([n for n, _, _ in rows] == sorted([n for n, _, _ in rows], key=str.lower),
          "%s: the list is sorted by name" % name)
    jid = jane[0][2]
    page = c.get("/contacts").text
    check("&lt;b&gt;note&lt;/b&gt;" in page and "<b>note</b>" not in page,
          "%s: the note is escaped" % name)
    # the form
    r = c.get("/contacts/edit?id=%d" % jid)
    check(r.status == 200 and "J.Doe@work.example" in r.text and 'value="Doe, Jane"' in r.text,
          "%s: the edit form shows the contact" % name)
    r = c.post("/contacts/edit", {"csrf": token, "id": jid, "name": "Jane Doe",
                                  "emails": "jane@example.com", "note": ""})
    check(r.status == 303, "%s: the contact is edited" % name)
    check(("Jane Doe", ["jane@example.com"]) in names(book(c)),
          "%s: ... the name changed and an address went" % name)
    r = c.post("/contacts/edit", {"csrf": token, "name": "Impostor", "emails": "ZOE@example.net"})
    check(r.status == 422 and "already in the address book" in r.text,
          "%s: an address in another contact is refused" % name)
    # bad input on the form
    many = "\n".join("m%d@example.com" % i for i in range(21))
    r = c.post("/contacts/edit", {"csrf": token, "name": "Many", "emails": many})
    check(r.status == 422 and "at most 20" in r.text, "%s: 21 addresses are refused" % name)
    r = c.post("/contacts/edit", {"csrf": token, "name": "x" * 201, "emails": "x@example.com"})
    check(r.status == 422 and "too long" in r.text, "%s: a 201-byte name is refused" % name)
    r = c.post("/contacts/edit", {"csrf": token, "name": "Nobody", "emails": "not an address"})
    check(r.status == 422 and "at least one" in r.text, "%s: no valid address is refused" % name)
    r = c.post("/contacts/edit", {"csrf": token, "name": "Bad", "emails": "a@b@c"})
    check(r.status == 422 and "not valid" in r.text, "%s: an invalid address is refused" % name)
    r = c.post("/contacts/edit", {"csrf": token, "name": "<script>alert(1)</script>",
                                  "emails": "xss@example.com"})
    page = c.get("/contacts").text
    check(r.status == 303 and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
          and "<script>alert" not in page, "%s: a name with markup is shown escaped" % name)
    xss = [row[2] for row in book(c) if row[1] == ["xss@example.com"]][0]
    # each address links to the compose page, the name quoted as needed
    check('href="/webmail/compose?to=Jane%20Doe%20%3Cjane%40example.com%3E"' in
          c.get("/contacts?q=jane").text, "%s: an address is a link to write to it" % name)
    # the filter
    check(names(book(c, q="ZOE")) == [("Zoë Sender", ["zoe@example.net"])],
          "%s: the filter finds by address, any case" % name)
    check(names(book(c, q="jane%20doe")) == [("Jane Doe", ["jane@example.com"])],
          "%s: ... and by name" % name)
    check(book(c, q="nobody-matches") == [] and "No contact matches" in
          c.get("/contacts?q=nobody-matches").text, "%s: ... and says when nothing matches" % name)
    # another user cannot see, edit or delete it
    r = other.get("/contacts/edit?id=%d" % jid)
    check(r.status == 404 and "jane@example.com" not in r.text,
          "%s: another user's contact is not found" % name)
    r = other.post("/contacts/edit", {"csrf": other.csrf("/contacts"), "id": jid, "name": "Hijack",
                                      "emails": "hijack@example.com"})
    check(r.status == 422 and "no such contact" in r.text.lower(),
          "%s: ... nor edited" % name)
    r = other.post("/contacts/delete", {"csrf": other.csrf("/contacts"), "id": jid})
    check(r.status == 404, "%s: ... nor deleted" % name)
    # delete: CSRF first
    r = c.post("/contacts/delete", {"id": xss})
    check(r.status == 403 and any(row[2] == xss for row in book(c)),
          "%s: deleting without the CSRF token is refused" % name)
    r = c.post("/contacts/delete", {"id": xss, "csrf": token})
    check(r.status == 303 and not any(row[2] == xss for row in book(c)),
          "%s: the contact is deleted" % name)
    # a contact named like the datalist test expects
    c.post("/contacts/edit", {"csrf": token, "name": "Doe, Jane", "emails": "jane2@example.com"})
    check('href="/webmail/compose?to=%22Doe%2C%20Jane%22%20%3Cjane2%40example.com%3E"' in
          c.get("/contacts?q=jane2").text, "%s: ... the name quoted when it needs to be" % name)


def collected(server, c, other_address, store, user):
    """Recipients of mail sent from the compose page (H1's send calls
    store_contacts_collect) land in the collected book; one already in the
    address book stays where it is. Mail from a collected address still
    offers "Add to contacts", which moves it to the address book."""
    name = server.name
    page = c.get("/compose").text
    fields = {k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"',
                                                    page)}
    fields.update({"from": re.search(r'<option value="([^"]+)"', page).group(1),
                   "to": "Bee Recipient <%s>, zoe@example.net" % other_address,
                   "cc": '"Far, Away" <far@remote.example>', "bcc": "", "subject": "Collect me",
                   "body": "Hello.", "op": "send"})
    body, ctype = multipart(fields, {})
    r = c.request("POST", "/compose", body=body, headers={"Content-Type": ctype})
    check(r.status == 303, "%s: a message is sent from the compose page (%d)" % (name, r.status))
    got = names(book(c, "collected"))
    check(("Bee Recipient", [other_address]) in got and ("Far, Away", ["far@remote.example"]) in got,
          "%s: its recipients are collected (%r)" % (name, got))
    check(("Zoë Sender", ["zoe@example.net"]) in names(book(c)) and
          not any(a == ["zoe@example.net"] for _, a, _ in book(c, "collected")),
          "%s: a recipient already in the book stays a personal contact" % name)
    options = [unescape(v) for v in re.findall(r'<option value="([^"]*)"></option>',
                                               c.get("/compose").text)]
    check("Bee Recipient <%s>" % other_address in options,
          "%s: collected recipients are offered when writing" % name)
    # edited by hand, a collected contact joins the address book
    bee = [row[2] for row in book(c, "collected") if row[1] == [other_address]][0]
    r = c.get("/contacts/edit?id=%d" % bee)
    check("collected from mail you sent" in r.text, "%s: the form says it was collected" % name)
    c.post("/contacts/edit", {"csrf": c.csrf("/contacts"), "id": bee, "name": "Bee Recipient",
                              "emails": other_address, "note": "kept"})
    check(("Bee Recipient", [other_address]) in names(book(c)) and
          ("Bee Recipient", [other_address]) not in names(book(c, "collected")),
          "%s: saved by hand it moves to the address book" % name)
    far = [row[2] for row in book(c, "collected") if row[1] == ["far@remote.example"]][0]
    store.deliver(user, "From: Far Away <far@remote.example>\r\nTo: %s\r\nSubject: Reply from far\r\n"
                        "Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\nThanks.\r\n" % user)
    mb, uid = inbox(c), uid_of(c, "Reply from far")
    check("Add to contacts" in c.get("/msg?mb=%s&uid=%s" % (mb, uid)).text,
          "%s: a collected sender is still offered to the address book" % name)
    c.post("/contacts/add-sender", {"mb": mb, "uid": uid, "csrf": c.csrf("/contacts")})
    check(("Far, Away", ["far@remote.example"]) in names(book(c)) and
          not any(a == ["far@remote.example"] for _, a, _ in book(c, "collected")) and
          "Add to contacts" not in c.get("/msg?mb=%s&uid=%s" % (mb, uid)).text,
          "%s: ... and once added, moves there and the button goes" % name)
    c.post("/contacts/delete", [("csrf", c.csrf("/contacts")), ("id", far), ("id", bee)])
    check(book(c, "collected") == [] and not any(row[2] == bee for row in book(c)),
          "%s: several contacts are deleted at once" % name)


def remote_images(server, c):
    name = server.name
    mb = inbox(c)
    uid = uid_of(c, "Pictures inside")
    token = c.csrf("/settings")

    def images_loaded():
        page = c.get("/msg?mb=%s&uid=%s" % (mb, uid)).text
        src = frame_src(page)
        body = c.get(src[len(server.base):]).text if src else ""
        loaded = "images=1" in src and "tracker.example.net/pixel.png" in body
        blocked = ("Remote images in this message are blocked" in page and
                   "tracker.example.net" not in body)
        check(loaded != blocked, "%s: the page is consistent about images" % name)
        return loaded

    check(not images_loaded(), "%s: by default remote images are blocked" % name)
    r = c.post("/settings", {"csrf": token, "section": "prefs", "remote_images": "known"})
    check(r.status == 303, "%s: the setting is saved (%d)" % (name, r.status))
    check(not images_loaded(), "%s: ... still blocked for a sender not in the book" % name)
    r = c.post("/contacts/add-sender", {"mb": mb, "uid": uid, "csrf": token})
    check(r.status == 303, "%s: the newsletter's sender is added" % name)
    check(images_loaded(), "%s: ... now its images load" % name)
    c.post("/settings", {"csrf": token, "section": "prefs", "remote_images": "never"})
    check(not images_loaded(), "%s: with the setting back at 'never' they are blocked again" % name)
    nid = [row[2] for row in book(c) if row[1] == ["news@example.org"]][0]
    c.post("/contacts/delete", {"id": nid, "csrf": token})


COLLECTED_CARD = (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Collected Carl\r\nEMAIL:carl@example.net\r\n"
                  b"X-PILLARBOX-COLLECTED:TRUE\r\nEND:VCARD\r\n")


def vcard(server, c, other):
    name = server.name
    # a collected contact and an Apple-style 3.0 card through the import
    apple = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Appleseed;John;;;\r\nFN:John Appleseed\r\n"
             b"EMAIL;type=INTERNET;type=HOME:john@home.example\r\n"
             b"EMAIL;type=INTERNET;type=WORK;type=pref:John-Appleseed@mac.example\r\n"
             b"NOTE:Line one\\nLine two\\, comma\r\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRg\r\n"
             b" ABAQAAAQABAAD\r\nEND:VCARD\r\n")
    c.post("/contacts/edit", {"csrf": c.csrf("/contacts"), "name": "", "emails": "nameless@example.com"})
    check(("", ["nameless@example.com"]) in names(book(c)), "%s: a contact without a name" % name)
    r = upload(c, COLLECTED_CARD + apple, csrf=False)
    check(r.status == 403, "%s: an import without the CSRF token is refused" % name)
    check(not any(a == ["carl@example.net"] for _, a, _ in book(c, "collected")),
          "%s: ... and imported nothing" % name)
    r = upload(c, COLLECTED_CARD + apple)
    loc = r.getheader("Location", "")
    check(r.status == 303 and "added=2" in loc, "%s: a 3.0 and a 4.0 card are imported (%s)" % (name, loc))
    check(names(book(c, "collected")) == [("Collected Carl", ["carl@example.net"])],
          "%s: the collected card is in the collected book" % name)
    check(("John Appleseed", ["John-Appleseed@mac.example", "john@home.example"]) in names(book(c)),
          "%s: the Apple card with its preferred address first" % name)
    page = c.get(loc[len(server.base):]).text
    check("Import finished: 2 added" in page, "%s: the import says what it did" % name)
    # export
    r = c.get("/contacts/export")
    exported = r.body
    check(r.status == 200 and r.getheader("Content-Type", "").startswith("text/vcard")
          and "charset=utf-8" in r.getheader("Content-Type", "")
          and r.getheader("Content-Disposition", "").startswith("attachment"),
          "%s: export is a text/vcard attachment" % name)
    check(exported.count(b"BEGIN:VCARD") == len(book(c)) + len(book(c, "collected"))
          and b"FN:Zo\xc3\xab Sender\r\n" in exported and b"VERSION:4.0" in exported
          and b"NOTE:Line one\\nLine two\\, comma\r\n" in exported,
          "%s: ... one card per contact, escaped, UTF-8" % name)
    check(all(len(line) <= 75 for line in exported.split(b"\r\n")), "%s: ... folded at 75" % name)
    # into another user
    r = upload(other, exported)
    check(r.status == 303 and "added=%d" % exported.count(b"BEGIN:VCARD") in r.getheader("Location", ""),
          "%s: the export imports into another user" % name)
    check(names(book(other)) == names(book(c)) and names(book(other, "collected")) ==
          names(book(c, "collected")), "%s: ... who then has the same contacts" % name)
    check(other.get("/contacts/export").body == exported,
          "%s: ... and exports the same file" % name)
    before = len(book(other))
    r = upload(other, exported)
    check(r.status == 303 and "added=0" in r.getheader("Location", "")
          and "updated=0" in r.getheader("Location", ""),
          "%s: importing it again changes nothing (%s)" % (name, r.getheader("Location", "")))
    check(len(book(other)) == before, "%s: ... no contact doubled" % name)


def hostile(server, c):
    name = server.name
    before = names(book(c)) + names(book(c, "collected"))
    for what, data, status, text in (
            ("a text file", b"hello, world\n", 422, "not a vCard"),
            ("an empty file", b"", 400, "Choose a vCard file"),
            ("binary junk", bytes(range(256)) * 64, 422, "not a vCard"),
            ("5,001 cards", b"".join(b"BEGIN:VCARD\r\nFN:P%d\r\nEMAIL:p%d@example.com\r\nEND:VCARD\r\n"
                                     % (i, i) for i in range(5001)), 422, "more than 5000"),
            ("17 MB", b"BEGIN:VCARD\r\nNOTE:" + b"x" * (17 * 1024 * 1024) + b"\r\nEND:VCARD\r\n",
             413, "too large")):
        r = upload(c, data)
        check(r.status == status and text in r.text,
              "%s: %s is refused: %d %s" % (name, what, r.status, text))
    check(names(book(c)) + names(book(c, "collected")) == before,
          "%s: ... and nothing was imported" % name)
    # hostile but parseable: bad cards skipped, good ones kept, nothing breaks
    nasty = (b"BEGIN:VCARD\r\nFN:<img src=x onerror=alert(1)>\r\nEMAIL:nasty@example.com\r\n"
             b"EMAIL:not-an-address\r\nNOTE:\x00\x01\x1b[31m\r\nEND:VCARD\r\n"
             b"BEGIN:VCARD\r\nFN:No address\r\nEND:VCARD\r\n"
             b"BEGIN:VCARD\r\nFN:Nested\r\nBEGIN:VCARD\r\nFN:Inner\r\nEND:VCARD\r\nEND:VCARD\r\n"
             b"BEGIN:VCARD\r\nFN:" + "é".encode() * 500 + b"\r\nEMAIL:long@example.com\r\n"
             b"END:VCARD\r\nBEGIN:VCARD\r\nFN:Never ends\r\nEMAIL:never@example.com\r\n")
    r = upload(c, nasty)
    loc = r.getheader("Location", "")
    check(r.status == 303 and "added=2" in loc and "skipped=3" in loc,
          "%s: a hostile file: the good card in, the rest skipped (%s)" % (name, loc))
    page = c.get("/contacts?q=nasty").text
    check("&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page,
          "%s: ... its markup shown as text" % name)
    check(("é" * 100, ["long@example.com"]) in names(book(c, q="long@")),
          "%s: ... an overlong name cut to 200 bytes" % name)


def full_book(server, c):
    name = server.name
    token = c.csrf("/contacts")
    have = len(book(c)) + len(book(c, "collected"))
    cards = b"".join(b"BEGIN:VCARD\r\nFN:Filler %05d\r\nEMAIL:f%05d@example.com\r\nEND:VCARD\r\n"
                     % (i, i) for i in range(5000 - have))
    t = time.time()
    r = upload(c, cards)
    check(r.status == 303 and "added=%d" % (5000 - have) in r.getheader("Location", ""),
          "%s: the book fills up to 5,000 (%.1f s)" % (name, time.time() - t))
    page = c.get("/contacts").text
    check("5000 of at most 5000 contacts, both lists together" in page and "The address book is full" in page,
          "%s: ... and says it is full" % name)
    check(page.count('name="id"') == 100 and "Page 1 of" in page,
          "%s: ... the list is paged" % name)
    r = c.post("/contacts/edit", {"csrf": token, "name": "One more", "emails": "more@example.com"})
    check(r.status == 422 and "full" in r.text, "%s: one more contact is refused" % name)
    r = upload(c, b"BEGIN:VCARD\r\nFN:X\r\nEMAIL:more@example.com\r\nEND:VCARD\r\n")
    check("skipped=1" in r.getheader("Location", "") and "full=1" in r.getheader("Location", ""),
          "%s: ... and so is one more imported" % name)
    r = c.get("/compose")
    if r.status == 200:
        check(r.text.count("<option value=") >= 5000, "%s: the datalist holds them all" % name)


def browser(server, store):
    """browser_contacts.mjs in headless Chromium, when it is installed."""
    if not os.path.exists("/usr/bin/chromium") or shutil.which("npm") is None:
        print("# skipped the browser part: chromium or npm is not installed")
        return
    user = new_user(store, "browser")
    deliver_fixtures(store, user)
    webenv.run_scenario("browser_contacts.mjs", server, "contacts-" + server.name,
                        user, PASSWORD, timeout=180)


def scenario(server, store, tag, full=False):
    a = new_user(store, tag + "a")
    b = new_user(store, tag + "b")
    deliver_fixtures(store, a)
    ca, cb = login(server, a), login(server, b)
    r = ca.get("/contacts")
    check(r.status == 200 and "No contacts yet" in r.text and '/contacts">Contacts</a>' in r.text,
          "%s: an empty book, linked from the header" % server.name)
    add_sender(server, ca)
    edit_and_delete(server, ca, cb)
    datalist(server, ca)
    collected(server, ca, b, store, a)
    remote_images(server, ca)
    vcard(server, ca, cb)
    hostile(server, ca)
    if full:
        full_book(server, ca)


def main():
    store = webenv.Store()
    servers = []
    try:
        servers.append(webenv.Webmaild(store))
        scenario(servers[-1], store, "wd", full=True)
        browser(servers[-1], store)
        if webenv.is_root():
            servers.append(webenv.Apache(store))
            scenario(servers[-1], store, "ap")
            servers.append(webenv.Nginx(store))
            scenario(servers[-1], store, "ng")
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


main()
