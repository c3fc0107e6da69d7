"""pop3d benchmark: prints figures, asserts nothing (not a test).

  1. Logins/s: connect -> greeting -> AUTH PLAIN -> STAT -> QUIT, 10 concurrent
     clients, pop3d under systemd-socket-activate --inetd; beside it, the bare
     fork+exec rate of the same launcher running a program that only greets
     (/bin/echo), and of posix_spawn(/bin/true) alone, measured in this run.
  2. RETR throughput in MB/s for 1000 x 50 KB messages in one session, beside
     `cat` of the same bytes over loopback through the same launcher.
  3. Private memory (USS) of one idle, logged-in pop3d.
Targets (issue 3): logins >= 50% of the bare fork+exec rate with a low
password hash cost; RETR >= 50% of the loopback copy; idle USS <= 2 MB.

Run from a build WITHOUT sanitizers (they multiply start-up time and memory):
  mkdir -p _build/bench && cd _build/bench && ../../configure CFLAGS=-O2 && make
  top_builddir=$PWD top_srcdir=$PWD/../.. python3 ../../tests/bench/bench_pop3.py
Options: --logins N (default 2000), --messages N (default 1000)."""

import argparse
import base64
import os
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
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


def run_clients(n_total, one):
    """Runs `one(i)` n_total times over CLIENTS threads (i = the thread's
    number); returns completions per second."""
    counter = {"left": n_total}
    lock = threading.Lock()
    errors = []

    def worker(i):
        while True:
            with lock:
                if counter["left"] == 0:
                    return
                counter["left"] -= 1
            try:
                one(i)
            except Exception as e:  # noqa: BLE001 - report, keep going
                errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    if errors:
        print("  %d errors, first: %s" % (len(errors), errors[0]))
    return (n_total - len(errors)) / elapsed


def bench_logins(fx, n):
    svc = fx.socket_activate(fx.program("inetd/pop3d"))
    irs = [base64.b64encode(b"\0" + u.encode() + b"\0" + PW.encode()) for u in LOGIN_USERS]

    def login(i):
        with socket.create_connection(svc.address) as s:
            f = s.makefile("rb")
            assert recv_line(f).startswith(b"+OK")
            s.sendall(b"AUTH PLAIN " + irs[i] + b"\r\n")
            assert recv_line(f).startswith(b"+OK"), "login failed"
            s.sendall(b"STAT\r\nQUIT\r\n")
            assert recv_line(f).startswith(b"+OK")
            assert recv_line(f).startswith(b"+OK")

    run_clients(min(50, n), login)  # warm-up (page cache, store regions)
    rate = run_clients(n, login)
    svc.stop()

    echo = fx.socket_activate("/bin/echo", "+OK", config=False)

    def greet_only(i):
        with socket.create_connection(echo.address) as s:
            assert recv_line(s.makefile("rb")).startswith(b"+OK")

    run_clients(min(50, n), greet_only)
    bare = run_clients(n, greet_only)
    echo.stop()

    t0 = time.monotonic()
    spawns = 0
    while time.monotonic() - t0 < 2:
        pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
        os.waitpid(pid, 0)
        spawns += 1
    spawn_rate = spawns / (time.monotonic() - t0)
    return rate, bare, spawn_rate


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


def bench_retr(fx, count):
    print("  delivering %d x %d KB ..." % (count, MSG_SIZE // 1024), flush=True)
    data = deliver_many(fx, count)
    svc = fx.socket_activate(fx.program("inetd/pop3d"))
    with socket.create_connection(svc.address) as s:
        f = s.makefile("rb")
        recv_line(f)
        s.sendall(("USER %s\r\nPASS %s\r\n" % (USER, PW)).encode())
        recv_line(f)
        assert recv_line(f).startswith(b"+OK")
        # The client reads in bulk (as cat's reader does) and only counts
        # the ".\r\n" terminators: a line-by-line Python reader would be
        # the bottleneck, not pop3d.
        total = 0
        t0 = time.monotonic()
        batch = 50  # pipelined RETRs, as a client that knows PIPELINING would
        for start in range(1, count + 1, batch):
            n = min(batch, count + 1 - start)
            s.sendall(b"".join(b"RETR %d\r\n" % i for i in range(start, start + n)))
            seen, tail = 0, b""
            while seen < n:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise EOFError("pop3d closed during RETR")
                total += len(chunk)
                seen += (tail + chunk).count(b"\r\n.\r\n")
                tail = chunk[-4:]
        elapsed = time.monotonic() - t0
        s.sendall(b"QUIT\r\n")
    svc.stop()
    retr_mbs = total / elapsed / 1e6

    path = os.path.join(fx.dir, "cat-input")
    with open(path, "wb") as out:
        out.write(data)
    os.chmod(path, 0o644)
    cat = fx.socket_activate("/bin/cat", path, config=False)
    with socket.create_connection(cat.address) as s:
        got = 0
        t0 = time.monotonic()
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
        elapsed = time.monotonic() - t0
    cat.stop()
    return retr_mbs, got / elapsed / 1e6, total


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


def bench_idle_memory(fx):
    """USS of idle logged-in sessions. Two sessions (two users) are kept
    idle side by side: the store's region files (__db.*) are shared memory,
    but a page mapped by a single process counts as private, so a lone
    session would be charged for the store's whole cache it touched."""
    program = fx.program("inetd/pop3d")
    svc = fx.socket_activate(program)
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logins", type=int, default=2000)
    ap.add_argument("--messages", type=int, default=1000)
    args = ap.parse_args()
    with pbtest.Fixture("bench-pop3", config_extra={"password_cost": "1"}) as fx:
        fx.add_user(USER, PW)
        for u in LOGIN_USERS:
            fx.add_user(u, PW)
        program = fx.program("inetd/pop3d")
        print("pop3d benchmark (%s, %d cores)%s" % (
            program, os.cpu_count(),
            "  WARNING: sanitizer build, figures are not representative"
            if sanitized(program) else ""))
        print("password hash: yescrypt, cost 1 (password_cost = 1: set low on purpose)")

        rate, bare, spawn = bench_logins(fx, args.logins)
        print("logins/s (connect, greeting, AUTH PLAIN, STAT, QUIT; %d clients): %.0f"
              % (CLIENTS, rate))
        print("bare fork+exec through the same launcher (/bin/echo greeting): %.0f/s"
              % bare)
        print("bare posix_spawn(/bin/true) + wait, one at a time: %.0f/s" % spawn)
        print("  login rate = %.0f%% of the bare launcher rate (target >= 50%%)"
              % (100 * rate / max(bare, 1e-9)))

        for uss, own in bench_idle_memory(fx):
            print("idle logged-in pop3d private memory (USS): %d KB, of which %d KB outside"
                  " the store's shared region files (target <= 2048 KB)" % (uss, own))

        retr, cat, total = bench_retr(fx, args.messages)
        print("RETR %d x 50 KB pipelined (%.1f MB): %.0f MB/s" % (args.messages, total / 1e6,
                                                                retr))
        print("cat of the same bytes over loopback: %.0f MB/s" % cat)
        print("  RETR = %.0f%% of the loopback copy (target >= 50%%)" % (100 * retr / cat))


if __name__ == "__main__":
    main()
