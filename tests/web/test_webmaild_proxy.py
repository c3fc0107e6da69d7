#!/usr/bin/env python3
"""pillarbox-webmaild behind a reverse proxy (--proxy ADDR), over real HTTP:
  - from a --proxy peer, the client is the last address of X-Forwarded-For
    (the one the proxy appended): failed logins count against that client's
    address, so a guesser behind the proxy does not get everyone throttled,
    and the log names the real client;
  - X-Forwarded-Proto: https from the proxy makes the session cookie Secure;
  - from any other peer both headers are ignored: a client cannot choose
    its own address or pretend to be one of many;
  - without --proxy, one address holds at most 64 connections: a client
    that opens slow ones (slowloris) cannot take all the server's 1000."""
import os
import re
import socket
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures

# More than the per-address throttle's failures (store/auth.c, 30 an IP).
GUESSES = 32
# webmaild.c CONNECTIONS_PER_IP
PER_IP = 64


def slow_connections(server):
    """PER_IP connections that send half a request, then one more: is that
    one closed at once while the others wait?"""
    held = []
    try:
        for _ in range(PER_IP):
            s = socket.create_connection(("127.0.0.1", server.port), 10)
            s.sendall(b"GET /webmail/login HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", server.port), 10)
        extra.sendall(b"GET /webmail/login HTTP/1.1\r\nHost: x\r\n\r\n")
        extra.settimeout(10)
        try:
            refused = extra.recv(100) == b""
        except ConnectionResetError:
            refused = True
        extra.close()
        return refused
    finally:
        for s in held:
            s.close()


def try_login(client, user, password, headers):
    client.cookies = {}
    r = client.get("/login", headers=headers)
    token = re.search(r'name="login_token" value="([0-9a-f]+)"', r.text).group(1)
    return client.post("/login", {"login_token": token, "address": user, "password": password},
                       headers=headers)


def set_cookies(r):
    return "\n".join(v for k, v in r.getheaders() if k.lower() == "set-cookie")


def guesses(client, client_ip):
    """GUESSES wrong logins for unknown addresses from client_ip (as a
    proxy names it); the statuses seen."""
    headers = {"X-Forwarded-For": "203.0.113.9, %s" % client_ip}
    return {try_login(client, "nobody%d@example.com" % i, "wrong", headers).status
            for i in range(GUESSES)}


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
        check(slow_connections(direct), "one address's connection past %d is closed" % PER_IP)
        check(webenv.Client(direct).get("/login").status == 200,
              "and once they are gone the server answers again")
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


if __name__ == "__main__":
    main()
