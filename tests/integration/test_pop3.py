"""pop3d with Python's poplib and raw sockets, launched per connection under
systemd-socket-activate: a full session over plain text and STLS, implicit TLS
verified against the test CA, every command, AUTH PLAIN/LOGIN (with and
without an initial response), pipelining, the maildrop lock, DELE only at
QUIT, stable UIDLs, exact octet counts and dot-stuffing, and a message
expunged by another program during a session.

The suite is a mixin: test_pop3_xinetd.py runs it again through xinetd."""

import base64
import imaplib
import os
import poplib
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest
import warnings

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402

BOB, BOB_PW = "bob@example.com", "bob's secret"
CAROL, CAROL_PW = "carol@example.com", "carol pw"


def b64(raw):
    return base64.b64encode(raw).decode()


def drop(p):
    """Drops a poplib connection without QUIT (its file object holds the
    socket open, so shut it down first)."""
    p.sock.shutdown(socket.SHUT_RDWR)
    p.close()


class Raw:
    """A line-level POP3 client for what poplib cannot do (pipelining, bad
    input, SASL continuations)."""

    def __init__(self, address, tls_context=None, server_hostname=None, timeout=20):
        self.sock = socket.create_connection(address, timeout=timeout)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        got = self.f.readline()
        if not got:
            raise EOFError("connection closed")
        return got.decode("latin-1").rstrip("\r\n")

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multi(self):
        """The lines of a multi-line response after its status line, unstuffed."""
        lines = []
        while True:
            ln = self.f.readline()
            if not ln:
                raise EOFError("connection closed in a multi-line response")
            if ln == b".\r\n":
                return lines
            if ln.startswith(b".."):
                ln = ln[1:]
            lines.append(ln)

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


class Pop3SuiteMixin:
    """The suite; subclasses set `launcher` ("socket_activate" or "xinetd")."""

    launcher = "socket_activate"

    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("pop3-" + cls.launcher)
        fx = cls.fx
        fx.add_user(BOB, BOB_PW)
        fx.add_user(CAROL, CAROL_PW)
        cls.messages = [
            pbtest.make_message("first", "Hello Bob.\r\n"),
            pbtest.make_message("dots", ".leading dot\r\n..two dots\r\n.\r\nend\r\n"),
            pbtest.make_message("bare lf", "line one\nline two\n\nline four\n"),
            pbtest.make_message("big", ("0123456789" * 7 + "\r\n") * 20000),
        ]
        for m in cls.messages:
            fx.deliver(CAROL, m)
        pop3d = fx.program("inetd/pop3d")
        launch = getattr(fx, cls.launcher)
        cls.plain = launch(pop3d)
        cls.tls = launch(pop3d, "--tls")

    @classmethod
    def tearDownClass(cls):
        log = cls.fx.log_text()
        cls.fx.close()
        # no handler may have crashed or tripped a sanitizer
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert bad not in log, "%s in the handlers' log:\n%s" % (bad, log[-4000:])

    def test_shutdown(self):
        """A service stop (SIGTERM to the handler) in TRANSACTION: -ERR
        [SYS/TEMP], the connection closed, the DELE not applied and the
        maildrop free for the next session."""
        r = Raw(self.plain.address)
        self.addCleanup(r.close)
        r.cmd("USER " + CAROL)
        self.assertTrue(r.cmd("PASS " + CAROL_PW).startswith("+OK"))
        self.assertTrue(r.cmd("DELE 1").startswith("+OK"))
        pid = pbtest.handler_pid("pop3d", self.plain.port, r.sock.getsockname()[1])
        self.assertIsNotNone(pid)
        os.kill(pid, signal.SIGTERM)
        self.assertEqual(r.line(), "-ERR [SYS/TEMP] Server shutting down")
        self.assertRaises(EOFError, r.line)
        p = self.login_retry(CAROL, CAROL_PW)
        self.assertEqual(p.stat()[0], len(self.messages))
        p.quit()

    # ------------------------------------------------------------ helpers

    def pop(self):
        return poplib.POP3(*self.plain.address, timeout=20)

    def login(self, user=CAROL, pw=CAROL_PW):
        p = self.pop()
        p.user(user)
        p.pass_(pw)
        return p

    def login_retry(self, user, pw):
        """Logs in, waiting while a dropped session still holds the lock."""
        deadline = time.monotonic() + 10
        while True:
            p = self.pop()
            p.user(user)
            try:
                p.pass_(pw)
                return p
            except poplib.error_proto as e:
                p.close()
                self.assertIn(b"[IN-USE]", e.args[0])
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)

    def uidls(self, p):
        return [ln.decode().split()[1] for ln in p.uidl()[1]]

    # -------------------------------------------------------------- tests

    def test_greeting_and_capa(self):
        p = self.pop()
        self.assertTrue(p.getwelcome().startswith(b"+OK"))
        caps = p.capa()
        for c in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                  "STLS", "EXPIRE", "IMPLEMENTATION", "SASL"):
            self.assertIn(c, caps)
        self.assertEqual(caps["SASL"], ["PLAIN", "LOGIN"])
        self.assertEqual(caps["EXPIRE"], ["NEVER"])
        p.quit()

    def test_full_session_plain(self):
        p = self.login()
        count, size = p.stat()
        self.assertEqual(count, len(self.messages))
        resp, listing, _ = p.list()
        sizes = [int(ln.split()[1]) for ln in listing]
        self.assertEqual(sum(sizes), size)
        self.assertEqual(p.list(2), b"+OK 2 %d" % sizes[1])
        uids = self.uidls(p)
        self.assertEqual(len(set(uids)), count)
        self.assertEqual(p.uidl(3).split()[2].decode(), uids[2])
        for i, msg in enumerate(self.messages, 1):
            resp, lines, octets = p.retr(i)
            self.assertEqual(resp, b"+OK %d octets" % sizes[i - 1])
            # exact octets: as sent, with CRLF, without stuffing
            self.assertEqual(octets, sizes[i - 1])
            got = b"\r\n".join(lines) + b"\r\n"
            # the store adds Return-Path/Delivered-To before the message
            expect = msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            self.assertTrue(got.endswith(expect), "message %d differs" % i)
        self.assertEqual(p.noop(), b"+OK")
        # TOP: header, blank line, n body lines
        resp, lines, _ = p.top(2, 2)
        blank = lines.index(b"")
        self.assertEqual(lines[blank + 1:], [b".leading dot", b"..two dots"])
        resp, lines, _ = p.top(1, 0)
        self.assertEqual(lines[-1], b"")
        self.assertNotIn(b"Hello Bob.", lines)
        p.quit()

    def test_stls_session(self):
        p = self.pop()
        p.stls(context=self.fx.ssl_context())
        caps = p.capa()
        self.assertNotIn("STLS", caps)
        p.user(CAROL)
        p.pass_(CAROL_PW)
        self.assertEqual(p.stat()[0], len(self.messages))
        resp, lines, octets = p.retr(1)
        self.assertTrue(resp.startswith(b"+OK"))
        p.quit()

    def test_implicit_tls_verified(self):
        ctx = self.fx.ssl_context()
        p = poplib.POP3_SSL("localhost", self.tls.port, context=ctx, timeout=20)
        self.assertTrue(p.getwelcome().startswith(b"+OK"))
        self.assertIn(p.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.assertNotIn("STLS", p.capa())
        p.user(CAROL)
        p.pass_(CAROL_PW)
        count, _ = p.stat()
        self.assertEqual(count, len(self.messages))
        self.assertEqual(p.retr(count)[2], int(p.list(count).split()[2]))
        p.quit()

    def test_implicit_tls_wrong_name(self):
        ctx = self.fx.ssl_context()
        s = socket.create_connection(self.tls.address, timeout=20)
        with self.assertRaises(ssl.SSLCertVerificationError):
            ctx.wrap_socket(s, server_hostname="wrong.example.net")
        s.close()

    def test_tls12_floor(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old = ssl.TLSVersion.TLSv1_1
            oldest = ssl.TLSVersion.TLSv1
        # the client would speak TLS 1.0/1.1 (security level 0 allows it):
        # the server must refuse; TLS 1.2 alone must work
        for low, high, ok in ((oldest, old, False), (ssl.TLSVersion.TLSv1_2,
                                                     ssl.TLSVersion.TLSv1_2, True)):
            ctx = self.fx.ssl_context()
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = low
                ctx.maximum_version = high
            s = socket.create_connection(self.tls.address, timeout=20)
            if ok:
                t = ctx.wrap_socket(s, server_hostname="localhost")
                self.assertEqual(t.version(), "TLSv1.2")
                self.assertTrue(t.makefile("rb").readline().startswith(b"+OK"))
                t.close()
            else:
                with self.assertRaises((ssl.SSLError, OSError)):
                    ctx.wrap_socket(s, server_hostname="localhost")
                s.close()

    def test_auth_plain_initial_response(self):
        r = Raw(self.plain.address)
        self.assertEqual(r.cmd("AUTH PLAIN " + b64(b"\0" + CAROL.encode() + b"\0" +
                                                   CAROL_PW.encode()))[:3], "+OK")
        self.assertTrue(r.cmd("STAT").startswith("+OK %d " % len(self.messages)))
        self.assertEqual(r.cmd("QUIT")[:3], "+OK")
        r.close()

    def test_auth_plain_continuation_and_login(self):
        r = Raw(self.plain.address)
        self.assertEqual(r.cmd("AUTH PLAIN"), "+ ")
        self.assertEqual(r.cmd(b64(CAROL.encode() + b"\0" + CAROL.encode() + b"\0" +
                                   CAROL_PW.encode()))[:3], "+OK")
        r.cmd("QUIT")
        r.close()
        r = Raw(self.plain.address)
        self.assertEqual(r.cmd("AUTH LOGIN"), "+ VXNlcm5hbWU6")
        self.assertEqual(r.cmd(b64(CAROL.encode())), "+ UGFzc3dvcmQ6")
        self.assertEqual(r.cmd(b64(CAROL_PW.encode()))[:3], "+OK")
        r.cmd("QUIT")
        r.close()
        # LOGIN with the user name as initial response, then cancel
        r = Raw(self.plain.address)
        self.assertEqual(r.cmd("AUTH LOGIN " + b64(CAROL.encode())), "+ UGFzc3dvcmQ6")
        self.assertTrue(r.cmd("*").startswith("-ERR"))
        # AUTH alone lists the mechanisms; unknown ones are refused
        self.assertEqual(r.cmd("AUTH"), "+OK Supported mechanisms follow")
        self.assertEqual(r.multi(), [b"PLAIN\r\n", b"LOGIN\r\n"])
        self.assertTrue(r.cmd("AUTH CRAM-MD5").startswith("-ERR"))
        self.assertTrue(r.cmd("AUTH PLAIN !!!notbase64").startswith("-ERR"))
        r.close()

    def test_auth_authzid_other_user_refused(self):
        r = Raw(self.plain.address)
        resp = r.cmd("AUTH PLAIN " + b64(BOB.encode() + b"\0" + CAROL.encode() + b"\0" +
                                         CAROL_PW.encode()))
        self.assertTrue(resp.startswith("-ERR [AUTH]"), resp)
        r.close()

    def test_wrong_password_same_answer(self):
        r = Raw(self.plain.address)
        r.cmd("USER " + BOB)
        a = r.cmd("PASS wrong")
        r.cmd("USER nobody@example.com")
        b = r.cmd("PASS wrong")
        self.assertEqual(a, "-ERR [AUTH] Authentication failed")
        self.assertEqual(a, b)
        r.close()

    def test_pipelining(self):
        r = Raw(self.plain.address)
        r.send("CAPA\r\nUSER %s\r\nPASS %s\r\nSTAT\r\nLIST\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n"
               % (CAROL, CAROL_PW))
        self.assertTrue(r.line().startswith("+OK"))
        self.assertIn(b"PIPELINING\r\n", r.multi())
        self.assertTrue(r.line().startswith("+OK"))                 # USER
        self.assertTrue(r.line().startswith("+OK Logged in"))       # PASS
        self.assertTrue(r.line().startswith("+OK %d " % len(self.messages)))
        self.assertTrue(r.line().startswith("+OK"))                 # LIST
        self.assertEqual(len(r.multi()), len(self.messages))
        self.assertTrue(r.line().startswith("+OK 1 "))              # UIDL 1
        self.assertEqual(r.line(), "+OK")                           # NOOP
        self.assertTrue(r.line().startswith("+OK Bye"))             # QUIT
        r.close()

    def test_maildrop_lock_in_use(self):
        a = self.login()
        b = self.pop()
        b.user(CAROL)
        with self.assertRaises(poplib.error_proto) as cm:
            b.pass_(CAROL_PW)
        self.assertIn(b"[IN-USE]", cm.exception.args[0])
        a.quit()
        # released at QUIT: now the second session gets in
        b.user(CAROL)
        b.pass_(CAROL_PW)
        b.quit()

    def test_lock_released_when_client_drops(self):
        a = self.login()
        drop(a)
        self.login_retry(CAROL, CAROL_PW).quit()

    def test_dele_only_at_quit_and_stable_uidls(self):
        fx = self.fx
        for i in range(3):
            fx.deliver(BOB, pbtest.make_message("dele %d" % i, "body %d\r\n" % i))
        p = self.login_retry(BOB, BOB_PW)
        before = self.uidls(p)
        self.assertEqual(len(before), 3)
        p.dele(2)
        # a deleted message is hidden but numbers stay
        self.assertEqual(p.stat()[0], 2)
        with self.assertRaises(poplib.error_proto):
            p.retr(2)
        with self.assertRaises(poplib.error_proto):
            p.dele(2)
        self.assertEqual([ln.split()[0] for ln in p.list()[1]], [b"1", b"3"])
        p.dele(3)
        # one left: LIST says "1 message", not "1 messages"
        self.assertRegex(p.list()[0], rb"^\+OK 1 message \(\d+ octets\)$")
        self.assertRegex(p.rset(), rb"^\+OK 3 messages \(\d+ octets\)$")
        self.assertEqual(p.stat()[0], 3)
        p.dele(2)
        # dropped connection: nothing changes
        drop(p)
        p = self.login_retry(BOB, BOB_PW)
        self.assertEqual(self.uidls(p), before)
        p.dele(2)
        self.assertTrue(p.quit().startswith(b"+OK"))
        p = self.pop()
        p.user(BOB)
        self.assertRegex(p.pass_(BOB_PW), rb"^\+OK Logged in, 2 messages \(\d+ octets\)$")
        after = self.uidls(p)
        self.assertEqual(after, [before[0], before[2]])
        p.quit()
        self.assertEqual(fx.mailbox_list(BOB)["INBOX"][0], 2)
        # a new message gets a new UIDL, never the deleted one's
        fx.deliver(BOB, pbtest.make_message("new", "new\r\n"))
        p = self.login(BOB, BOB_PW)
        now = self.uidls(p)
        self.assertEqual(now[:2], after)
        self.assertNotIn(now[2], before)
        for i in range(len(now)):
            p.dele(i + 1)
        self.assertEqual(p.quit(), b"+OK Bye, 3 messages deleted")
        self.assertEqual(fx.mailbox_list(BOB)["INBOX"][0], 0)
        # one message is "1 message", in the login and the QUIT replies
        fx.deliver(BOB, pbtest.make_message("one", "one\r\n"))
        p = self.pop()
        p.user(BOB)
        self.assertRegex(p.pass_(BOB_PW), rb"^\+OK Logged in, 1 message \(\d+ octets\)$")
        p.dele(1)
        self.assertEqual(p.quit(), b"+OK Bye, 1 message deleted")
        p = self.login(BOB, BOB_PW)
        self.assertEqual(p.quit(), b"+OK Bye, 0 messages deleted")

    def test_message_expunged_by_another_program(self):
        fx = self.fx
        old = fx.mailbox_list(BOB)["INBOX"][0]
        fx.deliver(BOB, pbtest.make_message("doomed", "soon gone\r\n"))
        fx.deliver(BOB, pbtest.make_message("kept", "stays\r\n"))
        p = self.login_retry(BOB, BOB_PW)
        uids = self.uidls(p)
        doomed_uid = uids[old].split(".")[1]
        out = subprocess.run([fx.program("tests/integration/expunge_helper"), fx.conf, BOB,
                              doomed_uid], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=fx.env({"PILLARBOX_LOG_STDERR": "0"}))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), b"1")
        with self.assertRaises(poplib.error_proto) as cm:
            p.retr(old + 1)
        self.assertIn(b"deleted by another session", cm.exception.args[0])
        with self.assertRaises(poplib.error_proto):
            p.top(old + 1, 0)
        # the session goes on; deleting the vanished message is harmless
        self.assertTrue(p.retr(old + 2)[0].startswith(b"+OK"))
        p.dele(old + 1)
        p.dele(old + 2)
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.assertEqual(fx.mailbox_list(BOB)["INBOX"][0], old)

    def test_retr_marks_seen_at_quit(self):
        """As Dovecot by default: a message RETR sent whole is \\Seen after QUIT
        (for IMAP and the webmail); not after TOP, RSET or a dropped session."""
        fx = self.fx
        dave = "dave-%s@example.com" % self.launcher
        fx.add_user(dave, "dave pw")
        for i in range(4):
            fx.deliver(dave, pbtest.make_message("seen %d" % i, "body %d\r\n" % i))
        self.assertEqual(fx.mailbox_list(dave)["INBOX"][:2], (4, 4))
        p = self.login_retry(dave, "dave pw")
        p.retr(1)
        p.top(2, 0)
        drop(p)  # no UPDATE state: nothing changes
        self.assertEqual(fx.mailbox_list(dave)["INBOX"][:2], (4, 4))
        p = self.login_retry(dave, "dave pw")
        p.retr(1)
        p.rset()  # forgets it, as it forgets DELE
        p.retr(2)
        p.top(3, 0)
        p.retr(4)
        p.dele(4)
        self.assertTrue(p.quit().startswith(b"+OK"))
        # 2 read; 1 reset, 3 only previewed: unseen; 4 deleted
        self.assertEqual(fx.mailbox_list(dave)["INBOX"][:2], (3, 2))

    def log_position(self):
        out = self.fx.pillarbox("store", "stats").stdout.decode()
        pos = dict(ln.split(": ", 1) for ln in out.splitlines() if ln.startswith("log current"))
        return pos["log current file"], pos["log current offset"]

    def test_reading_session_writes_nothing(self):
        """A session that only reads adds nothing to the store's log: its
        databases are opened read-only. Opened for writing, each logged its
        registration at open and close, 24 records for a login."""
        fx = self.fx
        erin = "erin-%s@example.com" % self.launcher
        fx.add_user(erin, "erin pw")
        fx.deliver(erin, pbtest.make_message("read only", "body\r\n"))
        before = self.log_position()
        p = self.login_retry(erin, "erin pw")
        self.assertEqual(p.stat()[0], 1)
        p.list()
        p.uidl()
        p.top(1, 0)
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.assertEqual(self.log_position(), before)
        # and a session that deletes does write (the check above can fail)
        p = self.login_retry(erin, "erin pw")
        p.dele(1)
        p.quit()
        self.assertNotEqual(self.log_position(), before)

    def test_inbox_after_imap_rename(self):
        """RENAME INBOX (RFC 3501 6.3.5) moves INBOX's mail to a new mailbox
        and leaves an empty INBOX: POP3 then shows the new INBOX, whose
        UIDLs are not the old ones."""
        fx = self.fx
        gina = "gina-%s@example.com" % self.launcher
        fx.add_user(gina, "gina pw")
        for i in range(2):
            fx.deliver(gina, pbtest.make_message("before %d" % i, "body\r\n"))
        p = self.login_retry(gina, "gina pw")
        self.assertEqual(p.stat()[0], 2)
        old_uidls = self.uidls(p)
        p.quit()
        imap = fx.socket_activate(fx.program("inetd/imapd"))
        with imaplib.IMAP4("127.0.0.1", imap.port) as m:
            m.login(gina, "gina pw")
            self.assertEqual(m.rename("INBOX", "Old")[0], "OK")
            m.logout()
        p = self.login_retry(gina, "gina pw")
        self.assertEqual(p.stat()[0], 0)
        p.quit()
        fx.deliver(gina, pbtest.make_message("after", "body\r\n"))
        p = self.login_retry(gina, "gina pw")
        self.assertEqual(p.stat()[0], 1)
        self.assertNotIn(self.uidls(p)[0], old_uidls)
        p.quit()
        self.assertEqual(fx.mailbox_list(gina)["Old"][0], 2)

    def test_commands_in_wrong_state(self):
        r = Raw(self.plain.address)
        for c in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 1", "RSET", "NOOP"):
            self.assertTrue(r.cmd(c).startswith("-ERR"), c)
        self.assertTrue(r.cmd("PASS x").startswith("-ERR"))
        r.cmd("USER " + CAROL)
        self.assertTrue(r.cmd("PASS " + CAROL_PW).startswith("+OK"))
        for c in ("USER x", "PASS y", "AUTH PLAIN", "STLS"):
            self.assertTrue(r.cmd(c).startswith("-ERR"), c)
        r.cmd("QUIT")
        r.close()


class Pop3SocketActivate(Pop3SuiteMixin, unittest.TestCase):
    launcher = "socket_activate"


class PlaintextPolicy(unittest.TestCase):
    """A client that is not on loopback (here: pop3d on a socketpair, whose
    peer address is unknown) may not authenticate before STLS, unless
    allow_plaintext_auth says so."""

    def session(self, fx):
        ours, theirs = socket.socketpair()
        proc = subprocess.Popen([fx.program("inetd/pop3d"), "--config", fx.conf],
                                stdin=theirs, stdout=theirs, stderr=subprocess.DEVNULL,
                                env=fx.env({"PILLARBOX_LOG_STDERR": "0"}))
        theirs.close()
        ours.settimeout(20)
        return proc, ours, ours.makefile("rb")

    def test_refused_before_tls(self):
        with pbtest.Fixture("pop3-plaintext") as fx:
            fx.add_user(CAROL, CAROL_PW)
            proc, sock, f = self.session(fx)
            self.assertTrue(f.readline().startswith(b"+OK"))
            sock.sendall(b"CAPA\r\n")
            f.readline()
            caps = []
            while True:
                ln = f.readline()
                if ln == b".\r\n":
                    break
                caps.append(ln.strip().decode())
            self.assertIn("STLS", caps)
            self.assertNotIn("USER", caps)
            self.assertFalse(any(c.startswith("SASL") for c in caps))
            for c in (b"USER " + CAROL.encode(), b"PASS x", b"AUTH PLAIN " +
                      base64.b64encode(b"\0" + CAROL.encode() + b"\0" + CAROL_PW.encode())):
                sock.sendall(c + b"\r\n")
                self.assertTrue(f.readline().startswith(b"-ERR"), c)
            # after STLS the same login works
            sock.sendall(b"STLS\r\n")
            self.assertTrue(f.readline().startswith(b"+OK"))
            tls = fx.ssl_context().wrap_socket(sock, server_hostname="localhost")
            tf = tls.makefile("rb")
            tls.sendall(("USER %s\r\nPASS %s\r\nQUIT\r\n" % (CAROL, CAROL_PW)).encode())
            self.assertTrue(tf.readline().startswith(b"+OK"))
            self.assertTrue(tf.readline().startswith(b"+OK Logged in"))
            self.assertTrue(tf.readline().startswith(b"+OK Bye"))
            tls.close()
            self.assertEqual(proc.wait(timeout=20), 0)

    def test_allowed_by_config(self):
        with pbtest.Fixture("pop3-plaintext-ok",
                            config_extra={"allow_plaintext_auth": "yes"}) as fx:
            fx.add_user(CAROL, CAROL_PW)
            proc, sock, f = self.session(fx)
            f.readline()
            sock.sendall(("USER %s\r\nPASS %s\r\nQUIT\r\n" % (CAROL, CAROL_PW)).encode())
            self.assertTrue(f.readline().startswith(b"+OK"))
            self.assertTrue(f.readline().startswith(b"+OK Logged in"))
            self.assertTrue(f.readline().startswith(b"+OK Bye"))
            sock.close()
            self.assertEqual(proc.wait(timeout=20), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
