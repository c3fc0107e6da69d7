"""imapd benchmark (run by hand, not a test): scaling with mailbox size.

For 1,000, 10,000 and 100,000 messages in INBOX (filled by bench_imap_fill
through the store API), over one connection per size, prints the median of
a few runs of: SELECT, FETCH 1:* (UID FLAGS), UID FETCH of the newest 50
ENVELOPEs, UID SEARCH UNSEEN, SEARCH SUBJECT x, SORT by date, subject and
sender (RFC 5256 FROM: the local part, from each message's envelope; RFC
5957 DISPLAYFROM, Roundcube's sender sort: from the message record), THREAD
REFERENCES (each message's header read for its ids) and ORDEREDSUBJECT, a
flag change on one message (STORE), and the time an IDLE session takes to see a new delivery
(from just before `pillarbox deliver` starts to the EXISTS line); and the
private memory (Private_Clean + Private_Dirty of the non-shared mappings in
/proc/PID/smaps) of
an idle logged-in session and of one that selected the 100,000-message
mailbox and fetched its flags.

    cd _build/bench && ../../configure CFLAGS=-O2 && make inetd/imapd admin/pillarbox \
        tests/bench/bench_imap_fill
    top_builddir=$PWD python3 ../../tests/bench/bench_imap.py [SIZES...]

Targets (issue 6): SELECT and the 50-envelope fetch grow less than linearly
(<= 3x from 1,000 to 100,000); FETCH 1:* (UID FLAGS) at 100,000 <= 150 ms;
idle session <= 2 MB, 100,000-message session <= 16 MB."""

import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import imaptest  # noqa: E402
import pbtest  # noqa: E402

RUNS = 5


def timed(c, text, runs=RUNS):
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        u, t = c.cmd(text)
        out.append((time.perf_counter() - t0) * 1000)
        assert b" OK " in t, (text, t)
    return statistics.median(out), u


def timed_bulk(c, text, runs=RUNS):
    """As timed(), reading the answer in bulk (the client's per-line parsing
    would otherwise be measured too); returns the median and the number of
    untagged lines."""
    out = []
    lines = 0
    for _ in range(runs):
        tag = c.tag().encode()
        end = b"\r\n" + tag + b" "
        t0 = time.perf_counter()
        c.send(tag + b" " + text.encode() + b"\r\n")
        buf = b""
        while True:
            buf += c.f.read1(1 << 20)
            i = buf.find(end)
            if i >= 0 and buf.endswith(b"\r\n"):
                break
        out.append((time.perf_counter() - t0) * 1000)
        assert buf[i + len(end):].startswith(b"OK"), buf[i:]
        lines = buf.count(b"\r\n") - 1
    return statistics.median(out), lines


def imapd_pids(svc):
    """imapd processes started by this listener (children of its pid)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read().split()
            with open("/proc/%s/comm" % d) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == "imapd" and int(st[3]) == svc.proc.pid:
            pids.append(int(d))
    return pids


def private_kb(pid):
    """Private_Clean + Private_Dirty of the process's own mappings (heap,
    stacks, libraries' data). Shared mappings are left out: the store's
    region files (the 512 MB Berkeley DB cache) are MAP_SHARED by every
    store process, and a page only this process touched so far would
    otherwise show as "private" although it belongs to the shared cache."""
    total = 0
    cur = 0
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                cur += int(line.split()[1])
            elif line.startswith("VmFlags:"):
                if " sh" not in line:
                    total += cur
                cur = 0
    return total


def rss_anon_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def bench_big_append(fx, svc):
    """APPEND of a 50 MB message (LITERAL+): the time and the session's peak
    anonymous memory, sampled every 2 ms while the literal streams in."""
    import threading
    fx.add_user("big@example.com", "pw")
    c = imaptest.Raw(svc.address)
    c.login("big@example.com", "pw")
    body = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 50000
    pids = imapd_pids(svc)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            for p in pids:
                peak[0] = max(peak[0], rss_anon_kb(p))
            time.sleep(0.002)
    th = threading.Thread(target=sample)
    th.start()
    t0 = time.perf_counter()
    c.send(b"a APPEND INBOX {%d+}\r\n" % len(body))
    c.send(body + b"\r\n")
    _, t = c.until("a")
    ms = (time.perf_counter() - t0) * 1000
    done.set()
    th.join()
    assert b" OK " in t, t
    print("APPEND of %d bytes: %.0f ms, peak anonymous memory of the session %d KB"
          % (len(body), ms, peak[0]))
    c.close()


def main():
    sizes = [int(x) for x in sys.argv[1:]] or [1000, 10000, 100000]
    fx = pbtest.Fixture("imapbench", tls=False, config_extra={"max_message_size": "60M"})
    results = {}
    try:
        svc = imaptest.launch(fx)
        fill = fx.program("tests/bench/bench_imap_fill")
        fx.add_user("idle@example.com", "pw")
        # the first session after `store init` may run recovery: measure a
        # later one, logged in, waiting for a command
        warm = imaptest.Raw(svc.address)
        warm.login("idle@example.com", "pw")
        idle = imaptest.Raw(svc.address)
        idle.login("idle@example.com", "pw")
        time.sleep(0.2)
        before = set(imapd_pids(svc))
        idle_kb = min(private_kb(p) for p in before)
        for p in sorted(before):
            print("idle session pid %d: %d KB private" % (p, private_kb(p)))
        for n in sizes:
            user = "u%d@example.com" % n
            fx.add_user(user, "pw")
            t0 = time.perf_counter()
            subprocess.run([fill, fx.conf, user, "INBOX", str(n)], check=True)
            fill_s = time.perf_counter() - t0
            c = imaptest.Raw(svc.address)
            c.login(user, "pw")
            r = {"fill_s": fill_s}
            r["select"], _ = timed(c, "SELECT INBOX")
            # the first FETCH after SELECT loads the sequence map
            r["fetch_first"], _ = timed_bulk(c, "FETCH 1:* (UID FLAGS)", runs=1)
            c.cmd("SELECT INBOX")
            r["fetch_flags"], nl = timed_bulk(c, "FETCH 1:* (UID FLAGS)")
            assert nl >= n, nl
            r["env50"], u = timed(c, "UID FETCH %d:* (ENVELOPE)" % (n - 49))
            assert len(u) == 50, len(u)
            r["search_unseen"], u = timed(c, "UID SEARCH UNSEEN")
            r["search_subject"], u = timed(c, "SEARCH SUBJECT xylophone")
            assert len(u[0].split()) - 2 == n // 10, u[0][:80]
            for key, text in (("sort_date", "SORT (REVERSE DATE) UTF-8 ALL"),
                              ("sort_subject", "SORT (SUBJECT) UTF-8 ALL"),
                              ("sort_from", "SORT (FROM) UTF-8 ALL"),
                              ("sort_displayfrom", "SORT (DISPLAYFROM) UTF-8 ALL"),
                              ("thread_refs", "THREAD REFERENCES UTF-8 ALL"),
                              ("thread_subject", "THREAD ORDEREDSUBJECT UTF-8 ALL")):
                r[key], u = timed(c, text, runs=3)
                assert len(u) == 1 and len(u[0]) > n, (key, u[0][:80])
            lat = []
            for i in range(RUNS * 2):
                t0 = time.perf_counter()
                c.cmd("STORE %d %sFLAGS (\\Flagged)" % (n // 2, "+-"[i % 2]))
                lat.append((time.perf_counter() - t0) * 1000)
            r["store_one"] = statistics.median(lat)
            # IDLE latency: deliver from outside, wait for EXISTS
            lat = []
            for i in range(3):
                c.send("i IDLE\r\n")
                assert c.line() == b"+ idling"
                t0 = time.perf_counter()
                fx.deliver(user, pbtest.make_message("idle %d" % i, "x\r\n", to=user))
                while True:
                    ln = c.line()
                    if ln.endswith(b" EXISTS"):
                        break
                lat.append((time.perf_counter() - t0) * 1000)
                c.send("DONE\r\n")
                c.until("i")
            r["idle_ms"] = statistics.median(lat)
            pids = [p for p in imapd_pids(svc) if p not in before]
            r["session_kb"] = max(private_kb(p) for p in pids)
            c.cmd("LOGOUT")
            c.close()
            results[n] = r
            print("%7d msgs: fill %.1f s  SELECT %.2f ms  FETCH 1:* (UID FLAGS) %.1f ms (first %.1f)  "
                  "50 ENVELOPEs %.2f ms  UID SEARCH UNSEEN %.1f ms  SEARCH SUBJECT %.1f ms  "
                  "STORE one %.2f ms  IDLE sees delivery %.0f ms  session %d KB"
                  % (n, fill_s, r["select"], r["fetch_flags"], r["fetch_first"], r["env50"], r["search_unseen"],
                     r["search_subject"], r["store_one"], r["idle_ms"], r["session_kb"]))
            print("%7d msgs: SORT (REVERSE DATE) %.1f ms  SORT (SUBJECT) %.1f ms  SORT (FROM) %.1f ms  "
                  "SORT (DISPLAYFROM) %.1f ms  THREAD REFERENCES %.1f ms  THREAD ORDEREDSUBJECT %.1f ms"
                  % (n, r["sort_date"], r["sort_subject"], r["sort_from"], r["sort_displayfrom"],
                     r["thread_refs"], r["thread_subject"]))
        print("idle logged-in session: %d KB private" % idle_kb)
        if len(sizes) > 1:
            lo, hi = results[sizes[0]], results[sizes[-1]]
            for k in ("select", "env50", "fetch_flags", "search_subject"):
                print("%s: x%.2f from %d to %d messages" % (k, hi[k] / lo[k], sizes[0],
                                                            sizes[-1]))
        idle.close()
        bench_big_append(fx, svc)
    finally:
        fx.close()


if __name__ == "__main__":
    main()
