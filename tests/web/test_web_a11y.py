#!/usr/bin/env python3
"""The webmail on a phone, by keyboard and with a screen reader, as a
Roundcube user would use it (browser_a11y.mjs under webmaild): axe-core on
each main page, no sideways scrolling on a phone, a keyboard-only path,
and the list coming back as it was after an action. The store holds the
usual test messages and a few that stretch a layout: a long subject with
long addresses and an unbroken string, a wide HTML table with a long
preformatted line, a right-to-left message, a long HTML mail without a
link; and a folder with unread mail at the end of the folder bar."""
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

BOB = "bob@example.com"

STRETCH = [
    "From: =?utf-8?b?5byg5LyfIChaaGFuZyBXZWkp?= "
    "<zhang.wei.very.long.address.for.testing@subdomain.example-company-international.com>\r\n"
    "To: bob@example.com, alice@example.com, carol@example.net, dave@example.com\r\n"
    "Cc: grace.hopper.with.a.long.name@example.com\r\n"
    "Subject: Re: Fwd: Quarterly planning for the infrastructure migration project and the "
    "follow-up meeting about budgets, timelines and staffing\r\n"
    "Date: Tue, 5 Mar 2024 10:00:00 +0000\r\n\r\n"
    "An unbroken string: " + "x" * 300 + "\r\nA long link: https://example.org/" + "a/b/c/" * 40 + "\r\n",
    "From: =?utf-8?b?2YXYrdmF2K8g2LnZhNmK?= <mohamed@example.eg>\r\nTo: bob@example.com\r\n"
    "Subject: =?utf-8?b?2YXYsdit2KjYpyDYqNmDINmB2Yog2KfZhNmF2YjZgti5?=\r\n"
    "Date: Wed, 6 Mar 2024 10:00:00 +0000\r\n\r\nSalam.\r\n",
    "From: Shop <news@shop.example>\r\nTo: bob@example.com\r\nSubject: Wide table newsletter\r\n"
    "Date: Thu, 7 Mar 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n<table width=\"900\"><tr>"
    + "".join("<td>Column %d with text</td>" % i for i in range(8))
    + "</tr></table><pre>" + "a preformatted line " * 20 + "</pre>\r\n",
    "From: Long <long@example.org>\r\nTo: bob@example.com\r\nSubject: Long HTML without links\r\n"
    "Date: Fri, 8 Mar 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n"
    + "".join("<p>Paragraph %d of a long letter, text only.</p>" % i for i in range(120)) + "\r\n",
]


def main():
    store = webenv.Store(extra_messages=15)
    server = None
    ok = False
    try:
        for m in STRETCH:
            store.deliver(BOB, m)
        # a folder with unread mail at the far end of the phone's scrolling
        # folder bar: its hidden "N unread" text must stay inside the bar
        store.admin("import", "mbox", BOB, "Zebra lists", "-", stdin="".join(
            "From list@example.org Mon Jan  1 00:00:00 2024\nFrom: list@example.org\n"
            "Subject: List post %d\n\nHello.\n\n" % i for i in range(3)))
        server = webenv.Webmaild(store)
        ok = webenv.run_scenario("browser_a11y.mjs", server, "a11y", BOB, webenv.USERS[BOB])
    finally:
        if server is not None:
            server.stop()
            if not ok:
                print(server.log())
        store.cleanup()
    webenv.exit_with(webenv.failures)


main()
