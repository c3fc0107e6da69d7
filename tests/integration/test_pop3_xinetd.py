"""The POP3 suites (test_pop3.py, test_pop3_clients.py) once more, with pop3d
started per connection by a real xinetd (-dontfork, a config file written by
the fixture with the test port) instead of systemd-socket-activate."""

import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402,F401
from test_pop3 import Pop3SuiteMixin  # noqa: E402
from test_pop3_clients import ClientsMixin  # noqa: E402


class Pop3Xinetd(Pop3SuiteMixin, unittest.TestCase):
    launcher = "xinetd"


class ClientsXinetd(ClientsMixin, unittest.TestCase):
    launcher = "xinetd"


if __name__ == "__main__":
    pbtest.require("xinetd", "xinetd")
    unittest.main(verbosity=2)
