"""npm package versions, compared exactly like node-semver's ``semver.compare(a, b, loose=true)``.

Loose mode is used on purpose: it accepts every strict SemVer 2.0.0 string with the same ordering, and also
what npm itself accepts when reading installed ``package.json`` files and lockfiles — a leading ``v``/``=``
(``v1.2.3``, ``=1.2.3``), leading zeros (``01.2.3`` == ``1.2.3``) and a pre-release without its hyphen
(``1.2.3beta.1``). Surrounding JavaScript whitespace is ignored. Build metadata (``+...``) is ignored.

Pre-release identifiers: all-digit identifiers compare numerically (as JavaScript numbers) and sort before
alphanumeric ones, which compare in ASCII order; a release sorts after all its pre-releases.

Strings node-semver refuses raise :class:`InvalidVersion`: anything not matching its loose grammar, strings
longer than 256 UTF-16 code units, and components above ``Number.MAX_SAFE_INTEGER``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, require_str

SCHEME = "npm"
MAX_LENGTH = 256
MAX_SAFE_INTEGER = 2**53 - 1

# ECMAScript WhiteSpace and LineTerminator: what String.prototype.trim() strips and what \s matches.
_JS_WS = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_S = "[" + "".join(f"\\u{ord(c):04x}" for c in _JS_WS) + "]"
_NUM_LOOSE = "[0-9]+"
_NONNUM = "[0-9]*[a-zA-Z-][a-zA-Z0-9-]*"
_PRE_ID = f"(?:{_NONNUM}|{_NUM_LOOSE})"
_BUILD_ID = "[a-zA-Z0-9-]+"
_LOOSE = re.compile(
    f"[v={_S[1:-1]}]*({_NUM_LOOSE})\\.({_NUM_LOOSE})\\.({_NUM_LOOSE})"
    f"(?:-?({_PRE_ID}(?:\\.{_PRE_ID})*))?"
    f"(?:\\+({_BUILD_ID}(?:\\.{_BUILD_ID})*))?"
)
_ALL_DIGITS = re.compile("[0-9]+")

Identifier = int | str
Parsed = tuple[int, int, int, tuple[Identifier, ...]]


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _component(digits: str, version: str, name: str) -> int:
    stripped = digits.lstrip("0") or "0"
    if len(stripped) > 16 or int(stripped) > MAX_SAFE_INTEGER:
        raise InvalidVersion(SCHEME, version, f"{name} version above Number.MAX_SAFE_INTEGER")
    return int(stripped)


def _identifier(text: str) -> Identifier:
    if _ALL_DIGITS.fullmatch(text):
        stripped = text.lstrip("0") or "0"
        if len(stripped) <= 16 and int(stripped) < MAX_SAFE_INTEGER:
            return int(stripped)
    return text


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> Parsed:
    """(major, minor, patch, pre-release identifiers) as node-semver stores them."""
    version = require_str(SCHEME, version)
    if _utf16_length(version) > MAX_LENGTH:
        raise InvalidVersion(SCHEME, version, f"longer than {MAX_LENGTH} characters")
    match = _LOOSE.fullmatch(version.strip(_JS_WS))
    if match is None:
        raise InvalidVersion(SCHEME, version, "not a SemVer version (node-semver loose grammar)")
    major = _component(match[1], version, "major")
    minor = _component(match[2], version, "minor")
    patch = _component(match[3], version, "patch")
    pre = tuple(_identifier(part) for part in match[4].split(".")) if match[4] else ()
    return major, minor, patch, pre


def _js_number(identifier: str) -> float:
    return float(identifier)


def compare_identifiers(a: Identifier, b: Identifier) -> int:
    """node-semver's ``compareIdentifiers``."""
    if isinstance(a, int) and isinstance(b, int):
        return (a > b) - (a < b)
    a_num = isinstance(a, int) or _ALL_DIGITS.fullmatch(a) is not None
    b_num = isinstance(b, int) or _ALL_DIGITS.fullmatch(b) is not None
    if a_num and b_num:
        x = a if isinstance(a, int) else _js_number(a)
        y = b if isinstance(b, int) else _js_number(b)
        return (x > y) - (x < y)
    if a_num:
        return -1
    if b_num:
        return 1
    sa, sb = str(a), str(b)
    return (sa > sb) - (sa < sb)


def compare(a: str, b: str) -> int:
    """Compare two npm versions: -1, 0 or 1."""
    pa, pb = parse(a), parse(b)
    if pa[:3] != pb[:3]:
        return -1 if pa[:3] < pb[:3] else 1
    xs, ys = pa[3], pb[3]
    if not xs or not ys:
        return (not xs) - (not ys)
    for i in range(max(len(xs), len(ys))):
        if i >= len(xs):
            return -1
        if i >= len(ys):
            return 1
        x, y = xs[i], ys[i]
        if x == y and type(x) is type(y):
            continue
        return compare_identifiers(x, y)
    return 0
