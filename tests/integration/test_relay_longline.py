#!/usr/bin/env python3
"""Lines longer than 998 octets (RFC 5321 4.5.3.1.6, RFC 5322 2.1.1): smtpd
takes lines up to 64 KB, and the relay breaks the longer ones as it sends
them, by CRLF and one space (as Postfix's smtp_line_length_limit), so a
scripted MX (long.test at 127.0.0.4, through dnsmasq) that records the DATA
as sent sees no line over 998 octets plus CRLF; the dot-stuffing of every
line is right, and the message minus the inserted CRLF + space is the
original."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pbtest  # noqa: E402
import relaytest  # noqa: E402
from relaytest import check  # noqa: E402


def main():
    pbtest.require("/usr/sbin/dnsmasq", "dnsmasq-base")
    port = relaytest.common_port(["127.0.0.4"])
    with relaytest.Sender("relay-longline", ["mx-host=long.test,mx.long.test,10",
                                             "host-record=mx.long.test,127.0.0.4"], port) as s:
        fake = s.fake("127.0.0.4", port, lambda peer, srv: peer.session())
        # 5000 octets; one starting with a dot (stuffed, the dot counted);
        # 998 exactly (kept whole); 999; a dot right at a break.
        long_lines = ["".join(chr(ord("a") + i % 26) for i in range(5000)),
                      "." + "d" * 2500,
                      "e" * 998,
                      "f" * 999,
                      "g" * 998 + ".h" + "i" * 1200]
        body = "short\r\n" + "\r\n".join(long_lines) + "\r\nend\r\n"
        s.submit(["lea@long.test"], pbtest.make_message("long lines", body, sender=s.BOB,
                                                        to="lea@long.test"))
        s.com.relay("--run-queue")
        check(not s.com.queue() and len(fake.raw) == 1, "delivered")
        sent = fake.raw[0].split(b"\r\n")
        check(sent[-1] == b"", "every line ends with CRLF")
        longest = max(len(ln) for ln in sent)
        check(longest <= 998, "no line sent is longer than 998 octets + CRLF (%d)" % longest)
        check(all(not ln.startswith(b".") or ln.startswith(b"..") for ln in sent),
              "every line that starts with a dot is stuffed")
        check(b"\r\n" + b"e" * 998 + b"\r\n" in fake.raw[0], "a 998-octet line is kept whole")
        got = fake.messages[0].split(b"\r\n\r\n", 1)[1]
        check(got != body.encode() and got.replace(b"\r\n ", b"") == body.encode(),
              "the body minus the inserted CRLF + space is the original")
    print("relay long lines: all checks passed")


if __name__ == "__main__":
    main()
