#!/usr/bin/python3
"""Writes tests/unit/dkim_verify_fixtures.h and the seeds of
tests/fuzz/corpus/dkim_verify/: messages signed by an independent signer,
dkimpy (Debian's python3-dkim), with fresh keys, for test_dkim_verify.c and
fuzz_dkim_verify.c. Run once from the source tree when the fixtures change:
    /usr/bin/python3 tests/unit/dkim_verify_gen.py
t= is fixed (T0) so that the tests' clock is too."""
import base64
import os

import dkim
import nacl.encoding
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

T0 = 1700000000
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, '..', 'fuzz', 'corpus', 'dkim_verify')

MSG = (b'From: Alice <alice@example.com>\r\n'
       b'To: bob@example.net\r\n'
       b'Subject: Fixture\r\n message \t folded\r\n'
       b'Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n'
       b'Message-ID: <fx1@example.com>\r\n'
       b'\r\n'
       b'Hello Bob,\r\n'
       b'\r\n'
       b'  This  line has   spaces \t\r\n'
       b'Bye.\r\n'
       b'\r\n'
       b'\r\n')
HEADERS = [b'from', b'to', b'subject', b'date', b'message-id']


class Signer(dkim.DKIM):
    """dkimpy with a fixed t= and an optional x=."""

    def __init__(self, message, x=None):
        super().__init__(message)
        self.x = x

    def gen_header(self, fields, *args, **kw):
        out = []
        for k, v in fields:
            if k == b't':
                v = str(T0).encode()
                out.append((k, v))
                if self.x is not None:
                    out.append((b'x', str(self.x).encode()))
            else:
                out.append((k, v))
        return super().gen_header(out, *args, **kw)


def rsa_key(bits):
    k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    spki = k.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(spki).decode()


def ed_key():
    k = nacl.signing.SigningKey.generate()
    return (base64.b64encode(bytes(k)),
            base64.b64encode(bytes(k.verify_key)).decode())


def sign(key, selector, alg=b'rsa-sha256', canon=(b'relaxed', b'relaxed'), msg=MSG,
         identity=None, length=False, x=None):
    s = Signer(msg, x=x)
    return s.sign(selector.encode(), b'example.com', key, signature_algorithm=alg,
                  identity=identity, canonicalize=canon, include_headers=HEADERS,
                  length=length) + msg


def c_string(data):
    out, line = [], ''
    for b in data:
        c = chr(b)
        if c == '\\' or c == '"':
            line += '\\' + c
        elif c == '\r':
            line += '\\r'
        elif c == '\n':
            line += '\\n'
            out.append(line)
            line = ''
        elif c == '\t':
            line += '\\t'
        elif 0x20 <= b < 0x7f:
            line += c
        else:
            line += '\\%03o' % b
    if line:
        out.append(line)
    return '\n'.join('\t"%s"' % x for x in out)


def main():
    rsa2048, rsa2048_p = rsa_key(2048)
    rsa1024, rsa1024_p = rsa_key(1024)
    rsa512, rsa512_p = rsa_key(512)
    other, _ = rsa_key(1024)
    ed, ed_p = ed_key()
    keys = {
        'RSA2048': 'v=DKIM1; k=rsa; p=' + rsa2048_p,
        'RSA1024': 'v=DKIM1; k=rsa; p=' + rsa1024_p,
        'RSA512': 'v=DKIM1; k=rsa; p=' + rsa512_p,
        'ED': 'v=DKIM1; k=ed25519; p=' + ed_p,
        'KMISMATCH': 'v=DKIM1; k=ed25519; p=' + rsa2048_p,
        'TESTING': 'v=DKIM1; k=rsa; t=y; p=' + rsa2048_p,
        'STRICT': 'v=DKIM1; k=rsa; t=s; p=' + rsa2048_p,
        'REVOKED': 'v=DKIM1; k=rsa; p=',
    }
    rr, ss, rs = (b'relaxed', b'relaxed'), (b'simple', b'simple'), (b'relaxed', b'simple')
    bad = sign(other, 'rsa1024', canon=rr)   # rsa1024's name, another key
    bad_sig = bad[:len(bad) - len(MSG)]
    msgs = {
        'RSA2048_RR': sign(rsa2048, 'rsa2048', canon=rr),
        'RSA2048_SS': sign(rsa2048, 'rsa2048', canon=ss),
        'RSA2048_RS': sign(rsa2048, 'rsa2048', canon=rs),
        'RSA1024_RR': sign(rsa1024, 'rsa1024', canon=rr),
        'ED_RR': sign(ed, 'ed', alg=b'ed25519-sha256', canon=rr),
        'ED_SS': sign(ed, 'ed', alg=b'ed25519-sha256', canon=ss),
        'LEN_RR': sign(rsa2048, 'rsa2048', canon=rr, length=True),
        'LEN_SS': sign(rsa2048, 'rsa2048', canon=ss, length=True),
        'IDENT': sign(rsa2048, 'rsa2048', canon=rr, identity=b'alice@mail.example.com'),
        'TWO': bad_sig + sign(ed, 'ed', alg=b'ed25519-sha256', canon=rr),
        'EXPIRING': sign(rsa2048, 'rsa2048', canon=rr, x=T0 + 100),
        'REVOKED': sign(rsa2048, 'revoked', canon=rr),
        'MISSING': sign(rsa2048, 'missing', canon=rr),
        'TEMP': sign(rsa2048, 'temp', canon=rr),
        'SHA1': sign(rsa2048, 'rsa2048', alg=b'rsa-sha1', canon=rr),
        'RSA512': sign(rsa512, 'rsa512', canon=rr),
        'KMISMATCH': sign(rsa2048, 'kmismatch', canon=rr),
        'TESTING': sign(rsa2048, 'testing', canon=rr),
    }
    with open(os.path.join(HERE, 'dkim_verify_fixtures.h'), 'w') as f:
        f.write('/* Written by tests/unit/dkim_verify_gen.py (dkimpy %s): do not edit.\n'
                ' * Keys are published at SELECTOR._domainkey.example.com; t=%d. */\n'
                '#define FX_T0 %d\n\n' % (getattr(dkim, '__version__', '1.x'), T0, T0))
        for name, rec in keys.items():
            f.write('#define FX_KEY_%s \\\n%s\n' % (name, c_string(rec.encode()).replace('\n', ' \\\n')))
        f.write('\n')
        for name, msg in msgs.items():
            f.write('#define FX_%s \\\n%s\n\n' % (name, c_string(msg).replace('\n', ' \\\n')))
    os.makedirs(CORPUS, exist_ok=True)
    seeds = [('rsa2048_rr', msgs['RSA2048_RR'], None), ('ed_ss', msgs['ED_SS'], None),
             ('len_ss', msgs['LEN_SS'], None), ('two', msgs['TWO'], None),
             ('rsa1024', msgs['RSA1024_RR'], None),
             ('testing', msgs['TESTING'], keys['TESTING']),
             ('kmismatch', msgs['KMISMATCH'], keys['KMISMATCH']),
             ('revoked', msgs['REVOKED'], keys['REVOKED']),
             ('rsa512', msgs['RSA512'], keys['RSA512'])]
    for name, msg, rec in seeds:
        with open(os.path.join(CORPUS, name), 'wb') as f:
            f.write(msg if rec is None else msg + b'\0' + rec.encode())


if __name__ == '__main__':
    main()
