"""imapd against bad input: each case gets a tagged BAD/NO or a clean close,
never a crash (the log is checked for sanitizer reports and the server for
life after each case). NUL bytes, a 1 MB line, a literal of 4294967295
bytes, non-synchronizing literals before login, 10,000 nested parentheses,
sequence sets on an empty mailbox, invalid modified UTF-7, "../" names,
unknown commands, commands in the wrong state, and 1000 wrong logins
(throttled, answered [UNAVAILABLE], never as a wrong password)."""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
from imaptest import BOB, BOB_PW  # noqa: E402


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("imapbad")
        cls.fx.add_user(BOB, BOB_PW)
        cls.svc = imaptest.launch(cls.fx)

    @classmethod
    def tearDownClass(cls):
        log = cls.fx.log_text()
        cls.fx.close()
        for bad in ("runtime error", "AddressSanitizer", "LeakSanitizer"):
            assert bad not in log, log[-4000:]

    def raw(self, login=True):
        c = imaptest.Raw(self.svc.address)
        self.addCleanup(c.close)
        if login:
            c.login()
        return c

    def assertClosedOrBad(self, c, tag=None):
        """The next answer is BAD/NO (tagged or untagged) or a BYE/close."""
        try:
            ln = c.line()
        except (EOFError, ConnectionError, socket.timeout):
            return
        self.assertTrue(ln.startswith(b"* BAD") or ln.startswith(b"* BYE") or
                        b" BAD " in ln or b" NO " in ln, ln)

    def test_nul_bytes(self):
        c = self.raw()
        c.send(b"a NOOP\0\r\n")
        self.assertTrue(c.line().endswith(b"BAD NUL byte in the command"))
        c.send(b"\0\0\0\r\n")
        self.assertClosedOrBad(c)
        self.assertIn(b"OK", c.cmd("NOOP")[1])

    def test_long_line(self):
        c = self.raw()
        c.send(b"a SEARCH " + b"x" * (1024 * 1024) + b"\r\n")
        self.assertClosedOrBad(c)

    def test_huge_literals(self):
        c = self.raw()
        c.send(b"a LOGIN {4294967295}\r\n")
        self.assertEqual(c.line(), b"a BAD [TOOBIG] Literal too large")
        c.send(b"b APPEND INBOX {4294967295}\r\n")
        self.assertEqual(c.line(), b"b NO [TOOBIG] Message too large")
        c.send(b"c APPEND INBOX {4294967295+}\r\n")
        self.assertClosedOrBad(c)
        c = self.raw(login=False)
        c.send(b"a LOGIN {99999999999}\r\n")
        self.assertEqual(c.line(), b"a BAD Literal size too large")

    def test_literals_before_login(self):
        c = self.raw(login=False)
        c.send(b"a LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (len(BOB), BOB.encode(), len(BOB_PW),
                                                       BOB_PW.encode()))
        self.assertIn(b"a OK", c.line())
        c = self.raw(login=False)
        c.send(b"a LOGIN {100000+}\r\n")
        self.assertClosedOrBad(c)

    def test_authenticate_bad_responses(self):
        # a continuation past the SASL line limit, malformed base64, "*":
        # each answered, and the session goes on
        c = self.raw(login=False)
        c.send(b"a AUTHENTICATE PLAIN\r\n")
        self.assertEqual(c.line(), b"+ ")
        c.send(b"A" * 5000 + b"\r\n")
        self.assertTrue(c.line().startswith(b"a NO"))
        c.send(b"b AUTHENTICATE LOGIN\r\n")
        self.assertEqual(c.line(), b"+ VXNlcm5hbWU6")
        c.send(b"%%%\r\n")
        self.assertTrue(c.line().startswith((b"b NO", b"b BAD")))
        c.send(b"c AUTHENTICATE PLAIN\r\n")
        self.assertEqual(c.line(), b"+ ")
        c.send(b"*\r\n")
        self.assertTrue(c.line().startswith(b"c BAD"))
        self.assertIn(b"OK", c.cmd("NOOP")[1])

    def test_deep_nesting(self):
        c = self.raw()
        c.cmd("SELECT INBOX")
        _, t = c.cmd(b"SEARCH " + b"(" * 10000 + b"ALL" + b")" * 10000)
        self.assertIn(b"BAD", t)
        _, t = c.cmd(b"SEARCH " + b"NOT " * 5000 + b"ALL")
        self.assertIn(b"BAD", t)
        self.assertIn(b"OK", c.cmd("NOOP")[1])

    def test_empty_mailbox_sets(self):
        c = self.raw()
        c.cmd("CREATE Empty")
        c.cmd("SELECT Empty")
        self.assertIn(b"BAD", c.cmd("FETCH 1:4294967295 FLAGS")[1])
        self.assertIn(b"BAD", c.cmd("FETCH * FLAGS")[1])
        self.assertIn(b"BAD", c.cmd("STORE * +FLAGS (\\Seen)")[1])
        u, t = c.cmd("UID FETCH 1:4294967295 FLAGS")
        self.assertEqual((u, t[-14:]), ([], b"etch completed"))
        u, t = c.cmd("UID FETCH * FLAGS")
        self.assertEqual(u, [])
        u, t = c.cmd("SEARCH 1:*")
        self.assertEqual(u, [b"* SEARCH"])
        self.assertIn(b"BAD", c.cmd("FETCH 0 FLAGS")[1])
        self.assertIn(b"BAD", c.cmd("FETCH 1:: FLAGS")[1])

    def test_bad_names(self):
        c = self.raw()
        for name in (b'"&Jjo!"', b'"&AGE-"', b'"&"', b'"../etc"', b'"a/../b"', b'"a/./b"',
                     b'"a//b"', b'"x\x01y"', b'"' + b"x" * 300 + b'"', b"{3}\r\n\xff\xfe\xfd"):
            if name.startswith(b"{"):
                c.send(b"a CREATE {3}\r\n")
                self.assertEqual(c.line(), b"+ Ready for literal data")
                c.send(b"\xff\xfe\xfd\r\n")
                ln = c.line()
            else:
                _, ln = c.cmd(b"CREATE " + name)
            self.assertTrue(b" NO " in ln or b" BAD " in ln, (name, ln))
        _, t = c.cmd(b'SELECT "../INBOX"')
        self.assertIn(b"NO", t)

    def test_unknown_and_wrong_state(self):
        c = self.raw(login=False)
        for cmd in (b"FROB", b"FETCH 1 FLAGS", b"SELECT INBOX", b"UID FETCH 1 FLAGS",
                    b"IDLE", b"ENABLE CONDSTORE", b"UID FROB 1", b"APPEND INBOX {1+}\r\nx"):
            _, t = c.cmd(cmd)
            self.assertIn(b" BAD ", t, cmd)
        c.send(b"+++ NOOP\r\n")
        self.assertEqual(c.line(), b"* BAD Invalid tag")
        c.login()
        for cmd in (b"LOGIN a b", b"STARTTLS", b"AUTHENTICATE PLAIN", b"CLOSE", b"EXPUNGE"):
            _, t = c.cmd(cmd)
            self.assertIn(b" BAD ", t, cmd)
        # too many bad commands: the connection is closed
        for i in range(60):
            try:
                c.send(b"x%d FROB\r\n" % i)
                ln = c.line()
            except (EOFError, ConnectionError):
                break
        else:
            self.fail("still open after 60 bad commands")

    def test_zz_wrong_logins_throttled(self):
        """1000 wrong logins (distinct addresses, as a scanner does): after the
        IP's threshold every answer is [UNAVAILABLE] at once. Runs last: it
        throttles 127.0.0.1."""
        unavailable = failed = 0
        i = 0
        while i < 1000:
            c = imaptest.Raw(self.svc.address)
            try:
                for _ in range(5):
                    _, t = c.cmd('LOGIN "u%d@example.com" "wrong"' % i)
                    i += 1
                    if b"[UNAVAILABLE]" in t:
                        unavailable += 1
                    else:
                        self.assertIn(b"NO [AUTHENTICATIONFAILED]", t)
                        failed += 1
            except (EOFError, ConnectionError):
                pass
            finally:
                c.close()
        self.assertGreater(unavailable, 900)
        self.assertLessEqual(failed, 40)
        # the right password from the throttled IP is still not a wrong password
        c = imaptest.Raw(self.svc.address)
        _, t = c.cmd('LOGIN "%s" "%s"' % (BOB, BOB_PW.replace('"', '\\"')))
        self.assertTrue(b"OK" in t or b"[UNAVAILABLE]" in t, t)
        c.close()


class LoginTimeLimit(unittest.TestCase):
    """An unauthenticated client cannot hold an imapd past login_timeout,
    however busy it keeps the connection; a logged-in one is not cut off."""

    def test_busy_client_cut_off_until_login(self):
        with pbtest.Fixture("imap-login-limit", config_extra={"login_timeout": "2"}) as fx:
            fx.add_user(BOB, BOB_PW)
            svc = imaptest.launch(fx)
            idle = imaptest.Raw(svc.address)
            self.addCleanup(idle.close)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 1.5:  # busy, but not logged in
                self.assertIn(b" OK ", idle.cmd("CAPABILITY")[1])
                time.sleep(0.3)
            self.assertEqual(idle.line(), b"* BYE Login time limit reached")
            self.assertLess(time.monotonic() - t0, 4)
            with self.assertRaises(EOFError):
                idle.line()
            user = imaptest.Raw(svc.address)
            self.addCleanup(user.close)
            user.login()
            for _ in range(10):  # 3 s, past the limit
                self.assertIn(b" OK ", user.cmd("NOOP")[1])
                time.sleep(0.3)
            self.assertIn(b" OK ", user.cmd("LOGOUT")[1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
