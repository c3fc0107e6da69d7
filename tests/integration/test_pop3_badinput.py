"""pop3d against bad input: each case is answered with a clear -ERR or a close,
the process never crashes (no sanitizer report in the log) and the mailbox is
unchanged afterwards (same messages, same UIDLs). The 1000 wrong passwords
run last, in a fixture of their own, because they throttle the client IP."""

import base64
import os
import socket
import ssl
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
from test_pop3 import Raw  # noqa: E402

USER, PW = "frank@example.com", "frank pw"


def b64(raw):
    return base64.b64encode(raw).decode()


class BadInput(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("pop3-bad")
        cls.fx.add_user(USER, PW)
        cls.fx.deliver(USER, pbtest.make_message("one", "first\r\n"))
        cls.fx.deliver(USER, pbtest.make_message("big", ("x" * 998 + "\r\n") * 5000))
        cls.fx.deliver(USER, pbtest.make_message("three", "third\r\n"))
        cls.svc = cls.fx.socket_activate(cls.fx.program("inetd/pop3d"))
        cls.before = cls.snapshot()

    @classmethod
    def snapshot(cls):
        # a session that was just dropped may hold the lock a moment longer
        deadline = time.monotonic() + 10
        while True:
            r = Raw(cls.svc.address)
            r.cmd("USER " + USER)
            resp = r.cmd("PASS " + PW)
            if resp.startswith("+OK"):
                break
            r.close()
            assert "[IN-USE]" in resp and time.monotonic() < deadline, resp
            time.sleep(0.05)
        r.cmd("UIDL")
        uidls = r.multi()
        r.cmd("QUIT")
        r.close()
        return uidls, cls.fx.mailbox_list(USER)["INBOX"]

    def tearDown(self):
        self.assertEqual(self.snapshot(), self.before, "the mailbox changed")
        log = self.fx.log_text()
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, log)

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def login(self):
        r = Raw(self.svc.address)
        r.cmd("USER " + USER)
        self.assertTrue(r.cmd("PASS " + PW).startswith("+OK"))
        return r

    def test_100k_line(self):
        r = Raw(self.svc.address)
        r.send(b"USER " + b"A" * 100000 + b"\r\n")
        self.assertEqual(r.line(), "-ERR Line too long")
        # in step: the next command is answered normally
        self.assertEqual(r.cmd("CAPA"), "+OK Capability list follows")
        r.multi()
        r.close()

    def test_endless_line_closes(self):
        r = Raw(self.svc.address)
        try:
            for _ in range(40):
                r.send(b"B" * 65536)
        except OSError:
            pass  # the server hung up: that is the point
        self.assertEqual(r.line(), "-ERR Line too long, closing connection")
        with self.assertRaises((EOFError, OSError)):
            r.line()
        r.close()

    def test_nul_bytes(self):
        r = Raw(self.svc.address)
        self.assertTrue(r.cmd("US\0ER x").startswith("-ERR"))
        self.assertTrue(r.cmd("\0\0\0").startswith("-ERR"))
        r.cmd("USER " + USER)
        self.assertTrue(r.cmd("PASS " + PW + "\0extra").startswith("-ERR"))
        r.close()

    def test_unknown_commands_then_close(self):
        r = Raw(self.svc.address)
        for c in ("FOO", "HELO x", "RETRX 1", "", " ", "LISTLIST", "\x7f\xff"):
            self.assertTrue(r.cmd(c).startswith("-ERR"), repr(c))
        # a scanner gets disconnected after a bounded number of errors
        answers = []
        try:
            for _ in range(40):
                answers.append(r.cmd("XYZZY"))
        except (EOFError, OSError):
            pass
        self.assertIn("-ERR Too many bad commands, closing connection", answers)
        r.close()

    def test_wrong_state(self):
        r = Raw(self.svc.address)
        for c in ("STAT", "RETR 1", "DELE 1", "TOP 1 0", "UIDL", "LIST", "RSET", "NOOP"):
            self.assertEqual(r.cmd(c), "-ERR Command not valid before login", c)
        r.close()
        r = self.login()
        for c in ("USER x", "PASS y", "AUTH PLAIN", "STLS"):
            self.assertEqual(r.cmd(c), "-ERR Command not valid after login", c)
        r.cmd("QUIT")
        r.close()

    def test_bad_message_numbers(self):
        r = self.login()
        for arg in ("0", "-1", "99999999999999999999", "4", "4294967296", "+1", "1x", "0x1",
                    " 1", "1 2", "１"):
            for c in ("RETR", "DELE", "LIST", "UIDL"):
                resp = r.cmd("%s %s" % (c, arg))
                self.assertTrue(resp.startswith("-ERR"), "%s %r: %s" % (c, arg, resp))
        for c in ("TOP 1", "TOP 1 -1", "TOP 1 x", "TOP 0 1", "TOP 1 1 1"):
            self.assertTrue(r.cmd(c).startswith("-ERR"), c)
        # deleted messages: RETR, DELE, TOP, LIST refused; RSET restores
        self.assertTrue(r.cmd("DELE 1").startswith("+OK"))
        for c in ("RETR 1", "DELE 1", "TOP 1 0", "LIST 1", "UIDL 1"):
            self.assertEqual(r.cmd(c), "-ERR Message already deleted", c)
        self.assertTrue(r.cmd("RSET").startswith("+OK"))
        r.close()  # no QUIT: nothing is deleted

    def test_disconnect_in_retr(self):
        before = self.fx.log_text().count("reason=disconnected")
        for _ in range(3):
            r = self.login()
            r.send("RETR 2\r\n")
            self.assertTrue(r.line().startswith("+OK"))
            r.f.read(1000)
            r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            r.close()  # RST in the middle of the message
        self.assertTrue(self.fx.wait_for(lambda: self.fx.log_text().count("reason=disconnected") > before),
                        self.fx.log_text()[-2000:])

    def test_commands_pipelined_after_stls_ignored(self):
        r = Raw(self.svc.address)
        # USER after STLS in the same packet must be thrown away
        r.send("STLS\r\nUSER %s\r\n" % USER)
        self.assertTrue(r.line().startswith("+OK"))
        tls = self.fx.ssl_context().wrap_socket(r.sock, server_hostname="localhost")
        f = tls.makefile("rb")
        tls.sendall(("PASS %s\r\n" % PW).encode())
        self.assertEqual(f.readline(), b"-ERR Send USER first\r\n")
        tls.sendall(b"QUIT\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        tls.close()

    def test_auth_malformed(self):
        r = Raw(self.svc.address)
        for c in ("AUTH PLAIN !!!!", "AUTH PLAIN AGZvbw", "AUTH PLAIN " + b64(b"no nuls"),
                  "AUTH PLAIN ="):
            self.assertTrue(r.cmd(c).startswith("-ERR"), c)
        r.close()
        r = Raw(self.svc.address)
        self.assertEqual(r.cmd("AUTH LOGIN"), "+ VXNlcm5hbWU6")
        self.assertEqual(r.cmd("%%%"), "-ERR [AUTH] Authentication failed: invalid base64 data")
        self.assertEqual(r.cmd("AUTH PLAIN"), "+ ")
        r.send(b"A" * 5000 + b"\r\n")
        self.assertTrue(r.line().startswith("-ERR"))
        r.close()


class ThousandWrongPasswords(unittest.TestCase):
    """1000 wrong passwords in a row from one IP: every one refused, the
    later ones throttled at once; the right password is then refused too
    (temporarily) and the mailbox is untouched."""

    def test_throttled(self):
        with pbtest.Fixture("pop3-throttle") as fx:
            fx.add_user(USER, PW)
            fx.deliver(USER, pbtest.make_message("kept", "safe\r\n"))
            svc = fx.socket_activate(fx.program("inetd/pop3d"))
            answers = {}
            attempts = 0
            t0 = time.monotonic()
            while attempts < 1000:
                r = Raw(svc.address)
                try:
                    r.cmd("USER " + USER)
                    while attempts < 1000:
                        a = r.cmd("PASS wrong-%d" % attempts)
                        attempts += 1
                        answers[a] = answers.get(a, 0) + 1
                        self.assertTrue(a.startswith("-ERR"), a)
                        if "closing" in a:
                            break
                        r.cmd("USER " + USER)
                except (EOFError, OSError):
                    pass  # sent away after too many failures: reconnect
                r.close()
            elapsed = time.monotonic() - t0
            throttled = sum(n for a, n in answers.items() if "[SYS/TEMP]" in a)
            print("1000 wrong passwords: %.1f s, answers %s" % (elapsed, answers))
            self.assertGreater(throttled, 900)
            r = Raw(svc.address)
            r.cmd("USER " + USER)
            self.assertTrue(r.cmd("PASS " + PW).startswith("-ERR [SYS/TEMP]"))
            r.close()
            self.assertEqual(fx.mailbox_list(USER)["INBOX"][0], 1)
            log = fx.log_text()
            self.assertNotIn("AddressSanitizer", log)
            # one log line for each refusal, saying which kind
            self.assertIn("login failed user=<%s> rip=127.0.0.1 tls=no mech=USER" % USER, log)
            self.assertGreater(log.count("login throttled user=<%s> rip=127.0.0.1 tls=no mech=USER"
                                         % USER), 900)


class TruncatedBody(unittest.TestCase):
    """A body file shorter than its record (a damaged disk, a bad restore):
    RETR must not end the message with its terminator as if it were whole (a
    client in delete mode would delete a message it never got): the
    connection is closed instead and the message stays."""

    def test_closed_not_terminated(self):
        with pbtest.Fixture("pop3-truncated") as fx:
            fx.add_user(USER, PW)
            fx.deliver(USER, pbtest.make_message("big", ("y" * 70 + "\r\n") * 1000))
            blobs = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(fx.store, "blobs"))
                     for f in fs if os.path.getsize(os.path.join(d, f)) > 70000]
            self.assertEqual(len(blobs), 1)
            os.truncate(blobs[0], 1000)
            svc = fx.socket_activate(fx.program("inetd/pop3d"))
            r = Raw(svc.address)
            r.cmd("USER " + USER)
            self.assertTrue(r.cmd("PASS " + PW).startswith("+OK"))
            self.assertTrue(r.cmd("RETR 1").startswith("+OK"))
            with self.assertRaises(EOFError):
                r.multi()
            r.close()
            self.assertTrue(fx.wait_for(lambda: "body file too short" in fx.log_text()))
            self.assertEqual(fx.mailbox_list(USER)["INBOX"][0], 1)


class LoginTimeLimit(unittest.TestCase):
    """An unauthenticated client cannot hold a pop3d past login_timeout,
    however busy it keeps the connection; a logged-in one is not cut off."""

    def test_busy_client_cut_off_until_login(self):
        with pbtest.Fixture("pop3-login-limit", config_extra={"login_timeout": "2"}) as fx:
            fx.add_user(USER, PW)
            svc = fx.socket_activate(fx.program("inetd/pop3d"))
            idle = Raw(svc.address)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 1.5:  # busy, but not logged in
                self.assertTrue(idle.cmd("CAPA").startswith("+OK"))
                idle.multi()
                time.sleep(0.3)
            self.assertEqual(idle.line(), "-ERR Login time limit reached")
            self.assertLess(time.monotonic() - t0, 4)
            with self.assertRaises(EOFError):
                idle.line()
            idle.close()
            user = Raw(svc.address)
            user.cmd("USER " + USER)
            self.assertTrue(user.cmd("PASS " + PW).startswith("+OK"))
            for _ in range(10):  # 3 s, past the limit
                self.assertEqual(user.cmd("NOOP"), "+OK")
                time.sleep(0.3)
            self.assertTrue(user.cmd("QUIT").startswith("+OK"))
            user.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
