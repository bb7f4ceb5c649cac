"""Shared pieces of the version comparators.

Every scheme module exposes ``compare(a, b) -> int`` returning -1, 0 or 1 (usable with
:func:`functools.cmp_to_key`) and raises :class:`InvalidVersion` for a string its reference tool refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

Comparator: TypeAlias = Callable[[str, str], int]
"""``compare(a, b)``: -1 when a < b, 0 when equal, 1 when a > b."""

PARSE_CACHE_SIZE = 1 << 16
"""Entries kept per scheme by the parse caches (one entry per distinct version string). Refusals are not cached:
validate a version once (``parse``) before comparing it against many others."""


class InvalidVersion(ValueError):
    """The string is not a version of the scheme (its reference implementation would refuse it)."""

    def __init__(self, scheme: str, version: object, reason: str) -> None:
        self.scheme = scheme
        self.version = version
        self.reason = reason
        super().__init__(f"invalid {scheme} version {version!r}: {reason}")


def require_str(scheme: str, version: object) -> str:
    """Return ``version`` if it is a ``str``; otherwise raise :class:`InvalidVersion`."""
    if not isinstance(version, str):
        raise InvalidVersion(scheme, version, f"expected a string, got {type(version).__name__}")
    return version


NumericKey: TypeAlias = tuple[int, str]


def numeric_key(digits: str) -> NumericKey:
    """Order-preserving key of a non-negative ASCII decimal string of any length (leading zeros ignored).

    Comparing these keys compares the numbers without converting to ``int`` (no size limit, no cost).
    """
    stripped = digits.lstrip("0")
    return len(stripped), stripped


def wrap_uint(digits: str, bits: int) -> int:
    """The value of an ASCII decimal string modulo ``2**bits`` (C unsigned overflow), for any length."""
    mask = (1 << bits) - 1
    value = 0
    for start in range(0, len(digits), 1000):
        chunk = digits[start : start + 1000]
        value = (value * 10 ** len(chunk) + int(chunk)) & mask
    return value
