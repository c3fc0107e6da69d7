"""SORT and UID SORT (RFC 5256) with DISPLAYFROM/DISPLAYTO (RFC 5957):
every criterion, REVERSE, ties in mailbox order, the base subject checked
against an independent implementation of RFC 5256 2.1 over many generated
subjects, search keys narrowing the sort, and every malformed form answered
BAD or NO. Through imaplib (as a client library would call it) and a
line-level client."""

import imaplib
import os
import random
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
from imaptest import BOB, BOB_PW  # noqa: E402


def message(subject=None, sender=None, to=None, cc=None, date=None, body="hello\r\n"):
    lines = []
    for name, value in (("From", sender), ("To", to), ("Cc", cc), ("Subject", subject),
                        ("Date", date)):
        if value is not None:
            lines.append("%s: %s" % (name, value))
    lines.append("Message-ID: <%s@sort.test>" % random.getrandbits(64))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


# RFC 5256 2.1, written from the grammar with regular expressions (the
# server's is a hand-written scanner): the base subject, lowercased.
BLOB = r"\[[^\[\]]*\][ \t]*"
LEADER = re.compile(r"(?:%s)*(?:re|fwd?)[ \t]*(?:%s)?:|[ \t]" % (BLOB, BLOB), re.I)


def base_subject(s):
    s = re.sub(r"[ \t\r\n]+", " ", s)
    while True:
        while True:
            t = re.sub(r"(?:\(fwd\)|[ \t])$", "", s, flags=re.I)
            if t == s:
                break
            s = t
        while True:
            m = LEADER.match(s)
            if m:
                s = s[m.end():]
                continue
            m = re.match(BLOB, s)
            if m and s[m.end():] != "":
                s = s[m.end():]
                continue
            break
        if s[:5].lower() == "[fwd:" and s.endswith("]") and len(s) >= 6:
            s = s[5:-1]
            continue
        return s.lower()


class SortSuite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("imap-sort")
        cls.fx.add_user(BOB, BOB_PW)
        cls.svc = imaptest.launch(cls.fx)

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.svc.port)
        self.addCleanup(lambda: m.shutdown())
        m.login(BOB, BOB_PW)
        return m

    def raw(self):
        c = imaptest.Raw(self.svc.address)
        self.addCleanup(c.close)
        c.login()
        return c

    def fill(self, folder, messages, dates=None):
        """A new folder holding the messages, in order (UIDs 1..n)."""
        m = self.imap()
        self.assertEqual(m.create(folder)[0], "OK")
        for i, raw in enumerate(messages):
            when = dates[i] if dates else time.time() - 86400 + i
            typ, _ = m.append(folder, None, imaplib.Time2Internaldate(when), raw)
            self.assertEqual(typ, "OK")
        return m

    def sort(self, m, criteria, *search, uid=False):
        call = m.uid if uid else (lambda name, *a: getattr(m, name)(*a))
        typ, data = call("sort", criteria, "UTF-8", *(search or ("ALL",)))
        self.assertEqual(typ, "OK", data)
        return [int(x) for x in data[0].split()]

    def test_capability(self):
        caps = self.raw().cmd("CAPABILITY")[0][0].split()
        self.assertIn(b"SORT", caps)
        self.assertIn(b"SORT=DISPLAY", caps)

    def test_subject(self):
        subjects = [
            "Re: Beta",                      # 1
            "alpha",                         # 2
            "[list] Re: [list] RE : beta",   # 3: blobs and refwd, case
            "Fwd: Alpha (fwd)",              # 4
            "[Fwd: re: gamma]",              # 5: the forward wrapper
            "[tag]",                         # 6: a lone blob is the base ("[" < "a")
            "=?utf-8?q?=C3=89clair?=",       # 7: encoded, É after every ASCII letter
            "Re: re: Fw: ALPHA",             # 8
            None,                            # 9: no subject: "" first
            "Re[2]: delta",                  # 10: a blob before the colon
        ]
        m = self.fill("Subjects", [message(subject=s) for s in subjects])
        m.select("Subjects", readonly=True)
        self.assertEqual(self.sort(m, "(SUBJECT)"), [9, 6, 2, 4, 8, 1, 3, 10, 5, 7])
        # REVERSE turns the key round; equal subjects stay in mailbox order
        self.assertEqual(self.sort(m, "(REVERSE SUBJECT)"), [7, 5, 10, 1, 3, 2, 4, 8, 6, 9])
        self.assertEqual(self.sort(m, "(SUBJECT)", "UID", "3:8"), [6, 4, 8, 3, 5, 7])
        self.assertEqual(self.sort(m, "(SUBJECT)", uid=True), [9, 6, 2, 4, 8, 1, 3, 10, 5, 7])

    def test_subject_generated(self):
        # a few hundred subjects made of the grammar's pieces, each sorted
        # by the server as the independent implementation above says
        rnd = random.Random(5256)
        leaders = ["", "Re: ", "RE:", "re :", "Fwd: ", "FW: ", "fwd:", "[list] ", "[a][b] ",
                   "Re[3]: ", "[x] Re: ", " ", "Re: [y] ", "Ref: ", "re", "[Fwd: "]
        bases = ["alpha", "Alpha", "beta", "gamma", "[blob]", "re", "fwd", "x [fwd: y]",
                 "alpha (fwd)", "(fwd)", "Re: alpha", "a]b", "[", "Réunion", "zeta  eta"]
        trailers = ["", " (fwd)", "(FWD)", " ", "]", " (fwd) (fwd)"]
        subjects = []
        for _ in range(300):
            s = "".join(rnd.choice(leaders) for _ in range(rnd.randint(0, 3)))
            s += rnd.choice(bases) + rnd.choice(trailers)
            subjects.append(s.strip() or "x")
        m = self.fill("Generated", [message(subject=s) for s in subjects])
        m.select("Generated", readonly=True)
        want = sorted(range(1, len(subjects) + 1),
                      key=lambda n: (base_subject(subjects[n - 1]).encode(), n))
        got = self.sort(m, "(SUBJECT)")
        for w, g in zip(want, got):
            if w != g:
                self.fail("subject %r (%r) sorted where %r (%r) belongs" %
                          (subjects[g - 1], base_subject(subjects[g - 1]),
                           subjects[w - 1], base_subject(subjects[w - 1])))
        self.assertEqual(got, want)

    def test_addresses(self):
        msgs = [
            message(sender="Zed Alpha <aaa@x.example>", to="Mary <mmm@y.example>",
                    cc="c3@z.example"),                                       # 1
            message(sender="Alpha Zed <zzz@x.example>", to="undisclosed-recipients:;",
                    cc='"Carl" <c1@z.example>, c0@z.example'),                # 2
            message(sender="=?utf-8?q?=C3=84rger?= <bbb@x.example>",
                    to="Bob <bob@y.example>"),                                # 3
            message(to="Group: Ann <ann@y.example>;"),                       # 4: no From
            message(sender="mmm@x.example", to="ZZ <aaa@y.example>",
                    cc="C2 <c2@z.example>"),                                  # 5
        ]
        m = self.fill("Addresses", msgs)
        m.select("Addresses", readonly=True)
        # FROM, TO and CC compare the first address's local part (RFC 5256)
        self.assertEqual(self.sort(m, "(FROM)"), [4, 1, 3, 5, 2])
        self.assertEqual(self.sort(m, "(TO)"), [2, 5, 4, 3, 1])
        self.assertEqual(self.sort(m, "(CC)"), [3, 4, 2, 5, 1])
        # DISPLAYFROM: the decoded display name, else the address (RFC 5957)
        self.assertEqual(self.sort(m, "(DISPLAYFROM)"), [4, 2, 5, 1, 3])
        self.assertEqual(self.sort(m, "(DISPLAYTO)"), [2, 4, 3, 1, 5])
        self.assertEqual(self.sort(m, "(REVERSE DISPLAYFROM)"), [3, 1, 5, 2, 4])

    def test_dates_sizes_and_ties(self):
        base = time.mktime((2024, 3, 1, 12, 0, 0, 0, 0, -1))
        msgs = [
            message(subject="a", date="Mon, 01 Jan 2024 10:00:00 +0100"),   # 1: 09:00 UTC
            message(subject="b", date="Mon, 01 Jan 2024 09:30:00 +0000"),   # 2: 09:30 UTC
            message(subject="a", date="Mon, 01 Jan 2024 01:00:00 -0800"),   # 3: 09:00 UTC
            message(subject="b", body="x" * 500 + "\r\n"),                  # 4: no Date
            message(subject="a", date="not a date at all"),                 # 5: unreadable
        ]
        # internal dates: 4 and 5 sort by them (2023 and 2025), and they give
        # ARRIVAL an order other than the UIDs'
        dates = [base, base - 60, base + 60, time.mktime((2023, 6, 1, 0, 0, 0, 0, 0, -1)),
                 time.mktime((2025, 6, 1, 0, 0, 0, 0, 0, -1))]
        m = self.fill("Dates", msgs, dates)
        m.select("Dates", readonly=True)
        self.assertEqual(self.sort(m, "(DATE)"), [4, 1, 3, 2, 5])
        self.assertEqual(self.sort(m, "(REVERSE DATE)"), [5, 2, 1, 3, 4])
        self.assertEqual(self.sort(m, "(ARRIVAL)"), [4, 2, 1, 3, 5])
        self.assertEqual(self.sort(m, "(REVERSE ARRIVAL)"), [5, 3, 1, 2, 4])
        self.assertEqual(self.sort(m, "(SIZE)")[-1], 4)
        self.assertEqual(self.sort(m, "(REVERSE SIZE)")[0], 4)
        # a second criterion decides among the first one's equals; REVERSE
        # turns only the criterion after it; full ties: mailbox order
        self.assertEqual(self.sort(m, "(SUBJECT REVERSE DATE)"), [5, 1, 3, 2, 4])
        self.assertEqual(self.sort(m, "(REVERSE SUBJECT DATE)"), [4, 2, 1, 3, 5])
        self.assertEqual(self.sort(m, "(SUBJECT)"), [1, 3, 5, 2, 4])

    def test_search_keys_and_results(self):
        m = self.fill("Searched", [message(subject=s) for s in ("c", "b", "a", "b")])
        m.select("Searched")
        m.store("2", "+FLAGS", "\\Seen")
        m.store("3", "+FLAGS", "\\Flagged")
        self.assertEqual(self.sort(m, "(SUBJECT)", "UNSEEN"), [3, 4, 1])
        self.assertEqual(self.sort(m, "(SUBJECT)", "OR", "SEEN", "FLAGGED"), [3, 2])
        self.assertEqual(self.sort(m, "(SUBJECT)", "SUBJECT", "zzz"), [])
        # sequence numbers after an expunge, UIDs as they were
        m.store("1", "+FLAGS", "\\Deleted")
        m.expunge()
        self.assertEqual(self.sort(m, "(SUBJECT)"), [2, 1, 3])
        self.assertEqual(self.sort(m, "(SUBJECT)", uid=True), [3, 2, 4])
        c = self.raw()
        c.cmd("SELECT Searched")
        # a MODSEQ key: the answer ends with the highest MODSEQ (RFC 7162)
        u, t = c.cmd("SORT (SUBJECT) UTF-8 MODSEQ 1")
        self.assertIn(b"OK", t)
        self.assertRegex(u[-1], rb"^\* SORT 2 1 3 \(MODSEQ \d+\)$")
        # the saved search result (RFC 5182) as input
        c.cmd("SEARCH RETURN (SAVE) SUBJECT b")
        self.assertEqual(c.cmd("UID SORT (REVERSE ARRIVAL) US-ASCII $")[0], [b"* SORT 4 2"])

    def test_bad_commands(self):
        c = self.raw()
        _, t = c.cmd("SORT (SUBJECT) UTF-8 ALL")
        self.assertIn(b" BAD ", t)                           # nothing selected
        c.cmd("SELECT INBOX")
        cases = [
            ("SORT SUBJECT UTF-8 ALL", b"BAD"),               # not a list
            ("SORT () UTF-8 ALL", b"BAD"),
            ("SORT (SUBJECT)", b"BAD"),                         # no charset
            ("SORT (SUBJECT) UTF-8", b"BAD"),                   # no search keys
            ("SORT (FROB) UTF-8 ALL", b"BAD"),
            ("SORT (REVERSE) UTF-8 ALL", b"BAD"),
            ("SORT (SUBJECT REVERSE) UTF-8 ALL", b"BAD"),
            ("SORT (REVERSE REVERSE DATE) UTF-8 ALL", b"BAD"),
            ("SORT (" + "DATE " * 17 + ") UTF-8 ALL", b"BAD"),
            ("SORT ((DATE)) UTF-8 ALL", b"BAD"),
            ("SORT (DATE) KOI8-R ALL", b"NO [BADCHARSET (UTF-8 US-ASCII)]"),
            ("SORT (DATE) UTF-8 FROB", b"BAD"),
            ("SORT (DATE) UTF-8 UID 1:*:2", b"BAD"),
        ]
        for q, want in cases:
            _, t = c.cmd(q)
            self.assertIn(b" " + want, t, q)
        # and the session goes on
        self.assertEqual(c.cmd("SORT (REVERSE DATE SIZE) UTF-8 ALL"),
                         ([b"* SORT"], b"t%d OK Sort completed" % c.n))


if __name__ == "__main__":
    unittest.main(verbosity=2)
