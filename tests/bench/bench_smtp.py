#!/usr/bin/env python3
"""SMTP delivery benchmark: messages/s of 5 KB mail delivered to local users
through smtpd --mode=mx (one process per connection under
systemd-socket-activate, as in production), with the load client
tests/bench/bench_smtp (smtp-source style), 1 and 10 parallel sessions,
2000 messages each run. A message counts only when it is in the store
(counted with smtp_peek after the run, compared with the 250s received).
The disk's raw synchronous-write rate (4 KB write + fdatasync in the store
directory) is measured in the same run, and the ratio printed.

Run from a build without sanitizers for meaningful figures:
    mkdir -p _build/bench && cd _build/bench && ../../configure CFLAGS=-O2 && make
    top_builddir=$PWD top_srcdir=$PWD/../.. python3 ../../tests/bench/bench_smtp.py

Environment: BENCH_MESSAGES (2000), BENCH_SIZE (5120), BENCH_SESSIONS ("1 10"),
BENCH_PER_CONN (messages per connection: "1000000" = one connection per
session; "1" = a new connection, a new smtpd, for each message; several
values separated by spaces run each)."""

import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(here), "integration"))
import pbtest  # noqa: E402
import smtptest  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "2000"))
SIZE = int(os.environ.get("BENCH_SIZE", "5120"))
SESSIONS = [int(x) for x in os.environ.get("BENCH_SESSIONS", "1 10").split()]
PER_CONN = [int(x) for x in os.environ.get("BENCH_PER_CONN", "1000000 1").split()]
USERS = 10


def sync_rate(directory, seconds=3.0):
    """4 KB writes each followed by fdatasync, per second, in directory."""
    path = os.path.join(directory, "sync-probe")
    block = b"x" * 4096
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        n, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < seconds:
            os.pwrite(fd, block, (n % 256) * 4096)
            os.fdatasync(fd)
            n += 1
        return n / (time.monotonic() - t0)
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    client = os.path.join(pbtest.TOP_BUILDDIR, "tests", "bench", "bench_smtp")
    if not os.access(client, os.X_OK):
        print("bench_smtp is not built: make tests/bench/bench_smtp")
        return 77
    with smtptest.SmtpFixture("bench", users=False, config_extra={
            "idle_timeout": "300"}) as fx:
        users = ["user%d@example.com" % i for i in range(USERS)]
        for u in users:
            fx.add_user(u, "pw")
        mx = fx.smtpd("mx")
        raw_before = sync_rate(fx.store)
        print("disk: %.0f synchronous 4 KB writes/s (write + fdatasync) in %s"
              % (raw_before, fx.store))
        results = []
        for per_conn in PER_CONN:
            for sessions in SESSIONS:
                before = sum(fx.count(*users).values())
                r = subprocess.run([client, "127.0.0.1", str(mx.port), str(sessions),
                                    str(MESSAGES), str(SIZE), str(per_conn), str(USERS)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
                out = r.stdout.decode().strip()
                fields = dict(kv.split("=") for kv in out.split() if "=" in kv)
                stored = sum(fx.count(*users).values()) - before
                ok = int(fields.get("ok", 0))
                secs = float(fields.get("seconds", "nan"))
                rate = stored / secs
                results.append((sessions, per_conn, ok, stored, secs, rate))
                print("%2d session(s), %s: 250 x %d, in the store %d, %.2f s, "
                      "%.0f messages/s stored"
                      % (sessions, "one connection each" if per_conn >= MESSAGES else
                         "%d message(s) per connection" % per_conn, ok, stored, secs, rate))
                if stored != ok:
                    print("  MISMATCH: %d answered 250, %d stored" % (ok, stored))
        raw_after = sync_rate(fx.store)
        raw = (raw_before + raw_after) / 2
        print("disk again: %.0f synchronous writes/s; mean %.0f" % (raw_after, raw))
        for sessions, per_conn, ok, stored, secs, rate in results:
            print("ratio %2d session(s)%s: %.2f messages per raw sync write"
                  % (sessions, "" if per_conn >= MESSAGES else ", new connection per message",
                     rate / raw))
        bad = [x for x in results if x[2] != x[3]]
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
