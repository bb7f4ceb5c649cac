"""Rust crate versions (crates.io): strict SemVer 2.0.0, as parsed by the ``semver`` crate Cargo uses.

``MAJOR.MINOR.PATCH[-PRE][+BUILD]``: numbers without leading zeros that fit in a u64, no ``v`` prefix, no
whitespace; pre-release identifiers are ASCII alphanumerics and hyphens, numeric ones without leading zeros;
build identifiers the same characters. Precedence follows SemVer 2.0.0 (``semver::Version::cmp_precedence``):
build metadata is ignored; a pre-release sorts before its release; numeric identifiers compare numerically and
before alphanumeric ones, which compare in ASCII order; more identifiers win when all before are equal.

Strings ``semver::Version::parse`` rejects raise :class:`InvalidVersion`.
"""

from __future__ import annotations

from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, NumericKey, numeric_key, require_str

SCHEME = "cargo"
_U64_MAX = 2**64 - 1
_RELEASE = (1, ())

PreKey = tuple[int, tuple[tuple[int, NumericKey | str], ...]]
Key = tuple[int, int, int, PreKey]


def _number(text: str, version: str, what: str) -> tuple[int, str]:
    end = 0
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    if end == 0:
        raise InvalidVersion(SCHEME, version, f"expected a {what} number")
    if text[0] == "0" and end > 1:
        raise InvalidVersion(SCHEME, version, f"leading zero in the {what} number")
    if end > 20 or int(text[:end]) > _U64_MAX:
        raise InvalidVersion(SCHEME, version, f"{what} number does not fit in a u64")
    return int(text[:end]), text[end:]


def _identifiers(text: str, version: str, what: str, *, pre: bool) -> tuple[str, ...]:
    end = 0
    while end < len(text) and (text[end].isascii() and (text[end].isalnum() or text[end] in "-.")):
        end += 1
    parts = tuple(text[:end].split("."))
    for part in parts:
        if not part:
            raise InvalidVersion(SCHEME, version, f"empty {what} identifier")
        if pre and len(part) > 1 and part[0] == "0" and part.isdigit():
            raise InvalidVersion(SCHEME, version, "leading zero in a numeric pre-release identifier")
    if end != len(text):
        raise InvalidVersion(SCHEME, version, f"unexpected {text[end]!r} in the {what}")
    return parts


def _dot(text: str, version: str) -> str:
    if not text.startswith("."):
        raise InvalidVersion(SCHEME, version, "expected '.'")
    return text[1:]


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> Key:
    """Sort key ``(major, minor, patch, pre-release)`` of a SemVer version (build metadata dropped)."""
    version = require_str(SCHEME, version)
    major, rest = _number(version, version, "major")
    minor, rest = _number(_dot(rest, version), version, "minor")
    patch, rest = _number(_dot(rest, version), version, "patch")
    pre: PreKey = _RELEASE
    if rest.startswith("-"):
        plus = rest.find("+")
        body = rest[1:] if plus < 0 else rest[1:plus]
        ids = _identifiers(body, version, "pre-release", pre=True)
        pre = (0, tuple((0, numeric_key(p)) if p.isdigit() else (1, p) for p in ids))
        rest = "" if plus < 0 else rest[plus:]
    if rest.startswith("+"):
        _identifiers(rest[1:], version, "build metadata", pre=False)
        rest = ""
    if rest:
        raise InvalidVersion(SCHEME, version, f"unexpected {rest[0]!r}")
    return major, minor, patch, pre


def compare(a: str, b: str) -> int:
    """Compare two SemVer versions by precedence: -1, 0 or 1."""
    ka, kb = parse(a), parse(b)
    return (ka > kb) - (ka < kb)
