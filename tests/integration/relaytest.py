"""Relay additions to pbtest (which stays the shared fixture).

  - Instance: a Pillarbox installation for one set of domains, with its own
    store, certificate (also valid for its MX names and loopback address),
    a loopback address of its own (127.0.0.2, 127.0.0.3, ...: all of 127/8
    is loopback on Linux) and smtpd listening there;
  - Dns: a real dnsmasq (Debian dnsmasq-base) on a free loopback port,
    serving the test domains' MX/A records from a generated configuration
    (never a system service: started and stopped by the test);
  - FakeSmtp: a scripted SMTP server for what a real one does not do
    (451 on purpose, garbage, stalls, 1 MB lines), recording what it got.

MX records carry no port, so every MX host listens on the same port: the
relay's `smtp_port` key (default 25) points at it. Each instance has its
own loopback address, so one port serves them all.

Usage:
    with relaytest.Dns(records) as dns, relaytest.Instance("com", ...) as com:
        ...
"""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402

SKIP = pbtest.SKIP


def _sock(host):
    return socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)


def free_port_on(host):
    with _sock(host) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def common_port(hosts):
    """A port that is free on every host in `hosts` (the MX port)."""
    for _ in range(50):
        port = free_port_on(hosts[0])
        ok = True
        for h in hosts[1:]:
            try:
                with _sock(h) as s:
                    s.bind((h, port))
            except OSError:
                ok = False
                break
        if ok:
            return port
    raise RuntimeError("no common free port")


class Dns:
    """dnsmasq on 127.0.0.1:port. `records` are dnsmasq option lines
    (mx-host=, host-record=, dns-rr=); the zones listed in `zones` are
    answered locally only (unknown names: NXDOMAIN)."""

    def __init__(self, dir, records, zones):
        pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
        self.port = pbtest.free_port()
        self.conf = os.path.join(dir, "dnsmasq.conf")
        lines = ["port=%d" % self.port, "listen-address=127.0.0.1", "bind-interfaces",
                 "no-resolv", "no-hosts", "no-poll", "pid-file=", "log-queries",
                 "log-facility=-"]
        if os.geteuid() == 0:
            lines.append("user=%s" % pbtest.STORE_USER)
        lines += ["local=/%s/" % z for z in zones]
        lines += list(records)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log = open(os.path.join(dir, "dnsmasq.log"), "ab")
        self.proc = subprocess.Popen(["/usr/sbin/dnsmasq", "--keep-in-foreground",
                                      "--conf-file=" + self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq exited with %d" % self.proc.returncode)
            if time.monotonic() > deadline:
                raise RuntimeError("dnsmasq does not answer")
            time.sleep(0.05)
        self.address = "127.0.0.1:%d" % self.port

    def _answers(self):
        """True when a query for the root NS gets any answer."""
        q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(q, ("127.0.0.1", self.port))
                return len(s.recv(512)) >= 12
            except OSError:
                return False

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Instance(pbtest.Fixture):
    """One Pillarbox installation for `domains`, reachable at `host`."""

    def __init__(self, name, domains, host, hostname, config_extra=None, alt_names=()):
        self.host = host
        self.hostname = hostname
        self.alt_names = [hostname] + list(alt_names)
        self.extra = dict(config_extra or {})
        self.extra.setdefault("hostname", hostname)
        super().__init__(name, tls=True, config_extra=self.extra)
        for d in domains:
            if d != pbtest.DOMAIN:
                self.pillarbox("domain", "add", d)
        if pbtest.DOMAIN not in domains:
            self.pillarbox("domain", "del", pbtest.DOMAIN)

    def make_certificates(self):
        # pbtest's certificate names localhost and 127.0.0.1; this one also
        # the instance's own names and address (for tls_policy verify).
        super().make_certificates()
        d = os.path.dirname(self.ca_pem)
        names = "".join("dns_name = %s\n" % n for n in getattr(self, "alt_names", []))
        with open(os.path.join(d, "server.tmpl"), "w") as f:
            f.write("cn = localhost\ndns_name = localhost\n%sip_address = 127.0.0.1\n"
                    "ip_address = %s\ntls_www_server\nsigning_key\nencryption_key\n"
                    "expiration_days = 2\n" % (names, self.host))
        subprocess.run(["certtool", "--generate-certificate", "--load-privkey", "key.pem",
                        "--load-ca-certificate", "ca.pem", "--load-ca-privkey", "ca.key",
                        "--template", "server.tmpl", "--outfile", "cert.pem"],
                       cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(self.cert_pem, 0o644)

    def reconfigure(self, **extra):
        """Rewrites pillarbox.conf with more keys (None removes one)."""
        for k, v in extra.items():
            if v is None:
                self.extra.pop(k, None)
            else:
                self.extra[k] = v
        self.write_config(self.extra)

    def listen(self, mode, port, *args, relay=True, host=None):
        """smtpd --mode=MODE on host:port per connection (systemd-socket-
        activate); with `relay` smtpd starts the real relay after queueing.
        `host` overrides the instance's address (e.g. "::1")."""
        pbtest.require("systemd-socket-activate", "systemd")
        host = host or self.host
        prog = self.program("inetd/smtpd")
        relay_arg = self.program("inetd/relay") if relay else ""
        cmd = ["systemd-socket-activate", "--inetd", "--accept", "-l",
               ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)]
        for k, v in self.env().items():
            cmd += ["-E", "%s=%s" % (k, v)]
        cmd += [prog, "--config", self.conf, "--mode=" + mode, "--relay=" + relay_arg]
        cmd += list(args)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log_f,
                                stderr=self._log_f)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("smtpd on %s:%d did not start" % (host, port))
                time.sleep(0.05)
        svc = pbtest.Service(proc, port, "systemd-socket-activate")
        svc.address = (host, port)
        self.services.append(svc)
        return svc

    # ------------------------------------------------------------ relay

    def relay(self, *args, timeout=60, env=None):
        """Runs the relay to its end; returns (exit code, seconds taken).
        `env`: more environment (e.g. FakeClock.env())."""
        t = time.monotonic()
        r = subprocess.run([self.program("inetd/relay"), "--config", self.conf] + list(args),
                           stdin=subprocess.DEVNULL, stdout=self._log_f, stderr=self._log_f,
                           env=self.env(env), timeout=timeout)
        return r.returncode, time.monotonic() - t

    def relay_start(self, *args, env=None):
        return subprocess.Popen([self.program("inetd/relay"), "--config", self.conf] +
                                list(args), stdin=subprocess.DEVNULL, stdout=self._log_f,
                                stderr=self._log_f, env=self.env(env))

    def queue(self):
        """[{id, created, size, attempts, next, state, sender, rcpts, error}]"""
        out = self.pillarbox("queue", "list").stdout.decode()
        keys = ("id", "created", "size", "attempts", "next", "state", "sender", "rcpts",
                "error")
        return [dict(zip(keys, line.split("\t"))) for line in out.splitlines()]

    def queue_show(self, qid):
        return self.pillarbox("queue", "show", qid).stdout.decode()

    def wait_queue_empty(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.queue():
                return True
            time.sleep(0.1)
        return not self.queue()

    # ------------------------------------------------------------ store

    def peek(self, *args):
        cmd = [self.program("tests/integration/smtp_peek"), self.conf] + list(args)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env({"PILLARBOX_LOG_STDERR": "0"}))
        if r.returncode != 0:
            raise RuntimeError("smtp_peek %s: %s" % (" ".join(args), r.stderr.decode()))
        return r.stdout

    def inbox(self, address):
        """[raw bytes] of the INBOX, in UID order."""
        data = self.peek("dump", address)
        msgs, pos = [], 0
        while pos < len(data):
            nl = data.index(b"\n", pos)
            _uid, size = (int(x) for x in data[pos:nl].split())
            start = nl + 1
            msgs.append(data[start:start + size])
            pos = start + size + 1
        return msgs

    def wait_inbox(self, address, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msgs = self.inbox(address)
            if len(msgs) >= count:
                return msgs
            time.sleep(0.1)
        return self.inbox(address)


def submit(instance, svc, sender, password, rcpts, message, mail_options=()):
    """Sends `message` through a submission smtpd (AUTH on loopback)."""
    import smtplib
    with smtplib.SMTP(svc.address[0], svc.address[1], timeout=30) as s:
        s.ehlo("client.test")
        s.starttls(context=instance.ssl_context(verify=False))
        s.ehlo("client.test")
        s.login(sender, password)
        refused = s.sendmail(sender, rcpts, message, mail_options=list(mail_options))
    return refused


def check(cond, what):
    """One assertion of a relay test, printed when it holds."""
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


class Sender:
    """The sending side of a test against scripted MX hosts: dnsmasq serving
    `records` (zone "test"), an example.com instance at 127.0.0.2 with
    bob@example.com (password "pw") whose relay reaches MX hosts on `port`,
    and a submission smtpd that only queues (the test runs the relay). A
    `with` block closes it and the FakeSmtp servers made by fake(); on an
    error the instance's log goes to stderr first."""

    BOB = "bob@example.com"

    def __init__(self, name, records, port, **config):
        base = os.path.join(pbtest.TOP_BUILDDIR, "tests", "integration")
        os.makedirs(base, exist_ok=True)
        self.fakes, self.com = [], None
        self.dns_dir = tempfile.mkdtemp(prefix="tmp.%s-dns." % name, dir=base)
        self.dns = Dns(self.dns_dir, records, zones=["test"])
        try:
            extra = {"resolver": self.dns.address, "smtp_port": str(port),
                     "relay_timeout": "5"}
            extra.update(config)
            self.com = Instance(name, ["example.com"], "127.0.0.2", "mail.example.com",
                                config_extra=extra)
            self.com.add_user(self.BOB, "pw")
            self.sub = self.com.listen("submission", free_port_on("127.0.0.2"), relay=False)
        except BaseException:
            self.close()
            raise

    def fake(self, host, port, script):
        f = FakeSmtp(host, port, script)
        self.fakes.append(f)
        return f

    def submit(self, rcpts, message, mail_options=()):
        """bob sends `message` through the submission smtpd."""
        return submit(self.com, self.sub, self.BOB, "pw", rcpts, message, mail_options)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None and self.com is not None:
            sys.stderr.write("---- log ----\n%s\n" % self.com.log_text()[-6000:])
        self.close()
        return False

    def close(self):
        for f in self.fakes:
            f.close()
        if self.com is not None:
            self.com.close()
        self.dns.close()
        if os.environ.get("PBTEST_KEEP") != "1":
            shutil.rmtree(self.dns_dir, ignore_errors=True)


def dsn_for(msgs, recipient):
    """The DSNs among msgs that name `recipient` as Final-Recipient."""
    return [m for m in msgs if b"report-type=delivery-status" in m and
            ("Final-Recipient: rfc822; %s" % recipient).encode() in m]


class FakeSmtp:
    """A scripted SMTP server on (host, port). `script(conn, server)` runs per
    connection in a thread with a line reader; messages received whole are
    appended to server.messages. Stops on close()."""

    def __init__(self, host, port, script):
        self.host, self.port, self.script = host, port, script
        self.messages = []
        self.raw = []            # each message as sent: dot-stuffed, CRLF kept
        self.mails = []          # every MAIL FROM command a session was given
        self.rcpts = []          # every RCPT TO address a session was given
        self.rcpt_lines = []     # every RCPT command as given (with its parameters)
        self.connections = 0
        self.mode = None
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(30)
        try:
            self.script(Peer(c, self), self)
        except (OSError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)


class Peer:
    """One connection of a FakeSmtp script."""

    def __init__(self, sock, server):
        self.sock, self.server = sock, server
        self.f = sock.makefile("rb")

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        ln = self.f.readline(100000)
        if not ln:
            raise ValueError("closed")
        return ln.rstrip(b"\r\n").decode("utf-8", "replace")

    def data(self):
        """Reads DATA content up to the final dot; returns the bytes (the
        lines as sent are appended to server.raw)."""
        out, raw = [], []
        while True:
            ln = self.f.readline(1000000)
            if not ln:
                raise ValueError("closed in DATA")
            if ln == b".\r\n":
                self.server.raw.append(b"".join(raw))
                return b"".join(out)
            raw.append(ln)
            out.append(ln[1:] if ln.startswith(b"..") else ln)

    def session(self, rcpt_reply="250 2.1.5 ok", data_reply="250 2.0.0 queued",
                ehlo_lines=("PIPELINING", "8BITMIME", "SIZE 10000000"), before_data_end=None):
        """A plain, well-behaved session with the given replies."""
        self.send("220 fake.test ESMTP\r\n")
        while True:
            cmd = self.line()
            verb = cmd[:4].upper()
            if verb == "EHLO":
                lines = ["fake.test"] + list(ehlo_lines)
                self.send("".join("250%s%s\r\n" % ("-" if i < len(lines) - 1 else " ", l)
                                  for i, l in enumerate(lines)))
            elif verb == "HELO":
                self.send("250 fake.test\r\n")
            elif verb == "MAIL":
                self.server.mails.append(cmd)
                self.send("250 2.1.0 ok\r\n")
            elif verb == "RCPT":
                self.server.rcpts.append(cmd[cmd.find("<") + 1:cmd.rfind(">")])
                self.server.rcpt_lines.append(cmd)
                self.send(rcpt_reply + "\r\n")
            elif verb == "DATA":
                if not rcpt_reply.startswith("2"):
                    self.send("554 5.5.1 no valid recipients\r\n")
                    continue
                self.send("354 go ahead\r\n")
                body = self.data()
                self.server.messages.append(body)
                if before_data_end is not None:
                    before_data_end(self)
                self.send(data_reply + "\r\n")
            elif verb == "QUIT":
                self.send("221 bye\r\n")
                return
            elif verb == "RSET" or verb == "NOOP":
                self.send("250 ok\r\n")
            else:
                self.send("502 5.5.2 what\r\n")


class FakeClock:
    """A wall clock the test moves forward, shared by every process started
    with env(): a preloaded time() adds the number of seconds in a file to
    the real time. Leases and retries count in hours; this lets a test pass
    them in an instant (a relay's network timeouts still run on the real
    monotonic clock). Built with the system's cc into `dir`."""

    SOURCE = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static char *path;
__attribute__((constructor)) static void fake_clock_init(void)
{
	const char *p = getenv("PB_FAKE_CLOCK");
	if (p != NULL)
		path = strdup(p);
}
time_t time(time_t *t)
{
	struct timespec ts;
	long long off = 0;
	FILE *f = path != NULL ? fopen(path, "re") : NULL;
	if (f != NULL) {
		if (fscanf(f, "%lld", &off) != 1)
			off = 0;
		fclose(f);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (t != NULL)
		*t = ts.tv_sec + off;
	return ts.tv_sec + off;
}
"""

    def __init__(self, dir):
        pbtest.require("cc", "gcc")
        os.chmod(dir, 0o755)
        src = os.path.join(dir, "fakeclock.c")
        self.lib = os.path.join(dir, "fakeclock.so")
        self.file = os.path.join(dir, "fakeclock")
        with open(src, "w") as f:
            f.write(self.SOURCE)
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", self.lib, src], check=True)
        os.chmod(self.lib, 0o755)
        self.set(0)

    def set(self, offset):
        """The clock runs `offset` seconds ahead of the real one from now on."""
        tmp = self.file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % offset)
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.file)

    def env(self):
        # The sanitizer runtime need not come first: the clock library has
        # nothing to instrument.
        asan = os.environ.get("ASAN_OPTIONS", "")
        asan = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        return {"LD_PRELOAD": self.lib, "PB_FAKE_CLOCK": self.file, "ASAN_OPTIONS": asan}


def received_lines(raw):
    """The Received: fields of a stored message, unfolded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    head = re.sub(r"\r\n[ \t]+", " ", head)
    return [ln for ln in head.split("\r\n") if ln.lower().startswith("received:")]


def kill(proc):
    """SIGKILL a process we started (by its pid) and reap it."""
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
