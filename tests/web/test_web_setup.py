#!/usr/bin/env python3
"""Mail client set-up, against pillarbox-webmaild, Apache + webmail.cgi and
nginx + fcgiwrap + webmail.cgi (the shipped dist/ configurations):
  - the set-up page (/webmail/setup) shows what pillarbox.conf says: the
    public host name and ports changed in the test's configuration, the
    security of each port, the address as user name; sign-in needed;
  - Thunderbird's autoconfig at /.well-known/autoconfig/mail/config-v1.1.xml
    and /mail/config-v1.1.xml: a clientConfig v1.1 document as Thunderbird
    reads it, for local domains only (404 otherwise), no sign-in;
  - Outlook's autodiscover (POST /autodiscover/autodiscover.xml, any case):
    the outlook 2006a response; an unknown domain and another schema get
    the schema's error responses; malformed, hostile and oversized bodies a
    clean 4xx, GET a 405; values from the request are XML-escaped;
  - the Apple profile (/webmail/setup/pillarbox.mobileconfig) is a plist
    with a com.apple.mail.managed payload, no password, fresh UUIDs, and
    needs sign-in;
  - the MTA-STS policy (/.well-known/mta-sts.txt): text/plain, the mode of
    pillarbox.conf and the public host as its mx, no sign-in; a 404 without
    TLS configured;
  - without TLS configured only the plain ports are offered; a bad port in
    pillarbox.conf is reported as FILE:LINE."""
import html.parser
import os
import plistlib
import shutil
import subprocess
import sys
import types
import uuid
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures
HOST = "mx.example.net"
AD_REQ_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
AD_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


def ad_request(address, schema=OUTLOOK):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="%s">\n<Request>\n'
            '<EMailAddress>%s</EMailAddress>\n<AcceptableResponseSchema>%s'
            '</AcceptableResponseSchema>\n</Request>\n</Autodiscover>\n' % (AD_REQ_NS, address, schema))


class Fields(html.parser.HTMLParser):
    """The set-up page's <dl id=...> blocks: {id: {dd class: text}}."""

    def __init__(self):
        super().__init__()
        self.blocks, self.dl, self.dd = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "dl" and a.get("id"):
            self.dl = self.blocks.setdefault(a["id"], {})
        elif tag == "dd" and self.dl is not None and a.get("class"):
            self.dd = a["class"]
            self.dl[self.dd] = ""

    def handle_endtag(self, tag):
        if tag == "dl":
            self.dl = None
        elif tag == "dd":
            self.dd = None

    def handle_data(self, data):
        if self.dl is not None and self.dd is not None:
            self.dl[self.dd] += data


def setup_page(server, expect):
    name = server.name
    c = webenv.Client(server)
    r = c.get("/setup")
    check(r.status == 303 and "/webmail/login" in r.getheader("Location", ""),
          "%s: the set-up page needs sign-in (%d)" % (name, r.status))
    c.login()
    r = c.get("/settings")
    check('href="/webmail/setup"' in r.text, "%s: the settings pages link the set-up page" % name)
    r = c.get("/setup")
    check(r.status == 200 and "text/html" in r.getheader("Content-Type", ""),
          "%s: the set-up page answers (%d)" % (name, r.status))
    p = Fields()
    p.feed(r.text)
    check(sorted(p.blocks) == sorted(expect),
          "%s: the page lists %s (%s)" % (name, sorted(expect), sorted(p.blocks)))
    for bid, (port, security) in expect.items():
        b = p.blocks.get(bid, {})
        got = (b.get("host"), b.get("port"), b.get("security"), b.get("username"))
        check(got == (HOST, str(port), security, "bob@example.com"),
              "%s: %s is %s:%s %s, user bob@example.com (%s)" % (name, bid, HOST, port, security, got))
    check('href="/webmail/setup/pillarbox.mobileconfig"' in r.text,
          "%s: the page links the Apple profile" % name)
    return c


def mta_sts(server, mode):
    """The policy, or (mode None) its absence; returns the body."""
    r = webenv.Client(server).get("/.well-known/mta-sts.txt", raw_path=True)
    if mode is None:
        check(r.status == 404, "%s: no MTA-STS policy without TLS (%d)" % (server.name, r.status))
        return r.body
    want = ("version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: 604800\r\n" % (mode, HOST)).encode()
    check(r.status == 200 and r.getheader("Content-Type", "").startswith("text/plain") and
          r.body == want, "%s: the MTA-STS policy, mode %s, mx %s (%d %s %r)"
          % (server.name, mode, HOST, r.status, r.getheader("Content-Type"), r.body))
    return r.body


def autoconfig(server, expect_in, expect_out):
    """expect_*: [(type, port, socketType)] in order."""
    name = server.name
    c = webenv.Client(server)
    bodies = []
    for path in ("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob%40example.com",
                 "/mail/config-v1.1.xml?emailaddress=Alice%40Example.COM",
                 "/mail/config-v1.1.xml"):
        r = c.get(path, raw_path=True)
        check(r.status == 200 and "xml" in r.getheader("Content-Type", ""),
              "%s: GET %s: 200 XML without sign-in (%d %s)" % (name, path, r.status,
                                                               r.getheader("Content-Type")))
        bodies.append(r.body)
        try:
            root = ET.fromstring(r.body)
        except ET.ParseError as e:
            check(False, "%s: %s is well-formed XML (%s)" % (name, path, e))
            continue
        check(root.tag == "clientConfig" and root.get("version") == "1.1",
              "%s: root clientConfig version 1.1" % name)
        prov = root.find("emailProvider")
        check(prov is not None and prov.get("id") == "example.com" and
              prov.findtext("domain") == "example.com" and bool(prov.findtext("displayName")),
              "%s: emailProvider id, domain and displayName for example.com" % name)
        if prov is None:
            continue
        for tag, expect in (("incomingServer", expect_in), ("outgoingServer", expect_out)):
            got = []
            for s in prov.findall(tag):
                got.append((s.get("type"), s.findtext("port"), s.findtext("socketType")))
                check(s.findtext("hostname") == HOST and s.findtext("username") == "%EMAILADDRESS%"
                      and s.findtext("authentication") == "password-cleartext",
                      "%s: %s %s: hostname, %%EMAILADDRESS%%, password-cleartext" % (name, tag, got[-1]))
            check(got == [(t, str(p), st) for t, p, st in expect],
                  "%s: %s entries %s (%s)" % (name, tag, expect, got))
    check(bodies[0] == bodies[1] == bodies[2], "%s: the same document for each form" % name)
    for path, status in (("/mail/config-v1.1.xml?emailaddress=bob%40example.org", 404),
                         ("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=x%40localhost", 404),
                         ("/mail/config-v1.1.xml?emailaddress=%3Cscript%3E", 400),
                         ("/mail/config-v1.1.xml?emailaddress=a%40b%40%00", 400),
                         ("/webmail/mail/config-v1.1.xml?emailaddress=bob%40example.com", 404),
                         # not routed to us by Apache or nginx: their own 403 or 404
                         ("/mail/config-v1.1.xml/x?emailaddress=bob%40example.com", 0),
                         ("/mail/config-v1.2.xml?emailaddress=bob%40example.com", 0)):
        r = c.get(path, raw_path=True)
        check((r.status == status or (status == 0 and r.status in (403, 404))) and
              b"<clientConfig" not in r.body,
              "%s: GET %s: %s (%d)" % (name, path, status or "403/404", r.status))
    return bodies[0]


def ad_post(c, body, path="/autodiscover/autodiscover.xml", ctype="text/xml; charset=utf-8"):
    if isinstance(body, str):
        body = body.encode()
    return c.request("POST", path, body=body, headers={"Content-Type": ctype}, raw_path=True)


def ad_error(r):
    try:
        root = ET.fromstring(r.body)
    except ET.ParseError:
        return None
    code = root.find(".//{*}Error/{*}ErrorCode")
    return None if code is None or root.tag != "{%s}Autodiscover" % AD_NS else code.text


def autodiscover(server, expect):
    """expect: {Type: (port, SSL, Encryption or None)}."""
    name = server.name
    c = webenv.Client(server)
    address = "o'neil&co@example.com"      # escaped in, escaped out
    req = ad_request(address.replace("&", "&amp;").replace("'", "&apos;"))
    for path in ("/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml",
                 "/AutoDiscover/AutoDiscover.xml"):
        r = ad_post(c, req, path)
        check(r.status == 200 and "xml" in r.getheader("Content-Type", ""),
              "%s: POST %s: 200 XML (%d)" % (name, path, r.status))
        try:
            root = ET.fromstring(r.body)
        except ET.ParseError as e:
            check(False, "%s: the autodiscover response is well-formed (%s)" % (name, e))
            continue
        acc = root.find("{%s}Response/{%s}Account" % (OUTLOOK, OUTLOOK))
        check(root.tag == "{%s}Autodiscover" % AD_NS and acc is not None,
              "%s: Autodiscover/Response/Account in the 2006a schema" % name)
        if acc is None:
            continue

        def t(e, tag):
            return e.findtext("{%s}%s" % (OUTLOOK, tag))
        check(t(acc, "AccountType") == "email" and t(acc, "Action") == "settings",
              "%s: AccountType email, Action settings" % name)
        got = {}
        for p in acc.findall("{%s}Protocol" % OUTLOOK):
            got[t(p, "Type")] = (int(t(p, "Port") or 0), t(p, "SSL"), t(p, "Encryption"))
            check(t(p, "Server") == HOST and t(p, "LoginName") == address and t(p, "SPA") == "off"
                  and t(p, "AuthRequired") == "on",
                  "%s: %s: Server, LoginName (escaped both ways), SPA off, AuthRequired on"
                  % (name, t(p, "Type")))
        check(got == expect, "%s: protocols %s (%s)" % (name, expect, got))

    r = ad_post(c, ad_request("bob@example.org"))
    check(r.status == 200 and ad_error(r) == "500",
          "%s: an unknown domain: ErrorCode 500 (%d %s)" % (name, r.status, ad_error(r)))
    r = ad_post(c, ad_request("bob@example.com",
                              "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"))
    check(r.status == 200 and ad_error(r) == "601",
          "%s: another schema: ErrorCode 601 (%s)" % (name, ad_error(r)))
    r = c.get("/autodiscover/autodiscover.xml", raw_path=True)
    check(r.status == 405 and "POST" in r.getheader("Allow", ""), "%s: GET: 405 (%d)" % (name, r.status))
    bomb = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            '<Autodiscover><Request><EMailAddress>&b;@example.com</EMailAddress></Request></Autodiscover>')
    xxe = ('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>')
    deep = "<Autodiscover>" + "<a>" * 1500 + "</a>" * 1500 + "</Autodiscover>"
    bad = {
        "empty": b"",
        "not XML": b"EMailAddress=bob@example.com",
        "unclosed": ad_request("bob@example.com").rsplit("</Autodiscover>", 1)[0].encode(),
        "mismatched tags": b"<Autodiscover><Request><EMailAddress>bob@example.com</Request></EMailAddress></Autodiscover>",
        "entity expansion": bomb.encode(),
        "external entity": xxe.encode(),
        "deep nesting": deep.encode(),
        "NUL byte": ad_request("bob@example.com").replace("bob", "b\0b").encode(),
        "invalid UTF-8": ad_request("bob@example.com").replace("bob", "b\xffb").encode("latin-1"),
        "UTF-16": ad_request("bob@example.com").replace("utf-8", "utf-16").encode("utf-16"),
        "two addresses": ad_request("bob@example.com").replace(
            "</Request>", "<EMailAddress>alice@example.com</EMailAddress></Request>").encode(),
        "bad address": ad_request("bob").encode(),
        "markup in the address": ad_request("<b>x</b>@example.com").encode(),
    }
    for what, body in bad.items():
        r = ad_post(c, body)
        check(r.status == 400 and ad_error(r) == "600" and b"root:" not in r.body,
              "%s: %s: 400 with ErrorCode 600 (%d %s)" % (name, what, r.status, ad_error(r)))
    r = ad_post(c, ad_request("bob@example.com"), ctype="application/x-www-form-urlencoded")
    check(r.status == 400 and ad_error(r) == "600", "%s: a form body: 400 (%d)" % (name, r.status))
    r = ad_post(c, ad_request("bob@example.com") + " " * 100000)
    check(r.status == 413, "%s: a 100 KB body: 413 (%d)" % (name, r.status))
    r = ad_post(c, ad_request("bob@example.com"))
    check(r.status == 200 and ad_error(r) is None, "%s: ... and it still answers" % name)


def mobileconfig(server, client, imap, smtp):
    name = server.name
    r = webenv.Client(server).get("/setup/pillarbox.mobileconfig")
    check(r.status == 303 and "/webmail/login" in r.getheader("Location", ""),
          "%s: the profile needs sign-in (%d)" % (name, r.status))
    profiles = []
    for _ in range(2):
        r = client.get("/setup/pillarbox.mobileconfig")
        check(r.status == 200 and r.getheader("Content-Type") == "application/x-apple-aspen-config",
              "%s: the profile: 200 application/x-apple-aspen-config (%d %s)"
              % (name, r.status, r.getheader("Content-Type")))
        try:
            profiles.append(plistlib.loads(r.body))
        except Exception as e:  # noqa: BLE001 (any parse error is the failure)
            check(False, "%s: the profile is a plist (%s)" % (name, e))
            return
    p = profiles[0]
    check(p.get("PayloadType") == "Configuration" and p.get("PayloadVersion") == 1 and
          bool(p.get("PayloadIdentifier")) and len(p.get("PayloadContent", [])) == 1,
          "%s: a Configuration profile with one payload" % name)
    m = (p.get("PayloadContent") or [{}])[0]
    want = {
        "PayloadType": "com.apple.mail.managed", "PayloadVersion": 1,
        "EmailAccountType": "EmailTypeIMAP", "EmailAddress": "bob@example.com",
        "IncomingMailServerHostName": HOST, "IncomingMailServerPortNumber": imap[0],
        "IncomingMailServerUseSSL": imap[1], "IncomingMailServerUsername": "bob@example.com",
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerHostName": HOST, "OutgoingMailServerPortNumber": smtp[0],
        "OutgoingMailServerUseSSL": smtp[1], "OutgoingMailServerUsername": "bob@example.com",
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    got = {k: m.get(k) for k in want}
    check(got == want, "%s: the mail payload (%s)" % (name, {k: v for k, v in got.items() if want[k] != v}))
    check(not any(k in m for k in ("IncomingPassword", "OutgoingPassword")) and
          webenv.USERS["bob@example.com"].encode() not in r.body,
          "%s: no password in the profile" % name)
    ids = [p.get("PayloadUUID"), m.get("PayloadUUID"), profiles[1].get("PayloadUUID")]
    try:
        ok = all(str(uuid.UUID(u)).upper() == u for u in ids) and len(set(ids)) == 3
    except (ValueError, TypeError, AttributeError):
        ok = False
    check(ok, "%s: fresh upper-case UUIDs for each payload and download (%s)" % (name, ids))
    check(profiles[1].get("PayloadIdentifier") == p.get("PayloadIdentifier") and
          m.get("PayloadIdentifier", "").startswith("net.example.mx."),
          "%s: the same identifiers on each download (%s)" % (name, m.get("PayloadIdentifier")))


def variant(store, name, drop, add=""):
    """pillarbox-webmaild on the same store with another configuration:
    store.conf less the keys in `drop`, plus the lines `add`."""
    d = os.path.join(store.dir, name)
    os.makedirs(d)
    conf = os.path.join(d, "pillarbox.conf")
    with open(store.conf) as f:
        lines = [l for l in f if l.split("=")[0].strip() not in drop]
    with open(conf, "w") as f:
        f.writelines(lines)
        f.write(add)
    os.chmod(d, 0o755)
    os.chmod(conf, 0o644)
    server = webenv.Webmaild(types.SimpleNamespace(dir=d, env=store.env, conf=conf))
    server.name = "webmaild-" + name
    return server


def variants(store):
    # without TLS: only the STARTTLS ports, offered as plain
    server = variant(store, "plain", ("tls_cert", "tls_key", "managesieve_port"))
    try:
        c = setup_page(server, {"imap-plain": (143, "None"), "smtp-plain": (10587, "None"),
                                "sieve-plain": (4190, "None")})
        autoconfig(server, [("imap", 143, "plain")], [("smtp", 10587, "plain")])
        mta_sts(server, None)
        autodiscover(server, {"IMAP": (143, "off", None), "SMTP": (10587, "off", None)})
        mobileconfig(server, c, (143, False), (10587, False))
    finally:
        server.stop()
    # no implicit-TLS ports: STARTTLS everywhere (autodiscover's Encryption TLS);
    # ManageSieve on a port of its own
    server = variant(store, "starttls", ("imaps_port", "managesieve_port"),
                     "imaps_port = 0\npop3s_port = 0\nsmtps_port = 0\nmanagesieve_port = 14190\n"
                     "mta_sts = enforce\n")
    try:
        c = setup_page(server, {"imap-starttls": (143, "STARTTLS"),
                                "smtp-starttls": (10587, "STARTTLS"),
                                "sieve-starttls": (14190, "STARTTLS")})
        autoconfig(server, [("imap", 143, "STARTTLS")], [("smtp", 10587, "STARTTLS")])
        mta_sts(server, "enforce")
        autodiscover(server, {"IMAP": (143, "on", "TLS"), "SMTP": (10587, "on", "TLS")})
        mobileconfig(server, c, (143, True), (10587, True))
    finally:
        server.stop()


def bad_config(store):
    for line, key in (("imap_port = 70000", "imap_port"), ("smtps_port = 4x5", "smtps_port"),
                      ("public_hostname = mail_example!", "public_hostname"),
                      ("mta_sts = on", "mta_sts")):
        conf = os.path.join(store.dir, "bad.conf")
        with open(store.conf) as f:
            # without the key's own line, so the value is what is judged
            text = "".join(l for l in f.readlines() if l.split("=")[0].strip() != key)
        with open(conf, "w") as f:
            f.write(text + line + "\n")
        n = text.count("\n") + 1
        r = subprocess.run([webenv.ADMIN, "--config", conf, "domain", "list"], capture_output=True,
                           text=True, env=store.env)
        check(r.returncode != 0 and ("%s:%d: %s" % (conf, n, key)) in r.stderr
              and "duplicate" not in r.stderr,
              "a bad value (%s) is reported as FILE:LINE (%s)" % (line, r.stderr.strip()))


def main():
    if shutil.which("certtool") is None:
        webenv.skip("certtool (gnutls-bin) is needed for a TLS configuration")
    store = webenv.Store()
    store.make_tls()
    # the ports and name clients are told: changed from the defaults
    with open(store.conf, "a") as f:
        f.write("public_hostname = %s\nimaps_port = 10993\npop3_port = 0\n"
                "submission_port = 10587\nmanagesieve_port = 0\n" % HOST)
    servers = []
    docs = []
    try:
        servers.append(webenv.Webmaild(store))
        if webenv.is_root():
            servers.append(webenv.Apache(store))
            servers.append(webenv.Nginx(store))
        else:
            print("(not root: Apache and nginx are left out)")
        for s in servers:
            c = setup_page(s, {"imap-ssl": (10993, "SSL/TLS"), "imap-starttls": (143, "STARTTLS"),
                               "pop3-ssl": (995, "SSL/TLS"), "smtp-ssl": (465, "SSL/TLS"),
                               "smtp-starttls": (10587, "STARTTLS")})
            docs.append(autoconfig(s, [("imap", 10993, "SSL"), ("imap", 143, "STARTTLS"),
                                       ("pop3", 995, "SSL")],
                                   [("smtp", 465, "SSL"), ("smtp", 10587, "STARTTLS")]))
            autodiscover(s, {"IMAP": (10993, "on", None), "POP3": (995, "on", None),
                             "SMTP": (465, "on", None)})
            mobileconfig(s, c, (10993, True), (465, True))
            mta_sts(s, "testing")
        check(all(d == docs[0] for d in docs),
              "the front ends give byte-for-byte the same autoconfig document")
        variants(store)
        bad_config(store)
    finally:
        webenv.stop_all(servers, store, failures)
    webenv.exit_with(failures)


main()
