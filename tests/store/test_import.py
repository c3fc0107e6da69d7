#!/usr/bin/env python3
"""Migration end to end with the real admin CLI on a fresh store.

- A Maildir++ tree as Dovecot leaves it (file names with S= and W=, the
  ":2,FLAGS" suffix with keyword letters, dovecot-uidlist, dovecot-keywords,
  modified UTF-7 folder names, new/ and tmp/, index files to ignore), owned by
  another user with mode 0700 when run as root (the reader runs as the owner):
  `import maildir` gives the right folders, counts, unseen counts and bytes;
  `export mbox` of each folder shows the same bytes, flags, keywords, dates
  (mtimes) and the dovecot-uidlist order.
- An mbox with "From " quoting (>From, >>From, an unquoted From line without
  a date), Status:/X-Status:/X-Keywords:, CRLF lines, no final line end, and a
  message twice: `import mbox` gives the expected messages.
- Re-running either import adds nothing; an exported folder imported into
  another folder exports byte for byte the same; importing it back into its
  own folder adds nothing; a third copy of a twice-present message adds one.
- A progress bar appears on a terminal (script(1)) and never in a pipe.
- Errors: unknown user, missing or wrong source, existing export file, bad
  folder names: the documented exit codes.
- `user import` of a Dovecot passwd-file: crypt hashes accepted ($y$, $6$,
  $5$, $2b$, with or without a {SCHEME}), the rest reported and skipped.
"""

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

TOP_BUILDDIR = os.environ.get("top_builddir") or os.getcwd()
PB = os.path.join(TOP_BUILDDIR, "admin", "pillarbox")
IS_ROOT = os.geteuid() == 0
STORE_USER = "pillarbox" if IS_ROOT else pwd.getpwuid(os.getuid()).pw_name

passed = failed = 0


def ok(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % what)
    else:
        failed += 1
        print("not ok - %s%s" % (what, (": " + detail) if detail else ""))
    return cond


def eq(got, want, what):
    return ok(got == want, what, "got %r, want %r" % (got, want))


class Run:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err


def pb(*args, stdin=None):
    p = subprocess.run([PB, "--config", CONF] + list(args), input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return Run(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


def check(args, want_rc, what, stdin=None):
    r = pb(*args, stdin=stdin)
    ok(r.rc == want_rc, "%s (exit %d)" % (what, r.rc),
       "want exit %d; stderr: %s" % (want_rc, r.err.strip()))
    return r


def summary_counts(err):
    m = re.search(r"(\d+) imported, (\d+) already there, (\d+) skipped", err)
    return tuple(int(x) for x in m.groups()) if m else None


def mailbox_list(user):
    r = pb("mailbox", "list", user)
    boxes = {}
    for line in r.out.decode().splitlines():
        name, msgs, unseen, size = line.split("\t")
        boxes[name] = (int(msgs), int(unseen), int(size))
    return boxes


def crlf_size(data):
    return len(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def asctime_utc(t):
    import time
    g = time.gmtime(t)
    return "%s %s %2d %02d:%02d:%02d %d" % (DAYS[g.tm_wday], MONTHS[g.tm_mon - 1], g.tm_mday,
                                             g.tm_hour, g.tm_min, g.tm_sec, g.tm_year)


def parse_export(data):
    """An mboxrd file as `export mbox` writes it -> [(from_line, flags,
    keywords, message bytes without the status fields)]. Every message ends
    with a blank line and no unquoted "From " line appears inside one."""
    msgs = []
    cur = None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line in lines:
        if line.startswith(b"From "):
            if cur is not None:
                msgs.append(cur)
            cur = [line[5:].decode(), [], []]
            continue
        m = re.match(rb"^(>+)From ", line)
        if m:
            line = line[1:]
        cur[2].append(line)
    if cur is not None:
        msgs.append(cur)
    out = []
    for from_rest, _, body in msgs:
        ok(body and body[-1] == b"", "export ends each message with a blank line")
        body = body[:-1]
        flags, keywords, kept, in_header = "", [], [], True
        for line in body:
            if in_header and line == b"":
                in_header = False
            if in_header and line.startswith(b"Status: "):
                flags += "S" if b"R" in line[8:] else ""
                continue
            if in_header and line.startswith(b"X-Status: "):
                flags += line[10:].decode()
                continue
            if in_header and line.startswith(b"X-Keywords: "):
                keywords = line[12:].decode().split()
                continue
            kept.append(line)
        out.append((from_rest, "".join(sorted(flags)), keywords, b"\n".join(kept) + b"\n"))
    return out


def export(user, folder):
    path = os.path.join(T, "export-%d.mbox" % export.n)
    export.n += 1
    r = pb("export", "mbox", user, folder, path)
    ok(r.rc == 0, "export mbox %s %s" % (user, folder), r.err)
    with open(path, "rb") as f:
        return f.read(), path


export.n = 0


# ------------------------------------------------------------------ set-up

if not os.access(PB, os.X_OK):
    print("FAIL: %s is not built" % PB)
    sys.exit(1)
if IS_ROOT:
    try:
        pwd.getpwnam(STORE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/var/lib/pillarbox",
                        "--shell", "/usr/sbin/nologin", STORE_USER], check=True)

base = os.path.join(TOP_BUILDDIR, "tests", "store", "tmp")
os.makedirs(base, exist_ok=True)
for d in (os.path.join(TOP_BUILDDIR, "tests"), os.path.join(TOP_BUILDDIR, "tests", "store"), base):
    os.chmod(d, 0o755)
T = tempfile.mkdtemp(prefix="import.", dir=base)
os.chmod(T, 0o755)
CONF = os.path.join(T, "pillarbox.conf")
with open(CONF, "w") as f:
    f.write("hostname = mail.example.test\nuser = %s\nstore = %s/store\n"
            "max_message_size = 1M\nwatchdog_seconds = 60\npassword_cost = 1\n"
            % (STORE_USER, T))
os.chmod(CONF, 0o644)

check(["store", "init"], 0, "store init")
check(["domain", "add", "example.test"], 0, "domain add")
for u in ("bob", "carol", "dave"):
    check(["user", "add", u + "@example.test"], 0, "user add " + u, stdin=b"secret\n")

# -------------------------------------------------------- the Maildir fixture

M = os.path.join(T, "Maildir")


def put(folder, sub, name, data, mtime=None):
    d = os.path.join(M, folder, sub) if folder else os.path.join(M, sub)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def dovecot_name(stamp, seq, data, info=None):
    base = "%d.M%dP%d.mail.example.test,S=%d,W=%d" % (stamp, 100000 + seq, 4000 + seq, len(data),
                                                      crlf_size(data))
    return base, base + (":2," + info if info is not None else "")


for folder in ("", ".Sent", ".Trash", ".Lists.pillarbox-dev", ".Entw&APw-rfe", ".Empty"):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(M, folder, sub), exist_ok=True)
    if folder:
        open(os.path.join(M, folder, "maildirfolder"), "w").close()


def msg(subject, body, extra=b""):
    return (b"From: Alice <alice@example.org>\nTo: bob@example.test\nSubject: " + subject +
            b"\nDate: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <" +
            subject.replace(b" ", b".") + b"@example.org>\n" + extra + b"\n" + body)


# INBOX: (uid in dovecot-uidlist or None, stamp, info, mtime, data, flags, keywords)
inbox = [
    (1, 1699990000, "S", 1699990001, msg(b"first", b"Hello Bob.\n"), "S", []),
    (2, 1700000100, "FRSab", 1700000101,
     msg(b"flags and keywords", b"Flagged, answered, seen, forwarded, Work.\n"),
     "AFS", ["$Forwarded", "Work"]),
    (3, 1700000200, "T", 1700000201,
     msg(b"crlf", b"This one was stored\r\nwith CRLF line ends.\r\n").replace(b"\n", b"\r\n")
     .replace(b"\r\r\n", b"\r\n"), "D", []),
    # UID 4 has an older time stamp than UID 3: the uidlist order wins.
    (4, 1600000000, "Sc", 1600000001,
     msg(b"from lines", b"From the start of a line.\n>From quoted once.\n>>From twice.\n"
         b"Not From at the start.\n"), "S", ["$label1"]),
    # In new/, not yet in the uidlist: comes after the listed ones.
    (None, 1700000500, None, 1700000501, msg(b"new mail", b"Unread.\n"), "", []),
]
with open(os.path.join(M, "dovecot-keywords"), "w") as f:
    f.write("0 $Forwarded\n1 Work\n2 $label1\n")
uidlist = ["3 V1699990000 N5 G0d7c1e3f5a9b2c4d"]
for i, (uid, stamp, info, mtime, data, _, _) in enumerate(inbox):
    base, name = dovecot_name(stamp, i, data, info)
    put("", "new" if info is None else "cur", name, data, mtime)
    if uid is not None:
        uidlist.append("%d W%d :%s" % (uid, crlf_size(data), base))
with open(os.path.join(M, "dovecot-uidlist"), "w") as f:
    f.write("\n".join(uidlist) + "\n")
# What Dovecot also leaves there: never messages.
put("", "tmp", "1700000900.M9P9.mail.example.test", msg(b"half delivered", b"x\n"))
for name in ("dovecot.index", "dovecot.index.log", "dovecot.index.cache", "subscriptions"):
    with open(os.path.join(M, name), "wb") as f:
        f.write(b"\x00\x01binary index\n" if name.startswith("dovecot") else b"Sent\nTrash\n")

folders = {
    "Sent": [(".Sent", "S", msg(b"sent one", b"I sent this.\n"), "S", []),
             (".Sent", "RS", msg(b"sent two", b"And this.\n"), "AS", [])],
    "Trash": [(".Trash", "ST", msg(b"binned", b"Gone.\n"), "DS", [])],
    "Lists/pillarbox-dev": [(".Lists.pillarbox-dev", "", msg(b"list mail", b"To the list.\n"), "", [])],
    # A draft shows as T in X-Status.
    "Entw\u00fcrfe": [(".Entw&APw-rfe", "DS", msg(b"draft", b"Unfinished\n"), "ST", [])],
}
stamp = 1700001000
for name, items in folders.items():
    for i, (d, info, data, _, _) in enumerate(items):
        stamp += 10
        put(d, "cur", dovecot_name(stamp, 50 + stamp % 1000, data, info)[1], data, stamp + 1)

if IS_ROOT:
    # Only its owner (nobody) may read it: the store user cannot.
    subprocess.run(["chown", "-R", "nobody:", M], check=True)
    subprocess.run(["chmod", "-R", "go-rwx", M], check=True)

# ------------------------------------------------------------ import maildir

r = check(["import", "maildir", "bob@example.test", M], 0, "import maildir")
eq(summary_counts(r.err), (10, 0, 0), "import maildir: 10 imported, none skipped")
ok("progress" not in r.err and "\033[K" not in r.err, "no progress bar in a pipe")
eq(re.search(r"(\d+) folders created", r.err).group(1), "3",
   "import maildir created Lists/pillarbox-dev, Entwürfe, Empty")

boxes = mailbox_list("bob@example.test")
eq(boxes.get("INBOX"), (5, 2, sum(crlf_size(m[4]) for m in inbox)),
   "INBOX: 5 messages, 2 unseen, bytes = the W= sizes")
for name, items in folders.items():
    unseen = sum(1 for it in items if "S" not in it[1])
    eq(boxes.get(name), (len(items), unseen, sum(crlf_size(it[2]) for it in items)),
       "folder %s: count, unseen, bytes" % name)
eq(boxes.get("Empty"), (0, 0, 0), "empty Maildir folder created")
ok(not any("half delivered" in n for n in boxes), "tmp/ not imported")

data, bob_inbox_path = export("bob@example.test", "INBOX")
got = parse_export(data)
eq(len(got), 5, "export INBOX: 5 messages")
for (uid, stamp_, info, mtime, body, flags, keywords), (from_rest, gflags, gkeywords, gbody) in \
        zip(inbox, got):
    what = "INBOX message %s" % (uid if uid else "from new/")
    eq(gbody, body.replace(b"\r\n", b"\n"), what + ": same bytes, in uidlist order")
    eq(gflags, "".join(sorted(flags)), what + ": flags")
    eq(sorted(gkeywords), sorted(keywords), what + ": keywords")
    eq(from_rest, "MAILER-DAEMON " + asctime_utc(mtime), what + ": date from the mtime")
for name, items in folders.items():
    data, _ = export("bob@example.test", name)
    got = parse_export(data)
    eq([(g[1], g[3]) for g in got], [("".join(sorted(it[3])), it[2]) for it in items],
       "folder %s: flags and bytes" % name)

# --------------------------------------------------------------- re-import

r = check(["import", "maildir", "bob@example.test", M], 0, "import maildir again")
eq(summary_counts(r.err), (0, 10, 0), "re-import adds nothing")
eq(mailbox_list("bob@example.test"), boxes, "folders unchanged after the re-import")

r = check(["import", "mbox", "bob@example.test", "INBOX", bob_inbox_path], 0,
          "import INBOX's own export back into INBOX")
eq(summary_counts(r.err), (0, 5, 0), "its own export adds nothing")

# Export, import elsewhere, export again: the same file.
r = check(["import", "mbox", "carol@example.test", "Copy/of INBOX", bob_inbox_path], 0,
          "import bob's export into carol's Copy/of INBOX")
eq(summary_counts(r.err), (5, 0, 0), "5 imported into the copy")
with open(bob_inbox_path, "rb") as f:
    original = f.read()
copy, _ = export("carol@example.test", "Copy/of INBOX")
ok(copy == original, "export -> import -> export gives the same mbox (bytes, flags, dates)")

# ------------------------------------------------------------------- mbox

MBOX = (b"From alice@example.org Mon Jan  1 10:00:00 2024\n"
        b"From: Alice <alice@example.org>\n"
        b"To: carol@example.test\n"
        b"Subject: quoting\n"
        b"Status: RO\n"
        b"X-Status: AF\n"
        b"X-Keywords: project $Forwarded\n"
        b"\n"
        b">From here on, a quoted line.\n"
        b">>From twice quoted.\n"
        b"From the desk of nobody (no date: not a separator)\n"
        b"\n"
        b"From bob@example.org Tue Jan  2 11:00:00 2024\n"
        b"Subject: same\n"
        b"\n"
        b"Twice in this file.\n"
        b"\n"
        b"From bob@example.org Tue Jan  2 11:00:00 2024\n"
        b"Subject: same\n"
        b"\n"
        b"Twice in this file.\n"
        b"\n"
        b"From MAILER-DAEMON Wed Jan  3 12:00:00 2024\r\n"
        b"Subject: crlf\r\n"
        b"\r\n"
        b"CRLF lines.\r\n"
        b"\r\n"
        b"From carol@example.org Thu Jan  4 13:00:00 2024\n"
        b"Subject: last\n"
        b"\n"
        b"no final line end")
want_mbox = [
    ("AFS", ["$Forwarded", "project"], 1704103200,
     b"From: Alice <alice@example.org>\nTo: carol@example.test\nSubject: quoting\n\n"
     b"From here on, a quoted line.\n>From twice quoted.\n"
     b"From the desk of nobody (no date: not a separator)\n"),
    ("", [], 1704193200, b"Subject: same\n\nTwice in this file.\n"),
    ("", [], 1704193200, b"Subject: same\n\nTwice in this file.\n"),
    ("", [], 1704283200, b"Subject: crlf\n\nCRLF lines.\n"),
    ("", [], 1704373200, b"Subject: last\n\nno final line end\n"),
]
mbox_path = os.path.join(T, "archive.mbox")
with open(mbox_path, "wb") as f:
    f.write(MBOX)
r = check(["import", "mbox", "carol@example.test", "Archive/2023", mbox_path], 0, "import mbox")
eq(summary_counts(r.err), (5, 0, 0), "import mbox: 5 imported (the twin too)")
data, _ = export("carol@example.test", "Archive/2023")
got = parse_export(data)
eq(len(got), 5, "export of the mbox import: 5 messages")
for i, ((flags, keywords, date, body), (from_rest, gflags, gkeywords, gbody)) in \
        enumerate(zip(want_mbox, got)):
    eq(gbody, body, "mbox message %d: bytes (unquoted, status fields taken out)" % (i + 1))
    eq(gflags, flags, "mbox message %d: flags" % (i + 1))
    eq(sorted(gkeywords), sorted(keywords), "mbox message %d: keywords" % (i + 1))
    eq(from_rest.split(" ", 1)[1], asctime_utc(date), "mbox message %d: date" % (i + 1))
eq(mailbox_list("carol@example.test").get("Archive/2023"),
   (5, 4, sum(crlf_size(w[3]) for w in want_mbox) - 2), "Archive/2023: count, unseen, bytes")

r = check(["import", "mbox", "carol@example.test", "Archive/2023", mbox_path], 0,
          "import mbox again")
eq(summary_counts(r.err), (0, 5, 0), "mbox re-import adds nothing (the twin neither)")
three = MBOX.split(b"From bob")[0] + (b"From bob" + MBOX.split(b"From bob")[1]) * 3
r = check(["import", "mbox", "carol@example.test", "Archive/2023", "-"], 0,
          "import mbox from stdin with a third copy of the twin", stdin=three)
eq(summary_counts(r.err), (1, 3, 0), "only the third copy is new")

# ---------------------------------------------------------- progress bar

if shutil.which("script"):
    cmd = "%s --config %s import mbox dave@example.test INBOX %s" % (PB, CONF, mbox_path)
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    ok(p.returncode == 0 and "import [" in out and "100%" in out,
       "a progress bar on a terminal", repr(out[-300:]))
else:
    print("ok - # SKIP progress bar: script(1) not installed (bsdutils)")

# ------------------------------------------------------------------ errors

check(["import", "maildir", "nobody@example.test", M], 67, "import for an unknown user")
check(["import", "maildir", "bob@example.test", os.path.join(T, "nowhere")], 66,
      "import of a missing directory")
notmd = os.path.join(T, "not-a-maildir")
os.mkdir(notmd)
os.chmod(notmd, 0o755)
r = check(["import", "maildir", "bob@example.test", notmd], 65, "import of a directory "
          "without cur/ and new/")
ok("not a Maildir" in r.err, "says it is not a Maildir", r.err)
notmbox = os.path.join(T, "not.mbox")
with open(notmbox, "wb") as f:
    f.write(b"Subject: no From line\n\nbody\n")
os.chmod(notmbox, 0o644)
check(["import", "mbox", "bob@example.test", "INBOX", notmbox], 65, "import of a non-mbox")
check(["import", "mbox", "bob@example.test", "bad//name", mbox_path], 64,
      "import into an invalid folder name")
check(["export", "mbox", "bob@example.test", "INBOX", bob_inbox_path], 73,
      "export never overwrites a file")
check(["export", "mbox", "bob@example.test", "Nope", os.path.join(T, "nope.mbox")], 65,
      "export of a missing folder")
check(["export", "mbox", "nobody@example.test", "INBOX", os.path.join(T, "nope2.mbox")], 67,
      "export for an unknown user")
if IS_ROOT:
    st = os.stat(bob_inbox_path)
    eq((st.st_uid, st.st_mode & 0o777), (0, 0o600), "an export made by root is root's, 0600")

# ------------------------------------------------------------- user import

YES = "$y$j9T$F5Jx5fExrKuJdvjBOIDh5/$jNLILA9FkBmmoqMPu01v77rdAD/M2dF4qRtf4r/9Og."
BF = "$2b$05$abcdefghijklmnopqrstuuXFP7hfhy1L7yUgxfmDqacEzi.H0wu7C"
S512 = ("$6$saltsalt$LaBijBidsGBgEFftsdvtqfLIJRgOJWHllC.XJRPI3eoVRBynakB9C1EkLhGwjHMC6sEClN"
        "vysvw6gPoTOg2Bl.")
S256 = "$5$saltsalt$2lu5c1yCGhTklFzVr.g/RNDr4e310BZsPfRhutOwAv7"
passwd = "\n".join([
    "# Dovecot passwd-file",
    "yes@example.test:{CRYPT}%s:5000:5000::/home/yes::userdb_quota_rule=*:storage=1G" % YES,
    "bf@example.test:{BLF-CRYPT}%s:5000:5000::/home/bf" % BF,
    "s512@example.test:{SHA512-CRYPT}%s" % S512,
    "bare@example.test:%s:::" % S256,
    "",
    "plain@example.test:{PLAIN}secret::::",
    "ssha@example.test:{SSHA}abcdefgh",
    "nodomain:{CRYPT}%s" % YES,
    "foreign@elsewhere.test:{CRYPT}%s" % YES,
    "bob@example.test:{CRYPT}%s" % YES,
    "nohash@example.test::5000:5000",
]) + "\n"
pw_path = os.path.join(T, "users")
with open(pw_path, "w") as f:
    f.write(passwd)
os.chmod(pw_path, 0o600)  # root's alone: opened before the switch
r = check(["user", "import", pw_path], 65, "user import (some lines skipped)")
ok("4 added, 1 already there, 5 skipped" in r.err, "user import counts", r.err)
for what in ("plain@example.test", "ssha@example.test", "nodomain", "foreign@elsewhere.test",
             "nohash@example.test"):
    ok(re.search(r"users:\d+: %s: .*skipped" % re.escape(what), r.err) is not None,
       "skipped line named: " + what, r.err)
ok("{PLAIN}" not in r.err and "secret" not in r.err, "no password text in the messages")
users = pb("user", "list", "example.test").out.decode()
for u in ("yes", "bf", "s512", "bare"):
    ok(("\n" + users).find("\n%s@example.test\t" % u) >= 0, "user %s imported" % u)
r = check(["user", "import", pw_path], 65, "user import again")
ok("0 added, 5 already there, 5 skipped" in r.err, "user import again adds nobody", r.err)

# An imported hash works: a POP3 login through pop3d on a pipe, if built.
pop3d = os.path.join(TOP_BUILDDIR, "inetd", "pop3d")
if os.access(pop3d, os.X_OK):
    with open(CONF, "a") as f:
        f.write("allow_plaintext_auth = yes\n")
    for user, pw in (("yes", "yes-pw"), ("bf", "bf-pw"), ("s512", "sha512-pw"),
                     ("bare", "sha256-pw")):
        p = subprocess.run([pop3d, "--config", CONF], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60,
                           input=("USER %s@example.test\r\nPASS %s\r\nQUIT\r\n" % (user, pw))
                           .encode())
        lines = p.stdout.decode("utf-8", "replace").split("\r\n")
        ok(len(lines) > 2 and lines[2].startswith("+OK"), "POP3 login with the imported %s hash"
           % user, repr(lines[:4]))
else:
    print("ok - # SKIP login with imported hashes: inetd/pop3d not built")

check(["store", "check"], 0, "store check after all the imports")

print("%d passed, %d failed" % (passed, failed))
if failed == 0 and not os.environ.get("KEEP_TMP"):
    shutil.rmtree(T, ignore_errors=True)
else:
    print("left %s for inspection" % T)
sys.exit(1 if failed else 0)
