#!/usr/bin/env python3
"""Settings > Filters over real HTTP, against pillarbox-webmaild, Apache +
webmail.cgi and nginx + fcgiwrap + webmail.cgi sharing one store (a user per
server):
  - with the CSRF token: two rules created and listed after a reload, one
    edited, one moved, one turned off, one deleted after its confirmation;
    the stored script (pillarbox sieve get USER filters) says the same, is
    active and compiles (pillarbox sieve check);
  - a POST without the token, or with another session's, changes nothing;
    a stale form (the script changed meanwhile) is refused with 409;
  - refused rules (no action, a bad address, delete with another action)
    come back with the typed values;
  - the end-to-end point: "Subject contains report -> move to Work", then
    pillarbox deliver files the message in Work, seen on the list page;
  - the same for "Message text contains invoice -> move to Bills" (body
    :text, require "body"): a message whose body has the word is filed, one
    whose subject alone has it is not; "is" refused for the message text; a
    body test the editor does not write (:raw) is shown as text;
  - a script put with the CLI is not ours: shown in a text editor, a compile
    error shown beside the kept text, a good text saved; replaced by rules
    after a confirmation.
Then the same in headless Chromium (browser_filters.mjs) on webmaild."""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures
PASSWORD = "filter-Pass-123"


def user_of(server):
    return "f-%s@example.com" % server.name


def login(server, user):
    c = webenv.Client(server)
    r = c.get("/login")
    token = re.search(r'name="login_token" value="([0-9a-f]+)"', r.text).group(1)
    r = c.post("/login", {"login_token": token, "address": user, "password": PASSWORD})
    check(r.status == 303, "%s: %s signed in" % (server.name, user))
    return c


def page_state(c):
    """(csrf, v, [(name, enabled)]) from the filters page."""
    r = c.get("/filters")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text).group(1)
    m = re.search(r'name="v" value="([0-9a-f]*)"', r.text)
    if m is None:   # no rule listed: the new rule's form has it
        m = re.search(r'name="v" value="([0-9a-f]*)"', c.get("/filters?edit=new").text)
    v = m.group(1)
    rules = [(m.group(2).strip(), m.group(1) is None) for m in
             re.finditer(r'<li class="rule( off)?" id="rule\d+">\s*<h3>([^<]*)', r.text)]
    return csrf, v, rules


def rule_fields(name, conds, actions, match="all", enabled=True, stop=False):
    f = {"op": "save", "n": "new", "name": name, "match": match}
    if enabled:
        f["enabled"] = "on"
    if stop:
        f["stop"] = "on"
    for i, (field, op, value, *header) in enumerate(conds):
        f.update({"field%d" % i: field, "op%d" % i: op, "value%d" % i: value,
                  "header%d" % i: header[0] if header else ""})
    for i, (kind, target) in enumerate(actions):
        f["action%d" % i] = kind
        f[("folder%d" if kind in ("move", "copy") else "message%d" if kind == "reject"
           else "address%d") % i] = target
    return f


def post(c, fields, with_token=True):
    csrf, v, _ = page_state(c)
    body = dict(fields, v=v)
    if with_token:
        body["csrf"] = csrf
    return c.post("/filters", body)


def script(store, user):
    try:
        return store.admin("sieve", "get", user, "filters")
    except RuntimeError:
        return None


def rules_flow(server, store, c, other):
    user = user_of(server)
    csrf, v, rules = page_state(c)
    check(rules == [] and "no filter rules" in c.get("/filters").text,
          "%s: the page starts empty" % server.name)
    r = c.get("/settings")
    check('href="/webmail/filters"' in r.text, "%s: the settings link to the filters" % server.name)

    r = post(c, rule_fields("Reports", [("subject", "contains", "report")], [("move", "Work")]))
    check(r.status == 303 and "saved=1" in r.getheader("Location", ""),
          "%s: a rule is saved (%d)" % (server.name, r.status))
    r = post(c, rule_fields("Boss \"big\" <b>", [("from", "is", "boss@example.org"),
                                                  ("size", "over", "100K")],
                            [("read", ""), ("forwardkeep", "me@elsewhere.example")], match="any",
                            stop=True))
    check(r.status == 303, "%s: a second rule is saved" % server.name)
    _, _, rules = page_state(c)
    check(rules == [("Reports", True), ("Boss &quot;big&quot; &lt;b&gt;", True)],
          "%s: both are listed after a reload, the name escaped (%s)" % (server.name, rules))
    text = script(store, user) or ""
    ok = (text.startswith("# Pillarbox filters\n") and
          'if allof (header :contains "Subject" "report") {\n\tfileinto "Work";\n}' in text and
          'address :all :is "From" "boss@example.org", size :over 100K' in text and
          'redirect :copy "me@elsewhere.example";\n\tstop;' in text)
    check(ok, "%s: the stored script has both rules%s" % (server.name, "" if ok else ":\n" + text))
    check(re.search(r"^filters\t\d+\tactive$", store.admin("sieve", "list", user), re.M),
          "%s: the script is active" % server.name)

    # the edit form shows the rule's values
    r = c.get("/filters?edit=1")
    check('value="Boss &quot;big&quot; &lt;b&gt;"' in r.text and 'value="100K"' in r.text and
          '<option value="forwardkeep" selected>' in r.text and
          'value="me@elsewhere.example"' in r.text, "%s: the edit form is filled" % server.name)
    # refused: no action; a bad address; delete with another action
    for fields, why in ((rule_fields("x", [("subject", "contains", "y")], []), "at least one action"),
                        (rule_fields("x", [("subject", "contains", "y")], [("forward", "not an address")]),
                         "give one address"),
                        (rule_fields("x", [("subject", "contains", "y")], [("delete", ""), ("move", "Work")]),
                         "cannot go with other actions")):
        r = post(c, dict(fields, n="new"))
        check(r.status == 400 and why in r.text and 'value="y"' in r.text,
              "%s: refused with the typed values kept: %s" % (server.name, why))
    # edit rule 1: another subject, enabled kept
    r = post(c, dict(rule_fields("Boss", [("from", "contains", "boss@")], [("flag", "")]), n="1"))
    check(r.status == 303, "%s: a rule is edited" % server.name)
    text = script(store, user) or ""
    check("# rule: Boss\nif allof (header :contains \"From\" \"boss@\") {\n\taddflag \"\\\\Flagged\";\n}" in text,
          "%s: the edit is stored" % server.name)
    # move it up, turn it off
    r = post(c, {"op": "up", "n": "1"})
    _, _, rules = page_state(c)
    check(r.status == 303 and [n for n, _ in rules] == ["Boss", "Reports"],
          "%s: moved up (%s)" % (server.name, rules))
    r = post(c, {"op": "toggle", "n": "0"})
    _, _, rules = page_state(c)
    check(rules == [("Boss", False), ("Reports", True)], "%s: turned off (%s)" % (server.name, rules))
    check("if allof (false, allof (header :contains \"From\" \"boss@\"))" in (script(store, user) or ""),
          "%s: stored as off" % server.name)

    # no token, another session's token, a stale version: nothing changes
    before = script(store, user)
    r = post(c, {"op": "delete", "n": "0", "confirm": "yes"}, with_token=False)
    check(r.status == 403 and script(store, user) == before,
          "%s: a POST without the token changes nothing (%d)" % (server.name, r.status))
    other_csrf, _, _ = page_state(other)
    _, v, _ = page_state(c)
    r = c.post("/filters", {"csrf": other_csrf, "v": v, "op": "delete", "n": "0", "confirm": "yes"})
    check(r.status == 403 and script(store, user) == before,
          "%s: another session's token changes nothing (%d)" % (server.name, r.status))
    csrf, v, _ = page_state(c)
    r = c.post("/filters", {"csrf": csrf, "v": "0" * 16, "op": "delete", "n": "0", "confirm": "yes"})
    check(r.status == 409 and script(store, user) == before,
          "%s: a stale form changes nothing (%d)" % (server.name, r.status))

    # delete: asked first, then done
    r = post(c, {"op": "delete", "n": "0"})
    check(r.status == 200 and "Delete the rule" in r.text and 'name="confirm" value="yes"' in r.text
          and script(store, user) == before, "%s: delete asks first" % server.name)
    r = post(c, {"op": "delete", "n": "0", "confirm": "yes"})
    _, _, rules = page_state(c)
    check(r.status == 303 and rules == [("Reports", True)], "%s: deleted (%s)" % (server.name, rules))
    out = subprocess.run([webenv.ADMIN, "--config", store.conf, "sieve", "check"],
                         input=script(store, user), capture_output=True, text=True, env=store.env)
    check(out.returncode == 0, "%s: the stored script compiles (%s)" % (server.name, out.stdout.strip()))

    # the end-to-end point: delivery runs the rule, the list page shows it
    store.deliver(user, "From: a@example.net\r\nTo: %s\r\nSubject: Monthly report 7\r\n"
                        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nNumbers.\r\n" % user)
    store.deliver(user, "From: a@example.net\r\nTo: %s\r\nSubject: Lunch\r\n"
                        "Date: Mon, 1 Jan 2024 11:00:00 +0000\r\n\r\nSoup.\r\n" % user)
    mbs = store.mailboxes(user)
    check(mbs.get("Work", (0,))[0] == 1, "%s: the report was filed in Work (%s)" % (server.name, mbs))
    work = re.search(r'href="/webmail/list\?mb=(\d+)"[^>]*>(?:(?!</a>).)*Work', c.get("/list").text, re.S)
    r = c.get("/list?mb=%s" % work.group(1)) if work else None
    check(r is not None and "Monthly report 7" in r.text and "Lunch" not in r.text,
          "%s: the list page of Work shows it" % server.name)
    check("Lunch" in c.get("/list").text, "%s: the other message is in the Inbox" % server.name)


def body_flow(server, store, c):
    user = user_of(server)
    make_folder(c, "Bills")
    r = post(c, rule_fields("Invoices", [("body", "contains", "invoice")], [("move", "Bills")]))
    check(r.status == 303, "%s: a message text rule is saved (%d)" % (server.name, r.status))
    r = c.get("/filters")
    check("If Message text contains “invoice”: move to “Bills”." in r.text,
          "%s: it is listed with its summary" % server.name)
    text = script(store, user) or ""
    ok = (text.startswith('# Pillarbox filters\nrequire ["body", "fileinto"];\n') and
          'if allof (body :text :contains "invoice") {\n\tfileinto "Bills";\n}' in text)
    check(ok, "%s: the stored script has the body test%s" % (server.name, "" if ok else ":\n" + text))
    out = subprocess.run([webenv.ADMIN, "--config", store.conf, "sieve", "check"],
                         input=text, capture_output=True, text=True, env=store.env)
    check(out.returncode == 0, "%s: it compiles (%s)" % (server.name, out.stdout.strip()))
    n = len(page_state(c)[2]) - 1
    r = c.get("/filters?edit=%d" % n)
    check('<option value="body" selected>Message text</option>' in r.text and
          'value="invoice"' in r.text, "%s: the edit form shows the message text" % server.name)
    r = post(c, rule_fields("x", [("body", "is", "y")], [("move", "Bills")]))
    check(r.status == 400 and "for the message text, choose contains" in r.text and
          'value="y"' in r.text and script(store, user) == text,
          "%s: \"is\" on the message text is refused (%d)" % (server.name, r.status))

    # delivery: the body's word files the message, the subject's does not
    store.deliver(user, "From: a@example.net\r\nTo: %s\r\nSubject: Invoice 42\r\n"
                        "Date: Mon, 1 Jan 2024 12:00:00 +0000\r\n\r\nNothing to pay.\r\n" % user)
    store.deliver(user, "From: a@example.net\r\nTo: %s\r\nSubject: Hello there\r\n"
                        "Date: Mon, 1 Jan 2024 13:00:00 +0000\r\n\r\nYour INVOICE is attached.\r\n"
                        % user)
    mbs = store.mailboxes(user)
    check(mbs.get("Bills", (0,))[0] == 1, "%s: the body match was filed in Bills (%s)" % (server.name, mbs))
    bills = re.search(r'href="/webmail/list\?mb=(\d+)"[^>]*>(?:(?!</a>).)*Bills', c.get("/list").text, re.S)
    r = c.get("/list?mb=%s" % bills.group(1)) if bills else None
    check(r is not None and "Hello there" in r.text and "Invoice 42" not in r.text,
          "%s: Bills has the body match, not the subject one" % server.name)
    check("Invoice 42" in c.get("/list").text, "%s: the subject match is in the Inbox" % server.name)

    # the editor's shape with :raw is not the editor's: shown as text
    store.admin("sieve", "put", user, "filters", stdin=text.replace("body :text", "body :raw"))
    r = c.get("/filters")
    check("not made on this page" in r.text and "body :raw :contains" in r.text,
          "%s: a body :raw test is shown as text, not as a rule" % server.name)
    store.admin("sieve", "put", user, "filters", stdin=text)
    _, _, rules = page_state(c)
    check(rules and rules[-1] == ("Invoices", True), "%s: the rules are back (%s)" % (server.name, rules))


def reject_flow(server, store, c):
    """"Reject with message" (RFC 5429): saved as reject "text" with require
    "reject", shown again in the form, refused at delivery time with it."""
    user = user_of(server)
    before = script(store, user)
    r = post(c, rule_fields("No offers", [("subject", "contains", "offer")],
                            [("reject", 'Not interested, "thanks".')]))
    check(r.status == 303, "%s: a reject rule is saved (%d)" % (server.name, r.status))
    text = script(store, user) or ""
    ok = ('"reject"]' in text.splitlines()[1] and
          'if allof (header :contains "Subject" "offer") {\n'
          '\treject "Not interested, \\"thanks\\".";\n\tstop;\n}' in text)
    check(ok, "%s: the stored script has the reject, and stops%s" %
          (server.name, "" if ok else ":\n" + text))
    r = c.get("/filters")
    check("reject with “Not interested, &quot;thanks&quot;.”; then stop." in r.text or
          "reject with “Not interested, &#34;thanks&#34;.”; then stop." in r.text,
          "%s: it is listed with its summary" % server.name)
    n = len(page_state(c)[2]) - 1
    r = c.get("/filters?edit=%d" % n)
    check('<option value="reject" selected>Reject with message</option>' in r.text and
          '<label for="message0">' in r.text and 'id="message0"' in r.text and
          ('value="Not interested, &quot;thanks&quot;."' in r.text or
           'value="Not interested, &#34;thanks&#34;."' in r.text),
          "%s: the edit form shows the message, labelled" % server.name)
    r = post(c, rule_fields("x", [("subject", "contains", "y")], [("reject", "")]))
    check(r.status == 400 and "write the message for the sender" in r.text,
          "%s: a reject without its message is refused (%d)" % (server.name, r.status))
    # delivery outside SMTP: nothing kept, a notice queued for the sender
    store.deliver(user, "From: shop@example.net\r\nTo: %s\r\nSubject: an offer\r\n"
                        "Date: Mon, 1 Jan 2024 12:00:00 +0000\r\n\r\nBuy.\r\n" % user)
    check("an offer" not in c.get("/list").text, "%s: the rejected message is not kept" % server.name)
    if before is not None:
        store.admin("sieve", "put", user, "filters", stdin=before)


def raw_flow(server, store, c):
    user = user_of(server)
    hand = 'require "fileinto";\nif header :is "X-Hand" "1" { fileinto "Hand"; }\n'
    store.admin("sieve", "put", user, "mine", "--activate", stdin=hand)
    r = c.get("/filters")
    check("not made on this page" in r.text and "X-Hand" in r.text and "<textarea" in r.text,
          "%s: a hand-written script is shown as text" % server.name)
    csrf, v, _ = page_state(c)
    r = c.post("/filters", {"csrf": csrf, "v": v, "op": "raw", "text": "if bogus { keep; }\r\n"})
    check(r.status == 400 and re.search(r'id="raw-error"[^>]*>Not saved: line 1: [^<]+', r.text)
          and "if bogus { keep; }" in r.text and store.admin("sieve", "get", user, "mine") == hand,
          "%s: a compile error is shown beside the kept text, nothing saved" % server.name)
    good = hand.replace("\n", "\r\n") + "# edited\r\n"
    r = c.post("/filters", {"csrf": csrf, "v": v, "op": "raw", "text": good})
    check(r.status == 303 and store.admin("sieve", "get", user, "mine") == good.replace("\r\n", "\n"),
          "%s: a good script is saved (CRLF as LF)" % server.name)
    csrf, v, _ = page_state(c)
    r = c.post("/filters", {"csrf": csrf, "v": v, "op": "replace"})
    check(r.status == 200 and "Replace with rules" in r.text and "confirm" in r.text,
          "%s: replacing asks first" % server.name)
    r = c.post("/filters", {"csrf": csrf, "v": v, "op": "replace", "confirm": "yes"})
    lst = store.admin("sieve", "list", user)
    check(r.status == 303 and script(store, user) == "# Pillarbox filters\n" and
          re.search(r"^filters\t\d+\tactive$", lst, re.M) and re.search(r"^mine\t\d+\t-$", lst, re.M),
          "%s: replaced by an empty rule set, the hand script kept (%r)" % (server.name, lst))
    _, _, rules = page_state(c)
    check(rules == [], "%s: the page lists no rules" % server.name)


def make_folder(c, name):
    """A top-level folder, made on the webmail's folders page."""
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', c.get("/folders").text).group(1)
    r = c.post("/folders", {"csrf": csrf, "op": "create", "name": name, "parent": "0"})
    check(r.status == 303, "folder %s created (%d)" % (name, r.status))


def make_work(c):
    make_folder(c, "Work")


def browser(server, store):
    user = "fbrowser@example.com"
    store.admin("user", "add", user, stdin=PASSWORD + "\n")
    make_work(login(server, user))
    raw_user = "fraw@example.com"
    store.admin("user", "add", raw_user, stdin=PASSWORD + "\n")
    store.admin("sieve", "put", raw_user, "by-hand", "--activate",
                stdin='require "fileinto";\nif header :contains "List-Id" "dev" { fileinto "Dev"; }\n')
    webenv.run_scenario("browser_filters.mjs", server, "filters-" + server.name, user, raw_user,
                        PASSWORD, timeout=180)
    store.deliver(user, "From: a@example.net\r\nTo: %s\r\nSubject: The report\r\n\r\nx\r\n" % user)
    mbs = store.mailboxes(user)
    check(mbs.get("Work", (0,))[0] == 1, "%s: the browser's rule files mail (%s)" % (server.name, mbs))
    store.deliver(user, "From: a@example.net\r\nTo: %s\r\nSubject: Hi\r\n\r\nAn invoice.\r\n" % user)
    mbs = store.mailboxes(user)
    check(mbs.get("Work", (0,))[0] == 2, "%s: the browser's message text rule files mail (%s)"
          % (server.name, mbs))


def main():
    store = webenv.Store()
    servers = []
    try:
        servers.append(webenv.Webmaild(store))
        if webenv.is_root():
            servers.append(webenv.Apache(store))
            servers.append(webenv.Nginx(store))
        for s in servers:
            store.admin("user", "add", user_of(s), stdin=PASSWORD + "\n")
            c, other = login(s, user_of(s)), login(s, user_of(s))
            make_work(c)
            rules_flow(s, store, c, other)
            body_flow(s, store, c)
            reject_flow(s, store, c)
            raw_flow(s, store, c)
        browser(servers[0], store)
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


main()
