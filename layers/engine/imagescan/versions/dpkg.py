"""Debian package versions (deb-version(7)), compared exactly like ``dpkg --compare-versions``.

``[epoch:]upstream[-revision]``: the epoch is a decimal number (missing = 0); the revision is what follows the
last hyphen (missing = empty, which compares equal to ``0``). Upstream and revision are compared with dpkg's
``verrevcmp``: alternating non-digit and digit runs; in non-digit runs ``~`` sorts before everything (even the
end of the string), then the end of the run, then letters, then every other character; digit runs compare
numerically.

Like dpkg, the parser is lenient: characters dpkg only warns about (a version not starting with a digit,
unusual punctuation, non-ASCII) are compared anyway. What dpkg refuses with an error raises
:class:`InvalidVersion`: an empty string, embedded blanks, a non-numeric, negative or too large epoch, nothing
after the epoch colon, an empty upstream part or an empty revision after a trailing hyphen. Leading and trailing
blanks (space, tab) are ignored. Non-ASCII bytes are ordered as dpkg orders them on x86-64 (signed ``char``).
"""

from __future__ import annotations

from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, numeric_key, require_str

SCHEME = "dpkg"
_INT_MAX = 2**31 - 1
_LONG_MAX = 2**63 - 1
_BLANKS = b" \t"
_C_SPACE = b" \t\n\v\f\r"
_DIGITS = frozenset(b"0123456789")
_END: tuple[int, ...] = (0,)

Fragment = tuple[object, ...]
"""Sort key of an upstream or revision string; compare keys of the same kind with ``<`` and ``==``."""
Key = tuple[int, Fragment, Fragment]


def _order(c: int) -> int:
    if 65 <= c <= 90 or 97 <= c <= 122:
        return c
    if c == 126:  # '~'
        return -1
    # Other ASCII sorts after letters (c + 256); bytes >= 0x80 are negative signed chars, so c - 256 + 256.
    return c + 256 if c < 128 else c


def fragment_key(fragment: str) -> Fragment:
    """Sort key of one upstream or revision string under dpkg's ``verrevcmp``."""
    data = fragment.encode("utf-8", "surrogatepass")
    out: list[object] = []
    i, n = 0, len(data)
    while True:
        start = i
        while i < n and data[i] not in _DIGITS:
            i += 1
        out.append((*(_order(c) for c in data[start:i]), 0))
        start = i
        while i < n and data[i] in _DIGITS:
            i += 1
        out.append(numeric_key(data[start:i].decode("ascii")))
        if i >= n:
            break
    out.append(_END)
    return tuple(out)


def _strtol_epoch(text: str, version: str) -> tuple[int, int]:
    """C ``strtol(text, &end, 10)``: value and end index (0 when no digits were read)."""
    i = 0
    while i < len(text) and text[i] in "\t\n\v\f\r ":
        i += 1
    negative = False
    if i < len(text) and text[i] in "+-":
        negative = text[i] == "-"
        i += 1
    start = i
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    if i == start:
        return 0, 0
    digits = text[start:i].lstrip("0") or "0"
    if len(digits) > 19 or int(digits) > _LONG_MAX + (1 if negative else 0):
        raise InvalidVersion(SCHEME, version, "epoch in version is too big")
    value = int(digits)
    return (-value if negative else value), i


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> Key:
    """Parse a Debian version into a sort key ``(epoch, upstream key, revision key)``."""
    version = require_str(SCHEME, version)
    if "\0" in version:
        raise InvalidVersion(SCHEME, version, "NUL character")
    text = version.lstrip(" \t")
    if not text:
        raise InvalidVersion(SCHEME, version, "version string is empty")
    end = 0
    while end < len(text) and text[end] not in " \t":
        end += 1
    if text[end:].strip(" \t"):
        raise InvalidVersion(SCHEME, version, "version string has embedded spaces")
    colon = text.find(":")
    epoch = 0
    if colon >= 0:
        epoch, epoch_end = _strtol_epoch(text, version)
        if epoch_end == 0:
            raise InvalidVersion(SCHEME, version, "epoch in version is empty")
        if epoch_end != colon:
            raise InvalidVersion(SCHEME, version, "epoch in version is not number")
        if epoch < 0:
            raise InvalidVersion(SCHEME, version, "epoch in version is negative")
        if epoch > _INT_MAX:
            raise InvalidVersion(SCHEME, version, "epoch in version is too big")
        if colon + 1 >= len(text):
            raise InvalidVersion(SCHEME, version, "nothing after colon in version number")
        body = text[colon + 1 : end] if colon + 1 < end else ""
    else:
        body = text[:end]
    hyphen = body.rfind("-")
    revision = ""
    if hyphen >= 0:
        body, revision = body[:hyphen], body[hyphen + 1 :]
        if not revision:
            raise InvalidVersion(SCHEME, version, "revision number is empty")
    if not body:
        raise InvalidVersion(SCHEME, version, "version number is empty")
    return epoch, fragment_key(body), fragment_key(revision)


def compare(a: str, b: str) -> int:
    """Compare two Debian versions: -1, 0 or 1."""
    ka, kb = parse(a), parse(b)
    return (ka > kb) - (ka < kb)  # type: ignore[operator]
