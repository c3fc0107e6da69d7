#!/usr/bin/env python3
"""The README's "Try it" section, followed as a new user would.

In a copy of the source tree (top_srcdir without _build, demo, node_modules
and .git, so the developer's ./demo and builds are left alone) it runs the
run-mode command the README shows (`./quickstart`): that builds into the
copy's _build/dev, makes the copy's demo store and starts every service on
127.0.0.1. Then, from what quickstart prints:
  - the endpoint table must list the demo endpoints of the README's table,
    and every endpoint must answer: IMAP LOGIN with the printed credentials,
    IMAPS with the demo CA, POP3, POP3S, SMTP EHLO, submission EHLO offering
    STARTTLS (then AUTH over it), SMTPS, ManageSieve (STARTTLS, AUTHENTICATE,
    LISTSCRIPTS), and the webmail's sign-in page and a
    sign-in showing the welcome message;
  - mail sent from the webmail to another domain comes back as a bounce, as
    the README says (the demo's relay is started and its relayhost refuses);
  - the README's curl and admin tool examples and the printed admin command
    work as written;
  - a second ./quickstart in the same directory names the running one and
    stops before it builds anything;
  - the relay runs the queue within a minute and a half of the start (the
    demo's stand-in for production's pillarbox-relay.timer);
  - the stop command it prints beside Ctrl-C (./quickstart stop from another
    terminal: kill -TERM of quickstart alone, not its process group) stops
    everything, an open IMAP session's handler included: quickstart exits,
    no process it started is left, the ports are free.
`./quickstart check` (the whole test suite, this test included) is not run.
The demo ports are fixed: if one is taken the test fails at once, naming it.
Whatever happens, what the test started is stopped (by process id) and the
copy removed.
"""

import base64
import html.parser
import http.cookiejar
import imaplib
import os
import poplib
import queue
import re
import shlex
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(HERE))
# Building a fresh copy takes about half a minute on two idle cores; much
# more under a parallel `make check`.
RUNNING_TIMEOUT = 600
NET_TIMEOUT = 20
STOP_TIMEOUT = 30
WELCOME = "Welcome to Pillarbox"   # the subject of quickstart's welcome message

results = []


def ok(what):
    results.append(True)
    print("ok %d - %s" % (len(results), what), flush=True)


def not_ok(what):
    results.append(False)
    print("not ok %d - %s" % (len(results), what), flush=True)


class Abort(Exception):
    """Going on makes no sense: reported as one failure."""


class Stop(BaseException):
    """A signal (timeout, Ctrl-C): clean up and fail."""


def on_signal(signum, frame):
    raise Stop("signal %d" % signum)


# ---- the README ------------------------------------------------------------------

def readme_try_it():
    """The "Try it" section: its commands, its demo endpoints, its curl example."""
    with open(os.path.join(TOP_SRCDIR, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Try it\n(.*?)(?=^## )", text, re.S | re.M)
    if m is None:
        raise Abort("README.md has no '## Try it' section")
    section = m.group(1)
    commands = [line.strip().split("#", 1)[0].strip()
                for line in section.splitlines() if line.startswith("    ")]
    # The table: | service | demo port | production port |
    demo = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and (cells[1].isdigit() or cells[1].startswith("http")):
            demo.add(cells[1])
    curl = re.findall(r"`(curl [^`]+)`", section)
    admin = re.findall(r"`(_build/dev/admin/pillarbox [^`]+)`", section)
    return commands, demo, curl, admin


# ---- ports and processes ---------------------------------------------------------

def port_of(endpoint):
    """'127.0.0.1:1143' or 'http://127.0.0.1:8080/webmail' -> 1143 / 8080."""
    if endpoint.isdigit():
        return int(endpoint)
    u = urllib.parse.urlsplit(endpoint if "//" in endpoint else "//" + endpoint)
    return u.port


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def session_pids(sid):
    """Processes of session `sid` (quickstart runs in its own session)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # state ppid pgrp session ...; a zombie is gone already
        if fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(d))
    return pids


def retry(connect):
    """connect() until the service listens (it may still be starting)."""
    deadline = time.monotonic() + NET_TIMEOUT
    while True:
        try:
            return connect()
        except OSError as e:    # urllib wraps the refusal in URLError
            refused = isinstance(e, ConnectionRefusedError) or \
                isinstance(getattr(e, "reason", None), ConnectionRefusedError)
            if not refused or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# ---- the endpoint checks ---------------------------------------------------------

class Env:
    def __init__(self, copy, user, password):
        self.copy = copy
        self.user = user
        self.password = password
        self.tls = ssl.create_default_context(cafile=os.path.join(copy, "demo", "tls", "ca.pem"))


def check_imap(env, port):
    m = retry(lambda: imaplib.IMAP4("127.0.0.1", port, timeout=NET_TIMEOUT))
    try:
        if not m.welcome.startswith(b"* OK"):
            raise AssertionError("greeting %r" % m.welcome)
        if "STARTTLS" not in m.capabilities:
            raise AssertionError("STARTTLS not offered: %r" % (m.capabilities,))
        m.login(env.user, env.password)
        typ, data = m.select("INBOX", readonly=True)
        if typ != "OK" or int(data[0]) < 1:
            raise AssertionError("SELECT INBOX: %s %r" % (typ, data))
    finally:
        m.shutdown()
    return "greeting, STARTTLS offered, LOGIN %s, INBOX has mail" % env.user


def check_imaps(env, port):
    m = retry(lambda: imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=env.tls,
                                        timeout=NET_TIMEOUT))
    try:
        m.login(env.user, env.password)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        if typ != "OK" or WELCOME.encode() not in data[0][1]:
            raise AssertionError("FETCH 1: %s %r" % (typ, data))
    finally:
        m.shutdown()
    return "TLS verified with demo/tls/ca.pem, LOGIN, the welcome message is there"


def check_pop3(env, port):
    p = retry(lambda: poplib.POP3("127.0.0.1", port, timeout=NET_TIMEOUT))
    try:
        if not p.getwelcome().startswith(b"+OK"):
            raise AssertionError("greeting %r" % p.getwelcome())
        if "STLS" not in p.capa():
            raise AssertionError("STLS not offered: %r" % p.capa())
        p.user(env.user)
        p.pass_(env.password)
        if p.stat()[0] < 1:
            raise AssertionError("no message in the maildrop")
        p.quit()
    finally:
        p.close()
    return "greeting, STLS offered, USER/PASS %s, a message" % env.user


def check_pop3s(env, port):
    p = retry(lambda: poplib.POP3_SSL("127.0.0.1", port, context=env.tls,
                                      timeout=NET_TIMEOUT))
    try:
        p.user(env.user)
        p.pass_(env.password)
        if p.stat()[0] < 1:
            raise AssertionError("no message in the maildrop")
        p.quit()
    finally:
        p.close()
    return "TLS verified with demo/tls/ca.pem, USER/PASS, a message"


def check_smtp(env, port):
    s = retry(lambda: smtplib.SMTP("127.0.0.1", port, timeout=NET_TIMEOUT))
    try:
        code, reply = s.ehlo("walkthrough.example")
        if code != 250:
            raise AssertionError("EHLO: %d %r" % (code, reply))
        s.quit()
    finally:
        s.close()
    return "EHLO 250"


def check_submission(env, port):
    s = retry(lambda: smtplib.SMTP("127.0.0.1", port, timeout=NET_TIMEOUT))
    try:
        code, reply = s.ehlo("walkthrough.example")
        if code != 250 or not s.has_extn("starttls"):
            raise AssertionError("EHLO without STARTTLS: %d %r" % (code, reply))
        s.starttls(context=env.tls)
        s.ehlo("walkthrough.example")
        s.login(env.user, env.password)
        s.quit()
    finally:
        s.close()
    return "EHLO offers STARTTLS; TLS verified, AUTH as %s" % env.user


def check_smtps(env, port):
    s = retry(lambda: smtplib.SMTP_SSL("127.0.0.1", port, context=env.tls,
                                       timeout=NET_TIMEOUT))
    try:
        code, reply = s.ehlo("walkthrough.example")
        if code != 250:
            raise AssertionError("EHLO: %d %r" % (code, reply))
        s.login(env.user, env.password)
        s.quit()
    finally:
        s.close()
    return "TLS verified, EHLO 250, AUTH as %s" % env.user


class SignInForm(html.parser.HTMLParser):
    """The form holding a password field: its action and fields."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(a)

    def sign_in(self):
        for f in self.forms:
            if any(i.get("type") == "password" for i in f["inputs"]):
                return f
        return None


def webmail_sign_in(env, url):
    """An opener holding a signed-in session, and the page after sign-in."""
    jar = http.cookiejar.CookieJar()
    web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    r = retry(lambda: web.open(url, timeout=NET_TIMEOUT))
    page = r.read().decode("utf-8", "replace")
    parser = SignInForm()
    parser.feed(page)
    form = parser.sign_in()
    if r.status != 200 or form is None:
        raise AssertionError("%s: no sign-in form (%d): %s" % (url, r.status, page[:300]))
    fields = {}
    for i in form["inputs"]:
        name, kind = i.get("name"), i.get("type", "text")
        if not name:
            continue
        if kind == "password":
            fields[name] = env.password
        elif kind in ("email", "text"):
            fields[name] = env.user
        elif kind == "hidden":
            fields[name] = i.get("value") or ""
    r = web.open(urllib.parse.urljoin(r.geturl(), form["action"]),
                 urllib.parse.urlencode(fields).encode(), timeout=NET_TIMEOUT)
    page = r.read().decode("utf-8", "replace")
    if r.status != 200 or WELCOME not in page:
        raise AssertionError("after signing in (%d, %s) no %r: %s"
                             % (r.status, r.geturl(), WELCOME, page[:300]))
    return web


def check_webmail(env, url):
    webmail_sign_in(env, url)
    return "sign-in page, signed in as %s, the welcome message is listed" % env.user


def check_outside_mail(env, url, imap_port):
    """The README: mail for other domains does not leave the demo, the
    sender gets a bounce at once. Sent from the webmail (which starts the
    relay itself), the bounce must reach the sender's INBOX."""
    web = webmail_sign_in(env, url)
    page = web.open(url.rstrip("/") + "/compose", timeout=NET_TIMEOUT).read().decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    sender = re.search(r'<select id="from" name="from"[^>]*><option value="([^"]+)"', page)
    if "csrf" not in fields or sender is None:
        raise AssertionError("compose page without its form: %s" % page[:300])
    if "Bob Example &lt;bob@example.com&gt;</option>" not in page:
        raise AssertionError("the demo user bob has no display name (user add --name)")
    subject = "to the outside %d" % os.getpid()
    fields.update({"from": html.unescape(sender.group(1)), "to": "someone@example.net",
                   "subject": subject, "body": "Hello.\r\n", "op": "send"})
    r = web.open(url.rstrip("/") + "/compose", urllib.parse.urlencode(fields).encode(),
                 timeout=NET_TIMEOUT)
    r.read()
    deadline = time.monotonic() + 60
    while True:
        m = imaplib.IMAP4("127.0.0.1", imap_port, timeout=NET_TIMEOUT)
        try:
            m.login(env.user, env.password)
            m.select("INBOX", readonly=True)
            typ, data = m.search(None, "SUBJECT", '"Undelivered Mail"')
            found = data[0].split()
            text = b""
            for n in found:
                typ, d = m.fetch(n, "(BODY.PEEK[TEXT])")
                text += d[0][1]
        finally:
            m.logout()
        if subject.encode() in text:
            return "sent to someone@example.net from the webmail: the bounce is in the INBOX"
        if time.monotonic() > deadline:
            raise AssertionError("no bounce for mail to someone@example.net after 60 s "
                                 "(is the relay started? see demo/services.log)")
        time.sleep(1)


def check_managesieve(env, port):
    """RFC 5804: the capabilities and OK, STARTTLS verified with the demo CA
    (the capabilities again after it), AUTHENTICATE PLAIN, LISTSCRIPTS."""
    sock = retry(lambda: socket.create_connection(("127.0.0.1", port), timeout=NET_TIMEOUT))

    def response(f):
        lines = []
        while True:
            ln = f.readline().decode(errors="replace").rstrip("\r\n")
            if not ln:
                raise AssertionError("connection closed after %r" % lines)
            if re.match(r"(OK|NO|BYE)\b", ln):
                return lines, ln
            lines.append(ln)
    try:
        f = sock.makefile("rb")
        caps, end = response(f)
        if not end.startswith("OK") or '"STARTTLS"' not in caps:
            raise AssertionError("greeting %r %r" % (caps, end))
        sock.sendall(b"STARTTLS\r\n")
        if not response(f)[1].startswith("OK"):
            raise AssertionError("STARTTLS refused")
        sock = env.tls.wrap_socket(sock, server_hostname="localhost")
        f = sock.makefile("rb")
        response(f)
        cred = base64.b64encode(b"\0" + env.user.encode() + b"\0" + env.password.encode())
        sock.sendall(b'AUTHENTICATE "PLAIN" "' + cred + b'"\r\n')
        _, end = response(f)
        if not end.startswith("OK"):
            raise AssertionError("AUTHENTICATE: %s" % end)
        sock.sendall(b"LISTSCRIPTS\r\nLOGOUT\r\n")
        _, end = response(f)
        if not end.startswith("OK"):
            raise AssertionError("LISTSCRIPTS: %s" % end)
    finally:
        sock.close()
    return "capabilities, STARTTLS verified with demo/tls/ca.pem, AUTHENTICATE PLAIN, LISTSCRIPTS"


CHECKS = {
    "IMAP": check_imap, "IMAPS": check_imaps, "POP3": check_pop3, "POP3S": check_pop3s,
    "SMTP (MX)": check_smtp, "Submission": check_submission, "SMTPS": check_smtps,
    "Webmail": check_webmail, "ManageSieve": check_managesieve,
}


# ---- quickstart ------------------------------------------------------------------

def copy_tree(dst):
    def ignore(d, names):
        top = os.path.samefile(d, TOP_SRCDIR)
        return [n for n in names
                if n == "node_modules" or (top and n in ("_build", "demo", ".git"))]
    shutil.copytree(TOP_SRCDIR, dst, symlinks=True, ignore=ignore)


def quickstart_env():
    return {k: v for k, v in os.environ.items()
            if not k.startswith("MAKE") and k not in ("MFLAGS", "top_builddir", "top_srcdir")}


class Quickstart:
    def __init__(self, cwd, command, log_path):
        env = quickstart_env()
        self.lines = queue.Queue()
        self.output = []
        self.log = open(log_path, "w")
        # Its own session, like a shell in a terminal: Ctrl-C goes to the
        # group. SIGINT is reset in the child (our handler would be reset by
        # exec anyway, but an inherited SIG_IGN would not be).
        self.proc = subprocess.Popen(
            shlex.split(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            line = re.sub(r"\x1b\[[0-9;]*m", "", raw.decode("utf-8", "replace")).rstrip("\n")
            self.log.write(line + "\n")
            self.log.flush()
            self.lines.put(line)
        self.lines.put(None)

    def until(self, pattern, timeout):
        """Lines until one matches `pattern`; None when the output ends first."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Abort("no line matching %r within %d s" % (pattern, timeout))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                return None
            self.output.append(line)
            if re.search(pattern, line):
                return line

    def tail(self, n=25):
        return "\n".join("    " + line for line in self.output[-n:])

    def stop(self):
        """Everything this run started, by process id: SIGINT to the group
        first (Ctrl-C), then SIGTERM, then SIGKILL."""
        sid = self.proc.pid
        for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            left = session_pids(sid)
            if not left and self.proc.poll() is not None:
                break
            for pid in left:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and (session_pids(sid) or self.proc.poll() is None):
                self.proc.poll()
                time.sleep(0.1)
        self.proc.poll()
        self.log.close()


# ---- the walkthrough -------------------------------------------------------------

def parse_running(qs):
    """The endpoint table and the users quickstart prints."""
    endpoints, users, admin = {}, [], None
    section = None
    deadline = time.monotonic() + RUNNING_TIMEOUT
    while True:
        line = qs.until(r".", max(1, deadline - time.monotonic()))
        if line is None or line.startswith("Press Ctrl-C"):
            break
        if "Pillarbox is running" in line:
            section = "endpoints"
        elif line.strip().startswith("Users"):
            section = "users"
        elif line.strip().startswith("Admin:"):
            admin = line.split("Admin:", 1)[1].strip()
        elif section == "endpoints" and line.startswith("  ") and line.strip():
            label, endpoint = line.strip().rsplit(None, 1)
            endpoints[label] = endpoint
        elif section == "users":
            m = re.match(r"^\s+(\S+@\S+)\s+(\S+)$", line)
            if m:
                users.append((m.group(1), m.group(2)))
    return endpoints, users, admin, line


def show_output(qs, copy):
    print("# quickstart's output (full log kept only while the test runs):")
    print(qs.tail(60))
    log = os.path.join(copy, "demo", "services.log")
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            print("# demo/services.log (end):\n" + "".join(f.readlines()[-30:]))


def check_stop(qs, env, endpoints, how, stop):
    """Stops a running quickstart with stop() (described as `how`) while an
    IMAP session is open: quickstart must exit saying "stopped", the
    session must end, no process of its session may be left and every
    printed port must be free."""
    held = retry(lambda: imaplib.IMAP4("127.0.0.1", port_of(endpoints["IMAP"]),
                                       timeout=NET_TIMEOUT))
    held.login(env.user, env.password)
    stop()
    try:
        status = qs.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        status = None
    if status is None:
        not_ok("quickstart still running %d s after %s" % (STOP_TIMEOUT, how))
    else:
        stopped = qs.until(r"stopped", 5) is not None
        (ok if stopped else not_ok)("%s: quickstart exited (status %d)%s" % (
            how, status, "" if stopped else " without saying 'stopped'"))
    try:
        held.noop()
        not_ok("%s: the open IMAP session still answers after quickstart stopped" % how)
    except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError):
        ok("%s: the open IMAP session ended with quickstart" % how)
    held.shutdown()
    deadline = time.monotonic() + 10
    while session_pids(qs.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = session_pids(qs.proc.pid)
    if left:
        names = []
        for pid in left:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    names.append("%d %s" % (pid, f.read().replace(b"\0", b" ").decode()[:120]))
            except OSError:
                pass
        not_ok("%s: after stopping these processes are left: %s" % (how, "; ".join(names)))
    else:
        ok("%s: after stopping no process started by quickstart is left" % how)
    ports = sorted(port_of(e) for e in endpoints.values())
    still = [p for p in ports if listening(p)]
    if still:
        not_ok("%s: after stopping ports still answer: %s" % (how, still))
    else:
        ok("%s: after stopping the ports are free: %s" % (how, ports))


def check_second_run(copy, command, first_pid):
    """A second quickstart while the first runs: it must name the first and
    stop before building (make in the tree the demo runs from)."""
    r = subprocess.run(shlex.split(command), cwd=copy, env=quickstart_env(),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    named = "another ./quickstart (pid %d" % first_pid in out
    built = re.search(r"building|bootstrapping", out)
    if r.returncode != 0 and named and not built:
        ok("a second %s names the running one (pid %d) and stops before building"
           % (command, first_pid))
    else:
        not_ok("a second %s: exit %d, %s: %s" % (
            command, r.returncode, "built first" if built else "did not name pid %d" % first_pid,
            out[-600:]))


def check_queue_run(copy, running_at):
    """The relay's queue run (logged "run done") within 90 s of the start:
    quickstart runs it every minute, as production's timer does."""
    log = os.path.join(copy, "demo", "services.log")
    deadline = running_at + 90
    while True:
        with open(log, errors="replace") as f:
            if re.search(r"relay\[\d+\]: run done entries=", f.read()):
                ok("the relay ran the queue %.0f s after the start (every minute)"
                   % (time.monotonic() - running_at))
                return
        if time.monotonic() > deadline:
            not_ok("no queue run (relay --run-queue) in demo/services.log 90 s after the start")
            return
        time.sleep(1)


def walkthrough(tmp):
    commands, readme_demo, curl_examples, admin_examples = readme_try_it()
    run = [c for c in commands if c == "./quickstart"]
    if not run:
        raise Abort("the README's 'Try it' section shows no plain ./quickstart: %r" % commands)
    ok("README 'Try it' shows %r (run mode; %r not run here: it is the test suite)"
       % (run[0], [c for c in commands if c != run[0]]))

    # Fixed ports: refuse at once rather than test somebody else's server.
    busy = [port_of(e) for e in sorted(readme_demo) if listening(port_of(e))]
    if busy:
        raise Abort("port %s already in use on 127.0.0.1 (another ./quickstart running?): "
                    "the walkthrough needs the README's demo ports free"
                    % ", ".join(str(p) for p in busy))

    copy = os.path.join(tmp, "pillarbox")
    copy_tree(copy)
    for d in (tmp, copy):       # the store user must reach the copy
        os.chmod(d, 0o755)
    ok("copied %s to %s (without _build, demo, node_modules, .git)" % (TOP_SRCDIR, copy))

    started = time.monotonic()
    env = None
    qs = Quickstart(copy, run[0], os.path.join(tmp, "quickstart.log"))
    try:
        endpoints, users, admin, last = parse_running(qs)
        if last is None or not last.startswith("Press Ctrl-C"):
            raise Abort("quickstart ended (status %s) before it was running:\n%s"
                        % (qs.proc.wait(), qs.tail()))
        ok("quickstart built, made the demo and started in %.0f s"
           % (time.monotonic() - started))
        running_at = time.monotonic()

        printed = set(endpoints.values())
        readme_ports = {port_of(e) for e in readme_demo}
        if {port_of(e) for e in printed} == readme_ports:
            ok("the printed endpoints are the README's demo ports %s" % sorted(readme_ports))
        else:
            not_ok("printed endpoints %s, the README's table says %s"
                   % (sorted(printed), sorted(readme_demo)))
        if not users:
            raise Abort("quickstart printed no user and password:\n%s" % qs.tail())
        env = Env(copy, users[0][0], users[0][1])

        for label in CHECKS:
            if label not in endpoints:
                not_ok("quickstart did not list %s:\n%s" % (label, qs.tail()))
        for label, endpoint in endpoints.items():
            check = CHECKS.get(label)
            if check is None:
                not_ok("%s %s: printed, but this test has no check for it" % (label, endpoint))
                continue
            arg = endpoint if endpoint.startswith("http") else port_of(endpoint)
            try:
                ok("%s %s: %s" % (label, endpoint, check(env, arg)))
            except Exception as e:      # any client error is this endpoint's failure
                not_ok("%s %s: %s: %s" % (label, endpoint, type(e).__name__, e))

        if "Webmail" in endpoints and "IMAP" in endpoints:
            try:
                ok(check_outside_mail(env, endpoints["Webmail"], port_of(endpoints["IMAP"])))
            except Exception as e:
                not_ok("outside mail from the webmail: %s: %s" % (type(e).__name__, e))

        for example in curl_examples:
            cmd = example.replace("bob@example.com:PASSWORD", "%s:%s" % users[0])
            if not shutil.which("curl"):
                print("# curl not installed: the README's example not run")
                break
            r = subprocess.run(shlex.split(cmd), cwd=copy, capture_output=True, text=True,
                               timeout=NET_TIMEOUT * 2)
            if r.returncode == 0 and WELCOME in r.stdout:
                ok("the README's example works: %s" % example)
            else:
                not_ok("the README's example %r: exit %d, %s %s"
                       % (example, r.returncode, r.stdout[-300:], r.stderr[-300:]))
        if not admin_examples:
            not_ok("the README's 'Try it' shows no admin tool example")
        for example in admin_examples:
            r = subprocess.run(shlex.split(example), cwd=copy, capture_output=True, text=True,
                               timeout=NET_TIMEOUT * 2)
            if r.returncode == 0 and users[0][0] in r.stdout:
                ok("the README's admin example works: %s" % example)
            else:
                not_ok("the README's admin example %r: exit %d, %s %s"
                       % (example, r.returncode, r.stdout[-300:], r.stderr[-300:]))
        if admin:
            r = subprocess.run(shlex.split(admin), cwd=copy, capture_output=True, text=True,
                               timeout=NET_TIMEOUT * 2)
            if r.returncode == 0 and "INBOX" in r.stdout:
                ok("the printed admin command works: %s" % admin)
            else:
                not_ok("the printed admin command %r: exit %d, %s %s"
                       % (admin, r.returncode, r.stdout[-300:], r.stderr[-300:]))
        else:
            not_ok("quickstart printed no admin command")

        check_second_run(copy, run[0], qs.proc.pid)
        check_queue_run(copy, running_at)

        # The stop command quickstart prints beside Ctrl-C, from another
        # terminal: ./quickstart stop (kill -TERM of quickstart alone), with
        # a session still open (its handler must go too).
        if "./quickstart stop" not in last or not re.search(r"kill -TERM %d\b" % qs.proc.pid,
                                                           last):
            raise Abort("quickstart printed no stop command: %r" % last)

        def stop_command():
            r = subprocess.run(["./quickstart", "stop"], cwd=copy, env=quickstart_env(),
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=60)
            if r.returncode != 0 or "stopped the demo (pid %d)" % qs.proc.pid not in r.stdout:
                not_ok("./quickstart stop: exit %d, %s %s" % (r.returncode, r.stdout[-300:],
                                                             r.stderr[-300:]))
        check_stop(qs, env, endpoints, "./quickstart stop", stop_command)
    except Abort as e:
        not_ok(str(e))
    finally:
        qs.stop()
        if not all(results):
            show_output(qs, copy)

    # Again (built, the demo kept), stopped the other way the README says:
    # Ctrl-C, which a terminal sends to the whole foreground process group.
    if env is None or not all(results):
        return
    qs = Quickstart(copy, run[0], os.path.join(tmp, "quickstart2.log"))
    try:
        endpoints, users, admin, last = parse_running(qs)
        if last is None or not last.startswith("Press Ctrl-C"):
            raise Abort("quickstart (second run) ended (status %s) before it was running:\n%s"
                        % (qs.proc.wait(), qs.tail()))
        ok("quickstart started again with the demo it made")
        check_stop(qs, env, endpoints, "Ctrl-C",
                   lambda: os.killpg(qs.proc.pid, signal.SIGINT))
    except Abort as e:
        not_ok(str(e))
    finally:
        qs.stop()
        if not all(results):
            show_output(qs, copy)


def main():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    tmp = tempfile.mkdtemp(prefix="pb-walkthrough.")
    try:
        walkthrough(tmp)
    except Abort as e:
        not_ok(str(e))
    except Stop as e:
        not_ok("interrupted (%s)" % e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
