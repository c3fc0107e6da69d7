"""What concurrent sessions see of each other (RFC 3501 5.2, 5.5, 7.4.1;
RFC 9051 5.2, 5.5, 7.5.1; RFC 7162): several raw IMAP sessions on one
account while other sessions, `pillarbox deliver`, POP3 and the webmail
change the same mailboxes.

Every session here keeps a model of its mailbox (sequence number -> UID,
UID -> flags) built only from the untagged responses it was sent, and
checks each response against it: EXISTS never goes down, EXPUNGE never
comes during FETCH, STORE, SEARCH or COPY by sequence number, a FETCH
names the UID the model has at that number, VANISHED names UIDs the model
has. At the end the models equal the store, flags included: a change
reported twice is caught where it is reported, one never reported at the
end. Each test has its own account; waits are deadlines, never sleeps."""

import os
import poplib
import random
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
sys.path.insert(0, os.path.join(pbtest.TOP_SRCDIR, "tests", "web"))
import webenv  # noqa: E402

PW = "sessions pw"
# How long a change may take to reach an idling session (the design says
# under a second; the margin is for a loaded test machine).
WAKE_MAX = 2.0


def set_uids(text):
    """The UIDs of a set like "3:5,9" (no "*")."""
    out = []
    for part in text.split(b","):
        lo, _, hi = part.partition(b":")
        lo, hi = int(lo), int(hi or lo)
        out.extend(range(min(lo, hi), max(lo, hi) + 1))
    return out


def flag_list(text):
    """The flags of "(\\Seen kw)" as a set, without the per-session \\Recent."""
    return frozenset(f for f in text.split() if f.lower() != b"\\recent")


class Session:
    """A raw IMAP session and its model of the selected mailbox."""

    def __init__(self, test, svc, user, name, enable=None, mailbox="INBOX"):
        self.t = test
        self.name = name
        self.c = imaptest.Raw(svc.address)
        test.addCleanup(self.c.close)
        self.c.login(user, PW)
        self.qresync = enable is not None and b"QRESYNC" in enable.encode()
        if enable:
            self.c.cmd("ENABLE " + enable)
        self.uids = []          # seq - 1 -> UID (None until learned)
        self.flags = {}         # UID -> flags as last told
        self.reports = {}       # UID -> unsolicited FETCHes in the last command
        self.select(mailbox)

    def select(self, mailbox):
        self.uids, self.flags = [], {}
        u, t = self.c.cmd("SELECT " + mailbox)
        self.t.assertIn(b" OK ", t, (self.name, t))
        self.apply(u, seq_cmd=False)
        self.learn()
        return u

    def apply(self, lines, seq_cmd, solicited=(), moved=()):
        """Applies untagged responses to the model, checking each. FETCHes
        for the sequence numbers in `solicited` answer the command; the
        others are unsolicited and counted per UID. A sequence command may
        expunge only the UIDs it `moved` (MOVE tells its own, RFC 6851)."""
        self.reports = {}
        seen = set()            # (UID, flags, MODSEQ) told in this response
        for ln in lines:
            m = re.match(rb"^\* (\d+) (EXISTS|EXPUNGE|FETCH)(.*)$", ln, re.S)
            v = re.match(rb"^\* VANISHED (\(EARLIER\) )?([0-9:,]+)$", ln)
            if v is not None and v.group(1) is None:
                self.t.assertTrue(self.qresync, (self.name, ln))
                for uid in set_uids(v.group(2)):
                    self.t.assertTrue(not seq_cmd or uid in moved, "%s: VANISHED during a "
                                      "sequence command: %r" % (self.name, ln))
                    self.vanish(uid, ln)
                continue
            if m is None:
                continue
            n, what, rest = int(m.group(1)), m.group(2), m.group(3)
            if what == b"EXISTS":
                self.t.assertGreaterEqual(n, len(self.uids), (self.name, "EXISTS went down", ln))
                self.uids += [None] * (n - len(self.uids))
            elif what == b"EXPUNGE":
                self.t.assertFalse(self.qresync, (self.name, "EXPUNGE after QRESYNC", ln))
                self.t.assertLessEqual(n, len(self.uids), (self.name, ln))
                self.t.assertTrue(not seq_cmd or self.uids[n - 1] in moved,
                                  "%s: EXPUNGE during a sequence command: %r" % (self.name, ln))
                self.flags.pop(self.uids.pop(n - 1), None)
            else:
                self.t.assertLessEqual(n, len(self.uids), (self.name, ln))
                u = re.search(rb"UID (\d+)", rest)
                if u is not None:
                    uid = int(u.group(1))
                    if self.uids[n - 1] is not None:
                        self.t.assertEqual(self.uids[n - 1], uid, (self.name, ln))
                    self.uids[n - 1] = uid
                uid = self.uids[n - 1]
                f = re.search(rb"FLAGS \(([^)]*)\)", rest)
                if f is not None and uid is not None:
                    self.flags[uid] = flag_list(f.group(1))
                    # the same state of a message twice in one response
                    # (a FETCH without MODSEQ and an update with it differ)
                    ms = re.search(rb"MODSEQ \((\d+)\)", rest)
                    key = (uid, self.flags[uid], ms.group(1) if ms else None)
                    self.t.assertNotIn(key, seen, (self.name, "told twice", lines))
                    seen.add(key)
                if n not in solicited and uid is not None:
                    self.reports[uid] = self.reports.get(uid, 0) + 1
                    # one change, one report (RFC 7162 3.2.4: UID and
                    # MODSEQ with it once CONDSTORE is on)
                    self.t.assertEqual(self.reports[uid], 1, (self.name, "reported twice", lines))

    def vanish(self, uid, ln):
        """Drops `uid` from the model: its place, or one announced by
        EXISTS and not learned yet where it would be (UIDs ascend)."""
        if uid in self.uids:
            self.uids.remove(uid)
            self.flags.pop(uid, None)
            return
        lo = max((i for i, x in enumerate(self.uids) if x is not None and x < uid), default=-1)
        gap = [i for i in range(lo + 1, len(self.uids)) if self.uids[i] is None]
        self.t.assertTrue(gap and (gap[0] + 1 == len(self.uids) or self.uids[gap[0] + 1] is None or
                                   self.uids[gap[0] + 1] > uid), (self.name, ln, self.uids))
        del self.uids[gap[0]]

    def cmd(self, text, seq_cmd=False, ok=True, solicited=(), moved=()):
        u, t = self.c.cmd(text)
        if ok:
            # a message expunged elsewhere and not yet told: a sequence
            # command may be refused for it (RFC 5530), never wrong
            refused = seq_cmd and b" NO [EXPUNGEISSUED]" in t
            self.t.assertTrue(b" OK " in t or refused, (self.name, text, t))
        self.apply(u, seq_cmd, solicited, moved)
        return u, t

    def learn(self):
        """UIDs of messages announced without one."""
        for _ in range(5):
            if None not in self.uids:
                return
            self.cmd("UID FETCH 1:* (UID FLAGS)", solicited=range(1, len(self.uids) + 1))
        self.t.fail("%s: UIDs never learned" % self.name)

    def check(self):
        """The model against the server's sequence numbers."""
        self.learn()
        if not self.uids:
            return
        u, _ = self.cmd("FETCH 1:* (UID)", seq_cmd=True, solicited=range(1, len(self.uids) + 1))
        for ln in u:
            m = re.match(rb"^\* (\d+) FETCH \(UID (\d+)\)$", ln)
            if m:
                self.t.assertEqual(self.uids[int(m.group(1)) - 1], int(m.group(2)), self.name)
        known = [x for x in self.uids if x is not None]
        self.t.assertEqual(known, sorted(set(known)), self.name)


class Sessions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("imapsess", tls=False, config_extra={
            "templates": os.path.join(pbtest.TOP_SRCDIR, "templates"),
            "webmail_base": "/webmail"})
        cls.svc = imaptest.launch(cls.fx)

    @classmethod
    def tearDownClass(cls):
        log = cls.fx.log_text()
        cls.fx.close()
        for bad in ("runtime error", "AddressSanitizer", "LeakSanitizer"):
            assert bad not in log, log[-4000:]

    def account(self, name, n):
        """A new user with n messages (UIDs 1..n) in INBOX."""
        user = "%s@example.com" % name
        self.fx.add_user(user, PW)
        for i in range(n):
            self.deliver(user, "m%d" % (i + 1))
        return user

    def deliver(self, user, subject):
        self.fx.deliver(user, pbtest.make_message(subject, "x\r\n", to=user))

    def session(self, user, name, enable=None, mailbox="INBOX"):
        return Session(self, self.svc, user, name, enable, mailbox)

    def truth(self, user, mailbox="INBOX"):
        """{UID: flags} of a mailbox as a fresh session sees it."""
        s = self.session(user, "truth", mailbox=mailbox)
        s.c.cmd("LOGOUT")
        return s.uids, s.flags

    # ------------------------------------------------------------ expunges

    def test_expunge_held_back_by_sequence_commands(self):
        """RFC 3501 7.4.1 / RFC 9051 7.5.1: no EXPUNGE during FETCH, STORE,
        SEARCH (nor COPY) by sequence number; after NOOP, CHECK and the UID
        forms; a pending EXPUNGE goes before the EXISTS of new mail."""
        user = self.account("held", 8)
        a = self.session(user, "A")
        b = self.session(user, "B")
        b.cmd("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        b.cmd("EXPUNGE")
        self.deliver(user, "late")
        for text in ("FETCH 1:* (FLAGS)", "FETCH 1 (BODY.PEEK[HEADER])", "STORE 1 +FLAGS (\\Seen)",
                     "STORE 3 +FLAGS.SILENT (\\Answered)", "SEARCH ALL", "SEARCH TEXT x",
                     "COPY 1 Trash"):
            u, t = a.cmd(text, seq_cmd=True, solicited=range(1, 9))
            self.assertFalse([ln for ln in u if ln.endswith(b" EXPUNGE")], (text, u))
        # the new message is announced at once, counting the held-back ones
        self.assertEqual(len(a.uids), 9)
        self.assertEqual(a.uids[1], 2)
        # gone messages are not found by SEARCH
        u, _ = a.cmd("SEARCH ALL", seq_cmd=True)
        self.assertEqual(u[-1], b"* SEARCH 1 3 5 6 7 8 9")
        u, t = a.cmd("CHECK")
        self.assertEqual(u, [b"* 4 EXPUNGE", b"* 2 EXPUNGE"])
        self.assertEqual(a.uids[:3], [1, 3, 5])
        # a new expunge and new mail in one batch: EXPUNGE first, then the
        # EXISTS that counts without it
        b.cmd("NOOP")
        b.cmd("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.cmd("UID EXPUNGE 1")
        self.deliver(user, "later")
        u, _ = a.cmd("NOOP")
        self.assertEqual([ln for ln in u if not ln.endswith(b" RECENT")],
                         [b"* 1 EXPUNGE", b"* 7 EXISTS"])
        a.check()
        b.cmd("NOOP")
        b.check()
        self.assertEqual(a.uids, b.uids)
        self.assertEqual(a.uids, self.truth(user)[0])

    def test_fetch_store_of_message_expunged_elsewhere(self):
        """A message another session expunged and this one was not told
        of: FETCH answers the others and NO [EXPUNGEISSUED] (RFC 9051 7.1,
        RFC 5530); STORE by sequence number too, after changing the others
        (RFC 2180 4.2.3; it answered OK and stored nothing); with
        UNCHANGEDSINCE a NO with [MODIFIED] (RFC 7162 3.1.3, example 11);
        the UID forms skip the missing UID and answer OK."""
        user = self.account("gone", 5)
        a = self.session(user, "A")
        b = self.session(user, "B")
        b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
        b.cmd("EXPUNGE")
        expired = b" NO [EXPUNGEISSUED] "
        u, t = a.cmd("FETCH 1:3 (FLAGS)", seq_cmd=True, solicited=(1, 3))
        self.assertIn(expired, t)
        self.assertEqual([ln[:9] for ln in u], [b"* 1 FETCH", b"* 3 FETCH"])
        u, t = a.cmd("FETCH 2 (BODY.PEEK[TEXT])", seq_cmd=True)
        self.assertEqual((u, expired in t), ([], True))
        for text, lines in (("STORE 2 +FLAGS (\\Flagged)", []),
                            ("STORE 2 +FLAGS.SILENT (\\Flagged)", []),
                            ("STORE 1:3 +FLAGS (\\Answered)",
                             [b"* 1 FETCH (FLAGS (\\Answered \\Recent))",
                              b"* 3 FETCH (FLAGS (\\Answered \\Recent))"]),
                            ("STORE 1:3 +FLAGS.SILENT (\\Flagged)", [])):
            u, t = a.cmd(text, seq_cmd=True, solicited=(1, 3))
            self.assertIn(expired, t, text)
            self.assertEqual([ln.replace(b"UID 1 ", b"").replace(b"UID 3 ", b"") for ln in u],
                             lines, text)
        # what was said was done: 1 and 3 changed, 2 is still gone
        _, flags = self.truth(user)
        self.assertEqual((flags[1], flags[3]), ({b"\\Answered", b"\\Flagged"},) * 2)
        u, t = a.cmd("UID STORE 1:3 +FLAGS (\\Draft)", seq_cmd=False, solicited=(1, 3))
        self.assertIn(b" OK ", t)
        # CONDSTORE: one message changed by B since, one gone: NO [MODIFIED]
        c = self.session(user, "C", enable="CONDSTORE")
        b.cmd("NOOP")
        b.cmd("UID STORE 4 +FLAGS.SILENT (\\Seen)")
        b.cmd("UID STORE 5 +FLAGS.SILENT (\\Deleted)")
        b.cmd("UID EXPUNGE 5")
        u, _ = b.cmd("UID FETCH 4 (MODSEQ)")
        modseq = int(re.search(rb"MODSEQ \((\d+)\)", u[-1]).group(1))
        u, t = c.cmd("STORE 1:4 (UNCHANGEDSINCE %d) +FLAGS ($Done)" % (modseq - 1), seq_cmd=True,
                     ok=False, solicited=(1, 2))
        self.assertTrue(t.endswith(b" NO [MODIFIED 3] Conditional store failed"), t)
        c.cmd("NOOP")
        a.cmd("NOOP")
        a.check()
        self.assertEqual(a.uids, [1, 3, 4])

    # ------------------------------------------------------- flag changes

    def test_flag_changes_reported_once(self):
        """Another session's flag change is reported once, as an
        unsolicited FETCH with UID (and MODSEQ once CONDSTORE is on, RFC
        7162 3.2.4), or in the answer of a command that shows the flags
        anyway: a FETCH CHANGEDSINCE answered it and the sync after the
        command reported it again; so did a STORE that found the flag set
        already, and a FETCH of FLAGS alone repeated what it had just
        caught up with."""
        user = self.account("once", 6)
        plain = self.session(user, "plain")
        cond = self.session(user, "cond", enable="CONDSTORE")
        qres = self.session(user, "qresync", enable="QRESYNC")
        o = self.session(user, "other")
        start = self.highest(o)

        def change(text):
            o.cmd(text)
            o.cmd("NOOP")

        # unsolicited at NOOP: UID always, MODSEQ with CONDSTORE
        change("UID STORE 2 +FLAGS.SILENT (\\Flagged)")
        u, _ = plain.cmd("NOOP")
        self.assertEqual(u, [b"* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))"])
        for s in (cond, qres):
            u, _ = s.cmd("NOOP")
            self.assertRegex(u[0], rb"^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$")
            self.assertEqual(len(u), 1, u)
            self.assertEqual(s.cmd("NOOP")[0], [])
        # FETCH CHANGEDSINCE shows the change; nothing after it
        change("UID STORE 3 +FLAGS.SILENT (\\Seen)")
        for s in (cond, qres):
            u, _ = s.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % start, seq_cmd=True,
                         solicited=range(1, 7))
            self.assertEqual([ln[:9] for ln in u], [b"* 2 FETCH", b"* 3 FETCH"], (s.name, u))
            self.assertEqual(s.cmd("NOOP")[0], [], s.name)
        change("UID STORE 4 +FLAGS.SILENT (\\Seen)")
        u, _ = cond.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % start, solicited=range(1, 7))
        self.assertEqual(len(u), 3, u)
        self.assertEqual(cond.cmd("NOOP")[0], [])
        # a FETCH with FLAGS and MODSEQ shows it too
        change("UID STORE 5 +FLAGS.SILENT (\\Seen)")
        u, _ = cond.cmd("FETCH 5 (FLAGS MODSEQ)", seq_cmd=True, solicited=(5,))
        self.assertEqual(len(u), 1, u)
        self.assertEqual(cond.cmd("NOOP")[0], [])
        # without CONDSTORE any FETCH of FLAGS shows all there is to tell
        u, _ = plain.cmd("FETCH 3:5 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])", seq_cmd=True,
                         solicited=(3, 4, 5))
        self.assertEqual(len(u), 3, u)
        self.assertEqual(plain.cmd("NOOP")[0], [])
        # a STORE that finds the flag set already (another session's change)
        for s in (plain, cond, qres):
            s.cmd("NOOP")
        # FETCH of FLAGS alone (from the session's map after catching up:
        # what it caught up with is not written again)
        change("UID STORE 1 +FLAGS.SILENT (\\Draft)")
        for s in (plain, cond, qres):
            u, _ = s.cmd("FETCH 1:2 (FLAGS)", seq_cmd=True, solicited=(2,))
            self.assertEqual([ln[:9] for ln in u], [b"* 1 FETCH", b"* 2 FETCH"], (s.name, u))
            self.assertIn(b"(UID 1 FLAGS (\\Draft", u[0])
            self.assertEqual(s.cmd("NOOP")[0], [], s.name)
        change("UID STORE 6 +FLAGS.SILENT (\\Answered)")
        for s in (plain, cond, qres):
            u, _ = s.cmd("STORE 6 +FLAGS (\\Answered)", seq_cmd=True, solicited=())
            self.assertEqual(len(u), 1, (s.name, u))
            self.assertEqual(s.cmd("NOOP")[0], [], s.name)
        # and every model ends equal to the store (the other session's own
        # silent changes are not reported to it)
        _, flags = self.truth(user)
        for s in (plain, cond, qres):
            s.cmd("NOOP")
            self.assertEqual(s.flags, flags, s.name)

    def test_condstore_modseq_and_unchangedsince(self):
        """HIGHESTMODSEQ in SELECT and STATUS follows every change, a
        change by another session makes STORE UNCHANGEDSINCE fail with
        [MODIFIED] (RFC 7162 3.1.3), and a QRESYNC SELECT after changes
        elsewhere answers VANISHED (EARLIER) and the changed flags."""
        user = self.account("modseq", 4)
        o = self.session(user, "other")
        a = self.session(user, "A", enable="QRESYNC")
        u, _ = a.cmd("STATUS INBOX (HIGHESTMODSEQ UIDNEXT UIDVALIDITY)")
        m = re.search(rb"HIGHESTMODSEQ (\d+) UIDNEXT (\d+) UIDVALIDITY (\d+)", u[-1])
        h0, uidnext, validity = (int(x) for x in m.groups())
        o.cmd("UID STORE 2 +FLAGS.SILENT (\\Flagged)")
        u, _ = a.cmd("STATUS INBOX (HIGHESTMODSEQ)")
        self.assertEqual(u, [b'* STATUS "INBOX" (HIGHESTMODSEQ %d)' % (h0 + 1),
                             b"* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (%d))" % (h0 + 1)])
        o.cmd("UID STORE 1 +FLAGS.SILENT (\\Flagged)")
        u, t = a.cmd("UID STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % h0, solicited=(1, 2))
        self.assertTrue(t.endswith(b" OK [MODIFIED 1:2] Conditional store failed"), t)
        self.assertEqual(u, [b"* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (%d))" % (h0 + 2)])
        o.cmd("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
        o.cmd("UID MOVE 3 Trash")
        u, _ = a.cmd("NOOP")
        self.assertEqual(u, [b"* VANISHED 3"])
        self.deliver(user, "new")
        # a client coming back with what it knew at h0
        b = Session(self, self.svc, user, "B", enable="QRESYNC", mailbox="INBOX (QRESYNC (%d %d))"
                    % (validity, h0))
        self.assertEqual(b.uids, [1, 2, 4, 5])
        u = b.select("INBOX (QRESYNC (%d %d 1:%d))" % (validity, h0, uidnext - 1))
        self.assertIn(b"* VANISHED (EARLIER) 3", u)
        self.assertTrue([ln for ln in u if ln.startswith(b"* 2 FETCH (UID 2 FLAGS (\\Flagged) ")],
                        u)
        self.assertIn(b"* OK [UIDVALIDITY %d] UIDs valid" % validity, u)
        self.assertIn(b"* OK [UIDNEXT %d] Predicted next UID" % (uidnext + 1), u)
        self.assertIn(b"* OK [HIGHESTMODSEQ %d] Highest" % self.highest(o), u)

    @staticmethod
    def highest(s):
        """HIGHESTMODSEQ of INBOX by STATUS."""
        u, _ = s.cmd("STATUS INBOX (HIGHESTMODSEQ)")
        return int(re.search(rb'^\* STATUS "INBOX" \(HIGHESTMODSEQ (\d+)\)',
                             [ln for ln in u if ln.startswith(b"* STATUS")][0]).group(1))

    def test_recent_once_uids_stable(self):
        """IMAP4rev1 \\Recent: a new message is recent in one session only
        (RFC 3501 2.3.2); UIDVALIDITY and UIDNEXT stay what SELECT said
        while others expunge and deliver."""
        user = self.account("recent", 2)
        a = self.session(user, "A")
        b = self.session(user, "B")
        self.deliver(user, "new")
        recent = []
        for s in (b, a):
            s.cmd("NOOP")
            u, _ = s.cmd("UID SEARCH RECENT")
            recent.append({int(x) for x in u[-1].split()[2:]})
        self.assertEqual(recent[0] & recent[1], set())
        self.assertEqual(recent[0] | recent[1], {1, 2, 3})
        u, _ = a.cmd("STATUS INBOX (UIDNEXT UIDVALIDITY)")
        before = u[0]
        b.cmd("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
        b.cmd("UID EXPUNGE 3")
        u, _ = a.cmd("STATUS INBOX (UIDNEXT UIDVALIDITY)")
        self.assertEqual(u, [before, b"* 3 EXPUNGE"])
        self.assertEqual(a.uids, [1, 2])

    # ----------------------------------------------------------------- IDLE

    def webmail_move(self, web, user, uid, folder):
        """Signs in to the webmail and moves INBOX's message `uid`."""
        c = webenv.Client(web)
        c.login(user, PW)
        text = c.get("/list").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', text).group(1)
        mb = re.search(r'name="mb" value="(\d+)"', text).group(1)
        to = re.search(r'<option value="(\d+)">%s</option>' % folder, text).group(1)
        r = c.post("/action", {"mb": mb, "uid": str(uid), "op": "move", "to": to, "csrf": csrf})
        self.assertEqual(r.status, 303)

    def test_idle_sees_every_writer(self):
        """An idling session hears of a delivery, a POP3 DELE+QUIT, a
        webmail move, another session's STORE, EXPUNGE and MOVE within
        WAKE_MAX each, and uses no CPU while nothing happens."""
        user = self.account("idler", 6)
        web = self.fx.webmaild()
        a = self.session(user, "A")
        b = self.session(user, "B")
        pid = pbtest.handler_pid("imapd", self.svc.port, a.c.sock.getsockname()[1])
        self.assertIsNotNone(pid)

        def cpu_ticks():
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])

        a.c.sock.settimeout(WAKE_MAX + 3)
        a.c.send("i IDLE\r\n")
        self.assertEqual(a.c.line(), b"+ idling")
        ticks = cpu_ticks()
        t_end = time.monotonic() + 1.5
        while time.monotonic() < t_end:
            time.sleep(0.1)
        self.assertLessEqual(cpu_ticks() - ticks, 3, "an idle IMAP process uses CPU")

        def pop3_dele_first():
            p = poplib.POP3("127.0.0.1", self.pop.port, timeout=20)
            p.user(user)
            p.pass_(PW)
            p.dele(1)
            p.quit()

        self.pop = self.fx.socket_activate(self.fx.program("inetd/pop3d"))
        steps = [
            ("deliver", lambda: self.deliver(user, "new"), [b"* 7 EXISTS", b"* 7 RECENT"]),
            ("pop3", pop3_dele_first, [b"* 1 EXPUNGE"]),
            ("webmail", lambda: self.webmail_move(web, user, 3, "Trash"), [b"* 2 EXPUNGE"]),
            ("store", lambda: b.cmd("UID STORE 4 +FLAGS.SILENT (\\Flagged)"),
             [b"* 2 FETCH (UID 4 FLAGS (\\Flagged \\Recent))"]),
            ("store", lambda: b.cmd("UID STORE 5 +FLAGS.SILENT (\\Deleted)"),
             [b"* 3 FETCH (UID 5 FLAGS (\\Deleted \\Recent))"]),
            ("expunge", lambda: b.cmd("UID EXPUNGE 5"), [b"* 3 EXPUNGE"]),
            ("move", lambda: b.cmd("UID MOVE 6 Archive"), [b"* 3 EXPUNGE"]),
        ]
        for what, action, want in steps:
            action()
            t0 = time.monotonic()
            got = [a.c.line()]
            self.assertLess(time.monotonic() - t0, WAKE_MAX, what)
            got += [a.c.line() for _ in want[1:]]
            self.assertEqual(got, want, what)
            a.apply(got, seq_cmd=False)
        ticks = cpu_ticks()
        t_end = time.monotonic() + 1.5
        while time.monotonic() < t_end:
            time.sleep(0.1)
        self.assertLessEqual(cpu_ticks() - ticks, 3, "an idle IMAP process uses CPU")
        a.c.send("DONE\r\n")
        self.assertEqual(a.c.line(), b"i OK Idle completed")
        a.cmd("NOOP")
        a.learn()
        self.assertEqual(a.uids, [2, 4, 7])

    def test_qresync_idle_vanished(self):
        """After ENABLE QRESYNC another session's MOVE and EXPUNGE reach an
        idling session as VANISHED, never EXPUNGE (RFC 7162 3.2.10)."""
        user = self.account("vanish", 4)
        b = self.session(user, "B")
        a = self.session(user, "A", enable="QRESYNC")
        a.c.sock.settimeout(WAKE_MAX + 3)
        a.c.send("i IDLE\r\n")
        self.assertEqual(a.c.line(), b"+ idling")
        b.cmd("UID MOVE 2 Trash")
        self.assertEqual(a.c.line(), b"* VANISHED 2")
        a.apply([b"* VANISHED 2"], seq_cmd=False)
        b.cmd("UID STORE 1,3 +FLAGS.SILENT (\\Deleted)")
        lines = [a.c.line(), a.c.line()]
        deleted = rb"^\* \d FETCH \(UID \d FLAGS \(\\Deleted\) MODSEQ \(\d+\)\)$"
        self.assertTrue(all(re.match(deleted, ln) for ln in lines), lines)
        a.apply(lines, seq_cmd=False)
        b.cmd("EXPUNGE")
        self.assertEqual(a.c.line(), b"* VANISHED 1,3")
        a.apply([b"* VANISHED 1,3"], seq_cmd=False)
        a.c.send("DONE\r\n")
        self.assertEqual(a.c.line(), b"i OK Idle completed")
        a.check()
        self.assertEqual(a.uids, [4])

    # ------------------------------------------------- the selection goes

    def test_selected_mailbox_deleted_or_renamed(self):
        """The selected mailbox deleted by another session: the next
        command gets BYE and the connection closes, with no tagged reply
        about a mailbox that is gone after the BYE (it got "BAD No
        messages in the mailbox" or "NO [UNAVAILABLE]"). Renamed, it is
        the same mailbox (UIDVALIDITY kept) and the session goes on."""
        user = self.account("doomed", 2)
        other = self.session(user, "other")
        other.cmd("CREATE Doomed")
        other.cmd("UID COPY 1:2 Doomed")
        for text in ("FETCH 1 (UID)", "STORE 1 +FLAGS (\\Seen)", "NOOP", "UID SEARCH ALL"):
            a = self.session(user, "A", mailbox="Doomed")
            self.assertIn(b" OK ", other.cmd("DELETE Doomed")[1])
            a.c.send("x %s\r\n" % text)
            self.assertEqual(a.c.line(), b"* BYE Selected mailbox was deleted, reconnect", text)
            with self.assertRaises((EOFError, ConnectionError), msg=text):
                a.c.line()
            other.cmd("CREATE Doomed")
            other.cmd("UID COPY 1:2 Doomed")
        a = self.session(user, "A", mailbox="Doomed")
        u, _ = other.cmd("STATUS Doomed (UIDVALIDITY)")
        self.assertIn(b" OK ", other.cmd("RENAME Doomed Kept")[1])
        u2, _ = other.cmd("STATUS Kept (UIDVALIDITY)")
        self.assertEqual(u[-1].split()[-1], u2[-1].split()[-1])
        other.cmd("SELECT Kept")
        other.cmd("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
        other.cmd("UID EXPUNGE 1")
        u, _ = a.cmd("NOOP")
        self.assertEqual(u, [b"* 1 EXPUNGE"])
        a.check()

    def test_search_charset_after_utf8_accept(self):
        """RFC 6855 3: after ENABLE UTF8=ACCEPT a SEARCH with CHARSET is
        answered BAD; before it, and under IMAP4rev2 alone, it works."""
        user = self.account("utf8search", 1)
        a = self.session(user, "A")
        self.assertIn(b" OK ", a.cmd("SEARCH CHARSET UTF-8 ALL", seq_cmd=True)[1])
        r = self.session(user, "rev2", enable="IMAP4rev2")
        self.assertIn(b" OK ", r.cmd("SEARCH CHARSET UTF-8 ALL", seq_cmd=True)[1])
        for s, enable in ((a, "UTF8=ACCEPT"), (r, "UTF8=ACCEPT")):
            s.c.cmd("ENABLE " + enable)
            for text in ("SEARCH CHARSET UTF-8 ALL", "UID SEARCH CHARSET US-ASCII TEXT x",
                         "SEARCH RETURN (COUNT) CHARSET UTF-8 ALL"):
                _, t = s.cmd(text, ok=False)
                self.assertIn(b" BAD ", t, (s.name, text))
            self.assertIn(b" OK ", s.cmd('SEARCH TEXT "caf\u00e9"', seq_cmd=True)[1])

    # ------------------------------------------------------ interleavings

    def test_random_interleavings(self):
        """Three sessions (IMAP4rev1, CONDSTORE, QRESYNC) and deliveries
        change one mailbox in random order; every response is checked
        against each session's model, and at the end every model equals
        the store, flags included."""
        user = self.account("mixed", 12)
        sessions = [self.session(user, "plain"), self.session(user, "cond", enable="CONDSTORE"),
                    self.session(user, "qresync", enable="QRESYNC")]
        stop = threading.Event()
        errors = []

        def deliveries():
            try:
                i = 0
                while not stop.wait(0.15):
                    self.deliver(user, "d%d" % i)
                    i += 1
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        th = threading.Thread(target=deliveries)
        th.start()
        rnd = random.Random(7162)
        flags = ("\\Seen", "\\Flagged", "\\Answered", "$Label1")
        t_end = time.monotonic() + 8
        try:
            while time.monotonic() < t_end:
                for s in sessions:
                    n = len(s.uids)
                    seq = rnd.randrange(1, n + 1) if n else 0
                    f = rnd.choice(flags)
                    op = rnd.randrange(11)
                    if op == 0:
                        s.cmd("NOOP")
                    elif op == 1 and n:
                        s.cmd("STORE %d:%d %sFLAGS (%s)" % (seq, min(n, seq + 2),
                                                            rnd.choice("+-"), f),
                              seq_cmd=True, solicited=range(seq, seq + 3))
                    elif op == 2 and n:
                        s.cmd("STORE %d +FLAGS.SILENT (%s)" % (seq, f), seq_cmd=True)
                        s.cmd("FETCH %d (FLAGS)" % seq, seq_cmd=True, solicited=(seq,))
                    elif op == 3:
                        s.cmd("SEARCH " + rnd.choice(("ALL", "FLAGGED", "UNSEEN",
                                                      "KEYWORD $Label1")), seq_cmd=True)
                    elif op == 4 and n:
                        s.cmd("FETCH %d:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])" % seq,
                              seq_cmd=True, solicited=range(seq, n + 1))
                    elif op == 5 and n > 6:
                        s.cmd("STORE %d +FLAGS (\\Deleted)" % seq, seq_cmd=True, solicited=(seq,))
                        s.cmd(rnd.choice(("EXPUNGE", "UID EXPUNGE 1:*")))
                    elif op == 6 and n > 6 and s.uids[seq - 1] is not None:
                        # (new mail announced since the last look has no UID yet)
                        s.cmd("MOVE %d Trash" % seq, seq_cmd=True, moved=(s.uids[seq - 1],))
                    elif op == 7 and n:
                        s.cmd("UID FETCH %d:* (FLAGS)" % (s.uids[seq - 1] or 1),
                              solicited=range(1, n + 1))
                    elif op == 8 and s is not sessions[0]:
                        s.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE 1)", seq_cmd=True,
                              solicited=range(1, n + 1))
                    elif op == 9:
                        s.cmd("CHECK")
                    s.check()
        finally:
            stop.set()
            th.join(60)
        self.assertEqual(errors, [])
        uids, truth = self.truth(user)
        for s in sessions:
            s.cmd("NOOP")
            s.check()
            self.assertEqual(s.uids, uids, s.name)
            self.assertEqual(s.flags, truth, s.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
