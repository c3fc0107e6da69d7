#!/usr/bin/env python3
"""Webmail benchmark (run by hand, as root; not part of make check):

    top_builddir=_build/bench top_srcdir=. python3 tests/bench/bench_webmail.py [SECONDS]

Builds nothing: point top_builddir at an optimised build without sanitizers
(e.g. ../../configure CFLAGS=-O2 in _build/bench, then make). Makes a store
where bob has 100,000 messages in INBOX and alice 100, starts
pillarbox-webmaild and Apache + webmail.cgi on loopback ports (mpm_event
+ mod_cgid, as Debian and dist/apache set it up, mpm_prefork + mod_cgi, and
mod_fcgid, where webmail.cgi is a FastCGI server) and nginx with webmail.cgi
as a socket-activated FastCGI server, and runs wrk
(2 threads, 8 connections) against the message list page and one message
of each mailbox, and with one connection against the big list page. Prints requests/s, median and p99 latency, and the
targets: webmaild's list page p99 <= 20 ms, and CGI under Apache at most 3x
webmaild's median latency; beside the latter, the floor: a CGI program that
only prints a fixed page (tests/bench/bench_cgi_floor) under the same Apache."""
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "web"))
import webenv  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v


def wrk(url, cookie, conns=8, seconds=None):
    r = subprocess.run(["wrk", "-t%d" % min(conns, 2), "-c%d" % conns,
                        "-d%ds" % (seconds or SECONDS),
                        "--latency", "-H", "Cookie: " + cookie, url],
                       capture_output=True, text=True)
    out = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(non2xx.group(1)) if non2xx else 0


def main():
    if shutil.which("wrk") is None:
        webenv.skip("wrk is not installed (apt-get install wrk)")
    fill = os.path.join(webenv.TOP_BUILDDIR, "tests", "bench", "bench_webmail_fill")
    store = webenv.Store()
    servers = []
    try:
        t = time.time()
        subprocess.run([fill, store.conf, "bob@example.com", "100000"], check=True)
        subprocess.run([fill, store.conf, "alice@example.com", "100"], check=True)
        print("filled the store in %.1f s" % (time.time() - t))
        servers.append(webenv.Webmaild(store))
        floor = os.path.join(webenv.TOP_BUILDDIR, "tests", "bench", "bench_cgi_floor")
        floor_conf = ("ScriptAlias /floor %s\n<Files bench_cgi_floor>\nRequire all granted\n"
                      "</Files>\n" % floor) if os.access(floor, os.X_OK) else ""
        if webenv.is_root():
            servers.append(webenv.Apache(store, log_stderr=False, extra_conf=floor_conf))
            servers.append(webenv.Apache(store, log_stderr=False, mpm="prefork"))
            servers.append(webenv.Apache(store, log_stderr=False, mpm="fcgid"))
            servers.append(webenv.Nginx(store, fastcgi=True, log_stderr=False))
        c = webenv.Client(servers[0])
        rows = {}
        for user, size in (("bob@example.com", "100,000"), ("alice@example.com", "100")):
            c.cookies = {}
            c.login(user)
            cookie = "pbx_session=" + c.cookies["pbx_session"]
            r = c.get("/list")
            uid = re.search(r'name="uid" value="(\d+)"', r.text).group(1)
            mb = re.search(r'name="mb" value="(\d+)"', r.text).group(1)
            c.get("/msg?mb=%s&uid=%s" % (mb, uid))     # read once: later views change nothing
            for s in servers:
                # warm-up, not counted: mod_fcgid starts its processes as the
                # load comes, and a request waiting for one waits a second
                wrk(s.url("/list"), cookie, seconds=5)
                for page, path in (("list page", "/list"),
                                   ("one message", "/msg?mb=%s&uid=%s" % (mb, uid))):
                    rows[(s.name, size, page)] = wrk(s.url(path), cookie)
                if size == "100,000":
                    rows[(s.name, size, "list, 1 conn")] = wrk(s.url("/list"), cookie, 1)
                # (not under mpm_prefork: mod_cgi sends a page that small
                # in two small writes, and Nagle's algorithm with delayed
                # ACKs holds the second 40 ms: no floor to compare with)
                if size == "100,000" and floor_conf and s.name == "apache":
                    rows[(s.name, "-", "bare CGI")] = wrk(
                        "http://127.0.0.1:%d/floor" % s.port, cookie)
        print("\n%-14s %-9s %-12s %10s %10s %10s" % ("server", "mailbox", "page", "req/s",
                                                    "median ms", "p99 ms"))
        for (name, size, page), (rps, p50, p99, bad) in rows.items():
            print("%-14s %-9s %-12s %10.0f %10.2f %10.2f%s" % (
                name, size, page, rps, p50, p99, "  (%d non-2xx!)" % bad if bad else ""))
        p99 = rows[("webmaild", "100,000", "list page")][2]
        print("\ntarget: webmaild list page p99 <= 20 ms: %.2f ms: %s"
              % (p99, "met" if p99 <= 20 else "MISSED"))
        for s in servers[1:]:
            for page in ("list page", "one message"):
                ratio = rows[(s.name, "100,000", page)][1] / rows[("webmaild", "100,000", page)][1]
                print("target: %s+%s median <= 3x webmaild's (%s): %.1fx: %s"
                      % (s.name, "CGI" if s.name in ("apache", "apache-prefork") else "FastCGI",
                         page, ratio,
                         "met" if ratio <= 3 else "MISSED"))
            if (s.name, "-", "bare CGI") in rows:
                print("  (the floor: a CGI that only prints a fixed page, %.1fx webmaild's list "
                      "page, under the same %s)" % (
                          rows[(s.name, "-", "bare CGI")][1]
                          / rows[("webmaild", "100,000", "list page")][1], s.name))
    finally:
        for s in servers:
            s.stop()
        for s in servers:     # what went wrong, if anything did
            for line in s.log().splitlines():
                if (("error" in line.lower() or "recover" in line.lower()) and "AH01630" not in line
                        and not line.startswith("==>")):
                    print("%s: %s" % (s.name, line[:300]))
        store.cleanup()


main()
