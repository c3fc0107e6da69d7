#!/usr/bin/env python3
"""spam_learn end to end: a real SpamAssassin spamd with Bayes and
--allow-tell, imapd, and the learner the store starts (inetd/spamlearn).

  - a message moved into Junk over IMAP (MOVE) is taught as spam, once;
  - moved back out of Junk (to INBOX) it is taught as ham, and Bayes
    forgets it as spam;
  - copies and moves that do not cross into or out of Junk (INBOX to
    Archive, Junk to Trash) teach nothing;
  - several messages at once: one learner run, each message taught;
  - a move in the webmail (Junk, Not junk) goes through the same store
    call as IMAP's (store_msg_copy), where the learner is started;
  - one learner runs at a time and one waits: a third leaves at once;
  - spamd down: the run stops at its first failure, with a log line;
  - with spam_learn off, a move into Junk teaches nothing."""

import imaplib
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import BOB, BOB_PW  # noqa: E402
from test_smtp_spam import SPAMD, Spamd, check  # noqa: E402


def wait_learned(spamd, want, timeout=60):
    deadline = time.monotonic() + timeout
    got = spamd.learned()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.3)
        got = spamd.learned()
    return got


def imap_session(imap):
    c = imaplib.IMAP4("127.0.0.1", imap.port)
    c.login(BOB, BOB_PW)
    return c


def move(c, src, uids, dst, copy=False):
    typ, _ = c.select(src)
    assert typ == "OK"
    typ, data = c.uid("COPY" if copy else "MOVE", uids, dst)
    assert typ == "OK", data


def main():
    pbtest.require(SPAMD, "spamd")
    pbtest.require("/usr/bin/sa-learn", "spamassassin")
    fx = smtptest.SmtpFixture("spamlearn", tls=False)
    spamd = None
    try:
        spamd = Spamd(fx.dir, bayes=True)
        conf = {"mail_auth": "off", "spamd": "127.0.0.1:%d" % spamd.port, "spam_learn": "yes",
                "spam_learn_program": fx.program("inetd/spamlearn")}
        fx.write_config(conf)
        imap = fx.socket_activate(fx.program("inetd/imapd"))
        for i in range(1, 6):
            fx.deliver(BOB, pbtest.make_message(
                "offer %d" % i, "Cheap watches and pills number %d, click now.\r\n" % i,
                sender="ann%d@outside.test" % i, to=BOB))
        check(spamd.learned() == (0, 0), "Bayes starts empty")

        c = imap_session(imap)
        move(c, "INBOX", "1", "Junk")
        check(wait_learned(spamd, (1, 0)) == (1, 0), "moved into Junk: learned as spam")
        check("class=spam learned=1" in fx.log_text(), "the learner logs it")

        move(c, "Junk", "1", "INBOX")
        check(wait_learned(spamd, (0, 1)) == (0, 1),
              "moved back out of Junk: learned as ham, forgotten as spam")

        move(c, "INBOX", "2", "Archive")
        move(c, "INBOX", "3", "Archive", copy=True)
        move(c, "INBOX", "4", "Junk")
        check(wait_learned(spamd, (1, 1)) == (1, 1), "into Junk again: spam")
        typ, data = c.select("Junk")
        move(c, "Junk", data[0].decode(), "Trash")
        time.sleep(2)
        check(spamd.learned() == (1, 1),
              "to Archive, copied to Archive, Junk to Trash: nothing taught")
        check(fx.log_text().count("spamlearn") > 0 and
              fx.log_text().count("learned=") == 3, "three learner runs in all")

        # several at once: one run (the one taught as ham above is among
        # them: Bayes forgets it as ham)
        c.select("INBOX")
        uids = c.uid("SEARCH", None, "ALL")[1][0].decode().split()
        move(c, "INBOX", ",".join(uids), "Junk")
        got = wait_learned(spamd, (1 + len(uids), 0))
        check(got == (1 + len(uids), 0), "%d messages at once: each taught (%s)" % (len(uids), got))
        check("learned=%d" % len(uids) in fx.log_text(), "in one learner run")

        # one learner at a time, one waiting: a third leaves at once
        import fcntl
        locks = []
        for name in ("spamlearn.wait", "spamlearn.lock"):
            f = open(os.path.join(fx.store, "notify", name), "a")
            fcntl.flock(f, fcntl.LOCK_EX)
            locks.append(f)
        t = time.monotonic()
        r = subprocess.run([fx.program("inetd/spamlearn"), "--config", fx.conf, "--mailbox", "1",
                            "--uids", "1:1", "--class", "spam"], env=fx.env(), timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        check(r.returncode == 0 and time.monotonic() - t < 10 and
              "these are not taught" in r.stderr, "busy: a third learner leaves at once")
        for f in locks:
            f.close()

        # spamd down: the run stops at its first failure
        c.logout()
        fx.write_config(dict(conf, spamd="127.0.0.1:%d" % pbtest.free_port()))
        c = imap_session(imap)
        move(c, "Junk", "1:*", "INBOX")
        wait = time.monotonic() + 30
        while "the run stops" not in fx.log_text() and time.monotonic() < wait:
            time.sleep(0.2)
        check("the run stops" in fx.log_text() and "class=ham learned=0 unset=0 skipped=1" in
              fx.log_text(), "spamd down: one message tried, the run stops")
        move(c, "INBOX", "1:*", "Junk")  # back, for what follows (taught nothing: down)
        time.sleep(1)

        # off: nothing (a new session reads the configuration)
        c.logout()
        fx.write_config(dict(conf, spam_learn="no"))
        c = imap_session(imap)
        move(c, "Junk", "1:*", "INBOX")
        time.sleep(2)
        check(spamd.learned() == (1 + len(uids), 0), "spam_learn = no: nothing taught")
        c.logout()
    finally:
        if spamd is not None:
            spamd.close()
        fx.close()
    print("spam learning: all checks passed")


if __name__ == "__main__":
    main()
