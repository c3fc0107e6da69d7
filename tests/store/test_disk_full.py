#!/usr/bin/env python3
"""A full disk loses nothing, answers clearly, and recovers by itself.

The store lives on a small ext4 image, loop-mounted in the test's work
directory (needs root and loop devices: SKIP otherwise). The real programs
serve it: smtpd (mx and submission) and imapd and pop3d under
systemd-socket-activate, `pillarbox deliver`, and storetool.

1. The disk filled by someone else, leaving a few KB: SMTP answers "452
   4.3.1" in both modes and the session goes on; `deliver` exits 75 saying
   the disk is full; IMAP APPEND and COPY get a tagged NO saying so, the
   session goes on; POP3 RETR, IMAP FETCH and logins keep working. A message
   larger than the free space (above the store's own reserve) is refused
   with 452 and leaves no file behind.
2. Body files whose fsync or close fails (ext4's delayed allocation, a
   thin-provisioned disk, NFS): a preloaded shim makes them fail; SMTP
   answers 452, nothing is stored.
3. The log at the end of its file when the disk fills, so that Berkeley DB
   cannot create the next one: 5.3 then reports a durable commit whose
   record is the first of the new file as done without writing it. An IMAP
   EXPUNGE is the durable write that still runs on a full disk: it must not
   be acknowledged and then undone by the recovery that follows a crash (a
   store process is killed while the disk is full). A login from an address
   with failed logins on record still works (its count cannot be written),
   so do IMAP SELECT (its \Recent claim cannot be written) and the end of
   a POP3 session that read mail (its \Seen marks cannot be written). Once
   the log's buffer is full too, opening the store fails: saying the disk
   is full, not that a database is damaged.
4. Space freed: everything works again without a manual step, every
   acknowledged message is there byte for byte, `store check` is clean,
   nothing is left in blobs/tmp.
"""

import base64
import imaplib
import os
import poplib
import re
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import pbtest  # noqa: E402
import smtptest  # noqa: E402
from smtptest import ALICE, ALICE_PW, BOB, BOB_PW  # noqa: E402

CAROL, CAROL_PW = "carol@example.com", "carol pw"

IMAGE_MB = 512          # the store reserves ~350 MB for its shared regions
STORE_KEEP_MB = 32      # store/space.c: free space kept for Berkeley DB
BODY_FILE_SIZE = 20000  # past store/body.h's BODY_INLINE_MAX: a body file
NOSPACE_TEXT = b"disk space"
LOG_LEFT = 64000        # bytes left in the log file when the disk fills: more than a
                        # storetool run takes at the least (up to ~20 KB seen)


def skip(why):
    """Within the test: skipped; main() then exits 77 (SKIP)."""
    raise unittest.SkipTest(why)


def preflight():
    """What the test needs, checked before unittest runs (which would take
    an exit for an error): exits 77 when it is missing."""
    if os.geteuid() != 0:
        print("SKIP: needs root (a loop-mounted file system)")
        sys.exit(pbtest.SKIP)
    for tool, package in (("mkfs.ext4", "e2fsprogs"), ("losetup", "mount"), ("mount", "mount"),
                          ("fallocate", "util-linux"), ("cc", "gcc")):
        pbtest.require(tool, package)
    r = subprocess.run(["losetup", "-f"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print("SKIP: no free loop device: %s" % r.stdout.decode(errors="replace").strip())
        sys.exit(pbtest.SKIP)


class Disk:
    """An ext4 image loop-mounted at `mnt` inside `workdir`."""

    def __init__(self, workdir):
        self.image = os.path.join(workdir, "disk.img")
        self.mnt = os.path.join(workdir, "mnt")
        self.filler = os.path.join(self.mnt, "filler")
        self.mounted = False

    def mount(self):
        os.makedirs(self.mnt)
        with open(self.image, "wb") as f:
            f.truncate(IMAGE_MB << 20)
        r = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", self.image],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            skip("mkfs.ext4 failed: %s" % r.stdout.decode(errors="replace").strip())
        r = subprocess.run(["mount", "-o", "loop", self.image, self.mnt],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            skip("cannot loop-mount an image (no loop devices?): %s"
                 % r.stdout.decode(errors="replace").strip())
        self.mounted = True
        os.chmod(self.mnt, 0o755)
        os.chown(self.mnt, *pwdgid(pbtest.STORE_USER))

    def avail(self):
        st = os.statvfs(self.mnt)
        return st.f_bavail * st.f_frsize

    def fill(self, keep):
        """Leaves about `keep` bytes free (root fills: no reserved blocks)."""
        have = os.path.getsize(self.filler) if os.path.exists(self.filler) else 0
        want = have + self.avail() - keep
        subprocess.run(["fallocate", "-l", str(max(want, 4096)), self.filler], check=False,
                       stderr=subprocess.DEVNULL)
        return self.avail()

    def free(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def umount(self):
        if not self.mounted:
            return
        for _ in range(100):
            if subprocess.run(["umount", self.mnt], stderr=subprocess.DEVNULL).returncode == 0:
                self.mounted = False
                return
            time.sleep(0.1)
        subprocess.run(["umount", "-l", self.mnt])
        self.mounted = False


def pwdgid(user):
    import grp
    import pwd
    return pwd.getpwnam(user).pw_uid, grp.getgrnam(user).gr_gid


# A preloaded library making fsync() or close() of a body's temporary file
# fail with ENOSPC (PB_FAIL_BODY=fsync|close, read before the handler
# clears its environment).
SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char mode[16];
__attribute__((constructor)) static void shim_init(void)
{
	const char *m = getenv("PB_FAIL_BODY");
	if (m != NULL)
		snprintf(mode, sizeof(mode), "%s", m);
}
static int is_body_tmp(int fd)
{
	char link[64], path[4096];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, "/blobs/tmp/") != NULL;
}
int fsync(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (strcmp(mode, "fsync") == 0 && is_body_tmp(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd);
}
int close(int fd)
{
	static int (*real)(int);
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "close");
	int fail = strcmp(mode, "close") == 0 && is_body_tmp(fd);
	int r = real(fd);
	if (fail) {
		errno = ENOSPC;
		return -1;
	}
	return r;
}
"""


def body_message(subject, size=200):
    line = "%s: the quick brown fox jumps over the lazy dog\r\n" % subject
    return pbtest.make_message(subject, line * (size // len(line) + 1))


def subject_of(raw):
    m = re.search(rb"\r\nSubject: ([^\r\n]*)\r\n", raw)
    return m.group(1).decode() if m else None


class Smtp:
    """One SMTP session (smtptest.Raw), kept across messages."""

    def __init__(self, svc, auth=None):
        self.r = smtptest.Raw(svc.address, timeout=60)
        self.sender = auth[0] if auth is not None else "sender@example.org"
        assert self.r.greeting[0] == 220, self.r.greeting
        code, lines = self.r.cmd("EHLO diskfull.example")
        assert code == 250, lines
        if auth is not None:
            token = base64.b64encode(("\0%s\0%s" % auth).encode()).decode()
            code, lines = self.r.cmd("AUTH PLAIN " + token)
            assert code == 235, lines

    def send(self, msg, rcpt=BOB):
        """The reply to the data, or to DATA when it was refused."""
        sender = self.sender
        self.r.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, rcpt))
        replies = [self.r.reply() for _ in range(3)]
        assert [c for c, _ in replies[:2]] == [250, 250], replies
        if replies[2][0] != 354:
            return replies[2]
        self.r.send(msg + b".\r\n")
        return self.r.reply()

    def alive(self):
        return self.r.cmd("NOOP")[0] == 250 and self.r.cmd("RSET")[0] == 250

    def close(self):
        try:
            self.r.cmd("QUIT")
        except OSError:
            pass
        self.r.close()


class DiskFullTests(unittest.TestCase):
    def setUp(self):
        base = os.path.join(pbtest.TOP_BUILDDIR, "tests", "tmp")
        os.makedirs(base, exist_ok=True)
        os.chmod(base, 0o755)
        self.work = tempfile.mkdtemp(prefix="disk_full.", dir=base)
        os.chmod(self.work, 0o755)
        self.disk = Disk(self.work)
        self.fx = None
        self.holder = None
        self.addCleanup(self.cleanup)
        self.disk.mount()
        self.store = os.path.join(self.disk.mnt, "store")
        self.fx = smtptest.SmtpFixture("disk-full", tls=False,
                                       config_extra={"store": self.store})
        self.fx.signals_expected = True   # the holder is killed on purpose
        self.acked = {}   # subject -> the bytes the client sent
        self.tool = self.fx.program("tests/store/storetool")

    def cleanup(self):
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()
        if self.fx is not None:
            keep = os.environ.get("PBTEST_KEEP") == "1"
            try:
                self.fx.close(keep=keep)
            finally:
                self.disk.umount()
        else:
            self.disk.umount()
        if os.environ.get("PBTEST_KEEP") != "1":
            subprocess.run(["rm", "-rf", self.work])

    # ------------------------------------------------------------ helpers

    def storetool(self, *args, check=True):
        r = subprocess.run([self.tool, args[0], "--config", self.fx.conf] + list(args[1:]),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.fx.env({"PILLARBOX_LOG_STDERR": "0"}))
        if check and r.returncode != 0:
            raise AssertionError("storetool %s: %s" % (args[0], r.stderr.decode()))
        return r

    def log_position(self):
        """(current log file, bytes left in it)."""
        out = self.storetool("stats", "--env-only").stdout.decode()
        v = dict(re.findall(r"^(log [a-z ]+): (\d+)$", out, re.M))
        return int(v["log current file"]), int(v["log file size"]) - int(v["log current offset"])

    def blobs_tmp(self):
        return os.listdir(os.path.join(self.store, "blobs", "tmp"))

    def imap(self, svc, user=BOB, password=BOB_PW):
        m = imaplib.IMAP4("127.0.0.1", svc.port, timeout=60)
        m.login(user, password)
        return m

    def pop(self, svc, password=BOB_PW):
        p = poplib.POP3("127.0.0.1", svc.port, timeout=60)
        p.user(BOB)
        p.pass_(password)
        return p

    def smtp_ok(self, session, subject, size=200):
        msg = body_message(subject, size)
        code, lines = session.send(msg)
        self.assertEqual(code, 250, "%s: %s" % (subject, lines))
        self.acked[subject] = msg

    def assert_nospace(self, code, lines, what):
        self.assertEqual(code, 452, "%s: %s" % (what, lines))
        self.assertIn("4.3.1", lines[-1], what)

    # -------------------------------------------------------------- phases

    def test_disk_full(self):
        fx = self.fx
        mx, sub = fx.smtpd("mx"), fx.smtpd("submission")
        imapd = fx.socket_activate(fx.program("inetd/imapd"))
        pop3d = fx.socket_activate(fx.program("inetd/pop3d"))
        t0 = time.monotonic()
        mx_s, sub_s = Smtp(mx), Smtp(sub, auth=(BOB, BOB_PW))
        self.smtp_ok(mx_s, "before-small")
        self.smtp_ok(sub_s, "before-file", BODY_FILE_SIZE)
        session = self.imap(imapd)
        appended = body_message("before-append", BODY_FILE_SIZE)
        self.assertEqual(session.append("INBOX", None, None, appended)[0], "OK")
        self.acked["before-append"] = appended

        self.full_disk(mx_s, sub_s, session, imapd, pop3d)
        # space again: the same sessions go on
        self.disk.free()
        self.smtp_ok(mx_s, "after-mx")
        self.smtp_ok(sub_s, "after-submission", BODY_FILE_SIZE)
        appended = body_message("after-append", BODY_FILE_SIZE)
        self.assertEqual(session.append("INBOX", None, None, appended)[0], "OK")
        self.acked["after-append"] = appended
        session.logout()
        mx_s.close()
        sub_s.close()

        self.big_message(mx)
        self.body_sync_fails()
        self.log_at_file_end(imapd, pop3d, mx)
        self.log_buffer_full(imapd)

        # 4. space again after all that: new sessions work
        self.disk.free()
        s = Smtp(mx)
        self.smtp_ok(s, "last-mx")
        s.close()
        msg = body_message("last-deliver")
        r = fx.pillarbox("deliver", BOB, input=msg, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.acked["last-deliver"] = msg
        session = self.imap(imapd)
        appended = body_message("last-append", BODY_FILE_SIZE)
        self.assertEqual(session.append("INBOX", None, None, appended)[0], "OK")
        self.acked["last-append"] = appended
        session.logout()
        self.check_everything()
        print("disk full test: %.1f s" % (time.monotonic() - t0))

    def full_disk(self, mx_s, sub_s, session, imapd, pop3d):
        """1. Someone else filled the disk."""
        fx = self.fx
        # a failed login on record for 127.0.0.1 (phase 3 logs in again)
        with self.assertRaises(poplib.error_proto):
            self.pop(pop3d, password="wrong")
        left = self.disk.fill(8 * 1024)
        self.assertLess(left, 64 * 1024)

        code, lines = mx_s.send(body_message("full-mx"))
        self.assert_nospace(code, lines, "mx on a full disk")
        self.assertTrue(mx_s.alive(), "the mx session after 452")
        code, lines = sub_s.send(body_message("full-submission", BODY_FILE_SIZE), rcpt=ALICE)
        self.assert_nospace(code, lines, "submission on a full disk")
        self.assertTrue(sub_s.alive(), "the submission session after 452")

        r = fx.pillarbox("deliver", BOB, input=body_message("full-deliver"), check=False)
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertIn(b"full", r.stderr)

        for size in (200, BODY_FILE_SIZE):
            typ, data = session.append("INBOX", None, None, body_message("full-append", size))
            self.assertEqual(typ, "NO", data)
            self.assertIn(NOSPACE_TEXT, data[0])
        typ, data = session.select("INBOX")
        self.assertEqual(typ, "OK", data)
        typ, data = session.copy("1", "Archive")
        self.assertEqual(typ, "NO", data)
        self.assertIn(NOSPACE_TEXT, data[0])
        typ, data = session.store("1", "+FLAGS", "(\\Flagged)")
        self.assertTrue(typ == "OK" or NOSPACE_TEXT in data[0], data)
        typ, data = session.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(data[0][1], self.acked_stored("before-small"))
        self.assertEqual(session.noop()[0], "OK")

        p = self.pop(pop3d)
        count, _ = p.stat()
        self.assertEqual(count, 3)
        _, lines, _ = p.retr(2)
        self.assertIn(b"Subject: before-file", lines)
        p.quit()
        self.assertEqual(self.blobs_tmp(), [])

    def acked_stored(self, subject):
        """What IMAP shows of an acknowledged message (smtpd adds lines)."""
        for _, raw in self.fx.dump(BOB):
            if subject_of(raw) == subject:
                return raw
        raise AssertionError("%s is not stored" % subject)

    def big_message(self, mx):
        """A message larger than the free space, which is above the store's
        own reserve: the body write runs out of space."""
        self.disk.free()
        room = 6 << 20
        self.disk.fill((STORE_KEEP_MB << 20) + room)
        s = Smtp(mx)
        started = time.monotonic()
        code, lines = s.send(body_message("big", (STORE_KEEP_MB << 20) + room * 2))
        print("a message larger than the free space: %.1f s" % (time.monotonic() - started))
        self.assert_nospace(code, lines, "a message larger than the free space")
        self.assertTrue(s.alive())
        s.close()
        self.assertEqual(self.blobs_tmp(), [])
        self.assertGreater(self.disk.avail(), (STORE_KEEP_MB << 20) + room // 2)
        self.disk.free()

    def body_sync_fails(self):
        """2. fsync or close of a body file fails after its writes did."""
        fx = self.fx
        src, lib = os.path.join(self.work, "failbody.c"), os.path.join(self.work, "failbody.so")
        with open(src, "w") as f:
            f.write(SHIM)
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", lib, src, "-ldl"], check=True)
        os.chmod(lib, 0o755)
        asan = os.environ.get("ASAN_OPTIONS", "")
        asan = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        for call in ("fsync", "close"):
            svc = fx.socket_activate(fx.program("inetd/smtpd"), "--mode=mx", "--relay=",
                                     env={"LD_PRELOAD": lib, "PB_FAIL_BODY": call,
                                          "ASAN_OPTIONS": asan})
            s = Smtp(svc)
            code, lines = s.send(body_message("failed-" + call, BODY_FILE_SIZE))
            self.assert_nospace(code, lines, "a body whose %s failed" % call)
            s.close()
            svc.stop()
        self.assertEqual(self.blobs_tmp(), [])

    def log_to_file_end(self):
        """Leaves less than LOG_LEFT in the current log file (a storetool
        run takes up to about 10 KB: its databases' registration, a
        checkpoint at its close)."""
        lfile, left = self.log_position()
        per, n = 16000, 0          # log bytes a delivery takes, at most so far
        while left >= LOG_LEFT:
            count = max(1, (left - LOG_LEFT) // (2 * per))
            n += 1
            self.storetool("deliver", "--to", ALICE, "--count", str(count), "--size", "1",
                           "--tag", "fill%d-%d" % (lfile, n), "--quiet")
            now, after = self.log_position()
            print("fill: file %d left %d count %d -> file %d left %d" % (lfile, left, count, now, after))
            if now != lfile:
                # overshot (a run took more than guessed): the same again
                # at the end of the new file, guessing higher
                self.assertLess(n, 40, "cannot bring the log near its file's end")
                lfile, left, per = now, after, 2 * per
                continue
            per = (left - after) // count + 1 if n == 1 else max(per, (left - after) // count + 1)
            left = after

    def log_stuck(self, imapd):
        """Flag changes until one fails: the log then needs its next file,
        which cannot be made. Returns the IMAP session (alice's)."""
        session = self.imap(imapd, ALICE, ALICE_PW)
        self.assertEqual(session.select("INBOX")[0], "OK")
        for i in range(2000):
            typ, data = session.store("1", "+FLAGS" if i % 2 else "-FLAGS", "(\\Flagged)")
            if typ != "OK":
                break
        self.assertEqual(typ, "NO", "2000 flag changes fitted in the log file's last KB")
        self.assertIn(NOSPACE_TEXT, data[0])
        return session

    def log_at_file_end(self, imapd, pop3d, mx):
        """3. The disk fills when the log is at the end of its file."""
        fx = self.fx
        doomed = 20
        self.storetool("deliver", "--to", BOB, "--count", str(doomed), "--size", "1",
                       "--tag", "doomed", "--quiet")
        session = self.imap(imapd)
        typ, data = session.select("INBOX")
        exists = int(data[0])
        typ, data = session.store("%d:%d" % (exists - doomed + 1, exists), "+FLAGS",
                                  "(\\Deleted)")
        self.assertEqual(typ, "OK", data)
        session.logout()
        # new mail no session has seen: the next SELECT claims it (\Recent)
        self.storetool("deliver", "--to", BOB, "--count", "2", "--size", "1", "--tag", "fresh",
                       "--quiet")
        with self.assertRaises(poplib.error_proto):
            self.pop(pop3d, password="wrong")
        fx.add_user(CAROL, CAROL_PW)
        self.log_to_file_end()
        # a store process that will die while the disk is full
        self.holder = subprocess.Popen([self.tool, "hold", "--config", fx.conf, "--user", CAROL,
                                        "--seconds", "120"], stdout=subprocess.PIPE,
                                       env=fx.env({"PILLARBOX_LOG_STDERR": "0"}))
        self.assertEqual(self.holder.stdout.readline().split()[0], b"held")
        self.disk.fill(0)

        self.log_stuck(imapd).logout()

        # logins (this address has a failed one on record, whose count
        # cannot be written now), reading, the end of a POP3 session
        p = self.pop(pop3d)
        self.assertGreater(p.stat()[0], doomed)
        p.retr(1)
        p.quit()
        s = Smtp(mx)
        code, lines = s.send(body_message("full-log-mx"))
        self.assert_nospace(code, lines, "mx with the log at its file's end")
        s.close()
        session = self.imap(imapd)
        typ, data = session.select("INBOX")
        self.assertEqual(typ, "OK", data)
        typ, data = session.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK", data)
        # the durable write that runs on a full disk
        try:
            typ, data = session.expunge()
        except (imaplib.IMAP4.abort, OSError) as e:
            typ, data = "BYE", [str(e).encode()]
        expunged = typ == "OK"
        print("EXPUNGE with the log at its file's end: %s %s" % (typ, data[:1]))
        try:
            session.logout()
        except (imaplib.IMAP4.abort, OSError):
            pass
        # the crash, and a recovery while the disk is still full
        self.holder.kill()
        self.holder.wait()
        r = self.storetool("status", "--user", BOB, check=False)
        print("a store process after the crash, disk full: exit %d %s"
              % (r.returncode, r.stderr.decode().strip()[:200]))

        self.disk.free()
        p = self.pop(pop3d)
        count = p.stat()[0]
        p.quit()
        tags = [subject_of(raw) for _, raw in fx.dump(BOB)]
        left = sum(1 for _, raw in fx.dump(BOB) if b"doomed-" in raw)
        if expunged:
            self.assertEqual(left, 0, "EXPUNGE was acknowledged, yet %d of the %d messages "
                             "came back after the recovery" % (left, doomed))
        self.assertEqual(count, len(tags))
        # the store takes an expunge again
        session = self.imap(imapd)
        session.select("INBOX")
        session.expunge()
        session.logout()
        self.assertEqual(sum(1 for _, raw in fx.dump(BOB) if b"doomed-" in raw), 0)

    def log_buffer_full(self, imapd):
        """3b. The log stuck at its file's end until its buffer is full:
        opening a database for writing, which Berkeley DB logs, then fails
        (a reader opens its databases read-only, unlogged). The error must
        say the disk is full, not that a database is damaged (whose advice,
        restoring a backup, would lose mail)."""
        self.log_to_file_end()
        self.disk.fill(0)
        session = self.log_stuck(imapd)
        for n in range(30):
            # an administrator's change: no free-space check comes first
            r = self.fx.pillarbox("user", "quota", BOB, "%dM" % (100 + n), check=False)
            if r.returncode != 0:
                break
            for i in range(200):   # each failed change stays in the buffer
                session.store("1", "+FLAGS" if i % 2 else "-FLAGS", "(\\Flagged)")
        error = r.stderr.decode()
        print("a change with the log buffer full: exit %d %s"
              % (r.returncode, error.strip()))
        self.assertNotEqual(r.returncode, 0, "the log buffer never filled")
        # opening for writing fails on the full log buffer, or meets the panic of a
        # session whose durable commit found the log stuck (txn.c)
        self.assertTrue("full" in error or "panic" in error, error)
        self.assertNotIn("damaged", error)
        session.logout()
        self.disk.free()
        self.storetool("status", "--user", BOB)

    def check_everything(self):
        stored = {}
        for _, raw in self.fx.dump(BOB):
            stored.setdefault(subject_of(raw), []).append(raw)
        for subject, sent in self.acked.items():
            self.assertEqual(len(stored.get(subject, [])), 1,
                             "acknowledged %s is there %d times"
                             % (subject, len(stored.get(subject, []))))
            self.assertTrue(stored[subject][0].endswith(sent), "%s is not what was sent" % subject)
        refused = ("full-", "failed-", "big")
        for subject in stored:
            self.assertFalse(subject is not None and subject.startswith(refused),
                             "%s was refused, yet stored" % subject)
        r = self.fx.pillarbox("store", "check", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.blobs_tmp(), [])


if __name__ == "__main__":
    preflight()
    result = unittest.main(verbosity=2, exit=False).result
    if result.skipped and result.wasSuccessful():
        for _, why in result.skipped:
            print("SKIP: %s" % why)
        sys.exit(pbtest.SKIP)
    sys.exit(0 if result.wasSuccessful() else 1)
