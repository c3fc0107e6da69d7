#!/usr/bin/env python3
"""Settings, identities, password change, folder management, copy and quota
over real HTTP, against pillarbox-webmaild, Apache + webmail.cgi and nginx +
fcgiwrap + webmail.cgi sharing one store (each server gets its own user, so
what one changes cannot hide a failure on another):
  - identities: the main address and an alias are listed; a name and a
    signature are saved and shown (escaped); another user's address and an
    over-long name are refused;
  - preferences (page size, zone, text/HTML, remote images) persist and are
    seen by another session of the same user;
  - folders: create (top level and inside a parent), invalid and duplicate
    names refused with a clear message, rename (children follow), delete
    after a confirmation that counts the messages, subscribe/unsubscribe;
    INBOX and Sent cannot be renamed or deleted;
  - copying messages to a folder (op=copy) keeps the originals;
  - the quota is shown;
  - password: no or a wrong CSRF token, a wrong current password, a
    mismatch and a short one are refused and change nothing; a good change
    signs the other session out, rotates this one's id, and only the new
    password signs in afterwards.
Then the same in headless Chromium (browser_settings.mjs) on webmaild."""
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures
PASSWORD = "first-Pass-123"
NEW_PASSWORD = "second-Pass-456"


def user_of(server):
    return "s-%s@example.com" % server.name


def login(server, user, password):
    """Signs in; returns (client, status of the POST)."""
    c = webenv.Client(server)
    r = c.get("/login")
    token = re.search(r'name="login_token" value="([0-9a-f]+)"', r.text).group(1)
    r = c.post("/login", {"login_token": token, "address": user, "password": password})
    return c, r.status


def folder_ids(client):
    """{name: id} from the folder management page."""
    r = client.get("/folders")
    ids = {}
    for m in re.finditer(r'<tr class="depth\d" id="folder(\d+)">\s*<th scope="row"><span class="fname" '
                         r'title="([^"]*)">', r.text):
        ids[m.group(2).replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&")] = m.group(1)
    return ids


def setup_store(store, servers):
    for s in servers:
        u = user_of(s)
        store.admin("user", "add", u, stdin=PASSWORD + "\n")
        store.admin("alias", "add", "team-%s@example.com" % s.name, u)
        store.admin("user", "quota", u, str(10 * 1024 * 1024), "100")
        for i in range(2):
            store.deliver(u, "From: Sender %d <sender%d@example.net>\r\nTo: %s\r\n"
                             "Subject: Copy me %d\r\nDate: Mon, 1 Jan 2024 10:0%d:00 +0000\r\n\r\n"
                             "Body %d.\r\n%s\r\n" % (i, i, u, i, i, i, "x" * 2000))


def identities(server, c):
    u = user_of(server)
    alias = "team-%s@example.com" % server.name
    r = c.get("/settings")
    check(r.status == 200 and 'value="%s"' % u in r.text and 'value="%s"' % alias in r.text,
          "%s: the settings list the main address and the alias as identities" % server.name)
    token = c.csrf("/settings")
    r = c.post("/settings", {"csrf": token, "section": "identity", "address": alias.upper(),
                             "name": "Sales <Team> Ünïcode",
                             "signature": "-- \r\nThe <b>sales</b> team\r\nCall us"})
    check(r.status == 303 and "saved=identity" in r.getheader("Location", ""),
          "%s: an identity's name and signature are saved (%d)" % (server.name, r.status))
    r = c.get("/settings?saved=identity")
    check('value="Sales &lt;Team&gt; Ünïcode"' in r.text,
          "%s: ... the name is shown again, escaped" % server.name)
    check("\n-- \nThe &lt;b&gt;sales&lt;/b&gt; team\nCall us</textarea>" in r.text,
          "%s: ... and the signature, escaped, line ends kept" % server.name)
    check("Your identity was saved." in r.text, "%s: ... with a notice" % server.name)
    r = c.post("/settings", {"csrf": token, "section": "identity", "address": "bob@example.com",
                             "name": "Not Bob", "signature": ""})
    check(r.status == 400 and "not one of your addresses" in r.text,
          "%s: another user's address cannot be an identity (%d)" % (server.name, r.status))
    r = c.post("/settings", {"csrf": token, "section": "identity", "address": u,
                             "name": "é" * 100, "signature": ""})
    check(r.status == 400 and "The name is too long" in r.text,
          "%s: a name over 128 bytes is refused with a clear message (%d)" % (server.name, r.status))
    r = c.post("/settings", {"csrf": token, "section": "identity", "address": u,
                             "name": "Main Name", "signature": "x" * 4001})
    check(r.status == 400 and "The signature is too long" in r.text,
          "%s: a signature over 4000 bytes is refused (%d)" % (server.name, r.status))
    r = c.get("/settings")
    check('value="Main Name"' not in r.text, "%s: ... and nothing was saved" % server.name)
    r = c.post("/settings", {"csrf": token, "section": "identity", "address": u,
                             "name": "", "signature": "-- \r\nMain sig"})
    body = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', c.get("/compose").text, re.S)
    check(r.status == 303 and body is not None and body.group(1).count("-- \n") == 1 and
          body.group(1).endswith("\n-- \nMain sig\n"),
          "%s: a signature typed with its own '-- ' gets no second one (%r)" %
          (server.name, body and body.group(1)))


def display_name(server, store, c):
    """An identity without a name makes the compose page say that mail goes
    out as a bare address, linking to where the name is set; a user added
    with `pillarbox user add --name` sends with that name from the start."""
    u = user_of(server)
    r = c.get("/compose")
    check("Your mail goes out without your name" in r.text and
          'href="/webmail/settings#identity0">Add your name</a>' in r.text,
          "%s: compose says the main address has no name yet, and where to add one" % server.name)
    token = c.csrf("/settings")
    c.post("/settings", {"csrf": token, "section": "identity", "address": u, "name": "Main Name",
                         "signature": ""})
    check("Your mail goes out without your name" not in c.get("/compose").text,
          "%s: ... and once it has one, says nothing" % server.name)
    named = "named-%s@example.com" % server.name
    store.admin("user", "add", named, "--name", "Ann Lee", stdin=PASSWORD + "\n")
    n, st = login(server, named, PASSWORD)
    r = n.get("/compose")
    check(st == 303 and "Ann Lee &lt;%s&gt;</option>" % named in r.text and
          "Your mail goes out without your name" not in r.text,
          "%s: a user added with --name sends as that name" % server.name)


def preferences(server, c, other):
    token = c.csrf("/settings")
    r = c.post("/settings", {"csrf": token, "section": "prefs", "page_size": "25", "tz": "60",
                             "view": "text", "remote_images": "known"})
    check(r.status == 303, "%s: the preferences are saved (%d)" % (server.name, r.status))
    for who, client in (("this session", c), ("another session", other)):
        r = client.get("/settings")
        ok = ('<option value="25" selected>' in r.text and '<option value="60" selected>' in r.text
              and 'name="view" value="text" checked' in r.text
              and 'name="remote_images" value="known" checked' in r.text)
        check(ok, "%s: %s sees page size, zone, text view and remote images" % (server.name, who))
    r = c.post("/settings", {"csrf": token, "section": "prefs", "page_size": "50", "tz": "0",
                             "view": "html", "remote_images": "never"})
    r = c.get("/settings")
    check('name="remote_images" value="never" checked' in r.text and
          'name="view" value="html" checked' in r.text,
          "%s: ... and can be set back" % server.name)


def time_zones(server, store):
    """A named zone follows summer time: a message from January and one from
    July, both sent at 10:00 UTC, read 11:00 and 12:00 in Europe/Berlin;
    a fixed offset reads both as 11:00. A zone not in tzdata's list, or a
    path, is refused and changes nothing. (A user of its own: the other
    checks count this one's messages.)"""
    u = "tz-%s@example.com" % server.name
    store.admin("user", "add", u, stdin=PASSWORD + "\n")
    c, st = login(server, u, PASSWORD)
    for month, day in (("Jan", "Mon, 8 Jan 2024"), ("Jul", "Mon, 8 Jul 2024")):
        store.deliver(u, "From: Clock <clock@example.net>\r\nTo: %s\r\nSubject: Zone %s\r\n"
                         "Date: %s 10:00:00 +0000\r\n\r\nTick.\r\n" % (u, month, day))
    token = c.csrf("/settings")
    r = c.get("/settings")
    check('<option value="Europe/Berlin">Europe / Berlin</option>' in r.text and
          '<option value="America/Argentina/Buenos_Aires">America / Argentina / Buenos Aires</option>'
          in r.text, "%s: the settings offer tzdata's places by name" % server.name)

    def shown(subject):
        r = c.get("/list?subject=" + subject.replace(" ", "+"))
        m = re.search(r'<a href="([^"]+)" class="open">', r.text)
        r = c.get(m.group(1).replace("&amp;", "&")[len(server.base):])
        return re.search(r"<dt>Date</dt><dd>([^<]*)</dd>", r.text).group(1)

    r = c.post("/settings", {"csrf": token, "section": "prefs", "tz": "Europe/Berlin"})
    check(r.status == 303 and '<option value="Europe/Berlin" selected>' in c.get("/settings").text,
          "%s: Europe/Berlin is saved and shown as chosen (%d)" % (server.name, r.status))
    got = (shown("Zone Jan"), shown("Zone Jul"))
    check(got == ("Mon, 8 Jan 2024 11:00 (UTC+01:00)", "Mon, 8 Jul 2024 12:00 (UTC+02:00)"),
          "%s: ... winter and summer time each in force at the message's date (%s)" % (server.name, got))
    r = c.get("/list?subject=Zone&since=2024-07-08&before=2024-07-08")
    check("Zone Jul" in r.text and "Zone Jan" not in r.text,
          "%s: ... a search by date takes the day in that zone" % server.name)
    for bad in ("Mars/Olympus_Mons", "../../../etc/passwd", "Europe/Berlin/../../x", "right/UTC"):
        r = c.post("/settings", {"csrf": token, "section": "prefs", "tz": bad})
        check(r.status == 400 and "Choose a time zone from the list." in r.text,
              "%s: the zone %r is refused (%d)" % (server.name, bad, r.status))
    check('<option value="Europe/Berlin" selected>' in c.get("/settings").text,
          "%s: ... and nothing changed" % server.name)
    c.post("/settings", {"csrf": token, "section": "prefs", "tz": "60"})
    got = (shown("Zone Jan"), shown("Zone Jul"))
    check(got == ("Mon, 8 Jan 2024 11:00 (UTC+01:00)", "Mon, 8 Jul 2024 11:00 (UTC+01:00)"),
          "%s: a fixed offset has no summer time (%s)" % (server.name, got))
    c.post("/settings", {"csrf": token, "section": "prefs", "tz": "0"})


def quota(server, c):
    r = c.get("/settings")
    check(re.search(r"<strong>[\d.]+ (B|KB)</strong> of 10 MB used", r.text) is not None
          and "of 100 messages" in r.text and "<meter" in r.text,
          "%s: the quota is shown (used of 10 MB, of 100 messages)" % server.name)
    # the folder page's total and its storage box say the same size
    r = c.get("/folders")
    total = re.search(r"All folders: ([^.]+(?:\.\d)?[^.]*)\.", r.text)
    used = re.search(r"<strong>([^<]+)</strong> of [^<]+ used", r.text)
    check(total is not None and used is not None and total.group(1) == used.group(1),
          "%s: one size on the folder page (%s, %s)" % (server.name, total and total.group(1),
                                                     used and used.group(1)))


def folders(server, store, c):
    u = user_of(server)
    r = c.get("/folders")
    check(r.status == 200 and "Your folders" in r.text, "%s: the folder page opens" % server.name)
    token = c.csrf("/folders")
    ids = folder_ids(c)
    check(all(n in ids for n in ("Inbox", "Sent", "Drafts", "Trash", "Junk", "Archive")),
          "%s: the special folders are listed (%s)" % (server.name, sorted(ids)))

    r = c.post("/folders", {"csrf": token, "op": "create", "name": " Projects ", "parent": "0"})
    check(r.status == 303 and "done=created" in r.getheader("Location", ""),
          "%s: a folder is created (%d)" % (server.name, r.status))
    ids = folder_ids(c)
    r = c.post("/folders", {"csrf": token, "op": "create", "name": "2024",
                            "parent": ids.get("Projects", "0")})
    check(r.status == 303, "%s: a subfolder is created inside it" % server.name)
    mbs = store.mailboxes(u)
    check("Projects" in mbs and "Projects/2024" in mbs,
          "%s: ... both are in the store (%s)" % (server.name, sorted(mbs)))
    r = c.get("/list")
    check('<span class="label">Projects</span>' in r.text, "%s: ... and in the sidebar" % server.name)
    for name, parent, want in (("a/b", "0", 'cannot contain "/"'),
                               ("..", "0", "cannot be used as a folder name"),
                               ("   ", "0", "Enter a name"),
                               ("Projects", "0", "exists already"),
                               ("x" * 300, "0", "too long"),
                               ("Bad\x01", "0", "control characters")):
        r = c.post("/folders", {"csrf": token, "op": "create", "name": name, "parent": parent})
        check(r.status == 400 and want.replace('"', "&quot;") in r.text,
              "%s: creating %r is refused: %s (%d)" % (server.name, name[:20], want, r.status))
    check(sorted(store.mailboxes(u)) == sorted(mbs), "%s: ... and nothing was created" % server.name)

    # INBOX and Sent are protected
    ids = folder_ids(c)
    for label, name in (("Inbox", "INBOX"), ("Sent", "Sent")):
        r = c.post("/folders", {"csrf": token, "op": "rename", "mb": ids[label], "name": "Other",
                               "parent": "0"})
        check(r.status == 409 and "special folder" in r.text,
              "%s: %s cannot be renamed (%d)" % (server.name, label, r.status))
        r = c.post("/folders", {"csrf": token, "op": "delete", "mb": ids[label], "confirm": "yes"})
        check(r.status == 409 and "cannot be deleted" in r.text,
              "%s: %s cannot be deleted (%d)" % (server.name, label, r.status))
        r = c.get("/folders?edit=%s" % ids[label])
        check(r.status == 409, "%s: %s has no rename form" % (server.name, label))
        check(name in store.mailboxes(u), "%s: %s is still there" % (server.name, name))
        check("Other" not in store.mailboxes(u), "%s: ... and nothing was renamed" % server.name)
    r = c.get("/folders")
    row = re.search(r'id="folder%s">.*?</tr>' % ids["Inbox"], r.text, re.S).group(0)
    check("Protected" in row and "Rename" not in row, "%s: the Inbox row offers no rename" % server.name)

    # copy two messages into Projects/2024: the originals stay
    inbox = ids["Inbox"]
    r = c.get("/list?mb=%s" % inbox)
    uids = re.findall(r'name="uid" value="(\d+)"', r.text)
    r = c.post("/action", [("csrf", token), ("mb", inbox), ("op", "copy"),
                           ("to", ids["Projects/2024"])] + [("uid", u) for u in uids])
    mbs = store.mailboxes(u)
    check(r.status == 303 and mbs["INBOX"][0] == 2 and mbs["Projects/2024"][0] == 2,
          "%s: op=copy copies and keeps the originals (%s)" % (server.name, mbs))
    r = c.get("/list?mb=%s" % inbox)
    check('value="copy"' in r.text and ">Copy</button>" in r.text,
          "%s: the list has a Copy button" % server.name)

    # rename Projects -> Work: the child follows
    r = c.get("/folders?edit=%s" % ids["Projects"])
    check(r.status == 200 and 'name="op" value="rename"' in r.text and
          '<option value="%s"' % ids["Projects/2024"] not in r.text,
          "%s: the rename form does not offer the folder's own subfolder as parent" % server.name)
    r = c.post("/folders", {"csrf": token, "op": "rename", "mb": ids["Projects"],
                            "name": "Projects", "parent": ids["Projects/2024"]})
    check(r.status == 400 and "into itself" in r.text,
          "%s: a folder cannot move into its own subfolder (%d)" % (server.name, r.status))
    r = c.post("/folders", {"csrf": token, "op": "rename", "mb": ids["Projects"], "name": "Work",
                            "parent": "0"})
    mbs = store.mailboxes(u)
    check(r.status == 303 and "Work" in mbs and "Work/2024" in mbs and "Projects" not in mbs,
          "%s: renaming moves the subfolders too (%s)" % (server.name, sorted(mbs)))
    check(mbs.get("Work/2024", (0,))[0] == 2, "%s: ... with their messages" % server.name)

    # subscribe / unsubscribe
    ids = folder_ids(c)
    r = c.post("/folders", {"csrf": token, "op": "unsubscribe", "mb": ids["Work"]})
    check(r.status == 303, "%s: a folder is unsubscribed" % server.name)
    r = c.get("/list")
    check('<span class="label">Work</span>' not in r.text,
          "%s: ... and hidden in the sidebar" % server.name)
    hint = re.search(r'<p class="hidden-folders"><a href="[^"]*/folders">(\d+) folders? not shown</a>',
                     r.text)
    check(hint is not None and int(hint.group(1)) >= 1,
          "%s: ... which says folders are left out and links to them" % server.name)
    r = c.get("/folders")
    row = re.search(r'id="folder%s">.*?</tr>' % ids["Work"], r.text, re.S).group(0)
    check('value="subscribe"' in row, "%s: ... the folder page offers to subscribe it" % server.name)
    c.post("/folders", {"csrf": token, "op": "subscribe", "mb": ids["Work"]})
    r = c.get("/list")
    check('<span class="label">Work</span>' in r.text,
          "%s: subscribed again, it is back" % server.name)
    n_after = re.search(r'(\d+) folders? not shown', r.text)
    check(n_after is None or int(n_after.group(1)) == int(hint.group(1)) - 1,
          "%s: ... and counted as shown" % server.name)

    # delete: a confirmation step that counts the messages (the subfolder's too)
    r = c.post("/folders", {"csrf": token, "op": "delete", "mb": ids["Work"]})
    loc = r.getheader("Location", "")
    check(r.status == 303 and "delete=%s" % ids["Work"] in loc,
          "%s: delete without confirming leads to the confirmation (%s)" % (server.name, loc))
    check("Work" in store.mailboxes(u), "%s: ... and deletes nothing yet" % server.name)
    r = c.get("/folders?delete=%s" % ids["Work"])
    check(r.status == 200 and "<strong>2 messages</strong>" in r.text and "Work/2024" in r.text
          and 'name="confirm" value="yes"' in r.text,
          "%s: the confirmation says 2 messages and names the subfolder" % server.name)
    r = c.post("/folders", {"csrf": token, "op": "delete", "mb": ids["Work"], "confirm": "yes"})
    mbs = store.mailboxes(u)
    check(r.status == 303 and "Work" not in mbs and "Work/2024" not in mbs,
          "%s: confirmed, the folder and its subfolder are gone (%s)" % (server.name, sorted(mbs)))
    check(mbs["INBOX"][0] == 2, "%s: ... the Inbox's messages are untouched" % server.name)
    r = c.post("/folders", {"csrf": "0" * 64, "op": "create", "name": "Forged", "parent": "0"})
    check(r.status == 403 and "Forged" not in store.mailboxes(u),
          "%s: a folder POST with a wrong token is refused" % server.name)


def password(server, c, other):
    u = user_of(server)
    token = c.csrf("/password")
    fields = {"old_password": PASSWORD, "new_password": NEW_PASSWORD,
              "new_password2": NEW_PASSWORD}
    for what, extra in (("no token", {}), ("a wrong token", {"csrf": "0" * 64})):
        r = c.post("/password", dict(fields, **extra))
        check(r.status == 403, "%s: a password change with %s is refused (%d)"
              % (server.name, what, r.status))
    r = c.post("/password", dict(fields, csrf=token, old_password="not-the-password"))
    check(r.status == 403 and "current password is not right" in r.text,
          "%s: a wrong current password is refused (%d)" % (server.name, r.status))
    # logged in the one form of client events (store/log.h), the address canonical
    check(re.search(r"webmail: password-wrong user=<%s> rip=(127\.0\.0\.1|::1) mech=form"
                    % re.escape(u), server.log()) is not None,
          "%s: the wrong current password is logged as a client event" % server.name)
    r = c.post("/password", dict(fields, csrf=token, new_password2="something-else-1"))
    check(r.status == 400 and "not the same" in r.text,
          "%s: two different new passwords are refused (%d)" % (server.name, r.status))
    r = c.post("/password", {"csrf": token, "old_password": PASSWORD, "new_password": "short1",
                             "new_password2": "short1"})
    check(r.status == 400 and "too short" in r.text and "at least 10 characters" in r.text,
          "%s: a short new password is refused with the rule (%d)" % (server.name, r.status))
    _, st = login(server, u, NEW_PASSWORD)
    check(st == 403, "%s: ... after all of that the new password does not sign in" % server.name)
    check(other.get("/list").status == 200, "%s: ... and the other session lives" % server.name)

    old_cookie = c.cookies.get("pbx_session")
    r = c.post("/password", dict(fields, csrf=token))
    check(r.status == 303 and "saved=password" in r.getheader("Location", ""),
          "%s: the password is changed (%d %s)" % (server.name, r.status, r.text[:300]))
    check(c.cookies.get("pbx_session") not in (None, old_cookie),
          "%s: ... this session got a new id" % server.name)
    r = c.get("/settings?saved=password")
    check(r.status == 200 and "Your password was changed" in r.text,
          "%s: ... and stays signed in" % server.name)
    stale = webenv.Client(server)
    stale.cookies = {"pbx_session": old_cookie}
    r = stale.get("/list")
    check(r.status == 303 and "/login" in r.getheader("Location", ""),
          "%s: ... the old session id is worthless" % server.name)
    r = other.get("/list")
    check(r.status == 303 and "/login" in r.getheader("Location", ""),
          "%s: ... the other session was signed out" % server.name)
    _, st = login(server, u, PASSWORD)
    check(st == 403, "%s: the old password no longer signs in" % server.name)
    _, st = login(server, u, NEW_PASSWORD)
    check(st == 303, "%s: the new one does" % server.name)


def browser(server, store):
    user = "browser@example.com"
    store.admin("user", "add", user, stdin=PASSWORD + "\n")
    store.admin("user", "quota", user, str(50 * 1024 * 1024), "0")
    store.deliver(user, "From: Ann <ann@example.net>\r\nTo: %s\r\nSubject: Keep a copy\r\n"
                        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nHello.\r\n" % user)
    webenv.run_scenario("browser_settings.mjs", server, "settings-" + server.name,
                        user, PASSWORD, NEW_PASSWORD, timeout=180)
    mbs = store.mailboxes(user)
    check(mbs.get("Bills", (0,))[0] == 1 and mbs["INBOX"][0] == 1 and "Receipts" not in mbs,
          "%s: ... the store agrees (%s)" % (server.name, mbs))


def main():
    store = webenv.Store()
    servers = []
    try:
        servers.append(webenv.Webmaild(store))
        if webenv.is_root():
            servers.append(webenv.Apache(store))
            servers.append(webenv.Nginx(store))
        setup_store(store, servers)
        for s in servers:
            c, st = login(s, user_of(s), PASSWORD)
            other, st2 = login(s, user_of(s), PASSWORD)
            check(st == 303 and st2 == 303, "%s: two sessions signed in" % s.name)
            identities(s, c)
            display_name(s, store, c)
            preferences(s, c, other)
            time_zones(s, store)
            quota(s, c)
            folders(s, store, c)
            password(s, c, other)
        browser(servers[0], store)
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


main()
