#!/usr/bin/env python3
"""Leases against a second relay: a relay never works on an entry another
relay has claimed, however long its own work takes. The wall clock of every
relay is moved forward by the test (relaytest.FakeClock), so an hour's lease
passes in an instant; the MX (a scripted server at 127.0.0.4, slow.test)
holds each connection before its greeting until the test lets it go.

  1. `relay --run-queue` claims a batch. While it waits on the first
     entry's MX, the clock passes the lease of the second entry (not yet
     started: its lease was never renewed), and a relay started for that
     entry claims it, as it may, and waits on the MX too. The first relay
     must then leave the second entry alone: its remote recipient and its
     recipient whose domain became local are each delivered once, by the
     relay that holds the entry.
  2. One SMTP session that lasts longer than RELAY_LEASE_SECONDS (a server
     answering slowly, within relay_timeout): a second relay must not
     claim the entry while the session may still deliver it."""

import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
from relaytest import check  # noqa: E402

CAROL = "carol@later.test"


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.4"])
    base = os.path.join(pbtest.TOP_BUILDDIR, "tests", "integration")
    os.makedirs(base, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tmp.relay-lease-clock.", dir=base)
    clock = relaytest.FakeClock(tmp)
    gates, lock = [], threading.Lock()

    def slow(peer, srv):
        # Each connection waits for the next gate (if any) before its greeting.
        with lock:
            gate = gates.pop(0) if gates else None
        if gate is not None:
            gate.wait(120)
        peer.session()

    def wait_connections(fake, n, what):
        deadline = time.monotonic() + 30
        while fake.connections < n and time.monotonic() < deadline:
            time.sleep(0.02)
        check(fake.connections == n, what)

    def wait_exit(proc, what):
        try:
            proc.wait(timeout=60)
        except Exception:
            relaytest.kill(proc)
            raise
        check(proc.returncode == 0, what)

    def sent_to(fake, address):
        return sum(1 for m in fake.messages if ("To: <%s>" % address).encode() in m)

    procs = []
    try:
        with relaytest.Sender("relay-lease", ["mx-host=slow.test,mx.slow.test,10",
                                              "host-record=mx.slow.test,127.0.0.4",
                                              "mx-host=later.test,mx.later.test,10",
                                              "host-record=mx.later.test,127.0.0.5"],
                              port, relay_timeout="1d") as s:
            com = s.com
            fake = s.fake("127.0.0.4", port, slow)

            # 1. A batch, and a relay that claims a later entry of it.
            s.submit(["sam@slow.test"], pbtest.make_message("first", "1\r\n", sender=s.BOB,
                                                            to="sam@slow.test"))
            first = com.queue()[0]["id"]
            time.sleep(1.1)   # the second entry is due a second later: claimed second
            s.submit(["tom@slow.test", CAROL],
                     pbtest.make_message("second", "2\r\n", sender=s.BOB, to="tom@slow.test"))
            second = [e["id"] for e in com.queue() if e["id"] != first][0]
            # later.test is ours now: carol is delivered locally.
            com.pillarbox("domain", "add", "later.test")
            com.add_user(CAROL, "pw")

            g1, g2 = threading.Event(), threading.Event()
            gates.extend([g1, g2])
            a = com.relay_start("--run-queue", env=clock.env())
            procs.append(a)
            wait_connections(fake, 1, "relay A claimed both entries and waits on the first "
                             "entry's MX")
            clock.set(3700)
            b = com.relay_start("--id", second, env=clock.env())
            procs.append(b)
            wait_connections(fake, 2, "an hour later relay B claimed the second entry (A's "
                             "lease on it ended) and waits on its MX")
            g1.set()
            wait_exit(a, "relay A finished")
            check(sent_to(fake, "sam@slow.test") == 1, "A delivered the first entry")
            g2.set()
            wait_exit(b, "relay B finished")
            check(not com.queue(), "the queue is empty")
            check(sent_to(fake, "tom@slow.test") == 1, "tom@slow.test got the second "
                  "message once (%d)" % sent_to(fake, "tom@slow.test"))
            got = com.inbox(CAROL)
            check(len(got) == 1, "carol (domain local since) got the second message once, "
                  "not also from the relay whose lease had ended (%d)" % len(got))

            # 2. A session longer than an hour.
            s.submit(["sue@slow.test"], pbtest.make_message("third", "3\r\n", sender=s.BOB,
                                                            to="sue@slow.test"))
            third = com.queue()[0]["id"]
            g3 = threading.Event()
            gates.append(g3)
            a = com.relay_start("--id", third, env=clock.env())
            procs.append(a)
            wait_connections(fake, 3, "relay A waits on the MX's greeting")
            clock.set(3700 + 3700)
            code, _ = com.relay("--id", third, env=clock.env())
            check(code == 0, "relay B ran")
            g3.set()
            wait_exit(a, "relay A finished")
            check(not com.queue(), "the queue is empty")
            check(sent_to(fake, "sue@slow.test") == 1, "sue@slow.test got the message once: "
                  "a session within relay_timeout keeps its claim (%d)"
                  % sent_to(fake, "sue@slow.test"))
            r = com.pillarbox("store", "check", check=False)
            check(r.returncode == 0, "store check finds nothing wrong")
        print("relay lease: all checks passed")
    finally:
        for g in list(gates):
            g.set()
        for p in procs:
            if p.poll() is None:
                relaytest.kill(p)
        if os.environ.get("PBTEST_KEEP") != "1":
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
