"""IMAP COMPRESS=DEFLATE (RFC 4978) against imapd: offered only after
login, refused before it and for other mechanisms, NO [COMPRESSIONACTIVE]
the second time; under compression every reply is readable at once (IDLE
wakes, literals both ways, a big FETCH that the wire sees shrunk), over
implicit TLS too, with commands sent right behind COMPRESS; garbage from
the client ends only its own session. The client side is Python's zlib,
not ours. mbsync (test_imap_clients.py) is the real client that uses it."""

import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
from imaptest import BOB, BOB_PW  # noqa: E402


def caps(line):
    m = re.search(rb"CAPABILITY ([^\]]*)", line)
    return m.group(1).split() if m else []


def out_bytes(log, user):
    """out= of the last logout/disconnect line of user whose session
    compressed."""
    found = re.findall(r"(?:logout|disconnect) user=<%s> rip=\S+ in=\d+ out=(\d+) "
                       r"compress=deflate" % re.escape(user), log)
    return int(found[-1]) if found else None


class Compress(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("imapcompress")
        imaptest.setup_bob(cls.fx)
        cls.svc = imaptest.launch(cls.fx)
        cls.tls = imaptest.launch(cls.fx, tls=True)

    @classmethod
    def tearDownClass(cls):
        log = cls.fx.log_text()
        cls.fx.close()
        for bad in ("runtime error", "AddressSanitizer"):
            assert bad not in log, log[-4000:]

    def raw(self, svc=None, **kw):
        c = imaptest.Raw((svc or self.svc).address, **kw)
        self.addCleanup(c.close)
        return c

    def user(self, name):
        address = "%s@example.com" % name
        self.fx.add_user(address, BOB_PW)
        return address

    def test_offered_after_login_only(self):
        c = self.raw()
        self.assertNotIn(b"COMPRESS=DEFLATE", caps(c.greeting))
        u, t = c.cmd("CAPABILITY")
        self.assertNotIn(b"COMPRESS=DEFLATE", caps(u[0]))
        u, t = c.cmd("COMPRESS DEFLATE")
        self.assertRegex(t, rb"^t\d+ BAD ")
        done = c.login()
        self.assertIn(b"COMPRESS=DEFLATE", caps(done))
        for bad in ("COMPRESS", "COMPRESS GZIP", "COMPRESS DEFLATE EXTRA", 'COMPRESS "DEFLATE'):
            u, t = c.cmd(bad)
            self.assertRegex(t, rb"^t\d+ BAD ", bad)
        self.assertRegex(c.cmd('COMPRESS "DEFLATE"')[1], rb"^t\d+ BAD .*an atom")
        # still plain after the refusals
        self.assertIn(b" OK ", c.cmd("NOOP")[1])
        self.assertIn(b"DEFLATE active", c.compress())
        u, t = c.cmd("CAPABILITY")
        self.assertIn(b"IMAP4rev1", caps(u[0]))
        self.assertNotIn(b"COMPRESS=DEFLATE", caps(u[0]))
        u, t = c.cmd("compress deflate")
        self.assertRegex(t, rb"^t\d+ NO \[COMPRESSIONACTIVE\]")
        self.assertIn(b" OK ", c.cmd("LOGOUT")[1])

    def test_mailbox_work_compressed(self):
        user = self.user("dora")
        for m in imaptest.CORPUS:
            self.fx.deliver(user, m)
        c = self.raw()
        c.login(user, BOB_PW)
        c.compress()
        u, t = c.cmd("SELECT INBOX")
        self.assertIn(b"* %d EXISTS" % len(imaptest.CORPUS), u)
        for i, m in enumerate(imaptest.CORPUS, 1):
            u, t = c.cmd("FETCH %d BODY.PEEK[]" % i)
            self.assertIn(b" OK ", t)
            # after the delivery's own Return-Path and Delivered-To
            self.assertTrue(u[0].startswith(b"* %d FETCH (BODY[] {" % i), u[0][:80])
            self.assertTrue(u[0].endswith(m + b")"), u[0][-80:])

        # a 400 KB message both ways: literal up (synchronizing), FETCH down
        body = "".join("Line %d of the quarterly report, nothing new here.\r\n" % i
                       for i in range(8000))
        msg = pbtest.make_message("big", body, to=user)
        tag = c.tag()
        c.send(b"%s APPEND INBOX {%d}\r\n" % (tag.encode(), len(msg)))
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(msg + b"\r\n")
        u, t = c.until(tag)
        self.assertIn(b" OK ", t)
        n = len(imaptest.CORPUS) + 1
        u, t = c.cmd("FETCH %d BODY.PEEK[]" % n)
        self.assertEqual(u[0], b"* %d FETCH (BODY[] {%d}" % (n, len(msg)) + msg + b")")
        # literal+ too
        u, t = c.cmd(b"APPEND INBOX {5+}\r\nhello")
        self.assertIn(b" OK ", t)
        c.cmd("LOGOUT")
        c.close()
        # the wire carried far less than the message it fetched
        deadline = time.monotonic() + 5
        while out_bytes(self.fx.log_text(), user) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        out = out_bytes(self.fx.log_text(), user)
        self.assertIsNotNone(out, self.fx.log_text()[-2000:])
        self.assertLess(out, len(msg) / 5)

    def test_idle_wakes_compressed(self):
        user = self.user("ivan")
        c = self.raw()
        c.login(user, BOB_PW)
        c.compress()
        u, t = c.cmd("SELECT INBOX")
        self.assertIn(b"* 0 EXISTS", u)
        c.send("i IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        t0 = time.monotonic()
        self.fx.deliver(user, pbtest.make_message("new", "x\r\n", to=user))
        self.assertEqual(c.line(), b"* 1 EXISTS")
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertEqual(c.line(), b"* 1 RECENT")
        c.send("DONE\r\n")
        self.assertEqual(c.line(), b"i OK Idle completed")

    def test_over_tls(self):
        c = self.raw(self.tls, tls_context=self.fx.ssl_context(),
                     server_hostname="localhost")
        c.login()
        c.compress()
        u, t = c.cmd("SELECT INBOX")
        self.assertIn(b" OK [READ-WRITE]", t)
        u, t = c.cmd("FETCH 1 BODY.PEEK[]")
        self.assertTrue(u[0].endswith(imaptest.CORPUS[0] + b")"), u[0][-80:])

    def test_commands_right_behind(self):
        """A client that compresses at once, without waiting for the OK
        (RFC 4978 says it must wait; this is what it would mean)."""
        import zlib
        user = self.user("pipe")
        c = self.raw()
        c.login(user, BOB_PW)
        # Unbuffered, so reading the OK line reads no further: the server's
        # compressed answer to NOOP may be in the same packet, and a
        # buffered reader swallowed it now and then (the test timed out).
        c.f = c.sock.makefile("rb", buffering=0)
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
        c.send_raw(b"c COMPRESS DEFLATE\r\n" + z.compress(b"n NOOP\r\n") +
                   z.flush(zlib.Z_SYNC_FLUSH))
        self.assertEqual(c.line(), b"c OK DEFLATE active")
        c.f = imaptest.io.BufferedReader(imaptest._Inflating(c.sock))
        c._deflate = z
        self.assertEqual(c.line(), b"n OK NOOP completed")
        self.assertIn(b" OK ", c.cmd("NOOP")[1])

    def test_garbage_ends_the_session_only(self):
        user = self.user("mallory")
        c = self.raw()
        c.login(user, BOB_PW)
        c.compress()
        c.send_raw(b"\xff\xff\xff\xff\x00\x13\x37 this is no deflate stream\r\n")
        c.sock.settimeout(10)
        with self.assertRaises((EOFError, ConnectionError, socket.timeout)):
            while True:
                c.line()
        deadline = time.monotonic() + 5
        while "corrupt compressed data" not in self.fx.log_text() and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("corrupt compressed data", self.fx.log_text())
        # others are served as before
        d = self.raw()
        d.login()
        d.compress()
        self.assertIn(b" OK ", d.cmd("NOOP")[1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
