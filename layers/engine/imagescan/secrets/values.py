"""Heuristics about candidate secret values: entropy, placeholders, known public examples, structure checks.

Everything here takes the candidate as bytes (from the original, not lower-cased, text) and answers yes or no.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import struct
from collections import Counter

KNOWN_EXAMPLES: dict[str, str] = {
    # sha256 of values published in vendor documentation; stored as digests so no token-shaped literal is kept here.
    "7f75367e7881255134e1375e723d1dea8ad5f6a4fdb79d938df1f1754a830606": "jwt.io's sample HS256 token",
    "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326": "Stripe documentation test secret key",
    "b1471f544ceeea31333bde7e1ecbaad6eac0d4a749412ad29bd66ef895b81c6b": "Stripe documentation test publishable key",
    "f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397": "Stripe documentation test secret key (old)",
}
"""Fingerprints of well-known documentation values. Values containing ``example`` (AWS's AKIAIOSFODNN7EXAMPLE
key pair and its kind) are recognised by :func:`is_known_example` without a list."""

_PLACEHOLDER_PARTS = (
    b"example", b"changeme", b"change_me", b"change-me", b"changeit", b"placeholder", b"your_", b"your-", b"yourpass",
    b"yoursecret", b"yourtoken", b"<", b">", b"${", b"$(", b"{{", b"}}", b"%(", b"%s", b"xxxx", b"****", b"....",
    b"redacted", b"dummy", b"sample", b"fake", b"notreal", b"not-real", b"not_real", b"replace", b"insert_",
    b"todo", b"fixme", b"_here", b"-here", b"qwerty", b"12345678", b"abcdefgh", b"lorem", b"foobar", b"hunter2",
    b"letmein", b"undefined", b"process.env", b"os.environ", b"getenv", b"anonymous",
)
_SECRET_WORDS = (b"password", b"passwd", b"secret", b"token", b"credential", b"apikey", b"api_key", b"access_key",
                 b"default", b"mock", b"test")
"""In a value assigned to a secret-sounding name, these mean a name or a description (``get_db_password``,
``your-client-secret``, ``default``, ``P@ssw0rd``), not a credential."""
_LEET = bytes.maketrans(b"013457@$!", b"oleastasi")
_PLACEHOLDER_EXACT = frozenset({
    b"none", b"null", b"nil", b"true", b"false", b"yes", b"no", b"empty", b"string", b"str", b"required",
    b"optional", b"test", b"testing", b"admin", b"root", b"user", b"username", b"pass", b"pwd", b"token", b"key",
    b"value", b"values", b"unset", b"unknown", b"n/a", b"tbd", b"guest", b"login", b"changed", b"hidden",
    b"password", b"passwd", b"secret", b"default",
})
_PLACEHOLDER_START = (b"$", b"%", b"@", b"&", b"#", b"*", b"/", b"./", b"../", b"~/", b"\\")
_CODE = re.compile(rb"[A-Za-z_$][\w$]{2,}\.[A-Za-z_$][\w$]{2,}|::|^[!&*]|\)$")
"""Code rather than a value: a member access (``config.token``, ``!!opts.withCredentials``, ``OpenSSL::PKey``),
an operator."""
_DATE = re.compile(rb"\d{4}-\d{2}-\d{2}")
_SNAKE = re.compile(rb"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+")
_CAMEL = re.compile(rb"[a-z]+(?:[A-Z][a-z]+)+[0-9]*")
_WORD = re.compile(rb"[A-Za-z]{3,}")


def identifier(value: bytes) -> bool:
    """A name in code (``ec2_metadata_credentials_json``, ``getPassword2``), not a value: snake_case whose parts
    are mostly words, or camelCase words."""
    if _CAMEL.fullmatch(value):
        return True
    if not _SNAKE.fullmatch(value):
        return False
    parts = value.split(b"_")
    return sum(1 for p in parts if _WORD.fullmatch(p)) * 2 >= len(parts)
_EXCLUDED_KEY_PARTS = (
    "public", "pub_", "_pub", "fingerprint", "file", "path", "_dir", "_url", "url_", "_uri", "uri_", "endpoint",
    "name", "_type", "type_", "length", "_len", "size", "header", "_field", "field_", "_param", "prefix", "regex",
    "pattern", "policy", "expir", "ttl", "timeout", "_count", "count_", "_min", "_max", "hash", "format", "_mode",
    "mode_", "version", "enabled", "required", "reset", "label", "placeholder", "help", "hint", "msg", "message",
    "error", "_text", "text_", "_env", "_var", "valid", "strength", "provider", "manager", "class", "method",
    "algorithm", "rotation", "generator", "_ref", "secretref", "keyref", "csrf", "xsrf", "tokeniz", "bypass",
    "passthrough", "passive", "passenger", "compass", "passport", "surpass", "_key_id", "keyid", "_id", "-id", ".id",
    "scope", "location", "mount", "command", "cmd", "script", "prompt", "input", "ssociat", "compass", "trespass",
    "last_used", "lastused", "date", "created", "updated", "changed_at", "_at",
)


def entropy(value: bytes) -> float:
    """Shannon entropy in bits per byte."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def fingerprint(value: bytes) -> str:
    """sha256 hex of the (normalised) secret. Unsalted on purpose: see :mod:`imagescan.secrets.masking`."""
    return hashlib.sha256(value).hexdigest()


def is_known_example(value: bytes) -> bool:
    """Values published as examples: they are not credentials of anyone (Trivy's ``examples`` allow rule does the
    same for ``example`` in the match)."""
    return b"example" in value.lower() or fingerprint(value) in KNOWN_EXAMPLES


def degenerate(value: bytes) -> bool:
    """Too few distinct characters to be a real credential: ``ghp_000000...``, ``xxxxxxxx``, ``abababab``."""
    return len(set(value)) < min(6, max(2, len(value) // 4))


def is_placeholder(value: bytes) -> bool:
    """Template variables, documentation placeholders and words that stand for a secret rather than being one."""
    low = value.lower().strip()
    if not low or low in _PLACEHOLDER_EXACT or low.startswith(_PLACEHOLDER_START):
        return True
    if any(part in low for part in _PLACEHOLDER_PARTS):
        return True
    return len(set(low)) <= 2


def plausible_secret(value: bytes) -> bool:
    """Whether a value assigned to a secret-sounding name looks like a credential rather than code or prose.

    Digits or symbols next to letters with reasonable entropy (``S3cr3t!x9``, hex, base64; short values need a
    digit); letters alone only when long and very random. Pure numbers, code (``self.password``,
    ``!!config.token``, ``ec2_metadata_credentials``, ``getPassword``), paths and URLs are not.
    """
    n = len(value)
    if n < 6 or n > 256 or value.isdigit():
        return False
    if _CODE.search(value) or b"://" in value or identifier(value) or _DATE.match(value):
        return False
    plain = value.lower().translate(_LEET)
    if any(word in plain for word in _SECRET_WORDS):
        return False
    has_alpha = any(65 <= c <= 90 or 97 <= c <= 122 for c in value)
    has_digit = any(48 <= c <= 57 for c in value)
    has_symbol = any(not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122) and c not in b"_-." for c in value)
    if not has_alpha:
        return False
    h = entropy(value)
    if not (has_digit or has_symbol):
        return n >= 32 and h >= 4.0
    if n < 12 and not has_digit:  # short and digit-free: a type (``String?``) or a word, rarely a password
        return False
    return h >= min(3.0, 0.8 * math.log2(n))


def secret_key_name(name: str) -> bool:
    """Whether an assignment's key name (lower-cased) names a secret itself, not something about one
    (``password_file``, ``token_url``, ``api_key_id``, ``public_key``, ``tokenizer``)."""
    return not any(part in name for part in _EXCLUDED_KEY_PARTS)


def b64decode(value: bytes) -> bytes | None:
    """Standard or URL-safe base64, padding optional; None when it is not base64."""
    data = value.strip().replace(b"-", b"+").replace(b"_", b"/")
    data += b"=" * (-len(data) % 4)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def basic_auth_pair(value: bytes) -> bool:
    """base64 of ``user:password`` with a non-empty password (docker ``auth``, HTTP Basic)."""
    decoded = b64decode(value)
    if decoded is None or b":" not in decoded:
        return False
    user, _, password = decoded.partition(b":")
    printable = all(32 <= c < 127 for c in decoded)
    return printable and bool(password) and not is_placeholder(password) and len(user) < 256


def jwt_header(value: bytes) -> bool:
    """A JWT's first segment decodes to a JSON object with ``alg`` or ``typ``."""
    decoded = b64decode(value.split(b".", 1)[0])
    if decoded is None:
        return False
    try:
        header = json.loads(decoded)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and ("alg" in header or "typ" in header)


_PEM_NOISE = re.compile(rb"\\[nrt]|\s")
_PEM_HEADER = re.compile(rb"^[A-Za-z-]+:[^\n]*$", re.MULTILINE)


def pem_body(body: bytes) -> bytes:
    """The base64 of a PEM body: header lines (``Proc-Type: ...``), whitespace and JSON ``\\n`` escapes removed, so
    the same key has the same fingerprint in a PEM file, in JSON and in an environment variable."""
    unescaped = body.replace(b"\\n", b"\n").replace(b"\\r", b"")
    return _PEM_NOISE.sub(b"", _PEM_HEADER.sub(b"", unescaped))


def pem_encrypted(kind: bytes, body: bytes) -> bool:
    """PKCS#8 ``ENCRYPTED PRIVATE KEY``, legacy ``Proc-Type: 4,ENCRYPTED``, or an OpenSSH key with a cipher."""
    if b"ENCRYPTED" in kind or b"ENCRYPTED" in body[:200]:
        return True
    if b"OPENSSH" not in kind:
        return False
    raw = pem_body(body)[:400]
    decoded = b64decode(raw[: len(raw) // 4 * 4])
    magic = b"openssh-key-v1\x00"
    if decoded is None or not decoded.startswith(magic) or len(decoded) < len(magic) + 4:
        return False
    (size,) = struct.unpack(">I", decoded[len(magic):len(magic) + 4])
    cipher = decoded[len(magic) + 4:len(magic) + 4 + size]
    return cipher not in (b"none", b"")


def pem_plausible(body: bytes) -> bool:
    """Enough base64 in the body to be a key rather than a mention of one in documentation."""
    return len(pem_body(body)) >= 64
