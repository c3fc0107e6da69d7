"""IMAP helpers for the integration tests (on top of pbtest.py): launching
imapd, a line-level client for what imaplib cannot do (pipelining, literals
by hand, bad input, IDLE), and the fixed message corpus whose envelopes and
body structures the tests check byte for byte."""

import io
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402

BOB, BOB_PW = "bob@example.com", "bob's secret"
CAROL, CAROL_PW = "carol@example.com", "carol pw"


def crlf(text):
    """Text with LF line ends -> bytes with CRLF."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


# A plain message with encoded words, a group, a display name with quotes.
MSG_SIMPLE = crlf("""From: "Alice Q. Example" <alice@example.org>
To: bob@example.com, undisclosed: ;
Cc: =?utf-8?q?Z=C3=BCrich?= <z@example.net>
Subject: =?utf-8?q?caf=C3=A9_menu?=
Date: Mon, 01 Jan 2024 10:00:00 +0100
Message-ID: <simple@example.org>
In-Reply-To: <earlier@example.org>

Hello Bob,
the caf\u00e9 opens at nine.
""")

# Nested multiparts and an encapsulated message.
MSG_NESTED = crlf("""From: carol@example.com
To: bob@example.com
Subject: nested
Date: Tue, 02 Jan 2024 11:30:00 +0000
Message-ID: <nested@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Stra=DFe und Caf=E9
--outer
Content-Type: message/rfc822
Content-Description: forwarded

From: dave@example.org
Subject: inner message
Message-ID: <inner@example.org>
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain

inner plain text
--alt
Content-Type: text/html; charset=utf-8

<p>inner html</p>
--alt--
--outer
Content-Type: application/octet-stream; name="data.bin"
Content-Disposition: attachment; filename="data.bin"
Content-Transfer-Encoding: base64

AAECAwQFBgc=
--outer--
epilogue
""")

# A multipart without a boundary: IMAP must invent one text/plain part.
MSG_EMPTY_MULTIPART = crlf("""From: eve@example.org
Subject: broken multipart
Content-Type: multipart/mixed

no boundary here
""")

CORPUS = [MSG_SIMPLE, MSG_NESTED, MSG_EMPTY_MULTIPART]


def launch(fx, tls=False, xinetd=False):
    """imapd per connection on a fresh loopback port (implicit TLS with
    tls=True)."""
    args = ["--tls"] if tls else []
    if xinetd:
        return fx.xinetd(fx.program("inetd/imapd"), *args, name="imap")
    return fx.socket_activate(fx.program("inetd/imapd"), *args)


def external_address():
    """A non-loopback IPv4 address of this machine, or None."""
    try:
        out = subprocess.run(["hostname", "-I"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=5).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return None
    for a in out.split():
        if re.match(r"^\d+\.\d+\.\d+\.\d+$", a) and not a.startswith("127."):
            return a
    return None


def launch_on(fx, address, *args):
    """imapd under systemd-socket-activate on address:port (not loopback:
    clients connecting there are not trusted with plaintext logins)."""
    pbtest.require("systemd-socket-activate", "systemd")
    port = pbtest.free_port()
    cmd = ["systemd-socket-activate", "--inetd", "-a", "-l", "%s:%d" % (address, port)]
    for k, v in fx.env().items():
        cmd += ["-E", "%s=%s" % (k, v)]
    cmd += [fx.program("inetd/imapd"), "--config", fx.conf] + list(args)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fx._log_f, stderr=fx._log_f)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((address, port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("systemd-socket-activate did not listen on %s" % address)
            time.sleep(0.05)
    svc = pbtest.Service(proc, port, "systemd-socket-activate")
    svc.address = (address, port)
    fx.services.append(svc)
    return svc


class _Inflating(io.RawIOBase):
    """A socket's input inflated (raw DEFLATE), for Raw after COMPRESS."""

    def __init__(self, sock):
        self.sock = sock
        self.z = zlib.decompressobj(-15)

    def readable(self):
        return True

    def readinto(self, buf):
        while True:
            out = self.z.decompress(self.z.unconsumed_tail, len(buf)) if \
                self.z.unconsumed_tail else b""
            if not out:
                data = self.sock.recv(65536)
                if not data:
                    return 0
                out = self.z.decompress(data, len(buf))
            if out:
                buf[:len(out)] = out
                return len(out)


class Raw:
    """A line-level IMAP client. Lines are bytes without CRLF; a literal
    in a response is read whole and kept inline as {n}<bytes>."""

    def __init__(self, address, tls_context=None, server_hostname=None, timeout=20):
        self.sock = socket.create_connection(address, timeout=timeout)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.f = self.sock.makefile("rb")
        self._deflate = None
        self.greeting = self.line()
        self.n = 0

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self._deflate is not None:
            data = self._deflate.compress(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def line(self):
        got = self.f.readline()
        if not got:
            raise EOFError("connection closed")
        got = got.rstrip(b"\r\n")
        m = re.search(rb"~?\{(\d+)\}$", got)
        if m:
            data = self.f.read(int(m.group(1)))
            return got + data + self.line()
        return got

    def tag(self):
        self.n += 1
        return "t%d" % self.n

    def cmd(self, text, tag=None):
        """Sends one command; returns (untagged lines, tagged line)."""
        tag = tag or self.tag()
        self.send("%s %s\r\n" % (tag, text) if isinstance(text, str) else
                  tag.encode() + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        untagged = []
        t = tag.encode() + b" "
        while True:
            ln = self.line()
            if ln.startswith(t):
                return untagged, ln
            untagged.append(ln)

    def compress(self):
        """COMPRESS DEFLATE (RFC 4978): after the OK, both ways go through
        raw DEFLATE (zlib, wbits -15), each send sync-flushed as a client
        must. Returns the tagged reply."""
        _, done = self.cmd("COMPRESS DEFLATE")
        assert b" OK " in done, done
        self.f = io.BufferedReader(_Inflating(self.sock))
        self._deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        return done

    def send_raw(self, data):
        """Bytes to the socket as they are (garbage after COMPRESS, say)."""
        self.sock.sendall(data)

    def login(self, user=BOB, password=BOB_PW):
        _, done = self.cmd('LOGIN "%s" "%s"' % (user, password.replace('"', '\\"')))
        assert b" OK " in done, done
        return done

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def setup_bob(fx, messages=CORPUS):
    fx.add_user(BOB, BOB_PW)
    for m in messages:
        fx.deliver(BOB, m)
