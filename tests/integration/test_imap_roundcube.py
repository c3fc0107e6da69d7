"""Roundcube's own IMAP code against imapd: rcube_imap from Debian's
roundcube-core (the class its message list calls), run by php-cli through
roundcube_imap.php without Roundcube's database or web front end. Checks
that it sorts on the server (SORT, with DISPLAYFROM as SORT=DISPLAY offers),
threads on the server (THREAD=REFERENCES), and shows the order and the
thread tree the mail calls for."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402

USER, PW = "rc@example.com", "rc password"
ROUNDCUBE_DEFAULTS = "/etc/roundcube/defaults.inc.php"

# uid: subject, From, day of January, Message-ID, References
MAIL = {
    1: ("Meeting", "Zed <zed@x.example>", 2, "<1@t>", None),
    2: ("Re: Meeting", "Amy <amy@x.example>", 3, "<2@t>", "<1@t>"),
    3: ("Lunch", "bob@x.example", 4, "<3@t>", None),
    4: ("Re: Meeting", "Cat <cat@x.example>", 5, "<4@t>", "<1@t> <2@t>"),
    5: ("Re: Lunch", "=?utf-8?q?=C3=89mile?= <emile@x.example>", 6, "<5@t>", "<3@t>"),
    6: ("Fwd: Budget", "Amy <amy@x.example>", 1, "<6@t>", None),
}


class RoundcubeSuite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("imap-roundcube")
        cls.fx.add_user(USER, PW)
        for uid, (subject, sender, day, msgid, refs) in sorted(MAIL.items()):
            head = ("From: %s\r\nTo: %s\r\nSubject: %s\r\n"
                    "Date: Tue, %02d Jan 2024 10:00:00 +0000\r\nMessage-ID: %s\r\n"
                    % (sender, USER, subject, day, msgid))
            if refs:
                head += "References: %s\r\n" % refs
            # sizes all different: the size sort has no ties
            cls.fx.deliver(USER, (head + "\r\n" + "x" * (uid * 40) + "\r\n").encode())
        cls.svc = imaptest.launch(cls.fx)
        conf = os.path.join(cls.fx.dir, "roundcube")
        os.makedirs(conf)
        os.symlink(ROUNDCUBE_DEFAULTS, os.path.join(conf, "defaults.inc.php"))
        with open(os.path.join(conf, "config.inc.php"), "w") as f:
            f.write("<?php\n$config = ['log_dir' => '%s/', 'temp_dir' => '%s/'];\n"
                    % (conf, conf))
        script = os.path.join(pbtest.TOP_SRCDIR, "tests", "integration", "roundcube_imap.php")
        r = subprocess.run(["php", script, conf, str(cls.svc.port), USER, PW, "INBOX"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            cls.fx.close()
            raise AssertionError("roundcube_imap.php failed (%d): %s %s" %
                                 (r.returncode, r.stderr[-2000:], r.stdout[-2000:]))
        cls.out = json.loads(r.stdout)
        cls.dialogue = cls.out["dialogue"]

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def answer_to(self, command):
        """The server's lines after the client line that holds `command`,
        up to its tagged reply."""
        for i, line in enumerate(self.dialogue):
            if line.startswith("C: ") and command in line:
                tag = line[3:].split(" ", 1)[0]
                for j in range(i + 1, len(self.dialogue)):
                    if self.dialogue[j].startswith("S: %s " % tag):
                        return self.dialogue[i + 1:j + 1]
        self.fail("Roundcube never sent %r:\n%s" % (command, "\n".join(self.dialogue)))

    def test_sorts_on_the_server(self):
        for command in ("UID SORT (SUBJECT)", "UID SORT (DATE)", "UID SORT (DISPLAYFROM)",
                        "UID SORT (SIZE)", "UID SORT (ARRIVAL)"):
            lines = self.answer_to(command)
            self.assertRegex(lines[-1], r"^S: \S+ OK ", command)
            self.assertTrue(lines[0].startswith("S: * SORT "), (command, lines))
        sorted_ = self.out["sorted"]
        self.assertEqual(sorted_["subject ASC"], [6, 3, 5, 1, 2, 4])   # budget, lunch, meeting
        self.assertEqual(sorted_["date DESC"], [5, 4, 3, 2, 1, 6])
        # display names (decoded), else the address: Amy, Amy, bob@, Cat, Zed, Emile
        self.assertEqual(sorted_["from ASC"], [2, 6, 3, 4, 1, 5])
        self.assertEqual(sorted_["size DESC"], [6, 5, 4, 3, 2, 1])
        self.assertEqual(sorted_["arrival ASC"], [1, 2, 3, 4, 5, 6])

    def test_threads_on_the_server(self):
        self.assertEqual(self.out["threading"], "REFERENCES")
        lines = self.answer_to("UID THREAD REFERENCES")
        self.assertEqual(lines[0], "S: * THREAD (6)(1 2 4)(3 5)")
        self.assertRegex(lines[-1], r"^S: \S+ OK ")
        # (uid, depth, parent uid) as Roundcube's list shows them, the
        # threads by the date of their first message
        self.assertEqual([tuple(t) for t in self.out["threads"]],
                         [(6, 0, 0), (1, 0, 0), (2, 1, 1), (4, 2, 2), (3, 0, 0), (5, 1, 3)])


if __name__ == "__main__":
    if not os.path.exists(ROUNDCUBE_DEFAULTS):
        print("SKIP: roundcube-core is not installed (./quickstart check installs it)")
        sys.exit(pbtest.SKIP)
    unittest.main(verbosity=2)
