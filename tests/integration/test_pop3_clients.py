"""pop3d driven by real mail clients: fetchmail (keep mode with UIDLs: a second
run fetches only the new mail; delete mode over STLS with the certificate
checked) and curl (pop3:// and pop3s:// listing and retrieving, SASL PLAIN and
LOGIN, STLS required). A mixin, run again through xinetd by
test_pop3_xinetd.py."""

import glob
import os
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402

USER, PW = "dave@example.com", "dave's password"
OTHER, OTHER_PW = "erin@example.com", "erin pw"


class ClientsMixin:
    launcher = "socket_activate"

    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("pop3-clients-" + cls.launcher)
        cls.fx.add_user(USER, PW)
        cls.fx.add_user(OTHER, OTHER_PW)
        pop3d = cls.fx.program("inetd/pop3d")
        launch = getattr(cls.fx, cls.launcher)
        cls.plain = launch(pop3d)
        cls.tls = launch(pop3d, "--tls")

    @classmethod
    def tearDownClass(cls):
        log = cls.fx.log_text()
        cls.fx.close()
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert bad not in log, "%s in the handlers' log:\n%s" % (bad, log[-4000:])

    # -------------------------------------------------------------- fetchmail

    def fetchmail(self, name, keep, tls, user=USER, pw=PW):
        """One fetchmail run into a per-run MDA directory; returns the
        messages it delivered (bytes) and its exit code."""
        pbtest.require("fetchmail", "fetchmail")
        d = os.path.join(self.fx.dir, "fetchmail-" + name)
        os.makedirs(os.path.join(d, "in"), exist_ok=True)
        rc = os.path.join(d, "fetchmailrc")
        port = self.plain.port
        opts = ["keep" if keep else "no keep"]
        if tls:
            opts += ["sslproto 'tls1.2+'", "sslcertck", 'sslcertfile "%s"' % self.fx.ca_pem,
                     "sslcommonname localhost"]
        else:
            opts += ["sslproto ''"]
        mda = "/bin/sh -c 'cat > %s/in/$$$$'" % d
        with open(rc, "w") as f:
            f.write("set no bouncemail\nset no syslog\n"
                    "poll localhost via 127.0.0.1 proto pop3 port %d uidl timeout 30\n"
                    '  user "%s" there with password "%s" is "%s" here\n'
                    "  %s\n  mda \"%s\"\n"
                    % (port, user, pw, os.environ.get("USER", "root"), " ".join(opts), mda))
        os.chmod(rc, 0o600)
        before = set(glob.glob(os.path.join(d, "in", "*")))
        r = subprocess.run(["fetchmail", "-f", rc, "--idfile", os.path.join(d, "ids"),
                            "--nodetach", "--nosyslog"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env={"HOME": d, "PATH": os.environ["PATH"]}, timeout=120)
        new = sorted(set(glob.glob(os.path.join(d, "in", "*"))) - before)
        got = []
        for path in new:
            with open(path, "rb") as f:
                got.append(f.read())
        return got, r.returncode, r.stdout.decode(errors="replace")

    def test_fetchmail_keep_uidl(self):
        fx = self.fx
        for i in range(3):
            fx.deliver(USER, pbtest.make_message("keep %d" % i, "keep body %d\n" % i))
        got, code, out = self.fetchmail("keep", keep=True, tls=False)
        self.assertEqual(code, 0, out)
        self.assertEqual(len(got), 3, out)
        self.assertTrue(all(b"keep body" in m for m in got))
        # nothing new: fetchmail says so (exit 1) and fetches nothing
        got, code, out = self.fetchmail("keep", keep=True, tls=False)
        self.assertEqual((len(got), code), (0, 1), out)
        # one new message: only it is fetched
        fx.deliver(USER, pbtest.make_message("keep new", "the new one\n"))
        got, code, out = self.fetchmail("keep", keep=True, tls=False)
        self.assertEqual(code, 0, out)
        self.assertEqual(len(got), 1, out)
        self.assertIn(b"the new one", got[0])
        self.assertEqual(fx.mailbox_list(USER)["INBOX"][0], 4)

    def test_fetchmail_delete_stls(self):
        fx = self.fx
        for i in range(2):
            fx.deliver(OTHER, pbtest.make_message("del %d" % i, "delete me %d\n" % i))
        waiting = fx.mailbox_list(OTHER)["INBOX"][0]  # curl's message may be there too
        self.assertGreaterEqual(waiting, 2)
        got, code, out = self.fetchmail("delete", keep=False, tls=True, user=OTHER,
                                        pw=OTHER_PW)
        self.assertEqual(code, 0, out)
        self.assertEqual(len(got), waiting, out)
        self.assertEqual(fx.mailbox_list(OTHER)["INBOX"][0], 0)
        if self.launcher == "socket_activate":  # xinetd: the log is syslog only
            self.assertIn("starttls", fx.log_text())

    # ------------------------------------------------------------------- curl

    def curl(self, *args):
        pbtest.require("curl", "curl")
        r = subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        return r.stdout

    def test_curl_pop3_and_pop3s(self):
        fx = self.fx
        msg = pbtest.make_message("curl", "fetched by curl\r\n.dot line\r\n")
        fx.deliver(OTHER, msg)
        cred = "%s:%s" % (OTHER, OTHER_PW)
        url = "pop3://127.0.0.1:%d/" % self.plain.port
        listing = self.curl("--user", cred, url)
        lines = listing.decode().split("\r\n")
        self.assertTrue(lines[0].startswith("1 "), listing)
        body = self.curl("--user", cred, url + "1")
        self.assertTrue(body.endswith(msg), body)
        self.assertEqual(len(body), int(lines[0].split()[1]))
        # SASL LOGIN, and PLAIN with an initial response
        self.assertEqual(self.curl("--user", cred, "--login-options", "AUTH=LOGIN", url + "1"),
                         body)
        self.assertEqual(self.curl("--user", cred, "--sasl-ir", url + "1"), body)
        # STLS required, verified against the test CA
        resolve = ["--resolve", "localhost:%d:127.0.0.1" % self.plain.port]
        self.assertEqual(self.curl("--user", cred, "--ssl-reqd", "--cacert", fx.ca_pem,
                                   *resolve, "pop3://localhost:%d/1" % self.plain.port), body)
        # implicit TLS
        resolve = ["--resolve", "localhost:%d:127.0.0.1" % self.tls.port]
        self.assertEqual(self.curl("--user", cred, "--cacert", fx.ca_pem, *resolve,
                                   "pop3s://localhost:%d/1" % self.tls.port), body)
        listing_tls = self.curl("--user", cred, "--cacert", fx.ca_pem, *resolve,
                                "pop3s://localhost:%d/" % self.tls.port)
        self.assertEqual(listing_tls, listing)


class ClientsSocketActivate(ClientsMixin, unittest.TestCase):
    launcher = "socket_activate"


if __name__ == "__main__":
    unittest.main(verbosity=2)
