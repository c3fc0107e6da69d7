"""pop3d benchmark: prints figures, asserts nothing (not a test).

  1. Logins/s: connect -> greeting -> AUTH PLAIN -> STAT -> QUIT, 10 concurrent
     clients, pop3d under systemd-socket-activate --inetd; beside it, the bare
     fork+exec rate of the same launcher running a program that only greets
     (/bin/echo), and of posix_spawn(/bin/true) alone, measured in this run.
     The load client is tests/bench/bench_pop3_login (C, threads).
  2. RETR throughput in MB/s for 1000 x 50 KB messages in one session, beside
     `cat` of the same bytes over loopback through the same launcher; both are
     read by the same client loop until the server closes (RETR 1..1000 and
     QUIT pipelined, as a client that knows PIPELINING may), and checked
     afterwards.
  3. Private memory (USS) of one idle, logged-in pop3d.
Targets (issue 3): logins >= 50% of the bare fork+exec rate with a low
password hash cost; RETR >= 50% of the loopback copy; idle USS <= 2 MB.

The launcher runs as the store user when the benchmark runs as root, as the
systemd units in dist/systemd do (User=pillarbox); --as-root starts it as
root instead (handlers then switch users themselves, as under xinetd).
The users' password hashes are made with --hash-cost (default: yescrypt with
the smallest parameters libxcrypt's yescrypt accepts, $y$j35$: set low on
purpose, the output says so); --hash-cost 1..11 uses `password_cost` instead.

Run from a build WITHOUT sanitizers (they multiply start-up time and memory):
  mkdir -p _build/bench && cd _build/bench && ../../configure CFLAGS=-O2 && make &&
      make tests/bench/bench_open
  top_builddir=$PWD top_srcdir=$PWD/../.. python3 ../../tests/bench/bench_pop3.py
Options: --logins N (default 2000), --messages N (default 1000)."""

import argparse
import base64
import ctypes
import ctypes.util
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
# pbtest reads top_builddir as given: a relative one must not depend on
# where each program runs.
if os.environ.get("top_builddir"):
    os.environ["top_builddir"] = os.path.abspath(os.environ["top_builddir"])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
import pbtest  # noqa: E402

USER, PW = "bench@example.com", "bench password"
CLIENTS = 10
# One user per client: a POP3 maildrop admits one session at a time.
LOGIN_USERS = ["bench%d@example.com" % i for i in range(CLIENTS)]
MSG_SIZE = 50 * 1024


def recv_line(f):
    line = f.readline()
    if not line:
        raise EOFError
    return line


def activate(fx, program, *args, as_user=True, config=True):
    """fx.socket_activate(), but the launcher runs as the store user when
    we are root and as_user (the shape of dist/systemd: User=pillarbox)."""
    if not (as_user and fx.root):
        return fx.socket_activate(program, *args, config=config)
    pbtest.require("setpriv", "util-linux")
    port = pbtest.free_port()
    cmd = ["setpriv", "--reuid=" + pbtest.STORE_USER, "--regid=" + pbtest.STORE_USER,
           "--init-groups", "systemd-socket-activate", "--inetd", "--accept",
           "-l", "127.0.0.1:%d" % port]
    for k, v in fx.env().items():
        cmd += ["-E", "%s=%s" % (k, v)]
    cmd += [program] + (["--config", fx.conf] if config else []) + list(args)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fx._log_f,
                            stderr=fx._log_f)
    fx._wait_listening(proc, port, "systemd-socket-activate")
    svc = pbtest.Service(proc, port, "systemd-socket-activate")
    fx.services.append(svc)
    return svc


def load_client(fx, svc, count, irs=()):
    """Runs tests/bench/bench_pop3_login (CLIENTS connections at a time,
    `count` in all; logins with the AUTH PLAIN initial responses `irs`, or
    the greeting alone); returns completions per second."""
    out = subprocess.run([fx.program("tests/bench/bench_pop3_login"), "127.0.0.1",
                          str(svc.port), str(CLIENTS), str(count)] + list(irs),
                         stdout=subprocess.PIPE, check=False).stdout.decode()
    fields = out.split()
    if len(fields) != 8 or fields[3] != "0":
        raise RuntimeError("bench_pop3_login: %s" % out.strip())
    return float(fields[7])


def bench_logins(fx, n, as_user, rounds=4):
    """Logins/s and the bare launcher's rate, measured in alternating rounds
    (n / rounds of each at a time) so that a change in the machine's load
    touches both alike. The load client is C (bench_pop3_login.c): a Python
    client spent about as much CPU per login as pop3d itself, on the same
    two cores."""
    svc = activate(fx, fx.program("inetd/pop3d"), as_user=as_user)
    echo = activate(fx, "/bin/echo", "+OK", as_user=as_user, config=False)
    irs = [base64.b64encode(b"\0" + u.encode() + b"\0" + PW.encode()).decode()
           for u in LOGIN_USERS]

    load_client(fx, svc, min(50, n), irs)  # warm-up (page cache, store regions)
    load_client(fx, echo, min(50, n))
    per = max(n // rounds, 1)
    login_s = bare_s = 0.0
    for _ in range(rounds):
        login_s += per / load_client(fx, svc, per, irs)
        bare_s += per / load_client(fx, echo, per)
    svc.stop()
    echo.stop()

    t0 = time.monotonic()
    spawns = 0
    while time.monotonic() - t0 < 2:
        pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
        os.waitpid(pid, 0)
        spawns += 1
    spawn_rate = spawns / (time.monotonic() - t0)
    return per * rounds / login_s, per * rounds / bare_s, spawn_rate


def deliver_many(fx, count):
    """count messages of MSG_SIZE for USER; returns their bytes joined."""
    pattern = ("The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij\r\n")
    body = (pattern * (MSG_SIZE // len(pattern) + 1))[:MSG_SIZE - 200]
    body = body[:body.rfind("\r\n") + 2]
    all_bytes = []
    for i in range(count):
        msg = pbtest.make_message("bench %d" % i, body, to=USER)
        fx.deliver(USER, msg)
        all_bytes.append(msg)
    return b"".join(all_bytes)


def read_to_eof(s):
    """The one client loop for both RETR and cat: bulk reads until the
    server closes; the chunks are checked after the clock stops."""
    chunks = []
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    return chunks


def median(values):
    return sorted(values)[len(values) // 2]


def bench_retr(fx, count, as_user, runs=3):
    """Median MB/s of `runs` RETR sessions and of `runs` cats of the same
    bytes, one of each in turn; returns (retr, cat, bytes per RETR session)."""
    print("  delivering %d x %d KB ..." % (count, MSG_SIZE // 1024), flush=True)
    data = deliver_many(fx, count)
    path = os.path.join(fx.dir, "cat-input")
    with open(path, "wb") as out:
        out.write(data)
    os.chmod(path, 0o644)
    svc = activate(fx, fx.program("inetd/pop3d"), as_user=as_user)
    cat = activate(fx, "/bin/cat", path, as_user=as_user, config=False)
    commands = b"".join(b"RETR %d\r\n" % i for i in range(1, count + 1)) + b"QUIT\r\n"
    retr, copies = [], []
    total = 0
    for _ in range(runs):
        with socket.create_connection(svc.address) as s:
            f = s.makefile("rb")
            recv_line(f)
            s.sendall(("USER %s\r\nPASS %s\r\n" % (USER, PW)).encode())
            recv_line(f)
            assert recv_line(f).startswith(b"+OK")
            t0 = time.monotonic()
            s.sendall(commands)
            chunks = read_to_eof(s)
            elapsed = time.monotonic() - t0
        got = b"".join(chunks)
        # Every message came whole: one "+OK n octets" and one terminator
        # each, then the QUIT reply.
        assert got.count(b"\r\n.\r\n") == count, "RETR stream incomplete"
        assert got.startswith(b"+OK ") and got.count(b" octets\r\n") == count
        assert got.endswith(b"\r\n") and got.rsplit(b"\r\n", 2)[-2].startswith(b"+OK")
        retr.append(len(got) / elapsed / 1e6)
        total = len(got)

        t0 = time.monotonic()
        with socket.create_connection(cat.address) as s:
            chunks = read_to_eof(s)
        elapsed = time.monotonic() - t0
        assert sum(len(c) for c in chunks) == len(data)
        copies.append(len(data) / elapsed / 1e6)
    svc.stop()
    cat.stop()
    return median(retr), median(copies), total


def pop3d_pids(program):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink("/proc/%s/exe" % d) == program:
                    pids.append(int(d))
            except OSError:
                pass
    return pids


def uss_kb(pid, exclude_prefix=None):
    """Private (unshared) KB of a process; mappings of files under
    exclude_prefix (the store's shared region files) can be left out."""
    total = 0
    current = ""
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):
                current = parts[5] if len(parts) > 5 else ""
            elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                if exclude_prefix is None or not current.startswith(exclude_prefix):
                    total += int(parts[1])
    return total


def login_cpu(fx, as_user, runs=200):
    """The CPU one login costs pop3d alone, and /bin/echo (the bare launcher's
    program), each run one at a time by tests/bench/bench_open with the
    session on standard input: median ms of user+system time, or None when
    bench_open is not built (make tests/bench/bench_open)."""
    tool = fx.program("tests/bench/bench_open")
    if not os.access(tool, os.X_OK):
        return None
    script = os.path.join(fx.dir, "login.txt")
    with open(script, "wb") as f:
        f.write(b"AUTH PLAIN " + base64.b64encode(b"\0" + LOGIN_USERS[0].encode() + b"\0" +
                                                PW.encode()) + b"\r\nSTAT\r\nQUIT\r\n")
    os.chmod(script, 0o644)
    user = ["--user", pbtest.STORE_USER] if as_user and fx.root else []

    def cpu(*prog):
        out = subprocess.run([tool] + user + ["--stdin", script, "--runs", str(runs)] +
                             list(prog), stdout=subprocess.PIPE, check=True,
                             env=fx.env()).stdout.split()
        return float(out[out.index(b"cpu_median_ms") + 1])
    return cpu(fx.program("inetd/pop3d"), "--config", fx.conf), cpu("/bin/echo", "+OK")


def bench_idle_memory(fx, as_user):
    """USS of idle logged-in sessions. Two sessions (two users) are kept
    idle side by side: the store's region files (__db.*) are shared memory,
    but a page mapped by a single process counts as private, so a lone
    session would be charged for the store's whole cache it touched."""
    program = fx.program("inetd/pop3d")
    svc = activate(fx, program, as_user=as_user)
    before = set(pop3d_pids(program))
    socks = []
    for user in LOGIN_USERS[:2]:
        s = socket.create_connection(svc.address)
        f = s.makefile("rb")
        recv_line(f)
        s.sendall(("USER %s\r\nPASS %s\r\nSTAT\r\n" % (user, PW)).encode())
        for _ in range(3):
            recv_line(f)
        socks.append(s)
    time.sleep(0.3)
    pids = [p for p in pop3d_pids(program) if p not in before]
    figures = [(uss_kb(p), uss_kb(p, fx.store)) for p in pids]
    for s in socks:
        s.sendall(b"QUIT\r\n")
        s.close()
    svc.stop()
    return figures


def sanitized(program):
    out = subprocess.run(["ldd", program], stdout=subprocess.PIPE).stdout
    return b"libasan" in out or b"libubsan" in out


# The cheapest yescrypt setting libxcrypt accepts and checks quickly
# (N = 8, r = 8: 8 KB): a hash "set low", for a login benchmark only.
MIN_YESCRYPT = "$y$j05$"


def low_hash(password):
    """A yescrypt hash of password with MIN_YESCRYPT parameters."""
    libcrypt = ctypes.CDLL(ctypes.util.find_library("crypt"))
    libcrypt.crypt_gensalt.restype = ctypes.c_char_p
    libcrypt.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p,
                                       ctypes.c_int]
    libcrypt.crypt.restype = ctypes.c_char_p
    libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = libcrypt.crypt_gensalt(b"$y$", 1, None, 0).decode()
    hashed = libcrypt.crypt(password.encode(), (MIN_YESCRYPT + salt[7:]).encode())
    if hashed is None or not hashed.startswith(MIN_YESCRYPT.encode()):
        raise RuntimeError("libxcrypt refused the yescrypt setting %s" % MIN_YESCRYPT)
    return hashed.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logins", type=int, default=2000)
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--hash-cost", default="min",
                    help="min (yescrypt %s, the default) or a password_cost 1..11"
                    % MIN_YESCRYPT)
    ap.add_argument("--as-root", action="store_true",
                    help="run the launcher as root (handlers switch users themselves)")
    args = ap.parse_args()
    as_user = not args.as_root
    cost = "1" if args.hash_cost == "min" else args.hash_cost
    # plaintext: login_cpu's session comes on a file, which is no loopback
    with pbtest.Fixture("bench-pop3", config_extra={"password_cost": cost,
                                                    "allow_plaintext_auth": "yes"}) as fx:
        for u in [USER] + LOGIN_USERS:
            if args.hash_cost == "min":
                fx.pillarbox("user", "add", u, "--hash", input=low_hash(PW).encode() + b"\n")
            else:
                fx.add_user(u, PW)
        program = fx.program("inetd/pop3d")
        print("pop3d benchmark (%s, %d cores)%s" % (
            program, os.cpu_count(),
            "  WARNING: sanitizer build, figures are not representative"
            if sanitized(program) else ""))
        if args.hash_cost == "min":
            print("password hash: yescrypt %s (N=8, r=8; set low on purpose: the "
                  "cheapest yescrypt; --hash-cost 1 for password_cost = 1)" % MIN_YESCRYPT)
        else:
            print("password hash: yescrypt, password_cost = %s%s" % (
                cost, " (set low on purpose)" if cost == "1" else ""))
        who = ("the store user (%s), as dist/systemd's User=" % pbtest.STORE_USER
               if as_user and fx.root else "root (handlers switch users)" if fx.root
               else "the current user")
        print("launcher (systemd-socket-activate) runs as %s" % who)

        rate, bare, spawn = bench_logins(fx, args.logins, as_user)
        print("logins/s (connect, greeting, AUTH PLAIN, STAT, QUIT; %d clients; 4 rounds "
              "alternating with the next line's): %.0f" % (CLIENTS, rate))
        print("bare fork+exec through the same launcher (/bin/echo greeting): %.0f/s"
              % bare)
        print("bare posix_spawn(/bin/true) + wait, one at a time: %.0f/s" % spawn)
        print("  login rate = %.0f%% of the bare launcher rate (target >= 50%%)"
              % (100 * rate / max(bare, 1e-9)))
        alone = login_cpu(fx, as_user)
        if alone is None:
            print("(make tests/bench/bench_open for the CPU of one login alone)")
        else:
            print("CPU of one login alone (pop3d, session on stdin; median of 200, one at "
                  "a time): %.2f ms; of /bin/echo: %.2f ms" % alone)

        for uss, own in bench_idle_memory(fx, as_user):
            print("idle logged-in pop3d private memory (USS): %d KB, of which %d KB outside"
                  " the store's shared region files (target <= 2048 KB)" % (uss, own))

        retr, cat, total = bench_retr(fx, args.messages, as_user)
        print("RETR 1..%d + QUIT pipelined, 50 KB each (%.1f MB), median of 3: %.0f MB/s"
              % (args.messages, total / 1e6, retr))
        print("cat of the same bytes over loopback, same client loop, median of 3 (each run "
              "after a RETR run): %.0f MB/s"
              % cat)
        print("  RETR = %.0f%% of the loopback copy (target >= 50%%)" % (100 * retr / cat))


if __name__ == "__main__":
    main()
