"""CHUNKING (RFC 3030 BDAT) against smtpd under systemd-socket-activate, with
a raw client (neither smtplib nor swaks speaks BDAT): one chunk and many,
a chunk boundary inside a CRLF, lines starting with "." kept as sent,
pipelined BDATs in one write, BDAT 0 LAST, the sequence rules (no MAIL or
RCPT, DATA after BDAT, RSET between chunks, BDAT after LAST), the size
limit, a bare LF, a size that is not a number, and BDAT over STARTTLS on
submission. Every stored message is read back byte for byte after the
lines smtpd and the store add; after every error the same session
delivers a normal message."""

import base64
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import BOB, BOB_PW  # noqa: E402

MAX_SIZE = 200000
# Lines that DATA would have to stuff: BDAT takes them as they are.
BODY = "first\r\n.\r\n..two dots\r\n.leading\r\n. \r\nlast\r\n"


def bdat(chunk, last=False):
    """One BDAT command and its chunk, as bytes."""
    return b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk


class ChunkingTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = smtptest.SmtpFixture("smtp-chunking",
                                      config_extra={"max_message_size": str(MAX_SIZE)})
        cls.mx = cls.fx.smtpd("mx")
        cls.sub = cls.fx.smtpd("submission")

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()  # fails on a sanitizer report or a crash in the log

    def raw(self, svc=None):
        r = smtptest.Raw((svc or self.mx).address, timeout=30)
        self.addCleanup(r.close)
        self.assertEqual(r.greeting[0], 220)
        code, lines = r.cmd("EHLO client.example")
        self.assertEqual(code, 250, lines)
        return r

    def envelope(self, r, rcpt=BOB):
        self.assertEqual(r.cmd("MAIL FROM:<carl@example.org>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<%s>" % rcpt)[0], 250)

    def count(self):
        return self.fx.count(BOB)[BOB]

    def assert_stored(self, message, sender="carl@example.org"):
        """The newest message of bob is `message` exactly, after the
        Return-Path, Delivered-To and Received lines."""
        raw = self.fx.dump(BOB)[-1][1]
        m, rest = smtptest.split_stored(raw)
        self.assertEqual(rest, message)
        self.assertEqual(m.group("sender").decode(), sender)
        return m

    def assert_healthy(self, r):
        """The session goes on: a normal message by BDAT is delivered."""
        before = self.count()
        msg = pbtest.make_message("after", "still fine\r\n")
        self.envelope(r)
        r.send(bdat(msg, last=True))
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertEqual(self.count(), before + 1)
        self.assert_stored(msg)

    # ------------------------------------------------------------------ tests

    def test_ehlo_offers_chunking(self):
        for svc in (self.mx, self.sub):
            r = smtptest.Raw(svc.address)
            self.addCleanup(r.close)
            code, lines = r.cmd("EHLO client.example")
            self.assertEqual(code, 250)
            words = [ln[4:].split(" ")[0] for ln in lines]
            self.assertIn("CHUNKING", words)
            self.assertNotIn("BINARYMIME", words)

    def test_one_chunk(self):
        before = self.count()
        msg = pbtest.make_message("one chunk", BODY)
        r = self.raw()
        self.envelope(r)
        r.send(bdat(msg, last=True))
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertRegex(lines[0], r"^250 2\.0\.0 Ok: queued as [0-9A-F]{16}$")
        self.assertEqual(self.count(), before + 1)
        m = self.assert_stored(msg)
        self.assertEqual(m.group("proto"), b"ESMTP")

    def test_many_chunks_split_crlf(self):
        """Chunks sent one by one, each answered before the next; cuts
        between the CR and LF of a line end, after a lone ".", and inside
        a header name."""
        before = self.count()
        msg = pbtest.make_message("many chunks", BODY)
        dot = msg.index(b"\r\n.\r\n")
        cuts = [5, msg.index(b"\r\n") + 1, dot + 1, dot + 3, dot + 4, len(msg) - 1]
        chunks = [msg[a:b] for a, b in zip([0] + cuts, cuts + [len(msg)])]
        self.assertEqual(b"".join(chunks), msg)
        self.assertTrue(chunks[1].endswith(b"\r"))
        r = self.raw()
        self.envelope(r)
        for chunk in chunks[:-1]:
            r.send(bdat(chunk))
            code, lines = r.reply()
            self.assertEqual(code, 250, lines)
            self.assertEqual(lines[0], "250 2.0.0 %d octets received" % len(chunk))
        r.send(bdat(chunks[-1], last=True))
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertIn("queued as", lines[0])
        self.assertEqual(self.count(), before + 1)
        self.assert_stored(msg)

    def test_pipelined_in_one_write(self):
        """Two transactions, chunks and all, in one write: every chunk is
        taken exactly, the next command found right after it (chunks that
        look like commands stay message data)."""
        before = self.count()
        one = pbtest.make_message("pipelined one", "RSET\r\nQUIT\r\n" + BODY)
        two = pbtest.make_message("pipelined two", "BDAT 5\r\nhello\r\n")
        r = self.raw()
        r.send(b"MAIL FROM:<carl@example.org>\r\nRCPT TO:<%s>\r\n" % BOB.encode()
               + bdat(one[:100]) + bdat(one[100:-1]) + bdat(one[-1:], last=True)
               + b"MAIL FROM:<carl@example.org>\r\nRCPT TO:<%s>\r\n" % BOB.encode()
               + bdat(two) + bdat(b"", last=True) + b"NOOP\r\n")
        replies = [r.reply() for _ in range(10)]
        codes = [c for c, _ in replies]
        self.assertEqual(codes, [250] * 10, replies)
        self.assertEqual(replies[2][1][0], "250 2.0.0 100 octets received")
        self.assertIn("queued as", replies[4][1][0])
        self.assertIn("queued as", replies[8][1][0])
        self.assertEqual(self.count(), before + 2)
        msgs = self.fx.dump(BOB)
        self.assertEqual(smtptest.split_stored(msgs[-2][1])[1], one)
        self.assertEqual(smtptest.split_stored(msgs[-1][1])[1], two)

    def test_bdat_0_last(self):
        before = self.count()
        msg = pbtest.make_message("zero last", BODY)
        r = self.raw()
        self.envelope(r)
        r.send(bdat(msg))
        self.assertEqual(r.reply()[0], 250)
        code, lines = r.cmd("BDAT 0 LAST")
        self.assertEqual(code, 250, lines)
        self.assertIn("queued as", lines[0])
        self.assertEqual(self.count(), before + 1)
        self.assert_stored(msg)
        # BDAT after LAST: 503, its chunk read away
        r.send(bdat(b"MAIL FROM:<x@example.org>\r\n"))
        code, lines = r.reply()
        self.assertEqual(code, 503, lines)
        self.assert_healthy(r)

    def test_without_mail_or_rcpt(self):
        before = self.count()
        r = self.raw()
        r.send(bdat(b"NOOP\r\n", last=True))
        code, lines = r.reply()
        self.assertEqual(code, 503, lines)
        self.assertIn("Need MAIL and RCPT before BDAT", lines[0])
        self.assertEqual(r.cmd("MAIL FROM:<carl@example.org>")[0], 250)
        r.send(bdat(b"RCPT TO:<%s>\r\n" % BOB.encode()))
        code, lines = r.reply()
        self.assertEqual(code, 503, lines)
        self.assertIn("Need RCPT before BDAT", lines[0])
        self.assertEqual(r.cmd("RCPT TO:<nobody@example.com>")[0], 550)
        r.send(bdat(b"x\r\n", last=True))
        self.assertEqual(r.reply()[0], 554)  # no valid recipients
        self.assertEqual(r.cmd("RSET")[0], 250)
        self.assertEqual(self.count(), before)
        self.assert_healthy(r)

    def test_data_after_bdat(self):
        before = self.count()
        r = self.raw()
        self.envelope(r)
        r.send(bdat(b"Subject: mixed\r\n"))
        self.assertEqual(r.reply()[0], 250)
        code, lines = r.cmd("DATA")
        self.assertEqual(code, 503, lines)
        self.assertEqual(r.cmd("MAIL FROM:<carl@example.org>")[0], 503)
        self.assertEqual(r.cmd("RSET")[0], 250)
        self.assertEqual(self.count(), before)
        self.assert_healthy(r)

    def test_rset_between_chunks(self):
        before = self.count()
        r = self.raw()
        self.envelope(r)
        r.send(bdat(b"Subject: dropped\r\n\r\nfirst half\r\n"))
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.cmd("RSET")[0], 250)
        # the chunks are gone: LAST now has no transaction
        r.send(bdat(b"second half\r\n", last=True))
        self.assertEqual(r.reply()[0], 503)
        self.assertEqual(self.count(), before)
        self.assert_healthy(r)
        self.assertNotIn(b"first half", self.fx.dump(BOB)[-1][1])

    def test_over_max_message_size(self):
        before = self.count()
        r = self.raw()
        self.envelope(r)
        # within the limit chunk by chunk, past it in total
        r.send(bdat(b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n"))
        self.assertEqual(r.reply()[0], 250)
        line = b"y" * 998 + b"\r\n"
        r.send(bdat(line * (MAX_SIZE // len(line))))
        code, lines = r.reply()
        self.assertEqual(code, 552, lines)
        self.assertIn("5.3.4", lines[0])
        self.assertEqual(self.count(), before)
        self.assert_healthy(r)
        # one chunk alone past the limit: read away, then 552
        self.envelope(r)
        r.send(bdat(b"z" * (MAX_SIZE + 1), last=True))
        code, lines = r.reply()
        self.assertEqual(code, 552, lines)
        self.assert_healthy(r)

    def test_bare_lf_refused(self):
        """A bare LF inside a chunk refuses the message at that chunk; the
        BDATs already pipelined behind it get the same answer."""
        before = self.count()
        r = self.raw()
        self.envelope(r)
        r.send(bdat(b"Subject: bare\r\n\r\nbare\nLF\r\n") + bdat(b"more\r\n")
               + bdat(b"end\r\n", last=True))
        for _ in range(3):
            code, lines = r.reply()
            self.assertEqual(code, 550, lines)
            self.assertIn("5.6.0", lines[0])
        self.assertEqual(self.count(), before)
        self.assert_healthy(r)
        # a bare CR split from what follows by a chunk boundary
        self.envelope(r)
        r.send(bdat(b"Subject: bare\r\n\r\nbare\r") + bdat(b"CR\r\n", last=True))
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 550)
        self.assertEqual(self.count(), before + 1)
        self.assert_healthy(r)

    def test_size_not_a_number(self):
        """501, then 421 and the close: where the chunk ends is unknown."""
        before = self.count()
        for arg in ("abc", "12x", "-5", "", "99999999999999999999999", "10 FIRST"):
            r = self.raw()
            self.envelope(r)
            r.send(("BDAT %s\r\n" % arg).encode() + b"Subject: x\r\n\r\nRSET\r\n")
            code, lines = r.reply()
            self.assertEqual(code, 501, (arg, lines))
            self.assertEqual(r.reply()[0], 421, arg)
            self.assertTrue(r.closed(), arg)
        self.assertEqual(self.count(), before)

    def test_submission_starttls(self):
        before = self.count()
        r = self.raw(self.sub)
        code, lines = r.starttls(self.fx.ssl_context())
        self.assertEqual(code, 220, lines)
        code, lines = r.cmd("EHLO client.example")
        self.assertEqual(code, 250, lines)
        self.assertIn("250-CHUNKING", lines)
        tok = base64.b64encode(("\0%s\0%s" % (BOB, BOB_PW)).encode()).decode()
        self.assertEqual(r.cmd("AUTH PLAIN " + tok)[0], 235)
        msg = pbtest.make_message("over tls", BODY, sender=BOB)
        self.assertEqual(r.cmd("MAIL FROM:<%s>" % BOB)[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<%s>" % BOB)[0], 250)
        # one write, a chunk larger than a TLS record, cut inside a CRLF
        big = msg + b"x" * 20000 + b"\r\n" + BODY.encode()
        cut = big.index(b"x\r\n") + 2
        r.send(bdat(big[:cut]) + bdat(big[cut:], last=True))
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertIn("queued as", lines[0])
        self.assertEqual(self.count(), before + 1)
        m = self.assert_stored(big, sender=BOB)
        self.assertEqual(m.group("proto"), b"ESMTPSA")
        self.assertIsNotNone(m.group("tls"))

    def test_slow_chunk(self):
        """A chunk arriving in pieces over several writes is waited for."""
        before = self.count()
        msg = pbtest.make_message("slow", BODY)
        r = self.raw()
        self.envelope(r)
        r.send(b"BDAT %d LAST\r\n" % len(msg))
        for i in range(0, len(msg), 40):
            r.send(msg[i:i + 40])
            time.sleep(0.02)
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertEqual(self.count(), before + 1)
        self.assert_stored(msg)


if __name__ == "__main__":
    unittest.main(verbosity=2)
