#!/usr/bin/env python3
"""dist/fail2ban's filter against real log lines.

A throwaway store with the handlers started per connection (pop3d, imapd,
managesieved, smtpd in submission and MX mode, on 127.0.0.1 and on ::1) and two
pillarbox-webmaild (one behind a "proxy" on 127.0.0.1 that names its
clients in X-Forwarded-For, one on ::1 without) and webmail.cgi run as a
web server runs it, then:
  - failed logins of every kind (POP3 USER/PASS and AUTH, a malformed SASL
    response, IMAP LOGIN and AUTHENTICATE, SMTP AUTH PLAIN and LOGIN, the
    webmail's sign-in, ManageSieve AUTHENTICATE), recipients refused by the MX (unknown users,
    relaying) and sessions sent away for too many bad commands or errors;
  - user names that try to forge a field or a line: " rip=1.2.3.4" and
    "> rip=..." inside, a CR LF and a whole log line after it (IMAP
    literal, SASL, the web form), a Unicode line separator;
  - successful logins and a throttled one (neither is to be banned).
The handlers' log lines (mirrored to stderr, without a syslog prefix) are
written out as rsyslog writes them (the traditional and the RFC 3339
format) and as fail2ban's systemd backend formats a journal entry, and
fail2ban-regex runs the shipped filter on each: every failure matches once,
with the client's address (IPv4, IPv6, a proxied one), nothing else
matches, and no forged address is ever taken. The jail file is read too.
Skips (77) without fail2ban-regex (apt-get install fail2ban). Only
fail2ban-regex runs: never the fail2ban server."""
import base64
import configparser
import datetime
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.parse

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import pbtest  # noqa: E402

FILTER = os.path.join(pbtest.TOP_SRCDIR, "dist", "fail2ban", "filter.d", "pillarbox.conf")
JAIL = os.path.join(pbtest.TOP_SRCDIR, "dist", "fail2ban", "jail.d", "pillarbox.conf")
COMMON = "/etc/fail2ban/filter.d/common.conf"   # the filter's "before"
BOB, BOB_PW = "bob@example.com", "bob-Secret-1"
# Addresses only forged names carry: never to be banned.
FORGED = {"1.2.3.4", "203.0.113.66", "2001:db8::66"}
HOST = "mail.example.com"
PROGRAMS = ("pop3d", "imapd", "smtpd", "managesieved", "pillarbox-webmaild", "webmail.cgi")
FAST = {"PILLARBOX_AUTH_DELAY_MS": "0"}   # no growing delays between failures

failures = []


def check(cond, what):
    print("%s - %s" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def b64(text):
    return base64.b64encode(text.encode()).decode()


# ------------------------------------------------------------------ clients

class Line:
    """A line client for POP3, IMAP and SMTP: send a line, read the reply
    (up to a line starting with `until`, a regex)."""

    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=20)
        self.f = self.sock.makefile("rb")
        self.greeting = self.f.readline()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, line, until=r"^(\+OK|-ERR|\+ |[a-z] (OK|NO|BAD) |\d{3} )"):
        self.send(line if isinstance(line, bytes) else line + "\r\n")
        while True:
            got = self.f.readline().decode("utf-8", "replace")
            if got == "" or re.match(until, got):
                return got

    def close(self):
        self.sock.close()


def listen(fx, host, program, *args):
    """`program` per connection under systemd-socket-activate on host (an
    address as systemd writes it: 127.0.0.1 or [::1]); its address."""
    if host == "127.0.0.1":
        return fx.socket_activate(program, *args, env=FAST).address
    port = pbtest.free_port()
    cmd = ["systemd-socket-activate", "--inetd", "--accept", "-l", "%s:%d" % (host, port)]
    for k, v in fx.env(FAST).items():
        cmd += ["-E", "%s=%s" % (k, v)]
    cmd += [program, "--config", fx.conf] + list(args)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fx._log_f, stderr=fx._log_f)
    fx._wait_listening(proc, port, "systemd-socket-activate")
    fx.services.append(pbtest.Service(proc, port, "systemd-socket-activate"))
    return (host.strip("[]"), port)


def pop3_login(addr, user, password):
    c = Line(addr)
    c.cmd("USER " + user)
    reply = c.cmd("PASS " + password)
    c.cmd("QUIT")
    c.close()
    return reply


def pop3_auth(addr, response):
    c = Line(addr)
    reply = c.cmd("AUTH PLAIN " + response)
    c.cmd("QUIT")
    c.close()
    return reply


def pop3_bad_commands(addr):
    c = Line(addr)
    reply = ""
    for _ in range(20):
        reply = c.cmd("XYZZY")
    c.close()
    return reply


def imap(addr, *commands):
    """Runs raw IMAP commands (bytes or str, tagged by the caller): the
    last reply."""
    c = Line(addr)
    reply = ""
    for command in commands:
        reply = c.cmd(command)
    c.cmd("z LOGOUT")
    c.close()
    return reply


def smtp(addr, *commands):
    c = Line(addr)
    c.cmd("EHLO client.example.org")
    replies = [c.cmd(command) for command in commands]
    c.cmd("QUIT")
    c.close()
    return replies


def smtp_errors(addr):
    c = Line(addr)
    c.cmd("EHLO client.example.org")
    for _ in range(20):
        c.cmd("XYZZY")
    reply = c.f.read().decode("utf-8", "replace")   # the 421 and the close
    c.close()
    return reply


class Web:
    """The webmail's sign-in, by hand: headers as given (a list, so a
    header may come twice, as a proxy may send it)."""

    def __init__(self, host, port):
        self.host, self.port = host, port

    def request(self, method, path, headers, body=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.putrequest(method, "/webmail" + path)
        for k, v in headers:
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Type", "application/x-www-form-urlencoded")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body.encode() if body is not None else None)
        r = conn.getresponse()
        r.text = r.read().decode("utf-8", "replace")
        conn.close()
        return r

    def login(self, user, password, headers=()):
        headers = list(headers)
        r = self.request("GET", "/login", headers)
        token = re.search(r'name="login_token" value="([0-9a-f]+)"', r.text).group(1)
        cookies = "; ".join(v.split(";")[0] for k, v in r.getheaders()
                            if k.lower() == "set-cookie")
        body = urllib.parse.urlencode({"login_token": token, "address": user,
                                       "password": password})
        return self.request("POST", "/login", headers + [("Cookie", cookies)], body).status


def cgi_login(fx, remote_addr, user, password, log):
    """A sign-in through webmail.cgi run as a web server runs it (CGI/1.1),
    from REMOTE_ADDR as the server gives it: the HTTP status."""
    env = dict(fx.env(FAST), PILLARBOX_CONF=fx.conf, GATEWAY_INTERFACE="CGI/1.1",
               SCRIPT_NAME="/webmail", PATH_INFO="/login", QUERY_STRING="",
               SERVER_NAME="127.0.0.1", SERVER_PORT="80", SERVER_PROTOCOL="HTTP/1.1",
               REMOTE_ADDR=remote_addr)

    def run(stdin=b"", **extra):
        r = subprocess.run([fx.program("cgi/webmail.cgi")], env=dict(env, **extra),
                           input=stdin, stdout=subprocess.PIPE, stderr=log, timeout=30)
        head, _, body = r.stdout.partition(b"\r\n\r\n")
        return head.decode("latin-1").split("\r\n"), body.decode("utf-8", "replace")

    head, body = run(REQUEST_METHOD="GET")
    token = re.search(r'name="login_token" value="([0-9a-f]+)"', body).group(1)
    cookies = "; ".join(h[12:].split(";")[0] for h in head if h.lower().startswith("set-cookie: "))
    form = urllib.parse.urlencode({"login_token": token, "address": user,
                                   "password": password}).encode()
    head, _ = run(form, REQUEST_METHOD="POST", HTTP_COOKIE=cookies, CONTENT_LENGTH=str(len(form)),
                  CONTENT_TYPE="application/x-www-form-urlencoded")
    status = [h for h in head if h.startswith("Status: ")]
    return int(status[0].split()[1]) if status else 200


def webmaild(fx, listen_on, *args, log):
    port = pbtest.free_port()
    env = fx.env(FAST)
    proc = subprocess.Popen([fx.program("cgi/pillarbox-webmaild"), "--config", fx.conf,
                             "--listen", "%s:%d" % (listen_on, port)] + list(args),
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
    fx._wait_listening(proc, port, "pillarbox-webmaild")
    fx.services.append(pbtest.Service(proc, port, "pillarbox-webmaild"))
    return Web(listen_on.strip("[]"), port)


# ------------------------------------------------------------- expectations

class Expect:
    """Failures that must each match once: from `prog`, a message starting
    with `event`, the user field starting with `user`, banned as `ip`."""

    def __init__(self, label, prog, ip, event, user, count=1, contains=""):
        self.label, self.prog, self.ip, self.event = label, prog, ip, event
        self.user, self.count, self.contains = user, count, contains
        self.seen = []

    def claims(self, prog, message):
        if prog != self.prog or not message.startswith(self.event):
            return False
        if self.contains not in message:
            return False
        m = re.search(r"user=<([^>]*)>", message)
        if self.event.startswith("rcpt refused"):
            m = re.search(r" to=<([^>]*)>", message)
        return m is not None and m.group(1).startswith(self.user)


V4, V6 = "127.0.0.1", "::1"
# A log line as a forged user name carries it: "%s" the program, then the
# webmail's "webmail: " or "", then the mechanism.
FAKE_LINE = ("Nov 28 10:00:00 " + HOST + " %s[1]: %slogin failed user=<x> rip=1.2.3.4 tls=no "
             "mech=%s")


class Run:
    """What a test run caused: the failures to be matched (E) and the
    number of forged names sent."""

    def __init__(self):
        self.E = []
        self.forged = 0


def on_both(fx, program, *args):
    """`program` listening on 127.0.0.1 and on ::1: {client address: address}."""
    return {V4: listen(fx, V4, program, *args), V6: listen(fx, "[::1]", program, *args)}


def produce_pop3(run, pop3):
    """POP3: USER/PASS, AUTH, a malformed response, a forged name, bob, bad commands."""
    for ip in (V4, V6):
        tag = "v4" if ip == V4 else "v6"
        r = pop3_login(pop3[ip], "pop3-user-%s@example.com" % tag, "wrong")
        check(r.startswith("-ERR"), "pop3d %s: USER/PASS with a wrong password refused" % tag)
        run.E.append(Expect("pop3d USER/PASS " + tag, "pop3d", ip, "login failed",
                            "pop3-user-%s@" % tag))
    r = pop3_auth(pop3[V4], b64("\0pop3-plain@example.com\0wrong"))
    check(r.startswith("-ERR"), "pop3d: AUTH PLAIN with a wrong password refused")
    run.E.append(Expect("pop3d AUTH PLAIN", "pop3d", V4, "login failed", "pop3-plain@"))
    r = pop3_auth(pop3[V4], "!!!not-base64")
    check(r.startswith("-ERR"), "pop3d: a malformed AUTH PLAIN response refused")
    run.E.append(Expect("pop3d malformed SASL", "pop3d", V4, "login failed user=<>", "",
                        contains="malformed base64"))
    r = pop3_login(pop3[V4], "forged-pop3> rip=1.2.3.4 tls=no mech=USER: x", "wrong")
    run.forged += 1
    run.E.append(Expect("pop3d forged USER", "pop3d", V4, "login failed", "forged-pop3"))
    r = pop3_login(pop3[V4], BOB, BOB_PW)
    check(r.startswith("+OK"), "pop3d: bob logs in")
    r = pop3_bad_commands(pop3[V4])
    check("Too many" in r, "pop3d: 20 bad commands end the session")
    run.E.append(Expect("pop3d too many bad commands", "pop3d", V4, "too many bad commands", ""))


def sieve_auth(addr, response):
    """One ManageSieve AUTHENTICATE "PLAIN" with `response`: the reply."""
    c = Line(addr)
    until = r"^(OK|NO|BYE)"
    while not re.match(until, c.greeting.decode("utf-8", "replace")):
        c.greeting = c.f.readline()
    reply = c.cmd('AUTHENTICATE "PLAIN" "%s"' % response, until=until)
    c.cmd("LOGOUT", until=until)
    c.close()
    return reply


def produce_sieve(run, sieve):
    """ManageSieve: AUTHENTICATE with a wrong password on both addresses, bob."""
    for ip in (V4, V6):
        tag = "v4" if ip == V4 else "v6"
        r = sieve_auth(sieve[ip], b64("\0sieve-%s@example.com\0wrong" % tag))
        check(r.startswith("NO"), "managesieved %s: AUTHENTICATE with a wrong password refused"
              % tag)
        run.E.append(Expect("managesieved AUTHENTICATE " + tag, "managesieved", ip,
                            "login failed", "sieve-%s@" % tag))
    r = sieve_auth(sieve[V4], b64("\0%s\0%s" % (BOB, BOB_PW)))
    check(r.startswith("OK"), "managesieved: bob logs in")


def produce_imap(run, imap4):
    """IMAP: LOGIN, AUTHENTICATE, forged names (literal, quoted, U+2028), bob."""
    for ip in (V4, V6):
        tag = "v4" if ip == V4 else "v6"
        r = imap(imap4[ip], "a LOGIN imap-user-%s@example.com wrong" % tag)
        check(r.startswith("a NO"), "imapd %s: LOGIN with a wrong password refused" % tag)
        run.E.append(Expect("imapd LOGIN " + tag, "imapd", ip, "login failed",
                            "imap-user-%s@" % tag))
    r = imap(imap4[V4], "b AUTHENTICATE PLAIN " + b64("\0imap-plain@example.com\0wrong"))
    check(r.startswith("b NO"), "imapd: AUTHENTICATE PLAIN with a wrong password refused")
    run.E.append(Expect("imapd AUTHENTICATE", "imapd", V4, "login failed", "imap-plain@"))
    name = ("forged-imap1\r\n" + FAKE_LINE % ("imapd", "", "LOGIN")).encode()
    r = imap(imap4[V4], b"c LOGIN {%d+}\r\n%s wrong\r\n" % (len(name), name))
    check(r.startswith("c NO"), "imapd: LOGIN with CR LF and a log line in a literal refused")
    run.forged += 1
    run.E.append(Expect("imapd forged literal", "imapd", V4, "login failed", "forged-imap1"))
    r = imap(imap4[V4], 'd LOGIN "forged-imap2> rip=1.2.3.4 tls=no mech=LOGIN" wrong')
    check(r.startswith("d NO"), "imapd: LOGIN with '> rip=' in a quoted name refused")
    run.forged += 1
    run.E.append(Expect("imapd forged quoted", "imapd", V4, "login failed", "forged-imap2"))
    r = imap(imap4[V4], "e AUTHENTICATE PLAIN " +
             b64("\0forged-imap3\u2028rip=203.0.113.66\u00a0x@example.com\0wrong"))
    check(r.startswith("e NO"), "imapd: a name with U+2028 and NBSP refused")
    run.forged += 1
    run.E.append(Expect("imapd forged U+2028", "imapd", V4, "login failed", "forged-imap3"))
    r = imap(imap4[V4], "f LOGIN %s %s" % (BOB, BOB_PW))
    check(r.startswith("f OK"), "imapd: bob logs in")


def produce_submission(run, sub):
    """SMTP submission: AUTH PLAIN and LOGIN, a forged name, bob."""
    for ip in (V4, V6):
        tag = "v4" if ip == V4 else "v6"
        r = smtp(sub[ip], "AUTH PLAIN " + b64("\0smtp-plain-%s@example.com\0wrong" % tag))
        check(r[0].startswith("535"), "smtpd %s: AUTH PLAIN with a wrong password refused" % tag)
        run.E.append(Expect("smtpd AUTH PLAIN " + tag, "smtpd", ip, "login failed",
                            "smtp-plain-%s@" % tag))
    r = smtp(sub[V4], "AUTH LOGIN", b64("smtp-login@example.com"), b64("wrong"))
    check(r[-1].startswith("535"), "smtpd: AUTH LOGIN with a wrong password refused")
    run.E.append(Expect("smtpd AUTH LOGIN", "smtpd", V4, "login failed", "smtp-login@"))
    r = smtp(sub[V4], "AUTH PLAIN " +
             b64("\0forged-smtp\r\n" + FAKE_LINE % ("smtpd", "", "PLAIN") + "\0wrong"))
    check(r[0].startswith("535"), "smtpd: AUTH PLAIN with CR LF and a log line refused")
    run.forged += 1
    run.E.append(Expect("smtpd forged SASL", "smtpd", V4, "login failed", "forged-smtp"))
    r = smtp(sub[V4], "AUTH PLAIN " + b64("\0%s\0%s" % (BOB, BOB_PW)))
    check(r[0].startswith("235"), "smtpd: bob logs in")


def produce_mx(run, mx):
    """The MX: a dictionary attack, a relay attempt, a forged recipient, too
    many errors."""
    for ip in (V4, V6):
        tag = "v4" if ip == V4 else "v6"
        r = smtp(mx[ip], "MAIL FROM:<a@example.org>", "RCPT TO:<nobody-%s@example.com>" % tag,
                 "RCPT TO:<nobody2-%s@example.com>" % tag, "RCPT TO:<%s>" % BOB)
        check(r[1].startswith("550") and r[2].startswith("550") and r[3].startswith("250"),
              "smtpd mx %s: unknown users refused, bob accepted (%s)" % (tag, r))
        for who in ("nobody-", "nobody2-"):
            run.E.append(Expect("smtpd mx %s%s" % (who, tag), "smtpd", ip, "rcpt refused",
                                who + tag + "@", contains="reason=no such user"))
    r = smtp(mx[V4], "MAIL FROM:<a@example.org>", "RCPT TO:<someone@example.org>",
             'RCPT TO:<"forged-rcpt> reason=no such user rip=1.2.3.4"@example.com>')
    check(r[1].startswith("554") and r[2].startswith("550"),
          "smtpd mx: relaying and a forged quoted recipient refused (%s)" % r)
    run.forged += 1
    run.E.append(Expect("smtpd mx relay", "smtpd", V4, "rcpt refused", "someone@",
                        contains="reason=relay denied"))
    run.E.append(Expect("smtpd mx forged rcpt", "smtpd", V4, "rcpt refused", "\\x22forged-rcpt"))
    r = smtp_errors(mx[V4])
    check("\r\n421 " in "\r\n" + r, "smtpd mx: 20 bad commands end the session (%r)" % r)
    run.E.append(Expect("smtpd too many errors", "smtpd", V4, "too many errors", ""))


def produce_web(run, fx, web_log):
    """pillarbox-webmaild: behind a proxy that names its clients, and
    direct on ::1."""
    proxied = webmaild(fx, "127.0.0.1", "--proxy", "127.0.0.1", log=web_log)
    direct6 = webmaild(fx, "[::1]", log=web_log)
    W = "pillarbox-webmaild"
    for n, (client, ip) in enumerate((("192.0.2.10", "192.0.2.10"),
                                       ("2001:db8::10", "2001:db8::10"),
                                       ("::ffff:192.0.2.11", "192.0.2.11"))):
        st = proxied.login("web-%d@example.com" % n, "wrong",
                           [("X-Forwarded-For", "203.0.113.66, " + client)])
        check(st == 403, "webmail via the proxy, client %s: sign-in refused (%d)" % (client, st))
        run.E.append(Expect("webmail " + client, W, ip, "webmail: login failed", "web-%d@" % n))
    st = proxied.login("forged-web1\r\n" + FAKE_LINE % (W, "webmail: ", "form"), "wrong",
                       [("X-Forwarded-For", "192.0.2.12")])
    run.forged += 1
    run.E.append(Expect("webmail forged CR LF", W, "192.0.2.12", "webmail: login failed",
                        "forged-web1"))
    st = proxied.login("forged-web2> rip=2001:db8::66 tls=no mech=form", "wrong",
                       [("X-Forwarded-For", "192.0.2.13")])
    run.forged += 1
    run.E.append(Expect("webmail forged rip", W, "192.0.2.13", "webmail: login failed",
                        "forged-web2"))
    # The client's own X-Forwarded-For line first, the proxy's after it.
    st = proxied.login("web-xff@example.com", "wrong", [("X-Forwarded-For", "1.2.3.4"),
                                                        ("X-Forwarded-For", "192.0.2.14")])
    run.E.append(Expect("webmail two X-Forwarded-For", W, "192.0.2.14", "webmail: login failed",
                        "web-xff@"))
    st = proxied.login(BOB, BOB_PW, [("X-Forwarded-For", "192.0.2.15")])
    check(st == 303, "webmail: bob signs in (%d)" % st)
    # Ten failures for one address, then the store throttles it.
    for _ in range(10):
        proxied.login("throttled@example.com", "wrong", [("X-Forwarded-For", "198.51.100.20")])
    st = proxied.login("throttled@example.com", "wrong", [("X-Forwarded-For", "198.51.100.20")])
    check(st == 429, "webmail: the eleventh failure for one address is throttled (%d)" % st)
    run.E.append(Expect("webmail before the throttle", W, "198.51.100.20", "webmail: login failed",
                        "throttled@", count=10))
    st = direct6.login("web-v6@example.com", "wrong")
    check(st == 403, "webmail on ::1: sign-in refused (%d)" % st)
    run.E.append(Expect("webmail direct v6", W, "::1", "webmail: login failed", "web-v6@"))


def produce_cgi(run, fx, web_log):
    """webmail.cgi, with REMOTE_ADDR as the web server gives it (a dual-stack
    socket's IPv4-mapped form included)."""
    for n, (remote, ip) in enumerate((("192.0.2.30", "192.0.2.30"),
                                       ("::ffff:192.0.2.31", "192.0.2.31"),
                                       ("2001:DB8:0::31", "2001:db8::31"))):
        st = cgi_login(fx, remote, "cgi-%d@example.com" % n, "wrong", web_log)
        check(st == 403, "webmail.cgi, REMOTE_ADDR %s: sign-in refused (%d)" % (remote, st))
        run.E.append(Expect("webmail.cgi " + remote, "webmail.cgi", ip, "webmail: login failed",
                            "cgi-%d@" % n))
    st = cgi_login(fx, "192.0.2.32", "forged-cgi rip=1.2.3.4", "wrong", web_log)
    run.forged += 1
    run.E.append(Expect("webmail.cgi forged", "webmail.cgi", "192.0.2.32", "webmail: login failed",
                        "forged-cgi"))
    st = cgi_login(fx, "192.0.2.33", BOB, BOB_PW, web_log)
    check(st == 303, "webmail.cgi: bob signs in (%d)" % st)


def produce(fx, web_log):
    """Causes every event: the expectations and the number of forged names."""
    pop3d, imapd, smtpd = (fx.program("inetd/" + p) for p in ("pop3d", "imapd", "smtpd"))
    run = Run()
    produce_pop3(run, on_both(fx, pop3d))
    produce_imap(run, on_both(fx, imapd))
    produce_sieve(run, on_both(fx, fx.program("inetd/managesieved")))
    produce_submission(run, on_both(fx, smtpd, "--mode=submission", "--relay="))
    produce_mx(run, on_both(fx, smtpd, "--mode=mx", "--relay="))
    produce_web(run, fx, web_log)
    produce_cgi(run, fx, web_log)
    return run.E, run.forged


# ------------------------------------------------------------- fail2ban-regex

def handler_lines(text):
    """The log lines of our programs (the stderr mirror: "prog[pid]: ...")."""
    pat = re.compile(r"^(%s)\[\d+\]: " % "|".join(re.escape(p) for p in PROGRAMS))
    return [ln for ln in text.splitlines() if pat.match(ln)]


def as_syslog(lines, form):
    """The lines as they reach fail2ban: rsyslog's traditional or RFC 3339
    file format, or a journal entry as fail2ban's systemd backend formats it
    (FilterSystemd.formatJournalEntry: ISO time, _HOSTNAME,
    SYSLOG_IDENTIFIER[SYSLOG_PID]:, MESSAGE)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=123456)
    if form == "traditional":
        stamp = now.strftime("%b ") + ("%2d" % now.day) + now.strftime(" %H:%M:%S")
    elif form == "rfc3339":
        stamp = now.isoformat()
    else:
        stamp = now.replace(tzinfo=None).isoformat()
    return ["%s %s %s" % (stamp, HOST, ln) for ln in lines]


def run_regex(confdir, lines, form, logtype):
    path = os.path.join(confdir, "%s.log" % form)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    flt = os.path.join(confdir, "filter.d", "pillarbox.conf")
    if logtype == "journal":
        flt += "[logtype=journal]"
    r = subprocess.run(["fail2ban-regex", "-o", "<ip>\t<F-USER>\t<msg>", path, flt],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out = r.stdout.decode("utf-8", "replace")
    if r.returncode != 0:
        print(out + r.stderr.decode("utf-8", "replace"))
    check(r.returncode == 0, "%s: fail2ban-regex runs the filter" % form)
    rows = []
    for ln in out.splitlines():
        ip, _, rest = ln.partition("\t")
        user, _, msg = rest.partition("\t")
        m = re.search(r" (%s)\[\d+\]:? (.*)$" % "|".join(re.escape(p) for p in PROGRAMS), msg)
        rows.append((ip, user, m.group(1) if m else "?", m.group(2) if m else msg))
    return rows


def verify(form, rows, expects):
    for e in expects:
        e.seen = []
    unclaimed = []
    for ip, user, prog, message in rows:
        owners = [e for e in expects if e.claims(prog, message)]
        if len(owners) != 1:
            unclaimed.append((ip, prog, message))
            continue
        owners[0].seen.append(ip)
    for e in expects:
        check(e.seen == [e.ip] * e.count,
              "%s: %s matches %d time(s) as %s (%s)" % (form, e.label, e.count, e.ip, e.seen))
    check(not unclaimed, "%s: nothing else matches (%s)" % (form, unclaimed))
    bad = [r for r in rows if r[0] in FORGED]
    check(not bad, "%s: no forged address is taken (%s)" % (form, bad))


def check_jail():
    jail = configparser.ConfigParser(interpolation=None)
    jail.read(JAIL)
    sect = jail["pillarbox"] if jail.has_section("pillarbox") else {}
    check(sect.get("enabled", "").strip() == "false", "jail: off until enabled")
    check(sect.get("filter", "").strip() == "pillarbox", "jail: uses the pillarbox filter")
    ports = {p.strip() for p in sect.get("port", "").split(",")}
    check(ports == {"25", "465", "587", "110", "995", "143", "993", "4190", "80", "443"},
          "jail: the mail and web ports (%s)" % sorted(ports))
    check(all(sect.get(k) for k in ("maxretry", "findtime", "bantime", "logpath", "backend")),
          "jail: maxretry, findtime, bantime, logpath and backend set")
    flt = configparser.ConfigParser(interpolation=None)
    flt.read(FILTER)
    jm = flt.get("Definition", "journalmatch", fallback="").split()
    check(sorted(jm) == sorted(["SYSLOG_IDENTIFIER=%s" % p for p in
                                PROGRAMS]
                               + ["SYSLOG_FACILITY=2"]),
          "filter: journalmatch names every program, facility mail (%s)" % jm)


def main():
    if shutil.which("fail2ban-regex") is None or not os.path.exists(COMMON):
        print("SKIP: fail2ban-regex or %s not found (apt-get install fail2ban)" % COMMON)
        sys.exit(pbtest.SKIP)
    pbtest.require("systemd-socket-activate", "systemd")
    check_jail()
    extra = {"templates": os.path.join(pbtest.TOP_SRCDIR, "templates"),
             "webmail_base": "/webmail"}
    with pbtest.Fixture("f2b", tls=False, config_extra=extra) as fx:
        fx.add_user(BOB, BOB_PW)
        web_path = os.path.join(fx.dir, "webmaild.log")
        with open(web_path, "ab") as web_log:
            expects, forged = produce(fx, web_log)
            for svc in fx.services:
                svc.stop()
            fx.services = []
        with open(web_path, "rb") as f:
            text = fx.log_text() + f.read().decode("utf-8", "replace")
        lines = handler_lines(text)
        # What must not match is in the log; forged names stay on their line.
        for prog, success in (("pop3d", " login user=<%s> " % BOB),
                              ("imapd", " login user=<%s> " % BOB),
                              ("smtpd", " login user=<%s> " % BOB),
                              ("pillarbox-webmaild", "webmail: login user=<%s> " % BOB),
                              ("webmail.cgi", "webmail: login user=<%s> " % BOB)):
            check(any(ln.startswith(prog + "[") and success in ln for ln in lines),
                  "%s logs bob's successful login" % prog)
        check(any("webmail: login throttled user=<throttled@example.com> rip=198.51.100.20"
                  in ln for ln in lines), "the throttled sign-in is logged")
        check(sum("forged-" in ln for ln in lines) == forged,
              "each forged name is on one line (%d)" % forged)
        check(not any(ln.startswith("Nov 28") or "\u2028" in ln for ln in text.splitlines()),
              "no forged line, no raw line separator in the log")
        confdir = os.path.join(fx.dir, "fail2ban")
        os.makedirs(os.path.join(confdir, "filter.d"))
        shutil.copy(COMMON, os.path.join(confdir, "filter.d"))
        shutil.copy(FILTER, os.path.join(confdir, "filter.d"))
        for form, logtype in (("traditional", "file"), ("rfc3339", "file"),
                              ("journal", "journal")):
            rows = run_regex(confdir, as_syslog(lines, form), form, logtype)
            verify(form, rows, expects)
        if failures:
            print(text[-8000:])
    print("%d failed" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
