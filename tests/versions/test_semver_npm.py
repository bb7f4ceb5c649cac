"""npm comparator against node-semver itself (loose mode), run by node on thousands of pairs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import semver_npm
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen
from tests.versions.references import assert_agree, node_semver, ours, run_reference

EDGE_PAIRS = [
    ("1.2.3", " v1.2.3\t"),
    ("=v1.2.3", "1.2.3"),
    ("v = 1.2.3", "1.2.3"),
    ("1.2.3beta", "1.2.3-beta"),
    ("01.02.03", "1.2.3"),
    ("1.2.3-01", "1.2.3-1"),
    ("1.2.3-9007199254740991", "1.2.3-9007199254740992"),
    ("1.2.3-9007199254740993.a", "1.2.3-9007199254740992.b"),
    ("9007199254740991.0.0", "9007199254740992.0.0"),
    ("1.2.3\u00a0", "1.2.3"),
    ("\ufeff1.2.3", "1.2.3"),
    ("1.2.3-" + "a" * 250, "1.2.3"),
    ("1.2.3-" + "a" * 251, "1.2.3"),
    ("1.2.3--", "1.2.3-"),
    ("1.2.3-a..b", "1.2.3"),
    ("1.2", "1.2.0"),
    ("1.2.3+build", "1.2.3+other"),
    ("1.2.3-alpha+build", "1.2.3-alpha"),
    ("1.2.3-1a", "1.2.3-1"),
    ("1.2.3-A", "1.2.3-a"),
    ("1.2.3-\u0661", "1.2.3"),
    ("\u0661.2.3", "1.2.3"),
    ("1.2.3-\U0001d7d8", "1.2.3"),
]


def test_against_node_semver() -> None:
    argv = node_semver()
    pairs = gen.pairs(5, gen.npm_version, 5000, alphabet=gen.SEMVER_ALPHABET) + EDGE_PAIRS
    expected = run_reference(argv, pairs)
    assert_agree("npm", pairs, expected, ours(semver_npm.compare, pairs), min_ordered=0.5)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        *gen.SEMVER_SPEC_ORDER,
        ("1.0.0+build.1", "1.0.0+build.2", 0),
        ("v1.0.0", "1.0.0", 0),
        ("1.10.0", "1.9.0", 1),
        ("1.2.3-", "1.2.3", -1),  # loose mode reads the lone "-" as a pre-release identifier
    ],
)
def test_semver_spec_order(a: str, b: str, expected: int) -> None:
    assert semver_npm.compare(a, b) == expected
    assert semver_npm.compare(b, a) == -expected


@pytest.mark.parametrize("bad", ["", "1.2", "1.2.3.4", "a.b.c", "1.2.3+", "1.2.3-a..b", "x" * 300, "1.2.3 4"])
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        semver_npm.compare(bad, "1.0.0")


@given(st.text(max_size=40), st.text(max_size=40))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = semver_npm.compare(a, b)
    except InvalidVersion:
        return
    assert result in (-1, 0, 1)
    assert semver_npm.compare(b, a) == -result
