"""imapd with Python's imaplib and a line-level client, launched per
connection under systemd-socket-activate (and once through a real xinetd):
every command of RFC 3501 and the extensions, with exact responses for a
fixed corpus (envelopes and body structures of nested multiparts, encoded
headers, message/rfc822 parts, partial fetches, searches with nesting)."""

import base64
import imaplib
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
from imaptest import BOB, BOB_PW, CAROL, CAROL_PW  # noqa: E402

ENV1 = (b'("Mon, 01 Jan 2024 10:00:00 +0100" "=?utf-8?q?caf=C3=A9_menu?=" '
        b'(("Alice Q. Example" NIL "alice" "example.org")) '
        b'(("Alice Q. Example" NIL "alice" "example.org")) '
        b'(("Alice Q. Example" NIL "alice" "example.org")) '
        b'((NIL NIL "bob" "example.com")(NIL NIL "undisclosed" NIL)(NIL NIL NIL NIL)) '
        b'(("=?utf-8?q?Z=C3=BCrich?=" NIL "z" "example.net")) NIL '
        b'"<earlier@example.org>" "<simple@example.org>")')
BS1 = b'("text" "plain" NIL NIL NIL "7BIT" 38 2 NIL NIL NIL NIL)'
INNER_ENV = (b'(NIL "inner message" ((NIL NIL "dave" "example.org")) '
             b'((NIL NIL "dave" "example.org")) ((NIL NIL "dave" "example.org")) '
             b'NIL NIL NIL NIL "<inner@example.org>")')
BS2 = (b'(("text" "plain" ("charset" "iso-8859-1") NIL NIL "QUOTED-PRINTABLE" 19 1 NIL NIL NIL NIL)'
       b'("message" "rfc822" NIL NIL "forwarded" "7BIT" 262 ' + INNER_ENV +
       b' (("text" "plain" NIL NIL NIL "7BIT" 16 1 NIL NIL NIL NIL)'
       b'("text" "html" ("charset" "utf-8") NIL NIL "7BIT" 17 1 NIL NIL NIL NIL) '
       b'"alternative" ("boundary" "alt") NIL NIL NIL) 14 NIL NIL NIL NIL)'
       b'("application" "octet-stream" ("name" "data.bin") NIL NIL "BASE64" 12 NIL '
       b'("attachment" ("filename" "data.bin")) NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)')
BODY2 = (b'(("text" "plain" ("charset" "iso-8859-1") NIL NIL "QUOTED-PRINTABLE" 19 1)'
         b'("message" "rfc822" NIL NIL "forwarded" "7BIT" 262 ' + INNER_ENV +
         b' (("text" "plain" NIL NIL NIL "7BIT" 16 1)("text" "html" ("charset" "utf-8") '
         b'NIL NIL "7BIT" 17 1) "alternative") 14)'
         b'("application" "octet-stream" ("name" "data.bin") NIL NIL "BASE64" 12) "mixed")')
BS3 = b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 0 0) "mixed" NIL NIL NIL NIL)'


def b64(raw):
    return base64.b64encode(raw).decode()


class ImapSuite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("imap", config_extra={"max_message_size": "1M"})
        imaptest.setup_bob(cls.fx)
        cls.fx.add_user(CAROL, CAROL_PW)
        cls.fx.pillarbox("user", "quota", CAROL, "10M", "1000", check=False)
        cls.svc = imaptest.launch(cls.fx)
        cls.tls = imaptest.launch(cls.fx, tls=True)

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def raw(self, login=True, user=BOB, password=BOB_PW):
        c = imaptest.Raw(self.svc.address)
        self.addCleanup(c.close)
        if login:
            c.login(user, password)
        return c

    def imap(self, user=BOB, password=BOB_PW):
        m = imaplib.IMAP4("127.0.0.1", self.svc.port)
        self.addCleanup(lambda: m.shutdown())
        m.login(user, password)
        return m

    # ---------------------------------------------------------- any state

    def test_greeting_capability_noop_logout(self):
        c = self.raw(login=False)
        self.assertTrue(c.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 "))
        self.assertIn(b"AUTH=PLAIN AUTH=LOGIN", c.greeting)   # loopback: allowed
        self.assertIn(b"STARTTLS", c.greeting)
        self.assertNotIn(b"CRAM-MD5", c.greeting)
        u, t = c.cmd("CAPABILITY")
        self.assertTrue(u[0].startswith(b"* CAPABILITY IMAP4rev1"))
        self.assertEqual(t, b"t1 OK Capability completed")
        self.assertEqual(c.cmd("NOOP")[1], b"t2 OK NOOP completed")
        u, t = c.cmd('ID ("name" "test" "version" "1")')
        self.assertTrue(u[0].startswith(b'* ID ("name" "Pillarbox"'))
        done = c.login()
        for cap in (b"UIDPLUS", b"MOVE", b"CONDSTORE", b"QRESYNC", b"ESEARCH", b"LIST-STATUS",
                    b"SPECIAL-USE", b"APPENDLIMIT=1048576", b"UTF8=ACCEPT", b"LITERAL+"):
            self.assertIn(cap, done)
        self.assertNotIn(b"QUOTA", done)   # bob has no quota
        u, t = c.cmd("LOGOUT")
        self.assertEqual(u, [b"* BYE Logging out"])
        self.assertTrue(t.endswith(b"OK Logout completed"))

    def test_starttls_and_implicit_tls(self):
        m = imaplib.IMAP4("127.0.0.1", self.svc.port)
        m.starttls(ssl_context=self.fx.ssl_context(verify=False))
        self.assertNotIn("STARTTLS", m.capabilities)
        m.login(BOB, BOB_PW)
        self.assertEqual(m.select("INBOX")[1], [b"3"])
        m.logout()
        m = imaplib.IMAP4_SSL("127.0.0.1", self.tls.port, ssl_context=self.fx.ssl_context())
        self.assertNotIn("STARTTLS", m.capabilities)
        m.login(BOB, BOB_PW)
        m.logout()

    def test_logindisabled_without_tls(self):
        addr = imaptest.external_address()
        if addr is None:
            self.skipTest("no non-loopback address")
        svc = imaptest.launch_on(self.fx, addr)
        c = imaptest.Raw(svc.address)
        self.addCleanup(c.close)
        # the probe connection of launch_on may be answered first: skip it
        self.assertIn(b"LOGINDISABLED", c.greeting)
        self.assertNotIn(b"AUTH=PLAIN", c.greeting)
        _, t = c.cmd('LOGIN "%s" "x"' % BOB)
        self.assertIn(b"NO [PRIVACYREQUIRED]", t)
        _, t = c.cmd("AUTHENTICATE PLAIN")
        self.assertIn(b"NO [PRIVACYREQUIRED]", t)
        m = imaplib.IMAP4(addr, svc.port)
        self.addCleanup(m.shutdown)
        m.starttls(ssl_context=self.fx.ssl_context(verify=False))
        self.assertIn("AUTH=PLAIN", m.capabilities)
        self.assertNotIn("LOGINDISABLED", m.capabilities)
        self.assertEqual(m.login(BOB, BOB_PW)[0], "OK")

    def test_authenticate(self):
        c = self.raw(login=False)
        plain = b64(b"\0" + BOB.encode() + b"\0" + BOB_PW.encode())
        _, t = c.cmd("AUTHENTICATE PLAIN " + plain)          # SASL-IR
        self.assertIn(b"OK [CAPABILITY", t)
        c = self.raw(login=False)
        c.send("a AUTHENTICATE LOGIN\r\n")
        self.assertEqual(c.line(), b"+ " + b64(b"Username:").encode())
        c.send(b64(BOB.encode()) + "\r\n")
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(b64(BOB_PW.encode()) + "\r\n")
        self.assertIn(b"a OK", c.line())
        c = self.raw(login=False)
        c.send("a AUTHENTICATE PLAIN\r\n")
        self.assertEqual(c.line(), b"+ ")
        c.send("*\r\n")
        self.assertEqual(c.line(), b"a BAD Authentication cancelled")
        _, t = c.cmd("AUTHENTICATE CRAM-MD5")
        self.assertIn(b"NO", t)
        _, t = c.cmd('LOGIN "%s" "wrong"' % CAROL)
        self.assertEqual(t, b"t2 NO [AUTHENTICATIONFAILED] Authentication failed")

    def test_state_checks(self):
        c = self.raw(login=False)
        self.assertIn(b"BAD Not authenticated", c.cmd("SELECT INBOX")[1])
        self.assertIn(b"BAD Not authenticated", c.cmd("FETCH 1 FLAGS")[1])
        c.login()
        self.assertIn(b"BAD No mailbox selected", c.cmd("FETCH 1 FLAGS")[1])
        self.assertIn(b"BAD Already authenticated", c.cmd("LOGIN a b")[1])
        self.assertIn(b"BAD Unknown command", c.cmd("FROB")[1])

    # ----------------------------------------------------------- mailboxes

    def test_list_namespace_specialuse(self):
        c = self.raw()
        u, _ = c.cmd('LIST "" "*"')
        self.assertIn(b'* LIST (\\HasNoChildren \\Sent) "/" "Sent"', u)
        self.assertIn(b'* LIST (\\HasNoChildren \\Trash) "/" "Trash"', u)
        self.assertIn(b'* LIST (\\HasNoChildren) "/" "INBOX"', u)
        u, _ = c.cmd('LIST "" ""')
        self.assertEqual(u, [b'* LIST (\\Noselect) "/" ""'])
        u, _ = c.cmd("NAMESPACE")
        self.assertEqual(u, [b'* NAMESPACE (("" "/")) NIL NIL'])
        u, _ = c.cmd('LIST (SPECIAL-USE) "" "%"')
        self.assertIn(b'* LIST (\\HasNoChildren \\Junk) "/" "Junk"', u)
        self.assertNotIn(b'* LIST (\\HasNoChildren) "/" "INBOX"', u)
        u, _ = c.cmd('LIST "" "inbox"')
        self.assertEqual(u, [b'* LIST (\\HasNoChildren) "/" "INBOX"'])
        u, _ = c.cmd('LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN) SUBSCRIBED)')
        self.assertIn(b'* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"', u)
        i = u.index(b'* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"')
        self.assertEqual(u[i + 1], b'* STATUS "INBOX" (MESSAGES 3 UNSEEN 3)')

    def test_create_rename_delete_subscribe(self):
        c = self.raw()
        self.assertIn(b"OK", c.cmd('CREATE "Projects/2024/Q1"')[1])
        u, _ = c.cmd('LIST "" "Projects*"')
        self.assertEqual(u, [b'* LIST (\\HasChildren) "/" "Projects"',
                             b'* LIST (\\HasChildren) "/" "Projects/2024"',
                             b'* LIST (\\HasNoChildren) "/" "Projects/2024/Q1"'])
        u, _ = c.cmd('LIST "" "Projects/%"')
        self.assertEqual(u, [b'* LIST (\\HasChildren) "/" "Projects/2024"'])
        self.assertIn(b"NO [ALREADYEXISTS]", c.cmd('CREATE "Projects"')[1])
        self.assertIn(b"OK", c.cmd('RENAME "Projects" "Old"')[1])
        u, _ = c.cmd('LIST "" "Old/*"')
        self.assertEqual(len(u), 2)
        self.assertIn(b"NO [HASCHILDREN]", c.cmd('DELETE "Old"')[1])
        self.assertIn(b"OK", c.cmd('DELETE "Old/2024/Q1"')[1])
        self.assertIn(b"NO [NONEXISTENT]", c.cmd('DELETE "Old/2024/Q1"')[1])
        self.assertIn(b"NO [NONEXISTENT]", c.cmd('SELECT "nope"')[1])
        # special use on creation, modified UTF-7 names
        self.assertIn(b"OK", c.cmd('CREATE "Entw&APw-rfe" (USE (\\Drafts))')[1])
        u, _ = c.cmd('LIST "" "Entw*"')
        self.assertEqual(u, [b'* LIST (\\HasNoChildren \\Drafts) "/" "Entw&APw-rfe"'])
        self.assertIn(b"OK", c.cmd('SUBSCRIBE "Entw&APw-rfe"')[1])
        u, _ = c.cmd('LSUB "" "Entw*"')
        self.assertEqual(u, [b'* LSUB (\\HasNoChildren \\Subscribed \\Drafts) "/" "Entw&APw-rfe"'])
        self.assertIn(b"OK", c.cmd('UNSUBSCRIBE "Entw&APw-rfe"')[1])
        self.assertEqual(c.cmd('LSUB "" "Entw*"')[0], [])
        # bad names
        for bad in ('"a/../b"', '"a//b"', '"&Jjo!"', '"x&AGE-"', '"/lead"', '"a\xc3\xa9"'):
            _, t = c.cmd(b"CREATE " + bad.encode("latin-1"))
            self.assertTrue(b" NO " in t or b" BAD " in t, (bad, t))
        # UTF-8 names once enabled
        self.assertEqual(c.cmd("ENABLE UTF8=ACCEPT")[0], [b"* ENABLED UTF8=ACCEPT"])
        u, _ = c.cmd('LIST "" "Entw*"')
        self.assertEqual(u, [b'* LIST (\\HasNoChildren \\Drafts) "/" "Entw\xc3\xbcrfe"'])

    def test_rename_inbox(self):
        c = self.raw(user=CAROL, password=CAROL_PW)
        c2 = imaptest.Raw(self.svc.address)
        self.addCleanup(c2.close)
        self.fx.deliver(CAROL, pbtest.make_message("for carol", "x\r\n", to=CAROL))
        self.assertIn(b"OK", c.cmd("RENAME INBOX Saved")[1])
        u, _ = c.cmd("STATUS INBOX (MESSAGES)")
        self.assertEqual(u, [b'* STATUS "INBOX" (MESSAGES 0)'])
        u, _ = c.cmd("STATUS Saved (MESSAGES)")
        self.assertEqual(u, [b'* STATUS "Saved" (MESSAGES 1)'])

    def test_sent_dates_in_their_own_zone(self):
        """SENTON/SENTSINCE/SENTBEFORE compare the Date: as written,
        "disregarding time and timezone" (RFC 3501 6.4.4), not its UTC
        date: 23:30 -0500 on 1 Jan is 2 Jan in UTC, 00:30 +0200 on 2 Jan is
        1 Jan in UTC."""
        user, pw = "sent@example.com", "sent pw"
        self.fx.add_user(user, pw)
        for date in ("Mon, 01 Jan 2024 23:30:00 -0500", "Tue, 02 Jan 2024 00:30:00 +0200"):
            self.fx.deliver(user, ("From: <a@example.org>\r\nSubject: zone\r\nDate: %s\r\n"
                                   "\r\nx\r\n" % date).encode())
        c = self.raw(user=user, password=pw)
        c.cmd("EXAMINE INBOX")
        for command, want in (("SEARCH SENTON 1-Jan-2024", b"* SEARCH 1"),
                              ("SEARCH SENTON 2-Jan-2024", b"* SEARCH 2"),
                              ("SEARCH SENTBEFORE 2-Jan-2024", b"* SEARCH 1"),
                              ("SEARCH SENTSINCE 2-Jan-2024", b"* SEARCH 2")):
            u, t = c.cmd(command)
            self.assertEqual(u, [want], command)

    def test_rename_selected_inbox(self):
        """RENAME INBOX while INBOX is selected: the messages move, a new
        empty INBOX (new UIDVALIDITY) remains, and the session no longer
        works on the moved messages as if they were INBOX's."""
        user, pw = "rena@example.com", "rena pw"
        self.fx.add_user(user, pw)
        for i in range(2):
            self.fx.deliver(user, pbtest.make_message("m%d" % i, "x\r\n", to=user))
        c = self.raw(user=user, password=pw)
        u, _ = c.cmd("SELECT INBOX")
        self.assertIn(b"* 2 EXISTS", u)
        old = [x for x in u if x.startswith(b"* OK [UIDVALIDITY ")]
        u, t = c.cmd("RENAME INBOX Kept")
        self.assertIn(b"OK Rename completed", t)
        self.assertTrue(any(x.startswith(b"* OK [CLOSED]") for x in u), u)
        # nothing selected: no FETCH, STORE or SEARCH reaches the moved messages
        for command in ("FETCH 1:* (FLAGS)", "STORE 1:* +FLAGS (\\Deleted)", "SEARCH ALL",
                        "UID STORE 1:* +FLAGS (\\Deleted)"):
            u, t = c.cmd(command)
            self.assertIn(b"BAD No mailbox selected", t, command)
            self.assertEqual(u, [], command)
        u, t = c.cmd("SELECT INBOX")
        self.assertIn(b"* 0 EXISTS", u)
        self.assertFalse(any(x.startswith(b"* OK [CLOSED]") for x in u), u)
        new = [x for x in u if x.startswith(b"* OK [UIDVALIDITY ")]
        self.assertNotEqual(new, old)
        u, _ = c.cmd("STATUS Kept (MESSAGES DELETED)")
        self.assertEqual(u, [b'* STATUS "Kept" (MESSAGES 2 DELETED 0)'])
        # another selected mailbox renamed stays selected under its new name
        c.cmd("SELECT Kept")
        u, t = c.cmd("RENAME Kept Kept2")
        self.assertIn(b"OK Rename completed", t)
        self.assertEqual(u, [])
        u, _ = c.cmd("FETCH 1:* (FLAGS)")
        self.assertEqual(len(u), 2, u)

    def test_rename_inbox_other_sessions(self):
        """RENAME INBOX in one session while others have INBOX selected:
        their INBOX is no longer that mailbox (new mail goes to the new
        one), so they are told, at the next command and in IDLE, not left
        showing the moved messages as INBOX forever. The new INBOX keeps
        INBOX's subscription (RFC 3501 6.3.6: subscriptions are names)."""
        user, pw = "renb@example.com", "renb pw"
        self.fx.add_user(user, pw)
        self.fx.deliver(user, pbtest.make_message("m", "x\r\n", to=user))
        a = self.raw(user=user, password=pw)
        i = self.raw(user=user, password=pw)
        b = self.raw(user=user, password=pw)
        self.assertEqual(b.cmd('LSUB "" INBOX')[0],
                         [b'* LSUB (\\HasNoChildren \\Subscribed) "/" "INBOX"'])
        a.cmd("SELECT INBOX")
        i.cmd("SELECT INBOX")
        i.send("i IDLE\r\n")
        self.assertEqual(i.line(), b"+ idling")
        self.assertIn(b"OK Rename completed", b.cmd("RENAME INBOX Before")[1])
        self.assertEqual(i.line(), b"* BYE Selected mailbox was renamed, reconnect")
        self.fx.deliver(user, pbtest.make_message("new", "x\r\n", to=user))
        # BYE and the connection closes, no tagged reply after it (RFC 9051 7.1.5)
        a.send("n NOOP\r\n")
        self.assertEqual(a.line(), b"* BYE Selected mailbox was renamed, reconnect")
        self.assertRaises(EOFError, a.line)
        self.assertEqual(b.cmd('LSUB "" INBOX')[0],
                         [b'* LSUB (\\HasNoChildren \\Subscribed) "/" "INBOX"'])
        # a session on another mailbox is not disturbed by the next rename
        b.cmd("SELECT Before")
        self.assertIn(b"OK", b.cmd("RENAME INBOX Before2")[1])
        u, t = b.cmd("NOOP")
        self.assertEqual(u, [])
        self.assertIn(b" OK NOOP completed", t)

    def test_quota(self):
        c = self.raw(user=CAROL, password=CAROL_PW)
        _, t = c.cmd("CAPABILITY")
        u, t = c.cmd("GETQUOTAROOT INBOX")
        self.assertEqual(u[0], b'* QUOTAROOT "INBOX" ""')
        self.assertTrue(u[1].startswith(b'* QUOTA "" (STORAGE '), u)
        self.assertIn(b"NO", c.cmd('SETQUOTA "" (STORAGE 1)')[1])
        # QUOTA=RES-STORAGE comes with STATUS DELETED-STORAGE (RFC 9208
        # 5.1.1): what an EXPUNGE frees, in the units of STORAGE
        msg = b"Subject: q\r\n\r\n" + (b"x" * 98 + b"\r\n") * 20   # 2014 octets
        c.cmd("CREATE QuotaDel")
        for flags in ("(\\Deleted)", "()", "(\\Deleted)"):
            _, t = c.cmd(b"APPEND QuotaDel %s {%d+}\r\n" % (flags.encode(), len(msg)) + msg)
            self.assertIn(b"OK [APPENDUID", t)
        u, t = c.cmd("STATUS QuotaDel (DELETED DELETED-STORAGE SIZE)")
        self.assertEqual(u, [b'* STATUS "QuotaDel" (DELETED 2 DELETED-STORAGE 4 SIZE 6042)'])

    # ------------------------------------------------------------- selected

    def test_select_examine(self):
        c = self.raw()
        u, t = c.cmd("EXAMINE INBOX")
        self.assertEqual(t, b"t2 OK [READ-ONLY] Examine completed")
        self.assertIn(b"* 3 EXISTS", u)
        self.assertIn(b"* OK [PERMANENTFLAGS ()] Read-only mailbox", u)
        self.assertTrue(any(x.startswith(b"* OK [UIDVALIDITY ") for x in u))
        self.assertTrue(any(x.startswith(b"* OK [HIGHESTMODSEQ ") for x in u))
        self.assertIn(b"NO [READ-ONLY]", c.cmd("STORE 1 +FLAGS (\\Seen)")[1])
        u, t = c.cmd("SELECT INBOX")
        self.assertIn(b"* OK [CLOSED] Previous mailbox closed", u)
        self.assertEqual(t, b"t4 OK [READ-WRITE] Select completed")
        self.assertIn(b"OK", c.cmd("CHECK")[1])
        self.assertIn(b"OK", c.cmd("UNSELECT")[1])
        self.assertIn(b"BAD", c.cmd("CHECK")[1])

    def test_fetch_structure(self):
        c = self.raw()
        c.cmd("EXAMINE INBOX")
        u, t = c.cmd("FETCH 1:3 (ENVELOPE BODYSTRUCTURE)")
        self.assertEqual(t, b"t3 OK Fetch completed")
        self.assertEqual(u[0], b"* 1 FETCH (ENVELOPE " + ENV1 + b" BODYSTRUCTURE " + BS1 + b")")
        self.assertTrue(u[1].endswith(b" BODYSTRUCTURE " + BS2 + b")"), u[1])
        self.assertTrue(u[2].endswith(b" BODYSTRUCTURE " + BS3 + b")"), u[2])
        u, _ = c.cmd("FETCH 2 BODY")
        self.assertEqual(u, [b"* 2 FETCH (BODY " + BODY2 + b")"])
        u, _ = c.cmd("UID FETCH 1:* (FLAGS RFC822.SIZE INTERNALDATE)")
        self.assertEqual(len(u), 3)
        self.assertRegex(u[0], rb'^\* 1 FETCH \(UID 1 FLAGS \(\S*\) RFC822.SIZE 362 '
                               rb'INTERNALDATE "\d\d-\w\w\w-\d{4} \d\d:\d\d:\d\d [-+]\d{4}"\)$')

    def test_fetch_sections(self):
        c = self.raw()
        c.cmd("EXAMINE INBOX")
        cases = [
            ("BODY.PEEK[1]", b"BODY[1] {19}Stra=DFe und Caf=E9"),
            ("BODY.PEEK[1.MIME]", b"BODY[1.MIME] {93}Content-Type: text/plain; "
             b"charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"),
            ("BODY.PEEK[2.HEADER.FIELDS (Subject)]", b"BODY[2.HEADER.FIELDS (Subject)] {26}"
             b"Subject: inner message\r\n\r\n"),
            ("BODY.PEEK[2.1]", b"BODY[2.1] {16}inner plain text"),
            ("BODY.PEEK[2.2]", b"BODY[2.2] {17}<p>inner html</p>"),
            ("BODY.PEEK[2.TEXT]<0.7>", b"BODY[2.TEXT]<0> {7}--alt\r\n"),
            ("BINARY.PEEK[1]", b"BINARY[1] {15}Stra\xdfe und Caf\xe9"),
            ("BINARY.SIZE[3]", b"BINARY.SIZE[3] 8"),
            ("BINARY.PEEK[3]", b"BINARY[3] ~{8}\x00\x01\x02\x03\x04\x05\x06\x07"),
            ("BODY.PEEK[3]<4.100>", b"BODY[3]<4> {8}AwQFBgc="),
            ("BODY.PEEK[9]", b"BODY[9] NIL"),
        ]
        for item, want in cases:
            u, t = c.cmd("FETCH 2 (%s)" % item)
            self.assertEqual(u, [b"* 2 FETCH (" + want + b")"], item)
        u, _ = c.cmd("FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (Return-Path Delivered-To To Cc "
                     "Date Message-ID In-Reply-To From)])")
        self.assertEqual(u, [b"* 1 FETCH (BODY[HEADER.FIELDS.NOT (Return-Path Delivered-To To Cc"
                             b" Date Message-ID In-Reply-To From)] {39}Subject: "
                             b"=?utf-8?q?caf=C3=A9_menu?=\r\n\r\n)"])
        u, _ = c.cmd("FETCH 1 (RFC822.TEXT)")   # read-only: no \Seen
        self.assertEqual(u, [b"* 1 FETCH (RFC822.TEXT {38}Hello Bob,\r\nthe caf\xc3\xa9 opens "
                             b"at nine.\r\n)"])
        m = self.imap()
        m.select("INBOX")
        typ, data = m.fetch("1", "(RFC822)")
        self.assertEqual(typ, "OK")
        self.assertTrue(data[0][1].startswith(b"Return-Path: <>\r\nDelivered-To: bob@"))
        self.assertTrue(data[0][1].endswith(imaptest.MSG_SIMPLE))
        self.assertIn(b"FLAGS (\\Seen", data[1])     # implicitly set
        m.store("1", "-FLAGS", "\\Seen")

    def test_search(self):
        c = self.raw()
        c.cmd("EXAMINE INBOX")
        cases = [
            ("SEARCH ALL", b"* SEARCH 1 2 3"),
            ('SEARCH CHARSET UTF-8 SUBJECT "CAF\xc3\x89"', b"* SEARCH 1"),
            ('SEARCH CC "z\xc3\xbcrich"', b"* SEARCH 1"),
            ('SEARCH BODY "caf\xc3\xa9"', b"* SEARCH 1 2"),     # qp latin-1 decoded
            ('SEARCH TEXT "inner html"', b"* SEARCH 2"),
            # the attached message's header is body text of the outer one
            ('SEARCH BODY "inner message"', b"* SEARCH 2"),
            ('SEARCH TEXT "dave@example"', b"* SEARCH 2"),
            # TEXT is header or body (RFC 3501 6.4.4): the MIME header of a
            # part (an attachment's file name) is body text
            ('SEARCH TEXT "data.bin"', b"* SEARCH 2"),
            ('SEARCH TEXT "QUOTED-printable"', b"* SEARCH 2"),
            ('SEARCH SUBJECT "inner message"', b"* SEARCH"),
            ("SEARCH FROM alice", b"* SEARCH 1"),
            ("SEARCH HEADER Message-ID simple", b"* SEARCH 1"),
            ("SEARCH OR (FROM carol) (HEADER Message-ID simple) NOT SMALLER 10",
             b"* SEARCH 1 2"),
            ("SEARCH NOT (OR FROM carol (OR FROM alice SUBJECT broken))", b"* SEARCH"),
            ("SEARCH SENTON 2-Jan-2024", b"* SEARCH 2"),
            ("SEARCH SENTBEFORE 2-Jan-2024 UNSEEN", b"* SEARCH 1"),
            ("SEARCH 2:* LARGER 300", b"* SEARCH 2"),
            ("UID SEARCH UID 2:3", b"* SEARCH 2 3"),
            ("SEARCH RETURN (MIN MAX COUNT) ALL", b'* ESEARCH (TAG "T") MIN 1 MAX 3 COUNT 3'),
            ("UID SEARCH RETURN () FROM nobody", b'* ESEARCH (TAG "T") UID'),
            ("SEARCH MODSEQ 3 NOT UID 3", b"* SEARCH 2"),
            ("SEARCH SINCE 1-Jan-2000 NEW", b"* SEARCH"),
        ]
        for q, want in cases:
            c.send(b"T " + q.encode("latin-1") + b"\r\n")
            u, t = c.until("T")
            self.assertEqual(t, b"T OK Search completed", q)
            if q.startswith("SEARCH MODSEQ"):
                # it enables CONDSTORE: the HIGHESTMODSEQ comes first
                self.assertRegex(u[0], rb"^\* OK \[HIGHESTMODSEQ \d+\] Highest$")
                self.assertRegex(u[1], rb"^\* SEARCH (1 )?2 \(MODSEQ \d+\)$")
                continue
            self.assertEqual(u, [want], q)
        _, t = c.cmd("SEARCH CHARSET KOI8-R ALL")
        self.assertIn(b"NO [BADCHARSET (UTF-8 US-ASCII)]", t)
        _, t = c.cmd("SEARCH FROB")
        self.assertIn(b"BAD", t)

    def test_search_saved_result(self):
        # SEARCHRES (RFC 5182), part of IMAP4rev2: RETURN (SAVE) and "$"
        c = self.raw()
        self.assertIn(b" SEARCHRES ", c.cmd("CAPABILITY")[0][0] + b" ")
        c.cmd("EXAMINE INBOX")
        self.assertEqual(c.cmd("FETCH $ (UID)"), ([], b"t4 OK Fetch completed"))
        # SAVE alone: no ESEARCH
        self.assertEqual(c.cmd("SEARCH RETURN (SAVE) NOT UID 2"),
                         ([], b"t5 OK Search completed"))
        self.assertEqual(c.cmd("FETCH $ (UID)")[0], [b"* 1 FETCH (UID 1)", b"* 3 FETCH (UID 3)"])
        self.assertEqual(c.cmd("UID SEARCH UID $ NOT UID 1")[0], [b"* SEARCH 3"])
        self.assertEqual(c.cmd("SEARCH $")[0], [b"* SEARCH 1 3"])
        # with MIN/MAX but neither ALL nor COUNT only those are kept
        u, _ = c.cmd("SEARCH RETURN (SAVE MAX) ALL")
        self.assertEqual(u, [b'* ESEARCH (TAG "t9") MAX 3'])
        self.assertEqual(c.cmd("UID FETCH $ (UID)")[0], [b"* 3 FETCH (UID 3)"])
        u, _ = c.cmd("SEARCH RETURN (SAVE MIN COUNT) ALL")
        self.assertEqual(u, [b'* ESEARCH (TAG "t11") MIN 1 COUNT 3'])
        self.assertEqual(len(c.cmd("FETCH $ (UID)")[0]), 3)
        # "$" refined by a SEARCH that saves again
        c.cmd("SEARCH RETURN (SAVE) $ UID 2:3")
        self.assertEqual(c.cmd("FETCH $ (UID)")[0], [b"* 2 FETCH (UID 2)", b"* 3 FETCH (UID 3)"])
        # a failed SEARCH ... SAVE empties it; so does a new selection
        self.assertIn(b" BAD ", c.cmd("SEARCH RETURN (SAVE) FROB")[1])
        self.assertEqual(c.cmd("FETCH $ (UID)"), ([], b"t16 OK Fetch completed"))
        c.cmd("SEARCH RETURN (SAVE) ALL")
        c.cmd("EXAMINE INBOX")
        self.assertEqual(c.cmd("UID FETCH $ (UID)")[0], [])

    def test_multiappend_all_or_nothing(self):
        """RFC 3502: a MULTIAPPEND whose last message does not fit the
        quota appends none, leaves UIDNEXT as it was, and another session
        idling on the mailbox hears nothing; one that fits gets consecutive
        UIDs in one APPENDUID."""
        user = "multi@example.com"
        self.fx.add_user(user, "multi pw")
        self.fx.pillarbox("user", "quota", user, "10M", "3")
        c = self.raw(user=user, password="multi pw")
        w = self.raw(user=user, password="multi pw")
        self.assertIn(b"* 0 EXISTS", w.cmd("SELECT INBOX")[0])
        w.send("i IDLE\r\n")
        self.assertEqual(w.line(), b"+ idling")
        one = b"Subject: one\r\n\r\nx\r\n"
        many = b"".join(b" {%d+}\r\n%s" % (len(one), one) for _ in range(4))
        _, t = c.cmd(b"APPEND INBOX" + many)
        self.assertRegex(t, rb"^t\d+ NO \[OVERQUOTA\] ")
        u, _ = c.cmd("STATUS INBOX (MESSAGES UIDNEXT)")
        self.assertEqual(u, [b'* STATUS "INBOX" (MESSAGES 0 UIDNEXT 1)'])
        self.assertEqual(select.select([w.sock], [], [], 1.5)[0], [])
        _, t = c.cmd(b"APPEND INBOX" + many[:-len(b" {%d+}\r\n" % len(one)) - len(one)])
        self.assertRegex(t, rb"^t\d+ OK \[APPENDUID \d+ 1:3\] Append completed$")
        self.assertEqual(w.line(), b"* 3 EXISTS")

    def test_multiappend_long_command(self):
        """A MULTIAPPEND whose text between the messages outgrows the
        parser's first buffer: the tag and the command's name were pointers
        into that buffer, gone once it moved (ASan: heap-use-after-free in
        the tagged reply)."""
        user = "multi2@example.com"
        self.fx.add_user(user, "multi pw")
        c = self.raw(user=user, password="multi pw")
        one = b"Subject: one\r\n\r\nx\r\n"
        many = b"".join(b' (\\Seen $label%d) "01-Feb-2024 12:00:00 +0200" {%d+}\r\n%s'
                        % (i % 10, len(one), one) for i in range(100))
        tag = "T" * 200
        _, t = c.cmd(b"APPEND INBOX" + many, tag=tag)
        self.assertRegex(t, rb"^T{200} OK \[APPENDUID \d+ 1:100\] Append completed$")

    def test_store_copy_move_expunge_append(self):
        m = self.imap(user=CAROL, password=CAROL_PW)
        m.create("Work")
        typ, data = m.append("Work", "(\\Seen $Label)", '"01-Feb-2024 12:00:00 +0200"',
                             imaptest.MSG_SIMPLE)
        self.assertEqual(typ, "OK")
        self.assertIn(b"[APPENDUID ", data[0])
        c = self.raw(user=CAROL, password=CAROL_PW)
        # LITERAL+ and MULTIAPPEND
        c.send("a APPEND Work {%d+}\r\n" % len(imaptest.MSG_NESTED))
        c.send(imaptest.MSG_NESTED + b" (\\Flagged) {11+}\r\nSubject: x\r\n\r\n")
        _, t = c.until("a")
        self.assertRegex(t, rb"^a OK \[APPENDUID \d+ 2:3\] Append completed$")
        u, t = c.cmd("SELECT Work (CONDSTORE)")
        self.assertIn(b"* 3 EXISTS", u)
        u, _ = c.cmd("FETCH 1:3 (FLAGS INTERNALDATE)")
        self.assertEqual(u[0], b'* 1 FETCH (FLAGS (\\Seen \\Recent $Label) '
                               b'INTERNALDATE "01-Feb-2024 12:00:00 +0200")')
        self.assertEqual(u[2][:34], b"* 3 FETCH (FLAGS (\\Flagged \\Recent")
        u, t = c.cmd("STORE 1:2 +FLAGS (\\Answered)")
        self.assertEqual(len(u), 2)
        self.assertIn(b"\\Answered", u[0])
        u, t = c.cmd("STORE 2 (UNCHANGEDSINCE 1) +FLAGS.SILENT (\\Draft)")
        self.assertEqual(t, b"t5 OK [MODIFIED 2] Conditional store failed")
        u, _ = c.cmd("FETCH 2 (MODSEQ)")
        modseq = int(u[0].split(b"MODSEQ (")[1].split(b")")[0])
        u, t = c.cmd("STORE 2 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Draft)" % modseq)
        self.assertEqual(t, b"t7 OK Store completed")
        u, t = c.cmd("FETCH 1:* (UID) (CHANGEDSINCE %d)" % modseq)
        self.assertEqual(len(u), 1)
        _, t = c.cmd("COPY 1:2 Archive")
        self.assertRegex(t, rb"^t9 OK \[COPYUID \d+ 1:2 \d+:\d+\] Copy completed$")
        self.assertIn(b"NO [TRYCREATE]", c.cmd("COPY 1 Nowhere")[1])
        u, t = c.cmd("UID MOVE 3 Trash")
        self.assertTrue(u[0].startswith(b"* OK [COPYUID "), u)
        self.assertEqual(u[1], b"* 3 EXPUNGE")
        self.assertEqual(t, b"t11 OK Move completed")
        c.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
        u, t = c.cmd("UID EXPUNGE 2")
        self.assertEqual(u, [b"* 2 EXPUNGE"])
        u, t = c.cmd("EXPUNGE")
        self.assertEqual(u, [b"* 1 EXPUNGE"])
        u, _ = c.cmd("STATUS Work (MESSAGES UIDNEXT DELETED SIZE)")
        self.assertEqual(u, [b'* STATUS "Work" (MESSAGES 0 UIDNEXT 4 DELETED 0 SIZE 0)'])
        # APPEND limits: too big, refused before the "+"
        c.send("b APPEND Work {2000000}\r\n")
        self.assertEqual(c.line(), b"b NO [TOOBIG] Message too large")
        c.send("c APPEND Work {2000000+}\r\n")
        c.send(b"x" * 2000000 + b"\r\n")
        self.assertEqual(c.line(), b"c NO [TOOBIG] Message too large")
        self.assertIn(b"NO [TRYCREATE]", c.cmd("APPEND Nowhere {1+}\r\nx")[1])
        self.assertIn(b"OK", c.cmd("CLOSE")[1])

    def test_copy_into_selected_mailbox(self):
        m = self.imap(user=CAROL, password=CAROL_PW)
        m.create("Self")
        m.append("Self", None, None, imaptest.MSG_SIMPLE)
        c = self.raw(user=CAROL, password=CAROL_PW)
        c.cmd("SELECT Self")
        u, t = c.cmd("COPY 1 Self")
        self.assertIn(b"OK [COPYUID ", t)
        u2, _ = c.cmd("NOOP")
        self.assertIn(b"* 2 EXISTS", u + u2)
        self.assertIn(b"NO [CANNOT]", c.cmd("MOVE 1 Self")[1])

    def test_store_fetch_edges(self):
        """STORE .SILENT on many messages, UNCHANGEDSINCE 0, the \\Seen a
        FETCH sets under CONDSTORE, BINARY of an undecodable part."""
        user, pw = "erin@example.com", "erin pw"
        self.fx.add_user(user, pw)
        for i in range(70):
            self.fx.deliver(user, pbtest.make_message("m%d" % i, "body %d\r\n" % i, to=user))
        self.fx.deliver(user, b"From: <a@example.org>\r\nSubject: uu\r\nMIME-Version: 1.0\r\n"
                              b"Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n"
                              b"\r\nbegin 644 x\r\nend\r\n")
        c = self.raw(user=user, password=pw)
        u, _ = c.cmd("SELECT INBOX")
        self.assertIn(b"* 71 EXISTS", u)
        # .SILENT means no FETCH, however many messages (it was 64 at most)
        u, t = c.cmd("STORE 1:70 +FLAGS.SILENT (\\Seen)")
        self.assertEqual((u, t[-15:]), ([], b"Store completed"))
        u, _ = c.cmd("NOOP")
        self.assertEqual(u, [])
        # and a plain STORE reports each message once
        u, _ = c.cmd("UID STORE 1:70 -FLAGS (\\Seen)")
        self.assertEqual(len(u), 70)
        self.assertEqual(c.cmd("NOOP")[0], [])
        # UNCHANGEDSINCE 0 fails for every message, changing nothing (RFC 7162 3.1.3)
        u, t = c.cmd("STORE 1:2 (UNCHANGEDSINCE 0) +FLAGS (\\Flagged)")
        self.assertIn(b"OK [MODIFIED 1:2]", t)
        u, _ = c.cmd("FETCH 1:2 (FLAGS)")
        self.assertTrue(all(b"\\Flagged" not in line for line in u), u)
        # CONDSTORE is on: the \\Seen a FETCH sets comes with UID and MODSEQ
        u, _ = c.cmd("FETCH 3 (BODY[TEXT])")
        self.assertRegex(u[-1], rb"(?s)^\* 3 FETCH \(UID 3 .*FLAGS \(\\Seen[^)]*\) MODSEQ \(\d+\)\)$")
        # BINARY of a part in an unknown encoding: NO [UNKNOWN-CTE], \\Seen untouched
        u, t = c.cmd("FETCH 71 (BINARY[1] BINARY.SIZE[1])")
        self.assertIn(b"NO [UNKNOWN-CTE]", t)
        self.assertFalse(any(b"BINARY" in line for line in u), u)
        u, _ = c.cmd("FETCH 71 (FLAGS)")
        self.assertNotIn(b"\\Seen", u[0])
        self.assertIn(b"OK", c.cmd("FETCH 71 (BODY.PEEK[1])")[1])

    def test_idle_and_other_sessions(self):
        self.fx.add_user("dan@example.com", "dan pw")
        c = self.raw(user="dan@example.com", password="dan pw")
        u, _ = c.cmd("SELECT INBOX")
        self.assertIn(b"* 0 EXISTS", u)
        c.send("i IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        t0 = time.monotonic()
        self.fx.deliver("dan@example.com", pbtest.make_message("new", "x\r\n",
                                                                to="dan@example.com"))
        self.assertEqual(c.line(), b"* 1 EXISTS")
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertEqual(c.line(), b"* 1 RECENT")
        # a flag change by another session arrives too
        o = self.raw(user="dan@example.com", password="dan pw")
        o.cmd("SELECT INBOX")
        o.cmd("STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.assertEqual(c.line(), b"* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))")
        c.send("DONE\r\n")
        self.assertEqual(c.line(), b"i OK Idle completed")
        # an expunge elsewhere is told after NOOP, not during FETCH
        o.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        o.cmd("EXPUNGE")
        u, t = c.cmd("FETCH 1 (FLAGS)")
        self.assertNotIn(b"* 1 EXPUNGE", u)
        u, t = c.cmd("NOOP")
        self.assertEqual(u, [b"* 1 EXPUNGE"])

    def test_idle_after_selection_gone(self):
        """IDLE when the selected mailbox was deleted (or INBOX renamed) by
        another session since the last command: the BYE ends the session
        (RFC 3501 7.1.5), no "+ idling" after it and no idling on a
        mailbox that is gone."""
        for setup in ("DELETE Doomed", "RENAME INBOX Moved"):
            user, pw = "gone%d@example.com" % len(setup), "gone pw"
            self.fx.add_user(user, pw)
            a = self.raw(user=user, password=pw)
            b = self.raw(user=user, password=pw)
            a.cmd("CREATE Doomed")
            a.cmd("SELECT %s" % ("Doomed" if setup.startswith("DELETE") else "INBOX"))
            self.assertIn(b" OK ", b.cmd(setup)[1])
            a.sock.settimeout(10)
            a.send("i IDLE\r\n")
            self.assertTrue(a.line().startswith(b"* BYE Selected mailbox was "), setup)
            with self.assertRaises(EOFError, msg=setup):
                a.line()

    def test_idle_user_or_mailbox_deleted(self):
        """An IDLE on a mailbox that another session DELETEs, or whose user
        `pillarbox user del` removes, wakes at once with a BYE (it waited
        for the keepalive when the user went), and the mailbox's files in
        notify/ go with it."""
        for how in ("DELETE", "user del"):
            user, pw = "idledel%d@example.com" % len(how), "idle pw"
            self.fx.add_user(user, pw)
            a = self.raw(user=user, password=pw)
            a.cmd("CREATE Doomed")
            a.cmd("SELECT %s" % ("Doomed" if how == "DELETE" else "INBOX"))
            a.send("i IDLE\r\n")
            self.assertEqual(a.line(), b"+ idling")
            notify = os.path.join(self.fx.store, "notify")
            before = set(os.listdir(notify))
            self.assertTrue(before, how)
            a.sock.settimeout(5)
            if how == "DELETE":
                b = self.raw(user=user, password=pw)
                self.assertIn(b" OK ", b.cmd("DELETE Doomed")[1])
            else:
                self.fx.pillarbox("user", "del", user)
            self.assertEqual(a.line(), b"* BYE Selected mailbox was deleted, reconnect", how)
            with self.assertRaises(EOFError, msg=how):
                a.line()
            self.assertLess(set(os.listdir(notify)), before, how)

    def assert_keyword_told_first(self, lines, kw):
        """FLAGS and PERMANENTFLAGS name `kw` before any FETCH shows it."""
        fetch = [i for i, ln in enumerate(lines) if b" FETCH " in ln and kw in ln]
        flags = [i for i, ln in enumerate(lines) if ln.startswith(b"* FLAGS (") and kw in ln]
        perm = [i for i, ln in enumerate(lines)
                if ln.startswith(b"* OK [PERMANENTFLAGS (") and kw in ln]
        self.assertTrue(fetch and flags and perm, lines)
        self.assertLess(max(flags[0], perm[0]), fetch[0], lines)

    def test_new_keyword_flags_before_fetch(self):
        """A new keyword is in FLAGS (and PERMANENTFLAGS) before a FETCH
        uses it: in the session that stored it, in one that learns of it
        at NOOP, and at a FETCH after a silent STORE elsewhere."""
        user, pw = "kurt@example.com", "kurt pw"
        self.fx.add_user(user, pw)
        self.fx.deliver(user, pbtest.make_message("kw", "x\r\n", to=user))
        a = self.raw(user=user, password=pw)
        b = self.raw(user=user, password=pw)
        a.cmd("SELECT INBOX")
        b.cmd("SELECT INBOX")
        u, t = a.cmd("STORE 1 +FLAGS ($Kw1)")
        self.assertIn(b" OK ", t)
        self.assert_keyword_told_first(u, b"$Kw1")
        self.assert_keyword_told_first(b.cmd("NOOP")[0], b"$Kw1")
        self.assertIn(b" OK ", b.cmd("STORE 1 +FLAGS.SILENT ($Kw2)")[1])
        self.assert_keyword_told_first(a.cmd("FETCH 1 (FLAGS)")[0], b"$Kw2")

    def test_encoded_message_part_structure(self):
        """A message/rfc822 part is not parsed as a message when it is
        base64 (RFC 2046 forbids that, but it is sent); its BODY and
        BODYSTRUCTURE still carry an envelope, a body and a line count,
        which RFC 3501 7.4.2 puts after the fields of every message/rfc822
        part and which clients' parsers expect there."""
        user, pw = "encm@example.com", "encm pw"
        self.fx.add_user(user, pw)
        self.fx.deliver(user, imaptest.crlf("""From: a@example.org
Subject: enc
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

see attached
--b
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

U3ViamVjdDogeA0KDQp5DQo=
--b--
"""))
        c = self.raw(user=user, password=pw)
        c.cmd("EXAMINE INBOX")
        empty = (b' (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" '
                 b'"us-ascii") NIL NIL "7BIT" 0 0) 1')
        u, t = c.cmd("FETCH 1 (BODYSTRUCTURE BODY)")
        self.assertEqual(u, [b'* 1 FETCH (BODYSTRUCTURE (("text" "plain" NIL NIL NIL "7BIT" 12 1 '
                             b'NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "BASE64" 24' + empty
                             + b' NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL) BODY (('
                             b'"text" "plain" NIL NIL NIL "7BIT" 12 1)("message" "rfc822" NIL NIL '
                             b'NIL "BASE64" 24' + empty + b') "mixed"))'])
        u, t = c.cmd("FETCH 1 (BINARY.PEEK[2])")
        self.assertEqual(u, [b"* 1 FETCH (BINARY[2] {17}Subject: x\r\n\r\ny\r\n)"])

    def test_empty_multipart_part(self):
        """A multipart without parts: BODYSTRUCTURE shows the empty text part
        RFC 3501 needs there, and fetching that part 1 (at the top and
        inside a message/rfc822) gives the empty string it announces, not
        NIL; part 2 does not exist (NIL)."""
        user, pw = "emptymp@example.com", "emptymp pw"
        self.fx.add_user(user, pw)
        self.fx.deliver(user, imaptest.crlf("""From: a@example.org
Subject: empty
Content-Type: multipart/mixed; boundary=b

--b--
"""))
        self.fx.deliver(user, imaptest.crlf("""From: a@example.org
Subject: inner empty
Content-Type: multipart/mixed; boundary=o

--o
Content-Type: message/rfc822

Subject: inner
Content-Type: multipart/mixed; boundary=i

--i--
--o--
"""))
        c = self.raw(user=user, password=pw)
        c.cmd("EXAMINE INBOX")
        u, t = c.cmd("FETCH 1 (BODYSTRUCTURE)")
        self.assertIn(b'("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 0 0', u[0])
        for msg, section in ((1, b"1"), (2, b"1.1")):
            u, t = c.cmd("FETCH %d (BODY.PEEK[%s] BODY.PEEK[%s.MIME])" % (msg, section.decode(),
                                                                     section.decode()))
            self.assertIn(b" OK ", t)
            self.assertIn(b"BODY[" + section + b"] {0}", u[0])  # the empty string
            self.assertNotIn(b"NIL", u[0])
        u, t = c.cmd("FETCH 1 (BODY.PEEK[2])")
        self.assertIn(b"BODY[2] NIL", u[0])

    def test_binary_append_nul_fetch(self):
        """A message APPENDed as binary (RFC 3516 literal8) may hold NUL;
        BINARY gives it back as it is, in a literal8, but BODY[], RFC822 and
        HEADER.FIELDS are normal literals, which may not carry NUL (RFC 9051
        4.3.1, CHAR8): each NUL is sent as 0x80, the octet counts unchanged."""
        user, pw = "nula@example.com", "nula pw"
        self.fx.add_user(user, pw)
        msg = (b"Subject: a\x00b\r\nX-Nul: \x00\r\nContent-Type: text/plain\r\n"
               b"Content-Transfer-Encoding: binary\r\n\r\nab\x00cd\r\n")
        c = self.raw(user=user, password=pw)
        c.send(b"a APPEND INBOX ~{%d}\r\n" % len(msg))
        self.assertEqual(c.line(), b"+ Ready for literal data")
        c.send(msg + b"\r\n")
        self.assertRegex(c.until("a")[1], rb"^a OK ")
        c.cmd("EXAMINE INBOX")
        u, t = c.cmd("FETCH 1 (RFC822.SIZE BODY.PEEK[] BODY.PEEK[1] BODY.PEEK[TEXT]<1.3> "
                     "BODY.PEEK[HEADER.FIELDS (X-Nul)] RFC822.HEADER RFC822)")
        self.assertIn(b" OK ", t)
        clean = msg.replace(b"\x00", b"\x80")
        hdr = clean[:clean.index(b"\r\n\r\n") + 4]
        self.assertEqual(u, [b"* 1 FETCH (RFC822.SIZE %d BODY[] {%d}" % (len(msg), len(msg))
                             + clean + b" BODY[1] {7}ab\x80cd\r\n BODY[TEXT]<1> {3}b\x80c"
                             b" BODY[HEADER.FIELDS (X-Nul)] {12}X-Nul: \x80\r\n\r\n"
                             b" RFC822.HEADER {%d}" % len(hdr) + hdr
                             + b" RFC822 {%d}" % len(msg) + clean + b")"])
        u, t = c.cmd("FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])")
        self.assertEqual(u, [b"* 1 FETCH (BINARY[1] ~{7}ab\x00cd\r\n BINARY.SIZE[1] 7)"])

    def test_binary_append_exact_bytes(self):
        """A literal8 APPEND is stored as sent (RFC 3516 4.4: no change may
        lose data): a binary part keeps its bare LF and bare CR, BINARY
        gives them back, BODY[] too with only NUL sent as 0x80; a normal
        literal still has its line ends made CRLF."""
        user, pw = "binx@example.com", "binx pw"
        self.fx.add_user(user, pw)
        part = b"a\nb\rc\x00d\r\n\n\r"
        msg = (b"Subject: raw\r\nContent-Type: application/octet-stream\r\n"
               b"Content-Transfer-Encoding: binary\r\n\r\n" + part)
        c = self.raw(user=user, password=pw)
        c.send(b"a APPEND INBOX ~{%d}\r\n" % len(msg))
        self.assertEqual(c.line(), b"+ Ready for literal data")
        c.send(msg + b"\r\n")
        self.assertRegex(c.until("a")[1], rb"^a OK ")
        c.send(b"b APPEND INBOX {%d+}\r\n" % len(b"Subject: n\n\nx\ry\n") +
               b"Subject: n\n\nx\ry\n\r\n")
        self.assertRegex(c.until("b")[1], rb"^b OK ")
        c.cmd("EXAMINE INBOX")
        u, t = c.cmd("FETCH 1 (RFC822.SIZE BINARY.SIZE[1] BINARY.PEEK[1] BODY.PEEK[])")
        self.assertIn(b" OK ", t)
        self.assertEqual(u, [b"* 1 FETCH (RFC822.SIZE %d BINARY.SIZE[1] %d BINARY[1] ~{%d}"
                             % (len(msg), len(part), len(part)) + part +
                             b" BODY[] {%d}" % len(msg) + msg.replace(b"\x00", b"\x80") + b")"])
        u, t = c.cmd("FETCH 2 (BODY.PEEK[])")
        self.assertEqual(u, [b"* 2 FETCH (BODY[] {20}Subject: n\r\n\r\nx\r\ny\r\n)"])

    def test_utf8_append(self):
        """RFC 6855: APPEND takes UTF8 (~{n}...) once ENABLE UTF8=ACCEPT
        is on, and the message comes back byte for byte; before, it is
        refused (no "+" for a synchronizing literal, a non-synchronizing
        one read and dropped)."""
        user, pw = "ulla@example.com", "ulla pw"
        self.fx.add_user(user, pw)
        msg = ("From: J\u00f6rg <j\u00f6rg@b\u00fccher.example>\r\nTo: <ulla@example.com>\r\n"
               "Subject: Gr\u00fc\u00dfe\r\n\r\nH\u00e4llo\r\n").encode("utf-8")
        c = self.raw(user=user, password=pw)
        self.assertIn(b"UTF8=ACCEPT", c.cmd("CAPABILITY")[0][0])
        c.send(b"a APPEND INBOX UTF8 (~{%d}\r\n" % len(msg))
        self.assertRegex(c.line(), rb"^a NO ")
        c.send(b"b APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
        self.assertRegex(c.until("b")[1], rb"^b NO ")
        self.assertEqual(c.cmd("STATUS INBOX (MESSAGES)")[0],
                         [b'* STATUS "INBOX" (MESSAGES 0)'])
        self.assertEqual(c.cmd("ENABLE UTF8=ACCEPT")[0], [b"* ENABLED UTF8=ACCEPT"])
        c.send(b"c APPEND INBOX (\\Seen) UTF8 (~{%d}\r\n" % len(msg))
        self.assertEqual(c.line(), b"+ Ready for literal data")
        c.send(msg + b")\r\n")
        self.assertRegex(c.until("c")[1], rb"^c OK \[APPENDUID \d+ 1\] ")
        # MULTIAPPEND: the UTF8 form and a plain literal, without waiting
        c.send(b"d APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b") {%d+}\r\n" % len(msg)
               + msg + b"\r\n")
        self.assertRegex(c.until("d")[1], rb"^d OK \[APPENDUID \d+ 2:3\] ")
        c.cmd("SELECT INBOX")
        u, t = c.cmd("FETCH 1:3 (FLAGS BODY.PEEK[] ENVELOPE)")
        self.assertIn(b" OK ", t)
        self.assertEqual(len(u), 3, u)
        self.assertTrue(u[0].startswith(b"* 1 FETCH (FLAGS (\\Seen \\Recent) BODY[] {%d}"
                                        % len(msg) + msg + b" ENVELOPE (NIL \"Gr\xc3\xbc\xc3\x9fe\" "
                                        b"((\"J\xc3\xb6rg\" NIL \"j\xc3\xb6rg\" \"b\xc3\xbccher.example\"))"),
                        u[0])
        for ln in u[1:]:
            self.assertIn(b"BODY[] {%d}" % len(msg) + msg + b" ENVELOPE", ln)

    def test_imap4rev2(self):
        c = self.raw()
        u, _ = c.cmd("ENABLE IMAP4rev2 CONDSTORE")
        self.assertEqual(u, [b"* ENABLED CONDSTORE IMAP4rev2"])
        u, t = c.cmd("EXAMINE INBOX")
        self.assertTrue(any(x in (b'* LIST (\\HasNoChildren) "/" "INBOX"',
                                  b'* LIST (\\HasChildren) "/" "INBOX"') for x in u), u)
        self.assertFalse(any(x.endswith(b" RECENT") for x in u))
        u, _ = c.cmd("SEARCH ALL")
        self.assertEqual(u, [b'* ESEARCH (TAG "t4") ALL 1:3'])
        u, _ = c.cmd("UID SEARCH RETURN (COUNT) UNDELETED")
        self.assertEqual(u, [b'* ESEARCH (TAG "t5") UID COUNT 3'])
        u, _ = c.cmd("STATUS INBOX (SIZE DELETED MESSAGES)")
        self.assertRegex(u[0], rb'^\* STATUS "INBOX" \(SIZE \d+ DELETED 0 MESSAGES 3\)$')
        # the LIST line of SELECT has the attributes LIST gives (RFC 9051 6.3.2)
        u, _ = c.cmd("EXAMINE Sent")
        self.assertIn(b'* LIST (\\HasNoChildren \\Sent) "/" "Sent"', u)

    # -------------------------------------------------------------- QRESYNC

    def qresync_user(self, name, n):
        """A new user with n messages (UIDs 1..n), already seen by one
        session (so that none is \\Recent for the next)."""
        user, pw = "%s@example.com" % name, "%s pw" % name
        self.fx.add_user(user, pw)
        for i in range(n):
            self.fx.deliver(user, pbtest.make_message("m%d" % i, "x\r\n", to=user))
        c = self.raw(user=user, password=pw)
        self.assertIn(b"* %d EXISTS" % n, c.cmd("SELECT INBOX")[0])
        c.close()
        return user, pw

    @staticmethod
    def resp_code(lines, name):
        """n of the untagged "* OK [NAME n] ..." among lines."""
        for ln in lines:
            m = re.match(rb"^\* OK \[" + name + rb" (\d+)\]", ln)
            if m:
                return int(m.group(1))
        raise AssertionError((name, lines))

    @staticmethod
    def highestmodseq(c):
        """HIGHESTMODSEQ of INBOX by STATUS."""
        u, _ = c.cmd("STATUS INBOX (HIGHESTMODSEQ)")
        m = re.match(rb'^\* STATUS "INBOX" \(HIGHESTMODSEQ (\d+)\)$', u[-1])
        return int(m.group(1))

    @staticmethod
    def tagged(c, text):
        """The tagged line of the last command of c."""
        return ("t%d %s" % (c.n, text)).encode()

    def qresync_history(self, name):
        """Six messages. Another session expunges UID 1, later flags UID 2
        and expunges UIDs 3 and 5. Returns (user, pw, UIDVALIDITY, MODSEQ
        before the first expunge, MODSEQ between, the FETCH line of UID 2
        as the client that has only UIDs 2, 4, 6 sees it)."""
        user, pw = self.qresync_user(name, 6)
        o = self.raw(user=user, password=pw)
        o.cmd("ENABLE CONDSTORE")
        u, _ = o.cmd("SELECT INBOX")
        validity, before = self.resp_code(u, b"UIDVALIDITY"), self.resp_code(u, b"HIGHESTMODSEQ")
        o.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        o.cmd("EXPUNGE")
        u, _ = o.cmd("SELECT INBOX")
        between = self.resp_code(u, b"HIGHESTMODSEQ")
        self.assertGreater(between, before)
        u, _ = o.cmd("UID STORE 2 +FLAGS (\\Flagged)")
        m = re.match(rb"^\* 1 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \((\d+)\)\)$", u[0])
        self.assertTrue(m, u)
        flagged = b"* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (" + m.group(1) + b"))"
        o.cmd("UID STORE 3,5 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(o.cmd("EXPUNGE")[0], [b"* 4 EXPUNGE", b"* 2 EXPUNGE"])
        o.close()
        return user, pw, validity, before, between, flagged

    def test_qresync_enable(self):
        c = self.raw()
        self.assertEqual(c.cmd("ENABLE QRESYNC"), ([b"* ENABLED QRESYNC"],
                                                   self.tagged(c, "OK ENABLE completed")))
        self.assertEqual(c.cmd("ENABLE QRESYNC")[0], [b"* ENABLED"])
        # QRESYNC turned CONDSTORE on: MODSEQ comes unasked
        self.assertEqual(c.cmd("ENABLE CONDSTORE")[0], [b"* ENABLED"])
        c = self.raw()
        self.assertEqual(c.cmd("ENABLE CONDSTORE QRESYNC")[0], [b"* ENABLED CONDSTORE QRESYNC"])

    def test_condstore_enabled_while_selected(self):
        """The first CONDSTORE enabling command with a mailbox selected says
        the HIGHESTMODSEQ the client is now in step with (as Dovecot does,
        RFC 7162 3.1); later ones do not."""
        c = self.raw()
        u, _ = c.cmd("EXAMINE INBOX")
        highest = self.resp_code(u, b"HIGHESTMODSEQ")
        u, t = c.cmd("FETCH 1 (MODSEQ)")
        self.assertIn(b"OK", t)
        self.assertEqual(u[0], b"* OK [HIGHESTMODSEQ %d] Highest" % highest)
        self.assertTrue(u[1].startswith(b"* 1 FETCH (MODSEQ ("), u)
        u, _ = c.cmd("FETCH 1 (MODSEQ)")
        self.assertEqual(len(u), 1, u)
        c = self.raw()
        c.cmd("EXAMINE INBOX")
        u, _ = c.cmd("STATUS INBOX (HIGHESTMODSEQ)")
        self.assertTrue(u[0].startswith(b"* OK [HIGHESTMODSEQ "), u)
        self.assertTrue(u[1].startswith(b'* STATUS "INBOX" (HIGHESTMODSEQ '), u)

    def test_qresync_select(self):
        user, pw, validity, before, between, flagged = self.qresync_history("quinn")
        c = self.raw(user=user, password=pw)
        c.cmd("ENABLE QRESYNC")
        c.cmd("SELECT INBOX")
        plain, t = c.cmd("SELECT INBOX")
        self.assertEqual(plain[0], b"* OK [CLOSED] Previous mailbox closed")
        self.assertIn(b"* 3 EXISTS", plain)
        cases = [
            # the expunge records since the MODSEQ (UID 1 went before it)
            ("%d %d" % (validity, between), [b"* VANISHED (EARLIER) 3,5", flagged]),
            # no record before this MODSEQ: every UID that is not here
            ("%d %d" % (validity, before), [b"* VANISHED (EARLIER) 1,3,5", flagged]),
            # known-uids restrict both, in whatever order they come
            ("%d %d 3,2,1" % (validity, before), [b"* VANISHED (EARLIER) 1,3", flagged]),
            ("%d %d 4:6" % (validity, between), [b"* VANISHED (EARLIER) 5"]),
            ("%d %d 4:6" % (validity, before), [b"* VANISHED (EARLIER) 5"]),
            ("%d %d 1:2,5 (1:2 2,4)" % (validity, between),
             [b"* VANISHED (EARLIER) 5", flagged]),
            ("%d %d (1:3 2,4:5)" % (validity, between), [b"* VANISHED (EARLIER) 3,5", flagged]),
            # up to date: nothing
            ("%d %d" % (validity, self.resp_code(plain, b"HIGHESTMODSEQ")), []),
            # another UIDVALIDITY: a plain SELECT
            ("%d %d" % (validity + 1, before), []),
        ]
        for params, want in cases:
            u, t = c.cmd("SELECT INBOX (QRESYNC (%s))" % params)
            self.assertEqual(t, self.tagged(c, "OK [READ-WRITE] Select completed"), params)
            self.assertEqual(u, plain + want, params)
        u, t = c.cmd("EXAMINE INBOX (QRESYNC (%d %d))" % (validity, between))
        self.assertEqual(t, self.tagged(c, "OK [READ-ONLY] Examine completed"))
        self.assertEqual(u[-2:], [b"* VANISHED (EARLIER) 3,5", flagged])
        # sequence numbers are those of the messages left
        u, _ = c.cmd("FETCH 1:* (UID)")
        self.assertEqual(u, [b"* 1 FETCH (UID 2)", b"* 2 FETCH (UID 4)", b"* 3 FETCH (UID 6)"])
        # new mail since the MODSEQ is a change too
        self.fx.deliver(user, pbtest.make_message("new", "x\r\n", to=user))
        u, _ = c.cmd("EXAMINE INBOX (QRESYNC (%d %d 1:7))" % (validity, between))
        self.assertEqual(u[-3:-1], [b"* VANISHED (EARLIER) 3,5", flagged])
        self.assertRegex(u[-1], rb"^\* 4 FETCH \(UID 7 FLAGS \(\) MODSEQ \(\d+\)\)$")

    def test_qresync_imap4rev2(self):
        user, pw, validity, before, between, flagged = self.qresync_history("quade")
        c = self.raw(user=user, password=pw)
        self.assertEqual(c.cmd("ENABLE IMAP4rev2 QRESYNC")[0], [b"* ENABLED IMAP4rev2 QRESYNC"])
        u, t = c.cmd("SELECT INBOX (QRESYNC (%d %d))" % (validity, between))
        self.assertEqual(t, self.tagged(c, "OK [READ-WRITE] Select completed"))
        self.assertEqual(u[-3:], [b'* LIST (\\HasNoChildren) "/" "INBOX"',
                                  b"* VANISHED (EARLIER) 3,5", flagged])
        c.cmd("UID STORE 4 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(c.cmd("EXPUNGE")[0], [b"* VANISHED 4"])

    def test_shutdown(self):
        """A service stop (SIGTERM to the handler) gets a BYE [UNAVAILABLE],
        whether the session waits for a command or sits in IDLE; never a
        tagged reply to the IDLE."""
        for idle in (False, True):
            c = self.raw()
            c.cmd("SELECT INBOX")
            if idle:
                c.send("i1 IDLE\r\n")
                self.assertEqual(c.line(), b"+ idling")
            pid = pbtest.handler_pid("imapd", self.svc.port, c.sock.getsockname()[1])
            self.assertIsNotNone(pid)
            os.kill(pid, signal.SIGTERM)
            lines = []
            try:
                while True:
                    lines.append(c.line())
            except EOFError:
                pass
            self.assertEqual(lines, [b"* BYE [UNAVAILABLE] Server shutting down"], idle)

    def forget_expunges(self):
        """`pillarbox store maintain` with a history of 0 days: the store
        forgets every expunge made so far."""
        conf = os.path.join(self.fx.dir, "forget.conf")
        with open(self.fx.conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text + "expunge_history_days = 0\n")
        os.chmod(conf, 0o644)
        subprocess.run([self.fx.program("admin/pillarbox"), "--config", conf, "store", "maintain"],
                       check=True, env=self.fx.env({"PILLARBOX_LOG_STDERR": "0"}))

    def test_qresync_forgotten_history(self):
        """`store maintain` forgets old expunges: a QRESYNC client from
        before them is told every UID that is not there, a live session
        finds its gone messages by looking, and one that never looked at
        its messages since SELECT is told to reconnect."""
        user, pw, validity, before, between, flagged = self.qresync_history("quirinus")
        looked = self.raw(user=user, password=pw)
        looked.cmd("SELECT INBOX")
        self.assertEqual(looked.cmd("FETCH 1:* (UID)")[0],
                         [b"* 1 FETCH (UID 2)", b"* 2 FETCH (UID 4)", b"* 3 FETCH (UID 6)"])
        idle = self.raw(user=user, password=pw)
        self.assertIn(b"* 3 EXISTS", idle.cmd("SELECT INBOX")[0])
        o = self.raw(user=user, password=pw)
        o.cmd("SELECT INBOX")
        o.cmd("UID STORE 4 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(o.cmd("EXPUNGE")[0], [b"* 2 EXPUNGE"])
        self.forget_expunges()
        # the live session: the expunge of UID 4 is no longer on record
        self.assertEqual(looked.cmd("NOOP")[0], [b"* 2 EXPUNGE"])
        self.assertEqual(looked.cmd("FETCH 1:* (UID)")[0],
                         [b"* 1 FETCH (UID 2)", b"* 2 FETCH (UID 6)"])
        # the session that never loaded its map cannot number them
        idle.send("n NOOP\r\n")
        self.assertEqual(idle.line(),
                         b"* BYE [UNAVAILABLE] The mailbox changed too long ago, reconnect")
        self.assertRaises(EOFError, idle.line)
        # a client back from before: every UID below UIDNEXT not here
        c = self.raw(user=user, password=pw)
        c.cmd("ENABLE QRESYNC")
        u, t = c.cmd("SELECT INBOX (QRESYNC (%d %d))" % (validity, between))
        self.assertEqual(t, self.tagged(c, "OK [READ-WRITE] Select completed"))
        self.assertEqual(u[-2:], [b"* VANISHED (EARLIER) 1,3:5", flagged])
        # expunges after the forgetting are exact again
        u, _ = c.cmd("SELECT INBOX")
        now = self.resp_code(u, b"HIGHESTMODSEQ")
        o.cmd("UID STORE 6 +FLAGS.SILENT (\\Deleted)")
        o.cmd("EXPUNGE")
        u, _ = c.cmd("SELECT INBOX (QRESYNC (%d %d))" % (validity, now))
        self.assertEqual(u[-1:], [b"* VANISHED (EARLIER) 6"])

    def test_qresync_uid_fetch_vanished(self):
        user, pw, validity, before, between, flagged = self.qresync_history("quincy")
        c = self.raw(user=user, password=pw)
        c.cmd("ENABLE QRESYNC")
        c.cmd("SELECT INBOX")
        cases = [
            ("1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % between,
             [b"* VANISHED (EARLIER) 3,5", flagged]),
            ("1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % before,
             [b"* VANISHED (EARLIER) 1,3,5", flagged]),
            ("4:* (FLAGS) (VANISHED CHANGEDSINCE %d)" % between, [b"* VANISHED (EARLIER) 5"]),
            ("5,3 (FLAGS) (CHANGEDSINCE %d VANISHED)" % before, [b"* VANISHED (EARLIER) 3,5"]),
            ("6 (FLAGS) (CHANGEDSINCE %d VANISHED)" % before, []),
            # CHANGEDSINCE alone: no VANISHED
            ("1:* (FLAGS) (CHANGEDSINCE %d)" % before, [flagged]),
        ]
        for args, want in cases:
            u, t = c.cmd("UID FETCH " + args)
            self.assertEqual(t, self.tagged(c, "OK Fetch completed"), args)
            self.assertEqual(u, want, args)

    def test_qresync_vanished_instead_of_expunge(self):
        user, pw = self.qresync_user("quentin", 9)
        c = self.raw(user=user, password=pw)
        o = self.raw(user=user, password=pw)
        c.cmd("ENABLE QRESYNC")
        c.cmd("SELECT INBOX")
        o.cmd("ENABLE CONDSTORE")
        o.cmd("SELECT INBOX")
        # its own EXPUNGE, UID EXPUNGE and MOVE; an expunge's tagged OK
        # has the HIGHESTMODSEQ after it (RFC 7162 3.2.7, 3.2.9)
        c.cmd("STORE 1:2,4 +FLAGS.SILENT (\\Deleted)")
        before = self.highestmodseq(c)
        u, t = c.cmd("UID EXPUNGE 4")
        self.assertEqual((u, t), ([b"* VANISHED 4"], self.tagged(
            c, "OK [HIGHESTMODSEQ %d] Expunge completed" % (before + 1))))
        self.assertEqual(self.highestmodseq(c), before + 1)
        # (one MODSEQ for each message expunged)
        self.assertEqual(c.cmd("EXPUNGE"), ([b"* VANISHED 1:2"], self.tagged(
            c, "OK [HIGHESTMODSEQ %d] Expunge completed" % (before + 3))))
        self.assertEqual(self.highestmodseq(c), before + 3)
        # nothing expunged: no code
        self.assertEqual(c.cmd("UID EXPUNGE 1:*"), ([], self.tagged(c, "OK Expunge completed")))
        u, t = c.cmd("MOVE 2 Trash")
        self.assertRegex(u[0], rb"^\* OK \[COPYUID \d+ 5 1\] Moved$")
        self.assertEqual((u[1:], t), ([b"* VANISHED 5"], self.tagged(c, "OK Move completed")))
        # another session's expunge, told after NOOP, not during FETCH
        o.cmd("UID STORE 6:7 +FLAGS.SILENT (\\Deleted)")
        o.cmd("EXPUNGE")
        # (each expunged message has its own MODSEQ, the last one is the highest)
        self.assertEqual(c.cmd("FETCH 1 (UID)")[0], [
            b"* 1 FETCH (UID 3)",
            b"* OK [HIGHESTMODSEQ %d] Expunges pending" % (self.highestmodseq(o) - 2)])
        self.assertEqual(c.cmd("NOOP"), ([b"* VANISHED 6:7"], self.tagged(c, "OK NOOP completed")))
        self.assertEqual(c.cmd("FETCH 1:* (UID)")[0], [b"* 1 FETCH (UID 3)", b"* 2 FETCH (UID 8)",
                                                      b"* 3 FETCH (UID 9)"])
        # an expunge held back during a FETCH by sequence number, while a
        # later change is told: HIGHESTMODSEQ below the expunge (RFC 7162 3.2)
        u = o.cmd("UID STORE 9 +FLAGS (\\Deleted)")[0]
        self.assertRegex(u[0], rb"^\* 3 FETCH \(UID 9 FLAGS \(\\Deleted\) MODSEQ \(\d+\)\)$")
        self.assertEqual(c.cmd("NOOP")[0], u)   # the same sequence numbers in both views
        o.cmd("EXPUNGE")
        expunged = self.highestmodseq(o)
        flagged = o.cmd("UID STORE 8 +FLAGS (\\Flagged)")[0][0]
        self.assertRegex(flagged, rb"^\* 2 FETCH \(UID 8 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$")
        self.assertEqual(c.cmd("FETCH 1 (UID)")[0], [
            flagged, b"* 1 FETCH (UID 3)",
            b"* OK [HIGHESTMODSEQ %d] Expunges pending" % (expunged - 1)])
        self.assertEqual(c.cmd("NOOP")[0], [b"* VANISHED 9"])
        # and during IDLE
        u = o.cmd("UID STORE 3 +FLAGS (\\Deleted)")[0]
        self.assertRegex(u[0], rb"^\* 1 FETCH \(UID 3 FLAGS \(\\Deleted\) MODSEQ \(\d+\)\)$")
        self.assertEqual(c.cmd("NOOP")[0], u)
        c.send("i IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        o.cmd("EXPUNGE")
        self.assertEqual(c.line(), b"* VANISHED 3")
        c.send("DONE\r\n")
        self.assertEqual(c.line(), b"i OK Idle completed")
        self.assertEqual(c.cmd("FETCH 1:* (UID)")[0], [b"* 1 FETCH (UID 8)"])
        # CLOSE tells no expunge, so no HIGHESTMODSEQ either (RFC 7162 3.2.8)
        c.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(c.cmd("CLOSE"), ([], self.tagged(c, "OK Close completed")))
        self.assertEqual(c.cmd("STATUS INBOX (MESSAGES)")[0], [b'* STATUS "INBOX" (MESSAGES 0)'])

    def test_qresync_large_sets(self):
        """Thousands of scattered expunges: VANISHED lines stay below 8000
        bytes and together hold every UID once; a known-uids list written
        backwards is taken in any order."""
        n = 4000
        user, pw = self.qresync_user("quirin", 0)
        c = self.raw(user=user, password=pw)
        msg = b"Subject: s\r\n\r\nx\r\n"
        c.send(b"".join(b"a%d APPEND INBOX {%d+}\r\n%s\r\n" % (i, len(msg), msg)
                        for i in range(n)))
        c.until("a%d" % (n - 1))
        c.cmd("ENABLE QRESYNC")
        u, _ = c.cmd("SELECT INBOX")
        validity, modseq = self.resp_code(u, b"UIDVALIDITY"), self.resp_code(u, b"HIGHESTMODSEQ")
        odd = list(range(1, n + 1, 2))
        c.cmd("UID STORE %s +FLAGS.SILENT (\\Deleted)" % ",".join(map(str, odd)))

        def vanished(lines, prefix):
            uids = []
            for ln in lines:
                self.assertTrue(ln.startswith(prefix), ln)
                self.assertLessEqual(len(ln), 8000)
                uids += [int(x) for x in ln[len(prefix):].split(b",")]
            return uids

        u, t = c.cmd("EXPUNGE")
        want = self.tagged(c, "OK [HIGHESTMODSEQ %d] Expunge completed")
        self.assertEqual(t, want % self.highestmodseq(c))
        self.assertGreater(len(u), 1)
        self.assertEqual(vanished(u, b"* VANISHED "), odd)
        u, _ = c.cmd("FETCH %d,%d (UID)" % (1, n // 2))
        self.assertEqual(u, [b"* 1 FETCH (UID 2)", b"* %d FETCH (UID %d)" % (n // 2, n)])
        known = ",".join(str(k) for k in range(n, 0, -1))
        u, t = c.cmd("EXAMINE INBOX (QRESYNC (%d %d %s))" % (validity, modseq, known))
        self.assertEqual(t, self.tagged(c, "OK [READ-ONLY] Examine completed"))
        i = u.index(b"* OK [HIGHESTMODSEQ %d] Highest" % self.resp_code(u, b"HIGHESTMODSEQ"))
        self.assertEqual(vanished(u[i + 1:], b"* VANISHED (EARLIER) "), odd)

    def test_qresync_bad(self):
        c = self.raw()
        c.cmd("SELECT INBOX")
        bad = [
            # not enabled
            ("SELECT INBOX (QRESYNC (1 1))", "BAD QRESYNC is not enabled"),
            ("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
             "BAD VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC"),
            ("ENABLE QRESYNC", "OK ENABLE completed"),
            ("UID FETCH 1:* (FLAGS) (VANISHED)",
             "BAD VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC"),
            ("FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
             "BAD VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC"),
            ("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED VANISHED)",
             "BAD Invalid FETCH modifier"),
        ]
        for params in ("", " ()", " 1", " (1)", " (0 1)", " (1 0)", " (x 1)", " (1 1 1:*)",
                       " (1 1 0)", " (1 1 1:2 (1:2))", " (1 1 1:2 (1:2 3:4) x)",
                       " (1 1 (1:2 3:5))", " (1 1 (1:* 1:2))", " (1 1 1 2)",
                       " (1 1) QRESYNC (1 1)", " (4294967296 1)", " (1 9223372036854775808)"):
            want = ("BAD Unknown SELECT parameter" if params.count("QRESYNC") else
                    "BAD Invalid QRESYNC parameter")
            bad.append(("SELECT INBOX (QRESYNC%s)" % params, want))
        for command, want in bad:
            u, t = c.cmd(command)
            if command.startswith("ENABLE"):
                # with INBOX selected, CONDSTORE's HIGHESTMODSEQ too
                self.assertEqual(u[0], b"* ENABLED QRESYNC")
                self.assertRegex(u.pop(1), rb"^\* OK \[HIGHESTMODSEQ \d+\] Highest$")
                u = u[1:]
            self.assertEqual((u, t), ([], self.tagged(c, want)), command)
        # a refused SELECT leaves the selection as it was
        self.assertEqual(c.cmd("FETCH 1 (UID)")[0], [b"* 1 FETCH (UID 1)"])

    def test_lsub_unsubscribed_parent(self):
        user, pw = "finn@example.com", "finn pw"
        self.fx.add_user(user, pw)
        c = self.raw(user=user, password=pw)
        self.assertIn(b"OK", c.cmd('CREATE "Work/Projects/2024"')[1])
        self.assertIn(b"OK", c.cmd('SUBSCRIBE "Work/Projects"')[1])
        # RFC 3501 6.3.9: % stops at Work, which is listed \\Noselect
        u, _ = c.cmd('LSUB "" "W%"')
        self.assertEqual(u, [b'* LSUB (\\Noselect) "/" "Work"'])
        u, _ = c.cmd('LSUB "" "Work/%"')
        self.assertEqual(u, [b'* LSUB (\\HasChildren \\Subscribed) "/" "Work/Projects"'])
        u, _ = c.cmd('LSUB "" "W*"')
        self.assertEqual(u, [b'* LSUB (\\HasChildren \\Subscribed) "/" "Work/Projects"'])

    def test_list_recursivematch_childinfo(self):
        """RFC 5258 3.5 and its example 9: CHILDINFO marks each listed
        mailbox with a subscribed descendant that the pattern leaves out,
        whether the mailbox itself is subscribed or not; a parent whose
        subscribed children are all listed themselves is not listed."""
        user, pw = "hugo@example.com", "hugo pw"
        self.fx.add_user(user, pw)
        c = self.raw(user=user, password=pw)
        for name in ("Foo2/Bar1", "Foo2/Bar2", "Baz2/Bar2", "Baz2/Bar22", "Eps2/Mamba"):
            self.assertIn(b"OK", c.cmd('CREATE "%s"' % name)[1])
        for name in ("Foo2/Bar1", "Foo2/Bar2", "Baz2/Bar2", "Baz2/Bar22", "Eps2", "Eps2/Mamba"):
            self.assertIn(b"OK", c.cmd('SUBSCRIBE "%s"' % name)[1])
        info = b' ("CHILDINFO" ("SUBSCRIBED"))'
        cases = {
            '"*2"': [b'* LIST (\\HasNoChildren \\Subscribed) "/" "Baz2/Bar2"',
                     b'* LIST (\\HasNoChildren \\Subscribed) "/" "Baz2/Bar22"',
                     b'* LIST (\\HasChildren \\Subscribed) "/" "Eps2"' + info,
                     b'* LIST () "/" "Foo2"' + info,
                     b'* LIST (\\HasNoChildren \\Subscribed) "/" "Foo2/Bar2"'],
            '"%2"': [b'* LIST () "/" "Baz2"' + info,
                     b'* LIST (\\HasChildren \\Subscribed) "/" "Eps2"' + info,
                     b'* LIST () "/" "Foo2"' + info],
        }
        for pattern, want in cases.items():
            u, t = c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" %s' % pattern)
            self.assertIn(b" OK ", t)
            self.assertEqual(u, want, pattern)

    def test_subscription_outlives_delete(self):
        """Subscriptions are to names (RFC 3501 6.3.4, RFC 9051 6.3.4):
        after DELETE the name stays subscribed, LSUB shows it \\Noselect and
        LIST (SUBSCRIBED) \\NonExistent, until UNSUBSCRIBE, or CREATE or
        RENAME of the name takes it back."""
        user, pw = "gina@example.com", "gina pw"
        self.fx.add_user(user, pw)
        c = self.raw(user=user, password=pw)
        for name in ("Gone", "Plain", "P/Q"):
            self.assertIn(b"OK", c.cmd('CREATE "%s"' % name)[1])
        for name in ("Gone", "P/Q"):
            self.assertIn(b"OK", c.cmd('SUBSCRIBE "%s"' % name)[1])
        for name in ("Gone", "Plain", "P/Q"):
            self.assertIn(b"OK", c.cmd('DELETE "%s"' % name)[1])
        gone = {
            'LSUB "" "*"': [b'* LSUB (\\Noselect) "/" "Gone"',
                            b'* LSUB (\\Noselect) "/" "P/Q"'],
            'LIST (SUBSCRIBED) "" "*"': [b'* LIST (\\NonExistent \\Subscribed) "/" "Gone"',
                                         b'* LIST (\\NonExistent \\Subscribed) "/" "P/Q"'],
            # only mailboxes; the parent P has no child left
            'LIST "" "*"': [b'* LIST (\\HasNoChildren) "/" "P"'],
            'LIST "" "*" RETURN (SUBSCRIBED)': [b'* LIST (\\HasNoChildren) "/" "P"'],
        }
        for command, want in gone.items():
            u, t = c.cmd(command)
            self.assertIn(b" OK ", t)
            self.assertEqual([x for x in u if b'"Gone"' in x or b'"P' in x], want, command)
        self.assertIn(b"OK", c.cmd('SUBSCRIBE "Gone"')[1])
        self.assertIn(b"NO [NONEXISTENT]", c.cmd('SUBSCRIBE "Plain"')[1])
        self.assertIn(b"NO [NONEXISTENT]", c.cmd('STATUS "Gone" (MESSAGES)')[1])
        # CREATE, RENAME onto the name: the mailbox is subscribed
        self.assertIn(b"OK", c.cmd('CREATE "Gone"')[1])
        self.assertIn(b"OK", c.cmd('CREATE "Keep"')[1])
        self.assertIn(b"OK", c.cmd('RENAME "Keep" "P/Q"')[1])
        u, _ = c.cmd('LSUB "" "*"')
        self.assertIn(b'* LSUB (\\HasNoChildren \\Subscribed) "/" "Gone"', u)
        self.assertIn(b'* LSUB (\\HasNoChildren \\Subscribed) "/" "P/Q"', u)
        # UNSUBSCRIBE of a name without a mailbox
        self.assertIn(b"OK", c.cmd('DELETE "Gone"')[1])
        self.assertIn(b"OK", c.cmd('UNSUBSCRIBE "Gone"')[1])
        u, _ = c.cmd('LIST (SUBSCRIBED) "" "G*"')
        self.assertEqual(u, [])

    def test_xinetd(self):
        svc = imaptest.launch(self.fx, xinetd=True)
        m = imaplib.IMAP4("127.0.0.1", svc.port)
        m.login(BOB, BOB_PW)
        self.assertEqual(m.select("INBOX", readonly=True), ("OK", [b"3"]))
        typ, data = m.uid("FETCH", "1:*", "(UID)")
        self.assertEqual(len(data), 3)
        m.logout()


if __name__ == "__main__":
    unittest.main(verbosity=2)
