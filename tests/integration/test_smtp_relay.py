"""Not an open relay: the classic relay tests against smtpd --mode=mx and an
unauthenticated --mode=submission, all refused, nothing stored or queued;
the envelope sender check of authenticated sessions; and what is relayed:
authenticated mail and aliases with external targets go to the queue and
the relay program is started for them (a stand-in that records its
arguments), or the queue just holds them when there is no relay."""

import os
import re
import smtplib
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB, BOB_PW  # noqa: E402

FOREIGN = "victim@foreign.example"

# (RCPT argument, what it tries)
RELAY_ATTEMPTS = [
    ("<%s>" % FOREIGN, "foreign recipient"),
    ("<victim%foreign.example@example.com>", "percent hack"),
    ("<@example.com:victim@foreign.example>", "source route"),
    ("<\"victim@foreign.example\"@example.com>", "quoted at-sign"),
    ("<foreign.example!victim@example.com>", "bang path"),
    ("<victim@[127.0.0.1]>", "address literal"),
    ("<victim@[IPv6:::1]>", "IPv6 literal"),
    ("<\"victim%foreign.example\"@example.com>", "quoted percent"),
    ("<victim@foreign.example@example.com>", "two at-signs"),
    ("<>", "empty"),
    ("<victim@>", "no domain"),
    ("victim@foreign.example", "no brackets"),
    ("<victim@foreign.example", "unclosed"),
    ("<victim@foreign.example.>", "trailing dot"),
    ("<victim@.foreign.example>", "leading dot"),
    ("<vic tim@foreign.example>", "space"),
    ("<\"x\"@foreign.example>", "quoted local, foreign domain"),
]


class RelayTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = smtptest.SmtpFixture("smtp-relay")
        cls.relay = cls.fx.fake_relay()
        cls.fx.add_alias("ext@example.com", "friend@elsewhere.example")
        cls.mx = cls.fx.smtpd("mx", relay=cls.relay)
        cls.sub = cls.fx.smtpd("submission", relay=cls.relay)
        cls.mx_norelay = cls.fx.smtpd("mx")

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def relay_calls(self):
        with open(self.fx.relay_log) as f:
            return [ln.split() for ln in f if ln.strip()]

    def raw(self, svc):
        r = smtptest.Raw(svc.address)
        self.addCleanup(r.close)
        self.assertEqual(r.cmd("EHLO relay-test.example")[0], 250)
        return r

    def test_mx_refuses_relaying(self):
        before = self.fx.count(BOB, ALICE)
        calls = len(self.relay_calls())
        for rcpt, what in RELAY_ATTEMPTS:
            r = self.raw(self.mx)
            self.assertEqual(r.cmd("MAIL FROM:<spammer@foreign.example>")[0], 250)
            code, lines = r.cmd("RCPT TO:" + rcpt)
            self.assertTrue(500 <= code < 600, "%s (%s): %s" % (what, rcpt, lines))
            code, lines = r.cmd("DATA")
            self.assertIn(code, (503, 554), "%s: DATA %s" % (what, lines))
            r.cmd("QUIT")
        self.assertEqual(self.fx.count(BOB, ALICE), before)
        self.assertEqual(len(self.relay_calls()), calls)

    def test_mx_replies(self):
        """The codes that matter: 554 5.7.1 for relaying, 550 5.1.1 for
        nobody here, 501 for bad syntax."""
        r = self.raw(self.mx)
        r.cmd("MAIL FROM:<spammer@foreign.example>")
        for rcpt, want in (("<%s>" % FOREIGN, "554 5.7.1"),
                           ("<victim%foreign.example@example.com>", "550 5.1.1"),
                           ("<@example.com:victim@foreign.example>", "554 5.7.1"),
                           ("<victim@[127.0.0.1]>", "554 5.7.1"),
                           ("<>", "501 5.1.3")):
            code, lines = r.cmd("RCPT TO:" + rcpt)
            self.assertTrue(lines[0].startswith(want), (rcpt, lines))

    def test_unauthenticated_submission(self):
        calls = len(self.relay_calls())
        for rcpt, what in RELAY_ATTEMPTS + [("<%s>" % BOB, "local user")]:
            r = self.raw(self.sub)
            code, lines = r.cmd("MAIL FROM:<%s>" % BOB)
            self.assertEqual(code, 530, lines)
            code, lines = r.cmd("RCPT TO:" + rcpt)
            self.assertEqual(code, 503, "%s: %s" % (what, lines))
            self.assertEqual(r.cmd("DATA")[0], 503)
        self.assertEqual(len(self.relay_calls()), calls)

    def test_sender_forging_refused(self):
        s = smtplib.SMTP("127.0.0.1", self.sub.port, timeout=20)
        self.addCleanup(s.close)
        s.login(BOB, BOB_PW)
        for forged in (ALICE, "Alice@Example.com", "postmaster@example.com", "x@foreign.example"):
            code, text = s.mail(forged)
            self.assertEqual(code, 553, (forged, text))
            self.assertIn(b"5.7.1", text)
            s.rset()
        self.assertEqual(s.mail("BOB@example.com")[0], 250)
        s.rset()
        # a session logged in on the MX is checked the same way
        m = smtplib.SMTP("127.0.0.1", self.mx.port, timeout=20)
        self.addCleanup(m.close)
        m.login(BOB, BOB_PW)
        self.assertEqual(m.mail(ALICE)[0], 553)

    def test_authenticated_relay_starts_relay(self):
        s = smtplib.SMTP("127.0.0.1", self.sub.port, timeout=20)
        self.addCleanup(s.close)
        s.login(ALICE, ALICE_PW)
        calls = len(self.relay_calls())
        msg = pbtest.make_message("out", "to the world\r\n", sender=ALICE, to=FOREIGN)
        self.assertEqual(s.sendmail(ALICE, [FOREIGN, BOB], msg), {})
        self.assertTrue(self.fx.wait_for(lambda: len(self.relay_calls()) > calls),
                        "the relay was not started")
        args = self.relay_calls()[-1]
        self.assertEqual(args[:3], ["--config", self.fx.conf, "--id"])
        self.assertRegex(args[3], r"^[0-9a-f]{32}$")
        # the local copy went in the same transaction
        smtptest.split_stored(self.fx.dump(BOB)[-1][1])

    def test_null_sender_after_auth(self):
        """MAIL FROM:<> after AUTH (read receipts, vacation replies): the
        message goes out with the null sender, locally and to the queue."""
        s = smtplib.SMTP("127.0.0.1", self.sub.port, timeout=20)
        self.addCleanup(s.close)
        s.login(BOB, BOB_PW)
        calls = len(self.relay_calls())
        msg = pbtest.make_message("Read: hello", "displayed\r\n", sender=BOB, to=ALICE)
        self.assertEqual(s.sendmail("", [ALICE, FOREIGN], msg), {})
        m, _ = smtptest.split_stored(self.fx.dump(ALICE)[-1][1])
        self.assertEqual(m.group("sender"), b"")
        self.assertTrue(self.fx.wait_for(lambda: len(self.relay_calls()) > calls),
                        "the relay was not started")
        self.assertRegex(self.fx.log_text(), r"user=<%s> from=<> nrcpt=2 .*result=queued" % BOB)

    def test_quoted_remote_recipient(self):
        """An authenticated client may send to a quoted local part in
        another domain (RFC 5321 4.1.2): queued as given, the relay started;
        in a local domain it is nobody."""
        s = smtplib.SMTP("127.0.0.1", self.sub.port, timeout=20)
        self.addCleanup(s.close)
        s.login(ALICE, ALICE_PW)
        calls = len(self.relay_calls())
        quoted = '"john doe"@elsewhere.example'
        msg = pbtest.make_message("quoted", "hello\r\n", sender=ALICE, to=quoted)
        self.assertEqual(s.sendmail(ALICE, [quoted], msg), {})
        self.assertTrue(self.fx.wait_for(lambda: len(self.relay_calls()) > calls),
                        "the relay was not started")
        queued = self.fx.pillarbox("queue", "show", self.relay_calls()[-1][3]).stdout.decode()
        self.assertIn('<"john doe"@elsewhere.example>', queued)
        self.assertEqual(s.mail(ALICE)[0], 250)
        code, text = s.rcpt('"john doe"@example.com')
        self.assertEqual(code, 550, text)

    def test_alias_to_external_is_queued(self):
        r = self.raw(self.mx)
        calls = len(self.relay_calls())
        self.assertEqual(r.cmd("MAIL FROM:<someone@foreign.example>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<ext@example.com>")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send(pbtest.make_message("fwd", "forward me\r\n") + b".\r\n")
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertTrue(self.fx.wait_for(lambda: len(self.relay_calls()) > calls))

    def test_no_relay_program(self):
        r = self.raw(self.mx_norelay)
        r.cmd("MAIL FROM:<someone@foreign.example>")
        r.cmd("RCPT TO:<ext@example.com>")
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send(pbtest.make_message("held", "stays queued\r\n") + b".\r\n")
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        r.cmd("QUIT")
        self.assertTrue(self.fx.wait_for(
            lambda: re.search(r"queue=[0-9a-f]{32} held in the queue", self.fx.log_text())))


class EndToEndTests(unittest.TestCase):
    """smtpd queues, starts the real relay (inetd/relay, when built), which
    delivers through a per-domain route to another installation's MX."""

    def installations(self):
        """(far, near, near's submission port): far is the MX of
        elsewhere.example (user friend), near relays to it by a route."""
        relay = os.path.join(pbtest.TOP_BUILDDIR, "inetd", "relay")
        if not os.access(relay, os.X_OK):
            self.skipTest("inetd/relay is not built")
        far = smtptest.SmtpFixture("smtp-far", users=False)
        self.addCleanup(far.close)
        near = smtptest.SmtpFixture("smtp-near")
        self.addCleanup(near.close)
        far.pillarbox("domain", "add", "elsewhere.example")
        far.add_user("friend@elsewhere.example", "pw")
        far_mx = far.smtpd("mx")
        near.write_config({"route elsewhere.example": "127.0.0.1:%d" % far_mx.port,
                           "tls_cert": near.cert_pem, "tls_key": near.key_pem})
        return far, near, near.smtpd("submission", relay=relay).port

    def test_submission_to_remote_mx(self):
        far, near, port = self.installations()
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
        s.login(ALICE, ALICE_PW)
        msg = pbtest.make_message("far away", "over the relay\r\n", sender=ALICE,
                                  to="friend@elsewhere.example")
        self.assertEqual(s.sendmail(ALICE, ["friend@elsewhere.example"], msg), {})
        s.quit()
        self.assertTrue(far.wait_for(
            lambda: far.count("friend@elsewhere.example")["friend@elsewhere.example"] == 1,
            timeout=30), "not delivered; near log:\n" + near.log_text()[-3000:])
        raw = far.dump("friend@elsewhere.example")[0][1]
        self.assertTrue(raw.endswith(msg))
        self.assertIn(b"Return-Path: <alice@example.com>\r\n", raw)
        # two Received: the far MX's on top, ours below it
        received = [ln for ln in raw.split(b"\r\n") if ln.startswith(b"Received: ")]
        self.assertEqual(len(received), 2, raw[:800])
        self.assertTrue(raw.split(b"\r\n")[2].startswith(b"Received: "))
        self.assertIn(b"with ESMTPA id", raw)  # ours: submission, logged in (loopback)
        # the relay's log lines land with smtpd's (PILLARBOX_LOG_STDERR)
        self.assertTrue(near.wait_for(lambda: re.search(
            r"relay\[\d+\]: queue=[0-9a-f]{32} to=<friend@elsewhere.example> status=sent",
            near.log_text())), "no relay log line:\n" + near.log_text()[-3000:])

    def test_null_sender_to_remote_mx(self):
        """A message from <> (a read receipt) goes out with the null
        sender; a recipient the far MX refuses is not bounced to anyone."""
        far, near, port = self.installations()
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
        s.login(ALICE, ALICE_PW)
        msg = pbtest.make_message("Read: far away", "displayed\r\n", sender=ALICE,
                                  to="friend@elsewhere.example")
        self.assertEqual(s.sendmail("", ["friend@elsewhere.example",
                                         "nobody@elsewhere.example"], msg), {})
        s.quit()
        self.assertTrue(far.wait_for(
            lambda: far.count("friend@elsewhere.example")["friend@elsewhere.example"] == 1,
            timeout=30), "not delivered; near log:\n" + near.log_text()[-3000:])
        raw = far.dump("friend@elsewhere.example")[0][1]
        self.assertTrue(raw.startswith(b"Return-Path: <>\r\n"), raw[:200])
        self.assertTrue(near.wait_for(lambda: re.search(
            r"queue=[0-9a-f]{32}: no DSN for a DSN \(null sender\)", near.log_text()),
            timeout=30), "no log of the bounce left out:\n" + near.log_text()[-3000:])
        self.assertEqual(near.count(ALICE)[ALICE], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
