#!/usr/bin/env python3
"""Writes the test messages the web tests deliver: one file per message in
DIR (plain, flowed, HTML with remote and cid: images, multipart with
attachments, an attached message, a Latin-1 one, and the XSS corpus as an
HTML mail). Usage: mkmail.py DIR [XSS_CORPUS_FILE]"""
import base64
import os
import sys
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
import datetime

# A 1x1 red PNG and a small binary with every byte value.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
BINARY = bytes(range(256)) * 40


def date(days):
    d = datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=days)
    return format_datetime(d)


def head(m, subject, frm, days, to="Bob <bob@example.com>"):
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = date(days)
    m["Message-ID"] = "<%s@test.example>" % abs(hash(subject))
    return m


def write(d, name, m):
    with open(os.path.join(d, name + ".eml"), "wb") as f:
        f.write(m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    m = MIMEText("Hello Bob,\n\nthe plan is at https://example.org/plan?x=1&y=2.\n"
                 "Mail me at mailto:alice@example.com if needed.\n\n> quoted line\n>> deeper\n\nAlice\n",
                 "plain", "utf-8")
    write(d, "01-plain", head(m, "Plain text message", "Alice Example <alice@example.com>", 1))
    m = MIMEText("This paragraph is long and was wrapped by a format=flowed mailer so \n"
                 "it continues here on the next line and ends here.\n\nSecond paragraph.\n",
                 "plain", "utf-8")
    m.set_param("format", "flowed")
    write(d, "02-flowed", head(m, "Flowed text", "Carol <carol@example.net>", 2))
    m = MIMEText("Gr\xfc\xdfe aus M\xfcnchen \u2014 caf\xe9\n", "plain", "iso-8859-1"
                 if False else "utf-8")
    latin = MIMEText("", "plain")
    latin.set_payload("Gr\xfc\xdfe aus M\xfcnchen, caf\xe9.\n".encode("latin-1"))
    latin.replace_header("Content-Type", 'text/plain; charset="iso-8859-1"')
    latin["Content-Transfer-Encoding"] = "8bit"
    write(d, "03-latin1", head(latin, "=?iso-8859-1?q?Gr=FC=DFe?= from Munich", "=?utf-8?b?SsO8cmdlbg==?= <juergen@example.de>", 3))
    # HTML with a remote image, a cid: image, a link and a style
    rel = MIMEMultipart("related")
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("Newsletter (text version)\n", "plain", "utf-8"))
    alt.attach(MIMEText(
        '<html><head><style>h1 { color: #c00; }</style></head><body>'
        '<h1 id="title">Newsletter</h1><p style="font-size: 18px; position: fixed">Hello <b>Bob</b>, '
        '<a href="https://example.org/news">read more</a>.</p>'
        '<p><img id="remote" src="https://tracker.example.net/pixel.png" alt="tracker"></p>'
        '<p><img id="inline" src="cid:logo@test" alt="logo"></p></body></html>', "html", "utf-8"))
    rel.attach(alt)
    img = MIMEImage(PNG, "png")
    img.add_header("Content-ID", "<logo@test>")
    img.add_header("Content-Disposition", "inline", filename="logo.png")
    rel.attach(img)
    write(d, "04-html", head(rel, "HTML newsletter", "News <news@example.org>", 4))
    # multipart/mixed with attachments and an attached message
    mixed = MIMEMultipart("mixed")
    mixed.attach(MIMEText("Two files and a forwarded message are attached.\n", "plain", "utf-8"))
    att = MIMEApplication(BINARY, "octet-stream")
    att.add_header("Content-Disposition", "attachment", filename="data.bin")
    mixed.attach(att)
    pic = MIMEImage(PNG, "png")
    pic.add_header("Content-Disposition", "attachment", filename="red dot.png")
    mixed.attach(pic)
    inner = head(MIMEText("This is the forwarded message.\n", "plain", "utf-8"),
                 "Forwarded inner message", "Dave <dave@example.com>", 0)
    mixed.attach(MIMEMessage(inner))
    write(d, "05-attachments", head(mixed, "Files attached", "Eve <eve@example.com>", 5))
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            corpus = f.read()
        m = MIMEText(corpus, "html", "utf-8")
        write(d, "06-xss", head(m, "XSS corpus", "Mallory <mallory@example.com>", 6))


main()
