"""SMTP additions to pbtest (which stays the shared fixture): launching smtpd
in its modes, reading back what it stored (smtp_peek), a raw line-level SMTP
client for what smtplib cannot do, and checks on the header lines smtpd adds.

Usage:
    with smtptest.SmtpFixture("smtp") as fx:
        fx.add_user("bob@example.com", "secret")
        mx = fx.smtpd("mx")                      # systemd-socket-activate
        sub = fx.smtpd("submission", xinetd=True)
        ... smtplib.SMTP("127.0.0.1", mx.port) ...
        [(uid, raw)] = fx.dump("bob@example.com")
"""

import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402

BOB, BOB_PW = "bob@example.com", "bob pw"
ALICE, ALICE_PW = "alice@example.com", "alice pw"

# The header lines smtpd and the store put before a delivered message:
# Return-Path and Delivered-To (the store, per copy), Received (smtpd).
ADDED_RE = re.compile(
    rb"Return-Path: <(?P<sender>[^>\r\n]*)>\r\n"
    rb"Delivered-To: (?P<rcpt>[^\r\n]+)\r\n"
    rb"Received: from (?P<helo>\S+) \((?P<tcpinfo>[^)]*)\)\r\n"
    rb"\tby (?P<host>\S+) \(Pillarbox\) with (?P<proto>[A-Z0-9]+) id (?P<id>[0-9A-F]{16})"
    rb"(?:\r\n\t\(using (?P<tls>[^)\r\n]+)\))?"
    rb"(?:\r\n\tfor <(?P<for>[^>\r\n]+)>)?"
    rb";\r\n\t(?P<date>[^\r\n]+)\r\n"
    rb"(?P<msgid>Message-ID: <[^>\r\n]+>\r\n)?"
    rb"(?P<datehdr>Date: [^\r\n]+\r\n)?")


def split_stored(raw):
    """(match of ADDED_RE, the message as the client sent it) for a stored
    message; raises AssertionError if the added lines are not as expected."""
    m = ADDED_RE.match(raw)
    if m is None:
        raise AssertionError("unexpected header lines before the message:\n%r" % raw[:600])
    return m, raw[m.end():]


class Raw:
    """A line-level SMTP client: send bytes, read replies (multi-line aware)."""

    def __init__(self, address, timeout=20, tls_context=None, server_hostname=None):
        self.sock = socket.create_connection(address, timeout=timeout)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.f = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self):
        """One reply: (code, [lines]); code 0 when the server closed."""
        lines = []
        while True:
            ln = self.f.readline()
            if not ln:
                return (0, lines)
            text = ln.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                try:
                    return (int(text[:3]), lines)
                except ValueError:
                    return (-1, lines)

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def starttls(self, context, server_hostname="localhost"):
        code, lines = self.cmd("STARTTLS")
        if code != 220:
            return code, lines
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.f = self.sock.makefile("rb")
        return code, lines

    def closed(self, wait=5):
        """True if the server closed the connection (EOF within `wait` s)."""
        self.sock.settimeout(wait)
        try:
            return self.f.read(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def send_one(svc, sender, rcpt, msg, helo="client.example", login=None, timeout=20,
             bdat=False):
    """One message through a raw session: EHLO, AUTH PLAIN when login is
    (user, password), MAIL, RCPT, DATA (or with bdat, two BDAT chunks, RFC
    3030). (code, text) of the reply to the data; an AssertionError if an
    earlier step is refused."""
    import base64
    c = Raw(svc.address, timeout=timeout)
    try:
        c.cmd("EHLO " + helo)
        steps = []
        if login is not None:
            tok = base64.b64encode(("\0%s\0%s" % login).encode()).decode()
            steps.append(("AUTH PLAIN " + tok, 235))
        steps += [("MAIL FROM:<%s>" % sender, 250), ("RCPT TO:<%s>" % rcpt, 250)]
        if not bdat:
            steps.append(("DATA", 354))
        for line, want in steps:
            code, lines = c.cmd(line)
            if code != want:
                raise AssertionError("%s: %d %s" % (line.split(" ")[0], code, " ".join(lines)))
        if bdat:
            half = len(msg) // 2
            c.send(b"BDAT %d\r\n" % half + msg[:half])
            code, lines = c.reply()
            if code != 250:
                raise AssertionError("BDAT: %d %s" % (code, " ".join(lines)))
            c.send(b"BDAT %d LAST\r\n" % (len(msg) - half) + msg[half:])
        else:
            c.send(msg + b".\r\n")
        code, lines = c.reply()
        c.cmd("QUIT")
        return code, " ".join(lines)
    finally:
        c.close()


def header_fields(raw, prefix):
    """The header fields of a stored message whose names start with
    `prefix` (case-insensitive, e.g. "x-spam-"), unfolded, in order."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    fields, cur = [], None
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and cur is not None:
            cur += " " + line.strip()
            continue
        if cur is not None:
            fields.append(cur)
        cur = line
    if cur is not None:
        fields.append(cur)
    return [f for f in fields if f.lower().startswith(prefix.lower())]


def folder_messages(imap_port, user, password, folder, with_flags=False):
    """The messages of a folder, over IMAP on 127.0.0.1: their bytes, or
    (bytes, set of flags) with_flags."""
    import imaplib
    c = imaplib.IMAP4("127.0.0.1", imap_port)
    try:
        c.login(user, password)
        c.select(folder, readonly=True)
        typ, data = c.search(None, "ALL")
        out = []
        for n in data[0].split():
            typ, d = c.fetch(n, "(FLAGS BODY.PEEK[])")
            flags = {f.decode() for f in imaplib.ParseFlags(d[0][0])}
            out.append((d[0][1], flags) if with_flags else d[0][1])
        return out
    finally:
        c.logout()


class SmtpFixture(pbtest.Fixture):
    """pbtest.Fixture with SMTP launchers and store read-back."""

    def __init__(self, name, tls=True, config_extra=None, users=True):
        super().__init__(name, tls=tls, config_extra=config_extra)
        self.relay_log = os.path.join(self.dir, "relay.log")
        if users:
            self.add_user(BOB, BOB_PW)
            self.add_user(ALICE, ALICE_PW)

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                       "died with signal", "killed by signal", "dumped core")

    def close(self, keep=False):
        """Stops everything, then fails if a program reported a sanitizer
        error or died by a signal it did not get from a test (the log of
        every handler is collected in the fixture's log)."""
        log = self.log_text() if not self._log_f.closed else ""
        super().close(keep=keep)
        found = [m for m in self.SANITIZER_MARKS if m in log and not (
            getattr(self, "signals_expected", False) and "signal" in m)]
        if found:
            raise AssertionError("%s in the log:\n%s" % (", ".join(found), log[-6000:]))

    def add_alias(self, source, target):
        self.pillarbox("alias", "add", source, target)

    def fake_relay(self):
        """An executable standing in for the relay: appends its arguments
        to relay.log. Returns its path (for --relay)."""
        path = os.path.join(self.dir, "relay")
        with open(path, "w") as f:
            f.write("#!/bin/sh\necho \"$@\" >> %s\n" % self.relay_log)
        os.chmod(path, 0o755)
        with open(self.relay_log, "w"):
            pass
        os.chmod(self.relay_log, 0o666)
        return path

    def smtpd(self, mode, *args, tls=False, xinetd=False, relay="", host=None):
        """smtpd --mode=MODE per connection; `relay` is the --relay program
        ("" = none); `host` listens on another local address than 127.0.0.1
        (to be a non-loopback client)."""
        prog = self.program("inetd/smtpd")
        argv = ["--mode=" + mode] + (["--tls"] if tls else []) + ["--relay=" + relay] + list(args)
        if xinetd:
            return self.xinetd(prog, *argv, name="smtp-" + mode)
        if host is not None:
            return self.socket_activate_on(host, prog, *argv)
        return self.socket_activate(prog, *argv)

    def socket_activate_on(self, host, program, *args):
        """As pbtest's socket_activate, on host:port instead of loopback."""
        pbtest.require("systemd-socket-activate", "systemd")
        port = pbtest.free_port()
        cmd = ["systemd-socket-activate", "--inetd", "--accept", "-l", "%s:%d" % (host, port)]
        for k, v in self.env().items():
            cmd += ["-E", "%s=%s" % (k, v)]
        cmd += [program, "--config", self.conf] + list(args)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log_f,
                                stderr=self._log_f)
        self._wait_listening(proc, port, "systemd-socket-activate")
        svc = pbtest.Service(proc, port, "systemd-socket-activate")
        svc.address = (host, port)
        self.services.append(svc)
        return svc

    def xinetd_shipped(self, name):
        """Runs a real xinetd on a shipped dist/xinetd.d/NAME file, with the
        adjustments an installation makes: where smtpd is, our config, and
        (for the test) a free loopback port instead of the service's own."""
        pbtest.require("xinetd", "xinetd")
        with open(os.path.join(pbtest.TOP_SRCDIR, "dist", "xinetd.d", name)) as f:
            text = f.read()
        port = pbtest.free_port()
        text = re.sub(r"(?m)^(\s*server\s*=).*$", r"\1 " + self.program("inetd/smtpd"), text)
        text = re.sub(r"(?m)^(\s*server_args\s*=.*)$", r"\1 --config %s --relay=" % self.conf,
                      text)
        text = text.replace("{", "{\n\ttype = UNLISTED\n\tport = %d\n\tbind = 127.0.0.1\n"
                            "\tflags = IPv4 REUSE" % port, 1)
        if not self.root:
            text = re.sub(r"(?m)^\s*(user|group)\s*=.*$", "", text)
        conf = os.path.join(self.dir, "xinetd-shipped-%s.conf" % name)
        with open(conf, "w") as f:
            f.write("defaults\n{\n\tlog_type = FILE %s\n}\n%s"
                    % (os.path.join(self.dir, "xinetd.log"), text))
        proc = subprocess.Popen(["xinetd", "-dontfork", "-f", conf, "-pidfile",
                                 os.path.join(self.dir, "xinetd-%d.pid" % port)],
                                stdin=subprocess.DEVNULL, stdout=self._log_f, stderr=self._log_f)
        self._wait_listening(proc, port, "xinetd")
        svc = pbtest.Service(proc, port, "xinetd")
        self.services.append(svc)
        return svc

    def peek(self, *args):
        cmd = [self.program("tests/integration/smtp_peek"), self.conf] + list(args)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env({"PILLARBOX_LOG_STDERR": "0"}))
        if r.returncode != 0:
            raise RuntimeError("smtp_peek %s: %s" % (" ".join(args), r.stderr.decode()))
        return r.stdout

    def count(self, *addresses):
        """{address: messages in INBOX}"""
        out = {}
        for line in self.peek("count", *addresses).decode().splitlines():
            a, n = line.split("\t")
            out[a] = int(n)
        return out

    def dump(self, address):
        """[(uid, raw bytes)] of the INBOX, in UID order."""
        data = self.peek("dump", address)
        msgs, pos = [], 0
        while pos < len(data):
            nl = data.index(b"\n", pos)
            uid, size = (int(x) for x in data[pos:nl].split())
            start = nl + 1
            msgs.append((uid, data[start:start + size]))
            pos = start + size + 1
        return msgs

