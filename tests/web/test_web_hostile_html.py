#!/usr/bin/env python3
"""Hostile HTML mail against pillarbox-webmaild (threaded: one crash or one
stuck worker is every user's problem):
  - a 26 KB mail whose tree would pass 512 MB (300 open formatting elements
    rebuilt in each of 6,000 paragraphs) and 200,000 nested <div>s (a parse
    quadratic in the depth) are refused within their budget: the message
    page shows a notice with a download, the frame says the same, a reply
    opens, a log line is written, and the server goes on answering;
  - 400,000 cid: images against 9,000 image parts: the frame comes quickly
    and resolves at most CID_IMAGES_MAX (1,000) of them;
  - a `part` that is not a part number is refused (400), and the "Show
    images" link of an attached message is built from the number;
  - 2 MB of plain text that changes the quote level on every line and has
    a link on every other one: the page holds at most TEXTVIEW_ITEMS_MAX
    (5,000) blocks and links, not a million (hundreds of MB of page data),
    and all of the text;
  - 20 HTML parts of 100,000 nested <div>s each (10 MB): each is refused
    within its own budget, and the page's HTML has HTML_CPU_MS (4 s) in
    all, not 40 s and more one part after the other (past its 120 s
    watchdog webmail.cgi exits without closing the store, and the recovery
    that follows ends every session of every user); the parts past it are
    shown as too complex, with a download, and one log line says so;
  - 150 small HTML parts: at most HTML_PARTS_MAX (100) frames, each a
    request of its own; the others are listed as attachments."""
import base64
import html
import os
import re
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures

BOUND = 10.0          # seconds any one of these requests may take
PAGE_BOUND = 15.0     # the page of many deep parts: HTML_CPU_MS (4 s) of CPU, 10 MB read
NOTICE = "This HTML message is too large or too complex to display"
PNG = base64.b64encode(base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))


def mail(subject, content_type, body, extra=b""):
    return (b"From: Mallory <mallory@example.com>\r\nTo: bob@example.com\r\nSubject: " +
            subject.encode() + b"\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
            b"Content-Type: " + content_type.encode() + b"\r\n" + extra + b"\r\n" + body)


def html_mail(subject, text):
    b64 = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
    return mail(subject, "text/html; charset=us-ascii", b64, b"Content-Transfer-Encoding: base64\r\n")


def cid_flood():
    body = ('<img src="cid:p8999@x">\r\n' + '<img src="cid:p1@x">\r\n' * 2000 +
            "<img src=cid:zz>\r\n" * 400000).encode()
    parts = [b"--b\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n" + body]
    for i in range(9000):
        parts.append(b"--b\r\nContent-Type: image/png\r\nContent-ID: <p%d@x>\r\n"
                     b"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n" % (i, PNG))
    return mail("Inline image flood", 'multipart/related; boundary="b"',
                b"".join(parts) + b"--b--\r\n")


def attached_newsletter():
    inner = html_mail("Inner newsletter", '<p>Hi <img src="https://tracker.example.net/p.png">')
    return mail("Attached newsletter", 'multipart/mixed; boundary="m"',
                b"--m\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
                b"--m\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--m--\r\n")


QUOTE_FLOOD_LINES = 110000


def quote_flood():
    return mail("Quote flood", "text/plain; charset=us-ascii",
                b"a www.e.org\r\n> b\r\n" * (QUOTE_FLOOD_LINES // 2))


HEAVY_PARTS = 20
MANY_PARTS = 150


def multipart_html(subject, parts):
    body = b"".join(b"--h\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n" +
                    part.encode() + b"\r\n" for part in parts)
    return mail(subject, 'multipart/mixed; boundary="h"', body + b"--h--\r\n")


def deliver_all(store):
    bomb = "<p>" + "".join("<b a=%d>" % i for i in range(300)) + "x" + "<p>x" * 6000
    store.deliver("bob@example.com", html_mail("Formatting bomb", bomb))
    store.deliver("bob@example.com", html_mail("Deep divs", "<div>" * 200000))
    store.deliver("bob@example.com", cid_flood())
    store.deliver("bob@example.com", attached_newsletter())
    store.deliver("bob@example.com", quote_flood())
    deep = "\r\n".join(["<div>" * 180] * (100000 // 180))
    store.deliver("bob@example.com", multipart_html("Deep parts", [deep] * HEAVY_PARTS))
    store.deliver("bob@example.com", multipart_html(
        "Many parts", ["<p>Part %d</p>" % i for i in range(MANY_PARTS)]))


def timed_get(c, path):
    """The response (None if the connection failed) and the seconds taken."""
    t0 = time.time()
    try:
        r = c.get(path)
    except OSError as e:
        print("# %s: %s" % (path, e))
        r = None
    return r, time.time() - t0


def still_serving(server, c, what):
    r, _ = timed_get(c, "/list")
    check(r is not None and r.status == 200 and server.procs[0].poll() is None,
          "%s: ... and the server still answers" % what)


def too_complex(server, c, subject):
    mb, uid = c.find(subject)
    r, took = timed_get(c, "/msg?mb=%s&uid=%s" % (mb, uid))
    check(r is not None and r.status == 200 and NOTICE in r.text,
          "%s: the message page shows the notice" % subject)
    check(took < BOUND, "%s: ... within %d s (%.1f s)" % (subject, BOUND, took))
    m = r is not None and re.search(r'class="notice">%s; <a href="([^"]+)">download it</a>' % NOTICE,
                                    r.text)
    check(bool(m), "%s: ... with a download link" % subject)
    still_serving(server, c, subject)
    part = m and re.search(r"part=(\d+)", m.group(1)).group(1)
    if part:
        r, took = timed_get(c, "/body?mb=%s&uid=%s&part=%s" % (mb, uid, part))
        check(r is not None and r.status == 413 and NOTICE in r.text and took < BOUND,
              "%s: the frame says so too, within %d s (%.1f s)" % (subject, BOUND, took))
    r, took = timed_get(c, "/compose?mode=reply&mb=%s&uid=%s" % (mb, uid))
    check(r is not None and r.status == 200 and took < BOUND,
          "%s: a reply opens, within %d s (%.1f s)" % (subject, BOUND, took))
    still_serving(server, c, subject)
    check("uid %s part %s: the HTML is too large or too complex" % (uid, part) in server.log(),
          "%s: a log line says why" % subject)


def cid_images(server, c):
    mb, uid = c.find("Inline image flood")
    r, took = timed_get(c, "/msg?mb=%s&uid=%s" % (mb, uid))
    src = r is not None and re.search(r'<iframe class="html" src="([^"]+)"', r.text)
    check(bool(src) and took < BOUND, "cid flood: the message page, within %d s (%.1f s)"
          % (BOUND, took))
    if not src:
        return
    r, took = timed_get(c, html.unescape(src.group(1))[len(server.base):])
    check(r is not None and r.status == 200 and took < BOUND,
          "cid flood: the frame, within %d s (%.1f s)" % (BOUND, took))
    shown = re.findall(r'<img src="/webmail/part\?[^"]*inline=1">', r.text if r else "")
    check(len(shown) > 0 and r.text.find(shown[0]) < r.text.find("<img>"),
          "cid flood: the cid: image first in the mail is shown")
    check(0 < len(shown) <= 1000, "cid flood: at most 1000 cid: images resolved (%d)" % len(shown))
    still_serving(server, c, "cid flood")


def text_items(server, c):
    mb, uid = c.find("Quote flood")
    r, took = timed_get(c, "/msg?mb=%s&uid=%s" % (mb, uid))
    text = r.text if r is not None and r.status == 200 else ""
    items = text.count('<div class="q') + text.count('href="http://www.e.org"')
    check(text != "" and took < BOUND, "quote flood: the page, within %d s (%.1f s)" % (BOUND, took))
    check(0 < items <= 5001, "quote flood: at most 5,000 blocks and links (%d)" % items)
    check(text.count("&gt; b") == QUOTE_FLOOD_LINES // 2,
          "quote flood: ... and all of the text (%d lines)" % text.count("&gt; b"))
    still_serving(server, c, "quote flood")


def part_parameter(c):
    mb, uid = c.find("HTML newsletter")
    r = c.get("/msg?mb=%s&uid=%s&part=x%%22%%26uid%%3D1%%23" % (mb, uid))
    check(r.status == 400 and "uid=1#" not in r.text,
          "a part that is not a number: 400 (%d), nothing pasted into a link" % r.status)
    for bad in ("1.2", "-1", "1%200", "99999999999"):
        r = c.get("/part?mb=%s&uid=%s&part=%s" % (mb, uid, bad))
        check(r.status == 400, "part=%s: 400 (%d)" % (bad, r.status))
    mb, uid = c.find("Attached newsletter")
    r = c.get("/msg?mb=%s&uid=%s" % (mb, uid))
    part = re.search(r'href="/webmail/msg\?mb=\d+&amp;uid=\d+&amp;part=(\d+)" class="btn small"',
                     r.text).group(1)
    r = c.get("/msg?mb=%s&uid=%s&part=%s" % (mb, uid, part))
    check('href="/webmail/msg?mb=%s&amp;uid=%s&amp;part=%s&amp;images=1"' % (mb, uid, part) in r.text,
          "an attached message's Show images link keeps its part number")


def html_parts(server, c):
    mb, uid = c.find("Deep parts")
    r, took = timed_get(c, "/msg?mb=%s&uid=%s" % (mb, uid))
    text = r.text if r is not None and r.status == 200 else ""
    check(text != "" and took < PAGE_BOUND, "%d deep HTML parts: the page, within %d s (%.1f s)"
          % (HEAVY_PARTS, PAGE_BOUND, took))
    check(text.count('class="notice">%s; <a href="' % NOTICE) == HEAVY_PARTS,
          "%d deep HTML parts: ... each shown as too complex, with a download (%d)"
          % (HEAVY_PARTS, text.count(NOTICE)))
    check(server.log().count("uid %s: the page's time for HTML is spent" % uid) == 1,
          "%d deep HTML parts: ... and one log line says the page's time is spent"
          % HEAVY_PARTS)
    still_serving(server, c, "deep HTML parts")
    mb, uid = c.find("Many parts")
    r, took = timed_get(c, "/msg?mb=%s&uid=%s" % (mb, uid))
    text = r.text if r is not None and r.status == 200 else ""
    frames = re.findall(r'<iframe class="html" src="[^"]*part=(\d+)"', text)
    listed = re.findall(r'href="/webmail/part\?mb=\d+&amp;uid=\d+&amp;part=(\d+)" class="name"',
                        text)
    check(text != "" and took < BOUND, "%d HTML parts: the page, within %d s (%.1f s)"
          % (MANY_PARTS, BOUND, took))
    check(len(frames) == 100, "%d HTML parts: at most 100 frames (%d)" % (MANY_PARTS, len(frames)))
    check(sorted(frames + listed, key=int) == [str(i) for i in range(1, MANY_PARTS + 1)],
          "%d HTML parts: ... the others listed as attachments (%d)" % (MANY_PARTS, len(listed)))


def main():
    store = webenv.Store()
    deliver_all(store)
    servers = []
    try:
        servers.append(webenv.Webmaild(store))
        c = webenv.Client(servers[0])
        c.login()
        part_parameter(c)
        cid_images(servers[0], c)
        text_items(servers[0], c)
        html_parts(servers[0], c)
        too_complex(servers[0], c, "Deep divs")
        too_complex(servers[0], c, "Formatting bomb")     # the crash, before: last
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


main()
