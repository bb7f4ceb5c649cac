"""Maven versions, compared exactly like Maven 3.9's ``ComparableVersion``.

The version is lower-cased and split into items at ``.``, at ``-`` (which also opens a sub-list) and at every
transition between digits and letters (which also opens a sub-list). Numbers compare numerically; known
qualifiers order ``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp``
(``a1``, ``b1``, ``m1`` are ``alpha-1``, ``beta-1``, ``milestone-1``); unknown qualifiers sort after all known
ones, in lexical order. Trailing "null" items (``0``, ``""``, ``ga``, ``final``, ``release``, empty lists) are
trimmed, so ``1.0 == 1 == 1-ga == 1.0.0.RELEASE``; a ``-`` item is less important than a ``.`` item
(``1-1 < 1.1``), and ``1-sp > 1``. Checked against maven-artifact 3.9.6.

Maven accepts every string, so :func:`compare` never raises for a ``str``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from imagescan.versions.base import PARSE_CACHE_SIZE, numeric_key, require_str

SCHEME = "maven"

INT, STRING, LIST = 0, 1, 2
_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = _QUALIFIERS.index("")
_RELEASE_KEY: tuple[int, bytes] = (_RELEASE_INDEX, b"")
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}

Item = tuple[int, Any]
"""(INT, numeric key) | (STRING, qualifier key) | (LIST, tuple of items)."""
_ZERO: Item = (INT, (0, ""))


def _is_digit(c: str) -> bool:
    # Java's Character.isDigit on a UTF-16 code unit: Unicode decimal digits of the Basic Multilingual Plane.
    return c.isdecimal() and ord(c) <= 0xFFFF


def _number(text: str) -> Item:
    if not text.isascii():
        text = "".join(str(unicodedata.decimal(c)) for c in text)
    return INT, numeric_key(text)


def _qualifier_key(value: str) -> tuple[int, bytes]:
    # ComparableVersion orders by the string "<index>" for known qualifiers and "7-<qualifier>" for others,
    # compared as Java strings (UTF-16 code units): that is (index, b"") / (7, UTF-16-BE bytes).
    if value in _QUALIFIERS:
        return _QUALIFIERS.index(value), b""
    return len(_QUALIFIERS), value.encode("utf-16-be", "surrogatepass")


def _string(value: str, followed_by_digit: bool) -> Item:
    if followed_by_digit and len(value) == 1:
        value = _SHORT.get(value, value)
    return STRING, _qualifier_key(_ALIASES.get(value, value))


def _parse_item(is_digit: bool, text: str) -> Item:
    return _number(text) if is_digit else _string(text, False)


def _is_null(item: Item) -> bool:
    kind, value = item
    if kind == INT:
        return bool(value == (0, ""))
    if kind == STRING:
        return bool(value == _RELEASE_KEY)
    return not value


class _List:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Item | _List] = []

    def freeze(self) -> tuple[Item, ...]:
        frozen: list[Item] = [(LIST, x.freeze()) if isinstance(x, _List) else x for x in self.items]
        # normalize(): drop trailing null items; stop at the first non-null item that is not a list.
        i = len(frozen) - 1
        while i >= 0:
            if _is_null(frozen[i]):
                del frozen[i]
            elif frozen[i][0] != LIST:
                break
            i -= 1
        return tuple(frozen)


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> tuple[Item, ...]:
    """The normalised item list of ``version``."""
    version = require_str(SCHEME, version).lower()
    root = current = _List()
    is_digit = False
    start = 0

    def push() -> None:
        nonlocal current
        sub = _List()
        current.items.append(sub)
        current = sub

    for i, c in enumerate(version):
        if c in ".-":
            current.items.append(_ZERO if i == start else _parse_item(is_digit, version[start:i]))
            start = i + 1
            if c == "-":
                push()
        elif _is_digit(c):
            if not is_digit and i > start:
                if current.items:
                    push()
                current.items.append(_string(version[start:i], True))
                start = i
                push()
            is_digit = True
        else:
            if is_digit and i > start:
                current.items.append(_parse_item(True, version[start:i]))
                start = i
                push()
            is_digit = False
    if len(version) > start:
        if not is_digit and current.items:
            push()
        current.items.append(_parse_item(is_digit, version[start:]))
    return root.freeze()


def _cmp(x: Any, y: Any) -> int:
    return bool(x > y) - bool(x < y)


def _compare_item(item: Item, other: Item | None) -> int:
    kind, value = item
    if other is None:
        if kind == INT:
            return 0 if value == (0, "") else 1
        if kind == STRING:
            return _cmp(value, _RELEASE_KEY)
        for sub in value:
            r = _compare_item(sub, None)
            if r:
                return r
        return 0
    other_kind, other_value = other
    if kind == INT:
        return _cmp(value, other_value) if other_kind == INT else 1
    if kind == STRING:
        return _cmp(value, other_value) if other_kind == STRING else -1
    if other_kind == INT:
        return -1
    if other_kind == STRING:
        return 1
    return _compare_lists(value, other_value)


def _compare_lists(left: tuple[Item, ...], right: tuple[Item, ...]) -> int:
    for i in range(max(len(left), len(right))):
        if i < len(left):
            r = _compare_item(left[i], right[i] if i < len(right) else None)
        else:
            r = -_compare_item(right[i], None)
        if r:
            return r
    return 0


def compare(a: str, b: str) -> int:
    """Compare two Maven versions: -1, 0 or 1."""
    pa, pb = parse(a), parse(b)
    if pa == pb:
        return 0
    return _compare_lists(pa, pb)
