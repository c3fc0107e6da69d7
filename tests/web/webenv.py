"""Shared fixture of the web tests: a fresh store with two users and the test
messages, and the webmail served three ways on loopback ports, each started
by the test: pillarbox-webmaild, Apache (mod_cgid under mpm_event, mod_cgi
under mpm_prefork, or mod_fcgid; ScriptAlias /webmail) and nginx + fcgiwrap,
the last two from the configurations in dist/.

Run as root (as CI does): store processes switch to the user `pillarbox`,
Apache's and nginx's workers and fcgiwrap run as that user too. As another
user the Apache and nginx parts are skipped (exit 77)."""
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
import time

TOP_BUILDDIR = os.environ.get("top_builddir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
ADMIN = os.environ.get("PILLARBOX_ADMIN") or os.path.join(TOP_BUILDDIR, "admin", "pillarbox")
WEBMAILD = os.path.join(TOP_BUILDDIR, "cgi", "pillarbox-webmaild")
CGI = os.path.join(TOP_BUILDDIR, "cgi", "webmail.cgi")
TEMPLATES = os.path.join(TOP_SRCDIR, "templates")
USERS = {"bob@example.com": "bob-Secret-1", "alice@example.com": "alice-Secret-2"}
SKIP = 77


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc=None, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


def is_root():
    return os.geteuid() == 0


def front_ends():
    """The front ends a test drives: webmaild, and as root Apache and nginx
    (with fcgiwrap) when installed; PILLARBOX_WEB_SERVERS (e.g. "webmaild")
    narrows the list while debugging."""
    kinds = ["webmaild"]
    if is_root():
        if os.path.exists("/usr/sbin/apache2"):
            kinds.append("apache")
        if os.path.exists("/usr/sbin/nginx") and os.path.exists("/usr/sbin/fcgiwrap"):
            kinds.append("nginx")
    only = os.environ.get("PILLARBOX_WEB_SERVERS")
    if only:
        kinds = [k for k in kinds if k in only.split(",")]
    return kinds


class Store:
    """A store in a temporary directory reachable by the store user."""

    def __init__(self, extra_messages=0):
        self.dir = tempfile.mkdtemp(prefix="pbweb-", dir=os.environ.get("TMPDIR", "/tmp"))
        os.chmod(self.dir, 0o755)
        self.user = "pillarbox" if is_root() else pwd.getpwuid(os.getuid()).pw_name
        self.conf = os.path.join(self.dir, "pillarbox.conf")
        with open(self.conf, "w") as f:
            f.write("hostname = mail.example.com\nuser = %s\nstore = %s/store\n"
                    "templates = %s\nwebmail_base = /webmail\n" % (self.user, self.dir, TEMPLATES))
        os.chmod(self.conf, 0o644)
        self.env = dict(os.environ, PILLARBOX_AUTH_DELAY_MS="0")
        self.admin("store", "init")
        self.admin("domain", "add", "example.com")
        for user, password in USERS.items():
            self.admin("user", "add", user, stdin=password + "\n")
        msgdir = os.path.join(self.dir, "msgs")
        corpus = os.path.join(TOP_SRCDIR, "tests", "unit", "xss_corpus.html")
        subprocess.run([sys.executable, os.path.join(TOP_SRCDIR, "tests", "web", "mkmail.py"),
                        msgdir, corpus], check=True)
        for i in range(extra_messages):
            self.deliver("bob@example.com",
                         "From: Filler %d <filler%d@example.net>\r\nTo: bob@example.com\r\n"
                         "Subject: Filler message %03d\r\nDate: Mon, 1 Jan 2024 %02d:%02d:00 +0000\r\n"
                         "\r\nFiller body %d.\r\n" % (i, i, i, i // 60, i % 60, i))
        for name in sorted(os.listdir(msgdir)):
            with open(os.path.join(msgdir, name), "rb") as f:
                self.deliver("bob@example.com", f.read())
        self.deliver("alice@example.com",
                     "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\n"
                     "Subject: For Alice only\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nSecret.\r\n")

    def admin(self, *args, stdin=None):
        r = subprocess.run([ADMIN, "--config", self.conf] + list(args), input=stdin,
                           capture_output=True, text=isinstance(stdin, str) or stdin is None,
                           env=self.env)
        if r.returncode != 0:
            raise RuntimeError("pillarbox %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def deliver(self, to, message):
        if isinstance(message, str):
            message = message.encode()
        r = subprocess.run([ADMIN, "--config", self.conf, "deliver", to], input=message,
                           capture_output=True, env=self.env)
        if r.returncode != 0:
            raise RuntimeError("deliver: %s" % r.stderr)

    def mailboxes(self, user):
        out = self.admin("mailbox", "list", user)
        rows = {}
        for line in out.splitlines():
            name, msgs, unseen, size = line.split("\t")
            rows[name] = (int(msgs), int(unseen))
        return rows

    def make_tls(self):
        """A self-signed certificate for 127.0.0.1 (certtool), added to the
        configuration as tls_cert/tls_key."""
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        if os.path.exists(cert):
            return
        tmpl = os.path.join(self.dir, "cert.tmpl")
        with open(tmpl, "w") as f:
            f.write('cn = "localhost"\nip_address = "127.0.0.1"\ntls_www_server\nexpiration_days = 2\n')
        subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", key],
                       check=True, capture_output=True)
        subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key, "--template",
                        tmpl, "--outfile", cert], check=True, capture_output=True)
        with open(self.conf, "a") as f:
            f.write("tls_cert = %s\ntls_key = %s\n" % (cert, key))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    name = "?"
    base = "/webmail"

    def url(self, path=""):
        return "http://127.0.0.1:%d%s%s" % (self.port, self.base, path)

    def stop(self):
        # Servers start in their own session: signal the whole group, so
        # that fcgiwrap's and Apache's workers go with their parent.
        leaders = []
        for p in self.procs:
            try:
                leaders.append(os.getpgid(p.pid) == p.pid)
            except ProcessLookupError:
                leaders.append(False)

        def signal_all(p, leader, sig):
            try:
                if leader:
                    os.killpg(p.pid, sig)
                elif p.poll() is None:
                    p.send_signal(sig)
            except ProcessLookupError:
                pass

        for p, leader in reversed(list(zip(self.procs, leaders))):
            signal_all(p, leader, signal.SIGTERM)
        for p, leader in reversed(list(zip(self.procs, leaders))):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if leader:
                signal_all(p, leader, signal.SIGKILL)  # workers left behind

    def log(self):
        out = []
        for path in self.logs:
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out.append("==> %s <==\n%s" % (path, f.read()[-4000:]))
        return "\n".join(out)


class Webmaild(Server):
    name = "webmaild"

    def __init__(self, store, https=False, extra_args=(), log_name=None):
        self.port = free_port()
        self.logs = [os.path.join(store.dir, log_name or
                                  "webmaild%s.log" % ("-https" if https else ""))]
        env = dict(store.env, PILLARBOX_LOG_STDERR="1")
        args = [WEBMAILD, "--config", store.conf, "--listen", "127.0.0.1:%d" % self.port]
        args += list(extra_args)
        if https:
            store.make_tls()
            args.append("--https")
            self.name = "webmaild-https"
        self.procs = [subprocess.Popen(args, stdout=open(self.logs[0], "w"),
                                       stderr=subprocess.STDOUT, env=env)]
        wait_port(self.port, self.procs[0])


def subst(path, values):
    with open(path) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, v)
    return text


class Apache(Server):
    """Apache httpd as Debian runs it by default and dist/apache recommends:
    mpm_event with mod_cgid (`a2enmod cgi` there), whose small daemon forks
    each CGI rather than a large prefork worker doing it; with
    mpm="prefork", mpm_prefork with mod_cgi (where a site needs prefork);
    with mpm="fcgid", mpm_event with mod_fcgid, webmail.cgi then a FastCGI
    server that Apache keeps running.
    The workers and the CGIs run as the store user."""

    MPMS = {
        "event": """LoadModule mpm_event_module %(mods)s/mod_mpm_event.so
LoadModule cgid_module %(mods)s/mod_cgid.so
ScriptSock %(d)s/cgid.sock
StartServers 2
ThreadsPerChild 16
""",
        "fcgid": """LoadModule mpm_event_module %(mods)s/mod_mpm_event.so
LoadModule fcgid_module %(mods)s/mod_fcgid.so
FcgidIPCDir %(d)s/fcgid
FcgidProcessTableFile %(d)s/fcgid_shm
FcgidInitialEnv PILLARBOX_CONF %(conf)s
%(fcgid_log)s
StartServers 2
ThreadsPerChild 16
""",
        "prefork": """LoadModule mpm_prefork_module %(mods)s/mod_mpm_prefork.so
LoadModule cgi_module %(mods)s/mod_cgi.so
StartServers 8
MinSpareServers 8
MaxSpareServers 16
""",
    }

    def __init__(self, store, log_stderr=True, mpm="event", extra_conf=""):
        self.name = "apache" if mpm == "event" else "apache-" + mpm
        if not is_root():
            skip("Apache needs root to run its workers as the store user")
        if not os.path.exists("/usr/sbin/apache2"):
            skip("apache2 is not installed")
        if mpm == "fcgid" and not os.path.exists("/usr/lib/apache2/modules/mod_fcgid.so"):
            skip("mod_fcgid is not installed (apt-get install libapache2-mod-fcgid)")
        self.port = free_port()
        d = os.path.join(store.dir, self.name)
        os.makedirs(d)
        mods = "/usr/lib/apache2/modules"
        # pkgdatadir/templates is the source tree's templates/ here
        snippet = subst(os.path.join(TOP_SRCDIR, "dist", "apache", "pillarbox-webmail.conf"),
                        {"pkgdatadir": os.path.dirname(TEMPLATES),
                         "pkglibexecdir": os.path.dirname(CGI), "sysconfdir": "/etc"})
        with open(os.path.join(d, "pillarbox-webmail.conf"), "w") as f:
            f.write(snippet)
        self.logs = [os.path.join(d, "error.log")]
        conf = os.path.join(d, "httpd.conf")
        with open(conf, "w") as f:
            f.write("""ServerRoot %(d)s
DefaultRuntimeDir %(d)s
PidFile %(d)s/httpd.pid
Listen 127.0.0.1:%(port)d
ServerName 127.0.0.1
User %(user)s
Group %(user)s
ErrorLog %(d)s/error.log
LogLevel warn
%(mpm)s
LoadModule authz_core_module %(mods)s/mod_authz_core.so
LoadModule alias_module %(mods)s/mod_alias.so
LoadModule env_module %(mods)s/mod_env.so
LoadModule headers_module %(mods)s/mod_headers.so
LoadModule mime_module %(mods)s/mod_mime.so
TypesConfig /etc/mime.types
MaxRequestWorkers 32
Timeout 60
<Directory />
	Require all denied
	AllowOverride None
</Directory>
SetEnv PILLARBOX_CONF %(conf)s
%(log)s
Include %(d)s/pillarbox-webmail.conf
%(extra)s
""" % {"extra": extra_conf,"d": d, "port": self.port, "user": store.user, "mods": mods, "conf": store.conf,
       "mpm": self.MPMS[mpm] % {
           "d": d, "mods": mods, "conf": store.conf,
           "fcgid_log": "FcgidInitialEnv PILLARBOX_LOG_STDERR 1" if log_stderr else ""},
       # the program's log lines in Apache's error log (tests), or not (benchmarks)
       "log": "SetEnv PILLARBOX_LOG_STDERR 1" if log_stderr else ""})
        # Apache signals its whole process group when it stops: its own
        self.procs = [subprocess.Popen(["/usr/sbin/apache2", "-f", conf, "-DFOREGROUND"],
                                       stdout=open(os.path.join(d, "stdout.log"), "w"),
                                       stderr=subprocess.STDOUT, start_new_session=True)]
        wait_port(self.port, self.procs[0])

    def stop(self):
        # apache2 stops gracefully on SIGWINCH, at once on SIGTERM
        Server.stop(self)


class Nginx(Server):
    """nginx with fcgiwrap running webmail.cgi as the store user; with
    fastcgi=True, webmail.cgi a FastCGI server itself, on a socket made by
    systemd-socket-activate as dist/systemd/pillarbox-webmail.socket makes
    it, with `workers` processes answering on it (--workers)."""

    def __init__(self, store, fastcgi=False, log_stderr=True, workers=2):
        self.name = "nginx-fastcgi" if fastcgi else "nginx"
        if not is_root():
            skip("nginx + fcgiwrap need root to run as the store user")
        for prog in ("/usr/sbin/nginx", "/usr/bin/systemd-socket-activate" if fastcgi
                     else "/usr/sbin/fcgiwrap"):
            if not os.path.exists(prog):
                skip("%s is not installed" % prog)
        self.port = free_port()
        d = os.path.join(store.dir, self.name)
        os.makedirs(d)
        os.chmod(d, 0o755)
        uid = pwd.getpwnam(store.user)
        sockdir = os.path.join(d, "run")
        os.makedirs(sockdir)
        os.chown(sockdir, uid.pw_uid, uid.pw_gid)
        sock = self.socket = os.path.join(sockdir, "fcgiwrap.sock")
        shutil.copyfile("/etc/nginx/fastcgi_params", os.path.join(d, "fastcgi_params"))
        snippet = subst(os.path.join(TOP_SRCDIR, "dist", "nginx", "pillarbox-webmail.conf"),
                        {"pkgdatadir": os.path.dirname(TEMPLATES),
                         "pkglibexecdir": os.path.dirname(CGI), "fcgiwrap_socket": sock})
        # every location running the program gets the test's configuration
        snippet = snippet.replace("include fastcgi_params;",
                                  "include fastcgi_params;\n\tfastcgi_param PILLARBOX_CONF %s;%s"
                                  % (store.conf, "\n\tfastcgi_param PILLARBOX_LOG_STDERR 1;"
                                     if log_stderr else ""))
        with open(os.path.join(d, "pillarbox-webmail.conf"), "w") as f:
            f.write(snippet)
        self.logs = [os.path.join(d, "error.log"), os.path.join(d, "fcgiwrap.log"),
                     os.path.join(d, "stdout.log")]
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""user %(user)s %(user)s;
worker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path %(d)s/body;
	fastcgi_temp_path %(d)s/fastcgi;
	proxy_temp_path %(d)s/proxy;
	uwsgi_temp_path %(d)s/uwsgi;
	scgi_temp_path %(d)s/scgi;
	include /etc/nginx/mime.types;
	server {
		listen 127.0.0.1:%(port)d;
		server_name localhost;
		include %(d)s/pillarbox-webmail.conf;
	}
}
""" % {"d": d, "port": self.port, "user": store.user})
        server = (["/usr/bin/systemd-socket-activate", "-l", sock, "-E", "PILLARBOX_CONF=" +
                   store.conf, "-E", "PILLARBOX_LOG_STDERR=%d" % log_stderr, CGI,
                   "--workers", str(workers)]
                  if fastcgi else ["/usr/sbin/fcgiwrap", "-c", "4", "-s", "unix:" + sock])
        fcgi = subprocess.Popen(
            ["setpriv", "--reuid=%d" % uid.pw_uid, "--regid=%d" % uid.pw_gid, "--init-groups"]
            + server,
            stdout=open(self.logs[1], "w"), stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.umask(0o007),
            start_new_session=True)   # fcgiwrap signals its whole process group
        end = time.time() + 10
        while not os.path.exists(sock) and time.time() < end:
            time.sleep(0.05)
        nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", d, "-g", "daemon off;"],
                                 stdout=open(os.path.join(d, "stdout.log"), "w"),
                                 stderr=subprocess.STDOUT, start_new_session=True)
        self.procs = [fcgi, nginx]
        wait_port(self.port, nginx)

    def stop(self):
        # nginx: SIGQUIT is the graceful stop
        nginx = self.procs[1]
        if nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        Server.stop(self)


SERVERS = {"webmaild": Webmaild, "apache": Apache, "nginx": Nginx,
           "apache-fcgid": lambda store: Apache(store, mpm="fcgid"),
           "nginx-fastcgi": lambda store: Nginx(store, fastcgi=True)}


# ---------------------------------------------------------------- a tiny HTTP client

class Client:
    """Cookies and forms by hand, so each request is exactly what we send."""

    def __init__(self, server):
        self.server = server
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, raw_path=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        h = dict(headers or {})
        if self.cookies and "Cookie" not in h:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if isinstance(body, str):
            body = body.encode()
        if body is not None and "Content-Type" not in h:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        target = path if raw_path else self.server.base + path
        conn.request(method, target, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";")[0]
                if "Max-Age=0" in v or value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        conn.close()
        r.body = data
        r.text = data.decode("utf-8", "replace")
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, **kw):
        from urllib.parse import urlencode
        return self.request("POST", path, body=urlencode(fields), **kw)

    def login(self, user="bob@example.com", password=None):
        r = self.get("/login")
        token = re.search(r'name="login_token" value="([0-9a-f]+)"', r.text).group(1)
        r = self.post("/login", {"login_token": token, "address": user,
                                 "password": password or USERS[user]})
        assert r.status == 303, (r.status, r.text[:500])
        return r

    def csrf(self, page="/list"):
        r = self.get(page)
        return re.search(r'name="csrf" value="([0-9a-f]+)"', r.text).group(1)

    def find(self, subject):
        """The mailbox and uid of the message with this subject."""
        r = self.get("/list?subject=" + subject.replace(" ", "+"))
        mb = re.search(r'name="mb" value="(\d+)"', r.text).group(1)
        uid = re.search(r'value="(\d+)" id="sel\d+" aria-label="Select: %s"' % re.escape(subject),
                        r.text).group(1)
        return mb, uid


# ---------------------------------------------------------------- the browser

NODE_DIR = os.path.join(TOP_BUILDDIR, "tests", "web", "node")


# ---------------------------------------------------------------- checks

failures = []


def check(cond, what):
    """Prints one line, ok or FAIL; a failed check is kept in `failures`
    (for stop_all and exit_with)."""
    print("%s - %s" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def registry_pids(store):
    """Pids still registered in the store (Berkeley DB's __db.register: a
    slot a process left without closing the store, which makes the next
    store process run recovery). A closed slot reads "X ... 0"."""
    path = os.path.join(store.dir, "store", "env", "__db.register")
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("X")]


def stop_all(servers, store, failures):
    """The end of a test: the servers stopped (their logs shown when
    something failed), the store removed."""
    for s in servers:
        s.stop()
    if failures:
        for s in servers:
            print(s.log())
    store.cleanup()


def exit_with(failures):
    print("%d failed" % len(failures))
    sys.exit(1 if failures else 0)


def browser_ready():
    """npm ci of playwright-core into the build tree (once, under a lock);
    returns the directory to run the browser*.mjs scenarios from, or skips."""
    import fcntl
    if not os.path.exists("/usr/bin/chromium"):
        skip("chromium is not installed (apt-get install chromium)")
    if shutil.which("npm") is None or shutil.which("node") is None:
        skip("node/npm are not installed (apt-get install nodejs npm)")
    os.makedirs(NODE_DIR, exist_ok=True)
    with open(os.path.join(NODE_DIR, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        src = os.path.join(TOP_SRCDIR, "tests", "web")
        # the scenarios and their shared module run from beside node_modules
        for name in os.listdir(src):
            if name in ("package.json", "package-lock.json") or name.endswith(".mjs"):
                # replaced whole: another test's node may be loading it
                dst = os.path.join(NODE_DIR, name)
                shutil.copyfile(os.path.join(src, name), dst + ".tmp")
                os.replace(dst + ".tmp", dst)
        # again when package.json gained a package (axe-core) since the last
        if not all(os.path.isdir(os.path.join(NODE_DIR, "node_modules", m))
                   for m in ("playwright-core", "axe-core")):
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                               cwd=NODE_DIR, capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                print(r.stdout + r.stderr)
                raise RuntimeError("npm ci failed")
    return NODE_DIR


def run_scenario(script, server, shots_name, *args, timeout=240):
    """node SCRIPT URL SHOTS ARGS... in headless Chromium: one check, whose
    failure names the scenario's own failed steps (so a CI summary that shows
    only the end of the log still says what broke). Screenshots are kept in
    the build tree under tests/web/screenshots/SHOTS_NAME."""
    node_dir = browser_ready()
    shots = os.path.join(TOP_BUILDDIR, "tests", "web", "screenshots", shots_name)
    shutil.rmtree(shots, ignore_errors=True)
    os.makedirs(shots)
    r = subprocess.run(["node", os.path.join(node_dir, script), server.url(), shots] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    print(r.stdout + r.stderr)
    print("screenshots: " + shots)
    steps = [line[len("FAIL - "):].splitlines()[0] for line in r.stdout.split("\n")
             if line.startswith("FAIL - ")]
    check(r.returncode == 0, "%s: the %s scenario%s" % (server.name, script, "".join(
        (" | " if i else ", failed at: ") + s[:200] for i, s in enumerate(steps[:5]))))
    return r.returncode == 0


def run_browser(server, name):
    """The main reading scenario (browser.mjs) as bob."""
    return run_scenario("browser.mjs", server, name,
                        "bob@example.com", USERS["bob@example.com"])


def main_browser(kind):
    store = Store(extra_messages=15)
    server = None
    ok = False
    try:
        try:
            server = SERVERS[kind](store)
        except RuntimeError:
            os.system("tail -n 30 %s/*/*.log" % store.dir)
            raise
        ok = run_browser(server, kind)
    finally:
        if server is not None:
            server.stop()
            if not ok:
                print(server.log())
        store.cleanup()
    sys.exit(0 if ok else 1)


def multipart(fields):
    """fields: [(name, value)] or [(name, (filename, bytes, type))]."""
    boundary = "----pbtest" + uuid.uuid4().hex
    out = []
    for name, value in fields:
        out.append(b"--" + boundary.encode() + b"\r\n")
        if isinstance(value, tuple):
            fname, data, ctype = value
            out.append(('Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                        "Content-Type: %s\r\n\r\n" % (name, fname, ctype)).encode())
            out.append(data)
        else:
            out.append(('Content-Disposition: form-data; name="%s"\r\n\r\n' % name).encode())
            out.append(value.encode() if isinstance(value, str) else value)
        out.append(b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), "multipart/form-data; boundary=" + boundary
