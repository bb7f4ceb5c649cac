"""NuGet package versions, compared exactly like NuGet.Versioning's ``NuGetVersion`` with the default comparer.

Up to four numeric parts (``major.minor.patch.revision``, missing parts are 0, leading zeros allowed, each at
most ``int.MaxValue``), an optional SemVer 2.0 pre-release (``-label.label``) and optional metadata (``+...``,
ignored). Pre-release labels compare one by one: labels that parse as a .NET ``int`` compare numerically and sort
before the others, which compare case-insensitively; a release sorts after its pre-releases. Surrounding
whitespace is ignored, as in ``NuGetVersion.Parse``.

Strings ``NuGetVersion.TryParse`` rejects raise :class:`InvalidVersion`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, require_str

SCHEME = "nuget"
_INT_MAX = 2**31 - 1
_INT_MIN = -(2**31)
# char.IsWhiteSpace: Unicode Zs/Zl/Zp plus \t \n \v \f \r \x85 \xa0.
_NET_WS = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_LABEL = re.compile(r"[A-Za-z0-9-]+")
_INT_LABEL = re.compile(r"-?[0-9]+")
_RELEASE = (1, ())

Label = tuple[int, int | str]
Key = tuple[int, int, int, int, tuple[int, tuple[Label, ...]]]


def _split_sections(value: str) -> tuple[str | None, list[str] | None, str | None]:
    """``SemanticVersion.ParseSections``: version string, release labels, build metadata."""
    dash = value.find("-")
    plus = value.find("+")
    if dash < 0 and plus < 0:
        return (value or None), None, None
    first = min(p for p in (dash, plus) if p >= 0)
    if first == len(value) - 1:  # a trailing '-' or '+' stays in the version string (and makes it invalid)
        return value, None, None
    version = value[:first]
    if value[first] == "+":
        return version, None, value[first + 1 :]
    rest = value[first + 1 :]
    plus = rest.find("+")
    if plus < 0:
        return version, rest.split("."), None
    if plus == len(rest) - 1:  # the '+' is the last character: it stays in the label
        return version, rest.split("."), None
    return version, rest[:plus].split("."), rest[plus + 1 :]


def _parse_number_section(text: str, start: int) -> tuple[bool, int, int]:
    """One section of ``TryGetNormalizedVersion``: (ok, end position, value)."""
    n = len(text)
    if start == n:
        return True, start, 0
    end = start
    while end < n and text[end] in _NET_WS:
        end += 1
    if end < n and not ("0" <= text[end] <= "9"):
        return False, end, 0
    value = 0
    digit_found = False
    done = False
    while end < n:
        c = text[end]
        if "0" <= c <= "9":
            digit_found = True
            value = value * 10 + ord(c) - 48
            if value > _INT_MAX:
                return False, end, 0
        elif c == ".":
            end += 1
            if end == n:
                return False, end, 0
            done = True
            break
        elif c in _NET_WS:
            break
        else:
            return False, end, 0
        end += 1
    if not digit_found:
        return False, end, 0
    if end == n:
        done = True
    if not done:
        while end < n:
            c = text[end]
            if c not in _NET_WS:
                if c == ".":
                    end += 1
                    if end == n:
                        return False, end, 0
                    break
                return False, end, 0
            end += 1
    return True, end, value


def _valid_part(part: str, allow_leading_zeros: bool) -> bool:
    if not part or _LABEL.fullmatch(part) is None:
        return False
    return allow_leading_zeros or not (len(part) > 1 and part[0] == "0" and part.isdigit())


def _label_key(label: str) -> Label:
    if _INT_LABEL.fullmatch(label) and len(label.lstrip("-").lstrip("0")) <= 10:
        value = int(label)
        if _INT_MIN <= value <= _INT_MAX:
            return 0, value
    return 1, label.upper()


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> Key:
    """Sort key ``(major, minor, patch, revision, release labels)`` of a NuGet version."""
    version = require_str(SCHEME, version)
    number, labels, metadata = _split_sections(version.strip(_NET_WS))
    if not number or number.strip(_NET_WS) == "":
        raise InvalidVersion(SCHEME, version, "no version number")
    parts: list[int] = []
    position = 0
    for _ in range(4):
        ok, position, value = _parse_number_section(number, position)
        if not ok:
            raise InvalidVersion(SCHEME, version, "malformed version number")
        parts.append(value)
    if position != len(number):
        raise InvalidVersion(SCHEME, version, "more than four version parts")
    if labels is not None and not all(_valid_part(label, False) for label in labels):
        raise InvalidVersion(SCHEME, version, "malformed pre-release label")
    if metadata is not None and not all(_valid_part(part, True) for part in metadata.split(".")):
        raise InvalidVersion(SCHEME, version, "malformed build metadata")
    release = _RELEASE if not labels else (0, tuple(_label_key(label) for label in labels))
    return parts[0], parts[1], parts[2], parts[3], release


def compare(a: str, b: str) -> int:
    """Compare two NuGet versions: -1, 0 or 1."""
    ka, kb = parse(a), parse(b)
    return (ka > kb) - (ka < kb)
