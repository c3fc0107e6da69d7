"""STARTTLS (IMAP, SMTP) and STLS (POP3) with a key file that does not parse:
credentials are loaded at the first use, so each handler must refuse in
the protocol's own words, log why, and keep the session, rather than say
"go ahead" and then drop the connection at the handshake.
And a key only root may read: a handler started as root reads it before it
switches to the store user (keeping no supplementary group), so STLS works."""
import os
import socket
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402


def exchange(address, greeting_prefix, steps):
    """Reads the greeting, then sends each command and returns the first
    line of each answer (multi-line SMTP replies: their last line)."""
    with socket.create_connection(address, timeout=10) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(greeting_prefix)
        answers = []
        for line in steps:
            s.sendall(line + b"\r\n")
            answer = f.readline()
            while answer[3:4] == b"-":      # SMTP continuation lines
                answer = f.readline()
            answers.append(answer.decode().rstrip())
        return answers


class BadKey(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("badkey")
        with open(cls.fx.key_pem, "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def test_imap(self):
        svc = self.fx.socket_activate(self.fx.program("inetd/imapd"))
        a = exchange(svc.address, b"* OK", [b"a STARTTLS", b"b NOOP", b"c LOGOUT"])
        self.assertTrue(a[0].startswith("a NO "), a)
        self.assertTrue(a[1].startswith("b OK"), a)          # the session goes on
        self.assertIn("STARTTLS: ", self.fx.log_text())

    def test_smtp(self):
        svc = self.fx.socket_activate(self.fx.program("inetd/smtpd"), "--mode=submission")
        a = exchange(svc.address, b"220 ", [b"EHLO client.example", b"STARTTLS", b"NOOP",
                                            b"QUIT"])
        self.assertTrue(a[1].startswith("454 "), a)
        self.assertTrue(a[2].startswith("250 "), a)
        self.assertIn("STARTTLS: ", self.fx.log_text())

    def test_pop3(self):
        svc = self.fx.socket_activate(self.fx.program("inetd/pop3d"))
        a = exchange(svc.address, b"+OK", [b"STLS", b"NOOP", b"QUIT"])
        self.assertTrue(a[0].startswith("-ERR "), a)
        self.assertTrue(a[2].startswith("+OK"), a)
        self.assertIn("STLS: ", self.fx.log_text())


class RootOnlyKey(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("rootkey")
        if cls.fx.root:
            os.chown(cls.fx.key_pem, 0, 0)
            os.chmod(cls.fx.key_pem, 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def test_pop3_stls(self):
        if not self.fx.root:
            self.skipTest("needs root: the handler must start as root")
        svc = self.fx.socket_activate(self.fx.program("inetd/pop3d"))
        with socket.create_connection(svc.address, timeout=10) as s:
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))
            s.sendall(b"STLS\r\n")
            self.assertTrue(f.readline().startswith(b"+OK"), self.fx.log_text()[-2000:])
            with self.fx.ssl_context().wrap_socket(s, server_hostname="localhost") as t:
                t.sendall(b"CAPA\r\n")
                got = t.recv(100)
                self.assertTrue(got.startswith(b"+OK"), got)
                # the live handler: the store user, the store group alone
                pids = subprocess.run(["pgrep", "-f", "inetd/pop3d --config " + self.fx.conf],
                                      stdout=subprocess.PIPE).stdout.split()
                self.assertTrue(pids)
                with open("/proc/%s/status" % pids[-1].decode()) as st:
                    status = dict(line.rstrip("\n").split(":\t", 1) for line in st)
                self.assertEqual(status["Groups"].split(), [str(self.fx.gid)])
                self.assertEqual(status["Uid"].split()[0], str(self.fx.uid))
                t.sendall(b"QUIT\r\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
