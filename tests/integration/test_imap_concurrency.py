"""Two IMAP sessions on one mailbox while SMTP (smtpd --mode=mx) delivers
and POP3 deletes. Each IMAP client models the mailbox (sequence number ->
UID) only from the untagged responses it receives (EXISTS, EXPUNGE, FETCH
UID) and checks, again and again, that the model is exactly what the server
says the session's view is: no phantom message, no lost one, sequence
numbers shifted correctly, no EXPUNGE during FETCH/STORE/SEARCH by
sequence number. At the end both models equal the store."""

import os
import poplib
import random
import re
import smtplib
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
from imaptest import BOB, BOB_PW  # noqa: E402

DURATION = 12.0


class ModelClient:
    """An IMAP client that keeps a model of its view of the mailbox."""

    def __init__(self, test, address, name):
        self.t = test
        self.name = name
        self.c = imaptest.Raw(address)
        self.c.login()
        self.model = []          # index = seq - 1 -> uid (None until learned)
        self.checks = 0
        self.apply(self.c.cmd("SELECT INBOX")[0], seq_cmd=False)
        self.learn()

    def apply(self, lines, seq_cmd):
        for ln in lines:
            m = re.match(rb"^\* (\d+) (EXISTS|EXPUNGE|FETCH|RECENT)(.*)$", ln)
            if not m:
                continue
            n, what, rest = int(m.group(1)), m.group(2), m.group(3)
            if what == b"EXISTS":
                self.t.assertGreaterEqual(n, len(self.model), (self.name, ln))
                self.model += [None] * (n - len(self.model))
            elif what == b"EXPUNGE":
                self.t.assertFalse(seq_cmd, "%s: EXPUNGE during a sequence command" % self.name)
                self.t.assertLessEqual(n, len(self.model), (self.name, ln))
                del self.model[n - 1]
            elif what == b"FETCH":
                self.t.assertLessEqual(n, len(self.model), (self.name, ln))
                u = re.search(rb"UID (\d+)", rest)
                if u:
                    uid = int(u.group(1))
                    if self.model[n - 1] is not None:
                        self.t.assertEqual(self.model[n - 1], uid, (self.name, ln))
                    self.model[n - 1] = uid

    def cmd(self, text, seq_cmd=False):
        u, t = self.c.cmd(text)
        # a message expunged by another process but not yet told: a
        # sequence command may be refused for it (RFC 5530), never wrong
        if not (seq_cmd and b" NO [EXPUNGEISSUED]" in t):
            self.t.assertIn(b" OK ", t, (self.name, text, t))
        self.apply(u, seq_cmd)
        return u

    def learn(self):
        # new messages announced at the end of a command have no UID yet;
        # a message expunged elsewhere and not yet told cannot be fetched
        for _ in range(5):
            if None not in self.model:
                return
            self.cmd("UID FETCH 1:* (UID)")

    def check(self):
        """The model against the server: a sequence FETCH of every message
        must show, seq by seq, the UIDs of the model (and nothing else)."""
        self.learn()
        if not self.model:
            return
        u = self.cmd("FETCH 1:* (UID)", seq_cmd=True)
        seen = {}
        for ln in u:
            m = re.match(rb"^\* (\d+) FETCH \(UID (\d+)\)", ln)
            if m:
                seen[int(m.group(1))] = int(m.group(2))
        for seq, uid in seen.items():
            self.t.assertEqual(self.model[seq - 1], uid, self.name)
        known = [x for x in self.model if x is not None]
        self.t.assertEqual(known, sorted(known), self.name)
        self.t.assertEqual(len(set(known)), len(known), self.name)
        self.checks += 1


class Concurrency(unittest.TestCase):
    def test_two_sessions_smtp_pop3(self):
        fx = pbtest.Fixture("imapconc")
        self.addCleanup(fx.close)
        fx.add_user(BOB, BOB_PW)
        for i in range(20):
            fx.deliver(BOB, pbtest.make_message("seed %d" % i, "s\r\n"))
        imap = imaptest.launch(fx)
        smtp = fx.socket_activate(fx.program("inetd/smtpd"), "--mode=mx")
        pop = fx.socket_activate(fx.program("inetd/pop3d"))
        stop = threading.Event()
        errors = []
        counts = {"smtp": 0, "pop3": 0}

        def smtp_loop():
            try:
                while not stop.is_set():
                    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=20) as s:
                        s.sendmail("a@example.org", [BOB],
                                   pbtest.make_message("smtp %d" % counts["smtp"], "x\r\n"))
                    counts["smtp"] += 1
                    time.sleep(0.05)
            except Exception as e:  # noqa: BLE001
                errors.append("smtp: %r" % e)

        def pop3_loop():
            try:
                while not stop.is_set():
                    p = poplib.POP3("127.0.0.1", pop.port, timeout=20)
                    p.user(BOB)
                    p.pass_(BOB_PW)
                    n = len(p.list()[1])
                    for k in range(1, min(n, 3) + 1):
                        p.dele(k)
                        counts["pop3"] += 1
                    p.quit()
                    time.sleep(0.4)
            except poplib.error_proto as e:
                if b"IN-USE" not in str(e).encode():
                    errors.append("pop3: %r" % e)
            except Exception as e:  # noqa: BLE001
                errors.append("pop3: %r" % e)

        a = ModelClient(self, imap.address, "A")
        b = ModelClient(self, imap.address, "B")
        threads = [threading.Thread(target=smtp_loop), threading.Thread(target=pop3_loop)]
        for th in threads:
            th.start()
        rnd = random.Random(6)
        t_end = time.monotonic() + DURATION
        try:
            while time.monotonic() < t_end:
                for c in (a, b):
                    op = rnd.randrange(5)
                    if op == 0:
                        c.cmd("NOOP")
                    elif op == 1 and c.model:
                        seq = rnd.randrange(1, len(c.model) + 1)
                        c.cmd("STORE %d +FLAGS (\\Flagged)" % seq, seq_cmd=True)
                    elif op == 2:
                        c.cmd("SEARCH ALL", seq_cmd=True)
                    elif op == 3:
                        c.cmd("UID SEARCH FLAGGED")
                    c.check()
        finally:
            stop.set()
            for th in threads:
                th.join(30)
        self.assertEqual(errors, [])
        self.assertGreater(counts["smtp"], 10)
        self.assertGreater(counts["pop3"], 5)
        # quiet now: both models equal the store
        truth = ModelClient(self, imap.address, "truth")
        for c in (a, b):
            c.cmd("NOOP")
            c.check()
            self.assertEqual(c.model, truth.model, c.name)
            self.assertGreater(c.checks, 5)
        n = fx.mailbox_list(BOB)["INBOX"][0]
        self.assertEqual(len(truth.model), n)
        log = fx.log_text()
        for bad in ("runtime error", "AddressSanitizer"):
            self.assertNotIn(bad, log)

    def test_recent_in_exactly_one_session(self):
        """RFC 3501 2.3.2: a new message is \\Recent in exactly one session.
        Two sessions take turns (each then holds ten separate ranges: only
        the last 8 were kept), then poll while mail arrives from four processes
        (mail delivered between a session's look and its claim was claimed
        without being shown). In both, every UID is recent in one session."""
        fx = pbtest.Fixture("imaprecent")
        self.addCleanup(fx.close)
        fx.add_user(BOB, BOB_PW)
        imap = imaptest.launch(fx)
        cs = []
        for _ in range(2):
            c = imaptest.Raw(imap.address)
            self.addCleanup(c.close)
            c.login()
            c.cmd("SELECT INBOX")
            cs.append(c)

        def recent_sets():
            for c in cs:
                c.cmd("NOOP")
            sets = []
            for c in cs:
                u, t = c.cmd("UID SEARCH RECENT")
                self.assertIn(b" OK ", t)
                sets.append({int(x) for ln in u if ln.startswith(b"* SEARCH")
                             for x in ln.split()[2:]})
            return sets

        n = 0
        for i in range(20):
            fx.deliver(BOB, pbtest.make_message("turn %d" % i, "x\r\n"))
            n += 1
            cs[i % 2].cmd("NOOP")
        a, b = recent_sets()
        self.assertEqual((sorted(a & b), sorted(set(range(1, n + 1)) - a - b)), ([], []))

        stop = threading.Event()
        errors = []

        def poll(c):
            try:
                while not stop.is_set():
                    c.cmd("NOOP")
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        def deliver(k):
            for i in range(10):
                fx.deliver(BOB, pbtest.make_message("race %d %d" % (k, i), "x\r\n"))

        pollers = [threading.Thread(target=poll, args=(c,)) for c in cs]
        senders = [threading.Thread(target=deliver, args=(k,)) for k in range(4)]
        for th in pollers + senders:
            th.start()
        for th in senders:
            th.join(120)
        stop.set()
        for th in pollers:
            th.join(30)
        self.assertEqual(errors, [])
        n += 40
        a, b = recent_sets()
        self.assertEqual((sorted(a & b), sorted(set(range(1, n + 1)) - a - b)), ([], []))


if __name__ == "__main__":
    unittest.main(verbosity=2)
