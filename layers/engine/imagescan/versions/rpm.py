"""RPM versions, compared exactly like rpm's ``rpmvercmp`` and EVR comparison.

:func:`vercmp` is ``rpmvercmp``: the strings are split into maximal ASCII-alphanumeric segments, every other
character is a separator and only separates; numeric segments compare as numbers and beat alphabetic ones;
``~`` sorts before everything, even the end of the string (pre-releases: ``1.0~rc1 < 1.0``); ``^`` sorts after
the end of the string but before any further segment (snapshots: ``1.0 < 1.0^git1 < 1.0.1``).

:func:`compare` (the same as :func:`compare_evr`) compares ``[epoch:]version[-release]`` strings as
``rpm.labelCompare`` does: the epoch (missing = ``0``) first, then the version, then the release, each with
``rpmvercmp``. The epoch is the leading run of digits when a colon follows it; the release is what follows the
last hyphen. A missing release sorts before any release (rpm's dependency matcher instead treats a missing
release as matching every release, which is not an ordering).

rpm compares every string; only strings holding a NUL character (which no C string can) raise
:class:`InvalidVersion`.
"""

from __future__ import annotations

from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, NumericKey, numeric_key, require_str

SCHEME = "rpm"

# Token ranks: ~ sorts first, then the end of the string, then ^, then alphabetic, then numeric segments.
_TILDE = (0, 0)
_END = (1, 0)
_CARET = (2, 0)
_ALPHA = 3
_NUM = 4

Token = tuple[int, int | str | NumericKey]
VerKey = tuple[Token, ...]
EvrKey = tuple[VerKey, VerKey, tuple[int, VerKey]]


def _is_alpha(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def vercmp_key(version: str) -> VerKey:
    """Sort key of one version (or release, or epoch) string under ``rpmvercmp``."""
    version = require_str(SCHEME, version)
    if "\0" in version:
        raise InvalidVersion(SCHEME, version, "NUL character")
    tokens: list[Token] = []
    i, n = 0, len(version)
    while i < n:
        c = version[i]
        if _is_digit(c):
            start = i
            while i < n and _is_digit(version[i]):
                i += 1
            tokens.append((_NUM, numeric_key(version[start:i])))
        elif _is_alpha(c):
            start = i
            while i < n and _is_alpha(version[i]):
                i += 1
            tokens.append((_ALPHA, version[start:i]))
        else:
            if c == "~":
                tokens.append(_TILDE)
            elif c == "^":
                tokens.append(_CARET)
            i += 1
    tokens.append(_END)
    return tuple(tokens)


def vercmp(a: str, b: str) -> int:
    """``rpmvercmp(a, b)``: -1, 0 or 1."""
    ka, kb = vercmp_key(a), vercmp_key(b)
    return (ka > kb) - (ka < kb)


def split_evr(evr: str) -> tuple[str | None, str, str | None]:
    """Split ``[E:]V[-R]`` like rpm's ``parseEVR``: (epoch or None, version, release or None)."""
    i = 0
    while i < len(evr) and _is_digit(evr[i]):
        i += 1
    hyphen = evr.rfind("-", i)
    epoch: str | None = None
    start = 0
    if i < len(evr) and evr[i] == ":":
        epoch = evr[:i] or "0"
        start = i + 1
    if hyphen >= 0:
        return epoch, evr[start:hyphen], evr[hyphen + 1 :]
    return epoch, evr[start:], None


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(evr: str) -> EvrKey:
    """Sort key of an ``[E:]V[-R]`` string."""
    evr = require_str(SCHEME, evr)
    if "\0" in evr:
        raise InvalidVersion(SCHEME, evr, "NUL character")
    epoch, version, release = split_evr(evr)
    release_key: tuple[int, VerKey] = (0, ()) if release is None else (1, vercmp_key(release))
    return vercmp_key(epoch or "0"), vercmp_key(version), release_key


def compare_evr(a: str, b: str) -> int:
    """Compare two ``[E:]V[-R]`` strings like ``rpm.labelCompare``: -1, 0 or 1."""
    ka, kb = parse(a), parse(b)
    return (ka > kb) - (ka < kb)


compare = compare_evr
