"""Real mail clients sending through smtpd --mode=submission (and swaks also
on the MX): swaks (AUTH PLAIN and LOGIN, STARTTLS with verification,
implicit TLS, PIPELINING, attachments), msmtp, curl smtp:// and s-nail. Each
delivered message is read back from the store and checked."""

import email
import email.policy
import hashlib
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB, BOB_PW  # noqa: E402

TIMEOUT = 60


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


class ClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = smtptest.SmtpFixture("smtp-clients")
        cls.mx = cls.fx.smtpd("mx")
        cls.sub = cls.fx.smtpd("submission")
        cls.smtps = cls.fx.smtpd("submission", tls=True)

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    def need(self, tool, package):
        """Skips this test (not the file) when a client is not installed."""
        if shutil.which(tool) is None:
            self.skipTest("%s not found (apt-get install %s)" % (tool, package))

    def need_swaks(self):
        self.need("swaks", "swaks")
        if subprocess.run(["perl", "-MNet::SSLeay", "-e1"], stderr=subprocess.DEVNULL).returncode:
            self.skipTest("swaks cannot do TLS (apt-get install libnet-ssleay-perl)")

    def run_client(self, argv, input=None):
        r = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=TIMEOUT, env={"PATH": "/usr/bin:/bin", "HOME": self.fx.dir})
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, "%s:\n%s" % (argv[0], out))
        return out

    def latest(self, address, subject):
        """The newest stored message of address, parsed; its Subject checked."""
        raw = self.fx.dump(address)[-1][1]
        m, _ = smtptest.split_stored(raw)
        msg = parse(raw)
        self.assertEqual(msg["Subject"], subject)
        return m, msg, raw

    # ------------------------------------------------------------------ swaks

    def swaks(self, *args):
        self.need_swaks()
        return self.run_client(["swaks", "--server", "127.0.0.1", "--helo", "swaks.example",
                                "--timeout", "30"] + list(args))

    def test_swaks_starttls_auth_pipelining(self):
        for mech in ("PLAIN", "LOGIN"):
            subject = "swaks " + mech
            out = self.swaks("--port", str(self.sub.port), "--from", BOB, "--to", ALICE,
                             "--tls", "--tls-verify", "--tls-ca-path", self.fx.ca_pem,
                             "--auth", mech, "--auth-user", BOB, "--auth-password", BOB_PW,
                             "--pipeline", "--header", "Subject: " + subject,
                             "--body", "hello from swaks\n")
            self.assertIn("235 2.7.0", out)
            m, msg, _ = self.latest(ALICE, subject)
            self.assertEqual(m.group("proto"), b"ESMTPSA")
            self.assertIn("hello from swaks", msg.get_body().get_content())

    def test_swaks_attachments(self):
        data = os.urandom(150000)
        path = os.path.join(self.fx.dir, "blob.bin")
        with open(path, "wb") as f:
            f.write(data)
        text = "\u00e9t\u00e9 \u2014 caf\u00e9\n" * 20
        tpath = os.path.join(self.fx.dir, "notes.txt")
        with open(tpath, "w", encoding="utf-8") as f:
            f.write(text)
        self.swaks("--port", str(self.sub.port), "--from", BOB, "--to", ALICE, "--tls",
                   "--tls-verify", "--tls-ca-path", self.fx.ca_pem, "--auth", "PLAIN",
                   "--auth-user", BOB, "--auth-password", BOB_PW, "--pipeline",
                   "--header", "Subject: attachments", "--body", "see attached",
                   "--attach-type", "application/octet-stream", "--attach-name", "blob.bin",
                   "--attach", "@" + path,
                   "--attach-type", "text/plain; charset=utf-8", "--attach-name", "notes.txt",
                   "--attach", "@" + tpath)
        _, msg, _ = self.latest(ALICE, "attachments")
        parts = {p.get_filename(): p for p in msg.iter_attachments()}
        self.assertEqual(hashlib.sha256(parts["blob.bin"].get_content()).hexdigest(),
                         hashlib.sha256(data).hexdigest())
        self.assertEqual(parts["notes.txt"].get_content().replace("\r\n", "\n"), text)

    def test_swaks_implicit_tls(self):
        self.swaks("--port", str(self.smtps.port), "--tls-on-connect", "--tls-verify",
                   "--tls-ca-path", self.fx.ca_pem, "--from", ALICE, "--to", BOB,
                   "--auth", "LOGIN", "--auth-user", ALICE, "--auth-password", ALICE_PW,
                   "--header", "Subject: swaks 465", "--body", "implicit")
        m, _, _ = self.latest(BOB, "swaks 465")
        self.assertIsNotNone(m.group("tls"))

    def test_swaks_mx(self):
        self.swaks("--port", str(self.mx.port), "--from", "someone@elsewhere.example",
                   "--to", BOB, "--pipeline", "--header", "Subject: swaks mx", "--body", "mx")
        self.need_swaks()
        out = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.mx.port),
                              "--from", "someone@elsewhere.example",
                              "--to", "victim@elsewhere.example", "--timeout", "30"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(b"554 5.7.1", out.stdout)

    # ------------------------------------------------------------------ msmtp

    def test_msmtp(self):
        self.need("msmtp", "msmtp")
        conf = os.path.join(self.fx.dir, "msmtprc")
        with open(conf, "w") as f:
            f.write("account default\nhost 127.0.0.1\nport %d\nfrom %s\nauth on\nuser %s\n"
                    "password %s\ntls on\ntls_starttls on\ntls_trust_file %s\n"
                    "tls_host_override localhost\ndomain msmtp.example\n"
                    % (self.sub.port, BOB, BOB, BOB_PW, self.fx.ca_pem))
        os.chmod(conf, 0o600)
        msg = b"To: alice@example.com\r\nSubject: via msmtp\r\n\r\nmsmtp body\r\n"
        self.run_client(["msmtp", "-C", conf, ALICE], input=msg)
        m, msg_, raw = self.latest(ALICE, "via msmtp")
        self.assertEqual(m.group("proto"), b"ESMTPSA")
        # msmtp adds Date and Message-ID itself: smtpd must not add more
        self.assertEqual(raw.lower().count(b"\r\nmessage-id:"), 1)
        self.assertEqual(raw.count(b"\r\nDate:"), 1)
        self.assertIn(b"\r\n\r\nmsmtp body\r\n", raw)

    # ------------------------------------------------------------------- curl

    def test_curl(self):
        self.need("curl", "curl")
        path = os.path.join(self.fx.dir, "curl.eml")
        with open(path, "wb") as f:
            f.write(b"From: <alice@example.com>\r\nTo: <bob@example.com>\r\n"
                    b"Subject: via curl\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n"
                    b"curl body\r\n.with a leading dot\r\n")
        self.run_client(["curl", "-sS", "--url", "smtp://localhost:%d" % self.sub.port,
                         "--resolve", "localhost:%d:127.0.0.1" % self.sub.port,
                         "--ssl-reqd", "--cacert", self.fx.ca_pem,
                         "--user", "%s:%s" % (ALICE, ALICE_PW), "--login-options", "AUTH=PLAIN",
                         "--mail-from", ALICE, "--mail-rcpt", BOB, "--upload-file", path])
        m, _, raw = self.latest(BOB, "via curl")
        with open(path, "rb") as f:
            sent = f.read()
        self.assertEqual(smtptest.split_stored(raw)[1][-len(sent):], sent)
        self.assertEqual(m.group("proto"), b"ESMTPSA")

    # ----------------------------------------------------------------- s-nail

    def test_s_nail(self):
        self.need("s-nail", "s-nail")
        url = "smtp://%s:%s@localhost:%d" % (BOB.replace("@", "%40"), BOB_PW.replace(" ", "%20"),
                                            self.sub.port)
        self.run_client(["s-nail", "-:/", "-Sv15-compat", "-Smta=" + url,
                         "-Ssmtp-use-starttls", "-Ssmtp-auth=login",
                         "-Stls-ca-file=" + self.fx.ca_pem, "-Stls-ca-no-defaults",
                         "-Shostname=snail.example", "-Sttycharset=utf-8",
                         "-Ssendcharsets=utf-8", "-r", BOB, "-s", "via s-nail", ALICE],
                        input="s-nail body \u00e9\n".encode())
        m, msg, _ = self.latest(ALICE, "via s-nail")
        self.assertEqual(m.group("proto"), b"ESMTPSA")
        self.assertIn("s-nail body \u00e9", msg.get_body().get_content())


if __name__ == "__main__":
    unittest.main(verbosity=2)
