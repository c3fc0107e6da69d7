#!/usr/bin/env python3
"""The webmail served by Apache with mod_fcgid, webmail.cgi a FastCGI server
that answers request after request, driven by headless Chromium
(browser.mjs)."""
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

webenv.main_browser("apache-fcgid")
