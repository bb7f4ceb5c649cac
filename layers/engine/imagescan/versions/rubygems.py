"""RubyGems versions, compared exactly like ``Gem::Version#<=>``.

A version is ``digits(.alnum)*`` optionally followed by ``-alnum(.alnum)*`` (a hyphen means ``.pre.``).
It is split into segments: runs of digits (numbers) and runs of letters (strings, compared case-sensitively);
trailing zero segments of the release part and of the pre-release part are dropped, so ``1.0 == 1`` and
``1.0.a == 1.a``. Segments compare pairwise (missing ones count as 0); a string segment sorts before any number,
so any version with letters (a pre-release) sorts before its release: ``1.0.a < 1.0``.

Surrounding ASCII whitespace is ignored and an empty string means ``0``, as in RubyGems. Strings
``Gem::Version.correct?`` rejects raise :class:`InvalidVersion`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, NumericKey, numeric_key, require_str

SCHEME = "rubygems"
_ANCHORED = re.compile(
    r"[ \t\n\v\f\r]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?[ \t\n\v\f\r]*",
    re.ASCII,
)
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")
_ZERO: NumericKey = (0, "")

Segment = NumericKey | str


def _drop_trailing_zeros(segments: list[Segment]) -> list[Segment]:
    end = len(segments)
    while end and segments[end - 1] == _ZERO:
        end -= 1
    return segments[:end]


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> tuple[Segment, ...]:
    """The canonical segments of ``version`` (numbers as numeric keys, letters as strings)."""
    version = require_str(SCHEME, version)
    match = _ANCHORED.fullmatch(version)
    if match is None:
        raise InvalidVersion(SCHEME, version, "malformed version number string")
    text = match[1]
    text = (text or "0").replace("-", ".pre.")
    segments: list[Segment] = [numeric_key(s) if "0" <= s[0] <= "9" else s for s in _SEGMENT.findall(text)]
    first_string = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    return tuple(_drop_trailing_zeros(segments[:first_string]) + _drop_trailing_zeros(segments[first_string:]))


def compare(a: str, b: str) -> int:
    """Compare two RubyGems versions: -1, 0 or 1."""
    left, right = parse(a), parse(b)
    if left == right:
        return 0
    for i in range(max(len(left), len(right))):
        x = left[i] if i < len(left) else _ZERO
        y = right[i] if i < len(right) else _ZERO
        if x == y:
            continue
        x_str, y_str = isinstance(x, str), isinstance(y, str)
        if x_str and not y_str:
            return -1
        if y_str and not x_str:
            return 1
        return (x > y) - (x < y)  # type: ignore[operator]
    return 0
