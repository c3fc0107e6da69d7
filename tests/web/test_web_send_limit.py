#!/usr/bin/env python3
"""The send limit in the webmail (pillarbox-webmaild, send_limit = 3): a
user who sent to 3 recipients in the last 24 hours has the next message
refused with 429 and a sentence saying why, the form kept, nothing
delivered and the log saying so; `pillarbox user sent` shows the count and
--reset lets the user send again; another user is not held back."""
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402
from webenv import check  # noqa: E402

BOB, ALICE = "bob@example.com", "alice@example.com"


def send(c, sender, to, subject):
    page = c.get("/compose").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    body, ctype = webenv.multipart([("csrf", csrf), ("from", sender), ("to", to),
                                    ("subject", subject), ("body", "Hello."), ("op", "send")])
    return c.request("POST", "/compose", body=body, headers={"Content-Type": ctype})


def main():
    store = webenv.Store()
    with open(store.conf, "a") as f:
        f.write("send_limit = 3\n")
    server = webenv.Webmaild(store)
    try:
        c = webenv.Client(server)
        c.login()
        before = store.mailboxes(ALICE)["INBOX"][0]
        r = send(c, BOB, ALICE, "One")
        check(r.status == 303, "a first message is sent (%d)" % r.status)
        r = send(c, BOB, "%s, %s" % (ALICE, BOB), "Two")
        check(r.status == 303, "two more recipients: 3 of 3 (%d)" % r.status)
        r = send(c, BOB, ALICE, "Three")
        check(r.status == 429 and "reached the number of recipients" in r.text,
              "the next is refused with 429 and why (%d)" % r.status)
        check('value="Three"' in r.text, "the form is kept")
        check(store.mailboxes(ALICE)["INBOX"][0] == before + 2, "nothing more delivered")
        check("send limit user=<bob@example.com>" in server.log(), "the log says so")
        # the administrator sees the count and lets bob send again
        check(store.admin("user", "sent", BOB) == "3\t3\n", "pillarbox user sent: 3 of 3")
        store.admin("user", "sent", BOB, "--reset")
        check(store.admin("user", "sent", BOB) == "0\t3\n", "... --reset clears the count")
        r = send(c, BOB, ALICE, "Three")
        check(r.status == 303 and store.mailboxes(ALICE)["INBOX"][0] == before + 3,
              "... and bob sends again (%d)" % r.status)
        a = webenv.Client(server)
        a.login(ALICE)
        r = send(a, ALICE, BOB, "From Alice")
        check(r.status == 303, "another user sends (%d)" % r.status)
    finally:
        webenv.stop_all([server], store, webenv.failures)
    webenv.exit_with(webenv.failures)


if __name__ == "__main__":
    main()
