"""SORT and THREAD (RFC 5256), SORT=DISPLAY (RFC 5957): every sort
criterion, REVERSE, ties in mailbox order, the base subject checked against
an independent implementation of RFC 5256 2.1 over many generated subjects;
THREAD=ORDEREDSUBJECT and THREAD=REFERENCES on fixed cases (In-Reply-To,
missing parents, quoted ids, loops, a 3000-message chain) and on generated
mailboxes checked against an independent implementation of the REFERENCES
algorithm; search keys narrowing both, and every malformed form answered BAD
or NO. Through imaplib and a line-level client."""

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


def message(subject=None, sender=None, to=None, cc=None, date=None, body="hello\r\n",
            msgid=None, refs=None, in_reply_to=None):
    lines = []
    if msgid is None:
        msgid = "<%s@sort.test>" % random.getrandbits(64)
    for name, value in (("From", sender), ("To", to), ("Cc", cc), ("Subject", subject),
                        ("Date", date), ("Message-ID", msgid or None), ("References", refs),
                        ("In-Reply-To", in_reply_to)):
        if value is not None:
            lines.append("%s: %s" % (name, value))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def rfc_date(n):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(1700000000 + n * 60))


# RFC 5256 2.1, written from the grammar with regular expressions (the
# server's is a hand-written scanner): the base subject, lowercased.
BLOB = r"\[[^\[\]]*\][ \t]*"
LEADER = re.compile(r"(?:%s)*(?:re|fwd?)[ \t]*(?:%s)?:|[ \t]" % (BLOB, BLOB), re.I)


def base_subject(s, with_reply=False):
    """The base subject, and (with_reply) whether a reply or forward marker
    was taken off (RFC 5256 5: a subj-refwd, "(fwd)", or "[fwd: ...]")."""
    s = re.sub(r"[ \t\r\n]+", " ", s)
    reply = False
    while True:
        while True:
            t = re.sub(r"(?:\(fwd\)|[ \t])$", "", s, flags=re.I)
            if t == s:
                break
            reply |= not s[-1].isspace()
            s = t
        while True:
            m = LEADER.match(s)
            if m:
                reply |= m.group().endswith(":")
                s = s[m.end():]
                continue
            m = re.match(BLOB, s)
            if m and s[m.end():] != "":
                s = s[m.end():]
                continue
            break
        if s[:5].lower() == "[fwd:" and s.endswith("]") and len(s) >= 6:
            s = s[5:-1]
            reply = True
            continue
        return (s.lower(), reply) if with_reply else s.lower()


class Node:
    def __init__(self, msg=None):
        self.msg, self.parent, self.children = msg, None, []


def thread_references(msgs):
    """RFC 5256's REFERENCES over msgs (in mailbox order: dicts with seq,
    date, subject, msgid, refs), written plainly and recursively from the
    RFC's steps: the nested lists of sequence numbers a THREAD answer
    holds, as the answer's text."""
    ids, nodes = {}, []

    def node(i):
        if i not in ids:
            ids[i] = Node()
            nodes.append(ids[i])
        return ids[i]

    def above(a, x):            # x is a or one of a's ancestors
        while a is not None:
            if a is x:
                return True
            a = a.parent
        return False

    def link(p, x):
        x.parent = p
        p.children.append(x)

    for m in msgs:                                       # (1)
        prev = None
        for r in m["refs"]:
            x = node(r)
            if prev is not None and x.parent is None and prev is not x and not above(prev, x):
                link(prev, x)
            prev = x
        me = node(m["msgid"]) if m["msgid"] else None
        if me is None or me.msg is not None:
            me = Node()
            nodes.append(me)
        me.msg = m
        if me.parent is not None:
            me.parent.children.remove(me)
            me.parent = None
        if prev is not None and not above(prev, me):
            link(prev, me)
    root = Node()
    for n in nodes:                                      # (2)
        if n.parent is None:
            link(root, n)

    def prune(d):                                        # (3)
        for ch in list(d.children):
            prune(ch)
        p = d.parent
        if d.msg is None and not (d.children and p is root and len(d.children) > 1):
            i = p.children.index(d)
            for ch in d.children:
                ch.parent = p
            p.children[i:i + 1] = d.children
    for ch in list(root.children):
        prune(ch)

    def rep(n):
        while n.msg is None and n.children:
            n = n.children[0]
        return n

    def sort(n):                                         # (4), (6)
        for ch in n.children:
            sort(ch)
        n.children.sort(key=lambda c: (rep(c).msg["date"], rep(c).msg["seq"]))
    sort(root)

    def subject(n):                                      # (5)
        m = n.msg or (n.children[0].msg if n.children else None)
        return base_subject(m["subject"]) if m else ""

    def reply(n):
        return n.msg is not None and base_subject(n.msg["subject"], True)[1]
    table = {}
    top = list(root.children)
    for n in top:
        s = subject(n)
        if not s:
            continue
        t = table.get(s)
        if t is None or (t.msg is not None and (n.msg is None or (reply(t) and not reply(n)))):
            table[s] = n
    for n in top:
        s = subject(n)
        t = table.get(s) if s else None
        if t is None or t is n:
            continue
        root.children.remove(n)
        if t.msg is None and n.msg is None:
            for ch in n.children:
                link(t, ch)
        elif t.msg is None or (reply(n) and not reply(t)):
            link(t, n)
        else:
            d = Node()
            root.children[root.children.index(t)] = d
            d.parent = root
            link(d, t)
            link(d, n)
            table[s] = d
    sort(root)

    def members(n):
        out = [str(n.msg["seq"])] if n.msg else []
        if len(n.children) == 1:
            out.append(members(n.children[0]))
        elif n.children:
            out.append("".join("(%s)" % members(ch) for ch in n.children))
        return " ".join(out)
    return "".join("(%s)" % members(n) for n in root.children)


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
        """A new folder holding the messages, in order (UIDs 1..n), put there
        by MULTIAPPENDs of 100 (one transaction each); then imaplib."""
        c = self.raw()
        self.assertIn(b" OK ", c.cmd('CREATE "%s"' % folder)[1])
        for start in range(0, len(messages), 100):
            cmd = b'APPEND "%s"' % folder.encode()
            for i in range(start, min(start + 100, len(messages))):
                when = dates[i] if dates else time.time() - 86400 + i
                cmd += b" %s {%d+}\r\n%s" % (imaplib.Time2Internaldate(when).encode(),
                                             len(messages[i]), messages[i])
            _, t = c.cmd(cmd)
            self.assertIn(b" OK ", t)
        return self.imap()

    def sort(self, m, criteria, *search, uid=False):
        call = m.uid if uid else (lambda name, *a: getattr(m, name)(*a))
        typ, data = call("sort", criteria, "UTF-8", *(search or ("ALL",)))
        self.assertEqual(typ, "OK", data)
        return [int(x) for x in data[0].split()]

    def test_capability(self):
        caps = self.raw().cmd("CAPABILITY")[0][0].split()
        for cap in (b"SORT", b"SORT=DISPLAY", b"THREAD=ORDEREDSUBJECT", b"THREAD=REFERENCES"):
            self.assertIn(cap, caps)

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

    def thread(self, m, algorithm, *search, uid=False):
        call = m.uid if uid else (lambda name, *a: getattr(m, name)(*a))
        typ, data = call("thread", algorithm, "UTF-8", *(search or ("ALL",)))
        self.assertEqual(typ, "OK", data)
        return data[0].decode()

    def test_thread(self):
        msgs = [
            message("Meeting", date=rfc_date(1), msgid="<1@t>"),
            message("Re: Meeting", date=rfc_date(2), msgid="<2@t>", refs="<1@t>"),
            message("Re: Meeting", date=rfc_date(3), msgid="<3@t>", refs="<1@t>\r\n <2@t>"),
            # no References: the first id of In-Reply-To
            message("Re: Meeting", date=rfc_date(4), msgid="<4@t>",
                    in_reply_to="Your message <1@t> of today <9@t>"),
            message("Lunch", date=rfc_date(5), msgid="<5@t>"),
            # replies to a message not in the mailbox: a dummy parent
            message("Re: Lunch", date=rfc_date(6), msgid="<6@t>", refs="<gone@t>"),
            message("Re: Lunch", date=rfc_date(7), msgid="<7@t>", refs="<gone@t>"),
            # references that make a loop: the later link is left out
            message("x1", date=rfc_date(8), msgid="<a@t>", refs="<b@t>"),
            message("x2", date=rfc_date(9), msgid="<b@t>", refs="<a@t>"),
            # a quoted local part is the same id (RFC 5256 4)
            message("q", date=rfc_date(10), msgid='<"q1"@t>'),
            message("other", date=rfc_date(11), msgid="<q2@t>", refs="<q1@t>"),
            # the same id twice, and none: each message its own container
            message("dup", date=rfc_date(12), msgid="<1@t>"),
            message("none", date=rfc_date(13), msgid=""),
        ]
        m = self.fill("Threads", msgs)
        m.select("Threads", readonly=True)
        self.assertEqual(self.thread(m, "REFERENCES"),
                         "(1 (2 3)(4))((5)(6)(7))(9 8)(10 11)(12)(13)")
        self.assertEqual(self.thread(m, "ORDEREDSUBJECT"),
                         "(1 (2)(3)(4))(5 (6)(7))(8)(9)(10)(11)(12)(13)")
        # search keys narrow it; UID THREAD answers UIDs
        # (without 1, its container is a dummy parent of 2 and 4)
        self.assertEqual(self.thread(m, "REFERENCES", "UID", "2:7"), "((2 3)(4))((5)(6)(7))")
        self.assertEqual(self.thread(m, "REFERENCES", "SUBJECT", "lunch", uid=True),
                         "((5)(6)(7))")
        self.assertEqual(self.thread(m, "ORDEREDSUBJECT", "SUBJECT", "nothing"), "")

    def test_thread_chain(self):
        # 3000 replies, each to the one before: one thread as deep as the
        # mailbox, answered without recursion
        n = 3000
        m = self.fill("Chain", [message("Re: chain", date=rfc_date(i), msgid="<c%d@t>" % i,
                                        refs="<c%d@t>" % (i - 1) if i > 1 else None)
                                for i in range(1, n + 1)])
        m.select("Chain", readonly=True)
        self.assertEqual(self.thread(m, "REFERENCES"),
                         "(" + " ".join(str(i) for i in range(1, n + 1)) + ")")

    def test_thread_generated(self):
        rnd = random.Random(5256)
        for round_ in range(3):
            msgs, model = [], []
            ids = ["<m%d@t>" % i for i in range(60)] + ["<gone%d@t>" % i for i in range(10)]
            subjects = ["alpha", "Re: alpha", "RE: [x] alpha", "beta", "Fwd: beta", "beta (fwd)",
                        "gamma", "[fwd: gamma]", "", "Re: "]
            for seq in range(1, 121):
                msgid = rnd.choice(ids[:60]) if rnd.random() < 0.9 else None
                refs = [rnd.choice(ids) for _ in range(rnd.choice([0, 0, 1, 1, 2, 3, 5]))]
                irt = None
                if not refs and rnd.random() < 0.3:
                    irt = rnd.choice(ids)
                subject = rnd.choice(subjects)
                date = rnd.randint(1, 40)
                msgs.append(message(subject, date=rfc_date(date), msgid=msgid or "",
                                    refs=" ".join(refs) or None,
                                    in_reply_to=irt and "re: %s and more" % irt))
                model.append({"seq": seq, "date": date, "subject": subject, "msgid": msgid,
                              "refs": refs or ([irt] if irt else [])})
            folder = "Generated%d" % round_
            m = self.fill(folder, msgs)
            m.select(folder, readonly=True)
            self.assertEqual(self.thread(m, "REFERENCES"), thread_references(model),
                             "round %d" % round_)

    def test_long_subjects_and_names(self):
        # the record keeps 255 bytes of a subject and 127 of a sender's
        # name: past that, the whole text is read, so a reply's "Re: " does
        # not make its subject shorter than the original's
        long_ascii = "Quarterly report " + "x" * 260
        cjk = "=?utf-8?b?%s?=" % __import__("base64").b64encode(("会議" * 45).encode()).decode()
        msgs = [
            message(long_ascii, date=rfc_date(2)),
            message("Re: " + long_ascii, date=rfc_date(3)),
            message("Re: Re: " + long_ascii, date=rfc_date(4)),
            message(cjk, date=rfc_date(5)),
            message("Re: " + cjk, date=rfc_date(6)),
            message("Fwd: " + cjk, date=rfc_date(1)),
        ]
        m = self.fill("Long", msgs)
        m.select("Long", readonly=True)
        self.assertEqual(self.sort(m, "(SUBJECT)"), [1, 2, 3, 4, 5, 6])
        self.assertEqual(self.thread(m, "ORDEREDSUBJECT"), "(6 (4)(5))(1 (2)(3))")
        self.assertEqual(self.thread(m, "REFERENCES"), "(1 (2)(3))(4 (6)(5))")
        # DISPLAYFROM (from the record, or the envelope past 127 bytes) and
        # DISPLAYTO (the envelope) order the same names the same way: the
        # decoded name trimmed, else the address
        names = ["=?utf-8?q?_?= <zed@x.example>", "Mike <mike@x.example>",
                 '"  Adam" <adam@x.example>', "A" * 130 + "b <a1@x.example>",
                 "A" * 130 + "a <a2@x.example>"]
        m = self.fill("Names", [message("n", sender=n, to=n) for n in names])
        m.select("Names", readonly=True)
        self.assertEqual(self.sort(m, "(DISPLAYFROM)"), [5, 4, 3, 2, 1])
        self.assertEqual(self.sort(m, "(DISPLAYTO)"), [5, 4, 3, 2, 1])

    def test_thread_long_references(self):
        # ids at the end of a 300 KB References field still link (the
        # header is read as far as the MIME parser reads one)
        pad = " ".join("<pad%d.%s@t>" % (i, "p" * 40) for i in range(6000))
        msgs = [message("root", date=rfc_date(1), msgid="<r0@t>")]
        for i in range(1, 4):
            msgs.append(message("Re: root", date=rfc_date(i + 1), msgid="<r%d@t>" % i,
                                refs=pad + " <r%d@t>" % (i - 1)))
        self.assertGreater(len(pad), 300000)
        m = self.fill("LongRefs", msgs)
        m.select("LongRefs", readonly=True)
        self.assertEqual(self.thread(m, "REFERENCES"), "(1 2 3 4)")

    def test_thread_after_id_flood(self):
        # 2300 messages whose References hold 64 new 250-byte ids each
        # (37 MB) spend the budget of ids older references may take; the
        # mail after them still threads, as a message's own id and its
        # parent's are always kept
        n = 2300
        msgs = [message("junk %d" % i, date=rfc_date(i), msgid="<j%d@x>" % i,
                        refs=" ".join("<%s%06d%02d@x>" % ("z" * 238, i, j) for j in range(64)))
                for i in range(n)]
        msgs.append(message("Lunch plans", date=rfc_date(n + 1), msgid="<p@legit>"))
        msgs.append(message("Sounds good", date=rfc_date(n + 2), msgid="<q@legit>",
                            refs="<p@legit>"))
        m = self.fill("Flood", msgs)
        m.select("Flood", readonly=True)
        self.assertTrue(self.thread(m, "REFERENCES").endswith("(%d)(%d %d)" % (n, n + 1, n + 2)))

    def test_bad_commands(self):
        c = self.raw()
        _, t = c.cmd("SORT (SUBJECT) UTF-8 ALL")
        self.assertIn(b" BAD ", t)                           # nothing selected
        _, t = c.cmd("THREAD REFERENCES UTF-8 ALL")
        self.assertIn(b" BAD ", t)
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
            ("THREAD", b"BAD"),
            ("THREAD REFS UTF-8 ALL", b"BAD"),
            ("THREAD (REFERENCES) UTF-8 ALL", b"BAD"),
            ("THREAD REFERENCES", b"BAD"),
            ("THREAD REFERENCES UTF-8", b"BAD"),
            ("THREAD ORDEREDSUBJECT KOI8-R ALL", b"NO [BADCHARSET (UTF-8 US-ASCII)]"),
            ("UID THREAD REFERENCES UTF-8 FROB", b"BAD"),
        ]
        for q, want in cases:
            _, t = c.cmd(q)
            self.assertIn(b" " + want, t, q)
        # and the session goes on
        self.assertEqual(c.cmd("SORT (REVERSE DATE SIZE) UTF-8 ALL"),
                         ([b"* SORT"], b"t%d OK Sort completed" % c.n))


if __name__ == "__main__":
    unittest.main(verbosity=2)
