"""managesieved (RFC 5804) over raw sockets, launched per connection under
systemd-socket-activate (and once through a real xinetd): the greeting and
capabilities, AUTHENTICATE PLAIN and LOGIN (initial response, continuations
as quoted strings and literals, "*"), STARTTLS with the test CA and
plaintext authentication refused before it, every script command with its
response codes, limits and bad input, a delivery filed by the script made
active, and sieve-connect as the real client."""

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402

BOB, BOB_PW = "bob@example.com", "bob's \"secret\""
CAROL, CAROL_PW = "carol@example.com", "carol pw"
DAVE, DAVE_PW = "dave@example.com", "dave pw"
SCRIPT_MAX = 65536

FILE_REPORTS = ('require ["fileinto", "mailbox"];\r\n'
                'if header :contains "subject" "report" {\r\n'
                '  fileinto :create "Reports";\r\n}\r\n')
KEEP = "keep;\r\n"


def b64(raw):
    return base64.b64encode(raw).decode()


def quoted(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lit(data):
    if isinstance(data, str):
        data = data.encode()
    return b"{%d+}\r\n" % len(data) + data


class Raw:
    """A line-level ManageSieve client: responses are read up to their
    OK/NO/BYE line, literals included."""

    def __init__(self, address=None, sock=None, tls_context=None):
        self.sock = sock or socket.create_connection(address, timeout=20)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname="localhost")
        self.f = self.sock.makefile("rb")
        self.greeting, self.greeting_end = self.response()

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        """One logical line: a literal {n} at its end is read into it."""
        got = self.f.readline()
        if not got:
            raise EOFError("connection closed")
        m = re.search(rb"\{(\d+)\}\r\n$", got)
        if m:
            got = got[:m.start()] + b"{}" + self.f.read(int(m.group(1))) + self.line().encode(
                "utf-8", "surrogateescape")
            return got.decode("utf-8", "surrogateescape")
        return got.decode("utf-8", "surrogateescape").rstrip("\r\n")

    def response(self):
        """(data lines, final line)."""
        lines = []
        while True:
            ln = self.line()
            if re.match(r"(OK|NO|BYE)( |$)", ln):
                return lines, ln
            lines.append(ln)

    def cmd(self, text):
        self.send(text.encode() + b"\r\n" if isinstance(text, str) else text + b"\r\n")
        return self.response()

    def ok(self, text):
        lines, end = self.cmd(text)
        assert end.startswith("OK"), (text, end)
        return lines

    def starttls(self, context):
        _, end = self.cmd("STARTTLS")
        assert end.startswith("OK"), end
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")
        self.f = self.sock.makefile("rb")
        return self.response()

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def caps(lines):
    out = {}
    for ln in lines:
        m = re.match(r'"([A-Z0-9-]+)"(?: "(.*)")?$', ln)
        assert m, ln
        out[m.group(1)] = m.group(2)
    return out


def plain(user, pw):
    return b64(b"\0" + user.encode() + b"\0" + pw.encode())


class ManageSieveSuite(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fx = pbtest.Fixture("managesieve")
        for u, p in ((BOB, BOB_PW), (CAROL, CAROL_PW), (DAVE, DAVE_PW)):
            cls.fx.add_user(u, p)
        prog = cls.fx.program("inetd/managesieved")
        cls.plain = cls.fx.socket_activate(prog, env={"PILLARBOX_AUTH_DELAY_MS": "0"})
        cls.tls = cls.fx.socket_activate(prog, "--tls")

    @classmethod
    def tearDownClass(cls):
        log = cls.fx.log_text()
        cls.fx.close()
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert bad not in log, "%s in the handlers' log:\n%s" % (bad, log[-4000:])

    def login(self, user=BOB, pw=BOB_PW, address=None):
        r = Raw(address or self.plain.address)
        self.addCleanup(r.close)
        r.ok('AUTHENTICATE "PLAIN" ' + quoted(plain(user, pw)))
        return r

    # ------------------------------------------------------ greeting, auth

    def test_greeting_and_capability(self):
        r = Raw(self.plain.address)
        self.addCleanup(r.close)
        c = caps(r.greeting)
        self.assertEqual(c["IMPLEMENTATION"], "Pillarbox")
        self.assertEqual(c["SASL"], "PLAIN LOGIN")  # loopback: allowed
        self.assertIn("fileinto", c["SIEVE"].split())
        self.assertIn("STARTTLS", c)
        self.assertEqual(c["VERSION"], "1.0")
        self.assertEqual(c["MAXREDIRECTS"], "4")
        self.assertNotIn("OWNER", c)
        self.assertTrue(r.greeting_end.startswith("OK"))
        self.assertEqual(caps(r.ok("capability")), c)
        # commands that need a login
        for cmd in ("LISTSCRIPTS", 'GETSCRIPT "x"', 'SETACTIVE ""', "UNAUTHENTICATE"):
            self.assertEqual(r.cmd(cmd)[1], 'NO "Authenticate first"')
        self.assertEqual(r.cmd("LOGOUT")[1], 'OK "Logout completed"')
        self.assertRaises(EOFError, r.line)

    def test_auth_plain_initial_response_and_owner(self):
        r = self.login()
        c = caps(r.ok("CAPABILITY"))
        self.assertEqual(c["OWNER"], BOB)
        self.assertEqual(c["SASL"], "")
        self.assertNotIn("STARTTLS", c)
        self.assertEqual(r.cmd('AUTHENTICATE "PLAIN"')[1], 'NO "Already authenticated"')
        r.ok("LOGOUT")
        self.assertTrue(self.fx.wait_for(lambda: "login user=<%s> rip=127.0.0.1 tls=no mech=PLAIN"
                                         % BOB in self.fx.log_text()))

    def test_auth_continuations(self):
        r = Raw(self.plain.address)
        self.addCleanup(r.close)
        # LOGIN: challenges as strings, one answer quoted, one a literal
        r.send('AUTHENTICATE "LOGIN"\r\n')
        self.assertEqual(r.line(), quoted(b64(b"Username:")))
        r.send(quoted(b64(CAROL.encode())) + "\r\n")
        self.assertEqual(r.line(), quoted(b64(b"Password:")))
        _, end = r.cmd(lit(b64(CAROL_PW.encode())))
        self.assertEqual(end, 'OK "Logged in"')
        r.ok("UNAUTHENTICATE")
        # PLAIN without an initial response: an empty challenge; a {n} literal
        r.send('AUTHENTICATE "PLAIN"\r\n')
        self.assertEqual(r.line(), '""')
        data = plain(CAROL, CAROL_PW).encode()
        self.assertTrue(r.cmd(b"{%d}\r\n" % len(data) + data)[1].startswith("OK"))
        self.assertEqual(caps(r.ok("CAPABILITY"))["OWNER"], CAROL)
        r.ok("UNAUTHENTICATE")
        # cancelled with "*", and a malformed response
        r.send('AUTHENTICATE "LOGIN"\r\n')
        r.line()
        self.assertEqual(r.cmd('"*"')[1], 'NO "Authentication cancelled"')
        r.send('AUTHENTICATE "PLAIN"\r\n')
        r.line()
        self.assertEqual(r.cmd("not a string")[1], 'NO "Authentication failed"')
        self.assertEqual(r.cmd('AUTHENTICATE "CRAM-MD5"')[1],
                         'NO "Unsupported authentication mechanism"')
        self.assertEqual(r.cmd('AUTHENTICATE "PLAIN" "@@@"')[1], 'NO "Authentication failed"')

    def test_wrong_password_same_answer(self):
        r = Raw(self.plain.address)
        self.addCleanup(r.close)
        a = r.cmd('AUTHENTICATE "PLAIN" ' + quoted(plain(DAVE, "wrong")))[1]
        b = r.cmd('AUTHENTICATE "PLAIN" ' + quoted(plain("nobody@example.com", "wrong")))[1]
        self.assertEqual(a, 'NO "Authentication failed"')
        self.assertEqual(a, b)
        self.assertTrue(self.fx.wait_for(lambda: "login failed user=<%s> rip=127.0.0.1 tls=no "
                                         "mech=PLAIN" % DAVE in self.fx.log_text()))

    def test_implicit_tls(self):
        r = Raw(self.tls.address, tls_context=self.fx.ssl_context())
        self.addCleanup(r.close)
        c = caps(r.greeting)
        self.assertNotIn("STARTTLS", c)
        self.assertEqual(c["SASL"], "PLAIN LOGIN")
        r.ok('AUTHENTICATE "PLAIN" ' + quoted(plain(BOB, BOB_PW)))
        r.ok("LISTSCRIPTS")

    def test_starttls(self):
        r = Raw(self.plain.address)
        self.addCleanup(r.close)
        # pipelined after STARTTLS in clear: discarded, never read over TLS
        r.send('STARTTLS\r\nAUTHENTICATE "PLAIN" %s\r\n' % quoted(plain(BOB, BOB_PW)))
        self.assertTrue(r.response()[1].startswith("OK"))
        r.sock = self.fx.ssl_context().wrap_socket(r.sock, server_hostname="localhost")
        r.f = r.sock.makefile("rb")
        lines, end = r.response()  # RFC 5804 2.2: capabilities again, then OK
        self.assertEqual(end, 'OK "TLS negotiation successful"')
        self.assertNotIn("STARTTLS", caps(lines))
        self.assertEqual(r.cmd("LISTSCRIPTS")[1], 'NO "Authenticate first"')
        self.assertEqual(r.cmd("STARTTLS")[1], 'NO "TLS is already active"')
        r.ok('AUTHENTICATE "PLAIN" ' + quoted(plain(BOB, BOB_PW)))

    # ------------------------------------------------------ script commands

    def test_script_commands(self):
        r = self.login(CAROL, CAROL_PW)
        self.assertEqual(r.ok("LISTSCRIPTS"), [])
        r.ok('HAVESPACE "rules" 100')
        self.assertEqual(r.cmd('HAVESPACE "rules" %d' % (SCRIPT_MAX + 1))[1][:19],
                         "NO (QUOTA/MAXSIZE) ")
        self.assertEqual(r.cmd('HAVESPACE "rules" -1')[1], 'NO "Bad number"')
        # {n+} and {n}, and a name with escapes and UTF-8
        r.ok(b'PUTSCRIPT "rules" ' + lit(FILE_REPORTS))
        data = KEEP.encode()
        r.ok(b'PUTSCRIPT "a \\"b\\" \xc3\xa9t\xc3\xa9" {%d}\r\n' % len(data) + data)
        _, end = r.cmd(b'PUTSCRIPT "bad" ' + lit('require "fileinto";\r\nfileinto;\r\n'))
        self.assertRegex(end, r'^NO "line 2: ')
        self.assertRegex(r.cmd(b'CHECKSCRIPT ' + lit("frobnicate;\r\n"))[1], r'^NO "line 1: ')
        r.ok(b"CHECKSCRIPT " + lit(FILE_REPORTS))
        self.assertEqual(r.cmd('PUTSCRIPT "x\x01y" "keep;"')[1][:27], 'NO "Invalid script name: 1 ')
        self.assertEqual(r.cmd('PUTSCRIPT "%s" "keep;"' % ("n" * 129))[1][:25],
                         'NO "Invalid script name: ')
        for bad in (b"a\xe2\x80\xa8b", b"\xc2\x85", b"\xff", b"a\x7fb"):  # RFC 5804 1.6
            self.assertEqual(r.cmd(b'PUTSCRIPT "' + bad + b'" "keep;"')[1][:25],
                             'NO "Invalid script name: ')
        r.ok('PUTSCRIPT "%s" "keep;"' % ("n" * 128))
        self.assertEqual(sorted(r.ok("LISTSCRIPTS")),
                         sorted(['"rules"', '"a \\"b\\" été"', '"%s"' % ("n" * 128)]))
        # GETSCRIPT: a literal, byte for byte
        lines = r.ok('GETSCRIPT "rules"')
        self.assertEqual(lines, ["{}" + FILE_REPORTS])
        self.assertEqual(r.cmd('GETSCRIPT "none"')[1][:16], "NO (NONEXISTENT)")
        # SETACTIVE, ACTIVE in the list, DELETESCRIPT of the active one
        self.assertEqual(r.cmd('SETACTIVE "none"')[1][:16], "NO (NONEXISTENT)")
        r.ok('SETACTIVE "rules"')
        self.assertIn('"rules" ACTIVE', r.ok("LISTSCRIPTS"))
        self.assertEqual(r.cmd('DELETESCRIPT "rules"')[1][:11], "NO (ACTIVE)")
        self.assertEqual(r.cmd('DELETESCRIPT "none"')[1][:16], "NO (NONEXISTENT)")
        # RENAMESCRIPT: the active one stays active
        self.assertEqual(r.cmd('RENAMESCRIPT "rules" "%s"' % ("n" * 128))[1][:18],
                         "NO (ALREADYEXISTS)")
        self.assertEqual(r.cmd('RENAMESCRIPT "none" "other"')[1][:16], "NO (NONEXISTENT)")
        r.ok('RENAMESCRIPT "rules" "filters"')
        self.assertIn('"filters" ACTIVE', r.ok("LISTSCRIPTS"))
        r.ok('SETACTIVE ""')
        self.assertNotIn("ACTIVE", " ".join(r.ok("LISTSCRIPTS")))
        r.ok('DELETESCRIPT "filters"')
        r.ok('DELETESCRIPT "%s"' % ("n" * 128))
        self.assertEqual(r.ok("LISTSCRIPTS"), ['"a \\"b\\" été"'])
        # NOOP with its tag, UNAUTHENTICATE, LOGOUT
        self.assertEqual(r.cmd('NOOP "tag \\"7\\""')[1], 'OK (TAG "tag \\"7\\"") "Done"')
        self.assertEqual(r.cmd("NOOP")[1], 'OK "Done"')
        r.ok("UNAUTHENTICATE")
        self.assertEqual(r.cmd("LISTSCRIPTS")[1], 'NO "Authenticate first"')
        r.ok("LOGOUT")
        self.assertRaises(EOFError, r.line)
        self.assertTrue(self.fx.wait_for(lambda: re.search(
            r"logout user=<%s> rip=127\.0\.0\.1 reason=unauthenticate put=3 get=1 del=2 "
            % CAROL, self.fx.log_text())))

    def test_max_scripts_and_size(self):
        r = self.login(DAVE, DAVE_PW)
        for i in range(16):
            r.ok('PUTSCRIPT "s%d" "keep;"' % i)
        self.assertEqual(r.cmd('PUTSCRIPT "s16" "keep;"')[1][:22], "NO (QUOTA/MAXSCRIPTS) ")
        self.assertEqual(r.cmd('HAVESPACE "s16" 10')[1][:22], "NO (QUOTA/MAXSCRIPTS) ")
        r.ok('HAVESPACE "s3" 10')  # a replacement fits
        r.ok('PUTSCRIPT "s3" "discard;"')
        for i in range(16):
            r.ok('DELETESCRIPT "s%d"' % i)
        # a script of exactly the limit, then one octet over: refused
        # unread, and the connection closed (the client sends it anyway)
        big = "#" + "x" * (SCRIPT_MAX - 3) + "\r\n"
        r.ok(b'PUTSCRIPT "big" ' + lit(big))
        self.assertEqual(len(r.ok('GETSCRIPT "big"')[0]), SCRIPT_MAX + 2)
        r.send('PUTSCRIPT "big" {%d+}\r\n' % (SCRIPT_MAX + 1))
        self.assertEqual(r.response()[1][:20], "BYE (QUOTA/MAXSIZE) ")
        self.assertRaises((EOFError, OSError), r.line)

    def test_delivery_filed_by_active_script(self):
        r = self.login()
        r.ok(b'PUTSCRIPT "mine" ' + lit(FILE_REPORTS))
        r.ok('SETACTIVE "mine"')
        r.ok("LOGOUT")
        self.fx.deliver(BOB, pbtest.make_message("weekly report", "numbers\r\n"))
        self.fx.deliver(BOB, pbtest.make_message("hello", "hi\r\n"))
        boxes = self.fx.mailbox_list(BOB)
        self.assertEqual(boxes["Reports"][0], 1)
        self.assertEqual(boxes["INBOX"][0], 1)

    # ------------------------------------------------------------ bad input

    def test_bad_input(self):
        r = Raw(self.plain.address)
        self.addCleanup(r.close)
        self.assertEqual(r.cmd(b"NOOP " + b"A" * 100000)[1], 'NO "Line too long"')
        self.assertEqual(r.cmd("FROB")[1], 'NO "Unknown command"')
        self.assertEqual(r.cmd(b"NO\0OP")[1], 'NO "Unknown command"')
        self.assertEqual(r.cmd(b'NOOP "a\0b"')[1], 'NO "NUL, CR or LF in quoted string"')
        self.assertEqual(r.cmd("NOOP x")[1], 'NO "Strings must be quoted or literals"')
        self.assertEqual(r.cmd('NOOP "unterminated')[1], 'NO "Unterminated quoted string"')
        self.assertEqual(r.cmd('NOOP "a" "b"')[1], 'NO "Too many arguments"')
        self.assertEqual(r.cmd('NOOP "%s"' % ("q" * 1025))[1], 'NO "Quoted string too long"')
        r.send(b"NOOP\n")
        self.assertEqual(r.response()[1], 'NO "Lines end with CRLF"')
        # in step after all that
        self.assertEqual(r.cmd('NOOP "still"')[1], 'OK (TAG "still") "Done"')
        # too many bad commands: BYE
        for _ in range(20):
            end = r.cmd("FROB")[1]
            if end.startswith("BYE"):
                break
        self.assertEqual(end, 'BYE "Too many bad commands, closing connection"')
        self.assertRaises(EOFError, r.line)

    def test_huge_literal_closes(self):
        for cmd in ('NOOP {4294967296+}', 'AUTHENTICATE "PLAIN" {99999999}',
                    'NOOP "a" "b" "c" {5+}'):
            r = Raw(self.plain.address)
            self.addCleanup(r.close)
            end = r.cmd(cmd)[1]
            self.assertTrue(end.startswith("BYE"), (cmd, end))
            self.assertRaises((EOFError, OSError), r.line)

    def test_shutdown(self):
        """A service stop (SIGTERM to the handler): BYE (TRYLATER), closed."""
        r = self.login(DAVE, DAVE_PW)
        pid = pbtest.handler_pid("managesieved", self.plain.port, r.sock.getsockname()[1])
        self.assertIsNotNone(pid)
        os.kill(pid, signal.SIGTERM)
        self.assertEqual(r.line(), 'BYE (TRYLATER) "Server shutting down"')
        self.assertRaises(EOFError, r.line)

    def test_xinetd(self):
        if shutil.which("xinetd") is None:
            self.skipTest("SKIP: xinetd not installed")
        svc = self.fx.xinetd(self.fx.program("inetd/managesieved"))
        r = self.login(CAROL, CAROL_PW, address=svc.address)
        r.ok("LISTSCRIPTS")
        r.ok("LOGOUT")

    # ----------------------------------------------------- the real client

    def test_sieve_connect(self):
        tool = shutil.which("sieve-connect")
        if tool is None:
            print("SKIP: sieve-connect not found (apt-get install sieve-connect)")
            self.skipTest("sieve-connect not installed")
        work = tempfile.mkdtemp(dir=self.fx.dir)
        local = os.path.join(work, "rules.sieve")
        with open(local, "w") as f:
            f.write(FILE_REPORTS)

        def run(*args, remote="client"):
            rfd, wfd = os.pipe()
            os.write(wfd, CAROL_PW.encode() + b"\n")
            os.close(wfd)
            cmd = [tool, "--server", "localhost", "--port", str(self.plain.port),
                   "--user", CAROL, "--passwordfd", str(rfd), "--tlscafile", self.fx.ca_pem,
                   "--noclearauth", "--authmech", "PLAIN"]
            # --deactivate acts on the active script and takes no name (nor
            # a local file, which would name it)
            if remote:
                cmd += ["--localsieve", local, "--remotesieve", remote]
            cmd += list(args)
            p = subprocess.run(cmd, pass_fds=(rfd,), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60, cwd=work)
            os.close(rfd)
            out = p.stdout.decode(errors="replace")
            self.assertEqual(p.returncode, 0, "%s: %s" % (args, out))
            return out

        run("--upload")
        self.assertIn("client", run("--list"))
        run("--activate")
        self.assertIn('"client" ACTIVE', self.listing(CAROL, CAROL_PW))
        os.unlink(local)
        run("--download")
        with open(local) as f:
            self.assertEqual(f.read().replace("\r\n", "\n"), FILE_REPORTS.replace("\r\n", "\n"))
        run("--deactivate", remote=None)
        # (other tests leave their own scripts with this user)
        listing = self.listing(CAROL, CAROL_PW)
        self.assertIn('"client"', listing)
        self.assertFalse([x for x in listing if x.endswith(" ACTIVE")], listing)
        run("--delete")
        self.assertFalse([x for x in self.listing(CAROL, CAROL_PW) if x.startswith('"client"')])
        self.assertIn("starttls rip=127.0.0.1", self.fx.log_text())

    def listing(self, user, pw):
        r = self.login(user, pw)
        lines = r.ok("LISTSCRIPTS")
        r.ok("LOGOUT")
        return lines


class OwnFixtures(unittest.TestCase):
    """Fixtures of their own: a client that is not on loopback (a socket
    pair), a short login time limit, and failed logins that throttle the
    client's address."""

    def session(self, fx):
        ours, theirs = socket.socketpair()
        proc = subprocess.Popen([fx.program("inetd/managesieved"), "--config", fx.conf],
                                stdin=theirs, stdout=theirs, stderr=subprocess.DEVNULL,
                                env=fx.env({"PILLARBOX_LOG_STDERR": "0"}))
        theirs.close()
        ours.settimeout(20)
        return proc, ours

    def test_refused_before_tls(self):
        with pbtest.Fixture("managesieve-plaintext") as fx:
            fx.add_user(CAROL, CAROL_PW)
            proc, sock = self.session(fx)
            r = Raw(sock=sock)
            c = caps(r.greeting)
            self.assertEqual(c["SASL"], "")
            self.assertIn("STARTTLS", c)
            self.assertEqual(r.cmd('AUTHENTICATE "PLAIN" ' + quoted(plain(CAROL, CAROL_PW)))[1]
                             [:20], "NO (ENCRYPT-NEEDED) ")
            lines, end = r.starttls(fx.ssl_context())
            self.assertEqual(caps(lines)["SASL"], "PLAIN LOGIN")
            r.ok('AUTHENTICATE "PLAIN" ' + quoted(plain(CAROL, CAROL_PW)))
            r.ok("LOGOUT")
            r.close()
            self.assertEqual(proc.wait(timeout=20), 0)

    def test_login_time_limit(self):
        """A busy client that does not log in is cut off at login_timeout;
        after a login the limit is gone."""
        with pbtest.Fixture("managesieve-limit", config_extra={"login_timeout": "2"}) as fx:
            fx.add_user(CAROL, CAROL_PW)
            svc = fx.socket_activate(fx.program("inetd/managesieved"))
            r = Raw(svc.address)
            end = ""
            t0 = time.monotonic()
            while time.monotonic() - t0 < 10 and not end.startswith("BYE"):
                end = r.cmd("NOOP")[1]
                time.sleep(0.2)
            self.assertEqual(end, 'BYE "Login time limit reached"')
            self.assertLess(time.monotonic() - t0, 5)
            r.close()
            r = Raw(svc.address)
            r.ok('AUTHENTICATE "PLAIN" ' + quoted(plain(CAROL, CAROL_PW)))
            time.sleep(2.5)
            r.ok("NOOP")
            r.close()

    def test_throttled(self):
        with pbtest.Fixture("managesieve-throttle") as fx:
            fx.add_user(CAROL, CAROL_PW)
            svc = fx.socket_activate(fx.program("inetd/managesieved"),
                                     env={"PILLARBOX_AUTH_DELAY_MS": "0"})
            answers = []
            while len(answers) < 30:
                r = Raw(svc.address)
                try:
                    for _ in range(5):
                        answers.append(r.cmd('AUTHENTICATE "PLAIN" ' +
                                             quoted(plain(CAROL, "wrong")))[1])
                    r.line()  # BYE after five failures
                except (EOFError, OSError):
                    pass
                r.close()
            self.assertIn('NO "Authentication failed"', answers)
            self.assertIn('NO (TRYLATER) "Too many failed logins, try again later"', answers)
            r = Raw(svc.address)
            end = r.cmd('AUTHENTICATE "PLAIN" ' + quoted(plain(CAROL, CAROL_PW)))[1]
            self.assertTrue(end.startswith("NO (TRYLATER)"), end)
            r.close()
            self.assertIn("login throttled user=<%s> rip=127.0.0.1 tls=no mech=PLAIN" % CAROL,
                          fx.log_text())


if __name__ == "__main__":
    pbtest.require("systemd-socket-activate", "systemd")
    unittest.main(verbosity=2)
