"""Fixtures for Pillarbox integration tests (POP3 now; SMTP and IMAP reuse it).

A Fixture is one throwaway installation:
  - a directory under $top_builddir/tests/integration/ (reachable by the store
    user: when the tests run as root, programs switch to `pillarbox`);
  - a pillarbox.conf, a store made with the real admin CLI (`pillarbox store
    init`, `domain add`, `user add`, `deliver`);
  - a throwaway CA and a server certificate for localhost/127.0.0.1 made with
    certtool (fixture.ca_pem for clients to verify against);
  - handlers launched per connection exactly as in production: under
    `systemd-socket-activate --inetd --accept -l 127.0.0.1:PORT` or a real
    `xinetd -dontfork -f FILE` on a free loopback port;
  - teardown that stops what it started (by pid) and removes the directory.

Usage:
    with pbtest.Fixture("pop3") as fx:
        fx.add_user("bob@example.com", "secret")
        fx.deliver("bob@example.com", pbtest.make_message("hi", "body"))
        svc = fx.socket_activate(fx.program("inetd/pop3d"))
        ... connect to ("127.0.0.1", svc.port) ...

Everything is stdlib Python. A test that lacks a tool exits 77 (SKIP) with a
message naming the Debian package, through pbtest.require().
"""

import contextlib
import email.utils
import grp
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

STORE_USER = "pillarbox"
DOMAIN = "example.com"

_here = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(_here))
TOP_BUILDDIR = os.environ.get("top_builddir") or os.getcwd()

# Environment handed to every program we start: sanitizer settings pass
# through, logs also go to stderr (collected in the fixture's log file).
PASS_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")

SKIP = 77


def require(tool, package):
    """Exit with SKIP (77) if `tool` is not installed."""
    if shutil.which(tool) is None and not os.path.exists(tool):
        print("SKIP: %s not found (apt-get install %s)" % (tool, package))
        sys.exit(SKIP)


def free_port():
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port):
    """True when something listens on 127.0.0.1:port (read from /proc, so the
    check itself starts no handler)."""
    want = ":%04X" % port
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[1].endswith(want) and parts[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def _socket_inodes(pid):
    out = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                out.add(link[8:-1])
    except OSError:
        pass
    return out


def handler_pid(comm, service_port, client_port, timeout=5):
    """The pid of the `comm` process (e.g. "imapd") serving our connection:
    the one holding the socket whose local port is the service's and remote
    port ours. None if there is none within `timeout` seconds."""
    want_local, want_remote = ":%04X" % service_port, ":%04X" % client_port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inode = None
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if p[1].endswith(want_local) and p[2].endswith(want_remote):
                        inode = p[9]
        if inode is not None and inode != "0":
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                pid = int(d)
                try:
                    with open("/proc/%d/comm" % pid) as f:
                        if f.read().strip() != comm:
                            continue
                except OSError:
                    continue
                if inode in _socket_inodes(pid):
                    return pid
        time.sleep(0.01)
    return None


def make_message(subject, body, sender="alice@example.org", to="bob@example.com",
                 extra_headers=()):
    """An RFC 5322 message as bytes, CRLF line ends."""
    lines = [
        "From: <%s>" % sender,
        "To: <%s>" % to,
        "Subject: %s" % subject,
        "Date: %s" % email.utils.formatdate(),
        "Message-ID: <%s.%d@test>" % (subject.replace(" ", "."), time.monotonic_ns()),
    ]
    lines.extend(extra_headers)
    text = "\r\n".join(lines) + "\r\n\r\n" + body
    return text.encode("utf-8")


class Service:
    """A running listener (systemd-socket-activate or xinetd)."""

    def __init__(self, proc, port, kind):
        self.proc = proc
        self.port = port
        self.kind = kind
        self.address = ("127.0.0.1", port)

    def connect(self, timeout=10):
        return socket.create_connection(self.address, timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Fixture:
    """One throwaway installation; see the module documentation."""

    def __init__(self, name, tls=True, config_extra=None):
        self.name = name
        self.root = os.geteuid() == 0
        if self.root:
            try:
                self.uid = pwd.getpwnam(STORE_USER).pw_uid
                self.gid = grp.getgrnam(STORE_USER).gr_gid
            except KeyError:
                print("SKIP: user %s missing (useradd --system --user-group %s)"
                      % (STORE_USER, STORE_USER))
                sys.exit(SKIP)
        base = os.path.join(TOP_BUILDDIR, "tests", "integration")
        os.makedirs(base, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="tmp.%s." % name, dir=base)
        os.chmod(self.dir, 0o755)
        self._own(self.dir)
        self.store = os.path.join(self.dir, "store")
        self.conf = os.path.join(self.dir, "pillarbox.conf")
        self.log = os.path.join(self.dir, "log")
        self.services = []
        self.tls = tls
        self.ca_pem = os.path.join(self.dir, "tls", "ca.pem")
        self.cert_pem = os.path.join(self.dir, "tls", "cert.pem")
        self.key_pem = os.path.join(self.dir, "tls", "key.pem")
        self._log_f = open(self.log, "ab")
        if tls:
            self.make_certificates()
        self.write_config(config_extra or {})
        self.pillarbox("store", "init")
        self.pillarbox("domain", "add", DOMAIN)

    # ---------------------------------------------------------- lifecycle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self, keep=False):
        """Stops the services; removes the directory unless `keep` or
        PBTEST_KEEP=1 in the environment (to read the log after a failure)."""
        keep = keep or os.environ.get("PBTEST_KEEP") == "1"
        for svc in self.services:
            svc.stop()
        self.services = []
        self._log_f.close()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _own(self, path):
        if self.root:
            os.chown(path, self.uid, self.gid)

    def env(self, extra=None):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PILLARBOX_LOG_STDERR": "1"}
        for k in PASS_ENV:
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(extra or {})
        return env

    # --------------------------------------------------------- configuration

    def write_config(self, extra):
        """(Re)writes pillarbox.conf; `extra` adds or overrides keys."""
        keys = {
            "hostname": "mail.example.com",
            "user": STORE_USER,
            "store": self.store,
            "password_cost": "1",      # fast hashes: tests and benchmarks say so
            "idle_timeout": "60",
            # The MX's sender checks ask DNS, which a test has only when it
            # starts its own (test_smtp_mailauth.py turns them on).
            "mail_auth": "off",
        }
        if self.tls:
            keys["tls_cert"] = self.cert_pem
            keys["tls_key"] = self.key_pem
        keys.update(extra)
        with open(self.conf, "w") as f:
            f.write("# written by tests/integration/pbtest.py\n")
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
        os.chmod(self.conf, 0o644)

    def make_certificates(self):
        """A CA and a server certificate (localhost, 127.0.0.1) via certtool.
        The key is readable by the store group only, as in production."""
        require("certtool", "gnutls-bin")
        d = os.path.dirname(self.ca_pem)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        with open(os.path.join(d, "ca.tmpl"), "w") as f:
            f.write("cn = Pillarbox test CA\nca\ncert_signing_key\nexpiration_days = 2\n")
        with open(os.path.join(d, "server.tmpl"), "w") as f:
            f.write("cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\n"
                    "tls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n")
        run = lambda *a: subprocess.run(a, cwd=d, check=True, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        run("certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", "ca.key")
        run("certtool", "--generate-self-signed", "--load-privkey", "ca.key",
            "--template", "ca.tmpl", "--outfile", "ca.pem")
        run("certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", "key.pem")
        run("certtool", "--generate-certificate", "--load-privkey", "key.pem",
            "--load-ca-certificate", "ca.pem", "--load-ca-privkey", "ca.key",
            "--template", "server.tmpl", "--outfile", "cert.pem")
        os.chmod(self.key_pem, 0o640)
        if self.root:
            os.chown(self.key_pem, 0, self.gid)
        os.chmod(self.cert_pem, 0o644)
        os.chmod(self.ca_pem, 0o644)

    def ssl_context(self, verify=True):
        """A client context trusting only the fixture's CA."""
        ctx = ssl.create_default_context(cafile=self.ca_pem)
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    # --------------------------------------------------------------- store

    def program(self, relpath):
        """Absolute path of a built program, e.g. program("inetd/pop3d")."""
        path = os.path.join(TOP_BUILDDIR, relpath)
        if not os.access(path, os.X_OK):
            raise RuntimeError("%s is not built" % path)
        return path

    def pillarbox(self, *args, input=None, check=True):
        """Runs the admin CLI with this fixture's configuration."""
        cmd = [self.program("admin/pillarbox"), "--config", self.conf] + list(args)
        r = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env({"PILLARBOX_LOG_STDERR": "0"}))
        if check and r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode,
                                                   r.stderr.decode(errors="replace")))
        return r

    def add_user(self, address, password):
        self.pillarbox("user", "add", address, input=password.encode() + b"\n")

    def deliver(self, address, message):
        self.pillarbox("deliver", address, input=message)

    def mailbox_list(self, address):
        """{name: (messages, unseen, bytes)} from `pillarbox mailbox list`."""
        out = self.pillarbox("mailbox", "list", address).stdout.decode()
        boxes = {}
        for line in out.splitlines():
            f = line.split("\t")
            if len(f) >= 4:
                boxes[f[0]] = tuple(int(x) for x in f[1:4])
        return boxes

    def log_text(self):
        self._log_f.flush()
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_for(self, predicate, timeout=10):
        """True once predicate() is; False if it is not within timeout
        seconds (a loaded machine: never a fixed sleep before a check)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    # -------------------------------------------------------------- launch

    def _wait_listening(self, proc, port, what):
        deadline = time.monotonic() + 10
        while not _listening(port):
            if proc.poll() is not None:
                raise RuntimeError("%s exited with %d (see %s)" % (what, proc.returncode,
                                                                   self.log))
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("%s did not listen on %d" % (what, port))
            time.sleep(0.02)

    def webmaild(self):
        """pillarbox-webmaild on this store on a free port, stopped by
        close(); its .base is the webmail's path, so tests/web's
        webenv.Client can talk to it (the fixture's config needs
        templates and webmail_base = /webmail)."""
        port = free_port()
        proc = subprocess.Popen([self.program("cgi/pillarbox-webmaild"), "--config", self.conf,
                                 "--listen", "127.0.0.1:%d" % port], stdin=subprocess.DEVNULL,
                                stdout=self._log_f, stderr=self._log_f,
                                env=self.env({"PILLARBOX_AUTH_DELAY_MS": "0"}))
        self._wait_listening(proc, port, "pillarbox-webmaild")
        svc = Service(proc, port, "pillarbox-webmaild")
        svc.base = "/webmail"
        self.services.append(svc)
        return svc

    def socket_activate(self, program, *args, port=None, env=None, config=True):
        """Starts `program --config CONF args` (without --config CONF when
        config is False: a baseline program) per connection under
        systemd-socket-activate --inetd --accept on 127.0.0.1:port
        (--accept: one process per connection; without it the first
        connection would get the listening socket)."""
        require("systemd-socket-activate", "systemd")
        port = port or free_port()
        cmd = ["systemd-socket-activate", "--inetd", "--accept", "-l", "127.0.0.1:%d" % port]
        for k, v in self.env(env).items():
            cmd += ["-E", "%s=%s" % (k, v)]
        cmd += [program] + (["--config", self.conf] if config else []) + list(args)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log_f,
                                stderr=self._log_f)
        self._wait_listening(proc, port, "systemd-socket-activate")
        svc = Service(proc, port, "systemd-socket-activate")
        self.services.append(svc)
        return svc

    def xinetd(self, program, *args, port=None, name="pbtest"):
        """Starts a real xinetd (-dontfork) with one service running
        `program --config CONF args` on 127.0.0.1:port."""
        require("xinetd", "xinetd")
        port = port or free_port()
        conf = os.path.join(self.dir, "xinetd-%d.conf" % port)
        server_args = " ".join(["--config", self.conf] + list(args))
        lines = [
            "defaults", "{", "\tinstances = 100", "\tcps = 1000 1", "}",
            "service %s" % name, "{",
            "\ttype = UNLISTED", "\tflags = IPv4 REUSE", "\tsocket_type = stream",
            "\tprotocol = tcp", "\twait = no", "\tbind = 127.0.0.1",
            "\tport = %d" % port, "\tserver = %s" % program,
            "\tserver_args = %s" % server_args, "\tper_source = UNLIMITED",
            "\tlog_type = FILE %s" % os.path.join(self.dir, "xinetd.log"),
        ]
        if self.root:
            lines.append("\tuser = %s" % STORE_USER)
        # stderr of an xinetd service is the socket: no stderr logging there.
        passenv = [k for k in PASS_ENV if k in os.environ]
        if passenv:
            lines.append("\tpassenv = %s" % " ".join(passenv))
        lines.append("}")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        proc = subprocess.Popen(["xinetd", "-dontfork", "-f", conf, "-pidfile",
                                 os.path.join(self.dir, "xinetd-%d.pid" % port)],
                                stdin=subprocess.DEVNULL, stdout=self._log_f,
                                stderr=self._log_f)
        self._wait_listening(proc, port, "xinetd")
        svc = Service(proc, port, "xinetd")
        self.services.append(svc)
        return svc


@contextlib.contextmanager
def timed(label, out=sys.stdout):
    """Prints how long the block took (for benchmarks and slow tests)."""
    t = time.monotonic()
    yield
    print("%s: %.3f s" % (label, time.monotonic() - t), file=out)
