"""Alpine package versions, compared exactly like apk-tools 3 (``apk version -t``).

``digits{.digits}[letter]{_suffix[digits]}[~hexhash][-rN]``. The suffixes ``_alpha _beta _pre _rc`` sort before
the plain release, ``_cvs _svn _git _hg _p`` after it. A digit component after the first with a leading zero is
compared as a string (``1.01 < 1.1``), like Gentoo. Numbers wrap at 2**64 as in apk.

apk compares any two strings, valid or not: the comparison walks both token by token and stops at the first
token that differs in kind or value (an invalid token ends the walk), so :func:`compare` never refuses a string
apk would compare. :func:`is_valid` tells whether apk would accept the string as a package version
(``apk version -c``). Strings holding a NUL character raise :class:`InvalidVersion`. apk-tools 2.x (Alpine up to
3.22) orders ordinary versions the same way but may differ on leading-zero components, on the ``~hash``
component apk-tools 3 added, and on invalid strings.
"""

from __future__ import annotations

from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, require_str, wrap_uint

SCHEME = "apk"

# Token kinds, in apk-tools' order (later kinds may not precede earlier ones).
INITIAL_DIGIT, DIGIT, LETTER, SUFFIX, SUFFIX_NO, COMMIT_HASH, REVISION_NO, END, INVALID = range(9)

# Suffix values; everything below NONE is a pre-release.
_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}
_SUFFIX_NONE = 5
_HEX = frozenset("0123456789abcdef")

Token = tuple[int, int, str]
"""(kind, numeric value, raw text); the value is the number for digit kinds and the suffix rank for suffixes."""


def _digits(text: str, i: int) -> int:
    n = len(text)
    while i < n and "0" <= text[i] <= "9":
        i += 1
    return i


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def tokens(version: str) -> tuple[Token, ...]:
    """apk's token stream for ``version``; the last token is END or INVALID."""
    version = require_str(SCHEME, version)
    if "\0" in version:
        raise InvalidVersion(SCHEME, version, "NUL character")
    out: list[Token] = []
    end = _digits(version, 0)
    if end == 0:
        return ((INVALID, 0, ""),)
    out.append((INITIAL_DIGIT, wrap_uint(version[:end], 64), version[:end]))
    kind, i, n = INITIAL_DIGIT, end, len(version)
    while True:
        if i >= n:
            out.append((END, 0, ""))
            break
        c = version[i]
        token: Token | None = None
        if "a" <= c <= "z":
            if kind <= DIGIT:
                token, i = (LETTER, ord(c), c), i + 1
        elif c == "." or "0" <= c <= "9":
            if kind <= DIGIT and c == ".":
                new_kind, start = DIGIT, i + 1
            elif kind <= DIGIT and c != ".":
                new_kind, start = DIGIT, i
            elif kind == SUFFIX and c != ".":
                new_kind, start = SUFFIX_NO, i
            else:
                new_kind, start = INVALID, i
            if new_kind != INVALID:
                end = _digits(version, start)
                if end > start:
                    token, i = (new_kind, wrap_uint(version[start:end], 64), version[start:end]), end
        elif c == "_":
            if kind <= SUFFIX_NO:
                start = end = i + 1
                while end < n and "a" <= version[end] <= "z":
                    end += 1
                rank = _SUFFIXES.get(version[start:end])
                if rank is not None:
                    token, i = (SUFFIX, rank, version[start:end]), end
        elif c == "~":
            if kind < COMMIT_HASH:
                start = end = i + 1
                while end < n and version[end] in _HEX:
                    end += 1
                if end > start:
                    token, i = (COMMIT_HASH, 0, version[start:end]), end
        elif c == "-" and kind < REVISION_NO and version.startswith("-r", i):
            end = _digits(version, i + 2)
            if end > i + 2:
                token, i = (REVISION_NO, wrap_uint(version[i + 2 : end], 64), version[i + 2 : end]), end
        if token is None:
            out.append((INVALID, 0, ""))
            break
        out.append(token)
        kind = token[0]
    return tuple(out)


parse = tokens


def is_valid(version: str) -> bool:
    """True when apk accepts ``version`` as a package version."""
    return tokens(version)[-1][0] == END


def _token_cmp(a: Token, b: Token) -> int:
    kind = a[0]
    if kind == COMMIT_HASH or (kind == DIGIT and (a[2][0] == "0" or b[2][0] == "0")):
        sx, sy = a[2], b[2]
        return (sx > sy) - (sx < sy)
    x, y = a[1], b[1]
    return (x > y) - (x < y)


def compare(a: str, b: str) -> int:
    """Compare two Alpine versions like ``apk version -t``: -1, 0 or 1."""
    ta, tb = tokens(a), tokens(b)
    if a == b:
        return 0
    i = 0
    while True:
        x, y = ta[i], tb[i]
        if x[0] != y[0] or x[0] >= END:
            break
        r = _token_cmp(x, y)
        if r:
            return r
        i += 1
    kx, ky = x[0], y[0]
    if kx == ky:
        return 0
    if kx == SUFFIX and x[1] < _SUFFIX_NONE:
        return -1
    if ky == SUFFIX and y[1] < _SUFFIX_NONE:
        return 1
    return -1 if kx > ky else 1
