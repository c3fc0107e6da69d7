#!/usr/bin/env python3
"""A message being written survives the end of its session, and what cannot
be undone is asked first (pillarbox-webmaild; browser_keep.mjs in Chromium).

By HTTP, with the request headers a browser sends spelled out:
  - a compose POST after the session ended, from one of our pages
    (Sec-Fetch-Site: same-origin), gets the sign-in page carrying the
    fields as escaped hidden inputs, cut to the compose limits, with a
    notice naming the files that must be attached again; signing in as the
    same user shows the compose page filled, nothing sent or saved; another
    user who signs in gets the list and never the text;
  - from another site (cross-site or same-site), or from a browser that
    does not say (no Sec-Fetch-Site), nothing is kept: the sign-in as
    before, nor from a reload (Sec-Fetch-Site: none, which may replay a
    foreign POST); nor from a foreign POST to /login carrying kept fields;
  - a stale CSRF token with a live session of the same user shows the
    compose page again with the text (403), nothing sent; another user's
    live session gets the sign-in page instead;
  - Delete for good in Trash and Empty Trash/Junk ask first: without
    confirm=yes nothing changes; Empty deletes only what it showed.
The same kept POST through webmail.cgi under Apache and nginx (as root).
Then the browser scenario: expire, sign in, send; another user; a foreign
page; another window's sign-in; the confirmation pages."""
import html
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402
from webenv import check  # noqa: E402

BOB, ALICE = "bob@example.com", "alice@example.com"
SAME = {"Sec-Fetch-Site": "same-origin"}


multipart = webenv.multipart


def post_compose(client, fields, headers=None):
    body, ctype = multipart(fields)
    h = dict(headers or {}, **{"Content-Type": ctype})
    return client.request("POST", "/compose", body=body, headers=h)


def hidden(page):
    """The sign-in form's kept fields: {name: [values]}, unescaped."""
    out = {}
    for name, value in re.findall(r'<input type="hidden" name="(k_[a-z]+)" value="([^"]*)">', page):
        out.setdefault(name, []).append(html.unescape(value))
    return out


def login_fields(page, kept, user, password):
    token = re.search(r'name="login_token" value="([0-9a-f]+)"', page).group(1)
    fields = [("login_token", token), ("address", user), ("password", password)]
    for name, values in kept.items():
        fields += [(name, v) for v in values]
    return fields


def post_login(client, fields, headers=SAME):
    from urllib.parse import urlencode
    return client.request("POST", "/login", body=urlencode(fields), headers=dict(headers))


def signed_out_client(server):
    """A browser whose session is over: it still sends a cookie that names
    none (an expired session's record is deleted)."""
    c = webenv.Client(server)
    c.get("/login")
    c.cookies["pbx_session"] = "cd" * 32
    return c


def textarea(page):
    m = re.search(r'<textarea id="body"[^>]*>\n?(.*?)</textarea>', page, re.S)
    return html.unescape(m.group(1)) if m else None


HOSTILE = 'Dear "friend" </textarea><script>alert(1)</script> & <b>bold</b>\r\nline 2'


def compose_fields(text=HOSTILE, subject="Kept <subject> & more", extra=()):
    return [("csrf", "0" * 64), ("owner", BOB), ("from", BOB), ("to", ALICE),
            ("cc", "Carol <carol@example.com>"), ("bcc", ""), ("subject", subject),
            ("body", text), ("mode", "new"), ("op", "send")] + list(extra)


def kept_over_signin(server, store):
    before = (store.mailboxes(BOB), store.mailboxes(ALICE))
    c = signed_out_client(server)
    r = post_compose(c, compose_fields(extra=[("attach", ("report.pdf", b"%PDF-1.4", "application/pdf"))]),
                     headers=SAME)
    k = hidden(r.text)
    check(r.status == 403 and "Sign in to your mail" in r.text,
          "an expired session's compose POST gets the sign-in page (%d)" % r.status)
    check("Your session expired. Sign in again to continue; your message has been kept." in r.text
          and "Attachments must be added again: report.pdf." in r.text,
          "the sign-in page says the message was kept and names the file to attach again")
    check(k.get("k_body") == [HOSTILE.replace("\r\n", "\n")] or k.get("k_body") == [HOSTILE],
          "the text is carried as a hidden field (%r)" % k.get("k_body"))
    check("<script>alert" not in r.text and "</textarea><script>" not in r.text,
          "the carried text is escaped")
    check(k.get("k_to") == [ALICE] and k.get("k_owner") == [BOB] and
          k.get("k_subject") == ["Kept <subject> & more"] and k.get("k_upload") == ["report.pdf"],
          "the fields are carried (%r)" % sorted(k))
    check('value="%s"' % BOB in r.text, "the address is filled in for the sign-in")
    check(not any("pbx_session=cdcd" in v for v in r.getheader("Set-Cookie", "").split(",")),
          "the dead session's cookie is not kept")

    # a wrong password keeps them; then another user signs in: dropped
    r2 = post_login(c, login_fields(r.text, k, BOB, "wrong"))
    check(r2.status == 403 and hidden(r2.text).get("k_body") == k.get("k_body"),
          "a wrong password shows the sign-in again, still carrying the message")
    a = webenv.Client(server)
    a.get("/login")
    r3 = post_login(a, login_fields(a.get("/login").text, k, ALICE, webenv.USERS[ALICE]))
    check(r3.status == 303 and "/list" in r3.getheader("Location", "") and "alert" not in r3.text,
          "another user who signs in gets the list, not the message (%d)" % r3.status)
    check("Kept &lt;subject&gt;" not in a.get("/compose").text,
          "... and the other user's compose page is empty")

    # the same user: the compose page, filled, nothing sent or saved
    b = webenv.Client(server)
    r4 = post_login(b, login_fields(b.get("/login").text, k, BOB, webenv.USERS[BOB]))
    check(r4.status == 200 and "<title>New message" in r4.text,
          "the same user lands on the compose page (%d)" % r4.status)
    check(textarea(r4.text) is not None and textarea(r4.text).replace("\r\n", "\n") ==
          HOSTILE.replace("\r\n", "\n"), "the text is back, as typed")
    check('value="Kept &lt;subject&gt; &amp; more"' in r4.text and
          'value="Carol &lt;carol@example.com&gt;"' in r4.text, "subject and Cc are back")
    check("report.pdf" in r4.text and "attach them again" in r4.text,
          "the compose page names the file to attach again")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r4.text)
    check(csrf is not None and csrf.group(1) == b.csrf("/list"),
          "the page carries the new session's CSRF token")
    check((store.mailboxes(BOB), store.mailboxes(ALICE)) == before,
          "nothing was sent or saved by any of it")

    # a foreign POST to /login with kept fields shows none of them
    f = webenv.Client(server)
    page = f.get("/login").text
    for site in ("cross-site", None):
        r5 = post_login(f, login_fields(page, k, BOB, "wrong"),
                        headers={"Sec-Fetch-Site": site} if site else {})
        check(r5.status == 403 and not hidden(r5.text) and "has been kept" not in r5.text,
              "a sign-in POST %s carries no kept message" % (site or "without Sec-Fetch-Site"))


def not_kept_from_elsewhere(server):
    # "none": a reload, which may replay a foreign page's POST
    for site in ("cross-site", "same-site", "none", None):
        c = signed_out_client(server)
        r = post_compose(c, compose_fields(), headers={"Sec-Fetch-Site": site} if site else {})
        check(r.status == 303 and "/login?expired=1" in r.getheader("Location", ""),
              "a compose POST (Sec-Fetch-Site: %s) after the session: the plain sign-in (%d)" %
              (site or "absent", r.status))
    # SameSite=Strict: a cross-site POST comes without any cookie
    c = webenv.Client(server)
    r = post_compose(c, compose_fields(), headers={"Sec-Fetch-Site": "cross-site"})
    check(r.status == 303 and r.getheader("Location", "").endswith("/login"),
          "a cookieless cross-site compose POST: the plain sign-in")
    # a form without its owner (from before the owner field) is not kept
    c = signed_out_client(server)
    r = post_compose(c, [f for f in compose_fields() if f[0] != "owner"], headers=SAME)
    check(r.status == 303, "a compose POST without its owner field is not kept")


def kept_limits(server):
    c = signed_out_client(server)
    text = ("x" * 99 + "\n") * 2600 + "é" * 40   # lone LFs: 256 KiB once made CRLF, and more
    subject = "s" * 899 + "é"
    r = post_compose(c, compose_fields(text=text, subject=subject), headers=SAME)
    k = hidden(r.text)
    body = k.get("k_body", [""])[0]
    check(r.status == 403 and "was cut" in r.text, "an oversized kept message is cut, and says so")
    check(len(k.get("k_subject", [""])[0].encode()) <= 900 and
          k.get("k_subject", [""])[0].endswith("s"), "the subject is cut at a character")
    check(0 < len(body.replace("\n", "\r\n").encode()) <= 256 * 1024,
          "the text is cut within the compose limit (%d)" % len(body.encode()))
    b = webenv.Client(server)
    r2 = post_login(b, login_fields(b.get("/login").text, k, BOB, webenv.USERS[BOB]))
    check(r2.status == 200 and "<title>New message" in r2.text,
          "the cut message goes through the sign-in (%d)" % r2.status)


def stale_token(server, store):
    before = store.mailboxes(BOB)
    c = webenv.Client(server)
    c.login()
    fields = compose_fields(text="Stale token text")
    r = post_compose(c, fields, headers=SAME)
    check(r.status == 403 and "<title>New message" in r.text and
          textarea(r.text).replace("\r\n", "\n") == "Stale token text" and
          "This form had expired" in r.text,
          "a stale token: the compose page again with the text and an error (%d)" % r.status)
    save = [(k, "save" if k == "op" else v) for k, v in fields]
    r = post_compose(c, save, headers=SAME)
    check(r.status == 403 and textarea(r.text).replace("\r\n", "\n") == "Stale token text",
          "Save draft with a stale token: the compose page again with the text (%d)" % r.status)
    check(store.mailboxes(BOB) == before, "... nothing sent or saved")
    for site in ("same-site", None):
        r = post_compose(c, fields, headers={"Sec-Fetch-Site": site} if site else {})
        check(r.status == 403 and "Stale token text" not in r.text,
              "a stale token %s: the 403 as before" % (site or "without Sec-Fetch-Site"))
    # bob's form, alice's session (bob signed out and alice in, elsewhere)
    a = webenv.Client(server)
    a.login(ALICE)
    r = post_compose(a, fields, headers=SAME)
    check(r.status == 403 and "Sign in to your mail" in r.text and
          'value="%s"' % BOB in r.text and "Stale token text" not in re.sub(
              r'<input type="hidden" name="k_[^>]*>', "", r.text) and
          'class="who"' not in r.text,
          "another user's live session: the sign-in page for the message's owner")


def confirmations(server, store):
    c = webenv.Client(server)
    c.login()
    trash = re.search(r'list\?mb=(\d+)"[^>]*><img[^>]*><span class="label">Trash<',
                      c.get("/list").text).group(1)
    mb, uid = c.find("HTML newsletter")
    token = c.csrf()
    c.post("/action", {"csrf": token, "mb": mb, "uid": uid, "op": "delete"})
    r = c.get("/list?mb=%s" % trash)
    uids = re.findall(r'name="uid" value="(\d+)"', r.text)
    check(len(uids) == 1, "a message is in Trash")
    r = c.post("/action", {"csrf": token, "mb": trash, "uid": uids[0], "op": "delete",
                           "sort": "subject"})
    check(r.status == 200 and "<title>Delete 1 message for good?" in r.text and
          'name="confirm" value="yes"' in r.text and "autofocus" in r.text and
          'name="sort" value="subject"' in r.text and "sort=subject" in r.text,
          "Delete for good in Trash asks first, keeping the list state (%d)" % r.status)
    check(store.mailboxes(BOB)["Trash"][0] == 1, "... and deletes nothing yet")
    # from the message page: the way back to it goes along, Cancel returns there
    r = c.post("/action", {"csrf": token, "mb": trash, "uid": uids[0], "op": "delete",
                           "return": "msg", "ret_uid": uids[0], "next_uid": "77", "pos": "3"})
    check(r.status == 200 and "<title>Delete this message for good?" in r.text and
          'name="return" value="msg"' in r.text and 'name="next_uid" value="77"' in r.text and
          'href="/webmail/msg?mb=%s&amp;uid=%s' % (trash, uids[0]) in r.text,
          "from a message, the question keeps the way back and Cancel returns to it")
    r = c.post("/empty", {"csrf": token, "mb": trash})
    check(r.status == 200 and "<title>Empty Trash?" in r.text and
          "The message in it will be deleted for good." in r.text,
          "Empty Trash asks first (%d)" % r.status)
    upto = re.search(r'name="upto" value="(\d+)"', r.text).group(1)
    check(store.mailboxes(BOB)["Trash"][0] == 1, "... and deletes nothing yet")
    # a message that reaches Trash after the question is not deleted unseen
    mb, uid2 = c.find("Files attached")
    c.post("/action", {"csrf": token, "mb": mb, "uid": uid2, "op": "delete"})
    r = c.post("/empty", {"csrf": token, "mb": trash, "confirm": "yes", "upto": upto})
    check(r.status == 303 and "done=purge&n=1" in r.getheader("Location", ""),
          "the confirmed Empty deletes what it asked about (%s)" % r.getheader("Location"))
    check(store.mailboxes(BOB)["Trash"][0] == 1, "... and keeps what came after")
    uids = re.findall(r'name="uid" value="(\d+)"', c.get("/list?mb=%s" % trash).text)
    r = c.post("/action", {"csrf": token, "mb": trash, "uid": uids[0], "op": "delete",
                           "confirm": "yes"})
    check(r.status == 303 and store.mailboxes(BOB)["Trash"][0] == 0,
          "a confirmed Delete for good deletes")


def after_browser(server, store):
    a = webenv.Client(server)
    a.login(ALICE)
    for subject, n in (("Kept across a sign-in", 1), ("Kept over a stale token", 1),
                       ("Not for Alice", 0)):
        page = a.get("/list?subject=" + subject.replace(" ", "+")).text
        found = page.count('aria-label="Select: %s"' % subject)
        check(found == n, "alice received %r %d time(s) (%d)" % (subject, n, found))
    check(store.mailboxes(BOB)["Drafts"][0] == 0, "no draft was saved on the way")
    with open(server.logs[0]) as f:
        log = f.read()
    check("compose not kept (not from our page: sec-fetch-site)" in log,
          "Chromium's cross-site POST was refused by its Sec-Fetch-Site")


def cgi_front_ends(store):
    """webmail.cgi reads the header from the CGI environment (Apache,
    nginx + fcgiwrap): a message is kept there too."""
    if not webenv.is_root():
        print("# not root: Apache and nginx left out")
        return
    for kind in ("apache", "nginx"):
        server = webenv.SERVERS[kind](store)
        try:
            r = post_compose(signed_out_client(server), compose_fields(), headers=SAME)
            check(r.status == 403 and hidden(r.text).get("k_to") == [ALICE],
                  "%s: an expired session's compose POST is kept (%d)" % (kind, r.status))
        finally:
            server.stop()


def main():
    store = webenv.Store()
    server = None
    try:
        server = webenv.Webmaild(store)
        kept_over_signin(server, store)
        not_kept_from_elsewhere(server)
        kept_limits(server)
        stale_token(server, store)
        confirmations(server, store)
        cgi_front_ends(store)
        if not webenv.failures:
            webenv.run_scenario("browser_keep.mjs", server, "keep", BOB, webenv.USERS[BOB],
                                ALICE, webenv.USERS[ALICE])
            after_browser(server, store)
    finally:
        webenv.stop_all([server] if server is not None else [], store, webenv.failures)
    webenv.exit_with(webenv.failures)


main()
