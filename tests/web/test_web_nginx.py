#!/usr/bin/env python3
"""The webmail served by nginx, driven by headless Chromium (browser.mjs)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webenv  # noqa: E402

webenv.main_browser("nginx")
