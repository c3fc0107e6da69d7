"""Bad input against smtpd: each case gets a clear 5xx/4xx or a close, never
a crash (the sanitizer build reports into the log, checked at the end) and
never a half-stored message: a 1 MB command line, an endless one, NUL
bytes, commands out of sequence, 10,000 RCPTs, too big a message, bare LF
and bare CR in DATA, the <LF>.<LF> / <CR>.<CR> smuggling shapes, a client
leaving in the middle of DATA, commands pipelined after STARTTLS, AUTH
with garbage base64, 8-bit addresses without SMTPUTF8, error floods, the
idle timeout; and BDAT (RFC 3030): sizes past 64 bits or past any message,
a command line that cannot be trusted to frame a chunk, the idle timeout
and a client leaving inside a chunk, NUL and over-long lines in a chunk,
a long pipeline of chunks behind a refused one."""

import base64
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB  # noqa: E402

MAX_SIZE = 100000


class BadInputTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = smtptest.SmtpFixture("smtp-bad", config_extra={
            "max_message_size": str(MAX_SIZE), "idle_timeout": "3"})
        cls.fx.pillarbox("domain", "add", "example.net")
        cls.fx.add_alias("@example.net", ALICE)
        cls.mx = cls.fx.smtpd("mx")
        cls.sub = cls.fx.smtpd("submission")

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()  # fails on a sanitizer report or a crash in the log

    def setUp(self):
        self.before = self.fx.count(BOB, ALICE)

    def assert_nothing_stored(self):
        self.assertEqual(self.fx.count(BOB, ALICE), self.before)

    def raw(self, svc=None, ehlo=True):
        r = smtptest.Raw((svc or self.mx).address, timeout=30)
        self.addCleanup(r.close)
        self.assertEqual(r.greeting[0], 220)
        if ehlo:
            self.assertEqual(r.cmd("EHLO bad.example")[0], 250)
        return r

    def start_data(self, r, rcpt=BOB):
        self.assertEqual(r.cmd("MAIL FROM:<x@foreign.example>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<%s>" % rcpt)[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)

    def test_megabyte_command_line(self):
        r = self.raw()
        r.send(b"MAIL FROM:<" + b"a" * 1000000 + b"@example.org>\r\n")
        code, lines = r.reply()
        self.assertEqual(code, 500, lines)
        self.assertIn("5.5.2", lines[0])
        self.assertEqual(r.cmd("NOOP")[0], 250)  # still in step

    def test_endless_line(self):
        r = self.raw()
        try:
            r.send(b"x" * (3 * 1024 * 1024))
        except (BrokenPipeError, ConnectionResetError):
            pass
        code, lines = r.reply()
        self.assertIn(code, (500, 0), lines)
        self.assertTrue(r.closed())

    def test_nul_bytes(self):
        r = self.raw()
        code, lines = r.cmd("NO\0OP")
        self.assertEqual(code, 500, lines)
        code, lines = r.cmd("MAIL FROM:<a\0b@example.org>")
        self.assertEqual(code, 500, lines)
        self.assertEqual(r.cmd("NOOP")[0], 250)

    def test_out_of_sequence(self):
        r = self.raw(ehlo=False)
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org>")[0], 503)
        self.assertEqual(r.cmd("EHLO bad.example")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 503)
        self.assertEqual(r.cmd("RCPT TO:<%s>" % BOB)[0], 503)
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org>")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 503)
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org>")[0], 503)
        self.assertEqual(r.cmd("STARTTLS")[0], 503)
        self.assertEqual(r.cmd("GET / HTTP/1.0")[0], 500)
        self.assertEqual(r.cmd("QUIT")[0], 221)
        self.assert_nothing_stored()

    def test_ten_thousand_rcpts(self):
        r = self.raw()
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org>")[0], 250)
        codes = []
        for batch in range(20):
            r.send("".join("RCPT TO:<u%d@example.net>\r\n" % (batch * 500 + i)
                           for i in range(500)))
            codes += [r.reply()[0] for _ in range(500)]
        self.assertEqual(codes[:100], [250] * 100)
        self.assertEqual(set(codes[100:]), {452})
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send(pbtest.make_message("many", "x\r\n") + b".\r\n")
        self.assertEqual(r.reply()[0], 250)
        # the catch-all user gets one copy however many addresses led there
        self.assertEqual(self.fx.count(ALICE)[ALICE], self.before[ALICE] + 1)

    def test_unknown_rcpt_flood_closes(self):
        r = self.raw()
        r.cmd("MAIL FROM:<a@example.org>")
        r.send("".join("RCPT TO:<nobody%d@example.com>\r\n" % i for i in range(50)))
        codes = []
        while True:
            code, lines = r.reply()
            if code == 0:
                break
            codes.append(code)
        self.assertEqual(codes[-1], 421)
        self.assertEqual(set(codes[:-1]), {550})
        self.assertTrue(r.closed())

    def test_too_big(self):
        r = self.raw()
        code, lines = r.cmd("MAIL FROM:<a@example.org> SIZE=%d" % (MAX_SIZE + 1))
        self.assertEqual(code, 552, lines)
        self.start_data(r)
        r.send(b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 120 + b".\r\n")
        code, lines = r.reply()
        self.assertEqual(code, 552, lines)
        self.assertIn("5.3.4", lines[0])
        self.assertEqual(r.cmd("NOOP")[0], 250)
        self.assert_nothing_stored()

    def test_bare_lf_and_cr(self):
        r = self.raw()
        for body in (b"Subject: lf\r\n\r\nbare\nLF\r\n", b"Subject: cr\r\n\r\nbare\rCR\r\n",
                     b"Subject: lf\nFrom: <x@y>\r\n\r\nx\r\n"):
            self.start_data(r)
            r.send(body + b".\r\n")
            code, lines = r.reply()
            self.assertEqual(code, 550, lines)
            self.assertIn("5.6.0", lines[0])
        self.assertEqual(r.cmd("NOOP")[0], 250)
        self.assert_nothing_stored()

    def test_nul_in_data(self):
        """A NUL byte is not mail (RFC 5321 2.4 / RFC 6152 8BITMIME: no NUL;
        no BINARYMIME here): refused at the end of data, for a local and a
        remote recipient alike, as `pillarbox deliver` refuses it."""
        queued = self.fx.pillarbox("queue", "list").stdout
        r = self.raw(self.sub)
        auth = base64.b64encode(b"\0%s\0%s" % (ALICE.encode(), ALICE_PW.encode())).decode()
        self.assertEqual(r.cmd("AUTH PLAIN " + auth)[0], 235)
        for rcpt in (BOB, "friend@elsewhere.example"):
            self.assertEqual(r.cmd("MAIL FROM:<%s>" % ALICE)[0], 250)
            self.assertEqual(r.cmd("RCPT TO:<%s>" % rcpt)[0], 250)
            self.assertEqual(r.cmd("DATA")[0], 354)
            r.send(b"Subject: nul\r\n\r\na\x00b\r\n.\r\n")
            code, lines = r.reply()
            self.assertEqual(code, 550, (rcpt, lines))
            self.assertIn("5.6.0", lines[0])
            self.assertIn("NUL", lines[0])
        self.assertEqual(r.cmd("NOOP")[0], 250)
        self.assert_nothing_stored()
        self.assertEqual(self.fx.pillarbox("queue", "list").stdout, queued)
        d = self.fx.pillarbox("deliver", BOB, input=b"Subject: nul\r\n\r\na\x00b\r\n",
                              check=False)
        self.assertEqual(d.returncode, 65, d.stderr)   # EX_DATAERR: a bounce
        self.assertIn(b"NUL", d.stderr)
        self.assert_nothing_stored()

    def test_smuggling(self):
        smuggled = (b"MAIL FROM:<admin@example.com>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                    b"Subject: smuggled\r\n\r\nforged\r\n.\r\n" % ALICE.encode())
        for end in (b"\n.\n", b"\r.\r", b"\r\n.\n", b"\n.\r\n", b"\r\n.\r", b"\r.\r\n"):
            r = self.raw()
            self.start_data(r)
            r.send(b"Subject: carrier\r\n\r\ncarrier" + end + smuggled + b"QUIT\r\n")
            code, lines = r.reply()
            self.assertEqual(code, 550, (end, lines))
            self.assertEqual(r.reply()[0], 421, end)
            self.assertTrue(r.closed(), end)
        self.assert_nothing_stored()

    def test_drop_in_data(self):
        tmp = os.path.join(self.fx.store, "blobs", "tmp")
        for _ in range(3):
            r = self.raw()
            self.start_data(r)
            r.send(b"Subject: half\r\n\r\n" + b"part of a message\r\n" * 500)
            r.sock.shutdown(socket.SHUT_RDWR)
            r.close()
        self.assertTrue(self.fx.wait_for(lambda: not os.listdir(tmp)), os.listdir(tmp))
        time.sleep(0.2)
        self.assert_nothing_stored()

    def test_pipelined_after_starttls_ignored(self):
        r = self.raw(self.sub)
        r.send("STARTTLS\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<%s>\r\n" % BOB)
        code, lines = r.reply()
        self.assertEqual(code, 220, lines)
        ctx = self.fx.ssl_context()
        r.sock = ctx.wrap_socket(r.sock, server_hostname="localhost")
        r.f = r.sock.makefile("rb")
        self.assertEqual(r.cmd("EHLO bad.example")[0], 250)
        # the plaintext MAIL was discarded: no transaction exists
        code, lines = r.cmd("RCPT TO:<%s>" % BOB)
        self.assertEqual(code, 503, lines)
        self.assertRegex(self.fx.log_text(), r"starttls rip=127\.0\.0\.1 .*discarded=[1-9]")

    def test_auth_garbage(self):
        r = self.raw(self.sub)
        code, lines = r.cmd("AUTH PLAIN ####")
        self.assertEqual(code, 501, lines)
        code, lines = r.cmd("AUTH PLAIN")
        self.assertEqual(code, 334, lines)
        code, lines = r.cmd("not base64 at all!")
        self.assertEqual(code, 501, lines)
        code, lines = r.cmd("AUTH LOGIN")
        self.assertEqual(code, 334, lines)
        code, lines = r.cmd("YWJj=ZGVm")
        self.assertEqual(code, 501, lines)
        code, lines = r.cmd("AUTH LOGIN " + "A" * 5000)
        self.assertIn(code, (500, 501), lines)
        code, lines = r.cmd("AUTH PLAIN")
        self.assertEqual(code, 334, lines)
        code, lines = r.cmd("A" * 5000)   # a response past the SASL line limit
        self.assertEqual(code, 500, lines)
        self.assertIn("5.5.6", lines[0])
        self.assertEqual(r.cmd("MAIL FROM:<%s>" % BOB)[0], 530)

    def test_8bit_without_smtputf8(self):
        r = self.raw()
        code, lines = r.cmd("MAIL FROM:<j\u00f6rg@example.org>")
        self.assertEqual(code, 553, lines)
        self.assertIn("5.6.7", lines[0])
        self.assertEqual(r.cmd("MAIL FROM:<a@example.org>")[0], 250)
        code, lines = r.cmd("RCPT TO:<b\u00f6b@example.com>")
        self.assertEqual(code, 553, lines)
        r.send(b"MAIL FROM:<j\xff@example.org> SMTPUTF8\r\n")  # not UTF-8 at all
        self.assertIn(r.reply()[0], (501, 503))

    def test_idle_timeout(self):
        r = self.raw()
        t = time.monotonic()
        code, lines = r.reply()
        self.assertEqual(code, 421, lines)
        self.assertIn("4.4.2", lines[0])
        self.assertLess(time.monotonic() - t, 15)
        self.assertTrue(r.closed())


    # ------------------------------------------------------------ BDAT

    def start_bdat(self, r, rcpt=BOB):
        self.assertEqual(r.cmd("MAIL FROM:<x@foreign.example>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<%s>" % rcpt)[0], 250)

    def test_bdat_size_past_64_bits(self):
        for size in ("18446744073709551616", "9" * 1000):
            r = self.raw()
            self.start_bdat(r)
            r.send("BDAT %s LAST\r\nSubject: x\r\n\r\nhi\r\n" % size)
            code, lines = r.reply()
            self.assertIn(code, (500, 501), (size[:30], lines))
            self.assertEqual(r.reply()[0], 421)
            self.assertTrue(r.closed())
        self.assert_nothing_stored()

    def test_bdat_size_past_any_message(self):
        """A size that fits 64 bits but no message: the chunk is read away
        (the session would keep step if it ever came); a client that stops
        sending meets the idle timeout inside the chunk."""
        r = self.raw()
        self.start_bdat(r)
        r.send(b"BDAT 18446744073709551615 LAST\r\n" + b"x" * 5000)
        t = time.monotonic()
        code, lines = r.reply()
        self.assertEqual(code, 421, lines)
        self.assertIn("4.4.2", lines[0])
        self.assertLess(time.monotonic() - t, 15)
        self.assertTrue(r.closed())
        self.assert_nothing_stored()

    def test_bdat_unframed_line(self):
        """A BDAT line refused as a line (bare LF, a control character, past
        the command line limit): its chunk cannot be found, so the session
        closes rather than read message data as commands."""
        for line in (b"BDAT 30\n", b"BDAT 30\x01\r\n", b"BDAT 30 " + b"0" * 3000 + b"\r\n"):
            r = self.raw()
            self.start_bdat(r)
            r.send(line + b"RCPT TO:<alice@example.com>\r\n")
            code, lines = r.reply()
            self.assertEqual(code, 500, (line[:20], lines))
            self.assertEqual(r.reply()[0], 421, line[:20])
            self.assertTrue(r.closed(), line[:20])
        self.assert_nothing_stored()

    def test_bdat_timeout_in_chunk(self):
        r = self.raw()
        self.start_bdat(r)
        r.send(b"BDAT 100 LAST\r\nSubject: slow\r\n\r\n")
        code, lines = r.reply()
        self.assertEqual(code, 421, lines)
        self.assertIn("4.4.2", lines[0])
        self.assertTrue(r.closed())
        self.assert_nothing_stored()

    def test_bdat_drop_in_chunk(self):
        tmp = os.path.join(self.fx.store, "blobs", "tmp")
        for _ in range(3):
            r = self.raw()
            self.start_bdat(r)
            r.send(b"BDAT 20\r\nSubject: half\r\n\r\nabc")
            self.assertEqual(r.reply()[0], 250)
            r.send(b"BDAT 100000 LAST\r\n" + b"part of a message\r\n" * 500)
            r.sock.shutdown(socket.SHUT_RDWR)
            r.close()
        self.assertTrue(self.fx.wait_for(lambda: not os.listdir(tmp)), os.listdir(tmp))
        time.sleep(0.2)
        self.assert_nothing_stored()

    def test_bdat_nul_and_long_line(self):
        r = self.raw()
        for chunk, want in ((b"Subject: x\r\n\r\na\0b\r\n", "NUL"),
                            (b"Subject: x\r\n\r\n" + b"l" * 70000 + b"\r\n", "line too long")):
            self.start_bdat(r)
            r.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
            code, lines = r.reply()
            self.assertIn(code, (550, 554), lines)
            self.assertIn(want, lines[0])
            self.assertEqual(r.cmd("NOOP")[0], 250)
        self.assert_nothing_stored()

    def test_bdat_pipeline_after_refusal(self):
        """Thirty chunks pipelined behind a refused one: each read away and
        answered like it, none counted as an error (the client did nothing
        wrong), and the session goes on."""
        r = self.raw()
        self.start_bdat(r)
        r.send(b"BDAT 11\r\nbare\nLF\r\n\r\n" + b"BDAT 6\r\nmore\r\n" * 30
               + b"BDAT 0 LAST\r\n")
        codes = [r.reply()[0] for _ in range(32)]
        self.assertEqual(codes, [550] * 32)
        self.assertEqual(r.cmd("NOOP")[0], 250)
        self.start_bdat(r)
        msg = pbtest.make_message("after refusal", "fine\r\n")
        r.send(b"BDAT %d LAST\r\n" % len(msg) + msg)
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(self.fx.count(BOB)[BOB], self.before[BOB] + 1)

if __name__ == "__main__":
    unittest.main(verbosity=2)
