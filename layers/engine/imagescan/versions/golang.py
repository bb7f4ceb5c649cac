"""Go module versions, compared exactly like ``golang.org/x/mod/semver.Compare``.

Go requires a leading ``v``; OSV's Go data (the Go vulnerability database) writes versions without it, so a
missing ``v`` is added. Shorthands ``v1`` and ``v1.2`` mean ``v1.0.0`` and ``v1.2.0``. Build metadata such as
``+incompatible`` is ignored. Pseudo-versions (``v0.0.0-20210101000000-abcdef123456``,
``v1.2.4-0.20210101000000-abcdef123456``) are ordinary pre-releases and order as such: after the previous
release's pre-releases, before the next release.

Strings ``semver.IsValid`` rejects (leading zeros, empty or malformed identifiers, ``v1.2-pre``...) raise
:class:`InvalidVersion`.
"""

from __future__ import annotations

from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, NumericKey, numeric_key, require_str

SCHEME = "go"
_RELEASE = (1, ())

PreKey = tuple[int, tuple[tuple[int, NumericKey | str], ...]]
Key = tuple[NumericKey, NumericKey, NumericKey, PreKey]


def _is_ident_char(c: str) -> bool:
    return "0" <= c <= "9" or "a" <= c <= "z" or "A" <= c <= "Z" or c == "-"


def _is_num(text: str) -> bool:
    return all("0" <= c <= "9" for c in text)


def _number(text: str, version: str) -> tuple[str, str]:
    end = 0
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    if end == 0:
        raise InvalidVersion(SCHEME, version, "expected a number")
    if text[0] == "0" and end != 1:
        raise InvalidVersion(SCHEME, version, "number with a leading zero")
    return text[:end], text[end:]


def _identifiers(text: str, version: str, what: str, *, check_numbers: bool) -> tuple[str, ...]:
    parts = tuple(text.split("."))
    for part in parts:
        if not part or not all(_is_ident_char(c) for c in part):
            raise InvalidVersion(SCHEME, version, f"empty or malformed {what} identifier")
        if check_numbers and len(part) > 1 and part[0] == "0" and _is_num(part):
            raise InvalidVersion(SCHEME, version, f"{what} number with a leading zero")
    return parts


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> Key:
    """Sort key of a Go module version (with or without its leading ``v``)."""
    version = require_str(SCHEME, version)
    rest = version[1:] if version.startswith("v") else version
    major, rest = _number(rest, version)
    minor = patch = "0"
    pre: PreKey = _RELEASE
    if rest:
        if rest[0] != ".":
            raise InvalidVersion(SCHEME, version, "expected '.' after the major version")
        minor, rest = _number(rest[1:], version)
    if rest:
        if rest[0] != ".":
            raise InvalidVersion(SCHEME, version, "expected '.' after the minor version")
        patch, rest = _number(rest[1:], version)
        if rest.startswith("-"):
            end = rest.find("+")
            end = len(rest) if end < 0 else end
            ids = _identifiers(rest[1:end], version, "pre-release", check_numbers=True)
            pre = (0, tuple((0, numeric_key(p)) if _is_num(p) else (1, p) for p in ids))
            rest = rest[end:]
        if rest.startswith("+"):
            _identifiers(rest[1:], version, "build", check_numbers=False)
            rest = ""
        if rest:
            raise InvalidVersion(SCHEME, version, f"unexpected {rest[0]!r}")
    return numeric_key(major), numeric_key(minor), numeric_key(patch), pre


def compare(a: str, b: str) -> int:
    """Compare two Go module versions: -1, 0 or 1."""
    ka, kb = parse(a), parse(b)
    return (ka > kb) - (ka < kb)
