"""Fake secrets in the right formats, generated at test time: nothing token-shaped is committed to the repository.

Each generator takes a ``random.Random`` so hypothesis and seeded tests can drive it.
"""

from __future__ import annotations

import base64
import json
import random
import string
import struct

B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"
B64 = B62 + "+/"


def pick(rng: random.Random, alphabet: str, n: int) -> str:
    """``n`` random characters, with at least one digit and one letter when the alphabet has both (so that a
    fake never looks degenerate or like a word)."""
    while True:
        out = "".join(rng.choice(alphabet) for _ in range(n))
        digits = any(c.isdigit() for c in alphabet)
        letters = any(c.isalpha() for c in alphabet)
        if (not digits or any(c.isdigit() for c in out)) and (not letters or any(c.isalpha() for c in out)) \
                and "example" not in out.lower():
            return out


def b62(rng: random.Random, n: int) -> str:
    return pick(rng, B62, n)


def hexs(rng: random.Random, n: int) -> str:
    return pick(rng, HEX, n)


def uuid(rng: random.Random) -> str:
    h = hexs(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def password(rng: random.Random, n: int = 14) -> str:
    """Letters, digits and a symbol or two: what a generated password looks like."""
    return pick(rng, B62, n - 2) + rng.choice("!#%+") + rng.choice(string.digits)


def aws_secret_key(rng: random.Random) -> str:
    while True:
        key = pick(rng, B64, 40)
        if any(c.isupper() for c in key) and any(c.islower() for c in key):
            return key


def _pem(kind: str, der: bytes, headers: str = "") -> str:
    body = base64.b64encode(der).decode()
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{headers}{lines}\n-----END {kind}PRIVATE KEY-----\n"


def pem_key(rng: random.Random, kind: str = "RSA ", size: int = 600) -> str:
    """A PEM private key block with random DER-sized content (the scanner does not parse ASN.1)."""
    return _pem(kind, b"\x30\x82" + rng.randbytes(size))


def encrypted_pem_key(rng: random.Random) -> str:
    """The legacy OpenSSL encrypted format: ``Proc-Type: 4,ENCRYPTED`` headers."""
    headers = f"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{hexs(rng, 32).upper()}\n\n"
    return _pem("RSA ", rng.randbytes(600), headers)


def openssh_key(rng: random.Random, cipher: str = "none") -> str:
    """An ``openssh-key-v1`` blob with the given cipher name and random key material."""

    def string_(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    kdf = b"none" if cipher == "none" else b"bcrypt"
    blob = (b"openssh-key-v1\x00" + string_(cipher.encode()) + string_(kdf) + string_(b"" if cipher == "none"
            else rng.randbytes(24)) + struct.pack(">I", 1) + string_(rng.randbytes(51)) + string_(rng.randbytes(400)))
    return _pem("OPENSSH ", blob)


def jwt(rng: random.Random) -> str:
    def seg(doc: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    header = seg({"alg": "HS256", "typ": "JWT"})
    payload = seg({"sub": b62(rng, 10), "iat": rng.randrange(1_600_000_000, 1_800_000_000)})
    signature = base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")
    return f"{header}.{payload}.{signature}"


def basic_auth(rng: random.Random) -> str:
    return base64.b64encode(f"ci-{b62(rng, 6)}:{password(rng)}".encode()).decode()
