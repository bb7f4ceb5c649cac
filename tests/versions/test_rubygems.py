"""RubyGems comparator against Gem::Version itself (Debian's ruby), on thousands of pairs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import rubygems
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen
from tests.versions.references import assert_agree, ours, ruby_gem_version, run_reference

EDGE_PAIRS = [
    ("", "0"),
    ("  ", "0"),
    (" 1.0\n", "1"),
    ("1.0.a", "1.a"),
    ("1.0.a.0", "1.a"),
    ("1.a.0.b", "1.a"),
    ("1-1", "1.pre.1"),
    ("1.0-a-b", "1.0.pre.a"),
    ("1.A", "1.a"),
    ("1.0a1", "1.0.a.1"),
    ("1..0", "1.0"),
    ("1.0.", "1.0"),
    ("-1", "0"),
    ("1.0\0", "1.0"),
    ("1.0 1", "1.0"),
    ("123456789012345678901234567890", "123456789012345678901234567891"),
    ("1.\u0661", "1"),
]


def test_against_gem_version() -> None:
    argv = ruby_gem_version()
    pairs = gen.pairs(8, gen.gem_version, 5000, alphabet=gen.GEM_ALPHABET) + EDGE_PAIRS
    expected = run_reference(argv, pairs)
    assert_agree("rubygems", pairs, expected, ours(rubygems.compare, pairs), min_ordered=0.6)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0.0.pre", "1.0.0", -1),
        ("1.0.0.rc1", "1.0.0.pre", 1),
        ("1.0.0.a", "1.0.0.b", -1),
        ("1.0.0.beta.2", "1.0.0.beta.10", -1),
        ("1.0", "1.0.0", 0),
        ("1.10", "1.9", 1),
        ("1.0.0-1", "1.0.0", -1),
        ("0.0.0", "", 0),
    ],
)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert rubygems.compare(a, b) == expected
    assert rubygems.compare(b, a) == -expected


@pytest.mark.parametrize("bad", ["a", "1.0 1", "1..0", "1.0.", "-1", "1.0-", "1_0", "1.0\0", "v1.0"])
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        rubygems.compare(bad, "1")


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = rubygems.compare(a, b)
    except InvalidVersion:
        return
    assert result in (-1, 0, 1)
    assert rubygems.compare(b, a) == -result
