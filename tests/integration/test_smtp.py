"""smtpd with Python's smtplib and a raw client, launched per connection under
systemd-socket-activate (and a subset under a real xinetd): EHLO, STARTTLS
with certificate verification, AUTH PLAIN and LOGIN, implicit TLS (465),
multi-recipient mail, aliases, 8-bit and SMTPUTF8 mail, SIZE refusal,
pipelined transactions, submission's Message-ID/Date and sender rules, no
Sent copy, subaddresses (bob+tag) and postmaster@ every local domain; every delivered message read back from the store byte for byte
after the header lines smtpd and the store add."""

import os
import re
import signal
import smtplib
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB, BOB_PW  # noqa: E402

MAX_SIZE = 300000
JOERG = "j\u00f6rg@example.com"


def stored_last(fx, address):
    msgs = fx.dump(address)
    assert msgs, "nothing stored for %s" % address
    return msgs[-1][1]


class Base:
    """The suite; subclasses choose the launcher."""

    xinetd = False
    fx = None

    @classmethod
    def setUpClass(cls):
        cls.fx = smtptest.SmtpFixture("smtp", config_extra={"max_message_size": str(MAX_SIZE)})
        cls.fx.add_user(JOERG, "j pw")
        cls.fx.add_alias("team@example.com", BOB)
        cls.fx.add_alias("team@example.com", ALICE)
        cls.fx.add_alias("sales@example.com", BOB)
        cls.mx = cls.fx.smtpd("mx", xinetd=cls.xinetd)
        cls.sub = cls.fx.smtpd("submission", xinetd=cls.xinetd)
        cls.smtps = cls.fx.smtpd("submission", tls=True, xinetd=cls.xinetd)

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def connect(self, svc):
        s = smtplib.SMTP("127.0.0.1", svc.port, timeout=20)
        self.addCleanup(self._quit, s)
        return s

    @staticmethod
    def _quit(s):
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass

    def assert_stored(self, address, message, sender, proto, for_rcpt=None):
        """The newest message of address is `message`, byte for byte, after
        Return-Path, Delivered-To and Received; returns the match."""
        raw = stored_last(self.fx, address)
        m, rest = smtptest.split_stored(raw)
        self.assertEqual(rest, message)
        self.assertEqual(m.group("sender").decode(), sender)
        self.assertEqual(m.group("rcpt").decode().lower(), address.lower())
        self.assertEqual(m.group("proto").decode(), proto)
        self.assertEqual(m.group("host"), b"mail.example.com")
        if for_rcpt is not None:
            self.assertEqual(m.group("for").decode(), for_rcpt)
        return m

    # ------------------------------------------------------------------ tests

    def test_ehlo(self):
        s = self.connect(self.mx)
        code, _ = s.ehlo("client.example")
        self.assertEqual(code, 250)
        for ext in ("pipelining", "size", "8bitmime", "enhancedstatuscodes", "smtputf8",
                    "starttls", "auth"):
            self.assertTrue(s.has_extn(ext), ext)
        self.assertEqual(s.esmtp_features["size"], str(MAX_SIZE))
        self.assertEqual(s.esmtp_features["auth"].split(), ["PLAIN", "LOGIN"])

    def test_shutdown(self):
        """A service stop (SIGTERM to the handler) between commands and in
        the middle of DATA: 421 4.3.2 and the connection closed; the
        message cut off is not delivered."""
        before = self.fx.count(BOB)[BOB]
        for in_data in (False, True):
            r = smtptest.Raw(self.mx.address)
            self.addCleanup(r.close)
            self.assertEqual(r.cmd("EHLO client.example.org")[0], 250)
            if in_data:
                self.assertEqual(r.cmd("MAIL FROM:<carl@example.org>")[0], 250)
                self.assertEqual(r.cmd("RCPT TO:<%s>" % BOB)[0], 250)
                self.assertEqual(r.cmd("DATA")[0], 354)
                r.send("Subject: cut off\r\n\r\nhalf a message\r\n")
            pid = pbtest.handler_pid("smtpd", self.mx.port, r.sock.getsockname()[1])
            self.assertIsNotNone(pid)
            os.kill(pid, signal.SIGTERM)
            code, lines = r.reply()
            self.assertEqual(code, 421, lines)
            self.assertRegex(lines[0], r"^421 4\.3\.2 \S+ Server shutting down$")
            self.assertTrue(r.closed())
        self.assertEqual(self.fx.count(BOB)[BOB], before)

    def test_mx_delivery(self):
        s = self.connect(self.mx)
        msg = pbtest.make_message("mx one", "first line\r\n.leading dot\r\n..two\r\n")
        before = self.fx.count(BOB)[BOB]
        self.assertEqual(s.sendmail("carl@example.org", [BOB], msg), {})
        self.assertEqual(self.fx.count(BOB)[BOB], before + 1)
        m = self.assert_stored(BOB, msg, "carl@example.org", "ESMTP", BOB)
        self.assertEqual(m.group("tcpinfo"), b"[127.0.0.1]")
        self.assertIsNone(m.group("tls"))

    def test_starttls_verified(self):
        s = self.connect(self.sub)
        s.ehlo("client.example")
        code, _ = s.starttls(context=self.fx.ssl_context())
        self.assertEqual(code, 220)
        s.ehlo("client.example")
        self.assertFalse(s.has_extn("starttls"))
        self.assertTrue(s.has_extn("auth"))
        s.login(BOB, BOB_PW)
        msg = pbtest.make_message("over tls", "secret\r\n", sender=BOB, to=ALICE)
        s.sendmail(BOB, [ALICE], msg)
        m = self.assert_stored(ALICE, msg, BOB, "ESMTPSA", ALICE)
        self.assertTrue(m.group("tls").startswith(b"TLS1."), m.group("tls"))

    def test_starttls_untrusted_certificate(self):
        s = self.connect(self.sub)
        s.ehlo()
        with self.assertRaises(ssl.SSLCertVerificationError):
            s.starttls(context=ssl.create_default_context())

    def test_auth_plain_and_login(self):
        for mech in ("PLAIN", "LOGIN"):
            s = self.connect(self.sub)
            s.ehlo()
            s.user, s.password = ALICE, ALICE_PW
            code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()),
                             initial_response_ok=(mech == "PLAIN"))
            self.assertEqual(code, 235, mech)
            msg = pbtest.make_message("auth " + mech, "x\r\n", sender=ALICE, to=BOB)
            self.assertEqual(s.sendmail(ALICE, [BOB], msg), {})
            self.assert_stored(BOB, msg, ALICE, "ESMTPA", BOB)
        s = self.connect(self.sub)
        s.ehlo()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            s.login(ALICE, "wrong")
        self.assertEqual(cm.exception.smtp_code, 535)

    def test_implicit_tls(self):
        s = smtplib.SMTP_SSL("127.0.0.1", self.smtps.port, timeout=20,
                             context=self.fx.ssl_context())
        self.addCleanup(self._quit, s)
        s.ehlo()
        self.assertFalse(s.has_extn("starttls"))
        s.login(BOB, BOB_PW)
        msg = pbtest.make_message("smtps", "over 465\r\n", sender=BOB, to=ALICE)
        s.sendmail(BOB, [ALICE], msg)
        m = self.assert_stored(ALICE, msg, BOB, "ESMTPSA", ALICE)
        self.assertIsNotNone(m.group("tls"))

    def test_multi_recipient_and_aliases(self):
        s = self.connect(self.mx)
        msg = pbtest.make_message("many", "to several\r\n", to="team@example.com")
        before = self.fx.count(BOB, ALICE, JOERG)
        # team = bob + alice; sales = bob; bob again: bob gets one copy
        refused = s.sendmail("list@example.org", ["team@example.com", "sales@example.com",
                                                  BOB, "Bob@Example.COM"], msg)
        self.assertEqual(refused, {})
        after = self.fx.count(BOB, ALICE, JOERG)
        self.assertEqual(after[BOB], before[BOB] + 1)
        self.assertEqual(after[ALICE], before[ALICE] + 1)
        self.assertEqual(after[JOERG], before[JOERG])
        for who in (BOB, ALICE):
            m = self.assert_stored(who, msg, "list@example.org", "ESMTP")
            self.assertIsNone(m.group("for"))  # several recipients: no "for"
        # one refused recipient among good ones: the others get it
        refused = s.sendmail("list@example.org", [BOB, "nobody@example.com"], msg)
        self.assertEqual(list(refused), ["nobody@example.com"])
        self.assertEqual(refused["nobody@example.com"][0], 550)

    def test_8bit(self):
        s = self.connect(self.mx)
        body = "Gr\u00fc\u00dfe aus K\u00f6ln \u2014 \u20ac\r\n".encode("utf-8")
        msg = (b"From: <a@example.org>\r\nSubject: 8bit\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/plain; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body)
        s.sendmail("a@example.org", [BOB], msg, mail_options=["BODY=8BITMIME"])
        self.assert_stored(BOB, msg, "a@example.org", "ESMTP")

    def test_smtputf8(self):
        s = self.connect(self.mx)
        s.ehlo()
        self.assertTrue(s.has_extn("smtputf8"))
        msg = ("From: J\u00f6rg <j\u00f6rg@b\u00fccher.example>\r\nTo: <%s>\r\n"
               "Subject: gr\u00fc\u00dfe\r\n\r\nsch\u00f6n\r\n" % JOERG).encode("utf-8")
        s.sendmail("j\u00f6rg@b\u00fccher.example", [JOERG], msg,
                   mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        self.assert_stored(JOERG, msg, "j\u00f6rg@b\u00fccher.example", "UTF8SMTP", JOERG)
        # without SMTPUTF8 an 8-bit address is refused
        s.ehlo()
        s.command_encoding = "utf-8"
        code, text = s.docmd("MAIL FROM:<j\u00f6rg@b\u00fccher.example>")
        self.assertEqual(code, 553, text)
        self.assertIn(b"5.6.7", text)

    def test_size(self):
        s = self.connect(self.mx)
        s.ehlo()
        code, text = s.mail("a@example.org", ["SIZE=%d" % (MAX_SIZE + 1)])
        self.assertEqual(code, 552, text)
        self.assertIn(b"5.3.4", text)
        s.rset()
        code, _ = s.mail("a@example.org", ["SIZE=%d" % MAX_SIZE])
        self.assertEqual(code, 250)
        s.rset()
        # without SIZE= (smtplib sends it when offered) the data is refused
        del s.esmtp_features["size"]
        before = self.fx.count(BOB)[BOB]
        big = pbtest.make_message("big", ("y" * 76 + "\r\n") * (MAX_SIZE // 78 + 10))
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            s.sendmail("a@example.org", [BOB], big)
        self.assertEqual(cm.exception.smtp_code, 552)
        self.assertEqual(self.fx.count(BOB)[BOB], before)
        # the session goes on
        small = pbtest.make_message("after big", "ok\r\n")
        self.assertEqual(s.sendmail("a@example.org", [BOB], small), {})
        # exactly the advertised SIZE is accepted: our own Received: line
        # does not count against it (RFC 1870 4)
        s.ehlo()
        self.assertEqual(int(s.esmtp_features["size"]), MAX_SIZE)
        head = pbtest.make_message("exactly the limit", "").decode()
        body = ("z" * 76 + "\r\n") * ((MAX_SIZE - len(head)) // 78)
        exact = head + body + "x" * (MAX_SIZE - len(head) - len(body) - 2) + "\r\n"
        self.assertEqual(len(exact.encode()), MAX_SIZE)
        self.assertEqual(s.sendmail("a@example.org", [BOB], exact), {})   # with SIZE=
        self.assertEqual(self.fx.count(BOB)[BOB], before + 2)

    def test_pipelining(self):
        raw = smtptest.Raw(self.mx.address)
        self.addCleanup(raw.close)
        self.assertEqual(raw.greeting[0], 220)
        self.assertEqual(raw.cmd("EHLO client.example")[0], 250)
        m1 = pbtest.make_message("pipe one", "1\r\n")
        m2 = pbtest.make_message("pipe two", "2\r\n")
        before = self.fx.count(BOB, ALICE)
        raw.send("MAIL FROM:<p@example.org>\r\nRCPT TO:<%s>\r\nRCPT TO:<nobody@example.com>\r\n"
                 "RCPT TO:<%s>\r\nDATA\r\n" % (BOB, ALICE))
        self.assertEqual([raw.reply()[0] for _ in range(5)], [250, 250, 550, 250, 354])
        # the end of data, a whole second transaction and QUIT in one write
        raw.send(m1 + b".\r\nMAIL FROM:<p@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % BOB.encode())
        self.assertEqual([raw.reply()[0] for _ in range(4)], [250, 250, 250, 354])
        raw.send(m2 + b".\r\nQUIT\r\n")
        self.assertEqual([raw.reply()[0] for _ in range(2)], [250, 221])
        after = self.fx.count(BOB, ALICE)
        self.assertEqual(after[BOB], before[BOB] + 2)
        self.assertEqual(after[ALICE], before[ALICE] + 1)
        self.assertEqual(smtptest.split_stored(stored_last(self.fx, BOB))[1], m2)
        self.assertEqual(smtptest.split_stored(stored_last(self.fx, ALICE))[1], m1)

    def test_submission_rules(self):
        s = self.connect(self.sub)
        s.ehlo()
        code, text = s.mail(BOB)
        self.assertEqual(code, 530, text)
        s.login(BOB, BOB_PW)
        for forged in (ALICE, "nobody@example.com", "someone@example.org"):
            code, text = s.mail(forged)
            self.assertEqual(code, 553, (forged, text))
            s.rset()
        # the null sender names nobody (read receipts, vacation replies)
        self.assertEqual(s.mail("")[0], 250)
        s.rset()
        # an alias that resolves to bob alone is his
        code, _ = s.mail("sales@example.com")
        self.assertEqual(code, 250)
        s.rset()
        # no Message-ID, no Date: added; relays anywhere once logged in
        msg = b"From: <bob@example.com>\r\nSubject: bare\r\n\r\nno id\r\n"
        refused = s.sendmail(BOB, [ALICE, "friend@elsewhere.example"], msg)
        self.assertEqual(refused, {})
        m = self.assert_stored(ALICE, msg, BOB, "ESMTPA")
        self.assertRegex(m.group("msgid"), rb"^Message-ID: <\d{14}\.[0-9A-F]{16}@mail\.example\.com>")
        self.assertRegex(m.group("datehdr"), rb"^Date: \w{3}, \d\d \w{3} \d{4} ")
        # submission files no copy in Sent (clients do that themselves)
        self.assertEqual(self.fx.mailbox_list(BOB)["Sent"][0], 0)

    def test_message_id_kept(self):
        s = self.connect(self.sub)
        s.login(ALICE, ALICE_PW)
        msg = pbtest.make_message("has id", "x\r\n", sender=ALICE, to=BOB)
        s.sendmail(ALICE, [BOB], msg)
        m = self.assert_stored(BOB, msg, ALICE, "ESMTPA")
        self.assertIsNone(m.group("msgid"))
        self.assertIsNone(m.group("datehdr"))


    def test_subaddress(self):
        """RFC 5233 (recipient_delimiter "+" by default): bob+tag reaches
        bob's INBOX with the envelope recipient kept in Received: ... for; an
        address that exists matches exactly; the base may be an alias; RCPT
        refuses what the base would, and checks the base user's quota."""
        fx = self.fx
        plus, exact = "plus@example.com", "plus+exact@example.com"
        fx.add_user(plus, "p pw")
        fx.add_user(exact, "pe pw")
        before = fx.count(BOB, ALICE, plus, exact)
        s = self.connect(self.mx)
        for rcpt, owner in (("bob+lists@example.com", BOB), ("bob+a+b@example.com", BOB),
                            ("sales+q3@example.com", BOB), (exact, exact),
                            ("plus+other@example.com", plus), ("Bob+Lists@Example.COM", BOB)):
            msg = pbtest.make_message("tag " + rcpt, "x\r\n", to=rcpt)
            self.assertEqual(s.sendmail("carl@example.org", [rcpt], msg), {}, rcpt)
            m = self.assert_stored(owner, msg, "carl@example.org", "ESMTP")
            self.assertEqual(m.group("for").decode().lower(), rcpt.lower())
        # bob and bob+x in one transaction: one copy
        msg = pbtest.make_message("tag twice", "x\r\n")
        self.assertEqual(s.sendmail("carl@example.org", [BOB, "bob+x@example.com"], msg), {})
        after = fx.count(BOB, ALICE, plus, exact)
        self.assertEqual(after, {BOB: before[BOB] + 5, ALICE: before[ALICE],
                                 plus: before[plus] + 1, exact: before[exact] + 1})
        for rcpt in ("nobody+x@example.com", "+bob@example.com", "bob.+x@example.com"):
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail("carl@example.org", [rcpt], msg)
            self.assertEqual(cm.exception.recipients[rcpt][0], 550, rcpt)
        # the quota checked at RCPT is the base user's
        full = "full@example.com"
        fx.add_user(full, "f pw")
        fx.pillarbox("user", "quota", full, "0", "1")
        fx.deliver(full, pbtest.make_message("fills it", "x\r\n", to=full))
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            s.sendmail("carl@example.org", ["full+x@example.com"], msg)
        self.assertEqual(cm.exception.recipients["full+x@example.com"][0], 552)
        # reaching bob is no right to send as bob+tag (only an explicit alias is)
        sub = self.connect(self.sub)
        sub.login(BOB, BOB_PW)
        self.assertEqual(sub.mail("bob+x@example.com")[0], 553)
        # pillarbox deliver resolves it the same way
        msg = pbtest.make_message("tag cli", "x\r\n", to="bob+cli@example.com")
        fx.deliver("bob+cli@example.com", msg)
        self.assertEqual(fx.count(BOB)[BOB], after[BOB] + 1)
        self.assertTrue(stored_last(fx, BOB).endswith(msg))

    def test_postmaster(self):
        """postmaster@ (RFC 5321 4.5.1) and abuse@ (RFC 2142) of a local
        domain without an alias of its own: refused while `postmaster` is not
        set (the log says what to do), else delivered to that address; an
        explicit alias wins; bare <Postmaster> goes to postmaster at the host
        name's local parent domain, or without one to the configured address."""
        fx = self.fx
        base = {"max_message_size": str(MAX_SIZE)}
        self.addCleanup(fx.write_config, base)
        r = smtptest.Raw(self.mx.address)
        self.addCleanup(r.close)
        self.assertEqual(r.cmd("EHLO client.example")[0], 250)
        self.assertEqual(r.cmd("MAIL FROM:<carl@example.org>")[0], 250)
        for rcpt in ("postmaster@example.com", "Postmaster", "abuse@example.com"):
            self.assertEqual(r.cmd("RCPT TO:<%s>" % rcpt)[0], 550, rcpt)
        if not self.xinetd:  # xinetd's handlers log to syslog, not to the fixture
            self.assertTrue(fx.wait_for(lambda: "reason=no postmaster (RFC 5321 4.5.1: add an "
                                                "alias, or set postmaster in pillarbox.conf)"
                                        in fx.log_text()))

        fx.write_config(dict(base, postmaster=ALICE))
        before = fx.count(ALICE, BOB)
        s = self.connect(self.mx)
        for rcpt, for_rcpt in (("postmaster@example.com", "postmaster@example.com"),
                               ("abuse@example.com", "abuse@example.com"),
                               ("Postmaster", "postmaster@example.com")):
            msg = pbtest.make_message("pm " + rcpt, "x\r\n", to=rcpt)
            self.assertEqual(s.sendmail("carl@example.org", [rcpt], msg), {}, rcpt)
            self.assert_stored(ALICE, msg, "carl@example.org", "ESMTP", for_rcpt)
        self.assertEqual(fx.count(ALICE, BOB), {ALICE: before[ALICE] + 3, BOB: before[BOB]})
        # the domain's own alias wins
        fx.add_alias("postmaster@example.com", BOB)
        self.addCleanup(fx.pillarbox, "alias", "del", "postmaster@example.com")
        msg = pbtest.make_message("pm alias", "x\r\n", to="postmaster@example.com")
        self.assertEqual(s.sendmail("carl@example.org", ["PostMaster@example.com"], msg), {})
        self.assert_stored(BOB, msg, "carl@example.org", "ESMTP")
        self.assertEqual(fx.count(ALICE)[ALICE], before[ALICE] + 3)
        # no local domain in the host name: bare <Postmaster> is the configured one
        fx.write_config(dict(base, postmaster=ALICE, hostname="mx.elsewhere.example"))
        s = self.connect(self.mx)
        msg = pbtest.make_message("pm bare", "x\r\n", to="postmaster")
        self.assertEqual(s.sendmail("carl@example.org", ["Postmaster"], msg), {})
        m, rest = smtptest.split_stored(stored_last(fx, ALICE))
        self.assertEqual(rest, msg)
        self.assertEqual(m.group("for"), b"postmaster")
        # a postmaster elsewhere: taken for the relay in MX mode, not refused
        fx.write_config(dict(base, postmaster="pm@elsewhere.example"))
        r = smtptest.Raw(self.mx.address)
        self.addCleanup(r.close)
        self.assertEqual(r.cmd("EHLO client.example")[0], 250)
        self.assertEqual(r.cmd("MAIL FROM:<carl@example.org>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<abuse@example.com>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<someone@elsewhere.example>")[0], 554)


class SocketActivateTests(Base, unittest.TestCase):
    xinetd = False

    # A client that is not on loopback must use STARTTLS before AUTH: that is
    # tested over a socketpair in tests/unit/test_smtp_session.c, because test
    # traffic stays on loopback.
    pass


class XinetdTests(Base, unittest.TestCase):
    xinetd = True

    def test_shipped_files(self):
        """dist/xinetd.d/{smtp,submission,smtps} run as shipped."""
        for name, tls, auth in (("smtp", False, True), ("submission", False, True),
                                ("smtps", True, True)):
            svc = self.fx.xinetd_shipped(name)
            if tls:
                s = smtplib.SMTP_SSL("127.0.0.1", svc.port, timeout=20,
                                     context=self.fx.ssl_context())
            else:
                s = smtplib.SMTP("127.0.0.1", svc.port, timeout=20)
            self.addCleanup(self._quit, s)
            s.ehlo()
            self.assertEqual(s.has_extn("starttls"), not tls, name)
            code, text = s.mail(BOB)
            self.assertEqual(code, 250 if name == "smtp" else 530, (name, text))
            self._quit(s)

    def test_shipped_units(self):
        """dist/systemd: the sockets listen where the modes belong and the
        services start smtpd in that mode."""
        want = {"smtp": ("25", "--mode=mx"), "submission": ("587", "--mode=submission"),
                "smtps": ("465", "--mode=submission --tls")}
        d = os.path.join(pbtest.TOP_SRCDIR, "dist", "systemd")
        for name, (port, args) in want.items():
            with open(os.path.join(d, name + ".socket")) as f:
                sock = f.read()
            with open(os.path.join(d, name + "@.service")) as f:
                svc = f.read()
            self.assertIn("ListenStream=%s\n" % port, sock)
            self.assertIn("Accept=yes\n", sock)
            self.assertRegex(svc, r"(?m)^ExecStart=\S+/smtpd %s$" % re.escape(args))
            for line in ("StandardInput=socket", "User=pillarbox", "KillMode=process"):
                self.assertIn(line + "\n", svc)


if __name__ == "__main__":
    unittest.main(verbosity=2)
