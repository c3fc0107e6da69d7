"""A certificate per host name (SNI, tls_cert_dir): imapd with implicit TLS,
pop3d with STLS and smtpd with STARTTLS each present the certificate of the
name the client asked for (certbot's layout NAME/fullchain.pem and
NAME/privkey.pem, any case, a _wildcard.PARENT directory for *.PARENT), and
the default one (tls_cert) for no name, an unknown name, a name that is not
a host name (hostile: "..", "/", long, odd bytes) and a name whose key the
store user cannot read (logged, the handshake still succeeds). A
certificate renewed on disk is presented by the next connection."""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402

DEFAULT_CN = "localhost"   # pbtest's tls_cert


def read_reply(f):
    """One reply's last line (SMTP continuation lines skipped)."""
    line = f.readline()
    while line[3:4] == b"-":
        line = f.readline()
    return line


def tls_imap(sock, wrap):
    t = wrap(sock)
    f = t.makefile("rb")
    assert f.readline().startswith(b"* OK")
    t.sendall(b"a LOGOUT\r\n")
    assert f.readline().startswith(b"* BYE")
    return t


def tls_pop3(sock, wrap):
    f = sock.makefile("rb")
    assert f.readline().startswith(b"+OK")
    sock.sendall(b"STLS\r\n")
    assert f.readline().startswith(b"+OK")
    t = wrap(sock)
    t.sendall(b"CAPA\r\n")
    assert t.makefile("rb").readline().startswith(b"+OK")
    return t


def tls_smtp(sock, wrap):
    f = sock.makefile("rb")
    assert read_reply(f).startswith(b"220 ")
    sock.sendall(b"EHLO client.example\r\n")
    assert read_reply(f).startswith(b"250 ")
    sock.sendall(b"STARTTLS\r\n")
    assert read_reply(f).startswith(b"220 ")
    t = wrap(sock)
    t.sendall(b"EHLO client.example\r\n")
    assert read_reply(t.makefile("rb")).startswith(b"250 ")
    return t


class Sni(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("sni")
        cls.tls = os.path.dirname(cls.fx.ca_pem)
        cls.certs = os.path.join(cls.fx.dir, "certs")
        os.mkdir(cls.certs)
        os.chmod(cls.certs, 0o755)
        cls.make("mail.one.example", "mail.one.example")
        cls.make("mail.two.example", "mail.two.example")
        cls.make("_wildcard.three.example", "*.three.example")
        # the store user cannot read this key: the default is presented
        cls.make("mail.locked.example", "mail.locked.example", key_mode=0o600)
        # a certificate without its key
        cls.make("mail.nokey.example", "mail.nokey.example")
        os.unlink(os.path.join(cls.certs, "mail.nokey.example", "privkey.pem"))
        cls.fx.write_config({"tls_cert_dir": cls.certs})
        cls.services = {
            "imapd": cls.fx.socket_activate(cls.fx.program("inetd/imapd"), "--tls"),
            "pop3d": cls.fx.socket_activate(cls.fx.program("inetd/pop3d")),
            "smtpd": cls.fx.socket_activate(cls.fx.program("inetd/smtpd"),
                                            "--mode=submission"),
        }
        cls.drive = {"imapd": tls_imap, "pop3d": tls_pop3, "smtpd": tls_smtp}

    @classmethod
    def tearDownClass(cls):
        cls.fx.close()

    @classmethod
    def make(cls, dir_name, dns_name, cn=None, key_mode=0o640):
        """NAME/{fullchain.pem,privkey.pem} signed by the fixture's CA."""
        d = os.path.join(cls.certs, dir_name)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        tmpl = os.path.join(d, "tmpl")
        with open(tmpl, "w") as f:
            f.write('cn = "%s"\ndns_name = "%s"\ntls_www_server\nsigning_key\n'
                    'encryption_key\nexpiration_days = 2\n' % (cn or dns_name, dns_name))
        key = os.path.join(d, "privkey.pem")
        run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        run("certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", key)
        run("certtool", "--generate-certificate", "--load-privkey", key,
            "--load-ca-certificate", cls.fx.ca_pem,
            "--load-ca-privkey", os.path.join(cls.tls, "ca.key"),
            "--template", tmpl, "--outfile", os.path.join(d, "fullchain.pem.new"))
        os.rename(os.path.join(d, "fullchain.pem.new"), os.path.join(d, "fullchain.pem"))
        os.unlink(tmpl)
        os.chmod(os.path.join(d, "fullchain.pem"), 0o644)
        os.chmod(key, key_mode)
        if cls.fx.root:
            os.chown(key, 0, cls.fx.gid if key_mode & 0o040 else 0)

    def context(self, check_hostname=False):
        """Verifies the chain against the test CA (so the certificate's
        fields are readable); the name is checked only when asked."""
        ctx = ssl.create_default_context(cafile=self.fx.ca_pem)
        ctx.check_hostname = check_hostname
        return ctx

    def presented(self, program, name, check_hostname=False):
        """(commonName, [dNSName...]) of what `program` presents to a client
        sending `name` as SNI (None: no SNI)."""
        ctx = self.context(check_hostname)
        svc = self.services[program]
        with socket.create_connection(svc.address, timeout=10) as s:
            t = self.drive[program](s, lambda sock: ctx.wrap_socket(sock,
                                                                   server_hostname=name))
            cert = t.getpeercert()
            t.close()
        cn = dict(x[0] for x in cert["subject"])["commonName"]
        return cn, [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]

    def each(self, name, cn, check_hostname=False):
        for program in self.services:
            with self.subTest(program=program, name=name):
                try:
                    got = self.presented(program, name, check_hostname)
                except (OSError, AssertionError) as e:
                    self.fail("%s, SNI %r: %r\n%s" % (program, name, e,
                                                      self.fx.log_text()[-3000:]))
                self.assertEqual(got[0], cn, "%s, SNI %r" % (program, name))

    def test_names(self):
        # a real client: it checks the name against the certificate
        self.each("mail.one.example", "mail.one.example", check_hostname=True)
        self.each("mail.two.example", "mail.two.example", check_hostname=True)
        self.each("MAIL.Two.EXAMPLE", "mail.two.example")
        self.assertEqual(self.presented("pop3d", "mail.one.example")[1], ["mail.one.example"])
        log = self.fx.log_text()
        self.assertIn("cert=mail.one.example", log)    # implicit TLS and STARTTLS lines

    def test_wildcard(self):
        self.each("imap.three.example", "*.three.example", check_hostname=True)
        self.each("three.example", DEFAULT_CN)             # * is one label, not none
        self.each("a.b.three.example", DEFAULT_CN)         # nor two

    def test_default(self):
        self.each(None, DEFAULT_CN)
        self.each("unknown.example", DEFAULT_CN)
        self.each("localhost", DEFAULT_CN, check_hostname=True)

    def test_hostile(self):
        """Names our check refuses; Python sends each (it refuses a leading
        dot, an empty name and more than 255 bytes itself). GnuTLS refuses
        some of them before our code sees them (see hostile_gnutls)."""
        for name in [b"a..b", b"mail.one.example.", b"..mail.one.example"[2:] + b"..",
                     b"-mail.one.example", b"mail-.one.example",
                     b"a" * 64 + b".one.example",
                     b"b." * 126 + b"b",                         # 253: a host name, unknown
                     b"b." * 127 + b"b"]:                        # 255: too long
            self.each(name, DEFAULT_CN)

    def test_hostile_gnutls(self):
        """Bytes that are not letters, digits, '-' or '.': GnuTLS itself
        ends the handshake (an illegal_parameter alert) before any hook
        runs; whatever happens, the handler must not present a per-name
        certificate nor crash, and a later connection works."""
        for name in [b"x/../mail.one.example", b"mail.one.example/", b"mail\x7fone.example",
                     b"mail one.example", b"mail.one.example%00",
                     b"_wildcard.three.example"]:                # only we make that name
            for program in self.services:
                with self.subTest(program=program, name=name):
                    try:
                        cn = self.presented(program, name)[0]
                    except ssl.SSLError:
                        continue
                    self.assertEqual(cn, DEFAULT_CN)
        self.each("mail.one.example", "mail.one.example")

    def test_unreadable_key(self):
        if not self.fx.root:
            self.skipTest("needs root: the key must be unreadable by the handler's user")
        self.each("mail.locked.example", DEFAULT_CN)
        self.assertTrue(self.fx.wait_for(
            lambda: "TLS certificate for mail.locked.example: TLS key " in self.fx.log_text()))
        self.assertIn("Permission denied", self.fx.log_text())

    def test_missing_key(self):
        self.each("mail.nokey.example", DEFAULT_CN)
        self.assertTrue(self.fx.wait_for(
            lambda: "TLS certificate for mail.nokey.example: TLS key " in self.fx.log_text()))

    def test_fifo(self):
        """A FIFO where a certificate should be (a name's directory made by
        hand, a mistake or a local user's trick) must not hold the handshake
        until the watchdog: it is not a regular file, the default is used."""
        for name in ("mail.fifo.example", "mail.fifokey.example"):
            self.make(name, name)
        os.unlink(os.path.join(self.certs, "mail.fifo.example", "fullchain.pem"))
        os.mkfifo(os.path.join(self.certs, "mail.fifo.example", "fullchain.pem"), 0o644)
        os.unlink(os.path.join(self.certs, "mail.fifokey.example", "privkey.pem"))
        os.mkfifo(os.path.join(self.certs, "mail.fifokey.example", "privkey.pem"), 0o644)
        try:
            self.each("mail.fifo.example", DEFAULT_CN)
            self.each("mail.fifokey.example", DEFAULT_CN)
        finally:
            shutil.rmtree(os.path.join(self.certs, "mail.fifo.example"))
            shutil.rmtree(os.path.join(self.certs, "mail.fifokey.example"))

    def test_renewed(self):
        """No reload: each connection reads the files afresh."""
        self.make("mail.renew.example", "mail.renew.example")
        self.each("mail.renew.example", "mail.renew.example")
        self.make("mail.renew.example", "mail.renew.example", cn="renewed")
        self.each("mail.renew.example", "renewed")
        shutil.rmtree(os.path.join(self.certs, "mail.renew.example"))
        self.each("mail.renew.example", DEFAULT_CN)


if __name__ == "__main__":
    unittest.main(verbosity=2)
