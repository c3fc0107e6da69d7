"""imapd with real clients: mbsync (isync) two-way sync of several folders
(a flag set locally pushed back, a message deleted on the server removed
locally, a second sync changing nothing; compressed, COMPRESS=DEFLATE), neomutt reading over IMAPS in a
pseudo-terminal, curl imap:// listing, fetching and searching, fetchmail
over IMAP. Each client is skipped (77) when not installed."""

import imaplib
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
from imaptest import BOB, BOB_PW  # noqa: E402


def have(tool):
    return shutil.which(tool) is not None


class Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("imapclients")
        imaptest.setup_bob(cls.fx)
        cls.svc = imaptest.launch(cls.fx)
        cls.tls = imaptest.launch(cls.fx, tls=True)
        cls.work = os.path.join(cls.fx.dir, "client")
        os.makedirs(cls.work)

    @classmethod
    def tearDownClass(cls):
        log = cls.fx.log_text()
        cls.fx.close()
        for bad in ("runtime error", "AddressSanitizer"):
            assert bad not in log, log[-4000:]

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.svc.port)
        m.login(BOB, BOB_PW)
        self.addCleanup(m.logout)
        return m

    # ---------------------------------------------------------------- mbsync

    def mbsync(self, rc):
        r = subprocess.run(["mbsync", "-c", rc, "-a"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out)
        return out

    def test_mbsync(self):
        if not have("mbsync"):
            self.skipTest("mbsync missing (apt-get install isync)")
        m = self.imap()
        m.create("Work")
        m.create("Work/Old")
        for i in range(3):
            m.append("Work", None, None, pbtest.make_message("work %d" % i, "w\r\n"))
        m.append("Work/Old", "(\\Seen)", None, pbtest.make_message("old", "o\r\n"))
        local = os.path.join(self.work, "maildir")
        os.makedirs(local)
        rc = os.path.join(self.work, "mbsyncrc")
        with open(rc, "w") as f:
            f.write("IMAPAccount pb\nHost localhost\nPort %d\nUser %s\nPass \"%s\"\n"
                    "SSLType IMAPS\nCertificateFile %s\nAuthMechs PLAIN\n\n"
                    "IMAPStore remote\nAccount pb\n\n"
                    "MaildirStore local\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n"
                    "Channel all\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\n"
                    "Expunge Both\nSyncState *\n"
                    % (self.tls.port, BOB, BOB_PW.replace('"', '\\"'), self.fx.ca_pem, local,
                       local))

        def files(box):
            out = []
            for sub in ("cur", "new"):
                d = os.path.join(local, box, sub)
                if os.path.isdir(d):
                    out += [os.path.join(d, x) for x in sorted(os.listdir(d))]
            return out

        self.mbsync(rc)
        self.assertEqual(len(files("INBOX")), 3)
        self.assertEqual(len(files("Work")), 3)
        self.assertEqual(len(files("Work/Old")), 1)
        self.assertTrue(files("Work/Old")[0].endswith(",S"))
        # a flag set locally goes to the server
        path = files("Work")[0]
        newpath = path.replace("/new/", "/cur/")
        newpath = (newpath.split(":2,")[0] if ":2," in newpath else newpath) + ":2,F"
        os.rename(path, newpath)
        # a message deleted on the server goes locally
        m.select("INBOX")
        m.store("2", "+FLAGS", "\\Deleted")
        m.expunge()
        self.mbsync(rc)
        self.assertEqual(len(files("INBOX")), 2)
        m.select("Work")
        typ, data = m.search(None, "FLAGGED")
        self.assertEqual(data, [b"1"])
        # a second sync changes nothing
        before = {b: files(b) for b in ("INBOX", "Work", "Work/Old")}
        st = m.status("Work", "(HIGHESTMODSEQ MESSAGES)")
        self.mbsync(rc)
        self.assertEqual({b: files(b) for b in before}, before)
        self.assertEqual(m.status("Work", "(HIGHESTMODSEQ MESSAGES)"), st)
        # a message appended locally goes up
        with open(os.path.join(local, "Work", "new", "123.local:2,S"), "wb") as f:
            f.write(pbtest.make_message("from local", "l\r\n"))
        self.mbsync(rc)
        typ, data = m.select("Work")
        self.assertEqual(data, [b"4"])
        # mbsync asks for COMPRESS=DEFLATE (RFC 4978) when offered: its
        # sessions ran compressed over TLS
        self.assertRegex(self.fx.log_text(), r"logout user=<%s> .* compress=deflate"
                         % re.escape(BOB))

    # ---------------------------------------------------------------- neomutt

    def test_neomutt_imaps(self):
        if not have("neomutt"):
            self.skipTest("neomutt missing (apt-get install neomutt)")
        out = os.path.join(self.work, "piped")
        rc = os.path.join(self.work, "neomuttrc")
        with open(rc, "w") as f:
            f.write('set certificate_file="%s/certs"\nset ssl_ca_certificates_file="%s"\n'
                    'set imap_user="%s"\nset imap_pass="%s"\nset wait_key=no\n'
                    'set pipe_decode=no\nset mail_check=0\nset timeout=1\n'
                    'set folder="imaps://127.0.0.1:%d/"\nset spoolfile="+INBOX"\n'
                    'set sort=date\nset header_cache=""\nset message_cachedir=""\n'
                    'set imap_check_subscribed=no\n'
                    % (self.work, self.fx.ca_pem, BOB, BOB_PW.replace('"', '\\"'),
                       self.tls.port))
        keys = ('push "<first-entry><pipe-message>cat > %s<enter><exit><quit>"' % out)
        env = dict(os.environ, TERM="xterm", HOME=self.work)
        pid, fd = pty.fork()
        if pid == 0:
            os.execvpe("neomutt", ["neomutt", "-n", "-F", rc, "-e", keys], env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                try:
                    os.read(fd, 65536)
                except OSError:
                    break
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                pid = 0
                break
            # answer any question (certificate, quit?) with "y"
            try:
                os.write(fd, b"")
            except OSError:
                break
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        with open(out, "rb") as f:
            data = f.read()
        self.assertIn(b"Message-ID: <", data)
        self.assertIn(b"Subject:", data)

    # ---------------------------------------------------------------- curl

    def curl(self, url, *args):
        r = subprocess.run(["curl", "-sS", "--user", "%s:%s" % (BOB, BOB_PW)] + list(args) +
                           [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_curl(self):
        if not have("curl"):
            self.skipTest("curl missing")
        base = "imap://127.0.0.1:%d/" % self.svc.port
        listing = self.curl(base)
        self.assertIn(b'* LIST (\\HasNoChildren) "/" "INBOX"', listing)
        msg = self.curl(base + "INBOX;UID=1")
        self.assertTrue(msg.endswith(imaptest.MSG_SIMPLE))
        found = self.curl(base + "INBOX?SUBJECT%20nested")
        self.assertEqual(found.strip(), b"* SEARCH 2")
        sec = self.curl(base + "INBOX;UID=2;SECTION=2.1")
        self.assertEqual(sec, b"inner plain text")
        tls = self.curl("imaps://127.0.0.1:%d/INBOX;UID=1;SECTION=HEADER.FIELDS%%20(SUBJECT)"
                        % self.tls.port, "--cacert", self.fx.ca_pem)
        self.assertEqual(tls, b"Subject: =?utf-8?q?caf=C3=A9_menu?=\r\n\r\n")

    # ---------------------------------------------------------------- fetchmail

    def test_fetchmail(self):
        if not have("fetchmail"):
            self.skipTest("fetchmail missing (apt-get install fetchmail)")
        self.fx.add_user("fm@example.com", "fm pw")
        for i in range(2):
            self.fx.deliver("fm@example.com", pbtest.make_message("fm %d" % i, "x\r\n",
                                                                 to="fm@example.com"))
        mbox = os.path.join(self.work, "fm.mbox")
        rc = os.path.join(self.work, "fetchmailrc")
        with open(rc, "w") as f:
            f.write('poll 127.0.0.1 protocol IMAP port %d user "fm@example.com" '
                    'password "fm pw" sslproto "" mda "cat >> %s" nokeep\n'
                    % (self.svc.port, mbox))
        os.chmod(rc, 0o600)
        r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-v", "--nosyslog",
                            "--pidfile", os.path.join(self.work, "fm.pid")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                           env=dict(os.environ, HOME=self.work))
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out)
        with open(mbox, "rb") as f:
            data = f.read()
        self.assertEqual(len(re.findall(rb"^Subject: fm \d", data, re.M)), 2, out)
        self.assertEqual(self.fx.mailbox_list("fm@example.com")["INBOX"][0], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
