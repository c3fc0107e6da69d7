#!/usr/bin/env python3
"""The webmail's security and bad-input behaviour over real HTTP, against
pillarbox-webmaild, Apache + webmail.cgi (mod_cgid under mpm_event, mod_cgi
under mpm_prefork, and mod_fcgid, where webmail.cgi is a FastCGI server) and
nginx + fcgiwrap + webmail.cgi, or nginx + webmail.cgi as a FastCGI server
(socket-activated), sharing one store:
  - both front ends give byte-for-byte the same HTML for the same request;
  - every response carries CSP, X-Frame-Options, Referrer-Policy, nosniff,
    X-DNS-Prefetch-Control: off;
  - the pages link their icon, which every server answers as image/svg+xml;
  - a POST without or with a wrong CSRF token changes nothing; another
    user's session cannot act on or read this one's mailboxes;
  - a forged Host header and paths like /webmail/../ reach nothing;
    webmaild answers 400 to an HTTP/1.1 request without one valid Host
    and accepts the absolute form (RFC 9112 3.2);
  - static files answer conditional GETs: 304 for a list and a weak
    If-None-Match, no body, no Content-Length but the 200's;
  - a 100 MB POST, a multipart body without its final boundary, a 10,000
    character boundary, a 1 MB query string, invalid UTF-8 in each field and
    unknown routes get a 4xx answer, and the servers keep working."""
import http.client
import os
import re
import shutil
import socket
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures


def raw_request(server, data, read_timeout=30.0, send_more=None):
    """Sends raw bytes, returns the status code (0 if the connection closed
    without an answer)."""
    s = socket.create_connection(("127.0.0.1", server.port), 10)
    try:
        s.sendall(data)
        if send_more is not None:
            try:
                for chunk in send_more:
                    s.sendall(chunk)
            except OSError:
                pass        # the server answered early and closed: fine
        s.settimeout(read_timeout)
        buf = b""
        end = time.time() + read_timeout
        while b"\r\n" not in buf and time.time() < end:
            try:
                got = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                break
            if not got:
                break
            buf += got
        m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
        return int(m.group(1)) if m else 0
    finally:
        s.close()


def uid_of(client, subject, mb=""):
    r = client.get("/list?sort=date&dir=desc" + ("&mb=%s" % mb if mb else ""))
    m = re.search(r'value="(\d+)" id="sel\d+" aria-label="Select: %s"' % re.escape(subject), r.text)
    return m.group(1) if m else None


def row_class(client, subject):
    r = client.get("/list?sort=date&dir=desc")
    m = re.search(r'<li class="([^"]*)">\s*<label class="pick"><input type="checkbox" name="uid" '
                  r'value="\d+" id="sel\d+" aria-label="Select: %s"' % re.escape(subject), r.text)
    return m.group(1) if m else ""


def inbox_id(client):
    r = client.get("/list")
    return re.search(r'name="mb" value="(\d+)"', r.text).group(1)


def security_headers(server):
    c = webenv.Client(server)
    for path in ("/login", "/nowhere", "/static/style.css"):
        r = c.get(path)
        h = {k.lower(): v for k, v in r.getheaders()}
        ok = ("default-src 'none'" in h.get("content-security-policy", "") and
              h.get("x-frame-options") in ("DENY", "SAMEORIGIN") and
              h.get("referrer-policy") == "no-referrer" and
              h.get("x-dns-prefetch-control") == "off" and
              h.get("x-content-type-options") == "nosniff")
        check(ok or (path.startswith("/static") and h.get("x-content-type-options") == "nosniff"),
              "%s: %s carries the security headers" % (server.name, path))
    r = webenv.Client(server).get("/login")
    cookie = [v for k, v in r.getheaders() if k.lower() == "set-cookie"]
    check(any("HttpOnly" in v and "SameSite=Strict" in v for v in cookie),
          "%s: cookies are HttpOnly and SameSite=Strict" % server.name)


def icon(server):
    """The layout links an SVG icon from the static files (browsers ask
    for /favicon.ico, a 404, without one); it answers as image/svg+xml,
    whoever serves the static files (the program, or Apache's and nginx's
    own alias), and the pages' CSP lets it load as an image."""
    c = webenv.Client(server)
    signed_out = c.get("/login")
    c.login()
    for path, r in (("/login", signed_out), ("/list", c.get("/list"))):
        m = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', r.text)
        check(r.status == 200 and m is not None and m.group(1) == server.base + "/static/logo.svg",
              "%s: %s links the icon (%s)" % (server.name, path, m and m.group(1)))
        csp = r.getheader("Content-Security-Policy") or ""
        check("img-src 'self'" in csp,
              "%s: %s: the CSP lets the icon load (%s)" % (server.name, path, csp))
        if m is None:
            continue
        r = c.get(m.group(1), raw_path=True)
        check(r.status == 200 and (r.getheader("Content-Type") or "").startswith("image/svg+xml")
              and r.body.lstrip().startswith(b"<svg"),
              "%s: the icon answers %d %s" % (server.name, r.status, r.getheader("Content-Type")))


def static_conditional(server):
    """A conditional GET of a static file served by the program itself: 304
    for the weak comparison and a list (RFC 9110 13.1.2), without a body and
    with no Content-Length but the 200's (8.6); the connection goes on."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", server.base + "/static/style.css")
        r = conn.getresponse()
        size, etag = len(r.read()), r.getheader("ETag")
        for inm in (etag, "W/%s" % etag, '"other", %s' % etag):
            conn.request("GET", server.base + "/static/style.css", headers={"If-None-Match": inm})
            r = conn.getresponse()
            body = r.read()
            length = r.getheader("Content-Length")
            check(r.status == 304 and body == b"" and length in (None, str(size)),
                  "%s: If-None-Match: %s: 304, Content-Length %s of %d" % (server.name, inm,
                                                                          length, size))
        conn.request("GET", server.base + "/static/logo.svg")
        r = conn.getresponse()
        check(r.status == 200 and r.read().lstrip().startswith(b"<svg"),
              "%s: the connection goes on after the 304s" % server.name)
    finally:
        conn.close()


def cgi_icon(store):
    """webmail.cgi answering for the static files itself (where the web
    server has no alias for them): the icon's type as webmaild gives it."""
    import subprocess
    env = dict(store.env, PILLARBOX_CONF=store.conf, GATEWAY_INTERFACE="CGI/1.1",
               REQUEST_METHOD="GET", SCRIPT_NAME="/webmail", PATH_INFO="/static/logo.svg",
               QUERY_STRING="", SERVER_NAME="127.0.0.1", SERVER_PORT="80",
               REMOTE_ADDR="127.0.0.1", SERVER_PROTOCOL="HTTP/1.1")
    def get(**extra):
        r = subprocess.run([webenv.CGI], env=dict(env, **extra), capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=30)
        head, _, body = r.stdout.partition(b"\r\n\r\n")
        return r.returncode, head.decode("latin-1").split("\r\n"), body

    code, lines, body = get()
    check(code == 0 and "Status: 200 OK" in lines and "Content-Type: image/svg+xml" in lines
          and body.lstrip().startswith(b"<svg"),
          "webmail.cgi as a CGI: the icon answers %s" % "; ".join(
              l for l in lines if l.startswith(("Status:", "Content-Type:"))))
    # conditional GETs (RFC 9110 13.1.2): the weak comparison, a list
    etag = [l[6:] for l in lines if l.startswith("ETag: ")]
    etag = etag[0] if etag else '"none"'
    for inm, want in ((etag, 304), ("W/" + etag, 304), ('"other", ' + etag, 304),
                      ('"other"', 200)):
        code, lines, body = get(HTTP_IF_NONE_MATCH=inm)
        status = "Status: %d" % want
        check(any(l.startswith(status) for l in lines) and (want == 200 or body == b""),
              "webmail.cgi: If-None-Match: %s answers %d (%s)" % (inm, want, lines[0]))


def csrf_and_sessions(server):
    bob = webenv.Client(server)
    bob.login()
    alice = webenv.Client(server)
    alice.login("alice@example.com")
    mb = inbox_id(bob)
    uid = uid_of(bob, "Plain text message")
    check(uid is not None, "%s: the test message is listed" % server.name)
    token = bob.csrf()
    for what, fields in (("no token", {"mb": mb, "uid": uid, "op": "flag"}),
                         ("a wrong token", {"mb": mb, "uid": uid, "op": "flag", "csrf": "0" * 64}),
                         ("alice's token", {"mb": mb, "uid": uid, "op": "flag",
                                            "csrf": alice.csrf()})):
        r = bob.post("/action", fields)
        check(r.status == 403, "%s: a POST with %s is refused (%d)" % (server.name, what, r.status))
        check("flagged" not in row_class(bob, "Plain text message"),
              "%s: ... and changed nothing" % server.name)
    r = bob.post("/action", {"mb": mb, "uid": uid, "op": "flag", "csrf": token})
    check(r.status == 303 and "flagged" in row_class(bob, "Plain text message"),
          "%s: the same POST with the token works" % server.name)
    bob.post("/action", {"mb": mb, "uid": uid, "op": "unflag", "csrf": token})
    # a move that moves nothing: into the same folder, or of a message no
    # longer there (the form sent twice); the answer once read a pointer
    # that was never set (found by fuzz_webmail)
    select = re.search(r'<select id="moveto" name="to">(.*?)</select>', bob.get("/list").text)
    other = [v for v in re.findall(r'value="(\d+)"', select.group(1)) if v != mb][0]
    for what, moved, to in (("into the same folder", uid, mb),
                             ("of a message not there", "999999", other)):
        for op in ("move", "copy"):
            r = bob.post("/action", {"mb": mb, "uid": moved, "op": op, "to": to, "csrf": token})
            check(r.status == 303, "%s: a %s %s goes back to the list (%d)"
                  % (server.name, op, what, r.status))
    check(uid_of(bob, "Plain text message") == uid, "%s: ... and the message stays" % server.name)
    # alice's session against bob's mailbox
    r = alice.get("/list?mb=%s" % mb)
    check(r.status == 404 and "Plain text message" not in r.text,
          "%s: another user's folder is not found" % server.name)
    r = alice.get("/msg?mb=%s&uid=%s" % (mb, uid))
    check(r.status == 404 and "Hello Bob" not in r.text,
          "%s: another user's message is not found" % server.name)
    r = alice.get("/raw?mb=%s&uid=%s" % (mb, uid))
    check(r.status == 404 and b"Hello Bob" not in r.body, "%s: nor its source" % server.name)
    r = alice.post("/action", {"mb": mb, "uid": uid, "op": "delete", "csrf": alice.csrf()})
    check(r.status == 404, "%s: another user's message cannot be deleted" % server.name)
    check(uid_of(bob, "Plain text message") == uid, "%s: ... it is still there" % server.name)
    # logout destroys the session: the old cookie is worthless
    old = dict(bob.cookies)
    bob.post("/logout", {"csrf": token})
    replay = webenv.Client(server)
    replay.cookies = old
    r = replay.get("/list")
    check(r.status == 303 and "/login" in r.getheader("Location", ""),
          "%s: a cookie from a destroyed session leads to sign-in" % server.name)
    # the session id changes at sign-in (no fixation)
    fix = webenv.Client(server)
    fix.cookies["pbx_session"] = "ab" * 32
    fix.login()
    check(fix.cookies.get("pbx_session") not in (None, "ab" * 32),
          "%s: signing in issues a new session id" % server.name)
    # an expired session returns to where the user was
    lost = webenv.Client(server)
    lost.cookies["pbx_session"] = "cd" * 32
    r = lost.get("/list?sort=subject")
    loc = r.getheader("Location", "")
    check(r.status == 303 and "expired=1" in loc and "next=%2Flist%3Fsort%3Dsubject" in loc,
          "%s: an unknown session goes to sign-in with the way back (%s)" % (server.name, loc))


def host_and_paths(server):
    c = webenv.Client(server)
    c.login()
    r = c.get("/list", headers={"Host": "evil.example", "Cookie": "; ".join(
        "%s=%s" % kv for kv in c.cookies.items())})
    check(r.status == 200 and "evil.example" not in r.text,
          "%s: a forged Host is not reflected" % server.name)
    r = c.get("/", headers={"Host": "evil.example", "Cookie": "; ".join(
        "%s=%s" % kv for kv in c.cookies.items())})
    check(r.getheader("Location", "").startswith("/webmail/"),
          "%s: redirects stay on this site (%s)" % (server.name, r.getheader("Location")))
    if server.name == "webmaild":
        # its own port: the site's root leads to the webmail
        r = webenv.Client(server).get("/", raw_path=True)
        check(r.status == 303 and r.getheader("Location") == "/webmail/",
              "%s: / redirects to /webmail/ (%d %s)" % (server.name, r.status,
                                                        r.getheader("Location")))
        # RFC 9112 3.2: one valid Host in HTTP/1.1; the absolute form accepted
        for host, want in (("", 400), ("Host: a\r\nHost: b\r\n", 400), ("Host: a b\r\n", 400),
                           ("Host: [::1]:8080\r\n", 200)):
            status = raw_request(server, ("GET /webmail/login HTTP/1.1\r\n%sConnection: close"
                                          "\r\n\r\n" % host).encode())
            check(status == want, "%s: a request with %r: %d (%d)" % (server.name, host, want,
                                                                     status))
        for target in ("http://127.0.0.1/webmail/login?x=1", "HTTP://h", "https://h?y"):
            status = raw_request(server, ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                                          "close\r\n\r\n" % target).encode())
            check(status in (200, 303), "%s: the absolute form %s is accepted (%d)"
                  % (server.name, target, status))
    for p in ("/webmail/../etc/passwd", "/webmail/static/../../pillarbox.conf",
              "/webmail/static/%2e%2e/%2e%2e/pillarbox.conf", "/webmail/%2e%2e/",
              "/webmail/static/..%2fstyle.css", "/webmail//list", "/webmail/static/",
              "/webmail/static/style.css%00.png", "/webmail/list/..", "/etc/passwd",
              "/webmail/static/.htaccess"):
        # (a web server may merge "//" itself: then it is just the list)
        r = c.get(p, raw_path=True)
        merged = p == "/webmail//list" and r.status == 200 and "<h1>Inbox</h1>" in r.text
        check(400 <= r.status < 500 or merged or
              (r.status in (301, 302, 303) and
               r.getheader("Location", "").split("127.0.0.1:%d" % server.port)[-1].startswith("/webmail/")),
              "%s: %s reaches nothing (%d)" % (server.name, p, r.status))
        check("store =" not in r.text and "root:x" not in r.text,
              "%s: %s leaks no file" % (server.name, p))


def bad_input(server):
    c = webenv.Client(server)
    c.login()
    token = c.csrf()
    base = server.base
    hdr = ("POST %s/action HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n")
    cookie = "; ".join("%s=%s" % kv for kv in c.cookies.items())
    chunk = b"a" * 65536
    status = raw_request(server, (hdr % (base, cookie, 100 * 1024 * 1024)).encode(),
                         send_more=(chunk for _ in range(16)))
    check(400 <= status < 500, "%s: a 100 MB POST gets a 4xx (%d)" % (server.name, status))
    body = ("--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
            "--XyZ\r\nContent-Disposition: form-data; name=\"op\"\r\n\r\nflag" % token)
    r = c.request("POST", "/action", body=body,
                  headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    check(r.status == 400, "%s: multipart without its final boundary: 400 (%d)" % (server.name, r.status))
    r = c.request("POST", "/action", body="--" + "b" * 10000 + "--\r\n",
                  headers={"Content-Type": "multipart/form-data; boundary=" + "b" * 10000})
    check(400 <= r.status < 500, "%s: a 10,000 character boundary: 4xx (%d)" % (server.name, r.status))
    # a field over the form's limit in the middle of a multipart body gets
    # its 413 page (webmaild closed the connection without an answer)
    body = ("--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
            "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n%s\r\n"
            "--XyZ\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\nx@example.com\r\n"
            "--XyZ--\r\n" % (token, "y" * 300000))
    try:
        r = c.request("POST", "/compose", body=body,
                      headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
        status = r.status
    except (ConnectionError, http.client.HTTPException):
        status = 0
    check(status == 413, "%s: a 300 KB form field: 413 (%d)" % (server.name, status))
    q = "x=" + "a" * (1024 * 1024)
    status = raw_request(server, ("GET %s/list?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n"
                                  % (base, q, cookie)).encode())
    check(400 <= status < 500 or status == 0,
          "%s: a 1 MB query string: 4xx or refused (%d)" % (server.name, status))
    for what, path, fields in (
            ("the address", "/login", {"login_token": "x", "address": b"\xff\xfe@example.com",
                                       "password": "x"}),
            ("the password", "/login", {"login_token": "x", "address": "bob@example.com",
                                        "password": b"\xc3\x28"}),
            ("a uid", "/action", {"csrf": token, "mb": "1", "op": "flag", "uid": b"\xff"}),
            ("the op", "/action", {"csrf": token, "mb": "1", "op": b"fl\xe9g"}),
            ("the token", "/action", {"csrf": b"\xf0\x28\x8c\x28", "mb": "1", "op": "flag"}),
            ("a setting", "/settings", {"csrf": token, "tz": b"\xed\xa0\x80"})):
        from urllib.parse import urlencode
        r = c.request("POST", path, body=urlencode(fields))
        check(r.status == 400, "%s: invalid UTF-8 in %s: 400 (%d)" % (server.name, what, r.status))
    for q in ("mb=%FF", "sort=%C0%AF", "from=%ED%A0%80", "next=%FE"):
        r = c.get("/list?" + q)
        check(r.status == 400, "%s: invalid UTF-8 in the query %s: 400 (%d)" % (server.name, q, r.status))
    for p in ("/nowhere", "/list/extra", "/static/nothing.css", "/msg?mb=1&uid=999999",
              "/part?mb=1&uid=1&part=999", "/body?mb=1&uid=1&part=0"):
        r = c.get(p)
        check(400 <= r.status < 500, "%s: %s: 4xx (%d)" % (server.name, p, r.status))
    r = c.request("PUT", "/list", body="x")
    check(r.status in (405, 400, 403), "%s: an unknown method: 4xx (%d)" % (server.name, r.status))
    r = c.get("/login")
    check(r.status == 200, "%s: still serving after all that" % server.name)


def same_html(webmaild, cgi):
    a = webenv.Client(webmaild)
    a.login()
    b = webenv.Client(cgi)
    b.cookies = dict(a.cookies)       # one store: the session works on both
    mb = inbox_id(a)
    uid = uid_of(a, "Files attached")
    a.get("/msg?mb=%s&uid=%s" % (mb, uid))      # read once: no state change after
    for path in ("/list", "/list?sort=subject&dir=asc", "/msg?mb=%s&uid=%s" % (mb, uid),
                 "/settings", "/list?subject=flowed", "/nowhere",
                 "/body?mb=%s&uid=%s&part=1" % (mb, uid_of(a, "HTML newsletter") or "0")):
        ra, rb = a.get(path), b.get(path)
        check(ra.status == rb.status and ra.body == rb.body,
              "%s and %s give the same page for %s" % (webmaild.name, cgi.name, path))


def https(server):
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=30)
    conn.request("GET", "/webmail/login")
    r = conn.getresponse()
    r.read()
    cookies = [v for k, v in r.getheaders() if k.lower() == "set-cookie"]
    check(r.status == 200 and any("Secure" in v for v in cookies),
          "%s: the sign-in page over TLS sets a Secure cookie" % server.name)
    check("max-age" in (r.getheader("Strict-Transport-Security") or ""),
          "%s: HTTPS answers carry Strict-Transport-Security" % server.name)
    conn.close()


def site_templates(store):
    """Site overrides in "templates" beside pillarbox.conf: a changed error
    page, and a broken print page."""
    d = os.path.join(store.dir, "templates")
    os.makedirs(d)
    with open(os.path.join(webenv.TEMPLATES, "error.html")) as f:
        page = f.read()
    with open(os.path.join(d, "error.html"), "w") as f:
        f.write(page.replace("<h1>", '<h1 class="site-override">'))
    with open(os.path.join(d, "print.html"), "w") as f:
        f.write("<p>{{#if broken}}never closed</p>\n")
    os.chmod(d, 0o755)


def overrides(server):
    c = webenv.Client(server)
    c.login()
    r = c.get("/nowhere")
    check(r.status == 404 and 'class="site-override"' in r.text,
          "%s: a site template overrides the shipped one" % server.name)
    mb = inbox_id(c)
    uid = uid_of(c, "Plain text message")
    r = c.get("/print?mb=%s&uid=%s" % (mb, uid))
    check(r.status == 500 and "Webmail unavailable" in r.text,
          "%s: a broken template gives a clear error page (%d)" % (server.name, r.status))
    check(any("print.html:" in line and "not closed" in line
              for line in server.log().splitlines()) or server.name != "webmaild",
          "%s: ... and a log line naming the file and line" % server.name)
    r = c.get("/list")
    check(r.status == 200, "%s: ... and the other pages still work" % server.name)


def main():
    store = webenv.Store()
    site_templates(store)
    servers = []
    try:
        servers.append(webenv.Webmaild(store))
        if shutil.which("certtool") is not None:
            tls = webenv.Webmaild(store, https=True)
            servers.append(tls)
            https(tls)
            servers.remove(tls)
            tls.stop()
        if webenv.is_root():
            servers.append(webenv.Apache(store))
            servers.append(webenv.Nginx(store))
            # mod_cgi hands the body over a pipe, mod_cgid over a socket;
            # under mod_fcgid one webmail.cgi serves request after request
            servers.append(webenv.Apache(store, mpm="prefork"))
            servers.append(webenv.Apache(store, mpm="fcgid"))
            servers.append(webenv.Nginx(store, fastcgi=True))
        cgi_icon(store)
        static_conditional(servers[0])
        for s in servers:
            overrides(s)
            security_headers(s)
            icon(s)
            csrf_and_sessions(s)
            host_and_paths(s)
            bad_input(s)
        if len(servers) > 1:
            for other in servers[1:]:
                same_html(servers[0], other)
        # every process of every server closed the store when stopped, the
        # FastCGI ones on SIGTERM among them
        for s in servers:
            s.stop()
        left = webenv.registry_pids(store)
        check(not left, "every server's processes closed the store when stopped (still "
              "registered: %s)" % left)
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


main()
