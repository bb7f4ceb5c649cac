"""Maven comparator against ComparableVersion itself (maven-artifact 3.9.x, run by java) and Maven's own vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import maven
from tests.versions import generators as gen
from tests.versions.references import assert_agree, maven_comparable_version, ours, run_reference

VECTORS = json.loads((Path(__file__).parent / "data" / "maven_comparable_version_test.json").read_text())

EDGE_PAIRS = [
    ("", "0"),
    ("-", "0"),
    (".", ""),
    ("1..1", "1.0.1"),
    ("1--1", "1-0-1"),
    ("1.0.0-", "1"),
    ("1-0.1", "1-0-1"),
    ("1-.1", "1-0.1"),
    ("1.ü", "1.z"),
    ("1-\U0001f600", "1-\uffff"),
    ("1.\u0661\u0662", "1.12"),
    ("1.\U0001d7ce", "1.0"),
    ("1.İ", "1.i"),
    ("1-sp.1", "1-sp-1"),
    ("1-ga-1", "1-1"),
    ("1-final.1", "1.1"),
    ("1.0.0.RELEASE", "1.0.0"),
    ("99999999999999999999999999999", "100000000000000000000000000000"),
    ("0000000000", "0"),
]


def test_against_comparable_version() -> None:
    argv = maven_comparable_version()
    pairs = gen.pairs(7, gen.maven_version, 5000, alphabet=gen.MAVEN_ALPHABET) + EDGE_PAIRS
    expected = run_reference(argv, pairs)
    assert_agree("maven", pairs, expected, ours(maven.compare, pairs), min_ordered=1.0)


@pytest.mark.parametrize("versions", VECTORS["orders"])
def test_maven_ordered_sequences(versions: list[str]) -> None:
    for i, low in enumerate(versions):
        for high in versions[i + 1 :]:
            assert maven.compare(low, high) == -1, (low, high)
            assert maven.compare(high, low) == 1, (high, low)


@pytest.mark.parametrize(("low", "high"), VECTORS["less"])
def test_maven_less(low: str, high: str) -> None:
    assert maven.compare(low, high) == -1
    assert maven.compare(high, low) == 1


@pytest.mark.parametrize(("a", "b"), VECTORS["equal"])
def test_maven_equal(a: str, b: str) -> None:
    assert maven.compare(a, b) == 0
    assert maven.compare(b, a) == 0


@pytest.mark.parametrize("group", VECTORS["equal_groups"])
def test_maven_equal_groups(group: list[str]) -> None:
    assert all(maven.compare(a, b) == 0 for a in group for b in group)


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=30))
def test_any_text_is_ordered(a: str, b: str, c: str) -> None:
    ab = maven.compare(a, b)
    assert ab in (-1, 0, 1)
    assert maven.compare(b, a) == -ab
    if ab <= 0 and maven.compare(b, c) <= 0:
        assert maven.compare(a, c) <= 0
