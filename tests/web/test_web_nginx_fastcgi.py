#!/usr/bin/env python3
"""The webmail served by nginx with webmail.cgi a FastCGI server on a socket
made by systemd-socket-activate (as dist/systemd/pillarbox-webmail.socket),
driven by headless Chromium (browser.mjs)."""
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

webenv.main_browser("nginx-fastcgi")
