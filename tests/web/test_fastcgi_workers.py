#!/usr/bin/env python3
"""webmail.cgi --workers N as dist/systemd/pillarbox-webmail.service runs it
behind nginx (a socket from systemd-socket-activate, as
pillarbox-webmail.socket makes it):
  - N worker processes answer on the socket: a FastCGI client that stalls
    in the middle of its request holds up one of them, not the webmail;
  - a worker that ends is started again and the webmail keeps answering,
    also one stopped while a client held it in the middle of a request;
  - SIGTERM to the first process stops every worker, each closing the
    store (none left registered in it)."""
import http.client
import os
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

check, failures = webenv.check, webenv.failures


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return sorted(int(p) for p in f.read().split())
    except FileNotFoundError:
        return []


def wait_for(cond, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def answers(server, timeout=10):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        conn.request("GET", server.base + "/login")
        return conn.getresponse().status == 200
    except OSError:
        return False


def main():
    store = webenv.Store()
    server = webenv.Nginx(store, fastcgi=True, workers=2)
    # setpriv execs systemd-socket-activate, which execs webmail.cgi when
    # the first connection comes (as systemd does)
    parent = server.procs[0].pid
    stalled = None
    try:
        check(answers(server), "the webmail answers")
        check(wait_for(lambda: len(children(parent)) == 2), "2 workers started")
        # A client that connects to the FastCGI socket and stops in the
        # middle of its first record (libfcgi drops one that sends nothing
        # for 2 s): the worker that accepts it waits for the rest.
        stalled = socket.socket(socket.AF_UNIX)
        stalled.connect(server.socket)
        stalled.sendall(bytes([1, 1, 0, 1, 0, 8, 0, 0]))   # BEGIN_REQUEST header only
        time.sleep(0.5)
        check(all(answers(server, timeout=5) for _ in range(5)),
              "answers while a client stalls one worker")
        # Every worker stopped, the stalled one too (in the middle of reading
        # its request): each ends, and new ones are started.
        before = children(parent)
        for pid in before:
            os.kill(pid, signal.SIGTERM)
        check(wait_for(lambda: len(children(parent)) == 2 and
                       not set(before) & set(children(parent))),
              "workers that were stopped, one of them held by a stalled client, are started "
              "again (%s, then %s)" % (before, children(parent)))
        stalled.close()
        stalled = None
        check(answers(server), "the webmail answers after that")
        workers = children(parent)
        os.kill(parent, signal.SIGTERM)
        try:
            server.procs[0].wait(timeout=15)
            check(True, "the first process ends on SIGTERM")
        except Exception:  # noqa: BLE001 - reported
            check(False, "the first process ends on SIGTERM")
        check(not any(os.path.exists("/proc/%d" % p) for p in workers), "every worker ended")
        check(webenv.registry_pids(store) == [], "no process left registered in the store")
    finally:
        if stalled is not None:
            stalled.close()
        webenv.stop_all([server], store, failures)
    webenv.exit_with(failures)


if __name__ == "__main__":
    main()
