#!/usr/bin/env python3
"""Message fidelity: a message is never altered or misreported on its way in
and out.

A corpus of awkward but legal messages (and some illegal but common ones)
goes in through every way in: IMAP APPEND (literal, LITERAL+, literal8,
MULTIAPPEND), `pillarbox deliver`, SMTP DATA (dot-stuffed by hand),
`pillarbox import mbox` and `import maildir`, the webmail's compose (send,
forward as attachment, draft). Each stored message is
then read back through every way out and checked against what the way in
promises to keep:

  - IMAP: BODY[] byte for byte, RFC822.SIZE = len(BODY[]), BODY[HEADER]
    (ending with the blank line, the per-copy Return-Path/Delivered-To
    lines included) + BODY[TEXT] = BODY[], every part's BODY[n] and
    BODY[n.MIME] (and n.HEADER/n.TEXT of an encapsulated message),
    partials at, across and past the end, BINARY[n] and BINARY.SIZE[n] =
    the decoded bytes, BODYSTRUCTURE sizes and line counts = the part bytes;
  - POP3: LIST's size = STAT's share = the octets RETR sends (RFC 1939 11:
    line ends counted as CRLF, stuffing not counted), RETR unstuffed = the
    stored bytes with CRLF line ends, TOP n, UIDL unique;
  - the webmail: the .eml download = BODY[], an attachment download = its
    decoded bytes;
  - `pillarbox export mbox` read back as mboxrd = the stored bytes, and
    imported again the same;
  - the relay: what a remote MX receives, unstuffed, = the queued message
    (modulo the documented break of lines over 998 octets);
  - a message delivered to many recipients is stored once, and expunging
    one copy leaves the others' bytes intact; COPY and MOVE keep every
    byte and size; a backup restored has every byte.

Documented normalisations are expected as such, not as failures: line ends
made CRLF on the way in (except in a literal8), a leading mbox "From " line
dropped by `deliver`, NUL sent as 0x80 in a non-binary IMAP literal."""

import base64
import os
import quopri
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import warnings

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
import relaytest  # noqa: E402
import smtptest  # noqa: E402

sys.path.insert(0, os.path.join(pbtest.TOP_SRCDIR, "tests", "web"))
import webenv  # noqa: E402

PW = "fidelity pw"
APP, LDA, SMTP, IMP, WEB, BIG, MDIR = (
    "app@example.com", "lda@example.com", "smtp@example.com", "imp@example.com",
    "web@example.com", "big@example.com", "mdir@example.com")
MOVER = "mover@example.com"
MANY = ["r%d@example.com" % i for i in range(1, 6)]
# store/body.h BODY_INLINE_MAX: bodies up to this size live in the database,
# larger ones in files.
INLINE_MAX = 15 * 1024


# ------------------------------------------------------------------ corpus

class Part:
    """A MIME entity of the corpus, built from its pieces so that what IMAP
    must answer for it is known without parsing: `header` is the header
    block (blank line included when there is one), `body` its body; a
    multipart has `children` and a `boundary`, a message/rfc822 part the
    encapsulated `message`."""

    def __init__(self, header, body=b"", children=None, boundary=None, message=None,
                 preamble=b"", epilogue=b"", decoded=None):
        self.header = header
        m = re.search(rb"(?im)^content-type:\s*([a-z0-9.-]+)/([a-z0-9.+-]+)", header)
        self.kind = (m.group(1).decode().lower(), m.group(2).decode().lower()) if m else \
            ("text", "plain")
        self.children = children
        self.boundary = boundary
        self.message = message
        self.preamble = preamble
        self.epilogue = epilogue
        self.decoded = decoded
        if children is not None:
            for c in children:
                if message is None and kind_default_digest(self, c):
                    c.kind = ("message", "rfc822")
            out = [preamble]
            for i, child in enumerate(children):
                out.append((b"\r\n" if i > 0 or preamble else b"") + b"--" + boundary +
                           b"\r\n" + child.raw)
            out.append(b"\r\n--" + boundary + b"--" + epilogue)
            body = b"".join(out)
        elif message is not None:
            body = message.raw
        self.body = body
        self.raw = header + body


def kind_default_digest(parent, child):
    """RFC 2046 5.1.5: in a multipart/digest a part without Content-Type
    is message/rfc822."""
    return parent.kind == ("multipart", "digest") and \
        re.search(rb"(?im)^content-type:", child.header) is None


def hdr(*lines, blank=True):
    return b"".join(ln + b"\r\n" for ln in lines) + (b"\r\n" if blank else b"")


def leaf(body, *fields, ctype=b"text/plain", cte=None, decoded=None):
    lines = [b"Content-Type: " + ctype] + list(fields)
    if cte is not None:
        lines.append(b"Content-Transfer-Encoding: " + cte)
    if decoded is None:
        decoded = (base64.b64decode(body) if cte == b"base64" else
                   quopri.decodestring(body) if cte == b"quoted-printable" else body)
    return Part(hdr(*lines), body, decoded=decoded)


def multi(subtype, boundary, children, preamble=b"", epilogue=b"", top=()):
    h = hdr(*(list(top) + [b'Content-Type: multipart/' + subtype + b'; boundary="' +
                           boundary + b'"']))
    return Part(h, children=children, boundary=boundary, preamble=preamble, epilogue=epilogue)


def message(top, body):
    """A single-part message: header lines `top`, then `body`."""
    return Part(hdr(*top), body)


def ends_blank(header):
    """Whether a header block ends with the blank line that ends a header
    (CRLF, or LF in a literal8)."""
    return re.search(rb"(?:^|\n)\r?\n\Z", header) is not None


def header_fields(head, names, keep):
    """HEADER.FIELDS (keep) or HEADER.FIELDS.NOT of a header block: the
    fields named (or the others), each with its line end, then the blank
    line unless the message has none (RFC 3501 6.4.5; one was added
    always)."""
    fields = []
    for ln in re.findall(rb"[^\n]*\n|[^\n]+$", head):
        if ln in (b"\r\n", b"\n"):
            break
        if ln[:1] in (b" ", b"\t") and fields:
            fields[-1] += ln
        elif b":" in ln:
            fields.append(ln)
    out = b""
    for f in fields:
        name = f.split(b":", 1)[0].strip().lower()
        if (name in names) == keep:
            out += f if f.endswith(b"\n") else f + b"\r\n"
    return out + (b"\r\n" if ends_blank(head) else b"")


def lines_of(body):
    """BODYSTRUCTURE's line count (store/mime.h): the LFs, plus one for a
    last line without one."""
    return body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)


def padded(name, size, extra=()):
    """A plain message of exactly `size` bytes."""
    top = b"".join(h + b"\r\n" for h in [b"From: <alice@example.org>",
                                           b"Subject: " + name.encode()] + list(extra)) + b"\r\n"
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstu\r\n"
    body = (line * (size // len(line) + 1))[:size - len(top) - 2] + b"\r\n"
    raw = top + body
    assert len(raw) == size, (name, len(raw))
    return Part(top, body)


def b64_lines(data, eol=b"\r\n"):
    return b"".join(base64.b64encode(data[i:i + 57]) + eol for i in range(0, len(data), 57))


def build_corpus():
    """name -> (Part, ways): `ways` says which ways in can carry the message
    as it is: "smtp" (CRLF only, ending in CRLF, no NUL), "lda" (no NUL, not
    empty), "append" (any: a literal8 for "binary")."""
    C = {}
    any_way = {"smtp", "lda", "append", "import"}
    no_smtp = {"lda", "append", "import"}
    C["plain"] = (message([b"From: Alice <alice@example.org>", b"To: <bob@example.com>",
                           b"Subject: plain", b"Message-ID: <plain@example.org>",
                           b"Date: Mon, 01 Jan 2024 10:00:00 +0000"],
                          b"Hello,\r\nplain text.\r\n"), any_way)
    C["dots"] = (message([b"From: <alice@example.org>", b"Subject: dots and From"],
                         b".\r\n..\r\n...\r\n.x\r\nFrom me to you\r\n>From quoted\r\n"
                         b">>From twice\r\n leading space\r\n-- \r\n.\r\n"), any_way)
    C["utf8"] = (message(["From: J\u00f6rg <j@example.org>".encode(),
                          "Subject: Gr\u00fc\u00dfe \u2603".encode(), b"MIME-Version: 1.0",
                          b"Content-Type: text/plain; charset=utf-8",
                          b"Content-Transfer-Encoding: 8bit"],
                         "H\u00e4llo W\u00f6rld \U0001F600\r\nstra\u00dfe\r\n".encode()), any_way)
    C["long"] = (message([b"From: <alice@example.org>", b"Subject: long lines"],
                         b"a" * 998 + b"\r\n" + b"." + b"b" * 997 + b"\r\n" +
                         bytes(ord("c") + i % 20 for i in range(5000)) + b"\r\n" +
                         b"d" * 999 + b"\r\n"), any_way)
    C["nofinal"] = (message([b"From: <alice@example.org>", b"Subject: no final line end"],
                            b"first line\r\nlast line without CRLF"), no_smtp)
    C["hdronly"] = (Part(hdr(b"From: <alice@example.org>", b"Subject: only a header",
                             blank=False)), any_way)
    C["hdronly_nofinal"] = (Part(b"From: <alice@example.org>\r\nSubject: header, no CRLF"),
                            no_smtp)
    C["emptybody"] = (message([b"From: <alice@example.org>", b"Subject: empty body"], b""),
                      any_way)
    C["blanklines"] = (message([b"Subject: blank lines"], b"\r\n\r\n\r\n"), any_way)
    for name, size in (("s15359", INLINE_MAX - 1), ("s15360", INLINE_MAX),
                       ("s15361", INLINE_MAX + 1), ("s16k", 16 * 1024), ("s17k", 17 * 1024)):
        C[name] = (padded(name, size), any_way)
    inner_alt = multi(b"alternative", b"alt", [
        leaf(b"inner plain\r\n"),
        leaf(b"<p>inner html</p>", ctype=b"text/html; charset=utf-8")],
        top=[b"From: dave@example.org", b"Subject: inner message"])
    inner_single = Part(hdr(b"From: erin@example.org", b"Subject: inner single",
                            b"Content-Type: text/plain"), b"one inner line\r\nno end")
    blob = bytes(range(256)) * 3
    qp_text = "Stra\u00dfe und Caf\u00e9 = gut\r\n".encode("latin-1")
    deep = leaf(b"deepest\r\n")
    for i in range(6):
        deep = multi(b"mixed", b"deep%d" % i, [deep, leaf(b"level %d\r\n" % i)])
    nested = multi(b"mixed", b"outer", [
        leaf("caf\u00e9\r\n".encode(), ctype=b"text/plain; charset=utf-8", cte=b"8bit"),
        Part(hdr(b"Content-Type: message/rfc822", b"Content-Description: forwarded"),
             message=inner_alt),
        leaf(b64_lines(blob), b'Content-Disposition: attachment; filename="blob.bin"',
             ctype=b"application/octet-stream", cte=b"base64", decoded=blob),
        leaf(quopri.encodestring(qp_text.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n"),
             ctype=b"text/plain; charset=iso-8859-1", cte=b"quoted-printable"),
        Part(hdr(b"Content-Type: message/rfc822"), message=inner_single),
        deep,
        leaf(b"no line end before the close delimiter"),
    ], preamble=b"This is a multi-part message.", epilogue=b"\r\nepilogue\r\n",
        top=[b"From: carol@example.org", b"To: bob@example.com", b"Subject: nested",
             b"MIME-Version: 1.0"])
    C["nested"] = (nested, any_way)
    # quoted-printable's corners (RFC 2045 6.7): trailing white space is
    # padding, "=" at a line end a soft break (also at the very end), a
    # lowercase hex pair is taken, "=ZZ" is left as it is
    qp_body = (b"caf=C3=A9 =3D ok  \r\nsoft=\r\nbreak\r\nlower=c3=a9\r\n"
               b"bad=ZZ end\r\ntrail=20\r\nlast=")
    qp_plain = b"caf\xc3\xa9 = ok\r\nsoftbreak\r\nlower\xc3\xa9\r\nbad=ZZ end\r\ntrail \r\nlast"
    digest = multi(b"digest", b"dig", [
        Part(b"\r\n", message=Part(hdr(b"Subject: first digest entry"), b"one\r\n")),
        Part(b"Content-Type: message/rfc822\r\n\r\n",
             message=Part(hdr(b"Subject: second"), b"two"))])
    C["parts"] = (multi(b"mixed", b"p", [
        leaf(qp_body, ctype=b"text/plain; charset=utf-8", cte=b"quoted-printable",
             decoded=qp_plain),
        digest,
        leaf(b"", ctype=b"application/octet-stream", cte=b"base64", decoded=b""),
    ] + [leaf(b"part %d\r\n" % i) for i in range(150)],   # a MIME cache over 3000 bytes
        epilogue=b"\r\n", top=[b"Subject: QP, digest and 150 parts", b"MIME-Version: 1.0"]),
        any_way)
    C["toprfc822"] = (Part(hdr(b"Subject: a message/rfc822 message", b"MIME-Version: 1.0",
                               b"Content-Type: message/rfc822"),
                           message=multi(b"alternative", b"alt2", [leaf(b"a\r\n"), leaf(b"b")],
                                         epilogue=b"\r\n", top=[b"Subject: inside"])), any_way)
    C["blankfirst"] = (Part(b"\r\n", b"no header fields at all\r\n"), any_way)
    # (not Received: fields: that many would be a mail loop to smtpd)
    big_header = [b"X-Trace-%d: relay%d.example.net (relay%d.example.net [192.0.2.%d])\r\n"
                  b"\tid %08d; Mon, 1 Jan 2024 10:00:00 +0000" % (i, i, i, i % 250, i)
                  for i in range(1500)]
    C["bigheader"] = (message(big_header + [b"From: <alice@example.org>",
                                            b"Subject: a very large header"],
                              b"small body\r\n"), any_way)
    return C


def binary_corpus():
    """Messages only a literal8 carries as they are (RFC 3516)."""
    data = b"\x00\x01\r\n\n\rtail\x00"
    return {
        "nul": message([b"Subject: a NUL", b"Content-Type: application/octet-stream",
                        b"Content-Transfer-Encoding: binary"], b"ab\x00cd\r\n"),
        "barelf": Part(b"Subject: bare LF\nContent-Type: text/plain\n\n",
                       b"line one\nline two\rsame line\n\nend"),
        "b64lf": multi(b"mixed", b"b", [
            leaf(b64_lines(data, b"\n"), ctype=b"application/octet-stream", cte=b"base64",
                 decoded=data),
            leaf(b64_lines(data), ctype=b"application/octet-stream", cte=b"base64",
                 decoded=data)], top=[b"Subject: base64, LF and CRLF"]),
    }


def canonical(raw):
    """The store's canonical form of a non-binary message: bare CR and bare
    LF made CRLF."""
    return re.sub(rb"\r\n|\r|\n", b"\r\n", raw)


def crlf_form(raw):
    """What a POP3 client receives (RFC 1939 11): every line ended by CRLF,
    the last one too. A bare CR stays as it is (the POP3 encoder fixes LFs)."""
    out = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
    if out and not out.endswith(b"\n"):
        out += b"\n" if out.endswith(b"\r") else b"\r\n"
    return out


# ----------------------------------------------------------- expectations

def expected_sections(part):
    """{section: bytes} of a whole message (Part) as RFC 3501 6.4.5 numbers
    them, without the per-copy prefix (added by the caller to HEADER)."""
    out = {"HEADER": part.header, "TEXT": part.body}

    def walk(p, number):
        out[number] = p.body
        out[number + ".MIME"] = p.header
        if p.children is not None:
            for i, c in enumerate(p.children, 1):
                walk(c, "%s.%d" % (number, i))
        elif p.message is not None:
            m = p.message
            out[number + ".HEADER"] = m.header
            out[number + ".TEXT"] = m.body
            if m.children is not None:
                for i, c in enumerate(m.children, 1):
                    walk(c, "%s.%d" % (number, i))
            else:
                out[number + ".1"] = m.body
                out[number + ".1.MIME"] = m.header

    if part.children is not None:
        for i, c in enumerate(part.children, 1):
            walk(c, str(i))
    else:
        walk(part, "1")
        out["1.MIME"] = part.header   # the message's header (and the prefix)
    return out


def expected_binary(part):
    """{section: decoded bytes} of the leaves that have a transfer encoding
    to undo, and the others as they are."""
    out = {}

    def walk(p, number):
        if p.children is not None:
            for i, c in enumerate(p.children, 1):
                walk(c, "%s.%d" % (number, i) if number else str(i))
        elif p.message is None and p.decoded is not None:
            out[number or "1"] = p.decoded

    walk(part, "")
    return out


def structure_expect(p):
    """The sizes BODYSTRUCTURE must give for part p: ("multipart", [kids])
    or (size, lines or None, inner or None)."""
    if p.children is not None:
        return ("multipart", [structure_expect(c) for c in p.children])
    if p.message is not None:
        return (len(p.body), lines_of(p.body), structure_expect(p.message))
    return (len(p.body), lines_of(p.body) if p.kind[0] == "text" else None, None)


def webmail_parts(part):
    """{index: bytes a download gives} of the parts the webmail offers, by
    its numbering (store/mime.h: every part in pre-order, an encapsulated
    message one of them): the leaves, decoded."""
    out, order = {}, []

    def walk(p):
        order.append(p)
        if p.children is not None:
            for c in p.children:
                walk(c)
        elif p.message is not None:
            walk(p.message)

    walk(part)
    for i, p in enumerate(order):
        if p.children is None and p.message is None:
            out[i] = p.decoded if p.decoded is not None else p.body
    return out


def mboxrd_read(data):
    """The messages of an mboxrd file, LF line ends, ">From " unquoted, the
    writer's blank line and the Status:/X-Status:/X-Keywords: fields
    export adds taken off again."""
    msgs = []
    for ln in data.split(b"\n")[:-1]:
        if ln.startswith(b"From "):
            msgs.append([])
            continue
        if re.match(rb">+From ", ln):
            ln = ln[1:]
        msgs[-1].append(ln)
    out = []
    for lines in msgs:
        assert lines and lines[-1] == b"", "a blank line before the next From"
        lines = lines[:-1]
        end = lines.index(b"") if b"" in lines else len(lines)
        head = [ln for ln in lines[:end] if not re.match(rb"(?i)(X-)?Status:|X-Keywords:", ln)]
        out.append(b"".join(ln + b"\n" for ln in head + lines[end:]))
    return out


# ------------------------------------------------------------- IMAP parsing

class Sexp:
    """A parser for the values of an IMAP response line as imaptest.Raw
    returns it (literals inline right after their {n})."""

    def __init__(self, data, pos=0):
        self.d = data
        self.i = pos

    def skip(self):
        while self.i < len(self.d) and self.d[self.i:self.i + 1] == b" ":
            self.i += 1

    def value(self):
        self.skip()
        c = self.d[self.i:self.i + 1]
        if c == b"(":
            self.i += 1
            out = []
            while True:
                self.skip()
                if self.d[self.i:self.i + 1] == b")":
                    self.i += 1
                    return out
                out.append(self.value())
        if c == b'"':
            self.i += 1
            out = bytearray()
            while self.d[self.i:self.i + 1] != b'"':
                if self.d[self.i:self.i + 1] == b"\\":
                    self.i += 1
                out += self.d[self.i:self.i + 1]
                self.i += 1
            self.i += 1
            return bytes(out)
        m = re.compile(rb"~?\{(\d+)\}").match(self.d, self.i)
        if m:
            n = int(m.group(1))
            self.i = m.end() + n
            return self.d[m.end():self.i]
        m = re.compile(rb"[^ ()\[]+(\[[^\]]*\])?(<\d+>)?").match(self.d, self.i)
        self.i = m.end()
        tok = m.group(0)
        if tok == b"NIL":
            return None
        return int(tok) if tok.isdigit() else tok

    def fetch_items(self):
        """{ITEM: value} of "* n FETCH (...)"."""
        m = re.compile(rb"\* \d+ FETCH \(").match(self.d)
        assert m, self.d[:200]
        self.i = m.end()
        out = {}
        while True:
            self.skip()
            if self.d[self.i:self.i + 1] == b")":
                return out
            key = self.value()
            out[key.decode()] = self.value()


def fetch(c, seq, items):
    """{ITEM: value} of one message (untagged FLAGS updates ignored)."""
    u, t = c.cmd("FETCH %d (%s)" % (seq, items))
    assert b" OK " in t, (items, t)
    got = {}
    for line in u:
        if re.match(rb"\* %d FETCH " % seq, line):
            got.update(Sexp(line).fetch_items())
    return got


def uid_fetch(c, uid, items):
    u, t = c.cmd("UID FETCH %d (%s)" % (uid, items))
    assert b" OK " in t, (items, t)
    got = {}
    for line in u:
        if b" FETCH " in line:
            got.update(Sexp(line).fetch_items())
    return got


# ------------------------------------------------------------------- POP3

class Pop:
    """A line-level POP3 client that keeps every octet RETR sends."""

    def __init__(self, address, user):
        self.sock = socket.create_connection(address, timeout=60)
        self.f = self.sock.makefile("rb")
        assert self.f.readline().startswith(b"+OK")
        assert self.cmd("USER " + user).startswith(b"+OK")
        assert self.cmd("PASS " + PW).startswith(b"+OK")

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.f.readline()

    def multi(self, text):
        """(status line, the data unstuffed) of a multi-line response."""
        status = self.cmd(text)
        assert status.startswith(b"+OK"), (text, status)
        data = []
        while True:
            ln = self.f.readline()
            assert ln.endswith(b"\r\n"), ln[-50:]
            if ln == b".\r\n":
                return status, b"".join(data)
            data.append(ln[1:] if ln.startswith(b".") else ln)

    def listing(self, verb):
        _, data = self.multi(verb)
        return dict((int(a), b) for a, b in (ln.split() for ln in data.splitlines()))

    def close(self):
        try:
            self.cmd("QUIT")
            self.f.close()
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- the suite

class FidelityBase(unittest.TestCase):
    maxDiff = 2000

    def assertBytes(self, got, want, what):
        """Equal bytes, or a failure that shows where they part."""
        if got == want:
            return
        if got is None or want is None:
            self.fail("%s: %r != %r" % (what, got, want))
        i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]),
                 min(len(got), len(want)))
        self.fail("%s: %d bytes, expected %d; first difference at %d: %r vs %r"
                  % (what, len(got), len(want), i, got[max(0, i - 20):i + 30],
                     want[max(0, i - 20):i + 30]))


class Fidelity(FidelityBase):
    """Every way in, every way out, one store."""

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)   # webenv's log file
        # (SmtpFixture: its close fails on a sanitizer report in the log)
        cls.fx = smtptest.SmtpFixture("fidelity", users=False, config_extra={
            "templates": os.path.abspath(os.path.join(pbtest.TOP_SRCDIR, "templates")),
            "webmail_base": "/webmail", "max_message_size": "20M"})
        for u in [APP, LDA, SMTP, IMP, WEB, BIG, MDIR, MOVER] + MANY:
            cls.fx.add_user(u, PW)
        cls.imap = imaptest.launch(cls.fx)
        cls.pop3 = cls.fx.socket_activate(cls.fx.program("inetd/pop3d"))
        cls.mx = cls.fx.socket_activate(cls.fx.program("inetd/smtpd"), "--mode=mx", "--relay=")
        cls.corpus = build_corpus()
        cls.binary = binary_corpus()
        # what each user's INBOX must hold, in order: (name, stored bytes,
        # length of the per-copy prefix or None for SMTP's, Part)
        cls.stored = {}
        cls.web = None
        try:
            cls.put_append()
            cls.put_deliver()
            cls.put_smtp()
            cls.put_import()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def webmail(cls):
        """pillarbox-webmaild on this store (started on first use)."""
        if cls.web is None:
            store = type("S", (), {"conf": cls.fx.conf, "dir": cls.fx.dir,
                                   "env": dict(os.environ, PILLARBOX_AUTH_DELAY_MS="0")})
            cls.web = webenv.Webmaild(store)
        return cls.web

    def web_client(self, user):
        c = webenv.Client(self.webmail())
        c.login(user, PW)
        return c

    @staticmethod
    def inbox_id(client):
        page = client.get("/compose").text
        return int(re.search(r'list\?mb=(\d+)"[^>]*><img[^>]*><span class="label">Inbox<',
                             page).group(1))

    @classmethod
    def tearDownClass(cls):
        if cls.web is not None:
            cls.web.stop()
        cls.fx.close()

    # ------------------------------------------------------------- ways in

    @classmethod
    def imap_client(cls, user):
        c = imaptest.Raw(cls.imap.address, timeout=120)
        c.login(user, PW)
        return c

    @classmethod
    def put_append(cls):
        """APPEND: LITERAL+ for the corpus (one MULTIAPPEND for two of
        them), a synchronizing literal, literal8 for the binary ones."""
        c = cls.imap_client(APP)
        out = cls.stored[APP] = []
        names = [n for n, (_, ways) in cls.corpus.items() if "append" in ways]
        for n in names[2:]:
            raw = cls.corpus[n][0].raw
            _, t = c.cmd(b"APPEND INBOX {%d+}\r\n" % len(raw) + raw)
            assert b"OK [APPENDUID" in t, (n, t)
            out.append((n, raw, 0, cls.corpus[n][0]))
        a, b = (cls.corpus[n][0].raw for n in names[:2])
        _, t = c.cmd(b"APPEND INBOX {%d+}\r\n%s {%d+}\r\n%s" % (len(a), a, len(b), b))
        assert b"OK [APPENDUID" in t, t
        out.extend((n, cls.corpus[n][0].raw, 0, cls.corpus[n][0]) for n in names[:2])
        # a synchronizing literal, bare CR and bare LF made CRLF
        raw = b"Subject: bare CR and LF\n\nab\rcd\nef\r\n"
        c.send(b"t APPEND INBOX {%d}\r\n" % len(raw))
        assert c.line().startswith(b"+ ")
        c.send(raw + b"\r\n")
        assert b"OK [APPENDUID" in c.until("t")[1]
        out.append(("bare_cr_lf", canonical(raw), 0,
                    Part(b"Subject: bare CR and LF\r\n\r\n", b"ab\r\ncd\r\nef\r\n")))
        for n, part in cls.binary.items():
            c.send(b"t APPEND INBOX ~{%d}\r\n" % len(part.raw))
            assert c.line().startswith(b"+ ")
            c.send(part.raw + b"\r\n")
            assert b"OK [APPENDUID" in c.until("t")[1], n
            out.append((n, part.raw, 0, part))
        c.close()

    @classmethod
    def put_deliver(cls):
        """`pillarbox deliver`: an LDA fed by an MTA, so LF is a line end
        and a leading "From " line is the mbox envelope."""
        out = cls.stored[LDA] = []
        prefix = b"Return-Path: <>\r\nDelivered-To: %s\r\n" % LDA.encode()
        for n, (part, ways) in cls.corpus.items():
            if "lda" not in ways:
                continue
            raw = part.raw
            if n == "dots":
                # as an MTA's pipe gives it: LF line ends, an mbox From line
                raw = b"From alice@example.org Mon Jan  1 10:00:00 2024\n" + \
                    raw.replace(b"\r\n", b"\n")
            cls.fx.deliver(LDA, raw)
            out.append((n, prefix + part.raw, len(prefix), part))
        r = cls.fx.pillarbox("deliver", LDA, input=b"", check=False)
        cls.empty_deliver = r.returncode

    @classmethod
    def put_smtp(cls):
        """SMTP DATA in mx mode, dot-stuffed here; stored after smtpd's
        Return-Path, Delivered-To and Received lines."""
        s = smtptest.Raw(cls.mx.address, timeout=60)
        assert s.cmd("EHLO client.example.org")[0] == 250
        out = cls.stored[SMTP] = []
        for n, (part, ways) in cls.corpus.items():
            if "smtp" not in ways:
                continue
            raw = part.raw
            assert raw.endswith(b"\r\n") and b"\0" not in raw, n
            stuffed = re.sub(rb"(?m)^\.", b"..", raw)
            assert s.cmd("MAIL FROM:<alice@example.org> BODY=8BITMIME")[0] == 250
            assert s.cmd("RCPT TO:<%s>" % SMTP)[0] == 250
            assert s.cmd("DATA")[0] == 354
            s.send(stuffed + b".\r\n")
            code, lines = s.reply()
            assert code == 250, (n, lines)
            out.append((n, raw, None, part))
        s.cmd("QUIT")
        s.close()

    @classmethod
    def put_import(cls):
        """`pillarbox import mbox` (an mboxrd file as mutt writes it) and
        `pillarbox import maildir`."""
        out = cls.stored[IMP] = []
        path = os.path.join(cls.fx.dir, "import.mbox")
        with open(path, "wb") as f:
            for n, (part, ways) in cls.corpus.items():
                if "import" not in ways or not part.raw.endswith(b"\r\n"):
                    continue
                f.write(b"From alice@example.org Mon Jan  1 10:00:00 2024\n")
                for ln in part.raw.replace(b"\r\n", b"\n").split(b"\n")[:-1]:
                    f.write((b">" if re.match(rb">*From ", ln) else b"") + ln + b"\n")
                f.write(b"\n")
                out.append((n, part.raw, 0, part))
        os.chmod(path, 0o644)
        cls.fx.pillarbox("import", "mbox", IMP, "INBOX", path)
        # a Maildir as Dovecot keeps it: LF line ends, S= and W= sizes, the
        # order from dovecot-uidlist
        out = cls.stored[MDIR] = []
        maildir = os.path.join(cls.fx.dir, "Maildir")
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, d))
        uidlist = ["3 V1700000000 N%d G0" % (len(cls.corpus) + 1)]
        for uid, (n, (part, ways)) in enumerate(cls.corpus.items(), 1):
            lf = part.raw.replace(b"\r\n", b"\n")
            base = "17000%05d.M%dP1.host,S=%d,W=%d" % (uid, uid, len(lf), len(part.raw))
            with open(os.path.join(maildir, "cur", base + ":2,S"), "wb") as f:
                f.write(lf)
            uidlist.append("%d :%s" % (uid, base))
            out.append((n, part.raw, 0, part))
        with open(os.path.join(maildir, "dovecot-uidlist"), "w") as f:
            f.write("\n".join(uidlist) + "\n")
        for d, _, files in os.walk(maildir):
            os.chmod(d, 0o755)
            for name in files:
                os.chmod(os.path.join(d, name), 0o644)
        cls.fx.pillarbox("import", "maildir", MDIR, maildir)

    # ------------------------------------------------------------ helpers

    def stored_of(self, user):
        """[(name, bytes, prefix length, Part)] with SMTP's added lines
        resolved from the store."""
        out = []
        peek = None
        for i, (n, raw, plen, part) in enumerate(self.stored[user]):
            if plen is None:
                if peek is None:
                    peek = self.fx_peek(user)
                m, rest = smtptest.split_stored(peek[i])
                self.assertBytes(rest, raw, "%s via SMTP: stored as sent" % n)
                raw, plen = peek[i], m.end()
            out.append((n, raw, plen, part))
        return out

    def fx_peek(self, user):
        data = subprocess.run([self.fx.program("tests/integration/smtp_peek"), self.fx.conf,
                               "dump", user], stdout=subprocess.PIPE, check=True,
                              env=self.fx.env({"PILLARBOX_LOG_STDERR": "0"})).stdout
        msgs, pos = [], 0
        while pos < len(data):
            nl = data.index(b"\n", pos)
            _, size = (int(x) for x in data[pos:nl].split())
            msgs.append(data[nl + 1:nl + 1 + size])
            pos = nl + 1 + size + 1
        return msgs

    def check_imap(self, user):
        """Every section of every message of user's INBOX."""
        c = self.imap_client(user)
        self.addCleanup(c.close)
        c.cmd("EXAMINE INBOX")
        for seq, (n, raw, plen, part) in enumerate(self.stored_of(user), 1):
            with self.subTest(user=user, message=n):
                self.check_imap_message(c, seq, n, raw, plen, part)

    def check_imap_message(self, c, seq, n, raw, plen, part):
        wire = raw.replace(b"\0", b"\x80")   # a literal cannot carry NUL
        got = fetch(c, seq, "RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT] "
                    "BODYSTRUCTURE RFC822.HEADER RFC822.TEXT")
        self.assertBytes(got["BODY[]"], wire, "%s: BODY[]" % n)
        self.assertEqual(got["RFC822.SIZE"], len(raw), "%s: RFC822.SIZE" % n)
        head, text = got["BODY[HEADER]"], got["BODY[TEXT]"]
        self.assertBytes(head + text, wire, "%s: HEADER + TEXT" % n)
        self.assertEqual(got["RFC822.HEADER"], head, "%s: RFC822.HEADER" % n)
        f = fetch(c, seq, "BODY.PEEK[HEADER.FIELDS (Subject From)] "
                  "BODY.PEEK[HEADER.FIELDS.NOT (Subject From)]")
        self.assertBytes(f["BODY[HEADER.FIELDS (Subject From)]"],
                         header_fields(head, (b"subject", b"from"), True),
                         "%s: HEADER.FIELDS" % n)
        self.assertBytes(f["BODY[HEADER.FIELDS.NOT (Subject From)]"],
                         header_fields(head, (b"subject", b"from"), False),
                         "%s: HEADER.FIELDS.NOT" % n)
        self.assertEqual(got["RFC822.TEXT"], text, "%s: RFC822.TEXT" % n)
        want = expected_sections(part)
        self.assertBytes(head, (raw[:plen] + want["HEADER"]).replace(b"\0", b"\x80"),
                         "%s: BODY[HEADER]" % n)
        if ends_blank(part.header):
            self.assertTrue(ends_blank(head), "%s: HEADER ends with the blank line" % n)
        else:
            self.assertEqual(text, b"", "%s: no blank line: TEXT is empty" % n)
        # every section as built
        names = [s for s in want if s not in ("HEADER", "TEXT")]
        for i in range(0, len(names), 12):
            items = " ".join("BODY.PEEK[%s]" % s for s in names[i:i + 12])
            sec = fetch(c, seq, items)
            for s in names[i:i + 12]:
                exp = want[s]
                if s == "1.MIME" and part.children is None:
                    # a one-part message's MIME header is its header, as
                    # HEADER (it lacked the per-copy prefix)
                    exp = raw[:plen] + exp
                self.assertBytes(sec["BODY[%s]" % s], exp.replace(b"\0", b"\x80"),
                                 "%s: BODY[%s]" % (n, s))
        # BINARY of every leaf, and its size
        dec = expected_binary(part)
        for i in range(0, len(dec), 12):
            some = list(dec)[i:i + 12]
            b = fetch(c, seq, " ".join("BINARY.PEEK[%s] BINARY.SIZE[%s]" % (s, s) for s in some))
            for s in some:
                data = dec[s]
                self.assertBytes(b["BINARY[%s]" % s], data, "%s: BINARY[%s]" % (n, s))
                self.assertEqual(b["BINARY.SIZE[%s]" % s], len(data),
                                 "%s: BINARY.SIZE[%s]" % (n, s))
        for s in list(dec)[:3]:   # partials of the decoded bytes
            data = dec[s]
            b = fetch(c, seq, "BINARY.PEEK[%s]<1.5> BINARY.PEEK[%s]<%d.5>" % (s, s, len(data)))
            self.assertBytes(b["BINARY[%s]<1>" % s], data[1:6], "%s: BINARY[%s]<1.5>" % (n, s))
            self.assertBytes(b["BINARY[%s]<%d>" % (s, len(data))], b"",
                             "%s: BINARY[%s] past its end" % (n, s))
        b = fetch(c, seq, "BINARY.PEEK[] BINARY.SIZE[]")
        self.assertBytes(b["BINARY[]"], raw, "%s: BINARY[]" % n)
        self.assertEqual(b["BINARY.SIZE[]"], len(raw), "%s: BINARY.SIZE[]" % n)
        # BODYSTRUCTURE sizes and lines; ENVELOPE's subject as written
        self.check_structure(got["BODYSTRUCTURE"], structure_expect(part), n, "")
        subject = re.search(rb"(?im)^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", part.header)
        if subject is not None:
            env = fetch(c, seq, "ENVELOPE")["ENVELOPE"]
            self.assertBytes(env[1], re.sub(rb"\r?\n", b"", subject.group(1)).rstrip(b"\r\t "),
                             "%s: ENVELOPE subject" % n)
        # partials at, across and past the end
        size = len(raw)
        for origin, length in ((0, 1), (0, size + 10), (max(size - 3, 0), 10), (size, 5),
                               (size + 7, 3), (plen, 4)):
            p = fetch(c, seq, "BODY.PEEK[]<%d.%d>" % (origin, length))
            self.assertBytes(p["BODY[]<%d>" % origin], wire[origin:origin + length],
                             "%s: BODY[]<%d.%d>" % (n, origin, length))
        if text:
            p = fetch(c, seq, "BODY.PEEK[TEXT]<%d.%d>" % (len(text) - 1, 10))
            self.assertBytes(p["BODY[TEXT]<%d>" % (len(text) - 1)], text[-1:],
                             "%s: the last octet of TEXT" % n)

    def check_structure(self, got, want, n, where):
        what = "%s: BODYSTRUCTURE %s" % (n, where or "top")
        if want[0] == "multipart":
            kids = []
            for x in got:
                if not isinstance(x, list):
                    break
                kids.append(x)
            self.assertEqual(len(kids), len(want[1]), what + ": parts")
            for i, (g, w) in enumerate(zip(kids, want[1]), 1):
                self.check_structure(g, w, n, "%s%d" % (where + "." if where else "", i))
            return
        size, lines, inner = want
        self.assertEqual(got[6], size, what + ": size")
        if inner is not None:
            self.assertEqual(got[9], lines, what + ": lines")
            self.check_structure(got[8], inner, n, where + "(message)")
        elif lines is not None:
            self.assertEqual(got[7], lines, what + ": lines")

    def check_pop3(self, user):
        """LIST = octets RETR sends = the stored bytes with CRLF line ends."""
        p = Pop(self.pop3.address, user)
        self.addCleanup(p.close)
        msgs = self.stored_of(user)
        stat = p.cmd("STAT").split()
        sizes = p.listing("LIST")
        uidl = p.listing("UIDL")
        self.assertEqual(len(sizes), len(msgs))
        self.assertEqual(len(set(uidl.values())), len(msgs), "UIDLs are unique")
        self.assertEqual(int(stat[2]), sum(int(v) for v in sizes.values()), "STAT = sum of LIST")
        for i, (n, raw, plen, part) in enumerate(msgs, 1):
            with self.subTest(user=user, message=n):
                want = crlf_form(raw)
                status, data = p.multi("RETR %d" % i)
                self.assertBytes(data, want, "%s: RETR, unstuffed" % n)
                # (LIST said the stored size, 2 short for a message not
                # ending in CRLF, 1 per bare LF of a literal8 one)
                self.assertEqual(int(sizes[i]), len(data), "%s: LIST size = octets of RETR" % n)
                self.assertEqual(int(p.cmd("LIST %d" % i).split()[2]), len(data),
                                 "%s: LIST n" % n)
                self.assertEqual(status, b"+OK %d octets\r\n" % len(data), "%s: RETR's +OK" % n)
                blank = want.find(b"\r\n\r\n")
                head_len = 2 if want.startswith(b"\r\n") else blank + 4 if blank >= 0 else None
                for k in (0, 1, 3):
                    _, top = p.multi("TOP %d %d" % (i, k))
                    if head_len is None:
                        self.assertBytes(top, want, "%s: TOP %d of a header only" % (n, k))
                        continue
                    body = want[head_len:]
                    cut = body.split(b"\r\n")[:k]
                    exp = want[:head_len] + b"".join(ln + b"\r\n" for ln in cut)
                    if k >= len(body.split(b"\r\n")) - (1 if body.endswith(b"\r\n") else 0):
                        exp = want
                    self.assertBytes(top, exp, "%s: TOP %d" % (n, k))
        self.assertEqual(p.listing("UIDL"), uidl, "UIDLs stay the same")

    def check_structure_generic(self, c, seq, what):
        """Without a model: each part BODYSTRUCTURE lists has the size and
        the line count of its BODY[n]; returns {section: (type, subtype)}."""
        bs = fetch(c, seq, "BODYSTRUCTURE")["BODYSTRUCTURE"]
        found = {}

        def walk(node, number):
            if isinstance(node[0], list):
                for i, kid in enumerate(node):
                    if not isinstance(kid, list):
                        break
                    walk(kid, "%s.%d" % (number, i + 1) if number else str(i + 1))
                return
            sec = number or "1"
            body = fetch(c, seq, "BODY.PEEK[%s]" % sec)["BODY[%s]" % sec]
            found[sec] = (node[0].lower(), node[1].lower())
            self.assertEqual(node[6], len(body), "%s: BODYSTRUCTURE size of %s" % (what, sec))
            if node[0].lower() == b"text":
                self.assertEqual(node[7], lines_of(body), "%s: lines of %s" % (what, sec))

        walk(bs, "")
        return found

    # -------------------------------------------------------------- tests

    def test_append(self):
        self.check_imap(APP)
        self.check_pop3(APP)

    def test_append_empty(self):
        """APPEND {0} is refused, as `deliver` and import refuse an empty
        message (an mbox export could not carry it back): no "+" for a
        synchronizing literal, a MULTIAPPEND with one is all refused."""
        c = self.imap_client(APP)
        self.addCleanup(c.close)
        c.cmd("CREATE Empty")
        self.assertRegex(c.cmd(b"APPEND Empty {0+}\r\n")[1], rb"^t\d+ NO \[CANNOT\] ")
        c.send(b"s APPEND Empty {0}\r\n")
        self.assertRegex(c.line(), rb"^s NO \[CANNOT\] ")
        one = b"Subject: one\r\n\r\nx\r\n"
        self.assertRegex(c.cmd(b"APPEND Empty {%d+}\r\n%s {0+}\r\n" % (len(one), one))[1],
                         rb"^t\d+ NO \[CANNOT\] ")
        self.assertRegex(c.cmd(b"APPEND Empty ~{0+}\r\n")[1], rb"^t\d+ NO \[CANNOT\] ")
        u, _ = c.cmd("STATUS Empty (MESSAGES)")
        self.assertIn(b"(MESSAGES 0)", u[0])
        self.assertIn(b" OK ", c.cmd("NOOP")[1])

    def test_deliver(self):
        self.check_imap(LDA)
        self.check_pop3(LDA)
        self.assertEqual(self.empty_deliver, 65, "deliver refuses an empty message (EX_DATAERR)")

    def test_smtp(self):
        self.check_imap(SMTP)
        self.check_pop3(SMTP)

    def test_import(self):
        self.check_imap(IMP)
        self.check_pop3(IMP)

    def test_import_maildir(self):
        self.check_imap(MDIR)
        self.check_pop3(MDIR)


    def test_webmail_download(self):
        """The .eml download is BODY[] byte for byte (NUL too: it is no
        IMAP literal); a part's download is its decoded bytes."""
        c = self.web_client(APP)
        mb = self.inbox_id(c)
        for uid, (n, raw, plen, part) in enumerate(self.stored_of(APP), 1):
            with self.subTest(message=n):
                r = c.get("/raw?mb=%d&uid=%d&dl=1" % (mb, uid))
                self.assertEqual(r.status, 200)
                self.assertBytes(r.body, raw, "%s: .eml download" % n)
                r = c.get("/raw?mb=%d&uid=%d" % (mb, uid))
                self.assertBytes(r.body, raw, "%s: view source" % n)
                if n in ("nested", "b64lf", "parts"):
                    for index, data in webmail_parts(part).items():
                        r = c.get("/part?mb=%d&uid=%d&part=%d" % (mb, uid, index))
                        self.assertEqual(r.status, 200, "%s: part %d" % (n, index))
                        self.assertBytes(r.body, data, "%s: part %d download" % (n, index))

    def test_webmail_compose(self):
        """A message the webmail writes: its attachments come back byte for
        byte (BINARY, the part download), every part's size and lines are
        right, and the Sent copy is the delivered one without its prefix."""
        c = self.web_client(WEB)
        files = [("a.bin", bytes(range(256)) * 70 + b"\r\n\n\r\x00", "application/octet-stream"),
                 ("b.txt", b"line\r\n.\r\n..\r\nFrom x\r\nno end", "text/plain"),
                 ("empty.dat", b"", "application/octet-stream")]
        text = ("Dots:\r\n.\r\n..\r\nFrom here\r\nUTF-8: caf\u00e9 \u2603\r\n" +
                "flowed: " + "word " * 30 + "end\r\n" + "x" * 100)   # quoted-printable
        self.compose_send(c, "/compose", [("subject", "web \u00e9t\u00e9"), ("body", text)] +
                          [("attach", f) for f in files])
        imap = self.imap_client(WEB)
        self.addCleanup(imap.close)
        imap.cmd("EXAMINE Sent")
        sent = fetch(imap, 1, "BODY.PEEK[] RFC822.SIZE")
        imap.cmd("EXAMINE INBOX")
        got = fetch(imap, 1, "BODY.PEEK[] BODY.PEEK[HEADER] RFC822.SIZE")
        self.assertEqual(got["RFC822.SIZE"], len(got["BODY[]"]))
        self.assertEqual(sent["RFC822.SIZE"], len(sent["BODY[]"]))
        prefix = b"Return-Path: <%s>\r\nDelivered-To: %s\r\n" % (WEB.encode(), WEB.encode())
        self.assertBytes(got["BODY[]"], prefix + sent["BODY[]"], "delivered = prefix + Sent copy")
        parts = self.check_structure_generic(imap, 1, "compose")
        self.assertEqual(sorted(parts), ["1", "2", "3", "4"])
        mb = self.inbox_id(c)
        for i, (name, data, ctype) in enumerate(files, 2):
            b = fetch(imap, 1, "BINARY.PEEK[%d] BINARY.SIZE[%d]" % (i, i))
            self.assertBytes(b["BINARY[%d]" % i], data, "%s: BINARY" % name)
            self.assertEqual(b["BINARY.SIZE[%d]" % i], len(data), "%s: BINARY.SIZE" % name)
            r = c.get("/part?mb=%d&uid=1&part=%d" % (mb, i))
            self.assertBytes(r.body, data, "%s: the webmail's download" % name)
        # the text, once its transfer encoding and format=flowed are undone
        mime = fetch(imap, 1, "BODY.PEEK[1.MIME] BINARY.PEEK[1]")
        self.assertIn(b"format=flowed", mime["BODY[1.MIME]"])
        self.assertIn(b"quoted-printable", mime["BODY[1.MIME]"])
        plain = b""
        lines = mime["BINARY[1]"].split(b"\r\n")
        for i, ln in enumerate(lines):   # RFC 3676 4.2, 4.4
            ln = ln[1:] if ln.startswith(b" ") else ln
            soft = ln.endswith(b" ") and ln != b"-- "
            plain += ln if soft or i == len(lines) - 1 else ln + b"\r\n"
        self.assertBytes(plain, text.encode() + b"\r\n", "the text, unflowed")
        # forwarded as an attachment: message/rfc822 with the original's
        # bytes (without the per-copy prefix), the last line end too (the
        # delimiter after a part took it, RFC 2046 5.1.1)
        self.compose_send(c, "/compose?mode=attach&mb=%d&uid=1" % mb,
                          [("subject", "forwarded"), ("body", "See it."), ("keep", "o:m")])
        imap.cmd("NOOP")
        fwd = fetch(imap, 2, "BODY.PEEK[2] BODY.PEEK[2.TEXT] BODYSTRUCTURE")
        self.assertBytes(fwd["BODY[2]"], sent["BODY[]"], "the forwarded message")
        self.assertEqual(fwd["BODYSTRUCTURE"][1][6], len(sent["BODY[]"]))
        self.check_structure_generic(imap, 2, "forward")
        # a draft with an attachment keeps its bytes too
        self.compose_send(c, "/compose", [("subject", "draft"), ("body", "Later."),
                                          ("attach", files[1])], op="save")
        imap.cmd("EXAMINE Drafts")
        d = fetch(imap, 1, "BINARY.PEEK[2] BINARY.PEEK[1]")
        self.assertBytes(d["BINARY[2]"], files[1][1], "the draft's attachment")
        self.assertBytes(d["BINARY[1]"], b"Later.\r\n", "the draft's text")

    def compose_send(self, c, page_path, fields, op="send"):
        """Posts the compose form of page_path (its hidden fields kept) with
        `fields`, from and to WEB; expects the redirect that follows a
        message sent (or saved)."""
        page = c.get(page_path).text
        form = [(m.group(1), m.group(2)) for m in
                re.finditer(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page)]
        form += [("from", WEB), ("to", WEB), ("op", op)] + list(fields)
        body, ctype = webenv.multipart(form)
        r = c.request("POST", "/compose", body=body, headers={"Content-Type": ctype})
        self.assertEqual(r.status, 303, r.text[:500])

    def test_export_import(self):
        """`pillarbox export mbox` gives every message (LF line ends, a
        last line ended); importing the file again gives the same bytes."""
        r = self.fx.pillarbox("export", "mbox", APP, "INBOX", "-")
        msgs = self.stored_of(APP)
        got = mboxrd_read(r.stdout)
        self.assertEqual(len(got), len(msgs))
        for (n, raw, plen, part), exported in zip(msgs, got):
            with self.subTest(message=n):
                want = re.sub(rb"\r?\n", b"\n", raw)
                if want and not want.endswith(b"\n"):
                    want += b"\n"
                self.assertBytes(exported, want, "%s: exported" % n)
        path = os.path.join(self.fx.dir, "export.mbox")
        with open(path, "wb") as f:
            f.write(r.stdout)
        os.chmod(path, 0o644)
        self.fx.pillarbox("import", "mbox", APP, "Again", path, check=False)
        c = self.imap_client(APP)
        self.addCleanup(c.close)
        c.cmd("EXAMINE Again")
        seq = 0
        for n, raw, plen, part in msgs:
            if b"\0" in raw:
                continue    # not mail: import refuses it, as deliver does
            seq += 1
            with self.subTest(message=n):
                want = canonical(raw)
                if want and not want.endswith(b"\r\n"):
                    want += b"\r\n"
                self.assertBytes(fetch(c, seq, "BODY.PEEK[]")["BODY[]"], want,
                                 "%s: exported and imported again" % n)

    def test_many_recipients(self):
        """One SMTP transaction to five users: the body is stored once; an
        expunge from one INBOX leaves the others' bytes intact, the last
        one removes the body."""
        blobs = os.path.join(self.fx.store, "blobs")

        def files():
            return sorted(os.path.join(d, f) for d, _, fs in os.walk(blobs) for f in fs
                          if not d.endswith("tmp"))
        before = files()
        raw = padded("many", 40000).raw
        s = smtptest.Raw(self.mx.address, timeout=60)
        self.addCleanup(s.close)
        s.cmd("EHLO client.example.org")
        s.cmd("MAIL FROM:<alice@example.org>")
        for u in MANY:
            self.assertEqual(s.cmd("RCPT TO:<%s>" % u)[0], 250)
        self.assertEqual(s.cmd("DATA")[0], 354)
        s.send(raw + b".\r\n")
        self.assertEqual(s.reply()[0], 250)
        s.cmd("QUIT")
        new = [f for f in files() if f not in before]
        self.assertEqual(len(new), 1, "one body file for five copies: %s" % new)
        copies = {}
        for u in MANY:
            c = self.imap_client(u)
            self.addCleanup(c.close)
            c.cmd("SELECT INBOX")
            copies[u] = (c, fetch(c, 1, "BODY.PEEK[] RFC822.SIZE"))
            m, rest = smtptest.split_stored(copies[u][1]["BODY[]"])
            self.assertBytes(rest, raw, "%s: the message" % u)
            self.assertEqual(m.group("rcpt").decode(), u)
        # a COPY to another folder shares it too
        c0 = copies[MANY[0]][0]
        c0.cmd("CREATE Kept")
        self.assertIn(b" OK ", c0.cmd("COPY 1 Kept")[1])
        for u in MANY[:-1]:
            c = copies[u][0]
            c.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
            self.assertIn(b" OK ", c.cmd("EXPUNGE")[1])
            for v in MANY[MANY.index(u) + 1:]:
                cv, was = copies[v]
                self.assertBytes(uid_fetch(cv, 1, "BODY.PEEK[]")["BODY[]"], was["BODY[]"],
                                 "%s intact after %s's expunge" % (v, u))
        self.assertEqual(len([f for f in files() if f not in before]), 1)
        p = Pop(self.pop3.address, MANY[-1])
        self.addCleanup(p.close)
        _, data = p.multi("RETR 1")
        self.assertBytes(data, copies[MANY[-1]][1]["BODY[]"], "the last copy by POP3")
        p.close()
        c0.cmd("SELECT Kept")
        self.assertBytes(fetch(c0, 1, "BODY.PEEK[]")["BODY[]"], copies[MANY[0]][1]["BODY[]"],
                         "the COPY after the original's expunge")
        for c, u in ((copies[MANY[-1]][0], MANY[-1]), (c0, MANY[0])):
            c.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
            c.cmd("EXPUNGE")
        self.assertTrue(self.fx.wait_for(lambda: [f for f in files() if f not in before] == []),
                        "the body file goes with the last copy")

    def test_backup_restore(self):
        """A hot backup restored into a new store has every byte."""
        backup = tempfile.mkdtemp(prefix="backup.", dir=self.fx.dir)
        os.rmdir(backup)
        self.fx.pillarbox("store", "backup", backup)
        store2 = os.path.join(self.fx.dir, "store2")
        conf2 = os.path.join(self.fx.dir, "restored.conf")
        with open(self.fx.conf) as f:
            text = f.read().replace("store = %s\n" % self.fx.store, "store = %s\n" % store2)
        with open(conf2, "w") as f:
            f.write(text)
        os.chmod(conf2, 0o644)
        if self.fx.root:
            shutil.chown(backup, pbtest.STORE_USER, pbtest.STORE_USER)
        cmd = [self.fx.program("admin/pillarbox"), "--config", conf2, "store", "restore", backup]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.fx.env({"PILLARBOX_LOG_STDERR": "0"}))
        self.assertEqual(r.returncode, 0, r.stderr)
        for user in (APP, LDA):
            live = self.fx_peek(user)
            data = subprocess.run([self.fx.program("tests/integration/smtp_peek"), conf2,
                                   "dump", user], stdout=subprocess.PIPE, check=True,
                                  env=self.fx.env({"PILLARBOX_LOG_STDERR": "0"})).stdout
            self.assertBytes(data, b"".join(b"%d %d\n" % (i, len(m)) + m + b"\n"
                                            for i, m in enumerate(live, 1)),
                             "%s: the restored INBOX" % user)

    def test_big(self):
        """10 MB in by APPEND, out by IMAP (whole, partial) and POP3."""
        raw = padded("big", 10 * 1024 * 1024).raw
        c = self.imap_client(BIG)
        self.addCleanup(c.close)
        _, t = c.cmd(b"APPEND INBOX {%d+}\r\n" % len(raw) + raw)
        self.assertIn(b"OK [APPENDUID", t)
        c.cmd("EXAMINE INBOX")
        got = fetch(c, 1, "RFC822.SIZE BODY.PEEK[] BODY.PEEK[TEXT]<%d.100>"
                    % (len(raw) - 1000))
        self.assertEqual(got["RFC822.SIZE"], len(raw))
        self.assertBytes(got["BODY[]"], raw, "BODY[] of 10 MB")
        text = raw[raw.index(b"\r\n\r\n") + 4:]
        self.assertBytes(got["BODY[TEXT]<%d>" % (len(raw) - 1000)],
                         text[len(raw) - 1000:len(raw) - 900], "a partial near the end")
        # a header over the MIME parser's 1 MiB limit (store/mime.h
        # MIME_HEADER_MAX_DEFAULT: the rest of the block counts as body):
        # the bytes and sizes are still exact
        huge = b"".join(b"X-Filler-%06d: %s\r\n" % (i, b"h" * 60) for i in range(16000)) + \
            b"Subject: huge header\r\n\r\nbody\r\n"
        self.assertIn(b"OK [APPENDUID", c.cmd(b"APPEND INBOX {%d+}\r\n" % len(huge) + huge)[1])
        c.cmd("NOOP")
        got = fetch(c, 2, "RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT]")
        self.assertEqual(got["RFC822.SIZE"], len(huge))
        self.assertBytes(got["BODY[]"], huge, "BODY[] with a 1.1 MB header")
        self.assertBytes(got["BODY[HEADER]"] + got["BODY[TEXT]"], huge, "HEADER + TEXT")
        p = Pop(self.pop3.address, BIG)
        self.addCleanup(p.close)
        self.assertEqual(p.cmd("LIST 1"), b"+OK 1 %d\r\n" % len(raw))
        _, data = p.multi("RETR 1")
        self.assertBytes(data, raw, "RETR of 10 MB")
        self.assertEqual(p.cmd("LIST 2"), b"+OK 2 %d\r\n" % len(huge))
        _, data = p.multi("RETR 2")
        self.assertBytes(data, huge, "RETR with a 1.1 MB header")

    def test_copy_move(self):
        """COPY and MOVE keep the bytes and every size, POP3's too (the
        message record is copied whole)."""
        c = self.imap_client(MOVER)
        self.addCleanup(c.close)
        msgs = [self.corpus["nofinal"][0].raw, self.binary["barelf"].raw]
        c.cmd("CREATE Src")
        c.cmd(b"APPEND Src {%d+}\r\n%s" % (len(msgs[0]), msgs[0]))
        c.send(b"t APPEND Src ~{%d}\r\n" % len(msgs[1]))
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(msgs[1] + b"\r\n")
        self.assertIn(b" OK ", c.until("t")[1])
        c.cmd("SELECT Src")
        self.assertIn(b" OK ", c.cmd("COPY 1 INBOX")[1])
        self.assertIn(b" OK ", c.cmd("MOVE 2 INBOX")[1])
        c.cmd("SELECT INBOX")
        p = Pop(self.pop3.address, MOVER)
        self.addCleanup(p.close)
        sizes = p.listing("LIST")
        for i, raw in enumerate(msgs, 1):
            got = fetch(c, i, "BODY.PEEK[] RFC822.SIZE")
            self.assertBytes(got["BODY[]"], raw, "copy %d: BODY[]" % i)
            self.assertEqual(got["RFC822.SIZE"], len(raw))
            _, data = p.multi("RETR %d" % i)
            self.assertBytes(data, crlf_form(raw), "copy %d: RETR" % i)
            self.assertEqual(int(sizes[i]), len(data), "copy %d: LIST = RETR" % i)

    def test_smtp_refuses_bare_lf(self):
        """A deliberate choice (DESIGN.md: CRLF is the only line ending in
        DATA): a bare LF refuses the message, nothing is stored."""
        s = smtptest.Raw(self.mx.address, timeout=60)
        self.addCleanup(s.close)
        s.cmd("EHLO client.example.org")
        s.cmd("MAIL FROM:<alice@example.org>")
        s.cmd("RCPT TO:<%s>" % MANY[0])
        s.cmd("DATA")
        s.send(b"Subject: bare\r\n\r\na\nb\r\n.\r\n")
        self.assertEqual(s.reply()[0] // 100, 5)


def relay_wire(msg):
    """DATA as the relay must send a CRLF message (RFC 5321 4.5.2 and
    4.5.3.1.6): a line starting with "." gets another, and a line longer
    than 998 octets (the stuffing dot counted) is broken by CRLF and a
    space, as documented in inetd/relay_smtp.h."""
    out = []
    for line in msg.split(b"\r\n")[:-1]:
        o, col = bytearray(), 0
        for ch in line:
            if col >= 998:
                o += b"\r\n "
                col = 1
            if col == 0 and ch == ord("."):
                o += b"."
                col += 1
            o.append(ch)
            col += 1
        out.append(bytes(o) + b"\r\n")
    return b"".join(out)


ADDED = re.compile(rb"(?:(?:Received|Message-ID|Date): [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)+")


class RelayFidelity(FidelityBase):
    """What a remote MX receives from the relay is the message as queued
    (submission's added Received, Message-ID and Date, then the message),
    dot-stuffed, long lines broken as documented, SIZE= its size."""

    def test_relay(self):
        if shutil.which("dnsmasq", path="/usr/sbin:/usr/bin") is None:
            self.skipTest("dnsmasq not found (apt-get install dnsmasq-base)")
        port = relaytest.common_port(["127.0.0.4"])
        # (not the 135 KB header: submission refuses one over 100 KB,
        # inetd/smtp_header.h SMTP_HEADER_MAX)
        corpus = [(n, p.raw) for n, (p, ways) in build_corpus().items()
                  if "smtp" in ways and n != "bigheader"]
        with relaytest.Sender("fidelity-relay", ["mx-host=fid.test,mx.fid.test,10",
                                                 "host-record=mx.fid.test,127.0.0.4"],
                              port) as s:
            ehlo = ("PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 10000000")
            fake = s.fake("127.0.0.4", port, lambda peer, srv: peer.session(ehlo_lines=ehlo))
            for n, raw in corpus:
                s.submit(["lea@fid.test"], raw, mail_options=["BODY=8BITMIME"])
            s.com.relay("--run-queue")
            self.assertEqual(s.com.queue(), [], "everything was sent")
            self.assertEqual(len(fake.raw), len(corpus))
            sizes, eight = [], []
            for n, raw in corpus:
                with self.subTest(message=n):
                    tail = relay_wire(raw)
                    k = [i for i, w in enumerate(fake.raw) if w.endswith(tail)]
                    self.assertEqual(len(k), 1, "%s: sent once, as it was" % n)
                    wire = fake.raw[k[0]]
                    added = wire[:len(wire) - len(tail)]
                    self.assertTrue(ADDED.fullmatch(added), "%s: only these lines added: %r"
                                    % (n, added[:300]))
                    sizes.append(len(added) + len(raw))
                    if re.search(rb"[\x80-\xff]", raw):
                        eight.append(len(added) + len(raw))
            # RFC 1870: SIZE= is the size queued; 8-bit ones say BODY=8BITMIME
            said = sorted(int(re.search(r" SIZE=(\d+)", m).group(1)) for m in fake.mails)
            self.assertEqual(said, sorted(sizes), "SIZE= of every message")
            said8 = sorted(int(re.search(r" SIZE=(\d+)", m).group(1)) for m in fake.mails
                           if "BODY=8BITMIME" in m.upper())
            self.assertEqual(said8, sorted(eight), "BODY=8BITMIME for the 8-bit ones")
            log = s.com.log_text()
            self.assertEqual([m for m in smtptest.SmtpFixture.SANITIZER_MARKS if m in log], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
