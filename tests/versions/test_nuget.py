"""NuGet comparator against NuGet.Client's own test vectors (no .NET runtime here) and property tests."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import nuget
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen

VECTORS = json.loads((Path(__file__).parent / "data" / "nuget_versioning_tests.json").read_text())


@pytest.mark.parametrize(("a", "b"), VECTORS["equal"])
def test_equal(a: str, b: str) -> None:
    assert nuget.compare(a, b) == 0
    assert nuget.compare(b, a) == 0


@pytest.mark.parametrize(("a", "b"), VECTORS["not_equal"])
def test_not_equal(a: str, b: str) -> None:
    assert nuget.compare(a, b) != 0


@pytest.mark.parametrize(("low", "high"), VECTORS["less"])
def test_less(low: str, high: str) -> None:
    assert nuget.compare(low, high) == -1
    assert nuget.compare(high, low) == 1


@pytest.mark.parametrize("version", VECTORS["valid"])
def test_valid(version: str) -> None:
    assert nuget.compare(version, version) == 0


@pytest.mark.parametrize("version", VECTORS["invalid"])
def test_invalid(version: str) -> None:
    with pytest.raises(InvalidVersion):
        nuget.parse(version)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0.0-1", "1.0.0-alpha", -1),  # numeric labels sort first
        ("1.0.0--1", "1.0.0-0", -1),  # "-1" is an int label for int.TryParse
        ("1.0.0-2", "1.0.0-10", -1),
        ("1.0.0-2147483648", "1.0.0-3", 1),  # above int.MaxValue: compared as text, after numbers
        ("1.0.0-ALPHA", "1.0.0-alpha", 0),
        ("1.0.0-alpha", "1.0.0-Beta", -1),
        ("1.0.0.1", "1.0.0", 1),
        ("1.0.0.1-beta", "1.0.0", 1),
        ("1 .2", "1.2", 0),  # NuGet tolerates whitespace around a dot
        ("1.0.0-a.b", "1.0.0-a", 1),
    ],
)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert nuget.compare(a, b) == expected
    assert nuget.compare(b, a) == -expected


def test_generated_versions_are_a_total_order() -> None:
    rng = random.Random(11)
    versions = [gen.nuget_version(rng) for _ in range(400)]
    parsed = [v for v in versions if _valid(v)]
    assert len(parsed) > 300
    ordered = sorted(parsed, key=nuget.parse)
    for low, high in itertools.pairwise(ordered):
        assert nuget.compare(low, high) <= 0


def _valid(version: str) -> bool:
    try:
        nuget.parse(version)
    except InvalidVersion:
        return False
    return True


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = nuget.compare(a, b)
    except InvalidVersion:
        return
    assert result in (-1, 0, 1)
    assert nuget.compare(b, a) == -result
