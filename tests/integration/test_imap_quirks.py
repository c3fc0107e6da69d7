"""imapd as the clients customers use drive it: the command sequences of
Thunderbird, Apple Mail (macOS, iOS), Outlook, Android clients (K-9 /
Thunderbird for Android, FairEmail) replayed line by line, and the quirks
servers have had to handle for them (Dovecot's imap_client_workarounds:
tb-extra-mailbox-sep, tb-lsub-flags, Outlook's special-use in LSUB).
Each client gets its own account, so the tests do not depend on each
other's order."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402

PW = "quirks pw"
TB_HEADERS = (b"From To Cc Bcc Subject Date Message-ID Priority X-Priority References "
              b"Newsgroups In-Reply-To Content-Type Reply-To")


def uidvalidity(untagged):
    for line in untagged:
        m = re.match(rb"\* OK \[UIDVALIDITY (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(untagged)


def highestmodseq(untagged):
    for line in untagged:
        m = re.match(rb"\* OK \[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(untagged)


class Quirks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("imapquirks")
        cls.svc = imaptest.launch(cls.fx)

    @classmethod
    def tearDownClass(cls):
        log = cls.fx.log_text()
        cls.fx.close()
        for bad in ("runtime error", "AddressSanitizer"):
            assert bad not in log, log[-4000:]

    def account(self, name):
        """A fresh account with the corpus in INBOX."""
        address = "%s@example.com" % name
        self.fx.add_user(address, PW)
        for m in imaptest.CORPUS:
            self.fx.deliver(address, m)
        return address

    def raw(self, address, login=True):
        c = imaptest.Raw(self.svc.address)
        self.addCleanup(c.close)
        if login:
            c.login(address, PW)
        return c

    def ok(self, c, command):
        u, t = c.cmd(command)
        self.assertRegex(t, rb"^\S+ OK", (command, u, t))
        return u

    def append(self, c, mailbox, flags, message):
        """APPEND with a synchronizing literal, waiting for "+" as clients do."""
        tag = c.tag()
        c.send(b"%s APPEND %s %s {%d}\r\n" % (tag.encode(), mailbox, flags, len(message)))
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(message + b"\r\n")
        return c.until(tag)

    # ----------------------------------------------------------- Thunderbird

    def test_thunderbird_first_connect(self):
        """Thunderbird 115's first connection, then reading, filing and
        deleting as it does them."""
        user = self.account("tb")
        c = self.raw(user, login=False)
        u = self.ok(c, "capability")
        self.assertIn(b"IDLE", u[0])
        u = self.ok(c, 'ID ("name" "Thunderbird" "version" "115.10.1")')
        self.assertTrue(u[0].startswith(b'* ID ("name" "Pillarbox"'))
        c.login(user, PW)
        u = self.ok(c, 'LIST (SPECIAL-USE) "" "*"')
        self.assertIn(b'* LIST (\\HasNoChildren \\Sent) "/" "Sent"', u)
        u = self.ok(c, 'LSUB "" "*"')
        self.assertIn(b'* LSUB (\\HasNoChildren \\Subscribed) "/" "INBOX"', u)
        u = self.ok(c, 'SELECT "INBOX" (CONDSTORE)')
        self.assertIn(b"* 3 EXISTS", u)
        modseq = highestmodseq(u)
        u = self.ok(c, "UID fetch 1:* (FLAGS)")
        self.assertEqual(u, [b"* %d FETCH (UID %d FLAGS (\\Recent))" % (i, i) for i in (1, 2, 3)])
        u = self.ok(c, b"UID fetch 1:3 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (" +
                    TB_HEADERS + b")])")
        self.assertEqual(len(u), 3)
        label = b"BODY[HEADER.FIELDS (" + TB_HEADERS + b")]"
        self.assertIn(label, u[1])
        self.assertIn(b"Subject: nested\r\n", u[1])
        self.assertNotIn(b"\\Seen", u[1])          # PEEK
        self.assertNotIn(b"Delivered-To", u[1])
        # CONDSTORE resync as Thunderbird does it
        self.ok(c, "UID store 2 +Flags (\\Seen)")
        u = self.ok(c, "UID fetch 1:* (FLAGS) (CHANGEDSINCE %d)" % modseq)
        self.assertEqual(len(u), 1, u)
        self.assertRegex(u[0], rb"^\* 2 FETCH \(UID 2 FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)$")
        # IDLE: new mail while idling, then DONE
        c.send(b"i1 IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        self.fx.deliver(user, pbtest.make_message("during idle", "x\r\n", to=user))
        self.assertEqual(c.line(), b"* 4 EXISTS")
        self.assertEqual(c.line(), b"* 4 RECENT")    # the first SELECT's three too
        c.send(b"DONE\r\n")
        self.assertEqual(c.until("i1"), ([], b"i1 OK Idle completed"))
        # a sent copy: synchronizing literal, \Seen
        u, t = self.append(c, b'"Sent"', b"(\\Seen)",
                           pbtest.make_message("sent copy", "hi\r\n", sender=user))
        self.assertRegex(t, rb" OK \[APPENDUID \d+ 1\] ")
        self.assertEqual(self.ok(c, 'STATUS "Sent" (MESSAGES UNSEEN)'),
                         [b'* STATUS "Sent" (MESSAGES 1 UNSEEN 0)'])
        # move without MOVE: COPY, STORE \Deleted, UID EXPUNGE
        u, t = c.cmd('UID copy 1 "Trash"')
        self.assertRegex(t, rb" OK \[COPYUID \d+ 1 1\] ")
        self.ok(c, "UID store 1 +Flags (\\Deleted)")
        u = self.ok(c, "UID expunge 1")
        self.assertEqual(u, [b"* 1 EXPUNGE"])
        # and with it
        u = self.ok(c, 'UID move 3 "Trash"')
        self.assertRegex(u[0], rb"^\* OK \[COPYUID \d+ 3 2\]")
        self.assertEqual(u[1:], [b"* 2 EXPUNGE"])
        # delete: \Deleted then a plain EXPUNGE
        self.ok(c, "UID store 2 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(self.ok(c, "EXPUNGE"), [b"* 1 EXPUNGE"])
        u = self.ok(c, "UID fetch 1:* (FLAGS)")
        self.assertEqual(len(u), 1)
        self.assertTrue(u[0].startswith(b"* 1 FETCH (UID 4 "), u)

    def test_thunderbird_extra_mailbox_sep(self):
        """tb-extra-mailbox-sep: Thunderbird sometimes names a folder with
        the delimiter after it. "Work/" is Work for every command, as it
        already was for CREATE; "/" alone and empty levels stay invalid."""
        user = self.account("tbsep")
        c = self.raw(user)
        self.ok(c, 'CREATE "Work/"')
        self.assertEqual(self.ok(c, 'LIST "" "Work"'), [b'* LIST (\\HasNoChildren) "/" "Work"'])
        u = self.ok(c, 'SELECT "Work/"')
        self.assertIn(b"* 0 EXISTS", u)
        self.assertEqual(self.ok(c, 'STATUS "Work/" (MESSAGES)'),
                         [b'* STATUS "Work" (MESSAGES 0)'])
        self.ok(c, 'SUBSCRIBE "Work/"')
        self.assertIn(b'* LSUB (\\HasNoChildren \\Subscribed) "/" "Work"',
                      self.ok(c, 'LSUB "" "*"'))
        u, t = self.append(c, b'"Work/"', b"()", pbtest.make_message("filed", "x\r\n"))
        self.assertIn(b" OK [APPENDUID ", t)
        self.ok(c, 'SELECT "INBOX/"')
        u, t = c.cmd('UID COPY 1 "Work/"')
        self.assertIn(b" OK [COPYUID ", t)
        u = self.ok(c, 'UID MOVE 2 "Work/"')
        self.assertTrue(u[0].startswith(b"* OK [COPYUID "), u)
        self.ok(c, 'CREATE "Work/Old/"')
        self.ok(c, 'RENAME "Work/Old/" "Work/Older/"')
        self.assertEqual(self.ok(c, 'LIST "" "Work/*"'),
                         [b'* LIST (\\HasNoChildren) "/" "Work/Older"'])
        self.assertEqual(self.ok(c, 'GETQUOTAROOT "Work/"'), [b'* QUOTAROOT "Work"'])
        self.ok(c, 'DELETE "Work/Older/"')
        self.ok(c, 'UNSUBSCRIBE "Work/"')
        self.assertNotIn(b"Work", b"".join(self.ok(c, 'LSUB "" "*"')))
        self.assertEqual(self.ok(c, 'STATUS "Work/" (MESSAGES)'),
                         [b'* STATUS "Work" (MESSAGES 3)'])
        for bad in ('"/"', '"Work//"', '"//"'):
            u, t = c.cmd("STATUS %s (MESSAGES)" % bad)
            self.assertIn(b" NO [CANNOT] ", t, bad)

    # ----------------------------------------------------------- Outlook

    def test_outlook_lsub_special_use(self):
        """Outlook 2013 and later read LSUB for Sent, Trash and the others
        (Dovecot returns the special-use attributes in LSUB for it):
        without them Outlook makes "Sent Items" and "Deleted Items" of its
        own."""
        user = self.account("outlook")
        c = self.raw(user)
        u = self.ok(c, 'LSUB "" "*"')
        for line in (b'* LSUB (\\HasNoChildren \\Subscribed \\Sent) "/" "Sent"',
                     b'* LSUB (\\HasNoChildren \\Subscribed \\Trash) "/" "Trash"',
                     b'* LSUB (\\HasNoChildren \\Subscribed \\Drafts) "/" "Drafts"',
                     b'* LSUB (\\HasNoChildren \\Subscribed \\Junk) "/" "Junk"',
                     b'* LSUB (\\HasNoChildren \\Subscribed \\Archive) "/" "Archive"',
                     b'* LSUB (\\HasNoChildren \\Subscribed) "/" "INBOX"'):
            self.assertIn(line, u)
        # a subscribed name whose mailbox is gone stays \Noselect, nothing else
        self.ok(c, 'CREATE "Gone"')
        self.ok(c, 'SUBSCRIBE "Gone"')
        self.ok(c, 'DELETE "Gone"')
        self.assertIn(b'* LSUB (\\Noselect) "/" "Gone"', self.ok(c, 'LSUB "" "*"'))

    def test_outlook_session(self):
        """Outlook's folder sync: LIST, SELECT, the header download with
        RFC822.SIZE matching the bytes, UID SEARCH UNDELETED, new mail
        seen at NOOP, EXAMINE, and the empty mailbox name."""
        user = self.account("outlook2")
        c = self.raw(user)
        u = self.ok(c, 'LIST "" "*"')
        self.assertIn(b'* LIST (\\HasNoChildren \\Trash) "/" "Trash"', u)
        self.assertEqual(self.ok(c, 'LIST "" ""'), [b'* LIST (\\Noselect) "/" ""'])
        u, t = c.cmd('SELECT ""')
        self.assertIn(b" NO [CANNOT] ", t)
        self.ok(c, 'SELECT "INBOX"')
        u = self.ok(c, "UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])")
        self.assertEqual(len(u), 3)
        full = self.ok(c, "UID FETCH 1 (BODY.PEEK[])")[0]
        size = int(re.search(rb"RFC822\.SIZE (\d+)", u[0]).group(1))
        self.assertIn(b"BODY[] {%d}" % size, full)
        self.assertRegex(u[0], rb'INTERNALDATE "[ 0-3]\d-[A-Z][a-z]{2}-\d{4} '
                               rb'\d\d:\d\d:\d\d [+-]\d{4}"')
        self.assertEqual(self.ok(c, "UID SEARCH UNDELETED"), [b"* SEARCH 1 2 3"])
        self.fx.deliver(user, pbtest.make_message("new for outlook", "x\r\n", to=user))
        self.assertEqual(self.ok(c, "NOOP"), [b"* 4 EXISTS", b"* 4 RECENT"])
        u = self.ok(c, 'EXAMINE "INBOX"')
        self.assertIn(b"* 4 EXISTS", u)
        self.assertIn(b"* OK [PERMANENTFLAGS ()] Read-only mailbox", u)
        u, t = c.cmd("UID STORE 1 +FLAGS (\\Seen)")
        self.assertIn(b" NO [READ-ONLY] ", t)

    # ----------------------------------------------------------- Apple Mail

    def test_apple_mail_qresync(self):
        """Apple Mail: ID with its fields, ENABLE QRESYNC, SELECT with
        QRESYNC after changes made elsewhere, UID FETCH (CHANGEDSINCE
        VANISHED), partial bodies, STATUS of the selected mailbox, NOOP
        polling."""
        user = self.account("apple")
        c = self.raw(user, login=False)
        u = self.ok(c, 'ID ("name" "Mac OS X Mail" "version" "16.0 (3731.500.231)" "os" '
                       '"Mac OS X" "os-version" "13.4 (22F66)" "vendor" "Apple Inc.")')
        self.assertEqual(len(u), 1)
        c.login(user, PW)
        self.assertEqual(self.ok(c, "ENABLE QRESYNC"), [b"* ENABLED QRESYNC"])
        u = self.ok(c, "SELECT INBOX")
        validity, modseq = uidvalidity(u), highestmodseq(u)
        self.ok(c, "UNSELECT")
        other = self.raw(user)
        self.ok(other, "SELECT INBOX")
        self.ok(other, "UID STORE 2 +FLAGS (\\Deleted)")
        self.ok(other, "UID EXPUNGE 2")
        self.ok(other, "UID STORE 1 +FLAGS (\\Flagged)")
        u = self.ok(c, "SELECT INBOX (QRESYNC (%d %d 1:3))" % (validity, modseq))
        self.assertIn(b"* 2 EXISTS", u)
        self.assertIn(b"* VANISHED (EARLIER) 2", u)
        self.assertTrue(any(re.match(rb"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) MODSEQ", x)
                            for x in u), u)
        now = highestmodseq(u)
        other.cmd("UID STORE 3 +FLAGS (\\Seen)")
        u = self.ok(c, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % now)
        self.assertIn(b"* 2 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (%d))" % (now + 1), u)
        u = self.ok(c, "UID FETCH 1 (BODY.PEEK[]<0.20> BODY.PEEK[1]<0.5>)")
        self.assertEqual(u[0], b"* 1 FETCH (UID 1 BODY[]<0> {20}Return-Path: <>\r\nDel "
                               b"BODY[1]<0> {5}Hello)")
        # STATUS of every folder, the selected one included
        self.assertEqual(self.ok(c, "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)"),
                         [b'* STATUS "INBOX" (MESSAGES 2 UIDNEXT 4 UNSEEN 1)'])
        u = self.ok(c, 'LIST "" "*" RETURN (CHILDREN SPECIAL-USE)')
        self.assertIn(b'* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"', u)
        self.assertIn(b'* LIST (\\HasNoChildren) "/" "INBOX"', self.ok(c, 'LIST "" "%"'))
        self.fx.deliver(user, pbtest.make_message("polled", "x\r\n", to=user))
        self.assertEqual(self.ok(c, "NOOP"), [b"* 3 EXISTS", b"* 1 RECENT"])

    # ----------------------------------------------------------- phones

    def test_mobile_sessions(self):
        """iOS sends an empty line before some commands and tags like
        "1.1"; K-9 writes header names in lower case and searches with a
        sequence set; FairEmail's ID NIL."""
        user = self.account("mobile")
        c = self.raw(user)
        u = self.ok(c, "ID NIL")
        self.assertEqual(len(u), 1)
        self.assertTrue(u[0].startswith(b'* ID ("name" "Pillarbox" "version" '), u)
        c.send(b"\r\n3.1 SELECT INBOX\r\n")
        u, t = c.until("3.1")
        self.assertEqual(t, b"3.1 OK [READ-WRITE] Select completed")
        self.assertEqual(self.ok(c, "UID SEARCH 1:* NOT DELETED"), [b"* SEARCH 1 2 3"])
        u = self.ok(c, "UID FETCH 1 (UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS "
                       "(date subject from content-type to cc reply-to message-id references "
                       "in-reply-to X-K9mail-Identity Chat-Version)])")
        self.assertIn(b"BODY[HEADER.FIELDS (date subject from content-type to cc reply-to "
                      b"message-id references in-reply-to X-K9mail-Identity Chat-Version)]",
                      u[0])
        self.assertIn(b"Message-ID: <simple@example.org>\r\n", u[0])
        c.send(b"\r\n4.1 IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        c.send(b"DONE\r\n")
        self.assertEqual(c.until("4.1"), ([], b"4.1 OK Idle completed"))

    def test_refusals_spread_over_a_long_session(self):
        """A client pipelining a FETCH after a SELECT of a folder deleted
        elsewhere gets a BAD for the FETCH at every poll. Bad commands are
        counted in a row (as Dovecot does): 60 polls stay connected, while
        50 bad commands in a row still end the session."""
        user = self.account("polls")
        c = self.raw(user)
        for i in range(60):
            c.send(b'p%dA SELECT "Deleted elsewhere"\r\np%dB UID FETCH 1:* (FLAGS)\r\n' % (i, i))
            self.assertIn(b" NO [NONEXISTENT] ", c.until("p%dA" % i)[1])
            self.assertIn(b" BAD No mailbox selected", c.until("p%dB" % i)[1])
        self.assertEqual(self.ok(c, "NOOP"), [])
        for i in range(60):
            try:
                c.send(b"x%d FROB\r\n" % i)
                c.line()
            except (EOFError, ConnectionError):
                break
        else:
            self.fail("still open after 60 bad commands in a row")

    # ----------------------------------------------------------- edges

    def test_empty_mailbox_and_sets(self):
        """'*' in an empty mailbox: sequence numbers do not exist (RFC 9051
        section 9: BAD, as Dovecot), UIDs and SEARCH are simply empty;
        the highest possible UID is a valid UID."""
        user = self.account("edges")
        c = self.raw(user)
        self.ok(c, "SELECT Trash")
        for command in ("FETCH 1:* (FLAGS)", "FETCH * FLAGS", "STORE 1:* +FLAGS (\\Seen)"):
            u, t = c.cmd(command)
            self.assertIn(b" BAD ", t, command)
            self.assertEqual(u, [], command)
        for command in ("UID FETCH 1:* (FLAGS)", "UID STORE 1:* +FLAGS (\\Deleted)",
                        "UID COPY 1:* INBOX", "UID EXPUNGE 1:*"):
            self.assertEqual(self.ok(c, command), [], command)
        self.assertEqual(self.ok(c, "SEARCH 1:*"), [b"* SEARCH"])
        self.assertEqual(self.ok(c, "UID SEARCH ALL"), [b"* SEARCH"])
        self.ok(c, "SELECT INBOX")
        self.assertEqual(self.ok(c, "UID FETCH 4294967295 (FLAGS)"), [])
        self.assertEqual(self.ok(c, "UID FETCH 4294967295:* (UID)"), [b"* 3 FETCH (UID 3)"])
        self.assertEqual(self.ok(c, "UID FETCH 10:* (UID)"), [b"* 3 FETCH (UID 3)"])
        # ranges written high to low, as MailKit sends them (RFC 9051: same set)
        self.assertEqual(self.ok(c, "UID FETCH 3:2,1 (UID)"),
                         [b"* %d FETCH (UID %d)" % (i, i) for i in (1, 2, 3)])
        u, t = c.cmd("FETCH 4 (UID)")
        self.assertIn(b" BAD ", t)
        # literal forms for a mailbox name, and case in commands and atoms
        c.send(b"l1 STATUS {5}\r\n")
        self.assertEqual(c.line(), b"+ Ready for literal data")
        c.send(b"inbox (messages)\r\n")
        self.assertEqual(c.until("l1"), ([b'* STATUS "INBOX" (MESSAGES 3)'],
                                         b"l1 OK Status completed"))
        c.send(b"l2 status {5+}\r\nInBox (MESSAGES)\r\n")
        self.assertEqual(c.until("l2")[0], [b'* STATUS "INBOX" (MESSAGES 3)'])
        self.assertEqual(self.ok(c, "uid fetch 1 (flags uid)"),
                         [b"* 1 FETCH (UID 1 FLAGS (\\Recent))"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
