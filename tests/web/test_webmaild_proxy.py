#!/usr/bin/env python3
"""pillarbox-webmaild behind a reverse proxy (--proxy ADDR), over real HTTP:
  - from a --proxy peer, the client is the last address of X-Forwarded-For
    (the one the proxy appended): failed logins count against that client's
    address, so a guesser behind the proxy does not get everyone throttled,
    and the log names the real client;
  - a proxy that adds its own X-Forwarded-For line after the client's
    (HAProxy's option forwardfor) is believed, not the client's line;
  - X-Forwarded-Proto: https from the proxy makes the session cookie Secure;
  - from any other peer both headers are ignored: a client cannot choose
    its own address or pretend to be one of many;
  - without --proxy, one address holds at most 64 connections: a client
    that opens slow ones (slowloris) cannot take all the server's 1000;
  - SIGTERM in the middle of a 20 MB download lets it finish, then the
    server stops (0) without waiting for an idle keep-alive connection."""
import base64
import http.client
import os
import re
import select
import signal
import socket
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures

# More than the per-address throttle's failures (store/auth.c, 30 an IP).
GUESSES = 32
# webmaild.c CONNECTIONS_PER_IP
PER_IP = 64


def slow_connections(server):
    """PER_IP + 1 connections that send half a request: how many are closed
    at once, and how many of the others are then served?  Which one is
    closed is not fixed: the server's threads accept in parallel, so under
    load the last to connect may win a race with one accepted just before.
    And the earlier requests' connections, closed by us a moment ago, may
    still count for a moment, so one or two more may be closed."""
    socks = []
    try:
        for _ in range(PER_IP + 1):
            s = socket.create_connection(("127.0.0.1", server.port), 10)
            s.sendall(b"GET /webmail/login HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        closed = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            # the first close ends the wait; a second may follow at once
            wait = 0.5 if closed else max(0, deadline - time.monotonic())
            ready, _, _ = select.select([s for s in socks if s not in closed], [], [], wait)
            if not ready:
                break
            for s in ready:
                try:
                    data = s.recv(100)
                except ConnectionResetError:
                    data = b""
                if data == b"":
                    closed.append(s)
        if not closed:
            return 0, 0
        served = 0
        for s in socks:
            if s in closed:
                continue
            s.sendall(b"Connection: close\r\n\r\n")
            s.settimeout(10)
            served += s.recv(100).startswith(b"HTTP/1.1 200")
        return len(closed), served
    finally:
        for s in socks:
            s.close()


def try_login(client, user, password, headers):
    client.cookies = {}
    r = client.get("/login", headers=headers)
    token = re.search(r'name="login_token" value="([0-9a-f]+)"', r.text).group(1)
    return client.post("/login", {"login_token": token, "address": user, "password": password},
                       headers=headers)


def login_two_xff(server, user, client_says, proxy_says):
    """A failed sign-in whose request carries two X-Forwarded-For lines: the
    client's, then the proxy's (http.client's putheader, as a dict cannot
    hold a header twice)."""
    c = webenv.Client(server)
    r = c.get("/login")
    token = re.search(r'name="login_token" value="([0-9a-f]+)"', r.text).group(1)
    body = urllib.parse.urlencode({"login_token": token, "address": user,
                                   "password": "wrong"}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.putrequest("POST", server.base + "/login")
    conn.putheader("X-Forwarded-For", client_says)
    conn.putheader("Cookie", "; ".join("%s=%s" % kv for kv in c.cookies.items()))
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("X-Forwarded-For", proxy_says)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    status = conn.getresponse().status
    conn.close()
    return status


def set_cookies(r):
    return "\n".join(v for k, v in r.getheaders() if k.lower() == "set-cookie")


def guesses(client, client_ip):
    """GUESSES wrong logins for unknown addresses from client_ip (as a
    proxy names it); the statuses seen."""
    headers = {"X-Forwarded-For": "203.0.113.9, %s" % client_ip}
    return {try_login(client, "nobody%d@example.com" % i, "wrong", headers).status
            for i in range(GUESSES)}


def graceful_stop(store, servers):
    big = base64.encodebytes(os.urandom(15 << 20)).replace(b"\n", b"\r\n")
    store.deliver("bob@example.com", b"From: a@example.com\r\nTo: bob@example.com\r\n"
                  b"Subject: A large download\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
                  b"MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" + big)
    server = webenv.Webmaild(store, log_name="webmaild-stop.log")
    servers.append(server)
    c = webenv.Client(server)
    c.login()
    r = c.get("/list")
    mb = re.search(r'name="mb" value="(\d+)"', r.text).group(1)
    uid = re.search(r'value="(\d+)" id="sel\d+" aria-label="Select: A large download"',
                    r.text).group(1)
    idle = socket.create_connection(("127.0.0.1", server.port), 10)
    s = socket.create_connection(("127.0.0.1", server.port), 10)
    s.sendall(("GET /webmail/raw?mb=%s&uid=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n"
               % (mb, uid, "; ".join("%s=%s" % kv for kv in c.cookies.items()))).encode())
    s.settimeout(30)
    data = s.recv(65536)
    # the server is in the middle of the response: our buffers hold far less
    server.procs[0].send_signal(signal.SIGTERM)
    time.sleep(0.5)
    while True:
        try:
            got = s.recv(1 << 20)
        except OSError:
            break
        if not got:
            break
        data += got
    s.close()
    idle.close()
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"\r\nContent-Length: (\d+)", head)
    check(m is not None and len(body) == int(m.group(1)) and len(body) > 20 << 20,
          "SIGTERM during a download: it finishes (%d of %s bytes)"
          % (len(body), m and m.group(1).decode()))
    try:
        status = server.procs[0].wait(timeout=10)
    except Exception:
        status = None
    check(status == 0, "... and then the server stops at once, status 0 (%s)" % status)


def main():
    store = webenv.Store()
    proxied = webenv.Webmaild(store, extra_args=["--proxy", "127.0.0.1"],
                              log_name="webmaild-proxied.log")
    direct = webenv.Webmaild(store, log_name="webmaild-direct.log")
    servers = [proxied, direct]
    try:
        c = webenv.Client(proxied)
        seen = guesses(c, "192.0.2.1")
        check(429 in seen, "behind the proxy, one client's guesses get it throttled (%s)" % seen)
        r = try_login(c, "bob@example.com", webenv.USERS["bob@example.com"],
                      {"X-Forwarded-For": "192.0.2.2"})
        check(r.status == 303, "another client behind the same proxy still signs in (%d)"
              % r.status)
        with open(proxied.logs[0]) as f:
            log = f.read()
        check(re.search(r"login failed user=<nobody\d+@example.com> rip=192\.0\.2\.1\b", log)
              is not None, "the log names the client the proxy names, not 203.0.113.9")
        st = login_two_xff(proxied, "twolines@example.com", "198.51.100.7", "192.0.2.6")
        with open(proxied.logs[0]) as f:
            log = f.read()
        check(st == 403 and "login failed user=<twolines@example.com> rip=192.0.2.6 " in log,
              "two X-Forwarded-For lines: the proxy's, the last, names the client (%d)" % st)
        r = try_login(c, "alice@example.com", webenv.USERS["alice@example.com"],
                      {"X-Forwarded-For": "192.0.2.3", "X-Forwarded-Proto": "https"})
        cookie = set_cookies(r)
        check(r.status == 303 and "pbx_session=" in cookie and re.search(r"pbx_session=[0-9a-f]+;[^\n]*Secure", cookie),
              "X-Forwarded-Proto: https from the proxy: a Secure cookie (%s)" % cookie)

        # Not a --proxy: the headers prove nothing.
        d = webenv.Client(direct)
        r = try_login(d, "alice@example.com", webenv.USERS["alice@example.com"],
                      {"X-Forwarded-For": "192.0.2.4", "X-Forwarded-Proto": "https"})
        cookie = set_cookies(r)
        check(r.status == 303 and re.search(r"pbx_session=[0-9a-f]+;", cookie) and "Secure" not in cookie,
              "a direct client's X-Forwarded-Proto is ignored (%s)" % cookie)
        try_login(d, "nobody@example.com", "wrong", {"X-Forwarded-For": "192.0.2.5"})
        with open(direct.logs[0]) as f:
            log = f.read()
        check("login failed user=<nobody@example.com> rip=127.0.0.1" in log,
              "a direct client's X-Forwarded-For is ignored: the log has its peer address")
        closed, served = slow_connections(direct)
        check(1 <= closed <= 3 and closed + served == PER_IP + 1,
              "of %d connections from one address, those past %d are closed at once (%d), "
              "the others served (%d)" % (PER_IP + 1, PER_IP, closed, served))
        check(webenv.Client(direct).get("/login").status == 200,
              "and once they are gone the server answers again")
        graceful_stop(store, servers)
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


if __name__ == "__main__":
    main()
