#!/usr/bin/env python3
"""The MX's spam check end to end: a real SpamAssassin spamd (local rules
only: no DNS, no Bayes, nothing from the network) on a loopback port,
`spamd = 127.0.0.1:PORT` in pillarbox.conf, smtpd (--mode=mx) asking it, and
what was kept read back from the store.

The client connects from this machine's non-loopback address (loopback
clients, local programs, are not checked: that is checked too; without such
an address the test is skipped).
  - an ordinary message: delivered to INBOX with our "X-Spam-Status: No,
    score=..." above our Received:, no X-Spam-Flag;
  - GTUBE (SpamAssassin's test string): delivered to Junk with the keyword
    $Junk, "X-Spam-Flag: YES" and "X-Spam-Status: Yes, ... tests=GTUBE...";
    the sender's own X-Spam-Status/-Flag fields are taken out; the
    recipient's Sieve filter does not run on it (spam goes to Junk);
  - spam_reject_score = 20: GTUBE refused with 554 5.7.1, nothing stored;
    by BDAT (CHUNKING) alike, and ham by BDAT checked and delivered;
  - a message over spam_max_size: delivered unchecked, the log says so;
  - a loopback client and a logged-in client on submission: not checked;
  - spamd down (a closed port) and spamd that takes the message and never
    answers: delivered unchecked after at most SPAMC_TIMEOUT (30 s), logged.
"""

import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest  # noqa: E402
import pbtest  # noqa: E402
import relaytest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB, BOB_PW  # noqa: E402

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SPAMD = "/usr/sbin/spamd"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


class Spamd:
    """spamd on 127.0.0.1:port with the packaged rules and a site
    configuration of our own: local tests only. With `bayes`, it keeps a
    Bayes database in its directory and takes TELL (--allow-tell), as
    spam_learn needs; sa_learn() runs sa-learn against that database."""

    def __init__(self, d, bayes=False):
        self.dir = os.path.join(d, "spamd")
        os.makedirs(self.dir)
        for name in os.listdir("/etc/spamassassin"):
            if name.endswith(".pre"):
                shutil.copy(os.path.join("/etc/spamassassin", name), self.dir)
        with open(os.path.join(self.dir, "local.cf"), "w") as f:
            f.write("dns_available no\nskip_rbl_checks 1\n"
                    "bayes_auto_learn 0\nrequired_score 15.0\n")
            if bayes:
                # spamd's children run as nobody: a directory anyone may write
                self.bayes_dir = os.path.join(self.dir, "bayes")
                os.makedirs(self.bayes_dir)
                os.chmod(self.bayes_dir, 0o777)
                f.write("use_bayes 1\nbayes_path %s/bayes\nbayes_file_mode 0666\n"
                        % self.bayes_dir)
            else:
                f.write("use_bayes 0\n")
        self.port = pbtest.free_port()
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            [SPAMD, "-L", "-x", "--siteconfigpath", self.dir, "-i", "127.0.0.1",
             "-A", "127.0.0.1", "-p", str(self.port), "--max-children", "2",
             "-s", "stderr"] + (["--allow-tell"] if bayes else []),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("spamd did not start: " + self.log_text()[-2000:])
            time.sleep(0.2)

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.sendall(b"PING SPAMC/1.5\r\n\r\n")
                return b"PONG" in s.recv(100)
        except OSError:
            return False

    def log_text(self):
        with open(os.path.join(self.dir, "log"), errors="replace") as f:
            return f.read()

    def learned(self):
        """(nspam, nham) in the Bayes database, as sa-learn counts them."""
        r = subprocess.run(["sa-learn", "--siteconfigpath", self.dir, "--dump", "magic"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        counts = {}
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 7 and f[5] == "data:" and f[6] in ("nspam", "nham"):
                counts[f[6]] = int(f[2])
        return counts.get("nspam", 0), counts.get("nham", 0)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def message(subject, body="Hello, the minutes are attached.\r\n", extra=()):
    return pbtest.make_message(subject, body, sender="ann@outside.test", to=BOB,
                               extra_headers=extra)


def send(svc, msg, login=None, sender="ann@outside.test", bdat=False):
    """(code, text) of the reply to the data (a minute: the mute checker)."""
    return smtptest.send_one(svc, sender, BOB, msg, "client.outside.test", login, timeout=60,
                             bdat=bdat)


def header(raw):
    return raw.split(b"\r\n\r\n", 1)[0].decode(errors="replace")


def spam_fields(raw):
    """The X-Spam-* fields of a stored message, unfolded, in order."""
    return smtptest.header_fields(raw, "x-spam-")


def last_inbox(fx):
    msgs = fx.dump(BOB)
    return msgs[-1][1] if msgs else b""


def junk_messages(imap, with_flags=False):
    return smtptest.folder_messages(imap.port, BOB, BOB_PW, "Junk", with_flags)


def main():
    pbtest.require(SPAMD, "spamd")
    addr = imaptest.external_address()
    if addr is None:
        print("SKIP: no non-loopback IPv4 address to connect from")
        return pbtest.SKIP
    fx = smtptest.SmtpFixture("spam", tls=False)
    spamd = None
    try:
        spamd = Spamd(fx.dir)
        spamd_at = "127.0.0.1:%d" % spamd.port
        conf = {"mail_auth": "off", "spamd": spamd_at}
        fx.write_config(conf)
        mx = fx.smtpd("mx", host=addr)
        local_mx = fx.smtpd("mx")
        imap = fx.socket_activate(fx.program("inetd/imapd"))

        # Ham: INBOX, "No", above our Received.
        code, text = send(mx, message("minutes"))
        check(code == 250, "an ordinary message is accepted (%d %s)" % (code, text))
        raw = last_inbox(fx)
        fields = spam_fields(raw)
        check(len(fields) == 1 and fields[0].startswith("X-Spam-Status: No, score="),
              "in INBOX with X-Spam-Status: No: %s" % fields)
        check(raw.index(b"X-Spam-Status:") < raw.index(b"Received:"),
              "the field is above our Received:")
        check("spam check: score=" in fx.log_text(), "the log has the score")

        # The user's filter would file everything in Archive: spam is not filtered.
        fx.pillarbox("sieve", "put", BOB, "all", "--activate",
                 input=b'require "fileinto"; fileinto "Archive";\r\n')

        # GTUBE, with the sender's own verdict: Junk, ours only.
        inbox_before = fx.count(BOB)[BOB]
        code, text = send(mx, message("cheap pills", "Buy now.\r\n%s\r\n" % GTUBE, extra=(
            "X-Spam-Status: No, score=-10.0 required=5.0 tests=NONE",
            "X-Spam-Flag: NO")))
        check(code == 250, "GTUBE is accepted (%d %s)" % (code, text))
        check(fx.count(BOB)[BOB] == inbox_before, "not in INBOX")
        junk = junk_messages(imap)
        check(len(junk) == 1 and b"Subject: cheap pills" in junk[0], "in Junk")
        check("$Junk" in junk_messages(imap, with_flags=True)[0][1],
              "with the $Junk keyword mail apps read")
        fields = spam_fields(junk[0])
        check(fields[0] == "X-Spam-Flag: YES", "X-Spam-Flag: YES first: %s" % fields)
        check(len(fields) == 2 and fields[1].startswith("X-Spam-Status: Yes, score=") and
              "GTUBE" in fields[1], "X-Spam-Status: Yes ... GTUBE: %s" % fields)
        check("tests=NONE" not in header(junk[0]) and "X-Spam-Flag: NO" not in header(junk[0]),
              "the sender's own X-Spam fields are gone")
        log = fx.log_text()
        check("removed X-Spam fields the sender wrote" in log, "logged")
        check("action=junk" in log and "GTUBE" in log, "the log says junk, GTUBE")
        fx.pillarbox("sieve", "deactivate", BOB)

        # A reject score: refused, nothing kept.
        fx.write_config(dict(conf, spam_reject_score="20"))
        code, text = send(mx, message("more pills", "%s\r\n" % GTUBE))
        check(code == 554 and "5.7.1" in text, "past spam_reject_score: 554 5.7.1 (%d %s)"
              % (code, text))
        check(len(junk_messages(imap)) == 1 and fx.count(BOB)[BOB] == inbox_before,
              "nothing stored")
        check("action=reject" in fx.log_text(), "the log says reject")
        # BDAT (CHUNKING) feeds the same checks
        code, text = send(mx, message("chunked pills", "%s\r\n" % GTUBE), bdat=True)
        check(code == 554 and "5.7.1" in text, "by BDAT too: 554 5.7.1 (%d %s)" % (code, text))
        check(len(junk_messages(imap)) == 1 and fx.count(BOB)[BOB] == inbox_before,
              "nothing stored")
        code, _ = send(mx, message("chunked minutes"), bdat=True)
        check(code == 250 and fx.count(BOB)[BOB] == inbox_before + 1 and
              spam_fields(last_inbox(fx))[0].startswith("X-Spam-Status: No, score="),
              "ham by BDAT: checked and delivered")
        code, _ = send(mx, message("minutes 2"))
        check(code == 250 and fx.count(BOB)[BOB] == inbox_before + 2,
              "ham still delivered with a reject score")

        # Over spam_max_size: unchecked.
        fx.write_config(dict(conf, spam_max_size="2K"))
        big = message("big pills", "%s\r\n%s" % (GTUBE, ("x" * 70 + "\r\n") * 40))
        code, _ = send(mx, big)
        check(code == 250 and spam_fields(last_inbox(fx)) == [] and
              b"Subject: big pills" in last_inbox(fx),
              "over spam_max_size: INBOX, no X-Spam fields")
        check("spam check: skipped" in fx.log_text(), "the log says skipped")
        fx.write_config(conf)

        # Loopback and logged-in clients are not checked.
        code, _ = send(local_mx, message("local pills", "%s\r\n" % GTUBE))
        check(code == 250 and spam_fields(last_inbox(fx)) == [] and
              b"Subject: local pills" in last_inbox(fx), "a loopback client: not checked")
        sub = fx.smtpd("submission")
        code, _ = send(sub, message("sent pills", "%s\r\n" % GTUBE), login=(ALICE, ALICE_PW),
                       sender=ALICE)
        check(code == 250 and spam_fields(last_inbox(fx)) == [] and
              b"Subject: sent pills" in last_inbox(fx), "after login: not checked")

        # spamd down: delivered unchecked at once.
        dead = relaytest.free_port_on("127.0.0.1")
        fx.write_config(dict(conf, spamd="127.0.0.1:%d" % dead))
        t = time.monotonic()
        code, _ = send(mx, message("down pills", "%s\r\n" % GTUBE))
        took = time.monotonic() - t
        check(code == 250 and b"Subject: down pills" in last_inbox(fx) and
              spam_fields(last_inbox(fx)) == [],
              "spamd down: INBOX, unchecked (%.1f s)" % took)
        check(took < 10, "without waiting")
        check("delivered unchecked" in fx.log_text(), "the log says unchecked")

        # spamd that never answers: the check gives up at 30 s.
        mute = socket.socket()
        mute.bind(("127.0.0.1", 0))
        mute.listen(5)
        try:
            fx.write_config(dict(conf, spamd="127.0.0.1:%d" % mute.getsockname()[1]))
            t = time.monotonic()
            code, _ = send(mx, message("mute pills", "%s\r\n" % GTUBE))
            took = time.monotonic() - t
        finally:
            mute.close()
        check(code == 250 and b"Subject: mute pills" in last_inbox(fx),
              "spamd mute: INBOX after %.1f s" % took)
        check(25 < took < 45, "within the check's time limit")
    finally:
        if spamd is not None:
            spamd.close()
        fx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
